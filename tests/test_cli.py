"""The `nndyn` command as a user meets it: exit codes, one-line errors, parseable output."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import imageio.v3 as iio
import numpy as np
import pytest

from nndyn_gui import __version__
from nndyn_gui.cli import commands as cli
from nndyn_gui.cli import train as cli_train
from nndyn_gui.core.config import RunConfig
from nndyn_gui.core.io.presets import load_preset
from nndyn_gui.core.io.runfile import load_run, save_run
from nndyn_gui.core.net.initial_weights import initial_weights
from nndyn_gui.core.types import Dataset, Run, Snapshot, TrainResult

ENV = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONUNBUFFERED": "1"}
TINY = [
    "--set",
    "data.n=120",
    "--set",
    "model.width=2",
    "--set",
    "model.depth=2",
    "--set",
    "model.h=0.5",
    "--set",
    "train.steps=40",
    "--set",
    "train.snapshot_every=20",
    "--set",
    "train.steps_per_call=20",
]


def nndyn(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "nndyn_gui.cli", *args],
        capture_output=True,
        text=True,
        env=ENV,
        cwd=cwd,
        timeout=120,
    )


def assert_one_line_error(p: subprocess.CompletedProcess[str]) -> str:
    assert p.returncode == 2, p.stderr
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1, p.stderr
    assert lines[0].startswith("nndyn: error: ")
    assert "Traceback" not in p.stderr
    return lines[0]


def _saved_run(path: Path) -> Run:
    cfg = RunConfig()
    cfg.model.width, cfg.model.depth = 2, 3
    cfg.title = "info test"
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, (30, 2))
    y = (x[:, 0] > 0).astype(np.int64)
    w = initial_weights(cfg.model, 0)
    snaps = [Snapshot(0, 0.69, 0.5, 0.5, w, 0.0), Snapshot(100, 0.1, 0.97, 0.9, w, 1.5)]
    run = Run(cfg, Dataset(x[:20], y[:20], x[20:], y[20:], "moons"), snaps, "finished", "ok")
    save_run(run, path)
    return run


# ---------------------------------------------------------------------- fast commands
@pytest.mark.timing
def test_presets_lists_names_quickly_without_tensorflow() -> None:
    code = (
        "import sys, time; t = time.perf_counter(); from nndyn_gui.cli.commands import main; "
        "rc = main(['presets']); "
        "print('TF' if 'tensorflow' in sys.modules else 'noTF', "
        "time.perf_counter() - t, file=sys.stderr); sys.exit(rc)"
    )
    p = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=ENV, timeout=60
    )
    assert p.returncode == 0
    flag, seconds = p.stderr.split()
    assert flag == "noTF"
    assert float(seconds) < 1.0
    names = [line.split()[0] for line in p.stdout.splitlines()]
    assert "resnet-w3-ring" in names and "mlp-w2-ring" in names
    assert names == sorted(names)
    assert all(len(line.split(None, 1)) == 2 for line in p.stdout.splitlines())  # + description


def test_version() -> None:
    p = nndyn("--version")
    assert p.returncode == 0 and p.stdout.strip() == f"nndyn {__version__}"


def test_unknown_preset_is_one_line_listing_names() -> None:
    line = assert_one_line_error(nndyn("train", "--preset", "resnet-w9-donut"))
    assert "resnet-w9-donut" in line and "resnet-w3-ring" in line


def test_out_of_range_set_names_field_and_range() -> None:
    line = assert_one_line_error(nndyn("train", "--set", "model.width=999"))
    assert "model.width" in line and "2..64" in line


@pytest.mark.parametrize(
    ("args", "expect"),
    [
        (["train", "--set", "model.width"], "key=value"),
        (["train", "--set", "model.colour=red"], "model.colour"),
        (["train", "--set", "train.steps=lots"], "train.steps"),
        (["train", "missing.json"], "no such file"),
        (["train", "cfg.json", "--preset", "resnet-w3-ring"], "not both"),
        (["train", "--bogus"], "--bogus"),
        (["info", "missing.nndyn"], "no such file"),
        (["train", "--preset", "resnet-w3-ring", "--out", "no/such/dir/x.nndyn"], "folder"),
    ],
)
def test_bad_input_exits_2_with_one_line(args: list[str], expect: str, tmp_path: Path) -> None:
    assert expect in assert_one_line_error(nndyn(*args, cwd=tmp_path))


def test_bad_config_files(tmp_path: Path) -> None:
    (tmp_path / "broken.json").write_text("{ not json")
    assert "not valid JSON" in assert_one_line_error(nndyn("train", str(tmp_path / "broken.json")))
    (tmp_path / "wide.json").write_text(json.dumps({"model": {"width": 999}}))
    line = assert_one_line_error(nndyn("train", str(tmp_path / "wide.json")))
    assert "model.width" in line and "2..64" in line
    (tmp_path / "junk.nndyn").write_bytes(b"\x00" * 50)
    assert "not an nndyn run file" in assert_one_line_error(
        nndyn("info", str(tmp_path / "junk.nndyn"))
    )


def test_info_summarises_a_run_and_as_json(tmp_path: Path) -> None:
    _saved_run(tmp_path / "r.nndyn")
    p = nndyn("info", str(tmp_path / "r.nndyn"))
    assert p.returncode == 0, p.stderr
    for text in ("info test", "resnet, width 2, depth 3", "finished", "step 100", "97.0%", "numpy"):
        assert text in p.stdout
    p = nndyn("info", "--json", str(tmp_path / "r.nndyn"))
    assert p.returncode == 0, p.stderr
    info = json.loads(p.stdout)
    assert info["final"]["step"] == 100 and info["final"]["train_acc"] == pytest.approx(0.97)
    assert info["status"] == "finished" and info["n_train"] == 20 and info["n_test"] == 10
    assert info["config"]["model"]["width"] == 2 and "nndyn" in info["versions"]


def test_render_without_renderer_is_a_clear_error(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(sys.modules, "nndyn_gui.cli.render", None)
    assert cli.main(["render", "run.nndyn"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("nndyn: error: rendering is not available")


def test_render_draws_the_run_with_the_options_given(
    tmp_path: Path, qapp: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    """`nndyn render` really renders: the picture has the size asked for, shows the
    run's points, and a bad option is one line with exit status 2."""
    run_path = tmp_path / "r.nndyn"
    _saved_run(run_path)
    png = tmp_path / "still.png"
    assert cli.main(["render", str(run_path), "--out", str(png), "--size", "320x200", "-q"]) == 0
    assert capsys.readouterr().out.strip() == str(png)
    img = iio.imread(png)
    assert img.shape[:2] == (200, 320) and img[..., :3].std() > 10  # not blank
    assert cli.main(["render", str(run_path), "--out", str(png), "--size", "huge"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--size must look like 1920x1080" in err[0]


def test_diverged_training_exits_1_and_still_saves(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Exit-code mapping without TensorFlow: the trainer is replaced by a stub."""
    cfg = RunConfig()
    x = np.zeros((10, 2))
    ds = Dataset(x, np.zeros(10, np.int64), x[:0], np.zeros(0, np.int64), "ring")
    snap = Snapshot(0, 0.7, 0.5, float("nan"), initial_weights(cfg.model, 0))
    monkeypatch.setattr(cli_train, "_make_dataset", lambda c: ds)
    result = TrainResult("diverged", [snap], "Training diverged at step 7.")
    monkeypatch.setattr(cli_train, "_run_training", lambda c, d, quiet: (result, False))
    out = tmp_path / "d.nndyn"
    assert cli.main(["train", "--quiet", "--out", str(out)]) == 1
    assert "diverged at step 7" in capsys.readouterr().err
    assert load_run(out).status == "diverged"


# ---------------------------------------------------------------------- real training
def test_train_tiny_config_json_and_saved_run(tmp_path: Path) -> None:
    out = tmp_path / "tiny.nndyn"
    p = nndyn("train", *TINY, "--json", "--out", str(out))
    assert p.returncode == 0, p.stderr
    report = json.loads(p.stdout)
    assert report["status"] == "finished"
    assert report["final"]["step"] == 40 and 0.0 <= report["final"]["train_acc"] <= 1.0
    assert report["out"] == str(out)
    assert report["config"]["model"]["width"] == 2
    assert "diagnostics" in report and "topology" in report
    # the window's words for those numbers, and they agree with them
    invertible = report["diagnostics"]["all_invertible"]
    assert ("the ResNet is invertible" in report["verdict"]) == invertible
    winding = report["topology"]["winding"]
    words = report["topology_text"]
    assert ("still winds" in words) == (winding not in (0, None))
    assert ("cannot untie" in words) == (winding not in (0, None) and invertible)
    run = load_run(out)
    assert [s.step for s in run.snapshots] == [0, 20, 40]
    assert "tensorflow" in run.versions


# ---------------------------------------------------------------------- verify
@pytest.mark.parametrize(
    ("args", "expect"),
    [
        (["verify", "--preset", "resnet-w9-donut"], "resnet-w9-donut"),
        (["verify", "--seeds", "0,x"], "--seeds"),
        (["verify", "--seeds", "-1"], "--seeds"),
        (["verify", "--jobs", "0"], "--jobs"),
        (["verify", "--json", "--markdown"], "not allowed with"),
    ],
)
def test_verify_bad_input_is_one_line(args: list[str], expect: str) -> None:
    assert expect in assert_one_line_error(nndyn(*args))


@pytest.mark.slow
def test_verify_trains_a_preset_and_reports_its_claims_as_json() -> None:
    p = nndyn("verify", "--preset", "mlp-w3-spiral", "--seeds", "0", "--json")
    assert p.returncode == 0, p.stderr
    doc = json.loads(p.stdout)
    assert doc["all_hold"] and doc["seeds"] == [0]
    rows = {c["claim"]: c for c in doc["claims"]}
    dense = rows["At least 99% of fresh points are classified right on at least half of the seeds"]
    assert dense["preset"] == "mlp-w3-spiral" and dense["values"][0] >= 0.99
    assert dense["holds"] == [True] and dense["needed"] == 1
    assert dense["rule"] == "dense_accuracy >= 0.99 on >= 50% of seeds"
    assert "trained mlp-w3-spiral train.seed 0 (1/1)" in p.stderr  # each distinct run


def test_verify_exits_1_when_a_claim_fails(monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    from nndyn_gui.core.analysis import claims

    def fake_verify(presets, seeds, jobs=1, on_done=None):
        r = claims.CheckResult(
            "mlp-w2-ring",
            "Fewer than 95% right",
            "dense_accuracy < 0.95",
            [0, 1],
            [0.9, 0.97],
            [0.95, 0.95],
            [True, False],
            "{:.2%}",
        )
        return [r]

    monkeypatch.setattr(claims, "verify", fake_verify)
    assert cli.main(["verify", "--preset", "mlp-w2-ring", "--seeds", "0,1"]) == 1
    out = capsys.readouterr().out
    assert "97.00% ✗" in out and "NO" in out and "0 of 1 claims hold" in out
    assert cli.main(["verify", "--seeds", "0,1", "--markdown"]) == 1
    assert "| `mlp-w2-ring` | Fewer than 95% right |" in capsys.readouterr().out


# ---------------------------------------------------------------------- words from the config
def test_info_titles_an_edited_preset_from_its_config_and_counts_the_real_points(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """resnet-w3-ring trained at width 2 is not "room to lift the disk out"; 30 points are 30."""
    cfg = load_preset("resnet-w3-ring").with_set("model.width=2")
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, (30, 2))
    y = (np.hypot(x[:, 0], x[:, 1]) > 0.5).astype(np.int64)
    w = initial_weights(cfg.model, 0)
    snaps = [Snapshot(0, 0.69, 0.5, 0.5, w, 0.0), Snapshot(100, 0.1, 0.97, 0.9, w, 1.5)]
    save_run(Run(cfg, Dataset(x[:20], y[:20], x[20:], y[20:], "ring"), snaps, "finished"),
             tmp_path / "w2.nndyn")  # fmt: skip
    assert cli.main(["info", str(tmp_path / "w2.nndyn")]) == 0
    out = capsys.readouterr().out
    assert "title:     ResNet, width 2, depth 51, ring (edited from resnet-w3-ring)" in out
    assert "edited:    from preset resnet-w3-ring: Width d 3 → 2" in out
    assert "lifted" not in out and "n 30," in out and "n 1000" not in out
    assert cli.main(["info", "--json", str(tmp_path / "w2.nndyn")]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["title"].startswith("ResNet, width 2") and info["preset"] == "resnet-w3-ring"
    assert info["config"]["title"] == "resnet-w3-ring"  # the file's own field is kept


def test_train_takes_k_from_a_csv_files_labels(tmp_path: Path) -> None:
    """As the window does ("the CSV file's labels fix K"): no --set data.classes needed."""
    rng = np.random.default_rng(1)
    x = rng.uniform(-1, 1, (90, 2))
    y = np.digitize(x[:, 0], [-1 / 3, 1 / 3])  # labels 0, 1, 2
    csv = tmp_path / "three.csv"
    csv.write_text(
        "x1,x2,label\n" + "".join(f"{a:.4f},{b:.4f},{k}\n" for (a, b), k in zip(x, y, strict=True))
    )
    out = tmp_path / "k3.nndyn"
    p = nndyn("train", *TINY, "--set", f"data.csv_path={csv}", "--set", "data.name=csv",
              "--quiet", "--out", str(out))  # fmt: skip
    assert p.returncode == 0, p.stderr
    run = load_run(out)
    assert run.config.data.classes == 3 and run.weights is not None
    assert run.weights.classes == 3
    info = nndyn("info", str(out))
    assert "3 classes" in info.stdout and "n 90," in info.stdout


def test_failed_diagnostics_are_one_warning_and_the_traceback_is_in_the_log(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The report keeps the finished training; stderr says what failed; the log says where."""
    from nndyn_gui.cli import train as cli_train
    from nndyn_gui.core.analysis import diagnostics
    from nndyn_gui.core.io import logs
    from tests.reliability import tiny_run

    def broken(*_args: object) -> None:
        raise FloatingPointError("singular Jacobian")

    monkeypatch.setattr(diagnostics, "diagnose", broken)
    monkeypatch.setenv(logs.ENV_DIR, str(tmp_path))
    logs._state.clear()
    log_file = logs.setup("nndyn")
    diag, shown = cli_train._diagnostics(tiny_run())
    assert diag is None and shown == {"error": "FloatingPointError: singular Jacobian"}
    assert capsys.readouterr().err == "nndyn: warning: diagnostics failed: singular Jacobian\n"
    assert log_file is not None and "in broken" in log_file.read_text()


def test_train_help_lists_every_field_from_the_registry(capsys: Any) -> None:
    """`nndyn train --help` names each --set field with its range and says which are live."""
    from nndyn_gui.core.fields import FIELDS

    with pytest.raises(SystemExit):
        cli.build_parser().parse_args(["train", "--help"])
    out = capsys.readouterr().out
    for path, info in FIELDS.items():
        line = next(ln for ln in out.splitlines() if ln.split()[:1] == [path])
        assert info.doc in line and ("live" in line.split(":")[0]) == info.live
    assert "  model.depth            1..200: number of layers / blocks (T)" in out


def test_a_refused_set_reads_the_same_in_train_the_window_and_a_sweep_spec() -> None:
    """One reading of --preset/--set: the same reason, whichever front door was used."""
    from nndyn_gui.core.config import ConfigError
    from nndyn_gui.core.sweep.spec import SweepSpecError, parse_spec
    from nndyn_gui.ui.app import build_parser
    from nndyn_gui.ui.app import resolve_config as window_config

    def exactly(text: str) -> str:
        return f"^{re.escape(text)}$"

    reason = "model.depth: 0 is out of range, allowed 1..200"
    with pytest.raises(cli.CliError, match=exactly(f"--set model.depth=0: {reason}")):
        cli_train.resolve_config(None, "resnet-w3-ring", ["model.depth=0"])
    args = build_parser().parse_args(["--preset", "resnet-w3-ring", "--set", "model.depth=0"])
    with pytest.raises(ConfigError, match=exactly(reason)):
        window_config(args, automated=True)
    with pytest.raises(SweepSpecError, match=exactly(f"set: model.depth=0: {reason}")):
        parse_spec({"preset": "resnet-w3-ring", "set": ["model.depth=0"]})
    with pytest.raises(SweepSpecError, match=exactly(f"sweep: model.depth=0: {reason}")):
        parse_spec({"preset": "resnet-w3-ring", "sweep": {"model.depth": [0]}})
