"""The training engine: `TrainingSession` runs `core.train.trainer.Trainer` in a worker process.

Why it looks like this:
- TensorFlow loads only in the worker (core/engine/worker.py), so the window, `nndyn
  render` and its OpenGL views never share a process with it (their two copies of LLVM
  crash together), and a worker that dies (killed, out of memory, a TensorFlow abort)
  takes nothing of the caller's with it.
- One API for everyone: the window and Compare (through ui/training/engine_bridge.py's Qt adapter),
  `nndyn train` and `nndyn render --preset` (through `train`). Commands and events are
  the typed dataclasses of core/engine/protocol.py.
- A session is used from one thread (its owner): commands, `handle` and `next_event`.
  Only `WorkerProcess.recv` may run elsewhere (the Qt adapter's reader thread); the
  owner then passes each event through `handle`, which keeps the books (which run is
  going, its snapshots so far) and drops events of runs or workers that are over.
- The worker is started with multiprocessing's `spawn` (no fork of a process that has
  Qt or TensorFlow threads; works in the PyInstaller bundle with `freeze_support`),
  once, and reused: its compiled functions survive from one run to the next. A session
  that ends with its worker idle and healthy leaves it as a warm *spare* (at most
  MAX_SPARES per process) for the next session, so reopening Compare costs no second
  TensorFlow import; `shutdown_spares` ends them (the app does at exit).
- TensorFlow keeps ~20 MB per new structure compiled (XLA executables and graphs
  outlive the compiled-function cache; issue 25: 671 MB -> 1.3 GB over 30 depths). So
  a worker whose resident memory grew WORKER_RSS_GROWTH_BYTES beyond its size after
  its first run is replaced, invisibly: a successor starts (loads TensorFlow) as soon
  as a run ends over the limit, and takes over at the first start once it is ready;
  until then the old worker keeps serving, so no run ever waits for the swap.
"""

from __future__ import annotations

import contextlib
import dataclasses
import itertools
import logging
import multiprocessing
import multiprocessing.connection
import signal
import sys
import threading
import time
import types
from collections.abc import Callable, Iterator
from multiprocessing.connection import Connection
from typing import Any

import psutil

from nndyn_gui.core.config import RunConfig, TrainConfig
from nndyn_gui.core.engine import protocol as p
from nndyn_gui.core.engine import worker as engine_worker
from nndyn_gui.core.io import limits
from nndyn_gui.core.types import Dataset, Snapshot, TrainResult

SHUTDOWN_WAIT_S = 0.5  # a worker asked to exit gets this long before it is killed
LOST_JOIN_S = 2.0  # after the pipe closed: wait this long for the exit status
MAX_SPARES = 1  # idle warm workers kept for the next session
WORKER_RSS_GROWTH_BYTES = 384 * 2**20  # beyond its first run's size: replace the worker

log = logging.getLogger(__name__)

_RUN_IDS = itertools.count(1)  # process-wide: a reused worker never sees an old id again
_SPARES: list[WorkerProcess] = []


def resident_bytes(pid: int) -> int | None:
    """Resident memory of process `pid` (psutil: on Linux, macOS and Windows alike, so a
    worker that grows is replaced everywhere), None where that cannot be read."""
    try:
        return int(psutil.Process(pid).memory_info().rss)
    except (psutil.Error, OSError):
        return None


def spare_workers() -> list[WorkerProcess]:
    """The idle warm workers kept for the next session."""
    return list(_SPARES)


def shutdown_spares() -> None:
    """End every spare worker (at exit; tests)."""
    while _SPARES:
        _SPARES.pop().stop()


class EngineError(RuntimeError):
    """Training could not finish: it raised, or the worker process died.

    `partial` holds the snapshots received before (never lost); `details` a traceback.
    """

    def __init__(self, message: str, details: str = "", partial: TrainResult | None = None):
        super().__init__(message)
        self.details = details
        self.partial = partial


