"""The log file every entry point writes (issue 20, item 6): where it is, what reaches it."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from nndyn_gui.core.io import logs


def test_log_goes_to_the_users_data_folder_by_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(logs.ENV_DIR, raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setattr(logs, "_state", {})
    assert logs.log_path() == tmp_path / "data" / "nndyn" / "nndyn.log"


def test_an_error_is_in_the_file_with_its_traceback_and_one_line_on_stderr(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv(logs.ENV_DIR, str(tmp_path / "logs"))
    logs._state.clear()
    path = logs.setup("nndyn")
    assert path == logs.log_path() == tmp_path / "logs" / "nndyn.log"
    assert logs.setup("nndyn") == path  # a second entry point keeps the first setup
    try:
        raise ValueError("disk on fire")
    except ValueError:
        logging.getLogger("nndyn_gui.test").exception("saving failed")
    logging.getLogger("nndyn_gui.test").info("started")
    text = path.read_text()
    assert "saving failed" in text and "ValueError: disk on fire" in text and "started" in text
    err = capsys.readouterr().err
    assert err == "nndyn: error: saving failed\n"  # the traceback stays in the file


def test_a_folder_that_cannot_be_made_means_stderr_only_said_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    monkeypatch.setenv(logs.ENV_DIR, str(blocker / "logs"))
    logs._state.clear()
    assert logs.setup("nndyn-gui") is None
    assert logs.setup("nndyn-gui") is None
    assert logs.log_path() is None
    logging.getLogger("nndyn_gui.test").warning("autosave is off")
    err = capsys.readouterr().err.splitlines()
    assert len([e for e in err if "logging to stderr only" in e]) == 1
    assert err[-1] == "nndyn-gui: warning: autosave is off"
