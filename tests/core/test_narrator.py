"""Every sentence the narrator makes is checked against a measurement of the same weights.

The walk covers MLP/ResNet x width 2/3 x K 2/3 x tied or not x kept invertible or not x
untrained/trained ("trained": 150 numpy steps of core.train.quickstep, no TensorFlow), and
measures independently what the words claim: h‖A_k‖₂Lip(s) by an SVD here, the winding
by a plain angle sum over the loop here, untrained by the snapshot.
"""

from __future__ import annotations

import itertools
import math
from types import SimpleNamespace

import numpy as np
import pytest

from nndyn_gui.core.analysis import comparison, narrator
from nndyn_gui.core.analysis.diagnostics import diagnose
from nndyn_gui.core.analysis.topology import topology_report, winding_number
from nndyn_gui.core.config import RunConfig
from nndyn_gui.core.datasets import make_dataset
from nndyn_gui.core.io.presets import load_preset, preset_title
from nndyn_gui.core.net.flow import embed
from nndyn_gui.core.net.initial_weights import initial_weights
from nndyn_gui.core.net.maths import activation_lipschitz
from nndyn_gui.core.train.quickstep import Stepper, Structure
from nndyn_gui.core.train.stepper import Hyper, State
from nndyn_gui.core.types import NetWeights

SPACE = list(itertools.product(("mlp", "resnet"), (2, 3), (2, 3), (False, True), (False, True)))


def _config(kind: str, width: int, k: int, tied: bool, bound: bool) -> RunConfig:
    cfg = RunConfig()
    cfg.data.name, cfg.data.n, cfg.data.classes = ("ring", 300, 2) if k == 2 else ("rings", 300, k)
    m = cfg.model
    m.kind, m.width, m.depth, m.h, m.tied = kind, width, 6, 0.4, tied
    m.keep_invertible, m.init_scale = bound, 2.0
    return cfg.validate()


def _trained(cfg: RunConfig, w0: NetWeights, steps: int = 150) -> NetWeights:
    """`steps` full-batch Adam steps in numpy (the trainer's quick start), as weights."""
    m, ds = cfg.model, make_dataset(cfg.data)
    st = Structure(m.kind, m.activation, m.width, m.depth, m.tied, m.keep_invertible, "adam", 0,
                   False, cfg.data.classes)  # fmt: skip
    x_tr, x_te = embed(ds.x_train, m.width), embed(ds.x_test, m.width)
    a, b = (w0.A[0], w0.b[0]) if m.tied else (w0.A, w0.b)
    params = [a.copy(), b.copy(), np.array(w0.w, dtype=float), np.array(w0.c, dtype=float)]
    state = State(params, [[np.zeros_like(p) for p in params] for _ in range(2)])
    stepper = Stepper(st, x_tr, ds.y_train, x_te, ds.y_test, state)
    hyper = Hyper(learning_rate=0.05, h=m.h, weight_decay=0.0, transport=0.0,
                  bound=m.invertible_bound)  # fmt: skip
    stepper.fused(None, steps, hyper)
    a, b, w, c = state.params
    if m.tied:
        a, b = np.repeat(a[None], m.depth, axis=0), np.repeat(b[None], m.depth, axis=0)
    return NetWeights(A=a, b=b, w=w, c=float(c) if cfg.data.classes == 2 else c)


def _max_lip(cfg: RunConfig, w: NetWeights) -> float:
    """max_k (h)·‖A_k‖₂·Lip(s), measured here by an SVD."""
    h = cfg.model.h if cfg.model.kind == "resnet" else 1.0
    norms = np.linalg.svd(w.A, compute_uv=False)[:, 0]
    return float(h * norms.max() * activation_lipschitz(cfg.model.activation))


def _plain_winding(rep) -> int:
    """The loop's winding around the centre in the report's plane, by a plain angle sum."""
    loop = rep.loop_traj[-1] @ rep.plane.T
    return winding_number(loop, rep.inner_traj[-1] @ rep.plane.T)


