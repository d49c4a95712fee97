"""Small runs for the web page's tests, made in numpy (no training, no TensorFlow)."""

from __future__ import annotations

import math

import numpy as np

from nndyn_gui.core.datasets import make_dataset
from nndyn_gui.core.io.presets import load_preset
from nndyn_gui.core.net.initial_weights import initial_weights
from nndyn_gui.core.types import NetWeights, Run, Snapshot


def small_run(width: int = 2, depth: int = 8, n: int = 300, snapshots: int = 3) -> Run:
    """A ring run of `snapshots` snapshots whose weights drift from the initial ones: the
    points move from layer to layer and differ between snapshots (what the page shows)."""
    cfg = load_preset("resnet-w3-ring" if width >= 3 else "resnet-w2-ring")
    cfg.model.width, cfg.model.depth, cfg.data.n = width, depth, n
    cfg.model.h = 0.3
    cfg = cfg.validate()
    dataset = make_dataset(cfg.data)
    w0 = initial_weights(cfg.model, cfg.train.seed)
    rng = np.random.default_rng(1)
    drift_a = rng.normal(0, 0.6, w0.A.shape)
    drift_b = rng.normal(0, 0.4, w0.b.shape)
    head = rng.normal(0, 1.0, w0.w.shape)
    snaps = []
    for i in range(snapshots):
        s = i / max(1, snapshots - 1)
        w = NetWeights(w0.A + s * drift_a, w0.b + s * drift_b, w0.w + s * head, 0.1 * s)
        loss = math.nan if i == 0 else 0.7 - 0.2 * s
        snaps.append(Snapshot(100 * i, loss, 0.5 + 0.4 * s, 0.5 + 0.38 * s, w))
    return Run(cfg, dataset, snaps, status="finished")
