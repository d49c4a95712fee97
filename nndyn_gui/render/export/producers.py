"""The frames of each export content, said as panels: which view shows which scene, from
which camera, at which time, where. `Producer.paint` is the one routine that draws a
frame from its panels, for every content, on a raster frame and on an SVG/PDF page alike.

Frames are drawn by the very views the window shows (`LayerView2D` / `LayerView3D`
reading one `FlowScene`), so an export looks like the app, and the same run + options
always give the same pixels (no clocks, no randomness in the frame path).

Contents: "layers" (the flow x(0) -> x(T), then a hold on the last layer with the
separating line/plane), "training" (one layer across the run's snapshots), "orbit" (a
360-degree camera turn around the final 3-D representation), "sheet" (chosen layers in
a row; a still), "side_by_side" (input | moving hidden layer | output) and "compare"
(two runs at the same share of the flow, from the same camera).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from PySide6.QtCore import QLineF, QRectF, Qt
from PySide6.QtGui import QFont, QFontMetricsF, QImage, QPainter

from nndyn_gui.core.analysis import comparison
from nndyn_gui.core.net.initial_weights import initial_weights
from nndyn_gui.core.types import NetWeights, Run
from nndyn_gui.render import camera as cam
from nndyn_gui.render import views
from nndyn_gui.render.export.layout import (
    LABEL_PX,
    divider_lines,
    frame_bands,
    paint_dividers,
    paint_panel_name,
    panel_name_band,
)
from nndyn_gui.render.export.options import ExportOptions
from nndyn_gui.render.palette import palette_for
from nndyn_gui.render.scene import FlowScene, ViewProjection
from nndyn_gui.render.vector import paint_graphics_view
from nndyn_gui.render.view2d import LayerView2D

NO_GL_WARNING = "3-D view unavailable (no OpenGL): exported the 2-D projection instead"
ORBIT_ELEVATION = 20.0  # degrees, for the software (no-OpenGL) orbit


@dataclass(frozen=True)
class Camera:
    """Where a 3-D view looks from: angles in degrees, and `zoom` (times the distance
    that fits the box) or `distance` (data units)."""

    azimuth: float
    elevation: float
    zoom: float | None = None
    distance: float | None = None


@dataclass(frozen=True)
class Panel:
    """One view in one frame: what it shows and where (picture coordinates)."""

    view: Any
    time: float
    rect: QRectF
    scene: FlowScene | None = None  # shown first when the view shows another one
    camera: Camera | None = None
    name: str = ""  # written in the band above the panel
    fixed: bool = False  # the same picture in every frame: drawn once


def trained_or_initial(run: Run) -> tuple[NetWeights, bool]:
    """The run's trained weights, or (False) the initial network's (K classes too)."""
    if run.weights is not None:
        return run.weights, True
    cfg = run.config
    return initial_weights(cfg.model, cfg.train.seed, cfg.data.classes), False


def untrained_warning(name: str) -> str:
    return f"{name} has no trained weights: showing the initial network"


class Stage:
    """The run, its options and the hidden views an export draws with.

    Decides once what is shown: the trained (or the initial) network, in 3-D views only
    when they will draw it; each degradation is added to `warnings`.
    """

    def __init__(self, run: Run, options: ExportOptions, warnings: list[str]) -> None:
        self.run = run
        self.options = options
        self.warnings = warnings
        self.view_options = options.view_options()
        self.pal = palette_for(options.background)
        self.weights, trained = trained_or_initial(run)
        if not trained and options.content != "training":
            warnings.append(untrained_warning("run"))
        self.use_gl = self._use_gl()
        top, bottom = frame_bands(options)
        self.width, self.height = options.width, options.height - top - bottom  # the picture
        self.views: list[Any] = []

    def _use_gl(self) -> bool:
        o = self.options
        widths = [self.run.config.model.width]
        if o.content == "compare" and o.compare_with is not None:
            widths.append(o.compare_with.config.model.width)
        # compare: 3-D views when either run is 3-D; each half keeps its own dimension
        wants = (
            o.prefer_3d
            and not o.is_vector
            and max(widths) >= 3
            and o.content in ("layers", "training", "orbit", "compare")
        ) or o.content == "orbit"
        if not wants:
            return False
        if views.opengl_available():
            return True
        self.warnings.append(NO_GL_WARNING)
        return False

    def build_scene(
        self, weights: NetWeights, dims: int | None = None, run: Run | None = None
    ) -> FlowScene:
        """The scene of `weights` (of `run`, default this one) with 3 dims only when a
        3-D view will draw it."""
        r = run or self.run
        d = dims if dims is not None else (3 if self.use_gl else 2)
        # the step of these weights, when they are one of the run's snapshots: the
        # captions that quote numbers of this snapshot (the costate's) name it
        step = next((sn.step for sn in r.snapshots if sn.weights is weights), None)
        return FlowScene.build(r.config, weights, r.dataset, self.view_options, dims=d, step=step)

    def make_view(self, scene: FlowScene) -> Any:
        """LayerView3D for 3-D scenes (OpenGL checked already), else LayerView2D.

        A 3-D view is sized to the picture before its camera is fitted, and looks from
        `options.camera` (the window's view) or the default angle on the plane."""
        if scene.dims == 3 and self.use_gl:
            from nndyn_gui.render.view3d import LayerView3D

            v3 = LayerView3D(None, options=scene.options)
            views._resize_hidden(v3, self.width, self.height)
            v3.set_scene(scene)
            if self.options.camera is not None:
                az, el, zoom = (float(v) for v in self.options.camera)
                v3.set_camera(az, el, zoom=zoom)
            self.views.append(v3)
            return v3
        v = LayerView2D(options=scene.options)
        v.set_scene(scene)
        self.views.append(v)
        return v

    def view_2d(self, compact: bool = False) -> LayerView2D:
        v = LayerView2D(options=self.view_options, compact=compact)
        self.views.append(v)
        return v

    def dispose(self) -> None:
        """Release the (hidden) views; they are only deleted once Qt's loop runs."""
        for v in self.views:
            v.hide()
            v.setParent(None)
            v.deleteLater()
        self.views = []


class Producer:
    """The frames of one content: subclasses set `total` and say in `panels(i)` which
    views make frame i; `paint` draws them."""

    total = 1
    #: panels at fractional places (a row of three in 1280 px): each is drawn at its
    #: rounded size and scaled into its place
    tiled = False

    def __init__(self, stage: Stage) -> None:
        self.stage = stage
        self.options = stage.options
        self.width, self.height = stage.width, stage.height
        #: where the class legend may start, below the picture's top (panel names above)
        self.legend_top = 0.0
        self.picture = QRectF(0, 0, self.width, self.height)
        self.dividers: list[QLineF] = []
        self._fixed: dict[int, QImage] = {}

    def panels(self, i: int) -> list[Panel]:  # pragma: no cover - abstract
        raise NotImplementedError

    def caption(self, i: int) -> str:
        return self.options.caption

    def timeline(self, t_max: float, still: float) -> tuple[int, Callable[[int], float]]:
        """Frame count and i -> t: constant speed through the layers, then a hold; a
        still shows time `still`."""
        if not self.options.is_video:
            return 1, lambda i: still
        n_anim, n_hold = self.options.anim_frames(), self.options.hold_frames()

        def t_of(i: int) -> float:
            return t_max if i >= n_anim - 1 else t_max * i / (n_anim - 1)

        return n_anim + n_hold, t_of

    def paint(self, i: int, painter: QPainter, vector: bool = False) -> None:
        """Frame i's picture at (0, 0) of `painter`, whose device holds the page colour
        already; `vector`: as paths (an SVG or PDF still), not pixels."""
        pal, scale = self.stage.pal, self.stage.view_options.scale
        for j, panel in enumerate(self.panels(i)):
            if vector:
                self._show(panel)
                paint_graphics_view(painter, panel.view, panel.rect)
            elif self.tiled:
                painter.drawImage(panel.rect, self._tile(j, panel))
            else:
                self._show(panel)
                r = panel.rect.toRect()
                views.paint_view(panel.view, painter, r.x(), r.y(), r.width(), r.height())
            if panel.name:
                band = QRectF(panel.rect.left(), 0, panel.rect.width(), panel.rect.top())
                paint_panel_name(painter, band, panel.name, pal, scale)
        paint_dividers(painter, pal, self.dividers)

    def _tile(self, j: int, panel: Panel) -> QImage:
        """Panel j drawn at its rounded size (a fixed one once)."""
        if panel.fixed and j in self._fixed:
            return self._fixed[j]
        self._show(panel)
        w, h = round(panel.rect.width()), round(panel.rect.height())
        rgba = np.ascontiguousarray(views.capture(panel.view, w, h))
        img = QImage(rgba.data, w, h, 4 * w, QImage.Format.Format_RGBA8888).copy()
        if panel.fixed:
            self._fixed[j] = img
        return img

    @staticmethod
    def _show(panel: Panel) -> None:
        view = panel.view
        if panel.scene is not None and view.flow_scene() is not panel.scene:
            view.set_scene(panel.scene)
        if panel.camera is not None:
            c = panel.camera
            view.set_camera(c.azimuth, c.elevation, distance=c.distance, zoom=c.zoom)
        view.set_time(panel.time)


class LayersProducer(Producer):
    """The flow through the layers in the app's main view (3-D when possible)."""

    def __init__(self, stage: Stage) -> None:
        super().__init__(stage)
        self.scene = stage.build_scene(stage.weights)
        self.view = stage.make_view(self.scene)
        k = self.options.layers[0] if self.options.layers else self.scene.depth
        t_max = self.scene.t_max
        self.total, self.t_of = self.timeline(t_max, float(self.scene.frame_of_layer(k)))
        self.keys = cam.retimed(list(self.options.camera_keys or []), t_max)

    def panels(self, i: int) -> list[Panel]:
        t = self.t_of(i)
        camera = None
        if self.keys and hasattr(self.view, "set_camera"):
            az, el, zoom = cam.camera_at(self.keys, t)
            camera = Camera(az, el, zoom=zoom)
        return [Panel(self.view, t, self.picture, camera=camera)]


class TrainingProducer(Producer):
    """One layer (default: the last) at each training snapshot, with step and loss."""

    def __init__(self, stage: Stage) -> None:
        super().__init__(stage)
        self.snaps = stage.run.snapshots
        opts = self.options
        self.layer = opts.layers[0] if opts.layers else stage.run.config.model.depth
        self._cache: tuple[int, FlowScene] | None = None
        self.view = stage.make_view(self._scene(0 if opts.is_video else len(self.snaps) - 1))
        self.n_anim = opts.anim_frames() if opts.is_video else 1
        self.total = self.n_anim + opts.hold_frames() if opts.is_video else 1

    def snap_index(self, i: int) -> int:
        if not self.options.is_video or i >= self.n_anim:
            return len(self.snaps) - 1
        return min(len(self.snaps) - 1, i * len(self.snaps) // self.n_anim)

    def _scene(self, s: int) -> FlowScene:
        if self._cache is None or self._cache[0] != s:
            self._cache = (s, self.stage.build_scene(self.snaps[s].weights))
        return self._cache[1]

    def panels(self, i: int) -> list[Panel]:
        scene = self._scene(self.snap_index(i))
        t = float(scene.frame_of_layer(self.layer))
        return [Panel(self.view, t, self.picture, scene=scene)]

    def caption(self, i: int) -> str:
        snap = self.snaps[self.snap_index(i)]
        acc = f"  ·  accuracy {100 * snap.train_acc:.1f}%" if math.isfinite(snap.train_acc) else ""
        text = f"step {snap.step}  ·  loss {snap.loss:.4g}{acc}"
        return f"{self.options.caption}   {text}" if self.options.caption else text


class OrbitProducer(Producer):
    """A full camera turn around the final representation (width >= 3 nets)."""

    def __init__(self, stage: Stage) -> None:
        super().__init__(stage)
        self.total = self.options.anim_frames() if self.options.is_video else 1
        scene3 = stage.build_scene(stage.weights, dims=3)
        self.t = scene3.t_max
        self.distance = 0.0
        if stage.use_gl:
            self.view = stage.make_view(scene3)
            self.view.set_time(self.t)
            az, el, _ = self.view.camera()
            self.az0, self.el0, self.zoom = az, el, 1.0
            if self.options.camera is not None:
                self.az0, self.el0, self.zoom = (float(v) for v in self.options.camera)
            # one distance for the whole turn, fitted to the box from every side: no pumping
            box = scene3.box_at(self.t)
            fov = float(self.view.opts["fov"])
            aspect = self.height / max(1, self.width)
            self.distance = cam.orbit_distance(box, self.el0, fov, aspect)
        else:
            self.scene3 = scene3
            self.az0, self.el0 = 45.0, ORBIT_ELEVATION
            self.view = stage.view_2d()

    def panels(self, i: int) -> list[Panel]:
        az = self.az0 + 360.0 * i / self.total
        if self.stage.use_gl:
            camera = Camera(az, self.el0, distance=self.distance * self.zoom)
            return [Panel(self.view, self.t, self.picture, camera=camera)]
        scene = orbit_scene_2d(self.scene3, az, self.el0)
        return [Panel(self.view, self.t, self.picture, scene=scene)]


class SheetProducer(Producer):
    """Chosen layers in reading order, one row (wrapped when that gives bigger panels)."""

    tiled = True

    def __init__(self, stage: Stage) -> None:
        super().__init__(stage)
        self.scene = stage.build_scene(stage.weights, dims=2)
        self.layers = list(self.options.layers or views.default_layers(self.scene.depth))
        self.view = stage.view_2d(compact=True)
        self.view.set_scene(self.scene)
        n = max(1, len(self.layers))
        rows, cols = views.sheet_grid(n, self.width, self.height)
        pw, ph = self.width / cols, self.height / rows
        self.cells = [QRectF((j % cols) * pw, (j // cols) * ph, pw, ph) for j in range(n)]
        for r in range(rows):
            self.dividers += divider_lines(min(cols, n - r * cols), pw, r * ph, ph)

    def panels(self, i: int) -> list[Panel]:
        return [
            Panel(self.view, float(self.scene.frame_of_layer(k)), rect)
            for k, rect in zip(self.layers, self.cells, strict=False)
        ]


class SideBySideProducer(Producer):
    """Input | the moving hidden layer | output, as three panels of one frame."""

    tiled = True

    def __init__(self, stage: Stage) -> None:
        super().__init__(stage)
        self.scene = stage.build_scene(stage.weights, dims=2)
        self.views_lr = [stage.view_2d(compact=True) for _ in range(3)]
        for v in self.views_lr:
            v.set_scene(self.scene)
        k = self.options.layers[0] if self.options.layers else max(1, self.scene.depth // 2)
        still = float(self.scene.frame_of_layer(k))
        self.total, self.t_of = self.timeline(self.scene.t_max, still)
        pw = self.width / 3.0
        self.cells = [QRectF(j * pw, 0.0, pw, self.height) for j in range(3)]
        self.dividers = divider_lines(3, pw, 0.0, self.height)

    def panels(self, i: int) -> list[Panel]:
        times = [0.0, self.t_of(i), self.scene.t_max]
        return [
            Panel(v, t, rect, fixed=j != 1)  # input and output never change
            for j, (v, t, rect) in enumerate(zip(self.views_lr, times, self.cells, strict=True))
        ]


class CompareProducer(Producer):
    """Two runs side by side: the same share of the flow, each panel in its own run's
    dimension (a width-3 run in 3-D beside a width-2 run in 2-D), the 3-D panels from one
    camera, each panel named (its title and its numbers) in a band above it; the class
    legend goes below those names (`legend_top`), never over one."""

    def __init__(self, stage: Stage) -> None:
        super().__init__(stage)
        other = self.options.compare_with
        assert other is not None  # validate() said so
        # each half its own title when the caller names none (core.analysis.narrator)
        titles = comparison.compare_titles(stage.run.config, other.config)[1:]
        names = list(self.options.labels or titles)
        weights, trained = trained_or_initial(other)
        if not trained:
            stage.warnings.append(untrained_warning(names[1]))
        self.scenes = [  # 3 dims asked: a width-2 run's scene stays 2-D (FlowScene.build)
            stage.build_scene(stage.weights),
            stage.build_scene(weights, run=other),
        ]
        self.pair = [stage.make_view(sc) for sc in self.scenes]
        shared = self._shared_camera()
        self.cameras = [shared if sc.dims == 3 else None for sc in self.scenes]
        # both halves open at their output: a still shows the last layer of each
        self.total, self.t_of = self.timeline(1.0, 1.0)
        header = panel_name_band(stage.view_options.scale)
        self.legend_top = float(header)
        pw, ph = self.width // 2, max(16, self.height - header)
        self.cells = [QRectF(j * pw, header, pw, ph) for j in range(2)]
        self.dividers = divider_lines(2, pw, 0, self.height)
        self.names = [fit_name(n, pw, stage.view_options.scale) for n in names]

    def _shared_camera(self) -> Camera | None:
        """The one camera of the 3-D panels: the first 3-D view's (the options' camera or
        the default angle on its plane), the others turned to it."""
        first = next((v for v in self.pair if hasattr(v, "zoom")), None)
        if first is None:
            return None
        az, el, _ = first.camera()
        return Camera(az, el, zoom=first.zoom())

    def panels(self, i: int) -> list[Panel]:
        share = self.t_of(i)  # the share of each run's own flow, 0..1
        return [
            Panel(view, share * sc.t_max, rect, name=name, camera=camera)
            for view, sc, rect, name, camera in zip(
                self.pair, self.scenes, self.cells, self.names, self.cameras, strict=True
            )
        ]


def fit_name(name: str, width: float, scale: float) -> str:
    """A panel's name that fits its band: a long title is shortened ("…"), never what
    follows its first " · " (the seed, the accuracy and its step)."""
    font = QFont()
    font.setPixelSize(max(6, round(LABEL_PX * scale)))  # as layout.paint_panel_name
    font.setBold(True)
    fm = QFontMetricsF(font)
    room = max(10.0, round(width) - 8.0)
    if fm.horizontalAdvance(name) <= room:
        return name
    head, sep, tail = name.partition(" · ")
    if not sep:
        return name  # one part: layout elides it
    rest = sep + tail
    keep = room - fm.horizontalAdvance(rest)
    if keep < fm.horizontalAdvance("MMMM"):
        return name
    return fm.elidedText(head, Qt.TextElideMode.ElideRight, keep) + rest


PRODUCERS: dict[str, type[Producer]] = {
    "layers": LayersProducer,
    "training": TrainingProducer,
    "orbit": OrbitProducer,
    "sheet": SheetProducer,
    "side_by_side": SideBySideProducer,
    "compare": CompareProducer,
}


def orbit_scene_2d(scene: FlowScene, azimuth: float, elevation: float) -> FlowScene:
    """A 3-D scene seen by an orthographic camera at (azimuth, elevation): the no-GL orbit.

    Uses pyqtgraph's camera convention (camera at centre + r(cos e cos a, cos e sin a,
    sin e)), so it turns the same way as the OpenGL orbit. The box is fixed over all
    angles (the bounding sphere of the final layer), so the picture does not pump.
    """
    a, e = math.radians(azimuth), math.radians(elevation)
    right = np.array([-math.sin(a), math.cos(a), 0.0])
    up = np.array([-math.sin(e) * math.cos(a), -math.sin(e) * math.sin(a), math.cos(e)])
    m = np.stack([right, up])  # (2, 3)
    pj = scene.projection
    proj = ViewProjection(
        matrix=m @ pj.matrix,
        offset=m @ pj.offset,
        labels=("", ""),
        note=pj.inner_note or pj.note,  # no plane is drawn here (see below)
        inner_note=pj.inner_note,
        kind="ortho",
        source_dim=pj.source_dim,
    )
    b = scene.bounds[-1]
    centre = 0.5 * (b[0] + b[1])
    r = 0.5 * float(np.linalg.norm(b[1] - b[0]))
    c2 = m @ centre
    box = np.array([c2 - r, c2 + r])
    return dataclasses.replace(
        scene,
        dims=2,
        projection=proj,
        points=scene.points @ m.T,
        grid=scene.grid @ m.T,
        loop=None if scene.loop is None else scene.loop @ m.T,
        plane=(np.zeros(2), 0.0),  # a plane seen edge-on is not a line: not drawn
        class_head=None,  # neither are the K regions' borders
        region_affine=m @ scene.region_affine,
        bounds=np.repeat(box[None], scene.n_frames, axis=0),
        steady_box=box,
        source=None,
    )
