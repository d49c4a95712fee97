"""The loop test: a width-2 homeomorphism keeps the ring's loop around the centre."""

from __future__ import annotations

import numpy as np
import pytest

from nndyn_gui.core.analysis.topology import adaptive_winding, topology_report, winding_number
from nndyn_gui.core.config import RunConfig
from nndyn_gui.core.net.initial_weights import initial_weights
from nndyn_gui.core.types import NetWeights


def _circle(n: int = 400, r: float = 1.0, turns: int = 1) -> np.ndarray:
    t = 2 * np.pi * turns * np.arange(n) / n
    return np.column_stack([r * np.cos(t), r * np.sin(t)])


def test_winding_number_of_circles() -> None:
    assert winding_number(_circle(), np.zeros(2)) == 1
    assert winding_number(_circle()[::-1], np.zeros(2)) == -1
    assert winding_number(_circle(), np.array([3.0, 0.0])) == 0
    assert winding_number(_circle(turns=2), np.array([0.2, -0.1])) == 2
    # coarse, irregular polygon (a square) still counts correctly
    square = np.array([[1.0, 1.0], [-1.0, 1.0], [-1.0, -1.0], [1.0, -1.0]])
    assert winding_number(square, np.array([0.9, -0.9])) == 1


def _config(width: int, depth: int, h: float = 1.0) -> RunConfig:
    cfg = RunConfig()
    cfg.model.kind, cfg.model.width, cfg.model.depth, cfg.model.h = "resnet", width, depth, h
    return cfg


def test_identity_resnet_keeps_the_loop_around_the_centre() -> None:
    cfg = _config(2, 3)
    w = NetWeights(A=np.zeros((3, 2, 2)), b=np.zeros((3, 2)), w=np.array([1.0, 0.0]), c=-0.5)
    rep = topology_report(cfg, w, n_loop=500, n_dense=2000)
    assert rep is not None
    assert rep.winding == 1 and not rep.projected
    assert rep.loop_traj.shape == (4, 500, 2) and rep.inner_traj.shape == (4, 2)
    # the line x1 = 0.5 cuts the loop r = 0.8: the part left of it is on the wrong side
    share = np.mean(rep.loop_traj[-1][:, 0] < 0.5)
    assert rep.wrong_side_share == pytest.approx(share) and 0 < share < 1
    assert rep.crossing_mask.sum() == round(share * 500)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_random_invertible_width2_nets_never_untie_the_loop(seed: int) -> None:
    cfg = _config(2, 10, h=0.3)
    w = initial_weights(cfg.model, seed)
    w.b[:] = np.random.default_rng(seed).normal(size=w.b.shape)
    rep = topology_report(cfg, w, n_loop=2000, n_dense=1000)
    assert rep is not None and rep.winding == 1


def _lifting_net(k: float = 5.0, b: float = 2.0, h: float = 1.0) -> NetWeights:
    """x3 += h (bump(x1) + bump(x2)) with bump(u) = tanh(b + k u) + tanh(b - k u)."""
    a = np.zeros((4, 3, 3))
    bias = np.zeros((4, 3))
    for blk, (col, sign) in enumerate([(0, 1.0), (0, -1.0), (1, 1.0), (1, -1.0)]):
        a[blk, 2, col] = sign * k
        bias[blk, 2] = b
    # inner class 0 is high up (~3.9 h at the centre), the loop stays below ~2 h
    return NetWeights(A=a, b=bias, w=np.array([0.0, 0.0, -1.0]), c=2.9 * h)


def test_width3_net_lifts_the_centre_out_of_the_loop() -> None:
    cfg = _config(3, 4)
    rep = topology_report(cfg, _lifting_net(), n_loop=2000, n_dense=5000)
    assert rep is not None and rep.projected
    assert rep.inner_traj[-1][2] > 3.5  # the centre went up along x3
    assert rep.winding == 0
    assert rep.wrong_side_share == 0.0 and not rep.crossing_mask.any()
    assert rep.dense_accuracy > 0.97


def test_width3_identity_still_winds_in_the_head_plane() -> None:
    cfg = _config(3, 2)
    w = NetWeights(A=np.zeros((2, 3, 3)), b=np.zeros((2, 3)), w=np.array([1.0, 0, 0]), c=0.0)
    rep = topology_report(cfg, w, n_loop=300, n_dense=1000)
    assert rep is not None and rep.projected and abs(rep.winding) == 1


def test_no_report_for_sets_without_a_loop() -> None:
    cfg = _config(2, 2)
    cfg.data.name = "spiral"
    assert topology_report(cfg, initial_weights(cfg.model, 0)) is None


# ---------------------------------------------------------------------- adaptive winding
def _mlp_config(width: int, depth: int, activation: str = "tanh") -> RunConfig:
    cfg = RunConfig()
    cfg.model.kind, cfg.model.width, cfg.model.depth = "mlp", width, depth
    cfg.model.activation = activation
    return cfg.validate()


def test_a_curve_grazing_the_point_is_refined_not_miscounted() -> None:
    """A circle passing 1e-7 to the left of the point: the fixed samples straddle it.

    With 2,000 fixed samples the two nearest ones lie right of the point, so the straight
    step between them passes on the wrong side and the count says 0; the curve itself
    goes once round the point.
    """
    n, delta = 2000, 1e-7

    def curve(s: np.ndarray) -> np.ndarray:
        t = 2 * np.pi * s + np.pi / n  # samples symmetric about t = pi, where it grazes
        return np.column_stack([(1 - delta) + np.cos(t), np.sin(t)])

    fixed = curve(np.arange(n) / n)
    assert winding_number(fixed, np.zeros(2)) == 0  # today's fixed sampling: wrong
    got = adaptive_winding(curve, np.zeros(2), n_start=n)
    assert got.value == 1 and got.reason == ""
    assert got.n_points > n and got.min_distance == pytest.approx(delta, rel=0.5)
    reverse = adaptive_winding(lambda s: curve(-s), np.zeros(2), n_start=n)
    assert reverse.value == -1


