"""The standard `logging` setup every entry point calls once: a rotating file and stderr.

Why: a caught error (a compile that failed, an autosave switched off, a diagnostic that
raised) must leave a trace a user can find and send; Help -> About shows where it is.
The file lives in the user's data folder ($XDG_DATA_HOME/nndyn, else
~/.local/share/nndyn; $NNDYN_LOG_DIR overrides it). When that folder cannot be made,
nndyn logs to stderr only and says so once. Warnings and errors also go to stderr.

Core module: no Qt. Nothing happens at import; `setup()` does the work.
"""

from __future__ import annotations

import logging
import logging.handlers
import os
import sys
from pathlib import Path

ENV_DIR = "NNDYN_LOG_DIR"
LOG_NAME = "nndyn.log"
MAX_BYTES = 1 << 20
BACKUPS = 3  # nndyn.log.1 .. .3: a few sessions back, never more than 4 MB
FILE_FORMAT = "%(asctime)s %(process)d %(name)s %(levelname)s: %(message)s"

log = logging.getLogger(__name__)

_state: dict[str, Path | None] = {}  # "path": the file this process logs to, once set up


def log_dir() -> Path:
    """The folder the log file goes in (not created here)."""
    env = os.environ.get(ENV_DIR)
    if env:
        return Path(env).expanduser()
    data = os.environ.get("XDG_DATA_HOME") or os.path.join(Path.home(), ".local", "share")
    return Path(data) / "nndyn"


def log_path() -> Path | None:
    """The file this process logs to; None when it logs to stderr only.

    Before `setup()` it is where the file would go."""
    return _state["path"] if "path" in _state else log_dir() / LOG_NAME


class _Stderr(logging.StreamHandler):
    """One line per record on the current sys.stderr (a test may have swapped it),
    `program: warning: message`; the traceback stays in the file."""

    def __init__(self, program: str) -> None:
        super().__init__(sys.stderr)
        self.setFormatter(logging.Formatter(f"{program}: %(levelname)s: %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        self.stream = sys.stderr
        bare = logging.makeLogRecord(record.__dict__)
        bare.levelname = record.levelname.lower()
        bare.exc_info, bare.exc_text, bare.stack_info = None, None, None
        super().emit(bare)


def setup(program: str, level: int = logging.INFO) -> Path | None:
    """Send this process's log records to the rotating file and warnings to stderr.

    Idempotent (a second call keeps the first setup). Returns the file, or None when
    only stderr is used (the reason is logged once, as a warning)."""
    if "path" in _state:
        return _state["path"]
    root = logging.getLogger()
    root.setLevel(level)
    stderr = _Stderr(program)
    stderr.setLevel(logging.WARNING)
    root.addHandler(stderr)
    path: Path | None = log_dir() / LOG_NAME
    try:
        assert path is not None
        path.parent.mkdir(parents=True, exist_ok=True)
        handler = logging.handlers.RotatingFileHandler(
            path, maxBytes=MAX_BYTES, backupCount=BACKUPS, encoding="utf-8"
        )
    except OSError as e:
        log.warning("cannot write the log file %s (%s); logging to stderr only", path, e)
        path = None
    else:
        handler.setFormatter(logging.Formatter(FILE_FORMAT))
        root.addHandler(handler)
    _state["path"] = path
    return path
