"""The whole state of an experiment as one validated, serialisable dataclass tree.

Like TensorFlow Playground's `state.ts`, everything the app, the CLI and a run file
need to reproduce an experiment lives here. Every field carries all its rules in its
metadata: range or choices, and the label, panel group, slider scale, "off" text, unit,
whether a running trainer takes it live, and when it applies (`field_info(path)`). So
validation, `--set key=value`, the panel's controls, `nndyn train --help`, the live
classification (core/train/live.py) and the error messages all read one registry.
"""

from __future__ import annotations

import copy
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
    "nested_rings",  # a disk and 2-4 annuli around it, classes alternating
    "csv",
    "drawn",  # points drawn in the window: they live in the run file, not in the config
)
#: data sets that come with any number of classes 2..MAX_CLASSES (data.classes); the
#: others are two-class sets (the ring's topology, moons, xor, checkerboard)
MULTICLASS_DATASETS = ("spiral", "gaussians", "rings", "csv", "drawn")
MAX_CLASSES = 6
MODEL_KINDS = ("resnet", "mlp")
ACTIVATIONS = ("tanh", "relu", "sigmoid", "leaky_relu", "identity")
#: "msa": the extended method of successive approximations (core/train/msa.py)
OPTIMIZERS = ("adam", "sgd", "msa")
RING_DATASETS = ("ring", "noisy_ring")  # the ring and its noisy twin (data.gap, the loop)
GAP_DATASETS = (*RING_DATASETS, "nested_rings")  # the sets drawn with a radial gap
MIN_BAND_WIDTH = 0.04  # nested_rings: the narrowest band data.annuli and data.gap may leave
#: E-MSA defaults (measured on the ring and the spiral: docs/science.md, "Optimal control")
MSA_RHO = 1.0
MSA_INNER_STEPS = 3
#: the usual learning rate of the gradient optimisers and of E-MSA, whose "learning rate"
#: is another step (on each layer's Hamiltonian; 0.5: docs/science.md, "Optimal control")
USUAL_LEARNING_RATE = {"gradient": 0.01, "msa": 0.5}
#: which of h and the total time depth x h a ResNet holds when its depth changes
HOLDS = ("h", "time")


class ConfigError(ValueError):
    """A config value is unknown or out of range; the message names the field.

    `str(e)` names the field as a command line does ("model.depth: 0 is out of range,
    allowed 1..200"); `panel_message` says the same in the words of the parameter panel
    ("Depth T must be at least 1"), from the field's label (its metadata).
    """

    def __init__(self, field_path: str, message: str, panel_message: str = "") -> None:
        super().__init__(f"{field_path}: {message}")
        self.field_path = field_path
        label = _label(field_path)
        self.panel_message = panel_message or (f"{label}: {message}" if label else str(self))


def _num(lo: float, hi: float, doc: str, *, log: bool = False, **ui: Any) -> dict[str, Any]:
    return {"range": (lo, hi), "doc": doc, "log": log, **ui}


def _choice(choices: tuple[str, ...], doc: str, **ui: Any) -> dict[str, Any]:
    return {"choices": choices, "doc": doc, **ui}


def _meta(doc: str, **ui: Any) -> dict[str, Any]:
    return {"doc": doc, **ui}


# ---------------------------------------------------------------------- when a field applies
# Each returns "" when the field has a say in a run of `c`, else why not (the panel's
# tooltip). A field that applies to neither of two configs is no change between them
# (`changed_fields`): h of an MLP, the bound while keep-invertible is off.
def _resnet_only(why: str) -> Any:
    return lambda c: "" if c.model.kind == "resnet" else why


def _h_held(c: RunConfig) -> str:
    """The step h is set by the total time while the total time is held (and vice versa)."""
    if c.model.kind == "resnet" and c.model.hold == "time":
        return "the total time is held: h = total time / depth"
    return ""


def _time_held(c: RunConfig) -> str:
    if c.model.kind == "resnet" and c.model.hold == "h":
        return "h is held: the total time is depth × h"
    return ""


