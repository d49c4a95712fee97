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
- First frame at once, also right after launch: TensorFlow takes seconds to import (3-12 s
  on a busy laptop), so it loads on a thread of its own (`_TensorFlowLoader`) while the
  main thread already serves runs. A window's run (quick start) trains with numpy steps
  meanwhile (core/train/quickstep.py, the same steps the compiled function takes) and
  switches to the compiled step when TensorFlow has loaded and compiled it, handing the
  weights and Adam's state over exactly as any quick start does. A run that must be
  compiled from step 0 (the command line: reproducible to the last digit) waits for the
  loader. If TensorFlow cannot be loaded, every run ends with that message (`Failed`),
  also one that was training with numpy when the import failed. Measured in
  benchmarks/README.md (bench_first_frame.py, the cold case).
- It runs at a lower CPU priority (WORKER_NICENESS): training is background work, and on
  a machine with few cores the window must win every time it needs a core, or a deep
  net's redraws stall it for hundreds of ms. On an idle machine this changes nothing.
  Except the thread that imports TensorFlow at startup (Linux: per thread), see
  `_TensorFlowLoader`.
- SIGINT is ignored: Ctrl+C in a terminal goes to the whole process group, and the
  parent (`nndyn train`) decides what it means. When the parent goes away (its end of
  the command pipe closes) this process exits at once.
