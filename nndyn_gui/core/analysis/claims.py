"""Every sentence a preset says about its result is a claim the project reruns.

A preset JSON carries, next to its description, the claims the description makes as
measurable predicates ("dense accuracy >= 0.99", "winding = 1", "the invertibility bound
binds", "transport at most half that of the unregularised twin"). `verify` trains the
preset over several seeds (train.seed = the preset's seed + offset), measures, and says
for each claim and seed whether it holds. `nndyn verify` prints the table; docs/science.md
carries it. If a claim fails, the preset (settings or text) is what must change.

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

Pure core: TensorFlow is imported (lazily) only to train.
"""

from __future__ import annotations

import json
import math
import operator
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from nndyn_gui.core.analysis.metrics import (
    BINARY_METRICS,
    METRICS,
    PAIR_METRICS,
    Measured,
    last_layer_difference,
)
from nndyn_gui.core.config import ConfigError, RunConfig
from nndyn_gui.core.datasets import make_dataset
from nndyn_gui.core.io.presets import PresetError, load_preset, preset_claims, preset_names
from nndyn_gui.core.types import Dataset, NetWeights

DENSE_POINTS = 50_000
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


# ---------------------------------------------------------------------- claims in a preset
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


def load_claims(preset: str) -> PresetClaims:
    """The parsed claims of a shipped preset; a loop-test metric (BINARY_METRICS) on a
    K-class run is refused: it does not apply there, so no such claim can hold."""
    pc = parse_claims(preset, preset_claims(preset))
    classes = {MAIN: load_preset(preset).data.classes}
    for c in pc.checks:
        if c.metric not in BINARY_METRICS:
            continue
        run = c.run or MAIN
        if run not in classes:
            try:
                classes[run] = twin_config(load_preset(preset), pc.twins[run], 0).data.classes
            except ClaimError:
                continue
        if classes[run] != 2:
            raise ClaimError(
                f"{preset}: {c.metric} is not applicable with {classes[run]} classes (the loop "
                "test is about two classes)"
            )
    return pc


# ---------------------------------------------------------------------- running
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


def twin_config(base: RunConfig, twin: Twin, offset: int) -> RunConfig:
    """The twin's config for seed offset `offset` (ClaimError on a bad field)."""
    try:
        cfg = load_preset(twin.preset) if twin.preset else base.copy()
    except PresetError as e:
        raise ClaimError(f"twin {twin.name!r}: {e}") from None
    d = cfg.to_dict()
    for key, value in twin.set:
        section, _, name = str(key).partition(".")
        if section not in ("data", "model", "train") or not name:
            raise ClaimError(f"twin {twin.name!r}: bad field {key!r}")
        d[section][name] = value
    try:
        cfg = RunConfig.from_dict(d)
    except ConfigError as e:
        raise ClaimError(f"twin {twin.name!r}: {e}") from None
    if twin.preset:
        cfg.train.seed += offset
    return cfg


def seeded(cfg: RunConfig, offset: int) -> RunConfig:
    """The preset's config for seed offset `offset`: train.seed = preset seed + offset."""
    out = cfg.copy()
    out.train.seed = cfg.train.seed + offset
    return out.validate()


Trainer = Callable[[RunConfig, Dataset], tuple[NetWeights, float, float, str]]


def train_with_tensorflow(cfg: RunConfig, dataset: Dataset) -> tuple[NetWeights, float, float, str]:
    """Train to the end (imports TensorFlow); returns final weights, accuracies, status."""
    from nndyn_gui.core.train.trainer import Trainer as TfTrainer

    result = TfTrainer(cfg, dataset).run()
    final = result.final
    return final.weights, float(final.train_acc), float(final.test_acc), result.status


def run_key(cfg: RunConfig) -> str:
    """What makes two runs the same run: the config without its title (JSON, sorted)."""
    d = cfg.to_dict()
    d.pop("title", None)
    return json.dumps(d, sort_keys=True)


@dataclass
class RunSummary:
    """The numbers measured on one trained run: what `evaluate` compares.

    Made where the run was trained (a worker process), so only numbers travel back:
    `values` by metric name, `last_layer` the test points' last-layer positions (for
    PAIR_METRICS), `status` the trainer's ("finished", "diverged").
    """

    status: str
    values: dict[str, float]
    last_layer: np.ndarray | None = None


