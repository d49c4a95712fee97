"""Layer time (ui/playback.Playback): whole-layer steps and holding the flow at its input."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtWidgets import QWidget

from nndyn_gui.core.config import RunConfig
from nndyn_gui.core.datasets import make_dataset
from nndyn_gui.core.net.initial_weights import initial_weights
from nndyn_gui.render.scene import FlowScene
from nndyn_gui.ui.playback import SLIDER_RES, Playback


@pytest.fixture
def playback(qtbot, small_config: RunConfig) -> Iterator[Playback]:
    cfg = small_config.validate()
    w = initial_weights(cfg.model, cfg.train.seed, cfg.data.classes)
    scene = FlowScene.build(cfg, w, make_dataset(cfg.data), max_points=200)
    owner = QWidget()  # the clock's parent, alive for the whole test
    qtbot.addWidget(owner)
    pb = Playback(lambda: 1.0, owner)
    pb.set_scene(scene)
    yield pb
    pb.stop()


def test_whole_layer_steps_stop_play_and_stay_in_the_flow(playback: Playback) -> None:
    scene = playback.scene
    assert scene is not None
    fpl = scene.frames_per_layer
    playback.set_time(0.4 * fpl)  # between the input and layer 1
    playback.play(True)
    playback.step_layer(+1)
    assert not playback.is_playing() and playback.time() == fpl
    assert playback.layer_at(playback.time()) == 1.0
    playback.step_layer(-1)
    playback.step_layer(-1)
    assert playback.time() == 0.0  # never before the input
    playback.show_layer(scene.depth)
    playback.step_layer(+1)
    assert playback.time() == scene.t_max  # never past the output
    playback.show_layer(2)
    assert playback.slider.value() == round(scene.frame_of_layer(2) * SLIDER_RES)


def test_held_at_the_input_nothing_moves_the_flow_until_released(playback: Playback) -> None:
    playback.show_last_layer()
    playback.play(True)
    playback.hold_at_input(True)  # Draw mode: clicks edit the data at the input layer
    assert not playback.is_playing() and playback.time() == 0.0
    assert not playback.slider.isEnabled() and not playback.play_button.isEnabled()
    playback.set_time(2.0)
    playback.show_last_layer()
    assert playback.time() == 0.0 and playback.slider.value() == 0
    playback.hold_at_input(False)
    assert playback.slider.isEnabled() and playback.play_button.isEnabled()
    playback.show_last_layer()
    assert playback.time() == playback.t_max() > 0
