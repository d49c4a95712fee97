"""S members' optimiser states over one structure's compiled functions: the stepper side
of the compiled program (core/train/program.py).

Why apart from program.py: the program is what TensorFlow traces (the TF twin of the
net, the objective, the fused step) and its cache; this is what a run or an ensemble
holds between calls (parameters, Adam slots, the batch-index tensor) and how it feeds
the compiled step and reads its answers back into numpy. It never imports TensorFlow:
it reaches it through `program.tf` (loaded at its first use), so TensorFlow stays
confined to program.py.
"""

from __future__ import annotations

import functools
import math
from dataclasses import fields
from typing import TYPE_CHECKING

import numpy as np

from nndyn_gui.core.train import program
from nndyn_gui.core.train.program import Compiled
from nndyn_gui.core.train.stepper import Hyper, State

if TYPE_CHECKING:
    import tensorflow as tf


@functools.lru_cache(maxsize=16)
def _tensors(hypers: tuple[Hyper, ...]) -> dict[str, tf.Tensor]:
    """The one place hyper-parameters become tensors: (S,) per field, member s's value at s
    (the compiled step's dict input)."""
    return {
        f.name: program.tf.constant([getattr(h, f.name) for h in hypers], program.DTYPE)
        for f in fields(Hyper)
    }


def _stack(arrays: list[np.ndarray]) -> tf.Tensor:
    stacked = np.stack([np.asarray(v, dtype=np.float64) for v in arrays])
    return program.tf.constant(stacked, program.DTYPE)


class MemberSteps:
    """S members' optimiser states over one structure's compiled functions, trained in
    one call (a leading member axis); one run is S = 1 (`CompiledSteps`).

    `data`: (x_tr, y_tr, x_te, y_te), shared by all members (x (N, d)) or one set each
    (x (S, N, d), the same N). Each fused call runs at most `k_alloc` steps (the
    batch-index tensor it was traced for); longer requests are split into several calls.
    """

    def __init__(
        self,
        comp: Compiled,
        data: tuple[tf.Tensor, ...],
        states: list[State],
        k_alloc: int,
        batch: int,
    ) -> None:
        self.comp = comp
        self._data = data
        self.size = len(states)
        n_params = len(states[0].params)
        self._params = [_stack([s.params[i] for s in states]) for i in range(n_params)]
        self._slots = [
            [_stack([s.slots[g][i] for s in states]) for i in range(n_params)]
            for g in range(len(states[0].slots))
        ]
        self._t_opt = program.tf.constant([s.t_opt for s in states], program.DTYPE)
        self._host: list[np.ndarray] | None = None  # self._params as numpy, once per call
        self._k_alloc = k_alloc
        # the batch-index tensor (S, K, B); full batch: (S, 0, 0)
        self.shape = (self.size, k_alloc, batch) if batch else (self.size, 0, 0)

    def trace(self, hypers: tuple[Hyper, ...]) -> None:
        """Compile (or look up) the step and the evaluation without training."""
        self._call(None, np.zeros(self.size, np.int64), hypers)
        self.evaluate(hypers)
        self.comp.traced.add(self.shape)

    def fused(
        self, rows: np.ndarray | None, n_steps: np.ndarray, hypers: tuple[Hyper, ...]
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Member s: up to n_steps[s] steps on rows[s] ((S, n, B), None: full batch).
        (steps done, last loss, reason) per member, as `Stepper.fused` says for one."""
        todo = np.asarray(n_steps, dtype=np.int64).copy()
        done = np.zeros(self.size, np.int64)
        loss = np.full(self.size, math.nan)
        reason = np.zeros(self.size, np.int64)
        offset = 0  # every member still going has done exactly this many
        while np.any((todo > 0) & (reason == 0)):
            kk = int(min(self._k_alloc, todo[reason == 0].max()))
            part = None if rows is None else rows[:, offset : offset + kk]
            want = np.where(reason == 0, np.minimum(todo, kk), 0)
            n_done, last, why = self._call(part, want, hypers)
            ran = want > 0
            loss[ran], reason[ran] = last[ran], why[ran]
            done += n_done
            todo -= n_done
            offset += kk
        return done, loss, reason

    def _call(
        self, rows: np.ndarray | None, n_steps: np.ndarray, hypers: tuple[Hyper, ...]
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        idx = np.zeros(self.shape, dtype=np.int32)
        if rows is not None and self.shape[2]:
            idx[:, : rows.shape[1]] = rows
        x_tr, y_tr = self._data[:2]
        tf_ = program.tf  # TensorFlow, loaded by now (the call is compiled)
        k_in = tf_.constant(np.asarray(n_steps, dtype=np.int32))
        out = self.comp.fused(self._params, self._slots, self._t_opt, x_tr, y_tr,
                              tf_.constant(idx), k_in, _tensors(hypers))  # fmt: skip
        self._params, self._slots, self._t_opt, done, loss, reason = out
        self._host = None
        return done.numpy().astype(np.int64), loss.numpy(), reason.numpy().astype(np.int64)

    def evaluate(self, hypers: tuple[Hyper, ...]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Per member: full training-set objective, train and test accuracy (NaN: no test
        set)."""
        loss, right_tr, right_te = self.comp.evaluate(self._params, *self._data, _tensors(hypers))
        n_tr, n_te = int(self._data[1].shape[-1]), int(self._data[3].shape[-1])
        with np.errstate(invalid="ignore"):  # no test set: NaN
            return loss.numpy(), right_tr.numpy() / n_tr, right_te.numpy() / n_te

    def member_params(self, s: int) -> list[np.ndarray]:
        """Member s's parameters (float64 copies). All members' parameters come to numpy
        once per call: a slice `p[s]` of a tensor is an eager op of its own, and four per
        member and snapshot were ~20 % of the CPU of a profiled 8-member run of the
        article's net (benchmarks/README.md, "Many runs at once")."""
        if self._host is None:
            self._host = [p.numpy() for p in self._params]
        return [np.array(p[s], dtype=np.float64) for p in self._host]

    def states(self) -> list[State]:
        params = [p.numpy() for p in self._params]
        slots = [[v.numpy() for v in g] for g in self._slots]
        t_opt = self._t_opt.numpy()
        return [
            State(
                [np.array(p[s], dtype=np.float64) for p in params],
                [[np.array(v[s], dtype=np.float64) for v in g] for g in slots],
                float(t_opt[s]),
            )
            for s in range(self.size)
        ]


class CompiledSteps:
    """The `core.train.stepper.Stepper` protocol of one run: `MemberSteps` with S = 1
    (so a run alone and the same run in an ensemble execute the same program)."""

    def __init__(
        self, comp: Compiled, data: tuple[tf.Tensor, ...], state: State, k_alloc: int, batch: int
    ) -> None:
        self.comp = comp
        self._members = MemberSteps(comp, data, [state], k_alloc, batch)

    def trace(self, hyper: Hyper) -> None:
        self._members.trace((hyper,))

    def fused(
        self, rows: np.ndarray | None, n_steps: int, hyper: Hyper, deadline: float | None = None
    ) -> tuple[int, float, int]:
        part = None if rows is None else rows[None]
        done, loss, reason = self._members.fused(part, np.array([n_steps]), (hyper,))
        return int(done[0]), float(loss[0]), int(reason[0])

    def evaluate(self, hyper: Hyper) -> tuple[float, float, float]:
        loss, acc_tr, acc_te = self._members.evaluate((hyper,))
        return float(loss[0]), float(acc_tr[0]), float(acc_te[0])

    def state(self) -> State:
        return self._members.states()[0]
