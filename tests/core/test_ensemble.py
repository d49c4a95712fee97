"""Many runs in one compiled program: every member trains exactly as it does alone."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from nndyn_gui.core.config import RunConfig
from nndyn_gui.core.datasets import make_dataset
from nndyn_gui.core.train import ensemble
from nndyn_gui.core.train import trainer as training
from nndyn_gui.core.types import TrainResult

TOL = 1e-10


def _cfg(**kw: object) -> RunConfig:
    cfg = RunConfig()
    cfg.data.n = 160
    cfg.model.width, cfg.model.depth, cfg.model.h = 3, 5, 0.3
    cfg.train.steps, cfg.train.snapshot_every, cfg.train.steps_per_call = 60, 20, 20
    cfg.train.learning_rate = 0.05
    for key, value in kw.items():
        section, name = key.split("__")
        setattr(getattr(cfg, section), name, value)
    return cfg.validate()


def _largest_difference(got: TrainResult, want: TrainResult) -> float:
    """Largest |difference| of any weight, loss or accuracy over all snapshots; the
    snapshot steps, status and message must be the same."""
    assert (got.status, got.message) == (want.status, want.message)
    assert [s.step for s in got.snapshots] == [s.step for s in want.snapshots]
    worst = 0.0
    for a, b in zip(got.snapshots, want.snapshots, strict=True):
        for x, y in ((a.weights.A, b.weights.A), (a.weights.b, b.weights.b),
                     (a.weights.w, b.weights.w), (a.weights.c, b.weights.c)):  # fmt: skip
            worst = max(worst, float(np.max(np.abs(np.asarray(x) - np.asarray(y)))))
        worst = max(worst, abs(a.loss - b.loss), abs(a.train_acc - b.train_acc))
        if np.isfinite(b.test_acc):
            worst = max(worst, abs(a.test_acc - b.test_acc))
    return worst


CASES = [
    {"train__optimizer": "sgd", "train__batch_size": 16},  # the article's kind of run
    {},  # Adam, full batch
    {"model__kind": "mlp", "model__activation": "relu", "train__batch_size": 32},
    {"model__tied": True, "model__keep_invertible": True, "model__h": 2.0, "train__transport": 0.1},
    {"model__depth": 30, "train__batch_size": 25, "train__weight_decay": 0.01},  # scanned chunks
    {"data__name": "spiral", "data__classes": 3, "model__activation": "leaky_relu"},
]


@pytest.mark.parametrize("changes", CASES, ids=lambda c: ",".join(c) or "default")
def test_every_member_trains_exactly_as_it_does_alone(changes: dict[str, object]) -> None:
    """Members with other seeds, learning rates, h and step counts: each one's snapshots
    (steps, weights, loss, accuracies, status, message) equal its solo run's."""
    base = _cfg(**changes)
    configs = []
    for i, (lr, h) in enumerate([(0.05, 0.3), (0.02, 0.3), (0.05, 0.1), (0.08, 0.2)]):
        c = base.copy()
        c.train.seed, c.train.learning_rate, c.model.h = i, lr, h
        configs.append(c.validate())
    configs[2].train.steps = 40  # a member that ends earlier
    ds = make_dataset(base.data)
    got = ensemble.Ensemble(configs, ds).run()
    worst = 0.0
    for c, g in zip(configs, got, strict=True):
        want = training.Trainer(c, ds).run()
        worst = max(worst, _largest_difference(g, want))
    print(f"largest difference to the solo runs: {worst:.3g}")  # measured: 0 (bit for bit)
    assert worst <= TOL, worst


def test_one_member_diverging_leaves_the_others_untouched() -> None:
    configs = [
        _cfg(train__seed=s, train__optimizer="sgd", model__activation="relu") for s in range(3)
    ]
    configs[1].train.learning_rate = 100.0  # blows up
    ds = make_dataset(configs[0].data)
    got = ensemble.Ensemble(configs, ds).run()
    assert [r.status for r in got] == ["finished", "diverged", "finished"]
    for c, g in zip(configs, got, strict=True):
        assert _largest_difference(g, training.Trainer(c, ds).run()) <= TOL


