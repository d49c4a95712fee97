"""What is measured on one trained run: the metrics a claim, a sweep row or a table reads.

Why a module: a claim ("the ring is untied on at least half of the seeds"), a sweep's
columns and the docs' statistics all read the same numbers off a run; `Measured` holds a
run's trained weights with its diagnostics, topology report, trajectory and fixed points
(each computed once, when first asked for), and `METRICS` names every number with its
meaning and format. What a preset *claims* about them, and how claims are checked over
seeds, is core/analysis/claims.py. Pure numpy: no TensorFlow, no Qt.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from nndyn_gui.core.analysis.diagnostics import Diagnostics, diagnose
from nndyn_gui.core.analysis.field import FixedPoints, fixed_points
from nndyn_gui.core.analysis.topology import DENSE_SEED_OFFSET, TopologyReport, topology_report
from nndyn_gui.core.config import RunConfig
from nndyn_gui.core.datasets import dense_sample
from nndyn_gui.core.net.flow import head_classes, predict, propagate
from nndyn_gui.core.types import Dataset, NetWeights

DENSE_POINTS = 50_000


@dataclass
class Measured:
    """One trained run and the numbers measured on it (computed once, on demand)."""

    config: RunConfig
    dataset: Dataset
    weights: NetWeights
    train_acc: float
    test_acc: float
    status: str
    _diag: Diagnostics | None = None
    _topo: TopologyReport | None = None
    _topo_done: bool = False
    _dense: float | None = None
    _traj: np.ndarray | None = None
    _fixed: FixedPoints | None = None

    @property
    def diagnostics(self) -> Diagnostics:
        if self._diag is None:
            self._diag = diagnose(self.config, self.weights, self.dataset)
        return self._diag

    @property
    def topology(self) -> TopologyReport | None:
        if not self._topo_done:
            self._topo = topology_report(self.config, self.weights, n_dense=DENSE_POINTS)
            self._topo_done = True
        return self._topo

    @property
    def dense_accuracy(self) -> float:
        if self._dense is None:
            topo = self.topology
            if topo is not None:
                self._dense = float(topo.dense_accuracy)
            else:
                cfg = self.config
                x, y = dense_sample(cfg.data, DENSE_POINTS, cfg.data.seed + DENSE_SEED_OFFSET)
                pred = predict(cfg.model, self.weights, x)
                self._dense = float((pred == y).mean()) if len(y) else math.nan
        return self._dense

    @property
    def fixed_points(self) -> FixedPoints:
        """core.analysis.field.fixed_points of a tied net (empty for untied ones)."""
        if self._fixed is None:
            self._fixed = fixed_points(self.config.model, self.weights)
        return self._fixed

    @property
    def trajectory(self) -> np.ndarray:
        """(T+1, N, d) of the test points (the training points when there is no test set)."""
        if self._traj is None:
            x = self.dataset.x_test if len(self.dataset.x_test) else self.dataset.x_train
            self._traj = propagate(self.config.model, self.weights, x)
        return self._traj


def step_turning(traj: np.ndarray) -> float:
    """Mean angle (radians) between consecutive layer steps, weighted by step length.

    0 for straight trajectories; a polyline that zig-zags turns by ~pi/2 or more per
    step. As the steps of a smooth flow get finer the angles shrink, so this is how
    smooth the drawn trajectories look. Steps shorter than 1e-9 have no direction and
    are skipped. Averaged over the points.
    """
    steps = np.diff(np.asarray(traj, dtype=np.float64), axis=0)  # (T, N, d)
    if steps.shape[0] < 2 or steps.shape[1] == 0:
        return 0.0
    length = np.linalg.norm(steps, axis=2)
    a, b = steps[:-1], steps[1:]
    na, nb = length[:-1], length[1:]
    ok = (na > 1e-9) & (nb > 1e-9)
    with np.errstate(all="ignore"):
        cos = np.clip((a * b).sum(axis=2) / (na * nb), -1.0, 1.0)
    ang = np.where(ok, np.arccos(cos), 0.0)
    weight = 0.5 * (na + nb)
    total = weight.sum(axis=0)
    per_point = np.where(total > 0, (ang * weight).sum(axis=0) / np.maximum(total, 1e-300), 0.0)
    return float(per_point.mean())


def path_length(traj: np.ndarray) -> float:
    """Mean over points of sum_t |x_{t+1} - x_t|: how far the flow carries a point."""
    steps = np.diff(np.asarray(traj, dtype=np.float64), axis=0)
    if steps.shape[1] == 0:
        return 0.0
    return float(np.linalg.norm(steps, axis=2).sum(axis=0).mean())


def mean_step(traj: np.ndarray) -> float:
    """Mean over points and layers of |x_{t+1} - x_t|: how far one block moves a point."""
    steps = np.diff(np.asarray(traj, dtype=np.float64), axis=0)
    if steps.size == 0:
        return 0.0
    return float(np.linalg.norm(steps, axis=2).mean())


IMAGE_RANK_TOL = 1e-3  # a direction counts when its spread is above this share of the largest


def image_spreads(points: np.ndarray) -> np.ndarray:
    """Eigenvalues of the covariance of the points (N, d), largest first (nan: not finite).

    Their square roots are how far the point cloud spreads along its main directions:
    a layer whose image dropped to a line has one eigenvalue left, the others ~0.
    """
    x = np.asarray(points, dtype=np.float64)
    if x.ndim != 2 or x.shape[0] < 2 or not np.isfinite(x).all():
        return np.full(x.shape[-1] if x.ndim == 2 else 1, math.nan)
    x = x - x.mean(axis=0)
    return np.clip(np.linalg.eigvalsh(x.T @ x / (len(x) - 1))[::-1], 0.0, None)


def image_ratio(points: np.ndarray) -> float:
    """lambda_2 / lambda_1 of the covariance of the points: ~1 for a round cloud, 0 on a
    line (and, by convention, on a single point: nothing is left of the plane). The two
    largest: in width d > 2 the data start on a plane, which is what can collapse."""
    ev = image_spreads(points)
    if not np.isfinite(ev).all():
        return math.nan
    top = ev[: min(2, len(ev))]
    return float(top[-1] / top[0]) if top[0] > 0 else 0.0


def image_rank(points: np.ndarray) -> float:
    """Numerical rank of the centred points: directions whose spread (standard deviation)
    is above IMAGE_RANK_TOL x the largest (1: a line, 0: a single point)."""
    ev = image_spreads(points)
    if not np.isfinite(ev).all():
        return math.nan
    sd = np.sqrt(ev)
    return float(np.sum(sd > IMAGE_RANK_TOL * sd[0])) if sd[0] > 0 else 0.0


def _winding(m: Measured) -> float:
    topo = m.topology
    if topo is None or topo.winding is None:
        return math.nan
    return float(topo.winding)


def _wrong_side(m: Measured) -> float:
    topo = m.topology
    return math.nan if topo is None else float(topo.wrong_side_share)


def _centre_right(m: Measured) -> float:
    """1 when the head puts the centre's image in the inner class (nan: no loop test).

    The topology of width 2 forces only this: with one-to-one layers, part of the loop
    lies on the wrong side OR the centre does. So "wrong side > 0" is forced exactly on
    the runs where this is 1.
    """
    topo = m.topology
    if topo is None or not np.isfinite(topo.inner_traj[-1]).all():
        return math.nan
    pred = head_classes(m.weights, topo.inner_traj[-1][None])[0]
    return float(pred == topo.inner_class)


def _something_wrong(m: Measured) -> float:
    """1 when part of the loop or the centre lies on the wrong side: what topology forces in
    width 2 with one-to-one layers (so 0 there means a layer was not one-to-one)."""
    share, centre = _wrong_side(m), _centre_right(m)
    if not (math.isfinite(share) and math.isfinite(centre)):
        return math.nan
    return float(share > 0.0 or centre == 0.0)


def _untied(m: Measured) -> float:
    """1 when the ring is untied: winding 0 AND no point of the loop on the wrong side.

    Winding 0 alone is not enough: in width 3 it is measured in a projection, and a net
    can reach it with part of the loop still on the wrong side (then fresh points of
    the annulus are lost). nan when the winding is undetermined or does not apply.
    """
    w, share = _winding(m), _wrong_side(m)
    if not (math.isfinite(w) and math.isfinite(share)):
        return math.nan
    return float(w == 0 and share == 0.0)


def _fixed_count(kind: str | None) -> Callable[[Measured], float]:
    """Isolated fixed points (of one kind) of a tied net's field; nan for untied nets."""

    def count(m: Measured) -> float:
        if not m.config.model.tied:
            return math.nan
        return float(m.fixed_points.count(kind))

    return count


