"""All layers at a glance: a grid of small views, one per chosen layer (`SmallMultiples`).

Why its own module: the tiles are a view of their own (layout by `views.sheet_grid`,
fewer tiles when they would be unreadable, 3-D tiles drawn by one hidden LayerView3D,
the caption under them), used by the window's All layers dock; render/views.py chooses
and captures single views.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from PySide6.QtCore import QEvent, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QImage, QPalette, QPixmap
from PySide6.QtWidgets import QGridLayout, QLabel, QSizePolicy, QVBoxLayout, QWidget

from nndyn_gui.core.analysis import narrator
from nndyn_gui.render.palette import palette_for
from nndyn_gui.render.scene import FlowScene, ViewOptions
from nndyn_gui.render.view2d import LayerView2D
from nndyn_gui.render.views import (
    MAX_PANELS,
    _resize_hidden,
    capture,
    default_layers,
    opengl_available,
    sheet_grid,
    tile_side,
)


class _GLTile(QLabel):
    """One tile of a 3-D scene: a picture drawn by the shared hidden 3-D view."""

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self.layer = 0
        self._t = 0.0
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setMinimumSize(40, 40)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Ignored)

    def time(self) -> float:
        return self._t


class SmallMultiples(QWidget):
    """A grid of small panels, one per chosen layer: the whole flow at a glance.

    - Tiles are laid out to be as big as the widget allows (`sheet_grid`), and when the
      widget is too small for readable tiles (MIN_TILE px), fewer layers are shown.
    - A click on a tile emits `layerClicked(k)` (the window shows that layer).
    - 3-D scenes (width 3) are drawn as 3-D pictures, the camera of `set_camera` (the main
      view's), by one hidden 3-D view: the same picture as the main view, with the exact
      plane at the output. Without OpenGL, and for wider nets' 2-D views, tiles are 2-D
      head-axes projections (scene.FlowScene), whose output line is the exact boundary.
    """

    layerClicked = Signal(int)
    MIN_TILE = 120  # px: below this a tile's points and label are too small to read

    def __init__(
        self, parent: QWidget | None = None, columns: int | None = None, prefer_3d: bool = True
    ) -> None:
        super().__init__(parent)
        self._scene: FlowScene | None = None  # what 2-D tiles draw (projected)
        self._scene3: FlowScene | None = None  # what 3-D tiles draw, when they are used
        self._layers: list[int] | None = None
        self._columns = columns
        self.prefer_3d = prefer_3d
        self.panels: list[Any] = []
        self._camera: tuple[float, float, float] | None = None
        self._renderer: Any = None  # the hidden LayerView3D of the 3-D tiles
        self._outer = QVBoxLayout(self)
        self._outer.setContentsMargins(2, 2, 2, 2)
        self._outer.setSpacing(2)
        self.caption = QLabel("")
        self.caption.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        # two lines, always shown (blank when there is nothing to say): a caption that
        # changes with the snapshot (the projection's note, or none) must not re-lay out
        # every tile, ~100 ms for a deep net
        self.caption.setWordWrap(True)
        self.caption.setFixedHeight(2 * self.caption.fontMetrics().lineSpacing() + 2)
        self.caption.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        self._outer.addWidget(self.caption)
        self._grid = QGridLayout()
        self._grid.setSpacing(2)
        self._outer.addLayout(self._grid, 1)
        self._plan: list[tuple[int, int]] = []  # (panel index, layer) still to draw
        self._cols = 1
        self._cells: dict[int, tuple[int, int]] = {}  # id(panel) -> (row, column)
        self._shown_layers: list[int] = []
        self._step_timer = QTimer(self)
        self._step_timer.setInterval(0)
        self._step_timer.timeout.connect(self._step)
        self._relayout_timer = QTimer(self)
        self._relayout_timer.setSingleShot(True)
        self._relayout_timer.setInterval(120)
        self._relayout_timer.timeout.connect(self._on_resized)

    def flow_scene(self) -> FlowScene | None:
        return self._scene

    def options(self) -> ViewOptions:
        return self._scene.options if self._scene is not None else ViewOptions()

    def is_3d(self) -> bool:
        """True when the tiles are 3-D pictures (width 3 with OpenGL)."""
        return self._scene3 is not None

    def layers(self) -> list[int]:
        """The layers shown: the chosen ones, or as many as fit readable tiles."""
        if self._scene is None:
            return []
        if self._layers is not None:
            return list(self._layers)
        return default_layers(self._scene.depth, self._fitting_panels())

    def set_scene(self, scene: FlowScene, spread: bool = False) -> None:
        """Show a scene; 3-D tiles for a 3-D scene when OpenGL works, else 2-D projections.

        One projection for every 2-D panel, so the layers can be compared; the input
        panel is drawn in its own coordinates x1, x2 (see scene.FlowScene).

        `spread`: update one panel per event-loop turn instead of all at once, so a
        live window never stalls for the ~8 ms per panel times the number of panels.
        """
        use_3d = scene.dims == 3 and self.prefer_3d and opengl_available()
        if use_3d != self.is_3d() and self.panels:
            self._clear_panels()  # other kind of tile
        self._scene3 = scene if use_3d else None
        self._scene = scene.projected_2d()
        self._rebuild(spread)

    def set_camera(self, cam: tuple[float, float, float] | None) -> None:
        """The camera (azimuth, elevation, zoom) of the 3-D tiles; None = facing the plane."""
        if cam == self._camera:
            return
        self._camera = cam
        if self.is_3d():
            self._rebuild(spread=True)

    def set_layers(self, layers: list[int] | None, rebuild: bool = True) -> None:
        """Which layers get a panel (None = input, every k-th hidden, output, as fit)."""
        self._layers = None if layers is None else [int(k) for k in layers]
        if rebuild:
            self._rebuild()

    def updating(self) -> bool:
        """True while a spread update still has panels to draw."""
        return bool(self._plan)

    def set_options(self, options: ViewOptions) -> None:
        if self._scene is None:
            return
        if self._scene.options.needs_rebuild(options) and self._scene.source:
            base = self._scene3 if self._scene3 is not None else self._scene
            self.set_scene(base.rebuilt(options))
            return
        self._scene = self._scene.with_options(options)
        if self._scene3 is not None:
            self._scene3 = self._scene3.with_options(options)
            self._rebuild(spread=True)
            return
        for p in self.panels:
            p.set_options(options)

    def set_selection(self, indices: np.ndarray) -> None:
        for p in self.panels:
            if hasattr(p, "set_selection"):
                p.set_selection(indices)

    def shutdown(self) -> None:
        self._step_timer.stop()
        self._relayout_timer.stop()
        r, self._renderer = self._renderer, None
        if r is not None:
            r.setParent(None)
            r.deleteLater()

    # ------------------------------------------------------------------ layout
    def _area(self) -> tuple[float, float]:
        m = self._outer.contentsMargins()
        cap = self.caption.maximumHeight() + self._outer.spacing()
        w = max(1, self.width() - m.left() - m.right())
        h = max(1, self.height() - m.top() - m.bottom() - cap)
        return float(w), float(h)

    def _fitting_panels(self) -> int:
        """How many panels (3..MAX_PANELS) fit tiles of at least MIN_TILE px (all of them
        while hidden: the size is not known yet; a resize lays them out again)."""
        if not self.isVisible():
            return MAX_PANELS
        w, h = self._area()
        n = MAX_PANELS
        while n > 3 and tile_side(n, w, h) < self.MIN_TILE:
            n -= 1
        return n

    def resizeEvent(self, ev: Any) -> None:
        super().resizeEvent(ev)
        if self._scene is not None:
            self._relayout_timer.start()

    def _on_resized(self) -> None:
        if self._scene is None:
            return
        w, h = self._area()
        layers = [k for k in self.layers() if 0 <= k <= self._scene.depth]
        cols = self._columns or sheet_grid(max(1, len(layers)), w, h)[1]
        if layers != self._shown_layers or cols != self._cols or self.is_3d():
            self._rebuild(spread=True)

    def _clear_panels(self) -> None:
        while self.panels:
            p = self.panels.pop()
            self._cells.pop(id(p), None)
            self._grid.removeWidget(p)
            p.setParent(None)
            p.deleteLater()

    def _rebuild(self, spread: bool = False) -> None:
        sc = self._scene
        if sc is None:
            return
        layers = [k for k in self.layers() if 0 <= k <= sc.depth]
        pj = sc.projection
        caption = narrator.sheet_caption(
            self.is_3d(),
            self._camera is not None,
            pj.note,
            pj.inner_note,
            has_input=0 in layers,
            boundary_in_output=sc.depth in layers and sc.boundary_drawn(sc.t_max),
        )
        if self.caption.text() != caption.text:
            self.caption.setText(caption.text)
            self.caption.setToolTip(caption.text)  # in full, should two lines not hold it
        while len(self.panels) > len(layers):
            p = self.panels.pop()
            self._cells.pop(id(p), None)
            self._grid.removeWidget(p)
            p.setParent(None)
            p.deleteLater()
        w, h = self._area()
        self._cols = self._columns or sheet_grid(max(1, len(layers)), w, h)[1]
        rows = max(1, math.ceil(len(layers) / self._cols))
        for r in range(max(rows, self._grid.rowCount())):  # equal rows and columns
            self._grid.setRowStretch(r, 1 if r < rows else 0)
        for c in range(max(self._cols, self._grid.columnCount())):
            self._grid.setColumnStretch(c, 1 if c < self._cols else 0)
        self._shown_layers = layers
        self._plan = list(enumerate(layers))
        if spread:
            self._step_timer.start()
        else:
            self._step_timer.stop()
            while self._plan:
                self._step()
        pal = palette_for(sc.options.background)
        pe = self.palette()
        pe.setColor(QPalette.ColorRole.Window, QColor(*pal.background))
        pe.setColor(QPalette.ColorRole.WindowText, QColor(*pal.foreground))
        self.setPalette(pe)
        self.setAutoFillBackground(pal.background[3] != 0)
        self.caption.setPalette(pe)

    def _step(self) -> None:
        """Create or update the next panel of the plan (one per timer tick when spread)."""
        sc = self._scene
        if sc is None or not self._plan:
            self._plan = []
            self._step_timer.stop()
            return
        i, k = self._plan.pop(0)
        if i >= len(self.panels):
            panel: Any = _GLTile(self) if self.is_3d() else LayerView2D(self, compact=True)
            panel.installEventFilter(self)
            if hasattr(panel, "viewport"):
                panel.viewport().installEventFilter(self)
            self.panels.append(panel)
        panel = self.panels[i]
        panel.layer = k
        cell = (i // self._cols, i % self._cols)
        if self._cells.get(id(panel)) != cell:  # re-adding re-lays out (repaints) them all
            self._grid.addWidget(panel, *cell)
            self._cells[id(panel)] = cell
        if isinstance(panel, _GLTile):
            self._draw_tile(panel, k)
        else:
            panel.set_scene(sc)
            panel.set_time(float(sc.frame_of_layer(k)))
        if not self._plan:
            self._step_timer.stop()

    def _draw_tile(self, tile: _GLTile, k: int) -> None:
        """Draw layer k of the 3-D scene into a tile with the shared hidden 3-D view."""
        sc = self._scene3
        if sc is None:
            return
        from nndyn_gui.render.view3d import LayerView3D

        w, h = self._area()
        rows = max(1, math.ceil(len(self._shown_layers) / max(1, self._cols)))
        side_w = max(40, int(w / max(1, self._cols)) - 2)
        side_h = max(40, int(h / rows) - 2)
        if self._renderer is None:
            # a hidden child, not a window of its own: it shares the GL context group of
            # the window's 3-D view (a separate hidden window's context did not, after
            # other windows had come and gone, and lost its point shader)
            self._renderer = LayerView3D(self, options=sc.options)
            self._renderer.compact_overlay = True
            self._renderer.hide()
        r = self._renderer
        if r.flow_scene() is not sc:
            _resize_hidden(r, side_w, side_h)
            r.set_scene(sc)
        if self._camera is not None:
            az, el, zoom = self._camera
            r.set_camera(az, el, zoom=zoom)
        else:
            r.reset_camera()
        t = float(sc.frame_of_layer(k))
        r.set_time(t)
        tile._t = t
        rgba = capture(r, side_w, side_h)
        img = QImage(rgba.data, side_w, side_h, 4 * side_w, QImage.Format.Format_RGBA8888)
        tile.setPixmap(QPixmap.fromImage(img.copy()))

    def eventFilter(self, obj: Any, ev: Any) -> bool:
        """A click on a tile: show that layer."""
        if ev.type() == QEvent.Type.MouseButtonPress and ev.button() == Qt.MouseButton.LeftButton:
            for p in self.panels:
                if obj is p or (hasattr(p, "viewport") and obj is p.viewport()):
                    self.layerClicked.emit(int(p.layer))
                    return True
        return False
