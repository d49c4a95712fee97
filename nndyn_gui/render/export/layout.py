"""Everything painted around and between the views of a frame: title and caption bands,
the class legend, panel names and the lines between panels.

Bands, not overlays: the title sits above the picture and the caption below it, so text
never hides a view's own layer label or axes. Sizes are shares of the frame (or times
ViewOptions.scale), so 1080p and 4K look like 720p enlarged.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from PySide6.QtCore import QLineF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QPainter, QPen

from nndyn_gui.render.export.options import ExportOptions
from nndyn_gui.render.palette import Palette

#: legend text and panel names at scale 1 (times ViewOptions.scale): at 1080p (scale
#: 2.25) 38 px, whose capitals are >= 2.5 % of the height, read from the back of a hall
LABEL_PX = 17.0


def text_bands(height: int, title: str, caption: str) -> tuple[int, int]:
    """Pixel heights of the title band (top) and caption band (bottom); 0 when unused.

    A share of the height (so 1080p and 4K look like 720p enlarged), small enough that
    the picture keeps most of the frame: 8.5% and 5% (61 and 36 px at 720p); the title's
    letters are then >= 4 % of the frame's height."""
    top = max(18, round(height * 0.085)) if title else 0
    bottom = max(14, round(height * 0.05)) if caption else 0
    if top + bottom > height // 2:  # tiny frames: text never takes more than half
        top, bottom = min(top, height // 4), min(bottom, height // 4)
    return top, bottom


def frame_bands(options: ExportOptions) -> tuple[int, int]:
    """The title and caption bands of this export (training videos always caption the
    step and loss, so they always have a caption band)."""
    caption = options.caption or ("step" if options.content == "training" else "")
    return text_bands(options.height, options.title, caption)


def paint_text_bands(
    painter: QPainter, width: int, height: int, title: str, caption: str, pal: Palette
) -> None:
    """Title centred in a band above the picture, caption in a band below it."""
    top, bottom = text_bands(height, title, caption)
    for text, rect, bold in (
        (title, QRectF(0, 0, width, top), True),
        (caption, QRectF(0, height - bottom, width, bottom), False),
    ):
        if not text or rect.height() <= 0:
            continue
        font = QFont()
        font.setPixelSize(max(6, round(rect.height() * (0.6 if bold else 0.55))))
        font.setBold(bold)
        painter.save()
        painter.setFont(font)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setRenderHint(QPainter.RenderHint.TextAntialiasing)
        painter.setPen(QPen(QColor(*pal.foreground)))
        fm = painter.fontMetrics()
        shown = fm.elidedText(text, Qt.TextElideMode.ElideRight, max(10, width - 16))
        painter.drawText(rect, int(Qt.AlignmentFlag.AlignCenter), shown)
        painter.restore()


def legend_entries(labels: np.ndarray, names: Sequence[str] = ()) -> list[tuple[int, str]]:
    """(class, name) for each class present in the data: its typed name
    (`DataConfig.names`) where there is one, else "class k"."""
    present = sorted({int(v) for v in np.unique(np.asarray(labels).astype(np.int64))})
    return [(k, names[k] if 0 <= k < len(names) else f"class {k}") for k in present]


#: where the legend may go, in the order preferred when two cover as little
CORNERS = ("top-right", "top-left", "bottom-right", "bottom-left")


def _legend_font(scale: float) -> QFont:
    font = QFont()
    font.setPixelSize(max(6, round(LABEL_PX * scale)))
    return font


def legend_box(
    area: QRectF, entries: list[tuple[int, str]], scale: float, corner: str = "top-right"
) -> QRectF:
    """The rectangle the legend takes in `corner` of `area` (empty without entries)."""
    if not entries:
        return QRectF()
    fm = QFontMetricsF(_legend_font(scale))
    pad, dot = 6.0 * scale, 0.7 * fm.height()
    row_h = fm.height() * 1.15
    text_w = max(fm.horizontalAdvance(name) for _, name in entries)
    w = pad * 2 + dot + pad * 0.8 + text_w + 2
    h = pad * 2 + row_h * len(entries)
    x = area.left() + pad if corner.endswith("left") else area.right() - w - pad
    y = area.bottom() - h - pad if corner.startswith("bottom") else area.top() + pad
    return QRectF(x, y, w, h)


def legend_corner(
    pictures: Sequence[np.ndarray],
    area: QRectF,
    entries: list[tuple[int, str]],
    scale: float,
    ink: Sequence[tuple[int, int, int]],
) -> str:
    """The corner of `area` where the legend hides the fewest drawn marks.

    `pictures`: frames of the picture as (H, W, 4) BGRA arrays in `area`'s coordinates
    (a video's first and last: one place for the whole video, so the legend never jumps);
    `ink`: the RGB colours of what must stay visible (the classes' points, the boundary,
    text). A pixel within 60 of one of them counts; the pale region wash and the page do
    not. Ties keep the order of CORNERS (top-right first)."""
    if not entries or not pictures:
        return CORNERS[0]
    colours = np.asarray(ink, dtype=np.int32).reshape(-1, 1, 1, 3)
    best, least = CORNERS[0], None
    for corner in CORNERS:
        box = legend_box(area, entries, scale, corner)
        covered = 0
        for pic in pictures:
            h, w = pic.shape[:2]
            x0, x1 = max(0, int(box.left())), min(w, int(box.right()) + 1)
            y0, y1 = max(0, int(box.top())), min(h, int(box.bottom()) + 1)
            if x1 <= x0 or y1 <= y0:
                continue
            rgb = pic[y0:y1, x0:x1, 2::-1].astype(np.int32)[None]  # BGRA -> RGB
            near = (np.abs(rgb - colours).max(axis=-1) < 60).any(axis=0)
            covered += int(near.sum())
        if least is None or covered < least:
            best, least = corner, covered
    return best


def paint_legend(
    painter: QPainter,
    area: QRectF,
    entries: list[tuple[int, str]],
    pal: Palette,
    scale: float,
    corner: str = "top-right",
) -> QRectF:
    """The class colours and names in a small box in `corner` of `area` (the exporter
    picks the corner that hides the fewest points: `legend_corner`).

    Drawn on a translucent backing in the page colour, so it reads over the picture and
    hides little of it. Returns the box drawn.
    """
    if not entries:
        return QRectF()
    font = _legend_font(scale)
    box = legend_box(area, entries, scale, corner)
    painter.save()
    painter.setFont(font)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setRenderHint(QPainter.RenderHint.TextAntialiasing)
    fm = QFontMetricsF(font)
    pad, dot = 6.0 * scale, 0.7 * fm.height()
    row_h = fm.height() * 1.15
    bg = QColor(*pal.background[:3], 215 if pal.background[3] else 0)
    painter.setPen(QPen(QColor(*pal.grid[:3], 200), max(1.0, 0.8 * scale)))
    painter.setBrush(bg)
    painter.drawRoundedRect(box, 4 * scale, 4 * scale)
    text_w = box.width() - (pad * 2 + dot + pad * 0.8)
    for i, (k, name) in enumerate(entries):
        y = box.top() + pad + row_h * i
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor(*pal.class_color(k)))
        painter.drawEllipse(QRectF(box.left() + pad, y + (row_h - dot) / 2, dot, dot))
        painter.setPen(QPen(QColor(*pal.foreground)))
        text_rect = QRectF(box.left() + pad + dot + pad * 0.8, y, text_w + 2, row_h)
        painter.drawText(text_rect, int(Qt.AlignmentFlag.AlignVCenter), name)
    painter.restore()
    return box


