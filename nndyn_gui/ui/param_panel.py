"""Every engine parameter as a slider + spin box (or combo / check box), grouped.

Why generated: the registry (`core.config.field_info`) knows each field's range, choices,
doc, label, group, slider scale, "off" text, unit and when it applies; building the
controls from it keeps the panel, the CLI's `--set` and help, the live classification
and the validation messages in agreement. This module only adds the combo boxes' words.

Each change builds a new RunConfig and hands it to AppState; a rejected value or an
unreadable CSV file is shown in red under its control and the state stays unchanged.
A change of the data (100,000 points, say) makes the new data set in the background
(`NewestWins`: dragging the slider makes only the newest) and then hands both over.
A big CSV file (over INLINE_CSV_BYTES) is read on a background thread with its
progress under the button, so the window keeps turning; it is parsed once
(core.datasets caches it), so later data-parameter changes do not read it again.
Fields that have no say for the current choice (h for an MLP, the bound without
keep-invertible, the ring gap for other data) or that the data fix (a CSV file's points)
are disabled with a tooltip saying why (the registry's `why_not_editable`).
"""

from __future__ import annotations

import contextlib
import copy
import math
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtGui import QValidator
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QSlider,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from nndyn_gui.core.config import (
    FIELDS,
    MAX_CLASSES,
    MULTICLASS_DATASETS,
    ConfigError,
    DataConfig,
    RunConfig,
    field_info,
)
from nndyn_gui.core.io.limits import human_bytes
from nndyn_gui.core.types import Dataset
from nndyn_gui.ui.background import NewestWins
from nndyn_gui.ui.state import AppState, ChangeDeclined

SLIDER_STEPS = 1000
INLINE_CSV_BYTES = 2 * 2**20  # smaller CSV files are read at once (a few milliseconds)
ERROR_STYLE = "color: #C0392B;"
HINT_STYLE = "color: #6B6F76;"

CHOICE_LABELS = {
    "resnet": "ResNet  x + h·s(Ax+b)",
    "mlp": "MLP  s(Ax+b)",
    "noisy_ring": "noisy ring",
    "leaky_relu": "leaky ReLU",
    "csv": "CSV file…",
    "drawn": "drawn (edit the points)",
}


def groups() -> list[tuple[str, list[str]]]:
    """The panel's group boxes and their fields, in the registry's order."""
    out: dict[str, list[str]] = {}
    for path, info in FIELDS.items():
        if info.group:
            out.setdefault(info.group, []).append(path)
    return list(out.items())


def live_hint() -> str:
    """What a change does while a run trains, naming the fields marked live."""
    live = [i.words for i in FIELDS.values() if i.live and i.group != "Stop when"]
    return (
        f"While training: {', '.join(live)} and the stop conditions change the run at its "
        "next call (marked on the curves); any other change restarts it from step 0."
    )


class SliderMap:
    """Maps a value range to integer slider positions 0..SLIDER_STEPS (linear or log)."""

    def __init__(self, lo: float, hi: float, scale: str, is_int: bool, lo_pos: float) -> None:
        self.lo, self.hi, self.scale, self.is_int = float(lo), float(hi), scale, is_int
        self.lo_pos = lo_pos  # smallest positive value of a log0 scale (position 1)
        if scale == "linear" and is_int and hi - lo <= SLIDER_STEPS:
            self.steps = int(hi - lo)
        else:
            self.steps = SLIDER_STEPS

    def to_pos(self, v: float) -> int:
        v = min(max(float(v), self.lo), self.hi)
        if self.scale == "linear":
            f = (v - self.lo) / (self.hi - self.lo) if self.hi > self.lo else 0.0
            return round(f * self.steps)
        lo = self.lo
        first = 0
        if self.scale == "log0":
            if v <= 0.0:
                return 0
            lo, first = self.lo_pos, 1
            v = max(v, lo)
        f = math.log(v / lo) / math.log(self.hi / lo)
        return first + round(f * (self.steps - first))

    def from_pos(self, pos: int) -> float:
        pos = min(max(int(pos), 0), self.steps)
        if self.scale == "linear":
            v = self.lo + (self.hi - self.lo) * pos / self.steps
        else:
            lo, first = self.lo, 0
            if self.scale == "log0":
                if pos == 0:
                    return 0.0
                lo, first = self.lo_pos, 1
            f = (pos - first) / max(1, self.steps - first)
            v = lo * (self.hi / lo) ** f
            v = float(f"{v:.3g}")  # round numbers (0.0101 -> 0.0101, 1234.5 -> 1230)
        return float(round(v)) if self.is_int else v


