"""The distribution as a view layer: each class's density of fresh points at layer t.

What is drawn (core.analysis.density): ~50,000 fresh points per class of the run's data
distribution (another seed than the training sample, the same noise), pushed through the
shown snapshot's net. 2-D: each class's histogram on one box around every layer (the
steady box, grown a little) painted as one RGBA image, one colour per class (the
palette's), opacity growing with density, the classes blended where they overlap; exact
histograms at each frame, a linear blend of the two nearest frames between them. 3-D: a
fixed subset of the same points, each drawn with an opacity from its class's 3-D density
where it sits (counted from all the points), moving with the flow.

Computed once per scene and cached in `scene.cache` (the UI warms it on its builder
thread: `warm`); a frame then costs one blend of two (K, H, W) arrays. Like
render/field_layer.py, the artists only push arrays into their items: every per-layer
overlay has `set_palette(pal, scale)`, `hide()`, `update(scene, st, bounds)`, `caption`.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtGui import QPainter, QTransform

from nndyn_gui.core.analysis import density
from nndyn_gui.core.datasets import DataError
from nndyn_gui.render.palette import Palette, rgba_f
from nndyn_gui.render.scene import FlowScene, FrameState
from nndyn_gui.render.scene_geometry import _input_coords, steady_box

log = logging.getLogger(__name__)

BOX_MARGIN = 0.08  # the histogram box: every layer's box, grown by this share per side
GAMMA = 0.5  # opacity = (relative density) ** GAMMA: the thin tails of a class stay visible
REF_QUANTILE = 0.9  # a class is fully opaque from this quantile of its occupied bins on
MAX_ALPHA = 0.92  # the densest bins of a class, as opaque as this
CLOUD_ALPHA = (0.08, 0.85)  # 3-D: opacity of the sparsest / densest points
CLOUD_SIZE = 4.0  # px at ViewOptions.scale 1
Z_2D = -15  # above the decision regions (-20), under the grid (-10) and the points


def density_box(scene: FlowScene) -> np.ndarray:
    """(2, dims) one box around every frame of the scene, grown by BOX_MARGIN per side."""
    box = steady_box(scene.bounds)
    mid, half = 0.5 * (box[0] + box[1]), 0.5 * (box[1] - box[0]) * (1.0 + 2 * BOX_MARGIN)
    half = np.maximum(half, 1e-6)
    return np.stack([mid - half, mid + half])


def _to_view(scene: FlowScene) -> density.ToView:
    """Positions of frame f -> view coordinates, as the scene maps its own points (the
    input frame of a projected view in its own plane: render.scene.FlowScene)."""
    proj, dims = scene.projection, scene.dims

    def to_view(f: int, x: np.ndarray) -> np.ndarray:
        if f == 0 and proj.projected:
            return _input_coords(x, dims)
        return proj.apply(x)

    return to_view


def _population(scene: FlowScene) -> density.Population | None:
    src = scene.source
    if src is None or scene.projection.kind == "ortho":
        return None
    config, weights, _dataset, _ = src
    try:
        return density.fresh_points(config, density.PER_CLASS, weights.classes)
    except (density.DensityUnavailable, DataError) as exc:
        scene.cache["density_why"] = str(exc)
        return None


def density_stack(scene: FlowScene) -> density.DensityStack | None:
    """The 2-D scene's per-frame class histograms (cached; None when unavailable)."""
    return _pushed(scene, "density2d", 2, density.push_histograms)


def density_cloud(scene: FlowScene) -> density.DensityCloud | None:
    """The 3-D scene's weighted point cloud (cached; None when unavailable)."""
    return _pushed(scene, "density3d", 3, density.push_cloud)


def _pushed(scene: FlowScene, key: str, dims: int, push: Any) -> Any:
    """`push` the scene's fresh population through its frames, once per scene."""
    if key in scene.cache:
        return scene.cache[key]
    out = None
    pop = _population(scene) if scene.dims == dims else None
    if pop is not None and scene.source is not None:
        config, weights, _, _ = scene.source
        out = push(
            config.model,
            weights,
            pop,
            _to_view(scene),
            density_box(scene),
            substeps=scene.options.substeps,
        )
    scene.cache[key] = out
    return out


def warm(scene: FlowScene) -> None:
    """Compute the density of this scene now (on the builder thread, not the GUI's)."""
    if scene.dims == 2:
        density_stack(scene)
    else:
        density_cloud(scene)


def class_colours(pal: Palette, k: int) -> np.ndarray:
    """(K, 3) 0..1 colours of the classes in this palette."""
    return np.array([rgba_f(pal.class_color(i))[:3] for i in range(k)])


