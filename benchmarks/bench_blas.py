"""numpy's BLAS threads (core/io/blas.py): push the density sample of the 51-block
width-3 preset through every layer with one BLAS thread and with OpenBLAS's default,
each in a fresh process, the two alternating; prints JSON (medians, ratio).

    .venv/bin/python benchmarks/bench_blas.py [--repeats 3]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys

CHILD = """
import time
from nndyn_gui.core.analysis import density
from nndyn_gui.core.io.presets import start_config
from nndyn_gui.core.net.initial_weights import initial_weights
cfg = start_config(preset="resnet-w3-ring")
w = initial_weights(cfg.model, cfg.train.seed, cfg.data.classes)
pop = density.fresh_points(cfg)
best = []
for _ in range(3):
    t0 = time.perf_counter()
    for _x in density.frames(cfg.model, w, pop.x, False):
        pass
    best.append(time.perf_counter() - t0)
print(min(best))
"""


def _run(threads: str | None) -> float:
    env = {k: v for k, v in os.environ.items() if not k.endswith("_NUM_THREADS")}
    if threads is not None:
        env["OPENBLAS_NUM_THREADS"] = threads
    out = subprocess.run(
        [sys.executable, "-c", CHILD], env=env, capture_output=True, text=True, check=True
    )
    return float(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    one, default = [], []
    for _ in range(args.repeats):
        one.append(_run("1"))
        default.append(_run(None))
    m1, md = statistics.median(one), statistics.median(default)
    print(
        json.dumps(
            {
                "what": "density sample (2 x 50,000 points) through resnet-w3-ring's 51 blocks",
                "one_thread_s": round(m1, 3),
                "default_threads_s": round(md, 3),
                "ratio": round(md / m1, 2),
                "cpus": os.cpu_count(),
                "load_avg_1m": os.getloadavg()[0],
            }
        )
    )


if __name__ == "__main__":
    main()
