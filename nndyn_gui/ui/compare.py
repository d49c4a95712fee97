"""Two runs side by side: the current config (A) against a second run (B).

Why it exists: the talk's key comparisons. Whether a net unties the ring can depend on
the random start alone (B: another seed) or on the width (B: a preset, a run file, or
this config with one change, e.g. width 3 against width 2; ui/compare_chooser.py). Each
column keeps its own dimension (a width-3 net in 3-D beside a width-2 net in 2-D), its
title and its numbers. The two flows are linked: one layer slider (the same share of a
shallower flow), one snapshot slider (each side its newest snapshot up to the step
chosen, the label says which: ui/compare_steps.py) and, in 3-D, one camera (turn either
view, the other turns with it); once trained both open at the output, the 3-D views
facing A's separating plane. Every number names the step it belongs to (ui/steps), each
column has its own title, and the sentences are the narrator's (`compare_titles`,
`compare_setup`, `compare_verdict`: a gap is a difference only beyond the test set's
sampling error, the start blamed only when the seed is all that differs, runs named by
what tells them apart: "seed A", or "width 2" / "width 3"). Export… writes both, side
by side, as a picture or a video (render/export, content "compare").

Training runs in the window's own engine worker (core/engine/session.py via
ui/training/engine_bridge.py), one run after the other (two at once would only fight
over the same cores; a run file is shown as saved, not trained again); the worker starts
when the window opens. Reading B (a preset's data, a run file) and everything that
propagates through the nets (the two scenes, each side's topology report) runs off the
GUI thread (ui/background.NewestWins, ui/scene_builder.SceneBuilder); while training,
each side asks for a new scene at most every LIVE_REFRESH_MS and only the newest request
is built. Layer time and Play are `ui/playback.Playback`, the main view's too. Each
column is a `ui/compare_half.CompareHalf` (one run's scene, view, numbers and winding);
which two runs they are is `ui/compare_runs.RunPair` (A's seed, B's chooser, B read off
the GUI thread) and every word the window says is `ui/compare_captions.CompareCaptions`;
this window trains the runs and links the halves.
"""

from __future__ import annotations

import math
from typing import Any

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from nndyn_gui.core.net.initial_weights import initial_weights
from nndyn_gui.core.types import NetWeights, Snapshot, TrainResult
from nndyn_gui.render.scene import FlowScene, ViewOptions
from nndyn_gui.ui.compare_captions import CompareCaptions
from nndyn_gui.ui.compare_half import LIVE_REFRESH_MS, MAX_SCENE_POINTS, CompareHalf, result_text
from nndyn_gui.ui.compare_half import _pct as _pct
from nndyn_gui.ui.compare_runs import RunPair
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
SAVED_STATUSES = ("finished", "cancelled", "diverged")  # a run file's, as a TrainResult's


