"""Choosing a view, small multiples, and capturing any view as an RGBA array.

`make_layer_view` is the one place that decides between 3-D and 2-D, so the window,
the exporter and the CLI degrade the same way when OpenGL is missing (Qt's offscreen
platform, remote sessions): a 2-D projection with a visible notice instead of a
crash. `capture` renders a view at an exact pixel size without showing it.
"""

from __future__ import annotations

import gc
import logging
import math
import sys
from typing import Any

import numpy as np
from PySide6.QtCore import QCoreApplication, QEvent, QPoint, QRectF, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QGuiApplication, QImage, QPainter, QPalette, QPixmap, QRegion
from PySide6.QtWidgets import (
    QApplication,
    QGraphicsView,
    QGridLayout,
    QLabel,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from nndyn_gui.core.analysis import narrator
from nndyn_gui.render.palette import palette_for
from nndyn_gui.render.scene import FlowScene, ViewOptions
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


class _GLTile(QLabel):
    """One tile of a 3-D scene: a picture drawn by the shared hidden 3-D view."""

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self.layer = 0
        self._t = 0.0
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setMinimumSize(40, 40)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Ignored)

    def time(self) -> float:
        return self._t


class SmallMultiples(QWidget):
    """A grid of small panels, one per chosen layer: the whole flow at a glance.

    - Tiles are laid out to be as big as the widget allows (`sheet_grid`), and when the
      widget is too small for readable tiles (MIN_TILE px), fewer layers are shown.
    - A click on a tile emits `layerClicked(k)` (the window shows that layer).
    - 3-D scenes (width 3) are drawn as 3-D pictures, the camera of `set_camera` (the main
      view's), by one hidden 3-D view: the same picture as the main view, with the exact
      plane at the output. Without OpenGL, and for wider nets' 2-D views, tiles are 2-D
      head-axes projections (scene.FlowScene), whose output line is the exact boundary.
    """

    layerClicked = Signal(int)
    MIN_TILE = 120  # px: below this a tile's points and label are too small to read

    def __init__(
        self, parent: QWidget | None = None, columns: int | None = None, prefer_3d: bool = True
    ) -> None:
        super().__init__(parent)
        self._scene: FlowScene | None = None  # what 2-D tiles draw (projected)
        self._scene3: FlowScene | None = None  # what 3-D tiles draw, when they are used
        self._layers: list[int] | None = None
        self._columns = columns
        self.prefer_3d = prefer_3d
        self.panels: list[Any] = []
        self._camera: tuple[float, float, float] | None = None
        self._renderer: Any = None  # the hidden LayerView3D of the 3-D tiles
        self._outer = QVBoxLayout(self)
        self._outer.setContentsMargins(2, 2, 2, 2)
        self._outer.setSpacing(2)
        self.caption = QLabel("")
        self.caption.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        # two lines, always shown (blank when there is nothing to say): a caption that
        # changes with the snapshot (the projection's note, or none) must not re-lay out
        # every tile, ~100 ms for a deep net
        self.caption.setWordWrap(True)
        self.caption.setFixedHeight(2 * self.caption.fontMetrics().lineSpacing() + 2)
        self.caption.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        self._outer.addWidget(self.caption)
        self._grid = QGridLayout()
        self._grid.setSpacing(2)
        self._outer.addLayout(self._grid, 1)
        self._plan: list[tuple[int, int]] = []  # (panel index, layer) still to draw
        self._cols = 1
        self._cells: dict[int, tuple[int, int]] = {}  # id(panel) -> (row, column)
        self._shown_layers: list[int] = []
        self._step_timer = QTimer(self)
        self._step_timer.setInterval(0)
        self._step_timer.timeout.connect(self._step)
        self._relayout_timer = QTimer(self)
        self._relayout_timer.setSingleShot(True)
        self._relayout_timer.setInterval(120)
        self._relayout_timer.timeout.connect(self._on_resized)

    def flow_scene(self) -> FlowScene | None:
        return self._scene

    def options(self) -> ViewOptions:
        return self._scene.options if self._scene is not None else ViewOptions()

    def is_3d(self) -> bool:
        """True when the tiles are 3-D pictures (width 3 with OpenGL)."""
        return self._scene3 is not None

    def layers(self) -> list[int]:
        """The layers shown: the chosen ones, or as many as fit readable tiles."""
        if self._scene is None:
            return []
        if self._layers is not None:
            return list(self._layers)
        return default_layers(self._scene.depth, self._fitting_panels())

    def set_scene(self, scene: FlowScene, spread: bool = False) -> None:
        """Show a scene; 3-D tiles for a 3-D scene when OpenGL works, else 2-D projections.

        One projection for every 2-D panel, so the layers can be compared; the input
        panel is drawn in its own coordinates x1, x2 (see scene.FlowScene).

        `spread`: update one panel per event-loop turn instead of all at once, so a
        live window never stalls for the ~8 ms per panel times the number of panels.
        """
        use_3d = scene.dims == 3 and self.prefer_3d and opengl_available()
        if use_3d != self.is_3d() and self.panels:
            self._clear_panels()  # other kind of tile
        self._scene3 = scene if use_3d else None
        self._scene = scene.projected_2d()
        self._rebuild(spread)

    def set_camera(self, cam: tuple[float, float, float] | None) -> None:
        """The camera (azimuth, elevation, zoom) of the 3-D tiles; None = facing the plane."""
        if cam == self._camera:
            return
        self._camera = cam
        if self.is_3d():
            self._rebuild(spread=True)

    def set_layers(self, layers: list[int] | None, rebuild: bool = True) -> None:
        """Which layers get a panel (None = input, every k-th hidden, output, as fit)."""
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
            base = self._scene3 if self._scene3 is not None else self._scene
            self.set_scene(base.rebuilt(options))
            return
        self._scene = self._scene.with_options(options)
        if self._scene3 is not None:
            self._scene3 = self._scene3.with_options(options)
            self._rebuild(spread=True)
            return
        for p in self.panels:
            p.set_options(options)

    def set_selection(self, indices: np.ndarray) -> None:
        for p in self.panels:
            if hasattr(p, "set_selection"):
                p.set_selection(indices)

    def shutdown(self) -> None:
        self._step_timer.stop()
        self._relayout_timer.stop()
        r, self._renderer = self._renderer, None
        if r is not None:
            r.setParent(None)
            r.deleteLater()

    # ------------------------------------------------------------------ layout
    def _area(self) -> tuple[float, float]:
        m = self._outer.contentsMargins()
        cap = self.caption.maximumHeight() + self._outer.spacing()
        w = max(1, self.width() - m.left() - m.right())
        h = max(1, self.height() - m.top() - m.bottom() - cap)
        return float(w), float(h)

    def _fitting_panels(self) -> int:
        """How many panels (3..MAX_PANELS) fit tiles of at least MIN_TILE px (all of them
        while hidden: the size is not known yet; a resize lays them out again)."""
        if not self.isVisible():
            return MAX_PANELS
        w, h = self._area()
        n = MAX_PANELS
        while n > 3 and tile_side(n, w, h) < self.MIN_TILE:
            n -= 1
        return n

    def resizeEvent(self, ev: Any) -> None:
        super().resizeEvent(ev)
        if self._scene is not None:
            self._relayout_timer.start()

    def _on_resized(self) -> None:
        if self._scene is None:
            return
        w, h = self._area()
        layers = [k for k in self.layers() if 0 <= k <= self._scene.depth]
        cols = self._columns or sheet_grid(max(1, len(layers)), w, h)[1]
        if layers != self._shown_layers or cols != self._cols or self.is_3d():
            self._rebuild(spread=True)

    def _clear_panels(self) -> None:
        while self.panels:
            p = self.panels.pop()
            self._cells.pop(id(p), None)
            self._grid.removeWidget(p)
            p.setParent(None)
            p.deleteLater()

    def _rebuild(self, spread: bool = False) -> None:
        sc = self._scene
        if sc is None:
            return
        layers = [k for k in self.layers() if 0 <= k <= sc.depth]
        pj = sc.projection
        caption = narrator.sheet_caption(
            self.is_3d(),
            self._camera is not None,
            pj.note,
            pj.inner_note,
            has_input=0 in layers,
            boundary_in_output=sc.depth in layers and sc.boundary_drawn(sc.t_max),
        )
        if self.caption.text() != caption.text:
            self.caption.setText(caption.text)
            self.caption.setToolTip(caption.text)  # in full, should two lines not hold it
        while len(self.panels) > len(layers):
            p = self.panels.pop()
            self._cells.pop(id(p), None)
            self._grid.removeWidget(p)
            p.setParent(None)
            p.deleteLater()
        w, h = self._area()
        self._cols = self._columns or sheet_grid(max(1, len(layers)), w, h)[1]
        rows = max(1, math.ceil(len(layers) / self._cols))
        for r in range(max(rows, self._grid.rowCount())):  # equal rows and columns
            self._grid.setRowStretch(r, 1 if r < rows else 0)
        for c in range(max(self._cols, self._grid.columnCount())):
            self._grid.setColumnStretch(c, 1 if c < self._cols else 0)
        self._shown_layers = layers
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
            panel: Any = _GLTile(self) if self.is_3d() else LayerView2D(self, compact=True)
            panel.installEventFilter(self)
            if hasattr(panel, "viewport"):
                panel.viewport().installEventFilter(self)
            self.panels.append(panel)
        panel = self.panels[i]
        panel.layer = k
        cell = (i // self._cols, i % self._cols)
        if self._cells.get(id(panel)) != cell:  # re-adding re-lays out (repaints) them all
            self._grid.addWidget(panel, *cell)
            self._cells[id(panel)] = cell
        if isinstance(panel, _GLTile):
            self._draw_tile(panel, k)
        else:
            panel.set_scene(sc)
            panel.set_time(float(sc.frame_of_layer(k)))
        if not self._plan:
            self._step_timer.stop()

    def _draw_tile(self, tile: _GLTile, k: int) -> None:
        """Draw layer k of the 3-D scene into a tile with the shared hidden 3-D view."""
        sc = self._scene3
        if sc is None:
            return
        from nndyn_gui.render.view3d import LayerView3D

        w, h = self._area()
        rows = max(1, math.ceil(len(self._shown_layers) / max(1, self._cols)))
        side_w = max(40, int(w / max(1, self._cols)) - 2)
        side_h = max(40, int(h / rows) - 2)
        if self._renderer is None:
            # a hidden child, not a window of its own: it shares the GL context group of
            # the window's 3-D view (a separate hidden window's context did not, after
            # other windows had come and gone, and lost its point shader)
            self._renderer = LayerView3D(self, options=sc.options)
            self._renderer.compact_overlay = True
            self._renderer.hide()
        r = self._renderer
        if r.flow_scene() is not sc:
            _resize_hidden(r, side_w, side_h)
            r.set_scene(sc)
        if self._camera is not None:
            az, el, zoom = self._camera
            r.set_camera(az, el, zoom=zoom)
        else:
            r.reset_camera()
        t = float(sc.frame_of_layer(k))
        r.set_time(t)
        tile._t = t
        rgba = capture(r, side_w, side_h)
        img = QImage(rgba.data, side_w, side_h, 4 * side_w, QImage.Format.Format_RGBA8888)
        tile.setPixmap(QPixmap.fromImage(img.copy()))

    def eventFilter(self, obj: Any, ev: Any) -> bool:
        """A click on a tile: show that layer."""
        if ev.type() == QEvent.Type.MouseButtonPress and ev.button() == Qt.MouseButton.LeftButton:
            for p in self.panels:
                if obj is p or (hasattr(p, "viewport") and obj is p.viewport()):
                    self.layerClicked.emit(int(p.layer))
                    return True
        return False
