"""Draw mode of the main view: the input layer, in 2-D, where clicks and drags edit the data.

Why it exists: entering Draw changes what the view shows (3-D off, Play and the layer
slider held at the input, the Draw row shown, the view's clicks editing the data set) and
leaving it gives them back (3-D as it was); one small object does both ways, so the layer
panel only says when. The tool that edits the data is ui/draw_tool.py, its row of
buttons ui/draw_controls.py.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal, Slot
from PySide6.QtWidgets import QAbstractButton

from nndyn_gui.ui.draw_controls import DrawControls
from nndyn_gui.ui.playback import Playback
from nndyn_gui.ui.state import AppState
from nndyn_gui.ui.view_host import LayerViewHost


class DrawMode(QObject):
    """On while `button` is checked; `changed(on)` follows (after the Draw row)."""

    changed = Signal(bool)

    def __init__(
        self,
        state: AppState,
        button: QAbstractButton,
        check_3d: QAbstractButton,
        controls: DrawControls,
        playback: Playback,
        host: LayerViewHost,
        parent: QObject,
    ) -> None:
        super().__init__(parent)
        self.state, self.button, self.check_3d = state, button, check_3d
        self.controls, self.playback, self.host = controls, playback, host
        self._was_3d = True  # the 3-D box before drawing: given back after
        button.toggled.connect(self.set_active)
        controls.draw_tool.changed.connect(self.refresh)

    def active(self) -> bool:
        return self.button.isChecked()

    @Slot(bool)
    def set_active(self, on: bool) -> None:
        """Draw mode: the input layer in 2-D, where clicks and drags edit the data."""
        if self.button.isChecked() != on:
            self.button.setChecked(on)  # comes back here through `toggled`
            return
        self.playback.hold_at_input(on)  # first: every time set from here on is the input's
        self.controls.set_active(on)
        self.changed.emit(on)
        if on:
            self._was_3d = self.check_3d.isChecked()
            self.check_3d.setChecked(False)  # drawing happens in the plane of the data
        else:
            self.check_3d.setChecked(self._was_3d)
        self.check_3d.setEnabled(not on and self.state.config.model.width >= 3)
        self.host.set_drawing(on)
        self.refresh()

    @Slot()
    def refresh(self) -> None:
        """The Draw row's buttons and the view's preview of the points drawn."""
        self.controls.refresh(self.active())
        self.host.set_draw_preview(*self.controls.draw_tool.preview())
