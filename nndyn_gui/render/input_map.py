"""The input map's pictures: the net's class regions over the input plane, the decision
boundary as line segments, and each unit of one layer as a small map over that plane.

Why it exists: TensorFlow Playground keeps one large picture up while it trains — what
the current net says at every point of the input plane. This is that picture, made
from one snapshot in numpy (no Qt: it is computed on a background thread, see
ui/input_map.py) and handed to the window as RGBA arrays and segments. Nothing here is
interpolated between snapshots: the picture is the snapshot's (`InputMap.step`).

- Regions: the whole net evaluated on a RES x RES lattice over the plane the data live
  in; each pixel washed in its likeliest class's colour, paler where the net is unsure
  (`Palette.region_rgba`), composed onto the page so the soft colours are opaque.
- Boundary: where the likeliest class changes, by marching squares on P(class 1) - 1/2
  (two classes) or on each class's margin over the best other class (K classes): exact
  up to the lattice's spacing, drawn as a line.
- Units: layer L's unit j is s(A_L x_{L-1} + b_L)_j (an MLP's layer output; a ResNet
  block's neuron, the direction it moves by h times it), on a coarser lattice, on one
  diverging scale per layer (0 white; purple below, green above: neither is a class
  colour) so the units can be compared.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from nndyn_gui.core.config import RunConfig
from nndyn_gui.core.net import flow, maths
from nndyn_gui.core.types import Dataset, Snapshot
from nndyn_gui.render.palette import Palette

RES = 160  # pixels per side of the region map (narrow nets)
MIN_RES = 80  # ... and of the widest and deepest (`resolution`)
WORK = 2.5e8  # multiply-adds a region map may cost: a wide net gets fewer pixels
UNIT_RES = 56  # pixels per side of a unit's map
MARGIN = 1.08  # the plane shown: the data's square, plus a little room at the edges
REGION_STRENGTH = 0.55  # the wash: soft, but the class reads at a glance
# diverging scale of a unit's activation: purple (negative) - white (0) - green (positive)
# (ColorBrewer PRGn ends: safe for the common colour-vision deficiencies, and neither end
# is a class colour)
_NEGATIVE = np.array((118, 42, 131), dtype=np.float64)
_POSITIVE = np.array((27, 120, 55), dtype=np.float64)
_ZERO = np.array((247, 247, 247), dtype=np.float64)
NOT_FINITE = 150  # grey: pixels (or unit values) where the net gives NaN or inf


@dataclass
class InputMap:
    """One snapshot's pictures over the input plane (made by `make_input_map`)."""

    step: int
    train_acc: float
    test_acc: float
    classes: int
    extent: tuple[float, float, float, float]  # x0, x1, y0, y1 of every picture
    regions: np.ndarray  # (RES, RES, 4) uint8 RGBA, row 0 at y0 (bottom)
    boundary: np.ndarray  # (M, 2, 2) segments [[x, y], [x, y]] of the decision boundary
    layer: int  # 1..T: the layer whose units `units` shows (0: none)
    units: list[np.ndarray] = field(default_factory=list)  # (UNIT_RES, UNIT_RES, 4) each
    unit_scale: float = 0.0  # the largest |activation| of the layer: the scale's ends
    finite: bool = True  # False when the net gives NaN/inf somewhere (those pixels grey)


def plane_extent(dataset: Dataset) -> tuple[float, float, float, float]:
    """The square of the input plane shown: [-1, 1]^2 (where every data set lies), or
    larger when some point lies outside it, with a margin."""
    x = dataset.x_all
    finite = x[np.isfinite(x).all(axis=1)] if len(x) else x
    lim = max(1.0, float(np.abs(finite).max())) if len(finite) else 1.0
    lim *= MARGIN
    return (-lim, lim, -lim, lim)


def lattice(extent: tuple[float, float, float, float], n: int) -> np.ndarray:
    """(n*n, 2) pixel centres, row by row from the bottom (y0) up."""
    x0, x1, y0, y1 = extent
    xs = x0 + (np.arange(n) + 0.5) * (x1 - x0) / n
    ys = y0 + (np.arange(n) + 0.5) * (y1 - y0) / n
    gx, gy = np.meshgrid(xs, ys, indexing="xy")
    return np.column_stack([gx.ravel(), gy.ravel()])


def resolution(width: int, depth: int) -> int:
    """Pixels per side of the region map: RES, fewer (down to MIN_RES) where a wide,
    deep net would cost more than WORK per picture (width 64 at depth 10: ~0.3 s)."""
    n = int(np.sqrt(WORK / max(1, width * width * depth)))
    return int(min(RES, max(MIN_RES, n)))


