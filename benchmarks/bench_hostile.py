"""Hostile inputs: how long each takes to be answered, and how much memory it costs.

Each input goes through the real command (`nndyn info`, `render`, `train`, or load_csv)
in a child process with a timeout and an address-space limit, and the child's own peak
memory is read from wait4. The baseline, in the same run, is `nndyn info` of a valid
run: every hostile input should cost about the same (ratios near 1), never gigabytes or
a hang. `--code DIR` runs the children on another source tree (e.g. an older commit
unpacked with `git archive`), which is how docs/reliability.md's "was" figures were made.

Run: .venv/bin/python benchmarks/bench_hostile.py  (about a minute; prints one JSON line)
`--only "files:"` runs the cases whose name starts so (round 3's files, exports and
memory: full disks need root to mount a small tmpfs; they are skipped otherwise).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import stat
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable, Iterator
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


# ---------------------------------------------------------------------- round 3 (issue 25)
Case = tuple[list[str], str, dict[str, str], Callable[[], bool] | None]
FREE_BYTES = 12 * 1024  # what the full disk had left
_MOUNTS: list[Path] = []


def _full_tmpfs(folder: Path, setup: list[str], env: dict[str, str]) -> Path | None:
    """A 1 MB tmpfs at `folder` holding what `setup` wrote, then filled to FREE_BYTES."""
    folder.mkdir()
    mount = ["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(folder)]
    if subprocess.run(mount, capture_output=True).returncode:
        return None
    _MOUNTS.append(folder)
    subprocess.run([PYTHON, *setup], env=env, capture_output=True, timeout=120, check=True)
    st = os.statvfs(folder)
    with open(folder / ".filler", "wb") as fh:
        fh.write(b"\0" * max(0, st.f_bavail * st.f_frsize - FREE_BYTES))
    return folder


def _unchanged(path: Path) -> Callable[[], bool]:
    before = path.read_bytes()
    return lambda: path.read_bytes() == before


def _files_cases(folder: Path, env: dict[str, str]) -> dict[str, Case]:
    """Round 3: full disks under exports, devices and pipes as settings, huge inputs."""
    out: dict[str, Case] = {}
    run = folder / "r3.nndyn"
    run.write_bytes(h.run_bytes(tiny_run(), folder))
    cli = ["-m", "nndyn_gui.cli"]
    for ext in ("svg", "pdf", "png"):
        good = folder / f"full-{ext}" / f"good.{ext}"
        if _full_tmpfs(good.parent, [*cli, "render", str(run), "--out", str(good), "-q"], env):
            argv = [*cli, "render", str(run), "--out", str(good), "--force", "-q"]
            out[f"files: render {ext.upper()} --force, 12 KB free"] = (
                [*argv, "--size", "1600x1200"],
                f"good {good.stat().st_size} B file in place",
                {},
                _unchanged(good),
            )
    heat = folder / "full-heatmap"
    hm_script = (
        "import sys, numpy as np; from PySide6.QtGui import QGuiApplication;"
        "app = QGuiApplication([]);"
        "from nndyn_gui.core.sweep_results import Heatmap;"
        "from nndyn_gui.render.heatmap import write_heatmap;"
        "n = 24; v = np.linspace(0.4, 1, n * 18).reshape(18, n);"
        "hm = Heatmap('model.h', 'train.learning_rate', 'test_acc', 'mean', list(range(n)),"
        " list(range(18)), v, np.ones((18, n), int), np.ones((18, n), int),"
        " [[[] for _ in range(n)] for _ in range(18)], {});"
        "\ntry: write_heatmap(sys.argv[1], hm, int(sys.argv[2]), int(sys.argv[3]))"
        "\nexcept OSError as e: sys.exit(f'error: {e}')"
    )
    if _full_tmpfs(heat, ["-c", hm_script, str(heat / "hm.svg"), "1000", "700"], env):
        out["files: sweep picture hm.svg over a good one, 12 KB free"] = (
            ["-c", hm_script, str(heat / "hm.svg"), "3000", "2100"],
            f"good {(heat / 'hm.svg').stat().st_size} B file in place",
            {},
            _unchanged(heat / "hm.svg"),
        )
    load_config = "from nndyn_gui.ui import settings as s; print(s.load_config())"
    save_config = (
        "from nndyn_gui.ui import settings as s; from nndyn_gui.core.config import RunConfig;"
        "s.save_config(RunConfig()); s.add_recent_file('/tmp/x.nndyn')"
    )
    fifo_dir = folder / "settings-fifo"
    fifo_dir.mkdir()
    os.mkfifo(fifo_dir / "nndyn-gui.ini")
    out["files: settings file is a FIFO (read at start)"] = (
        ["-c", load_config],
        "named pipe, no writer",
        {"NNDYN_SETTINGS_DIR": str(fifo_dir)},
        lambda: stat.S_ISFIFO(os.lstat(fifo_dir / "nndyn-gui.ini").st_mode),
    )
    dev_dir = folder / "settings-dev"
    dev_dir.mkdir()
    (dev_dir / "nndyn-gui.ini").symlink_to("/dev/null")
    out["files: settings file a symlink to /dev/null (saved)"] = (
        ["-c", save_config],
        "as root",
        {"NNDYN_SETTINGS_DIR": str(dev_dir)},
        lambda: (
            stat.S_ISCHR(os.stat("/dev/null").st_mode) and (dev_dir / "nndyn-gui.ini").is_symlink()
        ),
    )
    big_dir = folder / "settings-big"
    big_dir.mkdir()
    with open(big_dir / "nndyn-gui.ini", "wb") as fh:
        fh.write(b"[run]\nrecent=")
        fh.write(b"x" * (300 * 2**20))
    out["files: 300 MB settings file (read at start)"] = (
        ["-c", load_config],
        "300 MB",
        {"NNDYN_SETTINGS_DIR": str(big_dir)},
        lambda: sum(p.stat().st_size for p in big_dir.iterdir()) >= 300 * 2**20,
    )
    oneline = folder / "oneline.csv"
    with open(oneline, "wb") as fh:
        fh.write(b"x1,x2,label\n")
        piece = b"0.5,0.25,1," * 100_000
        for _ in range(200 * 2**20 // len(piece)):
            fh.write(piece)
    load_csv = (
        "import sys; from nndyn_gui.core.datasets import DataError, load_csv"
        "\ntry: load_csv(sys.argv[1])\nexcept DataError as e: sys.exit(f'error: {e}')"
    )
    out["files: load_csv, one line of 200 MB"] = (
        ["-c", load_csv, str(oneline)],
        f"{oneline.stat().st_size} B",
        {},
        None,
    )
    junk = folder / "autosave-junk"
    junk.mkdir()
    rng = np.random.default_rng(5)
    for i in range(3000):
        (junk / f"autosave-{100000 + i}-{i:08x}.nndyn").write_bytes(rng.bytes(2000))
    scan = (
        "import sys; from nndyn_gui.ui import autosave as a; print(a.find_restorable(sys.argv[1]))"
    )
    out["files: autosave folder with 3,000 junk files (look-up)"] = (
        ["-c", scan, str(junk)],
        "3,000 x 2 KB random bytes named like autosaves",
        {},
        None,
    )
    return out


@contextlib.contextmanager
def _unmounting() -> Iterator[None]:
    try:
        yield
    finally:
        for m in _MOUNTS:
            subprocess.run(["umount", "-l", str(m)], capture_output=True)
        _MOUNTS.clear()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--code", default=str(REPO), help="source tree the children run")
    ap.add_argument("--csv-rows", type=int, default=2_000_000)
    ap.add_argument("--limit-mb", type=int, default=LIMIT_MB, help="address space per child")
    ap.add_argument("--only", default="", help="run only the cases whose name starts so")
    args = ap.parse_args()
    env = subprocess_env(PYTHONPATH=args.code, NNDYN_NO_AUTOSAVE="1")
    env.pop("DISPLAY", None)
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp, _unmounting():
        folder = Path(tmp)
        cases: dict[str, Case] = {
            name: (argv, what, {}, None)
            for name, (argv, what) in _cases(folder, args.csv_rows).items()
            if name.startswith("baseline") or name.startswith(args.only)
        }
        if "files:".startswith(args.only) or args.only.startswith("files:"):
            cases.update(
                {k: v for k, v in _files_cases(folder, env).items() if k.startswith(args.only)}
            )
        for name, (argv, what, extra, check) in cases.items():
            r = run_measured(
                [PYTHON, *argv],
                TIMEOUT_S,
                env={**env, **extra},
                memory_limit_mb=args.limit_mb,
                cwd=folder,
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
            if check is not None:
                results[name]["kept"] = bool(check())
    base = results["baseline: info of a valid run"]
    worst = max(v["peak_mb"] for v in results.values()) / max(1, base["peak_mb"])
    slowest = max(v["seconds"] for k, v in results.items() if "load_csv," not in k)
    ok = (
        all(
            v["rc"] != "timeout" and not v["traceback"] and v.get("kept", True)
            for v in results.values()
        )
        and worst < 8.0
    )
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
