"""The config is the contract between CLI, app and run files: its errors must name the field."""

from __future__ import annotations

import json

import pytest

from nndyn_gui.core.config import ConfigError, RunConfig, field_spec


def test_defaults_are_valid_and_round_trip_through_json():
    cfg = RunConfig()
    cfg.model.width = 2
    cfg.title = "ring, width 2"
    again = RunConfig.from_json(cfg.to_json())
    assert again == cfg


@pytest.mark.parametrize(
    ("assignment", "field", "allowed"),
    [
        ("model.width=999", "model.width", "2..64"),
        ("model.depth=0", "model.depth", "1..200"),
        ("train.learning_rate=1000", "train.learning_rate", "100.0"),
        ("data.noise=-1", "data.noise", "0.0..1.0"),
    ],
)
def test_out_of_range_names_field_and_allowed_range(assignment, field, allowed):
    with pytest.raises(ConfigError) as err:
        RunConfig().with_set(assignment)
    assert err.value.field_path == field
    assert field in str(err.value) and allowed in str(err.value)


def test_unknown_fields_and_bad_types_are_named():
    with pytest.raises(ConfigError, match=r"model\.widht: unknown field"):
        RunConfig.from_dict({"model": {"widht": 3}})
    with pytest.raises(ConfigError, match="unknown field"):
        RunConfig.from_dict({"extra": 1})
    with pytest.raises(ConfigError, match=r"model\.width: must be an integer"):
        RunConfig.from_dict({"model": {"width": "three"}})
    with pytest.raises(ConfigError, match=r"model\.tied: must be true or false"):
        RunConfig.from_dict({"model": {"tied": 1}})
    with pytest.raises(ConfigError, match=r"model\.kind: 'cnn' is not one of resnet, mlp"):
        RunConfig.from_dict({"model": {"kind": "cnn"}})
    with pytest.raises(ConfigError, match="finite"):
        RunConfig.from_dict({"model": {"h": float("nan")}})


def test_bad_json_and_non_object_are_clear_errors():
    with pytest.raises(ConfigError, match="not valid JSON"):
        RunConfig.from_json("{nope")
    with pytest.raises(ConfigError, match="expected a JSON object"):
        RunConfig.from_json(json.dumps([1, 2]))


def test_set_parses_text_like_a_shell_user_types_it():
    cfg = RunConfig().with_set("model.kind=mlp").with_set("model.tied=yes")
    cfg = cfg.with_set("train.steps=1e3").with_set("title=my talk")
    assert (cfg.model.kind, cfg.model.tied, cfg.train.steps, cfg.title) == (
        "mlp",
        True,
        1000,
        "my talk",
    )
    with pytest.raises(ConfigError, match="expected key=value"):
        RunConfig().with_set("model.width")
    with pytest.raises(ConfigError, match=r"train\.steps: cannot read '1\.5k' as int"):
        RunConfig().with_set("train.steps=1.5k")


def test_csv_needs_a_path():
    with pytest.raises(ConfigError, match=r"data\.csv_path"):
        RunConfig.from_dict({"data": {"name": "csv"}})


def test_field_spec_feeds_the_widgets():
    spec = field_spec("model.width")
    assert spec["range"] == (2, 64) and spec["type"] is int and spec["default"] == 3
    assert field_spec("model.activation")["choices"][0] == "tanh"
    assert field_spec("train.learning_rate")["log"] is True


def test_k_classes_only_for_the_sets_that_have_them() -> None:
    cfg = RunConfig().with_set("data.name=spiral").with_set("data.classes=4")
    assert cfg.data.classes == 4
    with pytest.raises(ConfigError) as err:
        RunConfig().with_set("data.classes=3")  # the ring has two classes
    assert err.value.field_path == "data.classes" and "'ring' has two classes" in str(err.value)
    with pytest.raises(ConfigError, match=r"out of range, allowed 2\.\.6"):
        RunConfig().with_set("data.name=rings").with_set("data.classes=7")


def test_every_field_has_the_label_the_panel_shows() -> None:
    import dataclasses

    from nndyn_gui.core.config import LABELS, DataConfig, ModelConfig, TrainConfig, field_label

    for section, klass in (("data", DataConfig), ("model", ModelConfig), ("train", TrainConfig)):
        for f in dataclasses.fields(klass):
            path = f"{section}.{f.name}"
            assert path in LABELS and field_label(path) != path
            assert field_spec(path)["label"] == LABELS[path]


@pytest.mark.parametrize(
    ("assignment", "panel"),
    [
        ("model.depth=0", "Depth T must be at least 1"),
        ("model.width=999", "Width d must be at most 64"),
        ("train.steps=0", "Steps must be at least 1"),
        ("data.noise=-1", "Noise must be at least 0"),
        ("model.kind=cnn", "Network must be one of resnet, mlp"),
        ("train.steps=1.5k", "Steps must be a whole number"),
        ("model.h=nan", "Step h must be a number from 0.0001 to 10"),
    ],
)
def test_errors_have_a_panel_message_in_the_panels_words(assignment: str, panel: str) -> None:
    with pytest.raises(ConfigError) as err:
        RunConfig().with_set(assignment)
    assert err.value.panel_message == panel
    assert err.value.field_path in str(err.value)  # the command line still names the key
