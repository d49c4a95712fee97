"""Why a width-2 ResNet cannot fully separate the ring, as numbers.

A loop lying in the outer class winds once around the inner class. Every invertible
width-2 block is a homeomorphism of the plane, so the image of the loop still winds
once around the image of the centre; a straight line (the head) then cannot put the
whole loop on one side and the centre on the other, so some outer points are lost
(`wrong_side_share > 0`) or the centre is. With a third dimension the net can lift the
centre out of the loop, and the winding seen in the head's plane drops to 0.

The argument is about two classes, one enclosing the other, and a line (plane) between
them: it applies to the ring data sets only, which have two classes. `not_applicable`
says in words why a config gets no report (K > 2 classes, or data without a loop).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from nndyn_gui.core.config import ModelConfig, RunConfig
from nndyn_gui.core.datasets import dense_sample, inner_point, loop_radius, outer_loop
from nndyn_gui.core.net.flow import (
    embed,
    head_probability,
    head_projection,
    layer,
    predict,
    propagate,
)
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


WINDING_MAX_TURN = np.pi / 4  # every step of the refined loop turns by less than this
WINDING_MAX_POINTS = 400_000  # beyond this the winding is reported as undetermined
WINDING_MIN_STEP = 2.0**-44  # smallest loop-parameter interval (of 1) that is still split
WINDING_RESOLUTION = 1e-10  # relative distance to the centre's image below which we give up
FORWARD_CHUNK = 50_000  # points carried through the net at once (memory)


@dataclass
class Winding:
    """The winding number of a curve around a point, or why it could not be determined.

    `value` is None when the curve could not be resolved (`reason` says why): a wrong
    integer would be worse than none. `n_points` is how many curve points were needed,
    `min_distance` the closest sampled approach of the curve to the point.
    """

    value: int | None
    reason: str
    n_points: int
    min_distance: float


def adaptive_winding(
    curve: Callable[[np.ndarray], np.ndarray],
    point: np.ndarray,
    n_start: int = 2000,
    max_turn: float = WINDING_MAX_TURN,
    max_points: int = WINDING_MAX_POINTS,
) -> Winding:
    """Winding number of the closed curve s -> curve(s), s in [0, 1), around `point`.

    Fixed sampling fails when the curve passes close to the point: two consecutive
    samples then lie on opposite sides and the straight step between them may go round
    the wrong side (tanh saturation squeezes a ring's loop to within 1e-7 of the centre's
    image). So every step between consecutive parameters is split in half, carrying the
    new parameter through `curve`, until each step turns by less than `max_turn` around
    the point and is shorter than its distance to the point (the curve stays clearly
    away from it). Then every step is split once more and the test repeated, so a step
    that hid a loop between its two samples is caught. Undetermined (value None) when
    the curve is not finite, comes within numerical resolution of the point, or needs
    more than `max_points` samples.
    """
    pt = np.asarray(point, dtype=np.float64)[:2]
    s = np.arange(n_start, dtype=np.float64) / n_start
    v = np.asarray(curve(s), dtype=np.float64)[:, :2] - pt
    checked = False  # True after the final "split everything once more" round
    while True:
        if not np.isfinite(v).all():
            return Winding(None, "the image of the loop is not finite", len(s), math.nan)
        dist = np.hypot(v[:, 0], v[:, 1])
        dmin = float(dist.min())
        scale = max(1.0, float(np.abs(v).max()), float(np.abs(pt).max()))
        if dmin <= WINDING_RESOLUTION * scale:
            return Winding(
                None,
                f"the image of the loop passes within {dmin:.1e} of the centre's image, "
                "below the numerical resolution",
                len(s),
                dmin,
            )
        w = np.roll(v, -1, axis=0)
        cross = v[:, 0] * w[:, 1] - v[:, 1] * w[:, 0]
        turn = np.arctan2(cross, (v * w).sum(axis=1))
        chord = np.hypot(*(w - v).T)
        split = (np.abs(turn) >= max_turn) | (chord >= np.minimum(dist, np.roll(dist, -1)))
        if not split.any():
            if checked:
                total = float(turn.sum()) / (2.0 * np.pi)
                value = int(np.round(total))
                return Winding(value, "", len(s), dmin)
            split[:] = True
            checked = True
        s_next = np.roll(s, -1)
        s_next[-1] += 1.0
        if float((s_next - s)[split].min()) < WINDING_MIN_STEP:
            return Winding(
                None,
                "the image of the loop turns round the centre's image faster than the loop "
                "can be resolved",
                len(s),
                dmin,
            )
        n_new = int(split.sum())
        if len(s) + n_new > max_points:
            return Winding(
                None,
                f"resolving the image of the loop would need more than {max_points:,} points",
                len(s),
                dmin,
            )
        s_mid = 0.5 * (s[split] + s_next[split])
        v_mid = np.asarray(curve(s_mid % 1.0), dtype=np.float64)[:, :2] - pt
        # interleave: the midpoint of step i goes right after s[i]
        pos = np.flatnonzero(split) + 1
        s = np.insert(s, pos, s_mid)
        v = np.insert(v, pos, v_mid, axis=0)


@dataclass
class TopologyReport:
    """The loop test of one weight set (see the module docstring for the argument).

    `winding`: winding number of the last-layer image of the outer loop around the
    last-layer image of the inner point (0, 0), or None when it could not be determined
    (`winding_reason` says why). For d = 2 it is computed in the plane itself (a
    topological invariant of invertible nets: stays +-1). For d > 2 it is computed after
    projecting onto `plane` (rows: the head's unit normal w/|w|, then the loop image's
    main direction orthogonal to w) and `projected` is True; 0 there means the centre
    was moved out of the loop along the direction the head looks at. The loop is refined
    adaptively (`adaptive_winding`); `winding_points` is how many loop points that took.
    """

    winding: int | None
    wrong_side_share: float  # share of the loop's image classified as the inner class
    dense_accuracy: float  # accuracy on a fresh dense sample of the distribution
    loop_traj: np.ndarray  # (T+1, L, d)
    crossing_mask: np.ndarray  # (L,) bool: loop points on the wrong side of the head
    inner_traj: np.ndarray  # (T+1, d): the inner point through the layers
    projected: bool
    plane: np.ndarray  # (2, d) orthonormal basis the winding is computed in
    inner_class: int  # the class of the inner point (0 for ring data)
    winding_reason: str = ""  # why `winding` is None ("" when it is determined)
    winding_points: int = 0  # loop points used by the adaptive winding count
    loop_distance: float = math.nan  # closest approach of the loop image to the centre's

    def to_dict(self) -> dict[str, Any]:
        """The scalars as JSON-safe data (the loop's trajectory is left out)."""
        return {
            "winding": self.winding,
            "winding_determined": self.winding is not None,
            "winding_reason": self.winding_reason,
            "winding_points": int(self.winding_points),
            "loop_distance": _f(self.loop_distance),
            "wrong_side_share": _f(self.wrong_side_share),
            "dense_accuracy": _f(self.dense_accuracy),
            "projected": bool(self.projected),
            "inner_class": int(self.inner_class),
        }


def _f(v: float) -> float | None:
    v = float(v)
    return v if math.isfinite(v) else None


def winding_plane(weights: NetWeights, loop_last: np.ndarray) -> np.ndarray:
    """(2, d) basis: head normal, then the loop image's main direction orthogonal to it."""
    d = loop_last.shape[1]
    if d == 2 or not (np.isfinite(loop_last).all() and np.isfinite(weights.w).all()):
        return np.eye(2, d)
    basis = head_projection(weights.w, loop_last, 2).components  # the views' axes too
    for row in basis:  # deterministic orientation
        if row[np.argmax(np.abs(row))] < 0:
            row *= -1.0
    return basis


def last_layer(model: ModelConfig, weights: NetWeights, x2: np.ndarray) -> np.ndarray:
    """x(T) for 2-D inputs (N, d), in chunks: the refined loop can have 1e5 points."""
    out = np.empty((x2.shape[0], weights.width), dtype=np.float64)
    with np.errstate(all="ignore"):
        for i in range(0, x2.shape[0], FORWARD_CHUNK):
            x = embed(x2[i : i + FORWARD_CHUNK], weights.width)
            for k in range(weights.depth):
                x = layer(model, weights, k, x)
            out[i : i + FORWARD_CHUNK] = x
    return out


def not_applicable(config: RunConfig) -> str:
    """Why the loop test says nothing about this config ("" when it applies)."""
    if config.data.classes != 2:
        return (
            f"not applicable: the loop test is about two classes, one enclosing the other "
            f"(this data set has {config.data.classes} classes)"
        )
    if outer_loop(config.data, 3) is None:
        return "not applicable: the loop test needs a ring data set (one class around another)"
    return ""


def topology_report(
    config: RunConfig, weights: NetWeights, n_loop: int = 2000, n_dense: int = 50_000
) -> TopologyReport | None:
    """Carry the outer loop and the centre through the net; None for sets without a loop
    and for K > 2 classes (see `not_applicable`)."""
    loop = outer_loop(config.data, n_loop)
    centre = inner_point(config.data)
    if loop is None or centre is None or weights.classes != 2:
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
        radius = float(loop_radius(config.data) or 1.0)

        def curve(s: np.ndarray) -> np.ndarray:
            theta = 2.0 * np.pi * s
            x2 = radius * np.column_stack([np.cos(theta), np.sin(theta)])
            return last_layer(model, weights, x2) @ plane.T

        wind = adaptive_winding(curve, inner_last @ plane.T, n_start=n_loop)
    else:
        wind = Winding(None, "the net's output is not finite", 0, math.nan)
    xd, yd = dense_sample(config.data, n_dense, config.data.seed + DENSE_SEED_OFFSET)
    dense_acc = float((predict(model, weights, xd) == yd).mean()) if len(yd) else float("nan")
    return TopologyReport(
        winding=wind.value,
        wrong_side_share=float(crossing.mean()) if crossing.size else 0.0,
        dense_accuracy=dense_acc,
        loop_traj=loop_traj,
        crossing_mask=crossing,
        inner_traj=inner_traj,
        projected=weights.width > 2,
        plane=plane,
        inner_class=inner_class,
        winding_reason=wind.reason,
        winding_points=wind.n_points,
        loop_distance=wind.min_distance,
    )
