"""The compiled TensorFlow program that trains S nets of one shape (S = 1: a run alone).


Why it looks like this:
- A Python-side `model.fit` per step costs ~50 ms of framework overhead for a network
  that needs ~0.3 ms of arithmetic. One XLA-compiled `tf.function` runs K steps in a
  `tf.while_loop`, so the UI gets progress every K steps at >100x the naive speed.
- The compiled step is a *pure* function of (parameters, optimiser state, data), cached
  by the config's structural fields. A new Trainer with only a different learning rate,
  h, weight decay, ... reuses the compiled code instead of paying the compile again.
- Deep nets (T > UNROLL_MAX_DEPTH) run a `tf.scan` over chunks of CHUNK unrolled
  blocks: a fully unrolled 200-block net takes ~20 s to compile, one scan step per
  block is ~10x slower to run; chunks give both a ~2 s compile and near-unrolled speed.
- One program trains S nets at once (a leading member axis; core/train/ensemble.py);
  a run alone is S = 1 of it, so a run and the same run in an ensemble execute the same
  code. Points are columns (S, d, B) and, for narrow nets, A x is a multiply-and-sum
  that XLA fuses with the bias and the activation: on the article's 51-block width-3
  net this doubled the steps per second of the row-major matmul version (~6,000 ->
  ~11,000 per CPU second, benchmarks/bench_ensemble.py).
- Everything runs in float64 so step 0 is bit-identical to `network.initial_weights` and
  the accuracies agree with the numpy `flow.predict` the views use.
- A step whose loss or new weights are not finite is *not applied* and ends the call,
  so the variables always hold the last finite weights.
- TensorFlow runs its ops on ONE thread (`_one_thread`): these nets are tiny, so a
  thread pool only adds synchronisation (measured: one thread is ~10 % faster), and
  on a 2-core laptop a pool spinning on both cores starves the window's GUI thread.
  Set TF_NUM_INTRAOP_THREADS to override.

`keep_invertible` only applies to ResNets (x + h s(Ax+b) is invertible when
h |A|_2 Lip(s) < 1); an MLP layer s(Ax+b) has no such step-size criterion, so the
flag is ignored there. The projection runs after every optimiser step, so the step-0
snapshot (the initial weights) may still violate the bound.

TensorFlow is imported at its first use (`load_tensorflow`, or any `tf.` attribute), not
with this module: the engine's worker imports this module at once and serves its first
run with numpy steps while TensorFlow loads on another thread (core/engine/worker.py).
Only the worker (and sweep jobs, tests, benchmarks) may use it all the same.

Around it: core/train/member_steps.py holds S members' state between calls and feeds
this program (it reaches TensorFlow only through `program.tf`); core/train/compile_thread.py
is the thread `COMPILER` runs `CompileJob`s on.
"""

from __future__ import annotations

import logging
import math
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from nndyn_gui.core.net import maths
from nndyn_gui.core.train import quickstep
from nndyn_gui.core.train.compile_thread import CompileThread
from nndyn_gui.core.train.stepper import Hyper

if TYPE_CHECKING:
    import tensorflow as tf

    from nndyn_gui.core.train.member_steps import CompiledSteps

log = logging.getLogger(__name__)
_COMPILE_FAILED: set[Any] = set()  # structures whose compile failed (logged once each)


class _TensorFlowOnFirstUse:
    """Stands for the `tensorflow` module until it is loaded: the first attribute read
    imports it (`load_tensorflow`), which then puts the module itself in `tf`."""

    def __getattr__(self, name: str) -> Any:
        return getattr(load_tensorflow(), name)


if not TYPE_CHECKING:
    tf = _TensorFlowOnFirstUse()
_TF_LOCK = threading.Lock()
_TF_ERROR: list[BaseException] = []  # why the import failed (it is not tried again)


def load_tensorflow(before: Callable[[], None] | None = None) -> Any:
    """Import TensorFlow once (thread-safe; a second caller waits for the first) and
    return it; raises what the import raised, also to every later caller. `before` runs
    first, under the same lock (the worker prepares the import there and lets a run
    show its first frame; a compile asking for TensorFlow meanwhile waits)."""
    global tf
    with _TF_LOCK:
        if not isinstance(tf, _TensorFlowOnFirstUse):
            return tf
        if _TF_ERROR:
            raise _TF_ERROR[0]
        try:
            if before is not None:
                before()
            import tensorflow as module
        except BaseException as e:
            _TF_ERROR.append(e)
            raise
        _one_thread(module)
        tf = module
        return module


