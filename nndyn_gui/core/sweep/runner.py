"""Run a sweep's jobs on a process pool or a Dask cluster, into a results folder, resumably.

The folder (`nndyn sweep SPEC --out DIR`):

    DIR/sweep.json     the normalised spec (a re-run must ask for the same sweep)
    DIR/runs.jsonl     one line per finished job, appended and fsynced as each one ends
    DIR/results.json   {"spec", "fields", "metrics", "columns", "rows"}: one row per run
    DIR/results.csv    the same rows
    DIR/runs/NNNN_<values>.nndyn   each run (written atomically before its row)

Why:
- The journal (runs.jsonl) is the source of truth: a run's `.nndyn` is saved first and
  its row appended and fsynced next, so a sweep killed at any moment loses at most the
  runs in flight, and the next `nndyn sweep` with the same spec skips every run that has
  a row (finished or diverged) and its file. Failed runs (an exception, a lost worker)
  are tried again. results.json / results.csv are rewritten from it atomically (at most
  every WRITE_EVERY_S while running, and at the end).
- The driver keeps at most `2 x workers` jobs submitted, so Ctrl+C stops quickly and
  the progress (and its ETA) counts runs really started.
- Backends: `PoolBackend` (spawned processes: TensorFlow does not survive fork; one
  worker per core, each trains on one thread), `DaskBackend` (`distributed.Client` on a
  scheduler address; the workers need nndyn installed), `InlineBackend` (this process).
  A crashed pool process breaks the whole pool: it is rebuilt and its jobs resubmitted,
  and a job that breaks it twice becomes a "failed" row.

Pure core: no Qt. TensorFlow is imported only by the job, in the workers.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import logging
import math
import os
import re
import socket
import struct
import threading
import time
import zipfile
from collections import deque
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor
from concurrent.futures import wait as futures_wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nndyn_gui.core.io import files, limits, logs
from nndyn_gui.core.sweep import job as _job
from nndyn_gui.core.sweep.job import DONE_STATUSES, ROW_METRICS, STATUS_FAILED, run_job, run_jobs
from nndyn_gui.core.sweep.spec import SweepJob, SweepSpec

log = logging.getLogger(__name__)

SPEC_FILE = "sweep.json"
JOURNAL = "runs.jsonl"
RESULTS_JSON = "results.json"
RESULTS_CSV = "results.csv"
RUNS_DIR = "runs"
LOCK_FILE = ".lock"
WRITE_EVERY_S = 2.0
POLL_S = 0.2
MAX_POOL_CRASHES = 2  # a job that breaks the process pool this often is a failed row
PARENT_CHECK_S = 1.0  # a pool worker whose driver died (kill -9) exits within this
DASK_TIMEOUT_S = 15.0  # connecting, and every call to the scheduler
DASK_NO_WORKERS_S = 60.0  # a cluster without workers this long stops the sweep
DASK_CHECK_S = 5.0  # how often the number of workers is asked for
MAX_HANDSHAKE_BYTES = 1 * limits.MIB  # a scheduler's greeting is ~200 bytes
MAX_JOURNAL_LINE = 1 * limits.MIB
ENSEMBLE_MEMBERS = 8  # runs of one shape in one ensemble job (core/train/ensemble.py)

Job = Callable[..., Any]  # (run, row), or a list of them for an ensemble job


class SweepError(Exception):
    """The sweep cannot start or go on (folder in use or of another sweep, no scheduler)."""


def default_workers() -> int:
    """One worker per core this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


# ---------------------------------------------------------------------- backends
class InlineBackend:
    """Runs each job at once in this process (`--workers 0`; tests, debugging)."""

    workers = 1

    def describe(self) -> str:
        return "in this process"

    def window(self) -> int:
        return 1

    def submit(self, job: Job, *args: Any) -> Future[Any]:
        fut: Future[Any] = Future()
        try:
            fut.set_result(job(*args))
        except BaseException as e:
            fut.set_exception(e)
        return fut

    def wait_first(self, futures: list[Any], timeout: float) -> list[Any]:
        return [f for f in futures if f.done()]

    def result(self, fut: Any) -> Any:
        return fut.result()

    def cancel(self, futures: Iterable[Any]) -> None:
        pass

    def close(self, abandon: bool = False) -> None:
        pass


