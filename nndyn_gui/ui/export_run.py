"""A running export: one frame per event-loop turn, progress, cancel, the file's folder.

Why it exists: Qt can only draw on the GUI thread, so a QTimer calls `Exporter.step()`
once per tick (one frame) while the encoder works in its own thread: the window stays
responsive and Cancel works at any frame; `abort()` leaves no partial file behind. The
dialog (ui/export_dialog.py) only shows what this reports. Every export kind runs
through here: a new kind is a new format or content of render/export_spec.py that
`Exporter` writes, nothing to add in this module.
"""

from __future__ import annotations

import contextlib
import logging
from pathlib import Path

from PySide6.QtCore import QDir, QObject, QTimer, Signal, Slot

from nndyn_gui.core.types import Run
from nndyn_gui.render.export import Exporter, ExportError, ExportOptions
from nndyn_gui.ui import settings as app_settings

log = logging.getLogger(__name__)

KEY_EXPORT_DIR = "export/last_dir"


class ExportRun(QObject):
    """Runs one export at a time; says how it goes with signals (GUI thread)."""

    progress = Signal(int)  # frames done
    finishing = Signal()  # every frame drawn: the encoder writes the last ones
    done = Signal(str, object)  # path, warnings (list[str])
    error = Signal(str)  # one line (the export ended, nothing was written)

    def __init__(self, parent: QObject) -> None:
        super().__init__(parent)
        self.exporter: Exporter | None = None
        # when the dialog's window is deleted the dialog goes without closeEvent/reject;
        # `destroyed` still fires, but `self` is gone by then: abort through a holder
        guard = self._guard = _RunningExport()
        self.destroyed.connect(lambda *_: guard.abort())
        self._tick = QTimer(self)
        self._tick.setInterval(0)
        self._tick.timeout.connect(self._step)

    @property
    def busy(self) -> bool:
        return self.exporter is not None

    def start(self, run: Run, options: ExportOptions) -> int:
        """Begin exporting `run` (frames drawn by a timer); its number of frames.
        Raises ExportError (a problem the user can fix) or any bug's exception."""
        self.exporter = Exporter(run, options)
        self._guard.exporter = self.exporter
        self._tick.start()
        return self.exporter.total_frames

    @Slot()
    def _step(self) -> None:
        ex = self.exporter
        if ex is None:
            self._tick.stop()
            return
        try:
            more = ex.step()
            self.progress.emit(ex.progress[0])
            if more:
                return
            self._tick.stop()
            self.finishing.emit()
            path = ex.finish()
        except ExportError as e:
            self._end()
            self.error.emit(str(e))
            return
        except Exception as e:  # a bug must not take the window down; the log keeps it
            log.exception("export failed")
            ex.abort()
            self._end()
            self.error.emit(f"export failed: {e}")
            return
        warnings = list(ex.warnings)
        self._end()
        try:
            remember_export_dir(str(Path(path).parent))
        except OSError:
            log.exception("cannot remember the export folder")
        self.done.emit(str(path), warnings)

    def cancel(self) -> bool:
        """Stop now; the exporter deletes its temporary file. False if none was running."""
        ex = self.exporter
        if ex is None:
            return False
        ex.abort()
        self._end()
        return True

    def _end(self) -> None:
        self._tick.stop()
        self.exporter = None
        self._guard.exporter = None


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


class _RunningExport:
    """The running Exporter, reachable after its owner is deleted."""

    def __init__(self) -> None:
        self.exporter: Exporter | None = None

    def abort(self) -> None:
        ex, self.exporter = self.exporter, None
        if ex is not None:
            with contextlib.suppress(Exception):
                ex.abort()
