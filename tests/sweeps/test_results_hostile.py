"""An edited, damaged or hostile results folder: `sweep-plot` and Tools -> Sweeps say what
is wrong in one line (a bad row is skipped and counted), at once and in bounded memory.

Issue 25 found 19 tracebacks here, a FIFO journal that hung both, and MemoryErrors at
2-3.9 GB for a sparse 2 GB journal, one linked to /dev/zero and 10**6 distinct x values.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from nndyn_gui.core.sweep.results import (
    MAX_AXIS_VALUES,
    SweepResultsError,
    heatmap,
    load_results,
)

from . import make_folder

FAKE = {"seeds": [0, 1], "sweep": {"model.width": [2, 3], "model.depth": [2, 4, 8]}}
PLOT = ["--x", "model.depth", "--y", "model.width"]
ENV = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "QT_QPA_PLATFORM": "offscreen"}


def _plot(folder: Path, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "nndyn_gui.cli", "sweep-plot", str(folder), *PLOT, *args],
        capture_output=True, text=True, env=ENV, timeout=timeout,
    )  # fmt: skip


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_folder(tmp_path_factory.mktemp("sw") / "sweep", FAKE)


@pytest.fixture
def folder(pristine: Path, tmp_path: Path) -> Path:
    import shutil

    return Path(shutil.copytree(pristine, tmp_path / "sweep"))


def _edit_results(folder: Path, edit: Any) -> None:
    doc = json.loads((folder / "results.json").read_text())
    (folder / "results.json").write_text(edit(doc))


def _edit_journal_line(folder: Path, n: int, edit: Any) -> None:
    lines = (folder / "runs.jsonl").read_bytes().splitlines(keepends=True)
    lines[n] = edit(lines[n])
    (folder / "runs.jsonl").write_bytes(b"".join(lines))


FOLDER_ERRORS = {
    "results.json a list": (lambda d: json.dumps([d]), "not a sweep's results"),
    "deep JSON": (lambda d: "[" * 200_000 + "]" * 200_000, "nested too deeply"),
    "fields an int": (lambda d: json.dumps({**d, "fields": 3}), "'fields' is not a list"),
    "columns an int": (lambda d: json.dumps({**d, "columns": 3}), "'columns' is not a list"),
    "spec without axes": (lambda d: json.dumps({**d, "spec": {}}), "no sweep spec"),
}


@pytest.mark.parametrize("case", list(FOLDER_ERRORS))
def test_an_edited_results_json_is_one_line_not_a_traceback(folder: Path, case: str) -> None:
    edit, needle = FOLDER_ERRORS[case]
    _edit_results(folder, edit)
    p = _plot(folder)
    assert p.returncode == 2 and "Traceback" not in p.stderr, p.stderr
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("nndyn: error: ") and needle in lines[0]


@pytest.mark.parametrize("n_runs", ["abc", 1e400, -5, [1], None, True])
def test_an_edited_run_count_is_ignored_for_the_rows(folder: Path, n_runs: object) -> None:
    def edit(d: dict[str, Any]) -> str:
        d["spec"]["n_runs"] = n_runs
        return json.dumps(d).replace("Infinity", "1e400")

    _edit_results(folder, edit)
    p = _plot(folder, "--out", str(folder / "h.svg"))
    assert p.returncode == 0, p.stderr
    assert "3 x 2 cells, 12 runs counted of 12" in p.stderr
    assert load_results(folder).n_runs == 12


BAD_ROWS = {
    "index a string": (lambda b: b.replace(b'"index": 0', b'"index": "zero"'), "index 'zero'"),
    "index inf": (lambda b: b.replace(b'"index": 0', b'"index": Infinity'), "index 'inf'"),
    "index NaN": (lambda b: b.replace(b'"index": 0', b'"index": NaN'), "index 'nan'"),
    "index a list": (lambda b: b.replace(b'"index": 0', b'"index": [0]'), "index '[0]'"),
    "not UTF-8": (lambda b: b.replace(b'"fake"', b'"\xff\xfe"'), "not UTF-8"),
    "a field a list": (
        lambda b: b.replace(b'"model.width": 2', b'"model.width": [2]'),
        "model.width is not a single value",
    ),
    "not JSON": (lambda b: b"{oops\n", "not a JSON row"),
    "deep JSON": (lambda b: b"[" * 100_000 + b"]" * 100_000 + b"\n", "not a JSON row"),
}


@pytest.mark.parametrize("case", list(BAD_ROWS))
def test_a_bad_journal_row_is_skipped_and_named(folder: Path, case: str) -> None:
    edit, needle = BAD_ROWS[case]
    _edit_journal_line(folder, 0, edit)
    p = _plot(folder, "--out", str(folder / "h.png"))
    assert p.returncode == 0 and "Traceback" not in p.stderr, p.stderr
    assert f"nndyn: note: 1 bad row skipped (runs.jsonl line 1: {needle}" in p.stderr
    assert "11 runs counted of 11" in p.stderr


def test_a_metric_beyond_any_float_counts_as_undetermined(folder: Path) -> None:
    """10**400 (a valid JSON number) and 1e400 (read as inf) overflowed the heatmap."""
    _edit_journal_line(
        folder,
        0,
        lambda b: b.replace(b'"dense_accuracy": 0.2', b'"dense_accuracy": 1' + b"0" * 400),
    )
    _edit_journal_line(
        folder, 1, lambda b: b.replace(b'"dense_accuracy": 0.21', b'"dense_accuracy": 1e400')
    )
    p = _plot(folder, "--out", str(folder / "h.png"))
    assert p.returncode == 0, p.stderr
    assert "10 runs counted of 12" in p.stderr  # the two runs of cell (2, 2) are n/a


@pytest.mark.timing
def test_a_journal_that_is_a_fifo_or_a_device_is_refused_at_once(folder: Path) -> None:
    journal = folder / "runs.jsonl"
    journal.unlink()
    os.mkfifo(journal)
    t0 = time.monotonic()
    p = _plot(folder, timeout=30)
    assert p.returncode == 2 and "runs.jsonl: not a regular file" in p.stderr, p.stderr
    journal.unlink()
    journal.symlink_to("/dev/zero")
    p = _plot(folder, timeout=30)
    assert p.returncode == 2 and "runs.jsonl: not a regular file" in p.stderr, p.stderr
    assert time.monotonic() - t0 < 20


@pytest.mark.timing
def test_a_huge_sparse_journal_is_refused_by_its_size(folder: Path) -> None:
    from tests.reliability import PYTHON, run_measured, subprocess_env

    with open(folder / "runs.jsonl", "r+b") as fh:
        fh.truncate(2 * 2**30)
    r = run_measured(
        [PYTHON, "-m", "nndyn_gui.cli", "sweep-plot", str(folder), *PLOT],
        60, env=subprocess_env(QT_QPA_PLATFORM="offscreen"), memory_limit_mb=2048,
        cwd=folder,
    )  # fmt: skip
    assert r.rc == 2, r.stderr
    assert "the file is 2.0 GB; a sweep journal may be at most 128.0 MB" in r.stderr
    assert r.peak_mb < 300 and r.seconds < 20


def test_more_rows_than_a_picture_reads_is_a_clear_error(folder: Path) -> None:
    from nndyn_gui.core.sweep import results as sweep_results

    line = (folder / "runs.jsonl").read_text().splitlines()[0]
    row = json.loads(line)
    with open(folder / "runs.jsonl", "a") as fh:
        for i in range(sweep_results.MAX_ROWS + 5):
            fh.write(json.dumps({**row, "index": 100 + i, "key": f"k{i}"}) + "\n")
    with pytest.raises(SweepResultsError, match=r"more than 100,000 runs; a picture reads at most"):
        load_results(folder)


def test_too_many_distinct_axis_values_is_a_clear_error(folder: Path) -> None:
    """10**6 distinct x values built a 10**6-cell grid of lists: MemoryError."""
    line = (folder / "runs.jsonl").read_text().splitlines()[0]
    row = json.loads(line)
    with open(folder / "runs.jsonl", "a") as fh:
        for i in range(MAX_AXIS_VALUES + 1):
            fh.write(
                json.dumps({**row, "index": 100 + i, "key": f"k{i}", "model.depth": 1000 + i})
                + "\n"
            )
    results = load_results(folder)
    with pytest.raises(
        SweepResultsError,
        match=r"--x model.depth: 1,004 different values; a heatmap shows at most 1,000",
    ):
        heatmap(results, "model.depth", "model.width", "dense_accuracy")


@pytest.mark.timing
def test_the_sweeps_window_says_why_a_folder_does_not_open(qtbot: Any, folder: Path) -> None:
    """It stayed on 'no folder' and said nothing (the traceback went to the terminal)."""
    from nndyn_gui.ui.sweeps_window import SweepsWindow

    (folder / "runs.jsonl").unlink()
    os.mkfifo(folder / "runs.jsonl")
    win = SweepsWindow()
    qtbot.addWidget(win)
    t0 = time.monotonic()
    assert win.open_folder(folder) is False
    assert time.monotonic() - t0 < 2  # no freeze
    assert "runs.jsonl: not a regular file" in win.status.text()
    assert "not opened" in win.folder_label.text()
    (folder / "runs.jsonl").unlink()
    _edit_results(folder, lambda d: json.dumps({**d, "fields": 3}))
    assert win.open_folder(folder) is False
    assert "'fields' is not a list" in win.status.text()


def test_the_sweeps_window_names_the_rows_it_skipped(qtbot: Any, folder: Path) -> None:
    from nndyn_gui.ui.sweeps_window import SweepsWindow

    _edit_journal_line(folder, 2, lambda b: b.replace(b'"index": 2', b'"index": "two"'))
    win = SweepsWindow(folder=folder)
    qtbot.addWidget(win)
    assert win.current is not None
    assert "11 of 12 runs" in win.status.text()
    assert "1 bad row skipped (runs.jsonl line 3: index 'two'" in win.status.text()


@pytest.mark.timing
def test_the_sweeps_window_opens_only_run_files_inside_the_folder(qtbot: Any, folder: Path) -> None:
    """An edited row's file - a name too long, /proc/kmsg, a path out of the folder - was
    an OSError in the click handler or handed to the main window to open."""
    from nndyn_gui.ui.sweeps_window import SweepsWindow

    opened: list[str] = []
    lines = [json.loads(x) for x in (folder / "runs.jsonl").read_text().splitlines()]
    (folder / "runs" / "kmsg.nndyn").symlink_to("/proc/kmsg")
    files = ["x" * 5000, "../../../../etc/passwd", "runs/kmsg.nndyn", "/dev/zero"]
    for row, name in zip(lines, files, strict=False):
        row["file"] = name
    (folder / "runs.jsonl").write_text("".join(json.dumps(r) + "\n" for r in lines))
    win = SweepsWindow(folder=folder, open_run=lambda p: bool(opened.append(p)) or True)
    qtbot.addWidget(win)
    wanted = {
        0: "(File name too long)",
        1: "is outside the results folder",
        2: "not a regular file (/proc/kmsg is a kernel file",
        3: "is outside the results folder",
    }
    for i, needle in wanted.items():
        t0 = time.monotonic()
        assert win._open_row(lines[i]) is False
        assert needle in win.status.text(), win.status.text()
        assert time.monotonic() - t0 < 1
    assert opened == []
    assert win._open_row(win.results.rows[5]) is True  # an untouched row still opens
    assert opened and opened[0].endswith(".nndyn")