def _bound_applies(c: RunConfig) -> str:
    on = c.model.kind == "resnet" and c.model.keep_invertible
    return "" if on else "only when 'Keep invertible' is on"


def _msa_only(c: RunConfig) -> str:
    return "" if c.train.optimizer == "msa" else "only for the MSA optimiser"


def _gap_applies(c: RunConfig) -> str:
    return "" if c.data.name in GAP_DATASETS else "only for the ring data sets"


def _annuli_apply(c: RunConfig) -> str:
    return "" if c.data.name == "nested_rings" else "only for nested rings"


def _classes_apply(c: RunConfig) -> str:
    if c.data.name in MULTICLASS_DATASETS:
        return ""
    return f"a two-class data set (K classes: {', '.join(MULTICLASS_DATASETS[:3])})"


# Each returns "" when the panel may set the field for `c`, else which data fix it.
_DRAWN = "the drawn points are the data (edit them with Draw in the layer view)"


def _set_by_points(c: RunConfig) -> str:
    if c.data.name == "drawn":
        return _DRAWN
    return "the CSV file fixes the points" if c.data.name == "csv" else ""


def _set_by_drawing(c: RunConfig) -> str:
    return _DRAWN if c.data.name == "drawn" else ""


def _set_by_labels(c: RunConfig) -> str:
    labelled = {"csv": "the CSV file's labels fix K", "drawn": "the drawn classes fix K"}
    return labelled.get(c.data.name, "")


@dataclass
class DataConfig:
    """Which 2-D data set, how many points, how noisy (all points lie in [-1, 1]^2)."""

    name: str = field(default="ring", metadata=_choice(DATASETS, "data set", label="Data set"))
    classes: int = field(
        default=2,
        metadata=_num(
            2,
            MAX_CLASSES,
            "number of classes K (K > 2: spiral arms, Gaussian blobs, concentric rings, csv)",
            label="Classes K",
            unused=_classes_apply,
            fixed=_set_by_labels,
        ),
    )
    n: int = field(
        default=1000,
        metadata=_num(
            20,
            100_000,
            "number of points (train + test)",
            label="Points",
            scale="log",
            fixed=_set_by_points,
        ),
    )
    noise: float = field(
        default=0.0,
        metadata=_num(
            0.0,
            1.0,
            "noise level (meaning depends on the set)",
            label="Noise",
            fixed=_set_by_points,
        ),
    )
    gap: float = field(
        default=0.225,
        metadata=_num(
            0.0,
            0.6,
            "radial gap: ring, between the inner disk (r<0.35) and the annulus; nested "
            "rings, between neighbouring bands",
            label="Gap",
            unused=_gap_applies,
            fixed=_set_by_drawing,
        ),
    )
    annuli: int = field(
        default=2,
        metadata=_num(
            2,
            4,
            "nested rings: annuli around the centre disk (classes alternate outwards)",
            label="Annuli",
            unused=_annuli_apply,
            fixed=_set_by_drawing,
        ),
    )
    test_fraction: float = field(
        default=0.2,
        metadata=_num(
            0.0, 0.9, "share of points held out", label="Test share", fixed=_set_by_drawing
        ),
    )
    seed: int = field(
        default=0,
        metadata=_num(
            0,
            2**31 - 1,
            "seed of the data sampler",
            label="Data seed",
            scale="none",
            fixed=_set_by_points,
        ),
    )
    csv_path: str = field(
        default="",
        metadata=_meta("CSV file (x1,x2,label) when name='csv'", label="CSV file", group=""),
    )
    class_names: str = field(
        default="",
        metadata=_meta(
            "names of the classes, separated by commas, one per class (empty: class 0, "
            "class 1, …); legends and exports use them",
            label="Class names",
            change="none",
            words="class names",
        ),
    )

    @property
    def names(self) -> tuple[str, ...]:
        """The name of each class: the typed ones, else "class 0", "class 1", …
        (`class_names` is checked by RunConfig.validate: one name per class)."""
        typed = split_class_names(self.class_names)
        if len(typed) == self.classes:
            return tuple(typed)
        return tuple(f"class {k}" for k in range(self.classes))