def _walk():
    for (kind, width, k, tied, bound), trained in itertools.product(SPACE, (False, True)):
        cfg = _config(kind, width, k, tied, bound)
        w = initial_weights(cfg.model, cfg.train.seed, k)
        if trained:
            w = _trained(cfg, w)
        yield cfg, w, trained


@pytest.fixture(scope="module")
def walked():
    out = []
    for cfg, w, trained in _walk():
        diag = diagnose(cfg, w, make_dataset(cfg.data))
        rep = topology_report(cfg, w, n_loop=400, n_dense=2000)
        out.append((cfg, w, trained, diag, rep))
    return out


def test_every_sentence_of_the_walk_holds_for_its_weights(walked) -> None:
    seen: set[str] = set()
    for cfg, w, trained, diag, rep in walked:
        m = cfg.model
        where = f"{m.kind} d={m.width} K={cfg.data.classes} tied={m.tied} bound="
        where += f"{m.keep_invertible} trained={trained}"
        facts = narrator.facts(cfg, diag, rep, trained=trained)
        lip = _max_lip(cfg, w)
        verdict = narrator.verdict(cfg, diag)
        assert narrator.check(verdict, facts) == [], (where, verdict)
        if "the ResNet is invertible" in verdict.text:
            assert m.kind == "resnet" and lip < 1.0, (where, lip)
            seen.add("invertible")
        if "violates" in verdict.text or "folds the plane" in verdict.text:
            assert m.kind == "resnet" and lip >= 1.0, (where, lip)
            seen.add("not proved")
        if m.kind == "resnet" and m.keep_invertible and trained:
            assert lip <= m.invertible_bound + 1e-9  # what "bound" means, measured
            assert "the ResNet is invertible" in verdict.text
        if cfg.data.classes != 2:
            assert rep is None
            continue
        text = narrator.topology(cfg, diag, rep, trained=trained)
        assert narrator.check(text, facts) == [], (where, text)
        t = text.text
        if rep.winding is not None:
            assert _plain_winding(rep) == rep.winding, where
        if "still winds" in t:
            assert rep.winding != 0 and _plain_winding(rep) != 0, where
            seen.add("winds")
        if "no longer winds" in t:
            assert rep.winding == 0, where
        if "cannot untie" in t:
            assert m.width == 2 and diag.all_invertible, where
            if m.kind == "resnet":
                assert lip < 1.0, (where, lip)
            seen.add("cannot untie")
        if "could untie" in t or "can untie" in t:
            assert m.width >= 3, where
            seen.add("width 3 can untie")
        if "initial weights" in t:
            assert not trained, where
        if "which is untied" in t:
            assert rep.winding == 0 and rep.wrong_side_share <= narrator.UNTIED_WRONG_SHARE
        assert "keeps the loop around the inner class" not in t  # the old width-3 falsehood
        if m.width >= 3:
            assert "in the head's plane" in t and "Winding measured in a 2-D projection" in t
    # the walk met the sentences that matter, so the checks above were not vacuous
    assert {"invertible", "not proved", "winds", "cannot untie", "width 3 can untie"} <= seen


def _rep(winding, share, projected=True):
    return SimpleNamespace(
        winding=winding,
        winding_reason="the image of the loop passes within 1e-12 of the centre's image",
        wrong_side_share=share,
        dense_accuracy=0.97,
        projected=projected,
    )


def test_winding_zero_with_loop_on_the_wrong_side_is_not_called_untied() -> None:
    cfg = _config("resnet", 3, 2, False, False)
    s = narrator.topology(cfg, None, _rep(0, 0.04))
    assert "not fully untied" in s.text and "4.0%" in s.text and "which is untied" not in s.text
    assert narrator.check(s, narrator.facts(cfg, rep=_rep(0, 0.04))) == []
    s = narrator.topology(cfg, None, _rep(0, 0.0))
    assert "which is untied" in s.text
    # a sentence whose needs do not hold is caught by check
    assert narrator.check(s, narrator.facts(cfg, rep=_rep(0, 0.04))) == ["untied"]


def test_width_two_winding_zero_names_a_layer_that_is_not_one_to_one() -> None:
    cfg = _config("mlp", 2, 2, False, False)
    s = narrator.topology(cfg, SimpleNamespace(all_invertible=False), _rep(0, 0.3, False))
    assert "some layer is not one-to-one" in s.text


