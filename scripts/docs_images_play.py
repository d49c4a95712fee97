"""Make the user guide's pictures of drawing data and hovering (run under an X server).

    bash scripts/with-x.sh .venv/bin/python scripts/docs_images_play.py [OUT_DIR]

Writes drawn-data.png (a data set drawn with the Draw tool, being separated while it
trains: its regions at the input), hover-3d.png (the trained net at the output in
3-D, the mouse over a point: its readout and its whole trajectory lit) and
drawn-three-classes.png (three drawn blobs, K = 3, trained: the three regions). The strokes are
fed to the Draw tool as the layer view reports a mouse stroke, the hover as a mouse
move reports it; everything else is the window a user sees.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from docs_images import save, settle, wait_until


def draw(tool: Any, points: list[tuple[float, float]], label: int, pixel: float) -> None:
    """One stroke, as LayerView2D.drawEdit reports it (input coordinates)."""
    tool.label = label
    tool.edit("begin", 0.0, 0.0, pixel)
    for x, y in points:
        tool.edit("add", x, y, pixel)
    tool.edit("end", 0.0, 0.0, pixel)


def main(out: Path) -> int:
    from PySide6.QtWidgets import QApplication

    from nndyn_gui.core.config import RunConfig
    from nndyn_gui.render.views import share_gl_contexts

    share_gl_contexts()
    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    from nndyn_gui.ui.app import _load_style
    from nndyn_gui.ui.main_window import MainWindow
    from nndyn_gui.ui.state import AppState

    _load_style(app)
    out.mkdir(parents=True, exist_ok=True)
    cfg = RunConfig()
    cfg.model.width, cfg.model.depth, cfg.model.h = 3, 20, 0.2
    cfg.train.steps, cfg.train.snapshot_every, cfg.train.learning_rate = 4000, 100, 0.02
    win = MainWindow(AppState(cfg.validate()), restore_settings=False, autosave=False)
    win.no_prompt = True
    win.resize(1600, 1000)
    win.show()
    win.resize_docks_default()
    ready: list[Any] = []
    win.controller.workerReady.connect(ready.append)
    wait_until(app, lambda: bool(ready))
    panel = win.layer_panel
    panel.set_drawing(True)
    panel.draw_tool.clear()
    pixel = 0.005
    arc = np.linspace(0.6, 2 * math.pi - 0.6, 80)
    for r in (0.7, 0.8, 0.9):  # class 1: a "C" around the centre
        draw(panel.draw_tool, [(r * math.cos(t), r * math.sin(t)) for t in arc], 1, pixel)
    ring = np.linspace(0.0, 2 * math.pi, 40)
    for r in (0.1, 0.2, 0.3):  # class 0: a disk in the middle, a dot in the C's mouth
        draw(panel.draw_tool, [(r * math.cos(t), r * math.sin(t)) for t in ring], 0, pixel)
    dot = [(0.75 + 0.1 * math.cos(t), 0.1 * math.sin(t)) for t in ring]
    draw(panel.draw_tool, dot, 0, pixel)
    win.train()
    wait_until(app, lambda: any(s.step >= 300 for s in win.state.snapshots))
    win.controller.pause()
    panel.wait_idle()
    settle(app)
    save(panel, out / "drawn-data.png")
    win.controller.resume()
    wait_until(app, lambda: not win.controller.is_running())
    panel.set_drawing(False)
    panel.wait_idle()
    panel.show_last_layer()
    settle(app)
    view: Any = panel.view
    st = view.flow_scene().at(view.flow_scene().t_max)
    px = view.project_points(st.points, view.width(), view.height())
    j = int(np.argmin(np.hypot(px[:, 0] - 0.62 * view.width(), px[:, 1] - 0.6 * view.height())))
    view.hover_at_pixel(float(px[j, 0]), float(px[j, 1]))
    settle(app)
    save(panel, out / "hover-3d.png")
    # three classes drawn: three blobs in a row, class 2 between 0 and 1 (K = 3)
    panel.set_drawing(True)
    panel.draw_tool.clear()
    rng = np.random.default_rng(0)
    for k, cx in ((0, -0.6), (2, 0.0), (1, 0.6)):
        blob = np.column_stack([cx + 0.15 * rng.normal(size=40), 0.3 * rng.normal(size=40)])
        draw(panel.draw_tool, [tuple(p) for p in blob.clip(-0.95, 0.95)], k, pixel)
    win.train()
    wait_until(app, lambda: not win.controller.is_running())
    panel.wait_idle()
    settle(app)
    save(panel, out / "drawn-three-classes.png")
    win.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("docs/img")))
