"""K classes in the views: the drawn borders are the net's K regions, never a guess."""

from __future__ import annotations

import numpy as np
import pytest

from nndyn_gui.core.config import RunConfig
from nndyn_gui.core.datasets import make_dataset
from nndyn_gui.core.net import flow
from nndyn_gui.core.types import NetWeights
from nndyn_gui.render.palette import WHITE
from nndyn_gui.render.scene import FlowScene, ViewOptions
from nndyn_gui.render.view2d import LayerView2D
from nndyn_gui.render.views import capture


def _k_setup(k: int, width: int, seed: int = 2) -> tuple[RunConfig, NetWeights, object]:
    cfg = RunConfig.from_dict(
        {
            "data": {"name": "gaussians", "classes": k, "n": 400, "noise": 0.2},
            "model": {"kind": "resnet", "width": width, "depth": 3, "h": 0.5},
        }
    )
    rng = np.random.default_rng(seed)
    a = rng.normal(size=(3, width, width)) / np.sqrt(width)
    b = 0.2 * rng.normal(size=(3, width))
    w = NetWeights(a, b, rng.normal(size=(k, width)), 0.3 * rng.normal(size=k))
    return cfg, w, make_dataset(cfg.data)


@pytest.mark.parametrize(("k", "width", "dims"), [(3, 2, 2), (3, 5, 2), (4, 3, 3), (4, 6, 3)])
def test_the_views_regions_are_the_nets_prediction(k: int, width: int, dims: int) -> None:
    """In view coordinates the drawn head's argmax is the net's class for every point."""
    cfg, w, ds = _k_setup(k, width)
    sc = FlowScene.build(cfg, w, ds, dims=dims)  # type: ignore[arg-type]
    assert sc.classes == k and sc.class_head is not None
    wv, cv = sc.class_head
    in_view = np.argmax(sc.points[-1] @ wv.T + cv, axis=1)
    x = ds.x_all[sc.indices]  # type: ignore[attr-defined]
    assert np.array_equal(in_view, flow.predict(cfg.model, w, x))
    borders = sc.class_borders(sc.bounds[-1])
    assert borders and all(b.shape[1] == dims for b in borders)
    if width > dims:
        assert "exact borders of the" in sc.projection.note
        assert sc.projection.labels[0] == "class axis 1"


def test_no_border_is_drawn_when_the_classes_span_more_than_the_view() -> None:
    cfg, w, ds = _k_setup(4, 5)
    sc = FlowScene.build(cfg, w, ds, dims=2)  # type: ignore[arg-type]
    assert sc.class_head is None and sc.class_borders(sc.bounds[-1]) == []
    assert "the 4 classes differ in 3 directions, no border drawn in 2-D" in sc.projection.note
    assert sc.plane_segment(sc.bounds[-1]) is None


def _has_color(img: np.ndarray, rgb: tuple[int, ...], tol: int = 40) -> bool:
    d = np.abs(img[..., :3].astype(int) - np.array(rgb[:3])).sum(-1)
    return bool((d < tol).sum() > 5)


def test_a_three_class_view_shows_three_colours_and_draws_the_borders(qtbot) -> None:
    cfg, w, ds = _k_setup(3, 2)
    sc = FlowScene.build(cfg, w, ds, ViewOptions(show_grid=False))  # type: ignore[arg-type]
    v = LayerView2D()
    qtbot.addWidget(v)
    v.set_scene(sc)
    v.set_time(sc.t_max)
    img = capture(v, 400, 400)
    for colour in WHITE.all_classes[:3]:
        assert _has_color(img, colour)
    assert v.plane_item.isVisible()
    x, y = v.plane_item.getData()
    segs = np.column_stack([x, y]).reshape(-1, 2, 2)
    wv, cv = sc.class_head  # type: ignore[misc]
    for seg in segs:  # every drawn segment is a tie of two classes that beat the third
        mid = seg.mean(axis=0)
        z = np.sort(mid @ wv.T + cv)
        assert z[-1] - z[-2] < 1e-9
    # at the input the decision regions wash the square in the three class colours
    # (a confident head: nearly one-hot probabilities give the pure washes)
    sure = NetWeights(w.A, w.b, 20.0 * w.w, 20.0 * np.asarray(w.c))
    v.set_scene(FlowScene.build(cfg, sure, ds, ViewOptions(show_grid=False)))  # type: ignore[arg-type]
    v.set_options(ViewOptions(show_grid=False, show_points=False))
    v.set_time(0.0)
    img0 = capture(v, 400, 400)
    for colour in WHITE.all_classes[:3]:
        washed = np.round(255 + 0.35 * (np.array(colour[:3]) - 255)).astype(int)
        assert _has_color(img0, tuple(washed), tol=60)


def test_hovering_k_classes_names_the_likeliest_class_and_claims_no_plane() -> None:
    """A point's readout gives the softmax probability of its likeliest class; the output
    on class axes is no point of R^d, so the regions there claim nothing."""
    from nndyn_gui.render import picking

    cfg, w, ds = _k_setup(3, 2)
    sc = FlowScene.build(cfg, w, ds, dims=2)  # type: ignore[arg-type]
    row = 5
    x = ds.x_all[sc.indices[row]][None]  # type: ignore[attr-defined]
    probs = flow.class_probabilities(w, flow.propagate(cfg.model, w, x)[-1])[0]
    h = picking.describe(sc, 0.0, "point", row)
    assert h.probability is not None and abs(h.probability - probs.max()) < 1e-12
    assert "likeliest class" in h.text and "P(class 1)" not in h.text
    region = picking.describe_region(sc, 0.0, sc.points[0, row])
    assert region is not None and f"(class {int(np.argmax(probs))})" in region.text
    assert picking.region_probability(sc, sc.t_max, sc.points[-1, row]) is None


def test_region_readout_never_names_a_class_it_could_not_compute(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Where the likeliest class is unknown the readout says no class, not "(class -1)"."""
    from nndyn_gui.render import picking

    cfg, w, ds = _k_setup(3, 2)
    sc = FlowScene.build(cfg, w, ds, dims=2)  # type: ignore[arg-type]
    monkeypatch.setattr(picking, "_class_of_input", lambda *a: None)
    region = picking.describe_region(sc, 0.0, sc.points[0, 5])
    assert region is not None and "likeliest class here\n" in region.text
    assert "class -1" not in region.text and "(" not in region.text.splitlines()[0]
