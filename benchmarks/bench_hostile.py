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
import shutil
import socket
import stat
import struct
import subprocess
import sys
import tempfile
import threading
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
        "from nndyn_gui.core.sweep.results import Heatmap;"
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


SWEEP = {"seeds": [0, 1], "sweep": {"model.width": [2, 3], "model.depth": [2, 4, 8]}}


@contextlib.contextmanager
def _servers() -> Iterator[dict[str, str]]:
    """Hostile --scheduler addresses on 127.0.0.1: a port that accepts and stays silent
    (a listening socket nobody accepts on), one that sends a frame length of 3 * 2**60,
    and one where nothing listens."""
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)
    crafted = socket.socket()
    crafted.bind(("127.0.0.1", 0))
    crafted.listen(8)
    crafted.settimeout(0.5)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = crafted.accept()
            except OSError:
                continue
            with contextlib.suppress(OSError):
                conn.sendall(struct.pack("<Q", 3 * 2**60))
            stop.wait(2)
            conn.close()

    t = threading.Thread(target=serve, daemon=True)
    t.start()
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    refused = closed.getsockname()[1]
    closed.close()
    try:
        yield {
            "silent": f"tcp://127.0.0.1:{silent.getsockname()[1]}",
            "crafted": f"tcp://127.0.0.1:{crafted.getsockname()[1]}",
            "refused": f"tcp://127.0.0.1:{refused}",
        }
    finally:
        stop.set()
        t.join(3)
        silent.close()
        crafted.close()


def _journal_of(folder: Path, n: int, distinct_x: bool = False) -> None:
    """Replace folder's journal by `n` rows like its first one (distinct keys)."""
    first = json.loads((folder / "runs.jsonl").read_text().splitlines()[0])
    with open(folder / "runs.jsonl", "w") as fh:
        for i in range(n):
            row = {**first, "index": i, "key": f"{i:016x}", "train.seed": i % 50}
            if distinct_x:
                row["model.depth"] = 1000 + i
            fh.write(json.dumps(row) + "\n")


