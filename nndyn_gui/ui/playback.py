"""Layer time and its controls: the layer slider, Play / Pause, Repeat and the speed menu.

Why it exists: the main view and Compare both walk a flow through its layers; one clock
plays them, so "one pass at 1×" means the same in both and neither keeps its own timer.
The slider counts in 1/SLIDER_RES of a frame, so dragging and Play glide between layers
(the scene interpolates linearly). Play follows a wall clock, not timer ticks: a busy
window drops frames but never plays slower. Whole layers (a tile clicked, the arrow keys
of a talk) and holding the flow at its input (Draw mode) are moves of the same clock.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
from PySide6.QtCore import QElapsedTimer, QObject, Qt, QTimer, Signal, Slot
from PySide6.QtWidgets import QComboBox, QLabel, QSlider, QToolButton

from nndyn_gui.render.scene import FlowScene

SLIDER_RES = 20  # slider positions per frame
PLAY_FPS = 30
PLAY_SPEEDS = (0.25, 0.5, 1.0, 2.0, 4.0)  # the speed menu next to Play
REPEAT_HOLD_S = 0.6  # Repeat: the last layer (with its plane) stays this long, then again


class Playback(QObject):
    """The layer time t (frames, fractional) of a flow, and the widgets that move it.

    `seconds_per_pass()`: how long one pass through all layers takes at 1×.
    `timeChanged(t)` follows every change (slider, Play, `set_time`); `playTick(t)` comes
    before each played frame (the main view moves its camera along saved views then).
    """

    timeChanged = Signal(float)
    playTick = Signal(float)

    def __init__(self, seconds_per_pass: Callable[[], float], parent: QObject) -> None:
        super().__init__(parent)
        self._seconds_per_pass = seconds_per_pass
        self.scene: FlowScene | None = None
        self._t = 0.0
        self._held = False  # at the input whatever time is asked for (hold_at_input)
        self._speed = 1.0
        self._play_from = 0.0
        self._clock = QElapsedTimer()
        self._timer = QTimer(self)
        self._timer.setInterval(round(1000 / PLAY_FPS))
        self._timer.timeout.connect(self._on_tick)
        #: "layer 2.5 / 9" for the scene at t; callers may set their own wording
        self.label_text: Callable[[FlowScene, float], str] = _layer_text

        self.play_button = QToolButton()
        self.play_button.setText("▶ Play")
        self.play_button.setCheckable(True)
        self.play_button.setToolTip("Animate x(t) through the layers (Space)")
        self.play_button.setMinimumWidth(72)
        self.play_button.toggled.connect(self._on_play_toggled)
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setToolTip("Layer t (between layers the points are interpolated)")
        self.slider.valueChanged.connect(self._on_slider)
        self.label = QLabel()
        self.repeat_button = QToolButton()
        self.repeat_button.setText("⟲ Repeat")
        self.repeat_button.setCheckable(True)
        self.repeat_button.setToolTip("Play again from the input after the last layer")
        self.speed_combo = QComboBox()
        for v in PLAY_SPEEDS:
            self.speed_combo.addItem(f"{v:g}×", v)
        self.speed_combo.setCurrentIndex(PLAY_SPEEDS.index(1.0))
        self.speed_combo.setToolTip("Play speed")
        self.speed_combo.currentIndexChanged.connect(self._on_speed)

    # ------------------------------------------------------------------ time
    def time(self) -> float:
        return self._t

    def t_max(self) -> float:
        return self.scene.t_max if self.scene is not None else 0.0

    def set_time(self, t: float) -> None:
        """Show layer time t (clamped to the flow; not finite, or held: the input); the
        slider follows."""
        t = min(max(float(t), 0.0), self.t_max()) if math.isfinite(t) else 0.0
        t = 0.0 if self._held else t
        self._t = t
        self.slider.blockSignals(True)
        self.slider.setValue(round(t * SLIDER_RES))
        self.slider.blockSignals(False)
        self._update_label()
        self.timeChanged.emit(t)

    def set_scene(self, scene: FlowScene) -> None:
        """The flow whose layers the slider spans (its time is left to the caller)."""
        self.scene = scene
        self.slider.blockSignals(True)
        self.slider.setRange(0, max(1, round(scene.t_max * SLIDER_RES)))
        self.slider.setPageStep(SLIDER_RES)
        self.slider.setSingleStep(max(1, SLIDER_RES // 4))
        self.slider.blockSignals(False)
        self._update_label()

    def layer_at(self, t: float) -> float:
        """The layer number (fractional) at layer time t of the scene shown."""
        return t / max(1, self.scene.frames_per_layer) if self.scene else 0.0

    def show_last_layer(self) -> None:
        self.set_time(self.t_max())

    def show_layer(self, k: int) -> None:
        """Show the output of layer k (0 = the input); stops Play."""
        if self.scene is None:
            return
        self.play(False)
        self.set_time(float(self.scene.frame_of_layer(int(k))))

    def step_layer(self, step: int) -> None:
        """Go to the next (+1) or previous (-1) whole layer (stops Play)."""
        if self.scene is None:
            return
        self.play(False)
        fpl = self.scene.frames_per_layer
        layer = self._t / fpl
        target = math.floor(layer + 1e-6) + 1 if step > 0 else math.ceil(layer - 1e-6) - 1
        self.set_time(min(max(target, 0), self.scene.depth) * fpl)

    def hold_at_input(self, on: bool) -> None:
        """Hold the flow at its input (Draw mode): Play stops, the slider and Play rest, and
        every time asked for shows the input until released."""
        self._held = on
        if on:
            self.play(False)
            self.set_time(0.0)
        self.slider.setEnabled(not on)
        self.play_button.setEnabled(not on)

    # ------------------------------------------------------------------ play
    def play(self, on: bool = True) -> None:
        self.play_button.setChecked(on)

    def toggle_play(self) -> None:
        self.play_button.toggle()

    def is_playing(self) -> bool:
        return self._timer.isActive()

    def speed(self) -> float:
        return self._speed

    def set_speed(self, speed: float) -> None:
        """Play at `speed` times the usual pace (one of PLAY_SPEEDS, else the nearest)."""
        i = int(np.argmin([abs(math.log(v / max(speed, 1e-3))) for v in PLAY_SPEEDS]))
        self.speed_combo.setCurrentIndex(i)

    def repeat(self) -> bool:
        return self.repeat_button.isChecked()

    def set_repeat(self, on: bool) -> None:
        self.repeat_button.setChecked(bool(on))

    def stop(self) -> None:
        """No more ticks (window close)."""
        self._timer.stop()

    # ------------------------------------------------------------------ slots
    @Slot(int)
    def _on_slider(self, pos: int) -> None:
        if self.is_playing():
            self.play(False)
        self.set_time(pos / SLIDER_RES)

    @Slot(bool)
    def _on_play_toggled(self, on: bool) -> None:
        self.play_button.setText("❚❚ Pause" if on else "▶ Play")
        if not on:
            self._timer.stop()
            return
        if self._t >= self.t_max():
            self.set_time(0.0)
        self._play_from = self._t
        self._clock.start()
        self._timer.start()

    @Slot(int)
    def _on_speed(self, _i: int) -> None:
        if self.is_playing():  # keep the place: restart the clock from here
            self._play_from = self._t
            self._clock.start()
        self._speed = float(self.speed_combo.currentData())

    @Slot()
    def _on_tick(self) -> None:
        t_max = self.t_max()
        if t_max <= 0:
            self.play(False)
            return
        rate = self._speed * t_max / self._seconds_per_pass()
        t = self._play_from + rate * self._clock.elapsed() / 1000.0
        self.playTick.emit(min(t, t_max))
        if t >= t_max:
            if self.repeat():
                over = (t - t_max) / rate  # seconds past the last layer
                if over >= REPEAT_HOLD_S:
                    self._play_from = 0.0
                    self._clock.start()
                    self.set_time(0.0)
                elif self._t < t_max:
                    self.set_time(t_max)
                return
            self.set_time(t_max)
            self.play(False)
            return
        self.set_time(t)

    def _update_label(self) -> None:
        self.label.setText("" if self.scene is None else self.label_text(self.scene, self._t))


def _layer_text(scene: FlowScene, t: float) -> str:
    return f"layer {t / scene.frames_per_layer:.1f} / {scene.depth}"
