"""Choosing a view, capturing any view as an RGBA array, and laying out a sheet of tiles.

`make_layer_view` is the one place that decides between 3-D and 2-D, so the window,
the exporter and the CLI degrade the same way when OpenGL is missing (Qt's offscreen
platform, remote sessions): a 2-D projection with a visible notice instead of a
crash. `capture` renders a view at an exact pixel size without showing it.
`default_layers` and `sheet_grid` lay out a sheet of layers, for the All layers tiles
(render/small_multiples.py) and the exporter alike.
"""

from __future__ import annotations

import gc
import logging
import math
import sys
from typing import Any

import numpy as np
from PySide6.QtCore import QCoreApplication, QEvent, QPoint, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QGuiApplication, QImage, QPainter, QPixmap, QRegion
from PySide6.QtWidgets import (
    QApplication,
    QGraphicsView,
    QWidget,
)

from nndyn_gui.render.palette import palette_for
from nndyn_gui.render.scene import FlowScene
from nndyn_gui.render.view2d import LayerView2D

log = logging.getLogger(__name__)

NO_GL_NOTICE = "3-D view unavailable (no OpenGL): showing a 2-D projection"
MAX_PANELS = 8
_NO_GL_PLATFORMS = ("offscreen", "minimal", "vnc")
_gl_cache: dict[str, bool] = {}


def share_gl_contexts() -> None:
    """Let every GL view share one context (must run before QApplication exists).

    pyqtgraph.opengl caches compiled shaders per item class, so a second top-level 3-D
    view (or a capture of one) draws nothing unless contexts are shared.
    """
    if QCoreApplication.instance() is None:
        QCoreApplication.setAttribute(Qt.ApplicationAttribute.AA_ShareOpenGLContexts, True)


share_gl_contexts()


def opengl_available() -> bool:
    """True when a desktop OpenGL context can be made here (cached per Qt platform)."""
    app = QGuiApplication.instance()
    platform = QGuiApplication.platformName() if app is not None else ""
    if not platform or platform in _NO_GL_PLATFORMS:
        return False
    if platform not in _gl_cache:
        _gl_cache[platform] = _probe_gl()
    return _gl_cache[platform]


def _probe_gl() -> bool:
    try:
        from PySide6.QtGui import QOffscreenSurface, QOpenGLContext

        surface = QOffscreenSurface()
        surface.create()
        ctx = QOpenGLContext()
        if not ctx.create() or not surface.isValid():
            return False
        ok = bool(ctx.makeCurrent(surface))
        ctx.doneCurrent()
        if not ok:
            return False
        import pyqtgraph.opengl  # noqa: F401 - needs PyOpenGL
    except Exception:  # a driver probe: any failure means "draw in 2-D" (said once)
        log.warning("OpenGL is not usable here; 3-D views are drawn in 2-D", exc_info=True)
        return False
    return True


def make_layer_view(scene: FlowScene, parent: QWidget | None = None, prefer_3d: bool = True) -> Any:
    """A LayerView3D for 3-D scenes when OpenGL works, else a LayerView2D (with notice)."""
    if scene.dims == 3 and prefer_3d and opengl_available():
        from nndyn_gui.render.view3d import LayerView3D

        view3 = LayerView3D(parent, options=scene.options)
        view3.set_scene(scene)
        return view3
    view = LayerView2D(parent, options=scene.options)
    view.set_scene(scene)  # projects 3-D scenes to 2-D itself
    if scene.dims == 3 and prefer_3d:
        view.set_notice(NO_GL_NOTICE)
    return view


def capture(view: QWidget, width: int, height: int) -> np.ndarray:
    """(height, width, 4) uint8 RGBA image of a view, rendered without showing it."""
    width, height = int(width), int(height)
    if width <= 0 or height <= 0:
        raise ValueError(f"capture size must be positive, got {width}x{height}")
    bg = _background(view)
    img = QImage(width, height, QImage.Format.Format_ARGB32_Premultiplied)
    img.fill(QColor(*bg))
    painter = QPainter(img)
    try:
        paint_view(view, painter, 0, 0, width, height)
    finally:
        painter.end()
    return qimage_to_rgba(img)


