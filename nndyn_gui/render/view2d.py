"""The 2-D layer view: data, deformed grid, loop and separating line at layer t.

Items are created once per scene and updated in place with `setData` while the time
slider moves, which is what keeps the animation above 30 frames/s with thousands of
points (rebuilding items or per-point brushes is several times slower). Works without
OpenGL, so it is also the fallback for width-3 nets and for headless exports. Wider
nets are drawn on the head axes (scene.FlowScene): the line drawn at the output is
exactly the net's boundary, so a point's side of it is the net's prediction.

Selection: click picks the nearest point (within 8 px; empty space clears), shift+drag
selects a rectangle, ctrl+click / ctrl+shift+drag add to the selection. The view follows
the data (smoothly moving box) until the user pans or zooms; double click follows again.
What it shares with the 3-D view is render/scene_view.py; its mouse gestures are read by
render/view2d_mouse.py.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, Signal
from PySide6.QtGui import QColor, QFont, QPen, QTransform
from PySide6.QtWidgets import QGraphicsTextItem, QWidget

from nndyn_gui.core.config import MAX_CLASSES
from nndyn_gui.render import picking
from nndyn_gui.render.costate_layer import CostateArtist2D
from nndyn_gui.render.density_layer import DensityArtist2D
from nndyn_gui.render.field_layer import LATTICE_COMPACT, FieldArtist2D
from nndyn_gui.render.palette import Palette, palette_for
from nndyn_gui.render.scene import FlowScene, FrameState, ViewOptions
from nndyn_gui.render.scene_view import (
    MAX_TRAJECTORIES,
    TAIL_BUCKETS,
    SceneViewMixin,
    _spread,
    finite,
    tail_segments,
)
from nndyn_gui.render.view2d_mouse import _Scatter, _SelectViewBox, _Tip

CLICK_TOLERANCE_PX = 8.0
PLANE_REACH = 50.0  # the separating line is clipped to the view box grown by this factor
LABEL_PX, NOTE_PX, AXIS_PX, COMPACT_PX = 14, 12, 12, 12  # px at ViewOptions.scale 1 (>= 12)
DRAW_FRAME = np.array([[-1.08, -1.08], [1.08, 1.08]])  # what draw mode shows: the input box
DRAW_POINT_SIZE = 11.0  # draw mode: points at least this big (px at scale 1; default 5)


class LayerView2D(SceneViewMixin, pg.PlotWidget):
    """Shows a FlowScene at time t in 2-D (on the head axes when the net is wider than 2)."""

    _DIMS = 2

    #: np.ndarray of rows of scene.points (dataset rows: scene.indices[rows])
    pointsSelected = Signal(object)
    #: draw mode: kind ("begin" | "add" | "erase" | "erase_one" | "end"), x, y (input
    #: coordinates: drawing happens at the input layer), view units per screen pixel
    drawEdit = Signal(str, float, float, float)

    def __init__(
        self,
        parent: QWidget | None = None,
        options: ViewOptions | None = None,
        compact: bool = False,
    ) -> None:
        self._vb = _SelectViewBox()
        super().__init__(parent=parent, viewBox=self._vb)
        self._scene: FlowScene | None = None
        self._options = options or ViewOptions()
        self._pal: Palette = palette_for(self._options.background)
        self._t = 0.0
        self._selection = np.zeros(0, dtype=np.int64)
        self._compact = compact
        self._auto_range = True
        self._masks: list[np.ndarray] = []
        self._seg_flat = np.zeros(0, dtype=np.int64)
        self._notice = ""
        self._last_label = ""
        self._axes_shown: tuple[str, ...] = ()
        self._regions_palette = ""
        self._style_key: tuple[Any, ...] = ()

        pi = self.getPlotItem()
        pi.setAspectLocked(True)
        for name in ("left", "bottom"):
            pi.getAxis(name).enableAutoSIPrefix(False)  # else "x2 (x0.001)" on some ranges
        pi.hideButtons()
        pi.setMenuEnabled(False)
        self._vb.sigPick.connect(self._on_pick)
        self._vb.sigPickRect.connect(self._on_pick_rect)
        self._vb.sigDraw.connect(self._on_draw)
        self._vb.sigRangeChangedManually.connect(self._on_manual_range)
        self._vb.sigReset.connect(self.reset_view)

        self.regions_item = pg.ImageItem(axisOrder="row-major")
        self.regions_item.setZValue(-20)
        self.grid_item = pg.PlotCurveItem(connect="pairs", antialias=False)
        self.grid_item.setZValue(-10)
        self.loop_item = pg.PlotCurveItem(antialias=True)
        self.loop_item.setZValue(5)
        self.tail_items = [pg.PlotCurveItem(connect="pairs") for _ in range(TAIL_BUCKETS)]
        self.trail_items = [pg.PlotCurveItem(connect="pairs") for _ in range(TAIL_BUCKETS)]
        for it in self.tail_items:
            it.setZValue(8)
        for it in self.trail_items:
            it.setZValue(7)
        self.class_items = [_Scatter(pen=None) for _ in range(MAX_CLASSES)]
        for i, it in enumerate(self.class_items):
            it.setZValue(10 + i)
        self.wrong_item = _Scatter(symbol="x")
        self.wrong_item.setZValue(14)
        self.selected_item = _Scatter()
        self.selected_item.setZValue(20)
        self.plane_item = pg.PlotCurveItem(antialias=True)
        self.plane_item.setZValue(25)
        for it in (
            self.regions_item,
            self.grid_item,
            self.loop_item,
            *self.tail_items,
            *self.trail_items,
            *self.class_items,
            self.wrong_item,
            self.selected_item,
        ):
            pi.addItem(it)
        pi.addItem(self.plane_item, ignoreBounds=True)
        self.field = FieldArtist2D(pi)  # velocity arrows and fixed points (show_field)
        self.density = DensityArtist2D(pi)  # each class's density of fresh points
        #: per-layer overlays drawn from the scene at time t: (ViewOptions flag, artist);
        #: each has set_palette / hide / update(scene, st, bounds) / caption
        self.costate = CostateArtist2D(pi)  # -∂loss/∂x_t at training points
        self.overlays: list[tuple[str, Any]] = [
            ("show_density", self.density),
            ("show_costate", self.costate),
        ]
        # draw mode: the stroke being drawn (added points per class, points to remove)
        self.draw_items = [_Scatter(pen=None) for _ in range(MAX_CLASSES)]
        self.erase_item = _Scatter(symbol="x")
        for it in (*self.draw_items, self.erase_item):
            it.setZValue(30)
            it.hide()
            pi.addItem(it, ignoreBounds=True)

        # hover: the readout, a ring on the item under the mouse and its whole trajectory
        self._hover: picking.Hover | None = None
        self.hover_path = pg.PlotCurveItem(antialias=True)
        self.hover_path.setZValue(26)
        self.hover_ring = _Scatter()
        self.hover_ring.setZValue(27)
        for it in (self.hover_path, self.hover_ring):
            it.hide()
            pi.addItem(it, ignoreBounds=True)
        self.hover_tip = _Tip()
        self.hover_tip.setParentItem(self._vb)
        self.hover_tip.setZValue(2e6)
        self.hover_tip.setDefaultTextColor(QColor(30, 30, 30))
        self.hover_tip.hide()
        if not compact:
            self.scene().sigMouseMoved.connect(self._on_mouse_moved)

        #: the layer's name, note and field caption: in a band above the plot (never over
        #: the data or the boundary line); a tile of All layers keeps it in its corner
        self.label_item = QGraphicsTextItem()
        self.label_item.setParentItem(self._vb if compact else pi)
        self.label_item.setPos(4, 2)
        self.label_item.setZValue(1e6)
        self._band = -1.0  # the label band's height now reserved above the plot
        #: False: no label in the picture (presentation mode writes it beside the view)
        self.in_picture_text = True
        self.notice_item = QGraphicsTextItem()
        self.notice_item.setParentItem(self._vb)
        self.notice_item.setZValue(1e6)
        self._vb.sigResized.connect(self._place_notice)
        if compact:
            pi.hideAxis("left")
            pi.hideAxis("bottom")
            self._vb.setMouseEnabled(False, False)
            self._vb.selecting_enabled = False
        self._apply_style()

    # ------------------------------------------------------------------ public API
    def set_scene(self, scene: FlowScene) -> None:
        """Show a new scene (new weights or data); keeps time and selection when they fit."""
        if scene.dims != 2:
            scene = scene.projected_2d()
        self._scene = scene
        self._options = scene.options
        self._pal = palette_for(self._options.background)
        self._masks = [np.flatnonzero(scene.labels == k) for k in range(len(self.class_items))]
        self._seg_flat = np.ascontiguousarray(scene.segments.ravel())
        self._selection = self._selection[self._selection < scene.points.shape[1]]
        self._set_regions_image()
        if self._style_key != self._wanted_style():
            self._apply_style()  # restyling every item costs ~7 ms: only when it changed
        self._t = min(self._t, scene.t_max)
        self._last_label = ""
        self.set_time(self._t)

    def set_notice(self, text: str) -> None:
        """A short message in the bottom-left corner (e.g. why 3-D is not shown)."""
        self._notice = text
        self._style_notice()

    def reset_view(self) -> None:
        """Go back to following the data (after the user panned or zoomed)."""
        self._auto_range = True
        self.set_time(self._t)

    def _show_frame(self, st: FrameState) -> None:
        o = self._options
        for k, it in enumerate(self.class_items):
            if o.show_points:
                p = finite(st.points[self._masks[k]])
                it.setData(x=p[:, 0], y=p[:, 1])
            it.setVisible(o.show_points and len(self._masks[k]) > 0)
        if o.show_grid:
            v = finite(st.grid[self._seg_flat])
            self.grid_item.setData(x=v[:, 0], y=v[:, 1], connect="pairs")
        self.grid_item.setVisible(o.show_grid)
        self._update_loop(st)
        self._update_selection(st)
        self._update_regions(st)
        if self._vb.drawing:  # the whole input square, however few points there are
            self._frame(DRAW_FRAME)
        elif self._auto_range:
            self._frame(st.bounds)
        self._update_plane(st)
        self._update_field(st)
        self._update_overlays(st)
        self._update_label(st)
        self._follow_hover(st.t)

    def resizeEvent(self, ev: Any) -> None:
        """Re-frame after a resize: a hidden widget's ViewBox forgets the target range."""
        super().resizeEvent(ev)
        sc = self.__dict__.get("_scene")  # resizes arrive during PlotWidget.__init__ too
        if sc is not None and (self._auto_range or self._vb.drawing):
            st = sc.at(self._t)
            self._frame(DRAW_FRAME if self._vb.drawing else st.bounds)
            self._update_plane(st)
            self._update_field(st)

    # ------------------------------------------------------------------ pieces
    def _frame(self, bounds: np.ndarray) -> None:
        b = finite(bounds)
        self._vb.setRange(
            xRange=(float(b[0, 0]), float(b[1, 0])),
            yRange=(float(b[0, 1]), float(b[1, 1])),
            padding=0.0,
            update=True,
        )

    def _update_loop(self, st: FrameState) -> None:
        sc = self._scene
        show = bool(self._options.show_loop and st.loop is not None and sc is not None)
        self.loop_item.setVisible(show)
        self.wrong_item.setVisible(show)
        if not show or st.loop is None or sc is None:
            return
        lp = finite(st.loop)
        closed = np.concatenate([lp, lp[:1]])
        self.loop_item.setData(x=closed[:, 0], y=closed[:, 1])
        bad = lp[sc.loop_wrong]
        self.wrong_item.setData(x=bad[:, 0], y=bad[:, 1])

    def _update_selection(self, st: FrameState) -> None:
        sc = self._scene
        assert sc is not None
        o = self._options
        sel = self._selection
        if len(sel):
            p = finite(st.points[sel])
            self.selected_item.setData(x=p[:, 0], y=p[:, 1])
        self.selected_item.setVisible(bool(len(sel)))
        tail = float(o.tail_length) * sc.frames_per_layer
        others = np.zeros(0, dtype=np.int64)
        if o.show_trajectories:
            others = np.setdiff1d(_spread(sc.points.shape[1], MAX_TRAJECTORIES), sel)
        for items, rows in ((self.tail_items, sel), (self.trail_items, others)):
            parts = tail_segments(sc, st.t, rows, tail, TAIL_BUCKETS)
            for it, seg in zip(items, parts, strict=True):
                if len(seg):
                    seg = finite(seg)
                    it.setData(x=seg[:, 0], y=seg[:, 1], connect="pairs")
                it.setVisible(bool(len(seg)))

    def _update_regions(self, st: FrameState) -> None:
        a = st.regions_opacity if self._options.show_regions else 0.0
        self.regions_item.setOpacity(a)
        self.regions_item.setVisible(a > 0.0)

    def _update_plane(self, st: FrameState) -> None:
        sc = self._scene
        a = st.plane_opacity if self._options.show_plane else 0.0
        seg = None
        if a > 0.0 and sc is not None:
            vr = self._vb.viewRange()
            lo = np.array([vr[0][0], vr[1][0]])
            hi = np.array([vr[0][1], vr[1][1]])
            mid, half = 0.5 * (lo + hi), 0.5 * (hi - lo) * PLANE_REACH
            box = np.stack([mid - half, mid + half])
            seg = sc.plane_segment(box) if sc.classes == 2 else _pairs(sc.class_borders(box))
        if seg is not None:
            self.plane_item.setData(x=seg[:, 0], y=seg[:, 1], connect="pairs")
            self.plane_item.setOpacity(a)
        self.plane_item.setVisible(seg is not None)

    def field_bounds(self) -> np.ndarray:
        """The box the field's arrows cover: the visible range, (2, 2) lo / hi."""
        vr = self._vb.viewRange()
        return np.array([[vr[0][0], vr[1][0]], [vr[0][1], vr[1][1]]], dtype=np.float64)

    def _update_field(self, st: FrameState) -> None:
        sc = self._scene
        if not self._options.show_field or sc is None:
            self.field.hide()
            return
        if self._compact:  # a small panel: fewer arrows, around the data only
            self.field.update(sc, st, finite(st.bounds), LATTICE_COMPACT)
        else:
            self.field.update(sc, st, self.field_bounds())

    def _update_overlays(self, st: FrameState) -> None:
        sc = self._scene
        for flag, artist in self.overlays:
            if getattr(self._options, flag) and sc is not None:
                artist.update(sc, st, finite(st.bounds))
            else:
                artist.hide()

    def captions(self) -> str:
        """The captions of the layers drawn over the data (field, density, ...), one line."""
        parts = [self.field.caption] + [a.caption for _, a in self.overlays]
        return " · ".join(p for p in parts if p)

    def _update_label(self, st: FrameState) -> None:
        sc = self._scene
        assert sc is not None
        text = sc.layer_label(st.t)
        note = sc.view_note(st.t)
        caption = "" if self._compact else self.captions()
        axes = sc.axis_labels(st.t)
        key = f"{text}|{note}|{axes}|{caption}|{self.in_picture_text}"
        if key == self._last_label:
            return
        self._last_label = key
        if not self._compact and axes != self._axes_shown:  # a new label re-lays out the plot
            self._axes_shown = axes
            pi = self.getPlotItem()
            size = {"font-size": f"{round(AXIS_PX * self._text_scale())}px"}
            pi.setLabel("bottom", axes[0], **size)
            pi.setLabel("left", axes[1], **size)
        if not self._compact and not self.in_picture_text:
            self.label_item.setHtml("")
            self._reserve_band(0.0)
            return
        fg = QColor(*self._pal.foreground)
        html = f"<b>{_esc(st.label)}</b>"
        if not self._compact:
            veil = ""
            if caption:  # over a field of arrows the text lies on a veil of the background
                r, g, b, _a = self._pal.background
                veil = f"background-color: #d2{r:02x}{g:02x}{b:02x}"  # Qt's #AARRGGBB
            html = f"<b style='{veil}'>{_esc(text)}</b>"
            px = round(NOTE_PX * self._text_scale())
            for line in (note, caption):
                if line:
                    html += f"<br/><span style='font-size:{px}px; {veil}'>{_esc(line)}</span>"
        self.label_item.setDefaultTextColor(fg)
        self.label_item.setHtml(html)
        if not self._compact:
            self._reserve_band(self.label_item.boundingRect().height())

    def _reserve_band(self, height: float) -> None:
        """Keep `height` px free above the plot for the label (a re-layout of the plot
        only when the label's height changes: a new note, caption or size, not a step)."""
        if abs(height - self._band) < 0.5:
            return
        self._band = height
        left, _top, right, bottom = self.getPlotItem().layout.getContentsMargins()
        top = height if height > 0 else 1.0
        self.getPlotItem().layout.setContentsMargins(left, top, right, bottom)

    def _set_regions_image(self) -> None:
        sc = self._scene
        if sc is None:
            return
        img = sc.region_image(self._pal)
        self._regions_palette = self._pal.name
        self.regions_item.setImage(img, autoLevels=False, levels=None)
        h, w = sc.regions.shape[:2]
        x0, x1, y0, y1 = sc.region_extent
        a = sc.region_affine  # (2, 3): input (u, v, 1) -> view
        su, sv = (x1 - x0) / w, (y1 - y0) / h
        m = np.array([[a[0, 0] * su, a[0, 1] * sv], [a[1, 0] * su, a[1, 1] * sv]])
        off = a[:, 2] + a[:, 0] * x0 + a[:, 1] * y0
        tr = QTransform(m[0, 0], m[1, 0], m[0, 1], m[1, 1], off[0], off[1])
        self.regions_item.setTransform(tr)

    def _wanted_style(self) -> tuple[Any, ...]:
        return (self._pal.name, self._point_size(), self._scale())

    def _point_size(self) -> float:
        """The points' size: at least DRAW_POINT_SIZE while drawing (seen from a projector)."""
        size = self._options.point_size
        return max(size, DRAW_POINT_SIZE) if self._vb.drawing else size

    def _apply_style(self) -> None:
        pal = self._pal
        ps = self._point_size()
        k_px = self._scale()
        self._style_key = self._wanted_style()
        bg = pal.background
        self.setBackground(None if bg[3] == 0 else QColor(*bg))
        self.viewport().setAutoFillBackground(bg[3] != 0)
        fg = QColor(*pal.foreground)
        pi = self.getPlotItem()
        tick_font = QFont()
        tick_px = max(6, round(AXIS_PX * self._text_scale()))
        tick_font.setPixelSize(tick_px)
        for name in ("left", "bottom"):
            ax = pi.getAxis(name)
            ax.setPen(pg.mkPen(fg, width=k_px))
            ax.setTextPen(pg.mkPen(fg))
            ax.setTickFont(tick_font)
            ax.label.document().setDocumentMargin(2.0 * self._text_scale())  # not 4 px fixed
            # the room for tick text only ever grows (from 30 x 18 px): start it from this
            # font's, so a small export is the big one shrunk, not a wider margin
            ax.textWidth, ax.textHeight = round(1.5 * tick_px), round(1.1 * tick_px)
            ax.setStyle(
                tickLength=round(-5 * k_px),
                tickTextOffset=round(3 * k_px),
            )
        self._axes_shown = ()  # labels again, at the new size
        label_font = QFont()
        text_k = self._scale() if self._compact else self._text_scale()
        label_font.setPixelSize(max(6, round((COMPACT_PX if self._compact else LABEL_PX) * text_k)))
        self.label_item.setFont(label_font)
        self.label_item.document().setDocumentMargin(2.0 * text_k)  # grows with the text
        self.label_item.setPos(4 * k_px, 2 * k_px if self._compact else 0.0)
        for k, it in enumerate(self.class_items):
            it.setBrush(pg.mkBrush(*pal.class_color(k, 210)))
            it.setPen(None)
            it.setSize(ps * k_px)
        self.grid_item.setPen(pg.mkPen(QColor(*pal.grid), width=1 * k_px))
        self.loop_item.setPen(pg.mkPen(QColor(*pal.loop), width=2.5 * k_px))
        self.wrong_item.setPen(pg.mkPen(QColor(*pal.wrong), width=2 * k_px))
        self.wrong_item.setBrush(pg.mkBrush(*pal.wrong))
        self.wrong_item.setSize(max(7.0, ps + 3) * k_px)
        sel_pen = pg.mkPen(QColor(*pal.selection), width=2 * k_px)
        self.selected_item.setPen(sel_pen)
        self.selected_item.setBrush(pg.mkBrush(0, 0, 0, 0))
        self.selected_item.setSize((ps + 6) * k_px)
        for k, it in enumerate(self.draw_items):
            it.setBrush(pg.mkBrush(*pal.class_color(k, 255)))
            it.setSize((ps + 3) * k_px)
        self.erase_item.setPen(pg.mkPen(QColor(*pal.wrong), width=2 * k_px))
        self.erase_item.setBrush(pg.mkBrush(*pal.wrong))
        self.erase_item.setSize((ps + 5) * k_px)
        r, g, b, _ = pal.selection
        tr, tg, tb, ta = pal.trails
        for i, it in enumerate(self.tail_items):
            fade = 1.0 - i / TAIL_BUCKETS
            it.setPen(pg.mkPen(QColor(r, g, b, int(230 * fade + 20)), width=1.5 * k_px))
            trail = QColor(tr, tg, tb, int(ta * fade + 10))
            self.trail_items[i].setPen(pg.mkPen(trail, width=1 * k_px))
        pen = QPen(QColor(*pal.plane))
        pen.setWidthF(2.5 * k_px)
        pen.setCosmetic(True)
        self.plane_item.setPen(pen)
        self.field.set_palette(pal, k_px)
        for _flag, artist in self.overlays:
            artist.set_palette(pal, k_px)
        self._last_label = ""
        self._style_notice()
        if self._scene is not None and self._regions_palette != pal.name:
            self._set_regions_image()

    def _style_notice(self) -> None:
        font = QFont()
        font.setPixelSize(max(6, round(NOTE_PX * self._text_scale())))
        self.notice_item.setFont(font)
        self.notice_item.setDefaultTextColor(QColor(*self._pal.wrong))
        self.notice_item.setHtml(f"<b>{_esc(self._notice)}</b>" if self._notice else "")
        self._place_notice()

    def _place_notice(self, *_: object) -> None:
        h = self._vb.boundingRect().height()
        self.notice_item.setPos(4, max(0.0, h - self.notice_item.boundingRect().height() - 2))

    # ------------------------------------------------------------------ interaction
    def _on_manual_range(self, *_: object) -> None:
        self._auto_range = False
        if self._options.show_field and self._scene is not None:  # arrows cover the new box
            self._update_field(self._scene.at(self._t))

    def _pixel_coords(self, pts: np.ndarray) -> np.ndarray:
        px, py = self._vb.viewPixelSize()
        return pts / np.array([max(px, 1e-12), max(py, 1e-12)])

    def _on_pick(self, pos: QPointF, add: bool) -> None:
        sc = self._scene
        if sc is None:
            return
        pts = sc.at(self._t).points
        vis = self._visible_rows()
        hit = np.zeros(0, dtype=np.int64)
        if len(vis):
            d = self._pixel_coords(pts[vis]) - self._pixel_coords(np.array([[pos.x(), pos.y()]]))
            dist = np.hypot(d[:, 0], d[:, 1])
            j = int(np.argmin(dist))
            if dist[j] <= CLICK_TOLERANCE_PX:
                hit = vis[j : j + 1]
        sel = np.union1d(self._selection, hit) if add else hit
        self.set_selection(sel)
        self.pointsSelected.emit(self.selection())

    def _on_pick_rect(self, rect: QRectF, add: bool) -> None:
        sc = self._scene
        if sc is None:
            return
        pts = sc.at(self._t).points
        vis = self._visible_rows()
        p = pts[vis]
        inside = (
            (p[:, 0] >= rect.left())
            & (p[:, 0] <= rect.right())
            & (p[:, 1] >= rect.top())
            & (p[:, 1] <= rect.bottom())
        )
        hit = vis[inside]
        sel = np.union1d(self._selection, hit) if add else hit
        self.set_selection(sel)
        self.pointsSelected.emit(self.selection())

    # ------------------------------------------------------------------ hover
    def hover_at(self, x: float, y: float) -> picking.Hover | None:
        """Show what is at view position (x, y): a point, else a grid vertex (both
        within a few pixels), else the regions' probability where it is exact (while
        drawing: a point only)."""
        sc = self._scene
        if sc is None or self._compact:
            return None
        st = sc.at(self._t)
        at = self._pixel_coords(np.array([[x, y]]))[0]
        hover = None
        rows = self._visible_rows()
        if len(rows):
            j = picking.nearest_on_screen(
                self._pixel_coords(st.points[rows]), (at[0], at[1]), picking.POINT_TOLERANCE_PX
            )
            if j is not None:
                hover = picking.describe(sc, st.t, "point", int(rows[j]))
        if self._vb.drawing:  # a point only: a readout following the pen would hide the canvas
            self._show_hover(hover, (x, y))
            return hover
        if hover is None and self._options.show_grid and len(st.grid):
            j = picking.nearest_on_screen(
                self._pixel_coords(st.grid), (at[0], at[1]), picking.VERTEX_TOLERANCE_PX
            )
            if j is not None:
                hover = picking.describe(sc, st.t, "vertex", j)
        if hover is None:
            hover = picking.describe_region(sc, st.t, np.array([x, y]))
        self._show_hover(hover, (x, y))
        return hover

    def _on_mouse_moved(self, pos: QPointF) -> None:
        if not self._vb.sceneBoundingRect().contains(pos):  # drawing too: see the points
            self.clear_hover()
            return
        p = self._vb.mapSceneToView(pos)
        self.hover_at(p.x(), p.y())

    def _follow_hover(self, t: float) -> None:
        """The time moved (Play, the slider): the hovered item's numbers move with it."""
        h, sc = self._hover, self._scene
        if h is None or sc is None:
            return
        if h.kind == "region" or (h.kind == "point" and h.row >= sc.points.shape[1]):
            self.clear_hover()
            return
        if h.kind == "vertex" and h.row >= sc.grid.shape[1]:
            self.clear_hover()
            return
        self._show_hover(picking.describe(sc, t, h.kind, h.row), None)

    def _show_hover(self, hover: picking.Hover | None, at: tuple[float, float] | None) -> None:
        self._hover = hover
        if hover is None:
            for it in (self.hover_tip, self.hover_ring, self.hover_path):
                it.hide()
            return
        pal = self._pal
        pen = pg.mkPen(QColor(*pal.selection), width=2.5)
        if hover.trajectory is not None:
            tr = finite(hover.trajectory)
            self.hover_path.setData(x=tr[:, 0], y=tr[:, 1])
            self.hover_path.setPen(pen)
            self.hover_path.show()
        else:
            self.hover_path.hide()
        if hover.kind != "region":
            c = finite(hover.coords[None, :2])
            self.hover_ring.setData(x=c[:, 0], y=c[:, 1])
            self.hover_ring.setPen(pen)
            self.hover_ring.setBrush(pg.mkBrush(0, 0, 0, 0))
            self.hover_ring.setSize(self._point_size() + 10)
            self.hover_ring.show()
        else:
            self.hover_ring.hide()
        self.hover_tip.setPlainText(hover.text)
        if at is None:
            at = (float(hover.coords[0]), float(hover.coords[1]))
        local = self._vb.mapFromView(QPointF(*at))
        box = self._vb.boundingRect()
        tip = self.hover_tip.boundingRect()
        x = local.x() + 14
        y = local.y() + 14
        if x + tip.width() > box.width():
            x = local.x() - 14 - tip.width()
        if y + tip.height() > box.height():
            y = local.y() - 14 - tip.height()
        self.hover_tip.setPos(max(0.0, x), max(0.0, y))
        self.hover_tip.show()

    # ------------------------------------------------------------------ draw mode
    def set_drawing(self, on: bool) -> None:
        """Draw mode: clicks and drags edit the data (`drawEdit`) instead of selecting."""
        self._vb.drawing = bool(on) and not self._compact
        self._vb.selecting_enabled = not self._vb.drawing and not self._compact
        if self._style_key != self._wanted_style():
            self._apply_style()  # bigger points while drawing
        if not on:
            self.set_draw_preview(np.zeros((0, 2)), np.zeros(0), np.zeros((0, 2)))
        self.set_time(self._t)  # frame the input square (drawing) or the data again

    def drawing(self) -> bool:
        return bool(self._vb.drawing)

    def set_draw_preview(self, xy: np.ndarray, labels: np.ndarray, erase: np.ndarray) -> None:
        """Show a stroke in progress: points about to be added, points about to go."""
        for k, it in enumerate(self.draw_items):
            p = np.asarray(xy).reshape(-1, 2)[np.asarray(labels) == k]
            it.setData(x=p[:, 0], y=p[:, 1])
            it.setVisible(len(p) > 0)
        e = np.asarray(erase).reshape(-1, 2)
        self.erase_item.setData(x=e[:, 0], y=e[:, 1])
        self.erase_item.setVisible(len(e) > 0)

    def _on_draw(self, kind: str, pos: QPointF | None) -> None:
        px, py = self._vb.viewPixelSize()
        x, y = (pos.x(), pos.y()) if pos is not None else (0.0, 0.0)
        self.drawEdit.emit(kind, float(x), float(y), float(max(px, py, 1e-12)))

    def _visible_rows(self) -> np.ndarray:
        sc = self._scene
        if sc is None or not self._options.show_points:
            return np.zeros(0, dtype=np.int64)
        return np.arange(sc.points.shape[1])


def _pairs(segments: list[np.ndarray]) -> np.ndarray | None:
    """Segments (2, 2) as one (2S, 2) array of end-point pairs; None when there are none."""
    return np.concatenate(segments) if segments else None


def _esc(s: str) -> str:
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
