"""The status bar's numbers: the shown snapshot's, and the running trainer's, apart.

Why two groups: the trainer reports, after each compiled call, the loss of its last
optimiser step on the last (mini-)batch, at a step no snapshot was taken at; the
curves, the diagnostics and the picture all belong to a snapshot (the full training
set's objective and accuracies at that step). Shown side by side without names they
disagreed (0.106 vs 0.206). So the snapshot group always names its step and follows
`AppState.shown` (what the main view has drawn, like every other readout), and the
trainer group says "training step" and "batch loss" and is only there while training.

While training each repaint of a window holding a 3-D view is a full composition on
software OpenGL, so the trainer's labels change at most every PROGRESS_MS (the last
numbers are always shown), and every label has its widest text's width up front (no
re-layout). The snapshot's label changes at once with the picture (whose own repaint
is the costly one), so it never names another step than the other panels.
"""

from __future__ import annotations

import math

from PySide6.QtCore import QObject, QTimer, Slot
from PySide6.QtWidgets import QLabel, QStatusBar

from nndyn_gui.core.types import Snapshot
from nndyn_gui.ui.state import AppState

PROGRESS_MS = 250  # status-bar numbers while training: four times a second

STATE_TEXT = {
    "idle": "Ready",
    "loading": "Starting (compiling)…",
    "training": "Training",
    "paused": "Paused",
    "stopping": "Stopping…",
}
RUN_STATUS_TEXT = {"new": "Ready", "finished": "Finished", "cancelled": "Stopped"}


def snapshot_text(snap: Snapshot | None) -> str:
    """ "step 1,200 · loss 0.0123 · acc 98.5% · test 97.0%" (the full training set's)."""
    if snap is None:
        return ""
    if snap.step == 0 and not math.isfinite(snap.loss):
        return "untrained"
    test = f" · test {100 * snap.test_acc:.1f}%" if math.isfinite(snap.test_acc) else ""
    loss = f"{snap.loss:.4g}" if math.isfinite(snap.loss) else "—"
    return f"step {snap.step:,} · loss {loss} · acc {100 * snap.train_acc:.1f}%{test}"


def batch_loss_name(batch_size: int) -> str:
    """What the trainer's progress loss is: a mini-batch's, or the last step's."""
    return "batch loss" if batch_size > 0 else "last-step loss"


class StatusReadout(QObject):
    """Owns the status bar's labels and keeps them true to the state."""

    def __init__(self, state: AppState, bar: QStatusBar) -> None:
        super().__init__(bar)
        self.state = state
        self.state_label = QLabel()
        self.snapshot_label = QLabel()
        self.snapshot_label.setToolTip(
            "The snapshot shown in the views: its step, and the loss and accuracies "
            "on the whole training set (and the test set) at that step"
        )
        self.step_label = QLabel()
        self.step_label.setToolTip("Optimiser steps done by the running trainer")
        self.loss_label = QLabel()
        self.rate_label = QLabel()
        widest = (
            (self.state_label, "Starting (compiling)…"),
            (self.snapshot_label, "step 1,000,000 · loss 0.0001234 · acc 100.0% · test 100.0%"),
            (self.step_label, "training step 1,000,000 / 1,000,000"),
            (self.loss_label, "last-step loss 0.0001234"),
            (self.rate_label, "99,999 steps/s"),
        )
        for w, text in widest:
            w.setMinimumWidth(max(110, w.fontMetrics().horizontalAdvance(text) + 10))
            bar.addPermanentWidget(w)
        self._progress: tuple[int, float, float] | None = None
        self._timer = QTimer(self)
        self._timer.setObjectName("status-readout")
        self._timer.setSingleShot(True)
        self._timer.setInterval(PROGRESS_MS)
        self._timer.timeout.connect(self.flush)
        state.progressChanged.connect(self._on_progress)
        state.shownChanged.connect(self._on_shown)
        state.trainingStateChanged.connect(self._on_training_state)
        state.statusChanged.connect(self._on_status)
        # the shown run's config: it changes with a new run or a live change, not the panel
        state.snapshotsChanged.connect(self._on_config)
        state.tuningChanged.connect(self._on_config)
        self._on_config()
        self._on_training_state(state.training_state)
        self.flush()

    def stop(self) -> None:
        """No more deferred updates (the window closes)."""
        self._timer.stop()

    # ------------------------------------------------------------------ slots
    @Slot(int, float, float)
    def _on_progress(self, step: int, loss: float, rate: float) -> None:
        self._progress = (step, loss, rate)
        self._soon()

    @Slot(object)
    def _on_shown(self, _snap: Snapshot) -> None:
        self.snapshot_label.setText(snapshot_text(self.state.shown))

    def _soon(self) -> None:
        """At once when idle; while training at most every PROGRESS_MS."""
        if self.state.training_state != "training":
            self.flush()
        elif not self._timer.isActive():
            self._timer.start()

    @Slot(str)
    def _on_training_state(self, st: str) -> None:
        self._timer.stop()
        self.state_label.setText(STATE_TEXT.get(st, st))
        if st == "idle":  # the trainer's numbers go with it: only the snapshot's remain
            self._progress = None
            for label in (self.step_label, self.loss_label, self.rate_label):
                label.setText("")
            self._on_status(self.state.status, self.state.message)
        self.flush()

    @Slot(str, str)
    def _on_status(self, status: str, message: str) -> None:
        if self.state.training_state != "idle":
            return
        text = RUN_STATUS_TEXT.get(status, status)
        if status == "finished" and message.startswith("Stopped at step"):
            text = "Stopped: target reached"  # a stop condition (core/train/stopping.py)
        self.state_label.setText("Diverged" if status == "diverged" else text)
        self.state_label.setToolTip(message)

    @Slot()
    def _on_config(self, *_: object) -> None:
        name = batch_loss_name(self.state.run_config.train.batch_size)
        self.loss_label.setToolTip(
            f"The trainer's {name}: the objective of its last optimiser step"
            + (" on one mini-batch" if name == "batch loss" else "")
            + ", before that step was applied. Not a snapshot's loss: the snapshot's "
            "(whole training set) is on the left."
        )

    @Slot()
    def flush(self) -> None:
        """Show the newest numbers now."""
        self.snapshot_label.setText(snapshot_text(self.state.shown))
        if self._progress is None or self.state.training_state == "idle":
            return
        step, loss, rate = self._progress
        self._progress = None
        total = self.state.run_config.train.steps
        name = batch_loss_name(self.state.run_config.train.batch_size)
        self.step_label.setText(f"training step {step:,} / {total:,}")
        self.loss_label.setText(f"{name} {loss:.4g}" if math.isfinite(loss) else f"{name} —")
        self.rate_label.setText(f"{rate:,.0f} steps/s" if rate > 0 else "")
