"""The documented size limits of nndyn, and the small pure checks that enforce them.

Why one module: a hostile or unlucky input (a zip bomb, /dev/zero, a CSV of 10 M rows,
a run that snapshots every step of a 200 x 64 net for a million steps) must be refused
*before* it costs memory or time, with one line that says which limit it broke. The
loaders, the trainer, the CLI and the window all read the numbers here, and
docs/reliability.md lists them:

- a run file (`.nndyn`) is at most MAX_RUN_FILE_BYTES on disk; its snapshots at most
  SNAPSHOT_MEMORY_BYTES once decompressed, its JSON members MAX_JSON_BYTES each;
- a run has at most MAX_POINTS data points (the range of `data.n`), with coordinates
  within +-MAX_COORD and weights within +-MAX_WEIGHT (the app's data live in [-1, 1]^2);
- a CSV file is at most MAX_CSV_BYTES, each of its lines at most MAX_CSV_LINE_BYTES;
- the snapshots kept in memory by a training run are at most SNAPSHOT_MEMORY_BYTES: when
  more would be needed, older snapshots are thinned to an even grid (`thin_snapshots`),
  so a long run keeps its first, its last, and evenly spread ones in between.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from nndyn_gui.core.config import DataConfig, RunConfig

if TYPE_CHECKING:
    from nndyn_gui.core.types import NetWeights, Snapshot

MIB = 2**20
MAX_RUN_FILE_BYTES = 512 * MIB
MAX_JSON_BYTES = 4 * MIB
MAX_CSV_BYTES = 256 * MIB
MAX_CSV_LINE_BYTES = 1 * MIB  # one point per line; refused before a long line is parsed
SNAPSHOT_MEMORY_BYTES = 256 * MIB
PSEUDO_FILE_ROOTS = ("/proc", "/sys", "/dev")  # the kernel's files: never data (is_pseudo_file)
MAX_POINTS = int(DataConfig.__dataclass_fields__["n"].metadata["range"][1])
MAX_COORD = 1e6
MAX_WEIGHT = 1e100
MAX_STEP = 2**53  # snapshot steps are whole numbers a float64 holds exactly
# A snapshot's scalars beside its weights: step, loss, train/test acc, elapsed, steps/s.
_SNAPSHOT_SCALARS = 6


class LimitError(ValueError):
    """An input breaks a documented limit; the message is one line for the user."""


# ---------------------------------------------------------------------- files
def human_bytes(n: float) -> str:
    """1536 -> '1.5 KB', 3 * 2**30 -> '3.0 GB' (binary units, short names users know)."""
    for unit in ("bytes", "KB", "MB", "GB", "TB"):
        if abs(n) < 1024 or unit == "TB":
            return f"{int(n)} bytes" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} TB"  # pragma: no cover - loop always returns


def is_pseudo_file(path: str | os.PathLike[str]) -> bool:
    """True when `path`, after its links, lies under /proc, /sys or /dev.

    The kernel's files there are no data: /proc/kmsg stat()s as a regular file of 0
    bytes and its read blocks until the kernel logs something; others report 4096 bytes
    and hold more. Nothing nndyn reads or writes lives there."""
    try:
        real = os.path.realpath(path)
    except (OSError, ValueError):  # a loop of links: the stat that follows says so
        return False
    return any(real == root or real.startswith(root + os.sep) for root in PSEUDO_FILE_ROOTS)


def refuse_pseudo_file(path: str | os.PathLike[str], what: str) -> None:
    """LimitError when `path` is a kernel file (`is_pseudo_file`)."""
    if is_pseudo_file(path):
        real = os.path.realpath(path)
        raise LimitError(f"not a regular file ({real} is a kernel file; it cannot be a {what})")


def _check_mode(
    st: os.stat_result, path: str | os.PathLike[str], max_bytes: int, what: str
) -> None:
    if stat.S_ISDIR(st.st_mode):
        raise IsADirectoryError(21, "is a folder", str(path))
    if not stat.S_ISREG(st.st_mode):
        raise LimitError(f"not a regular file (a device, pipe or socket cannot be a {what})")
    if st.st_size > max_bytes:
        raise LimitError(
            f"the file is {human_bytes(st.st_size)}; a {what} may be at most "
            f"{human_bytes(max_bytes)}"
        )


def check_regular_file(path: str | os.PathLike[str], max_bytes: int, what: str) -> int:
    """The size of `path` if it is a regular file of at most `max_bytes`; else LimitError.

    Checked *before* opening: opening a FIFO blocks until a writer appears, reading
    /dev/zero, /proc/kmsg or a 3 GB file never ends or eats the memory. FileNotFoundError
    and other OSErrors pass through, so callers keep their own "no such file" wording.
    """
    refuse_pseudo_file(path, what)
    st = os.stat(path)
    _check_mode(st, path, max_bytes, what)
    return int(st.st_size)


def read_bounded(path: str | os.PathLike[str], max_bytes: int, what: str) -> bytes:
    """All bytes of a regular file of at most `max_bytes` (also if it grows meanwhile).

    The one reader of files nndyn did not write itself: `check_regular_file`, then a
    non-blocking open checked again on the descriptor (a path swapped for a FIFO since
    the check never blocks), then at most `max_bytes + 1` bytes read."""
    check_regular_file(path, max_bytes, what)
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
    fd = os.open(path, flags)
    try:
        _check_mode(os.fstat(fd), path, max_bytes, what)
        chunks: list[bytes] = []
        total = 0
        while total <= max_bytes:
            try:
                chunk = os.read(fd, min(MIB, max_bytes + 1 - total))
            except BlockingIOError:
                raise LimitError(f"{path} cannot be read without waiting; not a {what}") from None
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
    finally:
        os.close(fd)
    if total > max_bytes:
        raise LimitError(f"the file grew beyond the {human_bytes(max_bytes)} allowed for a {what}")
    return b"".join(chunks)


# ---------------------------------------------------------------------- values
def coords_in_range(x: np.ndarray) -> bool:
    """True when every coordinate is finite and within +-MAX_COORD."""
    return bool(np.all(np.abs(x) <= MAX_COORD))  # NaN compares False


def weights_in_range(w: NetWeights) -> bool:
    """True when every weight is finite and within +-MAX_WEIGHT (what a run may hold)."""
    return all(bool(np.all(np.abs(np.asarray(a)) <= MAX_WEIGHT)) for a in (w.A, w.b, w.w, w.c))


# ---------------------------------------------------------------------- snapshots
def snapshot_bytes(depth: int, width: int, classes: int = 2) -> int:
    """Memory of one snapshot of a depth x width net: A, b, w, c and its scalars (float64).

    The head has one row (w, c) for two classes and `classes` rows for K > 2.
    """
    rows = 1 if classes <= 2 else classes
    return 8 * (depth * width * width + depth * width + rows * (width + 1) + _SNAPSHOT_SCALARS)


def snapshots_planned(cfg: RunConfig) -> int:
    """How many snapshots a full run of `cfg` takes without thinning (step 0 .. the end)."""
    t = cfg.train
    return t.steps // t.snapshot_every + 1 + (1 if t.steps % t.snapshot_every else 0)


def estimate_snapshot_memory(cfg: RunConfig) -> int:
    """Bytes all snapshots of a full run of `cfg` would take if none were thinned."""
    return snapshots_planned(cfg) * snapshot_bytes(
        cfg.model.depth, cfg.model.width, cfg.data.classes
    )


def snapshot_capacity(cfg: RunConfig, budget: int | None = None) -> int:
    """How many snapshots of `cfg`'s net fit in `budget` (default SNAPSHOT_MEMORY_BYTES;
    at least 3: the first, one in between, the last)."""
    budget = SNAPSHOT_MEMORY_BYTES if budget is None else budget
    return max(3, budget // snapshot_bytes(cfg.model.depth, cfg.model.width, cfg.data.classes))


def thinning_note(cfg: RunConfig, budget: int | None = None) -> str:
    """One line saying how a run of `cfg` will be thinned, or "" when everything fits."""
    budget = SNAPSHOT_MEMORY_BYTES if budget is None else budget
    planned, cap = snapshots_planned(cfg), snapshot_capacity(cfg, budget)
    if planned <= cap:
        return ""
    return (
        f"{planned:,} snapshots would need {human_bytes(estimate_snapshot_memory(cfg))}; "
        f"keeping at most {cap:,} ({human_bytes(budget)}), evenly spread over the run"
    )


class SnapshotKeeper:
    """Collects a run's snapshots within `capacity`: an even grid of steps plus the newest.

    The grid starts as every `every` steps (all snapshots); when the list would exceed
    `capacity` its spacing doubles and the snapshots off the new grid are dropped. A
    snapshot off the grid (the end of a run, a stop in between) is kept only while it is
    the newest. Amortised O(1) per snapshot.
    """

    def __init__(self, every: int, capacity: int) -> None:
        self.stride = max(1, int(every))
        self.capacity = max(3, int(capacity))

    def add(self, snaps: list[Snapshot], snap: Snapshot) -> None:
        """Append `snap` to `snaps` (in place), thinning when the list is full."""
        if len(snaps) > 1 and snaps[-1].step % self.stride:
            snaps.pop()  # the previous newest was off the grid: only the newest may be
        snaps.append(snap)
        while len(snaps) > self.capacity:
            self.stride *= 2
            snaps[:-1] = [s for s in snaps[:-1] if s.step % self.stride == 0]


def thin_snapshots(snaps: Sequence[Snapshot], every: int, capacity: int) -> list[Snapshot]:
    """At most `capacity` snapshots on an even grid of steps, plus always the last one.

    The grid is every (every * 2**k)-th step for the smallest k that fits, so repeated
    thinning while a run grows keeps the same regular spacing (step 0 is always on it).
    Snapshots off the grid survive only as the newest one. Pure and idempotent.
    """
    items = list(snaps)
    if len(items) <= capacity:
        return items
    every = max(1, int(every))
    capacity = max(2, int(capacity))
    last = items[-1]
    stride = every
    while True:
        kept = [s for s in items[:-1] if s.step % stride == 0]
        if len(kept) + 1 <= capacity or len(kept) <= 1:
            return [*kept, last]
        stride *= 2
