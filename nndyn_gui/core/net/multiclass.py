"""The K-class head's geometry: where it looks, and its K regions in a view.

A softmax head W (K, d), c (K,) predicts argmax_k (W_k . x + c_k). Adding one vector to
every row changes nothing, so the prediction depends on x only through the K-1 numbers
(W_k - W_0) . x: the head looks along the span of the class-difference normals, a
subspace of dimension r <= K-1. Three consequences shape the views:

- a projection whose axes contain that span (`class_projection`) keeps the K regions
  exact: in view coordinates y they are argmax_k (Wv_k . y + cv_k) (`view_head`), and a
  point's region in the picture is the net's prediction for it;
- K = 3 has r <= 2, so even a wide net's 3 regions are exact in 2-D; K = 4 needs 3-D;
  when r exceeds the view's dimensions no boundary is exact and none is drawn;
- the regions of a linear argmax are convex polygons (polyhedra), and the boundary
  between classes i and j is the part of {(W_i - W_j) . y + c_i - c_j = 0} where i and
  j beat every other class: `boundary_segments` (2-D) and `boundary_faces` (3-D) clip
  each pairwise line (plane) to the view box and to where it is active.

Two classes keep the binary sigmoid head and `flow.head_projection`; nothing here is
used for them.
"""

from __future__ import annotations

import math

import numpy as np

from nndyn_gui.core.net.flow import Projection, _main_directions, _spread, svd_safe_rows

RANK_TOL = 1e-9  # singular values below this share of the largest: not a direction
EXACT_TOL = 1e-9  # relative residual of the differences outside the view's axes
CLASS_AXIS_LABEL = "class axis"


# ---------------------------------------------------------------------- directions
def class_differences(w: np.ndarray) -> np.ndarray:
    """(K-1, d) rows W_k - W_0: the only directions the softmax head looks along."""
    w = np.asarray(w, dtype=np.float64)
    return np.asarray(w[1:] - w[0])


def difference_basis(w: np.ndarray) -> np.ndarray:
    """(r, d) orthonormal rows spanning the class differences (r = 0 when W is not finite
    or all rows are equal: no boundary at all). Ordered by how strongly the logits vary
    along them; each row's largest entry is positive, so pictures do not flip."""
    diff = class_differences(w)
    d = diff.shape[1] if diff.ndim == 2 else 0
    if diff.size == 0 or not np.isfinite(diff).all():
        return np.zeros((0, d))
    big = float(np.abs(diff).max())
    if big == 0.0:
        return np.zeros((0, d))
    _u, s, vt = np.linalg.svd(diff / big, full_matrices=False)
    r = int(np.sum(s > RANK_TOL * s[0]))
    rows = vt[:r]
    idx = np.argmax(np.abs(rows), axis=1)
    signs = np.where(rows[np.arange(r), idx] < 0, -1.0, 1.0)
    return np.asarray(rows * signs[:, None])


def _complement(basis: np.ndarray, d: int) -> np.ndarray:
    """(d - r, d) orthonormal rows orthogonal to the r orthonormal rows of `basis`."""
    r = basis.shape[0]
    if r == 0:
        return np.eye(d)
    _u, _s, vt = np.linalg.svd(basis, full_matrices=True)
    return np.asarray(vt[r:])


def class_projection(w: np.ndarray, points: np.ndarray, dims: int) -> Projection:
    """Axes that keep the K regions exact when R^d is drawn in `dims` < d dimensions.

    First the span of the class differences (`difference_basis`), then the main
    directions of `points` (e.g. the last layer) orthogonal to it. `head` is True when
    the span fits (r <= dims): the regions are then exact in view coordinates. When it
    does not fit, the axes are the `dims` main directions of the points inside the span
    (`head` False: no region is exact, none may be drawn). No centring, as in
    `flow.head_projection`. Never decomposes a non-finite matrix.
    """
    pts, _ = svd_safe_rows(points)
    d = pts.shape[1]
    if not 1 <= dims <= d:
        raise ValueError(f"cannot draw R^{d} in {dims} dimensions with a projection")
    basis = difference_basis(w)
    r = basis.shape[0]
    total = _spread(pts)
    if r == 0:
        comps, var = _main_directions(pts, np.eye(d), dims)
        labels = [f"PC{i + 1}" for i in range(dims)]
        head = False
    elif r <= dims:
        rest, var_rest = _main_directions(pts, _complement(basis, d), dims - r)
        comps = np.vstack([basis, rest])
        along = np.array([_spread(pts @ row[:, None]) for row in basis])
        var = np.concatenate([along, var_rest])
        labels = [f"{CLASS_AXIS_LABEL} {i + 1}" for i in range(r)]
        labels += [f"⊥{i}" for i in range(1, dims - r + 1)]
        head = True
    else:
        comps, var = _main_directions(pts, basis, dims)
        labels = [f"class-span PC{i + 1}" for i in range(dims)]
        head = False
    explained = var / total if total > 0 else np.zeros(dims)
    return Projection(np.zeros(d), comps, explained, labels, head=head)


