"""One column of Compare: one run's scene, view, numbers and winding ("a half").

Why it exists: Compare shows two runs side by side; everything about one of them is
here, so the window only trains them, links their sliders and cameras and compares
their numbers. A half builds its scenes off the GUI thread (ui/scene_builder.py, as the
main view), draws them in a ui/view_host.LayerViewHost (2-D or 3-D, re-created only
when the kind changes), measures the winding of the snapshot it shows in the
background, and says in its line which snapshot its numbers and its picture are of.
While its run trains it asks for a new scene at most every LIVE_REFRESH_MS (only the
newest snapshot). A half knows nothing of seeds or of the other half: `set_run` gives it
its run's config and data, so a half can show any run.
"""

from __future__ import annotations

import math
from typing import Any

from PySide6.QtCore import QObject, QSignalBlocker, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QLabel

from nndyn_gui.core.analysis import comparison, narrator
from nndyn_gui.core.config import RunConfig
from nndyn_gui.core.types import Dataset, NetWeights, Snapshot, TrainResult
from nndyn_gui.render.scene import FlowScene, ViewOptions
from nndyn_gui.render.views import opengl_available
from nndyn_gui.ui import steps
from nndyn_gui.ui.background import Job, NewestWins
from nndyn_gui.ui.diagnostics_panel import compute_topology
from nndyn_gui.ui.scene_builder import SceneBuilder, scene_job
from nndyn_gui.ui.view_host import LayerViewHost

MAX_SCENE_POINTS = 1500
LIVE_REFRESH_MS = 250  # ask for a new scene of a training run at most this often


