"""Stop conditions as a user sets them: config, command line, run file, the rule itself."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

from nndyn_gui.core.config import ConfigError, RunConfig
from nndyn_gui.core.train.stopping import StopRule


def test_the_rule_names_what_stopped_the_run() -> None:
    rule = StopRule(loss=0.1, accuracy=0.99, plateau=0)
    assert rule.check(0, 0.01, 1.0) == ""  # never at step 0
    assert rule.check(100, 0.5, 0.8) == ""
    why = rule.check(200, 0.09, 0.9)
    assert why.startswith("Stopped at step 200: the loss 0.09 reached the target 0.1")
    why = StopRule(accuracy=0.99).check(300, 0.5, 0.995)
    assert "training accuracy 99.5% reached the target 99%" in why


def test_a_plateau_counts_steps_since_the_last_real_improvement() -> None:
    rule = StopRule(plateau=300)
    assert rule.check(0, 1.0, 0.5) == ""
    assert rule.check(100, 0.5, 0.5) == ""  # improved at 100
    assert rule.check(300, 0.49999, 0.5) == ""  # < 0.1 %: no progress, 200 steps
    why = rule.check(400, 0.4999, 0.5)
    assert "not improved by 0.1% for 300 steps" in why and "best 0.5 at step 100" in why
    rule.retarget(RunConfig().train)  # all off (a live change)
    assert rule.check(500, 0.4999, 0.5) == "" and not rule.active


def test_config_fields_are_validated_and_settable() -> None:
    cfg = RunConfig().with_set("train.stop_accuracy=0.9").with_set("train.stop_plateau=500")
    assert cfg.train.stop_accuracy == 0.9 and cfg.train.stop_plateau == 500
    assert RunConfig.from_json(cfg.to_json()).train.stop_plateau == 500
    with pytest.raises(ConfigError, match=r"train\.stop_accuracy"):
        RunConfig().with_set("train.stop_accuracy=1.5")
    with pytest.raises(ConfigError, match=r"train\.stop_loss"):
        RunConfig().with_set("train.stop_loss=-1")
    old_file = {"train": {"steps": 10}}  # a run file of before: no stop fields, all off
    assert not StopRule.of(RunConfig.from_dict(old_file).train).active


def test_the_command_line_stops_early_and_says_why(tmp_path: Path) -> None:
    out = tmp_path / "stopped.nndyn"
    args = [
        "train", "--set", "data.name=gaussians", "--set", "data.n=200",
        "--set", "model.width=2", "--set", "model.depth=2", "--set", "train.steps=5000",
        "--set", "train.snapshot_every=10", "--set", "train.stop_accuracy=0.9",
        "--out", str(out), "--json",
    ]  # fmt: skip
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    p = subprocess.run(
        [sys.executable, "-m", "nndyn_gui.cli", *args],
        capture_output=True, text=True, env=env, timeout=180,
    )  # fmt: skip
    assert p.returncode == 0, p.stderr
    report = json.loads(p.stdout)
    assert report["status"] == "finished" and report["steps"] < 5000
    assert "reached the target 90%" in report["message"]
    from nndyn_gui.core.io.runfile import load_run

    run = load_run(out)
    assert run.config.train.stop_accuracy == 0.9
    assert run.message == report["message"] and run.snapshots[-1].train_acc >= 0.9
    assert not math.isnan(run.snapshots[-1].loss)
    info = subprocess.run(
        [sys.executable, "-m", "nndyn_gui.cli", "info", str(out)],
        capture_output=True, text=True, env=env, timeout=60,
    )  # fmt: skip
    assert "stop at accuracy >= 90%" in info.stdout and "reached the target" in info.stdout
