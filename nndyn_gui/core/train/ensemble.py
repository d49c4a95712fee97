"""Train many runs of one shape at once: S nets in one compiled program (a member axis).

Why: a step of these tiny nets costs per-operation overhead far more than arithmetic
(the article's 51-block width-3 net: ~10,000 steps/s, ~100 microseconds a step), so S
nets in one call pay that overhead once. `nndyn verify` trains each preset's seeds
together, and a sweep groups its runs of one shape into ensemble jobs.

Exactness: a run alone is the same program with S = 1 (core/train/member_steps.py's
`CompiledSteps` is `MemberSteps` of one), every member reads only its own parameters,
data, batch rows (its own seed's `BatchStream`) and hyper-parameters, and a member that
stops (diverged, its stop rule, its last step) is frozen by a select while the others
go on. So each member's snapshots equal its solo run's to rounding, not bit for bit:
XLA vectorises the member program differently for S = 1 and S = 8 (an add in another
order), and SGD carries such a last-digit difference on. Measured: at most 1e-16 to
2e-14 over 60 steps of every structure in tests/core/test_ensemble.py (asserted
<= 1e-10), and over the article's full 20,000-step run see benchmarks/README.md
(`bench_ensemble.py`, "solo_vs_member_max_difference"). Timing fields (elapsed,
steps_per_s) are the ensemble's.

Members may differ in anything that is a tensor input: seed (initial weights and
batches), learning rate, h, weight decay, transport weight, the bound, the step count,
snapshot_every, the stop rules, and the data set (same sizes; stacked when they differ).
`train_many` groups any list of runs into such ensembles. No TensorFlow here: the
program and its tensors are core/train/program.py's (which this imports, so import
this module only where training runs).
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from nndyn_gui.core.config import RunConfig
from nndyn_gui.core.io import limits
from nndyn_gui.core.train import member_steps, program
from nndyn_gui.core.train import trainer as tr
from nndyn_gui.core.train.stepper import BatchStream, Hyper
from nndyn_gui.core.train.stopping import StopRule
from nndyn_gui.core.types import Dataset, Snapshot, TrainResult

log = logging.getLogger(__name__)

MAX_MEMBERS = 16  # more members per program: one group is split (memory, compile time)
CALL_STEPS = 200  # steps per compiled call (results do not depend on it)


@dataclass
class _Member:
    """One run of the ensemble: its config, batches, snapshots and how it ended."""

    config: RunConfig
    hyper: Hyper
    stream: BatchStream
    keeper: limits.SnapshotKeeper
    stop_rule: StopRule
    step: int = 0
    status: str = ""  # "" while it trains
    message: str = ""
    snapshots: list[Snapshot] = field(default_factory=list)
    last_t: float = 0.0
    last_step: int = 0
    rate: float = 0.0

    @property
    def running(self) -> bool:
        return not self.status

    def next_snapshot(self) -> int:
        every, total = self.config.train.snapshot_every, self.config.train.steps
        return min((self.step // every + 1) * every, total)


def group_key(config: RunConfig, dataset: Dataset) -> tuple[tr.quickstep.Structure, int, int]:
    """Runs with equal keys can train in one ensemble (same compiled structure, sizes)."""
    n_train = tr.check_data(config, dataset)
    st = tr.structure_of(config, config.train, n_train)
    return (st, n_train, int(dataset.x_test.shape[0]))


class Ensemble:
    """S runs of one structure trained together; `run()` gives each its TrainResult.

    `datasets`: one Dataset for all, or one per config (equal sizes). ValueError if the
    configs do not share one compiled structure (`group_key`)."""

    def __init__(self, configs: Sequence[RunConfig], datasets: Dataset | Sequence[Dataset]):
        if not configs:
            raise ValueError("an ensemble needs at least one run")
        self.configs = [c.copy() for c in configs]
        data = [datasets] * len(configs) if isinstance(datasets, Dataset) else list(datasets)
        if len(data) != len(self.configs):
            raise ValueError("one data set, or one per run")
        if any(c.train.optimizer == "msa" for c in self.configs):
            raise ValueError("an MSA run trains alone (core/train/msa.py), not in an ensemble")
        keys = {group_key(c, d) for c, d in zip(self.configs, data, strict=True)}
        if len(keys) != 1:
            raise ValueError("the runs of an ensemble must share one structure and data sizes")
        self.structure, self._n_train, _ = keys.pop()
        self.members = [
            _Member(
                config=c,
                hyper=Hyper.of(c.model, c.train),
                stream=BatchStream(c.train.batch_seed, self._n_train),
                keeper=limits.SnapshotKeeper(c.train.snapshot_every, limits.snapshot_capacity(c)),
                stop_rule=StopRule.of(c.train),
            )
            for c in self.configs
        ]
        self._hypers = tuple(m.hyper for m in self.members)
        self._data = _member_data(self.configs, data)
        self.compile_seconds = 0.0
        self.xla = False
        self._steps: member_steps.MemberSteps | None = None

    @property
    def size(self) -> int:
        return len(self.members)

    def prepare(self) -> float:
        """Compile (or take the cached program); the seconds it took."""
        if self._steps is not None:
            return 0.0
        t0 = time.perf_counter()
        states = [tr.initial_state(c) for c in self.configs]
        made: list[member_steps.MemberSteps] = []
        batch = self.structure.batch_size

        def first_call(comp: program.Compiled) -> None:
            made.append(member_steps.MemberSteps(comp, self._data, states, CALL_STEPS, batch))
            made[-1].trace(self._hypers)

        comp = program.compile_structure(self.structure, first_call)
        self._steps = made[-1]
        self.xla = comp.xla
        self.compile_seconds = time.perf_counter() - t0
        return self.compile_seconds

    def run(
        self,
        cancel: threading.Event | None = None,
        on_snapshot: Callable[[int, Snapshot], None] | None = None,
    ) -> list[TrainResult]:
        """Train every member to its end; member i's TrainResult at i (plain data, the
        same as `Trainer(configs[i], dataset).run()` gives, timing aside).
        `on_snapshot(i, snapshot)` for every snapshot kept; `cancel` ends all members
        at the next call ("cancelled", with a last snapshot)."""
        self.prepare()
        steps = self._steps
        assert steps is not None
        t_start = time.perf_counter()
        for m in self.members:
            m.last_t = t_start
        self._snap_due(list(range(self.size)), t_start, on_snapshot, first=True)
        while any(m.running for m in self.members):
            if cancel is not None and cancel.is_set():
                for m in self.members:
                    if m.running:
                        m.status = "cancelled"
                break
            target = [m.next_snapshot() for m in self.members]
            want = np.array(
                [
                    min(CALL_STEPS, target[i] - m.step) if m.running else 0
                    for i, m in enumerate(self.members)
                ]
            )
            rows = self._rows(want)
            t0 = time.perf_counter()
            done, loss, reason = steps.fused(rows, want, self._hypers)
            dt = time.perf_counter() - t0
            due = []
            for i, m in enumerate(self.members):
                if not want[i]:
                    continue
                m.step += int(done[i])
                m.rate = done[i] / dt if dt > 0 else 0.0
                if reason[i]:
                    m.status = "diverged"
                    m.message = tr.Trainer._diverged_message(
                        m.step, float(loss[i]), int(reason[i]), m.snapshots
                    )
                elif m.step == target[i]:
                    due.append(i)
            self._snap_due(due, t_start, on_snapshot)
        self._finish(t_start, on_snapshot)
        return [
            TrainResult(m.status, m.snapshots, m.message)  # type: ignore[arg-type]
            for m in self.members
        ]

    # ------------------------------------------------------------------ internals
    def _rows(self, want: np.ndarray) -> np.ndarray | None:
        b = self.structure.batch_size
        if not b:
            return None
        rows = np.zeros((self.size, int(want.max()), b), dtype=np.int32)
        for i, m in enumerate(self.members):
            if want[i]:
                rows[i, : want[i]] = m.stream.rows(m.step * b, int(want[i]), b)
        return rows

    def _snap_due(
        self,
        due: list[int],
        t_start: float,
        on_snapshot: Callable[[int, Snapshot], None] | None,
        first: bool = False,
    ) -> None:
        """Snapshot the members in `due` (one evaluation for all), check their stop rules."""
        if not due:
            return
        assert self._steps is not None
        losses, acc_tr, acc_te = self._steps.evaluate(self._hypers)
        now = time.perf_counter()
        for i in due:
            m = self.members[i]
            s = self._snapshot(
                i, float(losses[i]), float(acc_tr[i]), float(acc_te[i]), now, t_start
            )
            if s is None:
                m.status = "diverged"
                m.message = (
                    "The initial loss is not finite."
                    if first
                    else tr.Trainer._diverged_message(m.step, math.nan, 1, m.snapshots)
                )
                continue
            if on_snapshot is not None:
                on_snapshot(i, s)
            why = m.stop_rule.check(s.step, s.loss, s.train_acc)
            if first:  # step 0 only starts the rules' bookkeeping, as in Trainer.events
                continue
            if why:
                m.status, m.message = "finished", why
            elif m.step >= m.config.train.steps:
                m.status, m.message = "finished", f"Finished {m.step} steps."

    def _snapshot(
        self, i: int, loss: float, acc_tr: float, acc_te: float, now: float, t_start: float
    ) -> Snapshot | None:
        """Keep member i's snapshot (Trainer.events' `snap`); None if it is not finite."""
        assert self._steps is not None
        m = self.members[i]
        weights = tr.net_weights(m.config, self._steps.member_params(i))
        if not (math.isfinite(loss) and loss <= program.DIVERGED_LOSS and weights.is_finite()):
            return None
        if not limits.weights_in_range(weights):
            return None
        if m.step > m.last_step and now > m.last_t:
            sps = (m.step - m.last_step) / (now - m.last_t)
        else:
            sps = m.rate
        s = Snapshot(m.step, loss, acc_tr, acc_te, weights, now - t_start, sps)
        m.last_t, m.last_step = now, m.step
        m.keeper.add(m.snapshots, s)
        return s

    def _finish(self, t_start: float, on_snapshot: Callable[[int, Snapshot], None] | None) -> None:
        """Cancelled members: a last snapshot where they stopped, and their message."""
        late = [
            i
            for i, m in enumerate(self.members)
            if m.status == "cancelled" and m.snapshots and m.snapshots[-1].step != m.step
        ]
        if late:
            assert self._steps is not None
            losses, acc_tr, acc_te = self._steps.evaluate(self._hypers)
            now = time.perf_counter()
            for i in late:
                s = self._snapshot(
                    i, float(losses[i]), float(acc_tr[i]), float(acc_te[i]), now, t_start
                )
                if s is not None and on_snapshot is not None:
                    on_snapshot(i, s)
        for m in self.members:
            if m.status == "cancelled":
                m.message = f"Cancelled at step {m.step}."


def _member_data(configs: list[RunConfig], data: list[Dataset]) -> tuple[object, ...]:
    """The data as the member program reads it (trainer.member_data): shared when every
    member trains on the same points, else stacked."""
    cols = [tr.data_columns(c, d) for c, d in zip(configs, data, strict=True)]
    first = cols[0]
    shared = all(
        all(np.array_equal(a, b) for a, b in zip(first, other, strict=True)) for other in cols[1:]
    )
    return tr.member_data([first] if shared else cols)


def train_many(
    configs: Sequence[RunConfig],
    datasets: Sequence[Dataset],
    max_members: int = MAX_MEMBERS,
) -> list[TrainResult]:
    """Train every run, those of one shape (`group_key`) together in ensembles of at most
    `max_members`; results in the order of `configs`."""
    groups: dict[tuple[tr.quickstep.Structure, int, int], list[int]] = {}
    out: list[TrainResult | None] = [None] * len(configs)
    for i, (c, d) in enumerate(zip(configs, datasets, strict=True)):
        if c.train.optimizer == "msa":  # numpy E-MSA: no compiled program, trains alone
            out[i] = tr.Trainer(c, d).run()
        else:
            groups.setdefault(group_key(c, d), []).append(i)
    for idx in groups.values():
        for lo in range(0, len(idx), max(1, max_members)):
            part = idx[lo : lo + max(1, max_members)]
            results = Ensemble([configs[i] for i in part], [datasets[i] for i in part]).run()
            for i, r in zip(part, results, strict=True):
                out[i] = r
    return [r for r in out if r is not None]
