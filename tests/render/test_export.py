"""Exports as a user sees them: files read back, frames compared, errors and cleanup.

Runs under Qt's offscreen platform (no OpenGL): 3-D contents take the 2-D fallback.
"""

from __future__ import annotations

import errno
import os
import threading
import xml.etree.ElementTree as ET
from pathlib import Path

import imageio.v3 as iio
import numpy as np
import pytest

from nndyn_gui.cli.render import render_main
from nndyn_gui.core.types import Run, Snapshot
from nndyn_gui.render import encode
from nndyn_gui.render.encode import ExportError, Mp4Writer
from nndyn_gui.render.export import (
    NO_GL_WARNING,
    ExportCancelled,
    Exporter,
    ExportOptions,
    export,
    orbit_scene_2d,
    text_bands,
)
from nndyn_gui.render.export_spec import size_scale
from nndyn_gui.render.palette import WHITE
from nndyn_gui.render.scene import FlowScene, ViewOptions
from nndyn_gui.render.view2d import LayerView2D
from nndyn_gui.render.views import capture, sheet_grid

from . import config, moving_weights, ring_dataset

SMALL = {"width": 320, "height": 240, "fps": 10, "seconds": 1.0, "hold_seconds": 0.5}


@pytest.fixture(autouse=True)
def _app(qapp):
    """The exporters draw with Qt: a QApplication must exist."""


def _run(width: int = 2, depth: int = 4, snaps: int = 1) -> Run:
    cfg = config(width=width, depth=depth)
    ds = ring_dataset(300)
    snapshots = [
        Snapshot(
            step=50 * s,
            loss=1.0 / (s + 1),
            train_acc=0.5 + 0.1 * s,
            test_acc=0.5,
            weights=moving_weights(cfg, seed=1 + s),
        )
        for s in range(snaps)
    ]
    return Run(cfg, ds, snapshots, "finished")


@pytest.fixture(scope="module")
def run2() -> Run:
    return _run()


def _opts(path: Path, **kw) -> ExportOptions:
    return ExportOptions(str(path), **{**SMALL, **kw})


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if ".partial-" in p.name)


def _has_colour(img: np.ndarray, rgb: tuple[int, ...], tol: int = 40, min_px: int = 20) -> bool:
    d = np.abs(img[..., :3].astype(int) - np.array(rgb[:3])).max(axis=-1)
    return int((d <= tol).sum()) >= min_px


# ---------------------------------------------------------------------- videos
def test_layers_mp4_frames_count_size_motion_and_first_frame(tmp_path, run2):
    out = export(run2, _opts(tmp_path / "flow.mp4", legend=False))
    frames = iio.imread(out, index=None)
    assert abs(frames.shape[0] - 10 * (1.0 + 0.5)) <= 1
    assert frames.shape[1:] == (240, 320, 3)
    anim = frames[:10].astype(int)
    assert all(np.abs(anim[i + 1] - anim[i]).mean() > 0.05 for i in range(9))
    # the last frames are the hold: all the same picture
    assert np.abs(frames[-1].astype(int) - frames[-3]).mean() < 0.5

    # the window's view at the export's size scale (export_spec.size_scale), its text
    # for a lecture hall (ViewOptions.hall_text)
    opts = ViewOptions(scale=size_scale(320, 240), hall_text=True)
    scene = FlowScene.build(run2.config, run2.weights, run2.dataset, opts)
    view = LayerView2D(options=scene.options)
    view.set_scene(scene)
    view.set_time(0.0)
    ref = capture(view, 320, 240)[..., :3].astype(int)
    assert np.abs(frames[0].astype(int) - ref).mean() < 4.0  # H.264 noise only
    assert _leftovers(tmp_path) == []


def test_odd_size_is_padded_to_even_with_the_background(tmp_path, run2):
    ex = Exporter(
        run2, _opts(tmp_path / "odd.mp4", width=321, height=239, seconds=0.3, hold_seconds=0)
    )
    assert ex.frame_size == (322, 240)
    assert any("padded" in w for w in ex.warnings)
    out = ex.finish()
    frames = iio.imread(out, index=None)
    assert frames.shape[1:] == (240, 322, 3)
    assert frames[0][:, -1].mean() > 240  # the added column is white page, not stretched


