"""The costate as a view layer: at layer t, an arrow at training points along p_t.

What an arrow is (core.analysis.costate): p_t = -∂loss/∂x_t of the shown snapshot's
weights, per point (`per_point=True`: the arrow of one point, N·p_t): the direction in
which moving that point at layer t would lower the loss fastest. The loss reaches the
points through the head first, so p_T is the head's pull and the blocks carry it
backwards to the input (the adjoint's backward flow, which the maximum principle and the
MSA optimiser train with).

Which points: the training points among those the scene draws (the loss is theirs),
one per occupied cell of an ARROW_GRID-square lattice over the input (at most
ARROW_POINTS; 113 on the ring), so a dense class is not a thicket of arrows.
Length: the costate shrinks or grows by orders of magnitude from layer to layer, so each
layer has its own factor (`scale`), fitted so the REF_QUANTILE-longest arrow at that
layer spans ARROW_FILL of the view's longer side; the caption names the factor of the
layer shown. Between two layers (playing) the drawn arrows blend the two layers' drawn
arrows at the interpolated points, and the caption names both factors; with MLP
sub-steps shown, arrows are drawn only at frames that are whole layers (the costate of
A x or A x + b is not computed). Colour: the point's class, darkened towards the
foreground so arrows read apart from the points under them.

Computed once per scene and cached in `scene.cache` (the UI warms it on its builder
thread: `warm`); a frame then costs a blend of two small arrays. Like the density layer
the artists have `set_palette(pal, scale)`, `hide()`, `update(scene, st, bounds)`,
`caption`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtGui import QColor

from nndyn_gui.core.analysis import costate
from nndyn_gui.render.palette import Palette, rgba_f
from nndyn_gui.render.scene import FlowScene, FrameState

log = logging.getLogger(__name__)

ARROW_POINTS = 200  # at most this many training points carry arrows ...
ARROW_GRID = 12  # ... one per occupied cell of this lattice over the input square
ARROW_FILL = 0.07  # the REF_QUANTILE-longest arrow spans this share of the view's side
REF_QUANTILE = 0.9  # (the few longest, near the boundary, may be longer)
HEAD = 0.3  # 2-D arrow head, share of the arrow
DARKEN = 0.35  # arrow colour: the class colour mixed this much with the foreground
BASE_ALPHA = 0.35  # 3-D: a shaft fades in from its base to its solid head
Z_2D = 12  # above the points (and the field's arrows, 9)


@dataclass(frozen=True)
class CostateField:
    """Per-point costates of a scene's arrow points, in view coordinates, per frame.

    rows: rows of `scene.points` carrying arrows; labels: their classes; vec (F, M, dims):
    the drawn direction at each frame (the projection of N·p_k at frames that are layer
    k; NaN at sub-step frames); ref (F,): the REF_QUANTILE length of each frame's vectors
    (NaN at sub-step frames); layer (F,): the layer index of each frame, -1 for sub-steps;
    norms: (T+1,) the median |N·p_t| in R^d (for readouts); step: the snapshot's step."""

    rows: np.ndarray
    labels: np.ndarray
    vec: np.ndarray
    ref: np.ndarray
    layer: np.ndarray
    norms: np.ndarray
    step: int | None
    projected: bool


def _source(scene: FlowScene) -> Any:
    return scene.source if scene.projection.kind != "ortho" else None


def arrow_rows(scene: FlowScene) -> np.ndarray:
    """Rows of the scene's points that are training points, spread evenly over the input
    square: the first in each occupied cell of an ARROW_GRID x ARROW_GRID lattice (a
    dense class gets no more arrows than a sparse one of the same area), at most
    ARROW_POINTS; the same rows for every snapshot of one data set."""
    src = _source(scene)
    if src is None:
        return np.zeros(0, dtype=np.int64)
    dataset = src[2]
    train = np.flatnonzero(scene.indices < len(dataset.x_train))
    if len(train) == 0:
        return train
    x = np.nan_to_num(np.asarray(dataset.x_train, dtype=np.float64)[scene.indices[train]])
    lo, hi = x.min(axis=0), x.max(axis=0)
    cell = np.clip(
        ((x - lo) / np.maximum(hi - lo, 1e-12) * ARROW_GRID).astype(np.int64), 0, ARROW_GRID - 1
    )
    _, first = np.unique(cell[:, 0] * ARROW_GRID + cell[:, 1], return_index=True)
    rows = train[np.sort(first)]
    if len(rows) <= ARROW_POINTS:
        return rows
    return rows[np.unique(np.linspace(0, len(rows) - 1, ARROW_POINTS).astype(np.int64))]


def costate_field(scene: FlowScene) -> CostateField | None:
    """The scene's `CostateField` (cached; None without a source or without blocks)."""
    if "costate" in scene.cache:
        return scene.cache["costate"]
    out = None
    src = _source(scene)
    if src is not None and src[1].depth > 0:
        config, weights, dataset, _ = src
        rows = arrow_rows(scene)
        idx = scene.indices[rows]
        x = np.asarray(dataset.x_all, dtype=np.float64)[idx]
        y = np.asarray(dataset.y_all)[idx]
        if len(rows):
            res = costate.analyse(config, weights, x, y, per_point=True)
            out = _in_view(scene, rows, np.asarray(y, dtype=np.int64), res.costates)
    scene.cache["costate"] = out
    return out


