"""Hover and click in the 3-D view (pytest-qt moves the mouse; Xvfb + Mesa)."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QEvent, QPoint, QPointF, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from nndyn_gui.render import views
from nndyn_gui.render.scene import FlowScene, ViewOptions
from nndyn_gui.render.views import make_layer_view

from . import config, moving_weights, ring_dataset

pytestmark = pytest.mark.gl


@pytest.fixture
def view3(qtbot):
    if not views.opengl_available():
        pytest.skip("no OpenGL here (run under scripts/with-x.sh)")
    cfg = config(width=3, depth=4)
    sc = FlowScene.build(cfg, moving_weights(cfg), ring_dataset(), ViewOptions(grid_n=9))
    v = make_layer_view(sc)
    qtbot.addWidget(v)
    v.resize(640, 480)
    v.show()
    qtbot.waitExposed(v)
    return v


def _lonely(view3, t: int) -> tuple[int, QPoint]:
    """A point whose screen position is far from every other point and vertex."""
    st = view3.flow_scene().at(t)
    px = view3.project_points(st.points, view3.width(), view3.height())
    gx = view3.project_points(st.grid, view3.width(), view3.height())
    others = np.concatenate([px, gx])
    best, row = -1.0, 0
    for i, p in enumerate(px):
        if not (20 < p[0] < view3.width() - 20 and 20 < p[1] < view3.height() - 20):
            continue
        d = np.hypot(*(others - p).T)
        d[i] = np.inf
        if d.min() > best:
            best, row = float(d.min()), i
    return row, QPoint(round(px[row][0]), round(px[row][1]))


def test_hover_finds_the_point_on_screen_and_lights_its_path(qtbot, view3) -> None:
    view3.set_time(2)
    row, at = _lonely(view3, 2)
    QTest.mouseMove(view3, at)
    qtbot.waitUntil(lambda: view3.hover() is not None, timeout=3000)
    h = view3.hover()
    assert h.kind == "point" and h.row == row
    assert "layer 2: x1 = " in h.text and "P(class 1) = " in h.text
    assert view3.hover_path.visible() and view3.hover_ring.visible()
    np.testing.assert_allclose(view3.hover_path.pos, view3.flow_scene().points[:, row], rtol=1e-6)
    view3.set_time(3)  # the readout follows the animation
    assert "layer 3: x1 = " in view3.hover().text


def test_a_click_selects_the_point_and_a_drag_turns_the_camera(qtbot, view3) -> None:
    view3.set_time(1)
    row, at = _lonely(view3, 1)
    got: list[np.ndarray] = []
    view3.pointsSelected.connect(got.append)
    QTest.mouseClick(view3, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, at)
    assert got and list(got[-1]) == [row]
    assert list(view3.selection()) == [row]
    az = view3.camera()[0]
    QTest.mousePress(view3, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, at)
    for dx in (10, 30, 60):
        p = QPointF(at.x() + dx, at.y())
        QApplication.sendEvent(
            view3,
            QMouseEvent(
                QEvent.Type.MouseMove, p, view3.mapToGlobal(p), Qt.MouseButton.NoButton,
                Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
            ),
        )  # fmt: skip
    QTest.mouseRelease(view3, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                       QPoint(at.x() + 60, at.y()))  # fmt: skip
    assert view3.camera()[0] != az  # turned
    assert list(view3.selection()) == [row]  # and the turn selected nothing new


def test_hover_over_the_input_regions_reads_the_probability(qtbot, view3) -> None:
    view3.set_options(view3.options().copy(show_points=False, show_grid=False))
    view3.set_time(0)
    sc = view3.flow_scene()
    corner = sc.region_affine @ np.array([0.8, -0.7, 1.0])
    px = view3.project_points(corner[None], view3.width(), view3.height())[0]
    QTest.mouseMove(view3, QPoint(round(px[0]), round(px[1])))
    qtbot.waitUntil(lambda: view3.hover() is not None, timeout=3000)
    h = view3.hover()
    assert h.kind == "region" and "P(class 1) = " in h.text
    np.testing.assert_allclose(h.coords[:2], [0.8, -0.7], atol=0.02)
