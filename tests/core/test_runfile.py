"""Run files: what a user saves is what they load; damaged files give one clear error."""

from __future__ import annotations

import io
import json
import os
import re
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

from nndyn_gui.core.config import RunConfig
from nndyn_gui.core.io import files, runfile
from nndyn_gui.core.io.runfile import RunFileError, load_run, save_run
from nndyn_gui.core.net.flow import predict, propagate
from nndyn_gui.core.net.initial_weights import initial_weights
from nndyn_gui.core.types import Dataset, NetWeights, Run, Snapshot

DOC = Path(__file__).resolve().parents[2] / "docs" / "file-format.md"


def _run(kind: str = "resnet", width: int = 3, depth: int = 4, n_snaps: int = 3) -> Run:
    cfg = RunConfig()
    cfg.model.kind = kind
    cfg.model.width = width
    cfg.model.depth = depth
    cfg.model.h = 0.3
    cfg.title = "round trip"
    cfg.validate()
    rng = np.random.default_rng(7)
    x = rng.uniform(-1, 1, size=(60, 2))
    y = (np.hypot(x[:, 0], x[:, 1]) > 0.5).astype(np.int64)
    ds = Dataset(x[:45], y[:45], x[45:], y[45:], name="ring")
    snaps = []
    for i in range(n_snaps):
        w0 = initial_weights(cfg.model, seed=i)
        w = NetWeights(w0.A, rng.normal(size=w0.b.shape), w0.w, float(rng.normal()))
        snaps.append(Snapshot(i * 50, 0.7 / (i + 1), 0.5 + 0.1 * i, 0.4 + 0.1 * i, w, 0.1 * i))
    return Run(cfg, ds, snaps, "finished", "Finished 100 steps.", {"tensorflow": "9.9"})


@pytest.fixture
def saved(tmp_path: Path) -> tuple[Run, Path]:
    run = _run()
    path = tmp_path / "run.nndyn"
    save_run(run, path)
    return run, path


