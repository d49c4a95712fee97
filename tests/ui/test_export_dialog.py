"""Export dialog: disabled combinations, a real GIF, Cancel and the overwrite prompt."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox

from nndyn_gui.core.config import RunConfig
from nndyn_gui.ui.export_dialog import ExportDialog
from nndyn_gui.ui.state import AppState


def _dialog(qtbot, cfg: RunConfig) -> ExportDialog:
    dlg = ExportDialog(AppState(cfg))
    qtbot.addWidget(dlg)
    dlg.show()
    return dlg


def _tiny_gif(dlg: ExportDialog, path: Path, seconds: float = 0.6) -> None:
    dlg.format_combo.setCurrentIndex(dlg.format_combo.findData(".gif"))
    dlg.size_combo.setCurrentIndex(dlg.size_combo.count() - 1)  # Custom…
    dlg.width_spin.setValue(96)
    dlg.height_spin.setValue(64)
    dlg.fps_spin.setValue(5)
    dlg.seconds_spin.setValue(seconds)
    dlg.hold_spin.setValue(0.0)
    dlg.path_edit.setText(str(path))


def _item(dlg: ExportDialog, content: str):
    return dlg.content_combo.model().item(dlg.content_combo.findData(content))


def test_orbit_disabled_and_explained_for_width_2(qtbot, small_config: RunConfig) -> None:
    dlg = _dialog(qtbot, small_config)  # width 2
    item = _item(dlg, "orbit")
    assert not item.isEnabled()
    assert "width" in item.toolTip()
    assert "Camera orbit" in dlg.content_note.text()
    assert not dlg.is_content_enabled("training")  # nothing trained yet


def test_orbit_enabled_for_width_3_and_sheet_disabled_for_video(
    qtbot, small_config: RunConfig
) -> None:
    cfg = small_config.copy()
    cfg.model.width = 3
    dlg = _dialog(qtbot, cfg.validate())
    assert _item(dlg, "orbit").isEnabled()
    dlg.content_combo.setCurrentIndex(dlg.content_combo.findData("sheet"))
    dlg.format_combo.setCurrentIndex(dlg.format_combo.findData(".mp4"))
    assert not _item(dlg, "sheet").isEnabled()
    assert dlg.content() == "layers"  # switched away, and said so
    assert "switched to Layers flow" in dlg.content_note.text()
    assert dlg.path_edit.text().endswith(".mp4")
    assert dlg.fps_spin.isEnabled()
    dlg.format_combo.setCurrentIndex(dlg.format_combo.findData(".png"))
    assert not dlg.fps_spin.isEnabled()  # stills have no timing


def test_invalid_folder_reported_inline(qtbot, small_config: RunConfig, tmp_path: Path) -> None:
    dlg = _dialog(qtbot, small_config)
    dlg.path_edit.setText(str(tmp_path / "missing" / "a.png"))
    assert dlg.error_label.isVisible() and "folder does not exist" in dlg.error_label.text()
    assert not dlg.export_button.isEnabled()
    dlg.path_edit.setText(str(tmp_path / "a.png"))
    assert not dlg.error_label.isVisible() and dlg.export_button.isEnabled()


def test_export_tiny_gif_through_the_dialog(qtbot, small_config: RunConfig, tmp_path) -> None:
    dlg = _dialog(qtbot, small_config)
    target = tmp_path / "flow.gif"
    _tiny_gif(dlg, target)
    with qtbot.waitSignal(dlg.finished, timeout=30000) as sig:
        qtbot.mouseClick(dlg.export_button, Qt.MouseButton.LeftButton)
    assert sig.args == [str(target)]
    assert target.read_bytes()[:6] in (b"GIF89a", b"GIF87a")
    assert "Saved" in dlg.status_label.text() and str(target) in dlg.status_label.text()
    assert dlg.open_folder_button.isVisible()
    assert not dlg.busy and not dlg.progress.isVisible()


def test_cancel_leaves_no_file(qtbot, small_config: RunConfig, tmp_path: Path) -> None:
    dlg = _dialog(qtbot, small_config)
    target = tmp_path / "long.gif"
    _tiny_gif(dlg, target, seconds=20.0)
    with qtbot.waitSignal(dlg.failed, timeout=10000) as sig:
        qtbot.mouseClick(dlg.export_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: dlg.progress.value() >= 2, timeout=10000)
        assert dlg.cancel_button.text() == "Cancel"
        qtbot.mouseClick(dlg.cancel_button, Qt.MouseButton.LeftButton)
    assert "cancelled" in sig.args[0]
    assert list(tmp_path.iterdir()) == []  # neither the file nor a temp file
    assert "nothing was written" in dlg.status_label.text()
    assert dlg.isVisible()  # Cancel stops the export, not the dialog


@pytest.mark.parametrize("answer", [QMessageBox.StandardButton.No, QMessageBox.StandardButton.Yes])
def test_existing_file_prompt_is_respected(
    qtbot, small_config: RunConfig, tmp_path: Path, monkeypatch, answer
) -> None:
    target = tmp_path / "old.gif"
    target.write_bytes(b"old")
    asked: list[str] = []

    def fake_question(parent, title, text, *args, **kwargs):
        asked.append(text)
        return answer

    monkeypatch.setattr(QMessageBox, "question", staticmethod(fake_question))
    dlg = _dialog(qtbot, small_config)
    _tiny_gif(dlg, target)
    if answer == QMessageBox.StandardButton.No:
        qtbot.mouseClick(dlg.export_button, Qt.MouseButton.LeftButton)
        qtbot.wait(50)
        assert target.read_bytes() == b"old"
        assert not dlg.busy
        assert "kept" in dlg.status_label.text()
    else:
        with qtbot.waitSignal(dlg.finished, timeout=30000):
            qtbot.mouseClick(dlg.export_button, Qt.MouseButton.LeftButton)
        assert target.read_bytes()[:3] == b"GIF"
    assert len(asked) == 1 and "old.gif" in asked[0]


def test_start_export_reports_invalid_options(qtbot, small_config, tmp_path: Path) -> None:
    dlg = _dialog(qtbot, small_config)
    opts = dlg.options()
    opts.path = str(tmp_path / "x.bmp")
    with qtbot.waitSignal(dlg.failed) as sig:
        assert dlg.start_export(opts) is False
    assert "unknown file type" in sig.args[0]
    assert "unknown file type" in dlg.status_label.text()


def test_while_training_the_dialog_follows_only_what_changes_its_choices(
    qtbot, small_config: RunConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each batch of snapshots re-checked every choice and looked for a free file name on
    disk; now only a second snapshot (a training video becomes possible) and the end of
    training do."""
    from nndyn_gui.core.types import Snapshot

    dlg = _dialog(qtbot, small_config)
    state = dlg.state
    calls: list[int] = []
    real = dlg._refresh
    monkeypatch.setattr(dlg, "_refresh", lambda *a: (calls.append(1), real())[1])
    w = state.snapshots[0].weights
    state.set_training_state("training")
    for step in (10, 20, 30, 40):
        state.extend_snapshots([Snapshot(step, 0.5, 0.7, 0.7, w)])
    assert len(calls) == 1 and dlg.is_content_enabled("training")
    state.set_training_state("idle")
    assert len(calls) == 2


