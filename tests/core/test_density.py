"""The distribution carried by the flow: histograms of fresh points, and sample vs population."""

from __future__ import annotations

import numpy as np
import pytest

from nndyn_gui.core.analysis import density, topology
from nndyn_gui.core.config import RunConfig
from nndyn_gui.core.datasets import make_dataset
from nndyn_gui.core.net import flow
from nndyn_gui.core.types import NetWeights


def _cfg(name: str = "ring", noise: float = 0.0) -> RunConfig:
    cfg = RunConfig()
    cfg.data.name, cfg.data.noise = name, noise
    cfg.model.width, cfg.model.depth, cfg.model.kind, cfg.model.h = 2, 4, "resnet", 0.5
    return cfg.validate()


def _weights(seed: int = 1, t: int = 4, d: int = 2) -> NetWeights:
    rng = np.random.default_rng(seed)
    return NetWeights(
        rng.normal(size=(t, d, d)), 0.2 * rng.normal(size=(t, d)), rng.normal(size=d), 0.1
    )


def test_fresh_points_are_the_distribution_not_the_training_sample() -> None:
    cfg = _cfg()
    pop = density.fresh_points(cfg, 2000, 2)
    train = make_dataset(cfg.data).x_all
    assert len(pop.y) == 4000 and set(np.unique(pop.y)) == {0, 1}
    assert pop.per_class().min() > 1500
    # another seed: not one training point among them
    assert not (np.abs(pop.x[:, None, :] - train[None, :100, :]).sum(-1) < 1e-12).any()
    # the same distribution: the ring's classes at the same radii as the training sample
    r_pop, r_train = np.hypot(*pop.x.T), np.hypot(*train.T)
    y_train = make_dataset(cfg.data).y_all
    for k in (0, 1):
        assert np.median(r_pop[pop.y == k]) == pytest.approx(
            np.median(r_train[y_train == k]), abs=0.05
        )


def test_each_frames_histogram_is_the_histogram_of_the_pushed_points() -> None:
    cfg, w = _cfg(), _weights()
    pop = density.fresh_points(cfg, 3000, 2)
    box = np.array([[-2.0, -1.5], [2.5, 1.8]])
    stack = density.push_histograms(cfg.model, w, pop, lambda f, x: x[:, :2], box, bins=40)
    traj = flow.propagate(cfg.model, w, pop.x)
    h, wd = density.grid_shape(box, 40)
    assert stack.counts.shape == (cfg.model.depth + 1, 2, h, wd)
    xe, ye = np.linspace(box[0, 0], box[1, 0], wd + 1), np.linspace(box[0, 1], box[1, 1], h + 1)
    for f in range(cfg.model.depth + 1):
        for k in (0, 1):
            p = traj[f][pop.y == k]
            inside = (p[:, 0] < box[1, 0]) & (p[:, 1] < box[1, 1])  # the last edge is open
            ref, _, _ = np.histogram2d(p[inside, 1], p[inside, 0], bins=[ye, xe])
            np.testing.assert_array_equal(stack.counts[f, k], ref)
        assert stack.inside[f] == pytest.approx(float(stack.counts[f].sum()) / len(pop.y))
    # between frames: the linear blend of the two
    np.testing.assert_allclose(stack.at(1.25), 0.75 * stack.counts[1] + 0.25 * stack.counts[2])


def test_sub_steps_give_the_scene_frames() -> None:
    cfg, w = _cfg(), _weights()
    xs = list(density.frames(cfg.model, w, np.zeros((5, 2)), substeps=True))
    assert len(xs) == 2 * cfg.model.depth + 1  # a ResNet block: the affine step, then the true one


def test_drawn_points_have_no_distribution_to_sample() -> None:
    cfg = _cfg()
    cfg.data.name = "drawn"
    with pytest.raises(density.DensityUnavailable):
        density.fresh_points(cfg, 10, 2)


def test_population_numbers_match_the_topology_reports_dense_accuracy() -> None:
    cfg, w = _cfg(), _weights()
    ds = make_dataset(cfg.data)
    pop = density.fresh_points(cfg, density.POPULATION_N // 2, 2)
    row = density.sample_vs_population(cfg, w, ds, 7, pop)
    rep = topology.topology_report(cfg, w)
    assert rep is not None and row.dense_accuracy == pytest.approx(rep.dense_accuracy, abs=1e-12)
    pred = flow.predict(cfg.model, w, ds.x_train)
    assert row.sample_accuracy == pytest.approx(float((pred == ds.y_train).mean()))
    traj = flow.propagate(cfg.model, w, ds.x_train)
    expect = float((np.diff(traj, axis=0) ** 2).sum(axis=(0, 2)).mean())
    assert row.sample_transport == pytest.approx(expect)
    assert row.step == 7 and row.accuracy_gap == row.sample_accuracy - row.dense_accuracy


@pytest.mark.slow
def test_a_trained_net_is_about_as_accurate_on_the_distribution_as_on_its_sample() -> None:
    """An easy set (two blobs, a wide margin): what the net learned from 300 points holds
    on 50,000 fresh ones, within a few percent."""
    from nndyn_gui.core.train.trainer import Trainer

    cfg = RunConfig()
    cfg.data.name, cfg.data.n, cfg.data.noise = "gaussians", 300, 0.2
    cfg.model.width, cfg.model.depth, cfg.model.h = 2, 4, 0.5
    cfg.train.steps, cfg.train.snapshot_every, cfg.train.learning_rate = 600, 200, 0.05
    cfg = cfg.validate()
    ds = make_dataset(cfg.data)
    result = Trainer(cfg, ds).run()
    snap = result.snapshots[-1]
    pop = density.fresh_points(cfg, density.POPULATION_N // 2, 2)
    row = density.sample_vs_population(cfg, snap.weights, ds, snap.step, pop)
    assert row.sample_accuracy == pytest.approx(snap.train_acc, abs=0.01)  # the trainer's count
    assert row.sample_accuracy > 0.9
    assert abs(row.accuracy_gap) < 0.04
    assert row.population_transport == pytest.approx(row.sample_transport, rel=0.25)
