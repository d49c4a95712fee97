"""Sweep specs: what a user writes, how many runs it makes, and the errors for bad ones."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from nndyn_gui.core.sweep.spec import SweepSpecError, load_spec, parse_spec

GOOD = """
preset = "resnet-w3-ring"
set = ["train.steps=300"]
seeds = 3
[sweep]
"model.width" = [2, 3]
"model.depth" = "5,10,20"
"model.h" = "0.1:0.3:0.1"
"""


def _write(tmp_path: Path, text: str, name: str = "spec.toml") -> Path:
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def test_toml_spec_counts_and_expands_every_combination(tmp_path: Path) -> None:
    spec = load_spec(_write(tmp_path, GOOD))
    assert spec.n_runs == 2 * 3 * 3 * 3
    assert spec.describe() == "2 model.width x 3 model.depth x 3 model.h x 3 seeds = 54 runs"
    jobs = spec.jobs()
    assert len(jobs) == 54
    # ranges include their stop and read as the user wrote them (no 0.30000000000000004)
    assert dict(spec.axes)["model.h"] == (0.1, 0.2, 0.3)
    first, last = jobs[0], jobs[-1]
    assert first.values == (
        ("model.width", 2),
        ("model.depth", 5),
        ("model.h", 0.1),
        ("train.seed", 0),
    )
    assert (last.config.model.width, last.config.model.depth, last.config.train.seed) == (3, 20, 2)
    assert all(j.config.train.steps == 300 for j in jobs)  # `set` applies to every run
    assert len({j.key for j in jobs}) == 54 and len({j.file_name for j in jobs}) == 54
    assert first.file_name == "0000_width2_depth5_h0.1_seed0.nndyn"


def test_json_spec_table_ranges_and_set_style_list(tmp_path: Path) -> None:
    obj = {
        "config": {"model": {"kind": "mlp", "width": 2}},
        "seeds": [4, 7],
        "sweep": ["model.depth=2:6:2"],
        "metrics": ["step_turning"],
    }
    spec = load_spec(_write(tmp_path, json.dumps(obj), "spec.json"))
    assert dict(spec.axes) == {"model.depth": (2, 4, 6), "train.seed": (4, 7)}
    assert spec.metrics == ("step_turning",)
    assert all(j.config.model.kind == "mlp" for j in spec.jobs())
    logs = parse_spec(
        {"sweep": {"train.learning_rate": {"start": 0.001, "stop": 0.1, "num": 3, "log": True}}}
    )
    assert dict(logs.axes)["train.learning_rate"] == pytest.approx((0.001, 0.01, 0.1))


@pytest.mark.parametrize(
    ("obj", "needle"),
    [
        ({"sweeps": {"model.width": [2]}}, "unknown key 'sweeps'"),
        ({"sweep": {"model.wdth": [2, 3]}}, "model.wdth: unknown field"),
        ({"sweep": {"modle.width": [2, 3]}}, "'modle.width' is not a field"),
        ({"sweep": {"model.width": []}}, "model.width: the list of values is empty"),
        ({"sweep": {"model.depth": "10:5:1"}}, "model.depth: the range 10:5:1 is empty"),
        ({"sweep": {"model.depth": {"start": 1, "stop": 5, "num": 0}}}, "range is empty"),
        ({"sweep": {"model.width": [2, 100]}}, "model.width: 100 is out of range"),
        ({"sweep": {"model.kind": ["resnet", "cnn"]}}, "'cnn' is not one of"),
        ({"sweep": {"model.width": [2, 2]}}, "value 2 appears twice"),
        ({"set": ["model.width=3"], "sweep": {"model.width": [2]}}, "both in 'set' and"),
        ({"sweep": {"train.seed": [1, 2]}}, "sweep the seeds with 'seeds"),
        ({"seeds": []}, "'seeds' must be a non-empty list"),
        ({"seeds": [1, 1]}, "lists a seed twice"),
        ({"metrics": ["accuracy"]}, "unknown metric 'accuracy'"),
        ({"preset": "no-such-preset"}, "unknown preset 'no-such-preset'"),
        ({"set": ["train.steps=-4"]}, "train.steps"),
    ],
)
def test_bad_specs_name_what_is_wrong(obj: dict, needle: str) -> None:
    with pytest.raises(SweepSpecError) as e:
        parse_spec(obj)
    assert needle in str(e.value)
    assert "\n" not in str(e.value)


@pytest.mark.timing
def test_millions_of_runs_are_refused_at_once_with_their_count() -> None:
    obj = {
        "seeds": 100,
        "sweep": {
            "model.depth": {"start": 1, "stop": 200, "step": 1},
            "model.h": {"start": 0.001, "stop": 1, "num": 100},
        },
    }
    t0 = time.perf_counter()
    with pytest.raises(SweepSpecError) as e:
        parse_spec(obj)
    assert time.perf_counter() - t0 < 1.0  # counted, not built
    msg = str(e.value)
    assert "200 model.depth x 100 model.h x 100 seeds = 2,000,000 runs" in msg
    assert "limit of 10,000" in msg and "--max-runs" in msg


def test_unreadable_or_invalid_files_say_so(tmp_path: Path) -> None:
    with pytest.raises(SweepSpecError, match="no such file"):
        load_spec(tmp_path / "missing.toml")
    with pytest.raises(SweepSpecError, match="not valid TOML"):
        load_spec(_write(tmp_path, "sweep = [unclosed"))
    with pytest.raises(SweepSpecError, match="not valid JSON"):
        load_spec(_write(tmp_path, "{", "s.json"))


def test_config_file_is_read_relative_to_the_spec(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "base.json").write_text(json.dumps({"model": {"kind": "mlp"}}))
    spec = load_spec(_write(tmp_path / "sub", 'config = "base.json"\nseeds = 2\n'))
    assert spec.base.model.kind == "mlp" and spec.base_label == "base"
    assert spec.describe() == "2 seeds = 2 runs"
    with pytest.raises(SweepSpecError, match="no such file"):
        load_spec(_write(tmp_path, 'config = "base.json"\n'))


@pytest.mark.timing
def test_endless_or_special_files_are_refused_at_once(tmp_path: Path) -> None:
    """`nndyn train` refused /dev/zero and FIFOs; the sweep read them without end."""
    import os

    fifo = tmp_path / "spec.toml"
    os.mkfifo(fifo)
    for spec in (Path("/dev/zero"), fifo):
        t0 = time.perf_counter()
        with pytest.raises(SweepSpecError, match=r"regular file|allowed"):
            load_spec(spec)
        assert time.perf_counter() - t0 < 2.0
    spec = _write(tmp_path, 'config = "/dev/zero"\nseeds = 1\n', "zero.toml")
    with pytest.raises(SweepSpecError, match=r"config /dev/zero: .*(regular file|allowed)"):
        load_spec(spec)


# ---------------------------------------------------------------------- issue 25
def test_a_spec_saved_with_a_utf8_bom_loads(tmp_path: Path) -> None:
    """Windows editors start a UTF-8 file with a BOM: it was 'Invalid statement (line 1)'."""
    for name in ("spec.toml", "spec.json"):
        p = tmp_path / name
        text = GOOD if name.endswith(".toml") else json.dumps({"seeds": 3})
        p.write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
        spec = load_spec(p)
        assert spec.n_runs == (54 if name.endswith(".toml") else 3)


@pytest.mark.parametrize(
    ("axis", "needle"),
    [
        ({"start": 0, "stop": 1e308, "step": 1e-308}, "has more than 1,000,000 values"),
        ("0:1e308:1e-308", "has more than 1,000,000 values"),
        ({"start": -1e308, "stop": 1e308, "step": 1e300}, "has more than 1,000,000 values"),
        ({"start": 1e308, "stop": -1e308, "step": 1e-300}, "is empty"),
        (
            {"start": 1e-300, "stop": 1e300, "num": 5, "log": True},
            "model.h: 1e-300 is out of range",
        ),
        ({"start": -1e308, "stop": 1e308, "num": 3}, "model.h: -1e+308 is out of range"),
    ],
)
@pytest.mark.timing
def test_ranges_that_overflow_a_float_are_one_line_errors(axis: object, needle: str) -> None:
    """They raised OverflowError (a traceback) while counting or spacing the values."""
    t0 = time.perf_counter()
    with pytest.raises(SweepSpecError) as e:
        parse_spec({"sweep": {"model.h": axis}})
    assert needle in str(e.value) and "\n" not in str(e.value)
    assert time.perf_counter() - t0 < 1.0


def test_a_wide_log_range_is_spaced_evenly_without_overflow() -> None:
    spec = parse_spec(
        {"sweep": {"train.learning_rate": {"start": 1e-6, "stop": 100, "num": 9, "log": True}}}
    )
    lrs = spec.axes[0][1]
    assert lrs[0] == 1e-6 and lrs[-1] == 100 and len(lrs) == 9
    assert lrs[3] == pytest.approx(1e-6 * 10 ** (8 * 3 / 8))


@pytest.mark.timing
def test_a_config_under_proc_is_refused_at_once(tmp_path: Path) -> None:
    """/proc/kmsg stat()s as a regular file of 0 bytes and then blocks the read for good."""
    for target in ("/proc/kmsg", "/proc/self/status", "/sys/kernel/notes"):
        spec = _write(tmp_path, f'config = "{target}"\nseeds = 1\n')
        t0 = time.perf_counter()
        with pytest.raises(SweepSpecError, match=r"not a regular file .*kernel file"):
            load_spec(spec)
        assert time.perf_counter() - t0 < 1.0
    link = tmp_path / "base.json"
    link.symlink_to("/proc/kmsg")  # a harmless-looking name behind a link
    with pytest.raises(SweepSpecError, match=r"config .*base.json: not a regular file"):
        load_spec(_write(tmp_path, 'config = "base.json"\n'))
    with pytest.raises(SweepSpecError, match="not a regular file"):
        load_spec(Path("/proc/kmsg"))
