"""The sweep heatmap as a lecture hall reads it: fields and metric in the panel's words,
every cell writes its value in a colour that contrasts with it, and accuracy is
coloured on a fixed scale (98.5 % is not painted as if it were the worst)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from PySide6.QtCore import QRectF
from PySide6.QtGui import QColor, QImage, QPainter

from nndyn_gui.core.sweep.results import Heatmap
from nndyn_gui.render import heatmap as hmap


class _Recording(QPainter):
    """A painter that keeps every text it draws."""

    def __init__(self, device: Any) -> None:
        super().__init__(device)
        self.texts: list[str] = []

    def drawText(self, *args: Any) -> None:
        self.texts.extend(a for a in args if isinstance(a, str))
        super().drawText(*args)


def _heatmap(values: list[list[float]], metric: str = "dense_accuracy") -> Heatmap:
    v = np.asarray(values, dtype=float)
    ny, nx = v.shape
    rows = [[[{"status": "finished", metric: v[iy, ix]}] for ix in range(nx)] for iy in range(ny)]
    return Heatmap(
        x_field="model.depth",
        y_field="model.width",
        metric=metric,
        agg="mean",
        x_values=[2, 4, 8][:nx],
        y_values=[2, 3][:ny],
        values=v,
        counts=np.ones_like(v),
        totals=np.ones_like(v),
        cells=rows,
        where={"model.h": 0.5},
        pooled=["train.seed"],
    )


def _paint(hm: Heatmap, scale: str = "absolute") -> tuple[QImage, list[str], hmap.HeatmapLayout]:
    img = QImage(1000, 700, QImage.Format.Format_RGB32)
    img.fill(hmap.BACKGROUND)
    painter = _Recording(img)
    try:
        layout = hmap.paint_heatmap(painter, QRectF(0, 0, 1000, 700), hm, scale=scale)
    finally:
        painter.end()
    return img, painter.texts, layout


def _cell_colour(img: QImage, layout: hmap.HeatmapLayout, iy: int, ix: int) -> QColor:
    r = layout.cell_rect(iy, ix)
    return img.pixelColor(round(r.left() + 6), round(r.top() + 6))  # a corner: no text


def _close(a: QColor, b: QColor) -> bool:
    return max(abs(a.red() - b.red()), abs(a.green() - b.green()), abs(a.blue() - b.blue())) <= 3


def test_axes_and_metric_carry_the_panels_words_and_every_cell_its_value(qapp: Any) -> None:
    hm = _heatmap([[0.205, 0.21, 0.2], [0.305, 0.985, 1.0]])
    _img, texts, _ = _paint(hm)
    assert "Width d" in texts and "Depth T" in texts  # not "model.width", "model.depth"
    assert "dense accuracy — mean per cell" in texts
    assert not any("model." in t or "dense_accuracy" in t for t in texts), texts
    assert any("Step h = 0.5" in t for t in texts)  # the fixed field, in words too
    for value in ("20.5%", "21.0%", "20.0%", "30.5%", "98.5%", "100%"):
        assert value in texts  # written in its cell, not only a colour


def test_accuracy_is_coloured_on_a_fixed_0_to_100_percent_scale_by_default(qapp: Any) -> None:
    hm = _heatmap([[0.6, 0.7], [0.985, 1.0]])
    img, texts, layout = _paint(hm)
    assert _close(_cell_colour(img, layout, 0, 0), hmap.viridis(0.6))  # not the darkest
    assert _close(_cell_colour(img, layout, 1, 0), hmap.viridis(0.985))
    assert {"0.0%", "50.0%", "100%"} <= set(texts)  # the colour bar's ends and middle
    assert any("colours: 0–100 %" in t for t in texts)
    # lowest to highest cell, when asked for: 60 % becomes the darkest colour
    img, texts, layout = _paint(hm, "range")
    assert _close(_cell_colour(img, layout, 0, 0), hmap.viridis(0.0))
    assert _close(_cell_colour(img, layout, 1, 1), hmap.viridis(1.0))
    assert "60.0%" in texts and any("colours: lowest to highest cell" in t for t in texts)


def test_a_metric_that_is_no_share_spans_its_cells(qapp: Any) -> None:
    hm = _heatmap([[1.0, 3.0], [2.0, 5.0]], metric="winding")
    assert hmap.colour_range(hm) == (1.0, 5.0)
    _img, texts, _ = _paint(hm)
    assert "winding — mean per cell" in texts and "5" in texts
    with pytest.raises(ValueError, match="colour scale"):
        hmap.colour_range(hm, "log")


def test_cell_text_contrasts_with_every_colour_of_the_scale() -> None:
    for t in np.linspace(0.0, 1.0, 201):
        c = hmap.viridis(float(t))
        assert hmap.contrast(hmap.ink(c), c) >= 4.5, (t, c.name())
    assert hmap.contrast(hmap.ink(hmap.EMPTY), hmap.EMPTY) >= 4.5


def test_labels_fall_back_to_the_name_for_what_the_registry_does_not_know() -> None:
    assert hmap.field_label("model.width") == "Width d"
    assert hmap.field_label("train.seed") == "Init seed"
    assert hmap.field_label("old.field") == "old.field"
    assert hmap.metric_label("test_acc") == "test accuracy"
    assert hmap.metric_label("wrong_side_share") == "wrong side share"
