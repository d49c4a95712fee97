"""The main window: appears without TensorFlow, menus and shortcuts, settings, run files."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence

from nndyn_gui.core.types import Snapshot
from nndyn_gui.ui.layer_panel import SLIDER_RES

ROOT = Path(__file__).resolve().parents[2]


def test_window_appears_at_once_and_never_loads_tensorflow_itself(tmp_path: Path) -> None:
    """The window shows before anything heavy loads; its training process loads
    TensorFlow in the background, and the window's own process never does."""
    code = (
        "import sys, time\n"
        "from PySide6.QtWidgets import QApplication\n"
        "app = QApplication([])\n"
        "from nndyn_gui.ui.main_window import MainWindow\n"
        "w = MainWindow(autosave=False)\n"
        "w.show(); app.processEvents()\n"
        "assert w.isVisible()\n"
        "print('shown:', w.tf_label.text())\n"
        "end = time.monotonic() + 90\n"
        "while not w.tf_label.text().startswith('TensorFlow') and time.monotonic() < end:\n"
        "    app.processEvents(); time.sleep(0.02)\n"
        "print('ready:', w.tf_label.text())\n"
        "pid = w.controller.worker_pid()\n"
        "mine = open('/proc/self/maps').read()\n"
        "assert 'tensorflow' not in sys.modules and 'libtensorflow' not in mine\n"
        "assert 'libtensorflow' in open(f'/proc/{pid}/maps').read()\n"
        "w.close()\n"
        "print('ok')\n"
    )
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", NNDYN_SETTINGS_DIR=str(tmp_path))
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr[-2000:]
    lines = out.stdout.splitlines()
    assert lines[0] == "shown: Starting the training process…"
    assert lines[1].startswith("ready: TensorFlow 2.") and lines[-1] == "ok"


def test_menus_shortcuts_and_about(qtbot: Any, window: Any) -> None:
    shortcuts = {
        a.shortcut().toString(QKeySequence.SequenceFormat.PortableText)
        for a in window.actions()
        if not a.shortcut().isEmpty()
    }
    for key in ("Space", "Ctrl+T", "Ctrl+S", "Ctrl+O", "Ctrl+E", "Ctrl+Q", "F1"):
        assert key in shortcuts
    titles = [a.text().replace("&", "") for a in window.menuBar().actions()]
    assert titles == ["File", "Run", "View", "Presets", "Tools", "Help"]
    assert "resnet-w3-ring" in window.preset_actions
    box = window.about()
    assert box.isVisible() and not box.isModal()  # never blocks tests or the window
    assert np.__version__ in box.text() and "Qt" in box.text() and "TensorFlow" in box.text()
    from nndyn_gui.core.io import logs

    assert "Log file" in box.text() and str(logs.log_path() or "stderr only") in box.text()
    box.close()


def test_an_autosave_that_cannot_start_is_said_and_logged(
    qtbot: Any, small_config: Any, monkeypatch: Any, caplog: Any
) -> None:
    """Autosave used to be switched off silently: the user worked on, unprotected."""
    from nndyn_gui.ui import autosave
    from nndyn_gui.ui.main_window import MainWindow
    from nndyn_gui.ui.state import AppState

    def broken(*_a: Any, **_k: Any) -> None:
        raise PermissionError("autosave folder is read-only")

    monkeypatch.setattr(autosave, "Autosaver", broken)
    win = MainWindow(AppState(small_config), preload_tf=False, autosave=True)
    qtbot.addWidget(win)
    assert win.autosaver is None
    assert "Autosave is off" in win.statusBar().currentMessage()
    assert any("autosave could not start" in r.getMessage() for r in caplog.records)
    win.no_prompt = True
    win.close()


def test_space_plays_the_animation_smoothly(qtbot: Any, window: Any) -> None:
    layer = window.layer_panel
    layer.set_time(0.0)
    window.layer_panel.setFocus()
    qtbot.keyClick(window, Qt.Key.Key_Space)
    assert layer.is_playing()
    qtbot.waitUntil(lambda: layer.time() > 0.0, timeout=2000)
    t1 = layer.time()
    assert t1 != int(t1) or t1 < layer.t_max()  # fractional: glides between layers
    qtbot.waitUntil(lambda: not layer.is_playing(), timeout=5000)
    assert layer.time() == layer.t_max()


