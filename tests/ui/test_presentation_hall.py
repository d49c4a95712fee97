"""Presentation mode read from the back of a lecture hall (1920x1080, under Xvfb: run
with scripts/with-x.sh ... -m gl): title, layer, step, accuracy and legend on screen, the
title's letters >= 4 % of the screen's height, axis names, ticks and legend >= 2.5 %,
the data (2-D) or its box (3-D) >= 80 % of the height, and no text on the data."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from PySide6.QtCore import QPointF, QRect
from PySide6.QtGui import QFont, QFontMetricsF, QImage

from nndyn_gui.core.analysis.narrator import run_title
from nndyn_gui.core.types import Snapshot
from nndyn_gui.render.scene import box_corners
from nndyn_gui.render.scene_view import finite

pytestmark = pytest.mark.gl

H = 1080


def _ink_height(widget: Any) -> int:
    """Rows of the widget's picture holding text (pixels far from its backdrop)."""
    win = widget.window()
    rect = QRect(widget.mapTo(win, widget.rect().topLeft()), widget.size())
    img = win.grab(rect).toImage().convertToFormat(QImage.Format.Format_RGB32)
    w, h = img.width(), img.height()
    arr = np.frombuffer(img.constBits(), np.uint8).reshape(h, img.bytesPerLine() // 4, 4)
    rgb = arr[:, :w, :3].astype(int)
    bg = np.median(rgb.reshape(-1, 3), axis=0)
    rows = np.flatnonzero((np.abs(rgb - bg).max(axis=-1) > 100).any(axis=1))
    dpr = widget.devicePixelRatioF()
    return 0 if len(rows) == 0 else round((rows[-1] - rows[0] + 1) / dpr)


def _present(qtbot: Any, window: Any, changed: Any, width: int) -> Any:
    from nndyn_gui.render.views import opengl_available

    screen = window.screen().geometry()
    if (screen.width(), screen.height()) != (1920, H):
        pytest.skip(f"needs a 1920x1080 screen (Xvfb of scripts/with-x.sh), not {screen}")
    if width == 3 and not opengl_available():
        pytest.skip("no OpenGL here")
    state = window.state
    if width != state.config.model.width:
        state.set_config(changed(state.config, model__width=width))
    window.layer_panel.wait_idle()
    for step in (50, 100):
        state.append_snapshot(Snapshot(step, 0.3, 0.9, 0.85, state.weights.copy()))
    window.layer_panel.wait_idle()
    pres = window.presentation
    pres.enter()
    assert pres.wait_until_full_screen()
    layer = window.layer_panel
    qtbot.waitUntil(lambda: layer.view.size() == layer.host.size(), timeout=3000)
    layer.set_time(layer.scene.t_max)
    qtbot.wait(200)
    return pres


def _words_on_screen(window: Any, pres: Any) -> None:
    state = window.state
    assert pres.title.isVisible() and pres.title.text() == run_title(state.config)
    assert pres.caption.isVisible() and pres.caption.text() == "step 100 · test 85.0%"
    assert pres.legend.isVisible() and "class 0" in pres.legend.text()
    layer = window.layer_panel
    assert pres.text.layer.isVisible()
    assert pres.text.layer.text() == layer.scene.layer_label(layer.time())
    # the title's letters (ascender to descender of the line) >= 4 % of the height
    assert _ink_height(pres.title) >= 0.04 * H, _ink_height(pres.title)
    # legend and step: a capital >= 2.5 % of the height
    for label in (pres.legend, pres.caption, pres.text.layer):
        assert QFontMetricsF(label.font()).capHeight() >= 0.025 * H, label.objectName()
        assert _ink_height(label) >= 0.025 * H
    # every word lies beside the view, none on it
    view_rect = QRect(layer.host.mapTo(window, layer.host.rect().topLeft()), layer.host.size())
    for label in pres.text.labels:
        if label.isVisible():
            r = QRect(label.mapTo(window, label.rect().topLeft()), label.size())
            assert not r.intersects(view_rect), (label.objectName(), r, view_rect)


def test_2d_presentation_at_1080p(qtbot: Any, window: Any, changed: Any) -> None:
    """A ring that stays round (h small): a column of words beside a full-height plot."""
    window.state.set_config(changed(window.state.config, model__h=0.05))
    pres = _present(qtbot, window, changed, 2)
    layer = window.layer_panel
    view = layer.view
    assert type(view).__name__ == "LayerView2D"
    _words_on_screen(window, pres)
    assert not view.label_item.toPlainText()  # no caption on the plot
    # ticks and axis names: a capital >= 2.5 % of the height
    pi = view.getPlotItem()
    for name in ("left", "bottom"):
        ax = pi.getAxis(name)
        assert QFontMetricsF(ax.style["tickFont"]).capHeight() >= 0.025 * H
        label_font = QFont(ax.label.font())
        px = ax.labelStyle.get("font-size", "")
        label_font.setPixelSize(int(str(px).rstrip("px")))
        assert QFontMetricsF(label_font).capHeight() >= 0.025 * H
    # the data fill >= 80 % of the screen's height
    pts = finite(layer.scene.at(view.time()).points)
    vb = view._vb
    ys = [vb.mapViewToScene(QPointF(0.0, float(y))).y() for y in (pts[:, 1].min(), pts[:, 1].max())]
    assert abs(ys[1] - ys[0]) >= 0.8 * H, abs(ys[1] - ys[0]) / H
    pres.leave()
    assert view.label_item.toPlainText()  # the window's caption is back


def test_3d_presentation_at_1080p(qtbot: Any, window: Any, changed: Any) -> None:
    pres = _present(qtbot, window, changed, 3)
    layer = window.layer_panel
    view = layer.view
    assert type(view).__name__ == "LayerView3D"
    _words_on_screen(window, pres)
    w, h = view.width(), view.height()
    kinds = [kind for *_, kind in view.overlay_texts(w, h)]
    assert "title" not in kinds and kinds.count("axis") == 3  # names on the axes only
    # axis names: a capital >= 2.5 % of the height, none on a point
    assert QFontMetricsF(view._font("axis")).capHeight() >= 0.025 * H
    px = view.project_points(finite(layer.scene.at(view.time()).points), w, h)
    for name, r in view.axis_label_rects(w, h):
        inside = (
            (px[:, 0] > r.left())
            & (px[:, 0] < r.right())
            & (px[:, 1] > r.top())
            & (px[:, 1] < r.bottom())
        )
        assert not inside.any(), name
    # the box around the data fills >= 80 % of the screen's height
    c = view.project_points(box_corners(view._bounds), w, h)
    assert c[:, 1].max() - c[:, 1].min() >= 0.8 * H, (c[:, 1].max() - c[:, 1].min()) / H
    pres.leave()


def test_2d_data_wider_than_high_get_the_screens_width(
    qtbot: Any, window: Any, changed: Any
) -> None:
    """Stretched data (2.7:1 at the output of this net) cannot fill 80 % of a 16:9
    screen's height with the aspect kept: the words go into bands above and below, and
    the data take >= 80 % of the width (what limits them)."""
    pres = _present(qtbot, window, changed, 2)
    layer = window.layer_panel
    view = layer.view
    left, top, _right, bottom = pres.text.margins
    assert left == 0 and top > 0 and bottom > 0  # bands, not a column
    _words_on_screen(window, pres)
    pts = finite(layer.scene.at(view.time()).points)
    vb = view._vb
    xs = [vb.mapViewToScene(QPointF(float(x), 0.0)).x() for x in (pts[:, 0].min(), pts[:, 0].max())]
    assert abs(xs[1] - xs[0]) >= 0.8 * 1920, abs(xs[1] - xs[0]) / 1920
    pres.leave()
