"""A sweep spec (TOML or JSON): a base config, the fields to sweep, the seeds -> the runs.

    preset = "resnet-w3-ring"          # or: config = "base.json" (RunConfig, preset or .nndyn)
    set = ["train.steps=3000"]         # fixed changes, in the --set syntax
    seeds = [0, 1, 2]                  # train.seed values (or a count: 3 = base seed + 0, 1, 2)
    metrics = ["step_turning"]         # optional: more columns from core.analysis.metrics.METRICS

    [sweep]                            # field = values; the runs are every combination
    "model.width" = [2, 3]
    "model.depth" = "5,10,20,50,100"   # --set syntax: a comma list ...
    "model.h" = "0.05:0.5:0.05"        # ... or start:stop:step (stop included)
    "train.learning_rate" = {start = 0.001, stop = 0.1, num = 5, log = true}

`sweep` may also be a list of --set strings: `sweep = ["model.width=2,3", "model.depth=5:100:5"]`.
Every value goes through `RunConfig.with_set`, so a sweep accepts exactly what `--set`
accepts and names the field when it does not. The run count is known (and checked
against a limit) before any config is built, so a spec of millions of runs fails at
once with its count instead of filling the memory.

Pure core: no TensorFlow, no Qt.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
import tomllib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nndyn_gui.core.analysis.metrics import METRICS
from nndyn_gui.core.config import ConfigError, RunConfig
from nndyn_gui.core.io import limits
from nndyn_gui.core.io.presets import PresetError, SetError, start_config

MAX_RUNS = 10_000  # default limit; `nndyn sweep --max-runs` raises it
SEED_FIELD = "train.seed"
SPEC_KEYS = ("preset", "config", "set", "sweep", "seeds", "metrics", "title")
MAX_VALUES = 1_000_000  # values of one axis: refuse before building a list that long


class SweepSpecError(ValueError):
    """The spec is malformed; the message is one line for the user (CLI exit 2)."""


@dataclass(frozen=True)
class SweepJob:
    """One run of a sweep: its place in the spec, the swept values, the full config."""

    index: int
    values: tuple[tuple[str, Any], ...]  # (field, value) of every axis, seeds last
    config: RunConfig
    key: str  # the hash of the config: resume matches finished runs on it

    @property
    def file_name(self) -> str:
        """`0007_width3_depth20_seed1.nndyn`: ordered like the spec, readable in a listing."""
        return f"{self.index:04d}_{slug(self.values)}.nndyn"


@dataclass(frozen=True)
class SweepSpec:
    """A parsed, validated spec; `jobs()` expands it (the count is checked already)."""

    base: RunConfig  # the preset / file with `set` applied
    base_label: str
    fixed: tuple[str, ...]
    axes: tuple[tuple[str, tuple[Any, ...]], ...]  # (field, values), seeds last
    metrics: tuple[str, ...]  # extra metric columns

    @property
    def fields(self) -> list[str]:
        return [f for f, _ in self.axes]

    @property
    def n_runs(self) -> int:
        return math.prod(len(v) for _, v in self.axes)

    def describe(self) -> str:
        """'2 model.width x 5 model.depth x 3 seeds = 30 runs'."""
        return describe_counts([(f, len(v)) for f, v in self.axes])

    def combos(self) -> Iterator[tuple[tuple[str, Any], ...]]:
        """Every combination of values, in order, one at a time (no config built):
        `--dry-run` lists a million runs in constant memory."""
        fields = self.fields
        for values in itertools.product(*(v for _, v in self.axes)):
            yield tuple(zip(fields, values, strict=True))

    def jobs(self) -> list[SweepJob]:
        """Every combination, the first axis varying slowest (seeds fastest)."""
        out: list[SweepJob] = []
        for i, combo in enumerate(self.combos()):
            cfg = self.base.to_dict()
            for field, value in combo:
                section, name = field.split(".")
                cfg[section][name] = value
            cfg["title"] = f"{self.base_label} {slug(tuple(combo))}".strip()
            try:
                config = RunConfig.from_dict(cfg)
            except ConfigError as e:
                raise SweepSpecError(f"run {i} ({_combo_text(combo)}): {e}") from None
            out.append(SweepJob(i, tuple(combo), config, config_hash(config)))
        return out

    def to_dict(self) -> dict[str, Any]:
        """The normalised spec (what results.json and sweep.json store)."""
        return {
            "base": self.base.to_dict(),
            "base_label": self.base_label,
            "set": list(self.fixed),
            "fields": self.fields,
            "axes": {f: list(v) for f, v in self.axes},
            "metrics": list(self.metrics),
            "n_runs": self.n_runs,
        }


def describe_counts(counts: Sequence[tuple[str, int]]) -> str:
    parts = [f"{n} {'seeds' if f == SEED_FIELD else f}" for f, n in counts]
    total = math.prod(n for _, n in counts)
    return f"{' x '.join(parts)} = {total:,} run{'s' if total != 1 else ''}"


def config_hash(cfg: RunConfig) -> str:
    return hashlib.sha1(cfg.to_json().encode("utf-8")).hexdigest()[:16]


def slug(values: Sequence[tuple[str, Any]]) -> str:
    """`width3_depth20_seed1`: the field names without their section, then the value."""
    parts = []
    for field, value in values:
        name = field.split(".")[-1]
        text = f"{value:g}" if isinstance(value, float) else str(value)
        parts.append(f"{name}{text}")
    raw = "_".join(parts)
    return "".join(c if c.isalnum() or c in "._-" else "-" for c in raw)[:120]


def _combo_text(combo: Sequence[tuple[str, Any]]) -> str:
    return ", ".join(f"{f}={v}" for f, v in combo)


# ---------------------------------------------------------------------- reading
def load_spec(path: str | Path, max_runs: int = MAX_RUNS) -> SweepSpec:
    """Read a TOML (.toml) or JSON spec file; SweepSpecError says what is wrong."""
    p = Path(path)
    try:  # bounded, regular files only: never /dev/zero, a FIFO or /proc/kmsg
        text = limits.read_bounded(p, limits.MAX_JSON_BYTES, "sweep spec").decode("utf-8")
    except FileNotFoundError:
        raise SweepSpecError(f"{p}: no such file") from None
    except limits.LimitError as e:
        raise SweepSpecError(f"{p}: {e}") from None
    except (OSError, UnicodeDecodeError) as e:
        raise SweepSpecError(f"{p}: cannot read ({e})") from None
    text = text.removeprefix("\ufeff")  # a UTF-8 BOM, as Windows editors write it
    try:
        obj = json.loads(text) if p.suffix.lower() == ".json" else tomllib.loads(text)
    except (ValueError, RecursionError) as e:
        kind = "JSON" if p.suffix.lower() == ".json" else "TOML"
        raise SweepSpecError(f"{p}: not valid {kind} ({e})") from None
    try:
        return parse_spec(obj, base_dir=p.parent, max_runs=max_runs)
    except SweepSpecError as e:
        raise SweepSpecError(f"{p}: {e}") from None


def parse_spec(obj: Any, base_dir: str | Path = ".", max_runs: int = MAX_RUNS) -> SweepSpec:
    """Validate a spec object (see the module docstring)."""
    if not isinstance(obj, dict):
        raise SweepSpecError("a spec must be a table / JSON object")
    unknown = sorted(set(obj) - set(SPEC_KEYS))
    if unknown:
        raise SweepSpecError(f"unknown key {unknown[0]!r} (allowed: {', '.join(SPEC_KEYS)})")
    base, label = _base(obj, Path(base_dir))
    fixed = _string_list(obj.get("set", []), "set")
    for assignment in fixed:
        base = _with_set(base, assignment, "set")
    if "title" in obj:
        if not isinstance(obj["title"], str):
            raise SweepSpecError("'title' must be a string")
        label = obj["title"]

    raw_axes = _raw_axes(obj.get("sweep"))
    fixed_fields = {a.split("=", 1)[0].strip() for a in fixed}
    axes: list[tuple[str, tuple[Any, ...]]] = []
    counts: list[tuple[str, int]] = []
    for field, raw in raw_axes:
        if field == SEED_FIELD:
            raise SweepSpecError(f"sweep the seeds with 'seeds = [...]', not {SEED_FIELD!r}")
        if field in fixed_fields:
            raise SweepSpecError(f"{field} is both in 'set' and in 'sweep'")
        if field in (f for f, _ in axes):
            raise SweepSpecError(f"{field} is swept twice")
        texts = _value_texts(field, raw)
        counts.append((field, len(texts)))
        axes.append((field, tuple(texts)))
    seeds = _seeds(obj.get("seeds", [base.train.seed]), base.train.seed)
    counts.append((SEED_FIELD, len(seeds)))
    total = math.prod(n for _, n in counts)
    if total > max_runs:
        raise SweepSpecError(
            f"{describe_counts(counts)}: more than the limit of {max_runs:,} runs "
            "(sweep fewer values, or raise the limit with --max-runs)"
        )
    # values are parsed (typed and range-checked by the config) only once the count is sane
    typed = [(field, _typed_values(base, field, texts)) for field, texts in axes]
    typed.append((SEED_FIELD, tuple(seeds)))
    metrics = _string_list(obj.get("metrics", []), "metrics")
    for m in metrics:
        if m not in METRICS:
            raise SweepSpecError(f"unknown metric {m!r} (available: {', '.join(METRICS)})")
    return SweepSpec(base, label, tuple(fixed), tuple(typed), tuple(metrics))


def _base(obj: dict[str, Any], base_dir: Path) -> tuple[RunConfig, str]:
    preset, config = obj.get("preset"), obj.get("config")
    if preset is not None and config is not None:
        raise SweepSpecError("give either 'preset' or 'config', not both")
    if preset is not None:
        if not isinstance(preset, str):
            raise SweepSpecError("'preset' must be a preset name")
        try:
            return start_config(preset=preset), preset
        except PresetError as e:
            raise SweepSpecError(str(e)) from None
    if config is None:
        return RunConfig(), "sweep"
    if isinstance(config, dict):  # an inline RunConfig
        try:
            return RunConfig.from_dict(config), "sweep"
        except ConfigError as e:
            raise SweepSpecError(f"config: {e}") from None
    if not isinstance(config, str):
        raise SweepSpecError("'config' must be a file name or an inline config table")
    path = Path(config) if Path(config).is_absolute() else base_dir / config
    try:  # /proc/kmsg says "regular file, 0 bytes" and then blocks the read for good
        limits.refuse_pseudo_file(path, "config file")
    except limits.LimitError as e:
        raise SweepSpecError(f"config {path}: {e}") from None
    return _read_config(path), path.stem


def _read_config(path: Path) -> RunConfig:
    from nndyn_gui.core.io.runfile import RunFileError, load_config_file

    try:
        return load_config_file(path)
    except RunFileError as e:
        raise SweepSpecError(f"config {e}") from None


def _string_list(v: Any, key: str) -> list[str]:
    if isinstance(v, str):
        v = [v]
    if not isinstance(v, list) or not all(isinstance(s, str) for s in v):
        raise SweepSpecError(f"'{key}' must be a list of strings")
    return list(v)


def _with_set(cfg: RunConfig, assignment: str, where: str) -> RunConfig:
    """`cfg` with `field=value` applied as `--set` applies it; `where` names the spec's key."""
    try:
        return start_config(base=cfg, sets=[assignment])
    except SetError as e:
        raise SweepSpecError(f"{where}: {e.assignment}: {e}") from None


