"""What checking a claim over the seeds found, and the verify table that shows it.

Why a module: a `CheckResult` is what `nndyn verify --json` writes and the docs scripts
and the Python API read back and print; none of them trains. Made by
core/analysis/claims.py; `format_text` is the terminal's table, `format_markdown` the
one docs/science.md carries.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from nndyn_gui.core.analysis.metrics import METRICS, PAIR_METRICS


@dataclass
class CheckResult:
    """One claim over the seeds: the measured value(s) per seed and whether each holds."""

    preset: str
    claim: str
    rule: str
    seeds: list[int]
    values: list[float]  # the left-hand side per seed (nan: undetermined / not measured)
    targets: list[float]  # the right-hand side per seed
    holds: list[bool]
    fmt: str = "{:.3g}"
    against_twin: bool = False  # the target is computed from a twin: show it next to the value
    needed: int = 0  # seeds the predicate must hold on (0: all of them)

    @property
    def held(self) -> int:
        """On how many seeds the predicate holds."""
        return sum(bool(h) for h in self.holds)

    @property
    def all_hold(self) -> bool:
        """The claim holds: on every seed, or on `needed` of them for a share claim."""
        need = self.needed if self.needed > 0 else len(self.holds)
        return bool(self.holds) and self.held >= need

    def verdict(self) -> str:
        """'yes', 'NO', or with a share claim 'yes (7 of 8)'."""
        word = "yes" if self.all_hold else "NO"
        if self.needed > 0 or not self.all_hold:
            return f"{word} ({self.held} of {len(self.holds)})"
        return word

    def shown(self, i: int) -> str:
        v = self.values[i]
        if not math.isfinite(v):
            return "undetermined" if "winding" in self.rule else "n/a"
        text = _format(self.fmt, v)
        if self.against_twin:
            text += f" vs {_format(self.fmt, self.targets[i])}"
        return text

    def to_dict(self) -> dict[str, Any]:
        return {
            "preset": self.preset,
            "claim": self.claim,
            "rule": self.rule,
            "seeds": list(self.seeds),
            "values": [v if math.isfinite(v) else None for v in self.values],
            "targets": [v if math.isfinite(v) else None for v in self.targets],
            "holds": list(self.holds),
            "needed": self.needed if self.needed > 0 else len(self.holds),
            "all_hold": self.all_hold,
            "fmt": self.fmt,
            "against_twin": self.against_twin,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> CheckResult:
        """The inverse of `to_dict` (`nndyn verify --json` read back, e.g. for the docs).

        Files written before "fmt" was stored get the metric's format from the rule."""
        rule = str(d["rule"])
        metric = rule.split("] ", 1)[-1].split(" ", 1)[0]
        known = METRICS.get(metric) or PAIR_METRICS.get(metric)
        fmt = d.get("fmt") or (known.fmt if known else "{:.3g}")
        twin = d.get("against_twin")
        if twin is None:
            twin = "'" in rule and metric not in PAIR_METRICS
        n = len(d["holds"])
        needed = int(d.get("needed", n))
        return cls(
            preset=str(d["preset"]),
            claim=str(d["claim"]),
            rule=rule,
            seeds=[int(s) for s in d["seeds"]],
            values=[math.nan if v is None else float(v) for v in d["values"]],
            targets=[math.nan if v is None else float(v) for v in d["targets"]],
            holds=[bool(h) for h in d["holds"]],
            fmt=str(fmt),
            against_twin=bool(twin),
            needed=0 if needed >= n else needed,
        )


def _format(fmt: str, v: float) -> str:
    try:
        return fmt.format(v)
    except (ValueError, TypeError):
        return f"{v:.3g}"


# ---------------------------------------------------------------------- tables
@dataclass
class Table:
    """The verify table as rows of strings (for the terminal and for Markdown)."""

    header: list[str]
    rows: list[list[str]] = field(default_factory=list)


def table(results: Sequence[CheckResult]) -> Table:
    seeds = results[0].seeds if results else []
    t = Table(["preset", "claim", "rule"] + [f"seed {s}" for s in seeds] + ["holds"])
    for r in results:
        cells = [r.shown(i) + ("" if r.holds[i] else " ✗") for i in range(len(r.seeds))]
        t.rows.append([r.preset, r.claim, r.rule, *cells, r.verdict()])
    return t


def format_text(results: Sequence[CheckResult]) -> str:
    """A plain-text table, columns padded (claims wrapped at 48 characters)."""
    t = table(results)
    rows = [t.header] + [[*r[:1], _clip(r[1], 60), *r[2:]] for r in t.rows]
    widths = [max(len(r[j]) for r in rows) for j in range(len(t.header))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _clip(text: str, n: int) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


def format_markdown(results: Sequence[CheckResult]) -> str:
    """A Markdown table (what docs/science.md carries)."""
    t = table(results)

    def esc(s: str) -> str:
        return s.replace("|", "\\|")

    lines = ["| " + " | ".join(t.header) + " |", "|" + "---|" * len(t.header)]
    for r in t.rows:
        cells = [f"`{r[0]}`", esc(r[1]), f"`{esc(r[2])}`", *map(esc, r[3:])]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)
