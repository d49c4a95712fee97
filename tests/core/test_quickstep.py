"""The numpy steps that bridge a compile: the same training as the compiled function."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from nndyn_gui.core.config import RunConfig
from nndyn_gui.core.train import program, quickstep
from nndyn_gui.core.train import trainer as training
from nndyn_gui.core.types import Dataset


def _data(n: int = 120, seed: int = 0, classes: int = 2) -> Dataset:
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1, 1, (n, 2))
    y = (np.hypot(x[:, 0], x[:, 1]) > 0.6).astype(np.int64)
    if classes > 2:  # K sectors
        y = np.floor((np.arctan2(x[:, 1], x[:, 0]) + np.pi) / (2 * np.pi) * classes)
        y = np.minimum(y, classes - 1).astype(np.int64)
    return Dataset(x[:100], y[:100], x[100:], y[100:], "test")


def _cfg(**kw: object) -> RunConfig:
    cfg = RunConfig()
    cfg.model.width, cfg.model.depth, cfg.model.h = 3, 5, 0.3
    cfg.train.steps, cfg.train.snapshot_every, cfg.train.steps_per_call = 40, 20, 20
    cfg.train.learning_rate = 0.05
    for key, value in kw.items():
        section, name = key.split("__")
        setattr(getattr(cfg, section), name, value)
    return cfg.validate()


CASES = [
    {},
    {"model__kind": "mlp", "model__activation": "relu"},
    {"model__activation": "sigmoid", "train__optimizer": "sgd", "train__batch_size": 16},
    {"model__activation": "leaky_relu", "model__tied": True, "train__weight_decay": 0.01},
    {"model__keep_invertible": True, "model__h": 2.0, "train__transport": 0.1},
    {"model__kind": "mlp", "model__activation": "tanh", "train__transport": 0.3},
    {"model__kind": "mlp", "model__activation": "identity", "model__width": 2},  # linear
    {"model__activation": "identity", "model__keep_invertible": True, "model__h": 2.0},
    {"model__width": 4, "model__depth": 30, "train__batch_size": 25},
    {"data__name": "spiral", "data__classes": 3},  # the softmax head (labels 0..2)
    {
        "data__name": "gaussians",
        "data__classes": 4,
        "model__tied": True,
        "train__optimizer": "sgd",
        "train__transport": 0.1,
    },
]


@pytest.mark.parametrize("changes", CASES, ids=lambda c: ",".join(c) or "default")
def test_numpy_steps_match_the_compiled_steps(
    changes: dict[str, object], monkeypatch: pytest.MonkeyPatch
) -> None:
    """40 optimiser steps: the weights, the loss and the accuracy agree to rounding.
    (The numpy calls' time budget is lifted: on a busy machine a call returned after
    17 of its 20 steps, and this test is about the steps, not their speed.)"""
    monkeypatch.setattr(training, "QUICK_CALL_S", 600.0)
    monkeypatch.setattr(training, "QUICK_FIRST_S", 600.0)
    cfg = _cfg(**changes)
    ds = _data(classes=cfg.data.classes)
    compiled = training.Trainer(cfg, ds)
    want = compiled.run()
    quick = training.Trainer(cfg, ds, quick_start=True)
    # numpy steps (without a compile next to them)
    quick._steps = quickstep.Stepper(quick._structure, *quick._xy, quick._state())
    assert quick.quick
    got_loss = quick._evaluate()
    for _ in range(2):
        done, _loss, reason = quick._advance(20)
        assert (done, reason) == (20, 0)
        quick.step += done
    w_np, w_tf = quick.weights(), want.final.weights
    for a, b in ((w_np.A, w_tf.A), (w_np.b, w_tf.b), (w_np.w, w_tf.w)):
        np.testing.assert_allclose(a, b, rtol=1e-8, atol=1e-10)
    assert np.max(np.abs(np.asarray(w_np.c) - np.asarray(w_tf.c))) < 1e-9
    loss, acc_tr, acc_te = quick._evaluate()
    assert abs(loss - want.final.loss) < 1e-9 * max(1.0, loss)
    assert (acc_tr, acc_te) == (want.final.train_acc, want.final.test_acc)
    assert abs(got_loss[0] - want.snapshots[0].loss) < 1e-12


def test_divergence_stops_at_the_same_step_with_the_last_finite_weights() -> None:
    cfg = _cfg(
        **{
            "model__width": 2,
            "model__depth": 4,
            "model__h": 0.5,
            "model__activation": "relu",
            "train__optimizer": "sgd",
            "train__learning_rate": 100.0,
            "train__steps": 400,
            "train__snapshot_every": 400,
            "train__steps_per_call": 400,
        }
    )
    want = training.Trainer(cfg, _data()).run()
    assert want.status == "diverged"
    tr = training.Trainer(cfg, _data())
    stepper = quickstep.Stepper(tr._structure, *tr._xy, tr._state())
    state = stepper.current
    done, _loss, reason = stepper.fused(None, 400, tr.hyper)
    assert reason in (1, 2), "numpy should diverge too"
    assert f"diverged at step {done} " in want.message
    assert all(np.isfinite(p).all() for p in state.params)  # the last finite weights
    assert np.isfinite(stepper.evaluate(tr.hyper)[0])


def test_every_structure_the_config_allows_is_supported() -> None:
    from nndyn_gui.core.config import ACTIVATIONS, MODEL_KINDS, OPTIMIZERS

    for kind, act, opt in itertools.product(MODEL_KINDS, ACTIVATIONS, OPTIMIZERS):
        st = quickstep.Structure(kind, act, 3, 4, False, False, opt, 0, False)
        if opt == "msa":  # numpy from its first step (core/train/msa.py): nothing to compile
            assert not quickstep.supports(st)
            continue
        assert quickstep.supports(st)
    cfg = RunConfig().with_set("train.optimizer=msa")
    tr = training.Trainer(cfg, _data(), quick_start=True)
    tr.prepare()
    assert type(tr._steps).__module__.endswith("core.train.msa") and tr.compile_seconds == 0.0


def test_a_compile_that_fails_is_logged_and_numpy_trains_to_the_end(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """It used to fail silently: the run was only slower, nobody could tell why."""

    def broken(*_args: object) -> None:
        raise RuntimeError("XLA ran out of registers")

    monkeypatch.setattr(program, "compile_structure", broken)
    cfg = _cfg(model__depth=13, model__activation="sigmoid", train__steps=200)
    result = training.Trainer(cfg, _data(), quick_start=True).run()
    program.wait_for_compiles()
    assert result.final.step == 200
    warned = [r for r in caplog.records if r.levelname == "WARNING"]
    [record] = [
        r for r in warned if r.name == "nndyn_gui.core.train.program"
    ]  # once, not per retry
    assert "cannot compile the training step" in record.getMessage()
    assert "XLA ran out of registers" in str(record.exc_info[1] if record.exc_info else "")


def test_a_failed_compile_is_retried_once_and_the_run_says_numpy_trained_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """It used to be retried after every numpy call (a compile's CPU, again and again),
    and the finished run did not say why it had been slow."""
    tries: list[int] = []

    def broken(*_args: object) -> None:
        tries.append(1)
        raise RuntimeError("XLA ran out of registers")

    monkeypatch.setattr(program, "compile_structure", broken)
    cfg = _cfg(model__depth=14, train__steps=600, train__steps_per_call=20)
    result = training.Trainer(cfg, _data(), quick_start=True).run()
    program.wait_for_compiles()
    assert result.status == "finished" and result.final.step == 600
    assert len(tries) == training.MAX_COMPILE_TRIES == 2
    assert result.message == (
        "Finished 600 steps. Trained with numpy: the compiled step failed: "
        "RuntimeError: XLA ran out of registers."
    )
