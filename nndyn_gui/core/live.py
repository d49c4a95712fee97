"""Which settings may change while a run trains, and which start it again.

Like TensorFlow Playground: the learning rate, the regularisation, the batch size, the
number of steps (in all, and per compiled call) and the stop conditions take effect at
the trainer's next compiled call (`core/protocol.Tune`); any other change of the data,
the network or the training starts the run again from step 0. A title is neither.
The trainer (core/training.py), the engine worker and the window all decide with this
one list.
"""

from __future__ import annotations

from typing import Any, Literal

from nndyn_gui.core.config import RunConfig, TrainConfig

#: TrainConfig fields a running trainer takes at its next call
LIVE_TRAIN_FIELDS = (
    "learning_rate",
    "weight_decay",
    "transport",
    "batch_size",
    "steps",
    "steps_per_call",
    "stop_loss",
    "stop_accuracy",
    "stop_plateau",
)

Change = Literal["same", "live", "restart"]


def live_changes(old: TrainConfig, new: TrainConfig) -> dict[str, tuple[Any, Any]]:
    """{field: (old, new)} of the live fields that differ."""
    return {
        f: (getattr(old, f), getattr(new, f))
        for f in LIVE_TRAIN_FIELDS
        if getattr(old, f) != getattr(new, f)
    }


def classify(old: RunConfig, new: RunConfig) -> Change:
    """ "same" (nothing a trainer uses changed), "live" (only live fields) or "restart"."""
    if old.data != new.data or old.model != new.model:
        return "restart"
    fixed_old = {k: v for k, v in vars(old.train).items() if k not in LIVE_TRAIN_FIELDS}
    fixed_new = {k: v for k, v in vars(new.train).items() if k not in LIVE_TRAIN_FIELDS}
    if fixed_old != fixed_new:
        return "restart"
    return "live" if live_changes(old.train, new.train) else "same"


def with_live(train: TrainConfig, new: TrainConfig) -> TrainConfig:
    """`train` with the live fields of `new` (the others stay as the run started)."""
    out = TrainConfig(**vars(train))
    for f in LIVE_TRAIN_FIELDS:
        setattr(out, f, getattr(new, f))
    return out


def describe(changes: dict[str, tuple[Any, Any]]) -> str:
    """'learning rate 0.01 → 0.05, batch size full → 50' (for curves and messages)."""
    parts = []
    for f, (a, b) in changes.items():
        parts.append(f"{_NAMES.get(f, f)} {_fmt(f, a)} → {_fmt(f, b)}")
    return ", ".join(parts)


_NAMES = {
    "learning_rate": "learning rate",
    "weight_decay": "weight decay",
    "transport": "transport λ",
    "batch_size": "batch size",
    "steps": "steps",
    "steps_per_call": "steps per call",
    "stop_loss": "stop loss",
    "stop_accuracy": "stop accuracy",
    "stop_plateau": "stop plateau",
}


def _fmt(f: str, v: Any) -> str:
    if f == "batch_size" and v == 0:
        return "full"
    if f.startswith("stop_") and not v:
        return "off"
    if isinstance(v, float):
        return f"{v:g}"
    return f"{v:,}" if isinstance(v, int) else str(v)
