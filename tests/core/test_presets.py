"""Presets: every shipped experiment loads, validates and says what it shows."""

from __future__ import annotations

import json
from importlib import resources

import numpy as np
import pytest

from nndyn_gui.core.config import RunConfig
from nndyn_gui.core.io.presets import PresetError, PresetInfo, list_presets, load_preset

ARTICLE = {
    "mlp-w3-ring",
    "mlp-w3-spiral",
    "mlp-w2-ring",
    "resnet-w2-ring",
    "resnet-w2-spiral",
    "resnet-w3-ring",
    "resnet-w3-spiral",
    "resnet-w3-noisy-ring-reg",
    "resnet-w3-ring-init-a",
    "resnet-w3-ring-init-b",
    "resnet-ode-limit",
}


def test_list_is_sorted_and_contains_the_article_presets() -> None:
    infos = list_presets()
    names = [p.name for p in infos]
    assert names == sorted(names)
    assert set(names) >= ARTICLE
    assert all(isinstance(p, PresetInfo) and len(p.description) > 20 for p in infos)


@pytest.mark.parametrize("name", sorted(ARTICLE | {"resnet-w2-ring-invertible"}))
def test_each_preset_is_valid_and_matches_its_name(name: str) -> None:
    cfg = load_preset(name)
    assert isinstance(cfg, RunConfig)
    cfg.validate()
    kind, width, *rest = name.split("-")
    assert cfg.model.kind == ("mlp" if kind == "mlp" else "resnet")
    if width.startswith("w"):
        assert cfg.model.width == int(width[1:])
    data = "-".join(rest)
    if "spiral" in data:
        assert cfg.data.name == "spiral"
    elif "noisy-ring" in data:
        assert cfg.data.name == "noisy_ring"
    elif "ring" in data or name == "resnet-ode-limit":
        assert cfg.data.name == "ring"
    assert cfg.title  # shown in the views and exports
    # as in the article's code: the third coordinate is a zero-padded input, tanh layers
    assert cfg.model.activation == "tanh"
    assert cfg.train.steps <= 20_000  # each trains in a few seconds here


def test_preset_files_have_name_title_section_description_config_and_claims_only() -> None:
    root = resources.files("nndyn_gui.resources.presets")
    files = [f for f in root.iterdir() if f.name.endswith(".json")]
    assert len(files) == len(list_presets())
    for f in files:
        obj = json.loads(f.read_text(encoding="utf-8"))
        assert set(obj) == {"name", "title", "section", "description", "config", "claims"}
        assert obj["name"] + ".json" == f.name


def test_presets_have_human_titles_grouped_as_the_articles_sections() -> None:
    from nndyn_gui.core.io.presets import SECTIONS, grouped_presets, preset_title

    infos = list_presets()
    titles = [p.title for p in infos]
    assert len(set(titles)) == len(titles)  # a menu never shows two alike
    for p in infos:
        assert p.section in SECTIONS, p.name
        assert p.title and p.title != p.name and " " in p.title and len(p.title) <= 60
        assert preset_title(p.name) == p.title
    groups = grouped_presets()
    assert [s for s, _ in groups] == [s for s in SECTIONS if any(p.section == s for p in infos)]
    by_section = {s: {p.name for p in ps} for s, ps in groups}
    assert "resnet-w2-ring-invertible" in by_section["Neural networks as homeomorphisms"]
    assert "resnet-ode-limit" in by_section["Neural networks and dynamical systems"]
    assert {"mlp-w2-ring", "mlp-w3-ring"} <= by_section["Visualizing multilayer perceptrons"]
    assert {"resnet-w2-ring", "resnet-w3-ring"} <= by_section["Visualizing ResNets"]
    assert by_section["Complexity and control"] == {
        "resnet-w3-ring-init-a",
        "resnet-w3-ring-init-b",
        "resnet-w3-ring-turnpike",  # the article names the turnpike in that section
        "resnet-w3-ring-msa",  # training as optimal control (the article's last section)
    }
    assert {"mlp-w2-ring-linear", "mlp-w2-ring-deep"} <= by_section[
        "Visualizing multilayer perceptrons"
    ]
    assert {"resnet-w2-nested-rings", "resnet-w3-nested-rings"} <= by_section["Visualizing ResNets"]


def test_article_contrasts_are_encoded() -> None:
    """The pairs the article compares differ only where the article says they do."""
    w2, w3 = load_preset("resnet-w2-ring"), load_preset("resnet-w3-ring")
    assert (w2.model.depth, w2.model.h) == (w3.model.depth, w3.model.h) == (51, 0.05)
    a, b = load_preset("resnet-w3-ring-init-a"), load_preset("resnet-w3-ring-init-b")
    assert a.train.seed != b.train.seed
    assert a.model == b.model and a.data == b.data
    reg = load_preset("resnet-w3-noisy-ring-reg")
    assert reg.train.weight_decay > 0 and reg.train.transport > 0 and reg.data.noise > 0
    ode = load_preset("resnet-ode-limit")
    assert ode.model.depth >= 100 and ode.model.h < 0.05
    assert load_preset("resnet-w2-ring-invertible").model.keep_invertible
    assert load_preset("mlp-w3-ring").model.depth == 6


def test_unknown_preset_lists_the_names() -> None:
    with pytest.raises(PresetError) as info:
        load_preset("resnet-w9-donut")
    msg = str(info.value)
    assert "resnet-w9-donut" in msg and "resnet-w3-ring" in msg and "\n" not in msg
    assert isinstance(info.value, KeyError)


def test_loaded_presets_are_independent_copies() -> None:
    cfg = load_preset("resnet-w3-ring")
    cfg.model.depth = 3
    assert load_preset("resnet-w3-ring").model.depth == 51


@pytest.mark.slow
def test_mlp_w3_spiral_trains_to_separation() -> None:
    """End to end: the preset, its data set and the trainer reproduce the figure."""
    from nndyn_gui.core.datasets import make_dataset
    from nndyn_gui.core.net.flow import predict
    from nndyn_gui.core.train.trainer import Trainer

    cfg = load_preset("mlp-w3-spiral")
    ds = make_dataset(cfg.data)
    result = Trainer(cfg, ds).run()
    assert result.status == "finished"
    assert result.final.train_acc >= 0.97 and result.final.test_acc >= 0.95
    acc = np.mean(predict(cfg.model, result.final.weights, ds.x_test) == ds.y_test)
    assert acc == pytest.approx(result.final.test_acc)
