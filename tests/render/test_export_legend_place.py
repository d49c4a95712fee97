"""The export's class legend goes where it hides the fewest points (issue 21): data
crowding the top-right corner of a 2-D export push it to another corner, and a video's
legend stays in one place for all its frames."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QRectF

from nndyn_gui.core.types import Dataset, NetWeights, Run, Snapshot
from nndyn_gui.render.export import Exporter, ExportOptions
from nndyn_gui.render.export.layout import CORNERS, legend_box, legend_corner
from nndyn_gui.render.palette import WHITE

from . import config


@pytest.fixture(autouse=True)
def _app(qapp):
    """The exporters draw with Qt: a QApplication must exist."""


def _corner_run(names: str = "") -> Run:
    """Points only in the top-right quarter of the plane, a net that leaves them be."""
    rng = np.random.default_rng(0)
    x = rng.uniform(0.25, 1.0, size=(400, 2))
    y = (x[:, 0] > x[:, 1]).astype(np.int64)
    ds = Dataset(x[:320], y[:320], x[320:], y[320:], "drawn")
    cfg = config(width=2, depth=2)
    cfg.data.class_names = names
    cfg.validate()
    w = NetWeights(np.zeros((2, 2, 2)), np.zeros((2, 2)), np.array([1.0, -1.0]), 0.0)
    return Run(cfg, ds, [Snapshot(50, 0.3, 0.9, 0.9, w)], "finished")


def _frame(run: Run, tmp_path: Path, legend: bool) -> tuple[np.ndarray, Exporter]:
    opts = ExportOptions(
        str(tmp_path / "x.png"), width=600, height=600, layers=[0], prefer_3d=False, legend=legend
    )
    ex = Exporter(run, opts, write=False)
    try:
        return ex.render_frame(0), ex
    finally:
        ex.abort()


def _class_pixels(img: np.ndarray) -> np.ndarray:
    rgb = img[..., :3].astype(int)
    return np.any([np.abs(rgb - np.array(c[:3])).max(axis=-1) < 60 for c in WHITE.classes], axis=0)


def test_the_legend_leaves_points_in_the_top_right_visible(tmp_path: Path) -> None:
    run = _corner_run("left, right")
    plain, _ = _frame(run, tmp_path, legend=False)
    shown, ex = _frame(run, tmp_path, legend=True)
    assert ex._corner != "top-right"
    changed = np.abs(plain.astype(int) - shown.astype(int)).max(axis=-1) > 30
    ys, xs = np.nonzero(changed)
    assert len(xs) > 100  # a legend was drawn ...
    hidden = _class_pixels(plain)[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1].sum()
    assert hidden <= 0.01 * _class_pixels(plain).sum()  # ... over (almost) no point
    # and the top-right corner, where it used to be, is full of them
    h, w = plain.shape[:2]
    assert _class_pixels(plain)[: h // 4, 3 * w // 4 :].sum() > 50 * max(1, hidden)


def test_corners_tie_to_the_top_right() -> None:
    entries = [(0, "class 0"), (1, "class 1")]
    blank = np.full((300, 400, 4), 255, dtype=np.uint8)
    area = QRectF(0, 0, 400, 300)
    assert legend_corner([blank], area, entries, 1.0, [WHITE.classes[0][:3]]) == "top-right"
    # ink in every corner but the bottom-left: there it goes
    inked = blank.copy()
    for corner in CORNERS[:3]:
        r = legend_box(area, entries, 1.0, corner)
        inked[int(r.top()) : int(r.bottom()), int(r.left()) : int(r.right()), :3] = (178, 114, 0)
    ink = [WHITE.classes[0][:3]]
    assert legend_corner([inked], area, entries, 1.0, ink) == "bottom-left"


def test_a_videos_legend_stays_in_one_corner(tmp_path: Path) -> None:
    from . import moving_weights

    run = _corner_run()
    run.snapshots[0].weights = moving_weights(run.config, seed=3)  # points that move
    boxes = []
    for legend in (False, True):
        opts = ExportOptions(
            str(tmp_path / "v.mp4"), width=480, height=480, fps=10, seconds=1.0,
            hold_seconds=0.0, legend=legend, prefer_3d=False,
        )  # fmt: skip
        ex = Exporter(run, opts, write=False)
        try:
            last = ex.total_frames - 1
            boxes.append([ex.render_frame(i) for i in (0, last // 2, last)])
        finally:
            ex.abort()
    where = []
    for plain, shown in zip(*boxes, strict=True):
        ys, xs = np.nonzero(np.abs(plain.astype(int) - shown.astype(int)).max(axis=-1) > 30)
        where.append((ys.min() < 240, xs.min() < 240))  # which corner the legend is in
    assert len(set(where)) == 1, where
