"""The Hamiltonian per layer of the snapshot shown, a small plot in the Diagnostics panel.

Why: with the Costate arrows (render/costate_layer.py) a lecturer shows the adjoint
flowing backwards through the layers; this curve is the other half of the maximum
principle: H_t = Σ_i p_{t+1}^i·x_{t+1}^i − L_t, the number each block's MSA update
raises (core.analysis.costate.hamiltonian_per_layer, on all the training points). It is
plotted against the layer the block ends at (block t makes layer t+1, as the
displacement bars are), with a line at the layer the main view shows.

The values are computed with the diagnostics, in their background job (`values`), and
named with their snapshot's step in the title; while a newer snapshot computes, the
curve is drawn dimmed and the title says "computing step N…" (ui/steps.py).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Slot
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import QBoxLayout, QWidget

from nndyn_gui.core.analysis import costate
from nndyn_gui.core.config import RunConfig
from nndyn_gui.core.types import Dataset, NetWeights

TITLE = "Hamiltonian per layer"
LINE_COLOR = (0, 114, 178)
PENDING_COLOR = (150, 150, 150)
MARK_COLOR = (213, 94, 0)
SIDE_BY_SIDE_PX = 600  # a panel at least this wide puts two small plots in one row


def values(config: RunConfig, weights: NetWeights, dataset: Dataset) -> np.ndarray:
    """H_t for t = 0..T-1 on the training points (core.analysis.costate)."""
    return costate.hamiltonian_per_layer(config, weights, dataset.x_train, dataset.y_train)


class HamiltonianPlot(pg.PlotWidget):
    """H against the layer each block ends at; `set_values`, `set_caption`, `mark`."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent, background="w")
        self.setMinimumHeight(130)
        self.setMaximumHeight(190)
        self.setToolTip(
            "the Hamiltonian of each block on the training points, H_t = Σ p_{t+1}·x_{t+1} "
            "− (its transport and weight decay), at the layer the block ends at: the number "
            "the maximum principle's update (MSA) raises; p is the costate, −∂loss/∂x "
            "(tick Costate under the view to see it as arrows). The orange line: the layer "
            "the view shows"
        )
        pi = self.getPlotItem()
        style_layer_plot(pi, TITLE, "H")
        self.curve = pg.PlotDataItem(
            [], [], pen=pg.mkPen(LINE_COLOR, width=2), symbol="o", symbolSize=4
        )
        self._style(False)
        pi.addItem(self.curve)
        self.marker = pg.InfiniteLine(
            angle=90,
            movable=False,
            pen=pg.mkPen(MARK_COLOR, width=1.5, style=pg.QtCore.Qt.DashLine),
        )
        self.marker.setVisible(False)
        pi.addItem(self.marker, ignoreBounds=True)
        self.values: np.ndarray = np.zeros(0)
        self.layer: float | None = None  # the layer time marked (None: not known)
        self._scene: Any = None  # the layer panel's scene: frame -> layer time
        self._t: float | None = None  # the layer panel's time (frames)

    def _style(self, dim: bool) -> None:
        col = PENDING_COLOR if dim else LINE_COLOR
        self.curve.setPen(pg.mkPen(col, width=2))
        self.curve.setSymbolBrush(pg.mkBrush(col))
        self.curve.setSymbolPen(pg.mkPen(col))

    def set_values(self, ham: np.ndarray | None) -> None:
        """The curve of one snapshot's H (T,) (None or empty: cleared)."""
        h = np.zeros(0) if ham is None else np.asarray(ham, dtype=np.float64).ravel()
        self.values = h
        ok = np.isfinite(h)
        x = np.arange(1, len(h) + 1, dtype=np.float64)
        self.curve.setData(x[ok], h[ok])
        pi = self.getPlotItem()
        pi.setXRange(0.0, max(1, len(h)) + 0.5, padding=0)
        if ok.any():
            lo, hi = float(h[ok].min()), float(h[ok].max())
            pad = 0.08 * (hi - lo) if hi > lo else 0.1 * max(abs(hi), 1e-12)
            pi.setYRange(lo - pad, hi + pad, padding=0)

    def set_caption(self, caption: str, dim: bool) -> None:
        """The title: TITLE and, under it, the step ('step 1,200' or 'step 1,000 ·
        computing step 1,200…'); `dim`: the curve is an older snapshot's."""
        # the step on a line of its own: one long line widened the plot past its dock
        text = f"{TITLE}<br>{caption}" if caption else TITLE
        pi = self.getPlotItem()
        if pi.titleLabel.text != text:
            pi.setTitle(text, color="#333", size="9pt")
            # a title that was wider than the plot stretched its layout; fit it to the
            # widget again (pyqtgraph re-fits only on a resize)
            self.resizeEvent(None)
        self._style(dim)

    # ------------------------------------------------------------------ the view's layer
    def follow(self, layer_panel: Any) -> None:
        """Mark the layer `layer_panel` shows (its scene and time signals)."""
        layer_panel.sceneChanged.connect(self._on_scene)
        layer_panel.timeChanged.connect(self._on_time)
        self._scene = getattr(layer_panel, "scene", None)

    @Slot(object)
    def _on_scene(self, scene: Any) -> None:
        self._scene = scene
        if self._t is not None:
            self._on_time(self._t)

    @Slot(float)
    def _on_time(self, t: float) -> None:
        self._t = t
        sc = self._scene
        if sc is None:
            return
        layer_t = np.asarray(sc.frame_layer, dtype=np.float64)
        t = float(min(max(t, 0.0), len(layer_t) - 1))
        i0 = int(np.floor(t))
        i1 = min(i0 + 1, len(layer_t) - 1)
        a = t - i0
        self.mark((1 - a) * layer_t[i0] + a * layer_t[i1])

    def mark(self, layer: float | None) -> None:
        """A line at layer time `layer` (0 = the input; None: no line)."""
        self.layer = layer
        if layer is None:
            self.marker.setVisible(False)
            return
        self.marker.setValue(float(layer))
        self.marker.setVisible(True)


