"""The parameter panel: slider and spin box agree, edits reach AppState, data redraws."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from nndyn_gui.core.datasets import make_dataset
from nndyn_gui.core.types import Snapshot
from nndyn_gui.ui.layer_panel import LayerPanel
from nndyn_gui.ui.param_control import SliderMap
from nndyn_gui.ui.param_panel import ParamPanel
from nndyn_gui.ui.state import AppState


@pytest.fixture
def panel(qtbot: Any, small_config: Any) -> ParamPanel:
    p = ParamPanel(AppState(small_config))
    qtbot.addWidget(p)
    p.show()
    return p


def test_every_engine_parameter_has_a_control(panel: ParamPanel) -> None:
    import dataclasses

    from nndyn_gui.core.config import DataConfig, ModelConfig, TrainConfig
    from nndyn_gui.core.fields import ENGINE_FIELDS

    for section, klass in (("data", DataConfig), ("model", ModelConfig), ("train", TrainConfig)):
        for f in dataclasses.fields(klass):
            path = f"{section}.{f.name}"
            if f.name != "csv_path" and path not in ENGINE_FIELDS:
                assert path in panel.controls
    assert panel.controls["model.depth"].toolTip()  # the spec's doc is the tooltip


def test_engine_settings_are_not_offered_as_user_settings(panel: ParamPanel) -> None:
    """Steps per call changes speed, never the result: not a knob of the experiment."""
    assert "train.steps_per_call" not in panel.controls


def test_errors_are_in_the_words_of_the_panel(panel: ParamPanel) -> None:
    """A rejected value is explained with the control's own label, not an internal name."""
    depth = panel.controls["model.depth"]
    assert not panel.apply("model.depth", 0)
    assert depth.error.text() == "Depth T must be at least 1"
    assert "model.depth" not in depth.error.text() and panel.state.config.model.depth == 4
    assert not panel.apply("train.learning_rate", 1000.0)
    assert panel.controls["train.learning_rate"].error.text() == "Learning rate must be at most 100"


def test_slider_and_spin_box_stay_in_sync_and_update_the_config(panel: ParamPanel) -> None:
    depth = panel.controls["model.depth"]
    assert depth.slider is not None and depth.spin is not None and depth.map is not None
    depth.slider.setValue(depth.map.to_pos(30))
    assert depth.spin.value() == 30 == panel.state.config.model.depth
    depth.spin.setValue(7)
    assert depth.slider.value() == depth.map.to_pos(7) and panel.state.config.model.depth == 7

    lr = panel.controls["train.learning_rate"]
    assert lr.slider is not None and lr.spin is not None and lr.map is not None
    lr.spin.setValue(0.001)
    assert panel.state.config.train.learning_rate == pytest.approx(0.001)
    assert lr.slider.value() == lr.map.to_pos(0.001)
    lr.slider.setValue(lr.slider.maximum())
    assert panel.state.config.train.learning_rate == pytest.approx(100.0)
    assert lr.spin.value() == pytest.approx(100.0)


def test_log_slider_maps_both_ways() -> None:
    m = SliderMap(1e-6, 100.0, "log", False, 1e-6)
    for v in (1e-6, 1e-3, 0.05, 100.0):
        assert m.from_pos(m.to_pos(v)) == pytest.approx(v, rel=0.02)
    z = SliderMap(0.0, 10.0, "log0", False, 1e-6)
    assert z.to_pos(0.0) == 0 and z.from_pos(0) == 0.0 and z.from_pos(1) == pytest.approx(1e-6)


def test_meaningless_fields_are_disabled(panel: ParamPanel) -> None:
    c = panel.controls
    c["model.kind"].combo.setCurrentIndex(c["model.kind"].combo.findData("mlp"))  # type: ignore[union-attr]
    assert panel.state.config.model.kind == "mlp"
    assert not c["model.h"].isEnabled() and not c["model.keep_invertible"].isEnabled()
    assert "ResNet" in c["model.h"].toolTip()
    c["model.kind"].combo.setCurrentIndex(c["model.kind"].combo.findData("resnet"))  # type: ignore[union-attr]
    assert c["model.h"].isEnabled() and not c["model.invertible_bound"].isEnabled()
    c["model.keep_invertible"].check.setChecked(True)  # type: ignore[union-attr]
    assert c["model.invertible_bound"].isEnabled()
    c["data.name"].combo.setCurrentIndex(c["data.name"].combo.findData("spiral"))  # type: ignore[union-attr]
    assert not c["data.gap"].isEnabled()


