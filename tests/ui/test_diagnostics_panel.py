"""Diagnostics panel: the verdicts a user reads for hand-built weights."""

from __future__ import annotations

import numpy as np
import pytest

from nndyn_gui.core.config import RunConfig
from nndyn_gui.core.types import NetWeights, Snapshot
from nndyn_gui.ui.diagnostics_panel import DEBOUNCE_MS, DiagnosticsPanel
from nndyn_gui.ui.state import AppState


def _weights(a: np.ndarray, depth: int) -> NetWeights:
    d = a.shape[-1]
    return NetWeights(
        A=np.repeat(a[None], depth, axis=0), b=np.zeros((depth, d)), w=np.ones(d), c=0.0
    )


def _panel(qtbot, cfg: RunConfig) -> tuple[AppState, DiagnosticsPanel]:
    state = AppState(cfg)
    panel = DiagnosticsPanel(state)
    qtbot.addWidget(panel)
    panel.resize(480, 640)
    panel.show()
    return state, panel


def _show(qtbot, state: AppState, panel: DiagnosticsPanel, w: NetWeights) -> None:
    state.append_snapshot(Snapshot(10, 0.5, 0.6, 0.6, w))
    qtbot.waitUntil(lambda: panel.diagnostics is not None and not panel.diagnostics_busy())


@pytest.fixture
def resnet_cfg(small_config: RunConfig) -> RunConfig:
    cfg = small_config.copy()
    cfg.model.kind, cfg.model.h, cfg.model.depth, cfg.model.activation = "resnet", 0.5, 5, "tanh"
    return cfg.validate()


def test_table_has_one_row_per_block(qtbot, resnet_cfg: RunConfig) -> None:
    _, panel = _panel(qtbot, resnet_cfg)
    assert panel.table.rowCount() == resnet_cfg.model.depth
    assert [panel.table.cell_text(i, 0) for i in range(5)] == ["1", "2", "3", "4", "5"]


def test_verdict_flips_when_h_norm_crosses_one(qtbot, resnet_cfg: RunConfig) -> None:
    state, panel = _panel(qtbot, resnet_cfg)
    _show(qtbot, state, panel, _weights(np.eye(2) * 1.0, 5))  # h*|A|*Lip = 0.5
    text = panel.summary_label.text()
    assert "All 5 blocks satisfy h·Lip(g) < 1" in text and "invertible" in text
    assert panel.table.cell_text(0, 1) == "0.5"
    assert "✓" in panel.table.cell_text(0, 2)

    a = np.eye(2) * 1.0
    w = _weights(a, 5)
    w.A[2] = np.eye(2) * 4.0  # block 3: h*|A|*Lip = 2
    _show(qtbot, state, panel, w)
    text = panel.summary_label.text()
    assert "Block 3 violates" in text and "= 2" in text
    assert "✗" in panel.table.cell_text(2, 2)
    assert "✓" in panel.table.cell_text(0, 2)