def test_gif_plays_for_the_asked_time_and_loops(tmp_path, run2):
    out = export(run2, _opts(tmp_path / "flow.gif"))
    meta = iio.immeta(out, index=None)
    assert meta["loop"] == 0
    n = iio.imread(out, index=None).shape[0]
    total_ms = sum(iio.immeta(out, index=i)["duration"] for i in range(n))
    assert abs(total_ms - 1500) <= 100  # held frames are stored once, longer
    assert iio.imread(out, index=0).shape[:2] == (240, 320)


@pytest.mark.parametrize("fps", [10, 30, 50])
def test_gif_honours_the_fps_field(tmp_path, run2, fps):
    """GIF delays are hundredths of a second: 30 fps alternates 30/40 ms and keeps time."""
    out = export(run2, _opts(tmp_path / f"f{fps}.gif", fps=fps, seconds=1.0, hold_seconds=0))
    n = iio.imread(out, index=None).shape[0]
    delays = [iio.immeta(out, index=i)["duration"] for i in range(n)]
    assert n == fps and abs(sum(delays) - 1000) <= 10  # one second, as asked
    assert all(abs(d - 1000 / fps) < 10 for d in delays)


def test_same_run_and_options_give_identical_frames(tmp_path, run2):
    a = Exporter(run2, _opts(tmp_path / "a.mp4", title="Ring", caption="width 2"))
    b = Exporter(run2, _opts(tmp_path / "b.mp4", title="Ring", caption="width 2"))
    try:
        for i in (0, 4, 9, 14):
            np.testing.assert_array_equal(a.render_frame(i), b.render_frame(i))
    finally:
        a.abort()
        b.abort()
    p1 = export(run2, _opts(tmp_path / "1.png", content="sheet"))
    p2 = export(run2, _opts(tmp_path / "2.png", content="sheet"))
    np.testing.assert_array_equal(iio.imread(p1), iio.imread(p2))
    assert os.listdir(tmp_path) == ["1.png", "2.png"] or sorted(os.listdir(tmp_path)) == [
        "1.png",
        "2.png",
    ]


def test_title_and_caption_get_their_own_bands(tmp_path, run2):
    titled = Exporter(
        run2, _opts(tmp_path / "t.png", title="A ResNet moves space", caption="c", legend=False)
    )
    top, bottom = text_bands(240, "A ResNet moves space", "c")
    try:
        img = titled.render_frame(0)
        picture = capture(titled.views[0], 320, 240 - top - bottom)  # the view alone
    finally:
        titled.abort()
    assert top > 0 and bottom > 0 and img.shape[:2] == (240, 320)
    band = img[:top, :, :3].astype(int)
    assert (band.max(axis=-1) < 100).sum() > 30  # dark title text on the white band
    assert not (band.max(axis=-1) < 100)[:, :40].any()  # centred, not over the layer label
    np.testing.assert_array_equal(img[top : 240 - bottom], picture)  # the view, not covered


def test_training_video_changes_with_the_snapshots(tmp_path):
    run = _run(snaps=3)
    ex = Exporter(run, _opts(tmp_path / "train.mp4", content="training"))
    try:
        assert ex.total_frames == 15
        frames = [ex.render_frame(i) for i in (0, 5, 9)]
        assert [ex._producer.snap_index(i) for i in (0, 5, 9, 14)] == [0, 1, 2, 2]
        assert "step 0" in ex._producer.caption(0) and "step 100" in ex._producer.caption(14)
    finally:
        ex.abort()
    assert np.abs(frames[0].astype(int) - frames[1]).mean() > 0.5
    assert np.abs(frames[1].astype(int) - frames[2]).mean() > 0.5


