"""One sweep job: a config in, the trained Run and its summary row out.

A pure function of the config, so it runs unchanged in a process-pool worker, a Dask
worker on another machine, or this process. It returns the Run instead of writing it:
a remote worker may not share our disk, so the sweep's driver saves the `.nndyn`.
Anything that goes wrong becomes the row's status ("failed" plus the reason), never an
exception: one bad run must not end a sweep of hundreds. The numbers come from
core.analysis.claims (the same metrics `nndyn verify` checks), measured on the last finite
snapshot (also for a diverged run, whose status says so).

Training goes through `core.train.trainer.Trainer` (imported here, in the worker, so the
driver never loads TensorFlow); `run_jobs` trains runs of one shape together
(`core.train.ensemble.train_many`, each member as it trains alone) and makes the same rows.
"""

from __future__ import annotations

import logging
import math
import os
import socket
import time
from collections.abc import Sequence
from typing import Any

from nndyn_gui.core.config import RunConfig
from nndyn_gui.core.types import Run

log = logging.getLogger(__name__)

# The row's metrics (core.analysis.metrics.METRICS names); a spec's `metrics` adds to these.
ROW_METRICS = (
    "dense_accuracy",
    "winding",
    "wrong_side_share",
    "max_lip_product",
    "transport",
    "folds",
)
STATUS_FAILED = "failed"  # an exception (bad data file, out of memory, lost worker, ...)
DONE_STATUSES = ("finished", "diverged")  # a result; resume skips these


def _empty_row(names: list[str]) -> dict[str, Any]:
    row: dict[str, Any] = {"status": STATUS_FAILED, "message": "", "steps": 0}
    row.update({"train_acc": math.nan, "test_acc": math.nan})
    row.update(dict.fromkeys(names, math.nan))
    return row


def _where() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"  # which machine / process


def run_job(config: RunConfig, metrics: Sequence[str] = ()) -> tuple[Run | None, dict[str, Any]]:
    """Train `config` to the end and measure it: (Run or None if it failed, summary row).

    The row: status, message, steps, train_acc, test_acc, every ROW_METRICS and
    `metrics` value (nan when undetermined, e.g. the winding), seconds, worker
    (host:pid that ran it).
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    t0 = time.perf_counter()
    names = list(dict.fromkeys([*ROW_METRICS, *metrics]))
    try:
        from nndyn_gui.core.datasets import make_dataset
        from nndyn_gui.core.train.trainer import Trainer

        dataset = make_dataset(config.data)
        result = Trainer(config, dataset).run()
        return _measured(config, dataset, result, names, t0)
    except Exception as e:  # one run's boundary: its row says it failed, the sweep goes on
        log.info("sweep run failed", exc_info=True)
        return None, _failed(names, e, t0)


def run_jobs(
    configs: Sequence[RunConfig], metrics: Sequence[str] = ()
) -> list[tuple[Run | None, dict[str, Any]]]:
    """`run_job` of every config, those of one shape trained together as ensembles
    (core/train/ensemble.py: each member as it trains alone, so the rows are the ones
    `run_job` gives, timing aside). A row's `seconds` is its share of the ensemble's
    training time plus its own measuring. If the ensemble cannot start (a data set
    that fails to load, ...), each run goes on alone through `run_job`."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    names = list(dict.fromkeys([*ROW_METRICS, *metrics]))
    t0 = time.perf_counter()
    try:
        from nndyn_gui.core.datasets import make_dataset
        from nndyn_gui.core.train.ensemble import train_many

        datasets = [make_dataset(c.data) for c in configs]
        results = train_many(list(configs), datasets)
    except Exception:  # e.g. one bad data file: every run on its own, its row says why
        log.info("sweep ensemble failed; the runs go alone", exc_info=True)
        return [run_job(c, metrics) for c in configs]
    share = (time.perf_counter() - t0) / max(1, len(configs))
    out = []
    for config, dataset, result in zip(configs, datasets, results, strict=True):
        t1 = time.perf_counter() - share
        try:
            out.append(_measured(config, dataset, result, names, t1))
        except Exception as e:  # one run's boundary, as in run_job
            log.info("sweep run failed", exc_info=True)
            out.append((None, _failed(names, e, t1)))
    return out


def _failed(names: list[str], e: Exception, t0: float) -> dict[str, Any]:
    row = _empty_row(names)
    row.update(status=STATUS_FAILED, message=f"{type(e).__name__}: {e}".splitlines()[0])
    row["seconds"] = time.perf_counter() - t0
    row["worker"] = _where()
    return row


def _measured(
    config: RunConfig, dataset: Any, result: Any, names: list[str], t0: float
) -> tuple[Run | None, dict[str, Any]]:
    """The Run and the row of one trained run (its metrics on the last snapshot)."""
    from nndyn_gui.core.analysis.metrics import BINARY_METRICS, METRICS, Measured
    from nndyn_gui.core.io.runfile import make_run

    row = _empty_row(names)
    if not result.snapshots:  # e.g. "The initial loss is not finite.": a result, as in
        row.update(status=result.status, message=result.message)  # `nndyn train`
        row["seconds"] = time.perf_counter() - t0
        row["worker"] = _where()
        return None, row
    run = make_run(config, dataset, result)
    final = result.final
    row.update(
        status=result.status,
        message=result.message,
        steps=int(final.step),
        train_acc=float(final.train_acc),
        test_acc=float(final.test_acc),
    )
    measured = Measured(
        config, dataset, final.weights, final.train_acc, final.test_acc, result.status
    )
    problems = []
    for name in names:
        try:
            row[name] = float(METRICS[name].fn(measured))
        except Exception as e:  # one metric failing keeps the run and the others
            log.info("metric %s failed", name, exc_info=True)  # the row says so too
            problems.append(f"{name}: {type(e).__name__}: {e}")
    binary_only = [n for n in names if n in BINARY_METRICS]
    if config.data.classes != 2 and binary_only:  # nan here means "does not apply"
        problems.append(f"{', '.join(binary_only)}: not applicable with K classes")
    if problems:
        row["message"] = "; ".join([row["message"], *problems]).strip("; ")
    row["seconds"] = time.perf_counter() - t0
    row["worker"] = _where()
    return run, row
