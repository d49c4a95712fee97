"""The box a layer view lives in: one scene's 2-D or 3-D view, its selection and camera.

Why it exists: the view widget is re-created only when its kind changes (2-D <-> 3-D,
OpenGL or not); otherwise `show` hands the new scene to the same view, which keeps its
camera, zoom and selection. The selected points are kept as data-set rows, so they
survive a new view, a new snapshot and a scene that samples other points. The main
view uses one; a column of Compare can use another (a "half": one run's scene + view).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from PySide6.QtCore import QObject, Signal, Slot
from PySide6.QtWidgets import QSizePolicy, QVBoxLayout, QWidget

from nndyn_gui.render.scene import FlowScene
from nndyn_gui.render.views import NO_GL_NOTICE, make_layer_view, opengl_available

Camera = tuple[float, float, float]  # azimuth, elevation, zoom


class LayerViewHost(QWidget):
    """Holds `view` (LayerView2D | LayerView3D) for the scene shown; None before the first."""

    cameraChanged = Signal()  # the 3-D view's camera moved, or a new view has its own
    #: draw mode: forwarded from the view (kind, x, y in input coordinates, units per pixel)
    drawEdit = Signal(str, float, float, float)

    def __init__(
        self, parent: QWidget | None = None, min_view_size: tuple[int, int] | None = (320, 240)
    ) -> None:
        super().__init__(parent)
        self._min_view_size = min_view_size
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self._lay = QVBoxLayout(self)
        self._lay.setContentsMargins(0, 0, 0, 0)
        self.view: Any = None
        self.kind = ""  # "2d" | "3d" (the view's, not the scene's)
        self.scene: FlowScene | None = None
        self.prefer_3d = True
        self.drawing = False
        self._selected = np.zeros(0, dtype=np.int64)  # dataset rows (x_all), across views

    def kind_for(self, scene: FlowScene) -> str:
        """The view a scene gets: 3-D when it has three dimensions, 3-D is wanted and
        OpenGL draws."""
        if scene.dims == 3 and self.prefer_3d and opengl_available():
            return "3d"
        return "2d"

    def show_scene(self, scene: FlowScene) -> bool:
        """Draw `scene`: in a new view when its kind changed (True), else in the same."""
        old = self.scene
        self.scene = scene
        kind = self.kind_for(scene)
        if self.view is None or kind != self.kind:
            self._make_view(scene, kind)  # a new view faces its scene's plane at once
            self._show_selection()
            return True
        self.view.set_scene(scene)
        self._set_notice(scene)  # e.g. 3-D unticked: no "3-D view opens…" any more
        if old is None or not np.array_equal(old.indices, scene.indices):
            self._show_selection()
        return False

    # ------------------------------------------------------------------ camera
    def camera(self) -> Camera | None:
        """(azimuth, elevation, zoom) of the 3-D view, None when the view is 2-D."""
        if self.kind != "3d" or self.view is None:
            return None
        az, el, _dist = self.view.camera()
        return float(az), float(el), float(self.view.zoom())

    def set_camera(self, camera: Camera | None) -> None:
        """Move the 3-D camera (nothing for a 2-D view or None)."""
        if camera is None or self.kind != "3d" or self.view is None:
            return
        az, el, zoom = camera
        self.view.set_camera(az, el, zoom=zoom)

    def reset_camera(self) -> None:
        """3-D: face the scene's plane again; 2-D: follow the data again."""
        if self.view is not None and hasattr(self.view, "reset_camera"):
            self.view.reset_camera()
        elif self.view is not None and hasattr(self.view, "reset_view"):
            self.view.reset_view()

    # ------------------------------------------------------------------ selection
    def selection(self) -> np.ndarray:
        """The selected points as rows of the data set (x_all), whatever view shows them."""
        return self._selected.copy()

    def set_selection(self, dataset_rows: Any, n_rows: int) -> None:
        """Select these rows of a data set of `n_rows` points, now and in later views."""
        rows = np.unique(np.asarray(dataset_rows, dtype=np.int64).ravel())
        self._selected = rows[(rows >= 0) & (rows < n_rows)]
        self._show_selection()

    @Slot(object)
    def _on_points_selected(self, rows: Any) -> None:
        """A pick in the view (rows of its scene): kept as data-set rows."""
        if self.view is None or self.scene is None:
            return
        rows = np.asarray(rows, dtype=np.int64)
        rows = rows[(rows >= 0) & (rows < len(self.scene.indices))]
        self._selected = np.unique(self.scene.indices[rows])
        self.view.set_selection(rows)

    def _show_selection(self) -> None:
        """Show the kept selection in the view, in the rows of the scene it draws."""
        if self.view is None or self.scene is None or not hasattr(self.view, "set_selection"):
            return
        idx = self.scene.indices
        pos = np.searchsorted(idx, self._selected)
        ok = pos < len(idx)
        pos = pos[ok]
        rows = pos[idx[pos] == self._selected[ok]]
        self.view.set_selection(rows)

    # ------------------------------------------------------------------ drawing
    def set_drawing(self, on: bool) -> None:
        self.drawing = on
        if self.view is not None and hasattr(self.view, "set_drawing"):
            self.view.set_drawing(on)

    def set_draw_preview(self, *preview: Any) -> None:
        if self.view is not None and hasattr(self.view, "set_draw_preview"):
            self.view.set_draw_preview(*preview)

    # ------------------------------------------------------------------ the widget
    def _make_view(self, scene: FlowScene, kind: str) -> None:
        old = self.view
        if old is not None:
            self._lay.removeWidget(old)
            old.hide()
            old.setParent(None)
            old.deleteLater()
        view = make_layer_view(scene, self, prefer_3d=self.prefer_3d)
        view.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        if self._min_view_size is not None:
            view.setMinimumSize(*self._min_view_size)
        self._lay.addWidget(view)
        self.view = view
        self.kind = kind
        self._set_notice(scene)
        if hasattr(view, "pointsSelected"):
            view.pointsSelected.connect(self._on_points_selected)
        if hasattr(view, "cameraChanged"):
            view.cameraChanged.connect(self.cameraChanged)
        # a new view has a camera of its own (3-D: facing the scene's plane) or none (2-D),
        # set before it could signal: whoever follows the camera hears of it now
        self.cameraChanged.emit()
        if hasattr(view, "drawEdit"):
            view.drawEdit.connect(self.drawEdit)
            view.set_drawing(self.drawing)

    def _set_notice(self, scene: FlowScene) -> None:
        """Why a 2-D view shows a 3-D scene, if 3-D is wanted; nothing when it is unticked."""
        view = self.view
        if not hasattr(view, "set_notice") or self.kind == "3d":
            return
        text = NO_GL_NOTICE if scene.dims == 3 and self.prefer_3d else ""
        if view.notice() != text:  # restyling the text on every new scene costs a repaint
            view.set_notice(text)


