"""3-D axis names in the real view and in an exported frame (render/axis_labels.py):
beside the box, never over a drawn point. Run under scripts/with-x.sh ... -m gl."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QRectF

from nndyn_gui.core.types import Run, Snapshot
from nndyn_gui.render import views
from nndyn_gui.render.export import Exporter, ExportOptions
from nndyn_gui.render.scene import FlowScene, ViewOptions
from nndyn_gui.render.scene_view import finite
from nndyn_gui.render.views import capture, make_layer_view

from . import config, moving_weights, ring_dataset

pytestmark = pytest.mark.gl


@pytest.fixture(autouse=True)
def _gl(qapp):
    if not views.opengl_available():
        pytest.skip("no OpenGL here (run under scripts/with-x.sh)")


def _hits(view, rect: QRectF, w: int, h: int) -> int:
    """Drawn data points (their centre grown by the point's radius) inside `rect`."""
    sc = view.flow_scene()
    px = view.project_points(finite(sc.at(view.time()).points), w, h)
    r = 0.5 * (sc.options.point_size + 1.0) * view._scale()
    grown = rect.adjusted(-r, -r, r, r)
    inside = (
        (px[:, 0] > grown.left())
        & (px[:, 0] < grown.right())
        & (px[:, 1] > grown.top())
        & (px[:, 1] < grown.bottom())
    )
    return int(inside.sum())


@pytest.mark.parametrize("scale", [1.0, 2.25])
def test_axis_names_lie_beside_the_box_never_on_the_points(qtbot, scale: float) -> None:
    cfg = config(width=3, depth=4)
    sc = FlowScene.build(cfg, moving_weights(cfg), ring_dataset(600), ViewOptions(scale=scale))
    v = make_layer_view(sc)
    qtbot.addWidget(v)
    w, h = (1920, 1080) if scale > 1 else (900, 600)
    capture(v, w, h)  # sized as an export / presentation sizes it
    checked = 0
    for t in (0.0, 2.0, sc.t_max):
        v.set_time(t)
        for az in (0.0, 60.0, 135.0, 230.0, 315.0):
            for el in (15.0, 35.0, 70.0):
                v.set_camera(az, el)
                rects = v.axis_label_rects(w, h)
                assert [n for n, _ in rects] == list(sc.axis_labels(t)), (t, az, el)
                for i, (name, r) in enumerate(rects):
                    assert r.left() >= 0 and r.right() <= w and r.top() >= 0 and r.bottom() <= h
                    assert _hits(v, r, w, h) == 0, (name, t, az, el)
                    assert not any(r.intersects(o) for _, o in rects[i + 1 :])
                    checked += 1
                drawn = [x for x in v.overlay_texts(w, h) if x[3] == "axis"]
                assert len(drawn) == len(rects)
    assert checked == 3 * 5 * 3 * 3


def test_an_exported_frame_keeps_the_names_off_the_data(tmp_path) -> None:
    cfg = config(width=3, depth=4)
    run = Run(cfg, ring_dataset(600), [Snapshot(0, 0.5, 0.8, 0.8, moving_weights(cfg))])
    opts = ExportOptions(
        str(tmp_path / "f.png"), width=1920, height=1080, layers=[4], title="Ring", legend=True
    )
    ex = Exporter(run, opts, write=False)
    try:
        img = ex.render_frame(0)
        assert img.std() > 10
        v = ex.views[0]
        assert type(v).__name__ == "LayerView3D"
        w, h = v.width(), v.height()
        rects = v.axis_label_rects(w, h)
        assert len(rects) == 3
        for name, r in rects:
            assert _hits(v, r, w, h) == 0, name
        # the box around the data fills >= 80 % of the frame's height (title band apart)
        from nndyn_gui.render.scene import box_corners

        c = v.project_points(box_corners(v._bounds), w, h)
        assert c[:, 1].max() - c[:, 1].min() >= 0.8 * 1080, c[:, 1].max() - c[:, 1].min()
    finally:
        ex.abort()
