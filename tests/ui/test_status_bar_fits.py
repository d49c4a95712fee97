"""The status bar on a 1280 px wide window: every text in it is whole.

It was not: the labels kept room for a million steps (and the trainer's, empty once it
stopped, kept theirs), so the message Qt draws in what is left read "Finished 20000 st"."""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QLabel

from nndyn_gui.core.types import Snapshot

WIDTH, HEIGHT = 1280, 720


def _labels(window: Any) -> list[QLabel]:
    r = window.readout
    return [r.state_label, r.snapshot_label, r.step_label, r.loss_label, r.rate_label]


def _whole(label: QLabel) -> bool:
    return label.fontMetrics().horizontalAdvance(label.text()) <= label.contentsRect().width()


def _message_room(window: Any) -> int:
    """Where QStatusBar draws its message: from x=6 to 2 px before the first widget."""
    shown = [w for w in (window.undo.button, *_labels(window), window.tf_label) if w.isVisible()]
    return min(w.x() for w in shown) - 8


def _at_1280(qtbot: Any, window: Any, changed: Any, steps: int) -> None:
    window.state.set_config(changed(window.state.config, train__steps=steps))
    assert window.state.run_config.train.steps == steps
    window.tf_label.setText("TensorFlow 2.21.0")
    window.resize(WIDTH, HEIGHT)
    qtbot.waitUntil(lambda: window.width() == WIDTH, timeout=3000)


def _snap(window: Any, step: int) -> Snapshot:
    return Snapshot(step, 7.14e-05, 1.0, 1.0, window.state.weights)


def _settle(qtbot: Any, window: Any) -> None:
    """The newest snapshot's picture is drawn (the status bar names the snapshot shown,
    which the background build sets), then the bar is laid out."""
    qtbot.waitUntil(lambda: not window.layer_panel.builder.busy(), timeout=10_000)
    window.statusBar().layout().activate()
    qtbot.wait(50)


def test_a_finished_run_and_its_message_are_whole_at_1280(
    qtbot: Any, window: Any, changed: Any
) -> None:
    _at_1280(qtbot, window, changed, 20000)
    state = window.state
    state.set_training_state("training")
    state.extend_snapshots([_snap(window, 20000)])
    state.set_progress(20000, 0.0123, 1234.0)
    state.set_training_state("idle")
    message = "Finished 20000 steps."
    state.set_status("finished", message)
    window.flash(message)
    _settle(qtbot, window)
    bar = window.statusBar()
    assert bar.currentMessage() == message
    assert bar.fontMetrics().horizontalAdvance(message) <= _message_room(window)
    for label in _labels(window):
        assert not label.isVisible() or _whole(label), label.text()
    assert window.readout.state_label.text() == "Finished"
    assert window.acc_label.isVisible() and window.acc_label.text().startswith("step 20,000 ·")


def test_while_training_every_label_and_a_message_are_whole_at_1280(
    qtbot: Any, window: Any, changed: Any
) -> None:
    _at_1280(qtbot, window, changed, 20000)
    state = window.state
    state.set_training_state("training")
    state.extend_snapshots([_snap(window, 12000)])
    state.set_progress(12345, 0.000123456, 1234.0)
    window.readout.flush()
    _settle(qtbot, window)
    for label in _labels(window):
        assert label.isVisible() and _whole(label), label.text()
    message = "From step 12,345: learning rate 0.01 → 0.001"
    window.flash(message)
    _settle(qtbot, window)
    bar = window.statusBar()
    assert bar.fontMetrics().horizontalAdvance(message) <= _message_room(window)
    # the snapshot's numbers and the state never step aside; what is shown is whole
    r = window.readout
    assert r.state_label.isVisible() and r.snapshot_label.isVisible()
    for label in _labels(window):
        assert not label.isVisible() or _whole(label), label.text()
    bar.clearMessage()  # the message gone, the trainer's numbers are back
    _settle(qtbot, window)
    assert r.step_label.isVisible() and r.loss_label.isVisible() and r.rate_label.isVisible()
    state.set_training_state("idle")


def test_a_message_too_long_for_the_bar_is_in_its_tooltip(
    qtbot: Any, window: Any, changed: Any
) -> None:
    _at_1280(qtbot, window, changed, 20000)
    message = "Autosave failed: " + "a very long reason, " * 12
    window.flash(message)
    _settle(qtbot, window)
    bar = window.statusBar()
    assert bar.fontMetrics().horizontalAdvance(message) > _message_room(window)
    assert bar.toolTip() == message
    window.statusBar().clearMessage()
    assert bar.toolTip() == ""
