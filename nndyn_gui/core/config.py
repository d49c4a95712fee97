"""The whole state of an experiment as one validated, serialisable dataclass tree.

Like TensorFlow Playground's `state.ts`, everything the app, the CLI and a run file
need to reproduce an experiment lives here. Every field carries its allowed range or
choices in its metadata, so validation, `--set key=value`, the UI's sliders and the
error messages all read the same source of truth.
"""

from __future__ import annotations

import dataclasses
import json
import math
from dataclasses import dataclass, field
from typing import Any

DATASETS = (
    "ring",
    "spiral",
    "noisy_ring",
    "moons",
    "xor",
    "gaussians",
    "checkerboard",
    "rings",
    "csv",
    "drawn",  # points drawn in the window: they live in the run file, not in the config
)
#: data sets that come with any number of classes 2..MAX_CLASSES (data.classes); the
#: others are two-class sets (the ring's topology, moons, xor, checkerboard)
MULTICLASS_DATASETS = ("spiral", "gaussians", "rings", "csv", "drawn")
MAX_CLASSES = 6
MODEL_KINDS = ("resnet", "mlp")
ACTIVATIONS = ("tanh", "relu", "sigmoid", "leaky_relu")
OPTIMIZERS = ("adam", "sgd")


class ConfigError(ValueError):
    """A config value is unknown or out of range; the message names the field.

    `str(e)` names the field as a command line does ("model.depth: 0 is out of range,
    allowed 1..200"); `panel_message` says the same in the words of the parameter panel
    ("Depth T must be at least 1"), from the field's label in `LABELS`.
    """

    def __init__(self, field_path: str, message: str, panel_message: str = "") -> None:
        super().__init__(f"{field_path}: {message}")
        self.field_path = field_path
        label = LABELS.get(field_path, "")
        self.panel_message = panel_message or (f"{label}: {message}" if label else str(self))


def _num(lo: float, hi: float, doc: str, *, log: bool = False) -> dict[str, Any]:
    return {"range": (lo, hi), "doc": doc, "log": log}


def _choice(choices: tuple[str, ...], doc: str) -> dict[str, Any]:
    return {"choices": choices, "doc": doc}


@dataclass
class DataConfig:
    """Which 2-D data set, how many points, how noisy (all points lie in [-1, 1]^2)."""

    name: str = field(default="ring", metadata=_choice(DATASETS, "data set"))
    n: int = field(default=1000, metadata=_num(20, 100_000, "number of points (train + test)"))
    noise: float = field(
        default=0.0, metadata=_num(0.0, 1.0, "noise level (meaning depends on the set)")
    )
    gap: float = field(
        default=0.225,
        metadata=_num(0.0, 0.6, "ring: radial gap between inner disk (r<0.35) and annulus"),
    )
    test_fraction: float = field(default=0.2, metadata=_num(0.0, 0.9, "share of points held out"))
    seed: int = field(default=0, metadata=_num(0, 2**31 - 1, "seed of the data sampler"))
    classes: int = field(
        default=2,
        metadata=_num(
            2,
            MAX_CLASSES,
            "number of classes K (K > 2: spiral arms, Gaussian blobs, concentric rings, csv)",
        ),
    )
    csv_path: str = field(default="", metadata={"doc": "CSV file (x1,x2,label) when name='csv'"})


@dataclass
class ModelConfig:
    """MLP x -> s(Ax+b) or ResNet x -> x + h s(Ax+b), width d, depth T, plus a linear head."""

    kind: str = field(default="resnet", metadata=_choice(MODEL_KINDS, "network family"))
    width: int = field(default=3, metadata=_num(2, 64, "neurons per layer (d)"))
    depth: int = field(default=10, metadata=_num(1, 200, "number of layers / blocks (T)"))
    h: float = field(default=0.05, metadata=_num(1e-4, 10.0, "ResNet step size", log=True))
    activation: str = field(default="tanh", metadata=_choice(ACTIVATIONS, "activation s"))
    tied: bool = field(
        default=False, metadata={"doc": "share (A, b) across blocks (autonomous ODE)"}
    )
    keep_invertible: bool = field(
        default=False, metadata={"doc": "rescale A_k after each step so h*|A_k|_2*Lip(s) <= bound"}
    )
    invertible_bound: float = field(
        default=0.9, metadata=_num(0.01, 0.99, "bound c < 1 used by keep_invertible")
    )
    init_scale: float = field(
        default=1.0, metadata=_num(0.0, 10.0, "multiplier of the Glorot-uniform initial A_k")
    )


