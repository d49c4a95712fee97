"""The numbers behind the Ensemble picture: each member's regions at the input, their
agreement, and each member's decision boundary as line segments.

Why it exists: the picture of the article's "stochastic control" (other initialisations,
other results) is drawn at the input, where every member's regions are exact whatever
its width: each net is evaluated on one lattice of pixel centres. Agreement per pixel is
the share of members voting class 1 (two classes) or the share voting for the majority
class (K > 2). A member's boundary is the 0.5 level of its P(class 1) by marching
squares (K > 2: the 0 level of each class's lead over the others), so the lines are
drawn from the same lattice as the map under them. numpy only: computed off the GUI
thread (ui/ensemble_window.py), painted by render/ensemble_picture.py.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from nndyn_gui.core.config import RunConfig
from nndyn_gui.core.net import flow
from nndyn_gui.core.types import Dataset, NetWeights

MAP_RES = 160  # lattice points per side
MARGIN = 0.08  # share of the data's extent added around it


@dataclass(frozen=True)
class EnsembleMap:
    """The lattice, the agreement on it and every member's boundary (input coordinates).

    `agreement` (H, W): the share voting class 1 (classes == 2), else the majority's
    share; `majority` (H, W): the class most members vote for (ties: the lower class);
    `boundaries[i]`: member i's boundary as segments (M, 2, 2) [(x0, y0), (x1, y1)]."""

    extent: tuple[float, float, float, float]  # x0, x1, y0, y1 of the lattice's cells
    classes: int
    agreement: np.ndarray
    majority: np.ndarray
    boundaries: tuple[np.ndarray, ...]

    @property
    def members(self) -> int:
        return len(self.boundaries)


def data_extent(dataset: Dataset) -> tuple[float, float, float, float]:
    """A square around every point (train and test) with a margin; [-1, 1]^2 when empty."""
    pts = [a for a in (dataset.x_train, dataset.x_test) if len(a)]
    if not pts:
        return (-1.0, 1.0, -1.0, 1.0)
    x = np.concatenate(pts)[:, :2]
    x = x[np.isfinite(x).all(axis=1)]
    if not len(x):
        return (-1.0, 1.0, -1.0, 1.0)
    lo, hi = x.min(axis=0), x.max(axis=0)
    centre = (lo + hi) / 2.0
    half = max(float((hi - lo).max()) / 2.0, 1e-6) * (1.0 + 2.0 * MARGIN)
    return (centre[0] - half, centre[0] + half, centre[1] - half, centre[1] + half)


def lattice(extent: tuple[float, float, float, float], n: int) -> tuple[np.ndarray, np.ndarray]:
    """Pixel centres along x and y (n each) of the cells spanning `extent`."""
    x0, x1, y0, y1 = extent
    xs = x0 + (np.arange(n) + 0.5) * ((x1 - x0) / n)
    ys = y0 + (np.arange(n) + 0.5) * ((y1 - y0) / n)
    return xs, ys


def class_probabilities(
    config: RunConfig, weights: NetWeights, xs: np.ndarray, ys: np.ndarray
) -> np.ndarray:
    """(H, W, K) class probabilities of the whole net on the lattice (nan -> 1/K)."""
    gx, gy = np.meshgrid(xs, ys, indexing="xy")
    x2 = np.column_stack([gx.ravel(), gy.ravel()])
    k = weights.classes
    with np.errstate(all="ignore"):
        x = flow.embed(x2, weights.width)
        for layer in range(weights.depth):
            x = flow.layer(config.model, weights, layer, x)
        p = flow.class_probabilities(weights, x)
    return np.nan_to_num(p, nan=1.0 / k).reshape(len(ys), len(xs), k)


def ensemble_map(
    configs: Sequence[RunConfig],
    weights: Sequence[NetWeights],
    dataset: Dataset,
    res: int = MAP_RES,
) -> EnsembleMap:
    """Agreement and boundaries of the members (config i with weights i) on one lattice."""
    if not weights:
        raise ValueError("an ensemble map needs at least one member")
    extent = data_extent(dataset)
    xs, ys = lattice(extent, res)
    k = weights[0].classes
    votes = np.zeros((res, res, k), dtype=np.int64)
    bounds: list[np.ndarray] = []
    for cfg, w in zip(configs, weights, strict=True):
        p = class_probabilities(cfg, w, xs, ys)
        if k == 2:
            label = (p[..., 1] >= 0.5).astype(np.int64)
            bounds.append(iso_segments(p[..., 1], xs, ys, 0.5))
        else:
            label = np.argmax(p, axis=-1)
            bounds.append(region_borders(p, xs, ys))
        np.add.at(votes, (*np.indices(label.shape), label), 1)
    n = len(weights)
    majority = np.argmax(votes, axis=-1)
    agreement = votes[..., 1] / n if k == 2 else votes.max(axis=-1) / n
    return EnsembleMap(extent, k, agreement.astype(np.float64), majority, tuple(bounds))


