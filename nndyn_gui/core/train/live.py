"""Which settings may change while a run trains, and which start it again.

Like TensorFlow Playground: the learning rate, the regularisation, the batch size, the
number of steps (in all, and per compiled call) and the stop conditions take effect at
the trainer's next compiled call (`core/engine/protocol.Tune`); any other change of the data,
the network or the training starts the run again from step 0. A title is neither, and
neither is a field that has no say in either config (h of an MLP). Each field says which
it is in its metadata (`fields.field_info(path).change`, `.applies`); the trainer
(core/train/trainer.py), the engine worker and the window all decide with this module.
"""

from __future__ import annotations

from typing import Any, Literal

from nndyn_gui.core.config import RunConfig, TrainConfig
from nndyn_gui.core.fields import FIELDS, changed_fields

#: TrainConfig fields a running trainer takes at its next call
LIVE_TRAIN_FIELDS = tuple(
    path.split(".")[1] for path, info in FIELDS.items() if info.live and path.startswith("train.")
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
    kinds = {FIELDS[path].change for path in changed_fields(old, new)}
    if "restart" in kinds:
        return "restart"
    return "live" if "live" in kinds else "same"


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
        info = FIELDS[f"train.{f}"]
        parts.append(f"{info.words} {_fmt(info.off, a)} → {_fmt(info.off, b)}")
    return ", ".join(parts)


def _fmt(off: str, v: Any) -> str:
    if off and not v:
        return off
    if isinstance(v, float):
        return f"{v:g}"
    return f"{v:,}" if isinstance(v, int) else str(v)
