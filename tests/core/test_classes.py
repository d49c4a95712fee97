"""K classes: the softmax head, its geometry, its run files, and the binary case unchanged."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import numpy as np
import pytest

from nndyn_gui.core.analysis.diagnostics import diagnose
from nndyn_gui.core.analysis.topology import not_applicable, topology_report
from nndyn_gui.core.config import RunConfig
from nndyn_gui.core.datasets import make_dataset
from nndyn_gui.core.io.runfile import RunFileError, load_run, save_run
from nndyn_gui.core.net import flow, multiclass
from nndyn_gui.core.net.initial_weights import initial_weights
from nndyn_gui.core.types import Dataset, NetWeights, Run, Snapshot

FIXTURE_V1 = Path(__file__).resolve().parents[1] / "data" / "run-format1.nndyn"


def _k_config(k: int = 3, width: int = 2, steps: int = 150) -> RunConfig:
    return RunConfig.from_dict(
        {
            "data": {"name": "gaussians", "classes": k, "n": 300, "noise": 0.3},
            "model": {"kind": "resnet", "width": width, "depth": 4, "h": 0.3},
            "train": {"steps": steps, "snapshot_every": 50, "steps_per_call": 50},
        }
    )


# ---------------------------------------------------------------------- training
def test_k_class_accuracy_from_the_trainer_equals_numpy_predict() -> None:
    from nndyn_gui.core.train.trainer import Trainer

    cfg = _k_config(3)
    ds = make_dataset(cfg.data)
    res = Trainer(cfg, ds).run()
    assert res.status == "finished" and len(res.snapshots) == 4
    for s in res.snapshots:
        w = s.weights
        assert w.classes == 3 and w.w.shape == (3, 2) and np.shape(w.c) == (3,)
        train = (flow.predict(cfg.model, w, ds.x_train) == ds.y_train).mean()
        test = (flow.predict(cfg.model, w, ds.x_test) == ds.y_test).mean()
        assert s.train_acc == pytest.approx(train, abs=1e-12)
        assert s.test_acc == pytest.approx(test, abs=1e-12)
    assert res.final.train_acc > res.snapshots[0].train_acc  # it learns
    assert res.final.train_acc > 0.8


def test_k_class_training_starts_from_the_numpy_initial_weights() -> None:
    from nndyn_gui.core.train.trainer import Trainer

    cfg = _k_config(4, width=3, steps=1)
    w0 = initial_weights(cfg.model, cfg.train.seed, 4)
    first = Trainer(cfg, make_dataset(cfg.data)).run().snapshots[0].weights
    for a, b in ((first.A, w0.A), (first.b, w0.b), (first.w, w0.w), (first.c, w0.c)):
        assert np.array_equal(a, b)
    binary = initial_weights(cfg.model, cfg.train.seed)
    assert np.array_equal(w0.A, binary.A)  # the layers start where the binary net's do


def test_labels_beyond_the_classes_are_refused_by_the_trainer() -> None:
    from nndyn_gui.core.train.trainer import Trainer

    cfg = _k_config(3)
    ds = make_dataset(cfg.data)
    bad = Dataset(ds.x_train, ds.y_train.copy(), ds.x_test, ds.y_test)
    bad.y_train[0] = 3
    with pytest.raises(ValueError, match=r"labels 0..3 but data.classes is 3"):
        Trainer(cfg, bad)


def test_two_classes_train_to_the_weights_they_always_did() -> None:
    """The format-1 fixture was trained before K classes existed: same config, same seed,
    same weights (the binary head, loss and graph are unchanged)."""
    from nndyn_gui.core.train.trainer import Trainer

    old = load_run(FIXTURE_V1)
    cfg = old.config
    res = Trainer(cfg, make_dataset(cfg.data)).run()
    assert [s.step for s in res.snapshots] == [s.step for s in old.snapshots]
    for new, was in zip(res.snapshots, old.snapshots, strict=True):
        np.testing.assert_allclose(new.weights.A, was.weights.A, rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(new.weights.w, was.weights.w, rtol=1e-9, atol=1e-12)
        assert new.weights.c == pytest.approx(was.weights.c, rel=1e-9, abs=1e-12)
        assert new.train_acc == was.train_acc


# ---------------------------------------------------------------------- run files
def test_a_format_1_file_written_before_k_classes_still_opens() -> None:
    with zipfile.ZipFile(FIXTURE_V1) as z:
        assert json.loads(z.read("manifest.json"))["format_version"] == 1
        assert "classes" not in json.loads(z.read("config.json"))["data"]
    run = load_run(FIXTURE_V1)
    assert run.config.data.classes == 2 and run.status == "finished"
    final = run.snapshots[-1]
    assert final.weights.classes == 2 and isinstance(final.weights.c, float)
    pred = flow.predict(run.config.model, final.weights, run.dataset.x_train)
    assert final.train_acc == pytest.approx((pred == run.dataset.y_train).mean(), abs=1e-12)


def _k_run(k: int = 4) -> Run:
    cfg = RunConfig.from_dict(
        {
            "data": {"name": "spiral", "classes": k, "n": 100},
            "model": {"kind": "mlp", "width": 3, "depth": 2},
        }
    )
    ds = make_dataset(cfg.data)
    rng = np.random.default_rng(1)
    snaps = []
    for i in range(3):
        w0 = initial_weights(cfg.model, i, k)
        w = NetWeights(w0.A, rng.normal(size=w0.b.shape), w0.w, rng.normal(size=k))
        snaps.append(Snapshot(10 * i, 1.0 / (i + 1), 0.3, 0.3, w))
    return Run(cfg, ds, snaps, "finished", "")


def test_k_class_runs_are_saved_as_format_2_and_load_back(tmp_path: Path) -> None:
    run = _k_run(4)
    path = tmp_path / "k4.nndyn"
    save_run(run, path)
    with zipfile.ZipFile(path) as z:
        assert json.loads(z.read("manifest.json"))["format_version"] == 2
        snaps = np.load(io.BytesIO(z.read("snapshots.npz")))
        assert snaps["w"].shape == (3, 4, 3) and snaps["c"].shape == (3, 4)
    back = load_run(path)
    assert back.config.data.classes == 4
    for a, b in zip(run.snapshots, back.snapshots, strict=True):
        assert np.array_equal(a.weights.w, b.weights.w) and np.array_equal(a.weights.c, b.weights.c)
    x = run.dataset.x_all
    assert np.array_equal(
        flow.predict(run.config.model, run.weights, x),  # type: ignore[arg-type]
        flow.predict(back.config.model, back.weights, x),  # type: ignore[arg-type]
    )


def _members(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as z:
        return {n: z.read(n) for n in z.namelist()}


def _write_members(path: Path, members: dict[str, bytes]) -> None:
    with zipfile.ZipFile(path, "w") as z:
        for n, b in members.items():
            z.writestr(n, b)


def _npz(arrays: dict[str, np.ndarray]) -> bytes:
    buf = io.BytesIO()
    np.savez(buf, **arrays)  # type: ignore[arg-type]
    return buf.getvalue()


def test_k_class_files_are_checked_against_their_config(tmp_path: Path) -> None:
    path = tmp_path / "k3.nndyn"
    save_run(_k_run(3), path)
    members = _members(path)
    data = dict(np.load(io.BytesIO(members["data.npz"])))
    snaps = dict(np.load(io.BytesIO(members["snapshots.npz"])))

    bad_labels = dict(data, y_train=np.where(data["y_train"] == 0, 3, data["y_train"]))
    _write_members(tmp_path / "a.nndyn", {**members, "data.npz": _npz(bad_labels)})
    with pytest.raises(RunFileError, match=r"labels other than 0..2; its config has 3 classes"):
        load_run(tmp_path / "a.nndyn")

    binary_head = dict(snaps, w=snaps["w"][:, 0], c=snaps["c"][:, 0])
    _write_members(tmp_path / "b.nndyn", {**members, "snapshots.npz": _npz(binary_head)})
    with pytest.raises(RunFileError, match=r"w has shape \(3, 3\), expected \(3, 3, 3\)"):
        load_run(tmp_path / "b.nndyn")

    manifest = json.loads(members["manifest.json"])
    old = json.dumps({**manifest, "format_version": 1}).encode()
    _write_members(tmp_path / "c.nndyn", {**members, "manifest.json": old})
    with pytest.raises(RunFileError, match="format 1 holds two-class runs only"):
        load_run(tmp_path / "c.nndyn")


def test_saving_refuses_labels_or_heads_that_do_not_fit_the_classes(tmp_path: Path) -> None:
    run = _k_run(3)
    run.dataset.y_test[0] = 5
    with pytest.raises(RunFileError, match=r"labels 0..5 but the config has 3 classes"):
        save_run(run, tmp_path / "x.nndyn")
    run = _k_run(3)
    run.config.data.classes = 4
    with pytest.raises(RunFileError, match="head for 3 classes but the config says 4"):
        save_run(run, tmp_path / "x.nndyn")
    assert not (tmp_path / "x.nndyn").exists()


# ---------------------------------------------------------------------- geometry
def _random_head(k: int, d: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.normal(size=(k, d)), rng.normal(size=k) * 0.3


@pytest.mark.parametrize("seed", range(4))
def test_boundary_segments_are_where_the_class_changes(seed: int) -> None:
    """Every drawn border point is a tie of its two classes that beat all others, and
    every change of class between neighbouring pixels lies next to a drawn border."""
    w, c = _random_head(4, 2, seed)
    box = np.array([[-1.5, -1.0], [1.0, 1.5]])
    segs = multiclass.boundary_segments(w, c, box)
    assert segs
    pts = []
    for i, j, seg in segs:
        for t in np.linspace(0, 1, 21):
            y = seg[0] + t * (seg[1] - seg[0])
            z = w @ y + c
            assert z[i] == pytest.approx(z[j], abs=1e-9) and z.max() <= z[i] + 1e-9
            pts.append(y)
        assert np.all(seg >= box[0] - 1e-9) and np.all(seg <= box[1] + 1e-9)
    n = 200
    xs = np.linspace(box[0, 0], box[1, 0], n)
    ys = np.linspace(box[0, 1], box[1, 1], n)
    gx, gy = np.meshgrid(xs, ys)
    grid = np.column_stack([gx.ravel(), gy.ravel()])
    cls = np.argmax(grid @ w.T + c, axis=1).reshape(n, n)
    change = np.flatnonzero((cls[:, 1:] != cls[:, :-1]).ravel())
    mids = np.column_stack([(gx[:, 1:] + gx[:, :-1]).ravel() / 2, gy[:, 1:].ravel()])[change]
    dense = np.concatenate(
        [s[0] + np.linspace(0, 1, 400)[:, None] * (s[1] - s[0]) for _, _, s in segs]
    )
    dist = np.min(np.linalg.norm(mids[:, None] - dense[None], axis=2), axis=1)
    pixel = (box[1, 0] - box[0, 0]) / (n - 1)
    assert dist.max() < 1.5 * pixel


def test_boundary_faces_in_3d_are_ties_that_beat_the_others() -> None:
    w, c = _random_head(4, 3, 5)
    box = np.array([[-1.0, -1.0, -1.0], [1.0, 1.0, 1.0]])
    faces = multiclass.boundary_faces(w, c, box)
    assert len(faces) >= 3
    for i, j, poly in faces:
        assert poly.shape[1] == 3 and len(poly) >= 3
        for y in np.concatenate([poly, poly.mean(axis=0, keepdims=True)]):
            z = w @ y + c
            assert z[i] == pytest.approx(z[j], abs=1e-9) and z.max() <= z[i] + 1e-9
            assert np.all(y >= box[0] - 1e-9) and np.all(y <= box[1] + 1e-9)


@pytest.mark.parametrize(("k", "dims", "exact"), [(3, 2, True), (4, 3, True), (4, 2, False)])
def test_class_projection_keeps_the_regions_exact_when_the_span_fits(
    k: int, dims: int, exact: bool
) -> None:
    w, c = _random_head(k, 6, 2)
    rng = np.random.default_rng(3)
    x = rng.normal(size=(500, 6))
    p = multiclass.class_projection(w, x, dims)
    assert p.head is exact
    comps = np.asarray(p.components)
    assert np.allclose(comps @ comps.T, np.eye(dims), atol=1e-12)
    head = multiclass.view_head(w, c, comps, np.zeros(dims))
    if not exact:
        assert head is None
        return
    assert head is not None
    wv, cv = head
    y = x @ comps.T
    assert np.array_equal(np.argmax(y @ wv.T + cv, axis=1), np.argmax(x @ w.T + c, axis=1))
    assert p.labels[0] == "class axis 1"


def test_class_margin_is_the_distance_to_the_own_region_border() -> None:
    w = np.array([[0.0, 0.0], [2.0, 0.0], [0.0, 2.0]])
    c = np.zeros(3)
    x = np.array([[-1.0, -3.0], [3.0, 0.5]])  # class 0 (1 from the border x1 = 0), class 1
    assert multiclass.class_margin(w, c, x, np.array([0, 1])) == pytest.approx(1.0)
    # the second point labelled 2 is on the wrong side: negative
    assert multiclass.class_margin(w, c, x, np.array([0, 2])) < 0


# ---------------------------------------------------------------------- diagnostics
def test_diagnostics_and_topology_say_what_holds_for_k_classes() -> None:
    cfg = _k_config(3)
    ds = make_dataset(cfg.data)
    w = initial_weights(cfg.model, 0, 3)
    diag = diagnose(cfg, w, ds)
    pred = flow.predict(cfg.model, w, ds.x_train)
    assert diag.train_acc == pytest.approx((pred == ds.y_train).mean())
    assert np.isfinite(diag.plane_margin)
    assert topology_report(cfg, w) is None
    assert "not applicable" in not_applicable(cfg) and "3 classes" in not_applicable(cfg)
    ring = RunConfig()
    assert not_applicable(ring) == ""


def test_numpy_snippet_in_the_docs_reads_a_k_class_file(tmp_path: Path) -> None:
    import re

    doc = Path(__file__).resolve().parents[2] / "docs" / "file-format.md"
    m = re.search(
        r"<!-- snippet:recompute -->\s*```python\n(.*?)```", doc.read_text(encoding="utf-8"), re.S
    )
    assert m
    run = _k_run(4)
    path = tmp_path / "k.nndyn"
    save_run(run, path)
    ns: dict[str, object] = {}
    exec(m.group(1).replace('"run.nndyn"', repr(str(path))), ns)
    weights = run.snapshots[-1].weights
    pred = flow.predict(run.config.model, weights, run.dataset.x_test)
    assert ns["accuracy"] == pytest.approx(np.mean(pred == run.dataset.y_test))


def test_a_k_class_sweep_row_says_the_loop_metrics_do_not_apply() -> None:
    from nndyn_gui.core.sweep.job import run_job

    cfg = _k_config(3, steps=20)
    run, row = run_job(cfg)
    assert run is not None and row["status"] == "finished"
    assert np.isnan(row["winding"]) and np.isnan(row["wrong_side_share"])
    assert "winding, wrong_side_share: not applicable with K classes" in row["message"]
    assert 0.0 <= row["dense_accuracy"] <= 1.0
