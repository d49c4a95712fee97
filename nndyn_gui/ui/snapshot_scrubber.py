"""The snapshot slider under the main view: replay training, one saved snapshot at a time.

Why it exists: the slider walks the state's snapshots and its label names the snapshot
whose picture is on screen (AppState.shown), not the newest one still being drawn, so
the words under the view always describe the view.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Qt, Slot
from PySide6.QtWidgets import QLabel, QSlider

from nndyn_gui.core.analysis.narrator import is_trained
from nndyn_gui.core.types import Snapshot
from nndyn_gui.ui import steps
from nndyn_gui.ui.state import AppState


class SnapshotScrubber(QObject):
    """`slider` picks the state's current snapshot; `label` names the one shown."""

    def __init__(self, state: AppState, parent: QObject) -> None:
        super().__init__(parent)
        self.state = state
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setToolTip("Replay training: show the net as it was at this snapshot")
        self.slider.valueChanged.connect(self._on_slider)
        self.label = QLabel()
        state.shownChanged.connect(self.show_label)  # whoever set it: named at once

    def step(self, step: int) -> None:
        """Show the next (+1) or previous (-1) training snapshot."""
        snaps = self.state.snapshots
        if len(snaps) < 2:
            return
        i = min(max(self.slider.value() + (1 if step > 0 else -1), 0), len(snaps) - 1)
        if snaps[i] is not self.state.current:
            self.state.set_current(snaps[i])

    def refresh(self) -> None:
        """The slider spans the snapshots there are, and sits at the current one."""
        n = len(self.state.snapshots)
        self.slider.blockSignals(True)
        self.slider.setRange(0, max(0, n - 1))
        self.slider.blockSignals(False)
        self.slider.setEnabled(n > 1)
        self.sync()

    def sync(self) -> None:
        """The slider at the current snapshot, the label naming the one shown."""
        snaps, cur = self.state.snapshots, self.state.current
        idx = next((i for i in range(len(snaps) - 1, -1, -1) if snaps[i] is cur), len(snaps) - 1)
        self.slider.blockSignals(True)
        self.slider.setValue(max(0, idx))
        self.slider.blockSignals(False)
        self.show_label()

    @Slot()
    def show_label(self, *_: object) -> None:
        """The label names the snapshot drawn (not the newest one still being drawn)."""
        snaps, shown = self.state.snapshots, self.state.shown
        if shown is None:
            return
        idx = next((i for i in range(len(snaps) - 1, -1, -1) if snaps[i] is shown), -1)
        self.label.setText(_snapshot_text(shown, idx, len(snaps)))

    @Slot(int)
    def _on_slider(self, i: int) -> None:
        snaps = self.state.snapshots
        if 0 <= i < len(snaps) and snaps[i] is not self.state.current:
            self.state.set_current(snaps[i])


def _snapshot_text(s: Snapshot, idx: int, n: int) -> str:
    """ "3/41 · step 1,200 · acc 97.0%" (training accuracy), "untrained (step 0)"."""
    if not is_trained(s):
        return steps.step_name(s)
    acc = f"{100 * s.train_acc:.1f}%"
    where = f"{idx + 1}/{n} · " if idx >= 0 else ""  # thinned away while training
    return f"{where}{steps.step_name(s)} · acc {acc}"
