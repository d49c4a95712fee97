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
re-layout while numbers change). The snapshot's label changes at once with the picture
(whose own repaint is the costly one), so it never names another step than the other
panels.

Every text is whole on a 1280 px wide window: the widths are the widest texts of *this*
run (its number of steps, not a million), the trainer's labels are hidden when no
trainer runs, and a message (`QStatusBar.showMessage`, drawn in the room the labels
leave, clipped mid-word by Qt) makes the least important labels step aside while it is
shown: the rate first, then the trainer's loss, then its step. The state and the
snapshot's numbers always stay. A message longer than even that room is in the bar's
tooltip.
"""

from __future__ import annotations

import math

from PySide6.QtCore import QObject, QTimer, Slot
from PySide6.QtWidgets import QLabel, QSizeGrip, QStatusBar, QWidget

from nndyn_gui.core.types import Snapshot
from nndyn_gui.ui.state import AppState

PROGRESS_MS = 250  # status-bar numbers while training: four times a second
PAD = 10  # pixels a label gets beyond its text
MESSAGE_MARGIN = 8  # QStatusBar draws its message from x=6 to 2 px before the first label
#: a loss's widest text (`:.4g`: "0.0001234", "1.234e-05")
WIDEST_LOSS = ("0.0001234", "1.234e-05", "8.888e+88")

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
        self.bar = bar
        #: the trainer's labels, least important first (a message hides them in this order)
        self.trainer_labels = (self.rate_label, self.loss_label, self.step_label)
        for w in (self.state_label, self.snapshot_label, *reversed(self.trainer_labels)):
            bar.addPermanentWidget(w)
        self._widths_for: tuple[int, int] | None = None
        bar.messageChanged.connect(self._on_message)
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
        self._set(self.snapshot_label, snapshot_text(self.state.shown))

    def _soon(self) -> None:
        """At once when idle; while training at most every PROGRESS_MS."""
        if self.state.training_state != "training":
            self.flush()
        elif not self._timer.isActive():
            self._timer.start()

    @Slot(str)
    def _on_training_state(self, st: str) -> None:
        self._timer.stop()
        self._set(self.state_label, STATE_TEXT.get(st, st))
        if st == "idle":  # the trainer's numbers go with it: only the snapshot's remain
            self._progress = None
            for label in self.trainer_labels:
                label.setText("")
            self._on_status(self.state.status, self.state.message)
        self._make_room(self.bar.currentMessage())
        self.flush()

    @Slot(str, str)
    def _on_status(self, status: str, message: str) -> None:
        if self.state.training_state != "idle":
            return
        text = RUN_STATUS_TEXT.get(status, status)
        if status == "finished" and message.startswith("Stopped at step"):
            text = "Stopped: target reached"  # a stop condition (core/train/stopping.py)
        self._set(self.state_label, "Diverged" if status == "diverged" else text)
        self.state_label.setToolTip(message)

    @Slot()
    def _on_config(self, *_: object) -> None:
        self._reserve_widths()
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
        self._set(self.snapshot_label, snapshot_text(self.state.shown))
        if self._progress is None or self.state.training_state == "idle":
            return
        step, loss, rate = self._progress
        self._progress = None
        total = self.state.run_config.train.steps
        name = batch_loss_name(self.state.run_config.train.batch_size)
        self._set(self.step_label, f"training step {step:,} / {total:,}")
        self._set(self.loss_label, f"{name} {loss:.4g}" if math.isfinite(loss) else f"{name} —")
        self._set(self.rate_label, f"{rate:,.0f} steps/s" if rate > 0 else "")

    # ------------------------------------------------------------------ widths
    def _reserve_widths(self) -> None:
        """Each label as wide as the widest text this run can give it (recomputed only
        when the run's number of steps or kind of loss changes)."""
        train = self.state.run_config.train
        snaps = self.state.snapshots
        steps = max(train.steps, snaps[-1].step if snaps else 0)
        key = (steps, train.batch_size)
        if key == self._widths_for:
            return
        self._widths_for = key
        name = batch_loss_name(train.batch_size)
        widest = (
            (
                self.snapshot_label,
                [f"step {steps:,} · loss {x} · acc 100.0% · test 100.0%" for x in WIDEST_LOSS],
            ),
            (self.step_label, [f"training step {steps:,} / {steps:,}"]),
            (self.loss_label, [f"{name} {x}" for x in WIDEST_LOSS]),
            (self.rate_label, ["99,999 steps/s"]),
        )
        for label, texts in widest:
            fm = label.fontMetrics()
            label.setMinimumWidth(max(fm.horizontalAdvance(t) for t in texts) + PAD)

    @staticmethod
    def _set(label: QLabel, text: str) -> None:
        """`text`, whole: a label never narrower than its text (grown, rarely, when a
        text is wider than the reserve, e.g. a loaded run's later steps)."""
        label.setText(text)
        need = label.fontMetrics().horizontalAdvance(text) + PAD if text else 0
        if need > label.minimumWidth():
            label.setMinimumWidth(need)

    # ------------------------------------------------------------------ messages
    def message_room(self) -> int:
        """Pixels QStatusBar has for its message: up to the first label shown."""
        bar = self.bar
        xs = [
            w.x()
            for w in bar.findChildren(QWidget)
            if w.parent() is bar and w.isVisible() and not isinstance(w, QSizeGrip)
        ]
        return min(xs, default=bar.width()) - MESSAGE_MARGIN

    @Slot(str)
    def _on_message(self, message: str) -> None:
        self._make_room(message)

    def _make_room(self, message: str) -> None:
        """The trainer's labels shown while it runs, but stepping aside (least important
        first) while a message needs their room; the bar's tooltip holds a message
        longer than all the room there is."""
        trainer = self.state.training_state != "idle"
        for label in self.trainer_labels:
            label.setVisible(trainer)
        need = self.bar.fontMetrics().horizontalAdvance(message) if message else 0
        aside = list(self.trainer_labels)
        while True:
            layout = self.bar.layout()
            if layout is not None:
                layout.activate()  # the labels' geometry now, not at the next paint
            if not message or need <= self.message_room() or not aside:
                break
            aside.pop(0).setVisible(False)
        self.bar.setToolTip(message if message and need > self.message_room() else "")
