"""The training worker: the one process that imports TensorFlow (started by core/engine/session.py).

Why it looks like this:
- TensorFlow and Mesa's software OpenGL both carry LLVM and crash in one process, so
  the window, `nndyn render` and the views never load TensorFlow; this process does,
  once, and keeps its compiled functions (`core.train.trainer`'s cache) across runs.
- Three threads, each with one job: the main thread trains (a blocking loop that no
  queued call could interrupt); a reader thread applies commands the moment they
  arrive (pause / step / cancel flags the trainer checks between compiled calls); a
  sender thread streams what the trainer produced, batched at most ~30 times a second,
  so a fast trainer cannot flood the window and a paused one still delivers its last
  snapshots.
- Pause, Resume and Step change one run's flags under one lock, and the state they
  lead to is announced under that same lock: a Resume pressed while a Step is pausing
  is never lost, and the window never sees "paused" after "training" out of order.
- It runs at a lower CPU priority (WORKER_NICENESS): training is background work, and on
  a machine with few cores the window must win every time it needs a core, or a deep
  net's redraws stall it for hundreds of ms. On an idle machine this changes nothing.
- SIGINT is ignored: Ctrl+C in a terminal goes to the whole process group, and the
  parent (`nndyn train`) decides what it means. When the parent goes away (its end of
  the command pipe closes) this process exits at once.
"""

from __future__ import annotations

import importlib
import logging
import os
import queue
import signal
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Any

from nndyn_gui.core.config import TrainConfig
from nndyn_gui.core.engine import protocol as p
from nndyn_gui.core.io import logs
from nndyn_gui.core.types import Snapshot

log = logging.getLogger(__name__)

EMIT_INTERVAL_S = 1.0 / 30.0  # at most ~30 batches of snapshots / progress a second
WORKER_NICENESS = 10  # lower CPU priority than the window (0 = none); see the docstring


@dataclass
class _RunFlags:
    """What the trainer of one run checks between compiled calls."""

    pause: threading.Event = field(default_factory=threading.Event)
    cancel: threading.Event = field(default_factory=threading.Event)
    step_once: bool = False
    tune: TrainConfig | None = None  # live changes the trainer takes at its next call


class _Outbox:
    """Sends events in order; snapshots and progress are batched by a sender thread."""

    def __init__(self, conn: Connection, interval: float = EMIT_INTERVAL_S) -> None:
        self._conn = conn
        self._interval = interval
        self._lock = threading.Lock()  # guards the buffers and the connection
        self._snaps: list[Snapshot] = []
        self._snaps_run = 0
        self._progress: p.Progress | None = None
        self._last = 0.0
        self._wake = threading.Event()
        threading.Thread(target=self._loop, name="nndyn-engine-sender", daemon=True).start()

    def send(self, event: p.Event) -> None:
        """Send now, after everything buffered (so a run's end follows its snapshots)."""
        with self._lock:
            self._flush_locked()
            self._conn.send(event)

    def snapshot(self, run_id: int, snap: Snapshot) -> None:
        with self._lock:
            if self._snaps and self._snaps_run != run_id:
                self._flush_locked()
            self._snaps_run = run_id
            self._snaps.append(snap)
        self._wake.set()

    def progress(self, event: p.Progress) -> None:
        with self._lock:
            self._progress = event
        self._wake.set()

    def flush(self) -> None:
        with self._lock:
            self._flush_locked()

    def _flush_locked(self) -> None:
        if self._snaps:
            snaps, self._snaps = self._snaps, []
            self._conn.send(p.Snapshots(self._snaps_run, snaps))
        if self._progress is not None:
            prog, self._progress = self._progress, None
            self._conn.send(prog)
        self._last = time.monotonic()

    def _loop(self) -> None:
        while True:
            self._wake.wait()
            self._wake.clear()
            wait = self._last + self._interval - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            try:
                self.flush()
            except (OSError, ValueError):  # the parent is gone: the reader ends us
                return


class _Control:
    """The flags of every run the worker knows; changed only under `lock`."""

    def __init__(self, outbox: _Outbox) -> None:
        self.lock = threading.Lock()
        self._outbox = outbox
        self._runs: dict[int, _RunFlags] = {}

    def begin(self, start: p.Start) -> None:
        """A new run: any older run is cancelled (one run at a time)."""
        with self.lock:
            for flags in self._runs.values():
                flags.cancel.set()
                flags.pause.clear()
            flags = _RunFlags(step_once=start.step_only)
            if start.paused:
                flags.pause.set()
            self._runs[start.run_id] = flags

    def flags(self, run_id: int) -> _RunFlags:
        with self.lock:
            return self._runs.setdefault(run_id, _RunFlags())

    def end(self, run_id: int) -> None:
        with self.lock:
            self._runs.pop(run_id, None)

    def take_tune(self, run_id: int) -> TrainConfig | None:
        """The newest live changes sent for the run (once), or None."""
        with self.lock:
            flags = self._runs.get(run_id)
            if flags is None or flags.tune is None:
                return None
            tune, flags.tune = flags.tune, None
            return tune

    def apply(self, cmd: p.Pause | p.Resume | p.Step | p.Cancel | p.Tune) -> None:
        """A command from the session; the resulting state is announced under the lock."""
        with self.lock:
            flags = self._runs.get(cmd.run_id)
            if flags is None:
                return  # the run has ended: nothing to do
            if isinstance(cmd, p.Tune):
                flags.tune = cmd.train  # the newest wins: it holds every live field
                return
            if isinstance(cmd, p.Cancel):
                flags.cancel.set()
                flags.pause.clear()
                return
            if isinstance(cmd, p.Pause):
                flags.step_once = False
                flags.pause.set()
                self._outbox.send(p.RunState(cmd.run_id, "paused"))
                return
            flags.step_once = isinstance(cmd, p.Step)
            flags.pause.clear()
            self._outbox.send(p.RunState(cmd.run_id, "training"))

    def after_snapshot(self, run_id: int, step: int) -> None:
        """Pause after a Step's snapshot (and say so) unless a Resume came first."""
        with self.lock:
            flags = self._runs.get(run_id)
            if flags is None or step <= 0 or not flags.step_once or flags.cancel.is_set():
                return
            flags.step_once = False
            flags.pause.set()
            self._outbox.send(p.RunState(run_id, "paused", step))