@dataclass
class TrainConfig:
    """Optimiser, schedule and regularisation; `seed` fixes initial weights and batches."""

    optimizer: str = field(default="adam", metadata=_choice(OPTIMIZERS, "optimiser"))
    learning_rate: float = field(
        default=0.01, metadata=_num(1e-6, 100.0, "learning rate", log=True)
    )
    batch_size: int = field(
        default=0, metadata=_num(0, 100_000, "mini-batch size (0 = full batch)")
    )
    steps: int = field(default=2000, metadata=_num(1, 1_000_000, "optimiser steps"))
    weight_decay: float = field(default=0.0, metadata=_num(0.0, 10.0, "L2 penalty on A_k, b_k"))
    transport: float = field(
        default=0.0, metadata=_num(0.0, 10.0, "transport cost lambda * sum_t |x_{t+1}-x_t|^2")
    )
    seed: int = field(default=0, metadata=_num(0, 2**31 - 1, "seed of initial weights and batches"))
    snapshot_every: int = field(
        default=50, metadata=_num(1, 1_000_000, "steps between saved snapshots")
    )
    steps_per_call: int = field(
        default=50, metadata=_num(1, 10_000, "optimiser steps fused in one compiled call")
    )
    # stop conditions (core/stopping.py), checked at every snapshot; 0 = off
    stop_loss: float = field(
        default=0.0,
        metadata=_num(0.0, 10.0, "stop when the training loss is at most this (0 = off)"),
    )
    stop_accuracy: float = field(
        default=0.0,
        metadata=_num(0.0, 1.0, "stop when the training accuracy reaches this (0 = off)"),
    )
    stop_plateau: int = field(
        default=0,
        metadata=_num(
            0,
            1_000_000,
            "stop when the loss has not improved by 0.1% for this many steps (0 = off)",
        ),
    )


#: What the parameter panel calls each field: its labels and every message about a field
#: that the window shows come from here (`field_label`, `ConfigError.panel_message`).
LABELS: dict[str, str] = {
    "data.name": "Data set",
    "data.classes": "Classes K",
    "data.n": "Points",
    "data.noise": "Noise",
    "data.gap": "Gap",
    "data.test_fraction": "Test share",
    "data.seed": "Data seed",
    "data.csv_path": "CSV file",
    "model.kind": "Network",
    "model.width": "Width d",
    "model.depth": "Depth T",
    "model.h": "Step h",
    "model.activation": "Activation",
    "model.tied": "Tied weights",
    "model.keep_invertible": "Keep invertible",
    "model.invertible_bound": "Bound c",
    "model.init_scale": "Init scale",
    "train.optimizer": "Optimiser",
    "train.learning_rate": "Learning rate",
    "train.batch_size": "Batch size",
    "train.steps": "Steps",
    "train.weight_decay": "Weight decay",
    "train.transport": "Transport λ",
    "train.seed": "Weight seed",
    "train.snapshot_every": "Snapshot every",
    "train.steps_per_call": "Steps per call",
    "train.stop_loss": "Loss at most",
    "train.stop_accuracy": "Accuracy reaches",
    "train.stop_plateau": "No progress for",
    "title": "Title",
}

#: Engine settings that change speed, never the result (batches depend only on the seed
#: and the step): not offered in the parameter panel, still settable with --set.
ENGINE_FIELDS = ("train.steps_per_call",)


def field_label(path: str) -> str:
    """The panel's name of a field ("model.depth" -> "Depth T"); the path if it has none."""
    return LABELS.get(path, path)


