"""Layer anatomy and projections: what the layer-stage and 3-D views draw."""

from __future__ import annotations

import numpy as np

from nndyn_gui.core.config import ModelConfig
from nndyn_gui.core.flow import layer_substeps, project, propagate
from nndyn_gui.core.network import initial_weights


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
