"""Why a width-2 ResNet cannot fully separate the ring, as numbers.

A loop lying in the outer class winds once around the inner class. Every invertible
width-2 block is a homeomorphism of the plane, so the image of the loop still winds
once around the image of the centre; a straight line (the head) then cannot put the
whole loop on one side and the centre on the other, so some outer points are lost
(`wrong_side_share > 0`) or the centre is. With a third dimension the net can lift the
centre out of the loop, and the winding seen in the head's plane drops to 0.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from nndyn_gui.core.config import RunConfig
from nndyn_gui.core.datasets import dense_sample, inner_point, outer_loop
from nndyn_gui.core.flow import head_probability, predict, propagate
from nndyn_gui.core.safe_linalg import finite_svd
from nndyn_gui.core.types import NetWeights

DENSE_SEED_OFFSET = 1_000_003  # dense sample seed = data seed + this: fresh, yet reproducible


def winding_number(loop: np.ndarray, point: np.ndarray) -> int:
    """How often the closed polygon `loop` (L, 2) winds around `point` (counter-clockwise +).

    Sums the signed angle between consecutive vertex vectors with atan2(cross, dot),
    which is exact for any step below pi and needs no branch-cut bookkeeping; the
    polygon is closed implicitly (last vertex back to the first).
    """
    v = np.asarray(loop, dtype=np.float64)[:, :2] - np.asarray(point, dtype=np.float64)[:2]
    if v.shape[0] < 2:
        return 0
    w = np.roll(v, -1, axis=0)
    cross = v[:, 0] * w[:, 1] - v[:, 1] * w[:, 0]
    dot = (v * w).sum(axis=1)
    total = float(np.arctan2(cross, dot).sum())
    if not np.isfinite(total):
        return 0
    return int(np.round(total / (2.0 * np.pi)))


@dataclass
class TopologyReport:
    """The loop test of one weight set (see the module docstring for the argument).

    `winding`: winding number of the last-layer image of the outer loop around the
    last-layer image of the inner point (0, 0). For d = 2 it is computed in the plane
    itself (a topological invariant of invertible nets: stays +-1). For d > 2 it is
    computed after projecting onto `plane` (rows: the head's unit normal w/|w|, then the
    loop image's main direction orthogonal to w) and `projected` is True; 0 there means
    the centre was moved out of the loop along the direction the head looks at.
    """

    winding: int
    wrong_side_share: float  # share of the loop's image classified as the inner class
    dense_accuracy: float  # accuracy on a fresh dense sample of the distribution
    loop_traj: np.ndarray  # (T+1, L, d)
    crossing_mask: np.ndarray  # (L,) bool: loop points on the wrong side of the head
    inner_traj: np.ndarray  # (T+1, d): the inner point through the layers
    projected: bool
    plane: np.ndarray  # (2, d) orthonormal basis the winding is computed in
    inner_class: int  # the class of the inner point (0 for ring data)


def winding_plane(weights: NetWeights, loop_last: np.ndarray) -> np.ndarray:
    """(2, d) basis: head normal, then the loop image's main direction orthogonal to it."""
    d = loop_last.shape[1]
    if d == 2 or not (np.isfinite(loop_last).all() and np.isfinite(weights.w).all()):
        return np.eye(2, d)
    with np.errstate(all="ignore"):  # huge finite points may overflow: checked below
        wn = float(np.linalg.norm(weights.w))
        pts = loop_last - loop_last.mean(axis=0)
    if wn == 0.0 or not np.isfinite(wn):
        svd = finite_svd(pts, full_matrices=False)
        if svd is None:
            return np.eye(2, d)
        basis = svd[2][:2].copy()
    else:
        e1 = weights.w / wn
        with np.errstate(all="ignore"):
            rest = pts - np.outer(pts @ e1, e1)
        svd = finite_svd(rest, full_matrices=True)
        if svd is None:
            return np.eye(2, d)
        vt = svd[2]
        e2 = vt[0] - (vt[0] @ e1) * e1
        n2 = float(np.linalg.norm(e2))
        if n2 < 1e-12:  # loop collapsed onto the w line: any orthogonal direction will do
            e2 = np.linalg.svd(e1[None], full_matrices=True)[2][1]
            n2 = 1.0
        basis = np.stack([e1, e2 / n2])
    for row in basis:  # deterministic orientation
        if row[np.argmax(np.abs(row))] < 0:
            row *= -1.0
    return basis


def topology_report(
    config: RunConfig, weights: NetWeights, n_loop: int = 2000, n_dense: int = 50_000
) -> TopologyReport | None:
    """Carry the outer loop and the centre through the net; None for sets without a loop."""
    loop = outer_loop(config.data, n_loop)
    centre = inner_point(config.data)
    if loop is None or centre is None:
        return None
    model = config.model
    loop_traj = propagate(model, weights, loop)
    inner_traj = propagate(model, weights, centre[None])[:, 0]
    inner_class = 0  # ring-like sets put class 0 inside
    loop_last, inner_last = loop_traj[-1], inner_traj[-1]
    p = head_probability(weights, loop_last)
    pred = (p >= 0.5).astype(np.int64)
    crossing = pred == inner_class
    plane = winding_plane(weights, loop_last)
    if np.isfinite(loop_last).all() and np.isfinite(inner_last).all():
        winding = winding_number(loop_last @ plane.T, inner_last @ plane.T)
    else:
        winding = 0
    xd, yd = dense_sample(config.data, n_dense, config.data.seed + DENSE_SEED_OFFSET)
    dense_acc = float((predict(model, weights, xd) == yd).mean()) if len(yd) else float("nan")
    return TopologyReport(
        winding=winding,
        wrong_side_share=float(crossing.mean()) if crossing.size else 0.0,
        dense_accuracy=dense_acc,
        loop_traj=loop_traj,
        crossing_mask=crossing,
        inner_traj=inner_traj,
        projected=weights.width > 2,
        plane=plane,
        inner_class=inner_class,
    )
