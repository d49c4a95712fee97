"""Presentation mode (F11, View → Presentation): the layer view alone, full screen.

For a lecture hall: every dock, bar and slider goes, the view fills the screen and its
points, lines and labels are drawn for a projector (ViewOptions.scale from the screen's
height, as an export of that size would be). The keys a presenter needs:

    Space play / pause · ← → previous / next layer · PgUp PgDn previous / next snapshot
    Esc (or F11) back to the window as it was

The navigation keys are actions of the window, enabled only while presenting: in the
window the arrow keys stay with the sliders and number boxes.

With the window's bars gone, the words beside the picture say what the audience sees
(ui/presentation_text.py lays them out, sized for the back of the room): the run's title
(core.analysis.narrator.run_title, made from the config, so an edited preset is not
called by the preset's name), the layer, the step of the snapshot drawn with its test
accuracy (ui/steps; "computing step N…" while a newer one is being drawn), the class
legend and the view's note. The view itself then draws no caption (its
`in_picture_text`), so no text lies on the data or the boundary.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QByteArray, QObject, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QDockWidget, QLabel, QMainWindow, QToolBar

from nndyn_gui.core.analysis import narrator
from nndyn_gui.render.export_spec import SCALE_AT_720P, size_scale
from nndyn_gui.ui import steps
from nndyn_gui.ui.presentation_text import PresentationText

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
        self.text = PresentationText(layer_panel)
        self.caption = self.text.caption  # the step drawn and its test accuracy
        self.title = self.text.title
        self.legend = self.text.legend
        self._layer_texts: tuple[Any, str] = (None, "")  # (scene, its widest layer name)
        layer_panel.sceneChanged.connect(self._on_scene)
        layer_panel.timeChanged.connect(self._on_time)
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
        # the camera follows the layer shown: with one box around every layer, a layer
        # that shrank filled a third of the screen (the data >= 80 % of its height)
        self.layer.set_options(
            self._saved["options"].copy(scale=scale, hall_text=True, steady_camera=False)
        )
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
        self.text.hide()
        self.layer.layout().setContentsMargins(0, 0, 0, 0)
        self._picture_text(True)
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
        saved = self._saved["options"]
        self.layer.set_options(
            self.layer.options().copy(
                scale=saved.scale, hall_text=saved.hall_text, steady_camera=saved.steady_camera
            )
        )
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
        if ev.type() == QEvent.Type.Resize and self.active:
            self._lay_out()
        return False

    def caption_text(self) -> str:
        """The step drawn and its test accuracy (and the step being drawn, if newer):
        ui/steps' and the narrator's words."""
        st = self.state
        shown = None if st is None else st.shown
        if shown is None:
            return ""
        line = steps.step_name(shown)
        if narrator.is_trained(shown):
            line += f" · test {narrator.fmt_pct(shown.test_acc)}"
        todo = steps.pending(shown, st.current)
        if todo is not None:
            line += f" · {steps.pending_name(todo)}"
        return line

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

    def _picture_text(self, on: bool) -> None:
        """The view's own caption: off while presenting (the words are beside it)."""
        view = self.layer.view
        if view is None or getattr(view, "in_picture_text", on) == on:
            return
        view.in_picture_text = on
        view.set_time(view.time())  # redraw its caption (or none)

    @Slot(object)
    def _on_scene(self, _scene: object) -> None:
        if self.active:
            self._picture_text(False)  # the host may have made a new view (2-D <-> 3-D)
            self._update_caption()

    @Slot(float)
    def _on_time(self, t: float) -> None:
        sc = self.layer.scene
        if self.active and sc is not None:
            self.text.set_layer(sc.layer_label(t))
            view = self.layer.view
            if getattr(view, "_DIMS", 3) == 2:  # a layer much wider than high: bands
                w, h = self.layer.width(), self.layer.height()
                bands = self.text.bands
                if self.text.bands_fit_better(w, h, self._aspect(), bands) != bands:
                    self._lay_out()

    def _aspect(self) -> float:
        """Width / height of the 2-D box the view frames now (1 without a view)."""
        view = self.layer.view
        shown = view.flow_scene() if view is not None else None
        if shown is None:
            return 1.0
        lo, hi = shown.box_at(view.time())[:, :2]
        return float((hi[0] - lo[0]) / max(hi[1] - lo[1], 1e-12))

    @Slot()
    def _update_caption(self, *_: object) -> None:
        if not self.active:
            return
        self._picture_text(False)
        st, sc = self.state, self.layer.scene
        title = narrator.run_title(st.config) if st is not None else ""
        note = ""
        layer = ""
        labels = None
        if sc is not None:
            t = self.layer.time()
            layer = sc.layer_label(t)
            note = sc.view_note(t)
            labels = sc.labels
        view = self.layer.view
        caption = getattr(getattr(view, "field", None), "caption", "")
        note = " · ".join(x for x in (note, caption) if x)
        bg = self.layer.options().background
        names = st.run_config.data.names if st is not None else ()
        self.text.set_texts(title, layer, self.caption_text(), note, labels, bg, names)
        self._lay_out()

    def _lay_out(self) -> None:
        """The words beside the view, the view in the rest (panel margins)."""
        screen = self.window.screen()
        geo = screen.geometry() if screen is not None else self.window.geometry()
        view = self.layer.view
        dims = 3 if view is not None and getattr(view, "_DIMS", 2) == 3 else 2
        sc = self.layer.scene
        if sc is not None and self._layer_texts[0] is not sc:
            names = [sc.layer_label(k) for k in range(int(sc.t_max) + 1)]
            self._layer_texts = (sc, max(names, key=len))
        margins = self.text.lay_out(
            geo.width(), geo.height(), dims, self._layer_texts[1], self._aspect()
        )
        lay = self.layer.layout()
        m = lay.contentsMargins()
        if (m.left(), m.top(), m.right(), m.bottom()) != margins:  # re-lays out the view
            lay.setContentsMargins(*margins)
        self._place_hint()
        self.hint.raise_()

    def _place_hint(self) -> None:
        p = self.layer.rect()
        left, _top, right, bottom = self.text.margins
        x = left + (p.width() - left - right - self.hint.width()) // 2
        self.hint.move(x, p.height() - bottom - self.hint.height() - 24)
