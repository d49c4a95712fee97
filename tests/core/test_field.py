"""The velocity field of the blocks and the fixed points of a tied net, in numbers."""

from __future__ import annotations

import numpy as np
import pytest

from nndyn_gui.core.analysis import field
from nndyn_gui.core.config import ModelConfig
from nndyn_gui.core.net.flow import layer
from nndyn_gui.core.types import NetWeights


def _weights(depth: int = 4, d: int = 2, seed: int = 0) -> NetWeights:
    rng = np.random.default_rng(seed)
    return NetWeights(rng.normal(size=(depth, d, d)), rng.normal(size=(depth, d)), np.ones(d), 0.0)


def _tied(a: np.ndarray, b: np.ndarray, depth: int = 3) -> NetWeights:
    d = a.shape[0]
    return NetWeights(np.repeat(a[None], depth, 0), np.repeat(b[None], depth, 0), np.ones(d), 0.0)


def test_resnet_arrows_are_h_sigma_of_the_block_and_mlp_arrows_the_jump() -> None:
    w = _weights()
    x = np.random.default_rng(1).uniform(-1, 1, (50, 2))
    res = ModelConfig(kind="resnet", width=2, depth=4, h=0.3)
    for k in range(4):
        v = field.block_vectors(res, w, k, x)
        np.testing.assert_array_equal(v, 0.3 * np.tanh(x @ w.A[k].T + w.b[k]))
        np.testing.assert_allclose(x + v, layer(res, w, k, x), rtol=0, atol=1e-15)
    mlp = ModelConfig(kind="mlp", width=2, depth=4, activation="relu")
    v = field.block_vectors(mlp, w, 2, x)
    np.testing.assert_allclose(x + v, layer(mlp, w, 2, x), atol=1e-15)


def test_the_field_is_interpolated_between_blocks_in_layer_time() -> None:
    w = _weights(depth=4)
    m = ModelConfig(kind="resnet", width=2, depth=4, h=0.1)
    x = np.random.default_rng(2).uniform(-1, 1, (20, 2))
    v = [field.block_vectors(m, w, k, x) for k in range(4)]
    np.testing.assert_array_equal(field.field_at(m, w, 1.0, x), v[1])
    np.testing.assert_allclose(field.field_at(m, w, 1.25, x), 0.75 * v[1] + 0.25 * v[2])
    for s in (3.0, 3.5, 4.0, 99.0):  # the last block acts from layer T-1 to T
        np.testing.assert_array_equal(field.field_at(m, w, s, x), v[3])
    assert field.describe(m, 4, 1.0) == "h·σ(A x + b) of block 2"
    assert field.describe(m, 4, 1.5) == "h·σ(A x + b) between blocks 2 and 3"


def test_lattice_is_fixed_in_space_while_the_box_moves() -> None:
    a, step = field.lattice(np.array([[-1.0, -1.0], [1.0, 1.0]]), 10)
    b, step_b = field.lattice(np.array([[-0.93, -1.04], [1.07, 0.96]]), 10)
    assert step == step_b == 0.2
    shared = {tuple(np.round(p, 9)) for p in a} & {tuple(np.round(p, 9)) for p in b}
    assert len(shared) >= 0.8 * len(a)  # the same world points, not shifted copies
    assert np.all(b >= [-0.93, -1.04]) and np.all(b <= [1.07, 0.96])


@pytest.mark.parametrize(
    ("eig", "kind"),
    [((-1.0, -2.0), "sink"), ((1.0, 2.0), "source"), ((-1.0, 1.5), "saddle")],
)
def test_tied_tanh_resnet_has_one_fixed_point_marked_by_its_eigenvalues(
    eig: tuple[float, float], kind: str
) -> None:
    rot = np.array([[np.cos(0.7), -np.sin(0.7)], [np.sin(0.7), np.cos(0.7)]])
    a = rot @ np.diag(eig) @ rot.T
    b = np.array([0.3, -0.2])
    m = ModelConfig(kind="resnet", width=2, depth=3, h=0.1, tied=True)
    fp = field.fixed_points(m, _tied(a, b))
    assert fp.count() == 1 and fp.points[0].kind == kind
    x = fp.points[0].x
    np.testing.assert_allclose(x, -np.linalg.solve(a, b), atol=1e-14)
    np.testing.assert_allclose(np.tanh(a @ x + b), 0.0, atol=1e-14)  # the field rests there
    np.testing.assert_allclose(np.sort(fp.points[0].eigenvalues.real), np.sort(eig), atol=1e-12)
    assert fp.points[0].map_attracting is (kind == "sink")  # |1 + h lambda| < 1 for h = 0.1


def test_activations_without_isolated_fixed_points_say_why() -> None:
    a, b = np.eye(2), np.array([0.1, 0.2])
    base = {"kind": "resnet", "width": 2, "depth": 3, "tied": True}
    sig = field.fixed_points(ModelConfig(**base, activation="sigmoid"), _tied(a, b))
    assert sig.count() == 0 and "never 0" in sig.note
    relu = field.fixed_points(ModelConfig(**base, activation="relu"), _tied(a, b))
    assert relu.count() == 0 and "whole region" in relu.note
    singular = field.fixed_points(ModelConfig(**base), _tied(np.array([[1.0, 2], [2, 4]]), b))
    assert singular.count() == 0 and "singular" in singular.note
    untied = field.fixed_points(ModelConfig(kind="resnet", width=2, depth=3), _tied(a, b))
    assert untied.count() == 0


def test_tied_mlp_fixed_points_are_found_numerically_and_classified() -> None:
    """x = tanh(2x) has three roots per coordinate: 0 repels, +-0.957 attract."""
    m = ModelConfig(kind="mlp", width=2, depth=3, tied=True)
    fp = field.fixed_points(m, _tied(2.0 * np.eye(2), np.zeros(2)))
    assert fp.count() == 9
    r = 0.9575040240772687  # the positive root of x = tanh(2x)
    kinds = {tuple(np.round(p.x, 6)): p.kind for p in fp.points}
    assert kinds[(0.0, 0.0)] == "repelling"
    assert kinds[(round(r, 6), round(-r, 6))] == "attracting"
    assert kinds[(0.0, round(r, 6))] == "saddle"
    for p in fp.points:
        np.testing.assert_allclose(np.tanh(2.0 * p.x), p.x, atol=1e-10)
    calm = field.fixed_points(m, _tied(0.5 * np.eye(2), np.zeros(2)))
    assert [p.kind for p in calm.points] == ["attracting"]
