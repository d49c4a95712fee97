"""The rules of when an action drops a trained run, tested without a window."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from nndyn_gui.core.config import RunConfig
from nndyn_gui.core.net.initial_weights import initial_weights
from nndyn_gui.core.types import Dataset, Run, Snapshot
from nndyn_gui.ui.discard_rules import (
    DiscardedRun,
    UndoSlot,
    change_reason,
    makes_stale,
)


def _snaps(cfg: RunConfig, *steps: int) -> list[Snapshot]:
    w = initial_weights(cfg.model, cfg.train.seed)
    return [Snapshot(s, 0.5, 0.9, 0.9, w) for s in steps]


def _changed(cfg: RunConfig, path: str, value: object) -> RunConfig:
    out = cfg.copy()
    section, name = path.split(".")
    setattr(getattr(out, section), name, value)
    return out.validate()


def test_the_rules_load_without_qt() -> None:
    code = "import sys, nndyn_gui.ui.discard_rules; assert 'PySide6' not in sys.modules"
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0


@pytest.mark.parametrize(
    ("path", "value", "drops"),
    [
        ("model.depth", 7, True),
        ("model.width", 4, True),
        ("data.noise", 0.1, True),
        ("train.seed", 5, True),
        ("train.learning_rate", 0.5, False),
        ("train.steps", 10, False),
        ("train.weight_decay", 0.1, False),
        ("model.hold", "time", False),  # which of h and T is held: no number changes
        ("train.order_seed", 3, False),  # batch order: a training setting, like the rate
    ],
)
def test_a_config_change_drops_a_trained_run_only_when_its_pictures_go_stale(
    path: str, value: object, drops: bool
) -> None:
    old = RunConfig()
    new = _changed(old, path, value)
    assert makes_stale(old, new) is drops


def test_reasons_name_the_fields_as_the_panel_does() -> None:
    old = RunConfig()
    assert change_reason(old, _changed(old, "model.depth", 7)) == "Depth T changed"
    both = _changed(_changed(old, "model.depth", 7), "model.width", 4)
    assert change_reason(old, both) == "Width d and Depth T changed"


def test_undo_slot_swaps_so_nothing_is_ever_lost() -> None:
    cfg = RunConfig()
    ds = Dataset(np.zeros((2, 2)), np.zeros(2), np.zeros((0, 2)), np.zeros(0), "ring")
    a = DiscardedRun(Run(cfg, ds, _snaps(cfg, 0, 100)), "Reset", True)
    b = DiscardedRun(Run(cfg, ds, _snaps(cfg, 0, 300)), "back", True)
    slot = UndoSlot()
    assert slot.available is None
    slot.keep(a)
    assert slot.swap(b) is a and slot.available is b and b.step == 300
    assert slot.swap(None) is b and slot.available is None
