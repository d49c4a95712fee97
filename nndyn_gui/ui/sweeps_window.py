"""Tools -> Sweeps: a sweep's results folder as a heatmap; a click opens that run.

The window only reads files and draws (numpy + Qt): TensorFlow is never loaded here,
a sweep runs with `nndyn sweep` (terminal or cluster), and the picture is painted by
render/heatmap.py, the same code `nndyn sweep-plot` writes files with. While a sweep is
still running, the folder is re-read whenever its journal changes, so the cells fill in.

A click on a cell opens the run that stands for it (the one at the min / max, or the
one nearest the mean / median) through the main window's own open-run path, and lists
all the cell's runs below; a double-click on one of them opens that run instead.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QEvent, QPointF, QRectF, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QHelpEvent, QMouseEvent, QPainter, QPaintEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QToolTip,
    QVBoxLayout,
    QWidget,
)

from nndyn_gui.core.io import limits
from nndyn_gui.core.sweep.results import (
    AGGREGATES,
    SEED_FIELD,
    Heatmap,
    SweepResults,
    SweepResultsError,
    format_value,
    heatmap,
    load_results,
)
from nndyn_gui.render.heatmap import (
    COLOUR_SCALES,
    HeatmapLayout,
    field_label,
    metric_label,
    paint_heatmap,
    write_heatmap,
)
from nndyn_gui.ui import settings as app_settings

RELOAD_MS = 2000  # how often a folder whose sweep is still running is checked
PREFERRED_METRICS = ("dense_accuracy", "winding", "wrong_side_share", "test_acc")


class HeatmapWidget(QWidget):
    """Paints a Heatmap; a click on a cell emits (iy, ix); hovering lists its runs."""

    cellClicked = Signal(int, int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.heatmap: Heatmap | None = None
        self.scale = "absolute"  # render.heatmap.COLOUR_SCALES
        self.selected: tuple[int, int] | None = None
        self.placeholder = "Open a sweep's results folder (a 'nndyn sweep --out' folder)."
        self._layout: HeatmapLayout | None = None
        self._layout_size = (0, 0)
        self.setMinimumSize(420, 300)
        self.setCursor(Qt.CursorShape.PointingHandCursor)

    def set_heatmap(self, hm: Heatmap | None) -> None:
        self.heatmap = hm
        if (
            hm is None
            or self.selected is None
            or self.selected[0] >= len(hm.y_values)
            or (self.selected[1] >= len(hm.x_values))
        ):
            self.selected = None
        self.update()

    def cell_layout(self) -> HeatmapLayout | None:
        """Where the cells are (after the widget was painted at its current size)."""
        if self.heatmap is None:
            return None
        if self._layout is None or self._layout_size != (self.width(), self.height()):
            from PySide6.QtGui import QImage

            img = QImage(max(1, self.width()), max(1, self.height()), QImage.Format.Format_RGB32)
            p = QPainter(img)
            try:
                self._layout = paint_heatmap(p, QRectF(self.rect()), self.heatmap, scale=self.scale)
            finally:
                p.end()
            self._layout_size = (self.width(), self.height())
        return self._layout

    def cell_center(self, iy: int, ix: int) -> QPointF:
        lay = self.cell_layout()
        assert lay is not None
        return lay.cell_rect(iy, ix).center()

    def paintEvent(self, ev: QPaintEvent) -> None:
        p = QPainter(self)
        try:
            if self.heatmap is None:
                p.fillRect(self.rect(), self.palette().window())
                p.setPen(self.palette().text().color())
                p.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, self.placeholder)
                self._layout = None
                return
            self._layout = paint_heatmap(
                p, QRectF(self.rect()), self.heatmap, self.selected, scale=self.scale
            )
            self._layout_size = (self.width(), self.height())
        finally:
            p.end()

    def mousePressEvent(self, ev: QMouseEvent) -> None:
        lay = self.cell_layout()
        cell = lay.cell_at(ev.position()) if lay is not None else None
        if cell is None or ev.button() != Qt.MouseButton.LeftButton:
            super().mousePressEvent(ev)
            return
        self.selected = cell
        self.update()
        self.cellClicked.emit(*cell)

    def event(self, ev: QEvent) -> bool:
        if ev.type() == QEvent.Type.ToolTip and isinstance(ev, QHelpEvent):
            lay = self.cell_layout()
            cell = lay.cell_at(QPointF(ev.pos())) if lay is not None else None
            if cell is not None and self.heatmap is not None:
                QToolTip.showText(ev.globalPos(), cell_tooltip(self.heatmap, *cell), self)
            else:
                QToolTip.hideText()
            return True
        return super().event(ev)


def cell_tooltip(hm: Heatmap, iy: int, ix: int) -> str:
    """The cell's settings, aggregate and each run's value (hover text)."""
    x, y = field_label(hm.x_field), field_label(hm.y_field)
    head = f"{x} = {hm.x_values[ix]}, {y} = {hm.y_values[iy]}"
    v = float(hm.values[iy, ix])
    lines = [head, f"{hm.agg} {metric_label(hm.metric)}: {format_value(hm.metric, v)}"]
    for r in hm.cells[iy][ix][:12]:
        val = r.get(hm.metric)
        shown = format_value(hm.metric, float(val)) if isinstance(val, int | float) else "n/a"
        lines.append(f"  seed {r.get(SEED_FIELD, '?')}: {shown} ({r.get('status')})")
    if len(hm.cells[iy][ix]) > 12:
        lines.append(f"  … {len(hm.cells[iy][ix]) - 12} more")
    lines.append("Click: open the run that stands for this cell")
    return "\n".join(lines)


def _fill(combo: QComboBox, names: list[str], label: Callable[[str], str]) -> None:
    """Items in words (`label`), each holding its column or field name as its data."""
    combo.clear()
    for name in names:
        combo.addItem(label(name), name)


def _choose(combo: QComboBox, name: str) -> None:
    i = combo.findData(name)
    if i >= 0:
        combo.setCurrentIndex(i)


def _chosen(combo: QComboBox) -> str:
    """The name behind the current item (its data; the text for plain items)."""
    data = combo.currentData()
    return data if isinstance(data, str) else combo.currentText()


def _not_a_run_file_here(name: str, folder: Path) -> str:
    """Why an (edited) row's file cannot be opened, or "": it must be a relative name
    inside the results folder (`runs/...`, no `..`) of a regular file, not a device, a FIFO,
    a kernel file or a name too long. (A link, e.g. runs/ on another disk, is followed.)"""
    rel = Path(name)
    path = folder / rel
    shown = str(path)[:200]
    if rel.is_absolute() or ".." in rel.parts:
        return f"its file {name[:200]} is outside the results folder"
    try:
        limits.refuse_pseudo_file(path, "run file")
        if not path.is_file():
            return f"{shown} is missing"
    except limits.LimitError as e:
        return f"{shown}: {e}"
    except (OSError, ValueError) as e:  # a name too long, a loop of links, a NUL
        return f"cannot open {shown} ({getattr(e, 'strerror', None) or e})"
    return ""


class SweepsWindow(QWidget):
    """Pick a results folder, the axes, the metric and the aggregate; see the heatmap."""

    runOpened = Signal(str)  # the path of a run handed to the main window

    def __init__(
        self,
        open_run: Callable[[str], bool] | None = None,
        parent: QWidget | None = None,
        folder: str | Path | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Sweeps — nndyn")
        self.open_run = open_run
        self.results: SweepResults | None = None
        self.current: Heatmap | None = None
        self.errors: list[str] = []
        self._stamp: tuple[float, ...] = ()
        self._filling = False

        self.open_button = QPushButton("Open results folder…")
        self.open_button.setToolTip("A folder written by 'nndyn sweep SPEC --out DIR'")
        self.open_button.clicked.connect(self.choose_folder)
        self.folder_label = QLabel("no folder")
        self.folder_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.x_combo, self.y_combo = QComboBox(), QComboBox()
        self.metric_combo, self.agg_combo = QComboBox(), QComboBox()
        self.agg_combo.addItems(list(AGGREGATES))
        self.colour_combo = QComboBox()
        _fill(self.colour_combo, list(COLOUR_SCALES), COLOUR_SCALES.__getitem__)
        self.colour_combo.setToolTip(
            "Accuracies and other shares: a fixed 0–100 % scale (the same colour is the same"
            " share in every sweep), or from the lowest to the highest cell"
        )
        self.agg_combo.setToolTip("How the runs of a cell (the seeds) are combined")
        self.x_combo.setToolTip("Swept field across")
        self.y_combo.setToolTip("Swept field up")
        self.metric_combo.setToolTip("Column of results.csv shown in the cells")
        for c in (self.x_combo, self.y_combo, self.metric_combo, self.agg_combo):
            c.currentIndexChanged.connect(self.refresh)
        self.colour_combo.currentIndexChanged.connect(self._colours_changed)
        self.save_button = QPushButton("Save picture…")
        self.save_button.setToolTip("PNG, SVG or PDF of this heatmap")
        self.save_button.clicked.connect(self.save_picture_dialog)

        top = QHBoxLayout()
        top.addWidget(self.open_button)
        top.addWidget(self.folder_label, 1)
        top.addWidget(self.save_button)
        pick = QHBoxLayout()
        for text, combo in (
            ("X", self.x_combo),
            ("Y", self.y_combo),
            ("Metric", self.metric_combo),
            ("Aggregate", self.agg_combo),
            ("Colours", self.colour_combo),
        ):
            pick.addWidget(QLabel(text))
            pick.addWidget(combo, 1)

        self.view = HeatmapWidget()
        self.view.cellClicked.connect(self.open_cell)
        self.table = QTableWidget(0, 0)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.setToolTip("The runs of the clicked cell; double-click one to open it")
        self.table.cellDoubleClicked.connect(self._open_table_row)
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.view)
        split.addWidget(self.table)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 1)
        split.setSizes([540, 170])
        self.table.setMinimumHeight(110)
        self.status = QLabel("")
        self.status.setWordWrap(True)

        lay = QVBoxLayout(self)
        lay.addLayout(top)
        lay.addLayout(pick)
        lay.addWidget(split, 1)
        lay.addWidget(self.status)
        self._cell_rows: list[dict[str, Any]] = []

        self._timer = QTimer(self)
        self._timer.setInterval(RELOAD_MS)
        self._timer.timeout.connect(self._reload_if_changed)
        self._set_enabled(False)
        if folder is not None:
            self.open_folder(folder)

    # ------------------------------------------------------------------ folder
    def _set_enabled(self, on: bool) -> None:
        for w in (self.x_combo, self.y_combo, self.metric_combo, self.agg_combo):
            w.setEnabled(on)
        self.colour_combo.setEnabled(on)
        self.save_button.setEnabled(on)

    @Slot()
    def choose_folder(self) -> None:
        start = str(self.results.folder) if self.results else app_settings.last_dir()
        path = QFileDialog.getExistingDirectory(self, "Open sweep results", start)
        if path:
            self.open_folder(path)

    def open_folder(self, folder: str | Path) -> bool:
        """Read a results folder and show its default heatmap; False (and why) if not one."""
        try:
            results = load_results(folder)
        except SweepResultsError as e:  # every reason is one (a bad row is only skipped)
            if self.results is None:
                self.folder_label.setText(f"{folder} — not opened")
            self._error(str(e))
            return False
        self.results = results
        self.folder_label.setText(str(results.folder))
        self._stamp = self._folder_stamp()
        self._fill_combos()
        self._set_enabled(True)
        self._timer.start()
        self.refresh()
        return True

    def _folder_stamp(self) -> tuple[float, ...]:
        if self.results is None:
            return ()
        out = []
        for name in ("runs.jsonl", "results.json"):
            try:
                out.append((self.results.folder / name).stat().st_mtime)
            except OSError:
                out.append(0.0)
        return tuple(out)

    @Slot()
    def _reload_if_changed(self) -> None:
        if self.results is None:
            return
        stamp = self._folder_stamp()
        if stamp == self._stamp:
            return
        try:
            results = load_results(self.results.folder)
        except SweepResultsError:
            return  # caught mid-write: the next tick reads it (the stamp stays old)
        self._stamp = stamp
        metrics_changed = results.metrics != self.results.metrics
        self.results = results
        if metrics_changed:  # the first rows of a running sweep bring the metric columns
            metric = _chosen(self.metric_combo)
            self._filling = True
            try:
                _fill(self.metric_combo, results.metrics, metric_label)
                if metric in results.metrics:
                    _choose(self.metric_combo, metric)
                else:
                    self._pick_default_metric()
            finally:
                self._filling = False
        self.refresh()

    def _fill_combos(self) -> None:
        r = self.results
        assert r is not None
        self._filling = True
        try:
            fields = list(r.fields)
            by_size = sorted(
                (f for f in fields if f != SEED_FIELD), key=lambda f: -len(r.values(f))
            )
            x = by_size[0] if by_size else fields[0]
            rest = [f for f in fields if f != x and f != SEED_FIELD] or [
                f for f in fields if f != x
            ]
            y = rest[0] if rest else x
            for combo, value in ((self.x_combo, x), (self.y_combo, y)):
                _fill(combo, fields, field_label)
                _choose(combo, value)
            _fill(self.metric_combo, r.metrics, metric_label)
            self._pick_default_metric()
        finally:
            self._filling = False

    def _pick_default_metric(self) -> None:
        metrics = [self.metric_combo.itemData(i) for i in range(self.metric_combo.count())]
        metric = next((m for m in PREFERRED_METRICS if m in metrics), None)
        if metric:
            _choose(self.metric_combo, metric)

    # ------------------------------------------------------------------ drawing
    def select(
        self, x: str, y: str, metric: str, agg: str = "mean", scale: str | None = None
    ) -> None:
        """Choose what the heatmap shows (as the combo boxes do), by field, column and
        colour scale name."""
        self._filling = True
        try:
            _choose(self.x_combo, x)
            _choose(self.y_combo, y)
            _choose(self.metric_combo, metric)
            self.agg_combo.setCurrentText(agg)
            if scale is not None:
                _choose(self.colour_combo, scale)
                self.view.scale = scale
        finally:
            self._filling = False
        self.refresh()

    @Slot()
    def refresh(self) -> None:
        if self._filling or self.results is None:
            return
        x, y = _chosen(self.x_combo), _chosen(self.y_combo)
        metric, agg = _chosen(self.metric_combo), self.agg_combo.currentText()
        if x == y:
            self.current = None
            self.view.placeholder = "Choose two different fields for X and Y."
            self.view.set_heatmap(None)
            return
        try:
            self.current = heatmap(self.results, x, y, metric, agg)
        except SweepResultsError as e:
            self.current = None
            self.view.set_heatmap(None)
            self._error(str(e))
            return
        self.view.set_heatmap(self.current)
        r = self.results
        n = len(r.rows)
        done = f"{n} of {r.n_runs} runs" if n < r.n_runs else f"{n} runs"
        failed = sum(1 for row in r.rows if row.get("status") == "failed")
        diverged = sum(1 for row in r.rows if row.get("status") == "diverged")
        extra = "".join(f", {k} {v}" for k, v in (("failed", failed), ("diverged", diverged)) if v)
        skipped = f" {r.skipped_note()}." if r.n_skipped else ""
        self.status.setStyleSheet("")
        self.status.setText(
            f"{done}{extra}. Click a cell to open its run in the main window; "
            f"hover for every seed's value.{skipped}"
        )

    @Slot()
    def _colours_changed(self) -> None:
        self.view.scale = _chosen(self.colour_combo)
        self.view.set_heatmap(self.current)

    def _error(self, message: str) -> None:
        self.errors.append(message)
        self.status.setStyleSheet("color: #c0392b;")
        self.status.setText(message)

    # ------------------------------------------------------------------ opening runs
    @Slot(int, int)
    def open_cell(self, iy: int, ix: int) -> bool:
        """Open the run standing for cell (iy, ix) and list the cell's runs."""
        hm = self.current
        if hm is None or self.results is None:
            return False
        self.view.selected = (iy, ix)
        self.view.update()
        self._fill_table(hm.cells[iy][ix])
        row = hm.representative(iy, ix)
        if row is None:
            self._error("No run in this cell yet.")
            return False
        return self._open_row(row)

    def _fill_table(self, rows: list[dict[str, Any]]) -> None:
        assert self.results is not None and self.current is not None
        metric = self.current.metric
        cols = [*self.results.fields, "status", metric, "file"]
        self._cell_rows = list(rows)
        self.table.clear()
        self.table.setColumnCount(len(cols))
        names = [*map(field_label, self.results.fields), "status", metric_label(metric), "file"]
        self.table.setHorizontalHeaderLabels(names)
        self.table.setRowCount(len(rows))
        for i, r in enumerate(rows):
            for j, c in enumerate(cols):
                v = r.get(c)
                if c == metric:
                    text = format_value(metric, float(v)) if isinstance(v, int | float) else "n/a"
                else:
                    text = "" if v is None else str(v)
                self.table.setItem(i, j, QTableWidgetItem(text))

    @Slot(int, int)
    def _open_table_row(self, row: int, _col: int) -> None:
        if 0 <= row < len(self._cell_rows):
            self._open_row(self._cell_rows[row])

    def _open_row(self, row: dict[str, Any]) -> bool:
        assert self.results is not None
        if not row.get("file"):
            why = row.get("message") or row.get("status")
            self._error(f"Run {row.get('index')} has no run file ({why}).")
            return False
        path = str(self.results.folder / str(row["file"]))
        why = _not_a_run_file_here(str(row["file"]), self.results.folder)
        if why:
            self._error(f"Run {row.get('index')}: {why}.")
            return False
        ok = True if self.open_run is None else bool(self.open_run(path))
        if ok:
            value = row.get(self.current.metric) if self.current else None
            shown = (
                format_value(self.current.metric, float(value))
                if self.current and isinstance(value, int | float) and math.isfinite(value)
                else "n/a"
            )
            self.status.setStyleSheet("")
            self.status.setText(f"Opened {Path(path).name} in the main window ({shown}).")
            self.runOpened.emit(path)
        return ok

    # ------------------------------------------------------------------ pictures
    @Slot()
    def save_picture_dialog(self) -> None:
        if self.current is None or self.results is None:
            return
        start = str(self.results.folder / f"heatmap-{self.current.metric}.png")
        path, _ = QFileDialog.getSaveFileName(
            self, "Save heatmap", start, "Pictures (*.png *.svg *.pdf)"
        )
        if path:
            self.save_picture(path)

    def save_picture(self, path: str, width: int = 1000, height: int = 700) -> bool:
        if self.current is None:
            return False
        try:
            write_heatmap(path, self.current, width, height, scale=self.view.scale)
        except (OSError, ValueError) as e:
            self._error(f"Cannot save the picture: {e}")
            return False
        self.status.setText(f"Saved {path}")
        return True
