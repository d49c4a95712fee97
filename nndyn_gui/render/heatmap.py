"""A sweep's phase diagram: a metric over two swept fields, one coloured cell per pair.

Painted with a plain QPainter, so the same code draws the Sweeps window's widget and
the files `nndyn sweep-plot` writes without a window (PNG through a QImage, SVG / PDF
through render.vector). Every cell prints its value and how many runs it stands for
(n=3, or 2/3 when some runs failed, diverged or left the metric undetermined), so the
colour is never the only carrier of a number; a cell with no counted run is grey and
says why, and the text on a cell is black or white, whichever contrasts more with it
(at least 4.5:1 on every colour of the scale). Axes and metric are named as the
parameter panel names them ("Width d", "dense accuracy"), not by their config paths.

Colours: viridis (perceptually uniform, readable in grey and by colour-blind readers)
with its colour bar. Shares (accuracies and the other percent metrics) are coloured on
a fixed 0-100 % scale by default ("absolute"): the same colour means the same
accuracy in every sweep, and a sweep whose cells all lie between 98.5 % and 100 % looks
uniformly good instead of spanning the whole scale. Not 50-100 %: chance is 50 % only
for two classes (1/K for K), and a sweep's rows do not say K. "range" spreads the
colours from the lowest to the highest cell instead (every other metric always).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QImage, QPainter, QPen

from nndyn_gui.core.fields import field_info
from nndyn_gui.core.sweep.results import PERCENT_METRICS, Heatmap
from nndyn_gui.render.export_spec import VECTOR_EXTENSIONS
from nndyn_gui.render.picture_file import pixel_font, write_picture

# viridis at 9 stops (matplotlib's table), interpolated linearly in between
_VIRIDIS = np.array(
    [
        (68, 1, 84),
        (71, 44, 122),
        (59, 81, 139),
        (44, 113, 142),
        (33, 144, 141),
        (39, 173, 129),
        (92, 200, 99),
        (170, 220, 50),
        (253, 231, 37),
    ],
    dtype=np.float64,
)
# the colour scales: name -> what the window's choice and the caption say
COLOUR_SCALES = {
    "absolute": "0–100 % for shares",
    "range": "lowest to highest cell",
}
# metrics whose column name is not the words for them ("dense_accuracy" needs no entry)
METRIC_LABELS = {
    "train_acc": "training accuracy",
    "test_acc": "test accuracy",
    "abs_winding": "|winding number|",
    "max_lip_product": "largest Lipschitz product",
    "min_linear_ratio": "smallest linear ratio",
    "steps": "steps trained",
}
EMPTY = QColor(215, 215, 215)
BACKGROUND = QColor(255, 255, 255)
FOREGROUND = QColor(40, 40, 40)
SELECTED = QColor(220, 20, 60)
IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg")


def viridis(t: float) -> QColor:
    """The colour of t in [0, 1]."""
    t = min(1.0, max(0.0, float(t)))
    pos = t * (len(_VIRIDIS) - 1)
    i = min(int(pos), len(_VIRIDIS) - 2)
    f = pos - i
    r, g, b = (1 - f) * _VIRIDIS[i] + f * _VIRIDIS[i + 1]
    return QColor(round(r), round(g), round(b))


def field_label(path: str) -> str:
    """A swept field as the parameter panel names it ("model.width" -> "Width d")."""
    try:
        return field_info(path).label or path
    except KeyError:  # not a config field (a sweep of an older version): its path
        return path


def metric_label(name: str) -> str:
    """A metric in words ("dense_accuracy" -> "dense accuracy")."""
    return METRIC_LABELS.get(name, name.replace("_", " "))


def is_absolute(hm: Heatmap, scale: str = "absolute") -> bool:
    """True when the colours are on the fixed 0-100 % scale (shares only)."""
    return scale == "absolute" and hm.metric in PERCENT_METRICS


def colour_range(hm: Heatmap, scale: str = "absolute") -> tuple[float, float]:
    """(lo, hi) of the colour scale: 0-1 for a share on the absolute scale, else the
    finite values' range; a single value gets a range around it."""
    if scale not in COLOUR_SCALES:
        raise ValueError(f"unknown colour scale {scale!r} (one of {', '.join(COLOUR_SCALES)})")
    if is_absolute(hm, scale):
        return 0.0, 1.0
    finite = hm.values[np.isfinite(hm.values)]
    if finite.size == 0:
        return 0.0, 1.0
    lo, hi = float(finite.min()), float(finite.max())
    if hi - lo < 1e-12:
        pad = 0.5 if abs(lo) < 1e-12 else 0.05 * abs(lo)
        return lo - pad, hi + pad
    return lo, hi


