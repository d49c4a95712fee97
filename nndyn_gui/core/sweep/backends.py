"""Where a sweep's jobs run: this process, a local process pool, or a Dask cluster.

Why a module of its own: the runner (core/sweep/runner.py) decides *what* to run and
records it; a backend only says how a job reaches a CPU. All three share one small
interface (`describe`, `window`, `submit`, `wait_first`, `result`, `cancel`, `close`),
so the runner never asks which one it has.

- `PoolBackend`: spawned processes (TensorFlow does not survive fork), one per core,
  each training on one thread. A crashed process breaks the whole pool: it is rebuilt
  and its jobs resubmitted by the runner.
- `DaskBackend`: `distributed.Client` on a scheduler address (the optional `cluster`
  extra); the address is probed with a plain socket first so a wrong one fails in
  seconds with a sentence, not a 30 s hang.
- `InlineBackend`: this process (`--workers 0`; tests, debugging).
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import socket
import struct
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor
from concurrent.futures import wait as futures_wait
from typing import Any

from nndyn_gui.core.io import blas, limits, logs

log = logging.getLogger(__name__)

PARENT_CHECK_S = 1.0  # a pool worker whose driver died (kill -9) exits within this
DASK_TIMEOUT_S = 15.0  # connecting, and every call to the scheduler
DASK_NO_WORKERS_S = 60.0  # a cluster without workers this long stops the sweep
DASK_CHECK_S = 5.0  # how often the number of workers is asked for
MAX_HANDSHAKE_BYTES = 1 * limits.MIB  # a scheduler's greeting is ~200 bytes
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
    blas.one_thread()
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
