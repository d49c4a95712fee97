"""The 2-D layer view's drawing: one plot item per thing drawn, updated in place per frame.

Why its own module: render/view2d.py is the widget (framing, picking, draw mode); this
is what it draws of a FlowScene at a frame — points per class, the mesh, the loop and
its wrong-side marks, tails, the separating line or class borders, the decision-region
image and a stroke being drawn — and their pens. Items are made once and get new arrays
per frame (`setData`), which keeps the animation above 30 frames/s with thousands of
points (rebuilding items or per-point brushes is several times slower). The 3-D view's
counterpart is render/view3d_items.py.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtGui import QColor, QPen, QTransform

from nndyn_gui.core.config import MAX_CLASSES
from nndyn_gui.render.palette import Palette
from nndyn_gui.render.scene import FlowScene, FrameState, ViewOptions
from nndyn_gui.render.scene_view import (
    MAX_TRAJECTORIES,
    TAIL_BUCKETS,
    _spread,
    finite,
    tail_segments,
)
from nndyn_gui.render.view2d_mouse import _Scatter

PLANE_REACH = 50.0  # the separating line is clipped to the view box grown by this factor


class SceneItems2D:
    """The plot items of a 2-D view, added to the plot item `pi` in drawing order."""

    def __init__(self, pi: pg.PlotItem) -> None:
        self.regions = pg.ImageItem(axisOrder="row-major")
        self.regions.setZValue(-20)
        self.grid = pg.PlotCurveItem(connect="pairs", antialias=False)
        self.grid.setZValue(-10)
        self.loop = pg.PlotCurveItem(antialias=True)
        self.loop.setZValue(5)
        self.tails = [pg.PlotCurveItem(connect="pairs") for _ in range(TAIL_BUCKETS)]
        self.trails = [pg.PlotCurveItem(connect="pairs") for _ in range(TAIL_BUCKETS)]
        for it in self.tails:
            it.setZValue(8)
        for it in self.trails:
            it.setZValue(7)
        self.classes = [_Scatter(pen=None) for _ in range(MAX_CLASSES)]
        for i, it in enumerate(self.classes):
            it.setZValue(10 + i)
        self.wrong = _Scatter(symbol="x")
        self.wrong.setZValue(14)
        self.selected = _Scatter()
        self.selected.setZValue(20)
        self.plane = pg.PlotCurveItem(antialias=True)
        self.plane.setZValue(25)
        for it in (
            self.regions,
            self.grid,
            self.loop,
            *self.tails,
            *self.trails,
            *self.classes,
            self.wrong,
            self.selected,
        ):
            pi.addItem(it)
        pi.addItem(self.plane, ignoreBounds=True)
        # draw mode: the stroke being drawn (added points per class, points to remove)
        self.draws = [_Scatter(pen=None) for _ in range(MAX_CLASSES)]
        self.erase = _Scatter(symbol="x")
        for it in (*self.draws, self.erase):
            it.setZValue(30)
            it.hide()
            pi.addItem(it, ignoreBounds=True)
        #: the palette the region image was made in ("": none yet)
        self.regions_palette = ""

    def update_loop(self, st: FrameState, sc: FlowScene | None, o: ViewOptions) -> None:
        show = bool(o.show_loop and st.loop is not None and sc is not None)
        self.loop.setVisible(show)
        self.wrong.setVisible(show)
        if not show or st.loop is None or sc is None:
            return
        lp = finite(st.loop)
        closed = np.concatenate([lp, lp[:1]])
        self.loop.setData(x=closed[:, 0], y=closed[:, 1])
        bad = lp[sc.loop_wrong]
        self.wrong.setData(x=bad[:, 0], y=bad[:, 1])

    def update_selection(
        self, st: FrameState, sc: FlowScene, o: ViewOptions, sel: np.ndarray
    ) -> None:
        """Rings on the selected points, their tails, and every point's faint trail."""
        if len(sel):
            p = finite(st.points[sel])
            self.selected.setData(x=p[:, 0], y=p[:, 1])
        self.selected.setVisible(bool(len(sel)))
        tail = float(o.tail_length) * sc.frames_per_layer
        others = np.zeros(0, dtype=np.int64)
        if o.show_trajectories:
            others = np.setdiff1d(_spread(sc.points.shape[1], MAX_TRAJECTORIES), sel)
        for items, rows in ((self.tails, sel), (self.trails, others)):
            parts = tail_segments(sc, st.t, rows, tail, TAIL_BUCKETS)
            for it, seg in zip(items, parts, strict=True):
                if len(seg):
                    seg = finite(seg)
                    it.setData(x=seg[:, 0], y=seg[:, 1], connect="pairs")
                it.setVisible(bool(len(seg)))

    def update_regions(self, st: FrameState, o: ViewOptions) -> None:
        a = st.regions_opacity if o.show_regions else 0.0
        self.regions.setOpacity(a)
        self.regions.setVisible(a > 0.0)

    def update_plane(
        self, st: FrameState, sc: FlowScene | None, o: ViewOptions, view_range: Any
    ) -> None:
        """The separating line (class borders for K > 2) across the visible range."""
        a = st.plane_opacity if o.show_plane else 0.0
        seg = None
        if a > 0.0 and sc is not None:
            lo = np.array([view_range[0][0], view_range[1][0]])
            hi = np.array([view_range[0][1], view_range[1][1]])
            mid, half = 0.5 * (lo + hi), 0.5 * (hi - lo) * PLANE_REACH
            box = np.stack([mid - half, mid + half])
            seg = sc.plane_segment(box) if sc.classes == 2 else _pairs(sc.class_borders(box))
        if seg is not None:
            self.plane.setData(x=seg[:, 0], y=seg[:, 1], connect="pairs")
            self.plane.setOpacity(a)
        self.plane.setVisible(seg is not None)

    def set_regions_image(self, sc: FlowScene, pal: Palette) -> None:
        """The decision regions at the input in `pal`, placed by the scene's affine map."""
        img = sc.region_image(pal)
        self.regions_palette = pal.name
        self.regions.setImage(img, autoLevels=False, levels=None)
        h, w = sc.regions.shape[:2]
        x0, x1, y0, y1 = sc.region_extent
        a = sc.region_affine  # (2, 3): input (u, v, 1) -> view
        su, sv = (x1 - x0) / w, (y1 - y0) / h
        m = np.array([[a[0, 0] * su, a[0, 1] * sv], [a[1, 0] * su, a[1, 1] * sv]])
        off = a[:, 2] + a[:, 0] * x0 + a[:, 1] * y0
        tr = QTransform(m[0, 0], m[1, 0], m[0, 1], m[1, 1], off[0], off[1])
        self.regions.setTransform(tr)

    def set_draw_preview(self, xy: np.ndarray, labels: np.ndarray, erase: np.ndarray) -> None:
        """Show a stroke in progress: points about to be added, points about to go."""
        for k, it in enumerate(self.draws):
            p = np.asarray(xy).reshape(-1, 2)[np.asarray(labels) == k]
            it.setData(x=p[:, 0], y=p[:, 1])
            it.setVisible(len(p) > 0)
        e = np.asarray(erase).reshape(-1, 2)
        self.erase.setData(x=e[:, 0], y=e[:, 1])
        self.erase.setVisible(len(e) > 0)

    def apply_style(self, pal: Palette, ps: float, k_px: float) -> None:
        """Pens and brushes in `pal` for points of size `ps`, lines `k_px` times as wide."""
        for k, it in enumerate(self.classes):
            it.setBrush(pg.mkBrush(*pal.class_color(k, 210)))
            it.setPen(None)
            it.setSize(ps * k_px)
        self.grid.setPen(pg.mkPen(QColor(*pal.grid), width=1 * k_px))
        self.loop.setPen(pg.mkPen(QColor(*pal.loop), width=2.5 * k_px))
        self.wrong.setPen(pg.mkPen(QColor(*pal.wrong), width=2 * k_px))
        self.wrong.setBrush(pg.mkBrush(*pal.wrong))
        self.wrong.setSize(max(7.0, ps + 3) * k_px)
        sel_pen = pg.mkPen(QColor(*pal.selection), width=2 * k_px)
        self.selected.setPen(sel_pen)
        self.selected.setBrush(pg.mkBrush(0, 0, 0, 0))
        self.selected.setSize((ps + 6) * k_px)
        for k, it in enumerate(self.draws):
            it.setBrush(pg.mkBrush(*pal.class_color(k, 255)))
            it.setSize((ps + 3) * k_px)
        self.erase.setPen(pg.mkPen(QColor(*pal.wrong), width=2 * k_px))
        self.erase.setBrush(pg.mkBrush(*pal.wrong))
        self.erase.setSize((ps + 5) * k_px)
        r, g, b, _ = pal.selection
        tr, tg, tb, ta = pal.trails
        for i, it in enumerate(self.tails):
            fade = 1.0 - i / TAIL_BUCKETS
            it.setPen(pg.mkPen(QColor(r, g, b, int(230 * fade + 20)), width=1.5 * k_px))
            trail = QColor(tr, tg, tb, int(ta * fade + 10))
            self.trails[i].setPen(pg.mkPen(trail, width=1 * k_px))
        pen = QPen(QColor(*pal.plane))
        pen.setWidthF(2.5 * k_px)
        pen.setCosmetic(True)
        self.plane.setPen(pen)


def _pairs(segments: list[np.ndarray]) -> np.ndarray | None:
    """Segments (2, 2) as one (2S, 2) array of end-point pairs; None when there are none."""
    return np.concatenate(segments) if segments else None
