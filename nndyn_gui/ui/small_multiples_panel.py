"""The whole flow at a glance: one small panel per chosen layer, following the views.

Why a wrapper: render.SmallMultiples only draws a FlowScene; this panel builds that
scene from AppState whenever the shown snapshot changes. Building costs a propagation
of data, grid and region image through every layer, so changes are coalesced with a
short timer (training appends up to ~30 snapshots a second) and skipped while the
panel is hidden (a closed dock costs nothing; it catches up when shown again).
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QTimer, Slot
from PySide6.QtWidgets import QVBoxLayout, QWidget

from nndyn_gui.render.scene import FlowScene, ViewOptions
from nndyn_gui.render.views import SmallMultiples
from nndyn_gui.ui.state import AppState

COALESCE_MS = 80


class SmallMultiplesPanel(QWidget):
    """render.SmallMultiples kept in step with AppState.current."""

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
        self.multiples = SmallMultiples(self)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.multiples)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(COALESCE_MS)
        self._timer.timeout.connect(self.refresh_now)
        state.currentChanged.connect(self._schedule)
        state.configChanged.connect(self._schedule)
        state.datasetChanged.connect(self._schedule)
        self.refresh_now()

    # ------------------------------------------------------------------ public
    def set_options(self, options: ViewOptions) -> None:
        """Show other view options (what the main view's toggles change)."""
        self._options = options
        self.multiples.set_options(options)

    def set_layers(self, layers: list[int] | None) -> None:
        """Which layers get a panel (None: input, every k-th hidden layer, output)."""
        self._layers = layers
        self.multiples.set_layers(layers)

    def refresh_now(self) -> None:
        """Rebuild the scene of the snapshot shown now (the coalescing timer calls this)."""
        self._timer.stop()
        st = self.state
        if st.current is None:
            return
        weights = st.current.weights
        if weights.width != st.config.model.width or weights.depth != st.config.model.depth:
            return  # config changed and the new initial snapshot is on its way
        scene = FlowScene.build(st.config, weights, st.dataset, self._options, max_points=1500)
        if self._layers is not None:
            self._layers = [k for k in self._layers if 0 <= k <= weights.depth] or None
        self.multiples.set_layers(self._layers)
        self.multiples.set_scene(scene)
        self._stale = False

    # ------------------------------------------------------------------ slots
    @Slot(object)
    def _schedule(self, *_: object) -> None:
        self._stale = True
        if self.isVisible():
            self._timer.start()

    def showEvent(self, ev: Any) -> None:
        super().showEvent(ev)
        if self._stale:
            self._timer.start()
