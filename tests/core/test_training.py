"""The trainer: what a user sees in the loss curve, the snapshots and the run status."""

from __future__ import annotations

import threading
import time
from typing import Any

import numpy as np
import pytest
import tensorflow as tf

from nndyn_gui.core import datasets
from nndyn_gui.core.config import RunConfig
from nndyn_gui.core.engine import protocol
from nndyn_gui.core.net import flow, maths
from nndyn_gui.core.net.initial_weights import initial_weights
from nndyn_gui.core.train import program
from nndyn_gui.core.train import trainer as training
from nndyn_gui.core.types import Dataset, NetWeights, Snapshot


def _split(x: np.ndarray, y: np.ndarray, rng: np.random.Generator) -> Dataset:
    p = rng.permutation(len(y))
    x, y = x[p], y[p]
    m = int(0.8 * len(y))
    return Dataset(x[:m], y[:m], x[m:], y[m:])


def ring(n: int = 200, seed: int = 0) -> Dataset:
    """Inner disk (class 0) inside an annulus (class 1), like the app's default set."""
    rng = np.random.default_rng(seed)
    h = n // 2
    r = np.concatenate([0.35 * rng.uniform(size=h), 0.575 + 0.425 * rng.uniform(size=n - h)])
    th = rng.uniform(0, 2 * np.pi, n)
    x = np.column_stack([r * np.cos(th), r * np.sin(th)])
    y = np.concatenate([np.zeros(h, np.int64), np.ones(n - h, np.int64)])
    return _split(x, y, rng)


