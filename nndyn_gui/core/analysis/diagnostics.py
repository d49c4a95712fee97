"""Numbers that say *why* a trained net does what the views show.

The article's argument is about properties of the blocks: a ResNet block
x -> x + h s(A x + b) is a homeomorphism when h |A|_2 Lip(s) < 1, so it cannot change
the topology of the data; an MLP layer with a singular A collapses the plane onto a
line ("loses a dimension"). Whether a layer *flattens the data* is a different, local
question: its Jacobian J = diag(s'(Ax+b)) A (MLP) or I + h diag(s'(Ax+b)) A (ResNet)
at the data points, restricted to the data sheet (the image of the input plane, all of
R^2 in width 2). A one-to-one layer can still flatten a direction 1000-fold, through a
nearly singular A or through saturation of s (s' ~ 0), and a ResNet block whose det J
changes sign folds the plane. This module computes those numbers per block (numpy,
milliseconds), plus the transport/turnpike profile and a numerical inverse that checks
invertibility in practice, not just on paper.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from nndyn_gui.core.analysis.safe_linalg import MAX_CONDITION, finite_mask, finite_svd
from nndyn_gui.core.config import ModelConfig, RunConfig
from nndyn_gui.core.net import maths
from nndyn_gui.core.net.flow import embed, head_classes, propagate
from nndyn_gui.core.net.maths import LEAKY_SLOPE, activation_lipschitz
from nndyn_gui.core.net.multiclass import class_margin
from nndyn_gui.core.types import Dataset, NetWeights

SQUASH_RELATIVE = 1e-2  # median sigma_min/sigma_max of J on the data below this: squashed
SATURATED = 1e-2  # s'(z) < 1e-2 Lip(s): the unit is saturated (|z| > 3 for tanh)
GRID_POINTS = 16  # without data: a 16 x 16 grid over the input square
INVERTIBLE_ACTIVATIONS = ("tanh", "sigmoid", "leaky_relu", "identity")  # strictly monotone s
RECON_POINTS = 256  # points used for the reconstruction check inside diagnose()


@dataclass
class BlockDiag:
    """Per-layer facts; `invertible` means *proved* one-to-one, not merely "probably".

    singular_values/det describe the layer's linear part: A_k for an MLP, and for a
    ResNet I + h Lip(s) A_k (its Jacobian where s is steepest). The `jac_*` numbers are
    taken over the data points: sigma_min/sigma_max of the layer's Jacobian on the data
    sheet (median and 5th percentile over the points). `squashed` is defined by the
    median: below SQUASH_RELATIVE the layer flattens the data at most points;
    `squash_cause` says whether the linear part alone already does ("A") or the
    activation's flat tails do ("saturation"). `neg_det_share`: share of the points
    where det J < 0 (a ResNet block with 0 < share < 1 folds the plane: not one-to-one).
    """

    k: int
    spectral_norm: float  # |A_k|_2
    lip_product: float  # ResNet: h |A_k|_2 Lip(s); MLP: |A_k|_2 Lip(s)
    invertible: bool
    singular_values: np.ndarray
    det: float
    squashed: bool
    linear_ratio: float = math.nan  # sigma_min/sigma_max of the linear part (A or I+hLipA)
    jac_ratio_median: float = math.nan  # median over points of sigma_min/sigma_max of J
    jac_ratio_p5: float = math.nan  # 5th percentile of the same
    neg_det_share: float = math.nan  # share of points with det J < 0
    saturated_share: float = math.nan  # share of points with a saturated unit
    squash_cause: str = ""  # "" | "A" | "saturation"
    folds: bool = False  # det J takes both signs on the data: not one-to-one
    cumulative_ratio: float = math.nan  # median sigma_min/sigma_max, input plane -> layer k

    def to_dict(self) -> dict[str, Any]:
        return {
            "k": self.k,
            "spectral_norm": _f(self.spectral_norm),
            "lip_product": _f(self.lip_product),
            "invertible": bool(self.invertible),
            "singular_values": [_f(v) for v in self.singular_values],
            "det": _f(self.det),
            "squashed": bool(self.squashed),
            "squash_cause": self.squash_cause,
            "linear_ratio": _f(self.linear_ratio),
            "jac_ratio_median": _f(self.jac_ratio_median),
            "jac_ratio_p5": _f(self.jac_ratio_p5),
            "neg_det_share": _f(self.neg_det_share),
            "saturated_share": _f(self.saturated_share),
            "folds": bool(self.folds),
            "cumulative_ratio": _f(self.cumulative_ratio),
        }


@dataclass
class Diagnostics:
    """Everything the diagnostics panel and `nndyn info` show about one set of weights."""

    blocks: list[BlockDiag]
    all_invertible: bool
    any_squashed: bool
    displacement: np.ndarray  # (T,) mean |x_{t+1} - x_t| per layer (turnpike profile)
    transport: float  # mean over points of sum_t |x_{t+1} - x_t|^2
    reconstruction_error: float  # max |inverse(forward(x)) - x|; nan if no inverse exists
    train_acc: float
    test_acc: float  # nan when there is no test set
    # min signed distance of train points to the final plane (<0: errors); with K > 2
    # classes to the border of their class's region (multiclass.class_margin)
    plane_margin: float
    any_folds: bool = False  # some ResNet block's det J takes both signs on the data

    @property
    def middle_share(self) -> float:
        """Share of the distance travelled done by the middle half of the layers (0.5:
        evenly; small: a turnpike), from the displacement profile."""
        return middle_half_share(self.displacement)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-safe data: floats and lists, nan/inf -> None."""
        return {
            "blocks": [b.to_dict() for b in self.blocks],
            "all_invertible": bool(self.all_invertible),
            "any_squashed": bool(self.any_squashed),
            "any_folds": bool(self.any_folds),
            "squash_rule": (
                "median over the data points of sigma_min/sigma_max of the layer's "
                f"Jacobian on the data sheet < {SQUASH_RELATIVE:g}"
            ),
            "displacement": [_f(v) for v in self.displacement],
            "middle_share": _f(self.middle_share),
            "transport": _f(self.transport),
            "reconstruction_error": _f(self.reconstruction_error),
            "train_acc": _f(self.train_acc),
            "test_acc": _f(self.test_acc),
            "plane_margin": _f(self.plane_margin),
        }


