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
- Where jobs run is core/sweep/backends.py (a process pool, Dask, or this process).
  A crashed pool process breaks the whole pool: it is rebuilt and its jobs resubmitted,
  and a job that breaks it twice becomes a "failed" row.

Pure core: no Qt. TensorFlow is imported only by the job, in the workers.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import math
import os
import re
import threading
import time
import zipfile
from collections import deque
from collections.abc import Callable
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from filelock import FileLock, Timeout

from nndyn_gui.core.io import files, limits
from nndyn_gui.core.sweep import job as _job
from nndyn_gui.core.sweep.backends import Backend, PoolBackend, SweepError
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
MAX_JOURNAL_LINE = 1 * limits.MIB
ENSEMBLE_MEMBERS = 8  # runs of one shape in one ensemble job (core/train/ensemble.py)

Job = Callable[..., Any]  # (run, row), or a list of them for an ensemble job


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
        self._lock_fh: FileLock | None = None
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
        """One sweep per folder: `filelock` (flock on Linux/macOS, msvcrt on Windows), held
        until `close`; a second `nndyn sweep` on the same folder is refused at once."""
        self._lock_fh = FileLock(self.folder / LOCK_FILE, timeout=0)
        try:
            self._lock_fh.acquire()
        except Timeout:
            self._lock_fh = None
            raise SweepError(f"{self.folder} is in use by another running sweep") from None

    def close(self) -> None:
        if self._lock_fh is not None:
            self._lock_fh.release()
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
    """Sweep runs with equal keys can share one ensemble job (see claim_runs.ensemble_key)."""
    from nndyn_gui.core.analysis.claim_runs import ensemble_key as key

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
