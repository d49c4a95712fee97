"""The velocity field as a view layer: arrows at layer time t, and a tied net's fixed points.

What an arrow is (core.analysis.field): ResNet block k moves x by h·σ(A_k x + b_k), an MLP layer by
σ(A_k x + b_k) − x; between blocks the field is interpolated in layer time. Where arrows
sit depends on what the view shows:
- the layer space itself (identity: width 2 in 2-D, width 3 in 3-D): a world-fixed
  lattice over the visible box, so the arrows are the field over space and stay put
  while the camera glides; the field is evaluated exactly at each base point;
- a projection of a wider net: the field off the data's sheet is nowhere in the
  picture, so arrows sit on (a spread subset of) the data points themselves, each the
  projection of that point's velocity, computed per frame once and interpolated.
Lengths are the true vectors times one factor per scene (`Arrows.scale`, shown in the
caption), fitted so the fastest arrow at the data spans about one lattice cell: lengths
compare across layers (a layer near the identity has short arrows). Colour darkens with
speed too, so slow and fast read apart without measuring.

The artists (`FieldArtist2D`, `FieldArtist3D`) only push these arrays into their items.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtGui import QColor

from nndyn_gui.core.analysis import field
from nndyn_gui.core.net.flow import propagate
from nndyn_gui.render.palette import Palette, rgba_f
from nndyn_gui.render.scene import FlowScene, FrameState, _trajectories

LATTICE_2D = 22  # arrows along the longer side of a 2-D view
LATTICE_COMPACT = 10  # ... of a small panel (All layers, sheets), over the data only
LATTICE_3D = 7  # per axis in 3-D
FIELD_POINTS = 300  # data points carrying arrows in projected views
SPEED_BUCKETS = 5  # colour steps from slow to fast (2-D: one line item each)
CELL_FILL = 0.9  # the fastest arrow at the data spans this share of a lattice cell
HEAD = 0.3  # arrow head length, share of the arrow
REF_POINTS = 500  # data points the reference speed is measured on
KIND_SYMBOLS = {"sink": "o", "attracting": "o", "source": "o", "repelling": "o", "saddle": "x"}
FILLED_KINDS = ("sink", "attracting")
VIEW_REACH_3D = 1.5  # 3-D: fixed points this far beyond the data box (per half-side) shown


@dataclass
class Arrows:
    """Arrows in view coordinates: base (M, dims), true vectors (M, dims), |v| in R^d."""

    base: np.ndarray
    vec: np.ndarray
    speed: np.ndarray
    ref_speed: float  # the fastest arrow at the data over all blocks
    scale: float  # drawn length = scale * |vec|
    caption: str

    def buckets(self, n: int = SPEED_BUCKETS) -> np.ndarray:
        """Speed class 0..n-1 of each arrow (relative to the reference speed)."""
        rel = self.speed / self.ref_speed if self.ref_speed > 0 else np.zeros_like(self.speed)
        return np.clip((np.nan_to_num(rel) * n).astype(np.int64), 0, n - 1)


def _source(scene: FlowScene) -> Any:
    return scene.source if scene.projection.kind != "ortho" else None


def reference_speed(scene: FlowScene) -> float:
    """core.analysis.field.reference_speed on a fixed subset of the data (cached per scene)."""
    cached = scene.cache.get("field_ref")
    if cached is not None:
        return float(cached)
    src = _source(scene)
    ref = 0.0
    if src is not None:
        config, weights, dataset, _ = src
        x = np.asarray(dataset.x_all, dtype=np.float64)
        x = x[np.linspace(0, len(x) - 1, min(len(x), REF_POINTS)).astype(np.int64)]
        if len(x):
            with np.errstate(all="ignore"):
                ref = field.reference_speed(
                    config.model, weights, propagate(config.model, weights, x)
                )
    scene.cache["field_ref"] = ref
    return ref


def _layer_time(scene: FlowScene, t: float) -> float:
    """Layer time of frame time t (frames are layers, or sub-steps of them)."""
    t = float(min(max(t, 0.0), scene.t_max))
    i0 = int(np.floor(t))
    i1 = min(i0 + 1, scene.n_frames - 1)
    a = t - i0
    return float((1 - a) * scene.frame_layer[i0] + a * scene.frame_layer[i1])


def _point_rows(n: int) -> np.ndarray:
    if n <= FIELD_POINTS:
        return np.arange(n)
    return np.unique(np.linspace(0, n - 1, FIELD_POINTS).astype(np.int64))


@dataclass
class _PointField:
    """Projected views: the rows carrying arrows, their raw positions in R^d per frame,
    and each frame's view vectors and speeds, computed when first shown (a deep, wide
    net has hundreds of frames; only the shown ones cost anything)."""

    rows: np.ndarray
    raw: np.ndarray  # (F, M, d)
    layer_t: np.ndarray  # (F,)
    frames: dict[int, tuple[np.ndarray, np.ndarray]]

    def frame(self, scene: FlowScene, f: int) -> tuple[np.ndarray, np.ndarray]:
        """(view vectors (M, dims), speeds (M,)) of frame f."""
        hit = self.frames.get(f)
        if hit is not None:
            return hit
        src = _source(scene)
        assert src is not None
        config, weights, _, _ = src
        with np.errstate(all="ignore"):
            v = field.field_at(config.model, weights, float(self.layer_t[f]), self.raw[f])
            speed = np.linalg.norm(v, axis=-1)
            if f == 0 and scene.projection.projected:
                vec = np.zeros((len(v), scene.dims))
                vec[:, :2] = v[:, :2]  # the input frame is drawn in its own plane
            else:
                vec = v @ scene.projection.matrix.T
        self.frames[f] = (vec, speed)
        return vec, speed


def _point_field(scene: FlowScene) -> _PointField | None:
    """The cached `_PointField` of a projected scene (None without a source)."""
    cached = scene.cache.get("field_points")
    if cached is not None:
        return cached
    src = _source(scene)
    if src is None:
        return None
    config, weights, dataset, _ = src
    rows = _point_rows(scene.points.shape[1])
    x2 = np.asarray(dataset.x_all, dtype=np.float64)[scene.indices[rows]]
    raw, _labels, layer_t = _trajectories(config, weights, x2, scene.options.substeps)
    out = _PointField(rows, raw, np.asarray(layer_t), {})
    scene.cache["field_points"] = out
    return out


def arrows_at(
    scene: FlowScene, t: float, bounds: np.ndarray, target: int | None = None
) -> Arrows | None:
    """The arrows to draw at frame time t inside `bounds` (2, dims), about `target` along
    the longer side (default: LATTICE_2D / LATTICE_3D); None if unavailable."""
    src = _source(scene)
    if src is None:
        return None
    config, weights, _dataset, _ = src
    if weights.depth == 0:
        return None
    ref = reference_speed(scene)
    s = _layer_time(scene, t)
    caption = field.describe(config.model, weights.depth, s)
    dims = scene.dims
    n_side = target or (LATTICE_2D if dims == 2 else LATTICE_3D)
    if not scene.projection.projected:
        base, step = field.lattice(bounds, n_side)
        d = weights.width
        with np.errstate(all="ignore"):
            v = field.field_at(config.model, weights, s, base[:, :d])
        vec = np.zeros((len(base), dims))
        vec[:, : min(d, dims)] = v[:, :dims]
        speed = np.linalg.norm(v, axis=-1)
    else:
        pf = _point_field(scene)
        if pf is None:
            return None
        base = scene.points_at(t, pf.rows)
        tt = float(min(max(t, 0.0), scene.t_max))
        i0 = int(np.floor(tt))
        i1 = min(i0 + 1, scene.n_frames - 1)
        a = tt - i0
        (v0, s0), (v1, s1) = pf.frame(scene, i0), pf.frame(scene, i1)
        vec = (1 - a) * v0 + a * v1
        speed = (1 - a) * s0 + a * s1
        b = np.asarray(bounds, dtype=np.float64)
        step = float((b[1] - b[0]).max()) / (n_side if dims == 2 else 2 * n_side)
        caption += ", at the data points (projected)"
    scale = CELL_FILL * step / ref if ref > 0 else 0.0
    caption = f"arrows: {caption}, drawn ×{scale:.3g}"
    ok = np.isfinite(base).all(axis=1) & np.isfinite(vec).all(axis=1)
    return Arrows(base[ok], vec[ok], np.nan_to_num(speed[ok]), ref, scale, caption)


def warm(scene: FlowScene) -> None:
    """Compute what the field layer caches per scene (reference speed, the arrows' data
    rows, fixed points) now, e.g. on the thread that builds scenes, not the GUI's."""
    reference_speed(scene)
    if scene.projection.projected:
        _point_field(scene)
    fixed_points(scene)


