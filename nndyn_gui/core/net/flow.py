"""Carry point sets through the layers with numpy alone.

The views, the exporter and the diagnostics all need x(t) for t = 0..T; computing it
from NetWeights in numpy keeps them free of TensorFlow and makes the numbers
reproducible from a run file by anyone (see docs/file-format.md).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from nndyn_gui.core.config import ModelConfig
from nndyn_gui.core.net import maths
from nndyn_gui.core.types import NetWeights


def embed(x2: np.ndarray, width: int) -> np.ndarray:
    """Zero-pad 2-D inputs to R^width so the flow is a map of R^d (x, y) -> (x, y, 0, ...)."""
    x2 = np.asarray(x2, dtype=np.float64)
    out = np.zeros((x2.shape[0], width), dtype=np.float64)
    out[:, : x2.shape[1]] = x2
    return out


def layer(model: ModelConfig, weights: NetWeights, k: int, x: np.ndarray) -> np.ndarray:
    """Apply layer/block k to rows x (N, d)."""
    return maths.block(model.kind, model.activation, model.h, weights.A[k], weights.b[k], x)


def propagate(model: ModelConfig, weights: NetWeights, x2: np.ndarray) -> np.ndarray:
    """Return the trajectory array (T+1, N, d): x(0) is the zero-padded input."""
    x = embed(x2, weights.width)
    out = np.empty((weights.depth + 1, x.shape[0], x.shape[1]), dtype=np.float64)
    out[0] = x
    for k in range(weights.depth):
        x = layer(model, weights, k, x)
        out[k + 1] = x
    return out


def head_probability(weights: NetWeights, x_last: np.ndarray) -> np.ndarray:
    """phi(x) = sigmoid(w.x + c) on the last layer's points (the two-class head only)."""
    if weights.classes != 2:
        raise ValueError("head_probability is the two-class head; use class_probabilities")
    return maths.sigmoid(head_logits(weights, x_last))


def head_logits(weights: NetWeights, x_last: np.ndarray) -> np.ndarray:
    """The head's logits: (N,) w.x + c for two classes, (N, K) X @ W.T + c for K > 2."""
    return maths.logits(weights.w, weights.c, x_last)


def class_probabilities(weights: NetWeights, x_last: np.ndarray) -> np.ndarray:
    """(N, K) class probabilities: [1 - p, p] for two classes, the softmax for K > 2."""
    if weights.classes == 2:
        p = head_probability(weights, x_last)
        return np.stack([1.0 - p, p], axis=-1)
    return maths.softmax(head_logits(weights, x_last))


def head_classes(weights: NetWeights, x_last: np.ndarray) -> np.ndarray:
    """Predicted labels on the last layer's points: logit >= 0 (K = 2), else the argmax
    of the logits (the first class on a tie), as the trainer's accuracy counts them."""
    return maths.classes_of(head_logits(weights, x_last))


def predict(model: ModelConfig, weights: NetWeights, x2: np.ndarray) -> np.ndarray:
    """Class predictions (0..K-1) of the whole network for 2-D inputs."""
    x = embed(x2, weights.width)
    for k in range(weights.depth):
        x = layer(model, weights, k, x)
    return head_classes(weights, x)


@dataclass
class Grid:
    """A regular grid of points plus its line segments, so views can draw a deformed mesh."""

    points: np.ndarray  # (M, 2)
    segments: np.ndarray  # (S, 2) int indices into points: each row one mesh edge


def make_grid(n: int = 21, lim: float = 1.0) -> Grid:
    """n x n lattice over [-lim, lim]^2 with its horizontal and vertical edges."""
    ticks = np.linspace(-lim, lim, n)
    gx, gy = np.meshgrid(ticks, ticks, indexing="xy")
    points = np.column_stack([gx.ravel(), gy.ravel()])
    idx = np.arange(n * n).reshape(n, n)
    horiz = np.column_stack([idx[:, :-1].ravel(), idx[:, 1:].ravel()])
    vert = np.column_stack([idx[:-1, :].ravel(), idx[1:, :].ravel()])
    return Grid(points=points, segments=np.concatenate([horiz, vert]))