def density_rgba(counts: np.ndarray, colours: np.ndarray) -> np.ndarray:
    """(K, H, W) counts -> (H, W, 4) uint8: each class its colour, opacity growing with
    its density (relative to its densest bins), overlapping classes mixed by opacity."""
    a = MAX_ALPHA * density.relative_density(counts, REF_QUANTILE) ** GAMMA  # (K, H, W)
    total = a.sum(axis=0)
    alpha = 1.0 - np.prod(1.0 - a, axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        rgb = np.einsum("khw,kc->hwc", a, colours) / total[..., None]
    rgb = np.nan_to_num(rgb)
    out = np.empty((*alpha.shape, 4), dtype=np.uint8)
    out[..., :3] = np.clip(rgb * 255.0 + 0.5, 0, 255).astype(np.uint8)
    out[..., 3] = np.clip(alpha * 255.0 + 0.5, 0, 255).astype(np.uint8)
    return out


def caption(scene: FlowScene, per_class: np.ndarray, inside: float | None = None) -> str:
    """Words for the density layer: what was drawn, how many, and what is off the picture."""
    text = f"density: {int(per_class.sum()):,} fresh points of the distribution"
    if inside is not None and inside < 0.995:
        text += f", {100.0 * (1.0 - inside):.0f}% outside the picture"
    return text


def unavailable(scene: FlowScene) -> str:
    """Why no density is drawn for this scene ('' when it is, or when it is not asked)."""
    return str(scene.cache.get("density_why", ""))


# ---------------------------------------------------------------------- artists
class _SmoothImage(pg.ImageItem):
    """An ImageItem scaled with bilinear filtering: a bin is a few screen pixels wide at
    1080p, and blocks read as noise from the back of a hall; the bins stay the data."""

    smooth = True

    def paint(self, p: QPainter, *args: Any) -> None:
        p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, self.smooth)
        super().paint(p, *args)


class DensityArtist2D:
    """One ImageItem with the blended class densities, placed on the density box."""

    def __init__(self, plot_item: Any) -> None:
        self.image_item = _SmoothImage(axisOrder="row-major")
        self.image_item.setZValue(Z_2D)
        plot_item.addItem(self.image_item, ignoreBounds=True)
        self.image_item.setVisible(False)
        self.caption = ""
        self._pal: Palette | None = None
        self._placed: tuple[Any, ...] = ()

    def set_palette(self, pal: Palette, scale: float = 1.0) -> None:
        self._pal = pal

    def hide(self) -> None:
        self.image_item.setVisible(False)
        self.caption = ""

    def image_at(self, scene: FlowScene, t: float) -> np.ndarray | None:
        """(H, W, 4) the picture drawn at frame time t (None when unavailable)."""
        stack = density_stack(scene)
        if stack is None or self._pal is None:
            return None
        k = stack.counts.shape[1]
        return density_rgba(stack.at(t), class_colours(self._pal, k))

    def update(self, scene: FlowScene, st: FrameState, bounds: np.ndarray | None = None) -> None:
        stack = density_stack(scene)
        img = self.image_at(scene, st.t)
        if stack is None or img is None:
            self.hide()
            why = unavailable(scene)
            self.caption = f"no density: {why}" if why else ""
            return
        self.image_item.setImage(img, autoLevels=False, levels=None)
        box = stack.box
        key = (box.tobytes(), img.shape)
        if key != self._placed:
            self._placed = key
            h, w = img.shape[:2]
            sx, sy = (box[1, 0] - box[0, 0]) / w, (box[1, 1] - box[0, 1]) / h
            self.image_item.setTransform(QTransform(sx, 0.0, 0.0, sy, box[0, 0], box[0, 1]))
        self.image_item.setVisible(True)
        f = min(round(st.t), stack.n_frames - 1)
        self.caption = caption(scene, stack.per_class, float(stack.inside[f]))


class DensityArtist3D:
    """The weighted cloud as one GL scatter item (colour per class, alpha by density)."""

    def __init__(self, view: Any) -> None:
        import pyqtgraph.opengl as gl

        self.cloud_item = gl.GLScatterPlotItem(pxMode=True, glOptions="translucent")
        self.cloud_item.setVisible(False)
        self.items = [self.cloud_item]
        self.caption = ""
        self._pal: Palette | None = None
        self._k = 1.0

    def set_palette(self, pal: Palette, scale: float = 1.0) -> None:
        self._pal, self._k = pal, float(scale)

    def hide(self) -> None:
        self.cloud_item.setVisible(False)
        self.caption = ""

    def colours_at(self, scene: FlowScene, t: float) -> tuple[np.ndarray, np.ndarray] | None:
        """(positions (M, 3), RGBA (M, 4) 0..1) of the cloud at frame time t."""
        cloud = density_cloud(scene)
        if cloud is None or self._pal is None:
            return None
        t = float(min(max(t, 0.0), cloud.n_frames - 1))
        i0 = int(np.floor(t))
        i1 = min(i0 + 1, cloud.n_frames - 1)
        a = t - i0
        pos = (1 - a) * cloud.points[i0] + a * cloud.points[i1]
        w = (1 - a) * cloud.weight[i0] + a * cloud.weight[i1]
        k = len(cloud.per_class)
        rgba = np.empty((len(w), 4))
        rgba[:, :3] = class_colours(self._pal, k)[cloud.labels]
        lo, hi = CLOUD_ALPHA
        rgba[:, 3] = lo + (hi - lo) * np.sqrt(np.clip(w, 0.0, 1.0))
        ok = np.isfinite(pos).all(axis=1)
        return pos[ok], rgba[ok]

    def update(self, scene: FlowScene, st: FrameState, bounds: np.ndarray | None = None) -> None:
        got = self.colours_at(scene, st.t)
        cloud = density_cloud(scene)
        if got is None or cloud is None:
            self.hide()
            why = unavailable(scene)
            self.caption = f"no density: {why}" if why else ""
            return
        pos, rgba = got
        self.cloud_item.setData(pos=pos, color=rgba, size=CLOUD_SIZE * self._k)
        self.cloud_item.setVisible(True)
        shown = len(cloud.labels)
        total = int(cloud.per_class.sum())
        # short: a long line ran under the legend of a 1280x720 export
        self.caption = f"density: {total:,} fresh points, {shown:,} drawn"
