"""The main window: parameters, the layer view, curves, diagnostics, small multiples.

Why it looks like this:
- Panels never talk to each other; they all read and change one AppState. The window
  only wires the toolbar, menus and status bar to AppState and the TrainController.
- TensorFlow never loads in this process: training runs in the engine's worker
  process (core/engine/session.py), started when the window is shown so that it has loaded
  TensorFlow by the time the user presses Train. The 3-D (OpenGL) view can therefore
  open at once: Mesa's LLVM and TensorFlow's never meet.
- Errors never block tests or automation: they go through `show_error`, which records
  them in `errors` and shows a non-modal message box (or calls `error_hook` if set).
"""

from __future__ import annotations

import contextlib
import html
import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from PySide6 import __version__ as pyside_version
from PySide6.QtCore import QSize, Qt, QTimer, Slot, qVersion
from PySide6.QtGui import QAction, QCloseEvent, QIcon, QKeySequence
from PySide6.QtWidgets import (
    QDockWidget,
    QLabel,
    QMainWindow,
    QMessageBox,
    QToolBar,
    QWidget,
)

from nndyn_gui import __version__
from nndyn_gui.core.config import ConfigError, RunConfig
from nndyn_gui.core.io import logs
from nndyn_gui.core.io.presets import PresetError
from nndyn_gui.ui import settings as app_settings
from nndyn_gui.ui import view_settings
from nndyn_gui.ui.curves import TrainingCurves
from nndyn_gui.ui.diagnostics_panel import DiagnosticsPanel
from nndyn_gui.ui.layer_panel import LayerPanel
from nndyn_gui.ui.param_panel import ParamPanel
from nndyn_gui.ui.run_document import RunDocument
from nndyn_gui.ui.small_multiples_panel import SmallMultiplesPanel
from nndyn_gui.ui.state import AppState
from nndyn_gui.ui.status_readout import StatusReadout
from nndyn_gui.ui.training.controller import TrainController

log = logging.getLogger(__name__)

