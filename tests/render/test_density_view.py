"""The Density layer: each class's density of fresh points, drawn at every layer."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from nndyn_gui.core.analysis import density
from nndyn_gui.core.types import Run, Snapshot
from nndyn_gui.render import density_layer
from nndyn_gui.render.export import ExportOptions, export
from nndyn_gui.render.palette import WHITE
from nndyn_gui.render.scene import FlowScene, ViewOptions
from nndyn_gui.render.view2d import LayerView2D

from . import config, moving_weights, ring_dataset


def test_the_drawn_image_is_the_histogram_of_the_pushed_samples(qtbot) -> None:
    cfg = config(width=2, depth=4, h=0.5)
    w = moving_weights(cfg)
    v = LayerView2D()
    qtbot.addWidget(v)
    v.resize(600, 500)
    sc = FlowScene.build(cfg, w, ring_dataset(), ViewOptions(show_density=True))
    v.set_scene(sc)
    pop = density.fresh_points(cfg, density.PER_CLASS, 2)
    assert len(pop.y) == 2 * density.PER_CLASS
    for k in (0, 2, 4):
        v.set_time(float(k))
        img = v.density.image_item.image
        assert v.density.image_item.isVisible() and img.shape[2] == 4
        # the same bins, counted here from the pushed points themselves
        stack = density_layer.density_stack(sc)
        assert stack is not None
        pts = np.asarray(sc.projection.apply(list(density.frames(cfg.model, w, pop.x))[k]))
        ref = density.class_histogram(pts, pop.y, 2, stack.box, img.shape[:2])
        np.testing.assert_array_equal(stack.counts[k], ref)
        # transparent exactly where no fresh point landed, coloured where any did
        alpha = img[..., 3]
        assert ((alpha > 0) == (ref.sum(axis=0) > 0)).all()
        # the colour of a bin holding one class only is that class's colour
        for c in (0, 1):
            only = (ref[c] > 20) & (ref[1 - c] == 0)
            assert only.any()
            assert (img[only][:, :3] == np.array(WHITE.class_color(c)[:3])).all()
    assert "fresh points of the distribution" in v.label_item.toPlainText()
    # the image sits on the box it was counted in: its corners map to the box's
    r = v.density.image_item.mapRectToParent(v.density.image_item.boundingRect())
    np.testing.assert_allclose(
        [r.left(), r.top(), r.right(), r.bottom()], stack.box.ravel()[[0, 1, 2, 3]]
    )


def test_density_shows_and_hides_with_its_option(qtbot) -> None:
    cfg = config(width=2, depth=3)
    v = LayerView2D()
    qtbot.addWidget(v)
    v.set_scene(FlowScene.build(cfg, moving_weights(cfg), ring_dataset(), ViewOptions()))
    assert not v.density.image_item.isVisible()
    v.set_options(ViewOptions(show_density=True))
    assert v.density.image_item.isVisible()
    v.set_options(ViewOptions(show_density=False))
    assert not v.density.image_item.isVisible()
    assert "fresh points" not in v.label_item.toPlainText()


def test_export_includes_the_density(tmp_path: Path) -> None:
    cfg = config(width=2, depth=3)
    w, ds = moving_weights(cfg), ring_dataset()
    run = Run(cfg, ds, [Snapshot(10, 0.5, 0.9, 0.9, w)], "finished")
    from PIL import Image

    pics = []
    for show in (False, True):
        out = tmp_path / f"d-{show}.png"
        opts = ExportOptions(
            str(out), width=480, height=360, view=ViewOptions(show_density=show, show_points=False)
        )
        export(run, opts)
        pics.append(np.asarray(Image.open(out).convert("RGB")).astype(int))

    def tinted(img: np.ndarray, rgb: tuple[int, ...]) -> int:
        """Pixels of a pale or full tint of this class colour (not white, not grey)."""
        d = img - 255
        ref = np.array(rgb[:3]) - 255
        cos = (d * ref).sum(-1) / (np.linalg.norm(d, axis=-1) * np.linalg.norm(ref) + 1e-9)
        return int(((cos > 0.97) & (np.abs(d).sum(-1) > 60)).sum())

    for k in (0, 1):
        assert tinted(pics[1], WHITE.class_color(k)) > 20 * max(
            1, tinted(pics[0], WHITE.class_color(k))
        )


def test_nndyn_render_density_draws_it_and_html_refuses_it(tmp_path: Path, capsys) -> None:
    from nndyn_gui.cli import commands as cli
    from nndyn_gui.core.io.runfile import save_run

    cfg = config(width=2, depth=3)
    run = Run(cfg, ring_dataset(), [Snapshot(10, 0.5, 0.9, 0.9, moving_weights(cfg))], "finished")
    path = tmp_path / "r.nndyn"
    save_run(run, path)
    from PIL import Image

    pics = []
    for flag in ([], ["--density"]):
        png = tmp_path / f"r{len(flag)}.png"
        args = ["render", str(path), "--out", str(png), "--size", "480x360", "-q", *flag]
        assert cli.main(args) == 0
        pics.append(np.asarray(Image.open(png).convert("RGB")).astype(int))
    # pale tints of the classes' colours (the density's low end) appear only with --density
    changed = np.abs(pics[1] - pics[0]).sum(-1) > 30
    assert changed.sum() > 2000
    capsys.readouterr()
    html = ["render", str(path), "--kind", "html", "--out", str(tmp_path / "p.html"), "--density"]
    assert cli.main(html) == 2
    assert "--density are not for --kind html" in capsys.readouterr().err


def test_k_classes_each_get_their_own_colour(qtbot) -> None:
    from nndyn_gui.core.config import RunConfig
    from nndyn_gui.core.datasets import make_dataset
    from nndyn_gui.core.types import NetWeights

    cfg = RunConfig()
    cfg.data.name, cfg.data.classes = "gaussians", 3
    cfg.model.width, cfg.model.depth, cfg.model.h = 2, 2, 0.5
    cfg = cfg.validate()
    rng = np.random.default_rng(0)
    w = NetWeights(
        0.3 * rng.normal(size=(2, 2, 2)), np.zeros((2, 2)), rng.normal(size=(3, 2)), np.zeros(3)
    )
    v = LayerView2D()
    qtbot.addWidget(v)
    v.set_scene(FlowScene.build(cfg, w, make_dataset(cfg.data), ViewOptions(show_density=True)))
    stack = density_layer.density_stack(v.flow_scene())
    assert stack is not None and stack.counts.shape[1] == 3 and stack.per_class.min() > 40_000
    img = v.density.image_item.image
    for k in range(3):
        only = (stack.counts[0, k] > 20) & (np.delete(stack.counts[0], k, axis=0).sum(0) == 0)
        assert (img[only][:, :3] == np.array(WHITE.class_color(k)[:3])).all() and only.any()