def blobs(n: int = 200, seed: int = 0) -> Dataset:
    """Two well separated gaussians: linearly separable, so even width 2 learns it."""
    rng = np.random.default_rng(seed)
    y = (np.arange(n) >= n // 2).astype(np.int64)
    x = rng.normal(0.0, 0.15, (n, 2)) + np.where(y[:, None] == 1, 0.5, -0.5) * [1.0, 0.3]
    return _split(x, y, rng)


@pytest.fixture
def cfg(small_config: RunConfig) -> RunConfig:
    return small_config.copy()


def _accuracy(cfg: RunConfig, w: NetWeights, x: np.ndarray, y: np.ndarray) -> float:
    return float(np.mean(flow.predict(cfg.model, w, x) == y))


def _same(a: NetWeights, b: NetWeights) -> bool:
    return (
        np.array_equal(a.A, b.A)
        and np.array_equal(a.b, b.b)
        and np.array_equal(a.w, b.w)
        and a.c == b.c
    )


def test_width3_resnet_learns_the_ring_and_accuracy_matches_numpy(cfg: RunConfig) -> None:
    """The headline demo: loss falls, the ring is separated, and the numbers shown in the
    UI (TF accuracies) agree exactly with what the numpy views predict for each point."""
    cfg.model.width = 3
    cfg.train.steps = 300
    ds = ring()
    res = training.train(cfg, ds)
    assert res.status == "finished"
    first, last = res.snapshots[0], res.snapshots[-1]
    assert last.loss < 0.5 * first.loss
    assert last.train_acc > 0.9 and last.test_acc > 0.9
    for s in res.snapshots:
        assert s.train_acc == _accuracy(cfg, s.weights, ds.x_train, ds.y_train)
        assert s.test_acc == _accuracy(cfg, s.weights, ds.x_test, ds.y_test)


def test_mlp_learns_blobs_and_accuracy_matches_numpy(cfg: RunConfig) -> None:
    cfg.model.kind = "mlp"
    ds = blobs()
    res = training.train(cfg, ds)
    assert res.final.train_acc > 0.9
    for s in res.snapshots:
        assert s.train_acc == _accuracy(cfg, s.weights, ds.x_train, ds.y_train)


def test_same_config_and_seed_give_bitwise_identical_weights(cfg: RunConfig) -> None:
    cfg.train.batch_size = 32  # also exercises the seeded mini-batch stream
    ds = ring()
    a = training.train(cfg, ds)
    b = training.train(cfg, ds)
    assert len(a.snapshots) == len(b.snapshots)
    for sa, sb in zip(a.snapshots, b.snapshots, strict=True):
        assert _same(sa.weights, sb.weights)
        assert sa.loss == sb.loss
    cfg.train.seed = 1
    c = training.train(cfg, ds)
    assert not _same(a.final.weights, c.final.weights)


def test_batches_do_not_depend_on_steps_per_call(cfg: RunConfig) -> None:
    """Changing how often progress is reported must not change the trained network."""
    cfg.train.batch_size = 32
    ds = ring()
    a = training.train(cfg, ds)
    cfg.train.steps_per_call = 7
    b = training.train(cfg, ds)
    np.testing.assert_allclose(a.final.weights.A, b.final.weights.A, rtol=0, atol=1e-12)


def test_snapshots_land_on_multiples_and_step0_is_initial(cfg: RunConfig) -> None:
    cfg.train.steps = 230
    cfg.train.snapshot_every = 50
    cfg.train.steps_per_call = 30
    seen: list[Snapshot] = []
    progress: list[tuple[int, float, float]] = []

    def on_event(e: protocol.Event) -> None:
        if isinstance(e, protocol.Snapshots):
            seen.extend(e.snapshots)
        elif isinstance(e, protocol.Progress):
            progress.append((e.step, e.loss, e.steps_per_s))

    res = training.Trainer(cfg, ring()).run(on_event=on_event)
    steps = [s.step for s in res.snapshots]
    assert steps == [0, 50, 100, 150, 200, 230]
    assert [s.step for s in seen] == steps
    assert _same(res.snapshots[0].weights, initial_weights(cfg.model, cfg.train.seed))
    assert res.snapshots[0].weights.A.dtype == np.float64
    p_steps = [p[0] for p in progress]
    assert p_steps[-1] == 230
    assert all(0 < b - a <= 30 for a, b in zip([0, *p_steps], p_steps, strict=False))
    assert all(np.isfinite(p[1]) and p[2] > 0 for p in progress)
    assert all(
        b.elapsed >= a.elapsed for a, b in zip(res.snapshots, res.snapshots[1:], strict=False)
    )


def test_cancel_stops_within_a_call_and_keeps_current_weights(cfg: RunConfig) -> None:
    cfg.train.steps = 10_000
    cfg.train.steps_per_call = 20
    control = training.Control()
    tr = training.Trainer(cfg, ring())

    def on_event(e: protocol.Event) -> None:
        if isinstance(e, protocol.Progress):
            control.cancel.set()

    res = tr.run(control, on_event)
    assert res.status == "cancelled"
    assert res.final.step <= 40
    assert res.final.step == tr.step
    assert _same(res.final.weights, tr.weights())


def test_pause_holds_training_until_cleared(cfg: RunConfig) -> None:
    cfg.train.steps = 100
    cfg.train.steps_per_call = 25
    control = training.Control()
    pause = control.pause
    times: list[tuple[int, float]] = []

    def on_event(e: protocol.Event) -> None:
        if not isinstance(e, protocol.Progress):
            return
        times.append((e.step, time.perf_counter()))
        if e.step == 25:
            pause.set()
            threading.Timer(0.4, pause.clear).start()

    res = training.Trainer(cfg, ring()).run(control, on_event)
    assert res.status == "finished" and res.final.step == 100
    gap = times[1][1] - times[0][1]
    assert gap >= 0.35, f"training went on while paused ({gap:.3f}s)"


def test_cancel_while_paused_returns(cfg: RunConfig) -> None:
    control = training.Control()
    control.pause.set()
    threading.Timer(0.2, control.cancel.set).start()
    t0 = time.perf_counter()
    res = training.Trainer(cfg, ring()).run(control)
    assert res.status == "cancelled" and res.final.step == 0
    assert time.perf_counter() - t0 < 30


def test_divergence_is_reported_and_last_snapshot_is_finite(cfg: RunConfig) -> None:
    cfg.train.optimizer = "sgd"
    cfg.train.learning_rate = 100.0
    cfg.model.activation = "relu"
    cfg.train.snapshot_every = 2
    res = training.train(cfg, ring())
    assert res.status == "diverged"
    assert "diverged at step" in res.message and "smaller learning rate" in res.message
    assert f"(step {res.final.step})" in res.message
    assert np.isfinite(res.final.loss) and res.final.weights.is_finite()
    assert all(np.isfinite(s.loss) for s in res.snapshots)


@pytest.mark.parametrize("activation", ["tanh", "sigmoid"])
def test_keep_invertible_bounds_every_block(cfg: RunConfig, activation: str) -> None:
    lip = maths.activation_lipschitz(activation)
    cfg.model.h = 2.0 / lip
    cfg.model.activation = activation
    cfg.model.keep_invertible = True
    res = training.train(cfg, ring())
    for s in res.snapshots[1:]:
        norms = np.linalg.norm(s.weights.A, 2, axis=(1, 2))
        assert (cfg.model.h * norms * lip).max() <= cfg.model.invertible_bound + 1e-4
    # and the constraint is active: the initial weights violate it, the trained ones touch it
    norms0 = np.linalg.norm(res.snapshots[0].weights.A, 2, axis=(1, 2))
    assert (cfg.model.h * norms0 * lip).max() > cfg.model.invertible_bound
    norms = np.linalg.norm(res.final.weights.A, 2, axis=(1, 2))
    assert (cfg.model.h * norms * lip).max() == pytest.approx(cfg.model.invertible_bound)


def test_tied_weights_stay_equal_across_blocks(cfg: RunConfig) -> None:
    cfg.model.tied = True
    res = training.train(cfg, ring())
    w = res.final.weights
    assert w.A.shape == (4, 2, 2)
    assert all(np.array_equal(w.A[k], w.A[0]) for k in range(4))
    assert all(np.array_equal(w.b[k], w.b[0]) for k in range(4))
    assert not np.array_equal(w.A[0], res.snapshots[0].weights.A[0])


def test_transport_cost_shrinks_displacement(cfg: RunConfig) -> None:
    ds = ring()

    def displacement(transport: float) -> float:
        c = cfg.copy()
        c.train.transport = transport
        w = training.train(c, ds).final.weights
        traj = flow.propagate(c.model, w, ds.x_train)
        return float(np.mean(np.sum(np.diff(traj, axis=0) ** 2, axis=(0, 2))))

    free, penalised = displacement(0.0), displacement(1.0)
    assert penalised < 0.7 * free, (free, penalised)


def test_chunked_deep_forward_matches_unrolled(
    cfg: RunConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Deep nets use a scan over chunks; it must train exactly like the unrolled graph."""
    cfg.model.depth = 12
    cfg.train.steps = 40
    ds = ring()
    unrolled = training.train(cfg, ds).final.weights
    monkeypatch.setattr(program, "UNROLL_MAX_DEPTH", 4)
    monkeypatch.setattr(program, "CHUNK", 5)  # 2 chunks + 2 unrolled remainder blocks
    program.clear_cache()
    try:
        chunked = training.train(cfg, ds).final.weights
    finally:
        program.clear_cache()
    np.testing.assert_allclose(chunked.A, unrolled.A, rtol=0, atol=1e-9)
    np.testing.assert_allclose(chunked.w, unrolled.w, rtol=0, atol=1e-9)


def test_falls_back_to_plain_graph_when_xla_fails(
    cfg: RunConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = program.compiled
    attempts: list[int] = []

    def fake(st: Any, xla: bool) -> Any:
        comp = real(st, xla)
        if not xla:
            return comp

        def broken(*args: Any, **kw: Any) -> Any:
            attempts.append(1)
            raise tf.errors.UnimplementedError(None, None, "no XLA kernel")

        return program.Compiled(fused=broken, evaluate=comp.evaluate, xla=True)

    monkeypatch.setattr(program, "compiled", fake)
    monkeypatch.setattr(program, "_XLA_BROKEN", set())
    tr = training.Trainer(cfg, blobs())
    res = tr.run()
    assert res.status == "finished" and not tr.xla
    assert res.final.train_acc > 0.9
    training.Trainer(cfg, blobs()).run()  # the failed XLA compile is not paid again
    assert len(attempts) == 1


def test_weights_are_float64_copies(cfg: RunConfig) -> None:
    tr = training.Trainer(cfg, ring())
    w = tr.weights()
    assert w.A.dtype == np.float64 and w.A.shape == (4, 2, 2)
    w.A[:] = 0.0
    assert np.abs(tr.weights().A).max() > 0.0


def test_trains_on_the_app_ring_dataset(cfg: RunConfig) -> None:
    """End to end with the real data module."""
    cfg.model.width = 3
    cfg.train.steps = 300
    res = training.train(cfg, datasets.make_dataset(cfg.data))
    assert res.status == "finished" and res.final.train_acc > 0.9
