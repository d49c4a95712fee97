"""What an ensemble measured: one row of numbers per member, their spread, one caption.

Why it exists: the Ensemble window (the article's "stochastic control" picture: other
initialisations, other results) shows several runs of one config at once, and every
number and sentence it shows must be measured, never written in advance. Each member
is measured at its own final snapshot (the step is part of the row, since a member that
diverged or met its stop rule ends earlier); the caption is built from these rows alone.

Numbers: train / test accuracy are the trainer's at that snapshot; the winding is
core/analysis/topology.py's (the outer loop's image around the centre's, None when
undetermined or not a ring); transport is diagnostics.transport_cost over the training
points (the regulariser's quantity). numpy only, no Qt: run it off the GUI thread.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from nndyn_gui.core.analysis.diagnostics import transport_cost
from nndyn_gui.core.analysis.narrator import config_title, fmt_pct
from nndyn_gui.core.analysis.topology import not_applicable, topology_report
from nndyn_gui.core.config import RunConfig
from nndyn_gui.core.net.flow import propagate
from nndyn_gui.core.types import Dataset, TrainResult

DENSE_POINTS = 2000  # the topology report's fresh sample (only its winding is shown here)


@dataclass(frozen=True)
class MemberFacts:
    """One member measured at its final snapshot (`step`)."""

    seed: int
    step: int
    status: str  # finished | cancelled | diverged (the member's own end)
    train_acc: float
    test_acc: float
    winding: int | None  # None: undetermined, or no ring (see `winding_note`)
    winding_note: str  # why there is no winding ("" when there is one)
    transport: float


def measure_member(config: RunConfig, result: TrainResult, dataset: Dataset) -> MemberFacts:
    """The member's numbers at its final snapshot (nan / None where there is none)."""
    if not result.snapshots:
        nan = math.nan
        return MemberFacts(config.train.seed, 0, result.status, nan, nan, None, "no snapshot", nan)
    snap = result.final
    w = snap.weights
    why = not_applicable(config)
    winding: int | None = None
    if not why:
        rep = topology_report(config, w, n_dense=DENSE_POINTS)
        if rep is None:
            why = "no loop"
        else:
            winding, why = rep.winding, rep.winding_reason
    with np.errstate(all="ignore"):
        transport = transport_cost(propagate(config.model, w, dataset.x_train))
    return MemberFacts(
        seed=config.train.seed,
        step=int(snap.step),
        status=result.status,
        train_acc=float(snap.train_acc),
        test_acc=float(snap.test_acc),
        winding=winding,
        winding_note=why,
        transport=transport if math.isfinite(transport) else math.nan,
    )


def measure(
    configs: Sequence[RunConfig], results: Sequence[TrainResult], dataset: Dataset
) -> list[MemberFacts]:
    return [measure_member(c, r, dataset) for c, r in zip(configs, results, strict=True)]


def is_ring(config: RunConfig) -> bool:
    """True when the winding applies (a two-class set with one class around the other)."""
    return not not_applicable(config)


# ---------------------------------------------------------------------- the spread
SUMMARY_ROWS = ("min", "median", "max")


def spread(values: Sequence[float | int | None]) -> dict[str, float]:
    """min / median / max of the finite values (nan when there is none)."""
    xs = [float(v) for v in values if v is not None and math.isfinite(float(v))]
    if not xs:
        return {k: math.nan for k in SUMMARY_ROWS}
    return {"min": min(xs), "median": float(statistics.median(xs)), "max": max(xs)}


def quoted_accuracy(f: MemberFacts) -> float:
    """The accuracy a caption quotes: test, or train when there is no test set."""
    return f.test_acc if math.isfinite(f.test_acc) else f.train_acc


# ---------------------------------------------------------------------- the caption
def _steps_words(facts: Sequence[MemberFacts]) -> str:
    steps = sorted({f.step for f in facts})
    if len(steps) == 1:
        return f"step {steps[0]:,}"
    return f"steps {steps[0]:,}–{steps[-1]:,}"


def _seeds_words(facts: Sequence[MemberFacts]) -> str:
    seeds = [f.seed for f in facts]
    if seeds == list(range(seeds[0], seeds[0] + len(seeds))):
        return f"init seeds {seeds[0]}–{seeds[-1]}"
    return "init seeds " + ", ".join(str(s) for s in seeds)


def caption(config: RunConfig, facts: Sequence[MemberFacts]) -> str:
    """One line from the measured rows, e.g. "8 initialisations (init seeds 0–7) of
    ResNet, width 2, depth 51, ring, each at its final snapshot (step 20,000): test
    accuracy 62.0%–99.0%; the outer loop's image winds around the centre's image in 5 of 8."""
    n = len(facts)
    if not n:
        return "No member trained yet."
    test = all(math.isfinite(f.test_acc) for f in facts)
    acc = spread([quoted_accuracy(f) for f in facts])
    which = "test" if test else "training"
    if math.isfinite(acc["min"]):
        lo, hi = fmt_pct(acc["min"]), fmt_pct(acc["max"])
        acc_words = f"{which} accuracy {lo}" if lo == hi else f"{which} accuracy {lo}–{hi}"
    else:
        acc_words = f"{which} accuracy not measured"
    text = (
        f"{n} initialisations ({_seeds_words(facts)}) of {config_title(config)}, "
        f"each at its final snapshot ({_steps_words(facts)}): {acc_words}"
    )
    if is_ring(config):
        known = [f for f in facts if f.winding is not None]
        winds = sum(1 for f in known if f.winding != 0)
        text += (
            f"; the outer loop's image winds around the centre's image in {winds} of {len(known)}"
        )
        if len(known) < n:
            text += f" ({n - len(known)} undetermined)"
    ended = {s: sum(1 for f in facts if f.status == s) for s in ("diverged", "cancelled")}
    extra = [f"{k} {s}" for s, k in ended.items() if k]
    if extra:
        text += " (" + ", ".join(extra) + ")"
    return text + "."
