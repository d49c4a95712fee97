"""Opening, saving and closing never freeze the window, even for a large run while training.

A `.nndyn` file of thousands of snapshots takes a good part of a second to read or write
(zip, npz, fsync), and stopping a run that a newly opened one replaces can take seconds:
all of it runs off the GUI thread (ui/run_document.py), so the window keeps repainting.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QElapsedTimer, QTimer

from nndyn_gui.core.io.runfile import load_run, save_run
from nndyn_gui.core.types import Run, Snapshot
from nndyn_gui.ui.run_document import RunDocument

MAX_GUI_MS = 100.0
N_SNAPSHOTS = 3000


@pytest.fixture
def gui_calls(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, float]]:
    """(slot, milliseconds it held the GUI thread) for the file code run from now on."""
    seen: list[tuple[str, float]] = []

    def timed(name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            t0 = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                seen.append((name, 1000 * (time.perf_counter() - t0)))

        return wrapper

    for name in ("open", "save", "_on_done", "_finish_open"):
        monkeypatch.setattr(RunDocument, name, timed(name, getattr(RunDocument, name)))
    return seen


def _large_run(window: Any, path: Path) -> None:
    state = window.state
    w = state.weights
    snaps = [Snapshot(10 * i, 0.5, 0.9, 0.9, w.copy()) for i in range(N_SNAPSHOTS)]
    save_run(Run(state.config.copy(), state.dataset, snaps, "finished", "big"), path)


@pytest.mark.timing
def test_open_and_save_a_large_run_while_training_keep_the_window_responsive(
    qtbot: Any, window: Any, changed: Any, tmp_path: Path, gui_calls: list[tuple[str, float]]
) -> None:
    big, saved = tmp_path / "big.nndyn", tmp_path / "saved.nndyn"
    _large_run(window, big)
    state = window.state
    state.set_config(changed(state.config, train__steps=1_000_000))
    window.train()
    qtbot.waitUntil(lambda: len(state.snapshots) > 2, timeout=120_000)  # training for real

    gaps: list[float] = []
    clock = QElapsedTimer()
    ticker = QTimer()
    ticker.setInterval(5)
    ticker.timeout.connect(lambda: gaps.append(clock.restart()))
    clock.start()
    ticker.start()
    gui_calls.clear()

    assert window.save_to(str(saved), wait=False)  # while training
    assert window.open_run(str(big), wait=False)  # stops the training, then opens
    qtbot.waitUntil(lambda: not window.document.busy(), timeout=60_000)
    ticker.stop()

    assert len(state.snapshots) == N_SNAPSHOTS and state.status == "finished"
    assert window.run_path == str(big) and window.windowTitle().startswith("big.nndyn")
    assert not window.controller.is_running()
    assert len(load_run(saved).snapshots) >= 3  # the run as it was when saved
    worst = max(ms for _, ms in gui_calls)
    assert {name for name, _ in gui_calls} >= {"open", "save", "_on_done", "_finish_open"}
    assert worst < MAX_GUI_MS, gui_calls
    print(f"worst event-loop pause {max(gaps):.0f} ms, worst file slot {worst:.0f} ms")


@pytest.mark.timing
def test_closing_waits_for_a_save_in_flight_without_blocking(
    qtbot: Any, window: Any, tmp_path: Path
) -> None:
    """Close right after Save: the window stays until the file is written, then goes."""
    big, saved = tmp_path / "big.nndyn", tmp_path / "saved.nndyn"
    _large_run(window, big)
    assert window.open_run(str(big))
    state = window.state
    state.set_dirty(True)
    assert window.save_to(str(saved), wait=False)
    t0 = time.perf_counter()
    window.close()
    assert 1000 * (time.perf_counter() - t0) < MAX_GUI_MS  # the close did not wait here
    qtbot.waitUntil(lambda: not window.isVisible(), timeout=60_000)
    assert len(load_run(saved).snapshots) == N_SNAPSHOTS and not state.dirty
