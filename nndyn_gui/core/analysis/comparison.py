"""The words of a two-run picture (Compare, its export): titles, names and the verdict.

Why apart from narrator.py: a comparison has rules of its own — a gap in test accuracy
is called a difference only beyond GAP_SIGMAS sampling errors, two runs are named by the
fields that tell them apart, a seed-only pair is "two initialisations" — and each
sentence, like the narrator's, carries the facts it states (`Sentence.needs`), checked
by `check_compare` against the two measurements. Pure Python: no Qt.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from nndyn_gui.core.analysis.narrator import (
    DATA_WORDS,
    UNTIED_WRONG_SHARE,
    Sentence,
    comparable,
    config_title,
    edits,
    fmt,
    fmt_pct,
    is_trained,
    run_title,
)
from nndyn_gui.core.config import FIELDS, LABELS, RunConfig, changed_fields


def compare_titles(a: RunConfig, b: RunConfig) -> tuple[str, str, str]:
    """(title over both, title of A's half, title of B's half) of a two-run picture.

    Each half is named by its own run's title and seed; the top title, made from the
    config, says what differs: only the weight seed ("…: two initialisations"), or the
    fields in which they differ.
    """
    half_a = f"{run_title(a)} · seed {a.train.seed}"
    half_b = f"{run_title(b)} · seed {b.train.seed}"
    diff = edits(a, b, ignore=("train.seed",))
    if not diff:
        top = f"{config_title(a)}: two initialisations"
    else:
        da, db = comparable(a), comparable(b)
        shown = ", ".join(f"{LABELS.get(k, k)} {da.get(k)} vs {db.get(k)}" for k in diff[:3])
        more = f" and {len(diff) - 3} more fields" if len(diff) > 3 else ""
        top = f"Two runs: {shown}{more}"
    return top, half_a, half_b


def compare_setup(a: RunConfig, b: RunConfig) -> str:
    """What two runs about to be compared have in common and what not (before any
    number): the seed only, or the fields they differ in."""
    diff = compare_difference_text(a, b)
    if not diff:
        if a.train.seed == b.train.seed:
            return "Same data, settings and seed: the two runs should match."
        return "Same data and settings; only the weight seed differs (initial weights, batches)."
    seed = " and the weight seed" if a.train.seed != b.train.seed else ""
    return f"A and B differ in {diff}{seed}: one run each."


def compare_half_label(title: str, snapshot: Any | None) -> str:
    """What names one half of a two-run picture: its title and, once trained, the test
    accuracy of the snapshot shown with its step ("… · test 96.5% at step 1,000")."""
    if snapshot is None or not is_trained(snapshot):
        return title
    acc = float(snapshot.test_acc)
    if not math.isfinite(acc):
        return f"{title} · step {int(snapshot.step):,}"
    return f"{title} · test {100.0 * acc:.1f}% at step {int(snapshot.step):,}"


# ---------------------------------------------------------------------- two runs
#: a gap in test accuracy is called a difference only beyond this many sampling errors
GAP_SIGMAS = 2.0


@dataclass(frozen=True)
class Measured:
    """What one run of a comparison measured at one snapshot: its test accuracy on
    `n_test` points and, when a topology report exists for that snapshot, its winding."""

    config: RunConfig
    step: int
    test_acc: float
    n_test: int
    status: str = "finished"
    winding: int | None = None
    winding_measured: bool = False
    wrong_side_share: float = math.nan

    @property
    def untied(self) -> bool:
        return self.winding == 0 and self.wrong_side_share <= UNTIED_WRONG_SHARE


def sampling_error(a: Measured, b: Measured) -> float:
    """The standard error of the difference of two test accuracies (as fractions), each
    a share of its own n test points, with one success and one failure added to each
    (Agresti–Caffo: 100 % of 200 points is not "exactly 100 %, ± 0"):
    sqrt(p̃a(1-p̃a)/(na+2) + p̃b(1-p̃b)/(nb+2)), p̃ = (p·n + 1)/(n + 2). For two nets
    scored on the same points it is conservative as long as their errors are not
    negatively correlated."""

    def var(m: Measured) -> float:
        n = max(int(m.n_test), 0)
        p = (float(m.test_acc) * n + 1.0) / (n + 2.0)
        return p * (1.0 - p) / (n + 2.0)

    return math.sqrt(var(a) + var(b))


def _gap(a: Measured, b: Measured) -> float:
    return abs(float(a.test_acc) - float(b.test_acc))


#: every condition a comparison's sentence may need, as a test on (A, B)
COMPARE_CONDITIONS = {
    "only_seed_differs": lambda a, b: not edits(a.config, b.config, ignore=("train.seed",)),
    "more_than_seed_differs": lambda a, b: bool(edits(a.config, b.config, ("train.seed",))),
    "same_step": lambda a, b: a.step == b.step,
    "different_step": lambda a, b: a.step != b.step,
    "both_finished": lambda a, b: a.status == b.status == "finished",
    "accuracies_finite": lambda a, b: math.isfinite(a.test_acc) and math.isfinite(b.test_acc),
    "gap_beyond_noise": lambda a, b: _gap(a, b) > GAP_SIGMAS * sampling_error(a, b),
    "gap_within_noise": lambda a, b: _gap(a, b) <= GAP_SIGMAS * sampling_error(a, b),
    "equal_accuracy": lambda a, b: a.test_acc == b.test_acc,
    "unequal_accuracy": lambda a, b: a.test_acc != b.test_acc,
    "A_better": lambda a, b: a.test_acc > b.test_acc,
    "B_better": lambda a, b: b.test_acc > a.test_acc,
    "K==2": lambda a, b: a.config.data.classes == b.config.data.classes == 2,
    "both_winding_measured": lambda a, b: a.winding_measured and b.winding_measured,
    "A_untied": lambda a, b: a.untied,
    "B_untied": lambda a, b: b.untied,
    "A_not_untied": lambda a, b: a.winding_measured and not a.untied,
    "B_not_untied": lambda a, b: b.winding_measured and not b.untied,
}


def check_compare(sentence: Sentence, a: Measured, b: Measured) -> list[str]:
    """The conditions of a comparison's sentence that (A, B) do not satisfy."""
    return [c for c in sentence.needs if not COMPARE_CONDITIONS[c](a, b)]


