"""Export the current run as a PNG, MP4, GIF, SVG or PDF for a talk or a paper.

Why it looks like this:
- Names, ranges, defaults and file names come from `render/export_spec.py`, the table
  the exporter and `nndyn render` read too: the three cannot disagree.
- Combinations the exporter cannot make (an orbit of a width-2 net, a keyframe sheet
  as a video, an SVG of a camera orbit) are *disabled in the list with the reason as a
  tooltip*, and the reason is repeated under the list, instead of failing on click.
- Every field is checked with `ExportOptions.validate()` while typing, so a bad folder
  or size is reported inline before anything is drawn; a live preview (a miniature of
  the very frame, drawn a moment after the last change) shows what will be written.
- The file name says what it holds (`TITLE-KIND-N.ext`, the first free N in the last
  export folder) and follows the fields until the user types one; an existing file is
  never replaced without asking.
- Qt can only draw on the GUI thread, so a QTimer calls `Exporter.step()` once per tick
  (one frame) while the encoder works in its own thread: the window stays responsive
  and Cancel works at any frame; `abort()` leaves no partial file behind.
"""

from __future__ import annotations

import contextlib
import dataclasses
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import QDir, Qt, QTimer, QUrl, Signal, Slot
from PySide6.QtGui import QDesktopServices, QImage, QPixmap, QStandardItemModel
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from nndyn_gui.core.analysis import narrator
from nndyn_gui.core.types import Run
from nndyn_gui.render import export_spec as spec
from nndyn_gui.render.camera import CameraKey
from nndyn_gui.render.export import Exporter, ExportError, ExportOptions, preview_frame
from nndyn_gui.render.scene import ViewOptions
from nndyn_gui.ui import settings as app_settings
from nndyn_gui.ui import steps
from nndyn_gui.ui.state import AppState

FORMATS = tuple((f.label, f.key) for f in spec.FORMATS)
CONTENTS = tuple((c.label, c.key) for c in spec.CONTENTS)
SIZES = (*spec.SIZES, ("Custom…", 0, 0))
BACKGROUNDS = tuple((b.label, b.key) for b in spec.BACKGROUNDS)
VIDEO = spec.VIDEO_EXTENSIONS
VECTOR = spec.VECTOR_EXTENSIONS
ERROR_STYLE = "color: #c62828;"
NOTE_STYLE = "color: #8a6d00;"
OK_STYLE = "color: #1a7f37;"
PREVIEW_W, PREVIEW_H = 384, 216
PREVIEW_DELAY_MS = 250  # the preview is drawn this long after the last change


def content_problem(
    ext: str, content: str, width: int, n_snapshots: int, partner: bool = False
) -> str:
    """Why `content` cannot be exported as `ext` for this net, in a few words ("" if it can).

    The dialog also wants a replay to have something to replay: two snapshots at least;
    with a partner (opened from Compare) it exports the two runs and nothing else.
    """
    if partner and content != "compare":
        return "Compare exports its two runs side by side"
    if content == "training" and n_snapshots < 2:
        return "train the network first"
    return spec.content_problem(ext, content, width, n_snapshots, partner)


def _number_spin(n: spec.NumberOption) -> QSpinBox | QDoubleSpinBox:
    """A spin box with the option's range, default, unit and tooltip (export_spec)."""
    box: QSpinBox | QDoubleSpinBox
    if n.integer:
        box = QSpinBox()
        box.setRange(int(n.lo), int(n.hi))
        box.setValue(int(n.default))
    else:
        box = QDoubleSpinBox()
        box.setDecimals(1)
        box.setRange(float(n.lo), float(n.hi))
        box.setValue(float(n.default))
    if n.unit:
        box.setSuffix(f" {n.unit}")
    box.setToolTip(f"{n.label}: {n.help}")
    return box


