"""Helpers for the render tests: tiny data sets and weights that visibly move points."""

from __future__ import annotations

from typing import Any

import numpy as np

from nndyn_gui.core.config import RunConfig
from nndyn_gui.core.types import Dataset, NetWeights


def ring_dataset(n: int = 300, seed: int = 0) -> Dataset:
    """Inner disk (class 0) inside an annulus (class 1), like the app's 'ring'."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    r = np.where(y == 0, 0.35 * np.sqrt(rng.uniform(0, 1, n)), rng.uniform(0.6, 0.95, n))
    a = rng.uniform(0, 2 * np.pi, n)
    x = np.column_stack([r * np.cos(a), r * np.sin(a)])
    k = int(0.8 * n)
    return Dataset(x[:k], y[:k], x[k:], y[k:], "ring")


def config(width: int = 2, depth: int = 4, kind: str = "resnet", h: float = 0.5) -> RunConfig:
    cfg = RunConfig()
    cfg.model.width, cfg.model.depth, cfg.model.kind, cfg.model.h = width, depth, kind, h
    cfg.data.name = "ring"
    return cfg.validate()


def moving_weights(cfg: RunConfig, seed: int = 1) -> NetWeights:
    """Weights that rotate and stretch, so every layer looks different."""
    d, t = cfg.model.width, cfg.model.depth
    rng = np.random.default_rng(seed)
    a = 1.5 * rng.normal(size=(t, d, d)) / np.sqrt(d)
    b = 0.2 * rng.normal(size=(t, d))
    w = rng.normal(size=d)
    return NetWeights(a, b, w, 0.1)


def drawn_line_sides(view: Any) -> tuple[np.ndarray, np.ndarray]:
    """Dataset rows of the points a LayerView2D draws, and their side (0/1) of its line.

    Read from the graphics items: the separating line's end points and the scatter
    items' positions (class k draws the scene rows whose label is k, in order).
    """
    assert view.plane_item.isVisible(), "no separating line is drawn"
    lx, ly = view.plane_item.getData()
    p0 = np.array([lx[0], ly[0]])
    u = np.array([lx[-1], ly[-1]]) - p0
    sc = view.flow_scene()
    rows, sides = [], []
    for k, item in enumerate(view.class_items):
        x, y = item.getData()
        cross = u[0] * (np.asarray(y) - p0[1]) - u[1] * (np.asarray(x) - p0[0])
        rows.append(sc.indices[np.flatnonzero(sc.labels == k)])
        sides.append((cross > 0).astype(np.int64))
    return np.concatenate(rows), np.concatenate(sides)