def test_a_stop_rule_ends_its_member_only() -> None:
    configs = [_cfg(train__seed=s) for s in range(2)]
    configs[0].train.stop_accuracy = 0.5  # reached at the first snapshot after step 0
    ds = make_dataset(configs[0].data)
    got = ensemble.Ensemble(configs, ds).run()
    assert got[0].final.step < configs[0].train.steps
    assert got[1].final.step == configs[1].train.steps
    for c, g in zip(configs, got, strict=True):
        assert _largest_difference(g, training.Trainer(c, ds).run()) <= TOL


def test_members_on_different_data_sets_of_one_size() -> None:
    configs = [_cfg(data__seed=s, train__seed=s, train__batch_size=20) for s in range(3)]
    data = [make_dataset(c.data) for c in configs]
    got = ensemble.Ensemble(configs, data).run()
    for c, d, g in zip(configs, data, got, strict=True):
        assert _largest_difference(g, training.Trainer(c, d).run()) <= TOL


def test_train_many_groups_by_shape_and_keeps_the_order() -> None:
    configs = [_cfg(train__seed=0), _cfg(model__depth=4), _cfg(train__seed=1)]
    data = [make_dataset(c.data) for c in configs]
    got = ensemble.train_many(configs, data)
    for c, d, g in zip(configs, data, got, strict=True):
        assert _largest_difference(g, training.Trainer(c, d).run()) <= TOL
    with pytest.raises(ValueError, match="one structure"):
        ensemble.Ensemble(configs, data)


def test_cancel_ends_every_member_with_a_last_snapshot() -> None:
    configs = [_cfg(train__seed=s, train__steps=100_000) for s in range(2)]
    cancel = threading.Event()
    seen: list[tuple[int, int]] = []

    def on_snapshot(i: int, s: object) -> None:
        seen.append((i, s.step))  # type: ignore[attr-defined]
        if len(seen) >= 6:
            cancel.set()

    got = ensemble.Ensemble(configs, make_dataset(configs[0].data)).run(cancel, on_snapshot)
    assert [r.status for r in got] == ["cancelled", "cancelled"]
    assert all(r.message.startswith("Cancelled at step") for r in got)
    assert all(r.final.step < 100_000 for r in got)


def test_verify_trains_a_presets_seeds_as_one_ensemble_with_unchanged_numbers(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`nndyn verify`'s runs of one shape go into one ensemble; every measured number is
    the one the run measures when it trains alone."""
    from nndyn_gui.core.analysis import claims

    real = claims.load_preset

    def short(name: str) -> RunConfig:
        cfg = real(name)
        cfg.train.steps, cfg.train.snapshot_every = 300, 100
        return cfg

    monkeypatch.setattr(claims, "load_preset", short)
    p = claims.plan(["mlp-w2-ring", "resnet-w2-ring-invertible"], range(3))
    groups: list[int] = []
    real_many = ensemble.train_many

    def counting(configs, datasets, max_members=ensemble.MAX_MEMBERS):  # type: ignore[no-untyped-def]
        groups.append(len(configs))
        return real_many(configs, datasets, max_members)

    monkeypatch.setattr(ensemble, "train_many", counting)
    together = claims.run_plan(p)
    assert sorted(groups) == [3, 3, 3]  # mlp's seeds; the ResNet's seeds; its twin's seeds
    alone = claims.run_plan(p, members=1)
    assert together.keys() == alone.keys()
    for key, a in alone.items():
        t = together[key]
        assert t.status == a.status
        for name, v in a.values.items():
            assert t.values[name] == pytest.approx(v, rel=1e-9, abs=1e-12, nan_ok=True), name
