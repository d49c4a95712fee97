"""A running export: one frame per event-loop turn, progress, cancel, the file's folder.

Why it exists: Qt can only draw on the GUI thread, so a QTimer calls `Exporter.step()`
once per tick (one frame) while the encoder works in its own thread: the window stays
responsive and Cancel works at any frame; `abort()` leaves no partial file behind. The
dialog shows what this reports through ui/export_progress.py. Every export kind runs
through here: a new kind is a new format or content of render/export_spec.py that
`Exporter` writes, nothing to add in this module.

The web page is the exception: render/web makes it with numpy and Plotly, no Qt, in one
call of a few seconds (`write_html`), so it runs in a thread of its own and ends with
one signal. It has no frames to count: the dialog shows it busy. Cancel cannot stop the
call; the page made is dropped before it is written (write_html's `cancelled`), and only
the thread's end says whether a file was written.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from pathlib import Path

from PySide6.QtCore import QDir, QObject, Qt, QTimer, Signal, Slot

from nndyn_gui.core.types import Run
from nndyn_gui.render.export import Exporter, ExportError, ExportOptions
from nndyn_gui.render.web import WebOptions, write_html, written_summary
from nndyn_gui.ui import settings as app_settings

log = logging.getLogger(__name__)

KEY_EXPORT_DIR = "export/last_dir"


class ExportRun(QObject):
    """Runs one export at a time; says how it goes with signals (GUI thread)."""

    progress = Signal(int)  # frames done
    finishing = Signal()  # every frame drawn: the encoder writes the last ones
    done = Signal(str, object, str)  # path, warnings (list[str]), what was written ("" or
    # a web page's "wrote 7.4 MB: 52 of 52 layers, ..." of render/web's written_summary)
    error = Signal(str)  # one line (the export ended, nothing was written)
    cancelled = Signal()  # a web page was dropped after Cancel: nothing was written

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
        self.web: _WebJob | None = None  # the web page being written
        self._web_bridge = _WebBridge(self)
        self._web_bridge.ended.connect(self._web_ended, Qt.ConnectionType.QueuedConnection)

    @property
    def busy(self) -> bool:
        return self.exporter is not None or self.web is not None

    def start_web(self, run: Run, path: str, options: WebOptions, overwrite: bool) -> None:
        """Begin writing the web page of `run` to `path` in a thread; `done` or `error`
        (or `cancelled`) says how it ended. Raises ExportError for options that cannot
        work (checked here, before any thread starts)."""
        options.validate()
        job = self.web = _WebJob(run, path, options, overwrite)
        self._guard.web = job
        threading.Thread(
            target=job.run, args=(self._web_bridge,), name="nndyn-web-page", daemon=True
        ).start()

    @Slot(object)
    def _web_ended(self, job: _WebJob) -> None:
        if job is not self.web:
            return
        self._end()
        if job.error and job.stop.is_set():
            self.cancelled.emit()
            return
        if job.error:
            self.error.emit(job.error)
            return
        try:
            remember_export_dir(str(Path(job.path).parent))
        except OSError:
            log.exception("cannot remember the export folder")
        self.done.emit(job.path, [], job.summary)

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
        self.done.emit(str(path), warnings, "")

    def cancel(self) -> bool:
        """Stop now; the exporter deletes its temporary file. False if none was running,
        or if it is a web page: that one is only asked to stop (`cancel_web`)."""
        ex = self.exporter
        if ex is None:
            return False
        ex.abort()
        self._end()
        return True

    def cancel_web(self) -> bool:
        """Ask the web page being made not to be written; its end (`cancelled`, or `done`
        if it was already being written) comes later. False if none is running."""
        if self.web is None or self.web.stop.is_set():
            return False
        self.web.stop.set()
        return True

    def _end(self) -> None:
        self._tick.stop()
        self.exporter = None
        self._guard.exporter = None
        self.web = None
        self._guard.web = None


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
    """The running Exporter or web page, reachable after its owner is deleted."""

    def __init__(self) -> None:
        self.exporter: Exporter | None = None
        self.web: _WebJob | None = None

    def abort(self) -> None:
        ex, self.exporter = self.exporter, None
        if ex is not None:
            with contextlib.suppress(Exception):
                ex.abort()
        web, self.web = self.web, None
        if web is not None:
            web.stop.set()  # made, then dropped: nobody is left to say it was written


class _WebBridge(QObject):
    """Carries the end of a web page's thread to the GUI thread (queued)."""

    ended = Signal(object)  # the _WebJob


class _WebJob:
    """One web page: written by render/web in a thread; how it ended, for the GUI thread."""

    def __init__(self, run: Run, path: str, options: WebOptions, overwrite: bool) -> None:
        self.run_record, self.path, self.options, self.overwrite = run, path, options, overwrite
        self.stop = threading.Event()
        self.summary = ""  # what was written (render/web's written_summary)
        self.error = ""  # one line; "" when written

    def run(self, bridge: _WebBridge) -> None:
        """The thread: write the page, keep how it went, tell the GUI thread."""
        try:
            n_bytes = write_html(
                self.run_record, self.path, self.options, self.overwrite, self.stop.is_set
            )
            self.summary = written_summary(self.run_record, self.options, n_bytes)
        except ExportError as e:
            self.error = str(e)
        except Exception as e:  # a bug must not pass silently: the log keeps it, one line shown
            log.exception("the web page could not be written")
            self.error = f"export failed: {type(e).__name__}: {e}"
        with contextlib.suppress(RuntimeError):  # the dialog was deleted: nobody to tell
            bridge.ended.emit(self)
