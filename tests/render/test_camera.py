"""The 3-D camera as numbers: the default faces the plane, the fit fills the frame,
keyframe paths pass through the saved views smoothly."""

from __future__ import annotations

import math

import numpy as np
import pytest

from nndyn_gui.render import camera
from nndyn_gui.render.camera import CameraKey


def _ndc(box: np.ndarray, az: float, el: float, dist: float, centre: np.ndarray, aspect: float):
    """Where the box's corners land on screen (-1..1), in pyqtgraph's perspective."""
    lo, hi = box
    corners = np.array([[(lo, hi)[i][0], (lo, hi)[j][1], (lo, hi)[k][2]]
                        for i in (0, 1) for j in (0, 1) for k in (0, 1)])  # fmt: skip
    right, up, back = camera.camera_axes(az, el)
    rel = corners - centre
    depth = dist - rel @ back
    tx = math.tan(math.radians(20.0))
    return (rel @ right) / (depth * tx), (rel @ up) / (depth * tx * aspect)


@pytest.mark.parametrize("seed", range(12))
def test_the_default_view_never_sees_the_plane_edge_on(seed: int) -> None:
    n = np.random.default_rng(seed).normal(size=3)
    az, el = camera.default_angles(n)
    back = camera.camera_axes(az, el)[2]
    cos = abs(back @ n) / np.linalg.norm(n)
    lo, hi = camera.PLANE_COS_BAND
    assert lo - 0.01 <= cos <= hi + 0.01  # 37°..63° from the normal: a surface, not a line
    assert 5.0 <= el <= 45.0  # and a natural look from above


def test_the_usual_angle_is_kept_when_it_shows_the_plane() -> None:
    assert camera.default_angles(np.array([1.0, 0.0, 0.0])) == (40.0, 22.0)
    assert camera.default_angles(None) == (40.0, 22.0)
    assert camera.default_angles(np.zeros(3)) == (40.0, 22.0)  # no plane: no preference


@pytest.mark.parametrize(("az", "el", "aspect"), [(40, 22, 9 / 16), (132, 23, 9 / 16), (0, 45, 1)])
def test_the_fit_fills_the_frame_without_cutting_the_box(az: float, el: float, aspect: float):
    box = np.array([[-1.0, -2.0, -0.5], [3.0, 1.0, 1.5]])
    dist, centre = camera.fit(box, az, el, 40.0, aspect)
    x, y = _ndc(box, az, el, dist, centre, aspect)
    reach = max(np.abs(x).max(), np.abs(y).max())
    assert reach == pytest.approx(camera.FIT_MARGIN, abs=0.01)  # touches the margin ...
    assert np.abs(x).max() <= camera.FIT_MARGIN + 1e-6  # ... and nothing is cut
    assert np.abs(y).max() <= camera.FIT_MARGIN + 1e-6
    assert abs(x.max() + x.min()) < 0.02 and abs(y.max() + y.min()) < 0.02  # centred


def test_an_orbit_keeps_one_distance_that_fits_every_side() -> None:
    box = np.array([[-1.0, -3.0, -0.5], [1.0, 3.0, 0.5]])  # long: the fit depends on the side
    d = camera.orbit_distance(box, 20.0, 40.0, 9 / 16)
    for az in range(0, 360, 15):
        assert d >= camera.fit(box, az, 20.0, 40.0, 9 / 16)[0] - 1e-9


def test_a_path_passes_through_its_keys_smoothly_and_the_short_way_round() -> None:
    keys = camera.retimed(
        [CameraKey(0, 350.0, 10.0, 1.0), CameraKey(10, 30.0, 30.0, 2.0), CameraKey(20, 90, 20, 1)],
        20.0,
    )
    for k in keys:
        az, el, zoom = camera.camera_at(keys, k.t)
        assert (az, el, zoom) == pytest.approx((k.azimuth % 360, k.elevation, k.zoom))
    ts = np.linspace(0, 20, 401)
    path = np.array([camera.camera_at(keys, t) for t in ts])
    unwrapped = np.degrees(np.unwrap(np.radians(path[:, 0])))
    assert np.ptp(unwrapped[:201]) < 45  # 350° -> 30° goes through 0°, not round the back
    steps = np.abs(np.diff(unwrapped))
    assert steps.max() < 1.0  # no jump anywhere
    accel = np.abs(np.diff(unwrapped, 2))
    assert accel.max() < 0.05  # no kink at the keys either (C1)
    assert camera.camera_at(keys, -5) == camera.camera_at(keys, 0)  # held before the first
    assert camera.camera_at(keys, 99) == pytest.approx((90.0, 20.0, 1.0))  # and after the last


def test_views_saved_without_moving_the_slider_are_spread_over_the_flow() -> None:
    keys = [CameraKey(51.0, a, 20.0) for a in (0.0, 90.0, 180.0)]
    timed = camera.retimed(keys, 51.0)
    assert [k.t for k in timed] == [0.0, 25.5, 51.0]
    assert [k.azimuth for k in timed] == [0.0, 90.0, 180.0]
    with pytest.raises(ValueError):
        CameraKey.from_dict({"t": 0, "azimuth": float("nan"), "elevation": 1})
