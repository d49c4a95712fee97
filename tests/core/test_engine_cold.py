"""Train right after launch: the worker trains with numpy while TensorFlow still loads.

The worker loads TensorFlow on a thread of its own (core/engine/worker.py); these tests
make that load take TENSORFLOW_DELAY_S longer (tests/engine_faults.py), so that what
happens "before TensorFlow has loaded" happens then on every machine.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import pytest

from nndyn_gui.core.engine import protocol as p
from nndyn_gui.core.engine.session import TrainingSession

from .engine_helpers import disk_data, engine_config

FIRST_FRAME_S = 0.5  # issue 21: a trained frame within half a second, also after launch


def _slow_session() -> TrainingSession:
    from engine_faults import tensorflow_slow

    return TrainingSession(initializer=tensorflow_slow)  # a fresh worker (no spare)


def _events_until(session: TrainingSession, done: Any, timeout: float = 120.0) -> list[Any]:
    """Events up to and including the first for which `done(event)` is true."""
    out = []
    deadline = time.monotonic() + timeout
    while True:
        event = session.next_event(max(0.0, deadline - time.monotonic()))
        assert event is not None, f"nothing awaited within {timeout} s"
        out.append(event)
        if done(event):
            return out


def _trained(event: Any) -> bool:
    return isinstance(event, p.Snapshots) and any(s.step > 0 for s in event.snapshots)


def _paused_or_over(event: Any) -> bool:
    return isinstance(event, p.Finished) or (
        isinstance(event, p.RunState) and event.state == "paused"
    )


def _worker_serving(session: TrainingSession) -> None:
    """Wait until the fresh worker's main thread takes runs (a paused run's step 0)."""
    session.start(engine_config(), disk_data(), quick_start=True, paused=True)
    _events_until(session, lambda e: isinstance(e, p.Snapshots))
    session.cancel()
    _events_until(session, lambda e: isinstance(e, p.Finished))


@pytest.mark.timing
def test_the_first_trained_frame_comes_at_once_while_tensorflow_still_loads() -> None:
    cfg = engine_config(steps=10**6, snapshot_every=50, steps_per_call=50)
    cfg.model.depth = 6
    with _slow_session() as session:
        session.start_worker()
        _worker_serving(session)
        t0 = time.perf_counter()
        session.start(cfg, disk_data(), quick_start=True)
        events = _events_until(session, _trained)
        seconds = time.perf_counter() - t0
        assert session.ready is None, "TensorFlow had loaded: this is not the cold case"
        assert any(isinstance(e, p.QuickStarted) for e in events)
        assert seconds < FIRST_FRAME_S, f"first trained snapshot after {seconds:.2f} s"
        # then TensorFlow loads and the compiled step takes over from the numpy steps
        events = _events_until(session, lambda e: isinstance(e, p.Compiled), timeout=180.0)
        assert session.ready is not None and not session.ready.error
        assert events[-1].step > 0
        assert all(not isinstance(e, p.Failed | p.Finished) for e in events)
        session.cancel()
        _events_until(session, lambda e: isinstance(e, p.Finished))
        assert session.result is not None and session.result.status == "cancelled"


def test_a_run_begun_before_tensorflow_loaded_goes_on_compiled_from_its_numpy_state() -> None:
    """What holds: steps 0..N are the numpy stepper's (core/train/quickstep.py), the
    compiled step continues from exactly their float64 weights and Adam state at N, on
    the same mini-batch stream, as in any quick start; so the run agrees with one
    compiled from step 0 to rounding (not bit for bit: numpy and XLA add in other
    orders)."""
    cfg = engine_config(steps=2000, snapshot_every=10, steps_per_call=10, batch_size=32)
    data = disk_data()
    with _slow_session() as session:
        session.start(cfg, data, quick_start=True, paused=True)
        _events_until(session, lambda e: isinstance(e, p.Snapshots))
        session.step()  # steps 0 -> 10 with numpy, TensorFlow still loading
        _events_until(session, lambda e: isinstance(e, p.RunState) and e.state == "paused")
        assert session.ready is None and session.snapshots[-1].step == 10
        _events_until(session, lambda e: isinstance(e, p.Ready), timeout=180.0)
        compiled: list[p.Compiled] = []
        deadline = time.monotonic() + 180.0
        while not compiled and time.monotonic() < deadline:  # a step at a time until
            session.step()  # the compiled step (built once TensorFlow loaded) takes over
            events = _events_until(session, _paused_or_over)
            assert not isinstance(events[-1], p.Finished), "numpy trained it all: no hand-over"
            compiled = [e for e in events if isinstance(e, p.Compiled)]
            if not compiled:
                time.sleep(0.3)
        assert compiled and 10 <= compiled[0].step < cfg.train.steps
        session.resume()
        _events_until(session, lambda e: isinstance(e, p.Finished))
        cold = session.result
        session.start(cfg, data)  # the command line's way: compiled from step 0
        _events_until(session, lambda e: isinstance(e, p.Finished))
        warm = session.result
    assert cold is not None and warm is not None
    assert cold.status == warm.status == "finished"
    assert [s.step for s in cold.snapshots][-1] == warm.final.step == cfg.train.steps
    a, b = cold.final.weights, warm.final.weights
    for x, y in ((a.A, b.A), (a.b, b.b), (a.w, b.w), (a.c, b.c)):
        np.testing.assert_allclose(np.asarray(x), np.asarray(y), rtol=1e-8, atol=1e-10)
    assert abs(cold.final.loss - warm.final.loss) < 1e-9 * max(1.0, warm.final.loss)
