"""Named experiments (mostly the article's figures) shipped as JSON files.

Each preset is `resources/presets/<name>.json` = {"name", "title", "section",
"description", "config", "claims"} (the title: what menus show; the section: the part of
the article it illustrates, one of SECTIONS; the claims: what the description says, as
predicates `nndyn verify` checks), read
with importlib.resources so it works from a wheel, a zip or a source checkout. Keeping
them as data (not code) lets users copy one as a starting point for `nndyn train`.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from importlib.resources.abc import Traversable

from nndyn_gui.core.config import ConfigError, RunConfig

PACKAGE = "nndyn_gui.resources.presets"

#: The article's sections, in its order; menus group the presets under these headings.
SECTIONS = (
    "Neural networks as homeomorphisms",
    "Neural networks and dynamical systems",
    "Visualizing multilayer perceptrons",
    "Visualizing ResNets",
    "Noisy vs noiseless data",
    "Complexity and control",
)


class PresetError(KeyError):
    """Unknown or broken preset; str() is the plain message (KeyError would quote it)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


@dataclass(frozen=True)
class PresetInfo:
    """What a preset list shows: its name, human title, article section and description."""

    name: str
    description: str
    title: str = ""
    section: str = ""

    @property
    def display_title(self) -> str:
        return self.title or self.name


def _files() -> dict[str, Traversable]:
    root = resources.files(PACKAGE)
    return {
        f.name[: -len(".json")]: f
        for f in root.iterdir()
        if f.is_file() and f.name.endswith(".json")
    }


def _read(name: str, f: Traversable) -> dict[str, object]:
    try:
        obj = json.loads(f.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise PresetError(f"preset {name!r} cannot be read: {e}") from None
    if not isinstance(obj, dict) or not isinstance(obj.get("config"), dict):
        raise PresetError(f"preset {name!r} has no 'config' object")
    return obj


def preset_names() -> list[str]:
    """All preset names, sorted."""
    return sorted(_files())


def list_presets() -> list[PresetInfo]:
    """Name and description of every preset, sorted by name."""
    out = []
    for name, f in sorted(_files().items()):
        obj = _read(name, f)
        out.append(
            PresetInfo(
                name=name,
                description=str(obj.get("description", "")),
                title=str(obj.get("title", "")),
                section=str(obj.get("section", "")),
            )
        )
    return out


def grouped_presets() -> list[tuple[str, list[PresetInfo]]]:
    """(section, presets) in the article's order; unknown sections last, as "Other"."""
    groups: dict[str, list[PresetInfo]] = {s: [] for s in SECTIONS}
    for info in list_presets():
        groups.setdefault(info.section if info.section in SECTIONS else "Other", []).append(info)
    return [(s, infos) for s, infos in groups.items() if infos]


def preset_title(name: str) -> str:
    """The human title of a preset ("" for an unknown name): what exports propose."""
    files = _files()
    if name not in files:
        return ""
    return str(_read(name, files[name]).get("title", ""))


def load_preset(name: str) -> RunConfig:
    """The validated RunConfig of preset `name`; PresetError lists the names if unknown."""
    files = _files()
    if name not in files:
        raise PresetError(f"unknown preset {name!r}; available: {', '.join(sorted(files))}")
    obj = _read(name, files[name])
    try:
        cfg = RunConfig.from_dict(obj["config"])
    except ConfigError as e:
        raise PresetError(f"preset {name!r} has a bad config: {e}") from None
    if not cfg.title:
        cfg.title = name
    return cfg


def preset_claims(name: str) -> object:
    """The raw "claims" object of one preset (None without one); see core/analysis/claims.py."""
    files = _files()
    if name not in files:
        raise PresetError(f"unknown preset {name!r}; available: {', '.join(sorted(files))}")
    return _read(name, files[name]).get("claims")


class SetError(ConfigError):
    """A `field=value` the config refuses; `assignment` is the text as written."""

    def __init__(self, assignment: str, error: ConfigError) -> None:
        reason = str(error).removeprefix(f"{error.field_path}: ")
        super().__init__(error.field_path, reason, error.panel_message)
        self.assignment = assignment


def start_config(
    *,
    preset: str | None = None,
    config_file: str | os.PathLike[str] | None = None,
    base: RunConfig | None = None,
    sets: Sequence[str] = (),
) -> RunConfig:
    """The config a command asks for: a preset, a config file (RunConfig JSON, preset JSON
    or `.nndyn`) or `base` (else the defaults), then each `field=value` in `sets`, in order.

    The one reading of `--preset`/`--set`: `nndyn train`, `nndyn render`, the window's
    command line and a sweep spec's `preset`/`set`/`sweep` all come here, so they accept
    and refuse the same things. Raises PresetError, RunFileError (the file) or SetError.
    """
    if sum(x is not None for x in (preset, config_file, base)) > 1:
        raise ValueError("start from one of a preset, a config file or a base config")
    if preset is not None:
        cfg = load_preset(preset)
    elif config_file is not None:
        from nndyn_gui.core.io.runfile import load_config_file  # numpy: only when asked

        cfg = load_config_file(config_file)
    else:
        cfg = base if base is not None else RunConfig()
    for assignment in sets:
        try:
            cfg = cfg.with_set(assignment)
        except ConfigError as e:
            raise SetError(assignment, e) from None
    return cfg
