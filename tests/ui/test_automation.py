"""`nndyn-gui --preset ... --train --screenshot F --quit` and its argument errors."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PySide6.QtGui import QImage

from nndyn_gui.ui.app import main

ROOT = Path(__file__).resolve().parents[2]


def _env(tmp_path: Path) -> dict[str, str]:
    """Offscreen, with private settings and autosave folders (never the user's own)."""
    return dict(
        os.environ,
        QT_QPA_PLATFORM="offscreen",
        NNDYN_SETTINGS_DIR=str(tmp_path / "settings"),
        NNDYN_AUTOSAVE_DIR=str(tmp_path / "autosave"),
        TF_CPP_MIN_LOG_LEVEL="3",
    )


def _run(args: list[str], tmp_path: Path, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "nndyn_gui", *args],
        cwd=ROOT,
        env=_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def test_train_and_screenshot_then_quit(tmp_path: Path) -> None:
    png = tmp_path / "window.png"
    out = _run(
        [
            "--preset", "resnet-w2-ring",
            "--set", "train.steps=400", "--set", "data.n=300", "--set", "model.depth=8",
            "--train", "--screenshot", str(png), "--quit", "--size", "1400x900",
        ],
        tmp_path,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr[-3000:]
    img = QImage(str(png))
    assert img.width() == 1400 and img.height() == 900
    img = img.convertToFormat(QImage.Format.Format_RGB32)
    arr = np.frombuffer(img.constBits(), np.uint8).reshape(900, img.bytesPerLine())[:, : 1400 * 4]
    assert arr.std() > 20  # not blank
    assert len(np.unique(arr.reshape(-1, 4)[::7], axis=0)) > 50  # many colours: plots drawn


def test_bad_arguments_exit_2_with_a_message(capsys: object, tmp_path: Path) -> None:
    assert main(["--preset", "no-such-preset", "--quit"]) == 2
    err = capsys.readouterr().err  # type: ignore[attr-defined]
    assert "no-such-preset" in err and "resnet-w3-ring" in err
    assert main(["--set", "model.width=1000", "--quit"]) == 2
    assert "model.width" in capsys.readouterr().err  # type: ignore[attr-defined]
    assert main(["--set", "nonsense", "--quit"]) == 2
    assert main(["--open", str(tmp_path / "missing.nndyn"), "--quit"]) == 2


def test_bad_set_in_a_subprocess_exits_2(tmp_path: Path) -> None:
    out = _run(["--preset", "resnet-w2-ring", "--set", "model.depth=0", "--quit"], tmp_path)
    assert out.returncode == 2 and "model.depth" in out.stderr


@pytest.mark.timing
def test_sigterm_while_training_exits_0_and_keeps_the_run(tmp_path: Path) -> None:
    """Closing during training (here: SIGTERM, as at logout) stops the worker and exits
    cleanly; the unsaved run stays in the autosave, so the next start offers it."""
    import signal
    import time

    from nndyn_gui.ui.autosave import pending_restore

    args = ["--preset", "resnet-w2-ring", "--set", "train.steps=1000000", "--train"]
    proc = subprocess.Popen(
        [sys.executable, "-m", "nndyn_gui", *args],
        cwd=ROOT,
        env=_env(tmp_path),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 90
        autosaves = tmp_path / "autosave"
        # the first autosave is written ~5 s into training: training is really running
        while not list(autosaves.glob("*.nndyn")) and time.monotonic() < deadline:
            assert proc.poll() is None, proc.communicate()[1][-3000:]
            time.sleep(0.2)
        assert list(autosaves.glob("*.nndyn")), "training never autosaved"
        t0 = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        _out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err[-3000:]
    assert time.monotonic() - t0 < 20
    for bad in ("Fatal Python error", "Traceback", "Aborted", "QThread: Destroyed"):
        assert bad not in err, err[-3000:]
    assert pending_restore(autosaves) is not None  # the run is offered next time


def test_no_3d_unticks_3d_so_a_width3_net_shows_the_exact_projection(
    qtbot: Any, small_config: Any, changed: Any
) -> None:
    """`--no-3d` unticks 3-D: a screenshot shows the projection with its exact line and no
    notice promising a 3-D view."""
    from nndyn_gui.render.view2d import LayerView2D
    from nndyn_gui.ui.app import apply_view_options, build_parser
    from nndyn_gui.ui.main_window import MainWindow
    from nndyn_gui.ui.state import AppState

    win = MainWindow(
        AppState(changed(small_config, model__width=3)), preload_tf=False, autosave=False
    )
    win.no_prompt = True
    qtbot.addWidget(win)
    panel = win.layer_panel
    panel.wait_idle()
    assert panel.view.notice()  # 3-D wanted, not available yet: the view says why
    apply_view_options(win, build_parser().parse_args(["--no-3d"]))
    panel.wait_idle()
    assert not panel.check_3d.isChecked() and isinstance(panel.view, LayerView2D)
    assert panel.view.flow_scene().projection.kind == "head"
    assert panel.view.notice() == ""  # not "3-D view opens once TensorFlow has loaded…"
    win.close()
