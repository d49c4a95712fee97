"""The layers a layer view draws over the data: velocity field, densities, costates.

Why its own module: the 2-D and the 3-D view carry the same overlays (each an artist of
render/field_layer.py, density_layer.py or costate_layer.py: set_palette / hide /
update(scene, st, bounds) / caption) and decide alike when each is drawn (its
ViewOptions flag) and what their caption line says; only the artists' dimension
differs, so the views hand theirs in.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from nndyn_gui.render.palette import Palette
from nndyn_gui.render.scene import FlowScene, FrameState, ViewOptions


class OverlayLayers:
    """The field's artist and the per-layer overlays of one view, drawn by the options."""

    def __init__(self, field: Any, density: Any, costate: Any) -> None:
        self.field = field  # velocity arrows and fixed points (show_field)
        #: per-layer overlays drawn from the scene at time t: (ViewOptions flag, artist)
        self.overlays: list[tuple[str, Any]] = [
            ("show_density", density),  # each class's density of fresh points
            ("show_costate", costate),  # -∂loss/∂x_t at training points
        ]

    def items(self) -> list[Any]:
        """Every graphics item of the artists (a 3-D view adds them to its scene)."""
        return [*self.field.items, *(it for _, a in self.overlays for it in a.items)]

    def set_palette(self, pal: Palette, scale: float) -> None:
        self.field.set_palette(pal, scale)
        for _flag, artist in self.overlays:
            artist.set_palette(pal, scale)

    def update_field(
        self,
        sc: FlowScene | None,
        st: FrameState,
        options: ViewOptions,
        bounds: np.ndarray,
        target: int | None = None,
    ) -> None:
        """The arrows over `bounds` (`target`: about this many; None: the artist's own)."""
        if not options.show_field or sc is None:
            self.field.hide()
        elif target is None:
            self.field.update(sc, st, bounds)
        else:
            self.field.update(sc, st, bounds, target)

    def update_overlays(
        self, sc: FlowScene | None, st: FrameState, options: ViewOptions, bounds: np.ndarray
    ) -> None:
        """Each per-layer overlay at frame `st` where its option is on, else hidden."""
        for flag, artist in self.overlays:
            if getattr(options, flag) and sc is not None:
                artist.update(sc, st, bounds)
            else:
                artist.hide()

    def captions(self) -> list[str]:
        """The drawn layers' captions (field first), empty ones left out."""
        return [c for c in [self.field.caption, *(a.caption for _, a in self.overlays)] if c]
