"""Read a run file's zip members without trusting them: sizes, headers and counts are
checked before a byte is allocated.

Why a module: a `.nndyn` may be damaged, truncated, foreign or hostile (a zip bomb,
/dev/zero, an .npy header claiming 40 M points): every reader here raises `RunFileError`
with one line naming the member, quickly, and reads at most the budget it is given. What
the members mean (the format) stays in core/io/runfile.py.
"""

from __future__ import annotations

import io
import json
import math
import re
import struct
import zipfile
import zlib
from pathlib import Path
from typing import Any

import numpy as np

from nndyn_gui.core.io import limits

MAX_JSON_BYTES = limits.MAX_JSON_BYTES
MAX_MEMBERS = 64
MAX_DIRECTORY_BYTES = 2**20  # a central directory of MAX_MEMBERS members is a few KB
EOCD_SEARCH = 22 + 65535  # the end record, after a zip comment of at most 64 KB
COMPRESSIONS = (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED)
SURROGATE = re.compile("[\ud800-\udfff]")


class RunFileError(Exception):
    """A run file cannot be written or read; the message is one line, fit for the user."""


class NewerFormatError(RunFileError):
    """The file is fine but written by a newer nndyn: keep it, a newer version reads it."""


def first_line(e: BaseException) -> str:
    text = str(e).strip()
    return text.splitlines()[0] if text else ""


def clean_text(text: str) -> str:
    """A string from a file with lone surrogates (JSON allows "\\ud800"; no terminal, Qt
    label or file can encode them) replaced by U+FFFD, the replacement character."""
    return SURROGATE.sub("\ufffd", text)


def tail(fh: Any, size: int) -> bytes:
    """The last bytes of a file, where a zip's end-of-central-directory record lives."""
    n = min(size, EOCD_SEARCH)
    fh.seek(size - n)
    data = fh.read(n)
    fh.seek(0)
    return bytes(data)


def check_zip_directory(p: Path, name: str, tail: bytes) -> None:
    """Refuse a zip whose central directory lists more members than a run ever has.

    zipfile builds one object per listed member before anything can be checked, so a
    small file listing millions of members would cost gigabytes: read the count from the
    end record first. A missing record is left to zipfile ("not a zip archive").
    """
    sig = b"PK\x05\x06"
    at = len(tail) - 22 if tail[-22:-18] == sig else tail.rfind(sig)  # no comment: last 22
    if at < 0 or len(tail) - at < 22:
        return
    entries, cd_size = struct.unpack("<HI", tail[at + 10 : at + 16])
    if entries > MAX_MEMBERS or cd_size > MAX_DIRECTORY_BYTES:
        if name:
            raise RunFileError(f"{p}: damaged run file ({name} lists {entries} members)")
        raise RunFileError(f"{p}: not an nndyn run file ({entries} members)")


def short_repr(v: Any, n: int = 40) -> str:
    text = repr(v) if not isinstance(v, int) or abs(v) < 10**30 else f"{float(v):.3g}"
    return text if len(text) <= n else text[: n - 1] + "…"


def check_zip_entry(p: Path, info: zipfile.ZipInfo, outer: str = "") -> None:
    """Only what nndyn writes: unencrypted members, stored or deflated.

    bzip2 and LZMA members are decompressed by zipfile without any size limit (a 27 KB
    member can expand to gigabytes), and nndyn never writes them.
    """
    name = f"{outer}:{info.filename}" if outer else info.filename
    if info.flag_bits & 0x1:
        raise RunFileError(f"{p}: damaged run file ({name} is encrypted)")
    if info.compress_type not in COMPRESSIONS:
        raise RunFileError(
            f"{p}: not an nndyn run file ({name} uses compression method "
            f"{info.compress_type}; nndyn writes only stored or deflated members)"
        )


def read_member(p: Path, zf: zipfile.ZipFile, info: zipfile.ZipInfo, limit: int) -> bytes:
    """The member's bytes, decompressing at most `limit` (+1) bytes whatever it declares."""
    check_zip_entry(p, info)
    if info.file_size > limit:
        raise RunFileError(
            f"{p}: damaged run file ({info.filename} claims {info.file_size} bytes, "
            f"more than the {limit} allowed)"
        )
    try:
        with zf.open(info) as f:
            data = f.read(limit + 1)
    except (zipfile.BadZipFile, EOFError, OSError, ValueError, zlib.error) as e:
        raise RunFileError(f"{p}: damaged run file ({info.filename}: {first_line(e)})") from None
    if len(data) > limit:
        raise RunFileError(f"{p}: damaged run file ({info.filename} is too large)")
    return data


