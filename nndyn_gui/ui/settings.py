"""Where the window remembers its geometry, dock layout and last parameters.

Why a module: every QSettings in the app must point at the same place, and tests must
never touch the user's real settings. `$NNDYN_SETTINGS_DIR` redirects everything to an
INI file in that folder (the test suite sets it to a temporary folder).
"""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import QByteArray, QSettings
from PySide6.QtWidgets import QMainWindow

from nndyn_gui.core.config import ConfigError, RunConfig

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


def settings(create: bool = True) -> QSettings:
    """The app's settings: $NNDYN_SETTINGS_DIR/nndyn-gui.ini if set, else the user's.

    `create` False: only to read (a missing folder is not made; its values are None)."""
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