def _view_points(layer: LayerPanel) -> np.ndarray:
    view = layer.view
    pts = [np.column_stack(it.getData()) for it in view.class_items]
    return np.concatenate(pts)


def _sorted_rows(a: np.ndarray) -> np.ndarray:
    return a[np.lexsort(a.T[::-1])]


def test_changing_data_redraws_the_input_points_at_once(qtbot: Any, small_config: Any) -> None:
    state = AppState(small_config)
    params = ParamPanel(state)
    layer = LayerPanel(state)
    for w in (params, layer):
        qtbot.addWidget(w)
    layer.show()
    layer.set_time(0.0)
    noise = params.controls["data.noise"]
    assert noise.spin is not None
    noise.spin.setValue(0.3)
    qtbot.waitUntil(lambda: not params.data_busy())  # made off the GUI thread
    assert state.config.data.noise == 0.3
    expected = make_dataset(state.config.data).x_all
    qtbot.waitUntil(lambda: layer.scene is not None and layer.scene.source[0].data.noise == 0.3)
    got = _view_points(layer)
    want = expected[layer.scene.indices]  # type: ignore[union-attr]
    np.testing.assert_allclose(_sorted_rows(got), _sorted_rows(want), atol=1e-9)


def test_architecture_change_resets_to_the_untrained_net(qtbot: Any, small_config: Any) -> None:
    state = AppState(small_config)
    params = ParamPanel(state)
    qtbot.addWidget(params)
    state.append_snapshot(Snapshot(50, 0.3, 0.9, 0.9, state.weights.copy()))
    lr = params.controls["train.learning_rate"]
    assert lr.spin is not None
    lr.spin.setValue(0.02)  # tuning the next run keeps the trained picture
    assert state.snapshots[-1].step == 50
    width = params.controls["model.width"]
    assert width.spin is not None
    width.spin.setValue(3)
    assert [s.step for s in state.snapshots] == [0] and state.weights.width == 3


def test_csv_import_errors_are_shown_inline_and_good_files_load(
    panel: ParamPanel, tmp_path: Path
) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("x1,x2,label\n0.1,zzz,1\n")
    before = panel.state.config.data.name
    panel.ask_csv_path = lambda: str(bad)
    assert not panel.choose_csv()
    assert panel.csv_error.isVisible() and panel.csv_error.text()
    assert panel.state.config.data.name == before

    good = tmp_path / "good.csv"
    rng = np.random.default_rng(0)
    rows = [f"{x:.4f},{y:.4f},{int(x * x + y * y < 0.2)}" for x, y in rng.uniform(-1, 1, (60, 2))]
    good.write_text("x1,x2,label\n" + "\n".join(rows) + "\n")
    panel.ask_csv_path = lambda: str(good)
    assert panel.choose_csv()
    assert not panel.csv_error.isVisible()
    assert panel.state.config.data.name == "csv" and len(panel.state.dataset.x_all) == 60
    assert not panel.controls["data.n"].isEnabled()


def test_choosing_csv_and_cancelling_keeps_the_old_data(panel: ParamPanel) -> None:
    panel.ask_csv_path = lambda: ""
    combo = panel.controls["data.name"].combo
    assert combo is not None
    combo.setCurrentIndex(combo.findData("csv"))
    assert panel.state.config.data.name == "ring" and combo.currentData() == "ring"


