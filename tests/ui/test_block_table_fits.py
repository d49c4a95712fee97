"""The per-block table on a 1600x1000 window's first layout: every column in the
Diagnostics dock's width, every title and number whole (it had a horizontal scroll bar
and its last four columns out of sight)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from PySide6.QtCore import Qt

from nndyn_gui.core.types import Snapshot
from nndyn_gui.ui.block_table import STRETCH_COLUMN, ValuesDelegate


@pytest.fixture
def app_style(qapp: Any) -> Iterator[None]:
    """The application's style sheet, as nndyn-gui loads it (its panels are wider)."""
    from importlib import resources

    qss = resources.files("nndyn_gui.resources").joinpath("style.qss")
    before = qapp.styleSheet()
    qapp.setStyleSheet(qss.read_text(encoding="utf-8"))
    yield
    qapp.setStyleSheet(before)


@pytest.fixture
def wide_window(qtbot: Any, app_style: None) -> Iterator[Any]:
    from nndyn_gui.core.io.presets import load_preset
    from nndyn_gui.ui.main_window import MainWindow
    from nndyn_gui.ui.state import AppState

    win = MainWindow(AppState(load_preset("resnet-w2-spiral")), preload_tf=False, autosave=False)
    win.no_prompt = True
    qtbot.addWidget(win)
    win.resize(1600, 1000)
    win.show()
    qtbot.waitExposed(win)
    qtbot.waitUntil(lambda: win.width() == 1600, timeout=3000)
    win.resize_docks_default()
    yield win
    win.controller.stop(wait=True)
    win.close()


@pytest.mark.parametrize("trained", [False, True])
def test_at_1600x1000_every_column_of_the_block_table_is_in_the_dock(
    qtbot: Any, wide_window: Any, trained: bool
) -> None:
    table = wide_window.diagnostics.table
    qtbot.waitUntil(lambda: table.rowCount() == 51, timeout=20_000)
    if trained:  # weights that saturate units: wider numbers in more columns
        state = wide_window.state
        w = state.weights.copy()
        w.A *= 12.0
        state.append_snapshot(Snapshot(4000, 7.14e-05, 1.0, 1.0, w))
        qtbot.waitUntil(lambda: wide_window.diagnostics.snapshot is state.shown, timeout=20_000)
        qtbot.waitUntil(lambda: table.cell_text(0, 10) != "0.0", timeout=20_000)
    qtbot.wait(100)
    assert table.isVisible()
    hdr = table.horizontalHeader()
    n = table.columnCount()
    assert n == 11
    assert sum(hdr.sectionSize(j) for j in range(n)) <= table.viewport().width()
    assert table.horizontalScrollBar().maximum() == 0
    model = table.model()
    for j in range(n):
        name = table.header_text(j)
        if table.header_shown(j) != name:  # a short title: the full name in its tooltip
            tip = model.headerData(j, Qt.Orientation.Horizontal, Qt.ItemDataRole.ToolTipRole)
            assert tip.startswith(name), (name, tip)
        if j == STRETCH_COLUMN:
            continue
        assert hdr.sectionSizeHint(j) <= hdr.sectionSize(j) + 1, table.header_shown(j)
        for i in range(table.rowCount()):
            need = table.sizeHintForIndex(model.index(i, j)).width()
            assert need <= hdr.sectionSize(j) + 1, (name, table.cell_text(i, j))
    # the singular values: whole values (the smallest kept), "…" for those left out,
    # all in the tooltip
    for i in range(table.rowCount()):
        index = model.index(i, STRETCH_COLUMN)
        full, shown = table.cell_text(i, STRETCH_COLUMN), ValuesDelegate.shown(table, index)
        assert shown == full or (shown.startswith("… ") and full.endswith(", " + shown[2:]))
        tip = model.data(index, Qt.ItemDataRole.ToolTipRole)
        assert all(v in tip for v in full.split(", ") if v != "…"), (full, tip)