def test_winding_is_undetermined_when_the_curve_hits_the_point() -> None:
    def through_origin(s: np.ndarray) -> np.ndarray:
        t = 2 * np.pi * s
        return np.column_stack([1 + np.cos(t), np.sin(t)])  # passes through (0, 0)

    got = adaptive_winding(through_origin, np.zeros(2), n_start=2000)
    assert got.value is None and "centre's image" in got.reason
    bad = adaptive_winding(lambda s: np.full((len(s), 2), np.nan), np.zeros(2))
    assert bad.value is None and "not finite" in bad.reason


def test_identity_resnet_winds_once_and_reflection_winds_backwards() -> None:
    rep = topology_report(
        _config(2, 3),
        NetWeights(A=np.zeros((3, 2, 2)), b=np.zeros((3, 2)), w=np.ones(2), c=0.0),
        n_dense=100,
    )
    assert rep is not None and rep.winding == 1 and rep.winding_reason == ""
    mirror = NetWeights(
        A=np.diag([1.0, -1.0])[None], b=np.zeros((1, 2)), w=np.ones(2), c=0.0
    )  # x -> tanh(x1, -x2): a reflection
    rep = topology_report(_mlp_config(2, 1), mirror, n_dense=100)
    assert rep is not None and rep.winding == -1


def test_a_fold_that_moves_the_centre_off_the_loop_has_winding_0() -> None:
    """ReLU, width 3: (x1, x2) -> (|x1 - 0.3|, x2 + 1), i.e. the plane folded at x1 = 0.3.

    The centre's image (0.3, 1) has two preimages inside the loop, x1 = 0 (mirrored) and
    x1 = 0.6 (not mirrored): their orientations cancel, so the loop's image does not
    wind around it.
    """
    a = np.zeros((2, 3, 3))
    b = np.zeros((2, 3))
    a[0, 0, 0], b[0, 0] = 1.0, -0.3  # relu(x1 - 0.3)
    a[0, 1, 1], b[0, 1] = 1.0, 1.0  # relu(x2 + 1) = x2 + 1 on the data
    a[0, 2, 0], b[0, 2] = -1.0, 0.3  # relu(0.3 - x1)
    a[1, 0, 0] = a[1, 0, 2] = 1.0  # |x1 - 0.3|
    a[1, 1, 1] = 1.0
    w = NetWeights(A=a, b=b, w=np.array([1.0, 0.0, 0.0]), c=0.0)
    rep = topology_report(_mlp_config(3, 2, "relu"), w, n_dense=100)
    assert rep is not None and rep.projected
    np.testing.assert_allclose(rep.inner_traj[-1], [0.3, 1.0, 0.0])
    assert rep.winding == 0 and rep.loop_distance > 0.1


# Weights written out by hand: 2 tanh layers whose saturation squeezes the loop's image
# to within 5e-4 of the centre's image. Both A are invertible and tanh is one-to-one, so
# the net is an embedding of the plane and the winding is sign(det A1 det A2) = -1.
SATURATED_A = np.array([[[2.0, 6.2], [-0.4, -2.3]], [[8.0, -1.1], [5.0, 1.4]]])
SATURATED_B = np.array([[-0.2, 3.6], [1.4, -0.4]])


def test_saturated_mlp_gets_the_winding_fixed_sampling_gets_wrong() -> None:
    from nndyn_gui.core.datasets import outer_loop
    from nndyn_gui.core.net.flow import propagate

    cfg = _mlp_config(2, 2)
    w = NetWeights(A=SATURATED_A, b=SATURATED_B, w=np.array([1.0, 0.0]), c=0.0)
    assert np.sign(np.prod(np.linalg.det(SATURATED_A))) == -1
    loop = outer_loop(cfg.data, 2000)
    assert loop is not None
    old = winding_number(
        propagate(cfg.model, w, loop)[-1], propagate(cfg.model, w, np.zeros((1, 2)))[-1, 0]
    )
    assert old == 0  # what the fixed 2,000-point count reported
    for n in (500, 2000, 8000):
        rep = topology_report(cfg, w, n_loop=n, n_dense=100)
        assert rep is not None and rep.winding == -1, n
        assert rep.winding_points > n and rep.loop_distance < 1e-3
    d = rep.to_dict()
    assert d["winding"] == -1 and d["winding_determined"] and d["winding_reason"] == ""


def test_undetermined_winding_is_reported_with_its_reason() -> None:
    # relu(x1, x2): the third quadrant of the loop and the centre all land on (0, 0)
    w = NetWeights(A=np.eye(2)[None], b=np.zeros((1, 2)), w=np.ones(2), c=0.0)
    rep = topology_report(_mlp_config(2, 1, "relu"), w, n_dense=100)
    assert rep is not None and rep.winding is None
    assert "centre's image" in rep.winding_reason
    d = rep.to_dict()
    assert d["winding"] is None and not d["winding_determined"] and d["winding_reason"]
    import json

    json.dumps(d, allow_nan=False)