class ExportDialog(QDialog):
    """Choose what to export and where, then render it frame by frame with a progress bar."""

    finished = Signal(str)  # path of the written file (named like QDialog.finished(int))
    failed = Signal(str)  # one-line reason (includes "cancelled")

    def __init__(
        self,
        state: AppState,
        parent: QWidget | None = None,
        view_options: ViewOptions | None = None,
        camera: tuple[float, float, float] | None = None,
        camera_keys: list[CameraKey] | None = None,
        compare: tuple[Run, Run, list[str]] | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Export" if compare is None else "Export two runs side by side")
        self.compare = compare  # (run A, run B, their names): Compare's export
        self.setModal(False)
        self.state = state
        self.view_options = view_options
        self.camera = camera  # the window's 3-D camera: exports look from there
        self.camera_keys = list(camera_keys or [])  # a saved camera path (layers flow)
        self._auto_path = True  # the file name follows the fields until the user types one
        self._suggested = ""  # the name proposed last
        self._had_series = False  # two snapshots or more at the last _refresh
        self.exporter: Exporter | None = None
        # when the main window is deleted its dialogs go without closeEvent/reject;
        # `destroyed` still fires, but `self` is gone by then: abort through a holder
        guard = self._guard = _RunningExport()
        self.destroyed.connect(lambda *_: guard.abort())
        self.last_path: str = ""
        self._options: ExportOptions | None = None
        self._switch_note = ""  # why we changed the user's content choice, until they pick
        self._tick = QTimer(self)
        self._tick.setInterval(0)
        self._tick.timeout.connect(self._step)

        self.format_combo = QComboBox()
        for name, ext in FORMATS:
            self.format_combo.addItem(name, ext)
        self.content_combo = QComboBox()
        for name, key in CONTENTS:
            self.content_combo.addItem(name, key)
        if compare is not None:
            self.content_combo.setCurrentIndex(self.content_combo.findData("compare"))
        self.content_note = QLabel()
        self.content_note.setWordWrap(True)
        self.content_note.setStyleSheet(NOTE_STYLE)

        self.size_combo = QComboBox()
        for name, w, h in SIZES:
            self.size_combo.addItem(name, (w, h))
        self.width_spin = QSpinBox()
        self.height_spin = QSpinBox()
        for sp, v, hi in (
            (self.width_spin, spec.DEFAULT_WIDTH, spec.MAX_WIDTH),
            (self.height_spin, spec.DEFAULT_HEIGHT, spec.MAX_HEIGHT),
        ):
            sp.setRange(spec.MIN_SIDE, hi)
            sp.setValue(v)
            sp.setSuffix(" px")
        size_row = QHBoxLayout()
        size_row.addWidget(self.size_combo, 1)
        size_row.addWidget(self.width_spin)
        size_row.addWidget(QLabel("×"))
        size_row.addWidget(self.height_spin)

        self.spins: dict[str, QSpinBox | QDoubleSpinBox] = {
            n.field: _number_spin(n) for n in spec.NUMBERS
        }
        self.fps_spin = self.spins[spec.FPS.field]
        self.seconds_spin = self.spins[spec.SECONDS.field]
        self.hold_spin = self.spins[spec.HOLD.field]
        self.quality_spin = self.spins[spec.QUALITY.field]
        self.hold_spin.setSuffix(" s hold")
        time_row = QHBoxLayout()
        time_row.addWidget(self.fps_spin)
        time_row.addWidget(self.seconds_spin)
        time_row.addWidget(self.hold_spin)

        self.background_combo = QComboBox()
        for name, key in BACKGROUNDS:
            self.background_combo.addItem(name, key)
        self.legend_check = QCheckBox("Class legend")
        self.legend_check.setChecked(spec.DEFAULT_LEGEND)
        self.legend_check.setToolTip("The class colours, named, in the top-right corner")
        look_row = QHBoxLayout()
        look_row.addWidget(self.background_combo, 1)
        look_row.addWidget(self.legend_check)
        look_row.addWidget(QLabel("Quality"))
        look_row.addWidget(self.quality_spin)
        self._proposed_title = self._title_for_runs()
        self.title_edit = QLineEdit(self._proposed_title)
        self.title_edit.setPlaceholderText("shown above the picture (optional)")
        self.caption_edit = QLineEdit()
        self.caption_edit.setPlaceholderText("shown below the picture (optional)")
        self.camera_label = QLabel()
        self.camera_label.setWordWrap(True)
        self.camera_label.setStyleSheet("color: #6B6F76;")
        self.snapshot_label = QLabel()  # the step(s) the picture will show (ui/steps)
        self.snapshot_label.setObjectName("exportSnapshot")
        self.snapshot_label.setWordWrap(True)

        self.path_edit = QLineEdit()
        self.browse_button = QPushButton("Choose…")
        path_row = QHBoxLayout()
        path_row.addWidget(self.path_edit, 1)
        path_row.addWidget(self.browse_button)

        form = QFormLayout()
        form.addRow("Format", self.format_combo)
        form.addRow("Content", self.content_combo)
        form.addRow("", self.content_note)
        form.addRow("Size", size_row)
        form.addRow("Timing", time_row)
        form.addRow("Look", look_row)
        form.addRow("Title", self.title_edit)
        form.addRow("Caption", self.caption_edit)
        form.addRow("Snapshot", self.snapshot_label)
        form.addRow("Camera", self.camera_label)
        form.addRow("File", path_row)

        self.preview = QLabel()
        self.preview.setObjectName("exportPreview")
        self.preview.setFixedSize(PREVIEW_W, PREVIEW_H)
        self.preview.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.preview.setStyleSheet("QLabel#exportPreview { background: #e8e8e8; }")
        self.preview.setToolTip("What the export will show (the last layer of a video)")
        self._preview_timer = QTimer(self)
        self._preview_timer.setSingleShot(True)
        self._preview_timer.setInterval(PREVIEW_DELAY_MS)
        self._preview_timer.timeout.connect(self.update_preview)

        self.error_label = QLabel()
        self.error_label.setWordWrap(True)
        self.error_label.setStyleSheet(ERROR_STYLE)
        self.progress = QProgressBar()
        self.progress.setVisible(False)
        self.status_label = QLabel()
        self.status_label.setWordWrap(True)
        self.status_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.open_folder_button = QPushButton("Open folder")
        self.open_folder_button.setVisible(False)
        self.export_button = QPushButton("Export")
        self.export_button.setDefault(True)
        self.cancel_button = QPushButton("Close")
        buttons = QHBoxLayout()
        buttons.addWidget(self.open_folder_button)
        buttons.addStretch(1)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.export_button)

        lay = QVBoxLayout(self)
        top = QHBoxLayout()
        top.addLayout(form, 1)
        top.addWidget(self.preview, 0, Qt.AlignmentFlag.AlignTop)
        lay.addLayout(top)
        lay.addWidget(self.error_label)
        lay.addWidget(self.progress)
        lay.addWidget(self.status_label)
        lay.addLayout(buttons)

        self.format_combo.currentIndexChanged.connect(self._on_format)
        self.content_combo.currentIndexChanged.connect(self._on_content)
        self.size_combo.currentIndexChanged.connect(self._on_size)
        for box in (self.width_spin, self.height_spin, *self.spins.values()):
            box.valueChanged.connect(self._refresh)
        self.background_combo.currentIndexChanged.connect(self._refresh)
        self.legend_check.toggled.connect(self._refresh)
        self.title_edit.textChanged.connect(self._refresh)
        self.caption_edit.textChanged.connect(self._refresh)
        self.path_edit.textChanged.connect(self._refresh)
        self.browse_button.clicked.connect(self._browse)
        self.export_button.clicked.connect(self.export_clicked)
        self.cancel_button.clicked.connect(self._cancel_or_close)
        self.open_folder_button.clicked.connect(self.open_folder)
        state.snapshotsChanged.connect(self._on_snapshots)
        state.trainingStateChanged.connect(self._on_snapshots)
        state.configChanged.connect(self._follow_config)
        state.configChanged.connect(self._refresh)
        state.currentChanged.connect(self._update_snapshot_label)  # cheap: every snapshot
        self._update_camera_label()
        self._on_size()
        self._refresh()

    # ------------------------------------------------------------------ queries
    @property
    def busy(self) -> bool:
        return self.exporter is not None

    def ext(self) -> str:
        return str(self.format_combo.currentData())

    def content(self) -> str:
        return str(self.content_combo.currentData())

    def is_content_enabled(self, content: str) -> bool:
        """Whether `content` can be picked for the chosen format and this net."""
        return not self._problem(content)

    def options(self) -> ExportOptions:
        """The ExportOptions the fields describe (not validated)."""
        still = self.ext() not in VIDEO
        numbers: dict[str, Any] = {n.field: self.spins[n.field].value() for n in spec.NUMBERS}
        if still:
            numbers[spec.HOLD.field] = 0.0
        return ExportOptions(
            path=self.path_edit.text().strip(),
            content=self.content(),
            width=self.width_spin.value(),
            height=self.height_spin.value(),
            **numbers,
            background=str(self.background_combo.currentData()),
            title=self.title_edit.text().strip(),
            caption=self.caption_edit.text().strip(),
            view=self.view_options,
            legend=self.legend_check.isChecked(),
            camera=self.camera,
            camera_keys=list(self.camera_keys) or None,
            compare_with=self.compare[1] if self.compare is not None else None,
            labels=(self.compare[2][0], self.compare[2][1]) if self.compare is not None else None,
        )

    def run_for_export(self, content: str) -> Run:
        """The run as plain data; stills and flows show the snapshot the user is looking at.

        From Compare: its first run (the second travels in the options)."""
        if self.compare is not None:
            return self.compare[0]
        run = self.state.run()
        cur = self.state.current
        if content != "training" and cur is not None and cur in run.snapshots:
            run.snapshots = run.snapshots[: run.snapshots.index(cur) + 1]
        return run

    # ------------------------------------------------------------------ field logic
    def _problem(self, content: str) -> str:
        if self.compare is not None:
            run = self.compare[0]
            return content_problem(
                self.ext(), content, run.config.model.width, len(run.snapshots), partner=True
            )
        return content_problem(
            self.ext(), content, self.state.config.model.width, len(self.state.snapshots)
        )

    def suggested_path(self) -> str:
        """TITLE-KIND-N.ext in the folder of the last export (or of the file named now)."""
        text = self.path_edit.text().strip()
        folder = Path(text).expanduser().parent if text else Path(last_export_dir())
        title = self.title_edit.text().strip() or self._title_for_runs()
        return spec.suggest_path(folder, title, self.content(), self.ext())

    def _title_for_runs(self) -> str:
        """The title of the run(s) exported, from their configs (core.analysis.narrator)."""
        if self.compare is not None:
            return narrator.compare_titles(self.compare[0].config, self.compare[1].config)[0]
        return spec.title_for(self.state.config)

    def _follow_config(self, *_: object) -> None:
        """An edited config retitles the export, unless the user typed a title."""
        if self.title_edit.text() == self._proposed_title:
            self._proposed_title = self._title_for_runs()
            self.title_edit.setText(self._proposed_title)

    def _follow_fields(self) -> None:
        """Keep the proposed file name in step with title, content and format, until a
        name is typed or chosen (anything but the last proposal)."""
        if self.path_edit.text() != self._suggested:
            self._auto_path = False
        if self._auto_path and not self.busy:
            path = self.suggested_path()
            self._suggested = path
            if path != self.path_edit.text():
                self.path_edit.blockSignals(True)
                self.path_edit.setText(path)
                self.path_edit.blockSignals(False)

    @Slot()
    def _on_format(self, *_: object) -> None:
        ext = self.ext()
        text = self.path_edit.text().strip()
        if text and text != self._suggested:
            p = Path(text)
            self.path_edit.setText(str(p.with_suffix(ext)) if p.name else text)
        self._refresh()

    @Slot()
    def _on_content(self, *_: object) -> None:
        self._switch_note = ""
        self._refresh()

    @Slot()
    def _on_size(self, *_: object) -> None:
        w, h = self.size_combo.currentData()
        custom = w == 0
        self.width_spin.setEnabled(custom)
        self.height_spin.setEnabled(custom)
        if not custom:
            self.width_spin.setValue(w)
            self.height_spin.setValue(h)
        self._refresh()

    @Slot()
    def _on_snapshots(self, *_: object) -> None:
        """While training: only when a training video becomes possible (two snapshots);
        every batch re-checked every choice, probed the disk for a free file name and
        put the preview off. Idle (a run loaded, training ended): all of it, once."""
        series = len(self.state.snapshots) >= 2
        if self.state.training_state == "idle" or series != self._had_series:
            self._refresh()

    def _refresh(self, *_: object) -> None:
        """Enable what is possible, explain what is not, validate the rest inline."""
        self._had_series = len(self.state.snapshots) >= 2
        model = self.content_combo.model()
        assert isinstance(model, QStandardItemModel)
        for i in range(self.content_combo.count()):
            item = model.item(i)
            why = self._problem(str(self.content_combo.itemData(i)))
            item.setEnabled(not why)
            item.setToolTip(f"Not available: {why}" if why else "")
        current_why = self._problem(self.content())
        if current_why:
            for i in range(self.content_combo.count()):
                if model.item(i).isEnabled():
                    self._switch_note = (
                        f"{self.content_combo.currentText()} is not possible here "
                        f"({current_why}): switched to {self.content_combo.itemText(i)}."
                    )
                    self.content_combo.blockSignals(True)
                    self.content_combo.setCurrentIndex(i)
                    self.content_combo.blockSignals(False)
                    break
        disabled = [
            f"• {self.content_combo.itemText(i)}: "
            + self._problem(str(self.content_combo.itemData(i)))
            for i in range(self.content_combo.count())
            if not model.item(i).isEnabled()
        ]
        note = self._switch_note
        if not note and disabled:
            note = "Not available:\n" + "\n".join(disabled)
        self.content_note.setText(note)
        self.content_note.setVisible(bool(self.content_note.text()))

        video = self.ext() in VIDEO
        for w in (self.fps_spin, self.seconds_spin, self.hold_spin):
            w.setEnabled(video and not self.busy)
        self.quality_spin.setEnabled(self.ext() == ".mp4" and not self.busy)
        if self.ext() == ".gif":
            self.fps_spin.setMaximum(spec.GIF_MAX_FPS)  # hundredths of a second per frame
        else:
            self.fps_spin.setMaximum(int(spec.FPS.hi))
        self._follow_fields()
        bg_model = self.background_combo.model()
        assert isinstance(bg_model, QStandardItemModel)
        tr = bg_model.item(2)
        tr.setEnabled(self.ext() != ".mp4")
        tr.setToolTip("MP4 has no transparency" if self.ext() == ".mp4" else "")
        if self.ext() == ".mp4" and self.background_combo.currentIndex() == 2:
            self.background_combo.setCurrentIndex(0)

        err = ""
        try:
            dataclasses.replace(self.options(), overwrite=True).validate(
                self.run_for_export(self.content())
            )
        except ExportError as e:
            err = str(e)
        self.error_label.setText(err)
        self.error_label.setVisible(bool(err))
        self.export_button.setEnabled(not err and not self.busy)
        self._update_camera_label()
        self._update_snapshot_label()
        if not self.busy:
            self._preview_timer.start()  # restarted by each change: drawn once it settles

    @Slot()
    def _update_snapshot_label(self, *_: object) -> None:
        """Which step the export shows: the snapshot on screen for a still or a flow
        (both runs' for Compare), every snapshot up to it for a training replay."""
        if self.busy:
            return  # the export already took its run
        content = self.content()
        snaps = self.run_for_export(content).snapshots
        if not snaps:
            self.snapshot_label.setText("no snapshot")
            return
        last = steps.step_name(snaps[-1])
        if self.compare is not None:
            text = f"{last} of both runs"
        elif content == "training":
            text = f"{len(snaps):,} snapshots, {steps.step_name(snaps[0])} to {last}"
        else:
            text = last
        self.snapshot_label.setText(text)

    def _update_camera_label(self) -> None:
        width = (
            self.compare[0].config.model.width
            if self.compare is not None
            else self.state.config.model.width
        )
        three_d = width >= 3 and self.content() in ("layers", "training", "orbit", "compare")
        if not three_d:
            text = "2-D: the view frames all layers"
        elif self.camera_keys and self.content() == "layers":
            text = f"a path through {len(self.camera_keys)} saved views (View → Camera)"
        elif self.camera is not None:
            az, el, zoom = self.camera
            text = f"as in the window (azimuth {az:.0f}°, elevation {el:.0f}°, zoom {zoom:.2g})"
        else:
            text = "facing the separating plane"
        self.camera_label.setText(text)

    @Slot()
    def update_preview(self) -> bool:
        """Draw the miniature of the export now; False (and the reason shown) if it fails."""
        self._preview_timer.stop()
        opts = self.options()
        try:
            rgba, _warnings = preview_frame(
                self.run_for_export(opts.content), opts, PREVIEW_W, PREVIEW_H
            )
        except ExportError as e:
            self.preview.setPixmap(QPixmap())
            self.preview.setText("no preview:\n" + str(e))
            return False
        except Exception:  # a bug in drawing must not take the dialog down
            self.preview.setPixmap(QPixmap())
            self.preview.setText("no preview")
            return False
        h, w = rgba.shape[:2]
        buf = np.ascontiguousarray(rgba)
        img = QImage(buf.data, w, h, 4 * w, QImage.Format.Format_RGBA8888).copy()
        self.preview.setPixmap(QPixmap.fromImage(img))
        return True

    def _browse(self) -> None:
        ext = self.ext()
        name = dict((e, n) for n, e in FORMATS)[ext]
        path, _ = QFileDialog.getSaveFileName(
            self,
            "Export to",
            self.path_edit.text(),
            f"{name} (*{ext})",
            options=QFileDialog.Option.DontConfirmOverwrite,  # we ask ourselves, on Export
        )
        if path:
            if Path(path).suffix.lower() != ext:
                path += ext
            self.path_edit.setText(path)

    # ------------------------------------------------------------------ export
    @Slot()
    def export_clicked(self) -> None:
        """Ask before replacing a file, then start the export of what the fields say."""
        opts = self.options()
        target = Path(opts.path).expanduser()
        opts.path = str(target)
        if target.is_file():
            answer = QMessageBox.question(
                self,
                "Replace file?",
                f"{target.name} already exists in {target.parent}.\nReplace it?",
                QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
                QMessageBox.StandardButton.No,
            )
            if answer != QMessageBox.StandardButton.Yes:
                self.status_label.setText("Not exported: the existing file was kept.")
                self.status_label.setStyleSheet(NOTE_STYLE)
                return
            opts.overwrite = True
        self.start_export(opts)

    def start_export(self, options: ExportOptions) -> bool:
        """Begin exporting (frames are drawn by a timer); False if the options are invalid."""
        if self.busy:
            return False
        self.open_folder_button.setVisible(False)
        self.status_label.setStyleSheet("")
        try:
            self.exporter = Exporter(self.run_for_export(options.content), options)
        except ExportError as e:
            self._fail(str(e))
            return False
        except Exception as e:  # a bug must not take the window down
            self._fail(f"export failed: {e}")
            return False
        self._options = options
        self._guard.exporter = self.exporter
        self.progress.setRange(0, self.exporter.total_frames)
        self.progress.setValue(0)
        self.progress.setVisible(True)
        self.status_label.setText(f"Rendering {Path(options.path).name}…")
        self.cancel_button.setText("Cancel")
        self._set_fields_enabled(False)
        self._tick.start()
        return True

    @Slot()
    def _step(self) -> None:
        ex = self.exporter
        if ex is None:
            self._tick.stop()
            return
        try:
            more = ex.step()
            self.progress.setValue(ex.progress[0])
            if more:
                return
            self._tick.stop()
            self.status_label.setText("Finishing (encoding the last frames)…")
            path = ex.finish()
        except ExportError as e:
            self._end()
            self._fail(str(e))
            return
        except Exception as e:
            ex.abort()
            self._end()
            self._fail(f"export failed: {e}")
            return
        warnings = list(ex.warnings)
        self._end()
        self.last_path = str(path)
        with contextlib.suppress(Exception):
            remember_export_dir(str(Path(path).parent))
        self._auto_path = True  # the next export gets the next free number
        self._suggested = self.path_edit.text()
        self._follow_fields()
        lines = [f"Saved {path}"] + [f"Note: {w}" for w in warnings]
        self.status_label.setText("\n".join(lines))
        self.status_label.setStyleSheet(OK_STYLE)
        self.open_folder_button.setVisible(True)
        self.finished.emit(str(path))

    def cancel_export(self) -> None:
        """Stop now; the exporter deletes its temporary file, so nothing is left behind."""
        ex = self.exporter
        if ex is None:
            return
        ex.abort()
        self._end()
        self.status_label.setText("Export cancelled: nothing was written.")
        self.status_label.setStyleSheet(NOTE_STYLE)
        self.failed.emit("export cancelled")

    def open_folder(self) -> None:
        if self.last_path:
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(Path(self.last_path).parent)))

    # ------------------------------------------------------------------ internals
    def _fail(self, message: str) -> None:
        self.status_label.setText(f"Export failed: {message}")
        self.status_label.setStyleSheet(ERROR_STYLE)
        self.failed.emit(message)

    def _end(self) -> None:
        self._tick.stop()
        self.exporter = None
        self._guard.exporter = None
        self.progress.setVisible(False)
        self.cancel_button.setText("Close")
        self._set_fields_enabled(True)
        self._refresh()

    def _set_fields_enabled(self, on: bool) -> None:
        for w in (
            self.format_combo,
            self.content_combo,
            self.size_combo,
            self.background_combo,
            self.legend_check,
            self.title_edit,
            self.caption_edit,
            self.path_edit,
            self.browse_button,
        ):
            w.setEnabled(on)
        video = self.ext() in VIDEO
        for sp in (self.fps_spin, self.seconds_spin, self.hold_spin):
            sp.setEnabled(on and video)
        self.quality_spin.setEnabled(on and self.ext() == ".mp4")
        custom = self.size_combo.currentData()[0] == 0
        self.width_spin.setEnabled(on and custom)
        self.height_spin.setEnabled(on and custom)
        self.export_button.setEnabled(on)

    def _cancel_or_close(self) -> None:
        if self.busy:
            self.cancel_export()
        else:
            self.close()

    def reject(self) -> None:
        """Escape / window close: cancel a running export first (no partial file)."""
        self.cancel_export()
        super().reject()

    def closeEvent(self, ev: Any) -> None:
        self.cancel_export()
        super().closeEvent(ev)


def last_export_dir() -> str:
    """Where the last export went (the home folder the first time)."""
    raw = app_settings.settings(create=False).value(KEY_EXPORT_DIR)
    if isinstance(raw, str) and raw and Path(raw).is_dir():
        return raw
    return QDir.homePath()


def remember_export_dir(folder: str) -> None:
    s = app_settings.settings()
    s.setValue(KEY_EXPORT_DIR, folder)
    s.sync()


KEY_EXPORT_DIR = "export/last_dir"


class _RunningExport:
    """The dialog's running Exporter, reachable after the dialog itself is deleted."""

    def __init__(self) -> None:
        self.exporter: Exporter | None = None

    def abort(self) -> None:
        ex, self.exporter = self.exporter, None
        if ex is not None:
            with contextlib.suppress(Exception):
                ex.abort()
