"""Where the accuracy plot's legend goes: a corner where it hides no curve, or nowhere.

Why: pinned to the bottom right of an accuracy plot ~70 px tall (the curves dock at
~250 px, as on a 1280x650 window) the two-row legend covered most of the plot, and the
curves at 100% ran under it. Now it is one row ("— train  — test"), and it goes to the
first corner whose rectangle no curve passes through (bottom right, bottom left, top
left, top right: accuracy curves live near the top once trained). When none is free,
or the plot is too short for it to leave room for the curves, it is hidden: the
readout line above the plots names train and test in their colours all the time.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from PySide6.QtCore import QRectF

MARGIN = 6  # pixels between the legend and the plot's edge
MAX_HEIGHT_SHARE = 0.34  # a legend taller than this share of the plot crowds it: hidden
#: pyqtgraph LegendItem offsets: negative x from the right, negative y from the bottom
CORNERS = ((-MARGIN, -MARGIN), (MARGIN, -MARGIN), (MARGIN, MARGIN), (-MARGIN, MARGIN))


def passes_through(x: np.ndarray, y: np.ndarray, rect: QRectF) -> bool:
    """True if the polyline (x, y) (x increasing; NaNs skipped) enters `rect` (data
    coordinates). Over the rectangle's x span a continuous polyline takes every value
    between its least and greatest there: those at the vertices inside the span and
    those interpolated at its two edges."""
    ok = np.isfinite(x) & np.isfinite(y)
    x, y = x[ok], y[ok]
    x0, x1 = rect.left(), rect.right()
    y0, y1 = min(rect.top(), rect.bottom()), max(rect.top(), rect.bottom())
    if not len(x) or x[-1] < x0 or x[0] > x1:
        return False
    inside = y[(x >= x0) & (x <= x1)]
    ends = np.interp([max(x0, x[0]), min(x1, x[-1])], x, y)
    ys = np.concatenate([inside, ends])
    return bool(ys.max() >= y0 and ys.min() <= y1)


class LegendPlacer:
    """Keeps `legend` in a free corner of `plot`'s view box, or hidden."""

    def __init__(self, plot: Any, legend: Any, curves: list[Any]) -> None:
        self.plot, self.legend, self.curves = plot, legend, curves
        legend.setColumnCount(2)  # one row: half the height of a list
        legend.layout.setContentsMargins(4, 1, 4, 1)  # pyqtgraph's 9 px made it 40 px tall
        legend.updateSize()
        vb = plot.getViewBox()
        vb.sigResized.connect(self.place)
        vb.sigRangeChanged.connect(self.place)

    def place(self, *_: object) -> None:
        """Move the legend to the first corner where it hides no curve (or hide it)."""
        vb, legend = self.plot.getViewBox(), self.legend
        box = vb.boundingRect()
        w, h = legend.boundingRect().width(), legend.boundingRect().height()
        if h > MAX_HEIGHT_SHARE * box.height() or w + 2 * MARGIN > box.width():
            legend.setVisible(False)
            return
        for dx, dy in CORNERS:
            left = box.left() + dx if dx > 0 else box.right() + dx - w
            top = box.top() + dy if dy > 0 else box.bottom() + dy - h
            data = vb.mapToView(QRectF(left, top, w, h)).boundingRect()
            if not any(self._hides(c, data) for c in self.curves):
                legend.setOffset((dx, dy))
                legend.setVisible(True)
                return
        legend.setVisible(False)

    @staticmethod
    def _hides(curve: Any, data: QRectF) -> bool:
        if curve.xData is None or not len(curve.xData):
            return False
        return passes_through(np.asarray(curve.xData), np.asarray(curve.yData), data)
