"""The 2-D layer view's hover: what is under the mouse, named beside it.

Why its own module: render/view2d.py draws a frame; this answers the mouse moving over
it — the nearest point, else grid vertex (both within a few pixels), else the regions'
probability where it is exact (render/picking.py) — and shows the readout, a ring on the
item and its whole trajectory, following them while the time moves. What it shares with
the 3-D view's hover is render/hover_readout.py.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF
from PySide6.QtGui import QColor, QPen
from PySide6.QtWidgets import QGraphicsTextItem

from nndyn_gui.render import hover_readout, picking
from nndyn_gui.render.scene_view import finite, held_weakly
from nndyn_gui.render.view2d_mouse import _Scatter

if TYPE_CHECKING:
    from nndyn_gui.render.view2d import LayerView2D


class _Tip(QGraphicsTextItem):
    """The hover readout: text on a light box, so it reads over points and regions."""

    def paint(self, painter: Any, option: Any, widget: Any = None) -> None:
        painter.setPen(QPen(hover_readout.TIP_BORDER))
        painter.setBrush(hover_readout.TIP_FILL)
        painter.drawRoundedRect(self.boundingRect(), 4, 4)
        super().paint(painter, option, widget)


class Hover2D:
    """The readout, ring and trajectory of one 2-D view; `hover` is what they show."""

    def __init__(self, view: LayerView2D, compact: bool) -> None:
        self._view = held_weakly(view)
        self._compact = compact
        self._vb = view.getPlotItem().getViewBox()
        self.hover: picking.Hover | None = None
        pi = view.getPlotItem()
        self.path = pg.PlotCurveItem(antialias=True)
        self.path.setZValue(26)
        self.ring = _Scatter()
        self.ring.setZValue(27)
        for it in (self.path, self.ring):
            it.hide()
            pi.addItem(it, ignoreBounds=True)
        self.tip = _Tip()
        self.tip.setParentItem(self._vb)
        self.tip.setZValue(2e6)
        self.tip.setDefaultTextColor(hover_readout.TIP_TEXT)
        self.tip.hide()

    def at(self, x: float, y: float) -> picking.Hover | None:
        """Show what is at view position (x, y) (see LayerView2D.hover_at)."""
        v = self._view
        sc = v.flow_scene()
        if sc is None or self._compact:
            return None
        st = sc.at(v.time())
        at = v._pixel_coords(np.array([[x, y]]))[0]
        hover = None
        rows = v._visible_rows()
        if len(rows):
            j = picking.nearest_on_screen(
                v._pixel_coords(st.points[rows]), (at[0], at[1]), picking.POINT_TOLERANCE_PX
            )
            if j is not None:
                hover = picking.describe(sc, st.t, "point", int(rows[j]))
        if v.drawing():  # a point only: a readout following the pen would hide the canvas
            self.show(hover, (x, y))
            return hover
        if hover is None and v.options().show_grid and len(st.grid):
            j = picking.nearest_on_screen(
                v._pixel_coords(st.grid), (at[0], at[1]), picking.VERTEX_TOLERANCE_PX
            )
            if j is not None:
                hover = picking.describe(sc, st.t, "vertex", j)
        if hover is None:
            hover = picking.describe_region(sc, st.t, np.array([x, y]))
        self.show(hover, (x, y))
        return hover

    def on_mouse_moved(self, pos: QPointF) -> None:
        """The scene's mouse moved (the view connects it: signals go to QObjects only)."""
        if not self._vb.sceneBoundingRect().contains(pos):  # drawing too: see the points
            self.show(None, None)
            return
        p = self._vb.mapSceneToView(pos)
        self.at(p.x(), p.y())

    def follow(self, t: float) -> None:
        """The time moved (Play, the slider): the hovered item's numbers move with it."""
        h, sc = self.hover, self._view.flow_scene()
        if h is None or sc is None:
            return
        self.show(hover_readout.follow(sc, h, t), None)

    def show(self, hover: picking.Hover | None, at: tuple[float, float] | None) -> None:
        """Show `hover`'s readout beside view position `at` (None: beside the item)."""
        self.hover = hover
        if hover is None:
            for it in (self.tip, self.ring, self.path):
                it.hide()
            return
        pen = pg.mkPen(QColor(*self._view._pal.selection), width=2.5)
        if hover.trajectory is not None:
            tr = finite(hover.trajectory)
            self.path.setData(x=tr[:, 0], y=tr[:, 1])
            self.path.setPen(pen)
            self.path.show()
        else:
            self.path.hide()
        if hover.kind != "region":
            c = finite(hover.coords[None, :2])
            self.ring.setData(x=c[:, 0], y=c[:, 1])
            self.ring.setPen(pen)
            self.ring.setBrush(pg.mkBrush(0, 0, 0, 0))
            self.ring.setSize(self._view._point_size() + 10)
            self.ring.show()
        else:
            self.ring.hide()
        self.tip.setPlainText(hover.text)
        if at is None:
            at = (float(hover.coords[0]), float(hover.coords[1]))
        local = self._vb.mapFromView(QPointF(*at))
        box = self._vb.boundingRect()
        tip = self.tip.boundingRect()
        x, y = hover_readout.tip_position(
            (local.x(), local.y()), (tip.width(), tip.height()), (box.width(), box.height())
        )
        self.tip.setPos(x, y)
        self.tip.show()