def title_lines(hm: Heatmap) -> tuple[str, str]:
    """The heading and the line under it (what the metric is, what is aggregated)."""
    title = f"{metric_label(hm.metric)} — {hm.agg} per cell"
    if hm.label:
        title += f" ({hm.label})"
    try:
        from nndyn_gui.core.analysis.metrics import METRICS

        doc = METRICS[hm.metric].doc if hm.metric in METRICS else ""
    except ImportError:  # pragma: no cover
        doc = ""
    doc = doc or {
        "train_acc": "accuracy on the training points",
        "test_acc": "accuracy on the held-out points",
        "seconds": "wall time of the run (training and measuring), seconds",
        "steps": "optimiser steps done",
    }.get(hm.metric, "")
    sub = doc
    if hm.where:
        fixed = ", ".join(f"{field_label(k)} = {_tick_text(v)}" for k, v in hm.where.items())
        sub = f"{sub}; {fixed}" if sub else fixed
    return title, sub


@dataclass
class HeatmapLayout:
    """Where the cells are in the painted rectangle (the window hit-tests clicks with it)."""

    plot: QRectF
    nx: int
    ny: int

    def cell_rect(self, iy: int, ix: int) -> QRectF:
        w = self.plot.width() / max(1, self.nx)
        h = self.plot.height() / max(1, self.ny)
        # the first y value at the bottom, like a plot's axis
        return QRectF(self.plot.left() + ix * w, self.plot.bottom() - (iy + 1) * h, w, h)

    def cell_at(self, p: QPointF) -> tuple[int, int] | None:
        if not self.plot.contains(p) or self.nx == 0 or self.ny == 0:
            return None
        ix = int((p.x() - self.plot.left()) / (self.plot.width() / self.nx))
        iy = int((self.plot.bottom() - p.y()) / (self.plot.height() / self.ny))
        if 0 <= ix < self.nx and 0 <= iy < self.ny:
            return iy, ix
        return None


def _tick_text(v: object) -> str:
    if isinstance(v, float):
        return f"{v:g}"
    return str(v)


