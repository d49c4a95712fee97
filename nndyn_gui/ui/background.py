"""The UI's one way to run work in the background: `NewestWins`.

Why: a scene (data, grid, loop and region image carried through every layer, plus
its 2-D projection) costs tens of milliseconds for deep nets, the diagnostics up to
half a second for wide ones, a topology report or a 100,000-point data set more, and
training asks for new ones up to ~30 times a second. Done on the GUI thread, that is
what froze the window. Every panel that computes from the net (layer view, small
multiples, diagnostics, topology, Compare, the data set of the parameter panel, the
autosave writer) hands its work to a NewestWins: at most one job is in flight;
requests arriving meanwhile collapse into the newest, and only the finished result
reaches the GUI thread (`done`), and only if no newer result was shown first.

After a run is opened or reset, a result computed for the run it replaced is worth
nothing: with `epoch` (e.g. the state's snapshot list, replaced by every open, reset
or new run) such a result is dropped when a request of the new epoch waits behind it,
so the window draws the new run once instead of the old one first (each stale picture
cost a scene and a repaint of every panel, measured: 30-40 ms of a 100 ms budget).

Background threads share the GIL with the GUI thread, which gives it up around most Qt
calls it makes (hundreds in one paint) and then waits up to `sys.getswitchinterval()`
to get it back from a computing thread. At Python's default 5 ms a training-curves
paint took 1.6x as long as at 1 ms with two jobs running (benchmarks/bench_gil.py); the
first background thread sets the window's process to switch every GIL_SWITCH_S.

Finished results reach the GUI thread one every other event-loop pass (`_Pacer`,
`later`): after an open, five panels' results (scene, all layers, diagnostics, input
map, curves) used to land in one batch of queued calls, each drawing 10-30 ms, so the
window answered no input for 100-135 ms on a quiet machine; handed out one at a time,
the loop takes the user's input, its timers and the repaints between two of them. (A
pass with nothing of the pacer's comes between two deliveries: glib's dispatcher runs
Qt's timers in at most every other pass while queued calls keep coming.)

Each NewestWins has one thread, started with its first job and ended after IDLE_S
without work: while training asks for a job every few hundred milliseconds, handing
one over is a cheap notify (starting a thread makes the caller wait until it runs,
tens of milliseconds on a loaded machine); an idle panel holds no thread, so nothing
is left running after a window closes, and `shutdown` only waits for the job in flight.
"""

from __future__ import annotations

import contextlib
import logging
import sys
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QCoreApplication, QMetaObject, QObject, Qt, Signal, Slot

log = logging.getLogger(__name__)

Job = Callable[[], Any]
IDLE_S = 1.0  # a thread with no job for this long ends (the next job starts a new one)
GIL_SWITCH_S = 0.001  # the longest the GUI thread waits for the GIL (Python's default: 5 ms)


class _Pacer(QObject):
    """Runs queued deliveries on the GUI thread, one every other event-loop pass (why: the
    module doc). Queued calls, as Qt hands a call posted during its round of queued calls
    to the next round; not a 0 ms timer: inside a nested loop, glib's dispatcher runs
    timers only when nothing else is ready, and while training that was never."""

    def __init__(self) -> None:
        super().__init__()
        self._queue: deque[Callable[[], None]] = deque()
        self._posted = False  # a `_next`, or the `_pass` after one, is on its way

    def add(self, deliver: Callable[[], None]) -> None:
        self._queue.append(deliver)
        if not self._posted:
            self._posted = True
            self._post("_next")

    def _post(self, slot: str) -> None:
        QMetaObject.invokeMethod(self, slot, Qt.ConnectionType.QueuedConnection)

    @Slot()
    def _pass(self) -> None:
        """The pass after a delivery: the repaints and timers have it."""
        if self._queue:
            self._post("_next")
        else:
            self._posted = False

    @Slot()
    def _next(self) -> None:
        deliver = self._queue.popleft()
        # posted before `deliver` runs (one that fails or opens a dialog cannot hold the
        # ones after it), and after every delivery: one that comes while it is drawn
        # waits for the pass too
        self._post("_pass")
        deliver()


_pacer: tuple[_Pacer, QCoreApplication | None] | None = None


def _the_pacer() -> _Pacer:
    """The GUI thread's one pacer (made on the GUI thread by its first user; anew for a
    new QApplication: calls posted to the old one's pacer would never run)."""
    global _pacer
    app = QCoreApplication.instance()
    if _pacer is None or _pacer[1] is not app:
        _pacer = (_Pacer(), app)
    pacer, _app = _pacer
    return pacer


def later(work: Callable[[], None]) -> None:
    """Run `work` on the GUI thread in a later event-loop pass, in its turn with the
    background results (one every other pass): for a result that repaints many panels (an
    opened run) arriving amid others. Call on the GUI thread."""
    _the_pacer().add(work)


class _Bridge(QObject):
    """Carries a result from the job's thread to the GUI thread (queued)."""

    done = Signal(int, object, str)  # generation, result | None, error


