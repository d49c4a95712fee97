"""The row under the main view in Draw mode: the class to draw, Undo / Redo, Clear, Export CSV.

Why it exists: drawing data is its own small tool (ui/draw_tool.py edits the data set);
this row is how the user drives it, and its Ctrl+Z / Ctrl+Shift+Z live only while
drawing, so Run → Bring back can lend its key and no two actions ever share one.

The class buttons are big swatches in the class colours (a lecturer picks one in front
of a hall), and the keys 0-5 pick them while drawing: key k is class k, as the buttons,
the legend and the rest of the app number the classes (0 and 1 for two; up to
MAX_CLASSES = 6). Like the undo keys, they exist only in Draw mode, so a digit typed
into the parameter panel stays a digit.
"""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt, Signal, Slot
from PySide6.QtGui import QAction, QColor, QIcon, QKeySequence, QPainter, QPixmap
from PySide6.QtWidgets import (
    QButtonGroup,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QSizePolicy,
    QToolButton,
    QWidget,
)

from nndyn_gui.core.config import MAX_CLASSES
from nndyn_gui.render.palette import palette_for
from nndyn_gui.ui.draw_tool import DrawTool
from nndyn_gui.ui.state import AppState

SWATCH_PX = 18  # the class buttons' colour discs


def _swatch(rgb: tuple[int, int, int]) -> QIcon:
    """A filled disc in a class colour, with a dark rim (visible on any background)."""
    pix = QPixmap(SWATCH_PX, SWATCH_PX)
    pix.fill(Qt.GlobalColor.transparent)
    p = QPainter(pix)
    try:
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.setPen(QColor(40, 40, 40))
        p.setBrush(QColor(*rgb))
        p.drawEllipse(1, 1, SWATCH_PX - 2, SWATCH_PX - 2)
    finally:
        p.end()
    return QIcon(pix)


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
        self.act_class: list[QAction] = []
        for k in range(MAX_CLASSES):  # a third class drawn makes K = 3 (softmax head)
            btn = QToolButton()
            btn.setText(str(k))
            btn.setCheckable(True)
            btn.setAutoRaise(True)
            btn.setIcon(_swatch(pal.class_color(k)[:3]))
            btn.setIconSize(QSize(SWATCH_PX, SWATCH_PX))
            btn.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
            btn.setStyleSheet("QToolButton { font-weight: bold; padding: 1px 4px; }")
            more = " (K becomes the highest class drawn + 1)" if k > 1 else ""
            btn.setToolTip(f"new points get class {k} (key {k}){more}")
            self.draw_class.addButton(btn, k)
            lay.addWidget(btn)
            act = QAction(f"Draw class {k}", host)
            act.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            act.triggered.connect(btn.click)
            act.setEnabled(False)
            host.addAction(act)
            self.act_class.append(act)
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
        hint = QLabel(
            f"keys 0–{MAX_CLASSES - 1}: class · click: add · shift/right-click: remove · "
            "drag: paint (shift/right: erase)"
        )
        hint.setStyleSheet("color: #6B6F76;")
        hint.setToolTip(hint.text())
        # clipped rather than widening the window (the row is as wide as the view)
        hint.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
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
        """Shown, and Ctrl+Z / Ctrl+Shift+Z and the class keys bound, only while drawing."""
        self.setVisible(on)
        for act, key in ((self.act_undo_draw, QKeySequence.StandardKey.Undo),
                         (self.act_redo_draw, QKeySequence.StandardKey.Redo)):  # fmt: skip
            act.setShortcuts(QKeySequence.keyBindings(key) if on else [])
        for k, act in enumerate(self.act_class):
            act.setShortcut(QKeySequence(str(k)) if on else QKeySequence())
            act.setEnabled(on)
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