def describe_exit(exitcode: int | None) -> str:
    """How a worker process ended, in words a user can act on."""
    if exitcode is None:
        return "it stopped answering"
    if exitcode < 0:
        sig = -exitcode
        if sig == signal.SIGKILL:
            return (
                "it was killed (SIGKILL) — usually because the computer ran out of memory, "
                "or another program ended it"
            )
        if sig == signal.SIGABRT:
            return "it aborted (SIGABRT) — TensorFlow stopped on an internal error"
        if sig == signal.SIGSEGV:
            return "it crashed (segmentation fault)"
        try:
            name = signal.Signals(sig).name
        except ValueError:
            name = f"signal {sig}"
        return f"it was ended by {name}"
    if exitcode == 0:
        return "it exited"
    return f"it exited with status {exitcode}"


def lost_message(exitcode: int | None, n_snapshots: int) -> str:
    kept = (
        f"The {n_snapshots} snapshots received so far are kept. "
        if n_snapshots > 1
        else "Nothing had been trained yet. "
    )
    return (
        f"The training process stopped unexpectedly: {describe_exit(exitcode)}. "
        f"{kept}Train again to start a new training process."
    )


@contextlib.contextmanager
def _bare_main() -> Iterator[None]:
    """Start a spawned worker without re-running the caller's main script in it.

    `spawn` runs the parent's `__main__` file again in the child (as `__mp_main__`); for
    `nndyn-gui` that imports Qt into the training process (~100 MB, half a second), for a
    script without a main guard it runs the script. The worker needs nothing from it
    (its target and `initializer` are importable by module name), so while the process
    starts `__main__` is a bare module. In a PyInstaller bundle nothing is re-run anyway.
    """
    real = sys.modules.get("__main__")
    if real is None or getattr(sys, "frozen", False):
        yield
        return
    sys.modules["__main__"] = types.ModuleType("__main__")
    try:
        yield
    finally:
        sys.modules["__main__"] = real


class WorkerProcess:
    """One spawned worker and its two one-way pipes (commands in, events out)."""

    def __init__(self, initializer: Callable[[], None] | None = None) -> None:
        ctx = multiprocessing.get_context("spawn")
        cmd_r, cmd_w = ctx.Pipe(duplex=False)
        evt_r, evt_w = ctx.Pipe(duplex=False)
        self.process = ctx.Process(
            target=engine_worker.main,
            args=(cmd_r, evt_w, initializer),
            name="nndyn-engine",
            daemon=True,  # never outlives the caller, even if it exits abruptly
        )
        with _bare_main():
            self.process.start()
        cmd_r.close()  # the parent keeps only its own ends: EOF then means "worker gone"
        evt_w.close()
        self._commands: Connection = cmd_w
        self._events: Connection = evt_r
        self.pid = int(self.process.pid or 0)
        self.retired = False  # set when the owner asked it to go (its end is no news)
        self.ready: p.Ready | None = None  # its Ready event, once received
        self.baseline_rss: int | None = None  # resident memory after its first run

    def send(self, cmd: p.Command) -> bool:
        """Send a command; False if the worker is gone (its death is reported by recv)."""
        try:
            self._commands.send(cmd)
        except (OSError, ValueError):
            return False
        return True

    def recv(
        self, timeout: float | None = None, interrupt: Connection | None = None
    ) -> p.Event | None:
        """The next event; None after `timeout` s or when `interrupt` becomes readable.

        Raises EOFError once the worker is gone."""
        waiting = [self._events] if interrupt is None else [self._events, interrupt]
        if self._events not in multiprocessing.connection.wait(waiting, timeout):
            return None
        try:
            event: p.Event = self._events.recv()
        except (OSError, ValueError) as e:
            raise EOFError(str(e)) from None
        return event

    def poll_ready(self) -> bool:
        """True once TensorFlow loaded (reads its Ready if waiting; never blocks). Only
        for a worker nobody else reads yet: a successor before it takes over."""
        try:
            while self.ready is None and self._events.poll(0):
                event = self._events.recv()
                if isinstance(event, p.Ready):
                    self.ready = event
        except (OSError, EOFError, ValueError):
            return False
        return self.healthy()

    def lost(self) -> p.WorkerLost:
        """The event describing this worker's end (call after recv raised EOFError)."""
        self.process.join(LOST_JOIN_S)
        return p.WorkerLost(0, "", self.process.exitcode)

    def alive(self) -> bool:
        return self.process.is_alive()

    def healthy(self) -> bool:
        """Alive, TensorFlow loaded, nobody has asked it to go."""
        return (
            not self.retired
            and self.ready is not None
            and not self.ready.error
            and self.process.is_alive()
        )

    def stop(self, timeout: float = SHUTDOWN_WAIT_S) -> None:
        """Ask the worker to exit, kill it if it does not within `timeout` s."""
        self.retired = True
        self.send(p.Shutdown())
        self.process.join(timeout)
        if self.process.is_alive():
            self.process.kill()
            self.process.join(5.0)

    def kill(self) -> None:
        """End the worker at once (tests; a stop that must not wait for a compile)."""
        self.process.kill()
        self.process.join(5.0)


