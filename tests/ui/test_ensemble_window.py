"""Tools → Ensemble: several init seeds of the current config trained together, their
boundaries on one map, their numbers in one table, any of them in the main window."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PySide6.QtGui import QImage

from nndyn_gui.core.types import Snapshot, TrainResult
from nndyn_gui.render.ensemble_picture import MEMBER_COLOURS
from nndyn_gui.ui import ensemble_window
from nndyn_gui.ui.ensemble_window import EnsembleWindow
from nndyn_gui.ui.state import AppState


def _colour_pixels(img: QImage, rgb: tuple[int, int, int], tol: int = 30) -> int:
    img = img.convertToFormat(QImage.Format.Format_RGB32)
    a = np.frombuffer(img.constBits(), np.uint8).reshape(img.height(), img.bytesPerLine() // 4, 4)
    bgr = a[:, : img.width(), :3].astype(int)
    return int((np.abs(bgr - np.array(rgb[::-1])).max(axis=-1) <= tol).sum())


def _open(qtbot: Any, window: Any) -> EnsembleWindow:
    tools = next(a.menu() for a in window.menuBar().actions() if a.text() == "&Tools")
    assert window.menus.ensemble in tools.actions()
    window.menus.ensemble.trigger()
    ens = next(w for w in window._windows if isinstance(w, EnsembleWindow))
    qtbot.waitExposed(ens)
    return ens


@pytest.mark.slow  # starts a training process (TensorFlow) and compiles: ~20 s
def test_three_members_train_then_one_opens_in_the_main_window(
    qtbot: Any, window: Any, tmp_path: Path
) -> None:
    """3 seeds train with a progress bar; the map draws 3 lines, the table 3 rows and
    their spread, each naming its step; the caption counts them; a double-click puts
    that seed's full run in the main window; the PNG holds the lines."""
    seed = window.state.config.train.seed
    ens = _open(qtbot, window)
    ens.count.setValue(3)
    assert ens.train_button.text() == "Train 3 members"
    with qtbot.waitSignal(ens.measured, timeout=180_000):
        ens.train_button.click()
        assert ens.cancel_button.isEnabled() and not ens.train_button.isEnabled()
    assert ens.progress.value() == ens.progress.maximum()
    assert ens.train_button.isEnabled() and not ens.cancel_button.isEnabled()
    table = ens.table
    assert table.rowCount() == 6
    col = [table.item(r, 0).text() for r in range(6)]
    assert col == [str(seed), str(seed + 1), str(seed + 2), "min", "median", "max"]
    assert all(table.item(r, 1).text() == "200" for r in range(6))  # the step of each number
    assert {table.item(r, 4).text() for r in range(3)} <= {"0", "1", "-1", "—"}  # ring: winding
    pic = ens.map_view.picture
    assert pic is not None and pic.emap.members == 3
    assert all(len(b) for b in pic.emap.boundaries)
    assert list(pic.labels) == [f"seed {seed + i}" for i in range(3)]
    caption = ens.caption.text()
    assert caption.startswith(f"3 initialisations (init seeds {seed}–{seed + 2}) of ResNet")
    assert "(step 200)" in caption and "winds around the centre's image in" in caption
    shown = ens.map_view.grab().toImage()
    for i in range(3):
        assert _colour_pixels(shown, MEMBER_COLOURS[i]) > 60, f"no line for member {i}"

    table.cellDoubleClicked.emit(1, 0)
    qtbot.waitUntil(lambda: window.state.run_config.train.seed == seed + 1, timeout=10_000)
    member = ens.results[1]
    assert [s.step for s in window.state.snapshots] == [s.step for s in member.snapshots]
    assert np.array_equal(window.state.snapshots[-1].weights.A, member.final.weights.A)
    assert window.param_panel.controls["train.seed"].value() == seed + 1
    assert window.state.status == "finished" and window.run_path == ""
    assert "is now in the main window" in ens.status_label.text()

    out = ens.export_png(tmp_path / "ensemble.png", 900, 640)
    assert out is not None and out.exists()
    img = QImage(str(out))
    assert (img.width(), img.height()) == (900, 640)
    assert sum(_colour_pixels(img, MEMBER_COLOURS[i]) for i in range(3)) > 200


