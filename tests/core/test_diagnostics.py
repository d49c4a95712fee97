"""Diagnostics on hand-built weights: the numbers the diagnostics panel shows."""

from __future__ import annotations

import json
import math
import time

import numpy as np
import pytest

from nndyn_gui.core.analysis.diagnostics import (
    block_diagnostics,
    diagnose,
    displacement_profile,
    inverse,
    reconstruction_error,
    transport_cost,
)
from nndyn_gui.core.config import ModelConfig, RunConfig
from nndyn_gui.core.datasets import make_dataset
from nndyn_gui.core.net.flow import embed, propagate
from nndyn_gui.core.net.initial_weights import initial_weights
from nndyn_gui.core.types import NetWeights

RNG_X = np.random.default_rng(0).uniform(-1, 1, (200, 2))


def _weights(a: np.ndarray, depth: int = 1, b: float = 0.0) -> NetWeights:
    d = a.shape[0]
    return NetWeights(
        A=np.repeat(a[None], depth, axis=0), b=np.full((depth, d), b), w=np.ones(d), c=0.0
    )


def _rot(angle: float) -> np.ndarray:
    return np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])


def test_singular_mlp_layer_is_flagged_squashed_and_not_invertible() -> None:
    m = ModelConfig(kind="mlp", width=2, depth=1, activation="tanh")
    w = _weights(np.diag([1.0, 0.0]))
    (blk,) = block_diagnostics(m, w)
    assert blk.squashed and not blk.invertible and blk.det == 0.0
    assert math.isnan(reconstruction_error(m, w, RNG_X))
    out = propagate(m, w, RNG_X)[-1]
    assert np.allclose(out[:, 1], 0.0)  # the flag matches what the view shows: a line


def test_contractive_resnet_is_invertible_and_inverts_exactly() -> None:
    m = ModelConfig(kind="resnet", width=2, depth=5, h=0.5, activation="tanh")
    w = _weights(_rot(0.7), depth=5, b=0.2)  # h |A| = 0.5
    blocks = block_diagnostics(m, w)
    assert all(abs(b.lip_product - 0.5) < 1e-12 and b.invertible for b in blocks)
    assert not any(b.squashed for b in blocks)
    assert reconstruction_error(m, w, RNG_X) < 1e-8
    back = inverse(m, w, propagate(m, w, RNG_X)[-1])
    assert np.allclose(back, embed(RNG_X, 2), atol=1e-8)


def test_too_large_step_is_not_proved_invertible() -> None:
    m = ModelConfig(kind="resnet", width=2, depth=1, h=2.0, activation="tanh")
    (blk,) = block_diagnostics(m, _weights(np.eye(2)))
    assert blk.lip_product == pytest.approx(2.0) and not blk.invertible


def test_folding_resnet_block_has_large_reconstruction_error() -> None:
    # x + 3 tanh(-x): not monotone, so distinct points land on the same image
    m = ModelConfig(kind="resnet", width=2, depth=1, h=3.0, activation="tanh")
    w = _weights(-np.eye(2))
    (blk,) = block_diagnostics(m, w)
    assert not blk.invertible and blk.lip_product == pytest.approx(3.0)
    # at x = 0 the Jacobian is I - 3 I: orientation flipped there, not far away -> a fold
    assert blk.det == pytest.approx(4.0) and np.allclose(blk.singular_values, 2.0)
    assert reconstruction_error(m, w, RNG_X) > 1e-3


def test_mlp_invertibility_depends_on_the_activation() -> None:
    a = np.array([[1.0, 0.5], [-0.3, 0.8]])
    tanh = ModelConfig(kind="mlp", width=2, depth=2, activation="tanh")
    relu = ModelConfig(kind="mlp", width=2, depth=2, activation="relu")
    w = _weights(a, depth=2, b=0.1)
    assert all(b.invertible for b in block_diagnostics(tanh, w))
    assert reconstruction_error(tanh, w, RNG_X * 0.5) < 1e-8
    assert not any(b.invertible for b in block_diagnostics(relu, w))
    assert math.isnan(reconstruction_error(relu, w, RNG_X))
    assert np.isnan(inverse(relu, w, RNG_X)).all()


