"""The Diagnostics panel's per-block table as model/view: rows are plain data.

Why: the table used to be a QTableWidget refilled item by item for every snapshot while
training (1,100 items for the 100-block `resnet-ode-limit`, each with its text, brush,
font and alignment set from Python on the GUI thread). Here `block_rows` turns a
`Diagnostics` into plain `BlockRow`s (strings and flags, no Qt) in the background job
that computed the diagnostics; the GUI thread only resets the model, and Qt asks for
the cells it paints (the visible ones). Column widths are measured once per fill from
the few widest texts of each column (`BlockRows.widest`), not from every cell.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QFont, QResizeEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QSizePolicy,
    QTabBar,
    QTableView,
    QWidget,
)

from nndyn_gui.core.analysis.diagnostics import SQUASH_RELATIVE
from nndyn_gui.core.analysis.narrator import fmt  # the panels print numbers one way

OK_COLOR = "#1a7f37"
BAD_COLOR = "#c62828"
SQUASH_BG = QColor(255, 224, 178)
COLUMNS = (
    "k",
    "h·‖A‖₂·Lip",
    "invertible",
    "singular values",
    "det A",
    "squashed",
    "σmin/σmax of J (median)",
    "(5th pct)",
    "input → k",
    "det J < 0",
    "saturated",
)
#: the widest text each column can hold (for its width before any row is there)
SAMPLES = (
    "100",
    "0.000",
    "✗ not one-to-one",
    "0.999, 0.999, 0.999",
    "-1.00e-05",
    "⚠ (saturation)",
    "1.00e-05",
    "1.00e-05",
    "1.00e-05",
    "100.0%",
    "100.0%",
)
LEFT_COLUMNS = (2, 3, 5)  # words; the numbers are right-aligned
BOLD_WHEN_SQUASHED = (5, 6)
STRETCH_COLUMN = 3  # the singular values take the spare width
WIDEST = 3  # texts measured per column for its width (the longest by characters)
#: ways to show the columns in tabs, for a table too narrow for all (`ColumnGroups`): the
#: fewest tabs that fit are used; k is in every tab. (title, columns, tooltip) per tab.
_MAP = ("The block's map", (1, 2, 3, 4), "the block's matrix: its bound, invertibility, σ, det")
TAB_LAYOUTS = (
    (_MAP, ("On the data", (5, 6, 7, 8, 9, 10), "the block at the data points: Jacobians")),
    (
        _MAP,
        ("Flattening", (5, 6, 7, 8), "how flat the block (and the net up to it) makes the data"),
        ("Folds, saturation", (9, 10), "the data points where det J < 0, where a unit saturates"),
    ),
)
TabSpec = tuple[str, tuple[int, ...], str]

Index = QModelIndex | QPersistentModelIndex
_DISPLAY = int(Qt.ItemDataRole.DisplayRole)


def wrap_header(text: str, chars: int = 6) -> str:
    """A column title in lines of about `chars` characters, broken at spaces: the
    titles, not the numbers, made the table wider than a side dock (1080p)."""
    lines: list[str] = []
    words = []
    for word in text.split(" "):  # a long formula breaks before its last "·" factor
        cut = word.rfind("·")
        long = len(word) > chars + 2 and cut > 0 and "(" not in word
        words += [word[:cut], word[cut:]] if long else [word]
    for word in words:
        if lines and len(lines[-1]) + 1 + len(word) <= chars:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return "\n".join(lines)


def pct(v: float) -> str:
    v = float(v)
    return "—" if not math.isfinite(v) else f"{100.0 * v:.1f}%"


@dataclass(frozen=True)
class BlockRow:
    """One block's cells as shown, and what colours and marks them."""

    cells: tuple[str, ...]
    squashed: bool
    invertible: bool
    squash_tip: str  # the "squashed" cell's tooltip ("" when not squashed)


@dataclass(frozen=True)
class BlockRows:
    """Everything the table shows for one snapshot: plain data, made off the GUI thread."""

    rows: tuple[BlockRow, ...]
    headers: tuple[tuple[str, str], ...]  # (text, tooltip) per column
    widest: tuple[tuple[int, ...], ...]  # per column: the rows with its longest texts


EMPTY = BlockRows((), tuple((c, "") for c in COLUMNS), tuple(() for _ in COLUMNS))


