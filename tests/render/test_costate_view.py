"""The Costate layer: at layer t, arrows at training points along p_t = −∂loss/∂x_t."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from nndyn_gui.core.analysis import costate
from nndyn_gui.core.types import Run, Snapshot
from nndyn_gui.render import costate_layer
from nndyn_gui.render.export import ExportOptions, export
from nndyn_gui.render.palette import WHITE
from nndyn_gui.render.scene import FlowScene, ViewOptions
from nndyn_gui.render.view2d import LayerView2D

from . import config, moving_weights, ring_dataset


def _drawn(view: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(bases, shafts (tip - base), class) of the arrows a LayerView2D draws, read from
    its line items (6 end points per arrow: the shaft, then two head barbs)."""
    bases, shafts, labels = [], [], []
    for k, item in enumerate(view.costate.arrow_items):
        if not item.isVisible():
            continue
        x, y = item.getData()
        seg = np.column_stack([x, y]).reshape(-1, 6, 2)
        bases.append(seg[:, 0])
        shafts.append(seg[:, 1] - seg[:, 0])
        labels.append(np.full(len(seg), k))
    return np.concatenate(bases), np.concatenate(shafts), np.concatenate(labels)


def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.linalg.norm(v, axis=-1, keepdims=True)


def test_arrows_point_along_the_costate_of_the_snapshot_shown(qtbot) -> None:
    cfg = config(width=2, depth=4, h=0.5)
    w, ds = moving_weights(cfg), ring_dataset()
    sc = FlowScene.build(cfg, w, ds, ViewOptions(show_costate=True), step=1234)
    v = LayerView2D()
    qtbot.addWidget(v)
    v.resize(600, 500)
    v.set_scene(sc)
    field = costate_layer.costate_field(v.flow_scene())
    assert field is not None
    rows = field.rows
    # training points only, spread: at most ARROW_POINTS, fewer than the training points
    assert (sc.indices[rows] < len(ds.x_train)).all()
    assert 20 < len(rows) <= costate_layer.ARROW_POINTS and len(rows) < len(ds.x_train)
    x, y = ds.x_all[sc.indices[rows]], ds.y_all[sc.indices[rows]]
    want = costate.costates(cfg, w, x, y, per_point=True)  # the module's, not ours
    side = float(np.max(sc.box_at(0.0)[1] - sc.box_at(0.0)[0]))
    for k in (0, 2, 4):
        v.set_time(float(k))
        base, shaft, lab = _drawn(v)
        order = np.argsort(np.concatenate([rows[field.labels == c] for c in (0, 1)]))
        base, shaft, lab = base[order], shaft[order], lab[order]
        np.testing.assert_allclose(base, sc.points[k, rows], atol=1e-9)
        assert (lab == y).all()  # coloured by class: each class's arrows in its item
        # the direction of every arrow is the costate's; a few spot checks by angle too
        np.testing.assert_allclose(_unit(shaft), _unit(want[k]), atol=1e-6)
        for i in (0, len(rows) // 2, len(rows) - 1):
            cos = float(_unit(shaft[i]) @ _unit(want[k][i]))
            assert cos > 0.999999
        # one factor per layer, from the data: the 90th-percentile arrow spans 7% of the box
        lengths = np.linalg.norm(shaft, axis=1)
        scale = costate_layer.ARROW_FILL * side / np.quantile(np.linalg.norm(want[k], axis=1), 0.9)
        np.testing.assert_allclose(lengths, scale * np.linalg.norm(want[k], axis=1), rtol=1e-6)
        np.testing.assert_allclose(
            np.quantile(lengths, 0.9), costate_layer.ARROW_FILL * side, rtol=1e-6
        )
        text = v.label_item.toPlainText()
        assert f"−∂loss/∂x_{k} at step 1,234" in text and f"×{scale:.3g} at this layer" in text
        assert f"({len(rows)} points)" in text


def test_between_two_layers_the_arrows_blend_and_the_caption_names_both_factors(qtbot) -> None:
    cfg = config(width=2, depth=3, h=0.5)
    w, ds = moving_weights(cfg), ring_dataset()
    sc = FlowScene.build(cfg, w, ds, ViewOptions(show_costate=True), step=7)
    box = sc.box_at(1.0)
    one, two = (costate_layer.arrows_at(sc, t, box) for t in (1.0, 2.0))
    mid = costate_layer.arrows_at(sc, 1.25, box)
    assert one is not None and two is not None and mid is not None
    np.testing.assert_allclose(mid.vec, 0.75 * one.vec + 0.25 * two.vec)
    np.testing.assert_allclose(mid.base, 0.75 * one.base + 0.25 * two.base)
    s1, s2 = one.scales[0], two.scales[0]
    assert mid.scales == (s1, s2)
    assert "layers 1→2 at step 7" in mid.caption and f"×{s1:.3g}→×{s2:.3g}" in mid.caption


def test_a_projected_view_draws_the_projection_of_the_costate(qtbot) -> None:
    cfg = config(width=4, depth=3, h=0.5)
    w, ds = moving_weights(cfg), ring_dataset()
    sc = FlowScene.build(cfg, w, ds, ViewOptions(show_costate=True), dims=2)
    assert sc.projection.projected
    field = costate_layer.costate_field(sc)
    assert field is not None
    x, y = ds.x_all[sc.indices[field.rows]], ds.y_all[sc.indices[field.rows]]
    p = costate.costates(cfg, w, x, y, per_point=True)
    got = costate_layer.arrows_at(sc, 2.0, sc.box_at(2.0))
    assert got is not None and "projected" in got.caption
    np.testing.assert_allclose(_unit(got.vec), _unit(p[2] @ sc.projection.matrix.T), atol=1e-9)
    # the input frame is drawn in its own plane: its arrows are p_0's first two entries
    got0 = costate_layer.arrows_at(sc, 0.0, sc.box_at(0.0))
    assert got0 is not None and "projected" not in got0.caption
    np.testing.assert_allclose(_unit(got0.vec), _unit(p[0][:, :2]), atol=1e-9)


def test_costate_shows_and_hides_with_its_option(qtbot) -> None:
    cfg = config(width=2, depth=3)
    v = LayerView2D()
    qtbot.addWidget(v)
    v.set_scene(FlowScene.build(cfg, moving_weights(cfg), ring_dataset(), ViewOptions()))
    assert not any(it.isVisible() for it in v.costate.arrow_items)
    v.set_options(ViewOptions(show_costate=True))
    assert all(it.isVisible() for it in v.costate.arrow_items[:2])
    assert "−∂loss/∂x_" in v.label_item.toPlainText()
    v.set_options(ViewOptions(show_costate=False))
    assert not any(it.isVisible() for it in v.costate.arrow_items)
    assert "∂loss" not in v.label_item.toPlainText()


def test_mlp_sub_steps_draw_arrows_at_whole_layers_only(qtbot) -> None:
    cfg = config(width=2, depth=2, kind="mlp")
    sc = FlowScene.build(
        cfg, moving_weights(cfg), ring_dataset(), ViewOptions(show_costate=True, substeps=True)
    )
    v = LayerView2D()
    qtbot.addWidget(v)
    v.set_scene(sc)
    whole = sc.frame_of_layer(1)
    v.set_time(float(whole))
    assert any(it.isVisible() for it in v.costate.arrow_items)
    v.set_time(float(whole - 1))  # A x + b of layer 1: no costate there
    assert not any(it.isVisible() for it in v.costate.arrow_items)
    assert "at whole layers only" in v.label_item.toPlainText()


def _arrow_pixels(img: np.ndarray) -> int:
    """Pixels of the classes' arrow colours (darker than the points' own)."""
    n = 0
    for k in (0, 1):
        rgb = np.array(costate_layer.arrow_colour(WHITE, k)[:3])
        n += int((np.abs(img - rgb).sum(-1) < 40).sum())
    return n


def test_export_and_nndyn_render_include_the_costate(tmp_path: Path, capsys) -> None:
    from PIL import Image

    from nndyn_gui.cli import commands as cli
    from nndyn_gui.core.io.runfile import save_run

    cfg = config(width=2, depth=3)
    run = Run(cfg, ring_dataset(), [Snapshot(10, 0.5, 0.9, 0.9, moving_weights(cfg))], "finished")
    pics = []
    for show in (False, True):
        out = tmp_path / f"c-{show}.png"
        export(
            run, ExportOptions(str(out), width=480, height=360, view=ViewOptions(show_costate=show))
        )
        pics.append(np.asarray(Image.open(out).convert("RGB")).astype(int))
    assert _arrow_pixels(pics[1]) > 300 and _arrow_pixels(pics[1]) > 10 * _arrow_pixels(pics[0])
    path = tmp_path / "r.nndyn"
    save_run(run, path)
    png = tmp_path / "cli.png"
    args = ["render", str(path), "--out", str(png), "--size", "480x360", "-q", "--costate"]
    assert cli.main(args) == 0
    img = np.asarray(Image.open(png).convert("RGB")).astype(int)
    assert _arrow_pixels(img) > 300
    capsys.readouterr()
    html = ["render", str(path), "--kind", "html", "--out", str(tmp_path / "p.html"), "--costate"]
    assert cli.main(html) == 2
    assert "--costate" in capsys.readouterr().err
