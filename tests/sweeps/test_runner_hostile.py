"""Running a sweep under faults (issue 25): results files as safe and readable as the
runs, damaged run files run again, deterministic outcomes not retried, and a Dask
scheduler that refuses, stays silent, speaks another protocol or loses its workers is a
sentence within a bounded time, never a hang or a traceback."""

from __future__ import annotations

import contextlib
import csv
import json
import os
import socket
import stat
import struct
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from nndyn_gui.core.sweep.backends import DaskBackend, InlineBackend, SweepError, probe_scheduler
from nndyn_gui.core.sweep.runner import JOURNAL, Sweep
from nndyn_gui.core.sweep.spec import parse_spec

from . import fake_job


def _csv_rows(folder: Path) -> list[dict[str, str]]:
    with open(folder / "results.csv", newline="") as fh:
        return list(csv.DictReader(fh))


# ---------------------------------------------------------------------- results files
FORMULAS = ['=HYPERLINK("http://evil","click")', "@SUM(1+1)", "+1+2", "-2+3", "=1", "-3", "+4.5e3"]


def test_swept_text_never_becomes_a_live_spreadsheet_formula(tmp_path: Path) -> None:
    spec = parse_spec({"sweep": {"data.csv_path": FORMULAS}})
    with Sweep(spec, tmp_path / "out") as sweep:
        sweep.run(InlineBackend(), job=fake_job)
    cells = [r["data.csv_path"] for r in _csv_rows(tmp_path / "out")]
    assert cells == [
        '\'=HYPERLINK("http://evil","click")',
        "'@SUM(1+1)",
        "'+1+2",
        "'-2+3",
        "'=1",
        "-3",  # plain numbers stay numbers
        "+4.5e3",
    ]
    # results.json keeps the values as they are (it is data, not a spreadsheet)
    doc = json.loads((tmp_path / "out" / "results.json").read_text())
    assert [r["data.csv_path"] for r in doc["rows"]] == FORMULAS


def test_results_files_are_as_readable_as_the_run_files(tmp_path: Path) -> None:
    """results.csv / .json and sweep.json were 0600 (mkstemp) while run files were 0644."""
    old = os.umask(0o022)
    try:
        with Sweep(parse_spec({"seeds": 1}), tmp_path / "out") as sweep:
            sweep.run(InlineBackend(), job=fake_job)
    finally:
        os.umask(old)
    out = tmp_path / "out"
    run_file = next((out / "runs").iterdir())
    modes = {
        p.name: stat.S_IMODE(p.stat().st_mode)
        for p in (out / "results.csv", out / "results.json", out / "sweep.json", run_file)
    }
    assert set(modes.values()) == {0o644}, modes


