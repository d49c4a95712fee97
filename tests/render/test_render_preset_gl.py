"""`nndyn render --preset` with the OpenGL (3-D) views, as a user runs it under X.

The preset trains first; TensorFlow and Mesa's software OpenGL both carry LLVM and,
in one process, crashed this command (exit 139). Training now runs in the engine's
worker process, so both kinds of video come out and move.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import imageio.v3 as iio
import numpy as np
import pytest

from nndyn_gui.render.views import opengl_available

pytestmark = [pytest.mark.gl, pytest.mark.slow]


@pytest.mark.parametrize("kind", ["orbit", "layers"])
def test_render_preset_with_opengl_makes_a_moving_video(
    tmp_path: Path, qapp: object, kind: str
) -> None:
    if not opengl_available():
        pytest.skip("no OpenGL here (run under scripts/with-x.sh)")
    out = tmp_path / f"{kind}.mp4"
    cmd = [
        *(sys.executable, "-m", "nndyn_gui.cli", "render", "--preset", "resnet-w3-ring"),
        *("--set", "train.steps=400", "--kind", kind, "--size", "320x240"),
        *("--fps", "10", "--seconds", "2", "--hold", "0", "--quiet", "--out", str(out)),
    ]
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    p = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr[-3000:]
    assert p.stdout.strip() == str(out)
    assert "2-D projection" not in p.stderr  # the real 3-D view, no fallback
    frames = iio.imread(out, index=None)
    assert frames.shape == (20, 240, 320, 3)
    assert frames[0].std() > 10  # not blank
    change = np.abs(frames[0].astype(int) - frames[-1].astype(int)).mean()
    assert change > 1.0  # it moves: the camera turns / the points flow
