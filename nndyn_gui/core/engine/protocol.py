"""The messages between a `TrainingSession` and its worker process (see core/engine/session.py).

Why it looks like this:
- Plain frozen dataclasses, pickled over a pipe: nothing but numpy arrays and the
  core's own records (`RunConfig`, `Dataset`, `Snapshot`) cross the process boundary,
  so the window's process never needs TensorFlow to read them.
- Commands go one way (session -> worker), events the other. Every message about a
  run carries its `run_id`, so an event that arrives after the session moved on (a
  cancelled run's last batch, a dead worker's final words) is recognised and dropped.
- To extend the protocol (live hyper-parameters, stop conditions, ...) add a dataclass
  here, handle it in `worker._Control.apply` or the worker loop, and add it to
  the `Command` / `Event` unions; old fields never change meaning. docs/architecture.md
  lists every message.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from nndyn_gui.core.config import RunConfig, TrainConfig
from nndyn_gui.core.types import Dataset, Snapshot, TrainResult, TrainStatus

# ---------------------------------------------------------------------- commands


@dataclass(frozen=True)
class Start:
    """Train `config` on `dataset` from its initial weights (one run at a time).

    `step_only`: stop after the first snapshot interval and wait paused, as if `Step`
    had been sent at once. A Start while another run is going cancels that run first.
    `quick_start`: train the first steps with numpy while the compiled function is
    built (`QuickStarted`, then `Compiled` with the step it took over at; see
    core/train/quickstep.py). `paused`: wait after the step-0 snapshot, as after `Pause`.
    """

    run_id: int
    config: RunConfig
    dataset: Dataset
    step_only: bool = False
    quick_start: bool = False
    paused: bool = False


@dataclass(frozen=True)
class Pause:
    """Stop between two compiled calls and wait (answered by `RunState("paused")`)."""

    run_id: int


@dataclass(frozen=True)
class Resume:
    """Carry on training (answered by `RunState("training")`)."""

    run_id: int


@dataclass(frozen=True)
class Step:
    """Train up to the next snapshot, then pause (answered by `RunState` twice)."""

    run_id: int


@dataclass(frozen=True)
class Cancel:
    """End the run at the next check; it ends with `Finished(status="cancelled")`."""

    run_id: int


@dataclass(frozen=True)
class Tune:
    """Take the live fields of `train` (core/train/live.py: learning rate, regularisation,
    batch size, step counts, stop conditions) from the next compiled call on; answered
    by `Tuned`. Its other fields are ignored: a change of them needs a new run."""

    run_id: int
    train: TrainConfig


@dataclass(frozen=True)
class StartEnsemble:
    """Train every config of `configs` (one compiled structure, e.g. one config with the
    init seeds seed, seed + 1, ...) on `dataset` together (core/train/ensemble.py).

    Answered by `Compiled`, `EnsembleProgress` while it trains, `EnsembleResults` (every
    member's TrainResult, also after a Cancel: what each had so far) and `Finished`.
    Like `Start` it cancels a run still going; Cancel ends it, Pause / Step / Tune are
    ignored (the members train as one program).
    """

    run_id: int
    configs: tuple[RunConfig, ...]
    dataset: Dataset


@dataclass(frozen=True)
class Shutdown:
    """Exit the worker process now (whatever it is doing; nothing more is sent)."""


Command = Start | StartEnsemble | Pause | Resume | Step | Cancel | Tune | Shutdown

# ---------------------------------------------------------------------- events


@dataclass(frozen=True)
class Ready:
    """The worker has imported TensorFlow and waits for commands.

    `error` is set (and every Start fails with it) when TensorFlow cannot be loaded.
    """

    pid: int
    versions: dict[str, str] = field(default_factory=dict)
    error: str = ""


@dataclass(frozen=True)
class Compiled:
    """The run's compiled step is ready (traced now or taken from the worker's cache).

    `step`: the step from which it trains (0 unless numpy steps bridged the compile)."""

    run_id: int
    seconds: float
    xla: bool
    step: int = 0


@dataclass(frozen=True)
class QuickStarted:
    """Training began with numpy steps while the compiled step is built (quick start)."""

    run_id: int


@dataclass(frozen=True)
class Tuned:
    """Live changes took effect before the call that trains from `step`.

    `changes`: {field of TrainConfig: (old, new)} (core/train/live.py)."""

    run_id: int
    step: int
    changes: dict[str, tuple[Any, Any]]


@dataclass(frozen=True)
class Snapshots:
    """New snapshots of the run, in order; none is ever dropped (batched for speed)."""

    run_id: int
    snapshots: list[Snapshot]


@dataclass(frozen=True)
class Progress:
    """The newest step, (mini-)batch loss and speed (older progress is not resent)."""

    run_id: int
    step: int
    loss: float
    steps_per_s: float


@dataclass(frozen=True)
class EnsembleProgress:
    """The newest step of every member of an ensemble and each one's last step (older
    progress is not resent)."""

    run_id: int
    steps: tuple[int, ...]
    totals: tuple[int, ...]

    @property
    def share(self) -> float:
        """The share of all members' steps done, 0..1."""
        total = sum(self.totals)
        return min(1.0, sum(self.steps) / total) if total else 1.0


@dataclass(frozen=True)
class EnsembleResults:
    """Every member's TrainResult, in the order of `StartEnsemble.configs` (sent before
    the ensemble's `Finished`; each as its solo run would end, timing aside)."""

    run_id: int
    results: tuple[TrainResult, ...]


RunStateName = Literal["training", "paused"]


@dataclass(frozen=True)
class RunState:
    """The worker started waiting (`paused`, after Pause or a Step) or carried on."""

    run_id: int
    state: RunStateName
    step: int = 0


@dataclass(frozen=True)
class Finished:
    """The run ended; its snapshots were all sent before this event."""

    run_id: int
    status: TrainStatus
    message: str


@dataclass(frozen=True)
class Failed:
    """The run raised an exception; the worker itself is still usable."""

    run_id: int
    message: str  # one line, for the user
    details: str = ""  # the traceback


@dataclass(frozen=True)
class WorkerLost:
    """The worker process ended without being asked (killed, out of memory, a crash).

    Made by the session, never sent by a worker. `run_id` is the run it was doing (0 if
    it was idle); `message` says what happened in plain words.
    """

    run_id: int
    message: str
    exitcode: int | None = None


Event = (
    Ready
    | Compiled
    | QuickStarted
    | Tuned
    | Snapshots
    | Progress
    | EnsembleProgress
    | EnsembleResults
    | RunState
    | Finished
    | Failed
    | WorkerLost
)
RUN_ENDS = (Finished, Failed, WorkerLost)  # the events after which a run is over