def test_undetermined_winding_says_no_number() -> None:
    cfg = _config("resnet", 3, 2, False, False)
    s = narrator.topology(cfg, None, _rep(None, 0.1))
    assert "undetermined" in s.text and "winds 1" not in s.text and "winding 0" not in s.text


def test_untrained_width_three_says_training_can_still_untie_it() -> None:
    """The default screen (resnet-w3-ring, untrained): the old words said an invertible
    flow keeps the loop, false in width 3."""
    cfg = load_preset("resnet-w3-ring")
    w = initial_weights(cfg.model, cfg.train.seed)
    diag = diagnose(cfg, w, make_dataset(cfg.data))
    rep = topology_report(cfg, w, n_loop=400, n_dense=2000)
    s = narrator.topology(cfg, diag, rep, trained=False)
    assert diag.all_invertible and rep.winding == 1
    assert "initial weights" in s.text and "training can untie the ring" in s.text
    assert "keeps the loop" not in s.text and "cannot untie" not in s.text


# ---------------------------------------------------------------------- titles
def test_a_preset_keeps_its_title_only_while_unedited() -> None:
    cfg = load_preset("resnet-w3-ring")
    assert narrator.run_title(cfg) == preset_title("resnet-w3-ring")
    # fields that never change what is computed keep the preset
    same = cfg.with_set("train.snapshot_every=10").with_set("train.steps_per_call=7")
    assert narrator.run_title(same) == preset_title("resnet-w3-ring")
    edited = cfg.with_set("model.width=2")
    title = narrator.run_title(edited)
    assert title == "ResNet, width 2, depth 51, ring (edited from resnet-w3-ring)"
    assert "width 3" not in title and "lifted" not in title
    assert narrator.edit_summary(edited) == "Width d 3 → 2"
    assert narrator.run_title(cfg.with_set("train.seed=4")) != preset_title("resnet-w3-ring")
    # with a stop rule on, snapshots decide when training stops: their spacing matters
    stop = cfg.with_set("train.stop_loss=0.1")
    assert narrator.edits(stop.with_set("train.snapshot_every=10"), stop) == [
        "train.snapshot_every"
    ]


def test_own_titles_and_untitled_runs() -> None:
    cfg = RunConfig()
    assert narrator.run_title(cfg) == "ResNet, width 3, depth 10, ring"
    cfg.title = "my lecture run"
    assert narrator.run_title(cfg) == "my lecture run"
    k3 = RunConfig().with_set("data.name=spiral").with_set("data.classes=3")
    assert narrator.config_title(k3.with_set("model.kind=mlp")) == (
        "MLP, width 3, depth 10, spiral, 3 classes"
    )


def test_each_half_of_a_comparison_has_its_own_title() -> None:
    a = load_preset("resnet-w3-ring")
    b = a.with_set("model.width=2")
    top, half_a, half_b = comparison.compare_titles(a, b)
    assert half_a.startswith(preset_title("resnet-w3-ring"))
    assert "width 2" in half_b and "lifted" not in half_b
    assert top == "Two runs: Width d 3 vs 2"
    top, half_a, half_b = comparison.compare_titles(a, a.with_set("train.seed=1"))
    assert top == "ResNet, width 3, depth 51, ring: two initialisations"
    assert half_b.endswith("seed 1") and "lifted" not in half_b


def test_projection_note_names_the_boundary_only_where_it_is_drawn() -> None:
    drawn = narrator.projection_note(5, 0.9, 2, exact=True, drawn=True)
    inner = narrator.projection_note(5, 0.9, 2, exact=True, drawn=False)
    assert "exact boundary" in drawn.text and "exact" not in inner.text
    f = narrator.Facts("resnet", 5, 2, boundary_drawn=False)
    assert narrator.check(drawn, f) == ["boundary_drawn"] and narrator.check(inner, f) == []