def _loop(m: Measured) -> str:
    w = "undetermined" if m.winding is None else str(int(m.winding))
    return f"winding {w}, {100.0 * m.wrong_side_share:.1f}% of the loop on the wrong side"


#: how a comparison names a run by a field it differs in ("width 3", not "width d 3")
_COMPARE_WORDS = {
    "model.width": "width",
    "model.depth": "depth",
    "model.h": "h",
    "data.classes": "K",
    "data.n": "points",
}


def _field_words(path: str, value: Any) -> str:
    """One field's value as a comparison names it: "width 3", "MLP", "spiral",
    "tied weights on"."""
    if path == "model.kind":
        return "ResNet" if value == "resnet" else "MLP"
    if path == "data.name":
        return DATA_WORDS.get(str(value), str(value))
    words = _COMPARE_WORDS.get(path) or (FIELDS[path].words if path in FIELDS else path)
    if isinstance(value, bool):
        return f"{words} {'on' if value else 'off'}"
    if isinstance(value, float):
        return f"{words} {fmt(value)}"
    return f"{words} {value}"


def compare_differences(a: RunConfig, b: RunConfig) -> list[str]:
    """The fields (dotted paths) two runs differ in, besides the weight seed, that have a
    say in either run (h of two MLPs is no difference), in the panel's order."""
    diff = set(edits(a, b, ignore=("train.seed",)))
    if not diff:
        return []
    said = [p for p in changed_fields(a, b) if p in diff]
    return said or sorted(diff)


def compare_names(
    a: RunConfig, b: RunConfig, sides: tuple[str, str] = ("A", "B"), most: int = 2
) -> tuple[str, str]:
    """How a sentence names each of two runs: by what tells them apart.

    Only the seed differs: "seed A" / "seed B" (the columns' letters); else the first
    `most` fields they differ in, with each run's value ("width 2" / "width 3",
    "MLP" / "ResNet"); "run A" / "run B" when nothing tells them apart in words.
    """
    diff = compare_differences(a, b)
    if not diff:
        if a.train.seed != b.train.seed:
            return f"seed {sides[0]}", f"seed {sides[1]}"
        return f"run {sides[0]}", f"run {sides[1]}"
    shown = diff[:most]
    more = f" (+{len(diff) - most} more)" if len(diff) > most else ""
    na = ", ".join(_field_words(p, _value_of(a, p)) for p in shown) + more
    nb = ", ".join(_field_words(p, _value_of(b, p)) for p in shown) + more
    if na == nb:  # e.g. two floats equal to 3 digits
        return f"run {sides[0]}", f"run {sides[1]}"
    return na, nb


def compare_difference_text(a: RunConfig, b: RunConfig) -> str:
    """ "width 2 vs width 3, MLP vs ResNet" (every field two runs differ in, besides the
    seed; "" when none)."""
    return ", ".join(
        f"{_field_words(p, _value_of(a, p))} vs {_field_words(p, _value_of(b, p))}"
        for p in compare_differences(a, b)
    )


