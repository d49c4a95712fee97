"""Many runs at once (issue 26): an ensemble of 8 vs 8 runs one after the other, one run vs
the seed's Keras `fit`, and `nndyn verify` of every preset over 8 seeds.

All on the article's net (the `resnet-w3-ring` preset: 51 blocks of width 3, h 0.05,
SGD lr 0.05, batch 50, 1,000 ring points of which 800 train), in ONE run of this script:

- `keras_fit_steps_per_s`: the seed's way, `model.fit(x, y, epochs=E, batch_size=50)`
  (Keras' own compiled train step, one call for all epochs; float32, Keras' default).
- `single_steps_per_s`: one `Trainer` run with the preset's snapshots (every 200 steps),
  compiled before the timing; `single_vs_keras` the ratio (target >= 30).
- `sequential_8_member_steps_per_s`: seeds 0..7 trained one after the other (the
  compiled step shared); `ensemble_8_member_steps_per_s`: the same 8 runs as one
  `Ensemble`; `ensemble_vs_sequential` the ratio (target >= 5).
- `solo_vs_member_max_difference`: the largest |difference| of a final weight between
  each seed's solo run and its ensemble member.
- with `--verify`: seconds of `nndyn verify --jobs 2` over all presets and seeds 0-7 for
  this tree and for `--before DIR` (another source tree, e.g. the main checkout before
  this change) (target <= 180 s).

Times are wall clock, and CPU time of this process next to them (the machine is shared:
the CPU-time ratios swing less with other jobs' load).

Run: .venv/bin/python benchmarks/bench_ensemble.py [--steps 4000] [--verify --before DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np

from nndyn_gui.core.config import RunConfig
from nndyn_gui.core.datasets import make_dataset
from nndyn_gui.core.io.presets import load_preset
from nndyn_gui.core.types import Dataset

PRESET = "resnet-w3-ring"
MEMBERS = 8
TARGET_ENSEMBLE = 5.0
TARGET_SINGLE_VS_KERAS = 30.0
TARGET_VERIFY_S = 180.0
ROOT = Path(__file__).resolve().parents[1]


def article(steps: int) -> tuple[RunConfig, Dataset]:
    cfg = load_preset(PRESET)
    cfg.train.steps = steps
    return cfg.validate(), make_dataset(cfg.data)


def timed(fn: Any) -> tuple[Any, float, float]:
    t0, c0 = time.perf_counter(), time.process_time()
    out = fn()
    return out, time.perf_counter() - t0, time.process_time() - c0


def bench_keras(cfg: RunConfig, ds: Dataset, epochs: int) -> tuple[float, float]:
    """(steps/s wall, steps/s CPU) of `model.fit(epochs=...)` on the article's net."""
    import keras

    from nndyn_gui.core.net import flow
    from nndyn_gui.core.net.initial_weights import initial_weights

    m, d = cfg.model, cfg.model.width
    w0 = initial_weights(m, cfg.train.seed)

    class Residual(keras.layers.Layer):
        def __init__(self, a: np.ndarray, b: np.ndarray) -> None:
            super().__init__()
            self.a0, self.b0 = a, b

        def build(self, input_shape: tuple[int, ...]) -> None:
            self.A = self.add_weight(shape=(d, d), initializer=keras.initializers.Constant(self.a0))
            self.b = self.add_weight(shape=(d,), initializer=keras.initializers.Constant(self.b0))

        def call(self, x: Any) -> Any:
            z = keras.ops.matmul(x, keras.ops.transpose(self.A)) + self.b
            return x + m.h * keras.ops.tanh(z)

    inp = keras.Input((d,))
    x = inp
    for k in range(m.depth):
        x = Residual(w0.A[k], w0.b[k])(x)
    model = keras.Model(inp, keras.layers.Dense(1)(x))
    model.compile(
        keras.optimizers.SGD(cfg.train.learning_rate),
        keras.losses.BinaryCrossentropy(from_logits=True),
    )
    xs = flow.embed(ds.x_train, d).astype("float32")
    ys = ds.y_train.astype("float32")
    batch = cfg.train.batch_size
    model.fit(xs, ys, epochs=2, batch_size=batch, verbose=0)  # trace and compile
    steps = epochs * -(-len(ys) // batch)
    _, wall, cpu = timed(lambda: model.fit(xs, ys, epochs=epochs, batch_size=batch, verbose=0))
    return steps / wall, steps / cpu


def bench_training(steps: int) -> dict[str, Any]:
    from nndyn_gui.core.train.ensemble import Ensemble
    from nndyn_gui.core.train.trainer import Trainer

    cfg, ds = article(steps)
    configs = []
    for s in range(MEMBERS):
        c = cfg.copy()
        c.train.seed = s
        configs.append(c)
    t0 = time.perf_counter()
    Trainer(cfg, ds).warmup()
    compile_single = time.perf_counter() - t0
    ens = Ensemble(configs, ds)
    compile_ens = ens.prepare()

    single, wall1, cpu1 = timed(lambda: Trainer(cfg, ds).run())
    solo, wall_seq, cpu_seq = timed(lambda: [Trainer(c, ds).run() for c in configs])
    members, wall_ens, cpu_ens = timed(ens.run)
    assert single.status == "finished" and all(r.status == "finished" for r in members)
    diff = 0.0
    for a, b in zip(solo, members, strict=True):
        wa, wb = a.final.weights, b.final.weights
        for x, y in ((wa.A, wb.A), (wa.b, wb.b), (wa.w, wb.w), (wa.c, wb.c)):
            diff = max(diff, float(np.max(np.abs(np.asarray(x) - np.asarray(y)))))
    total = MEMBERS * steps
    epochs = max(2, steps // 16 // 2)  # about half as many Keras steps: it is slow
    keras_wall, keras_cpu = bench_keras(cfg, ds, epochs)
    return {
        "net": f"{PRESET}: {cfg.model.depth} blocks, width {cfg.model.width}, "
        f"{cfg.train.optimizer} batch {cfg.train.batch_size}",
        "steps_per_run": steps,
        "keras_fit_steps_per_s": round(keras_wall, 1),
        "keras_fit_steps_per_cpu_s": round(keras_cpu, 1),
        "single_steps_per_s": round(steps / wall1, 1),
        "single_steps_per_cpu_s": round(steps / cpu1, 1),
        "single_vs_keras": round(steps / wall1 / keras_wall, 1),
        "single_vs_keras_cpu": round(steps / cpu1 / keras_cpu, 1),
        "sequential_8_member_steps_per_s": round(total / wall_seq, 1),
        "ensemble_8_member_steps_per_s": round(total / wall_ens, 1),
        "ensemble_vs_sequential": round(wall_seq / wall_ens, 2),
        "ensemble_vs_sequential_cpu": round(cpu_seq / cpu_ens, 2),
        "solo_vs_member_max_difference": diff,
        "compile_single_s": round(compile_single, 2),
        "compile_ensemble_s": round(compile_ens, 2),
    }


def bench_verify(tree: Path) -> float:
    """Seconds of `nndyn verify --jobs 2` (all presets, seeds 0-7) with `tree`'s code."""
    env = dict(os.environ, PYTHONPATH=str(tree))
    cmd = [sys.executable, "-m", "nndyn_gui.cli", "verify", "--jobs", "2", "--json"]
    t0 = time.perf_counter()
    subprocess.run(cmd, env=env, cwd=tree, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=4000)
    ap.add_argument("--verify", action="store_true")
    ap.add_argument("--before", type=Path, default=None, help="source tree of the code before")
    args = ap.parse_args()
    out = bench_training(args.steps)
    if args.verify:
        out["verify_s"] = round(bench_verify(ROOT), 1)
        if args.before is not None:
            out["verify_before_s"] = round(bench_verify(args.before), 1)
        out["verify_target_s"] = TARGET_VERIFY_S
    out["cpus"] = os.cpu_count()
    out["load_avg_1m"] = os.getloadavg()[0]
    out["pass"] = bool(
        out["ensemble_vs_sequential"] >= TARGET_ENSEMBLE
        and out["single_vs_keras"] >= TARGET_SINGLE_VS_KERAS
        and out.get("verify_s", 0.0) <= TARGET_VERIFY_S
    )
    print(json.dumps(out))


if __name__ == "__main__":
    main()