MAX_CLASS_NAME = 40  # characters: a legend row stays one line


def split_class_names(text: str) -> list[str]:
    """'inside, outside' -> ['inside', 'outside']; blank text -> [] (the default names)."""
    if not text.strip():
        return []
    return [part.strip() for part in text.split(",")]


def _check_class_names(data: DataConfig) -> None:
    """One non-empty name per class, short and printable (they go into legends and files)."""
    names = split_class_names(data.class_names)
    if not names:
        return
    k = data.classes
    if len(names) != k:
        raise ConfigError(
            "data.class_names",
            f"{len(names)} names for {k} classes: give {k} names separated by commas, or none",
            f"Class names: {len(names)} names for {k} classes; type {k} names separated "
            "by commas, or leave it empty",
        )
    for i, name in enumerate(names):
        if not name:
            raise ConfigError(
                "data.class_names",
                f"the name of class {i} is empty",
                f"Class names: the name of class {i} is empty",
            )
        if len(name) > MAX_CLASS_NAME or not name.isprintable():
            raise ConfigError(
                "data.class_names",
                f"the name of class {i} must be printable and at most {MAX_CLASS_NAME} characters",
                f"Class names: the name of class {i} must be printable text of at most "
                f"{MAX_CLASS_NAME} characters",
            )


@dataclass
class ModelConfig:
    """MLP x -> s(Ax+b) or ResNet x -> x + h s(Ax+b), width d, depth T, plus a linear head."""

    kind: str = field(
        default="resnet", metadata=_choice(MODEL_KINDS, "network family", label="Network")
    )
    width: int = field(default=3, metadata=_num(2, 64, "neurons per layer (d)", label="Width d"))
    depth: int = field(
        default=10, metadata=_num(1, 200, "number of layers / blocks (T)", label="Depth T")
    )
    h: float = field(
        default=0.05,
        metadata=_num(
            1e-4,
            10.0,
            "ResNet step size; setting it holds it (hold = h)",
            log=True,
            label="Step h",
            unused=_resnet_only("only for ResNet: an MLP layer has no step size"),
            fixed=_h_held,
            follows=_h_held,
        ),
    )
    hold: str = field(
        default="h",
        metadata=_choice(
            HOLDS,
            "which one a change of depth keeps: the step h (the total time depth × h "
            "follows) or the total time (h = total time / depth follows)",
            label="Hold",
            change="none",
            unused=_resnet_only("only for ResNet: an MLP has no step size"),
        ),
    )
    total_time: float = field(
        default=0.5,
        metadata=_num(
            0.01,
            100.0,
            "the flow's final time depth × h; setting it holds it (hold = time)",
            log=True,
            label="Total time",
            unused=_resnet_only("only for ResNet: an MLP has no flow time"),
            fixed=_time_held,
            follows=_time_held,
        ),
    )
    activation: str = field(
        default="tanh", metadata=_choice(ACTIVATIONS, "activation s", label="Activation")
    )
    tied: bool = field(
        default=False,
        metadata=_meta("share (A, b) across blocks (autonomous ODE)", label="Tied weights"),
    )
    keep_invertible: bool = field(
        default=False,
        metadata=_meta(
            "rescale A_k after each step so h*|A_k|_2*Lip(s) <= bound",
            label="Keep invertible",
            unused=_resnet_only("only for ResNet"),
        ),
    )
    invertible_bound: float = field(
        default=0.9,
        metadata=_num(
            0.01,
            0.99,
            "bound c < 1 used by keep_invertible",
            label="Bound c",
            unused=_bound_applies,
        ),
    )
    init_scale: float = field(
        default=1.0,
        metadata=_num(
            0.0, 10.0, "multiplier of the Glorot-uniform initial A_k", label="Init scale"
        ),
    )


