"""The 3-D layer view's drawing: one GL item per thing drawn, updated in place per frame.

Why its own module: render/view3d.py is the widget (camera, mouse, hover, overlay
text); this is what it draws of a FlowScene at a frame — points per class, the mesh,
the box, the loop, tails, the separating plane or class borders and the decision-region
image — with the GL states that keep lines from cutting notches into points and the
region image behind everything. Items are made once and get new arrays per frame
(`setData`), which keeps the animation fast.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyqtgraph.opengl as gl
from OpenGL import GL
from PySide6.QtGui import QMatrix4x4

from nndyn_gui.core.config import MAX_CLASSES
from nndyn_gui.render import picking
from nndyn_gui.render.palette import Palette, rgba_f
from nndyn_gui.render.scene import FlowScene, FrameState, ViewOptions, box_corners
from nndyn_gui.render.scene_view import (
    MAX_TRAJECTORIES,
    TAIL_BUCKETS,
    _spread,
    finite,
    tail_segments,
)

#: GL state of the decision-region image. It lies in the plane of the input points, and
#: a point sprite is a camera-facing square at its centre's depth: with a depth test,
#: half of every sprite fell behind the tilted image and was cut off (z-fighting).
#: Drawn first and without a depth test (which also writes no depth), the image is a
#: backdrop that never hides a point, a grid line or the box.
BACKDROP_GL: dict[Any, Any] = {
    GL.GL_DEPTH_TEST: False,
    GL.GL_BLEND: True,
    GL.GL_CULL_FACE: False,
    "glBlendFuncSeparate": (
        GL.GL_SRC_ALPHA,
        GL.GL_ONE_MINUS_SRC_ALPHA,
        GL.GL_ONE,
        GL.GL_ONE_MINUS_SRC_ALPHA,
    ),
}
LOOP_WIDTH = 3.5  # px at scale 1: the loop is the topology argument, it must read from afar
TAIL_WIDTH = 2.5  # px: selected points' paths
TRAIL_WIDTH = 2.0  # px: every point's faint tail (Trajectories)
TRAIL_MIN_ALPHA = 0.6  # the 3-D tails over a busy mesh need more ink than the 2-D ones'
_BOX_EDGES = np.array(
    [(a, b) for a in range(8) for b in range(a + 1, 8) if bin(a ^ b).count("1") == 1]
)


class _LinesUnderPoints(gl.GLLinePlotItem):
    """Depth-tested lines that write no depth, so they never hide what is drawn later.

    Mesh, box and tail lines pass through the points (at the input layer the mesh lies
    in the very plane of the data): writing depth, each line cut a notch out of every
    point sprite it crossed. As in the 2-D view, lines lie under the points.
    """

    def paint(self) -> None:
        GL.glDepthMask(GL.GL_FALSE)
        try:
            super().paint()
        finally:
            GL.glDepthMask(GL.GL_TRUE)  # glClear honours the mask: always restore it


class SceneItems3D:
    """The GL items of a 3-D view, added to `view` in drawing order (`more`: other items
    drawn between the points and the wrong-side marks, e.g. the velocity field)."""

    def __init__(self, view: gl.GLViewWidget, more: list[Any]) -> None:
        self.regions = gl.GLImageItem(np.zeros((2, 2, 4), dtype=np.ubyte), glOptions=BACKDROP_GL)
        self.grid = _LinesUnderPoints(mode="lines", antialias=True, glOptions="translucent")
        self.box = _LinesUnderPoints(mode="lines", antialias=True, glOptions="translucent")
        self.loop = gl.GLLinePlotItem(mode="line_strip", width=LOOP_WIDTH, antialias=True)
        self.wrong = gl.GLScatterPlotItem(pxMode=True, glOptions="translucent")
        self.tail = _LinesUnderPoints(
            mode="lines", width=TAIL_WIDTH, antialias=True, glOptions="translucent"
        )
        self.classes = [
            gl.GLScatterPlotItem(pxMode=True, glOptions="translucent") for _ in range(MAX_CLASSES)
        ]
        self.selected = gl.GLScatterPlotItem(pxMode=True, glOptions="translucent")
        self.plane = gl.GLMeshItem(
            vertexes=np.zeros((3, 3)),
            faces=np.array([[0, 1, 2]]),
            smooth=False,
            drawEdges=True,
            glOptions="translucent",
        )
        self._regions_rgba = np.zeros((2, 2, 4), dtype=np.ubyte)
        self._regions_alpha = -1.0
        # hover: the whole trajectory of the point / vertex under the mouse, a ring on it;
        # made with the first hover (`place_hover`): a view never hovered, e.g. an
        # export's, keeps exactly its drawing items (two more per view made Mesa fail to
        # create the region texture of a later capture)
        self.hover_path: Any = None
        self.hover_ring: Any = None
        order = [
            self.regions,
            self.grid,
            self.box,
            self.loop,
            self.tail,
            *self.classes,
            *more,
            self.wrong,
            self.selected,
            self.plane,
        ]
        for depth, it in enumerate(order):
            it.setDepthValue(depth)
            view.addItem(it)

    def update_loop(self, st: FrameState, sc: FlowScene | None, o: ViewOptions) -> None:
        show = bool(o.show_loop and st.loop is not None and sc is not None)
        self.loop.setVisible(show)
        self.wrong.setVisible(show)
        if not show or st.loop is None or sc is None:
            return
        lp = finite(st.loop)
        self.loop.setData(pos=np.concatenate([lp, lp[:1]]))
        bad = lp[sc.loop_wrong]
        self.wrong.setData(pos=bad if len(bad) else np.zeros((0, 3)))

    def update_selection(
        self,
        st: FrameState,
        sc: FlowScene,
        o: ViewOptions,
        sel: np.ndarray,
        pal: Palette,
        scale: float,
    ) -> None:
        """The selected points, their tails, and every point's faint tail (Trajectories)."""
        self.selected.setVisible(bool(len(sel)))
        if len(sel):
            self.selected.setData(pos=finite(st.points[sel]))
        tail = float(o.tail_length) * sc.frames_per_layer
        others = np.zeros(0, dtype=np.int64)
        if o.show_trajectories:
            others = np.setdiff1d(_spread(sc.points.shape[1], MAX_TRAJECTORIES), sel)
        segs, cols = [], []
        trails = (others, pal.trails, None)
        for rows, rgba, top in ((sel, pal.selection, 0.95), trails):
            r, g, b, a = rgba_f(rgba)
            peak = max(a, TRAIL_MIN_ALPHA) if top is None else top
            for i, seg in enumerate(tail_segments(sc, st.t, rows, tail, TAIL_BUCKETS)):
                if len(seg):
                    alpha = peak * (1.0 - i / TAIL_BUCKETS) + 0.08
                    segs.append(finite(seg))
                    cols.append(np.tile([r, g, b, alpha], (len(seg), 1)))
        self.tail.setVisible(bool(segs))
        if segs:
            width = (TAIL_WIDTH if len(sel) else TRAIL_WIDTH) * scale
            self.tail.setData(pos=np.concatenate(segs), color=np.concatenate(cols), width=width)

    def update_box(self, bounds: np.ndarray) -> None:
        c = box_corners(bounds)
        self.box.setData(pos=c[_BOX_EDGES.ravel()])

    def update_plane(
        self, st: FrameState, sc: FlowScene | None, o: ViewOptions, bounds: np.ndarray, pal: Palette
    ) -> None:
        """The separating plane (two classes) or the class borders, faded in at the end."""
        a = st.plane_opacity if o.show_plane else 0.0
        polys: list[np.ndarray] = []
        if a > 0.0 and sc is not None:
            if sc.classes == 2:
                poly = sc.plane_polygon(bounds)
                polys = [] if poly is None else [poly]
            else:
                polys = sc.class_borders(bounds)
        if not polys:
            self.plane.setVisible(False)
            return
        poly, faces = _fan_mesh(polys)
        r, g, b, _ = rgba_f(pal.plane)
        self.plane.setMeshData(
            vertexes=poly,
            faces=faces,
            color=(r, g, b, 0.15 * a),
            edgeColor=(r, g, b, 0.8 * a),
            drawEdges=True,
            smooth=False,
        )
        self.plane.setVisible(True)

    def update_regions(self, st: FrameState, o: ViewOptions) -> None:
        a = st.regions_opacity if o.show_regions else 0.0
        self.regions.setVisible(a > 0.0)
        if a > 0.0 and abs(a - self._regions_alpha) > 1e-3:
            self._regions_alpha = a
            img = self._regions_rgba.copy()
            img[..., 3] = (img[..., 3] * a).astype(np.ubyte)
            self.regions.setData(img)

    def set_regions_image(self, sc: FlowScene, pal: Palette) -> None:
        """The scene's decision-region image, placed in the plane of the input points."""
        rgba = sc.region_image(pal)  # (H, W, 4), row = y
        self._regions_rgba = np.ascontiguousarray(rgba.transpose(1, 0, 2))  # GLImageItem: [x, y]
        self._regions_alpha = -1.0
        h, w = sc.regions.shape[:2]
        x0, x1, y0, y1 = sc.region_extent
        su, sv = (x1 - x0) / w, (y1 - y0) / h
        a = sc.region_affine  # (3, 3): input (u, v, 1) -> view coords
        col_u, col_v = a[:, 0] * su, a[:, 1] * sv
        off = a[:, 2] + a[:, 0] * x0 + a[:, 1] * y0
        m = QMatrix4x4(
            col_u[0], col_v[0], 0.0, off[0],
            col_u[1], col_v[1], 0.0, off[1],
            col_u[2], col_v[2], 1.0, off[2],
            0.0, 0.0, 0.0, 1.0,
        )  # fmt: skip
        self.regions.setTransform(m)

    def place_hover(
        self, view: gl.GLViewWidget, hover: picking.Hover | None, pal: Palette, point_size: float
    ) -> None:
        """Show `hover`'s trajectory and a ring on it (None: hide them)."""
        if self.hover_path is None:
            self.hover_path = gl.GLLinePlotItem(mode="line_strip", width=3.0, antialias=True)
            self.hover_ring = gl.GLScatterPlotItem(pxMode=True, glOptions="translucent")
            for depth, it in enumerate((self.hover_path, self.hover_ring), start=100):
                it.setDepthValue(depth)
                it.setVisible(False)
                view.addItem(it)
        show_path = hover is not None and hover.trajectory is not None
        self.hover_path.setVisible(show_path)
        self.hover_ring.setVisible(hover is not None and hover.kind != "region")
        if hover is None:
            return
        r, g, b, _ = rgba_f(pal.selection)
        if show_path and hover.trajectory is not None:
            self.hover_path.setData(pos=finite(hover.trajectory), color=(r, g, b, 0.95))
        if hover.kind != "region":
            self.hover_ring.setData(
                pos=finite(hover.coords[None, :3]), color=(r, g, b, 0.6), size=point_size + 10
            )

    def apply_style(self, pal: Palette, o: ViewOptions, k_px: float) -> None:
        """Colours and sizes from the palette and the options (points, lines grow with k_px)."""
        for k, it in enumerate(self.classes):
            it.setData(color=rgba_f(pal.class_color(k, 230)), size=(o.point_size + 1.0) * k_px)
        self.grid.setData(color=rgba_f(pal.grid), width=1.0 * k_px)
        self.box.setData(color=rgba_f(pal.box), width=1.0 * k_px)
        self.loop.setData(color=rgba_f(pal.loop), width=LOOP_WIDTH * k_px)
        self.wrong.setData(color=rgba_f(pal.wrong), size=(o.point_size + 4) * k_px)
        sr, sg, sb, _ = rgba_f(pal.selection)
        self.selected.setData(color=(sr, sg, sb, 0.9), size=(o.point_size + 7) * k_px)


def _fan_mesh(polys: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Convex polygons as one mesh: stacked vertices and a triangle fan per polygon."""
    faces: list[list[int]] = []
    start = 0
    for p in polys:
        faces.extend([start, start + i, start + i + 1] for i in range(1, len(p) - 1))
        start += len(p)
    return np.concatenate(polys), np.array(faces, dtype=np.int64)
