"""Compare's two runs: A (the current config from seed A) and B (the chooser's pick).

Why it exists: which two runs the columns show is one answer the window (to train and
draw them), its captions (to title them) and its export all ask for. B may need a file
read or a data set made (a preset's data, a run file), so it is resolved off the GUI
thread (ui/background.NewestWins), the newest choice winning; another seed of this
config is resolved at once (nothing to read). While `locked()` (training) the pair holds
still: a change of the current config, of seed A or of B's choice is taken up after.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Signal, Slot
from PySide6.QtWidgets import QSpinBox, QWidget

from nndyn_gui.core.config import RunConfig
from nndyn_gui.core.types import Dataset
from nndyn_gui.ui.background import NewestWins
from nndyn_gui.ui.compare_chooser import Choice, SecondRun, SecondRunChooser, resolve
from nndyn_gui.ui.state import AppState


class RunPair(QObject):
    """`seed_a` (A's seed) and `chooser` (B); `second` is B resolved (None: being read,
    or it could not be)."""

    reading = Signal()  # B is being read: nothing to train until it is known
    resolved = Signal(str)  # B is known (`second`), or not (`second` None; why, or "")

    def __init__(self, state: AppState, locked: Callable[[], bool], parent: QWidget) -> None:
        super().__init__(parent)
        self.state = state
        self._locked = locked
        self._config = state.config.copy()  # A's base (its seed: seed_a)
        self._dataset: Dataset = state.dataset
        self._closed = False
        self.second: SecondRun | None = None
        seed = state.config.train.seed
        self.seed_a = QSpinBox()
        self.seed_a.setRange(0, 2**31 - 1)
        self.seed_a.setValue(seed)
        self.seed_a.setToolTip("A: the current config from this weight seed")
        self.seed_a.valueChanged.connect(self._on_seed_changed)
        self.chooser = SecondRunChooser(seed + 1, parent)
        self.chooser.changed.connect(self._on_choice)
        self.job = NewestWins(self, name="nndyn-compare-second", what="read run B")
        self.job.done.connect(self._on_read)
        state.configChanged.connect(self._on_config)
        state.datasetChanged.connect(self._on_config)

    def seeds(self) -> tuple[int, int]:
        """The weight seeds of A and B (B's own config's, whatever B is)."""
        b = self.second.config.train.seed if self.second is not None else -1
        return self.seed_a.value(), b

    def config_of(self, side: int) -> RunConfig:
        """The config column `side` shows (A: the current one with seed A)."""
        if side == 1 and self.second is not None:
            return self.second.config
        cfg = self._config.copy()
        cfg.train.seed = self.seed_a.value()
        return cfg

    def dataset_of(self, side: int) -> Dataset:
        if side == 1 and self.second is not None:
            return self.second.dataset
        return self._dataset

    def choose(self, mode: str, value: str = "", seed: int | None = None) -> None:
        """Pick B (as the chooser does): "seed", "preset", "file" or "change"."""
        self.chooser.set_choice(mode, value, seed)

    def take_current(self) -> None:
        """A's base from now on: the current config and data (training starts)."""
        self._config = self.state.config.copy()
        self._dataset = self.state.dataset

    def set_editable(self, on: bool) -> None:
        """Let the user change seed A and B's choice (not while training)."""
        self.seed_a.setEnabled(on)
        self.chooser.setEnabled(on)

    def resolve(self, wait: bool = False) -> None:
        """Read B (a preset's data, a run file) off the GUI thread; `wait`: here, now
        (another seed: nothing to read)."""
        if self._closed:
            return
        if self.chooser.choice().mode == "file" and not self.chooser.path:
            return  # no file picked yet
        self.second = None
        self.reading.emit()
        if wait:
            self._on_read(*self.job.run_now(self._job()))
        else:
            self.job.request(self._job())

    def busy(self) -> bool:
        return self.job.busy()

    def wait(self, timeout_s: float) -> None:
        """Block until B is read, then take it (tests, screenshots)."""
        if self.job.busy():
            self.job.wait(timeout_s)
            self._on_read(*self.job.run_now(self._job()))

    def shutdown(self) -> None:
        """No more reading (window close)."""
        self._closed = True
        self.job.shutdown()

    def _job(self) -> Any:
        choice: Choice = self.chooser.choice()
        base, data = self.config_of(0), self._dataset
        return lambda: (choice, resolve(choice, base, data))

    @Slot(object, str)
    def _on_read(self, result: Any, error: str) -> None:
        if self._closed:
            return
        if result is None:
            self.resolved.emit(error)
            return
        choice, second = result
        if choice != self.chooser.choice():
            return  # the user chose again meanwhile: its own job follows
        self.second = second
        self.resolved.emit("")

    @Slot()
    def _on_choice(self) -> None:
        if not self._locked():
            self.resolve()

    @Slot(int)
    def _on_seed_changed(self, *_: object) -> None:
        if not self._locked():
            self.resolve(wait=self.chooser.choice().mode == "seed")

    @Slot(object)
    def _on_config(self, *_: object) -> None:
        """The current config or data changed: A follows, and B (the next seed, or the
        same change on the new config)."""
        if self._locked() or self._closed:
            return
        self.take_current()
        seed = self._config.train.seed
        self.seed_a.blockSignals(True)
        self.seed_a.setValue(seed)
        self.seed_a.blockSignals(False)
        self.chooser.set_seed_quietly(seed + 1)
        self.resolve(wait=self.chooser.choice().mode == "seed")
