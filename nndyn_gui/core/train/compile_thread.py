"""The compile thread: one thread that runs compile jobs, the newest first.

Why a module: tracing and XLA-compiling a new structure takes 1-4 s, and a quick-start
run trains with numpy meanwhile (core/train/trainer.py). What runs the compiles is
plain threading with no TensorFlow in it (the jobs bring that: program.CompileJob), so
it lives apart from the compiled program; program.COMPILER is the one instance.
"""

from __future__ import annotations

import threading
import time
from typing import Protocol


class Job(Protocol):
    """What the thread needs of a job: `run()`, and `dropped` / `done` to mark one that a
    newer job replaced before it began."""

    dropped: bool
    done: threading.Event

    def run(self) -> None: ...


class CompileThread:
    """One thread that compiles, newest job first (a job not yet begun is dropped when a
    newer one comes: a user dragging the depth slider compiles only what they stop at).

    The thread starts with a job and ends when none is left, so an idle worker (or a
    test) holds no thread. TensorFlow releases the GIL while XLA compiles, so the
    trainer's numpy steps go on meanwhile.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._queue: list[Job] = []
        self._thread: threading.Thread | None = None

    def submit(self, job: Job) -> None:
        with self._lock:
            for old in self._queue:
                old.dropped = True
                old.done.set()
            self._queue = [job]
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._loop, name="nndyn-compile", daemon=True
                )
                self._thread.start()

    def _loop(self) -> None:
        while True:
            with self._lock:
                if not self._queue:
                    self._thread = None
                    return
                job = self._queue.pop(0)
            job.run()

    def wait_idle(self, timeout: float = 60.0) -> bool:
        """Block until no compile is queued or running (tests, benchmarks)."""
        deadline = time.monotonic() + timeout
        while True:
            with self._lock:
                thread = self._thread
            if thread is None:
                return True
            thread.join(max(0.0, deadline - time.monotonic()))
            if time.monotonic() >= deadline:
                return False