"""

from __future__ import annotations

import ctypes
import glob
import importlib
import importlib.util
import logging
import os
import queue
import signal
import sys
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Any

from nndyn_gui.core.config import TrainConfig
from nndyn_gui.core.engine import protocol as p
from nndyn_gui.core.io import blas, logs
from nndyn_gui.core.types import Snapshot, TrainResult, TrainStatus

log = logging.getLogger(__name__)

EMIT_INTERVAL_S = 1.0 / 30.0  # at most ~30 batches of snapshots / progress a second
WORKER_NICENESS = 10  # lower CPU priority than the window (0 = none); see the docstring
FIRST_FRAME_WAIT_S = 2.0  # the import waits at most this long for a run's first frame
# TensorFlow's own libraries, loaded before its import with the GIL released (see
# _preload_libraries), relative to its package folder, in dependency order
TF_LIBRARIES = (
    "libtensorflow_framework.so*",
    "libtensorflow_cc.so*",
    "python/_pywrap_tensorflow_internal.so",
)
# what a run imports lazily that loads a shared library (imported before the loader starts)
RUN_NEEDS = ("numpy.random",)
# imported by TensorFlow first; its C initialisation holds the GIL for ~0.7 s of CPU
TF_SLOW_DEPENDENCIES = ("ml_dtypes",)


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
        self._progress: p.Progress | p.EnsembleProgress | None = None
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

    def progress(self, event: p.Progress | p.EnsembleProgress) -> None:
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
        #: told of every Start as it arrives (the TensorFlow loader pauses for it)
        self.on_start: Callable[[p.Start], None] | None = None

    def begin(self, start: p.Start | p.StartEnsemble) -> None:
        """A new run (or ensemble): any older run is cancelled (one run at a time)."""
        with self.lock:
            for flags in self._runs.values():
                flags.cancel.set()
                flags.pause.clear()
            flags = _RunFlags(step_once=isinstance(start, p.Start) and start.step_only)
            if isinstance(start, p.Start) and start.paused:
                flags.pause.set()
            self._runs[start.run_id] = flags
        if self.on_start is not None and isinstance(start, p.Start):
            self.on_start(start)  # an ensemble waits for TensorFlow: no first frame to hurry

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


def _read_commands(
    conn: Connection, control: _Control, starts: queue.Queue[p.Start | p.StartEnsemble]
) -> None:
    """Reader thread: apply commands as they arrive; exit with the parent."""
    while True:
        try:
            cmd = conn.recv()
        except (EOFError, OSError):
            os._exit(0)  # the session is gone (closed, crashed or killed): so are we
        if isinstance(cmd, p.Shutdown):
            os._exit(0)
        if isinstance(cmd, p.Start | p.StartEnsemble):
            control.begin(cmd)
            starts.put(cmd)
        elif isinstance(cmd, p.Pause | p.Resume | p.Step | p.Cancel | p.Tune):
            control.apply(cmd)


def _versions() -> dict[str, str]:
    """The versions a run file records (same keys as core.io.runfile.current_versions)."""
    tf = importlib.import_module("tensorflow")
    return {"tensorflow": str(getattr(tf, "__version__", "") or "?")}


def _cannot_load(e: BaseException) -> str:
    return f"TensorFlow cannot be loaded ({type(e).__name__}: {e})"


def _preload_libraries() -> None:
    """dlopen TensorFlow's big shared libraries through a ctypes call, which releases the
    GIL: Python's import holds it through dlopen (~1 s for libtensorflow_cc's 750 MB),
    and a run training meanwhile would stall that long. The import then finds them
    loaded. Linux only (elsewhere the globs find nothing); any failure only costs time."""
    spec = importlib.util.find_spec("tensorflow")
    if spec is None or not spec.submodule_search_locations:
        return
    root = next(iter(spec.submodule_search_locations))
    try:
        dlopen = ctypes.CDLL(None).dlopen
        dlopen.restype = ctypes.c_void_p
        dlopen.argtypes = [ctypes.c_char_p, ctypes.c_int]
    except (OSError, AttributeError) as e:
        log.debug("cannot preload TensorFlow's libraries: %s", e)
        return
    for pattern in TF_LIBRARIES:
        for path in sorted(glob.glob(os.path.join(root, pattern))):
            if not dlopen(path.encode(), sys.getdlopenflags()):
                log.debug("cannot preload %s", path)


class _TensorFlowLoader:
    """Imports TensorFlow on its own thread, then says `Ready` (with the versions, or the
    error every run then fails with); `error` is "" until the import failed.

    The import holds the GIL in stretches (the C initialisation of an extension module,
    0.1-0.7 s of CPU each) and its dlopen the dynamic linker's lock, so while a run that
    just started waits for its first trained frame (`starting` / `started`, at most
    FIRST_FRAME_WAIT_S) the import does not begin its next step: the slowest
    dependency, the libraries, the rest. (Not between two of its modules: a meta path finder
    that waited would hold Python's global import lock, and every import of the
    training thread with it.)

    Its thread is made first, before the worker lowers its priority (`main`): on Linux a
    thread keeps the nice value it was made with, so the longest stretch (ml_dtypes,
    0.7 s of CPU) runs at the normal priority and is over while the window is still
    being built, not starved by it into the moment a Train comes; then the thread lowers
    its own priority for the rest (a run's first frames come first). It begins at
    `begin`.
    """

    def __init__(self) -> None:
        self.done = threading.Event()
        self.error = ""
        self._quiet = threading.Event()  # clear while a run waits for its first frame
        self._quiet.set()
        self._hold_until = 0.0  # time.monotonic() when the import goes on regardless
        self._go = threading.Event()
        self._job: tuple[Any, _Outbox] | None = None
        threading.Thread(target=self._load, name="nndyn-tf-loader", daemon=True).start()

    def begin(self, training: Any, outbox: _Outbox, error: str = "", waiting: bool = False) -> None:
        """Load TensorFlow for `training` (the trainer's module) and say Ready on `outbox`;
        `error`: the worker could not even import that (Ready says it, nothing loads);
        `waiting`: a Start came while the worker started (it goes first)."""
        if waiting:
            self.starting()
        self.error = error
        self._job = (training, outbox)
        self._go.set()

    def starting(self, start: p.Start | None = None) -> None:
        """A run began (`start`: as its command arrives): the import pauses until its
        first trained snapshot is out; a run started paused shows none, so waits for
        nothing."""
        if self.done.is_set() or (start is not None and start.paused):
            return
        self._hold_until = time.monotonic() + FIRST_FRAME_WAIT_S
        self._quiet.clear()

    def started(self) -> None:
        """The run's first trained snapshot is out (or it ended)."""
        self._quiet.set()

    def _pause(self) -> None:
        left = self._hold_until - time.monotonic()
        if left > 0 and not self._quiet.is_set():
            self._quiet.wait(left)

    def _before_import(self) -> None:
        # the longest stretch first: the window starts this process before it is built,
        # so it is over by the time the window shows and a Train can come
        for name in TF_SLOW_DEPENDENCIES:
            self._pause()
            try:
                importlib.import_module(name)
            except ImportError as e:  # TensorFlow's own import will say what is missing
                log.debug("cannot import %s early: %s", name, e)
        _lower_priority()  # the rest at the worker's priority (this thread only, on Linux)
        self._pause()
        _preload_libraries()
        self._pause()

    def _load(self) -> None:
        self._go.wait()
        assert self._job is not None
        training, outbox = self._job
        versions: dict[str, str] = {}
        if not self.error:
            try:
                training.program.load_tensorflow(self._before_import)
                versions = _versions()
            except Exception as e:  # any import failure: every run then fails with this
                log.exception("TensorFlow cannot be loaded")
                self.error = _cannot_load(e)
        self.done.set()
        outbox.send(p.Ready(os.getpid(), versions, self.error))

    def wait(self, cancel: threading.Event) -> bool:
        """Block until loaded (or failed); False if `cancel` was set meanwhile."""
        while not self.done.wait(0.05):
            if cancel.is_set():
                return False
        return True


def _train(
    training: Any, cmd: p.Start, control: _Control, outbox: _Outbox, tf: _TensorFlowLoader
) -> None:
    """One run, from the Start command to Finished / Failed (never raises)."""
    rid = cmd.run_id
    flags = control.flags(rid)
    try:
        # the command line's runs are compiled from step 0: they wait for TensorFlow
        loaded = cmd.quick_start or tf.wait(flags.cancel)
        if flags.cancel.is_set() or not loaded:  # superseded while queued (a slider dragged)
            outbox.send(p.Finished(rid, "cancelled", "Cancelled before training started."))
            return
        if tf.error:
            outbox.send(p.Failed(rid, tf.error))
            return
        tf.starting(cmd)  # (again: a Start read before the loader began was not seen)
        trainer = training.Trainer(cmd.config, cmd.dataset, quick_start=cmd.quick_start)
        every = cmd.config.train.snapshot_every
        run = training.Control(flags.cancel, flags.pause, lambda: control.take_tune(rid))
        events = trainer.events(rid, run)
        for event in events:
            if tf.error:  # it failed to load while numpy trained: the run ends with that
                events.close()
                outbox.send(p.Failed(rid, tf.error))
                return
            if isinstance(event, p.Snapshots):
                for snap in event.snapshots:
                    outbox.snapshot(rid, snap)
                    if snap.step % every == 0:  # Step pauses after an interval, not a preview
                        control.after_snapshot(rid, snap.step)
                if not tf.done.is_set() and event.snapshots[-1].step > 0:
                    outbox.flush()  # the first trained one out now, before the import
                    tf.started()  # goes on (and may hold the GIL for the sender thread)
            elif isinstance(event, p.Progress):
                outbox.progress(event)
            else:
                outbox.send(event)
    except Exception as e:  # a run's top level: logged here, shown by the window (Failed)
        log.exception("run %d failed", rid)
        first = str(e).strip().splitlines()[0] if str(e).strip() else ""
        message = f"{type(e).__name__}: {first}" if first else type(e).__name__
        outbox.send(p.Failed(rid, tf.error or message, traceback.format_exc()))
    finally:
        tf.started()
        control.end(rid)


def _train_ensemble(
    cmd: p.StartEnsemble, control: _Control, outbox: _Outbox, tf: _TensorFlowLoader
) -> None:
    """An ensemble (core/train/ensemble.py), from its command to Finished / Failed (never
    raises): Compiled, EnsembleProgress at each member's snapshot, EnsembleResults."""
    rid = cmd.run_id
    flags = control.flags(rid)
    try:
        if not tf.wait(flags.cancel) or flags.cancel.is_set():
            outbox.send(p.Finished(rid, "cancelled", "Cancelled before training started."))
            return
        if tf.error:
            outbox.send(p.Failed(rid, tf.error))
            return
        ensemble = importlib.import_module("nndyn_gui.core.train.ensemble")
        ens = ensemble.Ensemble(list(cmd.configs), cmd.dataset)
        seconds = ens.prepare()
        outbox.send(p.Compiled(rid, seconds, ens.xla))
        totals = tuple(int(c.train.steps) for c in cmd.configs)

        def on_snapshot(_i: int, _snap: Snapshot) -> None:
            # a member that has ended (diverged, its stop rule) counts as done
            steps = tuple(
                m.step if m.running else t for m, t in zip(ens.members, totals, strict=True)
            )
            outbox.progress(p.EnsembleProgress(rid, steps, totals))

        results = ens.run(flags.cancel, on_snapshot)
        outbox.send(p.EnsembleResults(rid, tuple(results)))
        status, message = ensemble_end(results)
        outbox.send(p.Finished(rid, status, message))
    except Exception as e:  # the ensemble's top level: logged here, shown by the window
        log.exception("ensemble %d failed", rid)
        first = str(e).strip().splitlines()[0] if str(e).strip() else ""
        message = f"{type(e).__name__}: {first}" if first else type(e).__name__
        outbox.send(p.Failed(rid, tf.error or message, traceback.format_exc()))
    finally:
        control.end(rid)


def ensemble_end(results: list[TrainResult]) -> tuple[TrainStatus, str]:
    """How an ensemble ended as a whole: cancelled if any member was, diverged if all did;
    the message counts the members' ends ("8 members: 7 finished, 1 diverged.")."""
    statuses = [r.status for r in results]
    counts = {s: statuses.count(s) for s in ("finished", "diverged", "cancelled")}
    parts = ", ".join(f"{n} {s}" for s, n in counts.items() if n)
    message = f"{len(results)} members: {parts}."
    if counts["cancelled"]:
        return "cancelled", message
    if results and counts["diverged"] == len(results):
        return "diverged", message
    return "finished", message


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
    """The worker process (multiprocessing target): serve runs at once, while TensorFlow
    loads on another thread (see the module docstring)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    logs.setup("nndyn-engine")
    blas.one_thread()
    tf = _TensorFlowLoader()  # before: it keeps the normal priority (see its docstring)
    _lower_priority()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    outbox = _Outbox(events)
    control = _Control(outbox)
    starts: queue.Queue[p.Start | p.StartEnsemble] = queue.Queue()
    threading.Thread(
        target=_read_commands,
        args=(commands, control, starts),
        name="nndyn-engine-reader",
        daemon=True,
    ).start()
    training: Any = None
    error = ""
    try:
        if initializer is not None:
            initializer()
        # the trainer's module without TensorFlow (it loads at its first use): fast
        training = importlib.import_module("nndyn_gui.core.train.trainer")
        # and the extension modules a run needs (initial weights), before the loader's
        # dlopen holds the dynamic linker's lock for a second
        for name in RUN_NEEDS:
            importlib.import_module(name)
    except Exception as e:  # any import failure: every run then fails with this line
        log.exception("TensorFlow cannot be loaded")
        error = _cannot_load(e)
    tf.begin(training, outbox, error, waiting=not starts.empty())
    control.on_start = tf.starting
    while True:
        cmd = starts.get()
        if tf.error and tf.done.is_set():
            outbox.send(p.Failed(cmd.run_id, tf.error))
            control.end(cmd.run_id)
            continue
        if isinstance(cmd, p.StartEnsemble):
            _train_ensemble(cmd, control, outbox, tf)
        else:
            _train(training, cmd, control, outbox, tf)
