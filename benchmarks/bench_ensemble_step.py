"""The compiled step alone: member-steps per second of S = 1 vs S = 8 on the article's net.

Why apart from bench_ensemble.py: that one times whole runs (snapshots, Keras, verify);
this one times only the fused call of `program.MemberSteps` (200 steps a call, no
snapshots), S = 1 and S = 8 alternately in one process, so an idea for the compiled
program (a layout, a hand-written backward pass, an XLA flag, threads) shows its effect
on the ensemble's ratio within a minute. The best of `--reps` rounds counts (the
machine is shared); CPU time is printed next to wall time.

Run: .venv/bin/python benchmarks/bench_ensemble_step.py [--steps 2000] [--reps 3]
(XLA_FLAGS=... or TF_NUM_INTRAOP_THREADS=2 in the environment to try those.)
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np

from benchmarks.bench_ensemble import MEMBERS, article
from nndyn_gui.core.train.ensemble import Ensemble

CALL = 200  # steps per fused call, as the ensemble's run loop (ensemble.CALL_STEPS)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=2000)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--sizes", default=f"1,{MEMBERS}", help="ensemble sizes (1 and 8 needed)")
    args = ap.parse_args()
    cfg, ds = article(args.steps)
    sizes = tuple(int(v) for v in args.sizes.split(","))
    out: dict[str, float] = {}
    ensembles = {}
    for size in sizes:
        configs = []
        for seed in range(size):
            c = cfg.copy()
            c.train.seed = seed
            configs.append(c)
        ensembles[size] = Ensemble(configs, ds)
        out[f"compile_{size}_s"] = round(ensembles[size].prepare(), 2)
    best = {size: (0.0, 0.0) for size in sizes}
    n_train = ds.x_train.shape[0]
    batch = cfg.train.batch_size
    for rep in range(args.reps):
        for size in sizes:
            ens = ensembles[size]
            steps = ens._steps
            assert steps is not None
            rng = np.random.default_rng(rep)
            rows = rng.integers(0, n_train, size=(size, CALL, batch)).astype(np.int32)
            want = np.full(size, CALL)
            t0, c0 = time.perf_counter(), time.process_time()
            for _ in range(args.steps // CALL):
                steps.fused(rows, want, ens._hypers)
            wall, cpu = time.perf_counter() - t0, time.process_time() - c0
            done = size * (args.steps // CALL) * CALL
            w, c = best[size]
            best[size] = (max(w, done / wall), max(c, done / cpu))
    for size in sizes:
        out[f"s{size}_member_steps_per_s"] = round(best[size][0])
        out[f"s{size}_member_steps_per_cpu_s"] = round(best[size][1])
    # time per step = a + b S: a the part every call pays once, b the part per member
    s_arr = np.array(sizes, dtype=float)
    t_step = np.array([size / best[size][1] for size in sizes]) * 1e6  # CPU us per step
    b, a = np.polyfit(s_arr, t_step, 1)
    out["fit_cpu_us_per_step_fixed"] = round(float(a), 1)
    out["fit_cpu_us_per_step_per_member"] = round(float(b), 1)
    out["ratio"] = round(best[MEMBERS][0] / best[1][0], 2)
    out["ratio_cpu"] = round(best[MEMBERS][1] / best[1][1], 2)
    out["intra_op_threads"] = os.environ.get("TF_NUM_INTRAOP_THREADS", "1")
    out["xla_flags"] = os.environ.get("XLA_FLAGS", "")
    out["load_avg_1m"] = os.getloadavg()[0]
    print(json.dumps(out))


if __name__ == "__main__":
    main()
