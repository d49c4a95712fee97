"""The windows the main window opens: Export, Compare, Ensemble, Sweeps and About.

Why it exists: each opener is a boundary — a window that cannot open is reported and
the main window stays usable — and every window opened is kept in `windows`, so closing
the main window closes them. A new tool window (Ensemble, ...) is one opener here, built
like `open_compare`, and one action in ui/window_menus.py.
"""

from __future__ import annotations

import html
import logging
from typing import TYPE_CHECKING

import numpy as np
from PySide6 import __version__ as pyside_version
from PySide6.QtCore import QObject, Qt, Slot, qVersion
from PySide6.QtWidgets import QMessageBox, QWidget

from nndyn_gui import __version__
from nndyn_gui.core.io import logs
from nndyn_gui.core.types import Run

if TYPE_CHECKING:
    from nndyn_gui.ui.main_window import MainWindow

log = logging.getLogger(__name__)


class ToolWindows(QObject):
    """Opens the main window's tool windows and remembers them (`windows`)."""

    def __init__(self, win: MainWindow) -> None:
        super().__init__(win)
        self.win = win
        self.windows: list[QWidget] = []  # closed with the main window
        self.about_box: QMessageBox | None = None

    def _show(self, w: QWidget, size: tuple[int, int] | None = None) -> None:
        """Show `w` as a window of its own that is deleted when closed."""
        if size is not None:
            w.setWindowFlag(Qt.WindowType.Window, True)
            w.resize(*size)
        w.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.windows.append(w)
        w.show()

    @Slot()
    def export(self) -> None:
        win = self.win
        try:
            from nndyn_gui.ui.export_dialog import ExportDialog

            lp = win.layer_panel
            dlg = ExportDialog(
                win.state,
                win,
                view_options=lp.options(),
                camera=lp.camera(),
                camera_keys=lp.camera_keys(),
            )
        except Exception as e:  # a boundary: the window stays usable; the log keeps the trace
            log.exception("the Export dialog could not open")
            win.show_error("Export unavailable", str(e))
            return
        self._show(dlg)

    @Slot()
    def open_compare(self) -> None:
        win = self.win
        try:
            from nndyn_gui.ui.compare import CompareWindow

            cw = CompareWindow(win.state, win)
        except Exception as e:  # a boundary: the window stays usable; the log keeps the trace
            log.exception("the Compare window could not open")
            win.show_error("Compare unavailable", str(e))
            return
        self._show(cw, (1200, 650))

    @Slot()
    def open_ensemble(self) -> QWidget | None:
        """Tools -> Ensemble: the current config from several init seeds, trained together
        in the window's own worker; a member can come back here as a full run."""
        win = self.win
        try:
            from nndyn_gui.ui.ensemble_window import EnsembleWindow

            ew = EnsembleWindow(win.state, show_run=self.show_ensemble_member, parent=win)
        except Exception as e:  # a boundary: the window stays usable; the log keeps the trace
            log.exception("the Ensemble window could not open")
            win.show_error("Ensemble unavailable", str(e))
            return None
        self._show(ew, (1200, 720))
        return ew

    def show_ensemble_member(self, run: Run) -> None:
        """Show an ensemble member in the main window as the run it is (a run training
        there is stopped first; the run it replaces is put aside: Run → Bring back)."""
        win = self.win
        seed = run.config.train.seed

        def apply() -> None:
            state = win.state
            lost = state.discardable(f"showed the ensemble's member of seed {seed}")
            state.load_run(run)
            state.set_dirty(True)  # a new run, never saved: Save asks for a file
            win.run_path = ""
            if lost is not None:
                state.runDiscarded.emit(lost)
            win.layer_panel.show_last_layer()
            win.update_title()
            win.raise_()
            win.activateWindow()

        win.controller.stop_then(apply)

    @Slot()
    def open_sweeps(self) -> QWidget:
        """Tools -> Sweeps: reads results and draws (no TensorFlow); a cell opens its run."""
        from nndyn_gui.ui.sweeps_window import SweepsWindow

        sw = SweepsWindow(open_run=self._open_sweep_run, parent=self.win)
        self._show(sw, (1000, 780))
        return sw

    def _open_sweep_run(self, path: str) -> bool:
        win = self.win
        if not win.document.maybe_save():
            return False
        ok = win.open_run(path, wait=False)
        if ok:
            win.raise_()
            win.activateWindow()
        return ok

    def close_all(self) -> None:
        for w in list(self.windows):
            try:
                w.close()
            except RuntimeError:  # already deleted by Qt
                log.debug("a tool window was already deleted")

    # ------------------------------------------------------------------ About
    def versions(self) -> dict[str, str]:
        tf_version = self.win.controller.versions().get("tensorflow", "")
        return {
            "nndyn": __version__,
            "Qt": qVersion(),
            "PySide6": pyside_version,
            "numpy": np.__version__,
            "TensorFlow": f"{tf_version} (training process)" if tf_version else "not loaded yet",
        }

    @Slot()
    def about(self) -> QMessageBox:
        lines = "".join(
            f"<tr><td>{k}</td><td>&nbsp;{v}</td></tr>" for k, v in self.versions().items()
        )
        log_file = html.escape(str(logs.log_path() or "none: logging to stderr only"))
        lines += f"<tr><td>Log file</td><td>&nbsp;{log_file}</td></tr>"
        box = QMessageBox(self.win)
        box.setWindowTitle("About nndyn")
        box.setIconPixmap(self.win.windowIcon().pixmap(64, 64))
        box.setText(
            "<b>nndyn</b> — watch a neural network move space, layer by layer."
            f"<br><br><table>{lines}</table>"
        )
        box.setWindowModality(Qt.WindowModality.NonModal)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.about_box = box
        box.show()
        return box