def paint_heatmap(
    painter: QPainter,
    rect: QRectF,
    hm: Heatmap,
    selected: tuple[int, int] | None = None,
    background: QColor | None = BACKGROUND,
    scale: str = "absolute",
) -> HeatmapLayout:
    """Draw the heatmap into `rect` with colour scale `scale` (COLOUR_SCALES); return
    where its cells went."""
    painter.save()
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setRenderHint(QPainter.RenderHint.TextAntialiasing)
    if background is not None:
        painter.fillRect(rect, background)
    base = max(10.0, min(rect.width(), rect.height()) / 48.0)
    f_title, f_sub, f_tick = pixel_font(base * 1.35, True), pixel_font(base), pixel_font(base)
    f_foot = pixel_font(base * 0.85)
    m_tick = QFontMetricsF(f_tick)
    ny, nx = hm.values.shape
    y_ticks = [_tick_text(v) for v in hm.y_values]
    left = (
        rect.left()
        + base * 1.2
        + m_tick.height()
        + max((m_tick.horizontalAdvance(t) for t in y_ticks), default=0.0)
        + base
    )
    top = rect.top() + base * 1.0 + QFontMetricsF(f_title).height() + QFontMetricsF(f_sub).height()
    top += base * 0.8
    bar_w = base * 1.3
    right = rect.right() - base * 1.5 - bar_w - base * 0.6 - m_tick.horizontalAdvance("100.0%  ")
    bottom = rect.bottom() - base * 1.2 - 2.2 * m_tick.height() - QFontMetricsF(f_foot).height()
    plot = QRectF(left, top, max(10.0, right - left), max(10.0, bottom - top))
    layout = HeatmapLayout(plot, nx, ny)

    # heading
    title, sub = title_lines(hm)
    painter.setPen(FOREGROUND)
    painter.setFont(f_title)
    y = rect.top() + base * 0.8
    th = QFontMetricsF(f_title).height()
    painter.drawText(
        QRectF(rect.left() + base, y, rect.width() - 2 * base, th),
        Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
        title,
    )
    painter.setFont(f_sub)
    sh = QFontMetricsF(f_sub).height()
    painter.drawText(
        QRectF(rect.left() + base, y + th, rect.width() - 2 * base, sh),
        Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
        QFontMetricsF(f_sub).elidedText(sub, Qt.TextElideMode.ElideRight, rect.width() - 2 * base),
    )

    # cells
    lo, hi = colour_range(hm, scale)
    gap = max(1.0, base * 0.12)
    cell0 = layout.cell_rect(0, 0)
    cell_px = min(cell0.width() / 5.5, cell0.height() / 3.2, base * 2.2)
    f_cell = pixel_font(max(base * 0.9, cell_px), True)
    f_small = pixel_font(max(base * 0.75, cell_px * 0.6))
    for iy in range(ny):
        for ix in range(nx):
            r = layout.cell_rect(iy, ix).adjusted(gap, gap, -gap, -gap)
            v = float(hm.values[iy, ix])
            colour = viridis((v - lo) / (hi - lo)) if math.isfinite(v) else EMPTY
            painter.fillRect(r, colour)
            painter.setPen(ink(colour))
            n, total = int(hm.counts[iy, ix]), int(hm.totals[iy, ix])
            if math.isfinite(v):
                main = hm.value_text(v)
                note = f"n={n}" if n == total else f"{n}/{total} counted"
            else:
                main = "–"
                note = _why_empty(hm.cells[iy][ix], hm.metric)
            _cell_text(painter, r, main, note, f_cell, f_small)
    if selected is not None and 0 <= selected[0] < ny and 0 <= selected[1] < nx:
        pen = QPen(SELECTED, max(2.0, base * 0.25))
        painter.setPen(pen)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawRect(layout.cell_rect(*selected).adjusted(gap, gap, -gap, -gap))

    # axes: tick labels and names
    painter.setPen(FOREGROUND)
    painter.setFont(f_tick)
    for ix, t in enumerate(_tick_text(v) for v in hm.x_values):
        cr = layout.cell_rect(0, ix)
        painter.drawText(
            QRectF(cr.left(), plot.bottom() + base * 0.3, cr.width(), m_tick.height()),
            Qt.AlignmentFlag.AlignCenter,
            m_tick.elidedText(t, Qt.TextElideMode.ElideRight, cr.width()),
        )
    for iy, t in enumerate(y_ticks):
        cr = layout.cell_rect(iy, 0)
        painter.drawText(
            QRectF(
                plot.left() - base * 0.5 - m_tick.horizontalAdvance(t) - 2,
                cr.top(),
                m_tick.horizontalAdvance(t) + 2,
                cr.height(),
            ),
            Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
            t,
        )
    painter.drawText(
        QRectF(
            plot.left(),
            plot.bottom() + base * 0.3 + m_tick.height(),
            plot.width(),
            m_tick.height() * 1.2,
        ),
        Qt.AlignmentFlag.AlignCenter,
        field_label(hm.x_field),
    )
    painter.save()
    painter.translate(rect.left() + base * 0.6 + m_tick.height() / 2, plot.center().y())
    painter.rotate(-90)
    painter.drawText(
        QRectF(-plot.height() / 2, -m_tick.height() / 2, plot.height(), m_tick.height()),
        Qt.AlignmentFlag.AlignCenter,
        field_label(hm.y_field),
    )
    painter.restore()
    painter.setFont(f_foot)
    m_foot = QFontMetricsF(f_foot)
    foot = footnote(hm, scale)
    painter.drawText(
        QRectF(
            rect.left() + base,
            rect.bottom() - base * 0.6 - m_foot.height(),
            rect.width() - 2 * base,
            m_foot.height(),
        ),
        Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
        m_foot.elidedText(foot, Qt.TextElideMode.ElideRight, rect.width() - 2 * base),
    )

    # colour bar
    bar = QRectF(plot.right() + base * 1.2, plot.top(), bar_w, plot.height())
    # stacked bands, each reaching down to the bottom: no seams, and SVG viewers that
    # skip gradients still show the scale
    steps = 64
    for i in reversed(range(steps)):
        top_y = bar.bottom() - (i + 1) / steps * bar.height()
        band = QRectF(bar.left(), top_y, bar.width(), bar.bottom() - top_y)
        painter.fillRect(band, viridis((i + 0.5) / steps))
    painter.setPen(QPen(FOREGROUND, 1))
    painter.setBrush(Qt.BrushStyle.NoBrush)
    painter.drawRect(bar)
    painter.setFont(f_tick)
    for frac in (0.0, 0.5, 1.0):
        yv = bar.bottom() - frac * bar.height()
        painter.drawLine(QPointF(bar.right(), yv), QPointF(bar.right() + base * 0.3, yv))
        painter.drawText(
            QRectF(
                bar.right() + base * 0.45,
                yv - m_tick.height() / 2,
                rect.right() - bar.right(),
                m_tick.height(),
            ),
            Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
            hm.value_text(lo + frac * (hi - lo)),
        )
    painter.restore()
    return layout


