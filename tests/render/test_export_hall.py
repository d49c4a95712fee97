"""A 1920x1080 export read from the back of a lecture hall (2-D, offscreen): the
title's letters >= 4 % of the height, legend, ticks and axis names >= 2.5 %, and the
layer's name above the plot, never on the data or the boundary line."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPointF
from PySide6.QtGui import QFont, QFontMetricsF

from nndyn_gui.core.types import Run, Snapshot
from nndyn_gui.render.export import Exporter, ExportOptions
from nndyn_gui.render.export.layout import LABEL_PX, frame_bands
from nndyn_gui.render.palette import WHITE

from . import config, moving_weights, ring_dataset

H = 1080


@pytest.fixture
def frame(qapp):
    cfg = config(width=2, depth=4)
    run = Run(cfg, ring_dataset(300), [Snapshot(50, 0.3, 0.9, 0.9, moving_weights(cfg))])
    opts = ExportOptions(
        "unused.png", width=1920, height=H, title="Ring: a title for the hall", legend=True
    )
    ex = Exporter(run, opts, write=False)
    try:
        yield ex, ex.render_frame(0)[..., :3], opts
    finally:
        ex.abort()


def test_the_title_and_legend_read_from_the_back(frame) -> None:
    _ex, img, opts = frame
    top, _bottom = frame_bands(opts)
    band = img[:top].astype(int)
    fg = np.array(WHITE.foreground[:3])
    rows = np.flatnonzero((np.abs(band - fg).max(axis=-1) < 60).any(axis=1))
    assert rows[-1] - rows[0] + 1 >= 0.04 * H, (rows[-1] - rows[0] + 1) / H
    legend = QFont()
    legend.setPixelSize(round(LABEL_PX * opts.view_scale()))
    assert QFontMetricsF(legend).capHeight() >= 0.025 * H


def test_ticks_axis_names_and_the_layers_name_in_a_2d_frame(frame) -> None:
    ex, _img, _opts = frame
    view = ex.views[0]
    pi = view.getPlotItem()
    for name in ("left", "bottom"):
        ax = pi.getAxis(name)
        assert QFontMetricsF(ax.style["tickFont"]).capHeight() >= 0.025 * H
        size = float(str(ax.labelStyle["font-size"]).rstrip("px"))
        font = QFont()
        font.setPixelSize(round(size))
        assert QFontMetricsF(font).capHeight() >= 0.025 * H
    # the layer's name lies in a band above the plot: no point or line under it
    label = view.label_item.mapRectToScene(view.label_item.boundingRect())
    plot = view._vb.sceneBoundingRect()
    assert view.label_item.toPlainText() and label.bottom() <= plot.top() + 1
    pts = view.flow_scene().at(view.time()).points
    scene_pts = [view._vb.mapViewToScene(QPointF(float(x), float(y))) for x, y in pts]
    assert not any(label.contains(p) for p in scene_pts)
