"""Initial weights in numpy, so the untrained flow can be drawn before TensorFlow loads.

The trainer starts from exactly these arrays, which is what makes "same config + seed
=> same weights" hold and lets the app show x(t) of the untrained net at once.
"""

from __future__ import annotations

import numpy as np

from nndyn_gui.core.config import ModelConfig
from nndyn_gui.core.types import NetWeights


def initial_weights(model: ModelConfig, seed: int, classes: int = 2) -> NetWeights:
    """Glorot-uniform A_k (times model.init_scale), zero b_k, Glorot head w, c = 0.

    K = `classes` > 2: a Glorot (K, d) head and c = 0 (K,), drawn after A from the same
    generator, so the layers of a K-class net start where the binary net's do.
    """
    rng = np.random.default_rng(seed)
    d, t = model.width, model.depth
    lim = np.sqrt(6.0 / (d + d)) * model.init_scale
    n_mats = 1 if model.tied else t
    a = rng.uniform(-lim, lim, size=(n_mats, d, d))
    if model.tied:
        a = np.repeat(a, t, axis=0)
    b = np.zeros((t, d))
    if classes > 2:
        lim_w = np.sqrt(6.0 / (d + classes))
        head = rng.uniform(-lim_w, lim_w, size=(classes, d))
        return NetWeights(A=a, b=b, w=head, c=np.zeros(classes))
    w = rng.uniform(-np.sqrt(6.0 / (d + 1)), np.sqrt(6.0 / (d + 1)), size=d)
    return NetWeights(A=a, b=b, w=w, c=0.0)
