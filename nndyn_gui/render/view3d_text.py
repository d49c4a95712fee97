"""The 3-D layer view's words, painted over the GL image: layer name, notes, axis names.

Why its own module: OpenGL draws no text, so the view paints its words with a QPainter
after the scene (on screen and in views.capture alike), and where they go is a job of
its own: the layer's name, its projection note and the overlays' captions as one block
in an image corner clear of the box and the data, each axis name beside the box's edge
(render/axis_labels.py), fixed points named where they are, a notice in the corner.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from PySide6.QtCore import QPointF, QRectF
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QPainter

from nndyn_gui.render.axis_labels import place_axis_labels, place_corner_block
from nndyn_gui.render.scene import FlowScene, box_corners
from nndyn_gui.render.scene_view import finite, held_weakly

if TYPE_CHECKING:
    from nndyn_gui.render.view3d import LayerView3D

TITLE_PX, NOTE_PX = 14.0, 12.0  # overlay text at scale 1 (>= 12 px: legible)

#: a text and where it goes: (x, y of its baseline's left end in pixels, text, kind);
#: kind: "title" | "note" | "axis" | "notice"
Text = tuple[float, float, str, str]


class OverlayText3D:
    """The texts of one 3-D view for a width x height image, and their painting."""

    def __init__(self, view: LayerView3D) -> None:
        self._view = held_weakly(view)

    def font(self, kind: str) -> QFont:
        """The font for a text of this kind (title, note, axis, notice)."""
        v = self._view
        font = QFont()
        px = TITLE_PX if kind == "title" and not v.compact_overlay else NOTE_PX
        font.setPixelSize(max(6, round(px * v._text_scale())))
        font.setBold(kind in ("title", "notice"))
        return font

    def texts(self, width: int, height: int) -> list[Text]:
        """Layer label, its notes, fixed points' names, axis names and the notice."""
        v = self._view
        out: list[Text] = []
        sc = v.flow_scene()
        if sc is None:
            return out
        k = v._text_scale()
        if v.compact_overlay:
            name = sc.frame_labels[round(min(max(v.time(), 0.0), sc.t_max))]
            return [(4.0 * k, (NOTE_PX + 4.0) * k, name, "title")]
        block = self._caption_block(sc, width, height)
        for x, y, text, kind in block[0]:
            out.append((x, y, text, kind))
        if v.field.labels:
            pts = np.array([y for y, _ in v.field.labels])
            for (x, y), (_, kind) in zip(
                v.project_points(pts, width, height), v.field.labels, strict=True
            ):
                if np.isfinite(x) and np.isfinite(y):
                    out.append((float(x) + 9 * k, float(y) - 6 * k, f"fixed point: {kind}", "note"))
        out.extend(self._axis_texts(width, height, block[1]))
        if v.notice():
            out.append((8.0 * k, height - 10.0 * k, v.notice(), "notice"))
        return out

    def _caption_block(
        self, sc: FlowScene, width: int, height: int
    ) -> tuple[list[Text], list[tuple[float, float, float, float]]]:
        """The layer's name, its note and the overlays' captions as one block in an image
        corner clear of the box and the data (render/axis_labels.place_corner_block);
        none when `in_picture_text` is off. Returns the texts and the block's rectangle."""
        v = self._view
        if not v.in_picture_text:
            return [], []
        lines = [(v._label, "title")]
        lines += [(t, "note") for t in (sc.view_note(v.time()), *v.layers.captions()) if t]
        metrics = [QFontMetricsF(self.font(kind)) for _, kind in lines]
        w = max(fm.horizontalAdvance(t) for (t, _), fm in zip(lines, metrics, strict=True))
        h = sum(fm.lineSpacing() for fm in metrics)
        k = v._text_scale()
        corners = v.project_points(box_corners(v._bounds), width, height)
        t = v.time()
        rect = place_corner_block(
            corners,
            (w + 2.0, h),
            width,
            height,
            lambda: v.project_points(finite(sc.at(t).points), width, height),
            pad=8.0 * k,
        )
        out, y = [], rect[1]
        for (text, kind), fm in zip(lines, metrics, strict=True):
            out.append((rect[0], y + fm.ascent(), text, kind))
            y += fm.lineSpacing()
        return out, [rect]

    def axis_label_rects(
        self, width: int, height: int, taken: Sequence[tuple[float, float, float, float]] = ()
    ) -> list[tuple[str, QRectF]]:
        """(name, rectangle in pixels) of each axis name (see LayerView3D.axis_label_rects)."""
        v = self._view
        sc = v.flow_scene()
        if sc is None or v.compact_overlay:
            return []
        names = [n for n in sc.axis_labels(v.time())[:3]]
        if not any(names):
            return []
        fm = QFontMetricsF(self.font("axis"))
        sizes = [(fm.horizontalAdvance(n) + 2.0, fm.height()) for n in names]
        corners = v.project_points(box_corners(v._bounds), width, height)
        t = v.time()

        def data_px() -> np.ndarray:
            return v.project_points(finite(sc.at(t).points), width, height)

        k = v._text_scale()
        if not taken:
            taken = self._caption_block(sc, width, height)[1]
        rects = place_axis_labels(corners, sizes, width, height, data_px, 4.0 * k, taken)
        return [(n, QRectF(*r)) for n, r in zip(names, rects, strict=True) if n and r is not None]

    def _axis_texts(self, width: int, height: int, taken: Sequence[Any] = ()) -> list[Text]:
        fm = QFontMetricsF(self.font("axis"))
        return [
            (r.left() + 1.0, r.top() + fm.ascent(), name, "axis")
            for name, r in self.axis_label_rects(width, height, taken)
        ]

    def paint(self, painter: QPainter, width: int, height: int) -> None:
        """Draw the texts in the palette's foreground (a notice in its warning colour)."""
        pal = self._view._pal
        painter.setRenderHint(QPainter.RenderHint.TextAntialiasing)
        for x, y, text, kind in self.texts(width, height):
            painter.setFont(self.font(kind))
            color = pal.wrong if kind == "notice" else pal.foreground
            painter.setPen(QColor(*color))
            painter.drawText(QPointF(x, y), text)
