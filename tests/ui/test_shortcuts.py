"""Every key does one thing: no two actions of the window share a key sequence.

Qt calls two enabled actions with the same key in one window "ambiguous" and fires
neither, so a shared key is a dead key (Ctrl+N was File → New and Run → Step).
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMenu


def _all_actions(window: Any) -> set[QAction]:
    """Every QAction the window owns or shows: its own, its children's, every menu's."""
    found: set[QAction] = set(window.actions()) | set(window.findChildren(QAction))
    menus = list(window.findChildren(QMenu))
    while menus:
        menu = menus.pop()
        for act in menu.actions():
            found.add(act)
            if act.menu() is not None:
                menus.append(act.menu())
    return found


def test_no_two_actions_share_a_key(window: Any) -> None:
    keys: dict[str, list[str]] = defaultdict(list)
    for act in _all_actions(window):
        for seq in act.shortcuts():
            if not seq.isEmpty():
                keys[seq.toString(QKeySequence.SequenceFormat.PortableText)].append(
                    act.text().replace("&", "")
                )
    shared = {k: names for k, names in keys.items() if len(names) > 1}
    assert not shared, f"keys bound to more than one action: {shared}"
    assert len(keys) >= 15  # the walk really saw the window's actions


def test_the_step_key_steps(qtbot: Any, window: Any) -> None:
    """The documented Step key reaches Run → Step (it was dead while shared with New)."""
    key = window.act_step.shortcut()
    assert not key.isEmpty() and key != QKeySequence(QKeySequence.StandardKey.New)
    hits: list[bool] = []
    window.act_step.triggered.disconnect()  # count, do not start a training process
    window.act_step.triggered.connect(lambda *_: hits.append(True))
    window.activateWindow()
    qtbot.keyClick(window, key[0].key(), key[0].keyboardModifiers())
    assert hits == [True]
    new_hits: list[bool] = []
    window.act_new.triggered.disconnect()
    window.act_new.triggered.connect(lambda *_: new_hits.append(True))
    qtbot.keyClick(window, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    assert new_hits == [True] and hits == [True]


def _shared_keys(window: Any) -> dict[str, list[str]]:
    keys: dict[str, list[str]] = defaultdict(list)
    for act in _all_actions(window):
        for seq in act.shortcuts():
            if not seq.isEmpty():
                keys[seq.toString(QKeySequence.SequenceFormat.PortableText)].append(act.text())
    return {k: names for k, names in keys.items() if len(names) > 1}


def test_in_draw_mode_ctrl_z_undoes_the_stroke_and_bring_back_lends_its_key(
    window: Any,
) -> None:
    """Draw mode and Run → Bring back both want Ctrl+Z: one of them holds it at a time."""
    undo = QKeySequence(QKeySequence.StandardKey.Undo)
    assert window.undo.action.shortcut() == undo
    window.layer_panel.set_drawing(True)
    assert not _shared_keys(window)
    assert undo in window.layer_panel.act_undo_draw.shortcuts()
    assert window.undo.action.shortcut().isEmpty()
    window.layer_panel.set_drawing(False)
    assert not _shared_keys(window)
    assert window.undo.action.shortcut() == undo
    assert not window.layer_panel.act_undo_draw.shortcuts()
