"""Crash recovery and start-up: a restored run stays safe, sessions are told apart when
PIDs repeat, a damaged autosave never blocks a good one, and the window always opens.
Also: a big CSV import never freezes the window.
"""

from __future__ import annotations

import contextlib
import os
import queue
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PySide6.QtCore import QLockFile, QTimer
from PySide6.QtWidgets import QMessageBox

from nndyn_gui.core.datasets import csv_cache_clear
from nndyn_gui.core.io.runfile import load_run, save_run
from nndyn_gui.core.types import Snapshot
from nndyn_gui.ui import autosave
from nndyn_gui.ui.autosave import Autosaver, pending_restore
from nndyn_gui.ui.state import AppState

from . import PYTHON, REPO, spawn_reading, subprocess_env, tiny_config, tiny_run
from . import hostile as h


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """This test's autosave folder (the app reads $NNDYN_AUTOSAVE_DIR)."""
    f = tmp_path / "autosave"
    f.mkdir()
    monkeypatch.setenv(autosave.ENV_DIR, str(f))
    monkeypatch.setenv("NNDYN_SETTINGS_DIR", str(tmp_path / "settings"))
    return f


@pytest.fixture
def window(qtbot: Any, folder: Path) -> Iterator[Any]:
    """A window with autosave on (in `folder`) and prompts answered by the test."""
    from nndyn_gui.ui.main_window import MainWindow

    win = MainWindow(AppState(tiny_config()), preload_tf=False, autosave=True)
    win.no_prompt = True  # no "Unsaved run" dialog when the test ends (see _offer_restore)
    win.hooked = []
    win.error_hook = lambda title, msg, details: win.hooked.append((title, msg))
    qtbot.addWidget(win)
    yield win
    win.no_prompt = True
    win.close()


