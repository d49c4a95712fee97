"""What an export is asked to make (`ExportOptions`), and every check on it.

Every problem a user can fix (bad extension, size, fps, folder, format/content mismatch,
existing file) is found by `ExportOptions.validate()` *before* anything is drawn, with a
one-line `ExportError`. No drawing here: the dialog and `nndyn render` check options
with it before any view exists.
"""

from __future__ import annotations

import dataclasses
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from nndyn_gui.core.types import Run
from nndyn_gui.render import export_spec as spec
from nndyn_gui.render.camera import CameraKey
from nndyn_gui.render.encode import GIF_MAX_BYTES, ExportError
from nndyn_gui.render.scene import ViewOptions

# the names, ranges and defaults live in export_spec (the dialog and the CLI read them too)
MAX_WIDTH, MAX_HEIGHT = spec.MAX_WIDTH, spec.MAX_HEIGHT
MAX_VIDEO_FRAMES = 100_000


@dataclass
class ExportOptions:
    """What to export where. Sizes are pixels (MP4: odd sides padded by 1 px, see exporter).

    Defaults and ranges: export_spec (shared with the Export dialog and `nndyn render`).
    """

    path: str
    content: str = spec.DEFAULT_CONTENT  # layers | training | orbit | sheet | side_by_side
    width: int = spec.DEFAULT_WIDTH
    height: int = spec.DEFAULT_HEIGHT
    fps: int = int(spec.FPS.default)
    seconds: float = spec.SECONDS.default  # length of the animation
    hold_seconds: float = spec.HOLD.default  # still frames on the last layer, plane shown
    background: str = spec.DEFAULT_BACKGROUND  # white | dark | transparent
    title: str = ""
    caption: str = ""
    quality: int = int(spec.QUALITY.default)  # 1..10 (MP4 CRF 35..14)
    layers: list[int] | None = None  # sheet panels; first entry = layer for stills/training
    overwrite: bool = False
    view: ViewOptions | None = None
    prefer_3d: bool = True
    legend: bool = (
        spec.DEFAULT_LEGEND
    )  # the class colours, named, in the corner hiding fewest points
    #: the 3-D camera: (azimuth, elevation, zoom), e.g. the window's; None = the default view
    camera: tuple[float, float, float] | None = None
    #: a camera path (3-D layers flow): the video moves smoothly between these saved views
    camera_keys: list[CameraKey] | None = None
    #: sizes of points, lines and text; None = export_spec.size_scale(width, height)
    scale: float | None = None
    #: content "compare": the second run, drawn right of the first, and both panels' names
    compare_with: Run | None = None
    labels: tuple[str, str] | None = None

    @property
    def ext(self) -> str:
        return Path(self.path).suffix.lower()

    @property
    def is_video(self) -> bool:
        return self.ext in spec.VIDEO_EXTENSIONS

    @property
    def is_vector(self) -> bool:
        return self.ext in spec.VECTOR_EXTENSIONS

    def anim_frames(self) -> int:
        return max(2, round(self.fps * self.seconds))

    def hold_frames(self) -> int:
        return max(0, round(self.fps * self.hold_seconds))

    def view_scale(self) -> float:
        """ViewOptions.scale of this export: `scale`, or grown with the frame's size."""
        return self.scale if self.scale is not None else spec.size_scale(self.width, self.height)

    def view_options(self) -> ViewOptions:
        """The views' options: `view` (the window's) on this export's page and scale."""
        base = self.view or ViewOptions()
        return base.copy(background=self.background, scale=self.view_scale(), hall_text=True)

    def validate(self, run: Run | None = None, check_path: bool = True) -> ExportOptions:
        """Raise ExportError (one line) for anything that would fail later; return self.

        `check_path` False: everything but the folder and the file (a preview writes none).
        """
        self._check_format()
        self._check_size()
        self._check_numbers()
        self._check_camera()
        self._check_content(run)
        if check_path:
            self._check_folder()
        return self

    def _check_format(self) -> None:
        ext = self.ext
        if ext not in spec.EXTENSIONS:
            shown = f"'{ext}'" if ext else "no extension"
            raise ExportError(f"unknown file type {shown} (use .png, .mp4, .gif, .svg or .pdf)")
        if self.content not in spec.CONTENT_KEYS:
            keys = ", ".join(spec.CONTENT_KEYS)
            raise ExportError(f"unknown content '{self.content}' (use {keys})")

    def _check_size(self) -> None:
        _check_int("width", self.width)
        _check_int("height", self.height)
        if self.width <= 0 or self.height <= 0:
            raise ExportError(f"size must be positive, got {self.width}x{self.height}")
        if max(self.width, self.height) > MAX_WIDTH or self.width * self.height > (
            MAX_WIDTH * MAX_HEIGHT
        ):
            raise ExportError(
                f"size {self.width}x{self.height} is too large (at most {MAX_WIDTH}x{MAX_HEIGHT})"
            )

    def _check_numbers(self) -> None:
        for number in spec.NUMBERS:
            problem = number.check(getattr(self, number.field))
            if problem:
                raise ExportError(problem)
        if self.ext == ".gif" and self.fps > spec.GIF_MAX_FPS:
            raise ExportError(
                f"GIF plays at most {spec.GIF_MAX_FPS} frames/s (its delays are hundredths "
                f"of a second): choose {spec.GIF_MAX_FPS} fps or less, or MP4"
            )
        if self.is_video and self.anim_frames() + self.hold_frames() > MAX_VIDEO_FRAMES:
            raise ExportError("too many frames (fps x seconds over 100000)")
        if self.background not in spec.BACKGROUND_KEYS:
            raise ExportError(
                f"unknown background '{self.background}' (use white, dark or transparent)"
            )
        if self.scale is not None and not (
            math.isfinite(self.scale) and 0.1 <= self.scale <= spec.SCALE_RANGE[1]
        ):
            raise ExportError(f"scale must be between 0.1 and {spec.SCALE_RANGE[1]:g}")

    def _check_camera(self) -> None:
        if self.camera is not None:
            vals = list(self.camera)
            if len(vals) != 3 or not all(
                isinstance(v, int | float) and math.isfinite(v) for v in vals
            ):
                raise ExportError("camera must be three finite numbers: azimuth, elevation, zoom")
            if vals[2] <= 0:
                raise ExportError(f"camera zoom must be positive, got {vals[2]}")
        for k in self.camera_keys or []:
            if not isinstance(k, CameraKey):
                raise ExportError(f"camera keys must be CameraKey, got {type(k).__name__}")

    def _check_content(self, run: Run | None) -> None:
        ext, content = self.ext, self.content
        if content == "sheet" and ext in spec.VIDEO_EXTENSIONS:
            raise ExportError("a keyframe sheet is a still image: use .png, .svg or .pdf")
        if ext in spec.VECTOR_EXTENSIONS and content in ("orbit", "training", "compare"):
            raise ExportError(
                f"{ext[1:].upper()} export is for 2-D stills (layers, sheet, side_by_side); "
                f"use .mp4, .gif or .png for '{content}'"
            )
        if run is not None:
            self._check_run(run)
        if ext == ".gif":
            n = self.anim_frames() + (0 if content == "orbit" else self.hold_frames())
            if n * self.width * self.height > GIF_MAX_BYTES:
                raise ExportError(
                    "GIF would be too large: use .mp4, fewer seconds or a smaller size"
                )

    def _check_run(self, run: Run) -> None:
        content = self.content
        if content == "compare" and self.compare_with is None:
            raise ExportError(
                "compare needs a second run (Tools → Compare two runs, or "
                "'nndyn render A.nndyn --kind compare --with B.nndyn')"
            )
        width = run.config.model.width
        depth = run.config.model.depth
        if content == "orbit" and width < 3:
            raise ExportError(f"orbit needs a net of width 3 or more (this run has width {width})")
        if content == "training" and not run.snapshots:
            raise ExportError("this run has no training snapshots to animate (train it first)")
        for k in self.layers or []:
            if isinstance(k, bool) or not isinstance(k, int | np.integer):
                raise ExportError(f"layers must be whole numbers, got {k!r}")
            if not 0 <= int(k) <= depth:
                raise ExportError(f"layer {k} is out of range 0..{depth}")

    def _check_folder(self) -> None:
        check_target(self.path, self.overwrite)


