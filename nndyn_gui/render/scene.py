"""Everything a view draws, computed once per (config, weights, data) in numpy.

The 2-D view, the 3-D view, the small multiples and the exporter all read the same
`FlowScene`, so they can never disagree about where a point is at layer t. Views only
interpolate (`FlowScene.at`) and push arrays into their items; no flow is computed
while animating.

Time `t` is measured in *frames*: frame 0 is the input, frame F-1 the last layer. With
`ViewOptions.substeps` off (the default) frames are layers; with substeps on, each layer
becomes the stages of `flow.layer_substeps` (MLP: A x, A x + b, s(A x + b), so 3T+1
frames; ResNet: the affine Euler step, then the true step, so 2T+1 frames) and
`frame_of_layer(k)` maps layer indices to frames. The boxes and clipping are
render/scene_geometry.py's; the map into view coordinates, render/view_projection.py's.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from nndyn_gui.core import datasets
from nndyn_gui.core.config import RunConfig
from nndyn_gui.core.net import flow, multiclass
from nndyn_gui.core.types import Dataset, NetWeights
from nndyn_gui.render.scene_geometry import (
    _bounds,
    _clip_line,
    _clip_plane,
    _input_coords,
    box_corners,
    steady_box,
)
from nndyn_gui.render.view_projection import ViewProjection, make_projection

if TYPE_CHECKING:
    from nndyn_gui.render.palette import Palette

__all__ = ["FlowScene", "FrameState", "ViewOptions", "ViewProjection", "_clip_plane", "box_corners"]

Background = Literal["white", "dark", "transparent"]

#: options whose change needs a rebuilt scene (the others only change what is drawn)
REBUILD_FIELDS = ("grid_n", "substeps")

REGION_RES = 128  # pixels per side of the decision-region image
LOOP_POINTS = 240  # vertices of the outer-class loop


@dataclass
class ViewOptions:
    """What the views show; shared by the 2-D and 3-D views and the exporter."""

    show_points: bool = True
    show_grid: bool = True
    show_plane: bool = True
    show_regions: bool = True
    show_loop: bool = False
    show_trajectories: bool = False
    show_field: bool = False  # velocity arrows of the current block (render.field_layer)
    #: each class's density of fresh points of the distribution (render.density_layer)
    show_density: bool = False
    #: the costate p_t = -∂loss/∂x_t as arrows at training points (render.costate_layer)
    show_costate: bool = False
    tail_length: int = 8  # layers of trajectory drawn behind each point
    point_size: float = 5.0
    grid_n: int = 21
    background: Background = "white"
    substeps: bool = False
    #: one box and camera for the whole flow (fitted to every layer), not one per layer
    steady_camera: bool = True
    #: sizes of points, lines and text: 1 = the window's; exports and presentation scale up
    scale: float = 1.0
    #: text for a lecture hall (exports, presentation): render/scene_view.HALL_TEXT times
    #: `scale`, so axis names and ticks stay >= 2.5 % of the frame's height
    hall_text: bool = False

    def copy(self, **changes: Any) -> ViewOptions:
        return dataclasses.replace(self, **changes)

    def needs_rebuild(self, other: ViewOptions) -> bool:
        """True when switching to `other` changes the scene's arrays, not just the look."""
        if other.show_density and not self.show_density:
            return True  # the density is computed with the scene, off the GUI thread
        if other.show_costate and not self.show_costate:
            return True  # so are the costates
        return any(getattr(self, f) != getattr(other, f) for f in REBUILD_FIELDS)


@dataclass
class FrameState:
    """What a view shows at one (possibly fractional) time t."""

    t: float
    points: np.ndarray  # (N, dims)
    grid: np.ndarray  # (M, dims)
    loop: np.ndarray | None  # (L, dims)
    label: str
    bounds: np.ndarray  # (2, dims): lo, hi
    is_first: bool
    is_last: bool
    plane_opacity: float  # 0 until the last layer, fades in over it
    regions_opacity: float  # 1 at the input, gone after the first layer


