"""Train and measure the distinct runs a verification needs (`run_plan`).

Why apart from claims.py: this is the part that trains (it imports the trainer, and so
TensorFlow, at the first run). Runs of one shape (`ensemble_key`) train together as one
ensemble (core/train/ensemble.py), groups go to spawned processes, and only the numbers
measured on each run (`RunSummary`) come back. Which runs a set of presets needs (`claims.plan`)
and what is checked on them stay in core/analysis/claims.py.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field

import numpy as np

from nndyn_gui.core.analysis.claim_spec import PresetClaims
from nndyn_gui.core.analysis.metrics import METRICS, Measured
from nndyn_gui.core.config import RunConfig
from nndyn_gui.core.datasets import make_dataset
from nndyn_gui.core.types import Dataset, NetWeights

#: how a run is trained: final weights, train and test accuracy, status (tests pass a fake)
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
