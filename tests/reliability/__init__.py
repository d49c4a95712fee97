"""Reliability tests: fuzzed loaders, bad input, injected faults, soak runs, autosave.

Shared helpers live here (imported as `from . import tiny_run`) so the test files stay
about what a user would notice. See docs/reliability.md for the table of what was tried.
"""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from nndyn_gui.core.config import RunConfig
from nndyn_gui.core.net.initial_weights import initial_weights
from nndyn_gui.core.types import Dataset, NetWeights, Run, Snapshot

REPO = Path(__file__).resolve().parents[2]
PYTHON = sys.executable


def tiny_config(**overrides: object) -> RunConfig:
    """A config that trains in well under a second (after the one-off compile)."""
    cfg = RunConfig()
    cfg.data.n = 60
    cfg.model.width = 2
    cfg.model.depth = 2
    cfg.model.h = 0.5
    cfg.train.steps = 20
    cfg.train.snapshot_every = 10
    cfg.train.steps_per_call = 10
    cfg.train.learning_rate = 0.05
    for key, value in overrides.items():
        section, name = key.split("__")
        setattr(getattr(cfg, section), name, value)
    return cfg.validate()


def tiny_dataset(n: int = 40, seed: int = 3) -> Dataset:
    """A ring-like data set built with numpy alone (no dependency on core.datasets)."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1, 1, size=(n, 2))
    y = (np.hypot(x[:, 0], x[:, 1]) > 0.5).astype(np.int64)
    k = (3 * n) // 4
    return Dataset(x[:k], y[:k], x[k:], y[k:], name="ring")


def tiny_run(n_snaps: int = 3, **overrides: object) -> Run:
    """A small but complete run (several snapshots with distinct weights), no TensorFlow."""
    cfg = tiny_config(**overrides)
    rng = np.random.default_rng(11)
    snaps = []
    for i in range(n_snaps):
        w0 = initial_weights(cfg.model, seed=i)
        w = NetWeights(w0.A, rng.normal(size=w0.b.shape), w0.w, float(rng.normal()))
        snaps.append(Snapshot(i * 10, 0.7 / (i + 1), 0.5 + 0.1 * i, 0.5, w, 0.1 * i))
    return Run(cfg, tiny_dataset(), snaps, "finished", "Finished 20 steps.", {"nndyn": "t"})


def listing(folder: Path) -> dict[str, tuple[int, int]]:
    """Every file under `folder` -> (size, mtime_ns): compare before / after to see writes."""
    out: dict[str, tuple[int, int]] = {}
    for root, _dirs, files in os.walk(folder):
        for name in files:
            p = Path(root) / name
            try:
                st = p.stat()
            except FileNotFoundError:
                continue
            out[str(p.relative_to(folder))] = (st.st_size, st.st_mtime_ns)
    return out


def subprocess_env(**extra: str) -> dict[str, str]:
    """Environment for child Pythons: offscreen Qt, quiet TensorFlow, repo importable.

    A PYTHONPATH in `extra` is put in front of the repository (never replaces it).
    """
    env = dict(os.environ)
    paths = [extra.pop("PYTHONPATH")] if "PYTHONPATH" in extra else []
    paths += [str(REPO), env.get("PYTHONPATH", "")]
    env.update(
        QT_QPA_PLATFORM="offscreen",
        TF_CPP_MIN_LOG_LEVEL="2",
        PYTHONPATH=os.pathsep.join(p for p in paths if p),
        PYTHONFAULTHANDLER="1",
    )
    env.update(extra)
    return env


def spawn_reading(
    args: list[str], env: dict[str, str], stream: str = "stdout"
) -> tuple[subprocess.Popen[str], queue.Queue[str]]:
    """Start a child Python in the repository and a thread that queues the lines of its
    `stream` ("stdout" or "stderr"): the test reads them with a timeout, never blocks."""
    proc = subprocess.Popen(
        [PYTHON, *args],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    lines: queue.Queue[str] = queue.Queue()
    pipe = proc.stdout if stream == "stdout" else proc.stderr

    def pump() -> None:
        for line in pipe or []:
            lines.put(line)

    threading.Thread(target=pump, daemon=True).start()
    return proc, lines


@dataclass
class Measured:
    """How a child process ended: rc None means it was killed at the timeout."""

    rc: int | None
    seconds: float
    peak_mb: float  # the child's own peak resident memory (wait4's ru_maxrss)
    stdout: str
    stderr: str

    def one_line_error(self, prefix: str = "nndyn") -> str:
        """The single stderr line of an exit-2 error (asserts there is nothing else)."""
        assert self.rc == 2, (self.rc, self.stderr[-2000:])
        lines = [x for x in self.stderr.splitlines() if x.strip()]
        assert len(lines) == 1 and lines[0].startswith(prefix), self.stderr[-2000:]
        assert "Traceback" not in self.stderr and "Warning" not in self.stderr
        return lines[0]


# Runs the command and reports how it ended. A fresh interpreter in between: a child
# forked straight from the test process would inherit its resident memory (TensorFlow
# and all, ~1 GB) into its own peak (ru_maxrss survives exec).
_MEASURE = """
import json, os, resource, subprocess, sys
cmd, limit, report = json.loads(sys.argv[1])
def limit_memory():
    if limit:
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
p = subprocess.Popen(cmd, preexec_fn=limit_memory)
_pid, status, usage = os.wait4(p.pid, 0)
p.returncode = os.waitstatus_to_exitcode(status)
with open(report, "w") as f:
    json.dump({"rc": p.returncode, "maxrss_kb": usage.ru_maxrss}, f)
"""


def run_measured(
    cmd: list[str],
    timeout: float,
    env: dict[str, str] | None = None,
    memory_limit_mb: int | None = None,
    cwd: Path = REPO,
) -> Measured:
    """Run `cmd` with a timeout (then kill it: a hang fails instead of hanging the suite),
    optionally an address-space limit, and measure its own peak memory."""
    limit = None if memory_limit_mb is None else memory_limit_mb * 2**20
    with (
        tempfile.TemporaryFile() as out,
        tempfile.TemporaryFile() as err,
        tempfile.TemporaryDirectory() as tmp,
    ):
        report = Path(tmp) / "report.json"
        proc = subprocess.Popen(
            [PYTHON, "-c", _MEASURE, json.dumps([cmd, limit, str(report)])],
            stdout=out,
            stderr=err,
            env=env or subprocess_env(),
            cwd=cwd,
            start_new_session=True,  # the command is in this group: a timeout kills both
        )
        t0 = time.monotonic()
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        seconds = time.monotonic() - t0
        result = json.loads(report.read_text()) if report.exists() else None
        out.seek(0)
        err.seek(0)
        return Measured(
            None if result is None else int(result["rc"]),
            seconds,
            0.0 if result is None else result["maxrss_kb"] / 1024,
            out.read().decode(errors="replace"),
            err.read().decode(errors="replace"),
        )


def nndyn_cmd(*args: str) -> list[str]:
    """The `nndyn` command line (through this Python, so the worktree's code runs)."""
    return [PYTHON, "-m", "nndyn_gui.cli", *args]