def test_classes_follow_the_data_set_and_the_csv_file(
    panel: ParamPanel, qtbot: Any, tmp_path: Path
) -> None:
    """K is offered for the K-class sets, taken from a CSV file's labels, and back to 2
    for a two-class set; the untrained net then has a head of K rows."""
    classes = panel.controls["data.classes"]
    assert not classes.isEnabled()  # the ring has two classes
    assert panel.apply("data.name", "spiral")
    qtbot.waitUntil(lambda: not panel.data_busy(), timeout=5000)
    assert classes.isEnabled()
    assert panel.apply("data.classes", 4)
    qtbot.waitUntil(lambda: panel.state.config.data.classes == 4, timeout=5000)
    assert set(panel.state.dataset.y_all.tolist()) == {0, 1, 2, 3}
    assert panel.state.weights.w.shape == (4, panel.state.config.model.width)

    three = tmp_path / "three.csv"
    rows = [f"{i / 30:.3f},{(i * 7 % 11) / 11:.3f},{i % 3}" for i in range(30)]
    three.write_text("x1,x2,label\n" + "\n".join(rows) + "\n")
    panel.ask_csv_path = lambda: str(three)
    assert panel.choose_csv()
    assert panel.state.config.data.classes == 3 and not classes.isEnabled()
    assert panel.state.weights.w.shape[0] == 3

    assert panel.apply("data.name", "moons")
    qtbot.waitUntil(lambda: panel.state.config.data.name == "moons", timeout=5000)
    assert panel.state.config.data.classes == 2 and panel.state.weights.w.ndim == 1


