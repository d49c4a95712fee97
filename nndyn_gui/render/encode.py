"""Frame writers (MP4, GIF, PNG), atomic output files and the background encoder thread.

Why it looks like this:
- Qt must draw on the GUI thread, but H.264 / GIF encoding is slow; so frames are drawn
  one by one on the GUI thread and handed through a *bounded* queue to an encoder thread
  (the queue bounds memory; a full queue makes the producer wait, never drop frames).
- A crash, a full disk or a cancel must never leave a half-written video or clobber a
  good one: everything is written to `.NAME.partial-XXXX.EXT` in the target folder (same
  file system, and the real extension so ffmpeg picks the container) and moved into
  place with `os.replace` only after the writer closed cleanly.
- H.264 with yuv420p needs even sizes; odd sizes are padded by one pixel of background
  colour on the right / bottom (see `even_size`, `pad_to`). We run ffmpeg ourselves
  (`imageio_ffmpeg.get_ffmpeg_exe()` + subprocess), so nothing rescales a frame behind
  our back (imageio-ffmpeg's writer would, to a multiple of 16) and we see how it exited.
- Errors raised inside the encoder thread (ffmpeg exits, ENOSPC, EFBIG, ...) are kept and
  re-raised in the caller's thread as `ExportError` with a one-line message.
"""

from __future__ import annotations

import contextlib
import errno
import itertools
import logging
import os
import queue
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

import numpy as np

from nndyn_gui.core.io.files import AtomicWriter, WriteError
from nndyn_gui.core.io.limits import LimitError

log = logging.getLogger(__name__)

QUEUE_FRAMES = 6  # frames buffered between the GUI thread and the encoder thread
PUT_POLL_S = 0.05  # how often a blocked producer checks whether the encoder died
MP4_PRESET = "veryfast"  # x264 speed: ~70 fps at 1280x720 on 2 cores; size within 1 % of "medium"
GIF_MAX_BYTES = 1_500_000_000  # palette frames a GIF may buffer before Pillow writes them
_STOP = object()
FULL_MARGIN_BYTES = 256 * 1024  # this close to a size limit or a full disk: that was it


class ExportError(Exception):
    """An export cannot start or failed; the message is one line, fit for the user."""


# ---------------------------------------------------------------------- sizes & colours
def even_size(width: int, height: int) -> tuple[int, int]:
    """The size an MP4 gets: odd sides grow by one pixel (padded with the background)."""
    return int(width) + int(width) % 2, int(height) + int(height) % 2


def pad_to(frame: np.ndarray, width: int, height: int, fill: tuple[int, ...]) -> np.ndarray:
    """Pad an (H, W, C) frame on the right / bottom to (height, width) with `fill`."""
    h, w = frame.shape[:2]
    if (w, h) == (width, height):
        return frame
    out = np.empty((height, width, frame.shape[2]), dtype=frame.dtype)
    out[...] = np.asarray(fill[: frame.shape[2]], dtype=frame.dtype)
    out[:h, :w] = frame
    return out


def flatten_alpha(rgba: np.ndarray, matte: tuple[int, int, int] = (255, 255, 255)) -> np.ndarray:
    """RGBA -> RGB composited over `matte`: formats without alpha (MP4) show a white page."""
    if rgba.shape[2] == 3:
        return rgba
    a = rgba[..., 3:4]
    if bool((a == 255).all()):
        return np.ascontiguousarray(rgba[..., :3])
    af = a.astype(np.float32) / 255.0
    m = np.asarray(matte, dtype=np.float32)
    rgb = rgba[..., :3].astype(np.float32) * af + m * (1.0 - af)
    return np.clip(np.rint(rgb), 0, 255).astype(np.uint8)


def quality_to_crf(quality: int) -> int:
    """1..10 (UI scale, 10 best) -> x264 CRF 35..14 (lower CRF = better, bigger)."""
    q = min(max(int(quality), 1), 10)
    return round(35 - (q - 1) * 21 / 9)


