"""FlowScene: the numbers every view draws must be the engine's flow, frame by frame."""

from __future__ import annotations

import numpy as np

from nndyn_gui.core.net import flow
from nndyn_gui.core.net.initial_weights import initial_weights
from nndyn_gui.render.scene import FlowScene, ViewOptions, _clip_plane

from . import config, moving_weights, ring_dataset


def test_points_are_the_flow_of_every_layer():
    cfg = config(width=2, depth=5)
    w, ds = moving_weights(cfg), ring_dataset()
    sc = FlowScene.build(cfg, w, ds)
    traj = flow.propagate(cfg.model, w, ds.x_all)
    assert sc.dims == 2 and sc.n_frames == 6
    np.testing.assert_array_equal(sc.points, traj)
    np.testing.assert_array_equal(sc.labels, ds.y_all)
    assert sc.frame_labels[0] == "input" and sc.frame_labels[-1] == "output"
    assert sc.frame_labels[2] == "layer 2"


def test_at_interpolates_and_flags_ends():
    cfg = config(width=2, depth=4)
    sc = FlowScene.build(cfg, moving_weights(cfg), ring_dataset())
    mid = sc.at(2.5)
    np.testing.assert_allclose(mid.points, 0.5 * (sc.points[2] + sc.points[3]))
    np.testing.assert_allclose(mid.grid, 0.5 * (sc.grid[2] + sc.grid[3]))
    first, last = sc.at(0), sc.at(4)
    assert first.is_first and not first.is_last and last.is_last
    assert first.plane_opacity == 0.0 and last.plane_opacity == 1.0
    assert first.regions_opacity == 1.0 and last.regions_opacity == 0.0
    assert sc.at(99).t == 4 and sc.at(-3).t == 0  # clamped, never an IndexError


def test_grid_mesh_and_sizes_follow_options():
    cfg = config(width=2, depth=3)
    sc = FlowScene.build(cfg, moving_weights(cfg), ring_dataset(), ViewOptions(grid_n=7))
    assert sc.grid.shape == (4, 49, 2)
    assert sc.segments.shape == (2 * 7 * 6, 2)
    np.testing.assert_array_equal(sc.grid[0], flow.make_grid(7).points)


def test_bounds_contain_the_data_at_every_frame():
    cfg = config(width=2, depth=6, h=1.0)
    sc = FlowScene.build(cfg, moving_weights(cfg), ring_dataset())
    for f in range(sc.n_frames):
        lo, hi = sc.bounds[f]
        assert (sc.points[f] >= lo).all() and (sc.points[f] <= hi).all()


def test_plane_splits_the_last_layer_like_the_net():
    cfg = config(width=2, depth=3)
    w, ds = moving_weights(cfg), ring_dataset()
    sc = FlowScene.build(cfg, w, ds)
    pw, pc = sc.plane
    side = (sc.points[-1] @ pw + pc >= 0).astype(int)
    np.testing.assert_array_equal(side, flow.predict(cfg.model, w, ds.x_all))


def test_regions_are_the_net_decision_over_the_input_square():
    cfg = config(width=2, depth=3)
    w = moving_weights(cfg)
    sc = FlowScene.build(cfg, w, ring_dataset())
    h, wd = sc.regions.shape
    assert h == wd and sc.regions.min() >= 0.0 and sc.regions.max() <= 1.0
    # pixel (row i, col j) is centred at (x_j, y_i)
    x = -1 + (np.array([3, 100]) + 0.5) * 2 / wd
    y = -1 + (np.array([10, 60]) + 0.5) * 2 / h
    pred = flow.predict(cfg.model, w, np.column_stack([x, y]))
    np.testing.assert_array_equal((sc.regions[[10, 60], [3, 100]] >= 0.5).astype(int), pred)


def test_width_three_is_shown_in_3d_and_projected_for_2d():
    cfg = config(width=3, depth=4)
    w, ds = moving_weights(cfg), ring_dataset()
    sc = FlowScene.build(cfg, w, ds)
    assert sc.dims == 3 and sc.projection.note == ""
    np.testing.assert_array_equal(sc.points, flow.propagate(cfg.model, w, ds.x_all))
    flat = sc.projected_2d()
    assert flat.dims == 2 and flat.points.shape[-1] == 2
    assert "projection of R^3" in flat.projection.note


