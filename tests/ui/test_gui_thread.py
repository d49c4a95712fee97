"""Nothing that propagates through the net (or makes a data set) runs on the GUI thread.

A scene, the diagnostics, a topology report or a 100,000-point data set costs from tens
of milliseconds to seconds for big nets; on the GUI thread that is a frozen window. So
every such computation is spied on here while a user does the expensive things: toggle
Sub-steps (the main view and the small multiples rebuild), train with Compare open
(both of Compare's columns follow live), and drag Points to 100,000.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest

from nndyn_gui.core import datasets
from nndyn_gui.render.scene import FlowScene
from nndyn_gui.ui import compare_half, diagnostics_panel, state


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, bool]]:
    """(what, ran on the GUI thread) for every expensive computation from now on."""
    seen: list[tuple[str, bool]] = []

    def spy(name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            seen.append((name, threading.current_thread() is threading.main_thread()))
            return fn(*args, **kwargs)

        return wrapper

    build = FlowScene.build.__func__  # type: ignore[attr-defined]
    monkeypatch.setattr(FlowScene, "build", classmethod(spy("scene", build)))
    for module, name in (
        (diagnostics_panel, "compute_diagnostics"),
        (diagnostics_panel, "compute_topology"),
        (compare_half, "compute_topology"),
        (datasets, "make_dataset"),
        (state, "make_dataset"),
    ):
        monkeypatch.setattr(module, name, spy(name, getattr(module, name)))
    return seen


def test_expensive_work_never_runs_on_the_gui_thread(
    qtbot: Any, window: Any, changed: Any, calls: list[tuple[str, bool]]
) -> None:
    layer, params = window.layer_panel, window.param_panel
    window.state.set_config(changed(window.state.config, model__kind="mlp"))
    layer.wait_idle()
    calls.clear()  # from here on, only what the user's actions cause

    layer.checks["substeps"].click()  # main view and small multiples: 3x the frames
    depth = window.state.config.model.depth
    qtbot.waitUntil(lambda: layer.scene.n_frames == 3 * depth + 1, timeout=20_000)
    multiples = window.multiples.multiples
    qtbot.waitUntil(lambda: multiples.flow_scene().n_frames == 3 * depth + 1, timeout=20_000)

    window.open_compare()
    cmp = window._windows[-1]
    with (
        qtbot.waitSignal(window.controller.finished, timeout=120_000),
        qtbot.waitSignal(cmp.trainingFinished, timeout=120_000),
    ):
        cmp.train_both()
        window.train()
    qtbot.waitUntil(lambda: not cmp.busy(), timeout=20_000)
    assert [r.status for r in cmp.results()] == ["finished", "finished"]

    params.apply("data.n", 100_000)  # what dragging the Points slider to the end does
    qtbot.waitUntil(lambda: len(window.state.dataset.x_all) == 100_000, timeout=20_000)
    qtbot.waitUntil(lambda: not window.diagnostics.diagnostics_busy(), timeout=20_000)
    cmp.close()

    kinds = {name for name, _ in calls}
    assert {"scene", "compute_diagnostics", "make_dataset"} <= kinds  # the spies saw work
    on_gui = [name for name, gui in calls if gui]
    assert on_gui == [], on_gui
