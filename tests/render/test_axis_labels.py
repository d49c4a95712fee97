"""The 3-D axis names' placement rule (render/axis_labels.py), without OpenGL: beside a
box edge, inside the image, never over the data, never over each other."""

from __future__ import annotations

import numpy as np
import pytest

from nndyn_gui.render import axis_labels as al
from nndyn_gui.render.scene_geometry import box_corners


def _project(pts: np.ndarray, az: float, el: float, w: int, h: int) -> np.ndarray:
    """An orthographic camera that makes the box fill ~90 % of the image."""
    a, e = np.radians(az), np.radians(el)
    right = np.array([-np.sin(a), np.cos(a), 0.0])
    up = np.array([-np.sin(e) * np.cos(a), -np.sin(e) * np.sin(a), np.cos(e)])
    uv = np.column_stack([pts @ right, pts @ up])
    corners = box_corners(np.array([[-1.0] * 3, [1.0] * 3]))
    cu = np.column_stack([corners @ right, corners @ up])
    lo, hi = cu.min(axis=0), cu.max(axis=0)
    k = 0.9 * min(w / (hi[0] - lo[0]), h / (hi[1] - lo[1]))
    mid = 0.5 * (lo + hi)
    return np.column_stack([w / 2 + k * (uv[:, 0] - mid[0]), h / 2 - k * (uv[:, 1] - mid[1])])


def test_convex_hull_is_the_outline() -> None:
    pts = np.array([[0, 0], [2, 0], [2, 2], [0, 2], [1, 1], [1, 0.5]], dtype=float)
    hull = al.convex_hull(pts)
    assert len(hull) == 4 and {tuple(p) for p in hull} == {(0, 0), (2, 0), (2, 2), (0, 2)}
    assert al.rect_hits_polygon((0.5, 0.5, 0.2, 0.2), hull)
    assert not al.rect_hits_polygon((2.1, 0.5, 1.0, 1.0), hull)
    assert al.rect_hits_polygon((1.9, 1.9, 1.0, 1.0), hull)  # a corner overlaps


@pytest.mark.parametrize("az", [0, 35, 80, 135, 200, 290])
@pytest.mark.parametrize("el", [10, 30, 60])
def test_names_never_cover_a_data_point_or_each_other(az: float, el: float) -> None:
    rng = np.random.default_rng(3)
    data = rng.uniform(-1, 1, (3000, 3)) * np.array([1.0, 1.0, 0.25])  # a flat disk fills it
    w, h = 1920, 1080
    corners = _project(box_corners(np.array([[-1.0] * 3, [1.0] * 3])), az, el, w, h)
    px = _project(data, az, el, w, h)
    sizes = [(70.0, 46.0), (70.0, 46.0), (70.0, 46.0)]
    rects = al.place_axis_labels(corners, sizes, w, h, px, gap=6.0)
    assert all(r is not None for r in rects), (az, el, rects)
    placed = [r for r in rects if r is not None]
    for x, y, rw, rh in placed:
        assert x >= 0 and x + rw <= w and y >= 0 and y + rh <= h
        inside = (px[:, 0] > x) & (px[:, 0] < x + rw) & (px[:, 1] > y) & (px[:, 1] < y + rh)
        assert not inside.any(), (az, el, (x, y, rw, rh))
    for i, a in enumerate(placed):
        for b in placed[i + 1 :]:
            assert not al._overlaps(a, b)
    # each name is next to an edge of its own axis: within gap + its size of one
    for axis, r in enumerate(rects):
        assert r is not None
        centre = np.array([r[0] + r[2] / 2, r[1] + r[3] / 2])
        bit = (4, 2, 1)[axis]
        dists = []
        for a in range(8):
            if a & bit:
                continue
            p, q = corners[a], corners[a | bit]
            t = np.clip(np.dot(centre - p, q - p) / max(np.dot(q - p, q - p), 1e-9), 0, 1)
            dists.append(np.hypot(*(p + t * (q - p) - centre)))
        assert min(dists) <= 6.0 + np.hypot(r[2], r[3]) / 2 + 1.0


def test_the_data_is_only_projected_when_the_box_leaves_no_room() -> None:
    corners = _project(box_corners(np.array([[-1.0] * 3, [1.0] * 3])), 45, 30, 1920, 1080)
    calls = []

    def data() -> np.ndarray:
        calls.append(1)
        return np.zeros((0, 2))

    shrunk = 0.5 * (corners - corners.mean(axis=0)) + corners.mean(axis=0)  # room around it
    al.place_axis_labels(shrunk, [(60.0, 30.0)] * 3, 1920, 1080, data)
    assert not calls