def _read_commands(conn: Connection, control: _Control, starts: queue.Queue[p.Start]) -> None:
    """Reader thread: apply commands as they arrive; exit with the parent."""
    while True:
        try:
            cmd = conn.recv()
        except (EOFError, OSError):
            os._exit(0)  # the session is gone (closed, crashed or killed): so are we
        if isinstance(cmd, p.Shutdown):
            os._exit(0)
        if isinstance(cmd, p.Start):
            control.begin(cmd)
            starts.put(cmd)
        elif isinstance(cmd, p.Pause | p.Resume | p.Step | p.Cancel | p.Tune):
            control.apply(cmd)


def _versions() -> dict[str, str]:
    """The versions a run file records (same keys as core.io.runfile.current_versions)."""
    tf = importlib.import_module("tensorflow")
    return {"tensorflow": str(getattr(tf, "__version__", "") or "?")}


def _train(training: Any, cmd: p.Start, control: _Control, outbox: _Outbox) -> None:
    """One run, from the Start command to Finished / Failed (never raises)."""
    rid = cmd.run_id
    flags = control.flags(rid)
    try:
        if flags.cancel.is_set():  # superseded while queued (a slider being dragged)
            outbox.send(p.Finished(rid, "cancelled", "Cancelled before training started."))
            return
        trainer = training.Trainer(cmd.config, cmd.dataset, quick_start=cmd.quick_start)
        every = cmd.config.train.snapshot_every
        run = training.Control(flags.cancel, flags.pause, lambda: control.take_tune(rid))
        for event in trainer.events(rid, run):
            if isinstance(event, p.Snapshots):
                for snap in event.snapshots:
                    outbox.snapshot(rid, snap)
                    if snap.step % every == 0:  # Step pauses after an interval, not a preview
                        control.after_snapshot(rid, snap.step)
            elif isinstance(event, p.Progress):
                outbox.progress(event)
            else:
                outbox.send(event)
    except Exception as e:  # a run's top level: logged here, shown by the window (Failed)
        log.exception("run %d failed", rid)
        first = str(e).strip().splitlines()[0] if str(e).strip() else ""
        message = f"{type(e).__name__}: {first}" if first else type(e).__name__
        outbox.send(p.Failed(rid, message, traceback.format_exc()))
    finally:
        control.end(rid)


def _lower_priority() -> None:
    """Yield the CPU to the window and the person's other programs (POSIX only)."""
    nice = int(os.environ.get("NNDYN_WORKER_NICENESS", WORKER_NICENESS))
    if nice > 0 and hasattr(os, "nice"):
        try:
            os.nice(nice)
        except OSError as e:  # e.g. a sandbox that forbids it: train at normal priority
            log.warning("cannot lower the training worker's priority: %s", e)


def main(
    commands: Connection, events: Connection, initializer: Callable[[], None] | None = None
) -> None:
    """The worker process (multiprocessing target): load TensorFlow, then serve runs."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    logs.setup("nndyn-engine")
    _lower_priority()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    outbox = _Outbox(events)
    control = _Control(outbox)
    starts: queue.Queue[p.Start] = queue.Queue()
    threading.Thread(
        target=_read_commands,
        args=(commands, control, starts),
        name="nndyn-engine-reader",
        daemon=True,
    ).start()
    training: Any = None
    error = ""
    versions: dict[str, str] = {}
    try:
        if initializer is not None:
            initializer()
        training = importlib.import_module("nndyn_gui.core.train.trainer")
        versions = _versions()
    except Exception as e:  # any import failure: every run then fails with this line
        log.exception("TensorFlow cannot be loaded")
        error = f"TensorFlow cannot be loaded ({type(e).__name__}: {e})"
    outbox.send(p.Ready(os.getpid(), versions, error))
    while True:
        cmd = starts.get()
        if error:
            outbox.send(p.Failed(cmd.run_id, error))
            control.end(cmd.run_id)
            continue
        _train(training, cmd, control, outbox)
