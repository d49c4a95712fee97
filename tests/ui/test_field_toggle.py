"""The Field check box beside Grid/Points/Trajectories: arrows follow the layer slider."""

from __future__ import annotations

from typing import Any

from nndyn_gui.ui.layer_panel import LayerPanel
from nndyn_gui.ui.state import AppState


def test_field_checkbox_draws_the_current_blocks_arrows(qtbot: Any, small_config: Any) -> None:
    layer = LayerPanel(AppState(small_config), background_build=False)
    qtbot.addWidget(layer)
    layer.resize(700, 600)
    layer.show()
    layer.rebuild_now()
    box = layer.checks["show_field"]
    assert box.text() == "Field" and not box.isChecked() and "h·σ(A_k x + b_k)" in box.toolTip()
    view = layer.view
    assert not any(it.isVisible() for it in view.field.arrow_items)
    box.click()
    assert layer.options().show_field
    layer.set_time(1.0)
    assert any(it.isVisible() for it in view.field.arrow_items)
    assert "of block 2" in view.label_item.toPlainText()
    layer.set_time(2.5)
    assert "between blocks 3 and 4" in view.label_item.toPlainText()
    box.click()
    assert not any(it.isVisible() for it in view.field.arrow_items)