def _f(v: Any) -> float | None:
    v = float(v)
    return v if math.isfinite(v) else None


# ---------------------------------------------------------------------- blocks
def block_diagnostics(
    model: ModelConfig, weights: NetWeights, x2: np.ndarray | None = None
) -> list[BlockDiag]:
    """Norms, singular values, determinants and flags of every block (batched SVD).

    The Jacobian statistics (and so `folds`) are taken over every one of the 2-D points
    `x2` (all the training points: a fold between two sampled points would be missed);
    without them over a grid of the input square.
    """
    a = weights.A
    t, d = a.shape[0], a.shape[1]
    lip = activation_lipschitz(model.activation)
    resnet = model.kind == "resnet"
    with np.errstate(all="ignore"):
        lin = np.eye(d)[None] + model.h * lip * a if resnet else a
    # a diverged block (or one whose I + h A overflows) gets nan numbers, not a crash or
    # an SVD that never returns
    ok = finite_mask(a)
    ok_lin = ok & finite_mask(lin)
    norms = np.full(t, np.nan)
    sv = np.full((t, d), np.nan)
    dets = np.full(t, np.nan)
    s_a = finite_svd(a[ok], compute_uv=False) if ok.any() else None
    if s_a is not None:
        norms[ok] = s_a[:, 0]
    s_lin = finite_svd(lin[ok_lin], compute_uv=False) if ok_lin.any() else None
    if s_lin is not None:
        sv[ok_lin] = s_lin
        with np.errstate(all="ignore"):
            dets[ok_lin] = np.linalg.det(lin[ok_lin])
    if x2 is None:
        ticks = np.linspace(-1.0, 1.0, GRID_POINTS)
        x2 = np.stack(np.meshgrid(ticks, ticks), axis=-1).reshape(-1, 2)
    stats = jacobian_stats(model, weights, np.asarray(x2, dtype=np.float64))
    out = []
    for k in range(t):
        lp = float(maths.lip_product(model.kind, model.activation, model.h, norms[k]))
        smax, smin = float(sv[k, 0]), float(sv[k, -1])
        med, lin_med = stats["ratio_median"][k], stats["linear_median"][k]
        squashed = bool(med < SQUASH_RELATIVE)
        cause = "" if not squashed else ("A" if lin_med < SQUASH_RELATIVE else "saturation")
        neg = stats["neg_det_share"][k]
        folds = bool(resnet and 0.0 < neg < 1.0)
        if not ok[k]:
            inv = False
        elif resnet:
            inv = lp < 1.0
        else:
            s_ok = model.activation in INVERTIBLE_ACTIVATIONS
            inv = s_ok and smin > 0 and smax / smin < MAX_CONDITION
        out.append(
            BlockDiag(
                k=k,
                spectral_norm=float(norms[k]),
                lip_product=lp,
                invertible=bool(inv),
                singular_values=sv[k].copy(),
                det=float(dets[k]),
                squashed=squashed,
                linear_ratio=smin / smax if smax > 0 else math.nan,
                jac_ratio_median=float(med),
                jac_ratio_p5=float(stats["ratio_p5"][k]),
                neg_det_share=float(neg),
                saturated_share=float(stats["saturated_share"][k]),
                squash_cause=cause,
                folds=folds,
                cumulative_ratio=float(stats["cumulative_median"][k]),
            )
        )
    return out


