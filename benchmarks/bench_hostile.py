"""Hostile inputs: how long each takes to be answered, and how much memory it costs.

Each input goes through the real command (`nndyn info`, `render`, `train`, or load_csv)
in a child process with a timeout and an address-space limit, and the child's own peak
memory is read from wait4. The baseline, in the same run, is `nndyn info` of a valid
run: every hostile input should cost about the same (ratios near 1), never gigabytes or
a hang. `--code DIR` runs the children on another source tree (e.g. an older commit
unpacked with `git archive`), which is how docs/reliability.md's "was" figures were made.

Run: .venv/bin/python benchmarks/bench_hostile.py  (about a minute; prints one JSON line)
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import zipfile
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import numpy as np  # noqa: E402

from tests.reliability import PYTHON, run_measured, subprocess_env, tiny_run  # noqa: E402
from tests.reliability import hostile as h  # noqa: E402

TIMEOUT_S = 60.0
LIMIT_MB = 3072  # a regression fails here instead of taking the machine down
GB = 2**30


def _cases(folder: Path, csv_rows: int) -> dict[str, tuple[list[str], str]]:
    """name -> (argv after `python`, what the input is)."""
    valid = h.run_bytes(tiny_run(), folder)
    ok = folder / "valid.nndyn"
    ok.write_bytes(valid)

    huge = tiny_run(model__width=3)
    huge.dataset.x_test[:] = -1e308
    coords = folder / "huge-coords.nndyn"
    coords.write_bytes(
        h.with_member(
            h.run_bytes(tiny_run(model__width=3), folder),
            "data.npz",
            h.npz(
                {
                    "x_train": huge.dataset.x_train,
                    "y_train": huge.dataset.y_train,
                    "x_test": huge.dataset.x_test,
                    "y_test": huge.dataset.y_test,
                }
            ),
        )
    )
    bz2 = folder / "bz2-bomb.nndyn"
    bz2.write_bytes(h.bomb_run(valid, "status.json", 1 * GB, zipfile.ZIP_BZIP2, 200))
    deflate = folder / "deflate-bomb.nndyn"
    deflate.write_bytes(h.bomb_run(valid, "data.npz", 1 * GB, zipfile.ZIP_DEFLATED, 1 * GB))
    base = tiny_run()
    base.config.data.n = 100_000
    points = folder / "40M-points.nndyn"
    points.write_bytes(h.many_points_run(h.run_bytes(base, folder), 40_000_000))
    sparse = folder / "3GB.nndyn"
    with open(sparse, "wb") as f:
        f.truncate(3 * GB)
    fifo = folder / "fifo.nndyn"
    os.mkfifo(fifo)
    run = tiny_run()
    cfg = run.config.to_dict()
    cfg["data"].update(name="csv", csv_path="/dev/zero")
    evil = folder / "csv-dev-zero.nndyn"
    evil.write_bytes(h.with_member(valid, "config.json", json.dumps(cfg).encode()))
    csv = folder / "big.csv"
    rng = np.random.default_rng(0)
    with open(csv, "w") as f:
        f.write("x1,x2,label\n")
        for start in range(0, csv_rows, 1_000_000):
            k = min(1_000_000, csv_rows - start)
            x = rng.normal(size=(k, 2))
            np.savetxt(f, np.column_stack([x, x[:, 0] > 0]), fmt="%.6f,%.6f,%d")
    load_csv = "import sys; from nndyn_gui.core.datasets import load_csv; load_csv(sys.argv[1])"
    info = ["-m", "nndyn_gui.cli", "info"]
    return {
        "baseline: info of a valid run": ([*info, str(ok)], f"{ok.stat().st_size} B"),
        "info, x_test = -1e308": ([*info, str(coords)], "finite, overflows every mean"),
        "render, x_test = -1e308": (
            [
                "-m",
                "nndyn_gui.cli",
                "render",
                str(coords),
                "--out",
                str(folder / "x.png"),
                "-q",
                "--no-3d",
                "--force",
            ],
            "an SVD of -inf hung",
        ),
        "info, bzip2 bomb": ([*info, str(bz2)], f"{bz2.stat().st_size} B -> 1 GB, declares 200 B"),
        "info, deflate bomb in data.npz": (
            [*info, str(deflate)],
            f"{deflate.stat().st_size} B -> 1 GB",
        ),
        "info, 40 M points": ([*info, str(points)], f"{points.stat().st_size} B"),
        "info, 3 GB non-zip (sparse)": ([*info, str(sparse)], "3 GB"),
        "info /dev/zero": ([*info, "/dev/zero"], "device"),
        "info FIFO": ([*info, str(fifo)], "named pipe, no writer"),
        "train, csv_path=/dev/zero": (
            ["-m", "nndyn_gui.cli", "train", str(evil), "--quiet"],
            "run file",
        ),
        f"load_csv, {csv_rows:,} rows": (["-c", load_csv, str(csv)], f"{csv.stat().st_size} B"),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--code", default=str(REPO), help="source tree the children run")
    ap.add_argument("--csv-rows", type=int, default=2_000_000)
    ap.add_argument("--limit-mb", type=int, default=LIMIT_MB, help="address space per child")
    args = ap.parse_args()
    env = subprocess_env(PYTHONPATH=args.code, NNDYN_NO_AUTOSAVE="1")
    env.pop("DISPLAY", None)
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for name, (argv, what) in _cases(folder, args.csv_rows).items():
            r = run_measured(
                [PYTHON, *argv], TIMEOUT_S, env=env, memory_limit_mb=args.limit_mb, cwd=folder
            )
            lines = [x for x in r.stderr.splitlines() if x.strip()]
            results[name] = {
                "input": what,
                "rc": "timeout" if r.rc is None else r.rc,
                "seconds": round(r.seconds, 2),
                "peak_mb": round(r.peak_mb),
                "message": (lines[-1] if lines else "")[:160],
                "traceback": "Traceback" in r.stderr,
            }
    base = results["baseline: info of a valid run"]
    worst = max(v["peak_mb"] for v in results.values()) / max(1, base["peak_mb"])
    slowest = max(v["seconds"] for k, v in results.items() if "load_csv" not in k)
    ok = all(v["rc"] != "timeout" and not v["traceback"] for v in results.values()) and worst < 8.0
    print(
        json.dumps(
            {
                "code": args.code,
                "cases": results,
                "worst_peak_vs_baseline": round(worst, 2),
                "slowest_refusal_s": slowest,
                "pass": ok,
            }
        )
    )


if __name__ == "__main__":
    main()