def _raw_axes(sweep: Any) -> list[tuple[str, Any]]:
    if sweep is None:
        return []
    if isinstance(sweep, dict):
        return [(str(k).strip(), v) for k, v in sweep.items()]
    if isinstance(sweep, list):
        out = []
        for item in sweep:
            if not isinstance(item, str) or "=" not in item:
                raise SweepSpecError(
                    f"sweep: expected 'field=values' strings like 'model.depth=5,10', got {item!r}"
                )
            k, v = item.split("=", 1)
            out.append((k.strip(), v))
        return out
    raise SweepSpecError("'sweep' must be a table (field = values) or a list of 'field=values'")


def _value_texts(field: str, raw: Any) -> list[str]:
    """The axis' values as --set texts (not yet typed); errors name the field."""
    if isinstance(raw, list):
        if not raw:
            raise SweepSpecError(f"sweep {field}: the list of values is empty")
        texts = [_scalar_text(field, v) for v in raw]
    elif isinstance(raw, dict):
        texts = _range_table(field, raw)
    elif isinstance(raw, str):
        texts = _range_text(field, raw)
    elif isinstance(raw, bool | int | float):
        texts = [_scalar_text(field, raw)]
    else:
        raise SweepSpecError(f"sweep {field}: expected a list, a range or a string of values")
    seen: set[str] = set()
    for t in texts:
        if t in seen:
            raise SweepSpecError(f"sweep {field}: value {t} appears twice")
        seen.add(t)
    return texts


