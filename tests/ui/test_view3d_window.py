"""Width-3 nets get the rotatable OpenGL view in the window (needs X: run under Xvfb)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from . import procs

pytestmark = pytest.mark.gl


def _width3(window: Any, changed: Any) -> Any:
    """Skip without OpenGL; else the window switched to width 3 (3-D), its layer panel."""
    from nndyn_gui.render.views import opengl_available

    if not opengl_available():
        pytest.skip("no OpenGL here")
    window.state.set_config(changed(window.state.config, model__width=3))
    return window.layer_panel


def test_width3_training_shows_the_3d_view(qtbot: Any, window: Any, changed: Any) -> None:
    from nndyn_gui.render.views import capture

    layer = _width3(window, changed)
    layer.wait_idle()
    assert type(layer.view).__name__ == "LayerView3D"
    view = layer.view
    with qtbot.waitSignal(window.controller.finished, timeout=60_000):
        window.train()
    layer.wait_idle()
    assert layer.view is view  # same dims: the view is kept, only its scene changes
    assert layer.scene.source[1] is window.state.snapshots[-1].weights
    layer.show_last_layer()
    img = capture(view, 320, 240)
    assert img.shape == (240, 320, 4) and img[..., :3].std() > 10
    _screenshot_has_the_3d_labels(window, view)
    view.reset_camera()
    window.state.set_config(changed(window.state.config, model__width=2))
    layer.wait_idle()
    assert type(layer.view).__name__ == "LayerView2D"  # dims changed: view rebuilt
    assert np.isfinite(layer.scene.points).all()


def _screenshot_has_the_3d_labels(window: Any, view: Any) -> None:
    """A GL widget's grab() drops the labels its paintGL draws; the window screenshot
    (automation, docs) paints them again, so the layer title is in the picture."""
    from PySide6.QtCore import QPoint

    from nndyn_gui.render.views import grab_with_overlays, qimage_to_rgba

    corner = view.mapTo(window, QPoint(0, 0))
    x, y = corner.x(), corner.y()
    plain = qimage_to_rgba(window.grab().toImage())[y : y + 30, x : x + 200, :3]
    shot = qimage_to_rgba(grab_with_overlays(window).toImage())[y : y + 30, x : x + 200, :3]
    dark = np.array(view._pal.foreground[:3]).astype(int)
    darker = (np.abs(shot.astype(int) - dark).sum(-1) < 80).sum()
    assert darker > (np.abs(plain.astype(int) - dark).sum(-1) < 80).sum() + 30  # title text


def test_the_app_with_its_3d_view_never_loads_tensorflow_its_worker_does(tmp_path: Path) -> None:
    """The app trains the width-3 preset with the OpenGL view open: Mesa's LLVM may be in
    the window's process, TensorFlow (its own LLVM) only in the worker's. (Loading both
    in one process crashed; this is what keeps them apart.)"""
    env = dict(
        os.environ,
        NNDYN_SETTINGS_DIR=str(tmp_path / "settings"),
        NNDYN_AUTOSAVE_DIR=str(tmp_path / "autosave"),
        TF_CPP_MIN_LOG_LEVEL="3",
    )
    args = ["--preset", "resnet-w3-ring", "--set", "train.steps=1000000", "--train"]
    proc = subprocess.Popen(
        [sys.executable, "-m", "nndyn_gui", *args, "--size", "1000x700"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 120
        # the first autosave is written ~5 s into training: it is really training
        while not list((tmp_path / "autosave").glob("*.nndyn")):
            assert proc.poll() is None, proc.communicate()[1][-3000:]
            assert time.monotonic() < deadline, "training never autosaved"
            time.sleep(0.2)
        gui = procs.maps(proc.pid)
        workers = [c for c in procs.children(proc.pid) if "libtensorflow" in procs.maps(c)]
        assert "libtensorflow" not in gui
        assert "libGL" in gui  # the window drew with OpenGL
        assert len(workers) == 1  # one training process, and it has TensorFlow
        proc.send_signal(signal.SIGTERM)
        _out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err[-3000:]
    assert not any(os.path.exists(f"/proc/{w}/maps") and procs.alive(w) for w in workers)


def test_selection_and_options_survive_2d_3d_toggles(qtbot: Any, window: Any, changed: Any) -> None:
    from PySide6.QtCore import QRectF

    layer = _width3(window, changed)
    layer.check_3d.setChecked(False)
    layer.wait_idle()
    assert type(layer.view).__name__ == "LayerView2D"
    layer.checks["show_trajectories"].click()
    layer.view._on_pick_rect(QRectF(-2.0, -2.0, 1.5, 4.0), False)  # a user's shift-drag
    picked = layer.selection()
    assert 0 < len(picked) < layer.scene.points.shape[1]
    layer.check_3d.setChecked(True)
    layer.wait_idle()
    view3 = layer.view
    assert type(view3).__name__ == "LayerView3D"
    assert set(layer.scene.indices[view3.selection()]) == set(picked)
    assert view3.selected_item.visible() and view3.options().show_trajectories
    layer.check_3d.setChecked(False)
    layer.wait_idle()
    assert set(layer.scene.indices[layer.view.selection()]) == set(picked)


def test_all_layers_draws_3d_tiles_that_follow_the_main_camera(
    qtbot: Any, window: Any, changed: Any
) -> None:
    from nndyn_gui.render.palette import WHITE
    from nndyn_gui.render.views import qimage_to_rgba

    layer = _width3(window, changed)
    layer.wait_idle()
    from tests.ui.test_all_layers import _shown

    sm = _shown(window, 1200, 260)
    qtbot.wait(50)  # the dock's layout settles
    assert sm.is_3d() and sm.caption.text().startswith("3-D view")
    assert min(t.height() for t in sm.panels) >= 120
    tile = sm.panels[-1]
    img = qimage_to_rgba(tile.pixmap().toImage())[..., :3].astype(int)
    for c in WHITE.classes:  # both classes drawn in the tile
        assert (np.abs(img - np.array(c[:3])).max(axis=-1) < 45).sum() > 10
    before = img.copy()
    layer.view.set_camera(200.0, 10.0)
    qtbot.waitUntil(lambda: sm._camera is not None and sm._camera[0] == 200.0, timeout=3000)
    while sm.updating():
        sm._step()
    after = qimage_to_rgba(sm.panels[-1].pixmap().toImage())[..., :3].astype(int)
    assert after.shape != before.shape or np.abs(after - before).mean() > 1.0  # turned too
    assert sm._renderer.camera()[:2] == (200.0, 10.0)


def test_saved_camera_views_drive_play_and_the_export_dialog(
    qtbot: Any, window: Any, changed: Any
) -> None:

    layer = _width3(window, changed)
    layer.wait_idle()
    view = layer.view
    layer.set_time(0.0)
    view.set_camera(10.0, 15.0)
    assert window.act_add_key.shortcut().toString() == "Ctrl+K"
    window.act_add_key.trigger()
    layer.show_last_layer()
    view.set_camera(100.0, 30.0)
    window.act_add_key.trigger()
    assert len(layer.camera_keys()) == 2 and window.act_clear_keys.isEnabled()
    layer.set_time(0.0)
    layer.play(True)
    seen: list[float] = []
    qtbot.waitUntil(lambda: seen.append(view.camera()[0]) or not layer.is_playing(), timeout=10_000)
    assert seen[-1] == pytest.approx(100.0)
    inner = [a for a in seen if 10.5 < a < 99.5]
    assert inner  # it passed through views in between, not a jump
    window.export()
    dlg = window._windows[-1]
    assert dlg.options().camera_keys == layer.camera_keys()
    assert "2 saved views" in dlg.camera_label.text()
    dlg.close()
    window.act_clear_keys.trigger()
    assert layer.camera_keys() == [] and not window.act_clear_keys.isEnabled()


def test_compare_links_the_two_cameras(qtbot: Any, small_config: Any) -> None:
    from nndyn_gui.render.views import opengl_available
    from nndyn_gui.ui.compare import CompareWindow
    from nndyn_gui.ui.state import AppState

    if not opengl_available():
        pytest.skip("no OpenGL here")
    cfg = small_config.copy()
    cfg.model.width = 3
    win = CompareWindow(AppState(cfg.validate()))
    qtbot.addWidget(win)
    win.resize(900, 500)
    win.show()
    win.wait_idle()
    a, b = win.views()
    assert type(a).__name__ == type(b).__name__ == "LayerView3D"
    assert a.camera()[:2] == b.camera()[:2]  # they start from one view
    a.set_camera(150.0, 35.0, zoom=1.4)
    assert b.camera()[:2] == (150.0, 35.0) and b.zoom() == pytest.approx(1.4)
    b.set_camera(20.0, 10.0)
    assert a.camera()[:2] == (20.0, 10.0)
    assert win.camera() == (20.0, 10.0, pytest.approx(1.4))
    win.close()


def test_an_opened_run_is_seen_facing_its_own_plane(
    qtbot: Any, window: Any, changed: Any, tmp_path: Path
) -> None:
    """Open a trained width-3 run: the camera turns to its plane (not the untrained one's)."""
    from nndyn_gui.core.io.runfile import save_run
    from nndyn_gui.core.types import Run, Snapshot
    from nndyn_gui.render.camera import default_angles
    from nndyn_gui.render.views import opengl_available

    if not opengl_available():
        pytest.skip("no OpenGL here")
    layer = window.layer_panel
    cfg = changed(window.state.config, model__width=3)
    window.state.set_config(cfg)
    layer.wait_idle()
    w = window.state.weights.copy()
    w.w[:] = [1.0, -1.0, 0.1]  # a plane seen edge-on from the usual angle (40°, 22°)
    path = tmp_path / "r.nndyn"
    save_run(Run(cfg, window.state.dataset, [Snapshot(100, 0.1, 1.0, 1.0, w)], "finished"), path)
    from nndyn_gui.render.scene import FlowScene

    stale = FlowScene.build(cfg, window.state.weights, window.state.dataset, layer.options())
    assert window.open_run(str(path))
    layer._apply(stale)  # a build asked before the run was opened, arriving late
    layer.wait_idle()
    want = default_angles(np.asarray(w.w))
    assert want != default_angles(stale.plane[0])
    qtbot.waitUntil(lambda: layer.view.camera()[:2] == want, timeout=5000)


def test_all_layers_follows_the_main_views_camera_before_it_ever_moves(
    qtbot: Any, window: Any, changed: Any
) -> None:
    """All layers' 3-D tiles say "as the main 3-D view's camera sees it": true from the
    first picture, not only after the user first turns the main view."""
    layer = _width3(window, changed)
    layer.wait_idle()
    assert type(layer.view).__name__ == "LayerView3D"
    tiles = window.multiples.multiples
    cam = layer.camera()
    assert cam is not None
    qtbot.waitUntil(lambda: tiles.is_3d() and tiles._camera == cam, timeout=5000)
    assert tiles.caption.text() == "3-D view, as the main 3-D view's camera sees it"
    window.state.set_config(changed(window.state.config, model__width=2))  # main view 2-D
    layer.wait_idle()
    qtbot.waitUntil(lambda: tiles._camera is None, timeout=5000)
    assert "main 3-D view's camera" not in tiles.caption.text()
