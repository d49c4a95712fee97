"""The 3-D camera as numbers: the default angle, a fit that fills the frame, keyframe paths.

Why a module of its own (numpy only, no OpenGL): the window, the exporter and the tests
must agree on where the camera is at time t, so the rules live in one place.

- Angles follow pyqtgraph: the camera sits at centre + distance·(cos e cos a, cos e sin a,
  sin e) for azimuth a and elevation e (degrees), z up, and `fov` is the horizontal angle.
- `default_angles`: a plane seen edge-on is a line, so the default camera looks at the
  separating plane at 37°-63° from its normal (|cos| in PLANE_COS_BAND): both sides and
  the plane between them are visible; within that, the elevation as close to the usual
  22° as it can be (then the azimuth to 40°: the data have no front side).
- `fit`: the distance (and centre) at which the 8 corners of the box fill the frame to
  `margin`, for these angles and this aspect ratio, in perspective. A sphere around the
  box (the old fit) left a third of the frame empty.
- `camera_at`: keyframes (t, azimuth, elevation, zoom) interpolated with a cubic through
  them (Catmull-Rom tangents in time, at rest at the first and last key); azimuths take
  the short way round; zoom is interpolated in log scale.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

DEFAULT_AZIMUTH = 40.0
DEFAULT_ELEVATION = 22.0
#: |cos| of the angle between the line of sight and the plane's normal: below the band the
#: plane is nearly edge-on (a line), above it nearly face-on (it hides one side)
PLANE_COS_BAND = (0.45, 0.8)
FIT_MARGIN = 0.92  # the box's corners reach this share of the half-frame


@dataclass(frozen=True)
class CameraKey:
    """A saved view: at layer time `t` (frames) look from these angles, zoomed by `zoom`."""

    t: float
    azimuth: float
    elevation: float
    zoom: float = 1.0

    def to_dict(self) -> dict[str, float]:
        return {
            "t": self.t,
            "azimuth": self.azimuth,
            "elevation": self.elevation,
            "zoom": self.zoom,
        }

    @classmethod
    def from_dict(cls, d: dict[str, float]) -> CameraKey:
        vals = [float(d[k]) for k in ("t", "azimuth", "elevation")]
        zoom = float(d.get("zoom", 1.0))
        if not all(math.isfinite(v) for v in [*vals, zoom]) or zoom <= 0:
            raise ValueError("camera key values must be finite, zoom positive")
        return cls(vals[0], vals[1], max(-89.0, min(89.0, vals[2])), zoom)


def camera_axes(azimuth: float, elevation: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(right, up, back) unit vectors of the camera; `back` points from the centre to it."""
    a, e = math.radians(azimuth), math.radians(elevation)
    back = np.array([math.cos(e) * math.cos(a), math.cos(e) * math.sin(a), math.sin(e)])
    right = np.array([-math.sin(a), math.cos(a), 0.0])
    up = np.cross(back, right)
    return right, up, back


def default_angles(normal: np.ndarray | None) -> tuple[float, float]:
    """Azimuth and elevation that show a plane with this normal neither edge-on nor face-on."""
    n = None if normal is None else np.asarray(normal, dtype=np.float64).ravel()
    if n is None or n.size != 3 or not np.all(np.isfinite(n)) or np.linalg.norm(n) < 1e-12:
        return DEFAULT_AZIMUTH, DEFAULT_ELEVATION
    n = n / np.linalg.norm(n)
    az = np.radians(np.arange(0.0, 360.0, 2.5))
    el = np.radians(np.arange(8.0, 45.1, 1.0))
    aa, ee = np.meshgrid(az, el, indexing="ij")
    back = np.stack([np.cos(ee) * np.cos(aa), np.cos(ee) * np.sin(aa), np.sin(ee)], axis=-1)
    cos = np.abs(back @ n)
    d_az = np.degrees(np.abs((aa - math.radians(DEFAULT_AZIMUTH) + np.pi) % (2 * np.pi) - np.pi))
    d_el = np.abs(np.degrees(ee) - DEFAULT_ELEVATION)
    lo, hi = PLANE_COS_BAND
    outside = np.maximum(lo - cos, 0.0) + np.maximum(cos - hi, 0.0)
    # a natural elevation matters more than the azimuth (the data have no front side)
    score = -(outside**2) * 400.0 - 0.1 * (d_az / 180.0) ** 2 - (d_el / 30.0) ** 2
    i, j = np.unravel_index(int(np.argmax(score)), score.shape)
    return float(np.degrees(aa[i, j])), float(np.degrees(ee[i, j]))