class FloatSpin(QDoubleSpinBox):
    """A spin box that shows 0.01 / 1e-05 instead of 0.010000 and accepts 1e-3."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setDecimals(9)

    def textFromValue(self, v: float) -> str:
        return f"{v:.4g}"

    def valueFromText(self, text: str) -> float:
        try:
            return float(text.strip())
        except ValueError:
            return self.value()

    def validate(self, text: str, pos: int) -> tuple[QValidator.State, str, int]:
        t = text.strip()
        try:
            v = float(t)
        except ValueError:
            ok = t == "" or all(ch in "0123456789.eE+-" for ch in t)
            state = QValidator.State.Intermediate if ok else QValidator.State.Invalid
            return state, text, pos
        if self.minimum() <= v <= self.maximum():
            return QValidator.State.Acceptable, text, pos
        return QValidator.State.Intermediate, text, pos


class ParamControl(QWidget):
    """One field: slider + spin box kept in sync, or a combo / check box; plus an error line."""

    changed = Signal(str, object)  # field path, new value

    def __init__(self, path: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.path = path
        info = field_info(path)
        self.info = info
        self.kind: type = info.type
        self.slider: QSlider | None = None
        self.spin: QSpinBox | QDoubleSpinBox | None = None
        self.combo: QComboBox | None = None
        self.check: QCheckBox | None = None
        self.map: SliderMap | None = None
        tip = info.doc
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(1)
        row = QHBoxLayout()
        row.setSpacing(6)
        outer.addLayout(row)
        if info.choices is not None:
            self.combo = QComboBox()
            for c in info.choices:
                self.combo.addItem(CHOICE_LABELS.get(c, c), c)
            self.combo.currentIndexChanged.connect(self._on_combo)
            row.addWidget(self.combo, 1)
        elif self.kind is bool:
            self.check = QCheckBox()
            self.check.toggled.connect(self._on_check)
            row.addWidget(self.check, 1)
        else:
            assert info.range is not None
            lo, hi = info.range
            scale = info.scale
            if self.kind is int:
                spin: QSpinBox | QDoubleSpinBox = QSpinBox()
                spin.setRange(int(lo), int(hi))
            else:
                spin = FloatSpin()
                spin.setRange(float(lo), float(hi))
                if scale == "linear":
                    spin.setSingleStep((hi - lo) / 100.0)
            if scale != "linear":
                spin.setStepType(QSpinBox.StepType.AdaptiveDecimalStepType)
            spin.setKeyboardTracking(False)
            spin.setMinimumWidth(82)
            spin.setSpecialValueText(info.off)
            if info.unit:
                spin.setSuffix(f" {info.unit}")
            spin.valueChanged.connect(self._on_spin)
            self.spin = spin
            if scale != "none":
                self.map = SliderMap(lo, hi, scale, self.kind is int, info.log0_min or lo)
                self.slider = QSlider(Qt.Orientation.Horizontal)
                self.slider.setRange(0, self.map.steps)
                self.slider.valueChanged.connect(self._on_slider)
                self.slider.setMinimumWidth(90)
                row.addWidget(self.slider, 1)
                row.addWidget(spin)
            else:
                row.addWidget(spin, 1)
        self.error = QLabel()
        self.error.setStyleSheet(ERROR_STYLE)
        self.error.setWordWrap(True)
        self.error.hide()
        outer.addWidget(self.error)
        self._tip = tip
        self.setToolTip(tip)
        for w in (self.slider, self.spin, self.combo, self.check):
            if w is not None:
                w.setToolTip(tip)

    # ------------------------------------------------------------------ value
    def value(self) -> Any:
        if self.combo is not None:
            return self.combo.currentData()
        if self.check is not None:
            return self.check.isChecked()
        assert self.spin is not None
        return int(self.spin.value()) if self.kind is int else float(self.spin.value())

    def set_value(self, v: Any) -> None:
        """Show `v` without emitting `changed` (the state already has it)."""
        widgets = [w for w in (self.slider, self.spin, self.combo, self.check) if w is not None]
        for w in widgets:
            w.blockSignals(True)
        try:
            if self.combo is not None:
                self.combo.setCurrentIndex(max(0, self.combo.findData(v)))
            elif self.check is not None:
                self.check.setChecked(bool(v))
            else:
                assert self.spin is not None
                self.spin.setValue(v)
                if self.slider is not None and self.map is not None:
                    self.slider.setValue(self.map.to_pos(v))
        finally:
            for w in widgets:
                w.blockSignals(False)

    def set_error(self, text: str) -> None:
        self.error.setText(text)
        self.error.setVisible(bool(text))

    def set_available(self, ok: bool, why: str = "") -> None:
        """Enable the control, or disable it and say in the tooltip why it does not apply."""
        self.setEnabled(ok)
        tip = self._tip if ok or not why else f"{self._tip}\n({why})"
        for w in (self, self.slider, self.spin, self.combo, self.check):
            if w is not None:
                w.setToolTip(tip)

    # ------------------------------------------------------------------ slots
    @Slot(int)
    def _on_slider(self, pos: int) -> None:
        assert self.map is not None and self.spin is not None
        v = self.map.from_pos(pos)
        self.spin.blockSignals(True)
        if isinstance(self.spin, QSpinBox):
            self.spin.setValue(round(v))
        else:
            self.spin.setValue(v)
        self.spin.blockSignals(False)
        self.changed.emit(self.path, self.value())

    @Slot()
    def _on_spin(self, *_: object) -> None:
        if self.slider is not None and self.map is not None and self.spin is not None:
            self.slider.blockSignals(True)
            self.slider.setValue(self.map.to_pos(self.spin.value()))
            self.slider.blockSignals(False)
        self.changed.emit(self.path, self.value())

    @Slot(int)
    def _on_combo(self, _i: int) -> None:
        self.changed.emit(self.path, self.value())

    @Slot(bool)
    def _on_check(self, _on: bool) -> None:
        self.changed.emit(self.path, self.value())


class ParamPanel(QScrollArea):
    """All parameters of the experiment; edits go straight into AppState."""

    csvLoaded = Signal(bool)  # a background CSV import ended: True if the data are in use
    drawRequested = Signal()  # "drawn" chosen: edit the points in the layer view
    _csvProgress = Signal(float)  # emitted by the reader thread (queued to this panel)

    def __init__(self, state: AppState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self._csv_job = NewestWins(self, name="nndyn-csv", what="read the CSV file")
        self._csv_job.done.connect(self._on_csv_read)
        self._csvProgress.connect(self._on_csv_progress)
        self._csv_reading = ""
        self.controls: dict[str, ParamControl] = {}
        #: replaced in tests: () -> path or "" (cancelled)
        self.ask_csv_path: Callable[[], str] = self._ask_csv_dialog
        self._pending_data: DataConfig | None = None  # asked for, being made
        self._pending_over: Dataset | None = None  # the state's data when it was asked for
        self._data_gen = 0
        self._data_jobs = NewestWins(self, name="nndyn-data", what="make the data set")
        self._data_jobs.done.connect(self._on_data_made)
        self.setWidgetResizable(True)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setFrameShape(QScrollArea.Shape.NoFrame)
        body = QWidget()
        body.setObjectName("paramBody")
        lay = QVBoxLayout(body)
        lay.setContentsMargins(6, 4, 6, 6)
        lay.setSpacing(6)

        # the user's own title; empty, the placeholder shows the title the run has
        # (narrator.run_title: a preset's only while unedited), never a stale preset name
        self.title_edit = QLineEdit()
        self.title_edit.editingFinished.connect(self._on_title)
        lay.addWidget(self.title_edit)

        for name, paths in groups():
            box = QGroupBox(name)
            form = QFormLayout(box)
            form.setContentsMargins(6, 8, 6, 6)
            form.setHorizontalSpacing(8)
            form.setVerticalSpacing(4)
            form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
            for path in paths:
                ctl = ParamControl(path)
                ctl.changed.connect(self._on_changed)
                self.controls[path] = ctl
                label = QLabel(ctl.info.label)
                label.setToolTip(ctl.toolTip())
                form.addRow(label, ctl)
                if path == "data.name":
                    form.addRow("", self._csv_row())
            lay.addWidget(box)
        self.hint = QLabel()
        self.hint.setStyleSheet(HINT_STYLE)
        self.hint.setWordWrap(True)
        lay.addWidget(self.hint)
        lay.addStretch(1)
        self.setWidget(body)
        body.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Preferred)
        self.setMinimumWidth(body.sizeHint().width() + 16)

        state.configChanged.connect(self._on_config)
        state.trainingStateChanged.connect(self._on_training_state)
        self._on_config(state.config)

    # ------------------------------------------------------------------ csv
    def _csv_row(self) -> QWidget:
        w = QWidget()
        lay = QVBoxLayout(w)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(1)
        row = QHBoxLayout()
        self.csv_button = QPushButton("Import CSV…")
        self.csv_button.setToolTip("Load points from a CSV file with columns x1, x2, label (0/1)")
        self.csv_button.clicked.connect(self.choose_csv)
        self.csv_label = QLabel()
        self.csv_label.setStyleSheet(HINT_STYLE)
        # never wider than the panel: a long path or note must not push the controls out
        self.csv_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        row.addWidget(self.csv_button)
        row.addWidget(self.csv_label, 1)
        lay.addLayout(row)
        self.csv_error = QLabel()
        self.csv_error.setStyleSheet(ERROR_STYLE)
        self.csv_error.setWordWrap(True)
        self.csv_error.hide()
        lay.addWidget(self.csv_error)
        return w

    def _ask_csv_dialog(self) -> str:
        path, _ = QFileDialog.getOpenFileName(
            self, "Import CSV data", "", "CSV files (*.csv *.txt);;All files (*)"
        )
        return path

    @Slot()
    def choose_csv(self) -> bool:
        """Ask for a file and load it; False (and the old data kept) if cancelled or bad."""
        path = self.ask_csv_path()
        if not path:
            self._on_config(self.state.config)  # e.g. revert the combo from "CSV file…"
            return False
        return self.import_csv(path)

    def import_csv(self, path: str) -> bool:
        """Use the CSV file at `path` as data; errors appear in red under the button.

        A big file is read in the background: this returns True at once, the progress
        shows under the button and `csvLoaded` tells how it ended.
        """
        try:
            size = os.stat(path).st_size
        except OSError:
            size = 0  # let the reader say what is wrong
        if size <= INLINE_CSV_BYTES:
            return self._use_csv(path)
        self._csv_reading = str(path)
        self.csv_button.setEnabled(False)
        self.csv_error.hide()
        self.csv_label.setText(f"Reading {Path(path).name} ({human_bytes(size)})…")
        progress = self._csvProgress.emit
        self._csv_job.request(lambda: _read_csv_in_background(str(path), progress))
        return True

    @property
    def csv_busy(self) -> bool:
        """True while a CSV file is read in the background."""
        return bool(self._csv_reading)

    def _use_csv(self, path: str) -> bool:
        from nndyn_gui.core.datasets import DataError, csv_classes

        try:
            k = csv_classes(path)  # parsed once: set_config below reads it from the cache
            cfg = self.state.config.copy()
            cfg.data.name = "csv"
            cfg.data.csv_path = str(path)
            cfg.data.classes = k  # the file's labels 0..K-1 decide K
            self.state.set_config(cfg)
        except ChangeDeclined:
            self._on_config(self.state.config)
            return False
        except (DataError, ConfigError, OSError, MemoryError) as e:
            why = e.panel_message if isinstance(e, ConfigError) else str(e)
            self.csv_error.setText(why or "not enough memory to read the file")
            self.csv_error.show()
            self._on_config(self.state.config)
            return False
        self.csv_error.hide()
        return True

    @Slot(float)
    def _on_csv_progress(self, fraction: float) -> None:
        if self._csv_reading:
            name = Path(self._csv_reading).name
            self.csv_label.setText(f"Reading {name}… {100 * fraction:.0f}%")

    @Slot(object, str)
    def _on_csv_read(self, result: Any, error: str) -> None:
        path, self._csv_reading = self._csv_reading, ""
        self.csv_button.setEnabled(True)
        message = error or (result if isinstance(result, str) else "")
        if message:
            self.csv_error.setText(message)
            self.csv_error.show()
            self._on_config(self.state.config)
            self.csvLoaded.emit(False)
            return
        self.csvLoaded.emit(self._use_csv(path))

    # ------------------------------------------------------------------ changes
    @Slot(str, object)
    def _on_changed(self, path: str, value: Any) -> None:
        if path == "data.name" and value == "csv" and not self.state.config.data.csv_path:
            self.choose_csv()
            return
        if path == "data.name" and value == "drawn":
            self.use_drawn_points()
            return
        self.apply(path, value)

    def use_drawn_points(self) -> bool:
        """ "drawn": the points shown become editable points of a drawn data set."""
        from nndyn_gui.core.datasets import drawn_dataset

        if self.state.config.data.name != "drawn":
            self._forget_pending_data()
            ds = self.state.dataset
            try:
                self.state.replace_data(*drawn_dataset(ds.x_all, ds.y_all))
            except ChangeDeclined:
                self._on_config(self.state.config)
                return False
        self.drawRequested.emit()
        return True

    def apply(self, path: str, value: Any) -> bool:
        """Set one field; a rejected value is explained under its control.

        A new data set is made in the background (see `data_busy`); everything else
        reaches AppState before this returns."""
        from nndyn_gui.core.datasets import DataError

        section, name = path.split(".")
        cfg = self._shown_config()
        setattr(getattr(cfg, section), name, value)
        _keep_classes_valid(cfg, path)
        ctl = self.controls.get(path)
        if section == "data" and cfg.data != self.state.config.data and cfg.data.name != "csv":
            return self._make_data(cfg, ctl)
        if section == "data":
            self._forget_pending_data()
        else:
            cfg.data = copy.deepcopy(self.state.config.data)  # one being made follows later
        try:
            self.state.set_config(cfg)
        except ChangeDeclined:  # the trained run is kept: show its settings again
            self._on_config(self.state.config)
            return False
        except ConfigError as e:
            return self._refuse(e, ctl)
        except (DataError, OSError, MemoryError) as e:
            self.csv_error.setText(str(e) or "not enough memory for these data")
            self.csv_error.show()
            self._on_config(self.state.config, keep_errors=True)
            return False
        if ctl is not None:
            ctl.set_error("")
        return True

    def shutdown(self) -> None:
        """Stop making data sets (window close)."""
        self._forget_pending_data()
        self._data_jobs.shutdown()

    def data_busy(self) -> bool:
        """True while a new data set is being made (AppState still has the old one)."""
        return self._pending_data is not None

    def _shown_config(self) -> RunConfig:
        """The state's config with the data the controls show (maybe still being made)."""
        cfg = self.state.config.copy()
        if self._pending_data is not None:
            cfg.data = copy.deepcopy(self._pending_data)
        return cfg

    def _refuse(self, e: ConfigError, ctl: ParamControl | None) -> bool:
        """Show a rejected value's reason under the control it names (else `ctl`), put
        the settings shown back to the state's, keep the message; False."""
        target = self.controls.get(e.field_path, ctl)
        if target is not None:
            target.set_error(e.panel_message)
        self._on_config(self.state.config, keep_errors=True)
        return False

    def _make_data(self, cfg: RunConfig, ctl: ParamControl | None) -> bool:
        try:
            cfg.validate()
        except ConfigError as e:
            return self._refuse(e, ctl)
        from nndyn_gui.core.datasets import make_dataset

        data = copy.deepcopy(cfg.data)
        self._pending_data = data
        self._pending_over = self.state.dataset  # the data it replaces (see _on_data_made)
        self._data_gen += 1
        gen = self._data_gen
        self._data_jobs.request(lambda: (gen, data, make_dataset(data)))
        if ctl is not None:
            ctl.set_error("")
        self._update_available(cfg)
        return True

    def _forget_pending_data(self) -> None:
        self._pending_data = None
        self._data_gen += 1  # a data set still being made is no longer wanted

    @Slot(object, str)
    def _on_data_made(self, result: Any, error: str) -> None:
        from nndyn_gui.core.datasets import DataError

        if result is None:
            self._forget_pending_data()
            self.csv_error.setText(error[:1].upper() + error[1:])
            self.csv_error.show()
            self._on_config(self.state.config, keep_errors=True)
            return
        gen, data, dataset = result
        if gen != self._data_gen:
            return  # a newer data set was asked for (or the change was undone)
        if self.state.dataset is not self._pending_over:
            # a run was opened or brought back meanwhile: its data win, not a late change
            self._forget_pending_data()
            self._on_config(self.state.config)
            return
        self._pending_data = None
        cfg = self.state.config.copy()
        cfg.data = data
        try:
            self.state.set_config(cfg, dataset=dataset)
        except ChangeDeclined:
            self._on_config(self.state.config)
            return
        except (ConfigError, DataError, OSError) as e:
            self.csv_error.setText(str(e))
            self.csv_error.show()
            self._on_config(self.state.config, keep_errors=True)
            return
        self.csv_error.hide()

    @Slot()
    def _on_title(self) -> None:
        """A typed title is the user's; an emptied field gives the run back the title
        made for it (a preset's config keeps its preset name, see RunConfig.title)."""
        text = self.title_edit.text()
        if text != _own_title(self.state.config):
            cfg = self.state.config.copy()
            cfg.title = text
            self.state.set_config(cfg)

    # ------------------------------------------------------------------ state -> widgets
    @Slot(object)
    def _on_config(self, cfg: RunConfig, keep_errors: bool = False) -> None:
        if self._pending_data is not None:  # show the data the user asked for
            cfg = cfg.copy()
            cfg.data = copy.deepcopy(self._pending_data)
        for path, ctl in self.controls.items():
            section, name = path.split(".")
            ctl.set_value(getattr(getattr(cfg, section), name))
            if not keep_errors:
                ctl.set_error("")
        self._show_title(cfg)
        self.csv_label.setText(_short(cfg.data.csv_path) if cfg.data.name == "csv" else "")
        self._show_drawn_count(cfg)
        self._update_available(cfg)

    def _show_title(self, cfg: RunConfig) -> None:
        """The user's own title as text; else the run's title (made by the narrator, so
        an edited preset reads "… (edited from NAME)") as the greyed placeholder."""
        from nndyn_gui.core.analysis.narrator import run_title

        own = _own_title(cfg)
        if self.title_edit.text() != own:
            self.title_edit.setText(own)
        shown = run_title(cfg)
        self.title_edit.setPlaceholderText(shown)
        self.title_edit.setToolTip(
            f"{field_info('title').doc.capitalize()}. Empty: the run is called “{shown}”."
        )

    def _show_drawn_count(self, cfg: RunConfig) -> None:
        """A drawn set has as many points as were drawn (data.n is at least 20)."""
        spin = self.controls["data.n"].spin
        if cfg.data.name != "drawn" or spin is None:
            if spin is not None:
                spin.setSpecialValueText("")
            return
        count = len(self.state.dataset.y_all)
        spin.setSpecialValueText(str(count) if count < cfg.data.n else "")
        self.csv_label.setText(f"{count:,} drawn points")
        self.csv_label.setToolTip("✎ Draw data (under the layer view) edits them")

    def _update_available(self, cfg: RunConfig) -> None:
        """Disable what the config gives no say, or the data fix, saying why (registry)."""
        for ctl in self.controls.values():
            why = ctl.info.why_not_editable(cfg)
            ctl.set_available(not why, why)
        notes = []
        if self.state.training_state != "idle":
            notes.append(live_hint())
        if cfg.model.kind == "mlp":
            names = [i.label for p, i in FIELDS.items() if p[:6] == "model." and not i.applies(cfg)]
            notes.append(f"MLP: {', '.join(names[:-1])} and {names[-1]} apply to ResNets only.")
        elif cfg.model.width == 2:
            notes.append(
                "Width 2 ResNet: while every block is invertible (h·‖A_k‖₂·Lip < 1, see "
                "'Keep invertible') the net is a homeomorphism of the plane and cannot "
                "untie a ring (try width 3)."
            )
        self.hint.setText(" ".join(notes))
        self.hint.setVisible(bool(notes))

    @Slot(str)
    def _on_training_state(self, st: str) -> None:
        """Nothing is locked while training (see `live_hint`); the hint says what happens."""
        self._update_available(self._shown_config())


