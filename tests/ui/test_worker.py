"""Training in the window: live updates, the engine's flow in the views, Stop, no freezes."""

from __future__ import annotations

import os
import signal
import time
from typing import Any

import numpy as np
import pytest
from PySide6.QtCore import QTimer

from nndyn_gui.core.engine.session import spare_workers
from nndyn_gui.core.net import flow
from nndyn_gui.ui.layer_panel import SLIDER_RES

from . import procs


def test_train_shows_the_engines_flow_and_the_sliders_scrub(
    qtbot: Any, window: Any, changed: Any
) -> None:
    state, layer = window.state, window.layer_panel
    with qtbot.waitSignal(window.controller.finished, timeout=60_000) as sig:
        assert window.train()
    result = sig.args[0]
    assert result.status == "finished" and state.status == "finished"
    assert [s.step for s in state.snapshots] == [0, 50, 100, 150, 200]
    assert state.current is state.snapshots[-1]
    assert window.state_label.text() == "Finished"

    layer.wait_idle()  # the status bar's numbers are those of the snapshot drawn
    assert window.acc_label.text().startswith("step 200 ·") and "acc" in window.acc_label.text()
    scene, view = layer.scene, layer.view
    weights = state.snapshots[-1].weights
    x = state.dataset.x_all[scene.indices]
    traj = flow.propagate(state.config.model, weights, x)
    for k in (0, 2, state.config.model.depth):
        layer.set_time(float(k))
        shown = np.concatenate([np.column_stack(it.getData()) for it in view.class_items])
        want = np.concatenate([traj[k][scene.labels == c] for c in (0, 1)])
        np.testing.assert_allclose(shown, want, atol=1e-9)
    gx, _gy = view.grid_item.getData()
    assert view.grid_item.isVisible() and len(gx) > 100  # the deformed mesh
    assert view.plane_item.isVisible() and view.plane_item.getData()[0] is not None

    layer.layer_slider.setValue(SLIDER_RES * 2 + SLIDER_RES // 2)  # between layers 2 and 3
    assert layer.time() == pytest.approx(2.5)
    assert view.time() == pytest.approx(2.5)
    layer.snapshot_slider.setValue(1)
    assert state.current is state.snapshots[1]
    layer.wait_idle()
    assert layer.scene.source[1] is state.snapshots[1].weights  # views show that snapshot


@pytest.mark.timing
def test_stop_takes_effect_within_half_a_second(qtbot: Any, window: Any, changed: Any) -> None:
    window.state.set_config(changed(window.state.config, train__steps=1_000_000))
    window.train()
    qtbot.waitUntil(lambda: window.state.progress[0] >= 200, timeout=60_000)
    t0 = time.perf_counter()
    with qtbot.waitSignal(window.controller.finished, timeout=5_000) as sig:
        window.act_stop.trigger()
    elapsed = time.perf_counter() - t0
    assert elapsed < 0.5, elapsed
    assert sig.args[0].status == "cancelled" and window.state.training_state == "idle"
    assert window.state_label.text() == "Stopped" and window.act_train.isEnabled()


def _probe_training(qtbot: Any, window: Any, cfg: Any, timeout_ms: int = 90_000) -> np.ndarray:
    """Train `cfg` with a 10 ms probe timer; gaps (ms) between its ticks while training."""
    window.state.set_config(cfg)
    window.layer_panel.wait_idle()
    ticks: list[float] = []

    def tick() -> None:
        if window.state.training_state == "training":  # not the compile before it
            ticks.append(time.perf_counter())

    probe = QTimer()
    probe.setInterval(10)
    probe.timeout.connect(tick)
    probe.start()
    with qtbot.waitSignal(window.controller.finished, timeout=timeout_ms):
        window.train()
    probe.stop()
    return np.diff(ticks) * 1000.0


def _stall_gaps(qtbot: Any, window: Any, changed: Any) -> tuple[np.ndarray, int]:
    """The tiny net for 18,000 steps: stall gaps (ms) and how many snapshots arrived.

    In its own process the trainer can finish 6,000 steps in ~0.1 s (13 probe ticks):
    too short to say anything about stalls, so it trains three times longer."""
    cfg = changed(
        window.state.config, train__steps=18000, train__snapshot_every=180, train__steps_per_call=20
    )
    return _probe_training(qtbot, window, cfg), len(window.state.snapshots)


@pytest.mark.timing
def test_the_window_never_freezes_while_training(qtbot: Any, window: Any, changed: Any) -> None:
    """The worst GUI stall while training, from a 10 ms probe timer, every dock shown.

    On this 2-core machine shared with other jobs a single 50 ms hiccup can come from the
    OS scheduler alone, so: max < 150 ms and the 95th percentile < 50 ms. (Before the
    scene builds moved off the GUI thread and the live curves stopped re-laying out the
    window, this saw 150-500 ms stalls; alone it now measures 35-55 ms at worst.)
    """
    for name in ("curves", "diagnostics", "multiples"):
        assert window.docks[name].isVisible(), name
    gaps, n_snaps = _stall_gaps(qtbot, window, changed)
    assert len(gaps) > 20
    assert n_snaps == 101  # batching loses no snapshot
    assert float(np.max(gaps)) < 150.0, np.sort(gaps)[-5:]
    assert float(np.percentile(gaps, 95)) < 50.0, np.percentile(gaps, 95)


@pytest.mark.timing
def test_a_deep_width3_preset_does_not_freeze_the_window(qtbot: Any, window: Any) -> None:
    """The ODE-limit preset (100 blocks, width 3, 1,000 points): every dock recomputes
    and redraws far more than for the tiny net above, yet the window keeps turning."""
    from nndyn_gui.core.io.presets import load_preset

    cfg = load_preset("resnet-ode-limit")
    cfg.train.steps, cfg.train.snapshot_every = 3000, 30
    gaps = _probe_training(qtbot, window, cfg.validate(), timeout_ms=180_000)
    print("deep preset gaps (ms): max", gaps.max(), "p95", np.percentile(gaps, 95))
    assert len(gaps) > 50
    assert float(np.max(gaps)) < 250.0, np.sort(gaps)[-5:]
    assert float(np.percentile(gaps, 95)) < 80.0, np.percentile(gaps, 95)


def test_live_curves_keep_every_snapshot_while_redrawing_less(
    qtbot: Any, window: Any, changed: Any
) -> None:
    """The curves redraw a few times a second while training, yet end with every value."""
    _stall_gaps(qtbot, window, changed)
    vals = window.curves.sample_values()
    assert list(vals["step"]) == [s.step for s in window.state.snapshots]
    np.testing.assert_array_equal(window.curves.train_curve.xData, vals["step"])
    window.layer_panel.wait_idle()  # the marker is at the snapshot the view has drawn
    assert window.curves.markers[0].value() == window.state.snapshots[-1].step


def test_step_runs_one_snapshot_interval_then_pauses(qtbot: Any, window: Any, changed: Any) -> None:
    every = window.state.config.train.snapshot_every
    window.act_step.trigger()
    qtbot.waitUntil(lambda: window.state.snapshots[-1].step == every, timeout=60_000)
    qtbot.waitUntil(lambda: window.state.training_state == "paused", timeout=5_000)
    qtbot.wait(300)
    assert window.state.snapshots[-1].step == every  # really paused
    window.act_step.trigger()
    qtbot.waitUntil(lambda: window.state.snapshots[-1].step == 2 * every, timeout=10_000)
    qtbot.waitUntil(lambda: window.state.training_state == "paused", timeout=5_000)
    window.act_pause.trigger()  # resume
    assert window.state.training_state == "training"
    with qtbot.waitSignal(window.controller.finished, timeout=60_000) as sig:
        pass
    assert sig.args[0].status == "finished"


def test_divergence_is_reported_and_the_app_stays_usable(
    qtbot: Any, window: Any, changed: Any
) -> None:
    """SGD with a huge weight decay multiplies A by -19 per step: Inf within a few steps,
    on every machine. The user is told, keeps the last finite snapshot, and trains on."""
    cfg = changed(
        window.state.config,
        train__optimizer="sgd",
        train__learning_rate=1.0,
        train__weight_decay=10.0,
        train__steps=400,
        train__snapshot_every=2,
        train__steps_per_call=2,
    )
    window.state.set_config(cfg)
    with qtbot.waitSignal(window.controller.finished, timeout=60_000) as sig:
        window.train()
    result = sig.args[0]
    assert result.status == "diverged" and result.final.step < 400
    assert window.hooked and window.hooked[-1][0] == "Training diverged"
    assert f"step {result.final.step}" in window.hooked[-1][1]  # says which snapshot is kept
    assert window.state_label.text() == "Diverged"
    assert window.state.snapshots[-1].weights.is_finite()
    window.state.set_config(changed(cfg, train__weight_decay=0.0, train__learning_rate=0.05))
    with qtbot.waitSignal(window.controller.finished, timeout=60_000) as sig:
        assert window.train()
    assert sig.args[0].status == "finished" and window.state.snapshots[-1].step == 400
    assert window.state_label.text() == "Finished"


def test_worker_exceptions_become_a_message(qtbot: Any, window: Any) -> None:
    from engine_faults import trainer_cannot_start

    window.controller.session.initializer = trainer_cannot_start  # in the worker
    with qtbot.waitSignal(window.controller.failed, timeout=60_000):
        window.train()
    title, msg, details = window.hooked[-1]
    assert title == "Training failed" and "boom in the engine" in msg
    assert "Traceback" in details
    assert window.state.training_state == "idle" and window.act_train.isEnabled()


def test_training_runs_in_a_worker_process_that_has_tensorflow(
    qtbot: Any, window: Any, changed: Any
) -> None:
    window.state.set_config(changed(window.state.config, train__steps=1_000_000))
    window.train()
    qtbot.waitUntil(lambda: window.state.training_state == "training", timeout=60_000)
    pid = window.controller.worker_pid()
    assert pid and pid != os.getpid() and procs.alive(pid)
    assert "libtensorflow" in procs.maps(pid)
    assert window.tf_label.text().startswith("TensorFlow 2.")  # the worker's version
    window.controller.stop(wait=True)


def test_killing_the_worker_mid_training_leaves_a_usable_window(
    qtbot: Any, window: Any, changed: Any
) -> None:
    """Killed (as by the out-of-memory killer): the window says so in plain words, keeps
    every snapshot it received, and the next Train starts a new worker."""
    state = window.state
    state.set_config(changed(state.config, train__steps=1_000_000, train__snapshot_every=20))
    window.train()
    qtbot.waitUntil(lambda: len(state.snapshots) >= 5, timeout=60_000)
    pid = window.controller.worker_pid()
    os.kill(pid, signal.SIGKILL)
    with qtbot.waitSignal(window.controller.failed, timeout=10_000) as sig:
        received = list(state.snapshots)
    message = sig.args[0]
    assert "training process stopped unexpectedly" in message and "SIGKILL" in message
    assert "out of memory" in message and f"{len(state.snapshots)} snapshots" in message
    assert state.snapshots[: len(received)] == received and len(state.snapshots) >= 5
    assert window.hooked[-1][0] == "Training failed"
    assert state.training_state == "idle" and window.act_train.isEnabled()
    assert state.status == "cancelled" and state.dirty  # the partial run can be saved
    state.set_config(changed(state.config, train__steps=100))
    with qtbot.waitSignal(window.controller.finished, timeout=60_000) as sig:
        assert window.train()
    assert sig.args[0].status == "finished" and state.snapshots[-1].step == 100
    assert window.controller.worker_pid() not in (0, pid)


@pytest.mark.timing
def test_closing_the_window_while_training_stops_it_at_once(
    qtbot: Any, window: Any, changed: Any
) -> None:
    window.state.set_config(changed(window.state.config, train__steps=1_000_000))
    window.train()
    qtbot.waitUntil(lambda: window.state.training_state == "training", timeout=60_000)
    pid = window.controller.worker_pid()
    assert procs.alive(pid)
    t0 = time.perf_counter()
    assert window.close()
    assert time.perf_counter() - t0 < 1.0
    assert not window.controller.is_running() and window.state.status == "cancelled"
    assert not procs.alive(pid) or pid in {w.pid for w in spare_workers()}  # ended, or idle+warm
