"""The Input map dock (issue 21 item 4): the net's class regions over the input plane,
following the snapshot shown, train and test points told apart, the class names typed
in the panel in its legend, and one small map per unit of a chosen layer."""

from __future__ import annotations

import threading
from typing import Any

import numpy as np
import pytest

from nndyn_gui.core.types import NetWeights, Snapshot


def _snap(step: int, head: tuple[float, float], acc: float = 0.91, width: int = 2, depth: int = 4):
    """A 'trained' snapshot whose boundary is known: near-identity blocks and a head
    along `head` (w = (1, 0): the line x1 = 0, class 1 to the right)."""
    w = np.zeros(width)
    w[:2] = head
    weights = NetWeights(
        A=np.zeros((depth, width, width)),
        b=np.zeros((depth, width)),
        w=w * 8.0,
        c=0.0,
    )
    return Snapshot(step=step, loss=0.2, train_acc=acc, test_acc=acc - 0.04, weights=weights)


@pytest.fixture
def panel(qtbot: Any, window: Any) -> Any:
    dock = window.docks["inputmap"]
    dock.setFloating(True)
    dock.resize(900, 900)
    dock.show()
    dock.raise_()
    qtbot.waitUntil(lambda: window.input_map.isVisible(), timeout=3000)
    return window.input_map


def _shown(qtbot: Any, panel: Any, snap: Snapshot) -> None:
    qtbot.waitUntil(lambda: panel.snapshot is snap, timeout=10_000)


def _class_at(panel: Any, x: float, y: float) -> int:
    """Which class colour the region picture has at plane point (x, y)."""
    m = panel.map
    x0, x1, y0, y1 = m.extent
    n = m.regions.shape[0]
    i = int((y - y0) / (y1 - y0) * n)
    j = int((x - x0) / (x1 - x0) * n)
    rgb = m.regions[i, j, :3].astype(float)
    pal = panel._palette
    d = [np.abs(rgb - np.array(pal.class_color(k)[:3])).sum() for k in range(2)]
    return int(np.argmin(d))


def test_the_map_shows_the_snapshot_and_follows_it(qtbot: Any, window: Any, panel: Any) -> None:
    first = _snap(50, (1.0, 0.0))
    window.state.extend_snapshots([first])
    _shown(qtbot, panel, first)
    assert panel.caption.text().startswith("step 50")
    assert "train accuracy 91.0%" in panel.caption.text()
    assert "test accuracy 87.0%" in panel.caption.text()
    # class 0 left of x1 = 0, class 1 right of it, the boundary drawn on that line
    assert _class_at(panel, -0.7, 0.3) == 0 and _class_at(panel, 0.7, 0.3) == 1
    seg = panel.map.boundary
    assert len(seg) > 20 and np.abs(seg[..., 0]).max() < 0.05
    xs, _ys = panel.boundary_item.getData()
    assert len(xs) == 2 * len(seg)
    # a newer snapshot: the picture turns with its head
    second = _snap(100, (0.0, 1.0), acc=0.95)
    window.state.extend_snapshots([second])
    _shown(qtbot, panel, second)
    assert panel.caption.text().startswith("step 100")
    assert _class_at(panel, 0.3, -0.7) == 0 and _class_at(panel, 0.3, 0.7) == 1
    assert np.abs(panel.map.boundary[..., 1]).max() < 0.05


def test_the_untrained_net_claims_no_accuracy(qtbot: Any, window: Any, panel: Any) -> None:
    panel.refresh_now()
    assert panel.snapshot is window.state.current
    assert "untrained (step 0)" in panel.caption.text()
    assert "accuracy not measured" in panel.caption.text()
    assert "%" not in panel.caption.text()


def test_training_and_test_points_have_different_markers(
    qtbot: Any, window: Any, panel: Any
) -> None:
    panel.refresh_now()
    ds = window.state.dataset
    train = [i for i in panel.point_items if i.what == "training"]
    test = [i for i in panel.point_items if i.what == "test"]
    assert sum(len(i.data) for i in train) == len(ds.x_train)
    assert sum(len(i.data) for i in test) == len(ds.x_test)
    train_symbols = {i.opts["symbol"] for i in train}
    test_symbols = {i.opts["symbol"] for i in test}
    assert train_symbols == {"o"} and test_symbols == {"x"}
    legend = panel.legend_text()
    assert "● training points" in legend and "✕ test points" in legend


