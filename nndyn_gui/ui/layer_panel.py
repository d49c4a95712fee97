"""The central view: x(t) of the shown snapshot, a layer slider, Play and a snapshot scrubber.

Why it looks like this:
- A FlowScene (data, grid and loop carried through every layer) costs tens of
  milliseconds for deep nets, so scenes are built on one background thread, newest
  request wins, and only the finished scene is handed to the view on the GUI thread.
  While training appends snapshots up to ~30 times a second, at most one build is in
  flight, so the window never stalls behind a queue of stale pictures.
- The render view is re-created only when its kind changes (2-D <-> 3-D); otherwise
  `set_scene` keeps the camera, zoom and selection.
- Scenes are built by ui/scene_builder.py, layer time and Play are ui/playback.py's
  (both shared with Compare), the Draw row is ui/draw_controls.py, the snapshot slider
  ui/snapshot_scrubber.py and the saved camera views ui/camera_path.py.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (
    QCheckBox,
    QHBoxLayout,
    QLabel,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from nndyn_gui.core.config import RunConfig
from nndyn_gui.core.types import Snapshot
from nndyn_gui.render.camera import CameraKey
from nndyn_gui.render.scene import FlowScene, ViewOptions
from nndyn_gui.render.views import NO_GL_NOTICE, make_layer_view, opengl_available
from nndyn_gui.ui.background import Job
from nndyn_gui.ui.camera_path import CameraPath
from nndyn_gui.ui.draw_controls import DrawControls
from nndyn_gui.ui.playback import PLAY_SPEEDS, SLIDER_RES, Playback
from nndyn_gui.ui.scene_builder import SceneBuilder, scene_job
from nndyn_gui.ui.snapshot_scrubber import SnapshotScrubber
from nndyn_gui.ui.state import AppState

__all__ = ["PLAY_SPEEDS", "SLIDER_RES", "LayerPanel"]

PLAY_SECONDS_PER_LAYER = 0.12  # a 51-block net plays in ~6 s, a 4-layer MLP in ~1.5 s
PLAY_MIN_SECONDS = 1.5
PLAY_MAX_SECONDS = 8.0
MAX_POINTS = 3000

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
        self._follow_end = False
        self._background = background_build
        self._closed = False
        self.builder = SceneBuilder(self, name="nndyn-scene")
        self.builder.built.connect(self._on_built)
        self.builder.throttledStarted.connect(self._on_snapshots)  # the slider follows
        state.view_sets_shown()  # the readouts follow what this view has drawn
        self.playback = Playback(self._play_seconds, self)
        self.playback.timeChanged.connect(self._on_time)
        self.playback.playTick.connect(self._follow_camera_path)

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
        pb = self.playback
        self.play_button, self.layer_slider, self.layer_label = pb.play_button, pb.slider, pb.label
        self.repeat_button, self.speed_combo = pb.repeat_button, pb.speed_combo
        _fit_width(self.layer_label, "layer 200.0 / 200")
        for w in (self.play_button, QLabel("Layer"), self.layer_slider, self.layer_label,
                  self.repeat_button, self.speed_combo):  # fmt: skip
            row.addWidget(w, 1 if w is self.layer_slider else 0)
        cl.addLayout(row)

        row2 = QHBoxLayout()
        snap_caption = QLabel("Snapshot")
        snap_caption.setMinimumWidth(self.play_button.minimumWidth())
        snap_caption.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        row2.addWidget(snap_caption)
        self.scrubber = SnapshotScrubber(state, self)
        self.snapshot_slider, self.snapshot_label = self.scrubber.slider, self.scrubber.label
        row2.addWidget(self.snapshot_slider, 1)
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
        self.draw_controls = DrawControls(state, self)
        dc = self.draw_controls
        self.draw_tool, self.draw_class = dc.draw_tool, dc.draw_class
        self.undo_button, self.redo_button, self.clear_button = (
            dc.undo_button,
            dc.redo_button,
            dc.clear_button,
        )
        self.act_undo_draw, self.act_redo_draw = dc.act_undo_draw, dc.act_redo_draw
        self.draw_row = dc  # shown while drawing
        self._draw_was_3d = True
        cl.addWidget(dc)

        self.camera_path = CameraPath(self.camera, self._layer_at, self)  # for Play and video
        self.camera_path.message.connect(self.message)
        self._aim_after_training = False
        self._selected = np.zeros(0, dtype=np.int64)  # dataset rows (x_all), kept across views

        state.currentChanged.connect(self._on_current)
        state.datasetChanged.connect(self._on_dataset)
        self.draw_tool.changed.connect(self._on_draw_changed)
        self.draw_controls.message.connect(self.message)
        state.snapshotsChanged.connect(self._on_snapshots)
        state.trainingStateChanged.connect(self._on_training_state)
        state.configChanged.connect(self._on_config)
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
        return self.playback.time()

    def t_max(self) -> float:
        return self.playback.t_max()

    def set_time(self, t: float) -> None:
        """Show layer time t (frames, fractional allowed); moves the slider too."""
        self.playback.set_time(0.0 if self.drawing() else t)  # drawing: at the input layer

    @Slot(float)
    def _on_time(self, t: float) -> None:
        t_max = self.t_max()
        self._follow_end = t_max > 0 and t >= t_max
        if self.view is not None:
            self.view.set_time(t)
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
        layer = self.time() / fpl
        target = math.floor(layer + 1e-6) + 1 if step > 0 else math.ceil(layer - 1e-6) - 1
        self.set_time(min(max(target, 0), self.scene.depth) * fpl)

    def play(self, on: bool = True) -> None:
        self.playback.play(on)

    def toggle_play(self) -> None:
        self.playback.toggle_play()

    def is_playing(self) -> bool:
        return self.playback.is_playing()

    def play_speed(self) -> float:
        return self.playback.speed()

    def set_play_speed(self, speed: float) -> None:
        self.playback.set_speed(speed)

    def repeat(self) -> bool:
        return self.playback.repeat()

    def set_repeat(self, on: bool) -> None:
        self.playback.set_repeat(on)

    # ------------------------------------------------------------------ camera
    def camera(self) -> tuple[float, float, float] | None:
        """(azimuth, elevation, zoom) of the 3-D view, None when the view is 2-D."""
        if self._view_kind != "3d" or self.view is None:
            return None
        az, el, _dist = self.view.camera()
        return float(az), float(el), float(self.view.zoom())

    def camera_keys(self) -> list[CameraKey]:
        return self.camera_path.keys()

    def _layer_at(self, t: float) -> float:
        return t / max(1, self.scene.frames_per_layer) if self.scene else 0.0

    @Slot(float)
    def _follow_camera_path(self, t: float) -> None:
        """While playing, move the 3-D camera along the saved views (as a video will)."""
        on_path = self.camera_path.at(t, self.t_max())
        if on_path is None or self._view_kind != "3d" or self.view is None:
            return
        az, el, zoom = on_path
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
        self._on_built(*self.builder.run_now(self._job()))

    def wait_idle(self, timeout_s: float = 30.0) -> None:
        """Block until no background build is pending, then show the newest scene."""
        self.builder.wait(timeout_s)
        self.rebuild_now()

    def shutdown(self) -> None:
        """Stop the builder thread (window close)."""
        self._closed = True
        self.playback.stop()
        self.builder.shutdown()

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
        build = scene_job(config, weights, dataset, options, MAX_POINTS, snap.step, flat)
        return lambda: (build(), snap)

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
            self.scrubber.sync()  # e.g. a run's step 0: the very picture shown
        elif self.state.training_state != "training":
            self.builder.request(self._job())
        else:  # the first snapshot of a run at once, then at most one per hold
            self.builder.request_throttled(self._job)

    def _shows_current(self) -> bool:
        """True when the scene shown is of the state's config, data and weights already
        (a new run's step-0 snapshot is the untrained net on screen: building it again
        would only hold back the first trained picture) and no other build is pending."""
        sc = self.scene
        if sc is None or sc.source is None or self.builder.busy():
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

    @Slot(object, str)
    def _on_built(self, result: tuple[FlowScene, Snapshot] | None, error: str) -> None:
        """A scene is ready: draw it, and tell the state which snapshot is now on screen."""
        if result is None:
            self._apply(None, error)
            return
        scene, snap = result
        self._apply(scene, error)
        self.state.set_shown(snap)
        self.scrubber.show_label()

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
        self.playback.set_scene(scene)
        if old is not None and old.n_frames != scene.n_frames and not was_end:
            # keep the same place in the net when frames are added / removed
            layer = self.time() / max(1, old.frames_per_layer)
            t = layer * scene.frames_per_layer
        else:
            t = scene.t_max if was_end else self.time()
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
            self.scrubber.sync()  # while training: with the throttled build

    @Slot(str)
    def _on_training_state(self, _st: str) -> None:
        if self.state.training_state != "training":
            if self.builder.release() and not self._closed:  # the final snapshot: drawn
                self._schedule()  # now, not after the hold (every panel waits for it)
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
        if self.state.training_state == "training" and self.builder.holding():
            return
        if self.state.training_state == "idle":  # trained, loaded, reset: a new plane
            self._aim_after_training = True  # the next scene faces it (unless moved)
        self.scrubber.refresh()

    def drawing(self) -> bool:
        return self.draw_button.isChecked()

    @Slot(bool)
    def set_drawing(self, on: bool) -> None:
        """Draw mode: the input layer in 2-D, where clicks and drags edit the data."""
        if self.draw_button.isChecked() != on:
            self.draw_button.setChecked(on)  # comes back here through `toggled`
            return
        self.draw_controls.set_active(on)
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

    @Slot()
    def _on_draw_changed(self) -> None:
        self.draw_controls.refresh(self.drawing())
        if self.view is not None and hasattr(self.view, "set_draw_preview"):
            self.view.set_draw_preview(*self.draw_tool.preview())

    @Slot(bool)
    def _on_option_toggled(self, _on: bool) -> None:
        changes = {key: box.isChecked() for key, box in self.checks.items()}
        self.set_options(self._options.copy(**changes))

    @Slot(bool)
    def _on_3d_toggled(self, on: bool) -> None:
        self.prefer_3d = on
        if self.scene is not None:
            self._apply(self.scene, "")

    def _play_seconds(self) -> float:
        """One pass through all layers at 1×: longer for deeper nets, within bounds."""
        depth = self.scene.depth if self.scene is not None else 1
        return min(PLAY_MAX_SECONDS, max(PLAY_MIN_SECONDS, depth * PLAY_SECONDS_PER_LAYER))


def _fit_width(label: QLabel, widest: str) -> None:
    """Room for the widest text up front: a label that grows while training re-lays out
    the window, and so repaints every view in it, with each new snapshot."""
    label.setMinimumWidth(max(150, label.fontMetrics().horizontalAdvance(widest) + 8))
