"""LayerView2D, SmallMultiples and capture under Qt's offscreen platform (no OpenGL)."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QEvent, QPoint, QPointF, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from nndyn_gui.core.net import flow
from nndyn_gui.render.palette import WHITE
from nndyn_gui.render.scene import FlowScene, ViewOptions
from nndyn_gui.render.small_multiples import SmallMultiples
from nndyn_gui.render.view2d import LayerView2D
from nndyn_gui.render.views import (
    NO_GL_NOTICE,
    capture,
    default_layers,
    make_layer_view,
    opengl_available,
)

from . import config, moving_weights, ring_dataset


@pytest.fixture
def setup():
    cfg = config(width=2, depth=4)
    w, ds = moving_weights(cfg), ring_dataset()
    return cfg, w, ds, FlowScene.build(cfg, w, ds, ViewOptions(grid_n=9))


@pytest.fixture
def view(qtbot, setup):
    v = LayerView2D()
    qtbot.addWidget(v)
    v.resize(400, 400)
    v.set_scene(setup[3])
    return v


def _class_xy(view: LayerView2D, k: int) -> np.ndarray:
    x, y = view.class_items[k].getData()
    return np.column_stack([x, y])


def test_scatter_shows_the_flow_of_layer_k_exactly(view, setup):
    cfg, w, ds, _ = setup
    traj = flow.propagate(cfg.model, w, ds.x_all)
    for k in range(cfg.model.depth + 1):
        view.set_time(k)
        for c in (0, 1):
            np.testing.assert_array_equal(_class_xy(view, c), traj[k][ds.y_all == c])
    view.set_time(1.5)
    np.testing.assert_allclose(_class_xy(view, 1), 0.5 * (traj[1] + traj[2])[ds.y_all == 1])
    assert view.time() == 1.5


def test_mesh_is_one_pairs_item_with_two_vertices_per_edge(view, setup):
    sc = setup[3]
    view.set_time(2)
    x, _ = view.grid_item.getData()
    assert len(x) == 2 * len(sc.segments)
    np.testing.assert_allclose(x[0::2], sc.grid[2][sc.segments[:, 0], 0])


def test_regions_at_input_and_separating_line_at_output(view):
    view.set_time(0)
    assert view.regions_item.isVisible() and view.regions_item.opacity() == 1.0
    assert view.regions_item.image is not None
    assert not view.plane_item.isVisible()
    view.set_time(4)
    assert view.plane_item.isVisible() and view.plane_item.opacity() == 1.0
    assert not view.regions_item.isVisible()
    view.set_time(3.5)  # fading in over the last layer
    assert 0.0 < view.plane_item.opacity() < 1.0


def test_options_hide_and_show_layers(view):
    view.set_options(ViewOptions(grid_n=9, show_grid=False, show_points=False, show_loop=True))
    assert not view.grid_item.isVisible()
    assert not any(it.isVisible() for it in view.class_items)
    assert view.loop_item.isVisible()


def test_rebuild_option_changes_mesh_resolution(view):
    view.set_options(ViewOptions(grid_n=5))
    x, _ = view.grid_item.getData()
    assert len(x) == 2 * (2 * 5 * 4)


def test_selection_draws_highlight_and_tails(view):
    view.set_selection(np.array([0, 3, 7]))
    view.set_time(3)
    x, _ = view.selected_item.getData()
    assert len(x) == 3
    assert any(it.isVisible() for it in view.tail_items)
    view.set_time(0)
    assert not any(it.isVisible() for it in view.tail_items)


def _widget_pos(view: LayerView2D, xy) -> QPoint:
    scene_pt = view.getPlotItem().vb.mapViewToScene(QPointF(float(xy[0]), float(xy[1])))
    return view.mapFromScene(scene_pt)


def test_click_selects_the_nearest_point(qtbot, view, setup):
    sc = setup[3]
    view.show()
    qtbot.waitExposed(view)
    view.set_time(2)
    target = int(np.argmax(sc.points[2][:, 0]))  # the right-most point is isolated enough
    got = []
    view.pointsSelected.connect(got.append)
    QTest.mouseClick(
        view.viewport(), Qt.MouseButton.LeftButton, pos=_widget_pos(view, sc.points[2][target])
    )
    assert got and target in got[-1]
    assert len(view.selection()) == 1


def test_shift_drag_selects_a_rectangle(qtbot, view, setup):
    sc = setup[3]
    view.show()
    qtbot.waitExposed(view)
    view.set_time(0)
    got = []
    view.pointsSelected.connect(got.append)
    vp = view.viewport()
    a, b = _widget_pos(view, (0.0, 0.0)), _widget_pos(view, (0.9, 0.9))
    shift = Qt.KeyboardModifier.ShiftModifier
    QTest.mousePress(vp, Qt.MouseButton.LeftButton, shift, a)
    for s in np.linspace(0.1, 1.0, 6):
        p = QPointF(a.x() + s * (b.x() - a.x()), a.y() + s * (b.y() - a.y()))
        move = QMouseEvent(
            QEvent.Type.MouseMove, p, vp.mapToGlobal(p), Qt.MouseButton.NoButton,
            Qt.MouseButton.LeftButton, shift,
        )  # fmt: skip
        QApplication.sendEvent(vp, move)
    QTest.mouseRelease(vp, Qt.MouseButton.LeftButton, shift, b)
    p = sc.points[0]
    expect = np.flatnonzero((p[:, 0] >= 0) & (p[:, 0] <= 0.9) & (p[:, 1] >= 0) & (p[:, 1] <= 0.9))
    assert got, "no selection emitted"
    # pixel rounding may move the border by a point or two
    assert len(np.setxor1d(got[-1], expect)) <= 3 and len(got[-1]) > 5


def _has_color(img: np.ndarray, rgb, tol: int = 40) -> bool:
    d = np.abs(img[..., :3].astype(int) - np.array(rgb)).sum(-1)
    return bool((d < tol).sum() > 5)


def test_capture_is_exact_size_and_shows_both_classes(view):
    view.set_time(4)
    img = capture(view, 320, 240)
    assert img.shape == (240, 320, 4) and img.dtype == np.uint8
    assert img[..., :3].std() > 10
    assert _has_color(img, WHITE.classes[0][:3]) and _has_color(img, WHITE.classes[1][:3])


def test_capture_of_a_never_shown_view_frames_the_data(qtbot, setup):
    v = LayerView2D()
    qtbot.addWidget(v)
    v.set_scene(setup[3])
    v.set_time(4)
    img = capture(v, 300, 300)
    assert img.shape == (300, 300, 4)
    assert _has_color(img, WHITE.classes[0][:3]) and _has_color(img, WHITE.classes[1][:3])


def test_transparent_background_capture(view, setup):
    view.set_options(ViewOptions(grid_n=9, background="transparent"))
    img = capture(view, 200, 200)
    assert (img[..., 3] == 0).any() and (img[..., 3] == 255).any()


def test_width_three_without_opengl_falls_back_to_2d_with_notice(qtbot):
    cfg = config(width=3, depth=3)
    sc = FlowScene.build(cfg, moving_weights(cfg), ring_dataset())
    assert not opengl_available()  # offscreen platform
    v = make_layer_view(sc)
    qtbot.addWidget(v)
    assert isinstance(v, LayerView2D) and v.notice() == NO_GL_NOTICE
    assert v.flow_scene().dims == 2
    assert "projection of R^3" in v.flow_scene().projection.note


def test_small_multiples_default_layers_and_capture(qtbot):
    assert default_layers(4) == [0, 1, 2, 3, 4]
    many = default_layers(50)
    assert many[0] == 0 and many[-1] == 50 and len(many) <= 8
    for depth in (7, 12, 50, 51, 100):
        for panels in (2, 3, 4, 8):
            got = default_layers(depth, panels)
            gaps = np.diff(got)
            assert len(got) <= panels and got[0] == 0 and got[-1] == depth
            assert gaps.min() >= 1 and gaps.max() <= -(-depth // (panels - 1)), (got, panels)
    assert default_layers(51, 3) == [0, 26, 51]  # was 0, 50, 51: the middle in the middle
    cfg = config(width=3, depth=12)
    sc = FlowScene.build(cfg, moving_weights(cfg), ring_dataset())
    sm = SmallMultiples()
    qtbot.addWidget(sm)
    sm.set_scene(sc)
    assert len(sm.panels) == len(default_layers(12)) <= 8
    assert sm.panels[0].time() == 0 and sm.panels[-1].time() == sc.t_max
    assert sm.caption.text().startswith("2-D view: projection of R^3")
    sm.set_layers([0, 6, 12])
    assert [p.time() for p in sm.panels] == [0, 6, 12]
    img = capture(sm, 600, 220)
    assert img.shape == (220, 600, 4) and img[..., :3].std() > 10


def test_dark_background_is_what_gets_captured(view):
    from nndyn_gui.render.palette import DARK

    view.set_options(ViewOptions(grid_n=9, background="dark"))
    img = capture(view, 200, 200)
    assert tuple(img[2, -3]) == DARK.background  # a corner far from the data


def test_user_zoom_is_kept_until_reset(view, setup):
    vb = view.getPlotItem().vb
    view.set_time(0)
    vb.scaleBy((0.5, 0.5))
    vb.sigRangeChangedManually.emit(vb.state["mouseEnabled"])
    zoomed = vb.viewRange()
    view.set_time(4)
    view.set_scene(setup[3])  # e.g. a new training snapshot
    assert np.allclose(vb.viewRange(), zoomed)
    view.reset_view()
    lo, hi = setup[3].bounds[4]
    (x0, x1), (y0, y1) = vb.viewRange()
    assert x0 <= lo[0] and x1 >= hi[0] and y0 <= lo[1] and y1 >= hi[1]
