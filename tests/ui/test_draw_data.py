"""Drawing the data with the mouse (pytest-qt drives it): add, remove, paint, undo, save."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import QEvent, QPoint, QPointF, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from nndyn_gui.core.io.runfile import load_run

TIMEOUT_MS = 60_000


def _pos(view: Any, xy: tuple[float, float]) -> QPoint:
    scene_pt = view.getPlotItem().vb.mapViewToScene(QPointF(float(xy[0]), float(xy[1])))
    return view.mapFromScene(scene_pt)


def _drawing(window: Any, qtbot: Any) -> Any:
    lp = window.layer_panel
    qtbot.mouseClick(lp.draw_button, Qt.MouseButton.LeftButton)
    assert lp.drawing() and lp.draw_row.isVisible()
    lp.wait_idle()
    assert lp.time() == 0.0 and lp.view.drawing()
    return lp.view


def _click(view: Any, xy: tuple[float, float], button: Any = Qt.MouseButton.LeftButton,
           mods: Any = Qt.KeyboardModifier.NoModifier) -> None:  # fmt: skip
    QTest.mouseClick(view.viewport(), button, mods, _pos(view, xy))


def _drag(view: Any, a: tuple[float, float], b: tuple[float, float], steps: int = 12) -> None:
    vp = view.viewport()
    pa, pb = _pos(view, a), _pos(view, b)
    QTest.mousePress(vp, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, pa)
    for s in np.linspace(0.1, 1.0, steps):
        p = QPointF(pa.x() + s * (pb.x() - pa.x()), pa.y() + s * (pb.y() - pa.y()))
        move = QMouseEvent(
            QEvent.Type.MouseMove, p, vp.mapToGlobal(p), Qt.MouseButton.NoButton,
            Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
        )  # fmt: skip
        QApplication.sendEvent(vp, move)
    QTest.mouseRelease(vp, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, pb)


def _nearest(window: Any, xy: tuple[float, float]) -> tuple[float, int]:
    x, y = window.state.dataset.x_all, window.state.dataset.y_all
    d = np.hypot(x[:, 0] - xy[0], x[:, 1] - xy[1])
    j = int(np.argmin(d))
    return float(d[j]), int(y[j])


def test_click_adds_shift_click_and_right_click_remove(window: Any, qtbot: Any) -> None:
    view = _drawing(window, qtbot)
    n0 = len(window.state.dataset.y_all)
    window.layer_panel.draw_class.button(0).click()
    spot = (0.93, -0.93)  # a corner the small ring leaves empty
    _click(view, spot)
    ds = window.state.dataset
    assert window.state.config.data.name == "drawn" and len(ds.y_all) == n0 + 1
    dist, label = _nearest(window, spot)
    assert dist < 0.03 and label == 0
    assert len(ds.y_test) == 0  # every drawn point trains
    window.layer_panel.wait_idle()
    view = window.layer_panel.view
    _click(view, spot, mods=Qt.KeyboardModifier.ShiftModifier)
    assert len(window.state.dataset.y_all) == n0
    assert _nearest(window, spot)[0] > 0.05
    other = tuple(window.state.dataset.x_all[5])
    window.layer_panel.wait_idle()
    _click(window.layer_panel.view, other, button=Qt.MouseButton.RightButton)
    assert len(window.state.dataset.y_all) == n0 - 1
    assert _nearest(window, other)[0] > 1e-9


def test_drag_paints_one_stroke_and_undo_redo_take_it_back(window: Any, qtbot: Any) -> None:
    view = _drawing(window, qtbot)
    before = window.state.dataset
    n0 = len(before.y_all)
    _drag(view, (-0.9, 0.9), (0.9, 0.9))
    n1 = len(window.state.dataset.y_all)
    assert n1 - n0 >= 5  # a point every few pixels along the stroke
    added = window.state.dataset.x_all[n0:]
    assert np.allclose(added[:, 1], 0.9, atol=0.03) and (window.state.dataset.y_all[n0:] == 1).all()
    assert window.layer_panel.undo_button.isEnabled()
    window.layer_panel.act_undo_draw.trigger()  # Ctrl+Z while drawing
    assert window.state.dataset is before and window.state.config.data.name == "ring"
    qtbot.mouseClick(window.layer_panel.redo_button, Qt.MouseButton.LeftButton)
    assert len(window.state.dataset.y_all) == n1


def test_training_uses_a_new_point_at_once(window: Any, qtbot: Any) -> None:
    cfg = window.state.config.copy()
    cfg.train.steps, cfg.train.snapshot_every = 200_000, 50
    window.load_config(cfg.validate())
    view = _drawing(window, qtbot)
    assert window.train()
    qtbot.waitUntil(lambda: any(s.step > 0 for s in window.state.snapshots), timeout=TIMEOUT_MS)
    assert window.layer_panel.time() == 0.0  # Train keeps the input layer while drawing
    _click(view, (0.0, 0.0))
    drawn = window.state.dataset
    assert window.controller._running[1] is drawn  # the run in progress trains on it
    qtbot.waitUntil(lambda: any(s.step > 0 for s in window.state.snapshots), timeout=TIMEOUT_MS)
    assert window.controller.is_running()


def test_a_drawn_set_is_saved_in_the_run_file_and_as_csv(
    window: Any, qtbot: Any, tmp_path: Path
) -> None:
    _drawing(window, qtbot)
    qtbot.mouseClick(window.layer_panel.clear_button, Qt.MouseButton.LeftButton)
    assert len(window.state.dataset.y_all) == 0
    assert not window.train()  # nothing to train on: said in the status bar
    assert "draw some points" in window.statusBar().currentMessage()
    window.layer_panel.wait_idle()
    view = window.layer_panel.view
    pts = [(-0.5, -0.5, 0), (0.5, 0.5, 1), (-0.5, 0.5, 0), (0.5, -0.5, 1)]
    for x, y, k in pts:
        window.layer_panel.draw_class.button(k).click()
        _click(view, (x, y))
    ds = window.state.dataset
    assert len(ds.y_all) == 4 and sorted(ds.y_all.tolist()) == [0, 0, 1, 1]
    run_path = tmp_path / "drawn.nndyn"
    assert window.save_to(str(run_path))
    run = load_run(run_path)
    assert run.config.data.name == "drawn"
    assert (
        np.allclose(run.dataset.x_train, ds.x_train) and (run.dataset.y_train == ds.y_train).all()
    )
    csv = tmp_path / "drawn.csv"
    window.layer_panel.draw_controls.ask_csv_path = lambda: str(csv)
    assert window.layer_panel.draw_controls.export_csv()
    lines = csv.read_text().splitlines()
    assert lines[0] == "x1,x2,label" and len(lines) == 5
    window.load_preset("resnet-w3-ring")
    assert window.open_run(str(run_path))  # reopened: the drawn points, still editable
    assert window.state.config.data.name == "drawn" and len(window.state.dataset.y_all) == 4


def test_drawing_a_third_class_makes_three_and_trains_a_softmax_head(
    window: Any, qtbot: Any, tmp_path: Path
) -> None:
    """A point of class 2 makes K = 3 (the K classes of the rest of the app); the run
    trains on it, the run file keeps it, and Undo goes back to two classes."""
    from nndyn_gui.core.net import flow

    view = _drawing(window, qtbot)
    assert window.layer_panel.draw_class.button(5).isVisible()  # up to six classes
    window.layer_panel.draw_class.button(2).click()
    _drag(view, (-0.95, -0.95), (-0.6, -0.95))
    ds, cfg = window.state.dataset, window.state.config
    assert cfg.data.name == "drawn" and cfg.data.classes == 3 and ds.y_all.max() == 2
    assert not window.param_panel.controls["data.classes"].isEnabled()  # the drawing decides
    assert window.state.snapshots[0].weights.classes == 3
    cfg = cfg.copy()
    cfg.train.steps, cfg.train.snapshot_every = 300, 100
    assert window.load_config(cfg.validate())
    with qtbot.waitSignal(window.controller.finished, timeout=TIMEOUT_MS):
        assert window.train()
    final = window.state.snapshots[-1]
    assert final.step == 300 and final.weights.classes == 3
    pred = flow.predict(cfg.model, final.weights, ds.x_all)
    assert abs(float(np.mean(pred == ds.y_all)) - final.train_acc) < 1e-9  # numpy agrees
    path = tmp_path / "three.nndyn"
    assert window.save_to(str(path))
    assert load_run(path).config.data.classes == 3
    window.layer_panel.act_undo_draw.trigger()
    assert window.state.config.data.classes == 2 and window.state.dataset.y_all.max() == 1


def test_drawing_on_a_k_class_set_keeps_its_k(window: Any, qtbot: Any) -> None:
    """Four Gaussian blobs, one point added: still four classes (it said K = 2, and the
    trainer then refused labels 0..3)."""
    cfg = window.state.config.copy()
    cfg.data.name, cfg.data.classes = "gaussians", 4
    assert window.load_config(cfg.validate())
    qtbot.waitUntil(lambda: window.state.config.data.name == "gaussians", timeout=TIMEOUT_MS)
    view = _drawing(window, qtbot)
    window.layer_panel.draw_class.button(0).click()
    _click(view, (0.93, -0.93))
    assert window.state.config.data.name == "drawn"
    assert window.state.config.data.classes == 4 and window.state.dataset.y_all.max() == 3


def test_drawing_over_a_trained_run_puts_it_aside(window: Any, qtbot: Any) -> None:
    """A stroke drops the trained run's snapshots, like any other change of the data: it
    is put aside and Run → Bring back restores it (it was lost for good)."""
    cfg = window.state.config.copy()
    cfg.train.steps, cfg.train.snapshot_every = 200, 100
    assert window.load_config(cfg.validate())
    with qtbot.waitSignal(window.controller.finished, timeout=TIMEOUT_MS):
        assert window.train()
    trained = window.state.snapshots[-1]
    view = _drawing(window, qtbot)
    _click(view, (0.93, -0.93))
    assert window.state.config.data.name == "drawn" and window.state.snapshots[-1].step == 0
    kept = window.undo.available()
    assert kept is not None and kept.step == trained.step
    assert "Run → Bring back brings it back" in window.statusBar().currentMessage()
    window.layer_panel.set_drawing(False)
    window.undo.action.trigger()
    assert window.state.config.data.name == "ring" and window.state.snapshots[-1].step == 200


def test_an_erase_stroke_takes_exactly_the_points_under_it(window: Any) -> None:
    """The erase mask grows with the stroke (each move tests only its new positions) and
    still equals the points within reach of any position of the stroke."""
    tool = window.layer_panel.draw_tool
    x, _ = tool.points()
    pixel = 0.01
    tool.edit("begin", 0.0, 0.0, pixel)
    path = [(-0.8 + 0.1 * i, 0.3 * np.sin(i)) for i in range(17)]
    for px, py in path:
        tool.edit("erase", px, py, pixel)
        _added, _labels, gone = tool.preview()
        spots = np.array([(ex, ey) for ex, ey, _r in tool._erase_at])
        reach = tool._erase_at[0][2]
        d = np.hypot(x[:, None, 0] - spots[None, :, 0], x[:, None, 1] - spots[None, :, 1])
        expect = x[(d <= reach).any(axis=1)]
        assert np.array_equal(gone, expect)
    n0 = len(x)
    tool.edit("end", 0.0, 0.0, pixel)
    assert len(window.state.dataset.y_all) == n0 - len(expect) and len(expect) > 0


def test_keys_pick_the_class_big_points_and_hover_while_drawing(window: Any, qtbot: Any) -> None:
    """Issue 21: from the back row. Key 3 picks class 3 (K becomes 4), the points are
    at least DRAW_POINT_SIZE px while drawing, and hovering a point shows its readout."""
    from nndyn_gui.render.view2d import DRAW_POINT_SIZE

    lp = window.layer_panel
    assert lp.view.class_items[0].opts["size"] < DRAW_POINT_SIZE  # the usual 5 px
    view = _drawing(window, qtbot)
    view.setFocus()
    QTest.keyClick(view, Qt.Key.Key_3)
    assert lp.draw_class.checkedId() == 3 and lp.draw_tool.label == 3
    spot = (0.93, 0.93)
    _click(view, spot)
    dist, label = _nearest(window, spot)
    assert dist < 0.03 and label == 3 and window.state.config.data.classes == 4
    lp.wait_idle()
    view = lp.view
    for it in view.class_items[:4]:
        assert it.opts["size"] >= DRAW_POINT_SIZE  # seen from a projector
    QTest.mouseMove(view.viewport(), _pos(view, spot))
    qtbot.waitUntil(lambda: view.hover() is not None, timeout=5_000)
    hover = view.hover()
    assert hover.kind == "point" and "class 3" in hover.text
    assert view.hover_tip.isVisible()
    QTest.keyClick(view, Qt.Key.Key_0)
    assert lp.draw_tool.label == 0
    lp.set_drawing(False)
    lp.wait_idle()
    assert lp.view.class_items[0].opts["size"] < DRAW_POINT_SIZE  # back to the usual size
    lp.view.setFocus()
    QTest.keyClick(lp.view, Qt.Key.Key_2)  # a digit outside Draw mode picks nothing
    assert lp.draw_tool.label == 0
