"""The costate arrows in the 3-D view, under a real X server (scripts/with-x.sh)."""

from __future__ import annotations

import numpy as np
import pytest

from nndyn_gui.core.analysis import costate
from nndyn_gui.render import costate_layer, views
from nndyn_gui.render.scene import FlowScene, ViewOptions
from nndyn_gui.render.views import make_layer_view

from . import config, moving_weights, ring_dataset

pytestmark = pytest.mark.gl


def test_3d_costate_arrows_are_one_line_item_along_the_costate(qtbot) -> None:
    if not views.opengl_available():
        pytest.skip("no OpenGL here (run under scripts/with-x.sh)")
    cfg = config(width=3, depth=4, h=0.3)
    w, ds = moving_weights(cfg), ring_dataset()
    sc = FlowScene.build(cfg, w, ds, ViewOptions(show_costate=True), step=300)
    v = make_layer_view(sc)
    qtbot.addWidget(v)
    from nndyn_gui.render.view3d import LayerView3D

    assert isinstance(v, LayerView3D)
    v.resize(480, 360)
    v.set_time(3.0)
    item = v.costate.line_item
    assert item.visible() and v.costate.items == [item]
    field = costate_layer.costate_field(v.flow_scene())
    assert field is not None
    x, y = ds.x_all[sc.indices[field.rows]], ds.y_all[sc.indices[field.rows]]
    p3 = costate.costates(cfg, w, x, y, per_point=True)[3]
    seg = np.asarray(item.pos, dtype=np.float64).reshape(-1, 6, 3)
    np.testing.assert_allclose(seg[:, 0], sc.points[3, field.rows], atol=1e-6)
    shaft = seg[:, 1] - seg[:, 0]
    cos = np.sum(shaft * p3, axis=1) / (np.linalg.norm(shaft, axis=1) * np.linalg.norm(p3, axis=1))
    assert cos.min() > 0.99999
    # coloured by class: the head's vertices in the class's arrow colour, base faint
    col = np.asarray(item.color).reshape(-1, 6, 4)
    for k in (0, 1):
        want = np.array(costate_layer.arrow_colour(v._pal, k)) / 255.0
        np.testing.assert_allclose(
            col[y == k, 1, :3], np.broadcast_to(want[:3], (int((y == k).sum()), 3))
        )
    assert (col[:, 0, 3] < col[:, 1, 3]).all()
    assert any("∂loss/∂x_3 at step 300" in t for _x, _y, t, _k in v.overlay_texts(480, 360))
    v.set_options(ViewOptions(show_costate=False))
    assert not item.visible()
