"""LayerView3D under a real X server (Xvfb + Mesa): run with scripts/with-x.sh."""

from __future__ import annotations

import numpy as np
import pytest

from nndyn_gui.core.net import flow
from nndyn_gui.render import views
from nndyn_gui.render.palette import WHITE
from nndyn_gui.render.scene import FlowScene, ViewOptions
from nndyn_gui.render.view2d import LayerView2D
from nndyn_gui.render.views import NO_GL_NOTICE, capture, make_layer_view

from . import config, moving_weights, ring_dataset

pytestmark = pytest.mark.gl


@pytest.fixture
def setup():
    cfg = config(width=3, depth=4)
    w, ds = moving_weights(cfg), ring_dataset()
    return cfg, w, ds, FlowScene.build(cfg, w, ds, ViewOptions(grid_n=9, show_loop=True))


@pytest.fixture
def view3(qtbot, setup):
    if not views.opengl_available():
        pytest.skip("no OpenGL here (run under scripts/with-x.sh)")
    v = make_layer_view(setup[3])
    qtbot.addWidget(v)
    from nndyn_gui.render.view3d import LayerView3D

    assert isinstance(v, LayerView3D)
    return v


def test_scatter_positions_are_the_flow(view3, setup):
    cfg, w, ds, _ = setup
    traj = flow.propagate(cfg.model, w, ds.x_all)
    for k in (0, 2, 4):
        view3.set_time(k)
        for c in (0, 1):
            # GL buffers are float32: exactly the flow, rounded once
            expect = traj[k][ds.y_all == c].astype(np.float32)
            np.testing.assert_array_equal(view3.class_items[c].pos, expect)
    view3.set_time(2.5)
    mid = 0.5 * (traj[2] + traj[3])[ds.y_all == 0]
    np.testing.assert_allclose(view3.class_items[0].pos, mid, rtol=1e-6, atol=1e-7)


def test_mesh_plane_and_box(view3, setup):
    sc = setup[3]
    view3.set_time(1)
    assert view3.grid_item.pos.shape == (2 * len(sc.segments), 3)
    assert not view3.plane_item.visible()
    view3.set_time(sc.t_max)
    assert view3.plane_item.visible()
    md = view3.plane_item.opts["meshdata"]
    assert md.vertexes().shape[0] >= 3 and md.faceCount() >= 1


def test_selection_trajectories_are_drawn(view3):
    view3.set_selection([0, 1, 2])
    view3.set_time(3)
    assert view3.selected_item.visible() and view3.tail_item.visible()
    assert len(view3.tail_item.pos) > 0


def test_camera_controls_turn_the_picture_and_reset_brings_it_back(view3):
    """What the user sees moves with the camera, and Reset camera shows the first view."""
    from nndyn_gui.render.view3d import DEFAULT_AZIMUTH, DEFAULT_ELEVATION

    def differs(a, b):
        return float(np.abs(a[..., :3].astype(int) - b[..., :3].astype(int)).mean())

    view3.set_time(4)
    home = capture(view3, 240, 180)
    view3.set_camera(DEFAULT_AZIMUTH + 110, DEFAULT_ELEVATION + 30, 7.5)
    az, el, dist = view3.camera()
    assert (az, el) == (DEFAULT_AZIMUTH + 110, DEFAULT_ELEVATION + 30)
    assert dist == pytest.approx(7.5)
    turned = capture(view3, 240, 180)
    assert differs(home, turned) > 3.0  # another side of the data
    view3.orbit(30)
    assert view3.camera()[0] == DEFAULT_AZIMUTH + 140
    assert differs(turned, capture(view3, 240, 180)) > 1.0
    view3.reset_camera()
    from nndyn_gui.render.camera import default_angles

    assert view3.camera()[:2] == default_angles(view3.flow_scene().plane[0])
    assert differs(home, capture(view3, 240, 180)) < 0.5  # the very same picture again


def _has_color(img, rgb, tol=60):
    d = np.abs(img[..., :3].astype(int) - np.array(rgb)).sum(-1)
    return bool((d < tol).sum() > 5)


def test_capture_without_showing_is_exact_size_and_not_blank(view3):
    view3.set_time(4)
    img = capture(view3, 320, 240)
    assert img.shape == (240, 320, 4) and img.dtype == np.uint8
    assert img[..., :3].std() > 10
    assert _has_color(img, WHITE.classes[0][:3]) and _has_color(img, WHITE.classes[1][:3])
    img2 = capture(view3, 200, 300)
    assert img2.shape == (300, 200, 4)


