"""Undo for a dropped trained run: a slider nudge, Reset or Train never costs it for good.

Asking "discard the trained run?" on every nudge of a slider would make experimenting a
chore; instead the run that was dropped is kept (one of them, see discard_rules.UndoSlot)
and Run → Bring back … (Ctrl+Z) restores it with its config, data and snapshots. The
status bar says what was dropped and offers the same in a button.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Qt, Signal, Slot
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QToolButton, QWidget

from nndyn_gui.ui.discard_rules import DiscardedRun, UndoSlot
from nndyn_gui.ui.state import AppState

UNDO_KEY = QKeySequence.StandardKey.Undo
MESSAGE_MS = 12_000


class DiscardUndo(QObject):
    """Keeps the last run AppState dropped; `action` / `button` bring it back."""

    restored = Signal(object)  # the DiscardedRun now on screen again
    message = Signal(str)  # a line for the status bar

    def __init__(self, state: AppState, parent: QWidget) -> None:
        super().__init__(parent)
        self.state = state
        self.slot = UndoSlot()
        self._restoring = False
        self.action = QAction("Bring back the discarded run", parent)
        self.action.setShortcut(QKeySequence(UNDO_KEY))
        self.action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        self.action.triggered.connect(self.undo)
        parent.addAction(self.action)
        self.button = QToolButton()
        self.button.setDefaultAction(self.action)
        self.button.setAutoRaise(True)
        state.runDiscarded.connect(self._on_discarded)
        state.trainingStateChanged.connect(self._update)
        self._update()

    # ------------------------------------------------------------------ public
    def lend_key(self, lent: bool) -> None:
        """Draw mode takes Ctrl+Z for its strokes (one key, one action at a time: Qt fires
        neither of two enabled actions that share a key); the menu item stays."""
        self.action.setShortcut(QKeySequence() if lent else QKeySequence(UNDO_KEY))

    def available(self) -> DiscardedRun | None:
        return self.slot.available

    @Slot()
    def undo(self) -> bool:
        """Show the kept run again; the trained run it replaces is kept in its place."""
        kept = self.slot.available
        if kept is None:
            return False
        if self.state.training_state != "idle":
            self.message.emit("Stop training first: the discarded run can come back afterwards.")
            return False
        current = self.state.discardable(f"brought back the run of step {kept.step:,}")
        self.slot.swap(current)
        self._restoring = True
        try:
            self.state.load_run(kept.run)
            self.state.set_dirty(kept.unsaved)
        finally:
            self._restoring = False
        self._update()
        self.message.emit(f"Brought back the trained run (step {kept.step:,}).")
        self.restored.emit(kept)
        return True

    # ------------------------------------------------------------------ internals
    @Slot(object)
    def _on_discarded(self, discarded: DiscardedRun) -> None:
        if self._restoring:
            return
        self.slot.keep(discarded)
        self._update()
        saved = "unsaved " if discarded.unsaved else ""
        key = self.action.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
        how = key or "Run → Bring back"  # Draw mode holds Ctrl+Z for its strokes
        self.message.emit(
            f"{discarded.reason}: the {saved}trained run (step {discarded.step:,}) was "
            f"put aside — {how} brings it back."
        )

    @Slot()
    def _update(self, *_: object) -> None:
        kept = self.slot.available
        idle = self.state.training_state == "idle"
        self.action.setEnabled(kept is not None and idle)
        self.button.setVisible(kept is not None)
        if kept is None:
            self.action.setText("Bring back the discarded run")
            self.action.setToolTip("Nothing to bring back")
            return
        self.action.setText(f"Bring back the run of step {kept.step:,}")
        self.action.setToolTip(f"{kept.reason}: bring back the trained run of step {kept.step:,}")
        self.button.setText("Undo")
