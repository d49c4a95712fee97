"""Helpers for the render tests: tiny data sets, weights that visibly move points, and
stand-ins for core functions that land in parallel changes (used only when missing)."""

from __future__ import annotations

import sys
import types
from dataclasses import dataclass
from typing import Any

import numpy as np

from nndyn_gui.core import flow
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


@dataclass
class _Projection:
    mean: np.ndarray
    components: np.ndarray
    explained: np.ndarray
    labels: list[str]

    def apply(self, x: np.ndarray) -> np.ndarray:
        return (np.asarray(x) - self.mean) @ self.components.T


def _project(traj: np.ndarray, dims: int, ref: Any = None) -> _Projection:
    last = traj[-1] if ref is None else ref
    mean = last.mean(axis=0)
    _, s, vt = np.linalg.svd(last - mean, full_matrices=False)
    ex = s**2 / max(float((s**2).sum()), 1e-300)
    return _Projection(mean, vt[:dims], ex[:dims], [f"PC{i + 1}" for i in range(dims)])


def _layer_substeps(model: Any, weights: NetWeights, k: int, x: np.ndarray) -> list:
    ax = x @ weights.A[k].T
    axb = ax + weights.b[k]
    return [
        ("x", x),
        ("A x", ax),
        ("A x + b", axb),
        ("s(A x + b)", flow.activation(model.activation, axb)),
    ]


def _outer_loop(data_cfg: Any, n: int) -> np.ndarray | None:
    if data_cfg.name not in ("ring", "noisy_ring"):
        return None
    a = np.linspace(0, 2 * np.pi, n, endpoint=False)
    return 0.78 * np.column_stack([np.cos(a), np.sin(a)])


def ensure_core(monkeypatch: Any) -> None:
    """Stub flow.project / flow.layer_substeps / datasets.outer_loop if not merged yet."""
    if not hasattr(flow, "project"):
        monkeypatch.setattr(flow, "project", _project, raising=False)
    if not hasattr(flow, "layer_substeps"):
        monkeypatch.setattr(flow, "layer_substeps", _layer_substeps, raising=False)
    try:
        from nndyn_gui.core import datasets

        if not hasattr(datasets, "outer_loop"):
            monkeypatch.setattr(datasets, "outer_loop", _outer_loop, raising=False)
    except ImportError:
        mod = types.ModuleType("nndyn_gui.core.datasets")
        mod.outer_loop = _outer_loop  # type: ignore[attr-defined]
        monkeypatch.setitem(sys.modules, "nndyn_gui.core.datasets", mod)
