"""Nothing stale beside something fresh (issue 19, items 3 and 4).

Every panel names the training step its numbers belong to: the status bar, the curves'
readout, the snapshot label, the Diagnostics line, the Topology box's title and the
All-layers line. Read as a user reads them, they must name the same step, the one the
main view shows, or say "computing step N…" for exactly that step; and once training
ends, or another run is opened, every one of them reaches its final step promptly.
"""

from __future__ import annotations

import random
import re
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from nndyn_gui.core.types import Snapshot

STEP = re.compile(r"untrained(?: \(step 0\))?|step ([\d,]+)")
PENDING = re.compile(r"computing step ([\d,]+)…")


def _plain(html: str) -> str:
    return re.sub(r"<[^>]+>", "", html).replace("&nbsp;", " ")


def _read(text: str) -> tuple[int | None, int | None]:
    """(step named as shown, step named as being computed) in a label's visible text."""
    text = _plain(text)
    m = PENDING.search(text)
    todo = int(m.group(1).replace(",", "")) if m else None
    m = STEP.search(PENDING.sub("", text))
    if m is None:
        return None, todo
    return (int(m.group(1).replace(",", "")) if m.group(1) else 0), todo


def visible_steps(win: Any) -> dict[str, tuple[int | None, int | None]]:
    """Every step the window names, panel by panel: (shown, being computed)."""
    diag = win.diagnostics
    out = {
        "status bar": _read(win.acc_label.text()),
        "curves": _read(win.curves.readout_text().replace("no training yet", "untrained")),
        "snapshot label": _read(win.layer_panel.snapshot_label.text()),
        "Diagnostics": _read(diag.metrics_label.text()),
        "All layers": _read(win.multiples.step_label.text()),
    }
    if diag.topology_box.isVisible():
        title = diag.topology_title.text()
        out["Topology"] = _read(title.split("—", 1)[1] if "—" in title else "")
    return out


def assert_agree(win: Any, when: str) -> dict[str, tuple[int | None, int | None]]:
    """Each panel names the step on screen, or says it is computing exactly that step."""
    seen = visible_steps(win)
    shown = win.state.shown
    assert shown is not None
    want = shown.step
    for panel, (step, todo) in seen.items():
        assert step == want or todo == want, f"{when}: {panel} {seen[panel]}, shown {want}: {seen}"
        if todo is not None:  # pending: only ever for the step on screen
            assert todo == want, f"{when}: {panel} computes {todo}, shown {want}: {seen}"
    return seen


def settled(win: Any, step: int) -> bool:
    """Every panel names `step` and none is still computing."""
    return all(v == (step, None) for v in visible_steps(win).values())


def _train(window: Any, qtbot: Any, cfg: Any, seed: int, restart: Any = None) -> tuple[int, int]:
    """Train `cfg`, checking at random moments (and right after the end) that every
    visible step agrees or is marked pending; after the first check the config becomes
    `restart` (a change that restarts the run from step 0) if given. Returns how many
    checks were made while training, and how many of them saw a panel computing."""
    state = window.state
    assert window.load_config(cfg)
    window.layer_panel.wait_idle()
    rng = random.Random(seed)
    checks = pendings = 0
    finished: list[Any] = []
    window.controller.finished.connect(finished.append)
    assert window.train()
    qtbot.waitUntil(lambda: state.training_state == "training" or bool(finished), timeout=60_000)
    total = cfg.train.steps
    for frac in sorted(rng.uniform(0.1, 0.9) for _ in range(5)):
        qtbot.waitUntil(
            lambda f=frac: state.progress[0] >= f * total or bool(finished), timeout=30_000
        )
        if finished:
            break
        seen = assert_agree(window, f"at training step {state.progress[0]}")
        checks += 1
        pendings += any(todo is not None for _, todo in seen.values())
        if restart is not None and checks == 1:
            state.set_config(restart)  # live: the run restarts at step 0 with it
            assert_agree(window, "right after the restart")
    qtbot.waitUntil(lambda: bool(finished), timeout=60_000)
    assert finished[0].status == "finished"
    assert_agree(window, "right after the end")
    last = state.snapshots[-1]
    t0 = time.perf_counter()
    # the end: every panel reaches the final snapshot promptly, no old step left over
    qtbot.waitUntil(lambda: state.shown is last and settled(window, last.step), timeout=8_000)
    assert time.perf_counter() - t0 < 8.0
    assert window.curves.sample_values()["step"][-1] == last.step  # the curves' latest
    return checks, pendings


