"""The first layout on a 1920x1080 and a 1280x720 screen (ui/window_docks.py): the
per-block table whole, the parameters without scrolling, the curves beside the view,
no caption under 12 px. Under X (scripts/with-x.sh ... -m gl): real fonts and docks."""

from __future__ import annotations

from typing import Any

import pytest
from PySide6.QtCore import QRect
from PySide6.QtGui import QFont, QFontInfo
from PySide6.QtWidgets import (
    QAbstractButton,
    QComboBox,
    QGroupBox,
    QHeaderView,
    QLabel,
    QLineEdit,
    QTableView,
    QWidget,
)

pytestmark = pytest.mark.gl


def _first_start(qtbot: Any, window: Any, w: int, h: int) -> None:
    screen = window.screen().geometry()
    if screen.width() < w or screen.height() < h:
        pytest.skip(f"needs a screen of at least {w}x{h}, not {screen}")
    window.resize(w, h)
    qtbot.waitUntil(lambda: window.size().width() == w, timeout=3000)
    window.resize_docks_default()
    qtbot.wait(100)


def _rect(window: Any, widget: QWidget) -> QRect:
    return QRect(widget.mapTo(window, widget.rect().topLeft()), widget.size())


def test_at_1080p_the_table_is_whole_and_the_parameters_need_no_scrolling(
    qtbot: Any, window: Any, changed: Any
) -> None:
    window.state.set_config(changed(window.state.config, model__depth=16, model__width=3))
    _first_start(qtbot, window, 1920, 1080)
    table = window.diagnostics.table
    qtbot.waitUntil(lambda: table.rowCount() == 16, timeout=20_000)
    qtbot.wait(100)
    # every column whole: no horizontal scrolling, no cell or title wider than its column
    assert table.horizontalScrollBar().maximum() == 0
    hdr = table.horizontalHeader()
    for j in range(table.columnCount()):
        assert hdr.sectionSizeHint(j) <= hdr.sectionSize(j) + 1, table.header_text(j)
        for i in range(table.rowCount()):
            need = table.sizeHintForIndex(table.model().index(i, j)).width()
            assert need <= hdr.sectionSize(j) + 1, (table.header_text(j), table.cell_text(i, j))
    assert sum(hdr.sectionSize(j) for j in range(table.columnCount())) <= (table.viewport().width())
    # a dozen rows in sight, not 2-4
    assert table.viewport().height() >= 12 * table.verticalHeader().defaultSectionSize()
    # the parameters: every group, Training and Stop when included, without scrolling
    params = window.param_panel
    assert params.verticalScrollBar().maximum() == 0
    for box in params.widget().findChildren(QGroupBox):
        r = QRect(box.mapTo(params.viewport(), box.rect().topLeft()), box.size())
        assert params.viewport().rect().contains(r), box.title()
    # the layer view keeps a useful size
    assert window.layer_panel.view.width() >= 600 and window.layer_panel.view.height() >= 600


def test_at_720p_the_curves_are_beside_the_view_not_a_tab(qtbot: Any, window: Any) -> None:
    _first_start(qtbot, window, 1280, 720)
    curves = window.docks["curves"]
    assert curves.isVisible() and not window.tabifiedDockWidgets(curves)
    assert not curves.visibleRegion().isEmpty()
    params = window.docks["params"]
    assert params.isVisible() and not params.visibleRegion().isEmpty()  # both at once
    view = _rect(window, window.layer_panel)
    plot = _rect(window, window.curves)
    assert not plot.intersects(view)
    assert plot.width() >= 300 and plot.height() >= 180
    assert view.width() >= 800


def _too_small(window: Any) -> list[str]:
    """Visible texts of the window in fonts under 12 px."""
    small = []
    kinds = (QLabel, QAbstractButton, QGroupBox, QHeaderView, QComboBox, QLineEdit, QTableView)
    for w in window.findChildren(QWidget):
        if isinstance(w, kinds) and w.isVisible() and w.visibleRegion().boundingRect().height():
            px = QFontInfo(w.font()).pixelSize()
            if px < 12:
                small.append(f"{type(w).__name__} {w.objectName()} {px}px")
    import pyqtgraph as pg

    for plot in window.findChildren(pg.PlotWidget):
        if not plot.isVisible():
            continue
        pi = plot.getPlotItem()
        for name in ("left", "bottom"):
            ax = pi.getAxis(name)
            if not ax.isVisible():
                continue
            font = ax.style.get("tickFont") or QFont()
            if QFontInfo(font).pixelSize() < 12:
                small.append(f"ticks of {type(plot).__name__} {QFontInfo(font).pixelSize()}px")
            size = str(ax.labelStyle.get("font-size", "")).strip()
            if size.endswith("px") and float(size[:-2]) < 12:
                small.append(f"axis name of {type(plot).__name__} {size}")
            if size.endswith("pt") and float(size[:-2]) * 96 / 72 < 12:
                small.append(f"axis name of {type(plot).__name__} {size}")
    return small


@pytest.mark.parametrize("size", [(1920, 1080), (1280, 720)])
def test_every_caption_is_at_least_12_px(
    qtbot: Any, window: Any, changed: Any, size: tuple[int, int]
) -> None:
    window.state.set_config(changed(window.state.config, model__depth=6, model__width=2))
    _first_start(qtbot, window, *size)
    window.layer_panel.set_options(window.layer_panel.options().copy(show_field=True))
    window.layer_panel.wait_idle()
    qtbot.waitUntil(lambda: window.diagnostics.table.rowCount() == 6, timeout=20_000)
    assert _too_small(window) == []
    view = window.layer_panel.view
    html = view.label_item.toHtml()
    assert "font-size:11px" not in html and view.label_item.font().pixelSize() >= 12


def test_at_1600x1000_the_table_shows_every_column_whole_in_two_tabs(
    qtbot: Any, window: Any, changed: Any
) -> None:
    """The right dock is too narrow for all eleven columns: two tabs, each with k and half
    of them, every one whole, none behind a scroll bar; the view keeps its size."""
    window.state.set_config(changed(window.state.config, model__depth=16, model__width=3))
    _first_start(qtbot, window, 1600, 1000)
    table, tabs = window.diagnostics.table, window.diagnostics.table_groups
    qtbot.waitUntil(lambda: table.rowCount() == 16, timeout=20_000)
    qtbot.wait(100)
    assert tabs.isVisible() and tabs.count() == 2
    hdr = table.horizontalHeader()
    seen: set[int] = set()
    for tab in range(tabs.count()):
        tabs.setCurrentIndex(tab)
        qtbot.wait(50)
        assert table.horizontalScrollBar().maximum() == 0, tabs.tabText(tab)
        shown = [j for j in range(table.columnCount()) if not table.isColumnHidden(j)]
        assert 0 in shown and len(shown) >= 5
        for j in shown:
            assert hdr.sectionSizeHint(j) <= hdr.sectionSize(j) + 1, table.header_text(j)
            for i in range(table.rowCount()):
                need = table.sizeHintForIndex(table.model().index(i, j)).width()
                assert need <= hdr.sectionSize(j) + 1, (table.header_text(j), table.cell_text(i, j))
        seen |= set(shown)
    assert seen == set(range(table.columnCount()))  # no column only behind a scroll bar
    assert window.layer_panel.view.width() >= 600
