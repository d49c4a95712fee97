"""Colours shared by the views and the exporter, so a PNG looks like the window.

Class colours are Okabe-Ito blue/orange (distinguishable with every common colour-vision
deficiency), then bluish green, reddish purple, vermillion and sky blue for classes 2..5
of K-class data; "wrong side" marks use red *and* a cross symbol, so they do not rely on
hue (and exist only for the two-class ring).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

RGBA = tuple[int, int, int, int]


@dataclass(frozen=True)
class Palette:
    """All colours one background preset needs, as 0-255 RGBA tuples."""

    name: str
    background: RGBA  # alpha 0 for "transparent"
    foreground: RGBA  # text, axes
    classes: tuple[RGBA, RGBA]  # class 0, class 1
    grid: RGBA  # the deformed mesh
    plane: RGBA  # separating line / plane
    loop: RGBA  # outer-class loop
    wrong: RGBA  # loop points on the wrong side
    selection: RGBA  # outline of selected points and their trajectories
    trails: RGBA  # faint trajectories of all points (ViewOptions.show_trajectories)
    box: RGBA  # 3-D bounding box
    more_classes: tuple[RGBA, ...] = ()  # classes 2, 3, ... of K-class data
    field_slow: RGBA = (185, 180, 205, 170)  # velocity arrows, slowest ...
    field_fast: RGBA = (55, 30, 120, 255)  # ... to fastest (and fixed-point markers)

    @property
    def all_classes(self) -> tuple[RGBA, ...]:
        return (*self.classes, *self.more_classes)

    def class_color(self, label: int, alpha: int | None = None) -> RGBA:
        colours = self.all_classes
        r, g, b, a = colours[int(label) % len(colours)]
        return (r, g, b, a if alpha is None else alpha)

    def region_rgba(self, prob: np.ndarray, strength: float = 0.35) -> np.ndarray:
        """(H, W) P(class 1) -> (H, W, 4) uint8: a light wash of the winning class colour.

        K classes: (H, W, K) probabilities, the colours mixed by probability and paler
        where the two likeliest classes are close (for K = 2 the same picture).
        """
        if prob.ndim == 3:
            return self._region_rgba_k(prob, strength)
        c0 = np.array(self.classes[0][:3], dtype=np.float64)
        c1 = np.array(self.classes[1][:3], dtype=np.float64)
        p = np.clip(np.nan_to_num(prob, nan=0.5), 0.0, 1.0)[..., None]
        rgb = (1.0 - p) * c0 + p * c1
        conf = np.abs(2.0 * p - 1.0) ** 0.5  # pale near the boundary
        alpha = 255.0 * strength * (0.35 + 0.65 * conf)
        out = np.concatenate([rgb, alpha], axis=-1)
        return np.clip(np.round(out), 0, 255).astype(np.uint8)

    def _region_rgba_k(self, prob: np.ndarray, strength: float) -> np.ndarray:
        k = prob.shape[-1]
        cols = np.array([self.class_color(i)[:3] for i in range(k)], dtype=np.float64)
        p = np.clip(np.nan_to_num(prob, nan=1.0 / k), 0.0, 1.0)
        rgb = p @ cols
        top2 = np.sort(p, axis=-1)[..., -2:]
        conf = np.clip(top2[..., 1] - top2[..., 0], 0.0, 1.0)[..., None] ** 0.5
        alpha = 255.0 * strength * (0.35 + 0.65 * conf)
        out = np.concatenate([rgb, alpha], axis=-1)
        return np.clip(np.round(out), 0, 255).astype(np.uint8)


def _f(rgba: RGBA) -> tuple[float, float, float, float]:
    return tuple(v / 255.0 for v in rgba)  # type: ignore[return-value]


def rgba_f(rgba: RGBA) -> tuple[float, float, float, float]:
    """0-255 RGBA -> 0-1 floats, the form pyqtgraph.opengl items take."""
    return _f(rgba)


WHITE = Palette(
    name="white",
    background=(255, 255, 255, 255),
    foreground=(40, 40, 40, 255),
    classes=((0, 114, 178, 255), (230, 159, 0, 255)),
    grid=(170, 170, 170, 150),
    plane=(30, 30, 30, 230),
    loop=(204, 121, 167, 255),  # Okabe-Ito reddish purple: apart from the line and classes
    wrong=(220, 20, 20, 255),
    selection=(0, 0, 0, 255),
    trails=(80, 80, 80, 110),
    box=(120, 120, 120, 160),
    more_classes=(
        (0, 158, 115, 255),  # Okabe-Ito bluish green
        (204, 121, 167, 255),  # reddish purple
        (213, 94, 0, 255),  # vermillion
        (86, 180, 233, 255),  # sky blue
    ),
)

DARK = Palette(
    name="dark",
    background=(24, 26, 30, 255),
    foreground=(225, 225, 225, 255),
    classes=((86, 180, 233, 255), (240, 170, 30, 255)),
    grid=(110, 110, 110, 150),
    plane=(235, 235, 235, 230),
    loop=(230, 150, 200, 255),
    wrong=(255, 70, 70, 255),
    selection=(255, 255, 255, 255),
    trails=(200, 200, 200, 100),
    box=(150, 150, 150, 160),
    field_slow=(95, 90, 120, 170),
    field_fast=(215, 200, 255, 255),
    more_classes=(
        (40, 190, 140, 255),
        (225, 140, 190, 255),
        (240, 110, 40, 255),
        (170, 150, 255, 255),
    ),
)

TRANSPARENT = Palette(**{**WHITE.__dict__, "name": "transparent", "background": (0, 0, 0, 0)})

PALETTES = {"white": WHITE, "dark": DARK, "transparent": TRANSPARENT}


def palette_for(background: str) -> Palette:
    """The preset for ViewOptions.background; unknown names fall back to white."""
    return PALETTES.get(background, WHITE)
