"""Layer anatomy and projections: what the layer-stage and 3-D views draw."""

from __future__ import annotations

import numpy as np

from nndyn_gui.core.config import ModelConfig
from nndyn_gui.core.net.flow import (
    HEAD_AXIS_LABEL,
    head_projection,
    layer_substeps,
    project,
    propagate,
)
from nndyn_gui.core.net.initial_weights import initial_weights


def _model(kind: str, width: int = 3, depth: int = 4) -> ModelConfig:
    return ModelConfig(kind=kind, width=width, depth=depth, h=0.5, activation="tanh")


def test_mlp_substeps_end_on_the_layer_output() -> None:
    m = _model("mlp")
    w = initial_weights(m, 0)
    w.b[:] = 0.3
    x = np.random.default_rng(0).uniform(-1, 1, (20, 2))
    traj = propagate(m, w, x)
    stages = layer_substeps(m, w, 1, traj[1])
    assert [s[0] for s in stages] == ["x", "A x", "A x + b", "s(A x + b)"]
    assert np.allclose(stages[1][1], traj[1] @ w.A[1].T)
    assert np.allclose(stages[2][1], stages[1][1] + 0.3)
    assert np.allclose(stages[-1][1], traj[2])


def test_resnet_substeps_show_the_affine_step_then_the_true_block() -> None:
    m = _model("resnet")
    w = initial_weights(m, 1)
    x = np.random.default_rng(1).uniform(-1, 1, (20, 2))
    traj = propagate(m, w, x)
    stages = layer_substeps(m, w, 0, traj[0])
    assert [s[0] for s in stages] == ["x", "x + h (A x + b)", "x + h s(A x + b)"]
    assert np.allclose(stages[1][1], traj[0] + 0.5 * (traj[0] @ w.A[0].T + w.b[0]))
    assert np.allclose(stages[-1][1], traj[1])


def test_projection_is_identity_when_the_view_has_room() -> None:
    traj = np.random.default_rng(2).normal(size=(3, 10, 2))
    p2 = project(traj, 2)
    assert p2.labels == ["x1", "x2"] and np.allclose(p2.apply(traj), traj)
    p3 = project(traj, 3)
    out = p3.apply(traj)
    assert out.shape == (3, 10, 3)
    assert np.allclose(out[..., :2], traj) and np.allclose(out[..., 2], 0.0)
    assert p3.labels[:2] == ["x1", "x2"]


def test_pca_projection_shows_the_widest_spread_with_stable_signs() -> None:
    rng = np.random.default_rng(3)
    last = rng.normal(size=(500, 5)) * np.array([0.1, 5.0, 0.2, 2.0, 0.05])
    traj = np.stack([last * 0.5, last])
    p = project(traj, 2)
    assert p.labels == ["PC1", "PC2"]
    assert np.allclose(p.components @ p.components.T, np.eye(2))
    # the two wide axes (2nd and 4th) are found, in order
    assert np.argmax(np.abs(p.components[0])) == 1 and np.argmax(np.abs(p.components[1])) == 3
    assert p.explained[0] > p.explained[1] > 0 and p.explained.sum() <= 1.0 + 1e-12
    big = p.components[np.arange(2), np.argmax(np.abs(p.components), axis=1)]
    assert (big > 0).all()
    flipped = project(-traj, 2)  # same cloud mirrored: same axes, not a flipped picture
    assert np.allclose(flipped.components, p.components)
    assert p.apply(traj).shape == (2, 500, 2)


def test_projection_can_be_fitted_on_a_reference_cloud() -> None:
    rng = np.random.default_rng(4)
    traj = rng.normal(size=(2, 100, 4)) * np.array([3.0, 1.0, 0.1, 0.1])
    ref = rng.normal(size=(100, 4)) * np.array([0.1, 0.1, 1.0, 3.0])
    p = project(traj, 2, ref=ref)
    assert np.argmax(np.abs(p.components[0])) == 3
    assert np.allclose(p.mean, ref.mean(axis=0))


