"""Where a 3-D view writes its axis names: beside the box's edges, never over the data.

Why its own module: the 3-D layer view (on screen, in presentation mode, in every
export frame, which paints through the same view) and Compare's panels need one rule.
The old rule wrote each name at the far end of one fixed edge, which from the default
camera put "x1" on the points. Here each name sits next to one of the four box edges
parallel to its axis, pushed outward (away from the box's centre on screen), at the
first spot that is inside the image and clear of the data's projected hull, the box's
projected outline if possible, and the names already placed. Numpy only: the caller
projects (render/picking.project) and measures the text.

    place_axis_labels(corners_px, sizes, width, height, data_px) -> [(x, y, w, h) | None]
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

Rect = tuple[float, float, float, float]  # x, y (top left), width, height in pixels

#: where along an edge a name may go (share of the edge from its low end), in order
_ALONG = (0.5, 0.65, 0.35, 0.8, 0.2, 0.95, 0.05)
#: the corner bit of each axis in scene_geometry.box_corners' order (i*4 + j*2 + k)
_AXIS_BIT = (4, 2, 1)


def convex_hull(points: np.ndarray) -> np.ndarray:
    """Counter-clockwise hull (K, 2) of 2-D points (Andrew's monotone chain); NaN rows
    are dropped. Fewer than 3 distinct points come back as they are."""
    p = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    p = p[np.isfinite(p).all(axis=1)]
    if len(p) < 3:
        return p
    p = np.unique(p, axis=0)  # sorted by x, then y
    if len(p) < 3:
        return p

    def half(pts: np.ndarray) -> list[np.ndarray]:
        out: list[np.ndarray] = []
        for q in pts:
            while len(out) >= 2:
                a, b = out[-2], out[-1]
                if (b[0] - a[0]) * (q[1] - a[1]) - (b[1] - a[1]) * (q[0] - a[0]) > 0:
                    break
                out.pop()
            out.append(q)
        return out

    lower, upper = half(p), half(p[::-1])
    return np.array(lower[:-1] + upper[:-1])


def _hull_of_many(points: np.ndarray) -> np.ndarray:
    """The hull of many points, cheaply: the hull only has extreme points, so keep the
    extremes along 128 directions first (a vertex missed is within 0.03 % of the hull's
    size of the hull kept; the placement's margin covers that)."""
    p = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    p = p[np.isfinite(p).all(axis=1)]
    if len(p) > 512:
        ang = np.linspace(0.0, 2 * np.pi, 128, endpoint=False)
        proj = p @ np.stack([np.cos(ang), np.sin(ang)])
        p = p[np.unique(np.argmax(proj, axis=0))]
    return convex_hull(p)


def rect_hits_polygon(rect: Rect, poly: np.ndarray, margin: float = 0.0) -> bool:
    """True if the rectangle (grown by `margin` px) and the convex polygon overlap
    (separating axis test: the rectangle's two axes and each polygon edge's normal)."""
    if len(poly) == 0:
        return False
    x, y, w, h = rect
    r = np.array([[x, y], [x + w, y], [x + w, y + h], [x, y + h]], dtype=np.float64)
    r += np.array([[-margin, -margin], [margin, -margin], [margin, margin], [-margin, margin]])
    if len(poly) < 3:  # a point or a segment: any of its points inside, or crossing
        lo, hi = r.min(axis=0), r.max(axis=0)
        if np.any(np.all((poly >= lo) & (poly <= hi), axis=1)):
            return True
        if len(poly) == 1:
            return False
    axes = [np.array([1.0, 0.0]), np.array([0.0, 1.0])]
    edges = np.roll(poly, -1, axis=0) - poly
    axes += [np.array([-e[1], e[0]]) for e in edges if np.hypot(*e) > 1e-12]
    for ax in axes:
        a, b = r @ ax, poly @ ax
        if a.max() <= b.min() or b.max() <= a.min():
            return False
    return True


def _overlaps(a: Rect, b: Rect) -> bool:
    return a[0] < b[0] + b[2] and b[0] < a[0] + a[2] and a[1] < b[1] + b[3] and b[1] < a[1] + a[3]


def place_axis_labels(
    corners_px: np.ndarray,
    sizes: Sequence[tuple[float, float]],
    width: float,
    height: float,
    data_px: np.ndarray | Callable[[], np.ndarray] | None = None,
    gap: float = 6.0,
    taken: Sequence[Rect] = (),
) -> list[Rect | None]:
    """Rectangles (x, y, w, h) for the names of axes 0, 1, 2 of size `sizes[i]` (None:
    no spot found, or the box is behind the camera), for a box whose 8 corners project to
    `corners_px` (scene_geometry.box_corners' order) in a width x height image.

    A name goes beside an edge parallel to its axis, `gap` px outward. Tried in order:
    clear of the box's outline and of the data (every data point lies in the box), then
    clear of the data's hull only (the box may fill the image), then such a spot moved
    inside a small image, then over another name rather than the data. A spot across
    the image's border or on a rectangle in `taken` is never taken.
    `data_px` (N, 2) may be a function: it is only called when no spot clear of the box
    exists (the box holds the data, so its outline is the cheap test; projecting 100,000
    points is not).
    """
    c = np.asarray(corners_px, dtype=np.float64).reshape(8, 2)
    if not np.isfinite(c).all():
        return [None] * len(sizes)
    box_hull = convex_hull(c)
    data_hull: np.ndarray | None = None
    centre = box_hull.mean(axis=0) if len(box_hull) else c.mean(axis=0)
    placed: list[Rect] = list(taken)
    out: list[Rect | None] = []
    for axis, (w, h) in enumerate(sizes[:3]):
        bit = _AXIS_BIT[axis]
        edges = [(a, a | bit) for a in range(8) if not a & bit]
        # outermost edges first: their names have the most room outside the box
        mids = [0.5 * (c[a] + c[b]) for a, b in edges]
        order = np.argsort([-np.hypot(*(m - centre)) for m in mids], kind="stable")
        spots: list[tuple[int, Rect]] = []
        for e in order:
            a, b = edges[e]
            p0, p1 = c[a], c[b]
            d = p1 - p0
            n = np.array([-d[1], d[0]])
            norm = np.hypot(*n)
            n = n / norm if norm > 1e-9 else (mids[e] - centre)
            if np.dot(n, mids[e] - centre) < 0:
                n = -n
            for f in _ALONG:
                q = p0 + f * d
                # the rectangle's nearest side or corner lies `gap` beyond the edge's line
                reach = gap + 0.5 * (abs(n[0]) * w + abs(n[1]) * h)
                cx, cy = q[0] + n[0] * reach, q[1] + n[1] * reach
                rect = (cx - 0.5 * w, cy - 0.5 * h, float(w), float(h))
                spots.append((int(e), rect))
        found: Rect | None = None
        # 1. clear of the box (so of the data); 2. clear of the data's hull; 3. a spot
        # pushed inside a small image, clear of the data; 4. the same over other names
        for step in (1, 2, 3, 4):
            for _e, spot in spots:
                rect = spot if step < 3 else _pushed_inside(spot, width, height)
                if not _inside(rect, width, height):
                    continue
                if step < 4 and any(_overlaps(rect, r) for r in placed):
                    continue
                if step == 1:
                    if rect_hits_polygon(rect, box_hull):
                        continue
                else:
                    if data_hull is None:
                        pts = data_px() if callable(data_px) else data_px
                        data_hull = _hull_of_many(pts) if pts is not None else np.zeros((0, 2))
                    if rect_hits_polygon(rect, data_hull, margin=gap * 0.5):
                        continue
                found = rect
                break
            if found is not None:
                break
        out.append(found)
        if found is not None:
            placed.append(found)
    return out


def _pushed_inside(rect: Rect, width: float, height: float, pad: float = 2.0) -> Rect:
    """The rectangle moved (not resized) to lie inside the image, as far as it fits."""
    x, y, w, h = rect
    x = min(max(x, pad), max(pad, width - pad - w))
    y = min(max(y, pad), max(pad, height - pad - h))
    return (x, y, w, h)


def _inside(rect: Rect, width: float, height: float, pad: float = 2.0) -> bool:
    x, y, w, h = rect
    return x >= pad and y >= pad and x + w <= width - pad and y + h <= height - pad


def place_corner_block(
    corners_px: np.ndarray,
    size: tuple[float, float],
    width: float,
    height: float,
    data_px: np.ndarray | Callable[[], np.ndarray] | None = None,
    pad: float = 8.0,
) -> Rect:
    """Where a block of text (the layer's name and notes) of `size` goes: the first
    image corner (top left, top right, bottom left, bottom right) clear of the box's
    outline, else the first clear of the data's hull, else the top left."""
    w, h = size
    spots = [
        (pad, pad),
        (width - pad - w, pad),
        (pad, height - pad - h),
        (width - pad - w, height - pad - h),
    ]
    rects = [(float(x), float(y), float(w), float(h)) for x, y in spots]
    c = np.asarray(corners_px, dtype=np.float64).reshape(-1, 2)
    box_hull = convex_hull(c) if np.isfinite(c).all() else np.zeros((0, 2))
    for r in rects:
        if not rect_hits_polygon(r, box_hull):
            return r
    pts = data_px() if callable(data_px) else data_px
    data_hull = _hull_of_many(pts) if pts is not None else np.zeros((0, 2))
    for r in rects:
        if not rect_hits_polygon(r, data_hull, margin=pad * 0.5):
            return r
    return rects[0]
