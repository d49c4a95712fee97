"""What does training in a worker process cost? Speed and snapshot streaming, same run.

Training moved into the engine's worker process (core/engine/session.py) so the window never
loads TensorFlow. This measures, against the in-process `Trainer` in the same run:
- steps/s of bench_train's net (10 blocks of width 3, full batch, 1,000 points) through
  a `TrainingSession` (the worker streams a snapshot every 50 steps);
- the streaming overhead per snapshot: the same runs with a snapshot every 10 steps,
  extra wall time per snapshot, for a small, a deep (100 x 3) and a wide (200 x 64,
  6.6 MB of weights per snapshot) net;
- a snapshot's round trip alone (pickle + pipe + unpickle) for each net.

Each timing is the fastest of REPEATS alternating runs (the machines are shared).
Run: .venv/bin/python benchmarks/bench_engine.py  (a few minutes). Prints one JSON object.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import pickle
import threading
import time
from typing import Any

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


from bench_train import ring_dataset  # the same 1,000 ring points as bench_train

from nndyn_gui.core.config import RunConfig
from nndyn_gui.core.net.initial_weights import initial_weights
from nndyn_gui.core.types import Dataset, Snapshot

MAX_OVERHEAD_MS = 5.0  # per snapshot, for the nets the presets use
MIN_SPEED_RATIO = 0.8  # engine steps/s over in-process steps/s
REPEATS = 3


def nets() -> dict[str, RunConfig]:
    small = RunConfig()  # bench_train's: 10 blocks of width 3
    small.train.steps, small.train.snapshot_every, small.train.steps_per_call = 3000, 50, 50
    deep = RunConfig()
    deep.model.depth, deep.model.h = 100, 0.025
    deep.train.batch_size = 50
    deep.train.steps, deep.train.snapshot_every, deep.train.steps_per_call = 2000, 40, 40
    wide = RunConfig()
    wide.model.width, wide.model.depth, wide.model.h = 64, 200, 0.01
    wide.train.batch_size = 50
    wide.train.steps, wide.train.snapshot_every, wide.train.steps_per_call = 200, 10, 10
    return {"small_10x3": small, "deep_100x3": deep, "wide_200x64": wide}


def dense(cfg: RunConfig, every: int) -> RunConfig:
    """The same run with a snapshot every `every` steps."""
    out = cfg.copy()
    out.train.snapshot_every = out.train.steps_per_call = every
    return out.validate()


def in_process(cfg: RunConfig, ds: Dataset) -> tuple[float, int]:
    """(seconds, snapshots) of Trainer.run (compile cached by a warm-up run)."""
    from nndyn_gui.core.train.trainer import Trainer

    warm = cfg.copy()
    warm.train.steps = warm.train.snapshot_every
    Trainer(warm, ds).run()
    t = Trainer(cfg, ds)
    t.warmup()
    t0 = time.perf_counter()
    res = t.run()
    assert res.status == "finished", res.message
    return time.perf_counter() - t0, len(res.snapshots)


def through_engine(session: Any, cfg: RunConfig, ds: Dataset) -> tuple[float, int]:
    """(seconds from Start to Finished, snapshots received) after a warm-up run."""
    from nndyn_gui.core.engine import protocol as p

    def run(c: RunConfig) -> tuple[float, int]:
        t0 = time.perf_counter()
        session.start(c, ds)
        while not isinstance(session.next_event(5.0), p.Finished):
            pass
        dt = time.perf_counter() - t0
        assert session.result.status == "finished", session.result.message
        return dt, len(session.result.snapshots)

    warm = cfg.copy()
    warm.train.steps = warm.train.snapshot_every
    run(warm)
    return run(cfg)


def round_trip_ms(cfg: RunConfig, repeats: int = 50) -> float:
    """ms per snapshot to pickle it, send it through a pipe and unpickle it (a sender
    thread on one end, like the worker's, this thread reading on the other)."""
    a, b = multiprocessing.Pipe(duplex=False)
    w = initial_weights(cfg.model, 0)
    snap = Snapshot(100, 0.5, 0.9, 0.9, w, 1.0, 100.0)
    sender = threading.Thread(target=lambda: [b.send([snap]) for _ in range(repeats)])
    t0 = time.perf_counter()
    sender.start()
    for _ in range(repeats):
        a.recv()
    sender.join()
    return (time.perf_counter() - t0) * 1e3 / repeats


def fastest(
    session: Any, cfg: RunConfig, ds: Dataset
) -> tuple[tuple[float, int], tuple[float, int]]:
    """The fastest of REPEATS alternating (in-process, engine) runs of `cfg`."""
    ins, ens = [], []
    for _ in range(REPEATS):
        ins.append(in_process(cfg, ds))
        ens.append(through_engine(session, cfg, ds))
    return min(ins), min(ens)


def main() -> None:
    from nndyn_gui.core.engine.session import TrainingSession

    ds = ring_dataset(1000)
    out: dict[str, Any] = {}
    with TrainingSession() as session:
        session.start_worker()
        base = nets()["small_10x3"]
        (t_in, _), (t_en, _) = fastest(session, base, ds)
        out["inprocess_steps_per_s"] = round(base.train.steps / t_in, 1)
        out["engine_steps_per_s"] = round(base.train.steps / t_en, 1)
        out["speed_ratio"] = round(t_in / t_en, 3)
        per: dict[str, Any] = {}
        for name, cfg in nets().items():
            every = 10 if name != "wide_200x64" else 5
            d = dense(cfg, every)
            (t_in, n_in), (t_en, n_en) = fastest(session, d, ds)
            assert n_en == n_in, (n_en, n_in)  # streaming loses no snapshot
            per[name] = {
                "snapshots": n_en,
                "snapshot_kb": round(len(pickle.dumps(initial_weights(d.model, 0))) / 1024, 1),
                "inprocess_s": round(t_in, 3),
                "engine_s": round(t_en, 3),
                "overhead_ms_per_snapshot": round(1e3 * (t_en - t_in) / n_en, 3),
                "round_trip_ms": round(round_trip_ms(d), 3),
            }
        out["streaming"] = per
    worst = max(v["overhead_ms_per_snapshot"] for k, v in per.items() if k != "wide_200x64")
    out["max_overhead_ms"] = MAX_OVERHEAD_MS
    out["min_speed_ratio"] = MIN_SPEED_RATIO
    out["pass"] = bool(worst < MAX_OVERHEAD_MS and out["speed_ratio"] >= MIN_SPEED_RATIO)
    print(json.dumps(out))


if __name__ == "__main__":  # the worker process re-imports this file: no work at import
    main()