def test_side_by_side_keeps_input_and_output_still(tmp_path, run2):
    ex = Exporter(run2, _opts(tmp_path / "sbs.mp4", content="side_by_side", width=480))
    try:
        f0, f5 = ex.render_frame(0).astype(int), ex.render_frame(5).astype(int)
    finally:
        ex.abort()
    third = 480 // 3
    assert np.array_equal(f0[:, : third - 2], f5[:, : third - 2])  # input panel
    assert np.array_equal(f0[:, -third + 2 :], f5[:, -third + 2 :])  # output panel
    assert np.abs(f0[:, third + 2 : 2 * third - 2] - f5[:, third + 2 : 2 * third - 2]).mean() > 0.5


def test_orbit_without_opengl_turns_a_2d_projection(tmp_path):
    run = _run(width=3)
    ex = Exporter(run, _opts(tmp_path / "orbit.mp4", content="orbit"))
    try:
        assert NO_GL_WARNING in ex.warnings
        assert ex.total_frames == 10  # a loop: no hold
        f = [ex.render_frame(i).astype(int) for i in (0, 1, 5)]
    finally:
        ex.abort()
    assert np.abs(f[0] - f[1]).mean() > 0.2 and np.abs(f[0] - f[2]).mean() > 0.5


def test_orbit_projection_turns_points_around_the_vertical_axis():
    cfg = config(width=3, depth=2)
    scene = FlowScene.build(cfg, moving_weights(cfg), ring_dataset(50), ViewOptions(), dims=3)
    a = orbit_scene_2d(scene, 0.0, 0.0)
    b = orbit_scene_2d(scene, 90.0, 0.0)
    p = scene.points[-1]
    np.testing.assert_allclose(a.points[-1], np.column_stack([p[:, 1], p[:, 2]]), atol=1e-12)
    np.testing.assert_allclose(b.points[-1], np.column_stack([-p[:, 0], p[:, 2]]), atol=1e-12)
    assert a.dims == 2 and a.plane_segment(a.bounds[-1]) is None


# ---------------------------------------------------------------------- stills
def test_png_is_a_real_picture_with_both_classes(tmp_path, run2):
    img = iio.imread(export(run2, _opts(tmp_path / "last.png")))
    assert img.shape[:2] == (240, 320)
    assert img.std() > 10
    assert _has_colour(img, WHITE.classes[0]) and _has_colour(img, WHITE.classes[1])


def test_transparent_png_has_alpha(tmp_path, run2):
    img = iio.imread(export(run2, _opts(tmp_path / "t.png", background="transparent")))
    assert img.shape == (240, 320, 4)
    assert (img[..., 3] == 0).mean() > 0.3 and (img[..., 3] == 255).any()


def test_sheet_svg_is_vector_xml_and_pdf_is_a_pdf(tmp_path, run2):
    svg = export(run2, _opts(tmp_path / "sheet.svg", content="sheet", layers=[0, 2, 4]))
    root = ET.parse(svg).getroot()
    paths = [e for e in root.iter() if e.tag.endswith("path")]
    assert len(paths) > 100  # points drawn as vector symbols, not one bitmap
    pdf = export(run2, _opts(tmp_path / "sheet.pdf", content="sheet", title="Flow"))
    assert pdf.read_bytes()[:5] == b"%PDF-" and pdf.stat().st_size > 5000
    one = export(run2, _opts(tmp_path / "layer.svg", layers=[2]))
    ET.parse(one)
    assert _leftovers(tmp_path) == []


def test_sheet_grid_wraps_only_when_panels_get_bigger():
    assert sheet_grid(4, 2000, 400) == (1, 4)
    assert sheet_grid(8, 1280, 720) == (2, 4)


# ---------------------------------------------------------------------- failures
def test_cancel_mid_export_leaves_nothing(tmp_path, run2):
    cancel = threading.Event()
    seen = []

    def progress(done, total):
        seen.append((done, total))
        if done == 4:
            cancel.set()

    with pytest.raises(ExportCancelled):
        export(run2, _opts(tmp_path / "c.mp4"), progress=progress, cancel=cancel)
    assert seen[-1] == (4, 15)
    assert os.listdir(tmp_path) == []


