"""Optimal-control training: the extended method of successive approximations (E-MSA).

Why: a ResNet x_{t+1} = x_t + h s(A_t x_t + b_t) is a discrete control system, and
Pontryagin's maximum principle trains it without a global gradient step: forward the
states, backward the costates, then let each layer maximise its own Hamiltonian
(Li, Chen, Tai and E, "Maximum principle based algorithms for deep learning", JMLR
2018). The plain method (maximise H_t outright) diverges; the *extended* one adds two
penalties that keep each layer's new parameters where the forward and backward
equations still hold, and that is what this module runs.

Conventions (one iteration on a mini-batch of N points, loss J the run's objective:
mean cross-entropy + transport λ mean_i Σ_t |x_{t+1} - x_t|² + weight decay Σ_t |θ_t|²):

- states x_{t+1} = f_t(x_t, θ_t) = α x_t + β s(A_t x_t + b_t), (α, β) = (1, h) for a
  ResNet, (0, 1) for an MLP (`core.net.maths`' block, nothing new);
- costates p_t = -∂J/∂x_t (N, d), exactly what TensorFlow's gradient gives
  (tests/core/test_msa.py checks to 1e-6): p_T = -∂(mean CE)/∂x_T and
  p_t = ∂H_t/∂x_t with H_t(x, p, θ) = Σ_i p_{t+1}^i·f_t(x^i, θ) - L_t, L_t the layer's
  regulariser (λ/N Σ_i |f_t - x_t|² + wd |θ_t|²). Per point, P = N p is O(1);
- then each layer (all T at once: they do not interact within an iteration) ascends
  the augmented Hamiltonian, in per-point units,
      H̃_t(θ) = (1/N) Σ_i [ P_{t+1}·f_t(x_t, θ) - λ|f_t - x_t|²
                            - ρ/2 |x_{t+1} - f_t(x_t, θ)|² - ρ/2 |∂_x H_t(θ) - P_t|² ] - wd |θ|²
  by `inner_steps` gradient-ascent steps of size `learning_rate` from the current θ_t.
  Both penalties are 0 with zero gradient at the current θ_t, so ρ = 0 and one inner
  step is exactly a plain gradient step (SGD) on the layers; ρ > 0 is what lets several
  inner steps move a layer without leaving the region where its Hamiltonian still
  describes the loss. The exact gradient of the last penalty needs s'' (tanh and
  sigmoid; 0 for the piecewise-linear activations).
- the head (w, c) is no control: it moves by plain gradient descent on the loss, at the
  same learning rate. A tied net maximises Σ_t H̃_t over its one block.

Pure numpy: the trainer (core/train/trainer.py) runs it in place of the compiled step,
in the same run loop, so an MSA run streams snapshots like any other; it is never part
of an ensemble. `forward`, `costates` and `hamiltonian` are also what
core/analysis/costate.py shows for any snapshot.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np

from nndyn_gui.core.net import maths
from nndyn_gui.core.train import quickstep
from nndyn_gui.core.train.stepper import Hyper, State


@dataclass(frozen=True)
class Settings:
    """The E-MSA numbers that are not `Hyper`'s: ρ of the augmentation and the number of
    gradient-ascent steps per layer per iteration."""

    rho: float
    inner_steps: int

    @classmethod
    def of(cls, train: object) -> Settings:
        return cls(float(train.msa_rho), int(train.msa_inner_steps))  # type: ignore[attr-defined]


# ---------------------------------------------------------------------- the two passes
@dataclass
class Tape:
    """One forward pass: states xs (T+1, N, d), pre-activations zs and activations ss
    (T, N, d), the head's logits ((N,) or (N, K)) and each block's move x_{t+1} - x_t."""

    xs: np.ndarray
    zs: np.ndarray
    ss: np.ndarray
    logits: np.ndarray

    @property
    def moves(self) -> np.ndarray:
        return self.xs[1:] - self.xs[:-1]


def _coefficients(kind: str, h: float) -> tuple[float, float]:
    """(α, β) of f = α x + β s: ResNet (1, h), MLP (0, 1)."""
    return (1.0, float(h)) if kind == "resnet" else (0.0, 1.0)


def _second_derivative(act: str, s: np.ndarray, ds: np.ndarray) -> np.ndarray:
    """s''(z) from s = s(z) and ds = s'(z) (only the augmented penalty needs it)."""
    if act == "tanh":
        return -2.0 * s * ds
    if act == "sigmoid":
        return ds * (1.0 - 2.0 * s)
    return np.zeros_like(s)  # relu, leaky relu, identity: piecewise linear