def _answer_yes(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    asked: list[str] = []

    def question(*args: Any, **kw: Any) -> QMessageBox.StandardButton:
        asked.append(str(args[1]) if len(args) > 1 else "")
        return QMessageBox.StandardButton.Yes

    monkeypatch.setattr(QMessageBox, "question", question)
    return asked


def _offer_restore(win: Any) -> None:
    """The start-up offer, as a person sees it (the fixture's window never prompts)."""
    from nndyn_gui.ui.app import _offer_restore as offer

    win.no_prompt = False
    try:
        offer(win)
    finally:
        win.no_prompt = True


def _crashed_session_file(folder: Path, name: str, steps: int = 3) -> Path:
    path = folder / name
    save_run(tiny_run(n_snaps=steps), path)
    return path


# ---------------------------------------------------------------------- item 7
def test_a_restored_run_is_autosaved_again_before_the_old_file_goes(
    window: Any, folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Crash -> "Restore run?" -> Yes deleted the old autosave and never wrote a new one:
    a second crash (or SIGTERM at logout) lost the run."""
    old = _crashed_session_file(folder, "autosave-4242-dead.nndyn")
    asked = _answer_yes(monkeypatch)
    _offer_restore(window)
    assert asked == ["Restore run?"] and window.hooked == []
    assert [s.step for s in window.state.snapshots] == [0, 10, 20] and window.state.dirty
    assert not old.exists()
    # "kill -9" now: the run must be on disk for the next start, in this session's file
    mine = window.autosaver.path
    assert mine.exists(), sorted(p.name for p in folder.iterdir())
    assert [s.step for s in load_run(mine).snapshots] == [0, 10, 20]


# ---------------------------------------------------------------------- item 8
def _stale_lock_with_pid(lock_path: Path, pid: int) -> None:
    """A lock file as a killed session with PID `pid` leaves it (Qt's own format)."""
    lock = QLockFile(str(lock_path))
    assert lock.tryLock(0)
    lines = lock_path.read_bytes().split(b"\n")
    lock.unlock()
    lines[0] = str(pid).encode()
    lock_path.write_bytes(b"\n".join(lines))


def test_a_crashed_session_with_this_processs_pid_is_offered(folder: Path, qtbot: Any) -> None:
    """In a container the app is PID 2 after every start: the lock of the killed session
    names a live PID (ours), which Qt takes for a running session."""
    path = _crashed_session_file(folder, f"autosave-{os.getpid()}-0badcafe.nndyn")
    _stale_lock_with_pid(path.with_suffix(".lock"), os.getpid())
    os.utime(path, (1_000_000, 1_000_000))
    # this process's own live session (newer file) is still never offered
    state = AppState(tiny_config())
    saver = Autosaver(state, folder)
    try:
        state.set_training_state("training")
        w = state.snapshots[0].weights
        state.append_snapshot(Snapshot(10, 0.5, 0.8, 0.7, w.copy(), 0.1))
        assert saver.save_now(wait=True) and saver.path.exists()
        assert pending_restore(folder) == path
    finally:
        saver.discard()


def test_a_crashed_session_whose_pid_was_reused_later_is_offered(folder: Path, qtbot: Any) -> None:
    """The killed session's PID now belongs to a Python started after its lock."""
    path = _crashed_session_file(folder, "autosave-777-feedface.nndyn")
    lock = path.with_suffix(".lock")
    child = subprocess.Popen([PYTHON, "-c", "import time; time.sleep(60)"])
    try:
        _stale_lock_with_pid(lock, child.pid)
        past = time.time() - 120
        os.utime(lock, (past, past))  # the lock was written before the child started
        assert pending_restore(folder) == path
    finally:
        child.kill()
        child.wait()


def test_two_sessions_of_one_pid_never_share_an_autosave(qtbot: Any, folder: Path) -> None:
    """...so the new session's clean exit cannot delete the crashed session's run."""
    a = Autosaver(AppState(tiny_config()), folder)
    b = Autosaver(AppState(tiny_config()), folder)
    try:
        assert a.path != b.path and a.path.parent == b.path.parent == folder
    finally:
        a.discard()
        b.discard()


# ---------------------------------------------------------------------- item 9
def test_damaged_autosaves_are_removed_and_hide_no_valid_one(
    window: Any, folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A truncated autosave (newest) was offered at every start, failed, was never removed
    and hid the valid older one next to it; one from a newer nndyn is kept for it."""
    good = _crashed_session_file(folder, "autosave-11-aaaaaaaa.nndyn")
    os.utime(good, (1_000_000, 1_000_000))
    truncated = folder / "autosave-12-bbbbbbbb.nndyn"
    truncated.write_bytes(good.read_bytes()[:700])
    newer = folder / "autosave-13-cccccccc.nndyn"
    raw = good.read_bytes()
    manifest = re.sub(
        rb'"format_version": \d+', b'"format_version": 99', h.members(raw)["manifest.json"]
    )
    assert b'"format_version": 99' in manifest
    newer.write_bytes(h.with_member(raw, "manifest.json", manifest))
    os.utime(newer, (2_000_000, 2_000_000))
    _answer_yes(monkeypatch)
    _offer_restore(window)
    assert window.hooked == [], window.hooked
    assert [s.step for s in window.state.snapshots] == [0, 10, 20]
    assert not truncated.exists() and not good.exists()
    assert newer.exists()  # a newer nndyn can still restore it


# ---------------------------------------------------------------------- item 12
def test_window_opens_when_the_last_sessions_csv_has_moved(tmp_path: Path) -> None:
    """A plain `nndyn-gui` (a desktop launcher) printed "mydata.csv: file not found" and
    exited 2 at every start: now it opens on the default preset and says why."""
    settings = tmp_path / "settings"
    env = subprocess_env(
        NNDYN_SETTINGS_DIR=str(settings), NNDYN_AUTOSAVE_DIR=str(tmp_path / "autosave")
    )
    cfg = tiny_config()
    cfg.data.name, cfg.data.csv_path = "csv", str(tmp_path / "moved" / "mydata.csv")
    seed = "from nndyn_gui.ui import settings as s; import sys; from nndyn_gui.core.config "
    seed += "import RunConfig; s.save_config(RunConfig.from_json(sys.argv[1]))"
    subprocess.run([PYTHON, "-c", seed, cfg.to_json()], env=env, check=True, timeout=60)
    proc, lines = spawn_reading(["-m", "nndyn_gui"], env, "stderr")
    seen: list[str] = []
    try:
        deadline = time.monotonic() + 60
        while not any("started on the" in x for x in seen) and time.monotonic() < deadline:
            assert proc.poll() is None, "".join(seen)[-2000:]
            with contextlib.suppress(queue.Empty):
                seen.append(lines.get(timeout=0.5))
        notice = next((x for x in seen if "started on the" in x), "".join(seen)[-2000:])
        assert "mydata.csv: file not found" in notice and "resnet-w3-ring" in notice, notice
        qtbot_free_wait = time.monotonic() + 1.0  # let the window finish showing
        while time.monotonic() < qtbot_free_wait and proc.poll() is None:
            time.sleep(0.1)
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0
    # data asked for on the command line that cannot be read is still an error
    missing = f"data.csv_path={tmp_path / 'nope.csv'}"
    r = subprocess.run(
        [PYTHON, "-m", "nndyn_gui", "--set", missing, "--set", "data.name=csv"],
        cwd=REPO,
        env={**env, "NNDYN_NO_AUTOSAVE": "1"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 2 and "nope.csv: file not found" in r.stderr, r.stderr[-2000:]


# ---------------------------------------------------------------------- item 6 (window)
@pytest.mark.timing
def test_big_csv_import_keeps_the_window_turning(
    qtbot: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A CSV of ~400 000 rows: the window kept no event loop for its parse (twice); now
    the parse runs on a background thread with progress under the button."""
    from nndyn_gui.ui.param_panel import ParamPanel

    monkeypatch.setenv("NNDYN_SETTINGS_DIR", str(tmp_path / "settings"))
    csv_cache_clear()
    rng = np.random.default_rng(0)
    x = rng.normal(size=(400_000, 2))
    path = tmp_path / "big.csv"
    with open(path, "w") as f:
        f.write("x1,x2,label\n")
        np.savetxt(f, np.column_stack([x, x[:, 0] > 0]), fmt="%.6f,%.6f,%d")
    state = AppState(tiny_config())
    panel = ParamPanel(state)
    qtbot.addWidget(panel)
    progress: list[float] = []
    panel._csvProgress.connect(progress.append)  # emitted by the reader thread
    ticks: list[float] = []
    probe = QTimer()
    probe.setInterval(10)
    probe.timeout.connect(lambda: ticks.append(time.perf_counter()))
    probe.start()
    qtbot.wait(50)
    with qtbot.waitSignal(panel.csvLoaded, timeout=60_000) as done:
        t0 = time.perf_counter()
        assert panel.import_csv(str(path))
        returned = time.perf_counter() - t0
        assert panel.csv_busy and state.config.data.name != "csv"
        assert panel.csv_label.text().startswith("Reading big.csv")
    probe.stop()
    assert len(progress) >= 5 and progress[-1] == 1.0, progress
    assert done.args == [True]
    assert returned < 0.2, returned
    assert state.config.data.name == "csv" and len(state.dataset.x_all) == 60  # data.n
    assert not panel.csv_error.isVisible()
    gaps = np.diff(ticks) * 1000
    assert float(np.max(gaps)) < 400, np.sort(gaps)[-5:]  # the parse took ~1 s


def test_bad_big_csv_import_is_shown_under_the_button(qtbot: Any, tmp_path: Path) -> None:
    from nndyn_gui.ui.param_panel import INLINE_CSV_BYTES, ParamPanel

    csv_cache_clear()
    path = tmp_path / "bad.csv"
    rows = "0.1,0.2,0\n" * (INLINE_CSV_BYTES // 10 + 10)
    path.write_text("x1,x2,label\n" + rows + "0.3,zzz,1\n")
    state = AppState(tiny_config())
    panel = ParamPanel(state)
    qtbot.addWidget(panel)
    panel.show()
    with qtbot.waitSignal(panel.csvLoaded, timeout=60_000) as done:
        assert panel.import_csv(str(path))
    assert done.args == [False] and state.config.data.name == "ring"
    assert panel.csv_error.isVisible() and "'zzz' is not a number" in panel.csv_error.text()


if sys.platform != "linux":  # pragma: no cover
    pytestmark = pytest.mark.skip("PID start times come from /proc")


def test_opening_a_run_never_reports_the_last_sessions_data(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`nndyn-gui --open RUN` after a session that drew its points said "started on the
    default data" in a modal dialog over the opened run: the run brings its own data."""
    from nndyn_gui.ui import settings as app_settings
    from nndyn_gui.ui.app import build_parser, resolve_config, usable_start_config

    monkeypatch.setenv("NNDYN_SETTINGS_DIR", str(tmp_path / "settings"))
    last = tiny_config()
    last.data.name = "drawn"
    app_settings.save_config(last)
    plain = build_parser().parse_args([])
    cfg, notice = usable_start_config(resolve_config(plain, False), plain, False)
    assert "drew its own points" in notice and cfg.data.name != "drawn"
    opened = build_parser().parse_args(["--open", str(tmp_path / "run.nndyn")])
    cfg, notice = usable_start_config(resolve_config(opened, False), opened, False)
    assert notice == "" and cfg.data.name != "drawn"


# ---------------------------------------------------------------------- round 3 (issue 25)
def test_closing_while_asking_to_restore_keeps_the_autosave(
    window: Any, folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SIGTERM (or Ctrl+C) while "Restore the autosaved run?" showed deleted the autosave."""
    old = _crashed_session_file(folder, "autosave-4343-dead.nndyn")

    def question(*args: Any, **kw: Any) -> QMessageBox.StandardButton:
        window.close_from_signal()  # what the SIGTERM handler does, while the box is up
        return QMessageBox.StandardButton.Cancel  # what an aborted question returns

    monkeypatch.setattr(QMessageBox, "question", question)
    _offer_restore(window)
    assert old.exists(), "the autosave was deleted without anyone saying so"


@pytest.mark.parametrize("answer", ["Cancel", "No"])
def test_only_an_explicit_no_deletes_the_autosave(
    window: Any, folder: Path, monkeypatch: pytest.MonkeyPatch, answer: str
) -> None:
    old = _crashed_session_file(folder, "autosave-4444-dead.nndyn")
    button = getattr(QMessageBox.StandardButton, answer)
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: button)
    _offer_restore(window)
    assert old.exists() == (answer == "Cancel")
    assert window.state.dirty is False  # nothing restored either way


def test_sigterm_while_asking_to_restore_exits_0_and_keeps_the_autosave(tmp_path: Path) -> None:
    """The real thing: the app is asked to quit (logout) while the question is up."""
    autosaves = tmp_path / "autosave"
    autosaves.mkdir()
    old = _crashed_session_file(autosaves, "autosave-4545-dead.nndyn")
    env = subprocess_env(
        NNDYN_AUTOSAVE_DIR=str(autosaves), NNDYN_SETTINGS_DIR=str(tmp_path / "settings")
    )
    proc, lines = spawn_reading(["-m", "nndyn_gui"], env, stream="stderr")
    try:
        deadline = time.monotonic() + 60
        said = ""
        while "offering" not in said and time.monotonic() < deadline:
            with contextlib.suppress(queue.Empty):
                said = lines.get(timeout=0.5)
        assert "offering" in said, "the restore question never came"
        time.sleep(0.5)  # the box is up (modal, waiting for an answer)
        proc.send_signal(signal.SIGTERM)
        rc = proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert rc == 0
    assert old.exists(), "SIGTERM while asking deleted the autosave"


@pytest.mark.timing
def test_thousands_of_junk_files_in_the_autosave_folder_cost_no_start_up_time(
    window: Any, folder: Path, qtbot: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """3,000 junk files: 40 s of black window before it appeared (each junk autosave was
    loaded, failed, and removed with a listing of the whole folder, on the GUI thread)."""
    from nndyn_gui.ui.app import offer_restore_soon

    rng = np.random.default_rng(5)
    for i in range(3000):
        (folder / f"autosave-{100000 + i}-{i:08x}.nndyn").write_bytes(rng.bytes(2000))
        (folder / f"notes-{i}.txt").write_bytes(b"not ours")
    good = _crashed_session_file(folder, "autosave-99-aaaaaaaa.nndyn")
    os.utime(good, (1_000_000, 1_000_000))  # the oldest of all
    asked = _answer_yes(monkeypatch)
    window.no_prompt = False
    try:
        t0 = time.perf_counter()
        offer_restore_soon(window)
        returned = time.perf_counter() - t0
        assert returned < 0.2, f"the start-up look-up held the GUI thread {returned:.2f} s"
        qtbot.waitUntil(lambda: bool(asked), timeout=20_000)
        found = time.perf_counter() - t0
    finally:
        window.no_prompt = True
    assert [s.step for s in window.state.snapshots] == [0, 10, 20]  # the valid one, restored
    assert found < 10, f"{found:.1f} s to find it"
    left = sorted(p.name for p in folder.iterdir() if p.stem != window.autosaver.path.stem)
    assert not any(n.startswith("autosave-") for n in left)  # the junk autosaves are gone
    assert sum(n.startswith("notes-") for n in left) == 3000  # files not ours untouched