def test_all_layers_caption_says_how_the_tiles_are_drawn() -> None:
    followed = narrator.sheet_caption(True, True)
    default = narrator.sheet_caption(True, False)
    assert "main 3-D view's camera" in followed.text
    assert "camera sees" not in default.text and "default camera" in default.text
    flat = narrator.sheet_caption(False, False, "p: the line is the exact boundary", "p")
    assert flat.text == "2-D view: p"  # no output tile: no boundary named
    both = narrator.sheet_caption(
        False, False, "p: the line is the exact boundary", "p", True, True
    )
    assert "exact boundary (drawn in the output panel)" in both.text and "x1, x2" in both.text


def test_is_trained_reads_the_snapshot() -> None:
    assert not narrator.is_trained(SimpleNamespace(step=0, loss=math.nan))
    assert narrator.is_trained(SimpleNamespace(step=0, loss=0.7))
    assert narrator.is_trained(SimpleNamespace(step=200, loss=0.1))


def test_diverged_weights_are_called_diverged_not_a_violated_bound() -> None:
    for kind in ("resnet", "mlp"):
        cfg = _config(kind, 2, 2, False, False)
        w = initial_weights(cfg.model, 0)
        w.A[2, 0, 0] = np.inf
        diag = diagnose(cfg, w, make_dataset(cfg.data))
        s = narrator.verdict(cfg, diag)
        assert "not finite" in s.text and "diverged" in s.text and s.level == "bad", s
        assert "violates" not in s.text and "nan" not in s.text
        assert narrator.check(s, narrator.facts(cfg, diag)) == []


# ---------------------------------------------------------------------- two runs
def _measured(cfg: RunConfig, seed: int, acc: float, n: int, step: int = 1000, **kw):
    c = cfg.copy()
    c.train.seed = seed
    return comparison.Measured(c.validate(), step, acc, n, **kw)


LOOPS = {  # (winding, wrong-side share, measured)
    "not measured": (None, math.nan, False),
    "undetermined": (None, 0.02, True),
    "untied": (0, 0.004, True),
    "winding 0, 4% wrong": (0, 0.04, True),
    "winds": (1, 0.0, True),
}


def test_the_comparison_of_two_runs_is_worded_from_their_numbers() -> None:
    """Every sentence of Compare's verdict holds for the numbers it was made from: a gap
    in test accuracy is a difference only beyond 2 sampling errors (computed here from
    the accuracies and the test-set size), put down to the start only when the seed is
    all that differs and both finished at the same step; the ring only when measured."""
    base = load_preset("resnet-w2-ring")
    wider = base.copy()
    wider.model.width = 3
    seen = set()
    for (pa, pb), n, (sa, sb), other, (la, lb), status in itertools.product(
        ((0.97, 0.96), (0.90, 0.80), (0.80, 0.90), (1.0, 1.0), (0.995, 1.0)),
        (50, 200, 5000),
        ((1000, 1000), (1000, 800)),
        (base, wider),
        itertools.product(LOOPS, LOOPS),
        ("finished", "cancelled"),
    ):
        (wa, ca, ma), (wb, cb, mb) = LOOPS[la], LOOPS[lb]
        a = _measured(base, 1, pa, n, sa, winding=wa, wrong_side_share=ca, winding_measured=ma)
        b = _measured(other, 2, pb, n, sb, status=status, winding=wb, wrong_side_share=cb,
                      winding_measured=mb)  # fmt: skip
        s = comparison.compare_verdict(a, b)
        assert comparison.check_compare(s, a, b) == [], (s.text, pa, pb, n)
        text = s.text.lower()
        assert "the start matters" not in text
        if sa != sb:
            assert "not compared" in text and "changed the result" not in text
            assert f"step {sa:,}" in text and f"step {sb:,}" in text
            continue
        assert f"step {sa:,}" in text and f"{100 * pa:.1f}%" in text and f"{100 * pb:.1f}%" in text
        ta, tb = (pa * n + 1) / (n + 2), (pb * n + 1) / (n + 2)  # Agresti-Caffo
        se = math.sqrt(ta * (1 - ta) / (n + 2) + tb * (1 - tb) / (n + 2))
        assert se > 0
        beyond = abs(pa - pb) > 2 * se
        assert (f"±{100 * se:.1f}" in text) == (pa != pb)
        assert ("both seeds are" in text) == (pa == pb and other is base)
        assert ("width 2 and width 3 are both" in text) == (pa == pb and other is not base)
        if other is not base:  # named by what tells them apart, never "seed A"
            assert "seed a" not in text and "width 2" in text and "width 3" in text
        assert ("more accurate" in text) == beyond
        assert ("no difference measured" in text) == (not beyond)
        start = other is base and status == "finished"
        assert ("changed the result" in text) == (beyond and start)
        assert ("differ in more than the seed" in text) == (beyond and other is not base)
        untied = {"untied"}
        if ma and mb:
            if (la in untied) != (lb in untied):
                assert "unties the ring" in text and "does not" in text
                assert ("the seed decided it" in text) == start
            elif la in untied:
                assert "both untie" in text
            else:
                assert "neither unties" in text
        else:
            assert "ring" not in text
        seen.add((beyond, start, "unties the ring" in text))
    assert len(seen) >= 6  # each kind of sentence was made