class CompareHalf(QObject):
    """A column: `header`, `host` (its view) and `result` (its line), stacked."""

    #: FlowScene just drawn, and whether in a new view (the window links its camera)
    sceneShown = Signal(object, bool)
    changed = Signal()  # its numbers or winding changed (the window's verdict follows)
    error = Signal(str)  # a build or a topology report failed (one line)

    def __init__(self, name: str, parent: QObject) -> None:
        super().__init__(parent)
        self.name = name
        self.header = QLabel()
        bold = QFont()
        bold.setBold(True)
        self.header.setFont(bold)
        self.header.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.result = QLabel("not trained yet")
        self.result.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.result.setWordWrap(True)
        self.host = LayerViewHost(min_view_size=None)
        self.container = self.host
        self.builder = SceneBuilder(self, name=f"nndyn-compare-{name}")  # off the GUI thread
        self.builder.built.connect(self._on_built)
        self.topology_job = NewestWins(
            self, name=f"nndyn-compare-topo-{name}", what="compute topology"
        )
        self.topology_job.done.connect(self._on_topology)
        self.target: Snapshot | None = None  # the newest snapshot asked to be shown
        self.shown: Snapshot | None = None  # the snapshot whose picture is on screen
        self.pending: Snapshot | None = None  # a live snapshot not yet asked for
        self.result_data: TrainResult | None = None
        self.topology: Any = None  # the report of `topology_snap`
        self.topology_snap: Snapshot | None = None
        self.topology_wanted: Snapshot | None = None  # being computed
        self.note = ""  # "waiting…", "training…", "stopped", "failed: …"
        self.last_snapshot: Snapshot | None = None
        self.config: RunConfig | None = None  # the run's (with its seed)
        self._source: tuple[Dataset, ViewOptions] | None = None
        self._closed = False
        self._live = QTimer(self)
        self._live.setInterval(LIVE_REFRESH_MS)
        self._live.timeout.connect(self.flush)

    @property
    def view(self) -> Any:
        return self.host.view

    @property
    def kind(self) -> str:
        return self.host.kind

    @property
    def weights(self) -> NetWeights | None:
        """The newest weights asked to be shown."""
        return None if self.target is None else self.target.weights

    # ------------------------------------------------------------------ words
    def text(self) -> str:
        """The line under the column: the newest snapshot's accuracies, named by its step
        (and its winding once measured); the picture's step when it still shows another
        one ("picture: step 200 · computing step 400…")."""
        snap = self.pending or self.target
        if snap is None or (self.note and not narrator.is_trained(snap)):
            return self.note or "not trained yet"
        parts = [self.note] if self.note else []
        parts.append(result_text(self.result_data, self.topology_of(snap), snap))
        if self.shown is not snap and narrator.is_trained(snap):
            parts.append(f"picture: {steps.caption(self.shown, snap)}")
        elif self.topology_wanted is snap and self.topology_snap is not snap:
            parts.append("computing its winding…")
        return " · ".join(parts)

    def topology_of(self, snap: Snapshot) -> Any:
        return self.topology if self.topology_snap is snap else None

    def set_note(self, note: str) -> None:
        self.note = note
        self.refresh()

    def refresh(self) -> None:
        self.result.setText(self.text())

    def set_run(self, config: RunConfig, dataset: Dataset, options: ViewOptions) -> None:
        """The run this half shows: its config, data and view options (nothing is drawn)."""
        self.config = config
        self._source = (dataset, options)

    def reset(self, untrained: Snapshot) -> None:
        """Forget the run's results: show `untrained` (its initial weights, step 0)."""
        self.pending, self.result_data, self.topology = None, None, None
        self.topology_snap = self.topology_wanted = None
        self.last_snapshot = None
        self.note = ""
        self.show(untrained)
        self.refresh()

    def follow(self, snap: Snapshot) -> None:
        """A new snapshot of the run training: shown at the next live refresh."""
        self.pending = snap
        self.last_snapshot = snap
        self.set_note("training…")
        if not self._live.isActive():
            self._live.start()

    def finish(self, result: TrainResult, measure: bool) -> None:
        """The run ended: show its last snapshot (and measure its winding if `measure`)."""
        self._live.stop()
        self.result_data = result
        self.pending = None
        self.note = ""
        if result.snapshots:
            self.show(result.final)
            if measure:
                self.request_topology(result.final)
        else:
            self.note = f"{result.status}: {result.message}"
        self.refresh()

    def end_live(self) -> None:
        """Training ended (finished, stopped or failed): the newest snapshot is shown."""
        self._live.stop()
        self.flush()

    @Slot()
    def flush(self) -> None:
        """Ask for the scene of the newest live snapshot, if one is waiting."""
        if self.pending is not None:
            snap, self.pending = self.pending, None
            self.show(snap)

    def measured(self, n_test: int) -> comparison.Measured | None:
        """What the narrator compares: the numbers of the snapshot this half's line gives
        (None: no trained snapshot)."""
        snap, res = self.target, self.result_data
        if snap is None or res is None or self.config is None or not narrator.is_trained(snap):
            return None
        topo = self.topology_of(snap)
        return comparison.Measured(
            self.config,
            int(snap.step),
            float(snap.test_acc),
            n_test,
            res.status if snap is res.final else "finished",
            None if topo is None or topo.winding is None else int(topo.winding),
            topo is not None,
            math.nan if topo is None else float(topo.wrong_side_share),
        )

    # ------------------------------------------------------------------ scenes
    def job(self, snap: Snapshot) -> Job:
        assert self.config is not None and self._source is not None, "set_run first"
        dataset, opts = self._source
        flat = not opengl_available()
        build = scene_job(
            self.config, snap.weights, dataset, opts, MAX_SCENE_POINTS, snap.step, flat
        )
        return lambda: (build(), snap)

    def show(self, snap: Snapshot) -> None:
        """Ask for the scene of `snap` (built in the background)."""
        if self._closed:
            return
        self.target = snap
        self.builder.request(self.job(snap))

    def build_now(self, timeout_s: float = 30.0) -> None:
        """Build the newest asked-for scene on this thread and show it (tests, screenshots)."""
        if self.target is None:
            return
        self.builder.wait(timeout_s)
        self._on_built(*self.builder.run_now(self.job(self.target)))

    @Slot(object, str)
    def _on_built(self, result: tuple[FlowScene, Snapshot] | None, error: str) -> None:
        if result is None:
            if error:
                self.error.emit(error[:1].upper() + error[1:])
            return
        scene, snap = result
        with QSignalBlocker(self.host):  # a new view's own camera is not the pair's
            new_view = self.host.show_scene(scene)
        self.shown = snap  # before the window hears of it (a trained run opens at the output)
        self.sceneShown.emit(scene, new_view)
        self.refresh()
        self.changed.emit()

    # ------------------------------------------------------------------ topology
    def request_topology(self, snap: Snapshot) -> None:
        """Measure the winding of `snap` (in the background)."""
        assert self.config is not None, "set_run first"
        self.topology_wanted = snap
        config, weights = self.config, snap.weights
        self.topology_job.request(lambda: (snap, compute_topology(config, weights)))

    @Slot(object, str)
    def _on_topology(self, result: Any, error: str) -> None:
        if result is None:
            if error:
                self.error.emit(error[:1].upper() + error[1:])
            return
        snap, topo = result
        if self.result_data is None or all(s is not snap for s in self.result_data.snapshots):
            return  # a newer run of this side
        self.topology, self.topology_snap = topo, snap
        self.refresh()
        self.changed.emit()

    def busy(self) -> bool:
        """True while a scene or topology report is still being computed."""
        return self.builder.busy() or self.topology_job.busy()

    def set_time(self, t: float) -> None:
        if self.view is not None:
            self.view.set_time(t)

    def shutdown(self) -> None:
        self._closed = True
        self._live.stop()
        self.builder.shutdown()
        self.topology_job.shutdown()


def _pct(v: float) -> str:
    return "—" if v != v else f"{100.0 * v:.1f}%"


def result_text(result: TrainResult | None, topo: Any, snap: Snapshot | None = None) -> str:
    """ "step 1,200: train 97.0% · test 96.5% · winding 1 · …" for `snap` (default: the
    run's last), `topo` being that snapshot's topology report (or None)."""
    if snap is None:
        if result is None or not result.snapshots:
            return "" if result is None else f"{result.status}: {result.message}"
        snap = result.final
    if not narrator.is_trained(snap):
        return steps.step_name(snap)
    parts = [f"train {_pct(snap.train_acc)}", f"test {_pct(snap.test_acc)}"]
    if topo is not None:
        wind = "undetermined" if topo.winding is None else str(int(topo.winding))
        parts.append(f"winding {wind}")
        parts.append(f"{100.0 * float(topo.wrong_side_share):.1f}% of loop on wrong side")
    text = f"{steps.step_name(snap)}: " + " · ".join(parts)
    if result is not None and result.status != "finished" and snap is result.final:
        text = f"{result.status} at {text}"
    return text
