"""What a web page or notebook figure of a run shows, as numpy arrays (no Qt, no Plotly).

Each kept snapshot is one `render.scene.FlowScene` (the scene the window and the video
export draw): the same points (a fixed subsample), grid, projection, steady box,
separating line/plane and decision regions, so the page can never disagree with the
app. Only the thinning is new: at most `WebOptions.snapshots` snapshots (evenly over the
run, first and last kept) and `WebOptions.layers` layers (input and output kept), so a
page stays small enough to open at once.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from nndyn_gui.core.analysis import narrator
from nndyn_gui.core.config import RunConfig
from nndyn_gui.core.types import Run, Snapshot
from nndyn_gui.render.encode import ExportError
from nndyn_gui.render.scene import FlowScene, ViewOptions

#: the defaults the size budget is measured with (docs: 51 layers, 1,000 points, 20 x 20
#: grid, 11 snapshots of resnet-w3-ring fit in 8 MB)
DEFAULT_SNAPSHOTS = 11
DEFAULT_POINTS = 1000
DEFAULT_GRID = 20
MAX_POINTS = 100_000
BACKGROUNDS = ("white", "dark")
#: the whole numbers of WebOptions and their ranges (the dialog's spin boxes read them)
LIMITS = {"snapshots": (0, 10_000), "layers": (0, 100_000), "points": (1, MAX_POINTS),
          "grid": (2, 200)}  # fmt: skip


@dataclass(frozen=True)
class WebOptions:
    """What a page or figure keeps of a run; 0 means "all" for snapshots and layers."""

    snapshots: int = DEFAULT_SNAPSHOTS
    layers: int = 0
    points: int = DEFAULT_POINTS
    grid: int = DEFAULT_GRID
    dims: int = 0  # 2 or 3; 0: 3 for nets of width >= 3, else 2
    background: str = "white"
    title: str = ""  # "" : the run's title (core.analysis.narrator.run_title)

    def validate(self) -> WebOptions:
        """Raise ExportError (one line, the CLI's and dialog's) for a value that cannot work."""
        for name, (lo, hi) in LIMITS.items():
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int | np.integer) or not lo <= v <= hi:
                raise ExportError(f"{name} must be a whole number from {lo} to {hi}, got {v!r}")
        if self.layers == 1:
            raise ExportError("layers must be 0 (all) or at least 2 (the input and the output)")
        if self.dims not in (0, 2, 3):
            raise ExportError(f"dims must be 2 or 3 (0: chosen by the width), got {self.dims!r}")
        if self.background not in BACKGROUNDS:
            raise ExportError(f"unknown background {self.background!r} (use white or dark)")
        return self


@dataclass
class SnapData:
    """One snapshot: where every point and grid vertex is at each kept layer."""

    step: int
    caption: str  # "step 20,000 · train 100.0% · test 99.5%" (the app's words)
    points: np.ndarray  # (L, N, dims)
    grid: np.ndarray  # (L, M, dims)
    box: np.ndarray  # (2, dims): the steady box of every layer (the window's camera)
    notes: list[str]  # per kept layer: what the axes are (projected nets), else ""
    boundary: list[np.ndarray]  # drawn at the output: 2-D (2, 2) segments, 3-D (P, 3) polygons
    sides: list[tuple[int, np.ndarray]]  # 2-D, two classes: (class, (P, 2) polygon) at the output
    regions: np.ndarray  # (R, R) P(class 1) over the input square; K > 2: (R, R) winning class
    normal: np.ndarray | None  # the head's normal in view coordinates (3-D camera)


@dataclass
class FlowData:
    """Everything a page or figure draws; the same for every snapshot but the SnapData."""

    title: str
    dims: int
    width: int
    depth: int
    classes: int
    labels: np.ndarray  # (N,) class of each point shown
    class_names: list[str]
    layers: list[int]  # kept layer indices, 0 = input ... depth = output
    layer_names: list[str]  # "input", "layer 1", ..., "output"
    axis_titles: list[tuple[str, ...]]  # per kept layer
    path: np.ndarray  # (P,) grid vertex indices along the grid lines, -1 between lines
    background: str
    snaps: list[SnapData] = field(default_factory=list)

    @property
    def n_points(self) -> int:
        return int(self.labels.shape[0])


def pick(n: int, keep: int) -> list[int]:
    """`keep` indices evenly over range(n), first and last kept (all when keep is 0 or >= n)."""
    if n <= 0:
        return []
    if keep <= 0 or keep >= n:
        return list(range(n))
    return sorted({round(v) for v in np.linspace(0, n - 1, max(2, keep))})


def step_caption(snap: Snapshot) -> str:
    """The step and accuracies, in the words of the app's panels (ui/steps, narrator)."""
    if not narrator.is_trained(snap):
        return "untrained (step 0)"
    return (
        f"step {snap.step:,} · train {narrator.fmt_pct(snap.train_acc)} · "
        f"test {narrator.fmt_pct(snap.test_acc)}"
    )


