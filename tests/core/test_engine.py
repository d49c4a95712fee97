"""The training engine: a worker process that trains, streams and obeys, as a caller sees it."""

from __future__ import annotations

import os
import signal
import threading
from typing import Any

import pytest

from nndyn_gui.core.engine import protocol as p
from nndyn_gui.core.engine import worker as engine_worker
from nndyn_gui.core.engine.session import (
    EngineError,
    TrainingSession,
    shutdown_spares,
    spare_workers,
    train,
)

from .engine_helpers import disk_data, engine_config

_config, _data = engine_config, disk_data


def _until(session: TrainingSession, kind: type, timeout: float = 60.0) -> Any:
    while True:
        event = session.next_event(timeout)
        assert event is not None, f"no {kind.__name__} within {timeout} s"
        if isinstance(event, kind):
            return event


# ---------------------------------------------------------------------- pause / step logic
class _Sent:
    def __init__(self) -> None:
        self.events: list[Any] = []

    def send(self, event: Any) -> None:
        self.events.append(event)


def test_a_resume_pressed_during_a_step_is_never_lost() -> None:
    """Step, then Resume before the step's snapshot: training must not pause there."""
    sent = _Sent()
    control = engine_worker._Control(sent)  # type: ignore[arg-type]
    control.begin(p.Start(1, _config(), _data(), step_only=True))
    flags = control.flags(1)
    control.apply(p.Resume(1))
    control.after_snapshot(1, 20)
    assert not flags.pause.is_set()  # the Resume won
    assert [e.state for e in sent.events] == ["training"]
    control.apply(p.Step(1))
    control.after_snapshot(1, 40)  # now the step ends: paused, and said so after
    assert flags.pause.is_set()
    control.apply(p.Resume(1))
    assert not flags.pause.is_set()
    assert [e.state for e in sent.events] == ["training", "training", "paused", "training"]


def test_commands_for_a_run_that_ended_change_nothing() -> None:
    sent = _Sent()
    control = engine_worker._Control(sent)  # type: ignore[arg-type]
    control.begin(p.Start(1, _config(), _data()))
    control.begin(p.Start(2, _config(), _data()))  # one run at a time: 1 is cancelled
    assert control.flags(1).cancel.is_set() and not control.flags(2).cancel.is_set()
    control.end(1)
    control.apply(p.Pause(1))
    assert sent.events == [] and not control.flags(2).pause.is_set()


# ---------------------------------------------------------------------- a real worker
@pytest.fixture
def session() -> Any:
    s = TrainingSession()  # takes a warm worker another test left, if there is one
    yield s
    s.shutdown()  # and leaves it warm for the next


def test_a_run_streams_every_snapshot_in_order(session: TrainingSession) -> None:
    cfg = _config(steps=200, snapshot_every=10, steps_per_call=10)
    session.start(cfg, _data())
    seen: list[int] = []
    while True:
        event = session.next_event(60)
        if isinstance(event, p.Snapshots):
            seen += [s.step for s in event.snapshots]
        if isinstance(event, p.Finished):
            break
    assert seen == list(range(0, 201, 10))
    assert [s.step for s in session.result.snapshots] == seen
    assert session.result.status == "finished"
    assert session.result.versions["tensorflow"].startswith("2.")


@pytest.mark.skipif(not hasattr(os, "getpriority"), reason="POSIX priorities")
def test_the_worker_trains_at_a_lower_priority_than_its_caller(session: TrainingSession) -> None:
    """Training yields the CPU to the window: on 2 cores a deep net's redraws stalled it."""
    cfg = _config(steps=20, snapshot_every=10, steps_per_call=10)
    session.start(cfg, _data())
    _until(session, p.Finished)
    mine = os.getpriority(os.PRIO_PROCESS, 0)
    assert os.getpriority(os.PRIO_PROCESS, session.worker_pid) >= min(19, mine + 10)


def test_a_run_trains_the_config_as_it_was_at_start(session: TrainingSession) -> None:
    """The caller may change its config right after Start: the run is not affected."""
    cfg = _config(steps=60, snapshot_every=20, steps_per_call=20)
    session.start(cfg, _data())
    cfg.train.steps = 100_000
    _until(session, p.Finished)
    assert [s.step for s in session.result.snapshots] == [0, 20, 40, 60]


def test_step_pauses_after_one_interval_and_resume_finishes(session: TrainingSession) -> None:
    session.start(_config(), _data(), step_only=True)
    assert _until(session, p.RunState).state == "paused"
    assert [s.step for s in session.snapshots] == [0, 20]
    assert session.next_event(0.5) is None  # really waiting
    session.resume()
    assert _until(session, p.Finished).status == "finished"
    assert [s.step for s in session.result.snapshots] == [0, 20, 40, 60]


def test_the_second_run_reuses_the_compiled_step(session: TrainingSession) -> None:
    cfg = _config()
    cfg.model.depth = 7  # a structure no other test compiles in this worker
    session.start(cfg, _data())
    first = _until(session, p.Compiled).seconds
    _until(session, p.Finished)
    cfg.train.learning_rate, cfg.train.seed = 0.02, 3  # same structure, other numbers
    session.start(cfg, _data())
    second = _until(session, p.Compiled).seconds
    _until(session, p.Finished)
    assert second < 0.2 * first, (first, second)


def test_train_can_be_cancelled_and_keeps_what_it_trained() -> None:
    cancel = threading.Event()

    def on_snapshot(snap: Any) -> None:
        if snap.step >= 100:
            cancel.set()

    result = train(_config(steps=1_000_000), _data(), on_snapshot=on_snapshot, cancel=cancel)
    assert result.status == "cancelled" and result.final.step >= 100
    assert result.snapshots[0].step == 0


def test_a_dead_worker_is_an_error_that_keeps_the_snapshots() -> None:
    def on_snapshot(snap: Any) -> None:
        if snap.step >= 100:
            os.kill(session.worker_pid, signal.SIGKILL)

    session = TrainingSession()
    try:
        with pytest.raises(EngineError) as info:
            train(_config(steps=1_000_000), _data(), on_snapshot=on_snapshot, session=session)
    finally:
        session.shutdown(keep_warm=False)
    assert "stopped unexpectedly" in str(info.value) and "SIGKILL" in str(info.value)
    assert info.value.partial is not None and info.value.partial.final.step >= 100


def test_a_closed_session_leaves_its_idle_worker_warm_for_the_next() -> None:
    shutdown_spares()  # room for one
    first = TrainingSession()
    first.start(_config(), _data())
    _until(first, p.Finished)
    pid = first.worker_pid
    first.shutdown()
    try:
        assert pid in {w.pid for w in spare_workers()}
        second = TrainingSession()
        second.start(_config(), _data())
        assert second.worker_pid == pid and second.ready is not None  # no new import
        assert _until(second, p.Finished).status == "finished"
        second.shutdown(keep_warm=False)
    finally:
        shutdown_spares()
