"""Training curves: what the user reads off the loss/accuracy plot while training."""

from __future__ import annotations

import math

import numpy as np
import pytest
from PySide6.QtCore import QPointF, Qt
from PySide6.QtTest import QTest

from nndyn_gui.core.config import RunConfig
from nndyn_gui.core.types import Snapshot
from nndyn_gui.ui.curves import TrainingCurves
from nndyn_gui.ui.state import AppState


def _snap(state: AppState, step: int) -> Snapshot:
    return Snapshot(
        step=step,
        loss=0.8 * math.exp(-step / 300) + 0.01,
        train_acc=min(1.0, 0.5 + step / 1000),
        test_acc=min(1.0, 0.45 + step / 1000),
        weights=state.weights,
    )


@pytest.fixture
def curves(qtbot, small_config: RunConfig) -> tuple[AppState, TrainingCurves]:
    state = AppState(small_config)
    w = TrainingCurves(state)
    qtbot.addWidget(w)
    w.resize(520, 340)
    w.show()
    qtbot.waitExposed(w)
    return state, w


def test_untrained_net_draws_no_curve(curves) -> None:
    _, w = curves
    assert w.loss_curve.xData is None or len(w.loss_curve.xData) == 0
    assert w.empty_text.isVisible()
    assert "no training yet" in w.readout_text()


def test_curves_hold_appended_snapshot_values(curves) -> None:
    state, w = curves
    snaps = [_snap(state, s) for s in range(0, 550, 50)]
    for s in snaps:
        state.append_snapshot(s)
    vals = w.sample_values()
    np.testing.assert_array_equal(vals["step"], [s.step for s in snaps])
    np.testing.assert_allclose(vals["loss"], [s.loss for s in snaps])
    np.testing.assert_allclose(vals["train_acc"], [s.train_acc for s in snaps])
    np.testing.assert_allclose(vals["test_acc"], [s.test_acc for s in snaps])
    # and the drawn items carry the same arrays
    np.testing.assert_array_equal(w.train_curve.xData, vals["step"])
    np.testing.assert_allclose(w.test_curve.yData, vals["test_acc"])
    assert not w.empty_text.isVisible()


def test_new_run_replaces_the_curves(curves) -> None:
    state, w = curves
    for s in range(0, 300, 50):
        state.append_snapshot(_snap(state, s))
    state.append_snapshot(_snap(state, 0))  # a new run restarts at step 0
    state.append_snapshot(_snap(state, 50))
    np.testing.assert_array_equal(w.sample_values()["step"], [0, 50])


def test_marker_follows_the_shown_snapshot(curves) -> None:
    state, w = curves
    snaps = [_snap(state, s) for s in range(0, 500, 100)]
    for s in snaps:
        state.append_snapshot(s)
    state.set_current(snaps[2])
    assert all(m.isVisible() and m.value() == 200 for m in w.markers)
    assert "step 200" in w.readout_text()


def test_hover_shows_values_of_nearest_step(curves, qtbot) -> None:
    state, w = curves
    snaps = [_snap(state, s) for s in range(0, 1050, 50)]
    for s in snaps:
        state.append_snapshot(s)
    w.acc_plot.getViewBox().autoRange()
    qtbot.wait(20)
    target = snaps[7]  # step 350; the mouse lands a little right of it
    vb = w.acc_plot.getViewBox()
    scene_pos = vb.mapViewToScene(QPointF(target.step + 12, 0.5))
    pos = w.plots.mapFromScene(scene_pos)
    QTest.mouseMove(w.plots.viewport(), pos)
    qtbot.waitUntil(lambda: "step 350" in w.readout_text(), timeout=2000)
    text = w.readout_text()
    assert f"loss {target.loss:.4g}" in text
    assert f"train acc {100 * target.train_acc:.1f}%" in text
    assert f"test acc {100 * target.test_acc:.1f}%" in text
    assert all(line.isVisible() and line.value() == 350 for line in w.hover_lines)
    w.clear_hover()
    assert "step 1,000" in w.readout_text()  # back to the shown (last) snapshot


def test_clicking_the_curves_shows_that_snapshot(curves, qtbot) -> None:
    state, w = curves
    snaps = [_snap(state, s) for s in range(0, 1050, 50)]
    for s in snaps:
        state.append_snapshot(s)
    w.acc_plot.getViewBox().autoRange()
    qtbot.wait(20)
    assert state.current is snaps[-1]
    vb = w.loss_plot.getViewBox()
    pos = w.plots.mapFromScene(vb.mapViewToScene(QPointF(310, -1.0)))  # near step 300
    QTest.mouseClick(w.plots.viewport(), Qt.MouseButton.LeftButton, pos=pos)
    assert state.current is snaps[6]  # step 300: every view now draws it
    assert all(m.value() == 300 for m in w.markers)
    assert "step 300" in w.readout_text()


def test_live_changes_are_marked_where_they_happened(curves) -> None:
    state, w = curves
    for s in range(0, 500, 50):
        state.append_snapshot(_snap(state, s))
    state.add_tuning(200, {"learning_rate": (0.01, 0.05)})
    state.add_tuning(350, {"batch_size": (0, 32), "weight_decay": (0.0, 0.001)})
    assert w.tuning_marks() == [
        (200.0, "learning rate 0.01 → 0.05"),
        (350.0, "batch size full → 32, weight decay 0 → 0.001"),
    ]
    state.append_snapshot(_snap(state, 0))  # a new run: its own changes only
    assert w.tuning_marks() == []
