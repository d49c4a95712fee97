"""The Ensemble window's table: one row per member, then their min / median / max.

Why it exists: the spread over initialisations is the point of the window, so the
numbers sit beside the map, each member's row marked with its line's colour. Every row
names the snapshot its numbers belong to (the member's final step); the summary rows
say the range of steps they summarise. A double-click (or Enter) on a member's row asks
for that member in the main window (`memberActivated`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QFont, QIcon, QKeyEvent, QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QTableWidget,
    QTableWidgetItem,
    QWidget,
)

from nndyn_gui.core.analysis.ensemble_facts import SUMMARY_ROWS, MemberFacts, spread
from nndyn_gui.core.analysis.narrator import fmt, fmt_pct
from nndyn_gui.render.ensemble_picture import member_colour

COLUMNS = ("Init seed", "Step", "Train acc.", "Test acc.", "Winding", "Transport", "Ended")
TIPS = (
    "The member's init seed (its line's colour on the map)",
    "The snapshot every number of the row belongs to: the member's final one",
    "Training accuracy at that snapshot (the trainer's)",
    "Test accuracy at that snapshot (the trainer's)",
    "Winding number of the outer loop's image around the centre's at that snapshot "
    "(— : undetermined or not a ring)",
    "Transport cost at that snapshot: mean over training points of Σ_t |x_{t+1} − x_t|²",
    "How the member's training ended",
)


def _winding_text(f: MemberFacts) -> str:
    return "—" if f.winding is None else str(f.winding)


def _item(text: str, tip: str = "", bold: bool = False) -> QTableWidgetItem:
    it = QTableWidgetItem(text)
    it.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable)
    it.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
    if tip:
        it.setToolTip(tip)
    if bold:
        f = QFont()
        f.setBold(True)
        it.setFont(f)
    return it


def _swatch(colour: QColor) -> QIcon:
    pm = QPixmap(14, 14)
    pm.fill(colour)
    return QIcon(pm)


class MemberTable(QTableWidget):
    """Members' rows (selectable) and min / median / max rows (not selectable)."""

    memberActivated = Signal(int)  # member i asked for (double-click, Enter)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(0, len(COLUMNS), parent)
        self.setHorizontalHeaderLabels(list(COLUMNS))
        for c, tip in enumerate(TIPS):
            head = self.horizontalHeaderItem(c)
            if head is not None:
                head.setToolTip(tip)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.verticalHeader().setVisible(False)
        self.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.setAlternatingRowColors(True)
        self.members = 0
        self.cellDoubleClicked.connect(self._on_double_click)

    def fill(self, facts: Sequence[MemberFacts], ring: bool) -> None:
        """One row per member, then the spread (winding only for a ring)."""
        self.clearContents()
        self.members = len(facts)
        self.setRowCount(len(facts) + (len(SUMMARY_ROWS) if facts else 0))
        for r, f in enumerate(facts):
            seed = _item(str(f.seed), f"seed {f.seed}: its line on the map has this colour")
            seed.setIcon(_swatch(member_colour(r)))
            cells = [
                seed,
                _item(f"{f.step:,}"),
                _item(fmt_pct(f.train_acc)),
                _item(fmt_pct(f.test_acc)),
                _item(_winding_text(f) if ring else "n/a", f.winding_note),
                _item(fmt(f.transport)),
                _item(f.status),
            ]
            for c, it in enumerate(cells):
                self.setItem(r, c, it)
        if facts:
            self._fill_spread(facts, ring)
        self.resizeColumnsToContents()
        # wide enough for every column: no number hidden behind a scroll bar
        scroll = self.verticalScrollBar().sizeHint().width()
        self.setMinimumWidth(self.horizontalHeader().length() + 2 * self.frameWidth() + scroll)

    def _fill_spread(self, facts: Sequence[MemberFacts], ring: bool) -> None:
        steps = sorted({f.step for f in facts})
        step_text = f"{steps[0]:,}" if len(steps) == 1 else f"{steps[0]:,}–{steps[-1]:,}"
        cols = {
            2: (spread([f.train_acc for f in facts]), fmt_pct),
            3: (spread([f.test_acc for f in facts]), fmt_pct),
            4: (spread([f.winding for f in facts]), lambda v: fmt(v) if math.isfinite(v) else "—"),
            5: (spread([f.transport for f in facts]), fmt),
        }
        for k, name in enumerate(SUMMARY_ROWS):
            r = len(facts) + k
            label = _item(name, f"{name} over the {len(facts)} members", bold=True)
            label.setFlags(Qt.ItemFlag.ItemIsEnabled)
            self.setItem(r, 0, label)
            step = _item(step_text, "the members' final snapshots")
            step.setFlags(Qt.ItemFlag.ItemIsEnabled)
            self.setItem(r, 1, step)
            for c, (values, form) in cols.items():
                text = form(values[name]) if (c != 4 or ring) else "n/a"
                it = _item(text, bold=True)
                it.setFlags(Qt.ItemFlag.ItemIsEnabled)
                self.setItem(r, c, it)
            blank = _item("")
            blank.setFlags(Qt.ItemFlag.ItemIsEnabled)
            self.setItem(r, 6, blank)

    def selected_member(self) -> int | None:
        rows = {i.row() for i in self.selectedIndexes()}
        row = min(rows) if rows else None
        return row if row is not None and row < self.members else None

    def select_member(self, i: int) -> None:
        if 0 <= i < self.members:
            self.selectRow(i)

    def _on_double_click(self, row: int, _col: int) -> None:
        if row < self.members:
            self.memberActivated.emit(row)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            i = self.selected_member()
            if i is not None:
                self.memberActivated.emit(i)
                return
        super().keyPressEvent(event)
