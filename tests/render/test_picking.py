"""Hover: what the readout says is true (and where nothing is claimed), and the mouse
finds it in the 2-D view (pytest-qt moves the mouse; offscreen, no OpenGL)."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF
from PySide6.QtTest import QTest

from nndyn_gui.core.net import flow
from nndyn_gui.render import picking
from nndyn_gui.render.scene import FlowScene, ViewOptions
from nndyn_gui.render.view2d import LayerView2D

from . import config, moving_weights, ring_dataset


def _scene(width: int, depth: int = 4) -> FlowScene:
    cfg = config(width=width, depth=depth)
    return FlowScene.build(cfg, moving_weights(cfg), ring_dataset(), ViewOptions(grid_n=9))


def _true_p(sc: FlowScene, row: int) -> float:
    cfg, w, ds, _ = sc.source
    x = flow.propagate(cfg.model, w, ds.x_all[sc.indices[row]][None])
    return float(flow.head_probability(w, x[-1])[0])


@pytest.mark.parametrize("width", [2, 4])
def test_a_points_readout_names_its_axes_and_its_true_probability(width: int) -> None:
    sc = _scene(width).projected_2d()
    for t in (0.0, 2.0, sc.t_max):
        h = picking.describe(sc, t, "point", 7)
        assert h.kind == "point" and abs(h.probability - _true_p(sc, 7)) < 1e-12
        assert np.allclose(h.coords, sc.points[int(t), 7])
        assert h.trajectory.shape == (sc.n_frames, 2)
        first = "x1 = " if (t == 0 or width == 2) else "w-axis (head normal) = "
        assert first in h.text and f"class {int(sc.labels[7])}" in h.text
        assert ("projection of R^4" in h.text) == (width == 4 and t >= 1)


@pytest.mark.parametrize("width", [2, 4])
def test_the_regions_probability_is_the_nets_wherever_it_is_given(width: int) -> None:
    """At a point's own position the region readout equals that point's probability."""
    sc = _scene(width).projected_2d()
    for row in (3, 40, 111):
        p = _true_p(sc, row)
        for t in (0, 2, sc.t_max):
            got = picking.region_probability(sc, float(t), sc.points[int(t), row])
            if width == 4 and 0 < t < sc.t_max:
                assert got is None  # a position on the head axes is not a point of R^4
            else:
                assert got is not None and abs(got - p) < 1e-9, (t, got, p)
    assert picking.region_probability(sc, 1.5, sc.points[1, 0]) is None  # between layers


def test_project_and_ray_plane_invert_each_other() -> None:
    rng = np.random.default_rng(0)
    mvp = np.eye(4)
    mvp[:3, :3] = rng.normal(size=(3, 3))
    mvp[3] = [0.05, -0.02, 0.3, 2.0]  # a perspective row
    affine = np.array([[1.0, 0.2, 0.1], [0.0, 0.9, -0.2], [0.3, 0.1, 0.05]])
    uv = np.array([0.3, -0.6])
    y = affine @ np.array([uv[0], uv[1], 1.0])
    px = picking.project(y[None], mvp, 640, 480)[0]
    back = picking.ray_plane(mvp, 640, 480, (px[0], px[1]), affine)
    assert back is not None and np.allclose(back, uv, atol=1e-9)


# ---------------------------------------------------------------------- the mouse
@pytest.fixture
def view(qtbot):
    v = LayerView2D()
    qtbot.addWidget(v)
    v.resize(500, 450)
    v.set_scene(_scene(2))
    v.show()
    qtbot.waitExposed(v)
    return v


def _widget_pos(view: LayerView2D, xy) -> QPoint:
    scene_pt = view.getPlotItem().vb.mapViewToScene(QPointF(float(xy[0]), float(xy[1])))
    return view.mapFromScene(scene_pt)


def test_hovering_a_point_shows_its_numbers_and_lights_its_path(qtbot, view) -> None:
    sc = view.flow_scene()
    view.set_time(2)
    row = int(np.argmax(sc.points[2][:, 0]))  # the right-most point stands alone
    QTest.mouseMove(view.viewport(), _widget_pos(view, sc.points[2][row]))
    qtbot.waitUntil(lambda: view.hover() is not None, timeout=2000)
    h = view.hover()
    assert h.kind == "point" and h.row == row
    assert (
        view.hover_tip.isVisible() and f"point #{sc.indices[row]}" in view.hover_tip.toPlainText()
    )
    assert "layer 2: x1 = " in view.hover_tip.toPlainText()
    x, y = view.hover_path.getData()
    assert view.hover_path.isVisible() and np.allclose(np.column_stack([x, y]), sc.points[:, row])
    view.set_time(3)  # Play / the slider: the readout follows the point
    assert "layer 3: x1 = " in view.hover_tip.toPlainText()
    assert np.allclose(view.hover().coords, sc.points[3, row])


def test_hovering_empty_input_space_shows_the_probability_there(qtbot, view) -> None:
    view.set_time(0)
    sc = view.flow_scene()
    pts = sc.points[0]
    grid = sc.grid[0]
    cands = np.array(
        [[a, b] for a in np.linspace(-0.95, 0.95, 39) for b in np.linspace(-0.95, 0.95, 39)]
    )
    far = np.min(np.hypot(*(cands[:, None, :] - pts[None]).transpose(2, 0, 1)), axis=1)
    far_g = np.min(np.hypot(*(cands[:, None, :] - grid[None]).transpose(2, 0, 1)), axis=1)
    spot = cands[int(np.argmax(np.minimum(far, far_g)))]
    QTest.mouseMove(view.viewport(), _widget_pos(view, spot))
    qtbot.waitUntil(lambda: view.hover() is not None, timeout=2000)
    h = view.hover()
    assert h.kind == "region"
    cfg, w, _, _ = sc.source
    x = flow.propagate(cfg.model, w, np.asarray(h.coords)[None])
    assert abs(h.probability - float(flow.head_probability(w, x[-1])[0])) < 1e-12
    assert f"P(class 1) = {h.probability:.3f} here" in view.hover_tip.toPlainText()
    assert not view.hover_ring.isVisible()


def test_hovering_a_grid_vertex(qtbot, view) -> None:
    view.set_options(view.options().copy(show_points=False))
    view.set_time(4)
    sc = view.flow_scene()
    QTest.mouseMove(view.viewport(), _widget_pos(view, sc.grid[4][40]))
    qtbot.waitUntil(lambda: view.hover() is not None, timeout=2000)
    assert view.hover().kind == "vertex"
    assert np.allclose(view.hover().coords, sc.grid[4][view.hover().row], atol=1e-6)
    assert view.hover_tip.toPlainText().startswith("grid vertex from (")


def test_a_readout_names_the_snapshot_its_numbers_belong_to() -> None:
    """Every number on screen names its snapshot: the layer view builds its scene with
    the snapshot's step, the hover readout says it (also after a 2-D projection)."""
    cfg = config(width=3, depth=4)
    sc = FlowScene.build(cfg, moving_weights(cfg), ring_dataset(), ViewOptions(grid_n=9), step=2000)
    for scene in (sc, sc.projected_2d()):
        assert "layer 2 at step 2,000: " in picking.describe(scene, 2.0, "point", 3).text
    region = picking.describe_region(sc.projected_2d(), 0.0, sc.points[0, 3, :2])
    assert region is not None and "input at step 2,000: " in region.text
    assert "at step" not in picking.describe(_scene(2), 2.0, "point", 3).text  # unknown
