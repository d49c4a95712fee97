"""The whole flow at a glance: one small panel per chosen layer, following the views.

Why a wrapper: render.SmallMultiples only draws a FlowScene; this panel builds that
scene from AppState whenever the shown snapshot changes. Building costs a propagation
of data, grid and region image through every layer, so it runs on a NewestWins
thread; changes are coalesced with a short timer, and while training (up to ~30
snapshots a second) the panels refresh once a second only: each refresh
repaints every panel on the GUI thread. A hidden panel costs nothing; it catches up
when shown again.

The tiles follow the snapshot the main view has drawn (`AppState.shown`), as every
other number on screen does, and a line above them names its step; while they are
rebuilt for a newer one it says "computing step N…" and the old tiles stay, dimmed.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QColor, QPainter
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget
from superqt.utils import qdebounced

from nndyn_gui.core.types import Snapshot
from nndyn_gui.render import costate_layer, density_layer
from nndyn_gui.render.palette import palette_for
from nndyn_gui.render.scene import FlowScene, ViewOptions
from nndyn_gui.render.small_multiples import SmallMultiples
from nndyn_gui.ui import steps
from nndyn_gui.ui.background import Job, for_the_shown_run
from nndyn_gui.ui.state import AppState

MAX_POINTS = 1500

COALESCE_MS = 80
CAMERA_SETTLE_MS = 250
TRAINING_REFRESH_MS = 1000  # an overview: one picture a second while training
VEIL = QColor(255, 255, 255, 150)  # washes out the tiles of an older snapshot while a
# newer one is built


class _Veil(QWidget):
    """A translucent white sheet over the tiles (mouse clicks pass through it)."""

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.hide()

    def paintEvent(self, _ev: object) -> None:
        QPainter(self).fillRect(self.rect(), VEIL)


class SmallMultiplesPanel(QWidget):
    """render.SmallMultiples kept in step with AppState.shown; a click on a tile emits
    `layerClicked(k)`."""

    layerClicked = Signal(int)

    def __init__(
        self,
        state: AppState,
        parent: QWidget | None = None,
        options: ViewOptions | None = None,
        layers: list[int] | None = None,
    ) -> None:
        super().__init__(parent)
        self.state = state
        self._options = options or ViewOptions(grid_n=13, point_size=3.0)
        self._layers = layers
        self._stale = True
        self.snapshot: Snapshot | None = None  # the one the tiles show
        self.step_label = QLabel()
        self.step_label.setObjectName("allLayersStep")
        self.step_label.setContentsMargins(6, 0, 6, 2)
        self.multiples = SmallMultiples(self)
        self._veil = _Veil(self.multiples)
        self.multiples.installEventFilter(self)  # the veil follows its size
        self.multiples.layerClicked.connect(self.layerClicked)
        self._camera: tuple[float, float, float] | None = None
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(0)
        lay.addWidget(self.step_label)
        lay.addWidget(self.multiples, 1)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(COALESCE_MS)
        self._timer.timeout.connect(self._refresh)
        self._builder = for_the_shown_run(self, state, "nndyn-multiples", "draw this snapshot")
        self._builder.done.connect(self._show)
        state.shownChanged.connect(self._schedule)
        state.shownChanged.connect(self._show_step)
        state.configChanged.connect(self._schedule)
        state.datasetChanged.connect(self._schedule)
        self.refresh_now()
        self._show_step()

    # ------------------------------------------------------------------ public
    def set_options(self, options: ViewOptions) -> None:
        """Show other view options (what the main view's toggles change).

        Options that change the arrays (grid size, sub-steps) rebuild the scene in the
        background like any other change; the others only restyle the panels."""
        old, self._options = self._options, options
        if old.needs_rebuild(options):
            self._schedule()
        else:
            self.multiples.set_options(options)

    def set_camera(self, cam: tuple[float, float, float] | None) -> None:
        """The main view's camera: the 3-D tiles follow it (once it has come to rest)."""
        self._camera = cam
        self._apply_camera()

    @qdebounced(timeout=CAMERA_SETTLE_MS)  # a camera drag redraws the 3-D tiles once at rest
    def _apply_camera(self) -> None:
        """Redraw the 3-D tiles for the camera; a hidden panel does it when shown."""
        if self.isVisible():
            self.multiples.set_camera(self._camera)

    def set_layers(self, layers: list[int] | None) -> None:
        """Which layers get a panel (None: input, every k-th hidden layer, output)."""
        self._layers = layers
        self.multiples.set_layers(layers)

    def refresh_now(self) -> None:
        """Build and show the scene of the snapshot shown now, synchronously."""
        self._timer.stop()
        job = self._job()
        if job is not None:
            self._show(*self._builder.run_now(job), spread=False)

    def pending_snapshot(self) -> Snapshot | None:
        """The snapshot on screen whose tiles are still being built (None: shown)."""
        return steps.pending(self.snapshot, self._target())

    def wait_idle(self, timeout_s: float = 30.0) -> None:
        """Block until no background build is pending, then show the newest scene."""
        self._builder.wait(timeout_s)
        self.refresh_now()

    def shutdown(self) -> None:
        """Stop the builder thread (window close)."""
        self._timer.stop()
        self._apply_camera.cancel()
        self._builder.shutdown()
        self.multiples.shutdown()

    def _target(self) -> Snapshot | None:
        """The snapshot the tiles should show: the one the main view shows."""
        return steps.on_screen(self.state)

    def _job(self) -> Job | None:
        st = self.state
        snap = steps.view_target(st)
        if snap is None:
            return None
        weights = snap.weights
        config, dataset, options = st.run_config, st.dataset, self._options

        def job() -> tuple[FlowScene, Snapshot]:
            # 3-D for width 3 (3-D tiles), and its 2-D projection, made here, not on the GUI
            scene = FlowScene.build(config, weights, dataset, options, MAX_POINTS, step=snap.step)
            for shown in (scene, scene.projected_2d()):
                shown.region_image(palette_for(options.background))
                if options.show_density:  # counted here, not by a tile on the GUI thread
                    density_layer.warm(shown)
                if options.show_costate:
                    costate_layer.warm(shown)
            return scene, snap

        return job

    def _refresh(self) -> None:
        job = self._job()
        if job is not None:
            self._builder.request(job)

    @Slot(object, str)
    def _show(
        self, result: tuple[FlowScene, Snapshot] | None, error: str, spread: bool = True
    ) -> None:
        if result is None:
            return
        scene, self.snapshot = result
        if self._layers is not None:
            self._layers = [k for k in self._layers if 0 <= k <= scene.depth] or None
        self.multiples.set_layers(self._layers, rebuild=False)
        self.multiples.set_scene(scene, spread=spread)
        self._stale = False
        self._show_step()

    @Slot()
    def _show_step(self, *_: object) -> None:
        """ "step 1,200", or "step 1,000 · computing step 1,200…" over dimmed tiles."""
        target = self._target()
        self.step_label.setText(steps.caption(self.snapshot, target))
        dim = self.snapshot is not None and steps.pending(self.snapshot, target) is not None
        if dim:
            self._veil.setGeometry(self.multiples.rect())
            self._veil.raise_()  # above tiles made since
        self._veil.setVisible(dim)

    def dimmed(self) -> bool:
        """True while the tiles shown are drawn washed out (an older snapshot's)."""
        return self._veil.isVisibleTo(self.multiples)

    # ------------------------------------------------------------------ slots
    @Slot(object)
    def _schedule(self, *_: object) -> None:
        self._stale = True
        if not self.isVisible():
            return
        if self.state.training_state == "training":
            if not self._timer.isActive():  # not restarted: refreshes keep coming
                self._timer.start(TRAINING_REFRESH_MS)
        else:
            self._timer.start(COALESCE_MS)

    def eventFilter(self, obj: QObject, ev: QEvent) -> bool:
        if obj is self.multiples and ev.type() == QEvent.Type.Resize:
            self._veil.setGeometry(self.multiples.rect())
            self._veil.raise_()
        return super().eventFilter(obj, ev)

    def showEvent(self, ev: Any) -> None:
        super().showEvent(ev)
        self._apply_camera()  # a camera moved while hidden (no-op when unchanged)
        if self._stale:
            self._timer.start()
