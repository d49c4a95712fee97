"""Every engine parameter as a slider + spin box (or combo / check box), grouped.

Why generated: the registry (`core.fields.field_info`) knows each field's range, choices,
doc, label, group, slider scale, "off" text, unit and when it applies; building the
controls from it keeps the panel, the CLI's `--set` and help, the live classification
and the validation messages in agreement. Each control is a ui/param_control.py
`ParamControl` (which also holds the combo boxes' words); this module lays them out in
their groups and turns their changes into configs.

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
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from nndyn_gui.core.config import (
    MAX_CLASSES,
    MULTICLASS_DATASETS,
    ConfigError,
    DataConfig,
    RunConfig,
    follow_the_optimiser,
)
from nndyn_gui.core.fields import FIELDS, field_info
from nndyn_gui.core.io.limits import human_bytes
from nndyn_gui.core.types import Dataset
from nndyn_gui.ui.background import NewestWins
from nndyn_gui.ui.param_control import ERROR_STYLE, ParamControl
from nndyn_gui.ui.state import AppState, ChangeDeclined

INLINE_CSV_BYTES = 2 * 2**20  # smaller CSV files are read at once (a few milliseconds)
HINT_STYLE = "color: #6B6F76;"


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


class ParamPanel(QScrollArea):
    """All parameters of the experiment; edits go straight into AppState."""

    csvLoaded = Signal(bool)  # a background CSV import ended: True if the data are in use
    drawRequested = Signal()  # "drawn" chosen: edit the points in the layer view
    _csvProgress = Signal(float)  # emitted by the reader thread (queued to this panel)

    def __init__(self, state: AppState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._rates: dict[str, float] = {}  # learning rate last used per optimiser family
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
        lay.setContentsMargins(6, 4, 6, 4)
        lay.setSpacing(3)  # with the compact rows below: every group fits 1080p unscrolled

        # the user's own title; empty, the placeholder shows the title the run has
        # (narrator.run_title: a preset's only while unedited), never a stale preset name
        self.title_edit = QLineEdit()
        self.title_edit.editingFinished.connect(self._on_title)
        lay.addWidget(self.title_edit)

        for name, paths in groups():
            box = QGroupBox(name)
            form = QFormLayout(box)
            # compact rows: every group, Stop when included, fits a 1080p screen unscrolled
            form.setContentsMargins(6, 4, 6, 4)
            form.setHorizontalSpacing(8)
            form.setVerticalSpacing(2)
            form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
            for path in paths:
                ctl = ParamControl(path)
                ctl.changed.connect(self._on_changed)
                self.controls[path] = ctl
                label = QLabel(ctl.info.label)
                label.setToolTip(ctl.toolTip())
                if path == "data.name":  # Import CSV… beside the data set: one row less
                    form.addRow(label, self._beside(ctl, self._csv_button()))
                    form.addRow(self._csv_notes())  # no label: no height while empty
                else:
                    form.addRow(label, ctl)
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
    @staticmethod
    def _beside(control: QWidget, button: QWidget) -> QWidget:
        w = QWidget()
        row = QHBoxLayout(w)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(6)
        row.addWidget(control, 1)
        row.addWidget(button)
        button.setMaximumHeight(control.sizeHint().height())  # the row no taller than others
        return w

    def _csv_button(self) -> QPushButton:
        self.csv_button = QPushButton("Import CSV…")
        self.csv_button.setToolTip("Load points from a CSV file with columns x1, x2, label (0/1)")
        self.csv_button.clicked.connect(self.choose_csv)
        return self.csv_button

    def _csv_notes(self) -> QWidget:
        """The CSV's name or progress and its error: no height while both are empty, so
        every group still fits a 1080p screen unscrolled."""
        w = QWidget()
        lay = QVBoxLayout(w)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(1)
        self.csv_label = _NoteLabel()
        self.csv_label.setText("")  # hidden until it has something to say
        self.csv_label.setStyleSheet(HINT_STYLE)
        # never wider than the panel: a long path or note must not push the controls out
        self.csv_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        lay.addWidget(self.csv_label)
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
        if path == "train.optimizer":
            follow_the_optimiser(cfg.train, self.state.config.train.optimizer, self._rates)
        ctl = self.controls.get(path)
        if (
            section == "data"
            and FIELDS[path].change != "none"  # the class names name the same points
            and cfg.data != self.state.config.data
            and cfg.data.name != "csv"
        ):
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


class _NoteLabel(QLabel):
    """A one-line note that takes no room while it says nothing."""

    def setText(self, text: str) -> None:
        super().setText(text)
        self.setVisible(bool(text))
