"""The input map's pictures (render/input_map.py): the boundary drawn where the net's
class changes, the regions in the class colours, the unit maps on one shared scale, and
nothing claimed where the net gives NaN."""

from __future__ import annotations

import numpy as np

from nndyn_gui.core.types import Dataset, NetWeights, Snapshot
from nndyn_gui.render.input_map import (
    NOT_FINITE,
    contour_segments,
    lattice,
    make_input_map,
    resolution,
    unit_activations,
)
from nndyn_gui.render.palette import WHITE

from . import config, ring_dataset


def test_the_zero_line_of_a_circle_is_the_circle() -> None:
    n = 120
    ext = (-1.0, 1.0, -1.0, 1.0)
    f = (lattice(ext, n) ** 2).sum(axis=1).reshape(n, n) - 0.25
    seg = contour_segments(f, ext)
    r = np.linalg.norm(seg, axis=-1)
    assert len(seg) > 100 and np.abs(r - 0.5).max() < 0.01


def test_a_saddle_cell_gives_two_segments() -> None:
    f = np.array([[1.0, -1.0], [-1.0, 1.0]])  # diagonal corners alike
    seg = contour_segments(f, (0.0, 2.0, 0.0, 2.0))
    assert seg.shape == (2, 2, 2)


def _snapshot(head: np.ndarray, width: int = 3, depth: int = 2, c: float | np.ndarray = 0.0):
    w = NetWeights(np.zeros((depth, width, width)), np.zeros((depth, width)), head, c)
    return Snapshot(100, 0.1, 0.9, 0.8, w)


def test_regions_and_boundary_of_a_known_net() -> None:
    cfg = config(width=3, depth=2)
    snap = _snapshot(np.array([0.0, 6.0, 0.0]))  # class 1 above x2 = 0
    m = make_input_map(cfg, snap, ring_dataset(200), WHITE, layer=1)
    assert (m.step, m.train_acc, m.test_acc, m.classes) == (100, 0.9, 0.8, 2)
    assert np.abs(m.boundary[..., 1]).max() < 0.02  # the line x2 = 0
    n = m.regions.shape[0]
    below, above = m.regions[n // 8, n // 2, :3], m.regions[-n // 8, n // 2, :3]
    c0, c1 = (np.array(c[:3]) for c in WHITE.classes)
    assert np.abs(below - c0).sum() < np.abs(below - c1).sum()
    assert np.abs(above - c1).sum() < np.abs(above - c0).sum()
    assert (m.regions[..., 3] == 255).all()  # opaque: the same on every page


def test_three_classes_have_borders_between_their_regions() -> None:
    cfg = config(width=3, depth=2)
    cfg.data.name, cfg.data.classes = "spiral", 3
    head = np.array([[4.0, 0.0, 0.0], [-2.0, 3.5, 0.0], [-2.0, -3.5, 0.0]])
    m = make_input_map(cfg, _snapshot(head, c=np.zeros(3)), ring_dataset(200), WHITE)
    assert m.classes == 3 and len(m.boundary) > 50
    # every border point is where two classes tie
    mid = m.boundary.mean(axis=1)
    z = mid @ head[:, :2].T
    top2 = np.sort(z, axis=1)[:, -2:]
    assert np.abs(top2[:, 1] - top2[:, 0]).max() < 0.2


def test_unit_maps_one_per_unit_on_one_scale() -> None:
    cfg = config(width=4, depth=3)
    rng = np.random.default_rng(0)
    w = NetWeights(rng.normal(size=(3, 4, 4)), rng.normal(size=(3, 4)), rng.normal(size=4), 0.0)
    snap = Snapshot(5, 0.5, 0.5, 0.5, w)
    m = make_input_map(cfg, snap, ring_dataset(100), WHITE, layer=2)
    assert m.layer == 2 and len(m.units) == 4
    act = unit_activations(cfg, snap, lattice(m.extent, 56), 2)
    assert m.unit_scale == np.abs(act).max()
    none = make_input_map(cfg, snap, ring_dataset(100), WHITE, layer=0)
    assert none.units == []


def test_not_finite_pixels_are_grey_and_said() -> None:
    cfg = config(width=2, depth=1)
    snap = _snapshot(np.array([np.nan, 1.0]), width=2, depth=1)
    m = make_input_map(cfg, snap, ring_dataset(50), WHITE)
    assert not m.finite and (m.regions[..., :3] == NOT_FINITE).all()


def test_the_plane_covers_every_point_and_wide_nets_cost_less() -> None:
    x = np.array([[2.0, -0.5], [0.1, 0.1]])
    ds = Dataset(x, np.array([0, 1]), x[:0], np.array([], dtype=np.int64))
    m = make_input_map(config(width=2, depth=1), _snapshot(np.ones(2), 2, 1), ds, WHITE)
    assert m.extent[1] >= 2.0 and m.extent[0] <= -2.0
    assert resolution(3, 10) == 160 and resolution(64, 10) < resolution(16, 10) <= 160