def paint_view(view: QWidget, painter: QPainter, x: int, y: int, width: int, height: int) -> None:
    """Draw a view, sized to exactly width x height, at (x, y) of the painter's device.

    What `capture` does, without an image of its own: the exporter paints each view
    straight into the frame it is composing (one copy of the pixels fewer per view).
    The device is expected to hold the background already.
    """
    width, height = int(width), int(height)
    if hasattr(view, "renderToArray"):
        _paint_gl(view, painter, x, y, width, height)
        return
    resized = view.size() != QSize(width, height)
    _resize_hidden(view, width, height)
    if resized and isinstance(view, LayerView2D):
        view.set_time(view.time())  # re-frame for the new aspect ratio
    bg = _background(view)
    if resized and isinstance(view, QGraphicsView):
        # pyqtgraph's axes measure their tick labels while painting and make room for
        # them afterwards: the first picture at a new size is drawn once to settle that
        scratch = QImage(width, height, QImage.Format.Format_ARGB32_Premultiplied)
        scratch_painter = QPainter(scratch)
        try:
            _render_widget(view, scratch_painter, width, height, bg)
        finally:
            scratch_painter.end()
        QCoreApplication.sendPostedEvents(None, QEvent.Type.LayoutRequest)
        _send_pending_resizes(view)
        if isinstance(view, LayerView2D):
            view.set_time(view.time())
    painter.save()
    try:
        painter.translate(x, y)  # QGraphicsView.render clips to its target rect itself
        _render_widget(view, painter, width, height, bg)
    finally:
        painter.restore()


def _background(view: QWidget) -> tuple[int, ...]:
    opts = getattr(view, "options", None)
    return palette_for(opts().background if callable(opts) else "white").background


def _render_widget(
    view: QWidget, painter: QPainter, width: int, height: int, bg: tuple[int, ...]
) -> None:
    if isinstance(view, QGraphicsView):
        # the scene alone: QWidget.render would paint the widget palette under it
        scene = view.scene()
        if hasattr(scene, "prepareForPaint"):
            scene.prepareForPaint()  # what pyqtgraph's GraphicsView.render does first
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        view.render(painter, QRectF(0, 0, width, height), view.viewport().rect())
    else:
        flags = QWidget.RenderFlag.DrawChildren
        if bg[3] != 0:
            flags |= QWidget.RenderFlag.DrawWindowBackground
        QWidget.render(view, painter, QPoint(0, 0), QRegion(), flags)


def _paint_gl(view: Any, painter: QPainter, x: int, y: int, width: int, height: int) -> None:
    """The GL picture (one pass into a frame buffer) and its text overlay, at (x, y)."""
    _resize_hidden(view, width, height)
    view.set_time(view.time())
    # a garbage-collected GL widget releases its context mid-render: no GC while drawing
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        view.makeCurrent()
        bgra = np.ascontiguousarray(render_gl(view, width, height))  # rows top-down
    finally:
        if was_enabled:
            gc.enable()
    if sys.byteorder == "little":  # BGRA bytes are Qt's ARGB32 here: drawn as they are
        img = QImage(bgra.data, width, height, 4 * width, QImage.Format.Format_ARGB32)
    else:
        bgra = np.ascontiguousarray(bgra[..., [2, 1, 0, 3]])
        img = QImage(bgra.data, width, height, 4 * width, QImage.Format.Format_RGBA8888)
    painter.drawImage(QPoint(x, y), img)
    del img  # before `bgra`, whose memory it points into
    if hasattr(view, "paint_overlay"):
        painter.save()
        try:
            painter.translate(x, y)
            painter.setClipRect(0, 0, width, height)
            view.paint_overlay(painter, width, height)
        finally:
            painter.restore()


def render_gl(view: Any, width: int, height: int) -> np.ndarray:
    """(height, width, 4) BGRA of a GL view, upright, drawn once into a frame buffer.

    pyqtgraph's `renderToArray` draws in 1024-px tiles with 256 px of overlap, i.e. six
    full draws and 4 MB read-backs for one 1280x720 frame; on a software renderer
    (Mesa llvmpipe) that alone kept 3-D video export under 30 frames/s. One buffer of
    the frame's own size, kept on the view while the size stays, draws the same picture
    once. Sizes beyond what the GL driver can allocate fall back to the tiles.
    """
    from OpenGL import GL
    from PySide6.QtOpenGL import QOpenGLFramebufferObject

    fbo = getattr(view, "_nndyn_fbo", None)
    if fbo is None or (fbo.width(), fbo.height()) != (width, height):
        fbo = QOpenGLFramebufferObject(
            width,
            height,
            QOpenGLFramebufferObject.Attachment.CombinedDepthStencil,
            GL.GL_TEXTURE_2D,
        )
        if not fbo.isValid():  # too large for this driver: pyqtgraph's tiles work
            view._nndyn_fbo = None
            return np.asarray(view.renderToArray((width, height)))
        view._nndyn_fbo = fbo
    out = np.empty((height, width, 4), dtype=np.uint8)
    fbo.bind()
    try:
        GL.glViewport(0, 0, width, height)
        view.paint(region=(0, 0, width, height), viewport=(0, 0, width, height))
        GL.glPixelStorei(GL.GL_PACK_ALIGNMENT, 4)
        GL.glReadPixels(0, 0, width, height, GL.GL_BGRA, GL.GL_UNSIGNED_BYTE, out)
    finally:
        fbo.release()
    return out[::-1]