def summarize(m: Measured, metrics: Sequence[str], last: bool = False) -> RunSummary:
    """Measure `metrics` on one run (and keep its last layer when `last`)."""
    values = {name: float(METRICS[name].fn(m)) for name in metrics}
    return RunSummary(m.status, values, m.trajectory[-1].copy() if last else None)


def _train_and_summarize(
    cfg: RunConfig, metrics: tuple[str, ...], last: bool, train: Trainer
) -> RunSummary:
    ds = make_dataset(cfg.data)
    weights, tr, te, status = train(cfg, ds)
    return summarize(Measured(cfg, ds, weights, tr, te, status), metrics, last)


def _summarize_task(cfg: RunConfig, metrics: tuple[str, ...], last: bool) -> RunSummary:
    """Worker for the process pool: train one distinct run and measure it."""
    return _train_and_summarize(cfg, metrics, last, train_with_tensorflow)


#: runs of one shape trained together in one compiled program (core/train/ensemble.py)
ENSEMBLE_MEMBERS = 8


def ensemble_key(cfg: RunConfig) -> str:
    """Runs with equal keys share one compiled structure and data sizes, so they can
    train as one ensemble: the config without what is a tensor input of the step (seeds,
    rates, h, weights of the penalties, step counts, snapshots, stop rules). An MSA run
    (core/train/msa.py, numpy) has no compiled program to share: its key is its own."""
    if cfg.train.optimizer == "msa":
        return json.dumps({"alone": run_key(cfg)})
    d = cfg.to_dict()
    d.pop("title", None)
    d["data"].pop("seed", None)
    for name in ("h", "invertible_bound"):
        d["model"].pop(name, None)
    train = d["train"]
    train["transport"] = float(train.get("transport", 0.0)) > 0.0
    for name in ("seed", "learning_rate", "weight_decay", "steps", "snapshot_every",
                 "steps_per_call", "stop_loss", "stop_accuracy", "stop_plateau"):  # fmt: skip
        train.pop(name, None)
    return json.dumps(d, sort_keys=True, default=str)


def _summarize_group(items: list[tuple[RunConfig, tuple[str, ...], bool]]) -> list[RunSummary]:
    """Train runs of one shape as ensembles (core/train/ensemble.train_many; each member
    as it trains alone) and measure each; worker for the process pool too."""
    from nndyn_gui.core.train.ensemble import train_many

    made: dict[str, Dataset] = {}  # one data set object per data config: shared by members
    datasets = []
    for cfg, _, _ in items:
        key = json.dumps(asdict(cfg.data), sort_keys=True, default=str)
        if key not in made:
            made[key] = make_dataset(cfg.data)
        datasets.append(made[key])
    results = train_many([cfg for cfg, _, _ in items], datasets)
    out = []
    for (cfg, metrics, last), ds, res in zip(items, datasets, results, strict=True):
        final = res.final
        m = Measured(cfg, ds, final.weights, float(final.train_acc), float(final.test_acc),
                     res.status)  # fmt: skip
        out.append(summarize(m, metrics, last))
    return out


def measure_runs(
    pc: PresetClaims,
    offset: int,
    train: Trainer = train_with_tensorflow,
    config: RunConfig | None = None,
) -> dict[str, Measured]:
    """Train the preset (`config`, default: as shipped) and every twin a check needs."""
    runs: dict[str, Measured] = {}
    for name, cfg in run_configs(pc, offset, config).items():
        ds = make_dataset(cfg.data)
        weights, tr, te, status = train(cfg, ds)
        runs[name] = Measured(cfg, ds, weights, tr, te, status)
    return runs


def run_configs(
    pc: PresetClaims, offset: int, config: RunConfig | None = None
) -> dict[str, RunConfig]:
    """The preset's run (MAIN) and every twin a check needs, for seed offset `offset`."""
    base = seeded(load_preset(pc.preset) if config is None else config, offset)
    needed = {c.run for c in pc.checks} | {c.twin for c in pc.checks if c.twin}
    configs = {MAIN: base}
    for name in sorted(needed - {MAIN, ""}):
        configs[name] = twin_config(base, pc.twins[name], offset)
    return configs


