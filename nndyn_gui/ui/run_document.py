"""The run on disk: open, save, save as, recent files and the hand-off to the autosave.

Why it exists: reading or writing a `.nndyn` file (zip, npz, fsync) and stopping the
training that a newly opened run replaces take from milliseconds to seconds. None of
that waits on the GUI thread: files are read and written on one background thread, in
the order asked (a second save waits for the first, an open after a save reads what it
wrote), and a run opened while training is applied once the training has ended. The
synchronous forms (`wait=True`) serve scripts, `--open` and tests.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QThreadPool, Signal, Slot
from PySide6.QtWidgets import QFileDialog, QMessageBox

from nndyn_gui.core.types import Run
from nndyn_gui.ui import discard_rules
from nndyn_gui.ui import settings as app_settings
from nndyn_gui.ui.background import later
from nndyn_gui.ui.state import AppState

log = logging.getLogger(__name__)

RUN_FILTER = "nndyn runs (*.nndyn);;All files (*)"


class _Relay(QObject):
    """Carries a file job's result from the file thread to the GUI thread (queued)."""

    done = Signal(object, object, str)  # on_done, result | None, error


class RunDocument(QObject):
    """Where the shown run lives on disk (`path`), and the file work that moves it there."""

    opened = Signal(str)  # a run was read and is now the state's
    saved = Signal(str)
    failed = Signal(str, str)  # title, message
    status = Signal(str)  # what the file thread is doing, for the status bar
    idle = Signal()  # no file work left (a closing window may go)

    def __init__(self, state: AppState, controller: Any, window: Any) -> None:
        super().__init__(window)
        self.window = window  # the dialogs' parent; its `no_prompt` skips "Unsaved run"
        self.state = state
        self.controller = controller
        self.path = ""
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(1)  # one file at a time, in the order asked
        self._relay = _Relay(self)
        self._relay.done.connect(self._on_relayed)
        self._pending = 0  # file jobs asked for and not yet reported here
        self._opening: tuple[str, Run | None, str] | None = None  # path, run, error
        self._stopped = True  # the training an open replaces has ended

    def busy(self) -> bool:
        """True while a file is being read or written, or an open waits for training."""
        return self._pending > 0 or self._opening is not None

    # ------------------------------------------------------------------ the File menu
    def maybe_save(self) -> bool:
        """True when it is fine to drop the current run (saved, discarded, or no prompt)."""
        if not self.state.dirty or self.window.no_prompt:
            return True
        if not discard_rules.has_trained(self.state.snapshots):
            return True
        box = QMessageBox(
            QMessageBox.Icon.Question,
            "Unsaved run",
            "The current run has not been saved. Save it first?",
            QMessageBox.StandardButton.Save
            | QMessageBox.StandardButton.Discard
            | QMessageBox.StandardButton.Cancel,
            self.window,
        )
        answer = box.exec()
        if answer == QMessageBox.StandardButton.Save:
            return self.save_current()
        return answer == QMessageBox.StandardButton.Discard

    @Slot()
    def open_dialog(self) -> None:
        """File → Open run…"""
        if not self.maybe_save():
            return
        path, _ = QFileDialog.getOpenFileName(
            self.window, "Open run", app_settings.last_dir(), RUN_FILTER
        )
        if path:
            self.open(path)

    def open_recent(self, path: str) -> bool:
        """File → Open recent: like Open run…, without the file dialog."""
        if self.controller.is_running() or not self.maybe_save():
            return False
        return self.open(path)

    @Slot()
    def save_current(self) -> bool:
        """File → Save: to the run's file, or Save As for a run not saved yet."""
        return self.save(self.path) if self.path else self.save_as()

    @Slot()
    def save_as(self) -> bool:
        """File → Save run as…, proposing the run's title as the file name."""
        start = self.path or str(Path(app_settings.last_dir()) / self.suggested_file_name())
        path, _ = QFileDialog.getSaveFileName(self.window, "Save run", start, RUN_FILTER)
        if not path:
            return False
        return self.save(path if path.endswith(".nndyn") else f"{path}.nndyn")

    def suggested_file_name(self) -> str:
        """Save As's proposal for a run not saved yet: its title as a file name."""
        from nndyn_gui.core.analysis.narrator import run_title
        from nndyn_gui.render.export_spec import slug

        return f"{slug(run_title(self.state.config), fallback='run')}.nndyn"

    # ------------------------------------------------------------------ save
    def save(self, path: str, wait: bool = False) -> bool:
        """Write the run as it is now to `path`; False (and `failed`) when it cannot start."""
        if not Path(path).parent.is_dir():
            self.failed.emit("Cannot save run", f"No such folder: {Path(path).parent}")
            return False
        from nndyn_gui.core.io.runfile import current_versions

        run = self.state.run()  # captured now: later snapshots are the next save's
        run.versions = {**current_versions(), **self.controller.versions()}
        self.status.emit(f"Saving {path}…")
        return self._submit(lambda: _save(run, path), self._on_saved, path, wait)

    def _on_saved(self, path: str, _result: Any, error: str) -> None:
        if error:
            self.failed.emit("Cannot save run", error)
            return
        self.path = str(path)
        self.state.set_dirty(False)
        self.saved.emit(str(path))

    # ------------------------------------------------------------------ open
    def open(self, path: str, wait: bool = False) -> bool:
        """Read `path` and make it the shown run; a training run is stopped first. A
        damaged file is reported (`failed`) and the current run kept."""
        self._opening = (str(path), None, "")
        self._stopped = False
        if wait and self.controller.is_running():
            self.controller.stop(wait=True)
        # the run's end is delivered by the event loop, not awaited here
        self.controller.stop_then(self._on_stopped)
        self.status.emit(f"Opening {path}…")
        return self._submit(lambda: _load(path), self._on_loaded, path, wait)

    def _on_stopped(self) -> None:
        self._stopped = True
        later(self._finish_open)  # its own pass: the run's end came with other events

    def _on_loaded(self, path: str, result: Any, error: str) -> None:
        self._opening = (path, result, error)
        self._finish_open()

    def _finish_open(self) -> None:
        """Apply the run read once the training it replaces has ended."""
        if self._opening is None:
            return
        path, run, error = self._opening
        if run is None and not error:
            return  # still reading
        if run is None:
            self._opening = None
            self.failed.emit("Cannot open run", error or "unreadable")
            self._report_idle()
            return
        if not self._stopped:
            return  # `_on_stopped` comes back here
        self._opening = None
        self.state.load_run(run)
        self.path = path
        self.opened.emit(path)
        self._report_idle()

    # ------------------------------------------------------------------ the file thread
    def _submit(
        self, job: Callable[[], Any], on_done: Callable[..., None], path: str, wait: bool
    ) -> bool:
        """Run `job` on the file thread (after the jobs before it); `wait`: here, now."""
        self._pending += 1
        if wait:
            self._pool.waitForDone()  # a second save waits for the first
            result, error = _run(job, path)
            self._on_done(lambda r, e: on_done(path, r, e), result, error)
            return not error
        relay = self._relay
        self._pool.start(
            lambda: relay.done.emit(lambda r, e: on_done(path, r, e), *_run(job, path))
        )
        return True

    @Slot(object, object, str)
    def _on_relayed(self, on_done: Callable[[Any, str], None], result: Any, error: str) -> None:
        """A file job's result on the GUI thread: applied in its own event-loop pass."""
        later(lambda: self._on_done(on_done, result, error))

    def _on_done(self, on_done: Callable[[Any, str], None], result: Any, error: str) -> None:
        self._pending -= 1
        on_done(result, error)
        self._report_idle()

    def _report_idle(self) -> None:
        if not self.busy():
            self.status.emit("")
            self.idle.emit()


def _run(job: Callable[[], Any], path: str) -> tuple[Any, str]:
    """(result, "") or (None, why): a file's error is the user's to read, its traceback
    the log's."""
    try:
        return job(), ""
    except Exception as e:  # reported to the user, its traceback logged
        log.exception("file work on %s failed", path)
        return None, str(e) or repr(e)


def _save(run: Run, path: str) -> None:
    from nndyn_gui.core.io.runfile import save_run

    save_run(run, path)
    _remember(path)


def _load(path: str) -> Run:
    from nndyn_gui.core.io.runfile import load_run

    run = load_run(path)
    _remember(path)
    return run


def _remember(path: str) -> None:
    """File → Open recent gets `path`, written here on the file thread: the settings
    file is read and rewritten each time (tens of milliseconds on a busy disk). The run
    was read or written all the same, so a settings file that cannot take it is the
    log's, not a failed open or save."""
    try:
        app_settings.add_recent_file(path)
    except Exception:  # the run's file is fine; only the menu misses it
        log.exception("cannot add %s to the recent files", path)
