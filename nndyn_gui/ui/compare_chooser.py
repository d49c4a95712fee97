"""Compare's second run: what column B shows against the current config (column A).

Why it exists: the talk's key comparison is two different runs (width 2 against width 3,
an MLP against a ResNet), not only two seeds of one config. The user picks B here: a
seed of this config (as before), a preset, a run file (already trained: shown, not
trained again) or this config with one change (`model.width=3`, as `--set` reads it).
`resolve` turns the choice into B's config, data set and, for a run file, its run; it
reads files and makes data sets, so the window calls it off the GUI thread.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import Signal, Slot
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QStackedWidget,
    QWidget,
)

from nndyn_gui.core.config import RunConfig
from nndyn_gui.core.types import Dataset, Run

#: (key, what the combo says); the keys are `Choice.mode`
MODES = (
    ("seed", "another seed of this config"),
    ("preset", "a preset"),
    ("file", "a run file"),
    ("change", "this config with one change"),
)
DEFAULT_CHANGE = "model.width=3"


@dataclass(frozen=True)
class Choice:
    """What B is: `mode` and its one value (a seed, a preset name, a path, `key=value`)."""

    mode: str
    seed: int = 0
    value: str = ""

    @property
    def trains(self) -> bool:
        """Whether B is trained here (a run file brings its snapshots)."""
        return self.mode != "file"


@dataclass(frozen=True)
class SecondRun:
    """B resolved: its config, its data set, and its run when read from a file."""

    config: RunConfig
    dataset: Dataset
    run: Run | None = None


def resolve(choice: Choice, base: RunConfig, base_data: Dataset) -> SecondRun:
    """B's config and data for `choice`, against A's `base` config and data.

    Raises ConfigError / PresetError / RunFileError / DataError with a message for the
    user. Makes a data set only when B's data settings differ from A's.
    """
    from nndyn_gui.core.datasets import make_dataset

    if choice.mode == "file":
        from nndyn_gui.core.io.runfile import load_run

        run = load_run(choice.value)
        return SecondRun(run.config, run.dataset, run)
    if choice.mode == "seed":
        cfg = base.copy()
        cfg.train.seed = int(choice.seed)
    elif choice.mode == "preset":
        from nndyn_gui.core.io.presets import load_preset

        cfg = load_preset(choice.value)
    elif choice.mode == "change":
        cfg = base.with_set(choice.value.strip())
    else:
        raise ValueError(f"unknown choice {choice.mode!r}")
    cfg = cfg.validate()
    same_data = cfg.data == base.data
    return SecondRun(cfg, base_data if same_data else make_dataset(cfg.data))


class SecondRunChooser(QWidget):
    """The mode combo and its one field; `changed` when the choice changes."""

    changed = Signal()

    def __init__(self, seed: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.mode_combo = QComboBox()
        for key, text in MODES:
            self.mode_combo.addItem(text, key)
        self.mode_combo.setToolTip("What column B shows beside the current config (A)")
        self.seed_spin = QSpinBox()
        self.seed_spin.setRange(0, 2**31 - 1)
        self.seed_spin.setValue(seed)
        self.seed_spin.setToolTip("B: the current config from this weight seed")
        self.preset_combo = QComboBox()
        from nndyn_gui.core.io.presets import grouped_presets

        for _section, infos in grouped_presets():
            for info in infos:
                self.preset_combo.addItem(info.display_title, info.name)
        self.preset_combo.setToolTip("B: this preset's config and data")
        self.file_button = QPushButton("Open run file…")
        self.file_button.setToolTip("B: a saved run (.nndyn), shown as it was trained")
        self.path = ""
        self.change_edit = QLineEdit(DEFAULT_CHANGE)
        self.change_edit.setToolTip(
            "B: the current config with one setting changed, as section.field=value "
            "(model.width=3, model.kind=mlp, model.depth=20); Enter applies it"
        )
        self.stack = QStackedWidget()
        for w in (self.seed_spin, self.preset_combo, self.file_button, self.change_edit):
            self.stack.addWidget(w)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.mode_combo)
        lay.addWidget(self.stack)
        self.mode_combo.currentIndexChanged.connect(self._on_mode)
        self.seed_spin.valueChanged.connect(self.changed)
        self.preset_combo.currentIndexChanged.connect(self.changed)
        self.file_button.clicked.connect(self._pick_file)
        self.change_edit.editingFinished.connect(self.changed)

    def choice(self) -> Choice:
        mode = str(self.mode_combo.currentData())
        value = {
            "preset": str(self.preset_combo.currentData() or ""),
            "file": self.path,
            "change": self.change_edit.text(),
        }.get(mode, "")
        return Choice(mode, self.seed_spin.value(), value)

    def set_choice(self, mode: str, value: str = "", seed: int | None = None) -> None:
        """Choose B from code (tests, scripts): one `changed` at the end."""
        self.blockSignals(True)
        try:
            if seed is not None:
                self.seed_spin.setValue(seed)
            if mode == "preset":
                self.preset_combo.setCurrentIndex(self.preset_combo.findData(value))
            elif mode == "file":
                self.set_path(value)
            elif mode == "change":
                self.change_edit.setText(value)
            self.mode_combo.setCurrentIndex(self.mode_combo.findData(mode))
        finally:
            self.blockSignals(False)
        self.changed.emit()

    def set_path(self, path: str) -> None:
        self.path = path
        self.file_button.setText(Path(path).name if path else "Open run file…")
        self.file_button.setToolTip(path or "B: a saved run (.nndyn), shown as it was trained")

    def set_seed_quietly(self, seed: int) -> None:
        self.seed_spin.blockSignals(True)
        self.seed_spin.setValue(seed)
        self.seed_spin.blockSignals(False)

    @Slot(int)
    def _on_mode(self, i: int) -> None:
        self.stack.setCurrentIndex(i)
        if self.choice().mode == "file" and not self.path:
            self._pick_file()
            return
        self.changed.emit()

    @Slot()
    def _pick_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Compare with a run file", "", "nndyn runs (*.nndyn);;All files (*)"
        )
        if path:
            self.set_path(path)
            self.changed.emit()