# ---------------------------------------------------------------------- contours
def iso_segments(f: np.ndarray, xs: np.ndarray, ys: np.ndarray, level: float) -> np.ndarray:
    """Segments (M, 2, 2) of the `level` set of f (H, W) sampled at (ys, xs): marching
    squares with linear interpolation along each cell edge; a saddle cell is split by
    its centre's value, so lines never cross."""
    v = np.asarray(f, dtype=np.float64) - level
    if v.shape[0] < 2 or v.shape[1] < 2:
        return np.zeros((0, 2, 2))
    a, b = v[:-1, :-1], v[:-1, 1:]  # (y, x), (y, x+1)
    d, c = v[1:, :-1], v[1:, 1:]  # (y+1, x), (y+1, x+1)
    x0, x1 = xs[:-1][None, :], xs[1:][None, :]
    y0, y1 = ys[:-1][:, None], ys[1:][:, None]

    def cut(p: np.ndarray, q: np.ndarray) -> np.ndarray:
        with np.errstate(divide="ignore", invalid="ignore"):
            t = p / (p - q)
        return np.clip(np.nan_to_num(t, nan=0.5), 0.0, 1.0)

    shape = a.shape
    full = np.broadcast_to
    # the crossing point on each edge: bottom a-b, right b-c, top d-c, left a-d
    tb, tr, tt, tl = cut(a, b), cut(b, c), cut(d, c), cut(a, d)
    pts = np.stack(
        [
            np.stack([x0 + tb * (x1 - x0), full(y0, shape)], -1),
            np.stack([full(x1, shape), y0 + tr * (y1 - y0)], -1),
            np.stack([x0 + tt * (x1 - x0), full(y1, shape)], -1),
            np.stack([full(x0, shape), y0 + tl * (y1 - y0)], -1),
        ],
        axis=2,
    )  # (H-1, W-1, 4, 2)
    pa, pb, pc, pd = a >= 0, b >= 0, c >= 0, d >= 0
    cross = np.stack([pa != pb, pb != pc, pd != pc, pa != pd], axis=-1)
    count = cross.sum(axis=-1)
    out = []
    two = count == 2
    if two.any():
        p2, c2 = pts[two], cross[two]
        idx = np.argsort(~c2, axis=-1, kind="stable")[:, :2]  # the two crossed edges
        rows = np.arange(len(p2))
        out.append(np.stack([p2[rows, idx[:, 0]], p2[rows, idx[:, 1]]], axis=1))
    four = count == 4
    if four.any():
        p4 = pts[four]
        centre_same_as_a = ((a + b + c + d)[four] / 4.0 >= 0) == pa[four]
        # centre like a: a's corner is joined to c's across the middle, so cut b and d off
        first = np.where(centre_same_as_a[:, None], [0, 1], [0, 3])
        second = np.where(centre_same_as_a[:, None], [2, 3], [2, 1])
        rows = np.arange(len(p4))
        for pair in (first, second):
            out.append(np.stack([p4[rows, pair[:, 0]], p4[rows, pair[:, 1]]], axis=1))
    return np.concatenate(out) if out else np.zeros((0, 2, 2))


def region_borders(p: np.ndarray, xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
    """Segments (M, 2, 2) of the borders of the K regions of probabilities p (H, W, K):
    the 0 level of p_c - max of the others, for each class c (a border between two
    regions is traced from both sides onto the same line)."""
    k = p.shape[-1]
    out = []
    for c in range(k):
        others = np.delete(p, c, axis=-1).max(axis=-1)
        seg = iso_segments(p[..., c] - others, xs, ys, 0.0)
        if len(seg):
            out.append(seg)
    return np.concatenate(out) if out else np.zeros((0, 2, 2))
