"""The window's Run menu and experiments: Train, Pause, Step, Stop, Reset, New, presets.

Why it exists: these are the window's side of training — what a button asks of the
TrainController, what the window says about a run's end — and the one place a new
experiment (a preset, New, `--preset`) replaces the current one. Nothing here waits on
the GUI thread: a run going when Reset or a new experiment is asked for is stopped with
`TrainController.stop_then`, and the new config is applied once the engine has
delivered the run's end (its last snapshots go with the run that is put aside, so Run →
Bring back restores all of it).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Slot

from nndyn_gui.core.config import ConfigError, RunConfig
from nndyn_gui.core.io.presets import PresetError

if TYPE_CHECKING:
    from nndyn_gui.ui.main_window import MainWindow


class WindowTraining(QObject):
    """Run → Train / Pause / Step / Stop / Reset, File → New, Presets, for one window."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        self.state = window.state
        self.controller = window.controller
        #: a config asked for while the run it replaces stops (the newest wins)
        self.pending: RunConfig | None = None

    def wire(self) -> None:
        """Connect the controller's news to the window (once its widgets exist).

        Like TensorFlow Playground: while a run trains, a change of the learning rate,
        regularisation, batch size, step counts or stop conditions reaches the trainer
        at its next call (marked on the curves); any other change (data, drawn points,
        network, seed, ...) restarts it from step 0 at once, without a dialog: a
        trained run it drops is put aside, and Run → Bring back restores it
        (ui/undo_discard.py)."""
        win, ctl = self.window, self.controller
        ctl.finished.connect(self._on_finished)
        ctl.failed.connect(
            lambda message, details: win.show_error("Training failed", message, details)
        )
        ctl.tuned.connect(self._on_tuned)
        ctl.restarted.connect(lambda: win.flash("Restarted from step 0"))
        ctl.compilingChanged.connect(self._on_compiling)
        ctl.workerReady.connect(self._on_worker_ready)
        ctl.workerLost.connect(self._on_worker_lost)
        win.param_panel.drawRequested.connect(lambda: win.layer_panel.set_drawing(True))

    # ------------------------------------------------------------------ the Run menu
    @Slot()
    def train(self) -> bool:
        """Train the current config from scratch (False if a run is already going)."""
        if self.controller.is_running():
            return False
        if not len(self.state.dataset.y_train):
            self.window.flash("Nothing to train on: draw some points first (✎ Draw data)")
            return False
        self.window.layer_panel.show_last_layer()
        self.state.set_status("new", "")
        return self.controller.start()

    @Slot()
    def toggle_pause(self) -> None:
        if self.controller.is_running():
            self.controller.toggle_pause()
        self.window.act_pause.setChecked(self.controller.is_paused())

    @Slot()
    def step(self) -> None:
        if not self.controller.is_running():
            self.window.layer_panel.show_last_layer()
        self.controller.step()

    @Slot()
    def stop(self) -> None:
        self.controller.stop()

    @Slot()
    def reset(self) -> None:
        """Back to the untrained network, once a run going has ended."""
        self.controller.stop_then(self._reset_now)

    def _reset_now(self) -> None:
        self.state.reset()
        self.window.layer_panel.set_time(0.0)

    # ------------------------------------------------------------------ experiments
    def load_config(self, cfg: RunConfig) -> bool:
        """Start a new experiment from `cfg` (a preset, New, or --preset). While a run
        trains it is stopped first and `cfg` applied when its end arrives; an invalid
        `cfg` is refused at once (False, and the message says why)."""
        if not self.controller.is_running():
            return self._apply(cfg)
        try:
            cfg = cfg.validate()
        except ConfigError as e:
            self.window.show_error("Cannot use these parameters", str(e))
            return False
        first = self.pending is None
        self.pending = cfg
        if first:
            self.controller.stop_then(self._apply_pending)
        return True

    def _apply_pending(self) -> None:
        cfg, self.pending = self.pending, None
        if cfg is not None:
            self._apply(cfg)

    def _apply(self, cfg: RunConfig) -> bool:
        win = self.window
        try:
            self.state.set_config(cfg)
        except ValueError as e:  # ConfigError, DataError, LimitError: the message names why
            win.show_error("Cannot use these parameters", str(e))
            return False
        self.state.reset()
        self.state.set_dirty(False)
        win.run_path = ""
        win.layer_panel.set_time(0.0)
        win.update_title()
        return True

    def load_preset(self, name: str) -> bool:
        if not self.window.document.maybe_save():
            return False
        try:
            from nndyn_gui.core.io.presets import load_preset

            cfg = load_preset(name)
        except (PresetError, ConfigError, OSError) as e:
            self.window.show_error("Cannot load preset", str(e))
            return False
        ok = self.load_config(cfg)
        if ok:
            self.window.flash(f"Preset {name}")
        return ok

    @Slot()
    def new_run(self) -> None:
        if self.window.document.maybe_save():
            cfg = self.state.config.copy()
            cfg.title = ""
            self.load_config(cfg)

    # ------------------------------------------------------------------ the engine's news
    @Slot(object)
    def _on_finished(self, result: Any) -> None:
        if result.status == "diverged":
            self.window.show_error("Training diverged", result.message, "")
        else:
            self.window.flash(result.message)

    @Slot(int, object)
    def _on_tuned(self, step: int, changes: Any) -> None:
        from nndyn_gui.core.train.live import describe

        self.window.flash(f"From step {step:,}: {describe(changes)}")

    @Slot(bool)
    def _on_compiling(self, on: bool) -> None:
        """Numpy trains while the compiled step is built: say so next to the state."""
        if self.state.training_state in ("training", "paused", "loading"):
            self.window.state_label.setToolTip(
                "Training with numpy while the compiled (XLA) step is built" if on else ""
            )

    @Slot(object)
    def _on_worker_ready(self, versions: Any) -> None:
        label = self.window.tf_label
        version = versions.get("tensorflow", "") if versions else ""
        label.setText(f"TensorFlow {version}" if version else "TensorFlow unavailable")
        label.setToolTip(f"Training runs in its own process (pid {self.controller.worker_pid()})")

    @Slot(str)
    def _on_worker_lost(self, message: str) -> None:
        self.window.tf_label.setText("Training process stopped")
        self.window.flash(message)
