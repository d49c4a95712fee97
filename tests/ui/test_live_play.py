"""Changing knobs while it trains (like TensorFlow Playground), as a user sees it."""

from __future__ import annotations

import time
from typing import Any

import pytest

TIMEOUT_MS = 60_000


def _long(window: Any, **train: Any) -> None:
    cfg = window.state.config.copy()
    cfg.train.steps, cfg.train.snapshot_every, cfg.train.steps_per_call = 200_000, 50, 50
    for key, value in train.items():
        setattr(cfg.train, key, value)
    assert window.load_config(cfg.validate())


def _trained(window: Any, depth: int | None = None) -> bool:
    return any(
        s.step > 0 and (depth is None or s.weights.depth == depth) for s in window.state.snapshots
    )


def _start(window: Any, qtbot: Any) -> None:
    assert window.train()
    qtbot.waitUntil(lambda: _trained(window), timeout=TIMEOUT_MS)


def test_a_live_learning_rate_change_goes_on_and_is_marked(window: Any, qtbot: Any) -> None:
    _long(window)
    _start(window, qtbot)
    first = window.state.snapshots[0]
    assert window.param_panel.controls["train.learning_rate"].isEnabled()  # not locked
    assert window.param_panel.apply("train.learning_rate", 0.2)
    qtbot.waitUntil(lambda: bool(window.state.tuning), timeout=TIMEOUT_MS)
    step, changes = window.state.tuning[0]
    assert changes == {"learning_rate": (0.05, 0.2)}
    qtbot.waitUntil(lambda: window.state.snapshots[-1].step > step + 100, timeout=TIMEOUT_MS)
    assert window.state.snapshots[0] is first  # the same run: nothing started again
    assert window.controller.is_running()
    marks = window.curves.tuning_marks()
    assert marks == [(float(step), "learning rate 0.05 → 0.2")]
    assert not window.hooked


@pytest.mark.timing
def test_any_other_change_restarts_from_step_0_at_once(window: Any, qtbot: Any) -> None:
    _long(window)
    _start(window, qtbot)
    old_depth = window.state.config.model.depth
    t0 = time.monotonic()
    assert window.param_panel.apply("model.depth", old_depth + 3)
    qtbot.waitUntil(lambda: _trained(window, old_depth + 3), timeout=TIMEOUT_MS)
    assert time.monotonic() - t0 < 10.0
    assert window.controller.is_running() and window.state.training_state == "training"
    assert all(s.weights.depth == old_depth + 3 for s in window.state.snapshots)
    assert window.state.snapshots[0].step == 0
    assert not window.hooked and not window._message_boxes  # no dialog


def test_declining_the_discard_keeps_the_run_and_its_settings(window: Any, qtbot: Any) -> None:
    _long(window)
    _start(window, qtbot)
    asked: list[int] = []

    def keep() -> bool:
        asked.append(1)
        return False

    window.state.discard_guard = keep
    depth = window.state.config.model.depth
    first = window.state.snapshots[0]
    assert not window.param_panel.apply("model.depth", depth + 2)
    assert asked and window.state.config.model.depth == depth
    assert window.param_panel.controls["model.depth"].value() == depth
    n = window.state.snapshots[-1].step
    qtbot.waitUntil(lambda: window.state.snapshots[-1].step > n, timeout=TIMEOUT_MS)
    assert window.state.snapshots[0] is first  # still the same run
    assert not window.param_panel.controls["model.depth"].error.isVisible()


@pytest.mark.timing  # the restarted run must say "paused" within 0.6 s of its first snapshot
def test_a_change_while_paused_restarts_paused(window: Any, qtbot: Any) -> None:
    _long(window)
    _start(window, qtbot)
    window.toggle_pause()
    qtbot.waitUntil(lambda: window.state.training_state == "paused", timeout=TIMEOUT_MS)
    assert window.param_panel.apply("train.seed", 7)
    qtbot.waitUntil(
        lambda: window.state.snapshots[0].step == 0 and len(window.state.snapshots) == 1,
        timeout=TIMEOUT_MS,
    )
    qtbot.wait(600)
    assert window.state.training_state == "paused"
    assert not _trained(window)  # waits at step 0 for Resume
    window.toggle_pause()
    qtbot.waitUntil(lambda: _trained(window), timeout=TIMEOUT_MS)


@pytest.mark.parametrize("field_value", [("train.stop_accuracy", 0.6)])
def test_a_stop_condition_ends_the_run_and_says_why(
    window: Any, qtbot: Any, field_value: tuple[str, float]
) -> None:
    _long(window)
    path, value = field_value
    assert window.param_panel.apply(path, value)
    assert window.param_panel.controls[path].spin.text() == "0.6"
    assert window.param_panel.apply("train.stop_plateau", 0)
    assert window.param_panel.controls["train.stop_plateau"].spin.text() == "off"
    assert window.train()
    qtbot.waitUntil(lambda: not window.controller.is_running(), timeout=TIMEOUT_MS)
    assert window.state.status == "finished"
    assert "reached the target 60%" in window.state.message
    assert window.state_label.text() == "Stopped: target reached"
    assert window.state.snapshots[-1].step < 200_000


def test_the_run_a_restart_throws_away_can_be_brought_back(window: Any, qtbot: Any) -> None:
    """No dialog on a restart while training, yet nothing is lost: the trained run of the
    old depth is put aside, and once training stops Run → Bring back restores it."""
    _long(window)
    _start(window, qtbot)
    old_depth = window.state.config.model.depth
    assert window.param_panel.apply("model.depth", old_depth + 2)
    qtbot.waitUntil(lambda: _trained(window, old_depth + 2), timeout=TIMEOUT_MS)
    kept = window.undo.available()
    assert kept is not None and kept.run.config.model.depth == old_depth and kept.step > 0
    window.stop()
    qtbot.waitUntil(lambda: window.state.training_state == "idle", timeout=TIMEOUT_MS)
    assert window.undo.action.isEnabled()
    window.undo.action.trigger()
    assert window.state.config.model.depth == old_depth
    assert window.state.snapshots[-1].step == kept.step


def test_a_new_h_on_an_mlp_goes_on_training_the_same_run(window: Any, qtbot: Any) -> None:
    """An MLP has no step size: a preset or file that changes only h while an MLP trains
    neither restarts it nor drops its snapshots (it did, from step 0)."""
    cfg = window.state.config.copy()
    cfg.model.kind = "mlp"
    assert window.load_config(cfg.validate())
    _long(window)
    _start(window, qtbot)
    first, run_id = window.state.snapshots[0], window.controller.session.run_id
    restarts: list[bool] = []
    window.controller.restarted.connect(lambda: restarts.append(True))
    new = window.state.config.copy()
    new.model.h = window.state.config.model.h * 4
    window.state.set_config(new)
    step = window.state.snapshots[-1].step
    qtbot.waitUntil(lambda: window.state.snapshots[-1].step > step + 100, timeout=TIMEOUT_MS)
    assert window.state.snapshots[0] is first and window.controller.session.run_id == run_id
    assert not restarts and window.controller.is_running()
    assert window.state.run_config.model.h == new.model.h  # the views draw with the new h
