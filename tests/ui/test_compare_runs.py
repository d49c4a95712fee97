"""Compare with a second run that is not a seed: width 2 against width 3, a run file."""

from __future__ import annotations

import numpy as np
import pytest

from nndyn_gui.core.config import RunConfig
from nndyn_gui.ui.compare import CompareWindow
from nndyn_gui.ui.state import AppState


@pytest.fixture
def window(qtbot, small_config: RunConfig) -> CompareWindow:
    cfg = small_config.copy()
    cfg.train.seed, cfg.train.steps = 7, 100
    w = CompareWindow(AppState(cfg.validate()))
    qtbot.addWidget(w)
    w.resize(900, 500)
    w.show()
    w.wait_idle()
    return w


def test_width_2_against_width_3_each_column_its_own_config(qtbot, window) -> None:
    """B = this config with width 3: its column is titled width 3, its net has width 3,
    the top says what differs; after training both columns open at the output and the
    verdict names the runs by their width, never "seed A"."""
    window.choose_second("change", "model.width=3")
    window.wait_idle()
    assert window.config_of(1).model.width == 3 and window.config_of(0).model.width == 2
    assert "width 3" in window.sides[1].header.text()
    assert "width 2" in window.sides[0].header.text()
    assert window.weights(1).A.shape[1:] == (3, 3) and window.weights(0).A.shape[1:] == (2, 2)
    assert "width 2 vs width 3" in window.status_label.text()
    assert window.windowTitle().startswith("Compare — Two runs:")
    with qtbot.waitSignal(window.trainingFinished, timeout=90000):
        window.train_button.click()
    window.wait_idle()
    qtbot.waitUntil(lambda: all(s.topology_snap is s.target for s in window.sides), timeout=30000)
    r0, r1 = window.results()
    assert r0.final.weights.A.shape[1:] == (2, 2) and r1.final.weights.A.shape[1:] == (3, 3)
    assert window.slider.value() == window.slider.maximum()  # at the output, not layer 0
    assert "output" in window.layer_label.text()
    text = window.status_label.text()
    assert text.startswith("Done. At step 100") and "seed A" not in text
    assert "width 2" in text and "width 3" in text
    labels = window.labels()
    assert "width 3" in labels[1] and "at step 100" in labels[1]


def test_a_run_file_is_shown_as_saved_and_only_a_trains(qtbot, window, tmp_path) -> None:
    from nndyn_gui.core.datasets import make_dataset
    from nndyn_gui.core.io.runfile import save_run
    from nndyn_gui.core.net.initial_weights import initial_weights
    from nndyn_gui.core.types import Run, Snapshot

    cfg = window.config_of(0).with_set("model.kind=mlp")
    ds = make_dataset(cfg.data)
    snaps = [Snapshot(s, 0.5, 0.8, 0.75, initial_weights(cfg.model, s + 1)) for s in (0, 50, 100)]
    path = tmp_path / "mlp.nndyn"
    save_run(Run(cfg, ds, snaps, "finished"), str(path))
    window.choose_second("file", str(path))
    window.wait_idle()
    assert window.train_button.text() == "Train A"
    assert window.sides[1].result_data is not None  # shown trained, as saved
    assert np.allclose(window.weights(1).A, snaps[-1].weights.A)
    assert "MLP" in window.status_label.text() or "mlp" in window.status_label.text()
    with qtbot.waitSignal(window.trainingFinished, timeout=90000):
        window.train_button.click()
    window.wait_idle()
    r0, r1 = window.results()
    assert r0 is not None and r0.final.step == 100
    assert r1 is not None and [s.step for s in r1.snapshots] == [0, 50, 100]  # not retrained
    assert window.snapshot_slider.isEnabled() and window.export_button.isEnabled()
    assert "ResNet" in window.status_label.text() and "MLP" in window.status_label.text()


def test_a_broken_choice_says_why_and_keeps_the_window(qtbot, window) -> None:
    window.choose_second("change", "model.width=999")
    window.wait_idle()
    assert window.status_label.text().startswith("B: ")
    assert not window.train_button.isEnabled()
    window.choose_second("seed", seed=3)
    window.wait_idle()
    assert window.seeds() == (7, 3) and window.train_button.isEnabled()
