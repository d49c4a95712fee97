"""The Costate box beside Field/Density, and the Hamiltonian per layer in Diagnostics."""

from __future__ import annotations

import threading
from typing import Any

import numpy as np

from nndyn_gui.core.analysis import costate
from nndyn_gui.core.types import NetWeights, Snapshot
from nndyn_gui.ui.layer_panel import LayerPanel
from nndyn_gui.ui.state import AppState


def _moving(cfg: Any, scale: float) -> NetWeights:
    rng = np.random.default_rng(3)
    d, t = cfg.model.width, cfg.model.depth
    return NetWeights(
        scale * rng.normal(size=(t, d, d)), 0.1 * rng.normal(size=(t, d)), rng.normal(size=d), 0.0
    )


def test_costate_checkbox_shows_and_hides_the_arrows(qtbot: Any, small_config: Any) -> None:
    layer = LayerPanel(AppState(small_config), background_build=False)
    qtbot.addWidget(layer)
    layer.resize(700, 600)
    layer.show()
    layer.rebuild_now()
    box = layer.checks["show_costate"]
    assert box.text() == "Costate" and not box.isChecked() and "∂loss/∂x_t" in box.toolTip()
    names = [b.text() for b in layer.checks.values()]
    assert names.index("Costate") == names.index("Density") + 1
    items = layer.view.costate.arrow_items
    assert not any(it.isVisible() for it in items)
    box.click()
    assert layer.options().show_costate
    layer.set_time(2.0)
    assert any(it.isVisible() for it in items)
    assert "−∂loss/∂x_2" in layer.view.label_item.toPlainText()
    box.click()
    assert not any(it.isVisible() for it in items)
    assert "∂loss" not in layer.view.label_item.toPlainText()


def test_the_hamiltonian_curve_is_the_snapshot_shown_and_marks_the_layer(
    qtbot: Any, window: Any
) -> None:
    state = window.state
    cfg = state.run_config
    snaps = [Snapshot(s, 0.5, 0.8, 0.8, _moving(cfg, 0.2 + s / 100)) for s in (50, 100)]
    state.replace_snapshots(snaps)
    layer, plot = window.layer_panel, window.diagnostics.hamiltonian
    for snap in snaps:
        state.set_current(snap)
        layer.wait_idle()
        qtbot.waitUntil(lambda s=snap: window.diagnostics.snapshot is s, timeout=20_000)
        want = costate.hamiltonian_per_layer(
            cfg, snap.weights, state.dataset.x_train, state.dataset.y_train
        )
        x, y = plot.curve.getData()
        assert list(x) == list(range(1, cfg.model.depth + 1))
        np.testing.assert_allclose(y, want, rtol=1e-12)
        assert f"step {snap.step:,}" in plot.getPlotItem().titleLabel.text
    for k in (1, 3):  # the line stands at the layer the view shows
        layer.show_layer(k)
        assert plot.marker.isVisible() and plot.marker.value() == float(k)


def test_costates_are_never_computed_on_the_gui_thread(
    qtbot: Any, window: Any, monkeypatch: Any
) -> None:
    """Costate on, then a training run: the arrows and the Hamiltonian of every snapshot
    are computed off the GUI thread."""
    seen: list[bool] = []
    real = costate.analyse

    def spy(*args: Any, **kw: Any) -> Any:
        seen.append(threading.current_thread() is threading.main_thread())
        return real(*args, **kw)

    monkeypatch.setattr(costate, "analyse", spy)
    layer = window.layer_panel
    layer.wait_idle()
    layer.checks["show_costate"].click()
    qtbot.waitUntil(
        lambda: layer.scene is not None and layer.scene.options.show_costate, timeout=20_000
    )
    qtbot.waitUntil(
        lambda: any(i.isVisible() for i in layer.view.costate.arrow_items), timeout=20_000
    )
    with qtbot.waitSignal(window.controller.finished, timeout=120_000):
        window.train()
    last = window.state.snapshots[-1]
    qtbot.waitUntil(lambda: window.diagnostics.snapshot is last, timeout=30_000)
    qtbot.waitUntil(
        lambda: layer.scene is not None and layer.scene.step == last.step, timeout=30_000
    )
    assert len(seen) >= 3 and not any(seen)


def test_the_hamiltonian_curve_shows_with_the_costate_arrows(qtbot: Any, window: Any) -> None:
    """Without Costate ticked the curve stays out of the Diagnostics panel (its per-block
    table keeps its rows on a 1600x1000 screen); ticking Costate shows it."""
    window.show()
    qtbot.waitExposed(window)
    plot, box = window.diagnostics.hamiltonian, window.layer_panel.checks["show_costate"]
    assert not box.isChecked() and not plot.isVisible()
    box.click()
    qtbot.waitUntil(plot.isVisible, timeout=5_000)
    box.click()
    qtbot.waitUntil(lambda: not plot.isVisible(), timeout=5_000)
