"""Numbers behind the picture: is each block invertible, how far do points move, topology.

Why it looks like this: the views show *that* a width-2 ResNet fails on the ring; this
panel says *why*, in the article's terms. Per block it shows h·‖A‖₂·Lip(s) (< 1 means
the block is a homeomorphism), the singular values and det of its linear part, and over
the data points the σmin/σmax of its Jacobian (median, 5th percentile: "squashed" when
the median is below 1e-2), the share of points where det J < 0 (a ResNet fold) and the
share where a unit saturates; then a one-line verdict that follows from those numbers,
the displacement per layer (the turnpike profile) and, for ring-like data, the winding
number of the outer loop (or why it is undetermined).

The per-block numbers take ~10 ms for the presets but half a second for a 200x64 net
or 100k points, so they are computed in the background (`NewestWins`), debounced
while the user scrubs snapshots; `refresh_now` still computes synchronously (tests,
screenshots). The topology report samples ~50k fresh points, so it has a NewestWins
of its own (and while training runs at most every few seconds). A result for a
snapshot that is no longer shown is dropped.

Every number here names its snapshot: the metrics line starts with its step, the
topology box's title with the step of its report. While either computes for the
snapshot now on screen (`AppState.shown`), it says "computing step N…" and its old
values are drawn dimmed (ui/steps.py: one wording for every panel).

What an update puts on screen (the verdict, the metrics line, the table's rows, the
bars) is made in the background job with the numbers (`shown_values`); the GUI thread
only hands strings and arrays to widgets, and the table (ui/block_table.py, model/view)
draws only the cells Qt paints: a snapshot of the 100-block preset costs the GUI thread
~2 ms instead of filling 1,100 table items.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer, Slot
from PySide6.QtGui import QColor, QFont, QPalette
from PySide6.QtWidgets import QFrame, QLabel, QScrollArea, QVBoxLayout, QWidget

from nndyn_gui.core.analysis import narrator
from nndyn_gui.core.analysis.diagnostics import Diagnostics, diagnose
from nndyn_gui.core.analysis.topology import TopologyReport, not_applicable, topology_report
from nndyn_gui.core.config import RunConfig
from nndyn_gui.core.datasets import outer_loop
from nndyn_gui.core.types import Dataset, NetWeights, Snapshot
from nndyn_gui.ui import hamiltonian_plot, steps
from nndyn_gui.ui.background import for_the_shown_run
from nndyn_gui.ui.block_table import (
    BAD_COLOR,
    OK_COLOR,
    BlockRows,
    BlockTable,
    ColumnGroups,
    block_rows,
)
from nndyn_gui.ui.block_table import fmt as _fmt
from nndyn_gui.ui.block_table import pct as _pct
from nndyn_gui.ui.state import AppState
from nndyn_gui.ui.steps import step_name

log = logging.getLogger(__name__)

DEBOUNCE_MS = 100
TRAINING_REFRESH_MS = 1000  # while training: the numbers once a second
TOPOLOGY_TRAINING_S = 3.0  # and a topology report at most every 3 s
WARN_COLOR = "#9a6700"
BAR_COLOR = (0, 114, 178, 200)
PENDING_BAR_COLOR = (150, 150, 150, 160)
TOPOLOGY_TITLE = "Topology of the outer loop"


# ---------------------------------------------------------------------- computations
def compute_diagnostics(config: RunConfig, weights: NetWeights, dataset: Dataset) -> Diagnostics:
    """core.analysis.diagnostics.diagnose (numpy; from ~10 ms to ~0.5 s for the largest nets)."""
    return diagnose(config, weights, dataset)


def compute_topology(config: RunConfig, weights: NetWeights) -> TopologyReport | None:
    """core.analysis.topology.topology_report (None for data without a loop); ~50k points: slow."""
    return topology_report(config, weights)


# ---------------------------------------------------------------------- wording
VerdictLevel = str  # "ok" | "warn" | "bad"


def summary_text(config: RunConfig, diag: Any) -> tuple[str, VerdictLevel]:
    """One-line verdict for the whole net and how good the news is: the narrator's."""
    sentence = narrator.verdict(config, diag)
    return sentence.text, sentence.level


def topology_text(config: RunConfig, diag: Any, rep: Any, trained: bool | None = None) -> str:
    """Plain words for a TopologyReport (the narrator's); `diag` of the same weights."""
    return narrator.topology(config, diag, rep, trained).text


