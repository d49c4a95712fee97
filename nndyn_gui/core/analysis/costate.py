"""The costates and the Hamiltonian of a snapshot: what the maximum principle sees.

Why: the MSA optimiser (core/train/msa.py) trains by carrying costates p_t backwards
through the layers and letting each layer raise its Hamiltonian. Drawn as arrows at the
points of layer t, p_t is the direction in which moving those points would lower the
loss fastest (p_t = -∂loss/∂x_t); the Hamiltonian per layer is the number each layer's
update raises. Both are defined for any run, not only MSA runs (for SGD and Adam they
are the same numbers), so the views can show them for every snapshot.

Pure numpy; the recursion is the one MSA trains with (`msa.forward`, `msa.costates`,
`msa.hamiltonian`), never written a second time. tests/core/test_costate.py checks
p_t against TensorFlow's gradients to 1e-6.

Each block's transport |x_{t+1} - x_t|² is its own running cost, a function of x_t (its
move h s(A x_t + b), as the trainer's graph computes it): p_t is the derivative of the
loss still to come from layer t on (perturb the points at layer t, carry them forward).

Units: `loss` is the run's objective on the points given (mean cross-entropy +
transport + weight decay), so p_t is small (~1/N per point): `per_point=True` gives
N p_t, the costate of one point (the arrow a view would draw); the Hamiltonian is
H_t = Σ_i p_{t+1}^i·x_{t+1}^i - L_t with the mean-scale p (L_t: the layer's share of
transport and weight decay).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from nndyn_gui.core.config import RunConfig
from nndyn_gui.core.net import maths
from nndyn_gui.core.net.flow import embed
from nndyn_gui.core.train import msa
from nndyn_gui.core.types import NetWeights


@dataclass(frozen=True)
class Costates:
    """States, costates and Hamiltonian of one snapshot's weights on some points.

    states (T+1, N, d): x_0..x_T; costates (T+1, N, d): p_t = -∂loss/∂x_t (times N with
    `per_point`); hamiltonian (T,): H_t of block t (x_t -> x_{t+1}); loss: the objective."""

    states: np.ndarray
    costates: np.ndarray
    hamiltonian: np.ndarray
    loss: float


def analyse(
    config: RunConfig,
    weights: NetWeights,
    x: np.ndarray,
    y: np.ndarray,
    per_point: bool = False,
) -> Costates:
    """States, costates p_t and H_t for points x (N, 2 or d) with labels y (N,) under
    `weights` (any snapshot) and the config's net, transport and weight decay."""
    m, tr = config.model, config.train
    x0 = embed(np.asarray(x, dtype=np.float64), m.width)
    y = np.asarray(y, dtype=np.float64)
    a = np.asarray(weights.A, dtype=np.float64)
    b = np.asarray(weights.b, dtype=np.float64)
    w = np.asarray(weights.w, dtype=np.float64)
    h = float(m.h)
    with np.errstate(all="ignore"):
        tape = msa.forward(m.kind, m.activation, h, a, b, w, weights.c, x0)
        _gw, _gc, dx_t = msa.head_gradients(tape, w, y)
        ps = msa.costates(m.kind, m.activation, h, float(tr.transport), a, tape, dx_t)
        ham = msa.hamiltonian(tape, ps, float(tr.transport), float(tr.weight_decay), a, b)
        loss = _objective(config, tape, y, a, b)
    return Costates(tape.xs, ps * len(x0) if per_point else ps, ham, loss)


def costates(
    config: RunConfig, weights: NetWeights, x: np.ndarray, y: np.ndarray, per_point: bool = False
) -> list[np.ndarray]:
    """p_0..p_T, each (N, d): p_t = -∂loss/∂x_t (times N with `per_point`)."""
    return list(analyse(config, weights, x, y, per_point).costates)


def hamiltonian_per_layer(
    config: RunConfig, weights: NetWeights, x: np.ndarray, y: np.ndarray
) -> np.ndarray:
    """H_t for t = 0..T-1 (T,): the Hamiltonian each block's MSA update raises."""
    return analyse(config, weights, x, y).hamiltonian


def _objective(
    config: RunConfig, tape: msa.Tape, y: np.ndarray, a: np.ndarray, b: np.ndarray
) -> float:
    """The run's objective on these points (as core/train/quickstep.py defines it)."""
    tr = config.train
    loss = maths.cross_entropy(tape.logits, y)
    if tr.weight_decay:
        loss += tr.weight_decay * (float(np.sum(a**2)) + float(np.sum(b**2)))
    if tr.transport:
        moves = tape.moves
        loss += tr.transport * float(np.mean(np.einsum("tnd,tnd->n", moves, moves)))
    return float(loss)
