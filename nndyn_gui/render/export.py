"""Turn a run into a talk-ready PNG, MP4, GIF, SVG or PDF.

Why it looks like this:
- Qt draws only on the GUI thread, so `Exporter.step()` draws *one* frame there and
  hands it to the encoder thread (`encode.Encoder`); the window calls `step()` from a
  QTimer and stays responsive, the CLI and tests loop over it (`export()`).
- Frames are drawn by the very views the window shows (`LayerView2D` / `LayerView3D`
  reading one `FlowScene`), so an export looks like the app, and the same run + options
  always give the same pixels (no clocks, no randomness in the frame path).
- Every problem a user can fix (bad extension, size, fps, folder, format/content
  mismatch, existing file) is found by `ExportOptions.validate()` *before* anything is
  drawn, with a one-line `ExportError`.
- Output is atomic (temp file + rename, see encode.py); a failure or cancel leaves
  neither a partial file nor a temp file behind.

Contents: "layers" (the flow x(0) -> x(T), then a hold on the last layer with the
separating line/plane), "training" (one layer across the run's snapshots), "orbit"
(a 360-degree camera turn around the final 3-D representation), "sheet" (chosen layers
in a row; a still) and "side_by_side" (input | moving hidden layer | output).

Sizes: MP4 (H.264 yuv420p) needs even sizes; an odd width/height is padded by one pixel
of background colour on the right/bottom (1279x719 -> 1280x720), see `frame_size`.
"""

from __future__ import annotations

import dataclasses
import math
import os
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QImage, QPainter, QPen

from nndyn_gui.core import narrator
from nndyn_gui.core.network import initial_weights
from nndyn_gui.core.types import NetWeights, Run
from nndyn_gui.render import camera as cam
from nndyn_gui.render import export_spec as spec
from nndyn_gui.render.camera import CameraKey
from nndyn_gui.render.encode import (
    AtomicFile,
    Encoder,
    ExportError,
    Mp4Writer,
    describe_os_error,
    even_size,
    pad_to,
)
from nndyn_gui.render.palette import Palette, palette_for
from nndyn_gui.render.scene import FlowScene, ViewOptions, ViewProjection
from nndyn_gui.render.vector import paint_graphics_view, write_vector
from nndyn_gui.render.view2d import LayerView2D
from nndyn_gui.render.views import (
    capture,
    default_layers,
    opengl_available,
    paint_view,
    qimage_to_rgba,
    sheet_grid,
)

__all__ = [
    "BACKGROUNDS",
    "CONTENTS",
    "EXTENSIONS",
    "ExportCancelled",
    "ExportError",
    "ExportOptions",
    "Exporter",
    "export",
]

# the names, ranges and defaults live in export_spec (the dialog and the CLI read them too)
CONTENTS = spec.CONTENT_KEYS
EXTENSIONS = spec.EXTENSIONS
VIDEO_EXTENSIONS = spec.VIDEO_EXTENSIONS
VECTOR_EXTENSIONS = spec.VECTOR_EXTENSIONS
BACKGROUNDS = spec.BACKGROUND_KEYS
MAX_WIDTH, MAX_HEIGHT = spec.MAX_WIDTH, spec.MAX_HEIGHT
NO_GL_WARNING = "3-D view unavailable (no OpenGL): exported the 2-D projection instead"
ORBIT_ELEVATION = 20.0  # degrees, for the software (no-OpenGL) orbit


class ExportCancelled(ExportError):
    """The user cancelled; nothing was written."""


