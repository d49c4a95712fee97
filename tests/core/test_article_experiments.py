"""The article's own experiments (issue 22): the linear baseline, a fixed final time,
collapse, the turnpike, nested rings and two seeds, each as a user sees it."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np

from nndyn_gui.core.analysis.diagnostics import diagnose, reconstruction_error
from nndyn_gui.core.analysis.field import fixed_points
from nndyn_gui.core.config import RunConfig
from nndyn_gui.core.datasets import make_dataset
from nndyn_gui.core.net.flow import propagate
from nndyn_gui.core.types import NetWeights


def _net(rng: np.random.Generator, t: int, d: int) -> NetWeights:
    return NetWeights(
        A=rng.normal(0.0, 0.8, (t, d, d)), b=rng.normal(0.0, 0.3, (t, d)), w=np.ones(d), c=0.0
    )


# ---------------------------------------------------------------------- 1. identity
def test_a_linear_mlp_is_one_affine_map_and_is_inverted_exactly() -> None:
    cfg = RunConfig().with_set("model.kind=mlp").with_set("model.activation=identity")
    cfg = cfg.with_set("model.width=2").with_set("model.depth=4")
    rng = np.random.default_rng(3)
    w = _net(rng, 4, 2)
    x = rng.uniform(-1, 1, (50, 2))
    traj = propagate(cfg.model, w, x)
    a, b = np.eye(2), np.zeros(2)
    for k in range(4):  # the composition of affine layers is one affine map
        a, b = w.A[k] @ a, w.A[k] @ b + w.b[k]
    assert np.allclose(traj[-1], x @ a.T + b)
    diag = diagnose(cfg, w, make_dataset(cfg.data))
    assert diag.all_invertible  # a nonsingular A is enough: identity is one-to-one
    assert reconstruction_error(cfg.model, w, x) < 1e-9


def test_a_tied_linear_resnet_has_one_fixed_point_where_ax_plus_b_vanishes() -> None:
    cfg = RunConfig().with_set("model.activation=identity").with_set("model.tied=true")
    a = np.array([[-1.0, 0.3, 0.0], [0.0, -0.5, 0.2], [0.1, 0.0, -2.0]])
    b = np.array([0.2, -0.1, 0.4])
    w = NetWeights(A=np.repeat(a[None], 10, 0), b=np.repeat(b[None], 10, 0), w=np.ones(3), c=0.0)
    fp = fixed_points(cfg.model, w)
    assert len(fp.points) == 1
    assert np.allclose(a @ fp.points[0].x + b, 0.0)
    assert fp.points[0].kind == "sink"  # every eigenvalue of A has a negative real part


# ---------------------------------------------------------------------- 2. fixed final time
def test_holding_the_total_time_makes_h_follow_the_depth() -> None:
    cfg = RunConfig().with_set("model.total_time=2.5")
    assert cfg.model.hold == "time"
    for depth in (10, 100, 200):
        c = cfg.with_set(f"model.depth={depth}")
        assert c.model.h == 2.5 / depth and c.model.total_time == 2.5
    held_h = RunConfig().with_set("model.h=0.1").with_set("model.depth=30")
    assert held_h.model.hold == "h" and held_h.model.h == 0.1
    assert abs(held_h.model.total_time - 3.0) < 1e-12


def test_the_registry_says_which_of_h_and_the_total_time_is_held() -> None:
    from nndyn_gui.core.fields import field_info

    h, t = field_info("model.h"), field_info("model.total_time")
    time_held = RunConfig().with_set("model.total_time=2.5")
    assert "total time is held" in h.why_not_editable(time_held)
    assert t.why_not_editable(time_held) == ""
    h_held = RunConfig()
    assert h.why_not_editable(h_held) == "" and "h is held" in t.why_not_editable(h_held)
    assert field_info("model.hold").group == "Architecture"  # a control of the panel


def test_switching_what_is_held_changes_no_number_and_restarts_nothing() -> None:
    from nndyn_gui.core.train import live

    base = RunConfig().with_set("model.h=0.05").with_set("model.depth=51")
    switched = base.with_set("model.hold=time")
    assert (switched.model.h, switched.model.total_time) == (base.model.h, base.model.total_time)
    assert live.classify(base, switched) == "same"


def test_a_total_time_giving_an_h_out_of_range_is_refused_naming_the_total_time() -> None:
    import pytest

    from nndyn_gui.core.config import ConfigError

    with pytest.raises(ConfigError) as e:
        RunConfig().with_set("model.depth=1").with_set("model.total_time=50")
    assert e.value.field_path == "model.total_time" and "step h of 50" in e.value.panel_message


def test_old_configs_without_the_new_fields_hold_h() -> None:
    d = RunConfig().to_dict()
    del d["model"]["hold"], d["model"]["total_time"]
    d["model"].update(h=0.2, depth=7)
    cfg = RunConfig.from_dict(d)
    assert cfg.model.hold == "h" and cfg.model.h == 0.2
    assert abs(cfg.model.total_time - 1.4) < 1e-12


def test_a_sweep_over_depth_at_fixed_total_time() -> None:
    from pathlib import Path

    from nndyn_gui.core.sweep.spec import load_spec

    spec = load_spec(Path(__file__).parents[2] / "docs/examples/depth-at-fixed-time.toml")
    jobs = spec.jobs()
    assert {j.config.model.depth for j in jobs} == {5, 10, 25, 50, 100, 200}
    for j in jobs:
        assert abs(j.config.model.h * j.config.model.depth - 2.5) < 1e-12


# ---------------------------------------------------------------------- 6. nested rings
def _nested(annuli: int, gap: float) -> RunConfig:
    cfg = RunConfig().with_set("data.name=nested_rings").with_set(f"data.gap={gap}")
    return cfg.with_set(f"data.annuli={annuli}")


def test_nested_rings_alternate_classes_outwards_with_the_gap_between_bands() -> None:
    from nndyn_gui.core.distributions import nested_bands

    for annuli in (2, 3, 4):
        cfg = _nested(annuli, 0.1)
        ds = make_dataset(cfg.data)
        r = np.hypot(*ds.x_all.T)
        bands = nested_bands(cfg.data)
        assert len(bands) == annuli + 1 and bands[0][0] == 0.0 and abs(bands[-1][1] - 1) < 1e-12
        for (_, hi), (nlo, _) in itertools.pairwise(bands):
            assert abs(nlo - hi - 0.1) < 1e-12  # the gap between neighbours
        for i, (lo, hi) in enumerate(bands):
            inside = (r >= lo) & (r <= hi)
            assert inside.sum() > 50 and set(ds.y_all[inside]) == {i % 2}
        assert abs(ds.y_all.mean() - 0.5) <= 0.001  # balanced classes


def test_the_loop_of_nested_rings_lies_in_the_first_annulus_around_the_centre() -> None:
    from nndyn_gui.core.datasets import inner_point, outer_loop
    from nndyn_gui.core.distributions import nested_bands

    cfg = _nested(3, 0.1)
    lo, hi = nested_bands(cfg.data)[1]
    r = np.hypot(*outer_loop(cfg.data, 100).T)
    assert np.all((r > lo) & (r < hi))
    assert np.array_equal(inner_point(cfg.data), [0.0, 0.0])


def test_too_wide_a_gap_for_the_annuli_is_refused_naming_the_gap() -> None:
    import pytest

    from nndyn_gui.core.config import ConfigError
    from nndyn_gui.core.fields import field_info

    with pytest.raises(ConfigError) as e:
        _nested(4, 0.225)
    assert e.value.field_path == "data.gap" and "at most 0.2" in e.value.panel_message
    ring = RunConfig()
    assert "nested rings" in field_info("data.annuli").why_unused(ring)
    assert field_info("data.gap").applies(_nested(2, 0.1))


# ---------------------------------------------------------------------- 4. collapse
def test_image_ratio_and_rank_tell_a_line_from_a_plane() -> None:
    from nndyn_gui.core.analysis.metrics import image_rank, image_ratio

    rng = np.random.default_rng(0)
    disk = rng.uniform(-1, 1, (500, 2))
    line = np.outer(rng.uniform(-1, 1, 500), [0.6, 0.8]) + 1e-6 * rng.normal(size=(500, 2))
    assert image_ratio(disk) > 0.5 and image_rank(disk) == 2
    assert image_ratio(line) < 1e-9 and image_rank(line) == 1
    assert image_ratio(np.ones((10, 2))) == 0.0 and image_rank(np.ones((10, 2))) == 0
    flat3 = np.column_stack([disk, np.zeros(500)])  # width 3: the data's plane is what counts
    assert image_ratio(flat3) > 0.5 and image_rank(flat3) == 2
    assert np.isnan(image_ratio(np.full((5, 2), np.inf)))  # never an SVD of inf


def test_a_layer_with_a_singular_a_drops_the_image_to_a_line() -> None:
    """Exactly a line in a linear net; tanh would bend that line into a curve (rank 2)."""
    from nndyn_gui.core.analysis.metrics import image_rank

    cfg = RunConfig().with_set("model.kind=mlp").with_set("model.width=2")
    cfg = cfg.with_set("model.depth=3").with_set("model.activation=identity")
    rng = np.random.default_rng(1)
    w = _net(rng, 3, 2)
    w.A[1] = np.outer([1.0, 2.0], [0.5, -0.3])  # rank 1
    traj = propagate(cfg.model, w, rng.uniform(-1, 1, (300, 2)))
    assert [image_rank(x) for x in traj] == [2, 2, 1, 1]


# ---------------------------------------------------------------------- 5. turnpike
def test_the_middle_half_share_of_the_displacement_profile() -> None:
    from nndyn_gui.core.analysis.diagnostics import middle_half_share

    assert middle_half_share(np.ones(200)) == 0.5  # every block moves as far
    assert abs(middle_half_share(np.ones(7)) - 0.5) < 1e-12  # any depth: exact quarters
    turnpike = np.r_[np.ones(10), np.full(180, 0.01), np.ones(10)]
    assert middle_half_share(turnpike) < 0.1
    assert np.isnan(middle_half_share(np.zeros(5)))  # nothing moves: no share


def test_diagnostics_report_the_middle_share_of_a_run() -> None:
    cfg = RunConfig().with_set("model.depth=8")
    rng = np.random.default_rng(2)
    diag = diagnose(cfg, _net(rng, 8, 3), make_dataset(cfg.data))
    assert 0.0 < diag.middle_share < 1.0
    assert diag.to_dict()["middle_share"] == diag.middle_share


# ---------------------------------------------------------------------- 3. two seeds
def test_the_order_seed_follows_the_init_seed_unless_set() -> None:
    cfg = RunConfig().with_set("train.init_seed=5")  # the name of train.seed
    assert cfg.train.seed == 5 and cfg.train.order_seed == -1 and cfg.train.batch_seed == 5
    cfg = cfg.with_set("train.order_seed=9")
    assert (cfg.train.seed, cfg.train.batch_seed) == (5, 9)
    assert RunConfig.from_dict({"train": {"init_seed": 3}}).train.seed == 3


def _train(order_seed: int, seed: int = 4) -> list[NetWeights]:
    from nndyn_gui.core.train.trainer import Trainer

    cfg = RunConfig()
    for s in ("data.n=120", "model.depth=3", "train.batch_size=16", "train.steps=30"):
        cfg = cfg.with_set(s)
    cfg = cfg.with_set("train.snapshot_every=10").with_set("train.steps_per_call=10")
    cfg = cfg.with_set(f"train.seed={seed}").with_set(f"train.order_seed={order_seed}")
    return [s.weights for s in Trainer(cfg, make_dataset(cfg.data)).run().snapshots]


def test_the_two_seeds_vary_the_start_and_the_batches_one_at_a_time() -> None:
    same = _train(-1)  # the order follows the init seed 4 ...
    assert all(np.array_equal(a.A, b.A) for a, b in zip(same, _train(4), strict=True))
    other_order = _train(7)  # ... another order: the same start, other batches
    assert np.array_equal(same[0].A, other_order[0].A)
    assert not np.allclose(same[-1].A, other_order[-1].A)
    other_init = _train(4, seed=8)  # another start, the same batches
    assert not np.allclose(same[0].A, other_init[0].A)


def test_a_format_2_run_file_opens_with_both_seeds_equal(tmp_path) -> None:
    import json
    import zipfile

    from nndyn_gui.core.io.runfile import load_run, save_run
    from nndyn_gui.core.types import Run

    cfg = RunConfig().with_set("train.seed=11")
    ds = make_dataset(cfg.data)
    plain = tmp_path / "plain.nndyn"
    save_run(Run(cfg, ds, [], "new", ""), plain)
    with zipfile.ZipFile(plain) as z:  # what an older nndyn wrote and reads
        assert json.loads(z.read("manifest.json"))["format_version"] == 1
        written = json.loads(z.read("config.json"))
    assert "order_seed" not in written["train"] and "hold" not in written["model"]
    back = load_run(plain).config
    assert back.train.order_seed == -1 and back.train.batch_seed == back.train.seed == 11
    old = load_run(Path(__file__).parents[1] / "data" / "run-format1.nndyn").config
    assert old.train.batch_seed == old.train.seed and old.model.hold == "h"

    two = tmp_path / "two-seeds.nndyn"
    save_run(Run(cfg.with_set("train.order_seed=3"), ds, [], "new", ""), two)
    with zipfile.ZipFile(two) as z:
        assert json.loads(z.read("manifest.json"))["format_version"] == 3
    assert load_run(two).config.train.batch_seed == 3


# ---------------------------------------------------------------------- 7. claims and docs
ARTICLE_PRESETS = (
    "mlp-w2-ring-linear",
    "mlp-w2-ring-deep",
    "resnet-w2-nested-rings",
    "resnet-w3-nested-rings",
    "resnet-w3-ring-turnpike",
)


def _script(name: str):  # type: ignore[no-untyped-def]
    import importlib.util

    path = Path(__file__).parents[2] / "scripts" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_new_presets_claim_measured_statistics_verified_on_unseen_seeds() -> None:
    """Written from offsets 100-115; every claim as it now reads holds on 0-7 (the table
    of §11) and on a later holdout none of them was written from."""
    import json

    from nndyn_gui.core.analysis.claims import load_claims

    mod = _script("update_article_sections")
    written = json.loads(mod.WRITTEN.read_text("utf-8"))
    assert set(ARTICLE_PRESETS) <= set(written["uses"]) and len(written["seeds"]) >= 16
    table = mod.merged(list(mod.VERIFIED))
    holdouts = [json.loads(p.read_text("utf-8")) for p in mod.HOLDOUTS]
    for doc in (table, *holdouts):
        assert len(doc["seeds"]) >= 8 and not set(doc["seeds"]) & set(written["seeds"])
    for name in ARTICLE_PRESETS:
        for c in load_claims(name).checks:
            row = next(r for r in table["claims"] if (r["preset"], r["claim"]) == (name, c.claim))
            assert row["all_hold"] and row["rule"] == c.rule(), (name, c.claim)
            later = [
                r
                for doc in holdouts
                for r in doc["claims"]
                if (r["preset"], r["claim"], r["rule"]) == (name, c.claim, c.rule())
            ]
            assert later and all(r["all_hold"] for r in later), (name, c.claim)


def test_section_14_of_science_md_is_what_the_script_makes_of_the_measured_files() -> None:
    mod = _script("update_article_sections")
    text = mod.DOC.read_text(encoding="utf-8")
    section = text.split(mod.START, 1)[1].split(mod.END, 1)[0].strip("\n")
    assert section == mod.current()
    for img in ("mlp-w2-ring-deep-sheet", "resnet-w3-nested-rings-3d"):
        assert (mod.DOC.parent / "img" / f"{img}.png").stat().st_size > 20_000


def test_a_new_depth_is_the_change_not_the_h_or_total_time_that_follows_it() -> None:
    from nndyn_gui.core.fields import changed_fields

    held_h = RunConfig()
    assert changed_fields(held_h, held_h.with_set("model.depth=7")) == ["model.depth"]
    held_t = RunConfig().with_set("model.total_time=2.5")
    assert changed_fields(held_t, held_t.with_set("model.depth=7")) == ["model.depth"]
    assert changed_fields(held_t, held_t.with_set("model.total_time=3")) == ["model.total_time"]