def check_target(path: str | os.PathLike[str], overwrite: bool) -> None:
    """Raise ExportError (one line) if a file cannot be written at `path`: a missing or
    unwritable folder, a folder named like the file, an existing file (unless `overwrite`).
    Also the Export dialog's check of a web page's file (render/web writes it)."""
    target = Path(path)
    folder = target.parent if str(target.parent) else Path(".")
    if not folder.exists():
        raise ExportError(f"folder does not exist: {folder}")
    if not folder.is_dir():
        raise ExportError(f"not a folder: {folder}")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise ExportError(f"cannot write to folder {folder} (permission denied)")
    if target.is_dir():
        raise ExportError(f"{target} is a folder, not a file name")
    if target.exists() and not overwrite:
        raise ExportError(f"{target}: file exists; use --force to overwrite")


def _check_int(name: str, v: Any) -> None:  # sizes (the numbers: export_spec.NUMBERS)
    if isinstance(v, bool) or not isinstance(v, int | np.integer):
        raise ExportError(f"{name} must be a whole number, got {v!r}")


def preview_options(options: ExportOptions, max_width: int, max_height: int) -> ExportOptions:
    """`options` shrunk to fit max_width x max_height: the same picture, in miniature.

    Sizes of points, lines and text follow the frame (export_spec.size_scale), so the
    scale is carried over, shrunk by the same factor as the frame.
    """
    f = min(1.0, max_width / max(1, options.width), max_height / max(1, options.height))
    w, h = max(16, round(options.width * f)), max(16, round(options.height * f))
    scale = max(0.1, options.view_scale() * f)
    ext = ".png" if options.is_vector else options.ext
    path = str(Path(options.path).with_suffix(ext)) if Path(options.path).name else "p.png"
    return dataclasses.replace(options, width=w, height=h, scale=scale, path=path)
