"""The rotatable 3-D layer view for width-3 nets (head axes in 3-D for wider ones).

Same contract as LayerView2D, drawn with pyqtgraph.opengl: one scatter item per class,
the mesh as a single GL_LINES item, the final separating plane as a translucent polygon
clipped to the data box. The camera follows a smoothly interpolated box around the data
so nothing leaves the view while the net stretches space; the user's rotation and zoom
are kept (zoom as a factor on top of the automatic distance).

Hover and click work as in 2-D (render/picking.py); a click (press and release without
moving) selects the point under it, a drag still turns the camera.

Needs OpenGL: under Qt's offscreen platform use LayerView2D (see views.make_layer_view).
This module is the widget and its public calls; the GL items it draws of a frame are
render/view3d_items.py's, its camera render/view3d_camera.py's, its words over the image
render/view3d_text.py's, its hover render/view3d_hover.py's and its mouse and keys
render/view3d_mouse.py's; the overlays (field, density, costate) are
render/view_layers.py's and what it shares with the 2-D view render/scene_view.py's.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pyqtgraph.opengl as gl
from PySide6.QtCore import QRectF, Signal
from PySide6.QtGui import QColor, QFont, QPainter
from PySide6.QtWidgets import QWidget

from nndyn_gui.render import camera, picking
from nndyn_gui.render.costate_layer import CostateArtist3D
from nndyn_gui.render.density_layer import DensityArtist3D
from nndyn_gui.render.field_layer import FieldArtist3D
from nndyn_gui.render.palette import Palette, palette_for
from nndyn_gui.render.scene import FlowScene, FrameState, ViewOptions
from nndyn_gui.render.scene_view import SceneViewMixin, finite
from nndyn_gui.render.view3d_camera import FittedCamera
from nndyn_gui.render.view3d_hover import Hover3D
from nndyn_gui.render.view3d_items import SceneItems3D
from nndyn_gui.render.view3d_mouse import Mouse3D
from nndyn_gui.render.view3d_text import OverlayText3D
from nndyn_gui.render.view_layers import OverlayLayers

DEFAULT_AZIMUTH = camera.DEFAULT_AZIMUTH
DEFAULT_ELEVATION = camera.DEFAULT_ELEVATION
FOV = 40.0


class LayerView3D(SceneViewMixin, gl.GLViewWidget):
    """Shows a 3-D FlowScene at time t; rotate by dragging, zoom with the wheel."""

    _DIMS = 3
    hovering: Hover3D

    pointsSelected = Signal(object)  # rows of scene.points picked with a click
    cameraChanged = Signal()  # the user (or code) turned or zoomed the camera

    def __init__(self, parent: QWidget | None = None, options: ViewOptions | None = None) -> None:
        super().__init__(parent)
        self._scene: FlowScene | None = None
        self._options = options or ViewOptions()
        self._pal: Palette = palette_for(self._options.background)
        self._t = 0.0
        self._selection = np.zeros(0, dtype=np.int64)
        self._masks: list[np.ndarray] = []
        self._seg_flat = np.zeros(0, dtype=np.int64)
        #: a tile of "All layers": only the frame's name, no axis names or notes
        self.compact_overlay = False
        #: False: no layer name or notes in the picture (presentation writes them beside it)
        self.in_picture_text = True

        self._bounds = np.array([[-1.0, -1.0, -1.0], [1.0, 1.0, 1.0]])
        self._label = ""
        self._notice = ""
        self.opts["fov"] = FOV

        self.field = FieldArtist3D(self)  # velocity arrows and fixed points (show_field)
        self.density = DensityArtist3D(self)  # each class's density of fresh points
        self.costate = CostateArtist3D(self)  # -∂loss/∂x_t at training points
        self.layers = OverlayLayers(self.field, self.density, self.costate)
        self.overlays = self.layers.overlays  # (ViewOptions flag, artist) per layer
        # hover: the trajectory under the mouse and a ring on it (made with the first
        # hover: SceneItems3D.place_hover says why)
        self.hover_path: Any = None
        self.hover_ring: Any = None
        self.hovering = Hover3D(self)
        self.text = OverlayText3D(self)
        # `drawn`, not `items`: GLViewWidget.items is its own list of every item
        it = self.drawn = SceneItems3D(self, more=self.layers.items())
        self.regions_item, self.grid_item, self.box_item = it.regions, it.grid, it.box
        self.loop_item, self.wrong_item, self.tail_item = it.loop, it.wrong, it.tail
        self.class_items, self.selected_item, self.plane_item = it.classes, it.selected, it.plane
        self.cam = FittedCamera(self, lambda: self._options.hall_text)
        self.mouse = Mouse3D(self)
        self.reset_camera()
        self._apply_style()

    # ------------------------------------------------------------------ public API
    def set_notice(self, text: str) -> None:
        self._notice = text
        self.update()

    def set_scene(self, scene: FlowScene) -> None:
        """Show a new 3-D scene (2-D scenes belong in LayerView2D); keeps time and selection."""
        if scene.dims != 3:
            raise ValueError("LayerView3D needs a 3-D scene (width >= 3)")
        self._take_scene(scene)
        self._t = min(self._t, scene.t_max)
        self._apply_style()  # with the scene's region image
        first = not self.cam.aimed
        self.set_time(self._t)
        if first:  # the first scene: look at its plane, not along it
            self.reset_camera()

    def reset_camera(self) -> None:
        """The default view: the plane at an angle (camera.default_angles), the box filling
        the frame, following the data."""
        self.cam.reset(None if self._scene is None else self._scene.plane[0], self._bounds)
        self.cameraChanged.emit()

    def set_camera(
        self,
        azimuth: float,
        elevation: float,
        distance: float | None = None,
        zoom: float | None = None,
    ) -> None:
        """Put the camera at these angles (degrees); `distance` in data units, or `zoom`
        times the distance that fits the box (neither: keep the zoom)."""
        self.cam.turn_to(azimuth, elevation, distance, zoom, self._bounds)
        self.cameraChanged.emit()

    def aim_unless_moved(self) -> bool:
        """Reset the camera to face the scene's plane, unless the user has moved it (a
        trained net's plane is not the untrained one's). True if it was reset."""
        if self.cam.user_moved or self._scene is None:
            return False
        if self.cam.at_default(self._scene.plane[0]):
            return False
        self.reset_camera()
        return True

    def zoom(self) -> float:
        """The user's zoom on top of the fitted distance (1 = the box fills the frame)."""
        return self.cam.zoom

    def camera(self) -> tuple[float, float, float]:
        """(azimuth, elevation, distance) now in use."""
        return (
            float(self.opts["azimuth"]),
            float(self.opts["elevation"]),
            float(self.opts["distance"]),
        )

    def orbit(self, degrees: float, elev: float = 0.0) -> None:
        """Turn the camera around the data by `degrees` of azimuth (and `elev` of elevation)."""
        super().orbit(float(degrees), float(elev))

    def _show_frame(self, st: FrameState) -> None:
        sc = self._scene
        assert sc is not None
        o = self._options
        for k, item in enumerate(self.class_items):
            if o.show_points:
                item.setData(pos=finite(st.points[self._masks[k]]))
            item.setVisible(o.show_points and len(self._masks[k]) > 0)
        if o.show_grid:
            self.grid_item.setData(pos=finite(st.grid[self._seg_flat]))
        self.grid_item.setVisible(o.show_grid)
        it = self.drawn
        it.update_loop(st, sc, o)
        it.update_selection(st, sc, o, self._selection, self._pal, self._scale())
        self._bounds = finite(st.bounds)
        it.update_box(self._bounds)
        it.update_plane(st, sc, o, self._bounds, self._pal)
        it.update_regions(st, o)
        self.layers.update_field(sc, st, o, self._bounds)
        self.layers.update_overlays(sc, st, o, self._bounds)
        self._label = sc.layer_label(st.t)
        if self.cam.follow:
            self.cam.frame(self._bounds)
        self.hovering.follow(st.t)
        self.update()

    def resizeEvent(self, ev: Any) -> None:
        """Fit the box again for the new shape (presentation mode, a resized window)."""
        super().resizeEvent(ev)
        cam = self.__dict__.get("cam")  # resizes arrive during __init__ too
        if cam is not None and cam.ready():
            cam.frame(self._bounds)

    def showEvent(self, ev: Any) -> None:
        # moves without a button pressed reach us only with tracking on; set here, not
        # in __init__: on a widget never shown (an export's view) it made Mesa fail to
        # create the region texture when the capture resized it
        super().showEvent(ev)
        self.setMouseTracking(True)

    def _apply_style(self) -> None:
        self.setBackgroundColor(QColor(*self._pal.background))
        self.drawn.apply_style(self._pal, self._options, self._scale())
        self.layers.set_palette(self._pal, self._scale())
        if self._scene is not None:
            self.drawn.set_regions_image(self._scene, self._pal)

    # ------------------------------------------------------------------ hover, click
    def mvp(self, width: int = 0, height: int = 0) -> np.ndarray:
        """The (4, 4) model-view-projection matrix (row-major) for a width x height image
        (default: the widget as shown)."""
        vp = (0, 0, max(1, int(width or self.width())), max(1, int(height or self.height())))
        m = self.projectionMatrix(vp, vp) * self.viewMatrix()
        return np.array(m.copyDataTo(), dtype=np.float64).reshape(4, 4)

    def project_points(self, pts: np.ndarray, width: int, height: int) -> np.ndarray:
        """Screen pixel positions (N, 2) of 3-D points for a width x height image."""
        return picking.project(pts, self.mvp(width, height), int(width), int(height))

    def hover_at_pixel(self, x: float, y: float) -> picking.Hover | None:
        """Show what is under widget pixel (x, y) (what moving the mouse there does)."""
        hover = self.hovering.under(x, y)
        self.hovering.show(hover, (x, y))
        return hover

    def pick_at_pixel(self, x: float, y: float, add: bool = False) -> np.ndarray:
        """Select the point under widget pixel (x, y) (a click; empty space clears)."""
        sc = self._scene
        hit = np.zeros(0, dtype=np.int64)
        if sc is not None and self._options.show_points:
            st = sc.at(self._t)
            j = picking.nearest_on_screen(
                picking.project(st.points, self.mvp(), self.width(), self.height()),
                (x, y),
                picking.POINT_TOLERANCE_PX,
            )
            if j is not None:
                hit = np.array([j], dtype=np.int64)
        sel = np.union1d(self._selection, hit) if add else hit
        self.set_selection(sel)
        self.pointsSelected.emit(self.selection())
        return self.selection()

    def paint_hover(self, painter: QPainter) -> None:
        """The hover readout next to the mouse (on screen only: exports leave it out)."""
        self.hovering.paint(painter)

    # ------------------------------------------------------------------ text overlay
    def overlay_texts(self, width: int, height: int) -> list[tuple[float, float, str, str]]:
        """(x, y, text, kind) drawn over the GL image: layer label, axis names, notice."""
        return self.text.texts(width, height)

    def _font(self, kind: str) -> QFont:
        """The overlay's font for a text of this kind (title, note, axis, notice)."""
        return self.text.font(kind)

    def axis_label_rects(
        self, width: int, height: int, taken: Sequence[tuple[float, float, float, float]] = ()
    ) -> list[tuple[str, QRectF]]:
        """(name, rectangle in pixels) of each axis name for a width x height image:
        beside the box's edges, clear of the box and the data (render/axis_labels.py)."""
        return self.text.axis_label_rects(width, height, taken)

    def paint_overlay(self, painter: QPainter, width: int, height: int) -> None:
        """Draw the overlay texts; used on screen and by views.capture."""
        self.text.paint(painter, width, height)

    def paintGL(self) -> None:
        super().paintGL()
        painter = QPainter(self)
        try:
            self.paint_overlay(painter, self.width(), self.height())
            self.paint_hover(painter)
        finally:
            painter.end()
