"""Quick start, live changes and stop conditions of the trainer (what a user sees)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from nndyn_gui.core.config import RunConfig
from nndyn_gui.core.engine import protocol
from nndyn_gui.core.io.limits import SnapshotKeeper
from nndyn_gui.core.train import program
from nndyn_gui.core.train import trainer as training
from nndyn_gui.core.types import Dataset


def blobs(n: int = 200, seed: int = 0) -> Dataset:
    rng = np.random.default_rng(seed)
    y = (np.arange(n) >= n // 2).astype(np.int64)
    x = rng.normal(0.0, 0.15, (n, 2)) + np.where(y[:, None] == 1, 0.5, -0.5) * [1.0, 0.3]
    p = rng.permutation(n)
    x, y = x[p], y[p]
    return Dataset(x[:160], y[:160], x[160:], y[160:])


@pytest.fixture
def cfg(small_config: RunConfig) -> RunConfig:
    return small_config.copy()


@pytest.fixture(autouse=True)
def _no_compile_left() -> Any:
    yield
    assert program.wait_for_compiles(120)


class Tunes:
    """A run's control whose `tune()` hands out `train` at the n-th call; `on_event`
    collects the Tuned events."""

    def __init__(self, at_call: int, train: Any) -> None:
        self.calls = 0
        self.at, self.train = at_call, train
        self.tuned: list[tuple[int, dict[str, Any]]] = []
        self.control = training.Control(tune=self)

    def __call__(self) -> Any:
        self.calls += 1
        return self.train if self.calls == self.at else None

    def on_event(self, e: protocol.Event) -> None:
        if isinstance(e, protocol.Tuned):
            self.tuned.append((e.step, e.changes))


# ---------------------------------------------------------------------- quick start
def test_quick_start_trains_before_the_compile_and_switches(cfg: RunConfig) -> None:
    """A structure never compiled: numpy trains from step 0, the compiled function takes
    over at a later step, and the run learns like one compiled from the start."""
    cfg.model.depth = 7  # a structure no other test compiled
    cfg.train.steps, cfg.train.snapshot_every, cfg.train.steps_per_call = 3000, 500, 100
    program.clear_cache()
    compiled: list[tuple[float, bool, int]] = []
    tr = training.Trainer(cfg, blobs(), quick_start=True)
    assert tr.prepare() and tr.quick  # numpy trains at once

    def on_event(e: protocol.Event) -> None:
        if isinstance(e, protocol.Progress) and e.step >= 500:
            program.wait_for_compiles(120)  # numpy may outrun the compile on a tiny net
        if isinstance(e, protocol.Compiled):
            compiled.append((e.seconds, e.xla, e.step))

    res = tr.run(on_event=on_event)
    assert res.status == "finished" and res.final.step == 3000
    assert compiled and 0 < compiled[0][2] <= 600, "the compiled function took over mid-run"
    assert not tr.quick
    want = training.Trainer(cfg, blobs()).run()
    assert abs(res.final.train_acc - want.final.train_acc) <= 0.02
    np.testing.assert_allclose(res.final.weights.w, want.final.weights.w, rtol=1e-3, atol=1e-4)


def test_quick_start_shows_a_first_snapshot_before_the_first_interval(cfg: RunConfig) -> None:
    """The window gets a trained picture within the first numpy call; the run keeps only
    the snapshot grid (the early one is dropped like any newest off-grid snapshot)."""
    cfg.model.depth = 9
    cfg.train.steps, cfg.train.snapshot_every, cfg.train.steps_per_call = 20000, 20000, 10000
    program.clear_cache()
    seen: list[int] = []
    tr = training.Trainer(cfg, blobs(), quick_start=True)
    control = training.Control()

    def on_event(e: protocol.Event) -> None:
        for s in getattr(e, "snapshots", ()):
            seen.append(s.step)
            if len(seen) == 2:
                control.cancel.set()

    res = tr.run(control, on_event)
    assert seen[0] == 0 and 0 < seen[1] < 20000, seen
    assert res.status == "cancelled"
    kept: list[Any] = []
    keeper = SnapshotKeeper(20000, 100)
    for s in res.snapshots:
        keeper.add(kept, s)
    assert kept[0].step == 0 and len(kept) == 2


def test_a_compiled_structure_starts_compiled_at_once(cfg: RunConfig) -> None:
    """Quick start changes nothing for a structure already compiled: same weights."""
    want = training.Trainer(cfg, blobs()).run()
    tr = training.Trainer(cfg, blobs(), quick_start=True)
    assert not tr.prepare()
    res = tr.run()
    assert np.array_equal(res.final.weights.A, want.final.weights.A)


# ---------------------------------------------------------------------- live changes
def test_a_live_learning_rate_change_takes_effect_at_the_next_call(cfg: RunConfig) -> None:
    cfg.train.steps, cfg.train.snapshot_every, cfg.train.steps_per_call = 200, 50, 25
    faster = cfg.train.__class__(**vars(cfg.train))
    faster.learning_rate = 0.2
    tunes = Tunes(at_call=1, train=faster)  # before the first call: like starting with it
    res = training.Trainer(cfg, blobs()).run(tunes.control, tunes.on_event)
    assert tunes.tuned == [(0, {"learning_rate": (0.05, 0.2)})]
    ref = cfg.copy()
    ref.train.learning_rate = 0.2
    want = training.Trainer(ref, blobs()).run()
    assert np.array_equal(res.final.weights.A, want.final.weights.A)

    late = Tunes(at_call=5, train=faster)  # after 4 calls of 25 steps
    res2 = training.Trainer(cfg, blobs()).run(late.control, late.on_event)
    assert late.tuned == [(100, {"learning_rate": (0.05, 0.2)})]
    assert not np.array_equal(res2.final.weights.A, want.final.weights.A)
    assert [s.step for s in res2.snapshots] == [0, 50, 100, 150, 200]


@pytest.mark.parametrize("quick", [False, True])
def test_a_live_batch_size_change_keeps_training(cfg: RunConfig, quick: bool) -> None:
    """Batch size is part of the compiled function: the run goes on without a gap."""
    cfg.train.steps, cfg.train.snapshot_every, cfg.train.steps_per_call = 400, 100, 50
    smaller = cfg.train.__class__(**vars(cfg.train))
    smaller.batch_size = 32
    tunes = Tunes(at_call=3, train=smaller)
    tr = training.Trainer(cfg, blobs(), quick_start=quick)
    res = tr.run(tunes.control, tunes.on_event)
    assert tunes.tuned == [(100, {"batch_size": (0, 32)})]
    assert res.status == "finished" and [s.step for s in res.snapshots] == [0, 100, 200, 300, 400]
    assert res.final.train_acc > 0.9
    assert tr.config.train.batch_size == 32


def test_fewer_steps_while_training_ends_the_run_there(cfg: RunConfig) -> None:
    cfg.train.steps, cfg.train.snapshot_every, cfg.train.steps_per_call = 1000, 100, 30
    shorter = cfg.train.__class__(**vars(cfg.train))
    shorter.steps = 50
    tunes = Tunes(at_call=4, train=shorter)  # at step 90
    res = training.Trainer(cfg, blobs()).run(tunes.control, tunes.on_event)
    assert res.status == "finished" and res.final.step == 90
    assert res.message == "Finished 90 steps."


# ---------------------------------------------------------------------- stop conditions
def test_stops_when_the_accuracy_target_is_reached(cfg: RunConfig) -> None:
    cfg.train.steps, cfg.train.snapshot_every = 5000, 10
    cfg.train.stop_accuracy = 0.95
    res = training.Trainer(cfg, blobs()).run()
    assert res.status == "finished" and res.final.step < 5000
    assert res.final.train_acc >= 0.95
    assert res.final.step > 0  # the untrained net never counts
    assert all(s.train_acc < 0.95 for s in res.snapshots[1:-1])
    assert "training accuracy" in res.message and "target 95%" in res.message
    assert f"step {res.final.step:,}" in res.message


def test_stops_when_the_loss_target_is_reached(cfg: RunConfig) -> None:
    cfg.train.steps, cfg.train.snapshot_every = 5000, 10
    cfg.train.stop_loss = 0.2
    res = training.Trainer(cfg, blobs()).run()
    assert res.final.step < 5000 and res.final.loss <= 0.2
    assert "the loss" in res.message and "target 0.2" in res.message


def test_stops_on_a_plateau(cfg: RunConfig) -> None:
    cfg.train.steps, cfg.train.snapshot_every = 5000, 50
    cfg.train.learning_rate = 1e-6  # the loss hardly moves
    cfg.train.stop_plateau = 200
    res = training.Trainer(cfg, blobs()).run()
    assert res.final.step == 200
    assert "not improved" in res.message and "stop plateau 200" in res.message
