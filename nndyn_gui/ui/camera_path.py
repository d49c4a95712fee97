"""Saved 3-D views at layer times: the camera path that Play and a layers-flow video follow.

Why it exists: a stop on the path is the camera as the user left it at one layer; Play
moves the view between stops as the exported video will (render/camera.camera_at), so
what is seen while playing is what a video shows.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, Signal

from nndyn_gui.render import camera as cam
from nndyn_gui.render.camera import CameraKey

Camera = tuple[float, float, float]  # azimuth, elevation, zoom


class CameraPath(QObject):
    """The saved views; `camera()` is the 3-D view's camera now (None when 2-D)."""

    changed = Signal(int)  # number of saved views
    message = Signal(str)

    def __init__(
        self,
        camera: Callable[[], Camera | None],
        layer_at: Callable[[float], float],
        parent: QObject,
    ) -> None:
        super().__init__(parent)
        self._camera = camera
        self._layer_at = layer_at  # layer time (frames) -> layer number, for the message
        self._keys: list[CameraKey] = []

    def keys(self) -> list[CameraKey]:
        return list(self._keys)

    def add(self, t: float) -> CameraKey | None:
        """Save the 3-D view as it is now, at layer time t: a stop on the path."""
        now = self._camera()
        if now is None:
            self.message.emit("Camera views are saved from the 3-D view (width 3 or more)")
            return None
        key = CameraKey(t, *now)
        self._keys.append(key)
        n = len(self._keys)
        self.message.emit(
            f"Camera view {n} saved at layer {self._layer_at(t):.1f}: Play and exported flows "
            "move through the saved views"
        )
        self.changed.emit(n)
        return key

    def clear(self) -> None:
        self._keys = []
        self.message.emit("Camera views cleared: the camera stays where you put it")
        self.changed.emit(0)

    def at(self, t: float, t_max: float) -> Camera | None:
        """The camera on the path at layer time t (None: no saved views)."""
        if not self._keys:
            return None
        az, el, zoom = cam.camera_at(cam.retimed(self._keys, t_max), t)
        return float(az), float(el), float(zoom)
