"""What the layer view shows, remembered across restarts: options, 3-D, Play, selection.

Why a module: the window only wires; which choices are kept, and how they are read back
safely (a settings file from another version, edited by hand, or of other data), is here.
Kept: the view's check boxes (ViewOptions), 3-D, Play's speed and Repeat, and the selected
points — the latter only for the same data set (the rows would name other points).
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import numpy as np

from nndyn_gui.render.scene import ViewOptions
from nndyn_gui.ui import settings as app_settings

KEY = "view/layer"
MAX_SELECTION = 10_000  # rows kept; a bigger selection is not worth a settings file
#: ViewOptions fields a user chooses in the window (sizes and backgrounds are per export)
KEPT_OPTIONS = (
    "show_points",
    "show_grid",
    "show_plane",
    "show_regions",
    "show_loop",
    "show_trajectories",
    "substeps",
    "steady_camera",
)


def snapshot(panel: Any) -> dict[str, Any]:
    """The choices of a LayerPanel as plain JSON-able data."""
    opts = panel.options()
    data = panel.state.config.data
    rows = panel.selection()[:MAX_SELECTION]
    return {
        "options": {k: bool(getattr(opts, k)) for k in KEPT_OPTIONS if hasattr(opts, k)},
        "prefer_3d": bool(panel.check_3d.isChecked()),
        "play_speed": float(panel.play_speed()),
        "repeat": bool(panel.repeat()),
        "selection": {"data": dataclasses.asdict(data), "rows": [int(r) for r in rows]},
    }


def apply(panel: Any, saved: dict[str, Any]) -> None:
    """Set a LayerPanel's choices from `snapshot` data; anything unreadable is skipped."""
    opts = saved.get("options")
    if isinstance(opts, dict):
        known = {f.name for f in dataclasses.fields(ViewOptions)}
        changes = {
            k: v for k, v in opts.items() if k in KEPT_OPTIONS and k in known and type(v) is bool
        }
        if changes:
            panel.set_options(panel.options().copy(**changes))
    if type(saved.get("prefer_3d")) is bool:
        panel.check_3d.setChecked(saved["prefer_3d"])
    speed = saved.get("play_speed")
    if isinstance(speed, int | float) and np.isfinite(speed) and speed > 0:
        panel.set_play_speed(float(speed))
    if type(saved.get("repeat")) is bool:
        panel.set_repeat(saved["repeat"])
    sel = saved.get("selection")
    if isinstance(sel, dict) and sel.get("data") == dataclasses.asdict(panel.state.config.data):
        rows = sel.get("rows")
        if isinstance(rows, list) and all(type(r) is int for r in rows):
            panel.set_selection(np.asarray(rows[:MAX_SELECTION], dtype=np.int64))


def save(panel: Any) -> None:
    s = app_settings.settings()
    s.setValue(KEY, json.dumps(snapshot(panel)))
    s.sync()


def restore(panel: Any) -> bool:
    """Apply the saved choices to `panel`; False when there are none (or unreadable)."""
    raw = app_settings.settings().value(KEY)
    if not isinstance(raw, str) or not raw:
        return False
    try:
        saved = json.loads(raw)
    except ValueError:
        return False
    if not isinstance(saved, dict):
        return False
    apply(panel, saved)
    return True
