"""Training from the window: Train / Pause / Step / Stop and every change of the
settings, sent to the engine; the engine's events fed into AppState.

Why it looks like this: the training itself runs in the engine's worker process
(core/engine/session.py), so the window's process never imports TensorFlow and a worker that
dies takes nothing with it. This controller is the one road between the window and the
engine: it drives `core.engine.session.TrainingSession` itself (the event pump is
ui/training/engine_bridge.EngineEvents), follows AppState's `runChange` (a change
classified once, in AppState.set_config) and keeps the one config the run trains. It
lives on the GUI thread and is the only thing that touches AppState for training.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal, Slot

from nndyn_gui.core.config import RunConfig
from nndyn_gui.core.engine import protocol as p
from nndyn_gui.core.train import live
from nndyn_gui.core.types import Dataset, Snapshot, TrainResult
from nndyn_gui.ui.state import AppState
from nndyn_gui.ui.training.engine_bridge import EngineEvents

# A stop for something new (a preset, a run file, Reset while training; `stop_then`): a run
# ends within one compiled call, but a compile in progress cannot be interrupted; after
# this long the worker is killed (and a new one started in the background).
STOP_WAIT_S = 2.0
CLOSE_WAIT_S = 0.3  # closing the window: no longer (then the worker is killed)

log = logging.getLogger(__name__)


class TrainController(EngineEvents):
    """Starts, pauses, steps and stops training and feeds the results into AppState.

    `finished(TrainResult)` / `failed(message, details)` are re-emitted after AppState
    is updated, so tests and automation can wait on them. A worker that dies mid-run
    ends the run with `failed` (in plain words); the snapshots received are kept.
    """

    finished = Signal(object)  # TrainResult
    failed = Signal(str, str)  # message, details
    workerReady = Signal(object)  # dict of versions, {} if TensorFlow cannot load
    workerLost = Signal(str)  # the worker died while idle (the next Train starts a new one)
    tuned = Signal(int, object)  # step, {field: (old, new)}: live changes took effect
    restarted = Signal()  # a change of the settings started the run again from step 0
    compilingChanged = Signal(bool)  # numpy trains while the compiled step is built

    def __init__(
        self,
        state: AppState,
        parent: QObject | None = None,
        initializer: Callable[[], None] | None = None,
    ) -> None:
        super().__init__(parent, initializer)
        self.state = state
        self.result: TrainResult | None = None
        self.error: tuple[str, str] | None = None
        #: train the first steps with numpy while the compiled step is built (instant
        #: start after any change; core/train/quickstep.py)
        self.quick_start = True
        self.compiling = False
        self._stopping = False
        self._paused = False
        self._running: tuple[RunConfig, Dataset] | None = None  # what the run trains
        #: `stop_then`: what to do once the run's end has been delivered, in order
        self._after_stop: list[Callable[[], None]] = []
        self._warm_after_stop = False  # the worker was killed: start the next one then
        self._stop_deadline = QTimer(self)  # `stop_then`'s grace: then the worker goes
        self._stop_deadline.setSingleShot(True)
        self._stop_deadline.timeout.connect(self._stop_overdue)
        state.runChange.connect(self.follow_state)

    # ------------------------------------------------------------------ queries
    def is_paused(self) -> bool:
        return self.is_running() and self._paused

    # ------------------------------------------------------------------ commands
    def warm_up(self) -> None:
        """Start the worker process now (it loads TensorFlow in the background)."""
        self.start_worker()

    def start(self, step_only: bool = False) -> bool:
        """Train the current config from scratch; False if a run is already going."""
        if self.is_running():
            return False
        self.result = None
        self.error = None
        self._stopping = False
        self._paused = False
        self._start_engine(step_only=step_only, paused=False)
        return True

    def _start_engine(self, step_only: bool, paused: bool) -> None:
        cfg, ds = self.state.config, self.state.dataset  # AppState replaces, never edits
        self._running = (cfg, ds)
        self.session.start(cfg, ds, step_only, quick_start=self.quick_start, paused=paused)
        self.watch_worker()
        self._set_compiling(False)
        self.state.set_training_state("loading")

    @Slot(str)
    def follow_state(self, kind: str) -> str:
        """AppState's settings or data changed (`kind`: core/train/live.classify's answer) while
        a run goes: a live change is sent to the trainer (it takes it at its next call),
        a restart starts the run again from step 0 at once (paused if it was paused).
        Returns what was done: "live", "restart", "stop" (no data left) or "same"."""
        if self._running is None or not self.is_running() or self._stopping:
            return "same"
        if kind == "live":
            cfg = self.state.config
            self.session.tune(cfg.train)
            run_cfg = self._running[0]
            train = live.with_live(run_cfg.train, cfg.train)
            self._running = (dataclasses.replace(run_cfg, train=train), self._running[1])
        elif kind == "restart" and not len(self.state.dataset.y_train):
            self.stop()  # every point was removed: nothing to train on
            return "stop"
        elif kind == "restart":
            self.result = None
            self.error = None
            self._start_engine(step_only=False, paused=self._paused)
            self.restarted.emit()
        return kind

    def pause(self) -> None:
        if self.is_running() and not self._stopping:
            self.session.pause()
            self._paused = True
            self.state.set_training_state("paused")

    def resume(self) -> None:
        if self.is_running() and not self._stopping:
            self.session.resume()
            self._paused = False
            self.state.set_training_state("training")

    def toggle_pause(self) -> None:
        if self.is_paused():
            self.resume()
        else:
            self.pause()

    def step(self) -> None:
        """Run one snapshot interval, then pause (starts a paused run if none is going)."""
        if not self.is_running():
            self.start(step_only=True)
            return
        if self._stopping:
            return
        self.session.step()
        self._paused = False
        self.state.set_training_state("training")

    def stop(self, wait: bool = False, timeout_s: float = STOP_WAIT_S) -> None:
        """Ask the run to stop at its next check; `wait` delivers its end here (a run that
        does not end within `timeout_s`, e.g. inside a long compile, has its worker killed)."""
        if not self.is_running():
            return
        self._stopping = True
        self.session.cancel()
        self.state.set_training_state("stopping")
        if wait and not self.wait_for_end(timeout_s):
            self.session.kill_worker()
            self.wait_for_end(5.0)
            if timeout_s > CLOSE_WAIT_S:
                self.warm_up()  # the next Train should not wait for TensorFlow again

    def stop_then(self, then: Callable[[], None], timeout_s: float = STOP_WAIT_S) -> None:
        """Stop the run without waiting here: `then()` runs on the GUI thread once its end
        (and every snapshot before it) has been delivered, at once when nothing runs.

        A run that has not ended after `timeout_s` (a compile cannot be interrupted) has
        its worker killed; its end is then the worker's loss, delivered like any other,
        and a new worker starts loading TensorFlow after it."""
        if not self.is_running():
            then()
            return
        self._after_stop.append(then)
        self.stop()
        if not self._stop_deadline.isActive():
            self._stop_deadline.start(max(0, round(1000 * timeout_s)))

    @Slot()
    def _stop_overdue(self) -> None:
        if self.is_running():
            log.warning("training did not stop within its grace: ending its worker")
            self._warm_after_stop = True
            self.session.kill_worker()  # the reader delivers the loss; `_ended` follows

    def _ended(self) -> None:
        """The run's end was delivered: run what waited for it (`stop_then`)."""
        self._stop_deadline.stop()
        waiting, self._after_stop = self._after_stop, []
        if self._warm_after_stop:
            self._warm_after_stop = False
            self.warm_up()  # the next Train should not wait for TensorFlow again
        for then in waiting:
            then()

    def shutdown(self) -> None:
        """Window close: stop the run (briefly waiting for its last snapshots), end the worker."""
        self._stop_deadline.stop()
        self._after_stop = []
        self.stop(wait=True, timeout_s=CLOSE_WAIT_S)
        super().shutdown()

    # ------------------------------------------------------------------ engine events
    def _on_event(self, event: p.Event) -> None:
        if isinstance(event, p.Ready):
            self._on_ready(event)
        elif isinstance(event, p.Compiled):
            self._on_compiled(event)
        elif isinstance(event, p.QuickStarted):
            self._on_quick_started(event)
        elif isinstance(event, p.Tuned):
            self._on_tuned(event)
        elif isinstance(event, p.RunState):
            self._on_run_state(event.state)
        elif isinstance(event, p.Finished):
            self._on_finished(self.session.result)
        elif isinstance(event, p.Failed):
            self._on_failed(event.message, event.details)
        elif isinstance(event, p.WorkerLost):
            self._on_lost(event.message, event.run_id)

    def _on_ready(self, event: Any) -> None:
        self.workerReady.emit({} if event.error else dict(event.versions))

    def _on_compiled(self, event: Any) -> None:
        self._set_compiling(False)
        if self.is_running() and not self._stopping:
            self.state.set_training_state("paused" if self._paused else "training")

    def _on_quick_started(self, _event: Any) -> None:
        self._set_compiling(True)
        if self.is_running() and not self._stopping:
            self.state.set_training_state("paused" if self._paused else "training")

    def _on_tuned(self, event: Any) -> None:
        self.state.add_tuning(event.step, event.changes)
        self.tuned.emit(event.step, event.changes)

    def _set_compiling(self, on: bool) -> None:
        if on != self.compiling:
            self.compiling = on
            self.compilingChanged.emit(on)

    def _on_snapshots(self, snaps: list[Snapshot]) -> None:
        # a new run's first snapshots bring its config to AppState (`run_config`)
        self.state.extend_snapshots(snaps, self._running[0] if self._running else None)

    def _on_progress(self, step: int, loss: float, rate: float) -> None:
        self.state.set_progress(step, loss, rate)

    def _on_run_state(self, st: str) -> None:
        if not self.is_running() or self._stopping:
            return
        self._paused = st == "paused"
        self.state.set_training_state(st)

    def _on_finished(self, result: Any) -> None:
        self._set_compiling(False)
        self.result = result
        self.state.set_status(result.status, result.message)
        self.state.set_training_state("idle")
        self.finished.emit(result)
        self._ended()

    def _on_failed(self, message: str, details: str) -> None:
        self._set_compiling(False)
        self.error = (message, details)
        self.state.set_status("cancelled" if len(self.state.snapshots) > 1 else "new", message)
        self.state.set_training_state("idle")
        self.failed.emit(message, details)
        self._ended()

    def _on_lost(self, message: str, run_id: int) -> None:
        result = self.session.result
        if run_id and self._stopping and result is not None:  # we ended it: a plain stop
            step = result.final.step if result.snapshots else 0
            self._on_finished(
                TrainResult("cancelled", result.snapshots, f"Cancelled at step {step}.")
            )
        elif run_id:
            self._on_failed(message, "")
        else:
            self.workerLost.emit(message)