@dataclass(frozen=True)
class _Shown:
    """What the GUI thread puts on screen for one snapshot's diagnostics: made in the
    background job with them, so an update only hands strings and arrays to widgets."""

    summary: tuple[str, VerdictLevel]
    metrics: str  # the metrics line after its step (rich text)
    rows: BlockRows
    displacement: np.ndarray  # mean ‖Δx‖ per layer, 0 where not finite
    profile_title: str  # the displacement plot's title, with the middle half's share
    hamiltonian: np.ndarray | None = None  # H_t per block (ui/hamiltonian_plot.py)


#: a diagnostics job's result: config, snapshot, numbers and their view (None, None and
#: the error's words when it failed)
_Result = tuple[RunConfig, Snapshot, Diagnostics | None, _Shown | None, str]


def shown_values(config: RunConfig, diag: Any) -> _Shown:
    """Words, table rows and bars for `diag` (no Qt)."""
    resnet = config.model.kind == "resnet"
    parts = [
        f"train acc <b>{_pct(diag.train_acc)}</b>",
        f"test acc <b>{_pct(diag.test_acc)}</b>",
        f"transport cost <b>{_fmt(float(diag.transport))}</b>",
    ]
    recon = float(diag.reconstruction_error)
    if resnet or math.isfinite(recon):
        parts.append(f"inverse reconstruction error <b>{_fmt(recon)}</b>")
    margin = float(getattr(diag, "plane_margin", math.nan))
    if math.isfinite(margin):
        to = "the plane" if config.data.classes == 2 else "the class borders"
        parts.append(f"margin to {to} <b>{_fmt(margin)}</b>")
    disp = np.asarray(diag.displacement, dtype=np.float64).ravel()
    return _Shown(
        summary_text(config, diag),
        " · ".join(p for p in parts if p),
        block_rows(diag, resnet),
        np.where(np.isfinite(disp), disp, 0.0),
        profile_title(diag),
    )


PROFILE_TITLE = "Displacement per layer"


def profile_title(diag: Any) -> str:
    """'Displacement per layer / middle half of the layers: 47%': the share of the distance
    travelled that the middle half of the layers covers (0.5 is
    an even profile; a turnpike would put far less there), or the bare title."""
    share = float(getattr(diag, "middle_share", math.nan))
    if not math.isfinite(share) or len(diag.displacement) < 4:
        return PROFILE_TITLE
    # a second line: in a side dock one line cut the number off
    return f"{PROFILE_TITLE}<br>middle half of the layers: {_pct(share)}"


