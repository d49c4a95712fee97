"""Presentation mode: the view alone, full screen, sized for a projector; its keys."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDockWidget

from nndyn_gui.core.types import Snapshot


def _trained(window: Any) -> None:
    state = window.state
    for step in (50, 100):
        state.append_snapshot(Snapshot(step, 0.3, 0.9, 0.85, state.weights.copy()))
    window.layer_panel.wait_idle()


def test_f11_shows_the_view_alone_full_screen_sized_for_a_projector(
    qtbot: Any, window: Any
) -> None:
    layer = window.layer_panel
    window.activateWindow()
    qtbot.keyClick(window, Qt.Key.Key_F11)
    assert window.presentation.active and window.isFullScreen()
    docks = window.findChildren(QDockWidget)
    assert docks and not any(d.isVisible() for d in docks)
    assert not window.menuBar().isVisible() and not window.statusBar().isVisible()
    assert not window.toolbar.isVisible() and not layer.controls_box.isVisible()
    screen = window.screen().geometry()
    area = screen.width() * screen.height() / (1280 * 720)
    assert layer.options().scale == max(1.5, 1.5 * area**0.5)  # a 720p export's, or more
    assert layer.view.options().scale == layer.options().scale  # the view draws it so
    assert window.presentation.hint.isVisible()  # how to get out, for a moment
    qtbot.keyClick(window, Qt.Key.Key_Escape)
    assert not window.presentation.active and not window.isFullScreen()
    assert window.docks["params"].isVisible() and window.menuBar().isVisible()
    assert layer.controls_box.isVisible() and layer.options().scale == 1.0
    assert not window.presentation.hint.isVisible()


def test_presentation_keys_step_layers_and_snapshots_and_play(qtbot: Any, window: Any) -> None:
    _trained(window)
    layer, state = window.layer_panel, window.state
    layer.set_time(0.0)
    window.presentation.enter()
    window.activateWindow()
    fpl = layer.scene.frames_per_layer
    qtbot.keyClick(window, Qt.Key.Key_Right)
    qtbot.keyClick(window, Qt.Key.Key_Right)
    assert layer.time() == 2 * fpl
    qtbot.keyClick(window, Qt.Key.Key_Left)
    assert layer.time() == fpl
    assert state.current is state.snapshots[-1]
    qtbot.keyClick(window, Qt.Key.Key_PageUp)
    assert state.current is state.snapshots[-2]
    qtbot.keyClick(window, Qt.Key.Key_PageDown)
    assert state.current is state.snapshots[-1]
    qtbot.keyClick(window, Qt.Key.Key_Space)
    assert layer.is_playing()
    qtbot.keyClick(window, Qt.Key.Key_Space)
    assert not layer.is_playing()
    window.presentation.leave()


def test_arrow_keys_stay_with_the_sliders_outside_presentation(qtbot: Any, window: Any) -> None:
    layer = window.layer_panel
    assert not any(a.isEnabled() for a in window.presentation.nav_actions)
    layer.set_time(0.0)
    spin = window.param_panel.controls["model.depth"].spin
    spin.setFocus()
    before = spin.value()
    qtbot.keyClick(spin, Qt.Key.Key_Up)
    assert spin.value() == before + 1 and layer.time() == 0.0


def test_presentation_names_the_run_and_the_step_it_shows(
    qtbot: Any, window: Any, changed: Any
) -> None:
    """Without the window's bars the audience still reads what it sees: the run's title
    (the narrator's, from the config) and the step drawn with its test accuracy, which
    follow PgUp / PgDn and an edit; gone when the presentation ends."""
    from nndyn_gui.core.analysis.narrator import run_title

    _trained(window)
    state, pres = window.state, window.presentation
    assert not pres.caption.isVisible() and not pres.title.isVisible()
    pres.enter()
    window.activateWindow()
    caption, title = pres.caption, pres.title
    assert caption.isVisible() and title.isVisible() and pres.legend.isVisible()
    assert title.text() == run_title(state.config)
    assert caption.text() == "step 100 · test 85.0%"
    assert "class 0" in pres.legend.text() and "class 1" in pres.legend.text()
    qtbot.keyClick(window, Qt.Key.Key_PageUp)
    qtbot.waitUntil(lambda: state.shown is state.snapshots[-2], timeout=5000)
    assert caption.text() == "step 50 · test 85.0%"
    state.set_config(changed(state.config, model__depth=3))  # a new run: untrained
    window.layer_panel.wait_idle()
    qtbot.waitUntil(lambda: "untrained (step 0)" in caption.text(), timeout=5000)
    assert title.text() == run_title(state.config)
    assert "depth 3" in title.text()
    pres.leave()
    assert not caption.isVisible() and not title.isVisible()
