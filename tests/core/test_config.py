"""The config is the contract between CLI, app and run files: its errors must name the field."""

from __future__ import annotations

import json

import pytest

from nndyn_gui.core.config import ConfigError, RunConfig
from nndyn_gui.core.fields import field_spec


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

    from nndyn_gui.core.config import DataConfig, ModelConfig, TrainConfig
    from nndyn_gui.core.fields import LABELS, field_label

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


def _other_value(path: str, now: object) -> object:
    """A valid value of `path` other than `now`."""
    from nndyn_gui.core.fields import field_info

    info = field_info(path)
    if info.type is bool:
        return not now
    lo, hi = info.range or (0, 1)
    return info.type(lo if now != info.type(lo) else hi)


def test_a_field_marked_live_is_taken_live_and_any_other_restarts() -> None:
    """The registry's live flag is what a slider moved while training does: the
    learning rate reaches the trainer at its next call, the depth starts over."""
    from nndyn_gui.core.fields import FIELDS
    from nndyn_gui.core.train import live

    base = RunConfig().with_set("model.keep_invertible=true")  # every model field applies
    # nested rings: the gap and the annuli apply; mini-batches: the order seed applies
    base = base.with_set("data.name=nested_rings").with_set("data.gap=0.1")
    base = base.with_set("train.batch_size=50")
    base = base.with_set("train.optimizer=msa")  # the MSA fields apply
    for path, info in FIELDS.items():
        if info.choices is not None or info.type is str or path == "data.classes":
            continue  # valid partners differ per choice (csv file, K-class set); see below
        section, name = path.split(".")
        new = base.with_set(f"{path}={_other_value(path, getattr(getattr(base, section), name))}")
        assert live.classify(base, new) == ("live" if info.live else "restart"), path
    assert live.classify(base, base.with_set("title=renamed")) == "same"
    assert live.classify(base, base.with_set("train.optimizer=sgd")) == "restart"
    assert live.classify(base, base.with_set("model.activation=relu")) == "restart"
    assert set(live.LIVE_TRAIN_FIELDS) == {
        p.split(".")[1] for p, i in FIELDS.items() if i.live and p.startswith("train.")
    }


def test_h_of_an_mlp_changes_nothing_a_trainer_uses() -> None:
    """An MLP has no step size: a new h (a preset, --set) neither restarts a run nor
    throws its snapshots away; on a ResNet it does both."""
    from nndyn_gui.core.train import live
    from nndyn_gui.ui.discard_rules import makes_stale

    mlp = RunConfig().with_set("model.kind=mlp")
    assert live.classify(mlp, mlp.with_set("model.h=0.5")) == "same"
    assert not makes_stale(mlp, mlp.with_set("model.h=0.5"))
    resnet = RunConfig()
    assert live.classify(resnet, resnet.with_set("model.h=0.5")) == "restart"
    assert makes_stale(resnet, resnet.with_set("model.h=0.5"))
    assert live.classify(mlp, resnet) == "restart"  # the family itself always counts


def test_labels_and_engine_fields_are_views_of_the_registry() -> None:
    from nndyn_gui.core.fields import ENGINE_FIELDS, FIELDS, LABELS, field_info

    assert {p: i.label for p, i in FIELDS.items()} == LABELS
    assert ENGINE_FIELDS == ("train.steps_per_call",) and field_info(ENGINE_FIELDS[0]).live
    assert not field_info("train.steps_per_call").group  # not offered in the panel
