"""What the 2-D and the 3-D layer view share: options, time, selection and tails.

Why its own module: both views (render/view2d.py, render/view3d.py) show a FlowScene at
layer time t the same way and differ only in how they draw; `SceneViewMixin` is that
common contract, and `tail_segments` cuts the fading trajectory tails both draw.
"""

from __future__ import annotations

import weakref
from typing import Any, Protocol, TypeVar, cast

import numpy as np

from nndyn_gui.render import picking
from nndyn_gui.render.palette import Palette, palette_for
from nndyn_gui.render.scene import FlowScene, FrameState, ViewOptions

TAIL_BUCKETS = 6  # alpha steps of a fading trajectory tail
ViewT = TypeVar("ViewT")


def held_weakly(view: ViewT) -> ViewT:
    """`view` as a collaborator the view itself holds keeps it (its hover, words,
    camera, mouse): a weak proxy, so the two make no reference cycle. With a cycle, a
    view nobody keeps (an export's, dropped after its frames) was deleted whenever
    Python's cyclic GC ran, even inside one of the view's own Qt events, which then
    returned into freed memory: a segfault (tests/render/test_view_lifetime.py)."""
    return cast(ViewT, weakref.proxy(view))


MAX_TRAJECTORIES = 400  # tails drawn for "show all trajectories"
#: text of exports and presentation (ViewOptions.hall_text) is this many times larger
#: than points and lines grow: a capital of an axis name or tick >= 2.5 % of the frame's
#: height at any size (sizes at scale 1 x 1.5 at 720p x HALL_TEXT)
HALL_TEXT = 1.6


def text_scale(options: ViewOptions) -> float:
    """The size factor of a view's text: ViewOptions.scale, HALL_TEXT times that for a
    lecture hall (exports, presentation; a big export stays the small one enlarged)."""
    s = float(options.scale) if np.isfinite(options.scale) and options.scale > 0 else 1.0
    return s * (HALL_TEXT if options.hall_text else 1.0)


def finite(a: np.ndarray) -> np.ndarray:
    """Arrays from diverging nets may hold inf/nan; Qt paints garbage or stalls on them."""
    if np.isfinite(a).all():
        return a
    return np.clip(np.nan_to_num(a, nan=0.0, posinf=1e6, neginf=-1e6), -1e6, 1e6)


def tail_segments(
    scene: FlowScene, t: float, rows: np.ndarray, tail_frames: float, buckets: int
) -> list[np.ndarray]:
    """Trajectory pieces of `rows` ending at time t, grouped by age (newest bucket first).

    Each entry is a (2K, dims) array of segment end points (pairs), so one line item
    per bucket can draw them with a single alpha.
    """
    out: list[np.ndarray] = [np.zeros((0, scene.dims)) for _ in range(buckets)]
    if len(rows) == 0 or tail_frames <= 0 or t <= 0:
        return out
    t0 = max(0.0, t - tail_frames)
    knots = [t0, *range(int(np.floor(t0)) + 1, int(np.ceil(t)))]
    knots = sorted({float(k) for k in knots if t0 <= k < t} | {t0})
    knots.append(t)
    pos = [scene.points_at(k, rows) for k in knots]
    pieces: list[list[np.ndarray]] = [[] for _ in range(buckets)]
    for a, b, ta, tb in zip(pos[:-1], pos[1:], knots[:-1], knots[1:], strict=True):
        age = t - 0.5 * (ta + tb)
        k = min(buckets - 1, int(age / tail_frames * buckets))
        seg = np.empty((2 * len(rows), scene.dims))
        seg[0::2], seg[1::2] = a, b
        pieces[k].append(seg)
    return [np.concatenate(p) if p else out[i] for i, p in enumerate(pieces)]


def _spread(n: int, k: int) -> np.ndarray:
    """k evenly spread row indices out of n (deterministic, so tails do not flicker)."""
    if n <= k:
        return np.arange(n)
    return np.unique(np.linspace(0, n - 1, k).astype(np.int64))


