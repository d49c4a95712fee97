"""3-D exports with real OpenGL (run under Xvfb: scripts/with-x.sh ... -m gl)."""

from __future__ import annotations

import imageio.v3 as iio
import numpy as np
import pytest

from nndyn_gui.core.types import Run, Snapshot
from nndyn_gui.render.export import NO_GL_WARNING, Exporter, ExportOptions, export
from nndyn_gui.render.views import opengl_available

from . import config, moving_weights, ring_dataset

pytestmark = pytest.mark.gl


@pytest.fixture(autouse=True)
def _gl(qapp):
    if not opengl_available():
        pytest.skip("no OpenGL here (run under scripts/with-x.sh)")


def _run3() -> Run:
    cfg = config(width=3, depth=4)
    return Run(cfg, ring_dataset(300), [Snapshot(0, 0.5, 0.8, 0.8, moving_weights(cfg))])


def test_orbit_mp4_turns_the_3d_view(tmp_path):
    opts = ExportOptions(
        str(tmp_path / "orbit.mp4"), content="orbit", width=320, height=240, fps=10, seconds=1.2
    )
    ex = Exporter(_run3(), opts)
    assert NO_GL_WARNING not in ex.warnings and ex.use_gl
    out = ex.finish()
    frames = iio.imread(out, index=None).astype(int)
    assert frames.shape == (12, 240, 320, 3)
    assert frames.std() > 10  # not blank
    diffs = [np.abs(frames[i + 1] - frames[i]).mean() for i in range(11)]
    assert min(diffs) > 0.2  # the camera moves every frame


def test_layers_of_a_width3_net_use_the_3d_view(tmp_path):
    opts = ExportOptions(str(tmp_path / "flow.png"), width=320, height=240, layers=[0])
    img = iio.imread(export(_run3(), opts))
    assert img.shape[:2] == (240, 320) and img.std() > 10
    ex = Exporter(
        _run3(),
        ExportOptions(
            str(tmp_path / "f.mp4"), width=320, height=240, fps=10, seconds=1.0, hold_seconds=0.2
        ),
    )
    try:
        assert ex.use_gl and type(ex.views[0]).__name__ == "LayerView3D"
        a, b = ex.render_frame(0), ex.render_frame(5)
        assert np.abs(a.astype(int) - b).mean() > 0.5
        np.testing.assert_array_equal(a, ex.render_frame(0))  # deterministic
    finally:
        ex.abort()


def test_exported_input_frame_draws_the_points_whole(tmp_path):
    """The region image under the input points does not cut them in half in an export."""
    from nndyn_gui.render.palette import WHITE
    from nndyn_gui.render.scene import ViewOptions

    def point_pixels(view: ViewOptions, name: str) -> int:
        opts = ExportOptions(str(tmp_path / name), width=480, height=360, layers=[0], view=view)
        img = iio.imread(export(_run3(), opts))[..., :3].astype(int)
        hits = np.zeros(img.shape[:2], dtype=bool)
        for c in WHITE.classes:
            hits |= np.abs(img - np.array(c[:3])).max(axis=-1) <= 45
        return int(hits.sum())

    alone = point_pixels(ViewOptions(show_regions=False, show_grid=False, point_size=8), "a.png")
    over = point_pixels(ViewOptions(point_size=8), "b.png")
    assert alone > 2000 and over >= 0.9 * alone, (alone, over)


def _ink_extent(frames: list[np.ndarray], colours: list[tuple[int, ...]]) -> tuple[float, float]:
    h, w = frames[0].shape[:2]
    mask = np.zeros((h, w), dtype=bool)
    for f in frames:
        rgb = f[..., :3].astype(int)
        for c in colours:
            mask |= np.abs(rgb - np.array(c[:3])).max(axis=-1) <= 30
    ys, xs = np.nonzero(mask)
    return (xs.max() - xs.min() + 1) / w, (ys.max() - ys.min() + 1) / h


def test_3d_flow_fills_the_frame_with_one_steady_box(tmp_path):
    """The box (fitted to every layer) and its contents span >= 80% of the frame's width or
    height, and the box does not move while the flow plays."""
    from nndyn_gui.render.palette import WHITE

    opts = ExportOptions(
        str(tmp_path / "f.mp4"), width=640, height=360, fps=10, seconds=1.0, hold_seconds=0
    )
    ex = Exporter(_run3(), opts, write=False)
    try:
        frames = [ex.render_frame(i) for i in range(10)]
        view = ex.views[0]
        boxes = {view._bounds.tobytes()}
        for i in range(10):
            view.set_time(ex._producer.t_of(i))
            boxes.add(view._bounds.tobytes())
        cams = {tuple(np.round(view.camera(), 9))}
    finally:
        ex.abort()
    assert len(boxes) == 1 and len(cams) == 1  # one box, one camera for the whole flow
    wide, high = _ink_extent(frames, [*WHITE.classes, WHITE.box])
    assert max(wide, high) >= 0.8, (wide, high)


