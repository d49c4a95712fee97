"""Tools -> Sweeps: a results folder as a heatmap; a click on a cell opens that run."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PySide6.QtCore import Qt
from sweeps import fake_job, make_folder

from nndyn_gui.core.io.runfile import load_run
from nndyn_gui.ui.sweeps_window import SweepsWindow, cell_tooltip

FAKE = {"seeds": [0, 1], "sweep": {"model.width": [2, 3], "model.depth": [2, 4, 8]}}


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    return make_folder(tmp_path / "sweep", FAKE)


def _window(qtbot: Any, **kw: Any) -> SweepsWindow:
    win = SweepsWindow(**kw)
    qtbot.addWidget(win)
    win.resize(1000, 760)
    win.show()
    qtbot.waitExposed(win)
    return win


def test_opens_a_folder_on_a_heatmap_of_the_swept_fields(qtbot: Any, folder: Path) -> None:
    win = _window(qtbot, folder=folder)
    hm = win.current
    assert hm is not None
    # the field with most values across, the other one up, dense accuracy by default
    assert (hm.x_field, hm.y_field, hm.metric, hm.agg) == (
        "model.depth",
        "model.width",
        "dense_accuracy",
        "mean",
    )
    assert hm.x_values == [2, 4, 8] and hm.y_values == [2, 3]
    # fake runs: width / 10 + seed / 100, mean over seeds 0 and 1
    assert np.allclose(hm.values, [[0.205] * 3, [0.305] * 3])
    assert (hm.counts == 2).all()
    assert "12 runs" in win.status.text()
    win.select("model.depth", "model.width", "dense_accuracy", "min")
    assert np.allclose(win.current.values, [[0.2] * 3, [0.3] * 3])
    tip = cell_tooltip(win.current, 1, 2)
    assert "Depth T = 8, Width d = 3" in tip and "seed 1: 31.0% (finished)" in tip
    assert "min dense accuracy: 30.0%" in tip


def test_the_choices_read_in_the_panels_words_and_colours_can_span_the_cells(
    qtbot: Any, folder: Path, tmp_path: Path
) -> None:
    win = _window(qtbot, folder=folder)
    assert (win.x_combo.currentText(), win.y_combo.currentText()) == ("Depth T", "Width d")
    assert win.metric_combo.currentText() == "dense accuracy"
    texts = [win.x_combo.itemText(i) for i in range(win.x_combo.count())]
    assert "Init seed" in texts and not any("." in t for t in texts)
    assert win.colour_combo.currentText() == "0–100 % for shares"
    assert win.view.scale == "absolute"
    win.colour_combo.setCurrentIndex(win.colour_combo.findData("range"))
    assert win.view.scale == "range" and win.current is not None
    assert win.save_picture(str(tmp_path / "h.svg"))
    assert "colours: lowest to highest cell" in (tmp_path / "h.svg").read_text()
    win._fill_table(win.current.cells[0][0])
    heads = [win.table.horizontalHeaderItem(i).text() for i in range(win.table.columnCount())]
    assert heads[:3] == ["Width d", "Depth T", "Init seed"] and "dense accuracy" in heads


def test_click_on_a_cell_opens_the_run_that_stands_for_it(qtbot: Any, folder: Path) -> None:
    opened: list[str] = []
    win = _window(qtbot, folder=folder, open_run=lambda p: opened.append(p) or True)
    win.select("model.depth", "model.width", "dense_accuracy", "max")
    qtbot.mouseClick(win.view, Qt.MouseButton.LeftButton, pos=win.view.cell_center(1, 2).toPoint())
    assert len(opened) == 1
    run = load_run(opened[0])
    # the max over the seeds of (width 3, depth 8) is seed 1's run
    assert (run.config.model.width, run.config.model.depth, run.config.train.seed) == (3, 8, 1)
    assert win.view.selected == (1, 2)
    assert win.table.rowCount() == 2  # both seeds of the cell, double-click opens either
    assert "Opened 0011_width3_depth8_seed1.nndyn" in win.status.text()
    win._open_table_row(0, 0)
    assert load_run(opened[1]).config.train.seed == 0


def test_tools_menu_opens_sweeps_and_a_cell_opens_in_the_main_window(
    qtbot: Any, window: Any, folder: Path
) -> None:
    tools = next(a.menu() for a in window.menuBar().actions() if a.text() == "&Tools")
    assert window.act_sweeps in tools.actions()
    window.act_sweeps.trigger()
    win = next(w for w in window._windows if isinstance(w, SweepsWindow))
    qtbot.waitExposed(win)
    assert win.open_folder(folder)
    assert win.open_cell(0, 1)  # width 2, depth 4
    qtbot.waitUntil(lambda: not window.document.busy())  # read in the background
    expected = folder / "runs" / "0002_width2_depth4_seed0.nndyn"
    assert window.run_path == str(expected)
    assert window.state.config.model.depth == 4 and window.state.config.model.width == 2
    assert window.state.config.title == load_run(expected).config.title
    assert "Opened" in window.statusBar().currentMessage()


def test_a_folder_that_is_no_sweep_says_so(qtbot: Any, tmp_path: Path) -> None:
    win = _window(qtbot)
    assert not win.open_folder(tmp_path)
    assert "not a 'nndyn sweep' folder" in win.status.text()
    assert win.current is None and not win.save_button.isEnabled()


def test_failed_cells_and_cells_of_a_running_sweep_fill_in(qtbot: Any, tmp_path: Path) -> None:
    from nndyn_gui.core.sweep.backends import InlineBackend
    from nndyn_gui.core.sweep.runner import Sweep
    from nndyn_gui.core.sweep.spec import parse_spec

    spec = parse_spec({"seeds": [0], "sweep": {"model.width": [2, 3], "model.depth": [2, 13]}})
    cancel = threading.Event()
    with Sweep(spec, tmp_path / "s") as sweep:
        sweep.run(InlineBackend(), job=fake_job, cancel=cancel,
                  on_progress=lambda p: cancel.set())  # fmt: skip
    win = _window(qtbot, folder=tmp_path / "s")
    win.select("model.depth", "model.width", "dense_accuracy")
    assert win.status.text().startswith("1 of 4 runs")
    # the cells not run yet are drawn (grey) already: the spec says what is coming
    assert win.current is not None and win.current.x_values == [2, 13]
    assert int(win.current.totals.sum()) == 1
    with Sweep(spec, tmp_path / "s") as sweep:
        sweep.run(InlineBackend(), job=fake_job)  # the rest, as a running sweep would
    qtbot.waitUntil(lambda: win.status.text().startswith("4 runs"), timeout=10_000)
    hm = win.current
    assert hm is not None and (hm.x_field, hm.x_values) == ("model.depth", [2, 13])
    failed = 1
    assert np.isnan(hm.values[:, failed]).all() and (hm.totals[:, failed] == 1).all()
    assert "failed 2" in win.status.text()
    assert not win.open_cell(0, failed)
    assert "has no run file" in win.status.text()


def test_saves_the_picture_it_shows(qtbot: Any, folder: Path, tmp_path: Path) -> None:
    win = _window(qtbot, folder=folder)
    out = tmp_path / "h.svg"
    assert win.save_picture(str(out))
    assert "dense accuracy — mean per cell" in out.read_text()


def test_the_sweeps_window_never_loads_tensorflow(folder: Path, tmp_path: Path) -> None:
    """Opening the window, drawing and opening a run happen in the window's process,
    where TensorFlow must not be (it crashes with the OpenGL views)."""
    code = f"""
import sys, json
from PySide6.QtWidgets import QApplication
app = QApplication([])
from nndyn_gui.ui.main_window import MainWindow
win = MainWindow(preload_tf=False, restore_settings=False, autosave=False)
win.no_prompt = True
sw = win.open_sweeps()
assert sw.open_folder({str(folder)!r})
sw.grab()
assert sw.open_cell(1, 0)
while win.document.busy():  # the run is read in the background
    app.processEvents()
print(json.dumps({{"tf": "tensorflow" in sys.modules, "run": win.run_path}}))
"""
    env = {
        **dict(__import__("os").environ),
        "QT_QPA_PLATFORM": "offscreen",
        "NNDYN_SETTINGS_DIR": str(tmp_path / "settings"),
        "NNDYN_AUTOSAVE_DIR": str(tmp_path / "autosave"),
    }
    p = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120
    )
    assert p.returncode == 0, p.stderr
    out = json.loads(p.stdout.strip().splitlines()[-1])
    assert "_width3_depth2_seed" in Path(out["run"]).name  # the cell (width 3, depth 2)
    assert out["tf"] is False