def _scalar_text(field: str, v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int | float | str):
        return str(v).strip()
    raise SweepSpecError(f"sweep {field}: {v!r} is not a number, a word or true/false")


def _number(field: str, v: Any, what: str) -> float:
    if isinstance(v, bool) or not isinstance(v, int | float | str):
        raise SweepSpecError(f"sweep {field}: {what} must be a number, got {v!r}")
    try:
        x = float(v)
    except ValueError:
        raise SweepSpecError(f"sweep {field}: {what} must be a number, got {v!r}") from None
    if not math.isfinite(x):
        raise SweepSpecError(f"sweep {field}: {what} must be finite")
    return x


def _range_text(field: str, raw: str) -> list[str]:
    text = raw.strip()
    if not text:
        raise SweepSpecError(f"sweep {field}: no values")
    if ":" in text:
        parts = text.split(":")
        if len(parts) != 3:
            raise SweepSpecError(f"sweep {field}: a range is start:stop:step, got {raw!r}")
        start, stop, step = (
            _number(field, p.strip(), n) for p, n in zip(parts, _RANGE, strict=True)
        )
        return _arange(field, start, stop, step)
    texts = [t.strip() for t in text.split(",")]
    if any(not t for t in texts):
        raise SweepSpecError(f"sweep {field}: empty value in {raw!r}")
    return texts


