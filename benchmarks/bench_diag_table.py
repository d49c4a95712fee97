"""GUI-thread time of one Diagnostics panel update for the 100-block `resnet-ode-limit`.

What a user feels while a deep net trains: once a second the panel takes the new numbers
(`_on_computed`, on the GUI thread) and repaints. This times that call plus a forced
repaint of the panel (what the next event-loop turn would paint), alternating two
snapshots so every cell changes, in CPU time of the GUI thread (the machine is shared:
wall time would count the other jobs). The diagnostics themselves are computed beforehand
(the background job's work, not timed). `PYTHONPATH=<older tree>` measures the code
before a change; the baseline in the same run is the repaint alone of a table that did
not change:

    QT_QPA_PLATFORM=offscreen PYTHONPATH=$PWD .venv/bin/python benchmarks/bench_diag_table.py

Prints one JSON object (milliseconds, medians over ROUNDS updates).
"""

from __future__ import annotations

import json
import os
import statistics
import time

import numpy as np

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

ROUNDS = 30
SIZE = (520, 900)  # a dock's size on a 1920x1080 screen


def main() -> None:
    from PySide6.QtWidgets import QApplication

    from nndyn_gui.core.io.presets import load_preset
    from nndyn_gui.core.net.initial_weights import initial_weights
    from nndyn_gui.core.types import Snapshot
    from nndyn_gui.ui.diagnostics_panel import DiagnosticsPanel
    from nndyn_gui.ui.state import AppState

    app = QApplication.instance() or QApplication([])
    cfg = load_preset("resnet-ode-limit")
    state = AppState(cfg)
    panel = DiagnosticsPanel(state)
    panel._request_topology = lambda *a, **k: None  # type: ignore[method-assign]
    panel.resize(*SIZE)
    panel.show()
    app.processEvents()
    w0 = initial_weights(cfg.model, 0)
    w1 = w0.copy()
    w1.A = w1.A * 3.0  # other numbers, some blocks not invertible
    results = []
    for i, w in enumerate((w0, w1)):
        state.append_snapshot(Snapshot(40 * (i + 1), 0.5, 0.6, 0.6, w))
        panel._debounce.stop()
        job = panel._job()
        assert job is not None
        results.append(job())  # the background job's result (not timed)
    update, repaint, idle = [], [], []
    for r in range(ROUNDS):
        t0 = time.thread_time()
        panel._on_computed(results[r % 2], "")
        t1 = time.thread_time()
        panel.repaint()
        app.processEvents()
        t2 = time.thread_time()
        panel.repaint()
        app.processEvents()
        t3 = time.thread_time()
        update.append(t1 - t0)
        repaint.append(t2 - t1)
        idle.append(t3 - t2)
    rows = panel.table.rowCount() if callable(getattr(panel.table, "rowCount", None)) else 0
    ms = lambda v: round(1000.0 * statistics.median(v), 2)  # noqa: E731
    total = [a + b for a, b in zip(update, repaint, strict=True)]
    out = {
        "preset": "resnet-ode-limit",
        "rows": rows,
        "update_ms": ms(update),
        "update_repaint_ms": ms(total),
        "worst_update_repaint_ms": round(1000.0 * float(np.max(total)), 2),
        "baseline_repaint_unchanged_ms": ms(idle),
        "ratio_to_baseline": round(
            statistics.median(total) / max(1e-9, statistics.median(idle)), 2
        ),
    }
    print(json.dumps(out))
    panel.shutdown()


if __name__ == "__main__":
    main()
