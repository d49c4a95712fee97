"""Two initialisations of the same experiment, side by side (the article's "two inits").

Why it exists: whether a net unties the ring can depend on the random start alone.
The window trains the current config twice, differing only in `train.seed`, and shows
both flows with one shared layer slider, so the user can see the same layer of both
nets at once and compare their final accuracies and winding numbers.

Training runs in a private QThread (one run after the other: two TensorFlow runs in
parallel would only fight over the same cores). The thread object lives in the GUI
thread, so its signals arrive queued in this window's slots; Stop and closing the
window set a threading.Event the trainer checks between fused steps. TensorFlow is
imported inside the thread, never when the window opens.
"""

from __future__ import annotations

import math
import threading
from typing import Any

from PySide6.QtCore import QObject, Qt, QThread, QTimer, Signal, Slot
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSlider,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from nndyn_gui.core.config import RunConfig
from nndyn_gui.core.network import initial_weights
from nndyn_gui.core.types import Dataset, NetWeights, Snapshot, TrainResult
from nndyn_gui.render.scene import FlowScene, ViewOptions
from nndyn_gui.render.views import make_layer_view
from nndyn_gui.ui.diagnostics_panel import compute_topology
from nndyn_gui.ui.state import AppState

SLIDER_STEPS = 20  # slider positions per frame, so Play glides between layers
PLAY_SECONDS = 4.0  # one pass through all layers
PLAY_TICK_MS = 33
LIVE_REFRESH_MS = 250  # redraw a side at most this often while it trains
MAX_SCENE_POINTS = 1500
SIDES = ("A", "B")

#: threads still finishing after their window closed (kept alive until they end)
_ORPHANS: set[QThread] = set()


def import_trainer() -> Any:
    """The Trainer class, loaded through the app's one TensorFlow loader (see worker.py)."""
    from nndyn_gui.ui.worker import load_training_module

    return load_training_module().Trainer


