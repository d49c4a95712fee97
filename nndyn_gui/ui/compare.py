"""Two initialisations of the same experiment, side by side (the article's "two inits").

Why it exists: whether a net unties the ring can depend on the random start alone.
The window trains the current config twice, differing only in `train.seed`, and shows
both flows linked: one layer slider, one snapshot slider (the same training step on
both sides) and, in 3-D, one camera (turn either view, the other turns with it), so the
user sees the same layer of both nets from the same side at once and compares their
accuracies and winding numbers. Every number names the step it belongs to (ui/steps:
a column's line names the snapshot its picture shows, and the one it is computing),
each column has its own title and the sentence comparing them is the narrator's
(`narrator.compare_titles`, `narrator.compare_verdict`: a gap is called a difference
only beyond the test set's sampling error, the start blamed only when the seed is all
that differs). Export… writes both, side by side, as a picture
or a video (render/export.py, content "compare").

Training runs in the window's own engine worker
(core/engine/session.py via ui/training/engine_bridge.py), one
seed after the other (two runs at once would only fight over the same cores); the
worker starts when the window opens. Everything that propagates through the nets (the
two scenes, each side's topology report) is built off the GUI thread in
`ui/scene_builder.SceneBuilder` (as the main view's); while training, each side asks for a
new scene at most every LIVE_REFRESH_MS and only the newest request is built. Layer time
and Play are `ui/playback.Playback`, the main view's too.
"""

from __future__ import annotations

import math
from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal, Slot
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSlider,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from nndyn_gui.core.analysis import narrator
from nndyn_gui.core.config import RunConfig
from nndyn_gui.core.net.initial_weights import initial_weights
from nndyn_gui.core.types import Dataset, NetWeights, Snapshot, TrainResult
from nndyn_gui.render.scene import FlowScene, ViewOptions
from nndyn_gui.render.views import make_layer_view, opengl_available
from nndyn_gui.ui import steps
from nndyn_gui.ui.background import Job, NewestWins
from nndyn_gui.ui.diagnostics_panel import compute_topology
from nndyn_gui.ui.playback import SLIDER_RES, Playback
from nndyn_gui.ui.scene_builder import SceneBuilder, scene_job
from nndyn_gui.ui.state import AppState
from nndyn_gui.ui.training.engine_bridge import EngineBridge

SLIDER_STEPS = SLIDER_RES  # slider positions per frame, so Play glides between layers
PLAY_SECONDS = 4.0  # one pass through all layers
LIVE_REFRESH_MS = 250  # ask for a new scene of a training side at most this often
MAX_SCENE_POINTS = 1500
SIDES = ("A", "B")
SAME_BUT_SEED = "Same data and settings; only the weight seed differs (initial weights, batches)."


class _Side:
    """The widgets and data of one column."""

    def __init__(self, name: str, builder: SceneBuilder, topology: NewestWins) -> None:
        self.name = name
        self.header = QLabel()
        self.result = QLabel("not trained yet")
        self.container = QWidget()
        self.container_layout = QVBoxLayout(self.container)
        self.container_layout.setContentsMargins(0, 0, 0, 0)
        self.builder = builder  # this column's scenes, built off the GUI thread
        self.topology_job = topology  # and its final net's topology report
        self.view: Any = None
        self.kind = ""  # "2d" | "3d": the kind of `view`
        self.target: Snapshot | None = None  # the newest snapshot asked to be shown
        self.shown: Snapshot | None = None  # the snapshot whose picture is on screen
        self.pending: Snapshot | None = None  # a live snapshot not yet asked for
        self.result_data: TrainResult | None = None
        self.topology: Any = None  # the report of `topology_snap`
        self.topology_snap: Snapshot | None = None
        self.topology_wanted: Snapshot | None = None  # being computed
        self.note = ""  # "waiting…", "training…", "stopped", "failed: …"
        self.last_snapshot: Snapshot | None = None

    @property
    def weights(self) -> NetWeights | None:
        """The newest weights asked to be shown."""
        return None if self.target is None else self.target.weights

    def text(self) -> str:
        """The line under the column: the newest snapshot's accuracies, named by its step
        (and its winding once measured); the picture's step when it still shows another
        one ("picture: step 200 · computing step 400…")."""
        snap = self.pending or self.target
        if snap is None or (self.note and not narrator.is_trained(snap)):
            return self.note or "not trained yet"
        parts = [self.note] if self.note else []
        parts.append(_result_text(self.result_data, self._topology_of(snap), snap))
        if self.shown is not snap and narrator.is_trained(snap):
            parts.append(f"picture: {steps.caption(self.shown, snap)}")
        elif self.topology_wanted is snap and self.topology_snap is not snap:
            parts.append("computing its winding…")
        return " · ".join(parts)

    def _topology_of(self, snap: Snapshot) -> Any:
        return self.topology if self.topology_snap is snap else None


