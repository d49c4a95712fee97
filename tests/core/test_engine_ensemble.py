"""An ensemble trained through the engine: the worker trains S members of one shape
together and hands each its own result (its solo run's, checked in test_ensemble.py)."""

from __future__ import annotations

from typing import Any

from nndyn_gui.core.engine import protocol as p
from nndyn_gui.core.engine.session import TrainingSession
from nndyn_gui.core.engine.worker import ensemble_end
from nndyn_gui.core.types import TrainResult

from .engine_helpers import disk_data, engine_config


def _seeded(n: int) -> list[Any]:
    out = []
    for i in range(n):
        cfg = engine_config()
        cfg.train.seed = 5 + i
        out.append(cfg)
    return out


def _events_until_end(session: TrainingSession, timeout: float = 120.0) -> list[Any]:
    seen: list[Any] = []
    while True:
        event = session.next_event(timeout)
        assert event is not None, f"the ensemble did not end within {timeout} s"
        seen.append(event)
        if isinstance(event, p.RUN_ENDS):
            return seen


def test_an_ensemble_streams_progress_and_gives_each_member_its_run() -> None:
    """Three seeds: progress rises to every step, then one result per member (in order,
    trained to the last step, different weights), then Finished counting them."""
    with TrainingSession() as session:
        configs = _seeded(3)
        session.start_ensemble(configs, disk_data())
        events = _events_until_end(session)
    kinds = [type(e) for e in events]
    assert p.Compiled in kinds and p.EnsembleResults in kinds
    assert kinds.index(p.EnsembleResults) == len(kinds) - 2  # just before its end
    progress = [e for e in events if isinstance(e, p.EnsembleProgress)]
    assert progress and progress[-1].steps == (60, 60, 60) and progress[-1].share == 1.0
    end = events[-1]
    assert isinstance(end, p.Finished) and end.status == "finished"
    assert end.message == "3 members: 3 finished."
    results = session.ensemble
    assert results is not None and len(results) == 3
    assert all(r.status == "finished" and r.final.step == 60 for r in results)
    assert [s.step for s in results[0].snapshots] == [0, 20, 40, 60]
    a0, a1 = results[0].final.weights.A, results[1].final.weights.A
    assert abs(a0 - a1).max() > 1e-3  # other seeds, other nets
    assert "tensorflow" in results[0].versions


def test_a_cancelled_ensemble_keeps_what_each_member_trained() -> None:
    with TrainingSession() as session:
        configs = _seeded(2)
        for c in configs:
            c.train.steps = 200_000
        session.start_ensemble(configs, disk_data())
        while not isinstance(session.next_event(60.0), p.EnsembleProgress):
            pass
        session.cancel()
        events = _events_until_end(session)
    assert isinstance(events[-1], p.Finished) and events[-1].status == "cancelled"
    results = session.ensemble
    assert results is not None and all(r.status == "cancelled" for r in results)
    assert all(r.final.step > 0 and r.message.startswith("Cancelled at step") for r in results)


def test_the_ensemble_status_counts_its_members() -> None:
    done, bad = TrainResult("finished", []), TrainResult("diverged", [])
    assert ensemble_end([done, bad]) == ("finished", "2 members: 1 finished, 1 diverged.")
    assert ensemble_end([bad, bad])[0] == "diverged"
    assert ensemble_end([done, TrainResult("cancelled", [])])[0] == "cancelled"