def view_head(
    w: np.ndarray, c: np.ndarray, matrix: np.ndarray, offset: np.ndarray
) -> tuple[np.ndarray, np.ndarray] | None:
    """The head in view coordinates y = matrix @ x + offset: (Wv (K, dims), cv (K,)).

    argmax_k (Wv_k . y + cv_k) is the net's class for every x that maps to y, provided
    the class differences lie in the span of the view's axes (rows of `matrix`,
    orthonormal or zero); otherwise None (a region drawn there would lie).
    """
    w = np.asarray(w, dtype=np.float64)
    c = np.asarray(c, dtype=np.float64).ravel()
    m = np.asarray(matrix, dtype=np.float64)
    if not (np.isfinite(w).all() and np.isfinite(c).all() and np.isfinite(m).all()):
        return None
    diff = w - w[0]  # (K, d), row 0 zero
    coef = diff @ m.T  # (K, dims)
    resid = diff - coef @ m
    scale = max(float(np.abs(diff).max(initial=0.0)), 1e-300)
    if float(np.abs(resid).max(initial=0.0)) > EXACT_TOL * scale:
        return None
    cv = (c - c[0]) - coef @ np.asarray(offset, dtype=np.float64)
    return coef, cv


# ---------------------------------------------------------------------- clipping
def clip_polygon(poly: np.ndarray, g: np.ndarray, e: float) -> np.ndarray:
    """The part of the convex polygon `poly` (P, 2) where g . y + e >= 0 (Sutherland-Hodgman)."""
    if len(poly) == 0:
        return poly
    s = poly @ g + e
    out: list[np.ndarray] = []
    n = len(poly)
    for i in range(n):
        a, b = poly[i], poly[(i + 1) % n]
        sa, sb = s[i], s[(i + 1) % n]
        if sa >= 0:
            out.append(a)
        if (sa >= 0) != (sb >= 0):
            u = sa / (sa - sb)
            out.append(a + u * (b - a))
    return np.array(out).reshape(-1, 2)


def _clip_interval(a: np.ndarray, b: np.ndarray) -> tuple[float, float] | None:
    """The t with a_i + t b_i >= 0 for every i, as (lo, hi), or None when empty."""
    lo, hi = -math.inf, math.inf
    for ai, bi in zip(a, b, strict=True):
        if abs(bi) < 1e-300:
            if ai < 0:
                return None
            continue
        t = -ai / bi
        if bi > 0:
            lo = max(lo, t)
        else:
            hi = min(hi, t)
    return (lo, hi) if lo < hi else None


def _beats_others(wv: np.ndarray, cv: np.ndarray, i: int, j: int) -> tuple[np.ndarray, np.ndarray]:
    """Half-spaces G y + e >= 0 where class i (= class j on their boundary) beats the rest."""
    others = [m for m in range(len(cv)) if m not in (i, j)]
    g = np.array([wv[i] - wv[m] for m in others]).reshape(-1, wv.shape[1])
    e = np.array([cv[i] - cv[m] for m in others])
    return g, e