def describe_os_error(e: BaseException) -> str:
    """A short human reason for an OSError (disk full, file too large, ...)."""
    if isinstance(e, WriteError) and e.strerror:
        return str(e.strerror)  # core.io.files already said why (disk full, incomplete file)
    code = getattr(e, "errno", None)
    if code == errno.ENOSPC:
        return "disk full (no space left on device)"
    if code == errno.EFBIG:
        return "file too large for this file system"
    if code in (errno.EACCES, errno.EPERM, errno.EROFS):
        return "permission denied"
    text = str(e)
    for needle, reason in (
        ("No space left", "disk full (no space left on device)"),
        ("File too large", "file too large for this file system"),
    ):
        if needle in text:
            return reason
    first = text.strip().splitlines()[0] if text.strip() else type(e).__name__
    return first[:300]


# ---------------------------------------------------------------------- atomic output
class AtomicFile:
    """A temp path next to `target`; `commit()` checks the whole file is on disk and moves
    it into place, `discard()` removes it. `core.io.files.AtomicWriter` does the work (the
    temp file keeps the real extension, so ffmpeg picks the container)."""

    def __init__(self, target: str | os.PathLike[str], overwrite: bool = False) -> None:
        self.target = Path(target)
        self.overwrite = overwrite
        if self.target.exists() and not overwrite:
            raise ExportError(f"{self.target}: file exists; use --force to overwrite")
        folder = self.target.parent
        try:
            self._writer = AtomicWriter(
                self.target,
                overwrite=overwrite,
                prefix=f".{self.target.stem}.partial-",
                suffix=self.target.suffix,
            )
        except LimitError as e:
            raise ExportError(f"cannot write {self.target}: {e}") from None
        except OSError as e:
            raise ExportError(f"cannot write to {folder}: {describe_os_error(e)}") from None
        self._writer.close()  # writers open the temp file by name
        self.path = self._writer.path
        self.done = False

    def commit(self) -> Path:
        """Check the finished temp file and move it to the target (refusing to clobber
        unless allowed). On failure the old target is untouched and the temp file gone."""
        if not self.overwrite and self.target.exists():
            self.discard()
            raise ExportError(f"{self.target}: file exists; use --force to overwrite")
        try:
            self._writer.commit()
        except FileExistsError:
            raise ExportError(f"{self.target}: file exists; use --force to overwrite") from None
        except LimitError as e:
            raise ExportError(f"cannot write {self.target}: {e}") from None
        except OSError as e:
            raise ExportError(
                f"cannot write {self.target}: {describe_os_error(e)}; nothing was replaced"
            ) from None
        finally:
            self.done = True
        return self.target

    def discard(self) -> None:
        """Remove the temp file (idempotent)."""
        self._writer.discard()
        self.done = True


# ---------------------------------------------------------------------- writers
class FrameWriter:
    """Base class: `write(frame)` receives (H, W, 3|4) uint8 frames, `close()` finishes."""

    def __init__(self, path: Path, width: int, height: int, fps: float) -> None:
        self.path, self.width, self.height, self.fps = path, width, height, fps
        self.frames = 0

    def write(self, frame: np.ndarray) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def close(self) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def abort(self) -> None:
        """Stop without finishing the file (the caller deletes it). Writers holding a
        process or buffered frames release them here; a PNG holds nothing."""


