"""Exports for a talk: big frames look like small ones enlarged, the picture fills the
frame, a legend names the classes, names say what a file holds (2-D, offscreen)."""

from __future__ import annotations

import argparse
from pathlib import Path

import imageio.v3 as iio
import numpy as np
import pytest

from nndyn_gui.cli.render import HTML_KIND, build_parser, render_main
from nndyn_gui.core.types import Run, Snapshot
from nndyn_gui.render import export_spec as spec
from nndyn_gui.render.export import Exporter, ExportOptions, preview_frame
from nndyn_gui.render.palette import WHITE

from . import config, moving_weights, ring_dataset


@pytest.fixture(autouse=True)
def _app(qapp):
    """The exporters draw with Qt: a QApplication must exist."""


@pytest.fixture(scope="module")
def run2() -> Run:
    cfg = config(width=2, depth=4)
    snap = Snapshot(50, 0.3, 0.9, 0.9, moving_weights(cfg, seed=1))
    return Run(cfg, ring_dataset(300), [snap], "finished")


def _frames(run: Run, w: int, h: int, which: tuple[int, ...] = (0,), **kw) -> list[np.ndarray]:
    kw = {"fps": 10, "seconds": 1, "hold_seconds": 0, **kw}
    opts = ExportOptions("unused.mp4", width=w, height=h, **kw)
    ex = Exporter(run, opts, write=False)
    try:
        return [ex.render_frame(i)[..., :3] for i in which]
    finally:
        ex.abort()


def _ink(img: np.ndarray, colours: list[tuple[int, ...]], tol: int = 40) -> np.ndarray:
    rgb = img[..., :3].astype(int)
    hit = np.zeros(rgb.shape[:2], dtype=bool)
    for c in colours:
        hit |= np.abs(rgb - np.array(c[:3])).max(axis=-1) <= tol
    return hit


def _extent(mask: np.ndarray) -> tuple[float, float]:
    """Share of the width and of the height that the True pixels span."""
    ys, xs = np.nonzero(mask)
    h, w = mask.shape
    return (xs.max() - xs.min() + 1) / w, (ys.max() - ys.min() + 1) / h


def test_a_big_export_is_the_small_one_enlarged(run2: Run) -> None:
    """1280x720 is 640x360 twice as big: the same picture, text and points included."""
    small = _frames(run2, 640, 360, (0, 9), title="Ring", legend=True)
    big = _frames(run2, 1280, 720, (0, 9), title="Ring", legend=True)
    for s, b in zip(small, big, strict=True):
        # compared in blocks of 8 x 8 small pixels: a line one pixel off is no difference
        coarse_s = s.reshape(45, 8, 80, 8, 3).mean(axis=(1, 3))
        coarse_b = b.reshape(45, 16, 80, 16, 3).mean(axis=(1, 3))
        assert np.abs(coarse_b - coarse_s).mean() < 3.0
        points_s = _ink(s, list(WHITE.classes)).sum()
        points_b = _ink(b, list(WHITE.classes)).sum()
        assert 3.0 < points_b / points_s < 7.0  # points grow with the area (x4), not stay