def test_the_proposed_title_and_file_name_follow_an_edited_preset(qtbot) -> None:
    """Width d set to 2 on resnet-w3-ring: the dialog no longer proposes "width 3 … room
    to lift the disk out", in the title field nor in the file name; a typed title is kept."""
    from nndyn_gui.core.io.presets import load_preset, preset_title

    cfg = load_preset("resnet-w3-ring")
    cfg.model.depth = 3  # quick; an edit of its own, made before the dialog opens
    dlg = _dialog(qtbot, cfg)
    assert dlg.title_edit.text() == "ResNet, width 3, depth 3, ring (edited from resnet-w3-ring)"
    dlg.state.set_config(load_preset("resnet-w3-ring"))  # back to the preset itself
    assert dlg.title_edit.text() == preset_title("resnet-w3-ring")
    dlg.state.set_config(load_preset("resnet-w3-ring").with_set("model.width=2"))
    title = dlg.title_edit.text()
    assert title == "ResNet, width 2, depth 51, ring (edited from resnet-w3-ring)"
    assert Path(dlg.path_edit.text()).name.startswith("resnet-width-2-depth-51-ring-edited")
    dlg.title_edit.setText("My own title")
    dlg.state.set_config(load_preset("resnet-w3-ring").with_set("model.depth=20"))
    assert dlg.title_edit.text() == "My own title"


def test_the_dialog_names_the_step_it_exports(qtbot, small_config: RunConfig) -> None:
    """A still shows the snapshot on screen, a training replay every one up to it: the
    dialog says which step(s), and follows the snapshot the user picks."""
    from nndyn_gui.core.types import Snapshot

    state = AppState(small_config)
    for step in (50, 100):
        state.append_snapshot(Snapshot(step, 0.3, 0.9, 0.85, state.weights.copy()))
    dlg = ExportDialog(state)
    qtbot.addWidget(dlg)
    dlg.show()
    dlg.format_combo.setCurrentIndex(dlg.format_combo.findData(".png"))
    dlg.content_combo.setCurrentIndex(dlg.content_combo.findData("layers"))
    assert dlg.snapshot_label.text() == "step 100"
    state.set_current(state.snapshots[1])  # the user steps back to step 50
    assert dlg.snapshot_label.text() == "step 50"
    assert dlg.run_for_export("layers").snapshots[-1].step == 50  # what it exports
    dlg.format_combo.setCurrentIndex(dlg.format_combo.findData(".mp4"))
    dlg.content_combo.setCurrentIndex(dlg.content_combo.findData("training"))
    assert dlg.snapshot_label.text() == "3 snapshots, untrained (step 0) to step 100"
    dlg.close()


def test_a_preview_that_cannot_be_drawn_says_so_in_its_place(
    qtbot, small_config: RunConfig, monkeypatch: pytest.MonkeyPatch, caplog
) -> None:
    """A bug while drawing the miniature leaves the dialog working: "no preview" where the
    picture was, and the log keeps the traceback; a fixable problem is named there."""
    import logging

    from nndyn_gui.render.export import ExportError
    from nndyn_gui.ui import export_preview

    dlg = _dialog(qtbot, small_config)
    assert dlg.update_preview() and not dlg.preview.pixmap().isNull()

    def bug(*args, **kwargs):
        raise ValueError("a drawing bug")

    monkeypatch.setattr(export_preview, "preview_frame", bug)
    with caplog.at_level(logging.ERROR):
        assert dlg.update_preview() is False
    assert dlg.preview.text() == "no preview" and dlg.preview.pixmap().isNull()
    assert "a drawing bug" in caplog.text

    def unfit(*args, **kwargs):
        raise ExportError("size too small")

    monkeypatch.setattr(export_preview, "preview_frame", unfit)
    assert dlg.update_preview() is False
    assert dlg.preview.text() == "no preview:\nsize too small"
    assert dlg.export_button.isEnabled()  # the export itself is still possible