def test_presets_menu_loads_a_preset(window: Any) -> None:
    window.preset_actions["mlp-w2-ring"].trigger()
    cfg = window.state.config
    assert cfg.title == "mlp-w2-ring" and cfg.model.kind == "mlp" and cfg.model.width == 2
    assert window.param_panel.controls["model.kind"].value() == "mlp"
    assert not window.param_panel.controls["model.h"].isEnabled()


def test_parameters_and_layout_are_restored(qtbot: Any, window: Any) -> None:
    from nndyn_gui.ui import settings
    from nndyn_gui.ui.main_window import MainWindow

    window.param_panel.controls["model.depth"].spin.setValue(9)
    window.resize(900, 640)
    size = window.size()  # the offscreen screen is small: the window may be clamped
    window.docks["diagnostics"].close()
    window.close()
    assert settings.load_config() is not None and settings.load_config().model.depth == 9
    again = MainWindow(preload_tf=False, autosave=False)
    qtbot.addWidget(again)
    assert again.size().height() == size.height()  # width: clamped to the 800 px screen
    again.show()
    assert not again.docks["diagnostics"].isVisible() and again.docks["params"].isVisible()
    again.close()


def test_save_and_open_a_run(window: Any, tmp_path: Path) -> None:
    state = window.state
    state.append_snapshot(Snapshot(50, 0.3, 0.9, 0.85, state.weights.copy()))
    state.set_status("finished", "Finished 50 steps.")
    assert state.dirty and window.isWindowModified()
    path = tmp_path / "a.nndyn"
    assert window.save_to(str(path)) and path.exists() and not state.dirty
    state.reset()
    assert window.open_run(str(path))
    assert [s.step for s in state.snapshots] == [0, 50] and state.status == "finished"
    assert window.windowTitle().startswith("a.nndyn")


def test_file_errors_are_reported_and_nothing_is_lost(window: Any, tmp_path: Path) -> None:
    state = window.state
    before = state.config.to_json()
    junk = tmp_path / "junk.nndyn"
    junk.write_bytes(b"not a zip")
    assert not window.open_run(str(junk))
    assert window.hooked[-1][0] == "Cannot open run" and state.config.to_json() == before
    assert not window.save_to(str(tmp_path / "missing-folder" / "x.nndyn"))
    assert window.hooked[-1][0] == "Cannot save run"


def test_reset_returns_to_the_untrained_network(window: Any) -> None:
    state = window.state
    state.append_snapshot(Snapshot(50, 0.3, 0.9, 0.85, state.weights.copy()))
    window.act_reset.trigger()
    assert [s.step for s in state.snapshots] == [0] and window.acc_label.text() == "untrained"


def test_view_checkboxes_change_what_is_drawn(qtbot: Any, window: Any, changed: Any) -> None:
    """Grid/Points hide items at once; Sub-steps (MLP) rebuilds the frames off the GUI thread."""
    layer = window.layer_panel
    window.state.set_config(changed(window.state.config, model__kind="mlp"))
    layer.wait_idle()
    view, depth = layer.view, window.state.config.model.depth
    assert layer.scene.n_frames == depth + 1
    layer.checks["show_grid"].click()
    assert not view.grid_item.isVisible() and layer.options().show_grid is False
    layer.checks["show_points"].click()
    assert not any(it.isVisible() for it in view.class_items)
    layer.checks["substeps"].click()
    assert layer.options().substeps
    qtbot.waitUntil(lambda: layer.scene.n_frames == 3 * depth + 1, timeout=10_000)
    assert layer.layer_slider.maximum() == 3 * depth * SLIDER_RES  # slider spans the stages
    assert not view.grid_item.isVisible()  # the rebuilt scene keeps the other choices
    window.state.set_config(changed(window.state.config, model__kind="resnet"))
    layer.wait_idle()
    assert not layer.checks["substeps"].isEnabled() and not layer.options().substeps


