"""Compare window: two seeds of the same experiment, trained side by side."""

from __future__ import annotations

import math
import os
import time
from typing import Any

import numpy as np
import pytest
from PySide6.QtCore import QTimer

from nndyn_gui.core.config import RunConfig
from nndyn_gui.core.engine.session import spare_workers
from nndyn_gui.ui.compare import SLIDER_STEPS, CompareWindow
from nndyn_gui.ui.state import AppState


@pytest.fixture
def window(qtbot, small_config: RunConfig) -> CompareWindow:
    cfg = small_config.copy()
    cfg.train.seed = 7
    cfg.train.steps = 100
    w = CompareWindow(AppState(cfg.validate()))
    qtbot.addWidget(w)
    w.resize(900, 500)
    w.show()
    w.wait_idle()  # the two untrained nets are drawn off the GUI thread
    return w


def test_defaults_to_current_seed_and_the_next(window: CompareWindow) -> None:
    assert window.seeds() == (7, 8)
    assert window.sides[0].header.text().endswith("7") and window.sides[1].header.text().endswith(
        "8"
    )
    a, b = window.weights(0), window.weights(1)
    assert a is not None and b is not None and not np.allclose(a.A, b.A)  # two starts shown


def test_shared_slider_moves_both_views(window: CompareWindow) -> None:
    window.set_time(2.0)
    assert [v.time() for v in window.views()] == [2.0, 2.0]
    assert window.slider.value() == 2 * SLIDER_STEPS
    assert "layer 2" in window.layer_label.text()


def test_times_beyond_the_flow_show_the_last_layer(window: CompareWindow) -> None:
    last = window.slider.maximum()
    for t in (1e9, float("inf")):
        window.set_time(t)
        assert window.slider.value() == (last if t == 1e9 else 0)
    window.set_time(-5.0)
    assert window.slider.value() == 0


def test_trains_two_seeds_to_different_weights(qtbot, window: CompareWindow) -> None:
    with qtbot.waitSignal(window.trainingFinished, timeout=60000):
        window.train_button.click()
        assert not window.train_button.isEnabled() and window.stop_button.isEnabled()
    r0, r1 = window.results()
    assert r0 is not None and r1 is not None
    assert r0.status == r1.status == "finished"
    assert r0.final.step == r1.final.step == 100
    assert not np.allclose(r0.final.weights.A, r1.final.weights.A)
    assert np.array_equal(window.weights(0).A, r0.final.weights.A)  # the view shows the result
    for side in window.sides:
        assert "train" in side.result.text() and "test" in side.result.text()
    assert window.status_label.text().startswith("Done")
    assert window.train_button.isEnabled() and not window.stop_button.isEnabled()


@pytest.mark.timing
def test_closing_stops_the_training_process_at_once(qtbot, window: CompareWindow) -> None:
    window.state.config.train.steps = 100_000  # long enough to still be running at close
    window.train_both()
    assert window.is_running()
    qtbot.waitUntil(lambda: window.sides[0].last_snapshot is not None, timeout=60000)
    pid = window.engine.worker_pid()
    assert pid and os.path.exists(f"/proc/{pid}")
    t0 = time.perf_counter()
    window.close()
    assert time.perf_counter() - t0 < 1.0
    assert not window.is_running() and not window.engine.is_running()
    ended = not os.path.exists(f"/proc/{pid}") or _is_zombie(pid)
    assert ended or pid in {w.pid for w in spare_workers()}  # ended, or idle and kept warm


