"""The web page and notebook figure of a run (render/web, `nndyn render --kind html`),
without a browser: what they hold, how big they are, what the command line says.
(tests/render/test_web_browser.py opens the pages in Chromium.)"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from nndyn_gui.core.analysis import narrator
from nndyn_gui.core.io.runfile import save_run
from nndyn_gui.render.encode import ExportError
from nndyn_gui.render.web import WebOptions, build_figure, collect, html_text, write_html
from nndyn_gui.render.web import page as web_page
from nndyn_gui.render.web.flowdata import pick
from tests.render.web_runs import small_run

ENV = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
ROOT = Path(__file__).resolve().parents[2]


def page_payload(text: str) -> dict:
    m = re.search(r"<script type='application/json' id='nndyn-data'>(.*?)</script>", text, re.S)
    assert m is not None
    return json.loads(m.group(1).replace("<\\/", "</"))


def test_thinning_keeps_the_first_and_the_last() -> None:
    assert pick(101, 11) == list(range(0, 101, 10))
    assert pick(5, 0) == [0, 1, 2, 3, 4]
    assert pick(5, 9) == [0, 1, 2, 3, 4]
    assert pick(52, 2) == [0, 51]


def test_collect_holds_every_layer_and_names_things_as_the_app() -> None:
    run = small_run(depth=8, snapshots=3)
    data = collect(run, WebOptions(points=200, grid=6))
    assert data.title == narrator.run_title(run.config)
    assert data.layer_names[0] == "input" and data.layer_names[-1] == "output"
    assert len(data.layers) == 9 and len(data.snaps) == 3
    assert data.snaps[0].caption == "untrained (step 0)"
    assert data.snaps[-1].caption == "step 200 · train 90.0% · test 88.0%"
    assert data.class_names == ["class 0", "class 1"]
    run.config.data.class_names = "inside, outside"  # typed in the panel: the page's legend
    assert collect(run, WebOptions(points=200, grid=6)).class_names == ["inside", "outside"]
    assert data.snaps[-1].points.shape == (9, 200, 2)
    assert data.snaps[-1].grid.shape == (9, 36, 2)
    # the output has a separating line and the two half-planes, inside the box
    last = data.snaps[-1]
    assert len(last.boundary) == 1 and {k for k, _ in last.sides} == {0, 1}
    lo, hi = last.box
    for _, poly in last.sides:
        assert np.all(poly >= lo - 1e-9) and np.all(poly <= hi + 1e-9)


def test_positions_survive_packing_to_a_fraction_of_a_pixel() -> None:
    data = collect(small_run(width=3, depth=6), WebOptions(points=150, grid=5))
    snap = data.snaps[-1]
    snap.points[3, 7] = [np.inf, 0.0, 0.0]  # a diverged point: not drawn, never a wrong place
    blob, lo, span = web_page.pack_positions(data, 2)
    x = np.concatenate([snap.points, snap.grid], axis=1)
    back = web_page.unpack_positions(blob, lo, span, x.shape)
    ok = np.isfinite(x)
    assert np.all(np.isnan(back[3, 7]))
    step = span / web_page.QUANT_LEVELS
    assert np.nanmax(np.abs(back[ok] - x[ok])) <= 0.5 * step + 1e-12
    assert step < span / 2000  # ~0.3 px of an 800 px picture


def test_the_figure_has_a_frame_per_layer_and_the_line_only_at_the_output() -> None:
    data = collect(small_run(depth=8), WebOptions(points=100, grid=5))
    fig = build_figure(data, layer=0)
    assert len(fig.frames) == 9
    assert [s.label for s in fig.layout.sliders[0].steps] == data.layer_names
    assert fig.layout.sliders[0].active == 0
    names = [t.name for t in fig.data]
    assert names[-1] == "separating line" and "class 0" in names and "class 1" in names
    first, last = fig.frames[0], fig.frames[-1]
    vis = {
        f.name: {i: e.visible for i, e in zip(f.traces, f.data, strict=True)} for f in fig.frames
    }
    assert vis["input"][0] is True and vis["output"][0] is False  # regions at the input
    line = len(fig.data) - 1
    assert vis["output"][line] is True and vis["input"][line] is False
    assert first.data[first.traces.index(line)].visible is False
    assert fig.data[0].visible is True  # shown at layer 0, as asked
    assert last.name == "output"


def test_a_width_3_net_is_a_3d_figure_and_dims_2_flattens_it() -> None:
    run = small_run(width=3, depth=4)
    fig3 = build_figure(collect(run, WebOptions(points=80, grid=4)))
    assert {t.type for t in fig3.data} >= {"scatter3d", "mesh3d"}
    assert fig3.layout.scene.camera.eye.z > 0  # from above the data, not edge-on
    fig2 = build_figure(collect(run, WebOptions(points=80, grid=4, dims=2)))
    assert "scatter3d" not in {t.type for t in fig2.data}


def test_the_page_is_self_contained_and_carries_every_snapshot() -> None:
    run = small_run(depth=5, snapshots=4)
    text = html_text(run, WebOptions(points=120, grid=5))
    from plotly.offline import get_plotlyjs

    assert get_plotlyjs() in text  # plotly.js itself, inlined
    own = text.replace(get_plotlyjs(), "")
    assert "<script src" not in own and "http" not in own  # nothing to fetch
    payload = page_payload(text)
    assert [s["step"] for s in payload["snaps"]] == [0, 100, 200, 300]
    assert all(len(s["frames"]) == 6 for s in payload["snaps"])
    data = collect(run, WebOptions(points=120, grid=5))
    s = payload["snaps"][1]
    x = np.concatenate([data.snaps[1].points, data.snaps[1].grid], axis=1)
    back = web_page.unpack_positions(s["blob"], s["lo"], s["span"], x.shape)
    assert np.allclose(back, x, atol=s["span"] / web_page.QUANT_LEVELS)


def test_write_html_returns_its_size_and_refuses_what_it_cannot_write(tmp_path: Path) -> None:
    run = small_run(depth=3, snapshots=2)
    out = tmp_path / "flow.html"
    n = write_html(run, out, WebOptions(points=50, grid=4))
    assert n == out.stat().st_size
    with pytest.raises(ExportError, match="exists"):
        write_html(run, out, overwrite=False)
    with pytest.raises(ExportError, match=r"\.html"):
        write_html(run, tmp_path / "flow.png")
    with pytest.raises(ExportError, match=r"folder|directory|cannot write"):
        write_html(run, tmp_path / "missing" / "flow.html")
    with pytest.raises(ExportError, match="points"):
        WebOptions(points=0).validate()
    empty = small_run(depth=3)
    empty.snapshots = []
    with pytest.raises(ExportError, match="no snapshots"):
        write_html(empty, tmp_path / "e.html")


def test_no_qt_and_no_tensorflow_in_a_notebook_or_the_page_writer() -> None:
    code = (
        "import sys, nndyn_gui, nndyn_gui.api, nndyn_gui.render.web, nndyn_gui.cli.render\n"
        "bad = [m for m in sys.modules if m.split('.')[0] in "
        "('PySide6', 'pyqtgraph', 'OpenGL', 'tensorflow')]\n"
        "assert not bad, bad\n"
    )
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=ENV)
    assert p.returncode == 0, p.stderr


def render(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "nndyn_gui.cli", "render", *args],
        capture_output=True,
        text=True,
        env=ENV,
        cwd=cwd,
        timeout=120,
    )


def test_nndyn_render_kind_html_prints_the_path_and_the_size(tmp_path: Path) -> None:
    run_path = tmp_path / "r.nndyn"
    save_run(small_run(depth=6, snapshots=5), run_path)
    p = render(str(run_path), "--kind", "html", "--out", "f.html", "--keep-snapshots", "3",
               "--keep-layers", "4", "--keep-points", "100", cwd=tmp_path)  # fmt: skip
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() == "f.html"
    size = (tmp_path / "f.html").stat().st_size
    assert f"wrote {size / 1e6:.1f} MB: 4 of 7 layers, 3 of 5 snapshots, 100 points" in p.stderr
    payload = page_payload((tmp_path / "f.html").read_text())
    assert len(payload["snaps"]) == 3 and len(payload["meta"]["layers"]) == 4
    # without --out: a name from the title, never an existing file
    p2 = render(str(run_path), "--kind", "html", "-q", cwd=tmp_path)
    assert p2.returncode == 0 and p2.stdout.strip().endswith("-page-1.html")
    for bad, why in (
        (["--out", "f.mp4"], ".html"),
        (["--out", "f.html"], "exists"),
        (["--out", "g.html", "--background", "transparent"], "transparent"),
        (["--out", "g.html", "--keep-points", "0"], "points"),
    ):
        p3 = render(str(run_path), "--kind", "html", *bad, cwd=tmp_path)
        assert p3.returncode == 2, p3.stderr
        assert p3.stderr.startswith("nndyn render: error:") and why in p3.stderr
        assert "Traceback" not in p3.stderr


@pytest.mark.slow
def test_the_default_ring_run_fits_the_size_budget(tmp_path: Path) -> None:
    """Issue 24: resnet-w3-ring as shipped (51 blocks, 1,000 points, 20 x 20 grid, 11
    snapshots) makes a page of at most 8 MB. Trained for real: the size depends on how
    far the trained flow moves the points."""
    run_path = tmp_path / "w3.nndyn"
    cmd = [sys.executable, "-m", "nndyn_gui.cli", "train", "--preset", "resnet-w3-ring"]
    p = subprocess.run([*cmd, "--out", str(run_path), "--quiet"], env=ENV, timeout=600)
    assert p.returncode == 0
    p = render(str(run_path), "--kind", "html", "--out", "w3.html", cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    size = (tmp_path / "w3.html").stat().st_size
    assert "52 of 52 layers, 11 of " in p.stderr and "1,000 points, 20 x 20 grid" in p.stderr
    assert size <= 8_000_000, f"{size / 1e6:.2f} MB"