class NewestWins(QObject):
    """Background jobs, newest request wins; `done(result, error)` arrives on the GUI thread.

    `what` completes the error text: "cannot {what}: ValueError: ...". `epoch`, if
    given, names what results belong to (compared with `is`): a result whose epoch is
    not that of the request waiting behind it is dropped, never shown.
    """

    done = Signal(object, str)  # result | None, error text ("" when fine)

    def __init__(
        self,
        parent: QObject | None = None,
        name: str = "nndyn-background",
        what: str = "do this",
        epoch: Callable[[], object] | None = None,
    ) -> None:
        super().__init__(parent)
        self._what = what
        self._epoch = epoch
        self._started_epoch: object = None  # the epoch of the job in flight
        self._name = name
        self._thread: threading.Thread | None = None
        self._cond = threading.Condition()  # guards _job and _thread
        self._job: tuple[int, Job] | None = None  # handed to the thread, not yet taken
        self._running = False  # the thread is computing a job
        self._pending: tuple[int, Job, object] | None = None  # (generation, job, epoch)
        self._generation = 0
        self._shown = 0  # newest generation handed out (done or run_now)
        self._closed = False
        self._outstanding = 0  # started jobs whose result has not been delivered (shown)
        self.last_seconds = 0.0  # how long the last background job took (for throttling)
        self._bridge = _Bridge(self)
        self._bridge.done.connect(self._on_done, Qt.ConnectionType.QueuedConnection)
        # deleted with its panel without shutdown(): the thread still ends at once
        self.destroyed.connect(lambda *_: self._stop())

    def request(self, job: Job) -> None:
        """Run `job()` in the background; replaces any request still waiting."""
        if self._closed:
            return
        self._generation += 1
        epoch = self._epoch() if self._epoch is not None else None
        if self._outstanding:
            self._pending = (self._generation, job, epoch)
            return
        self._start(self._generation, job, epoch)

    def run_now(self, job: Job) -> tuple[Any, str]:
        """Run synchronously (tests, export); older background results are dropped."""
        self._generation += 1
        self._pending = None
        self._shown = self._generation
        return _run(job, self._what)

    def busy(self) -> bool:
        """True until the newest result has reached the GUI thread (not only computed)."""
        return self._pending is not None or self._outstanding > 0

    def wait(self, timeout_s: float = 30.0) -> None:
        """Block until the job in flight (if any) has finished."""
        with self._cond:
            self._cond.wait_for(lambda: self._job is None and not self._running, timeout_s)

    def shutdown(self, timeout_s: float = 30.0) -> None:
        """No more jobs; wait for the one in flight (its result is ignored) and the thread."""
        thread = self._stop()
        if thread is not None:
            thread.join(timeout_s)

    def _stop(self) -> threading.Thread | None:
        """No more jobs; the thread ends after the job in flight. Python state only (it runs
        from `destroyed` too, when the C++ object is already gone)."""
        self._closed = True
        self._pending = None
        with self._cond:
            self._cond.notify_all()
            return self._thread

    # ------------------------------------------------------------------ internals
    def _start(self, gen: int, job: Job, epoch: object) -> None:
        self._pending = None
        self._outstanding += 1
        self._started_epoch = epoch
        with self._cond:
            self._job = (gen, job)
            if self._thread is None:
                _share_the_gil()
                self._thread = threading.Thread(target=self._loop, name=self._name, daemon=True)
                self._thread.start()
            else:
                self._cond.notify_all()

    def _loop(self) -> None:
        """The thread: run handed-over jobs; end after IDLE_S without one (or on shutdown)."""
        while True:
            with self._cond:
                if not self._cond.wait_for(lambda: self._job is not None or self._closed, IDLE_S):
                    self._thread = None  # idle: end; the next job starts a new thread
                    return
                if self._closed:
                    self._thread = None
                    self._job = None
                    self._cond.notify_all()
                    return
                assert self._job is not None
                (gen, job), self._job = self._job, None
                self._running = True
            try:
                self._work(gen, job)
            finally:
                with self._cond:
                    self._running = False
                    self._cond.notify_all()

    def _work(self, gen: int, job: Job) -> None:
        t0 = time.perf_counter()
        result, error = _run(job, self._what)
        self.last_seconds = time.perf_counter() - t0
        if self._closed:
            return
        with contextlib.suppress(RuntimeError):  # deleted without shutdown(): nobody to tell
            self._bridge.done.emit(gen, result, error)

    @Slot(int, object, str)
    def _on_done(self, gen: int, result: Any, error: str) -> None:
        """The result is on the GUI thread: shown when the pacer gets to it."""
        later(lambda: self._deliver(gen, result, error))

    def _deliver(self, gen: int, result: Any, error: str) -> None:
        self._outstanding -= 1
        if self._closed:
            return
        outdated = self._pending is not None and self._pending[2] is not self._started_epoch
        try:
            if gen > self._shown and not outdated:  # a newer synchronous run may be shown
                self._shown = gen
                self.done.emit(result, error)
        finally:
            # the next job starts once the result is shown: started before, it would
            # fight the GUI thread for the GIL the whole time the result is drawn
            if self._pending is not None and not self._closed and not self._outstanding:
                self._start(*self._pending)


def for_the_shown_run(owner: QObject, state: Any, name: str, what: str) -> NewestWins:
    """Jobs that draw or measure the run the window shows (`state`: the AppState): their
    results belong to its snapshot list, which an open, a reset or a new run replaces."""
    return NewestWins(owner, name=name, what=what, epoch=lambda: state.snapshots)


def _share_the_gil() -> None:
    """The GUI thread waits at most GIL_SWITCH_S for the GIL (see the module's docstring);
    a process already switching faster is left alone."""
    if sys.getswitchinterval() > GIL_SWITCH_S:
        sys.setswitchinterval(GIL_SWITCH_S)


def _run(job: Job, what: str) -> tuple[Any, str]:
    try:
        return job(), ""
    except Exception as e:  # a job's boundary: logged, shown as one line, the window stays
        log.exception("cannot %s", what)
        return None, f"cannot {what}: {type(e).__name__}: {e}"
