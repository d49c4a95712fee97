"""The per-block table on a 1600x1000 window's first layout: every column in the
Diagnostics dock's width, every title and number whole (it had a horizontal scroll bar
and its last four columns out of sight)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from PySide6.QtCore import Qt

from nndyn_gui.ui.block_table import STRETCH_COLUMN, ValuesDelegate


@pytest.fixture
def wide_window(qtbot: Any) -> Iterator[Any]:
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


def test_at_1600x1000_every_column_of_the_block_table_is_in_the_dock(
    qtbot: Any, wide_window: Any
) -> None:
    table = wide_window.diagnostics.table
    qtbot.waitUntil(lambda: table.rowCount() == 51, timeout=20_000)
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
    # the singular values: whole values, "…" for those left out, all in the tooltip
    for i in range(table.rowCount()):
        index = model.index(i, STRETCH_COLUMN)
        full, shown = table.cell_text(i, STRETCH_COLUMN), ValuesDelegate.shown(table, index)
        assert shown == full or (shown.endswith(", …") and full.startswith(shown[:-3] + ", "))
        tip = model.data(index, Qt.ItemDataRole.ToolTipRole)
        assert all(v in tip for v in full.removesuffix(" …").split(", ")), (full, tip)