class CompareWindow(QWidget):
    """The current config trained from two seeds, shown side by side with one slider."""

    trainingFinished = Signal()  # both runs ended (finished, stopped or failed)

    def __init__(self, state: AppState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowFlag(Qt.WindowType.Window, True)
        self.setWindowTitle("Compare two initialisations")  # _update_headers: the config's
        self.resize(1100, 620)
        self.state = state
        self.options = ViewOptions(grid_n=17)
        self.engine = EngineBridge(self)
        self._config = state.config.copy()
        self._dataset: Dataset = state.dataset
        self._queue: list[tuple[int, RunConfig]] = []  # (side, config) still to train
        self._training: int | None = None  # the side training now
        self._running = False
        self._cancelled = False
        self._failure = ""
        self._closed = False

        seed = state.config.train.seed
        self.seed_spins = [QSpinBox(), QSpinBox()]
        for sp, v in zip(self.seed_spins, (seed, seed + 1), strict=True):
            sp.setRange(0, 2**31 - 1)
            sp.setValue(v)
            sp.valueChanged.connect(self._on_seed_changed)
        self.train_button = QPushButton("Train both")
        self.train_button.setToolTip("Train the current settings once from each seed")
        self.stop_button = QPushButton("Stop")
        self.stop_button.setEnabled(False)
        self.status_label = QLabel(SAME_BUT_SEED)
        self.status_label.setWordWrap(True)
        top = QHBoxLayout()
        for i, sp in enumerate(self.seed_spins):
            top.addWidget(QLabel(f"Seed {SIDES[i]}"))
            top.addWidget(sp)
        top.addWidget(self.train_button)
        top.addWidget(self.stop_button)
        top.addWidget(self.status_label, 1)

        self.sides: list[_Side] = []
        for name in SIDES:
            builder = SceneBuilder(self, name=f"nndyn-compare-{name}")
            topology = NewestWins(self, name=f"nndyn-compare-topo-{name}", what="compute topology")
            builder.built.connect(self._on_built)
            topology.done.connect(self._on_topology)
            self.sides.append(_Side(name, builder, topology))
        cols = QHBoxLayout()
        bold = QFont()
        bold.setBold(True)
        for side in self.sides:
            col = QVBoxLayout()
            side.header.setFont(bold)
            side.header.setAlignment(Qt.AlignmentFlag.AlignCenter)
            side.result.setAlignment(Qt.AlignmentFlag.AlignCenter)
            side.result.setWordWrap(True)
            col.addWidget(side.header)
            col.addWidget(side.container, 1)
            col.addWidget(side.result)
            cols.addLayout(col, 1)

        self.playback = Playback(lambda: PLAY_SECONDS, self)
        self.playback.label_text = lambda scene, t: scene.layer_label(t)
        self.playback.timeChanged.connect(self._on_time)
        self.play_button, self.slider = self.playback.play_button, self.playback.slider
        self.slider.setToolTip("Layer t of both nets")
        self.layer_label = self.playback.label
        self.layer_label.setMinimumWidth(150)
        bottom = QHBoxLayout()
        bottom.addWidget(self.play_button)
        bottom.addWidget(self.slider, 1)
        bottom.addWidget(self.layer_label)
        self.snapshot_slider = QSlider(Qt.Orientation.Horizontal)
        self.snapshot_slider.setToolTip("Replay training: both nets at the same training step")
        self.snapshot_slider.setEnabled(False)
        self.snapshot_label = QLabel("snapshot: after training")
        self.snapshot_label.setMinimumWidth(150)
        snap_row = QHBoxLayout()
        caption = QLabel("Snapshot")
        caption.setMinimumWidth(self.play_button.sizeHint().width())
        snap_row.addWidget(caption)
        snap_row.addWidget(self.snapshot_slider, 1)
        snap_row.addWidget(self.snapshot_label)
        self.export_button = QPushButton("Export…")
        self.export_button.setToolTip("Both runs side by side, as a picture or a video")
        self.export_button.setEnabled(False)
        top.addWidget(self.export_button)

        lay = QVBoxLayout(self)
        lay.addLayout(top)
        lay.addLayout(cols, 1)
        lay.addLayout(bottom)
        lay.addLayout(snap_row)
        self._linking = False  # a camera change being copied to the other side
        self._steps: list[int] = []  # training steps the snapshot slider walks

        self._live_timer = QTimer(self)
        self._live_timer.setInterval(LIVE_REFRESH_MS)
        self._live_timer.timeout.connect(self._flush_live)

        self.engine.snapshots.connect(self._on_snapshots)
        self.engine.finished.connect(self._on_run_finished)
        self.engine.failed.connect(self._on_run_failed)
        self.engine.workerLost.connect(self._on_worker_lost)
        self.train_button.clicked.connect(self.train_both)
        self.stop_button.clicked.connect(self.stop)
        self.snapshot_slider.valueChanged.connect(self._on_snapshot_slider)
        self.export_button.clicked.connect(self.open_export)
        state.configChanged.connect(self._on_config)
        state.datasetChanged.connect(self._on_config)
        self._reset_views()

    # ------------------------------------------------------------------ public
    def seeds(self) -> tuple[int, int]:
        return self.seed_spins[0].value(), self.seed_spins[1].value()

    def is_running(self) -> bool:
        return self._running

    def weights(self, side: int) -> NetWeights | None:
        """The weights a column shows or is about to show (initial, live, or final)."""
        s = self.sides[side]
        return s.pending.weights if s.pending is not None else s.weights

    def results(self) -> list[TrainResult | None]:
        return [s.result_data for s in self.sides]

    def views(self) -> list[Any]:
        return [s.view for s in self.sides]

    def busy(self) -> bool:
        """True while a scene or topology report is still being computed."""
        return any(s.builder.busy() or s.topology_job.busy() for s in self.sides)

    def wait_idle(self, timeout_s: float = 30.0) -> None:
        """Block until the newest scenes are built, then show them (tests, screenshots)."""
        for i, side in enumerate(self.sides):
            if side.target is not None:
                side.builder.wait(timeout_s)
                self._on_built(*side.builder.run_now(self._job(i, side.target)))
            if side.topology_job.busy():
                side.topology_job.wait(timeout_s)

    def set_step_index(self, i: int) -> None:
        """Show snapshot i of the snapshot slider (the same training step on both sides)."""
        self.snapshot_slider.setValue(min(max(int(i), 0), self.snapshot_slider.maximum()))

    def runs(self) -> list[Any]:
        """The two runs as plain data (config with the side's seed, data, snapshots up to
        the step the snapshot slider shows), for export; None for a side not trained."""
        from nndyn_gui.core.types import Run

        out: list[Any] = []
        step = self._steps[self.snapshot_slider.value()] if self._steps else None
        for i, side in enumerate(self.sides):
            res = side.result_data
            if res is None or not res.snapshots:
                out.append(None)
                continue
            cfg = self._config.copy()
            cfg.train.seed = self.seed_spins[i].value()
            snaps = list(res.snapshots)
            if step is not None:
                snaps = [s for s in snaps if s.step <= step] or snaps[:1]
            out.append(Run(cfg, self._dataset, snaps, res.status, res.message))
        return out

    def labels(self) -> list[str]:
        """What each side is called in an export: its seed, and the test accuracy of the
        snapshot exported (the one the snapshot slider shows) with its step."""
        out = []
        for i, side in enumerate(self.sides):
            text = f"Seed {SIDES[i]} = {self.seed_spins[i].value()}"
            snap = self._snapshot_at_slider(side)
            if snap is not None:
                text += f" · test {_pct(snap.test_acc)} ({steps.step_name(snap)})"
            out.append(text)
        return out

    def titles(self) -> tuple[str, str, str]:
        """(over both, column A, column B): the narrator's, from each side's config."""
        a, b = self._config.copy(), self._config.copy()
        a.train.seed, b.train.seed = self.seeds()
        return narrator.compare_titles(a, b)

    def _snapshot_at_slider(self, side: _Side) -> Snapshot | None:
        """The side's snapshot at the snapshot slider's step (its last when it has none)."""
        res = side.result_data
        if res is None or not res.snapshots:
            return None
        if not self._steps:
            return res.final
        step = self._steps[min(max(self.snapshot_slider.value(), 0), len(self._steps) - 1)]
        return min(res.snapshots, key=lambda s: abs(s.step - step))

    def camera(self) -> tuple[float, float, float] | None:
        """The linked 3-D camera (azimuth, elevation, zoom), None when the views are 2-D."""
        for side in self.sides:
            if side.kind == "3d" and side.view is not None:
                az, el, _ = side.view.camera()
                return float(az), float(el), float(side.view.zoom())
        return None

    def open_export(self) -> Any:
        """Export… : the Export dialog, set to the two runs side by side."""
        from nndyn_gui.ui.export_dialog import ExportDialog

        runs = self.runs()
        if any(r is None for r in runs):
            self.status_label.setText("Train both seeds first: there is nothing to export yet.")
            return None
        dlg = ExportDialog(
            self.state,
            self,
            view_options=self.options,
            camera=self.camera(),
            compare=(runs[0], runs[1], self.labels()),
        )
        dlg.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self._export_dialog = dlg
        dlg.show()
        return dlg

    def set_time(self, t: float) -> None:
        """Show frame t (fractional, clamped to the flow) in both columns; the slider follows."""
        self.playback.set_time(t)

    def showEvent(self, ev: Any) -> None:
        super().showEvent(ev)
        self.engine.start_worker()  # TensorFlow loads while the user picks the seeds

    def train_both(self) -> None:
        """Train the current config once per seed (one after the other)."""
        if self._running or self._closed:
            return
        self._config = self.state.config.copy()
        self._dataset = self.state.dataset
        self._queue = []
        for i, sp in enumerate(self.seed_spins):
            cfg = self._config.copy()
            cfg.train.seed = sp.value()
            self._queue.append((i, cfg))
        self._reset_views()
        for side in self.sides:
            side.note = "waiting…"
            side.result.setText(side.text())
        self._running = True
        self._update_snapshot_slider()
        self._cancelled = False
        self._failure = ""
        self.train_button.setEnabled(False)
        self.stop_button.setEnabled(True)
        for sp in self.seed_spins:
            sp.setEnabled(False)
        self.status_label.setText("Training seed A, then seed B…")
        self._live_timer.start()
        self._start_next()

    def stop(self) -> None:
        """Ask the run to stop after its current compiled call (returns at once)."""
        if not self._running:
            return
        self._cancelled = True
        self._queue = []
        self.engine.cancel()
        self.status_label.setText("Stopping…")

    def shutdown(self) -> None:
        """Stop training and every background job; end the worker (window close)."""
        self._closed = True
        self._queue = []
        self.playback.stop()
        self._live_timer.stop()
        self.engine.shutdown()
        for side in self.sides:
            side.builder.shutdown()
            side.topology_job.shutdown()
        self._running = False
        self._training = None
        self.train_button.setEnabled(True)
        self.stop_button.setEnabled(False)

    def closeEvent(self, ev: Any) -> None:
        self.shutdown()
        super().closeEvent(ev)

    # ------------------------------------------------------------------ training
    def _start_next(self) -> None:
        if not self._queue or self._cancelled:
            self._all_done()
            return
        i, cfg = self._queue.pop(0)
        self._training = i
        self.sides[i].note = "starting…"
        self.sides[i].result.setText(self.sides[i].text())
        if i > 0:
            self.status_label.setText(f"Training seed {SIDES[i]}…")
        self.engine.start(cfg, self._dataset)

    @Slot(object)
    def _on_snapshots(self, snaps: Any) -> None:
        i = self._training
        if i is None or not snaps:
            return
        side = self.sides[i]
        snap: Snapshot = snaps[-1]
        side.pending = snap
        side.last_snapshot = snap
        side.note = "training…"
        side.result.setText(side.text())

    @Slot(object)
    def _on_run_finished(self, result: Any) -> None:
        i = self._training
        if i is None:
            return
        side = self.sides[i]
        side.result_data = result
        side.pending = None
        side.note = ""
        if result.snapshots:
            self._show(i, result.final)
            if not self._cancelled and result.status != "cancelled":
                self._request_topology(i, result.final)
        else:
            side.note = f"{result.status}: {result.message}"
        side.result.setText(side.text())
        self._training = None
        self._start_next()

    @Slot(str, str)
    def _on_run_failed(self, message: str, _details: str = "") -> None:
        i = self._training
        self._failure = message
        if i is not None:
            self.sides[i].note = f"failed: {message}"
            self.sides[i].result.setText(self.sides[i].text())
        self._queue = []
        self._training = None
        self._all_done()

    @Slot(str, int)
    def _on_worker_lost(self, message: str, run_id: int) -> None:
        if run_id:
            self._on_run_failed(message)

    def _all_done(self) -> None:
        self._running = False
        self._training = None
        self._live_timer.stop()
        self._flush_live()
        self.train_button.setEnabled(True)
        self.stop_button.setEnabled(False)
        self._update_snapshot_slider()
        for sp in self.seed_spins:
            sp.setEnabled(True)
        for side in self.sides:
            if side.result_data is None and not side.note.startswith("failed"):
                side.note = "stopped" if self._cancelled else "not trained"
            side.result.setText(side.text())
        if self._failure:
            self.status_label.setText(f"Training failed: {self._failure}")
        elif self._cancelled:
            self.status_label.setText("Stopped.")
        else:
            self._update_verdict(done=True)
        self.trainingFinished.emit()

    def _update_verdict(self, done: bool = False) -> None:
        """ "Done. " and the narrator's comparison of the two columns' snapshots (once
        both are trained; `done`: training just ended, say so even without one)."""
        if self._running or self._failure or self._cancelled:
            return
        sentence = self.verdict()
        if sentence is not None:
            self.status_label.setText(f"Done. {sentence.text}")
        elif done:
            self.status_label.setText("Done.")

    def verdict(self) -> narrator.Sentence | None:
        """The narrator's comparison of the snapshots whose numbers the columns give (the
        snapshot slider's step; None: a side has no trained snapshot)."""
        measured = []
        for i, side in enumerate(self.sides):
            snap, res = side.target, side.result_data  # the snapshot its line gives numbers of
            if snap is None or res is None or not narrator.is_trained(snap):
                return None
            cfg = self._config.copy()
            cfg.train.seed = self.seed_spins[i].value()
            topo = side._topology_of(snap)
            measured.append(
                narrator.Measured(
                    cfg,
                    int(snap.step),
                    float(snap.test_acc),
                    len(self._dataset.y_test),
                    res.status if snap is res.final else "finished",
                    None if topo is None or topo.winding is None else int(topo.winding),
                    topo is not None,
                    math.nan if topo is None else float(topo.wrong_side_share),
                )
            )
        return narrator.compare_verdict(measured[0], measured[1], SIDES)

    # ------------------------------------------------------------------ views
    def _job(self, i: int, snap: Snapshot) -> Job:
        flat = not opengl_available()
        build = scene_job(
            self._config,
            snap.weights,
            self._dataset,
            self.options,
            MAX_SCENE_POINTS,
            snap.step,
            flat,
        )
        return lambda: (i, build(), snap)

    def _update_snapshot_slider(self) -> None:
        """The training steps both runs have a snapshot of: the slider walks those."""
        done = [s.result_data for s in self.sides if s.result_data and s.result_data.snapshots]
        steps: list[int] = []
        if len(done) == 2 and not self._running:
            a, b = ({snap.step for snap in r.snapshots} for r in done)
            steps = sorted(a & b)
        self._steps = steps
        self.snapshot_slider.blockSignals(True)
        self.snapshot_slider.setRange(0, max(0, len(steps) - 1))
        self.snapshot_slider.setValue(max(0, len(steps) - 1))
        self.snapshot_slider.blockSignals(False)
        self.snapshot_slider.setEnabled(len(steps) > 1)
        self.export_button.setEnabled(len(done) == 2 and not self._running)
        self.snapshot_label.setText(
            f"step {steps[-1]:,} (both)" if steps else "snapshot: after training"
        )
        for side in self.sides:
            side.result.setText(side.text())

    @Slot(int)
    def _on_snapshot_slider(self, i: int) -> None:
        if not self._steps or self._running:
            return
        step = self._steps[min(max(i, 0), len(self._steps) - 1)]
        for k, side in enumerate(self.sides):
            snap = self._snapshot_at_slider(side)
            if snap is None:
                continue
            self._show(k, snap)
            if side.topology_snap is not snap:
                self._request_topology(k, snap)
            side.result.setText(side.text())
        self.snapshot_label.setText(f"step {step:,} (both)")
        self._update_verdict()

    @Slot()
    def _link_camera(self) -> None:
        """One side's 3-D camera moved: the other side looks from the same place."""
        if self._linking:
            return
        src: Any = self.sender()
        self._linking = True
        try:
            for side in self.sides:
                v = side.view
                if v is src or v is None or side.kind != "3d" or not hasattr(src, "camera"):
                    continue
                az, el, _ = src.camera()
                v.set_camera(az, el, zoom=src.zoom())
        finally:
            self._linking = False

    def _reset_views(self) -> None:
        """Show the untrained net of each seed: the two starting points being compared."""
        for i, side in enumerate(self.sides):
            w = initial_weights(
                self._config.model, self.seed_spins[i].value(), self._config.data.classes
            )
            side.pending, side.result_data, side.topology = None, None, None
            side.topology_snap = side.topology_wanted = None
            side.last_snapshot = None
            side.note = ""
            self._show(i, Snapshot(0, math.nan, math.nan, math.nan, w))  # untrained (step 0)
            side.result.setText(side.text())
        self._update_headers()

    def _show(self, i: int, snap: Snapshot) -> None:
        """Ask for column i's scene of `snap` (built in the background)."""
        if self._closed:
            return
        side = self.sides[i]
        side.target = snap
        side.builder.request(self._job(i, snap))

    @Slot(object, str)
    def _on_built(self, result: tuple[int, FlowScene, Snapshot] | None, error: str) -> None:
        if result is None:
            if error:
                self.status_label.setText(error[:1].upper() + error[1:])
            return
        i, scene, snap = result
        self._show_scene(i, scene)
        side = self.sides[i]
        side.shown = snap
        side.result.setText(side.text())
        self._update_verdict()

    def _show_scene(self, i: int, scene: FlowScene) -> None:
        side = self.sides[i]
        # the kind of view, not the scene's dims: a 2-D view keeps a projected copy
        kind = "3d" if scene.dims == 3 and opengl_available() else "2d"
        if side.view is None or kind != side.kind:
            side.kind = kind
            if side.view is not None:
                side.container_layout.removeWidget(side.view)
                side.view.setParent(None)
                side.view.deleteLater()
            side.view = make_layer_view(scene, side.container, prefer_3d=True)
            side.container_layout.addWidget(side.view)
            if hasattr(side.view, "cameraChanged"):
                side.view.cameraChanged.connect(self._link_camera)
                other = self.sides[1 - i].view
                if other is not None and hasattr(other, "cameraChanged"):
                    az, el, _ = other.camera()
                    side.view.set_camera(az, el, zoom=other.zoom())  # start linked
        else:
            side.view.set_scene(scene)
        self.playback.set_scene(scene)
        t = self.playback.time()
        if t > scene.t_max:  # a shallower flow: both views go to its last layer
            self.playback.set_time(scene.t_max)
        else:
            side.view.set_time(t)

    def _flush_live(self) -> None:
        for i, side in enumerate(self.sides):
            if side.pending is not None:
                snap, side.pending = side.pending, None
                self._show(i, snap)

    def _request_topology(self, i: int, snap: Snapshot) -> None:
        """Measure the winding of column i's snapshot `snap` (in the background)."""
        config = self._config.copy()
        config.train.seed = self.seed_spins[i].value()
        side = self.sides[i]
        side.topology_wanted = snap
        weights = snap.weights
        side.topology_job.request(lambda: (i, snap, compute_topology(config, weights)))

    @Slot(object, str)
    def _on_topology(self, result: Any, error: str) -> None:
        if result is None:
            if error:
                self.status_label.setText(error[:1].upper() + error[1:])
            return
        i, snap, topo = result
        side = self.sides[i]
        if side.result_data is None or all(s is not snap for s in side.result_data.snapshots):
            return  # a newer run of this side
        side.topology, side.topology_snap = topo, snap
        side.result.setText(side.text())
        self._update_verdict()

    def _update_headers(self) -> None:
        """Each column's own title (the narrator's, from its config and seed), and the
        window's: what the two runs have in common."""
        top, *halves = self.titles()
        self.setWindowTitle(f"Compare — {top}")
        for i, side in enumerate(self.sides):
            side.header.setText(f"{SIDES[i]}: {halves[i]}")
            side.header.setToolTip(f"Seed {SIDES[i]} = {self.seed_spins[i].value()}")

    # ------------------------------------------------------------------ slots
    @Slot(float)
    def _on_time(self, t: float) -> None:
        for side in self.sides:
            if side.view is not None:
                side.view.set_time(t)

    @Slot(int)
    def _on_seed_changed(self, *_: object) -> None:
        if not self._running:
            self._reset_views()

    @Slot(object)
    def _on_config(self, *_: object) -> None:
        if not self._running and not self._closed:
            self._config = self.state.config.copy()
            self._dataset = self.state.dataset
            seed = self._config.train.seed
            for sp, v in zip(self.seed_spins, (seed, seed + 1), strict=True):
                sp.blockSignals(True)
                sp.setValue(v)
                sp.blockSignals(False)
            self._reset_views()


def _pct(v: float) -> str:
    return "—" if v != v else f"{100.0 * v:.1f}%"


def _result_text(result: TrainResult | None, topo: Any, snap: Snapshot | None = None) -> str:
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