_RANGE = ("start", "stop", "step")


def _range_table(field: str, raw: dict[str, Any]) -> list[str]:
    allowed = {"start", "stop", "step", "num", "log"}
    unknown = sorted(set(raw) - allowed)
    if unknown:
        raise SweepSpecError(
            f"sweep {field}: unknown key {unknown[0]!r} in a range "
            f"(allowed: {', '.join(sorted(allowed))})"
        )
    if "start" not in raw or "stop" not in raw or ("step" in raw) == ("num" in raw):
        raise SweepSpecError(f"sweep {field}: a range needs start, stop and either step or num")
    start, stop = _number(field, raw["start"], "start"), _number(field, raw["stop"], "stop")
    if "step" in raw:
        if raw.get("log"):
            raise SweepSpecError(f"sweep {field}: 'log' goes with 'num', not 'step'")
        return _arange(field, start, stop, _number(field, raw["step"], "step"))
    num = raw["num"]
    if isinstance(num, bool) or not isinstance(num, int):
        raise SweepSpecError(f"sweep {field}: num must be an integer, got {num!r}")
    if num < 1:
        raise SweepSpecError(f"sweep {field}: the range is empty (num = {num})")
    if num > MAX_VALUES:
        raise SweepSpecError(f"sweep {field}: {num:,} values is too many")
    log = raw.get("log", False)
    if not isinstance(log, bool):
        raise SweepSpecError(f"sweep {field}: log must be true or false")
    if num == 1:
        return [_fmt(start)]
    if log:
        if start <= 0 or stop <= 0:
            raise SweepSpecError(f"sweep {field}: a log range needs start and stop > 0")
        # in log space: (1e300 / 1e-300) ** (1 / n) overflows before it is rooted
        a, b = math.log(start), math.log(stop)
        values = [math.exp(a + (b - a) * i / (num - 1)) for i in range(num)]
        values[-1] = stop
    else:  # weighted, so -1e308 .. 1e308 never forms stop - start = inf
        values = [start * (1 - i / (num - 1)) + stop * (i / (num - 1)) for i in range(num)]
    return _dedupe([_fmt(v) for v in values])


