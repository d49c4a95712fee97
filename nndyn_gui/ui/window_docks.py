"""The window's docks: which panel docks where, and their sizes at the first start.

Why it exists: the first layout must be readable on any screen (a 1280x720 projector
too), and Reset window layout must bring it back; the saved layout wins afterwards
(ui/settings.py). A new dock is one line in `add_docks`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDockWidget, QLayout, QWidget

if TYPE_CHECKING:
    from nndyn_gui.ui.main_window import MainWindow

NARROW_WIDTH = 1500  # a first window narrower than this tabs the side docks (see below)


def add_docks(win: MainWindow) -> dict[str, QDockWidget]:
    """Dock the window's side panels; returns them by key (the window's `docks`)."""
    docks: dict[str, QDockWidget] = {}
    area = Qt.DockWidgetArea
    for key, title, widget, where in (
        ("params", "Parameters", win.param_panel, area.LeftDockWidgetArea),
        ("curves", "Training curves", win.curves, area.RightDockWidgetArea),
        ("diagnostics", "Diagnostics", win.diagnostics, area.RightDockWidgetArea),
        ("multiples", "All layers", win.multiples, area.BottomDockWidgetArea),
        ("inputmap", "Input map", win.input_map, area.RightDockWidgetArea),
    ):
        docks[key] = _dock(win, key, title, widget, where)
    win.splitDockWidget(docks["curves"], docks["diagnostics"], Qt.Orientation.Vertical)
    # a tab behind the parameters until `resize_default` knows the window's size: in the
    # narrow right column its tab bar would widen the window past a 1280 px screen
    win.tabifyDockWidget(docks["params"], docks["inputmap"])
    docks["params"].raise_()
    return docks


def _tab_input_map(win: MainWindow, docks: dict[str, QDockWidget]) -> None:
    """The input map (wide windows): a tab beside the diagnostics (which stay in
    front), one click away; pulled out it floats as a large window of its own, e.g. on
    a second screen or projector while training."""
    win.tabifyDockWidget(docks["diagnostics"], docks["inputmap"])
    docks["diagnostics"].raise_()


def _dock(
    win: MainWindow, key: str, title: str, widget: QWidget, area: Qt.DockWidgetArea
) -> QDockWidget:
    dock = QDockWidget(title, win)
    dock.setObjectName(f"dock_{key}")
    dock.setWidget(widget)
    dock.setFeatures(
        QDockWidget.DockWidgetFeature.DockWidgetMovable
        | QDockWidget.DockWidgetFeature.DockWidgetFloatable
        | QDockWidget.DockWidgetFeature.DockWidgetClosable
    )
    win.addDockWidget(area, dock)
    return dock


def resize_default(win: MainWindow) -> None:
    """Sensible dock sizes for the first start (the saved layout wins afterwards).

    - Wide (>= NARROW_WIDTH, e.g. 1920x1080): the side docks run the window's full
      height (the layer tiles sit under the view only), so the parameters show every
      group without scrolling; parameters left; curves above the
      diagnostics right, wide enough for the per-block table's every column
      (`table_width`) and tall enough for a dozen of its rows; the input map a tab
      beside the diagnostics.
    - Narrow (a 1280x720 projector, a small laptop): three columns would leave the
      curves ~80 px wide. The curves go under the parameters, beside the view, where
      they can be watched while turning a knob; the diagnostics are a tab beside the
      parameters, and so is the input map; the layer tiles keep the window's full width.
    """
    layout = win.layout()
    assert layout is not None  # a QMainWindow always has its own
    # the docks pass through states on their way (four stacked in one column for a
    # moment) whose minimum height is taller than a 720 px screen; Qt grows the window
    # to each and never shrinks it back. Only the final layout's minimum counts.
    layout.setSizeConstraint(QLayout.SizeConstraint.SetNoConstraint)
    try:
        _arrange(win)
    finally:
        layout.setSizeConstraint(QLayout.SizeConstraint.SetDefaultConstraint)


def _arrange(win: MainWindow) -> None:
    docks = win.docks
    area = Qt.DockWidgetArea
    narrow = win.width() < NARROW_WIDTH
    # wide: the side docks run the full height; narrow: the tiles keep the full width
    for corner, side in (
        (Qt.Corner.BottomLeftCorner, area.LeftDockWidgetArea),
        (Qt.Corner.BottomRightCorner, area.RightDockWidgetArea),
    ):
        win.setCorner(corner, area.BottomDockWidgetArea if narrow else side)
    w = max(win.width(), 1000)
    h = max(win.height(), 600)
    if narrow:
        win.addDockWidget(area.LeftDockWidgetArea, docks["params"])
        win.splitDockWidget(docks["params"], docks["curves"], Qt.Orientation.Vertical)
        win.tabifyDockWidget(docks["params"], docks["diagnostics"])
        win.tabifyDockWidget(docks["diagnostics"], docks["inputmap"])
        docks["params"].raise_()
        win.resizeDocks([docks["params"]], [int(w * 0.31)], Qt.Orientation.Horizontal)
        win.resizeDocks(
            [docks["params"], docks["curves"]],
            # the curves' two plots need ~300 px (in a dock under ~260 px, as at
            # 1280x680, the accuracy legend runs over the plot's top); the parameters
            # scroll
            [int(h * 0.36), int(h * 0.5)],
            Qt.Orientation.Vertical,
        )
        win.resizeDocks([docks["multiples"]], [int(h * 0.2)], Qt.Orientation.Vertical)
        return
    win.addDockWidget(area.LeftDockWidgetArea, docks["params"])
    win.addDockWidget(area.RightDockWidgetArea, docks["curves"])
    win.splitDockWidget(docks["curves"], docks["diagnostics"], Qt.Orientation.Vertical)
    _tab_input_map(win, docks)
    right = min(int(w * 0.42), table_width(win) + 40)
    win.resizeDocks(
        [docks["params"], docks["curves"]],
        [int(w * 0.21), right],
        Qt.Orientation.Horizontal,
    )
    win.resizeDocks(
        [docks["curves"], docks["diagnostics"]],
        [int(h * 0.3), int(h * 0.7)],
        Qt.Orientation.Vertical,
    )
    win.resizeDocks([docks["multiples"]], [int(h * 0.2)], Qt.Orientation.Vertical)


def table_width(win: MainWindow) -> int:
    """Width the diagnostics' per-block table wants for all its columns."""
    table = getattr(win.diagnostics, "table", None)
    if table is None or not hasattr(table, "columns_width_at_most"):
        return int(win.width() * 0.3)
    return int(max(table.columns_width(), table.columns_width_at_most()))