def test_presets_menu_shows_titles_under_the_articles_sections(window: Any) -> None:
    from nndyn_gui.core.io.presets import SECTIONS, list_presets

    menu = window.presets_menu
    seen: list[tuple[str, str]] = []  # (section, title) in menu order
    section = ""
    for act in menu.actions():
        if act.isSeparator():
            section = act.text()
            continue
        seen.append((section, act.text()))
    infos = {p.title: p for p in list_presets()}
    assert {t for _, t in seen} == set(infos)  # titles, not file names
    assert all(not t.startswith(("mlp-", "resnet-")) for _, t in seen)
    assert all(infos[t].section == s for s, t in seen)
    order = [SECTIONS.index(s) for s, _ in seen]
    assert order == sorted(order)  # the article's order, not the alphabet's
    assert "preset mlp-w2-ring" in window.preset_actions["mlp-w2-ring"].toolTip()


def test_open_recent_lists_saved_runs_newest_first_and_opens_one(
    qtbot: Any, window: Any, tmp_path: Path
) -> None:
    state = window.state
    state.append_snapshot(Snapshot(50, 0.3, 0.9, 0.85, state.weights.copy()))
    first, second = tmp_path / "first.nndyn", tmp_path / "second.nndyn"
    assert window.save_to(str(first)) and window.save_to(str(second))
    file_menu = window.menuBar().actions()[0].menu()
    assert window.recent_menu.menuAction() in file_menu.actions()
    window.recent_menu.refresh()
    assert window.recent_menu.entries()[:2] == [str(second), str(first)]
    state.reset()
    act = next(a for a in window.recent_menu.actions() if a.data() == str(first))
    act.trigger()  # read in the background: the window goes on meanwhile
    qtbot.waitUntil(lambda: not window.document.busy())
    assert window.run_path == str(first) and [s.step for s in state.snapshots] == [0, 50]
    first.unlink()
    window.recent_menu.refresh()
    gone = next(a for a in window.recent_menu.actions() if a.data() == str(first))
    assert not gone.isEnabled() and "(missing)" in gone.text()


