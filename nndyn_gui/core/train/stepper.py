"""What both steppers share: typed hyper-parameters, the optimiser state, the protocol.

Why: a run trains with two steppers, numpy (core/train/quickstep.py) while XLA compiles and
then the compiled TensorFlow step (core/train/program.py); the trainer's run loop calls
either through `Stepper` and hands the state from one to the other. Pure numpy, so the
window's process can import it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np

from nndyn_gui.core.config import ModelConfig, TrainConfig


@dataclass(frozen=True)
class Hyper:
    """The numbers a step reads that do not change its compiled graph (so a new value
    never recompiles); hashable, so the trainer converts each one to tensors once."""

    learning_rate: float
    h: float
    weight_decay: float
    transport: float
    bound: float  # c of the invertibility bound h |A|_2 Lip(s) <= c

    @classmethod
    def of(cls, model: ModelConfig, train: TrainConfig) -> Hyper:
        return cls(
            learning_rate=float(train.learning_rate),
            h=float(model.h),
            weight_decay=float(train.weight_decay),
            transport=float(train.transport),
            bound=float(model.invertible_bound),
        )


@dataclass
class State:
    """Parameters (a, b, w, c; tied nets hold one block), Adam's m and v, step count t."""

    params: list[np.ndarray]
    slots: list[list[np.ndarray]]  # [m, v] for Adam, [] for SGD
    t_opt: float = 0.0

    def copy(self) -> State:
        return State(
            [p.copy() for p in self.params],
            [[s.copy() for s in g] for g in self.slots],
            self.t_opt,
        )


class Stepper(Protocol):
    """Optimiser steps of one structure on one data set, from a state it holds."""

    def fused(
        self, rows: np.ndarray | None, n_steps: int, hyper: Hyper, deadline: float | None = None
    ) -> tuple[int, float, int]:
        """Up to n_steps steps (`rows` (n_steps, B) mini-batch rows, None: full batch);
        stop before a non-finite one, or once `deadline` (perf_counter) has passed if the
        stepper honours it. (steps done, last loss, reason: 0 ok, 1 loss not finite,
        2 gradient or new weights not finite)."""
        ...

    def evaluate(self, hyper: Hyper) -> tuple[float, float, float]:
        """Full training-set objective, train and test accuracy (NaN: no test set)."""
        ...

    def state(self) -> State:
        """A copy of the current state (to continue with another stepper)."""
        ...


class BatchStream:
    """The mini-batch rows of a run: a seeded stream of per-epoch permutations of the
    training points (epoch e is `default_rng([seed, e]).permutation(n)`), read B at a time.

    Batches depend only on (seed, position), never on how many steps a call runs, so the
    weights do not change when the UI changes how often it wants progress, and a run
    trained inside an ensemble sees the very batches it sees alone.
    """

    def __init__(self, seed: int, n_train: int) -> None:
        self.seed = int(seed)
        self.n = int(n_train)
        self._cache: tuple[int, np.ndarray] | None = None

    def rows(self, first: int, k: int, batch: int) -> np.ndarray:
        """(k, batch) int32 rows from sample position `first` on."""
        n = self.n
        pos = np.arange(first, first + k * batch, dtype=np.int64)
        flat = np.empty(pos.shape, dtype=np.int32)
        epochs = pos // n
        for e in np.unique(epochs):
            sel = epochs == e
            flat[sel] = self._permutation(int(e))[pos[sel] % n]
        return flat.reshape(k, batch)

    def _permutation(self, epoch: int) -> np.ndarray:
        if self._cache is None or self._cache[0] != epoch:
            rng = np.random.default_rng([self.seed, epoch])
            self._cache = (epoch, rng.permutation(self.n).astype(np.int32))
        return self._cache[1]
