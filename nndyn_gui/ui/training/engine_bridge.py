"""The training engine for Qt: a `TrainingSession` whose events reach the GUI thread.

Why it looks like this:
- A reader thread per worker process blocks on the worker's event pipe (unpickling
  the snapshots there, not on the GUI thread), puts each event in an inbox and wakes
  the GUI thread with one queued signal; the GUI thread drains the whole inbox at
  once, so a fast trainer's many small batches reach the panels as one.
- The GUI thread stays busy with training updates at most ~1/3 of the time: after a
  drain that cost c seconds, the next one waits 2c (the events wait in the inbox, none
  is dropped). That is what lets a 100-block net train with every dock open.
- Only the GUI thread touches the session (commands and bookkeeping); the reader
  thread only reads its own worker's pipe. A worker's reader ends when the worker does
  (its pipe closes) or when `shutdown` wakes it through a pipe of its own, and
  `shutdown` joins every reader: nothing is left running. An idle worker is then left
  warm for the next window (see core/engine/session.py, spares).
"""

from __future__ import annotations

import contextlib
import multiprocessing
import threading
import time
from collections import deque
from collections.abc import Callable

from PySide6.QtCore import QObject, Qt, QTimer, Signal, Slot

from nndyn_gui.core.config import RunConfig
from nndyn_gui.core.engine import protocol as p
from nndyn_gui.core.engine.session import TrainingSession, WorkerProcess
from nndyn_gui.core.types import Dataset, Snapshot

BUSY_SHARE = 1.0 / 3.0  # the share of GUI time training updates may take
MAX_HOLD_S = 0.5  # never hold events back longer than this


class EngineEvents(QObject):
    """A `TrainingSession` whose worker's events reach the GUI thread, merged and paced.

    Subclasses say what the events do (`_on_snapshots`, `_on_progress`, `_on_event`):
    the window's TrainController handles them itself, Compare's EngineBridge re-emits
    them as signals. Commands go straight to `self.session`; `watch_worker` after one
    that may start a worker gives that worker a reader.
    """

    _wake = Signal()

    def __init__(
        self, parent: QObject | None = None, initializer: Callable[[], None] | None = None
    ) -> None:
        super().__init__(parent)
        self.session = TrainingSession(initializer)
        self._lock = threading.Lock()
        self._arrived = threading.Condition(self._lock)
        self._inbox: deque[tuple[WorkerProcess, p.Event]] = deque()
        self._woken = False
        self._readers: list[threading.Thread] = []
        self._stop_r, self._stop_w = multiprocessing.Pipe(duplex=False)  # wakes the readers
        self._resume_at = 0.0
        self._closed = False
        self.last_drain_s = 0.0
        self._hold = QTimer(self)
        self._hold.setSingleShot(True)
        self._hold.timeout.connect(self._drain)
        self._wake.connect(self._on_wake, Qt.ConnectionType.QueuedConnection)
        # deleted without shutdown() (a parent window destroyed): still end the worker
        session = self.session
        self.destroyed.connect(lambda *_: session.shutdown(keep_warm=False))

    # ------------------------------------------------------------------ what events do
    def _on_snapshots(self, snaps: list[Snapshot]) -> None:
        """A merged batch of the run's snapshots (GUI thread)."""

    def _on_progress(self, step: int, loss: float, rate: float) -> None:
        """The newest progress of a drain (GUI thread)."""

    def _on_event(self, event: p.Event) -> None:
        """Any other event, as the session has handled it (GUI thread)."""

    # ------------------------------------------------------------------ queries
    def is_running(self) -> bool:
        """True from `start` until the run's end has been delivered."""
        return self.session.active != 0

    def worker_pid(self) -> int:
        return self.session.worker_pid

    def versions(self) -> dict[str, str]:
        return self.session.versions()

    # ------------------------------------------------------------------ commands
    def start_worker(self) -> None:
        """Start the worker now (it loads TensorFlow), so the first Train is quick."""
        if not self._closed:
            self.session.start_worker()
            self.watch_worker()

    def watch_worker(self) -> None:
        """Give the session's worker a reader thread (once; a new worker gets a new one)."""
        worker = self.session.worker
        if self._closed or worker is None:
            return
        if not any(t.name == f"nndyn-engine-events-{worker.pid}" for t in self._readers):
            self._prune_readers()
            if worker.ready is not None:  # a warm spare: its Ready came before this reader
                self._post(worker, worker.ready)
            t = threading.Thread(
                target=self._read,
                args=(worker,),
                name=f"nndyn-engine-events-{worker.pid}",
                daemon=True,
            )
            self._readers.append(t)
            t.start()

    def wait_for_end(self, timeout_s: float) -> bool:
        """Deliver events here until the run has ended; False after `timeout_s`."""
        deadline = time.monotonic() + timeout_s
        while self.is_running():
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            with self._arrived:
                if not self._inbox:
                    self._arrived.wait(min(left, 0.05))
            self._drain()
        return True

    def shutdown(self) -> None:
        """Stop the readers and leave the worker warm (if idle) or end it (window close);
        no signal follows."""
        if self._closed:
            return
        self._closed = True
        self._hold.stop()
        self._stop_w.send(None)
        for t in self._readers:
            t.join(5.0)
        self._readers = []
        self.session.shutdown()
        with self._lock:
            self._inbox.clear()
        self._stop_w.close()
        self._stop_r.close()

    # ------------------------------------------------------------------ reader thread
    def _read(self, worker: WorkerProcess) -> None:
        while True:
            try:
                event = worker.recv(None, interrupt=self._stop_r)
            except EOFError:
                self._post(worker, worker.lost())
                return
            if event is None:  # woken by shutdown
                return
            self._post(worker, event)

    def _post(self, worker: WorkerProcess, event: p.Event) -> None:
        with self._arrived:
            self._inbox.append((worker, event))
            self._arrived.notify_all()
            if self._woken or self._closed:
                return
            self._woken = True
        with contextlib.suppress(RuntimeError):  # the bridge was deleted: nobody listens
            self._wake.emit()

    def _prune_readers(self) -> None:
        self._readers = [t for t in self._readers if t.is_alive()]

    # ------------------------------------------------------------------ GUI thread
    @Slot()
    def _on_wake(self) -> None:
        if self._closed:
            return
        wait = self._resume_at - time.monotonic()
        if wait > 0:
            if not self._hold.isActive():
                self._hold.start(max(1, round(1000 * wait)))
            return
        self._drain()

    @Slot()
    def _drain(self) -> None:
        """Hand everything in the inbox to the session and the signals, in order."""
        if self._closed:
            return
        t0 = time.monotonic()
        with self._lock:
            items = list(self._inbox)
            self._inbox.clear()
            self._woken = False
        batch: list[Snapshot] = []
        progress: p.Progress | None = None
        for worker, raw in items:
            event = self.session.handle(raw, worker)
            if event is None:
                continue
            if isinstance(event, p.Snapshots):
                batch.extend(event.snapshots)
                continue
            if isinstance(event, p.Progress):
                progress = event
                continue
            batch, progress = self._deliver_batch(batch, progress)
            self._on_event(event)
        self._deliver_batch(batch, progress)
        cost = time.monotonic() - t0
        self.last_drain_s = cost
        hold = min(MAX_HOLD_S, cost * (1.0 - BUSY_SHARE) / BUSY_SHARE)
        self._resume_at = time.monotonic() + hold

    def _deliver_batch(
        self, batch: list[Snapshot], progress: p.Progress | None
    ) -> tuple[list[Snapshot], None]:
        """Deliver the merged snapshots, then the newest progress; return empty ones."""
        if batch:
            self._on_snapshots(batch)
        if progress is not None:
            self._on_progress(progress.step, progress.loss, progress.steps_per_s)
        return [], None