def test_displacement_profile_and_transport_cost_on_a_known_path() -> None:
    # two points: one moves 1 then 0, the other 3 then 4 (3-4-5 steps)
    traj = np.array(
        [
            [[0.0, 0.0], [0.0, 0.0]],
            [[1.0, 0.0], [3.0, 4.0]],
            [[1.0, 0.0], [6.0, 8.0]],
        ]
    )
    assert np.allclose(displacement_profile(traj), [3.0, 2.5])
    assert transport_cost(traj) == pytest.approx((1.0 + 50.0) / 2)


def test_diagnose_reports_a_perfect_separation_and_is_json_safe() -> None:
    cfg = RunConfig()
    cfg.data.name, cfg.data.noise, cfg.data.test_fraction = "gaussians", 0.0, 0.0
    cfg.model.kind, cfg.model.width, cfg.model.depth = "resnet", 2, 3
    ds = make_dataset(cfg.data)
    # A = 0 is the identity flow, so accuracy is that of the line x1 + x2 = 0
    w = NetWeights(A=np.zeros((3, 2, 2)), b=np.zeros((3, 2)), w=np.array([1.0, 1.0]), c=0.0)
    diag = diagnose(cfg, w, ds)
    sep = (ds.x_train.sum(axis=1) > 0).astype(int) == ds.y_train
    assert diag.train_acc == pytest.approx(sep.mean()) and diag.train_acc > 0.97
    assert (diag.plane_margin > 0) == bool(sep.all())
    assert math.isnan(diag.test_acc)
    assert diag.all_invertible and not diag.any_squashed
    assert np.allclose(diag.displacement, 0.0) and diag.transport == 0.0
    assert diag.reconstruction_error == 0.0
    d = diag.to_dict()
    text = json.dumps(d, allow_nan=False)  # would raise on nan
    assert d["test_acc"] is None and len(d["blocks"]) == 3 and "lip_product" in text


@pytest.mark.timing
def test_diagnose_is_fast_enough_to_refresh_on_every_snapshot() -> None:
    cfg = RunConfig()
    cfg.model.width, cfg.model.depth, cfg.model.h = 3, 51, 1.0
    ds = make_dataset(cfg.data)
    w = initial_weights(cfg.model, 0)  # h |A| > 1: the slow path (Newton fallback)
    best = math.inf
    for _ in range(3):
        t0 = time.perf_counter()
        diag = diagnose(cfg, w, ds)
        best = min(best, time.perf_counter() - t0)
    assert len(diag.blocks) == 51
    assert best < 0.15  # budget 50 ms on an idle machine; slack for the shared CI box


def test_diverged_weights_give_empty_numbers_not_a_crash() -> None:
    cfg = RunConfig()
    ds = make_dataset(cfg.data)
    w = initial_weights(cfg.model, 0)
    w.A[2, 0, 0] = np.nan
    d = diagnose(cfg, w, ds).to_dict()
    assert d["blocks"][2]["spectral_norm"] is None and not d["all_invertible"]
    assert d["reconstruction_error"] is None
    json.dumps(d, allow_nan=False)


# ---------------------------------------------------------------------- Jacobian on the data
def test_saturation_flattens_a_one_to_one_layer_and_says_so() -> None:
    """tanh(x1, 8 x2 + 20): A is well conditioned, but unit 2 is deep in its flat tail."""
    m = ModelConfig(kind="mlp", width=2, depth=1, activation="tanh")
    w = NetWeights(A=np.diag([1.0, 8.0])[None], b=np.array([[0.0, 20.0]]), w=np.ones(2), c=0.0)
    (blk,) = block_diagnostics(m, w, RNG_X)
    assert blk.invertible and blk.linear_ratio == pytest.approx(1 / 8)
    assert blk.squashed and blk.squash_cause == "saturation"
    assert blk.jac_ratio_median < 1e-6 and blk.jac_ratio_p5 <= blk.jac_ratio_median
    assert blk.saturated_share == 1.0 and blk.neg_det_share == 0.0
    out = propagate(m, w, RNG_X)[-1]
    assert np.ptp(out[:, 1]) < 1e-6 < np.ptp(out[:, 0])  # what the view shows: a line


def test_nearly_singular_a_is_the_named_cause() -> None:
    m = ModelConfig(kind="mlp", width=2, depth=1, activation="tanh")
    w = _weights(_rot(0.3) @ np.diag([1.0, 1e-3]))
    (blk,) = block_diagnostics(m, w, RNG_X)
    assert blk.invertible  # still one-to-one: nothing is merged
    assert blk.squashed and blk.squash_cause == "A"
    assert blk.jac_ratio_median == pytest.approx(1e-3, rel=0.3)