class TrainingSession:
    """Start, pause, step, resume and cancel training runs in a warm worker process.

    Use from one thread. Events come from `next_event` (blocking, single thread) or,
    when another thread reads `worker.recv`, through `handle(event, worker)`.
    """

    def __init__(self, initializer: Callable[[], None] | None = None) -> None:
        #: runs in the worker before TensorFlow is imported (tests inject faults with it);
        #: it must be importable by module name (not defined in a `__main__` script); a
        #: session with one never takes nor leaves a spare worker
        self.initializer = initializer
        self.worker: WorkerProcess | None = None
        self.ready: p.Ready | None = None
        self.run_id = 0  # the newest run started
        self.active = 0  # the run in progress (0: none)
        self.snapshots: list[Snapshot] = []  # of the newest run, in order
        #: thins `snapshots` as the trainer thins its own (limits.SNAPSHOT_MEMORY_BYTES)
        self._keeper = limits.SnapshotKeeper(1, 3)
        self.result: TrainResult | None = None  # how the newest run ended
        #: every member's result of the newest ensemble (start_ensemble), once it ended
        self.ensemble: list[TrainResult] | None = None
        self._successor: WorkerProcess | None = None  # loading to replace a grown worker
        self.recycled = 0  # workers replaced because they grew (tests, benchmarks)
        self._closed = False

    # ------------------------------------------------------------------ the worker
    def start_worker(self) -> WorkerProcess:
        """The worker, started now if there is none (or it died): TensorFlow loads in it."""
        if self._closed:
            raise EngineError("the training session is shut down")
        self._take_successor()
        if self.worker is not None and not self.worker.retired and self.worker.alive():
            return self.worker
        self._retire()
        worker = self._successor
        self._successor = None
        while self.initializer is None and _SPARES and worker is None:
            spare = _SPARES.pop()
            if spare.healthy():
                worker = spare
            else:
                spare.stop()
        self.worker = worker or WorkerProcess(self.initializer)
        self.ready = self.worker.ready
        return self.worker

    @property
    def worker_pid(self) -> int:
        return self.worker.pid if self.worker is not None else 0

    def versions(self) -> dict[str, str]:
        """The worker's library versions ({} until it is ready)."""
        return dict(self.ready.versions) if self.ready is not None else {}

    # ------------------------------------------------------------------ commands
    def start(
        self,
        config: RunConfig,
        dataset: Dataset,
        step_only: bool = False,
        quick_start: bool = False,
        paused: bool = False,
    ) -> int:
        """Begin a run (cancelling one still going); returns its id. See `protocol.Start`."""
        worker = self.start_worker()
        self.run_id = self.active = next(_RUN_IDS)
        self.snapshots = []
        self._keeper = limits.SnapshotKeeper(
            config.train.snapshot_every, limits.snapshot_capacity(config)
        )
        self.result = None
        # no copy: Connection.send pickles the command before it returns, so the worker
        # trains the config as it is now whatever the caller does with it afterwards
        worker.send(p.Start(self.run_id, config, dataset, step_only, quick_start, paused))
        return self.run_id

    def start_ensemble(self, configs: list[RunConfig], dataset: Dataset) -> int:
        """Train `configs` (one compiled structure) together, cancelling a run still
        going; returns its id. See `protocol.StartEnsemble`: the members' results arrive
        in `EnsembleResults` (kept in `ensemble`), then `Finished` ends it."""
        if not configs:
            raise ValueError("an ensemble needs at least one member")
        worker = self.start_worker()
        self.run_id = self.active = next(_RUN_IDS)
        self.snapshots = []
        self.result = None
        self.ensemble = None
        worker.send(p.StartEnsemble(self.run_id, tuple(configs), dataset))
        return self.run_id

    def tune(self, train: TrainConfig) -> None:
        """Change the running run's live fields (core/train/live.py) from its next call on."""
        if self.active and self.worker is not None:
            self.worker.send(p.Tune(self.active, train))  # pickled by send, as in start

    def pause(self) -> None:
        self._send_run(p.Pause)

    def resume(self) -> None:
        self._send_run(p.Resume)

    def step(self) -> None:
        """Train to the next snapshot, then pause."""
        self._send_run(p.Step)

    def cancel(self) -> None:
        """End the run at its next check (it ends with Finished "cancelled")."""
        self._send_run(p.Cancel)

    def _send_run(self, kind: type[p.Pause | p.Resume | p.Step | p.Cancel]) -> None:
        if self.active and self.worker is not None:
            self.worker.send(kind(self.active))

    def kill_worker(self) -> None:
        """End the worker now; a run in progress ends as WorkerLost (the next start makes
        a new worker). For a stop that cannot wait for a compile, and for tests."""
        if self.worker is not None:
            self.worker.kill()

    # ------------------------------------------------------------------ events
    def handle(self, event: p.Event, worker: WorkerProcess | None = None) -> p.Event | None:
        """Keep the books for `event` (from `worker`); None if it is old news."""
        if worker is not None and worker is not self.worker:
            return None  # a retired worker's last words
        if isinstance(event, p.WorkerLost):
            run = self.active
            event = dataclasses.replace(
                event, run_id=run, message=lost_message(event.exitcode, len(self.snapshots))
            )
            self._retire()
            if run:
                self._end(TrainResult("cancelled", list(self.snapshots), event.message))
            return event
        if isinstance(event, p.Ready):
            self.ready = event
            if self.worker is not None:
                self.worker.ready = event
            return event
        if event.run_id != self.run_id:
            return None  # a cancelled run ending after a newer one started
        if isinstance(event, p.Snapshots):
            for s in event.snapshots:  # the same list as the trainer keeps
                self._keeper.add(self.snapshots, s)
        elif isinstance(event, p.EnsembleResults):
            self.ensemble = list(event.results)
            for r in self.ensemble:
                r.versions.update(self.versions())
        elif isinstance(event, p.Finished):
            self._end(TrainResult(event.status, list(self.snapshots), event.message))
        elif isinstance(event, p.Failed):
            self._end(TrainResult("cancelled", list(self.snapshots), event.message))
        return event

    def next_event(self, timeout: float | None = None) -> p.Event | None:
        """Wait up to `timeout` s for the next event that matters (single-thread use)."""
        worker = self.worker
        if worker is None:
            if timeout:
                time.sleep(timeout)
            return None
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            try:
                event = worker.recv(left)
            except EOFError:
                event = worker.lost()
            if event is None:
                return None
            handled = self.handle(event, worker)
            if handled is not None or isinstance(event, p.WorkerLost):
                return handled
            if deadline is not None and time.monotonic() >= deadline:
                return None

    def _end(self, result: TrainResult) -> None:
        self.active = 0
        result.versions.update(self.versions())
        self.result = result
        self._check_growth()

    # ------------------------------------------------------------------ memory
    def _check_growth(self) -> None:
        """After a run: start a successor if the worker grew past its allowance."""
        worker = self.worker
        if worker is None or self._successor is not None or self._closed:
            return
        rss = resident_bytes(worker.pid)
        if rss is None:
            return
        if worker.baseline_rss is None:
            if worker.ready is not None:  # not while TensorFlow loads (runs start before)
                worker.baseline_rss = rss
            return
        if rss > worker.baseline_rss + WORKER_RSS_GROWTH_BYTES:
            log.info(
                "training worker %d grew from %s to %s: starting a fresh one",
                worker.pid,
                limits.human_bytes(worker.baseline_rss),
                limits.human_bytes(rss),
            )
            self._successor = WorkerProcess(self.initializer)

    def _take_successor(self) -> None:
        """Between runs, switch to a successor that has loaded TensorFlow (else later)."""
        succ = self._successor
        if succ is None or self.active:
            return
        if not succ.poll_ready():
            if not succ.alive() or succ.ready is not None:  # it failed: keep the old one
                self._successor = None
                succ.stop()
            return
        self._successor = None
        old, self.worker = self.worker, succ
        self.ready = succ.ready
        self.recycled += 1
        if old is not None:
            old.stop()

    # ------------------------------------------------------------------ closing
    def _retire(self) -> None:
        """Stop the current worker (if any) quietly; its events are ignored from now on."""
        worker, self.worker = self.worker, None
        if worker is not None:  # its pipes close when the last reader drops it
            worker.stop()

    def shutdown(self, keep_warm: bool = True) -> None:
        """Leave the worker as a spare if it is idle and healthy (and `keep_warm`), else end
        it (killing it after SHUTDOWN_WAIT_S). The session cannot be used afterwards."""
        self._take_successor()
        self._closed = True
        succ, self._successor = self._successor, None
        if succ is not None:  # still loading: nobody will use it
            succ.stop()
        worker = self.worker
        spare = (
            keep_warm
            and worker is not None
            and self.initializer is None
            and self.active == 0
            and worker.healthy()
            and len(_SPARES) < MAX_SPARES
        )
        self.active = 0
        if spare and worker is not None:
            self.worker = None
            _SPARES.append(worker)
        else:
            self._retire()

    def __enter__(self) -> TrainingSession:
        return self

    def __exit__(self, *exc: object) -> None:
        self.shutdown()


