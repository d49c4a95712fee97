"""E-MSA (core/train/msa.py) and the costates shown for a snapshot (core/analysis/costate.py):
the costates are TensorFlow's -∂loss/∂x_t, an MSA run trains and streams like any run."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import tensorflow as tf

from nndyn_gui.core.analysis import costate
from nndyn_gui.core.analysis.claim_runs import ensemble_key
from nndyn_gui.core.config import ConfigError, RunConfig
from nndyn_gui.core.engine import protocol as p
from nndyn_gui.core.engine.session import TrainingSession
from nndyn_gui.core.fields import field_info
from nndyn_gui.core.net.initial_weights import initial_weights
from nndyn_gui.core.train import msa, quickstep
from nndyn_gui.core.train.stepper import Hyper
from nndyn_gui.core.train.trainer import data_columns, initial_state, structure_of
from nndyn_gui.core.types import NetWeights

from .engine_helpers import disk_data, engine_config


def _cfg(**kw: object) -> RunConfig:
    cfg = RunConfig()
    cfg.data.n = 120
    cfg.model.width, cfg.model.depth, cfg.model.h = 3, 6, 0.4
    cfg.train.optimizer = "msa"
    for key, value in kw.items():
        section, name = key.split("__")
        setattr(getattr(cfg, section), name, value)
    return cfg.validate()


def _random_weights(cfg: RunConfig, seed: int) -> NetWeights:
    """Initial weights made larger, so that every block bends the points."""
    w = initial_weights(cfg.model, seed, cfg.data.classes)
    rng = np.random.default_rng(seed)
    return NetWeights(w.A * 2.0, w.b + rng.normal(0, 0.3, w.b.shape), w.w * 3.0, w.c)


def _tf_costates(cfg: RunConfig, weights: NetWeights, x: np.ndarray, y: np.ndarray) -> list:
    """-∂loss/∂x_t by TensorFlow: each state a watched tensor the next one is made from."""
    m, tr = cfg.model, cfg.train
    act = {"tanh": tf.tanh, "relu": tf.nn.relu, "sigmoid": tf.sigmoid}[m.activation]
    xs = [tf.constant(np.pad(x, ((0, 0), (0, m.width - x.shape[1]))), tf.float64)]
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(xs[0])
        transport = 0.0
        for a, b in zip(weights.A, weights.b, strict=True):
            s = act(tf.matmul(xs[-1], a, transpose_b=True) + b)
            move = m.h * s if m.kind == "resnet" else s - xs[-1]  # as trainer._block
            nxt = xs[-1] + move
            transport += tf.reduce_sum(tf.square(move), axis=1)
            xs.append(nxt)
            tape.watch(nxt)
        if cfg.data.classes == 2:
            z = tf.linalg.matvec(xs[-1], tf.constant(weights.w)) + weights.c
            ce = tf.nn.sigmoid_cross_entropy_with_logits(
                labels=tf.constant(y, tf.float64), logits=z
            )
        else:
            z = tf.matmul(xs[-1], tf.constant(weights.w), transpose_b=True) + weights.c
            ce = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y.astype(np.int32), logits=z)
        loss = tf.reduce_mean(ce) + tr.transport * tf.reduce_mean(transport)
    # a watched intermediate's gradient: every path from x_t to the loss (its block's
    # transport and all later blocks), as the trainer's graph computes them
    return [-tape.gradient(loss, xt).numpy() for xt in xs]


CASES = [
    {},
    {"train__transport": 0.3},
    {"model__kind": "mlp", "model__activation": "sigmoid", "train__transport": 0.2},
    {"data__name": "spiral", "data__classes": 3},
]


@pytest.mark.parametrize("changes", CASES, ids=lambda c: ",".join(c) or "default")
def test_costates_are_minus_tensorflows_gradient_of_the_loss_at_every_layer(
    changes: dict[str, object],
) -> None:
    from nndyn_gui.core.datasets import make_dataset

    cfg = _cfg(**changes)
    ds = make_dataset(cfg.data)
    weights = _random_weights(cfg, 3)
    got = costate.costates(cfg, weights, ds.x_train, ds.y_train)
    want = _tf_costates(cfg, weights, ds.x_train, ds.y_train)
    assert len(got) == cfg.model.depth + 1
    scale = max(float(np.max(np.abs(w))) for w in want)
    assert scale > 1e-4  # the test would pass for nothing on a flat loss
    for t, (g, w) in enumerate(zip(got, want, strict=True)):
        assert np.max(np.abs(g - w)) <= 1e-6 * max(1.0, scale), f"layer {t}"
    per_point = costate.costates(cfg, weights, ds.x_train, ds.y_train, per_point=True)
    assert np.allclose(per_point[0], got[0] * len(ds.y_train))


def test_the_hamiltonian_of_a_layer_is_its_costate_times_its_output() -> None:
    cfg = _cfg(train__weight_decay=0.01)
    weights = _random_weights(cfg, 1)
    x = np.random.default_rng(0).uniform(-1, 1, (40, 2))
    y = (np.hypot(*x.T) > 0.6).astype(float)
    res = costate.analyse(cfg, weights, x, y)
    ham = costate.hamiltonian_per_layer(cfg, weights, x, y)
    assert ham.shape == (cfg.model.depth,)
    t = 2
    reg = 0.01 * (np.sum(weights.A[t] ** 2) + np.sum(weights.b[t] ** 2))
    assert ham[t] == pytest.approx(np.sum(res.costates[t + 1] * res.states[t + 1]) - reg)


def _steppers(cfg: RunConfig) -> tuple[msa.Stepper, quickstep.Stepper, Hyper]:
    from nndyn_gui.core.datasets import make_dataset

    ds = make_dataset(cfg.data)
    xy = data_columns(cfg, ds)
    st = structure_of(cfg, cfg.train, len(ds.y_train))
    sgd = quickstep.Stepper(dataclasses.replace(st, optimizer="sgd"), *xy, initial_state(cfg))
    return (
        msa.Stepper(st, *xy, initial_state(cfg), msa.Settings.of(cfg.train)),
        sgd,
        Hyper.of(cfg.model, cfg.train),
    )


@pytest.mark.parametrize("tied", [False, True])
def test_msa_without_augmentation_and_one_inner_step_is_exactly_sgd(tied: bool) -> None:
    """At the current weights both penalties vanish with their gradient, so one ascent
    step of the Hamiltonian is one gradient step of the loss."""
    cfg = _cfg(train__msa_rho=0.0, train__msa_inner_steps=1, train__transport=0.1,
               train__weight_decay=0.01, train__learning_rate=0.1, model__tied=tied)  # fmt: skip
    m, sgd, hyper = _steppers(cfg)
    assert m.fused(None, 5, hyper)[2] == 0 and sgd.fused(None, 5, hyper)[2] == 0
    for a, b in zip(m.state().params, sgd.state().params, strict=True):
        assert np.max(np.abs(a - b)) < 1e-12


@pytest.mark.parametrize("kind,act", [("resnet", "tanh"), ("mlp", "sigmoid")])
def test_the_augmented_hamiltonians_gradient_is_its_derivative(kind: str, act: str) -> None:
    rng = np.random.default_rng(1)
    t_count, n, d = 3, 7, 3
    a, b = rng.normal(size=(t_count, d, d)), rng.normal(size=(t_count, d))
    w, x, y = rng.normal(size=d), rng.normal(size=(n, d)), (rng.random(n) > 0.5) * 1.0
    hyper = Hyper(0.1, 0.4, 0.02, 0.3, 0.9)
    tape = msa.forward(kind, act, hyper.h, a, b, w, 0.3, x)
    ps = msa.costates(
        kind, act, hyper.h, hyper.transport, a, tape, msa.head_gradients(tape, w, y)[2]
    )
    a2, b2 = a + 0.1 * rng.normal(size=a.shape), b + 0.1 * rng.normal(size=b.shape)

    def value(aa: np.ndarray, bb: np.ndarray) -> np.ndarray:
        return msa.augmented_gradient(kind, act, hyper.h, hyper, 2.0, aa, bb, tape, ps)[2]

    ga, gb, _ = msa.augmented_gradient(kind, act, hyper.h, hyper, 2.0, a2, b2, tape, ps)
    eps = 1e-6
    for idx in [(0, 0, 1), (1, 2, 2), (2, 1, 0)]:
        up, down = a2.copy(), a2.copy()
        up[idx] += eps
        down[idx] -= eps
        assert ga[idx] == pytest.approx(
            (value(up, b2) - value(down, b2))[idx[0]] / (2 * eps), abs=1e-7
        )
    up, down = b2.copy(), b2.copy()
    up[1, 2] += eps
    down[1, 2] -= eps
    assert gb[1, 2] == pytest.approx((value(a2, up) - value(a2, down))[1] / (2 * eps), abs=1e-7)


def test_an_msa_run_lowers_the_loss_and_streams_its_snapshots_through_the_engine() -> None:
    cfg = engine_config(optimizer="msa", learning_rate=0.5, steps=150, snapshot_every=30)
    session = TrainingSession()
    try:
        session.start(cfg, disk_data())
        seen: list[int] = []
        while True:
            event = session.next_event(60)
            assert event is not None
            if isinstance(event, p.Snapshots):
                seen += [s.step for s in event.snapshots]
            if isinstance(event, (p.Finished, p.Failed)):
                break
        assert isinstance(event, p.Finished) and event.status == "finished"
        assert seen == list(range(0, 151, 30))
        snaps = session.result.snapshots
        assert snaps[-1].loss < 0.8 * snaps[0].loss
    finally:
        session.shutdown()


def test_the_config_takes_msa_and_its_fields_apply_only_to_it() -> None:
    cfg = RunConfig().with_set("train.optimizer=msa").with_set("train.msa_rho=5")
    assert (cfg.train.optimizer, cfg.train.msa_rho) == ("msa", 5.0)
    assert field_info("train.msa_inner_steps").applies(cfg)
    adam = RunConfig()
    assert field_info("train.msa_rho").why_unused(adam) == "only for the MSA optimiser"
    with pytest.raises(ConfigError, match="msa_rho"):
        cfg.with_set("train.msa_rho=-1")
    with pytest.raises(ConfigError, match="msa_inner_steps"):
        cfg.with_set("train.msa_inner_steps=0")
    with pytest.raises(ConfigError, match="optimizer"):
        cfg.with_set("train.optimizer=lbfgs")


def test_msa_runs_are_never_grouped_into_an_ensemble() -> None:
    one, two = _cfg(train__seed=1), _cfg(train__seed=2)
    assert ensemble_key(one) != ensemble_key(two)
    sgd = [_cfg(train__seed=s, train__optimizer="sgd") for s in (1, 2)]
    assert ensemble_key(sgd[0]) == ensemble_key(sgd[1])


def test_a_sweep_accepts_optimizer_msa() -> None:
    from nndyn_gui.core.sweep.spec import parse_spec

    spec = parse_spec(
        {
            "preset": "resnet-w3-ring",
            "set": ["train.steps=10"],
            "sweep": {"train.optimizer": ["sgd", "msa"]},
        }
    )
    assert [j.config.train.optimizer for j in spec.jobs()] == ["sgd", "msa"]


def test_train_many_trains_an_msa_run_alone_as_the_trainer_does() -> None:
    """verify's and the sweeps' ensembles hand an MSA run to the trainer on its own."""
    from nndyn_gui.core.train import ensemble
    from nndyn_gui.core.train.trainer import Trainer

    cfg = engine_config(optimizer="msa", learning_rate=0.5, steps=40)
    sgd = engine_config(optimizer="sgd", learning_rate=0.5, steps=40)
    data = disk_data()
    got, other = ensemble.train_many([cfg, sgd], [data, data])
    alone = Trainer(cfg, data).run()
    assert got.status == other.status == "finished"
    assert [s.loss for s in got.snapshots] == [s.loss for s in alone.snapshots]
    with pytest.raises(ValueError, match="alone"):
        ensemble.Ensemble([cfg], data)