class _PairWorker(QThread):
    """Trains the configs one after the other; emits snapshots and per-run results."""

    snapshot = Signal(int, object)  # side, Snapshot
    done = Signal(int, object, object)  # side, TrainResult, TopologyReport | None
    failed = Signal(str)

    def __init__(
        self, configs: list[RunConfig], dataset: Dataset, parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        self.configs = configs
        self.dataset = dataset
        self.cancel = threading.Event()

    def run(self) -> None:
        try:
            Trainer = import_trainer()  # TensorFlow loads here, off the GUI thread

            for side, cfg in enumerate(self.configs):
                if self.cancel.is_set():
                    return
                trainer = Trainer(cfg, self.dataset)

                def on_snapshot(snap: Snapshot, side: int = side) -> None:
                    self.snapshot.emit(side, snap)  # runs here; delivered queued to the window

                result = trainer.run(on_snapshot=on_snapshot, cancel=self.cancel)
                topo = None
                if not self.cancel.is_set() and result.snapshots:
                    try:
                        topo = compute_topology(cfg, result.final.weights)
                    except Exception:
                        topo = None
                self.done.emit(side, result, topo)
        except Exception as e:
            self.failed.emit(f"{type(e).__name__}: {e}")


class _Side:
    """The widgets and data of one column."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.header = QLabel()
        self.result = QLabel("not trained yet")
        self.container = QWidget()
        self.container_layout = QVBoxLayout(self.container)
        self.container_layout.setContentsMargins(0, 0, 0, 0)
        self.view: Any = None
        self.weights: NetWeights | None = None
        self.pending: NetWeights | None = None
        self.result_data: TrainResult | None = None
        self.topology: Any = None
        self.last_snapshot: Snapshot | None = None


class CompareWindow(QWidget):
    """The current config trained from two seeds, shown side by side with one slider."""

    trainingFinished = Signal()  # both runs ended (finished, stopped or failed)

    def __init__(self, state: AppState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowFlag(Qt.WindowType.Window, True)
        self.setWindowTitle("Compare two initialisations")
        self.resize(1100, 620)
        self.state = state
        self.options = ViewOptions(grid_n=17)
        self.worker: _PairWorker | None = None
        self._config = state.config.copy()
        self._t = 0.0

        seed = state.config.train.seed
        self.seed_spins = [QSpinBox(), QSpinBox()]
        for sp, v in zip(self.seed_spins, (seed, seed + 1), strict=True):
            sp.setRange(0, 2**31 - 1)
            sp.setValue(v)
            sp.valueChanged.connect(self._on_seed_changed)
        self.train_button = QPushButton("Train both")
        self.train_button.setToolTip("Train the current settings once from each seed")
        self.stop_button = QPushButton("Stop")
        self.stop_button.setEnabled(False)
        self.status_label = QLabel("Same data and settings; only the initial weights differ.")
        top = QHBoxLayout()
        for i, sp in enumerate(self.seed_spins):
            top.addWidget(QLabel(f"Seed {SIDES[i]}"))
            top.addWidget(sp)
        top.addWidget(self.train_button)
        top.addWidget(self.stop_button)
        top.addWidget(self.status_label, 1)

        self.sides = [_Side(n) for n in SIDES]
        cols = QHBoxLayout()
        bold = QFont()
        bold.setBold(True)
        for side in self.sides:
            col = QVBoxLayout()
            side.header.setFont(bold)
            side.header.setAlignment(Qt.AlignmentFlag.AlignCenter)
            side.result.setAlignment(Qt.AlignmentFlag.AlignCenter)
            side.result.setWordWrap(True)
            col.addWidget(side.header)
            col.addWidget(side.container, 1)
            col.addWidget(side.result)
            cols.addLayout(col, 1)

        self.play_button = QPushButton("▶ Play")
        self.play_button.setCheckable(True)
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.layer_label = QLabel()
        self.layer_label.setMinimumWidth(150)
        bottom = QHBoxLayout()
        bottom.addWidget(self.play_button)
        bottom.addWidget(self.slider, 1)
        bottom.addWidget(self.layer_label)

        lay = QVBoxLayout(self)
        lay.addLayout(top)
        lay.addLayout(cols, 1)
        lay.addLayout(bottom)

        self._play_timer = QTimer(self)
        self._play_timer.setInterval(PLAY_TICK_MS)
        self._play_timer.timeout.connect(self._advance)
        self._live_timer = QTimer(self)
        self._live_timer.setInterval(LIVE_REFRESH_MS)
        self._live_timer.timeout.connect(self._flush_live)

        self.train_button.clicked.connect(self.train_both)
        self.stop_button.clicked.connect(self.stop)
        self.play_button.toggled.connect(self._on_play)
        self.slider.valueChanged.connect(self._on_slider)
        state.configChanged.connect(self._on_config)
        self._reset_views()

    # ------------------------------------------------------------------ public
    def seeds(self) -> tuple[int, int]:
        return self.seed_spins[0].value(), self.seed_spins[1].value()

    def is_running(self) -> bool:
        return self.worker is not None and self.worker.isRunning()

    def weights(self, side: int) -> NetWeights | None:
        """The weights a column shows (initial, live, or final)."""
        s = self.sides[side]
        return s.pending or s.weights

    def results(self) -> list[TrainResult | None]:
        return [s.result_data for s in self.sides]

    def views(self) -> list[Any]:
        return [s.view for s in self.sides]

    def set_time(self, t: float) -> None:
        """Show frame t (fractional, clamped to the flow) in both columns; the slider follows."""
        pos = round(t * SLIDER_STEPS) if math.isfinite(t) else 0
        self.slider.setValue(min(max(pos, self.slider.minimum()), self.slider.maximum()))

    def train_both(self) -> None:
        """Train the current config once per seed (one after the other)."""
        if self.is_running():
            return
        self._config = self.state.config.copy()
        configs = []
        for sp in self.seed_spins:
            cfg = self._config.copy()
            cfg.train.seed = sp.value()
            configs.append(cfg)
        self._reset_views()
        for side in self.sides:
            side.result.setText("waiting…")
        self.sides[0].result.setText("loading TensorFlow…")
        worker = _PairWorker(configs, self.state.dataset)
        worker.snapshot.connect(self._on_snapshot)
        worker.done.connect(self._on_done)
        worker.failed.connect(self._on_failed)
        worker.finished.connect(self._on_thread_finished)
        self.worker = worker
        self.train_button.setEnabled(False)
        self.stop_button.setEnabled(True)
        for sp in self.seed_spins:
            sp.setEnabled(False)
        self.status_label.setText("Training seed A, then seed B…")
        self._live_timer.start()
        worker.start()

    def stop(self) -> None:
        """Ask the worker to stop after its current fused step (returns at once)."""
        if self.worker is not None:
            self.worker.cancel.set()
            if self.worker.isRunning():
                self.status_label.setText("Stopping…")

    def shutdown(self, timeout_ms: int = 15000) -> bool:
        """Stop and wait for the worker; True if it ended (else it is parked, still safe)."""
        self._play_timer.stop()
        self._live_timer.stop()
        w = self.worker
        if w is None:
            return True
        w.cancel.set()
        ended = w.wait(timeout_ms)
        if not ended:  # e.g. still importing TensorFlow: keep the thread object alive
            w.setParent(None)
            _ORPHANS.add(w)
            w.finished.connect(lambda w=w: _ORPHANS.discard(w))
            for sig in (w.snapshot, w.done, w.failed):
                sig.disconnect()
        self.worker = None
        self.train_button.setEnabled(True)
        self.stop_button.setEnabled(False)
        return bool(ended)

    def closeEvent(self, ev: Any) -> None:
        self.shutdown()
        super().closeEvent(ev)

    # ------------------------------------------------------------------ views
    def _scene(self, weights: NetWeights) -> FlowScene:
        return FlowScene.build(
            self._config, weights, self.state.dataset, self.options, max_points=MAX_SCENE_POINTS
        )

    def _reset_views(self) -> None:
        """Show the untrained net of each seed: the two starting points being compared."""
        for i, side in enumerate(self.sides):
            w = initial_weights(self._config.model, self.seed_spins[i].value())
            side.weights, side.pending, side.result_data, side.topology = w, None, None, None
            side.last_snapshot = None
            self._show(i, w)
            side.result.setText("not trained yet")
        self._update_headers()

    def _show(self, i: int, weights: NetWeights) -> None:
        side = self.sides[i]
        scene = self._scene(weights)
        if side.view is None or _needs_new_view(side.view, scene):
            if side.view is not None:
                side.container_layout.removeWidget(side.view)
                side.view.setParent(None)
                side.view.deleteLater()
            side.view = make_layer_view(scene, side.container, prefer_3d=True)
            side.container_layout.addWidget(side.view)
        else:
            side.view.set_scene(scene)
        side.weights = weights
        self.slider.blockSignals(True)
        self.slider.setRange(0, round(scene.t_max * SLIDER_STEPS))
        self.slider.blockSignals(False)
        self._t = min(self._t, scene.t_max)
        side.view.set_time(self._t)
        self._update_layer_label(scene)

    def _update_headers(self) -> None:
        for i, side in enumerate(self.sides):
            side.header.setText(f"Seed {SIDES[i]} = {self.seed_spins[i].value()}")

    def _update_layer_label(self, scene: FlowScene | None = None) -> None:
        if scene is None:
            v = self.sides[0].view
            scene = v.flow_scene() if v is not None else None
        if scene is not None:
            self.layer_label.setText(scene.layer_label(self._t))

    # ------------------------------------------------------------------ slots
    @Slot(int)
    def _on_slider(self, value: int) -> None:
        self._t = value / SLIDER_STEPS
        for side in self.sides:
            if side.view is not None:
                side.view.set_time(self._t)
        self._update_layer_label()

    @Slot(bool)
    def _on_play(self, on: bool) -> None:
        self.play_button.setText("⏸ Pause" if on else "▶ Play")
        if on:
            if self.slider.value() >= self.slider.maximum():
                self.slider.setValue(0)
            self._play_timer.start()
        else:
            self._play_timer.stop()

    def _advance(self) -> None:
        step = max(1, round(self.slider.maximum() * PLAY_TICK_MS / (1000.0 * PLAY_SECONDS)))
        v = min(self.slider.value() + step, self.slider.maximum())
        self.slider.setValue(v)
        if v >= self.slider.maximum():
            self.play_button.setChecked(False)

    @Slot(int)
    def _on_seed_changed(self, *_: object) -> None:
        if not self.is_running():
            self._reset_views()

    @Slot(object)
    def _on_config(self, *_: object) -> None:
        if not self.is_running():
            self._config = self.state.config.copy()
            seed = self._config.train.seed
            for sp, v in zip(self.seed_spins, (seed, seed + 1), strict=True):
                sp.blockSignals(True)
                sp.setValue(v)
                sp.blockSignals(False)
            self._reset_views()

    @Slot(int, object)
    def _on_snapshot(self, i: int, snap: Snapshot) -> None:
        side = self.sides[i]
        side.pending = snap.weights
        side.last_snapshot = snap
        side.result.setText(
            f"training… step {snap.step}: train {_pct(snap.train_acc)}, test {_pct(snap.test_acc)}"
        )

    def _flush_live(self) -> None:
        for i, side in enumerate(self.sides):
            if side.pending is not None:
                w, side.pending = side.pending, None
                self._show(i, w)

    @Slot(int, object, object)
    def _on_done(self, i: int, result: TrainResult, topo: Any) -> None:
        side = self.sides[i]
        side.result_data = result
        side.topology = topo
        side.pending = None
        if result.snapshots:
            self._show(i, result.final.weights)
        side.result.setText(_result_text(result, topo))
        if i == 0 and len(self.sides) > 1 and result.status != "cancelled":
            self.sides[1].result.setText("training…")
            self.status_label.setText("Training seed B…")

    @Slot(str)
    def _on_failed(self, message: str) -> None:
        self.status_label.setText(f"Training failed: {message}")

    @Slot()
    def _on_thread_finished(self) -> None:
        w = self.worker
        cancelled = w is not None and w.cancel.is_set()
        self._live_timer.stop()
        self._flush_live()
        self.worker = None
        self.train_button.setEnabled(True)
        self.stop_button.setEnabled(False)
        for sp in self.seed_spins:
            sp.setEnabled(True)
        for side in self.sides:
            if side.result_data is None:
                side.result.setText("stopped" if cancelled else side.result.text())
        if cancelled:
            self.status_label.setText("Stopped.")
        elif not self.status_label.text().startswith("Training failed"):
            self.status_label.setText(_verdict(self.sides))
        self.trainingFinished.emit()


def _needs_new_view(view: Any, scene: FlowScene) -> bool:
    current = view.flow_scene()
    return current is None or current.dims != scene.dims


def _pct(v: float) -> str:
    return "—" if v != v else f"{100.0 * v:.1f}%"


def _result_text(result: TrainResult, topo: Any) -> str:
    if not result.snapshots:
        return f"{result.status}: {result.message}"
    f = result.final
    parts = [f"train {_pct(f.train_acc)}", f"test {_pct(f.test_acc)}"]
    if topo is not None:
        wind = "undetermined" if topo.winding is None else str(int(topo.winding))
        parts.append(f"winding {wind}")
        parts.append(f"{100.0 * float(topo.wrong_side_share):.1f}% of loop on wrong side")
    text = " · ".join(parts)
    if result.status != "finished":
        text = f"{result.status} at step {f.step}: " + text
    return text


def _verdict(sides: list[_Side]) -> str:
    accs = [
        s.result_data.final.test_acc for s in sides if s.result_data and s.result_data.snapshots
    ]
    if len(accs) < 2:
        return "Done."
    gap = abs(accs[0] - accs[1])
    if gap != gap:
        return "Done."
    if gap < 0.02:
        return f"Done: both seeds reach similar test accuracy ({_pct(accs[0])}, {_pct(accs[1])})."
    better = "A" if accs[0] > accs[1] else "B"
    return f"Done: seed {better} ends {100 * gap:.1f} points better — the start matters."