def style_layer_plot(pi: Any, title: str, ylabel: str) -> None:
    """The Diagnostics panel's small per-layer plots, one look: fixed (no mouse, menu or
    buttons), a 9 pt title, "layer" below, grey axes without SI prefixes."""
    pi.setMenuEnabled(False)
    pi.hideButtons()
    pi.setMouseEnabled(x=False, y=False)
    pi.setTitle(title, color="#333", size="9pt")
    pi.setLabel("bottom", "layer")
    pi.setLabel("left", ylabel)
    for ax in ("left", "bottom"):
        pi.getAxis(ax).setTextPen(pg.mkPen((60, 60, 60)))
        pi.getAxis(ax).setPen(pg.mkPen((150, 150, 150)))
        pi.getAxis(ax).enableAutoSIPrefix(False)


class PlotRow(QWidget):
    """Two small plots side by side when the panel is wide (1080p: the per-block table
    under them keeps a dozen rows in sight), one above the other when it is narrow (a
    1280x720 screen tabs the panel beside the parameters)."""

    def __init__(self, first: QWidget, second: QWidget, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._lay = QBoxLayout(QBoxLayout.Direction.TopToBottom, self)
        self._lay.setContentsMargins(0, 0, 0, 0)
        self._lay.setSpacing(6)
        self._lay.addWidget(first)
        self._lay.addWidget(second)

    def side_by_side(self) -> bool:
        return self._lay.direction() == QBoxLayout.Direction.LeftToRight

    def resizeEvent(self, ev: QResizeEvent) -> None:
        wide = ev.size().width() >= SIDE_BY_SIDE_PX
        if wide != self.side_by_side():
            self._lay.setDirection(
                QBoxLayout.Direction.LeftToRight if wide else QBoxLayout.Direction.TopToBottom
            )
        super().resizeEvent(ev)