class PoolBackend:
    """A spawned process pool on this machine (default: one process per core)."""

    def __init__(self, workers: int | None = None) -> None:
        self.workers = workers or default_workers()
        self._pool = self._new_pool()

    def _new_pool(self) -> ProcessPoolExecutor:
        import multiprocessing

        ctx = multiprocessing.get_context("spawn")
        return ProcessPoolExecutor(
            max_workers=self.workers, mp_context=ctx, initializer=_quiet_worker
        )

    def describe(self) -> str:
        n = self.workers
        return f"{n} local worker process{'es' if n != 1 else ''}"

    def window(self) -> int:
        return 2 * self.workers

    def submit(self, job: Job, *args: Any) -> Future[Any]:
        return self._pool.submit(job, *args)

    def wait_first(self, futures: list[Any], timeout: float) -> list[Any]:
        done, _ = futures_wait(futures, timeout=timeout, return_when=FIRST_COMPLETED)
        return list(done)

    def result(self, fut: Any) -> Any:
        return fut.result()

    def restart(self) -> None:
        """A worker died and broke the pool: start a fresh one."""
        self._pool.shutdown(wait=False, cancel_futures=True)
        self._pool = self._new_pool()

    def cancel(self, futures: Iterable[Any]) -> None:
        for f in futures:
            f.cancel()

    def close(self, abandon: bool = False) -> None:
        if abandon:
            # stop the runs in flight too (the public API only lets them finish)
            for p in list(getattr(self._pool, "_processes", {}).values()):
                with contextlib.suppress(OSError, ValueError):  # gone, or already closed
                    p.terminate()
        self._pool.shutdown(wait=not abandon, cancel_futures=True)


def _quiet_worker() -> None:
    """Pool processes log to the user's log file (core/io/logs.py) and leave Ctrl+C and
    SIGHUP to the driver (a terminal sends them to the whole group): the first one lets
    the runs in flight finish, the second terminates the processes. A worker whose
    driver is gone (kill -9) exits by itself."""
    import signal

    logs.setup("nndyn-sweep")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    with contextlib.suppress(ValueError, AttributeError):
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGHUP, signal.SIG_IGN)  # a closed terminal: the driver drains
    parent = os.getppid()
    threading.Thread(
        target=_exit_with_parent, args=(parent,), name="parent-watch", daemon=True
    ).start()


def _exit_with_parent(parent: int) -> None:
    """A pool worker outlives a `kill -9`ed driver (and holds ~700 MB of TensorFlow) unless
    it notices: once its parent is gone it is re-parented, and it exits."""
    while True:
        time.sleep(PARENT_CHECK_S)
        if os.getppid() != parent:
            os._exit(1)


_ADDRESS = re.compile(
    r"^(?:(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*)://)?(?P<host>\[[0-9A-Fa-f:.]+\]|[^\s:/\[\]]+):(?P<port>\d{1,5})$"
)


def check_scheduler_address(address: str) -> tuple[str, str, int]:
    """`tcp://HOST:PORT` (or `HOST:PORT`) -> (address, host, port); SweepError otherwise.

    Only plain TCP: a `tls://` scheduler needs certificates nndyn has no options for, and
    `ucx://`, `inproc://`, `ws://` failed inside Dask with a TypeError or hung.
    """
    text = address.strip()
    m = _ADDRESS.match(text)
    scheme = (m.group("scheme") if m else text.split("://")[0] if "://" in text else "") or ""
    if scheme and scheme.lower() != "tcp":
        raise SweepError(
            f"--scheduler {address}: only tcp://HOST:PORT addresses are supported (not {scheme}://)"
        )
    if m is None or not 1 <= int(m.group("port")) <= 65535:
        raise SweepError(
            f"--scheduler {address}: expected tcp://HOST:PORT, e.g. tcp://10.0.0.5:8786"
        )
    host = m.group("host").strip("[]")
    return f"tcp://{m.group('host')}:{int(m.group('port'))}", host, int(m.group("port"))


