"""Where the window remembers its geometry, dock layout and last parameters.

Why a module: every QSettings in the app must point at the same place, and tests must
never touch the user's real settings. `$NNDYN_SETTINGS_DIR` redirects everything to an
INI file in that folder (the test suite sets it to a temporary folder).

The settings file is checked (one `stat`) before Qt may read or write it (issue 25):
QSettings reads the whole file when created, so a FIFO kept the window from ever
appearing and a 300 MB file cost 14 s and 1.2 GB at start; and it saves by writing a
new file and renaming it over the old, so a settings file that was a symlink to a
device had the device replaced (as root). Now a device, pipe, socket or folder there is
never read nor replaced: this session's settings live in a private temporary file and
a warning is logged; a file over MAX_SETTINGS_BYTES is moved aside (kept, renamed
`….too-big-<time>`) and the settings start afresh.
"""

from __future__ import annotations

import atexit
import logging
import os
import shutil
import stat
import tempfile
import time
from pathlib import Path

from PySide6.QtCore import QByteArray, QSettings, QStandardPaths
from PySide6.QtWidgets import QMainWindow

from nndyn_gui.core.config import ConfigError, RunConfig
from nndyn_gui.core.io.limits import human_bytes, is_pseudo_file

ORG = "nndyn"
APP = "nndyn-gui"
ENV_DIR = "NNDYN_SETTINGS_DIR"
KEY_GEOMETRY = "window/geometry"
KEY_STATE = "window/state"
KEY_CONFIG = "run/last_config"
KEY_RECENT = "run/recent"
KEY_LAST_DIR = "run/last_dir"
STATE_VERSION = 1  # bump when docks are renamed so an old layout is not half-applied
MAX_RECENT = 8
MAX_SETTINGS_BYTES = 2**20  # ours are a few KB (geometry, dock layout, a config, 8 paths)

log = logging.getLogger(__name__)
TOO_BIG = "; a settings file is at most "
_warned: set[tuple[str, str]] = set()
_session_dir: str | None = None


def settings_files() -> list[Path]:
    """The INI files QSettings reads for the app: this app's file, then the
    organisation-wide one (user scope; Qt reads it as a fallback)."""
    folder = os.environ.get(ENV_DIR)
    if folder:
        return [Path(folder) / f"{APP}.ini"]
    base = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.GenericConfigLocation)
    base = base or str(Path.home() / ".config")
    return [Path(base) / ORG / f"{APP}.ini", Path(base) / f"{ORG}.ini"]


def problem_with(path: Path) -> str:
    """Why `path` must not be read or replaced as a settings file, or "" (absent is fine)."""
    try:
        st = os.stat(path)  # follows a symlink: what matters is what it points at
    except FileNotFoundError:
        return ""
    except OSError as e:
        return f"cannot be examined ({e.strerror or e})"
    if stat.S_ISDIR(st.st_mode):
        return "is a folder"
    if not stat.S_ISREG(st.st_mode):
        return "is a device, pipe or socket, not a file"
    if is_pseudo_file(path):
        return "is a kernel file, not a settings file"
    if st.st_size > MAX_SETTINGS_BYTES:
        limit = human_bytes(MAX_SETTINGS_BYTES)
        return f"is {human_bytes(st.st_size)}{TOO_BIG}{limit}"
    return ""


def _warn_once(path: Path, text: str) -> None:
    if (str(path), text) not in _warned:
        _warned.add((str(path), text))
        log.warning("settings file %s %s", path, text)


def _move_aside(path: Path) -> bool:
    """Rename a too-big settings file out of the way (kept for the user); True if done."""
    aside = path.with_name(f"{path.name}.too-big-{time.strftime('%Y%m%d-%H%M%S')}")
    try:
        os.rename(path, aside)
    except OSError as e:
        _warn_once(path, f"is too big and cannot be moved aside ({e.strerror or e})")
        return False
    _warn_once(path, f"was too big: moved to {aside.name}; settings start afresh")
    return True


def _session_only() -> QSettings:
    """Settings for this session alone (a private temporary file, removed at exit)."""
    global _session_dir
    if _session_dir is None:
        _session_dir = tempfile.mkdtemp(prefix="nndyn-settings-")
        atexit.register(shutil.rmtree, _session_dir, True)
    return QSettings(str(Path(_session_dir) / f"{APP}.ini"), QSettings.Format.IniFormat)


def settings(create: bool = True) -> QSettings:
    """The app's settings: $NNDYN_SETTINGS_DIR/nndyn-gui.ini if set, else the user's.

    `create` False: only to read (a missing folder is not made; its values are None).
    A settings file that must not be read or replaced (see the module) gives settings
    for this session only, with a warning logged once."""
    for path in settings_files():
        problem = problem_with(path)
        if not problem:
            continue
        if TOO_BIG in problem and _move_aside(path):
            continue
        _warn_once(path, f"{problem}: it is left alone; settings last for this session only")
        return _session_only()
    folder = os.environ.get(ENV_DIR)
    if folder:
        if create:
            Path(folder).mkdir(parents=True, exist_ok=True)
        return QSettings(str(Path(folder) / f"{APP}.ini"), QSettings.Format.IniFormat)
    return QSettings(QSettings.Format.IniFormat, QSettings.Scope.UserScope, ORG, APP)


def save_window(win: QMainWindow) -> None:
    s = settings()
    s.setValue(KEY_GEOMETRY, win.saveGeometry())
    s.setValue(KEY_STATE, win.saveState(STATE_VERSION))
    s.sync()


def restore_window(win: QMainWindow) -> bool:
    """Apply the saved geometry and dock layout; False if there is none (first start)."""
    s = settings()
    geo = s.value(KEY_GEOMETRY)
    state = s.value(KEY_STATE)
    ok = False
    if isinstance(geo, QByteArray | bytes) and QByteArray(geo).size():
        ok = bool(win.restoreGeometry(QByteArray(geo)))
    if isinstance(state, QByteArray | bytes) and QByteArray(state).size():
        win.restoreState(QByteArray(state), STATE_VERSION)
    return ok


def save_config(config: RunConfig) -> None:
    s = settings()
    s.setValue(KEY_CONFIG, config.to_json())
    s.sync()


def load_config() -> RunConfig | None:
    """The parameters of the last session, or None (none saved, or no longer valid)."""
    raw = settings().value(KEY_CONFIG)
    if not isinstance(raw, str) or not raw:
        return None
    try:
        return RunConfig.from_json(raw)
    except ConfigError:
        return None


def recent_files() -> list[str]:
    raw = settings().value(KEY_RECENT)
    if isinstance(raw, str):
        raw = [raw]
    if not isinstance(raw, list):
        return []
    return [str(p) for p in raw if str(p)][:MAX_RECENT]


def add_recent_file(path: str) -> None:
    items = [p for p in recent_files() if p != path]
    s = settings()
    s.setValue(KEY_RECENT, [path, *items][:MAX_RECENT])
    s.setValue(KEY_LAST_DIR, str(Path(path).parent))
    s.sync()


def clear_recent_files() -> None:
    s = settings()
    s.remove(KEY_RECENT)
    s.sync()


def last_dir() -> str:
    raw = settings().value(KEY_LAST_DIR)
    return raw if isinstance(raw, str) and raw else str(Path.home())


def clear() -> None:
    """Forget everything (Help ▸ Reset layout, and tests)."""
    s = settings()
    s.clear()
    s.sync()
