"""The claims suite: each preset's sentences as predicates, checked by real training."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import numpy as np
import pytest

from nndyn_gui.core import claims
from nndyn_gui.core.claims import (
    METRICS,
    ClaimError,
    Measured,
    evaluate,
    format_markdown,
    format_text,
    load_claims,
    mean_step,
    parse_claims,
    path_length,
    step_turning,
    verify,
    verify_preset,
)
from nndyn_gui.core.config import RunConfig
from nndyn_gui.core.datasets import make_dataset
from nndyn_gui.core.presets import preset_names
from nndyn_gui.core.types import NetWeights

ROOT = Path(__file__).resolve().parents[2]


def test_every_preset_makes_measurable_claims() -> None:
    for name in preset_names():
        pc = load_claims(name)
        assert len(pc.checks) >= 2, name
        sentences = [c.claim for c in pc.checks]
        assert len(set(sentences)) == len(sentences), name  # one table row per sentence


def test_science_md_carries_the_table_of_every_claim() -> None:
    """The docs show what `nndyn verify --markdown` prints: every preset, every claim."""
    text = (ROOT / "docs" / "science.md").read_text(encoding="utf-8")
    for name in preset_names():
        for c in load_claims(name).checks:
            row = re.compile(
                r"^\| `" + re.escape(name) + r"` \| " + re.escape(c.claim.replace("|", "\\|")),
                re.M,
            )
            assert row.search(text), (name, c.claim)
    assert "| NO |" not in text  # the table in the docs holds on every seed


@pytest.mark.parametrize(
    ("obj", "message"),
    [
        ({"checks": [{"claim": "x", "metric": "nope", "op": ">=", "value": 1}]}, "unknown metric"),
        ({"checks": [{"claim": "x", "metric": "winding", "op": "~", "value": 1}]}, "unknown op"),
        (
            {"checks": [{"claim": "x", "metric": "winding", "op": "==", "twin": "t"}]},
            "unknown twin",
        ),
        ({"checks": [{"claim": "x", "metric": "winding", "op": "=="}]}, "either 'value' or 'twin'"),
        ({"checks": [{"metric": "winding", "op": "==", "value": 1}]}, "'claim' sentence"),
        ({"checks": "all"}, "'checks' list"),
    ],
)
def test_malformed_claims_are_named(obj: dict, message: str) -> None:
    with pytest.raises(ClaimError, match=message):
        parse_claims("p", obj)


def test_step_turning_and_path_length_of_smooth_and_zigzag_paths() -> None:
    def arc(n: int) -> np.ndarray:
        t = np.linspace(0, np.pi / 2, n + 1)
        return np.stack([np.cos(t), np.sin(t)], axis=1)[:, None, :]  # (T+1, 1, 2)

    coarse, fine = arc(10), arc(100)
    assert step_turning(coarse) == pytest.approx(np.pi / 20, rel=1e-6)  # 90 deg in 10 steps
    assert step_turning(fine) == pytest.approx(step_turning(coarse) / 10, rel=1e-3)
    assert path_length(fine) == pytest.approx(np.pi / 2, rel=1e-4)
    zig = np.zeros((21, 1, 2))
    zig[:, 0, 0] = np.arange(21)
    zig[1::2, 0, 1] = 1.0  # 45 deg up, 45 deg down: turns by 90 deg at every step
    assert step_turning(zig) == pytest.approx(np.pi / 2)
    assert mean_step(zig) == pytest.approx(np.sqrt(2))


def test_a_false_claim_is_reported_per_seed(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without TensorFlow: a fake trainer returns the identity flow, a claim checks it."""
    cfg = RunConfig()
    cfg.model.width, cfg.model.depth = 2, 3
    obj = {
        "twins": {"wider": {"set": {"model.width": 3}}},
        "checks": [
            {
                "claim": "Dense accuracy at least 99 %",
                "metric": "dense_accuracy",
                "op": ">=",
                "value": 0.99,
            },
            {"claim": "The loop still winds once", "metric": "winding", "op": "==", "value": 1},
            {
                "claim": "Transport below the twin's",
                "metric": "transport",
                "op": "<=",
                "twin": "wider",
                "factor": 0.5,
            },
        ],
    }
    monkeypatch.setattr(claims, "load_preset", lambda name: cfg.copy())
    monkeypatch.setattr(claims, "preset_claims", lambda name: obj)

    def identity(c: RunConfig, ds: object) -> tuple[NetWeights, float, float, str]:
        d, t = c.model.width, c.model.depth
        w = NetWeights(np.zeros((t, d, d)), np.zeros((t, d)), np.eye(d)[0], 0.0)
        return w, 0.5, 0.5, "finished"

    results = verify_preset("fake", [0, 1], train=identity)
    dense, winding, transport = results
    assert dense.holds == [False, False] and not dense.all_hold
    assert 0.3 < dense.values[0] < 0.7  # the line x1 = 0 gets about half the ring right
    assert winding.values == [1.0, 1.0] and winding.all_hold
    assert transport.values == [0.0, 0.0] and transport.all_hold  # 0 <= 0.5 x 0
    text = format_text(results)
    assert "0 vs 0" in text  # a twin comparison shows both sides
    assert "NO" in text and "✗" in text and "seed 1" in text
    md = format_markdown(results)
    assert md.splitlines()[0].startswith("| preset | claim |") and "| `fake` |" in md
    d = results[1].to_dict()
    assert d["rule"] == "winding == 1" and d["all_hold"] and d["values"] == [1.0, 1.0]


def test_undetermined_winding_never_holds() -> None:
    cfg = RunConfig()
    cfg.model.kind, cfg.model.width, cfg.model.depth, cfg.model.activation = "mlp", 2, 1, "relu"
    ds = make_dataset(cfg.data)
    w = NetWeights(np.eye(2)[None], np.zeros((1, 2)), np.ones(2), 0.0)  # the centre hits the loop
    m = Measured(cfg.validate(), ds, w, 0.5, 0.5, "finished")
    pc = parse_claims(
        "p",
        {
            "checks": [
                {"claim": "Winds 0", "metric": "winding", "op": "==", "value": 0},
                {"claim": "Winds not 1", "metric": "winding", "op": "!=", "value": 1},
            ]
        },
    )
    (v0, _, ok0), (v1, _, ok1) = evaluate(pc, {"main": m})
    assert math.isnan(v0) and math.isnan(v1) and not ok0 and not ok1


@pytest.mark.slow
def test_fast_presets_keep_their_claims_with_real_training() -> None:
    """The quick subset of `nndyn verify` (width-2 MLP, a second each once compiled)."""
    results = verify(["mlp-w2-ring", "mlp-w3-spiral"], seeds=[0])
    failed = [(r.preset, r.claim, r.values) for r in results if not r.all_hold]
    assert not failed
    assert {r.preset for r in results} == {"mlp-w2-ring", "mlp-w3-spiral"}
    json.dumps([r.to_dict() for r in results], allow_nan=False)
    assert set(METRICS) >= {"dense_accuracy", "winding", "transport", "step_turning"}


def test_a_loop_claim_on_a_k_class_preset_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    """The loop test does not apply to K classes: a preset cannot claim its numbers."""
    cfg = RunConfig().with_set("data.name=spiral").with_set("data.classes=3")
    monkeypatch.setattr(claims, "load_preset", lambda name: cfg.copy())
    monkeypatch.setattr(
        claims,
        "preset_claims",
        lambda name: {"checks": [{"claim": "w", "metric": "winding", "op": "==", "value": 1}]},
    )
    with pytest.raises(ClaimError, match="winding is not applicable with 3 classes"):
        load_claims("k3")
