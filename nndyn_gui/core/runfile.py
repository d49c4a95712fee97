"""Save and load a whole run (config, data, snapshots) as one `.nndyn` file.

A `.nndyn` file is a plain zip of JSON and `.npz` members (docs/file-format.md), so
anyone can read a run with numpy alone and recompute the flow. Two promises shape this
module:
- saving is atomic: the run is written to a temporary file in the target folder and
  moved over the old file only when complete, so a crash or a full disk never leaves a
  half-written or destroyed run behind;
- loading a damaged, truncated, foreign or future file raises `RunFileError` with a
  one-line message and nothing else, so the UI and the CLI can show it as is.
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import os
import platform
import sys
import tempfile
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from nndyn_gui.core.config import ConfigError, RunConfig
from nndyn_gui.core.types import Dataset, NetWeights, Run, Snapshot, TrainResult

FORMAT_NAME = "nndyn-run"
FORMAT_VERSION = 1
STATUSES = ("new", "finished", "cancelled", "diverged")
MEMBERS = ("manifest.json", "config.json", "data.npz", "snapshots.npz", "status.json")

# Declared uncompressed sizes above these are refused before anything is decompressed
# (zip bombs). The largest legitimate run (200 blocks of width 64, thousands of
# snapshots) is far below MAX_NPZ_BYTES.
MAX_JSON_BYTES = 4 * 2**20
MAX_NPZ_BYTES = 2 * 2**30
MAX_MEMBERS = 64

SNAPSHOT_KEYS = ("steps", "loss", "train_acc", "test_acc", "elapsed", "A", "b", "w", "c")
DATA_KEYS = ("x_train", "y_train", "x_test", "y_test")


class RunFileError(Exception):
    """A run file cannot be written or read; the message is one line, fit for the user."""


# ---------------------------------------------------------------------- building runs
def current_versions() -> dict[str, str]:
    """Versions of the programs in this process; TensorFlow only if already imported."""
    from nndyn_gui import __version__

    versions = {
        "nndyn": __version__,
        "numpy": np.__version__,
        "python": platform.python_version(),
    }
    tf = sys.modules.get("tensorflow")
    tf_version = getattr(tf, "__version__", None) if tf is not None else None
    if isinstance(tf_version, str):
        versions["tensorflow"] = tf_version
    return versions


def make_run(config: RunConfig, dataset: Dataset, result: TrainResult | None = None) -> Run:
    """Bundle a finished (or not yet started) training into a Run ready to save."""
    if result is None:
        return Run(config=config.copy(), dataset=dataset, versions=current_versions())
    return Run(
        config=config.copy(),
        dataset=dataset,
        snapshots=list(result.snapshots),
        status=result.status,
        message=result.message,
        versions={**current_versions(), **result.versions},  # + the worker's TensorFlow
    )


# ---------------------------------------------------------------------- saving
def save_run(run: Run, path: str | os.PathLike[str]) -> None:
    """Write `run` to `path` atomically; on failure the old file is untouched.

    Raises RunFileError (unwritable folder, full disk, inconsistent run, ...).
    """
    target = Path(path)
    folder = target.parent if str(target.parent) else Path(".")
    members = _encode(run)  # inconsistent runs fail here, before touching the disk
    try:
        if target.is_dir():
            raise RunFileError(f"cannot save to {target}: it is a folder")
        if not folder.is_dir():
            raise RunFileError(f"cannot save to {target}: the folder {folder} does not exist")
        fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=folder)
    except OSError as e:
        raise RunFileError(f"cannot save to {target}: {_os_reason(e)}") from None
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as fh:
            with zipfile.ZipFile(fh, "w", compression=zipfile.ZIP_DEFLATED) as zf:
                for name, payload in members:
                    zf.writestr(name, payload)
            fh.flush()
            os.fsync(fh.fileno())
        mode = target.stat().st_mode & 0o777 if target.exists() else 0o644
        os.chmod(tmp, mode)
        os.replace(tmp, target)
    except BaseException as e:
        with contextlib.suppress(OSError):
            tmp.unlink()
        if isinstance(e, OSError):
            raise RunFileError(f"cannot save to {target}: {_os_reason(e)}") from None
        if isinstance(e, Exception):
            raise RunFileError(f"cannot save to {target}: {type(e).__name__}: {e}") from None
        raise  # KeyboardInterrupt etc.: temp file removed, old file intact


def _os_reason(e: OSError) -> str:
    return e.strerror or str(e) or type(e).__name__


def _encode(run: Run) -> list[tuple[str, bytes]]:
    """All members as bytes; checks the run's arrays agree with its config first."""
    cfg = run.config
    try:
        cfg.validate()
    except ConfigError as e:
        raise RunFileError(f"cannot save an invalid config: {e}") from None
    if run.status not in STATUSES:
        raise RunFileError(f"cannot save: unknown status {run.status!r}")
    t, d = cfg.model.depth, cfg.model.width
    ds = run.dataset
    data = {
        "x_train": np.asarray(ds.x_train, dtype=np.float64).reshape(-1, 2),
        "y_train": np.asarray(ds.y_train, dtype=np.int64).reshape(-1),
        "x_test": np.asarray(ds.x_test, dtype=np.float64).reshape(-1, 2),
        "y_test": np.asarray(ds.y_test, dtype=np.int64).reshape(-1),
    }
    snaps = run.snapshots
    for s in snaps:
        wt = s.weights
        if wt.A.shape != (t, d, d) or wt.b.shape != (t, d) or wt.w.shape != (d,):
            raise RunFileError(
                f"cannot save: snapshot at step {s.step} has weights of depth/width "
                f"{wt.A.shape[:2]} but the config says depth {t}, width {d}"
            )
    arrays = {
        "steps": np.array([s.step for s in snaps], dtype=np.int64),
        "loss": np.array([s.loss for s in snaps], dtype=np.float64),
        "train_acc": np.array([s.train_acc for s in snaps], dtype=np.float64),
        "test_acc": np.array([s.test_acc for s in snaps], dtype=np.float64),
        "elapsed": np.array([s.elapsed for s in snaps], dtype=np.float64),
        "steps_per_s": np.array([s.steps_per_s for s in snaps], dtype=np.float64),
        "A": np.array([s.weights.A for s in snaps], dtype=np.float64).reshape(-1, t, d, d),
        "b": np.array([s.weights.b for s in snaps], dtype=np.float64).reshape(-1, t, d),
        "w": np.array([s.weights.w for s in snaps], dtype=np.float64).reshape(-1, d),
        "c": np.array([s.weights.c for s in snaps], dtype=np.float64).reshape(-1),
    }
    versions = {**{str(k): str(v) for k, v in run.versions.items()}, **current_versions()}
    manifest = {
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "program": "nndyn",
        "versions": versions,
        "dataset_name": ds.name,
        "n_snapshots": len(snaps),
    }
    status = {"status": run.status, "message": run.message}
    return [
        ("manifest.json", _json_bytes(manifest)),
        ("config.json", cfg.to_json().encode("utf-8")),
        ("data.npz", _npz_bytes(data)),
        ("snapshots.npz", _npz_bytes(arrays)),
        ("status.json", _json_bytes(status)),
    ]


