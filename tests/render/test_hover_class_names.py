"""The hover readout calls classes by the run's names (data.class_names), as the input
map's and the web page's legends do; "class k" when the run names none."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPointF
from PySide6.QtTest import QTest

from nndyn_gui.core.config import RunConfig
from nndyn_gui.core.datasets import make_dataset
from nndyn_gui.core.net import flow
from nndyn_gui.core.types import NetWeights
from nndyn_gui.render import picking
from nndyn_gui.render.scene import FlowScene, ViewOptions
from nndyn_gui.render.view2d import LayerView2D

from . import config, moving_weights, ring_dataset

NAMES = ("inside", "outside")


def _scene(names: str = "") -> FlowScene:
    cfg = config(width=2)
    cfg.data.class_names = names
    cfg = cfg.validate()
    return FlowScene.build(cfg, moving_weights(cfg), ring_dataset(), ViewOptions(grid_n=9))


def _row_of_class(sc: FlowScene, k: int) -> int:
    return int(np.flatnonzero(sc.labels == k)[0])


def test_a_points_readout_names_its_class_and_the_probability_by_the_runs_names() -> None:
    sc = _scene(", ".join(NAMES))
    for k, name in enumerate(NAMES):
        h = picking.describe(sc, 0.0, "point", _row_of_class(sc, k))
        first = h.text.splitlines()[0]
        assert f"· {name} ·" in first, first
        assert f"P(outside) = {h.probability:.3f}" in first
        assert "class" not in first  # no "class 0" beside the name
    vertex = picking.describe(sc, 0.0, "vertex", 0)
    assert f"P(outside) = {vertex.probability:.3f}" in vertex.text


def test_the_regions_readout_names_the_class_there() -> None:
    sc = _scene(", ".join(NAMES))
    for k in range(len(NAMES)):
        row = _row_of_class(sc, k)
        region = picking.describe_region(sc, 0.0, sc.points[0, row])
        assert region is not None and region.probability is not None
        predicted = NAMES[int(region.probability >= 0.5)]
        assert f"P(outside) = {region.probability:.3f} here ({predicted})" in region.text


def test_without_names_the_readout_says_class_k() -> None:
    sc = _scene("")
    row = _row_of_class(sc, 1)
    h = picking.describe(sc, 0.0, "point", row)
    assert "· class 1 ·" in h.text and f"P(class 1) = {h.probability:.3f}" in h.text
    region = picking.describe_region(sc, 0.0, sc.points[0, row])
    assert region is not None and "here (class " in region.text


def test_k_named_classes_name_the_likeliest_one_in_the_regions() -> None:
    names = ("red", "green", "blue")
    cfg = RunConfig.from_dict(
        {
            "data": {
                "name": "gaussians",
                "classes": 3,
                "n": 300,
                "noise": 0.2,
                "class_names": ", ".join(names),
            },
            "model": {"kind": "resnet", "width": 2, "depth": 3, "h": 0.5},
        }
    )
    rng = np.random.default_rng(2)
    w = NetWeights(
        rng.normal(size=(3, 2, 2)) / np.sqrt(2),
        0.2 * rng.normal(size=(3, 2)),
        rng.normal(size=(3, 2)),
        0.3 * rng.normal(size=3),
    )
    ds = make_dataset(cfg.data)
    sc = FlowScene.build(cfg, w, ds, dims=2)
    for row in range(0, 60, 7):
        x = ds.x_all[sc.indices[row]][None]
        likeliest = int(np.argmax(flow.class_probabilities(w, flow.propagate(cfg.model, w, x)[-1])))
        h = picking.describe(sc, 0.0, "point", row)
        assert f"· {names[int(sc.labels[row])]} ·" in h.text
        region = picking.describe_region(sc, 0.0, sc.points[0, row])
        assert region is not None and f"here ({names[likeliest]})" in region.text


@pytest.fixture
def view(qtbot):
    v = LayerView2D()
    qtbot.addWidget(v)
    v.resize(500, 450)
    v.set_scene(_scene(", ".join(NAMES)))
    v.show()
    qtbot.waitExposed(v)
    return v


def test_hovering_a_point_in_the_view_shows_its_classs_name(qtbot, view) -> None:
    sc = view.flow_scene()
    view.set_time(0)
    pts = sc.points[0]
    gaps = np.hypot(*(pts[:, None, :] - pts[None]).transpose(2, 0, 1))
    np.fill_diagonal(gaps, np.inf)
    row = int(np.argmax(gaps.min(axis=1)))  # the loneliest point: nothing else near it
    at = view.getPlotItem().vb.mapViewToScene(QPointF(float(pts[row, 0]), float(pts[row, 1])))
    QTest.mouseMove(view.viewport(), view.mapFromScene(at))
    qtbot.waitUntil(lambda: view.hover() is not None, timeout=2000)
    assert view.hover().row == row
    text = view.hover_tip.toPlainText()
    assert f"point #{sc.indices[row]} · {NAMES[int(sc.labels[row])]} ·" in text, text