def _derivative(act: str, z: np.ndarray, s: np.ndarray) -> np.ndarray:
    """s'(z) as TensorFlow's gradient defines it (as the numpy stepper does)."""
    return maths.activation_derivative(act, z, s, maths.TF_LEAKY_SLOPE, kink_left=True)


def forward(
    kind: str,
    act: str,
    h: float,
    a: np.ndarray,
    b: np.ndarray,
    w: np.ndarray,
    c: float | np.ndarray,
    x: np.ndarray,
) -> Tape:
    """The states of points x (N, d) through blocks a (T, d, d), b (T, d) and the head."""
    t_count, n, d = a.shape[0], x.shape[0], x.shape[1]
    xs = np.empty((t_count + 1, n, d))
    zs = np.empty((t_count, n, d))
    ss = np.empty((t_count, n, d))
    xs[0] = x
    for t in range(t_count):
        zs[t] = maths.pre_activation(a[t], b[t], xs[t])
        ss[t] = maths.activation(act, zs[t], maths.TF_LEAKY_SLOPE)
        move = maths.block_move(kind, h, xs[t], ss[t])
        xs[t + 1] = maths.block_output(kind, xs[t], ss[t], move)
    return Tape(xs, zs, ss, maths.logits(w, c, xs[-1]))


def head_gradients(
    tape: Tape, w: np.ndarray, y: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(∂CE/∂w, ∂CE/∂c, ∂CE/∂x_T) of the mean cross-entropy."""
    dl = maths.cross_entropy_grad(tape.logits, y)
    x_t = tape.xs[-1]
    if np.ndim(w) == 1:
        return x_t.T @ dl, np.asarray(dl.sum()), np.outer(dl, w)
    return dl.T @ x_t, dl.sum(axis=0), dl @ w


def costates(
    kind: str, act: str, h: float, transport: float, a: np.ndarray, tape: Tape, dx_t: np.ndarray
) -> np.ndarray:
    """p_t = -∂J/∂x_t for t = 0..T (T+1, N, d), from dx_t = ∂CE/∂x_T: p_T = -dx_t and
    p_t = ∂H_t/∂x (the backward recursion of the maximum principle)."""
    alpha, beta = _coefficients(kind, h)
    n = tape.xs.shape[1]
    coef = 2.0 * transport / n  # ∂/∂x of (λ/N) |f - x|²
    ps = np.empty_like(tape.xs)
    ps[-1] = -dx_t
    moves = tape.moves
    for t in range(a.shape[0] - 1, -1, -1):
        p = ps[t + 1]
        v = beta * p - (coef * beta) * moves[t] if transport else beta * p
        u = v * _derivative(act, tape.zs[t], tape.ss[t])
        g = u @ a[t]
        if alpha:
            g = g + alpha * p
        if transport and alpha != 1.0:
            g = g - coef * (alpha - 1.0) * moves[t]
        ps[t] = g
    return ps


def hamiltonian(
    tape: Tape,
    ps: np.ndarray,
    transport: float,
    weight_decay: float,
    a: np.ndarray,
    b: np.ndarray,
) -> np.ndarray:
    """H_t = Σ_i p_{t+1}^i·x_{t+1}^i - L_t for t = 0..T-1 (T,), at the states of `tape`:
    L_t = λ/N Σ_i |x_{t+1} - x_t|² + wd (|A_t|² + |b_t|²) (`a`, `b` of all T blocks)."""
    n = tape.xs.shape[1]
    h_val = np.einsum("tnd,tnd->t", ps[1:], tape.xs[1:])
    if transport:
        h_val = h_val - (transport / n) * np.einsum("tnd,tnd->t", tape.moves, tape.moves)
    if weight_decay:
        h_val = h_val - weight_decay * (np.sum(a**2, axis=(1, 2)) + np.sum(b**2, axis=1))
    return np.asarray(h_val)


def augmented_gradient(
    kind: str,
    act: str,
    h: float,
    hyper: Hyper,
    rho: float,
    a: np.ndarray,
    b: np.ndarray,
    tape: Tape,
    ps: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(∂H̃_t/∂A_t, ∂H̃_t/∂b_t, H̃_t) of every layer (T, d, d), (T, d), (T,) at blocks
    a, b (T, ...) for the states and costates of `tape`, `ps` (see the module doc)."""
    alpha, beta = _coefficients(kind, h)
    lam, n = hyper.transport, tape.xs.shape[1]
    x, y = tape.xs[:-1], tape.xs[1:]
    big_p, big_q = n * ps[1:], n * ps[:-1]  # per-point costates P_{t+1}, P_t
    z = np.einsum("tnj,tij->tni", x, a) + b[:, None, :]
    s = maths.activation(act, z, maths.TF_LEAKY_SLOPE)
    s1 = _derivative(act, z, s)
    f = alpha * x + beta * s
    dx = f - x
    miss = y - f
    v = beta * (big_p - 2.0 * lam * dx)
    wv = s1 * v
    g = np.einsum("tni,tij->tnj", wv, a) + alpha * big_p
    if lam and alpha != 1.0:
        g = g - 2.0 * lam * (alpha - 1.0) * dx
    r = g - big_q
    # the Hamiltonian with the forward penalty: d/dz through s
    dz = s1 * (beta * (big_p - 2.0 * lam * dx + rho * miss))
    grad_a_extra = 0.0
    if rho:
        ar = np.einsum("tnj,tij->tni", r, a)  # A r
        cz = ar * (_second_derivative(act, s, s1) * v - (2.0 * lam * beta * beta) * s1 * s1)
        if lam and alpha != 1.0:
            cz = cz - (2.0 * lam * (alpha - 1.0) * beta) * r * s1
        dz = dz - rho * cz
        grad_a_extra = -rho * np.einsum("tni,tnj->tij", wv, r)
    grad_a = (np.einsum("tni,tnj->tij", dz, x) + grad_a_extra) / n
    grad_b = dz.sum(axis=1) / n
    value = np.einsum("tnd,tnd->t", big_p, f) - lam * np.einsum("tnd,tnd->t", dx, dx)
    value = value - 0.5 * rho * (
        np.einsum("tnd,tnd->t", miss, miss) + np.einsum("tnd,tnd->t", r, r)
    )
    value = value / n
    if hyper.weight_decay:
        grad_a = grad_a - 2.0 * hyper.weight_decay * a
        grad_b = grad_b - 2.0 * hyper.weight_decay * b
        value = value - hyper.weight_decay * (np.sum(a**2, axis=(1, 2)) + np.sum(b**2, axis=1))
    return grad_a, grad_b, np.asarray(value)


# ---------------------------------------------------------------------- the stepper
class Stepper:
    """E-MSA iterations of one structure on one data set (the `core.train.stepper.Stepper`
    protocol: one "step" is one iteration on a mini-batch). The objective, accuracies
    and the state it hands on are the numpy stepper's (`quickstep.Stepper`), so a
    snapshot's loss means the same number as under SGD or Adam."""

    def __init__(
        self,
        st: quickstep.Structure,
        x_tr: np.ndarray,
        y_tr: np.ndarray,
        x_te: np.ndarray,
        y_te: np.ndarray,
        state: State,
        settings: Settings,
    ) -> None:
        self.st = st
        self.settings = settings
        self._np = quickstep.Stepper(st, x_tr, y_tr, x_te, y_te, state)

    def _full(self, params: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        a, b = params[0], params[1]
        if self.st.tied:
            t = self.st.depth
            return np.repeat(a[None], t, axis=0), np.repeat(b[None], t, axis=0)
        return a, b

    def iterate(
        self, params: list[np.ndarray], hyper: Hyper, x: np.ndarray, y: np.ndarray
    ) -> tuple[float, list[np.ndarray]]:
        """One E-MSA iteration on (x, y): (the objective before it, the new parameters)."""
        st, cfg = self.st, self.settings
        a, b = self._full(params)
        w, c = params[2], params[3]
        lr = hyper.learning_rate
        tape = forward(st.kind, st.activation, hyper.h, a, b, w, c, x)
        moves = tape.moves
        acc = np.einsum("tnd,tnd->n", moves, moves) if st.use_transport else np.zeros(len(x))
        loss = self._np._loss(params, hyper, tape.logits, y, acc)
        gw, gc, dx_t = head_gradients(tape, w, y)
        lam = hyper.transport if st.use_transport else 0.0
        ps = costates(st.kind, st.activation, hyper.h, lam, a, tape, dx_t)
        hyper_l = hyper if st.use_transport else _no_transport(hyper)
        new_a, new_b = a.copy(), b.copy()
        for _ in range(max(1, cfg.inner_steps)):
            ga, gb, _value = augmented_gradient(
                st.kind, st.activation, hyper.h, hyper_l, cfg.rho, new_a, new_b, tape, ps
            )
            if st.tied:  # one block: ascend the sum of the layers' Hamiltonians
                ga = np.repeat(ga.sum(axis=0)[None], st.depth, axis=0)
                gb = np.repeat(gb.sum(axis=0)[None], st.depth, axis=0)
            new_a = new_a + lr * ga
            new_b = new_b + lr * gb
        if st.tied:
            new_a, new_b = new_a[0], new_b[0]
        return loss, [new_a, new_b, w - lr * gw, c - lr * gc]

    # ------------------------------------------------------------------ protocol
    def fused(
        self,
        rows: np.ndarray | None,
        n_steps: int,
        hyper: Hyper,
        deadline: float | None = None,
    ) -> tuple[int, float, int]:
        """Up to n_steps E-MSA iterations (`rows` (n_steps, B) or None: full batch);
        stops before a non-finite one or once `deadline` has passed (as quickstep)."""
        state = self._np.current
        loss = math.nan
        for i in range(n_steps):
            if deadline is not None and i and time.perf_counter() > deadline:
                return i, loss, 0
            if rows is not None and self.st.batch_size:
                xb, yb = self._np.x_tr[rows[i]], self._np.y_tr[rows[i]]
            else:
                xb, yb = self._np.x_tr, self._np.y_tr
            with np.errstate(all="ignore"):
                loss, new = self.iterate(state.params, hyper, xb, yb)
            if not (math.isfinite(loss) and loss <= quickstep.DIVERGED_LOSS):
                return i, loss, 1
            if not all(np.isfinite(p).all() for p in new):
                return i, loss, 2
            if self.st.keep_invertible and self.st.kind == "resnet":
                new[0] = maths.project_invertible(new[0], hyper.h, hyper.bound, self.st.activation)
            state.params = new
            state.t_opt += 1.0
        return n_steps, loss, 0

    def evaluate(self, hyper: Hyper) -> tuple[float, float, float]:
        return self._np.evaluate(hyper)

    def state(self) -> State:
        return self._np.state()


def _no_transport(hyper: Hyper) -> Hyper:
    return Hyper(hyper.learning_rate, hyper.h, hyper.weight_decay, 0.0, hyper.bound)
