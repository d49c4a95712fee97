"""Fuzzed loaders: whatever a user opens, they get one clear error or a valid result.

`RunConfig.from_dict/from_json` (config files, `--set`, presets) and `load_run` (`.nndyn`
files) are the two doors through which outside bytes enter the app. Over 1,000 generated
inputs (deterministic: `derandomize=True`) must end in either a valid object or
ConfigError / RunFileError with a one-line message; never another exception type, and
loading never writes or modifies a file (the folder and the temp dir are watched).
"""

from __future__ import annotations

import dataclasses
import io
import json
import tempfile
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from nndyn_gui.core import config as config_mod
from nndyn_gui.core.config import ConfigError, RunConfig
from nndyn_gui.core.io.run_arrays import DATA_KEYS, SNAPSHOT_KEYS
from nndyn_gui.core.io.runfile import (
    FORMAT_VERSION,
    MEMBERS,
    RunFileError,
    load_run,
    save_run,
)

from . import listing, tiny_run

FUZZ = settings(
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
SECTIONS: dict[str, type] = {
    "data": config_mod.DataConfig,
    "model": config_mod.ModelConfig,
    "train": config_mod.TrainConfig,
}


def fuzz(n: int) -> settings:
    """The shared deterministic settings with `n` generated inputs."""
    return settings(FUZZ, max_examples=n)


FIELD_NAMES = {s: [f.name for f in dataclasses.fields(k)] for s, k in SECTIONS.items()}

# ---------------------------------------------------------------------- strategies
json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=20)
)
json_like = st.recursive(
    json_scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
# Values a config field might plausibly be given: right type, wrong type, edge numbers.
field_values = (
    json_scalars
    | st.sampled_from(config_mod.DATASETS + config_mod.MODEL_KINDS + config_mod.ACTIVATIONS)
    | st.sampled_from([0, 1, 2, 64, 65, 200, 201, 100_000, 1e-4, 1e-6, 10.0, 100.0, -1, 0.5])
    | st.lists(json_scalars, max_size=2)
)


@st.composite
def config_dicts(draw: st.DrawFn) -> dict[str, Any]:
    """Mostly-real field names with arbitrary values: reaches the per-field checks."""
    d: dict[str, Any] = {}
    for section, names in FIELD_NAMES.items():
        if draw(st.booleans()):
            keys = draw(st.lists(st.sampled_from(names), max_size=4, unique=True))
            sub = {k: draw(field_values) for k in keys}
            if draw(st.integers(0, 9)) == 0:
                sub[draw(st.text(max_size=6))] = draw(json_scalars)  # an unknown key
            d[section] = sub if draw(st.integers(0, 19)) else draw(json_like)
    if draw(st.booleans()):
        d["title"] = draw(json_scalars)
    if draw(st.integers(0, 14)) == 0:
        d[draw(st.text(max_size=6))] = draw(json_like)
    return d


def _check_config_outcome(fn: Any, arg: Any) -> None:
    """`fn(arg)` returns a valid config or raises a one-line ConfigError naming a field."""
    try:
        cfg = fn(arg)
    except ConfigError as e:
        msg = str(e)
        assert isinstance(e.field_path, str)  # may be "" when the user's key is empty
        assert msg.startswith(e.field_path)
        # one line, apart from newlines the user put into a key themselves
        reason = msg[len(e.field_path) :]
        assert reason.startswith(": ") and len(reason) > 2 and "\n" not in reason, msg
        return
    assert isinstance(cfg, RunConfig)
    cfg.validate()
    assert RunConfig.from_json(cfg.to_json()) == cfg  # what loads, saves and loads again


# ---------------------------------------------------------------------- RunConfig
@fuzz(250)
@given(json_like)
def test_config_from_dict_on_arbitrary_json_like_data(data: Any) -> None:
    _check_config_outcome(RunConfig.from_dict, data)


@fuzz(250)
@given(config_dicts())
def test_config_from_dict_on_plausible_field_values(data: dict[str, Any]) -> None:
    _check_config_outcome(RunConfig.from_dict, data)


@fuzz(150)
@given(st.text(max_size=200))
@example("")
@example("{")
@example("[" * 100_000)  # deep nesting: RecursionError inside json
@example('{"data": {"n": NaN}}')
@example('{"model": {"h": Infinity}}')
@example('{"model": {"h": 1e400}}')
@example('"\\ud800"')
def test_config_from_json_on_random_text(text: str) -> None:
    _check_config_outcome(RunConfig.from_json, text)


@fuzz(100)
@given(config_dicts(), st.data())
def test_config_from_json_on_damaged_json_text(data: dict[str, Any], draw: st.DataObject) -> None:
    """A real-looking config file with a few characters cut, replaced or inserted."""
    text = json.dumps(data, allow_nan=True)
    for _ in range(draw.draw(st.integers(0, 3))):
        i = draw.draw(st.integers(0, len(text)))
        op = draw.draw(st.sampled_from(["cut", "replace", "insert"]))
        ch = draw.draw(st.sampled_from(list('{}[]",:0e-.\\ ntfx')))
        if op == "cut":
            text = text[:i] + text[i + 1 :]
        elif op == "replace":
            text = text[:i] + ch + text[i + 1 :]
        else:
            text = text[:i] + ch + text[i:]
    _check_config_outcome(RunConfig.from_json, text)


@fuzz(100)
@given(
    st.one_of(
        st.text(max_size=40),
        st.builds(
            lambda s, n, v: f"{s}.{n}={v}",
            st.sampled_from(list(FIELD_NAMES)),
            st.sampled_from(sorted({n for ns in FIELD_NAMES.values() for n in ns})),
            st.text(max_size=12) | st.floats().map(repr) | st.integers().map(str),
        ),
    )
)
def test_config_with_set_on_random_assignments(assignment: str) -> None:
    """`--set key=value` as a user might mistype it."""
    _check_config_outcome(RunConfig().with_set, assignment)


def test_config_from_json_with_a_4301_digit_number_is_a_config_error() -> None:
    _check_config_outcome(RunConfig.from_json, '{"data": {"n": ' + "9" * 4301 + "}}")


def test_config_float_field_given_a_huge_integer_is_a_config_error() -> None:
    _check_config_outcome(RunConfig.from_json, '{"model": {"h": 1' + "0" * 400 + "}}")


def test_config_from_dict_with_non_string_keys_is_a_config_error() -> None:
    _check_config_outcome(RunConfig.from_dict, {1: {}, "extra": {}})


# ---------------------------------------------------------------------- run files
@pytest.fixture(scope="module")
def watched(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A folder holding the fuzzed file; tempfile's default dir is redirected into it."""
    root = tmp_path_factory.mktemp("fuzz")
    (root / "tmp").mkdir()
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(tempfile, "tempdir", str(root / "tmp"))
        yield root


@pytest.fixture(scope="module")
def valid_bytes(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    path = tmp_path_factory.mktemp("valid") / "valid.nndyn"
    save_run(tiny_run(), path)
    return path.read_bytes()


def _members(raw: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(raw)) as z:
        return {n: z.read(n) for n in z.namelist()}


def _zip(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as z:
        for name, data in members.items():
            z.writestr(name, data)
    return buf.getvalue()


def _npz(arrays: dict[str, np.ndarray]) -> bytes:
    buf = io.BytesIO()
    np.savez(buf, **arrays)  # type: ignore[arg-type]
    return buf.getvalue()


def _load_outcome(folder: Path, raw: bytes) -> str:
    """Load `raw` from a file; return 'ok' or the error; assert nothing else was touched."""
    path = folder / "fuzzed.nndyn"
    path.write_bytes(raw)
    before = listing(folder)
    try:
        run = load_run(path)
    except RunFileError as e:
        msg = str(e)
        assert msg and "\n" not in msg, msg
        assert path.name in msg, msg  # the user sees which file is bad
        outcome = msg
    else:
        assert run.config.validate() is run.config
        for s in run.snapshots:
            assert s.weights.is_finite()
        outcome = "ok"
    assert listing(folder) == before, "loading wrote or modified a file"
    assert path.read_bytes() == raw
    return outcome


@fuzz(100)
@given(st.binary(max_size=2048) | st.binary(max_size=64).map(lambda b: b"PK\x03\x04" + b))
def test_run_file_of_random_bytes(watched: Path, raw: bytes) -> None:
    assert _load_outcome(watched, raw) != "ok" or raw == b""


def test_run_file_truncated_every_7_bytes(watched: Path, valid_bytes: bytes) -> None:
    assert _load_outcome(watched, valid_bytes) == "ok"
    for n in range(0, len(valid_bytes), 7):
        assert _load_outcome(watched, valid_bytes[:n]) != "ok", n


@fuzz(150)
@given(st.lists(st.tuples(st.integers(0, 10**9), st.integers(0, 7)), min_size=1, max_size=4))
def test_run_file_with_flipped_bits(
    watched: Path, valid_bytes: bytes, flips: list[tuple[int, int]]
) -> None:
    raw = bytearray(valid_bytes)
    for pos, bit in flips:
        raw[pos % len(raw)] ^= 1 << bit
    _load_outcome(watched, bytes(raw))  # may still load (a flipped float), never crash


member_names = st.sampled_from([*MEMBERS, "extra.bin", "../evil.json", "dir/", "A" * 200])


@fuzz(100)
@given(st.data())
def test_zip_with_wrong_members(watched: Path, valid_bytes: bytes, data: st.DataObject) -> None:
    """Members dropped, duplicated, swapped or replaced by random JSON / bytes."""
    real = _members(valid_bytes)
    names = data.draw(st.lists(member_names, max_size=7))
    members: dict[str, bytes] = {}
    for name in names:
        kind = data.draw(st.sampled_from(["real", "other", "json", "bytes"]))
        if kind == "real" and name in real:
            members[name] = real[name]
        elif kind == "other":
            members[name] = real[data.draw(st.sampled_from(sorted(real)))]
        elif kind == "json":
            members[name] = json.dumps(data.draw(json_like)).encode()
        else:
            members[name] = data.draw(st.binary(max_size=64))
    _load_outcome(watched, _zip(members))


dtypes = st.sampled_from(
    ["<f8", "<f4", "<f2", "<i8", "<i1", "<u8", "?", "<c16", "<U3", "S2", "<M8[s]"]
)


@fuzz(100)
@given(st.data())
def test_npz_arrays_with_wrong_shapes_and_types(
    watched: Path, valid_bytes: bytes, data: st.DataObject
) -> None:
    """One array of data.npz / snapshots.npz replaced by one of a random shape and dtype."""
    members = _members(valid_bytes)
    member, keys = data.draw(
        st.sampled_from([("data.npz", DATA_KEYS), ("snapshots.npz", SNAPSHOT_KEYS)])
    )
    with np.load(io.BytesIO(members[member])) as f:
        arrays = {k: f[k] for k in f.files}
    key = data.draw(st.sampled_from(keys))
    if data.draw(st.integers(0, 9)) == 0:
        del arrays[key]
    else:
        dtype = np.dtype(data.draw(dtypes))
        shape = data.draw(hnp.array_shapes(min_dims=0, max_dims=4, min_side=0, max_side=5))
        elements = None
        if dtype.kind == "f":
            elements = st.floats(width=8 * dtype.itemsize)  # type: ignore[arg-type]
        arrays[key] = data.draw(hnp.arrays(dtype, shape, elements=elements))
    members[member] = _npz(arrays)
    _load_outcome(watched, _zip(members))


@fuzz(60)
@given(st.data())
def test_manifest_and_status_with_odd_values(
    watched: Path, valid_bytes: bytes, data: st.DataObject
) -> None:
    """format / format_version / status fields of any JSON type; future versions say so."""
    members = _members(valid_bytes)
    manifest = json.loads(members["manifest.json"])
    version = data.draw(st.integers(FORMAT_VERSION + 1, 10**6) | json_like)
    manifest["format_version"] = version
    if data.draw(st.integers(0, 4)) == 0:
        manifest["format"] = data.draw(json_like)
    members["manifest.json"] = json.dumps(manifest).encode()
    if data.draw(st.integers(0, 3)) == 0:
        members["status.json"] = json.dumps(data.draw(json_like)).encode()
    outcome = _load_outcome(watched, _zip(members))
    if (
        manifest.get("format") == "nndyn-run"
        and isinstance(version, int)
        and not isinstance(version, bool)
        and version > FORMAT_VERSION
    ):
        assert "newer nndyn" in outcome, outcome


def test_npy_header_claiming_a_huge_array_is_refused_without_allocating(
    watched: Path, valid_bytes: bytes
) -> None:
    """A 100-byte .npy that claims 10^12 floats: clear error, not a crash or a swap storm."""
    members = _members(valid_bytes)
    with np.load(io.BytesIO(members["snapshots.npz"])) as f:
        arrays = {k: f[k] for k in f.files}
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        buf, {"descr": "<f8", "fortran_order": False, "shape": (10**6, 10**6)}
    )
    fake = buf.getvalue() + b"\0" * 64
    inner = io.BytesIO()
    with zipfile.ZipFile(inner, "w") as z:
        for k, v in arrays.items():
            if k == "loss":
                z.writestr("loss.npy", fake)
            else:
                b = io.BytesIO()
                np.save(b, v)
                z.writestr(f"{k}.npy", b.getvalue())
    members["snapshots.npz"] = inner.getvalue()
    assert _load_outcome(watched, _zip(members)) != "ok"


# ---------------------------------------------------------------------- hostile sizes and values
def _peak_while(fn: Any) -> tuple[Any, int]:
    """fn()'s result (or exception) and the peak of memory Python and numpy allocated."""
    import tracemalloc

    tracemalloc.start()
    try:
        try:
            out: Any = fn()
        except Exception as e:
            out = e
        return out, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


MIB = 2**20
BUDGETS = {  # what each member may decompress to (core.io.limits / runfile), tiny config
    "manifest.json": 4 * MIB,
    "config.json": 4 * MIB,
    "status.json": 4 * MIB,
    "data.npz": 64 * 1024 + 60 * 24,
    "snapshots.npz": 256 * MIB,
}


@fuzz(40)
@given(
    member=st.sampled_from(sorted(BUDGETS)),
    method=st.sampled_from([zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2]),
    size=st.builds(lambda k, f: min(16 * MIB, int(2**k * f)), st.integers(0, 24), st.floats(1, 2))
    | st.sampled_from([0, 1, 4 * MIB + 1, 16 * MIB]),
    declared=st.none() | st.integers(0, 2**32 - 1),
)
def test_run_file_with_hostile_decompressed_sizes(
    watched: Path, valid_bytes: bytes, member: str, method: int, size: int, declared: int | None
) -> None:
    """A member replaced by up to 16 MB of zeros (deflate or bzip2), declaring its real
    size or any other: one clear error, and never more memory than that member may hold."""
    from . import hostile

    raw = hostile.bomb_run(
        valid_bytes, member, size, method, size if declared is None else declared
    )
    outcome, peak = _peak_while(lambda: _load_outcome(watched, raw))
    if isinstance(outcome, BaseException):
        raise outcome
    assert outcome != "ok"  # zeros are never a valid member
    if method == zipfile.ZIP_BZIP2:
        assert "compression method 12" in outcome, outcome
    assert peak < 3 * min(size, BUDGETS[member]) + 16 * MIB, (peak, size, outcome)


@fuzz(60)
@given(
    n=st.integers(20, 2000),
    n_train=st.integers(0, 6000),
    n_test=st.integers(0, 3000),
    y_extra=st.sampled_from([0, 0, 0, 1, -1]),
)
def test_run_file_with_hostile_point_counts(
    watched: Path, valid_bytes: bytes, n: int, n_train: int, n_test: int, y_extra: int
) -> None:
    """data.n in the config against point arrays of any length: more points than the
    config allows (or labels that do not match) are refused; what loads fits data.n."""
    members = _members(valid_bytes)
    cfg = json.loads(members["config.json"])
    cfg["data"]["n"] = n
    members["config.json"] = json.dumps(cfg).encode()
    rng = np.random.default_rng(n + n_train + n_test)
    members["data.npz"] = _npz(
        {
            "x_train": rng.uniform(-1, 1, (n_train, 2)),
            "y_train": rng.integers(0, 2, max(0, n_train + y_extra)),
            "x_test": rng.uniform(-1, 1, (n_test, 2)),
            "y_test": rng.integers(0, 2, n_test),
        }
    )
    outcome = _load_outcome(watched, _zip(members))
    fits = n_train > 0 and n_train + n_test <= n and y_extra == 0
    assert (outcome == "ok") == fits, (n, n_train, n_test, y_extra, outcome)
    if not fits and n_train + n_test > n and n_train and y_extra == 0:
        assert "data.n" in outcome or "claims" in outcome, outcome


hostile_floats = st.floats(allow_nan=True, allow_infinity=True) | st.sampled_from(
    [1e308, -1e308, 1.7976931348623157e308, 5e-324, 1e6, 1e6 + 1, 1e100, -1e101, 0.0]
)


@fuzz(120)
@given(st.data())
def test_run_file_with_hostile_values(
    watched: Path, valid_bytes: bytes, data: st.DataObject
) -> None:
    """Coordinates, weights and steps at and beyond the float range: refused in one line,
    or loaded within the documented bounds; numpy never warns on the way."""
    import warnings

    from nndyn_gui.core.io import limits

    members = _members(valid_bytes)
    target = data.draw(st.sampled_from(["x_train", "x_test", "A", "b", "w", "c", "steps"]))
    member = "data.npz" if target.startswith("x_") else "snapshots.npz"
    with np.load(io.BytesIO(members[member])) as f:
        arrays = {k: f[k] for k in f.files}
    arr = arrays[target].astype(np.float64)
    flat = arr.reshape(-1)
    for _ in range(data.draw(st.integers(1, 3))):
        if flat.size:
            flat[data.draw(st.integers(0, flat.size - 1))] = data.draw(hostile_floats)
    arrays[target] = flat.reshape(arr.shape)
    members[member] = _npz(arrays)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        outcome = _load_outcome(watched, _zip(members))
    assert not [w for w in caught if issubclass(w.category, RuntimeWarning)], caught
    if outcome != "ok":
        return
    run = load_run(watched / "fuzzed.nndyn")
    assert limits.coords_in_range(run.dataset.x_all)
    steps = [s.step for s in run.snapshots]
    assert steps == sorted(steps) and all(0 <= s <= limits.MAX_STEP for s in steps)
    for s in run.snapshots:
        assert limits.weights_in_range(s.weights)
