"""Every export choice written once: names, labels, ranges, defaults, file names, sizes.

Why a module: the exporter (`ExportOptions`), the Export dialog and `nndyn render` used
to spell the contents, formats, ranges and defaults three times, and they drifted. They
all read this table now, so a new content or a wider fps range is one edit here. No Qt:
the command line reads it before any window or QApplication exists.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from nndyn_gui.core.analysis import narrator
from nndyn_gui.core.config import RunConfig


@dataclass(frozen=True)
class Choice:
    """One value of a list option: what files and the CLI say, what the dialog shows."""

    key: str
    label: str
    help: str = ""


@dataclass(frozen=True)
class NumberOption:
    """A number option: its ExportOptions field, CLI flag, dialog label, range and default."""

    field: str
    flag: str
    label: str
    lo: float
    hi: float
    default: float
    integer: bool
    help: str
    unit: str = ""

    def check(self, value: object) -> str:
        """'' when `value` is allowed, else the one-line reason (the CLI's and dialog's)."""
        if self.integer and (isinstance(value, bool) or not isinstance(value, int)):
            return f"{self.field.replace('_', ' ')} must be a whole number, got {value!r}"
        if not isinstance(value, int | float) or isinstance(value, bool):
            return f"{self.field.replace('_', ' ')} must be a number, got {value!r}"
        v = float(value)
        if not (math.isfinite(v) and self.lo <= v <= self.hi):
            lo, hi = fmt_number(self.lo), fmt_number(self.hi)
            return f"{self.name} must be between {lo} and {hi}, got {value}"
        return ""

    @property
    def name(self) -> str:
        """How messages call it: 'fps', 'seconds', 'hold seconds', 'quality'."""
        return self.field.replace("_", " ")


CONTENTS = (
    Choice("layers", "Layers flow", "the flow from the input to the last layer, then a hold"),
    Choice("training", "Training replay", "one layer across all snapshots: the flow being learned"),
    Choice("orbit", "Camera orbit", "a full turn of the camera around the last 3-D layer"),
    Choice("sheet", "Keyframe sheet", "chosen layers in a row (a still)"),
    Choice("side_by_side", "Side by side", "input | moving hidden layer | output"),
    Choice("compare", "Two runs side by side", "two runs at the same layer, the same camera"),
)
FORMATS = (
    Choice(".png", "PNG image"),
    Choice(".mp4", "MP4 video"),
    Choice(".gif", "GIF animation"),
    Choice(".svg", "SVG (vector)"),
    Choice(".pdf", "PDF (vector)"),
    Choice(
        ".html",
        "Web page (interactive)",
        "every kept layer and snapshot with sliders; opens offline in a browser (render/web)",
    ),
)
#: the web page: written by render/web (`nndyn render --kind html`), not by the Exporter;
#: its file names say "page" (TITLE-page-N.html)
WEB_EXTENSION = ".html"
WEB_KIND = "page"
BACKGROUNDS = (
    Choice("white", "White"),
    Choice("dark", "Dark"),
    Choice("transparent", "Transparent", "PNG, GIF, SVG, PDF (MP4 has no transparency)"),
)
CONTENT_KEYS = tuple(c.key for c in CONTENTS)
EXTENSIONS = tuple(f.key for f in FORMATS if f.key != WEB_EXTENSION)  # the Exporter's
BACKGROUND_KEYS = tuple(b.key for b in BACKGROUNDS)
VIDEO_EXTENSIONS = (".mp4", ".gif")
VECTOR_EXTENSIONS = (".svg", ".pdf")

#: the size list of the dialog; `--size WxH` takes any size up to MAX_WIDTH x MAX_HEIGHT
SIZES = (("1280 × 720 (HD)", 1280, 720), ("1920 × 1080 (Full HD)", 1920, 1080),
         ("3840 × 2160 (4K)", 3840, 2160))  # fmt: skip
DEFAULT_WIDTH, DEFAULT_HEIGHT = 1280, 720
MIN_SIDE = 16
MAX_WIDTH, MAX_HEIGHT = 7680, 4320
GIF_MAX_FPS = 50  # GIF delays are hundredths of a second; players slow anything under 2

FPS = NumberOption("fps", "--fps", "Frames per second", 1, 120, 30, True, "video frame rate", "fps")
SECONDS = NumberOption(
    "seconds", "--seconds", "Length", 0.1, 600.0, 8.0, False, "length of the animation", "s"
)
HOLD = NumberOption(
    "hold_seconds",
    "--hold",
    "Hold",
    0.0,
    60.0,
    1.5,
    False,
    "seconds held on the last layer, with the separating line / plane",
    "s",
)
QUALITY = NumberOption("quality", "--quality", "Quality", 1, 10, 8, True, "MP4 quality, 10 best")
NUMBERS = (FPS, SECONDS, HOLD, QUALITY)

DEFAULT_CONTENT = "layers"
DEFAULT_BACKGROUND = "white"
DEFAULT_LEGEND = True

#: Exports are the window's pictures enlarged: at 1280 x 720 points, lines and text are
#: SCALE_AT_720P times the window's (a corner label about 3% of the frame's height, read
#: from the back of a lecture hall), and they grow with the frame (1080p, 4K look alike).
SCALE_AT_720P = 1.5
SCALE_RANGE = (0.6, 8.0)


def size_scale(width: int, height: int) -> float:
    """ViewOptions.scale of a width x height export (the same picture at any size)."""
    s = SCALE_AT_720P * math.sqrt(max(1, width) * max(1, height) / (1280.0 * 720.0))
    return float(min(max(s, SCALE_RANGE[0]), SCALE_RANGE[1]))


def content_problem(
    ext: str,
    content: str,
    width: int | None,
    n_snapshots: int | None,
    partner: bool | None = None,
) -> str:
    """Why `content` cannot be exported as `ext` for this net, in a few words ("" if it can).

    `width` / `n_snapshots` / `partner` (a second run to compare with) None: not known
    yet (the command line before the runs are read).
    """
    if content == "compare" and partner is False:
        return "two runs: use Export… in Tools → Compare two runs"
    if content == "compare" and ext in VECTOR_EXTENSIONS:
        return f"{ext[1:].upper()} is for one 2-D picture: choose PNG, MP4 or GIF"
    if content == "orbit" and width is not None and width < 3:
        return f"needs a 3-D net (width ≥ 3), this one has width {width}"
    if content == "training" and n_snapshots is not None and n_snapshots < 1:
        return "train the network first"
    if content == "sheet" and ext in VIDEO_EXTENSIONS:
        return "a still image: choose PNG, SVG or PDF"
    if ext in VECTOR_EXTENSIONS and content in ("orbit", "training"):
        return f"moving: {ext[1:].upper()} holds one still picture, choose MP4, GIF or PNG"
    return ""


# ---------------------------------------------------------------------- file names
def slug(text: str, fallback: str = "nndyn") -> str:
    """A file-name-safe version of a title: 'Width 3 ResNet: ring!' -> 'width-3-resnet-ring'."""
    s = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return s[:60].rstrip("-") or fallback


def file_stem(title: str, content: str) -> str:
    """'resnet-width-3-ring-layers': the title, then what the file shows."""
    return f"{slug(title)}-{content.replace('_', '-')}"


def suggest_path(
    folder: str | os.PathLike[str],
    title: str,
    content: str,
    ext: str,
    exists: Callable[[Path], bool] = Path.exists,
) -> str:
    """The first free `TITLE-KIND-N.ext` in `folder` (N = 1, 2, ...): never an existing file."""
    stem = file_stem(title, content)
    base = Path(folder)
    n = 1
    while exists(base / f"{stem}-{n}{ext}"):
        n += 1
    return str(base / f"{stem}-{n}{ext}")


def title_for(config: RunConfig) -> str:
    """The title an export proposes for a run, and its file name's stem: the preset's
    human title only while the config is the preset's (core.analysis.narrator.run_title)."""
    return narrator.run_title(config)


def fmt_number(v: float) -> str:
    return f"{int(v)}" if float(v) == int(v) else f"{v:g}"