# ---------------------------------------------------------------------- widget
class DiagnosticsPanel(QWidget):
    """Per-block invertibility table, verdict, displacement profile and topology."""

    def __init__(self, state: AppState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self.diagnostics: Any = None
        self.snapshot: Snapshot | None = None  # the one `diagnostics` were computed for
        self.topology: Any = None
        #: the snapshot the topology box's text is about (its report, "not applicable", or
        #: its failure); None before the first
        self.topology_snapshot: Snapshot | None = None
        self._metrics_values = ""  # the metrics line after its step (rich text)
        self._summary: tuple[str, VerdictLevel] = ("", "ok")
        self._topo_color = ""  # the topology text's own colour ("" = normal)
        self._topo_for: tuple[RunConfig, Any] = (state.run_config, None)  # the last request's
        self._dimmed: tuple[bool, bool] | None = None  # (diagnostics, topology) drawn dimmed
        self._topo_gen = 0
        self._topo_key: tuple[int, int] | None = None
        self._topo_started = -1e9  # time.monotonic() of the last topology job

        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(DEBOUNCE_MS)
        self._debounce.timeout.connect(self._refresh_in_background)
        self._jobs = for_the_shown_run(self, state, "nndyn-diagnostics", "compute diagnostics")
        self._jobs.done.connect(self._on_computed)
        self._topo_jobs = for_the_shown_run(self, state, "nndyn-topology", "compute topology")
        self._topo_jobs.done.connect(self._on_topology)

        self.summary_label = QLabel()
        self.summary_label.setWordWrap(True)
        bold = QFont()
        bold.setBold(True)
        self.summary_label.setFont(bold)
        self.metrics_label = QLabel()
        self.metrics_label.setWordWrap(True)
        self.metrics_label.setTextFormat(Qt.TextFormat.RichText)

        self.topology_title = QLabel(TOPOLOGY_TITLE)
        self.topology_title.setFont(bold)
        self.topology_title.setWordWrap(True)  # "— step 1,000 · computing step 1,200…"
        self.topology_label = QLabel()
        self.topology_label.setWordWrap(True)
        self.topology_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        self.displacement_plot = pg.PlotWidget(background="w")
        self.displacement_plot.setMinimumHeight(130)
        self.displacement_plot.setToolTip(
            "mean distance each layer moves the points; 'middle half of the layers': the share "
            "of the whole distance they cover (50%: evenly; a turnpike puts far less there)"
        )
        self.displacement_plot.setMaximumHeight(190)  # two title lines
        pi = self.displacement_plot.getPlotItem()
        hamiltonian_plot.style_layer_plot(pi, PROFILE_TITLE, "mean ‖Δx‖")
        self.bars = pg.BarGraphItem(x=[], height=[], width=0.8, brush=pg.mkBrush(*BAR_COLOR))
        pi.addItem(self.bars)

        #: H_t per layer of the same snapshot, with a line at the layer the view shows
        self.hamiltonian = hamiltonian_plot.HamiltonianPlot()

        self.table = BlockTable()
        self.table_groups = ColumnGroups(self.table)  # when the dock is too narrow for all

        body = QWidget()
        lay = QVBoxLayout(body)
        lay.setContentsMargins(6, 6, 6, 6)
        lay.setSpacing(6)
        lay.addWidget(self.summary_label)
        lay.addWidget(self.metrics_label)
        self.topology_box = QFrame()
        self.topology_box.setFrameShape(QFrame.Shape.StyledPanel)
        tl = QVBoxLayout(self.topology_box)
        tl.setContentsMargins(6, 4, 6, 4)
        tl.addWidget(self.topology_title)
        tl.addWidget(self.topology_label)
        lay.addWidget(self.topology_box)
        lay.addWidget(hamiltonian_plot.PlotRow(self.displacement_plot, self.hamiltonian))
        lay.addWidget(self.table_groups)
        lay.addSpacing(-6)  # the tabs sit on the table
        lay.addWidget(self.table, 1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setWidget(body)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(scroll)

        state.shownChanged.connect(self._schedule)  # the numbers of the drawn snapshot
        state.shownChanged.connect(self._show_steps)  # "computing step N…" at once
        state.configChanged.connect(self._schedule)
        state.datasetChanged.connect(self._schedule)
        state.trainingStateChanged.connect(self._schedule)  # the end gets full numbers
        self.refresh_now()

    # ------------------------------------------------------------------ public
    def refresh_now(self) -> None:
        """Recompute for the snapshot shown now, on this thread (tests, screenshots)."""
        self._debounce.stop()
        job = self._job()
        if job is not None:
            self._on_computed(*self._jobs.run_now(job))

    def wait_idle(self) -> None:
        """Numbers and topology report of the snapshot shown now, computed on this thread
        (automation: a screenshot must not show one panel still computing)."""
        self.refresh_now()
        if self.snapshot is not None and self.snapshot is self._target():
            self._request_topology(self.state.run_config, self.snapshot, now=True)

    def pending_snapshot(self) -> Snapshot | None:
        """The snapshot on screen whose numbers are still being computed (None: shown)."""
        return steps.pending(self.snapshot, self._target())

    def topology_pending_snapshot(self) -> Snapshot | None:
        """The same for the topology box (None also while it is hidden)."""
        if not self.topology_box.isVisibleTo(self):
            return None
        return steps.pending(self.topology_snapshot, self._target())

    def diagnostics_busy(self) -> bool:
        """True while new numbers are waiting for the debounce or being computed."""
        return self._debounce.isActive() or self._jobs.busy()

    def _refresh_in_background(self) -> None:
        job = self._job()
        if job is not None:
            self._jobs.request(job)

    def _target(self) -> Snapshot | None:
        """The snapshot whose numbers belong on screen: the one the main view shows."""
        return steps.on_screen(self.state)

    def _job(self) -> Callable[[], _Result] | None:
        st = self.state
        snap = self._target()
        if snap is None:
            return None
        config, weights, data = st.run_config, snap.weights, st.dataset
        if weights.width != config.model.width or weights.depth != config.model.depth:
            return None  # a config change is on its way; its own signal refreshes us

        def job() -> _Result:
            try:
                diag = compute_diagnostics(config, weights, data)
                ham = hamiltonian_plot.values(config, weights, data)
                return config, snap, diag, replace(shown_values(config, diag), hamiltonian=ham), ""
            except Exception as e:  # never let a diagnostic crash the window
                log.exception("diagnostics of step %d failed", snap.step)
                error = f"cannot compute diagnostics: {type(e).__name__}: {e}"
                return config, snap, None, None, error

        return job

    @Slot(object, str)
    def _on_computed(self, result: Any, error: str) -> None:
        if result is None:  # the job itself failed (it catches what it computes)
            self.diagnostics = None
            self._set_summary(error[:1].upper() + error[1:], "bad")  # "Cannot compute …"
            self._show_steps()
            return
        config, snap, diag, view, error = result
        self.snapshot = snap
        self.diagnostics = diag
        if diag is None or view is None:  # no numbers of another snapshot under this one's
            self._metrics_values = ""
            self._set_summary(error[:1].upper() + error[1:], "bad")
            self.table.clear_rows()
            self.bars.setOpts(x=[], height=[], width=0.8)
            self.hamiltonian.set_values(None)
        else:
            self._show(view)
            self._request_topology(config, snap)
        self._show_steps()

    def topology_busy(self) -> bool:
        """True while a topology report is being computed (or queued)."""
        return self._topo_jobs.busy()

    # ------------------------------------------------------------------ slots
    @Slot(object)
    def _schedule(self, *_: object) -> None:
        if self.state.training_state == "training":
            if not self._debounce.isActive():  # not restarted: a fresh verdict each second
                self._debounce.start(TRAINING_REFRESH_MS)
        else:
            self._debounce.start(DEBOUNCE_MS)

    # ------------------------------------------------------------------ display
    def _set_summary(self, text: str, level: VerdictLevel) -> None:
        mark = {"ok": "✓ ", "warn": "⚠ "}.get(level, "✗ ")
        self._summary = (text, level)
        self.summary_label.setText(mark + text)
        self._dimmed = None  # its colour is set by _show_steps

    @Slot()
    def _show_steps(self, *_: object) -> None:
        """Name the step of every number here; dim those of an older snapshot than the one
        on screen and say which step is being computed (ui/steps.py)."""
        target = self._target()
        snap = self.snapshot
        todo = steps.pending(snap, target)
        head = f"<b>{step_name(snap)}</b>" if snap is not None else ""
        if todo is not None:
            head = " · ".join(p for p in (head, f"<i>{steps.pending_name(todo)}</i>") if p)
        values = self._metrics_values
        dim = todo is not None and snap is not None
        if values and dim:
            values = f"<span style='color:{steps.PENDING_COLOR}'>{values}</span>"
        self.metrics_label.setText(" · ".join(p for p in (head, values) if p))
        self.hamiltonian.set_caption(steps.caption(snap, target), dim)
        topo_todo = steps.pending(self.topology_snapshot, target)
        title = TOPOLOGY_TITLE
        topo_caption = steps.caption(self.topology_snapshot, target)
        if topo_caption:
            title += f" — {topo_caption}"
        self.topology_title.setText(title)
        topo_dim = topo_todo is not None and self.topology_snapshot is not None
        if self._dimmed == (dim, topo_dim):
            return
        self._dimmed = (dim, topo_dim)  # colours only when they change (a restyle costs)
        level = self._summary[1]
        color = {"ok": OK_COLOR, "warn": WARN_COLOR}.get(level, BAD_COLOR)
        self.summary_label.setStyleSheet(f"color: {steps.PENDING_COLOR if dim else color};")
        pal = self.table.palette()
        normal = self.palette().color(QPalette.ColorRole.Text)
        pal.setColor(QPalette.ColorRole.Text, QColor(steps.PENDING_COLOR) if dim else normal)
        self.table.setPalette(pal)
        self.bars.setOpts(brush=pg.mkBrush(*(PENDING_BAR_COLOR if dim else BAR_COLOR)))
        topo_color = steps.PENDING_COLOR if topo_dim else self._topo_color
        self.topology_label.setStyleSheet(f"color: {topo_color};" if topo_color else "")

    def _show(self, view: _Shown) -> None:
        self._set_summary(*view.summary)
        self._metrics_values = view.metrics
        self.table.set_rows(view.rows)
        disp = view.displacement
        pi = self.displacement_plot.getPlotItem()
        if pi.titleLabel.text != view.profile_title:
            pi.setTitle(view.profile_title, color="#333", size="9pt")
        self.bars.setOpts(x=np.arange(1, len(disp) + 1), height=disp, width=0.8)
        self.hamiltonian.set_values(view.hamiltonian)
        self.displacement_plot.getPlotItem().setXRange(0.4, max(1, len(disp)) + 0.6, padding=0)
        top = float(disp.max()) if disp.size else 1.0
        self.displacement_plot.getPlotItem().setYRange(0.0, top * 1.08 or 1.0, padding=0)

    # ------------------------------------------------------------------ topology
    def _request_topology(self, config: RunConfig, snap: Snapshot, now: bool = False) -> None:
        """A topology report of `snap` (the diagnostics' snapshot): at once when it is
        only words ("not applicable", no loop), else in the background (while training
        at most every TOPOLOGY_TRAINING_S), or on this thread when `now`."""
        weights = snap.weights
        key = (id(config), id(weights))
        on_its_way = not now and self._topo_jobs.busy()
        if key == self._topo_key and (self.topology_snapshot is snap or on_its_way):
            return  # same snapshot: shown already, or on its way
        loop = outer_loop(config.data, 3) is not None
        if config.data.classes != 2 or not loop:
            self._topo_key = key
            self._topo_gen += 1  # a report still computing is for another config
            self.topology = None
            self.topology_snapshot = snap
            if config.data.classes != 2:  # a binary-only notion: say so rather than hide it
                self.topology_box.setVisible(True)
                self._set_topology_text(not_applicable(config).capitalize() + ".", "#777")
            else:  # e.g. drawn while training: hide it now
                self.topology_box.setVisible(False)
            self._show_steps()
            return
        busy = self._topo_jobs.busy()
        recent = time.monotonic() - self._topo_started < TOPOLOGY_TRAINING_S
        if not now and self.state.training_state == "training" and (busy or recent):
            return  # 50k points through every layer: while training, now and then only
        self._topo_key = key
        self._topo_gen += 1  # a report still computing for an older snapshot is dropped
        self.topology_box.setVisible(True)
        gen, config, weights = self._topo_gen, config.copy(), weights.copy()
        same = self.snapshot is snap  # its words: this snapshot's numbers, never another's
        self._topo_for = (config, self.diagnostics if same else None)

        def job() -> tuple[int, Snapshot, TopologyReport | None, str]:
            try:
                return gen, snap, compute_topology(config, weights), ""
            except Exception as e:  # shown in the box; the window stays usable
                log.exception("topology report of step %d failed", snap.step)
                return gen, snap, None, f"cannot compute topology: {type(e).__name__}: {e}"

        if now:
            self._on_topology(*self._topo_jobs.run_now(job))
            return
        self._topo_started = time.monotonic()
        self._topo_jobs.request(job)
        self._show_steps()  # "computing step N…" over the old text, dimmed

    @Slot(object, str)
    def _on_topology(self, result: Any, error: str) -> None:
        if result is None:  # the job itself failed (it catches what it computes)
            log.error("topology report failed: %s", error)
            return
        gen, snap, rep, error = result
        if gen != self._topo_gen:  # stale results (an older snapshot, another run): dropped
            return
        if error:
            self.topology = None
            self.topology_snapshot = snap
            self._set_topology_text(f"Topology report failed: {error}", BAD_COLOR)
        else:
            self._show_topology(rep, snap)
        self._show_steps()

    def _set_topology_text(self, text: str, color: str = "") -> None:
        self._topo_color = color
        self.topology_label.setText(text)
        self._dimmed = None  # its colour is set by _show_steps

    def _show_topology(self, rep: Any, snap: Snapshot) -> None:
        self.topology = rep
        self.topology_snapshot = snap
        if rep is None:
            self.topology_box.setVisible(False)
            return
        self.topology_box.setVisible(True)
        config, diag = self._topo_for
        text = topology_text(config, diag, rep, narrator.is_trained(snap))
        self._set_topology_text(text)

    def closeEvent(self, ev: Any) -> None:
        self.shutdown()
        super().closeEvent(ev)

    def shutdown(self, timeout_s: float = 5.0) -> None:
        """Drop queued work and wait for the jobs in flight (clean exit)."""
        self._topo_gen += 1
        self._debounce.stop()
        self._jobs.shutdown(timeout_s)
        self._topo_jobs.shutdown(timeout_s)