Run = Measured | RunSummary


def _metric_value(run: Run, metric: str) -> float:
    if isinstance(run, RunSummary):
        return float(run.values.get(metric, math.nan))
    return float(METRICS[metric].fn(run))


def _last_layer(run: Run) -> np.ndarray | None:
    if isinstance(run, RunSummary):
        return run.last_layer
    return run.trajectory[-1]


def evaluate(pc: PresetClaims, runs: dict[str, Run]) -> list[tuple[float, float, bool]]:
    """(value, target, holds) of every check on one seed's runs."""
    out = []
    for c in pc.checks:
        left = runs[c.run]
        if c.metric in PAIR_METRICS:
            value = last_layer_difference(_last_layer(left), _last_layer(runs[c.twin]))
            target = float(c.value if c.value is not None else math.nan)
        else:
            value = _metric_value(left, c.metric)
            if c.twin:
                target = c.factor * _metric_value(runs[c.twin], c.metric) + c.offset
            else:
                target = float(c.value if c.value is not None else math.nan)
        finished = left.status == "finished"
        holds = bool(finished and math.isfinite(value) and OPS[c.op](value, target))
        out.append((value, target, holds))
    return out


def verify_preset(
    preset: str, seeds: Sequence[int], train: Trainer = train_with_tensorflow
) -> list[CheckResult]:
    """Train `preset` (and its twins) for every seed offset and check every claim."""
    return verify([preset], seeds, jobs=1, train=train)


def _collect(
    pc: PresetClaims, seeds: list[int], per_seed: list[list[tuple[float, float, bool]]]
) -> list[CheckResult]:
    results = []
    for i, c in enumerate(pc.checks):
        fmt = PAIR_METRICS[c.metric].fmt if c.metric in PAIR_METRICS else METRICS[c.metric].fmt
        results.append(
            CheckResult(
                preset=pc.preset,
                claim=c.claim,
                rule=c.rule(),
                seeds=seeds,
                values=[r[i][0] for r in per_seed],
                targets=[r[i][1] for r in per_seed],
                holds=[r[i][2] for r in per_seed],
                fmt=fmt,
                against_twin=bool(c.twin) and c.metric not in PAIR_METRICS,
                needed=c.needed(len(seeds)) if c.share < 1.0 else 0,
            )
        )
    return results


#: the seed offsets `nndyn verify` checks by default: 8 seeds, as every claim was written
#: over (docs/science.md names the seeds each claim's numbers were measured on)
DEFAULT_SEEDS: tuple[int, ...] = tuple(range(8))


@dataclass
class Plan:
    """Which distinct runs verifying `presets` over `seeds` needs, and who reads them.

    `uses[(preset, seed)]` maps each run name (MAIN, twins) to a run key; `configs` and
    `metrics` are per key: a twin that is another preset's run, or the same run as
    another seed's of another preset (init-a at offset s is resnet-w3-ring at s + 1),
    is trained once.
    """

    specs: dict[str, tuple[PresetClaims, RunConfig]]
    uses: dict[tuple[str, int], dict[str, str]]
    configs: dict[str, RunConfig]
    metrics: dict[str, set[str]]
    last: set[str]
    labels: dict[str, str] = field(default_factory=dict)  # "preset [twin] train.seed s"


def plan(
    presets: Sequence[str] | None,
    seeds: Sequence[int],
    metrics: Sequence[str] | None = None,
) -> Plan:
    """The distinct runs to train (`metrics`: measure these on every run, else only what
    the checks read)."""
    names = list(presets) if presets else preset_names()
    # read every preset once: all seeds check the same claims, even if a file changes
    specs = {n: (load_claims(n), load_preset(n)) for n in names}
    p = Plan(specs, {}, {}, {}, set())
    for n in names:
        pc, cfg = specs[n]
        for s in seeds:
            keys = {}
            for run, rcfg in run_configs(pc, s, cfg).items():
                key = run_key(rcfg)
                keys[run] = key
                p.configs.setdefault(key, rcfg)
                who = n if run == MAIN else f"{n} [{run}]"
                p.labels.setdefault(key, f"{who} train.seed {rcfg.train.seed}")
                p.metrics.setdefault(key, set()).update(metrics or ())
            for c in pc.checks:
                if c.metric in PAIR_METRICS:
                    p.last.update({keys[c.run], keys[c.twin]})
                else:
                    p.metrics[keys[c.run]].add(c.metric)
                    if c.twin:
                        p.metrics[keys[c.twin]].add(c.metric)
            p.uses[(n, s)] = keys
    return p