def _json_bytes(obj: Any) -> bytes:
    return json.dumps(obj, indent=2, sort_keys=True, allow_nan=False).encode("utf-8")


def _npz_bytes(arrays: dict[str, np.ndarray]) -> bytes:
    buf = io.BytesIO()
    np.savez(buf, **arrays)  # type: ignore[arg-type]
    return buf.getvalue()


# ---------------------------------------------------------------------- loading
def load_run(path: str | os.PathLike[str]) -> Run:
    """Read a `.nndyn` file; any problem with it raises RunFileError (one line)."""
    p = Path(path)
    try:
        return _load(p)
    except RunFileError:
        raise
    except MemoryError:
        raise RunFileError(f"{p}: too large to load into memory") from None
    except Exception as e:  # damaged content can surface as almost any error type
        detail = str(e).splitlines()[0] if str(e) else ""
        raise RunFileError(
            f"{p}: damaged or not an nndyn run file ({type(e).__name__}{': ' if detail else ''}"
            f"{detail})"
        ) from None


def _load(p: Path) -> Run:
    if not p.exists():
        raise RunFileError(f"{p}: no such file")
    if p.is_dir():
        raise RunFileError(f"{p}: is a folder, not a run file")
    try:
        raw = p.read_bytes()
    except OSError as e:
        raise RunFileError(f"{p}: cannot read ({_os_reason(e)})") from None
    if not raw:
        raise RunFileError(f"{p}: the file is empty")
    try:
        zf = zipfile.ZipFile(io.BytesIO(raw))
    except zipfile.BadZipFile:
        raise RunFileError(
            f"{p}: not an nndyn run file (not a zip archive, or truncated)"
        ) from None
    with zf:
        infos = zf.infolist()
        if len(infos) > MAX_MEMBERS:
            raise RunFileError(f"{p}: not an nndyn run file ({len(infos)} members)")
        names = {i.filename: i for i in infos}
        if "manifest.json" not in names:
            raise RunFileError(f"{p}: not an nndyn run file (no manifest.json)")
        manifest = _read_json(p, zf, names, "manifest.json")
        _check_manifest(p, manifest)
        for m in MEMBERS:
            if m not in names:
                raise RunFileError(f"{p}: damaged run file (member {m} is missing)")
        config_text = _read_member(p, zf, names["config.json"], MAX_JSON_BYTES)
        try:
            config = RunConfig.from_json(config_text.decode("utf-8"))
        except UnicodeDecodeError:
            raise RunFileError(f"{p}: damaged run file (config.json is not UTF-8)") from None
        except ConfigError as e:
            raise RunFileError(f"{p}: bad config in run file ({e})") from None
        data = _read_npz(p, zf, names["data.npz"], DATA_KEYS)
        snaps = _read_npz(p, zf, names["snapshots.npz"], SNAPSHOT_KEYS)
        status = _read_json(p, zf, names, "status.json")
    dataset = _make_dataset(p, data, manifest)
    snapshots = _make_snapshots(p, snaps, config)
    st = status.get("status")
    msg = status.get("message", "")
    if st not in STATUSES or not isinstance(msg, str):
        raise RunFileError(f"{p}: damaged run file (bad status.json)")
    versions_raw = manifest.get("versions", {})
    versions = (
        {str(k): str(v) for k, v in versions_raw.items()} if isinstance(versions_raw, dict) else {}
    )
    return Run(
        config=config,
        dataset=dataset,
        snapshots=snapshots,
        status=st,
        message=msg,
        versions=versions,
    )