def make_input_map(
    config: RunConfig,
    snap: Snapshot,
    dataset: Dataset,
    palette: Palette,
    layer: int = 1,
    res: int = 0,
    unit_res: int = UNIT_RES,
) -> InputMap:
    """The pictures of `snap` (trained with `config`) over the plane of `dataset`;
    `layer` (1..T, 0 for none) picks whose units are drawn; `res` 0: `resolution`."""
    w = snap.weights
    res = res or resolution(w.width, w.depth)
    extent = plane_extent(dataset)
    pts = lattice(extent, res)
    with np.errstate(all="ignore"):
        x = flow.embed(pts, w.width)
        for k in range(w.depth):
            x = flow.layer(config.model, w, k, x)
        z = maths.logits(w.w, w.c, x)
    finite = bool(np.isfinite(z).all())
    if w.classes > 2:
        prob = np.nan_to_num(maths.softmax(z), nan=1.0 / w.classes).reshape(res, res, -1)
        boundary = _class_borders(z.reshape(res, res, -1), extent)
    else:
        prob = np.nan_to_num(maths.sigmoid(z), nan=0.5).reshape(res, res)
        boundary = contour_segments(np.nan_to_num(z, nan=0.0).reshape(res, res), extent)
    regions = _on_page(palette.region_rgba(prob, REGION_STRENGTH), palette)
    if not finite:  # where the net gives NaN or inf: grey, no class claimed
        bad = ~np.isfinite(z.reshape(res, res, -1)).all(axis=-1)
        regions[bad, :3] = NOT_FINITE
    layer = int(min(max(layer, 0), w.depth))
    units, scale = unit_maps(config, snap, extent, layer, unit_res)
    return InputMap(
        step=int(snap.step),
        train_acc=float(snap.train_acc),
        test_acc=float(snap.test_acc),
        classes=int(w.classes),
        extent=extent,
        regions=regions,
        boundary=boundary,
        layer=layer,
        units=units,
        unit_scale=scale,
        finite=finite,
    )


def unit_activations(
    config: RunConfig, snap: Snapshot, points: np.ndarray, layer: int
) -> np.ndarray:
    """(N, d): s(A_L x_{L-1} + b_L) of layer `layer` (1..T) at the input points."""
    w = snap.weights
    with np.errstate(all="ignore"):
        x = flow.embed(points, w.width)
        for k in range(layer - 1):
            x = flow.layer(config.model, w, k, x)
        pre = maths.pre_activation(w.A[layer - 1], w.b[layer - 1], x)
        return np.asarray(maths.activation(config.model.activation, pre))


def unit_maps(
    config: RunConfig,
    snap: Snapshot,
    extent: tuple[float, float, float, float],
    layer: int,
    res: int = UNIT_RES,
) -> tuple[list[np.ndarray], float]:
    """One RGBA map per unit of `layer` (none for layer 0) and the scale they share."""
    if layer < 1 or layer > snap.weights.depth:
        return [], 0.0
    act = unit_activations(config, snap, lattice(extent, res), layer)
    finite = act[np.isfinite(act)]
    scale = float(np.abs(finite).max()) if finite.size else 0.0
    maps = [diverging_rgba(act[:, j].reshape(res, res), scale) for j in range(act.shape[1])]
    return maps, scale


def diverging_rgba(values: np.ndarray, scale: float) -> np.ndarray:
    """(H, W) values -> (H, W, 4) uint8 on the purple-white-green scale [-scale, scale];
    values that are not finite are grey."""
    v = np.asarray(values, dtype=np.float64)
    t = np.clip(np.nan_to_num(v / scale if scale > 0 else v * 0.0, nan=0.0), -1.0, 1.0)[..., None]
    rgb = np.where(t < 0, _ZERO + (-t) * (_NEGATIVE - _ZERO), _ZERO + t * (_POSITIVE - _ZERO))
    rgb = np.where(np.isfinite(v)[..., None], rgb, float(NOT_FINITE))
    alpha = np.full((*v.shape, 1), 255.0)
    return np.clip(np.round(np.concatenate([rgb, alpha], axis=-1)), 0, 255).astype(np.uint8)


def _on_page(rgba: np.ndarray, palette: Palette) -> np.ndarray:
    """The translucent wash composed onto the page colour (white on a transparent page):
    opaque pixels, so the picture looks the same on any widget."""
    page = np.array(palette.background[:3] if palette.background[3] else (255, 255, 255), float)
    a = rgba[..., 3:4].astype(np.float64) / 255.0
    rgb = a * rgba[..., :3].astype(np.float64) + (1.0 - a) * page
    out = np.concatenate([rgb, np.full(a.shape, 255.0)], axis=-1)
    return np.clip(np.round(out), 0, 255).astype(np.uint8)


