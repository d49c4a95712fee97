"""Compare window: two seeds of the same tiny experiment, trained side by side."""

from __future__ import annotations

import numpy as np
import pytest

from nndyn_gui.core.config import RunConfig
from nndyn_gui.ui import compare
from nndyn_gui.ui.compare import SLIDER_STEPS, CompareWindow
from nndyn_gui.ui.state import AppState

pytest.importorskip("tensorflow")


@pytest.fixture
def window(qtbot, small_config: RunConfig) -> CompareWindow:
    cfg = small_config.copy()
    cfg.train.seed = 7
    cfg.train.steps = 100
    w = CompareWindow(AppState(cfg.validate()))
    qtbot.addWidget(w)
    w.resize(900, 500)
    w.show()
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


def test_closing_stops_the_worker(qtbot, window: CompareWindow) -> None:
    window.state.config.train.steps = 100_000  # long enough to still be running at close
    window.train_both()
    worker = window.worker
    assert worker is not None and worker.isRunning()
    qtbot.waitUntil(lambda: window.sides[0].last_snapshot is not None, timeout=60000)
    window.close()
    assert not worker.isRunning()
    assert window.worker is None and not compare._ORPHANS
    r0 = window.results()[0]
    assert r0 is None or r0.status == "cancelled"


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
