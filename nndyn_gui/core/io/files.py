"""Every file nndyn writes goes through `AtomicWriter` (files it reads: `limits.read_bounded`).

Why one module (issue 25): a full disk left truncated SVG/PDF files reported as written
(and, with --force, put them in place of the good file), a settings file that was a
symlink to a device got the device replaced, a FIFO froze the window at start, and the
atomic writes copied in three places gave files three different permissions. Here:

- `AtomicWriter(target)`: the data go to a hidden temporary file in the target's own
  folder (same file system, so the final rename is atomic). `commit()` flushes it to
  the disk (fsync), checks that the *whole* file is there (its size when known; a
  PNG, GIF, MP4, zip and JSON file's structure; an SVG parsed as XML; a PDF's header,
  `%%EOF` trailer and `startxref` pointing at its cross-reference table) and only then
  renames it over the target. Any failure leaves the old file exactly as it was, no
  temporary file, and raises `WriteError` with one line for the user.
- The new file gets the usual mode: the old file's mode when it replaces one, else
  0666 minus the umask (0644 typically), never mkstemp's 0600.
- A symlink is never written *through*: the file it points at is replaced by the
  rename, the link stays. A target that exists but is not a regular file (a device, a
  FIFO, a socket; directly or behind a symlink) is never replaced: `NotRegularError`.

Core module: no Qt. OSErrors other than the ones translated pass through to callers,
which keep their own wording ("cannot save to …", "cannot write …").
"""

from __future__ import annotations

import contextlib
import errno
import json
import logging
import os
import re
import shutil
import stat
import tempfile
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO
from xml.etree import ElementTree

from nndyn_gui.core.io.limits import LimitError

log = logging.getLogger(__name__)

FULL_MARGIN_BYTES = 256 * 1024  # this close to a full disk after a failed write: that was it
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_PNG_IEND = b"\x00\x00\x00\x00IEND\xaeB`\x82"
_STARTXREF = re.compile(rb"startxref\s+(\d+)\s+%%EOF\s*$")
_PDF_OBJECT = re.compile(rb"\s*\d+\s+\d+\s+obj\b")


class WriteError(OSError):
    """A file could not be written completely; the old file (if any) is unchanged."""

    def __str__(self) -> str:
        return str(self.strerror or super().__str__())


class NotRegularError(LimitError):
    """The path names a device, FIFO or socket (maybe behind a symlink): never replaced."""


# ---------------------------------------------------------------------- modes
def _read_umask() -> int:
    """The process umask without changing it (Linux /proc), else set-and-restore once
    (other systems have no way to read it; the first file written asks, not the import)."""
    with contextlib.suppress(OSError, ValueError, StopIteration):
        with open("/proc/self/status", encoding="ascii", errors="replace") as fh:
            line = next(x for x in fh if x.startswith("Umask:"))
        return int(line.split()[1], 8)
    if "umask" not in _UMASK:
        _UMASK["umask"] = os.umask(0o022)
        os.umask(_UMASK["umask"])
    return _UMASK["umask"]


_UMASK: dict[str, int] = {}  # where /proc cannot tell: asked once, by the first write


def new_file_mode() -> int:
    """The mode a new file gets from an ordinary `open()`: 0666 minus the umask."""
    return 0o666 & ~_read_umask()