def _sweep_cases(folder: Path, servers: dict[str, str]) -> dict[str, tuple[list[str], str]]:
    """Issue 25's sweep inputs: damaged results folders, hostile specs and schedulers."""
    from tests.sweeps import make_folder

    good = make_folder(folder / "sweep-good", SWEEP)
    cli = ["-m", "nndyn_gui.cli"]

    def variant(name: str, edit: Any) -> Path:
        f = Path(shutil.copytree(good, folder / f"sweep-{name}"))
        edit(f)
        return f

    def plot(f: Path, *extra: str) -> list[str]:
        return [*cli, "sweep-plot", str(f), "--x", "model.depth", "--y", "model.width", *extra]

    def fifo(f: Path) -> None:
        (f / "runs.jsonl").unlink()
        os.mkfifo(f / "runs.jsonl")

    def dev_zero(f: Path) -> None:
        (f / "runs.jsonl").unlink()
        (f / "runs.jsonl").symlink_to("/dev/zero")

    def sparse(f: Path) -> None:
        with open(f / "runs.jsonl", "r+b") as fh:
            fh.truncate(2 * GB)

    def results_edit(text: str) -> Any:
        def edit(f: Path) -> None:
            (f / "runs.jsonl").unlink()
            (f / "results.json").write_text(text)

        return edit

    def bad_rows(f: Path) -> None:
        lines = (f / "runs.jsonl").read_bytes().splitlines(keepends=True)
        lines[0] = lines[0].replace(b'"index": 0', b'"index": NaN')
        lines[1] = lines[1].replace(b'"fake"', b'"\xff"')
        row = json.loads(lines[2])
        row["dense_accuracy"] = "1e400"  # a number beyond float, written as JSON does
        lines[2] = json.dumps(row).replace('"1e400"', "1e400").encode() + b"\n"
        (f / "runs.jsonl").write_bytes(b"".join(lines))

    doc = json.loads((good / "results.json").read_text())
    specs = {
        "bom": ("\ufeffseeds = 2\n", "spec with a UTF-8 BOM"),
        "overflow": (
            '[sweep]\n"model.h" = {start = 0, stop = 1e308, step = 1e-308}\n',
            "range 0..1e308 by 1e-308",
        ),
        "log": (
            '[sweep]\n"model.h" = {start = 1e-300, stop = 1e300, num = 5, log = true}\n',
            "log range 1e-300..1e300",
        ),
        "kmsg": ('config = "/proc/kmsg"\n', "config = /proc/kmsg"),
        "million": ("seeds = 1000000\n", "10**6 seeds"),
    }
    paths = {}
    for name, (text, _) in specs.items():
        paths[name] = folder / f"spec-{name}.toml"
        paths[name].write_text(text, encoding="utf-8")
    out = str(folder / "sweep-out")

    def sweep(spec: str, *extra: str) -> list[str]:
        return [*cli, "sweep", str(paths[spec]), "--out", out, *extra]

    big = variant("1e5-rows", lambda f: _journal_of(f, 100_000))
    huge = variant("1e6-rows", lambda f: _journal_of(f, 1_000_000))
    wide = variant("distinct-x", lambda f: _journal_of(f, 5_000, distinct_x=True))
    return {
        "sweep-plot, journal a FIFO": (plot(variant("fifo", fifo)), "named pipe"),
        "sweep-plot, journal -> /dev/zero": (plot(variant("zero", dev_zero)), "symlink"),
        "sweep-plot, 2 GB sparse journal": (plot(variant("sparse", sparse)), "2 GB"),
        "sweep-plot, 10**6-row journal": (
            plot(huge),
            f"{(huge / 'runs.jsonl').stat().st_size >> 20} MB",
        ),
        "sweep-plot, 10**5-row journal (read, --x unknown)": (
            [*cli, "sweep-plot", str(big), "--x", "nope", "--y", "model.width"],
            f"{(big / 'runs.jsonl').stat().st_size >> 20} MB, the most a picture reads",
        ),
        "sweep-plot, 5,000 distinct x values": (plot(wide), "5,000 rows"),
        "sweep-plot, results.json a list": (
            plot(variant("list", results_edit(json.dumps([doc])))),
            "edited",
        ),
        "sweep-plot, results.json 10**5 deep": (
            plot(variant("deep", results_edit("[" * 100_000 + "]" * 100_000))),
            "edited",
        ),
        "sweep-plot, n_runs 'abc', fields an int": (
            plot(variant("fields", results_edit(json.dumps({**doc, "fields": 3})))),
            "edited",
        ),
        "sweep-plot, rows: index NaN, not UTF-8, 1e400": (
            plot(variant("rows", bad_rows), "--out", str(folder / "rows.svg")),
            "2 bad rows of 12, a metric of 1e400",
        ),
        "sweep, spec with a BOM (--dry-run)": (sweep("bom", "--dry-run"), specs["bom"][1]),
        "sweep, range 0..1e308 by 1e-308": (sweep("overflow", "--dry-run"), "overflow"),
        "sweep, log range 1e-300..1e300": (sweep("log", "--dry-run"), "overflow"),
        "sweep, config = /proc/kmsg": (sweep("kmsg", "--dry-run"), "blocks on read"),
        "sweep --dry-run, 10**6 seeds": (
            sweep("million", "--dry-run", "--max-runs", "1000000"),
            "10**6 runs listed",
        ),
        "sweep --out ''": ([*cli, "sweep", str(paths["bom"]), "--out", ""], "empty"),
        "sweep --scheduler tls://": (sweep("bom", "--scheduler", "tls://127.0.0.1:1"), "TLS"),
        "sweep --scheduler ucx://": (sweep("bom", "--scheduler", "ucx://127.0.0.1:1"), "UCX"),
        "sweep --scheduler, silent port": (sweep("bom", "--scheduler", servers["silent"]), "15 s"),
        "sweep --scheduler, frame length 3*2**60": (
            sweep("bom", "--scheduler", servers["crafted"]),
            "crafted",
        ),
        "sweep --scheduler, connection refused": (
            sweep("bom", "--scheduler", servers["refused"]),
            "nothing listens",
        ),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--code", default=str(REPO), help="source tree the children run")
    ap.add_argument("--csv-rows", type=int, default=2_000_000)
    ap.add_argument("--limit-mb", type=int, default=LIMIT_MB, help="address space per child")
    ap.add_argument(
        "--only", default="", help="run only the cases whose name starts so (e.g. files:, sweep)"
    )
    args = ap.parse_args()
    env = subprocess_env(PYTHONPATH=args.code, NNDYN_NO_AUTOSAVE="1", QT_QPA_PLATFORM="offscreen")
    env.pop("DISPLAY", None)
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp, _unmounting(), _servers() as servers:
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
        cases.update(
            {
                name: (argv, what, {}, None)
                for name, (argv, what) in _sweep_cases(folder, servers).items()
                if name.startswith(args.only)
            }
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
