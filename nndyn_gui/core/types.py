"""Plain-data records passed between the engine, the renderer and the UI.

Only numpy arrays and dataclasses cross the core boundary, so the UI never needs
TensorFlow and the renderer never needs the trainer. Conventions (also in
docs/file-format.md): points are rows, a layer maps X (N, d) to
    MLP:    X @ A_k.T + b_k  -> act
    ResNet: X + h * act(X @ A_k.T + b_k)
and the head is p = sigmoid(X_T @ w + c); class 1 when p >= 0.5 (two classes). With
K > 2 classes the head is a softmax: logits X_T @ W.T + c with W (K, d), c (K,), and the
class is the argmax (the first one on a tie). Two classes keep the sigmoid head, so a
binary run is exactly what it always was.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from nndyn_gui.core.config import RunConfig


@dataclass
class Dataset:
    """Points in [-1, 1]^2 with labels 0..K-1, split into train and test."""

    x_train: np.ndarray  # (N_train, 2) float64
    y_train: np.ndarray  # (N_train,) int64 in {0, ..., K-1}
    x_test: np.ndarray  # (N_test, 2)
    y_test: np.ndarray  # (N_test,)
    name: str = ""

    @property
    def x_all(self) -> np.ndarray:
        return np.concatenate([self.x_train, self.x_test])

    @property
    def y_all(self) -> np.ndarray:
        return np.concatenate([self.y_train, self.y_test])


@dataclass
class NetWeights:
    """All parameters as numpy arrays; tied nets still store T (identical) copies.

    The head: two classes, w (d,) and c a float (sigmoid); K > 2 classes, w (K, d) and
    c (K,) (softmax). `classes` tells which.
    """

    A: np.ndarray  # (T, d, d)
    b: np.ndarray  # (T, d)
    w: np.ndarray  # (d,) or (K, d)
    c: float | np.ndarray  # float or (K,)

    @property
    def depth(self) -> int:
        return int(self.A.shape[0])

    @property
    def width(self) -> int:
        return int(self.A.shape[1])

    @property
    def classes(self) -> int:
        """K: 2 for the sigmoid head (w a vector), else the softmax head's rows."""
        return 2 if np.ndim(self.w) == 1 else int(np.shape(self.w)[0])

    def copy(self) -> NetWeights:
        c = float(self.c) if np.ndim(self.c) == 0 else np.array(self.c, dtype=np.float64)
        return NetWeights(self.A.copy(), self.b.copy(), self.w.copy(), c)

    def is_finite(self) -> bool:
        return bool(
            np.isfinite(self.A).all()
            and np.isfinite(self.b).all()
            and np.isfinite(self.w).all()
            and np.isfinite(self.c).all()
        )


@dataclass
class Snapshot:
    """The state of training after `step` optimiser steps."""

    step: int
    loss: float
    train_acc: float
    test_acc: float
    weights: NetWeights
    elapsed: float = 0.0  # seconds since training started
    steps_per_s: float = 0.0


TrainStatus = Literal["finished", "cancelled", "diverged"]


@dataclass
class TrainResult:
    """What a training run ended with; `weights` is the last finite snapshot's."""

    status: TrainStatus
    snapshots: list[Snapshot]
    message: str = ""
    #: versions of the programs that trained it (the worker's TensorFlow, ...)
    versions: dict[str, str] = field(default_factory=dict)

    @property
    def final(self) -> Snapshot:
        return self.snapshots[-1]


@dataclass
class Run:
    """Everything saved in a `.nndyn` file: config, the data used, and the snapshots."""

    config: RunConfig
    dataset: Dataset
    snapshots: list[Snapshot] = field(default_factory=list)
    status: str = "new"  # new | finished | cancelled | diverged
    message: str = ""
    versions: dict[str, str] = field(default_factory=dict)
    #: live changes made while it trained: (step, {train field: (old, new)}), in order;
    #: `config` holds the values after the last one (core/train/live.py)
    tuning: list[tuple[int, dict[str, tuple[Any, Any]]]] = field(default_factory=list)

    @property
    def weights(self) -> NetWeights | None:
        return self.snapshots[-1].weights if self.snapshots else None
