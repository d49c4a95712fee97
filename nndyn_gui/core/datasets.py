"""The 2-D data sets the networks learn, all inside [-1, 1]^2, with K = 2..6 classes.

Everything is drawn from one `numpy.random.default_rng(cfg.seed)`, so a `DataConfig`
alone reproduces a data set bit for bit (a run file only needs the config, and two
users comparing results see the same points).

The nine synthetic distributions (their noise convention, their K classes) are
core/distributions.py; this module makes data sets of them, reads a user's CSV file, and
knows the loop the topology view draws.
"""

from __future__ import annotations

import csv
import io
import math
import re
import threading
import warnings
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path

import numpy as np

from nndyn_gui.core.config import MAX_CLASSES, DataConfig
from nndyn_gui.core.distributions import ARTICLE_GAP, RING_R0, SAMPLERS, nested_bands, polar
from nndyn_gui.core.io import files, limits
from nndyn_gui.core.types import Dataset

MIN_CSV_POINTS = 4


class DataError(ValueError):
    """Bad data-set input (CSV content, unknown set); the message is one line for the user."""


# ---------------------------------------------------------------------- CSV
# Why the CSV reader looks like this: a user's file may hold millions of rows (only
# data.n <= 100 000 of them are used, but the rescaling needs them all), and the window
# reads it whenever a data parameter changes. So the file is read once per
# (path, size, mtime) and cached; it is parsed in chunks by numpy's C parser with a
# strict per-line Python parser only as the fallback that names the bad line; its size
# is checked before it is opened (MAX_CSV_BYTES; /dev/zero and pipes are refused).
CSV_CHUNK_BYTES = limits.MIB  # numpy holds the GIL per chunk: keep the window's pauses short
_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?", re.ASCII)
_NON_FINITE = re.compile(r"[+-]?(?:inf|infinity|nan)", re.ASCII | re.IGNORECASE)
_CSV_CACHE: OrderedDict[tuple[str, int, int], tuple[np.ndarray, np.ndarray]] = OrderedDict()
_CSV_CACHE_SIZE = 2
_CSV_LOCK = threading.Lock()
CsvProgress = Callable[[float], None]


def _csv_fail(path: Path, msg: str) -> DataError:
    return DataError(f"{path.name}: {msg}")


def _parse_float(path: Path, lineno: int, col: str, raw: str) -> float:
    """One value of the strict parser: ASCII decimal notation only (no 1_000, no ١)."""
    text = raw.strip()
    if _NON_FINITE.fullmatch(text):
        raise _csv_fail(path, f"line {lineno}, column {col}: {text!r} is not a finite number")
    if not _NUMBER.fullmatch(text):
        raise _csv_fail(path, f"line {lineno}, column {col}: {text!r} is not a number")
    v = float(text)
    if not math.isfinite(v):
        raise _csv_fail(path, f"line {lineno}, column {col}: {text!r} is not a finite number")
    return v


def csv_cache_clear() -> None:
    """Forget every parsed CSV file (tests; frees the memory of a big file)."""
    with _CSV_LOCK:
        _CSV_CACHE.clear()


