"""Draw `bench_msa.py --curves FILE`'s curves: median training loss over the seeds against
iterations and against wall seconds, ring and spiral (docs/img/msa-vs-sgd-adam.png).

Run: QT_QPA_PLATFORM=offscreen .venv/bin/python benchmarks/plot_msa.py CURVES.json OUT.png
"""

from __future__ import annotations

import itertools
import json
import math
import sys

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QGuiApplication, QImage, QPainter, QPen

COLOURS = {"msa": "#d62728", "sgd": "#1f77b4", "sgd_x3": "#17becf", "adam": "#2ca02c"}
NAMES = {"msa": "E-MSA lr 0.5, 3 inner steps, ρ 1", "sgd": "SGD lr 0.5",
         "sgd_x3": "SGD lr 1.5", "adam": "Adam lr 0.01"}  # fmt: skip
LO, HI = 1e-3, 1.0  # the loss axis (log; lower losses drawn at 0.001)
ACC_LO = 0.5  # the dense accuracy axis


def medians(runs: list[list[list[float]]], column: int, value: int) -> tuple[np.ndarray, ...]:
    """(x, median of `value`): x the median over seeds of `column` (0 step, 3 elapsed);
    value 1 the training loss, 2 the dense accuracy."""
    n = min(len(r) for r in runs)
    arr = np.array([[row for row in r[:n]] for r in runs], dtype=float)  # (S, n, 4)
    return np.median(arr[:, :, column], axis=0), np.median(arr[:, :, value], axis=0)


def panel(
    p: QPainter, box: QRectF, title: str, series: dict[str, tuple], xlabel: str, loss: bool
) -> None:
    xmax = max(float(x.max()) for x, _ in series.values()) or 1.0
    use_log_x = xlabel.startswith("wall")
    xmin = min(float(x[x > 0].min()) for x, _ in series.values()) if use_log_x else 0.0

    def to_px(x: float, y: float) -> QPointF:
        if use_log_x:
            fx = (math.log10(max(x, xmin)) - math.log10(xmin)) / (
                math.log10(xmax) - math.log10(xmin)
            )
        else:
            fx = x / xmax
        if loss:
            fy = (math.log10(min(max(y, LO), HI)) - math.log10(LO)) / (
                math.log10(HI) - math.log10(LO)
            )
        else:
            fy = (min(max(y, ACC_LO), 1.0) - ACC_LO) / (1.0 - ACC_LO)
        return QPointF(box.left() + fx * box.width(), box.bottom() - fy * box.height())

    p.setPen(QPen(QColor("#888"), 1))
    p.drawRect(box)
    p.setFont(QFont("Sans", 11))
    for y in (1e-3, 1e-2, 1e-1, 1.0) if loss else (0.5, 0.6, 0.7, 0.8, 0.9, 1.0):
        pt = to_px(xmin if use_log_x else 0.0, y)
        p.drawLine(QPointF(box.left() - 4, pt.y()), QPointF(box.left(), pt.y()))
        p.drawText(QRectF(box.left() - 60, pt.y() - 9, 54, 18), Qt.AlignRight, f"{y:g}")
    ticks = [10.0**k for k in range(-1, 3)] if use_log_x else np.linspace(0, xmax, 4)
    for x in ticks:
        if use_log_x and not xmin <= x <= xmax:
            continue
        pt = to_px(x, LO if loss else ACC_LO)
        p.drawLine(QPointF(pt.x(), box.bottom()), QPointF(pt.x(), box.bottom() + 4))
        p.drawText(QRectF(pt.x() - 40, box.bottom() + 4, 80, 18), Qt.AlignHCenter, f"{x:g}")
    p.drawText(QRectF(box.left(), box.bottom() + 22, box.width(), 20), Qt.AlignHCenter, xlabel)
    p.setFont(QFont("Sans", 12, QFont.Bold))
    p.setPen(QColor("black"))
    p.drawText(QRectF(box.left(), box.top() - 24, box.width(), 22), Qt.AlignHCenter, title)
    for name, (x, y) in series.items():
        p.setPen(QPen(QColor(COLOURS[name]), 2.5))
        pts = [
            to_px(float(a), float(b)) for a, b in zip(x, y, strict=True) if a > 0 or not use_log_x
        ]
        for a, b in itertools.pairwise(pts):
            p.drawLine(a, b)


def main() -> None:
    with open(sys.argv[1], encoding="utf-8") as f:
        curves = json.load(f)
    out = sys.argv[2]
    _app = QGuiApplication.instance() or QGuiApplication([])
    w, h = 1400, 1640
    img = QImage(w, h, QImage.Format_ARGB32)
    img.fill(QColor("white"))
    p = QPainter(img)
    p.setRenderHint(QPainter.Antialiasing)
    rows = [(d, v) for d in ("ring", "spiral") for v in (1, 2)]
    for row, (data, value) in enumerate(rows):
        what = "training loss" if value == 1 else "dense accuracy"
        for col, (column, label) in enumerate(((0, "iterations"), (3, "wall seconds (log)"))):
            series = {o: medians(curves[f"{data}/{o}"], column, value) for o in COLOURS}
            box = QRectF(90 + col * 660, 50 + row * 390, 560, 290)
            title = f"{data}: median {what} over 8 seeds"
            panel(p, box, title, series, label, loss=value == 1)
    p.setFont(QFont("Sans", 11))
    for i, (name, text) in enumerate(NAMES.items()):
        x = 90 + i * 320
        p.setPen(QPen(QColor(COLOURS[name]), 4))
        p.drawLine(QPointF(x, h - 25), QPointF(x + 30, h - 25))
        p.setPen(QColor("black"))
        p.drawText(QRectF(x + 36, h - 36, 280, 22), Qt.AlignLeft | Qt.AlignVCenter, text)
    p.end()
    img.save(out)


if __name__ == "__main__":
    main()