def _fake(cfg: Any, seed: int, acc: float, status: str = "finished") -> TrainResult:
    from nndyn_gui.core.net.initial_weights import initial_weights

    snaps = [Snapshot(0, 0.7, 0.5, 0.5, initial_weights(cfg.model, seed))]
    if status != "diverged":
        snaps.append(Snapshot(200, 0.3, acc, acc - 0.05, initial_weights(cfg.model, seed + 50)))
    return TrainResult(status, snaps if status != "diverged" else snaps[:1], status)


def test_a_cancelled_or_diverged_member_is_shown_as_it_ended(
    qtbot: Any, small_config: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Results as a cancelled ensemble hands them over: each member at its own last
    snapshot, the caption says which ended how; measured off the GUI thread; no engine
    needed."""
    threads: list[bool] = []
    real = ensemble_window.analyse

    def spy(*args: Any) -> Any:
        threads.append(threading.current_thread() is threading.main_thread())
        return real(*args)

    monkeypatch.setattr(ensemble_window, "analyse", spy)
    w = EnsembleWindow(AppState(small_config))
    qtbot.addWidget(w)
    w.count.setValue(2)
    from nndyn_gui.ui.ensemble_window import member_configs

    w.configs = member_configs(small_config, 2)
    w.results = [_fake(small_config, 0, 0.9), _fake(small_config, 1, 0.0, "diverged")]
    with qtbot.waitSignal(w.measured, timeout=30_000):
        w._on_finished(TrainResult("finished", [], "2 members: 1 finished, 1 diverged."))
    assert threads == [False]  # measured and mapped in the background
    assert w.table.item(0, 1).text() == "200" and w.table.item(1, 1).text() == "0"
    assert w.table.item(1, 6).text() == "diverged"
    assert "(steps 0–200)" in w.caption.text() and w.caption.text().endswith("(1 diverged).")
    assert w.export_button.isEnabled()
    w.table.select_member(1)
    assert w.show_button.isEnabled()  # it has its step-0 snapshot
    w.shutdown()


def test_nothing_to_export_before_training_says_so(
    qtbot: Any, small_config: Any, tmp_path: Path
) -> None:
    w = EnsembleWindow(AppState(small_config))
    qtbot.addWidget(w)
    assert not w.export_button.isEnabled() and not w.show_button.isEnabled()
    assert w.export_png(tmp_path / "x.png") is None
    assert "Train the ensemble first" in w.status_label.text()
    assert not (tmp_path / "x.png").exists()
    w.shutdown()


def test_a_member_replaces_the_shown_run_which_can_be_brought_back(window: Any) -> None:
    """Show in main window puts the trained run there aside (Run → Bring back), never
    loses it; the member arrives as a new, unsaved run."""
    from nndyn_gui.core.types import Run

    state = window.state
    seed = state.config.train.seed
    state.replace_snapshots(_fake(state.config, seed, 0.8).snapshots)
    member = state.config.copy()
    member.train.seed = seed + 3
    result = _fake(member, seed + 3, 0.95)
    window.tools.show_ensemble_member(Run(member, state.dataset, result.snapshots, "finished"))
    assert state.run_config.train.seed == seed + 3 and state.dirty
    assert state.snapshots[-1].train_acc == 0.95
    kept = window.undo.available()
    assert kept is not None and "seed " + str(seed + 3) in kept.reason
    assert window.undo.undo()
    assert state.run_config.train.seed == seed and state.snapshots[-1].train_acc == 0.8


def test_a_failure_is_said_in_plain_words_and_logged(
    qtbot: Any, small_config: Any, caplog: pytest.LogCaptureFixture
) -> None:
    w = EnsembleWindow(AppState(small_config))
    qtbot.addWidget(w)
    w._set_running(True)
    w.engine.failed.emit("TensorFlow cannot be loaded (ImportError: no module)", "Traceback …")
    assert w.status_label.text() == (
        "Training failed: TensorFlow cannot be loaded (ImportError: no module)"
    )
    assert w.train_button.isEnabled() and not w.cancel_button.isEnabled()
    assert any("ensemble training failed" in r.getMessage() for r in caplog.records)
    w.engine.workerLost.emit("The training process stopped unexpectedly: it was killed.", 7)
    assert "stopped unexpectedly" in w.status_label.text()
    w.shutdown()