class CameraLink(QObject):
    """Hosts that look from one place: turn any 3-D view and the others turn with it."""

    def __init__(self, hosts: list[LayerViewHost], parent: QObject) -> None:
        super().__init__(parent)
        self.hosts = hosts
        self._linking = False  # a camera being copied: its echoes are not new moves
        for host in hosts:
            host.cameraChanged.connect(self._on_moved)

    def camera(self) -> Camera | None:
        """The shared 3-D camera, None while no host shows a 3-D view."""
        return next((c for c in (h.camera() for h in self.hosts) if c is not None), None)

    def join(self, host: LayerViewHost) -> None:
        """`host` has a new view: it looks from where the others look (if any is 3-D)."""
        camera = next((h.camera() for h in self.hosts if h is not host and h.camera()), None)
        self._copy(camera, host)

    def aim(self) -> None:
        """A trained net is shown: the first 3-D view faces its separating plane (unless
        the user turned it) and every other 3-D view looks from there too."""
        lead = next((h for h in self.hosts if h.camera() is not None), None)
        if lead is None:
            return
        if hasattr(lead.view, "aim_unless_moved"):
            self._linking = True
            try:
                lead.view.aim_unless_moved()
            finally:
                self._linking = False
        camera = lead.camera()
        for host in self.hosts:
            if host is not lead:
                self._copy(camera, host)

    @Slot()
    def _on_moved(self) -> None:
        if self._linking:
            return
        src: Any = self.sender()
        camera = src.camera() if isinstance(src, LayerViewHost) else None
        if camera is not None:
            for host in self.hosts:
                if host is not src:
                    self._copy(camera, host)

    def _copy(self, camera: Camera | None, host: LayerViewHost) -> None:
        self._linking = True
        try:
            host.set_camera(camera)
        finally:
            self._linking = False
