"""Compare's snapshot slider: the training steps both runs have a snapshot of, and
each run's last.

Why it exists: replaying training side by side only means something at the same step
on both sides, so the slider walks the steps the runs share (not the off-grid first
snapshot of a quick start, which differs per run). Two different configs (or a run
file) may share fewer, or end at different steps: each run's last step is on the slider
too, so both results can be seen, and each side shows its newest snapshot at or before
the step chosen. The label says which step each side shows: "step 400 (both)" when they agree,
"A: step 380 · B: step 400" when they do not (and the narrator then compares nothing).
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Qt, Signal, Slot
from PySide6.QtWidgets import QLabel, QSizePolicy, QSlider

from nndyn_gui.core.types import Snapshot, TrainResult

AFTER_TRAINING = "snapshot: after training"


class SharedSteps(QObject):
    """`slider` and `label`; `stepChosen(step)` when the user picks a step."""

    stepChosen = Signal(int)

    def __init__(self, parent: QObject, sides: tuple[str, ...] = ("A", "B")) -> None:
        super().__init__(parent)
        self.sides = sides
        self.steps: list[int] = []  # training steps the slider walks
        self.results: list[TrainResult] = []
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setToolTip(
            "Replay training: each net at the step chosen (its newest snapshot up to it)"
        )
        self.slider.setEnabled(False)
        self.label = QLabel(AFTER_TRAINING)
        self.label.setMinimumWidth(230)  # fixed: a changing text never re-lays out
        self.label.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Preferred)
        self.slider.valueChanged.connect(self._on_slider)

    def set_runs(self, results: list[TrainResult]) -> None:
        """Walk the steps all of `results` have and each one's last (fewer than two runs:
        the slider rests), at the last."""
        steps: list[int] = []
        if len(results) >= 2:
            shared = set.intersection(*({s.step for s in r.snapshots} for r in results))
            steps = sorted(shared | {r.final.step for r in results})
        self.steps = steps
        self.results = list(results) if steps else []
        self.slider.blockSignals(True)
        self.slider.setRange(0, max(0, len(steps) - 1))
        self.slider.setValue(max(0, len(steps) - 1))
        self.slider.blockSignals(False)
        self.slider.setEnabled(len(steps) > 1)
        self.label.setText(self.text())

    def step(self) -> int | None:
        """The step the slider shows (None: no steps)."""
        if not self.steps:
            return None
        return self.steps[min(max(self.slider.value(), 0), len(self.steps) - 1)]

    def snapshot_of(self, result: TrainResult | None) -> Snapshot | None:
        """A run's newest snapshot at or before the slider's step (its first when it has
        none that early; its last when the slider rests)."""
        if result is None or not result.snapshots:
            return None
        step = self.step()
        if step is None:
            return result.final
        earlier = [s for s in result.snapshots if s.step <= step]
        return earlier[-1] if earlier else result.snapshots[0]

    def text(self) -> str:
        """Which step each side shows."""
        shown = [self.snapshot_of(r) for r in self.results]
        if self.step() is None or any(s is None for s in shown):
            return AFTER_TRAINING
        steps = [int(s.step) for s in shown if s is not None]
        if len(set(steps)) == 1:
            return f"step {steps[0]:,} (both)"
        return " · ".join(f"{n}: step {k:,}" for n, k in zip(self.sides, steps, strict=False))

    def set_index(self, i: int) -> None:
        self.slider.setValue(min(max(int(i), 0), self.slider.maximum()))

    @Slot(int)
    def _on_slider(self, _i: int) -> None:
        step = self.step()
        if step is not None:
            self.label.setText(self.text())
            self.stepChosen.emit(step)
