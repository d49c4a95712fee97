"""Shared by the core tests: a tiny engine config and a ring-like data set."""

from __future__ import annotations

from typing import Any

import numpy as np

from nndyn_gui.core.config import RunConfig
from nndyn_gui.core.types import Dataset


def engine_config(**train: Any) -> RunConfig:
    """Width 2, 3 blocks, 60 steps in calls of 10: a run the worker finishes at once."""
    cfg = RunConfig()
    cfg.data.n = 120
    cfg.model.width, cfg.model.depth, cfg.model.h = 2, 3, 0.5
    cfg.train.steps, cfg.train.snapshot_every, cfg.train.steps_per_call = 60, 20, 10
    for k, v in train.items():
        setattr(cfg.train, k, v)
    return cfg.validate()


def disk_data(n: int = 120) -> Dataset:
    """Points in the square, class 1 outside radius 0.6; the first 100 train."""
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, (n, 2))
    y = (np.hypot(x[:, 0], x[:, 1]) > 0.6).astype(np.int64)
    return Dataset(x[:100], y[:100], x[100:], y[100:], "ring")