class Mp4Writer(FrameWriter):
    """H.264 (yuv420p, plays everywhere, incl. PowerPoint/Keynote) through our own ffmpeg.

    The ffmpeg executable comes from `imageio_ffmpeg.get_ffmpeg_exe()` (the binary the
    package ships, or IMAGEIO_FFMPEG_EXE); we run it ourselves with `subprocess`, so we
    own its exit status and its error output: a disk that fills while ffmpeg writes its
    last frames is an error, never a truncated file reported as a success.
    """

    def __init__(
        self,
        path: Path,
        width: int,
        height: int,
        fps: float,
        quality: int = 8,
        pix_fmt: str = "rgb24",
    ) -> None:
        if width % 2 or height % 2:
            raise ExportError(f"MP4 needs even sizes, got {width}x{height}")
        if pix_fmt not in ("rgb24", "bgra"):
            raise ValueError(f"unknown input pixel format {pix_fmt!r}")
        super().__init__(path, width, height, fps)
        self.crf = quality_to_crf(quality)
        #: what `write` gets: RGB(A) frames (made RGB here), or opaque BGRA frames passed to
        #: ffmpeg as they are (the exporter composes frames in BGRA: no conversion pass)
        self.pix_fmt = pix_fmt
        self._proc: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None  # ffmpeg's stderr, read when it fails

    def command(self, exe: str) -> list[str]:
        """The ffmpeg command line: raw RGB frames on stdin, H.264 MP4 out (no rescaling)."""
        return [
            exe,
            "-hide_banner",
            "-loglevel",
            "error",
            "-y",
            "-f",
            "rawvideo",
            "-pix_fmt",
            self.pix_fmt,
            "-s",
            f"{self.width}x{self.height}",
            "-r",
            f"{self.fps:g}",
            "-i",
            "-",
            "-an",
            "-c:v",
            "libx264",
            "-pix_fmt",
            "yuv420p",
            "-crf",
            str(self.crf),
            "-preset",
            MP4_PRESET,
            "-movflags",
            "+faststart",
            str(self.path),
        ]

    def _open(self) -> subprocess.Popen[bytes]:
        import imageio_ffmpeg

        try:
            exe = imageio_ffmpeg.get_ffmpeg_exe()
        except RuntimeError as e:
            raise ExportError(f"MP4 export needs ffmpeg: {e}") from None
        self._log = tempfile.TemporaryFile()  # noqa: SIM115 - open until close or abort
        try:
            self._proc = subprocess.Popen(
                self.command(exe),
                stdin=subprocess.PIPE,
                stdout=subprocess.DEVNULL,
                stderr=self._log,
            )
        except OSError as e:
            raise ExportError(f"cannot start ffmpeg ({exe}): {describe_os_error(e)}") from None
        return self._proc

    def write(self, frame: np.ndarray) -> None:
        proc = self._proc or self._open()
        assert proc.stdin is not None
        if self.pix_fmt == "bgra":
            if frame.shape != (self.height, self.width, 4):
                raise ExportError(
                    f"BGRA frame of shape {frame.shape}, not {self.height}x{self.width}"
                )
            data = np.ascontiguousarray(frame)
        else:
            data = np.ascontiguousarray(flatten_alpha(frame))
        try:
            proc.stdin.write(data.data)
        except (OSError, ValueError) as e:  # ffmpeg died (broken pipe): say why
            proc.wait()
            raise ExportError(f"encoding failed: {self._why_ffmpeg_failed(e)}") from None
        self.frames += 1

    def close(self) -> None:
        proc = self._proc or self._open()  # zero frames: still a file or a clear error
        assert proc.stdin is not None
        err: BaseException | None = None
        try:
            proc.stdin.close()  # ffmpeg finishes the file and exits
        except OSError as e:
            err = e
        code = proc.wait()
        try:
            if code or err is not None:
                raise ExportError(f"encoding failed: {self._why_ffmpeg_failed(err)}")
        finally:
            self._proc = None
            self._close_log()

    def abort(self) -> None:
        proc, self._proc = self._proc, None
        if proc is not None:
            with contextlib.suppress(OSError):
                proc.kill()
            proc.wait()
            if proc.stdin is not None:
                with contextlib.suppress(OSError):
                    proc.stdin.close()
        self._close_log()

    def _close_log(self) -> None:
        log, self._log = self._log, None
        if log is not None:
            log.close()

    def _ffmpeg_said(self) -> str:
        """The last line ffmpeg wrote to stderr ("" if nothing)."""
        if self._log is None:
            return ""
        with contextlib.suppress(OSError):
            self._log.seek(0)
            lines = [x.strip() for x in self._log.read().decode(errors="replace").splitlines()]
            lines = [x for x in lines if x]
            return lines[-1][:300] if lines else ""
        return ""

    def _why_ffmpeg_failed(self, err: BaseException | None) -> str:
        """Disk full / file too large first (what usually kills ffmpeg), then its words."""
        reason = output_limit_reason(self.path)
        if reason:
            return reason
        said = self._ffmpeg_said()
        for needle, why in (
            ("No space left", "disk full (no space left on device)"),
            ("File too large", "file too large for this file system"),
        ):
            if needle in said:
                return why
        code = self._proc.returncode if self._proc is not None else None
        if said:
            return f"ffmpeg: {said}"
        if err is not None and code is None:
            return describe_os_error(err)
        return f"ffmpeg stopped with exit status {code}"


