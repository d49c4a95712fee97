"""Train one run: the run loop over a stepper, from numpy steps to the compiled program.

Why apart from core/train/program.py: the program is a pure function of (parameters,
optimiser state, data) traced once per structure; the `Trainer` owns one run's life —
its data and batches, the numpy quick start while the program compiles (switched over
exactly, core/train/quickstep.py), snapshots, stop rules, live changes of the learning
rate and friends (core/train/live.py), pause and cancel — and yields the engine
protocol's events. TensorFlow is reached only through the program module.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable, Generator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from nndyn_gui.core.config import RunConfig, TrainConfig
from nndyn_gui.core.engine import protocol
from nndyn_gui.core.io import limits
from nndyn_gui.core.net.flow import embed
from nndyn_gui.core.net.initial_weights import initial_weights
from nndyn_gui.core.train import live, member_steps, msa, program, quickstep
from nndyn_gui.core.train.stepper import BatchStream, Hyper, State, Stepper
from nndyn_gui.core.train.stopping import StopRule
from nndyn_gui.core.types import Dataset, NetWeights, Snapshot, TrainResult

if TYPE_CHECKING:
    import tensorflow as tf

log = logging.getLogger(__name__)

PAUSE_POLL_S = 0.02
QUICK_CALL_S = 0.08  # quick start: a numpy call returns after this long (switch, pause)
QUICK_FIRST_S = 0.04  # ... and the first one sooner: its snapshot is the first picture
QUICK_YIELD = 3.0  # while compiling, numpy sleeps 3x as long as it ran (25 % of the time)
MAX_COMPILE_TRIES = 2  # a failed compile is retried once, not after every numpy call
_COMPILE_FAILED: set[Any] = set()  # structures whose compile failed (logged once each)


@dataclass
class Control:
    """What the run loop checks between calls: cancel, pause (it waits while set), and
    `tune()`, a TrainConfig whose live fields (core/train/live.py) apply from then on."""

    cancel: threading.Event = field(default_factory=threading.Event)
    pause: threading.Event = field(default_factory=threading.Event)
    tune: Callable[[], TrainConfig | None] = lambda: None


def check_data(config: RunConfig, dataset: Dataset) -> int:
    """The number of training points; ValueError for an empty set or labels outside
    0..K-1."""
    n_train = int(dataset.x_train.shape[0])
    if n_train == 0:
        raise ValueError("the training set is empty")
    k = config.data.classes
    for y in (dataset.y_train, dataset.y_test):
        if len(y) and not (int(np.min(y)) >= 0 and int(np.max(y)) < k):
            raise ValueError(
                f"the data have labels {int(np.min(y))}..{int(np.max(y))} but "
                f"data.classes is {k} (labels 0..{k - 1})"
            )
    return n_train


def data_columns(
    config: RunConfig, dataset: Dataset
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(x_tr, y_tr, x_te, y_te) as the compiled step reads them: float64, width d."""
    d = config.model.width
    return (
        embed(dataset.x_train, d),
        np.asarray(dataset.y_train, dtype=np.float64),
        embed(dataset.x_test, d).reshape(-1, d),
        np.asarray(dataset.y_test, dtype=np.float64),
    )


def member_data(cols: Sequence[Sequence[np.ndarray]]) -> tuple[tf.Tensor, ...]:
    """`data_columns` of the members as tensors: one set shared by all (x (N, d)) when
    given one, else stacked (x (S, N, d); the sizes must agree)."""
    if len(cols) == 1:
        return tuple(program.tf.constant(v, program.DTYPE) for v in cols[0])
    return tuple(
        program.tf.constant(np.stack([c[j] for c in cols]), program.DTYPE) for j in range(4)
    )


def structure_of(config: RunConfig, train: Any, n_train: int) -> program.Structure:
    """The compiled structure of `config` trained with `train` on n_train points."""
    m = config.model
    return program.Structure(
        kind=m.kind,
        activation=m.activation,
        width=m.width,
        depth=m.depth,
        tied=m.tied,
        keep_invertible=m.keep_invertible,
        optimizer=train.optimizer,
        batch_size=train.batch_size if 0 < train.batch_size < n_train else 0,
        use_transport=train.transport > 0.0,
        classes=config.data.classes,
    )


