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

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from nndyn_gui.core.analysis import narrator
from nndyn_gui.core.net.initial_weights import initial_weights
from nndyn_gui.core.types import Dataset, NetWeights, Snapshot, TrainResult
from nndyn_gui.render.scene import FlowScene, ViewOptions
from nndyn_gui.ui import steps
from nndyn_gui.ui.compare_half import LIVE_REFRESH_MS, MAX_SCENE_POINTS, CompareHalf, result_text
from nndyn_gui.ui.compare_half import _pct as _pct
from nndyn_gui.ui.compare_steps import SharedSteps
from nndyn_gui.ui.compare_training import RunQueue
from nndyn_gui.ui.playback import SLIDER_RES, Playback
from nndyn_gui.ui.state import AppState
from nndyn_gui.ui.view_host import CameraLink

__all__ = ["LIVE_REFRESH_MS", "MAX_SCENE_POINTS", "CompareWindow", "_result_text"]

_result_text = result_text  # the words of a column's line (tests read them)
SLIDER_STEPS = SLIDER_RES  # slider positions per frame, so Play glides between layers
PLAY_SECONDS = 4.0  # one pass through all layers
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
        self.queue = RunQueue(self)  # the runs, one after the other in one worker
        self.engine = self.queue.engine
        self._config = state.config.copy()
        self._dataset: Dataset = state.dataset
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
            self.sides.append(half)
        self.cameras = CameraLink([s.host for s in self.sides], self)  # one camera for both
        self.camera = self.cameras.camera  # (azimuth, elevation, zoom); None when 2-D
        cols = QHBoxLayout()
        for side in self.sides:
            col = QVBoxLayout()
            col.addWidget(side.header)
            col.addWidget(side.container, 1)
            col.addWidget(side.result)
            cols.addLayout(col, 1)

        self.playback = Playback(lambda: PLAY_SECONDS, self)
        self.playback.label_text = lambda scene, t: scene.layer_label(t)
        for side in self.sides:
            self.playback.timeChanged.connect(side.set_time)
        self.set_time = self.playback.set_time  # frame t (clamped) in both; the slider follows
        self.play_button, self.slider = self.playback.play_button, self.playback.slider
        self.slider.setToolTip("Layer t of both nets")
        self.layer_label = self.playback.label
        self.layer_label.setMinimumWidth(150)
        bottom = QHBoxLayout()
        bottom.addWidget(self.play_button)
        bottom.addWidget(self.slider, 1)
        bottom.addWidget(self.layer_label)
        self.shared_steps = SharedSteps(self)
        self.snapshot_slider, self.snapshot_label = (
            self.shared_steps.slider,
            self.shared_steps.label,
        )
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

        self.queue.started.connect(self._on_run_started)
        self.queue.snapshot.connect(lambda i, snap: self.sides[i].follow(snap))
        self.queue.finished.connect(self._on_run_finished)
        self.queue.failed.connect(self._on_run_failed)
        self.queue.allDone.connect(self._all_done)
        self.train_button.clicked.connect(self.train_both)
        self.stop_button.clicked.connect(self.stop)
        self.shared_steps.stepChosen.connect(self._on_step_chosen)
        self.export_button.clicked.connect(self.open_export)
        state.configChanged.connect(self._on_config)
        state.datasetChanged.connect(self._on_config)
        self._reset_views()

    # ------------------------------------------------------------------ public
    def seeds(self) -> tuple[int, int]:
        return self.seed_spins[0].value(), self.seed_spins[1].value()

    def is_running(self) -> bool:
        return self.queue.running

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
            side.build_now(timeout_s)
            if side.topology_job.busy():
                side.topology_job.wait(timeout_s)

    def set_step_index(self, i: int) -> None:
        """Show snapshot i of the snapshot slider (the same training step on both sides)."""
        self.shared_steps.set_index(i)

    def runs(self) -> list[Any]:
        """The two runs as plain data (config with the side's seed, data, snapshots up to
        the step the snapshot slider shows), for export; None for a side not trained."""
        from nndyn_gui.core.types import Run

        out: list[Any] = []
        step = self.shared_steps.step()
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
            snap = self.shared_steps.snapshot_of(side.result_data)
            if snap is not None:
                text += f" · test {_pct(snap.test_acc)} ({steps.step_name(snap)})"
            out.append(text)
        return out

    def titles(self) -> tuple[str, str, str]:
        """(over both, column A, column B): the narrator's, from each side's config."""
        a, b = self._config.copy(), self._config.copy()
        a.train.seed, b.train.seed = self.seeds()
        return narrator.compare_titles(a, b)

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

    def showEvent(self, ev: Any) -> None:
        super().showEvent(ev)
        self.engine.start_worker()  # TensorFlow loads while the user picks the seeds

    def train_both(self) -> None:
        """Train the current config once per seed (one after the other)."""
        if self.queue.running or self._closed:
            return
        self._config = self.state.config.copy()
        self._dataset = self.state.dataset
        runs = []
        for i, sp in enumerate(self.seed_spins):
            cfg = self._config.copy()
            cfg.train.seed = sp.value()
            runs.append((i, cfg))
        self._reset_views()
        for side in self.sides:
            side.set_note("waiting…")
        self.train_button.setEnabled(False)
        self.stop_button.setEnabled(True)
        for sp in self.seed_spins:
            sp.setEnabled(False)
        self.status_label.setText("Training seed A, then seed B…")
        self.queue.start(runs, self._dataset)
        self._update_snapshot_slider()

    def stop(self) -> None:
        """Ask the run to stop after its current compiled call (returns at once)."""
        if not self.queue.running:
            return
        self.queue.stop()
        self.status_label.setText("Stopping…")

    def shutdown(self) -> None:
        """Stop training and every background job; end the worker (window close)."""
        self._closed = True
        self.playback.stop()
        self.queue.shutdown()
        for side in self.sides:
            side.shutdown()
        self.train_button.setEnabled(True)
        self.stop_button.setEnabled(False)

    def closeEvent(self, ev: Any) -> None:
        self.shutdown()
        super().closeEvent(ev)

    # ------------------------------------------------------------------ training
    @Slot(int)
    def _on_run_started(self, i: int) -> None:
        self.sides[i].set_note("starting…")
        if i > 0:
            self.status_label.setText(f"Training seed {SIDES[i]}…")

    @Slot(int, object)
    def _on_run_finished(self, i: int, result: TrainResult) -> None:
        measure = not self.queue.cancelled and result.status != "cancelled"
        self.sides[i].finish(result, measure)

    @Slot(int, str)
    def _on_run_failed(self, i: int, message: str) -> None:
        if i >= 0:
            self.sides[i].set_note(f"failed: {message}")

    @Slot()
    def _all_done(self) -> None:
        for side in self.sides:
            side.end_live()
        self.train_button.setEnabled(True)
        self.stop_button.setEnabled(False)
        self._update_snapshot_slider()
        for sp in self.seed_spins:
            sp.setEnabled(True)
        for side in self.sides:
            if side.result_data is None and not side.note.startswith("failed"):
                side.note = "stopped" if self.queue.cancelled else "not trained"
            side.refresh()
        if self.queue.failure:
            self.status_label.setText(f"Training failed: {self.queue.failure}")
        elif self.queue.cancelled:
            self.status_label.setText("Stopped.")
        else:
            self._update_verdict(done=True)
        self.trainingFinished.emit()

    def _update_verdict(self, done: bool = False) -> None:
        """ "Done. " and the narrator's comparison of the two columns' snapshots (once
        both are trained; `done`: training just ended, say so even without one)."""
        q = self.queue
        if q.running or q.failure or q.cancelled:
            return
        sentence = self.verdict()
        if sentence is not None:
            self.status_label.setText(f"Done. {sentence.text}")
        elif done:
            self.status_label.setText("Done.")

    def verdict(self) -> narrator.Sentence | None:
        """The narrator's comparison of the snapshots whose numbers the columns give (the
        snapshot slider's step; None: a side has no trained snapshot)."""
        a, b = (side.measured(len(self._dataset.y_test)) for side in self.sides)
        return None if a is None or b is None else narrator.compare_verdict(a, b, SIDES)

    # ------------------------------------------------------------------ views
    def _update_snapshot_slider(self) -> None:
        """The training steps both runs have a snapshot of: the slider walks those."""
        done = [s.result_data for s in self.sides if s.result_data and s.result_data.snapshots]
        ready = len(done) == len(self.sides) and not self.queue.running
        self.shared_steps.set_runs(done if ready else [])
        self.export_button.setEnabled(ready)
        for side in self.sides:
            side.refresh()

    @Slot(int)
    def _on_step_chosen(self, _step: int) -> None:
        if self.queue.running:
            return
        for side in self.sides:
            snap = self.shared_steps.snapshot_of(side.result_data)
            if snap is None:
                continue
            side.show(snap)
            if side.topology_snap is not snap:
                side.request_topology(snap)
            side.refresh()
        self._update_verdict()

    def _reset_views(self) -> None:
        """Show the untrained net of each seed: the two starting points being compared."""
        for i, side in enumerate(self.sides):
            cfg = self._config.copy()
            cfg.train.seed = self.seed_spins[i].value()
            side.set_run(cfg, self._dataset, self.options)
            w = initial_weights(cfg.model, cfg.train.seed, cfg.data.classes)
            side.reset(Snapshot(0, math.nan, math.nan, math.nan, w))  # untrained (step 0)
        self._update_headers()

    @Slot(object, bool)
    def _on_scene_shown(self, scene: FlowScene, new_view: bool) -> None:
        """A column drew a new scene: a new 3-D view starts from the other's camera, the
        layer slider spans it and the view shows the layer time of both."""
        src: Any = self.sender()
        if new_view:
            self.cameras.join(src.host)  # start linked
        self.playback.set_scene(scene)
        t = self.playback.time()
        if t > scene.t_max:  # a shallower flow: both views go to its last layer
            self.playback.set_time(scene.t_max)
        else:
            src.set_time(t)

    def _update_headers(self) -> None:
        """Each column's own title (the narrator's, from its config and seed), and the
        window's: what the two runs have in common."""
        top, *halves = self.titles()
        self.setWindowTitle(f"Compare — {top}")
        for i, side in enumerate(self.sides):
            side.header.setText(f"{SIDES[i]}: {halves[i]}")
            side.header.setToolTip(f"Seed {SIDES[i]} = {self.seed_spins[i].value()}")

    # ------------------------------------------------------------------ slots
    @Slot(int)
    def _on_seed_changed(self, *_: object) -> None:
        if not self.queue.running:
            self._reset_views()

    @Slot(object)
    def _on_config(self, *_: object) -> None:
        if not self.queue.running and not self._closed:
            self._config = self.state.config.copy()
            self._dataset = self.state.dataset
            seed = self._config.train.seed
            for sp, v in zip(self.seed_spins, (seed, seed + 1), strict=True):
                sp.blockSignals(True)
                sp.setValue(v)
                sp.blockSignals(False)
            self._reset_views()