def output_limit_reason(path: Path) -> str:
    """'disk full' / 'file too large' when `path` ran into one of those limits, else ''."""
    try:
        size = path.stat().st_size
    except OSError:
        size = 0
    with contextlib.suppress(ImportError, OSError, ValueError):
        import resource

        limit = resource.getrlimit(resource.RLIMIT_FSIZE)[0]
        if limit != resource.RLIM_INFINITY and size + FULL_MARGIN_BYTES >= limit:
            return f"file too large (this session may write at most {limit} bytes per file)"
    with contextlib.suppress(OSError):
        if shutil.disk_usage(path.parent).free < FULL_MARGIN_BYTES:
            return "disk full (no space left on device)"
    return ""


class GifWriter(FrameWriter):
    """Looping GIF: each frame quantised to its own 255-colour palette (+1 transparent).

    GIF alpha is one bit: with a transparent background, pixels under 50 % alpha become
    transparent and the rest are drawn on white. Pillow writes GIFs in one go, so the
    palette frames (1 byte per pixel) are buffered until `close()`.
    """

    def __init__(self, path: Path, width: int, height: int, fps: float) -> None:
        super().__init__(path, width, height, fps)
        self._frames: list[Any] = []
        self._transparent = False
        self._bytes = 0

    def write(self, frame: np.ndarray) -> None:
        from PIL import Image

        self._bytes += frame.shape[0] * frame.shape[1]
        if self._bytes > GIF_MAX_BYTES:
            raise ExportError("GIF too large to buffer: use MP4, fewer seconds or a smaller size")
        rgb = flatten_alpha(frame)
        img = Image.fromarray(rgb, "RGB").quantize(
            colors=255, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE
        )
        if frame.shape[2] == 4 and bool((frame[..., 3] < 128).any()):
            idx = np.asarray(img).copy()
            idx[frame[..., 3] < 128] = 255
            pal = img.getpalette() or []
            img = Image.fromarray(idx, "P")
            img.putpalette(pal + [0] * (768 - len(pal)))
            self._transparent = True
        self._frames.append(img)
        self.frames += 1

    def close(self) -> None:
        if not self._frames:
            raise ExportError("no frames to write")
        first, rest = self._frames[0], self._frames[1:]
        params: dict[str, Any] = {
            "save_all": True,
            "append_images": rest,
            "duration": gif_delays_ms(len(self._frames), self.fps),
            "loop": 0,  # forever
            "optimize": False,
        }
        if self._transparent:
            params.update(transparency=255, disposal=2)
        try:
            first.save(str(self.path), format="GIF", **params)
        finally:
            self._frames = []

    def abort(self) -> None:
        self._frames = []


def gif_delays_ms(n: int, fps: float) -> list[int]:
    """Per-frame delays (ms, whole hundredths of a second) that keep time at `fps`.

    GIF stores delays in hundredths of a second, so 30 fps cannot be one delay (3.33):
    a single rounded delay plays 10% fast. Rounding each frame's *start time* instead
    gives 30, 40, 30, ... ms: every frame within 5 ms of its time, the whole exact.
    Players show delays under 2 hundredths slower, hence at least 20 ms (<= 50 fps).
    """
    starts = [round(100.0 * i / fps) for i in range(n + 1)]  # hundredths of a second
    return [max(2, b - a) * 10 for a, b in itertools.pairwise(starts)]


class PngWriter(FrameWriter):
    """One still; RGBA kept when the frame has real transparency, else RGB."""

    def write(self, frame: np.ndarray) -> None:
        import imageio.v3 as iio

        if frame.shape[2] == 4 and bool((frame[..., 3] == 255).all()):
            frame = frame[..., :3]
        iio.imwrite(self.path, np.ascontiguousarray(frame), extension=".png")
        self.frames += 1

    def close(self) -> None:
        if self.frames == 0:
            raise ExportError("no frame to write")


