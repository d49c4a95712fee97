"""Export the current run as a PNG, MP4, GIF, SVG or PDF for a talk or a paper, or as
one interactive web page.

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
- The export itself runs in ui/export_run.py (one frame per event-loop turn, the
  encoder in its own thread, Cancel at any frame, no partial file left behind); the
  fields, their constants and checks are in ui/export_fields.py.
- The web page (.html) is `nndyn render --kind html`'s page of the same run record
  (`AppState.run()`, every snapshot: the page has a slider over training), written by
  render/web in a thread; the fields it has no use for are off with the reason, its
  preview is the app's drawing of the picture it opens on, said so under it, and the end
  says what was written in the command line's words (render/web's `written_summary`).
"""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import Qt, QUrl, Signal, Slot
from PySide6.QtGui import QDesktopServices, QImage, QPixmap
from PySide6.QtWidgets import (
    QDialog,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)
from superqt.utils import qdebounced

from nndyn_gui.core.analysis import comparison
from nndyn_gui.core.types import Run
from nndyn_gui.render import export_spec as spec
from nndyn_gui.render.camera import CameraKey
from nndyn_gui.render.export import Exporter, ExportError, ExportOptions, preview_frame
from nndyn_gui.render.scene import ViewOptions
from nndyn_gui.render.web import WebOptions
from nndyn_gui.render.web.flowdata import pick
from nndyn_gui.ui import steps
from nndyn_gui.ui.export_fields import (
    ERROR_STYLE,
    NOTE_STYLE,
    OK_STYLE,
    VIDEO,
    WEB,
    ExportFields,
    camera_text,
    content_problem,
)
from nndyn_gui.ui.export_run import ExportRun, last_export_dir
from nndyn_gui.ui.export_web import check_web, kept_snapshots, preview_request
from nndyn_gui.ui.state import AppState

log = logging.getLogger(__name__)

