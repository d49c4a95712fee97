"""The Input map dock: TensorFlow Playground's main picture, kept up while training.

What the current net says at every point of the input plane — its class regions in
soft colours, the decision boundary as a line — with the training points as filled
circles and the test points as crosses over it, a caption naming the snapshot's step
and its measured train / test accuracy, and below it each unit of a chosen layer as a
small map over the same plane (ui/input_map_units.py).

Why it looks like this:
- Nothing is computed on the GUI thread: a snapshot's pictures are made by
  render/input_map.py on a NewestWins thread; while training, at most one every
  REFRESH_MS (or three times the last job's time, if longer), the newest snapshot
  winning. A hidden dock (a tab behind another) computes nothing and catches up when
  shown. It follows the snapshot the main view has drawn (`AppState.shown`), like every
  other panel, and says "computing step N…" over dimmed pictures while it catches up.
- Class names (data.class_names) name the legend's classes; train and test are told
  apart by the marker's shape, not by colour alone.
- Text is sized from the dock's height like presentation mode's from the screen's
  (TEXT_SHARE), so a large dock on a projector reads from the back of a hall.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, QSize, Qt, QTimer, Slot
from PySide6.QtGui import QColor, QFont, QTextDocument
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLayout,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from nndyn_gui.core.types import Snapshot
from nndyn_gui.render.input_map import InputMap, make_input_map
from nndyn_gui.render.palette import Palette, palette_for
from nndyn_gui.ui import steps
from nndyn_gui.ui.background import Job, for_the_shown_run
from nndyn_gui.ui.input_map_units import UnitGrid
from nndyn_gui.ui.state import AppState

REFRESH_MS = 250  # while training: at most four pictures a second
COALESCE_MS = 60  # otherwise: changes arriving together make one picture
TEXT_SHARE = 0.035  # caption and legend: share of the dock's height (presentation's)
MIN_TEXT_PX, MAX_TEXT_PX = 14, 40
MAX_TRAIN_POINTS = 6000  # drawn; more are thinned evenly and the legend says so
MAX_TEST_POINTS = 3000
TRAIN_SYMBOL, TEST_SYMBOL = "o", "x"
MIN_POINT_PX, MAX_POINT_PX = 4, 11  # about 1/90 of the map's side: 1,000 points stay apart
UNITS_SHARE = 0.3  # the unit maps' first share of the dock's height
UNITS_MIN_HEIGHT = 430  # a shorter dock (a tab at 1280x720) shows the map alone
COMPACT_HEIGHT = 340  # ... and below this, shorter words and no axis names
#: what the dock asks of the window at least: no more than the curves beside it, so the
#: window still fits a 1280x720 screen (a tab too small for the map shows less)
MIN_SIZE = QSize(60, 120)
TRAIN_MARK, TEST_MARK = "●", "✕"  # the legend's pictures of the two symbols


class InputMapPanel(QWidget):
    """The input map of AppState's shown snapshot, and the units of one layer."""

    def __init__(self, state: AppState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("inputMap")
        self.state = state
        self.map: InputMap | None = None  # what is drawn
        self.snapshot: Snapshot | None = None  # its snapshot
        self._palette = palette_for("white")
        self._stale = True
        self._thinned = ""  # "6,000 of 80,000 training points shown" when thinned
        self._was_compact = False
        self._units_sized = False  # the unit maps got their first share of the height
        self._points_key: tuple[int, str, float] | None = None  # what the points show
        self._points_of: Any = None  # the data set they were made from (kept: id stays valid)

        self.caption = QLabel()
        self.caption.setObjectName("inputMapCaption")
        self.caption.setWordWrap(True)
        self.plot = pg.PlotWidget()
        self.plot.setObjectName("inputMapPlot")
        self.plot.setMenuEnabled(False)
        self.plot.setAspectLocked(True)
        self.plot.hideButtons()
        pi = self.plot.getPlotItem()
        pi.setLabel("bottom", "x1")
        pi.setLabel("left", "x2")
        self.regions_item = pg.ImageItem(axisOrder="row-major")
        self.regions_item.setZValue(-20)
        self.boundary_item = pg.PlotDataItem(connect="pairs")
        self.boundary_item.setZValue(5)
        pi.addItem(self.regions_item)
        pi.addItem(self.boundary_item)
        self.point_items: list[pg.ScatterPlotItem] = []  # one per (class, train | test)
        self.legend = QLabel()
        self.legend.setObjectName("inputMapLegend")
        self.legend.setTextFormat(Qt.TextFormat.RichText)
        self.legend.setWordWrap(True)

        self.layer_combo = QComboBox()
        self.layer_combo.setObjectName("inputMapLayer")
        self.layer_combo.setToolTip("The layer whose units are drawn below, one map each")
        self.layer_combo.currentIndexChanged.connect(self._on_layer)
        self.units_note = QLabel()
        self.units_note.setObjectName("inputMapUnitsNote")
        self.units_note.setWordWrap(True)
        self.units = UnitGrid()

        top = QWidget()
        tl = QVBoxLayout(top)
        tl.setContentsMargins(4, 2, 4, 2)
        tl.setSpacing(2)
        tl.addWidget(self.caption)
        tl.addWidget(self.plot, 1)
        tl.addWidget(self.legend)
        bottom = self.units_box = QWidget()
        bl = QVBoxLayout(bottom)
        bl.setContentsMargins(4, 2, 4, 2)
        bl.setSpacing(2)
        row = QHBoxLayout()
        self.layer_label = QLabel("Units of")
        row.addWidget(self.layer_label)
        row.addWidget(self.layer_combo)
        row.addWidget(self.units_note, 1)
        bl.addLayout(row)
        bl.addWidget(self.units, 1)
        self.splitter = QSplitter(Qt.Orientation.Vertical)
        self.splitter.addWidget(top)
        self.splitter.addWidget(bottom)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setChildrenCollapsible(False)
        lay = QVBoxLayout(self)
        lay.setSizeConstraint(QLayout.SizeConstraint.SetNoConstraint)  # see MIN_SIZE
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.splitter)

        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self._refresh)
        self._jobs = for_the_shown_run(self, state, "nndyn-input-map", "draw the input map")
        self._jobs.done.connect(self._show)
        state.shownChanged.connect(self._schedule)
        state.configChanged.connect(self._on_config)
        state.datasetChanged.connect(self._schedule)
        self._fill_layers()
        self._apply_fonts()
        self._show_legend()
        self._show_caption()

    def minimumSizeHint(self) -> QSize:
        return MIN_SIZE

    # ------------------------------------------------------------------ public
    def set_background(self, name: str) -> None:
        """The main view's page colour (white, dark): the same colours here."""
        pal = palette_for(name)
        if pal.name != self._palette.name:
            self._palette = pal
            self._schedule()

    def refresh_now(self) -> None:
        """Make and show the pictures of the shown snapshot, on this thread (tests)."""
        self._timer.stop()
        job = self._job()
        if job is not None:
            self._show(*self._jobs.run_now(job))

    def wait_idle(self, timeout_s: float = 30.0) -> None:
        """Block until no background job is pending, then show the newest pictures."""
        self._jobs.wait(timeout_s)
        self.refresh_now()

    def shutdown(self) -> None:
        self._timer.stop()
        self._jobs.shutdown()

    def legend_text(self) -> str:
        """The legend as plain text (what it says: the class names, the markers)."""
        d = QTextDocument()
        d.setHtml(self.legend.text())
        return d.toPlainText().replace("\u00a0", " ")

    def layer(self) -> int:
        """The layer whose units are drawn (1..T)."""
        return int(self.layer_combo.currentData() or 1)

    def set_layer(self, layer: int) -> None:
        i = self.layer_combo.findData(int(layer))
        if i >= 0:
            self.layer_combo.setCurrentIndex(i)

    def pending_snapshot(self) -> Snapshot | None:
        return steps.pending(self.snapshot, self._target())

    # ------------------------------------------------------------------ jobs
    def _target(self) -> Snapshot | None:
        return steps.on_screen(self.state)

    def _job(self) -> Job | None:
        st = self.state
        snap = steps.view_target(st)
        if snap is None:
            return None
        config, dataset, pal = st.run_config, st.dataset, self._palette
        layer = self.layer() if self._units_wanted() else 0  # hidden units: not computed

        def job() -> tuple[InputMap, Snapshot, Any]:
            return make_input_map(config, snap, dataset, pal, layer), snap, dataset

        return job

    @Slot()
    def _refresh(self) -> None:
        self._show_caption()  # "computing step N…": at the pictures' pace, not 30 a second
        job = self._job()
        if job is not None:
            self._jobs.request(job)

    @Slot(object)
    def _schedule(self, *_: object) -> None:
        self._stale = True
        if not self.isVisible():
            return  # a tab behind another: caught up when shown
        if self.state.training_state == "training":
            if not self._timer.isActive():  # not restarted: pictures keep coming
                wait = max(REFRESH_MS, int(3000 * self._jobs.last_seconds))
                self._timer.start(wait)
        else:
            self._timer.start(COALESCE_MS)

    @Slot(object, str)
    def _show(self, result: tuple[InputMap, Snapshot, Any] | None, error: str) -> None:
        if result is None:
            if error:
                self.caption.setText(error)
            return
        m, snap, dataset = result
        self.map, self.snapshot = m, snap
        self._stale = False
        self._draw_regions(m)
        self._draw_points(dataset, self._palette)
        self.units.set_units(m.layer, m.units)
        self.units.dimmed = False
        if m.units:
            s = m.unit_scale
            self.units_note.setText(
                f"activation s(A·x + b) over the input plane: "
                f"purple\u00a0−{s:.3g} · white\u00a00 · green\u00a0+{s:.3g}"
            )
        else:
            self.units_note.setText("")
        self._show_legend()
        self._show_caption()

    # ------------------------------------------------------------------ drawing
    def _draw_regions(self, m: InputMap) -> None:
        x0, x1, y0, y1 = m.extent
        self.regions_item.setImage(m.regions, autoLevels=False, levels=None)
        self.regions_item.setRect(QRectF(x0, y0, x1 - x0, y1 - y0))
        pal = self._palette
        self.plot.setBackground(QColor(*pal.background[:3]) if pal.background[3] else "w")
        pen = pg.mkPen(QColor(*pal.plane[:3]), width=max(2.5, self._text_px() / 6))
        segs = m.boundary.reshape(-1, 2)
        self.boundary_item.setData(segs[:, 0], segs[:, 1], pen=pen)
        self.plot.setRange(xRange=(x0, x1), yRange=(y0, y1), padding=0)
        fg = QColor(*pal.foreground[:3])
        pi = self.plot.getPlotItem()
        for name in ("left", "bottom"):
            ax = pi.getAxis(name)
            ax.setPen(fg)
            ax.setTextPen(fg)

    def _draw_points(self, dataset: Any, pal: Palette) -> None:
        """The data points over the map; made again only when the data, the colours or
        their size change (not for every snapshot while training)."""
        side = min(self.plot.width(), self.plot.height())
        size = float(min(MAX_POINT_PX, max(MIN_POINT_PX, side / 90)))
        key = (id(dataset), pal.name, size)
        if key == self._points_key and self._points_of is dataset:
            return
        self._points_key, self._points_of = key, dataset
        pi = self.plot.getPlotItem()
        for item in self.point_items:
            pi.removeItem(item)
        self.point_items = []
        outline = pg.mkPen(QColor(*pal.foreground[:3], 170), width=0.8)
        notes = []
        for x, y, symbol, most, grow, what in (
            (dataset.x_train, dataset.y_train, TRAIN_SYMBOL, MAX_TRAIN_POINTS, 1.0, "training"),
            (dataset.x_test, dataset.y_test, TEST_SYMBOL, MAX_TEST_POINTS, 1.35, "test"),
        ):
            keep = _even(len(x), most)
            if len(keep) < len(x):
                notes.append(f"{len(keep):,} of {len(x):,} {what} points shown")
            xs, ys = x[keep], y[keep]
            for k in np.unique(ys):
                rows = xs[ys == k]
                item = pg.ScatterPlotItem(
                    rows[:, 0],
                    rows[:, 1],
                    symbol=symbol,
                    size=size * grow,
                    brush=pg.mkBrush(QColor(*pal.class_color(int(k)))),
                    pen=outline,
                    pxMode=True,
                )
                item.setZValue(10 if symbol == TRAIN_SYMBOL else 11)
                item.what = what
                item.klass = int(k)
                pi.addItem(item)
                self.point_items.append(item)
        self._thinned = "; ".join(notes)

    def _show_legend(self) -> None:
        """The class colours with their names, the two markers, the boundary."""
        pal = self._palette
        names = self.state.run_config.data.names
        labels: list[int] = [int(k) for k in np.unique(self.state.dataset.y_all)]
        parts = []
        for k in labels:
            colour = QColor(*pal.class_color(k)[:3]).name()
            name = names[k] if k < len(names) else f"class {k}"
            shown = _html(name).replace(" ", "&nbsp;")
            parts.append(f"<span style='color:{colour}'>&#9679;</span>&nbsp;{shown}")
        parts.append(f"{TRAIN_MARK}&nbsp;training&nbsp;points")
        parts.append(f"{TEST_MARK}&nbsp;test&nbsp;points")
        parts.append("━&nbsp;decision&nbsp;boundary")
        text = "&nbsp;&nbsp;&nbsp; ".join(parts)  # each entry wraps as a whole (&nbsp;)
        if self._thinned:
            text += f"<br><span style='color:#777'>{self._thinned}</span>"
        self.legend.setText(text)

    def _show_caption(self) -> None:
        """ "step 1,200 · train accuracy 98.5% · test 97.0%" (the snapshot's measured
        numbers), or "computing step N…" while a newer one is made."""
        target = self._target()
        snap = self.snapshot
        if snap is None:
            text = steps.pending_name(target) if target is not None else ""
        else:
            text = steps.step_name(snap)
            if steps.step_name(snap).startswith("untrained"):
                text += " · accuracy not measured yet"
            else:
                acc = "" if self._compact() else " accuracy"
                text += f" · train{acc} {_pct(snap.train_acc)}"
                text += f" · test{acc} {_pct(snap.test_acc)}"
            todo = steps.pending(snap, target)
            if todo is not None:
                text += f" · {steps.pending_name(todo)}"
            if self.map is not None and not self.map.finite:
                text += " · the net gives non-finite values (grey)"
        self.caption.setText(text)
        dim = snap is not None and steps.pending(snap, target) is not None
        self.regions_item.setOpacity(0.55 if dim else 1.0)
        if self.units.dimmed != dim:
            self.units.dimmed = dim
            self.units.update()

    # ------------------------------------------------------------------ layers, fonts
    def _fill_layers(self) -> None:
        depth = self.state.run_config.model.depth
        if self.layer_combo.count() == depth:
            return
        keep = self.layer()
        self.layer_combo.blockSignals(True)
        self.layer_combo.clear()
        for k in range(1, depth + 1):
            self.layer_combo.addItem(f"layer {k}", k)
        self.layer_combo.setCurrentIndex(max(0, min(keep, depth) - 1))
        self.layer_combo.blockSignals(False)

    @Slot(object)
    def _on_config(self, *_: object) -> None:
        self._fill_layers()
        self._show_legend()  # typed class names show at once
        self._schedule()

    @Slot(int)
    def _on_layer(self, _i: int) -> None:
        self._schedule()

    def _text_px(self) -> int:
        return int(min(MAX_TEXT_PX, max(MIN_TEXT_PX, round(self.height() * TEXT_SHARE))))

    def _apply_fonts(self) -> None:
        px = self._text_px()
        for label, share in ((self.caption, 1.0), (self.legend, 0.85)):
            f = QFont(label.font())
            f.setPixelSize(max(MIN_TEXT_PX, round(px * share)))
            f.setBold(label is self.caption)
            label.setFont(f)
        small = max(12, round(px * 0.7))
        for w in (self.layer_label, self.layer_combo, self.units_note):
            f = QFont(w.font())
            f.setPixelSize(small)
            w.setFont(f)
        self.units.set_title_px(small)
        tick = QFont()
        tick.setPixelSize(max(12, round(px * 0.7)))
        pi = self.plot.getPlotItem()
        for name in ("left", "bottom"):
            ax = pi.getAxis(name)
            ax.setStyle(tickFont=tick)
            ax.setLabel(ax.labelText, **{"font-size": f"{max(12, round(px * 0.75))}px"})
            ax.showLabel(not self._compact())  # a short tab: the map's room, not "x1"

    def _compact(self) -> bool:
        """A short dock (a tab at 1280x720): shorter words, no axis names."""
        return self.height() < COMPACT_HEIGHT

    def resizeEvent(self, ev: Any) -> None:
        super().resizeEvent(ev)
        self._apply_fonts()
        if self._compact() != self._was_compact:
            self._was_compact = self._compact()
            self._show_caption()
        # too short for both: the map alone (the units come back with the room, with
        # their first share of it; a split the user drags stays theirs)
        wanted = self._units_wanted()
        if wanted and (self.units_box.isHidden() or not self._units_sized):
            self._units_sized = True
            self.units_box.show()
            h = self.splitter.height()
            self.splitter.setSizes([round(h * (1 - UNITS_SHARE)), round(h * UNITS_SHARE)])
        elif not wanted:
            self.units_box.hide()
        if self._units_wanted() and self.map is not None and self.map.layer == 0:
            self._schedule()

    def _units_wanted(self) -> bool:
        return self.height() >= UNITS_MIN_HEIGHT

    def showEvent(self, ev: Any) -> None:
        super().showEvent(ev)
        if self._stale:
            self._timer.start(COALESCE_MS)


def _even(n: int, most: int) -> np.ndarray:
    """Row indices: all n, or `most` spread evenly over them."""
    if n <= most:
        return np.arange(n)
    return np.unique(np.linspace(0, n - 1, most).round().astype(np.int64))


def _pct(v: float) -> str:
    return f"{100 * v:.1f}%" if math.isfinite(v) else "— (no points)"


def _html(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