def _is_zombie(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(") ")[1].startswith("Z")
    except OSError:
        return True


def test_stop_button_cancels_and_keeps_the_window(qtbot, window: CompareWindow) -> None:
    window.state.config.train.steps = 100_000
    window.train_both()
    qtbot.waitUntil(lambda: window.sides[0].last_snapshot is not None, timeout=60000)
    with qtbot.waitSignal(window.trainingFinished, timeout=30000):
        window.stop_button.click()
    assert window.status_label.text() == "Stopped."
    r0, r1 = window.results()
    assert r0 is not None and r0.status == "cancelled" and r1 is None
    assert window.sides[1].result.text() == "stopped"
    assert window.train_button.isEnabled() and window.isVisible()


@pytest.mark.timing
def test_a_deep_net_trains_in_both_columns_without_freezing_the_window(qtbot: Any) -> None:
    """The 100-block ODE-limit preset: both columns follow training live, their scenes
    built off the GUI thread (each is ~40 ms of numpy), and the window keeps turning."""
    from nndyn_gui.core.io.presets import load_preset

    cfg = load_preset("resnet-ode-limit")
    cfg.data.n = 400
    cfg.train.steps, cfg.train.snapshot_every = 600, 20
    w = CompareWindow(AppState(cfg.validate()))
    qtbot.addWidget(w, before_close_func=lambda _w: w.close())  # `w` lives to the end
    w.resize(900, 500)
    w.show()
    w.wait_idle()
    ticks: list[float] = []
    probe = QTimer()
    probe.setInterval(10)
    probe.timeout.connect(lambda: ticks.append(time.perf_counter()))
    with qtbot.waitSignal(w.trainingFinished, timeout=180_000):
        w.train_both()
        probe.start()
    probe.stop()
    r0, r1 = w.results()
    assert r0 is not None and r1 is not None and r0.status == r1.status == "finished"
    assert r0.final.step == r1.final.step == 600
    assert not np.allclose(r0.final.weights.A, r1.final.weights.A)
    w.wait_idle()
    for i, view in enumerate(w.views()):
        scene = view.flow_scene()
        assert scene.depth == 100  # every block of the deep net is in the picture
        assert scene.source[1] is w.results()[i].final.weights  # the trained net is shown
    assert w.slider.maximum() == 100 * SLIDER_STEPS
    gaps = np.diff(ticks) * 1000.0
    assert len(gaps) > 20
    assert float(np.max(gaps)) < 250.0, np.sort(gaps)[-5:]


def test_trained_seeds_replay_together_and_export_side_by_side(
    qtbot, window: CompareWindow, tmp_path
) -> None:
    """One snapshot slider (the same step on both sides); Export… writes both runs."""
    import imageio.v3 as iio

    assert not window.snapshot_slider.isEnabled() and not window.export_button.isEnabled()
    window.state.config.train.snapshot_every = 25
    with qtbot.waitSignal(window.trainingFinished, timeout=60000):
        window.train_button.click()
    assert window.snapshot_slider.isEnabled() and window.export_button.isEnabled()
    r0, r1 = window.results()
    window.set_step_index(1)
    window.wait_idle()
    step = window.shared_steps.steps[1]
    assert step > 0 and f"step {step}" in window.snapshot_label.text()
    for k, res in enumerate((r0, r1)):  # both sides show their own snapshot of that step
        want = next(s for s in res.snapshots if s.step == step)
        assert np.array_equal(window.weights(k).A, want.weights.A)
    dlg = window.open_export()
    assert dlg.content() == "compare"
    assert all(
        not dlg.is_content_enabled(str(dlg.content_combo.itemData(i)))
        for i in range(dlg.content_combo.count())
        if dlg.content_combo.itemData(i) != "compare"
    )
    opts = dlg.options()
    opts.path, opts.width, opts.height, opts.legend = str(tmp_path / "two.png"), 640, 360, False
    with qtbot.waitSignal(dlg.finished, timeout=30000):
        dlg.start_export(opts)
    img = iio.imread(tmp_path / "two.png")[..., :3].astype(int)
    left, right = img[:, :320], img[:, 320:]
    assert left.std() > 10 and right.std() > 10 and np.abs(left - right).mean() > 2
    assert opts.labels is not None and opts.labels[0].startswith("A: ")
    assert "seed 7" in opts.labels[0] and "seed 8" in opts.labels[1]
    dlg.close()


def test_each_column_has_its_title_and_step_and_the_verdict_is_measured(
    qtbot, window: CompareWindow
) -> None:
    """Each column is titled from its own config and seed (comparison.compare_titles); its
    line names the step of the numbers it gives, and of the picture; the sentence under
    the buttons is the narrator's comparison of those numbers, never "the start matters"
    unless measured (a gap beyond the test set's sampling error, only the seed differing)."""
    from nndyn_gui.core.analysis import comparison

    top, half_a, half_b = window.titles()
    assert window.windowTitle() == f"Compare — {top}" and top.endswith("two initialisations")
    assert window.sides[0].header.text() == f"A: {half_a}" and half_a.endswith("seed 7")
    assert window.sides[1].header.text() == f"B: {half_b}" and half_b.endswith("seed 8")
    assert "initial weights, batches" in window.status_label.text()  # seed: both
    window.state.config.train.snapshot_every = 25
    with qtbot.waitSignal(window.trainingFinished, timeout=60000):
        window.train_button.click()
    window.wait_idle()
    qtbot.waitUntil(lambda: all(s.topology_snap is s.target for s in window.sides), timeout=30000)
    results = window.results()
    for side, res in zip(window.sides, results, strict=True):
        assert side.result.text().startswith(f"step {res.final.step:,}: train ")
        assert f"test {100 * res.final.test_acc:.1f}%" in side.result.text()
        assert "picture" not in side.result.text()  # the picture is of that step too
        assert side.shown is res.final
    measured = []
    for run, s in zip(window.runs(), window.sides, strict=True):
        topo, final = s.topology, run.snapshots[-1]
        measured.append(
            comparison.Measured(
                run.config,
                final.step,
                final.test_acc,
                len(window.state.dataset.y_test),
                winding=None if topo is None else topo.winding,
                winding_measured=topo is not None,
                wrong_side_share=math.nan if topo is None else topo.wrong_side_share,
            )
        )
    sentence = comparison.compare_verdict(*measured)
    assert comparison.check_compare(sentence, *measured) == []
    assert window.status_label.text() == f"Done. {sentence.text}"
    assert "winding" in window.status_label.text()  # both loops measured: compared too
    assert "the start matters" not in window.status_label.text()

    window.set_step_index(1)  # an earlier step on both sides: every number follows it
    window.wait_idle()
    step = window.shared_steps.steps[1]
    for i, (side, res) in enumerate(zip(window.sides, results, strict=True)):
        snap = next(s for s in res.snapshots if s.step == step)
        assert side.result.text().startswith(f"step {step:,}: train {100 * snap.train_acc:.1f}%")
        assert f"at step {step:,}" in window.labels()[i]
        assert f"{100 * snap.test_acc:.1f}%" in window.labels()[i]
    assert f"At step {step:,}" in window.status_label.text()


def test_column_titles_follow_an_edited_preset(qtbot) -> None:
    """Compare on an edited preset: no column is titled with the preset's words."""
    from nndyn_gui.core.io.presets import load_preset, preset_title

    cfg = load_preset("resnet-w3-ring")
    cfg.model.width, cfg.data.n = 2, 200
    w = CompareWindow(AppState(cfg.validate()))
    qtbot.addWidget(w)
    w.show()
    w.wait_idle()
    texts = [w.windowTitle(), *(s.header.text() for s in w.sides)]
    assert all(preset_title("resnet-w3-ring") not in t and "width 3" not in t for t in texts)
    assert all("width 2" in t for t in texts)
    w.close()