def make_writer(path: Path, width: int, height: int, fps: float, quality: int = 8) -> FrameWriter:
    """The writer for `path`'s extension (.mp4, .gif, .png)."""
    ext = path.suffix.lower()
    if ext == ".mp4":
        return Mp4Writer(path, width, height, fps, quality)
    if ext == ".gif":
        return GifWriter(path, width, height, fps)
    if ext == ".png":
        return PngWriter(path, width, height, fps)
    raise ExportError(f"no frame writer for {ext or 'a file without extension'}")


# ---------------------------------------------------------------------- encoder thread
class Encoder:
    """Feeds frames to a writer on a background thread; output appears atomically.

    `put(frame)` blocks while the queue is full and raises ExportError as soon as the
    thread has failed; `finish()` waits, closes the writer and renames the temp file;
    `abort()` stops and deletes it. Either ends the Encoder.
    """

    def __init__(
        self,
        target: str | os.PathLike[str],
        width: int,
        height: int,
        fps: float,
        quality: int = 8,
        overwrite: bool = False,
        writer_factory: Callable[[Path, int, int, float, int], FrameWriter] | None = None,
    ) -> None:
        self.out = AtomicFile(target, overwrite)
        factory = writer_factory or make_writer
        try:
            self.writer = factory(self.out.path, width, height, fps, quality)
        except BaseException:
            self.out.discard()
            raise
        self._q: queue.Queue[Any] = queue.Queue(maxsize=QUEUE_FRAMES)
        self._error: BaseException | None = None
        self._stop = threading.Event()
        self._closed = False
        self._thread = threading.Thread(target=self._run, name="nndyn-encoder", daemon=True)
        self._thread.start()

    @property
    def failed(self) -> bool:
        return self._error is not None

    def _run(self) -> None:
        try:
            while not self._stop.is_set():
                item = self._q.get()
                if self._stop.is_set():  # aborted: do not finish the file
                    return
                if item is _STOP:
                    self.writer.close()
                    return
                self.writer.write(item)
        except BaseException as e:  # reported to the caller's thread
            self._error = e
            self.writer.abort()
            self._drain()

    def _drain(self) -> None:
        """Empty the queue so a producer blocked in put() wakes up and sees the error."""
        with contextlib.suppress(queue.Empty):
            while True:
                self._q.get_nowait()

    def _raise_error(self) -> None:
        err = self._error
        assert err is not None
        self.abort()
        if isinstance(err, ExportError):
            raise ExportError(f"{self.out.target}: {err}") from None
        what = "encoding failed"
        if isinstance(err, OSError | RuntimeError | BrokenPipeError):
            raise ExportError(f"{self.out.target}: {what}: {describe_os_error(err)}") from None
        # not a failure the user can fix (a bug): its traceback goes to the log
        log.error("encoding %s failed", self.out.target, exc_info=err)
        raise ExportError(f"{self.out.target}: {what}: {type(err).__name__}: {err}") from None

    def put(self, frame: np.ndarray) -> None:
        """Queue one frame (a copy is not made: do not modify it afterwards)."""
        if self._closed:
            raise ExportError("encoder already finished")
        while True:
            if self._error is not None:
                self._raise_error()
            try:
                self._q.put(frame, timeout=PUT_POLL_S)
                return
            except queue.Full:
                if not self._thread.is_alive() and self._error is None:
                    self.abort()
                    raise ExportError("encoder stopped unexpectedly") from None

    def finish(self) -> Path:
        """Wait for all frames to be written, then move the file into place."""
        if self._closed:
            raise ExportError("encoder already finished")
        while self._error is None and self._thread.is_alive():
            try:
                self._q.put(_STOP, timeout=PUT_POLL_S)
                break
            except queue.Full:
                continue
        self._thread.join()
        if self._error is not None:
            self._raise_error()
        self._closed = True
        return self.out.commit()

    def abort(self) -> None:
        """Stop encoding and delete the temp file (safe to call twice)."""
        if self._closed:
            return
        self._closed = True
        self._stop.set()
        self._drain()
        with contextlib.suppress(queue.Full):
            self._q.put_nowait(_STOP)
        self._thread.join(timeout=30)
        self.writer.abort()
        self.out.discard()