@dataclass
class RunConfig:
    """One experiment: data + model + training, plus a free-text title."""

    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    title: str = field(default="", metadata={"doc": "free text shown in views and exports"})

    # ------------------------------------------------------------------ validation
    def validate(self) -> RunConfig:
        """Raise ConfigError naming the first bad field; return self for chaining."""
        for section in ("data", "model", "train"):
            sub = getattr(self, section)
            for f in dataclasses.fields(sub):
                _check_value(f"{section}.{f.name}", f, getattr(sub, f.name))
        if self.data.name == "csv" and not self.data.csv_path:
            raise ConfigError(
                "data.csv_path",
                "required when data.name is 'csv'",
                "Choose a CSV file (Import CSV…) for the data set 'CSV file'",
            )
        if self.data.classes != 2 and self.data.name not in MULTICLASS_DATASETS:
            raise ConfigError(
                "data.classes",
                f"{self.data.name!r} has two classes; {self.data.classes} classes need "
                f"one of {', '.join(MULTICLASS_DATASETS)}",
                f"The data set {self.data.name!r} has two classes; Classes K above 2 needs "
                f"one of {', '.join(MULTICLASS_DATASETS)}",
            )
        return self

    # ------------------------------------------------------------------ (de)serialise
    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=True)

    @classmethod
    def from_dict(cls, d: Any) -> RunConfig:
        """Build and validate from plain data; unknown keys are errors, missing ones default."""
        if not isinstance(d, dict):
            raise ConfigError("config", f"expected a JSON object, got {type(d).__name__}")
        unknown = set(d) - {"data", "model", "train", "title"}
        if unknown:
            raise ConfigError(
                str(sorted(unknown, key=str)[0]),
                "unknown field (allowed: data, model, train, title)",
            )
        cfg = cls()
        for section, klass in (
            ("data", DataConfig),
            ("model", ModelConfig),
            ("train", TrainConfig),
        ):
            sub_d = d.get(section, {})
            if not isinstance(sub_d, dict):
                raise ConfigError(section, f"expected an object, got {type(sub_d).__name__}")
            names = {f.name: f for f in dataclasses.fields(klass)}
            kwargs = {}
            for key, value in sub_d.items():
                if key not in names:
                    raise ConfigError(
                        f"{section}.{key}", f"unknown field (allowed: {', '.join(names)})"
                    )
                kwargs[key] = _coerce(f"{section}.{key}", names[key], value)
            setattr(cfg, section, klass(**kwargs))
        if "title" in d:
            if not isinstance(d["title"], str):
                raise ConfigError("title", "must be a string")
            cfg.title = d["title"]
        return cfg.validate()

    @classmethod
    def from_json(cls, text: str) -> RunConfig:
        try:
            d = json.loads(text)
        except (ValueError, RecursionError) as e:
            raise ConfigError("config", f"not valid JSON ({json_error_reason(e)})") from None
        return cls.from_dict(d)

    def with_set(self, assignment: str) -> RunConfig:
        """Return a copy with `section.key=value` applied (the CLI's `--set`)."""
        if "=" not in assignment:
            raise ConfigError(assignment, "expected key=value, e.g. model.width=3")
        key, raw = assignment.split("=", 1)
        key = key.strip()
        d = self.to_dict()
        if key == "title":
            d["title"] = raw
            return RunConfig.from_dict(d)
        parts = key.split(".")
        if len(parts) != 2 or parts[0] not in ("data", "model", "train"):
            raise ConfigError(key, "expected section.field with section data, model or train")
        section, name = parts
        klass = {"data": DataConfig, "model": ModelConfig, "train": TrainConfig}[section]
        names = {f.name: f for f in dataclasses.fields(klass)}
        if name not in names:
            raise ConfigError(key, f"unknown field (allowed: {', '.join(names)})")
        d[section][name] = _parse_text(key, names[name], raw.strip())
        return RunConfig.from_dict(d)

    def copy(self) -> RunConfig:
        return RunConfig.from_dict(self.to_dict())


