"""Where the 3-D layer view's camera sits: fitted to the data's box, times the user's zoom.

Why its own module: render/camera.py is the camera as numbers (angles facing a plane,
the distance that fits a box); this is one view's camera as state — the zoom the user
chose on top of the fitted distance, whether the user has turned it since the last
reset (a trained net's plane is not the untrained one's: the camera follows it only
then), and the fit, cached per box and window shape so that turning the camera by hand
keeps its distance, as in any 3-D app.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pyqtgraph.opengl as gl
from PySide6.QtGui import QVector3D

from nndyn_gui.render import camera
from nndyn_gui.render.scene_view import held_weakly

HALL_FIT_MARGIN = 0.97  # exports and presentation: the box fills >= 80 % of the height


class FittedCamera:
    """The camera state of one GL view; the view calls `frame` with its box per frame."""

    def __init__(self, view: gl.GLViewWidget, hall_text: Callable[[], bool]) -> None:
        self._view = held_weakly(view)
        self._hall_text = hall_text  # the view's ViewOptions.hall_text now
        self.zoom = 1.0  # the user's zoom on top of the fitted distance
        self.follow = True  # frame the data's box at every frame
        self.aimed = False  # reset ran with a scene (angles fitted to its plane)
        self.user_moved = False  # the user turned or zoomed since the last reset
        self._fit: tuple[Any, float, np.ndarray] | None = None  # (key, distance, centre)

    def ready(self) -> bool:
        """Whether the camera has been fitted once (resizes arrive during __init__ too)."""
        return self._fit is not None

    def reset(self, normal: np.ndarray | None, bounds: np.ndarray) -> None:
        """Face the plane of normal `normal` at an angle (camera.default_angles), the box
        filling the frame, following the data (None: no scene yet, default angles)."""
        self.zoom = 1.0
        self.follow = True
        self.user_moved = False
        if normal is not None:
            self.aimed = True
        az, el = camera.default_angles(normal)
        self._view.setCameraPosition(azimuth=az, elevation=el)
        self._fit = None
        self.frame(bounds)

    def turn_to(
        self,
        azimuth: float,
        elevation: float,
        distance: float | None,
        zoom: float | None,
        bounds: np.ndarray,
    ) -> None:
        """These angles (degrees); `distance` in data units or `zoom` times the fitted
        distance (neither: keep the zoom)."""
        self._view.setCameraPosition(azimuth=float(azimuth), elevation=float(elevation))
        self._fit = None  # the fit depends on the angles
        if zoom is not None:
            self.zoom = max(1e-3, float(zoom))
        if distance is not None:
            self.zoom = float(distance) / max(1e-6, self.fitted(bounds)[0])
        self.frame(bounds)

    def at_default(self, normal: np.ndarray) -> bool:
        """Whether the camera faces the plane of normal `normal` as `reset` puts it."""
        angles = (float(self._view.opts["azimuth"]), float(self._view.opts["elevation"]))
        return camera.default_angles(normal) == angles and self.zoom == 1

    def zoomed(self, bounds: np.ndarray) -> None:
        """The user zoomed (the wheel moved the distance): keep it as a factor."""
        self.zoom = self._view.opts["distance"] / max(1e-6, self.fitted(bounds)[0])
        self.user_moved = True

    def fitted(self, bounds: np.ndarray) -> tuple[float, np.ndarray]:
        """(distance, centre) at which the box fills the view (camera.fit).

        Fitted for the angles in use when the box or the view's shape last changed, not
        at every frame: turning the camera by hand keeps its distance.
        """
        view = self._view
        aspect = max(1, view.height()) / max(1, view.width())
        key = (
            np.asarray(bounds, dtype=np.float64).tobytes(),
            round(aspect, 5),
            self._fit_margin(),
        )
        if self._fit is None or self._fit[0] != key:
            dist, centre = camera.fit(
                bounds,
                float(view.opts["azimuth"]),
                float(view.opts["elevation"]),
                float(view.opts["fov"]),
                aspect,
                self._fit_margin(),
            )
            self._fit = (key, dist, centre)
        return self._fit[1], self._fit[2]

    def _fit_margin(self) -> float:
        """Share of the half-frame the box's corners reach (camera.fit): more for a
        lecture hall (exports, presentation), whose words lie beside the picture."""
        return HALL_FIT_MARGIN if self._hall_text() else camera.FIT_MARGIN

    def frame(self, bounds: np.ndarray) -> None:
        """Centre the box and put the camera at the fitted distance times the zoom."""
        dist, mid = self.fitted(bounds)
        self._view.opts["center"] = QVector3D(float(mid[0]), float(mid[1]), float(mid[2]))
        self._view.opts["distance"] = max(1e-6, dist) * self.zoom
        self._view.update()
