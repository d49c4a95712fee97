"""Frames rendered AND encoded per second into an MP4 at 1280x720 and 1920x1080, 2-D and
3-D (title and legend drawn), vs a naive baseline; the target is 30 frames/s at 1080p.

The baseline is what one would write first: pyqtgraph's ImageExporter per frame, then
imageio.mimwrite of the collected frames (at 1280x720). Run under X for the 3-D numbers:

    bash scripts/with-x.sh .venv/bin/python benchmarks/bench_export.py

Without an X server the 3-D part is skipped (fps_3d = null). Prints one JSON line.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
if not os.environ.get("DISPLAY"):
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtWidgets import QApplication

import nndyn_gui.render.views  # noqa: F401 - GL context sharing before the app
from nndyn_gui.core.config import RunConfig
from nndyn_gui.core.types import Dataset, NetWeights, Run, Snapshot

FPS, TARGET = 30, 30.0
W, H = 1280, 720  # the baseline's size (and the figure before the 1080p work)
SIZES = ((1280, 720), (1920, 1080))  # exports are measured at both, in one run
FRAMES = int(os.environ.get("BENCH_FRAMES", "90"))


def ring(n: int = 1000) -> Dataset:
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, n)
    r = np.where(y == 0, 0.35 * np.sqrt(rng.uniform(0, 1, n)), rng.uniform(0.6, 0.95, n))
    a = rng.uniform(0, 2 * np.pi, n)
    x = np.column_stack([r * np.cos(a), r * np.sin(a)])
    k = int(0.8 * n)
    return Dataset(x[:k], y[:k], x[k:], y[k:], "ring")


def make_run(width: int, depth: int = 20) -> Run:
    cfg = RunConfig()
    cfg.model.width, cfg.model.depth, cfg.model.h = width, depth, 0.2
    rng = np.random.default_rng(1)
    w = NetWeights(
        1.5 * rng.normal(size=(depth, width, width)) / np.sqrt(width),
        0.2 * rng.normal(size=(depth, width)),
        rng.normal(size=width),
        0.1,
    )
    return Run(cfg.validate(), ring(), [Snapshot(0, 0.5, 0.8, 0.8, w)], "finished")


def bench_exporter(
    run: Run, folder: Path, name: str, size: tuple[int, int] = (W, H)
) -> tuple[float, bool]:
    from nndyn_gui.render.export import Exporter, ExportOptions

    w, h = size
    opts = ExportOptions(
        str(folder / name),
        width=w,
        height=h,
        fps=FPS,
        seconds=FRAMES / FPS,
        hold_seconds=0,
        title="A ResNet moves space",
        legend=True,
    )
    t0 = time.perf_counter()
    ex = Exporter(run, opts)
    while ex.step():
        pass
    ex.finish()
    dt = time.perf_counter() - t0
    return ex.total_frames / dt, ex.use_gl


def bench_baseline(run: Run, folder: Path) -> float:
    """ImageExporter per frame + imageio.mimwrite (frames kept in memory)."""
    import imageio.v2 as imageio
    import pyqtgraph.exporters as pge

    from nndyn_gui.render.scene import FlowScene
    from nndyn_gui.render.view2d import LayerView2D

    n = min(FRAMES, 45)
    t0 = time.perf_counter()
    scene = FlowScene.build(run.config, run.snapshots[-1].weights, run.dataset, dims=2)
    view = LayerView2D()
    view.resize(W, H)
    view.set_scene(scene)
    exp = pge.ImageExporter(view.getPlotItem())
    exp.parameters()["width"] = W
    frames = []
    for i in range(n):
        view.set_time(scene.t_max * i / (n - 1))
        img = exp.export(toBytes=True)
        img = img.convertToFormat(img.Format.Format_RGB888)
        arr = np.frombuffer(img.constBits(), np.uint8).reshape(img.height(), img.bytesPerLine())
        frames.append(arr[:, : 3 * img.width()].reshape(img.height(), img.width(), 3).copy())
    h2, w2 = (frames[0].shape[0] // 2) * 2, (frames[0].shape[1] // 2) * 2
    imageio.mimwrite(folder / "baseline.mp4", [f[:h2, :w2] for f in frames], fps=FPS)
    return n / (time.perf_counter() - t0)


def main() -> None:
    app = QApplication.instance() or QApplication([])
    from nndyn_gui.render.views import opengl_available

    per_size: dict[str, dict[str, float | None]] = {}
    with tempfile.TemporaryDirectory() as d:
        folder = Path(d)
        for w, h in SIZES:
            key = f"{w}x{h}"
            fps_2d, _ = bench_exporter(make_run(2), folder, f"a{key}.mp4", (w, h))
            fps_3d = None
            if opengl_available():
                fps, used_gl = bench_exporter(make_run(3), folder, f"b{key}.mp4", (w, h))
                fps_3d = fps if used_gl else None
            per_size[key] = {
                "fps_2d": round(fps_2d, 1),
                "fps_3d": None if fps_3d is None else round(fps_3d, 1),
            }
        base = bench_baseline(make_run(2), folder)
    big = per_size["1920x1080"]
    small = per_size["1280x720"]
    result = {
        "frames": FRAMES,
        "platform": app.platformName(),
        "load_avg_1m": round(os.getloadavg()[0], 2),
        **{f"{k}": v for k, v in per_size.items()},
        "baseline_fps_2d_1280x720": round(base, 1),
        "ratio_2d_1280x720": round(float(small["fps_2d"] or 0) / base, 2),
        "cost_1080p_vs_720p_2d": round(float(small["fps_2d"] or 0) / float(big["fps_2d"] or 1), 2),
        "target": TARGET,
        "pass": all(v is None or v >= TARGET for v in (big["fps_2d"], big["fps_3d"])),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
