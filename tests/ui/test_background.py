"""Background jobs (ui/background.py): a failure is shown and logged (issue 20, item 6); a
result for a run the window no longer shows is dropped; the GUI thread gets the GIL back fast."""

from __future__ import annotations

import itertools
import sys
import threading
from collections.abc import Callable

import pytest
from PySide6.QtCore import QObject
from pytestqt.qtbot import QtBot

from nndyn_gui.ui.background import GIL_SWITCH_S, NewestWins


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


def test_a_result_for_a_replaced_run_is_never_shown_but_progress_within_a_run_is(
    qtbot: QtBot,
) -> None:
    """Open a run while the old one's picture is computing: the window draws only the new
    run (not the old one first); while one run trains, every finished result is shown."""
    owner = QObject()
    run: list[object] = [["old run"]]
    jobs = NewestWins(owner, name="nndyn-test", what="draw", epoch=lambda: run[0])
    shown: list[object] = []
    jobs.done.connect(lambda result, _error: shown.append(result))
    gate = threading.Event()

    def slow(tag: str) -> Callable[[], str]:
        def job() -> str:
            gate.wait(5.0)
            return tag

        return job

    jobs.request(slow("old 1"))  # in flight
    jobs.request(slow("old 2"))  # same run: waits, and the first result is still shown
    gate.set()
    qtbot.waitUntil(lambda: not jobs.busy(), timeout=5000)
    assert shown == ["old 1", "old 2"]

    gate.clear()
    jobs.request(slow("old 3"))  # in flight when the run is replaced
    run[0] = ["new run"]
    jobs.request(slow("new 1"))
    gate.set()
    qtbot.waitUntil(lambda: not jobs.busy(), timeout=5000)
    assert shown == ["old 1", "old 2", "new 1"]
    jobs.shutdown(5.0)


def test_background_threads_make_the_gui_thread_wait_at_most_a_millisecond_for_the_gil(
    qtbot: QtBot,
) -> None:
    before = sys.getswitchinterval()
    sys.setswitchinterval(0.005)  # Python's default
    try:
        owner = QObject()
        jobs = NewestWins(owner, name="nndyn-test", what="draw")
        with qtbot.waitSignal(jobs.done, timeout=5000):
            jobs.request(lambda: 1)
        assert sys.getswitchinterval() == pytest.approx(GIL_SWITCH_S) and GIL_SWITCH_S <= 0.001
        jobs.shutdown(5.0)
    finally:
        sys.setswitchinterval(before)


def test_results_that_finish_together_are_drawn_in_separate_event_loop_passes(
    qtbot: QtBot,
) -> None:
    """Three panels' results land at once (as after an open): the window handles its
    input and timers between drawing them, instead of pausing for the sum of all three."""
    import time

    from PySide6.QtCore import QTimer

    owner = QObject()
    panels = [NewestWins(owner, name=f"nndyn-test-{i}", what="draw") for i in range(3)]
    ticks = [0]
    probe = QTimer()  # what a click or a repaint needs: one turn of the event loop
    probe.setInterval(0)
    probe.timeout.connect(lambda: ticks.__setitem__(0, ticks[0] + 1))
    drawn: list[int] = []

    def draw(result: object, error: str) -> None:
        drawn.append(ticks[0])
        time.sleep(0.03)  # a panel's drawing

    for jobs in panels:
        jobs.done.connect(draw)
    gate = threading.Event()
    for jobs in panels:
        jobs.request(lambda: gate.wait(5.0))
    qtbot.wait(50)
    probe.start()
    gate.set()  # all three finish at once
    qtbot.waitUntil(lambda: len(drawn) == 3, timeout=5000)
    probe.stop()
    assert drawn[0] < drawn[1] < drawn[2], drawn  # the loop turned between them
    assert not any(jobs.busy() for jobs in panels)
    for jobs in panels:
        jobs.shutdown(5.0)


@pytest.mark.parametrize("arriving", ["together", "each while the one before is drawn"])
def test_an_animation_timer_ticks_between_any_two_paced_deliveries(
    qtbot: QtBot, arriving: str
) -> None:
    """Results drawn one after the other (an opened run's panels) each hold the window
    for a while: a 5 ms timer (a playback frame, a spinner) must get its turn after
    every one of them, not after every second one (glib runs Qt's timers in at most
    every other pass while queued calls keep coming), also when each result comes just
    as the one before it is being drawn (the file thread's open after its save)."""
    import time

    from PySide6.QtCore import QTimer

    from nndyn_gui.ui.background import later

    ticks = [0]
    frame = QTimer()
    frame.setInterval(5)
    frame.timeout.connect(lambda: ticks.__setitem__(0, ticks[0] + 1))
    seen: list[int] = []

    def draw() -> None:
        seen.append(ticks[0])
        if arriving != "together" and len(seen) < 6:
            later(draw)
        time.sleep(0.02)  # a panel's drawing

    frame.start()
    qtbot.wait(30)
    for _ in range(6 if arriving == "together" else 1):
        later(draw)
    qtbot.waitUntil(lambda: len(seen) == 6, timeout=5000)
    frame.stop()
    assert all(a < b for a, b in itertools.pairwise(seen)), seen