def collect(run: Run, options: WebOptions | None = None) -> FlowData:
    """The page's data: one FlowScene per kept snapshot, thinned as `options` asks."""
    opts = (options or WebOptions()).validate()
    if not run.snapshots:
        raise ExportError("this run has no snapshots to show (train it first)")
    width = run.config.model.width
    dims = opts.dims or (3 if width >= 3 else 2)
    view = ViewOptions(grid_n=opts.grid, background=opts.background)  # type: ignore[arg-type]
    snaps = [run.snapshots[i] for i in pick(len(run.snapshots), opts.snapshots)]
    scenes = [
        FlowScene.build(run.config, s.weights, run.dataset, view, opts.points, dims, step=s.step)
        for s in snaps
    ]
    last = scenes[-1]
    layers = pick(last.depth + 1, opts.layers)
    present = sorted({int(v) for v in np.unique(last.labels)}) or [0, 1]
    data = FlowData(
        title=opts.title or narrator.run_title(run.config),
        dims=last.dims,
        width=last.width,
        depth=last.depth,
        classes=last.classes,
        labels=np.asarray(last.labels, dtype=np.int64),
        class_names=_class_names(run.config, max(last.classes, max(present) + 1)),
        layers=layers,
        layer_names=[last.frame_labels[k] for k in layers],
        axis_titles=[tuple(last.axis_labels(float(k))) for k in layers],
        path=grid_path(opts.grid),
        background=opts.background,
    )
    for snap, scene in zip(snaps, scenes, strict=True):
        data.snaps.append(_snap_data(snap, scene, layers))
    return data


def _snap_data(snap: Snapshot, scene: FlowScene, layers: list[int]) -> SnapData:
    box = scene.box_at(scene.t_max)
    out = float(scene.t_max)
    boundary: list[np.ndarray] = []
    sides: list[tuple[int, np.ndarray]] = []
    normal = None
    if scene.boundary_drawn(out):
        if scene.classes > 2:
            boundary = scene.class_borders(box)
        else:
            w, c = scene.plane
            normal = np.asarray(w, dtype=np.float64)
            edge = scene.plane_segment(box) if scene.dims == 2 else scene.plane_polygon(box)
            boundary = [] if edge is None else [edge]
            if scene.dims == 2:
                sides = [(k, poly) for k, poly in half_boxes(w, c, box) if len(poly) >= 3]
    regions = _halve(np.asarray(scene.regions, dtype=np.float64))
    if scene.classes > 2:
        regions = np.argmax(regions, axis=-1).astype(np.float64)
    return SnapData(
        step=int(snap.step),
        caption=step_caption(snap),
        points=np.asarray(scene.points[layers], dtype=np.float64),
        grid=np.asarray(scene.grid[layers], dtype=np.float64),
        box=np.asarray(box, dtype=np.float64),
        notes=[scene.view_note(float(k)) for k in layers],
        boundary=[np.asarray(b, dtype=np.float64) for b in boundary],
        sides=sides,
        regions=regions,
        normal=normal,
    )


def _halve(img: np.ndarray) -> np.ndarray:
    """The region image at half its resolution (2 x 2 means): 64 x 64 is plenty under
    points, and a page carries one per snapshot."""
    h, w = img.shape[0] // 2 * 2, img.shape[1] // 2 * 2
    if h < 2 or w < 2:
        return img
    x = img[:h, :w]
    return 0.25 * (x[0::2, 0::2] + x[1::2, 0::2] + x[0::2, 1::2] + x[1::2, 1::2])


def grid_path(n: int) -> np.ndarray:
    """Vertex indices of `flow.make_grid(n)` along its rows, then its columns; -1 ends a line."""
    idx = np.arange(n * n).reshape(n, n)
    lines = [*idx, *idx.T]
    return np.concatenate([np.append(line, -1) for line in lines])


def half_boxes(w: np.ndarray, c: float, box: np.ndarray) -> list[tuple[int, np.ndarray]]:
    """The two parts of a 2-D box on either side of {w.y + c = 0}: class 1 where w.y + c >= 0
    (the sigmoid head's p >= 0.5), class 0 on the other side."""
    (x0, y0), (x1, y1) = np.asarray(box, dtype=np.float64)
    rect = np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]])
    return [(1, _clip(rect, w, c)), (0, _clip(rect, -np.asarray(w), -c))]


def _clip(poly: np.ndarray, w: np.ndarray, c: float) -> np.ndarray:
    """The part of a convex polygon where w.y + c >= 0 (one Sutherland-Hodgman pass)."""
    s = poly @ np.asarray(w, dtype=np.float64) + c
    out: list[np.ndarray] = []
    for i in range(len(poly)):
        j = (i + 1) % len(poly)
        if s[i] >= 0:
            out.append(poly[i])
        if (s[i] >= 0) != (s[j] >= 0) and math.isfinite(s[i] - s[j]) and s[i] != s[j]:
            u = s[i] / (s[i] - s[j])
            out.append(poly[i] + u * (poly[j] - poly[i]))
    return np.array(out).reshape(-1, 2)


def _class_names(config: RunConfig, count: int) -> list[str]:
    """The names the user typed (data.class_names), the legend's as in the app; "class k"
    for a label beyond them."""
    typed = list(config.data.names)
    return [typed[k] if k < len(typed) else f"class {k}" for k in range(count)]
