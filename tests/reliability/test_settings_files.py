"""The settings file under faults (issue 25): a FIFO, a device behind a symlink, a huge
file. The window must appear at once with default settings, and nothing of the user's
may be replaced or lost."""

from __future__ import annotations

import contextlib
import os
import queue
import signal
import stat
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from nndyn_gui.ui import settings as app_settings

from . import spawn_reading, subprocess_env, tiny_config


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    f = tmp_path / "settings"
    f.mkdir()
    monkeypatch.setenv(app_settings.ENV_DIR, str(f))
    app_settings._warned.clear()
    yield f


def _within(seconds: float, fn: object) -> object:
    """fn() on a thread; fails (instead of hanging the suite) if it does not return."""
    out: queue.Queue[object] = queue.Queue()
    t = threading.Thread(target=lambda: out.put(fn()), daemon=True)  # type: ignore[operator]
    t.start()
    t.join(seconds)
    assert not t.is_alive(), f"still blocked after {seconds} s"
    return out.get_nowait()


def test_a_fifo_as_settings_file_is_neither_read_nor_replaced(
    qapp: object, folder: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The window never appeared: QSettings opened the FIFO and waited for a writer."""
    fifo = folder / "nndyn-gui.ini"
    os.mkfifo(fifo)
    assert _within(5, app_settings.load_config) is None
    _within(5, lambda: app_settings.save_config(tiny_config()))
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    assert any("pipe" in r.getMessage() for r in caplog.records)
    # this session's settings still work (kept in memory for the session)
    assert _within(5, app_settings.load_config) == tiny_config()


def test_a_symlink_to_a_device_is_never_replaced(
    qapp: object, folder: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """As root the device was replaced by a regular file."""
    link = folder / "nndyn-gui.ini"
    link.symlink_to("/dev/null")
    app_settings.save_config(tiny_config())
    app_settings.add_recent_file("/tmp/x.nndyn")
    assert link.is_symlink() and stat.S_ISCHR(os.stat("/dev/null").st_mode)
    assert os.readlink(link) == "/dev/null"
    assert any("device" in r.getMessage() for r in caplog.records)


@pytest.mark.timing
def test_a_huge_settings_file_is_moved_aside_not_parsed(
    qapp: object, folder: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """300 MB: 14 s and 1.2 GB at start. Now it is renamed (kept) and settings start afresh."""
    big = folder / "nndyn-gui.ini"
    with open(big, "wb") as fh:
        fh.write(b"[run]\nrecent=")
        fh.truncate(300 * 2**20)  # sparse: costs no disk
    t0 = time.perf_counter()
    assert app_settings.load_config() is None
    assert time.perf_counter() - t0 < 1.0
    aside = [p for p in folder.iterdir() if p.name.startswith("nndyn-gui.ini.too-big-")]
    assert len(aside) == 1 and aside[0].stat().st_size == 300 * 2**20  # nothing lost
    app_settings.save_config(tiny_config())  # and settings persist again
    assert app_settings.load_config() == tiny_config()
    assert big.is_file() and big.stat().st_size < 64 * 1024
    assert any("too big" in r.getMessage() for r in caplog.records)


def test_user_settings_path_is_the_one_qt_reads(tmp_path: Path) -> None:
    """The check looks at the very file QSettings would open. In a fresh process: Qt
    fixes its settings folders at the first QSettings of a process, so an earlier test's
    folder would stand in this process."""
    import subprocess

    from . import PYTHON

    code = (
        "from pathlib import Path; from PySide6.QtCore import QSettings;"
        "from nndyn_gui.ui import settings as s;"
        "F, U = QSettings.Format.IniFormat, QSettings.Scope.UserScope;"
        "qt = QSettings(F, U, 'nndyn', 'nndyn-gui');"
        "print(Path(qt.fileName()) == s.settings_files()[0], qt.fileName())"
    )
    env = subprocess_env(XDG_CONFIG_HOME=str(tmp_path / "cfg"), QT_QPA_PLATFORM="offscreen")
    env.pop(app_settings.ENV_DIR, None)
    out = subprocess.run([PYTHON, "-c", code], env=env, capture_output=True, text=True, timeout=60)
    assert out.stdout.startswith("True "), out.stdout + out.stderr
    assert str(tmp_path / "cfg") in out.stdout


def _catches_sigterm(pid: int) -> bool:
    """True once the app installed its SIGTERM handler: right after the window shows."""
    with open(f"/proc/{pid}/status") as fh:
        caught = next(int(x.split()[1], 16) for x in fh if x.startswith("SigCgt:"))
    return bool(caught & (1 << (signal.SIGTERM - 1)))


def test_the_window_appears_with_a_fifo_as_settings_file(tmp_path: Path) -> None:
    """A plain start (a desktop launcher) with a FIFO settings file: the window came up
    never. Now it starts with default settings and quits on SIGTERM like any other."""
    settings = tmp_path / "settings"
    settings.mkdir()
    os.mkfifo(settings / "nndyn-gui.ini")
    env = subprocess_env(
        NNDYN_SETTINGS_DIR=str(settings), NNDYN_AUTOSAVE_DIR=str(tmp_path / "autosave")
    )
    proc, lines = spawn_reading(["-m", "nndyn_gui"], env, stream="stderr")
    try:
        said = ""
        deadline = time.monotonic() + 60
        while "settings file" not in said and time.monotonic() < deadline:
            with contextlib.suppress(queue.Empty):
                said = lines.get(timeout=0.5)
        assert "pipe" in said, said
        while not _catches_sigterm(proc.pid) and time.monotonic() < deadline:
            assert proc.poll() is None
            time.sleep(0.2)
        assert _catches_sigterm(proc.pid), "the window never came up"
        proc.send_signal(signal.SIGTERM)
        rc = proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert rc == 0
    assert stat.S_ISFIFO(os.lstat(settings / "nndyn-gui.ini").st_mode)
