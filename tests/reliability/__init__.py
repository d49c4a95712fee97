"""Reliability tests: fuzzed loaders, bad input, injected faults, soak runs, autosave.

Shared helpers live here (imported as `from . import tiny_run`) so the test files stay
about what a user would notice. See docs/reliability.md for the table of what was tried.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np

from nndyn_gui.core.config import RunConfig
from nndyn_gui.core.network import initial_weights
from nndyn_gui.core.types import Dataset, NetWeights, Run, Snapshot

REPO = Path(__file__).resolve().parents[2]
PYTHON = sys.executable


def tiny_config(**overrides: object) -> RunConfig:
    """A config that trains in well under a second (after the one-off compile)."""
    cfg = RunConfig()
    cfg.data.n = 60
    cfg.model.width = 2
    cfg.model.depth = 2
    cfg.model.h = 0.5
    cfg.train.steps = 20
    cfg.train.snapshot_every = 10
    cfg.train.steps_per_call = 10
    cfg.train.learning_rate = 0.05
    for key, value in overrides.items():
        section, name = key.split("__")
        setattr(getattr(cfg, section), name, value)
    return cfg.validate()


def tiny_dataset(n: int = 40, seed: int = 3) -> Dataset:
    """A ring-like data set built with numpy alone (no dependency on core.datasets)."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1, 1, size=(n, 2))
    y = (np.hypot(x[:, 0], x[:, 1]) > 0.5).astype(np.int64)
    k = (3 * n) // 4
    return Dataset(x[:k], y[:k], x[k:], y[k:], name="ring")


def tiny_run(n_snaps: int = 3, **overrides: object) -> Run:
    """A small but complete run (several snapshots with distinct weights), no TensorFlow."""
    cfg = tiny_config(**overrides)
    rng = np.random.default_rng(11)
    snaps = []
    for i in range(n_snaps):
        w0 = initial_weights(cfg.model, seed=i)
        w = NetWeights(w0.A, rng.normal(size=w0.b.shape), w0.w, float(rng.normal()))
        snaps.append(Snapshot(i * 10, 0.7 / (i + 1), 0.5 + 0.1 * i, 0.5, w, 0.1 * i))
    return Run(cfg, tiny_dataset(), snaps, "finished", "Finished 20 steps.", {"nndyn": "t"})


def listing(folder: Path) -> dict[str, tuple[int, int]]:
    """Every file under `folder` -> (size, mtime_ns): compare before / after to see writes."""
    out: dict[str, tuple[int, int]] = {}
    for root, _dirs, files in os.walk(folder):
        for name in files:
            p = Path(root) / name
            try:
                st = p.stat()
            except FileNotFoundError:
                continue
            out[str(p.relative_to(folder))] = (st.st_size, st.st_mtime_ns)
    return out


def subprocess_env(**extra: str) -> dict[str, str]:
    """Environment for child Pythons: offscreen Qt, quiet TensorFlow, repo importable.

    A PYTHONPATH in `extra` is put in front of the repository (never replaces it).
    """
    env = dict(os.environ)
    paths = [extra.pop("PYTHONPATH")] if "PYTHONPATH" in extra else []
    paths += [str(REPO), env.get("PYTHONPATH", "")]
    env.update(
        QT_QPA_PLATFORM="offscreen",
        TF_CPP_MIN_LOG_LEVEL="2",
        PYTHONPATH=os.pathsep.join(p for p in paths if p),
        PYTHONFAULTHANDLER="1",
    )
    env.update(extra)
    return env
