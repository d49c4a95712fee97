"""Width-3 nets get the rotatable OpenGL view in the window (needs X: run under Xvfb)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

pytestmark = pytest.mark.gl


def test_width3_training_shows_the_3d_view(qtbot: Any, window: Any, changed: Any) -> None:
    from nndyn_gui.render.views import capture, opengl_available

    window.ensure_tensorflow()  # TensorFlow before any GL context (Mesa + TF crash otherwise)
    if not opengl_available():
        pytest.skip("no OpenGL here")
    layer = window.layer_panel
    window.state.set_config(changed(window.state.config, model__width=3))
    layer.wait_idle()
    assert type(layer.view).__name__ == "LayerView3D"
    view = layer.view
    with qtbot.waitSignal(window.controller.finished, timeout=60_000):
        window.train()
    layer.wait_idle()
    assert layer.view is view  # same dims: the view is kept, only its scene changes
    assert layer.scene.source[1] is window.state.snapshots[-1].weights
    layer.show_last_layer()
    img = capture(view, 320, 240)
    assert img.shape == (240, 320, 4) and img[..., :3].std() > 10
    _screenshot_has_the_3d_labels(window, view)
    view.reset_camera()
    window.state.set_config(changed(window.state.config, model__width=2))
    layer.wait_idle()
    assert type(layer.view).__name__ == "LayerView2D"  # dims changed: view rebuilt
    assert np.isfinite(layer.scene.points).all()


def _screenshot_has_the_3d_labels(window: Any, view: Any) -> None:
    """A GL widget's grab() drops the labels its paintGL draws; the window screenshot
    (automation, docs) paints them again, so the layer title is in the picture."""
    from PySide6.QtCore import QPoint

    from nndyn_gui.render.views import grab_with_overlays, qimage_to_rgba

    corner = view.mapTo(window, QPoint(0, 0))
    x, y = corner.x(), corner.y()
    plain = qimage_to_rgba(window.grab().toImage())[y : y + 30, x : x + 200, :3]
    shot = qimage_to_rgba(grab_with_overlays(window).toImage())[y : y + 30, x : x + 200, :3]
    dark = np.array(view._pal.foreground[:3]).astype(int)
    darker = (np.abs(shot.astype(int) - dark).sum(-1) < 80).sum()
    assert darker > (np.abs(plain.astype(int) - dark).sum(-1) < 80).sum() + 30  # title text