@pytest.mark.timing
@pytest.mark.parametrize("classes", [2, 3])
def test_every_visible_step_agrees_while_training_and_after(
    qtbot: Any, window: Any, changed: Any, classes: int
) -> None:
    """resnet-w2-ring trained by the real engine (3 classes: on three rings); with 3
    classes the Topology box says "not applicable" and its title, which stayed
    "untrained (step 0)", names the step. With 2, the depth changes mid-run (Diagnostics
    said "step 0 · 64.7 %" when the restarted run had finished)."""
    from nndyn_gui.core.io.presets import load_preset

    cfg = changed(
        load_preset("resnet-w2-ring"),
        data__n=400,
        data__name="ring" if classes == 2 else "rings",
        data__classes=classes,
        model__depth=10,
        model__h=0.2,
        train__steps=20_000,  # about a second of training: the checks spread over it
        train__snapshot_every=200,
        train__steps_per_call=200,
    )
    restart = changed(cfg, model__depth=6) if classes == 2 else None
    checks, _ = _train(window, qtbot, cfg, seed=classes, restart=restart)
    assert checks >= 3  # most random moments fell within the run
    topology = window.diagnostics.topology_title.text()
    final = window.state.snapshots[-1].step
    assert topology == f"Topology of the outer loop — step {final:,}"
    if classes == 3:
        assert window.diagnostics.topology_label.text().startswith("Not applicable")


def _fake_run(window: Any, classes: int, steps: list[int], seed: int) -> Any:
    """A run as if trained (weights moved away from the initial ones), for the file."""
    from nndyn_gui.core.io.presets import load_preset
    from nndyn_gui.ui.state import AppState

    cfg = load_preset("resnet-w2-ring")
    cfg.data.n, cfg.data.classes, cfg.model.depth = 300, classes, 6
    cfg.data.name = "ring" if classes == 2 else "rings"
    state = AppState(cfg.validate())
    w0 = state.snapshots[0].weights
    rng = np.random.default_rng(seed)
    snaps = [state.snapshots[0]]
    for i, step in enumerate(steps):
        w = w0.copy()
        w.A = w0.A + 0.2 * (i + 1) * rng.normal(size=w0.A.shape)
        snaps.append(Snapshot(step, 0.3 / (i + 1), 0.8 + 0.01 * i, 0.79, w))
    state.replace_snapshots(snaps)
    return state.run()


def test_opening_another_run_moves_every_step_to_it(qtbot: Any, window: Any, tmp_path: Path):
    """K = 3: the Topology title said "step 20,000" after switching to a 4,000-step run."""
    from nndyn_gui.core.io.runfile import save_run

    a, b = tmp_path / "a.nndyn", tmp_path / "b.nndyn"
    save_run(_fake_run(window, 3, [10_000, 20_000], 1), a)
    save_run(_fake_run(window, 3, [2_000, 4_000], 2), b)
    problems: list[str] = []

    def caught_up(final: int) -> bool:
        try:  # at every look while the panels catch up: agree, or say they compute
            assert_agree(window, "while the panels catch up")
        except AssertionError as e:
            problems.append(str(e))
        return settled(window, final)

    for path, final in ((a, 20_000), (b, 4_000)):
        assert window.open_run(str(path))
        assert_agree(window, f"just after opening {path.name}")
        qtbot.waitUntil(lambda f=final: caught_up(f), timeout=8_000)
        assert not problems, problems[0]
        title = window.diagnostics.topology_title.text()
        assert title == f"Topology of the outer loop — step {final:,}"


