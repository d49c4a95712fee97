"""Export dialog, web page (.html): a real self-contained page written in the background
while the window keeps turning, the fields a page has no use for off with the reason,
one-line errors, Cancel, and the end in the command line's words."""

from __future__ import annotations

import html
import logging
import re
from pathlib import Path

import pytest
from plotly.offline import get_plotlyjs
from PySide6.QtCore import Qt, QTimer

from nndyn_gui.core.analysis import narrator
from nndyn_gui.core.types import Run
from nndyn_gui.render.encode import ExportError
from nndyn_gui.render.web import WebOptions, written_summary
from nndyn_gui.ui import export_run
from nndyn_gui.ui.export_dialog import ExportDialog
from nndyn_gui.ui.export_fields import WEB_ONLY
from nndyn_gui.ui.state import AppState
from tests.render.web_runs import small_run


@pytest.fixture
def run() -> Run:
    return small_run(width=2, depth=8, n=300, snapshots=3)


def _dialog(qtbot, run: Run, folder: Path | None = None) -> ExportDialog:
    state = AppState(run.config)
    state.load_run(run)
    dlg = ExportDialog(state)
    qtbot.addWidget(dlg)
    dlg.show()
    dlg.format_combo.setCurrentIndex(dlg.format_combo.findData(".html"))
    if folder is not None:
        dlg.path_edit.setText(str(folder / "flow.html"))
    return dlg


def test_the_page_is_written_in_the_background_self_contained(
    qtbot, run: Run, tmp_path: Path
) -> None:
    """Export writes one page that opens offline (plotly.js inlined, no script fetched,
    the run's title), the event loop turns all along, and the end says what it holds in
    the words `nndyn render --kind html` prints."""
    dlg = _dialog(qtbot, run, tmp_path)
    assert dlg.export_button.isEnabled(), dlg.error_label.text()
    ticks_while_busy: list[int] = []
    timer = QTimer()
    timer.setInterval(10)
    timer.timeout.connect(lambda: ticks_while_busy.append(1) if dlg.busy else None)
    timer.start()
    with qtbot.waitSignal(dlg.finished, timeout=60000) as sig:
        qtbot.mouseClick(dlg.export_button, Qt.MouseButton.LeftButton)
        assert dlg.busy and dlg.progress.isVisible()
        assert dlg.progress.maximum() == 0  # busy: no frames to count
        assert dlg.cancel_button.text() == "Cancel"
        assert "Writing flow.html" in dlg.status_label.text()
    timer.stop()
    target = tmp_path / "flow.html"
    assert sig.args == [str(target)]
    assert len(ticks_while_busy) >= 3  # the window's event loop kept turning
    text = target.read_text("utf-8")
    assert get_plotlyjs()[:2000] in text  # the plotly.js bundle itself
    assert f"<title>{html.escape(narrator.run_title(run.config))}</title>" in text
    assert not re.search(r"<script[^>]*\bsrc\s*=\s*['\"]?(https?:)?//", text, re.I)
    summary = written_summary(run, WebOptions(), target.stat().st_size)
    assert summary.startswith("wrote ") and "9 of 9 layers, 3 of 3 snapshots" in summary
    status = dlg.status_label.text()
    assert f"Saved {target}" in status and ("W" + summary[1:]) in status
    assert not dlg.busy and not dlg.progress.isVisible() and dlg.open_folder_button.isVisible()
    # the next export is offered a name of its own, never the file just written
    assert dlg.path_edit.text() != str(target) and dlg.path_edit.text().endswith("-page-1.html")


