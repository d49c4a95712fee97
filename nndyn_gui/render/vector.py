"""SVG and PDF output of 2-D views and keyframe sheets, for papers and slides that zoom.

PySide6-Essentials ships both `QtSvg.QSvgGenerator` and `QtGui.QPdfWriter`, so a figure
is painted once through a plain `QPainter` callback and the same code serves PNG (a
QImage), SVG and PDF. pyqtgraph normally draws scatter points from cached pixmaps; the
export mode set by `vector_mode` makes them emit real vector paths instead, which is
what keeps points sharp when the slide is zoomed. The decision-region wash stays a
(small) embedded raster image: it is one by nature.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from PySide6.QtCore import QMarginsF, QRect, QRectF, QSize, QSizeF
from PySide6.QtGui import QPageLayout, QPageSize, QPainter, QPdfWriter
from PySide6.QtSvg import QSvgGenerator
from PySide6.QtWidgets import QGraphicsView

Painter = Callable[[QPainter], None]


@contextlib.contextmanager
def vector_mode(view: QGraphicsView, background: Any = None) -> Iterator[None]:
    """Switch pyqtgraph items of `view` to export mode (vector symbols) while painting."""
    items = [it for it in view.scene().items() if hasattr(it, "setExportMode")]
    opts = {"antialias": True, "background": background, "resolutionScale": 1.0}
    for it in items:
        it.setExportMode(True, opts)
    try:
        yield
    finally:
        for it in items:
            it.setExportMode(False)


def paint_graphics_view(painter: QPainter, view: QGraphicsView, target: QRectF) -> None:
    """Draw a (hidden) pyqtgraph view into `target`, resized so its layout fits exactly."""
    size = QSize(round(target.width()), round(target.height()))
    if view.size() != size:
        from nndyn_gui.render.views import _resize_hidden

        _resize_hidden(view, size.width(), size.height())
        if hasattr(view, "set_time") and hasattr(view, "time"):
            view.set_time(view.time())  # re-frame for the new aspect ratio
    scene = view.scene()
    if hasattr(scene, "prepareForPaint"):
        scene.prepareForPaint()
    painter.save()
    try:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        with vector_mode(view):
            view.render(painter, target, view.viewport().rect())
    finally:
        painter.restore()


def write_svg(path: str | Path, width: int, height: int, paint: Painter, title: str = "") -> None:
    """An SVG of `width` x `height` user units (= pixels) drawn by `paint`."""
    gen = QSvgGenerator()
    gen.setFileName(str(path))
    gen.setSize(QSize(width, height))
    gen.setViewBox(QRect(0, 0, width, height))
    gen.setTitle(title or "nndyn")
    gen.setDescription("nndyn: a neural network's flow, layer by layer")
    painter = QPainter()
    if not painter.begin(gen):
        raise OSError(f"cannot open {path} for writing")
    try:
        paint(painter)
    finally:
        painter.end()
    _check_written(path)


def write_pdf(path: str | Path, width: int, height: int, paint: Painter, title: str = "") -> None:
    """A one-page PDF whose page is `width` x `height` points (1 px -> 1 pt)."""
    writer = QPdfWriter(str(path))
    writer.setTitle(title or "nndyn")
    writer.setCreator("nndyn")
    writer.setResolution(72)
    layout = QPageLayout(
        QPageSize(QSizeF(width, height), QPageSize.Unit.Point, "nndyn"),
        QPageLayout.Orientation.Portrait,
        QMarginsF(0, 0, 0, 0),
    )
    writer.setPageLayout(layout)
    painter = QPainter()
    if not painter.begin(writer):
        raise OSError(f"cannot open {path} for writing")
    try:
        # the paint device may round the page; scale so `width` x `height` fills it
        vp = painter.viewport()
        painter.setWindow(0, 0, width, height)
        painter.setViewport(vp)
        paint(painter)
    finally:
        painter.end()
    _check_written(path)


def write_vector(
    path: str | Path, width: int, height: int, paint: Painter, title: str = ""
) -> None:
    """SVG or PDF by extension."""
    ext = Path(path).suffix.lower()
    if ext == ".svg":
        write_svg(path, width, height, paint, title)
    elif ext == ".pdf":
        write_pdf(path, width, height, paint, title)
    else:
        raise ValueError(f"not a vector format: {ext}")


def _check_written(path: str | Path) -> None:
    """Qt reports write failures only through an empty file: turn that into an error."""
    p = Path(path)
    if not p.exists() or p.stat().st_size == 0:
        raise OSError(f"nothing was written to {p} (disk full or not writable?)")
