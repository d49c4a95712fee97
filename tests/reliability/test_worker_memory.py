"""A long session's memory (issue 25, item 14): the training worker grew ~20 MB per new
structure and never levelled off (671 MB -> 1.3 GB over 30 depths). A worker that grew
past its allowance is now replaced between runs, without a run ever waiting for it."""

from __future__ import annotations

import time

import pytest

from nndyn_gui.core.engine import session as engine
from nndyn_gui.core.engine.session import TrainingSession, resident_bytes, train

from . import tiny_config, tiny_dataset

MB = 2**20
ALLOWANCE = 100 * MB  # smaller than the app's, so these configs cross it
NOISE = 200 * MB  # one run's growth and the allocator's ups and downs
#: New structures: a worker never replaced would grow ~380 MB over them (> ALLOWANCE +
#: NOISE; ~12 MB per second of compiling, whatever the depths). The first worker is
#: replaced after depth 20; its successor's first run (its baseline) is shallow, as the
#: first worker's was. (Depths 2, 5, ..., 35 took twice as long: 875 MB.)
DEPTHS = (2, 14, 20, 5, 26, 32)


@pytest.mark.slow
def test_worker_memory_stays_bounded_across_new_configs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(engine, "WORKER_RSS_GROWTH_BYTES", ALLOWANCE)
    session = TrainingSession()
    data = tiny_dataset(60)
    seen: list[tuple[int, int]] = []  # (pid, resident bytes) after each run
    try:
        for depth in DEPTHS:
            cfg = tiny_config(model__depth=depth, train__steps=40)
            result = train(cfg, data, session=session)
            assert result.status == "finished", result.message
            rss = resident_bytes(session.worker_pid)
            assert rss is not None
            seen.append((session.worker_pid, rss))
            succ = session._successor
            deadline = time.monotonic() + 60  # as a person looks at the result
            while succ is not None and not succ.poll_ready() and time.monotonic() < deadline:
                time.sleep(0.2)
        # shutdown switches to a successor that is ready (to keep the fresh one as the
        # spare): that switch ran no run, so count the replacements the runs saw
        recycled = session.recycled
    finally:
        session.shutdown(keep_warm=False)
    first = seen[0][1]
    worst = max(r for _, r in seen)
    detail = [(pid, r // MB) for pid, r in seen]
    assert recycled >= 1, detail
    assert worst < first + ALLOWANCE + NOISE, detail
    assert len({pid for pid, _ in seen}) == recycled + 1, detail