def probe_scheduler(address: str, timeout: float = DASK_TIMEOUT_S) -> None:
    """Connect and read the scheduler's greeting ourselves, bounded in time and size,
    before Dask does: SweepError in words for a refused, silent or foreign server.

    A Dask scheduler speaks first (its handshake: 8 bytes of length, then a few small
    frames). Dask's own reader trusts that length (a crafted 2**61 made it allocate
    exabytes) and waits without end on a server that never speaks (an HTTP server,
    the dashboard port).
    """
    addr, host, port = check_scheduler_address(address)
    deadline = time.monotonic() + timeout
    try:
        sock = socket.create_connection((host, port), timeout=timeout)
    except ConnectionRefusedError:
        raise SweepError(
            f"cannot reach the Dask scheduler at {addr}: connection refused "
            "(is 'dask scheduler' running there, on that port?)"
        ) from None
    except TimeoutError:
        raise SweepError(
            f"cannot reach the Dask scheduler at {addr}: no answer within {timeout:g} s "
            "(a firewall, or a wrong address?)"
        ) from None
    except socket.gaierror as e:
        raise SweepError(
            f"cannot reach the Dask scheduler at {addr}: unknown host ({e.strerror})"
        ) from None
    except OSError as e:
        raise SweepError(f"cannot reach the Dask scheduler at {addr}: {e.strerror or e}") from None
    foreign = (
        f"the server at {addr} is not a Dask scheduler (it answered in another protocol; "
        "the scheduler's port is usually 8786, 8787 is its dashboard)"
    )
    with sock:
        head = _recv_exact(sock, 8, deadline, addr, timeout)
        (total,) = struct.unpack("<Q", head)
        if not 16 <= total <= MAX_HANDSHAKE_BYTES:
            raise SweepError(foreign)
        body = _recv_exact(sock, min(total, 8 * 65), deadline, addr, timeout)
        (n_frames,) = struct.unpack_from("<Q", body)
        if not 1 <= n_frames <= 64 or 8 * (1 + n_frames) > len(body):
            raise SweepError(foreign)
        lengths = struct.unpack_from(f"<{n_frames}Q", body, 8)
        if sum(lengths) > MAX_HANDSHAKE_BYTES:
            raise SweepError(foreign)


def _recv_exact(sock: socket.socket, n: int, deadline: float, addr: str, timeout: float) -> bytes:
    buf = b""
    while len(buf) < n:
        left = deadline - time.monotonic()
        if left <= 0:
            raise SweepError(_silent(addr, timeout, buf))
        sock.settimeout(left)
        try:
            chunk = sock.recv(n - len(buf))
        except TimeoutError:
            raise SweepError(_silent(addr, timeout, buf)) from None
        except OSError as e:
            raise SweepError(
                f"the Dask scheduler at {addr} dropped the connection ({e.strerror or e})"
            ) from None
        if not chunk:
            raise SweepError(
                f"the server at {addr} closed the connection before greeting as a Dask "
                "scheduler does (is it one?)"
            )
        buf += chunk
    return buf


def _silent(addr: str, timeout: float, got: bytes) -> str:
    said = "stopped halfway through its greeting" if got else "said nothing"
    return (
        f"the server at {addr} accepted the connection but {said} in {timeout:g} s: not a "
        "Dask scheduler (the scheduler's port is usually 8786; 8787 is its dashboard)"
    )