class CompareWindow(QWidget):
    """The current config (A) and a second run (B), side by side with one slider."""

    trainingFinished = Signal()  # the runs ended (finished, stopped or failed)
    secondRunReady = Signal()  # B's config and data are known (or could not be read)

    def __init__(self, state: AppState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowFlag(Qt.WindowType.Window, True)
        self.setWindowTitle("Compare two runs")  # captions.show_headers: the configs'
        self.resize(1100, 620)
        self.state = state
        self.options = ViewOptions(grid_n=17)
        self.queue = RunQueue(self)  # the runs, one after the other in one worker
        self.engine = self.queue.engine
        self._closed = False
        self._to_output: set[int] = set()  # sides whose trained scene opens at the output

        self.pair = RunPair(state, lambda: self.queue.running, self)  # A and B
        self.seed_a, self.chooser = self.pair.seed_a, self.pair.chooser
        self.seeds, self.choose_second = self.pair.seeds, self.pair.choose
        self.config_of, self.dataset_of = self.pair.config_of, self.pair.dataset_of
        self.train_button = QPushButton("Train both")
        self.train_button.setToolTip("Train A, then B (a run file is shown as it was saved)")
        self.stop_button = QPushButton("Stop")
        self.stop_button.setEnabled(False)
        self.status_label = QLabel("")
        self.status_label.setWordWrap(True)
        top = QHBoxLayout()
        top.addWidget(QLabel("A: this config, seed"))
        top.addWidget(self.seed_a)
        top.addWidget(QLabel("B:"))
        top.addWidget(self.chooser)
        top.addWidget(self.train_button)
        top.addWidget(self.stop_button)
        top.addStretch(1)

        self.sides: list[CompareHalf] = []
        for name in SIDES:
            half = CompareHalf(name, self)
            half.sceneShown.connect(self._on_scene_shown)
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
        self.slider.setToolTip("Layer t of both nets (the same share of a shallower flow)")
        self.layer_label = self.playback.label
        self.layer_label.setMinimumWidth(150)
        bottom = QHBoxLayout()
        bottom.addWidget(self.play_button)
        bottom.addWidget(self.slider, 1)
        bottom.addWidget(self.layer_label)
        self.shared_steps = SharedSteps(self, SIDES)
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
        lay.addWidget(self.status_label)
        lay.addLayout(cols, 1)
        lay.addLayout(bottom)
        lay.addLayout(snap_row)
        self.captions = CompareCaptions(  # the title, headers, status line, export labels
            self.pair,
            SIDES,
            self.sides,
            self.shared_steps,
            self.queue,
            self.status_label,
            self.setWindowTitle,
        )
        self.titles, self.labels = self.captions.titles, self.captions.labels
        for side in self.sides:
            side.changed.connect(self.captions.show_verdict)  # its numbers: the verdict follows

        self.queue.started.connect(self._on_run_started)
        self.queue.snapshot.connect(lambda i, snap: self.sides[i].follow(snap))
        self.queue.finished.connect(self._on_run_finished)
        self.queue.failed.connect(self._on_run_failed)
        self.queue.allDone.connect(self._all_done)
        self.train_button.clicked.connect(self.train_both)
        self.stop_button.clicked.connect(self.stop)
        self.shared_steps.stepChosen.connect(self._on_step_chosen)
        self.export_button.clicked.connect(self.open_export)
        self.pair.reading.connect(self._on_reading_second)
        self.pair.resolved.connect(self._on_second)
        self.pair.resolve(wait=True)  # another seed: at once, no file, no new data

    # ------------------------------------------------------------------ public
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
        return any(s.busy() for s in self.sides) or self.pair.busy()

    def wait_idle(self, timeout_s: float = 30.0) -> None:
        """Block until B is read and the newest scenes are built, then show them (tests,
        screenshots)."""
        self.pair.wait(timeout_s)
        for side in self.sides:
            side.build_now(timeout_s)
            if side.topology_job.busy():
                side.topology_job.wait(timeout_s)

    def set_step_index(self, i: int) -> None:
        """Show snapshot i of the snapshot slider (each side its newest up to that step)."""
        self.shared_steps.set_index(i)

    def runs(self) -> list[Any]:
        """The two runs as plain data (config, data, snapshots up to the step the
        snapshot slider shows), for export; None for a side not trained."""
        from nndyn_gui.core.types import Run

        out: list[Any] = []
        step = self.shared_steps.step()
        for i, side in enumerate(self.sides):
            res = side.result_data
            if res is None or not res.snapshots or side.config is None:
                out.append(None)
                continue
            snaps = list(res.snapshots)
            if step is not None:
                snaps = [s for s in snaps if s.step <= step] or snaps[:1]
            out.append(Run(side.config, self.dataset_of(i), snaps, res.status, res.message))
        return out

    def open_export(self) -> Any:
        """Export… : the Export dialog, set to the two runs side by side."""
        from nndyn_gui.ui.export_dialog import ExportDialog

        runs = self.runs()
        if any(r is None for r in runs):
            self.status_label.setText("Train both runs first: there is nothing to export yet.")
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
        self.engine.start_worker()  # TensorFlow loads while the user picks the runs

    def train_both(self) -> None:
        """Train A, then B (unless B is a run file: it is shown as saved)."""
        if self.queue.running or self._closed or self.pair.second is None:
            return
        self.pair.take_current()
        keep_b = not self.chooser.choice().trains
        runs = [(0, self.config_of(0), self.dataset_of(0))]
        if not keep_b:
            runs.append((1, self.config_of(1), self.dataset_of(1)))
        self._reset_views(only_a=keep_b)
        for i, *_ in runs:
            self.sides[i].set_note("waiting…")
        self.train_button.setEnabled(False)
        self.stop_button.setEnabled(True)
        self.pair.set_editable(False)
        self.status_label.setText("Training A, then B…" if len(runs) > 1 else "Training A…")
        self.queue.start(runs)
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
        self.pair.shutdown()
        for side in self.sides:
            side.shutdown()
        self.train_button.setEnabled(True)
        self.stop_button.setEnabled(False)

    def closeEvent(self, ev: Any) -> None:
        self.shutdown()
        super().closeEvent(ev)

    # ------------------------------------------------------------------ run B
    @Slot()
    def _on_reading_second(self) -> None:
        self.train_button.setEnabled(False)
        self.sides[1].set_note("reading B…")

    @Slot(str)
    def _on_second(self, error: str) -> None:
        """B is known (the pair's `second`), or could not be read (`error`: why, or "")."""
        if self._closed:
            return
        if self.pair.second is None:
            self.sides[1].set_note("B could not be read")
            self.status_label.setText(f"B: {error}" if error else "B could not be read.")
            self.secondRunReady.emit()
            return
        self.train_button.setText("Train both" if self.chooser.choice().trains else "Train A")
        self.train_button.setEnabled(not self.queue.running)
        self._reset_views()
        self.secondRunReady.emit()

    # ------------------------------------------------------------------ training
    @Slot(int)
    def _on_run_started(self, i: int) -> None:
        self.sides[i].set_note("starting…")
        if i > 0:
            self.status_label.setText(f"Training {SIDES[i]}…")

    @Slot(int, object)
    def _on_run_finished(self, i: int, result: TrainResult) -> None:
        measure = not self.queue.cancelled and result.status != "cancelled"
        self.sides[i].finish(result, measure)
        self._to_output.add(i)

    @Slot(int, str)
    def _on_run_failed(self, i: int, message: str) -> None:
        if i >= 0:
            self.sides[i].set_note(f"failed: {message}")

    @Slot()
    def _all_done(self) -> None:
        for side in self.sides:
            side.end_live()
        self.train_button.setEnabled(self.pair.second is not None)
        self.stop_button.setEnabled(False)
        self._update_snapshot_slider()
        self.pair.set_editable(True)
        for side in self.sides:
            if side.result_data is None and not side.note.startswith("failed"):
                side.note = "stopped" if self.queue.cancelled else "not trained"
            side.refresh()
        if self.queue.failure:
            self.status_label.setText(f"Training failed: {self.queue.failure}")
        elif self.queue.cancelled:
            self.status_label.setText("Stopped.")
        else:
            self.captions.show_verdict(done=True)
        self.trainingFinished.emit()

    # ------------------------------------------------------------------ views
    def _update_snapshot_slider(self) -> None:
        """The training steps of either run: the slider walks those."""
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
        self.captions.show_verdict()

    def _reset_views(self, only_a: bool = False) -> None:
        """Show A's untrained net, and B: untrained, or the saved run of a run file."""
        for i, side in enumerate(self.sides):
            second = self.pair.second
            if i == 1 and (only_a or second is None):
                continue
            cfg = self.config_of(i)
            side.set_run(cfg, self.dataset_of(i), self.options)
            saved = second.run if i == 1 and second is not None else None
            if saved is not None and saved.snapshots:
                side.reset(saved.snapshots[0])
                status: Any = saved.status if saved.status in SAVED_STATUSES else "finished"
                side.finish(TrainResult(status, list(saved.snapshots), saved.message), True)
                self._to_output.add(i)
                continue
            w = initial_weights(cfg.model, cfg.train.seed, cfg.data.classes)
            side.reset(Snapshot(0, math.nan, math.nan, math.nan, w))  # untrained (step 0)
        self.captions.show_headers()
        self._update_snapshot_slider()

    @Slot(object, bool)
    def _on_scene_shown(self, scene: FlowScene, new_view: bool) -> None:
        """A column drew a new scene: a new 3-D view starts from the other's camera, the
        layer slider spans it and the view shows the layer time of both. A run's final
        scene, once trained, opens at its output, facing its separating plane (both 3-D
        views from that one camera)."""
        src: Any = self.sender()
        if new_view:
            self.cameras.join(src.host)  # start linked
        self.playback.set_scene(scene)
        i = self.sides.index(src) if src in self.sides else -1
        res = src.result_data if i >= 0 else None
        if i in self._to_output and res is not None and src.shown is res.final:
            self._to_output.discard(i)
            if not self.queue.running:
                self.cameras.aim()
                self.playback.set_time(1e9)  # clamped to the last layer: the output
                return
        t = self.playback.time()
        if t > scene.t_max:  # a shallower flow: both views go to its last layer
            self.playback.set_time(scene.t_max)
        else:
            src.set_time(t)
