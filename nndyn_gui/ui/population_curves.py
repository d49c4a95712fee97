"""Sample vs population over training: accuracy and transport on fresh points.

Why it exists: the training curves measure the net on the few hundred points it trains on;
what it learned about the data set's *distribution* only shows on fresh points from it
(core.analysis.density: ~50,000 points, another seed, the same noise — the dense accuracy
of the topology report). Two plots under the training curves: accuracy on the training
sample vs on the population, the gap shaded between them; and the transport cost
sum_t |x_{t+1} - x_t|^2 on both. This is where the noisy ring's regularisation question
(does a transport penalty close the gap?) is answered on screen.

Measured in the window's process with numpy from each snapshot's weights (no trainer
change), off the GUI thread (`ui/background.NewestWins`), on at most MAX_POINTS snapshots
spread over the run (and always the newest), a few per job so the curves fill in as they
come; only while the plots are shown. Every point is one snapshot, named by its step in
the readout.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QObject, Qt, QTimer, Slot
from PySide6.QtWidgets import QLabel, QSizePolicy

from nndyn_gui.core.analysis import density
from nndyn_gui.core.analysis.density import SampleVsPopulation
from nndyn_gui.core.config import RunConfig
from nndyn_gui.core.types import Dataset, Snapshot
from nndyn_gui.ui.background import for_the_shown_run
from nndyn_gui.ui.state import AppState

SAMPLE_COLOR = (0, 114, 178)  # the training curves' "train"
POPULATION_COLOR = (0, 158, 115)
GAP_BRUSH = (213, 94, 0, 70)
MAX_POINTS = 60  # snapshots measured per run (evenly spread, plus the newest)
PER_JOB = 6  # snapshots per background job: the curves grow while the rest is measured
FOLLOW_MS = 1000  # while training: at most one new measurement round a second


def pick(steps: list[int], n: int = MAX_POINTS) -> list[int]:
    """Indices of at most n snapshots spread evenly over the list, with the newest."""
    if len(steps) <= n:
        return list(range(len(steps)))
    idx = np.unique(np.round(np.linspace(0, len(steps) - 1, n)).astype(int))
    return [int(i) for i in idx]


def _measure(
    config: RunConfig, dataset: Dataset, snaps: list[Snapshot], classes: int
) -> list[SampleVsPopulation]:
    pop = density.fresh_points(config, density.POPULATION_N // max(2, classes), classes)
    return [density.sample_vs_population(config, s.weights, dataset, s.step, pop) for s in snaps]


class PopulationCurves(QObject):
    """The two plots (added to the training curves' layout) and their measurements."""

    def __init__(self, state: AppState, plots: pg.GraphicsLayoutWidget, link: Any) -> None:
        super().__init__(plots)
        self.state = state
        self.rows: dict[int, SampleVsPopulation] = {}  # step -> numbers, this run
        self._key: tuple[Any, ...] = ()
        self._enabled = False
        self._error = ""
        self._jobs = for_the_shown_run(self, state, "nndyn-population", "measure the population")
        self._jobs.done.connect(self._on_done)
        self._follow = QTimer(self)
        self._follow.setSingleShot(True)
        self._follow.setInterval(FOLLOW_MS)
        self._follow.timeout.connect(self._request)

        self.readout = QLabel(" ")
        self.readout.setTextFormat(Qt.TextFormat.RichText)
        # any width (wrapped on a fixed height): its text changes per snapshot, and a width
        # that followed it would re-lay out the docks (see ui/curves.py's readout)
        self.readout.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        self.readout.setWordWrap(True)
        self.readout.setFixedHeight(2 * self.readout.fontMetrics().lineSpacing() + 4)
        self.readout.setVisible(False)

        self.acc_plot = plots.addPlot(row=2, col=0)
        self.cost_plot = plots.addPlot(row=3, col=0)
        for p in (self.acc_plot, self.cost_plot):
            for ax in ("left", "bottom"):  # no SI prefix first: one taken stays ("x 1000")
                p.getAxis(ax).enableAutoSIPrefix(False)
                p.getAxis(ax).setTextPen(pg.mkPen((60, 60, 60)))
                p.getAxis(ax).setPen(pg.mkPen((150, 150, 150)))
            p.showGrid(x=True, y=True, alpha=0.15)
            p.setMenuEnabled(False)
            p.hideButtons()
            p.getViewBox().setMouseEnabled(x=True, y=False)
            p.getAxis("left").setWidth(48)
            p.setXLink(link)
        self.acc_plot.setLabel("left", "accuracy: sample, population")
        self.cost_plot.setLabel("left", "transport")
        self.cost_plot.setLabel("bottom", "step")
        self.acc_plot.getAxis("bottom").setStyle(showValues=False)
        self.acc_plot.getAxis("left").setTicks(
            [[(v, f"{int(100 * v)}%") for v in (0.0, 0.25, 0.5, 0.75, 1.0)]]
        )

        def curve(plot: Any, color: tuple[int, int, int], name: str) -> Any:
            return plot.plot(
                [],
                [],
                pen=pg.mkPen(color, width=2),
                symbol="o",
                symbolSize=5,
                symbolPen=None,
                symbolBrush=color,
                name=name,
            )

        legend = self.acc_plot.addLegend(offset=(-8, -8), labelTextColor=(60, 60, 60))
        legend.setBrush(pg.mkBrush(255, 255, 255, 200))
        self.sample_acc = curve(self.acc_plot, SAMPLE_COLOR, "training sample")
        self.dense_acc = curve(self.acc_plot, POPULATION_COLOR, "population (fresh points)")
        self.acc_gap = pg.FillBetweenItem(self.sample_acc, self.dense_acc, brush=GAP_BRUSH)
        self.acc_plot.addItem(self.acc_gap)
        self.sample_cost = curve(self.cost_plot, SAMPLE_COLOR, "sample")
        self.dense_cost = curve(self.cost_plot, POPULATION_COLOR, "population")
        self.cost_gap = pg.FillBetweenItem(self.sample_cost, self.dense_cost, brush=GAP_BRUSH)
        self.cost_plot.addItem(self.cost_gap)
        self.markers = [pg.InfiniteLine(angle=90, movable=False) for _ in range(2)]
        for plot, m in zip((self.acc_plot, self.cost_plot), self.markers, strict=True):
            m.setPen(pg.mkPen((90, 90, 90, 200), width=1.5))
            plot.addItem(m, ignoreBounds=True)
        self.plots = (self.acc_plot, self.cost_plot)
        for p in self.plots:
            p.setVisible(False)
        state.snapshotsChanged.connect(self._on_snapshots)

    # ------------------------------------------------------------------ public
    def enabled(self) -> bool:
        return self._enabled

    def set_enabled(self, on: bool) -> None:
        """Show the plots and measure (off: hidden, and nothing is computed)."""
        self._enabled = bool(on)
        for p in self.plots:
            p.setVisible(self._enabled)
        self.readout.setVisible(self._enabled)
        if self._enabled:
            self._request()
        else:
            self._follow.stop()

    def wait_idle(self, timeout_s: float = 60.0) -> None:
        """Measure every picked snapshot now, on this thread (tests, export)."""
        for _ in range(MAX_POINTS // PER_JOB + 2):
            job = self._job()
            if job is None:
                return
            self._on_done(*self._jobs.run_now(job))

    def values(self) -> dict[str, np.ndarray]:
        """The arrays drawn: step, sample/dense accuracy, sample/population transport."""
        rows = [self.rows[s] for s in sorted(self.rows)]
        return {
            "step": np.array([r.step for r in rows], dtype=float),
            "sample_accuracy": np.array([r.sample_accuracy for r in rows]),
            "dense_accuracy": np.array([r.dense_accuracy for r in rows]),
            "sample_transport": np.array([r.sample_transport for r in rows]),
            "population_transport": np.array([r.population_transport for r in rows]),
        }

    def show_step(self, step: float | None) -> None:
        """The marker and the readout at the measured snapshot nearest `step`."""
        if not self._enabled:
            return
        if self._error:
            self.readout.setText(f"<span style='color:#a33'>{self._error}</span>")
            return
        if step is None or not self.rows:
            self.readout.setText(
                "<span style='color:#888'>measuring on fresh points …</span>"
                if self._enabled and self.state.snapshots
                else " "
            )
            return
        steps = np.array(sorted(self.rows))
        s = int(steps[np.argmin(np.abs(steps - step))])
        r = self.rows[s]
        for m in self.markers:
            m.setPos(float(s))
        self.readout.setText(_readout(r))

    # ------------------------------------------------------------------ measuring
    def _run_key(self) -> tuple[Any, ...]:
        st = self.state
        return (id(st.run_config), id(st.dataset), id(st.snapshots[0]) if st.snapshots else 0)

    @Slot()
    def _on_snapshots(self) -> None:
        if self._run_key() != self._key:
            self._key = self._run_key()
            self.rows = {}
            self._error = ""
            self._draw()
        if not self._enabled:
            return
        if self.state.training_state == "training":
            if not self._follow.isActive():
                self._follow.start()
        else:
            self._request()

    def _job(self) -> Any:
        """The next few unmeasured snapshots as a job (None when all are measured)."""
        st = self.state
        snaps = [s for s in st.snapshots if not _placeholder(s)]
        if not snaps or st.run_config.data.name == "drawn":
            if st.run_config.data.name == "drawn":
                self._error = "hand-drawn points have no distribution to sample again"
            return None
        picked = [snaps[i] for i in pick([s.step for s in snaps])]
        todo = [s for s in reversed(picked) if s.step not in self.rows][:PER_JOB]
        if not todo:
            return None
        config, dataset, classes = st.run_config, st.dataset, todo[0].weights.classes
        key = self._key
        return lambda: (key, _measure(config, dataset, todo, classes))

    @Slot()
    def _request(self) -> None:
        if not self._enabled:
            return
        job = self._job()
        if job is not None:
            self._jobs.request(job)
        else:
            self.show_step(self._current_step())

    @Slot(object, str)
    def _on_done(self, result: Any, error: str) -> None:
        if error:
            self._error = error
            self.show_step(None)
            return
        key, rows = result
        if key != self._key:
            return  # a run the window has moved on from
        for r in rows:
            self.rows[r.step] = r
        self._draw()
        if self.state.training_state != "training":
            self._request()  # the rest, a few at a time
        elif not self._follow.isActive():
            self._follow.start()

    def _current_step(self) -> float | None:
        shown = self.state.shown
        return float(shown.step) if shown is not None else None

    def _draw(self) -> None:
        v = self.values()
        self.sample_acc.setData(v["step"], v["sample_accuracy"])
        self.dense_acc.setData(v["step"], v["dense_accuracy"])
        self.sample_cost.setData(v["step"], v["sample_transport"])
        self.dense_cost.setData(v["step"], v["population_transport"])
        acc = np.r_[v["dense_accuracy"], v["sample_accuracy"]]
        acc = acc[np.isfinite(acc)]
        lo = math.floor(float(acc.min()) * 10) / 10 if len(acc) else 0.0  # tenths: few moves
        self.acc_plot.setYRange(max(0.0, lo), 1.01, padding=0.0)
        self.show_step(self._current_step())


def _placeholder(s: Snapshot) -> bool:
    """AppState's untrained step-0 entry (nothing measured by the trainer yet)."""
    return not math.isfinite(s.loss) and s.train_acc == 0.0 and s.test_acc == 0.0


def _pct(v: float) -> str:
    return "—" if not math.isfinite(v) else f"{100.0 * v:.1f}%"


def _num(v: float) -> str:
    return "—" if not math.isfinite(v) else f"{v:.3g}"


def _readout(r: SampleVsPopulation) -> str:
    """The numbers of one measured snapshot, named by its step."""
    s, p = pg.mkColor(SAMPLE_COLOR).name(), pg.mkColor(POPULATION_COLOR).name()
    gap = 100.0 * r.accuracy_gap
    gap_text = "—" if not math.isfinite(gap) else f"{gap:+.1f}&nbsp;pts"
    return (
        f"<b>step&nbsp;{r.step:,}</b> &nbsp; accuracy: "
        f"<span style='color:{s}'>sample&nbsp;{_pct(r.sample_accuracy)}</span> "
        f"<span style='color:{p}'>population&nbsp;{_pct(r.dense_accuracy)}</span> "
        f"gap&nbsp;{gap_text} &nbsp; transport: "
        f"<span style='color:{s}'>sample&nbsp;{_num(r.sample_transport)}</span> "
        f"<span style='color:{p}'>population&nbsp;{_num(r.population_transport)}</span>"
    )