def _arange(field: str, start: float, stop: float, step: float) -> list[str]:
    if step == 0:
        raise SweepSpecError(f"sweep {field}: step must not be 0")
    diff = stop - start  # -1e308 .. 1e308 overflows to inf: count it another way
    span = diff / step if math.isfinite(diff) else stop / step - start / step
    if span > MAX_VALUES:  # 0 .. 1e308 by 1e-308 is inf: too many, not an OverflowError
        raise SweepSpecError(
            f"sweep {field}: the range {_fmt(start)}:{_fmt(stop)}:{_fmt(step)} has more than "
            f"{MAX_VALUES:,} values"
        )
    if not span >= 0:  # negative, -inf or nan
        raise SweepSpecError(
            f"sweep {field}: the range {_fmt(start)}:{_fmt(stop)}:{_fmt(step)} is empty"
        )
    n = math.floor(span + 1e-9) + 1
    if n < 1:
        raise SweepSpecError(
            f"sweep {field}: the range {_fmt(start)}:{_fmt(stop)}:{_fmt(step)} is empty"
        )
    if n > MAX_VALUES:
        raise SweepSpecError(f"sweep {field}: {n:,} values is too many")
    return _dedupe([_fmt(start + i * step) for i in range(n)])


def _fmt(v: float) -> str:
    """Shortest text that reads back as (almost) v: 0.1 + 0.2 -> '0.3', 5.0 -> '5'."""
    r = float(f"{v:.12g}")
    if not math.isfinite(r):
        return repr(r)  # with_set refuses it, naming the field
    return str(int(r)) if abs(r) < 1e15 and r == int(r) else repr(r)


def _dedupe(texts: list[str]) -> list[str]:
    return list(dict.fromkeys(texts))


def _typed_values(base: RunConfig, field: str, texts: Sequence[str]) -> tuple[Any, ...]:
    """Each text through with_set (type and range checks), read back as the field's value."""
    section, _, name = field.partition(".")
    if not name or section not in ("data", "model", "train"):
        raise SweepSpecError(f"sweep: {field!r} is not a field like model.depth")
    values = []
    for t in texts:
        cfg = _with_set(base, f"{field}={t}", "sweep")
        values.append(getattr(getattr(cfg, section), name))
    if len(set(map(repr, values))) != len(values):
        raise SweepSpecError(f"sweep {field}: two values are the same after rounding: {texts}")
    return tuple(values)


def _seeds(raw: Any, base_seed: int) -> list[int]:
    if isinstance(raw, bool):
        raise SweepSpecError("'seeds' must be a list of integers or a count")
    if isinstance(raw, int):
        if raw < 1:
            raise SweepSpecError("'seeds' must be at least 1")
        if raw > MAX_VALUES:
            raise SweepSpecError(f"'seeds': {raw:,} seeds is too many")
        raw = [base_seed + i for i in range(raw)]
    if not isinstance(raw, list) or not raw:
        raise SweepSpecError("'seeds' must be a non-empty list of integers or a count")
    if not all(isinstance(s, int) and not isinstance(s, bool) and s >= 0 for s in raw):
        raise SweepSpecError("'seeds' must be non-negative integers")
    if len(set(raw)) != len(raw):
        raise SweepSpecError("'seeds' lists a seed twice")
    if max(raw) > 2**31 - 1:
        raise SweepSpecError("'seeds' must be below 2**31")
    return list(raw)
