"""A preset file that cannot be read (issue 20, item 6): the menu says so and the log keeps it."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QMenu
from pytestqt.qtbot import QtBot

from nndyn_gui.core.io.presets import PresetError
from nndyn_gui.ui import presets_menu


def test_a_broken_preset_file_is_shown_in_the_menu_and_logged(
    qtbot: QtBot, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken() -> None:
        raise PresetError("preset 'ring' cannot be read: Expecting value")

    monkeypatch.setattr(presets_menu, "grouped_presets", broken)
    menu = QMenu()
    assert presets_menu.fill_presets_menu(menu, lambda _name: None) == {}
    [action] = menu.actions()
    assert "cannot be read" in action.text() and not action.isEnabled()
    warned = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert any("cannot be read" in m for m in warned), warned