PREVIEW_W, PREVIEW_H = 384, 216
PREVIEW_DELAY_MS = 250  # the preview is drawn this long after the last change


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
        self.running = ExportRun(self)  # the export in progress (ui/export_run.py)
        self.last_path: str = ""

        f = self.fields = ExportFields(self._title_for_runs(), compare is not None)
        self._proposed_title = f.title_edit.text()
        # the names the dialog's tests and Compare use
        self.format_combo, self.content_combo, self.content_note = (
            f.format_combo,
            f.content_combo,
            f.content_note,
        )
        self.size_combo, self.width_spin, self.height_spin = (
            f.size_combo,
            f.width_spin,
            f.height_spin,
        )
        self.spins = f.spins
        self.fps_spin, self.seconds_spin = f.fps_spin, f.seconds_spin
        self.hold_spin, self.quality_spin = f.hold_spin, f.quality_spin
        self.background_combo, self.legend_check = f.background_combo, f.legend_check
        self.title_edit, self.caption_edit = f.title_edit, f.caption_edit
        self.camera_label, self.snapshot_label = f.camera_label, f.snapshot_label
        self.path_edit, self.browse_button = f.path_edit, f.browse_button
        form = f.form()

        self.preview = QLabel()
        self.preview.setObjectName("exportPreview")
        self.preview.setFixedSize(PREVIEW_W, PREVIEW_H)
        self.preview.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.preview.setStyleSheet("QLabel#exportPreview { background: #e8e8e8; }")
        self.preview.setToolTip("What the export will show (the last layer of a video)")
        self.preview_note = QLabel()  # a web page: what the miniature is, and what it is not
        self.preview_note.setObjectName("exportPreviewNote")
        self.preview_note.setWordWrap(True)
        self.preview_note.setFixedWidth(PREVIEW_W)
        self.preview_note.setStyleSheet("color: #6B6F76;")
        self.preview_note.setVisible(False)

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
        side = QVBoxLayout()
        side.addWidget(self.preview)
        side.addWidget(self.preview_note)
        side.addStretch(1)
        top.addLayout(side)
        lay.addLayout(top)
        lay.addWidget(self.error_label)
        lay.addWidget(self.progress)
        lay.addWidget(self.status_label)
        lay.addLayout(buttons)

        self.format_combo.currentIndexChanged.connect(self._on_format)
        self.content_combo.currentIndexChanged.connect(self._on_content)
        self.size_combo.currentIndexChanged.connect(self._on_size)
        for box in (
            self.width_spin,
            self.height_spin,
            *self.spins.values(),
            *self.fields.web_spins.values(),
        ):
            box.valueChanged.connect(self._refresh)
        self.background_combo.currentIndexChanged.connect(self._refresh)
        self.legend_check.toggled.connect(self._refresh)
        self.title_edit.textChanged.connect(self._refresh)
        self.caption_edit.textChanged.connect(self._refresh)
        self.path_edit.textChanged.connect(self._refresh)
        self.browse_button.clicked.connect(lambda: self.fields.browse(self))
        self.export_button.clicked.connect(self.export_clicked)
        self.cancel_button.clicked.connect(
            lambda: self.cancel_export() if self.busy else self.close()
        )
        self.open_folder_button.clicked.connect(self.open_folder)
        self.running.progress.connect(self.progress.setValue)
        self.running.finishing.connect(
            lambda: self.status_label.setText("Finishing (encoding the last frames)…")
        )
        self.running.done.connect(self._on_done)
        self.running.error.connect(self._fail)
        self.running.cancelled.connect(self._on_cancelled)
        state.snapshotsChanged.connect(self._on_snapshots)
        state.trainingStateChanged.connect(self._on_snapshots)
        state.configChanged.connect(self._follow_config)
        state.configChanged.connect(self._refresh)
        state.currentChanged.connect(self._update_snapshot_label)  # cheap: every snapshot
        self._on_size()  # ends with _refresh: every label filled

    # ------------------------------------------------------------------ queries
    @property
    def busy(self) -> bool:
        return self.running.busy

    @property
    def exporter(self) -> Exporter | None:
        """The export being written, if any (ui/export_run.py)."""
        return self.running.exporter

    def ext(self) -> str:
        return str(self.format_combo.currentData())

    def is_web(self) -> bool:
        """The web page is chosen (render/web writes it, not the Exporter)."""
        return self.ext() == WEB

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

    def web_options(self) -> WebOptions:
        """The WebOptions the Page row, background and title describe (not validated)."""
        bg = str(self.background_combo.currentData())
        return self.fields.web_options(bg, self.title_edit.text().strip())

    def run_for_export(self, content: str) -> Run:
        """The run as plain data; stills and flows show the snapshot the user is looking at,
        a web page every snapshot (its slider moves over training).

        From Compare: its first run (the second travels in the options)."""
        if self.compare is not None:
            return self.compare[0]
        run = self.state.run()
        if self.is_web():
            return run
        cur = self.state.current
        if content != "training" and cur is not None and cur in run.snapshots:
            run.snapshots = run.snapshots[: run.snapshots.index(cur) + 1]
        return run

    # ------------------------------------------------------------------ field logic
    def _problem(self, content: str) -> str:
        if self.is_web():  # the Content list is off for a page, its reason under it
            return ""
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
        kind = spec.WEB_KIND if self.is_web() else self.content()
        return spec.suggest_path(folder, title, kind, self.ext())

    def _title_for_runs(self) -> str:
        """The title of the run(s) exported, from their configs (core.analysis.narrator)."""
        if self.compare is not None:
            return comparison.compare_titles(self.compare[0].config, self.compare[1].config)[0]
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
        self.fields.switch_note = ""
        self._refresh()

    @Slot()
    def _on_size(self, *_: object) -> None:
        self.fields.follow_size()
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
        self.fields.explain_contents(self._problem)
        self.fields.follow_format(enabled=not self.busy)
        self._follow_fields()

        err = ""
        try:
            if self.is_web():
                self._check_web(overwrite=True)
            else:
                dataclasses.replace(self.options(), overwrite=True).validate(
                    self.run_for_export(self.content())
                )
        except ExportError as e:
            err = str(e)
        self.error_label.setText(err)
        self.error_label.setVisible(bool(err))
        self.export_button.setEnabled(not err and not self.busy)
        run_cfg = self.compare[0].config if self.compare is not None else self.state.config
        self.camera_label.setText(
            camera_text(
                run_cfg.model.width, self.content(), self.camera_keys, self.camera, self.is_web()
            )
        )
        self._update_snapshot_label()
        if not self.busy:
            self._preview_when_settled()
        self._fit_height()

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
        if self.is_web():
            text = kept_snapshots(snaps, self.fields.web_spins["snapshots"].value())
        elif self.compare is not None:
            text = f"{last} of both runs"
        elif content == "training":
            text = f"{len(snaps):,} snapshots, {steps.step_name(snaps[0])} to {last}"
        else:
            text = last
        self.snapshot_label.setText(text)

    def _check_web(self, overwrite: bool) -> None:
        """Raise ExportError (one line) for a web page that cannot be written as asked."""
        run = self.run_for_export(self.content())
        check_web(run, self.path_edit.text().strip(), self.web_options(), overwrite)

    @qdebounced(timeout=PREVIEW_DELAY_MS)
    def _preview_when_settled(self) -> None:
        """Each change restarts the wait: the miniature is drawn once the fields settle."""
        self.update_preview()

    @Slot()
    def update_preview(self) -> bool:
        """Draw the miniature of the export now; False (and the reason shown) if it fails."""
        self._preview_when_settled.cancel()
        opts = self.options()
        self.preview_note.setVisible(self.is_web())
        if self.is_web():
            bg, title = str(self.background_combo.currentData()), self.title_edit.text().strip()
            run = self.run_for_export(self.content())
            opts, note = preview_request(run, bg, title, self.view_options)
            self.preview_note.setText(note)
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

    # ------------------------------------------------------------------ export
    @Slot()
    def export_clicked(self) -> None:
        """Ask before replacing a file, then start the export of what the fields say."""
        opts = self.options()
        target = Path(opts.path).expanduser()
        opts.path = str(target)
        overwrite = False
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
            opts.overwrite = overwrite = True
        if self.is_web():
            self.start_web_export(str(target), overwrite)
        else:
            self.start_export(opts)

    def start_export(self, options: ExportOptions) -> bool:
        """Begin exporting (frames are drawn by a timer); False if the options are invalid."""
        if self.busy:
            return False
        self.open_folder_button.setVisible(False)
        self.status_label.setStyleSheet("")
        try:
            total = self.running.start(self.run_for_export(options.content), options)
        except ExportError as e:
            self._fail(str(e))
            return False
        except Exception as e:  # a bug must not take the window down; the log keeps it
            log.exception("export could not start")
            self._fail(f"export failed: {e}")
            return False
        self.progress.setRange(0, total)
        self.progress.setValue(0)
        self._show_busy(f"Rendering {Path(options.path).name}…")
        return True

    def start_web_export(self, path: str, overwrite: bool = False) -> bool:
        """Begin writing the web page (a thread; the dialog shows it busy); False, and the
        reason shown, if it cannot be written as asked."""
        if self.busy:
            return False
        self.open_folder_button.setVisible(False)
        self.status_label.setStyleSheet("")
        opts = self.web_options()
        run = self.run_for_export(self.content())
        try:
            self._check_web(overwrite)
            self.running.start_web(run, path, opts, overwrite)
        except ExportError as e:
            self._fail(str(e))
            return False
        kept = len(pick(len(run.snapshots), opts.snapshots))
        self.progress.setRange(0, 0)  # busy: the page is made in one call, no steps to count
        self._show_busy(
            f"Writing {Path(path).name}: a web page of {kept:,} snapshots (a few seconds)…"
        )
        return True

    def _show_busy(self, text: str) -> None:
        self._preview_when_settled.cancel()  # drawn now it would stall the window
        self.progress.setVisible(True)
        self.status_label.setText(text)
        self.cancel_button.setText("Cancel")
        self.fields.set_enabled(False)
        self.export_button.setEnabled(False)
        self._fit_height()

    def _fit_height(self) -> None:
        """Grow (never shrink) to the height the rows need at this width: a note, the
        progress bar or a two-line status appearing would otherwise squeeze the
        word-wrapped labels until their text is cut off (Qt's minimum size ignores
        height-for-width)."""
        need = self.heightForWidth(self.width())  # -1: no height-for-width rows
        if need < 0:
            need = self.sizeHint().height()
        if self.isVisible() and self.height() < need:
            self.resize(self.width(), need)

    def _on_done(self, path: str, warnings: list[str], summary: str = "") -> None:
        self._end()
        self.last_path = path
        self._auto_path = True  # the next export gets the next free number
        self._suggested = self.path_edit.text()
        self._follow_fields()
        lines = [f"Saved {path}"] + [f"Note: {w}" for w in warnings]
        if summary:  # a web page: what it holds, in the command line's words
            lines.append(summary[:1].upper() + summary[1:] + ".")
        self.status_label.setText("\n".join(lines))
        self.status_label.setStyleSheet(OK_STYLE)
        self.open_folder_button.setVisible(True)
        self.finished.emit(path)

    def cancel_export(self) -> None:
        """Stop now; the exporter deletes its temporary file, so nothing is left behind.
        A web page being made is dropped when it is ready, before it is written: its
        thread's end says so (`_on_cancelled`)."""
        if self.running.cancel_web():
            self.status_label.setText("Cancelling: the page being made will not be written…")
            self.cancel_button.setEnabled(False)
            return
        if not self.running.cancel():
            return
        self._on_cancelled()

    def _on_cancelled(self) -> None:
        self._end()
        self.status_label.setText("Export cancelled: nothing was written.")
        self.status_label.setStyleSheet(NOTE_STYLE)
        self.failed.emit("export cancelled")

    def open_folder(self) -> None:
        if self.last_path:
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(Path(self.last_path).parent)))

    # ------------------------------------------------------------------ internals
    def _fail(self, message: str) -> None:
        """The export ended (or never began) without a file: say why."""
        self._end()
        self.status_label.setText(f"Export failed: {message}")
        self.status_label.setStyleSheet(ERROR_STYLE)
        self.failed.emit(message)

    def _end(self) -> None:
        self.progress.setVisible(False)
        self.progress.setRange(0, 1)
        self.cancel_button.setText("Close")
        self.cancel_button.setEnabled(True)
        self.fields.set_enabled(True)
        self._refresh()  # enables Export when the fields are valid

    def reject(self) -> None:
        """Escape / window close: cancel a running export first (no partial file)."""
        self.cancel_export()
        super().reject()

    def closeEvent(self, ev: Any) -> None:
        self.cancel_export()
        super().closeEvent(ev)