class HoverShown(Protocol):
    """A view's hover readout (render/view2d_hover.py, render/view3d_hover.py)."""

    hover: picking.Hover | None  # what it names now (None: nothing)

    def show(self, hover: picking.Hover | None, at: Any) -> None: ...


class SceneViewMixin:
    """What the 2-D and 3-D layer views do alike: options and selection over a FlowScene.

    Each view supplies `_DIMS`, `set_scene`, `_show_frame`, `_apply_style` and
    `hovering`.
    """

    _DIMS: int
    _notice: str
    _options: ViewOptions
    _pal: Palette
    _scene: FlowScene | None
    _selection: np.ndarray
    _t: float
    _masks: list[np.ndarray]
    _seg_flat: np.ndarray
    class_items: list[Any]
    hovering: HoverShown

    def _scale(self) -> float:
        """ViewOptions.scale: points, lines and text grow together (exports, presentation)."""
        s = float(getattr(self._options, "scale", 1.0))
        return s if np.isfinite(s) and s > 0 else 1.0

    def _text_scale(self) -> float:
        """text_scale of the view's scale: text grows faster than points for a hall."""
        return text_scale(self._options)

    def hover(self) -> picking.Hover | None:
        """What the mouse is over now (None: nothing, or the mouse is outside)."""
        return self.hovering.hover

    def clear_hover(self) -> None:
        self.hovering.show(None, None)

    def leaveEvent(self, ev: Any) -> None:
        self.clear_hover()
        super().leaveEvent(ev)  # type: ignore[misc]

    def set_scene(self, scene: FlowScene) -> None:
        raise NotImplementedError

    def _take_scene(self, scene: FlowScene) -> None:
        """What both views keep of a new scene: its options and palette, each class's
        points, the grid's segments, and the selection that still names points."""
        self._scene = scene
        self._options = scene.options
        self._pal = palette_for(self._options.background)
        self._masks = [np.flatnonzero(scene.labels == k) for k in range(len(self.class_items))]
        self._seg_flat = np.ascontiguousarray(scene.segments.ravel())
        self._selection = self._selection[self._selection < scene.points.shape[1]]

    def _show_frame(self, st: FrameState) -> None:
        raise NotImplementedError

    def _apply_style(self) -> None:
        raise NotImplementedError

    def set_time(self, t: float) -> None:
        """Show the scene at time t (frames; fractional t interpolates linearly)."""
        sc = self._scene
        if sc is None:
            self._t = float(t)
            return
        st = sc.at(t)
        self._t = st.t
        self._show_frame(st)

    def flow_scene(self) -> FlowScene | None:
        """The FlowScene shown (not `scene()`, which is QGraphicsView's)."""
        return self._scene

    def options(self) -> ViewOptions:
        return self._options

    def time(self) -> float:
        return self._t

    def selection(self) -> np.ndarray:
        return self._selection.copy()

    def notice(self) -> str:
        return self._notice

    def set_options(self, options: ViewOptions) -> None:
        """Change what is drawn; rebuilds the scene only for grid size / substeps."""
        old = self._options
        self._options = options
        self._pal = palette_for(options.background)
        if self._scene is not None and old.needs_rebuild(options) and self._scene.source:
            frac = self._t / max(self._scene.t_max, 1.0)
            scene = self._scene.rebuilt(options, dims=self._DIMS)
            self._t = frac * scene.t_max
            self.set_scene(scene)
            return
        if self._scene is not None:  # a copy: the scene may be shared with other views
            self._scene = self._scene.with_options(options)
        self._apply_style()
        self.set_time(self._t)

    def set_selection(self, indices: np.ndarray | list[int]) -> None:
        """Highlight these points (rows of scene.points) and draw their trajectories."""
        sel = np.unique(np.asarray(indices, dtype=np.int64).ravel())
        if self._scene is not None:
            sel = sel[(sel >= 0) & (sel < self._scene.points.shape[1])]
        self._selection = sel
        self.set_time(self._t)
