"""Save and load a whole run (config, data, snapshots) as one `.nndyn` file.

A `.nndyn` file is a plain zip of JSON and `.npz` members (docs/file-format.md), so
anyone can read a run with numpy alone and recompute the flow. Two promises shape this
module:
- saving is atomic: the run is written to a temporary file in the target folder and
  moved over the old file only when complete, so a crash or a full disk never leaves a
  half-written or destroyed run behind;
- loading a damaged, truncated, foreign, future or hostile file (zip bomb, /dev/zero,
  40 M points, coordinates of 1e308) raises `RunFileError` with a one-line message and
  nothing else, quickly and without allocating what the file claims, so the UI and
  the CLI can show it as is. The limits are in core.io.limits (docs/reliability.md).

The members are read within their budgets by core/io/run_members.py, and their arrays
checked into a Dataset and Snapshots by core/io/run_arrays.py.
"""

from __future__ import annotations

import contextlib
import glob
import io
import json
import logging
import os
import platform
import sys
import time
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from nndyn_gui.core.config import ConfigError, RunConfig, json_error_reason
from nndyn_gui.core.io import limits, run_arrays, run_members
from nndyn_gui.core.io.files import AtomicWriter, NotRegularError, resolve_target
from nndyn_gui.core.io.limits import LimitError
from nndyn_gui.core.io.run_arrays import DATA_KEYS, SNAPSHOT_KEYS
from nndyn_gui.core.io.run_members import MAX_MEMBERS, NewerFormatError, RunFileError
from nndyn_gui.core.types import Dataset, Run, TrainResult

log = logging.getLogger(__name__)

FORMAT_NAME = "nndyn-run"
# Format 2 adds K > 2 classes (a softmax head: w (S, K, d), c (S, K)); two-class runs are
# still written as format 1, byte for byte what older versions wrote, so they open there.
# Format 3 adds what a format-2 reader cannot take (issue 22): the fixed final time
# (model.hold = "time"), the order seed, the identity activation, nested rings. A run using
# none of them is written as before, without those fields; a format-1/2 file opens with
# h held and the batch order drawn from its one seed (order_seed -1: both seeds equal).
FORMAT_VERSION = 3  # the newest format this version reads
BINARY_FORMAT_VERSION = 1  # what a two-class run is written as
MULTICLASS_FORMAT_VERSION = 2  # what a K-class run is written as
#: fields format 3 added, with the value that means "as before" (None: follows from others)
FORMAT3_FIELDS: dict[str, Any] = {
    "model.hold": "h",
    "model.total_time": None,
    "data.annuli": 2,
    "train.order_seed": -1,
    "data.class_names": "",  # typed class names (issue 21)
}
STATUSES = ("new", "finished", "cancelled", "diverged")
MEMBERS = ("manifest.json", "config.json", "data.npz", "snapshots.npz", "status.json")

# What a member may decompress to (zip bombs): whatever sizes the zip declares, reading
# stops here. Training keeps its snapshots within SNAPSHOT_MEMORY_BYTES (core.io.limits),
# so every run nndyn writes stays below these.
MAX_JSON_BYTES = limits.MAX_JSON_BYTES
# A temporary file next to a run that nobody has written to for this long was left by a
# killed save (kill -9, power cut); the next save to the same file removes it.
STALE_TEMP_S = 600.0


def needs_format3(cfg: RunConfig) -> bool:
    """True when a format-2 reader could not take this config (see FORMAT3_FIELDS)."""
    m, d, t = cfg.model, cfg.data, cfg.train
    return (
        m.hold != "h"
        or m.activation == "identity"
        or d.name == "nested_rings"
        or d.annuli != 2
        or t.order_seed != -1
        or d.class_names != ""
    )


def config_member(cfg: RunConfig) -> tuple[bytes, int]:
    """config.json and the format version to write it as: the oldest that reads it
    (format 1 for two classes, 2 for K, 3 for what issue 22 added)."""
    if needs_format3(cfg):
        return cfg.to_json().encode("utf-8"), FORMAT_VERSION
    d = cfg.to_dict()
    for path in FORMAT3_FIELDS:
        section, name = path.split(".")
        d[section].pop(name, None)
    version = BINARY_FORMAT_VERSION if cfg.data.classes == 2 else MULTICLASS_FORMAT_VERSION
    return json.dumps(d, indent=2, sort_keys=True).encode("utf-8"), version