def boundary_segments(
    wv: np.ndarray, cv: np.ndarray, box: np.ndarray
) -> list[tuple[int, int, np.ndarray]]:
    """The K regions' borders in a 2-D box (2, 2): (i, j, (2, 2) end points) per border.

    Each border is the part of the line {(Wv_i - Wv_j) . y + cv_i - cv_j = 0} inside the
    box where classes i and j beat every other class (Liang-Barsky clipping).
    """
    wv = np.asarray(wv, dtype=np.float64)
    cv = np.asarray(cv, dtype=np.float64)
    box = np.asarray(box, dtype=np.float64)
    out: list[tuple[int, int, np.ndarray]] = []
    k = len(cv)
    for i in range(k):
        for j in range(i + 1, k):
            n = wv[i] - wv[j]
            nn = float(n @ n)
            if not nn > 1e-24:
                continue
            off = cv[i] - cv[j]
            p0 = -off * n / nn
            u = np.array([-n[1], n[0]]) / math.sqrt(nn)
            g, e = _beats_others(wv, cv, i, j)
            a = np.concatenate([p0 - box[0], box[1] - p0, g @ p0 + e])
            b = np.concatenate([u, -u, g @ u])
            span = _clip_interval(a, b)
            if span is None:
                continue
            t0, t1 = span
            out.append((i, j, np.array([p0 + t0 * u, p0 + t1 * u])))
    return out


def _plane_frame(n: np.ndarray, off: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A point of {n . y + off = 0} and two orthonormal directions spanning that plane."""
    nn = float(n @ n)
    p0 = -off * n / nn
    unit = n / math.sqrt(nn)
    helper = np.eye(3)[int(np.argmin(np.abs(unit)))]
    e1 = np.cross(unit, helper)
    e1 /= np.linalg.norm(e1)
    e2 = np.cross(unit, e1)
    return p0, e1, e2


def boundary_faces(
    wv: np.ndarray, cv: np.ndarray, box: np.ndarray
) -> list[tuple[int, int, np.ndarray]]:
    """The K regions' borders in a 3-D box (2, 3): (i, j, (P, 3) convex polygon) per border.

    The plane {(Wv_i - Wv_j) . y + cv_i - cv_j = 0} in its own 2-D coordinates, clipped
    to the box's six faces and to where i and j beat every other class.
    """
    wv = np.asarray(wv, dtype=np.float64)
    cv = np.asarray(cv, dtype=np.float64)
    box = np.asarray(box, dtype=np.float64)
    out: list[tuple[int, int, np.ndarray]] = []
    k = len(cv)
    reach = float(np.linalg.norm(box[1] - box[0])) + float(np.abs(box).max())
    for i in range(k):
        for j in range(i + 1, k):
            n = wv[i] - wv[j]
            if not float(n @ n) > 1e-24:
                continue
            p0, e1, e2 = _plane_frame(n, float(cv[i] - cv[j]))
            frame = np.stack([e1, e2], axis=1)  # (3, 2): plane coords -> R^3
            r = reach + float(np.linalg.norm(p0))
            poly = np.array([[-r, -r], [r, -r], [r, r], [-r, r]])
            g_box = np.vstack([np.eye(3), -np.eye(3)])
            e_box = np.concatenate([-box[0], box[1]])
            g, e = _beats_others(wv, cv, i, j)
            for gi, ei in zip(np.vstack([g_box, g]), np.concatenate([e_box, e]), strict=True):
                # gi . (p0 + frame q) + ei >= 0  in plane coordinates q
                poly = clip_polygon(poly, frame.T @ gi, float(gi @ p0 + ei))
                if len(poly) < 3:
                    break
            if len(poly) >= 3:
                out.append((i, j, p0 + poly @ frame.T))
    return out


# ---------------------------------------------------------------------- margins
def class_margin(w: np.ndarray, c: np.ndarray, x: np.ndarray, y: np.ndarray) -> float:
    """Smallest signed distance of the points x (N, d) to the border of their class y's
    region: min over j != y of ((W_y - W_j) . x + c_y - c_j) / |W_y - W_j| (< 0: an
    error). For a point inside its convex region this is its distance to the border."""
    w = np.asarray(w, dtype=np.float64)
    c = np.asarray(c, dtype=np.float64)
    if len(y) == 0:
        return math.nan
    logits = x @ w.T + c  # (N, K)
    yi = np.asarray(y, dtype=np.int64)
    own = logits[np.arange(len(yi)), yi]
    pair = np.linalg.norm(w[:, None, :] - w[None, :, :], axis=2)  # (K, K): |W_i - W_j|
    norm = pair[yi]  # (N, K), not an (N, K, d) array per call
    with np.errstate(all="ignore"):
        dist = (own[:, None] - logits) / norm
    dist[np.arange(len(yi)), yi] = np.inf
    dist = np.where(norm > 0, dist, np.inf)
    best = float(np.min(dist))
    return best if math.isfinite(best) else math.nan
