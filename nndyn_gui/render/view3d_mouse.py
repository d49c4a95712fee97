"""The 3-D layer view's mouse and keys: hover, click to pick, drag to turn, wheel to zoom.

Why its own module: pyqtgraph's GLViewWidget turns and zooms the camera itself; the view
adds meaning around that. A move without a button shows what is under the mouse, a
click (press and release without moving) selects the point under it while a drag still
turns the camera, the wheel's zoom is kept as the user's, and a double click or R puts
the camera back. An event filter on the view (`Mouse3D`) does it, so the widget class
keeps to drawing; where pyqtgraph's own handler must run first (a drag, the wheel, a
release) the filter calls it, then adds its part. The 2-D view's counterpart is
render/view2d_mouse.py.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QKeyEvent, QMouseEvent, QWheelEvent

from nndyn_gui.render.scene_view import held_weakly

if TYPE_CHECKING:
    from nndyn_gui.render.view3d import LayerView3D

CLICK_SLOP_PX = 4.0  # a press and release this close (|dx| + |dy|) is a click, not a turn


class Mouse3D(QObject):
    """Installed on a LayerView3D: its gestures, in terms of the view's public calls."""

    def __init__(self, view: LayerView3D) -> None:
        super().__init__(view)
        self._view = held_weakly(view)
        self._press_px: tuple[float, float] | None = None
        view.installEventFilter(self)

    def eventFilter(self, obj: QObject, ev: QEvent) -> bool:
        kind = ev.type()
        if kind == QEvent.Type.MouseButtonPress and isinstance(ev, QMouseEvent):
            p = ev.position()
            self._press_px = (p.x(), p.y())
            return False  # pyqtgraph notes where a drag starts
        if kind == QEvent.Type.MouseMove and isinstance(ev, QMouseEvent):
            self._moved(ev)
            return True
        if kind == QEvent.Type.MouseButtonRelease and isinstance(ev, QMouseEvent):
            self._released(ev)
            return True
        if kind == QEvent.Type.Wheel and isinstance(ev, QWheelEvent):
            self._view.wheelEvent(ev)
            self._view.cam.zoomed(self._view._bounds)
            self._view.cameraChanged.emit()
            return True
        if kind == QEvent.Type.MouseButtonDblClick:
            self._view.reset_camera()
            return True
        if kind == QEvent.Type.KeyPress and isinstance(ev, QKeyEvent) and ev.key() == Qt.Key.Key_R:
            self._view.reset_camera()
            return True
        return False

    def _moved(self, ev: QMouseEvent) -> None:
        view = self._view
        p = ev.position()
        if ev.buttons() == Qt.MouseButton.NoButton:
            view.hover_at_pixel(p.x(), p.y())
            return
        if view.hover() is not None:
            view.clear_hover()
        view.mouseMoveEvent(ev)  # pyqtgraph's: a drag turns the camera
        view.cam.user_moved = True
        view.cameraChanged.emit()

    def _released(self, ev: QMouseEvent) -> None:
        self._view.mouseReleaseEvent(ev)
        p, press = ev.position(), self._press_px
        self._press_px = None
        click = press is not None and abs(p.x() - press[0]) + abs(p.y() - press[1]) < CLICK_SLOP_PX
        if ev.button() == Qt.MouseButton.LeftButton and click:  # a click, not a turn
            add = bool(ev.modifiers() & Qt.KeyboardModifier.ControlModifier)
            self._view.pick_at_pixel(p.x(), p.y(), add)