class DaskBackend:
    """Jobs on a Dask distributed cluster: `distributed.Client(address)`, unchanged.

    Every call to the scheduler runs under a timeout and ends in a SweepError that says
    why in words; a cluster left without workers for `no_workers_s` stops the sweep
    (the finished runs are kept, the same command resumes)."""

    def __init__(
        self,
        address: str,
        timeout: float = DASK_TIMEOUT_S,
        no_workers_s: float = DASK_NO_WORKERS_S,
    ) -> None:
        self.address, _, _ = check_scheduler_address(address)  # before a slow import
        try:
            from distributed import Client
        except ImportError as e:  # pragma: no cover - the optional extra "cluster"
            raise SweepError(
                f"Dask distributed is not installed ({e}): pip install 'nndyn[cluster]'"
            ) from None
        self.timeout = timeout
        self.no_workers_s = no_workers_s
        self._no_workers_since: float | None = None
        self._threads: int | None = None
        self._last_check = time.monotonic()
        # Probe first: a Client that cannot connect leaves its event-loop thread running
        # for good, trusts whatever length a server sends, and waits on a silent one.
        probe_scheduler(self.address, timeout)
        try:
            self.client = self._call(
                lambda: Client(self.address, timeout=f"{timeout}s"), "while connecting"
            )
        except SweepError:
            raise
        except Exception as e:
            raise SweepError(
                f"cannot reach the Dask scheduler at {self.address}: {_reason(e)}"
            ) from None

    def _call(self, fn: Callable[[], Any], what: str, seconds: float | None = None) -> Any:
        """fn() in a thread, given `seconds` (default: the timeout) to return."""
        seconds = self.timeout + 5 if seconds is None else seconds
        box: dict[str, Any] = {}

        def target() -> None:
            try:
                box["value"] = fn()
            except BaseException as e:  # handed to the caller below
                box["error"] = e

        t = threading.Thread(target=target, name="dask-call", daemon=True)
        t.start()
        t.join(seconds)
        if t.is_alive():
            raise SweepError(
                f"the Dask scheduler at {self.address} did not answer {what} within {seconds:g} s"
            )
        if "error" in box:
            raise box["error"]
        return box.get("value")

    def _worker_threads(self) -> int:
        try:
            return int(sum(self._call(self.client.nthreads, "for its workers").values()))
        except SweepError:
            raise
        except Exception as e:
            raise SweepError(f"lost the Dask scheduler at {self.address}: {_reason(e)}") from None

    @property
    def workers(self) -> int:
        """Worker threads, as last counted (every DASK_CHECK_S while waiting): the run
        loop asks for the window at every turn, and each count is a call to the scheduler."""
        if self._threads is None:
            try:
                self._threads = self._worker_threads()
            except SweepError as e:
                log.warning("%s", e)
                return 1
        return max(1, self._threads)

    def describe(self) -> str:
        n = self.workers
        return f"the Dask cluster at {self.address} ({n} worker thread{'s' if n != 1 else ''})"

    def window(self) -> int:
        return max(2, 2 * self.workers)

    def submit(self, job: Job, *args: Any) -> Any:
        return self.client.submit(job, *args, pure=False)

    def wait_first(self, futures: list[Any], timeout: float) -> list[Any]:
        from distributed import wait

        try:
            wait(futures, timeout=timeout, return_when="FIRST_COMPLETED")
        except TimeoutError:
            pass
        except Exception as e:
            raise SweepError(f"lost the Dask scheduler at {self.address}: {_reason(e)}") from None
        done = [f for f in futures if f.done()]
        if time.monotonic() - self._last_check >= DASK_CHECK_S:
            self._check_workers(len(futures))
        return done

    def _check_workers(self, waiting: int) -> None:
        """SweepError once the cluster has had no worker for `no_workers_s`."""
        now = self._last_check = time.monotonic()
        self._threads = self._worker_threads()
        if self._threads > 0:
            self._no_workers_since = None
            return
        if self._no_workers_since is None:
            self._no_workers_since = now
            log.warning("the Dask cluster at %s has no workers", self.address)
        if now - self._no_workers_since >= self.no_workers_s:
            raise SweepError(
                f"the Dask cluster at {self.address} has had no workers for "
                f"{self.no_workers_s:g} s ({waiting} runs waiting); start workers "
                "('dask worker ADDRESS') and run the same command again"
            )

    def result(self, fut: Any) -> Any:
        return fut.result(timeout=self.timeout * 8)  # a finished run's bytes, from a worker

    def cancel(self, futures: Iterable[Any]) -> None:
        futs = list(futures)
        try:
            self._call(lambda: self.client.cancel(futs), "to cancel the runs in flight")
        except Exception as e:
            log.warning("could not cancel the Dask runs in flight: %s", _reason(e))

    def close(self, abandon: bool = False) -> None:
        try:
            self._call(lambda: self.client.close(timeout=self.timeout), "to close")
        except Exception as e:
            log.warning("could not close the Dask client: %s", _reason(e))


def _reason(e: BaseException) -> str:
    text = str(e).strip()
    first = text.splitlines()[0][:200] if text else ""
    return f"{type(e).__name__}: {first}" if first else type(e).__name__


Backend = InlineBackend | PoolBackend | DaskBackend


def make_backend(workers: int | None = None, scheduler: str | None = None) -> Backend:
    """Dask with a scheduler address, else a local pool (workers=0: this process)."""
    if scheduler:
        return DaskBackend(scheduler)
    if workers == 0:
        return InlineBackend()
    return PoolBackend(workers)


# ---------------------------------------------------------------------- rows and files
def columns(spec: SweepSpec) -> list[str]:
    """The results' columns: index, swept fields, status, numbers, bookkeeping."""
    metrics = list(dict.fromkeys([*ROW_METRICS, *spec.metrics]))
    return [
        "index",
        *spec.fields,
        "status",
        "steps",
        "train_acc",
        "test_acc",
        *metrics,
        "seconds",
        "message",
        "worker",
        "file",
        "key",
    ]


