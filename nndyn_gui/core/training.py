"""Train an MLP / ResNet flow with TensorFlow, many optimiser steps per compiled call.

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

TensorFlow is imported at module top: import this module lazily (the UI does).
"""

from __future__ import annotations

import math
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import tensorflow as tf

from nndyn_gui.core import limits
from nndyn_gui.core.config import RunConfig
from nndyn_gui.core.flow import LEAKY_SLOPE, activation_lipschitz, embed
from nndyn_gui.core.network import initial_weights
from nndyn_gui.core.types import Dataset, NetWeights, Snapshot, TrainResult


def _one_thread() -> None:
    """One op thread unless the user chose otherwise (see the module docstring)."""
    try:
        if "TF_NUM_INTRAOP_THREADS" not in os.environ:
            tf.config.threading.set_intra_op_parallelism_threads(1)
        if "TF_NUM_INTEROP_THREADS" not in os.environ:
            tf.config.threading.set_inter_op_parallelism_threads(1)
    except RuntimeError:  # the runtime already started (someone ran an op before us)
        pass


_one_thread()

DTYPE = tf.float64
UNROLL_MAX_DEPTH = 24  # deeper nets use a scan over chunks (compile time, see module doc)
CHUNK = 10  # blocks unrolled inside one scan iteration
USE_XLA = True  # try jit_compile=True first; falls back to plain graphs if XLA fails
PAUSE_POLL_S = 0.02
# A loss above this is treated like Inf: float64 rarely overflows, but a user would call
# a cross-entropy of 1e12 diverged (float32 training would have hit Inf by then).
DIVERGED_LOSS = 1e12
_CACHE_SIZE = 8

# Keras' Adam defaults, so results compare with a keras baseline.
_BETA1, _BETA2, _EPS = 0.9, 0.999, 1e-7

_FUNCTION_CACHE: OrderedDict[tuple[Any, ...], _Compiled] = OrderedDict()
_CACHE_LOCK = threading.Lock()
_XLA_BROKEN: set[_Structure] = set()  # structures whose XLA compile failed: plain graphs


@dataclass(frozen=True)
class _Structure:
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


@dataclass
class _Compiled:
    """The fused step function and the evaluation function for one structure."""

    fused: Any  # tf.function
    evaluate: Any  # tf.function
    xla: bool


def _act(name: str, z: tf.Tensor) -> tf.Tensor:
    if name == "tanh":
        return tf.tanh(z)
    if name == "relu":
        return tf.nn.relu(z)
    if name == "sigmoid":
        return tf.sigmoid(z)
    if name == "leaky_relu":
        return tf.nn.leaky_relu(z, alpha=LEAKY_SLOPE)
    raise ValueError(f"unknown activation {name!r}")