@dataclass
class TrainConfig:
    """Optimiser, schedule and regularisation; `seed` fixes initial weights and batches.

    Fields marked `change="live"` reach a running trainer at its next compiled call
    (core/train/live.py); a change of any other starts the run again from step 0.
    """

    optimizer: str = field(
        default="adam",
        metadata=_choice(
            OPTIMIZERS,
            "optimiser: Adam, SGD, or msa (the extended method of successive "
            "approximations: states forward, costates backward, each layer ascends its "
            "augmented Hamiltonian; its step is the learning rate, ~0.5 on the ring and "
            "the spiral). In the window, switching between msa and Adam or SGD swaps the "
            "learning rate for the one last used with the other (else 0.5 for msa, 0.01)",
            label="Optimiser",
        ),
    )
    msa_rho: float = field(
        default=MSA_RHO,
        metadata=_num(
            0.0,
            10_000.0,
            "MSA: weight ρ of the augmentation that keeps each layer's update where the "
            "forward and backward equations still hold (0: plain gradient ascent)",
            label="MSA ρ",
            scale="log0",
            log0_min=1e-3,
            unused=_msa_only,
        ),
    )
    msa_inner_steps: int = field(
        default=MSA_INNER_STEPS,
        metadata=_num(
            1,
            100,
            "MSA: gradient-ascent steps on each layer's augmented Hamiltonian per iteration "
            "(step size: the learning rate)",
            label="MSA inner steps",
            unused=_msa_only,
        ),
    )
    learning_rate: float = field(
        default=0.01,
        metadata=_num(1e-6, 100.0, "learning rate", log=True, label="Learning rate", change="live"),
    )
    batch_size: int = field(
        default=0,
        metadata=_num(
            0,
            100_000,
            "mini-batch size (0 = full batch)",
            label="Batch size",
            scale="log0",
            log0_min=1.0,
            off="full",
            change="live",
        ),
    )
    steps: int = field(
        default=2000,
        metadata=_num(1, 1_000_000, "optimiser steps", label="Steps", scale="log", change="live"),
    )
    weight_decay: float = field(
        default=0.0,
        metadata=_num(
            0.0,
            10.0,
            "L2 penalty on A_k, b_k",
            label="Weight decay",
            scale="log0",
            log0_min=1e-6,
            change="live",
        ),
    )
    transport: float = field(
        default=0.0,
        metadata=_num(
            0.0,
            10.0,
            "transport cost lambda * sum_t |x_{t+1}-x_t|^2",
            label="Transport λ",
            scale="log0",
            log0_min=1e-4,
            change="live",
        ),
    )
    seed: int = field(
        default=0,
        metadata=_num(
            0,
            2**31 - 1,
            "init seed: the initial weights (and the batch order, unless an order seed is "
            "set); --set train.init_seed=… sets it too",
            label="Init seed",
            scale="none",
        ),
    )
    order_seed: int = field(
        default=-1,
        metadata=_num(
            -1,
            2**31 - 1,
            "seed of the mini-batch order (-1: the init seed's); with it the two sources of "
            "randomness, initial weights and batches, vary one at a time",
            label="Order seed",
            scale="none",
            off="= init seed",
            unused=lambda c: "" if c.train.batch_size else "full batch: there is no order",
        ),
    )
    snapshot_every: int = field(
        default=50,
        metadata=_num(
            1, 1_000_000, "steps between saved snapshots", label="Snapshot every", scale="log"
        ),
    )
    steps_per_call: int = field(
        default=50,
        metadata=_num(
            1,
            10_000,
            "optimiser steps fused in one compiled call",
            label="Steps per call",
            engine=True,
            change="live",
        ),
    )
    # stop conditions (core/train/stopping.py), checked at every snapshot; 0 = off
    stop_loss: float = field(
        default=0.0,
        metadata=_num(
            0.0,
            10.0,
            "stop when the training loss is at most this (0 = off)",
            label="Loss at most",
            group="Stop when",
            scale="log0",
            log0_min=1e-4,
            off="off",
            words="stop loss",
            change="live",
        ),
    )
    stop_accuracy: float = field(
        default=0.0,
        metadata=_num(
            0.0,
            1.0,
            "stop when the training accuracy reaches this (0 = off)",
            label="Accuracy reaches",
            group="Stop when",
            off="off",
            words="stop accuracy",
            change="live",
        ),
    )
    stop_plateau: int = field(
        default=0,
        metadata=_num(
            0,
            1_000_000,
            "stop when the loss has not improved by 0.1% for this many steps (0 = off)",
            label="No progress for",
            group="Stop when",
            scale="log0",
            log0_min=10.0,
            off="off",
            unit="steps",
            words="stop plateau",
            change="live",
        ),
    )

    @property
    def batch_seed(self) -> int:
        """The seed the mini-batch order is drawn with: order_seed, or the init seed."""
        return self.order_seed if self.order_seed >= 0 else self.seed