def json_error_reason(e: BaseException) -> str:
    """Why JSON text did not parse, in the user's terms (no hints about Python settings)."""
    text = str(e).splitlines()[0] if str(e) else type(e).__name__
    if isinstance(e, RecursionError):
        return "nested too deeply"
    if "integer string conversion" in text:  # Python's int-digit limit and its sys.* hint
        return "a number has more than 4300 digits"
    return text


def field_spec(path: str) -> dict[str, Any]:
    """Metadata of `section.name` (range/choices/doc/log) plus its type, for UI widgets."""
    section, name = path.split(".")
    klass = {"data": DataConfig, "model": ModelConfig, "train": TrainConfig}[section]
    for f in dataclasses.fields(klass):
        if f.name == name:
            spec = dict(f.metadata)
            spec["type"] = _field_type(f)
            spec["default"] = f.default
            spec["label"] = field_label(path)
            return spec
    raise KeyError(path)


def _field_type(f: dataclasses.Field[Any]) -> type:
    t = f.type if isinstance(f.type, str) else getattr(f.type, "__name__", str(f.type))
    return {"int": int, "float": float, "bool": bool, "str": str}[str(t)]


def _coerce(path: str, f: dataclasses.Field[Any], value: Any) -> Any:
    t = _field_type(f)
    label = field_label(path)
    if t is bool:
        if not isinstance(value, bool):
            raise ConfigError(
                path, f"must be true or false, got {value!r}", f"{label} must be on or off"
            )
        return value
    if t is int:
        whole = f"{label} must be a whole number"
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ConfigError(path, f"must be an integer, got {value!r}", whole)
        if isinstance(value, float) and (not math.isfinite(value) or value != int(value)):
            raise ConfigError(path, f"must be an integer, got {value!r}", whole)
        return int(value)
    if t is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ConfigError(path, f"must be a number, got {value!r}", f"{label} must be a number")
        try:
            return float(value)
        except OverflowError:
            raise ConfigError(path, "number too large", f"{label} is too large") from None
    if not isinstance(value, str):
        raise ConfigError(path, f"must be a string, got {value!r}", f"{label} must be text")
    return value


def _parse_text(path: str, f: dataclasses.Field[Any], raw: str) -> Any:
    t = _field_type(f)
    try:
        if t is bool:
            low = raw.lower()
            if low in ("1", "true", "yes", "on"):
                return True
            if low in ("0", "false", "no", "off"):
                return False
            raise ValueError
        if t is int:
            v = float(raw)
            if v != int(v):
                raise ValueError
            return int(v)
        if t is float:
            return float(raw)
    except (ValueError, OverflowError):
        kind = {"bool": "on or off", "int": "a whole number", "float": "a number"}[t.__name__]
        raise ConfigError(
            path, f"cannot read {raw!r} as {t.__name__}", f"{field_label(path)} must be {kind}"
        ) from None
    return raw


def _check_value(path: str, f: dataclasses.Field[Any], value: Any) -> None:
    meta = f.metadata
    label = field_label(path)
    if "choices" in meta and value not in meta["choices"]:
        raise ConfigError(
            path,
            f"{value!r} is not one of {', '.join(meta['choices'])}",
            f"{label} must be one of {', '.join(meta['choices'])}",
        )
    if "range" in meta:
        lo, hi = meta["range"]
        if isinstance(value, float) and not math.isfinite(value):
            raise ConfigError(
                path,
                f"must be finite, allowed range {lo}..{hi}",
                f"{label} must be a number from {_g(lo)} to {_g(hi)}",
            )
        if not (lo <= value <= hi):
            bound = f"at least {_g(lo)}" if value < lo else f"at most {_g(hi)}"
            raise ConfigError(
                path, f"{value} is out of range, allowed {lo}..{hi}", f"{label} must be {bound}"
            )


def _g(v: float) -> str:
    """A bound as the panel shows numbers: 1, 0.0001, 1,000,000 (no 1e+06, no 1.0)."""
    if float(v) == int(v) and abs(v) < 1e15:
        return f"{int(v):,}"
    return f"{v:g}"
