"""The field and K classes in the 3-D view, under a real X server (scripts/with-x.sh)."""

from __future__ import annotations

import numpy as np
import pytest

from nndyn_gui.core.config import RunConfig
from nndyn_gui.core.datasets import make_dataset
from nndyn_gui.core.types import NetWeights
from nndyn_gui.render import views
from nndyn_gui.render.palette import WHITE
from nndyn_gui.render.scene import FlowScene, ViewOptions
from nndyn_gui.render.views import capture, make_layer_view

from . import config, moving_weights, ring_dataset

pytestmark = pytest.mark.gl


def _view(qtbot, scene: FlowScene):
    if not views.opengl_available():
        pytest.skip("no OpenGL here (run under scripts/with-x.sh)")
    v = make_layer_view(scene)
    qtbot.addWidget(v)
    from nndyn_gui.render.view3d import LayerView3D

    assert isinstance(v, LayerView3D)
    return v


def _has_color(img: np.ndarray, rgb, tol: int = 50, n: int = 5) -> bool:
    d = np.abs(img[..., :3].astype(int) - np.array(rgb[:3])).sum(-1)
    return bool((d < tol).sum() > n)


def test_3d_arrows_are_the_blocks_field_at_their_base_points(qtbot) -> None:
    cfg = config(width=3, depth=4, h=0.3)
    w = moving_weights(cfg)
    v = _view(qtbot, FlowScene.build(cfg, w, ring_dataset(), ViewOptions(show_field=True)))
    v.set_time(2.0)
    assert v.field.line_item.visible()
    pos = np.asarray(v.field.line_item.pos, dtype=np.float64).reshape(-1, 2, 3)
    base, tip = pos[:, 0], pos[:, 1]
    from nndyn_gui.render.field_layer import arrows_at

    arrows = arrows_at(v.flow_scene(), 2.0, v._bounds)
    assert arrows is not None and len(base) == len(arrows.base) > 20
    expect = 0.3 * np.tanh(base @ w.A[2].T + w.b[2])
    np.testing.assert_allclose((tip - base) / arrows.scale, expect, rtol=1e-4, atol=1e-5)
    img = capture(v, 480, 360)
    assert _has_color(img, WHITE.field_fast, tol=90, n=20)
    assert any("block 3" in t for _, _, t, _ in v.overlay_texts(480, 360))
    v.set_options(ViewOptions(show_field=False))
    assert not v.field.line_item.visible()


def test_3d_tied_fixed_point_is_marked_and_named(qtbot) -> None:
    cfg = config(width=3, depth=5, h=0.2)
    cfg.model.tied = True
    a = -np.eye(3) + 0.3 * np.array([[0, 1, 0], [-1, 0, 0], [0, 0, 0]])  # a sink
    b = np.array([0.2, -0.1, 0.05])
    w = NetWeights(np.repeat(a[None], 5, 0), np.repeat(b[None], 5, 0), np.ones(3), 0.0)
    v = _view(qtbot, FlowScene.build(cfg, w, ring_dataset(), ViewOptions(show_field=True)))
    v.set_time(2.0)
    assert v.field.point_item.visible()
    np.testing.assert_allclose(v.field.point_item.pos[0], -np.linalg.solve(a, b), atol=1e-6)
    texts = [t for _, _, t, _ in v.overlay_texts(480, 360)]
    assert "fixed point: sink" in texts


def test_3d_view_draws_the_three_class_regions_borders(qtbot) -> None:
    cfg = RunConfig.from_dict(
        {
            "data": {"name": "gaussians", "classes": 3, "n": 300},
            "model": {"kind": "resnet", "width": 3, "depth": 2, "h": 0.5},
        }
    )
    rng = np.random.default_rng(4)
    w = NetWeights(
        rng.normal(size=(2, 3, 3)) / 2, np.zeros((2, 3)), rng.normal(size=(3, 3)), np.zeros(3)
    )
    ds = make_dataset(cfg.data)
    sc = FlowScene.build(cfg, w, ds, ViewOptions(show_grid=False, point_size=8))
    v = _view(qtbot, sc)
    v.set_time(sc.t_max)
    assert v.plane_item.visible()
    verts = v.plane_item.opts["meshdata"].vertexes()
    wv, cv = sc.class_head  # type: ignore[misc]
    z = np.sort(np.asarray(verts, dtype=np.float64) @ wv.T + cv, axis=1)
    assert np.all(z[:, -1] - z[:, -2] < 1e-4)  # every vertex lies on a border of two classes
    img = capture(v, 480, 360)
    for colour in WHITE.all_classes[:3]:
        assert _has_color(img, colour)
