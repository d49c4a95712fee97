"""The trainer's optimiser steps in plain numpy, for the seconds XLA needs to compile.

Why: every new architecture is a new compiled function (core/train/program.py), and its
XLA compile takes 1-4 s; a plain TensorFlow graph still needs ~1 s of tracing. These
nets are tiny (d <= 64), so numpy runs the very same steps at once, ~1 ms each for
51 blocks of width 3 on a mini-batch of 50, and the window shows training within a
fraction of a second whatever changed; the trainer switches to the compiled function
at the next call once it is ready (`Trainer(..., quick_start=True)`).

This is the same objective, gradient and optimiser as `core.train.program._build`, written
out by hand (float64; the backward pass of x + h s(Ax+b) / s(Ax+b), Adam with Keras'
constants, the invertibility projection, the non-finite guard). The two agree to
rounding: tests/core/test_quickstep.py compares them step by step; whoever changes the
loss or the optimiser in training.py must change it here too (or make `supports`
refuse the new structure, which falls back to waiting for the compile).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np

from nndyn_gui.core.net import maths
from nndyn_gui.core.train.stepper import Hyper, State

BETA1, BETA2, EPS = 0.9, 0.999, 1e-7  # Keras' Adam defaults (core.train.trainer uses these)
# A loss above this counts as diverged: float64 rarely overflows, but a user would call
# a cross-entropy of 1e12 diverged (float32 training would have hit Inf by then).
DIVERGED_LOSS = 1e12


@dataclass(frozen=True)
class Structure:
    """The config fields that change the traced graph (everything else is a tensor input)."""

    kind: str
    activation: str
    width: int
    depth: int
    tied: bool
    keep_invertible: bool
    optimizer: str
    batch_size: int  # 0 = full batch (already clamped to the training-set size)
    use_transport: bool
    classes: int = 2  # K: 2 = sigmoid head + binary cross-entropy, K > 2 = softmax


def supports(st: Structure) -> bool:
    """True when these steps are implemented here for `st` (else: wait for the compile)."""
    return (
        st.kind in ("resnet", "mlp")
        and st.activation in maths.ACTIVATIONS
        and st.optimizer in ("adam", "sgd")
    )


def _grad(act: str, z: np.ndarray, s: np.ndarray) -> np.ndarray:
    """s'(z) as TensorFlow's gradients define it (float32 leaky slope, left at the kink)."""
    return maths.activation_derivative(act, z, s, maths.TF_LEAKY_SLOPE, kink_left=True)


class Stepper:
    """Loss, gradient and optimiser steps of one structure on one data set, in numpy
    (the `core.train.stepper.Stepper` protocol; `self.current` is trained in place)."""

    def __init__(
        self,
        st: Structure,
        x_tr: np.ndarray,
        y_tr: np.ndarray,
        x_te: np.ndarray,
        y_te: np.ndarray,
        state: State,
    ) -> None:
        self.st = st
        self.current = state
        self.x_tr = np.ascontiguousarray(x_tr, dtype=np.float64)
        self.y_tr = np.asarray(y_tr, dtype=np.float64)
        self.x_te = np.ascontiguousarray(x_te, dtype=np.float64)
        self.y_te = np.asarray(y_te, dtype=np.float64)

    # ------------------------------------------------------------------ objective
    def _blocks(self, a: np.ndarray, b: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
        t = self.st.depth
        if self.st.tied:
            return [(a, b)] * t
        return [(a[k], b[k]) for k in range(t)]

    def _forward(
        self, a: np.ndarray, b: np.ndarray, h: float, x: np.ndarray, tape: list[tuple] | None
    ) -> tuple[np.ndarray, np.ndarray]:
        """(x_T, per-point transport sum); `tape` collects (x, z, s, dx) of each block for
        the backward pass."""
        kind, act = self.st.kind, self.st.activation
        acc = np.zeros(len(x))
        for ak, bk in self._blocks(a, b):
            z = maths.pre_activation(ak, bk, x)
            s = maths.activation(act, z, maths.TF_LEAKY_SLOPE)
            dx = maths.block_move(kind, h, x, s)
            if self.st.use_transport:
                acc += np.einsum("ij,ij->i", dx, dx)
            if tape is not None:
                tape.append((x, z, s, dx))
            x = maths.block_output(kind, x, s, dx)
        return x, acc

    def objective(
        self, params: list[np.ndarray], hyper: Hyper, x: np.ndarray, y: np.ndarray
    ) -> tuple[float, np.ndarray]:
        """(loss, logits): the cross-entropy of the head plus weight decay and transport."""
        a, b, w, c = params
        x, acc = self._forward(a, b, hyper.h, x, None)
        logits = maths.logits(w, c, x)
        return self._loss(params, hyper, logits, y, acc), logits

    def _loss(
        self,
        params: list[np.ndarray],
        hyper: Hyper,
        logits: np.ndarray,
        y: np.ndarray,
        acc: np.ndarray,
    ) -> float:
        with np.errstate(all="ignore"):
            bce = maths.cross_entropy(logits, y)
            reps = self.st.depth if self.st.tied else 1
            reg = reps * (float(np.sum(params[0] ** 2)) + float(np.sum(params[1] ** 2)))
            loss = float(bce) + hyper.weight_decay * reg
            if self.st.use_transport:
                loss += hyper.transport * float(np.mean(acc))
        return loss

    def loss_and_grads(
        self, params: list[np.ndarray], hyper: Hyper, x: np.ndarray, y: np.ndarray
    ) -> tuple[float, list[np.ndarray]]:
        """The objective on (x, y) and its gradient with respect to (a, b, w, c)."""
        st = self.st
        a, b, w, c = params
        h, kind, act = hyper.h, st.kind, st.activation
        n = len(x)
        blocks = self._blocks(a, b)
        tape: list[tuple] = []
        with np.errstate(all="ignore"):
            x, acc = self._forward(a, b, h, x, tape)
            xs, zs, ss, dxs = (list(col) for col in zip(*tape, strict=True))
            logits = maths.logits(w, c, x)
            loss = self._loss(params, hyper, logits, y, acc)
            dl = maths.cross_entropy_grad(logits, y)  # d loss / d logits
            if st.classes == 2:
                gw = x.T @ dl
                gc = np.asarray(dl.sum())
                g = np.outer(dl, w)  # d loss / d x_T
            else:
                gw = dl.T @ x
                gc = dl.sum(axis=0)
                g = dl @ w
            coef = 2.0 * hyper.transport / n if st.use_transport else 0.0
            ga = np.zeros((st.depth, st.width, st.width))
            gb = np.zeros((st.depth, st.width))
            for k in range(st.depth - 1, -1, -1):
                ak = blocks[k][0]
                if kind == "resnet":
                    gs = h * g
                    if coef:
                        gs = gs + (coef * h) * dxs[k]
                    gz = gs * _grad(act, zs[k], ss[k])
                    g = g + gz @ ak
                else:
                    gs = g + coef * dxs[k] if coef else g
                    gz = gs * _grad(act, zs[k], ss[k])
                    g = gz @ ak
                    if coef:
                        g = g - coef * dxs[k]
                ga[k] = gz.T @ xs[k]
                gb[k] = gz.sum(axis=0)
            wd2 = 2.0 * hyper.weight_decay
            if st.tied:
                ga_p = ga.sum(axis=0) + (wd2 * st.depth) * a
                gb_p = gb.sum(axis=0) + (wd2 * st.depth) * b
            else:
                ga_p = ga + wd2 * a
                gb_p = gb + wd2 * b
        return loss, [ga_p, gb_p, gw, gc]

    # ------------------------------------------------------------------ optimiser
    def state(self) -> State:
        return self.current.copy()

    def fused(
        self,
        rows: np.ndarray | None,
        n_steps: int,
        hyper: Hyper,
        deadline: float | None = None,
    ) -> tuple[int, float, int]:
        """Up to n_steps optimiser steps on `self.current`; stop before a non-finite one.

        `rows` (n_steps, B): the mini-batch rows of each step (None: full batch).
        `deadline` (time.perf_counter): return early once it has passed, so the caller
        can switch to the compiled function or answer a pause without waiting.
        Returns (steps done, last loss, reason) with reason 0 = ok, 1 = loss not finite,
        2 = gradient or new weights not finite, as the compiled function does.
        """
        st, state = self.st, self.current
        lr = hyper.learning_rate
        loss = math.nan
        for i in range(n_steps):
            if deadline is not None and i and time.perf_counter() > deadline:
                return i, loss, 0
            if rows is not None and st.batch_size:
                xb, yb = self.x_tr[rows[i]], self.y_tr[rows[i]]
            else:
                xb, yb = self.x_tr, self.y_tr
            loss, grads = self.loss_and_grads(state.params, hyper, xb, yb)
            loss_ok = math.isfinite(loss) and loss <= DIVERGED_LOSS
            if not loss_ok:
                return i, loss, 1
            t_new = state.t_opt + 1.0
            with np.errstate(all="ignore"):
                if st.optimizer == "adam":
                    m, v = state.slots
                    m_new = [BETA1 * mi + (1.0 - BETA1) * g for mi, g in zip(m, grads, strict=True)]
                    v_new = [
                        BETA2 * vi + (1.0 - BETA2) * g * g for vi, g in zip(v, grads, strict=True)
                    ]
                    lr_t = lr * math.sqrt(1.0 - BETA2**t_new) / (1.0 - BETA1**t_new)
                    new = [
                        p - lr_t * mi / (np.sqrt(vi) + EPS)
                        for p, mi, vi in zip(state.params, m_new, v_new, strict=True)
                    ]
                    new_slots = [m_new, v_new]
                else:
                    new = [p - lr * g for p, g in zip(state.params, grads, strict=True)]
                    new_slots = state.slots
            if not all(np.isfinite(p).all() for p in new):
                return i, loss, 2
            if st.keep_invertible and st.kind == "resnet":
                new[0] = maths.project_invertible(new[0], hyper.h, hyper.bound, st.activation)
            state.params = new
            state.slots = new_slots
            state.t_opt = t_new
        return n_steps, loss, 0

    def evaluate(self, hyper: Hyper) -> tuple[float, float, float]:
        """Full training-set objective and train / test accuracy (class 1 iff logit >= 0;
        K > 2: the argmax of the logits, as the compiled evaluate)."""
        params = self.current.params
        with np.errstate(all="ignore"):
            loss, logits_tr = self.objective(params, hyper, self.x_tr, self.y_tr)
            acc_tr = float(np.mean(maths.classes_of(logits_tr) == self.y_tr))
            if len(self.y_te):
                _, logits_te = self.objective(params, hyper, self.x_te, self.y_te)
                acc_te = float(np.mean(maths.classes_of(logits_te) == self.y_te))
            else:
                acc_te = math.nan
        return loss, acc_tr, acc_te