def test_fields_a_page_has_no_use_for_are_off_and_say_why(qtbot, run: Run) -> None:
    dlg = _dialog(qtbot, run)
    assert dlg.path_edit.text().endswith("-page-1.html")
    for w in (
        dlg.content_combo,
        dlg.size_combo,
        dlg.fps_spin,
        dlg.seconds_spin,
        dlg.legend_check,
        dlg.caption_edit,
    ):
        assert not w.isEnabled()
        assert w.toolTip().startswith("Not used for a web page: ")
    assert "fills the browser window" in dlg.size_combo.toolTip()
    note = dlg.content_note.text()
    assert dlg.content_note.isVisible() and "Not used for it" in note
    assert "• Size: the page fills the browser window" in note
    transparent = dlg.background_combo.model().item(2)
    assert not transparent.isEnabled() and "white or dark" in transparent.toolTip()
    spins = dlg.fields.web_spins
    assert all(b.isEnabled() for b in spins.values())
    assert spins["layers"].text() == "all" and spins["grid"].text() == "20 × 20"
    spins["layers"].stepUp()  # 1 layer cannot be kept (input and output are): 2
    assert spins["layers"].value() == 2
    assert dlg.snapshot_label.text().startswith("3 of 3 snapshots, untrained (step 0) to step 200")
    assert "2-D" in dlg.camera_label.text()
    assert dlg.update_preview() and dlg.preview_note.isVisible()
    assert "opens on this picture (step 200, the output layer)" in dlg.preview_note.text()

    dlg.format_combo.setCurrentIndex(dlg.format_combo.findData(".mp4"))
    assert dlg.size_combo.isEnabled() and dlg.fps_spin.isEnabled() and dlg.caption_edit.isEnabled()
    assert not dlg.caption_edit.toolTip().startswith("Not used")
    assert dlg.fps_spin.toolTip().startswith("Frames per second")
    assert all(not b.isEnabled() and b.toolTip() == WEB_ONLY for b in spins.values())
    assert "Not used for it" not in dlg.content_note.text()
    assert dlg.update_preview() and not dlg.preview_note.isVisible()


def test_compare_has_no_web_page(qtbot, run: Run) -> None:
    dlg = ExportDialog(AppState(run.config), compare=(run, run, ["A", "B"]))
    qtbot.addWidget(dlg)
    item = dlg.format_combo.model().item(dlg.format_combo.findData(".html"))
    assert not item.isEnabled() and "one run" in item.toolTip()


def test_a_bad_path_is_one_line_before_and_after_export(
    qtbot, run: Run, tmp_path: Path, monkeypatch, caplog
) -> None:
    dlg = _dialog(qtbot, run)
    dlg.path_edit.setText(str(tmp_path / "missing" / "flow.html"))
    assert dlg.error_label.text() == f"folder does not exist: {tmp_path / 'missing'}"
    assert not dlg.export_button.isEnabled()
    dlg.path_edit.setText(str(tmp_path / "flow.txt"))
    assert dlg.error_label.text() == "a web page is an .html file, got 'flow.txt'"
    dlg.path_edit.setText(str(tmp_path / "flow.html"))
    assert not dlg.error_label.isVisible() and dlg.export_button.isEnabled()

    # the folder goes away after the check: the thread's one line reaches the dialog
    def unwritable(run, path, options, overwrite, cancelled):
        raise ExportError(f"cannot write {path}: Permission denied")

    monkeypatch.setattr(export_run, "write_html", unwritable)
    with qtbot.waitSignal(dlg.failed, timeout=10000) as sig:
        qtbot.mouseClick(dlg.export_button, Qt.MouseButton.LeftButton)
    assert sig.args == [f"cannot write {tmp_path / 'flow.html'}: Permission denied"]
    assert dlg.status_label.text() == f"Export failed: {sig.args[0]}"
    assert "\n" not in dlg.status_label.text() and not dlg.busy

    def bug(*args, **kwargs):
        raise ValueError("a bug\nwith two lines")

    monkeypatch.setattr(export_run, "write_html", bug)
    with caplog.at_level(logging.ERROR), qtbot.waitSignal(dlg.failed, timeout=10000) as sig:
        qtbot.mouseClick(dlg.export_button, Qt.MouseButton.LeftButton)
    assert sig.args[0].startswith("export failed: ValueError: a bug")
    assert "web page could not be written" in caplog.text  # the log keeps the traceback
    assert list(tmp_path.iterdir()) == []


def test_cancel_drops_the_page_before_it_is_written(qtbot, run: Run, tmp_path: Path) -> None:
    dlg = _dialog(qtbot, run, tmp_path)
    with qtbot.waitSignal(dlg.failed, timeout=60000) as sig:
        qtbot.mouseClick(dlg.export_button, Qt.MouseButton.LeftButton)
        qtbot.mouseClick(dlg.cancel_button, Qt.MouseButton.LeftButton)
        assert "Cancelling" in dlg.status_label.text()
    assert sig.args == ["export cancelled"]
    assert dlg.status_label.text() == "Export cancelled: nothing was written."
    assert list(tmp_path.iterdir()) == []
    assert not dlg.busy and dlg.cancel_button.text() == "Close" and dlg.cancel_button.isEnabled()
