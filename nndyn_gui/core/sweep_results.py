"""Read a sweep's results folder and reduce it to a heatmap: a metric over two swept fields.

Used by `nndyn sweep-plot` and the Sweeps window (which must not load TensorFlow: this
module needs only numpy and the standard library). The rows come from runs.jsonl (the
journal, up to date while a sweep runs) or, without one, from results.json.

A cell of the heatmap is every run with that (x, y) - all seeds, and all values of the
fields not plotted unless `where` fixes them. Only finished runs count: a failed run has
no numbers, and a diverged run's numbers belong to its last finite snapshot, not to a
trained net; the cell says how many runs counted (n) and how many there were.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

AGGREGATES = ("mean", "min", "max", "median")
SEED_FIELD = "train.seed"
NOT_METRICS = ("index", "status", "message", "worker", "file", "key")

# How a metric's value reads in a cell (core.claims.METRICS has the same formats; kept
# here so the window need not import the claims machinery).
PERCENT_METRICS = (
    "train_acc",
    "test_acc",
    "dense_accuracy",
    "wrong_side_share",
    "invertible_layers",
    "max_saturated_share",
)
INTEGER_METRICS = ("steps", "folds", "squashed_layers")


class SweepResultsError(ValueError):
    """The folder holds no readable sweep, or the heatmap asks for unknown columns."""


@dataclass
class SweepResults:
    """The rows of one sweep and what can be plotted."""

    folder: Path
    fields: list[str]  # swept fields, seeds last
    metrics: list[str]  # numeric columns
    rows: list[dict[str, Any]]
    n_runs: int  # runs in the spec (rows may be fewer while it runs)
    label: str = ""
    axes: dict[str, list[Any]] = field(default_factory=dict)  # the spec's values per field

    def values(self, name: str) -> list[Any]:
        """The values of a swept field (the spec's, and any a row has), sorted."""
        vals = {repr(v): v for v in self.axes.get(name, [])}
        vals.update({repr(r[name]): r[name] for r in self.rows if r.get(name) is not None})
        return sorted(vals.values(), key=_sort_key)


def _sort_key(v: Any) -> tuple[int, Any]:
    return (0, v) if isinstance(v, int | float) and not isinstance(v, bool) else (1, str(v))


def load_results(folder: str | Path) -> SweepResults:
    """Read `folder` (a `nndyn sweep --out` folder); SweepResultsError when it is not one."""
    f = Path(folder)
    spec: dict[str, Any] = {}
    doc: dict[str, Any] = {}
    results = f / "results.json"
    try:
        if results.is_file():
            doc = json.loads(results.read_text(encoding="utf-8"))
            spec = doc.get("spec", {})
        elif (f / "sweep.json").is_file():
            spec = json.loads((f / "sweep.json").read_text(encoding="utf-8"))
        else:
            raise SweepResultsError(f"{f}: no results.json here (not a 'nndyn sweep' folder)")
    except (OSError, ValueError) as e:
        raise SweepResultsError(f"{f}: cannot read the results ({e})") from None
    if not isinstance(spec, dict) or not isinstance(spec.get("axes"), dict):
        raise SweepResultsError(f"{f}: results.json has no sweep spec")
    order = doc.get("fields") or spec.get("fields") or list(spec["axes"])
    fields = [str(k) for k in order]
    rows = _journal_rows(f / "runs.jsonl")
    if rows is None:
        rows = [r for r in doc.get("rows", []) if isinstance(r, dict)]
    columns = doc.get("columns") or sorted({k for r in rows for k in r})
    metrics = [
        c
        for c in columns
        if c not in NOT_METRICS
        and c not in fields
        and any(isinstance(r.get(c), int | float) and not isinstance(r.get(c), bool) for r in rows)
    ]
    return SweepResults(
        folder=f,
        fields=fields,
        metrics=metrics,
        rows=rows,
        n_runs=int(spec.get("n_runs", len(rows))),
        label=str(spec.get("base_label", "")),
        axes={str(k): list(v) for k, v in spec["axes"].items() if isinstance(v, list)},
    )


def _journal_rows(path: Path) -> list[dict[str, Any]] | None:
    """Rows of runs.jsonl, the last one per run (None without a journal)."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except OSError as e:
        raise SweepResultsError(f"{path}: cannot read ({e})") from None
    by_key: dict[str, dict[str, Any]] = {}
    for line in text.splitlines():
        try:
            row = json.loads(line)
        except ValueError:
            continue  # a line torn by a killed sweep
        if isinstance(row, dict):
            by_key[str(row.get("key", len(by_key)))] = row
    return sorted(by_key.values(), key=lambda r: int(r.get("index", 0) or 0))


@dataclass
class Heatmap:
    """`values[iy, ix]`: the metric over the runs of cell (x_values[ix], y_values[iy])."""

    x_field: str
    y_field: str
    metric: str
    agg: str
    x_values: list[Any]
    y_values: list[Any]
    values: np.ndarray  # (ny, nx), nan where no run counted
    counts: np.ndarray  # (ny, nx) runs that counted (finished, metric determined)
    totals: np.ndarray  # (ny, nx) runs in the cell
    cells: list[list[list[dict[str, Any]]]]  # [iy][ix] -> the rows
    where: dict[str, Any]
    label: str = ""
    pooled: list[str] = field(default_factory=list)  # swept fields merged inside a cell

    def value_text(self, v: float) -> str:
        return format_value(self.metric, v)

    def representative(self, iy: int, ix: int) -> dict[str, Any] | None:
        """The run that stands for the cell: the one at the min / max, or nearest the mean
        / median; a cell where none counted gives its first run that has a file."""
        rows = self.cells[iy][ix]
        target = float(self.values[iy, ix])
        scored = [(r, _number(r.get(self.metric))) for r in rows if r.get("status") == "finished"]
        scored = [(r, v) for r, v in scored if math.isfinite(v) and r.get("file")]
        if scored and math.isfinite(target):
            return min(scored, key=lambda rv: (abs(rv[1] - target), int(rv[0].get("index", 0))))[0]
        with_file = [r for r in rows if r.get("file")]
        return with_file[0] if with_file else (rows[0] if rows else None)


def format_value(metric: str, v: float) -> str:
    if not math.isfinite(v):
        return "n/a"
    if metric in PERCENT_METRICS:
        if v == 1.0:
            return "100%"
        text = f"{100 * v:.1f}%"
        if text == "100.0%" and v < 1.0:  # never round a miss up to a perfect score
            text = f"{100 * v:.2f}%" if 100 * v < 99.995 else ">99.99%"
        elif text in ("0.0%", "-0.0%") and v > 0.0:  # ... nor a little down to none
            text = f"{100 * v:.2f}%" if 100 * v >= 0.005 else "<0.01%"
        return text
    if metric in INTEGER_METRICS or metric in ("winding", "abs_winding"):
        return f"{v:.0f}" if v == round(v) else f"{v:.2f}"
    return f"{v:.3g}"


def _number(v: Any) -> float:
    if isinstance(v, bool) or not isinstance(v, int | float):
        return math.nan
    return float(v)


def _matches(row: Mapping[str, Any], where: Mapping[str, Any]) -> bool:
    for k, want in where.items():
        got = row.get(k)
        if isinstance(got, int | float) and isinstance(want, int | float):
            if not math.isclose(float(got), float(want), rel_tol=1e-9, abs_tol=1e-12):
                return False
        elif str(got) != str(want):
            return False
    return True


def parse_where(results: SweepResults, items: Sequence[str]) -> dict[str, Any]:
    """`["model.h=0.5"]` -> {"model.h": 0.5}, checked against the swept values."""
    out: dict[str, Any] = {}
    for item in items:
        if "=" not in item:
            raise SweepResultsError(f"--where {item}: expected FIELD=VALUE, e.g. model.h=0.5")
        k, raw = (s.strip() for s in item.split("=", 1))
        if k not in results.fields:
            raise SweepResultsError(
                f"--where {item}: {k} is not swept (swept: {', '.join(results.fields)})"
            )
        values = results.values(k)
        match = [v for v in values if _matches({k: v}, {k: _parse_scalar(raw)})]
        if not match:
            shown = ", ".join(map(str, values))
            raise SweepResultsError(f"--where {item}: {k} takes the values {shown}")
        out[k] = match[0]
    return out


def _parse_scalar(raw: str) -> Any:
    low = raw.lower()
    if low in ("true", "false"):
        return low == "true"
    try:
        return int(raw)
    except ValueError:
        pass
    try:
        return float(raw)
    except ValueError:
        return raw


_REDUCE: dict[str, Callable[[np.ndarray], Any]] = {
    "mean": lambda v: np.mean(v),
    "min": lambda v: np.min(v),
    "max": lambda v: np.max(v),
    "median": lambda v: np.median(v),
}


def heatmap(
    results: SweepResults,
    x: str,
    y: str,
    metric: str,
    agg: str = "mean",
    where: Mapping[str, Any] | None = None,
) -> Heatmap:
    """Aggregate `metric` over the runs of each (x, y) cell (SweepResultsError if unknown)."""
    for name, f in (("x", x), ("y", y)):
        if f not in results.fields:
            raise SweepResultsError(
                f"--{name} {f}: not a swept field (swept: {', '.join(results.fields)})"
            )
    if x == y:
        raise SweepResultsError("--x and --y must be two different fields")
    if metric not in results.metrics:
        raise SweepResultsError(
            f"--metric {metric}: not in the results (available: {', '.join(results.metrics)})"
        )
    if agg not in AGGREGATES:
        raise SweepResultsError(f"--agg {agg}: use one of {', '.join(AGGREGATES)}")
    where = dict(where or {})
    rows = [r for r in results.rows if _matches(r, where)]
    xs, ys = results.values(x), results.values(y)
    nx, ny = len(xs), len(ys)
    xi = {repr(v): i for i, v in enumerate(xs)}
    yi = {repr(v): i for i, v in enumerate(ys)}
    cells: list[list[list[dict[str, Any]]]] = [[[] for _ in range(nx)] for _ in range(ny)]
    for r in rows:
        ix, iy = xi.get(repr(r.get(x))), yi.get(repr(r.get(y)))
        if ix is not None and iy is not None:
            cells[iy][ix].append(r)
    values = np.full((ny, nx), np.nan)
    counts = np.zeros((ny, nx), dtype=int)
    totals = np.zeros((ny, nx), dtype=int)
    reduce = _REDUCE[agg]
    for iy in range(ny):
        for ix in range(nx):
            cell = cells[iy][ix]
            totals[iy, ix] = len(cell)
            vals = [_number(r.get(metric)) for r in cell if r.get("status") == "finished"]
            vals = [v for v in vals if math.isfinite(v)]
            counts[iy, ix] = len(vals)
            if vals:
                values[iy, ix] = float(reduce(np.asarray(vals)))
    pooled = [f for f in results.fields if f not in (x, y) and f not in where]
    return Heatmap(
        x, y, metric, agg, xs, ys, values, counts, totals, cells, where, results.label, pooled
    )
