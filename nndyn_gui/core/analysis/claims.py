"""Every sentence a preset says about its result is a claim the project reruns.

A preset JSON carries, next to its description, the claims the description makes as
measurable predicates ("dense accuracy >= 0.99", "winding = 1", "the invertibility bound
binds", "transport at most half that of the unregularised twin"). `verify` trains the
preset over several seeds (train.seed = the preset's seed + offset), measures, and says
for each claim and seed whether it holds. `nndyn verify` prints the table; docs/science.md
carries it. If a claim fails, the preset (settings or text) is what must change.

The claims' format is core/analysis/claim_spec.py; training and measuring the runs
core/analysis/claim_runs.py; the results and their table core/analysis/claim_results.py.
This module reads a preset's claims, plans the distinct runs, and checks every claim on
every seed.

Pure core: TensorFlow is imported (lazily) only to train.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np

from nndyn_gui.core.analysis.claim_results import CheckResult
from nndyn_gui.core.analysis.claim_runs import (
    Plan,
    RunSummary,
    Trainer,
    run_key,
    run_plan,
    train_with_tensorflow,
)
from nndyn_gui.core.analysis.claim_spec import (
    MAIN,
    OPS,
    ClaimError,
    PresetClaims,
    Twin,
    parse_claims,
)
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
