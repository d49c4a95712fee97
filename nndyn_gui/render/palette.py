"""Colours shared by the views and the exporter, so a PNG looks like the window.

Class colours are Okabe-Ito blue/orange (distinguishable with every common colour-vision
deficiency); "wrong side" marks use red *and* a cross symbol, so they do not rely on hue.
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

    def class_color(self, label: int, alpha: int | None = None) -> RGBA:
        r, g, b, a = self.classes[int(label) & 1]
        return (r, g, b, a if alpha is None else alpha)

    def region_rgba(self, prob: np.ndarray, strength: float = 0.35) -> np.ndarray:
        """(H, W) P(class 1) -> (H, W, 4) uint8: a light wash of the winning class colour."""
        c0 = np.array(self.classes[0][:3], dtype=np.float64)
        c1 = np.array(self.classes[1][:3], dtype=np.float64)
        p = np.clip(np.nan_to_num(prob, nan=0.5), 0.0, 1.0)[..., None]
        rgb = (1.0 - p) * c0 + p * c1
        conf = np.abs(2.0 * p - 1.0) ** 0.5  # pale near the boundary
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
)

TRANSPARENT = Palette(**{**WHITE.__dict__, "name": "transparent", "background": (0, 0, 0, 0)})

PALETTES = {"white": WHITE, "dark": DARK, "transparent": TRANSPARENT}


def palette_for(background: str) -> Palette:
    """The preset for ViewOptions.background; unknown names fall back to white."""
    return PALETTES.get(background, WHITE)