def headers(resnet: bool) -> tuple[tuple[str, str], ...]:
    """Each column's title and tooltip, in the article's terms for this kind of net."""
    lin = "I + h·Lip·A" if resnet else "A"
    return (
        ("k", ""),
        (
            "h·‖A‖₂·Lip" if resnet else "‖A‖₂·Lip",
            "h·‖A_k‖₂·Lip(s) < 1 makes block k invertible (Banach fixed point)"
            if resnet
            else "‖A_k‖₂·Lip(s): how much layer k can stretch distances",
        ),
        ("invertible", "proved invertible by h·‖A_k‖₂·Lip(s) < 1; a fold disproves it")
        if resnet
        else ("one-to-one", "invertible A and a strictly increasing activation"),
        (f"σ({lin})", f"singular values of {lin}: a σ near 0 loses a dimension"),
        (f"det({lin})", f"determinant of {lin}: its sign tells if the block flips"),
        (
            "squashed",
            f"median σmin/σmax of J over the data points < {SQUASH_RELATIVE:g}: the layer "
            "flattens the data at most points; the cause is a nearly singular "
            f"{lin} (A) or the activation's flat tails (saturation)",
        ),
        (
            "σmin/σmax of J (median)",
            "J = "
            + ("I + h·diag(s'(Ax+b))·A" if resnet else "diag(s'(Ax+b))·A")
            + ", the layer's Jacobian at each data point, restricted to the data sheet "
            "(the image of the input plane); median over the points of its smallest "
            "over its largest singular value. Near 0: a direction of the data is "
            "flattened (one-to-one maps can still do this)",
        ),
        ("(5th pct)", "5th percentile over the data points of the same ratio"),
        (
            "input → k",
            "median over the data points of σmin/σmax of the whole map from the input "
            "plane to the output of layer k: layers that each flatten a little can "
            "together flatten the data a lot (what the view shows)",
        ),
        (
            "det J < 0",
            "share of the data points where det J < 0: for a ResNet block anything "
            "between 0 and 100% is a fold (not one-to-one); for an MLP layer the sign "
            "is that of det A everywhere (a mirror, not a fold)",
        ),
        (
            "saturated",
            "share of the data points where some unit is saturated: "
            "s'(Ax+b) < 1% of its maximum (|Ax+b| > 3 for tanh)",
        ),
    )


def block_row(i: int, b: Any, resnet: bool) -> BlockRow:
    """Block `i` (from 0) of a `Diagnostics` as the table shows it."""
    sv = np.asarray(b.singular_values, dtype=np.float64).ravel()
    shown = ", ".join(fmt(float(v)) for v in sv[:4]) + (" …" if sv.size > 4 else "")
    cause = {"A": " (A)", "saturation": " (saturation)"}.get(b.squash_cause, "")
    folds = bool(getattr(b, "folds", False))
    if resnet:
        verdict = "✓ invertible" if b.invertible else ("✗ folds" if folds else "✗ not proved")
    else:
        verdict = "✓ one-to-one" if b.invertible else "✗ not one-to-one"
    tip = ""
    if b.squashed:
        tip = (
            f"median σmin/σmax of this layer's Jacobian over the data points is "
            f"{fmt(float(b.jac_ratio_median))} < {SQUASH_RELATIVE:g}: it flattens "
            "the data in one direction at most points"
            + (
                " because its A is nearly singular"
                if b.squash_cause == "A"
                else " because the activation saturates there"
            )
            + ("; the layer is still one-to-one, so nothing is merged" if b.invertible else "")
        )
    cells = (
        str(i + 1),
        fmt(float(b.lip_product)),
        verdict,
        shown,
        fmt(float(b.det)),
        # the column is "squashed": the cell names only the cause (a side dock's width)
        (f"⚠{cause}" if cause else "⚠ squashed") if b.squashed else "",
        fmt(float(b.jac_ratio_median)),
        fmt(float(b.jac_ratio_p5)),
        fmt(float(getattr(b, "cumulative_ratio", math.nan))),
        pct(float(b.neg_det_share)),
        pct(float(b.saturated_share)),
    )
    return BlockRow(cells, bool(b.squashed), bool(b.invertible), tip)


def block_rows(diag: Any, resnet: bool) -> BlockRows:
    """The whole table for `diag` (no Qt: runs in the diagnostics' background job)."""
    rows = tuple(block_row(i, b, resnet) for i, b in enumerate(diag.blocks))
    widest = tuple(
        tuple(sorted(range(len(rows)), key=lambda i: -len(rows[i].cells[j]))[:WIDEST])
        for j in range(len(COLUMNS))
    )
    return BlockRows(rows, headers(resnet), widest)