def test_wide_nets_are_drawn_on_the_head_axes_with_a_note():
    """Width 5 in 3-D: axis 1 is w/|w| (so the plane is exactly y_1 = -c/|w|), the input
    frame is the data itself in (x1, x2, 0)."""
    cfg = config(width=5, depth=3)
    w, ds = moving_weights(cfg, seed=5), ring_dataset()
    sc = FlowScene.build(cfg, w, ds)
    assert sc.dims == 3 and "projection of R^5" in sc.projection.note
    assert sc.projection.labels == ("w-axis (head normal)", "⊥1", "⊥2")
    traj = flow.propagate(cfg.model, w, ds.x_all)
    expect = flow.head_projection(w.w, traj[-1], 3).apply(traj)
    np.testing.assert_allclose(sc.points[1:], expect[1:], atol=1e-12)
    np.testing.assert_array_equal(sc.points[0, :, :2], ds.x_all)
    assert not sc.points[0, :, 2].any()
    pw, pc = sc.plane
    side = (sc.points[-1] @ pw + pc >= 0).astype(int)
    np.testing.assert_array_equal(side, flow.predict(cfg.model, w, ds.x_all))
    poly = sc.plane_polygon(sc.bounds[-1])
    assert poly is not None and np.allclose(poly[:, 0], -w.c / np.linalg.norm(w.w))
    assert sc.axis_labels(0) == ("x1", "x2", "") and sc.axis_labels(sc.t_max)[0].startswith("w-")


def test_mlp_substeps_give_three_frames_per_layer():
    cfg = config(width=2, depth=3, kind="mlp")
    w, ds = moving_weights(cfg), ring_dataset()
    sc = FlowScene.build(cfg, w, ds, ViewOptions(substeps=True))
    assert sc.n_frames == 10 and sc.frames_per_layer == 3
    assert sc.frame_labels[1].startswith("layer 1:") and "A x" in sc.frame_labels[1]
    traj = flow.propagate(cfg.model, w, ds.x_all)
    for k in range(4):
        np.testing.assert_allclose(sc.points[sc.frame_of_layer(k)], traj[k], atol=1e-12)


def test_ring_loop_is_carried_and_wrong_side_marked():
    cfg = config(width=2, depth=3)
    w = initial_weights(cfg.model, 0)
    sc = FlowScene.build(cfg, w, ring_dataset())
    assert sc.loop is not None and sc.loop.shape[0] == sc.n_frames
    assert sc.loop_wrong.shape == (sc.loop.shape[1],) and sc.loop_wrong.dtype == bool
    cfg.data.name = "spiral"
    assert FlowScene.build(cfg, w, ring_dataset()).loop is None


def test_max_points_subsamples_consistently():
    cfg = config(width=2, depth=2)
    ds = ring_dataset(n=1000)
    a = FlowScene.build(cfg, moving_weights(cfg), ds, max_points=300)
    b = FlowScene.build(cfg, moving_weights(cfg), ds, max_points=300)
    assert a.points.shape[1] == 300
    np.testing.assert_array_equal(a.indices, b.indices)
    np.testing.assert_array_equal(a.labels, ds.y_all[a.indices])


def test_diverged_weights_do_not_break_the_scene():
    cfg = config(width=2, depth=3)
    w = moving_weights(cfg)
    w.A *= 1e200
    sc = FlowScene.build(cfg, w, ring_dataset())
    assert np.isfinite(sc.bounds).all()
    sc.at(1.5)


def test_plane_polygon_clips_to_the_box():
    poly = _clip_plane(np.array([0.0, 0.0, 1.0]), 0.0, np.array([[-1.0] * 3, [1.0] * 3]))
    assert poly is not None and len(poly) == 4
    np.testing.assert_allclose(np.abs(poly[:, :2]), 1.0)
    assert _clip_plane(np.array([0.0, 0.0, 1.0]), -5.0, np.array([[-1.0] * 3, [1.0] * 3])) is None


def test_points_at_matches_at_for_some_rows():
    cfg = config(width=2, depth=4)
    sc = FlowScene.build(cfg, moving_weights(cfg), ring_dataset())
    rows = np.array([0, 5, 9])
    for t in (0.0, 1.25, 3.0, 4.0):
        np.testing.assert_allclose(sc.points_at(t, rows), sc.at(t).points[rows])


def test_resnet_substeps_end_every_layer_on_the_true_output():
    cfg = config(width=2, depth=3, kind="resnet")
    w, ds = moving_weights(cfg), ring_dataset()
    sc = FlowScene.build(cfg, w, ds, ViewOptions(substeps=True))
    traj = flow.propagate(cfg.model, w, ds.x_all)
    assert sc.frames_per_layer >= 2 and sc.n_frames == 1 + 3 * sc.frames_per_layer
    for k in range(4):
        np.testing.assert_allclose(sc.points[sc.frame_of_layer(k)], traj[k], atol=1e-12)


def test_head_plane_is_exact_for_any_offset():
    """The boundary carried into view coordinates: w.x + c and w'.y + c' agree everywhere."""
    from nndyn_gui.render.view_projection import ViewProjection

    rng = np.random.default_rng(0)
    w, c = rng.normal(size=4), 0.3
    u = w / np.linalg.norm(w)
    rest = np.linalg.qr(np.column_stack([u, rng.normal(size=(4, 2))]))[0][:, 1:].T
    proj = ViewProjection(
        np.vstack([u, rest]), np.array([0.7, -0.2, 1.1]), ("", "", ""), kind="head"
    )
    x = rng.normal(size=(50, 4))
    pw, pc = proj.plane(w, c)
    np.testing.assert_allclose(proj.apply(x) @ pw + pc, x @ w + c, atol=1e-12)
