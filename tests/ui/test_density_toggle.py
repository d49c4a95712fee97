"""The Density box beside Grid/Points/Field, and the sample-vs-population curves."""

from __future__ import annotations

from typing import Any

import numpy as np

from nndyn_gui.core.analysis import density
from nndyn_gui.core.datasets import make_dataset
from nndyn_gui.core.types import NetWeights, Snapshot
from nndyn_gui.ui.curves import TrainingCurves
from nndyn_gui.ui.layer_panel import LayerPanel
from nndyn_gui.ui.state import AppState


def test_density_checkbox_shows_and_hides_the_distribution(qtbot: Any, small_config: Any) -> None:
    layer = LayerPanel(AppState(small_config), background_build=False)
    qtbot.addWidget(layer)
    layer.resize(700, 600)
    layer.show()
    layer.rebuild_now()
    box = layer.checks["show_density"]
    assert box.text() == "Density" and not box.isChecked() and "fresh points" in box.toolTip()
    names = [b.text() for b in layer.checks.values()]
    assert names.index("Density") == names.index("Field") + 1
    view = layer.view
    assert not view.density.image_item.isVisible()
    box.click()
    assert layer.options().show_density
    layer.set_time(2.0)
    assert view.density.image_item.isVisible()
    assert "fresh points of the distribution" in view.label_item.toPlainText()
    box.click()
    assert not view.density.image_item.isVisible()
    assert "fresh points" not in view.label_item.toPlainText()


def _moving(cfg: Any, scale: float) -> NetWeights:
    rng = np.random.default_rng(3)
    d, t = cfg.model.width, cfg.model.depth
    return NetWeights(
        scale * rng.normal(size=(t, d, d)), 0.1 * rng.normal(size=(t, d)), rng.normal(size=d), 0.0
    )


def test_population_curves_follow_each_snapshot(qtbot: Any, small_config: Any) -> None:
    state = AppState(small_config)
    curves = TrainingCurves(state)
    qtbot.addWidget(curves)
    curves.resize(500, 700)
    curves.show()
    snaps = [
        Snapshot(s, 0.5, 0.8, 0.8, _moving(small_config, 0.2 + s / 100)) for s in (50, 100, 150)
    ]
    state.replace_snapshots(snaps)
    assert not any(p.isVisible() for p in curves.population.plots)
    curves.population_box.click()
    assert all(p.isVisible() for p in curves.population.plots)
    qtbot.waitUntil(lambda: len(curves.population.rows) == 3, timeout=20_000)
    v = curves.population.values()
    assert list(v["step"]) == [50, 100, 150]
    # each point is its snapshot's numbers, on the sample and on fresh points
    ds, cfg = state.dataset, state.run_config
    pop = density.fresh_points(cfg, density.POPULATION_N // 2, 2)
    for i, s in enumerate(snaps):
        r = density.sample_vs_population(cfg, s.weights, ds, s.step, pop)
        assert v["dense_accuracy"][i] == r.dense_accuracy
        assert v["population_transport"][i] == r.population_transport
    x, y = curves.population.dense_acc.getData()
    assert list(x) == [50, 100, 150] and np.allclose(y, v["dense_accuracy"])
    # the step axis reads in steps (not "x 1000" of an SI prefix taken before linking)
    ax = curves.population.cost_plot.getAxis("bottom")
    assert ax.autoSIPrefixScale == 1.0 and ax.labelText == "step"
    assert curves.hover_step(100.0) == 100
    text = curves.population.readout.text()
    assert "step&nbsp;100" in text and "population" in text and "gap" in text
    assert make_dataset(cfg.data).x_train.shape == ds.x_train.shape
    curves.population_box.click()
    assert not any(p.isVisible() for p in curves.population.plots)


def test_the_density_and_the_population_are_never_counted_on_the_gui_thread(
    qtbot: Any, window: Any, monkeypatch: Any
) -> None:
    """Density on, Sample vs population on, then a training run: the window never counts
    fresh points on its own thread (100,000 points through every layer, per snapshot)."""
    import threading

    seen: list[tuple[str, bool]] = []
    for name in ("push_histograms", "push_cloud", "sample_vs_population"):
        fn = getattr(density, name)

        def spy(*args: Any, _fn: Any = fn, _name: str = name, **kw: Any) -> Any:
            seen.append((_name, threading.current_thread() is threading.main_thread()))
            return _fn(*args, **kw)

        monkeypatch.setattr(density, name, spy)
    layer = window.layer_panel
    layer.wait_idle()
    layer.checks["show_density"].click()
    qtbot.waitUntil(
        lambda: layer.scene is not None and layer.scene.options.show_density, timeout=20_000
    )
    qtbot.waitUntil(lambda: layer.view.density.image_item.isVisible(), timeout=20_000)
    window.curves.population_box.setChecked(True)
    with qtbot.waitSignal(window.controller.finished, timeout=120_000):
        window.train()
    n = len(window.state.snapshots)
    qtbot.waitUntil(lambda: len(window.curves.population.rows) >= min(n, 3), timeout=30_000)
    assert {"push_histograms", "sample_vs_population"} <= {name for name, _ in seen}
    assert [name for name, gui in seen if gui] == []


def test_the_toggle_row_keeps_its_boxes_in_one_line_and_moves_draw_data_under_them(
    qtbot: Any,
) -> None:
    """A box more (Density) made the window wider than a 1280x720 projector: short of
    room, the row puts Draw data on a second line; every box stays whole and visible."""
    from nndyn_gui.render.scene import ViewOptions
    from nndyn_gui.ui.view_toggles import ViewToggles

    row = ViewToggles(ViewOptions())
    qtbot.addWidget(row)
    boxes = [*row.checks.values(), row.check_3d]
    wide = row.sizeHint().width()
    for width, lines in ((wide + 40, 1), (row.minimumSizeHint().width(), 2)):
        row.resize(width, row.heightForWidth(width))
        row.show()
        qtbot.waitExposed(row)
        tops = {b.geometry().top() for b in boxes}
        assert len(tops) == 1  # the check boxes: one line
        for w in [*boxes, row.draw_button]:
            g = w.geometry()
            assert g.left() >= 0 and g.right() < width and g.width() >= w.sizeHint().width()
        below = row.draw_button.geometry().top() > max(tops)
        assert below == (lines == 2)
        assert row.draw_button.geometry().right() == width - 1  # at the right end
    assert row.minimumSizeHint().width() < wide - row.draw_button.sizeHint().width()
