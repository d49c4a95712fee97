"""Stop conditions: a target loss, a target accuracy, a plateau of the loss.

Why a module of its own: the trainer checks them at every snapshot (where the full
training-set loss and accuracy are measured), the window changes them while a run
goes (they are live knobs: `StopRule.retarget`), and the message that says why a run
stopped is part of the run file. Pure Python, so the rule is tested without training.

The plateau is counted in optimiser steps, not seconds, so a run stops at the same
step on every machine (a run file must be reproducible): "no improvement of the loss
by more than PLATEAU_REL of its best value for `stop_plateau` steps".
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from nndyn_gui.core.config import TrainConfig

PLATEAU_REL = 1e-3  # an improvement smaller than 0.1 % of the best loss is no progress


@dataclass
class StopRule:
    """The stop conditions of a run; `check` at each snapshot returns why to stop, or ""."""

    loss: float = 0.0  # 0 = off
    accuracy: float = 0.0  # 0 = off
    plateau: int = 0  # steps; 0 = off
    best_loss: float = math.inf
    best_step: int = 0

    @classmethod
    def of(cls, train: TrainConfig) -> StopRule:
        return cls(train.stop_loss, train.stop_accuracy, train.stop_plateau)

    def retarget(self, train: TrainConfig) -> None:
        """New targets (a live change); the plateau's memory of the best loss is kept."""
        self.loss, self.accuracy, self.plateau = (
            train.stop_loss,
            train.stop_accuracy,
            train.stop_plateau,
        )

    @property
    def active(self) -> bool:
        return bool(self.loss > 0 or self.accuracy > 0 or self.plateau > 0)

    def check(self, step: int, loss: float, train_acc: float) -> str:
        """Why training should stop after this snapshot ("" to go on)."""
        if math.isfinite(loss) and loss < self.best_loss * (1.0 - PLATEAU_REL):
            self.best_loss, self.best_step = loss, step
        if step <= 0:
            return ""  # the untrained net is never "done"
        if self.loss > 0 and math.isfinite(loss) and loss <= self.loss:
            return (
                f"Stopped at step {step:,}: the loss {loss:.4g} reached the target "
                f"{self.loss:g} (stop loss)."
            )
        if self.accuracy > 0 and math.isfinite(train_acc) and train_acc >= self.accuracy:
            return (
                f"Stopped at step {step:,}: training accuracy {100 * train_acc:.1f}% reached "
                f"the target {100 * self.accuracy:g}% (stop accuracy)."
            )
        if self.plateau > 0 and step - self.best_step >= self.plateau:
            return (
                f"Stopped at step {step:,}: the loss has not improved by "
                f"{100 * PLATEAU_REL:g}% for {step - self.best_step:,} steps (best "
                f"{self.best_loss:.4g} at step {self.best_step:,}; stop plateau "
                f"{self.plateau:,})."
            )
        return ""