def test_the_layer_label_grows_with_the_frame(run2: Run) -> None:
    def label_height(img: np.ndarray) -> int:
        corner = img[: img.shape[0] // 8, : img.shape[1] // 4]
        rows = np.nonzero((corner.max(axis=-1) < 90).any(axis=1))[0]  # dark text rows
        return int(rows.max() - rows.min() + 1)

    (at720,) = _frames(run2, 1280, 720, legend=False)
    (at1080,) = _frames(run2, 1920, 1080, legend=False)
    assert label_height(at720) >= 0.025 * 720  # readable from the back of a room
    assert label_height(at1080) == pytest.approx(1.5 * label_height(at720), rel=0.15)


def test_the_picture_fills_the_frame_over_the_flow(run2: Run) -> None:
    """The drawn data and grid of all frames together span >= 80% of width or height."""
    frames = _frames(run2, 1920, 1080, tuple(range(10)), title="A title", legend=False)
    mask = np.zeros(frames[0].shape[:2], dtype=bool)
    for f in frames:
        mask |= _ink(f, [*WHITE.classes, WHITE.grid], tol=30)
    wide, high = _extent(mask)
    assert max(wide, high) >= 0.8, (wide, high)


def test_the_legend_names_each_class_in_its_colour(run2: Run) -> None:
    (plain,) = _frames(run2, 1280, 720, legend=False)
    (legend,) = _frames(run2, 1280, 720, legend=True)
    changed = np.abs(plain.astype(int) - legend.astype(int)).max(axis=-1) > 30
    ys, xs = np.nonzero(changed)
    assert xs.min() > 1280 * 0.75 and ys.max() < 720 * 0.25  # the top-right corner only
    box = legend[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1]
    for c in WHITE.classes:
        assert _ink(box, [c], tol=20).sum() > 30  # a swatch of each class colour
    assert (box.max(axis=-1) < 90).sum() > 40  # and its name in text


def test_a_preview_is_the_export_in_miniature(run2: Run, tmp_path: Path) -> None:
    opts = ExportOptions(str(tmp_path / "x.mp4"), width=1920, height=1080, title="Ring")
    small, warnings = preview_frame(run2, opts, 384, 216)
    assert small.shape[:2] == (216, 384) and warnings == []
    first, last = _frames(run2, 1920, 1080, (0, 9), title="Ring", seconds=1.0)
    coarse_s = small[..., :3].reshape(27, 8, 48, 8, 3).mean(axis=(1, 3))

    def off(big: np.ndarray) -> float:
        return float(np.abs(big.reshape(27, 40, 48, 40, 3).mean(axis=(1, 3)) - coarse_s).mean())

    assert off(last) < 6.0  # the last layer (what a video holds), with its text and legend
    assert off(first) > 2 * off(last)
    assert list(tmp_path.iterdir()) == []  # a preview writes nothing


def test_file_names_say_what_they_hold_and_never_take_an_existing_one(tmp_path: Path) -> None:
    first = spec.suggest_path(tmp_path, "ResNet, width 3: ring!", "side_by_side", ".mp4")
    assert Path(first).name == "resnet-width-3-ring-side-by-side-1.mp4"
    Path(first).write_bytes(b"x")
    assert Path(
        spec.suggest_path(tmp_path, "ResNet, width 3: ring!", "side_by_side", ".mp4")
    ).name == ("resnet-width-3-ring-side-by-side-2.mp4")


def test_the_cli_the_dialog_and_the_options_share_one_table(qtbot) -> None:
    """Defaults and ranges come from export_spec: the three readers cannot disagree."""
    from nndyn_gui.core.config import RunConfig
    from nndyn_gui.ui.export_dialog import ExportDialog
    from nndyn_gui.ui.state import AppState

    cli = build_parser().parse_args(["run.nndyn"])
    opts = ExportOptions("x.mp4")
    dlg = ExportDialog(AppState(RunConfig()))
    qtbot.addWidget(dlg)
    for n in spec.NUMBERS:
        assert getattr(cli, n.field) == getattr(opts, n.field) == n.default
        box = dlg.spins[n.field]
        assert (box.minimum(), box.maximum(), box.value()) == (n.lo, n.hi, n.default)
    assert cli.kind == opts.content == dlg.content() == spec.DEFAULT_CONTENT
    assert cli.background == opts.background == spec.DEFAULT_BACKGROUND
    assert cli.legend == opts.legend == dlg.legend_check.isChecked() == spec.DEFAULT_LEGEND
    assert cli.size == f"{opts.width}x{opts.height}"
    kinds = next(a for a in build_parser()._actions if a.dest == "kind")
    assert isinstance(kinds, argparse.Action)
    assert tuple(kinds.choices) == (*spec.CONTENT_KEYS, HTML_KIND)  # + the web page
    items = [dlg.content_combo.itemData(i) for i in range(dlg.content_combo.count())]
    assert tuple(items) == spec.CONTENT_KEYS
    formats = [dlg.format_combo.itemData(i) for i in range(dlg.format_combo.count())]
    assert tuple(formats) == (*spec.EXTENSIONS, spec.WEB_EXTENSION)


def test_the_cli_names_its_file_and_takes_legend_and_camera(
    tmp_path: Path, run2: Run, monkeypatch, capsys
) -> None:
    from nndyn_gui.core.io.runfile import save_run

    run_file = tmp_path / "ring.nndyn"
    save_run(run2, str(run_file))
    monkeypatch.chdir(tmp_path)
    common = ["--size", "320x180", "--fps", "5", "--seconds", "0.4", "--hold", "0", "-q"]
    args = [str(run_file), "--title", "Ring two", "--no-legend", "--camera", "10,20", *common]
    assert render_main(args) == 0
    assert render_main(args) == 0  # again: a new number, never the old file
    names = sorted(p.name for p in tmp_path.iterdir() if p.suffix == ".mp4")
    assert names == ["ring-two-layers-1.mp4", "ring-two-layers-2.mp4"]
    assert iio.imread(tmp_path / names[0], index=None).shape[1:3] == (180, 320)
    assert render_main([str(run_file), "--camera", "ten", *common]) == 2
    assert "--camera must look like" in capsys.readouterr().err


def test_two_runs_side_by_side_each_named(run2: Run, tmp_path: Path, capsys) -> None:
    from nndyn_gui.core.io.runfile import save_run

    cfg = config(width=2, depth=4)
    other = Run(cfg, ring_dataset(300), [Snapshot(50, 0.3, 0.9, 0.9, moving_weights(cfg, 9))])
    (frame,) = _frames(
        run2, 640, 360, content="compare", compare_with=other, labels=("Seed A", "Seed B")
    )
    left, right = frame[:, :320].astype(int), frame[:, 320:].astype(int)
    assert np.abs(left - right).mean() > 2  # two different flows
    for half in (left, right):
        assert _ink(half, list(WHITE.classes)).sum() > 100
        assert (half[:25].max(axis=-1) < 90).sum() > 20  # its name above it
    with pytest.raises(Exception, match="compare needs a second run"):
        ExportOptions(str(tmp_path / "c.png"), content="compare").validate(run2)
    a, b = tmp_path / "a.nndyn", tmp_path / "b.nndyn"
    save_run(run2, str(a))
    save_run(other, str(b))
    out = tmp_path / "ab.png"
    args = [str(a), "--kind", "compare", "--with", str(b), "--out", str(out), "--size", "320x180"]
    assert render_main([*args, "-q"]) == 0
    assert iio.imread(out).shape[:2] == (180, 320)
    # each half is named with its accuracy and the step it was measured at
    from nndyn_gui.core.analysis import comparison

    label = comparison.compare_half_label("w2", run2.snapshots[-1])
    assert label == "w2 · test 90.0% at step 50"
    assert render_main([str(a), "--kind", "compare", "--out", str(tmp_path / "x.png")]) == 2
    assert "--with B.nndyn" in capsys.readouterr().err


def test_an_untrained_k_class_run_beside_is_drawn_with_its_k_classes() -> None:
    """The second run of a comparison without snapshots is shown untrained with its own
    K (it was drawn with a two-class head), and the export says so."""
    from nndyn_gui.core.config import RunConfig
    from nndyn_gui.core.datasets import make_dataset

    cfg = RunConfig.from_dict(
        {
            "data": {"name": "gaussians", "classes": 3, "n": 300},
            "model": {"width": 2, "depth": 3, "h": 0.5},
            "title": "three blobs",
        }
    )
    other = Run(cfg, make_dataset(cfg.data), [])
    base = config(width=2, depth=4)
    first = Run(base, ring_dataset(300), [Snapshot(50, 0.3, 0.9, 0.9, moving_weights(base))])
    opts = ExportOptions(
        "unused.png", width=640, height=360, content="compare", compare_with=other,
        labels=("ring", "three blobs"),
    )  # fmt: skip
    ex = Exporter(first, opts, write=False)
    try:
        frame = ex.render_frame(0)[..., :3]
        assert ex._producer.scenes[1].classes == 3
        assert any("three blobs has no trained weights" in w for w in ex.warnings)
        assert _ink(frame[:, 320:], list(WHITE.all_classes[:3])).sum() > 100
    finally:
        ex.abort()


def test_an_edited_preset_is_titled_and_named_from_its_config(
    tmp_path: Path, monkeypatch, capsys
) -> None:
    """resnet-w3-ring trained at width 2: the sheet's title and file name say width 2, and
    each half of a comparison with the unedited preset carries its own title."""
    from nndyn_gui.core.io.presets import load_preset, preset_title
    from nndyn_gui.core.io.runfile import save_run
    from nndyn_gui.render import export

    preset = load_preset("resnet-w3-ring")
    runs = {}
    for name, cfg in (("a", preset), ("b", preset.with_set("model.width=2"))):
        cfg.model.depth = 4  # small and quick; still edited for b, and a's title changes too
        snap = Snapshot(50, 0.3, 0.9, 0.9, moving_weights(cfg, seed=1))
        runs[name] = tmp_path / f"{name}.nndyn"
        save_run(Run(cfg, ring_dataset(200), [snap], "finished"), str(runs[name]))
    seen: list[ExportOptions] = []
    real_init = export.Exporter.__init__

    def spy(self, run, options, *args, **kw):  # type: ignore[no-untyped-def]
        seen.append(options)
        real_init(self, run, options, *args, **kw)

    monkeypatch.setattr(export.Exporter, "__init__", spy)
    monkeypatch.chdir(tmp_path)
    small = ["--size", "320x180", "-q", "--no-3d"]
    assert render_main([str(runs["b"]), "--kind", "sheet", *small]) == 0
    made = Path(capsys.readouterr().out.strip()).name
    assert made == "resnet-width-2-depth-4-ring-edited-from-resnet-w3-ring-sheet-1.png"
    assert seen[-1].title == "ResNet, width 2, depth 4, ring (edited from resnet-w3-ring)"
    out = str(tmp_path / "ab.png")
    args = [str(runs["a"]), "--with", str(runs["b"]), "--kind", "compare", "--out", out]
    assert render_main([*args, *small]) == 0
    opts = seen[-1]
    assert opts.title == "Two runs: Width d 3 vs 2"
    assert opts.labels is not None
    left, right = opts.labels
    assert left.startswith("ResNet, width 3, depth 4, ring (edited from resnet-w3-ring)")
    assert right.startswith("ResNet, width 2, depth 4") and "lifted" not in right
    assert preset_title("resnet-w3-ring") not in left + right  # both were edited


def test_a_long_half_title_is_shortened_never_its_accuracy() -> None:
    """At 1920x1080 a preset's long title fills its half: the title is shortened, the
    accuracy and its step stay readable."""
    from nndyn_gui.render.export.producers import fit_name

    title = "ResNet, width 2, depth 51, ring (edited from resnet-w2-ring)"
    name = f"{title} · seed 0 · test 97.5% at step 1,500"
    short = fit_name(name, 700, 1.5)
    assert short.endswith(" · seed 0 · test 97.5% at step 1,500") and "…" in short
    assert fit_name("width 2 · test 97.5%", 400, 1.5) == "width 2 · test 97.5%"
