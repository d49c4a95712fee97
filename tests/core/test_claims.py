"""The claims suite: each preset's sentences as predicates, checked by real training."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import numpy as np
import pytest

from nndyn_gui.core.analysis import claims
from nndyn_gui.core.analysis.claim_results import format_markdown, format_text
from nndyn_gui.core.analysis.claim_spec import ClaimError, parse_claims
from nndyn_gui.core.analysis.claims import evaluate, load_claims, verify, verify_preset
from nndyn_gui.core.analysis.metrics import METRICS, Measured, mean_step, path_length, step_turning
from nndyn_gui.core.config import RunConfig
from nndyn_gui.core.datasets import make_dataset
from nndyn_gui.core.io.presets import preset_names
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
    assert "| NO" not in text  # every claim in the docs' table holds


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
        (
            {"checks": [{"claim": "x", "metric": "winding", "op": "==", "value": 0, "share": 0}]},
            "'share'",
        ),
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


def test_verify_checks_at_least_8_seeds_by_default() -> None:
    """A claim is a statistic over >= 8 seeds: the default of `nndyn verify` and of
    core.analysis.claims.verify, and the seed columns of the table in docs/science.md."""
    import inspect

    from nndyn_gui.cli import verify as cli

    assert len(claims.DEFAULT_SEEDS) >= 8 and len(set(claims.DEFAULT_SEEDS)) == len(
        claims.DEFAULT_SEEDS
    )
    assert inspect.signature(verify).parameters["seeds"].default == claims.DEFAULT_SEEDS
    assert cli.DEFAULT_VERIFY_SEEDS == claims.DEFAULT_SEEDS
    text = (ROOT / "docs" / "science.md").read_text(encoding="utf-8")
    header = next(line for line in text.splitlines() if line.startswith("| preset | claim |"))
    assert header.count("| seed ") >= 8


def test_a_run_two_presets_share_is_trained_once() -> None:
    """init-a at offset s is resnet-w3-ring at s + 1 and init-b's twin; the spiral3
    presets are each other's twins: 8 seeds of the three ring presets are 10 runs."""
    p = claims.plan(["resnet-w3-ring", "resnet-w3-ring-init-a", "resnet-w3-ring-init-b"], range(8))
    assert len(p.configs) == 10
    assert sorted(c.train.seed for c in p.configs.values()) == list(range(10))
    assert p.uses[("resnet-w3-ring-init-a", 0)]["main"] == p.uses[("resnet-w3-ring", 1)]["main"]
    q = claims.plan(["resnet-w2-spiral3", "resnet-w3-spiral3"], [0, 1])
    assert len(q.configs) == 4
    # a twin that differs in one setting is a run of its own
    r = claims.plan(["resnet-w2-ring-invertible"], [0])
    assert len(r.configs) == 2


def test_untied_needs_winding_0_and_nothing_of_the_loop_on_the_wrong_side() -> None:
    """Winding 0 with 4 % of the loop on the wrong side (seen in width 3) is not untied."""
    from nndyn_gui.core.analysis.topology import TopologyReport

    cfg = RunConfig().validate()
    ds = make_dataset(cfg.data)
    w = NetWeights(np.zeros((1, 2, 2)), np.zeros((1, 2)), np.ones(2), 0.0)

    def untied(winding: int | None, share: float) -> float:
        m = Measured(cfg, ds, w, 1.0, 1.0, "finished")
        m._topo = TopologyReport(
            winding=winding,
            wrong_side_share=share,
            dense_accuracy=0.975,
            loop_traj=np.zeros((2, 4, 2)),
            crossing_mask=np.zeros(4, bool),
            inner_traj=np.zeros((2, 2)),
            projected=True,
            plane=np.eye(2),
            inner_class=0,
        )
        m._topo_done = True
        return METRICS["untied"].fn(m)

    assert untied(0, 0.0) == 1.0
    assert untied(0, 0.04) == 0.0  # the loop test's winding alone would call this untied
    assert untied(1, 0.0) == 0.0
    assert math.isnan(untied(None, 0.0))


def _fake_results(monkeypatch: pytest.MonkeyPatch, obj: dict, values: list[float]) -> list:
    """verify over len(values) seeds with a fake trainer whose train accuracy is values[s]."""
    cfg = RunConfig()
    cfg.model.width, cfg.model.depth = 2, 1
    monkeypatch.setattr(claims, "load_preset", lambda name: cfg.copy())
    monkeypatch.setattr(claims, "preset_claims", lambda name: obj)

    def fake(c: RunConfig, ds: object) -> tuple[NetWeights, float, float, str]:
        w = NetWeights(np.zeros((1, 2, 2)), np.zeros((1, 2)), np.eye(2)[0], 0.0)
        return w, values[c.train.seed], 0.5, "finished"

    return verify_preset("fake", range(len(values)), train=fake)


