"""The 2-D layer view: data, deformed grid, loop and separating line at layer t.

Works without OpenGL, so it is also the fallback for width-3 nets and for headless
exports. Wider nets are drawn on the head axes (scene.FlowScene): the line drawn at the
output is exactly the net's boundary, so a point's side of it is the net's prediction.

Selection: click picks the nearest point (within 8 px; empty space clears), shift+drag
selects a rectangle, ctrl+click / ctrl+shift+drag add to the selection. The view follows
the data (smoothly moving box) until the user pans or zooms; double click follows again.
This module is the widget: framing, picking, draw mode and style. What it draws of a
frame is render/view2d_items.py's, its words render/view2d_text.py's, its hover
render/view2d_hover.py's, its mouse gestures render/view2d_mouse.py's; the overlays
(field, density, costate) are render/view_layers.py's and what it shares with the 3-D
view render/scene_view.py's.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QWidget

from nndyn_gui.render import picking
from nndyn_gui.render.costate_layer import CostateArtist2D
from nndyn_gui.render.density_layer import DensityArtist2D
from nndyn_gui.render.field_layer import LATTICE_COMPACT, FieldArtist2D
from nndyn_gui.render.palette import Palette, palette_for
from nndyn_gui.render.scene import FlowScene, FrameState, ViewOptions
from nndyn_gui.render.scene_view import SceneViewMixin, finite
from nndyn_gui.render.view2d_hover import Hover2D
from nndyn_gui.render.view2d_items import SceneItems2D
from nndyn_gui.render.view2d_mouse import _SelectViewBox
from nndyn_gui.render.view2d_text import ViewText2D
from nndyn_gui.render.view_layers import OverlayLayers

CLICK_TOLERANCE_PX = 8.0
DRAW_FRAME = np.array([[-1.08, -1.08], [1.08, 1.08]])  # what draw mode shows: the input box
DRAW_POINT_SIZE = 11.0  # draw mode: points at least this big (px at scale 1; default 5)


class LayerView2D(SceneViewMixin, pg.PlotWidget):
    """Shows a FlowScene at time t in 2-D (on the head axes when the net is wider than 2)."""

    _DIMS = 2
    hovering: Hover2D

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

        it = self.drawn = SceneItems2D(pi)
        self.regions_item, self.grid_item, self.loop_item = it.regions, it.grid, it.loop
        self.tail_items, self.trail_items, self.class_items = it.tails, it.trails, it.classes
        self.wrong_item, self.selected_item, self.plane_item = it.wrong, it.selected, it.plane
        self.draw_items, self.erase_item = it.draws, it.erase
        self.field = FieldArtist2D(pi)  # velocity arrows and fixed points (show_field)
        self.density = DensityArtist2D(pi)  # each class's density of fresh points
        self.costate = CostateArtist2D(pi)  # -∂loss/∂x_t at training points
        self.layers = OverlayLayers(self.field, self.density, self.costate)
        self.overlays = self.layers.overlays  # (ViewOptions flag, artist) per layer
        # hover: the readout, a ring on the item under the mouse and its whole trajectory
        self.hovering = Hover2D(self, compact)
        self.hover_path, self.hover_ring = self.hovering.path, self.hovering.ring
        self.hover_tip = self.hovering.tip
        #: False: no label in the picture (presentation mode writes it beside the view)
        self.in_picture_text = True
        self.text = ViewText2D(self, compact)
        self.label_item, self.notice_item = self.text.label, self.text.notice
        # Qt signals go to this view's own methods (Qt ends the connections with the
        # view), the collaborators hold the view weakly (scene_view.held_weakly)
        self._vb.sigResized.connect(self._on_vb_resized)
        if not compact:
            self.scene().sigMouseMoved.connect(self._on_scene_mouse_moved)
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
        self._take_scene(scene)
        self.drawn.set_regions_image(scene, self._pal)
        if self._style_key != self._wanted_style():
            self._apply_style()  # restyling every item costs ~7 ms: only when it changed
        self._t = min(self._t, scene.t_max)
        self.text.forget()
        self.set_time(self._t)

    def set_notice(self, text: str) -> None:
        """A short message in the bottom-left corner (e.g. why 3-D is not shown)."""
        self._notice = text
        self.text.style_notice()

    def reset_view(self) -> None:
        """Go back to following the data (after the user panned or zoomed)."""
        self._auto_range = True
        self.set_time(self._t)

    def _show_frame(self, st: FrameState) -> None:
        o, sc, it = self._options, self._scene, self.drawn
        assert sc is not None
        for k, item in enumerate(self.class_items):
            if o.show_points:
                p = finite(st.points[self._masks[k]])
                item.setData(x=p[:, 0], y=p[:, 1])
            item.setVisible(o.show_points and len(self._masks[k]) > 0)
        if o.show_grid:
            v = finite(st.grid[self._seg_flat])
            self.grid_item.setData(x=v[:, 0], y=v[:, 1], connect="pairs")
        self.grid_item.setVisible(o.show_grid)
        it.update_loop(st, sc, o)
        it.update_selection(st, sc, o, self._selection)
        it.update_regions(st, o)
        if self._vb.drawing:  # the whole input square, however few points there are
            self._frame(DRAW_FRAME)
        elif self._auto_range:
            self._frame(st.bounds)
        it.update_plane(st, sc, o, self._vb.viewRange())
        self._update_field(st)
        self.layers.update_overlays(sc, st, o, finite(st.bounds))
        self.text.update_label(st)
        self.hovering.follow(st.t)

    def resizeEvent(self, ev: Any) -> None:
        """Re-frame after a resize: a hidden widget's ViewBox forgets the target range."""
        super().resizeEvent(ev)
        sc = self.__dict__.get("_scene")  # resizes arrive during PlotWidget.__init__ too
        if sc is not None and (self._auto_range or self._vb.drawing):
            st = sc.at(self._t)
            self._frame(DRAW_FRAME if self._vb.drawing else st.bounds)
            self.drawn.update_plane(st, sc, self._options, self._vb.viewRange())
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

    def field_bounds(self) -> np.ndarray:
        """The box the field's arrows cover: the visible range, (2, 2) lo / hi."""
        vr = self._vb.viewRange()
        return np.array([[vr[0][0], vr[1][0]], [vr[0][1], vr[1][1]]], dtype=np.float64)

    def _update_field(self, st: FrameState) -> None:
        sc, o = self._scene, self._options
        if self._compact:  # a small panel: fewer arrows, around the data only
            self.layers.update_field(sc, st, o, finite(st.bounds), LATTICE_COMPACT)
        else:
            self.layers.update_field(sc, st, o, self.field_bounds())

    def _wanted_style(self) -> tuple[Any, ...]:
        return (self._pal.name, self._point_size(), self._scale())

    def _point_size(self) -> float:
        """The points' size: at least DRAW_POINT_SIZE while drawing (seen from a projector)."""
        size = self._options.point_size
        return max(size, DRAW_POINT_SIZE) if self._vb.drawing else size

    def _apply_style(self) -> None:
        pal = self._pal
        self._style_key = self._wanted_style()
        bg = pal.background
        self.setBackground(None if bg[3] == 0 else QColor(*bg))
        self.viewport().setAutoFillBackground(bg[3] != 0)
        self.text.apply_style()
        self.drawn.apply_style(pal, self._point_size(), self._scale())
        self.layers.set_palette(pal, self._scale())
        if self._scene is not None and self.drawn.regions_palette != pal.name:
            self.drawn.set_regions_image(self._scene, pal)

    # ------------------------------------------------------------------ interaction
    def _on_vb_resized(self, *_: object) -> None:
        self.text.place_notice()

    def _on_scene_mouse_moved(self, pos: QPointF) -> None:
        self.hovering.on_mouse_moved(pos)

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

    def _visible_rows(self) -> np.ndarray:
        sc = self._scene
        if sc is None or not self._options.show_points:
            return np.zeros(0, dtype=np.int64)
        return np.arange(sc.points.shape[1])

    def hover_at(self, x: float, y: float) -> picking.Hover | None:
        """Show what is at view position (x, y): a point, else a grid vertex (both
        within a few pixels), else the regions' probability where it is exact (while
        drawing: a point only)."""
        return self.hovering.at(x, y)

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
        self.drawn.set_draw_preview(xy, labels, erase)

    def _on_draw(self, kind: str, pos: QPointF | None) -> None:
        px, py = self._vb.viewPixelSize()
        x, y = (pos.x(), pos.y()) if pos is not None else (0.0, 0.0)
        self.drawEdit.emit(kind, float(x), float(y), float(max(px, py, 1e-12)))
