"""The row under the main view in Draw mode: the class to draw, Undo / Redo, Clear, Export CSV.

Why it exists: drawing data is its own small tool (ui/draw_tool.py edits the data set);
this row is how the user drives it, and its Ctrl+Z / Ctrl+Shift+Z live only while
drawing, so Run → Bring back can lend its key and no two actions ever share one.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QButtonGroup,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QRadioButton,
    QToolButton,
    QWidget,
)

from nndyn_gui.core.config import MAX_CLASSES
from nndyn_gui.render.palette import palette_for
from nndyn_gui.ui.draw_tool import DrawTool
from nndyn_gui.ui.state import AppState


class DrawControls(QWidget):
    """Buttons for `draw_tool`; the undo / redo shortcuts act anywhere in `host`."""

    message = Signal(str)

    def __init__(self, state: AppState, host: QWidget) -> None:
        super().__init__(host)
        self.state = state
        self.draw_tool = DrawTool(state, host)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(QLabel("Draw class"))
        self.draw_class = QButtonGroup(self)
        pal = palette_for("white")
        for k in range(MAX_CLASSES):  # a third class drawn makes K = 3 (softmax head)
            btn = QRadioButton(str(k))
            more = " (K becomes the highest class drawn + 1)" if k > 1 else ""
            btn.setToolTip(f"new points get class {k}{more}")
            r, g, b, _a = pal.class_color(k)
            btn.setStyleSheet(f"QRadioButton {{ color: rgb({r}, {g}, {b}); font-weight: bold; }}")
            self.draw_class.addButton(btn, k)
            lay.addWidget(btn)
        self.draw_class.button(self.draw_tool.label).setChecked(True)
        self.draw_class.idToggled.connect(self._on_draw_class)
        self.undo_button = QToolButton()
        self.undo_button.setText("Undo")
        self.redo_button = QToolButton()
        self.redo_button.setText("Redo")
        clear = self.clear_button = QToolButton()
        clear.setText("Clear")
        clear.setToolTip("Remove every point (draw from nothing; Undo brings them back)")
        export = QToolButton()
        export.setText("Export CSV…")
        export.setToolTip("Save the points as CSV (x1, x2, label)")
        self.undo_button.clicked.connect(self.draw_tool.undo)
        self.redo_button.clicked.connect(self.draw_tool.redo)
        clear.clicked.connect(self.draw_tool.clear)
        export.clicked.connect(self.export_csv)
        for w in (self.undo_button, self.redo_button, clear, export):
            lay.addWidget(w)
        hint = QLabel("click: add · shift/right-click: remove · drag: paint (shift/right: erase)")
        hint.setStyleSheet("color: #6B6F76;")
        lay.addWidget(hint, 1)
        self.act_undo_draw = QAction("Undo drawing", host)
        self.act_redo_draw = QAction("Redo drawing", host)
        for act, fn in ((self.act_undo_draw, self.draw_tool.undo),
                        (self.act_redo_draw, self.draw_tool.redo)):  # fmt: skip
            act.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            act.triggered.connect(fn)
            act.setEnabled(False)
            host.addAction(act)
        #: tests: () -> path or "" (cancelled)
        self.ask_csv_path = lambda: QFileDialog.getSaveFileName(
            self, "Export drawn points", "drawn.csv", "CSV files (*.csv)"
        )[0]
        self.draw_tool.message.connect(self.message)
        self.hide()

    def set_active(self, on: bool) -> None:
        """Shown, and Ctrl+Z / Ctrl+Shift+Z bound, only while drawing."""
        self.setVisible(on)
        for act, key in ((self.act_undo_draw, QKeySequence.StandardKey.Undo),
                         (self.act_redo_draw, QKeySequence.StandardKey.Redo)):  # fmt: skip
            act.setShortcuts(QKeySequence.keyBindings(key) if on else [])
        self.refresh(on)

    def refresh(self, on: bool) -> None:
        """Undo / Redo enabled when drawing and there is something to undo / redo."""
        undo, redo = on and self.draw_tool.can_undo(), on and self.draw_tool.can_redo()
        self.undo_button.setEnabled(undo)
        self.redo_button.setEnabled(redo)
        self.act_undo_draw.setEnabled(undo)
        self.act_redo_draw.setEnabled(redo)

    @Slot()
    def export_csv(self) -> bool:
        """Export CSV…: the points as (x1, x2, label); a failure says why."""
        path = self.ask_csv_path()
        if not path:
            return False
        try:
            self.draw_tool.export_csv(path)
        except OSError as e:
            self.message.emit(f"Cannot export the points: {e.strerror or e}")
            return False
        self.message.emit(f"Exported {len(self.state.dataset.y_all):,} points to {path}")
        return True

    @Slot(int, bool)
    def _on_draw_class(self, k: int, checked: bool) -> None:
        if checked:
            self.draw_tool.label = k
