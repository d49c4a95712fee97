"""The boxes and cuts a scene's views need: boxes around the data, clipped lines and planes.

Why its own module: render/scene.py carries points through the net; this is the plain
geometry around them (numpy only): per-frame boxes smoothed so the camera glides, one
steady box for all layers, and the separating line / plane clipped to a box.
"""

from __future__ import annotations

import numpy as np

BOUNDS_MARGIN = 0.05  # share of the data extent added around the points (points have a size)
BOUNDS_SMOOTH = 1.0  # frames of Gaussian smoothing of the per-frame boxes


def _input_coords(x: np.ndarray, dims: int) -> np.ndarray:
    """Input points (N, >= 2) in their own coordinates (x1, x2, 0, ...) of a dims-D view."""
    out = np.zeros((x.shape[0], dims))
    out[:, :2] = x[:, :2]
    return out


def _bounds(pts: np.ndarray, loop: np.ndarray | None, dims: int) -> np.ndarray:
    """Per-frame boxes around the data, smoothed over frames so the camera glides."""
    f = pts.shape[0]
    x = pts if loop is None else np.concatenate([pts, loop], axis=1)  # (F, K, dims)
    if x.shape[1] == 0:  # no points (a drawing cleared to start afresh): the input box
        x = np.broadcast_to(_input_coords(np.array([[-1.0, -1.0], [1.0, 1.0]]), dims), (f, 2, dims))
    if np.abs(x).max(initial=0.0) < 1e6:  # the usual case: all finite and moderate
        lo, hi = x.min(axis=1), x.max(axis=1)
        has = np.ones(f, dtype=bool)
    else:
        lo, hi, has = _robust_extent(x)
    for i in range(1, f):  # frames without a finite point keep the previous box
        if not has[i] and has[i - 1]:
            lo[i], hi[i], has[i] = lo[i - 1], hi[i - 1], True
    scale = np.maximum(1.0, np.maximum(np.abs(lo), np.abs(hi)).max(axis=1, keepdims=True))
    span = np.maximum(hi - lo, 1e-3 * scale)
    mid = 0.5 * (lo + hi)
    half = 0.5 * span * (1.0 + 2 * BOUNDS_MARGIN)
    out = np.stack([mid - half, mid + half], axis=1)
    if f > 2 and BOUNDS_SMOOTH > 0:
        # smooth lo/hi over frames, then re-widen so every frame still contains its data
        k = np.arange(-3, 4)
        ker = np.exp(-0.5 * (k / BOUNDS_SMOOTH) ** 2)
        ker /= ker.sum()
        pad = np.concatenate([np.repeat(out[:1], 3, 0), out, np.repeat(out[-1:], 3, 0)])
        sm = np.stack([np.tensordot(ker, pad[i : i + 7], axes=(0, 0)) for i in range(f)])
        sm[:, 0] = np.minimum(sm[:, 0], out[:, 0])
        sm[:, 1] = np.maximum(sm[:, 1], out[:, 1])
        out = sm
    return out


def steady_box(bounds: np.ndarray) -> np.ndarray:
    """One box (2, dims) holding the per-frame boxes (F, 2, dims) of every layer."""
    b = np.asarray(bounds, dtype=np.float64)
    return np.stack([b[:, 0].min(axis=0), b[:, 1].max(axis=0)])


def _robust_extent(x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-frame min/max over finite, not absurdly large points (diverging nets)."""
    with np.errstate(all="ignore"):
        ok = (np.isfinite(x) & (np.abs(x) < 1e6)).all(axis=2, keepdims=True)
        has = ok.any(axis=(1, 2))
        xm = np.where(ok & has[:, None, None], x, np.nan)
        xm[~has] = 0.0
        lo = np.where(has[:, None], np.nanmin(xm, axis=1), -1.0)
        hi = np.where(has[:, None], np.nanmax(xm, axis=1), 1.0)
    return lo, hi, has


def _clip_line(w: np.ndarray, c: float, bounds: np.ndarray) -> np.ndarray | None:
    """Intersect {w.y + c = 0} with the box bounds (2, 2); None if it misses the box."""
    (x0, y0), (x1, y1) = bounds
    hits: list[tuple[float, float]] = []
    if abs(w[1]) > 1e-12:
        for x in (x0, x1):
            y = -(c + w[0] * x) / w[1]
            if y0 - 1e-9 <= y <= y1 + 1e-9:
                hits.append((x, y))
    if abs(w[0]) > 1e-12:
        for y in (y0, y1):
            x = -(c + w[1] * y) / w[0]
            if x0 - 1e-9 <= x <= x1 + 1e-9:
                hits.append((x, y))
    if len(hits) < 2:
        return None
    pts = np.array(hits)
    # farthest pair (corners can be hit twice)
    d2 = ((pts[:, None] - pts[None]) ** 2).sum(-1)
    i, j = np.unravel_index(int(np.argmax(d2)), d2.shape)
    return np.array([pts[i], pts[j]])


def box_corners(bounds: np.ndarray) -> np.ndarray:
    """The 8 corners of a 3-D box (2, 3); corners a, b share an edge iff a ^ b is a power of 2."""
    lo, hi = bounds
    sel = np.array([[i, j, k] for i in (0, 1) for j in (0, 1) for k in (0, 1)])
    return np.where(sel == 0, lo, hi)


def _clip_plane(w: np.ndarray, c: float, bounds: np.ndarray) -> np.ndarray | None:
    """Intersect {w.y + c = 0} with a box (2, 3): convex polygon ordered around its centre."""
    lo, hi = bounds
    corners = np.array(
        [
            [(lo, hi)[i][0], (lo, hi)[j][1], (lo, hi)[k][2]]
            for i in (0, 1)
            for j in (0, 1)
            for k in (0, 1)
        ]
    )
    s = corners @ w + c
    pts = []
    for a in range(8):
        for b in range(a + 1, 8):
            if bin(a ^ b).count("1") != 1:
                continue  # not an edge of the box
            if s[a] == 0:
                pts.append(corners[a])
            if (s[a] < 0 < s[b]) or (s[b] < 0 < s[a]):
                u = s[a] / (s[a] - s[b])
                pts.append(corners[a] + u * (corners[b] - corners[a]))
    if len(pts) < 3:
        return None
    poly = np.unique(np.round(np.array(pts), 12), axis=0)
    if len(poly) < 3:
        return None
    centre = poly.mean(axis=0)
    n = w / np.linalg.norm(w)
    e1 = np.cross(n, [1.0, 0.0, 0.0])
    if np.linalg.norm(e1) < 1e-6:
        e1 = np.cross(n, [0.0, 1.0, 0.0])
    e1 /= np.linalg.norm(e1)
    e2 = np.cross(n, e1)
    rel = poly - centre
    order = np.argsort(np.arctan2(rel @ e2, rel @ e1))
    return poly[order]
