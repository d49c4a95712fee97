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
and Play are `ui/playback.Playback`, the main view's too. Each column is a
`ui/compare_half.CompareHalf` (one run's scene, view, numbers and winding); this window
trains the runs and links the halves.
"""

from __future__ import annotations

import math
from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal, Slot
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
from nndyn_gui.ui import steps
from nndyn_gui.ui.compare_half import MAX_SCENE_POINTS, CompareHalf, result_text
from nndyn_gui.ui.compare_half import _pct as _pct
from nndyn_gui.ui.playback import SLIDER_RES, Playback
from nndyn_gui.ui.state import AppState
from nndyn_gui.ui.training.engine_bridge import EngineBridge

__all__ = ["MAX_SCENE_POINTS", "CompareWindow", "_result_text"]

_result_text = result_text  # the words of a column's line (tests read them)
SLIDER_STEPS = SLIDER_RES  # slider positions per frame, so Play glides between layers
PLAY_SECONDS = 4.0  # one pass through all layers
LIVE_REFRESH_MS = 250  # ask for a new scene of a training side at most this often
SIDES = ("A", "B")
SAME_BUT_SEED = "Same data and settings; only the weight seed differs (initial weights, batches)."


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

        self.sides: list[CompareHalf] = []
        for name in SIDES:
            half = CompareHalf(name, self)
            half.sceneShown.connect(self._on_scene_shown)
            half.changed.connect(self._update_verdict)
            half.error.connect(self.status_label.setText)
            half.host.cameraChanged.connect(self._link_camera)
            self.sides.append(half)
        cols = QHBoxLayout()
        for side in self.sides:
            col = QVBoxLayout()
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
        return any(s.busy() for s in self.sides)

    def wait_idle(self, timeout_s: float = 30.0) -> None:
        """Block until the newest scenes are built, then show them (tests, screenshots)."""
        for side in self.sides:
            side.build_now(self._config, self._dataset, self.options)
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

    def _snapshot_at_slider(self, side: CompareHalf) -> Snapshot | None:
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
            camera = side.host.camera()
            if camera is not None:
                return camera
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
            side.set_note("waiting…")
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
            side.shutdown()
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
        self.sides[i].set_note("starting…")
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
        side.set_note("training…")

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
            self.sides[i].set_note(f"failed: {message}")
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
            side.refresh()
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
            topo = side.topology_of(snap)
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
            side.refresh()

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
            side.refresh()
        self.snapshot_label.setText(f"step {step:,} (both)")
        self._update_verdict()

    @Slot()
    def _link_camera(self) -> None:
        """One side's 3-D camera moved: the other side looks from the same place."""
        if self._linking:
            return
        src: Any = self.sender()
        camera = src.camera() if isinstance(src, QWidget) and hasattr(src, "camera") else None
        if camera is None:
            return
        self._linking = True
        try:
            for side in self.sides:
                if side.host is not src:
                    side.host.set_camera(camera)
        finally:
            self._linking = False

    def _reset_views(self) -> None:
        """Show the untrained net of each seed: the two starting points being compared."""
        for i, side in enumerate(self.sides):
            w = initial_weights(
                self._config.model, self.seed_spins[i].value(), self._config.data.classes
            )
            untrained = Snapshot(0, math.nan, math.nan, math.nan, w)  # step 0
            side.reset(untrained, (self._config, self._dataset, self.options))
        self._update_headers()

    def _show(self, i: int, snap: Snapshot) -> None:
        """Ask for column i's scene of `snap` (built in the background)."""
        if not self._closed:
            self.sides[i].show(snap, self._config, self._dataset, self.options)

    @Slot(object, bool)
    def _on_scene_shown(self, scene: FlowScene, new_view: bool) -> None:
        """A column drew a new scene: a new 3-D view starts from the other's camera, the
        layer slider spans it and the view shows the layer time of both."""
        src: Any = self.sender()
        others = [side.host.camera() for side in self.sides if side is not src]
        if new_view and others[0] is not None:
            src.host.set_camera(others[0])  # start linked
        self.playback.set_scene(scene)
        t = self.playback.time()
        if t > scene.t_max:  # a shallower flow: both views go to its last layer
            self.playback.set_time(scene.t_max)
        elif src.view is not None:
            src.view.set_time(t)

    def _flush_live(self) -> None:
        for i, side in enumerate(self.sides):
            if side.pending is not None:
                snap, side.pending = side.pending, None
                self._show(i, snap)

    def _request_topology(self, i: int, snap: Snapshot) -> None:
        """Measure the winding of column i's snapshot `snap` (in the background)."""
        config = self._config.copy()
        config.train.seed = self.seed_spins[i].value()
        self.sides[i].request_topology(config, snap)

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
