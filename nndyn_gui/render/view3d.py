"""The rotatable 3-D layer view for width-3 nets (head axes in 3-D for wider ones).

Same contract as LayerView2D, drawn with pyqtgraph.opengl: one scatter item per class,
the mesh as a single GL_LINES item, the final separating plane as a translucent polygon
clipped to the data box. The camera follows a smoothly interpolated box around the data
so nothing leaves the view while the net stretches space; the user's rotation and zoom
are kept (zoom as a factor on top of the automatic distance).

Hover and click work as in 2-D (render/picking.py): pyqtgraph.opengl has no picking,
so the view projects the points with its own matrices and takes the nearest on screen
(the front one wins a tie in depth only by chance: points that overlap on screen are
ambiguous, and the readout names the one it shows); the decision regions at the input
are found by casting the mouse ray onto their plane. A click (press and release
without moving) selects the point under it; a drag still turns the camera.

Needs OpenGL: under Qt's offscreen platform use LayerView2D (see views.make_layer_view).
The GL items it draws of a frame are render/view3d_items.py's; what it shares with the
2-D view, render/scene_view.py's.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pyqtgraph.opengl as gl
from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QPainter, QVector3D
from PySide6.QtWidgets import QWidget

from nndyn_gui.render import camera, picking
from nndyn_gui.render.axis_labels import place_axis_labels, place_corner_block
from nndyn_gui.render.costate_layer import CostateArtist3D
from nndyn_gui.render.density_layer import DensityArtist3D
from nndyn_gui.render.field_layer import FieldArtist3D
from nndyn_gui.render.palette import Palette, palette_for
from nndyn_gui.render.scene import FlowScene, FrameState, ViewOptions, box_corners
from nndyn_gui.render.scene_view import (
    SceneViewMixin,
    finite,
)
from nndyn_gui.render.view3d_items import SceneItems3D

DEFAULT_AZIMUTH = camera.DEFAULT_AZIMUTH
DEFAULT_ELEVATION = camera.DEFAULT_ELEVATION
FOV = 40.0
TITLE_PX, NOTE_PX = 14.0, 12.0  # overlay text at scale 1 (>= 12 px: legible)
HALL_FIT_MARGIN = 0.97  # exports and presentation: the box fills >= 80 % of the height


class LayerView3D(SceneViewMixin, gl.GLViewWidget):
    """Shows a 3-D FlowScene at time t; rotate by dragging, zoom with the wheel."""

    _DIMS = 3

    pointsSelected = Signal(object)  # rows of scene.points picked with a click
    cameraChanged = Signal()  # the user (or code) turned or zoomed the camera

    def __init__(self, parent: QWidget | None = None, options: ViewOptions | None = None) -> None:
        super().__init__(parent)
        self._scene: FlowScene | None = None
        self._options = options or ViewOptions()
        self._pal: Palette = palette_for(self._options.background)
        self._t = 0.0
        self._selection = np.zeros(0, dtype=np.int64)
        self._masks: list[np.ndarray] = []
        self._seg_flat = np.zeros(0, dtype=np.int64)
        self._zoom = 1.0
        self._follow = True
        self._fit: tuple[Any, float, np.ndarray] | None = None  # (key, distance, centre)
        self._camera_set = False  # reset_camera ran with a scene (angles fitted to its plane)
        self._user_moved = False  # the user turned or zoomed since the last reset
        #: a tile of "All layers": only the frame's name, no axis names or notes
        self.compact_overlay = False
        #: False: no layer name or notes in the picture (presentation writes them beside it)
        self.in_picture_text = True

        self._bounds = np.array([[-1.0, -1.0, -1.0], [1.0, 1.0, 1.0]])
        self._label = ""
        self._notice = ""
        self.opts["fov"] = FOV

        self.field = FieldArtist3D(self)  # velocity arrows and fixed points (show_field)
        self.density = DensityArtist3D(self)  # each class's density of fresh points
        #: per-layer overlays drawn from the scene at time t: (ViewOptions flag, artist);
        #: each has items / set_palette / hide / update(scene, st, bounds) / caption
        self.costate = CostateArtist3D(self)  # -∂loss/∂x_t at training points
        self.overlays: list[tuple[str, Any]] = [
            ("show_density", self.density),
            ("show_costate", self.costate),
        ]
        # hover: the trajectory under the mouse and a ring on it (made with the first
        # hover: SceneItems3D.place_hover says why)
        self.hover_path: Any = None
        self.hover_ring: Any = None
        self._hover: picking.Hover | None = None
        self._hover_px: tuple[float, float] | None = None
        self._press_px: tuple[float, float] | None = None
        # `drawn`, not `items`: GLViewWidget.items is its own list of every item
        it = self.drawn = SceneItems3D(
            self, more=[*self.field.items, *(i for _, a in self.overlays for i in a.items)]
        )
        self.regions_item, self.grid_item, self.box_item = it.regions, it.grid, it.box
        self.loop_item, self.wrong_item, self.tail_item = it.loop, it.wrong, it.tail
        self.class_items, self.selected_item, self.plane_item = it.classes, it.selected, it.plane
        self.reset_camera()
        self._apply_style()

    # ------------------------------------------------------------------ public API
    def set_notice(self, text: str) -> None:
        self._notice = text
        self.update()

    def set_scene(self, scene: FlowScene) -> None:
        """Show a new 3-D scene (2-D scenes belong in LayerView2D); keeps time and selection."""
        if scene.dims != 3:
            raise ValueError("LayerView3D needs a 3-D scene (width >= 3)")
        self._scene = scene
        self._options = scene.options
        self._pal = palette_for(self._options.background)
        self._masks = [np.flatnonzero(scene.labels == k) for k in range(len(self.class_items))]
        self._seg_flat = np.ascontiguousarray(scene.segments.ravel())
        self._selection = self._selection[self._selection < scene.points.shape[1]]
        self._t = min(self._t, scene.t_max)
        self._apply_style()  # with the scene's region image
        first = not self._camera_set
        self.set_time(self._t)
        if first:  # the first scene: look at its plane, not along it
            self.reset_camera()

    def reset_camera(self) -> None:
        """The default view: the plane at an angle (camera.default_angles), the box filling
        the frame, following the data."""
        self._zoom = 1.0
        self._follow = True
        self._user_moved = False
        normal = None
        if self._scene is not None:
            self._camera_set = True
            normal = self._scene.plane[0]
        az, el = camera.default_angles(normal)
        self.setCameraPosition(azimuth=az, elevation=el)
        self._fit = None
        self._frame(self._bounds)
        self.cameraChanged.emit()

    def set_camera(
        self,
        azimuth: float,
        elevation: float,
        distance: float | None = None,
        zoom: float | None = None,
    ) -> None:
        """Put the camera at these angles (degrees); `distance` in data units, or `zoom`
        times the distance that fits the box (neither: keep the zoom)."""
        self.setCameraPosition(azimuth=float(azimuth), elevation=float(elevation))
        self._fit = None  # the fit depends on the angles
        if zoom is not None:
            self._zoom = max(1e-3, float(zoom))
        if distance is not None:
            self._zoom = float(distance) / max(1e-6, self._fitted(self._bounds)[0])
        self._frame(self._bounds)
        self.cameraChanged.emit()

    def aim_unless_moved(self) -> bool:
        """Reset the camera to face the scene's plane, unless the user has moved it (a
        trained net's plane is not the untrained one's). True if it was reset."""
        if self._user_moved or self._scene is None:
            return False
        if camera.default_angles(self._scene.plane[0]) == self.camera()[:2] and self._zoom == 1:
            return False
        self.reset_camera()
        return True

    def zoom(self) -> float:
        """The user's zoom on top of the fitted distance (1 = the box fills the frame)."""
        return self._zoom

    def camera(self) -> tuple[float, float, float]:
        """(azimuth, elevation, distance) now in use."""
        return (
            float(self.opts["azimuth"]),
            float(self.opts["elevation"]),
            float(self.opts["distance"]),
        )

    def orbit(self, degrees: float, elev: float = 0.0) -> None:
        """Turn the camera around the data by `degrees` of azimuth (and `elev` of elevation)."""
        super().orbit(float(degrees), float(elev))

    def _show_frame(self, st: FrameState) -> None:
        sc = self._scene
        assert sc is not None
        o = self._options
        for k, it in enumerate(self.class_items):
            if o.show_points:
                it.setData(pos=finite(st.points[self._masks[k]]))
            it.setVisible(o.show_points and len(self._masks[k]) > 0)
        if o.show_grid:
            self.grid_item.setData(pos=finite(st.grid[self._seg_flat]))
        self.grid_item.setVisible(o.show_grid)
        it = self.drawn
        it.update_loop(st, sc, o)
        it.update_selection(st, sc, o, self._selection, self._pal, self._scale())
        self._bounds = finite(st.bounds)
        it.update_box(self._bounds)
        it.update_plane(st, sc, o, self._bounds, self._pal)
        it.update_regions(st, o)
        if o.show_field:
            self.field.update(sc, st, self._bounds)
        else:
            self.field.hide()
        for flag, artist in self.overlays:
            if getattr(o, flag):
                artist.update(sc, st, self._bounds)
            else:
                artist.hide()
        self._label = sc.layer_label(st.t)
        if self._follow:
            self._frame(self._bounds)
        self._follow_hover(st.t)
        self.update()

    # ------------------------------------------------------------------ camera
    def _fitted(self, bounds: np.ndarray) -> tuple[float, np.ndarray]:
        """(distance, centre) at which the box fills the view (camera.fit).

        Fitted for the angles in use when the box or the view's shape last changed, not
        at every frame: turning the camera by hand keeps its distance, as in any 3-D app.
        """
        aspect = max(1, self.height()) / max(1, self.width())
        key = (
            np.asarray(bounds, dtype=np.float64).tobytes(),
            round(aspect, 5),
            self._fit_margin(),
        )
        if self._fit is None or self._fit[0] != key:
            dist, centre = camera.fit(
                bounds,
                float(self.opts["azimuth"]),
                float(self.opts["elevation"]),
                float(self.opts["fov"]),
                aspect,
                self._fit_margin(),
            )
            self._fit = (key, dist, centre)
        return self._fit[1], self._fit[2]

    def _fit_margin(self) -> float:
        """Share of the half-frame the box's corners reach (camera.fit): more for a
        lecture hall (exports, presentation), whose words lie beside the picture."""
        return HALL_FIT_MARGIN if self._options.hall_text else camera.FIT_MARGIN

    def _frame(self, bounds: np.ndarray) -> None:
        dist, mid = self._fitted(bounds)
        self.opts["center"] = QVector3D(float(mid[0]), float(mid[1]), float(mid[2]))
        self.opts["distance"] = max(1e-6, dist) * self._zoom
        self.update()

    def resizeEvent(self, ev: Any) -> None:
        """Fit the box again for the new shape (presentation mode, a resized window)."""
        super().resizeEvent(ev)
        if self.__dict__.get("_fit") is not None:  # resizes arrive during __init__ too
            self._frame(self._bounds)

    def wheelEvent(self, ev: Any) -> None:
        super().wheelEvent(ev)
        self._zoom = self.opts["distance"] / max(1e-6, self._fitted(self._bounds)[0])
        self._user_moved = True
        self.cameraChanged.emit()

    def mouseDoubleClickEvent(self, ev: Any) -> None:
        self.reset_camera()

    # ------------------------------------------------------------------ hover, click
    def mvp(self, width: int = 0, height: int = 0) -> np.ndarray:
        """The (4, 4) model-view-projection matrix (row-major) for a width x height image
        (default: the widget as shown)."""
        vp = (0, 0, max(1, int(width or self.width())), max(1, int(height or self.height())))
        m = self.projectionMatrix(vp, vp) * self.viewMatrix()
        return np.array(m.copyDataTo(), dtype=np.float64).reshape(4, 4)

    def _under(self, x: float, y: float) -> picking.Hover | None:
        sc = self._scene
        if sc is None:
            return None
        st = sc.at(self._t)
        mvp, w, h = self.mvp(), self.width(), self.height()
        if self._options.show_points:
            j = picking.nearest_on_screen(
                picking.project(st.points, mvp, w, h), (x, y), picking.POINT_TOLERANCE_PX
            )
            if j is not None:
                return picking.describe(sc, st.t, "point", j)
        if self._options.show_grid and len(st.grid):
            j = picking.nearest_on_screen(
                picking.project(st.grid, mvp, w, h), (x, y), picking.VERTEX_TOLERANCE_PX
            )
            if j is not None:
                return picking.describe(sc, st.t, "vertex", j)
        if st.t == 0.0:  # the input plane, where the decision regions are drawn
            uv = picking.ray_plane(mvp, w, h, (x, y), sc.region_affine)
            if uv is not None and np.all(np.abs(uv) <= 1.0):
                y3 = sc.region_affine @ np.array([uv[0], uv[1], 1.0])
                return picking.describe_region(sc, 0.0, y3)
        return None

    def hover_at_pixel(self, x: float, y: float) -> picking.Hover | None:
        """Show what is under widget pixel (x, y) (what moving the mouse there does)."""
        hover = self._under(x, y)
        self._show_hover(hover, (x, y))
        return hover

    def pick_at_pixel(self, x: float, y: float, add: bool = False) -> np.ndarray:
        """Select the point under widget pixel (x, y) (a click; empty space clears)."""
        sc = self._scene
        hit = np.zeros(0, dtype=np.int64)
        if sc is not None and self._options.show_points:
            st = sc.at(self._t)
            j = picking.nearest_on_screen(
                picking.project(st.points, self.mvp(), self.width(), self.height()),
                (x, y),
                picking.POINT_TOLERANCE_PX,
            )
            if j is not None:
                hit = np.array([j], dtype=np.int64)
        sel = np.union1d(self._selection, hit) if add else hit
        self.set_selection(sel)
        self.pointsSelected.emit(self.selection())
        return self.selection()

    def _follow_hover(self, t: float) -> None:
        h, sc = self._hover, self._scene
        if h is None or sc is None:
            return
        if h.kind == "region":
            self.clear_hover()
            return
        n = sc.points.shape[1] if h.kind == "point" else sc.grid.shape[1]
        if h.row >= n:
            self.clear_hover()
            return
        self._show_hover(picking.describe(sc, t, h.kind, h.row), self._hover_px)

    def _show_hover(self, hover: picking.Hover | None, px: tuple[float, float] | None) -> None:
        self._hover = hover
        self._hover_px = px
        if hover is not None or self.hover_path is not None:
            self.drawn.place_hover(self, hover, self._pal, self._options.point_size)
            self.hover_path, self.hover_ring = self.drawn.hover_path, self.drawn.hover_ring
        self.update()

    def mousePressEvent(self, ev: Any) -> None:
        p = ev.position()
        self._press_px = (p.x(), p.y())
        super().mousePressEvent(ev)

    def mouseMoveEvent(self, ev: Any) -> None:
        p = ev.position()
        if ev.buttons() == Qt.MouseButton.NoButton:
            self.hover_at_pixel(p.x(), p.y())
            return
        if self._hover is not None:
            self.clear_hover()
        super().mouseMoveEvent(ev)  # a drag turns the camera
        self._user_moved = True
        self.cameraChanged.emit()

    def mouseReleaseEvent(self, ev: Any) -> None:
        super().mouseReleaseEvent(ev)
        p, press = ev.position(), self._press_px
        self._press_px = None
        click = press is not None and abs(p.x() - press[0]) + abs(p.y() - press[1]) < 4
        if ev.button() == Qt.MouseButton.LeftButton and click:  # a click, not a turn
            add = bool(ev.modifiers() & Qt.KeyboardModifier.ControlModifier)
            self.pick_at_pixel(p.x(), p.y(), add)

    def showEvent(self, ev: Any) -> None:
        # moves without a button pressed reach us only with tracking on; set here, not
        # in __init__: on a widget never shown (an export's view) it made Mesa fail to
        # create the region texture when the capture resized it
        super().showEvent(ev)
        self.setMouseTracking(True)

    def paint_hover(self, painter: QPainter) -> None:
        """The hover readout next to the mouse (on screen only: exports leave it out)."""
        hover, px = self._hover, self._hover_px
        if hover is None:
            return
        if px is None:
            pts = picking.project(hover.coords[None, :3], self.mvp(), self.width(), self.height())
            px = (float(pts[0, 0]), float(pts[0, 1]))
        if not (np.isfinite(px[0]) and np.isfinite(px[1])):
            return
        font = QFont()
        font.setPointSizeF(9.0)
        painter.setFont(font)
        metrics = painter.fontMetrics()
        lines = hover.text.split("\n")
        tw = max(metrics.horizontalAdvance(line) for line in lines) + 12
        th = metrics.lineSpacing() * len(lines) + 8
        x, y = px[0] + 14, px[1] + 14
        if x + tw > self.width():
            x = px[0] - 14 - tw
        if y + th > self.height():
            y = px[1] - 14 - th
        x, y = max(0.0, x), max(0.0, y)
        painter.setPen(QColor(120, 120, 120, 200))
        painter.setBrush(QColor(255, 255, 255, 235))
        painter.drawRoundedRect(QRectF(x, y, tw, th), 4, 4)
        painter.setPen(QColor(30, 30, 30))
        for i, line in enumerate(lines):
            painter.drawText(
                QPointF(x + 6, y + 4 + metrics.ascent() + i * metrics.lineSpacing()), line
            )

    def _apply_style(self) -> None:
        self.setBackgroundColor(QColor(*self._pal.background))
        self.drawn.apply_style(self._pal, self._options, self._scale())
        self.field.set_palette(self._pal, self._scale())
        for _flag, artist in self.overlays:
            artist.set_palette(self._pal, self._scale())
        if self._scene is not None:
            self.drawn.set_regions_image(self._scene, self._pal)

    # ------------------------------------------------------------------ text overlay
    def project_points(self, pts: np.ndarray, width: int, height: int) -> np.ndarray:
        """Screen pixel positions (N, 2) of 3-D points for a width x height image."""
        return picking.project(pts, self.mvp(width, height), int(width), int(height))

    def overlay_texts(self, width: int, height: int) -> list[tuple[float, float, str, str]]:
        """(x, y, text, kind) drawn over the GL image: layer label, axis names, notice."""
        out: list[tuple[float, float, str, str]] = []
        sc = self._scene
        if sc is None:
            return out
        k = self._text_scale()
        if self.compact_overlay:
            name = sc.frame_labels[round(min(max(self._t, 0.0), sc.t_max))]
            return [(4.0 * k, (NOTE_PX + 4.0) * k, name, "title")]
        block = self._caption_block(sc, width, height)
        for x, y, text, kind in block[0]:
            out.append((x, y, text, kind))
        if self.field.labels:
            pts = np.array([y for y, _ in self.field.labels])
            for (x, y), (_, kind) in zip(
                self.project_points(pts, width, height), self.field.labels, strict=True
            ):
                if np.isfinite(x) and np.isfinite(y):
                    out.append((float(x) + 9 * k, float(y) - 6 * k, f"fixed point: {kind}", "note"))
        out.extend(self._axis_texts(sc, width, height, block[1]))
        if self._notice:
            out.append((8.0 * k, height - 10.0 * k, self._notice, "notice"))
        return out

    def _font(self, kind: str) -> QFont:
        """The overlay's font for a text of this kind (title, note, axis, notice)."""
        font = QFont()
        px = TITLE_PX if kind == "title" and not self.compact_overlay else NOTE_PX
        font.setPixelSize(max(6, round(px * self._text_scale())))
        font.setBold(kind in ("title", "notice"))
        return font

    def _caption_block(
        self, sc: FlowScene, width: int, height: int
    ) -> tuple[list[tuple[float, float, str, str]], list[tuple[float, float, float, float]]]:
        """The layer's name, its note and the field's caption as one block in an image
        corner clear of the box and the data (render/axis_labels.place_corner_block);
        none when `in_picture_text` is off. Returns the texts and the block's rectangle."""
        if not self.in_picture_text:
            return [], []
        lines = [(self._label, "title")]
        captions = [self.field.caption] + [a.caption for _, a in self.overlays]
        lines += [(t, "note") for t in (sc.view_note(self._t), *captions) if t]
        metrics = [QFontMetricsF(self._font(kind)) for _, kind in lines]
        w = max(fm.horizontalAdvance(t) for (t, _), fm in zip(lines, metrics, strict=True))
        h = sum(fm.lineSpacing() for fm in metrics)
        k = self._text_scale()
        corners = self.project_points(box_corners(self._bounds), width, height)
        t = self._t
        rect = place_corner_block(
            corners,
            (w + 2.0, h),
            width,
            height,
            lambda: self.project_points(finite(sc.at(t).points), width, height),
            pad=8.0 * k,
        )
        out, y = [], rect[1]
        for (text, kind), fm in zip(lines, metrics, strict=True):
            out.append((rect[0], y + fm.ascent(), text, kind))
            y += fm.lineSpacing()
        return out, [rect]

    def axis_label_rects(
        self, width: int, height: int, taken: Sequence[tuple[float, float, float, float]] = ()
    ) -> list[tuple[str, QRectF]]:
        """(name, rectangle in pixels) of each axis name for a width x height image:
        beside the box's edges, clear of the box and the data (render/axis_labels.py)."""
        sc = self._scene
        if sc is None or self.compact_overlay:
            return []
        names = [n for n in sc.axis_labels(self._t)[:3]]
        if not any(names):
            return []
        fm = QFontMetricsF(self._font("axis"))
        sizes = [(fm.horizontalAdvance(n) + 2.0, fm.height()) for n in names]
        corners = self.project_points(box_corners(self._bounds), width, height)
        t = self._t

        def data_px() -> np.ndarray:
            return self.project_points(finite(sc.at(t).points), width, height)

        k = self._text_scale()
        if not taken:
            taken = self._caption_block(sc, width, height)[1]
        rects = place_axis_labels(corners, sizes, width, height, data_px, 4.0 * k, taken)
        return [(n, QRectF(*r)) for n, r in zip(names, rects, strict=True) if n and r is not None]

    def _axis_texts(
        self, sc: FlowScene, width: int, height: int, taken: Sequence[Any] = ()
    ) -> list[tuple[float, float, str, str]]:
        fm = QFontMetricsF(self._font("axis"))
        return [
            (r.left() + 1.0, r.top() + fm.ascent(), name, "axis")
            for name, r in self.axis_label_rects(width, height, taken)
        ]

    def paint_overlay(self, painter: QPainter, width: int, height: int) -> None:
        """Draw the overlay texts; used on screen and by views.capture."""
        painter.setRenderHint(QPainter.RenderHint.TextAntialiasing)
        for x, y, text, kind in self.overlay_texts(width, height):
            painter.setFont(self._font(kind))
            color = self._pal.wrong if kind == "notice" else self._pal.foreground
            painter.setPen(QColor(*color))
            painter.drawText(QPointF(x, y), text)

    def paintGL(self) -> None:
        super().paintGL()
        painter = QPainter(self)
        try:
            self.paint_overlay(painter, self.width(), self.height())
            self.paint_hover(painter)
        finally:
            painter.end()

    def keyPressEvent(self, ev: Any) -> None:
        if ev.key() == Qt.Key.Key_R:
            self.reset_camera()
            return
        super().keyPressEvent(ev)
