"""Does another array layout let the ensemble's step vectorise across members? (issue 26)

A stand-alone copy of the compiled step's core (not the program in core/train/program.py):
SGD steps with autodiff of the article's net (51 tanh blocks of width 3, chunks of 10
in a scan, batch 50, float64, one thread, XLA) for S = 1 and S = 8 members, points laid
out as

- `sdb`: (S, d, B), what core/train/program.py uses;
- `dsb`: (d, S, B), members and points one long axis for the elementwise parts;
- `dbs`: (d, B, S), members the minor (vectorised) axis;
- `soft`: `sdb` with x / (1 + |x|) for tanh (a diagnostic: is tanh the cost?).

Prints CPU microseconds per step (best of 3 rounds of 1,000 steps) and the member-steps
ratio 8 t(1) / t(8) (what an ensemble of 8 gains per member over 8 runs of one).

Run: .venv/bin/python benchmarks/bench_ensemble_layouts.py sdb|dsb|dbs|soft
"""

from __future__ import annotations

import json
import os
import sys
import time
from typing import Any

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np
import tensorflow as tf

tf.config.threading.set_intra_op_parallelism_threads(1)
tf.config.threading.set_inter_op_parallelism_threads(1)
T, D, B, H, CHUNK, LR = 51, 3, 50, 0.05, 10, 0.05
CALL = 200


def block(layout: str, x: Any, ak: Any, bk: Any) -> Any:
    """x + h s(A x + b) for every member in `layout`; ak (S, d, d), bk (S, d)."""
    if layout in ("sdb", "soft"):
        z = tf.reduce_sum(ak[..., None] * x[:, None], axis=2) + bk[..., None]
        s = z / (1.0 + tf.abs(z)) if layout == "soft" else tf.tanh(z)
        return x + H * s
    at = tf.transpose(ak, (1, 2, 0))  # (p, q, S)
    if layout == "dbs":
        z = tf.reduce_sum(at[:, :, None, :] * x[None], axis=1) + tf.transpose(bk)[:, None, :]
    else:  # dsb
        z = tf.reduce_sum(at[..., None] * x[None], axis=1) + tf.transpose(bk)[..., None]
    return x + H * tf.tanh(z)


def trunk(layout: str, a: Any, b: Any, x: Any) -> Any:
    n = T // CHUNK
    a_ch = tf.transpose(tf.reshape(a[:, : n * CHUNK], (-1, n, CHUNK, D, D)), (1, 2, 0, 3, 4))
    b_ch = tf.transpose(tf.reshape(b[:, : n * CHUNK], (-1, n, CHUNK, D)), (1, 2, 0, 3))

    def chunk(xc: Any, ab: Any) -> Any:
        for j in range(CHUNK):
            xc = block(layout, xc, ab[0][j], ab[1][j])
        return xc

    x = tf.scan(chunk, (a_ch, b_ch), initializer=x)[-1]
    for k in range(n * CHUNK, T):
        x = block(layout, x, a[:, k], b[:, k])
    return x


def loss(layout: str, a: Any, b: Any, w: Any, x: Any, y: Any) -> Any:
    xt = trunk(layout, a, b, x)
    if layout in ("sdb", "soft"):
        logit = tf.reduce_sum(w[..., None] * xt, axis=1)
    elif layout == "dbs":
        logit = tf.transpose(tf.reduce_sum(tf.transpose(w)[:, None, :] * xt, axis=0))
    else:
        logit = tf.reduce_sum(tf.transpose(w)[..., None] * xt, axis=0)
    ce = tf.nn.sigmoid_cross_entropy_with_logits(labels=y, logits=logit)
    return tf.reduce_sum(tf.reduce_mean(ce, -1))


def main() -> None:
    layout = sys.argv[1] if len(sys.argv) > 1 else "sdb"

    @tf.function(jit_compile=True)
    def steps(a: Any, b: Any, w: Any, x: Any, y: Any) -> Any:
        def body(i: Any, a: Any, b: Any, w: Any) -> Any:
            with tf.GradientTape() as tape:
                tape.watch([a, b, w])
                value = loss(layout, a, b, w, x + tf.cast(i, tf.float64) * 1e-9, y)
            ga, gb, gw = tape.gradient(value, [a, b, w])
            return i + 1, a - LR * ga, b - LR * gb, w - LR * gw

        return tf.while_loop(lambda i, *_: i < CALL, body, (0, a, b, w))[1:]

    out: dict[str, Any] = {"layout": layout}
    rng = np.random.default_rng(0)
    for size in (1, 8):
        a = tf.constant(rng.normal(size=(size, T, D, D)) * 0.3)
        b = tf.constant(rng.normal(size=(size, T, D)) * 0.1)
        w = tf.constant(rng.normal(size=(size, D)))
        xn = rng.normal(size=(size, D, B))
        order = {"sdb": (0, 1, 2), "soft": (0, 1, 2), "dsb": (1, 0, 2), "dbs": (1, 2, 0)}[layout]
        x = tf.constant(np.ascontiguousarray(np.transpose(xn, order)))
        y = tf.constant(rng.integers(0, 2, size=(size, B)).astype(np.float64))
        t0 = time.perf_counter()
        steps(a, b, w, x, y)
        out[f"compile_{size}_s"] = round(time.perf_counter() - t0, 1)
        best = float("inf")
        for _ in range(3):
            c0 = time.process_time()
            for _ in range(5):
                steps(a, b, w, x, y)
            best = min(best, (time.process_time() - c0) / (5 * CALL) * 1e6)
        out[f"s{size}_cpu_us_per_step"] = round(best, 1)
    out["member_steps_ratio"] = round(8 * out["s1_cpu_us_per_step"] / out["s8_cpu_us_per_step"], 2)
    out["load_avg_1m"] = os.getloadavg()[0]
    print(json.dumps(out))


if __name__ == "__main__":
    main()
