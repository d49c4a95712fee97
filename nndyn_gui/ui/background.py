"""Work for the shown snapshot on one background thread, newest request wins.

Why: a scene (data, grid, loop and region image carried through every layer, plus
its 2-D projection) costs tens of milliseconds for deep nets, the diagnostics up to
half a second for wide ones, and training asks for new ones up to ~30 times a second.
Done on the GUI thread, that is what froze the window. Here at most one job is in
flight; requests arriving meanwhile collapse into the newest, and only the finished
result reaches the GUI thread (`done`), and only if no newer result was shown first.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from PySide6.QtCore import QObject, Qt, Signal, Slot

Job = Callable[[], Any]


class _Bridge(QObject):
    """Carries a result from the builder thread to the GUI thread (queued)."""

    done = Signal(int, object, str)  # generation, result | None, error


class NewestWins(QObject):
    """One worker thread per view or panel; `done(result, error)` arrives on the GUI thread.

    `what` completes the error text: "cannot {what}: ValueError: ...".
    """

    done = Signal(object, str)  # result | None, error text ("" when fine)

    def __init__(
        self, parent: QObject | None = None, name: str = "nndyn-scene", what: str = "do this"
    ) -> None:
        super().__init__(parent)
        self._what = what
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix=name)
        self._future: Future[Any] | None = None
        self._pending: tuple[int, Job] | None = None
        self._generation = 0
        self._shown = 0  # newest generation handed out (done or run_now)
        self._closed = False
        self._outstanding = 0  # submitted jobs whose result has not reached _on_done
        self.last_seconds = 0.0  # how long the last background job took (for throttling)
        self._bridge = _Bridge(self)
        self._bridge.done.connect(self._on_done, Qt.ConnectionType.QueuedConnection)

    def request(self, job: Job) -> None:
        """Run `job()` in the background; replaces any request still waiting."""
        if self._closed:
            return
        self._generation += 1
        if self._future is not None and not self._future.done():
            self._pending = (self._generation, job)
            return
        self._submit(self._generation, job)

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
        fut = self._future
        if fut is not None:
            fut.result(timeout=timeout_s)

    def shutdown(self) -> None:
        """Stop the thread (window close); results still in flight are ignored."""
        self._closed = True
        self._pending = None
        self._pool.shutdown(wait=True, cancel_futures=True)

    # ------------------------------------------------------------------ internals
    def _submit(self, gen: int, job: Job) -> None:
        self._pending = None
        try:
            self._future = self._pool.submit(self._work, gen, job)
            self._outstanding += 1
        except RuntimeError:  # pool shut down (window closing)
            self._future = None

    def _work(self, gen: int, job: Job) -> None:
        t0 = time.perf_counter()
        result, error = _run(job, self._what)
        self.last_seconds = time.perf_counter() - t0
        if not self._closed:
            self._bridge.done.emit(gen, result, error)

    @Slot(int, object, str)
    def _on_done(self, gen: int, result: Any, error: str) -> None:
        self._outstanding -= 1
        if self._closed:
            return
        if self._pending is not None:
            self._submit(*self._pending)
        if gen > self._shown:  # a newer synchronous run may already be shown
            self._shown = gen
            self.done.emit(result, error)


def _run(job: Job, what: str) -> tuple[Any, str]:
    try:
        return job(), ""
    except Exception as e:  # shown to the user as one line; the window stays usable
        return None, f"cannot {what}: {type(e).__name__}: {e}"
