"""Export the current run as a PNG, MP4, GIF, SVG or PDF for a talk or a paper.

Why it looks like this:
- Combinations the exporter cannot make (an orbit of a width-2 net, a keyframe sheet
  as a video, an SVG of a camera orbit) are *disabled in the list with the reason as a
  tooltip*, and the reason is repeated under the list, instead of failing on click.
- Every field is checked with `ExportOptions.validate()` while typing, so a bad folder
  or size is reported inline before anything is drawn.
- Qt can only draw on the GUI thread, so a QTimer calls `Exporter.step()` once per tick
  (one frame) while the encoder works in its own thread: the window stays responsive
  and Cancel works at any frame; `abort()` leaves no partial file behind.
"""

from __future__ import annotations

import contextlib
import dataclasses
from pathlib import Path
from typing import Any

from PySide6.QtCore import QDir, Qt, QTimer, QUrl, Signal, Slot
from PySide6.QtGui import QDesktopServices, QStandardItemModel
from PySide6.QtWidgets import (
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

from nndyn_gui.core.types import Run
from nndyn_gui.render.export import Exporter, ExportError, ExportOptions
from nndyn_gui.render.scene import ViewOptions
from nndyn_gui.ui.state import AppState

FORMATS = (("PNG image", ".png"), ("MP4 video", ".mp4"), ("GIF animation", ".gif"),
           ("SVG (vector)", ".svg"), ("PDF (vector)", ".pdf"))  # fmt: skip
CONTENTS = (
    ("Layers flow", "layers"),
    ("Training replay", "training"),
    ("Camera orbit", "orbit"),
    ("Keyframe sheet", "sheet"),
    ("Side by side", "side_by_side"),
)
SIZES = (("1280 × 720 (HD)", 1280, 720), ("1920 × 1080 (Full HD)", 1920, 1080),
         ("3840 × 2160 (4K)", 3840, 2160), ("Custom…", 0, 0))  # fmt: skip
BACKGROUNDS = (("White", "white"), ("Dark", "dark"), ("Transparent", "transparent"))
VIDEO = (".mp4", ".gif")
VECTOR = (".svg", ".pdf")
ERROR_STYLE = "color: #c62828;"
NOTE_STYLE = "color: #8a6d00;"
OK_STYLE = "color: #1a7f37;"


def content_problem(ext: str, content: str, width: int, n_snapshots: int) -> str:
    """Why `content` cannot be exported as `ext` for this net, in a few words ("" if it can)."""
    if content == "orbit" and width < 3:
        return f"needs a 3-D net (width ≥ 3), this one has width {width}"
    if content == "training" and n_snapshots < 2:
        return "train the network first"
    if content == "sheet" and ext in VIDEO:
        return "a still image: choose PNG, SVG or PDF"
    if ext in VECTOR and content in ("orbit", "training"):
        return f"moving: {ext[1:].upper()} holds one still picture, choose MP4, GIF or PNG"
    return ""


class ExportDialog(QDialog):
    """Choose what to export and where, then render it frame by frame with a progress bar."""

    finished = Signal(str)  # path of the written file (named like QDialog.finished(int))
    failed = Signal(str)  # one-line reason (includes "cancelled")

    def __init__(
        self,
        state: AppState,
        parent: QWidget | None = None,
        view_options: ViewOptions | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Export")
        self.setModal(False)
        self.state = state
        self.view_options = view_options
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
        self.content_note = QLabel()
        self.content_note.setWordWrap(True)
        self.content_note.setStyleSheet(NOTE_STYLE)

        self.size_combo = QComboBox()
        for name, w, h in SIZES:
            self.size_combo.addItem(name, (w, h))
        self.width_spin = QSpinBox()
        self.height_spin = QSpinBox()
        for sp, v in ((self.width_spin, 1280), (self.height_spin, 720)):
            sp.setRange(16, 7680)
            sp.setValue(v)
            sp.setSuffix(" px")
        size_row = QHBoxLayout()
        size_row.addWidget(self.size_combo, 1)
        size_row.addWidget(self.width_spin)
        size_row.addWidget(QLabel("×"))
        size_row.addWidget(self.height_spin)

        self.fps_spin = QSpinBox()
        self.fps_spin.setRange(1, 120)
        self.fps_spin.setValue(30)
        self.fps_spin.setSuffix(" fps")
        self.seconds_spin = QDoubleSpinBox()
        self.seconds_spin.setRange(0.1, 600.0)
        self.seconds_spin.setDecimals(1)
        self.seconds_spin.setValue(8.0)
        self.seconds_spin.setSuffix(" s")
        self.hold_spin = QDoubleSpinBox()
        self.hold_spin.setRange(0.0, 60.0)
        self.hold_spin.setDecimals(1)
        self.hold_spin.setValue(1.5)
        self.hold_spin.setSuffix(" s hold")
        self.hold_spin.setToolTip("Still frames on the last layer, with the separating plane")
        time_row = QHBoxLayout()
        time_row.addWidget(self.fps_spin)
        time_row.addWidget(self.seconds_spin)
        time_row.addWidget(self.hold_spin)

        self.background_combo = QComboBox()
        for name, key in BACKGROUNDS:
            self.background_combo.addItem(name, key)
        self.title_edit = QLineEdit(state.config.title)
        self.title_edit.setPlaceholderText("shown above the picture (optional)")
        self.caption_edit = QLineEdit()
        self.caption_edit.setPlaceholderText("shown below the picture (optional)")

        self.path_edit = QLineEdit(str(Path(QDir.homePath()) / "nndyn-export.png"))
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
        form.addRow("Background", self.background_combo)
        form.addRow("Title", self.title_edit)
        form.addRow("Caption", self.caption_edit)
        form.addRow("File", path_row)

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
        lay.addLayout(form)
        lay.addWidget(self.error_label)
        lay.addWidget(self.progress)
        lay.addWidget(self.status_label)
        lay.addLayout(buttons)

        self.format_combo.currentIndexChanged.connect(self._on_format)
        self.content_combo.currentIndexChanged.connect(self._on_content)
        self.size_combo.currentIndexChanged.connect(self._on_size)
        for sp in (self.width_spin, self.height_spin, self.fps_spin):
            sp.valueChanged.connect(self._refresh)
        for dsp in (self.seconds_spin, self.hold_spin):
            dsp.valueChanged.connect(self._refresh)
        self.background_combo.currentIndexChanged.connect(self._refresh)
        self.path_edit.textChanged.connect(self._refresh)
        self.browse_button.clicked.connect(self._browse)
        self.export_button.clicked.connect(self.export_clicked)
        self.cancel_button.clicked.connect(self._cancel_or_close)
        self.open_folder_button.clicked.connect(self.open_folder)
        state.snapshotsChanged.connect(self._refresh)
        state.configChanged.connect(self._refresh)
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
        return ExportOptions(
            path=self.path_edit.text().strip(),
            content=self.content(),
            width=self.width_spin.value(),
            height=self.height_spin.value(),
            fps=self.fps_spin.value(),
            seconds=float(self.seconds_spin.value()),
            hold_seconds=0.0 if still else float(self.hold_spin.value()),
            background=str(self.background_combo.currentData()),
            title=self.title_edit.text().strip(),
            caption=self.caption_edit.text().strip(),
            view=self.view_options,
        )

    def run_for_export(self, content: str) -> Run:
        """The run as plain data; stills and flows show the snapshot the user is looking at."""
        run = self.state.run()
        cur = self.state.current
        if content != "training" and cur is not None and cur in run.snapshots:
            run.snapshots = run.snapshots[: run.snapshots.index(cur) + 1]
        return run

    # ------------------------------------------------------------------ field logic
    def _problem(self, content: str) -> str:
        return content_problem(
            self.ext(), content, self.state.config.model.width, len(self.state.snapshots)
        )

    @Slot()
    def _on_format(self, *_: object) -> None:
        ext = self.ext()
        text = self.path_edit.text().strip()
        if text:
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
    def _refresh(self, *_: object) -> None:
        """Enable what is possible, explain what is not, validate the rest inline."""
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
            self.title_edit,
            self.caption_edit,
            self.path_edit,
            self.browse_button,
        ):
            w.setEnabled(on)
        video = self.ext() in VIDEO
        for sp in (self.fps_spin, self.seconds_spin, self.hold_spin):
            sp.setEnabled(on and video)
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


class _RunningExport:
    """The dialog's running Exporter, reachable after the dialog itself is deleted."""

    def __init__(self) -> None:
        self.exporter: Exporter | None = None

    def abort(self) -> None:
        ex, self.exporter = self.exporter, None
        if ex is not None:
            with contextlib.suppress(Exception):
                ex.abort()