def _full_params(st: _Structure, a: tf.Tensor, b: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
    """(T, d, d), (T, d) views of the parameters; tied nets broadcast their one block."""
    if st.tied:
        d, t = st.width, st.depth
        return tf.broadcast_to(a[None], (t, d, d)), tf.broadcast_to(b[None], (t, d))
    return a, b


def _forward(
    st: _Structure, a_full: tf.Tensor, b_full: tf.Tensor, h: tf.Tensor, x: tf.Tensor
) -> tuple[tf.Tensor, tf.Tensor]:
    """Return x_T and the per-point transport sum_t |x_{t+1} - x_t|^2 (zeros if unused)."""

    def block(x: tf.Tensor, acc: tf.Tensor, ak: tf.Tensor, bk: tf.Tensor):
        s = _act(st.activation, tf.matmul(x, ak, transpose_b=True) + bk)
        if st.kind == "resnet":
            dx = h * s
            x_new = x + dx
        else:
            x_new = s
            dx = x_new - x
        if st.use_transport:
            acc = acc + tf.reduce_sum(tf.square(dx), axis=1)
        return x_new, acc

    acc = tf.zeros(tf.shape(x)[:1], dtype=DTYPE)
    t = st.depth
    n_chunks = 0 if t <= UNROLL_MAX_DEPTH else t // CHUNK
    if n_chunks:
        d = st.width
        a_ch = tf.reshape(a_full[: n_chunks * CHUNK], (n_chunks, CHUNK, d, d))
        b_ch = tf.reshape(b_full[: n_chunks * CHUNK], (n_chunks, CHUNK, d))

        def chunk(carry: tuple[tf.Tensor, tf.Tensor], ab: tuple[tf.Tensor, tf.Tensor]):
            xc, accc = carry
            for j in range(CHUNK):
                xc, accc = block(xc, accc, ab[0][j], ab[1][j])
            return xc, accc

        xs, accs = tf.scan(chunk, (a_ch, b_ch), initializer=(x, acc))
        x, acc = xs[-1], accs[-1]
    for k in range(n_chunks * CHUNK, t):
        x, acc = block(x, acc, a_full[k], b_full[k])
    return x, acc


def _objective(
    st: _Structure, params: list[tf.Tensor], hyper: dict[str, tf.Tensor], x: tf.Tensor, y: tf.Tensor
) -> tuple[tf.Tensor, tf.Tensor]:
    """Loss (cross-entropy from logits + weight decay + transport) and the logits.

    Two classes: logits (N,) = x_T.w + c and the binary cross-entropy; K > 2: logits
    (N, K) = x_T W^T + c and the softmax cross-entropy of the labels 0..K-1 in y.
    """
    a, b, w, c = params
    a_full, b_full = _full_params(st, a, b)
    x_t, acc = _forward(st, a_full, b_full, hyper["h"], x)
    if st.classes == 2:
        logits = tf.linalg.matvec(x_t, w) + c
        bce = tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(labels=y, logits=logits))
    else:
        logits = tf.matmul(x_t, w, transpose_b=True) + c
        bce = tf.reduce_mean(
            tf.nn.sparse_softmax_cross_entropy_with_logits(
                labels=tf.cast(y, tf.int32), logits=logits
            )
        )
    # The penalty is on all T blocks (as stored in NetWeights), also when they are tied.
    reg = tf.reduce_sum(tf.square(a_full)) + tf.reduce_sum(tf.square(b_full))
    loss = bce + hyper["weight_decay"] * reg
    if st.use_transport:
        loss = loss + hyper["transport"] * tf.reduce_mean(acc)
    return loss, logits


def _project_invertible(st: _Structure, a: tf.Tensor, hyper: dict[str, tf.Tensor]) -> tf.Tensor:
    """Scale each A_k down so that h * |A_k|_2 * Lip(s) <= bound (exact SVD, small d)."""
    lip = activation_lipschitz(st.activation)
    sigma = tf.linalg.svd(a, compute_uv=False)[..., 0]
    limit = hyper["bound"] / (hyper["h"] * lip)
    scale = tf.minimum(tf.ones_like(sigma), limit / tf.maximum(sigma, 1e-300))
    return a * scale[..., None, None]


def _all_finite(tensors: list[tf.Tensor]) -> tf.Tensor:
    return tf.reduce_all([tf.reduce_all(tf.math.is_finite(t)) for t in tensors])


def _build(st: _Structure, xla: bool) -> _Compiled:
    """Trace the fused K-step function and the evaluation function for one structure."""
    invertible = st.keep_invertible and st.kind == "resnet"

    def fused(params, slots, t_opt, x, y, idx, n_steps, hyper):
        """Run up to n_steps optimiser steps; stop before applying a non-finite step.

        Returns (params, slots, t_opt, steps_done, last_loss, reason) with reason 0 = ok,
        1 = loss not finite, 2 = gradient or new weights not finite.
        """
        lr = hyper["learning_rate"]

        def cond(i, params, slots, t_opt, loss, reason):
            return tf.logical_and(i < n_steps, tf.equal(reason, 0))

        def body(i, params, slots, t_opt, loss, reason):
            if st.batch_size:
                xb = tf.gather(x, idx[i])
                yb = tf.gather(y, idx[i])
            else:
                xb, yb = x, y
            with tf.GradientTape() as tape:
                tape.watch(params)
                loss, _ = _objective(st, params, hyper, xb, yb)
            grads = tape.gradient(loss, params)
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
                    p - lr_t * mi / (tf.sqrt(vi) + _EPS)
                    for p, mi, vi in zip(params, m_new, v_new, strict=True)
                ]
                new_slots = [m_new, v_new]
            else:
                new_params = [p - lr * g for p, g in zip(params, grads, strict=True)]
                new_slots = slots
            if invertible:
                new_params[0] = _project_invertible(st, new_params[0], hyper)
            loss_ok = tf.logical_and(tf.math.is_finite(loss), loss <= DIVERGED_LOSS)
            step_ok = tf.logical_and(loss_ok, _all_finite(new_params))
            new_reason = tf.where(loss_ok, tf.where(step_ok, 0, 2), 1)
            keep = lambda new, old: tf.where(step_ok, new, old)  # noqa: E731
            params = tf.nest.map_structure(keep, new_params, params)
            slots = tf.nest.map_structure(keep, new_slots, slots)
            t_opt = tf.where(step_ok, t_new, t_opt)
            i = i + tf.cast(step_ok, tf.int32)
            return i, params, slots, t_opt, loss, new_reason

        init = (tf.constant(0), params, slots, t_opt, tf.constant(math.nan, DTYPE), tf.constant(0))
        i, params, slots, t_opt, loss, reason = tf.while_loop(cond, body, init)
        return params, slots, t_opt, i, loss, reason

    def evaluate(params, x_tr, y_tr, x_te, y_te, hyper):
        """Full-training-set objective and train / test accuracy (class 1 iff logit >= 0;
        K > 2: the argmax of the logits, like flow.predict)."""
        loss, logits_tr = _objective(st, params, hyper, x_tr, y_tr)
        _, logits_te = _objective(st, params, hyper, x_te, y_te)

        def acc(logits: tf.Tensor, y: tf.Tensor) -> tf.Tensor:
            if st.classes == 2:
                pred = tf.cast(logits >= 0.0, DTYPE)
            else:
                pred = tf.cast(tf.argmax(logits, axis=-1), DTYPE)
            return tf.reduce_mean(tf.cast(tf.equal(pred, y), DTYPE))

        return loss, acc(logits_tr, y_tr), acc(logits_te, y_te)

    return _Compiled(
        fused=tf.function(fused, jit_compile=xla, reduce_retracing=True),
        evaluate=tf.function(evaluate, reduce_retracing=True),
        xla=xla,
    )


