"""Carry point sets through the layers with numpy alone.

The views, the exporter and the diagnostics all need x(t) for t = 0..T; computing it
from NetWeights in numpy keeps them free of TensorFlow and makes the numbers
reproducible from a run file by anyone (see docs/file-format.md).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from nndyn_gui.core.config import ModelConfig
from nndyn_gui.core.types import NetWeights

LEAKY_SLOPE = 0.2


def activation(name: str, z: np.ndarray) -> np.ndarray:
    """The elementwise nonlinearity s used by both MLP and ResNet layers."""
    if name == "tanh":
        return np.tanh(z)
    if name == "relu":
        return np.maximum(z, 0.0)
    if name == "sigmoid":
        return 0.5 * (1.0 + np.tanh(0.5 * z))  # overflow-free logistic
    if name == "leaky_relu":
        return np.where(z >= 0.0, z, LEAKY_SLOPE * z)
    raise ValueError(f"unknown activation {name!r}")


def activation_lipschitz(name: str) -> float:
    """Lipschitz constant of s, used in the invertibility test h*|A|*Lip(s) < 1."""
    return {"tanh": 1.0, "relu": 1.0, "sigmoid": 0.25, "leaky_relu": 1.0}[name]


def embed(x2: np.ndarray, width: int) -> np.ndarray:
    """Zero-pad 2-D inputs to R^width so the flow is a map of R^d (x, y) -> (x, y, 0, ...)."""
    x2 = np.asarray(x2, dtype=np.float64)
    out = np.zeros((x2.shape[0], width), dtype=np.float64)
    out[:, : x2.shape[1]] = x2
    return out


def layer(model: ModelConfig, weights: NetWeights, k: int, x: np.ndarray) -> np.ndarray:
    """Apply layer/block k to rows x (N, d)."""
    z = x @ weights.A[k].T + weights.b[k]
    s = activation(model.activation, z)
    if model.kind == "resnet":
        return x + model.h * s
    return s


def propagate(model: ModelConfig, weights: NetWeights, x2: np.ndarray) -> np.ndarray:
    """Return the trajectory array (T+1, N, d): x(0) is the zero-padded input."""
    x = embed(x2, weights.width)
    out = np.empty((weights.depth + 1, x.shape[0], x.shape[1]), dtype=np.float64)
    out[0] = x
    for k in range(weights.depth):
        x = layer(model, weights, k, x)
        out[k + 1] = x
    return out


def head_probability(weights: NetWeights, x_last: np.ndarray) -> np.ndarray:
    """phi(x) = sigmoid(w.x + c) on the last layer's points."""
    return 0.5 * (1.0 + np.tanh(0.5 * (x_last @ weights.w + weights.c)))


def predict(model: ModelConfig, weights: NetWeights, x2: np.ndarray) -> np.ndarray:
    """0/1 predictions of the whole network for 2-D inputs."""
    x = embed(x2, weights.width)
    for k in range(weights.depth):
        x = layer(model, weights, k, x)
    return (head_probability(weights, x) >= 0.5).astype(np.int64)


@dataclass
class Grid:
    """A regular grid of points plus its line segments, so views can draw a deformed mesh."""

    points: np.ndarray  # (M, 2)
    segments: np.ndarray  # (S, 2) int indices into points: each row one mesh edge


def make_grid(n: int = 21, lim: float = 1.0) -> Grid:
    """n x n lattice over [-lim, lim]^2 with its horizontal and vertical edges."""
    ticks = np.linspace(-lim, lim, n)
    gx, gy = np.meshgrid(ticks, ticks, indexing="xy")
    points = np.column_stack([gx.ravel(), gy.ravel()])
    idx = np.arange(n * n).reshape(n, n)
    horiz = np.column_stack([idx[:, :-1].ravel(), idx[:, 1:].ravel()])
    vert = np.column_stack([idx[:-1, :].ravel(), idx[1:, :].ravel()])
    return Grid(points=points, segments=np.concatenate([horiz, vert]))
