"""Every sentence, caption and title the app says about a run, made from facts.

Why one module: the window, the exports, `nndyn info` and `nndyn render` used to word
the same facts in four places, and some words outlived their conditions ("an invertible
flow keeps the loop around the inner class" on a width-3 net, which can untie it; a
preset's title on a run whose width was changed). Here each sentence is made from the
config and the measurements of one snapshot (`Diagnostics`, `TopologyReport`), and
carries in `Sentence.needs` the facts it states, so a test can check every sentence
against a measurement (`check`). Pure Python + numpy: no Qt.

The science the words respect: a ResNet block is invertible when h·Lip(s)·‖A‖₂ < 1; an
invertible width-2 net is a homeomorphism of the plane, so the loop around the inner
class keeps winding; in width ≥ 3 an invertible flow can untie it (winding 0 in the
head's plane); "untied" means winding 0 *and* at most `UNTIED_WRONG_SHARE` of the loop
on the wrong side.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from nndyn_gui.core.analysis.diagnostics import MAX_CONDITION, SQUASH_RELATIVE
from nndyn_gui.core.config import ENGINE_FIELDS, LABELS, RunConfig

log = logging.getLogger(__name__)

#: "untied": winding 0 and at most this share of the outer loop on the inner side
UNTIED_WRONG_SHARE = 0.01
#: config fields that never change what a run computes, only how fast it runs or what
#: its classes are called: a preset with other values here is still that preset (and
#: keeps its title). Snapshot spacing joins them while no stop rule is on (the rules are
#: checked at snapshots).
IGNORED_FOR_TITLE = (*ENGINE_FIELDS, "title", "data.class_names")


@dataclass(frozen=True)
class Sentence:
    """One sentence and the facts it states (names `check` can test; see CONDITIONS)."""

    text: str
    level: str = "info"  # "ok" | "warn" | "bad" | "info": how good the news is
    needs: tuple[str, ...] = ()

    def __str__(self) -> str:
        return self.text


@dataclass(frozen=True)
class Facts:
    """What is known about one snapshot of one run: the config and what was measured.

    None means "not measured": a sentence that needs it is never made.
    """

    kind: str
    width: int
    classes: int
    trained: bool | None = None
    all_invertible: bool | None = None  # every block proved invertible / one-to-one
    max_lip: float = math.nan  # max over blocks of (h)·‖A_k‖₂·Lip(s)
    any_folds: bool | None = None
    winding: int | None = None
    winding_measured: bool = False  # a topology report exists (winding may be None)
    wrong_side_share: float = math.nan
    boundary_drawn: bool | None = None
    tiles_3d: bool | None = None
    camera_followed: bool | None = None


def facts(
    config: RunConfig,
    diag: Any = None,
    rep: Any = None,
    trained: bool | None = None,
    boundary_drawn: bool | None = None,
    tiles_3d: bool | None = None,
    camera_followed: bool | None = None,
) -> Facts:
    """The Facts of one snapshot: `diag` a Diagnostics, `rep` a TopologyReport (or None)."""
    m = config.model
    lips = [float(b.lip_product) for b in getattr(diag, "blocks", [])]
    finite = [v for v in lips if math.isfinite(v)]
    return Facts(
        kind=m.kind,
        width=int(m.width),
        classes=int(config.data.classes),
        trained=trained,
        all_invertible=None if diag is None else bool(diag.all_invertible),
        max_lip=max(finite) if finite and len(finite) == len(lips) else math.nan,
        any_folds=None if diag is None else bool(getattr(diag, "any_folds", False)),
        winding=None if rep is None or rep.winding is None else int(rep.winding),
        winding_measured=rep is not None,
        wrong_side_share=math.nan if rep is None else float(rep.wrong_side_share),
        boundary_drawn=boundary_drawn,
        tiles_3d=tiles_3d,
        camera_followed=camera_followed,
    )


def _untied(f: Facts) -> bool:
    return f.winding == 0 and f.wrong_side_share <= UNTIED_WRONG_SHARE


#: every condition a sentence may need, as a test on Facts
CONDITIONS = {
    "resnet": lambda f: f.kind == "resnet",
    "mlp": lambda f: f.kind == "mlp",
    "width==2": lambda f: f.width == 2,
    "width>=3": lambda f: f.width >= 3,
    "K==2": lambda f: f.classes == 2,
    "K>2": lambda f: f.classes > 2,
    "trained": lambda f: f.trained is True,
    "untrained": lambda f: f.trained is False,
    "all_invertible": lambda f: f.all_invertible is True,
    "not_all_invertible": lambda f: f.all_invertible is False,
    "folds": lambda f: f.any_folds is True,
    "winding!=0": lambda f: f.winding is not None and f.winding != 0,
    "winding==0": lambda f: f.winding == 0,
    "winding_undetermined": lambda f: f.winding_measured and f.winding is None,
    "untied": _untied,
    "not_untied": lambda f: f.winding_measured and not _untied(f),
    "boundary_drawn": lambda f: f.boundary_drawn is True,
    "no_boundary_drawn": lambda f: f.boundary_drawn is False,
    "tiles_3d": lambda f: f.tiles_3d is True,
    "tiles_2d": lambda f: f.tiles_3d is False,
    "camera_followed": lambda f: f.camera_followed is True,
    "camera_default": lambda f: f.camera_followed is False,
}


def check(sentence: Sentence, f: Facts) -> list[str]:
    """The conditions of `sentence` that `f` does not satisfy ([] when it is true)."""
    return [c for c in sentence.needs if not CONDITIONS[c](f)]


def is_trained(snapshot: Any) -> bool:
    """False for the initial weights (step 0 without a loss), True for any trained step."""
    return not (int(snapshot.step) == 0 and not math.isfinite(float(snapshot.loss)))


# ---------------------------------------------------------------------- the verdict
def verdict(config: RunConfig, diag: Any) -> Sentence:
    """One line for the whole net from the diagnostics table (invertible? flattened?)."""
    blocks = list(diag.blocks)
    t = len(blocks)
    m = config.model
    squashed = [(i + 1, b) for i, b in enumerate(blocks) if b.squashed]
    flat = ""
    if squashed:
        k, b = squashed[0]
        more = f" (and {len(squashed) - 1} more)" if len(squashed) > 1 else ""
        cause = "a nearly singular A" if b.squash_cause == "A" else f"{m.activation} saturation"
        flat = (
            f"layer {k}{more} flattens the data: median σ_min/σ_max of its Jacobian "
            f"over the points = {fmt(float(b.jac_ratio_median))} < {SQUASH_RELATIVE:g}, "
            f"from {cause}"
        )
    if m.kind == "resnet":
        nonfinite = [i + 1 for i, b in enumerate(blocks) if not math.isfinite(b.lip_product)]
        if nonfinite:
            return Sentence(
                f"Block {nonfinite[0]}'s numbers are not finite: the net has diverged",
                "bad",
                ("resnet", "not_all_invertible"),
            )
        folds = [(i + 1, b) for i, b in enumerate(blocks) if getattr(b, "folds", False)]
        bad = [(i + 1, b) for i, b in enumerate(blocks) if not b.invertible]
        if folds:
            k, b = folds[0]
            more = f" (and {len(folds) - 1} more)" if len(folds) > 1 else ""
            return Sentence(
                f"Block {k}{more} folds the plane: det of its Jacobian is negative at "
                f"{100.0 * float(b.neg_det_share):.1f}% of the data points and positive at "
                "the others, so it is not one-to-one",
                "bad",
                ("resnet", "folds", "not_all_invertible"),
            )
        if not bad:
            text = (
                f"All {t} blocks satisfy h·Lip(g) < 1: the ResNet is invertible (a homeomorphism)"
            )
            return Sentence(
                text + (f", but {flat}" if flat else ""),
                "warn" if flat else "ok",
                ("resnet", "all_invertible"),
            )
        k, b = bad[0]
        more = f" (and {len(bad) - 1} more)" if len(bad) > 1 else ""
        text = (
            f"Block {k} violates h·‖A‖₂·Lip(s) < 1 (= {b.lip_product:.3g}){more}: "
            "invertibility is not proved (no fold at the data points: det J > 0 at all)"
        )
        return Sentence(
            text + (f"; {flat}" if flat else ""), "warn", ("resnet", "not_all_invertible")
        )
    needs_bad = ("mlp", "not_all_invertible")
    nonfinite = [i + 1 for i, b in enumerate(blocks) if not _finite(b)]
    if nonfinite:
        return Sentence(
            f"Layer {nonfinite[0]}'s numbers are not finite: the net has diverged", "bad", needs_bad
        )
    singular = [i + 1 for i, b in enumerate(blocks) if not b.invertible and _singular(b)]
    if singular:
        more = f" (and {len(singular) - 1} more)" if len(singular) > 1 else ""
        return Sentence(
            f"Layer {singular[0]}{more} has a singular A (σ_min ≈ 0): it squashes the plane "
            "onto a line, so points it merges can never be separated again",
            "bad",
            needs_bad,
        )
    if not all(b.invertible for b in blocks):
        return Sentence(
            f"Some layers are not one-to-one ({m.activation} maps whole half-lines of a unit's "
            "input onto the same value)",
            "bad",
            needs_bad,
        )
    one_to_one = f"All {t} layers are one-to-one (invertible A, strictly increasing {m.activation})"
    if flat:
        return Sentence(f"{one_to_one}, but {flat}", "warn", ("mlp", "all_invertible"))
    text = f"{one_to_one}; none flattens the data by itself"
    last = float(getattr(blocks[-1], "cumulative_ratio", math.nan)) if blocks else math.nan
    if math.isfinite(last) and last < SQUASH_RELATIVE:
        text += (
            f", though together they flatten it: median σ_min/σ_max from the input to the "
            f"output = {fmt(last)}"
        )
    return Sentence(text, "ok", ("mlp", "all_invertible"))


def _finite(b: Any) -> bool:
    return bool(np.isfinite(np.asarray(b.singular_values, dtype=np.float64)).all())


def _singular(b: Any) -> bool:
    sv = np.asarray(b.singular_values, dtype=np.float64)
    return bool(sv.size and np.isfinite(sv).all() and sv[-1] <= sv[0] / MAX_CONDITION)


# ---------------------------------------------------------------------- topology
def topology(config: RunConfig, diag: Any, rep: Any, trained: bool | None = None) -> Sentence:
    """Plain words for a TopologyReport: does the outer loop still enclose the centre?

    `diag`: the Diagnostics of the same weights (None: invertibility not measured, so
    nothing is said about it); `trained`: False for the initial weights.
    """
    share = float(rep.wrong_side_share)
    m = config.model
    d = int(m.width)
    wrong = f"{100.0 * share:.1f}% of the loop lies on the wrong side of the head's boundary"
    invertible = diag is not None and bool(getattr(diag, "all_invertible", False))
    where = " in the head's plane" if d > 2 else ""
    needs: tuple[str, ...]
    if rep.winding is None:
        reason = str(getattr(rep, "winding_reason", "")) or "it could not be resolved"
        text = (
            f"Whether the image of the outer loop winds around the centre{where} is "
            f"undetermined: {reason}; {wrong}."
        )
        needs = ("winding_undetermined",)
    elif abs(int(rep.winding)) >= 1:
        w = abs(int(rep.winding))
        text = f"The image of the outer loop still winds {w}× around the centre{where}"
        if int(rep.winding) < 0:
            mirror = "the net mirrors the plane" if d == 2 else "as seen in this plane"
            text += f" (the other way round: {mirror})"
        needs = ("winding!=0",)
        if d == 2 and invertible and m.kind == "resnet":
            text += ": every block is invertible, so a width-2 ResNet cannot untie the ring"
            needs += ("width==2", "resnet", "all_invertible")
        elif d == 2 and invertible:
            text += ": one-to-one layers of the plane cannot untie the ring"
            needs += ("width==2", "all_invertible")
        elif d >= 3 and trained is False:
            text += (
                f": these are the initial weights; in width {d} training can untie the ring "
                "(even an invertible flow can)"
            )
            needs += ("width>=3", "untrained")
        elif d >= 3:
            text += f": in width {d} a net could untie the ring, this one has not"
            needs += ("width>=3",)
        text += f"; {wrong}."
    else:
        text = f"The image of the outer loop no longer winds around the centre{where} (winding 0)"
        needs = ("winding==0",)
        if d >= 3 and share <= UNTIED_WRONG_SHARE:
            text += (
                ": the extra dimension lets the inner class slip out of the ring, "
                f"which is untied; {wrong}."
            )
            needs += ("width>=3", "untied")
        elif d >= 3:
            text += f", but {wrong}: the ring is not fully untied."
            needs += ("width>=3", "not_untied")
        elif invertible:
            text += (
                ", although every layer is proved one-to-one, which keeps the winding in "
                f"exact arithmetic: the computed image has collapsed; {wrong}."
            )
            needs += ("width==2", "all_invertible")
        else:
            text += f": some layer is not one-to-one (it folds the plane); {wrong}."
            needs += ("width==2",)
    acc = float(rep.dense_accuracy)
    if math.isfinite(acc):
        text += f" On dense fresh samples the net is {100.0 * acc:.1f}% accurate."
    if getattr(rep, "projected", False):
        text += " (Winding measured in a 2-D projection of the last layer.)"
    return Sentence(text, "info", ("K==2", *needs))


# ---------------------------------------------------------------------- view captions
def projection_note(
    d: int,
    share: float,
    dims: int,
    exact: bool,
    drawn: bool,
    classes: int = 2,
    why_not: str = "",
) -> Sentence:
    """What a projected view's axes are, and whether the drawn line/plane is the boundary.

    `exact`: the projection keeps the head's boundary exact (head axes); `drawn`: the
    boundary is drawn in this picture (the output layer, with the plane shown). The
    boundary is named only where it is drawn.
    """
    kept = f", {100 * share:.0f}% of the spread" if 0.0 < share <= 1 + 1e-9 else ""
    head = f"projection of R^{d}{kept}"
    if classes == 2:
        word = "line" if dims == 2 else "plane"
        if not exact:
            return Sentence(f"projection of R^{d} (PCA): head w is 0 or not finite, no {word}")
        if drawn:
            return Sentence(f"{head}: the {word} is the exact boundary", needs=("boundary_drawn",))
        return Sentence(f"{head} on the output's head axes", needs=("no_boundary_drawn",))
    words = "lines" if dims == 2 else "planes"
    if not exact:
        return Sentence(f"{head}: {why_not}, no border drawn in {dims}-D")
    if drawn:
        return Sentence(
            f"{head}: the {words} are the exact borders of the {classes} classes",
            needs=("boundary_drawn",),
        )
    return Sentence(f"{head} on the output's class axes", needs=("no_boundary_drawn",))


def sheet_caption(
    tiles_3d: bool,
    camera_followed: bool,
    note: str = "",
    inner_note: str = "",
    has_input: bool = False,
    boundary_in_output: bool = False,
) -> Sentence:
    """The caption of All layers: how its tiles are drawn (3-D, or a 2-D projection).

    `note` / `inner_note`: the projection's note where the boundary is drawn / where it
    is not (scene.ViewProjection); `boundary_in_output`: an output tile draws it.
    """
    if tiles_3d:
        if camera_followed:
            return Sentence(
                "3-D view, as the main 3-D view's camera sees it",
                needs=("tiles_3d", "camera_followed"),
            )
        return Sentence(
            "3-D view of each layer, from the default camera",
            needs=("tiles_3d", "camera_default"),
        )
    text = note if boundary_in_output else (inner_note or note)
    if text and boundary_in_output and inner_note and note != inner_note:
        text += " (drawn in the output panel)"
    if text and has_input:
        text += "; the input panel is in its own plane (x1, x2)"
    return Sentence(f"2-D view: {text}" if text else "", needs=("tiles_2d",))


# ---------------------------------------------------------------------- titles
DATA_WORDS = {
    "ring": "ring",
    "noisy_ring": "noisy ring",
    "spiral": "spiral",
    "moons": "moons",
    "xor": "XOR",
    "gaussians": "Gaussian blobs",
    "checkerboard": "checkerboard",
    "rings": "rings",
    "csv": "CSV data",
    "drawn": "drawn points",
}


def config_title(config: RunConfig) -> str:
    """A title made from the config alone: 'ResNet, width 2, depth 51, ring'."""
    m, d = config.model, config.data
    parts = ["ResNet" if m.kind == "resnet" else "MLP", f"width {m.width}", f"depth {m.depth}"]
    data = DATA_WORDS.get(d.name, d.name)
    if d.classes != 2:
        data += f", {d.classes} classes"
    parts.append(data)
    if m.tied:
        parts.append("tied")
    if m.kind == "resnet" and m.keep_invertible:
        parts.append("kept invertible")
    return ", ".join(parts)


def preset_name(config: RunConfig) -> str:
    """The preset this config was loaded from (its title field names it), else ""."""
    from nndyn_gui.core.io.presets import preset_names

    name = config.title.strip()
    return name if name and name in preset_names() else ""


def comparable(config: RunConfig, ignore: Sequence[str] = ()) -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for section, values in config.to_dict().items():
        if isinstance(values, dict):
            for key, v in values.items():
                flat[f"{section}.{key}"] = v
        else:
            flat[section] = values
    t = config.train
    stops = bool(t.stop_loss or t.stop_accuracy or t.stop_plateau)
    for key in (*IGNORED_FOR_TITLE, *(() if stops else ("train.snapshot_every",)), *ignore):
        flat.pop(key, None)
    return flat


def edits(config: RunConfig, base: RunConfig, ignore: Sequence[str] = ()) -> list[str]:
    """The fields (dotted paths) where `config` differs from `base` in what it computes."""
    a, b = comparable(config, ignore), comparable(base, ignore)
    return sorted(k for k in set(a) | set(b) if a.get(k) != b.get(k))


def preset_edits(config: RunConfig) -> list[str] | None:
    """None when the config is not from a preset; else the fields edited since ([] = none).

    Unedited means equal to `load_preset(name)` in every field except those that never
    change what is computed (`IGNORED_FOR_TITLE`: engine speed, snapshot spacing).
    """
    from nndyn_gui.core.io.presets import PresetError, load_preset

    name = preset_name(config)
    if not name:
        return None
    try:
        return edits(config, load_preset(name))
    except PresetError:
        log.exception("preset %s cannot be read for its title", name)
        return None


def run_title(config: RunConfig) -> str:
    """The title of a run: its preset's human title only while the config is the
    preset's; once edited, one made from the config, "edited from NAME"; a user's own
    title as it is; with no title, the config's."""
    from nndyn_gui.core.io.presets import preset_title

    name = preset_name(config)
    if not name:
        return config.title.strip() or config_title(config)
    if not preset_edits(config):
        return preset_title(name) or name
    return f"{config_title(config)} (edited from {name})"


def edit_summary(config: RunConfig) -> str:
    """'Width d 3 → 2' for each edited field of a preset's config ("" when unedited)."""
    from nndyn_gui.core.io.presets import load_preset

    changed = preset_edits(config)
    if not changed:
        return ""
    base = comparable(load_preset(preset_name(config)))
    now = comparable(config)
    return ", ".join(f"{LABELS.get(k, k)} {base.get(k, '—')} → {now.get(k, '—')}" for k in changed)


# ---------------------------------------------------------------------- numbers
def fmt(v: float, digits: int = 3) -> str:
    """A number as the panels print it: 3 significant digits, '—' when not finite."""
    if not math.isfinite(v):
        return "—"
    if v != 0 and (abs(v) < 1e-3 or abs(v) >= 1e4):
        return f"{v:.{digits - 1}e}"
    return f"{v:.{digits}g}"


def fmt_pct(v: float) -> str:
    """A share as the panels print it: "96.5%", "—" when not finite."""
    return f"{100.0 * v:.1f}%" if math.isfinite(v) else "—"