def _in_view(scene: FlowScene, rows: np.ndarray, y: np.ndarray, ps: np.ndarray) -> CostateField:
    """The per-point costates ps (T+1, M, d) as view vectors at each frame of the scene."""
    proj, dims = scene.projection, scene.dims
    f_count, m = scene.n_frames, len(rows)
    layer_t = np.asarray(scene.frame_layer, dtype=np.float64)
    layer = np.where(np.isclose(layer_t, np.round(layer_t)), np.round(layer_t), -1).astype(int)
    vec = np.full((f_count, m, dims), np.nan)
    ref = np.full(f_count, np.nan)
    with np.errstate(all="ignore"):
        for f in range(f_count):
            k = int(layer[f])
            if k < 0:
                continue
            p = ps[k]
            if f == 0 and proj.projected:  # the input frame is drawn in its own plane
                v = np.zeros((m, dims))
                v[:, :2] = p[:, :2]
            else:
                v = p @ proj.matrix.T
            vec[f] = v
            lengths = np.linalg.norm(v, axis=1)
            lengths = lengths[np.isfinite(lengths)]
            ref[f] = float(np.quantile(lengths, REF_QUANTILE)) if len(lengths) else np.nan
        norms = np.array([float(np.nanmedian(np.linalg.norm(p, axis=1))) for p in ps])
    return CostateField(rows, y, vec, ref, layer, norms, scene.step, proj.projected)


def warm(scene: FlowScene) -> None:
    """Compute the costates of this scene now (on the builder thread, not the GUI's)."""
    costate_field(scene)


@dataclass(frozen=True)
class CostateArrows:
    """What one frame draws: bases and drawn vectors (M, dims), labels, caption."""

    base: np.ndarray
    vec: np.ndarray
    labels: np.ndarray
    caption: str
    scales: tuple[float, ...]  # the factor(s) the drawn vectors carry (one, or two blended)


def _scale(field: CostateField, f: int, side: float) -> float:
    ref = float(field.ref[f])
    return ARROW_FILL * side / ref if np.isfinite(ref) and ref > 0 else 0.0


def _fmt(x: float) -> str:
    return f"{x:.3g}"


def arrows_at(scene: FlowScene, t: float, bounds: np.ndarray) -> CostateArrows | None:
    """The arrows to draw at frame time t in a view framing `bounds` (2, dims); None when
    there is nothing to draw (no source, no blocks, a sub-step frame)."""
    field = costate_field(scene)
    if field is None:
        return None
    b = np.asarray(bounds, dtype=np.float64)
    side = float(np.max(b[1] - b[0])) if np.isfinite(b).all() else 0.0
    tt = float(min(max(t, 0.0), scene.t_max))
    i0 = int(np.floor(tt))
    i1 = min(i0 + 1, scene.n_frames - 1)
    a = tt - i0
    if a == 0.0 or i1 == i0:
        i1, a = i0, 0.0
    if field.layer[i0] < 0 or field.layer[i1] < 0:
        return None
    s0, s1 = _scale(field, i0, side), _scale(field, i1, side)
    vec = (1 - a) * s0 * field.vec[i0] + a * s1 * field.vec[i1]
    base = scene.points_at(tt, field.rows)
    ok = np.isfinite(base).all(axis=1) & np.isfinite(vec).all(axis=1)
    k0, k1 = int(field.layer[i0]), int(field.layer[i1])
    at = f" at step {field.step:,}" if field.step is not None else ""
    where = ", projected" if field.projected and tt >= 1.0 else ""
    n = int(ok.sum())
    # short: a longer line ran off a 1280x720 export's 3-D picture
    if i1 == i0:
        caption = f"arrows: −∂loss/∂x_{k0}{at} ({n} points{where}), ×{_fmt(s0)} at this layer"
        scales: tuple[float, ...] = (s0,)
    else:
        caption = (
            f"arrows: −∂loss/∂x, layers {k0}→{k1}{at} ({n} points{where}), ×{_fmt(s0)}→×{_fmt(s1)}"
        )
        scales = (s0, s1)
    return CostateArrows(base[ok], vec[ok], field.labels[ok], caption, scales)


def arrow_segments(base: np.ndarray, vec: np.ndarray) -> np.ndarray:
    """(M, dims) arrows as (6M, dims) end points of 3 segments each: the shaft (base to
    tip) and two head barbs. 3-D: the barbs lie in the plane of the arrow and the axis
    it is most nearly perpendicular to (one line item draws it all)."""
    tip = base + vec
    back = -HEAD * vec
    if base.shape[1] == 2:
        side = np.column_stack([-back[:, 1], back[:, 0]]) * 0.5
    else:
        axis = np.eye(3)[np.argmin(np.abs(vec), axis=1)]
        cross = np.cross(vec, axis)
        norm = np.linalg.norm(cross, axis=1, keepdims=True)
        with np.errstate(all="ignore"):
            side = np.nan_to_num(cross / norm) * (0.5 * HEAD * np.linalg.norm(vec, axis=1))[:, None]
    out = np.empty((6 * len(tip), base.shape[1]))
    out[0::6], out[1::6] = base, tip
    out[2::6], out[3::6] = tip, tip + back + side
    out[4::6], out[5::6] = tip, tip + back - side
    return out


