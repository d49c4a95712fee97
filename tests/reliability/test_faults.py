"""Injected faults: unwritable folders, full disks, ffmpeg dying, no OpenGL, a crashing
worker, the window closed at the worst moment. The user must get a clear error, never a
half-written file, and an app that keeps working."""

from __future__ import annotations

import contextlib
import json
import subprocess
import textwrap
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pytestqt.qtbot import QtBot

from nndyn_gui.core.io.runfile import RunFileError, save_run
from nndyn_gui.render import export as export_mod
from nndyn_gui.render import views
from nndyn_gui.render.export import ExportError, ExportOptions, export

from . import PYTHON, REPO, subprocess_env, tiny_config, tiny_run

SHORT_MP4: dict[str, Any] = {
    "width": 320,
    "height": 240,
    "fps": 20,
    "seconds": 1.0,
    "hold_seconds": 0.5,
}
LONG_MP4: dict[str, Any] = {
    "width": 640,
    "height": 480,
    "fps": 30,
    "seconds": 4.0,
    "hold_seconds": 0.5,
}


def _mp4_is_playable(path: Path) -> bool:
    import imageio_ffmpeg

    try:
        frames, _secs = imageio_ffmpeg.count_frames_and_secs(str(path))
    except (RuntimeError, OSError):
        return False
    return frames > 0


@contextlib.contextmanager
def _tmpfs(folder: Path, options: str) -> Iterator[Path]:
    """A private tmpfs at `folder` (skip the test when mounting is not permitted)."""
    folder.mkdir(parents=True, exist_ok=True)
    r = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(folder)], capture_output=True
    )
    if r.returncode:
        pytest.skip(f"cannot mount a tmpfs here: {r.stderr.decode(errors='replace').strip()}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], capture_output=True)


# ---------------------------------------------------------------------- unwritable folders
def test_export_into_a_path_under_a_file_is_refused_before_drawing(
    qtbot: QtBot, tmp_path: Path
) -> None:
    blocker = tmp_path / "notes.txt"
    blocker.write_text("keep me")
    for ext in (".png", ".mp4", ".gif", ".svg", ".pdf"):
        with pytest.raises(ExportError) as info:
            export(tiny_run(), ExportOptions(str(blocker / f"out{ext}"), **SHORT_MP4))
        assert "folder" in str(info.value) and "\n" not in str(info.value)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]
    assert blocker.read_text() == "keep me"


def test_export_and_save_into_a_read_only_folder(qtbot: QtBot, tmp_path: Path) -> None:
    with _tmpfs(tmp_path / "ro", "ro,size=1m") as folder:
        for ext in (".png", ".mp4", ".svg"):
            with pytest.raises(ExportError) as info:
                export(tiny_run(), ExportOptions(str(folder / f"out{ext}"), **SHORT_MP4))
            assert "cannot write" in str(info.value) or "permission" in str(info.value)
        with pytest.raises(RunFileError) as rinfo:
            save_run(tiny_run(), folder / "run.nndyn")
        assert "Read-only" in str(rinfo.value) or "permission" in str(rinfo.value).lower()
        assert list(folder.iterdir()) == []


# ---------------------------------------------------------------------- full disks
FSIZE_CHILD = textwrap.dedent(
    """
    import json, os, resource, signal, sys
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # writes fail with EFBIG instead
    from PySide6.QtWidgets import QApplication
    app = QApplication([])
    from reliability import tiny_run
    from nndyn_gui.core.io.runfile import RunFileError, save_run
    from nndyn_gui.render.export import ExportError, ExportOptions, export

    folder, limit, jobs = sys.argv[1], int(sys.argv[2]), json.loads(sys.argv[3])
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, resource.RLIM_INFINITY))
    out = {}
    for name, kw in jobs.items():
        target = os.path.join(folder, name)
        try:
            if name.endswith(".nndyn"):
                save_run(tiny_run(n_snaps=400), target)
            else:
                export(tiny_run(), ExportOptions(target, **kw))
            out[name] = ["ok", os.path.getsize(target)]
        except (ExportError, RunFileError) as e:
            out[name] = [type(e).__name__, str(e)]
        except Exception as e:
            out[name] = ["UNEXPECTED " + type(e).__name__, repr(e)]
    out["files"] = sorted(os.listdir(folder))
    print("RESULT " + json.dumps(out))
    """
)
FSIZE_JOBS: dict[str, dict[str, Any]] = {
    "still.png": {"width": 1600, "height": 1200},
    "anim.gif": {"width": 320, "height": 240, "fps": 10, "seconds": 1.0, "hold_seconds": 0.0},
    "long.mp4": LONG_MP4,
    "short.mp4": SHORT_MP4,
    "run.nndyn": {},
}


