"""Choosing a view, small multiples, and capturing any view as an RGBA array.

`make_layer_view` is the one place that decides between 3-D and 2-D, so the window,
the exporter and the CLI degrade the same way when OpenGL is missing (Qt's offscreen
platform, remote sessions): a 2-D projection with a visible notice instead of a
crash. `capture` renders a view at an exact pixel size without showing it.
"""

from __future__ import annotations

import gc
from typing import Any

import numpy as np
from PySide6.QtCore import QCoreApplication, QPoint, QRectF, QSize, Qt, QTimer
from PySide6.QtGui import QColor, QGuiApplication, QImage, QPainter, QPalette, QPixmap, QRegion
from PySide6.QtWidgets import (
    QApplication,
    QGraphicsView,
    QGridLayout,
    QLabel,
    QVBoxLayout,
    QWidget,
)

from nndyn_gui.render.palette import palette_for
from nndyn_gui.render.scene import FlowScene, ViewOptions
from nndyn_gui.render.view2d import LayerView2D

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
    except Exception:
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
    if hasattr(view, "renderToArray"):
        return _capture_gl(view, width, height)
    _resize_hidden(view, width, height)
    if isinstance(view, LayerView2D):
        view.set_time(view.time())  # re-frame for the new aspect ratio
    opts = getattr(view, "options", None)
    bg = palette_for(opts().background if callable(opts) else "white").background
    img = QImage(width, height, QImage.Format.Format_ARGB32_Premultiplied)
    img.fill(QColor(*bg))
    painter = QPainter(img)
    try:
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
    finally:
        painter.end()
    return qimage_to_rgba(img)


def _capture_gl(view: Any, width: int, height: int) -> np.ndarray:
    _resize_hidden(view, width, height)
    view.set_time(view.time())
    # a garbage-collected GL widget releases its context mid-render: no GC while drawing
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        view.makeCurrent()
        bgra = render_gl(view, width, height)
    finally:
        if was_enabled:
            gc.enable()
    rgba = np.ascontiguousarray(bgra[..., [2, 1, 0, 3]])
    if hasattr(view, "paint_overlay"):
        img = QImage(rgba.data, width, height, 4 * width, QImage.Format.Format_RGBA8888).copy()
        painter = QPainter(img)
        try:
            view.paint_overlay(painter, width, height)
        finally:
            painter.end()
        rgba = qimage_to_rgba(img)
    return rgba


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
    """Input, every k-th hidden layer, output: at most `max_panels` layer indices."""
    if depth + 1 <= max_panels:
        return list(range(depth + 1))
    k = int(np.ceil((depth - 1) / max(1, max_panels - 2)))
    hidden = list(range(k, depth, k))
    while len(hidden) + 2 > max_panels:
        hidden = hidden[:-1]
    return [0, *hidden, depth]


class SmallMultiples(QWidget):
    """A row/grid of small 2-D panels, one per chosen layer: the whole flow at a glance."""

    def __init__(self, parent: QWidget | None = None, columns: int | None = None) -> None:
        super().__init__(parent)
        self._scene: FlowScene | None = None
        self._layers: list[int] | None = None
        self._columns = columns
        self.panels: list[LayerView2D] = []
        self._outer = QVBoxLayout(self)
        self._outer.setContentsMargins(2, 2, 2, 2)
        self._outer.setSpacing(2)
        self.caption = QLabel("")
        self.caption.setAlignment(Qt.AlignmentFlag.AlignLeft)
        self._outer.addWidget(self.caption)
        self._grid = QGridLayout()
        self._grid.setSpacing(2)
        self._outer.addLayout(self._grid, 1)
        self._plan: list[tuple[int, int]] = []  # (panel index, layer) still to draw
        self._cols = 1
        self._cells: dict[int, tuple[int, int]] = {}  # id(panel) -> (row, column)
        self._step_timer = QTimer(self)
        self._step_timer.setInterval(0)
        self._step_timer.timeout.connect(self._step)

    def flow_scene(self) -> FlowScene | None:
        return self._scene

    def options(self) -> ViewOptions:
        return self._scene.options if self._scene is not None else ViewOptions()

    def layers(self) -> list[int]:
        if self._scene is None:
            return []
        return list(self._layers) if self._layers is not None else default_layers(self._scene.depth)

    def set_scene(self, scene: FlowScene, spread: bool = False) -> None:
        """Show a scene; wider scenes are projected to 2-D (head axes), which the caption says.

        One projection for every panel, so the layers can be compared; the input panel is
        drawn in its own coordinates x1, x2 (see scene.FlowScene).

        `spread`: update one panel per event-loop turn instead of all at once, so a
        live window never stalls for the ~8 ms per panel times the number of panels.
        """
        self._scene = scene.projected_2d()
        self._rebuild(spread)

    def set_layers(self, layers: list[int] | None, rebuild: bool = True) -> None:
        """Which layers get a panel (None = input, every k-th hidden, output)."""
        self._layers = None if layers is None else [int(k) for k in layers]
        if rebuild:
            self._rebuild()

    def updating(self) -> bool:
        """True while a spread update still has panels to draw."""
        return bool(self._plan)

    def set_options(self, options: ViewOptions) -> None:
        if self._scene is None:
            return
        if self._scene.options.needs_rebuild(options) and self._scene.source:
            self.set_scene(self._scene.rebuilt(options))
            return
        self._scene = self._scene.with_options(options)
        for p in self.panels:
            p.set_options(options)

    def set_selection(self, indices: np.ndarray) -> None:
        for p in self.panels:
            p.set_selection(indices)

    def _rebuild(self, spread: bool = False) -> None:
        sc = self._scene
        if sc is None:
            return
        layers = [k for k in self.layers() if 0 <= k <= sc.depth]
        note = sc.projection.note
        if note and 0 in layers:
            note += "; the input panel is in its own plane (x1, x2)"
        self.caption.setText(f"2-D view: {note}" if note else "")
        self.caption.setVisible(bool(note))
        while len(self.panels) > len(layers):
            p = self.panels.pop()
            self._cells.pop(id(p), None)
            self._grid.removeWidget(p)
            p.setParent(None)
            p.deleteLater()
        self._cols = self._columns or (
            len(layers) if len(layers) <= 4 else int(np.ceil(len(layers) / 2))
        )
        self._plan = list(enumerate(layers))
        if spread:
            self._step_timer.start()
        else:
            self._step_timer.stop()
            while self._plan:
                self._step()
        pal = palette_for(sc.options.background)
        pe = self.palette()
        pe.setColor(QPalette.ColorRole.Window, QColor(*pal.background))
        pe.setColor(QPalette.ColorRole.WindowText, QColor(*pal.foreground))
        self.setPalette(pe)
        self.setAutoFillBackground(pal.background[3] != 0)
        self.caption.setPalette(pe)

    def _step(self) -> None:
        """Create or update the next panel of the plan (one per timer tick when spread)."""
        sc = self._scene
        if sc is None or not self._plan:
            self._plan = []
            self._step_timer.stop()
            return
        i, k = self._plan.pop(0)
        if i >= len(self.panels):
            self.panels.append(LayerView2D(self, compact=True))
        panel = self.panels[i]
        cell = (i // self._cols, i % self._cols)
        if self._cells.get(id(panel)) != cell:  # re-adding re-lays out (repaints) them all
            self._grid.addWidget(panel, *cell)
            self._cells[id(panel)] = cell
        panel.set_scene(sc)
        panel.set_time(float(sc.frame_of_layer(k)))
        if not self._plan:
            self._step_timer.stop()
