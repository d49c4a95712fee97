"""What every `nndyn` command shares: exit statuses, the one-line error, JSON-safe values.

Why a module: `train`, `verify`, `info` and `render` each print errors the same way
(`nndyn: error: ...`, exit 2) and write strict JSON; one place keeps them alike.
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import sys
from typing import TYPE_CHECKING, Any, NoReturn

from nndyn_gui.core.io.terminal import printable

if TYPE_CHECKING:
    from nndyn_gui.core.types import TrainResult

EXIT_OK = 0
EXIT_DIVERGED = 1
EXIT_BAD_INPUT = 2
EXIT_INTERRUPTED = 130
# Signals that stop `train` like Ctrl+C: a timeout, a batch scheduler, a closed ssh session.
STOP_SIGNALS = ("SIGINT", "SIGTERM", "SIGHUP")


class CliError(Exception):
    """Bad input: printed as one line `nndyn: error: ...`, exit status 2."""


class TrainingFailed(Exception):
    """The worker raised or died: exit status 1; `partial` holds what was trained."""

    def __init__(self, message: str, partial: TrainResult) -> None:
        super().__init__(message)
        self.partial = partial


class Parser(argparse.ArgumentParser):
    """argparse, but usage mistakes are one line like every other error."""

    def error(self, message: str) -> NoReturn:
        raise CliError(f"{message} (see '{self.prog} --help')")


def fail(message: str) -> int:
    """Print the first line of `message` as `nndyn: error: ...`; the bad-input status."""
    first = message.strip().splitlines()[0] if message.strip() else "failed"
    print(f"nndyn: error: {printable(first)}", file=sys.stderr)
    return EXIT_BAD_INPUT


def pct(v: float) -> str:
    return "n/a" if not math.isfinite(v) else f"{100 * v:.1f}%"


def jsonable(obj: Any) -> Any:
    """Numpy scalars/arrays to lists, non-finite floats to None (strict JSON)."""
    import numpy as np

    if isinstance(obj, dict):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return jsonable(obj.tolist())
    if isinstance(obj, np.bool_):
        return bool(obj)
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, float | np.floating):
        f = float(obj)
        return f if math.isfinite(f) else None
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return jsonable(dataclasses.asdict(obj))
    return obj