def initial_state(config: RunConfig) -> State:
    """Step 0: `initial_weights` of the config's seed (tied nets keep one block) and zero
    optimiser slots."""
    m, tr = config.model, config.train
    w0 = initial_weights(m, tr.seed, config.data.classes)
    a0, b0 = (w0.A[0], w0.b[0]) if m.tied else (w0.A, w0.b)
    params = [np.array(v, dtype=np.float64) for v in (a0, b0, w0.w, w0.c)]
    slots = [[np.zeros_like(p) for p in params] for _ in range(2)]
    return State(params, slots if tr.optimizer == "adam" else [])


def net_weights(config: RunConfig, params: list[np.ndarray]) -> NetWeights:
    """A run's parameters as NetWeights (tied blocks repeated T times)."""
    t = config.model.depth
    a, b, w, c = params
    if config.model.tied:
        a = np.repeat(a[None], t, axis=0)
        b = np.repeat(b[None], t, axis=0)
    c_out: float | np.ndarray = float(c) if config.data.classes == 2 else c
    return NetWeights(A=a, b=b, w=w, c=c_out)


class Trainer:
    """Trains one run: numpy steps (core/train/quickstep.py) or the compiled TF step, both a
    `core.train.stepper.Stepper`, in fused calls; `events()` is the run loop.

    `quick_start`: train the first steps with numpy while the compiled function is built
    on the compile thread, and switch to it at the next call once it is ready (a
    `Compiled` event says when). A structure already compiled in this process starts
    compiled at once, exactly as without quick start. The numbers agree with the
    compiled steps to rounding, not bit for bit, so the command line (reproducible to
    the last digit) does not use it; the window does. A compile that fails is retried
    once; then numpy trains to the end and the run's message says so. An MSA run
    (`train.optimizer=msa`) trains with core/train/msa.py's numpy stepper from its first
    step: nothing is compiled, and `Compiled` comes at once with 0 seconds.
    """

    def __init__(self, config: RunConfig, dataset: Dataset, quick_start: bool = False) -> None:
        self.config = config.copy()
        cfg = self.config
        m, tr = cfg.model, cfg.train
        self.dataset = dataset
        n_train = check_data(cfg, dataset)
        self._n_train = n_train
        self._structure = self._structure_for(tr)
        self._initial = initial_state(cfg)
        self.hyper = Hyper.of(m, tr)
        self._xy = data_columns(cfg, dataset)
        self._data: tuple[Any, ...] = ()  # self._xy as tensors, made by the first compile
        self._k = max(1, tr.steps_per_call)
        self._k_alloc = self._k  # rows of the batch-index tensor the function is traced for
        self._origin = (0, 0)  # (step, sample position) where the batch stream continues
        self._stream = BatchStream(tr.batch_seed, n_train)
        self._quick = bool(quick_start) and quickstep.supports(self._structure)
        self._steps: Stepper | None = None  # numpy's or the compiled one
        self._job: program.CompileJob | None = None
        self._np_calls = 0  # numpy calls since the compile began
        self._compile_tries = 0  # of this structure (MAX_COMPILE_TRIES)
        self.compile_error = ""  # why the compiled step failed ("" : it did not)
        self.stop_rule = StopRule.of(tr)
        self.step = 0
        self.compile_seconds = 0.0
        self.xla = False

    def _structure_for(self, tr: Any) -> program.Structure:
        return structure_of(self.config, tr, self._n_train)

    # ------------------------------------------------------------------ public
    @property
    def quick(self) -> bool:
        """True while numpy trains (the compiled function is still being built)."""
        return isinstance(self._steps, quickstep.Stepper)

    def weights(self) -> NetWeights:
        """A float64 numpy copy of the current parameters (tied blocks repeated T times)."""
        return net_weights(self.config, self._state().params)

    def prepare(self) -> bool:
        """Get ready to train: compile now (or take the compiled function from the cache),
        or with quick start begin with numpy while it compiles. True while numpy trains."""
        if self._steps is None:
            if self._quick:
                self._start_numpy(self._initial.copy())
            else:
                self.warmup()
        return self.quick

    def warmup(self) -> float:
        """Trace and compile (XLA if it works) without training; return the seconds spent."""
        if self._steps is not None and not self.quick:
            return 0.0
        return self._compile_now(self._state())

    def _compile_now(self, state: State) -> float:
        """Compile here (or take the cached function) and continue from `state` with it.
        An MSA run has nothing to compile: its numpy stepper (core/train/msa.py) trains."""
        if self._structure.optimizer == "msa":
            settings = msa.Settings.of(self.config.train)
            self._steps = msa.Stepper(self._structure, *self._xy, state, settings)
            self.compile_seconds = 0.0
            return 0.0
        t0 = time.perf_counter()
        made: list[member_steps.CompiledSteps] = []

        def first_call(comp: program.Compiled) -> None:
            made.append(self._compiled_steps(comp, state))
            made[-1].trace(self.hyper)

        comp = program.compile_structure(self._structure, first_call)
        self._steps = made[-1]
        self.xla = comp.xla
        self.compile_seconds = time.perf_counter() - t0
        return self.compile_seconds

    def retune(self, train: Any) -> dict[str, tuple[Any, Any]]:
        """Take the live fields of `train` (core/train/live.py) from the next call on; return
        {field: (old, new)} of what changed. Batch size and transport on/off change the
        compiled function: numpy steps bridge its compile (quick start), else it is
        compiled here."""
        old = self.config.train
        changes = live.live_changes(old, train)
        if not changes:
            return changes
        new = live.with_live(old, train)
        self.hyper = Hyper.of(self.config.model, new)
        self._k = max(1, new.steps_per_call)
        self.stop_rule.retarget(new)
        st = self._structure_for(new)
        if st.batch_size != self._structure.batch_size:
            self._origin = (self.step, self._position(self.step))
        self.config.train = new
        if st != self._structure:
            state = self._state()
            self._structure = st
            self._steps = None
            self._k_alloc = self._k
            if self._quick:
                self._start_numpy(state)
            else:
                self._compile_now(state)
        return changes

    def run(
        self,
        control: Control | None = None,
        on_event: Callable[[protocol.Event], None] | None = None,
    ) -> TrainResult:
        """Run `events()` to the end, handing each event to `on_event`."""
        events = self.events(0, control)
        while True:
            try:
                event = next(events)
            except StopIteration as end:
                return end.value
            if on_event is not None:
                on_event(event)

    def events(
        self, run_id: int = 0, control: Control | None = None
    ) -> Generator[protocol.Event, None, TrainResult]:
        """The run loop: train to config.train.steps and yield what happens, as the
        engine protocol's events of run `run_id`; return the TrainResult.

        First `QuickStarted` (numpy trains while the step compiles) or `Compiled`; then
        `Snapshots` (one each: at 0, every snapshot_every, the end), `Progress` after every
        fused call (its loss is the last step's (mini-)batch objective; Snapshot.loss is
        the full training-set objective; Snapshot.test_acc is NaN without a test set),
        `Compiled` when the compiled step takes over from numpy, `Tuned` when live fields
        (core/train/live.py, polled through `control.tune` before each call) apply, and last
        `Finished`. The snapshots kept stay within limits.SNAPSHOT_MEMORY_BYTES (thinned
        to an even grid, limits.SnapshotKeeper); every one is yielded. The stop
        conditions (core/train/stopping.py) are checked at every snapshot; a run they end is
        "finished" with a message that says which one. With quick start, a first
        snapshot comes after the first numpy call (off the grid; a kept run drops it at
        the next snapshot).
        """
        ctl = control or Control()
        if self.prepare():
            yield protocol.QuickStarted(run_id)
        else:
            yield protocol.Compiled(run_id, float(self.compile_seconds), bool(self.xla))
        snapshots: list[Snapshot] = []
        keeper = limits.SnapshotKeeper(
            self.config.train.snapshot_every, limits.snapshot_capacity(self.config)
        )
        t_start = time.perf_counter()
        last_snap_t, last_snap_step = t_start, self.step
        rate = 0.0
        preview = self.quick  # one early snapshot while numpy trains

        def snap() -> Snapshot | None:
            """Keep a snapshot of the current weights; None if its loss is not finite."""
            nonlocal last_snap_t, last_snap_step
            now = time.perf_counter()
            loss, acc_tr, acc_te = self._evaluate()
            weights = self.weights()
            if not (math.isfinite(loss) and loss <= program.DIVERGED_LOSS and weights.is_finite()):
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
            return s

        first = snap()
        if first is None:
            message = "The initial loss is not finite."
            yield protocol.Finished(run_id, "diverged", message)
            return TrainResult("diverged", snapshots, message)
        yield protocol.Snapshots(run_id, [first])
        self.stop_rule.check(0, first.loss, first.train_acc)
        status = "finished"
        message = ""
        while self.step < self.config.train.steps:
            if _wait_while_paused(ctl.pause, ctl.cancel):
                status = "cancelled"
                break
            tune = ctl.tune()
            if tune is not None:
                changes = self.retune(tune)
                if changes:
                    yield protocol.Tuned(run_id, self.step, changes)
                if self.step >= self.config.train.steps:
                    break
            switched = self._maybe_switch()
            if switched:
                yield protocol.Compiled(run_id, switched.seconds, self.xla, self.step)
            every, total = self.config.train.snapshot_every, self.config.train.steps
            next_snap = min((self.step // every + 1) * every, total)
            k = min(self._k, next_snap - self.step)
            t0 = time.perf_counter()
            done, loss, reason = self._advance(k)
            dt = time.perf_counter() - t0
            self.step += done
            rate = done / dt if dt > 0 else 0.0
            if reason:
                status = "diverged"
                message = self._diverged_message(self.step, loss, reason, snapshots)
                break
            yield protocol.Progress(run_id, self.step, float(loss), rate)
            due = self.step == next_snap or (preview and 0 < self.step < next_snap)
            if not due:
                continue
            preview = False
            s = snap()
            if s is None:
                status = "diverged"
                message = self._diverged_message(self.step, math.nan, 1, snapshots)
                break
            yield protocol.Snapshots(run_id, [s])
            why = self.stop_rule.check(s.step, s.loss, s.train_acc)
            if why:
                message = why
                break
        last: Snapshot | None = None
        if status == "cancelled":
            if snapshots[-1].step != self.step:
                last = snap()
            message = f"Cancelled at step {self.step}."
        elif status == "finished" and not message:
            if snapshots[-1].step != self.step:  # the step count was lowered below it
                last = snap()
            message = f"Finished {self.step} steps."
        if last is not None:
            yield protocol.Snapshots(run_id, [last])
        if self.compile_error and self.quick:
            message += f" Trained with numpy: the compiled step failed: {self.compile_error}."
        yield protocol.Finished(run_id, status, message)  # type: ignore[arg-type]
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

    def _state(self) -> State:
        return self._initial.copy() if self._steps is None else self._steps.state()

    def _compiled_steps(self, comp: program.Compiled, state: State) -> member_steps.CompiledSteps:
        if not self._data:  # not in __init__: numpy may train while TensorFlow loads
            self._data = tuple(program.tf.constant(v, program.DTYPE) for v in self._xy)
        return member_steps.CompiledSteps(
            comp, self._data, state, self._k_alloc, self._structure.batch_size
        )

    def _start_numpy(self, state: State) -> None:
        """Train with numpy from `state` and compile meanwhile; a structure compiled
        before (for these shapes) is used at once instead."""
        comp = program.cached(self._structure)
        if comp is not None and self._index_shape() in comp.traced:
            self._compile_now(state)
            return
        self._steps = quickstep.Stepper(self._structure, *self._xy, state)
        self._np_calls = 0
        self._compile_tries = 0
        self.compile_error = ""
        self._job = None  # submitted after the first numpy call (see _advance)

    def _submit_compile(self) -> None:
        state = self._state()
        self._compile_tries += 1
        self._job = program.CompileJob(
            self._structure, lambda c: self._compiled_steps(c, state), self.hyper
        )
        program.COMPILER.submit(self._job)

    def _maybe_switch(self) -> program.CompileJob | None:
        """Numpy is training and the compile is done: continue compiled from here (the
        job, when it did)."""
        job = self._job
        if not self.quick or job is None or not job.done.is_set():
            return None
        if job.dropped:  # another trainer's job replaced ours before it began
            self._compile_tries -= 1  # it was never tried
            self._submit_compile()
            return None
        self._job = None
        if job.result is None:  # numpy trains on; retried once (see _advance)
            self.compile_error = job.error
            return None
        self._steps = self._compiled_steps(job.result, self._state())
        self.compile_error = ""
        self.xla = job.result.xla
        self.compile_seconds = job.seconds
        return job

    def _advance(self, k: int) -> tuple[int, float, int]:
        """k steps (numpy: fewer if QUICK_CALL_S passes); (done, last loss, reason)."""
        steps = self._steps
        assert steps is not None
        rows = self._batch_rows(self.step, k) if self._structure.batch_size else None
        if not self.quick:
            return steps.fused(rows, k, self.hyper)
        t0 = time.perf_counter()
        budget = QUICK_CALL_S if self._np_calls else QUICK_FIRST_S
        out = steps.fused(rows, k, self.hyper, t0 + budget)
        self._np_calls += 1
        if self._job is None and self._compile_tries < MAX_COMPILE_TRIES:
            self._submit_compile()  # after the first call: tracing would slow it ~10x (GIL)
        job = self._job
        if self._np_calls > 1 and job is not None and not job.done.is_set():
            # the compile comes first: numpy takes a quarter of the time, enough for a
            # picture a second or so, so that the worker (compile + numpy) keeps to
            # about one core, as a compiled run does: on 2 cores, numpy at full speed
            # next to the compile made the window's median pause 10 -> 41 ms and the
            # compile 1.3-1.5x slower. The first call (the first picture) never waits.
            dt = time.perf_counter() - t0
            time.sleep(min(QUICK_YIELD * QUICK_CALL_S, QUICK_YIELD * dt))
        return out

    def _evaluate(self) -> tuple[float, float, float]:
        assert self._steps is not None
        return self._steps.evaluate(self.hyper)

    def _index_shape(self) -> tuple[int, int, int]:
        """(members, rows, batch) of the batch-index input: (1, 0, 0) for full batch."""
        b = self._structure.batch_size
        return (1, self._k_alloc, b) if b else (1, 0, 0)

    def _position(self, step: int) -> int:
        """Index of the first sample of `step` in the stream of epochs (see _batch_rows)."""
        step0, pos0 = self._origin
        b = self._structure.batch_size or self._n_train
        return pos0 + (step - step0) * b

    def _batch_rows(self, start: int, k: int) -> np.ndarray:
        """(k, B) int32 rows of the run's BatchStream (core/train/stepper.py) for steps
        start..start+k. A live change of the batch size continues the stream where it
        was (`_origin`)."""
        b = self._structure.batch_size
        if not b:
            return np.zeros((k, 0), dtype=np.int32)
        return self._stream.rows(self._position(start), k, b)


def _wait_while_paused(pause: threading.Event | None, cancel: threading.Event | None) -> bool:
    """Block while `pause` is set; return True if `cancel` is (or becomes) set."""
    if cancel is not None and cancel.is_set():
        return True
    while pause is not None and pause.is_set():
        if cancel is not None and cancel.is_set():
            return True
        time.sleep(PAUSE_POLL_S)
    return cancel is not None and cancel.is_set()


def train(config: RunConfig, dataset: Dataset) -> TrainResult:
    """One-call training: `Trainer(config, dataset).run()`."""
    return Trainer(config, dataset).run()