def grab_with_overlays(widget: QWidget) -> QPixmap:
    """`widget.grab()`, plus the text overlays of the 3-D views inside it.

    A QOpenGLWidget's grab re-renders only its GL frame buffer; the labels its
    paintGL draws with a QPainter (layer, axis names, notices) are on screen but not
    in the grab, so they are painted again here at each view's place.
    """
    pix = widget.grab()
    views = [widget, *widget.findChildren(QWidget)]
    painter: QPainter | None = None
    try:
        for view in views:
            if not hasattr(view, "paint_overlay") or not view.isVisible():
                continue
            if painter is None:
                painter = QPainter(pix)
            painter.save()
            painter.translate(view.mapTo(widget, QPoint(0, 0)))
            painter.setClipRect(0, 0, view.width(), view.height())
            view.paint_overlay(painter, view.width(), view.height())
            if hasattr(view, "paint_hover"):  # a window screenshot shows the hover too
                view.paint_hover(painter)
            painter.restore()
    finally:
        if painter is not None:
            painter.end()
    return pix


def qimage_to_rgba(img: QImage) -> np.ndarray:
    """Copy a QImage into a (H, W, 4) uint8 RGBA array (straight alpha)."""
    img = img.convertToFormat(QImage.Format.Format_RGBA8888)
    h, w = img.height(), img.width()
    buf = np.frombuffer(img.constBits(), dtype=np.uint8, count=img.sizeInBytes())
    return buf.reshape(h, img.bytesPerLine())[:, : 4 * w].reshape(h, w, 4).copy()


def _resize_hidden(widget: QWidget, width: int, height: int) -> None:
    """Resize and deliver the resize now: hidden widgets otherwise get it only when shown."""
    if widget.size() != QSize(width, height):
        widget.resize(width, height)
    if not widget.isVisible():
        widget.setAttribute(Qt.WidgetAttribute.WA_DontShowOnScreen, True)
        lay = widget.layout()
        if lay is not None:
            lay.activate()
        _send_pending_resizes(widget)


def _send_pending_resizes(widget: QWidget) -> None:
    from PySide6.QtGui import QResizeEvent

    for w in [widget, *widget.findChildren(QWidget)]:
        if w.testAttribute(Qt.WidgetAttribute.WA_PendingResizeEvent):
            w.setAttribute(Qt.WidgetAttribute.WA_PendingResizeEvent, False)
            QApplication.sendEvent(w, QResizeEvent(w.size(), QSize()))
        lay = w.layout()
        if lay is not None:
            lay.activate()


def default_layers(depth: int, max_panels: int = MAX_PANELS) -> list[int]:
    """Input, every k-th hidden layer, output: at most `max_panels` layer indices, no gap
    wider than k (three panels of 51 blocks were 0, 50, 51: now 0, 26, 51)."""
    max_panels = max(2, int(max_panels))
    if depth + 1 <= max_panels:
        return list(range(depth + 1))
    k = int(np.ceil(depth / (max_panels - 1)))
    hidden = list(range(k, depth, k))
    while len(hidden) + 2 > max_panels:
        hidden = hidden[:-1]
    return [0, *hidden, depth]


def sheet_grid(n: int, width: float, height: float) -> tuple[int, int]:
    """Rows and columns for n panels: one row unless wrapping makes the panels bigger."""
    best = (0.0, 1, n)
    for rows in range(1, n + 1):
        cols = math.ceil(n / rows)
        side = min(width / cols, height / rows)
        if side > best[0] * 1.05:  # prefer fewer rows unless clearly bigger
            best = (side, rows, cols)
    return best[1], best[2]


def tile_side(n: int, width: float, height: float) -> float:
    rows, cols = sheet_grid(n, width, height)
    return min(width / cols, height / rows)