def test_the_default_camera_faces_the_plane_and_the_windows_camera_is_kept(tmp_path):
    from nndyn_gui.render.camera import PLANE_COS_BAND, camera_axes

    kw = {"width": 320, "height": 240, "fps": 10, "seconds": 0.5, "hold_seconds": 0}
    ex = Exporter(_run3(), ExportOptions(str(tmp_path / "a.mp4"), **kw), write=False)
    try:
        view = ex.views[0]
        az, el, _ = view.camera()
        w = view.flow_scene().plane[0]
        cos = abs(camera_axes(az, el)[2] @ w) / np.linalg.norm(w)
        assert PLANE_COS_BAND[0] - 0.01 <= cos <= PLANE_COS_BAND[1] + 0.01  # not edge-on
    finally:
        ex.abort()
    opts = ExportOptions(str(tmp_path / "b.mp4"), camera=(123.0, 33.0, 1.5), **kw)
    ex = Exporter(_run3(), opts, write=False)
    try:
        ex.render_frame(0)
        az, el, _ = ex.views[0].camera()
        assert (az, el) == (123.0, 33.0) and ex.views[0].zoom() == 1.5
    finally:
        ex.abort()


def test_a_video_moves_smoothly_between_saved_camera_views(tmp_path):
    from nndyn_gui.render.camera import CameraKey

    keys = [CameraKey(0.0, 10.0, 15.0), CameraKey(4.0, 100.0, 35.0)]
    opts = ExportOptions(
        str(tmp_path / "k.mp4"),
        width=320,
        height=240,
        fps=10,
        seconds=2.0,
        hold_seconds=0,
        camera_keys=keys,
    )
    ex = Exporter(_run3(), opts, write=False)
    try:
        angles, frames = [], []
        for i in range(ex.total_frames):
            frames.append(ex.render_frame(i).astype(int))
            angles.append(ex.views[0].camera()[:2])
    finally:
        ex.abort()
    az = np.array([a for a, _ in angles])
    assert az[0] == pytest.approx(10.0) and az[-1] == pytest.approx(100.0)
    assert np.all(np.diff(az) >= -1e-9) and np.diff(az).max() < 12  # steady, no jumps
    assert np.diff(az)[0] < np.diff(az)[len(az) // 2]  # eases out of the first view
    picture_steps = [np.abs(frames[i + 1] - frames[i]).mean() for i in range(len(frames) - 1)]
    assert min(picture_steps) > 0.1  # the picture moves every frame


def test_a_3d_export_at_1080p_is_the_720p_one_enlarged(tmp_path):
    def frame(w: int, h: int) -> np.ndarray:
        opts = ExportOptions(str(tmp_path / "x.png"), width=w, height=h, legend=True, title="T")
        ex = Exporter(_run3(), opts, write=False)
        try:
            return ex.render_frame(0)[..., :3].astype(float)
        finally:
            ex.abort()

    small, big = frame(640, 360), frame(1280, 720)
    coarse_s = small.reshape(45, 8, 80, 8, 3).mean(axis=(1, 3))
    coarse_b = big.reshape(45, 16, 80, 16, 3).mean(axis=(1, 3))
    assert np.abs(coarse_b - coarse_s).mean() < 3.0


def test_compare_keeps_each_halfs_dimension_and_no_legend_covers_a_name(tmp_path):
    """Width 2 beside width 3 (the talk's key comparison): the width-3 half is drawn in a
    3-D view, the width-2 half in 2-D; the 3-D half opens at its output; the class legend
    sits below the panels' names, so it covers neither."""
    import dataclasses

    from nndyn_gui.render.export.layout import panel_name_band
    from nndyn_gui.render.view2d import LayerView2D
    from nndyn_gui.render.view3d import LayerView3D

    cfg2 = config(width=2, depth=4)
    run2 = Run(cfg2, ring_dataset(300), [Snapshot(50, 0.3, 0.9, 0.9, moving_weights(cfg2))])
    opts = ExportOptions(
        str(tmp_path / "w2w3.png"), content="compare", width=960, height=540,
        compare_with=_run3(), labels=("width 2 · a long name that reaches the right edge",
                                      "width 3 · a long name that reaches the right edge"),
    )  # fmt: skip
    ex = Exporter(run2, opts)
    try:
        prod = ex._producer
        assert ex.use_gl and NO_GL_WARNING not in ex.warnings
        assert [sc.dims for sc in prod.scenes] == [2, 3]
        assert isinstance(prod.pair[0], LayerView2D) and isinstance(prod.pair[1], LayerView3D)
        panels = prod.panels(0)
        assert panels[1].camera is not None and panels[0].camera is None
        assert [p.time for p in panels] == [sc.t_max for sc in prod.scenes]  # at the output
        frame = ex.render_frame(0)[..., :3].astype(int)
        right = frame[:, 480:]
        assert right.std() > 10 and frame[:, :480].std() > 10  # both halves drawn
        # the legend (what differs from the same frame without it) starts below the names
        plain = dataclasses.replace(opts, legend=False)
        bare = Exporter(run2, plain, write=False)
        try:
            diff = np.abs(bare.render_frame(0)[..., :3].astype(int) - frame).max(axis=-1) > 30
        finally:
            bare.abort()
        rows = np.nonzero(diff.any(axis=1))[0]
        band = ex._bands[0] + panel_name_band(ex._stage.view_options.scale)
        assert len(rows) > 5 and rows.min() >= band, (rows.min(), band)
        path = ex.finish()
        assert iio.imread(path).shape[:2] == (540, 960)
    finally:
        ex.abort()
