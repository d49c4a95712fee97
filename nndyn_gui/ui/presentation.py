"""Presentation mode (F11, View → Presentation): the layer view alone, full screen.

For a lecture hall: every dock, bar and slider goes, the view fills the screen and its
points, lines and labels are drawn for a projector (ViewOptions.scale from the screen's
height, as an export of that size would be). The keys a presenter needs:

    Space play / pause · ← → previous / next layer · PgUp PgDn previous / next snapshot
    Esc (or F11) back to the window as it was

The navigation keys are actions of the window, enabled only while presenting: in the
window the arrow keys stay with the sliders and number boxes.

With the window's bars gone, a caption in the top right corner says what the audience
sees: the run's title (core.analysis.narrator.run_title, made from the config, so an edited
preset is not called by the preset's name) and the step of the snapshot drawn, with its
test accuracy (ui/steps; "computing step N…" while a newer one is being drawn).
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QByteArray, QObject, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QDockWidget, QLabel, QMainWindow, QToolBar

from nndyn_gui.core.analysis import narrator
from nndyn_gui.render.export_spec import SCALE_AT_720P, size_scale
from nndyn_gui.ui import steps

HINT = "Space play · ← → layer · PgUp PgDn snapshot · Esc leave"
HINT_MS = 4000


def presentation_scale(width: int, height: int) -> float:
    """Sizes on a screen of width x height: those of an export of that size, and never
    smaller than a 720p export's (a projector is read from the back of the room)."""
    return max(SCALE_AT_720P, size_scale(width, height))


