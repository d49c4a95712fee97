"""Sweep tests. Shared here: stand-in sweep jobs (real Run objects, no TensorFlow).

Module-level functions, so a spawned pool worker can import them by name. A job's
"result" is made up but deterministic, so tests can check which row belongs to which run:
dense_accuracy = width / 10 + seed / 100. model.depth picks a misbehaviour:
13 raises, 66 kills the worker process.
"""

from __future__ import annotations

import math
import os
import time
from typing import Any

from nndyn_gui.core.config import RunConfig
from nndyn_gui.core.datasets import make_dataset
from nndyn_gui.core.io.runfile import make_run
from nndyn_gui.core.net.initial_weights import initial_weights
from nndyn_gui.core.types import Snapshot, TrainResult

RAISES_DEPTH = 13
CRASHES_DEPTH = 66


def fake_value(cfg: RunConfig) -> float:
    return cfg.model.width / 10 + cfg.train.seed / 100


def fake_job(cfg: RunConfig, metrics: tuple[str, ...] = ()) -> tuple[Any, dict[str, Any]]:
    if cfg.model.depth == RAISES_DEPTH:
        raise RuntimeError("boom at depth 13")
    if cfg.model.depth == CRASHES_DEPTH:
        os._exit(3)  # what a segfault or the OOM killer looks like to the pool
    if os.environ.get("NNDYN_FAKE_JOB_SLEEP"):
        time.sleep(float(os.environ["NNDYN_FAKE_JOB_SLEEP"]))
    ds = make_dataset(cfg.data)
    snap = Snapshot(0, 0.69, 0.5, 0.5, initial_weights(cfg.model, cfg.train.seed))
    run = make_run(cfg, ds, TrainResult("finished", [snap], "fake"))
    row = {
        "status": "finished",
        "message": "fake",
        "steps": 0,
        "train_acc": 0.5,
        "test_acc": 0.5,
        "dense_accuracy": fake_value(cfg),
        "winding": math.nan if cfg.train.seed == 99 else 1.0,
        "seconds": 0.01,
    }
    return run, row


def make_folder(folder: Any, spec_obj: dict[str, Any]) -> Any:
    """A results folder of fake runs (no TensorFlow), as `nndyn sweep` leaves it."""
    from nndyn_gui.core.sweep.backends import InlineBackend
    from nndyn_gui.core.sweep.runner import Sweep
    from nndyn_gui.core.sweep.spec import parse_spec

    with Sweep(parse_spec(spec_obj), folder) as sweep:
        sweep.run(InlineBackend(), job=fake_job)
    return folder