# ---------------------------------------------------------------------- blocking use
def train(
    config: RunConfig,
    dataset: Dataset,
    *,
    on_snapshot: Callable[[Snapshot], Any] | None = None,
    on_progress: Callable[[int, float, float], Any] | None = None,
    on_compiled: Callable[[float], Any] | None = None,
    cancel: threading.Event | None = None,
    session: TrainingSession | None = None,
    poll_s: float = 0.05,
) -> TrainResult:
    """Train in a worker process and wait for the result (`nndyn train`, `nndyn render`).

    `cancel` (set from a signal handler, say) ends the run cleanly: the result is then
    "cancelled" with every snapshot so far. Raises EngineError if training raised or
    the worker died (with the snapshots received in `partial`). A KeyboardInterrupt
    while waiting ends the worker and propagates.
    """
    own = session is None
    s = session or TrainingSession()
    try:
        s.start(config, dataset)
        cancelled = False
        while True:
            if cancel is not None and cancel.is_set() and not cancelled:
                cancelled = True
                s.cancel()
            event = s.next_event(poll_s)
            if isinstance(event, p.Snapshots) and on_snapshot is not None:
                for snap in event.snapshots:
                    on_snapshot(snap)
            elif isinstance(event, p.Progress) and on_progress is not None:
                on_progress(event.step, event.loss, event.steps_per_s)
            elif isinstance(event, p.Compiled) and on_compiled is not None:
                on_compiled(event.seconds)
            elif isinstance(event, p.Finished):
                assert s.result is not None
                return s.result
            elif isinstance(event, p.Failed | p.WorkerLost):
                raise EngineError(
                    event.message,
                    event.details if isinstance(event, p.Failed) else "",
                    s.result,
                )
    finally:
        if own:
            s.shutdown(keep_warm=False)  # a command ends here: no spare to keep
