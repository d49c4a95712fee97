"""All layers (small multiples): readable tiles that fit the panel; a click shows the layer."""

from __future__ import annotations

from typing import Any

import pytest
from PySide6.QtCore import QPoint, QRect, Qt

from nndyn_gui.render.small_multiples import SmallMultiples


def _shown(window: Any, w: int, h: int) -> Any:
    from nndyn_gui.render.views import MAX_PANELS  # noqa: F401 - documents the cap

    panel = window.multiples
    window.docks["multiples"].setFloating(True)
    window.docks["multiples"].resize(w, h)
    window.layer_panel.wait_idle()  # the tiles show the snapshot the main view has drawn
    panel.refresh_now()
    sm: SmallMultiples = panel.multiples
    sm._on_resized()
    while sm.updating():
        sm._step()
    sm.layout().activate()
    return sm


@pytest.mark.parametrize(("w", "h"), [(1400, 260), (700, 420), (520, 170)])
def test_tiles_fill_the_panel_and_none_is_cut_off(qtbot: Any, window: Any, changed: Any, w, h):
    window.state.set_config(changed(window.state.config, model__depth=12))
    sm = _shown(window, w, h)
    qtbot.wait(50)  # the dock's layout settles
    tiles = sm.panels
    assert 3 <= len(tiles) <= 8
    inside = QRect(QPoint(0, 0), sm.size())
    for t in tiles:
        r = QRect(t.mapTo(sm, QPoint(0, 0)), t.size())
        assert inside.contains(r), (r, inside)  # no row cut off at the bottom
    sides = [min(t.width(), t.height()) for t in tiles]
    if len(tiles) > 3:
        assert min(sides) >= SmallMultiples.MIN_TILE - 4  # readable, else fewer tiles
    rows = {t.mapTo(sm, QPoint(0, 0)).y() for t in tiles}
    cols = len(tiles) // len(rows) + (1 if len(tiles) % len(rows) else 0)
    assert len(rows) * cols - len(tiles) < cols  # no empty row, at most a partial last one
    assert sm.layers()[0] == 0 and sm.layers()[-1] == 12  # input and output always shown


def test_a_click_on_a_tile_shows_that_layer(qtbot: Any, window: Any, changed: Any) -> None:
    window.state.set_config(changed(window.state.config, model__depth=6))
    window.layer_panel.wait_idle()
    sm = _shown(window, 1200, 240)
    window.layer_panel.set_time(0.0)
    tile = sm.panels[3]
    k = tile.layer
    assert k == sm.layers()[3] and k > 0
    target = tile.viewport() if hasattr(tile, "viewport") else tile
    qtbot.mouseClick(target, Qt.MouseButton.LeftButton, pos=target.rect().center())
    scene = window.layer_panel.scene
    assert window.layer_panel.time() == scene.frame_of_layer(k)


def test_a_camera_drag_redraws_the_tiles_once_when_it_comes_to_rest(
    qtbot: Any, window: Any
) -> None:
    """Each 3-D tile redraw costs a GL frame: forty drag events must not be forty redraws,
    and the tiles must end on the camera where the drag stopped."""
    panel = window.multiples
    window.docks["multiples"].setFloating(True)
    window.docks["multiples"].show()
    qtbot.waitUntil(panel.isVisible)
    seen: list[Any] = []
    panel.multiples.set_camera = seen.append  # type: ignore[method-assign]
    for az in range(40):
        panel.set_camera((float(az), 20.0, 1.0))
    assert seen == []  # still dragging: nothing redrawn yet
    qtbot.waitUntil(lambda: len(seen) == 1, timeout=2000)
    qtbot.wait(300)
    assert seen == [(39.0, 20.0, 1.0)]
