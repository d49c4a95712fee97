"""Compare's snapshot slider: the training steps both runs have a snapshot of.

Why it exists: replaying training side by side only means something at the same step
on both sides, so the slider walks the steps the runs share, and each side shows its
own snapshot of the step chosen (its nearest, should its grid differ). The label says
which step both sides show.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Qt, Signal, Slot
from PySide6.QtWidgets import QLabel, QSlider

from nndyn_gui.core.types import Snapshot, TrainResult

AFTER_TRAINING = "snapshot: after training"


class SharedSteps(QObject):
    """`slider` and `label`; `stepChosen(step)` when the user picks a step."""

    stepChosen = Signal(int)

    def __init__(self, parent: QObject) -> None:
        super().__init__(parent)
        self.steps: list[int] = []  # training steps the slider walks
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setToolTip("Replay training: both nets at the same training step")
        self.slider.setEnabled(False)
        self.label = QLabel(AFTER_TRAINING)
        self.label.setMinimumWidth(150)
        self.slider.valueChanged.connect(self._on_slider)

    def set_runs(self, results: list[TrainResult]) -> None:
        """Walk the steps every one of `results` has (none: the slider rests), at the last."""
        steps: list[int] = []
        if len(results) >= 2:
            shared = set.intersection(*({s.step for s in r.snapshots} for r in results))
            steps = sorted(shared)
        self.steps = steps
        self.slider.blockSignals(True)
        self.slider.setRange(0, max(0, len(steps) - 1))
        self.slider.setValue(max(0, len(steps) - 1))
        self.slider.blockSignals(False)
        self.slider.setEnabled(len(steps) > 1)
        self.label.setText(f"step {steps[-1]:,} (both)" if steps else AFTER_TRAINING)

    def step(self) -> int | None:
        """The step the slider shows (None: no shared steps)."""
        if not self.steps:
            return None
        return self.steps[min(max(self.slider.value(), 0), len(self.steps) - 1)]

    def snapshot_of(self, result: TrainResult | None) -> Snapshot | None:
        """A run's snapshot at the slider's step (its last when there are no shared steps)."""
        if result is None or not result.snapshots:
            return None
        step = self.step()
        if step is None:
            return result.final
        return min(result.snapshots, key=lambda s: abs(s.step - step))

    def set_index(self, i: int) -> None:
        self.slider.setValue(min(max(int(i), 0), self.slider.maximum()))

    @Slot(int)
    def _on_slider(self, _i: int) -> None:
        step = self.step()
        if step is not None:
            self.label.setText(f"step {step:,} (both)")
            self.stepChosen.emit(step)