def test_one_pass_capture_draws_what_pyqtgraphs_tiles_draw(view3):
    """views.render_gl draws a frame once instead of in six overlapping tiles: same picture."""
    view3.set_time(2.5)
    capture(view3, 640, 360)  # size the hidden widget as an export does
    view3.makeCurrent()
    ours = views.render_gl(view3, 640, 360).astype(int)
    tiles = np.asarray(view3.renderToArray((640, 360))).astype(int)
    assert ours.shape == tiles.shape == (360, 640, 4)
    assert ours[..., :3].std() > 10
    differ = np.abs(ours - tiles).max(axis=-1) > 40
    assert differ.mean() < 0.002, differ.mean()  # at most a few anti-aliasing pixels


def test_fallback_to_2d_when_opengl_is_missing(qtbot, monkeypatch, setup):
    monkeypatch.setattr(views, "opengl_available", lambda: False)
    v = make_layer_view(setup[3])
    qtbot.addWidget(v)
    assert isinstance(v, LayerView2D) and v.notice() == NO_GL_NOTICE
    img = capture(v, 240, 200)
    assert img.shape == (200, 240, 4) and img[..., :3].std() > 10


def test_width5_plane_separates_the_drawn_points_like_the_net(qtbot):
    """Head axes in 3-D: each drawn point's side of the drawn plane is the net's prediction."""
    if not views.opengl_available():
        pytest.skip("no OpenGL here (run under scripts/with-x.sh)")
    cfg = config(width=5, depth=3)
    w, ds = moving_weights(cfg, seed=5), ring_dataset()  # PCA got 5 points wrong here
    v = make_layer_view(FlowScene.build(cfg, w, ds))
    qtbot.addWidget(v)
    sc = v.flow_scene()
    v.set_time(sc.t_max)
    assert v.plane_item.visible()
    poly = np.asarray(v.plane_item.opts["meshdata"].vertexes(), dtype=np.float64)
    normal = np.cross(poly[1] - poly[0], poly[2] - poly[0])
    sides, rows = [], []
    for k, item in enumerate(v.class_items):
        pos = np.asarray(item.pos, dtype=np.float64)
        sides.append(((pos - poly[0]) @ normal > 0).astype(int))
        rows.append(sc.indices[sc.labels == k])
    pred = flow.predict(cfg.model, w, ds.x_all[np.concatenate(rows)])
    agree = (np.concatenate(sides) == pred).mean()
    assert 0 < pred.mean() < 1 and agree in (0.0, 1.0), agree
    names = [t for _, _, t, kind in v.overlay_texts(400, 300) if kind == "axis"]
    assert names == ["w-axis (head normal)", "⊥1", "⊥2"]
    notes = [t for _, _, t, kind in v.overlay_texts(400, 300) if kind == "note"]
    assert notes and "projection of R^5" in notes[0] and "exact boundary" in notes[0]


def _point_pixels(img: np.ndarray, tol: int = 45) -> int:
    """Pixels drawn in one of the two class colours (points), whatever lies under them."""
    rgb = img[..., :3].astype(int)
    hits = np.zeros(rgb.shape[:2], dtype=bool)
    for c in WHITE.classes:
        hits |= np.abs(rgb - np.array(c[:3])).max(axis=-1) <= tol
    return int(hits.sum())


def test_input_layer_points_are_drawn_whole_over_regions_and_grid(qtbot, setup):
    """The region image and the mesh lie in the plane of the input points: they must not
    cut the point sprites in half (depth fighting), as they did."""
    if not views.opengl_available():
        pytest.skip("no OpenGL here (run under scripts/with-x.sh)")
    cfg, w, ds, _ = setup
    counts = []
    for extras in (False, True):
        opts = ViewOptions(show_regions=extras, show_grid=extras, point_size=8.0)
        v = make_layer_view(FlowScene.build(cfg, w, ds, opts))
        qtbot.addWidget(v)
        v.set_time(0)
        counts.append(_point_pixels(capture(v, 480, 360)))
    alone, over = counts
    assert alone > 2000
    assert over >= 0.9 * alone, f"only {over / alone:.0%} of the points' pixels drawn"


def test_loop_and_trails_read_from_afar(view3):
    """The loop and the trajectories carry the argument: bold lines, not hairlines."""
    from nndyn_gui.render.palette import WHITE

    view3.set_options(view3.options().copy(show_loop=True, show_trajectories=True))
    view3.set_time(3)
    assert view3.loop_item.width >= 3.0 and view3.tail_item.width >= 2.0
    alphas = np.asarray(view3.tail_item.color)[:, 3]
    assert alphas.max() >= 0.6  # the newest part of every tail is clearly inked
    img = capture(view3, 480, 360)[..., :3].astype(int)
    loop_px = (np.abs(img - np.array(WHITE.loop[:3])).max(axis=-1) < 40).sum()
    assert loop_px > 400
