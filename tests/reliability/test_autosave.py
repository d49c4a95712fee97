"""Autosave: a crash or kill -9 during training loses seconds of work, never the run."""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from pytestqt.qtbot import QtBot

from nndyn_gui.core.io.runfile import load_run
from nndyn_gui.core.types import NetWeights, Snapshot
from nndyn_gui.ui import autosave
from nndyn_gui.ui.autosave import Autosaver, discard_pending, pending_restore
from nndyn_gui.ui.state import AppState

from . import PYTHON, REPO, spawn_reading, subprocess_env, tiny_config


def _snap(state: AppState, step: int, seed: int = 0) -> Snapshot:
    """A snapshot with weights that differ from the initial ones (like a trained net)."""
    w0 = state.snapshots[0].weights
    rng = np.random.default_rng(seed + step)
    w = NetWeights(w0.A + 0.01 * step, rng.normal(size=w0.b.shape), w0.w.copy(), 0.1 * step)
    return Snapshot(step, 0.5, 0.8, 0.7, w, elapsed=0.01 * step)


@pytest.fixture
def state(qtbot: QtBot) -> AppState:
    return AppState(tiny_config())


@pytest.fixture
def saver(state: AppState, tmp_path: Path) -> Iterator[Autosaver]:
    s = Autosaver(state, tmp_path / "autosave", interval_ms=40)
    yield s
    s.discard()


def _files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def _train_a_bit(state: AppState, steps: tuple[int, ...] = (10, 20)) -> None:
    state.set_training_state("training")
    for step in steps:
        state.append_snapshot(_snap(state, step))


def test_saves_while_training_with_the_same_weights(
    qtbot: QtBot, state: AppState, saver: Autosaver
) -> None:
    with qtbot.waitSignal(saver.saved, timeout=3000):
        _train_a_bit(state)
    saver.wait()
    run = load_run(saver.path)
    assert [s.step for s in run.snapshots] == [0, 10, 20]
    np.testing.assert_array_equal(run.snapshots[-1].weights.A, state.snapshots[-1].weights.A)
    np.testing.assert_array_equal(run.snapshots[-1].weights.b, state.snapshots[-1].weights.b)
    assert run.status == "cancelled" and "interrupted at step 20" in run.message
    assert run.config == state.config


def test_no_rewrite_while_nothing_changes(qtbot: QtBot, state: AppState, saver: Autosaver) -> None:
    with qtbot.waitSignal(saver.saved, timeout=3000):
        _train_a_bit(state)
    saver.wait()
    mtime = saver.path.stat().st_mtime_ns
    count: list[object] = []
    saver.saved.connect(count.append)
    qtbot.wait(300)  # several timer ticks, training "paused" with no new snapshot
    assert count == [] and saver.path.stat().st_mtime_ns == mtime
    state.append_snapshot(_snap(state, 30))
    with qtbot.waitSignal(saver.saved, timeout=3000):
        pass
    saver.wait()
    assert load_run(saver.path).snapshots[-1].step == 30


def test_saves_final_status_when_training_stops(
    qtbot: QtBot, state: AppState, saver: Autosaver
) -> None:
    saver._timer.setInterval(60_000)  # only the stop may save here
    _train_a_bit(state)
    state.set_training_state("stopping")
    state.replace_snapshots(state.snapshots, "finished")  # the window's end-of-run update
    with qtbot.waitSignal(saver.saved, timeout=3000):
        state.set_training_state("idle")
    saver.wait()
    qtbot.wait(autosave.SETTLE_MS + 100)
    saver.wait()
    run = load_run(saver.path)
    assert run.status == "finished" and run.snapshots[-1].step == 20


def test_clean_exit_removes_file_and_lock(qtbot: QtBot, state: AppState, saver: Autosaver) -> None:
    with qtbot.waitSignal(saver.saved, timeout=3000):
        _train_a_bit(state)
    folder = saver.path.parent
    assert saver.path.name in _files(folder)
    assert pending_restore(folder) is None  # this session is alive: nothing to restore
    saver.discard()
    assert _files(folder) == []
    assert pending_restore(folder) is None


def test_user_save_removes_the_autosave(qtbot: QtBot, state: AppState, saver: Autosaver) -> None:
    with qtbot.waitSignal(saver.saved, timeout=3000):
        _train_a_bit(state)
    state.set_training_state("idle")
    state.set_dirty(False)  # what the window does after "Save"
    qtbot.wait(autosave.SETTLE_MS + 100)
    saver.wait()
    assert not saver.path.exists()


