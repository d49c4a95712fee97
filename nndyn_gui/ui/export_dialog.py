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
- The web page (.html) is `nndyn render --kind html`'s page of the same run record
  (`AppState.run()`, every snapshot: the page has a slider over training), written by
  render/web in a thread; the fields it has no use for are off with the reason, its
  preview is the app's drawing of the picture it opens on, said so under it, and the end
  says what was written in the command line's words (render/web's `written_summary`).

This module lays the dialog out and wires it; each job is a collaborator of its own:
the fields and their rules (ui/export_fields.py), what they ask for and its checks
(ui/export_request.py), the proposed title and file name (ui/export_names.py), the
preview (ui/export_preview.py), and the running export as shown (ui/export_progress.py,
over ui/export_run.py: one frame per event-loop turn, Cancel at any frame, no partial
file left behind).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Signal, Slot
from PySide6.QtWidgets import (
    QDialog,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from nndyn_gui.core.types import Run
from nndyn_gui.render.camera import CameraKey
from nndyn_gui.render.export import Exporter, ExportOptions
from nndyn_gui.render.scene import ViewOptions
from nndyn_gui.ui.export_fields import ERROR_STYLE, NOTE_STYLE, ExportFields
from nndyn_gui.ui.export_names import ProposedNames
from nndyn_gui.ui.export_preview import ExportPreview
from nndyn_gui.ui.export_progress import ExportProgress
from nndyn_gui.ui.export_request import ComparePair, ExportRequest, runs_title
from nndyn_gui.ui.state import AppState


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
        compare: ComparePair | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Export" if compare is None else "Export two runs side by side")
        self.setModal(False)
        self.state = state
        self._had_series = False  # two snapshots or more at the last _refresh

        f = self.fields = ExportFields(runs_title(state, compare), compare is not None)
        self.request = ExportRequest(f, state, view_options, camera, camera_keys, compare)
        self.names = ProposedNames(f, self.request)
        self.previewer = ExportPreview(self.request, self)
        self.exporting = ExportProgress(self)
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
        self.preview, self.preview_note = self.previewer.label, self.previewer.note
        self.progress, self.status_label = self.exporting.bar, self.exporting.status
        self.open_folder_button = self.exporting.open_folder_button
        self.cancel_button = self.exporting.cancel_button

        self.error_label = QLabel()
        self.error_label.setWordWrap(True)
        self.error_label.setStyleSheet(ERROR_STYLE)
        self.export_button = QPushButton("Export")
        self.export_button.setDefault(True)
        self._lay_out()

        self.format_combo.currentIndexChanged.connect(self.names.follow_format)
        self.format_combo.currentIndexChanged.connect(self._refresh)
        self.content_combo.currentIndexChanged.connect(self._on_content)
        self.size_combo.currentIndexChanged.connect(self._on_size)
        for box in (self.width_spin, self.height_spin, *self.spins.values(), *f.web_spins.values()):
            box.valueChanged.connect(self._refresh)
        self.background_combo.currentIndexChanged.connect(self._refresh)
        self.legend_check.toggled.connect(self._refresh)
        self.title_edit.textChanged.connect(self._refresh)
        self.caption_edit.textChanged.connect(self._refresh)
        self.path_edit.textChanged.connect(self._refresh)
        self.browse_button.clicked.connect(lambda: self.fields.browse(self))
        self.export_button.clicked.connect(self.export_clicked)
        self.cancel_button.clicked.connect(
            lambda: self.exporting.cancel() if self.busy else self.close()
        )
        self.exporting.busy_changed.connect(self._on_busy)
        self.exporting.finished.connect(self.names.restart)  # the next gets the next number
        self.exporting.finished.connect(self.finished)
        self.exporting.failed.connect(self.failed)
        state.snapshotsChanged.connect(self._on_snapshots)
        state.trainingStateChanged.connect(self._on_snapshots)
        state.configChanged.connect(self.names.follow_config)
        state.configChanged.connect(self._refresh)
        state.currentChanged.connect(self._update_snapshot_label)  # cheap: every snapshot
        self._on_size()  # ends with _refresh: every label filled

    def _lay_out(self) -> None:
        """The form with the preview beside it; errors, progress, status and buttons below."""
        buttons = QHBoxLayout()
        buttons.addWidget(self.open_folder_button)
        buttons.addStretch(1)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.export_button)
        lay = QVBoxLayout(self)
        top = QHBoxLayout()
        top.addLayout(self.fields.form(), 1)
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

    # ------------------------------------------------------------------ queries
    @property
    def busy(self) -> bool:
        return self.exporting.busy

    @property
    def exporter(self) -> Exporter | None:
        """The export being written, if any (ui/export_run.py)."""
        return self.exporting.exporter

    def content(self) -> str:
        return self.request.content()

    def is_content_enabled(self, content: str) -> bool:
        """Whether `content` can be picked for the chosen format and this net."""
        return not self.request.problem(content)

    def options(self) -> ExportOptions:
        """The ExportOptions the fields describe (not validated)."""
        return self.request.options()

    def run_for_export(self, content: str) -> Run:
        """The run `content` draws (ui/export_request.py)."""
        return self.request.run_for_export(content)

    # ------------------------------------------------------------------ field logic
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
        self.fields.explain_contents(self.request.problem)
        self.fields.follow_format(enabled=not self.busy)
        self.names.follow_fields(self.busy)
        err = self.request.error()
        self.error_label.setText(err)
        self.error_label.setVisible(bool(err))
        self.export_button.setEnabled(not err and not self.busy)
        self.camera_label.setText(self.request.camera_text())
        self._update_snapshot_label()
        if not self.busy:
            self.previewer.when_settled()
        self._fit_height()

    @Slot()
    def _update_snapshot_label(self, *_: object) -> None:
        """Which step the export shows (ui/export_request.py), while no export runs."""
        if self.busy:
            return  # the export already took its run
        self.snapshot_label.setText(self.request.snapshot_text())

    @Slot()
    def update_preview(self) -> bool:
        """Draw the miniature of the export now; False (and the reason shown) if it fails."""
        return self.previewer.draw()

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
        req = self.request
        if req.is_web():
            run = req.run_for_export(req.content())
            self.exporting.start_web(run, str(target), req.web_options(), overwrite)
        else:
            self.start_export(opts)

    def start_export(self, options: ExportOptions) -> bool:
        """Begin exporting (frames are drawn by a timer); False if the options are invalid."""
        return self.exporting.start(self.run_for_export(options.content), options)

    def _on_busy(self, busy: bool) -> None:
        """An export began: the fields and Export are off, no preview is drawn (it would
        stall the window); it ended: the fields come back, checked again."""
        self.fields.set_enabled(not busy)
        if busy:
            self.previewer.cancel()
            self.export_button.setEnabled(False)
            self._fit_height()
        else:
            self._refresh()  # enables Export when the fields are valid

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

    def reject(self) -> None:
        """Escape / window close: cancel a running export first (no partial file)."""
        self.exporting.cancel()
        super().reject()

    def closeEvent(self, ev: Any) -> None:
        self.exporting.cancel()
        super().closeEvent(ev)