@dataclass(frozen=True)
class Metric:
    """A number measured on one trained run; `doc` says what it is (shown with --help)."""

    doc: str
    fn: Callable[[Measured], float]
    fmt: str = "{:.3g}"


METRICS: dict[str, Metric] = {
    "train_acc": Metric("accuracy on the training points", lambda m: m.train_acc, "{:.2%}"),
    "test_acc": Metric("accuracy on the held-out points", lambda m: m.test_acc, "{:.2%}"),
    "dense_accuracy": Metric(
        f"accuracy on {DENSE_POINTS:,} fresh points of the distribution",
        lambda m: m.dense_accuracy,
        "{:.2%}",
    ),
    "winding": Metric(
        "winding number of the outer loop's image around the centre's (nan: undetermined)",
        _winding,
        "{:.0f}",
    ),
    "abs_winding": Metric("|winding number|", lambda m: abs(_winding(m)), "{:.0f}"),
    "wrong_side_share": Metric(
        "share of the outer loop the head puts in the inner class", _wrong_side, "{:.2%}"
    ),
    "centre_right": Metric(
        "1 when the head puts the centre's image in the inner class", _centre_right, "{:.0f}"
    ),
    "loop_or_centre_wrong": Metric(
        "1 when part of the loop or the centre lies on the wrong side (forced in width 2 "
        "with one-to-one layers)",
        _something_wrong,
        "{:.0f}",
    ),
    "untied": Metric(
        "1 when the ring is untied: winding 0 and none of the loop on the wrong side",
        _untied,
        "{:.0f}",
    ),
    "max_lip_product": Metric(
        "max over blocks of h |A_k|_2 Lip(s) (ResNet) or |A_k|_2 Lip(s) (MLP)",
        lambda m: max((b.lip_product for b in m.diagnostics.blocks), default=math.nan),
    ),
    "invertible_layers": Metric(
        "share of layers proved one-to-one (ResNet: h|A|Lip < 1; MLP: invertible A, tanh)",
        lambda m: float(np.mean([b.invertible for b in m.diagnostics.blocks])),
        "{:.0%}",
    ),
    "min_linear_ratio": Metric(
        "min over layers of sigma_min/sigma_max of the linear part (A; I + h Lip A)",
        lambda m: min((b.linear_ratio for b in m.diagnostics.blocks), default=math.nan),
    ),
    "squashed_layers": Metric(
        "layers whose Jacobian's median sigma_min/sigma_max on the data is < 1e-2",
        lambda m: float(sum(b.squashed for b in m.diagnostics.blocks)),
        "{:.0f}",
    ),
    "max_saturated_share": Metric(
        "max over layers of the share of data points with a saturated unit",
        lambda m: max((b.saturated_share for b in m.diagnostics.blocks), default=math.nan),
        "{:.0%}",
    ),
    "fixed_points": Metric(
        "isolated fixed points of a tied net's field (nan: not tied)", _fixed_count(None), "{:.0f}"
    ),
    "fixed_point_sinks": Metric(
        "fixed points that attract (ResNet: every Re λ(J) < 0; MLP map: every |μ| < 1)",
        lambda m: _fixed_count("sink")(m) + _fixed_count("attracting")(m),
        "{:.0f}",
    ),
    "fixed_point_sources": Metric(
        "fixed points that repel (ResNet: every Re λ(J) > 0; MLP map: every |μ| > 1)",
        lambda m: _fixed_count("source")(m) + _fixed_count("repelling")(m),
        "{:.0f}",
    ),
    "fixed_point_saddles": Metric(
        "fixed points with directions in and out (a saddle)", _fixed_count("saddle"), "{:.0f}"
    ),
    "folds": Metric(
        "ResNet blocks whose det J takes both signs on the data (not one-to-one)",
        lambda m: float(sum(b.folds for b in m.diagnostics.blocks)),
        "{:.0f}",
    ),
    "transport": Metric(
        "mean over training points of sum_t |x_{t+1} - x_t|^2", lambda m: m.diagnostics.transport
    ),
    "step_turning": Metric(
        "mean angle between consecutive layer steps, weighted by step length (rad)",
        lambda m: step_turning(m.trajectory),
    ),
    "path_length": Metric(
        "mean over points of sum_t |x_{t+1} - x_t|", lambda m: path_length(m.trajectory)
    ),
    "mean_step": Metric(
        "mean |x_{t+1} - x_t| over points and layers", lambda m: mean_step(m.trajectory)
    ),
    "middle_share": Metric(
        "share of the distance travelled (displacement profile, training points) that the "
        "middle half of the layers covers (0.5: evenly)",
        lambda m: m.diagnostics.middle_share,
        "{:.1%}",
    ),
    "image_ratio": Metric(
        "lambda_min/lambda_max of the covariance of the last layer's image of the test points "
        "(two largest in width > 2; 0: a line)",
        lambda m: image_ratio(m.trajectory[-1]),
        "{:.2g}",
    ),
    "image_rank": Metric(
        f"numerical rank of the last layer's image: directions spread more than "
        f"{IMAGE_RANK_TOL:g} x the widest",
        lambda m: image_rank(m.trajectory[-1]),
        "{:.0f}",
    ),
}


#: metrics of the two-class loop test: nan ("not applicable") for K > 2 classes
BINARY_METRICS = (
    "winding",
    "abs_winding",
    "wrong_side_share",
    "untied",
    "centre_right",
    "loop_or_centre_wrong",
)


def last_layer_difference(xa: np.ndarray | None, xb: np.ndarray | None) -> float:
    """Mean distance between two runs' last-layer positions of the same test points,
    relative to the mean spread of those points (0: the same representation)."""
    if xa is None or xb is None or xa.shape != xb.shape or xa.shape[0] == 0:
        return math.nan
    spread = 0.5 * (
        np.linalg.norm(xa - xa.mean(axis=0), axis=1).mean()
        + np.linalg.norm(xb - xb.mean(axis=0), axis=1).mean()
    )
    return float(np.linalg.norm(xa - xb, axis=1).mean() / spread) if spread > 0 else math.nan


PAIR_METRICS: dict[str, Metric] = {
    "last_layer_difference": Metric(
        "mean distance between the last-layer positions of the same points in the run and "
        "the twin, over their mean spread",
        lambda m: math.nan,  # needs a twin: see last_layer_difference
    ),
}