def test_typed_class_names_name_the_legends(
    qtbot: Any, window: Any, panel: Any, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from nndyn_gui.render.export import ExportOptions, export
    from nndyn_gui.render.export import exporter as exporter_module

    legend = panel.legend_text()
    assert "class 0" in legend and "class 1" in legend
    ctl = window.param_panel.controls["data.class_names"]
    ctl.line.setText("inside, outside")
    ctl.line.editingFinished.emit()
    assert window.state.config.data.names == ("inside", "outside")
    legend = panel.legend_text()
    assert "inside" in legend and "outside" in legend and "class 0" not in legend
    # the run keeps them, and an exported PNG's legend names the classes so
    run = window.state.run()
    assert run.config.data.class_names == "inside, outside"
    painted: list[list[tuple[int, str]]] = []
    real = exporter_module.paint_legend

    def spy(painter: Any, area: Any, entries: Any, *a: Any, **k: Any) -> Any:
        painted.append(list(entries))
        return real(painter, area, entries, *a, **k)

    monkeypatch.setattr(exporter_module, "paint_legend", spy)
    path = tmp_path / "named.png"
    opts = ExportOptions(str(path), width=640, height=360, layers=[0], prefer_3d=False)
    export(run, opts)
    assert path.stat().st_size > 0
    assert painted and painted[0] == [(0, "inside"), (1, "outside")]


def test_a_wrong_count_of_class_names_is_refused_with_a_message(
    qtbot: Any, window: Any, panel: Any
) -> None:
    ctl = window.param_panel.controls["data.class_names"]
    ctl.line.setText("a, b, c")
    ctl.line.editingFinished.emit()
    assert window.state.config.data.class_names == ""
    assert "3 names for 2 classes" in ctl.error.text()
    assert ctl.line.text() == "a, b, c"  # left to be corrected, its error under it
    assert "class 0" in panel.legend_text()


def test_one_unit_map_per_unit_of_the_chosen_layer(
    qtbot: Any, window: Any, panel: Any, changed: Any
) -> None:
    window.state.set_config(changed(window.state.config, model__width=5, model__depth=3))
    qtbot.waitUntil(lambda: panel.units.count() == 5, timeout=10_000)
    assert panel.units.titles()[0] == "layer 1, unit 1"
    panel.set_layer(3)
    qtbot.waitUntil(lambda: panel.map is not None and panel.map.layer == 3, timeout=10_000)
    assert panel.units.count() == 5
    assert panel.units.titles()[-1] == "layer 3, unit 5"
    assert [panel.layer_combo.itemText(i) for i in range(3)] == ["layer 1", "layer 2", "layer 3"]


def test_pictures_are_made_off_the_gui_thread(
    qtbot: Any, window: Any, panel: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import nndyn_gui.ui.input_map as im

    threads = []
    real = im.make_input_map

    def spy(*a: Any, **k: Any) -> Any:
        threads.append(threading.current_thread())
        return real(*a, **k)

    monkeypatch.setattr(im, "make_input_map", spy)
    window.state.set_training_state("training")
    snaps = [_snap(10 * (i + 1), (1.0, 0.1 * i)) for i in range(30)]
    for s in snaps:
        window.state.extend_snapshots([s])
        qtbot.wait(15)
    _shown(qtbot, panel, snaps[-1])  # the newest wins
    window.state.set_training_state("idle")
    assert threads and all(t is not threading.main_thread() for t in threads)
    assert len(threads) < len(snaps)  # throttled: not one picture per snapshot


@pytest.mark.timing
def test_the_window_never_freezes_while_the_map_follows_training(
    qtbot: Any, window: Any, panel: Any, changed: Any
) -> None:
    """The worker's stall probe (tests/ui/test_worker.py) with the input map up, large:
    its pictures are made off the GUI thread and drawn a few times a second, so the
    window keeps its budget (max < 150 ms, 95th percentile < 50 ms)."""
    from tests.ui.test_worker import _stall_gaps

    panel.wait_idle()  # the map is up, its first picture drawn, when Train is pressed
    qtbot.waitUntil(lambda: panel.snapshot is not None, timeout=10_000)
    qtbot.wait(300)
    gaps, n_snaps = _stall_gaps(qtbot, window, changed)
    assert n_snaps == 101
    qtbot.waitUntil(lambda: panel.snapshot is window.state.shown, timeout=10_000)
    assert panel.caption.text().startswith(f"step {window.state.shown.step:,}")
    assert len(gaps) > 20
    assert float(np.max(gaps)) < 150.0, np.sort(gaps)[-5:]
    assert float(np.percentile(gaps, 95)) < 50.0, np.percentile(gaps, 95)


def test_presentation_names_the_classes_as_typed(qtbot: Any, window: Any) -> None:
    cfg = window.state.config.copy()
    cfg.data.class_names = "inside, outside"
    window.state.set_config(cfg)
    window.layer_panel.wait_idle()
    pres = window.presentation
    pres.enter()
    try:
        qtbot.waitUntil(lambda: "inside" in pres.legend.text(), timeout=5000)
        assert "outside" in pres.legend.text() and "class 0" not in pres.legend.text()
    finally:
        pres.leave()
