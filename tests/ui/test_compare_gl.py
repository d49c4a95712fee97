"""Compare with real OpenGL (scripts/with-x.sh ... -m gl): 3-D beside 2-D, one camera."""

from __future__ import annotations

import pytest

from nndyn_gui.core.config import RunConfig
from nndyn_gui.render.views import opengl_available
from nndyn_gui.ui.compare import CompareWindow
from nndyn_gui.ui.state import AppState

pytestmark = pytest.mark.gl


def test_width_3_beside_width_2_is_3d_and_both_3d_columns_share_one_camera(
    qtbot, small_config: RunConfig
) -> None:
    if not opengl_available():
        pytest.skip("no OpenGL here (run under scripts/with-x.sh)")
    cfg = small_config.copy()
    cfg.train.steps = 100
    w = CompareWindow(AppState(cfg.validate()))
    qtbot.addWidget(w)
    w.resize(900, 500)
    w.show()
    w.choose_second("change", "model.width=3")
    w.wait_idle()
    assert [s.host.kind for s in w.sides] == ["2d", "3d"]  # the lift is shown in 3-D
    w.state.set_config(cfg.with_set("model.width=3"))  # A width 3 too; B: another seed
    w.choose_second("seed", seed=cfg.train.seed + 1)
    w.wait_idle()
    assert [s.host.kind for s in w.sides] == ["3d", "3d"]
    with qtbot.waitSignal(w.trainingFinished, timeout=90000):
        w.train_both()
    w.wait_idle()
    qtbot.waitUntil(lambda: not w._to_output, timeout=10000)
    a, b = (s.host.camera() for s in w.sides)
    assert a is not None and a == b  # one camera (angles and zoom) after training
    assert w.slider.value() == w.slider.maximum()  # opened at the output
    w.close()
