"""UI test fixtures: private settings / autosave folders and a ready main window.

Every test gets its own settings and autosave folders (never the user's real ones),
and windows do not start their training worker when shown: it starts with the first
Train (or is an idle warm one a closed window left behind, see core/engine/session.py spares).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest


@pytest.fixture(autouse=True)
def _private_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NNDYN_SETTINGS_DIR", str(tmp_path / "settings"))
    monkeypatch.setenv("NNDYN_AUTOSAVE_DIR", str(tmp_path / "autosave"))


@pytest.fixture
def window(qtbot: Any, small_config: Any) -> Iterator[Any]:
    """A MainWindow on the tiny config; errors are collected in `window.hooked`."""
    from nndyn_gui.ui.main_window import MainWindow
    from nndyn_gui.ui.state import AppState

    win = MainWindow(AppState(small_config), preload_tf=False, autosave=False)
    win.no_prompt = True
    win.hooked = []
    win.error_hook = lambda title, msg, details: win.hooked.append((title, msg, details))
    qtbot.addWidget(win)
    win.resize(1280, 820)
    win.show()
    qtbot.waitExposed(win)
    yield win
    win.controller.stop(wait=True)
    win.close()


def _changed(cfg: Any, **changes: Any) -> Any:
    out = cfg.copy()
    for key, value in changes.items():
        section, name = key.split("__")
        setattr(getattr(out, section), name, value)
    return out.validate()


@pytest.fixture
def changed() -> Any:
    """changed(cfg, train__steps=100): a copy of cfg with `section__field` changes."""
    return _changed
