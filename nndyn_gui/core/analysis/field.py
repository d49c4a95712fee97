"""The field that moves the points, and the fixed points of an autonomous one.

A ResNet block is one Euler step of the ODE x' = v(x, t): x_{k+1} = x_k + h s(A_k x_k + b_k),
so block k moves a point x by the velocity step v_k(x) = h s(A_k x + b_k) (`block_vectors`).
An MLP layer is not a small step of a flow: it replaces x by s(A_k x + b_k), and its arrow
is the displacement s(A_k x + b_k) - x, the whole jump. Between blocks the field is
interpolated linearly in layer time (`field_at`): the piecewise-linear control theta(t)
of the ODE reading, so the arrows glide with the layer slider as the points do.

With tied weights the ODE x' = s(A x + b) is autonomous and its fixed points are where
s(A x + b) = 0 (`fixed_points`): for tanh and leaky ReLU, s(z) = 0 only at z = 0, so
the one fixed point is x* = -A^-1 b (A invertible); sigmoid is never 0 (no fixed point);
ReLU is 0 on a whole half-line, so the field rests on the region A x + b <= 0 (not
isolated points). Stability comes from the eigenvalues of the field's Jacobian
J = diag(s'(A x* + b)) A: all real parts < 0 a sink, all > 0 a source, both signs a
saddle. (The drawn layers are the Euler map x + h s(Ax + b); its fixed points are the
same, attracting when every |1 + h lambda| < 1, which `FixedPoint.map_attracting` says.)
A tied MLP is the map x -> s(A x + b); its fixed points solve s(A x + b) - x = 0, found
numerically (Newton from a lattice of starts), classified by the eigenvalues mu of the
map's Jacobian: all |mu| < 1 attracting, all > 1 repelling, else a saddle.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from nndyn_gui.core.analysis.safe_linalg import MAX_CONDITION, finite_svd
from nndyn_gui.core.config import ModelConfig
from nndyn_gui.core.net import maths
from nndyn_gui.core.types import NetWeights

NEWTON_ITERS = 60
NEWTON_TOL = 1e-12
SAME_POINT = 1e-6  # Newton roots closer than this (relative to their size) are one point
NEUTRAL_TOL = 1e-9  # |Re lambda| below this share of max |lambda|: neither in nor out


# ---------------------------------------------------------------------- the field
def block_vectors(model: ModelConfig, weights: NetWeights, k: int, x: np.ndarray) -> np.ndarray:
    """The arrow of block k at the points x (N, d): h s(A_k x + b_k) for a ResNet (the
    step the block adds), s(A_k x + b_k) - x for an MLP layer (its whole jump)."""
    x = np.asarray(x, dtype=np.float64)
    with np.errstate(all="ignore"):
        s = maths.activation(model.activation, maths.pre_activation(weights.A[k], weights.b[k], x))
        return maths.block_move(model.kind, model.h, x, s)


def block_interval(depth: int, s: float) -> tuple[int, float]:
    """(k, a): layer time s lies between block k's field (a = 0) and block k+1's (a = 1).

    Block k acts from layer k to layer k+1, so its field is sampled at time k; from
    time T-1 to T the last block's field holds.
    """
    if depth <= 1 or not math.isfinite(s):
        return 0, 0.0
    s = min(max(float(s), 0.0), float(depth - 1))
    k = math.floor(s)  # s = T-1 gives the last block itself (a = 0)
    return k, s - k


def field_at(model: ModelConfig, weights: NetWeights, s: float, x: np.ndarray) -> np.ndarray:
    """The arrows at layer time s: block k's at s = k, linear in between (see module)."""
    k, a = block_interval(weights.depth, s)
    v = block_vectors(model, weights, k, x)
    if a == 0.0:
        return v
    return np.asarray((1.0 - a) * v + a * block_vectors(model, weights, k + 1, x))


def describe(model: ModelConfig, depth: int, s: float) -> str:
    """What the arrows at layer time s are, in words (for captions)."""
    what = "h·σ(A x + b)" if model.kind == "resnet" else "σ(A x + b) − x"
    if model.tied:
        return f"{what} (tied: one field for every block)"
    k, a = block_interval(depth, s)
    if a == 0.0 or depth <= 1:
        return f"{what} of block {k + 1}"
    return f"{what} between blocks {k + 1} and {k + 2}"


def nice_step(span: float, target: int) -> float:
    """A round spacing (1, 2, 2.5 or 5 x 10^n) giving at most `target` steps over `span`."""
    if not (math.isfinite(span) and span > 0):
        return 1.0
    raw = span / max(1, target)
    exp = math.floor(math.log10(raw))
    for m in (1.0, 2.0, 2.5, 5.0):  # the smallest round step at least `raw`: <= target
        if m * 10.0**exp >= raw * (1.0 - 1e-12):
            return m * 10.0**exp
    return 10.0 ** (exp + 1)


