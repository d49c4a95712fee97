"""Closing the window: ask about unsaved work, finish the files, stop training, tidy up.

Why it exists: a close has to wait for things — a save or autosave being written, the
run that a Ctrl+C / SIGTERM quit autosaves — and none of those waits may hold the GUI
thread. The window stays (saying why) and the event loop brings it back here: a timer
looks whether the files are written, and the training's end is delivered by
`TrainController.stop_then`. Only then does the window close, ending the worker
process, every panel's threads and the tool windows.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QTimer, Slot
from PySide6.QtGui import QCloseEvent

from nndyn_gui.ui import settings as app_settings
from nndyn_gui.ui import view_settings

if TYPE_CHECKING:
    from nndyn_gui.ui.main_window import MainWindow

log = logging.getLogger(__name__)

CLOSE_POLL_MS = 30  # a closing window looks this often whether its files are written


class WindowCloser(QObject):
    """The window's way out (`close_event`), and the quit asked for by a signal."""

    def __init__(self, win: MainWindow) -> None:
        super().__init__(win)
        self.win = win
        self.closing = False
        self.keep_autosave = False  # a signal quit: the next start offers the run
        self._quitting = False  # a signal quit is stopping the run / writing the autosave
        self._when_idle = QTimer(self)  # closing waits for files here, not in a loop
        self._when_idle.setInterval(CLOSE_POLL_MS)
        self._when_idle.timeout.connect(self._close_if_idle)

    def files_busy(self) -> bool:
        """A save, an open or an autosave is still reading or writing."""
        autosaver = self.win.autosaver
        return self.win.document.busy() or (autosaver is not None and autosaver.busy)

    # ------------------------------------------------------------------ Ctrl+C, SIGTERM
    def close_from_signal(self) -> None:
        """Ctrl+C in the terminal or SIGTERM (logout): stop and quit without a dialog.

        Unsaved work is written to the autosave and kept, so the next start offers it:
        the run is stopped (its last snapshots delivered by the event loop), then
        autosaved in the background, then the window closes once the file is written."""
        win = self.win
        win.no_prompt = True
        if self._quitting:
            return
        if not (win.state.dirty and win.autosaver is not None):
            win.close()
            return
        self._quitting = True
        win.flash("Stopping training and saving the run before quitting…", 0)
        win.controller.stop_then(self._autosave_then_close)

    def _autosave_then_close(self) -> None:
        autosaver = self.win.autosaver
        if autosaver is not None and autosaver.busy:
            self._when_idle.start()  # an older autosave is being written: after it
            return
        self._quitting = False
        if autosaver is not None:
            try:
                autosaver.save_now()  # written in the background; the close awaits it
                self.keep_autosave = True
            except Exception:  # quitting must go on; the log says why the run was not kept
                log.exception("cannot autosave the run before quitting")
        self.win.close()

    # ------------------------------------------------------------------ the close
    def close_event(self, ev: QCloseEvent) -> bool:
        """Ask about unsaved work, stop training cleanly, remember the layout; False
        (and `ev` ignored) while the window must stay. A save or autosave still being
        written is awaited by the event loop, not here: the window stays (saying so)
        and closes itself when the file is on disk."""
        win = self.win
        if self._quitting:  # a signal quit is on its way: it closes the window itself
            ev.ignore()
            return False
        if not self.closing and not win.document.maybe_save():
            ev.ignore()
            return False
        self.closing = True
        if self.files_busy():
            ev.ignore()
            win.flash("Finishing writing the run before closing…", 0)
            self._when_idle.start()
            return False
        self._tidy_up()
        return True

    def _tidy_up(self) -> None:
        win = self.win
        win.presentation.leave()  # the saved layout is the window's, not the full screen
        win.presentation.shutdown()
        win.controller.shutdown()
        win.layer_panel.play(False)
        try:
            app_settings.save_window(win)
            app_settings.save_config(win.state.config)
            view_settings.save(win.layer_panel)
        except OSError:
            log.exception("cannot save the window's settings")
        win.layer_panel.shutdown()
        win.readout.stop()
        win.multiples.shutdown()
        win.input_map.shutdown()
        win.diagnostics.shutdown()
        win.param_panel.shutdown()
        if win.autosaver is not None and not self.keep_autosave:
            try:
                win.autosaver.discard()  # no write in flight (files_busy): no wait
            except OSError:
                log.exception("cannot remove the autosave")
        win.tools.close_all()

    @Slot()
    def _close_if_idle(self) -> None:
        if self.files_busy():
            return
        self._when_idle.stop()
        if self._quitting:
            self._autosave_then_close()
        else:
            self.win.close()