def _jsonable(v: Any) -> Any:
    if isinstance(v, float) and not math.isfinite(v):
        return None
    if hasattr(v, "item") and not isinstance(v, str):  # numpy scalars
        return _jsonable(v.item())
    return v


def _atomic_write(path: Path, text: str) -> None:
    """`files.write_bytes` (checked whole, the usual mode); SweepError for a device or FIFO."""
    try:
        files.write_bytes(path, text.encode("utf-8"))
    except files.NotRegularError as e:
        raise SweepError(f"{path}: {e}") from None


def _normalised(obj: Any) -> Any:
    return json.loads(json.dumps(obj, sort_keys=True, default=str))


def read_journal(path: Path, keys: set[str] | None = None) -> list[dict[str, Any]]:
    """The rows of a journal (only those of `keys` if given), read line by line: a torn
    line (killed mid-write), a line that is no JSON object or too long is skipped.
    SweepError when the journal is not a regular file (a FIFO, a link to /dev/zero)."""
    rows = []
    try:
        limits.check_regular_file(path, 2**62, "sweep journal")
        fh = open(path, "rb")  # noqa: SIM115 - closed below
    except FileNotFoundError:
        return []
    except (OSError, limits.LimitError) as e:
        raise SweepError(f"{path}: {getattr(e, 'strerror', None) or e}") from None
    with fh:
        while raw := fh.readline(MAX_JOURNAL_LINE + 1):
            if len(raw) > MAX_JOURNAL_LINE:
                while raw and not raw.endswith(b"\n"):
                    raw = fh.readline(MAX_JOURNAL_LINE + 1)
                continue
            try:
                row = json.loads(raw.decode("utf-8"))
            except (ValueError, RecursionError):
                continue
            if not isinstance(row, dict) or not isinstance(row.get("key"), str):
                continue  # an edited row ("key": [1] is not even hashable)
            if keys is None or row["key"] in keys:
                rows.append(row)
    return rows


@dataclass
class Progress:
    """What the progress bar shows after each finished job."""

    done: int  # jobs ended this session
    to_run: int  # jobs this session had to run
    skipped: int  # jobs already done by an earlier session
    counts: dict[str, int]  # rows per status, this session
    row: dict[str, Any] | None  # the row that just ended
    elapsed: float


@dataclass
class SweepReport:
    """How a `Sweep.run` ended."""

    total: int
    skipped: int
    ran: int = 0
    counts: dict[str, int] = field(default_factory=dict)
    cancelled: bool = False
    seconds: float = 0.0

    @property
    def failed(self) -> int:
        return self.counts.get(STATUS_FAILED, 0)

    @property
    def complete(self) -> bool:
        return not self.cancelled and self.ran + self.skipped == self.total