def lattice(bounds: np.ndarray, target: int) -> tuple[np.ndarray, float]:
    """Base points on a world-fixed lattice (multiples of a round step) inside `bounds`
    (2, dims), about `target` per axis along the longest side; and the step. Fixed in
    space, so arrows stay put while the camera glides. A side thinner than one step
    gets one layer of points at its middle."""
    b = np.asarray(bounds, dtype=np.float64)
    if not np.isfinite(b).all():
        return np.zeros((0, b.shape[1])), 1.0
    step = nice_step(float((b[1] - b[0]).max()), target)
    axes = []
    for lo, hi in zip(b[0], b[1], strict=True):
        first = math.ceil(lo / step - 0.5) + 0.5  # cell centres: between lattice lines
        n = max(0, math.floor(hi / step - first) + 1)
        if n == 0:  # a side thinner than a step (a flat layer in 3-D): its middle
            axes.append(np.array([0.5 * (lo + hi)]))
            continue
        axes.append((first + np.arange(min(n, 4 * target + 2))) * step)
    mesh = np.meshgrid(*axes, indexing="ij")
    return np.column_stack([m.ravel() for m in mesh]), step


def reference_speed(model: ModelConfig, weights: NetWeights, traj: np.ndarray) -> float:
    """The largest arrow at the data: max over blocks k and points of |v_k(x_k)| (traj is
    (T+1, N, d)); arrows are scaled by it, so lengths compare across layers."""
    best = 0.0
    for k in range(min(weights.depth, traj.shape[0] - 1)):
        v = block_vectors(model, weights, k, traj[k])
        with np.errstate(all="ignore"):
            sp = np.linalg.norm(v, axis=-1)
        sp = sp[np.isfinite(sp)]
        if sp.size:
            best = max(best, float(sp.max()))
    return best


# ---------------------------------------------------------------------- fixed points
@dataclass
class FixedPoint:
    """One isolated fixed point x* of a tied net, and how nearby points behave.

    ResNet (the ODE x' = s(Ax + b)): `kind` is sink | source | saddle | neutral from the
    real parts of the eigenvalues of J = diag(s'(Ax* + b)) A; `map_attracting` whether
    the drawn Euler map x + h s(Ax + b) pulls points in (every |1 + h lambda| < 1).
    MLP (the map x -> s(Ax + b)): kind attracting | repelling | saddle | neutral from the
    moduli of the map Jacobian's eigenvalues. `unclassified` when s has a kink there.
    """

    x: np.ndarray  # (d,)
    kind: str
    eigenvalues: np.ndarray  # complex (d,)
    map_attracting: bool


@dataclass
class FixedPoints:
    """The fixed points of a tied net (empty for untied nets), and a note in words."""

    points: list[FixedPoint] = field(default_factory=list)
    note: str = ""

    def count(self, kind: str | None = None) -> int:
        return sum(1 for p in self.points if kind is None or p.kind == kind)


def _ode_kind(lam: np.ndarray) -> str:
    re = lam.real
    tol = NEUTRAL_TOL * max(1e-300, float(np.abs(lam).max(initial=0.0)))
    if np.all(re < -tol):
        return "sink"
    if np.all(re > tol):
        return "source"
    if np.any(re < -tol) and np.any(re > tol):
        return "saddle"
    return "neutral"


def _map_kind(mu: np.ndarray) -> str:
    mod = np.abs(mu)
    if np.all(mod < 1.0 - NEUTRAL_TOL):
        return "attracting"
    if np.all(mod > 1.0 + NEUTRAL_TOL):
        return "repelling"
    if np.any(mod < 1.0 - NEUTRAL_TOL) and np.any(mod > 1.0 + NEUTRAL_TOL):
        return "saddle"
    return "neutral"


def _singular(a: np.ndarray) -> bool:
    if not np.isfinite(a).all():
        return True
    s = finite_svd(a, compute_uv=False)
    return s is None or bool(s[-1] <= s[0] / MAX_CONDITION)


def fixed_points(
    model: ModelConfig, weights: NetWeights, starts: np.ndarray | None = None
) -> FixedPoints:
    """The fixed points of a tied net (see the module docstring); untied: none.

    `starts` (N, d): where the numerical search of a tied MLP begins (default: a lattice
    over the range of s, or the box [-2, 2]^d for unbounded s).
    """
    if not model.tied or weights.depth == 0:
        return FixedPoints(note="")
    a, b = weights.A[0], weights.b[0]
    if not (np.isfinite(a).all() and np.isfinite(b).all()):
        return FixedPoints(note="the weights are not finite")
    if model.kind == "resnet":
        return _resnet_fixed_points(model, a, b)
    return _mlp_fixed_points(model, a, b, starts)