ENV_NO_PROMPT = "NNDYN_NO_PROMPT"
ENV_NO_AUTOSAVE = "NNDYN_NO_AUTOSAVE"
DEFAULT_SIZE = QSize(1600, 1000)
NARROW_WIDTH = 1500  # a first window narrower than this tabs the side docks (see below)
#: Step: F10, the debuggers' "step over" (Ctrl+N is File → New: one key, one action)
STEP_KEY = "F10"
CLOSE_POLL_MS = 30  # a closing window looks this often whether its files are written


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
    """

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
        self._close_when_idle = QTimer(self)  # closing waits for files here, not in a loop
        self._close_when_idle.setInterval(CLOSE_POLL_MS)
        self._close_when_idle.timeout.connect(self._close_if_idle)
        self.no_prompt = os.environ.get(ENV_NO_PROMPT, "") not in ("", "0")
        self.errors: list[tuple[str, str]] = []  # (title, message) of every error shown
        #: tests / automation: called instead of showing a message box
        self.error_hook: Callable[[str, str, str], None] | None = None
        self._message_boxes: list[QMessageBox] = []
        self._windows: list[QWidget] = []
        self._preload = preload_tf
        if preload_tf:
            self.controller.warm_up()
        self._closing = False
        self._keep_autosave = False  # close_from_signal: the next start offers the run
        self.autosaver: Any = None

        self.setObjectName("nndynMainWindow")
        self.setWindowIcon(_app_icon())
        self.setDockNestingEnabled(True)
        self.resize(DEFAULT_SIZE)

        self.layer_panel = LayerPanel(self.state, self)
        self.setCentralWidget(self.layer_panel)
        self.param_panel = ParamPanel(self.state)
        self.docks: dict[str, QDockWidget] = {}
        self._add_dock(
            "params", "Parameters", self.param_panel, Qt.DockWidgetArea.LeftDockWidgetArea
        )
        self.curves = TrainingCurves(self.state)
        self._add_dock(
            "curves", "Training curves", self.curves, Qt.DockWidgetArea.RightDockWidgetArea
        )
        self.diagnostics = DiagnosticsPanel(self.state)
        self._add_dock(
            "diagnostics", "Diagnostics", self.diagnostics, Qt.DockWidgetArea.RightDockWidgetArea
        )
        self.multiples = SmallMultiplesPanel(self.state)
        self._add_dock(
            "multiples", "All layers", self.multiples, Qt.DockWidgetArea.BottomDockWidgetArea
        )
        self.splitDockWidget(
            self.docks["curves"], self.docks["diagnostics"], Qt.Orientation.Vertical
        )

        self._make_actions()
        from nndyn_gui.ui.presentation import Presentation
        from nndyn_gui.ui.undo_discard import MESSAGE_MS, DiscardUndo

        self.presentation = Presentation(self, self.layer_panel)

        self.undo = DiscardUndo(self.state, self)
        self.undo.message.connect(lambda text: self._flash(text, MESSAGE_MS))
        self.undo.restored.connect(lambda _kept: self.layer_panel.show_last_layer())
        self.layer_panel.drawingChanged.connect(self.undo.lend_key)
        self._make_menus()
        self._make_toolbar()
        self._make_status_bar()

        self.document.opened.connect(self._on_opened)
        self.document.saved.connect(self._on_saved)
        self.document.failed.connect(self.show_error)
        self.document.status.connect(self._on_file_status)
        self.state.trainingStateChanged.connect(self._on_training_state)
        self.state.dirtyChanged.connect(self.setWindowModified)
        self.state.configChanged.connect(self._update_title)
        self.controller.finished.connect(self._on_train_finished)
        self.controller.failed.connect(self._on_train_failed)
        self._wire_live_changes()
        self.controller.workerReady.connect(self._on_worker_ready)
        self.controller.workerLost.connect(self._on_worker_lost)
        self.layer_panel.message.connect(self._flash)
        self.layer_panel.optionsChanged.connect(self._on_view_options)
        multiples = self.multiples
        multiples.layerClicked.connect(self.layer_panel.show_layer)  # a tile shows its layer
        self.layer_panel.cameraChanged.connect(
            lambda: multiples.set_camera(self.layer_panel.camera())
        )
        # the camera the main view has from the start, not only once it first moves:
        # "as the main 3-D view's camera sees it" is true from the first picture
        multiples.set_camera(self.layer_panel.camera())

        self._on_training_state(self.state.training_state)
        self._update_title()
        if restore_settings:
            app_settings.restore_window(self)
            view_settings.restore(self.layer_panel)
        self._start_autosave(autosave)

    # ------------------------------------------------------------------ construction
    def _add_dock(self, key: str, title: str, widget: QWidget, area: Qt.DockWidgetArea) -> None:
        dock = QDockWidget(title, self)
        dock.setObjectName(f"dock_{key}")
        dock.setWidget(widget)
        dock.setFeatures(
            QDockWidget.DockWidgetFeature.DockWidgetMovable
            | QDockWidget.DockWidgetFeature.DockWidgetFloatable
            | QDockWidget.DockWidgetFeature.DockWidgetClosable
        )
        self.addDockWidget(area, dock)
        self.docks[key] = dock

    def _action(
        self,
        text: str,
        slot: Callable[..., Any],
        shortcut: QKeySequence | QKeySequence.StandardKey | str | None = None,
        tip: str = "",
        checkable: bool = False,
    ) -> QAction:
        act = QAction(text, self)
        if shortcut is not None:
            act.setShortcut(QKeySequence(shortcut))
            act.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        if tip:
            act.setToolTip(tip)
            act.setStatusTip(tip)
        act.setCheckable(checkable)
        act.triggered.connect(slot)
        self.addAction(act)  # shortcuts work even when the menu bar is hidden
        return act

    def _make_actions(self) -> None:
        self.act_new = self._action("&New", self.new_run, QKeySequence.StandardKey.New)
        self.act_open = self._action("&Open run…", self.document.open_dialog, "Ctrl+O")
        self.act_save = self._action("&Save run", self.document.save_current, "Ctrl+S")
        self.act_save_as = self._action("Save run &as…", self.document.save_as, "Ctrl+Shift+S")
        self.act_export = self._action(
            "&Export…", self.export, "Ctrl+E", "Export a picture or video of the flow"
        )
        self.act_quit = self._action("&Quit", self.close, "Ctrl+Q")
        self.act_train = self._action(
            "Train", self.train, "Ctrl+T", "Train the network from scratch (Ctrl+T)"
        )
        self.act_pause = self._action(
            "Pause", self.toggle_pause, "Ctrl+P", "Pause / resume training", checkable=True
        )
        self.act_step = self._action(
            "Step", self.step, STEP_KEY, f"Train one snapshot interval, then pause ({STEP_KEY})"
        )
        self.act_stop = self._action("Stop", self.stop, "Ctrl+.", "Stop training, keep the result")
        self.act_reset = self._action(
            "Reset", self.reset, "Ctrl+R", "Back to the untrained network"
        )
        self.act_play = self._action(
            "Play / pause animation", self.layer_panel.toggle_play, "Space", "Animate x(t)"
        )
        self.act_last = self._action(
            "Show last layer", self.layer_panel.show_last_layer, "End", "Jump to the last layer"
        )
        self.act_first = self._action(
            "Show input", lambda: self.layer_panel.set_time(0.0), "Home", "Jump to the input"
        )
        self.act_camera = self._action("Reset camera", self.layer_panel.reset_camera, "Ctrl+0")
        self.act_steady = self._action(
            "Steady camera",
            self._set_steady_camera,
            None,
            "One box and camera for every layer (off: the view follows each layer's points)",
            checkable=True,
        )
        self.act_steady.setChecked(self.layer_panel.options().steady_camera)
        self.act_add_key = self._action(
            "Save camera view",
            lambda: self.layer_panel.camera_path.add(self.layer_panel.time()),
            "Ctrl+K",
            "Keep the 3-D view at this layer: Play and exported flows move between saved views",
        )
        self.act_clear_keys = self._action(
            "Clear camera views", self.layer_panel.camera_path.clear, None, "Forget saved views"
        )
        self.act_clear_keys.setEnabled(False)
        path = self.layer_panel.camera_path
        path.changed.connect(lambda n: self.act_clear_keys.setEnabled(n > 0))
        self.act_compare = self._action(
            "Compare two seeds…", self.open_compare, None, "Train two initialisations side by side"
        )
        self.act_sweeps = self._action(
            "Sweeps…", self.open_sweeps, None, "Heatmaps of a sweep's results ('nndyn sweep')"
        )
        self.act_about = self._action("&About nndyn", self.about, "F1")
        self.act_reset_layout = self._action("Reset window layout", self.reset_layout)

    def _make_menus(self) -> None:
        mb = self.menuBar()
        m = mb.addMenu("&File")
        m.addAction(self.act_new)
        m.addAction(self.act_open)
        from nndyn_gui.ui.recent_menu import RecentMenu

        self.recent_menu = RecentMenu(self.document.open_recent, m)
        m.addMenu(self.recent_menu)
        for a in (self.act_save, self.act_save_as):
            m.addAction(a)
        m.addSeparator()
        m.addAction(self.act_export)
        m.addSeparator()
        m.addAction(self.act_quit)
        m = mb.addMenu("&Run")
        for a in (self.act_train, self.act_pause, self.act_step, self.act_stop, self.act_reset):
            m.addAction(a)
        m.addSeparator()
        m.addAction(self.undo.action)
        m = mb.addMenu("&View")
        m.addAction(self.presentation.action)
        m.addSeparator()
        for a in (self.act_play, self.act_first, self.act_last):
            m.addAction(a)
        cm = m.addMenu("&Camera")
        for a in (self.act_camera, self.act_steady, self.act_add_key, self.act_clear_keys):
            cm.addAction(a)
        m.addSeparator()
        for dock in self.docks.values():
            m.addAction(dock.toggleViewAction())
        m.addSeparator()
        m.addAction(self.act_reset_layout)
        self.presets_menu = mb.addMenu("&Presets")
        self._fill_presets()
        m = mb.addMenu("&Tools")
        m.addAction(self.act_compare)
        m.addAction(self.act_sweeps)
        m = mb.addMenu("&Help")
        m.addAction(self.act_about)

    def _fill_presets(self) -> None:
        from nndyn_gui.ui.presets_menu import fill_presets_menu

        self.preset_actions: dict[str, QAction] = fill_presets_menu(
            self.presets_menu, self.load_preset
        )

    def _make_toolbar(self) -> None:
        tb = QToolBar("Training", self)
        tb.setObjectName("toolbar_training")
        tb.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        tb.setMovable(False)
        for a in (self.act_train, self.act_pause, self.act_step, self.act_stop, self.act_reset):
            tb.addAction(a)
        tb.addSeparator()
        tb.addAction(self.act_export)
        tb.addSeparator()
        preset_label = QLabel("  ")
        tb.addWidget(preset_label)
        self.addToolBar(Qt.ToolBarArea.TopToolBarArea, tb)
        self.toolbar = tb
        btn = tb.widgetForAction(self.act_train)
        if btn is not None:
            btn.setObjectName("trainButton")
            btn.setStyleSheet("QToolButton#trainButton { font-weight: 600; }")

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
            self.autosaver.failed.connect(lambda msg: self._flash(f"Autosave failed: {msg}"))
        except Exception:  # the window works without it; say so rather than run unprotected
            log.exception("autosave could not start")
            self.autosaver = None
            self._flash("Autosave is off: it could not start (see the log file in Help → About)")

    # ------------------------------------------------------------------ showing
    def showEvent(self, ev: Any) -> None:
        super().showEvent(ev)
        if self._preload and not self._closing and not self.controller.worker_pid():
            self.controller.warm_up()
        if self._preload and not self.tf_label.text():  # still loading
            self.tf_label.setText("Starting the training process…")

    @Slot(object)
    def _on_worker_ready(self, versions: Any) -> None:
        version = versions.get("tensorflow", "") if versions else ""
        self.tf_label.setText(f"TensorFlow {version}" if version else "TensorFlow unavailable")
        self.tf_label.setToolTip(
            f"Training runs in its own process (pid {self.controller.worker_pid()})"
        )

    @Slot(str)
    def _on_worker_lost(self, message: str) -> None:
        self.tf_label.setText("Training process stopped")
        self._flash(message)

    def resize_docks_default(self) -> None:
        """Sensible dock sizes for the first start (the saved layout wins afterwards).

        Below NARROW_WIDTH (a 1280x720 projector, a small laptop) three columns leave the
        curves and diagnostics ~80 px wide, unreadable: they become tabs beside the
        parameters, and the layer view keeps its width."""
        w = max(self.width(), 1000)
        h = max(self.height(), 700)
        if self.width() < NARROW_WIDTH:
            for name in ("curves", "diagnostics"):
                self.tabifyDockWidget(self.docks["params"], self.docks[name])
            self.docks["params"].raise_()
            self.resizeDocks([self.docks["params"]], [int(w * 0.3)], Qt.Orientation.Horizontal)
            self.resizeDocks([self.docks["multiples"]], [int(h * 0.2)], Qt.Orientation.Vertical)
            return
        self.resizeDocks(
            [self.docks["params"], self.docks["curves"]],
            [int(w * 0.21), int(w * 0.24)],
            Qt.Orientation.Horizontal,
        )
        self.resizeDocks(
            [self.docks["curves"], self.docks["diagnostics"]],
            [int(h * 0.34), int(h * 0.46)],
            Qt.Orientation.Vertical,
        )
        self.resizeDocks([self.docks["multiples"]], [int(h * 0.2)], Qt.Orientation.Vertical)

    # ------------------------------------------------------------------ live changes
    def _wire_live_changes(self) -> None:
        """Like TensorFlow Playground: while a run trains, a change of the learning rate,
        regularisation, batch size, step counts or stop conditions reaches the trainer at
        its next call (marked on the curves); any other change (data, drawn points,
        network, seed, ...) restarts it from step 0 at once, without a dialog: a trained
        run it drops is put aside, and Run → Bring back restores it (ui/undo_discard.py)."""
        self.controller.tuned.connect(self._on_tuned)
        self.controller.restarted.connect(lambda: self._flash("Restarted from step 0"))
        self.controller.compilingChanged.connect(self._on_compiling)
        self.param_panel.drawRequested.connect(lambda: self.layer_panel.set_drawing(True))

    @Slot(int, object)
    def _on_tuned(self, step: int, changes: Any) -> None:
        from nndyn_gui.core.train.live import describe

        self._flash(f"From step {step:,}: {describe(changes)}")

    @Slot(bool)
    def _on_compiling(self, on: bool) -> None:
        """Numpy trains while the compiled step is built: say so next to the state."""
        if self.state.training_state in ("training", "paused", "loading"):
            self.state_label.setToolTip(
                "Training with numpy while the compiled (XLA) step is built" if on else ""
            )

    # ------------------------------------------------------------------ training
    @Slot()
    def train(self) -> bool:
        """Train the current config from scratch (False if a run is already going)."""
        if self.controller.is_running():
            return False
        if not len(self.state.dataset.y_train):
            self._flash("Nothing to train on: draw some points first (✎ Draw data)")
            return False
        self.layer_panel.show_last_layer()
        self.state.set_status("new", "")
        return self.controller.start()

    @Slot()
    def toggle_pause(self) -> None:
        if self.controller.is_running():
            self.controller.toggle_pause()
        self.act_pause.setChecked(self.controller.is_paused())

    @Slot()
    def step(self) -> None:
        if not self.controller.is_running():
            self.layer_panel.show_last_layer()
        self.controller.step()

    @Slot()
    def stop(self) -> None:
        self.controller.stop()

    @Slot()
    def reset(self) -> None:
        if self.controller.is_running():
            self.controller.stop(wait=True)
        self.state.reset()
        self.layer_panel.set_time(0.0)

    @Slot(object)
    def _on_train_finished(self, result: Any) -> None:
        if result.status == "diverged":
            self.show_error("Training diverged", result.message, "")
        else:
            self._flash(result.message)

    @Slot(str, str)
    def _on_train_failed(self, message: str, details: str) -> None:
        self.show_error("Training failed", message, details)

    @Slot(str)
    def _on_training_state(self, st: str) -> None:
        running = st != "idle"
        self.act_train.setEnabled(not running)
        self.act_pause.setEnabled(st in ("training", "paused"))
        self.act_pause.setChecked(st == "paused")
        self.act_pause.setText("Resume" if st == "paused" else "Pause")
        self.act_step.setEnabled(st in ("idle", "paused", "training"))
        self.act_stop.setEnabled(running and st != "stopping")
        self.act_open.setEnabled(not running)
        self.recent_menu.setEnabled(not running)
        self.act_new.setEnabled(not running)
        self.presets_menu.setEnabled(not running)

    @Slot(bool)
    def _set_steady_camera(self, on: bool) -> None:
        self.layer_panel.set_options(self.layer_panel.options().copy(steady_camera=bool(on)))

    @Slot(object)
    def _on_view_options(self, options: Any) -> None:
        self.act_steady.setChecked(bool(options.steady_camera))
        if hasattr(self.multiples, "set_options"):
            self.multiples.set_options(options.copy(grid_n=13, point_size=3.0))

    # ------------------------------------------------------------------ messages
    def _flash(self, text: str, ms: int = 6000) -> None:
        if text:
            self.statusBar().showMessage(text, ms)

    def show_error(self, title: str, message: str, details: str = "") -> None:
        """Tell the user without blocking: status bar + a non-modal box (or `error_hook`)."""
        self.errors.append((title, message))
        self._flash(f"{title}: {message}", 15000)
        if self.error_hook is not None:
            self.error_hook(title, message, details)
            return
        box = QMessageBox(QMessageBox.Icon.Warning, title, message, parent=self)
        if details:
            box.setDetailedText(details)
        box.setWindowModality(Qt.WindowModality.NonModal)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.finished.connect(lambda _r, b=box: self._forget_box(b))
        self._message_boxes.append(box)
        box.show()

    def _forget_box(self, box: QMessageBox) -> None:
        if box in self._message_boxes:
            self._message_boxes.remove(box)

    # ------------------------------------------------------------------ experiments
    def load_config(self, cfg: RunConfig) -> bool:
        """Start a new experiment from `cfg` (a preset, New, or --preset)."""
        if self.controller.is_running():
            self.controller.stop(wait=True)
        try:
            self.state.set_config(cfg)
        except ValueError as e:  # ConfigError, DataError, LimitError: the message names why
            self.show_error("Cannot use these parameters", str(e))
            return False
        self.state.reset()
        self.state.set_dirty(False)
        self.run_path = ""
        self.layer_panel.set_time(0.0)
        self._update_title()
        return True

    def load_preset(self, name: str) -> bool:
        if not self.document.maybe_save():
            return False
        try:
            from nndyn_gui.core.io.presets import load_preset

            cfg = load_preset(name)
        except (PresetError, ConfigError, OSError) as e:
            self.show_error("Cannot load preset", str(e))
            return False
        ok = self.load_config(cfg)
        if ok:
            self._flash(f"Preset {name}")
        return ok

    @Slot()
    def new_run(self) -> None:
        if self.document.maybe_save():
            cfg = self.state.config.copy()
            cfg.title = ""
            self.load_config(cfg)

    # ------------------------------------------------------------------ files
    def open_run(self, path: str, wait: bool = True) -> bool:
        """Load a `.nndyn` run (`wait=False`: read in the background, see RunDocument);
        a damaged file is reported and the current run kept."""
        return self.document.open(path, wait=wait)

    @Slot(str)
    def _on_opened(self, path: str) -> None:
        self.layer_panel.show_last_layer()
        self._update_title()
        self._flash(f"Opened {path}")

    def save_to(self, path: str, wait: bool = True) -> bool:
        """Save the run atomically (`wait=False`: written in the background); on failure
        the message says why and nothing is lost."""
        return self.document.save(path, wait=wait)

    @Slot(str)
    def _on_saved(self, path: str) -> None:
        self._update_title()
        self._flash(f"Saved {path}")

    @property
    def run_path(self) -> str:
        """The file the run was opened from or saved to ("" for a new run)."""
        return self.document.path

    @run_path.setter
    def run_path(self, path: str) -> None:
        self.document.path = path

    @Slot()
    def export(self) -> None:
        try:
            from nndyn_gui.ui.export_dialog import ExportDialog

            lp = self.layer_panel
            dlg = ExportDialog(
                self.state,
                self,
                view_options=lp.options(),
                camera=lp.camera(),
                camera_keys=lp.camera_keys(),
            )
        except Exception as e:  # a boundary: the window stays usable; the log keeps the trace
            log.exception("the Export dialog could not open")
            self.show_error("Export unavailable", str(e))
            return
        dlg.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self._windows.append(dlg)
        dlg.show()

    @Slot()
    def open_compare(self) -> None:
        try:
            from nndyn_gui.ui.compare import CompareWindow

            win = CompareWindow(self.state, self)
        except Exception as e:  # a boundary: the window stays usable; the log keeps the trace
            log.exception("the Compare window could not open")
            self.show_error("Compare unavailable", str(e))
            return
        win.setWindowFlag(Qt.WindowType.Window, True)
        win.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        win.resize(1200, 650)
        self._windows.append(win)
        win.show()

    @Slot()
    def open_sweeps(self) -> QWidget:
        """Tools -> Sweeps: reads results and draws (no TensorFlow); a cell opens its run."""
        from nndyn_gui.ui.sweeps_window import SweepsWindow

        win = SweepsWindow(open_run=self._open_sweep_run, parent=self)
        win.setWindowFlag(Qt.WindowType.Window, True)
        win.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        win.resize(1000, 780)
        self._windows.append(win)
        win.show()
        return win

    def _open_sweep_run(self, path: str) -> bool:
        if not self.document.maybe_save():
            return False
        ok = self.open_run(path, wait=False)
        if ok:
            self.raise_()
            self.activateWindow()
        return ok

    # ------------------------------------------------------------------ misc
    def versions(self) -> dict[str, str]:
        tf_version = self.controller.versions().get("tensorflow", "")
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
        box = QMessageBox(self)
        box.setWindowTitle("About nndyn")
        box.setIconPixmap(self.windowIcon().pixmap(64, 64))
        box.setText(
            "<b>nndyn</b> — watch a neural network move space, layer by layer."
            f"<br><br><table>{lines}</table>"
        )
        box.setWindowModality(Qt.WindowModality.NonModal)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.about_box = box
        box.show()
        return box

    @Slot()
    def reset_layout(self) -> None:
        for dock in self.docks.values():
            dock.setFloating(False)
            dock.show()
        self.resize_docks_default()

    def run_title(self) -> str:
        """The run's title as the narrator makes it from the config now: the preset's
        own title only while the config is the preset's, else one made from the config."""
        from nndyn_gui.core.analysis.narrator import run_title

        return run_title(self.state.config)

    def _update_title(self, *_: object) -> None:
        """The title bar: the file the run was opened from or saved to, if any, then
        the run's title (made from its config now, so an edit retitles it)."""
        title = self.run_title()
        if self.run_path:
            title = f"{Path(self.run_path).name} — {title}"
        self.setWindowTitle(f"{title}[*] — nndyn")

    def settle_panels(self) -> None:
        """Compute, on this thread, what the side panels still owe the snapshot the main
        view shows (automation: a screenshot never has a panel still computing)."""
        self.multiples.wait_idle()
        self.diagnostics.wait_idle()

    def screenshot(self, path: str) -> bool:
        """Render the whole window to a PNG at its current size (automation)."""
        from nndyn_gui.render.views import grab_with_overlays

        return bool(grab_with_overlays(self).save(path, "PNG"))

    # ------------------------------------------------------------------ closing
    def close_from_signal(self) -> None:
        """Ctrl+C in the terminal or SIGTERM (logout): stop and quit without a dialog.

        Unsaved work is written to the autosave and kept, so the next start offers it.
        """
        self.no_prompt = True
        if self.state.dirty and self.autosaver is not None:
            with contextlib.suppress(Exception):
                self.controller.stop(wait=True)  # the last snapshot, then save it
                self.autosaver.save_now(wait=True)
                self._keep_autosave = True
        self.close()

    def closeEvent(self, ev: QCloseEvent) -> None:
        """Ask about unsaved work, stop training cleanly, remember the layout. A save or
        autosave still being written is awaited by the event loop, not here: the window
        stays (saying so) and closes itself when the file is on disk."""
        if not self._closing and not self.document.maybe_save():
            ev.ignore()
            return
        self._closing = True
        if self._files_busy():
            ev.ignore()
            self._flash("Finishing writing the run before closing…", 0)
            self._close_when_idle.start()
            return
        self.presentation.leave()  # the saved layout is the window's, not the full screen
        self.presentation.shutdown()
        self.controller.shutdown()
        self.layer_panel.play(False)
        try:
            app_settings.save_window(self)
            app_settings.save_config(self.state.config)
            view_settings.save(self.layer_panel)
        except OSError:
            log.exception("cannot save the window's settings")
        self.layer_panel.shutdown()
        self.readout.stop()
        self.multiples.shutdown()
        self.diagnostics.shutdown()
        self.param_panel.shutdown()
        if self.autosaver is not None and not self._keep_autosave:
            try:
                self.autosaver.discard()  # no write in flight (_files_busy): no wait
            except OSError:
                log.exception("cannot remove the autosave")
        for w in list(self._windows):
            with contextlib.suppress(RuntimeError):  # already deleted
                w.close()
        super().closeEvent(ev)

    def _files_busy(self) -> bool:
        """A save, an open or an autosave is still reading or writing."""
        return self.document.busy() or (self.autosaver is not None and self.autosaver.busy)

    @Slot()
    def _close_if_idle(self) -> None:
        if not self._files_busy():
            self._close_when_idle.stop()
            self.close()

    @Slot(str)
    def _on_file_status(self, text: str) -> None:
        """ "Saving …" until written; then the outcome's message ("Saved …") stays."""
        bar = self.statusBar()
        if text:
            bar.showMessage(text)
        elif bar.currentMessage().startswith(("Saving ", "Opening ")):
            bar.clearMessage()