def _one_thread(module: Any) -> None:
    """One op thread unless the user chose otherwise (see the module docstring)."""
    try:
        if "TF_NUM_INTRAOP_THREADS" not in os.environ:
            module.config.threading.set_intra_op_parallelism_threads(1)
        if "TF_NUM_INTEROP_THREADS" not in os.environ:
            module.config.threading.set_inter_op_parallelism_threads(1)
    except RuntimeError:  # the runtime already started (someone ran an op before us)
        pass


DTYPE = "float64"  # tf.float64 by name: reading tf.float64 here would load TensorFlow
UNROLL_MAX_DEPTH = 24  # deeper nets use a scan over chunks (compile time, see module doc)
CHUNK = 10  # blocks unrolled inside one scan iteration
SMALL_WIDTH = 8  # up to this width A x is a fused multiply-and-sum, wider a batched matmul
USE_XLA = True  # try jit_compile=True first; falls back to plain graphs if XLA fails
# A loss above this is treated like Inf (one constant for the numpy steps and this file)
DIVERGED_LOSS = quickstep.DIVERGED_LOSS
_CACHE_SIZE = 8

# Keras' Adam defaults, so results compare with a keras baseline (shared with quickstep)
_BETA1, _BETA2, _EPS = quickstep.BETA1, quickstep.BETA2, quickstep.EPS

_FUNCTION_CACHE: OrderedDict[tuple[Any, ...], Compiled] = OrderedDict()
_CACHE_LOCK = threading.Lock()
_XLA_BROKEN: set[Structure] = set()  # structures whose XLA compile failed: plain graphs


Structure = quickstep.Structure  # the fields that change the traced graph


@dataclass
class Compiled:
    """The fused step function and the evaluation function for one structure."""

    fused: Any  # tf.function
    evaluate: Any  # tf.function
    xla: bool
    traced: set[tuple[int, ...]] = field(default_factory=set)  # batch-index shapes compiled


# ---------------------------------------------------------------------- TF twin
# The TF twin of core/net/maths.py: the same block, head and bound, in TensorFlow ops (a
# compiled step cannot call numpy). Change both together: tests/core/test_net_maths.py
# checks they agree to rounding for every activation, kind, tied and K.


def _activation(name: str, z: tf.Tensor) -> tf.Tensor:
    """maths.activation (leaky ReLU's slope becomes float32 in TF: maths.TF_LEAKY_SLOPE)."""
    if name == "tanh":
        return tf.tanh(z)
    if name == "relu":
        return tf.nn.relu(z)
    if name == "sigmoid":
        return tf.sigmoid(z)
    if name == "leaky_relu":
        return tf.nn.leaky_relu(z, alpha=maths.LEAKY_SLOPE)
    if name == "identity":
        return z
    raise ValueError(f"unknown activation {name!r}")


def _apply(a: tf.Tensor, x: tf.Tensor) -> tf.Tensor:
    """A x for every member: a (S, p, d), x (S, d, B) -> (S, p, B). Narrow nets multiply
    and sum (XLA fuses it with the bias and the activation: a tiny matmul is a kernel
    call of its own, and the call, not the arithmetic, is what a step of these nets
    costs); wide ones use a batched matmul."""
    if a.shape[-1] is not None and a.shape[-1] <= SMALL_WIDTH:
        return tf.reduce_sum(a[..., None] * x[:, None], axis=2)
    return tf.matmul(a, x)


def _block(st: Structure, ak: tf.Tensor, bk: tf.Tensor, h: tf.Tensor, x: tf.Tensor):
    """maths.block and maths.block_move for every member, points as columns: ak (S, d, d),
    bk (S, d), h (S,), x (S, d, B) -> (the next layer, what the block added to x)."""
    s = _activation(st.activation, _apply(ak, x) + bk[..., None])
    if st.kind == "resnet":
        dx = h[:, None, None] * s
        return x + dx, dx
    return s, s - x


