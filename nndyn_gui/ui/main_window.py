"""The main window: parameters, the layer view, curves, diagnostics, small multiples.

Why it looks like this:
- Panels never talk to each other; they all read and change one AppState. The window
  only builds the panels and docks and wires them, its menus and status bar to
  AppState and the TrainController; each of its other jobs is a collaborator it owns
  (see MainWindow).
- TensorFlow never loads in this process: training runs in the engine's worker
  process (core/engine/session.py), started when the window is shown so that it has loaded
  TensorFlow by the time the user presses Train. The 3-D (OpenGL) view can therefore
  open at once: Mesa's LLVM and TensorFlow's never meet.
- Errors never block tests or automation: they go through `show_error`, which records
  them in `errors` and shows a non-modal message box (or calls `error_hook` if set).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QSize, Qt, Slot
from PySide6.QtGui import QAction, QCloseEvent, QIcon
from PySide6.QtWidgets import QDockWidget, QLabel, QMainWindow, QMenu, QMessageBox, QWidget

from nndyn_gui.core.config import RunConfig
from nndyn_gui.ui import settings as app_settings
from nndyn_gui.ui import view_settings, window_docks
from nndyn_gui.ui.curves import TrainingCurves
from nndyn_gui.ui.diagnostics_panel import DiagnosticsPanel
from nndyn_gui.ui.input_map import InputMapPanel
from nndyn_gui.ui.layer_panel import LayerPanel
from nndyn_gui.ui.param_panel import ParamPanel
from nndyn_gui.ui.recent_menu import RecentMenu
from nndyn_gui.ui.run_document import RunDocument
from nndyn_gui.ui.small_multiples_panel import SmallMultiplesPanel
from nndyn_gui.ui.state import AppState
from nndyn_gui.ui.status_readout import StatusReadout
from nndyn_gui.ui.tool_windows import ToolWindows
from nndyn_gui.ui.training.controller import TrainController
from nndyn_gui.ui.window_closing import WindowCloser
from nndyn_gui.ui.window_menus import WindowActions
from nndyn_gui.ui.window_training import WindowTraining

log = logging.getLogger(__name__)

ENV_NO_PROMPT = "NNDYN_NO_PROMPT"
ENV_NO_AUTOSAVE = "NNDYN_NO_AUTOSAVE"
DEFAULT_SIZE = QSize(1600, 1000)


def _app_icon() -> QIcon:
    try:
        from importlib import resources

        root = resources.files("nndyn_gui.resources.icons")
        icon = QIcon()
        for size in (16, 32, 48, 64, 128, 256):
            f = root.joinpath(f"nndyn-{size}.png")
            if f.is_file():
                icon.addFile(str(f), QSize(size, size))
        return icon
    except (ModuleNotFoundError, OSError):
        return QIcon()


class MainWindow(QMainWindow):
    """The nndyn window; `state` is the single source of truth shared by every panel.

    `preload_tf`: start the training worker (which loads TensorFlow) at once, while the
    window is built (a Train right after it shows then finds it serving); otherwise it
    starts with the first Train.

    The window builds its panels and docks and wires them; its jobs live with its
    collaborators: `training` (ui/window_training.py: the Run menu, presets, New),
    `actions` (ui/window_menus.py: actions, menus, toolbar), `tools`
    (ui/tool_windows.py: Export, Compare, Sweeps, About), `document`
    (ui/run_document.py: files), `closer` (ui/window_closing.py) and `readout`
    (ui/status_readout.py). The names tests and automation use stay here.
    """

    recent_menu: RecentMenu
    presets_menu: QMenu
    preset_actions: dict[str, QAction]

    def __init__(
        self,
        state: AppState | None = None,
        preload_tf: bool = True,
        restore_settings: bool = True,
        autosave: bool | None = None,
    ) -> None:
        super().__init__()
        self.state = state or AppState()
        self.controller = TrainController(self.state, self)
        self.document = RunDocument(self.state, self.controller, self)
        self.no_prompt = os.environ.get(ENV_NO_PROMPT, "") not in ("", "0")
        self.errors: list[tuple[str, str]] = []  # (title, message) of every error shown
        #: tests / automation: called instead of showing a message box
        self.error_hook: Callable[[str, str, str], None] | None = None
        self._message_boxes: list[QMessageBox] = []
        self._preload = preload_tf
        if preload_tf:
            self.controller.warm_up()
        self.autosaver: Any = None

        self.setObjectName("nndynMainWindow")
        self.setWindowIcon(_app_icon())
        self.setDockNestingEnabled(True)
        self.resize(DEFAULT_SIZE)

        self.layer_panel = LayerPanel(self.state, self)
        self.setCentralWidget(self.layer_panel)
        self.param_panel = ParamPanel(self.state)
        self.curves = TrainingCurves(self.state)
        self.diagnostics = DiagnosticsPanel(self.state)
        self.multiples = SmallMultiplesPanel(self.state)
        self.input_map = InputMapPanel(self.state)
        self.docks: dict[str, QDockWidget] = window_docks.add_docks(self)

        from nndyn_gui.ui.presentation import Presentation
        from nndyn_gui.ui.undo_discard import MESSAGE_MS, DiscardUndo

        self.training = WindowTraining(self)
        self.tools = ToolWindows(self)
        self._windows = self.tools.windows  # the tool windows open (tests, scripts)
        self.closer = WindowCloser(self)
        self.menus = WindowActions(self)
        a = self.menus  # the names the window's tests and automation use
        self.act_new, self.act_open, self.act_save = a.new, a.open, a.save
        self.act_save_as, self.act_export, self.act_quit = a.save_as, a.export, a.quit
        self.act_train, self.act_pause, self.act_step = a.train, a.pause, a.step
        self.act_stop, self.act_reset, self.act_play = a.stop, a.reset, a.play
        self.act_last, self.act_first, self.act_camera = a.last, a.first, a.camera
        self.act_steady, self.act_add_key, self.act_clear_keys = a.steady, a.add_key, a.clear_keys
        self.act_compare, self.act_sweeps, self.act_about = a.compare, a.sweeps, a.about
        self.act_reset_layout = a.reset_layout
        self.presentation = Presentation(self, self.layer_panel)

        self.undo = DiscardUndo(self.state, self)
        self.undo.message.connect(lambda text: self.flash(text, MESSAGE_MS))
        self.undo.restored.connect(lambda _kept: self.layer_panel.show_last_layer())
        self.layer_panel.drawingChanged.connect(self.undo.lend_key)
        a.build_menus()
        self.toolbar = a.build_toolbar()
        self._make_status_bar()

        self.document.opened.connect(self._on_opened)
        self.document.saved.connect(self._on_saved)
        self.document.failed.connect(self.show_error)
        self.document.status.connect(self._on_file_status)
        self.state.trainingStateChanged.connect(a.follow_training_state)
        self.state.dirtyChanged.connect(self.setWindowModified)
        self.state.configChanged.connect(self.update_title)
        self.training.wire()
        self.layer_panel.message.connect(self.flash)
        self.layer_panel.optionsChanged.connect(self._on_view_options)
        self.diagnostics.hamiltonian.follow(self.layer_panel)  # its line: the view's layer
        self.diagnostics.hamiltonian.setVisible(self.layer_panel.options().show_costate)
        multiples = self.multiples
        multiples.layerClicked.connect(self.layer_panel.show_layer)  # a tile shows its layer
        self.layer_panel.cameraChanged.connect(
            lambda: multiples.set_camera(self.layer_panel.camera())
        )
        # the camera the main view has from the start, not only once it first moves:
        # "as the main 3-D view's camera sees it" is true from the first picture
        multiples.set_camera(self.layer_panel.camera())

        a.follow_training_state(self.state.training_state)
        self.update_title()
        if restore_settings:
            app_settings.restore_window(self)
            view_settings.restore(self.layer_panel)
        self._start_autosave(autosave)

    # ------------------------------------------------------------------ construction
    def _make_status_bar(self) -> None:
        sb = self.statusBar()
        self.readout = StatusReadout(self.state, sb)
        r = self.readout  # the names the rest of the window and its tests use
        self.state_label, self.acc_label = r.state_label, r.snapshot_label
        self.step_label, self.loss_label, self.rate_label = r.step_label, r.loss_label, r.rate_label
        self.tf_label = QLabel()
        sb.addPermanentWidget(self.tf_label)
        sb.insertPermanentWidget(0, self.undo.button)

    def _start_autosave(self, enabled: bool | None) -> None:
        if enabled is None:
            enabled = os.environ.get(ENV_NO_AUTOSAVE, "") in ("", "0")
        if not enabled:
            return
        try:
            from nndyn_gui.ui.autosave import Autosaver

            self.autosaver = Autosaver(self.state, parent=self)
            self.autosaver.failed.connect(lambda msg: self.flash(f"Autosave failed: {msg}"))
        except Exception:  # the window works without it; say so rather than run unprotected
            log.exception("autosave could not start")
            self.autosaver = None
            self.flash("Autosave is off: it could not start (see the log file in Help → About)")

    def showEvent(self, ev: Any) -> None:
        super().showEvent(ev)
        if self._preload and not self.closer.closing and not self.controller.worker_pid():
            self.controller.warm_up()
        if self._preload and not self.tf_label.text():  # still loading
            self.tf_label.setText("Starting the training process…")

    def resize_docks_default(self) -> None:
        """Sensible dock sizes for the first start (ui/window_docks.py)."""
        window_docks.resize_default(self)

    @Slot()
    def reset_layout(self) -> None:
        for dock in self.docks.values():
            dock.setFloating(False)
            dock.show()
        self.resize_docks_default()

    @Slot(object)
    def _on_view_options(self, options: Any) -> None:
        self.menus.follow_view_options(options)
        # H per layer belongs with the costate arrows: shown with them, so that without
        # them the per-block table keeps its rows on a 1600x1000 screen
        self.diagnostics.hamiltonian.setVisible(bool(options.show_costate))
        self.input_map.set_background(options.background)
        if hasattr(self.multiples, "set_options"):
            self.multiples.set_options(options.copy(grid_n=13, point_size=3.0))

    # ------------------------------------------------------------------ training
    def train(self) -> bool:
        """Train the current config from scratch (False if a run is already going)."""
        return self.training.train()

    def toggle_pause(self) -> None:
        self.training.toggle_pause()

    def stop(self) -> None:
        self.training.stop()

    def load_config(self, cfg: RunConfig) -> bool:
        """Start a new experiment from `cfg` (a preset, New, or --preset); a run going is
        stopped first, without waiting here (ui/window_training.py)."""
        return self.training.load_config(cfg)

    def load_preset(self, name: str) -> bool:
        return self.training.load_preset(name)

    # ------------------------------------------------------------------ messages
    def flash(self, text: str, ms: int = 6000) -> None:
        """A message in the status bar for `ms` milliseconds (0: until the next one)."""
        if text:
            self.statusBar().showMessage(text, ms)

    def show_error(self, title: str, message: str, details: str = "") -> None:
        """Tell the user without blocking: status bar + a non-modal box (or `error_hook`)."""
        self.errors.append((title, message))
        self.flash(f"{title}: {message}", 15000)
        if self.error_hook is not None:
            self.error_hook(title, message, details)
            return
        box = QMessageBox(QMessageBox.Icon.Warning, title, message, parent=self)
        if details:
            box.setDetailedText(details)
        box.setWindowModality(Qt.WindowModality.NonModal)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        boxes = self._message_boxes

        def forget(_result: int, b: QMessageBox = box) -> None:
            if b in boxes:
                boxes.remove(b)

        box.finished.connect(forget)
        boxes.append(box)
        box.show()

    @Slot(str)
    def _on_file_status(self, text: str) -> None:
        """ "Saving …" until written; then the outcome's message ("Saved …") stays."""
        bar = self.statusBar()
        if text:
            bar.showMessage(text)
        elif bar.currentMessage().startswith(("Saving ", "Opening ")):
            bar.clearMessage()

    # ------------------------------------------------------------------ files
    def open_run(self, path: str, wait: bool = True) -> bool:
        """Load a `.nndyn` run (`wait=False`: read in the background, see RunDocument);
        a damaged file is reported and the current run kept."""
        return self.document.open(path, wait=wait)

    @Slot(str)
    def _on_opened(self, path: str) -> None:
        self.layer_panel.show_last_layer()
        self.update_title()
        self.flash(f"Opened {path}")

    def save_to(self, path: str, wait: bool = True) -> bool:
        """Save the run atomically (`wait=False`: written in the background); on failure
        the message says why and nothing is lost."""
        return self.document.save(path, wait=wait)

    @Slot(str)
    def _on_saved(self, path: str) -> None:
        self.update_title()
        self.flash(f"Saved {path}")

    @property
    def run_path(self) -> str:
        """The file the run was opened from or saved to ("" for a new run)."""
        return self.document.path

    @run_path.setter
    def run_path(self, path: str) -> None:
        self.document.path = path

    # ------------------------------------------------------------------ tool windows
    def export(self) -> None:
        self.tools.export()

    def open_compare(self) -> None:
        self.tools.open_compare()

    def open_sweeps(self) -> QWidget:
        return self.tools.open_sweeps()

    def about(self) -> QMessageBox:
        return self.tools.about()

    # ------------------------------------------------------------------ misc
    def update_title(self, *_: object) -> None:
        """The title bar: the file the run was opened from or saved to, if any, then
        the run's title as the narrator makes it from the config now (the preset's own
        title only while the config is the preset's), so an edit retitles it."""
        from nndyn_gui.core.analysis.narrator import run_title

        title = run_title(self.state.config)
        if self.run_path:
            title = f"{Path(self.run_path).name} — {title}"
        self.setWindowTitle(f"{title}[*] — nndyn")

    def settle_panels(self) -> None:
        """Compute, on this thread, what the side panels still owe the snapshot the main
        view shows (automation: a screenshot never has a panel still computing)."""
        self.multiples.wait_idle()
        self.diagnostics.wait_idle()
        if self.input_map.isVisible():
            self.input_map.wait_idle()

    def screenshot(self, path: str) -> bool:
        """Render the whole window to a PNG at its current size (automation)."""
        from nndyn_gui.render.views import grab_with_overlays

        return bool(grab_with_overlays(self).save(path, "PNG"))

    # ------------------------------------------------------------------ closing
    def close_from_signal(self) -> None:
        """Ctrl+C in the terminal or SIGTERM (logout): stop and quit without a dialog,
        keeping unsaved work in the autosave (ui/window_closing.py); nothing waits here."""
        self.closer.close_from_signal()

    def closeEvent(self, ev: QCloseEvent) -> None:
        """Ask, wait for files through the event loop, stop, tidy up (ui/window_closing.py)."""
        if self.closer.close_event(ev):
            super().closeEvent(ev)
