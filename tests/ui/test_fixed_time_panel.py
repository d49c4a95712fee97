"""The parameter panel holds h or the total time as the registry says (issue 22 item 2):
the one that follows is greyed out saying why, and shows the value that follows."""

from __future__ import annotations

from typing import Any

import pytest

from nndyn_gui.ui.param_panel import ParamPanel
from nndyn_gui.ui.state import AppState


@pytest.fixture
def panel(qtbot: Any, small_config: Any) -> ParamPanel:
    p = ParamPanel(AppState(small_config.with_set("model.total_time=2.0")))
    qtbot.addWidget(p)
    p.show()
    return p


def test_holding_the_total_time_greys_out_h_and_h_follows_the_depth(panel: ParamPanel) -> None:
    h, t = panel.controls["model.h"], panel.controls["model.total_time"]
    assert panel.controls["model.hold"].value() == "time"
    assert not h.isEnabled() and "total time is held" in h.toolTip()
    assert t.isEnabled()
    assert panel.apply("model.depth", 20)
    assert panel.state.config.model.h == pytest.approx(0.1)
    assert h.value() == pytest.approx(0.1)  # the greyed-out control shows what follows


def test_holding_h_again_greys_out_the_total_time(panel: ParamPanel) -> None:
    assert panel.apply("model.hold", "h")
    h, t = panel.controls["model.h"], panel.controls["model.total_time"]
    assert h.isEnabled() and not t.isEnabled() and "h is held" in t.toolTip()
    assert panel.apply("model.depth", 8)
    assert panel.state.config.model.total_time == pytest.approx(8 * panel.state.config.model.h)
