"""File → Open recent: the runs saved or opened last, newest first.

The list lives in the settings (ui/settings.recent_files) and is read each time the menu
opens, so a run saved in one window shows up in the next. A file that has gone since is
shown greyed out with "(missing)" rather than silently dropped: the user sees where it was.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMenu, QWidget

from nndyn_gui.ui import settings as app_settings


class RecentMenu(QMenu):
    """A submenu of recent run files; `open_path(path)` is called with the one picked."""

    def __init__(self, open_path: Callable[[str], object], parent: QWidget | None = None) -> None:
        super().__init__("Open &recent", parent)
        self._open_path = open_path
        self.setToolTipsVisible(True)
        self.aboutToShow.connect(self.refresh)
        self.refresh()

    def refresh(self) -> None:
        """Rebuild the entries from the settings."""
        self.clear()
        paths = app_settings.recent_files()
        for i, path in enumerate(paths, start=1):
            p = Path(path)
            exists = p.is_file()
            text = f"&{i}  {p.name}" if i < 10 else p.name
            if not exists:
                text += "  (missing)"
            act = QAction(text, self)
            act.setToolTip(str(p))
            act.setStatusTip(str(p))
            act.setData(str(p))
            act.setEnabled(exists)
            act.triggered.connect(lambda _=False, s=str(p): self._open_path(s))
            self.addAction(act)
        if not paths:
            self.addAction("(no recent runs)").setEnabled(False)
            return
        self.addSeparator()
        clear = self.addAction("Clear list")
        clear.triggered.connect(self.clear_list)

    def clear_list(self) -> None:
        app_settings.clear_recent_files()
        self.refresh()

    def entries(self) -> list[str]:
        """The paths offered now, in menu order (tests)."""
        return [str(a.data()) for a in self.actions() if a.data()]
