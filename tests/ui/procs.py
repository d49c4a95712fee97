"""What /proc says about the window's processes (Linux): alive, children, mapped libraries.

The tests that check "TensorFlow only in the worker" read these instead of trusting the
app's own account of its processes."""

from __future__ import annotations

import os


def alive(pid: int) -> bool:
    """True while `pid` runs (a zombie waiting to be reaped counts as ended)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(") ", 1)[1][0] != "Z"
    except OSError:
        return False


def children(pid: int) -> list[int]:
    """The child processes of `pid` (of all its threads)."""
    out = []
    for task in os.listdir(f"/proc/{pid}/task"):
        with open(f"/proc/{pid}/task/{task}/children") as f:
            out += [int(c) for c in f.read().split()]
    return out


def maps(pid: int) -> str:
    """The memory map of `pid`: which shared libraries it has loaded."""
    with open(f"/proc/{pid}/maps") as f:
        return f.read()