def read_json(
    p: Path, zf: zipfile.ZipFile, names: dict[str, zipfile.ZipInfo], name: str
) -> dict[str, Any]:
    raw = read_member(p, zf, names[name], MAX_JSON_BYTES)
    try:
        obj = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise RunFileError(f"{p}: damaged run file ({name} is not valid JSON)") from None
    if not isinstance(obj, dict):
        raise RunFileError(f"{p}: damaged run file ({name} is not a JSON object)")
    return obj


def read_npz(
    p: Path,
    zf: zipfile.ZipFile,
    info: zipfile.ZipInfo,
    required: tuple[str, ...],
    budget: int,
    max_rows: dict[str, int],
) -> dict[str, np.ndarray]:
    """Read the arrays of an inner .npz: no pickles, headers checked before any data;
    an array named in `max_rows` may declare at most that many rows."""
    raw = read_member(p, zf, info, budget)
    name = info.filename
    check_zip_directory(p, name, raw[-EOCD_SEARCH:])
    try:
        inner = zipfile.ZipFile(io.BytesIO(raw))
    except zipfile.BadZipFile:
        raise RunFileError(f"{p}: damaged run file ({name} is not a valid .npz)") from None
    out: dict[str, np.ndarray] = {}
    left = budget
    with inner:
        infos = inner.infolist()
        if len(infos) > MAX_MEMBERS:
            raise RunFileError(f"{p}: damaged run file ({name} has {len(infos)} members)")
        # sizes declared by the zip are not trusted: each .npy header is checked against
        # the config and the budget left before a byte of its data is read
        for entry in infos:
            check_zip_entry(p, entry, name)
            key = entry.filename[:-4] if entry.filename.endswith(".npy") else entry.filename
            arr = read_npy(p, name, key, inner, entry, left, max_rows.get(key))
            left -= arr.nbytes
            out[key] = arr
    for key in required:
        if key not in out:
            raise RunFileError(f"{p}: damaged run file ({name} has no array {key!r})")
    return out


def read_npy(
    p: Path,
    name: str,
    key: str,
    inner: zipfile.ZipFile,
    entry: zipfile.ZipInfo,
    left: int,
    max_rows: int | None,
) -> np.ndarray:
    """One .npy: its header (dtype, shape) is checked before its data are read."""
    where = f"{name}:{key}"
    try:
        with inner.open(entry) as f:
            version = np.lib.format.read_magic(f)
            if version == (1, 0):
                shape, fortran, dtype = np.lib.format.read_array_header_1_0(f)
            elif version == (2, 0):
                shape, fortran, dtype = np.lib.format.read_array_header_2_0(f)
            else:
                raise ValueError(f"unsupported .npy version {version}")
            if dtype.hasobject or dtype.kind not in "biuf":
                raise RunFileError(f"{p}: damaged run file ({where} has non-numeric dtype {dtype})")
            if any(not isinstance(n, int) or n < 0 for n in shape):
                raise ValueError(f"bad shape {shape}")
            if max_rows is not None and shape and shape[0] > max_rows:
                raise RunFileError(
                    f"{p}: damaged run file ({where} has {shape[0]:,} points; its config "
                    f"allows at most {max_rows:,} (data.n))"
                )
            count = math.prod(shape)
            nbytes = count * dtype.itemsize
            if nbytes > left:
                raise RunFileError(
                    f"{p}: damaged run file ({where} declares {limits.human_bytes(nbytes)} "
                    f"of data, more than the {limits.human_bytes(left)} a run may hold)"
                )
            data = f.read(nbytes + 1)
    except RunFileError:
        raise
    except (zipfile.BadZipFile, EOFError, OSError, ValueError, zlib.error, SyntaxError) as e:
        raise RunFileError(f"{p}: damaged run file ({where}: {first_line(e)})") from None
    if len(data) != nbytes:
        raise RunFileError(
            f"{p}: damaged run file ({where} holds {len(data)} bytes, its header says {nbytes})"
        )
    arr = np.frombuffer(data, dtype=dtype, count=count) if count else np.empty(0, dtype)
    return arr.reshape(shape, order="F" if fortran else "C")


def shape_error(p: Path, what: str, got: tuple[int, ...], want: str) -> RunFileError:
    return RunFileError(f"{p}: damaged run file ({what} has shape {got}, expected {want})")