class BlockTableModel(QAbstractTableModel):
    """`BlockRows` for Qt: one reset per snapshot, cells answered when asked."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.data_rows = EMPTY
        self._bold = QFont()
        self._bold.setBold(True)
        self._squash_brush = QBrush(SQUASH_BG)
        self._ok, self._bad = QColor(OK_COLOR), QColor(BAD_COLOR)
        left, right = Qt.AlignmentFlag.AlignLeft, Qt.AlignmentFlag.AlignRight
        v = Qt.AlignmentFlag.AlignVCenter
        self._align = [int(v | (left if j in LEFT_COLUMNS else right)) for j in range(len(COLUMNS))]
        role = Qt.ItemDataRole
        self._roles: dict[int, Callable[[BlockRow, int], Any]] = {
            int(role.TextAlignmentRole): self._alignment,
            int(role.BackgroundRole): self._background,
            int(role.FontRole): self._font,
            int(role.ForegroundRole): self._foreground,
            int(role.ToolTipRole): self._tooltip,
        }

    def set_rows(self, rows: BlockRows) -> None:
        self.beginResetModel()
        self.data_rows = rows
        self.endResetModel()

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008 (Qt's signature)
        return 0 if parent.isValid() else len(self.data_rows.rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def data(self, index: Index, role: int = _DISPLAY) -> Any:
        # Qt asks ~7 roles per painted cell: int keys (comparing with Qt's enums costs
        # ~1 µs each) and one dict look-up for every role but the text
        row = self.data_rows.rows[index.row()]
        if role == _DISPLAY:
            return row.cells[index.column()]
        answer = self._roles.get(role)
        return None if answer is None else answer(row, index.column())

    def _alignment(self, row: BlockRow, j: int) -> int:
        return self._align[j]

    def _background(self, row: BlockRow, j: int) -> QBrush | None:
        return self._squash_brush if row.squashed else None

    def _font(self, row: BlockRow, j: int) -> QFont | None:
        return self._bold if row.squashed and j in BOLD_WHEN_SQUASHED else None

    def _foreground(self, row: BlockRow, j: int) -> QColor | None:
        if j != 2:
            return None
        return self._ok if row.invertible else self._bad

    def _tooltip(self, row: BlockRow, j: int) -> str | None:
        return row.squash_tip if j == 5 and row.squash_tip else None

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation != Qt.Orientation.Horizontal:
            return None
        text, tip = self.data_rows.headers[section]
        if role == Qt.ItemDataRole.DisplayRole:
            return wrap_header(text)
        if role == Qt.ItemDataRole.ToolTipRole and tip:
            return tip
        return None


class BlockTable(QTableView):
    """The per-block table; `cell_text`, `cell_background`, `header_text` read it back."""

    refitted = Signal()  # resized, or new rows: the columns that fit may have changed

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.table_model = BlockTableModel(self)
        self._title_widths: dict[int, int] = {}  # per column, when last shown
        self._widths: dict[int, int] = {}  # per column, as the last fit measured it
        self.setModel(self.table_model)
        self.verticalHeader().setVisible(False)
        self.verticalHeader().setDefaultSectionSize(22)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setAlternatingRowColors(True)
        self.setWordWrap(False)
        hdr = self.horizontalHeader()
        hdr.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)  # widths set once per fill
        hdr.setSectionResizeMode(STRETCH_COLUMN, QHeaderView.ResizeMode.Stretch)
        self.setMinimumHeight(160)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.fit_columns()

    def set_rows(self, rows: BlockRows) -> None:
        """Show `rows` (one model reset) and fit the columns to them."""
        self.table_model.set_rows(rows)
        self.fit_columns()
        self.refitted.emit()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self.refitted.emit()

    def clear_rows(self) -> None:
        """No rows (the headers stay those of the last net shown)."""
        self.set_rows(BlockRows((), self.table_model.data_rows.headers, EMPTY.widest))

    def fit_columns(self) -> None:
        """Each column as wide as its title and its widest texts (as ResizeToContents
        would make it, measuring a few cells instead of all)."""
        hdr = self.horizontalHeader()
        for j in range(len(COLUMNS)):
            width = self._natural_width(j)  # grid as QTableView.sizeHintForColumn counts it
            if j != STRETCH_COLUMN:
                width = max(hdr.minimumSectionSize(), min(width, hdr.maximumSectionSize()))
                if hdr.sectionSize(j) != width:
                    hdr.resizeSection(j, width)
            self._widths[j] = width  # measured once per fill: `columns_width` reads it

    # ------------------------------------------------------------------ reading back
    def rowCount(self) -> int:
        return self.table_model.rowCount()

    def columnCount(self) -> int:
        return self.table_model.columnCount()

    def cell_text(self, i: int, j: int) -> str:
        return str(self.table_model.data(self.table_model.index(i, j)))

    def cell_background(self, i: int, j: int) -> QBrush:
        brush = self.table_model.data(self.table_model.index(i, j), Qt.ItemDataRole.BackgroundRole)
        return brush if brush is not None else QBrush()

    def header_text(self, j: int) -> str:
        """Column j's title on one line (shown on two when long: `wrap_header`)."""
        return str(self.table_model.headerData(j, Qt.Orientation.Horizontal)).replace("\n", " ")

    def columns_width(self, columns: tuple[int, ...] | None = None) -> int:
        """Pixels the table needs to show `columns` (all by default) whole, the widest
        texts of the stretching one included, with its frame and vertical scroll bar."""
        total = sum(self._widths[j] for j in (range(len(COLUMNS)) if columns is None else columns))
        return total + 2 * self.frameWidth() + self.verticalScrollBar().sizeHint().width()

    def columns_width_at_most(self) -> int:
        """`columns_width` for the widest texts any row can have (SAMPLES): what a dock
        must give before the first diagnostics arrive."""
        fm = self.fontMetrics()
        pad = self.style().pixelMetric(self.style().PixelMetric.PM_FocusFrameHMargin) * 2 + 8
        hdr = self.horizontalHeader()
        total = sum(
            max(hdr.sectionSizeHint(j), fm.horizontalAdvance(SAMPLES[j]) + pad)
            for j in range(len(COLUMNS))
        )
        return total + 2 * self.frameWidth() + self.verticalScrollBar().sizeHint().width()

    def _natural_width(self, j: int) -> int:
        hdr, model = self.horizontalHeader(), self.table_model
        if not hdr.isSectionHidden(j):  # Qt gives a hidden section's title no width
            self._title_widths[j] = hdr.sectionSizeHint(j)
        width = self._title_widths.get(j, 0)
        grid = 1 if self.showGrid() else 0
        for i in model.data_rows.widest[j]:
            width = max(width, self.sizeHintForIndex(model.index(i, j)).width() + grid)
        return width

    def header_tip(self, j: int) -> str:
        tip = self.table_model.headerData(j, Qt.Orientation.Horizontal, Qt.ItemDataRole.ToolTipRole)
        return str(tip or "")


