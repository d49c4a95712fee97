"""Tools → Ensemble: the current config from several init seeds, trained together.

Why it exists: the article's "stochastic control" picture — other initialisations give
other results. The window trains S members (the current config with init seeds seed,
seed + 1, …; 2–16, 8 by default) in one compiled program in its own engine worker
(core/engine: `StartEnsemble`; TensorFlow never enters this process), with a progress
bar and Cancel. Then, off the GUI thread (ui/background.NewestWins), it measures each
member at its final snapshot (core/analysis/ensemble_facts.py) and computes the map at
the input (render/ensemble_map.py): the members' agreement as a wash of the class
colours, one boundary line per member, the data on top (render/ensemble_picture.py).
The table gives each member's numbers and their min / median / max, the caption one line
built from them. A member can be shown in the main window as the full run it is (the
same as training it alone: core/train/ensemble.py), and the picture exported as a PNG.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import QRectF, Qt, Signal, Slot
from PySide6.QtGui import QColor, QImage, QPainter, QPaintEvent
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QSpinBox,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from nndyn_gui.core.analysis import ensemble_facts
from nndyn_gui.core.analysis.narrator import config_title
from nndyn_gui.core.config import RunConfig
from nndyn_gui.core.engine import protocol as p
from nndyn_gui.core.types import Dataset, Run, TrainResult
from nndyn_gui.render.ensemble_map import EnsembleMap, ensemble_map
from nndyn_gui.render.ensemble_picture import EnsemblePicture, paint_ensemble, write_png
from nndyn_gui.render.export_spec import suggest_path
from nndyn_gui.ui.background import NewestWins
from nndyn_gui.ui.ensemble_table import MemberTable
from nndyn_gui.ui.state import AppState
from nndyn_gui.ui.training.engine_bridge import EngineBridge

log = logging.getLogger(__name__)

DEFAULT_MEMBERS = 8
MEMBERS_RANGE = (2, 16)  # 16: core/train/ensemble.MAX_MEMBERS, one compiled program
PROGRESS_RES = 1000


def member_configs(config: RunConfig, count: int) -> list[RunConfig]:
    """The current config with init seeds seed, seed + 1, …, seed + count - 1 (the batch
    order follows each init seed unless an order seed is set, as for a run alone)."""
    out = []
    for i in range(count):
        cfg = config.copy()
        cfg.train.seed = config.train.seed + i
        out.append(cfg.validate())
    return out


def analyse(
    configs: Sequence[RunConfig], results: Sequence[TrainResult], dataset: Dataset
) -> tuple[list[ensemble_facts.MemberFacts], EnsembleMap | None]:
    """Each member's numbers and the map of those with a snapshot (background job); a
    member without one keeps its place with no line."""
    facts = ensemble_facts.measure(configs, results, dataset)
    have = [i for i, r in enumerate(results) if r.snapshots]
    if not have:
        return facts, None
    emap = ensemble_map(
        [configs[i] for i in have], [results[i].final.weights for i in have], dataset
    )
    lines = [np.zeros((0, 2, 2))] * len(results)
    for j, i in enumerate(have):
        lines[i] = emap.boundaries[j]
    return facts, EnsembleMap(
        emap.extent, emap.classes, emap.agreement, emap.majority, tuple(lines)
    )


class EnsembleMapView(QWidget):
    """Paints the ensemble picture (no title or caption: the window shows those).

    The picture (up to 16 members' lines and 800 points: ~50-80 ms) is painted once per
    size and picture into an image; an expose or a repaint only copies that."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.picture: EnsemblePicture | None = None
        self._cache: tuple[tuple[int, int, float], QImage] | None = None
        self.placeholder = "Train the ensemble to see its members' decision boundaries."
        self.setMinimumSize(360, 300)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

    def set_picture(self, pic: EnsemblePicture | None) -> None:
        self.picture = pic
        self._cache = None
        self.update()

    def _image(self, pic: EnsemblePicture) -> QImage:
        dpr = self.devicePixelRatioF()
        key = (self.width(), self.height(), dpr)
        if self._cache is None or self._cache[0] != key:
            img = QImage(
                round(self.width() * dpr),
                round(self.height() * dpr),
                QImage.Format.Format_ARGB32_Premultiplied,
            )
            img.setDevicePixelRatio(dpr)
            img.fill(QColor(255, 255, 255))
            painter = QPainter(img)
            try:
                paint_ensemble(painter, QRectF(0, 0, self.width(), self.height()), pic, False)
            finally:
                painter.end()
            self._cache = (key, img)
        return self._cache[1]

    def paintEvent(self, _ev: QPaintEvent) -> None:
        painter = QPainter(self)
        try:
            painter.fillRect(self.rect(), QColor(255, 255, 255))
            if self.picture is None:
                painter.setPen(QColor(90, 90, 90))
                painter.drawText(
                    self.rect(),
                    int(Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap),
                    self.placeholder,
                )
                return
            painter.drawImage(0, 0, self._image(self.picture))
        finally:
            painter.end()


class EnsembleWindow(QWidget):
    """Train S initialisations of the current config together and compare them."""

    trainingFinished = Signal()  # the members' training ended (finished, cancelled, failed)
    measured = Signal()  # the table, map and caption show the newest results

    def __init__(
        self,
        state: AppState,
        show_run: Callable[[Run], None] | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowFlag(Qt.WindowType.Window, True)
        self.setWindowTitle("Ensemble — initialisations")
        self.resize(1200, 720)
        self.state = state
        self._show_run = show_run
        self.engine = EngineBridge(self)
        self.analysis = NewestWins(self, name="nndyn-ensemble-map", what="measure the ensemble")
        self.configs: list[RunConfig] = []  # the members being trained / shown
        self.dataset: Dataset = state.dataset
        self.results: list[TrainResult] = []
        self.facts: list[ensemble_facts.MemberFacts] = []
        self.emap: EnsembleMap | None = None
        self.caption_text = ""
        self._closed = False
        self._ensemble = 0  # counts Train presses: a measurement of an older one is dropped

        self.count = QSpinBox()
        self.count.setRange(*MEMBERS_RANGE)
        self.count.setValue(DEFAULT_MEMBERS)
        self.count.setToolTip("How many initialisations: init seeds seed, seed + 1, …")
        self.count.valueChanged.connect(self._update_train_text)
        self.train_button = QPushButton()
        self.train_button.setToolTip(
            "Train the current config from each init seed, all together in one program"
        )
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setEnabled(False)
        self.progress = QProgressBar()
        self.progress.setRange(0, PROGRESS_RES)
        self.progress.setTextVisible(True)
        self.progress.setFormat("%p%")
        self.status_label = QLabel("")
        self.status_label.setWordWrap(True)
        top = QHBoxLayout()
        top.addWidget(QLabel("Members"))
        top.addWidget(self.count)
        top.addWidget(self.train_button)
        top.addWidget(self.cancel_button)
        top.addWidget(self.progress, 1)

        self.map_view = EnsembleMapView(self)
        self.table = MemberTable(self)
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(self.map_view)
        split.addWidget(self.table)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)
        self.caption = QLabel("")
        self.caption.setWordWrap(True)
        self.caption.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.show_button = QPushButton("Show in main window")
        self.show_button.setToolTip(
            "The selected member as the full run it is (as if trained alone), in the main "
            "window; the run there is put aside (Run → Bring back)"
        )
        self.show_button.setEnabled(False)
        self.export_button = QPushButton("Export PNG…")
        self.export_button.setToolTip("The map, legend, title and caption as a PNG picture")
        self.export_button.setEnabled(False)
        bottom = QHBoxLayout()
        bottom.addWidget(self.show_button)
        bottom.addStretch(1)
        bottom.addWidget(self.export_button)

        lay = QVBoxLayout(self)
        lay.addLayout(top)
        lay.addWidget(self.status_label)
        lay.addWidget(split, 1)
        lay.addWidget(self.caption)
        lay.addLayout(bottom)

        self.train_button.clicked.connect(self.train)
        self.cancel_button.clicked.connect(self.cancel)
        self.show_button.clicked.connect(self._show_selected)
        self.export_button.clicked.connect(self.export_dialog)
        self.table.memberActivated.connect(self.show_member)
        self.table.itemSelectionChanged.connect(self._on_selection)
        self.engine.compiled.connect(self._on_compiled)
        self.engine.ensembleProgress.connect(self._on_progress)
        self.engine.ensembleResults.connect(self._on_results)
        self.engine.finished.connect(self._on_finished)
        self.engine.failed.connect(self._on_failed)
        self.engine.workerLost.connect(self._on_worker_lost)
        self.analysis.done.connect(self._on_measured)
        state.configChanged.connect(self._on_config)
        self._update_train_text()
        self._on_config()

    # ------------------------------------------------------------------ public
    def is_running(self) -> bool:
        return self.engine.is_running()

    def busy(self) -> bool:
        """Training, or measuring its results."""
        return self.is_running() or self.analysis.busy()

    def labels(self) -> list[str]:
        return [f"seed {c.train.seed}" for c in self.configs]

    def picture(self) -> EnsemblePicture | None:
        """What the map shows (and the PNG holds), None before the first results."""
        if self.emap is None or not self.configs:
            return None
        title = f"Ensemble of {len(self.configs)}: {config_title(self.configs[0])}"
        return EnsemblePicture(
            self.emap,
            self.labels(),
            self.dataset,
            title=title,
            caption=self.caption_text,
            selected=self.table.selected_member(),
        )

    def train(self) -> None:
        """Train `count` members of the current config (one compiled program)."""
        if self.is_running() or self._closed:
            return
        self._ensemble += 1
        self.configs = member_configs(self.state.config, self.count.value())
        self.dataset = self.state.dataset
        self.results, self.facts, self.emap, self.caption_text = [], [], None, ""
        self.table.fill([], False)
        self.map_view.set_picture(None)
        self.caption.setText("")
        self.progress.setRange(0, 0)  # busy: TensorFlow loads, the program compiles
        seeds = [c.train.seed for c in self.configs]
        self._set_status(
            f"Starting {len(seeds)} members (init seeds {seeds[0]}–{seeds[-1]}): loading the "
            "training process and compiling…"
        )
        self._set_running(True)
        try:
            self.engine.start_ensemble(self.configs, self.dataset)
        except Exception as e:  # a boundary: the window stays usable, the log keeps the trace
            log.exception("the ensemble could not start")
            self._set_running(False)
            self._set_status(f"Training could not start: {e}")

    def cancel(self) -> None:
        """Stop every member after its current compiled call; what each trained is shown."""
        if self.is_running():
            self.engine.cancel()
            self._set_status("Stopping…")

    def show_member(self, i: int) -> bool:
        """Member i in the main window, as the full run it is; False when it cannot be."""
        if not (0 <= i < len(self.results)) or not self.results[i].snapshots:
            self._set_status("That member has no trained snapshot to show.")
            return False
        if self._show_run is None:
            return False
        r = self.results[i]
        run = Run(self.configs[i].copy(), self.dataset, list(r.snapshots), r.status, r.message)
        run.versions.update(r.versions)
        self._show_run(run)
        self._set_status(
            f"Seed {self.configs[i].train.seed} (step {r.final.step:,}) is now in the main window."
        )
        return True

    def export_png(self, path: str | Path, width: int = 1280, height: int = 960) -> Path | None:
        """Write the picture as a PNG (no window is shown); None and a message on failure."""
        pic = self.picture()
        if pic is None:
            self._set_status("Train the ensemble first: there is nothing to export yet.")
            return None
        try:
            out = write_png(path, pic, width, height)
        except OSError as e:
            log.error("ensemble picture not written: %s", e)
            self._set_status(f"Cannot export: {e}")
            return None
        self._set_status(f"Saved {out}")
        return out

    def export_dialog(self) -> None:
        from nndyn_gui.ui.export_run import last_export_dir, remember_export_dir

        if self.picture() is None:
            return
        title = f"ensemble {config_title(self.configs[0])}"
        start = suggest_path(last_export_dir(), title, "map", ".png")
        path, _ = QFileDialog.getSaveFileName(
            self, "Export the ensemble picture", start, "PNG image (*.png)"
        )
        if path:
            out = self.export_png(path)
            if out is not None:
                remember_export_dir(str(out.parent))

    def shutdown(self) -> None:
        """Stop training and the measuring job; end the worker (window close)."""
        self._closed = True
        self.engine.shutdown()
        self.analysis.shutdown()
        self._set_running(False)

    def showEvent(self, ev: Any) -> None:
        super().showEvent(ev)
        self.engine.start_worker()  # TensorFlow loads while the user sets the count

    def closeEvent(self, ev: Any) -> None:
        self.shutdown()
        super().closeEvent(ev)

    # ------------------------------------------------------------------ engine events
    @Slot(float)
    def _on_compiled(self, seconds: float) -> None:
        self._set_status(f"Compiled in {seconds:.1f} s; training {len(self.configs)} members…")

    @Slot(object)
    def _on_progress(self, ev: p.EnsembleProgress) -> None:
        self.progress.setRange(0, PROGRESS_RES)
        self.progress.setValue(round(PROGRESS_RES * ev.share))
        lo, hi = min(ev.steps), max(ev.steps)
        steps = f"step {lo:,}" if lo == hi else f"steps {lo:,}–{hi:,}"
        self._set_status(
            f"Training {len(ev.steps)} members together: {steps} of {max(ev.totals):,}."
        )

    @Slot(object)
    def _on_results(self, results: list[TrainResult]) -> None:
        self.results = list(results)

    @Slot(object)
    def _on_finished(self, result: TrainResult) -> None:
        self._set_running(False)
        if result.status == "finished":
            self.progress.setValue(PROGRESS_RES)
        self.trainingFinished.emit()
        if not self.results:
            self._set_status(result.message or "Nothing was trained.")
            return
        self._set_status(f"{result.message} Measuring each member at its final snapshot…")
        configs, results, dataset = list(self.configs), list(self.results), self.dataset
        token = self._ensemble
        self.analysis.request(lambda: (token, analyse(configs, results, dataset)))

    @Slot(str, str)
    def _on_failed(self, message: str, details: str = "") -> None:
        log.error("ensemble training failed: %s\n%s", message, details)
        self._set_running(False)
        self._set_status(f"Training failed: {message}")
        self.trainingFinished.emit()

    @Slot(str, int)
    def _on_worker_lost(self, message: str, run_id: int) -> None:
        if run_id:
            self._on_failed(message)

    @Slot(object, str)
    def _on_measured(self, result: Any, error: str) -> None:
        if self._closed:
            return
        if error or result is None:
            log.error("the ensemble could not be measured: %s", error)
            self._set_status(f"The members could not be measured: {error}")
            return
        token, (facts, emap) = result
        if token != self._ensemble:
            return  # a newer ensemble was started meanwhile
        self.facts, self.emap = facts, emap
        ring = ensemble_facts.is_ring(self.configs[0])
        self.table.fill(self.facts, ring)
        self.caption_text = ensemble_facts.caption(self.configs[0], self.facts)
        self.caption.setText(self.caption_text)
        self.map_view.set_picture(self.picture())
        self.export_button.setEnabled(self.emap is not None)
        done = sum(1 for f in self.facts if f.status == "finished")
        self._set_status(
            f"{done} of {len(self.facts)} members finished. Double-click a row (or select it and "
            "press Show in main window) to open that member there."
        )
        self.measured.emit()

    # ------------------------------------------------------------------ internals
    def _set_running(self, running: bool) -> None:
        if not running and self.progress.maximum() == 0:
            self.progress.setRange(0, PROGRESS_RES)  # no longer busy
            self.progress.setValue(0)
        self.train_button.setEnabled(not running)
        self.count.setEnabled(not running)
        self.cancel_button.setEnabled(running)

    def _set_status(self, text: str) -> None:
        self.status_label.setText(text)

    def _update_train_text(self, *_: object) -> None:
        self.train_button.setText(f"Train {self.count.value()} members")

    @Slot()
    def _on_config(self, *_: object) -> None:
        """Before the first ensemble: say what Train will train (the main window's config)."""
        if self.is_running() or self.results:
            return
        cfg = self.state.config
        self._set_status(
            f"Trains the main window's config ({config_title(cfg)}) from init seeds "
            f"{cfg.train.seed}, {cfg.train.seed + 1}, … together."
        )

    @Slot()
    def _on_selection(self) -> None:
        i = self.table.selected_member()
        self.show_button.setEnabled(
            i is not None and i < len(self.results) and bool(self.results[i].snapshots)
        )
        if self.map_view.picture is not None:
            self.map_view.set_picture(self.picture())

    @Slot()
    def _show_selected(self) -> None:
        i = self.table.selected_member()
        if i is not None:
            self.show_member(i)
