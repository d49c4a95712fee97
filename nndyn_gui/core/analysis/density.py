"""The data set's *distribution* carried by the flow, and sample-vs-population numbers.

Why it exists: the training sample is a few hundred points; what a net learned about the
distribution only shows on fresh points drawn from it (same data set, same noise, another
seed: `core.datasets.dense_sample`). This module draws ~50,000 of them per class, pushes
them through every layer of one snapshot's net and bins each class's points per frame
(`push_histograms`: (F, K, H, W) counts on a box the caller picks), so a view can paint
each class's density at every layer. It also measures, per snapshot, the accuracy and the
transport cost sum_t |x_{t+1} - x_t|^2 on the training sample and on the population
(`sample_vs_population`): their gap is the regularisation question, measured.

Pure numpy, no drawing. Frames are what the views step through: layers, or (with
sub-steps) the stages of `flow.layer_substeps`, exactly as `render.scene` counts them.
The histograms are counted without keeping the (F, N, d) trajectories in memory.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np

from nndyn_gui.core import datasets
from nndyn_gui.core.analysis.topology import DENSE_SEED_OFFSET
from nndyn_gui.core.config import ModelConfig, RunConfig
from nndyn_gui.core.net import flow
from nndyn_gui.core.types import Dataset, NetWeights

PER_CLASS = 50_000  # fresh points drawn per class for the density view
POPULATION_N = 50_000  # fresh points for the dense accuracy / population transport
#: fresh points' seed = the data seed + this: never the training sample's, and the same
#: as core.analysis.topology's dense sample, so its dense accuracy is this one
SEED_OFFSET = DENSE_SEED_OFFSET
BINS = 128  # histogram bins along the box's longer side (2-D)
BINS_3D = 24  # per axis: the 3-D density a cloud point's opacity is read from
CLOUD_PER_CLASS = 2500  # points per class a 3-D view draws (each weighted by its density)

#: frame index, positions (N, d) -> view coordinates (N, dims)
ToView = Callable[[int, np.ndarray], np.ndarray]


class DensityUnavailable(ValueError):
    """The distribution cannot be sampled again (hand-drawn points)."""


@dataclass(frozen=True)
class Population:
    """Fresh points of the run's distribution: inputs (N, 2), labels (N,), the seed."""

    x: np.ndarray
    y: np.ndarray
    seed: int
    classes: int

    def per_class(self) -> np.ndarray:
        """(K,) how many points of each class were drawn."""
        return np.bincount(self.y, minlength=self.classes)[: self.classes]


def fresh_points(config: RunConfig, per_class: int = PER_CLASS, classes: int = 2) -> Population:
    """About `per_class` fresh points per class of the run's distribution (another seed than
    the training sample's; the same noise). A csv data set is its own rows (its
    distribution is not known beyond them); drawn points cannot be sampled again."""
    if config.data.name == "drawn":
        raise DensityUnavailable("hand-drawn points have no distribution to sample again")
    seed = int(config.data.seed) + SEED_OFFSET
    x, y = datasets.dense_sample(config.data, int(per_class) * max(2, classes), seed)
    y = np.asarray(y, dtype=np.int64)
    keep = (y >= 0) & (y < classes)
    return Population(np.asarray(x, dtype=np.float64)[keep], y[keep], seed, classes)


def frames(
    model: ModelConfig, weights: NetWeights, x2: np.ndarray, substeps: bool = False
) -> Iterator[np.ndarray]:
    """Positions (N, d) at each frame, one at a time: the input, then each layer (or each
    sub-step of each layer), as render.scene's frames."""
    x = flow.embed(x2, weights.width)
    yield x
    with np.errstate(all="ignore"):
        for k in range(weights.depth):
            if substeps:
                for _name, arr in flow.layer_substeps(model, weights, k, x)[1:]:
                    yield np.asarray(arr, dtype=np.float64)
                    x = arr
            else:
                x = flow.layer(model, weights, k, x)
                yield x


