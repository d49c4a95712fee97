"""data.class_names (issue 21): one typed name per class, checked with a clear message,
kept by a run file, absent from files that do not use it (older readers open them)."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import numpy as np
import pytest

from nndyn_gui.core.config import ConfigError, RunConfig, field_info
from nndyn_gui.core.io.runfile import load_run, save_run
from nndyn_gui.core.net.initial_weights import initial_weights
from nndyn_gui.core.types import Dataset, Run, Snapshot


def test_names_default_to_the_class_numbers() -> None:
    assert RunConfig().data.names == ("class 0", "class 1")
    cfg = RunConfig().with_set("data.name=spiral").with_set("data.classes=3")
    assert cfg.data.names == ("class 0", "class 1", "class 2")


def test_typed_names_are_trimmed_and_used() -> None:
    cfg = RunConfig().with_set("data.class_names= inside ,  outside ")
    assert cfg.data.names == ("inside", "outside")


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("a, b, c", "3 names for 2 classes"),
        ("solo", "1 names for 2 classes"),
        ("a, ", "the name of class 1 is empty"),
        ("a, " + "x" * 41, "at most 40 characters"),
        ("a, b\tc", "printable"),
    ],
)
def test_a_bad_list_is_refused_naming_the_field(text: str, words: str) -> None:
    cfg = RunConfig()
    cfg.data.class_names = text
    with pytest.raises(ConfigError) as info:
        cfg.validate()
    assert info.value.field_path == "data.class_names"
    assert words in str(info.value)
    assert info.value.panel_message.startswith("Class names:")


def test_the_registry_offers_it_in_the_panel_as_a_label_only_change() -> None:
    info = field_info("data.class_names")
    assert info.group == "Data" and info.type is str
    assert info.change == "none"  # renaming never restarts or discards a run


def _run(names: str) -> Run:
    cfg = RunConfig()
    cfg.data.class_names = names
    cfg.validate()
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, size=(40, 2))
    y = (x[:, 0] > 0).astype(np.int64)
    w = initial_weights(cfg.model, seed=0)
    snap = Snapshot(0, 0.7, 0.5, 0.5, w)
    return Run(cfg, Dataset(x[:30], y[:30], x[30:], y[30:], "ring"), [snap], "finished")


def _config_json(path: Path) -> tuple[dict, int]:
    with zipfile.ZipFile(path) as z:
        cfg = json.loads(z.read("config.json"))
        version = json.loads(z.read("manifest.json"))["format_version"]
    return cfg, version


def test_a_run_file_keeps_the_names(tmp_path: Path) -> None:
    path = tmp_path / "named.nndyn"
    save_run(_run("inside, outside"), path)
    assert load_run(path).config.data.names == ("inside", "outside")
    cfg, version = _config_json(path)
    assert cfg["data"]["class_names"] == "inside, outside" and version == 3


def test_a_run_without_names_is_written_as_before_and_old_files_open(tmp_path: Path) -> None:
    path = tmp_path / "plain.nndyn"
    save_run(_run(""), path)
    cfg, version = _config_json(path)
    assert "class_names" not in cfg["data"] and version == 1  # what older readers take
    back = load_run(path)  # a file without the field (any older file) opens
    assert back.config.data.class_names == "" and back.config.data.names[0] == "class 0"


def test_naming_the_classes_keeps_a_presets_title() -> None:
    from nndyn_gui.core.analysis.narrator import run_title
    from nndyn_gui.core.io.presets import load_preset, preset_title

    cfg = load_preset("resnet-w2-ring")
    cfg.data.class_names = "inside, outside"
    assert run_title(cfg.validate()) == preset_title("resnet-w2-ring")
