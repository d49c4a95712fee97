"""Training off the GUI thread: a worker QObject on a QThread, and its GUI-side controller.

Why it looks like this (see the machine notes in docs/architecture.md):
- `Trainer.run` is one blocking loop, so the worker's own event loop never runs while it
  trains: Stop / Pause / Step go through `threading.Event`s the trainer checks between
  fused calls, never through queued slot calls into the worker.
- The trainer's callbacks run in the worker thread. They only store the newest values
  and emit a signal at most every `EMIT_INTERVAL_S` (snapshots are batched so none is
  lost; progress is coalesced to the latest), so a fast trainer cannot flood the GUI.
- The signals are received by `TrainController`, a QObject created in the GUI thread,
  through explicit queued connections; only it touches `AppState` and widgets.
- TensorFlow is imported inside the worker thread, so the window never waits for it.
"""

from __future__ import annotations

import importlib
import os
import sys
import threading
import time
import traceback
from types import ModuleType
from typing import Any

from PySide6.QtCore import QCoreApplication, QObject, Qt, QThread, Signal, Slot

from nndyn_gui.core.config import RunConfig
from nndyn_gui.core.types import Dataset, Snapshot, TrainResult
from nndyn_gui.ui.state import AppState

_IMPORT_LOCK = threading.Lock()
EMIT_INTERVAL_S = 1.0 / 30.0  # at most ~30 GUI updates per second
# After each fused call the worker sleeps this long: a fast trainer otherwise re-takes
# the GIL at once and the GUI thread waits tens of ms for it (a visibly jerky window).
YIELD_S = 0.001
MAX_EMIT_INTERVAL_S = 0.5
STOP_WAIT_MS = 60_000  # a compile in progress cannot be interrupted; wait for it on exit


def load_training_module() -> ModuleType:
    """Import `core.training` (and so TensorFlow) once, safely, from any thread.

    TensorFlow loads its native library with RTLD_GLOBAL. On Mesa's llvmpipe OpenGL
    (Xvfb, VMs, machines without a GPU driver) its bundled LLVM then collides with
    Mesa's LLVM and the process segfaults as soon as both are loaded. Importing
    TensorFlow with local symbol binding avoids the collision when TensorFlow comes
    first; when an OpenGL context already exists nothing helps, so the window keeps
    the 3-D view off until this function has run (see `tensorflow_ready`).
    """
    with _IMPORT_LOCK:
        mod = sys.modules.get("nndyn_gui.core.training")
        if mod is not None:
            return mod
        real = sys.setdlopenflags
        patch = "tensorflow" not in sys.modules and hasattr(os, "RTLD_GLOBAL")
        if patch:
            sys.setdlopenflags = lambda flags: real(flags & ~os.RTLD_GLOBAL)
        try:
            return importlib.import_module("nndyn_gui.core.training")
        finally:
            if patch:
                sys.setdlopenflags = real


def tensorflow_ready() -> bool:
    """True once `load_training_module` has finished (OpenGL views are safe from then on)."""
    return "nndyn_gui.core.training" in sys.modules


class TrainWorker(QObject):
    """Runs one `Trainer.run` in the thread it was moved to; talks only through signals."""

    loaded = Signal()  # TensorFlow imported and the step compiled: real training starts
    snapshots = Signal(object)  # list[Snapshot], in order, batched
    progress = Signal(int, float, float)  # step, loss, steps/s (latest only)
    finished = Signal(object)  # TrainResult
    failed = Signal(str, str)  # one-line message, traceback

    def __init__(self, config: RunConfig, dataset: Dataset) -> None:
        super().__init__()
        self.config = config.copy()
        self.dataset = dataset
        self.cancel = threading.Event()
        self.pause = threading.Event()
        self.step_once = threading.Event()  # pause again after the next snapshot
        self._lock = threading.Lock()
        self._pending: list[Snapshot] = []
        self._pending_progress: tuple[int, float, float] | None = None
        self._last_emit = 0.0
        #: seconds between GUI updates; the controller raises it when updates are costly
        self.emit_interval = EMIT_INTERVAL_S

    @Slot()
    def run(self) -> None:
        """Import the trainer, compile, train; always ends with `finished` or `failed`."""
        try:
            self._run()
        finally:
            thread = QThread.currentThread()
            if thread is not None:
                thread.quit()  # the thread ends with the run (exec() returns at once)

    def _run(self) -> None:
        try:
            trainer = load_training_module().Trainer(self.config, self.dataset)
            if not self.cancel.is_set():
                trainer.warmup()
            self.loaded.emit()
            result = trainer.run(
                on_snapshot=self._on_snapshot,
                on_progress=self._on_progress,
                cancel=self.cancel,
                pause=self.pause,
            )
        except Exception as e:
            self._flush()
            self.failed.emit(f"{type(e).__name__}: {e}", traceback.format_exc())
            return
        self._flush()
        self.finished.emit(result)

    # ------------------------------------------------------------------ callbacks
    def _on_snapshot(self, snap: Snapshot) -> None:
        with self._lock:
            self._pending.append(snap)
        if snap.step > 0 and self.step_once.is_set():
            self.step_once.clear()
            self.pause.set()
            self._flush()
            return
        self._maybe_emit()

    def _on_progress(self, step: int, loss: float, rate: float) -> None:
        with self._lock:
            self._pending_progress = (step, loss, rate)
        self._maybe_emit()
        time.sleep(YIELD_S)

    def _maybe_emit(self) -> None:
        if time.perf_counter() - self._last_emit >= self.emit_interval:
            self._flush()

    def _flush(self) -> None:
        with self._lock:
            snaps, self._pending = self._pending, []
            prog, self._pending_progress = self._pending_progress, None
        self._last_emit = time.perf_counter()
        if prog is not None:
            self.progress.emit(*prog)
        if snaps:
            self.snapshots.emit(snaps)