def arrow_segments(arrows: Arrows, dims: int) -> np.ndarray:
    """(M, 3 pairs) as (6M, dims) end points: the shaft and, in 2-D, two head barbs."""
    tip = arrows.base + arrows.scale * arrows.vec
    if dims != 2:
        out = np.empty((2 * len(tip), dims))
        out[0::2], out[1::2] = arrows.base, tip
        return out
    d = tip - arrows.base
    back = -HEAD * d
    side = np.column_stack([-back[:, 1], back[:, 0]]) * 0.5
    out = np.empty((6 * len(tip), 2))
    out[0::6], out[1::6] = arrows.base, tip
    out[2::6], out[3::6] = tip, tip + back + side
    out[4::6], out[5::6] = tip, tip + back - side
    return out


# ---------------------------------------------------------------------- fixed points
def fixed_points(scene: FlowScene) -> field.FixedPoints:
    """core.analysis.field.fixed_points of the scene's net (cached; empty unless tied)."""
    cached = scene.cache.get("fixed_points")
    if cached is not None:
        return cached
    src = _source(scene)
    fp = field.FixedPoints()
    if src is not None:
        config, weights, _, _ = src
        fp = field.fixed_points(config.model, weights)
    scene.cache["fixed_points"] = fp
    return fp


def fixed_points_in_view(scene: FlowScene, t: float) -> list[tuple[np.ndarray, str]]:
    """(view position (dims,), kind) of each fixed point at frame time t.

    A projected view draws the input frame in its own plane: the fixed points (points
    of R^d) are shown from the first layer on, where the projection holds.
    """
    fp = fixed_points(scene)
    if not fp.points:
        return []
    if scene.projection.projected and t < 1.0:
        return []
    out = []
    for p in fp.points:
        y = scene.projection.apply(p.x[None])[0]
        if np.isfinite(y).all():
            out.append((y, p.kind))
    return out


