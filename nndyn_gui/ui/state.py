"""The app's single source of truth: config, data, snapshots and what the views show.

Panels never talk to each other; they read and change this object and react to its
signals. It lives in the GUI thread; the training worker feeds it through queued
signals received by the main window.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Signal

from nndyn_gui import __version__
from nndyn_gui.core.config import FIELDS, DataConfig, RunConfig, changed_fields
from nndyn_gui.core.datasets import make_dataset
from nndyn_gui.core.io import limits
from nndyn_gui.core.net.initial_weights import initial_weights
from nndyn_gui.core.train import live
from nndyn_gui.core.types import Dataset, NetWeights, Run, Snapshot
from nndyn_gui.ui import discard_rules

TRAINING_STATES = ("idle", "loading", "training", "paused", "stopping")
Tuning = tuple[int, dict[str, tuple[Any, Any]]]  # (step, {train field: (old, new)})


class ChangeDeclined(Exception):
    """The user chose to keep the trained run a change would discard (nothing changed)."""


class AppState(QObject):
    """Holds the current experiment; emits a signal whenever a part of it changes."""

    configChanged = Signal(object)  # RunConfig
    #: after every change of config or data: what it means for a run in progress,
    #: "same" | "live" | "restart" (core/train/live.classify, decided once, here)
    runChange = Signal(str)
    datasetChanged = Signal(object)  # Dataset
    snapshotsChanged = Signal()  # the list was replaced or grew
    currentChanged = Signal(object)  # Snapshot the views should show (newest while training)
    shownChanged = Signal(object)  # Snapshot the main view has drawn: every number follows it
    trainingStateChanged = Signal(str)  # one of TRAINING_STATES
    dirtyChanged = Signal(bool)  # unsaved work exists
    progressChanged = Signal(int, float, float)  # step, loss, steps/s (coalesced, <= ~30/s)
    statusChanged = Signal(str, str)  # run status (new|finished|cancelled|diverged), message
    #: trained snapshots were just dropped (discard_rules.DiscardedRun): undo can bring them back
    runDiscarded = Signal(object)
    tuningChanged = Signal()  # the live changes made while the shown run trained

    def __init__(self, config: RunConfig | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.config: RunConfig = (config or RunConfig()).validate()
        if self.config.data.name == "drawn":  # drawn points live in a run file, not a config
            self.config.data = DataConfig()
        #: the config the held snapshots were trained with: views draw them with it and
        #: a saved run records it. It changes together with the snapshots (a new run,
        #: a live change taking effect: `add_tuning`); `config`, the panel's settings,
        #: may be ahead of it. Configs here are replaced, never changed in place.
        self.run_config: RunConfig = self.config
        self.dataset: Dataset = make_dataset(self.config.data)
        #: live changes of the shown run, in order (saved in its run file)
        self.tuning: list[Tuning] = []
        #: asked before a change discards a trained, unsaved run; False keeps the run.
        #: None (the window): always go ahead, the run is put aside (runDiscarded)
        self.discard_guard: Callable[[], bool] | None = None
        self.snapshots: list[Snapshot] = []
        self._keeper: limits.SnapshotKeeper | None = None  # thins a growing run
        self.current: Snapshot | None = None
        #: the snapshot whose picture is on screen. The main view draws in the background
        #: and lags `current` while training; the readouts (status bar, curves,
        #: diagnostics) follow `shown`, so every number on screen is the picture's.
        self.shown: Snapshot | None = None
        self._view_sets_shown = False
        self.training_state = "idle"
        self.status = "new"
        self.message = ""
        self.dirty = False
        self.progress: tuple[int, float, float] = (0, float("nan"), 0.0)
        self._reset_to_initial()

    # ------------------------------------------------------------------ config/data
    def set_config(self, config: RunConfig, dataset: Dataset | None = None) -> None:
        """Replace the config; regenerate data if data settings changed; drop old weights.

        `dataset`: the data set of `config.data`, already made (the parameter panel makes
        big ones in the background); otherwise it is made here when the data changed.

        The trained snapshots survive changes that do not alter what they show (learning
        rate, steps, title, ...): only data, model or the weight seed make them stale, so
        tuning the next run does not wipe the picture of the last one. Such a change is
        the next run's, not theirs: `run_config` keeps what they were trained with (a
        live change reaches it when the trainer takes it, `add_tuning`); only the title
        and fields with no say follow at once. Invalid configs and unreadable data raise
        before anything changes.
        """
        config = config.validate()
        # new points only when a field of the data with a say in them changed (not the
        # class names: those name the same points)
        data_changed = dataclasses.replace(config.data, class_names="") != dataclasses.replace(
            self.config.data, class_names=""
        )
        stale = discard_rules.makes_stale(self.config, config)
        change = "restart" if data_changed else live.classify(self.config, config)
        self._check_discard(stale or change == "restart")
        lost = self.discardable(discard_rules.change_reason(self.config, config)) if stale else None
        if not data_changed:
            dataset = self.dataset
        elif dataset is None:
            dataset = make_dataset(config.data)
        self.config = config
        if data_changed:
            self.dataset = dataset
            self.datasetChanged.emit(self.dataset)
        if not stale:
            if not discard_rules.has_trained(self.snapshots):
                self.run_config = config  # the untrained net is this config's too
            else:
                self.run_config = self._run_config_with(config)
        self.configChanged.emit(config)
        if stale:
            self._reset_to_initial()
        if lost is not None:
            self.runDiscarded.emit(lost)
        self.runChange.emit(change)

    def _run_config_with(self, config: RunConfig) -> RunConfig:
        """`run_config` taking what `config` changes that its trained snapshots do not
        depend on (the title, fields with no say such as h of an MLP); every field
        a trainer uses keeps the value they were trained with."""
        trained = [p for p in changed_fields(self.run_config, config) if FIELDS[p].change != "none"]
        if not trained:
            return config
        out = config.copy()
        for path in trained:
            section, name = path.split(".")
            setattr(getattr(out, section), name, getattr(getattr(self.run_config, section), name))
        return self.run_config if out == self.run_config else out

    def replace_data(self, dataset: Dataset, data: DataConfig) -> None:
        """Use these points (a drawn data set: every edit is a new one) with `data` as
        their config; the trained snapshots no longer apply: a trained run is put aside
        (runDiscarded), as by any other change of the data."""
        config = self.config.copy()
        config.data = data
        config.validate()
        self._check_discard(True)
        lost = self.discardable("New points drawn")
        self.config = config
        self.dataset = dataset
        self.datasetChanged.emit(dataset)
        self.configChanged.emit(config)
        self._reset_to_initial()
        if lost is not None:
            self.runDiscarded.emit(lost)
        self.runChange.emit("restart")

    def _check_discard(self, restarts: bool) -> None:
        """Raise ChangeDeclined when a change would discard a trained, unsaved run (one
        that makes its snapshots stale, or any restart while a run trains) and the
        discard guard says to keep it."""
        if not restarts or self.discard_guard is None or not self.dirty:
            return
        stale = discard_rules.has_trained(self.snapshots)
        if stale and not self.discard_guard():
            raise ChangeDeclined("kept the trained run")

    def add_tuning(self, step: int, changes: dict[str, tuple[Any, Any]]) -> None:
        """A live change took effect at `step` of the run in progress (curves mark it):
        the snapshots from `step` on are trained with the new values, so `run_config`
        takes them (it is the config at the newest snapshot; `tuning` says since when)."""
        train = dataclasses.replace(
            self.run_config.train, **{f: new for f, (_old, new) in changes.items()}
        )
        self.run_config = dataclasses.replace(self.run_config, train=train)
        self.tuning.append((int(step), dict(changes)))
        self.tuningChanged.emit()
        self.set_dirty(True)

    def _reset_to_initial(self) -> None:
        """Show the untrained network (step 0) so views are never empty."""
        w = initial_weights(self.config.model, self.config.train.seed, self.config.data.classes)
        self.run_config = self.config
        self.snapshots = [
            Snapshot(step=0, loss=float("nan"), train_acc=0.0, test_acc=0.0, weights=w)
        ]
        self._keeper = None
        self._clear_tuning()
        self.status = "new"
        self.message = ""
        self.progress = (0, float("nan"), 0.0)
        self.snapshotsChanged.emit()
        self.statusChanged.emit(self.status, self.message)
        self.set_current(self.snapshots[-1])

    def reset(self) -> None:
        """Back to the untrained network of the current config (the toolbar's Reset)."""
        lost = self.discardable("Reset")
        self._reset_to_initial()
        if lost is not None:
            self.set_dirty(True)
            self.runDiscarded.emit(lost)

    def discardable(self, reason: str) -> discard_rules.DiscardedRun | None:
        """The run as it is now, if it holds trained snapshots about to be dropped."""
        if not discard_rules.has_trained(self.snapshots):
            return None
        return discard_rules.DiscardedRun(self.run(), reason, unsaved=self.dirty)

    # ------------------------------------------------------------------ snapshots
    def replace_snapshots(self, snapshots: list[Snapshot], status: str = "finished") -> None:
        self.snapshots = list(snapshots)
        self._keeper = None
        self.status = status
        self.snapshotsChanged.emit()
        if self.snapshots:
            self.set_current(self.snapshots[-1])
        self.set_dirty(True)

    def _clear_tuning(self) -> None:
        if self.tuning:
            self.tuning = []
            self.tuningChanged.emit()

    def append_snapshot(self, snap: Snapshot, config: RunConfig | None = None) -> None:
        self.extend_snapshots([snap], config)

    def extend_snapshots(self, snaps: list[Snapshot], config: RunConfig | None = None) -> None:
        """Append a batch from the trainer with one signal (batches keep redraws <= ~30/s).

        `config`: what the run that made them trains (the controller's); it becomes
        `run_config` when they begin a new run (default: the current `config`)."""
        if not snaps:
            return
        first = snaps[0].step
        lost = None
        if self.snapshots and self.snapshots[-1].step >= first:
            # a new training run restarts the list at its own step 0
            lost = self.discardable("a new training run")
            self.snapshots = [s for s in self.snapshots if s.step < first]
            self._keeper = None
            if first == 0:  # a new run: its own config and live changes only
                self.run_config = config if config is not None else self.config
                self._clear_tuning()
        self._keep(snaps)
        self.snapshotsChanged.emit()
        self.set_current(snaps[-1])
        self.set_dirty(True)
        if lost is not None:
            self.runDiscarded.emit(lost)

    def _keep(self, snaps: list[Snapshot]) -> None:
        """Append, keeping at most limits.SNAPSHOT_MEMORY_BYTES of snapshots of this run
        (an even grid of steps plus the newest, like the trainer)."""
        if self._keeper is None:
            every = self.run_config.train.snapshot_every
            self._keeper = limits.SnapshotKeeper(every, limits.snapshot_capacity(self.run_config))
        for s in snaps:
            self._keeper.add(self.snapshots, s)

    def set_progress(self, step: int, loss: float, steps_per_s: float) -> None:
        self.progress = (int(step), float(loss), float(steps_per_s))
        self.progressChanged.emit(*self.progress)

    def set_status(self, status: str, message: str = "") -> None:
        """How the last training ended (shown in the status bar and saved in the run)."""
        self.status = status
        self.message = message
        self.statusChanged.emit(status, message)

    def set_current(self, snap: Snapshot) -> None:
        self.current = snap
        self.currentChanged.emit(snap)
        if not self._view_sets_shown:  # no view draws in the background: shown at once
            self.set_shown(snap)

    def view_sets_shown(self) -> None:
        """A view that draws `current` in the background calls this once; from then on
        it alone says (with `set_shown`) which snapshot is on screen."""
        self._view_sets_shown = True

    def set_shown(self, snap: Snapshot) -> None:
        """The snapshot now drawn (the readouts' one source of numbers)."""
        if snap is not self.shown:
            self.shown = snap
            self.shownChanged.emit(snap)

    @property
    def weights(self) -> NetWeights:
        assert self.current is not None
        return self.current.weights

    # ------------------------------------------------------------------ misc
    def set_training_state(self, state: str) -> None:
        assert state in TRAINING_STATES, state
        if state != self.training_state:
            self.training_state = state
            self.trainingStateChanged.emit(state)

    def set_dirty(self, dirty: bool) -> None:
        if dirty != self.dirty:
            self.dirty = dirty
            self.dirtyChanged.emit(dirty)

    def run(self) -> Run:
        """The run shown as plain data (what gets saved and exported): its snapshots with
        the config they were trained with (`run_config`, never the panel's settings that
        may be ahead) and its live changes (`tuning`)."""
        return Run(
            config=self.run_config.copy(),
            dataset=self.dataset,
            snapshots=list(self.snapshots),
            status=self.status,
            message=self.message,
            versions={"nndyn": __version__},
            tuning=[(step, dict(ch)) for step, ch in self.tuning],
        )

    def load_run(self, run: Run) -> None:
        """Show a run loaded from disk: its config, its data, its snapshots."""
        self.config = self.run_config = run.config
        self.dataset = run.dataset
        self.configChanged.emit(self.config)
        self.datasetChanged.emit(self.dataset)
        if run.snapshots:
            self.replace_snapshots(run.snapshots, run.status)
            self.set_status(run.status, run.message)
        else:
            self._reset_to_initial()
        self.tuning = [(step, dict(ch)) for step, ch in run.tuning]
        self.tuningChanged.emit()
        self.set_dirty(False)
        self.runChange.emit("restart")