def _resnet_fixed_points(model: ModelConfig, a: np.ndarray, b: np.ndarray) -> FixedPoints:
    act = model.activation
    if act == "sigmoid":
        return FixedPoints(note="σ = sigmoid is never 0: the field has no fixed point")
    if act == "relu":
        return FixedPoints(
            note="σ = ReLU: the field is 0 on the whole region A x + b ≤ 0 (no isolated "
            "fixed point)"
        )
    if _singular(a):
        return FixedPoints(
            note="A is singular: the fixed points form a line or plane, or there are none"
        )
    x = np.linalg.solve(a, -b)
    if act in ("tanh", "identity"):
        lam = np.linalg.eigvals(a)  # s'(0) = 1: J = A
        kind = _ode_kind(lam)
    else:  # leaky ReLU: the field has a kink at x* (slopes 1 and 0.2 meet there)
        lam = np.linalg.eigvals(a)
        kind = "unclassified"
    attracting = bool(np.all(np.abs(1.0 + model.h * lam) < 1.0))
    note = "" if kind != "unclassified" else "leaky ReLU has a kink at the fixed point"
    return FixedPoints([FixedPoint(x, kind, lam, attracting)], note)


def _mlp_fixed_points(
    model: ModelConfig, a: np.ndarray, b: np.ndarray, starts: np.ndarray | None
) -> FixedPoints:
    d = a.shape[0]
    act = model.activation
    if starts is None:
        lo, hi = {"tanh": (-1.0, 1.0), "sigmoid": (0.0, 1.0)}.get(act, (-2.0, 2.0))
        n = max(2, round(400 ** (1.0 / d))) if d <= 4 else 2
        ticks = np.linspace(lo, hi, n + 2)[1:-1]
        if d <= 4:
            mesh = np.meshgrid(*([ticks] * d), indexing="ij")
            starts = np.column_stack([m.ravel() for m in mesh])
        else:  # wide nets: fewer starts (each Newton step is a d x d solve per start)
            n_starts = 64 if d <= 16 else 16
            starts = np.random.default_rng(0).uniform(lo, hi, size=(n_starts, d))
    x = np.array(starts, dtype=np.float64, copy=True)
    eye = np.eye(d)
    with np.errstate(all="ignore"):
        for _ in range(NEWTON_ITERS):
            z = maths.pre_activation(a, b, x)
            f = maths.activation(act, z) - x
            jac = maths.block_jacobian("mlp", act, 1.0, a, z) - eye[None]
            # only finite rows reach the pseudo-inverse (an SVD of inf never returns)
            good = np.isfinite(jac).all(axis=(1, 2)) & np.isfinite(f).all(axis=1)
            if not good.any():
                break
            step = np.zeros_like(x)
            try:  # LU; a singular Jacobian somewhere falls back to the pseudo-inverse
                step[good] = np.linalg.solve(jac[good], f[good][:, :, None])[:, :, 0]
            except np.linalg.LinAlgError:
                step[good] = (np.linalg.pinv(jac[good]) @ f[good][:, :, None])[:, :, 0]
            step = np.where(np.isfinite(step), step, 0.0)
            x = x - step
            if float(np.abs(step).max(initial=0.0)) < NEWTON_TOL:  # all converged (or stuck)
                break
        z = maths.pre_activation(a, b, x)
        resid = np.abs(maths.activation(act, z) - x).max(axis=1)
    ok = np.isfinite(resid) & (resid < 1e3 * NEWTON_TOL * (1.0 + np.abs(x).max(axis=1)))
    found: list[np.ndarray] = []
    for p in x[ok]:
        if not any(np.linalg.norm(p - q) <= SAME_POINT * (1.0 + np.linalg.norm(q)) for q in found):
            found.append(p)
    points = []
    for p in sorted(found, key=lambda q: np.round(q, 9).tolist()):
        z = maths.pre_activation(a, b, p[None])
        kink = act in ("relu", "leaky_relu") and bool(np.any(np.abs(z) < 1e-12))
        mu = np.linalg.eigvals(maths.block_jacobian("mlp", act, 1.0, a, z)[0])
        kind = "unclassified" if kink else _map_kind(mu)
        points.append(FixedPoint(p, kind, mu, bool(np.all(np.abs(mu) < 1.0))))
    note = "" if points else "no fixed point of the map x ↦ σ(A x + b) was found"
    return FixedPoints(points, note)
