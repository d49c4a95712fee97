"""What a run's snapshots were trained with is what is saved and read off the screen.

The Parameters panel's settings (`AppState.config`) may be ahead of the run shown: an
edit made after training is the next run's. A saved run, the curves' step axis and the
status bar's "step / total" describe the run whose snapshots they go with
(`AppState.run_config`), never settings no snapshot was trained with.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from PySide6.QtWidgets import QStatusBar

from nndyn_gui.core.io.runfile import load_run, save_run
from nndyn_gui.core.types import Snapshot
from nndyn_gui.ui.curves import TrainingCurves
from nndyn_gui.ui.state import AppState
from nndyn_gui.ui.status_readout import StatusReadout


def _snap(state: AppState, step: int) -> Snapshot:
    return Snapshot(step, 0.8 * math.exp(-step / 300), 0.6, 0.55, state.weights.copy())


def _trained(state: AppState, last: int = 150) -> None:
    for step in range(0, last + 1, 50):
        state.append_snapshot(_snap(state, step))


def test_a_run_saved_after_an_edit_records_the_settings_it_was_trained_with(
    window: Any, qtbot: Any, tmp_path: Path
) -> None:
    state, controller = window.state, window.controller
    trained_lr, trained_opt = state.config.train.learning_rate, state.config.train.optimizer
    with qtbot.waitSignal(controller.finished, timeout=120_000):
        assert controller.start()
    assert state.snapshots[-1].step == state.config.train.steps
    other = "sgd" if trained_opt != "sgd" else "adam"
    assert window.param_panel.apply("train.optimizer", other)  # the next run's, not trained
    assert window.param_panel.apply("train.learning_rate", trained_lr * 2)
    path = tmp_path / "trained.nndyn"
    assert window.save_to(str(path))
    saved = load_run(path).config
    assert saved.train.optimizer == trained_opt and saved.train.learning_rate == trained_lr
    # the edit is not lost: the panel keeps it for the next run
    assert state.config.train.optimizer == other
    assert state.config.train.learning_rate == trained_lr * 2
    assert window.param_panel.controls["train.optimizer"].value() == other


def test_a_live_change_is_saved_once_the_trainer_has_taken_it(
    small_config: Any, changed: Any, tmp_path: Path
) -> None:
    state = AppState(small_config)
    state.set_training_state("training")
    _trained(state, 100)
    state.set_config(changed(state.config, train__learning_rate=0.2))  # sent, not yet taken
    save_run(state.run(), tmp_path / "a.nndyn")
    before = load_run(tmp_path / "a.nndyn")
    assert before.config.train.learning_rate == 0.05 and before.tuning == []
    state.add_tuning(100, {"learning_rate": (0.05, 0.2)})  # the trainer took it at step 100
    state.append_snapshot(_snap(state, 150))
    save_run(state.run(), tmp_path / "b.nndyn")
    after = load_run(tmp_path / "b.nndyn")
    assert after.config.train.learning_rate == 0.2  # the config at the newest snapshot
    assert after.tuning == [(100, {"learning_rate": (0.05, 0.2)})]  # and since when


def test_the_status_bar_counts_steps_of_the_run_that_trains(
    qtbot: Any, small_config: Any, changed: Any
) -> None:
    state = AppState(small_config)
    bar = QStatusBar()
    qtbot.addWidget(bar)
    readout = StatusReadout(state, bar)
    state.set_training_state("training")
    _trained(state, 100)
    state.set_config(changed(state.config, train__steps=5000))  # not yet taken
    state.set_progress(120, 0.3, 900.0)
    readout.flush()
    assert readout.step_label.text() == "training step 120 / 200"
    state.add_tuning(120, {"steps": (200, 5000)})
    state.set_progress(130, 0.3, 900.0)
    readout.flush()
    assert readout.step_label.text() == "training step 130 / 5,000"


def test_the_step_axis_spans_the_steps_the_run_trains(
    qtbot: Any, small_config: Any, changed: Any
) -> None:
    state = AppState(small_config)
    curves = TrainingCurves(state)
    qtbot.addWidget(curves)
    curves.resize(520, 340)
    curves.show()
    _trained(state, 200)  # a finished 200-step run
    state.set_config(changed(state.config, train__steps=1000))  # the next run's
    state.set_training_state("training")
    assert curves.loss_plot.viewRange()[0][1] < 300  # still the 200-step run on screen
    new_run = state.config
    state.extend_snapshots([_snap(state, 0)], new_run)  # the new run's first snapshot
    assert state.run_config is new_run
    assert 1000 <= curves.loss_plot.viewRange()[0][1] < 1100
    state.add_tuning(50, {"steps": (1000, 3000)})  # taken live
    assert 3000 <= curves.loss_plot.viewRange()[0][1] < 3300
