"""The input map's per-unit pictures: each unit of one layer as a small map over the
input plane, titled "layer L, unit j", laid out as large as the space allows.

Why painted by hand: a width-64 layer is 64 maps; 64 pyqtgraph plots would cost
seconds to build and each redraw while training. One widget paints the RGBA tiles the
background job made (render/input_map.py) with QPainter instead.
"""

from __future__ import annotations

import math

import numpy as np
from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontMetricsF,
    QImage,
    QPainter,
    QPaintEvent,
    QPen,
    QPixmap,
)
from PySide6.QtWidgets import QSizePolicy, QWidget

GAP = 6.0  # pixels between tiles
MIN_TITLE_PX = 12


def tile_layout(n: int, width: float, height: float, title_h: float) -> tuple[int, float]:
    """(columns, tile side) that makes n square tiles, each with a title line above it,
    as large as they can be in width x height."""
    best = (1, 0.0)
    for cols in range(1, max(1, n) + 1):
        rows = math.ceil(n / cols)
        side = min((width - GAP * (cols - 1)) / cols, (height - rows * (title_h + GAP)) / rows)
        if side > best[1]:
            best = (cols, side)
    return best


class UnitGrid(QWidget):
    """Tiles of one layer's units; `set_units(layer, maps)` replaces them."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("inputMapUnits")
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.layer = 0
        self._images: list[QImage] = []
        self._arrays: list[np.ndarray] = []  # the QImages point into these
        self.title_px = 14
        self.dimmed = False  # an older snapshot's tiles while a newer one is computed
        self._cache: QPixmap | None = None  # the tiles as last painted
        self._tiles: list[QRectF] = []  # where they are

    def sizeHint(self) -> QSize:
        return QSize(400, 160)

    def minimumSizeHint(self) -> QSize:
        return QSize(120, 60)

    def count(self) -> int:
        """How many unit maps are shown (the layer's width)."""
        return len(self._images)

    def titles(self) -> list[str]:
        return [f"layer {self.layer}, unit {j + 1}" for j in range(self.count())]

    def set_units(self, layer: int, maps: list[np.ndarray]) -> None:
        self.layer = layer
        self._arrays = [np.ascontiguousarray(m[::-1]) for m in maps]  # row 0 on top
        self._images = [
            QImage(a.data, a.shape[1], a.shape[0], 4 * a.shape[1], QImage.Format.Format_RGBA8888)
            for a in self._arrays
        ]
        self._cache = None
        self.update()

    def set_title_px(self, px: int) -> None:
        px = max(MIN_TITLE_PX, int(px))
        if px != self.title_px:
            self.title_px = px
            self._cache = None
            self.update()

    def paintEvent(self, _ev: QPaintEvent) -> None:
        """The tiles from a cached picture (made again only when the units or the size
        change); the veil of an older snapshot over them."""
        ratio = self.devicePixelRatioF()
        if self._cache is None or self._cache.size() != self.size() * ratio:
            self._cache = QPixmap(self.size() * ratio)
            self._cache.setDevicePixelRatio(ratio)
            self._cache.fill(Qt.GlobalColor.transparent)
            cp = QPainter(self._cache)
            try:
                self._paint(cp)
            finally:
                cp.end()
        p = QPainter(self)
        try:
            p.drawPixmap(0, 0, self._cache)
            if self.dimmed:
                for r in self._tiles:
                    p.fillRect(r, QColor(255, 255, 255, 150))
        finally:
            p.end()

    def _paint(self, p: QPainter) -> None:
        self._tiles = []
        n = self.count()
        if not n:
            return
        font = QFont()
        font.setPixelSize(self.title_px)
        fm = QFontMetricsF(font)
        title_h = fm.height() + 2
        w, h = float(self.width()), float(self.height())
        cols, side = tile_layout(n, w, h, title_h)
        if side < 8:  # too small to mean anything: say so rather than draw specks
            p.setFont(font)
            p.drawText(self.rect(), int(Qt.AlignmentFlag.AlignCenter), "(enlarge to see the units)")
            return
        # titles shrink (not below MIN_TITLE_PX) when tiles are narrower than their
        # text, then drop the layer (the chooser above names it), then the word
        titles = self.titles()
        while fm.horizontalAdvance(titles[-1]) > side and font.pixelSize() > MIN_TITLE_PX:
            font.setPixelSize(font.pixelSize() - 1)
            fm = QFontMetricsF(font)
        if fm.horizontalAdvance(titles[-1]) > side + GAP:
            titles = [f"unit {j + 1}" for j in range(n)]
        if fm.horizontalAdvance(titles[-1]) > side + GAP:
            titles = [str(j + 1) for j in range(n)]
        p.setFont(font)
        p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, False)
        p.setRenderHint(QPainter.RenderHint.TextAntialiasing)
        rows = math.ceil(n / cols)
        used_w = cols * side + (cols - 1) * GAP
        x0 = (w - used_w) / 2
        for j, (img, title) in enumerate(zip(self._images, titles, strict=True)):
            r, c = divmod(j, cols)
            x = x0 + c * (side + GAP)
            y = r * (title_h + side + GAP)
            if r >= rows:
                break
            p.setPen(QPen(self.palette().windowText().color()))
            shown = fm.elidedText(title, Qt.TextElideMode.ElideRight, side + GAP)
            p.drawText(
                QRectF(x - GAP / 2, y, side + GAP, title_h),
                int(Qt.AlignmentFlag.AlignCenter),
                shown,
            )
            target = QRectF(x, y + title_h, side, side)
            p.drawImage(target, img)
            p.setPen(QPen(QColor(120, 120, 120), 1))
            p.setBrush(Qt.BrushStyle.NoBrush)
            p.drawRect(target)
            self._tiles.append(target)