def footnote(hm: Heatmap, scale: str = "absolute") -> str:
    """What n counts (one run per seed, and per value of any other field not plotted)
    and what the colours span."""
    others = [field_label(f) for f in hm.pooled if f != "train.seed"]
    what = "one per seed" if "train.seed" in hm.pooled else "one run"
    if others:
        what += ", and per value of " + ", ".join(others)
    colours = "0–100 %" if is_absolute(hm, scale) else "lowest to highest cell"
    return f"n = finished runs counted in the cell ({what}); colours: {colours}"


def _cell_text(
    painter: QPainter, r: QRectF, main: str, note: str, f_cell: QFont, f_small: QFont
) -> None:
    """The value (shrunk to fit the cell, down to 8 px) and, where there is room, the note."""
    m_cell = QFontMetricsF(f_cell)
    while m_cell.horizontalAdvance(main) + 2 > r.width() and f_cell.pixelSize() > 8:
        f_cell = pixel_font(f_cell.pixelSize() - 1, True)
        m_cell = QFontMetricsF(f_cell)
    if m_cell.horizontalAdvance(main) + 2 > r.width() or m_cell.height() > r.height():
        return  # too small even at 8 px: the tooltip and the table say it
    m_small = QFontMetricsF(f_small)
    painter.setFont(f_cell)
    if r.height() < m_cell.height() + m_small.height() + 2:
        painter.drawText(r, Qt.AlignmentFlag.AlignCenter, main)
        return
    mid = r.center().y()
    painter.drawText(
        QRectF(r.left(), mid - m_cell.height(), r.width(), m_cell.height()),
        Qt.AlignmentFlag.AlignCenter,
        main,
    )
    painter.setFont(f_small)
    painter.drawText(
        QRectF(r.left(), mid, r.width(), m_small.height()),
        Qt.AlignmentFlag.AlignCenter,
        m_small.elidedText(note, Qt.TextElideMode.ElideRight, r.width() - 2),
    )


def _luminance(c: QColor) -> float:
    """WCAG relative luminance of an sRGB colour."""

    def lin(v: int) -> float:
        x = v / 255.0
        return x / 12.92 if x <= 0.04045 else ((x + 0.055) / 1.055) ** 2.4

    return 0.2126 * lin(c.red()) + 0.7152 * lin(c.green()) + 0.0722 * lin(c.blue())


def contrast(a: QColor, b: QColor) -> float:
    """WCAG contrast ratio of two colours (1 to 21; 4.5 is enough for normal text)."""
    la, lb = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def ink(c: QColor) -> QColor:
    """Black or white text, whichever contrasts more with `c` (>= 4.58:1 on any colour)."""
    black, white = QColor(0, 0, 0), QColor(255, 255, 255)
    return black if contrast(c, black) >= contrast(c, white) else white


def _why_empty(rows: list[dict[str, object]], metric: str) -> str:
    if not rows:
        return "not run yet"
    counts: dict[str, int] = {}
    for r in rows:
        s = str(r.get("status"))
        counts[s] = counts.get(s, 0) + 1
    parts = [f"{n} {'undetermined' if s == 'finished' else s}" for s, n in sorted(counts.items())]
    return ", ".join(parts)


def write_heatmap(
    path: str | Path, hm: Heatmap, width: int = 1000, height: int = 700, scale: str = "absolute"
) -> None:
    """PNG / JPEG (raster) or SVG / PDF (vector) by extension; needs a QGuiApplication.

    Written beside `path` and checked whole (an SVG parses, a PDF has its trailer) before
    it replaces the old file (`core.io.files.AtomicWriter`): a full disk raises OSError and
    leaves the old picture as it was."""
    p = Path(path)
    ext = p.suffix.lower()
    if ext not in VECTOR_EXTENSIONS and ext not in IMAGE_EXTENSIONS:
        raise ValueError(f"unknown picture type {ext or '(none)'}: use .png, .svg or .pdf")
    rect = QRectF(0, 0, width, height)

    def paint(painter: QPainter) -> None:
        paint_heatmap(painter, rect, hm, scale=scale)

    def write(temp: Path) -> bool:
        if ext in VECTOR_EXTENSIONS:
            from nndyn_gui.render.vector import write_vector

            write_vector(temp, width, height, paint, title_lines(hm)[0])
            return True
        img = QImage(width, height, QImage.Format.Format_ARGB32)
        img.fill(BACKGROUND)
        painter = QPainter(img)
        try:
            paint(painter)
        finally:
            painter.end()
        return img.save(str(temp))

    write_picture(p, ext, write)