def split_by_view(
    marks: list[tuple[np.ndarray, str]], bounds: np.ndarray
) -> tuple[list[tuple[np.ndarray, str]], str]:
    """The fixed points inside the view box, and words for those outside it (with where
    they are, so a fixed point off the picture is still reported)."""
    b = np.asarray(bounds, dtype=np.float64)
    inside, outside = [], []
    for y, kind in marks:
        if np.all(y >= b[0]) and np.all(y <= b[1]):
            inside.append((y, kind))
        else:
            where = ", ".join(f"{v:.3g}" for v in y)
            outside.append(f"{kind} at ({where}) outside the view")
    return inside, "; ".join(outside)


def eigen_words(scene: FlowScene) -> str:
    """The eigenvalues of a tied net's one fixed point, e.g. 'λ(J) = 0.844 ± 3.43i' (the
    field's Jacobian; an MLP map's: 'μ = ...'); "" unless there is exactly one."""
    fp = fixed_points(scene)
    if len(fp.points) != 1:
        return ""
    lam = np.asarray(fp.points[0].eigenvalues)
    parts: list[str] = []
    for z in sorted(lam, key=lambda v: (round(float(v.real), 12), -float(v.imag))):
        if abs(z.imag) > 1e-12 * max(1.0, abs(z)):
            if z.imag > 0:
                parts.append(f"{z.real:.3g} ± {abs(z.imag):.3g}i")
        else:
            parts.append(f"{z.real:.3g}")
    src = _source(scene)
    name = "μ" if src is not None and src[0].model.kind == "mlp" else "λ(J)"
    return f"{name} = " + ", ".join(parts)


def legend(kinds: list[str]) -> str:
    """Words for the marker shapes shown: '● sink', '○ source', '✕ saddle', ..."""
    marks = {
        "sink": "● sink",
        "attracting": "● attracting",
        "source": "○ source",
        "repelling": "○ repelling",
        "saddle": "✕ saddle",
        "neutral": "□ neutral",
        "unclassified": "□ unclassified",
    }
    shown = [marks[k] for k in dict.fromkeys(kinds) if k in marks]
    return ("fixed point: " + ", ".join(shown)) if shown else ""


def _mix(a: tuple[int, ...], b: tuple[int, ...], u: float) -> tuple[int, int, int, int]:
    c = [round((1 - u) * x + u * y) for x, y in zip(a, b, strict=True)]
    return (c[0], c[1], c[2], c[3])


def speed_colours(pal: Palette, n: int = SPEED_BUCKETS) -> list[tuple[int, int, int, int]]:
    """n colours from slow (pale) to fast (dark), in this palette."""
    return [_mix(pal.field_slow, pal.field_fast, i / max(1, n - 1)) for i in range(n)]