def _sheet_ratio(m: np.ndarray) -> np.ndarray:
    """sigma_min/sigma_max of each (d, 2) matrix of the stack (N, d, 2), via its Gram matrix."""
    g00 = (m[:, :, 0] ** 2).sum(axis=1)
    g11 = (m[:, :, 1] ** 2).sum(axis=1)
    g01 = (m[:, :, 0] * m[:, :, 1]).sum(axis=1)
    half = 0.5 * (g00 + g11)
    root = np.sqrt(np.maximum(half**2 - (g00 * g11 - g01**2), 0.0))
    big, small = half + root, np.maximum(half - root, 0.0)
    with np.errstate(all="ignore"):
        return np.where(big > 0, np.sqrt(small / big), 0.0)


def _orthonormal_frame(m: np.ndarray, prev: np.ndarray) -> np.ndarray:
    """Gram-Schmidt on the two columns of each (d, 2) matrix; keeps `prev` where degenerate."""
    q = prev.copy()
    n0 = np.linalg.norm(m[:, :, 0], axis=1)
    good = n0 > 1e-300
    q1 = np.where(good[:, None], m[:, :, 0] / np.where(good, n0, 1.0)[:, None], prev[:, :, 0])
    m2 = m[:, :, 1] - (q1 * m[:, :, 1]).sum(axis=1, keepdims=True) * q1
    n1 = np.linalg.norm(m2, axis=1)
    good2 = good & (n1 > 1e-12 * np.maximum(n0, 1e-300))
    q2 = np.where(good2[:, None], m2 / np.where(good2, n1, 1.0)[:, None], prev[:, :, 1])
    q[:, :, 0], q[:, :, 1] = q1, q2
    return q


def jacobian_stats(
    model: ModelConfig, weights: NetWeights, x2: np.ndarray
) -> dict[str, np.ndarray]:
    """Per layer, over the points x2: how the layer's Jacobian acts on the data sheet.

    The data start on the plane x3 = ... = 0; a frame Q (d, 2) of that sheet's tangent
    plane is carried along (Q <- orth(J Q)), so in width d > 2 a direction the data do
    not occupy is not counted as "flattened". Returns arrays of length T: median and 5th
    percentile of sigma_min/sigma_max of J Q, the median of the same for the linear part
    alone (A, or I + h Lip A), the share of points with det J < 0, the share of points
    with a saturated unit (s' < SATURATED Lip(s)), and the median sigma_min/sigma_max of
    the whole map from the input plane to the output of layer k (what the view shows:
    layers that each flatten a little can together flatten a lot).
    """
    t, d = weights.depth, weights.width
    keys = (
        "ratio_median",
        "ratio_p5",
        "linear_median",
        "neg_det_share",
        "saturated_share",
        "cumulative_median",
    )
    out = {key: np.full(t, np.nan) for key in keys}
    n = x2.shape[0]
    if n == 0 or t == 0:
        return out
    resnet = model.kind == "resnet"
    lip = activation_lipschitz(model.activation)
    eye = np.eye(d)
    x = embed(x2, d)
    q = np.zeros((n, d, 2))
    q[:, 0, 0] = q[:, 1, 1] = 1.0
    frame = q.copy()  # the input plane's frame carried through all layers so far
    with np.errstate(all="ignore"):
        for k in range(t):
            a, b = weights.A[k], weights.b[k]
            if not (np.isfinite(a).all() and np.isfinite(b).all() and np.isfinite(x).all()):
                break
            z = maths.pre_activation(a, b, x)
            sp = maths.activation_derivative(model.activation, z)
            jac = maths.block_jacobian(model.kind, model.activation, model.h, a, z)
            lin = eye + model.h * lip * a if resnet else a
            m = jac @ q
            ratio = _sheet_ratio(m)
            out["ratio_median"][k] = float(np.median(ratio))
            out["ratio_p5"][k] = float(np.percentile(ratio, 5))
            out["linear_median"][k] = float(np.median(_sheet_ratio(lin[None] @ q)))
            out["neg_det_share"][k] = float(np.mean(np.linalg.det(jac) < 0.0))
            out["saturated_share"][k] = float(np.mean((sp < SATURATED * lip).any(axis=1)))
            q = _orthonormal_frame(m, q)
            frame = jac @ frame
            scale = np.linalg.norm(frame, axis=(1, 2))  # rescale: the ratio does not care
            frame /= np.where(scale > 0, scale, 1.0)[:, None, None]
            out["cumulative_median"][k] = float(np.median(_sheet_ratio(frame)))
            s = maths.activation(model.activation, z)
            x = maths.block_output(model.kind, x, s, maths.block_move(model.kind, model.h, x, s))
    return out


