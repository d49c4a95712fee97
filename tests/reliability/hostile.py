"""Builders of hostile run files: bombs, lying sizes, huge point counts, absurd values.

Each builder returns the bytes of a `.nndyn` file derived from a small valid run, so a
test states only what is hostile about it. Nothing here allocates what the files claim:
bombs are compressed streams of zeros built chunk by chunk.
"""

from __future__ import annotations

import bz2
import io
import struct
import zipfile
import zlib
from pathlib import Path
from typing import Any

import numpy as np

from nndyn_gui.core.io.runfile import save_run
from nndyn_gui.core.types import Run

CHUNK = 16 * 2**20


def run_bytes(run: Run, folder: Path) -> bytes:
    path = folder / "valid-source.nndyn"
    save_run(run, path)
    raw = path.read_bytes()
    path.unlink()
    return raw


def members(raw: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(raw)) as z:
        return {n: z.read(n) for n in z.namelist()}


def npz_arrays(raw: bytes) -> dict[str, np.ndarray]:
    with np.load(io.BytesIO(raw)) as f:
        return {k: f[k] for k in f.files}


def npz(arrays: dict[str, np.ndarray]) -> bytes:
    buf = io.BytesIO()
    np.savez(buf, **arrays)  # type: ignore[arg-type]
    return buf.getvalue()


def zip_of(parts: dict[str, bytes], method: int = zipfile.ZIP_DEFLATED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=method) as z:
        for name, data in parts.items():
            z.writestr(name, data)
    return buf.getvalue()


def with_member(raw: bytes, name: str, data: bytes) -> bytes:
    parts = members(raw)
    parts[name] = data
    return zip_of(parts)


# ---------------------------------------------------------------------- bombs
def _zip_entry(name: str, payload: bytes, method: int, size: int, crc: int) -> tuple[bytes, bytes]:
    """(local header + data, central directory record) of one member, sizes as given."""
    fname = name.encode()
    local = (
        struct.pack(
            "<4s5H3L2H", b"PK\x03\x04", 46, 0, method, 0, 0, crc, len(payload), size, len(fname), 0
        )
        + fname
        + payload
    )
    central = (
        struct.pack(
            "<4s6H3L5H2L",
            b"PK\x01\x02",
            46,
            46,
            0,
            method,
            0,
            0,
            crc,
            len(payload),
            size,
            len(fname),
            0,
            0,
            0,
            0,
            0,
            0,
        )
        + fname
    )
    return local, central


def raw_zip(entries: list[tuple[str, bytes, int, int, int]]) -> bytes:
    """A zip from (name, compressed payload, method, declared size, crc) entries."""
    body: list[bytes] = []
    directory: list[bytes] = []
    offset = 0
    for name, payload, method, size, crc in entries:
        local, central = _zip_entry(name, payload, method, size, crc)
        directory.append(central[:42] + struct.pack("<L", offset) + central[46:])
        body.append(local)
        offset += len(local)
    n = min(len(entries), 0xFFFF)
    cd = b"".join(directory)
    end = struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, n, n, len(cd), offset, 0)
    return b"".join(body) + cd + end


def zeros_bz2(n_bytes: int) -> bytes:
    c = bz2.BZ2Compressor(9)
    parts = [c.compress(bytes(min(CHUNK, n_bytes - i))) for i in range(0, n_bytes, CHUNK)]
    return b"".join(parts) + c.flush()


def zeros_deflate(n_bytes: int) -> bytes:
    c = zlib.compressobj(9, zlib.DEFLATED, -15)  # raw deflate, as zip stores it
    parts = [c.compress(bytes(min(CHUNK, n_bytes - i))) for i in range(0, n_bytes, CHUNK)]
    return b"".join(parts) + c.flush()


def crc_of_zeros(n_bytes: int) -> int:
    crc = 0
    block = bytes(CHUNK)
    for i in range(0, n_bytes, CHUNK):
        crc = zlib.crc32(block[: min(CHUNK, n_bytes - i)], crc)
    return crc


def bomb_run(raw: bytes, member: str, n_bytes: int, method: int, declared: int) -> bytes:
    """`raw` with `member` replaced by `n_bytes` of zeros compressed with `method`
    (bzip2 or deflate) whose size is declared as `declared` bytes."""
    payload = zeros_bz2(n_bytes) if method == zipfile.ZIP_BZIP2 else zeros_deflate(n_bytes)
    entries = []
    for name, data in members(raw).items():
        if name == member:
            entries.append((name, payload, method, declared, crc_of_zeros(n_bytes)))
        else:
            comp = zlib.compressobj(9, zlib.DEFLATED, -15)
            entries.append(
                (
                    name,
                    comp.compress(data) + comp.flush(),
                    zipfile.ZIP_DEFLATED,
                    len(data),
                    zlib.crc32(data),
                )
            )
    return raw_zip(entries)


def npy_header(shape: tuple[int, ...], descr: str = "<f8") -> bytes:
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        buf, {"descr": descr, "fortran_order": False, "shape": shape}
    )
    return buf.getvalue()


def many_points_run(raw: bytes, n_points: int) -> bytes:
    """data.npz whose x_train holds `n_points` points of zeros (deflated: ~1 KB per MB)."""
    arrays = npz_arrays(members(raw)["data.npz"])
    inner_entries = []
    for key, arr in arrays.items():
        if key in ("x_train", "y_train"):
            shape = (n_points, 2) if key == "x_train" else (n_points,)
            descr = "<f8" if key == "x_train" else "<i8"
            head = npy_header(shape, descr)
            n_data = n_points * (16 if key == "x_train" else 8)
            comp = zlib.compressobj(9, zlib.DEFLATED, -15)
            payload = comp.compress(head) + zeros_deflate_tail(comp, n_data)
            crc = zlib.crc32(head)
            block = bytes(CHUNK)
            for i in range(0, n_data, CHUNK):
                crc = zlib.crc32(block[: min(CHUNK, n_data - i)], crc)
            inner_entries.append(
                (f"{key}.npy", payload, zipfile.ZIP_DEFLATED, len(head) + n_data, crc)
            )
        else:
            b = io.BytesIO()
            np.save(b, arr)
            data = b.getvalue()
            inner_entries.append(
                (f"{key}.npy", data, zipfile.ZIP_STORED, len(data), zlib.crc32(data))
            )
    return with_member(raw, "data.npz", raw_zip(inner_entries))


def zeros_deflate_tail(comp: Any, n_bytes: int) -> bytes:
    parts = [comp.compress(bytes(min(CHUNK, n_bytes - i))) for i in range(0, n_bytes, CHUNK)]
    return b"".join(parts) + comp.flush()


def set_flag_bits(raw: bytes, member: str, bits: int) -> bytes:
    """Set general-purpose flag bits (0x1: encrypted) of `member` in both its headers."""
    data = bytearray(raw)
    with zipfile.ZipFile(io.BytesIO(raw)) as z:
        info = z.getinfo(member)
    local = info.header_offset
    flags = struct.unpack_from("<H", data, local + 6)[0] | bits
    struct.pack_into("<H", data, local + 6, flags)
    at = data.find(b"PK\x01\x02")
    name = member.encode()
    while at >= 0:
        n = struct.unpack_from("<H", data, at + 28)[0]
        if bytes(data[at + 46 : at + 46 + n]) == name:
            struct.pack_into("<H", data, at + 8, flags)
            break
        at = data.find(b"PK\x01\x02", at + 4)
    return bytes(data)
