"""The accuracy plot's legend never covers a curve, and crowds no short plot.

In a curves dock ~250 px high (a 1280x650 window) the two-row legend at the bottom
right of a ~70 px accuracy plot covered most of it and the curves at 100% under it."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from PySide6.QtCore import QRectF

from nndyn_gui.core.config import RunConfig
from nndyn_gui.core.types import Snapshot
from nndyn_gui.ui.curves import TrainingCurves
from nndyn_gui.ui.curves_legend import passes_through
from nndyn_gui.ui.state import AppState


def _curves(qtbot: Any, cfg: RunConfig, w: int, h: int) -> tuple[AppState, TrainingCurves]:
    state = AppState(cfg)
    curves = TrainingCurves(state)
    qtbot.addWidget(curves)
    curves.resize(w, h)
    curves.show()
    qtbot.waitExposed(curves)
    steps = range(0, 4001, 40)
    snaps = [
        Snapshot(
            s,
            0.7 * math.exp(-s / 300) + 1e-4,
            min(1.0, 0.55 + s / 400),  # at 100% from step 180 on, as resnet-w2-spiral
            min(1.0, 0.5 + s / 400),
            state.weights,
        )
        for s in steps
    ]
    state.extend_snapshots(snaps)
    qtbot.wait(100)
    return state, curves


def _legend_rect(curves: TrainingCurves) -> tuple[QRectF, QRectF]:
    """The legend's and the view box's rectangles in scene pixels."""
    legend, vb = curves.acc_plot.legend, curves.acc_plot.getViewBox()
    return legend.sceneBoundingRect(), vb.sceneBoundingRect()


def _covers_a_curve(curves: TrainingCurves) -> bool:
    """Samples every curve densely under the legend (in data coordinates)."""
    vb = curves.acc_plot.getViewBox()
    rect = vb.mapSceneToView(curves.acc_plot.legend.sceneBoundingRect()).boundingRect()
    y0, y1 = sorted((rect.top(), rect.bottom()))
    for item in (curves.train_curve, curves.test_curve):
        x, y = np.asarray(item.xData), np.asarray(item.yData)
        xs = np.linspace(rect.left(), rect.right(), 400)
        xs = xs[(xs >= x[0]) & (xs <= x[-1])]
        ys = np.interp(xs, x, y)
        if np.any((ys >= y0) & (ys <= y1)):
            return True
    return False


@pytest.mark.parametrize("size", [(420, 250), (420, 300), (520, 340), (520, 600)])
def test_the_legend_covers_no_curve_and_stays_in_the_plot(
    qtbot: Any, small_config: RunConfig, size: tuple[int, int]
) -> None:
    _, curves = _curves(qtbot, small_config, *size)
    legend, box = _legend_rect(curves)
    if curves.acc_plot.legend.isVisible():
        assert box.contains(legend), (legend, box)
        assert not _covers_a_curve(curves)
        assert legend.height() <= 0.34 * box.height()  # not a crowd in a short plot
    # with or without it, the readout above the plots names train and test
    text = curves.readout_text()
    assert "train acc" in text and "test acc" in text


def test_a_tall_plot_keeps_its_legend(qtbot: Any, small_config: RunConfig) -> None:
    _, curves = _curves(qtbot, small_config, 520, 600)
    assert curves.acc_plot.legend.isVisible()
    assert not _covers_a_curve(curves)


def test_passes_through_sees_a_segment_crossing_without_a_point_inside() -> None:
    x, y = np.array([0.0, 10.0]), np.array([0.0, 1.0])
    assert passes_through(x, y, QRectF(4.0, 0.3, 2.0, 0.4))  # the line crosses it
    assert not passes_through(x, y, QRectF(4.0, 0.8, 2.0, 0.1))  # above the line there
    assert not passes_through(x, np.array([np.nan, np.nan]), QRectF(0, 0, 10, 1))