def _member_logits(st: Structure, w: tf.Tensor, c: tf.Tensor, x: tf.Tensor) -> tf.Tensor:
    """maths.logits for every member: (S, B) x.w + c for two classes, (S, K, B) for K > 2."""
    if st.classes == 2:
        return tf.reduce_sum(w[..., None] * x, axis=1) + c[:, None]
    return _apply(w, x) + c[..., None]


def _logits(st: Structure, w: tf.Tensor, c: tf.Tensor, x: tf.Tensor) -> tf.Tensor:
    """maths.logits of one net, points as rows: (N,) or (N, K) (the member code, S = 1)."""
    z = _member_logits(st, w[None], tf.reshape(c, (1, -1))[:, 0] if st.classes == 2 else c[None],
                       tf.transpose(tf.convert_to_tensor(x, DTYPE))[None])  # fmt: skip
    return z[0] if st.classes == 2 else tf.transpose(z[0])


def _project_invertible(st: Structure, a: tf.Tensor, hyper: dict[str, tf.Tensor]) -> tf.Tensor:
    """maths.project_invertible: scale each A_k so that h |A_k|_2 Lip(s) <= bound
    (`hyper`'s h and bound broadcast against the leading axes of a)."""
    lip = maths.activation_lipschitz(st.activation)
    sigma = tf.linalg.svd(a, compute_uv=False)[..., 0]
    limit = hyper["bound"] / (hyper["h"] * lip)
    scale = tf.minimum(tf.ones_like(sigma), limit / tf.maximum(sigma, 1e-300))
    return a * scale[..., None, None]


# ---------------------------------------------------------------------- objective
# Every function below works on S members at once (a leading member axis: the ensemble
# trainer's S nets, or one run's S = 1). Members never mix: member s's numbers depend
# on member s's parameters, data and hyper-parameters only, so an ensemble's member
# trains exactly as the same run alone (tests/core/test_ensemble.py).