def _compiled(st: _Structure, xla: bool) -> _Compiled:
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


class Trainer:
    """Owns the TF variables of one run and trains them in fused, compiled chunks."""

    def __init__(self, config: RunConfig, dataset: Dataset) -> None:
        self.config = config.copy()
        cfg = self.config
        m, tr = cfg.model, cfg.train
        self.dataset = dataset
        d = m.width
        n_train = int(dataset.x_train.shape[0])
        if n_train == 0:
            raise ValueError("the training set is empty")
        k = cfg.data.classes
        for y in (dataset.y_train, dataset.y_test):
            if len(y) and not (int(np.min(y)) >= 0 and int(np.max(y)) < k):
                raise ValueError(
                    f"the data have labels {int(np.min(y))}..{int(np.max(y))} but "
                    f"data.classes is {k} (labels 0..{k - 1})"
                )
        batch = tr.batch_size if 0 < tr.batch_size < n_train else 0
        self._structure = _Structure(
            kind=m.kind,
            activation=m.activation,
            width=d,
            depth=m.depth,
            tied=m.tied,
            keep_invertible=m.keep_invertible,
            optimizer=tr.optimizer,
            batch_size=batch,
            use_transport=tr.transport > 0.0,
            classes=cfg.data.classes,
        )
        w0 = initial_weights(m, tr.seed, cfg.data.classes)
        a0, b0 = (w0.A[0], w0.b[0]) if m.tied else (w0.A, w0.b)
        self.A = tf.Variable(a0, dtype=DTYPE, name="A")
        self.b = tf.Variable(b0, dtype=DTYPE, name="b")
        self.w = tf.Variable(w0.w, dtype=DTYPE, name="w")
        self.c = tf.Variable(w0.c, dtype=DTYPE, name="c")
        self._params = [self.A, self.b, self.w, self.c]
        if tr.optimizer == "adam":
            self._slots: list[list[tf.Variable]] = [
                [tf.Variable(tf.zeros_like(p)) for p in self._params] for _ in range(2)
            ]
        else:
            self._slots = []
        self._t_opt = tf.Variable(0.0, dtype=DTYPE)
        self._hyper = {
            "learning_rate": tf.constant(tr.learning_rate, DTYPE),
            "h": tf.constant(m.h, DTYPE),
            "weight_decay": tf.constant(tr.weight_decay, DTYPE),
            "transport": tf.constant(tr.transport, DTYPE),
            "bound": tf.constant(m.invertible_bound, DTYPE),
        }
        self._x_tr = tf.constant(embed(dataset.x_train, d), DTYPE)
        self._y_tr = tf.constant(np.asarray(dataset.y_train, dtype=np.float64), DTYPE)
        self._x_te = tf.constant(embed(dataset.x_test, d).reshape(-1, d), DTYPE)
        self._y_te = tf.constant(np.asarray(dataset.y_test, dtype=np.float64), DTYPE)
        self._n_train = n_train
        self._k = max(1, tr.steps_per_call)
        self._perm_cache: tuple[int, np.ndarray] | None = None
        self._compiled: _Compiled | None = None
        self.step = 0
        self.compile_seconds = 0.0
        self.xla = False

    # ------------------------------------------------------------------ public
    def weights(self) -> NetWeights:
        """A float64 numpy copy of the current parameters (tied blocks repeated T times)."""
        t = self.config.model.depth
        a = self.A.numpy().astype(np.float64)
        b = self.b.numpy().astype(np.float64)
        if self.config.model.tied:
            a = np.repeat(a[None], t, axis=0)
            b = np.repeat(b[None], t, axis=0)
        c_val = self.c.numpy().astype(np.float64)
        c: float | np.ndarray = float(c_val) if self._structure.classes == 2 else c_val
        return NetWeights(A=a, b=b, w=self.w.numpy().astype(np.float64), c=c)

    def warmup(self) -> float:
        """Trace and compile (XLA if it works) without training; return the seconds spent."""
        if self._compiled is not None:
            return 0.0
        t0 = time.perf_counter()
        comp = None
        if USE_XLA and self._structure not in _XLA_BROKEN:
            comp = _compiled(self._structure, True)
            try:
                self._call(comp, 0)
            except (tf.errors.OpError, ValueError, TypeError, NotImplementedError):
                _XLA_BROKEN.add(self._structure)  # don't pay the failed compile again
                comp = None
        if comp is None:
            comp = _compiled(self._structure, False)
            self._call(comp, 0)
        self._compiled = comp
        self.xla = comp.xla
        self._evaluate()
        self.compile_seconds = time.perf_counter() - t0
        return self.compile_seconds

    def run(
        self,
        on_snapshot: Callable[[Snapshot], None] | None = None,
        on_progress: Callable[[int, float, float], None] | None = None,
        cancel: threading.Event | None = None,
        pause: threading.Event | None = None,
    ) -> TrainResult:
        """Train to config.train.steps, snapshotting at 0, every snapshot_every, and the end.

        The snapshots kept stay within limits.SNAPSHOT_MEMORY_BYTES: beyond that they are
        thinned to an even grid (limits.SnapshotKeeper); on_snapshot still sees each one.
        on_progress(step, loss, steps_per_s) follows every fused call; its loss is the
        last step's (mini-)batch objective, while Snapshot.loss is the full training-set
        objective. Snapshot.test_acc is NaN when the test set is empty.
        """
        self.warmup()
        comp = self._compiled
        assert comp is not None
        tr = self.config.train
        total, every = tr.steps, tr.snapshot_every
        snapshots: list[Snapshot] = []
        keeper = limits.SnapshotKeeper(every, limits.snapshot_capacity(self.config))
        t_start = time.perf_counter()
        last_snap_t, last_snap_step = t_start, self.step
        rate = 0.0

        def snap() -> Snapshot | None:
            """Append a snapshot of the current weights; None if its loss is not finite."""
            nonlocal last_snap_t, last_snap_step
            now = time.perf_counter()
            loss, acc_tr, acc_te = self._evaluate()
            weights = self.weights()
            if not (math.isfinite(loss) and loss <= DIVERGED_LOSS and weights.is_finite()):
                return None
            if not limits.weights_in_range(weights):  # finite, but no run file may hold it
                return None
            if self.step > last_snap_step and now > last_snap_t:
                sps = (self.step - last_snap_step) / (now - last_snap_t)
            else:
                sps = rate
            s = Snapshot(self.step, loss, acc_tr, acc_te, weights, now - t_start, sps)
            last_snap_t, last_snap_step = now, self.step
            keeper.add(snapshots, s)
            if on_snapshot is not None:
                on_snapshot(s)
            return s

        if snap() is None:
            return TrainResult("diverged", snapshots, "The initial loss is not finite.")
        status = "finished"
        message = ""
        while self.step < total:
            if _wait_while_paused(pause, cancel):
                status = "cancelled"
                break
            next_snap = min((self.step // every + 1) * every, total)
            k = min(self._k, next_snap - self.step)
            t0 = time.perf_counter()
            done, loss, reason = self._call(comp, k)
            dt = time.perf_counter() - t0
            self.step += done
            rate = done / dt if dt > 0 else 0.0
            if reason:
                status = "diverged"
                message = self._diverged_message(self.step, loss, reason, snapshots)
                break
            if on_progress is not None:
                on_progress(self.step, loss, rate)
            if self.step == next_snap and snap() is None:
                status = "diverged"
                message = self._diverged_message(self.step, math.nan, 1, snapshots)
                break
        if status == "cancelled":
            if snapshots[-1].step != self.step:
                snap()
            message = f"Cancelled at step {self.step}."
        elif status == "finished":
            message = f"Finished {self.step} steps."
        return TrainResult(status, snapshots, message)  # type: ignore[arg-type]

    # ------------------------------------------------------------------ internals
    @staticmethod
    def _diverged_message(step: int, loss: float, reason: int, snapshots: list[Snapshot]) -> str:
        if reason != 1:
            what = "weights became NaN or Inf"
        elif math.isnan(loss):
            what = "loss became NaN"
        elif math.isinf(loss):
            what = "loss became Inf"
        else:
            what = f"loss exploded to {loss:.3g}"
        return (
            f"Training diverged at step {step} ({what}). Try a smaller learning rate. "
            f"Kept the last finite snapshot (step {snapshots[-1].step})."
        )

    def _call(self, comp: _Compiled, k: int) -> tuple[int, float, int]:
        """Run k fused steps from self.step; return (steps applied, last loss, reason)."""
        idx = self._batch_indices(self.step, k)
        params = [p.read_value() for p in self._params]
        slots = [[s.read_value() for s in group] for group in self._slots]
        out = comp.fused(
            params,
            slots,
            self._t_opt.read_value(),
            self._x_tr,
            self._y_tr,
            idx,
            tf.constant(k, tf.int32),
            self._hyper,
        )
        new_params, new_slots, t_opt, done, loss, reason = out
        for var, val in zip(self._params, new_params, strict=True):
            var.assign(val)
        for group, vals in zip(self._slots, new_slots, strict=True):
            for var, val in zip(group, vals, strict=True):
                var.assign(val)
        self._t_opt.assign(t_opt)
        return int(done), float(loss), int(reason)

    def _evaluate(self) -> tuple[float, float, float]:
        assert self._compiled is not None
        loss, acc_tr, acc_te = self._compiled.evaluate(
            [p.read_value() for p in self._params],
            self._x_tr,
            self._y_tr,
            self._x_te,
            self._y_te,
            self._hyper,
        )
        return float(loss), float(acc_tr), float(acc_te)

    def _batch_indices(self, start: int, k: int) -> tf.Tensor:
        """(K, B) int32 rows of a seeded stream of per-epoch permutations; rows >= k unused.

        Batches depend only on (seed, step), never on steps_per_call, so the weights do
        not change when the UI changes how often it wants progress.
        """
        b = self._structure.batch_size
        if not b:
            return tf.zeros((0, 0), tf.int32)
        n = self._n_train
        out = np.zeros((self._k, b), dtype=np.int32)
        pos = np.arange(start * b, (start + k) * b, dtype=np.int64)
        flat = np.empty(pos.shape, dtype=np.int32)
        epochs = pos // n
        for e in np.unique(epochs):
            sel = epochs == e
            flat[sel] = self._permutation(int(e))[pos[sel] % n]
        out[:k] = flat.reshape(k, b)
        return tf.constant(out)

    def _permutation(self, epoch: int) -> np.ndarray:
        if self._perm_cache is None or self._perm_cache[0] != epoch:
            rng = np.random.default_rng([self.config.train.seed, epoch])
            self._perm_cache = (epoch, rng.permutation(self._n_train).astype(np.int32))
        return self._perm_cache[1]


def _wait_while_paused(pause: threading.Event | None, cancel: threading.Event | None) -> bool:
    """Block while `pause` is set; return True if `cancel` is (or becomes) set."""
    if cancel is not None and cancel.is_set():
        return True
    while pause is not None and pause.is_set():
        if cancel is not None and cancel.is_set():
            return True
        time.sleep(PAUSE_POLL_S)
    return cancel is not None and cancel.is_set()


def train(config: RunConfig, dataset: Dataset, **kw: Any) -> TrainResult:
    """One-call training: `Trainer(config, dataset).run(**kw)`."""
    return Trainer(config, dataset).run(**kw)


def clear_cache() -> None:
    """Forget compiled functions (tests; frees memory after many different structures)."""
    with _CACHE_LOCK:
        _FUNCTION_CACHE.clear()
        _XLA_BROKEN.clear()
