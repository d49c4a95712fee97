"""The field registry: everything the app knows about each config field, read once from
the field's own metadata in core/config.py.

Why apart from config.py: config.py *declares* the fields (type, default, range, label,
group, live or restart, when it applies — one place to add a field); this module *reads*
those declarations into `FieldInfo` records that the parameter panel builds its controls
from, `nndyn train --help` lists, core/train/live.py classifies changes with, and the
narrator names fields with. Pure Python: no Qt, no numpy.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from nndyn_gui.core.config import SECTIONS, RunConfig, field_type

#: the panel group of each section's fields, unless a field names its own
_GROUPS = {"data": "Data", "model": "Architecture", "train": "Training"}


@dataclass(frozen=True)
class FieldInfo:
    """Everything the app knows about one config field, read from the field's metadata.

    The one registry of per-field rules: the parameter panel builds its controls from
    it, the CLI lists it in `nndyn train --help`, core/train/live.py classifies changes with
    it and error messages and the narrator name fields with `label`.
    """

    path: str  # "model.depth"
    label: str  # what the panel calls it: "Depth T"
    doc: str  # the tooltip / help line
    type: type
    default: Any
    range: tuple[float, float] | None = None
    choices: tuple[str, ...] | None = None
    group: str = ""  # the panel's group box; "" = not a panel control
    scale: str = "linear"  # slider: "linear" | "log" | "log0" (0, then log) | "none" (spin only)
    log0_min: float = 0.0  # the smallest positive value of a log0 slider
    off: str = ""  # shown instead of the value 0 ("off", "full")
    unit: str = ""  # after the number ("steps")
    change: str = "restart"  # while a run trains: "live" (next call), "restart", "none"
    engine: bool = False  # changes speed, never the result: not offered in the panel
    words: str = ""  # how a sentence names it ("learning rate"); default: the label
    unused: Callable[[RunConfig], str] | None = None  # why it has no say ("" = it has)
    fixed: Callable[[RunConfig], str] | None = None  # which data set it, not the panel
    # set by other fields (h = total time / depth): its change is theirs, never listed
    follows: Callable[[RunConfig], str] | None = None

    @property
    def live(self) -> bool:
        return self.change == "live"

    def why_unused(self, config: RunConfig) -> str:
        """ "" when this field has a say in a run of `config`, else why not."""
        return self.unused(config) if self.unused is not None else ""

    def applies(self, config: RunConfig) -> bool:
        return not self.why_unused(config)

    def why_not_editable(self, config: RunConfig) -> str:
        """Why the panel cannot set it for `config` (the data fix it, or it has no say)."""
        fixed = self.fixed(config) if self.fixed is not None else ""
        return fixed or self.why_unused(config)


def _info(path: str, f: dataclasses.Field[Any], section: str) -> FieldInfo:
    m = f.metadata
    log = bool(m.get("log"))
    engine = bool(m.get("engine"))
    label = m["label"]
    return FieldInfo(
        path=path,
        label=label,
        doc=m["doc"],
        type=field_type(f),
        default=f.default,
        range=m.get("range"),
        choices=m.get("choices"),
        group="" if engine else m.get("group", _GROUPS.get(section, "")),
        scale=m.get("scale", "log" if log else "linear"),
        log0_min=m.get("log0_min", 0.0),
        off=m.get("off", ""),
        unit=m.get("unit", ""),
        change=m.get("change", "restart"),
        engine=engine,
        words=m.get("words", label.lower()),
        unused=m.get("unused"),
        fixed=m.get("fixed"),
        follows=m.get("follows"),
    )


def _registry() -> dict[str, FieldInfo]:
    out = {}
    for section, klass in SECTIONS.items():
        for f in dataclasses.fields(klass):
            out[f"{section}.{f.name}"] = _info(f"{section}.{f.name}", f, section)
    title = next(f for f in dataclasses.fields(RunConfig) if f.name == "title")
    out["title"] = _info("title", title, "")
    return out


def field_info(path: str) -> FieldInfo:
    """The registry entry of `section.name` (or "title"); KeyError for an unknown path."""
    return FIELDS[path]


def field_label(path: str) -> str:
    """The panel's name of a field ("model.depth" -> "Depth T"); the path if it has none."""
    info = FIELDS.get(path)
    return info.label if info is not None else path


def changed_fields(old: RunConfig, new: RunConfig) -> list[str]:
    """The paths whose values differ and that have a say in `old` or `new` (a change of
    h between two MLPs is no change; nor is a change of the one of h and the total time
    that follows the other in both), in the panel's order."""
    out = []
    for path, info in FIELDS.items():
        if _value(old, path) != _value(new, path) and (info.applies(old) or info.applies(new)):
            if info.follows is not None and info.follows(old) and info.follows(new):
                continue  # h following a new depth: the depth is the change
            out.append(path)
    return out


def _value(config: RunConfig, path: str) -> Any:
    if "." not in path:
        return getattr(config, path)
    section, name = path.split(".")
    return getattr(getattr(config, section), name)


def field_spec(path: str) -> dict[str, Any]:
    """Metadata of `section.name` (range/choices/doc/log) plus its type, for UI widgets."""
    section, name = path.split(".")
    for f in dataclasses.fields(SECTIONS[section]):
        if f.name == name:
            spec = dict(f.metadata)
            spec["type"] = field_type(f)
            spec["default"] = f.default
            spec["label"] = field_label(path)
            return spec
    raise KeyError(path)


#: the registry: every field's entry, in the panel's order (data, model, train, title)
FIELDS: dict[str, FieldInfo] = _registry()
#: one column of the registry each, for readers that want only that
LABELS: dict[str, str] = {path: info.label for path, info in FIELDS.items()}
ENGINE_FIELDS: tuple[str, ...] = tuple(path for path, info in FIELDS.items() if info.engine)
