"""Running an export into a file: frames composed on the GUI thread, encoded on another,
the file moved into place only when whole; progress, cancel and the headless loop.

Why it looks like this:
- Qt draws only on the GUI thread, so `Exporter.step()` draws *one* frame there and
  hands it to the encoder thread (`encode.Encoder`); the window calls `step()` from a
  QTimer and stays responsive, the CLI and tests loop over it (`export()`).
- Output is atomic (temp file + rename, see encode.py); a failure or cancel leaves
  neither a partial file nor a temp file behind.
- Sizes: MP4 (H.264 yuv420p) needs even sizes; an odd width/height is padded by one
  pixel of background colour on the right/bottom (1279x719 -> 1280x720), see `frame_size`.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import QRectF
from PySide6.QtGui import QColor, QImage, QPainter

from nndyn_gui.core.analysis import narrator
from nndyn_gui.core.types import Run
from nndyn_gui.render.encode import (
    AtomicFile,
    Encoder,
    ExportError,
    Mp4Writer,
    describe_os_error,
    even_size,
    pad_to,
)
from nndyn_gui.render.export.layout import (
    CORNERS,
    frame_bands,
    legend_corner,
    legend_entries,
    paint_legend,
    paint_text_bands,
)
from nndyn_gui.render.export.options import ExportOptions, preview_options
from nndyn_gui.render.export.producers import PRODUCERS, Stage
from nndyn_gui.render.vector import write_vector
from nndyn_gui.render.views import qimage_to_rgba

_FORMAT = QImage.Format.Format_ARGB32_Premultiplied  # BGRA bytes on little-endian machines


class ExportCancelled(ExportError):
    """The user cancelled; nothing was written."""


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
        self._stage = Stage(run, options, self.warnings)

        w, h = options.width, options.height
        self.frame_size = even_size(w, h) if options.ext == ".mp4" else (w, h)
        if self.frame_size != (w, h):
            fw, fh = self.frame_size
            self.warnings.append(f"size {w}x{h} padded to {fw}x{fh} (H.264 needs even sizes)")
        if options.ext == ".mp4" and options.background == "transparent":
            self.warnings.append("MP4 has no transparency: background drawn white")
        self._pal = self._stage.pal
        self._bands = frame_bands(options)
        names = run.config.data.names
        self._legend = legend_entries(run.dataset.y_all, names) if options.legend else []
        self._corner: str | None = None  # where the legend goes (`_choose_legend_corner`)
        # MP4 on an opaque page: frames go to ffmpeg as the BGRA they are composed in
        self._bgra = (
            options.ext == ".mp4" and self._pal.background[3] == 255 and sys.byteorder == "little"
        )
        try:
            self._producer = PRODUCERS[options.content](self._stage)
            if write:  # else a preview: frames only (render_frame), no file
                self._open_output()
        except BaseException:
            self._stage.dispose()
            raise

    def _open_output(self) -> None:
        o = self.options
        if o.is_vector:
            self._atomic = AtomicFile(o.path, o.overwrite)
            return
        fw, fh = self.frame_size
        factory = _bgra_mp4 if self._bgra else None
        self._encoder = Encoder(
            o.path, fw, fh, o.fps, o.quality, o.overwrite, writer_factory=factory
        )

    # ------------------------------------------------------------------ state
    @property
    def use_gl(self) -> bool:
        """Whether 3-D (OpenGL) views draw this export."""
        return self._stage.use_gl

    @property
    def views(self) -> list[Any]:
        """The hidden views the frames are drawn with."""
        return self._stage.views

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

    # ------------------------------------------------------------------ frames
    def render_frame(self, i: int) -> np.ndarray:
        """Frame i as (H, W, 4) uint8 RGBA at `frame_size` (title/caption/legend drawn, padded)."""
        w, h = self.options.width, self.options.height
        bgra = self._compose(i)
        img = QImage(bgra.data, w, h, 4 * w, _FORMAT)
        rgba = qimage_to_rgba(img)
        del img
        fw, fh = self.frame_size
        return pad_to(rgba, fw, fh, self._pal.background)

    def _compose(self, i: int) -> np.ndarray:
        """Frame i, drawn straight into one (H, W, 4) array: Qt's ARGB32 premultiplied, i.e.
        BGRA bytes on little-endian machines, which is what the MP4 encoder is fed."""
        self._choose_legend_corner()
        w, h = self.options.width, self.options.height
        out = np.empty((h, w, 4), dtype=np.uint8)
        img = QImage(out.data, w, h, 4 * w, _FORMAT)
        img.fill(QColor(*self._pal.background))
        # the picture is painted into its rows of the frame as into an image of its own:
        # the same pixels as `capture` gives, without a copy
        top, height = self._bands[0], self._stage.height
        rows = out[top : top + height]
        picture = QImage(rows.data, w, height, 4 * w, _FORMAT)
        p = QPainter(picture)
        try:
            self._producer.paint(i, p)
        finally:
            p.end()
        p = QPainter(img)
        try:
            self._paint_extras(p, self._producer.caption(i))
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

    def _paint_extras(self, painter: QPainter, caption: str) -> None:
        """Title and caption bands, and the legend in its corner (`_choose_legend_corner`)."""
        w, h = self.options.width, self.options.height
        paint_text_bands(painter, w, h, self.options.title, caption, self._pal)
        if self._legend:
            area = self._legend_area().translated(0, self._bands[0])
            scale = self.options.view_scale()
            paint_legend(painter, area, self._legend, self._pal, scale, self._corner or CORNERS[0])

    def _legend_area(self) -> QRectF:
        """Where the legend may go, in the picture's coordinates: under the names of
        compared panels (`legend_top`), above the caption band."""
        top, bottom = self._bands
        below = self._producer.legend_top
        w, h = self.options.width, self.options.height
        return QRectF(0, below, w, h - top - bottom - below)

    def _choose_legend_corner(self) -> None:
        """Once, before the first frame is drawn (the views are left as that frame needs
        them): the corner of the picture that hides the fewest points, judged on the
        first and the last frame (layout.legend_corner), so it never jumps in a video."""
        if self._corner is not None or not self._legend:
            return
        w, height = self.options.width, self._stage.height
        pictures = []
        for i in sorted({0, max(0, self.total_frames - 1)}):
            pic = np.zeros((height, w, 4), dtype=np.uint8)
            img = QImage(pic.data, w, height, 4 * w, _FORMAT)
            img.fill(QColor(*self._pal.background))
            p = QPainter(img)
            try:
                self._producer.paint(i, p)
            finally:
                p.end()
            del img
            pictures.append(pic)
        k = max(k for k, _ in self._legend) + 1
        pal = self._pal
        ink = [pal.class_color(c)[:3] for c in range(k)] + [pal.foreground[:3], pal.plane[:3]]
        scale = self.options.view_scale()
        self._corner = legend_corner(pictures, self._legend_area(), self._legend, scale, ink)

    def _write_vector(self) -> None:
        assert self._atomic is not None
        self._choose_legend_corner()
        w, h, pal, top = self.options.width, self.options.height, self._pal, self._bands[0]

        def paint(painter: QPainter) -> None:
            if pal.background[3]:
                painter.fillRect(QRectF(0, 0, w, h), QColor(*pal.background))
            painter.save()
            painter.translate(0, top)
            self._producer.paint(0, painter, vector=True)
            painter.restore()
            self._paint_extras(painter, self._producer.caption(0))

        title = self.options.title or narrator.run_title(self.run.config)
        write_vector(self._atomic.path, w, h, paint, title=title)

    # ------------------------------------------------------------------ running
    def step(self) -> bool:
        """Render the next frame and queue it for encoding; False once all are rendered."""
        if self._closed or self._done >= self.total_frames:
            return False
        try:
            if self.options.is_vector:
                self._write_vector()
            else:
                assert self._encoder is not None
                self._encoder.put(self._frame_for_encoder(self._done))
        except OSError as e:
            self.abort()
            raise ExportError(f"{self.options.path}: {describe_os_error(e)}") from None
        except BaseException:
            self.abort()
            raise
        self._done += 1
        return self._done < self.total_frames

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
        self._stage.dispose()
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
        self._stage.dispose()


def _bgra_fill(rgba: tuple[int, ...]) -> tuple[int, ...]:
    """A background colour as the BGRA bytes of a composed frame (for padding)."""
    r, g, b, a = rgba
    return (b, g, r, a)


def _bgra_mp4(path: Path, width: int, height: int, fps: float, quality: int) -> Mp4Writer:
    return Mp4Writer(path, width, height, fps, quality, pix_fmt="bgra")


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
                raise ExportCancelled("export cancelled")
            more = ex.step()
            if progress is not None:
                progress(*ex.progress)
            if not more:
                break
        if cancel is not None and cancel.is_set():
            raise ExportCancelled("export cancelled")
        return ex.finish()
    except BaseException:
        ex.abort()
        raise
