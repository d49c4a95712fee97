"""What is under the mouse: a data point, a grid vertex or the decision regions.

Both layer views use this, so hovering reads the same in 2-D and 3-D:
- a point or a vertex shows its coordinates at the layer shown, named by the view's
  axes (x1, x2 at the input; the head axes "w-axis (head normal)", "⊥1" when the net is
  wider than the view), its class, the probability the net gives it, and lights its
  whole trajectory;
- a class is called by the name the run gives it (data.class_names, as in the input
  map's and the web page's legends), "class k" when it has none;
- empty space shows the class probability of a point placed there, wherever that is
  exact: at the input (the net run on that input), at a layer drawn in its own
  coordinates (the rest of the net run from there), and at the output on the head axes
  (the logit is w'.y + c' in view coordinates, see scene.ViewProjection.plane).
  Elsewhere a view position does not fix a point of R^d, and nothing is claimed.

pyqtgraph.opengl has no picking: the 3-D view projects the points with its own
matrices (`project`) and takes the nearest on screen, and finds the input plane under
the mouse by casting the ray back through them (`ray_plane`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from nndyn_gui.core.net import flow
from nndyn_gui.core.types import NetWeights
from nndyn_gui.render.scene import FlowScene

POINT_TOLERANCE_PX = 8.0
VERTEX_TOLERANCE_PX = 6.0


@dataclass
class Hover:
    """What the mouse is over, in words and numbers."""

    kind: str  # "point" | "vertex" | "region"
    row: int  # row of scene.points / scene.grid (-1 for a region)
    coords: np.ndarray  # (dims,) view coordinates at time t
    axes: tuple[str, ...]  # their names
    #: P(class 1) there for two classes; for K > 2 the probability of the likeliest class
    #: (None where it is not defined)
    probability: float | None
    text: str  # the readout, one or two lines
    trajectory: np.ndarray | None = None  # (F, dims): the whole path through the net


def nearest_on_screen(screen: np.ndarray, at: tuple[float, float], tol: float) -> int | None:
    """Index of the screen position (N, 2) nearest `at`, if within `tol` pixels."""
    if not len(screen):
        return None
    d = np.hypot(screen[:, 0] - at[0], screen[:, 1] - at[1])
    d[~np.isfinite(d)] = np.inf
    j = int(np.argmin(d))
    return j if d[j] <= tol else None


def _fmt(v: float) -> str:
    return f"{v:.4g}" if math.isfinite(v) else "—"


def _coords_text(axes: tuple[str, ...], coords: np.ndarray) -> str:
    return ", ".join(
        f"{a or f'y{i + 1}'} = {_fmt(float(v))}"
        for i, (a, v) in enumerate(zip(axes, coords, strict=False))
    )


def _where(scene: FlowScene, t: float) -> str:
    """ "layer 3 at step 2,000": the layer, and the snapshot whose numbers these are."""
    where = scene.layer_label(t).split("  ·  ")[0]
    if t != round(t):
        where += f" (t = {scene.frame_layer[int(t)]:.3g}…, between frames)"
    if scene.step is not None:
        where += f" at step {scene.step:,}"
    return where


def _inputs(scene: FlowScene, kind: str, row: int) -> np.ndarray | None:
    """The 2-D input a point or vertex started from (from the scene's source)."""
    if scene.source is None:
        return None
    _config, _weights, dataset, _ = scene.source
    if kind == "point":
        return np.asarray(dataset.x_all, dtype=np.float64)[scene.indices[row]]
    grid = flow.make_grid(max(2, int(scene.options.grid_n)), 1.0)
    return grid.points[row]


def _class_name(scene: FlowScene, k: int) -> str:
    """The run's name of class k (data.class_names), else "class k"."""
    names = scene.source[0].data.names if scene.source is not None else ()
    return names[k] if 0 <= k < len(names) else f"class {k}"


def _head_probability(weights: NetWeights, x_last: np.ndarray) -> float | None:
    """P(class 1) (two classes) or the likeliest class's probability (K > 2), of one row."""
    with np.errstate(all="ignore"):
        probs = flow.class_probabilities(weights, x_last)[0]
    p = float(probs[1]) if weights.classes == 2 else float(np.max(probs))
    return p if np.isfinite(probs).all() else None


def _probability_text(scene: FlowScene, p: float) -> tuple[str, int]:
    """("P(class 1) = 0.873", predicted class) in the words of the head's kind."""
    weights = scene.source[1] if scene.source is not None else None
    if weights is None or weights.classes == 2:
        return f"P({_class_name(scene, 1)}) = {p:.3f}", int(p >= 0.5)
    return f"P = {p:.3f} for the likeliest class", -1


def _probability_of_input(scene: FlowScene, x2: np.ndarray) -> float | None:
    if scene.source is None:
        return None
    config, weights, _, _ = scene.source
    with np.errstate(all="ignore"):
        x = flow.propagate(config.model, weights, np.asarray(x2, dtype=np.float64).reshape(1, 2))
    return _head_probability(weights, x[-1])


def _class_of_input(scene: FlowScene, x: np.ndarray, frame_layer: int) -> int | None:
    """The class the net gives a point at layer `frame_layer` (None when unknown)."""
    if scene.source is None:
        return None
    config, weights, _, _ = scene.source
    with np.errstate(all="ignore"):
        for k in range(frame_layer, weights.depth):
            x = flow.layer(config.model, weights, k, x)
        if not np.isfinite(x).all():
            return None
        return int(flow.head_classes(weights, x)[0])


def describe(scene: FlowScene, t: float, kind: str, row: int) -> Hover:
    """A point's or a grid vertex's readout at time t (frames), with its trajectory."""
    st = scene.at(t)
    arr = st.points if kind == "point" else st.grid
    coords = np.asarray(arr[row], dtype=np.float64)
    axes = scene.axis_labels(st.t)
    traj = (scene.points if kind == "point" else scene.grid)[:, row]
    x2 = _inputs(scene, kind, row)
    p = _probability_of_input(scene, x2) if x2 is not None else None
    if kind == "point":
        head = f"point #{int(scene.indices[row])} · {_class_name(scene, int(scene.labels[row]))}"
    else:
        head = "grid vertex" + (
            f" from ({_fmt(float(x2[0]))}, {_fmt(float(x2[1]))})" if x2 is not None else ""
        )
    if p is not None:
        head += " · " + _probability_text(scene, p)[0]
    body = f"{_where(scene, st.t)}: {_coords_text(axes, coords)}"
    if scene.projection.projected and st.t >= 1.0 and scene.projection.kind != "ortho":
        body += f" (projection of R^{scene.width})"
    return Hover(kind, row, coords, axes, p, f"{head}\n{body}", np.asarray(traj))


def region_probability(scene: FlowScene, t: float, y: np.ndarray) -> float | None:
    """P(class 1) of a point at view position y at time t, where that is exact (module doc)."""
    y = np.asarray(y, dtype=np.float64)
    if scene.source is None or t != round(t) or not np.isfinite(y).all():
        return None
    config, weights, _, _ = scene.source
    frame = round(t)
    if frame == 0:  # the input, drawn in its own coordinates x1, x2
        return _probability_of_input(scene, y[:2])
    if frame == scene.n_frames - 1:
        if weights.classes != 2:
            return None  # K regions: the view does not fix a point of R^d
        w, c = scene.plane
        if not np.any(w) or not np.isfinite(w).all():
            return None  # PCA axes: the head's normal is not among them
        with np.errstate(all="ignore"):
            logit = float(np.dot(w, y[: len(w)]) + c)
        return 0.5 * (1.0 + math.tanh(0.5 * logit)) if math.isfinite(logit) else None
    layer = float(scene.frame_layer[frame])
    if scene.projection.projected or layer != round(layer):
        return None
    x = np.zeros((1, scene.width))
    x[0, : scene.dims] = y[: scene.dims]
    with np.errstate(all="ignore"):
        for k in range(int(layer), weights.depth):
            x = flow.layer(config.model, weights, k, x)
    return _head_probability(weights, x)


def describe_region(scene: FlowScene, t: float, y: np.ndarray) -> Hover | None:
    """The regions' readout at view position y (None where no probability is exact)."""
    p = region_probability(scene, t, y)
    if p is None:
        return None
    axes = scene.axis_labels(t)
    words, cls = _probability_text(scene, p)
    if cls < 0:  # K classes: which one is the likeliest there
        cls = _region_class(scene, t, y)
    where = f"{_where(scene, t)}: {_coords_text(axes, np.asarray(y))}"
    named = f" ({_class_name(scene, cls)})" if cls >= 0 else ""  # -1: not computable
    text = f"{words} here{named}\n{where}"
    return Hover("region", -1, np.asarray(y, dtype=np.float64), axes, p, text)


def _region_class(scene: FlowScene, t: float, y: np.ndarray) -> int:
    """The likeliest class at view position y (K > 2; where region_probability is exact);
    -1 where the net's numbers there are not finite."""
    frame = round(t)
    if frame == 0:
        x = np.asarray(y[:2], dtype=np.float64).reshape(1, 2)
        x = flow.embed(x, scene.width)
        got = _class_of_input(scene, x, 0)
    else:
        x = np.zeros((1, scene.width))
        x[0, : scene.dims] = y[: scene.dims]
        got = _class_of_input(scene, x, int(scene.frame_layer[frame]))
    return -1 if got is None else got


# ---------------------------------------------------------------------- 3-D geometry
def project(points: np.ndarray, mvp: np.ndarray, width: int, height: int) -> np.ndarray:
    """Screen pixels (N, 2) of 3-D points for a model-view-projection matrix (4, 4);
    points behind the camera get NaN."""
    pts = np.asarray(points, dtype=np.float64).reshape(-1, 3)
    hom = np.column_stack([pts, np.ones(len(pts))]) @ np.asarray(mvp, dtype=np.float64).T
    w = hom[:, 3]
    with np.errstate(all="ignore"):
        ndc = hom[:, :2] / w[:, None]
    out = np.column_stack([(ndc[:, 0] + 1.0) * 0.5 * width, (1.0 - ndc[:, 1]) * 0.5 * height])
    out[w <= 1e-12] = np.nan
    return out


def ray_plane(
    mvp: np.ndarray, width: int, height: int, at: tuple[float, float], affine: np.ndarray
) -> np.ndarray | None:
    """(u, v) of the plane y = affine @ (u, v, 1) (affine (3, 3)) under the screen pixel
    `at`, or None when the ray runs along the plane."""
    try:
        inv = np.linalg.inv(np.asarray(mvp, dtype=np.float64))
    except np.linalg.LinAlgError:
        return None
    nx = 2.0 * at[0] / max(1, width) - 1.0
    ny = 1.0 - 2.0 * at[1] / max(1, height)
    ends = []
    for z in (-1.0, 1.0):
        h = inv @ np.array([nx, ny, z, 1.0])
        if abs(h[3]) < 1e-15:
            return None
        ends.append(h[:3] / h[3])
    origin, direction = ends[0], ends[1] - ends[0]
    # origin + s * direction = a_u * u + a_v * v + a_0  ->  3 equations in (u, v, s)
    m = np.column_stack([affine[:, 0], affine[:, 1], -direction])
    if abs(np.linalg.det(m)) < 1e-12:
        return None
    u, v, _s = np.linalg.solve(m, origin - affine[:, 2])
    return np.array([u, v])
