"""Data sets: what the user sees in the data view must be reproducible and as documented."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest

from nndyn_gui.core.config import DATASETS, DataConfig
from nndyn_gui.core.datasets import (
    DataError,
    csv_classes,
    dense_sample,
    inner_point,
    load_csv,
    make_dataset,
    outer_loop,
)

SAMPLED = [n for n in DATASETS if n not in ("csv", "drawn")]  # drawn: only in run files


def _cfg(name: str = "ring", **kw: object) -> DataConfig:
    cfg = DataConfig(name=name)
    for k, v in kw.items():
        setattr(cfg, k, v)
    return cfg


@pytest.mark.parametrize("name", SAMPLED)
def test_same_config_same_points_other_seed_other_points(name: str) -> None:
    a = make_dataset(_cfg(name, noise=0.3))
    b = make_dataset(_cfg(name, noise=0.3))
    c = make_dataset(_cfg(name, noise=0.3, seed=1))
    assert np.array_equal(a.x_train, b.x_train) and np.array_equal(a.y_test, b.y_test)
    assert not np.array_equal(a.x_train, c.x_train)
    assert a.name == name


@pytest.mark.parametrize("name", SAMPLED)
@pytest.mark.parametrize("noise", [0.0, 1.0])
def test_points_inside_the_box_with_int_labels(name: str, noise: float) -> None:
    ds = make_dataset(_cfg(name, noise=noise, n=500))
    x, y = ds.x_all, ds.y_all
    assert x.shape == (500, 2) and x.dtype == np.float64
    assert np.abs(x).max() <= 1.0
    assert y.dtype == np.int64 and set(np.unique(y)) == {0, 1}


def test_split_follows_test_fraction_and_may_be_empty() -> None:
    ds = make_dataset(_cfg(n=1000, test_fraction=0.2))
    assert (len(ds.y_train), len(ds.y_test)) == (800, 200)
    ds0 = make_dataset(_cfg(n=1000, test_fraction=0.0))
    assert len(ds0.y_train) == 1000 and ds0.x_test.shape == (0, 2)


def test_ring_matches_the_article_radii_and_balance() -> None:
    ds = make_dataset(_cfg(n=4000))
    r = np.linalg.norm(ds.x_all, axis=1)
    y = ds.y_all
    assert (y == 1).sum() == 2000
    assert r[y == 0].max() <= 0.35
    assert r[y == 1].min() >= 0.575 and r[y == 1].max() <= 1.0
    # radius (not area) uniform as in the article: half the inner points within r < 0.175
    assert abs(np.mean(r[y == 0] < 0.175) - 0.5) < 0.05


def test_ring_gap_moves_the_annulus_and_noise_blurs_it() -> None:
    wide = make_dataset(_cfg(n=2000, gap=0.5))
    r = np.linalg.norm(wide.x_all, axis=1)
    assert r[wide.y_all == 1].min() >= 0.85
    noisy = make_dataset(_cfg(n=2000, noise=1.0))
    r = np.linalg.norm(noisy.x_all, axis=1)
    assert r[noisy.y_all == 0].max() > 0.4  # inner points leak into the gap


def test_spiral_balanced_box_empty_and_on_the_article_arms() -> None:
    ds = make_dataset(_cfg("spiral", n=2000))
    x, y = ds.x_all, ds.y_all
    assert (y == 1).sum() == 1000
    in_box = (np.abs(x[:, 0]) < 0.1) & (np.abs(x[:, 1]) < 0.1)
    assert not in_box.any()
    for label, sign in ((1, 1.0), (0, -1.0)):
        p = sign * x[y == label]  # back on the s = +1 arm
        rad = np.linalg.norm(p, axis=1)
        best = np.full(len(p), np.inf)
        for theta in (1.0 - rad, 1.0 + rad):  # r = 1 - theta may be negative
            on_arm = (1.0 - theta)[:, None] * np.column_stack(
                [np.cos(6 * theta), np.sin(6 * theta)]
            )
            best = np.minimum(best, np.linalg.norm(p - on_arm, axis=1))
        assert best.max() < 1e-9


def test_spiral_box_stays_empty_with_noise() -> None:
    x = make_dataset(_cfg("spiral", n=2000, noise=1.0)).x_all
    assert not ((np.abs(x[:, 0]) < 0.1) & (np.abs(x[:, 1]) < 0.1)).any()


def test_noisy_ring_noise_makes_labels_less_predictable_from_radius() -> None:
    def errors(noise: float) -> float:
        ds = make_dataset(_cfg("noisy_ring", n=4000, noise=noise))
        r = np.linalg.norm(ds.x_all, axis=1)
        return float(np.mean((r > 0.575).astype(int) != ds.y_all))

    assert errors(0.0) < 0.02
    assert errors(1.0) > 0.1


@pytest.mark.parametrize(
    ("name", "rule"),
    [
        ("xor", lambda x: (x[:, 0] * x[:, 1] > 0).astype(int)),
        ("gaussians", lambda x: (x[:, 0] + x[:, 1] > 0).astype(int)),
        (
            "checkerboard",
            lambda x: np.minimum(((x + 1) * 2).astype(int), 3).sum(axis=1) % 2,
        ),
        ("moons", None),
    ],
)
def test_noise_slider_degrades_the_clean_rule(name: str, rule: object) -> None:
    def acc(noise: float) -> float:
        ds = make_dataset(_cfg(name, n=1500, noise=noise))
        x, y = ds.x_all, ds.y_all
        if rule is None:  # moons: distance to the own clean arc
            t = np.linspace(0, np.pi, 1001)
            up = (np.column_stack([np.cos(t), np.sin(t)]) - [0.5, 0.25]) / 1.5
            lo = (np.column_stack([1 - np.cos(t), 0.5 - np.sin(t)]) - [0.5, 0.25]) / 1.5
            d_up = np.min(np.linalg.norm(x[:, None] - up[None], axis=2), axis=1)
            d_lo = np.min(np.linalg.norm(x[:, None] - lo[None], axis=2), axis=1)
            return float(np.mean((d_lo < d_up).astype(int) == y))
        return float(np.mean(rule(x) == y))  # type: ignore[operator]

    assert acc(0.0) >= 0.97
    assert acc(1.0) < acc(0.0) - 0.02


def test_outer_loop_lies_in_the_outer_class_and_is_closed() -> None:
    loop = outer_loop(_cfg(), 500)
    assert loop is not None and loop.shape == (500, 2)
    assert np.allclose(np.linalg.norm(loop, axis=1), 0.8)
    gap = np.linalg.norm(loop[0] - loop[-1])
    assert gap < 0.02  # consecutive, closes back onto the start
    wide = outer_loop(_cfg(gap=0.5))
    assert wide is not None and 0.85 < np.linalg.norm(wide[0]) < 1.0
    assert outer_loop(_cfg("noisy_ring")) is not None
    assert outer_loop(_cfg("spiral")) is None and outer_loop(_cfg("moons")) is None
    centre = inner_point(_cfg())
    assert centre is not None and np.array_equal(centre, [0.0, 0.0])
    assert inner_point(_cfg("xor")) is None


def test_dense_sample_is_fresh_but_same_distribution() -> None:
    cfg = _cfg(n=1000)
    ds = make_dataset(cfg)
    x, y = dense_sample(cfg, 5000, seed=99)
    assert x.shape == (5000, 2) and y.shape == (5000,)
    assert not np.isin(x[:, 0], ds.x_all[:, 0]).any()
    r = np.linalg.norm(x, axis=1)
    assert r[y == 0].max() <= 0.35 and r[y == 1].min() >= 0.575


# ---------------------------------------------------------------------- CSV
def _write(tmp_path: Path, text: str, name: str = "data.csv") -> Path:
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def test_csv_rescaled_keeping_aspect_ratio(tmp_path: Path) -> None:
    p = _write(
        tmp_path,
        "# my data\nlabel,extra,X2,x1\n0,a,10,0\n1,b,10,4\n\n0,c,12,0\n1.0,d,12,4\n",
    )
    x, y = load_csv(p)
    assert y.tolist() == [0, 1, 0, 1] and y.dtype == np.int64
    # x1 spans 4, x2 spans 2: x1 -> [-1, 1], x2 -> [-0.5, 0.5]
    assert np.allclose(x, [[-1, -0.5], [1, -0.5], [-1, 0.5], [1, 0.5]])


BAD_CSV = [
    ("", "empty"),
    ("x1,x2\n1,2\n", "line 1: missing column 'label'"),
    ("x1,x2,label\n0,0,0\n1,1,1\n0,abc,0\n1,0,1\n", "line 4, column x2: 'abc' is not a number"),
    ("x1,x2,label\n0,0,0\n1,1,1\nnan,0,0\n1,0,1\n", "line 4, column x1: 'nan' is not a finite"),
    ("x1,x2,label\n0,0,0\n1,1,1\n0,inf,0\n1,0,1\n", "line 4, column x2: 'inf'"),
    ("x1,x2,label\n0,0,0\n1,1,7\n0,1,0\n1,0,1\n", "line 3, column label: '7' is not a class"),
    ("x1,x2,label\n0,0,0\n1,1,1.5\n0,1,0\n1,0,1\n", "line 3, column label: '1.5' is not a"),
    ("x1,x2,label\n0,0,0\n1,1,1\n0,1\n1,0,1\n", "line 4: expected at least 3 values"),
    ("x1,x2,label\n0,0,1\n1,1,1\n0,1,1\n1,0,1\n", "all labels are 1"),
    ("x1,x2,label\n0,0,0\n1,1,1\n0,1,0\n", "only 3 data rows, need at least 4"),
    ("x1,x2,label\n1,1,0\n1,1,1\n1,1,0\n1,1,1\n", "all points are identical"),
]


@pytest.mark.parametrize(("text", "message"), BAD_CSV)
def test_csv_errors_are_one_line_and_name_the_problem(
    tmp_path: Path, text: str, message: str
) -> None:
    p = _write(tmp_path, text)
    with pytest.raises(DataError) as info:
        load_csv(p)
    msg = str(info.value)
    assert message in msg and "\n" not in msg and msg.startswith("data.csv")


def test_csv_unreadable_files_raise_data_error(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="file not found"):
        load_csv(tmp_path / "missing.csv")
    with pytest.raises(DataError, match="folder"):
        load_csv(tmp_path)
    binary = tmp_path / "b.csv"
    binary.write_bytes(b"\xff\xfe\x00\x81binary")
    with pytest.raises(DataError):
        load_csv(binary)


def test_make_dataset_from_csv_keeps_or_subsamples_rows(tmp_path: Path) -> None:
    rows = "\n".join(f"{i},{i % 7},{i % 2}" for i in range(50))
    p = _write(tmp_path, "x1,x2,label\n" + rows + "\n")
    all_rows = make_dataset(_cfg("csv", csv_path=str(p), n=100, test_fraction=0.2))
    assert len(all_rows.y_all) == 50 and len(all_rows.y_test) == 10
    sub = make_dataset(_cfg("csv", csv_path=str(p), n=20))
    again = make_dataset(_cfg("csv", csv_path=str(p), n=20))
    assert len(sub.y_all) == 20 and np.array_equal(sub.x_all, again.x_all)
    _x, y = dense_sample(_cfg("csv", csv_path=str(p)), 10, seed=0)
    assert len(y) == 50  # the csv data itself, whatever n


# ---------------------------------------------------------------------- K classes
#: sha256 prefixes of (x_all, y_all) as written before K classes existed (n = 500)
BINARY_FINGERPRINTS = {
    ("spiral", 0.0): "340656d38227d1c2",
    ("spiral", 0.3): "793eb882e6a1958e",
    ("gaussians", 0.0): "e6c26c032d55a727",
    ("gaussians", 0.3): "b8b4501c7ba2ab3e",
    ("ring", 0.0): "e49bbeb9870a2a6f",
    ("ring", 0.3): "0f0ba697d1beba88",
}


@pytest.mark.parametrize(("name", "noise"), sorted(BINARY_FINGERPRINTS))
def test_two_classes_give_exactly_the_points_they_always_gave(name: str, noise: float) -> None:
    ds = make_dataset(_cfg(name, noise=noise, n=500))
    digest = hashlib.sha256(ds.x_all.tobytes() + ds.y_all.tobytes()).hexdigest()[:16]
    assert digest == BINARY_FINGERPRINTS[(name, noise)]


@pytest.mark.parametrize("name", ["spiral", "gaussians", "rings"])
@pytest.mark.parametrize("k", [3, 4, 6])
def test_k_class_sets_are_balanced_in_the_box_and_reproducible(name: str, k: int) -> None:
    ds = make_dataset(_cfg(name, classes=k, n=600, noise=0.2))
    y = ds.y_all
    assert np.bincount(y, minlength=k).tolist() == [600 // k] * k
    assert np.abs(ds.x_all).max() <= 1.0
    again = make_dataset(_cfg(name, classes=k, n=600, noise=0.2))
    assert np.array_equal(ds.x_all, again.x_all)


def test_k_arm_spiral_arms_are_the_article_arm_turned() -> None:
    k = 3
    ds = make_dataset(_cfg("spiral", classes=k, n=1500))
    x, y = ds.x_all, ds.y_all
    assert not ((np.abs(x[:, 0]) < 0.1) & (np.abs(x[:, 1]) < 0.1)).any()
    for label in range(k):
        a = -2.0 * np.pi * label / k  # turn arm `label` back onto arm 0
        rot = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
        p = x[y == label] @ rot.T
        theta = 1.0 - np.linalg.norm(p, axis=1)
        arm = (1.0 - theta)[:, None] * np.column_stack([np.cos(6 * theta), np.sin(6 * theta)])
        assert np.abs(p - arm).max() < 1e-9


def test_rings_put_class_j_in_band_j_with_gaps() -> None:
    k = 4
    ds = make_dataset(_cfg("rings", classes=k, n=4000))
    r = np.linalg.norm(ds.x_all, axis=1)
    for j in range(k):
        rj = r[ds.y_all == j]
        assert rj.min() >= (j / k + 0.5 * 0.25 / k if j else 0.0) - 1e-12
        assert rj.max() <= ((j + 1) / k - 0.5 * 0.25 / k if j < k - 1 else 1.0) + 1e-12


def test_csv_with_k_classes_needs_data_classes_k(tmp_path: Path) -> None:
    rows = "\n".join(f"{i},{(i * 7) % 5},{i % 3}" for i in range(30))
    p = _write(tmp_path, "x1,x2,label\n" + rows + "\n")
    assert csv_classes(p) == 3
    with pytest.raises(DataError, match=r"labels are 0..2 \(3 classes\).*set data.classes to 3"):
        make_dataset(_cfg("csv", csv_path=str(p), classes=2))
    ds = make_dataset(_cfg("csv", csv_path=str(p), classes=3))
    assert set(ds.y_all.tolist()) == {0, 1, 2}


def test_a_drawn_set_trains_on_every_point_and_is_never_made_again(tmp_path) -> None:
    from nndyn_gui.core.datasets import DataError, drawn_dataset, save_csv

    x = np.array([[0.2, 0.3], [-0.5, 0.4], [1.5, -2.0]])  # the last was drawn off the box
    ds, data = drawn_dataset(x, np.array([0, 1, 1]))
    assert data.name == "drawn" and data.n == 20 and data.test_fraction == 0.0
    assert len(ds.y_train) == 3 and len(ds.y_test) == 0
    assert np.allclose(ds.x_train[2], [1.0, -1.0])  # kept inside [-1, 1]^2
    with pytest.raises(DataError, match="run file"):
        make_dataset(data)
    path = tmp_path / "drawn.csv"
    save_csv(path, ds.x_all, ds.y_all)
    assert path.read_text().splitlines() == ["x1,x2,label", "0.2,0.3,0", "-0.5,0.4,1", "1.0,-1.0,1"]
    save_csv(path, np.concatenate([ds.x_all, [[0.0, 0.0]]]), [0, 1, 1, 0])
    xs, ys = load_csv(path)  # what Import CSV… reads back
    assert list(ys) == [0, 1, 1, 0] and xs.shape == (4, 2)
