"""The Ensemble window's numbers and caption: measured per member, the caption built
from them alone (never a fixed sentence)."""

from __future__ import annotations

import math

from nndyn_gui.core.analysis.ensemble_facts import (
    MemberFacts,
    caption,
    is_ring,
    measure_member,
    spread,
)
from nndyn_gui.core.config import RunConfig
from nndyn_gui.core.datasets import make_dataset
from nndyn_gui.core.net.initial_weights import initial_weights
from nndyn_gui.core.types import Snapshot, TrainResult


def _ring() -> RunConfig:
    cfg = RunConfig()
    cfg.data.name, cfg.data.n = "ring", 200
    cfg.model.width, cfg.model.depth, cfg.model.h = 2, 4, 0.5
    return cfg.validate()


def _facts(seed: int, test: float, winding: int | None, step: int = 200, status: str = "finished"):
    note = "" if winding is not None else "the loop's image passes too close to the centre's"
    return MemberFacts(seed, step, status, test + 0.01, test, winding, note, 0.1)


def test_the_caption_counts_what_was_measured() -> None:
    cfg = _ring()
    facts = [_facts(4, 0.6, 1), _facts(5, 0.9, 0), _facts(6, 0.75, 1)]
    text = caption(cfg, facts)
    assert text == (
        "3 initialisations (init seeds 4–6) of ResNet, width 2, depth 4, ring, each at its "
        "final snapshot (step 200): test accuracy 60.0%–90.0%; the outer loop's image winds "
        "around the centre's image in 2 of 3."
    )
    other = caption(cfg, [_facts(4, 0.6, 0), _facts(5, 0.6, 0)])
    assert "in 0 of 2" in other and "test accuracy 60.0%;" in other


def test_undetermined_windings_diverged_members_and_other_steps_are_said() -> None:
    facts = [_facts(0, 0.6, 1), _facts(1, 0.5, None, step=80, status="diverged")]
    text = caption(_ring(), facts)
    assert "(steps 80–200)" in text
    assert "winds around the centre's image in 1 of 1 (1 undetermined)" in text
    assert text.endswith("(1 diverged).")


def test_no_winding_words_without_a_ring() -> None:
    cfg = _ring()
    cfg.data.name, cfg.data.classes = "spiral", 3
    assert not is_ring(cfg.validate())
    text = caption(cfg, [_facts(0, 0.6, None), _facts(1, 0.7, None)])
    assert "wind" not in text and "3 classes" in text


def test_spread_ignores_what_was_not_measured() -> None:
    assert spread([1, None, 3, math.nan, 2]) == {"min": 1.0, "median": 2.0, "max": 3.0}
    assert all(math.isnan(v) for v in spread([None]).values())


def test_a_member_is_measured_at_its_final_snapshot() -> None:
    cfg = _ring()
    ds = make_dataset(cfg.data)
    snaps = [
        Snapshot(0, 0.7, 0.5, 0.5, initial_weights(cfg.model, 0)),
        Snapshot(150, 0.4, 0.8, 0.75, initial_weights(cfg.model, 3)),
    ]
    f = measure_member(cfg, TrainResult("finished", snaps), ds)
    assert (f.step, f.train_acc, f.test_acc, f.status) == (150, 0.8, 0.75, "finished")
    assert f.winding == 1  # a small ResNet is a homeomorphism: the loop winds once
    assert f.transport > 0 and math.isfinite(f.transport)
    empty = measure_member(cfg, TrainResult("diverged", []), ds)
    assert empty.winding is None and math.isnan(empty.test_acc)