@pytest.fixture(scope="module")
def fsize_results(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """One child process with RLIMIT_FSIZE = 40 kB tries every kind of output."""
    folder = tmp_path_factory.mktemp("fsize")
    r = subprocess.run(
        [PYTHON, "-c", FSIZE_CHILD, str(folder), "40000", json.dumps(FSIZE_JOBS)],
        cwd=REPO,
        env=subprocess_env(PYTHONPATH=str(REPO / "tests")),
        capture_output=True,
        text=True,
        timeout=120,
    )
    lines = [x for x in r.stdout.splitlines() if x.startswith("RESULT ")]
    assert r.returncode == 0 and lines, r.stderr[-3000:]
    out: dict[str, Any] = json.loads(lines[-1][len("RESULT ") :])
    out["_folder_after"] = sorted(p.name for p in folder.iterdir())
    return out


@pytest.mark.parametrize("name", ["still.png", "anim.gif", "long.mp4", "run.nndyn"])
def test_file_too_large_is_a_clear_error(fsize_results: dict[str, Any], name: str) -> None:
    kind, message = fsize_results[name]
    assert kind in ("ExportError", "RunFileError"), (kind, message)
    assert "\n" not in message
    assert name not in fsize_results["files"]


def test_file_too_large_leaves_no_partial_or_temp_file(fsize_results: dict[str, Any]) -> None:
    leftovers = [f for f in fsize_results["_folder_after"] if f != "short.mp4"]
    assert leftovers == []


def test_mp4_failing_while_ffmpeg_finishes_is_an_error(fsize_results: dict[str, Any]) -> None:
    kind, _message = fsize_results["short.mp4"]
    assert kind == "ExportError"
    assert "short.mp4" not in fsize_results["_folder_after"]


def test_mp4_too_large_message_says_why(fsize_results: dict[str, Any]) -> None:
    _kind, message = fsize_results["long.mp4"]
    assert "too large" in message or "disk full" in message


def test_png_and_gif_too_large_say_why(fsize_results: dict[str, Any]) -> None:
    for name in ("still.png", "anim.gif"):
        assert "too large" in fsize_results[name][1], fsize_results[name]


def test_disk_full_short_mp4_is_an_error_not_a_broken_file(qtbot: QtBot, tmp_path: Path) -> None:
    with _tmpfs(tmp_path / "full", "size=64k") as folder:
        target = folder / "talk.mp4"
        try:
            export(tiny_run(), ExportOptions(str(target), **SHORT_MP4))
        except ExportError as e:
            assert "disk full" in str(e) or "too large" in str(e)
        else:
            assert _mp4_is_playable(target), "export reported success but the MP4 is broken"
        assert [p.name for p in folder.iterdir() if p.name != "talk.mp4"] == []


def test_disk_full_long_mp4_is_an_error_and_leaves_nothing(qtbot: QtBot, tmp_path: Path) -> None:
    with _tmpfs(tmp_path / "full", "size=64k") as folder:
        with pytest.raises(ExportError):
            export(tiny_run(), ExportOptions(str(folder / "talk.mp4"), **LONG_MP4))
        assert list(folder.iterdir()) == []


def test_disk_full_run_file_keeps_the_old_file(tmp_path: Path) -> None:
    with _tmpfs(tmp_path / "full", "size=64k") as folder:
        target = folder / "run.nndyn"
        save_run(tiny_run(n_snaps=2), target)
        old = target.read_bytes()
        with pytest.raises(RunFileError) as info:
            save_run(tiny_run(n_snaps=2000), target)
        assert "No space" in str(info.value) or "disk full" in str(info.value)
        assert target.read_bytes() == old
        assert [p.name for p in folder.iterdir()] == ["run.nndyn"]


# ---------------------------------------------------------------------- ffmpeg dies
FAKE_FFMPEG = """#!/bin/sh
# A stand-in for ffmpeg that dies: after reading some input, or after reading all of it.
out=""; for a in "$@"; do out="$a"; done
printf 'half a video' > "$out"
if [ "$NNDYN_FAKE_FFMPEG" = "early" ]; then
    head -c 200000 > /dev/null
else
    cat > /dev/null
fi
echo "fake ffmpeg: Conversion failed!" >&2
exit 1
"""


@pytest.fixture
def dying_ffmpeg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    exe = tmp_path / "bin" / "ffmpeg"
    exe.parent.mkdir()
    exe.write_text(FAKE_FFMPEG)
    exe.chmod(0o755)
    monkeypatch.setenv("IMAGEIO_FFMPEG_EXE", str(exe))  # imageio-ffmpeg's public override
    out = tmp_path / "out"
    out.mkdir()
    return out


def test_ffmpeg_dying_mid_encode_is_an_export_error_and_leaves_nothing(
    qtbot: QtBot, dying_ffmpeg: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NNDYN_FAKE_FFMPEG", "early")
    with pytest.raises(ExportError) as info:
        export(tiny_run(), ExportOptions(str(dying_ffmpeg / "talk.mp4"), **LONG_MP4))
    assert "\n" not in str(info.value) and "talk.mp4" in str(info.value)
    assert list(dying_ffmpeg.iterdir()) == []


def test_ffmpeg_failing_after_the_last_frame_is_an_export_error(
    qtbot: QtBot, dying_ffmpeg: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NNDYN_FAKE_FFMPEG", "late")
    with pytest.raises(ExportError) as info:
        export(tiny_run(), ExportOptions(str(dying_ffmpeg / "talk.mp4"), **SHORT_MP4))
    assert "Conversion failed!" in str(info.value)  # ffmpeg's own words reach the user
    assert list(dying_ffmpeg.iterdir()) == []


def test_cancelled_export_leaves_nothing(qtbot: QtBot, tmp_path: Path) -> None:
    cancel = threading.Event()
    seen: list[int] = []

    def progress(done: int, total: int) -> None:
        seen.append(done)
        if done == 5:
            cancel.set()

    with pytest.raises(ExportError):
        export(tiny_run(), ExportOptions(str(tmp_path / "a.mp4"), **LONG_MP4), progress, cancel)
    assert max(seen) < 10 and list(tmp_path.iterdir()) == []


# ---------------------------------------------------------------------- no OpenGL
def _width3_run_without_opengl(qtbot: QtBot, monkeypatch: pytest.MonkeyPatch) -> Any:
    """A width-3 run with OpenGL reported missing: its layer view must be the 2-D one."""
    from nndyn_gui.render.scene import FlowScene, ViewOptions
    from nndyn_gui.render.view2d import LayerView2D

    monkeypatch.setattr(views, "opengl_available", lambda: False)
    run = tiny_run(model__width=3)
    assert run.weights is not None
    scene = FlowScene.build(run.config, run.weights, run.dataset, ViewOptions(), dims=3)
    view = views.make_layer_view(scene)
    qtbot.addWidget(view)
    assert isinstance(view, LayerView2D)
    return run


def test_no_opengl_falls_back_to_2d_view_and_export(
    qtbot: QtBot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run = _width3_run_without_opengl(qtbot, monkeypatch)
    target = tmp_path / "orbit.png"
    ex = export_mod.Exporter(
        run, ExportOptions(str(target), content="layers", width=200, height=150)
    )
    assert export_mod.NO_GL_WARNING in ex.warnings
    assert ex.finish() == target and target.stat().st_size > 0


@pytest.mark.gl
def test_no_opengl_on_a_real_display_falls_back_to_2d(
    qtbot: QtBot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Under Xvfb OpenGL works; pretending it does not must still give a working 2-D view."""
    if not views.opengl_available():
        pytest.skip("no OpenGL on this display")
    run = _width3_run_without_opengl(qtbot, monkeypatch)
    target = tmp_path / "orbit.mp4"
    opts = ExportOptions(str(target), content="orbit", **SHORT_MP4)
    ex = export_mod.Exporter(run, opts)
    assert export_mod.NO_GL_WARNING in ex.warnings
    assert ex.finish() == target and _mp4_is_playable(target)


# ---------------------------------------------------------------------- training worker
@pytest.fixture
def controller(qtbot: QtBot) -> Iterator[Any]:
    from nndyn_gui.ui.state import AppState
    from nndyn_gui.ui.training.controller import TrainController

    state = AppState(tiny_config(train__steps=100_000))
    ctrl = TrainController(state)
    yield ctrl
    ctrl.shutdown()


def test_stop_pressed_repeatedly_ends_training_once(qtbot: QtBot, controller: Any) -> None:
    state = controller.state
    ended: list[object] = []
    controller.finished.connect(ended.append)
    with qtbot.waitSignal(controller.finished, timeout=60_000):
        controller.start()
        qtbot.waitUntil(lambda: len(state.snapshots) > 1, timeout=60_000)
        for _ in range(20):
            controller.stop()
            qtbot.wait(1)
    qtbot.wait(200)
    controller.stop()  # after the end: a no-op
    assert len(ended) == 1 and controller.result.status == "cancelled"
    assert state.training_state == "idle" and not controller.is_running()
    assert state.snapshots[-1].weights.is_finite()


def test_stop_while_loading_then_train_again(qtbot: QtBot, controller: Any) -> None:
    with qtbot.waitSignal(controller.finished, timeout=60_000):
        controller.start()
        controller.stop()
        controller.stop()
    assert controller.result.status == "cancelled"
    with qtbot.waitSignal(controller.finished, timeout=60_000):
        assert controller.start()
        qtbot.waitUntil(lambda: len(controller.state.snapshots) > 1, timeout=60_000)
        controller.stop()
    assert controller.state.training_state == "idle"


def test_worker_exception_is_shown_with_details_and_training_works_again(
    qtbot: QtBot, controller: Any
) -> None:
    from engine_faults import trainer_raises_once

    controller.session.initializer = trainer_raises_once  # runs in the worker
    with qtbot.waitSignal(controller.failed, timeout=60_000) as blocker:
        controller.start()
    message, details = blocker.args
    assert "simulated crash" in message and "\n" not in message
    assert "Traceback" in details and "explode_once" in details  # the details show where
    assert controller.state.training_state == "idle" and not controller.is_running()
    pid = controller.worker_pid()
    with qtbot.waitSignal(controller.finished, timeout=60_000):
        assert controller.start()
        qtbot.waitUntil(lambda: len(controller.state.snapshots) > 1, timeout=60_000)
        controller.stop()
    assert controller.result.status == "cancelled"
    assert controller.worker_pid() == pid  # the same worker: an exception does not kill it


def test_tensorflow_missing_is_a_clear_message(qtbot: QtBot, controller: Any) -> None:
    from engine_faults import tensorflow_missing

    controller.session.initializer = tensorflow_missing
    versions: list[dict[str, str]] = []
    controller.workerReady.connect(versions.append)
    with qtbot.waitSignal(controller.failed, timeout=60_000) as blocker:
        controller.start()
    assert blocker.args[0].startswith("TensorFlow cannot be loaded")
    assert versions == [{}]  # the window says "TensorFlow unavailable"
    assert controller.state.training_state == "idle"


def test_a_tensorflow_abort_in_the_worker_is_reported(qtbot: QtBot, controller: Any) -> None:
    from engine_faults import trainer_aborts

    controller.session.initializer = trainer_aborts
    with qtbot.waitSignal(controller.failed, timeout=60_000) as blocker:
        controller.start()
    assert "stopped unexpectedly" in blocker.args[0] and "SIGABRT" in blocker.args[0]
    assert controller.state.training_state == "idle" and not controller.is_running()
    controller.session.initializer = None
    with qtbot.waitSignal(controller.finished, timeout=60_000):
        assert controller.start()  # a new worker
        qtbot.waitUntil(lambda: len(controller.state.snapshots) > 1, timeout=60_000)
        controller.stop()


# ---------------------------------------------------------------------- closing mid-export
def _encoder_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "nndyn-encoder" and t.is_alive()]


def _start_dialog_export(qtbot: QtBot, target: Path, parent: Any = None) -> Any:
    from nndyn_gui.ui.export_dialog import ExportDialog
    from nndyn_gui.ui.state import AppState

    state = AppState(tiny_config())
    dialog = ExportDialog(state, parent)
    if parent is None:
        qtbot.addWidget(dialog)
    assert dialog.start_export(ExportOptions(str(target), **LONG_MP4))
    qtbot.waitUntil(lambda: dialog.exporter is not None and dialog.exporter.progress[0] >= 5)
    return dialog


def test_closing_the_export_dialog_mid_export_leaves_nothing(qtbot: QtBot, tmp_path: Path) -> None:
    dialog = _start_dialog_export(qtbot, tmp_path / "talk.mp4")
    with qtbot.waitSignal(dialog.failed, timeout=10_000) as blocker:
        dialog.close()
    assert "cancelled" in blocker.args[0]
    qtbot.waitUntil(lambda: _encoder_threads() == [], timeout=10_000)
    assert list(tmp_path.iterdir()) == []


def test_window_destroyed_mid_export_leaves_nothing(qtbot: QtBot, tmp_path: Path) -> None:
    from PySide6.QtWidgets import QWidget
    from shiboken6 import delete

    window = QWidget()
    dialog = _start_dialog_export(qtbot, tmp_path / "talk.mp4", parent=window)
    exporter = dialog.exporter
    try:
        delete(window)  # what happens to child dialogs when the main window goes away
        qtbot.wait(300)
        assert _encoder_threads() == []
        assert list(tmp_path.iterdir()) == []
    finally:
        with contextlib.suppress(Exception):  # do not leak the thread into other tests
            exporter.abort()