@dataclass
class FlowScene:
    """Trajectories of data, grid and loop through the net, in view coordinates.

    A layer wider than the view (width d >= 3 in 2-D, d > 3 in 3-D) is drawn on the
    head axes of `flow.head_projection`, one projection for every layer, so the drawn
    line (plane) at the output is exactly the net's boundary. The input frame is the
    exception: the data live in the x1-x2 plane there, and on the head axes that plane
    is seen at a slant (foreshortened, for a net that lifts the centre along w even to
    a sliver), so frame 0 is drawn in its own coordinates (x1, x2, 0) with the decision
    regions as the square they are. The animation interpolates frame 0 to frame 1 like
    any two frames, so the first layer's motion on screen also carries the turn from
    the input's axes to the projection's; `axis_labels(t)` and `view_note(t)` say so.
    The alternative, one slanted projection from t = 0 on, hides the data set the user
    picked behind a change of view they did not ask for; every layer from 1 on, and the
    motion between them, is still one fixed linear image of R^d.
    """

    dims: int
    projection: ViewProjection
    points: np.ndarray  # (F, N, dims)
    labels: np.ndarray  # (N,) 0..K-1
    indices: np.ndarray  # (N,) rows of dataset.x_all shown (subsample of max_points)
    grid: np.ndarray  # (F, M, dims)
    segments: np.ndarray  # (S, 2) int: mesh edges between grid points
    loop: np.ndarray | None  # (F, L, dims) the outer-class loop, ring data only
    loop_wrong: np.ndarray  # (L,) bool: loop points the net puts on the inner side
    frame_labels: list[str]
    frame_layer: np.ndarray  # (F,) layer time of each frame (k + j/3 with substeps)
    plane: tuple[np.ndarray, float]  # (w, c) in view coords of the last frame (K = 2 only)
    # (H, W) P(class 1) over the input square, row i is y, col j is x; K > 2: (H, W, K)
    regions: np.ndarray
    region_extent: tuple[float, float, float, float]  # x0, x1, y0, y1 of `regions`
    region_affine: np.ndarray  # (dims, 3): input (u, v, 1) -> view coords at frame 0
    bounds: np.ndarray  # (F, 2, dims) smoothed per-frame lo/hi
    options: ViewOptions
    title: str = ""
    depth: int = 0
    width: int = 2
    classes: int = 2
    #: K > 2: the head in view coordinates (Wv (K, dims), cv (K,)) when its K regions are
    #: exact in this view (see core.net.multiclass), else None; K = 2 uses `plane`
    class_head: tuple[np.ndarray, np.ndarray] | None = None
    source: tuple[RunConfig, NetWeights, Dataset, int] | None = field(default=None, repr=False)
    #: derived pictures (the 2-D projection, region images per palette) made at most once
    #: per scene; the UI's builder thread fills it so the GUI thread only looks them up
    cache: dict[Any, Any] = field(default_factory=dict, repr=False, compare=False)
    #: (2, dims) one box around every frame: the steady camera's (ViewOptions.steady_camera)
    steady_box: np.ndarray | None = field(default=None, repr=False)
    #: the training step of the weights drawn, when the caller knows it (hover names it)
    step: int | None = None

    # ------------------------------------------------------------------ build
    @classmethod
    def build(
        cls,
        config: RunConfig,
        weights: NetWeights,
        dataset: Dataset,
        options: ViewOptions | None = None,
        max_points: int = 4000,
        dims: int | None = None,
        step: int | None = None,
    ) -> FlowScene:
        """Carry data, grid and loop through the net; `dims` defaults to min(width, 3);
        `step`: the training step of `weights` (kept, for readouts that name it)."""
        opts = options or ViewOptions()
        d = weights.width
        dims = int(min(d, 3) if dims is None else min(dims, d))
        x_all = np.asarray(dataset.x_all, dtype=np.float64)
        y_all = np.asarray(dataset.y_all).astype(np.int64)
        idx = _subsample(len(x_all), max_points)
        x2, y = x_all[idx], y_all[idx]

        grid = flow.make_grid(max(2, int(opts.grid_n)), 1.0)
        loop2 = _outer_loop(config)
        n_pts, n_grid = len(x2), len(grid.points)
        stack = [x2, grid.points] + ([loop2] if loop2 is not None else [])
        both = np.concatenate(stack)

        raw, labels, layer_t = _trajectories(config, weights, both, opts.substeps)
        last = raw[-1, :n_pts] if n_pts else raw[-1]
        k = weights.classes
        proj = make_projection(last, weights.w, d, dims, k)
        traj = proj.apply(raw)
        if proj.projected:
            traj[0] = _input_coords(raw[0], dims)  # see the class docstring
        traj_pts = traj[:, :n_pts]
        traj_grid = traj[:, n_pts : n_pts + n_grid]
        traj_loop = traj[:, n_pts + n_grid :] if loop2 is not None else None

        if k == 2:
            plane = proj.plane(weights.w, float(weights.c))
            class_head = None
        else:
            plane = (np.zeros(dims), 0.0)
            class_head = proj.class_head(weights.w, np.asarray(weights.c))

        loop_wrong = np.zeros(0, dtype=bool)
        if loop2 is not None and k == 2:
            p_loop = flow.head_probability(weights, raw[-1, n_pts + n_grid :])
            outer = _outer_label(loop2, x_all, y_all)
            loop_wrong = (p_loop >= 0.5).astype(np.int64) != outer

        regions, extent = _regions(config, weights)
        u = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
        img = _input_coords(u, dims) if proj.projected else proj.apply(flow.embed(u, d))
        affine = np.column_stack([img[1] - img[0], img[2] - img[0], img[0]])

        bounds = _bounds(traj_pts, traj_loop, dims)
        return cls(
            steady_box=steady_box(bounds),
            dims=dims,
            projection=proj,
            points=traj_pts,
            labels=y,
            indices=idx,
            grid=traj_grid,
            segments=grid.segments,
            loop=traj_loop,
            loop_wrong=loop_wrong,
            frame_labels=labels,
            frame_layer=layer_t,
            plane=plane,
            regions=regions,
            region_extent=extent,
            region_affine=affine,
            bounds=bounds,
            options=opts,
            title=config.title,
            depth=weights.depth,
            width=d,
            classes=k,
            class_head=class_head,
            source=(config, weights, dataset, max_points),
            step=step,
        )

    def rebuilt(self, options: ViewOptions | None = None, dims: int | None = None) -> FlowScene:
        """The same experiment with other build options or another number of shown dims."""
        if self.source is None:
            raise ValueError("scene has no source to rebuild from")
        config, weights, dataset, max_points = self.source
        return FlowScene.build(
            config,
            weights,
            dataset,
            options or self.options,
            max_points,
            dims or self.dims,
            step=self.step,
        )

    def with_options(self, options: ViewOptions) -> FlowScene:
        """A shallow copy showing other look-only options (arrays are shared, not copied)."""
        return dataclasses.replace(self, options=options)

    def projected_2d(self) -> FlowScene:
        """A 2-D version (head axes, see the class) for small multiples and no-OpenGL views."""
        if self.dims == 2:
            return self
        flat = self.cache.get("2d")
        if flat is None:
            flat = self.cache["2d"] = self.rebuilt(dims=2)
        return flat if flat.options == self.options else flat.with_options(self.options)

    def region_image(self, palette: Palette) -> np.ndarray:
        """(H, W, 4) uint8 decision-region picture in this palette (cached, shared)."""
        key = ("regions", palette.name)
        img = self.cache.get(key)
        if img is None:
            img = self.cache[key] = palette.region_rgba(self.regions)
        return img

    # ------------------------------------------------------------------ queries
    @property
    def n_frames(self) -> int:
        return int(self.points.shape[0])

    @property
    def t_max(self) -> float:
        return float(self.n_frames - 1)

    @property
    def frames_per_layer(self) -> int:
        return max(1, (self.n_frames - 1) // max(1, self.depth))

    def frame_of_layer(self, k: int) -> int:
        """Frame index showing the output of layer k (0 = input)."""
        return int(min(max(k, 0), self.depth) * self.frames_per_layer)

    def plane_segment(self, bounds: np.ndarray) -> np.ndarray | None:
        """The separating line clipped to a 2-D box: (2, 2) end points, or None if outside."""
        w, c = self.plane
        if self.dims != 2 or not np.all(np.isfinite(w)) or float(np.hypot(*w)) < 1e-12:
            return None
        return _clip_line(w, c, bounds)

    def plane_polygon(self, bounds: np.ndarray) -> np.ndarray | None:
        """The separating plane clipped to a 3-D box: (K, 3) convex polygon, K >= 3."""
        w, c = self.plane
        if self.dims != 3 or not np.all(np.isfinite(w)) or float(np.linalg.norm(w)) < 1e-12:
            return None
        return _clip_plane(w, c, bounds)

    def class_borders(self, bounds: np.ndarray) -> list[np.ndarray]:
        """K > 2: the borders between the K regions of the last layer in a view box.

        2-D: (2, 2) segments; 3-D: (P, 3) convex polygons; each is the part of a pairwise
        boundary where its two classes beat all others (exact: core.net.multiclass). Empty
        when the regions are not exact in this view (nothing false is drawn).
        """
        if self.class_head is None:
            return []
        wv, cv = self.class_head
        box = np.asarray(bounds, dtype=np.float64)
        if not (np.isfinite(wv).all() and np.isfinite(cv).all() and np.isfinite(box).all()):
            return []
        if self.dims == 2:
            return [seg for _, _, seg in multiclass.boundary_segments(wv, cv, box)]
        if self.dims == 3:
            return [poly for _, _, poly in multiclass.boundary_faces(wv, cv, box)]
        return []

    def at(self, t: float) -> FrameState:
        """Linear interpolation between frames floor(t) and ceil(t) (t clamped to range)."""
        t = float(min(max(t, 0.0), self.t_max)) if math.isfinite(t) else 0.0
        i0 = math.floor(t)
        i1 = min(i0 + 1, self.n_frames - 1)
        a = t - i0

        def lerp(arr: np.ndarray) -> np.ndarray:
            if a == 0.0 or i1 == i0:
                return arr[i0]
            return arr[i0] + a * (arr[i1] - arr[i0])

        label = self.frame_labels[round(t)]
        fpl = self.frames_per_layer
        last = self.t_max
        return FrameState(
            t=t,
            points=lerp(self.points),
            grid=lerp(self.grid),
            loop=None if self.loop is None else lerp(self.loop),
            label=label,
            bounds=self.box_at(t),
            is_first=t == 0.0,
            is_last=t == last,
            plane_opacity=float(np.clip(1.0 - (last - t) / fpl, 0.0, 1.0)),
            regions_opacity=float(np.clip(1.0 - t / fpl, 0.0, 1.0)),
        )

    def box_at(self, t: float) -> np.ndarray:
        """The box a view frames at time t: the steady box, or the layer's own (following)."""
        if self.options.steady_camera:
            if self.steady_box is None:
                self.steady_box = steady_box(self.bounds)
            return self.steady_box
        t = float(min(max(t, 0.0), self.t_max)) if math.isfinite(t) else 0.0
        i0 = math.floor(t)
        i1 = min(i0 + 1, self.n_frames - 1)
        a = t - i0
        b = self.bounds
        return b[i0] if a == 0.0 or i1 == i0 else b[i0] + a * (b[i1] - b[i0])

    def points_at(self, t: float, rows: np.ndarray) -> np.ndarray:
        """Positions of some points at time t (what `at(t).points[rows]` gives, cheaper)."""
        t = float(min(max(t, 0.0), self.t_max))
        i0 = math.floor(t)
        i1 = min(i0 + 1, self.n_frames - 1)
        a = t - i0
        p0 = self.points[i0, rows]
        return p0 if a == 0.0 or i1 == i0 else p0 + a * (self.points[i1, rows] - p0)

    def axis_labels(self, t: float) -> tuple[str, ...]:
        """Names of the view axes at time t (the input frame has its own, see the class)."""
        if not self.projection.projected or self.projection.kind == "ortho":
            return self.projection.labels
        own = ("x1", "x2") + ("",) * (self.dims - 2)
        if t <= 0.0:
            return own
        if t < 1.0:
            return tuple(
                f"{a} → {b}" if a else b for a, b in zip(own, self.projection.labels, strict=True)
            )
        return self.projection.labels

    def boundary_drawn(self, t: float) -> bool:
        """Whether the views draw the separating line / plane (the class borders) at t."""
        if not self.options.show_plane or self.at(t).plane_opacity <= 0.0:
            return False
        if self.classes > 2:
            return self.class_head is not None
        return bool(np.all(np.isfinite(self.plane[0])) and np.any(self.plane[0] != 0))

    def view_note(self, t: float) -> str:
        """The projection note for time t: what the axes are, and the boundary named as
        exact only where it is drawn (core.analysis.narrator.projection_note)."""
        pj = self.projection
        note = pj.note if self.boundary_drawn(t) or not pj.inner_note else pj.inner_note
        if not pj.projected or pj.kind == "ortho" or t >= 1.0:
            return note
        if t <= 0.0:
            return f"input in its own plane x1, x2; the layers are a projection of R^{self.width}"
        return f"first layer: turning from x1, x2 into the projection of R^{self.width}"

    def layer_label(self, t: float) -> str:
        """Label for the on-screen caption: frame name plus where it sits in the net."""
        t = float(min(max(t, 0.0), self.t_max))
        name = self.frame_labels[round(t)]
        return f"{name}  ·  t = {self.frame_layer[round(t)]:.4g} / {self.depth}"


# ---------------------------------------------------------------------- helpers
def _subsample(n: int, max_points: int) -> np.ndarray:
    """A fixed random subset (seed 0) so every view of the same data shows the same points."""
    if n <= max_points:
        return np.arange(n)
    rng = np.random.default_rng(0)
    return np.sort(rng.choice(n, size=max_points, replace=False))


def _outer_loop(config: RunConfig) -> np.ndarray | None:
    """The dense closed loop inside the outer class (ring-like data), from core.datasets."""
    loop = datasets.outer_loop(config.data, LOOP_POINTS)
    if loop is None:
        return None
    loop = np.asarray(loop, dtype=np.float64).reshape(-1, 2)
    return loop if len(loop) >= 3 else None


def _outer_label(loop: np.ndarray, x: np.ndarray, y: np.ndarray) -> int:
    """Label of the class the loop runs through: majority label of its nearest data points."""
    if len(x) == 0:
        return 1
    sub = _subsample(len(x), 2000)
    xs, ys = x[sub], y[sub]
    with np.errstate(over="ignore"):  # hostile data far away: inf is "not nearest"
        d2 = ((loop[:, None, :] - xs[None, :, :]) ** 2).sum(-1)
    nearest = ys[np.argmin(d2, axis=1)]
    return int(np.mean(nearest) >= 0.5)


def _trajectories(
    config: RunConfig, weights: NetWeights, x2: np.ndarray, substeps: bool
) -> tuple[np.ndarray, list[str], np.ndarray]:
    """(F, N, d) positions, frame labels, and the layer time of each frame."""
    model = config.model
    depth = weights.depth
    with np.errstate(all="ignore"):
        if not substeps:
            traj = flow.propagate(model, weights, x2)
            labels = ["input"] + [f"layer {k}" for k in range(1, depth + 1)]
            labels[-1] = "output"
            return traj, labels, np.arange(depth + 1, dtype=np.float64)
        x = flow.embed(x2, weights.width)
        frames = [x]
        labels = ["input"]
        layer_t = [0.0]
        for k in range(depth):
            steps = flow.layer_substeps(model, weights, k, x)[1:]
            for j, (name, arr) in enumerate(steps):
                frames.append(np.asarray(arr, dtype=np.float64))
                labels.append(f"layer {k + 1}: {name}")
                layer_t.append(k + (j + 1) / len(steps))
            x = frames[-1]
        labels[-1] = f"output: {steps[-1][0]}" if depth else labels[-1]
    return np.stack(frames), labels, np.asarray(layer_t)


def _regions(
    config: RunConfig, weights: NetWeights
) -> tuple[np.ndarray, tuple[float, float, float, float]]:
    """P(class 1) of the whole net on a REGION_RES^2 lattice of pixel centres in [-1, 1]^2
    ((H, W, K) class probabilities for K > 2 classes)."""
    n = REGION_RES
    centres = -1.0 + (np.arange(n) + 0.5) * (2.0 / n)
    gx, gy = np.meshgrid(centres, centres, indexing="xy")
    x2 = np.column_stack([gx.ravel(), gy.ravel()])
    with np.errstate(all="ignore"):
        x = flow.embed(x2, weights.width)
        for k in range(weights.depth):
            x = flow.layer(config.model, weights, k, x)
        if weights.classes > 2:
            k = weights.classes
            pk = np.nan_to_num(flow.class_probabilities(weights, x), nan=1.0 / k)
            return pk.reshape(n, n, k), (-1.0, 1.0, -1.0, 1.0)
        p = flow.head_probability(weights, x)
    p = np.nan_to_num(p, nan=0.5).reshape(n, n)
    return p, (-1.0, 1.0, -1.0, 1.0)