def _check_manifest(p: Path, manifest: dict[str, Any]) -> None:
    if manifest.get("format") != FORMAT_NAME:
        raise RunFileError(f"{p}: not an nndyn run file (format {manifest.get('format')!r})")
    version = manifest.get("format_version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise RunFileError(f"{p}: damaged run file (bad format_version {version!r})")
    if version > FORMAT_VERSION:
        raise RunFileError(
            f"{p}: this file was written by a newer nndyn (format {version}); "
            f"this version reads format {FORMAT_VERSION}"
        )


def _read_member(p: Path, zf: zipfile.ZipFile, info: zipfile.ZipInfo, limit: int) -> bytes:
    if info.file_size > limit:
        raise RunFileError(
            f"{p}: damaged run file ({info.filename} claims {info.file_size} bytes, "
            f"more than the {limit} allowed)"
        )
    try:
        data = zf.read(info)
    except (zipfile.BadZipFile, EOFError, OSError, ValueError) as e:
        raise RunFileError(f"{p}: damaged run file ({info.filename}: {e})") from None
    if len(data) > limit:
        raise RunFileError(f"{p}: damaged run file ({info.filename} is too large)")
    return data


def _read_json(
    p: Path, zf: zipfile.ZipFile, names: dict[str, zipfile.ZipInfo], name: str
) -> dict[str, Any]:
    raw = _read_member(p, zf, names[name], MAX_JSON_BYTES)
    try:
        obj = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        raise RunFileError(f"{p}: damaged run file ({name} is not valid JSON)") from None
    if not isinstance(obj, dict):
        raise RunFileError(f"{p}: damaged run file ({name} is not a JSON object)")
    return obj


def _read_npz(
    p: Path, zf: zipfile.ZipFile, info: zipfile.ZipInfo, required: tuple[str, ...]
) -> dict[str, np.ndarray]:
    """Read the arrays of an inner .npz (no pickles; inner sizes checked before reading)."""
    raw = _read_member(p, zf, info, MAX_NPZ_BYTES)
    name = info.filename
    try:
        inner = zipfile.ZipFile(io.BytesIO(raw))
    except zipfile.BadZipFile:
        raise RunFileError(f"{p}: damaged run file ({name} is not a valid .npz)") from None
    with inner:
        infos = inner.infolist()
        if len(infos) > MAX_MEMBERS or sum(i.file_size for i in infos) > MAX_NPZ_BYTES:
            raise RunFileError(f"{p}: damaged run file ({name} is implausibly large)")
    out: dict[str, np.ndarray] = {}
    with np.load(io.BytesIO(raw), allow_pickle=False) as npz:
        for key in required:
            if key not in npz.files:
                raise RunFileError(f"{p}: damaged run file ({name} has no array {key!r})")
        for key in npz.files:
            arr = npz[key]
            if arr.dtype.kind not in "biuf":
                raise RunFileError(
                    f"{p}: damaged run file ({name}:{key} has non-numeric dtype {arr.dtype})"
                )
            out[key] = arr
    return out


def _shape_error(p: Path, what: str, got: tuple[int, ...], want: str) -> RunFileError:
    return RunFileError(f"{p}: damaged run file ({what} has shape {got}, expected {want})")


def _make_dataset(p: Path, data: dict[str, np.ndarray], manifest: dict[str, Any]) -> Dataset:
    arrays: dict[str, np.ndarray] = {}
    for split in ("train", "test"):
        x, y = data[f"x_{split}"], data[f"y_{split}"]
        if x.ndim != 2 or x.shape[1] != 2:
            raise _shape_error(p, f"x_{split}", x.shape, "(N, 2)")
        if y.shape != (x.shape[0],):
            raise _shape_error(p, f"y_{split}", y.shape, f"({x.shape[0]},)")
        x = x.astype(np.float64)
        if not np.isfinite(x).all():
            raise RunFileError(f"{p}: damaged run file (x_{split} has NaN or Inf)")
        if y.size and not np.isin(y, (0, 1)).all():
            raise RunFileError(f"{p}: damaged run file (y_{split} has labels other than 0/1)")
        arrays[f"x_{split}"] = x
        arrays[f"y_{split}"] = y.astype(np.int64)
    if arrays["x_train"].shape[0] == 0:
        raise RunFileError(f"{p}: damaged run file (no training points)")
    name = manifest.get("dataset_name", "")
    return Dataset(
        x_train=arrays["x_train"],
        y_train=arrays["y_train"],
        x_test=arrays["x_test"],
        y_test=arrays["y_test"],
        name=name if isinstance(name, str) else "",
    )


def _make_snapshots(p: Path, arr: dict[str, np.ndarray], config: RunConfig) -> list[Snapshot]:
    t, d = config.model.depth, config.model.width
    steps = arr["steps"]
    if steps.ndim != 1:
        raise _shape_error(p, "steps", steps.shape, "(S,)")
    n = steps.shape[0]
    want = {
        "loss": (n,),
        "train_acc": (n,),
        "test_acc": (n,),
        "elapsed": (n,),
        "A": (n, t, d, d),
        "b": (n, t, d),
        "w": (n, d),
        "c": (n,),
    }
    if "steps_per_s" in arr:
        want["steps_per_s"] = (n,)
    for key, shape in want.items():
        if arr[key].shape != shape:
            raise _shape_error(p, key, arr[key].shape, str(shape))
    if steps.dtype.kind == "f" and not (np.isfinite(steps).all() and (steps % 1 == 0).all()):
        raise RunFileError(f"{p}: damaged run file (steps are not whole numbers)")
    steps = steps.astype(np.int64)
    if n and (steps.min() < 0 or (np.diff(steps) < 0).any()):
        raise RunFileError(f"{p}: damaged run file (steps are negative or out of order)")
    f = {k: arr[k].astype(np.float64) for k in want}
    for key in ("A", "b", "w", "c"):
        if not np.isfinite(f[key]).all():
            raise RunFileError(f"{p}: damaged run file ({key} has NaN or Inf)")
    sps = f.get("steps_per_s", np.zeros(n))
    out = []
    for i in range(n):
        weights = NetWeights(A=f["A"][i], b=f["b"][i], w=f["w"][i], c=float(f["c"][i]))
        out.append(
            Snapshot(
                step=int(steps[i]),
                loss=float(f["loss"][i]),
                train_acc=float(f["train_acc"][i]),
                test_acc=float(f["test_acc"][i]),
                weights=weights,
                elapsed=_finite_or_zero(float(f["elapsed"][i])),
                steps_per_s=_finite_or_zero(float(sps[i])),
            )
        )
    return out


def _finite_or_zero(v: float) -> float:
    return v if math.isfinite(v) else 0.0