@dataclass
class RunConfig:
    """One experiment: data + model + training, plus a free-text title.

    `title` is the user's own title of the run, or, in a config loaded from a preset,
    that preset's name (core/analysis/narrator.preset_name: the run is the preset's while it is
    unedited, "edited from NAME" after). Titles on screen and in files are made from
    it by narrator.run_title(config), never shown as it is.
    """

    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    title: str = field(
        default="",
        metadata=_meta("free text shown in views and exports", label="Title", change="none"),
    )

    # ------------------------------------------------------------------ validation
    def validate(self) -> RunConfig:
        """Raise ConfigError naming the first bad field; return self for chaining.

        Also makes h and the total time agree: the one `model.hold` does not hold follows
        from the other and the depth (`_sync_time`)."""
        _sync_time(self.model)
        for section in ("data", "model", "train"):
            sub = getattr(self, section)
            for f in dataclasses.fields(sub):
                if f"{section}.{f.name}" == "model.total_time" and self.model.hold == "h":
                    continue  # it follows from h and the depth, which are checked
                _check_value(f"{section}.{f.name}", f, getattr(sub, f.name))
        if self.data.name == "csv" and not self.data.csv_path:
            raise ConfigError(
                "data.csv_path",
                "required when data.name is 'csv'",
                "Choose a CSV file (Import CSV…) for the data set 'CSV file'",
            )
        if self.data.name == "nested_rings":
            band = (1.0 - self.data.annuli * self.data.gap) / (self.data.annuli + 1)
            if band < MIN_BAND_WIDTH:
                most = (1.0 - (self.data.annuli + 1) * MIN_BAND_WIDTH) / self.data.annuli
                raise ConfigError(
                    "data.gap",
                    f"{self.data.annuli} annuli with gap {self.data.gap:g} leave bands "
                    f"{band:.3g} wide (at least {MIN_BAND_WIDTH:g}): gap at most {most:.3g}",
                    f"Gap: with {self.data.annuli} annuli it must be at most {most:.3g}",
                )
        _check_class_names(self.data)
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
                key = ALIASES.get(f"{section}.{key}", f".{key}").split(".")[1]
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
        key = ALIASES.get(key.strip(), key.strip())
        d = self.to_dict()
        if key == "title":
            d["title"] = raw
            return RunConfig.from_dict(d)
        parts = key.split(".")
        if len(parts) != 2 or parts[0] not in ("data", "model", "train"):
            raise ConfigError(key, "expected section.field with section data, model or train")
        section, name = parts
        names = {f.name: f for f in dataclasses.fields(SECTIONS[section])}
        if name not in names:
            raise ConfigError(key, f"unknown field (allowed: {', '.join(names)})")
        d[section][name] = _parse_text(key, names[name], raw.strip())
        _hold_what_is_set(key, d)
        return RunConfig.from_dict(d)

    def copy(self) -> RunConfig:
        """An independent copy (not validated again: configs are validated when made)."""
        return copy.deepcopy(self)