def test_a_truncated_run_file_is_run_again(tmp_path: Path) -> None:
    """A run file cut short (full disk, an edit) with a journal row was skipped as done and
    the sweep exited 0 with a run that does not open."""
    out = tmp_path / "out"
    spec = parse_spec({"seeds": 3})
    with Sweep(spec, out) as sweep:
        sweep.run(InlineBackend(), job=fake_job)
    victims = sorted((out / "runs").iterdir())
    data = victims[0].read_bytes()
    victims[0].write_bytes(data[: len(data) // 2])  # cut in half
    victims[1].write_bytes(b"\0" * len(victims[1].read_bytes()))  # the size, but no zip
    with Sweep(spec, out) as sweep:
        assert [j.file_name for j in sweep.todo] == [victims[0].name, victims[1].name]
        sweep.run(InlineBackend(), job=fake_job)
    from nndyn_gui.core.io.runfile import load_run

    for v in victims:
        assert load_run(v).config.train.seed in (0, 1, 2)


def test_a_run_that_ends_before_its_first_snapshot_is_a_result_not_retried(
    tmp_path: Path,
) -> None:
    """`train` says "The initial loss is not finite."; the sweep said "IndexError: list
    index out of range", and retried it on every rerun (exit 1 for ever)."""
    pytest.importorskip("tensorflow")
    spec = parse_spec(
        {
            "set": ["model.activation=relu", "model.h=10", "model.width=64",
                    "model.init_scale=10", "data.n=100", "train.steps=4"],
            "sweep": {"model.depth": [200]},
        }
    )  # fmt: skip
    with Sweep(spec, tmp_path / "out") as sweep:
        report = sweep.run(InlineBackend())
    row = _csv_rows(tmp_path / "out")[0]
    assert row["status"] == "diverged" and row["message"] == "The initial loss is not finite."
    assert row["file"] == "" and report.failed == 0
    with Sweep(spec, tmp_path / "out") as sweep:
        assert sweep.todo == []  # a deterministic result: not run again


@pytest.mark.timing
def test_a_journal_that_is_a_fifo_or_a_device_is_refused(tmp_path: Path) -> None:
    out = tmp_path / "out"
    spec = parse_spec({"seeds": 1})
    with Sweep(spec, out) as sweep:
        sweep.run(InlineBackend(), job=fake_job)
    (out / JOURNAL).unlink()
    os.mkfifo(out / JOURNAL)
    t0 = time.monotonic()
    with pytest.raises(SweepError, match=r"runs\.jsonl: not a regular file"):
        Sweep(spec, out)
    (out / JOURNAL).unlink()
    (out / JOURNAL).symlink_to("/dev/zero")
    with pytest.raises(SweepError, match=r"runs\.jsonl: not a regular file"):
        Sweep(spec, out)
    assert time.monotonic() - t0 < 5
    (out / JOURNAL).unlink()
    with Sweep(spec, out) as sweep:  # the lock was released: the folder still works
        assert len(sweep.todo) == 1


def test_edited_journal_rows_are_run_again_not_a_traceback(tmp_path: Path) -> None:
    out = tmp_path / "out"
    spec = parse_spec({"seeds": 4})
    with Sweep(spec, out) as sweep:
        sweep.run(InlineBackend(), job=fake_job)
    lines = (out / JOURNAL).read_text().splitlines()
    rows = [json.loads(line) for line in lines]
    rows[0]["key"] = [rows[0]["key"]]  # not even hashable
    rows[1]["file"] = {"a": 1}
    rows[2]["status"] = ["finished"]
    rows[3]["file"] = "../" + rows[3]["file"]  # a valid run file, but not in this folder
    (out.parent / "runs").mkdir()
    (out / rows[3]["file"]).write_bytes((out / "runs" / Path(rows[3]["file"]).name).read_bytes())
    rows[3]["file_bytes"] = (out / rows[3]["file"]).stat().st_size
    (out / JOURNAL).write_text("".join(json.dumps(r) + "\n" for r in rows) + "[" * 50_000 + "\n")
    with Sweep(spec, out) as sweep:
        assert [j.index for j in sweep.todo] == [0, 1, 2, 3]
        report = sweep.run(InlineBackend(), job=fake_job)
    assert report.counts == {"finished": 4}
    assert [r["status"] for r in _csv_rows(out)] == ["finished"] * 4


# ---------------------------------------------------------------------- Dask addresses
@pytest.mark.parametrize(
    ("address", "needle"),
    [
        ("tls://127.0.0.1:8786", "only tcp://HOST:PORT addresses are supported (not tls://)"),
        ("ucx://127.0.0.1:8786", "(not ucx://)"),
        ("inproc://127.0.0.1/1/2", "(not inproc://)"),
        ("http://127.0.0.1:8787/status", "(not http://)"),
        ("tcp://127.0.0.1", "expected tcp://HOST:PORT"),
        ("tcp://127.0.0.1:99999", "expected tcp://HOST:PORT"),
        ("tcp://:8786", "expected tcp://HOST:PORT"),
    ],
)
@pytest.mark.timing
def test_only_plain_tcp_scheduler_addresses_are_accepted(address: str, needle: str) -> None:
    t0 = time.monotonic()
    with pytest.raises(SweepError) as e:
        DaskBackend(address, timeout=1)
    assert needle in str(e.value) and time.monotonic() - t0 < 1


@pytest.fixture
def server() -> Iterator[Any]:
    """A TCP server on 127.0.0.1 that does `behave(conn, stop)` for one connection."""
    socks: list[socket.socket] = []
    threads: list[threading.Thread] = []
    stop = threading.Event()

    def start(behave: Any) -> str:
        ls = socket.socket()
        ls.bind(("127.0.0.1", 0))
        ls.listen(4)
        ls.settimeout(20)
        socks.append(ls)

        def serve() -> None:
            try:
                conn, _ = ls.accept()
            except OSError:
                return
            socks.append(conn)
            with contextlib.suppress(OSError):
                behave(conn, stop)

        t = threading.Thread(target=serve, daemon=True)
        t.start()
        threads.append(t)
        return f"tcp://127.0.0.1:{ls.getsockname()[1]}"

    yield start
    stop.set()
    for s in socks:
        s.close()
    for t in threads:
        t.join(5)


def _silent(conn: socket.socket, stop: threading.Event) -> None:
    stop.wait(10)


def _http(conn: socket.socket, stop: threading.Event) -> None:
    conn.settimeout(0.1)
    while not stop.is_set():  # an HTTP server answers only a request
        try:
            if conn.recv(1024):
                conn.sendall(b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n")
        except TimeoutError:
            continue
        except OSError:
            return


def _crafted_length(conn: socket.socket, stop: threading.Event) -> None:
    conn.sendall(struct.pack("<Q", 3 * 2**60))  # Dask's reader allocated 3 EiB for this
    stop.wait(10)


def _crafted_frames(conn: socket.socket, stop: threading.Event) -> None:
    conn.sendall(struct.pack("<QQ", 24, 2**40) + b"x" * 16)  # 2**40 frames in 24 bytes
    stop.wait(10)


def _half_greeting(conn: socket.socket, stop: threading.Event) -> None:
    conn.sendall(b"\x10\x00\x00")
    stop.wait(10)


def _closes(conn: socket.socket, stop: threading.Event) -> None:
    conn.sendall(b"\x10\x00")
    conn.close()


@pytest.mark.parametrize(
    ("behave", "needle"),
    [
        (_silent, "accepted the connection but said nothing in 1 s: not a Dask scheduler"),
        (_http, "said nothing in 1 s"),
        (_crafted_length, "is not a Dask scheduler (it answered in another protocol"),
        (_crafted_frames, "is not a Dask scheduler"),
        (_half_greeting, "stopped halfway through its greeting in 1 s"),
        (_closes, "closed the connection before greeting"),
    ],
)
@pytest.mark.timing
def test_a_server_that_is_no_scheduler_is_named_within_the_timeout(
    server: Any, behave: Any, needle: str
) -> None:
    address = server(behave)
    t0 = time.monotonic()
    with pytest.raises(SweepError) as e:
        DaskBackend(address, timeout=1)
    assert needle in str(e.value), e.value
    assert time.monotonic() - t0 < 3


@pytest.mark.timing
def test_a_refused_connection_says_refused_at_once() -> None:
    """It waited 15 s and said "Timed out ... after 15 s"."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()  # nothing listens there now
    t0 = time.monotonic()
    with pytest.raises(SweepError, match=r"at tcp://127\.0\.0\.1:\d+: connection refused"):
        probe_scheduler(f"tcp://127.0.0.1:{port}", timeout=15)
    assert time.monotonic() - t0 < 2


def test_the_dask_dashboard_port_is_not_taken_for_the_scheduler() -> None:
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(
        n_workers=0, processes=False, protocol="tcp://", dashboard_address="127.0.0.1:0"
    ) as cluster:
        port = cluster.scheduler.http_server.port
        probe_scheduler(cluster.scheduler_address, timeout=5)  # the scheduler itself passes
        with pytest.raises(SweepError, match="said nothing in 1 s: not a Dask scheduler"):
            probe_scheduler(f"tcp://127.0.0.1:{port}", timeout=1)


@pytest.mark.timing
def test_a_cluster_that_loses_all_its_workers_stops_the_sweep_in_words(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """It waited for ever with no message."""
    distributed = pytest.importorskip("distributed")
    from nndyn_gui.core.sweep import backends as sweep_backends

    monkeypatch.setattr(sweep_backends, "DASK_CHECK_S", 0.5)
    monkeypatch.setenv("NNDYN_FAKE_JOB_SLEEP", "0.3")
    spec = parse_spec({"seeds": 40})
    with distributed.LocalCluster(
        n_workers=1,
        threads_per_worker=1,
        processes=False,
        protocol="tcp://",
        dashboard_address=None,
    ) as cluster:
        backend = DaskBackend(cluster.scheduler_address, timeout=5, no_workers_s=2)
        journal = tmp_path / "out" / JOURNAL

        def kill_workers() -> None:
            deadline = time.monotonic() + 30
            while not (journal.exists() and journal.read_text().count("\n") >= 2):
                if time.monotonic() > deadline:
                    return
                time.sleep(0.05)
            cluster.scale(0)

        threading.Thread(target=kill_workers, daemon=True).start()
        t0 = time.monotonic()
        with Sweep(spec, tmp_path / "out") as sweep, pytest.raises(SweepError) as e:
            sweep.run(backend, job=fake_job)
        assert time.monotonic() - t0 < 30
    assert "has had no workers for 2 s" in str(e.value)
    assert "run the same command again" in str(e.value)
    rows = _csv_rows(tmp_path / "out")
    assert 2 <= len(rows) < 40 and {r["status"] for r in rows} == {"finished"}
