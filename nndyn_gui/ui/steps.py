"""How every panel names the snapshot (training step) its numbers belong to.

Why one module: the main view draws the newest snapshot in the background and says
which one is on screen (`AppState.shown`); the status bar, the curves and the snapshot
label repeat its numbers at once, but the diagnostics, the topology report and the
All-layers tiles compute in the background too, each at its own pace. Each of those
keeps the snapshot it shows and compares it with `AppState.shown`: the same object, or
"pending" (the panel is computing the shown one). One wording for all of them, so a
reader sees the same "step 1,200" everywhere, or "step 1,000 · computing step 1,200…"
beside values drawn dimmed, never an old step passed off as the current one.
"""

from __future__ import annotations

import math
from typing import Any

from nndyn_gui.core.types import Snapshot

PENDING_COLOR = "#8a8a8a"  # the dimmed values of a panel computing a newer snapshot


def step_name(snap: Snapshot) -> str:
    """ "step 1,200", or "untrained (step 0)" for the untrained net (no loss measured)."""
    if snap.step == 0 and not math.isfinite(snap.loss):
        return "untrained (step 0)"
    return f"step {snap.step:,}"


def pending_name(snap: Snapshot) -> str:
    """ "computing step 1,200…": the panel is working on this snapshot."""
    return f"computing step {snap.step:,}…"


def on_screen(state: Any) -> Snapshot | None:
    """The snapshot the main view shows, or the current one before it has drawn any."""
    return state.shown if state.shown is not None else state.current


def view_target(state: Any) -> Snapshot | None:
    """The snapshot a background panel should draw: the one the main view shows (or the
    current one), None while its net is not the config's shape (a new config's untrained
    snapshot is on its way)."""
    snap = on_screen(state)
    if snap is None:
        return None
    model = state.run_config.model
    if snap.weights.width != model.width or snap.weights.depth != model.depth:
        return None
    return snap


def pending(shown: Snapshot | None, target: Snapshot | None) -> Snapshot | None:
    """The snapshot a panel still has to compute: `target` (the one on screen) unless
    the panel already shows that very snapshot (identity: two runs share step numbers)."""
    if target is None or target is shown:
        return None
    return target


def caption(shown: Snapshot | None, target: Snapshot | None) -> str:
    """ "step 1,200", "step 1,000 · computing step 1,200…" or "computing step 0…"."""
    parts = [step_name(shown)] if shown is not None else []
    todo = pending(shown, target)
    if todo is not None:
        parts.append(pending_name(todo))
    return " · ".join(parts)