def test_existing_file_is_not_overwritten_without_permission(tmp_path, run2):
    target = tmp_path / "talk.png"
    target.write_bytes(b"keep me")
    with pytest.raises(ExportError, match="file exists; use --force"):
        export(run2, _opts(target))
    assert target.read_bytes() == b"keep me"
    export(run2, _opts(target, overwrite=True))
    assert iio.imread(target).shape[:2] == (240, 320)


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        ({"path": "x.avi"}, "unknown file type '.avi'"),
        ({"path": "noext"}, "unknown file type no extension"),
        ({"width": 0}, "size must be positive"),
        ({"height": -5}, "size must be positive"),
        ({"width": 8000, "height": 4000}, "too large"),
        ({"fps": 0}, "fps must be between 1 and 120"),
        ({"fps": 121}, "fps must be between 1 and 120"),
        ({"seconds": 0.0}, "seconds must be between 0.1 and 600"),
        ({"hold_seconds": -1.0}, "hold seconds must be between 0 and 60"),
        ({"fps": 60, "path": "fast.gif"}, "GIF plays at most 50 frames/s"),
        ({"quality": 11}, "quality must be between 1 and 10"),
        ({"background": "pink"}, "unknown background"),
        ({"content": "sheet", "path": "s.mp4"}, "keyframe sheet is a still"),
        ({"content": "orbit", "path": "o.svg"}, "SVG export is for 2-D stills"),
        ({"content": "orbit"}, "orbit needs a net of width 3"),
        ({"content": "nope"}, "unknown content"),
        ({"layers": [0, 9]}, "layer 9 is out of range 0..4"),
    ],
)
def test_bad_options_are_one_line_errors(tmp_path, run2, kw, message):
    path = tmp_path / kw.pop("path", "out.mp4")
    opts = _opts(path, **kw)
    with pytest.raises(ExportError, match=message) as e:
        opts.validate(run2)
    assert "\n" not in str(e.value)
    assert os.listdir(tmp_path) == []


def test_unwritable_places_are_refused_before_rendering(tmp_path, run2, monkeypatch):
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    with pytest.raises(ExportError, match="not a folder"):
        _opts(blocker / "out.mp4").validate(run2)
    with pytest.raises(ExportError, match="folder does not exist"):
        _opts(tmp_path / "missing" / "out.mp4").validate(run2)
    # chmod does not stop root (tests may run as root): simulate a read-only folder
    monkeypatch.setattr(os, "access", lambda *a, **k: False)
    with pytest.raises(ExportError, match="cannot write to folder"):
        _opts(tmp_path / "out.mp4").validate(run2)


def test_training_needs_snapshots(tmp_path):
    run = _run(snaps=0)
    with pytest.raises(ExportError, match="no training snapshots"):
        _opts(tmp_path / "t.mp4", content="training").validate(run)
    ex = Exporter(run, _opts(tmp_path / "init.png"))  # untrained: initial weights
    ex.abort()
    assert any("initial" in w for w in ex.warnings)


def test_encoder_dying_mid_export_is_an_error_without_partial_file(tmp_path, run2, monkeypatch):
    real = Mp4Writer.write

    def dies(self, frame):
        if self.frames >= 3:
            raise OSError(errno.EFBIG, "File too large")
        real(self, frame)

    monkeypatch.setattr(Mp4Writer, "write", dies)
    with pytest.raises(ExportError, match="file too large"):
        export(run2, _opts(tmp_path / "big.mp4"))
    assert os.listdir(tmp_path) == []


# ---------------------------------------------------------------------- CLI
@pytest.fixture
def run_file(tmp_path, run2):
    from nndyn_gui.core.io.runfile import save_run

    p = tmp_path / "ring.nndyn"
    save_run(run2, p)
    return p


def _cli(*args: str) -> list[str]:
    return [*args, "--size", "320x240", "--fps", "10", "--seconds", "0.5", "--hold", "0", "-q"]