# ---------------------------------------------------------------------- artists
class FieldArtist2D:
    """Arrow items (one per speed class) and fixed-point markers on a pyqtgraph plot."""

    def __init__(self, plot_item: Any) -> None:
        self.arrow_items = [
            pg.PlotCurveItem(connect="pairs", antialias=True) for _ in range(SPEED_BUCKETS)
        ]
        for it in self.arrow_items:
            it.setZValue(9)
            plot_item.addItem(it, ignoreBounds=True)
        self.point_item = pg.ScatterPlotItem()
        self.point_item.setZValue(30)
        plot_item.addItem(self.point_item, ignoreBounds=True)
        self.caption = ""
        self._pal: Palette | None = None
        self._k = 1.0  # ViewOptions.scale: lines and marks grow with the frame, as all do

    def set_palette(self, pal: Palette, scale: float = 1.0) -> None:
        self._pal, self._k = pal, float(scale)
        for it, col in zip(self.arrow_items, speed_colours(pal), strict=True):
            it.setPen(pg.mkPen(QColor(*col), width=1.4 * self._k))

    def hide(self) -> None:
        for it in self.arrow_items:
            it.setVisible(False)
        self.point_item.setVisible(False)
        self.caption = ""

    def update(
        self, scene: FlowScene, st: FrameState, bounds: np.ndarray, target: int | None = None
    ) -> None:
        arrows = arrows_at(scene, st.t, bounds, target)
        if arrows is None or self._pal is None:
            self.hide()
            return
        seg = arrow_segments(arrows, 2)
        per = 6
        bucket = arrows.buckets()
        for i, it in enumerate(self.arrow_items):
            sel = np.flatnonzero(bucket == i)
            if len(sel):
                idx = (sel[:, None] * per + np.arange(per)[None]).ravel()
                it.setData(x=seg[idx, 0], y=seg[idx, 1], connect="pairs")
            it.setVisible(bool(len(sel)))
        marks, away = split_by_view(fixed_points_in_view(scene, st.t), bounds)
        self.caption = arrows.caption
        if away:
            self.caption += f" · fixed point: {away}"
            if eigen_words(scene):
                self.caption += f", {eigen_words(scene)}"
        if marks:
            fast = QColor(*self._pal.field_fast)
            spots = []
            for y, kind in marks:
                filled = kind in FILLED_KINDS
                spots.append(
                    {
                        "pos": (float(y[0]), float(y[1])),
                        "symbol": KIND_SYMBOLS.get(kind, "s"),
                        "size": 15 * self._k,
                        "pen": pg.mkPen(fast, width=2.5 * self._k),
                        "brush": pg.mkBrush(fast if filled else QColor(255, 255, 255, 0)),
                    }
                )
            self.point_item.setData(spots)
            self.caption += " · " + legend([k for _, k in marks])
            if eigen_words(scene):
                self.caption += f", {eigen_words(scene)}"
        self.point_item.setVisible(bool(marks))


class FieldArtist3D:
    """Arrow lines coloured by speed, dots at their tips, and fixed-point dots (GL)."""

    def __init__(self, view: Any) -> None:
        import pyqtgraph.opengl as gl

        self.line_item = gl.GLLinePlotItem(mode="lines", width=1.5, antialias=True)
        self.tip_item = gl.GLScatterPlotItem(pxMode=True, glOptions="translucent")
        self.point_item = gl.GLScatterPlotItem(pxMode=True, glOptions="translucent")
        self.items = [self.line_item, self.tip_item, self.point_item]
        self.caption = ""
        self.labels: list[tuple[np.ndarray, str]] = []  # fixed points, for the overlay
        self._pal: Palette | None = None
        self._k = 1.0  # ViewOptions.scale

    def set_palette(self, pal: Palette, scale: float = 1.0) -> None:
        self._pal, self._k = pal, float(scale)
        self.line_item.setData(width=1.5 * self._k)

    def hide(self) -> None:
        for it in self.items:
            it.setVisible(False)
        self.caption = ""
        self.labels = []

    def update(self, scene: FlowScene, st: FrameState, bounds: np.ndarray) -> None:
        arrows = arrows_at(scene, st.t, bounds)
        if arrows is None or self._pal is None or len(arrows.base) == 0:
            self.hide()
            return
        cols = np.array([rgba_f(c) for c in speed_colours(self._pal)])[arrows.buckets()]
        seg = arrow_segments(arrows, 3)
        self.line_item.setData(pos=seg, color=np.repeat(cols, 2, axis=0))
        self.tip_item.setData(pos=seg[1::2], color=cols, size=4.0 * self._k)
        self.line_item.setVisible(True)
        self.tip_item.setVisible(True)
        self.caption = arrows.caption
        b = np.asarray(bounds, dtype=np.float64)  # the camera shows more than the data box
        mid, half = 0.5 * (b[0] + b[1]), 0.5 * (b[1] - b[0])
        reach = np.maximum(half, 0.5 * float(half.max())) * VIEW_REACH_3D
        marks, away = split_by_view(
            fixed_points_in_view(scene, st.t), np.stack([mid - reach, mid + reach])
        )
        if away:
            self.caption += f" · fixed point: {away}"
        self.labels = marks
        if marks:
            pos = np.array([y for y, _ in marks])
            fast = rgba_f(self._pal.field_fast)
            self.point_item.setData(pos=pos, color=fast, size=14.0 * self._k)
            words = eigen_words(scene)
            self.caption += " · fixed point named beside its dot" + (f", {words}" if words else "")
        self.point_item.setVisible(bool(marks))