@dataclass
class ExportOptions:
    """What to export where. Sizes are pixels (MP4: odd sides padded by 1 px, see module).

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
    legend: bool = spec.DEFAULT_LEGEND  # the class colours, named, in the top-right corner
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
        return self.ext in VIDEO_EXTENSIONS

    @property
    def is_vector(self) -> bool:
        return self.ext in VECTOR_EXTENSIONS

    def anim_frames(self) -> int:
        return max(2, round(self.fps * self.seconds))

    def hold_frames(self) -> int:
        return max(0, round(self.fps * self.hold_seconds))

    def validate(self, run: Run | None = None, check_path: bool = True) -> ExportOptions:
        """Raise ExportError (one line) for anything that would fail later; return self.

        `check_path` False: everything but the folder and the file (a preview writes none).
        """
        ext = self.ext
        if ext not in EXTENSIONS:
            shown = f"'{ext}'" if ext else "no extension"
            raise ExportError(f"unknown file type {shown} (use .png, .mp4, .gif, .svg or .pdf)")
        if self.content not in CONTENTS:
            raise ExportError(f"unknown content '{self.content}' (use {', '.join(CONTENTS)})")
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
        for number in spec.NUMBERS:
            problem = number.check(getattr(self, number.field))
            if problem:
                raise ExportError(problem)
        if ext == ".gif" and self.fps > spec.GIF_MAX_FPS:
            raise ExportError(
                f"GIF plays at most {spec.GIF_MAX_FPS} frames/s (its delays are hundredths "
                f"of a second): choose {spec.GIF_MAX_FPS} fps or less, or MP4"
            )
        if self.is_video and self.anim_frames() + self.hold_frames() > 100_000:
            raise ExportError("too many frames (fps x seconds over 100000)")
        if self.background not in BACKGROUNDS:
            raise ExportError(
                f"unknown background '{self.background}' (use white, dark or transparent)"
            )
        if self.scale is not None and not (
            math.isfinite(self.scale) and 0.1 <= self.scale <= spec.SCALE_RANGE[1]
        ):
            raise ExportError(f"scale must be between 0.1 and {spec.SCALE_RANGE[1]:g}")
        self._check_camera()
        self._check_content(run)
        if ext == ".gif":
            from nndyn_gui.render.encode import GIF_MAX_BYTES

            n = self.anim_frames() + (0 if self.content == "orbit" else self.hold_frames())
            if n * self.width * self.height > GIF_MAX_BYTES:
                raise ExportError(
                    "GIF would be too large: use .mp4, fewer seconds or a smaller size"
                )
        if check_path:
            self._check_folder()
        return self

    def view_scale(self) -> float:
        """ViewOptions.scale of this export: `scale`, or grown with the frame's size."""
        return self.scale if self.scale is not None else spec.size_scale(self.width, self.height)

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
        if content == "sheet" and ext in VIDEO_EXTENSIONS:
            raise ExportError("a keyframe sheet is a still image: use .png, .svg or .pdf")
        if ext in VECTOR_EXTENSIONS and content in ("orbit", "training", "compare"):
            raise ExportError(
                f"{ext[1:].upper()} export is for 2-D stills (layers, sheet, side_by_side); "
                f"use .mp4, .gif or .png for '{content}'"
            )
        if run is None:
            return
        if content == "compare" and self.compare_with is None:
            raise ExportError(
                "compare needs a second run (Tools → Compare two seeds, or "
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
        target = Path(self.path)
        folder = target.parent if str(target.parent) else Path(".")
        if not folder.exists():
            raise ExportError(f"folder does not exist: {folder}")
        if not folder.is_dir():
            raise ExportError(f"not a folder: {folder}")
        if not os.access(folder, os.W_OK | os.X_OK):
            raise ExportError(f"cannot write to folder {folder} (permission denied)")
        if target.is_dir():
            raise ExportError(f"{target} is a folder, not a file name")
        if target.exists() and not self.overwrite:
            raise ExportError(f"{target}: file exists; use --force to overwrite")


def _needs_caption(options: ExportOptions) -> str:
    """Training videos always caption the step and loss."""
    return "step" if options.content == "training" else ""


def _check_int(name: str, v: Any) -> None:  # sizes (the numbers: export_spec.NUMBERS)
    if isinstance(v, bool) or not isinstance(v, int | np.integer):
        raise ExportError(f"{name} must be a whole number, got {v!r}")


# ---------------------------------------------------------------------- overlays
def text_bands(height: int, title: str, caption: str) -> tuple[int, int]:
    """Pixel heights of the title band (top) and caption band (bottom); 0 when unused.

    A share of the height (so 1080p and 4K look like 720p enlarged), small enough that
    the picture keeps most of the frame: 6.5% and 5% (47 and 36 px at 720p)."""
    top = max(18, round(height * 0.065)) if title else 0
    bottom = max(14, round(height * 0.05)) if caption else 0
    if top + bottom > height // 2:  # tiny frames: text never takes more than half
        top, bottom = min(top, height // 4), min(bottom, height // 4)
    return top, bottom


def paint_text_bands(
    painter: QPainter, width: int, height: int, title: str, caption: str, pal: Palette
) -> None:
    """Title centred in a band above the picture, caption in a band below it.

    Bands (not overlays) so the text never hides the view's own layer label or axes.
    """
    top, bottom = text_bands(height, title, caption)
    for text, rect, bold in (
        (title, QRectF(0, 0, width, top), True),
        (caption, QRectF(0, height - bottom, width, bottom), False),
    ):
        if not text or rect.height() <= 0:
            continue
        font = QFont()
        font.setPixelSize(max(6, round(rect.height() * (0.6 if bold else 0.55))))
        font.setBold(bold)
        painter.save()
        painter.setFont(font)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setRenderHint(QPainter.RenderHint.TextAntialiasing)
        painter.setPen(QPen(QColor(*pal.foreground)))
        fm = painter.fontMetrics()
        shown = fm.elidedText(text, Qt.TextElideMode.ElideRight, max(10, width - 16))
        painter.drawText(rect, int(Qt.AlignmentFlag.AlignCenter), shown)
        painter.restore()


LEGEND_PX = 13.0  # legend text at scale 1 (times ViewOptions.scale)


def legend_entries(labels: np.ndarray) -> list[tuple[int, str]]:
    """(class, name) for each class present in the data."""
    present = sorted({int(v) for v in np.unique(np.asarray(labels).astype(np.int64))})
    return [(k, f"class {k}") for k in present]


def paint_legend(
    painter: QPainter,
    area: QRectF,
    entries: list[tuple[int, str]],
    pal: Palette,
    scale: float,
) -> QRectF:
    """The class colours and names in a small box in the top-right corner of `area`.

    Drawn on a translucent backing in the page colour, so it reads over the picture and
    hides little of it. Returns the box drawn.
    """
    if not entries:
        return QRectF()
    font = QFont()
    font.setPixelSize(max(6, round(LEGEND_PX * scale)))
    painter.save()
    painter.setFont(font)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setRenderHint(QPainter.RenderHint.TextAntialiasing)
    fm = painter.fontMetrics()
    pad, dot = 6.0 * scale, 0.7 * fm.height()
    row_h = fm.height() * 1.15
    text_w = max(fm.horizontalAdvance(name) for _, name in entries)
    w = pad * 2 + dot + pad * 0.8 + text_w
    h = pad * 2 + row_h * len(entries)
    box = QRectF(area.right() - w - pad, area.top() + pad, w, h)
    bg = QColor(*pal.background[:3], 215 if pal.background[3] else 0)
    painter.setPen(QPen(QColor(*pal.grid[:3], 200), max(1.0, 0.8 * scale)))
    painter.setBrush(bg)
    painter.drawRoundedRect(box, 4 * scale, 4 * scale)
    for i, (k, name) in enumerate(entries):
        y = box.top() + pad + row_h * i
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor(*pal.class_color(k)))
        painter.drawEllipse(QRectF(box.left() + pad, y + (row_h - dot) / 2, dot, dot))
        painter.setPen(QPen(QColor(*pal.foreground)))
        text_rect = QRectF(box.left() + pad + dot + pad * 0.8, y, text_w + 2, row_h)
        painter.drawText(text_rect, int(Qt.AlignmentFlag.AlignVCenter), name)
    painter.restore()
    return box


def _new_image(width: int, height: int, pal: Palette) -> QImage:
    img = QImage(width, height, QImage.Format.Format_ARGB32_Premultiplied)
    img.fill(QColor(*pal.background))
    return img


def _bgra_fill(rgba: tuple[int, ...]) -> tuple[int, ...]:
    """A background colour as the BGRA bytes of a composed frame (for padding)."""
    r, g, b, a = rgba
    return (b, g, r, a)


def _bgra_mp4(path: Path, width: int, height: int, fps: float, quality: int) -> Mp4Writer:
    return Mp4Writer(path, width, height, fps, quality, pix_fmt="bgra")


def _array_to_qimage(rgba: np.ndarray) -> QImage:
    h, w = rgba.shape[:2]
    buf = np.ascontiguousarray(rgba)
    return QImage(buf.data, w, h, 4 * w, QImage.Format.Format_RGBA8888).copy()


# ---------------------------------------------------------------------- producers
class _Producer:
    """Draws the frames of one content type; `frame(i)` -> (H, W, 4) RGBA at the asked size."""

    total = 1
    vector_ok = False

    def __init__(self, ex: Exporter) -> None:
        self.ex = ex
        self.opts = ex.options
        self.w, self.h = ex.options.width, ex.content_height
        self.pal = palette_for(ex.options.background)

    def frame(self, i: int) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def paint_frame(self, i: int, painter: QPainter, x: int, y: int) -> None:
        """Draw frame i at (x, y) of the frame being composed (by default via `frame`)."""
        painter.drawImage(QPointF(x, y), _array_to_qimage(self.frame(i)))

    def paint_still(self, painter: QPainter) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def caption(self, i: int) -> str:
        return self.opts.caption

    def fill_background(self, painter: QPainter) -> None:
        """Opaque backgrounds are painted; a transparent one is left as it is."""
        if self.pal.background[3]:
            painter.fillRect(QRectF(0, 0, self.w, self.h), QColor(*self.pal.background))

    # helpers
    def anim_times(self, t_max: float) -> tuple[int, Callable[[int], float]]:
        """Frame count and i -> t: constant speed through the layers, then a hold."""
        if not self.opts.is_video:
            return 1, lambda i: t_max
        n_anim, n_hold = self.opts.anim_frames(), self.opts.hold_frames()

        def t_of(i: int) -> float:
            return t_max if i >= n_anim - 1 else t_max * i / (n_anim - 1)

        return n_anim + n_hold, t_of

    def view_2d(self, compact: bool = False) -> LayerView2D:
        v = LayerView2D(options=self.ex.view_options, compact=compact)
        self.ex.views.append(v)
        return v


class _LayersProducer(_Producer):
    """The flow through the layers in the app's main view (3-D when possible)."""

    vector_ok = True

    def __init__(self, ex: Exporter) -> None:
        super().__init__(ex)
        self.scene = ex.build_scene(ex.weights)
        self.view = ex.make_view(self.scene)
        t_max = self.scene.t_max
        if self.opts.is_video:
            self.total, self.t_of = self.anim_times(t_max)
        else:
            k = self.opts.layers[0] if self.opts.layers else self.scene.depth
            t = float(self.scene.frame_of_layer(k))
            self.total, self.t_of = 1, lambda i: t
        self.keys = cam.retimed(list(self.opts.camera_keys or []), t_max)

    def _show(self, i: int) -> None:
        t = self.t_of(i)
        if self.keys and hasattr(self.view, "set_camera"):
            az, el, zoom = cam.camera_at(self.keys, t)
            self.view.set_camera(az, el, zoom=zoom)
        self.view.set_time(t)

    def frame(self, i: int) -> np.ndarray:
        self._show(i)
        return capture(self.view, self.w, self.h)

    def paint_frame(self, i: int, painter: QPainter, x: int, y: int) -> None:
        self._show(i)
        paint_view(self.view, painter, x, y, self.w, self.h)

    def paint_still(self, painter: QPainter) -> None:
        self.view.set_time(self.t_of(0))
        paint_graphics_view(painter, self.view, QRectF(0, 0, self.w, self.h))


class _TrainingProducer(_Producer):
    """One layer (default: the last) at each training snapshot, with step and loss."""

    def __init__(self, ex: Exporter) -> None:
        super().__init__(ex)
        self.snaps = ex.run.snapshots
        depth = ex.run.config.model.depth
        self.layer = self.opts.layers[0] if self.opts.layers else depth
        self._cache: tuple[int, FlowScene] | None = None
        first = self._scene(len(self.snaps) - 1 if not self.opts.is_video else 0)
        self.view = ex.make_view(first)
        if self.opts.is_video:
            self.n_anim = self.opts.anim_frames()
            self.total = self.n_anim + self.opts.hold_frames()
        else:
            self.n_anim, self.total = 1, 1

    def snap_index(self, i: int) -> int:
        if not self.opts.is_video or i >= self.n_anim:
            return len(self.snaps) - 1
        return min(len(self.snaps) - 1, i * len(self.snaps) // self.n_anim)

    def _scene(self, s: int) -> FlowScene:
        if self._cache is None or self._cache[0] != s:
            self._cache = (s, self.ex.build_scene(self.snaps[s].weights))
        return self._cache[1]

    def _show(self, i: int) -> None:
        s = self.snap_index(i)
        reuse = self._cache is not None and self._cache[0] == s and i > 0
        scene = self._scene(s)
        if not reuse:
            self.view.set_scene(scene)
        self.view.set_time(float(scene.frame_of_layer(self.layer)))

    def frame(self, i: int) -> np.ndarray:
        self._show(i)
        return capture(self.view, self.w, self.h)

    def paint_frame(self, i: int, painter: QPainter, x: int, y: int) -> None:
        self._show(i)
        paint_view(self.view, painter, x, y, self.w, self.h)

    def caption(self, i: int) -> str:
        snap = self.snaps[self.snap_index(i)]
        acc = f"  ·  accuracy {100 * snap.train_acc:.1f}%" if math.isfinite(snap.train_acc) else ""
        text = f"step {snap.step}  ·  loss {snap.loss:.4g}{acc}"
        return f"{self.opts.caption}   {text}" if self.opts.caption else text


class _OrbitProducer(_Producer):
    """A full camera turn around the final representation (width >= 3 nets)."""

    def __init__(self, ex: Exporter) -> None:
        super().__init__(ex)
        self.n = self.opts.anim_frames() if self.opts.is_video else 1
        self.total = self.n
        scene3 = FlowScene.build(ex.run.config, ex.weights, ex.run.dataset, ex.view_options, dims=3)
        self.t = scene3.t_max
        self.gl = ex.use_gl
        self.distance = 0.0
        if self.gl:
            self.view = ex.make_view(scene3)
            self.view.set_time(self.t)
            self.az0, self.el0, self.zoom = self.view.camera()[0], self.view.camera()[1], 1.0
            if self.opts.camera is not None:
                self.az0, self.el0, self.zoom = (float(v) for v in self.opts.camera)
            # one distance for the whole turn, fitted to the box from every side: no pumping
            box = scene3.box_at(self.t)
            fov = float(self.view.opts["fov"])
            self.distance = cam.orbit_distance(box, self.el0, fov, self.h / max(1, self.w))
        else:
            self.scene3 = scene3
            self.az0, self.el0 = 45.0, ORBIT_ELEVATION
            self.view = self.view_2d()

    def _show(self, i: int) -> None:
        az = self.az0 + 360.0 * i / self.n
        if self.gl:
            self.view.set_camera(az, self.el0, distance=self.distance * self.zoom)
            self.view.set_time(self.t)
        else:
            self.view.set_scene(orbit_scene_2d(self.scene3, az, self.el0))
            self.view.set_time(self.t)

    def frame(self, i: int) -> np.ndarray:
        self._show(i)
        return capture(self.view, self.w, self.h)

    def paint_frame(self, i: int, painter: QPainter, x: int, y: int) -> None:
        self._show(i)
        paint_view(self.view, painter, x, y, self.w, self.h)


class _SheetProducer(_Producer):
    """Chosen layers in reading order, one row (wrapped when that gives bigger panels)."""

    vector_ok = True

    def __init__(self, ex: Exporter) -> None:
        super().__init__(ex)
        self.scene = ex.build_scene(ex.weights, dims=2)
        self.layers = list(self.opts.layers or default_layers(self.scene.depth))
        self.view = self.view_2d(compact=True)
        self.view.set_scene(self.scene)
        self.top = self.bottom = 0.0  # title and caption bands are added by the Exporter

    def _paint(self, painter: QPainter, vector: bool) -> None:
        n = max(1, len(self.layers))
        ph_all = self.h - self.top - self.bottom
        rows, cols = sheet_grid(n, self.w, ph_all)
        pw, ph = self.w / cols, ph_all / rows
        for j, k in enumerate(self.layers):
            self.view.set_time(float(self.scene.frame_of_layer(k)))
            rect = QRectF((j % cols) * pw, self.top + (j // cols) * ph, pw, ph)
            if vector:
                paint_graphics_view(painter, self.view, rect)
            else:
                img = _array_to_qimage(capture(self.view, round(pw), round(ph)))
                painter.drawImage(rect, img)
        for r in range(rows):
            _paint_dividers(painter, self.pal, min(cols, n - r * cols), pw, self.top + r * ph, ph)

    def frame(self, i: int) -> np.ndarray:
        img = _new_image(self.w, self.h, self.pal)
        p = QPainter(img)
        try:
            self._paint(p, vector=False)
        finally:
            p.end()
        return qimage_to_rgba(img)

    def paint_still(self, painter: QPainter) -> None:
        self.fill_background(painter)
        self._paint(painter, vector=True)


class _SideBySideProducer(_Producer):
    """Input | the moving hidden layer | output, as three panels of one frame."""

    vector_ok = True

    def __init__(self, ex: Exporter) -> None:
        super().__init__(ex)
        self.scene = ex.build_scene(ex.weights, dims=2)
        self.views_lr = [self.view_2d(compact=True) for _ in range(3)]
        for v in self.views_lr:
            v.set_scene(self.scene)
        t_max = self.scene.t_max
        if self.opts.is_video:
            self.total, self.t_of = self.anim_times(t_max)
        else:
            k = self.opts.layers[0] if self.opts.layers else max(1, self.scene.depth // 2)
            t = float(self.scene.frame_of_layer(k))
            self.total, self.t_of = 1, lambda i: t
        self.top = self.bottom = 0.0  # title and caption bands are added by the Exporter
        self.pw = self.w / 3.0
        self.ph = self.h - self.top - self.bottom
        self._static: dict[int, QImage] = {}

    def _times(self, i: int) -> list[float]:
        return [0.0, self.t_of(i), self.scene.t_max]

    def frame(self, i: int) -> np.ndarray:
        img = _new_image(self.w, self.h, self.pal)
        p = QPainter(img)
        try:
            for j, (v, t) in enumerate(zip(self.views_lr, self._times(i), strict=True)):
                rect = QRectF(j * self.pw, self.top, self.pw, self.ph)
                if j != 1 and j in self._static:
                    p.drawImage(rect, self._static[j])
                    continue
                v.set_time(t)
                panel = _array_to_qimage(capture(v, round(self.pw), round(self.ph)))
                if j != 1:
                    self._static[j] = panel  # input and output never change
                p.drawImage(rect, panel)
            _paint_dividers(p, self.pal, 3, self.pw, self.top, self.ph)
        finally:
            p.end()
        return qimage_to_rgba(img)

    def paint_still(self, painter: QPainter) -> None:
        self.fill_background(painter)
        for j, (v, t) in enumerate(zip(self.views_lr, self._times(0), strict=True)):
            v.set_time(t)
            paint_graphics_view(painter, v, QRectF(j * self.pw, self.top, self.pw, self.ph))
        _paint_dividers(painter, self.pal, 3, self.pw, self.top, self.ph)


def _paint_dividers(p: QPainter, pal: Palette, n: int, pw: float, top: float, ph: float) -> None:
    pen = QPen(QColor(*pal.grid))
    pen.setWidthF(1.0)
    p.save()
    p.setPen(pen)
    for j in range(1, n):
        p.drawLine(QPointF(j * pw, top + 4), QPointF(j * pw, top + ph - 4))
    p.restore()


class _CompareProducer(_Producer):
    """Two runs side by side: the same layer (share of the flow), the same camera, each
    panel named (its seed and its numbers) above it."""

    LABEL_PX = 13.0  # panel names at scale 1

    def __init__(self, ex: Exporter) -> None:
        super().__init__(ex)
        other = ex.options.compare_with
        assert other is not None  # validate() said so
        runs = [ex.run, other]
        # each half its own title when the caller names none (core.narrator)
        self.names = list(
            self.opts.labels or narrator.compare_titles(ex.run.config, other.config)[1:]
        )
        scale = ex.view_options.scale
        self.header = round(self.LABEL_PX * scale * 1.7)
        self.pw = self.w // 2
        self.ph = max(16, self.h - self.header)
        self.scenes = []
        for i, r in enumerate(runs):
            weights = ex.weights if i == 0 else r.weights  # the first: the Exporter's own
            if weights is None:  # as the Exporter does for the first run (K classes too)
                weights = initial_weights(
                    r.config.model, r.config.train.seed, r.config.data.classes
                )
                ex.warnings.append(
                    f"{self.names[1]} has no trained weights: showing the initial network"
                )
            d = 3 if ex.use_gl else 2
            self.scenes.append(
                FlowScene.build(r.config, weights, r.dataset, ex.view_options, dims=d)
            )
        self.views = [ex.make_view(sc) for sc in self.scenes]
        first = self.views[0]
        if hasattr(first, "camera") and hasattr(self.views[1], "set_camera"):
            az, el, _ = first.camera()  # one camera for both: the same side of both nets
            self.views[1].set_camera(az, el, zoom=first.zoom())
        t_max = self.scenes[0].t_max
        if self.opts.is_video:
            self.total, self.t_of = self.anim_times(t_max)
        else:
            self.total, self.t_of = 1, lambda i: t_max

    def paint_frame(self, i: int, painter: QPainter, x: int, y: int) -> None:
        share = self.t_of(i) / max(self.scenes[0].t_max, 1e-9)
        font = QFont()
        font.setPixelSize(max(6, round(self.LABEL_PX * self.ex.view_options.scale)))
        font.setBold(True)
        for j, (view, sc) in enumerate(zip(self.views, self.scenes, strict=True)):
            view.set_time(share * sc.t_max)
            left = x + j * self.pw
            paint_view(view, painter, left, y + self.header, self.pw, self.ph)
            painter.save()
            painter.setFont(font)
            painter.setPen(QPen(QColor(*self.pal.foreground)))
            rect = QRectF(left, y, self.pw, self.header)
            shown = painter.fontMetrics().elidedText(
                self.names[j], Qt.TextElideMode.ElideRight, max(10, self.pw - 8)
            )
            painter.drawText(rect, int(Qt.AlignmentFlag.AlignCenter), shown)
            painter.restore()
        _paint_dividers(painter, self.pal, 2, self.pw, y, self.h)

    def frame(self, i: int) -> np.ndarray:
        img = _new_image(self.w, self.h, self.pal)
        p = QPainter(img)
        try:
            self.paint_frame(i, p, 0, 0)
        finally:
            p.end()
        return qimage_to_rgba(img)


_PRODUCERS: dict[str, type[_Producer]] = {
    "layers": _LayersProducer,
    "training": _TrainingProducer,
    "orbit": _OrbitProducer,
    "sheet": _SheetProducer,
    "side_by_side": _SideBySideProducer,
    "compare": _CompareProducer,
}


def orbit_scene_2d(scene: FlowScene, azimuth: float, elevation: float) -> FlowScene:
    """A 3-D scene seen by an orthographic camera at (azimuth, elevation): the no-GL orbit.

    Uses pyqtgraph's camera convention (camera at centre + r(cos e cos a, cos e sin a,
    sin e)), so it turns the same way as the OpenGL orbit. The box is fixed over all
    angles (the bounding sphere of the final layer), so the picture does not pump.
    """
    a, e = math.radians(azimuth), math.radians(elevation)
    right = np.array([-math.sin(a), math.cos(a), 0.0])
    up = np.array([-math.sin(e) * math.cos(a), -math.sin(e) * math.sin(a), math.cos(e)])
    m = np.stack([right, up])  # (2, 3)
    pj = scene.projection
    proj = ViewProjection(
        matrix=m @ pj.matrix,
        offset=m @ pj.offset,
        labels=("", ""),
        note=pj.inner_note or pj.note,  # no plane is drawn here (see below)
        inner_note=pj.inner_note,
        kind="ortho",
        source_dim=pj.source_dim,
    )
    b = scene.bounds[-1]
    centre = 0.5 * (b[0] + b[1])
    r = 0.5 * float(np.linalg.norm(b[1] - b[0]))
    c2 = m @ centre
    box = np.array([c2 - r, c2 + r])
    return dataclasses.replace(
        scene,
        dims=2,
        projection=proj,
        points=scene.points @ m.T,
        grid=scene.grid @ m.T,
        loop=None if scene.loop is None else scene.loop @ m.T,
        plane=(np.zeros(2), 0.0),  # a plane seen edge-on is not a line: not drawn
        class_head=None,  # neither are the K regions' borders
        region_affine=m @ scene.region_affine,
        bounds=np.repeat(box[None], scene.n_frames, axis=0),
        steady_box=box,
        source=None,
    )


# ---------------------------------------------------------------------- exporter
class Exporter:
    """Renders a run frame by frame (`step()` on the GUI thread) into an atomic file.

    Usage: `ex = Exporter(run, options)`; `while ex.step(): ...`; `path = ex.finish()`;
    `ex.abort()` at any time removes everything. `warnings` lists what was degraded
    (no OpenGL, odd size padded, transparency flattened, untrained weights).
    """

    def __init__(self, run: Run, options: ExportOptions, write: bool = True) -> None:
        options.validate(run, check_path=write)
        self.run = run
        self.options = options
        self.warnings: list[str] = []
        self._done = 0
        self._closed = False
        self._encoder: Encoder | None = None
        self._atomic: AtomicFile | None = None
        self._result: Path | None = None
        base = options.view or ViewOptions()
        self.view_options = base.copy(background=options.background, scale=options.view_scale())
        weights = run.weights
        if weights is None:
            weights = initial_weights(
                run.config.model, run.config.train.seed, run.config.data.classes
            )
            if options.content != "training":
                self.warnings.append("run has no trained weights: showing the initial network")
        self.weights: NetWeights = weights
        self.use_gl = self._decide_gl()

        w, h = options.width, options.height
        self.frame_size = even_size(w, h) if options.ext == ".mp4" else (w, h)
        if self.frame_size != (w, h):
            fw, fh = self.frame_size
            self.warnings.append(f"size {w}x{h} padded to {fw}x{fh} (H.264 needs even sizes)")
        if options.ext == ".mp4" and options.background == "transparent":
            self.warnings.append("MP4 has no transparency: background drawn white")
        self._pal = palette_for(options.background)
        self._title = options.title
        self._bands = text_bands(h, options.title, options.caption or _needs_caption(options))
        self.content_height = h - self._bands[0] - self._bands[1]
        self._legend = legend_entries(run.dataset.y_all) if options.legend else []
        # MP4 on an opaque page: frames go to ffmpeg as the BGRA they are composed in
        self._bgra = (
            options.ext == ".mp4" and self._pal.background[3] == 255 and sys.byteorder == "little"
        )

        self.views: list[Any] = []
        try:
            self._producer = _PRODUCERS[options.content](self)
        except BaseException:
            self._dispose()
            raise
        try:
            if not write:
                pass  # a preview: frames only (render_frame), no file
            elif options.is_vector:
                self._atomic = AtomicFile(options.path, options.overwrite)
            else:
                fw, fh = self.frame_size
                factory = _bgra_mp4 if self._bgra else None
                self._encoder = Encoder(
                    options.path,
                    fw,
                    fh,
                    options.fps,
                    options.quality,
                    options.overwrite,
                    writer_factory=factory,
                )
        except BaseException:
            self._dispose()
            raise

    # ------------------------------------------------------------------ setup helpers
    def _decide_gl(self) -> bool:
        o = self.options
        widths = [self.run.config.model.width]
        if o.content == "compare" and o.compare_with is not None:
            widths.append(o.compare_with.config.model.width)
        wants = (
            o.prefer_3d
            and not o.is_vector
            and min(widths) >= 3
            and o.content in ("layers", "training", "orbit", "compare")
        ) or o.content == "orbit"
        if not wants:
            return False
        if opengl_available():
            return True
        self.warnings.append(NO_GL_WARNING)
        return False

    def build_scene(self, weights: NetWeights, dims: int | None = None) -> FlowScene:
        """The scene of `weights` with 3 dims only when a 3-D view will draw it."""
        d = dims if dims is not None else (3 if self.use_gl else 2)
        return FlowScene.build(
            self.run.config, weights, self.run.dataset, self.view_options, dims=d
        )

    def make_view(self, scene: FlowScene) -> Any:
        """LayerView3D for 3-D scenes (OpenGL checked already), else LayerView2D.

        A 3-D view is sized to the frame before its camera is fitted, and looks from
        `options.camera` (the window's view) or the default angle on the plane."""
        if scene.dims == 3 and self.use_gl:
            from nndyn_gui.render.view3d import LayerView3D
            from nndyn_gui.render.views import _resize_hidden

            v3 = LayerView3D(None, options=scene.options)
            _resize_hidden(v3, self.options.width, self.content_height)
            v3.set_scene(scene)
            if self.options.camera is not None:
                az, el, zoom = (float(v) for v in self.options.camera)
                v3.set_camera(az, el, zoom=zoom)
            self.views.append(v3)
            return v3
        v = LayerView2D(options=scene.options)
        v.set_scene(scene)
        self.views.append(v)
        return v

    def _dispose(self) -> None:
        """Release the (hidden) views; they are only deleted once Qt's loop runs."""
        for v in self.views:
            v.hide()
            v.setParent(None)
            v.deleteLater()
        self.views = []

    # ------------------------------------------------------------------ public API
    @property
    def total_frames(self) -> int:
        return int(self._producer.total)

    @property
    def progress(self) -> tuple[int, int]:
        """(frames rendered, total frames)."""
        return self._done, self.total_frames

    @property
    def done(self) -> bool:
        return self._done >= self.total_frames

    def render_frame(self, i: int) -> np.ndarray:
        """Frame i as (H, W, 4) uint8 RGBA at `frame_size` (title/caption/legend drawn, padded)."""
        w, h = self.options.width, self.options.height
        bgra = self._compose(i)
        img = QImage(bgra.data, w, h, 4 * w, QImage.Format.Format_ARGB32_Premultiplied)
        rgba = qimage_to_rgba(img)
        del img
        fw, fh = self.frame_size
        return pad_to(rgba, fw, fh, self._pal.background)

    def _compose(self, i: int) -> np.ndarray:
        """Frame i, drawn straight into one (H, W, 4) array: Qt's ARGB32 premultiplied, i.e.
        BGRA bytes on little-endian machines, which is what the MP4 encoder is fed."""
        w, h = self.options.width, self.options.height
        fmt = QImage.Format.Format_ARGB32_Premultiplied
        out = np.empty((h, w, 4), dtype=np.uint8)
        img = QImage(out.data, w, h, 4 * w, fmt)
        img.fill(QColor(*self._pal.background))
        # the picture is painted into its rows of the frame as into an image of its own:
        # the same pixels as `capture` gives, without a copy
        top = self._bands[0]
        rows = out[top : top + self.content_height]
        picture = QImage(rows.data, w, self.content_height, 4 * w, fmt)
        p = QPainter(picture)
        try:
            self._producer.paint_frame(i, p, 0, 0)
        finally:
            p.end()
        p = QPainter(img)
        try:
            self._paint_extras(p, self.options.title, self._producer.caption(i))
        finally:
            p.end()
        del img, picture  # before `out`, whose memory they point into
        return out

    def _frame_for_encoder(self, i: int) -> np.ndarray:
        """What the encoder gets: BGRA straight from the composition for an MP4 on an
        opaque page (no conversion on this thread), else RGBA."""
        if self._bgra:
            fw, fh = self.frame_size
            return pad_to(self._compose(i), fw, fh, _bgra_fill(self._pal.background))
        return self.render_frame(i)

    def _paint_extras(self, painter: QPainter, title: str, caption: str) -> None:
        """Title and caption bands, and the legend in the picture's top-right corner."""
        w, h = self.options.width, self.options.height
        paint_text_bands(painter, w, h, title, caption, self._pal)
        if self._legend:
            top, bottom = self._bands
            area = QRectF(0, top, w, h - top - bottom)
            paint_legend(painter, area, self._legend, self._pal, self.view_options.scale)

    def step(self) -> bool:
        """Render the next frame and queue it for encoding; False once all are rendered."""
        if self._closed or self._done >= self.total_frames:
            return False
        try:
            if self.options.is_vector:
                self._write_vector()
            else:
                frame = self._frame_for_encoder(self._done)
                assert self._encoder is not None
                self._encoder.put(frame)
        except ExportError:
            self.abort()
            raise
        except OSError as e:
            self.abort()
            raise ExportError(f"{self.options.path}: {describe_os_error(e)}") from None
        except BaseException:
            self.abort()
            raise
        self._done += 1
        return self._done < self.total_frames

    def _write_vector(self) -> None:
        assert self._atomic is not None
        w, h = self.options.width, self.options.height
        prod, title, caption, pal = (
            self._producer,
            self.options.title,
            self.options.caption,
            self._pal,
        )

        top = self._bands[0]

        def paint(painter: QPainter) -> None:
            if pal.background[3]:
                painter.fillRect(QRectF(0, 0, w, h), QColor(*pal.background))
            painter.save()
            painter.translate(0, top)
            prod.paint_still(painter)
            painter.restore()
            self._paint_extras(painter, title, caption)

        write_vector(
            self._atomic.path, w, h, paint, title=title or narrator.run_title(self.run.config)
        )

    def finish(self) -> Path:
        """Render what is left, wait for the encoder, move the file into place."""
        if self._result is not None:
            return self._result
        if self._closed:
            raise ExportError("export was cancelled")
        while self.step():
            pass
        try:
            if self._encoder is not None:
                self._result = self._encoder.finish()
            else:
                assert self._atomic is not None
                self._result = self._atomic.commit()
        except BaseException:
            self.abort()
            raise
        self._closed = True
        self._dispose()
        return self._result

    def abort(self) -> None:
        """Stop, delete the temp file, release the views (safe to call more than once)."""
        if self._closed:
            return
        self._closed = True
        if self._encoder is not None:
            self._encoder.abort()
        if self._atomic is not None:
            self._atomic.discard()
        self._dispose()


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


def preview_frame(
    run: Run, options: ExportOptions, max_width: int = 480, max_height: int = 270
) -> tuple[np.ndarray, list[str]]:
    """A miniature of the picture the export will show (the last layer / the still) and the
    warnings it would give; raises ExportError for options that cannot be exported."""
    small = preview_options(options, max_width, max_height)
    ex = Exporter(run, small, write=False)
    try:
        i = min(ex.total_frames - 1, small.anim_frames() - 1) if small.is_video else 0
        if options.content == "orbit":
            i = 0
        return ex.render_frame(max(0, i)), list(ex.warnings)
    finally:
        ex.abort()


def export(
    run: Run,
    options: ExportOptions,
    progress: Callable[[int, int], None] | None = None,
    cancel: threading.Event | None = None,
) -> Path:
    """Headless export: loop `step()` on this thread; `cancel` stops and removes the file."""
    ex = Exporter(run, options)
    try:
        while True:
            if cancel is not None and cancel.is_set():
                ex.abort()
                raise ExportCancelled("export cancelled")
            more = ex.step()
            if progress is not None:
                progress(*ex.progress)
            if not more:
                break
        if cancel is not None and cancel.is_set():
            ex.abort()
            raise ExportCancelled("export cancelled")
        return ex.finish()
    except BaseException:
        ex.abort()
        raise