def test_recompute_is_debounced(qtbot, resnet_cfg: RunConfig) -> None:
    state, panel = _panel(qtbot, resnet_cfg)
    before = panel.diagnostics
    state.append_snapshot(Snapshot(10, 0.5, 0.6, 0.6, _weights(np.eye(2) * 4.0, 5)))
    assert panel.diagnostics is before  # not yet: scrubbing must stay smooth
    qtbot.wait(DEBOUNCE_MS // 2)
    state.append_snapshot(Snapshot(20, 0.5, 0.6, 0.6, _weights(np.eye(2) * 4.0, 5)))
    qtbot.waitUntil(lambda: panel.diagnostics is not before, timeout=2000)
    assert "violates" in panel.summary_label.text()


def test_squashed_flag_for_singular_mlp_layer(qtbot, small_config: RunConfig) -> None:
    cfg = small_config.copy()
    cfg.model.kind, cfg.model.depth = "mlp", 4
    state, panel = _panel(qtbot, cfg.validate())
    w = _weights(np.array([[1.0, 0.2], [-0.3, 0.9]]), 4)
    w.A[1] = np.array([[1.0, 2.0], [0.5, 1.0]])  # rank 1: the plane collapses to a line
    _show(qtbot, state, panel, w)
    flags = [panel.table.cell_text(i, 5) for i in range(4)]
    assert flags[1].startswith("⚠")  # under the column "squashed"
    assert [f for i, f in enumerate(flags) if i != 1] == ["", "", ""]
    assert panel.table.cell_background(1, 5).color().isValid()
    assert "Layer 2" in panel.summary_label.text() and "squash" in panel.summary_label.text()
    assert panel.table.header_text(1) == "‖A‖₂·Lip"  # no h for an MLP


def test_displacement_bars_one_per_layer(qtbot, resnet_cfg: RunConfig) -> None:
    _, panel = _panel(qtbot, resnet_cfg)
    heights = panel.bars.opts["height"]
    assert len(heights) == resnet_cfg.model.depth and np.all(np.asarray(heights) >= 0)
    assert "transport cost" in panel.metrics_label.text()


def test_the_profile_title_says_how_much_the_middle_half_moves(
    qtbot, resnet_cfg: RunConfig
) -> None:
    """The turnpike question in one number, from the bars drawn under it."""
    from nndyn_gui.core.analysis.diagnostics import middle_half_share

    state, panel = _panel(qtbot, resnet_cfg)
    w = _weights(np.eye(2) * 0.5, 5)
    w.b[:] = np.linspace(0.0, 0.6, 5)[:, None]  # later blocks push further: uneven bars
    _show(qtbot, state, panel, w)
    heights = np.asarray(panel.bars.opts["height"])
    share = middle_half_share(heights)
    title = panel.displacement_plot.getPlotItem().titleLabel.text
    assert title.endswith(f"middle half of the layers: {100 * share:.1f}%")


def test_topology_for_nested_rings_tests_the_loop_in_the_first_annulus(
    qtbot, resnet_cfg: RunConfig
) -> None:
    cfg = resnet_cfg.copy()
    cfg.data.name = "nested_rings"
    _, panel = _panel(qtbot, cfg.validate())
    qtbot.waitUntil(lambda: panel.topology is not None, timeout=20000)
    assert panel.topology_box.isVisible()
    assert panel.topology.winding in (1, -1)  # untrained width 2: still winds


def test_topology_line_for_ring(qtbot, resnet_cfg: RunConfig) -> None:
    cfg = resnet_cfg.copy()
    cfg.data.name = "ring"
    state, panel = _panel(qtbot, cfg.validate())
    qtbot.waitUntil(lambda: not panel.topology_busy(), timeout=20000)
    shown: list[str] = []  # every title the box gets (the report may take only ms)
    set_text = panel.topology_title.setText
    panel.topology_title.setText = lambda t: (shown.append(t), set_text(t))  # type: ignore[method-assign]
    rot = np.array([[0.0, -1.0], [1.0, 0.0]])
    state.append_snapshot(Snapshot(10, 0.5, 0.6, 0.6, _weights(0.8 * rot, 5)))  # invertible
    computing = "Topology of the outer loop — untrained (step 0) · computing step 10…"
    qtbot.waitUntil(lambda: computing in shown, timeout=10000)
    assert panel.topology_box.isVisible()
    qtbot.waitUntil(lambda: panel.topology_pending_snapshot() is None, timeout=20000)
    text = panel.topology_label.text()
    # the old report stays (dimmed) while the new one computes, then the title names it
    assert shown[-1] == "Topology of the outer loop — step 10"
    assert shown.index(computing) < len(shown) - 1
    assert "outer loop still winds 1× around the centre" in text
    assert "a width-2 ResNet cannot untie the ring" in text
    assert "of the loop lies on the wrong side" in text and "fresh samples" in text
    assert panel.topology is not None and panel.topology.winding in (1, -1)


def test_no_topology_for_data_without_a_loop(qtbot, resnet_cfg: RunConfig) -> None:
    cfg = resnet_cfg.copy()
    cfg.data.name = "moons"
    _, panel = _panel(qtbot, cfg.validate())
    assert not panel.topology_box.isVisible()
    assert not panel.topology_busy()


def test_small_multiples_follow_the_shown_snapshot(qtbot, resnet_cfg: RunConfig) -> None:
    """(Side panel) one small view per chosen layer, rebuilt when the snapshot changes."""
    from nndyn_gui.ui.small_multiples_panel import SmallMultiplesPanel

    state = AppState(resnet_cfg)
    sm = SmallMultiplesPanel(state)
    qtbot.addWidget(sm)
    sm.resize(800, 260)
    sm.show()
    panels = sm.multiples.panels
    assert len(panels) == resnet_cfg.model.depth + 1  # 5 blocks: input .. output
    before = sm.multiples.flow_scene()
    state.append_snapshot(Snapshot(10, 0.5, 0.6, 0.6, _weights(np.eye(2) * 2.0, 5)))
    qtbot.waitUntil(lambda: sm.multiples.flow_scene() is not before, timeout=2000)
    scene = sm.multiples.flow_scene()
    assert scene is not None and scene.source is not None
    assert np.array_equal(scene.source[1].A, state.current.weights.A)


def test_stale_topology_results_are_dropped(qtbot, resnet_cfg: RunConfig) -> None:
    from nndyn_gui.core.analysis.topology import topology_report

    cfg = resnet_cfg.copy()
    cfg.data.name = "ring"
    state, panel = _panel(qtbot, cfg.validate())
    qtbot.waitUntil(lambda: not panel.topology_busy(), timeout=20000)
    rot = np.array([[0.0, -1.0], [1.0, 0.0]])
    first, last = _weights(0.8 * rot, 5), _weights(np.array([[1.5, 0.0], [0.0, -0.2]]), 5)
    state.append_snapshot(Snapshot(10, 0.5, 0.6, 0.6, first))
    panel.refresh_now()  # starts computing for `first`
    state.append_snapshot(Snapshot(20, 0.5, 0.6, 0.6, last))
    panel.refresh_now()  # `first` is now stale: its result must not be shown
    qtbot.waitUntil(lambda: not panel.topology_busy(), timeout=20000)
    expected = topology_report(state.config, last)
    assert expected is not None and panel.topology is not None
    np.testing.assert_allclose(panel.topology.loop_traj, expected.loop_traj)


@pytest.mark.timing
def test_diagnostics_are_computed_off_the_gui_thread(qtbot, resnet_cfg, monkeypatch) -> None:
    """A slow diagnose (a 200x64 net takes ~0.5 s) must not stall the window."""
    import threading
    import time

    from nndyn_gui.ui import diagnostics_panel

    state, panel = _panel(qtbot, resnet_cfg)
    threads: list[str] = []
    real = diagnostics_panel.compute_diagnostics

    def slow(*args: object) -> object:
        threads.append(threading.current_thread().name)
        time.sleep(0.6)
        return real(*args)

    monkeypatch.setattr(diagnostics_panel, "compute_diagnostics", slow)
    state.append_snapshot(Snapshot(10, 0.5, 0.6, 0.6, _weights(np.eye(2) * 4.0, 5)))
    ticks: list[float] = []
    qtbot.waitUntil(lambda: bool(threads), timeout=3000)
    t_end = time.perf_counter() + 0.5
    while time.perf_counter() < t_end:  # the event loop keeps turning meanwhile
        qtbot.wait(10)
        ticks.append(time.perf_counter())
    assert threads[0] != threading.main_thread().name
    assert float(np.max(np.diff(ticks))) < 0.2
    qtbot.waitUntil(lambda: not panel.diagnostics_busy(), timeout=5000)
    assert "violates" in panel.summary_label.text()


def test_a_failing_diagnostic_is_shown_not_raised(qtbot, resnet_cfg, monkeypatch) -> None:
    from nndyn_gui.ui import diagnostics_panel

    state, panel = _panel(qtbot, resnet_cfg)

    def broken(*args: object) -> object:
        raise ValueError("singular matrix")

    monkeypatch.setattr(diagnostics_panel, "compute_diagnostics", broken)
    state.append_snapshot(Snapshot(10, 0.5, 0.6, 0.6, _weights(np.eye(2) * 4.0, 5)))
    qtbot.waitUntil(lambda: "singular matrix" in panel.summary_label.text(), timeout=3000)
    assert panel.summary_label.text().startswith("✗ Cannot compute diagnostics")
    # the failure names its step, and no older snapshot's numbers stay beneath it
    assert panel.metrics_label.text() == "<b>step 10</b>"
    assert panel.table.rowCount() == 0


# ---------------------------------------------------------------------- verdicts from numbers
def _verdict(kind: str, a: np.ndarray, b: np.ndarray, *, h: float = 0.5, act: str = "tanh"):
    from nndyn_gui.core.analysis.diagnostics import diagnose
    from nndyn_gui.core.datasets import make_dataset
    from nndyn_gui.ui.diagnostics_panel import summary_text

    cfg = RunConfig()
    cfg.model.kind, cfg.model.width, cfg.model.depth = kind, a.shape[-1], a.shape[0]
    cfg.model.h, cfg.model.activation = h, act
    cfg.validate()
    w = NetWeights(A=a, b=b, w=np.ones(a.shape[-1]), c=0.0)
    return summary_text(cfg, diagnose(cfg, w, make_dataset(cfg.data)))


def test_verdict_one_to_one_and_not_flat_is_green() -> None:
    a = np.array([[[1.0, 0.2], [-0.3, 0.9]]] * 2)
    text, level = _verdict("mlp", a, np.zeros((2, 2)))
    assert level == "ok"
    assert "All 2 layers are one-to-one" in text and "none flattens the data" in text


def test_verdict_saturated_layer_is_one_to_one_but_flattens() -> None:
    """Layer 2's unit 2 sits deep in tanh's tail: a warning with its number, not "merges"."""
    a = np.array([[[1.0, 0.2], [-0.3, 0.9]], [[1.0, 0.0], [0.0, 8.0]]])
    b = np.array([[0.0, 0.0], [0.0, 20.0]])
    text, level = _verdict("mlp", a, b)
    assert level == "warn"
    assert "one-to-one" in text and "layer 2 flattens the data" in text
    assert "median σ_min/σ_max of its Jacobian" in text and "tanh saturation" in text
    assert "never be separated" not in text  # nothing is merged: the layer is injective


def test_verdict_nearly_singular_a_names_a_as_the_cause() -> None:
    a = np.array([[[1.0, 0.0], [0.0, 1e-3]]])
    text, level = _verdict("mlp", a, np.zeros((1, 2)))
    assert level == "warn" and "a nearly singular A" in text and "one-to-one" in text


def test_verdict_singular_a_merges_points() -> None:
    a = np.array([[[1.0, 2.0], [0.5, 1.0]]])  # rank 1
    text, level = _verdict("mlp", a, np.zeros((1, 2)))
    assert level == "bad" and "Layer 1 has a singular A" in text and "never be separated" in text


def test_verdict_relu_layer_is_not_one_to_one() -> None:
    a = np.array([[[1.0, 0.2], [-0.3, 0.9]]])
    text, level = _verdict("mlp", a, np.zeros((1, 2)), act="relu")
    assert level == "bad" and "not one-to-one" in text


def test_verdict_resnet_fold_is_shown_with_its_share() -> None:
    a = np.array([[[-1.0, 0.0], [0.0, 0.0]]])  # x1 + 1.5 tanh(-x1): folds near x1 = 0
    text, level = _verdict("resnet", a, np.zeros((1, 2)), h=1.5)
    assert level == "bad" and "Block 1 folds the plane" in text
    assert "% of the data points" in text and "not one-to-one" in text


def test_verdict_resnet_unproved_without_fold_is_a_warning() -> None:
    text, level = _verdict("resnet", np.array([np.eye(2) * 4.0]), np.zeros((1, 2)), h=0.5)
    assert level == "warn" and "not proved" in text and "no fold" in text


def test_verdict_resnet_proved_is_green() -> None:
    text, level = _verdict("resnet", np.array([np.eye(2)] * 3), np.zeros((3, 2)), h=0.5)
    assert level == "ok" and "homeomorphism" in text


def test_table_shows_the_numbers_behind_squashed(qtbot, small_config: RunConfig) -> None:
    cfg = small_config.copy()
    cfg.model.kind, cfg.model.depth = "mlp", 2
    state, panel = _panel(qtbot, cfg.validate())
    w = _weights(np.array([[1.0, 0.2], [-0.3, 0.9]]), 2)
    w.A[1], w.b[1] = np.diag([1.0, 8.0]), np.array([0.0, 20.0])
    _show(qtbot, state, panel, w)
    headers = [panel.table.header_text(j) for j in range(panel.table.columnCount())]
    assert headers[2] == "one-to-one" and "σmin/σmax of J (median)" in headers
    med = headers.index("σmin/σmax of J (median)")
    assert headers[5] == "squashed" and panel.table.cell_text(1, 5) == "⚠ (saturation)"
    assert float(panel.table.cell_text(1, med)) < 1e-2 <= float(panel.table.cell_text(0, med))
    assert panel.table.cell_text(1, headers.index("saturated")) == "100.0%"
    assert panel.table.cell_text(1, 2) == "✓ one-to-one"  # one-to-one and squashed: both true
    assert panel.summary_label.text().startswith("⚠ ")


# ---------------------------------------------------------------------- undetermined winding
def test_undetermined_winding_is_said_in_words_not_as_a_number() -> None:
    from types import SimpleNamespace

    from nndyn_gui.ui.compare import _result_text
    from nndyn_gui.ui.diagnostics_panel import topology_text

    cfg = RunConfig()
    cfg.model.kind, cfg.model.width = "mlp", 2
    rep = SimpleNamespace(
        winding=None,
        winding_reason="the image of the loop passes within 3.0e-12 of the centre's image",
        wrong_side_share=0.1,
        dense_accuracy=0.9,
        projected=False,
    )
    text = topology_text(cfg, None, rep)
    assert "undetermined" in text and "3.0e-12" in text
    assert "still winds" not in text and "no longer winds" not in text
    assert "winding 0" not in text
    from nndyn_gui.core.types import TrainResult

    result = TrainResult("finished", [Snapshot(10, 0.5, 0.9, 0.9, _weights(np.eye(2), 1))])
    assert "winding undetermined" in _result_text(result, rep)


def test_verdict_says_when_the_layers_together_flatten_the_data() -> None:
    a = np.array([0.5 * np.diag([1.0, 0.05])] * 2)
    text, level = _verdict("mlp", a, np.zeros((2, 2)))
    assert level == "ok" and "none flattens the data by itself" in text
    assert "together they flatten it" in text and "from the input to the output" in text


def test_k_classes_get_margins_to_the_borders_and_no_loop_test(
    qtbot, resnet_cfg: RunConfig
) -> None:
    cfg = resnet_cfg.copy()
    cfg.data.name, cfg.data.classes = "gaussians", 3
    _, panel = _panel(qtbot, cfg.validate())
    qtbot.waitUntil(lambda: panel.diagnostics is not None and not panel.diagnostics_busy())
    assert "margin to the class borders" in panel.metrics_label.text()
    assert panel.topology_box.isVisible() and not panel.topology_busy()
    text = panel.topology_label.text()
    assert text.startswith("Not applicable: the loop test is about two classes")
    assert "3 classes" in text


def test_default_screen_topology_says_nothing_false_in_width_3(qtbot) -> None:
    """resnet-w3-ring untrained, as the window opens: an invertible flow CAN untie the ring
    in width 3, so the box must not say it keeps the loop (issue 19, item 1)."""
    from nndyn_gui.core.io.presets import load_preset

    _, panel = _panel(qtbot, load_preset("resnet-w3-ring"))
    qtbot.waitUntil(lambda: panel.topology is not None and not panel.topology_busy(), timeout=60000)
    text = panel.topology_label.text()
    assert panel.diagnostics.all_invertible and panel.topology.winding in (1, -1)
    assert "keeps the loop" not in text and "cannot untie" not in text
    assert "initial weights" in text and "in width 3 training can untie the ring" in text
    assert "in the head's plane" in text


def _tabs_cover_every_column_each_whole(qtbot, table, tabs) -> None:
    seen: set[int] = set()
    for tab in range(tabs.count()):
        tabs.setCurrentIndex(tab)
        qtbot.wait(20)  # the header lays its sections out in the event loop
        shown = {j for j in range(table.columnCount()) if not table.isColumnHidden(j)}
        assert 0 in shown and shown != set(range(table.columnCount()))
        assert table.columns_width(tuple(sorted(shown))) <= table.width(), tabs.tabText(tab)
        assert table.horizontalScrollBar().maximum() == 0, tabs.tabText(tab)
        seen |= shown
    assert seen == set(range(table.columnCount()))


def test_a_narrow_panel_shows_the_table_in_tabs_and_a_wide_one_whole(
    qtbot, resnet_cfg: RunConfig
) -> None:
    """Too narrow for every column: tabs (two; three when two do not fit), each column
    whole in one of them, none cut off behind a scroll bar; wide enough: no tabs."""
    from nndyn_gui.ui.block_table import TAB_LAYOUTS

    state, panel = _panel(qtbot, resnet_cfg)
    _show(qtbot, state, panel, _weights(np.eye(2) * 1.0, 5))
    table, tabs = panel.table, panel.table_groups
    margin = panel.width() - table.width()  # the panel around the table
    halves = max(table.columns_width((0, *cols)) for _, cols, _ in TAB_LAYOUTS[0])
    panel.resize(halves + margin + 10, 640)
    qtbot.waitUntil(lambda: tabs.isVisible() and tabs.count() == 2)
    _tabs_cover_every_column_each_whole(qtbot, table, tabs)
    panel.resize(halves + margin - 30, 640)  # the half "on the data" no longer fits
    qtbot.waitUntil(lambda: tabs.count() == 3)
    _tabs_cover_every_column_each_whole(qtbot, table, tabs)
    panel.resize(table.columns_width() + margin + 10, 640)
    qtbot.waitUntil(lambda: not tabs.isVisible())
    assert not any(table.isColumnHidden(j) for j in range(table.columnCount()))
    assert table.horizontalScrollBar().maximum() == 0