def grid_shape(box: np.ndarray, bins: int = BINS) -> tuple[int, ...]:
    """Bins per axis of a box, square cells: `bins` along its longer side; in the
    axis order of the histograms, i.e. (rows = y, cols = x) in 2-D, (x, y, z) in 3-D."""
    b = np.asarray(box, dtype=np.float64)
    span = np.maximum(b[1] - b[0], 1e-12)
    n = np.maximum(1, np.round(bins * span / span.max())).astype(int)
    return (int(n[1]), int(n[0])) if len(n) == 2 else tuple(int(v) for v in n)


def bin_index(points: np.ndarray, box: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Flat bin of each point (N,) in a histogram of `shape` over `box`; -1 outside it (or
    not finite). 2-D: shape (rows, cols), the row from y; 3-D: (nx, ny, nz)."""
    p = np.asarray(points, dtype=np.float64)
    b = np.asarray(box, dtype=np.float64)
    dims = p.shape[1]
    axes = (1, 0) if dims == 2 else tuple(range(dims))  # histogram axis i <- view axis
    flat = np.zeros(len(p), dtype=np.int64)
    ok = np.isfinite(p).all(axis=1)
    for i, ax in enumerate(axes):
        n = shape[i]
        span = max(float(b[1, ax] - b[0, ax]), 1e-12)
        with np.errstate(all="ignore"):
            u = np.floor((p[:, ax] - b[0, ax]) * (n / span))
        u = np.where(ok, u, -1)
        ok &= (u >= 0) & (u < n)
        flat = flat * n + np.where(ok, u, 0).astype(np.int64)
    return np.where(ok, flat, -1)


def class_histogram(
    points: np.ndarray, labels: np.ndarray, classes: int, box: np.ndarray, shape: tuple[int, ...]
) -> np.ndarray:
    """(K, *shape) counts of each class's points in the bins of `box` (np.histogramdd's
    bins, half-open, the last bin without its upper edge: a point on the far side of
    the box is outside)."""
    idx = bin_index(points, box, shape)
    ok = idx >= 0
    cells = int(np.prod(shape))
    key = np.asarray(labels, dtype=np.int64)[ok] * cells + idx[ok]
    counts = np.bincount(key, minlength=classes * cells)[: classes * cells]
    return counts.reshape((classes, *shape)).astype(np.float32)


@dataclass
class DensityStack:
    """Per-frame class densities on one box: what the 2-D density image is painted from."""

    counts: np.ndarray  # (F, K, H, W) float32 counts; row = y, col = x
    box: np.ndarray  # (2, 2) lo / hi in view coordinates
    per_class: np.ndarray  # (K,) points drawn per class
    inside: np.ndarray  # (F,) share of the points inside the box at each frame
    seed: int

    @property
    def n_frames(self) -> int:
        return int(self.counts.shape[0])

    def at(self, t: float) -> np.ndarray:
        """(K, H, W) counts at frame time t: exact at frames, linear between them."""
        t = float(min(max(t, 0.0), self.n_frames - 1)) if math.isfinite(t) else 0.0
        i0 = math.floor(t)
        i1 = min(i0 + 1, self.n_frames - 1)
        a = t - i0
        if a == 0.0 or i1 == i0:
            return self.counts[i0]
        return (1.0 - a) * self.counts[i0] + a * self.counts[i1]


def push_histograms(
    model: ModelConfig,
    weights: NetWeights,
    pop: Population,
    to_view: ToView,
    box: np.ndarray,
    bins: int = BINS,
    substeps: bool = False,
) -> DensityStack:
    """Push the population through every frame and bin each class in `box` (2-D view
    coordinates, `to_view(frame, x)` maps a frame's positions into them)."""
    shape = grid_shape(box, bins)
    hists, inside = [], []
    n = max(1, len(pop.y))
    for f, x in enumerate(frames(model, weights, pop.x, substeps)):
        h = class_histogram(to_view(f, x), pop.y, pop.classes, box, shape)
        hists.append(h)
        inside.append(float(h.sum()) / n)
    return DensityStack(
        counts=np.stack(hists),
        box=np.asarray(box, dtype=np.float64),
        per_class=pop.per_class(),
        inside=np.asarray(inside),
        seed=pop.seed,
    )


@dataclass
class DensityCloud:
    """3-D: a fixed subset of the population at each frame, each point weighted by its
    class's density where it is (0..1, relative to that frame's dense bins)."""

    points: np.ndarray  # (F, M, 3) float32 view coordinates
    labels: np.ndarray  # (M,)
    weight: np.ndarray  # (F, M) float32
    per_class: np.ndarray  # (K,) points the densities were counted from
    seed: int

    @property
    def n_frames(self) -> int:
        return int(self.points.shape[0])


def relative_density(counts: np.ndarray, quantile: float = 0.98) -> np.ndarray:
    """Counts as 0..1 against the `quantile` of the occupied bins (per class, along the
    last axes): robust to a few very dense bins, so the bulk of a class stays visible."""
    c = np.asarray(counts, dtype=np.float64)
    k = c.shape[0]
    flat = c.reshape(k, -1)
    out = np.zeros_like(flat)
    for i in range(k):
        occ = flat[i][flat[i] > 0]
        if len(occ):
            ref = max(float(np.quantile(occ, quantile)), 1.0)
            out[i] = np.minimum(flat[i] / ref, 1.0)
    return out.reshape(c.shape)


def push_cloud(
    model: ModelConfig,
    weights: NetWeights,
    pop: Population,
    to_view: ToView,
    box: np.ndarray,
    shown: int = CLOUD_PER_CLASS,
    bins: int = BINS_3D,
    substeps: bool = False,
) -> DensityCloud:
    """Push the population through every frame; keep `shown` points per class and weight
    each by its class's 3-D density (counted from all the points) where it sits."""
    rng = np.random.default_rng(pop.seed)
    rows = np.concatenate(
        [rng.permutation(np.flatnonzero(pop.y == k))[:shown] for k in range(pop.classes)]
    ).astype(np.int64)
    labels = pop.y[rows]
    shape = grid_shape(box, bins)
    pts, wts = [], []
    for f, x in enumerate(frames(model, weights, pop.x, substeps)):
        v = to_view(f, x)
        rel = relative_density(class_histogram(v, pop.y, pop.classes, box, shape))
        idx = bin_index(v[rows], box, shape)
        w = np.where(idx >= 0, rel.reshape(pop.classes, -1)[labels, np.maximum(idx, 0)], 0.0)
        pts.append(v[rows].astype(np.float32))
        wts.append(w.astype(np.float32))
    return DensityCloud(np.stack(pts), labels, np.stack(wts), pop.per_class(), pop.seed)


# ---------------------------------------------------------------------- over training
@dataclass(frozen=True)
class SampleVsPopulation:
    """One snapshot's numbers on the training sample and on fresh points."""

    step: int
    sample_accuracy: float
    dense_accuracy: float
    sample_transport: float
    population_transport: float

    @property
    def accuracy_gap(self) -> float:
        return self.sample_accuracy - self.dense_accuracy

    @property
    def transport_gap(self) -> float:
        return self.population_transport - self.sample_transport


def accuracy_and_transport(
    model: ModelConfig, weights: NetWeights, x2: np.ndarray, y: np.ndarray
) -> tuple[float, float]:
    """(accuracy, mean over points of sum_t |x_{t+1} - x_t|^2) of these points, in one
    pass through the layers (core.analysis.diagnostics.transport_cost's quantity)."""
    if len(y) == 0:
        return math.nan, math.nan
    x = flow.embed(x2, weights.width)
    cost = np.zeros(len(x))
    with np.errstate(all="ignore"):
        for k in range(weights.depth):
            nxt = flow.layer(model, weights, k, x)
            cost += ((nxt - x) ** 2).sum(axis=1)
            x = nxt
        acc = float((flow.head_classes(weights, x) == np.asarray(y)).mean())
    return acc, float(cost.mean())


def sample_vs_population(
    config: RunConfig, weights: NetWeights, dataset: Dataset, step: int, pop: Population
) -> SampleVsPopulation:
    """Accuracy and transport on the training sample and on the population `pop`."""
    sa, st = accuracy_and_transport(config.model, weights, dataset.x_train, dataset.y_train)
    da, dt = accuracy_and_transport(config.model, weights, pop.x, pop.y)
    return SampleVsPopulation(int(step), sa, da, st, dt)