def test_width3_layer_flat_across_the_data_sheet_is_not_squashed() -> None:
    """A flattens x3 1e4-fold, but the data lie in the plane x3 = 0: nothing is lost."""
    m = ModelConfig(kind="mlp", width=3, depth=1, activation="tanh")
    w = _weights(np.diag([1.0, 0.8, 1e-4]))
    (blk,) = block_diagnostics(m, w, RNG_X)
    assert blk.linear_ratio == pytest.approx(1e-4) and blk.invertible
    assert not blk.squashed and blk.jac_ratio_median > 0.5


def test_resnet_block_whose_det_changes_sign_folds() -> None:
    """x1 + 1.5 tanh(-x1): det J = 1 - 1.5 sech^2(x1) < 0 exactly where |x1| < 0.66."""
    m = ModelConfig(kind="resnet", width=2, depth=1, h=1.5, activation="tanh")
    w = _weights(np.array([[-1.0, 0.0], [0.0, 0.0]]))
    (blk,) = block_diagnostics(m, w, RNG_X)
    expected = np.mean(1 - 1.5 / np.cosh(RNG_X[:, 0]) ** 2 < 0)
    assert blk.neg_det_share == pytest.approx(expected) and 0.4 < expected < 0.9
    assert blk.folds and not blk.invertible
    diag = diagnose(_ring_config(m), w, make_dataset(_ring_config(m).data))
    assert diag.any_folds and diag.to_dict()["blocks"][0]["folds"]


def test_invertible_but_unproved_resnet_block_does_not_fold() -> None:
    m = ModelConfig(kind="resnet", width=2, depth=1, h=0.5, activation="tanh")
    (blk,) = block_diagnostics(m, _weights(np.eye(2) * 4.0), RNG_X)  # h |A| = 2
    assert not blk.invertible and not blk.folds and blk.neg_det_share == 0.0
    assert not blk.squashed


def _ring_config(m: ModelConfig) -> RunConfig:
    cfg = RunConfig()
    cfg.model = m
    return cfg.validate()


def test_layers_that_each_flatten_a_little_together_flatten_a_lot() -> None:
    m = ModelConfig(kind="mlp", width=2, depth=2, activation="tanh")
    w = _weights(0.5 * np.diag([1.0, 0.05]), depth=2)  # each layer: ratio ~0.05 (> 0.01)
    b1, b2 = block_diagnostics(m, w, RNG_X)
    assert not b1.squashed and not b2.squashed
    assert b1.jac_ratio_median == pytest.approx(0.05, rel=0.3)
    assert b1.cumulative_ratio == pytest.approx(b1.jac_ratio_median, rel=1e-9)
    assert b2.cumulative_ratio == pytest.approx(0.05**2, rel=0.5) and b2.cumulative_ratio < 0.01
    out = propagate(m, w, RNG_X)[-1]
    assert np.ptp(out[:, 1]) < 0.01 * np.ptp(out[:, 0])  # the view: almost a line


def test_a_fold_at_one_training_point_beyond_the_first_256_is_counted() -> None:
    """Folds and the det J share are taken over every training point: a block whose det J
    is negative only in a sliver around training point 700 folds, and diagnose says so
    (a 256-point sample, as the diagnostics once used, does not see it)."""
    cfg = RunConfig()
    cfg.model.kind, cfg.model.width, cfg.model.depth = "resnet", 2, 1
    ds = make_dataset(cfg.data)
    x = ds.x_train
    p = x[700, 0]
    k = 1e4  # J = I + h diag(sech^2(-k (x1 - p))) A: det = 1 - h k sech^2(k (x1 - p))
    cfg.model.h = 1.5 / k  # det J < 0 only where |x1 - p| < ~0.66 / k
    w = NetWeights(
        A=np.array([[[-k, 0.0], [0.0, 0.0]]]), b=np.array([[k * p, 0.0]]), w=np.ones(2), c=0.0
    )
    near = np.abs(x[:, 0] - p) < 0.66 / k
    assert near[700] and not near[:256].any()  # the fold is off the first 256 points
    (block,) = block_diagnostics(cfg.model, w, x[:256])
    assert not block.folds and block.neg_det_share == 0.0  # what a 256-point sample saw
    diag = diagnose(cfg.validate(), w, ds)
    assert diag.any_folds and diag.blocks[0].folds
    assert diag.blocks[0].neg_det_share == pytest.approx(near.mean())
    assert 0.0 < diag.blocks[0].neg_det_share < 0.01