def panel_name_band(scale: float) -> int:
    """Height of the band that names a panel above it (two runs compared)."""
    return round(LABEL_PX * scale * 1.7)


def paint_panel_name(
    painter: QPainter, rect: QRectF, name: str, pal: Palette, scale: float
) -> None:
    """A panel's name, bold and centred in `rect` (its band above the panel), elided."""
    font = QFont()
    font.setPixelSize(max(6, round(LABEL_PX * scale)))
    font.setBold(True)
    painter.save()
    painter.setFont(font)
    painter.setPen(QPen(QColor(*pal.foreground)))
    shown = painter.fontMetrics().elidedText(
        name, Qt.TextElideMode.ElideRight, max(10, round(rect.width()) - 8)
    )
    painter.drawText(rect, int(Qt.AlignmentFlag.AlignCenter), shown)
    painter.restore()


def divider_lines(n: int, pw: float, top: float, ph: float) -> list[QLineF]:
    """The thin lines between `n` panels of width `pw` in a row from `top`, `ph` tall."""
    return [QLineF(j * pw, top + 4, j * pw, top + ph - 4) for j in range(1, n)]


def paint_dividers(painter: QPainter, pal: Palette, lines: Sequence[QLineF]) -> None:
    if not lines:
        return  # (an SVG would keep an empty group)
    pen = QPen(QColor(*pal.grid))
    pen.setWidthF(1.0)
    painter.save()
    painter.setPen(pen)
    for line in lines:
        painter.drawLine(line)
    painter.restore()
