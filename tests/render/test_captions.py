"""Captions match the picture: a boundary is called exact only where it is drawn, and
All layers says whether its tiles are 3-D (and whose camera) or a 2-D projection."""

from __future__ import annotations

import pytest

from nndyn_gui.render.scene import FlowScene, ViewOptions
from nndyn_gui.render.small_multiples import SmallMultiples
from nndyn_gui.render.view2d import LayerView2D

from . import config, moving_weights, ring_dataset


@pytest.fixture(autouse=True)
def _app(qapp):
    """The views are Qt widgets: a QApplication must exist."""


def _scene(show_plane: bool = True) -> FlowScene:
    cfg = config(width=5, depth=3)
    return FlowScene.build(
        cfg, moving_weights(cfg, 5), ring_dataset(), ViewOptions(show_plane=show_plane), dims=2
    )


def test_exact_boundary_is_named_only_at_the_output_where_the_line_is_drawn(qtbot) -> None:
    v = LayerView2D()
    qtbot.addWidget(v)
    v.resize(500, 400)
    v.set_scene(_scene())
    sc = v.flow_scene()
    v.set_time(sc.frame_of_layer(1))  # a middle layer: no line
    assert not v.plane_item.isVisible()
    text = v.label_item.toPlainText()
    assert "projection of R^5" in text and "exact boundary" not in text
    v.set_time(sc.t_max)  # the output: the line is drawn, and named
    assert v.plane_item.isVisible()
    assert "exact boundary" in v.label_item.toPlainText()


def test_no_exact_boundary_when_the_plane_is_switched_off(qtbot) -> None:
    v = LayerView2D()
    qtbot.addWidget(v)
    v.resize(500, 400)
    v.set_scene(_scene(show_plane=False))
    v.set_time(v.flow_scene().t_max)
    assert not v.plane_item.isVisible()
    assert "exact boundary" not in v.label_item.toPlainText()


def test_all_layers_caption_names_the_boundary_only_with_an_output_tile(qtbot) -> None:
    sm = SmallMultiples(prefer_3d=False)
    qtbot.addWidget(sm)
    sm.resize(900, 300)
    sm.set_layers([0, 1, 2])
    sm.set_scene(_scene())
    caption = sm.caption.text()
    assert caption.startswith("2-D view: projection of R^5") and "exact" not in caption
    assert "3-D" not in caption and "camera" not in caption
    sm.set_layers([0, 1, 3])
    assert "exact boundary (drawn in the output panel)" in sm.caption.text()


@pytest.mark.gl
def test_all_layers_3d_caption_says_whose_camera(qtbot) -> None:
    from nndyn_gui.render.views import opengl_available

    if not opengl_available():
        pytest.skip("no OpenGL")
    cfg = config(width=3, depth=3)
    sm = SmallMultiples()
    qtbot.addWidget(sm)
    sm.resize(900, 300)
    sm.set_scene(FlowScene.build(cfg, moving_weights(cfg, 2), ring_dataset()))
    assert sm.is_3d()
    assert "default camera" in sm.caption.text() and "sees it" not in sm.caption.text()
    sm.set_camera((30.0, 20.0, 1.0))  # the main view is 3-D and has a camera
    assert sm.caption.text() == "3-D view, as the main 3-D view's camera sees it"
    sm.set_camera(None)  # 3-D unticked in the main view
    assert "main 3-D view's camera" not in sm.caption.text()