# ---------------------------------------------------------------------- head axes
def _cloud(seed: int = 5) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.normal(size=(400, 5)) * np.array([0.2, 4.0, 0.1, 1.5, 0.05])


def test_head_axes_put_the_boundary_on_one_view_axis() -> None:
    """Axis 1 is w/|w|, so w.x + c = |w| y_1 + c: a point's side is its head decision."""
    pts = _cloud()
    w, c = np.array([0.3, 0.5, -2.0, 0.1, 0.7]), 0.4
    p = head_projection(w, pts, 2)
    assert p.head and p.labels == [HEAD_AXIS_LABEL, "⊥1"]
    np.testing.assert_allclose(p.components[0], w / np.linalg.norm(w), atol=1e-15)
    np.testing.assert_allclose(p.components @ p.components.T, np.eye(2), atol=1e-12)
    y = p.apply(pts)
    np.testing.assert_allclose(np.linalg.norm(w) * y[:, 0] + c, pts @ w + c, atol=1e-12)
    # the second axis is the widest spread left once w is taken out (mostly coordinate 2)
    assert abs(p.components[1] @ w) < 1e-12 and np.argmax(np.abs(p.components[1])) == 1
    assert 0 < p.explained.sum() <= 1 + 1e-12
    p3 = head_projection(w, pts, 3)
    assert p3.labels == [HEAD_AXIS_LABEL, "⊥1", "⊥2"]
    np.testing.assert_allclose(p3.components @ p3.components.T, np.eye(3), atol=1e-12)
    assert np.argmax(np.abs(p3.components[2])) == 3


def test_head_axes_fall_back_to_pca_without_a_usable_normal() -> None:
    pts = _cloud()
    for w in (np.zeros(5), np.array([np.nan, 1, 0, 0, 0]), np.array([np.inf, 0, 0, 0, 0])):
        p = head_projection(w, pts, 2)
        assert not p.head and p.labels == ["PC1", "PC2"]
        assert np.argmax(np.abs(p.components[0])) == 1  # the widest spread
        np.testing.assert_allclose(p.components @ p.components.T, np.eye(2), atol=1e-12)


def test_head_axes_survive_huge_and_non_finite_points() -> None:
    """No SVD ever sees inf (OpenBLAS hangs), nor a centring that overflows to inf."""
    pts = _cloud()
    pts[:3] = -1e308
    pts[3] = np.inf
    pts[4, 2] = np.nan
    w = np.array([1e300, 2e300, 0.0, 0.0, 0.0])  # |w| itself overflows
    for dims in (2, 3):
        p = head_projection(w, pts, dims)
        assert p.head and np.isfinite(p.components).all()
        np.testing.assert_allclose(p.components[0], np.array([1, 2, 0, 0, 0]) / np.sqrt(5))
        np.testing.assert_allclose(p.components @ p.components.T, np.eye(dims), atol=1e-12)
    q = project(pts[None], 2)  # plain PCA is guarded the same way
    assert np.isfinite(q.components).all() and np.isfinite(q.mean).all()
    empty = head_projection(w, np.full((4, 5), np.nan), 3)
    np.testing.assert_allclose(empty.components @ empty.components.T, np.eye(3), atol=1e-12)


def test_winding_plane_uses_the_views_head_axes() -> None:
    """The loop's winding is measured in the very plane the 2-D views draw."""
    from nndyn_gui.core.analysis.topology import winding_plane
    from nndyn_gui.core.types import NetWeights

    pts = _cloud()[:, :4]
    nw = NetWeights(np.zeros((1, 4, 4)), np.zeros((1, 4)), np.array([0.2, -1.0, 0.3, 0.5]), 0.0)
    plane = winding_plane(nw, pts)
    view = head_projection(nw.w, pts, 2).components
    for a, b in zip(plane, view, strict=True):  # the same axes, up to orientation
        assert abs(abs(a @ b) - 1.0) < 1e-12
