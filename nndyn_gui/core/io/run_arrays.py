"""A run file's arrays made into a Dataset and Snapshots, trusting nothing: every shape,
value and count is checked against the run's config.

Why a module: loading must turn a damaged or hostile `.nndyn` (NaN weights, steps out of
order, labels beyond K, more points than data.n, coordinates of 1e308) into a one-line
`RunFileError`, never into a run the views would choke on. core/io/run_members.py reads
the members within their budgets (the budgets are here: they follow from the config);
core/io/runfile.py says what the members are and writes them.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

from nndyn_gui.core.config import RunConfig
from nndyn_gui.core.io import limits, run_members
from nndyn_gui.core.io.run_members import RunFileError
from nndyn_gui.core.types import Dataset, NetWeights, Snapshot

SNAPSHOT_KEYS = ("steps", "loss", "train_acc", "test_acc", "elapsed", "A", "b", "w", "c")
DATA_KEYS = ("x_train", "y_train", "x_test", "y_test")
_NPZ_SLACK = 64 * 1024  # .npy headers and zip records around the arrays


def head_shapes(d: int, k: int) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """Shapes of one snapshot's head (w, c): ((d,), ()) for two classes, else ((K, d), (K,))."""
    return ((d,), ()) if k == 2 else ((k, d), (k,))


def snapshot_budget() -> int:
    """Most bytes snapshots.npz may decompress to: what training ever keeps, plus headers."""
    return limits.SNAPSHOT_MEMORY_BYTES + _NPZ_SLACK


def data_budget(config: RunConfig) -> int:
    """Most bytes data.npz may decompress to: config.data.n points, plus headers."""
    return config.data.n * (2 * 8 + 8) + _NPZ_SLACK


def data_rows(config: RunConfig) -> dict[str, int]:
    """Most rows each data array may declare: config.data.n points."""
    return dict.fromkeys(DATA_KEYS, config.data.n)


def checked_dataset(
    p: Path, data: dict[str, np.ndarray], manifest: dict[str, Any], config: RunConfig
) -> Dataset:
    """data.npz's arrays as the run's Dataset: (N, 2) finite points within MAX_COORD,
    labels 0..K-1, at least one training point, at most data.n in all."""
    arrays: dict[str, np.ndarray] = {}
    for split in ("train", "test"):
        x, y = data[f"x_{split}"], data[f"y_{split}"]
        if x.ndim != 2 or x.shape[1] != 2:
            raise run_members.shape_error(p, f"x_{split}", x.shape, "(N, 2)")
        if y.shape != (x.shape[0],):
            raise run_members.shape_error(p, f"y_{split}", y.shape, f"({x.shape[0]},)")
        x = x.astype(np.float64)
        if not np.isfinite(x).all():
            raise RunFileError(f"{p}: damaged run file (x_{split} has NaN or Inf)")
        if not limits.coords_in_range(x):
            raise RunFileError(
                f"{p}: damaged run file (x_{split} has coordinates beyond "
                f"±{limits.MAX_COORD:g}; nndyn's data lie in [-1, 1]²)"
            )
        k = config.data.classes
        if y.size and not np.isin(y, np.arange(k)).all():
            raise RunFileError(
                f"{p}: damaged run file (y_{split} has labels other than 0..{k - 1}; its "
                f"config has {k} classes)"
            )
        arrays[f"x_{split}"] = x
        arrays[f"y_{split}"] = y.astype(np.int64)
    if arrays["x_train"].shape[0] == 0:
        raise RunFileError(f"{p}: damaged run file (no training points)")
    total = arrays["x_train"].shape[0] + arrays["x_test"].shape[0]
    if total > config.data.n:
        raise RunFileError(
            f"{p}: damaged run file ({total:,} points; its config allows at most "
            f"{config.data.n:,} (data.n))"
        )
    name = manifest.get("dataset_name", "")
    return Dataset(
        x_train=arrays["x_train"],
        y_train=arrays["y_train"],
        x_test=arrays["x_test"],
        y_test=arrays["y_test"],
        name=run_members.clean_text(name) if isinstance(name, str) else "",
    )


def checked_snapshots(p: Path, arr: dict[str, np.ndarray], config: RunConfig) -> list[Snapshot]:
    """snapshots.npz's arrays as Snapshots: shapes of the config's depth, width and head,
    whole steps in order, finite weights within MAX_WEIGHT."""
    t, d = config.model.depth, config.model.width
    head_w, head_c = head_shapes(d, config.data.classes)
    steps = arr["steps"]
    if steps.ndim != 1:
        raise run_members.shape_error(p, "steps", steps.shape, "(S,)")
    n = steps.shape[0]
    want = {
        "loss": (n,),
        "train_acc": (n,),
        "test_acc": (n,),
        "elapsed": (n,),
        "A": (n, t, d, d),
        "b": (n, t, d),
        "w": (n, *head_w),
        "c": (n, *head_c),
    }
    if "steps_per_s" in arr:
        want["steps_per_s"] = (n,)
    for key, shape in want.items():
        if arr[key].shape != shape:
            raise run_members.shape_error(p, key, arr[key].shape, str(shape))
    with np.errstate(all="ignore"):
        steps_f = steps.astype(np.float64)
    ok = np.isfinite(steps_f).all() and (steps_f % 1 == 0).all()
    if steps.dtype.kind == "f" and not ok:
        raise RunFileError(f"{p}: damaged run file (steps are not whole numbers)")
    if n and (steps_f.min() < 0 or steps_f.max() > limits.MAX_STEP or (np.diff(steps_f) < 0).any()):
        raise RunFileError(f"{p}: damaged run file (steps are negative, huge or out of order)")
    steps = steps_f.astype(np.int64)
    f = {k: arr[k].astype(np.float64) for k in want}
    for key in ("A", "b", "w", "c"):
        if not np.isfinite(f[key]).all():
            raise RunFileError(f"{p}: damaged run file ({key} has NaN or Inf)")
        if not np.all(np.abs(f[key]) <= limits.MAX_WEIGHT):
            raise RunFileError(
                f"{p}: damaged run file ({key} has weights beyond ±{limits.MAX_WEIGHT:g})"
            )
    sps = f.get("steps_per_s", np.zeros(n))
    out = []
    for i in range(n):
        c = float(f["c"][i]) if not head_c else np.array(f["c"][i])
        weights = NetWeights(A=f["A"][i], b=f["b"][i], w=f["w"][i], c=c)
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
