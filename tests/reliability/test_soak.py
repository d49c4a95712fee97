"""Soak: a long session of train/stop and preset switches must not pile up threads,
memory or Qt warnings, and a real app process that trains and closes must exit cleanly."""

from __future__ import annotations

import gc
import os
import re
import subprocess
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from PySide6.QtCore import QThread, QtMsgType, qInstallMessageHandler
from pytestqt.qtbot import QtBot
from shiboken6 import isValid

from nndyn_gui.ui.state import AppState

from . import PYTHON, REPO, subprocess_env, tiny_config

MB = 2**20
RSS_GROWTH_LIMIT = 100 * MB
BAD_QT_MESSAGE = re.compile(
    r"thread|Destroyed while|deleteLater|Timers cannot|Cannot create children|"
    r"QObject::|already deleted|Internal C\+\+ object",
    re.IGNORECASE,
)


def rss_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def os_threads() -> int:
    return len(os.listdir("/proc/self/task"))


def live_qthreads() -> int:
    gc.collect()
    return sum(1 for o in gc.get_objects() if isinstance(o, QThread) and isValid(o))


@pytest.fixture
def qt_messages() -> Iterator[list[str]]:
    """Every Qt warning / critical message printed while the test runs."""
    seen: list[str] = []

    def handler(mode: QtMsgType, _ctx: Any, message: str) -> None:
        if mode != QtMsgType.QtDebugMsg and mode != QtMsgType.QtInfoMsg:
            seen.append(message)

    previous = qInstallMessageHandler(handler)
    try:
        yield seen
    finally:
        qInstallMessageHandler(previous)


def _cycle(qtbot: QtBot, controller: Any, state: AppState, stop_early: bool) -> None:
    """Start training, wait until it really trains (or not, when `stop_early`), Stop."""
    with qtbot.waitSignal(controller.finished, timeout=60_000):
        assert controller.start()
        if not stop_early:
            qtbot.waitUntil(lambda: len(state.snapshots) > 1, timeout=60_000)
        controller.stop()
    assert not controller.is_running()
    assert state.training_state == "idle"
    assert controller.result is not None and controller.result.status in ("cancelled", "finished")


@pytest.mark.slow
def test_100_train_stop_cycles_leak_nothing(qtbot: QtBot, qt_messages: list[str]) -> None:
    from nndyn_gui.ui.training.controller import TrainController

    state = AppState(tiny_config(train__steps=100_000))
    controller = TrainController(state)
    _cycle(qtbot, controller, state, stop_early=False)  # TensorFlow import + first compile
    qtbot.wait(50)
    threads0, os0, q0, rss0 = threading.active_count(), os_threads(), live_qthreads(), rss_bytes()
    worker = controller.worker_pid()
    for i in range(100):
        _cycle(qtbot, controller, state, stop_early=i % 4 == 3)  # some stop while loading
    qtbot.wait(100)  # let deleteLater run
    gc.collect()
    assert controller.worker_pid() == worker  # one warm worker served all 100 runs
    controller.shutdown()
    assert threading.active_count() <= threads0
    assert os_threads() <= os0 + 2  # TensorFlow may lazily grow its pool by a thread
    assert live_qthreads() <= q0
    growth = rss_bytes() - rss0
    assert growth < RSS_GROWTH_LIMIT, f"RSS grew by {growth / MB:.0f} MB"
    bad = [m for m in qt_messages if BAD_QT_MESSAGE.search(m)]
    assert bad == [], bad
    print(
        f"soak: python threads {threads0}->{threading.active_count()}, os threads "
        f"{os0}->{os_threads()}, QThreads {q0}->{live_qthreads()}, RSS +{growth / MB:.1f} MB"
    )


def test_50_preset_switches_leak_nothing(qtbot: QtBot, qt_messages: list[str]) -> None:
    from nndyn_gui.core.io.presets import list_presets, load_preset

    names = [p.name for p in list_presets()]
    state = AppState(load_preset(names[0]))
    shown: list[int] = []
    state.currentChanged.connect(lambda s: shown.append(s.step))
    for name in names:  # warm-up: every preset once
        state.set_config(load_preset(name))
    gc.collect()
    rss0, threads0 = rss_bytes(), threading.active_count()
    for i in range(50):
        cfg = load_preset(names[i % len(names)])
        state.set_config(cfg)
        assert state.config == cfg
        assert state.snapshots and state.snapshots[-1].weights.depth == cfg.model.depth
    gc.collect()
    assert threading.active_count() <= threads0
    growth = rss_bytes() - rss0
    assert growth < RSS_GROWTH_LIMIT, f"RSS grew by {growth / MB:.0f} MB"
    assert [m for m in qt_messages if BAD_QT_MESSAGE.search(m)] == []


def test_app_process_that_trains_and_quits_exits_cleanly(tmp_path: Any) -> None:
    cmd = [
        PYTHON,
        "-X",
        "faulthandler",
        "-m",
        "nndyn_gui.ui.app",
        "--preset",
        "resnet-w2-ring",
        "--set",
        "train.steps=200",
        "--set",
        "data.n=200",
        "--train",
        "--quit",
    ]
    env = subprocess_env(NNDYN_AUTOSAVE_DIR=str(tmp_path / "autosave"), HOME=str(tmp_path))
    r = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr[-3000:]
    assert "Fatal Python error" not in r.stderr
    assert "Traceback" not in r.stderr, r.stderr[-3000:]
    assert "QThread: Destroyed while thread is still running" not in r.stderr
    leftovers = (
        list((tmp_path / "autosave").glob("autosave-*")) if (tmp_path / "autosave").exists() else []
    )
    assert leftovers == []  # a clean exit removes its autosave