def test_compare_verdict_examples() -> None:
    cfg = load_preset("resnet-w2-ring")
    a, b = _measured(cfg, 1, 0.90, 200), _measured(cfg, 2, 0.80, 200)
    assert comparison.compare_verdict(a, b).text == (
        "At step 1,000, seed A is 10.0 points more accurate on the 200 test points (90.0% vs "
        "80.0%), more than 2× the sampling error (±3.6 points): only the weight seed differs, "
        "so the start (initial weights and batch order) changed the result."
    )
    text = comparison.compare_verdict(
        _measured(cfg, 1, 0.97, 200), _measured(cfg, 2, 0.96, 200)
    ).text
    assert "1.0 points, within 2× the sampling error of 200 test points" in text
    assert "changed" not in text and "better" not in text
    text = comparison.compare_verdict(_measured(cfg, 1, 1.0, 200), _measured(cfg, 2, 1.0, 200)).text
    assert text == (
        "At step 1,000, both seeds are 100.0% accurate on the 200 test points: no difference "
        "measured."
    )
    # one error in 1,000 points against none is no difference (a zero error bar would say so)
    text = comparison.compare_verdict(_measured(cfg, 1, 1.0, 1000), _measured(cfg, 2, 0.999, 1000))
    assert "no difference measured" in text.text and "changed" not in text.text


def test_a_comparison_of_two_configs_names_what_differs() -> None:
    """Width 2 against width 3 (or an MLP against a ResNet) is named by the field that
    differs, in the titles' words; a gap is reported, never put down to that field from
    one run each."""
    w2 = load_preset("resnet-w2-ring")
    w3 = w2.with_set("model.width=3")
    assert comparison.compare_names(w2, w3) == ("width 2", "width 3")
    assert comparison.compare_names(w2, w2.with_set("train.seed=9")) == ("seed A", "seed B")
    assert comparison.compare_names(w2, w2.with_set("model.kind=mlp")) == ("ResNet", "MLP")
    assert comparison.compare_names(w2, w2.copy()) == ("run A", "run B")
    assert comparison.compare_difference_text(w2, w3) == "width 2 vs width 3"
    a = comparison.Measured(w2, 1000, 0.70, 200, winding=1, winding_measured=True,
                          wrong_side_share=0.3)  # fmt: skip
    b = comparison.Measured(w3, 1000, 0.99, 200, winding=0, winding_measured=True,
                          wrong_side_share=0.0)  # fmt: skip
    s = comparison.compare_verdict(a, b)
    assert comparison.check_compare(s, a, b) == []
    assert s.text.startswith("At step 1,000, width 3 is 29.0 points more accurate")
    assert "the runs differ in width 2 vs width 3, one run each" in s.text
    assert "Width 3 unties the ring" in s.text and "width 2 does not" in s.text
    assert "seed" not in s.text and "decided" not in s.text and "changed the result" not in s.text
    late = comparison.Measured(w3, 800, 0.99, 200)
    assert comparison.compare_verdict(a, late).text.startswith("Width 2 is at step 1,000")
