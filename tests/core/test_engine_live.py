"""The engine's quick start and live changes, as the window uses them (through the worker)."""

from __future__ import annotations

from typing import Any

from nndyn_gui.core.engine import protocol as p
from nndyn_gui.core.engine import worker as engine_worker
from nndyn_gui.core.engine.session import TrainingSession

from .engine_helpers import disk_data, engine_config

_config, _data = engine_config, disk_data


def _events_until(session: TrainingSession, kind: type, timeout: float = 90.0) -> list[Any]:
    out = []
    while True:
        event = session.next_event(timeout)
        assert event is not None, f"no {kind.__name__} within {timeout} s"
        out.append(event)
        if isinstance(event, kind):
            return out


def test_live_changes_are_kept_newest_first_and_taken_once() -> None:
    class Sent:
        def send(self, event: Any) -> None:
            pass

    control = engine_worker._Control(Sent())  # type: ignore[arg-type]
    control.begin(p.Start(1, _config(), _data()))
    a, b = _config(learning_rate=0.1).train, _config(learning_rate=0.2).train
    control.apply(p.Tune(1, a))
    control.apply(p.Tune(1, b))
    assert control.take_tune(1) is b and control.take_tune(1) is None
    control.apply(p.Tune(2, a))  # a run the worker does not know: ignored
    assert control.take_tune(2) is None


def test_quick_start_tune_and_a_start_that_waits_paused() -> None:
    with TrainingSession() as session:
        cfg = _config(steps=200000, snapshot_every=50, steps_per_call=50)
        cfg.model.depth = 6  # not compiled in this worker yet
        session.start(cfg, _data(), quick_start=True)
        events = _events_until(session, p.Snapshots)
        assert any(isinstance(e, p.QuickStarted) for e in events)
        faster = cfg.train.__class__(**vars(cfg.train))
        faster.learning_rate = 0.3
        faster.stop_accuracy = 0.2  # any trained snapshot reaches it: the run ends
        session.tune(faster)
        events = _events_until(session, p.Finished)
        tuned = [e for e in events if isinstance(e, p.Tuned)]
        assert len(tuned) == 1 and tuned[0].step > 0
        assert tuned[0].changes["learning_rate"] == (0.01, 0.3)
        assert session.result is not None and session.result.status == "finished"
        assert "reached the target 20%" in session.result.message
        assert session.result.final.step >= tuned[0].step

        session.start(_config(), _data(), quick_start=True, paused=True)
        events = _events_until(session, p.Snapshots)
        assert [s.step for e in events if isinstance(e, p.Snapshots) for s in e.snapshots] == [0]
        assert session.next_event(0.5) is None or session.snapshots[-1].step == 0
        session.resume()
        _events_until(session, p.Finished)
        assert session.result is not None and session.result.final.step == 60


def test_the_session_keeps_the_snapshots_the_trainer_keeps() -> None:
    """Quick start sends one early preview snapshot off the snapshot grid; the trainer
    drops it at the next one, and so does the session (its list grew without bound and
    kept the preview)."""
    with TrainingSession() as session:
        cfg = _config(steps=2000, snapshot_every=1000, steps_per_call=50)
        cfg.model.depth = 40  # numpy's first call ends before step 1,000: a preview
        session.start(cfg, _data(), quick_start=True)
        events = _events_until(session, p.Finished)
        sent = [s.step for e in events if isinstance(e, p.Snapshots) for s in e.snapshots]
        assert any(0 < step < 1000 for step in sent)  # the preview came
        assert session.result is not None and session.result.status == "finished"
        assert [s.step for s in session.result.snapshots] == [0, 1000, 2000]


def test_a_step_with_quick_start_pauses_after_the_interval_not_at_the_preview() -> None:
    """Step trains one snapshot interval; quick start's early preview snapshot (a few
    dozen steps in) paused it there."""
    with TrainingSession() as session:
        cfg = _config(steps=4000, snapshot_every=1000, steps_per_call=50)
        cfg.model.depth = 41  # not compiled yet: numpy's first call gives a preview
        session.start(cfg, _data(), step_only=True, quick_start=True)
        paused = _events_until(session, p.RunState)[-1]
        assert paused.state == "paused" and paused.step == 1000
        session.cancel()
        _events_until(session, p.Finished)