def _rewrite(src: Path, dst: Path, replace: dict[str, bytes | None]) -> None:
    """Copy a zip, replacing (bytes) or dropping (None) some members."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for info in zin.infolist():
            if info.filename in replace:
                data = replace[info.filename]
                if data is not None:
                    zout.writestr(info.filename, data)
            else:
                zout.writestr(info.filename, zin.read(info))
        for name, data in replace.items():
            if data is not None and name not in zin.namelist():
                zout.writestr(name, data)


def _npz(**arrays: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.savez(buf, **arrays)  # type: ignore[arg-type]
    return buf.getvalue()


def _snap_arrays(path: Path) -> dict[str, np.ndarray]:
    with zipfile.ZipFile(path) as z, np.load(io.BytesIO(z.read("snapshots.npz"))) as f:
        return {k: f[k] for k in f.files}


def _one_line_error(path: Path) -> str:
    with pytest.raises(RunFileError) as info:
        load_run(path)
    msg = str(info.value)
    assert msg and "\n" not in msg
    return msg


# ---------------------------------------------------------------------- round trip
def test_round_trip_keeps_config_data_weights_and_status(saved: tuple[Run, Path]) -> None:
    run, path = saved
    back = load_run(path)
    assert back.config == run.config
    assert back.status == "finished" and back.message == "Finished 100 steps."
    assert back.dataset.name == "ring"
    for key in ("x_train", "y_train", "x_test", "y_test"):
        np.testing.assert_array_equal(getattr(back.dataset, key), getattr(run.dataset, key))
    assert len(back.snapshots) == len(run.snapshots)
    for a, b in zip(back.snapshots, run.snapshots, strict=True):
        assert (a.step, a.loss, a.train_acc, a.test_acc, a.elapsed) == (
            b.step,
            b.loss,
            b.train_acc,
            b.test_acc,
            b.elapsed,
        )
        np.testing.assert_array_equal(a.weights.A, b.weights.A)
        np.testing.assert_array_equal(a.weights.b, b.weights.b)
        np.testing.assert_array_equal(a.weights.w, b.weights.w)
        assert a.weights.c == b.weights.c
    # the writer's versions are recorded; a TF version from training is kept
    assert {"nndyn", "numpy", "python"} <= set(back.versions)
    tf = sys.modules.get("tensorflow")
    assert back.versions["tensorflow"] == (tf.__version__ if tf else "9.9")


def test_untrained_run_without_snapshots_round_trips(tmp_path: Path) -> None:
    run = _run(kind="mlp", width=2, depth=1, n_snaps=0)
    run.status, run.message = "new", ""
    save_run(run, tmp_path / "new.nndyn")
    back = load_run(tmp_path / "new.nndyn")
    assert back.snapshots == [] and back.status == "new" and back.weights is None


def test_manifest_names_format_and_never_imports_tensorflow(saved: tuple[Run, Path]) -> None:
    _, path = saved
    with zipfile.ZipFile(path) as z:
        manifest = json.loads(z.read("manifest.json"))
        assert sorted(z.namelist()) == sorted(runfile.MEMBERS)
    assert manifest["format"] == "nndyn-run" and manifest["format_version"] == 1
    assert manifest["n_snapshots"] == 3


# ---------------------------------------------------------------------- atomic save
def test_failed_write_leaves_old_file_intact_and_no_temp_files(
    saved: tuple[Run, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    _, path = saved
    before = path.read_bytes()
    calls = {"n": 0}
    real = zipfile.ZipFile.writestr

    def failing(self: zipfile.ZipFile, *a: object, **k: object) -> None:
        calls["n"] += 1
        if calls["n"] == 3:
            raise OSError(28, "No space left on device")
        real(self, *a, **k)  # type: ignore[arg-type]

    monkeypatch.setattr(zipfile.ZipFile, "writestr", failing)
    with pytest.raises(RunFileError, match="No space left on device"):
        save_run(_run(n_snaps=1), path)
    assert path.read_bytes() == before
    assert os.listdir(path.parent) == ["run.nndyn"]


def test_unwritable_or_missing_folder_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(RunFileError, match="does not exist"):
        save_run(_run(), tmp_path / "nope" / "run.nndyn")
    with pytest.raises(RunFileError, match="is a folder"):
        save_run(_run(), tmp_path)
    if os.geteuid() == 0:
        pytest.skip("root can write anywhere (see the simulated test below)")
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    try:
        with pytest.raises(RunFileError, match="cannot save"):
            save_run(_run(), ro / "run.nndyn")
        assert os.listdir(ro) == []
    finally:
        ro.chmod(0o700)


def test_permission_denied_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def denied(*a: object, **k: object) -> None:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(files.tempfile, "mkstemp", denied)  # the one atomic writer
    with pytest.raises(RunFileError, match=r"cannot save to .*: Permission denied"):
        save_run(_run(), tmp_path / "run.nndyn")
    assert os.listdir(tmp_path) == []


def test_run_that_disagrees_with_its_config_is_refused_before_writing(tmp_path: Path) -> None:
    run = _run()
    run.config.model.depth = 5
    with pytest.raises(RunFileError, match="depth 5"):
        save_run(run, tmp_path / "x.nndyn")
    assert os.listdir(tmp_path) == []


# ---------------------------------------------------------------------- bad files
def test_truncated_files_give_run_file_error_at_every_offset(
    saved: tuple[Run, Path], tmp_path: Path
) -> None:
    _, path = saved
    raw = path.read_bytes()
    cut = tmp_path / "cut.nndyn"
    offsets = sorted(
        {*range(0, len(raw), max(1, len(raw) // 150)), *range(len(raw) - 30, len(raw))}
    )
    for n in offsets:
        cut.write_bytes(raw[:n])
        _one_line_error(cut)


def test_random_bytes_and_flipped_bytes_never_escape_as_other_errors(
    saved: tuple[Run, Path], tmp_path: Path
) -> None:
    _, path = saved
    raw = path.read_bytes()
    rng = np.random.default_rng(0)
    bad = tmp_path / "bad.nndyn"
    for size in (1, 4, 22, 100, 5000):
        bad.write_bytes(rng.bytes(size))
        _one_line_error(bad)
    for _ in range(150):
        data = bytearray(raw)
        for pos in rng.integers(0, len(data), size=rng.integers(1, 4)):
            data[pos] ^= int(rng.integers(1, 256))
        bad.write_bytes(bytes(data))
        try:
            load_run(bad)  # a flip in e.g. a timestamp is harmless
        except RunFileError as e:
            assert "\n" not in str(e)


def test_missing_empty_folder_and_non_zip_files(tmp_path: Path) -> None:
    assert "no such file" in _one_line_error(tmp_path / "absent.nndyn")
    assert "folder" in _one_line_error(tmp_path)
    (tmp_path / "empty.nndyn").write_bytes(b"")
    assert "empty" in _one_line_error(tmp_path / "empty.nndyn")
    (tmp_path / "text.nndyn").write_text("hello, I am a CSV\n1,2,3\n")
    assert "not an nndyn run file" in _one_line_error(tmp_path / "text.nndyn")
    with zipfile.ZipFile(tmp_path / "other.zip", "w") as z:
        z.writestr("readme.txt", "some other zip")
    assert "no manifest.json" in _one_line_error(tmp_path / "other.zip")


@pytest.mark.parametrize("member", ["config.json", "data.npz", "snapshots.npz", "status.json"])
def test_missing_member_is_named(saved: tuple[Run, Path], tmp_path: Path, member: str) -> None:
    _, path = saved
    dst = tmp_path / "m.nndyn"
    _rewrite(path, dst, {member: None})
    assert member in _one_line_error(dst)


def test_file_from_newer_nndyn_says_so(saved: tuple[Run, Path], tmp_path: Path) -> None:
    _, path = saved
    with zipfile.ZipFile(path) as z:
        manifest = json.loads(z.read("manifest.json"))
    manifest["format_version"] = 4
    dst = tmp_path / "future.nndyn"
    _rewrite(path, dst, {"manifest.json": json.dumps(manifest).encode()})
    msg = _one_line_error(dst)
    assert msg.endswith(
        "this file was written by a newer nndyn (format 4); this version reads format 3"
    )


@pytest.mark.parametrize(
    ("member", "payload", "expect"),
    [
        ("config.json", b'{"model": {"width": 999}}', "model.width"),
        ("config.json", b"{not json", "config"),
        ("config.json", b"\xff\xfe", "config.json"),
        ("manifest.json", b"[1, 2]", "manifest.json"),
        ("manifest.json", b'{"format": "something-else", "format_version": 1}', "format"),
        ("manifest.json", b'{"format": "nndyn-run", "format_version": "1"}', "format_version"),
        ("status.json", b'{"status": "exploded"}', "status"),
        ("data.npz", b"PK\x03\x04garbage", "data.npz"),
        ("snapshots.npz", b"not an npz at all", "snapshots.npz"),
    ],
)
def test_bad_member_content(
    saved: tuple[Run, Path], tmp_path: Path, member: str, payload: bytes, expect: str
) -> None:
    _, path = saved
    dst = tmp_path / "bad.nndyn"
    _rewrite(path, dst, {member: payload})
    assert expect in _one_line_error(dst)


def test_wrong_shapes_labels_and_pickles_are_rejected(
    saved: tuple[Run, Path], tmp_path: Path
) -> None:
    _, path = saved
    dst = tmp_path / "bad.nndyn"
    good = _snap_arrays(path)
    variants: list[tuple[str, bytes, str]] = [
        ("snapshots.npz", _npz(**{**good, "A": good["A"][:, :, :2]}), "A has shape"),
        ("snapshots.npz", _npz(**{**good, "loss": good["loss"][:2]}), "loss has shape"),
        ("snapshots.npz", _npz(**{k: v for k, v in good.items() if k != "w"}), "'w'"),
        ("snapshots.npz", _npz(**{**good, "b": good["b"] * np.nan}), "NaN"),
        ("snapshots.npz", _npz(**{**good, "steps": good["steps"][::-1]}), "order"),
        ("snapshots.npz", _npz(**{**good, "c": np.array(["a", "b", "c"])}), "non-numeric"),
        (
            "data.npz",
            _npz(
                x_train=np.zeros((5, 3)),
                y_train=np.zeros(5),
                x_test=np.zeros((0, 2)),
                y_test=np.zeros(0),
            ),
            "x_train has shape",
        ),
        (
            "data.npz",
            _npz(
                x_train=np.zeros((5, 2)),
                y_train=np.full(5, 3),
                x_test=np.zeros((0, 2)),
                y_test=np.zeros(0),
            ),
            "labels",
        ),
    ]
    for member, payload, expect in variants:
        _rewrite(path, dst, {member: payload})
        assert expect in _one_line_error(dst), expect
    pickled = io.BytesIO()
    np.save(pickled, np.array([{"evil": 1}], dtype=object), allow_pickle=True)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for k, v in good.items():
            raw = io.BytesIO()
            np.save(raw, v)
            z.writestr(f"{k}.npy", raw.getvalue() if k != "c" else pickled.getvalue())
    _rewrite(path, dst, {"snapshots.npz": buf.getvalue()})
    _one_line_error(dst)


def test_zip_bomb_is_refused_without_decompressing(saved: tuple[Run, Path], tmp_path: Path) -> None:
    _, path = saved
    dst = tmp_path / "bomb.nndyn"
    with zipfile.ZipFile(path) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as z:
        for info in zin.infolist():
            if info.filename == "status.json":
                z.writestr("status.json", b" " * (runfile.MAX_JSON_BYTES + 1) + b"{}")
            else:
                z.writestr(info.filename, zin.read(info))
    assert dst.stat().st_size < 100_000
    assert "more than" in _one_line_error(dst)


# ---------------------------------------------------------------------- the documented snippet
def _doc_snippet() -> str:
    text = DOC.read_text(encoding="utf-8")
    m = re.search(r"<!-- snippet:recompute -->\s*```python\n(.*?)```", text, re.S)
    assert m, "docs/file-format.md lost its recompute snippet"
    return m.group(1)


@pytest.mark.parametrize(
    ("kind", "activation"), [("resnet", "tanh"), ("mlp", "leaky_relu"), ("resnet", "sigmoid")]
)
def test_numpy_snippet_in_docs_recomputes_the_flow(
    tmp_path: Path, kind: str, activation: str
) -> None:
    run = _run(kind=kind, width=4, depth=5)
    run.config.model.activation = activation
    path = tmp_path / "doc.nndyn"
    save_run(run, path)
    code = _doc_snippet()
    assert len(code.strip().splitlines()) <= 22
    ns: dict[str, object] = {}
    exec(code.replace('"run.nndyn"', repr(str(path))), ns)
    weights = run.snapshots[-1].weights
    expected = propagate(run.config.model, weights, run.dataset.x_test)
    np.testing.assert_allclose(np.array(ns["traj"]), expected, rtol=1e-12, atol=1e-12)
    acc = np.mean(predict(run.config.model, weights, run.dataset.x_test) == run.dataset.y_test)
    assert ns["accuracy"] == pytest.approx(acc)
