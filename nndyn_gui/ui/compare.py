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
this window picks and trains the runs and links the halves.
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

from nndyn_gui.core.analysis import comparison, narrator
from nndyn_gui.core.config import RunConfig
from nndyn_gui.core.net.initial_weights import initial_weights
from nndyn_gui.core.types import Dataset, NetWeights, Snapshot, TrainResult
from nndyn_gui.render.scene import FlowScene, ViewOptions
from nndyn_gui.ui.background import NewestWins
from nndyn_gui.ui.compare_chooser import Choice, SecondRun, SecondRunChooser, resolve
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
SAVED_STATUSES = ("finished", "cancelled", "diverged")  # a run file's, as a TrainResult's


class CompareWindow(QWidget):
    """The current config (A) and a second run (B), side by side with one slider."""

    trainingFinished = Signal()  # the runs ended (finished, stopped or failed)
    secondRunReady = Signal()  # B's config and data are known (or could not be read)

    def __init__(self, state: AppState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowFlag(Qt.WindowType.Window, True)
        self.setWindowTitle("Compare two runs")  # _update_headers: the configs'
        self.resize(1100, 620)
        self.state = state
        self.options = ViewOptions(grid_n=17)
        self.queue = RunQueue(self)  # the runs, one after the other in one worker
        self.engine = self.queue.engine
        self._config = state.config.copy()  # A's base (its seed: seed_a)
        self._dataset: Dataset = state.dataset
        self._closed = False
        self._second: SecondRun | None = None  # B resolved (None: being read, or failed)
        self._to_output: set[int] = set()  # sides whose trained scene opens at the output

        seed = state.config.train.seed
        self.seed_a = QSpinBox()
        self.seed_a.setRange(0, 2**31 - 1)
        self.seed_a.setValue(seed)
        self.seed_a.setToolTip("A: the current config from this weight seed")
        self.seed_a.valueChanged.connect(self._on_seed_changed)
        self.chooser = SecondRunChooser(seed + 1, self)
        self.chooser.changed.connect(self._on_choice)
        self.second_job = NewestWins(self, name="nndyn-compare-second", what="read run B")
        self.second_job.done.connect(self._on_second)
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
        self._resolve_second(wait=True)  # another seed: at once, no file, no new data

    # ------------------------------------------------------------------ public
    def seeds(self) -> tuple[int, int]:
        """The weight seeds of A and B (B's own config's, whatever B is)."""
        b = self._second.config.train.seed if self._second is not None else -1
        return self.seed_a.value(), b

    def config_of(self, side: int) -> RunConfig:
        """The config column `side` shows (A: the current one with seed A)."""
        if side == 1 and self._second is not None:
            return self._second.config
        cfg = self._config.copy()
        cfg.train.seed = self.seed_a.value()
        return cfg

    def dataset_of(self, side: int) -> Dataset:
        if side == 1 and self._second is not None:
            return self._second.dataset
        return self._dataset

    def choose_second(self, mode: str, value: str = "", seed: int | None = None) -> None:
        """Pick B (as the chooser does): "seed", "preset", "file" or "change"."""
        self.chooser.set_choice(mode, value, seed)

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
        return any(s.busy() for s in self.sides) or self.second_job.busy()

    def wait_idle(self, timeout_s: float = 30.0) -> None:
        """Block until B is read and the newest scenes are built, then show them (tests,
        screenshots)."""
        if self.second_job.busy():
            self.second_job.wait(timeout_s)
            self._on_second(*self.second_job.run_now(self._second_job()))
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

    def labels(self) -> list[str]:
        """What each side is called in an export: its title (with its seed), and the test
        accuracy of the snapshot exported (the one the snapshot slider shows) with its step."""
        _top, *halves = self.titles()
        return [
            comparison.compare_half_label(
                f"{SIDES[i]}: {halves[i]}", self.shared_steps.snapshot_of(side.result_data)
            )
            for i, side in enumerate(self.sides)
        ]

    def titles(self) -> tuple[str, str, str]:
        """(over both, column A, column B): the narrator's, from each side's config."""
        return comparison.compare_titles(self.config_of(0), self.config_of(1))

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
        if self.queue.running or self._closed or self._second is None:
            return
        self._config = self.state.config.copy()
        self._dataset = self.state.dataset
        keep_b = not self.chooser.choice().trains
        runs = [(0, self.config_of(0), self._dataset)]
        if not keep_b:
            runs.append((1, self.config_of(1), self.dataset_of(1)))
        self._reset_views(only_a=keep_b)
        for i, *_ in runs:
            self.sides[i].set_note("waiting…")
        self.train_button.setEnabled(False)
        self.stop_button.setEnabled(True)
        self.seed_a.setEnabled(False)
        self.chooser.setEnabled(False)
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
        self.second_job.shutdown()
        for side in self.sides:
            side.shutdown()
        self.train_button.setEnabled(True)
        self.stop_button.setEnabled(False)

    def closeEvent(self, ev: Any) -> None:
        self.shutdown()
        super().closeEvent(ev)

    # ------------------------------------------------------------------ run B
    def _second_job(self) -> Any:
        choice: Choice = self.chooser.choice()
        base, data = self.config_of(0), self._dataset
        return lambda: (choice, resolve(choice, base, data))

    def _resolve_second(self, wait: bool = False) -> None:
        """Read B (a preset's data, a run file) off the GUI thread; `wait`: here, now
        (another seed: nothing to read)."""
        if self._closed:
            return
        if self.chooser.choice().mode == "file" and not self.chooser.path:
            return  # no file picked yet
        self._second = None
        self.train_button.setEnabled(False)
        self.sides[1].set_note("reading B…")
        if wait:
            self._on_second(*self.second_job.run_now(self._second_job()))
        else:
            self.second_job.request(self._second_job())

    @Slot(object, str)
    def _on_second(self, result: Any, error: str) -> None:
        if self._closed:
            return
        if result is None:
            self.sides[1].set_note("B could not be read")
            self.status_label.setText(f"B: {error}" if error else "B could not be read.")
            self.secondRunReady.emit()
            return
        choice, second = result
        if choice != self.chooser.choice():
            return  # the user chose again meanwhile: its own job follows
        self._second = second
        self.train_button.setText("Train both" if choice.trains else "Train A")
        self.train_button.setEnabled(not self.queue.running)
        self._reset_views()
        self.secondRunReady.emit()

    @Slot()
    def _on_choice(self) -> None:
        if not self.queue.running:
            self._resolve_second()

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
        self.train_button.setEnabled(self._second is not None)
        self.stop_button.setEnabled(False)
        self._update_snapshot_slider()
        self.seed_a.setEnabled(True)
        self.chooser.setEnabled(True)
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
        a, b = (side.measured(len(self.dataset_of(i).y_test)) for i, side in enumerate(self.sides))
        return None if a is None or b is None else comparison.compare_verdict(a, b, SIDES)

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
        self._update_verdict()

    def _reset_views(self, only_a: bool = False) -> None:
        """Show A's untrained net, and B: untrained, or the saved run of a run file."""
        for i, side in enumerate(self.sides):
            if i == 1 and (only_a or self._second is None):
                continue
            cfg = self.config_of(i)
            side.set_run(cfg, self.dataset_of(i), self.options)
            saved = self._second.run if i == 1 and self._second is not None else None
            if saved is not None and saved.snapshots:
                side.reset(saved.snapshots[0])
                status: Any = saved.status if saved.status in SAVED_STATUSES else "finished"
                side.finish(TrainResult(status, list(saved.snapshots), saved.message), True)
                self._to_output.add(i)
                continue
            w = initial_weights(cfg.model, cfg.train.seed, cfg.data.classes)
            side.reset(Snapshot(0, math.nan, math.nan, math.nan, w))  # untrained (step 0)
        self._update_headers()
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

    def _update_headers(self) -> None:
        """Each column's own title (the narrator's, from its config and seed), and the
        window's: what the two runs have in common."""
        top, *halves = self.titles()
        self.setWindowTitle(f"Compare — {top}")
        for i, side in enumerate(self.sides):
            side.header.setText(f"{SIDES[i]}: {halves[i]}")
            side.header.setToolTip(narrator.config_title(self.config_of(i)))
        if not self.queue.running:
            self.status_label.setText(
                comparison.compare_setup(self.config_of(0), self.config_of(1))
            )

    # ------------------------------------------------------------------ slots
    @Slot(int)
    def _on_seed_changed(self, *_: object) -> None:
        if not self.queue.running:
            self._resolve_second(wait=self.chooser.choice().mode == "seed")

    @Slot(object)
    def _on_config(self, *_: object) -> None:
        if not self.queue.running and not self._closed:
            self._config = self.state.config.copy()
            self._dataset = self.state.dataset
            seed = self._config.train.seed
            self.seed_a.blockSignals(True)
            self.seed_a.setValue(seed)
            self.seed_a.blockSignals(False)
            self.chooser.set_seed_quietly(seed + 1)
            self._resolve_second(wait=self.chooser.choice().mode == "seed")
