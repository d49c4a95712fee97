"""Loss and accuracy against optimiser step, live while training.

Why it looks like this: the window appends a snapshot up to ~30 times a second, so the
curves keep growable numpy buffers and only push arrays into the existing pyqtgraph
items (`setData`), never rebuilding the plot. Even so a redraw of two plots with grids
and a log axis costs ~20 ms, so while training the buffers take every snapshot at once
but the plots are redrawn at most every REDRAW_MS, with the step axis fixed to the
run's length (the curve grows into a still frame instead of rescaling each time).
Hovering shows the numbers of the nearest snapshot; a vertical marker shows which
snapshot the views are drawing, so the curves double as a map of "where in training
am I looking", and clicking them shows that snapshot. A change of the learning rate
(or another live setting) while training is a dotted purple line at its step, labelled
with what changed.
"""

from __future__ import annotations

import math
import re
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, Qt, QTimer, Slot
from PySide6.QtGui import QColor, QFont
from PySide6.QtWidgets import QCheckBox, QLabel, QSizePolicy, QVBoxLayout, QWidget

from nndyn_gui.core.types import Snapshot
from nndyn_gui.ui.curves_legend import MARGIN, LegendPlacer
from nndyn_gui.ui.population_curves import PopulationCurves
from nndyn_gui.ui.state import AppState

LOSS_COLOR = (200, 60, 60)
TRAIN_COLOR = (0, 114, 178)
TEST_COLOR = (230, 159, 0)
MARKER_COLOR = (90, 90, 90, 200)
HOVER_COLOR = (120, 120, 120, 160)
TUNE_COLOR = (142, 68, 173, 220)  # a live change of the settings (core/train/live.py)
FIELDS = ("step", "loss", "train_acc", "test_acc")
REDRAW_MS = 200  # while training: at most five redraws a second


def _fmt_pct(v: float) -> str:
    return "—" if not math.isfinite(v) else f"{100.0 * v:.1f}%"


def _fmt_loss(v: float) -> str:
    return "—" if not math.isfinite(v) else f"{v:.4g}"


def _placeholder(s: Snapshot) -> bool:
    """AppState's untrained step-0 entry (NaN loss, made-up 0% accuracies)."""
    return not math.isfinite(s.loss) and s.train_acc == 0.0 and s.test_acc == 0.0


class _Buffers:
    """Columns of the snapshots seen so far, grown by doubling (amortised O(1) appends)."""

    def __init__(self) -> None:
        self.n = 0
        self.data = np.full((len(FIELDS), 64), np.nan)
        self.last: Snapshot | None = None  # identity of the last row, to detect replacement

    def clear(self) -> None:
        self.n = 0
        self.last = None

    def append(self, snaps: list[Snapshot]) -> None:
        need = self.n + len(snaps)
        if need > self.data.shape[1]:
            grown = np.full((len(FIELDS), max(need, 2 * self.data.shape[1])), np.nan)
            grown[:, : self.n] = self.data[:, : self.n]
            self.data = grown
        if snaps:  # one array op, not a Python loop: an opened run brings thousands
            rows = np.array(
                [(s.step, s.loss, s.train_acc, s.test_acc) for s in snaps], dtype=float
            ).T
            # the untrained step-0 entry (see _placeholder): nothing measured yet
            rows[1:, ~np.isfinite(rows[1]) & (rows[2] == 0.0) & (rows[3] == 0.0)] = np.nan
            self.data[:, self.n : need] = rows
            self.last = snaps[-1]
        self.n = need

    def column(self, name: str) -> np.ndarray:
        return self.data[FIELDS.index(name), : self.n]


class _LogAxis(pg.AxisItem):
    """Log-scale axis labelling only 1, 2 and 5 per decade, so labels never overlap.

    Less than a decade shown (late training): every tick is labelled, else one label.
    """

    def tickStrings(self, values: list[float], scale: float, spacing: float) -> list[str]:
        if not self.logMode:
            return list(super().tickStrings(values, scale, spacing))
        lo, hi = self.range
        if abs(hi - lo) < 1.0:
            return [f"{10.0**v:.2g}" for v in values]
        out = []
        for v in values:
            x = 10.0**v
            mant = x / 10.0 ** math.floor(math.log10(x)) if x > 0 else 0.0
            keep = any(abs(mant - m) < 1e-6 for m in (1.0, 2.0, 5.0, 10.0))
            out.append(f"{x:.3g}" if keep else "")
        return out


