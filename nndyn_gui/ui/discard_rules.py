"""When does an action throw away a trained run? The rules, without Qt.

Experimenting means nudging sliders; a nudge must never silently cost the trained run on
screen. These are the rules the window follows (AppState emits `runDiscarded`, the undo
in ui/undo_discard.py keeps what was dropped), written as plain functions so they can be
tested, and read, without a window:

- Trained snapshots (any step > 0) are what can be lost; an untrained net (step 0 only)
  is made again from the config at no cost.
- A config change drops them only when the pictures they show would be wrong for the new
  config: other data, another model, another weight seed (`makes_stale`). Learning rate,
  steps, title and the other training settings leave the trained run on screen.
- Reset, Train (a new run replaces the old one's snapshots), New, a preset and Open drop
  them whatever the config (AppState asks `has_trained` first).
- The loss is "unsaved" when the run has changes not written to a file (AppState.dirty):
  a saved run can be opened again, an unsaved one exists nowhere else.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from nndyn_gui.core.config import RunConfig
from nndyn_gui.core.fields import changed_fields, field_info, field_label
from nndyn_gui.core.types import Run, Snapshot


@dataclass(frozen=True)
class DiscardedRun:
    """A trained run that an action has just dropped, and what dropped it."""

    run: Run
    reason: str  # e.g. "Depth T changed", "Reset", "a new training run"
    unsaved: bool  # it had changes not written to any file

    @property
    def step(self) -> int:
        return max((s.step for s in self.run.snapshots), default=0)


def has_trained(snapshots: Iterable[Snapshot]) -> bool:
    """True when some snapshot holds trained weights (step > 0)."""
    return any(s.step > 0 for s in snapshots)


def makes_stale(old: RunConfig, new: RunConfig) -> bool:
    """True when `old`'s snapshots cannot show `new`: other data, model or weight seed."""
    return bool(stale_fields(old, new))


def stale_fields(old: RunConfig, new: RunConfig) -> list[str]:
    """The fields (section.name) whose change makes the snapshots stale, in panel order
    (a field with no say in either config, like h of an MLP, is no change, nor is one
    that changes no number, like which of h and the total time is held)."""
    return [
        p
        for p in changed_fields(old, new)
        if p.startswith(_STALE_PREFIXES) and field_info(p).change != "none"
    ]


_STALE_PREFIXES = ("data.", "model.", "train.seed")


def change_reason(old: RunConfig, new: RunConfig) -> str:
    """'Depth T changed' / 'Width d and Depth T changed': what a message names."""
    names = [field_label(p) for p in stale_fields(old, new)]
    if not names:
        return "the settings changed"
    if len(names) > 2:
        names = [names[0], f"{len(names) - 1} more settings"]
    return f"{' and '.join(names)} changed"


class UndoSlot:
    """The one run the user can bring back (a newer discard takes its place).

    Bringing back run A while run B (trained) is on screen would drop B in turn, so B
    takes A's place in the slot: Undo twice is where one started.
    """

    def __init__(self) -> None:
        self._kept: DiscardedRun | None = None

    @property
    def available(self) -> DiscardedRun | None:
        return self._kept

    def keep(self, discarded: DiscardedRun) -> None:
        self._kept = discarded

    def swap(self, current: DiscardedRun | None) -> DiscardedRun | None:
        """Take the kept run out; `current` (the run it replaces, if trained) is kept."""
        out, self._kept = self._kept, current
        return out
