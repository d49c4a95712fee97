"""Painted pictures (the Ensemble picture, the sweep's heatmap): their text's font, and
putting them into a file whole, or not at all.

Why its own module: the Ensemble picture (render/ensemble_picture.py) and the sweep's
heatmap (render/heatmap.py) both paint with a QPainter and save through
core.io.files.AtomicWriter; how a failure is told (a device at the path, Qt refusing
to save, a full disk at the commit: one OSError that names the file and keeps the old
one) is one rule, written once; so is their text's size in pixels, never below 8.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtGui import QFont


def pixel_font(px: float, bold: bool = False) -> QFont:
    """The default font at `px` pixels (at least 8: still readable on a small picture)."""
    f = QFont()
    f.setPixelSize(max(8, round(px)))
    f.setBold(bold)
    return f


def write_picture(path: Path, suffix: str, write: Callable[[Path], bool]) -> None:
    """Let `write` fill a temporary file beside `path` (named with `suffix`), checked,
    then moved into place. `write` returns False when it could not save (what
    QImage.save answers); that and every other failure raise OSError, old file kept."""
    from nndyn_gui.core.io.files import AtomicWriter, WriteError, why_incomplete

    try:
        out = AtomicWriter(path, suffix=suffix)
    except ValueError as e:  # a device or FIFO at `path`: LimitError
        raise OSError(f"cannot write {path}: {e}") from None
    with out:
        out.close()
        if not write(out.path):  # the temp file keeps the extension
            why = why_incomplete(out.folder, "the image could not be saved")
            raise OSError(f"cannot write {path}: {why}; the old file is kept")
        try:
            out.commit()
        except WriteError as e:
            raise OSError(f"cannot write {path}: {e}; the old file is kept") from None