def _full_params(st: Structure, a: tf.Tensor, b: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
    """(..., T, d, d), (..., T, d) views of the parameters; tied nets broadcast their block."""
    if st.tied:
        d, t = st.width, st.depth
        lead = tf.shape(a)[:-2]
        return (
            tf.broadcast_to(tf.expand_dims(a, -3), tf.concat([lead, [t, d, d]], 0)),
            tf.broadcast_to(tf.expand_dims(b, -2), tf.concat([lead, [t, d]], 0)),
        )
    return a, b


def _member_forward(
    st: Structure, a_full: tf.Tensor, b_full: tf.Tensor, h: tf.Tensor, x: tf.Tensor
) -> tuple[tf.Tensor, tf.Tensor]:
    """x (S, d, B) -> x_T (S, d, B) and the per-point transport sum_t |x_{t+1} - x_t|^2
    (S, B) (zeros if unused); a_full (S, T, d, d), b_full (S, T, d), h (S,)."""

    def block(x: tf.Tensor, acc: tf.Tensor, ak: tf.Tensor, bk: tf.Tensor):
        x_new, dx = _block(st, ak, bk, h, x)
        if st.use_transport:
            acc = acc + tf.reduce_sum(tf.square(dx), axis=1)
        return x_new, acc

    acc = tf.zeros_like(x[:, 0])
    t = st.depth
    n_chunks = 0 if t <= UNROLL_MAX_DEPTH else t // CHUNK
    if n_chunks:
        d = st.width
        # scan over the chunks: (n_chunks, CHUNK, S, ...) with the member axis inside
        a_ch = tf.reshape(a_full[:, : n_chunks * CHUNK], (-1, n_chunks, CHUNK, d, d))
        b_ch = tf.reshape(b_full[:, : n_chunks * CHUNK], (-1, n_chunks, CHUNK, d))
        a_ch = tf.transpose(a_ch, (1, 2, 0, 3, 4))
        b_ch = tf.transpose(b_ch, (1, 2, 0, 3))

        def chunk(carry: tuple[tf.Tensor, tf.Tensor], ab: tuple[tf.Tensor, tf.Tensor]):
            xc, accc = carry
            for j in range(CHUNK):
                xc, accc = block(xc, accc, ab[0][j], ab[1][j])
            return xc, accc

        xs, accs = tf.scan(chunk, (a_ch, b_ch), initializer=(x, acc))
        x, acc = xs[-1], accs[-1]
    for k in range(n_chunks * CHUNK, t):
        x, acc = block(x, acc, a_full[:, k], b_full[:, k])
    return x, acc


def _forward(
    st: Structure, a_full: tf.Tensor, b_full: tf.Tensor, h: tf.Tensor, x: Any
) -> tuple[tf.Tensor, tf.Tensor]:
    """One net, points as rows: x (N, d) -> x_T (N, d) and the transport (N,) (the member
    code with S = 1)."""
    xm = tf.transpose(tf.convert_to_tensor(x, DTYPE))[None]
    h1 = tf.reshape(tf.convert_to_tensor(h, DTYPE), (1,))
    x_t, acc = _member_forward(st, a_full[None], b_full[None], h1, xm)
    return tf.transpose(x_t[0]), acc[0]


def _objective(
    st: Structure, params: list[tf.Tensor], hyper: dict[str, tf.Tensor], x: tf.Tensor, y: tf.Tensor
) -> tuple[tf.Tensor, tf.Tensor]:
    """Per-member loss (S,) (cross-entropy from logits + weight decay + transport) and
    the logits, for points x (S, d, B) with labels y (S, B).

    Two classes: logits (S, B) = x_T.w + c and the binary cross-entropy; K > 2: logits
    (S, K, B) = W x_T + c and the softmax cross-entropy of the labels 0..K-1 in y.
    """
    a, b, w, c = params
    a_full, b_full = _full_params(st, a, b)
    x_t, acc = _member_forward(st, a_full, b_full, hyper["h"], x)
    logits = _member_logits(st, w, c, x_t)
    if st.classes == 2:
        ce = tf.nn.sigmoid_cross_entropy_with_logits(labels=y, logits=logits)
    else:
        ce = tf.nn.sparse_softmax_cross_entropy_with_logits(
            labels=tf.cast(y, tf.int32), logits=tf.transpose(logits, (0, 2, 1))
        )
    # The penalty is on all T blocks (as stored in NetWeights), also when they are tied.
    reg = tf.reduce_sum(tf.square(a_full), axis=(1, 2, 3)) + tf.reduce_sum(
        tf.square(b_full), axis=(1, 2)
    )
    loss = tf.reduce_mean(ce, axis=-1) + hyper["weight_decay"] * reg
    if st.use_transport:
        loss = loss + hyper["transport"] * tf.reduce_mean(acc, axis=-1)
    return loss, logits


def _per_member(v: tf.Tensor, like: tf.Tensor) -> tf.Tensor:
    """v (S,) shaped to broadcast against `like` (S, ...)."""
    return tf.reshape(v, [-1] + [1] * (like.shape.rank - 1))


def _finite(t: tf.Tensor) -> tf.Tensor:
    """(S,) True where every entry of member s is finite."""
    ok = tf.math.is_finite(t)
    return tf.reduce_all(ok, axis=list(range(1, t.shape.rank))) if t.shape.rank > 1 else ok


def _points(x: tf.Tensor, y: tf.Tensor, rows: tf.Tensor | None, s: tf.Tensor):
    """The members' points as columns (S, d, B) and labels (S, B): the mini-batch `rows`
    (S, B) or every point; data shared by all members (x (N, d)) or one set each
    (x (S, N, d))."""
    if x.shape.rank == 2:
        if rows is None:
            n, d = tf.shape(x)[0], tf.shape(x)[1]
            return tf.broadcast_to(tf.transpose(x)[None], [s, d, n]), tf.broadcast_to(
                y[None], [s, n]
            )
        return tf.transpose(tf.gather(x, rows), (0, 2, 1)), tf.gather(y, rows)
    if rows is None:
        return tf.transpose(x, (0, 2, 1)), y
    xb = tf.gather(x, rows, batch_dims=1)
    return tf.transpose(xb, (0, 2, 1)), tf.gather(y, rows, batch_dims=1)


def _members(v: tf.Tensor) -> Any:
    """S: static when the trace knows it (the loop's shapes stay fixed), else a tensor."""
    return v.shape[0] if v.shape[0] is not None else tf.shape(v)[0]


def _build(st: Structure, xla: bool) -> Compiled:
    """Trace the fused K-step function and the evaluation function for one structure,
    for S members at once (S = 1 for one run)."""
    invertible = st.keep_invertible and st.kind == "resnet"

    def fused(params, slots, t_opt, x, y, idx, n_steps, hyper):
        """Member s runs up to n_steps[s] optimiser steps on its rows idx[s] (S, K, B);
        it stops before applying a non-finite step, the others go on.

        Returns (params, slots, t_opt, steps_done, last_loss, reason), the last three
        (S,), reason 0 = ok, 1 = loss not finite, 2 = gradient or new weights not finite.
        """
        lr = hyper["learning_rate"]
        s_count = _members(n_steps)
        if invertible:  # h and the bound per block of each member
            lead = (lambda v: v[:, None]) if not st.tied else (lambda v: v)
            bound_hyper = {"h": lead(hyper["h"]), "bound": lead(hyper["bound"])}

        def running(i, reason):
            return tf.logical_and(i < n_steps, tf.equal(reason, 0))

        def cond(j, i, params, slots, t_opt, loss, reason):
            return tf.reduce_any(running(i, reason))

        def body(j, i, params, slots, t_opt, loss, reason):
            active = running(i, reason)
            xb, yb = _points(x, y, idx[:, j] if st.batch_size else None, s_count)
            with tf.GradientTape() as tape:
                tape.watch(params)
                new_loss, _ = _objective(st, params, hyper, xb, yb)
                total = tf.reduce_sum(new_loss)  # member s's gradient is its own loss's
            grads = tape.gradient(total, params)
            t_new = t_opt + 1.0
            if st.optimizer == "adam":
                m, v = slots
                m_new = [_BETA1 * mi + (1.0 - _BETA1) * g for mi, g in zip(m, grads, strict=True)]
                v_new = [
                    _BETA2 * vi + (1.0 - _BETA2) * tf.square(g)
                    for vi, g in zip(v, grads, strict=True)
                ]
                lr_t = lr * tf.sqrt(1.0 - _BETA2**t_new) / (1.0 - _BETA1**t_new)
                new_params = [
                    p - _per_member(lr_t, p) * mi / (tf.sqrt(vi) + _EPS)
                    for p, mi, vi in zip(params, m_new, v_new, strict=True)
                ]
                new_slots = [m_new, v_new]
            else:
                new_params = [
                    p - _per_member(lr, p) * g for p, g in zip(params, grads, strict=True)
                ]
                new_slots = slots
            if invertible:
                new_params[0] = _project_invertible(st, new_params[0], bound_hyper)
            loss_ok = tf.logical_and(tf.math.is_finite(new_loss), new_loss <= DIVERGED_LOSS)
            weights_ok = tf.reduce_all(tf.stack([_finite(p) for p in new_params]), axis=0)
            step_ok = tf.logical_and(active, tf.logical_and(loss_ok, weights_ok))
            fail = tf.where(loss_ok, 2, 1)
            reason = tf.where(tf.logical_and(active, tf.logical_not(step_ok)), fail, reason)

            def keep(new: tf.Tensor, old: tf.Tensor) -> tf.Tensor:
                return tf.where(_per_member(step_ok, new), new, old)

            params = tf.nest.map_structure(keep, new_params, params)
            slots = tf.nest.map_structure(keep, new_slots, slots)
            t_opt = tf.where(step_ok, t_new, t_opt)
            loss = tf.where(active, new_loss, loss)
            i = i + tf.cast(step_ok, tf.int32)
            return j + 1, i, params, slots, t_opt, loss, reason

        zeros = tf.zeros_like(n_steps)
        nan = tf.fill([s_count], tf.constant(math.nan, DTYPE))
        init = (tf.constant(0), zeros, params, slots, t_opt, nan, zeros)
        _, i, params, slots, t_opt, loss, reason = tf.while_loop(cond, body, init)
        return params, slots, t_opt, i, loss, reason

    def evaluate(params, x_tr, y_tr, x_te, y_te, hyper):
        """Per member: full-training-set objective and the points classified right in the
        training and the test set (class 1 iff logit >= 0; K > 2: the argmax of the
        logits, like flow.predict). Counts, not shares: XLA divides by a constant N as
        a product with 1/N (0.7000000000000001 for 7/10), numpy's mean does not."""
        s_count = _members(hyper["h"])
        xs, ys = _points(x_tr, y_tr, None, s_count)
        loss, logits_tr = _objective(st, params, hyper, xs, ys)
        xt, yt = _points(x_te, y_te, None, s_count)
        _, logits_te = _objective(st, params, hyper, xt, yt)

        def acc(logits: tf.Tensor, y: tf.Tensor) -> tf.Tensor:
            if st.classes == 2:
                pred = tf.cast(logits >= 0.0, DTYPE)
            else:
                pred = tf.cast(tf.argmax(logits, axis=1), DTYPE)
            return tf.reduce_sum(tf.cast(tf.equal(pred, y), DTYPE), axis=-1)

        return loss, acc(logits_tr, ys), acc(logits_te, yt)

    return Compiled(
        fused=tf.function(fused, jit_compile=xla, reduce_retracing=True),
        evaluate=tf.function(evaluate, jit_compile=xla, reduce_retracing=True),
        xla=xla,
    )


def compiled(st: Structure, xla: bool) -> Compiled:
    """Shared compiled functions for this structure (LRU cache), so re-runs skip tracing."""
    key = (st, xla)
    with _CACHE_LOCK:
        if key in _FUNCTION_CACHE:
            _FUNCTION_CACHE.move_to_end(key)
            return _FUNCTION_CACHE[key]
        comp = _build(st, xla)
        _FUNCTION_CACHE[key] = comp
        while len(_FUNCTION_CACHE) > _CACHE_SIZE:
            _FUNCTION_CACHE.popitem(last=False)
        return comp


def compile_structure(st: Structure, first_call: Callable[[Compiled], Any]) -> Compiled:
    """The compiled functions of `st`, traced by `first_call`: XLA when it works here,
    else a plain graph (a structure XLA refused is never tried with XLA again)."""
    if USE_XLA and st not in _XLA_BROKEN:
        comp = compiled(st, True)
        try:
            first_call(comp)
            return comp
        except (tf.errors.OpError, ValueError, TypeError, NotImplementedError):
            _XLA_BROKEN.add(st)  # don't pay the failed compile again
    comp = compiled(st, False)
    first_call(comp)
    return comp


COMPILER = CompileThread()


def wait_for_compiles(timeout: float = 60.0) -> bool:
    """Wait for background compiles of quick-start runs to finish (tests, benchmarks)."""
    return COMPILER.wait_idle(timeout)


class CompileJob:
    """One structure's functions, traced and compiled on the compile thread (`COMPILER`).

    `steps(comp)` makes the stepper that traces them (a call with 0 steps compiles
    without training). After `done`: `result` (None when it failed: the trainer keeps
    its numpy steps, `error` says why), `seconds`, and `dropped` when a newer job
    replaced it before it began.
    """

    def __init__(self, st: Structure, steps: Callable[[Compiled], CompiledSteps], hyper: Hyper):
        self.st = st
        self.steps = steps
        self.hyper = hyper
        self.done = threading.Event()
        self.result: Compiled | None = None
        self.error = ""
        self.seconds = 0.0
        self.dropped = False

    def run(self) -> None:
        t0 = time.perf_counter()
        try:
            self.result = compile_structure(self.st, lambda c: self.steps(c).trace(self.hyper))
        except Exception as e:  # a compile-thread boundary: result None, numpy trains on
            self.error = f"{type(e).__name__}: {e}".strip().splitlines()[0]
            level = logging.DEBUG if self.st in _COMPILE_FAILED else logging.WARNING
            _COMPILE_FAILED.add(self.st)  # a retried structure is logged once
            log.log(level, "cannot compile the training step; numpy trains on", exc_info=True)
        finally:
            self.seconds = time.perf_counter() - t0
            self.done.set()


def clear_cache() -> None:
    """Forget compiled functions (tests; frees memory after many different structures)."""
    with _CACHE_LOCK:
        _FUNCTION_CACHE.clear()
        _XLA_BROKEN.clear()


def cached(st: Structure) -> Compiled | None:
    """The compiled functions of `st` if a run compiled them before (no compile here)."""
    with _CACHE_LOCK:
        return _FUNCTION_CACHE.get((st, USE_XLA and st not in _XLA_BROKEN))