class TrainController(QObject):
    """Starts, pauses, steps and stops training and feeds the results into AppState.

    Lives in the GUI thread. `finished` / `failed` re-emit the worker's outcome after
    AppState is updated and the thread has ended, so tests can wait on them.
    """

    finished = Signal(object)  # TrainResult
    failed = Signal(str, str)  # message, details

    def __init__(self, state: AppState, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self.qthread: QThread | None = None
        self.worker: TrainWorker | None = None
        self.result: TrainResult | None = None
        self.error: tuple[str, str] | None = None
        self._stopping = False

    # ------------------------------------------------------------------ queries
    def is_running(self) -> bool:
        return self.qthread is not None

    def is_paused(self) -> bool:
        return self.worker is not None and self.worker.pause.is_set()

    # ------------------------------------------------------------------ commands
    def start(self, step_only: bool = False) -> bool:
        """Train the current config from scratch; False if a run is already going."""
        if self.qthread is not None:
            return False
        self.result = None
        self.error = None
        self._stopping = False
        worker = TrainWorker(self.state.config, self.state.dataset)
        if step_only:
            worker.step_once.set()
        thread = QThread()
        thread.setObjectName("nndyn-train")
        worker.moveToThread(thread)
        q = Qt.ConnectionType.QueuedConnection
        worker.loaded.connect(self._on_loaded, q)
        worker.snapshots.connect(self._on_snapshots, q)
        worker.progress.connect(self._on_progress, q)
        worker.finished.connect(self._on_finished, q)
        worker.failed.connect(self._on_failed, q)
        thread.started.connect(worker.run)
        self.qthread, self.worker = thread, worker
        self.state.set_training_state("loading")
        thread.start()
        return True

    def pause(self) -> None:
        if self.worker is not None and not self._stopping:
            self.worker.pause.set()
            self.state.set_training_state("paused")

    def resume(self) -> None:
        if self.worker is not None and not self._stopping:
            self.worker.step_once.clear()
            self.worker.pause.clear()
            self.state.set_training_state("training")

    def toggle_pause(self) -> None:
        if self.is_paused():
            self.resume()
        else:
            self.pause()

    def step(self) -> None:
        """Run one snapshot interval, then pause (starts a paused run if none is going)."""
        if self.worker is None:
            self.start(step_only=True)
            return
        if self._stopping:
            return
        self.worker.step_once.set()
        self.worker.pause.clear()
        self.state.set_training_state("training")

    def stop(self, wait: bool = False, timeout_ms: int = STOP_WAIT_MS) -> None:
        """Ask the trainer to stop at its next check; `wait` blocks until the thread ends."""
        if self.worker is None:
            return
        self._stopping = True
        self.worker.cancel.set()
        self.worker.pause.clear()
        self.state.set_training_state("stopping")
        if wait and self.qthread is not None:
            self.qthread.wait(timeout_ms)
            # deliver the queued finished/failed so AppState gets the last snapshots
            QCoreApplication.sendPostedEvents(self)
            if self.qthread is not None and not self.qthread.isRunning():
                self._end_thread()

    # ------------------------------------------------------------------ worker signals
    @Slot()
    def _on_loaded(self) -> None:
        if self.worker is None or self._stopping:
            return
        paused = self.worker.pause.is_set()
        self.state.set_training_state("paused" if paused else "training")

    @Slot(object)
    def _on_snapshots(self, snaps: Any) -> None:
        if self.worker is None:
            return
        t0 = time.perf_counter()
        self.state.extend_snapshots(list(snaps))
        # keep the GUI busy at most ~1/3 of the time: slow panels get fewer, bigger batches
        cost = time.perf_counter() - t0
        self.worker.emit_interval = min(MAX_EMIT_INTERVAL_S, max(EMIT_INTERVAL_S, 3.0 * cost))
        if self.worker.pause.is_set() and not self._stopping:
            self.state.set_training_state("paused")

    @Slot(int, float, float)
    def _on_progress(self, step: int, loss: float, rate: float) -> None:
        if self.worker is not None:
            self.state.set_progress(step, loss, rate)

    @Slot(object)
    def _on_finished(self, result: Any) -> None:
        self.result = result
        self._end_thread()
        self.state.set_status(result.status, result.message)
        self.state.set_training_state("idle")
        self.finished.emit(result)

    @Slot(str, str)
    def _on_failed(self, message: str, details: str) -> None:
        self.error = (message, details)
        self._end_thread()
        self.state.set_status("cancelled" if len(self.state.snapshots) > 1 else "new", message)
        self.state.set_training_state("idle")
        self.failed.emit(message, details)

    def _end_thread(self) -> None:
        thread, worker = self.qthread, self.worker
        self.qthread, self.worker = None, None
        if thread is not None:
            thread.quit()
            thread.wait()
            thread.deleteLater()
        if worker is not None:
            worker.deleteLater()