def _own_title(cfg: RunConfig) -> str:
    """The title the user typed ("" when the title field names the preset it came from)."""
    from nndyn_gui.core.analysis.narrator import preset_name

    return "" if preset_name(cfg) else cfg.title


def _keep_classes_valid(cfg: RunConfig, path: str) -> None:
    """Switching to a two-class data set drops K back to 2 (the count would be refused);
    back to the CSV file takes the file's K (a new file: `_use_csv`)."""
    if path != "data.name":
        return
    if cfg.data.name not in MULTICLASS_DATASETS:
        cfg.data.classes = 2
    elif cfg.data.name == "csv" and cfg.data.csv_path:
        from nndyn_gui.core.datasets import DataError, csv_classes

        with contextlib.suppress(DataError, OSError, MemoryError):
            cfg.data.classes = max(2, min(MAX_CLASSES, csv_classes(cfg.data.csv_path)))


def _read_csv_in_background(path: str, progress: Callable[[float], None]) -> str:
    """Parse (and cache) a CSV file off the GUI thread; "" or the one-line error."""
    from nndyn_gui.core.datasets import DataError, load_csv

    try:
        load_csv(path, progress=progress)
    except DataError as e:
        return str(e)
    return ""


def _short(path: str, n: int = 36) -> str:
    return path if len(path) <= n else "…" + path[-(n - 1) :]