class Presentation(QObject):
    """Enters and leaves presentation mode for a MainWindow; owns its actions."""

    changed = Signal(bool)  # presenting or not

    def __init__(self, window: QMainWindow, layer_panel: Any) -> None:
        super().__init__(window)
        self.window = window
        self.layer = layer_panel
        self.active = False
        self._saved: dict[str, Any] = {}

        self.action = self._add("Presentation", self.toggle, "F11", checkable=True)
        self.action.setToolTip("The layer view alone, full screen, sized for a projector (F11)")
        self.nav_actions = [
            self._add("Previous layer", lambda: self.layer.step_layer(-1), "Left"),
            self._add("Next layer", lambda: self.layer.step_layer(+1), "Right"),
            self._add("Previous snapshot", lambda: self.layer.scrubber.step(-1), "PgUp"),
            self._add("Next snapshot", lambda: self.layer.scrubber.step(+1), "PgDown"),
            self._add("Leave presentation", self.leave, "Esc"),
        ]
        for act in self.nav_actions:
            act.setEnabled(False)

        self.hint = QLabel(HINT, layer_panel)
        self.hint.setObjectName("presentationHint")
        self.hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.hint.setStyleSheet(
            "QLabel#presentationHint { background: rgba(30, 30, 30, 190); color: white;"
            " border-radius: 6px; padding: 6px 14px; }"
        )
        self.hint.hide()
        self._hint_timer = QTimer(self)
        self._hint_timer.setSingleShot(True)
        self._hint_timer.setInterval(HINT_MS)
        self._hint_timer.timeout.connect(self.hint.hide)
        self.caption = QLabel("", layer_panel)
        self.caption.setObjectName("presentationCaption")
        self.caption.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop)
        self.caption.setStyleSheet(
            "QLabel#presentationCaption { background: rgba(30, 30, 30, 150); color: white;"
            " border-radius: 6px; padding: 4px 10px; }"
        )
        self.caption.hide()
        self.state: Any = getattr(window, "state", None)
        if self.state is not None:
            for signal in (
                self.state.shownChanged,
                self.state.currentChanged,
                self.state.configChanged,
            ):
                signal.connect(self._update_caption)
        layer_panel.installEventFilter(self)  # keeps the hint centred when the view resizes

    def _add(self, text: str, slot: Any, key: str, checkable: bool = False) -> QAction:
        act = QAction(text, self.window)
        act.setShortcut(QKeySequence(key))
        act.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        act.setCheckable(checkable)
        act.triggered.connect(slot)
        self.window.addAction(act)
        return act

    # ------------------------------------------------------------------ public
    @Slot()
    def toggle(self) -> None:
        if self.active:
            self.leave()
        else:
            self.enter()

    @Slot()
    def enter(self) -> None:
        """Hide everything but the layer view, go full screen, scale for the screen."""
        if self.active:
            return
        win = self.window
        self._saved = {
            "geometry": QByteArray(win.saveGeometry()),
            "state": QByteArray(win.saveState()),
            "maximized": win.isMaximized(),
            "options": self.layer.options(),
        }
        self.active = True
        for dock in win.findChildren(QDockWidget):
            dock.hide()
        for bar in (win.menuBar(), win.statusBar(), *self._toolbars()):
            bar.hide()
        self.layer.controls_box.hide()
        screen = win.screen().geometry() if win.screen() is not None else win.geometry()
        win.setGeometry(screen)  # X without a window manager (Xvfb) ignores "full screen"
        win.showFullScreen()
        scale = presentation_scale(screen.width(), screen.height())
        self.layer.set_options(self._saved["options"].copy(scale=scale))
        for act in self.nav_actions:
            act.setEnabled(True)
        self.action.setChecked(True)
        self._show_hint()
        self._update_caption()
        self.changed.emit(True)

    @Slot()
    def leave(self) -> None:
        """Back to the window as it was: docks, bars, sliders, size and the view's sizes."""
        if not self.active:
            return
        win = self.window
        self.active = False
        self._hint_timer.stop()
        self.hint.hide()
        self.caption.hide()
        for act in self.nav_actions:
            act.setEnabled(False)
        for bar in (win.menuBar(), win.statusBar(), *self._toolbars()):
            bar.show()
        self.layer.controls_box.show()
        win.showNormal()
        if self._saved.get("maximized"):
            win.showMaximized()
        win.restoreGeometry(self._saved["geometry"])
        win.restoreState(self._saved["state"])
        scale = self._saved["options"].scale
        self.layer.set_options(self.layer.options().copy(scale=scale))
        self.action.setChecked(False)
        self.changed.emit(False)

    def shutdown(self) -> None:
        self._hint_timer.stop()

    def wait_until_full_screen(self, timeout_s: float = 3.0) -> bool:
        """Let the window system make the window screen-sized (automation, screenshots)."""
        import time

        from PySide6.QtWidgets import QApplication

        screen = self.window.screen()
        end = time.monotonic() + timeout_s
        while time.monotonic() < end:
            QApplication.processEvents()
            if screen is None or self.window.size() == screen.geometry().size():
                return True
            time.sleep(0.02)
        return False

    def eventFilter(self, obj: Any, ev: Any) -> bool:
        from PySide6.QtCore import QEvent

        if ev.type() == QEvent.Type.Resize and self.hint.isVisible():
            self._place_hint()
        if ev.type() == QEvent.Type.Resize and self.caption.isVisible():
            self._place_caption()
        return False

    def caption_text(self) -> str:
        """The run's title, then the step drawn and its test accuracy (and the step being
        drawn, if newer): the narrator's and ui/steps' words."""
        st = self.state
        if st is None:
            return ""
        lines = [narrator.run_title(st.config)]
        shown = st.shown
        if shown is not None:
            line = steps.step_name(shown)
            if narrator.is_trained(shown):
                line += f" · test {narrator.fmt_pct(shown.test_acc)}"
            todo = steps.pending(shown, st.current)
            if todo is not None:
                line += f" · {steps.pending_name(todo)}"
            lines.append(line)
        return "\n".join(lines)

    # ------------------------------------------------------------------ internals
    def _toolbars(self) -> list[Any]:
        return list(self.window.findChildren(QToolBar))

    def _show_hint(self) -> None:
        self.hint.adjustSize()
        font = self.hint.font()
        font.setPixelSize(max(12, round(14 * self.layer.options().scale / 1.5)))
        self.hint.setFont(font)
        self.hint.adjustSize()
        self._place_hint()
        self.hint.raise_()
        self.hint.show()
        self._hint_timer.start()

    @Slot()
    def _update_caption(self, *_: object) -> None:
        if not self.active:
            return
        font = self.caption.font()
        font.setPixelSize(max(12, round(13 * self.layer.options().scale / 1.5)))
        self.caption.setFont(font)
        self.caption.setText(self.caption_text())
        self.caption.adjustSize()
        self._place_caption()
        self.caption.raise_()
        self.caption.show()

    def _place_caption(self) -> None:
        self.caption.move(max(0, self.layer.rect().width() - self.caption.width() - 12), 12)

    def _place_hint(self) -> None:
        p = self.layer.rect()
        self.hint.move((p.width() - self.hint.width()) // 2, p.height() - self.hint.height() - 24)