# ---------------------------------------------------------------------- layer anatomy
def layer_substeps(
    model: ModelConfig, weights: NetWeights, k: int, x: np.ndarray
) -> list[tuple[str, np.ndarray]]:
    """The intermediate point sets inside layer k, for the "anatomy of a layer" view.

    MLP: x -> A x -> A x + b -> s(A x + b): rotation/stretch, shift, then the squash,
    each stage a genuine point set of the same space R^d.
    ResNet: x -> x + h (A x + b) -> x + h s(A x + b). The raw A x + b of a ResNet lives
    on a different scale than x and is never a position of the points, so instead the
    middle stage shows the block as if s were the identity (a plain affine Euler step);
    the last move is then exactly what the nonlinearity changes. Every stage ends on
    the true layer output, so the animation lands where the next layer starts.
    """
    x = np.asarray(x, dtype=np.float64)
    a, b = weights.A[k], weights.b[k]
    ax = x @ a.T
    z = ax + b
    s = maths.activation(model.activation, z)
    if model.kind == "resnet":
        h = model.h
        return [("x", x), ("x + h (A x + b)", x + h * z), ("x + h s(A x + b)", x + h * s)]
    return [("x", x), ("A x", ax), ("A x + b", z), ("s(A x + b)", s)]


# ---------------------------------------------------------------------- projection
HEAD_AXIS_LABEL = "w-axis (head normal)"


@dataclass
class Projection:
    """An affine map R^d -> R^dims used to draw width-d trajectories in 2-D or 3-D views.

    One projection is fitted once and applied to every layer, so motion between layers is
    real motion and not an artefact of a per-layer change of axes. `head` is True when the
    first axis is the head's unit normal w/|w| (see `head_projection`).
    """

    mean: np.ndarray  # (d,)
    components: np.ndarray  # (dims, d); rows orthonormal (zero rows pad d < dims)
    explained: np.ndarray  # (dims,) share of the reference variance along each axis
    labels: list[str]
    head: bool = False

    def apply(self, arr: np.ndarray) -> np.ndarray:
        """Map points (..., d) to (..., dims)."""
        arr = np.asarray(arr, dtype=np.float64)
        return (arr - self.mean) @ self.components.T


def svd_safe_rows(points: np.ndarray) -> tuple[np.ndarray, float]:
    """The finite rows of `points` (..., d) divided by their largest magnitude, and that scale.

    An SVD (or eigen-decomposition) of a matrix holding inf never returns (OpenBLAS), and
    centring rows near 1e308 overflows to inf; directions are the same for any common
    scale, so every decomposition here sees values in [-1, 1] only.
    """
    pts = np.asarray(points, dtype=np.float64)
    pts = pts.reshape(-1, pts.shape[-1])
    pts = pts[np.isfinite(pts).all(axis=1)]
    scale = float(np.abs(pts).max(initial=0.0))
    return (pts / scale if scale > 0.0 else pts), scale


def head_normal(w: np.ndarray) -> np.ndarray | None:
    """The head's unit normal w/|w|, or None when w is zero or not finite (no boundary)."""
    w = np.asarray(w, dtype=np.float64).ravel()
    if w.size == 0 or not np.isfinite(w).all():
        return None
    big = float(np.abs(w).max())
    if big == 0.0:
        return None
    u = w / big  # |w| itself may overflow
    return np.asarray(u / np.linalg.norm(u))


def _orthogonal_complement(u: np.ndarray) -> np.ndarray:
    """(d-1, d) orthonormal rows spanning the hyperplane orthogonal to the unit vector u.

    The columns of the Householder reflection H that sends u to +-e_j are orthonormal
    and column j is +-u, so the others span u's complement (exact, no SVD needed).
    """
    d = u.size
    j = int(np.argmax(np.abs(u)))
    v = u.copy()
    v[j] -= 1.0 if u[j] >= 0 else -1.0
    nv = float(v @ v)
    h = np.eye(d) if nv == 0.0 else np.eye(d) - 2.0 * np.outer(v, v) / nv
    return np.delete(h, j, axis=1).T