# ---------------------------------------------------------------------- inverse
def _activation_inverse(name: str, y: np.ndarray) -> np.ndarray:
    if name == "tanh":
        return np.arctanh(y)
    if name == "sigmoid":
        return np.log(y) - np.log1p(-y)
    if name == "leaky_relu":
        return np.where(y >= 0.0, y, y / LEAKY_SLOPE)
    if name == "identity":
        return np.asarray(y, dtype=np.float64)
    return np.full_like(y, np.nan)


FIXED_POINT_FIRST = 20  # plain fixed-point steps before switching to Newton
NEWTON_STALL = 3  # Newton stops after this many steps without progress


def _invert_block(
    model: ModelConfig, a: np.ndarray, b: np.ndarray, y: np.ndarray, iters: int, tol: float
) -> np.ndarray:
    """Solve x + h s(A x + b) = y for every row of y."""
    h, act = model.h, model.activation
    x = y.copy()
    fixed = min(iters, FIXED_POINT_FIRST)
    for _ in range(fixed):
        nxt = y - h * maths.activation(act, maths.pre_activation(a, b, x))
        delta = float(np.max(np.abs(nxt - x)))
        x = nxt
        if not delta > tol:  # also stops on nan
            return x
    best, stall = math.inf, 0
    for _ in range(iters - fixed):
        z = maths.pre_activation(a, b, x)
        resid = x + h * maths.activation(act, z) - y
        size = float(np.max(np.abs(resid)))
        if not size > tol:
            break
        if size < 0.5 * best:
            best, stall = size, 0
        else:
            stall += 1
            if stall >= NEWTON_STALL:
                break
        jac = maths.block_jacobian("resnet", act, h, a, z)
        if not (np.isfinite(jac).all() and np.isfinite(resid).all()):
            return np.full_like(x, np.nan)  # pinv (an SVD) of Inf may never return
        try:
            step = np.linalg.solve(jac, resid[:, :, None])[:, :, 0]
        except np.linalg.LinAlgError:
            step = (np.linalg.pinv(jac) @ resid[:, :, None])[:, :, 0]
        x = x - step
    return x


def _all_nonsingular(mats: np.ndarray) -> bool:
    """True when every matrix of the stack (T, d, d) has condition number below 1e12."""
    if not finite_mask(mats).all():  # cond is an SVD: never on NaN / Inf
        return False
    with np.errstate(all="ignore"):
        cond = np.linalg.cond(mats) if mats.shape[0] else np.zeros(0)
    return bool(np.all(np.isfinite(cond) & (cond < MAX_CONDITION)))


def inverse(
    model: ModelConfig,
    weights: NetWeights,
    y_last: np.ndarray,
    iters: int = 200,
    tol: float = 1e-10,
) -> np.ndarray:
    """Recover x(0) (N, d) from x(T) by undoing the layers backwards.

    ResNet: solve x = y - h s(A x + b) by fixed-point iteration, the Banach argument
    behind the test h |A| Lip(s) < 1. When that converges slowly (contraction close to
    1, or no contraction at all) the remaining `iters` are Newton steps, which keeps the
    check fast and also inverts blocks that are invertible without being contractions;
    for a block that really folds the plane the result is wrong and the reconstruction
    error says so. MLP: apply s^-1 and solve with A; nan when s (relu) or A is not
    invertible.
    """
    x = np.array(y_last, dtype=np.float64, copy=True)
    if x.shape[0] == 0:
        return x
    with np.errstate(all="ignore"):
        for k in range(weights.depth - 1, -1, -1):
            a, b = weights.A[k], weights.b[k]
            if model.kind == "resnet":
                x = _invert_block(model, a, b, x, iters, tol)
                continue
            z = _activation_inverse(model.activation, x) - b
            if not _all_nonsingular(a[None]):
                return np.full_like(x, np.nan)
            x = np.linalg.solve(a, z.T).T
    return x


