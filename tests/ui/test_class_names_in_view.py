"""Class names typed after the run is drawn reach the layer view's hover readout at once
(the points do not move, so nothing else would redraw the view)."""

from __future__ import annotations

from typing import Any

import numpy as np

from nndyn_gui.render import picking


def test_typed_class_names_reach_the_hover_readout_without_a_new_snapshot(
    qtbot: Any, window: Any, changed: Any
) -> None:
    panel, state = window.layer_panel, window.state
    qtbot.waitUntil(lambda: panel.scene is not None and not panel.builder.busy(), timeout=30_000)
    before = panel.scene
    state.set_config(changed(state.config, data__class_names="inside, outside"))
    qtbot.waitUntil(lambda: panel.scene is not before and not panel.builder.busy(), timeout=30_000)
    sc = panel.scene
    row = int(np.flatnonzero(sc.labels == 1)[0])
    first = picking.describe(sc, 0.0, "point", row).text.splitlines()[0]
    assert "· outside ·" in first, first
