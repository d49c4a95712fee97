"""Faults injected into the training worker process, before TensorFlow loads.

Pass one as `TrainingSession(initializer=...)` (or set `session.initializer` before the
worker starts): it runs in the worker, so the fault happens where a real one would.
Functions here must be importable by name in a fresh process, so keep them top-level
and this module free of heavy imports.
"""

from __future__ import annotations

import os
import sys
import time
from typing import Any


def trainer_raises() -> None:
    """Every run raises inside `Trainer.events` (after the compile)."""
    from nndyn_gui.core.train import trainer as training

    def explode(self: Any, *args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("simulated crash inside the trainer")

    training.Trainer.events = explode  # type: ignore[method-assign]


def trainer_cannot_start() -> None:
    """Every run raises when its Trainer is built."""
    from nndyn_gui.core.train import trainer as training

    def broken(self: Any, *args: Any, **kwargs: Any) -> None:
        raise RuntimeError("boom in the engine")

    training.Trainer.__init__ = broken  # type: ignore[method-assign]


def tensorflow_missing() -> None:
    """`import tensorflow` fails in the worker (a broken installation)."""
    sys.modules["tensorflow"] = None  # type: ignore[assignment]


def trainer_aborts() -> None:
    """The worker process aborts as soon as training starts (a TensorFlow abort)."""
    from nndyn_gui.core.train import trainer as training

    def abort(self: Any, *args: Any, **kwargs: Any) -> Any:
        os.abort()

    training.Trainer.events = abort  # type: ignore[method-assign]


def trainer_raises_once() -> None:
    """The first run raises inside `Trainer.events`; later runs in the same worker work."""
    from nndyn_gui.core.train import trainer as training

    real = training.Trainer.events
    calls = [0]

    def explode_once(self: Any, *args: Any, **kwargs: Any) -> Any:
        calls[0] += 1
        if calls[0] == 1:
            raise RuntimeError("simulated crash inside the trainer")
        return real(self, *args, **kwargs)

    training.Trainer.events = explode_once  # type: ignore[method-assign]


TENSORFLOW_DELAY_S = 6.0


def tensorflow_slow() -> None:
    """TensorFlow takes TENSORFLOW_DELAY_S longer to load (a slow disk, a busy laptop):
    whatever the worker does meanwhile happens before `Ready`, on every machine. (It
    waits outside any lock: a meta path finder that slept would hold Python's global
    import lock and stall every import of the training thread.)"""
    from nndyn_gui.core.train import program

    real = program.load_tensorflow

    def slow(before: Any = None) -> Any:
        time.sleep(TENSORFLOW_DELAY_S)
        return real(before)

    program.load_tensorflow = slow  # type: ignore[assignment]