def arrow_colour(pal: Palette, label: int) -> tuple[int, int, int, int]:
    """The class colour, darkened towards the foreground (apart from the class's points)."""
    c, fg = pal.class_color(label), pal.foreground
    mix = [round((1 - DARKEN) * x + DARKEN * y) for x, y in zip(c[:3], fg[:3], strict=True)]
    return (mix[0], mix[1], mix[2], 255)


# ---------------------------------------------------------------------- artists
class CostateArtist2D:
    """One line item per class (shafts and heads as pairs) on a pyqtgraph plot."""

    def __init__(self, plot_item: Any, classes: int = 6) -> None:
        self._plot = plot_item
        self.arrow_items: list[pg.PlotCurveItem] = []
        self.caption = ""
        self._pal: Palette | None = None
        self._k = 1.0
        self._ensure(classes)

    def _ensure(self, k: int) -> None:
        while len(self.arrow_items) < k:
            it = pg.PlotCurveItem(connect="pairs", antialias=True)
            it.setZValue(Z_2D)
            it.setVisible(False)
            self._plot.addItem(it, ignoreBounds=True)
            self.arrow_items.append(it)
            if self._pal is not None:
                self._pen(len(self.arrow_items) - 1)

    def _pen(self, i: int) -> None:
        assert self._pal is not None
        col = QColor(*arrow_colour(self._pal, i))
        self.arrow_items[i].setPen(pg.mkPen(col, width=1.6 * self._k))

    def set_palette(self, pal: Palette, scale: float = 1.0) -> None:
        self._pal, self._k = pal, float(scale)
        for i in range(len(self.arrow_items)):
            self._pen(i)

    def hide(self) -> None:
        for it in self.arrow_items:
            it.setVisible(False)
        self.caption = ""

    def update(self, scene: FlowScene, st: FrameState, bounds: np.ndarray | None = None) -> None:
        box = st.bounds if bounds is None else bounds
        arrows = arrows_at(scene, st.t, box)
        if arrows is None or self._pal is None:
            self.hide()
            if scene.options.substeps and costate_field(scene) is not None:
                self.caption = "costate arrows: at whole layers only (sub-steps shown)"
            return
        self._ensure(scene.classes)
        seg = arrow_segments(arrows.base, arrows.vec)
        for i, it in enumerate(self.arrow_items):
            sel = np.flatnonzero(arrows.labels == i)
            if len(sel):
                idx = (sel[:, None] * 6 + np.arange(6)[None]).ravel()
                it.setData(x=seg[idx, 0], y=seg[idx, 1], connect="pairs")
            it.setVisible(bool(len(sel)))
        self.caption = arrows.caption


class CostateArtist3D:
    """All arrows as one GL line item (shafts and heads), coloured per vertex."""

    def __init__(self, view: Any) -> None:
        import pyqtgraph.opengl as gl

        self.line_item = gl.GLLinePlotItem(
            mode="lines", width=2.0, antialias=True, glOptions="translucent"
        )
        self.line_item.setVisible(False)
        self.items = [self.line_item]
        self.caption = ""
        self._pal: Palette | None = None
        self._k = 1.0

    def set_palette(self, pal: Palette, scale: float = 1.0) -> None:
        self._pal, self._k = pal, float(scale)
        self.line_item.setData(width=2.0 * self._k)

    def hide(self) -> None:
        self.line_item.setVisible(False)
        self.caption = ""

    def colours(self, labels: np.ndarray) -> np.ndarray:
        """(6M, 4) 0..1 vertex colours of `arrow_segments`: the class's arrow colour, the
        shaft's base faint."""
        assert self._pal is not None
        k = int(labels.max()) + 1 if len(labels) else 1
        table = np.array([rgba_f(arrow_colour(self._pal, i)) for i in range(k)])
        cols = np.repeat(table[labels], 6, axis=0)
        cols[0::6, 3] = BASE_ALPHA
        return cols

    def update(self, scene: FlowScene, st: FrameState, bounds: np.ndarray | None = None) -> None:
        box = st.bounds if bounds is None else bounds
        arrows = arrows_at(scene, st.t, box)
        if arrows is None or self._pal is None or len(arrows.base) == 0:
            self.hide()
            if scene.options.substeps and costate_field(scene) is not None:
                self.caption = "costate arrows: at whole layers only (sub-steps shown)"
            return
        seg = arrow_segments(arrows.base, arrows.vec)
        self.line_item.setData(pos=seg, color=self.colours(arrows.labels))
        self.line_item.setVisible(True)
        self.caption = arrows.caption
