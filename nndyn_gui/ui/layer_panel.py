"""The central view: x(t) of the shown snapshot, a layer slider, Play and a snapshot scrubber.

Why it looks like this:
- A FlowScene (data, grid and loop carried through every layer) costs tens of
  milliseconds for deep nets, so scenes are built on one background thread, newest
  request wins, and only the finished scene is handed to the view on the GUI thread.
  While training appends snapshots up to ~30 times a second, at most one build is in
  flight, so the window never stalls behind a queue of stale pictures.
- This panel only decides *what* is shown when; each job is a collaborator's: scenes
  are built by ui/scene_builder.py, layer time, Play and whole-layer steps are
  ui/playback.py's (both shared with Compare), the view widget with its selection and
  camera lives in ui/view_host.py (re-created only when its kind changes, 2-D <-> 3-D),
  the toggles row is ui/view_toggles.py, Draw mode ui/draw_mode.py with its row (and CSV
  export) ui/draw_controls.py, the snapshot slider ui/snapshot_scrubber.py and the saved
  camera views ui/camera_path.py. The window reads and sets time, Play, Draw mode and the
  camera through the aliases set in __init__.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import QHBoxLayout, QLabel, QVBoxLayout, QWidget

from nndyn_gui.core.config import RunConfig
from nndyn_gui.core.types import Snapshot
from nndyn_gui.render.scene import FlowScene, ViewOptions
from nndyn_gui.render.views import opengl_available
from nndyn_gui.ui.background import Job
from nndyn_gui.ui.camera_path import CameraPath
from nndyn_gui.ui.draw_controls import DrawControls
from nndyn_gui.ui.draw_mode import DrawMode
from nndyn_gui.ui.playback import PLAY_SPEEDS, SLIDER_RES, Playback
from nndyn_gui.ui.scene_builder import SceneBuilder, scene_job, scene_matches
from nndyn_gui.ui.snapshot_scrubber import SnapshotScrubber
from nndyn_gui.ui.state import AppState
from nndyn_gui.ui.view_host import LayerViewHost
from nndyn_gui.ui.view_toggles import OPTION_BOXES, ViewToggles

__all__ = ["OPTION_BOXES", "PLAY_SPEEDS", "SLIDER_RES", "LayerPanel"]

PLAY_SECONDS_PER_LAYER = 0.12  # a 51-block net plays in ~6 s, a 4-layer MLP in ~1.5 s
PLAY_MIN_SECONDS = 1.5
PLAY_MAX_SECONDS = 8.0
MAX_POINTS = 3000


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
        self.scene: FlowScene | None = None
        self._follow_end = False
        self._background = background_build
        self._closed = False
        self._aim_after_training = False
        self.builder = SceneBuilder(self, name="nndyn-scene", epoch=lambda: state.snapshots)
        self.builder.built.connect(self._on_built)
        self.builder.throttledStarted.connect(self._on_snapshots)  # the slider follows
        state.view_sets_shown()  # the readouts follow what this view has drawn
        self.playback = pb = Playback(self._play_seconds, self)
        pb.timeChanged.connect(self._on_time)
        # Play's state, read and set by the window and its saved settings
        self.time, self.t_max = pb.time, pb.t_max
        self.play, self.toggle_play = pb.play, pb.toggle_play
        self.is_playing, self.repeat, self.set_repeat = pb.is_playing, pb.repeat, pb.set_repeat
        self.play_speed, self.set_play_speed = pb.speed, pb.set_speed
        # layer time: the slider follows; whole layers stop Play; held at 0 while drawing
        self.set_time, self.show_last_layer = pb.set_time, pb.show_last_layer
        self.show_layer, self.step_layer = pb.show_layer, pb.step_layer

        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(4)
        self.host = LayerViewHost()
        self.host.cameraChanged.connect(self.cameraChanged)
        # the camera and the selection are the view's, kept across views by the host
        self.camera, self.reset_camera = self.host.camera, self.host.reset_camera
        self.selection = self.host.selection
        self.view_box = self.host
        lay.addWidget(self.host, 1)
        self.camera_path = CameraPath(self.camera, pb.layer_at, self)  # for Play and video
        self.camera_path.message.connect(self.message)
        self.camera_keys = self.camera_path.keys
        pb.playTick.connect(self._follow_camera_path)

        controls = QWidget()
        controls.setObjectName("layerControls")
        self.controls_box = controls  # hidden in presentation mode
        cl = QVBoxLayout(controls)
        cl.setContentsMargins(8, 2, 8, 4)
        cl.setSpacing(2)
        lay.addWidget(controls)

        row = QHBoxLayout()
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

        self.toggles = ViewToggles(self._options)
        self.checks, self.check_3d = self.toggles.checks, self.toggles.check_3d
        self.draw_button = self.toggles.draw_button
        self.toggles.toggled.connect(self._on_toggled)
        self.check_3d.toggled.connect(self._on_3d_toggled)
        cl.addWidget(self.toggles)
        self.draw_controls = dc = DrawControls(state, self)
        self.draw_tool, self.draw_class = dc.draw_tool, dc.draw_class
        self.undo_button, self.redo_button = dc.undo_button, dc.redo_button
        self.clear_button = dc.clear_button
        self.act_undo_draw, self.act_redo_draw = dc.act_undo_draw, dc.act_redo_draw
        self.draw_row = dc  # shown while drawing
        cl.addWidget(dc)
        self.host.drawEdit.connect(self.draw_tool.edit)
        self.draw_mode = DrawMode(state, self.draw_button, self.check_3d, dc, pb, self.host, self)
        self.draw_mode.changed.connect(self.drawingChanged)
        self.drawing, self.set_drawing = self.draw_mode.active, self.draw_mode.set_active

        state.currentChanged.connect(self._on_current)
        state.datasetChanged.connect(self._on_dataset)
        dc.message.connect(self.message)
        state.snapshotsChanged.connect(self._on_snapshots)
        state.trainingStateChanged.connect(self._on_training_state)
        state.configChanged.connect(self._on_config)
        self._on_config(state.config)
        self._on_snapshots()
        self.rebuild_now()

    # ------------------------------------------------------------------ public
    @property
    def view(self) -> Any:
        """The layer view now shown (LayerView2D | LayerView3D), None before the first."""
        return self.host.view

    @property
    def prefer_3d(self) -> bool:
        return self.host.prefer_3d

    def options(self) -> ViewOptions:
        return self._options

    def set_options(self, options: ViewOptions) -> None:
        """Show other view options; rebuilds the scene only if the arrays change."""
        old = self._options
        self._options = options
        self.toggles.show_options(options)
        if old.needs_rebuild(options):
            self._schedule()  # new arrays (grid size, sub-steps): built in the background
        elif self.view is not None:
            self.view.set_options(options)
            if self.scene is not None:
                self.scene = self.scene.with_options(options)
        self.optionsChanged.emit(options)

    def set_selection(self, dataset_rows: Any) -> None:
        """Select these data points (rows of dataset.x_all) in the current and later views."""
        self.host.set_selection(dataset_rows, len(self.state.dataset.x_all))

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

    # ------------------------------------------------------------------ time and camera
    @Slot(float)
    def _on_time(self, t: float) -> None:
        t_max = self.t_max()
        self._follow_end = t_max > 0 and t >= t_max
        if self.view is not None:
            self.view.set_time(t)
        self.timeChanged.emit(t)

    @Slot(float)
    def _follow_camera_path(self, t: float) -> None:
        """While playing, move the 3-D camera along the saved views (as a video will)."""
        self.host.set_camera(self.camera_path.at(t, self.t_max()))

    def _play_seconds(self) -> float:
        """One pass through all layers at 1×: longer for deeper nets, within bounds."""
        depth = self.scene.depth if self.scene is not None else 1
        return min(PLAY_MAX_SECONDS, max(PLAY_MIN_SECONDS, depth * PLAY_SECONDS_PER_LAYER))

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
        st = self.state
        if not self.builder.busy() and scene_matches(
            self.scene,
            st.run_config,
            st.weights,
            st.dataset,
            self._options,
            st.current.step if st.current is not None else None,
        ):  # e.g. a new run's step-0 snapshot is the untrained net on screen: building
            # it again would only hold back the first trained picture
            assert st.current is not None
            st.set_shown(st.current)  # its numbers are the ones to read
            self.scrubber.sync()
        elif st.training_state != "training":
            self.builder.request(self._job())
        else:  # the first snapshot of a run at once, then at most one per hold
            self.builder.request_throttled(self._job)

    @Slot(object, str)
    def _on_built(self, result: tuple[FlowScene, Snapshot] | None, error: str) -> None:
        """A scene is ready: draw it, and tell the state which snapshot is now on screen."""
        if result is None:
            if error:
                self.message.emit(error)
            return
        scene, snap = result
        self._apply(scene)
        self.state.set_shown(snap)
        self.scrubber.show_label()

    def _apply(self, scene: FlowScene) -> None:
        old = self.scene
        was_end = self._follow_end
        self.scene = scene
        current = self.state.current
        shows_current = (
            scene.source is not None and current is not None and scene.source[1] is current.weights
        )  # not a build of the snapshot shown before, still arriving
        if self.host.show_scene(scene):  # a new view: it faces the scene's plane already
            if shows_current:
                self._aim_after_training = False
        elif self._aim_after_training and self.state.training_state == "idle" and shows_current:
            self._aim_after_training = False
            if self.host.kind == "3d":
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

    # ------------------------------------------------------------------ state signals
    @Slot(object)
    def _on_dataset(self, *_: object) -> None:
        """Other data: the old selection names other points."""
        self.host.set_selection([], 0)
        self._schedule()

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
        self.toggles.follow_config(cfg)
        if cfg.model.kind != "mlp" and self._options.substeps:
            self.set_options(self._options.copy(substeps=False))
        source = self.scene.source if self.scene is not None else None
        if source is not None and source[0].data.names != self.state.run_config.data.names:
            self._schedule()  # typed class names: the hover readout says them at once

    @Slot()
    def _on_snapshots(self) -> None:
        # every repaint of the window costs a full composition (~20 ms) when it holds a
        # 3-D view on a software OpenGL: while training the slider follows the view
        if self.state.training_state == "training" and self.builder.holding():
            return
        if self.state.training_state == "idle":  # trained, loaded, reset: a new plane
            self._aim_after_training = True  # the next scene faces it (unless moved)
        self.scrubber.refresh()

    @Slot(dict)
    def _on_toggled(self, changes: dict[str, bool]) -> None:
        self.set_options(self._options.copy(**changes))

    @Slot(bool)
    def _on_3d_toggled(self, on: bool) -> None:
        self.host.prefer_3d = on
        if self.scene is not None:
            self._apply(self.scene)


def _fit_width(label: QLabel, widest: str) -> None:
    """Room for the widest text up front: a label that grows while training re-lays out
    the window, and so repaints every view in it, with each new snapshot."""
    label.setMinimumWidth(max(150, label.fontMetrics().horizontalAdvance(widest) + 8))
