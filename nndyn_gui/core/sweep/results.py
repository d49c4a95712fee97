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

from nndyn_gui.core.io import limits

AGGREGATES = ("mean", "min", "max", "median")
SEED_FIELD = "train.seed"
NOT_METRICS = ("index", "status", "message", "worker", "file", "key", "file_bytes")

# How a metric's value reads in a cell (core.analysis.metrics.METRICS has the same formats; kept
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


# Bounds on what a results folder may cost to read (the window reads it on its thread):
# a sweep of the default 10,000 runs writes a journal of ~6 MB; --max-runs may raise that.
MAX_JOURNAL_BYTES = 128 * limits.MIB
MAX_RESULTS_JSON_BYTES = 64 * limits.MIB
MAX_LINE_BYTES = 256 * 1024  # one journal row
MAX_ROWS = 100_000  # distinct runs read for a picture
MAX_AXIS_VALUES = 1_000  # distinct values of --x or --y: a heatmap of more is unreadable
MAX_REPORTED = 5  # bad rows named in the note (the count covers them all)


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
    skipped: list[str] = field(default_factory=list)  # "runs.jsonl line 7: why", the first few
    n_skipped: int = 0  # bad rows left out

    def values(self, name: str) -> list[Any]:
        """The values of a swept field (the spec's, and any a row has), sorted."""
        vals = {repr(v): v for v in self.axes.get(name, [])}
        vals.update({repr(r[name]): r[name] for r in self.rows if r.get(name) is not None})
        return sorted(vals.values(), key=_sort_key)

    def skipped_note(self) -> str:
        """'2 bad rows skipped (runs.jsonl line 3: index is not a whole number; ...)' or ''."""
        if not self.n_skipped:
            return ""
        n = self.n_skipped
        more = "; ..." if n > len(self.skipped) else ""
        return f"{n} bad row{'s' if n != 1 else ''} skipped ({'; '.join(self.skipped)}{more})"


def _sort_key(v: Any) -> tuple[int, Any]:
    return (0, v) if isinstance(v, int | float) and not isinstance(v, bool) else (1, str(v))


def _read_json(path: Path, max_bytes: int) -> Any:
    """A bounded JSON file: regular, at most `max_bytes`, not too deep; SweepResultsError."""
    try:
        data = limits.read_bounded(path, max_bytes, "sweep results file")
        return json.loads(data.decode("utf-8"))
    except limits.LimitError as e:
        raise SweepResultsError(f"{path}: {e}") from None
    except OSError as e:
        raise SweepResultsError(f"{path}: cannot read ({e.strerror or e})") from None
    except UnicodeDecodeError:
        raise SweepResultsError(f"{path}: cannot read (not UTF-8 text)") from None
    except (ValueError, RecursionError) as e:
        reason = "nested too deeply" if isinstance(e, RecursionError) else str(e)[:120]
        raise SweepResultsError(f"{path}: not valid JSON ({reason})") from None


def _str_list(v: Any, what: str, where: Path) -> list[str] | None:
    if v is None:
        return None
    if not isinstance(v, list) or not all(isinstance(s, str) for s in v):
        raise SweepResultsError(f"{where}: '{what}' is not a list of names")
    return list(v)


def load_results(folder: str | Path) -> SweepResults:
    """Read `folder` (a `nndyn sweep --out` folder); SweepResultsError when it is not one.

    Every file is read bounded (a regular file under a size cap: never a FIFO or
    /dev/zero), and every row is checked: a bad row is left out and counted in
    `skipped`, never a traceback.
    """
    f = Path(folder)
    doc: Any = {}
    results = f / "results.json"
    try:
        has_results = results.exists() or results.is_symlink()
        has_spec = (f / "sweep.json").exists()
    except OSError as e:
        raise SweepResultsError(f"{f}: cannot read ({e.strerror or e})") from None
    if has_results:
        doc = _read_json(results, MAX_RESULTS_JSON_BYTES)
        if not isinstance(doc, dict):
            raise SweepResultsError(f"{results}: not a sweep's results (not a JSON object)")
        spec = doc.get("spec", {})
    elif has_spec:
        spec = _read_json(f / "sweep.json", limits.MAX_JSON_BYTES)
    else:
        raise SweepResultsError(f"{f}: no results.json here (not a 'nndyn sweep' folder)")
    where = results if has_results else f / "sweep.json"
    if not isinstance(spec, dict) or not isinstance(spec.get("axes"), dict):
        raise SweepResultsError(f"{where}: no sweep spec in it")
    order = (
        _str_list(doc.get("fields"), "fields", where)
        or _str_list(spec.get("fields"), "fields", where)
        or [str(k) for k in spec["axes"]]
    )
    fields = list(dict.fromkeys(order))
    axes: dict[str, list[Any]] = {}
    for k, v in spec["axes"].items():
        if isinstance(v, list):
            vals = [x for x in (_clean(x) for x in v[: MAX_ROWS + 1]) if _is_axis_value(x)]
            axes[str(k)] = vals
    skipped: list[str] = []
    counter = [0]

    def bad(where_: str, why: str) -> None:
        counter[0] += 1
        if len(skipped) < MAX_REPORTED:
            skipped.append(f"{where_}: {why}")

    rows = _journal_rows(f / "runs.jsonl", fields, bad)
    if rows is None:
        raw_rows = doc.get("rows", [])
        if not isinstance(raw_rows, list):
            raise SweepResultsError(f"{where}: 'rows' is not a list")
        rows = []
        for i, r in enumerate(raw_rows):
            row, why = _check_row(r, fields)
            if row is None:
                bad(f"results.json row {i + 1}", why)
            else:
                rows.append(row)
                if len(rows) > MAX_ROWS:
                    raise SweepResultsError(_too_many_rows(where))
    columns = _str_list(doc.get("columns"), "columns", where) or sorted(
        {k for r in rows for k in r}
    )
    metrics = [
        c
        for c in columns
        if c not in NOT_METRICS
        and c not in fields
        and any(isinstance(r.get(c), int | float) and not isinstance(r.get(c), bool) for r in rows)
    ]
    n_runs = spec.get("n_runs")
    if isinstance(n_runs, bool) or not isinstance(n_runs, int) or n_runs < 0:
        n_runs = len(rows)  # an edited count ("abc", 1e400): the rows say how many there are
    label = spec.get("base_label", "")
    return SweepResults(
        folder=f,
        fields=fields,
        metrics=metrics,
        rows=rows,
        n_runs=n_runs,
        label=label if isinstance(label, str) else "",
        axes=axes,
        skipped=skipped,
        n_skipped=counter[0],
    )