def test_cli_renders_a_run_file(tmp_path, run_file, capsys):
    out = tmp_path / "talk.mp4"
    assert render_main(_cli(str(run_file), "--out", str(out))) == 0
    assert iio.imread(out, index=None).shape == (5, 240, 320, 3)
    assert capsys.readouterr().out.strip() == str(out)
    # again without --force: refused, file untouched
    before = out.read_bytes()
    assert render_main(_cli(str(run_file), "--out", str(out))) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"nndyn render: error: {out}: file exists; use --force to overwrite"]
    assert out.read_bytes() == before
    assert render_main(_cli(str(run_file), "--out", str(out), "--force")) == 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--size", "big"], "--size must look like 1920x1080"),
        (["--kind", "movie"], "invalid choice"),
        (["--fps", "500"], "fps must be between"),
        (["--layers", "a,b"], "--layers must be"),
    ],
)
def test_cli_bad_input_exits_2_with_one_line(tmp_path, run_file, capsys, args, message):
    code = render_main([str(run_file), "--out", str(tmp_path / "x.mp4"), *args])
    assert code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("nndyn render: error: ") and message in err[0]


def test_cli_missing_run_and_bad_extension(tmp_path, run_file, capsys):
    assert render_main([str(tmp_path / "nope.nndyn"), "--out", str(tmp_path / "a.mp4")]) == 2
    assert render_main([str(run_file), "--out", str(tmp_path / "a.mov")]) == 2
    assert render_main(["--out", str(tmp_path / "a.mp4")]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 3 and all(x.startswith("nndyn render: error: ") for x in lines)


def test_cli_ctrl_c_exits_130_and_removes_the_temp_file(tmp_path, run_file, monkeypatch):
    real = Exporter.step
    calls = {"n": 0}

    def interrupted(self):
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt
        return real(self)

    monkeypatch.setattr(Exporter, "step", interrupted)
    out = tmp_path / "c.mp4"
    assert render_main(_cli(str(run_file), "--out", str(out))) == 130
    assert sorted(os.listdir(tmp_path)) == ["ring.nndyn"]


def test_cli_export_failure_exits_1(tmp_path, run_file, monkeypatch, capsys):
    monkeypatch.setattr(encode, "MP4_PRESET", "no-such-preset")
    assert render_main(_cli(str(run_file), "--out", str(tmp_path / "f.mp4"))) == 1
    assert "encoding failed" in capsys.readouterr().err
    assert sorted(os.listdir(tmp_path)) == ["ring.nndyn"]


def test_cli_render_preset_takes_k_from_a_csv_files_labels(tmp_path, monkeypatch, capsys):
    """`nndyn render --preset … --set data.name=csv` reads the config as `nndyn train`
    does: the CSV file's labels (0, 1, 2) fix K = 3, no --set data.classes needed."""
    from nndyn_gui.core.engine import session as engine
    from nndyn_gui.core.net.initial_weights import initial_weights
    from nndyn_gui.core.types import TrainResult

    rng = np.random.default_rng(1)
    x = rng.uniform(-1, 1, (90, 2))
    y = np.digitize(x[:, 0], [-1 / 3, 1 / 3])
    csv = tmp_path / "three.csv"
    csv.write_text(
        "x1,x2,label\n" + "".join(f"{a:.4f},{b:.4f},{k}\n" for (a, b), k in zip(x, y, strict=True))
    )
    trained = []

    def fake_train(cfg, dataset, on_progress=None, **_kw):  # the config it was given
        trained.append((cfg, dataset))
        w = initial_weights(cfg.model, cfg.train.seed, cfg.data.classes)
        return TrainResult("finished", [Snapshot(10, 0.5, 0.6, 0.6, w)])

    monkeypatch.setattr(engine, "train", fake_train)
    out = tmp_path / "k3.png"
    args = ["--preset", "mlp-w2-ring", "--set", f"data.csv_path={csv}", "--set", "data.name=csv"]
    code = render_main([*args, "--kind", "sheet", "--size", "480x270", "--out", str(out), "-q"])
    assert code == 0, capsys.readouterr().err
    cfg, dataset = trained[0]
    assert cfg.data.classes == 3 and set(np.unique(dataset.y_all)) == {0, 1, 2}
    assert out.exists()
