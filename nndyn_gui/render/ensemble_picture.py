"""The Ensemble picture: agreement map at the input, one boundary line per member, the
data on top, a legend; painted with a plain QPainter.

Why it looks like this: one QPainter routine draws the window's map widget and the PNG
export (a QImage, no window shown), so the file is what the window shows. The map is a
wash of the class colours whose strength is the members' agreement (pale where they
disagree), so the lines of the members (one colour each, named "seed N" in the legend,
the picked one drawn thicker) cross a visible band of doubt; points are small and
outlined so the lines stay readable under them. Text (title, caption) is the caller's:
derived from the run's config and measured facts (core/analysis/ensemble_facts.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PySide6.QtCore import QLineF, QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFontMetricsF, QImage, QPainter, QPen

from nndyn_gui.core.types import Dataset
from nndyn_gui.render.ensemble_map import EnsembleMap
from nndyn_gui.render.palette import WHITE, Palette
from nndyn_gui.render.picture_file import pixel_font, write_picture

# one colour per member (16 at most): dark and saturated, apart from the pale class wash
MEMBER_COLOURS = (
    (200, 30, 40),
    (20, 120, 40),
    (110, 60, 190),
    (130, 80, 40),
    (210, 60, 170),
    (0, 140, 150),
    (90, 90, 90),
    (150, 150, 0),
    (30, 30, 120),
    (230, 90, 0),
    (120, 0, 60),
    (0, 90, 90),
    (80, 140, 0),
    (170, 110, 150),
    (0, 0, 0),
    (60, 100, 170),
)
MAX_POINTS = 800  # data points drawn (every k-th beyond that: the picture, not the data)
WASH_MIN, WASH_MAX = 0.08, 0.45  # class colour strength where members split / all agree


def member_colour(i: int) -> QColor:
    r, g, b = MEMBER_COLOURS[i % len(MEMBER_COLOURS)]
    return QColor(r, g, b)


@dataclass
class EnsemblePicture:
    """Everything the picture shows; `labels[i]` names member i ("seed 3")."""

    emap: EnsembleMap
    labels: Sequence[str]
    dataset: Dataset
    title: str = ""
    caption: str = ""
    selected: int | None = None
    palette: Palette = field(default=WHITE)


def agreement_rgba(emap: EnsembleMap, palette: Palette) -> np.ndarray:
    """(H, W, 4) uint8, row 0 at the top: the class colour(s) washed over the background
    as strongly as the members agree (two classes: the share voting class 1 mixes the
    two colours; K > 2: the majority's colour by its share above chance)."""
    bg = np.array(palette.background[:3], dtype=np.float64)
    if emap.classes == 2:
        f = np.clip(emap.agreement, 0.0, 1.0)[..., None]
        c0 = np.array(palette.classes[0][:3], dtype=np.float64)
        c1 = np.array(palette.classes[1][:3], dtype=np.float64)
        rgb = (1.0 - f) * c0 + f * c1
        agree = np.abs(2.0 * f - 1.0)
    else:
        k = emap.classes
        cols = np.array([palette.class_color(i)[:3] for i in range(k)], dtype=np.float64)
        rgb = cols[emap.majority]
        agree = np.clip((emap.agreement - 1.0 / k) / (1.0 - 1.0 / k), 0.0, 1.0)[..., None]
    a = WASH_MIN + (WASH_MAX - WASH_MIN) * agree
    out = bg * (1.0 - a) + rgb * a
    alpha = np.full((*out.shape[:2], 1), 255.0)
    img = np.concatenate([out, alpha], axis=-1)[::-1]  # lattice rows go up, image rows down
    return np.ascontiguousarray(np.clip(np.round(img), 0, 255).astype(np.uint8))


def _qimage(rgba: np.ndarray) -> QImage:
    h, w = rgba.shape[:2]
    img = QImage(rgba.data, w, h, 4 * w, QImage.Format.Format_RGBA8888)
    return img.copy()  # owns its pixels (the array may go)


def _qcolor(rgba: tuple[int, int, int, int]) -> QColor:
    return QColor(*rgba)


@dataclass(frozen=True)
class Layout:
    """Where the parts go in a w x h frame."""

    title: QRectF
    map: QRectF
    legend: QRectF
    caption: QRectF
    text_px: float


def layout(rect: QRectF, pic: EnsemblePicture, text: bool) -> Layout:
    px = max(11.0, min(rect.width(), rect.height()) / 48.0)
    pad = px
    title_h = 1.8 * px if text and pic.title else 0.0
    cap_h = 0.0
    if text and pic.caption:
        fm = QFontMetricsF(pixel_font(px))
        width = rect.width() - 2 * pad
        lines = max(1, int(np.ceil(fm.horizontalAdvance(pic.caption) / max(width, 1.0) * 1.15)))
        cap_h = (lines + 0.6) * fm.lineSpacing()
    legend_w = max(11.0 * px, 0.22 * rect.width())
    inner = rect.adjusted(pad, pad + title_h, -pad, -pad - cap_h)
    side = max(10.0, min(inner.height() - 2.2 * px, inner.width() - legend_w - 3.5 * px))
    map_rect = QRectF(inner.left() + 3.2 * px, inner.top(), side, side)
    legend = QRectF(map_rect.right() + 1.5 * px, inner.top(), legend_w, inner.height())
    title = QRectF(rect.left() + pad, rect.top() + pad * 0.5, rect.width() - 2 * pad, title_h)
    caption = QRectF(rect.left() + pad, rect.bottom() - pad - cap_h, rect.width() - 2 * pad, cap_h)
    return Layout(title, map_rect, legend, caption, px)


def paint_ensemble(
    painter: QPainter, rect: QRectF, pic: EnsemblePicture, text: bool = True
) -> Layout:
    """Draw the picture into `rect` (text: the title and caption bands too)."""
    lay = layout(rect, pic, text)
    pal, px = pic.palette, lay.text_px
    fg = _qcolor(pal.foreground)
    painter.save()
    painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
    painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, True)
    if text and pic.title:
        painter.setPen(fg)
        painter.setFont(pixel_font(1.15 * px, bold=True))
        painter.drawText(
            lay.title, int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter), pic.title
        )
    _paint_map(painter, lay.map, pic, px)
    _paint_legend(painter, lay.legend, pic, px)
    if text and pic.caption:
        painter.setPen(fg)
        painter.setFont(pixel_font(px))
        painter.drawText(
            lay.caption,
            int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop | Qt.TextFlag.TextWordWrap),
            pic.caption,
        )
    painter.restore()
    return lay


