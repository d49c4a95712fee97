"""The running export as the Export dialog shows it: progress bar, status line, Cancel.

Why a module: ui/export_run.py runs an export (a frame per event-loop turn, or a web page
in a thread) and says how it goes with signals; turning those into what the user sees —
the bar (frames, or busy for a page), "Rendering…", "Finishing…", "Saved …" with the
exporter's notes, "Export failed: …" in one line, "nothing was written" after Cancel,
Close becoming Cancel and back, Open folder once a file exists — is one job. The dialog
(ui/export_dialog.py) places these widgets, turns its fields off while `busy_changed`
says so, and passes `finished` / `failed` on.
"""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import QObject, Qt, QUrl, Signal
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QLabel, QProgressBar, QPushButton

from nndyn_gui.core.types import Run
from nndyn_gui.render.export import Exporter, ExportError, ExportOptions
from nndyn_gui.render.web import WebOptions
from nndyn_gui.render.web.flowdata import pick
from nndyn_gui.ui.export_fields import ERROR_STYLE, NOTE_STYLE, OK_STYLE
from nndyn_gui.ui.export_run import ExportRun
from nndyn_gui.ui.export_web import check_web

log = logging.getLogger(__name__)


class ExportProgress(QObject):
    """One export at a time, started here and shown in `bar`, `status` and the buttons."""

    busy_changed = Signal(bool)  # True: an export began; False: it ended (or never began)
    finished = Signal(str)  # path of the written file
    failed = Signal(str)  # one-line reason (includes "cancelled")

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.running = ExportRun(self)  # the export in progress (ui/export_run.py)
        self.last_path = ""  # the file written last (Open folder)
        self.bar = QProgressBar()
        self.bar.setVisible(False)
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.open_folder_button = QPushButton("Open folder")
        self.open_folder_button.setVisible(False)
        self.open_folder_button.clicked.connect(self.open_folder)
        self.cancel_button = QPushButton("Close")
        self.running.progress.connect(self.bar.setValue)
        self.running.finishing.connect(
            lambda: self.status.setText("Finishing (encoding the last frames)…")
        )
        self.running.done.connect(self._done)
        self.running.error.connect(self.fail)
        self.running.cancelled.connect(self._cancelled)

    @property
    def busy(self) -> bool:
        return self.running.busy

    @property
    def exporter(self) -> Exporter | None:
        """The export being written, if any (ui/export_run.py)."""
        return self.running.exporter

    def start(self, run: Run, options: ExportOptions) -> bool:
        """Begin exporting (frames are drawn by a timer); False if the options are invalid."""
        if self.busy:
            return False
        self.open_folder_button.setVisible(False)
        self.status.setStyleSheet("")
        try:
            total = self.running.start(run, options)
        except ExportError as e:
            self.fail(str(e))
            return False
        except Exception as e:  # a bug must not take the window down; the log keeps it
            log.exception("export could not start")
            self.fail(f"export failed: {e}")
            return False
        self.bar.setRange(0, total)
        self.bar.setValue(0)
        self._show_busy(f"Rendering {Path(options.path).name}…")
        return True

    def start_web(self, run: Run, path: str, options: WebOptions, overwrite: bool) -> bool:
        """Begin writing the web page (a thread; shown busy); False, and the reason
        shown, if it cannot be written as asked."""
        if self.busy:
            return False
        self.open_folder_button.setVisible(False)
        self.status.setStyleSheet("")
        try:
            check_web(run, path, options, overwrite)
            self.running.start_web(run, path, options, overwrite)
        except ExportError as e:
            self.fail(str(e))
            return False
        kept = len(pick(len(run.snapshots), options.snapshots))
        self.bar.setRange(0, 0)  # busy: the page is made in one call, no steps to count
        self._show_busy(
            f"Writing {Path(path).name}: a web page of {kept:,} snapshots (a few seconds)…"
        )
        return True

    def cancel(self) -> None:
        """Stop now; the exporter deletes its temporary file, so nothing is left behind.
        A web page being made is dropped when it is ready, before it is written: its
        thread's end says so (`_cancelled`)."""
        if self.running.cancel_web():
            self.status.setText("Cancelling: the page being made will not be written…")
            self.cancel_button.setEnabled(False)
            return
        if not self.running.cancel():
            return
        self._cancelled()

    def fail(self, message: str) -> None:
        """The export ended (or never began) without a file: say why."""
        self._end()
        self.status.setText(f"Export failed: {message}")
        self.status.setStyleSheet(ERROR_STYLE)
        self.failed.emit(message)

    def open_folder(self) -> None:
        if self.last_path:
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(Path(self.last_path).parent)))

    def _show_busy(self, text: str) -> None:
        self.bar.setVisible(True)
        self.status.setText(text)
        self.cancel_button.setText("Cancel")
        self.busy_changed.emit(True)

    def _done(self, path: str, warnings: list[str], summary: str = "") -> None:
        self._end()
        self.last_path = path
        lines = [f"Saved {path}"] + [f"Note: {w}" for w in warnings]
        if summary:  # a web page: what it holds, in the command line's words
            lines.append(summary[:1].upper() + summary[1:] + ".")
        self.status.setText("\n".join(lines))
        self.status.setStyleSheet(OK_STYLE)
        self.open_folder_button.setVisible(True)
        self.finished.emit(path)

    def _cancelled(self) -> None:
        self._end()
        self.status.setText("Export cancelled: nothing was written.")
        self.status.setStyleSheet(NOTE_STYLE)
        self.failed.emit("export cancelled")

    def _end(self) -> None:
        self.bar.setVisible(False)
        self.bar.setRange(0, 1)
        self.cancel_button.setText("Close")
        self.cancel_button.setEnabled(True)
        self.busy_changed.emit(False)  # the dialog's fields come back, checked again