def fit(
    box: np.ndarray,
    azimuth: float,
    elevation: float,
    fov: float,
    aspect: float,
    margin: float = FIT_MARGIN,
) -> tuple[float, np.ndarray]:
    """(distance, centre) at which the box (2, 3) fills a frame of aspect height/width."""
    box = np.asarray(box, dtype=np.float64)
    lo, hi = box
    corners = np.array([[(lo, hi)[i][0], (lo, hi)[j][1], (lo, hi)[k][2]]
                        for i in (0, 1) for j in (0, 1) for k in (0, 1)])  # fmt: skip
    right, up, back = camera_axes(azimuth, elevation)
    tx = math.tan(math.radians(0.5 * fov))
    ty = tx * max(aspect, 1e-6)
    centre = 0.5 * (lo + hi)
    size = max(float(np.linalg.norm(hi - lo)), 1e-9)
    dist = size
    for _ in range(3):  # fit, centre the projected box, fit again
        rel = corners - centre
        x, y, z = rel @ right, rel @ up, rel @ back
        dist = float(
            np.max(np.maximum(z + np.abs(x) / (margin * tx), z + np.abs(y) / (margin * ty)))
        )
        dist = max(dist, float(np.max(z)) + 1e-3 * size)
        depth = dist - z
        nx, ny = x / (depth * tx), y / (depth * ty)
        mid_x, mid_y = 0.5 * (nx.min() + nx.max()), 0.5 * (ny.min() + ny.max())
        if abs(mid_x) < 1e-4 and abs(mid_y) < 1e-4:
            break
        centre = centre + right * mid_x * dist * tx + up * mid_y * dist * ty
    return dist, centre


def orbit_distance(
    box: np.ndarray, elevation: float, fov: float, aspect: float, steps: int = 36
) -> float:
    """One distance that fits the box from every azimuth: an orbit that does not pump."""
    return max(
        fit(box, a, elevation, fov, aspect)[0]
        for a in np.linspace(0.0, 360.0, steps, endpoint=False)
    )


def retimed(keys: list[CameraKey], t_max: float) -> list[CameraKey]:
    """Keys in time order; keys saved at one and the same time are spread evenly over
    [0, t_max] in the order they were saved (a camera path made without moving the slider)."""
    if len(keys) < 2:
        return list(keys)
    ts = [k.t for k in keys]
    if len({round(t, 9) for t in ts}) < len(ts):
        n = len(keys)
        return [
            CameraKey(t_max * i / (n - 1), k.azimuth, k.elevation, k.zoom)
            for i, k in enumerate(keys)
        ]
    return sorted(keys, key=lambda k: k.t)


def camera_at(keys: list[CameraKey], t: float) -> tuple[float, float, float]:
    """(azimuth, elevation, zoom) at time t along the keys (already `retimed`)."""
    if not keys:
        return DEFAULT_AZIMUTH, DEFAULT_ELEVATION, 1.0
    if len(keys) == 1 or t <= keys[0].t:
        k = keys[0]
        return k.azimuth, k.elevation, k.zoom
    if t >= keys[-1].t:
        k = keys[-1]
        return k.azimuth, k.elevation, k.zoom
    ts = np.array([k.t for k in keys])
    az = np.array([keys[0].azimuth])
    for k in keys[1:]:  # the short way round from each key to the next
        step = (k.azimuth - az[-1] + 180.0) % 360.0 - 180.0
        az = np.append(az, az[-1] + step)
    el = np.array([k.elevation for k in keys])
    lz = np.log(np.array([max(k.zoom, 1e-6) for k in keys]))
    i = int(np.searchsorted(ts, t, side="right") - 1)
    i = min(max(i, 0), len(keys) - 2)
    out = [_hermite(ts, v, i, t) for v in (az, el, lz)]
    return float(out[0] % 360.0), float(np.clip(out[1], -89.0, 89.0)), float(math.exp(out[2]))


def _hermite(ts: np.ndarray, v: np.ndarray, i: int, t: float) -> float:
    """Cubic Hermite on [ts[i], ts[i+1]] with Catmull-Rom tangents (zero at the ends)."""

    def slope(j: int) -> float:
        if j <= 0 or j >= len(ts) - 1:
            return 0.0
        return float((v[j + 1] - v[j - 1]) / (ts[j + 1] - ts[j - 1]))

    h = float(ts[i + 1] - ts[i])
    u = (t - ts[i]) / h
    h00, h10 = 2 * u**3 - 3 * u**2 + 1, u**3 - 2 * u**2 + u
    h01, h11 = -2 * u**3 + 3 * u**2, u**3 - u**2
    return float(h00 * v[i] + h10 * h * slope(i) + h01 * v[i + 1] + h11 * h * slope(i + 1))
