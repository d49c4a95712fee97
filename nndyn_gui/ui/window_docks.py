"""The window's docks: which panel docks where, and their sizes at the first start.

Why it exists: the first layout must be readable on any screen (a 1280x720 projector
too), and Reset window layout must bring it back; the saved layout wins afterwards
(ui/settings.py). A new dock is one line in `add_docks`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDockWidget, QWidget

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
    ):
        docks[key] = _dock(win, key, title, widget, where)
    win.splitDockWidget(docks["curves"], docks["diagnostics"], Qt.Orientation.Vertical)
    return docks


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

    Below NARROW_WIDTH (a 1280x720 projector, a small laptop) three columns leave the
    curves and diagnostics ~80 px wide, unreadable: they become tabs beside the
    parameters, and the layer view keeps its width."""
    docks = win.docks
    w = max(win.width(), 1000)
    h = max(win.height(), 700)
    if win.width() < NARROW_WIDTH:
        for name in ("curves", "diagnostics"):
            win.tabifyDockWidget(docks["params"], docks[name])
        docks["params"].raise_()
        win.resizeDocks([docks["params"]], [int(w * 0.3)], Qt.Orientation.Horizontal)
        win.resizeDocks([docks["multiples"]], [int(h * 0.2)], Qt.Orientation.Vertical)
        return
    win.resizeDocks(
        [docks["params"], docks["curves"]],
        [int(w * 0.21), int(w * 0.24)],
        Qt.Orientation.Horizontal,
    )
    win.resizeDocks(
        [docks["curves"], docks["diagnostics"]],
        [int(h * 0.34), int(h * 0.46)],
        Qt.Orientation.Vertical,
    )
    win.resizeDocks([docks["multiples"]], [int(h * 0.2)], Qt.Orientation.Vertical)
