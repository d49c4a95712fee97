"""The loop test: a width-2 homeomorphism keeps the ring's loop around the centre."""

from __future__ import annotations

import numpy as np
import pytest

from nndyn_gui.core.config import RunConfig
from nndyn_gui.core.network import initial_weights
from nndyn_gui.core.topology import topology_report, winding_number
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
