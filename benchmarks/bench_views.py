"""Frames/s of the layer animation: set_time(t) + a full render to an image.

2,000 points and a 40x40 grid, t sweeping 0..T in fractional steps (as the play button
does). The 2-D view is compared, in the same run, with a naive baseline that rebuilds
PlotDataItems with symbols every frame. The 3-D view needs OpenGL, i.e. an X server:

    QT_QPA_PLATFORM=offscreen .venv/bin/python benchmarks/bench_views.py   # 3-D skipped
    bash scripts/with-x.sh .venv/bin/python benchmarks/bench_views.py       # both

Prints one JSON object; exit status 0 when every measured view reaches 30 frames/s.
"""

from __future__ import annotations

import json
import os
import sys
import time

import numpy as np

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from nndyn_gui.render import views

N_POINTS = 2000
GRID_N = 40
DEPTH = 20
SIZE = (640, 480)
FRAMES = 60
TARGET_FPS = 30.0


def _dataset():
    from nndyn_gui.core.types import Dataset

    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, N_POINTS)
    r = np.where(
        y == 0, 0.35 * np.sqrt(rng.uniform(0, 1, N_POINTS)), rng.uniform(0.6, 0.95, N_POINTS)
    )
    a = rng.uniform(0, 2 * np.pi, N_POINTS)
    x = np.column_stack([r * np.cos(a), r * np.sin(a)])
    return Dataset(x, y, x[:0], y[:0], "ring")


def _scene(width: int):
    from nndyn_gui.core.config import RunConfig
    from nndyn_gui.core.net.initial_weights import initial_weights
    from nndyn_gui.render.scene import FlowScene, ViewOptions

    cfg = RunConfig()
    cfg.model.width, cfg.model.depth, cfg.model.h = width, DEPTH, 0.3
    cfg.model.init_scale = 2.0
    w = initial_weights(cfg.model, 0)
    return FlowScene.build(cfg, w, _dataset(), ViewOptions(grid_n=GRID_N), max_points=N_POINTS)


def _times(scene) -> np.ndarray:
    return np.linspace(0.0, scene.t_max, FRAMES)


def bench_view(view, scene) -> float:
    """set_time + capture at SIZE, frames per second (after one warm-up frame)."""
    views.capture(view, *SIZE)
    t0 = time.perf_counter()
    for t in _times(scene):
        view.set_time(float(t))
        views.capture(view, *SIZE)
    return FRAMES / (time.perf_counter() - t0)


def bench_baseline_2d(scene) -> float:
    """The obvious way: clear the plot and re-add PlotDataItems with symbols every frame."""
    import pyqtgraph as pg

    w = pg.PlotWidget()
    w.resize(*SIZE)
    pi = w.getPlotItem()
    pi.setAspectLocked(True)
    masks = [scene.labels == k for k in (0, 1)]
    n = GRID_N

    def frame(t: float) -> None:
        st = scene.at(t)
        pi.clear()
        for k, m in enumerate(masks):
            p = st.points[m]
            pi.plot(p[:, 0], p[:, 1], pen=None, symbol="o", symbolSize=5,
                    symbolBrush=pg.intColor(k), symbolPen=None)  # fmt: skip
        g = st.grid.reshape(n, n, 2)
        for i in range(n):
            pi.plot(g[i, :, 0], g[i, :, 1], pen=(180, 180, 180))
            pi.plot(g[:, i, 0], g[:, i, 1], pen=(180, 180, 180))

    frame(0.0)
    views.capture(w, *SIZE)
    t0 = time.perf_counter()
    for t in _times(scene):
        frame(float(t))
        views.capture(w, *SIZE)
    return FRAMES / (time.perf_counter() - t0)


def main() -> int:
    from PySide6.QtWidgets import QApplication

    from nndyn_gui.render.view2d import LayerView2D

    app = QApplication.instance() or QApplication(sys.argv[:1])
    sc2 = _scene(2)
    v2 = LayerView2D()
    v2.set_scene(sc2)
    fps_2d = bench_view(v2, sc2)
    base_2d = bench_baseline_2d(sc2)

    fps_3d: float | str = "skipped"
    if views.opengl_available():
        from nndyn_gui.render.view3d import LayerView3D

        sc3 = _scene(3)
        v3 = LayerView3D()
        v3.set_scene(sc3)
        fps_3d = bench_view(v3, sc3)
    ok = fps_2d >= TARGET_FPS and (isinstance(fps_3d, str) or fps_3d >= TARGET_FPS)
    result = {
        "points": N_POINTS,
        "grid": f"{GRID_N}x{GRID_N}",
        "size": f"{SIZE[0]}x{SIZE[1]}",
        "platform": app.platformName(),
        "fps_2d": round(fps_2d, 1),
        "fps_3d": fps_3d if isinstance(fps_3d, str) else round(fps_3d, 1),
        "baseline_fps_2d": round(base_2d, 1),
        "ratio_2d": round(fps_2d / base_2d, 2),
        "target_fps": TARGET_FPS,
        "pass": bool(ok),
    }
    print(json.dumps(result))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