def run_plan(
    p: Plan,
    jobs: int = 1,
    on_done: Callable[[str, int, int], None] | None = None,
    train: Trainer = train_with_tensorflow,
    members: int = ENSEMBLE_MEMBERS,
) -> dict[str, RunSummary]:
    """Train and measure every distinct run of `p` (in `jobs` spawned processes).

    `on_done(label, done, total)` after each run. With TensorFlow (`train` left as it
    is) runs of one shape (`ensemble_key`: the seeds of a preset, its twins that change
    only a rate or h) train together, up to `members` in one compiled program
    (core/train/ensemble.py; each member as it trains alone). With jobs > 1 the
    groups go to a spawned process pool (TensorFlow does not survive fork), one thread
    each, so jobs = number of free cores; the longest first.
    """
    order = sorted(p.configs, key=lambda k: _cost(p.configs[k]), reverse=True)

    def args(key: str) -> tuple[RunConfig, tuple[str, ...], bool]:
        return p.configs[key], tuple(sorted(p.metrics[key])), key in p.last

    done: dict[str, RunSummary] = {}

    def report(key: str) -> None:
        if on_done is not None:
            on_done(p.labels.get(key, key), len(done), len(order))

    if train is not train_with_tensorflow or members <= 1:
        groups = [[key] for key in order]
    else:
        by_shape: dict[str, list[str]] = {}
        for key in order:
            by_shape.setdefault(ensemble_key(p.configs[key]), []).append(key)
        groups = [g[i : i + members] for g in by_shape.values() for i in range(0, len(g), members)]
        groups.sort(key=lambda g: sum(_cost(p.configs[k]) for k in g), reverse=True)

    def finish(group: list[str], summaries: list[RunSummary]) -> None:
        for key, summary in zip(group, summaries, strict=True):
            done[key] = summary
            report(key)

    if jobs <= 1:
        for group in groups:
            if len(group) == 1 and train is not train_with_tensorflow:
                finish(group, [_train_and_summarize(*args(group[0]), train)])
            else:
                finish(group, _summarize_group([args(k) for k in group]))
        return done
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed

    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=jobs, mp_context=ctx) as pool:
        futs = {pool.submit(_summarize_group, [args(k) for k in g]): g for g in groups}
        for f in as_completed(futs):
            finish(futs[f], f.result())
    return done


def _cost(cfg: RunConfig) -> float:
    """A rough training cost (steps x depth x width^2 x batch), to start the longest first."""
    m, t = cfg.model, cfg.train
    batch = t.batch_size if t.batch_size > 0 else cfg.data.n
    return float(t.steps) * m.depth * m.width**2 * batch


def verify(
    presets: Sequence[str] | None = None,
    seeds: Sequence[int] = DEFAULT_SEEDS,
    jobs: int = 1,
    on_done: Callable[[str, int, int], None] | None = None,
    train: Trainer = train_with_tensorflow,
) -> list[CheckResult]:
    """Check the claims of `presets` (default: all) over `seeds`, in `jobs` processes.

    Every distinct run is trained once (`plan`): twins that are another preset's run, or
    the same run at another seed offset, are shared. `on_done(label, done, total)`
    after each run. `train` replaces TensorFlow (tests) when jobs = 1.
    """
    p = plan(presets, seeds)
    done = run_plan(p, jobs, on_done, train)
    out: list[CheckResult] = []
    for n, (pc, _cfg) in p.specs.items():
        per_seed = [
            evaluate(pc, {run: done[key] for run, key in p.uses[(n, s)].items()}) for s in seeds
        ]
        out.extend(_collect(pc, list(seeds), per_seed))
    return out


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
