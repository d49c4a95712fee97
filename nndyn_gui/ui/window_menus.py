"""The window's actions, menu bar and toolbar, and which of them a training run disables.

Why it exists: building ~25 actions with their keys and tips, and placing them in
menus, is the window's longest and least interesting code; here it is one table-like
module. Every action is added to the window itself too, so its shortcut works when the
menu bar is hidden (presentation mode). The window exposes each action as `act_*`.

Where new things go:
- a menu entry for a new window (Ensemble, ...): one `_action` in `WindowActions.__init__`
  next to `compare` / `sweeps`, its opener in ui/tool_windows.py, and its name in
  `TOOL_WINDOW_ACTIONS` (the Tools menu lists them in that order);
- a new Run action: `RUN_ACTIONS` (menu and toolbar both read it).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QLabel, QToolBar

if TYPE_CHECKING:
    from nndyn_gui.ui.main_window import MainWindow

#: Step: F10, the debuggers' "step over" (Ctrl+N is File → New: one key, one action)
STEP_KEY = "F10"
RUN_ACTIONS = ("train", "pause", "step", "stop", "reset")  # Run menu and toolbar, in order
TOOL_WINDOW_ACTIONS = ("compare", "ensemble", "sweeps")  # the Tools menu: one entry per tool window


class WindowActions:
    """Every action of one window (attributes named as the window's `act_*` without `act_`)."""

    def __init__(self, win: MainWindow) -> None:
        self.win = win
        doc, lp, run, tools = win.document, win.layer_panel, win.training, win.tools
        self.new = self._action("&New", run.new_run, QKeySequence.StandardKey.New)
        self.open = self._action("&Open run…", doc.open_dialog, "Ctrl+O")
        self.save = self._action("&Save run", doc.save_current, "Ctrl+S")
        self.save_as = self._action("Save run &as…", doc.save_as, "Ctrl+Shift+S")
        self.export = self._action(
            "&Export…", tools.export, "Ctrl+E", "Export a picture or video of the flow"
        )
        self.quit = self._action("&Quit", win.close, "Ctrl+Q")
        self.train = self._action(
            "Train", run.train, "Ctrl+T", "Train the network from scratch (Ctrl+T)"
        )
        self.pause = self._action(
            "Pause", run.toggle_pause, "Ctrl+P", "Pause / resume training", checkable=True
        )
        self.step = self._action(
            "Step", run.step, STEP_KEY, f"Train one snapshot interval, then pause ({STEP_KEY})"
        )
        self.stop = self._action("Stop", run.stop, "Ctrl+.", "Stop training, keep the result")
        self.reset = self._action("Reset", run.reset, "Ctrl+R", "Back to the untrained network")
        self.play = self._action("Play / pause animation", lp.toggle_play, "Space", "Animate x(t)")
        self.last = self._action(
            "Show last layer", lp.show_last_layer, "End", "Jump to the last layer"
        )
        self.first = self._action(
            "Show input", lambda: lp.set_time(0.0), "Home", "Jump to the input"
        )
        self.camera = self._action("Reset camera", lp.reset_camera, "Ctrl+0")
        self.steady = self._action(
            "Steady camera",
            lambda on: lp.set_options(lp.options().copy(steady_camera=bool(on))),
            None,
            "One box and camera for every layer (off: the view follows each layer's points)",
            checkable=True,
        )
        self.steady.setChecked(lp.options().steady_camera)
        self.add_key = self._action(
            "Save camera view",
            lambda: lp.camera_path.add(lp.time()),
            "Ctrl+K",
            "Keep the 3-D view at this layer: Play and exported flows move between saved views",
        )
        self.clear_keys = self._action(
            "Clear camera views", lp.camera_path.clear, None, "Forget saved views"
        )
        self.clear_keys.setEnabled(False)
        lp.camera_path.changed.connect(lambda n: self.clear_keys.setEnabled(n > 0))
        # tool windows (Tools menu, TOOL_WINDOW_ACTIONS): a new window's entry goes here
        self.compare = self._action(
            "Compare two runs…",
            tools.open_compare,
            None,
            "Two runs side by side: two seeds, a preset, a run file or one change",
        )
        self.ensemble = self._action(
            "Ensemble…",
            tools.open_ensemble,
            None,
            "The current config from several init seeds, trained together: their boundaries, "
            "accuracy and winding side by side",
        )
        self.sweeps = self._action(
            "Sweeps…", tools.open_sweeps, None, "Heatmaps of a sweep's results ('nndyn sweep')"
        )
        self.about = self._action("&About nndyn", tools.about, "F1")
        self.reset_layout = self._action("Reset window layout", win.reset_layout)

    def _action(
        self,
        text: str,
        slot: Callable[..., Any],
        shortcut: QKeySequence | QKeySequence.StandardKey | str | None = None,
        tip: str = "",
        checkable: bool = False,
    ) -> QAction:
        act = QAction(text, self.win)
        if shortcut is not None:
            act.setShortcut(QKeySequence(shortcut))
            act.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        if tip:
            act.setToolTip(tip)
            act.setStatusTip(tip)
        act.setCheckable(checkable)
        act.triggered.connect(slot)
        self.win.addAction(act)  # shortcuts work even when the menu bar is hidden
        return act

    def named(self, names: tuple[str, ...]) -> list[QAction]:
        return [getattr(self, n) for n in names]

    # ------------------------------------------------------------------ placing them
    def build_menus(self) -> None:
        """File, Run, View, Presets, Tools, Help; sets the window's `recent_menu`,
        `presets_menu` and `preset_actions`."""
        from nndyn_gui.ui.presets_menu import fill_presets_menu
        from nndyn_gui.ui.recent_menu import RecentMenu

        win = self.win
        mb = win.menuBar()
        m = mb.addMenu("&File")
        m.addAction(self.new)
        m.addAction(self.open)
        win.recent_menu = RecentMenu(win.document.open_recent, m)
        m.addMenu(win.recent_menu)
        for a in (self.save, self.save_as):
            m.addAction(a)
        m.addSeparator()
        m.addAction(self.export)
        m.addSeparator()
        m.addAction(self.quit)
        m = mb.addMenu("&Run")
        for a in self.named(RUN_ACTIONS):
            m.addAction(a)
        m.addSeparator()
        m.addAction(win.undo.action)
        m = mb.addMenu("&View")
        m.addAction(win.presentation.action)
        m.addSeparator()
        for a in (self.play, self.first, self.last):
            m.addAction(a)
        cm = m.addMenu("&Camera")
        for a in (self.camera, self.steady, self.add_key, self.clear_keys):
            cm.addAction(a)
        m.addSeparator()
        for dock in win.docks.values():
            m.addAction(dock.toggleViewAction())
        m.addSeparator()
        m.addAction(self.reset_layout)
        win.presets_menu = mb.addMenu("&Presets")
        win.preset_actions = fill_presets_menu(win.presets_menu, win.training.load_preset)
        m = mb.addMenu("&Tools")
        for a in self.named(TOOL_WINDOW_ACTIONS):
            m.addAction(a)
        m = mb.addMenu("&Help")
        m.addAction(self.about)

    def build_toolbar(self) -> QToolBar:
        tb = QToolBar("Training", self.win)
        tb.setObjectName("toolbar_training")
        tb.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        tb.setMovable(False)
        for a in self.named(RUN_ACTIONS):
            tb.addAction(a)
        tb.addSeparator()
        tb.addAction(self.export)
        tb.addSeparator()
        tb.addWidget(QLabel("  "))
        self.win.addToolBar(Qt.ToolBarArea.TopToolBarArea, tb)
        btn = tb.widgetForAction(self.train)
        if btn is not None:
            btn.setObjectName("trainButton")
            btn.setStyleSheet("QToolButton#trainButton { font-weight: 600; }")
        return tb

    # ------------------------------------------------------------------ following a run
    def follow_training_state(self, st: str) -> None:
        """What may be pressed in each training state (AppState.TRAINING_STATES)."""
        running = st != "idle"
        self.train.setEnabled(not running)
        self.pause.setEnabled(st in ("training", "paused"))
        self.pause.setChecked(st == "paused")
        self.pause.setText("Resume" if st == "paused" else "Pause")
        self.step.setEnabled(st in ("idle", "paused", "training"))
        self.stop.setEnabled(running and st != "stopping")
        self.open.setEnabled(not running)
        self.win.recent_menu.setEnabled(not running)
        self.new.setEnabled(not running)
        self.win.presets_menu.setEnabled(not running)

    def follow_view_options(self, options: Any) -> None:
        self.steady.setChecked(bool(options.steady_camera))
