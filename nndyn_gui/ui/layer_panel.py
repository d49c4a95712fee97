"""The central view: x(t) of the shown snapshot, a layer slider, Play and a snapshot scrubber.

Why it looks like this:
- A FlowScene (data, grid and loop carried through every layer) costs tens of
  milliseconds for deep nets, so scenes are built on one background thread, newest
  request wins, and only the finished scene is handed to the view on the GUI thread.
  While training appends snapshots up to ~30 times a second, at most one build is in
  flight, so the window never stalls behind a queue of stale pictures.
- The render view is re-created only when its kind changes (2-D <-> 3-D); otherwise
  `set_scene` keeps the camera, zoom and selection.
- The layer slider counts in 1/SLIDER_RES of a frame, so dragging and Play glide
  between layers (the scene interpolates linearly).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from PySide6.QtCore import QElapsedTimer, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QRadioButton,
    QSizePolicy,
    QSlider,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from nndyn_gui.core.config import MAX_CLASSES, RunConfig
from nndyn_gui.core.narrator import is_trained
from nndyn_gui.core.types import Snapshot
from nndyn_gui.render import camera as cam
from nndyn_gui.render import field_layer
from nndyn_gui.render.camera import CameraKey
from nndyn_gui.render.palette import palette_for
from nndyn_gui.render.scene import FlowScene, ViewOptions
from nndyn_gui.render.views import NO_GL_NOTICE, make_layer_view, opengl_available
from nndyn_gui.ui import steps
from nndyn_gui.ui.background import Job, NewestWins
from nndyn_gui.ui.draw_tool import DrawTool
from nndyn_gui.ui.state import AppState

SLIDER_RES = 20  # slider positions per frame
PLAY_FPS = 30
PLAY_SECONDS_PER_LAYER = 0.12  # a 51-block net plays in ~6 s, a 4-layer MLP in ~1.5 s
PLAY_MIN_SECONDS = 1.5
PLAY_MAX_SECONDS = 8.0
MAX_POINTS = 3000
TRAINING_FRAME_MS = 100  # while training the view follows at most 10 snapshots a second
PLAY_SPEEDS = (0.25, 0.5, 1.0, 2.0, 4.0)  # the speed menu next to Play
REPEAT_HOLD_S = 0.6  # Repeat: the last layer (with its plane) stays this long, then again

OPTION_BOXES = (
    ("show_grid", "Grid", "the regular grid carried through the layers"),
    ("show_points", "Points", "the data points"),
    ("show_plane", "Plane", "the head's separating line / plane at the last layer"),
    ("show_regions", "Regions", "the network's decision regions in the input space"),
    ("show_loop", "Loop", "a closed loop in the outer class (ring data): topology"),
    ("show_trajectories", "Trajectories", "tails behind the points: where they came from"),
    (
        "show_field",
        "Field",
        "the velocity field of the current block, h·σ(A_k x + b_k) (MLP: the displacement "
        "σ(A_k x + b_k) − x), coloured and scaled by speed; fixed points of tied nets",
    ),
    ("substeps", "Sub-steps", "MLP: show A x, A x + b and s(A x + b) as separate frames"),
)


class LayerPanel(QWidget):
    """Central widget: the layer view plus its sliders, Play button and view toggles."""

    sceneChanged = Signal(object)  # FlowScene now shown
    optionsChanged = Signal(object)  # ViewOptions
    timeChanged = Signal(float)  # frames
    message = Signal(str)  # short status text (e.g. a failed scene build)
    cameraKeysChanged = Signal(int)  # number of saved camera views
    cameraChanged = Signal()  # the 3-D view's camera moved (the user, a reset, a path)
    drawingChanged = Signal(bool)  # Draw mode on / off

    def __init__(
        self,
        state: AppState,
        parent: QWidget | None = None,
        options: ViewOptions | None = None,
        background_build: bool = True,
    ) -> None:
        super().__init__(parent)
        self.state = state
        self._options = options or ViewOptions()
        self.prefer_3d = True
        self.view: Any = None
        self.scene: FlowScene | None = None
        self._view_kind = ""
        self._t = 0.0
        self._follow_end = False
        self._background = background_build
        self._closed = False
        self._builder = NewestWins(self, name="nndyn-scene", what="draw this snapshot")
        self._builder.done.connect(self._on_built)
        state.view_sets_shown()  # the readouts follow what this view has drawn
        self._throttle = QTimer(self)
        self._throttle.setSingleShot(True)
        self._throttle.timeout.connect(self._request_throttled)
        self._trailing = False  # a snapshot came during the hold: draw it when it ends

        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(4)
        self.view_box = QWidget()
        self.view_box.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self._view_lay = QVBoxLayout(self.view_box)
        self._view_lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.view_box, 1)

        controls = QWidget()
        controls.setObjectName("layerControls")
        self.controls_box = controls  # hidden in presentation mode
        cl = QVBoxLayout(controls)
        cl.setContentsMargins(8, 2, 8, 4)
        cl.setSpacing(2)
        lay.addWidget(controls)

        row = QHBoxLayout()
        self.play_button = QToolButton()
        self.play_button.setText("▶ Play")
        self.play_button.setCheckable(True)
        self.play_button.setToolTip("Animate x(t) through the layers (Space)")
        self.play_button.toggled.connect(self._on_play_toggled)
        self.play_button.setMinimumWidth(72)
        row.addWidget(self.play_button)
        row.addWidget(QLabel("Layer"))
        self.layer_slider = QSlider(Qt.Orientation.Horizontal)
        self.layer_slider.setToolTip("Layer t (between layers the points are interpolated)")
        self.layer_slider.valueChanged.connect(self._on_layer_slider)
        row.addWidget(self.layer_slider, 1)
        self.layer_label = QLabel()
        _fit_width(self.layer_label, "layer 200.0 / 200")
        row.addWidget(self.layer_label)
        self.repeat_button = QToolButton()
        self.repeat_button.setText("⟲ Repeat")
        self.repeat_button.setCheckable(True)
        self.repeat_button.setToolTip("Play again from the input after the last layer")
        row.addWidget(self.repeat_button)
        self.speed_combo = QComboBox()
        for v in PLAY_SPEEDS:
            self.speed_combo.addItem(f"{v:g}×", v)
        self.speed_combo.setCurrentIndex(PLAY_SPEEDS.index(1.0))
        self.speed_combo.setToolTip("Play speed")
        self.speed_combo.currentIndexChanged.connect(self._on_speed)
        row.addWidget(self.speed_combo)
        cl.addLayout(row)

        row2 = QHBoxLayout()
        snap_caption = QLabel("Snapshot")
        snap_caption.setMinimumWidth(self.play_button.minimumWidth())
        snap_caption.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        row2.addWidget(snap_caption)
        self.snapshot_slider = QSlider(Qt.Orientation.Horizontal)
        self.snapshot_slider.setToolTip("Replay training: show the net as it was at this snapshot")
        self.snapshot_slider.valueChanged.connect(self._on_snapshot_slider)
        row2.addWidget(self.snapshot_slider, 1)
        self.snapshot_label = QLabel()
        _fit_width(self.snapshot_label, "9999/9999 · step 9,999,999 · acc 100.0%")
        row2.addWidget(self.snapshot_label)
        cl.addLayout(row2)

        row3 = QHBoxLayout()
        row3.setSpacing(12)
        self.checks: dict[str, QCheckBox] = {}
        for key, text, tip in OPTION_BOXES:
            box = QCheckBox(text)
            box.setToolTip(tip)
            box.setChecked(bool(getattr(self._options, key)))
            box.toggled.connect(self._on_option_toggled)
            self.checks[key] = box
            row3.addWidget(box)
        self.check_3d = QCheckBox("3-D")
        self.check_3d.setToolTip("Rotatable 3-D view for width >= 3 (needs OpenGL)")
        self.check_3d.setChecked(True)
        self.check_3d.toggled.connect(self._on_3d_toggled)
        row3.addWidget(self.check_3d)
        row3.addStretch(1)
        self.draw_button = QToolButton()
        self.draw_button.setText("✎ Draw data")
        self.draw_button.setCheckable(True)
        self.draw_button.setToolTip(
            "Draw your own data at the input layer: click adds a point of the chosen class, "
            "shift-click or right-click removes one, dragging paints (shift / right: erases)"
        )
        self.draw_button.toggled.connect(self.set_drawing)
        row3.addWidget(self.draw_button)
        cl.addLayout(row3)
        cl.addWidget(self._make_draw_row())

        self._play_timer = QTimer(self)
        self._play_timer.setInterval(round(1000 / PLAY_FPS))
        self._play_timer.timeout.connect(self._on_play_tick)
        self._clock = QElapsedTimer()
        self._play_from = 0.0
        self._speed = 1.0
        self._camera_keys: list[CameraKey] = []  # saved 3-D views: a path for Play and video
        self._aim_after_training = False
        self._selected = np.zeros(0, dtype=np.int64)  # dataset rows (x_all), kept across views

        state.currentChanged.connect(self._on_current)
        state.datasetChanged.connect(self._on_dataset)
        self.draw_tool.changed.connect(self._on_draw_changed)
        self.draw_tool.message.connect(self.message)
        state.snapshotsChanged.connect(self._on_snapshots)
        state.trainingStateChanged.connect(self._on_training_state)
        state.configChanged.connect(self._on_config)
        state.shownChanged.connect(self._show_snapshot_label)  # whoever set it: named at once
        self._on_config(state.config)
        self._on_snapshots()
        self.rebuild_now()

    # ------------------------------------------------------------------ public
    def options(self) -> ViewOptions:
        return self._options

    def set_options(self, options: ViewOptions) -> None:
        """Show other view options; rebuilds the scene only if the arrays change."""
        old = self._options
        self._options = options
        for key, box in self.checks.items():
            box.blockSignals(True)
            box.setChecked(bool(getattr(options, key)))
            box.blockSignals(False)
        if old.needs_rebuild(options):
            self._schedule()  # new arrays (grid size, sub-steps): built in the background
        elif self.view is not None:
            self.view.set_options(options)
            if self.scene is not None:
                self.scene = self.scene.with_options(options)
        self.optionsChanged.emit(options)

    def time(self) -> float:
        return self._t

    def t_max(self) -> float:
        return self.scene.t_max if self.scene is not None else 0.0

    def set_time(self, t: float) -> None:
        """Show layer time t (frames, fractional allowed); moves the slider too."""
        t_max = self.t_max()
        t = min(max(float(t), 0.0), t_max) if math.isfinite(t) else 0.0
        if self.drawing():
            t = 0.0  # drawing happens at the input layer
        self._t = t
        self._follow_end = t_max > 0 and t >= t_max
        self.layer_slider.blockSignals(True)
        self.layer_slider.setValue(round(t * SLIDER_RES))
        self.layer_slider.blockSignals(False)
        if self.view is not None:
            self.view.set_time(t)
        self._update_layer_label()
        self.timeChanged.emit(t)

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

    def step_snapshot(self, step: int) -> None:
        """Show the next (+1) or previous (-1) training snapshot."""
        snaps = self.state.snapshots
        if len(snaps) < 2:
            return
        i = self.snapshot_slider.value() + (1 if step > 0 else -1)
        i = min(max(i, 0), len(snaps) - 1)
        if snaps[i] is not self.state.current:
            self.state.set_current(snaps[i])

    def play(self, on: bool = True) -> None:
        self.play_button.setChecked(on)

    def toggle_play(self) -> None:
        self.play_button.toggle()

    def is_playing(self) -> bool:
        return self._play_timer.isActive()

    def play_speed(self) -> float:
        return self._speed

    def set_play_speed(self, speed: float) -> None:
        """Play at `speed` times the usual pace (one of PLAY_SPEEDS, else the nearest)."""
        i = int(np.argmin([abs(math.log(v / max(speed, 1e-3))) for v in PLAY_SPEEDS]))
        self.speed_combo.setCurrentIndex(i)

    def repeat(self) -> bool:
        return self.repeat_button.isChecked()

    def set_repeat(self, on: bool) -> None:
        self.repeat_button.setChecked(bool(on))

    # ------------------------------------------------------------------ camera
    def camera(self) -> tuple[float, float, float] | None:
        """(azimuth, elevation, zoom) of the 3-D view, None when the view is 2-D."""
        if self._view_kind != "3d" or self.view is None:
            return None
        az, el, _dist = self.view.camera()
        return float(az), float(el), float(self.view.zoom())

    def camera_keys(self) -> list[CameraKey]:
        return list(self._camera_keys)

    def add_camera_key(self) -> CameraKey | None:
        """Save the 3-D view as it is now, at the layer shown: a stop on the camera path
        that Play and a layers-flow video move through (camera.camera_at)."""
        now = self.camera()
        if now is None:
            self.message.emit("Camera views are saved from the 3-D view (width 3 or more)")
            return None
        key = CameraKey(self._t, *now)
        self._camera_keys.append(key)
        n = len(self._camera_keys)
        layer = self._t / max(1, self.scene.frames_per_layer) if self.scene else 0.0
        self.message.emit(
            f"Camera view {n} saved at layer {layer:.1f}: Play and exported flows move "
            "through the saved views"
        )
        self.cameraKeysChanged.emit(n)
        return key

    def clear_camera_keys(self) -> None:
        self._camera_keys = []
        self.message.emit("Camera views cleared: the camera stays where you put it")
        self.cameraKeysChanged.emit(0)

    def _follow_camera_path(self, t: float) -> None:
        """While playing, move the 3-D camera along the saved views (as a video will)."""
        if len(self._camera_keys) < 1 or self._view_kind != "3d" or self.view is None:
            return
        keys = cam.retimed(self._camera_keys, self.t_max())
        az, el, zoom = cam.camera_at(keys, t)
        self.view.set_camera(az, el, zoom=zoom)

    def selection(self) -> np.ndarray:
        """The selected points as rows of the data set (x_all), whatever view shows them."""
        return self._selected.copy()

    def set_selection(self, dataset_rows: Any) -> None:
        """Select these data points (rows of dataset.x_all) in the current and later views."""
        rows = np.unique(np.asarray(dataset_rows, dtype=np.int64).ravel())
        n = len(self.state.dataset.x_all)
        self._selected = rows[(rows >= 0) & (rows < n)]
        self._show_selection()

    def rebuild_now(self) -> None:
        """Build and show the scene of the current snapshot synchronously (tests, export)."""
        self._on_built(*self._builder.run_now(self._job()))

    def wait_idle(self, timeout_s: float = 30.0) -> None:
        """Block until no background build is pending, then show the newest scene."""
        self._builder.wait(timeout_s)
        self.rebuild_now()

    def shutdown(self) -> None:
        """Stop the builder thread (window close)."""
        self._closed = True
        self._play_timer.stop()
        self._throttle.stop()
        self._builder.shutdown()

    def reset_camera(self) -> None:
        if self.view is not None and hasattr(self.view, "reset_camera"):
            self.view.reset_camera()
        elif self.view is not None and hasattr(self.view, "reset_view"):
            self.view.reset_view()

    # ------------------------------------------------------------------ building
    def _job(self) -> Job:
        """What to build for the current snapshot, captured now, run on any thread."""
        snap = self.state.current
        assert snap is not None
        config, weights, dataset, options = (
            self.state.run_config,
            snap.weights,
            self.state.dataset,
            self._options,
        )
        flat = not (self.prefer_3d and opengl_available())

        def job() -> tuple[FlowScene, Snapshot]:
            scene = FlowScene.build(config, weights, dataset, options, MAX_POINTS, step=snap.step)
            shown = scene.projected_2d() if flat else scene  # projected here, not on the GUI
            shown.region_image(palette_for(options.background))
            if options.show_field:  # the field's per-scene numbers, off the GUI thread too
                field_layer.warm(shown)
            return scene, snap

        return job

    @Slot()
    def _schedule(self, *_: object) -> None:
        """Ask for a new scene; built in the background, newest request wins."""
        if self._closed:
            return
        if not self._background:
            self.rebuild_now()
            return
        if self._shows_current():
            assert self.state.current is not None
            self.state.set_shown(self.state.current)  # its numbers are the ones to read
            self._sync_snapshot_slider()  # e.g. a run's step 0: the very picture shown
        elif self.state.training_state != "training":
            self._builder.request(self._job())
        elif self._throttle.isActive():
            self._trailing = True  # drawn when the hold ends
        else:
            self._draw_throttled()  # the first snapshot of a run is drawn at once

    def _shows_current(self) -> bool:
        """True when the scene shown is of the state's config, data and weights already
        (a new run's step-0 snapshot is the untrained net on screen: building it again
        would only hold back the first trained picture) and no other build is pending."""
        sc = self.scene
        if sc is None or sc.source is None or self._builder.busy():
            return False
        config, weights, dataset, _ = sc.source
        cur = self.state.weights
        current = self.state.current
        if sc.step is not None and current is not None and sc.step != current.step:
            return False  # while training: no comparison of arrays per snapshot
        return (
            config is self.state.run_config
            and dataset is self.state.dataset
            and sc.options == self._options
            and (
                weights is cur
                or (
                    np.array_equal(weights.A, cur.A)
                    and np.array_equal(weights.b, cur.b)
                    and np.array_equal(weights.w, cur.w)
                    and np.array_equal(weights.c, cur.c)  # K classes: an array
                )
            )
        )

    def _draw_throttled(self) -> None:
        """Draw the newest snapshot now, then hold the next drawing back: while training,
        builds of a deep net back to back would take a whole core from the window, so
        at least twice the build time (and TRAINING_FRAME_MS) lies between two."""
        self._trailing = False
        self._builder.request(self._job())
        self._on_snapshots()
        self._throttle.start(max(TRAINING_FRAME_MS, round(2000 * self._builder.last_seconds)))

    @Slot()
    def _request_throttled(self) -> None:
        if not self._closed and self._trailing:
            self._draw_throttled()

    @Slot(object, str)
    def _on_built(self, result: tuple[FlowScene, Snapshot] | None, error: str) -> None:
        """A scene is ready: draw it, and tell the state which snapshot is now on screen."""
        if result is None:
            self._apply(None, error)
            return
        scene, snap = result
        self._apply(scene, error)
        self.state.set_shown(snap)
        self._show_snapshot_label()

    def _apply(self, scene: FlowScene | None, error: str) -> None:
        if scene is None:
            if error:
                self.message.emit(error)
            return
        old = self.scene
        was_end = self._follow_end
        self.scene = scene
        kind = "2d"
        if scene.dims == 3 and self.prefer_3d and opengl_available():
            kind = "3d"
        current = self.state.current
        shows_current = (
            scene.source is not None and current is not None and scene.source[1] is current.weights
        )  # not a build of the snapshot shown before, still arriving
        if self.view is None or kind != self._view_kind:
            self._make_view(scene, kind)  # a new view faces its scene's plane at once
            self._show_selection()
            if shows_current:
                self._aim_after_training = False
        else:
            self.view.set_scene(scene)
            self._set_view_notice(scene)  # e.g. 3-D unticked: no "3-D view opens…" any more
            if old is None or not np.array_equal(old.indices, scene.indices):
                self._show_selection()
            if self._aim_after_training and self.state.training_state == "idle" and shows_current:
                self._aim_after_training = False
                if kind == "3d":
                    self.view.aim_unless_moved()
        positions = max(1, round(scene.t_max * SLIDER_RES))
        self.layer_slider.blockSignals(True)
        self.layer_slider.setRange(0, positions)
        self.layer_slider.setPageStep(SLIDER_RES)
        self.layer_slider.setSingleStep(max(1, SLIDER_RES // 4))
        self.layer_slider.blockSignals(False)
        if old is not None and old.n_frames != scene.n_frames and not was_end:
            # keep the same place in the net when frames are added / removed
            layer = self._t / max(1, old.frames_per_layer)
            t = layer * scene.frames_per_layer
        else:
            t = scene.t_max if was_end else self._t
        self.set_time(t)
        self.sceneChanged.emit(scene)

    def _make_view(self, scene: FlowScene, kind: str) -> None:
        old = self.view
        if old is not None:
            self._view_lay.removeWidget(old)
            old.hide()
            old.setParent(None)
            old.deleteLater()
        view = make_layer_view(scene, self.view_box, prefer_3d=self.prefer_3d)
        view.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        view.setMinimumSize(320, 240)
        self._view_lay.addWidget(view)
        self.view = view
        self._view_kind = kind
        self._set_view_notice(scene)
        if hasattr(view, "pointsSelected"):
            view.pointsSelected.connect(self._on_points_selected)
        if hasattr(view, "cameraChanged"):
            view.cameraChanged.connect(self.cameraChanged)
        # a new view has a camera of its own (3-D: facing the scene's plane) or none (2-D),
        # set before it could signal: whoever follows the camera hears of it now
        self.cameraChanged.emit()
        if hasattr(view, "drawEdit"):
            view.drawEdit.connect(self.draw_tool.edit)
            view.set_drawing(self.drawing())

    def _set_view_notice(self, scene: FlowScene) -> None:
        """Why a 2-D view shows a 3-D scene, if 3-D is wanted; nothing when it is unticked."""
        view = self.view
        if not hasattr(view, "set_notice") or self._view_kind == "3d":
            return
        text = ""
        if scene.dims == 3 and self.prefer_3d:
            text = NO_GL_NOTICE
        if view.notice() != text:  # restyling the text on every new scene costs a repaint
            view.set_notice(text)

    @Slot(object)
    def _on_points_selected(self, rows: Any) -> None:
        """A pick in the view (rows of its scene): kept as data-set rows."""
        if self.view is None or self.scene is None:
            return
        rows = np.asarray(rows, dtype=np.int64)
        rows = rows[(rows >= 0) & (rows < len(self.scene.indices))]
        self._selected = np.unique(self.scene.indices[rows])
        self.view.set_selection(rows)

    def _show_selection(self) -> None:
        """Show the kept selection in the view, in the rows of the scene it draws."""
        if self.view is None or self.scene is None or not hasattr(self.view, "set_selection"):
            return
        idx = self.scene.indices
        pos = np.searchsorted(idx, self._selected)
        ok = pos < len(idx)
        pos = pos[ok]
        rows = pos[idx[pos] == self._selected[ok]]
        self.view.set_selection(rows)

    @Slot(object)
    def _on_dataset(self, *_: object) -> None:
        """Other data: the old selection names other points."""
        self._selected = np.zeros(0, dtype=np.int64)
        self._schedule()

    # ------------------------------------------------------------------ state signals
    @Slot(object)
    def _on_current(self, snap: Snapshot) -> None:
        self._schedule()
        if self.state.training_state != "training":
            self._sync_snapshot_slider()  # while training: with the throttled build

    @Slot(str)
    def _on_training_state(self, _st: str) -> None:
        if self.state.training_state != "training":
            if self._trailing and not self._closed:  # the final snapshot: drawn now, not
                self._trailing = False  # after the hold (every panel waits for it)
                self._throttle.stop()
                self._schedule()
            self._on_snapshots()  # the final count and position, at once

    @Slot(object)
    def _on_config(self, cfg: RunConfig) -> None:
        mlp = cfg.model.kind == "mlp"
        box = self.checks["substeps"]
        box.setEnabled(mlp)
        box.setToolTip(
            OPTION_BOXES[-1][2] if mlp else "MLP only: a ResNet block is a single small step"
        )
        if not mlp and self._options.substeps:
            self.set_options(self._options.copy(substeps=False))
        self.check_3d.setEnabled(cfg.model.width >= 3 and not self.drawing())

    @Slot()
    def _on_snapshots(self) -> None:
        # every repaint of the window costs a full composition (~20 ms) when it holds a
        # 3-D view on a software OpenGL: while training the slider follows the view
        if self.state.training_state == "training" and self._throttle.isActive():
            return
        if self.state.training_state == "idle":  # trained, loaded, reset: a new plane
            self._aim_after_training = True  # the next scene faces it (unless moved)
        n = len(self.state.snapshots)
        self.snapshot_slider.blockSignals(True)
        self.snapshot_slider.setRange(0, max(0, n - 1))
        self.snapshot_slider.blockSignals(False)
        self.snapshot_slider.setEnabled(n > 1)
        self._sync_snapshot_slider()

    def _sync_snapshot_slider(self) -> None:
        snaps = self.state.snapshots
        cur = self.state.current
        idx = len(snaps) - 1
        for i in range(len(snaps) - 1, -1, -1):
            if snaps[i] is cur:
                idx = i
                break
        self.snapshot_slider.blockSignals(True)
        self.snapshot_slider.setValue(max(0, idx))
        self.snapshot_slider.blockSignals(False)
        self._show_snapshot_label()

    @Slot()
    def _show_snapshot_label(self, *_: object) -> None:
        """The label names the snapshot drawn (not the newest one still being drawn)."""
        snaps, shown = self.state.snapshots, self.state.shown
        if shown is None:
            return
        idx = next((i for i in range(len(snaps) - 1, -1, -1) if snaps[i] is shown), -1)
        self.snapshot_label.setText(_snapshot_text(shown, idx, len(snaps)))

    # ------------------------------------------------------------------ widgets
    # ------------------------------------------------------------------ draw mode
    def _make_draw_row(self) -> QWidget:
        """Class to draw, Undo / Redo, Clear, Export CSV: shown while drawing."""
        self.draw_tool = DrawTool(self.state, self)
        row = QWidget()
        lay = QHBoxLayout(row)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(QLabel("Draw class"))
        self.draw_class = QButtonGroup(row)
        pal = palette_for("white")
        for k in range(MAX_CLASSES):  # a third class drawn makes K = 3 (softmax head)
            btn = QRadioButton(str(k))
            more = " (K becomes the highest class drawn + 1)" if k > 1 else ""
            btn.setToolTip(f"new points get class {k}{more}")
            r, g, b, _a = pal.class_color(k)
            btn.setStyleSheet(f"QRadioButton {{ color: rgb({r}, {g}, {b}); font-weight: bold; }}")
            self.draw_class.addButton(btn, k)
            lay.addWidget(btn)
        self.draw_class.button(self.draw_tool.label).setChecked(True)
        self.draw_class.idToggled.connect(self._on_draw_class)
        self.undo_button = QToolButton()
        self.undo_button.setText("Undo")
        self.redo_button = QToolButton()
        self.redo_button.setText("Redo")
        clear = self.clear_button = QToolButton()
        clear.setText("Clear")
        clear.setToolTip("Remove every point (draw from nothing; Undo brings them back)")
        export = QToolButton()
        export.setText("Export CSV…")
        export.setToolTip("Save the points as CSV (x1, x2, label)")
        self.undo_button.clicked.connect(self.draw_tool.undo)
        self.redo_button.clicked.connect(self.draw_tool.redo)
        clear.clicked.connect(self.draw_tool.clear)
        export.clicked.connect(self._export_drawn_csv)
        for w in (self.undo_button, self.redo_button, clear, export):
            lay.addWidget(w)
        hint = QLabel("click: add · shift/right-click: remove · drag: paint (shift/right: erase)")
        hint.setStyleSheet("color: #6B6F76;")
        lay.addWidget(hint, 1)
        # Ctrl+Z / Ctrl+Shift+Z: only in draw mode (set_drawing), when Run → Bring back
        # lends its key (drawingChanged): no two actions ever share one
        self.act_undo_draw = QAction("Undo drawing", self)
        self.act_redo_draw = QAction("Redo drawing", self)
        for act, fn in ((self.act_undo_draw, self.draw_tool.undo),
                        (self.act_redo_draw, self.draw_tool.redo)):  # fmt: skip
            act.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            act.triggered.connect(fn)
            act.setEnabled(False)
            self.addAction(act)
        #: tests: () -> path or "" (cancelled)
        self.ask_csv_path = lambda: QFileDialog.getSaveFileName(
            self, "Export drawn points", "drawn.csv", "CSV files (*.csv)"
        )[0]
        self.draw_row = row
        row.hide()
        self._draw_was_3d = True
        return row

    def drawing(self) -> bool:
        return self.draw_button.isChecked()

    @Slot(bool)
    def set_drawing(self, on: bool) -> None:
        """Draw mode: the input layer in 2-D, where clicks and drags edit the data."""
        if self.draw_button.isChecked() != on:
            self.draw_button.setChecked(on)  # comes back here through `toggled`
            return
        self.draw_row.setVisible(on)
        for act, key in ((self.act_undo_draw, QKeySequence.StandardKey.Undo),
                         (self.act_redo_draw, QKeySequence.StandardKey.Redo)):  # fmt: skip
            act.setShortcuts(QKeySequence.keyBindings(key) if on else [])
        self.drawingChanged.emit(on)
        if on:
            self.play(False)
            self._draw_was_3d = self.check_3d.isChecked()
            self.check_3d.setChecked(False)  # drawing happens in the plane of the data
            self.set_time(0.0)
        else:
            self.check_3d.setChecked(self._draw_was_3d)
        self.check_3d.setEnabled(not on and self.state.config.model.width >= 3)
        self.layer_slider.setEnabled(not on)
        self.play_button.setEnabled(not on)
        if self.view is not None and hasattr(self.view, "set_drawing"):
            self.view.set_drawing(on)
        self._on_draw_changed()

    @Slot(int, bool)
    def _on_draw_class(self, k: int, checked: bool) -> None:
        if checked:
            self.draw_tool.label = k

    @Slot()
    def _on_draw_changed(self) -> None:
        on = self.drawing()
        self.undo_button.setEnabled(on and self.draw_tool.can_undo())
        self.redo_button.setEnabled(on and self.draw_tool.can_redo())
        self.act_undo_draw.setEnabled(on and self.draw_tool.can_undo())
        self.act_redo_draw.setEnabled(on and self.draw_tool.can_redo())
        if self.view is not None and hasattr(self.view, "set_draw_preview"):
            self.view.set_draw_preview(*self.draw_tool.preview())

    @Slot()
    def _export_drawn_csv(self) -> bool:
        path = self.ask_csv_path()
        if not path:
            return False
        try:
            self.draw_tool.export_csv(path)
        except OSError as e:
            self.message.emit(f"Cannot export the points: {e.strerror or e}")
            return False
        self.message.emit(f"Exported {len(self.state.dataset.y_all):,} points to {path}")
        return True

    @Slot(int)
    def _on_layer_slider(self, pos: int) -> None:
        if self.is_playing():
            self.play(False)
        self.set_time(pos / SLIDER_RES)

    @Slot(int)
    def _on_snapshot_slider(self, i: int) -> None:
        snaps = self.state.snapshots
        if 0 <= i < len(snaps) and snaps[i] is not self.state.current:
            self.state.set_current(snaps[i])

    @Slot(bool)
    def _on_option_toggled(self, _on: bool) -> None:
        changes = {key: box.isChecked() for key, box in self.checks.items()}
        self.set_options(self._options.copy(**changes))

    @Slot(bool)
    def _on_3d_toggled(self, on: bool) -> None:
        self.prefer_3d = on
        if self.scene is not None:
            self._apply(self.scene, "")

    @Slot(bool)
    def _on_play_toggled(self, on: bool) -> None:
        self.play_button.setText("❚❚ Pause" if on else "▶ Play")
        if not on:
            self._play_timer.stop()
            return
        if self._t >= self.t_max():
            self.set_time(0.0)
        self._play_from = self._t
        self._clock.start()
        self._play_timer.start()

    def _play_seconds(self) -> float:
        """One pass through all layers at 1×: longer for deeper nets, within bounds."""
        depth = self.scene.depth if self.scene is not None else 1
        return min(PLAY_MAX_SECONDS, max(PLAY_MIN_SECONDS, depth * PLAY_SECONDS_PER_LAYER))

    @Slot(int)
    def _on_speed(self, _i: int) -> None:
        speed = float(self.speed_combo.currentData())
        if self.is_playing():  # keep the place: restart the clock from here
            self._play_from = self._t
            self._clock.start()
        self._speed = speed

    @Slot()
    def _on_play_tick(self) -> None:
        t_max = self.t_max()
        if t_max <= 0:
            self.play(False)
            return
        rate = self._speed * t_max / self._play_seconds()
        t = self._play_from + rate * self._clock.elapsed() / 1000.0
        self._follow_camera_path(min(t, t_max))
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

    def _update_layer_label(self) -> None:
        sc = self.scene
        if sc is None:
            self.layer_label.setText("")
            return
        layer = self._t / sc.frames_per_layer
        self.layer_label.setText(f"layer {layer:.1f} / {sc.depth}")


def _fit_width(label: QLabel, widest: str) -> None:
    """Room for the widest text up front: a label that grows while training re-lays out
    the window, and so repaints every view in it, with each new snapshot."""
    label.setMinimumWidth(max(150, label.fontMetrics().horizontalAdvance(widest) + 8))


def _snapshot_text(s: Snapshot, idx: int, n: int) -> str:
    """ "3/41 · step 1,200 · acc 97.0%" (training accuracy), "untrained (step 0)"."""
    if not is_trained(s):
        return steps.step_name(s)
    acc = f"{100 * s.train_acc:.1f}%"
    where = f"{idx + 1}/{n} · " if idx >= 0 else ""  # thinned away while training
    return f"{where}{steps.step_name(s)} · acc {acc}"
