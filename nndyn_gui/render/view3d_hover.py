"""The 3-D layer view's hover: what is under the mouse, named beside it.

Why its own module: pyqtgraph.opengl has no picking, so finding the item under a pixel
is a job of its own — project the points (then the grid) with the view's matrices and
take the nearest on screen (the front one wins a tie in depth only by chance: points
that overlap on screen are ambiguous, and the readout names the one it shows), else
cast the mouse ray onto the input plane where the decision regions are drawn
(render/picking.py). The readout is painted over the GL image next to the mouse; what
it shares with the 2-D view's hover is render/hover_readout.py.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import QPointF, QRectF
from PySide6.QtGui import QFont, QPainter

from nndyn_gui.render import hover_readout, picking
from nndyn_gui.render.scene_view import held_weakly

if TYPE_CHECKING:
    from nndyn_gui.render.view3d import LayerView3D


class Hover3D:
    """The readout of one 3-D view; `hover` is what it names, `px` the pixel it is at."""

    def __init__(self, view: LayerView3D) -> None:
        self._view = held_weakly(view)
        self.hover: picking.Hover | None = None
        self.px: tuple[float, float] | None = None

    def under(self, x: float, y: float) -> picking.Hover | None:
        """The point, else grid vertex, else decision region under widget pixel (x, y)."""
        v = self._view
        sc = v.flow_scene()
        if sc is None:
            return None
        st = sc.at(v.time())
        mvp, w, h = v.mvp(), v.width(), v.height()
        if v.options().show_points:
            j = picking.nearest_on_screen(
                picking.project(st.points, mvp, w, h), (x, y), picking.POINT_TOLERANCE_PX
            )
            if j is not None:
                return picking.describe(sc, st.t, "point", j)
        if v.options().show_grid and len(st.grid):
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

    def follow(self, t: float) -> None:
        """The time moved (Play, the slider): the hovered item's numbers move with it."""
        h, sc = self.hover, self._view.flow_scene()
        if h is None or sc is None:
            return
        self.show(hover_readout.follow(sc, h, t), self.px)

    def show(self, hover: picking.Hover | None, px: tuple[float, float] | None) -> None:
        """Name `hover` next to widget pixel `px` (None: next to the item), its
        trajectory and a ring on it drawn in the scene (render/view3d_items.py)."""
        v = self._view
        self.hover = hover
        self.px = px
        if hover is not None or v.hover_path is not None:
            v.drawn.place_hover(v, hover, v._pal, v.options().point_size)
            v.hover_path, v.hover_ring = v.drawn.hover_path, v.drawn.hover_ring
        v.update()

    def paint(self, painter: QPainter) -> None:
        """The readout next to the mouse (on screen only: exports leave it out)."""
        v = self._view
        hover, px = self.hover, self.px
        if hover is None:
            return
        if px is None:
            pts = picking.project(hover.coords[None, :3], v.mvp(), v.width(), v.height())
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
        x, y = hover_readout.tip_position(px, (tw, th), (v.width(), v.height()))
        painter.setPen(hover_readout.TIP_BORDER)
        painter.setBrush(hover_readout.TIP_FILL)
        painter.drawRoundedRect(QRectF(x, y, tw, th), 4, 4)
        painter.setPen(hover_readout.TIP_TEXT)
        for i, line in enumerate(lines):
            painter.drawText(
                QPointF(x + 6, y + 4 + metrics.ascent() + i * metrics.lineSpacing()), line
            )