class TrainingCurves(QWidget):
    """Loss (log scale) above train/test accuracy, both against step, with hover readout."""

    def __init__(self, state: AppState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self._buf = _Buffers()
        self._hover_index: int | None = None

        self.readout = QLabel(" ")
        self.readout.setTextFormat(Qt.TextFormat.RichText)
        self.readout.setToolTip("Values of the snapshot nearest the mouse (or the one shown)")
        # its text changes with every snapshot: a width that followed the text would
        # re-lay out the dock area, and so repaint every view in the window, each time
        # (so: any width, wrapped onto a fixed two-line height, never a new size hint)
        self.readout.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        self.readout.setWordWrap(True)
        self.readout.setFixedHeight(2 * self.readout.fontMetrics().lineSpacing() + 4)
        self.plots = pg.GraphicsLayoutWidget()
        self.plots.setBackground("w")
        self.plots.setMinimumHeight(160)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 2, 4, 2)
        lay.setSpacing(2)
        lay.addWidget(self.readout)
        lay.addWidget(self.plots, 1)
        #: accuracy and transport on the sample vs on fresh points (ui/population_curves.py)
        self.population_box = QCheckBox("Sample vs population")
        self.population_box.setToolTip(
            "Accuracy and transport cost on the training sample vs on ~50,000 fresh points "
            "of the data set's distribution (the dense accuracy), measured on each snapshot; "
            "the gap between them is shaded"
        )
        # no say in the dock's minimum width (the window must fit a 1280x720 projector)
        self.population_box.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        lay.addWidget(self.population_box)

        self.loss_plot = self.plots.addPlot(
            row=0, col=0, axisItems={"left": _LogAxis(orientation="left")}
        )
        self.acc_plot = self.plots.addPlot(row=1, col=0)
        self.acc_plot.setXLink(self.loss_plot)
        self.loss_plot.setLogMode(x=False, y=True)
        self.loss_plot.setLabel("left", "loss")
        self.acc_plot.setLabel("left", "accuracy")
        self.acc_plot.setLabel("bottom", "step")
        self.acc_plot.setYRange(0.0, 1.04, padding=0.0)
        self.acc_plot.getAxis("left").setTicks(
            [[(v, f"{int(100 * v)}%") for v in (0.0, 0.25, 0.5, 0.75, 1.0)]]
        )
        for p in (self.loss_plot, self.acc_plot):
            p.showGrid(x=True, y=True, alpha=0.15)
            p.setMenuEnabled(False)
            p.hideButtons()
            p.getViewBox().setMouseEnabled(x=True, y=False)
            for ax in ("left", "bottom"):
                p.getAxis(ax).setTextPen(pg.mkPen((60, 60, 60)))
                p.getAxis(ax).setPen(pg.mkPen((150, 150, 150)))
                p.getAxis(ax).enableAutoSIPrefix(False)
        self.loss_plot.getAxis("left").setWidth(48)
        self.acc_plot.getAxis("left").setWidth(48)
        self.loss_plot.getAxis("bottom").setStyle(showValues=False)
        self.acc_plot.getViewBox().setMouseEnabled(x=True, y=False)
        legend = self.acc_plot.addLegend(offset=(-MARGIN, -MARGIN), labelTextColor=(60, 60, 60))
        legend.setBrush(pg.mkBrush(255, 255, 255, 200))

        def curve(plot: Any, color: tuple[int, int, int], name: str | None) -> Any:
            item = plot.plot([], [], pen=pg.mkPen(color, width=2), name=name, connect="finite")
            # thousands of snapshots on a dock a few hundred pixels wide: draw each pixel
            # column's min and max only ("peak": the same picture, a fraction of the paint)
            item.setDownsampling(auto=True, method="peak")
            return item

        self.loss_curve = curve(self.loss_plot, LOSS_COLOR, None)
        self.train_curve = curve(self.acc_plot, TRAIN_COLOR, "train")
        self.test_curve = curve(self.acc_plot, TEST_COLOR, "test")
        # in a corner where it hides no curve, else hidden (ui/curves_legend.py)
        self.legend = LegendPlacer(self.acc_plot, legend, [self.train_curve, self.test_curve])

        marker_pen = pg.mkPen(MARKER_COLOR, width=1.5)
        self.markers = [pg.InfiniteLine(angle=90, pen=marker_pen, movable=False) for _ in range(2)]
        hover_pen = pg.mkPen(HOVER_COLOR, width=1, style=Qt.PenStyle.DashLine)
        self.hover_lines = [pg.InfiniteLine(angle=90, pen=hover_pen) for _ in range(2)]
        for plot, m, h in zip(
            (self.loss_plot, self.acc_plot), self.markers, self.hover_lines, strict=True
        ):
            plot.addItem(m, ignoreBounds=True)
            plot.addItem(h, ignoreBounds=True)
            m.setVisible(False)
            h.setVisible(False)
        # PlotDataItems (not bare scatters) so the loss dot follows the log y axis
        self.loss_dot = self.loss_plot.plot(
            [], [], pen=None, symbol="o", symbolSize=8, symbolPen=None, symbolBrush=LOSS_COLOR
        )
        self.acc_dots = self.acc_plot.plot(
            [], [], pen=None, symbol="o", symbolSize=8, symbolPen=None
        )
        self.empty_text = pg.TextItem("train to see loss and accuracy", color=(140, 140, 140))
        font = QFont()
        font.setItalic(True)
        self.empty_text.setFont(font)
        self.acc_plot.addItem(self.empty_text, ignoreBounds=True)
        self.empty_text.setPos(0.0, 0.55)

        self.population = PopulationCurves(state, self.plots, self.loss_plot)
        lay.addWidget(self.population.readout)
        self.population_box.toggled.connect(self.population.set_enabled)

        self._redraw = QTimer(self)
        self._redraw.setSingleShot(True)
        self._redraw.setInterval(REDRAW_MS)
        self._redraw.timeout.connect(self._flush)
        self._dirty = False
        self._loss_range: tuple[float, float] | None = None

        self.plots.scene().sigMouseMoved.connect(self._on_mouse_moved)
        self.plots.scene().sigMouseClicked.connect(self._on_mouse_clicked)
        self.tune_lines: list[Any] = []
        state.tuningChanged.connect(self._draw_tuning)
        state.tuningChanged.connect(self._on_tuning)
        state.snapshotsChanged.connect(self._on_snapshots)
        # the marker and the readout are the shown snapshot's: the one the views have drawn
        state.shownChanged.connect(self._on_current)
        state.trainingStateChanged.connect(self._on_training_state)
        self._on_snapshots()
        if state.shown is not None:
            self._on_current(state.shown)

    # ------------------------------------------------------------------ public
    def sample_values(self) -> dict[str, np.ndarray]:
        """The arrays the curves are drawing (copies): step, loss, train_acc, test_acc."""
        return {name: self._buf.column(name).copy() for name in FIELDS}

    def readout_text(self) -> str:
        """The hover/current readout as plain text (what the user reads above the plots)."""
        doc = self.readout.text()
        for tag in ("<b>", "</b>", "&nbsp;"):
            doc = doc.replace(tag, " " if tag == "&nbsp;" else "")
        return re.sub(r"<[^>]+>", "", doc).strip()

    def hover_step(self, x: float) -> int | None:
        """Show the values of the snapshot nearest step `x` (what a mouse move does)."""
        i = self._nearest(x)
        self._hover_index = i
        if i is None:
            self._hide_hover()
            return None
        step = float(self._buf.column("step")[i])
        for line in self.hover_lines:
            line.setPos(step)
            line.setVisible(True)
        self._show_values(i, hovering=True)
        self.population.show_step(step)
        return int(step)

    def clear_hover(self) -> None:
        self._hide_hover()

    def show_step(self, x: float) -> int | None:
        """Show the snapshot nearest step `x` in every view (what a click does)."""
        i = self._nearest(x)
        snaps = self.state.snapshots
        if i is None or i >= len(snaps):
            return None
        snap = snaps[i]
        if snap.step != int(self._buf.column("step")[i]):
            return None  # the buffers lag behind the list: not the snapshot under the mouse
        self.state.set_current(snap)
        return snap.step

    def _on_mouse_clicked(self, ev: Any) -> None:
        if ev.button() != Qt.MouseButton.LeftButton:
            return
        for plot in (self.loss_plot, self.acc_plot, *self.population.plots):
            vb = plot.getViewBox()
            if vb.sceneBoundingRect().contains(ev.scenePos()):
                self.show_step(float(vb.mapSceneToView(ev.scenePos()).x()))
                return

    @Slot()
    def _draw_tuning(self) -> None:
        """One dotted line per live change, at its step, in both plots (labelled above)."""
        from nndyn_gui.core.train.live import describe

        for plot, line in self.tune_lines:
            plot.removeItem(line)
        self.tune_lines = []
        pen = pg.mkPen(TUNE_COLOR, width=1.5, style=Qt.PenStyle.DotLine)
        for step, changes in self.state.tuning:
            for plot, label in ((self.loss_plot, describe(changes)), (self.acc_plot, None)):
                line = pg.InfiniteLine(
                    pos=float(step),
                    angle=90,
                    pen=pen,
                    movable=False,
                    label=label,
                    labelOpts={
                        "position": 0.92,
                        "color": TUNE_COLOR[:3],
                        "anchors": [(0, 0), (0, 0)],
                    },
                )
                line.setToolTip(f"step {step:,}: {describe(changes)}")
                plot.addItem(line, ignoreBounds=True)
                self.tune_lines.append((plot, line))

    def tuning_marks(self) -> list[tuple[float, str]]:
        """(step, label) of the live-change lines drawn (tests)."""
        out = []
        for plot, line in self.tune_lines:
            if plot is self.loss_plot:
                out.append((float(line.value()), line.label.toPlainText() if line.label else ""))
        return out

    # ------------------------------------------------------------------ slots
    @Slot()
    def _on_snapshots(self) -> None:
        snaps = self.state.snapshots
        buf = self._buf
        grew = (
            buf.n > 0
            and len(snaps) >= buf.n
            and buf.last is not None
            and snaps[buf.n - 1] is buf.last
        )
        if grew:
            buf.append(snaps[buf.n :])
        else:
            buf.clear()
            buf.append(list(snaps))
        if self._training():
            if not grew:  # a new run: the step axis spans its own steps (run_config)
                self._fix_step_axis()
            self._defer()
        else:
            self._push()

    @Slot(object)
    def _on_current(self, snap: Snapshot) -> None:
        if snap is None:
            return
        if self._training():
            self._defer()  # the plots at most every REDRAW_MS ...
            if self._hover_index is None:  # ... but the readout names the shown step at once
                self._show_snapshot(snap)
        else:
            self._draw_current(snap)

    @Slot()
    def _on_tuning(self) -> None:
        """A live change taken by the trainer (maybe a new number of steps): re-span."""
        if self._training():
            self._fix_step_axis()

    @Slot(str)
    def _on_training_state(self, state: str) -> None:
        if self._training():
            self._fix_step_axis()
        elif state != "stopping":  # stopping: its redraw timer runs on, its end flushes
            self._flush()

    def _training(self) -> bool:
        return self.state.training_state == "training"

    def _defer(self) -> None:
        self._dirty = True
        if not self._redraw.isActive():  # not restarted: redraws keep coming
            self._redraw.start()

    @Slot()
    def _flush(self) -> None:
        """Draw what the buffers hold now (the redraw timer, or training stopped)."""
        self._redraw.stop()
        if not self._dirty:
            return
        self._dirty = False
        self._push()
        if self.state.shown is not None:
            self._draw_current(self.state.shown)

    def _fix_step_axis(self) -> None:
        """Span the run's planned steps while it trains (the curves grow into it), the
        steps it ran once it has ended (a run stopped early is not squeezed left)."""
        self._loss_range = None
        last = float(self._buf.column("step")[-1]) if self._buf.n else 0.0
        planned = float(self.state.run_config.train.steps) if self._training() else 0.0
        self.loss_plot.setXRange(0.0, max(planned, last, 1.0), padding=0.02)

    def _fix_loss_axis(self, loss: np.ndarray) -> None:
        ok = loss[np.isfinite(loss)]
        if not len(ok):
            return
        lo, hi = math.log10(float(ok.min())), math.log10(float(ok.max()))
        lo, hi = math.floor(lo * 4.0) / 4.0, math.ceil(hi * 4.0) / 4.0  # quarter decades
        if (lo, hi) != self._loss_range:  # unchanged: no re-layout of the axis
            self._loss_range = (lo, hi)
            self.loss_plot.setYRange(lo, max(hi, lo + 0.25), padding=0.02)

    def _draw_current(self, snap: Snapshot) -> None:
        for m in self.markers:
            m.setPos(float(snap.step))
            m.setVisible(True)
        loss = snap.loss if math.isfinite(snap.loss) and snap.loss > 0 else math.nan
        if math.isfinite(loss):
            self.loss_dot.setData([float(snap.step)], [loss])
        else:
            self.loss_dot.setData([], [])
        xs, ys, brushes = [], [], []
        if not _placeholder(snap):
            for v, color in ((snap.train_acc, TRAIN_COLOR), (snap.test_acc, TEST_COLOR)):
                if math.isfinite(v):
                    xs.append(float(snap.step))
                    ys.append(float(v))
                    brushes.append(pg.mkBrush(*color))
        self.acc_dots.setData(xs, ys, symbolBrush=brushes)
        if not self._shown():
            self.loss_dot.setData([], [])
            self.acc_dots.setData([], [])
            for m in self.markers:
                m.setVisible(False)
        if self._hover_index is None:
            self._show_snapshot(snap)
            self.population.show_step(float(snap.step))

    def _on_mouse_moved(self, pos: QPointF) -> None:
        for plot in (self.loss_plot, self.acc_plot, *self.population.plots):
            vb = plot.getViewBox()
            if vb.sceneBoundingRect().contains(pos):
                self.hover_step(float(vb.mapSceneToView(pos).x()))
                return
        self._hide_hover()

    def leaveEvent(self, ev: Any) -> None:
        self._hide_hover()
        super().leaveEvent(ev)

    # ------------------------------------------------------------------ internals
    def _push(self) -> None:
        b = self._buf
        steps = b.column("step")
        loss = b.column("loss")
        loss = np.where(np.isfinite(loss) & (loss > 0), loss, np.nan)
        trained = b.n > 1 or bool(np.isfinite(loss).any())
        # an untrained net has no curve: hide the meaningless 0% accuracy at step 0
        show = steps if trained else steps[:0]
        self.loss_curve.setData(show, loss[: len(show)])
        self.train_curve.setData(show, b.column("train_acc")[: len(show)])
        self.test_curve.setData(show, b.column("test_acc")[: len(show)])
        self.empty_text.setVisible(not trained)
        self.legend.place()
        if b.n and (self._hover_index is not None and self._hover_index >= b.n):
            self._hide_hover()
        if not trained:
            self.loss_dot.setData([], [])
            self.acc_dots.setData([], [])
            for m in self.markers:
                m.setVisible(False)
            steps_total = float(self.state.run_config.train.steps)
            self.loss_plot.setXRange(0.0, steps_total, padding=0.02)
            self.loss_plot.setYRange(-2.0, 0.0, padding=0.05)  # log10: 0.01 .. 1
            self.empty_text.setPos(0.03 * steps_total, 0.6)
        else:
            # fixed ranges, from the data: pyqtgraph's auto-range paints the plots twice
            # (the second time in the range it found), and the axes jumped as a run ended
            if not self._training():
                self._fix_step_axis()
            self._fix_loss_axis(loss)

    def _nearest(self, x: float) -> int | None:
        steps = self._buf.column("step")
        if not len(steps) or not math.isfinite(x) or not self._shown():
            return None
        j = int(np.searchsorted(steps, x))
        cands = [k for k in (j - 1, j) if 0 <= k < len(steps)]
        return min(cands, key=lambda k: abs(steps[k] - x))

    def _shown(self) -> bool:
        """True once the curves draw something (an untrained net has no curve)."""
        xd = self.loss_curve.xData
        return xd is not None and len(xd) > 0

    def _hide_hover(self) -> None:
        self._hover_index = None
        for line in self.hover_lines:
            line.setVisible(False)
        if self.state.shown is not None:
            self._show_snapshot(self.state.shown)

    def _show_values(self, i: int, hovering: bool) -> None:
        step, loss, tr, te = (float(self._buf.column(f)[i]) for f in FIELDS)
        self._set_readout(step, loss, tr, te, hovering)

    def _show_snapshot(self, snap: Snapshot) -> None:
        if _placeholder(snap):  # untrained: nothing measured (a trained one is named at once)
            self.readout.setText("<span style='color:#888'>no training yet</span>")
            return
        self._set_readout(snap.step, snap.loss, snap.train_acc, snap.test_acc, False)

    def _set_readout(self, step: float, loss: float, tr: float, te: float, hover: bool) -> None:
        def c(rgb: tuple[int, ...]) -> str:
            return QColor(*rgb[:3]).name()

        where = "" if hover else "<span style='color:#888'>shown: </span>"
        self.readout.setText(
            f"{where}<b>step&nbsp;{int(step):,}</b> &nbsp; "  # lines wrap between items only
            f"<span style='color:{c(LOSS_COLOR)}'>loss&nbsp;{_fmt_loss(loss)}</span> &nbsp; "
            f"<span style='color:{c(TRAIN_COLOR)}'>train&nbsp;acc&nbsp;{_fmt_pct(tr)}</span> "
            f"&nbsp; <span style='color:{c(TEST_COLOR)}'>test&nbsp;acc&nbsp;{_fmt_pct(te)}</span>"
        )