# ---------------------------------------------------------------------- targets
def _kind(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "a pipe (FIFO)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    return "not a regular file"


def resolve_target(path: str | os.PathLike[str]) -> Path:
    """The file a save to `path` replaces: `path`, or the file its symlink points at.

    NotRegularError if that exists and is a device, FIFO or socket; IsADirectoryError
    for a folder. A dangling symlink resolves to where it points (the file is created
    there, the link then works).
    """
    p = Path(path)
    real = Path(os.path.realpath(p)) if p.is_symlink() else p
    try:
        st = os.stat(real)
    except FileNotFoundError:
        return real
    if stat.S_ISDIR(st.st_mode):
        raise IsADirectoryError(errno.EISDIR, "is a folder", str(real))
    if not stat.S_ISREG(st.st_mode):
        behind = f" (the link {p} points at {real})" if real != p else ""
        raise NotRegularError(f"{real} is {_kind(st.st_mode)}{behind}; it is never replaced")
    return real


# ---------------------------------------------------------------------- checks
def _tail(fh: IO[bytes], size: int, n: int) -> bytes:
    fh.seek(max(0, size - n))
    return fh.read(n)


def _check_png(fh: IO[bytes], size: int) -> str:
    if fh.read(8) != _PNG_SIGNATURE:
        return "it does not start as a PNG"
    return "" if _tail(fh, size, 12) == _PNG_IEND else "its end (the IEND chunk) is missing"


def _check_gif(fh: IO[bytes], size: int) -> str:
    if fh.read(6) not in (b"GIF87a", b"GIF89a"):
        return "it does not start as a GIF"
    return "" if _tail(fh, size, 1) == b";" else "its end (the GIF trailer) is missing"


def _check_jpeg(fh: IO[bytes], size: int) -> str:
    if fh.read(2) != b"\xff\xd8":
        return "it does not start as a JPEG"
    return "" if _tail(fh, size, 2) == b"\xff\xd9" else "its end marker is missing"


def _check_mp4(fh: IO[bytes], size: int) -> str:
    """The top-level boxes must tile the file exactly and hold ftyp, moov and mdat."""
    seen: set[bytes] = set()
    pos = 0
    while pos < size:
        fh.seek(pos)
        head = fh.read(16)
        if len(head) < 8:
            return f"a box header at byte {pos} is cut off"
        box = int.from_bytes(head[:4], "big")
        kind = head[4:8]
        if box == 1:
            if len(head) < 16:
                return f"a box header at byte {pos} is cut off"
            box = int.from_bytes(head[8:16], "big")
        elif box == 0:
            box = size - pos
        if box < 8 or pos + box > size:
            return f"the {kind.decode('latin-1')!r} box at byte {pos} runs past the end"
        seen.add(kind)
        pos += box
    missing = [k.decode() for k in (b"ftyp", b"moov", b"mdat") if k not in seen]
    return f"it has no {', '.join(missing)} box" if missing else ""


def _check_pdf(fh: IO[bytes], size: int) -> str:
    if fh.read(5) != b"%PDF-":
        return "it does not start as a PDF"
    tail = _tail(fh, size, 2048)
    m = _STARTXREF.search(tail)
    if m is None:
        return "its end (startxref and %%EOF) is missing"
    offset = int(m.group(1))
    if not 0 < offset < size:
        return f"its startxref points outside the file ({offset})"
    fh.seek(offset)
    here = fh.read(64)
    if not (here.startswith(b"xref") or _PDF_OBJECT.match(here)):
        return "its startxref does not point at a cross-reference table"
    return ""


def _check_svg(fh: IO[bytes], size: int) -> str:
    root = ""
    try:
        for event, el in ElementTree.iterparse(fh, events=("start", "end")):
            if event == "start" and not root:
                root = el.tag.rsplit("}", 1)[-1]
            elif event == "end":
                el.clear()  # keep memory flat for big drawings
    except ElementTree.ParseError as e:
        return f"it is not complete XML ({e})"
    return "" if root == "svg" else f"its root element is {root or 'missing'}, not svg"


def _check_zip(fh: IO[bytes], size: int) -> str:
    try:
        with zipfile.ZipFile(fh) as zf:
            for info in zf.infolist():
                if info.header_offset + info.compress_size > size:
                    return f"{info.filename} runs past the end"
    except (zipfile.BadZipFile, OSError, ValueError) as e:
        return f"it is not a complete zip file ({e})"
    return ""


def _check_json(fh: IO[bytes], size: int) -> str:
    try:
        json.loads(fh.read().decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as e:
        return f"it is not complete JSON ({type(e).__name__})"
    return ""


_CHECKS: dict[str, Callable[[IO[bytes], int], str]] = {
    ".png": _check_png,
    ".gif": _check_gif,
    ".jpg": _check_jpeg,
    ".jpeg": _check_jpeg,
    ".mp4": _check_mp4,
    ".pdf": _check_pdf,
    ".svg": _check_svg,
    ".nndyn": _check_zip,
    ".zip": _check_zip,
    ".npz": _check_zip,
    ".json": _check_json,
}


def check_complete(path: str | os.PathLike[str], kind: str | None = None) -> str:
    """ "" when the file at `path` is whole for its format (`kind`: an extension such as
    ".svg"; default `path`'s), else why not. Unknown formats: not empty is enough."""
    p = Path(path)
    ext = (kind or p.suffix).lower()
    with open(p, "rb") as fh:
        size = os.fstat(fh.fileno()).st_size
        if size == 0:
            return "it is empty"
        check = _CHECKS.get(ext)
        return check(fh, size) if check is not None else ""


def why_incomplete(folder: str | os.PathLike[str], detail: str) -> str:
    """The user's reason for an incomplete file: a full disk or a size limit, if so."""
    import resource

    with contextlib.suppress(OSError, ValueError):
        soft, _hard = resource.getrlimit(resource.RLIMIT_FSIZE)
        if soft != resource.RLIM_INFINITY and soft < 64 * 2**30:
            return f"file too large (this session may write at most {soft} bytes per file)"
    with contextlib.suppress(OSError):
        if shutil.disk_usage(folder).free < FULL_MARGIN_BYTES:
            return "disk full (no space left on device)"
    return f"the file written is incomplete: {detail}"


# ---------------------------------------------------------------------- writing
class AtomicWriter:
    """A temporary file beside `target`; `commit()` checks it and renames it into place.

    `path` is the temporary file (write it by name, or through `fd` / `open()`),
    `target` the file it will replace (a symlink's target: see `resolve_target`).
    `overwrite=False` refuses an existing target, also one appearing meanwhile
    (FileExistsError). `kind` names the format checked at commit (default: the
    target's extension). `prefix` / `suffix` name the temporary file
    (default `.NAME.XXXX.tmp`; a writer that picks its format by extension, like
    ffmpeg, needs the real one).
    """

    def __init__(
        self,
        target: str | os.PathLike[str],
        *,
        overwrite: bool = True,
        kind: str | None = None,
        prefix: str | None = None,
        suffix: str = ".tmp",
    ) -> None:
        self.target = resolve_target(target)
        self.overwrite = overwrite
        self.kind = kind
        if not overwrite and self.target.exists():
            raise FileExistsError(errno.EEXIST, "file exists", str(self.target))
        self.folder = self.target.parent if str(self.target.parent) else Path(".")
        fd, tmp = tempfile.mkstemp(
            prefix=prefix if prefix is not None else f".{self.target.name}.",
            suffix=suffix,
            dir=self.folder,
        )
        self.fd: int | None = fd
        self.path = Path(tmp)
        self.done = False

    def open(self) -> IO[bytes]:
        """The temporary file as a binary file object (it owns the descriptor)."""
        if self.fd is None:
            return open(self.path, "wb")
        fd, self.fd = self.fd, None
        return os.fdopen(fd, "wb")

    def close(self) -> None:
        """Close the descriptor (to write the temporary file by name); the file stays."""
        if self.fd is not None:
            with contextlib.suppress(OSError):
                os.close(self.fd)
            self.fd = None

    def commit(self, expected_size: int | None = None) -> Path:
        """Flush, check the whole file is on disk, give it its mode, rename it into place.

        WriteError (the old file untouched, the temporary one removed) when it is not
        complete; FileExistsError when `overwrite` is False and the target appeared;
        NotRegularError when the target became a device or FIFO meanwhile.
        """
        try:
            self.close()
            with open(self.path, "rb+") as fh:
                os.fsync(fh.fileno())  # a delayed-allocation fs reports ENOSPC here
                size = os.fstat(fh.fileno()).st_size
            if expected_size is not None and size != expected_size:
                raise WriteError(
                    errno.EIO,
                    why_incomplete(self.folder, f"{size} of {expected_size} bytes on disk"),
                )
            problem = check_complete(self.path, self.kind or self.target.suffix)
            if problem:
                raise WriteError(errno.EIO, why_incomplete(self.folder, problem))
            target = resolve_target(self.target)  # it may have become a FIFO meanwhile
            os.chmod(self.path, self._mode_for(target))
            if self.overwrite:
                os.replace(self.path, target)
            else:
                self._link_new(target)
        except BaseException:
            self.discard()
            raise
        self.done = True
        self._sync_folder()
        return self.target

    def _mode_for(self, target: Path) -> int:
        """The old file's mode (and owner, when we may) if there is one, else the usual."""
        try:
            st = os.stat(target)
        except FileNotFoundError:
            return new_file_mode()
        if (st.st_uid, st.st_gid) != (os.getuid(), os.getgid()):
            with contextlib.suppress(OSError):
                os.chown(self.path, st.st_uid, st.st_gid)
        return stat.S_IMODE(st.st_mode)

    def _link_new(self, target: Path) -> None:
        try:
            os.link(self.path, target)  # atomic "create if absent"
        except FileExistsError:
            raise
        except OSError:  # no hard links here (FAT, some network drives)
            if target.exists():
                raise FileExistsError(errno.EEXIST, "file exists", str(target)) from None
            os.replace(self.path, target)
            return
        os.unlink(self.path)

    def _sync_folder(self) -> None:
        """Make the rename itself durable (best effort: some file systems refuse)."""
        try:
            fd = os.open(self.folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
        except OSError as e:
            log.debug("cannot open %s to sync it: %s", self.folder, e)
            return
        try:
            os.fsync(fd)
        except OSError as e:
            log.debug("cannot sync folder %s: %s", self.folder, e)
        finally:
            os.close(fd)

    def discard(self) -> None:
        """Remove the temporary file (idempotent)."""
        self.close()
        with contextlib.suppress(FileNotFoundError):
            try:
                self.path.unlink()
            except OSError as e:
                log.warning("cannot remove the temporary file %s: %s", self.path, e)
        self.done = True

    def __enter__(self) -> AtomicWriter:
        return self

    def __exit__(self, exc_type: object, *_: object) -> None:
        if not self.done:
            self.discard()


@contextlib.contextmanager
def atomic_open(
    target: str | os.PathLike[str], *, overwrite: bool = True, kind: str | None = None
) -> Iterator[IO[bytes]]:
    """`with atomic_open(path) as fh: fh.write(...)`: committed (checked, renamed) on a
    clean exit of the block, discarded on an exception."""
    writer = AtomicWriter(target, overwrite=overwrite, kind=kind)
    with writer:
        with writer.open() as fh:
            yield fh
            fh.flush()
            written = fh.tell()
        writer.commit(expected_size=written)


def write_bytes(
    target: str | os.PathLike[str], data: bytes, *, overwrite: bool = True, kind: str | None = None
) -> Path:
    """Write `data` to `target` atomically (see AtomicWriter); returns the file written."""
    with atomic_open(target, overwrite=overwrite, kind=kind) as fh:
        fh.write(data)
    return resolve_target(target)
