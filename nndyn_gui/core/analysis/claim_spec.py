"""A preset's "claims" object, parsed and checked: its twins, its checks, the operators.

Why a module: this is the format a preset's claims are written in, read by `nndyn
verify`, the Python API and the docs scripts. It is pure data (no training, no files):
what is trained and measured for it is core/analysis/claim_runs.py, how it is checked
over seeds core/analysis/claims.py.

Preset JSON:

    "claims": {
      "twins": {"unregularised": {"set": {"train.transport": 0.0}}},
      "checks": [
        {"claim": "dense accuracy at least 99 %", "metric": "dense_accuracy",
         "op": ">=", "value": 0.99},
        {"claim": "transport at most half the twin's", "metric": "transport",
         "op": "<=", "twin": "unregularised", "factor": 0.5},
        {"claim": "the twin folds", "run": "unregularised", "metric": "folds",
         "op": ">=", "value": 1}
      ]
    }

A twin is the same preset with some fields changed ("set") or another preset
("preset"), trained with the same seed offset. A check compares a metric of the preset's
run (or of a twin, "run") with a number ("value") or with `factor * twin + offset`.
Pairwise metrics (PAIR_METRICS) compare the run with a twin directly.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from nndyn_gui.core.analysis.metrics import METRICS, PAIR_METRICS

MAIN = "main"  # the name of the preset's own run in `Check.run`

OPS: dict[str, Callable[[float, float], bool]] = {
    ">=": operator.ge,
    "<=": operator.le,
    ">": operator.gt,
    "<": operator.lt,
    "==": operator.eq,
    "!=": operator.ne,
}


class ClaimError(ValueError):
    """A preset's claims are malformed (unknown metric, twin or operator)."""


@dataclass(frozen=True)
class Twin:
    """A comparison run: the preset with `set` applied, or another preset."""

    name: str
    preset: str = ""
    set: tuple[tuple[str, Any], ...] = ()


@dataclass(frozen=True)
class Check:
    """One claim as a predicate: metric(run) op value, or op factor * metric(twin) + offset."""

    claim: str
    metric: str
    op: str
    value: float | None = None
    run: str = MAIN
    twin: str = ""
    factor: float = 1.0
    offset: float = 0.0
    share: float = 1.0  # the claim: the predicate holds on at least this share of the seeds

    def rule(self) -> str:
        """The predicate in words, e.g. `transport <= 0.5 x twin 'unregularised'`."""
        return self._predicate() + (f" on >= {self.share:.0%} of seeds" if self.share < 1 else "")

    def _predicate(self) -> str:
        who = "" if self.run == MAIN else f"[{self.run}] "
        if self.metric in PAIR_METRICS:
            return f"{who}{self.metric} vs '{self.twin}' {self.op} {self.value:g}"
        if self.twin:
            rhs = f"'{self.twin}'"
            if self.factor != 1.0:
                rhs = f"{self.factor:g} x {rhs}"
            if self.offset:
                rhs += f" {'+' if self.offset > 0 else '-'} {abs(self.offset):g}"
            return f"{who}{self.metric} {self.op} {rhs}"
        return f"{who}{self.metric} {self.op} {self.value:g}"

    def needed(self, n_seeds: int) -> int:
        """On how many of `n_seeds` seeds the predicate must hold for the claim to hold."""
        return max(1, math.ceil(self.share * n_seeds - 1e-9)) if n_seeds else 1


@dataclass(frozen=True)
class PresetClaims:
    """The claims of one preset: its twins and its checks."""

    preset: str
    twins: dict[str, Twin]
    checks: tuple[Check, ...]


def parse_claims(preset: str, obj: Any) -> PresetClaims:
    """Validate a preset's "claims" object (ClaimError names what is wrong)."""
    if obj is None:
        return PresetClaims(preset, {}, ())
    if not isinstance(obj, dict) or not isinstance(obj.get("checks", []), list):
        raise ClaimError(f"{preset}: 'claims' must be an object with a 'checks' list")
    twins: dict[str, Twin] = {}
    for name, spec in dict(obj.get("twins", {})).items():
        if not isinstance(spec, dict) or not set(spec) <= {"preset", "set"}:
            raise ClaimError(f"{preset}: twin {name!r} needs 'preset' and/or 'set'")
        sets = spec.get("set", {})
        if not isinstance(sets, dict):
            raise ClaimError(f"{preset}: twin {name!r}: 'set' must be an object")
        twins[name] = Twin(name, str(spec.get("preset", "")), tuple(sorted(sets.items())))
    checks = []
    for i, c in enumerate(obj.get("checks", [])):
        where = f"{preset}: check {i + 1}"
        if not isinstance(c, dict):
            raise ClaimError(f"{where}: must be an object")
        allowed = {"claim", "metric", "op", "value", "run", "twin", "factor", "offset", "share"}
        if not set(c) <= allowed:
            raise ClaimError(f"{where}: unknown keys {sorted(set(c) - allowed)}")
        metric, op = c.get("metric"), c.get("op")
        if metric not in METRICS and metric not in PAIR_METRICS:
            raise ClaimError(f"{where}: unknown metric {metric!r}")
        if op not in OPS:
            raise ClaimError(f"{where}: unknown op {op!r} (allowed: {', '.join(OPS)})")
        run, twin = str(c.get("run", MAIN)), str(c.get("twin", ""))
        for ref in (run, twin):
            if ref and ref != MAIN and ref not in twins:
                raise ClaimError(f"{where}: unknown twin {ref!r}")
        pair = metric in PAIR_METRICS
        if pair and not twin:
            raise ClaimError(f"{where}: {metric} needs a 'twin'")
        if bool(twin and not pair) == ("value" in c):
            raise ClaimError(f"{where}: give either 'value' or 'twin'")
        if pair and "value" not in c:
            raise ClaimError(f"{where}: {metric} needs a 'value'")
        if not isinstance(c.get("claim"), str) or not c["claim"]:
            raise ClaimError(f"{where}: needs a 'claim' sentence")
        share = c.get("share", 1.0)
        if not isinstance(share, int | float) or not 0.0 < float(share) <= 1.0:
            raise ClaimError(f"{where}: 'share' (of the seeds) must be in (0, 1]")
        checks.append(
            Check(
                claim=c["claim"],
                metric=str(metric),
                op=str(op),
                value=None if "value" not in c else float(c["value"]),
                run=run,
                twin=twin,
                factor=float(c.get("factor", 1.0)),
                offset=float(c.get("offset", 0.0)),
                share=float(share),
            )
        )
    return PresetClaims(preset, twins, tuple(checks))
