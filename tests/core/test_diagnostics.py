"""Diagnostics on hand-built weights: the numbers the diagnostics panel shows."""

from __future__ import annotations

import json
import math
import time

import numpy as np
import pytest

from nndyn_gui.core.config import ModelConfig, RunConfig
from nndyn_gui.core.datasets import make_dataset
from nndyn_gui.core.diagnostics import (
    block_diagnostics,
    diagnose,
    displacement_profile,
    inverse,
    reconstruction_error,
    transport_cost,
)
from nndyn_gui.core.flow import embed, propagate
from nndyn_gui.core.network import initial_weights
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