def load_csv(
    path: str | Path, progress: CsvProgress | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Read a user's `x1,x2,label` CSV and rescale it into [-1, 1]^2.

    Format (chosen so spreadsheet exports just work): comma separated, UTF-8 (a BOM is
    fine); the first non-blank line is a header that must name the columns `x1`, `x2` and
    `label` (any order, case-insensitive); other columns are ignored; blank lines and lines
    starting with `#` are skipped; labels are classes 0..5 (`1.0` is accepted; at least
    two different ones; for data.classes = K the largest label must be K-1); numbers are
    plain ASCII decimals (`1.5`, `-2e-3`). The points are shifted to centre their bounding
    box and divided by the larger half-range of the two axes, so shapes keep their aspect
    ratio and the longer axis spans exactly [-1, 1]. Every problem raises DataError with a
    one-line message naming the line. The file is parsed once per (path, size, mtime);
    the arrays returned are shared and read-only. `progress(fraction)` follows the parse.
    """
    p = Path(path)
    try:
        size = limits.check_regular_file(p, limits.MAX_CSV_BYTES, "CSV file")
        st = p.stat()
    except FileNotFoundError:
        raise _csv_fail(p, "file not found") from None
    except IsADirectoryError:
        raise _csv_fail(p, "is a folder, not a CSV file") from None
    except limits.LimitError as e:
        raise _csv_fail(p, str(e)) from None
    except OSError as e:
        raise _csv_fail(p, f"cannot read the file ({e.strerror or e})") from None
    key = (str(p.resolve()), int(st.st_size), int(st.st_mtime_ns))
    with _CSV_LOCK:  # one parse per file, also when two threads ask at once
        hit = _CSV_CACHE.get(key)
        if hit is not None:
            _CSV_CACHE.move_to_end(key)
            if progress is not None:
                progress(1.0)
            return hit
        try:
            x, y = _read_csv(p, size, progress)
        except MemoryError:
            raise _csv_fail(p, "too large to load into memory") from None
        x.setflags(write=False)
        y.setflags(write=False)
        _CSV_CACHE[key] = (x, y)
        while len(_CSV_CACHE) > _CSV_CACHE_SIZE:
            _CSV_CACHE.popitem(last=False)
        return x, y


class _CsvReader:
    """Chunked parse: header first, then numpy's loadtxt per chunk, strict fallback."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.header: dict[str, int] | None = None
        self.xs: list[np.ndarray] = []
        self.ys: list[np.ndarray] = []

    def feed(self, chunk: bytes, first_line: int) -> None:
        """Parse whole lines `chunk` starting at line number `first_line`."""
        try:
            text = chunk.decode("utf-8")
        except UnicodeDecodeError:
            raise _csv_fail(self.path, "not a UTF-8 text file") from None
        if "\x00" in text:
            raise _csv_fail(self.path, "not a readable CSV file (it contains NUL bytes)")
        if self.header is None:
            lines = text.splitlines(keepends=True)
            for i, line in enumerate(lines):
                if self._is_header(line, first_line + i):
                    text = "".join(lines[i + 1 :])
                    first_line += i + 1
                    break
            else:
                return
        assert self.header is not None
        if text.strip():
            x, y = self._fast(text)
            if x is None or y is None:
                x, y = self._strict(text, first_line)
            self.xs.append(x)
            self.ys.append(y)

    def _is_header(self, line: str, lineno: int) -> bool:
        if not line.strip() or line.lstrip().startswith("#"):
            return False
        try:
            row = next(csv.reader([line.rstrip("\r\n")], strict=True), [])
        except csv.Error as e:
            raise _csv_fail(self.path, f"line {lineno}: not a readable CSV line ({e})") from None
        names = [c.strip().lower() for c in row]
        for col in ("x1", "x2", "label"):
            if col not in names:
                raise _csv_fail(
                    self.path,
                    f"line {lineno}: missing column {col!r} (the header must name x1, x2, label)",
                )
        self.header = {col: names.index(col) for col in ("x1", "x2", "label")}
        return True

    def _fast(self, text: str) -> tuple[np.ndarray | None, np.ndarray | None]:
        """numpy's C parser; None when anything is off (the strict parser then says what)."""
        assert self.header is not None
        cols = (self.header["x1"], self.header["x2"], self.header["label"])
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                arr = np.loadtxt(
                    io.StringIO(text),
                    delimiter=",",
                    usecols=cols,
                    comments="#",
                    dtype=np.float64,
                    ndmin=2,
                )
        except ValueError:
            return None, None
        lab = arr[:, 2]
        whole = (lab >= 0.0) & (lab < MAX_CLASSES) & (lab == np.floor(lab))
        if not (np.isfinite(arr[:, :2]).all() and whole.all()):
            return None, None
        return arr[:, :2].copy(), lab.astype(np.int64)

    def _strict(self, text: str, first_line: int) -> tuple[np.ndarray, np.ndarray]:
        """Line by line, ASCII numbers only; the first problem names its line."""
        assert self.header is not None
        p, h = self.path, self.header
        width = max(h.values()) + 1
        xs: list[tuple[float, float]] = []
        ys: list[int] = []
        for lineno, line in enumerate(text.splitlines(), start=first_line):
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            try:
                row = next(csv.reader([line], strict=True), [])
            except csv.Error:
                raise _csv_fail(
                    p, f"line {lineno}: a quoted value is not closed on its line"
                ) from None
            if len(row) < width:
                raise _csv_fail(
                    p, f"line {lineno}: expected at least {width} values, found {len(row)}"
                )
            a = _parse_float(p, lineno, "x1", row[h["x1"]])
            b = _parse_float(p, lineno, "x2", row[h["x2"]])
            lab = _parse_float(p, lineno, "label", row[h["label"]])
            if not (0.0 <= lab < MAX_CLASSES and lab == math.floor(lab)):
                raise _csv_fail(
                    p,
                    f"line {lineno}, column label: {row[h['label']].strip()!r} is not a class "
                    f"label 0..{MAX_CLASSES - 1}",
                )
            xs.append((a, b))
            ys.append(int(lab))
        return np.asarray(xs, dtype=np.float64).reshape(-1, 2), np.asarray(ys, dtype=np.int64)


def _read_csv(p: Path, size: int, progress: CsvProgress | None) -> tuple[np.ndarray, np.ndarray]:
    reader = _CsvReader(p)
    line = 1
    done = 0
    carry = b""
    try:
        fh = open(p, "rb")  # noqa: SIM115 - closed below
    except OSError as e:
        raise _csv_fail(p, f"cannot read the file ({e.strerror or e})") from None
    with fh:
        while True:
            block = fh.read(CSV_CHUNK_BYTES)
            done += len(block)
            if done > limits.MAX_CSV_BYTES:
                raise _csv_fail(p, "the file grew while it was read")
            if done == len(block) and block.startswith(b"\xef\xbb\xbf"):
                block = block[3:]
            buf = carry + block
            cut = len(buf) if not block else buf.rfind(b"\n") + 1
            if cut == 0 and block:  # no line end yet: read on
                if len(buf) > limits.MAX_CSV_LINE_BYTES:  # a one-line 200 MB file: 3.5 GB
                    raise _csv_fail(
                        p,
                        f"line {line} is longer than "
                        f"{limits.human_bytes(limits.MAX_CSV_LINE_BYTES)}; "
                        "a CSV file has one point per line",
                    )
                carry = buf
                continue
            chunk, carry = buf[:cut], buf[cut:]
            reader.feed(chunk, line)
            line += chunk.count(b"\n")
            if progress is not None and size:
                progress(min(1.0, done / size))
            if not block:
                break
    if reader.header is None:
        raise _csv_fail(p, "the file is empty")
    x = np.concatenate(reader.xs) if reader.xs else np.zeros((0, 2))
    y = np.concatenate(reader.ys) if reader.ys else np.zeros(0, dtype=np.int64)
    reader.xs.clear()
    reader.ys.clear()
    if len(y) < MIN_CSV_POINTS:
        raise _csv_fail(p, f"only {len(y)} data rows, need at least {MIN_CSV_POINTS}")
    if y.min() == y.max():
        raise _csv_fail(p, f"all labels are {int(y[0])}; at least two classes are needed")
    return _rescale(p, x), y


def _rescale(p: Path, x: np.ndarray) -> np.ndarray:
    """Centre the bounding box, divide by the larger half-range: the box becomes [-1, 1]."""
    lo, hi = x.min(axis=0), x.max(axis=0)
    with np.errstate(over="ignore"):
        span = hi - lo
    if not np.isfinite(span).all():  # e.g. -1e308 .. 1e308: scale first, then centre
        scale = float(np.max(np.abs(np.concatenate([lo, hi]))))
        x, lo, hi = x / scale, lo / scale, hi / scale
        span = hi - lo
    half = float(np.max(span)) / 2.0
    if half == 0.0:
        raise _csv_fail(p, "all points are identical")
    x = x - (lo + hi) / 2.0  # the only copy: millions of rows stay cheap
    x /= half
    return np.clip(x, -1.0, 1.0, out=x)


def csv_classes(path: str | Path) -> int:
    """How many classes a CSV file's labels ask for: its largest label + 1 (K)."""
    _x, y = load_csv(path)
    return int(y.max()) + 1


def _csv_for(cfg: DataConfig) -> tuple[np.ndarray, np.ndarray]:
    """The CSV's points, refused unless its largest label is K-1 for data.classes = K."""
    x, y = load_csv(cfg.csv_path)
    k = int(y.max()) + 1
    if k != cfg.classes:
        raise DataError(
            f"{Path(cfg.csv_path).name}: the labels are 0..{k - 1} ({k} classes) but "
            f"data.classes is {cfg.classes}: set data.classes to {k}"
        )
    return x, y


# ---------------------------------------------------------------------- public API
DRAWN_NOTE = "drawn points are kept in the run file they were saved in (open it)"


def _sample(cfg: DataConfig, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    if cfg.name == "drawn":
        raise DataError(f"data set 'drawn' cannot be made again: {DRAWN_NOTE}")
    if cfg.name == "csv":
        x, y = _csv_for(cfg)
        idx = rng.permutation(len(y))[: min(n, len(y))]
        return x[idx], y[idx]
    try:
        sampler = SAMPLERS[cfg.name]
    except KeyError:
        raise DataError(f"unknown data set {cfg.name!r}") from None
    return sampler(rng, n, cfg)


def make_dataset(cfg: DataConfig) -> Dataset:
    """Sample cfg.n points and split off round(n * test_fraction) as a shuffled test set.

    Deterministic in the whole DataConfig; for csv all rows are used when n >= rows,
    else a seeded random subset of n rows. At least one training point is always kept.
    """
    rng = np.random.default_rng(cfg.seed)
    x, y = _sample(cfg, cfg.n, rng)
    m = len(y)
    perm = rng.permutation(m)
    x, y = x[perm].astype(np.float64), y[perm].astype(np.int64)
    n_test = min(round(m * cfg.test_fraction), m - 1)
    n_train = m - n_test
    return Dataset(
        x_train=x[:n_train].copy(),
        y_train=y[:n_train].copy(),
        x_test=x[n_train:].copy(),
        y_test=y[n_train:].copy(),
        name=cfg.name,
    )


def dense_sample(cfg: DataConfig, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """A fresh sample of n points from cfg's distribution (the csv data itself for csv).

    Accuracy on such a sample measures what the net learned about the *distribution*,
    not about the finitely many training points.
    """
    if cfg.name == "csv":
        return _csv_for(cfg)
    x, y = _sample(cfg, n, np.random.default_rng(seed))
    return x.astype(np.float64), y.astype(np.int64)


def drawn_dataset(x: np.ndarray, y: np.ndarray) -> tuple[Dataset, DataConfig]:
    """Points drawn by hand as a data set: all of them train (a handful of points split
    into train and test would leave either side arbitrary), and its DataConfig, named
    "drawn", which `make_dataset` never regenerates (the run file holds the points).
    K is the highest drawn label + 1 (at least 2): drawing a class 2 makes three classes."""
    x = np.clip(np.asarray(x, dtype=np.float64).reshape(-1, 2), -1.0, 1.0)
    y = np.asarray(y, dtype=np.int64).reshape(-1)
    if len(y) and not (int(y.min()) >= 0 and int(y.max()) < MAX_CLASSES):
        raise DataError(f"drawn labels must be 0..{MAX_CLASSES - 1}")
    k = max(2, int(y.max()) + 1) if len(y) else 2  # the drawn classes decide K
    data = DataConfig(name="drawn", n=max(20, len(y)), test_fraction=0.0, classes=k)
    ds = Dataset(x.copy(), y.copy(), np.zeros((0, 2)), np.zeros(0, dtype=np.int64), "drawn")
    return ds, data


def save_csv(path: str | Path, x: np.ndarray, y: np.ndarray) -> None:
    """Write points as CSV with the header x1,x2,label (what `load_csv` reads; note that
    the reader centres and scales the points to fill [-1, 1]^2). Atomic: a full disk
    raises OSError and leaves an old file as it was (`core.io.files.write_bytes`)."""
    xs = np.asarray(x, dtype=np.float64).reshape(-1, 2).tolist()
    rows = [f"{a!r},{b!r},{int(c)}" for (a, b), c in zip(xs, np.asarray(y).tolist(), strict=True)]
    text = "x1,x2,label\n" + "".join(r + "\n" for r in rows)
    try:
        files.write_bytes(path, text.encode("utf-8"))
    except limits.LimitError as e:  # a device or FIFO there: never replaced
        raise OSError(f"cannot write {path}: {e}") from None


def _is_ring(cfg: DataConfig) -> bool:
    return cfg.name in ("ring", "noisy_ring", "nested_rings")


def loop_radius(cfg: DataConfig) -> float | None:
    """Radius of `outer_loop`: 0.8 for noisy_ring and the article ring, else annulus middle
    (nested rings: the middle of the first annulus, the class-1 band around the disk)."""
    if cfg.name == "nested_rings":
        lo, hi = nested_bands(cfg)[1]
        return 0.5 * (lo + hi)
    if cfg.name == "noisy_ring":
        return 0.8
    if cfg.name == "ring":
        if abs(cfg.gap - ARTICLE_GAP) < 1e-9:
            return 0.8
        return (RING_R0 + cfg.gap + 1.0) / 2.0
    return None


def outer_loop(cfg: DataConfig, n: int = 2000) -> np.ndarray | None:
    """n points evenly spaced on a circle inside the outer class, or None without one.

    The loop is closed implicitly (last point connects to the first; the first point is
    not repeated). A continuous map of the plane cannot pull such a loop off the inner
    class without tearing it, which is what the topology view demonstrates.
    """
    r = loop_radius(cfg)
    if r is None:
        return None
    theta = 2.0 * np.pi * np.arange(n) / n
    return polar(np.full(n, r), theta)


def inner_point(cfg: DataConfig) -> np.ndarray | None:
    """The point the outer loop encircles: the centre (0, 0) for ring-like sets."""
    return np.zeros(2) if _is_ring(cfg) else None