def test_a_share_claim_holds_on_its_share_of_the_seeds_and_not_on_fewer(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """ "On at least half of the seeds": 4 of 8 hold, 3 of 8 do not; the table says how many."""
    obj = {
        "checks": [
            {
                "claim": "Trains at least 99% on half the seeds",
                "metric": "train_acc",
                "op": ">=",
                "value": 0.99,
                "share": 0.5,
            }
        ]
    }
    (half,) = _fake_results(monkeypatch, obj, [1.0] * 4 + [0.9] * 4)
    assert half.all_hold and half.held == 4 and half.needed == 4
    assert half.verdict() == "yes (4 of 8)" and half.rule.endswith("on >= 50% of seeds")
    (fewer,) = _fake_results(monkeypatch, obj, [1.0] * 3 + [0.9] * 5)
    assert not fewer.all_hold and fewer.verdict() == "NO (3 of 8)"
    assert "NO (3 of 8)" in format_markdown([fewer])
    every = dict(obj["checks"][0])
    del every["share"]
    (strict,) = _fake_results(monkeypatch, {"checks": [every]}, [1.0] * 7 + [0.9])
    assert not strict.all_hold and strict.to_dict()["needed"] == 8


NUMBER = re.compile(r"(\d+(?:\.\d+)?)\s*(%|points? (?:fewer|more|lower|higher))")


def test_every_number_a_description_gives_is_a_checked_bound() -> None:
    """A description says only what the checks measure: each "N%" or "N point(s) more /
    fewer" in it is the bound of one of the preset's checks (a value, or a twin offset)."""
    from nndyn_gui.core.io.presets import list_presets

    for info in list_presets():
        bounds = set()
        for c in load_claims(info.name).checks:
            if c.value is not None:
                bounds.add(round(100 * c.value, 6))
            if c.offset:
                bounds.add(round(100 * abs(c.offset), 6))
        for number, unit in NUMBER.findall(info.description):
            assert round(float(number), 6) in bounds, (info.name, number + unit, bounds)


def _script(name: str):
    import importlib.util

    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _between(text: str, start: str, end: str) -> str:
    return text.split(start, 1)[1].split(end, 1)[0].strip("\n")


def test_the_sweep_example_in_the_docs_is_computed_from_its_csv() -> None:
    """Every number of docs/sweeps.md §5 comes from the results file by the script (a hand
    edit, or a new CSV without rerunning the script, fails here)."""
    import csv

    mod = _script("update_sweep_doc")
    with mod.CSV.open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    text = mod.DOC.read_text(encoding="utf-8")
    assert _between(text, mod.START, mod.END) == mod.body(rows)
    assert "then nothing more" not in text and "in every run" not in text


def test_the_statistics_in_science_md_are_computed_from_the_measured_file() -> None:
    """The statistics table of §11 is what the script makes of docs/measured/ (its seeds
    named), and it covers >= 8 seeds."""
    mod = _script("update_claims_table")
    doc = json.loads((ROOT / "docs" / "measured" / "presets-0-7.json").read_text("utf-8"))
    assert len(doc["seeds"]) >= 8
    text = (ROOT / "docs" / "science.md").read_text(encoding="utf-8")
    assert _between(text, mod.STATS_START, mod.STATS_END) == mod.stats_table(doc)
    assert "Over seed offsets 0–7 (8 seeds" in text


def test_verify_json_read_back_gives_the_same_table(monkeypatch: pytest.MonkeyPatch) -> None:
    """The docs' table is made from the saved `nndyn verify --json`: it must read back to
    the very table `--markdown` prints (values, ✗ marks, share verdicts)."""
    obj = {
        "checks": [
            {"claim": "Half", "metric": "train_acc", "op": ">=", "value": 0.99, "share": 0.5},
            {"claim": "All", "metric": "train_acc", "op": ">=", "value": 0.95},
        ]
    }
    results = _fake_results(monkeypatch, obj, [1.0, 0.9, 1.0, 0.97])
    back = [claims.CheckResult.from_dict(json.loads(json.dumps(r.to_dict()))) for r in results]
    assert format_markdown(back) == format_markdown(results)
    assert "yes (2 of 4)" in format_markdown(back) and "90.00% ✗" in format_markdown(back)


def test_verify_seeds_take_lists_and_ranges() -> None:
    from nndyn_gui.cli import verify as cli

    assert cli.verify_seeds("40-47") == list(range(40, 48))
    assert cli.verify_seeds("0-2,9,1") == [0, 1, 2, 9]
    for bad in ("", "a", "3-x", "-1"):
        with pytest.raises(cli.CliError):
            cli.verify_seeds(bad)


def test_topology_forces_the_loop_or_the_centre_onto_the_wrong_side_not_the_loop() -> None:
    """With the centre on the wrong side the whole loop may be right (mlp-w2-ring, seed
    4001): the forced claim is 'loop or centre', and `centre_right` says which."""
    from nndyn_gui.core.analysis.topology import TopologyReport

    cfg = RunConfig().validate()
    ds = make_dataset(cfg.data)
    w = NetWeights(np.zeros((1, 2, 2)), np.zeros((1, 2)), np.ones(2), 0.0)  # class 1: x+y >= 0

    def measured(centre: tuple[float, float], share: float) -> Measured:
        m = Measured(cfg, ds, w, 1.0, 1.0, "finished")
        m._topo = TopologyReport(
            winding=1,
            wrong_side_share=share,
            dense_accuracy=0.9,
            loop_traj=np.zeros((2, 4, 2)),
            crossing_mask=np.zeros(4, bool),
            inner_traj=np.array([[0.0, 0.0], centre]),
            projected=False,
            plane=np.eye(2),
            inner_class=0,
        )
        m._topo_done = True
        return m

    def value(name: str, m: Measured) -> float:
        return METRICS[name].fn(m)

    right, wrong = (-1.0, -1.0), (1.0, 1.0)
    assert value("centre_right", measured(right, 0.1)) == 1.0
    assert value("centre_right", measured(wrong, 0.0)) == 0.0
    assert value("loop_or_centre_wrong", measured(right, 0.1)) == 1.0
    assert value("loop_or_centre_wrong", measured(wrong, 0.0)) == 1.0  # the centre is wrong
    assert value("loop_or_centre_wrong", measured(right, 0.0)) == 0.0  # would break topology
