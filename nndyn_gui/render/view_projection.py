"""The linear map from a layer's R^d to the view's 2 or 3 axes, and how it is chosen.

Why its own module: every view draws through one `ViewProjection` (points, grid, plane,
region image and loop carried by the very same map), and which map that is (identity,
the head's axes so the drawn boundary is exact, or PCA with no boundary drawn) is a
decision of its own, separate from carrying the data through the net (render/scene.py).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from nndyn_gui.core.analysis import narrator
from nndyn_gui.core.net import flow, multiclass


@dataclass
class ViewProjection:
    """The linear map R^d -> R^dims the views use: identity, head axes, or PCA.

    Stored as y = x @ matrix.T + offset so the plane, the region image and the loop can
    be carried into view coordinates by the very same map as the points. `kind`:
    "identity" (the net is narrow enough to show as it is), "head" (first axis the
    head's normal, so the drawn boundary is exact: see `flow.head_projection`), "pca"
    (the head has no usable normal: no boundary is drawn), "ortho" (a camera view).
    """

    matrix: np.ndarray  # (dims, d)
    offset: np.ndarray  # (dims,)
    labels: tuple[str, ...]  # axis labels, e.g. ("x1", "x2") or ("w-axis (head normal)", "⊥1")
    note: str = ""  # e.g. "projection of R^5, 93% of the spread: ..." (empty for identity)
    #: the note where no boundary is drawn (the layers before the output): it names none
    inner_note: str = ""
    kind: str = "identity"  # identity | head | pca | ortho
    source_dim: int = 2

    @property
    def dims(self) -> int:
        return int(self.matrix.shape[0])

    @property
    def projected(self) -> bool:
        """True when the view shows fewer dimensions than the layer has."""
        return self.kind != "identity"

    def apply(self, x: np.ndarray) -> np.ndarray:
        """Map (..., d) -> (..., dims); identity is an exact slice (no rounding)."""
        x = np.asarray(x, dtype=np.float64)
        if self.kind == "identity":
            return np.array(x[..., : self.dims], dtype=np.float64)
        with np.errstate(all="ignore"):  # diverged layers may hold inf
            return x @ self.matrix.T + self.offset

    def plane(self, w: np.ndarray, c: float) -> tuple[np.ndarray, float]:
        """The head's boundary {x: w.x + c = 0} in view coordinates, as (w', c').

        Head axes: exactly y_1 = -c/|w| (w lies along the first axis). PCA: no boundary
        (w' = 0, not drawn): a slice of the boundary through the view subspace puts
        points off that subspace on the wrong side. Identity: w itself.
        """
        w = np.asarray(w, dtype=np.float64)
        if self.kind == "head":
            pw = np.zeros(self.dims)
            pw[0] = float(self.matrix[0] @ w)
            return pw, float(c) - float(pw[0] * self.offset[0])  # y_1 = u.x + offset_1
        if self.kind == "identity":
            pw = np.zeros(self.dims)
            n = min(self.dims, w.size)
            pw[:n] = w[:n]
            return pw, float(c)
        return np.zeros(self.dims), 0.0

    def class_head(self, w: np.ndarray, c: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
        """A K-class head (W (K, d), c (K,)) in view coordinates, or None when its regions
        are not exact here (PCA or camera views, or a class span wider than the view)."""
        if self.kind not in ("identity", "head"):
            return None
        return multiclass.view_head(w, c, self.matrix, self.offset)


def make_projection(last: np.ndarray, w: np.ndarray, d: int, dims: int, k: int) -> ViewProjection:
    """Identity when the net is narrow enough to show, else the head's axes of the last layer.

    One projection for every layer, fitted on the last layer's points. Two classes: the
    head's normal (`flow.head_projection`), PCA with no boundary drawn when it has none.
    K > 2: the span of the class differences first (`multiclass.class_projection`): when
    it fits the view the K regions are exact and drawn; when not, the note says so.
    """
    if d <= dims:
        return ViewProjection(
            matrix=np.eye(dims, d),
            offset=np.zeros(dims),
            labels=tuple(f"x{i + 1}" for i in range(dims)),
            source_dim=d,
        )
    p = (
        flow.head_projection(w, last, dims)
        if k == 2
        else multiclass.class_projection(w, last, dims)
    )
    share = float(p.explained.sum())
    why = ""
    if k > 2 and not p.head:
        span = multiclass.difference_basis(w).shape[0]
        why = f"the {k} classes differ in {span} directions" if span else "the head is not finite"

    def note(drawn: bool) -> str:
        return narrator.projection_note(d, share, dims, p.head, drawn, k, why).text

    return ViewProjection(
        matrix=np.asarray(p.components, dtype=np.float64),
        offset=-(p.components @ p.mean),
        labels=tuple(p.labels),
        note=note(True),
        inner_note=note(False),
        kind="head" if p.head else "pca",
        source_dim=d,
    )
