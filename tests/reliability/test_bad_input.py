"""Bad input: malformed CSV files, parameters at their limits, training that blows up.

What a user would notice: a CSV error says which line is wrong; a slider pushed to its
end either trains (finite numbers or a clear "diverged" message) or is refused with the
allowed range; a run that diverges keeps its last finite snapshot.
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pytest

from nndyn_gui.core import datasets
from nndyn_gui.core.config import ConfigError, RunConfig
from nndyn_gui.core.net.flow import propagate
from nndyn_gui.core.types import Dataset, TrainResult

from . import tiny_config, tiny_dataset


def _datasets() -> ModuleType:
    return datasets


# ---------------------------------------------------------------------- CSV files
HEADER = "x1,x2,label\n"
GOOD_ROWS = "0.1,0.2,0\n-0.3,0.4,1\n0.5,-0.6,0\n-0.7,-0.8,1\n"


def _h(rows: str) -> bytes:
    return (HEADER + rows).encode("utf-8", errors="surrogateescape")


# (name, file content, line the error must name); line 1 is the header
BAD_CSV: list[tuple[str, bytes, int]] = [
    ("no header row", GOOD_ROWS.encode(), 1),
    ("header misnamed", b"a,b,c\n" + GOOD_ROWS.encode(), 1),
    ("too few columns", _h("0.1,0.2,0\n0.3,0.4\n0.5,0.6,1\n"), 3),
    ("text in a number", _h("0.1,0.2,0\n0.3,abc,1\n"), 3),
    ("NaN coordinate", _h("0.1,0.2,0\n0.3,0.4,1\nnan,0.5,0\n"), 4),
    ("infinite coordinate", _h("0.1,0.2,0\ninf,0.4,1\n"), 3),
    ("label 6", _h("0.1,0.2,0\n0.3,0.4,1\n0.5,0.6,6\n"), 4),  # classes are 0..5
    ("label -1", _h("0.1,0.2,0\n0.3,0.4,1\n0.5,0.6,-1\n"), 4),
    ("label 0.5", _h("0.1,0.2,0\n0.3,0.4,0.5\n"), 3),
    ("label word", _h("0.1,0.2,0\n0.3,0.4,yes\n"), 3),
    ("empty field", _h("0.1,0.2,0\n0.3,,1\n"), 3),
    ("semicolons", _h("0.1;0.2;0\n0.3;0.4;1\n"), 2),
    ("huge number", _h("0.1,0.2,0\n1e999,0.4,1\n"), 3),
    ("comma decimal", _h('"0,1","0,2",0\n'), 2),
]
# Files with nothing usable: a DataError, line number optional.
EMPTY_CSV: list[tuple[str, bytes]] = [
    ("empty file", b""),
    ("only whitespace", b"\n\n  \n"),
    ("header only", HEADER.encode()),
    ("one class only", _h("0.1,0.2,1\n0.3,0.4,1\n0.5,0.6,1\n0.7,0.8,1\n")),
    ("all points identical", _h("0.1,0.2,0\n0.1,0.2,1\n0.1,0.2,0\n0.1,0.2,1\n")),
    ("too few rows", _h("0.1,0.2,0\n0.3,0.4,1\n")),
    ("random bytes", bytes(range(256)) * 4),
    ("NUL bytes", _h("0.1,0.2,0\n\x00\x00,\x00,1\n")),
    ("utf-16", (HEADER + GOOD_ROWS).encode("utf-16")),
    ("latin-1", "x1,x2,label\n0.1,0.2,0 # caf\u00e9\n".encode("latin-1")),
]
# Harmless variants a user's spreadsheet produces: these must load.
GOOD_CSV: list[tuple[str, bytes]] = [
    ("plain", _h(GOOD_ROWS)),
    ("windows line endings", _h(GOOD_ROWS).replace(b"\n", b"\r\n")),
    ("no final newline", _h(GOOD_ROWS.rstrip("\n"))),
    ("spaces around values", _h(" 0.1 , 0.2 , 0\n-0.3, 0.4,1\n0.5,-0.6 ,0\n-0.7,-0.8, 1\n")),
    ("utf-8 byte-order mark", b"\xef\xbb\xbf" + _h(GOOD_ROWS)),
    ("columns reordered", b"label,x2,x1\n0,0.2,0.1\n1,0.4,-0.3\n0,-0.6,0.5\n1,-0.8,-0.7\n"),
    ("comments and blank lines", b"# exported\n\n" + _h("\n".join(GOOD_ROWS.split("\n")))),
    ("labels as 1.0", _h(GOOD_ROWS.replace(",1\n", ",1.0\n"))),
]


@pytest.mark.parametrize(("name", "content", "line"), BAD_CSV, ids=[c[0] for c in BAD_CSV])
def test_malformed_csv_names_the_line(tmp_path: Path, name: str, content: bytes, line: int) -> None:
    ds = _datasets()
    path = tmp_path / "points.csv"
    path.write_bytes(content)
    with pytest.raises(ds.DataError) as info:
        ds.load_csv(path)
    msg = str(info.value)
    assert "\n" not in msg
    assert re.search(rf"\bline {line}\b", msg), f"{name}: {msg!r} does not name line {line}"


@pytest.mark.parametrize(("name", "content"), EMPTY_CSV, ids=[c[0] for c in EMPTY_CSV])
def test_csv_without_points_is_a_data_error(tmp_path: Path, name: str, content: bytes) -> None:
    ds = _datasets()
    path = tmp_path / "points.csv"
    path.write_bytes(content)
    with pytest.raises(ds.DataError) as info:
        ds.load_csv(path)
    assert str(info.value) and "\n" not in str(info.value)


@pytest.mark.parametrize(("name", "content"), GOOD_CSV, ids=[c[0] for c in GOOD_CSV])
def test_ordinary_csv_variants_load(tmp_path: Path, name: str, content: bytes) -> None:
    ds = _datasets()
    path = tmp_path / "points.csv"
    path.write_bytes(content)
    x, y = ds.load_csv(path)
    assert np.asarray(x).shape == (4, 2), name
    assert list(np.asarray(y)) == [0, 1, 0, 1], name
    assert np.isfinite(x).all() and np.abs(x).max() <= 1.0  # rescaled into the view box


def test_missing_or_folder_csv_is_a_data_error(tmp_path: Path) -> None:
    ds = _datasets()
    for path in (tmp_path / "missing.csv", tmp_path):
        with pytest.raises(ds.DataError) as info:
            ds.load_csv(path)
        assert str(path.name) in str(info.value) or str(path) in str(info.value)


def test_csv_config_with_missing_file_fails_with_data_error(tmp_path: Path) -> None:
    ds = _datasets()
    cfg = RunConfig.from_dict({"data": {"name": "csv", "csv_path": str(tmp_path / "no.csv")}})
    with pytest.raises(ds.DataError):
        ds.make_dataset(cfg.data)


# ---------------------------------------------------------------------- limits
@pytest.mark.parametrize(
    "assignment",
    [
        "model.depth=201",
        "model.width=65",
        "model.width=1",
        "data.n=100001",
        "train.learning_rate=101",
        "train.learning_rate=0",
        "model.h=10.5",
        "model.h=0",
        "train.steps=0",
        "model.h=nan",
        "train.learning_rate=inf",
    ],
)
def test_beyond_the_limits_is_refused_with_the_allowed_range(assignment: str) -> None:
    field = assignment.split("=")[0]
    with pytest.raises(ConfigError) as info:
        RunConfig().with_set(assignment)
    msg = str(info.value)
    assert msg.startswith(field) and ("range" in msg or "allowed" in msg), msg


def _dataset_for(cfg: RunConfig) -> Dataset:
    try:
        from nndyn_gui.core.datasets import make_dataset
    except ImportError:
        return tiny_dataset(cfg.data.n)
    return make_dataset(cfg.data)


def _check_trains_or_diverges_cleanly(cfg: RunConfig, ds: Dataset) -> TrainResult:
    from nndyn_gui.core.train.trainer import Trainer

    result = Trainer(cfg, ds).run()
    assert result.status in ("finished", "diverged"), result
    if result.status == "diverged":
        assert "diverged" in result.message.lower() or "not finite" in result.message.lower()
    for s in result.snapshots:
        assert s.weights.is_finite()
        assert math.isfinite(s.loss)
    if result.status == "finished":
        assert result.final.step == cfg.train.steps
        traj = propagate(cfg.model, result.final.weights, ds.x_train)  # what the views draw
        assert np.isfinite(traj).all()
    return result


EXTREMES: list[dict[str, Any]] = [
    {"model__depth": 200, "model__width": 3},
    {"model__width": 64, "model__depth": 10},
    {"data__n": 100_000, "model__width": 3, "model__depth": 10},
    {"train__learning_rate": 100.0},
    {"train__learning_rate": 100.0, "train__optimizer": "sgd"},
    {"model__h": 10.0},
    {"model__h": 10.0, "model__activation": "relu", "model__depth": 20},
    {"model__kind": "mlp", "model__width": 64, "model__depth": 200, "train__learning_rate": 100.0},
    {
        "model__depth": 200,
        "model__width": 64,
        "model__h": 10.0,
        "train__learning_rate": 100.0,
        "model__init_scale": 10.0,
    },
]


def _ids(d: dict[str, Any]) -> str:
    return ",".join(f"{k.split('__')[1]}={v}" for k, v in d.items())


@pytest.mark.parametrize("overrides", EXTREMES, ids=_ids)
def test_parameters_at_their_limits_train_or_diverge_cleanly(overrides: dict[str, Any]) -> None:
    short = {"data__n": 200, "train__steps": 4, "train__snapshot_every": 2}
    cfg = tiny_config(**{**short, "train__steps_per_call": 2, **overrides})
    _check_trains_or_diverges_cleanly(cfg, _dataset_for(cfg))


def test_divergence_mid_training_keeps_the_last_finite_snapshot() -> None:
    """SGD with a huge weight decay multiplies A by -19 per step: Inf within a few steps."""
    cfg = tiny_config(
        train__optimizer="sgd",
        train__learning_rate=1.0,
        train__weight_decay=10.0,
        train__steps=100,
        train__snapshot_every=2,
        train__steps_per_call=2,
    )
    result = _check_trains_or_diverges_cleanly(cfg, tiny_dataset(200))
    assert result.status == "diverged"
    assert len(result.snapshots) >= 2 and result.final.step < cfg.train.steps
    assert "smaller learning rate" in result.message
    assert f"step {result.final.step}" in result.message  # says which snapshot was kept


def test_initial_loss_not_finite_is_reported_not_crashed() -> None:
    """relu, h=10, 200 blocks, init x10: x(T) overflows before the first step."""
    cfg = tiny_config(
        model__activation="relu",
        model__h=10.0,
        model__depth=200,
        model__width=64,
        model__init_scale=10.0,
        train__steps=4,
    )
    result = _check_trains_or_diverges_cleanly(cfg, tiny_dataset(100))
    assert result.status == "diverged" and "initial loss" in result.message.lower()


def test_rejected_config_leaves_the_app_state_unchanged(qtbot: Any) -> None:
    from nndyn_gui.ui.state import AppState

    state = AppState(tiny_config())
    before = state.config.to_json()
    bad = state.config.copy()
    bad.model.depth = 500
    with pytest.raises(ConfigError):
        state.set_config(bad)
    assert state.config.to_json() == before
    assert len(state.snapshots) == 1 and state.current is state.snapshots[0]
