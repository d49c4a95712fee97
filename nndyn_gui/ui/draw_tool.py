"""Draw the data: click adds a point of the chosen class, shift-click or right-click
removes one, a drag paints (or, with shift / the right button, erases) a stroke.

Why it looks like this:
- The layer view only reports where the mouse went (`LayerView2D.drawEdit`, input
  coordinates, since drawing happens at the input layer); this tool owns the edit: it
  collects a stroke, shows it as a preview while the button is down, and hands the new
  point set to AppState once, when the stroke ends. One stroke is one undo step and one
  restart of a run in progress (AppState.replace_data; the window restarts training on
  it like on any other change of the data).
- A drawn data set is named "drawn" (core.datasets.drawn_dataset): all its points
  train, and the run file is where it lives (`make_dataset` cannot make it again).
  The first edit turns the data shown (a ring, say) into a drawn set with the same
  points, so drawing can start from any data set; undo goes back to it.
- Painting adds a point every PAINT_SPACING_PX along the stroke (filled in between the
  mouse positions), so a quick stroke and a slow one leave the same density; erasing
  removes every point within
  ERASE_RADIUS_PX of the stroke, a click the nearest point within PICK_RADIUS_PX.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import QObject, Signal

from nndyn_gui.core.config import DataConfig
from nndyn_gui.core.datasets import drawn_dataset, save_csv
from nndyn_gui.core.io.limits import MAX_POINTS
from nndyn_gui.core.types import Dataset
from nndyn_gui.ui.state import AppState, ChangeDeclined

PAINT_SPACING_PX = 9.0
ERASE_RADIUS_PX = 12.0
PICK_RADIUS_PX = 10.0
MAX_UNDO = 200


class DrawTool(QObject):
    """Edits of the data set drawn in the layer view, with undo / redo."""

    changed = Signal()  # undo / redo availability, the stroke preview
    message = Signal(str)  # a short note for the status bar

    def __init__(self, state: AppState, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self.label = 1  # the class new points get
        self._undo: list[tuple[Dataset, DataConfig]] = []
        self._redo: list[tuple[Dataset, DataConfig]] = []
        self._stroke: str = ""  # "add" | "erase" | "erase_one" while the button is down
        self._added: list[tuple[float, float]] = []
        self._erase_at: list[tuple[float, float, float]] = []  # x, y, radius
        self._last: tuple[float, float] | None = None
        # the erase mask so far: each mouse move tests only its new positions
        self._mask: np.ndarray | None = None
        self._mask_of: np.ndarray | None = None  # the points it is for
        self._mask_done = 0  # erase positions already in it
        self._applying = False
        state.datasetChanged.connect(self._on_dataset)

    def _on_dataset(self, *_: object) -> None:
        if not self._applying:  # a preset, a run file, the parameter panel: not ours
            self.forget()

    # ------------------------------------------------------------------ queries
    def points(self) -> tuple[np.ndarray, np.ndarray]:
        """The data set's points (train and test) and labels, as drawing starts from."""
        ds = self.state.dataset
        return np.asarray(ds.x_all, dtype=np.float64), np.asarray(ds.y_all, dtype=np.int64)

    def can_undo(self) -> bool:
        return bool(self._undo)

    def can_redo(self) -> bool:
        return bool(self._redo)

    def preview(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The stroke in progress: (added points, their labels, points about to go)."""
        added = np.array(self._added, dtype=np.float64).reshape(-1, 2)
        labels = np.full(len(added), self.label, dtype=np.int64)
        x, _ = self.points()
        gone = x[self._erased_mask(x)] if self._erase_at else np.zeros((0, 2))
        return added, labels, gone

    # ------------------------------------------------------------------ edits
    def edit(self, kind: str, x: float, y: float, pixel: float) -> None:
        """One event of the view's `drawEdit` (see LayerView2D): pixel = view units/px."""
        if kind == "begin":
            self._stroke, self._added, self._erase_at, self._last = "", [], [], None
            self._mask = None
            return
        if kind == "end":
            self._finish()
            return
        if not (np.isfinite(x) and np.isfinite(y)):
            return
        x, y = float(np.clip(x, -1.0, 1.0)), float(np.clip(y, -1.0, 1.0))
        self._stroke = self._stroke or kind
        if kind == "add":
            for p in self._along(x, y, PAINT_SPACING_PX * pixel):
                self._added.append(p)
        elif kind == "erase":
            r = ERASE_RADIUS_PX * pixel
            self._erase_at.extend((px, py, r) for px, py in self._along(x, y, 0.5 * r))
        elif kind == "erase_one":
            self._erase_at.append((x, y, PICK_RADIUS_PX * pixel))
        self.changed.emit()

    def _along(self, x: float, y: float, spacing: float) -> list[tuple[float, float]]:
        """Evenly spaced points from the stroke's last point towards (x, y): the mouse
        reports a fast stroke in big jumps, the points still come every `spacing`."""
        last = self._last
        if last is None:
            self._last = (x, y)
            return [(x, y)]
        d = float(np.hypot(x - last[0], y - last[1]))
        if spacing <= 0 or d < spacing:
            return []
        n = int(d // spacing)
        out = [
            (last[0] + (x - last[0]) * i * spacing / d, last[1] + (y - last[1]) * i * spacing / d)
            for i in range(1, n + 1)
        ]
        self._last = out[-1]
        return out

    def _erased_mask(self, x: np.ndarray) -> np.ndarray:
        """The points under the stroke's erase positions (kept up to date, not redone:
        a long stroke over 100,000 points re-tested every position at every move)."""
        if self._mask is None or self._mask_of is not x or self._mask_done > len(self._erase_at):
            self._mask, self._mask_of, self._mask_done = np.zeros(len(x), dtype=bool), x, 0
        mask = self._mask
        if not len(x):
            return mask
        for ex, ey, r in self._erase_at[self._mask_done :]:
            d = np.hypot(x[:, 0] - ex, x[:, 1] - ey)
            if self._stroke == "erase_one":
                j = int(np.argmin(d))
                if d[j] <= r:
                    mask[j] = True
            else:
                mask |= d <= r
        self._mask_done = len(self._erase_at)
        return mask

    def _finish(self) -> None:
        x, y = self.points()
        if self._stroke == "add" and self._added:
            new = np.array(self._added, dtype=np.float64)
            x = np.concatenate([x, new])
            y = np.concatenate([y, np.full(len(new), self.label, dtype=np.int64)])
        elif self._stroke in ("erase", "erase_one"):
            keep = ~self._erased_mask(x)
            if keep.all():
                self._reset_stroke()
                return
            x, y = x[keep], y[keep]
        else:
            self._reset_stroke()
            return
        self._reset_stroke()
        if len(y) > MAX_POINTS:
            self.message.emit(f"A drawn data set holds at most {MAX_POINTS:,} points")
            return
        self._commit(*drawn_dataset(x, y))

    def _reset_stroke(self) -> None:
        self._stroke, self._added, self._erase_at, self._last = "", [], [], None
        self._mask = None
        self.changed.emit()

    def clear(self) -> bool:
        """Remove every point (start a drawing from nothing)."""
        return self._commit(*drawn_dataset(np.zeros((0, 2)), np.zeros(0, dtype=np.int64)))

    def undo(self) -> bool:
        if not self._undo:
            return False
        before = self._undo.pop()
        now = (self.state.dataset, self.state.config.data)
        if not self._apply(*before):
            self._undo.append(before)
            return False
        self._redo.append(now)
        self.changed.emit()
        return True

    def redo(self) -> bool:
        if not self._redo:
            return False
        after = self._redo.pop()
        now = (self.state.dataset, self.state.config.data)
        if not self._apply(*after):
            self._redo.append(after)
            return False
        self._undo.append(now)
        self.changed.emit()
        return True

    def forget(self) -> None:
        """Another data set or run was loaded: the undo history no longer applies."""
        self._undo.clear()
        self._redo.clear()
        self.changed.emit()

    def export_csv(self, path: str) -> None:
        """Write the points shown as CSV (x1, x2, label); raises OSError."""
        x, y = self.points()
        save_csv(Path(path), x, y)

    def _commit(self, dataset: Dataset, data: DataConfig) -> bool:
        before = (self.state.dataset, self.state.config.data)
        if not self._apply(dataset, data):
            return False
        self._undo.append(before)
        del self._undo[:-MAX_UNDO]
        self._redo.clear()
        self.changed.emit()
        return True

    def _apply(self, dataset: Dataset, data: DataConfig) -> bool:
        self._applying = True
        try:
            self.state.replace_data(dataset, data)
        except ChangeDeclined:
            return False
        finally:
            self._applying = False
        return True