def _paint_map(painter: QPainter, r: QRectF, pic: EnsemblePicture, px: float) -> None:
    emap, pal = pic.emap, pic.palette
    x0, x1, y0, y1 = emap.extent

    def to_px(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return (
            r.left() + (x - x0) / (x1 - x0) * r.width(),
            r.top() + (y1 - y) / (y1 - y0) * r.height(),
        )

    painter.drawImage(r, _qimage(agreement_rgba(emap, pal)))
    order = [i for i in range(emap.members) if i != pic.selected]
    if pic.selected is not None and 0 <= pic.selected < emap.members:
        order.append(pic.selected)  # drawn last, on top
    for i in order:
        seg = emap.boundaries[i]
        if not len(seg):
            continue
        pen = QPen(member_colour(i))
        pen.setWidthF((3.2 if i == pic.selected else 1.4) * px / 12.0)
        pen.setCapStyle(Qt.PenCapStyle.RoundCap)
        painter.setPen(pen)
        ax, ay = to_px(seg[:, 0, 0], seg[:, 0, 1])
        bx, by = to_px(seg[:, 1, 0], seg[:, 1, 1])
        painter.drawLines([QLineF(*v) for v in zip(ax, ay, bx, by, strict=True)])
    _paint_points(painter, pic, to_px, px)
    painter.setBrush(Qt.BrushStyle.NoBrush)
    painter.setPen(QPen(_qcolor(pal.foreground), max(1.0, px / 14.0)))
    painter.drawRect(r)
    painter.setFont(pixel_font(0.8 * px))
    fm = QFontMetricsF(painter.font())
    for v, (x, y), align in (
        (x0, (r.left(), r.bottom() + 0.2 * px), Qt.AlignmentFlag.AlignLeft),
        (x1, (r.right() - 6 * px, r.bottom() + 0.2 * px), Qt.AlignmentFlag.AlignRight),
    ):
        painter.drawText(
            QRectF(x, y, 6 * px, fm.height()), int(align | Qt.AlignmentFlag.AlignTop), f"{v:.2f}"
        )
    for v, y in ((y1, r.top()), (y0, r.bottom() - fm.height())):
        painter.drawText(
            QRectF(r.left() - 3.2 * px, y, 3.0 * px, fm.height()),
            int(Qt.AlignmentFlag.AlignRight),
            f"{v:.2f}",
        )
    painter.drawText(
        QRectF(r.left(), r.bottom() + 0.2 * px, r.width(), fm.height()),
        int(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop),
        "input plane: x₁ →, x₂ ↑",
    )


def _paint_points(painter: QPainter, pic: EnsemblePicture, to_px: object, px: float) -> None:
    ds, pal = pic.dataset, pic.palette
    x, y = ds.x_train, ds.y_train
    if not len(x):
        return
    step = max(1, int(np.ceil(len(x) / MAX_POINTS)))
    x, y = x[::step], y[::step]
    ux, uy = to_px(x[:, 0], x[:, 1])  # type: ignore[operator]
    rad = max(1.6, 0.2 * px)
    outline = QPen(QColor(255, 255, 255, 220) if pal.name != "dark" else QColor(0, 0, 0, 220))
    outline.setWidthF(max(0.6, 0.06 * px))
    painter.setPen(outline)
    for label in np.unique(y):
        painter.setBrush(_qcolor(pal.class_color(int(label))))
        mask = y == label
        for a, b in zip(ux[mask], uy[mask], strict=True):
            painter.drawEllipse(QPointF(float(a), float(b)), rad, rad)


def _paint_legend(painter: QPainter, r: QRectF, pic: EnsemblePicture, px: float) -> None:
    pal, emap = pic.palette, pic.emap
    fg = _qcolor(pal.foreground)
    painter.setPen(fg)
    painter.setFont(pixel_font(px, bold=True))
    fm = QFontMetricsF(pixel_font(px))
    line = fm.lineSpacing()
    y = r.top()
    painter.drawText(
        QRectF(r.left(), y, r.width(), line), int(Qt.AlignmentFlag.AlignLeft), "Agreement"
    )
    y += 1.05 * line
    painter.setFont(pixel_font(0.8 * px))
    small = QFontMetricsF(painter.font()).lineSpacing()
    painter.drawText(
        QRectF(r.left(), y, r.width(), small),
        int(Qt.AlignmentFlag.AlignLeft),
        f"of the {len(pic.labels)} members",
    )
    y += small + 0.3 * px
    # the colour bar: the wash for each share of votes
    n, k = 64, emap.classes
    if k == 2:
        bar = QRectF(r.left(), y, r.width() - px, 0.9 * px)
        shares = np.linspace(0.0, 1.0, n)[None, :]
        fake = EnsembleMap(emap.extent, 2, shares, np.zeros_like(shares, dtype=np.int64), ())
        left, right = "all vote class 0", "all class 1"
    else:  # one stripe per class: its colour from a split vote to all agreeing
        bar = QRectF(r.left(), y, r.width() - px, 0.45 * px * k)
        shares = np.repeat(np.linspace(1.0 / k, 1.0, n)[None, :], k, axis=0)
        major = np.repeat(np.arange(k)[::-1, None], n, axis=1)  # class 0 on top
        fake = EnsembleMap(emap.extent, k, shares, major, ())
        left, right = "split", "all agree"
    painter.drawImage(bar, _qimage(agreement_rgba(fake, pal)))
    painter.setPen(QPen(fg, 0.8))
    painter.setBrush(Qt.BrushStyle.NoBrush)
    painter.drawRect(bar)
    y = bar.bottom() + 0.2 * px
    painter.setFont(pixel_font(0.8 * px))
    painter.drawText(
        QRectF(bar.left(), y, bar.width(), small), int(Qt.AlignmentFlag.AlignLeft), left
    )
    painter.drawText(
        QRectF(bar.left(), y, bar.width(), small), int(Qt.AlignmentFlag.AlignRight), right
    )
    y += small
    if emap.classes == 2:
        painter.drawText(
            QRectF(bar.left(), y, bar.width(), small),
            int(Qt.AlignmentFlag.AlignHCenter),
            "pale: members disagree",
        )
        y += small
    y += 0.8 * line
    painter.setFont(pixel_font(px, bold=True))
    painter.drawText(
        QRectF(r.left(), y, r.width(), line), int(Qt.AlignmentFlag.AlignLeft), "Decision boundaries"
    )
    y += 1.2 * line
    rows = len(pic.labels)
    room = max(1.0, r.bottom() - y)
    row_h = min(line * 1.05, room / max(1, rows))
    font_px = min(px, row_h / 1.3)
    for i, label in enumerate(pic.labels):
        chosen = i == pic.selected
        pen = QPen(member_colour(i))
        pen.setWidthF((3.2 if chosen else 1.6) * px / 12.0)
        painter.setPen(pen)
        mid = y + row_h / 2
        painter.drawLine(QLineF(r.left(), mid, r.left() + 2.2 * px, mid))
        painter.setPen(fg)
        painter.setFont(pixel_font(font_px, bold=chosen))
        painter.drawText(
            QRectF(r.left() + 2.8 * px, y, r.width() - 2.8 * px, row_h),
            int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter),
            label + ("  (selected)" if chosen else ""),
        )
        y += row_h


# ---------------------------------------------------------------------- files
def render_image(pic: EnsemblePicture, width: int = 1400, height: int = 1000) -> QImage:
    """The picture with its title and caption as an image (no window; needs a QGuiApplication)."""
    img = QImage(width, height, QImage.Format.Format_ARGB32)
    img.fill(_qcolor(pic.palette.background))
    painter = QPainter(img)
    try:
        paint_ensemble(painter, QRectF(0, 0, width, height), pic, text=True)
    finally:
        painter.end()
    return img


def write_png(
    path: str | Path, pic: EnsemblePicture, width: int = 1400, height: int = 1000
) -> Path:
    """Write the picture as a PNG beside `path`, checked, then moved into place
    (core.io.files.AtomicWriter): a failure raises OSError and keeps the old file."""
    p = Path(path)
    if p.suffix.lower() != ".png":
        p = p.with_suffix(".png")
    img = render_image(pic, width, height)
    write_picture(p, ".png", lambda temp: img.save(str(temp)))
    return p