def _class_borders(z: np.ndarray, extent: tuple[float, float, float, float]) -> np.ndarray:
    """K classes: the borders of every class's region (its logit equals the best other's)."""
    z = np.nan_to_num(z, nan=0.0, posinf=1e300, neginf=-1e300)
    parts = []
    for k in range(z.shape[-1]):
        others = np.delete(z, k, axis=-1).max(axis=-1)
        parts.append(contour_segments(z[..., k] - others, extent))
    return np.concatenate(parts) if parts else np.zeros((0, 2, 2))


def contour_segments(f: np.ndarray, extent: tuple[float, float, float, float]) -> np.ndarray:
    """The zero line of `f` (H, W) sampled at pixel centres, as (M, 2, 2) segments in
    plane coordinates (marching squares, vectorised; a saddle cell is split by the value
    at its centre)."""
    h, w = f.shape
    if h < 2 or w < 2:
        return np.zeros((0, 2, 2))
    x0, x1, y0, y1 = extent
    xs = x0 + (np.arange(w) + 0.5) * (x1 - x0) / w
    ys = y0 + (np.arange(h) + 0.5) * (y1 - y0) / h
    a, b = f[:-1, :-1], f[:-1, 1:]  # bottom-left, bottom-right
    c, d = f[1:, :-1], f[1:, 1:]  # top-left, top-right
    X0, X1 = xs[None, :-1], xs[None, 1:]
    Y0, Y1 = ys[:-1, None], ys[1:, None]

    def cross(p: np.ndarray, q: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        hit = (p >= 0) != (q >= 0)
        with np.errstate(all="ignore"):
            t = np.where(hit, p / (p - q), 0.5)
        return hit, np.clip(np.nan_to_num(t, nan=0.5), 0.0, 1.0)

    shape = a.shape
    edges = []  # (hit, x, y) of the bottom, right, top and left edges
    hit, t = cross(a, b)
    edges.append((hit, np.broadcast_to(X0 + t * (X1 - X0), shape), np.broadcast_to(Y0, shape)))
    hit, t = cross(b, d)
    edges.append((hit, np.broadcast_to(X1, shape), np.broadcast_to(Y0 + t * (Y1 - Y0), shape)))
    hit, t = cross(c, d)
    edges.append((hit, np.broadcast_to(X0 + t * (X1 - X0), shape), np.broadcast_to(Y1, shape)))
    hit, t = cross(a, c)
    edges.append((hit, np.broadcast_to(X0, shape), np.broadcast_to(Y0 + t * (Y1 - Y0), shape)))
    hits = np.stack([e[0] for e in edges])  # (4, h-1, w-1)
    px = np.stack([e[1] for e in edges])
    py = np.stack([e[2] for e in edges])
    n = hits.sum(axis=0)
    segs = []
    # two crossings: one segment between them
    two = n == 2
    if two.any():
        idx = np.argsort(~hits[:, two], axis=0, kind="stable")[:2]  # the two hit edges
        cols = np.arange(int(two.sum()))
        ex, ey = px[:, two], py[:, two]
        p = np.stack([ex[idx[0], cols], ey[idx[0], cols]], axis=-1)
        q = np.stack([ex[idx[1], cols], ey[idx[1], cols]], axis=-1)
        segs.append(np.stack([p, q], axis=1))
    # four crossings (a saddle): pair the edges around the corners the centre sides with
    four = n == 4
    if four.any():
        centre = (a + b + c + d)[four] / 4.0
        same = (centre >= 0) == (a[four] >= 0)  # centre like bottom-left: cut the other corners
        ex, ey = px[:, four], py[:, four]

        def seg(i: int, j: int, mask: np.ndarray) -> np.ndarray:
            p = np.stack([ex[i, mask], ey[i, mask]], axis=-1)
            q = np.stack([ex[j, mask], ey[j, mask]], axis=-1)
            return np.stack([p, q], axis=1)

        # edges: 0 bottom, 1 right, 2 top, 3 left; corners: bottom-right (0,1), top-left (2,3)
        segs += [seg(0, 1, same), seg(2, 3, same), seg(0, 3, ~same), seg(1, 2, ~same)]
    if not segs:
        return np.zeros((0, 2, 2))
    return np.concatenate(segs).astype(np.float64)