def test_open_run_screenshot_waits_for_every_panel(
    qtbot: Any, window: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`nndyn-gui --open RUN --screenshot F`: the picture showed "untrained (step 0) …
    computing…" in the Topology box beside "step 20,000" in the status bar."""
    from nndyn_gui.core.io.runfile import save_run
    from nndyn_gui.ui import app, diagnostics_panel
    from nndyn_gui.ui.main_window import MainWindow
    from nndyn_gui.ui.training.controller import TrainController

    run = tmp_path / "ring.nndyn"
    save_run(_fake_run(window, 2, [10_000, 20_000], 3), run)
    seen: list[dict[str, tuple[int | None, int | None]]] = []
    real = MainWindow.screenshot

    def screenshot(self: Any, path: str) -> bool:
        seen.append(visible_steps(self))  # what the picture shows
        return bool(real(self, path))

    monkeypatch.setattr(MainWindow, "screenshot", screenshot)
    compute = diagnostics_panel.compute_topology

    def slow_topology(*args: Any) -> Any:  # as for the preset's 51 blocks on a busy machine
        time.sleep(1.0)
        return compute(*args)

    monkeypatch.setattr(diagnostics_panel, "compute_topology", slow_topology)
    monkeypatch.setattr(TrainController, "warm_up", lambda self: None)  # no trainer needed
    monkeypatch.setattr(app, "_close_on_signals", lambda win, qapp: None)  # pytest's own
    png = tmp_path / "shot.png"
    assert app.main(["--open", str(run), "--screenshot", str(png), "--quit"]) == 0
    assert png.is_file() and len(seen) == 1
    assert set(seen[0]) >= {"status bar", "Diagnostics", "Topology", "All layers"}
    assert all(v == (20_000, None) for v in seen[0].values()), str(seen[0])


def test_a_panel_computing_a_newer_step_says_so_and_dims_its_old_values(
    qtbot: Any, window: Any
) -> None:
    """The moment the picture moves on, Diagnostics and All layers keep their old values
    washed out under "step 100 · computing step 200…"; then both show step 200 plainly."""
    from nndyn_gui.ui.steps import PENDING_COLOR

    from .test_readouts import _settle, _snapshot

    state, diag, tiles = window.state, window.diagnostics, window.multiples
    a, b = _snapshot(state, 100, 1), _snapshot(state, 200, 2)
    state.extend_snapshots([a])
    _settle(qtbot, window)
    qtbot.waitUntil(lambda: settled(window, 100), timeout=8_000)
    assert not tiles.dimmed() and PENDING_COLOR not in diag.summary_label.styleSheet()
    diag._debounce.stop()  # hold both computations back: the moment before they start
    tiles._timer.stop()
    diag._jobs.request = tiles._builder.request = lambda job: None  # type: ignore[method-assign]
    state.extend_snapshots([b])
    _settle(qtbot, window)
    assert state.shown is b
    assert_agree(window, "while Diagnostics and All layers compute step 200")
    assert _plain(diag.metrics_label.text()).startswith("step 100 · computing step 200… · ")
    assert f"color:{PENDING_COLOR}" in diag.metrics_label.text()  # old numbers, greyed
    assert PENDING_COLOR in diag.summary_label.styleSheet()
    assert tiles.step_label.text() == "step 100 · computing step 200…" and tiles.dimmed()
    del diag._jobs.request, tiles._builder.request  # the computations go ahead
    diag.wait_idle()
    tiles.wait_idle()
    assert settled(window, 200), visible_steps(window)
    assert not tiles.dimmed() and PENDING_COLOR not in diag.summary_label.styleSheet()