class EngineBridge(EngineEvents):
    """Compare's and Ensemble's engine: runs in a worker, their events as Qt signals.

    Signals (all on the GUI thread, in the order the worker sent them):
    snapshots(list[Snapshot]), progress(step, loss, steps/s), finished(TrainResult),
    failed(message, details) and workerLost(message, run_id) (run_id 0: it was idle);
    for an ensemble also compiled(seconds), ensembleProgress(EnsembleProgress) and,
    before its finished, ensembleResults(list[TrainResult]).
    """

    snapshots = Signal(object)
    progress = Signal(int, float, float)
    finished = Signal(object)
    failed = Signal(str, str)
    workerLost = Signal(str, int)
    compiled = Signal(float)
    ensembleProgress = Signal(object)
    ensembleResults = Signal(object)

    def start(self, config: RunConfig, dataset: Dataset) -> int:
        """Begin a run (cancelling one still going); returns its id."""
        run_id = self.session.start(config, dataset)
        self.watch_worker()
        return run_id

    def start_ensemble(self, configs: list[RunConfig], dataset: Dataset) -> int:
        """Train `configs` together (core/train/ensemble.py); returns its id."""
        run_id = self.session.start_ensemble(configs, dataset)
        self.watch_worker()
        return run_id

    def cancel(self) -> None:
        self.session.cancel()

    def _on_snapshots(self, snaps: list[Snapshot]) -> None:
        self.snapshots.emit(snaps)

    def _on_progress(self, step: int, loss: float, rate: float) -> None:
        self.progress.emit(step, loss, rate)

    def _on_event(self, event: p.Event) -> None:
        if isinstance(event, p.Finished):
            self.finished.emit(self.session.result)
        elif isinstance(event, p.Failed):
            self.failed.emit(event.message, event.details)
        elif isinstance(event, p.WorkerLost):
            self.workerLost.emit(event.message, event.run_id)
        elif isinstance(event, p.Compiled):
            self.compiled.emit(event.seconds)
        elif isinstance(event, p.EnsembleProgress):
            self.ensembleProgress.emit(event)
        elif isinstance(event, p.EnsembleResults):
            self.ensembleResults.emit(list(event.results))
