"""The 2-D view's mouse: clicks and drags become picks, rectangle selections and drawing.

Why its own module: pyqtgraph hands mouse events to the ViewBox; `_SelectViewBox` turns
them into plain signals (a point or a rectangle in view coordinates, a draw stroke), so
render/view2d.py only answers them. Also a scatter that lets clicks through (`_Scatter`).
"""

from __future__ import annotations

from typing import Any

import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt, Signal
from PySide6.QtWidgets import QGraphicsRectItem


class _Scatter(pg.ScatterPlotItem):
    """A scatter that lets clicks through to the ViewBox, which does the picking."""

    def mouseClickEvent(self, ev: Any) -> None:
        ev.ignore()


class _SelectViewBox(pg.ViewBox):
    """A ViewBox that turns left clicks and shift-drags into selection requests."""

    sigPick = Signal(object, bool)  # view point, add-to-selection
    sigPickRect = Signal(object, bool)  # QRectF in view coords, add-to-selection
    sigReset = Signal()  # double click: follow the data again
    #: draw mode: "begin" | "add" | "erase" | "erase_one" | "end", view point or None
    sigDraw = Signal(str, object)

    def __init__(self) -> None:
        super().__init__()
        self.selecting_enabled = True
        self.drawing = False  # clicks and drags edit the data (LayerView2D.set_drawing)
        self._draw_mode = ""
        self._rect_drag = False
        self._rect_add = False
        self._band = QGraphicsRectItem()
        self._band.setPen(pg.mkPen((30, 30, 30), width=1, style=Qt.PenStyle.DashLine))
        self._band.setBrush(pg.mkBrush(60, 120, 220, 40))
        self._band.setZValue(1e9)
        self._band.hide()
        self.addItem(self._band, ignoreBounds=True)

    def _draw_kind(self, ev: Any, drag: bool) -> str:
        """What a press does in draw mode: left adds, shift+left or right removes."""
        if not self.drawing or ev.button() not in (
            Qt.MouseButton.LeftButton,
            Qt.MouseButton.RightButton,
        ):
            return ""
        shift = bool(ev.modifiers() & Qt.KeyboardModifier.ShiftModifier)
        if ev.button() == Qt.MouseButton.RightButton or shift:
            return "erase" if drag else "erase_one"
        return "add"

    def mouseClickEvent(self, ev: Any) -> None:
        kind = self._draw_kind(ev, drag=False)
        if kind:
            ev.accept()
            self.sigDraw.emit("begin", None)
            self.sigDraw.emit(kind, self.mapSceneToView(ev.scenePos()))
            self.sigDraw.emit("end", None)
            return
        if ev.double() and ev.button() == Qt.MouseButton.LeftButton:
            ev.accept()
            self.sigReset.emit()
            return
        if self.selecting_enabled and ev.button() == Qt.MouseButton.LeftButton:
            ev.accept()
            add = bool(ev.modifiers() & Qt.KeyboardModifier.ControlModifier)
            self.sigPick.emit(self.mapSceneToView(ev.scenePos()), add)
            return
        super().mouseClickEvent(ev)

    def mouseDragEvent(self, ev: Any, axis: Any = None) -> None:
        if ev.isStart() and self.drawing:
            self._draw_mode = self._draw_kind(ev, drag=True)
            if self._draw_mode:
                self.sigDraw.emit("begin", None)
                self.sigDraw.emit(self._draw_mode, self.mapSceneToView(ev.buttonDownScenePos()))
        if self._draw_mode:
            ev.accept()
            self.sigDraw.emit(self._draw_mode, self.mapSceneToView(ev.scenePos()))
            if ev.isFinish():
                self._draw_mode = ""
                self.sigDraw.emit("end", None)
            return
        if ev.isStart():
            # the mode is fixed when the drag starts: later events may lack the modifier
            shift = bool(ev.modifiers() & Qt.KeyboardModifier.ShiftModifier)
            left = ev.button() == Qt.MouseButton.LeftButton
            self._rect_drag = self.selecting_enabled and left and shift
            self._rect_add = bool(ev.modifiers() & Qt.KeyboardModifier.ControlModifier)
        if not self._rect_drag:
            super().mouseDragEvent(ev, axis)
            return
        ev.accept()
        a = self.mapSceneToView(ev.buttonDownScenePos())
        b = self.mapSceneToView(ev.scenePos())
        rect = QRectF(a, b).normalized()
        if ev.isFinish():
            self._band.hide()
            self._rect_drag = False
            self.sigPickRect.emit(rect, self._rect_add)
        else:
            self._band.setRect(rect)
            self._band.show()