class ColumnGroups(QTabBar):
    """Tabs over a table too narrow for every column (the right dock at 1600x1000: two;
    the left column's tab at 1280x720: three): each tab shows k and a group of the
    columns (`TAB_LAYOUTS`), every one whole, instead of the last ones cut off behind a
    scroll bar. Hidden while all columns fit."""

    def __init__(self, table: BlockTable, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.table = table
        self.groups: tuple[TabSpec, ...] = ()  # the tabs shown; () while all columns fit
        self.setExpanding(False)
        self.setVisible(False)
        self.currentChanged.connect(self.refit)
        table.refitted.connect(self.refit)

    def _fitting_groups(self) -> tuple[TabSpec, ...]:
        """(): every column fits; else the fewest tabs whose columns each fit (the most
        tabs when none do: the narrowest groups)."""
        table = self.table
        if table.columns_width() <= table.width():
            return ()
        for groups in TAB_LAYOUTS:
            if all(table.columns_width((0, *cols)) <= table.width() for _, cols, _ in groups):
                return groups
        return TAB_LAYOUTS[-1]

    def refit(self) -> None:
        """Show every column, or k and the chosen tab's, as the table's width allows."""
        groups = self._fitting_groups()
        if groups != self.groups:
            self._make_tabs(groups)
        shown = (0, *self.groups[max(0, self.currentIndex())][1]) if self.groups else None
        changed = False
        for j in range(len(COLUMNS)):
            hide = shown is not None and j not in shown
            if self.table.isColumnHidden(j) != hide:
                self.table.setColumnHidden(j, hide)
                changed = True
        if changed:
            self.table.fit_columns()  # the columns shown again: to their titles and texts

    def _make_tabs(self, groups: tuple[TabSpec, ...]) -> None:
        """The tabs of `groups`; the one shown keeps its first group (the block's map)
        or the nearest by position."""
        keep = max(0, self.currentIndex())
        self.groups = groups
        self.blockSignals(True)  # refit runs once, by the caller
        try:
            while self.count():
                self.removeTab(0)
            for title, _cols, tip in groups:
                self.setTabToolTip(self.addTab(title), tip)
            self.setCurrentIndex(min(keep, max(0, self.count() - 1)))
        finally:
            self.blockSignals(False)
        if self.isHidden() == bool(groups):
            self.setVisible(bool(groups))
