"""A layer view nobody keeps is freed when its last owner lets go, not by a later cyclic
garbage collection: collected at a random moment (inside one of its own Qt events), a
view exported and dropped crashed the process (a segfault after an export's frames)."""

from __future__ import annotations

import gc
import weakref
from typing import Any

from nndyn_gui.render.scene import FlowScene, ViewOptions
from nndyn_gui.render.view2d import LayerView2D

from . import config, moving_weights, ring_dataset


def test_a_dropped_2d_view_is_freed_at_once(qtbot: Any) -> None:
    cfg = config(width=2)
    scene = FlowScene.build(cfg, moving_weights(cfg), ring_dataset(), ViewOptions(grid_n=9))
    gc.collect()
    gc.disable()  # only reference counting may free it
    try:
        view = LayerView2D(options=scene.options)
        view.set_scene(scene)
        view.set_time(1.0)
        view.hover_at(0.0, 0.0)
        alive = weakref.ref(view)
        del view
        assert alive() is None, gc.get_referrers(alive())
    finally:
        gc.enable()


def test_a_dropped_compact_2d_view_is_freed_at_once(qtbot: Any) -> None:
    gc.collect()
    gc.disable()
    try:
        view = LayerView2D(compact=True)
        alive = weakref.ref(view)
        del view
        assert alive() is None
    finally:
        gc.enable()
