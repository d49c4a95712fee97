"""Every number on screen belongs to a named snapshot, and the same one everywhere.

The main view draws in the background and lags the newest snapshot while training; the
status bar, the curves, the snapshot label and the diagnostics must all show the
numbers of the snapshot that is drawn, each naming its step, and the trainer's own
batch loss must say what it is (issue: 0.00375 in the status bar vs 0.00297 on the
curves; four different accuracies on one screen).
"""

from __future__ import annotations

import numpy as np
import pytest

from nndyn_gui.core.net.flow import predict
from nndyn_gui.core.types import NetWeights, Snapshot


def _snapshot(state, step: int, seed: int) -> Snapshot:
    """A snapshot whose accuracies are those of its weights (as the trainer's are)."""
    w0 = state.snapshots[0].weights
    rng = np.random.default_rng(seed)
    w = NetWeights(
        w0.A + 0.3 * rng.normal(size=w0.A.shape), w0.b, w0.w + rng.normal(size=w0.w.shape), 0.1
    )
    ds, model = state.dataset, state.config.model
    acc_tr = float((predict(model, w, ds.x_train) == ds.y_train).mean())
    acc_te = float((predict(model, w, ds.x_test) == ds.y_test).mean())
    return Snapshot(step, 0.5 / (1 + step / 100), acc_tr, acc_te, w)


def _settle(qtbot, window) -> None:
    """Until the main view has drawn the newest snapshot (throttled while training)."""
    panel, state = window.layer_panel, window.state
    qtbot.waitUntil(
        lambda: (
            state.shown is state.current
            and not panel.builder.holding()
            and not panel.builder.busy()
        ),
        timeout=10_000,
    )
    window.readout.flush()
    window.curves._flush()


@pytest.fixture
def training(window, qtbot):
    """The window as while training: snapshots arrive, the trainer reports progress."""
    state = window.state
    state.set_training_state("training")
    yield window
    state.set_training_state("idle")


def test_while_training_every_readout_shows_the_drawn_snapshot(training, qtbot) -> None:
    window = training
    state = window.state
    a = _snapshot(state, 100, 1)
    state.extend_snapshots([a])
    _settle(qtbot, window)
    assert state.shown is a
    # the next snapshot arrives; until its picture is drawn, the numbers stay a's
    b = _snapshot(state, 200, 2)
    window.layer_panel.builder.shutdown()  # b is never drawn in this test
    state.extend_snapshots([b])
    state.set_progress(230, 0.987654, 1000.0)  # the trainer's last batch, at another step
    window.readout.flush()
    window.curves._flush()
    assert state.current is b and state.shown is a
    status = window.acc_label.text()
    assert status.startswith("step 100 ·") and f"loss {a.loss:.4g}" in status
    assert f"acc {100 * a.train_acc:.1f}%" in status
    assert "step 100" in window.curves.readout_text()
    assert "step 100" in window.layer_panel.snapshot_label.text()
    # the trainer's numbers say what they are, and are not mistaken for a snapshot's
    assert window.step_label.text() == "training step 230 / 200"
    assert window.loss_label.text() == "last-step loss 0.9877"
    assert "0.9877" not in status


def test_after_training_all_readouts_agree_and_name_their_step(window, qtbot) -> None:
    state = window.state
    snaps = [_snapshot(state, s, s) for s in (50, 100, 150)]
    state.set_training_state("training")
    state.extend_snapshots(snaps)
    state.set_progress(150, 0.3, 900.0)
    state.set_training_state("idle")
    _settle(qtbot, window)
    last = snaps[-1]
    assert state.shown is last
    window.diagnostics.refresh_now()
    qtbot.waitUntil(lambda: window.diagnostics.snapshot is last, timeout=5000)
    metrics = window.diagnostics.metrics_label.text()
    assert "step 150" in metrics
    assert f"train acc <b>{100 * last.train_acc:.1f}%</b>" in metrics
    assert window.acc_label.text().startswith("step 150 ·")
    assert f"acc {100 * last.train_acc:.1f}%" in window.acc_label.text()
    assert "step 150" in window.curves.readout_text()
    assert "step 150" in window.layer_panel.snapshot_label.text()
    # the trainer's progress is gone once it stopped: no unnamed loss is left on screen
    assert window.step_label.text() == window.loss_label.text() == ""


def test_scrubbing_to_an_older_snapshot_moves_every_readout(window, qtbot) -> None:
    state = window.state
    snaps = [_snapshot(state, s, s) for s in (50, 100)]
    state.extend_snapshots(snaps)
    _settle(qtbot, window)
    window.layer_panel.snapshot_slider.setValue(1)  # [untrained, 50, 100]: step 50
    _settle(qtbot, window)
    old = snaps[0]
    assert state.shown is old
    window.diagnostics.refresh_now()
    assert "step 50" in window.diagnostics.metrics_label.text()
    assert window.acc_label.text().startswith("step 50 ·")
    assert "step 50" in window.curves.readout_text()
    assert "step 50" in window.layer_panel.snapshot_label.text()
    from nndyn_gui.render import picking

    hover = picking.describe(window.layer_panel.scene, 0.0, "point", 0)
    assert "input at step 50: " in hover.text  # hovering names the same snapshot


def test_a_new_runs_step_0_is_the_snapshot_shown_also_for_k_classes(window, qtbot) -> None:
    """A new run's step 0 has the very weights on screen: no new picture, but its numbers
    become the shown ones (they stayed on the replaced snapshot); with K classes the bias
    is an array and comparing it raised in the GUI thread."""
    from nndyn_gui.core.types import Snapshot

    state = window.state
    cfg = state.config.copy()
    cfg.data.name, cfg.data.classes = "gaussians", 3
    assert window.load_config(cfg.validate())
    _settle(qtbot, window)
    old = state.current
    assert state.shown is old and old.weights.classes == 3
    w = old.weights.copy()  # equal weights, another object: as the worker sends them
    fresh = Snapshot(step=0, loss=1.1, train_acc=0.3, test_acc=0.3, weights=w)
    state.extend_snapshots([fresh])
    _settle(qtbot, window)
    assert state.shown is fresh