def test_a_run_opened_while_data_are_made_keeps_its_data(
    qtbot: Any, small_config: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A data change still being made in the background when a run is opened (or
    brought back) no longer lands on top of that run."""
    import time

    from nndyn_gui.core import datasets

    def slow(data: Any) -> Any:
        time.sleep(0.4)
        return make_dataset(data)

    monkeypatch.setattr(datasets, "make_dataset", slow)
    state = AppState(small_config)
    params = ParamPanel(state)
    qtbot.addWidget(params)
    assert params.apply("data.noise", 0.3) and params.data_busy()
    opened = state.run()
    cfg = small_config.copy()
    cfg.data.seed = 7
    opened.config, opened.dataset = cfg, make_dataset(cfg.data)
    state.load_run(opened)  # File → Open, while the noisy set is still being made
    qtbot.waitUntil(lambda: not params.data_busy(), timeout=5000)
    qtbot.wait(600)  # the late data set has arrived by now
    assert state.dataset is opened.dataset and state.config.data.seed == 7
    assert state.config.data.noise == small_config.data.noise
    assert params.controls["data.noise"].value() == small_config.data.noise


def test_every_control_is_built_from_the_field_registry(panel: ParamPanel) -> None:
    """Label, group, slider scale, "off" text and unit of every control come from the
    config field's own metadata: one table, so a new field needs no panel edit."""
    from PySide6.QtWidgets import QFormLayout, QGroupBox

    from nndyn_gui.core.fields import FIELDS

    offered = [p for p, i in FIELDS.items() if i.group]
    assert list(panel.controls) == offered
    for path, ctl in panel.controls.items():
        info = FIELDS[path]
        field = ctl  # the row's field: the control, or a row holding it (Import CSV… beside)
        while not isinstance(field.parentWidget(), QGroupBox):
            field = field.parentWidget()
        box = field.parentWidget()
        assert isinstance(box, QGroupBox) and box.title() == info.group
        form = box.layout()
        assert isinstance(form, QFormLayout)
        assert form.labelForField(field).text() == info.label  # type: ignore[attr-defined]
        if ctl.spin is not None:
            assert ctl.spin.specialValueText() == info.off
            assert ctl.spin.suffix() == (f" {info.unit}" if info.unit else "")
            assert (ctl.map.scale if ctl.map else "none") == info.scale
    assert panel.controls["train.stop_plateau"].spin.suffix() == " steps"  # type: ignore[union-attr]
    assert panel.controls["train.stop_loss"].spin.specialValueText() == "off"  # type: ignore[union-attr]


def test_a_slider_change_is_classified_once_for_the_trainer(panel: ParamPanel) -> None:
    """One road: a moved control changes the config once and AppState says once what it
    means for a run in progress (the controller acts on that, nothing classifies again)."""
    seen: list[str] = []
    panel.state.runChange.connect(seen.append)
    lr = panel.controls["train.learning_rate"]
    assert lr.slider is not None and lr.map is not None
    lr.slider.setValue(lr.map.to_pos(0.2))
    assert seen == ["live"] and panel.state.config.train.learning_rate == lr.map.from_pos(
        lr.slider.value()
    )
    panel.controls["model.depth"].spin.setValue(9)  # type: ignore[union-attr]
    assert seen == ["live", "restart"]
    panel.title_edit.setText("renamed")
    panel.title_edit.editingFinished.emit()
    assert seen == ["live", "restart", "same"]


def test_views_draw_each_snapshot_with_the_config_of_its_run(panel: ParamPanel) -> None:
    """A new depth or h reaches the views together with the untrained net it belongs to:
    at no signal do they see old weights with new settings (a picture no run made)."""
    st = panel.state
    pairs: list[tuple[int, int]] = []  # (depth the views draw with, depth of the weights)

    def record(*_: object) -> None:
        assert st.current is not None
        pairs.append((st.run_config.model.depth, st.current.weights.depth))

    st.configChanged.connect(record)
    st.currentChanged.connect(record)
    assert panel.apply("model.depth", 7)
    assert panel.apply("model.h", 0.2)
    assert pairs and all(run_depth == weights_depth for run_depth, weights_depth in pairs)
    assert pairs[-1] == (7, 7) and st.run_config is st.config and st.run_config.model.h == 0.2


def test_the_title_field_never_shows_a_preset_name_on_an_edited_run(panel: ParamPanel) -> None:
    """A preset's name in the Title field read as the run's title after its width was
    changed: the field shows the title the run has, and a typed title is the user's."""
    from nndyn_gui.core.analysis.narrator import run_title
    from nndyn_gui.core.io.presets import load_preset, preset_title

    st, edit = panel.state, panel.title_edit
    st.set_config(load_preset("resnet-w3-ring"))
    assert edit.text() == "" and edit.placeholderText() == preset_title("resnet-w3-ring")
    assert panel.apply("model.width", 2)
    assert "resnet-w3-ring" not in edit.text()
    assert edit.placeholderText() == run_title(st.config)
    assert edit.placeholderText().startswith("ResNet, width 2")
    assert "(edited from resnet-w3-ring)" in edit.placeholderText()
    edit.editingFinished.emit()  # leaving the empty field: the run keeps where it came from
    assert st.config.title == "resnet-w3-ring" and "edited from" in run_title(st.config)
    edit.setText("my thin ring")
    edit.editingFinished.emit()
    assert st.config.title == "my thin ring" and run_title(st.config) == "my thin ring"
    assert edit.text() == "my thin ring"
    edit.setText("")
    edit.editingFinished.emit()  # no own title: the one made from the config
    assert st.config.title == "" and edit.placeholderText() == run_title(st.config)
    assert edit.placeholderText().startswith("ResNet, width 2")


def test_switching_to_msa_and_back_swaps_the_learning_rate_in_view(panel: ParamPanel) -> None:
    """E-MSA's "learning rate" is another step than Adam's (0.05 makes it crawl): switching
    shows and uses 0.5, back to Adam the rate used before, and a rate chosen for msa
    comes back with it."""
    opt, lr = panel.controls["train.optimizer"], panel.controls["train.learning_rate"]
    assert opt.combo is not None and lr.spin is not None
    cfg = panel.state.config
    assert cfg.train.optimizer == "adam" and cfg.train.learning_rate == pytest.approx(0.05)
    opt.combo.setCurrentIndex(opt.combo.findData("msa"))
    assert panel.state.config.train.optimizer == "msa"
    assert panel.state.config.train.learning_rate == pytest.approx(0.5)
    assert lr.spin.value() == pytest.approx(0.5)  # the user sees it change
    lr.spin.setValue(0.8)  # chosen for msa
    opt.combo.setCurrentIndex(opt.combo.findData("sgd"))
    assert panel.state.config.train.learning_rate == pytest.approx(0.05)
    opt.combo.setCurrentIndex(opt.combo.findData("adam"))  # same family: kept
    assert panel.state.config.train.learning_rate == pytest.approx(0.05)
    opt.combo.setCurrentIndex(opt.combo.findData("msa"))
    assert panel.state.config.train.learning_rate == pytest.approx(0.8)