def test_a_nudge_that_drops_a_trained_run_can_be_undone(qtbot: Any, window: Any) -> None:
    """Changing Depth T puts the trained run aside; Ctrl+Z brings run and settings back."""
    state, panel = window.state, window.param_panel
    state.append_snapshot(Snapshot(50, 0.3, 0.9, 0.85, state.weights.copy()))
    assert not window.undo.action.isEnabled()
    panel.controls["train.learning_rate"].spin.setValue(0.02)  # keeps the pictures
    assert [s.step for s in state.snapshots] == [0, 50] and window.undo.available() is None
    panel.controls["model.depth"].spin.setValue(6)
    assert [s.step for s in state.snapshots] == [0] and state.config.model.depth == 6
    assert window.undo.action.isEnabled() and window.undo.button.isVisible()
    assert "Depth T changed" in window.statusBar().currentMessage()
    assert "step 50" in window.statusBar().currentMessage()
    window.activateWindow()
    qtbot.keyClick(window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert [s.step for s in state.snapshots] == [0, 50] and state.config.model.depth == 4
    assert panel.controls["model.depth"].value() == 4 and state.dirty
    assert window.undo.available() is None  # the untrained depth-6 net cost nothing


def test_reset_and_a_new_training_run_can_be_undone(window: Any) -> None:
    state = window.state
    state.append_snapshot(Snapshot(50, 0.3, 0.9, 0.85, state.weights.copy()))
    window.act_reset.trigger()
    assert [s.step for s in state.snapshots] == [0]
    assert window.undo.action.isEnabled()
    state.append_snapshot(Snapshot(70, 0.2, 0.95, 0.9, state.weights.copy()))  # retrained
    assert window.undo.undo()  # back to the run of step 50 ...
    assert [s.step for s in state.snapshots] == [0, 50]
    assert window.undo.available().step == 70  # ... and the step-70 run is kept instead
    state.append_snapshot(Snapshot(0, float("nan"), 0.0, 0.0, state.weights.copy()))
    assert window.undo.available().step == 50  # a new run started over the old one


def test_view_choices_and_selection_survive_a_restart(qtbot: Any, window: Any) -> None:
    from nndyn_gui.ui.main_window import MainWindow
    from nndyn_gui.ui.state import AppState

    layer = window.layer_panel
    layer.checks["show_loop"].click()
    layer.checks["show_grid"].click()
    window.act_steady.trigger()  # the view follows each layer now
    layer.set_play_speed(2.0)
    layer.set_repeat(True)
    picked = window.state.dataset.x_all.shape[0] - np.array([1, 5, 9])
    layer.set_selection(picked)
    shown = layer.view.selection()
    assert len(shown) == 3 and set(layer.scene.indices[shown]) == set(picked)
    cfg = window.state.config
    window.close()
    again = MainWindow(AppState(cfg), preload_tf=False, autosave=False)
    qtbot.addWidget(again)
    o = again.layer_panel.options()
    assert o.show_loop and not o.show_grid and not o.steady_camera
    assert not again.act_steady.isChecked()
    assert again.layer_panel.play_speed() == 2.0 and again.layer_panel.repeat()
    assert set(again.layer_panel.selection()) == set(picked)
    view = again.layer_panel.view
    assert set(again.layer_panel.scene.indices[view.selection()]) == set(picked)
    again.close()


def test_repeat_plays_again_and_speed_shortens_a_pass(qtbot: Any, window: Any) -> None:
    layer = window.layer_panel
    layer.set_play_speed(4.0)
    layer.set_repeat(True)
    layer.set_time(0.0)
    layer.play(True)
    qtbot.waitUntil(lambda: layer.time() >= layer.t_max(), timeout=3000)  # 1.5 s / 4
    qtbot.waitUntil(lambda: 0.0 < layer.time() < layer.t_max(), timeout=3000)  # again
    assert layer.is_playing()
    layer.play(False)


def test_a_first_start_on_a_small_screen_fits_the_screen(window: Any) -> None:
    """At 1280x720 (a projector) the first window was 1600x1000: the docks on the right
    and the status bar were cut off."""
    from PySide6.QtCore import QRect

    from nndyn_gui.ui.app import fit_to_screen
    from nndyn_gui.ui.main_window import DEFAULT_SIZE

    avail = QRect(0, 0, 1280, 720)
    window.resize(DEFAULT_SIZE)
    assert fit_to_screen(window, avail)
    assert window.width() <= avail.width() and window.height() <= avail.height()
    assert avail.contains(window.geometry())
    assert not fit_to_screen(window, avail)  # already fits: left alone


def test_title_bar_and_save_as_name_follow_an_edited_preset(
    window: Any, changed: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An edited preset's run is no longer the preset: the title bar and Save As's file
    name say what it is now (from core.analysis.narrator.run_title), and follow each edit."""
    from PySide6.QtWidgets import QFileDialog

    from nndyn_gui.core.io.presets import preset_title

    proposed: list[str] = []
    monkeypatch.setattr(
        QFileDialog,
        "getSaveFileName",
        lambda _parent, _caption, start, _filter: (proposed.append(start), ("", ""))[1],
    )
    assert window.load_preset("resnet-w3-ring")
    assert window.windowTitle().startswith(preset_title("resnet-w3-ring"))
    window.document.save_as()
    assert Path(proposed[-1]).name == "resnet-width-3-ring-room-to-lift-the-disk-out.nndyn"

    window.param_panel.controls["model.width"].spin.setValue(2)
    assert window.state.config.model.width == 2
    title = window.windowTitle()
    assert "width 3" not in title and preset_title("resnet-w3-ring") not in title
    assert title.startswith("ResNet, width 2, depth ") and "edited from resnet-w3-ring" in title
    window.document.save_as()
    name = Path(proposed[-1]).name
    assert name.startswith("resnet-width-2-depth-") and "width-3" not in name

    window.state.set_config(changed(window.state.config, model__width=3))  # edited back
    assert window.windowTitle().startswith(preset_title("resnet-w3-ring"))
