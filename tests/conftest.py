"""Shared fixtures. Qt tests get `qtbot` from pytest-qt; the platform is chosen by
scripts/test.sh (offscreen, or xcb under Xvfb for tests marked `gl`).

Every test must leave nothing running behind it (napari does the same): no thread,
no active QTimer, no pending single-shot callback, no busy thread pool and no worker
process that was not there before it. A window that closes cleanly stops all of them;
a test that leaves one fails here, naming what was left.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import sys
import threading
import time
import weakref
from collections.abc import Callable, Iterator
from typing import Any

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# The log file of every entry point (core/io/logs.py), the test's own and its subprocesses'.
os.environ["NNDYN_LOG_DIR"] = os.path.join(
    os.environ.get("TMPDIR", "/tmp"), f"nndyn-test-logs-{os.getpid()}"
)


def pytest_configure(config: pytest.Config) -> None:
    """Tests build windows without the app's `main`: give them its one BLAS thread."""
    from nndyn_gui.core.io import blas

    blas.one_thread()


def _share_gl_contexts_as_the_app_does() -> None:
    """The app shares GL contexts (render/views.share_gl_contexts) before it makes its
    QApplication; pytest-qt makes one before a test imports the views, so do it here.
    Unshared, pyqtgraph's per-process shader caches die with the first 3-D window."""
    from PySide6.QtCore import QCoreApplication, Qt

    if QCoreApplication.instance() is None:
        QCoreApplication.setAttribute(Qt.ApplicationAttribute.AA_ShareOpenGLContexts, True)


_share_gl_contexts_as_the_app_does()

GRACE_S = 2.0  # a job in flight when the test ended may take this long to finish


# ---------------------------------------------------------------------- Qt timer tracking
class _TimerLog:
    """Every QTimer started from Python, and the single-shot callbacks not yet run."""

    def __init__(self) -> None:
        self.started: weakref.WeakSet[Any] = weakref.WeakSet()
        self.shots: dict[int, str] = {}
        self._next = 0

    def install(self) -> None:
        from PySide6.QtCore import QObject, QTimer

        log = self
        start = QTimer.start
        single_shot = QTimer.singleShot

        def tracked_start(timer: Any, *args: Any) -> Any:
            log.started.add(timer)
            return start(timer, *args)

        def tracked_single_shot(msec: Any, *args: Any) -> Any:
            # (ms, callable) runs whatever it holds, even after its window is gone;
            # (ms, receiver, slot) dies with its receiver and needs no tracking
            if len(args) == 1 and callable(args[0]) and not isinstance(args[0], QObject):
                fn = args[0]
                log._next += 1
                key = log._next
                log.shots[key] = getattr(fn, "__qualname__", repr(fn))

                def run() -> None:
                    log.shots.pop(key, None)
                    fn()

                return single_shot(msec, run)
            return single_shot(msec, *args)

        QTimer.start = tracked_start  # type: ignore[method-assign]
        QTimer.singleShot = staticmethod(tracked_single_shot)  # type: ignore[method-assign]

    def active(self) -> list[str]:
        from shiboken6 import isValid

        out = []
        for t in list(self.started):
            if isValid(t) and t.isActive():
                parent = t.parent()
                owner = type(parent).__name__ if parent is not None else "no parent"
                out.append(f"QTimer({t.objectName() or '?'}, owner {owner}, {t.interval()} ms)")
        return out


_TIMERS = _TimerLog()
_TIMERS.install()


# ---------------------------------------------------------------------- widgets Qt deletes
_KEPT: list[Any] = []  # every widget given to qtbot.addWidget in this test


def _keep_added_widgets() -> None:
    """pytest-qt holds an added widget weakly, so a test's last reference, dropped when
    the test function returns, deleted the C++ widget from Python's deallocation of its
    wrapper. There PySide 6.11 looks up Python overrides (childEvent, eventFilter, ...)
    on the half-freed wrapper while the children go, and crashes at random
    (test_small_multiples_follow_the_shown_snapshot: 4 runs of 5 alone). Kept here, the
    widget is closed and `deleteLater`ed by pytest-qt's teardown and deleted by Qt
    (`_release_kept_widgets`), the way the app's parented widgets go."""
    from pytestqt.qtbot import QtBot

    add = QtBot.addWidget

    def add_and_keep(bot: Any, widget: Any, **kwargs: Any) -> None:
        _KEPT.append(widget)
        add(bot, widget, **kwargs)

    QtBot.addWidget = add_and_keep  # type: ignore[method-assign]
    QtBot.add_widget = add_and_keep  # type: ignore[method-assign]


def _release_kept_widgets() -> None:
    """After pytest-qt closed and `deleteLater`ed them: Qt deletes them, then Python
    drops the wrappers (no C++ object left for their deallocation to delete)."""
    if _KEPT:
        from PySide6.QtCore import QCoreApplication, QEvent

        QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
        _KEPT.clear()