def load_config_file(path: str | os.PathLike[str]) -> RunConfig:
    """The config in a `.nndyn` run, a JSON config or a preset file (bounded read: never
    /dev/zero or a FIFO); RunFileError "PATH: why" in one line."""
    p = Path(path)
    if p.suffix == ".nndyn":
        return load_run(p).config
    try:
        text = limits.read_bounded(p, limits.MAX_JSON_BYTES, "config file").decode("utf-8")
    except (OSError, LimitError) as e:
        raise _unreadable(p, e, "config file") from None
    except UnicodeDecodeError:
        raise RunFileError(f"{p}: cannot read (not a UTF-8 text file)") from None
    try:
        obj = json.loads(text)
    except (ValueError, RecursionError) as e:
        raise RunFileError(f"{p}: not valid JSON ({json_error_reason(e)})") from None
    if isinstance(obj, dict) and "config" in obj and not {"data", "model", "train"} & set(obj):
        obj = obj["config"]  # a preset file
    try:
        return RunConfig.from_dict(obj)
    except ConfigError as e:
        raise RunFileError(f"{p}: {e}") from None


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

    Raises RunFileError (unwritable folder, full disk, inconsistent run, a device or
    FIFO at `path`, ...). A symbolic link is followed: its target is replaced, the link
    stays. The file is checked whole on disk before it replaces the old one
    (`core.io.files.AtomicWriter`). Temporary files of earlier saves to the same file that
    were killed midway are removed.
    """
    target = Path(path)
    members = _encode(run)  # inconsistent runs fail here, before touching the disk
    try:
        target = resolve_target(target)
        folder = target.parent if str(target.parent) else Path(".")
        if target.is_dir():
            raise RunFileError(f"cannot save to {target}: it is a folder")
        if not folder.is_dir():
            raise RunFileError(f"cannot save to {target}: the folder {folder} does not exist")
        out = AtomicWriter(target, kind=".zip")
    except NotRegularError as e:
        raise RunFileError(f"cannot save to {path}: {e}") from None
    except IsADirectoryError:
        raise RunFileError(f"cannot save to {target}: it is a folder") from None
    except OSError as e:
        raise RunFileError(f"cannot save to {target}: {_os_reason(e)}") from None
    try:
        with out:
            with out.open() as fh:
                with zipfile.ZipFile(fh, "w", compression=zipfile.ZIP_DEFLATED) as zf:
                    for name, payload in members:
                        zf.writestr(name, payload)
                fh.flush()
                size = fh.tell()
            out.commit(expected_size=size)
    except NotRegularError as e:
        raise RunFileError(f"cannot save to {path}: {e}") from None
    except OSError as e:
        raise RunFileError(f"cannot save to {target}: {_os_reason(e)}") from None
    except (zipfile.LargeZipFile, ValueError, OverflowError, MemoryError) as e:
        raise RunFileError(f"cannot save to {target}: {type(e).__name__}: {e}") from None
    remove_stale_temps(target)


def remove_stale_temps(target: str | os.PathLike[str], older_than_s: float = STALE_TEMP_S) -> int:
    """Delete `.NAME.*.tmp` files next to `target` untouched for `older_than_s` seconds.

    save_run writes such a file and renames it over the target; a save killed midway
    (kill -9, power cut) leaves it behind. A save in progress keeps writing, so its
    temp file is never that old. Returns how many files were removed.
    """
    t = Path(target)
    folder = t.parent if str(t.parent) else Path(".")
    now = time.time()
    removed = 0
    with contextlib.suppress(OSError):
        for f in folder.glob(f".{glob.escape(t.name)}.*.tmp"):
            with contextlib.suppress(OSError):
                if f.is_file() and now - f.stat().st_mtime > older_than_s:
                    f.unlink()
                    removed += 1
    return removed


def _os_reason(e: OSError) -> str:
    return e.strerror or str(e) or type(e).__name__


def _unreadable(p: Path, e: OSError | LimitError, what: str) -> RunFileError:
    """One line for a file that cannot be read at all: missing, a folder, a device, too big."""
    if isinstance(e, FileNotFoundError):
        return RunFileError(f"{p}: no such file")
    if isinstance(e, IsADirectoryError):
        return RunFileError(f"{p}: is a folder, not a {what}")
    if isinstance(e, LimitError):
        return RunFileError(f"{p}: {e}")
    return RunFileError(f"{p}: cannot read ({_os_reason(e)})")


def _encode(run: Run) -> list[tuple[str, bytes]]:
    """All members as bytes; checks the run's arrays agree with its config first."""
    cfg = run.config
    try:
        cfg.validate()
    except ConfigError as e:
        raise RunFileError(f"cannot save an invalid config: {e}") from None
    if run.status not in STATUSES:
        raise RunFileError(f"cannot save: unknown status {run.status!r}")
    t, d, k = cfg.model.depth, cfg.model.width, cfg.data.classes
    ds = run.dataset
    n_points = len(ds.x_train) + len(ds.x_test)
    if n_points > cfg.data.n:
        raise RunFileError(
            f"cannot save: the run has {n_points:,} points but its config allows "
            f"{cfg.data.n:,} (data.n)"
        )
    for x in (ds.x_train, ds.x_test):
        if not limits.coords_in_range(np.asarray(x, dtype=np.float64)):
            raise RunFileError(
                f"cannot save: data coordinates beyond ±{limits.MAX_COORD:g} or not finite"
            )
    for y in (ds.y_train, ds.y_test):
        y = np.asarray(y)
        if y.size and not (y.min() >= 0 and y.max() < k):
            raise RunFileError(
                f"cannot save: labels {int(y.min())}..{int(y.max())} but the config has "
                f"{k} classes (data.classes: labels 0..{k - 1})"
            )
    head_w, head_c = run_arrays.head_shapes(d, k)
    data = {
        "x_train": np.asarray(ds.x_train, dtype=np.float64).reshape(-1, 2),
        "y_train": np.asarray(ds.y_train, dtype=np.int64).reshape(-1),
        "x_test": np.asarray(ds.x_test, dtype=np.float64).reshape(-1, 2),
        "y_test": np.asarray(ds.y_test, dtype=np.int64).reshape(-1),
    }
    # a run collected without thinning (or by older code) is thinned to what loads again
    snaps = limits.thin_snapshots(
        run.snapshots, cfg.train.snapshot_every, limits.snapshot_capacity(cfg)
    )
    for s in snaps:
        wt = s.weights
        if wt.A.shape != (t, d, d) or wt.b.shape != (t, d):
            raise RunFileError(
                f"cannot save: snapshot at step {s.step} has weights of depth/width "
                f"{wt.A.shape[:2]} but the config says depth {t}, width {d}"
            )
        if np.shape(wt.w) != head_w or np.shape(wt.c) != head_c:
            raise RunFileError(
                f"cannot save: snapshot at step {s.step} has a head for {wt.classes} classes "
                f"but the config says {k} (data.classes)"
            )
        if not limits.weights_in_range(wt):
            raise RunFileError(
                f"cannot save: snapshot at step {s.step} has weights beyond "
                f"±{limits.MAX_WEIGHT:g} or not finite"
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
        "w": np.array([s.weights.w for s in snaps], dtype=np.float64).reshape(-1, *head_w),
        "c": np.array([s.weights.c for s in snaps], dtype=np.float64).reshape(-1, *head_c),
    }
    versions = {**{str(k): str(v) for k, v in run.versions.items()}, **current_versions()}
    config_json, version = config_member(cfg)
    manifest = {
        "format": FORMAT_NAME,
        "format_version": version,
        "program": "nndyn",
        "versions": versions,
        "dataset_name": ds.name,
        "n_snapshots": len(snaps),
    }
    status: dict[str, Any] = {"status": run.status, "message": run.message}
    if run.tuning:
        status["tuning"] = _tuning_json(run.tuning)
    return [
        ("manifest.json", _json_bytes(manifest)),
        ("config.json", config_json),
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
    """Read a `.nndyn` file; any problem with it raises RunFileError (one line).

    Nothing is trusted before it is checked: the file must be a regular file of at most
    MAX_RUN_FILE_BYTES, members are decompressed with a byte budget (the sizes a zip
    declares are not believed), every array's header is checked against the config
    (point count, depth, width, snapshot memory) before its data are read, and values
    must be finite and within the documented limits (core.io.limits).
    """
    p = Path(path)
    try:
        return _load(p)
    except RunFileError:
        raise
    except MemoryError:
        raise RunFileError(f"{p}: too large to load into memory") from None
    except Exception as e:  # damaged content can surface as almost any error type
        log.info("cannot load %s", p, exc_info=True)  # the user reads the line below
        detail = run_members.first_line(e)
        raise RunFileError(
            f"{p}: damaged or not an nndyn run file ({type(e).__name__}{': ' if detail else ''}"
            f"{detail})"
        ) from None


def _load(p: Path) -> Run:
    try:
        size = limits.check_regular_file(p, limits.MAX_RUN_FILE_BYTES, "run file")
        fh = open(p, "rb")  # noqa: SIM115 - closed below, after the zip
    except (OSError, LimitError) as e:
        raise _unreadable(p, e, "run file") from None
    with fh:
        if size == 0:
            raise RunFileError(f"{p}: the file is empty")
        run_members.check_zip_directory(p, "", run_members.tail(fh, size))
        try:
            zf = zipfile.ZipFile(fh)
        except zipfile.BadZipFile:
            raise RunFileError(
                f"{p}: not an nndyn run file (not a zip archive, or truncated)"
            ) from None
        with zf:
            return _read_members(p, zf)


def _read_members(p: Path, zf: zipfile.ZipFile) -> Run:
    infos = zf.infolist()
    if len(infos) > MAX_MEMBERS:
        raise RunFileError(f"{p}: not an nndyn run file ({len(infos)} members)")
    names = {i.filename: i for i in infos}
    if "manifest.json" not in names:
        raise RunFileError(f"{p}: not an nndyn run file (no manifest.json)")
    manifest = run_members.read_json(p, zf, names, "manifest.json")
    version = _check_manifest(p, manifest)
    for m in MEMBERS:
        if m not in names:
            raise RunFileError(f"{p}: damaged run file (member {m} is missing)")
    config_text = run_members.read_member(p, zf, names["config.json"], MAX_JSON_BYTES)
    try:
        config = RunConfig.from_json(config_text.decode("utf-8"))
    except UnicodeDecodeError:
        raise RunFileError(f"{p}: damaged run file (config.json is not UTF-8)") from None
    except ConfigError as e:
        raise RunFileError(f"{p}: bad config in run file ({e})") from None
    config.title = run_members.clean_text(config.title)
    if version < 2 and config.data.classes != 2:
        raise RunFileError(
            f"{p}: damaged run file (format {version} holds two-class runs only, its config "
            f"says {config.data.classes} classes)"
        )
    data = run_members.read_npz(
        p,
        zf,
        names["data.npz"],
        DATA_KEYS,
        run_arrays.data_budget(config),
        run_arrays.data_rows(config),
    )
    snaps = run_members.read_npz(
        p, zf, names["snapshots.npz"], SNAPSHOT_KEYS, run_arrays.snapshot_budget(), {}
    )
    status = run_members.read_json(p, zf, names, "status.json")
    dataset = run_arrays.checked_dataset(p, data, manifest, config)
    snapshots = run_arrays.checked_snapshots(p, snaps, config)
    st = status.get("status")
    msg = status.get("message", "")
    if st not in STATUSES or not isinstance(msg, str):
        raise RunFileError(f"{p}: damaged run file (bad status.json)")
    versions_raw = manifest.get("versions", {})
    versions = (
        {
            run_members.clean_text(str(k)): run_members.clean_text(str(v))
            for k, v in versions_raw.items()
        }
        if isinstance(versions_raw, dict)
        else {}
    )
    return Run(
        config=config,
        dataset=dataset,
        snapshots=snapshots,
        status=st,
        message=run_members.clean_text(msg),
        versions=versions,
        tuning=_read_tuning(p, status.get("tuning", [])),
    )


MAX_TUNING = 10_000  # live changes a run file may list


def _tuning_json(tuning: list[tuple[int, dict[str, tuple[Any, Any]]]]) -> list[dict[str, Any]]:
    return [
        {"step": int(step), "changes": {str(f): [a, b] for f, (a, b) in changes.items()}}
        for step, changes in tuning
    ]


def _read_tuning(p: Path, raw: Any) -> list[tuple[int, dict[str, tuple[Any, Any]]]]:
    """status.json's "tuning": [{"step": 1200, "changes": {"learning_rate": [0.01, 0.05]}}]."""
    bad = RunFileError(f"{p}: damaged run file (bad tuning list in status.json)")
    if not isinstance(raw, list) or len(raw) > MAX_TUNING:
        raise bad
    out: list[tuple[int, dict[str, tuple[Any, Any]]]] = []
    for item in raw:
        if not isinstance(item, dict) or not isinstance(item.get("changes"), dict):
            raise bad
        step = item.get("step")
        if isinstance(step, bool) or not isinstance(step, int) or not 0 <= step <= 2**53:
            raise bad
        changes: dict[str, tuple[Any, Any]] = {}
        for f, pair in item["changes"].items():
            ok = isinstance(pair, list) and len(pair) == 2
            if not ok or not all(
                isinstance(v, int | float) and not isinstance(v, bool) for v in pair
            ):
                raise bad
            changes[run_members.clean_text(str(f))] = (pair[0], pair[1])
        out.append((step, changes))
    return out


def _check_manifest(p: Path, manifest: dict[str, Any]) -> int:
    """The file's format version, after checking it is an nndyn run this version reads."""
    if manifest.get("format") != FORMAT_NAME:
        raise RunFileError(
            f"{p}: not an nndyn run file (format {run_members.short_repr(manifest.get('format'))})"
        )
    version = manifest.get("format_version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise RunFileError(
            f"{p}: damaged run file (bad format_version {run_members.short_repr(version)})"
        )
    if version > FORMAT_VERSION:
        raise NewerFormatError(
            f"{p}: this file was written by a newer nndyn (format {version}); "
            f"this version reads format {FORMAT_VERSION}"
        )
    return int(version)
