"""The density cloud in the 3-D view, under a real X server (scripts/with-x.sh)."""

from __future__ import annotations

import numpy as np
import pytest

from nndyn_gui.core.analysis import density
from nndyn_gui.render import density_layer, views
from nndyn_gui.render.palette import WHITE
from nndyn_gui.render.scene import FlowScene, ViewOptions
from nndyn_gui.render.views import capture, make_layer_view

from . import config, moving_weights, ring_dataset

pytestmark = pytest.mark.gl


def test_3d_density_cloud_is_the_pushed_points_weighted_by_their_density(qtbot) -> None:
    if not views.opengl_available():
        pytest.skip("no OpenGL here (run under scripts/with-x.sh)")
    cfg = config(width=3, depth=4, h=0.3)
    w = moving_weights(cfg)
    sc = FlowScene.build(cfg, w, ring_dataset(), ViewOptions(show_density=True, show_points=False))
    v = make_layer_view(sc)
    qtbot.addWidget(v)
    from nndyn_gui.render.view3d import LayerView3D

    assert isinstance(v, LayerView3D)
    v.resize(480, 360)
    v.set_time(3.0)
    assert v.density.cloud_item.visible()
    cloud = density_layer.density_cloud(v.flow_scene())
    assert cloud is not None
    pop = density.fresh_points(cfg, density.PER_CLASS, 2)
    # the drawn points are fresh points carried by the net to layer 3, nothing else
    traj3 = list(density.frames(cfg.model, w, pop.x))[3]
    drawn = np.asarray(v.density.cloud_item.pos, dtype=np.float64)
    assert len(drawn) == len(cloud.labels) == 2 * density.CLOUD_PER_CLASS
    near = np.abs(traj3[:, None, :] - drawn[None, :50, :]).sum(-1).min(axis=0)
    assert near.max() < 1e-5
    # each drawn point's opacity grows with its class's density where it sits
    col = np.asarray(v.density.cloud_item.color)
    wt = cloud.weight[3]
    dense, sparse = wt > 0.8, (wt > 0) & (wt < 0.1)
    assert dense.any() and sparse.any()
    assert col[dense, 3].min() > col[sparse, 3].max()
    img = capture(v, 480, 360)
    for k in (0, 1):
        d = np.abs(img[..., :3].astype(int) - np.array(WHITE.class_color(k)[:3])).sum(-1)
        assert (d < 90).sum() > 50  # both classes' clouds are in the picture
    texts = [t for _, _, t, _ in v.overlay_texts(480, 360)]
    assert any(t == f"density: {2 * density.PER_CLASS:,} fresh points, 5,000 drawn" for t in texts)
    v.set_options(ViewOptions(show_density=False))
    assert not v.density.cloud_item.visible()
