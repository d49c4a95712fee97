"""A background job that raises (issue 20, item 6): the window says so and the log keeps it."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QObject
from pytestqt.qtbot import QtBot

from nndyn_gui.ui.background import NewestWins


def test_a_failing_job_is_shown_in_one_line_and_logged_with_its_traceback(
    qtbot: QtBot, caplog: pytest.LogCaptureFixture
) -> None:
    owner = QObject()
    jobs = NewestWins(owner, name="nndyn-test", what="draw the layers")

    def job() -> None:
        raise ZeroDivisionError("no points")

    with qtbot.waitSignal(jobs.done, timeout=5000) as sig:
        jobs.request(job)
    assert sig.args == [None, "cannot draw the layers: ZeroDivisionError: no points"]
    [record] = [r for r in caplog.records if r.name == "nndyn_gui.ui.background"]
    assert record.getMessage() == "cannot draw the layers" and record.exc_info is not None
    jobs.shutdown(5.0)
