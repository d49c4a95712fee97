"""Autosave: a crash, a power cut or `kill -9` during training loses seconds, not the run.

How it works:
- Each app session owns one file `autosave-<pid>-<token>.nndyn` in the autosave folder
  (QStandardPaths.AppDataLocation/autosave, or $NNDYN_AUTOSAVE_DIR) plus a lock file
  `autosave-<pid>-<token>.lock` held with QLockFile for the whole session. The random
  token tells sessions apart when PIDs repeat (containers, Flatpak: the app is PID 2
  after every start), and a lock whose PID now belongs to another process (this one,
  or one started after the lock was written) counts as stale.
- While training runs, a QTimer saves the current run every `interval_ms` *if it changed*
  since the last autosave; training stopping, finishing or diverging saves once more.
  Saving uses `core.io.runfile.save_run`, which is atomic (temp file + rename), so the
  autosave on disk is always a complete run, the previous one or none.
- The run is built on the GUI thread (cheap: shared numpy arrays) and written in the
  background (`ui/background.NewestWins`), so a big run (200 blocks of width 64) never
  freezes the window; at most one write is in flight, a change during a write is saved
  next.
- A clean exit (`discard()`, e.g. from the main window's closeEvent) removes the file
  and the lock. A killed session leaves both behind, and its lock becomes stale (Qt
  sees the process is gone); `pending_restore()` at the next start finds that file and
  the app offers to restore it; `discard_pending()` removes it afterwards.
- When the user saves the run themselves (AppState.dirty turns False) the autosave is
  removed: the user's file holds everything. When the run becomes unsaved again (e.g.
  a restored autosave) it is autosaved again.
- `find_restorable()` offers only a file that loads: a damaged autosave (truncated,
  half-written) is removed, one from a newer nndyn is left for that version, and an
  older valid autosave next to them is found.

Nothing here raises into the event loop: failures (unwritable folder, disk full) are
reported once through the `failed` signal and retried at the next change.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import secrets
import stat
from pathlib import Path
from typing import Any

import psutil
from PySide6.QtCore import QLockFile, QObject, QStandardPaths, QSysInfo, QTimer, Signal, Slot

from nndyn_gui.core.io.limits import MAX_RUN_FILE_BYTES
from nndyn_gui.core.io.runfile import NewerFormatError, RunFileError, load_run, save_run
from nndyn_gui.core.types import Run
from nndyn_gui.ui import discard_rules
from nndyn_gui.ui.background import NewestWins
from nndyn_gui.ui.state import AppState

ENV_DIR = "NNDYN_AUTOSAVE_DIR"
PREFIX = "autosave-"
SUFFIX = ".nndyn"
LOCK_SUFFIX = ".lock"
DEFAULT_INTERVAL_MS = 5000
SETTLE_MS = 300  # after training ends / an idle change, save once things settled
ACTIVE_STATES = ("loading", "training", "paused", "stopping")
JOIN_TIMEOUT_S = 60.0  # a clean exit waits at most this long for a write in flight
PID_START_SLACK_S = 2.0  # clock-tick and boot-time rounding when comparing start times
MAX_EXAMINED = 10_000  # autosaves looked at per start, newest first (the rest next time)
_NAME = re.compile(r"autosave-\d+(-[0-9a-f]+)?\.nndyn")  # older nndyn: no token
log = logging.getLogger(__name__)
_OWN_LOCKS: set[str] = set()  # lock files held by the Autosavers of this process


def default_directory() -> Path:
    """$NNDYN_AUTOSAVE_DIR if set, else <AppDataLocation>/autosave (not created here)."""
    env = os.environ.get(ENV_DIR)
    if env:
        return Path(env)
    base = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppDataLocation)
    if not base:  # no home folder (service accounts, some sandboxes)
        base = str(Path.home() / ".nndyn")
    return Path(base) / "autosave"


def _lock_path(autosave: Path) -> Path:
    return autosave.with_suffix(LOCK_SUFFIX)


def _process_start_time(pid: int) -> float | None:
    """When process `pid` started (seconds since the epoch, any OS, via psutil); None if
    there is no such process or it cannot be asked."""
    try:
        return float(psutil.Process(pid).create_time())
    except (psutil.Error, OSError, ValueError):
        return None


def _pid_reused(pid: int, lock_file: Path) -> bool:
    """True when `pid` no longer belongs to the session that wrote `lock_file`.

    Qt judges a lock by its PID (and, on Linux, the program name, "python3.11" for
    every Python app). After kill -9 that PID may be reused: by this very process (in a
    container the app is PID 2 every time) or by another one started later.
    """
    if pid == os.getpid():
        return str(lock_file) not in _OWN_LOCKS
    started = _process_start_time(pid)
    if started is None:
        return False
    try:
        written = lock_file.stat().st_mtime
    except OSError:
        return False
    return started > written + PID_START_SLACK_S


def _owner_alive(autosave: Path) -> bool:
    """True while the session that writes `autosave` still runs (its lock is held)."""
    lock_file = _lock_path(autosave)
    if str(lock_file) in _OWN_LOCKS:
        return True
    if not lock_file.exists():
        return False
    lock = QLockFile(str(lock_file))
    lock.setStaleLockTime(0)  # age alone never makes a live session's lock stale
    info = lock.getLockInfo()
    if isinstance(info, tuple) and len(info) == 3:
        pid, host, _app = info
        if pid and host == QSysInfo.machineHostName() and _pid_reused(int(pid), lock_file):
            with contextlib.suppress(OSError):
                lock_file.unlink()
            return False
    if lock.tryLock(0):  # the owner is gone: Qt removed its stale lock and gave it to us
        lock.unlock()  # deletes the lock file again
        return False
    return True  # locked by a live session or unreadable


def _candidates(folder: Path) -> list[Path]:
    """This folder's autosave files, newest first: one listing, one stat per file.

    Only names nndyn gives (`autosave-<pid>-<hex>.nndyn`) count; anything else in the
    folder (3,000 junk files in issue 25) is never opened, stat'ed or locked.
    """
    found: list[tuple[float, str]] = []
    try:
        with os.scandir(folder) as entries:
            for entry in entries:
                if not _NAME.fullmatch(entry.name):
                    continue
                with contextlib.suppress(OSError):
                    st = entry.stat()
                    if stat.S_ISREG(st.st_mode) and 0 < st.st_size <= MAX_RUN_FILE_BYTES:
                        found.append((st.st_mtime, entry.name))
    except OSError:
        return []
    return [folder / name for _, name in sorted(found, reverse=True)]


def _ended_sessions(folder: Path, limit: int = MAX_EXAMINED) -> list[Path]:
    """Autosaves of sessions that no longer run, newest first (empty files skipped).

    At most `limit` files are examined (their locks checked), newest first: a folder
    full of old files costs one listing, not a lock check and a load each."""
    ended: list[Path] = []
    for p in _candidates(folder)[:limit]:
        with contextlib.suppress(OSError):
            if not _owner_alive(p):
                ended.append(p)
    return ended


def pending_restore(directory: str | os.PathLike[str] | None = None) -> Path | None:
    """The newest autosave left by a session that is no longer running, else None.

    Call it at start-up (before creating this session's Autosaver, though it ignores
    files of live sessions either way). It does not read the file: the app uses
    `find_restorable`, which offers only files that load.
    """
    folder = Path(directory) if directory is not None else default_directory()
    ended = _ended_sessions(folder)
    return ended[0] if ended else None


def find_restorable(
    directory: str | os.PathLike[str] | None = None,
) -> tuple[Path, Run] | None:
    """The newest autosave of an ended session that loads, with its run; else None.

    A damaged one (truncated, half-written, garbage) can never be restored: it is
    removed, so it is not offered at every start and does not hide an older valid one.
    One written by a newer nndyn is skipped but kept (that version can restore it).
    """
    folder = Path(directory) if directory is not None else default_directory()
    temps: list[str] | None = None  # the folder's temp files, listed once if needed
    for path in _ended_sessions(folder):
        try:
            return path, load_run(path)
        except NewerFormatError:
            continue
        except RunFileError as e:
            log.info("removing a damaged autosave %s: %s", path, e)
            if temps is None:
                temps = _temp_names(folder)
            discard_pending(path, [n for n in temps if n.startswith(f".{path.name}.")])
    return None


def restore(path: str | os.PathLike[str]) -> Run:
    """Load an autosave (RunFileError if it is damaged; then `discard_pending` it)."""
    return load_run(path)


def discard_pending(path: str | os.PathLike[str], temps: list[str] | None = None) -> None:
    """Delete an autosave of an ended session (after restoring it or declining to).

    `temps`: the names of its temporary files if known (else the folder is listed)."""
    p = Path(path)
    names = (
        temps
        if temps is not None
        else [n for n in _temp_names(p.parent) if n.startswith(f".{p.name}.")]
    )
    for f in (p, _lock_path(p), *(p.parent / n for n in names)):
        try:
            f.unlink()
        except FileNotFoundError:
            continue
        except OSError as e:
            log.warning("cannot remove %s: %s", f, e)


def _temp_names(folder: Path) -> list[str]:
    """Names of the autosave temporary files (`.autosave-….nndyn.XXXX.tmp`) in `folder`."""
    try:
        with os.scandir(folder) as entries:
            return [
                e.name
                for e in entries
                if e.name.startswith(f".{PREFIX}") and e.name.endswith(".tmp")
            ]
    except OSError:
        return []


def _temps_of(p: Path) -> list[Path]:
    """Temporary files of saves to `p` (`.NAME.XXXX.tmp`), in one listing of its folder."""
    return [p.parent / n for n in _temp_names(p.parent) if n.startswith(f".{p.name}.")]


class Autosaver(QObject):
    """Saves `state`'s run to this session's autosave file while training (see module)."""

    saved = Signal(object)  # Path: an autosave was written
    failed = Signal(str)  # one-line reason; emitted once per failure streak

    def __init__(
        self,
        state: AppState,
        directory: str | os.PathLike[str] | None = None,
        interval_ms: int = DEFAULT_INTERVAL_MS,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.state = state
        self.directory = Path(directory) if directory is not None else default_directory()
        session = f"{os.getpid()}-{secrets.token_hex(4)}"  # PIDs repeat (containers)
        self.path = self.directory / f"{PREFIX}{session}{SUFFIX}"
        self._lock: QLockFile | None = None
        self._generation = 0  # bumped on every change of the state's run
        self._saved_generation = 0  # the generation on disk (0: nothing written)
        self._writer = NewestWins(self, name="nndyn-autosave", what="autosave")
        self._failing = False
        self._closed = False
        self._timer = QTimer(self)
        self._timer.setInterval(max(1, int(interval_ms)))
        self._timer.timeout.connect(self._on_timer)
        self._settle = QTimer(self)  # one save shortly after training ends or idle edits
        self._settle.setSingleShot(True)
        self._settle.setInterval(SETTLE_MS)
        self._settle.timeout.connect(self._on_timer)
        self._writer.done.connect(self._on_written)
        state.snapshotsChanged.connect(self._on_changed)
        state.configChanged.connect(self._on_changed)
        state.datasetChanged.connect(self._on_changed)
        state.statusChanged.connect(self._on_changed)
        state.trainingStateChanged.connect(self._on_training_state)
        state.dirtyChanged.connect(self._on_dirty)
        if state.training_state in ACTIVE_STATES:
            self._timer.start()

    # ------------------------------------------------------------------ public
    @property
    def interval_ms(self) -> int:
        return int(self._timer.interval())

    @property
    def busy(self) -> bool:
        """True while a write runs in the background (until its result is handled)."""
        return self._writer.busy()

    @property
    def has_unsaved_changes(self) -> bool:
        """True when the state changed since the last autosave that reached the disk."""
        return self._generation != self._saved_generation

    def save_now(self, wait: bool = False) -> bool:
        """Autosave now if the run changed and has unsaved work; True if a write started.

        With `wait=True` the write runs on this thread (used on stop/finish in tests and
        by the app before quitting); otherwise on a background thread.
        """
        if self._closed or not self.state.dirty or not self.has_unsaved_changes:
            return False
        if not discard_rules.has_trained(self.state.snapshots):
            return False  # an untrained net is not worth restoring: keep the last autosave
        err = self._ensure_lock()
        if err:
            self._fail(err)
            return False
        if self.busy:
            if not wait:
                return False  # the next timer tick or state change saves the newer run
            self.wait()
        run = self._snapshot_run()
        generation = self._generation
        if wait:
            self._on_write_done(generation, self._write(run))
            return True
        self._writer.request(lambda: (generation, self._write(run)))
        return True

    def wait(self, timeout: float = JOIN_TIMEOUT_S) -> None:
        """Block until a write in flight has finished (its result is then delivered)."""
        self._writer.wait(timeout)

    def discard(self) -> None:
        """Clean exit: stop saving, wait for a write in flight, remove file and lock."""
        if self._closed:
            return
        self._closed = True
        self._timer.stop()
        self._settle.stop()
        self._writer.shutdown(JOIN_TIMEOUT_S)  # a write in flight ends before the file goes
        discard_pending(self.path)
        if self._lock is not None:
            self._lock.unlock()
            self._lock = None
        _OWN_LOCKS.discard(str(_lock_path(self.path)))
        with contextlib.suppress(OSError):
            _lock_path(self.path).unlink()

    # ------------------------------------------------------------------ internals
    def _snapshot_run(self) -> Run:
        """The state's run on the GUI thread; mid-training it is marked as interrupted."""
        run = self.state.run()
        if self.state.training_state in ACTIVE_STATES or run.status == "new":
            last = run.snapshots[-1].step if run.snapshots else 0
            if run.snapshots and last > 0:
                run.status = "cancelled"
                run.message = f"Restored from an autosave: training was interrupted at step {last}."
        return run

    def _ensure_lock(self) -> str:
        """Create the folder and take this session's lock; return an error or ""."""
        if self._lock is not None:
            return ""
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            return f"cannot create the autosave folder {self.directory}: {e.strerror or e}"
        lock = QLockFile(str(_lock_path(self.path)))
        lock.setStaleLockTime(0)
        if not lock.tryLock(0):
            return f"cannot lock the autosave file {self.path} (error {lock.error().name})"
        self._lock = lock
        _OWN_LOCKS.add(str(_lock_path(self.path)))
        return ""

    def _write(self, run: Run) -> str:
        """Runs on the writer thread (or inline): save atomically, return an error or ""."""
        try:
            save_run(run, self.path)
        except RunFileError as e:  # save_run says every failure so; a bug reaches NewestWins
            return str(e)
        return ""

    @Slot(object, str)
    def _on_written(self, result: Any, error: str) -> None:
        if result is None:  # `_write` reports its errors itself; this is a bug's
            self._on_write_done(self._generation, error)
        else:
            self._on_write_done(*result)

    def _fail(self, error: str) -> None:
        """Log and tell the window (it shows `failed`) once per streak of failures."""
        if not self._failing:
            self._failing = True
            log.warning("autosave to %s failed, retried while training: %s", self.path, error)
            self.failed.emit(error)

    def _on_write_done(self, generation: int, error: str) -> None:
        if error:
            self._fail(error)
            return
        if self._failing:
            log.info("autosave to %s works again", self.path)
        self._failing = False
        self._saved_generation = max(self._saved_generation, generation)
        if self._closed:  # a write finished after discard(): remove it again
            discard_pending(self.path)
            return
        self.saved.emit(self.path)
        if self.has_unsaved_changes and self.state.training_state not in ACTIVE_STATES:
            self._settle.start()  # changed while writing: save the newer run too

    def _save_if_needed(self, wait: bool = False) -> None:
        if self._closed:
            return
        wanted = self.state.dirty and self.has_unsaved_changes
        if wanted and not self.save_now(wait=wait) and self.busy:
            self._settle.start()  # a write is in flight: try again shortly

    @Slot()
    def _on_timer(self) -> None:
        self._save_if_needed()

    @Slot()
    def _on_changed(self, *_args: object) -> None:
        self._generation += 1
        if not self._closed and self.state.training_state not in ACTIVE_STATES:
            self._settle.start()  # e.g. the final snapshots/status arriving after "idle"

    @Slot(str)
    def _on_training_state(self, training_state: str) -> None:
        if self._closed:
            return
        if training_state in ACTIVE_STATES:
            if not self._timer.isActive():
                self._timer.start()
            return
        self._timer.stop()
        self._settle.start()  # stop / finish / divergence: save the final run once

    @Slot(bool)
    def _on_dirty(self, dirty: bool) -> None:
        if self._closed:
            return
        if dirty:  # unsaved again (a restored autosave, Reset after Save): save it again
            self._generation += 1
            if self.state.training_state not in ACTIVE_STATES:
                self._settle.start()
            return
        # The user saved (or loaded) the run: nothing left to recover from the autosave.
        self.wait()
        self._saved_generation = self._generation
        for f in (self.path, *_temps_of(self.path)):
            with contextlib.suppress(OSError):
                f.unlink()
