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
