"""The velocity field in the 2-D view: the drawn arrows are the blocks' field at their bases."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from nndyn_gui.core.net import flow
from nndyn_gui.core.types import NetWeights, Run, Snapshot
from nndyn_gui.render import field_layer
from nndyn_gui.render.export import ExportOptions, export
from nndyn_gui.render.palette import WHITE
from nndyn_gui.render.scene import FlowScene, ViewOptions
from nndyn_gui.render.view2d import LayerView2D
from nndyn_gui.render.views import capture

from . import config, moving_weights, ring_dataset


def _drawn_arrows(view: LayerView2D) -> tuple[np.ndarray, np.ndarray]:
    """Shaft start and end points of every arrow the view draws (all speed classes)."""
    starts, ends = [], []
    for it in view.field.arrow_items:
        if not it.isVisible():
            continue
        x, y = it.getData()
        pts = np.column_stack([x, y]).reshape(-1, 6, 2)  # shaft, then two head barbs
        starts.append(pts[:, 0])
        ends.append(pts[:, 1])
    return np.concatenate(starts), np.concatenate(ends)


@pytest.mark.parametrize("k", [0, 2, 4])
def test_drawn_arrows_are_h_sigma_of_the_block_at_their_base_points(qtbot, k: int) -> None:
    cfg = config(width=2, depth=5, h=0.3)
    w, ds = moving_weights(cfg), ring_dataset()
    v = LayerView2D()
    qtbot.addWidget(v)
    v.resize(500, 500)
    v.set_scene(FlowScene.build(cfg, w, ds, ViewOptions(show_field=True)))
    v.set_time(float(k))
    base, tip = _drawn_arrows(v)
    arrows = field_layer.arrows_at(v.flow_scene(), float(k), v.field_bounds())  # type: ignore[arg-type]
    assert arrows is not None and len(base) == len(arrows.base) > 50
    block = min(k, cfg.model.depth - 1)
    expect = 0.3 * np.tanh(base @ w.A[block].T + w.b[block])
    np.testing.assert_allclose((tip - base) / arrows.scale, expect, rtol=1e-9, atol=1e-12)
    assert f"block {block + 1}, drawn ×" in v.label_item.toPlainText()


def test_between_layers_the_arrows_glide_from_one_block_to_the_next() -> None:
    cfg = config(width=2, depth=4, h=0.3)
    w = moving_weights(cfg)
    sc = FlowScene.build(cfg, w, ring_dataset(), ViewOptions(show_field=True))
    box = sc.bounds[1]
    a = field_layer.arrows_at(sc, 1.5, box)
    assert a is not None
    expect = 0.5 * 0.3 * (np.tanh(a.base @ w.A[1].T + w.b[1]) + np.tanh(a.base @ w.A[2].T + w.b[2]))
    np.testing.assert_allclose(a.vec, expect, atol=1e-12)
    assert "between blocks 2 and 3" in a.caption


def test_projected_views_put_the_arrows_on_the_data_points() -> None:
    """Width 4 drawn in 2-D: each arrow is the projection of its point's true velocity."""
    cfg = config(width=4, depth=3, h=0.4)
    w, ds = moving_weights(cfg), ring_dataset()
    sc = FlowScene.build(cfg, w, ds, ViewOptions(show_field=True), dims=2)
    assert sc.projection.projected
    a = field_layer.arrows_at(sc, 2.0, sc.bounds[2])
    assert a is not None and "at the data points" in a.caption
    rows = field_layer._point_rows(sc.points.shape[1])
    np.testing.assert_allclose(a.base, sc.points[2, rows])
    x = flow.propagate(cfg.model, w, ds.x_all[sc.indices[rows]])[2]
    v = 0.4 * np.tanh(x @ w.A[2].T + w.b[2])
    np.testing.assert_allclose(a.vec, v @ sc.projection.matrix.T, atol=1e-12)
    np.testing.assert_allclose(a.speed, np.linalg.norm(v, axis=1), atol=1e-12)


def test_mlp_arrows_are_the_displacement_of_the_layer() -> None:
    cfg = config(width=2, depth=3, kind="mlp")
    w = moving_weights(cfg)
    sc = FlowScene.build(cfg, w, ring_dataset(), ViewOptions(show_field=True))
    a = field_layer.arrows_at(sc, 1.0, sc.bounds[1])
    assert a is not None and "σ(A x + b) − x" in a.caption
    np.testing.assert_allclose(a.vec, np.tanh(a.base @ w.A[1].T + w.b[1]) - a.base, atol=1e-12)


def test_tied_fixed_point_is_marked_where_the_field_rests(qtbot) -> None:
    cfg = config(width=2, depth=6, h=0.2)
    cfg.model.tied = True
    a = np.array([[0.5, 1.5], [1.0, -0.5]])  # eigenvalues of both signs: a saddle
    b = np.array([0.1, -0.05])
    w = NetWeights(np.repeat(a[None], 6, 0), np.repeat(b[None], 6, 0), np.ones(2), 0.0)
    v = LayerView2D()
    qtbot.addWidget(v)
    v.resize(500, 500)
    v.set_scene(FlowScene.build(cfg, w, ring_dataset(), ViewOptions(show_field=True)))
    v.set_time(3.0)
    assert v.field.point_item.isVisible()
    (px, py), x_star = v.field.point_item.getData(), -np.linalg.solve(a, b)
    np.testing.assert_allclose([px[0], py[0]], x_star, atol=1e-12)
    text = v.label_item.toPlainText()
    assert "tied: one field for every block" in text and "✕ saddle" in text


def test_the_field_toggle_shows_and_hides_it_and_exports_it(qtbot, tmp_path: Path) -> None:
    cfg = config(width=2, depth=4, h=0.3)
    w, ds = moving_weights(cfg), ring_dataset()
    v = LayerView2D()
    qtbot.addWidget(v)
    v.set_scene(FlowScene.build(cfg, w, ds, ViewOptions()))
    v.set_time(2.0)
    assert not any(it.isVisible() for it in v.field.arrow_items)
    v.set_options(ViewOptions(show_field=True))
    assert any(it.isVisible() for it in v.field.arrow_items)

    def field_pixels(img: np.ndarray) -> int:
        d = np.abs(img[..., :3].astype(int) - np.array(WHITE.field_fast[:3])).sum(-1)
        return int((d < 60).sum())

    run = Run(cfg, ds, [Snapshot(10, 0.5, 0.9, 0.9, w)], "finished")
    paths = []
    for show in (False, True):
        out = tmp_path / f"field-{show}.png"
        opts = ExportOptions(str(out), width=480, height=360, view=ViewOptions(show_field=show))
        export(run, opts)
        paths.append(out)
    from PIL import Image

    without, with_field = (np.asarray(Image.open(p).convert("RGBA")) for p in paths)
    assert field_pixels(with_field) > 20 * max(1, field_pixels(without))
    img = capture(v, 300, 300)
    assert field_pixels(img) > 50


def test_arrows_grow_with_the_frame_like_every_other_line(qtbot) -> None:
    """A 4K export draws everything at ViewOptions.scale: the arrows were hair-thin."""
    cfg = config(width=2, depth=5, h=0.3)
    widths = []
    for scale in (1.0, 3.0):
        v = LayerView2D()
        qtbot.addWidget(v)
        opts = ViewOptions(show_field=True, scale=scale)
        v.set_scene(FlowScene.build(cfg, moving_weights(cfg), ring_dataset(), opts))
        widths.append(v.field.arrow_items[0].opts["pen"].widthF())
    assert widths[1] == pytest.approx(3.0 * widths[0]) and widths[0] > 1.0
