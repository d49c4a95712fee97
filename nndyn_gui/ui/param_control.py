"""One parameter's control: a slider and a spin box kept in sync, or a combo / check box.

Why it exists: every field of the registry (`core.config.field_info`) gets the same
control, built from its range, scale, "off" text, unit and doc; the panel
(ui/param_panel.py) only lays them out and turns their `changed` into a new config. A
slider on a log scale maps positions with `SliderMap`; `FloatSpin` shows 0.01 rather
than 0.010000 and takes 1e-3.
"""

from __future__ import annotations

import math
from typing import Any

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtGui import QValidator
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QSlider,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from nndyn_gui.core.config import field_info

SLIDER_STEPS = 1000
ERROR_STYLE = "color: #C0392B;"

CHOICE_LABELS = {
    "resnet": "ResNet  x + h·s(Ax+b)",
    "mlp": "MLP  s(Ax+b)",
    "noisy_ring": "noisy ring",
    "leaky_relu": "leaky ReLU",
    "csv": "CSV file…",
    "drawn": "drawn (edit the points)",
    "nested_rings": "nested rings",
    "identity": "identity (linear)",
    "h": "step h",
    "time": "total time",
}


#: what an empty text field means
PLACEHOLDERS = {"data.class_names": "class 0, class 1, …  (names, comma-separated)"}


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
        self.line: QLineEdit | None = None  # a text field (class names)
        self._text = ""  # the text field's value the state has
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
        elif self.kind is str:
            self.line = QLineEdit()
            self.line.setPlaceholderText(PLACEHOLDERS.get(path, ""))
            self.line.editingFinished.connect(self._on_line)
            row.addWidget(self.line, 1)
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
        for w in (self.slider, self.spin, self.combo, self.check, self.line):
            if w is not None:
                w.setToolTip(tip)

    # ------------------------------------------------------------------ value
    def value(self) -> Any:
        if self.combo is not None:
            return self.combo.currentData()
        if self.check is not None:
            return self.check.isChecked()
        if self.line is not None:
            return self.line.text().strip()
        assert self.spin is not None
        return int(self.spin.value()) if self.kind is int else float(self.spin.value())

    def set_value(self, v: Any) -> None:
        """Show `v` without emitting `changed` (the state already has it)."""
        widgets = [
            w for w in (self.slider, self.spin, self.combo, self.check, self.line) if w is not None
        ]
        for w in widgets:
            w.blockSignals(True)
        try:
            if self.combo is not None:
                self.combo.setCurrentIndex(max(0, self.combo.findData(v)))
            elif self.check is not None:
                self.check.setChecked(bool(v))
            elif self.line is not None:
                # a refused text stays to be corrected, its error under it (set_error)
                refused = bool(self.error.text()) and str(v) == self._text
                if self.line.text().strip() != str(v) and not refused:
                    self.line.setText(str(v))
                self._text = str(v)
            else:
                assert self.spin is not None
                self.spin.setValue(v)
                if self.slider is not None and self.map is not None:
                    self.slider.setValue(self.map.to_pos(v))
        finally:
            for w in widgets:
                w.blockSignals(False)

    def set_error(self, text: str) -> None:
        if not text and self.error.text() and self.line is not None:
            self.line.setText(self._text)  # the refused text goes with its error
        self.error.setText(text)
        self.error.setVisible(bool(text))

    def set_available(self, ok: bool, why: str = "") -> None:
        """Enable the control, or disable it and say in the tooltip why it does not apply."""
        self.setEnabled(ok)
        tip = self._tip if ok or not why else f"{self._tip}\n({why})"
        for w in (self, self.slider, self.spin, self.combo, self.check, self.line):
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

    @Slot()
    def _on_line(self) -> None:
        """Enter or leaving the field: the text is the value (unchanged text: no change)."""
        if self.value() != self._text:
            self.changed.emit(self.path, self.value())