def _main_directions(pts: np.ndarray, basis: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The k main directions of `pts` inside span(basis rows), and the variance along each.

    `pts` must be finite and bounded (see `svd_safe_rows`). Each direction's sign is
    fixed (largest-magnitude entry positive) so pictures do not flip between snapshots.
    """
    m = basis.shape[0]
    coords = pts @ basis.T  # (N, m)
    if coords.shape[0] >= 1 and m > 0:
        coords = coords - coords.mean(axis=0)
        # eigenvectors of the small m x m scatter matrix: a complete orthonormal basis even
        # for fewer points than dimensions, and no N x N factor as in a full SVD
        evals, evecs = np.linalg.eigh(coords.T @ coords)
        order = np.argsort(evals)[::-1]
        var, vt = np.maximum(evals[order], 0.0), evecs[:, order].T
    else:
        var, vt = np.zeros(m), np.eye(m)
    dirs = vt[:k] @ basis
    idx = np.argmax(np.abs(dirs), axis=1)
    signs = np.where(dirs[np.arange(len(dirs)), idx] < 0, -1.0, 1.0)
    return dirs * signs[:, None], var[:k]


def _spread(pts: np.ndarray) -> float:
    """Total squared distance of the rows to their mean (0 for no rows)."""
    return float(((pts - pts.mean(axis=0)) ** 2).sum()) if len(pts) else 0.0


def head_projection(w: np.ndarray, points: np.ndarray, dims: int) -> Projection:
    """Axes that keep the head's decision boundary exact when R^d is drawn in `dims` < d.

    First axis: the head's unit normal w/|w| (pointing to class 1); then the main
    directions of `points` (e.g. the last layer) orthogonal to w. The boundary
    {w.x + c = 0} is then exactly the line (plane) y_1 = -c/|w| in view coordinates, so
    the side of the drawn line a point falls on is the net's prediction for it. No
    centring (mean 0): y_1 is the signed position along w itself. When w is zero or not
    finite there is no boundary to keep: plain PCA of `points`, `head` False.
    Never decomposes a non-finite matrix (see `svd_safe_rows`).
    """
    pts, _ = svd_safe_rows(points)
    d = pts.shape[1]
    if not 1 <= dims <= d:
        raise ValueError(f"cannot draw R^{d} in {dims} dimensions with a projection")
    u = head_normal(w)
    total = _spread(pts)
    if u is None:
        comps, var = _main_directions(pts, np.eye(d), dims)
        explained = var / total if total > 0 else np.zeros(dims)
        return Projection(np.zeros(d), comps, explained, [f"PC{i + 1}" for i in range(dims)])
    rest, var = _main_directions(pts, _orthogonal_complement(u), dims - 1)
    comps = np.vstack([u[None], rest])
    along = _spread(pts @ u[:, None])
    explained = np.concatenate([[along], var]) / total if total > 0 else np.zeros(dims)
    labels = [HEAD_AXIS_LABEL] + [f"⊥{i}" for i in range(1, dims)]
    return Projection(np.zeros(d), comps, explained, labels, head=True)


def project(traj: np.ndarray, dims: int, ref: np.ndarray | None = None) -> Projection:
    """Identity axes when d <= dims, else PCA of the last layer (or of `ref`).

    The last layer is where the classes are separated, so its principal plane shows the
    separation best. Each PC's sign is fixed (largest-magnitude entry positive) so the
    picture does not flip between snapshots or runs. For d < dims the extra output axes
    are zero (e.g. a width-2 net drawn flat in a 3-D view). Views of a net use
    `head_projection` instead, which keeps the decision boundary exact.
    """
    traj = np.asarray(traj, dtype=np.float64)
    d = traj.shape[-1]
    if d <= dims:
        comps = np.zeros((dims, d))
        comps[:d, :d] = np.eye(d)
        explained = np.zeros(dims)
        explained[:d] = 1.0 / d
        labels = [f"x{i + 1}" for i in range(d)] + [""] * (dims - d)
        return Projection(np.zeros(d), comps, explained, labels)
    pts, scale = svd_safe_rows(traj[-1] if ref is None else ref)
    if pts.shape[0] == 0:
        pts = np.zeros((1, d))
    comps, var = _main_directions(pts, np.eye(d), dims)
    total = _spread(pts)
    explained = var / total if total > 0 else np.zeros(dims)
    with np.errstate(over="ignore"):
        mean = pts.mean(axis=0) * (scale if scale > 0 else 1.0)
    if not np.isfinite(mean).all():
        mean = np.zeros(d)
    return Projection(mean, comps, explained, [f"PC{i + 1}" for i in range(dims)])