def test_config_change_after_training_keeps_the_trained_autosave(
    qtbot: QtBot, state: AppState, saver: Autosaver
) -> None:
    with qtbot.waitSignal(saver.saved, timeout=3000):
        _train_a_bit(state)
    state.set_training_state("idle")
    qtbot.wait(autosave.SETTLE_MS + 100)
    saver.wait()
    cfg = state.config.copy()
    cfg.model.h = 0.25
    state.set_config(cfg)  # drops the trained weights in the window
    qtbot.wait(autosave.SETTLE_MS + 200)
    saver.wait()
    assert load_run(saver.path).snapshots[-1].step == 20  # still worth restoring


def test_unwritable_folder_is_reported_once_and_nothing_raises(
    qtbot: QtBot, state: AppState, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    saver = Autosaver(state, blocker / "autosave", interval_ms=30)
    errors: list[str] = []
    saver.failed.connect(errors.append)
    with qtbot.waitSignal(saver.failed, timeout=3000):
        _train_a_bit(state)
    for step in (30, 40, 50):
        state.append_snapshot(_snap(state, step))
        qtbot.wait(50)
    saver.discard()
    assert len(errors) == 1 and "autosave folder" in errors[0], errors
    assert blocker.read_text() == "not a folder"
    logged = [r.getMessage() for r in caplog.records if "failed" in r.getMessage()]
    assert len(logged) == 1 and "autosave folder" in logged[0], logged  # in the log file


def test_pending_restore_finds_newest_file_of_an_ended_session(tmp_path: Path) -> None:
    from nndyn_gui.core.io.runfile import save_run

    from . import tiny_run

    folder = tmp_path / "autosave"
    folder.mkdir()
    assert pending_restore(folder) is None
    assert pending_restore(tmp_path / "missing") is None
    old, new = folder / "autosave-11.nndyn", folder / "autosave-12.nndyn"
    save_run(tiny_run(), old)
    save_run(tiny_run(), new)
    os.utime(old, (1_000_000, 1_000_000))
    (folder / "autosave-13.nndyn").write_bytes(b"")  # empty: never offered
    (folder / ".autosave-14.nndyn.abc.tmp").write_bytes(b"partial")  # killed mid-save
    assert pending_restore(folder) == new
    discard_pending(new)
    assert pending_restore(folder) == old


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="needs mount")
def test_full_disk_keeps_the_previous_autosave(qtbot: QtBot, tmp_path: Path) -> None:
    """A 2 MB tmpfs: the first autosave (~1.3 MB of random weights) fits, the next does not."""
    folder = tmp_path / "small"
    folder.mkdir()
    mount = ["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(folder)]
    if subprocess.run(mount, capture_output=True).returncode:
        pytest.skip("mounting a tmpfs is not permitted here")
    try:
        state = AppState(tiny_config(model__width=64, model__depth=20))
        saver = Autosaver(state, folder, interval_ms=30)
        errors: list[str] = []
        saver.failed.connect(errors.append)
        with qtbot.waitSignal(saver.saved, timeout=5000):
            _train_a_bit(state, steps=(10,))
        saver.wait()
        first = saver.path.read_bytes()
        with qtbot.waitSignal(saver.failed, timeout=5000):
            for step in (20, 30, 40):
                state.append_snapshot(_snap(state, step))
        saver.wait()
        assert "disk full" in errors[0] or "No space" in errors[0], errors
        assert saver.path.read_bytes() == first  # the previous autosave is intact
        assert [p for p in _files(folder) if p.endswith(".tmp")] == []
        saver.discard()
    finally:
        subprocess.run(["umount", "-l", str(folder)], capture_output=True)


CHILD = textwrap.dedent(
    """
    import hashlib, sys
    import numpy as np
    from PySide6.QtCore import QCoreApplication
    from nndyn_gui.core.config import RunConfig
    from nndyn_gui.ui.autosave import Autosaver
    from nndyn_gui.ui.state import AppState
    from nndyn_gui.ui.training.controller import TrainController

    def say(*parts):
        sys.stdout.write(" ".join(str(p) for p in parts) + "\\n")
        sys.stdout.flush()

    def digest(w):
        return hashlib.sha256(
            w.A.tobytes() + w.b.tobytes() + w.w.tobytes() + np.float64(w.c).tobytes()
        ).hexdigest()

    app = QCoreApplication([])
    state = AppState(RunConfig.from_json(sys.argv[1]))
    saver = Autosaver(state, interval_ms=100)  # folder from NNDYN_AUTOSAVE_DIR
    printed = set()

    def on_snapshots():  # GUI thread, before any autosave can contain them
        for s in state.snapshots:
            if s.step not in printed:
                printed.add(s.step)
                say("SNAP", s.step, digest(s.weights))

    state.snapshotsChanged.connect(on_snapshots)
    saver.saved.connect(lambda p: say("SAVED", p))
    controller = TrainController(state)
    controller.start()
    app.exec()
    """
)

NEXT_START = textwrap.dedent(
    """
    import hashlib, sys
    import numpy as np
    from nndyn_gui.ui.autosave import pending_restore, restore, discard_pending

    p = pending_restore()
    print("PENDING", p)
    if p is not None:
        run = restore(p)
        w = run.snapshots[-1].weights
        d = hashlib.sha256(
            w.A.tobytes() + w.b.tobytes() + w.w.tobytes() + np.float64(w.c).tobytes()
        ).hexdigest()
        print("LOADED", run.snapshots[-1].step, d, run.status)
        discard_pending(p)
        print("AFTER", pending_restore())
    """
)


def test_kill_9_during_training_leaves_a_restorable_autosave(tmp_path: Path) -> None:
    folder = tmp_path / "autosave"
    env = subprocess_env(NNDYN_AUTOSAVE_DIR=str(folder))
    cfg = tiny_config(train__steps=1_000_000, train__snapshot_every=10)
    child, lines = spawn_reading(["-c", CHILD, cfg.to_json()], env)
    snaps: dict[int, str] = {}
    saves = 0
    deadline = time.monotonic() + 90
    try:
        while not (saves >= 3 and max(snaps, default=0) >= 60):
            assert time.monotonic() < deadline, "child never autosaved"
            assert child.poll() is None, (child.stderr.read() if child.stderr else "")[-3000:]
            try:
                line = lines.get(timeout=0.5).split()
            except queue.Empty:
                continue
            if line[0] == "SNAP":
                snaps[int(line[1])] = line[2]
            elif line[0] == "SAVED":
                saves += 1
    finally:
        child.send_signal(signal.SIGKILL)  # no cleanup code of any kind runs
        child.wait(timeout=30)
    time.sleep(0.2)
    while not lines.empty():  # SNAP lines printed just before the kill
        line = lines.get().split()
        if line and line[0] == "SNAP":
            snaps[int(line[1])] = line[2]
    assert child.returncode == -signal.SIGKILL
    assert any(p.name.startswith("autosave-") for p in folder.iterdir())

    nxt = subprocess.run(
        [PYTHON, "-c", NEXT_START], cwd=REPO, env=env, capture_output=True, text=True, timeout=60
    )
    assert nxt.returncode == 0, nxt.stderr[-3000:]
    out = dict(line.split(" ", 1) for line in nxt.stdout.splitlines())
    # the killed session's own file: autosave-<pid>-<session token>.nndyn
    assert Path(out["PENDING"]).name.startswith(f"autosave-{child.pid}-"), nxt.stdout
    assert Path(out["PENDING"]).suffix == ".nndyn", nxt.stdout
    step_s, digest, status = out["LOADED"].split()
    assert int(step_s) >= 10 and snaps[int(step_s)] == digest  # identical weights
    assert status == "cancelled"
    assert out["AFTER"] == "None"
    assert not [p for p in folder.iterdir() if p.suffix in (".nndyn", ".tmp")]


def test_interval_default_is_a_few_seconds(state: AppState, tmp_path: Path) -> None:
    s = Autosaver(state, tmp_path)
    try:
        assert 1000 <= s.interval_ms <= 10_000
    finally:
        s.discard()


def test_default_directory_honours_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(autosave.ENV_DIR, "/some/where")
    assert autosave.default_directory() == Path("/some/where")
    monkeypatch.delenv(autosave.ENV_DIR)
    assert autosave.default_directory().name == "autosave"


def test_module_never_imports_tensorflow() -> None:
    code = "import sys, nndyn_gui.ui.autosave; print('tensorflow' in sys.modules)"
    r = subprocess.run(
        [sys.executable, "-c", code], env=subprocess_env(), capture_output=True, text=True
    )
    assert r.stdout.strip() == "False", r.stderr[-2000:]
