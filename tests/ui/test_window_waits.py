"""Nothing waits on the GUI thread: a preset, New or Reset while training, a run that
will not stop, and a Ctrl+C / SIGTERM quit all hand their waits to the event loop.

Each of these used to stop the run and wait for its end right there (up to 2 s, more
with a kill): the window froze. Now the call returns at once with the run "stopping",
and what was asked for happens when the engine reports the end — with every snapshot
the run made kept for Run → Bring back, and no worker process left behind.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from nndyn_gui.core.io.presets import load_preset
from tests.ui import procs

RETURNS_WITHIN_S = 0.25  # the call itself: what it used to spend waiting is not in it


def _training(qtbot: Any, window: Any, changed: Any) -> None:
    state = window.state
    state.set_config(changed(state.config, train__steps=1_000_000))
    assert window.train()
    qtbot.waitUntil(lambda: len(state.snapshots) > 2, timeout=120_000)  # training for real


@pytest.mark.timing
def test_a_preset_while_training_is_applied_when_the_run_has_ended(
    qtbot: Any, window: Any, changed: Any
) -> None:
    state = window.state
    _training(qtbot, window, changed)
    t0 = time.perf_counter()
    assert window.load_preset("mlp-w2-ring")
    assert time.perf_counter() - t0 < RETURNS_WITHIN_S
    assert state.training_state == "stopping"  # returned before the run ended
    assert not window.act_train.isEnabled()
    qtbot.waitUntil(lambda: state.training_state == "idle", timeout=30_000)

    assert state.config == load_preset("mlp-w2-ring").validate()
    assert [s.step for s in state.snapshots] == [0] and not state.dirty
    assert window.run_path == "" and window.act_train.isEnabled()
    ended = window.controller.result  # the run as the engine delivered it, to its end
    assert ended is not None and ended.status == "cancelled"
    kept = window.undo.available()  # Run → Bring back has all of it, the last snapshot too
    assert kept is not None and kept.step == ended.final.step > 0
    assert window.train()  # the new preset trains
    qtbot.waitUntil(lambda: len(state.snapshots) > 1, timeout=120_000)
    assert state.run_config.model == state.config.model


def test_the_newest_of_two_quick_presets_wins(qtbot: Any, window: Any, changed: Any) -> None:
    state = window.state
    _training(qtbot, window, changed)
    assert window.load_preset("mlp-w2-ring")
    assert window.load_preset("resnet-w2-ring")
    qtbot.waitUntil(lambda: state.training_state == "idle", timeout=30_000)
    qtbot.wait(100)
    assert state.config == load_preset("resnet-w2-ring").validate()
    assert [s.step for s in state.snapshots] == [0]


@pytest.mark.timing
def test_reset_while_training_returns_at_once_and_resets_after_the_end(
    qtbot: Any, window: Any, changed: Any
) -> None:
    state = window.state
    _training(qtbot, window, changed)
    t0 = time.perf_counter()
    window.act_reset.trigger()
    assert time.perf_counter() - t0 < RETURNS_WITHIN_S
    assert state.training_state == "stopping"
    qtbot.waitUntil(lambda: state.training_state == "idle", timeout=30_000)
    assert [s.step for s in state.snapshots] == [0]
    kept = window.undo.available()
    assert kept is not None and kept.step == window.controller.result.final.step


@pytest.mark.timing
def test_a_run_that_does_not_stop_in_time_loses_its_worker_not_the_window(
    qtbot: Any, window: Any, changed: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A compile cannot be interrupted: after the grace the worker is killed (from the
    event loop), the request still goes ahead and a fresh worker loads for the next Train."""
    ctl, state = window.controller, window.state
    _training(qtbot, window, changed)
    old = ctl.worker_pid()
    monkeypatch.setattr(ctl.session, "cancel", lambda: None)  # the run never hears "stop"
    done: list[str] = []
    t0 = time.perf_counter()
    ctl.stop_then(lambda: done.append(state.training_state), timeout_s=0.3)
    assert time.perf_counter() - t0 < RETURNS_WITHIN_S and not done
    qtbot.waitUntil(lambda: bool(done), timeout=30_000)
    assert done == ["idle"] and len(state.snapshots) > 2  # its snapshots are kept
    assert state.status == "cancelled"
    qtbot.waitUntil(lambda: not procs.alive(old), timeout=10_000)
    qtbot.waitUntil(lambda: ctl.worker_pid() not in (0, old), timeout=10_000)
    assert window.train()


@pytest.fixture
def saving_window(qtbot: Any, small_config: Any, tmp_path: Path, monkeypatch: Any) -> Iterator[Any]:
    """A window with autosave on, in this test's own folder."""
    from nndyn_gui.ui import autosave
    from nndyn_gui.ui.main_window import MainWindow
    from nndyn_gui.ui.state import AppState

    monkeypatch.setenv(autosave.ENV_DIR, str(tmp_path / "autosave"))
    win = MainWindow(AppState(small_config), preload_tf=False, autosave=True)
    win.no_prompt = True
    win.error_hook = lambda *_: None
    qtbot.addWidget(win)
    win.show()
    qtbot.waitExposed(win)
    yield win
    win.close()


@pytest.mark.timing
def test_a_signal_quit_while_training_stops_autosaves_and_closes_without_waiting(
    qtbot: Any, saving_window: Any, changed: Any
) -> None:
    """Ctrl+C / SIGTERM (ui/app.py calls close_from_signal): the run's end is delivered
    by the event loop, the run is autosaved for the next start, the window closes, and
    the worker process is gone."""
    from nndyn_gui.core.io.runfile import load_run

    window = saving_window
    _training(qtbot, window, changed)
    pid = window.controller.worker_pid()
    t0 = time.perf_counter()
    window.close_from_signal()
    assert time.perf_counter() - t0 < RETURNS_WITHIN_S
    assert window.isVisible() and window.state.training_state == "stopping"
    qtbot.waitUntil(lambda: not window.isVisible(), timeout=30_000)
    assert window.state.training_state == "idle"
    ended = window.controller.result
    assert ended is not None and ended.final.step > 0
    kept = load_run(window.autosaver.path)  # offered at the next start, to its last step
    assert kept.snapshots[-1].step == ended.final.step
    from nndyn_gui.core.engine.session import shutdown_spares, spare_workers

    assert {w.pid for w in spare_workers()} <= {pid}  # at most left warm, idle
    shutdown_spares()  # what the app does once its event loop has returned
    qtbot.waitUntil(lambda: not procs.alive(pid), timeout=10_000)