class Sweep:
    """A spec bound to a results folder: what is done, what is left, and running the rest.

    Opening takes the folder's lock (a second `nndyn sweep` on it is refused) and checks
    that the folder holds this sweep or nothing. `close()` releases it.
    """

    def __init__(self, spec: SweepSpec, folder: str | Path) -> None:
        self.spec = spec
        self.folder = Path(folder)
        self.jobs: list[SweepJob] = spec.jobs()
        self.columns = columns(spec)
        self._lock_fh: Any = None
        self._open()
        self.rows: dict[str, dict[str, Any]] = {}
        keys = {j.key for j in self.jobs}
        try:
            for row in read_journal(self.folder / JOURNAL, keys):
                self.rows[str(row["key"])] = row
        except SweepError:
            self.close()
            raise
        self.todo = [j for j in self.jobs if not self._is_done(j)]
        self._last_write = 0.0
        self.write_results()

    # ------------------------------------------------------------------ folder
    def _open(self) -> None:
        f = self.folder
        try:
            if f.exists() and not f.is_dir():
                raise SweepError(f"{f} is a file, not a folder")
            spec_path = f / SPEC_FILE
            if f.is_dir() and any(f.iterdir()) and not spec_path.exists():
                raise SweepError(f"{f} is not empty and holds no sweep: choose another --out")
            (f / RUNS_DIR).mkdir(parents=True, exist_ok=True)
            self._lock()
            wanted = _normalised(self.spec.to_dict())
            if spec_path.exists():
                try:
                    data = limits.read_bounded(spec_path, limits.MAX_JSON_BYTES, "sweep spec")
                    old = json.loads(data.decode("utf-8"))
                except (OSError, ValueError, RecursionError) as e:
                    raise SweepError(f"{spec_path}: cannot read ({e})") from None
                if not isinstance(old, dict):
                    raise SweepError(f"{spec_path}: not a sweep's spec; use a new --out folder")
                if old != wanted:
                    what = ", ".join(k for k in wanted if old.get(k) != wanted[k]) or "format"
                    raise SweepError(
                        f"{f} holds another sweep (its spec differs in: {what}); "
                        "use a new --out folder"
                    )
            else:
                _atomic_write(spec_path, json.dumps(wanted, indent=2) + "\n")
            journal = f / JOURNAL
            if journal.exists() or journal.is_symlink():
                try:
                    size = limits.check_regular_file(journal, 2**62, "sweep journal")
                except limits.LimitError as e:
                    raise SweepError(f"{journal}: {e}") from None
                if size:
                    with open(journal, "rb+") as fh:  # torn by a kill: end that line
                        fh.seek(-1, os.SEEK_END)
                        if fh.read(1) != b"\n":
                            fh.write(b"\n")
        except OSError as e:
            self.close()
            raise SweepError(f"{f}: {e.strerror or e}") from None
        except SweepError:
            self.close()
            raise

    def _lock(self) -> None:
        self._lock_fh = open(self.folder / LOCK_FILE, "a+")  # noqa: SIM115 - held until close
        try:
            import fcntl
        except ImportError:  # pragma: no cover - Windows: no lock
            return
        try:
            fcntl.flock(self._lock_fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            raise SweepError(f"{self.folder} is in use by another running sweep") from None

    def close(self) -> None:
        if self._lock_fh is not None:
            self._lock_fh.close()
            self._lock_fh = None

    def __enter__(self) -> Sweep:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _is_done(self, job: SweepJob) -> bool:
        """A row that is a result (finished, diverged) and a run file that is whole: the
        size the journal noted and a readable zip directory (a file truncated by a full
        disk or an edit is run again). A run that ended before its first snapshot (the
        initial loss not finite) has no file to check: its row is its result."""
        row = self.rows.get(job.key)
        if row is None or row.get("status") not in DONE_STATUSES:
            return False
        if row.get("nothing_to_save") is True and not row.get("file"):
            return True
        if not isinstance(row.get("file"), str) or not row["file"]:
            return False
        rel = Path(row["file"])
        if rel.is_absolute() or ".." in rel.parts:  # an edited row: not this sweep's file
            return False
        path = self.folder / rel
        try:
            size = limits.check_regular_file(path, limits.MAX_RUN_FILE_BYTES, "run file")
            if isinstance(row.get("file_bytes"), int) and size != row["file_bytes"]:
                return False
            with zipfile.ZipFile(path) as zf:
                return bool(zf.namelist())
        except (OSError, ValueError, zipfile.BadZipFile):
            return False

    # ------------------------------------------------------------------ results
    def ordered_rows(self) -> list[dict[str, Any]]:
        by_key = self.rows
        return [by_key[j.key] for j in self.jobs if j.key in by_key]

    def write_results(self) -> None:
        """Rewrite results.json and results.csv from the rows (atomically)."""
        rows = self.ordered_rows()
        doc = {
            "format": "nndyn-sweep",
            "format_version": 1,
            "spec": _normalised(self.spec.to_dict()),
            "fields": self.spec.fields,
            "metrics": [c for c in self.columns if c in _NUMBER_COLUMNS or c in self._metric_set],
            "columns": self.columns,
            "n_runs": len(self.jobs),
            "rows": [{c: _jsonable(r.get(c)) for c in self.columns} for r in rows],
        }
        _atomic_write(self.folder / RESULTS_JSON, json.dumps(doc, indent=1, allow_nan=False) + "\n")
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(self.columns)
        for r in rows:
            w.writerow(
                ["" if _jsonable(r.get(c)) is None else _cell(r.get(c)) for c in self.columns]
            )
        _atomic_write(self.folder / RESULTS_CSV, buf.getvalue())
        self._last_write = time.monotonic()

    @property
    def _metric_set(self) -> set[str]:
        return {*ROW_METRICS, *self.spec.metrics}

    def _record(self, job: SweepJob, run: Any, row: dict[str, Any]) -> dict[str, Any]:
        """Save the run's file, then append its row to the journal (fsynced)."""
        full: dict[str, Any] = {"index": job.index, **dict(job.values), **row, "key": job.key}
        full["file"] = ""
        if run is not None:
            from nndyn_gui.core.io.runfile import RunFileError, save_run

            rel = f"{RUNS_DIR}/{job.file_name}"
            try:
                save_run(run, self.folder / rel)
                full["file"] = rel
                full["file_bytes"] = (self.folder / rel).stat().st_size
            except RunFileError as e:
                full["status"] = STATUS_FAILED
                full["message"] = f"cannot save the run: {e}"
        elif full.get("status") in DONE_STATUSES:
            full["nothing_to_save"] = True  # a result without snapshots: never run again
        line = json.dumps({k: _jsonable(v) for k, v in full.items()}, allow_nan=False)
        with open(self.folder / JOURNAL, "a", encoding="utf-8") as fh:
            fh.write(line + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        self.rows[job.key] = full
        if time.monotonic() - self._last_write >= WRITE_EVERY_S:
            self.write_results()
        return full

    # ------------------------------------------------------------------ running
    def run(
        self,
        backend: Backend,
        job: Job | None = None,
        on_progress: Callable[[Progress], None] | None = None,
        cancel: threading.Event | None = None,
        members: int = ENSEMBLE_MEMBERS,
    ) -> SweepReport:
        """Run every job not yet done on `backend`; rows are saved as each one ends.

        Runs of one shape go to a worker together, as one ensemble job of at most
        `members` (`job.run_jobs`; each spread over the workers, so no worker idles
        while another trains a big group); their rows are those of runs alone. A `job`
        given here (or a stand-in for `run_job`) runs each run on its own.
        `cancel` set: no new job starts, the ones in flight finish and are kept.
        KeyboardInterrupt (a second Ctrl+C): the runs in flight are abandoned.
        """
        single = job or run_job  # looked up now: a test's stand-in reaches the CLI's sweeps
        grouped = job is None and run_job is _job.run_job and members > 1
        report = SweepReport(total=len(self.jobs), skipped=len(self.jobs) - len(self.todo))
        t0 = time.perf_counter()
        queue: deque[tuple[list[SweepJob], int]] = deque(
            (g, 0) for g in _groups(self.todo, members if grouped else 1, backend.workers)
        )
        inflight: dict[Any, tuple[list[SweepJob], int]] = {}
        metrics = tuple(self.spec.metrics)
        abandon = False
        try:
            while queue or inflight:
                self._submit_more(backend, single, metrics, queue, inflight, cancel, report)
                if not inflight:
                    break
                for fut in backend.wait_first(list(inflight), POLL_S):
                    if fut not in inflight:
                        continue  # lost with a broken pool and already resubmitted
                    g, crashes = inflight.pop(fut)
                    for jj, run, row in self._outcome(backend, fut, g, crashes, queue, inflight):
                        full = self._record(jj, run, row)
                        report.ran += 1
                        status = str(full["status"])
                        report.counts[status] = report.counts.get(status, 0) + 1
                        if on_progress is not None:
                            on_progress(
                                Progress(
                                    report.ran,
                                    len(self.todo),
                                    report.skipped,
                                    dict(report.counts),
                                    full,
                                    time.perf_counter() - t0,
                                )
                            )
        except KeyboardInterrupt:
            abandon = True
            report.cancelled = True
            raise
        finally:
            if inflight:
                backend.cancel(list(inflight))
            backend.close(abandon=abandon or bool(inflight))
            report.seconds = time.perf_counter() - t0
            self.write_results()
        return report

    @staticmethod
    def _submit_more(
        backend: Backend,
        job: Job,
        metrics: tuple[str, ...],
        queue: deque[tuple[list[SweepJob], int]],
        inflight: dict[Any, tuple[list[SweepJob], int]],
        cancel: threading.Event | None,
        report: SweepReport,
    ) -> None:
        """Keep `backend.window()` jobs submitted, or one ensemble job per worker (so
        Ctrl+C waits for no more than the groups being trained). A run that was in a
        crashed pool runs alone, so the one that crashes it is found and the others are
        not blamed."""
        while queue and len(inflight) < _limit(backend, queue[0][0]):
            if cancel is not None and cancel.is_set():
                report.cancelled = True
                queue.clear()
                return
            suspect_running = any(c > 0 for _, c in inflight.values())
            if suspect_running or (queue[0][1] > 0 and inflight):
                return
            g, crashes = queue.popleft()
            if len(g) > 1:
                fut = backend.submit(run_jobs, [j.config for j in g], metrics)
            else:
                fut = backend.submit(job, g[0].config, metrics)
            inflight[fut] = (g, crashes)

    @staticmethod
    def _outcome(
        backend: Backend,
        fut: Any,
        g: list[SweepJob],
        crashes: int,
        queue: deque[tuple[list[SweepJob], int]],
        inflight: dict[Any, tuple[list[SweepJob], int]],
    ) -> list[tuple[SweepJob, Any, dict[str, Any]]]:
        """The (job, run, row) to record for a finished future (none if resubmitted)."""
        try:
            return _pairs(g, backend.result(fut))
        except BrokenProcessPool:
            if not isinstance(backend, PoolBackend):
                return [(j, None, _failed_row("the worker process died")) for j in g]
            # the pool is gone and every job in it with it: start a new pool and run
            # those runs again, one at a time; one that breaks the pool alone is failed
            alone = not inflight and len(g) == 1
            out: list[tuple[SweepJob, Any, dict[str, Any]]] = []
            lost = [(j, crashes + 1) for j in g]
            for f, (gg, c) in inflight.items():
                if f.done() and not f.cancelled() and f.exception() is None:
                    out.extend(_pairs(gg, f.result()))  # it ended before the crash: keep it
                else:
                    lost.extend((jj, c + 1) for jj in gg)
            inflight.clear()
            backend.restart()
            for jj, c in reversed(lost):
                if alone and c >= MAX_POOL_CRASHES:
                    msg = "the worker process died running it (a crash or out of memory)"
                    out.append((jj, None, _failed_row(msg)))
                else:
                    queue.appendleft(([jj], c))
            return out
        except Exception as e:  # one job's boundary (any backend's error): its rows say so
            log.info("sweep runs %s failed", [j.index for j in g], exc_info=True)
            name = type(e).__name__
            if name == "KilledWorker":
                return [(j, None, _failed_row(f"the Dask worker died running it ({e})")) for j in g]
            return [(j, None, _failed_row(f"{name}: {e}")) for j in g]


def _limit(backend: Backend, group: list[SweepJob]) -> int:
    """Jobs to keep submitted before `group`: the backend's window for single runs, one
    per worker for an ensemble job (each holds many runs)."""
    return backend.window() if len(group) == 1 else max(1, backend.workers)


def _pairs(g: list[SweepJob], result: Any) -> list[tuple[SweepJob, Any, dict[str, Any]]]:
    """A job's result as (job, run, row): an ensemble job returns one (run, row) per run."""
    results = result if len(g) > 1 else [result]
    return [(j, run, dict(row)) for j, (run, row) in zip(g, results, strict=True)]


def ensemble_key(config: Any) -> str:
    """Sweep runs with equal keys can share one ensemble job (see claims.ensemble_key)."""
    from nndyn_gui.core.analysis.claims import ensemble_key as key

    return key(config)


def _groups(jobs: list[SweepJob], members: int, workers: int) -> list[list[SweepJob]]:
    """The runs to do, in groups of one shape: as many groups per shape as there are
    workers (at most `members` each), so one worker does not train them all; the order
    of the runs is kept within a group, and groups come in order of their first run."""
    if members <= 1:
        return [[j] for j in jobs]
    by_shape: dict[str, list[SweepJob]] = {}
    for j in jobs:
        by_shape.setdefault(ensemble_key(j.config), []).append(j)
    groups: list[list[SweepJob]] = []
    for same in by_shape.values():
        size = max(1, min(members, -(-len(same) // max(1, workers))))
        groups.extend(same[i : i + size] for i in range(0, len(same), size))
    return sorted(groups, key=lambda g: g[0].index)


_NUMBER_TEXT = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")


def _cell(v: Any) -> Any:
    """A CSV cell a spreadsheet shows as text: a string that starts like a formula
    (= + - @, a tab or CR) gets a leading ' unless it is a plain number."""
    formula = isinstance(v, str) and v[:1] in ("=", "+", "-", "@", "\t", "\r")
    return "'" + v if formula and not _NUMBER_TEXT.match(v) else v


def _failed_row(message: str) -> dict[str, Any]:
    return {"status": STATUS_FAILED, "message": message.splitlines()[0] if message else ""}


_NUMBER_COLUMNS = ("train_acc", "test_acc", "steps", "seconds")