_keep_added_widgets()


def _spare_pids() -> set[int]:
    """Idle warm training workers kept on purpose for the next window (core/engine/session.py)."""
    if "nndyn_gui.core.engine.session" not in sys.modules:
        return set()
    from nndyn_gui.core.engine.session import spare_workers

    return {w.pid for w in spare_workers()}


#: Threads a library starts once per process and keeps by design (not ours to stop):
#: distributed's offload executor lives until the interpreter exits.
PROCESS_LIFETIME_THREADS = ("Dask-Offload",)


def _leftovers(threads_before: set[threading.Thread], procs_before: set[int]) -> list[str]:
    threads = [
        t
        for t in threading.enumerate()
        if t not in threads_before
        and t.is_alive()
        and not isinstance(t, threading._DummyThread)
        and not t.name.startswith(PROCESS_LIFETIME_THREADS)
    ]
    keep = procs_before | _spare_pids()
    procs = [p for p in multiprocessing.active_children() if p.pid not in keep]
    out = [f"thread {t.name!r}" for t in threads]
    out += [f"process {p.name!r} (pid {p.pid})" for p in procs]
    if "PySide6.QtCore" in sys.modules:
        from PySide6.QtCore import QThreadPool

        busy = QThreadPool.globalInstance().activeThreadCount()
        if busy:
            out.append(f"{busy} busy thread(s) in the global QThreadPool")
        out += _TIMERS.active()
        out += [f"single-shot callback {name}" for name in _TIMERS.shots.values()]
    return out


def _settle(done: Callable[[], bool], seconds: float) -> None:
    """Let deferred deletes and queued events run until `done()` or `seconds` passed."""
    qt = "PySide6.QtCore" in sys.modules
    deadline = time.monotonic() + seconds
    while True:
        if qt:
            from PySide6.QtCore import QCoreApplication, QEvent

            app = QCoreApplication.instance()
            if app is not None:
                QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
                app.processEvents()
        if done() or time.monotonic() > deadline:
            return
        time.sleep(0.02)


@pytest.fixture(autouse=True)
def _nothing_left_running() -> Iterator[None]:
    """Fail a test that leaves a thread, timer, thread pool or worker process behind."""
    threads_before = set(threading.enumerate())
    procs_before = {p.pid for p in multiprocessing.active_children() if p.pid is not None}
    shots_before = set(_TIMERS.shots)
    yield
    _release_kept_widgets()
    for key in shots_before:  # left by an earlier, already reported test
        _TIMERS.shots.pop(key, None)
    _settle(lambda: not _leftovers(threads_before, procs_before), GRACE_S)
    left = _leftovers(threads_before, procs_before)
    if left:
        for p in multiprocessing.active_children():  # do not poison the next tests
            if p.pid not in procs_before | _spare_pids():
                p.kill()
        _TIMERS.shots.clear()
        pytest.fail("left running after the test: " + "; ".join(left), pytrace=False)


@pytest.fixture(autouse=True)
def _logging_as_it_was() -> Iterator[None]:
    """An entry point called in-process (`cli.main`) sets up logging for the process;
    undo it after the test so the next one starts as a fresh process would."""
    import logging

    from nndyn_gui.core.io import logs

    root = logging.getLogger()
    handlers, level, state = root.handlers[:], root.level, dict(logs._state)
    yield
    for h in root.handlers[:]:
        if h not in handlers:
            root.removeHandler(h)
            h.close()
    root.setLevel(level)
    logs._state.clear()
    logs._state.update(state)


@pytest.fixture(scope="module", autouse=True)
def _freeze_what_earlier_modules_left() -> None:
    """The test process, unlike the window's, imports TensorFlow (~320,000 objects): a
    full garbage collection then takes 150-350 ms, and one landing in a timing test
    read as a 350-650 ms "stall" of the window. Collected once per module, then frozen,
    the objects of earlier modules are never scanned again (the window's own process
    has no TensorFlow: a full collection there takes ~15 ms)."""
    gc.collect()
    gc.freeze()


@pytest.fixture(scope="session", autouse=True)
def _end_spare_workers() -> Iterator[None]:
    """Windows leave their idle worker warm for the next one; end them after the run."""
    yield
    if "nndyn_gui.core.engine.session" in sys.modules:
        from nndyn_gui.core.engine.session import shutdown_spares

        shutdown_spares()


@pytest.fixture
def small_config():
    """A tiny, fast experiment (a few hundred steps finish in about a second)."""
    from nndyn_gui.core.config import RunConfig

    cfg = RunConfig()
    cfg.data.n = 200
    cfg.model.width = 2
    cfg.model.depth = 4
    cfg.model.h = 0.5
    cfg.train.steps = 200
    cfg.train.snapshot_every = 50
    cfg.train.learning_rate = 0.05
    return cfg.validate()
