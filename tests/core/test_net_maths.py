"""The network's rule is written once in numpy (core/net/maths.py) and once in TensorFlow
(the trainer's twin): the pictures a user sees and the net the trainer trains must be
the same function, for every activation, kind, tied or not, two or three classes."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import tensorflow as tf

from nndyn_gui.core.net import maths
from nndyn_gui.core.train import program, quickstep

TOL = 1e-12


def _structure(kind: str, act: str, tied: bool, classes: int) -> quickstep.Structure:
    return quickstep.Structure(kind, act, 3, 5, tied, True, "adam", 0, True, classes)


def _numpy_net(st, a, b, w, c, h, x):
    """x_T, per-point transport and logits from core/net/maths.py alone."""
    blocks = [(a, b)] * st.depth if st.tied else list(zip(a, b, strict=True))
    acc = np.zeros(len(x))
    for ak, bk in blocks:
        s = maths.activation(st.activation, maths.pre_activation(ak, bk, x), maths.TF_LEAKY_SLOPE)
        move = maths.block_move(st.kind, h, x, s)
        acc += (move**2).sum(axis=1)
        x = maths.block_output(st.kind, x, s, move)
    return x, acc, maths.logits(w, c, x)


@pytest.mark.parametrize(
    ("kind", "act", "tied", "classes"),
    list(itertools.product(("resnet", "mlp"), maths.ACTIVATIONS, (False, True), (2, 3))),
)
def test_the_trainer_computes_the_net_the_views_draw(kind, act, tied, classes) -> None:
    st = _structure(kind, act, tied, classes)
    rng = np.random.default_rng(7)
    d, t = st.width, st.depth
    a = rng.normal(0.0, 0.8, (d, d) if tied else (t, d, d))
    b = rng.normal(0.0, 0.5, (d,) if tied else (t, d))
    w = rng.normal(size=d if classes == 2 else (classes, d))
    c = np.float64(0.3) if classes == 2 else rng.normal(size=classes)
    x = rng.uniform(-1.5, 1.5, (40, d))
    h = 0.4

    want_x, want_acc, want_logits = _numpy_net(st, a, b, w, c, h, x)
    a_full, b_full = program._full_params(st, tf.constant(a), tf.constant(b))
    got_x, got_acc = program._forward(st, a_full, b_full, tf.constant(h, tf.float64), x)
    got_logits = program._logits(st, tf.constant(w), tf.constant(c), got_x)
    assert np.allclose(got_x.numpy(), want_x, rtol=TOL, atol=TOL)
    assert np.allclose(got_acc.numpy(), want_acc, rtol=TOL, atol=TOL)
    assert np.allclose(got_logits.numpy(), want_logits, rtol=TOL, atol=TOL)
    assert np.array_equal(maths.classes_of(got_logits.numpy()), maths.classes_of(want_logits))

    hyper = {"h": tf.constant(h, tf.float64), "bound": tf.constant(0.9, tf.float64)}
    big = 3.0 * a  # most blocks violate the bound: the projection must act
    got_a = program._project_invertible(st, tf.constant(big), hyper).numpy()
    want_a = maths.project_invertible(big, h, 0.9, act)
    assert np.allclose(got_a, want_a, rtol=TOL, atol=TOL)
    norms = np.linalg.svd(want_a, compute_uv=False)[..., 0]
    assert np.all(maths.lip_product("resnet", act, h, norms) <= 0.9 * (1.0 + TOL))