def _sync_time(m: ModelConfig) -> None:
    """h = total time / depth while the total time is held, else total time = depth x h.

    Left alone when they already agree to rounding, so switching what is held changes
    no number (and so no run)."""
    if not (isinstance(m.h, float | int) and isinstance(m.total_time, float | int)):
        return  # not numbers: the field checks say so
    if not (math.isfinite(m.h) and math.isfinite(m.total_time)) or m.depth < 1:
        return
    if math.isclose(m.h * m.depth, m.total_time, rel_tol=1e-12):
        return
    if m.hold == "time":
        h = m.total_time / m.depth
        lo, hi = _h_range()
        if m.kind == "resnet" and not lo <= h <= hi:
            raise ConfigError(
                "model.total_time",
                f"total time {m.total_time:g} over depth {m.depth} gives h = {h:g}, "
                f"outside {lo:g}..{hi:g}",
                f"Total time {m.total_time:g} / depth {m.depth} gives a step h of {h:g}; "
                f"h must be from {_g(lo)} to {_g(hi)}",
            )
        m.h = h
    else:
        m.total_time = m.h * m.depth


def _hold_what_is_set(key: str, d: dict[str, Any]) -> None:
    """`--set model.total_time=…` holds the total time, `--set model.h=…` holds h: the
    value set is the one kept when the depth changes (a sweep over depth at fixed T)."""
    if key in ("model.h", "model.total_time"):
        d["model"]["hold"] = "h" if key == "model.h" else "time"


#: other names a field answers to in --set and JSON (the issue's and the article's words)
ALIASES = {"train.init_seed": "train.seed"}

SECTIONS: dict[str, type] = {"data": DataConfig, "model": ModelConfig, "train": TrainConfig}


def json_error_reason(e: BaseException) -> str:
    """Why JSON text did not parse, in the user's terms (no hints about Python settings)."""
    text = str(e).splitlines()[0] if str(e) else type(e).__name__
    if isinstance(e, RecursionError):
        return "nested too deeply"
    if "integer string conversion" in text:  # Python's int-digit limit and its sys.* hint
        return "a number has more than 4300 digits"
    return text


def field_type(f: dataclasses.Field[Any]) -> type:
    t = f.type if isinstance(f.type, str) else getattr(f.type, "__name__", str(f.type))
    return {"int": int, "float": float, "bool": bool, "str": str}[str(t)]


def _coerce(path: str, f: dataclasses.Field[Any], value: Any) -> Any:
    t = field_type(f)
    label = _label(path) or path
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
    t = field_type(f)
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
            path, f"cannot read {raw!r} as {t.__name__}", f"{(_label(path) or path)} must be {kind}"
        ) from None
    return raw


def _check_value(path: str, f: dataclasses.Field[Any], value: Any) -> None:
    meta = f.metadata
    label = _label(path) or path
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


def _h_range() -> tuple[float, float]:
    """model.h's range, from its metadata (core/fields.py reads the same)."""
    f = next(f for f in dataclasses.fields(ModelConfig) if f.name == "h")
    return f.metadata.get("range") or (0.0, math.inf)


def _label(path: str) -> str:
    """The panel's name of a field, from its metadata ("" for an unknown path); the
    registry (core/fields.py) reads the same."""
    section, _, name = path.rpartition(".")
    klass = SECTIONS.get(section) if section else RunConfig
    for f in dataclasses.fields(klass) if klass is not None else ():
        if f.name == name:
            return str(f.metadata.get("label", ""))
    return ""


def optimiser_family(optimizer: str) -> str:
    """ "msa" or "gradient" (Adam, SGD): what a learning rate means for it."""
    return "msa" if optimizer == "msa" else "gradient"


def follow_the_optimiser(train: TrainConfig, previous: str, kept: dict[str, float]) -> bool:
    """After the optimiser changed from `previous`: between a gradient optimiser and
    E-MSA the learning rate is another step, so the rate goes into `kept` and the new
    family's comes back (the one last used with it, else its usual step). True if the
    rate changed. Only the window does this, where the user sees the field change; a
    command line, a sweep or a claim's twin sets exactly what it names."""
    old, new = optimiser_family(previous), optimiser_family(train.optimizer)
    if old == new:
        return False
    kept[old] = train.learning_rate
    rate = kept.get(new, USUAL_LEARNING_RATE[new])
    changed = rate != train.learning_rate
    train.learning_rate = rate
    return changed