def _value_of(config: RunConfig, path: str) -> Any:
    return comparable(config).get(path, getattr(config, path, None))


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def compare_verdict(a: Measured, b: Measured, sides: tuple[str, str] = ("A", "B")) -> Sentence:
    """What two runs' measurements say about each other, at the step they were measured.

    A gap in test accuracy is called a difference only beyond GAP_SIGMAS sampling errors
    of the test set, and put down to the start (weight seed: initial weights and batch
    order) only when the seed is all that differs and both ran to the same step; the
    ring is compared only when both snapshots' windings were measured. Each run is named
    by what tells it apart (`compare_names`: "seed A", or "width 2" / "width 3"), `sides`
    being the columns' letters.
    """
    sa, sb = compare_names(a.config, b.config, sides)
    if a.step != b.step:
        return Sentence(
            f"{_cap(sa)} is at step {a.step:,} (test {fmt_pct(a.test_acc)}), {sb} at step "
            f"{b.step:,} (test {fmt_pct(b.test_acc)}): not the same step, so not compared",
            "info",
            ("different_step",),
        )
    at = f"At step {a.step:,}"
    needs: tuple[str, ...] = ("same_step", "accuracies_finite")
    if not (math.isfinite(a.test_acc) and math.isfinite(b.test_acc)):
        text = f"{at} a test accuracy is not finite: nothing to compare"
        return Sentence(text, "info", ("same_step",))
    se = 100.0 * sampling_error(a, b)
    gap = 100.0 * _gap(a, b)
    n = f"{a.n_test:,}" if a.n_test == b.n_test else f"{a.n_test:,} and {b.n_test:,}"
    only_seed = not edits(a.config, b.config, ignore=("train.seed",))
    same_start = only_seed and a.status == b.status == "finished"
    if gap > GAP_SIGMAS * se:
        better, worse = (sa, b) if a.test_acc > b.test_acc else (sb, a)
        best = a if worse is b else b
        text = (
            f"{at}, {better} is {gap:.1f} points more accurate on the {n} test points "
            f"({fmt_pct(best.test_acc)} vs {fmt_pct(worse.test_acc)}), more than "
            f"{GAP_SIGMAS:g}× the sampling error (±{se:.1f} points)"
        )
        needs += ("gap_beyond_noise", "A_better" if best is a else "B_better")
        if same_start:
            text += (
                ": only the weight seed differs, so the start (initial weights and batch "
                "order) changed the result"
            )
            needs += ("only_seed_differs", "both_finished")
        elif not only_seed:
            what = compare_difference_text(a.config, b.config)
            if a.config.train.seed != b.config.train.seed:
                text += f"; the runs differ in more than the seed ({what}), one run each"
            else:
                text += f"; the runs differ in {what}, one run each"
            needs += ("more_than_seed_differs",)
    elif a.test_acc == b.test_acc:
        text = (
            f"{at}, {'both seeds are' if only_seed else f'{sa} and {sb} are both'} "
            f"{fmt_pct(a.test_acc)} accurate on the {n} test points: "
            "no difference measured"
        )
        needs += ("gap_within_noise", "equal_accuracy")
    else:
        text = (
            f"{at}, test accuracies {fmt_pct(a.test_acc)} ({sa}) and {fmt_pct(b.test_acc)} ({sb}) "
            f"differ by {gap:.1f} points, within {GAP_SIGMAS:g}× the sampling error of {n} "
            f"test points (±{se:.1f}): no difference measured"
        )
        needs += ("gap_within_noise", "unequal_accuracy")
    ring = ""
    two_classes = a.config.data.classes == 2 == b.config.data.classes
    if two_classes and a.winding_measured and b.winding_measured:
        needs += ("K==2", "both_winding_measured")
        if a.untied != b.untied:
            tied, loose = (b, a) if a.untied else (a, b)
            n_loose, n_tied = (sa, sb) if loose is a else (sb, sa)
            ring = f"{n_loose} unties the ring ({_loop(loose)}), {n_tied} does not ({_loop(tied)})"
            needs += ("A_untied", "B_not_untied") if loose is a else ("B_untied", "A_not_untied")
            if same_start:
                ring += ": the seed decided it"
                needs += ("only_seed_differs", "both_finished")
        elif a.untied:
            ring = f"both untie the ring ({sa}: {_loop(a)}; {sb}: {_loop(b)})"
            needs += ("A_untied", "B_untied")
        else:
            ring = f"neither unties the ring ({sa}: {_loop(a)}; {sb}: {_loop(b)})"
            needs += ("A_not_untied", "B_not_untied")
    if ring:
        text += f". {_cap(ring)}"
    return Sentence(text + ".", "info", needs)