def _too_many_rows(path: Path) -> str:
    return (
        f"{path}: more than {MAX_ROWS:,} runs; a picture reads at most {MAX_ROWS:,} "
        "(plot a part of the sweep from a copy of its folder with fewer rows)"
    )


def _clean(v: Any) -> Any:
    """A JSON value as a row may hold it: non-finite or huge numbers, lists and objects
    (no column holds one; printing a deep one would recurse) become None."""
    if isinstance(v, list | dict):
        return None
    if isinstance(v, float) and not math.isfinite(v):
        return None
    if isinstance(v, int) and not isinstance(v, bool) and abs(v) > 2**63:
        return None  # 10**400 is a valid JSON number and overflows every float
    return v


def _is_axis_value(v: Any) -> bool:
    return v is None or isinstance(v, str | int | float | bool)


def _check_row(obj: Any, fields: Sequence[str]) -> tuple[dict[str, Any] | None, str]:
    """(the row with its numbers made safe, "") or (None, why it is left out)."""
    if not isinstance(obj, dict):
        return None, "not a JSON object"
    index = obj.get("index")
    if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < 2**53:
        return None, f"index {str(index)[:40]!r} is not a run number"
    status = obj.get("status")
    if not isinstance(status, str):
        return None, "no status"
    for name in fields:
        if not _is_axis_value(obj.get(name)):
            return None, f"{name} is not a single value"
    row = {str(k): _clean(v) for k, v in obj.items()}
    for name in ("key", "file"):
        if row.get(name) is not None and not isinstance(row[name], str):
            return None, f"{name} is not a text"
    return row, ""


def _journal_rows(
    path: Path, fields: Sequence[str], bad: Callable[[str, str], None]
) -> list[dict[str, Any]] | None:
    """Rows of runs.jsonl, the last one per run (None without a journal), read line by
    line under MAX_JOURNAL_BYTES; a line torn by a kill is skipped silently, any other
    bad line is reported through `bad`."""
    try:
        limits.check_regular_file(path, MAX_JOURNAL_BYTES, "sweep journal")
        fh = open(path, "rb")  # noqa: SIM115 - closed below
    except FileNotFoundError:
        return None
    except limits.LimitError as e:
        raise SweepResultsError(f"{path}: {e}") from None
    except OSError as e:
        raise SweepResultsError(f"{path}: cannot read ({e.strerror or e})") from None
    by_key: dict[str, dict[str, Any]] = {}
    read = 0
    with fh:
        lineno = 0
        while True:
            try:
                raw = fh.readline(MAX_LINE_BYTES + 1)
            except OSError as e:
                raise SweepResultsError(f"{path}: cannot read ({e.strerror or e})") from None
            if not raw:
                break
            lineno += 1
            read += len(raw)
            if read > MAX_JOURNAL_BYTES:
                raise SweepResultsError(f"{path}: it grew beyond {limits.human_bytes(read)}")
            if len(raw) > MAX_LINE_BYTES:
                bad(f"runs.jsonl line {lineno}", "longer than a row can be")
                while raw and not raw.endswith(b"\n"):  # skip the rest of that line
                    raw = fh.readline(MAX_LINE_BYTES + 1)
                    read += len(raw)
                continue
            if not raw.strip():
                continue
            torn = not raw.endswith(b"\n")
            try:
                obj = json.loads(raw.decode("utf-8"))
            except UnicodeDecodeError:
                bad(f"runs.jsonl line {lineno}", "not UTF-8 text")
                continue
            except (ValueError, RecursionError):
                if not torn:  # a torn last line (killed mid-write) is expected
                    bad(f"runs.jsonl line {lineno}", "not a JSON row")
                continue
            row, why = _check_row(obj, fields)
            if row is None:
                bad(f"runs.jsonl line {lineno}", why)
                continue
            by_key[str(row.get("key", f"line{lineno}"))] = row
            if len(by_key) > MAX_ROWS:
                raise SweepResultsError(_too_many_rows(path))
    return sorted(by_key.values(), key=lambda r: int(r["index"]))


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
    for name, f, vals in (("x", x, xs), ("y", y, ys)):
        if len(vals) > MAX_AXIS_VALUES:
            raise SweepResultsError(
                f"--{name} {f}: {len(vals):,} different values; a heatmap shows at most "
                f"{MAX_AXIS_VALUES:,} (choose a field with fewer values)"
            )
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
