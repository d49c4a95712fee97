"""The window on a 1280x720 screen less the desktop's panel (1280x680): its first
layout (ui/window_docks.py) fits, and the controls a lecture needs are in sight.

It was 738 px tall: on its way to the final layout the docks stood four high in one
column for a moment, and Qt grew the window to that moment's minimum height."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QEvent, QObject, QRect
from PySide6.QtWidgets import QWidget

WIDTH, HEIGHT = 1280, 680


class _Heights(QObject):
    """Every height the window takes (a window taller than the screen for a moment
    jumps over its bottom edge)."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: list[int] = []

    def eventFilter(self, obj: QObject, ev: QEvent) -> bool:
        if ev.type() == QEvent.Type.Resize and isinstance(obj, QWidget):
            self.seen.append(obj.height())
        return False


def _rect(window: QWidget, widget: QWidget) -> QRect:
    return QRect(widget.mapTo(window, widget.rect().topLeft()), widget.size())


def _in_sight(window: QWidget, widget: QWidget | None) -> None:
    assert widget is not None
    name = widget.objectName() or type(widget).__name__
    assert widget.isVisible(), name
    assert window.rect().contains(_rect(window, widget)), (name, _rect(window, widget))
    assert not widget.visibleRegion().isEmpty(), name  # not clipped away by a parent


def test_at_1280x680_the_window_fits_and_its_controls_are_in_sight(qtbot: Any, window: Any) -> None:
    window.resize(WIDTH, HEIGHT)
    qtbot.waitUntil(lambda: window.height() == HEIGHT, timeout=3000)
    heights = _Heights()
    window.installEventFilter(heights)
    window.resize_docks_default()  # the first start's layout (ui/app.py main)
    qtbot.wait(200)
    window.removeEventFilter(heights)

    assert window.width() <= WIDTH and window.height() <= HEIGHT, window.size()
    assert max(heights.seen, default=HEIGHT) <= HEIGHT, heights.seen
    minimum = window.minimumSizeHint()
    assert minimum.width() <= WIDTH and minimum.height() <= HEIGHT, minimum
    window.resize(WIDTH, HEIGHT)  # a window manager's resize: nothing refuses it
    qtbot.wait(50)
    assert window.height() <= HEIGHT

    _in_sight(window, window.toolbar.widgetForAction(window.act_train))
    _in_sight(window, window.layer_panel.layer_slider)
    params = window.param_panel
    first = next(iter(params.controls.values()))  # Data set
    for field in (params.title_edit, first):
        _in_sight(window, field)
        # in the scroll area's sight, not scrolled below it
        where = QRect(field.mapTo(params.viewport(), field.rect().topLeft()), field.size())
        assert params.viewport().rect().contains(where), where
    # the training curves beside the view, not squashed to nothing
    _in_sight(window, window.curves)
    assert window.curves.height() >= 180