def reconstruction_error(model: ModelConfig, weights: NetWeights, x2: np.ndarray) -> float:
    """max |inverse(forward(x)) - x| over the points: ~1e-12 for invertible nets.

    nan when no inverse exists (relu MLP, singular A); inf when the inverse blew up
    (e.g. tanh saturated to +-1 in floating point, which loses the information).
    """
    x0 = embed(x2, weights.width)
    if x0.shape[0] == 0:
        return 0.0
    if model.kind == "mlp" and (
        model.activation not in INVERTIBLE_ACTIVATIONS or not _all_nonsingular(weights.A)
    ):
        return math.nan
    y = propagate(model, weights, x2)[-1]
    back = inverse(model, weights, y)
    with np.errstate(all="ignore"):
        err = np.abs(back - x0)
    if not np.isfinite(err).all():
        return math.inf
    return float(err.max())


# ---------------------------------------------------------------------- transport
def displacement_profile(traj: np.ndarray) -> np.ndarray:
    """Mean step length per layer: the turnpike profile (large only where work is done)."""
    steps = np.diff(np.asarray(traj, dtype=np.float64), axis=0)
    if steps.shape[1] == 0:
        return np.zeros(steps.shape[0])
    return np.asarray(np.linalg.norm(steps, axis=2).mean(axis=1))


def middle_half_share(profile: np.ndarray) -> float:
    """Share of the distance travelled that the middle half of the layers covers.

    The profile (mean step per layer) is read as constant over each layer's time
    [k, k + 1), so the middle half [T/4, 3T/4] is exact for any depth T. 0.5 when every
    layer moves the points as far; well below 0.5 for a turnpike (work at the ends, a
    long quiet middle); nan when nothing moves or the profile is not finite.
    """
    p = np.asarray(profile, dtype=np.float64).ravel()
    total = float(p.sum()) if p.size else 0.0
    if not math.isfinite(total) or total <= 0.0:
        return math.nan
    cum = np.concatenate([[0.0], np.cumsum(p)])
    t = p.size
    mid = np.interp(0.75 * t, np.arange(t + 1), cum) - np.interp(0.25 * t, np.arange(t + 1), cum)
    return float(mid / total)


def transport_cost(traj: np.ndarray) -> float:
    """Mean over points of sum_t |x_{t+1} - x_t|^2 (the regulariser's quantity)."""
    steps = np.diff(np.asarray(traj, dtype=np.float64), axis=0)
    if steps.shape[1] == 0:
        return 0.0
    return float((steps**2).sum(axis=(0, 2)).mean())


# ---------------------------------------------------------------------- all together
def _accuracy(weights: NetWeights, x_last: np.ndarray, y: np.ndarray) -> float:
    if len(y) == 0:
        return math.nan
    pred = head_classes(weights, x_last)
    return float((pred == y).mean())


def diagnose(config: RunConfig, weights: NetWeights, dataset: Dataset) -> Diagnostics:
    """All diagnostics of one weight set on its data (a few ms for depth 51, 1000 points).

    The reconstruction check uses the first RECON_POINTS training points: enough to
    expose a non-invertible net, cheap enough to rerun on every snapshot.
    """
    model = config.model
    blocks = block_diagnostics(model, weights, dataset.x_train)
    traj = propagate(model, weights, dataset.x_train)
    x_last = traj[-1]
    test_last = propagate(model, weights, dataset.x_test)[-1]
    wn = float(np.linalg.norm(weights.w))
    if weights.classes > 2:
        with np.errstate(all="ignore"):
            margin = class_margin(weights.w, np.asarray(weights.c), x_last, dataset.y_train)
    elif len(dataset.y_train) and wn > 0:
        signed = (x_last @ weights.w + weights.c) / wn
        margin = float(np.min(np.where(dataset.y_train == 1, signed, -signed)))
    else:
        margin = math.nan
    recon = reconstruction_error(model, weights, dataset.x_train[:RECON_POINTS])
    return Diagnostics(
        blocks=blocks,
        all_invertible=all(b.invertible for b in blocks),
        any_squashed=any(b.squashed for b in blocks),
        any_folds=any(b.folds for b in blocks),
        displacement=displacement_profile(traj),
        transport=transport_cost(traj),
        reconstruction_error=recon,
        train_acc=_accuracy(weights, x_last, dataset.y_train),
        test_acc=_accuracy(weights, test_last, dataset.y_test),
        plane_margin=margin,
    )
