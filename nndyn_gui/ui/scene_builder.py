"""Snapshot + config -> a FlowScene ready to draw, built off the GUI thread.

Why it exists: a scene (data, grid and loop carried through every layer, its decision
regions, its velocity field) costs tens of milliseconds for deep nets, so it is built on
one background thread, newest request wins, and only the finished scene reaches the
GUI thread. While training appends snapshots many times a second, `request_throttled`
draws one and holds the next back (at least twice the build time), so the window
never stalls behind a queue of stale pictures. The main view and Compare build alike.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from PySide6.QtCore import QObject, QTimer, Signal, Slot

from nndyn_gui.core.config import RunConfig
from nndyn_gui.core.types import Dataset, NetWeights
from nndyn_gui.render import costate_layer, density_layer, field_layer
from nndyn_gui.render.palette import palette_for
from nndyn_gui.render.scene import FlowScene, ViewOptions
from nndyn_gui.ui.background import Job, NewestWins

HOLD_MIN_MS = 100  # while training a view follows at most 10 snapshots a second


def scene_job(
    config: RunConfig,
    weights: NetWeights,
    dataset: Dataset,
    options: ViewOptions,
    max_points: int,
    step: int | None,
    flat: bool,
) -> Callable[[], FlowScene]:
    """Build the scene of these weights, with what its view computes first already cached
    (the 2-D projection when `flat`, the regions, the field): all of it off the GUI."""

    def build() -> FlowScene:
        scene = FlowScene.build(config, weights, dataset, options, max_points, step=step)
        shown = scene.projected_2d() if flat else scene
        shown.region_image(palette_for(options.background))
        if options.show_field:
            field_layer.warm(shown)
        if options.show_density:
            density_layer.warm(shown)
        if options.show_costate:
            costate_layer.warm(shown)
        return scene

    return build


def scene_matches(
    scene: FlowScene | None,
    config: RunConfig,
    weights: NetWeights,
    dataset: Dataset,
    options: ViewOptions,
    step: int | None,
) -> bool:
    """True when `scene` was built from this config, data set and options and these
    weights (the same object, or equal arrays): building it again would draw the same.
    While training the steps differ first, so no arrays are compared per snapshot."""
    if scene is None or scene.source is None:
        return False
    s_config, s_weights, s_dataset, _ = scene.source
    if scene.step is not None and step is not None and scene.step != step:
        return False
    return (
        s_config is config
        and s_dataset is dataset
        and scene.options == options
        and (
            s_weights is weights
            or (
                np.array_equal(s_weights.A, weights.A)
                and np.array_equal(s_weights.b, weights.b)
                and np.array_equal(s_weights.w, weights.w)
                and np.array_equal(s_weights.c, weights.c)  # K classes: an array
            )
        )
    )


class SceneBuilder(QObject):
    """Builds on one thread, newest wins; `built(result, error)` arrives on the GUI thread."""

    built = Signal(object, str)  # a job's result | None, error text ("" when fine)
    throttledStarted = Signal()  # a throttled build was asked for (now or as a hold ended)

    def __init__(
        self, parent: QObject, name: str, epoch: Callable[[], object] | None = None
    ) -> None:
        super().__init__(parent)
        self._jobs = NewestWins(self, name=name, what="draw this snapshot", epoch=epoch)
        self._jobs.done.connect(self.built)
        self._hold = QTimer(self)
        self._hold.setSingleShot(True)
        self._hold.timeout.connect(self._on_hold_end)
        self._next: Callable[[], Job] | None = None  # asked for during the hold
        self._closed = False

    def request(self, job: Job) -> None:
        """Build `job()` in the background; replaces any request still waiting."""
        if not self._closed:
            self._jobs.request(job)

    def request_throttled(self, make_job: Callable[[], Job]) -> bool:
        """Build now unless holding; during a hold the newest `make_job` is built when it
        ends. True when a build was asked for now."""
        if self._closed:
            return False
        if self._hold.isActive():
            self._next = make_job
            return False
        self._next = None
        self._jobs.request(make_job())
        self.throttledStarted.emit()
        self._hold.start(max(HOLD_MIN_MS, round(2000 * self._jobs.last_seconds)))
        return True

    def holding(self) -> bool:
        return self._hold.isActive()

    def release(self) -> bool:
        """Training ended: a request waiting for the hold is dropped and the hold ended
        (True), so the caller asks again at once; no request waiting: nothing changes."""
        if self._next is None:
            return False
        self._next = None
        self._hold.stop()
        return True

    def run_now(self, job: Job) -> tuple[Any, str]:
        """Build on this thread (tests, export); older background results are dropped."""
        return self._jobs.run_now(job)

    def busy(self) -> bool:
        return self._jobs.busy()

    def wait(self, timeout_s: float = 30.0) -> None:
        self._jobs.wait(timeout_s)

    def shutdown(self) -> None:
        """No more builds (window close)."""
        self._closed = True
        self._hold.stop()
        self._next = None
        self._jobs.shutdown()

    @Slot()
    def _on_hold_end(self) -> None:
        make_job, self._next = self._next, None
        if make_job is not None and not self._closed:
            self.request_throttled(make_job)
