"""Compare's training: its runs one after the other in one engine worker.

Why it exists: two runs at once would only fight over the same cores, so Compare trains
them in turn through its own worker (ui/training/engine_bridge.py; a spare worker is
reused, TensorFlow loads while the user picks the runs). This queue says which run is
training and passes each run's events on with its index; it knows nothing of columns,
views or seeds, so any list of runs (any two configs, each on its own data) trains
the same way.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QObject, Signal, Slot

from nndyn_gui.core.config import RunConfig
from nndyn_gui.core.types import Dataset, Snapshot
from nndyn_gui.ui.training.engine_bridge import EngineBridge


class RunQueue(QObject):
    """Trains (index, config) runs in turn; every signal names the run's index."""

    started = Signal(int)  # run i begins
    snapshot = Signal(int, object)  # run i's newest snapshot (the last of a batch)
    finished = Signal(int, object)  # run i ended with this TrainResult
    failed = Signal(int, str)  # run i (-1: none was training) failed: the message
    allDone = Signal()  # nothing left to train (finished, stopped or failed)

    def __init__(self, parent: QObject) -> None:
        super().__init__(parent)
        self.engine = EngineBridge(self)
        self._queue: list[tuple[int, RunConfig, Dataset]] = []  # still to train
        self.training: int | None = None  # the run training now
        self.running = False
        self.cancelled = False
        self.failure = ""  # the message of the run that failed
        self.engine.snapshots.connect(self._on_snapshots)
        self.engine.finished.connect(self._on_finished)
        self.engine.failed.connect(self._on_failed)
        self.engine.workerLost.connect(self._on_worker_lost)

    def start(self, runs: list[tuple[int, RunConfig, Dataset]]) -> None:
        """Train `runs` (index, config, its data set) in order."""
        self._queue = list(runs)
        self.running = True
        self.cancelled = False
        self.failure = ""
        self._next()

    def stop(self) -> None:
        """Ask the run to stop after its current compiled call; none after it (at once)."""
        self.cancelled = True
        self._queue = []
        self.engine.cancel()

    def shutdown(self) -> None:
        """End the worker (window close)."""
        self._queue = []
        self.engine.shutdown()
        self.running = False
        self.training = None

    def _next(self) -> None:
        if not self._queue or self.cancelled:
            self._done()
            return
        i, cfg, dataset = self._queue.pop(0)
        self.training = i
        self.started.emit(i)
        self.engine.start(cfg, dataset)

    def _done(self) -> None:
        self.running = False
        self.training = None
        self.allDone.emit()

    @Slot(object)
    def _on_snapshots(self, snaps: Any) -> None:
        if self.training is not None and snaps:
            snap: Snapshot = snaps[-1]
            self.snapshot.emit(self.training, snap)

    @Slot(object)
    def _on_finished(self, result: Any) -> None:
        i = self.training
        if i is None:
            return
        self.training = None
        self.finished.emit(i, result)
        self._next()

    @Slot(str, str)
    def _on_failed(self, message: str, _details: str = "") -> None:
        i = self.training
        self.failure = message
        self._queue = []
        self.training = None
        self.failed.emit(-1 if i is None else i, message)
        self._done()

    @Slot(str, int)
    def _on_worker_lost(self, message: str, run_id: int) -> None:
        if run_id:
            self._on_failed(message)
