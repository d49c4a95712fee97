"""The GUI thread's paint while a background job computes (ui/background.py GIL_SWITCH_S):
the training curves' plots (two plots, 3,000-point curves) grabbed with one or two
threads running numpy in Python loops, at Python's default GIL switch interval (5 ms)
and at the window's (1 ms), alternating; prints JSON (median ms per paint, ratios).

    QT_QPA_PLATFORM=offscreen .venv/bin/python benchmarks/bench_gil.py [--repeats 3]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import threading
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QApplication

from nndyn_gui.ui.background import GIL_SWITCH_S

PAINTS = 20


def _plots() -> tuple[pg.GraphicsLayoutWidget, pg.PlotItem, pg.InfiniteLine]:
    w = pg.GraphicsLayoutWidget()
    w.resize(300, 400)
    top, bottom = w.addPlot(row=0, col=0), w.addPlot(row=1, col=0)
    x = np.arange(3000.0)
    top.plot(x, np.sin(x / 100), pen=pg.mkPen("b", width=2))
    bottom.plot(x, np.cos(x / 50), pen=pg.mkPen("r", width=2))
    marker = pg.InfiniteLine(0)
    top.addItem(marker)
    w.show()
    return w, top, marker


def _paint_ms(w: pg.GraphicsLayoutWidget, top: pg.PlotItem, marker: pg.InfiniteLine) -> float:
    times = []
    for i in range(PAINTS):
        marker.setPos(100 * i)
        top.setXRange(0, 3000 + i)  # new ticks: the axes are drawn again, as after a change
        t0 = time.perf_counter()
        w.grab()
        times.append(1000 * (time.perf_counter() - t0))
    return statistics.median(times)


def _with_busy_threads(n: int, fn: object) -> float:
    stop = threading.Event()

    def busy() -> None:
        a = np.random.default_rng(0).random((200, 2))
        while not stop.is_set():
            for _ in range(50):
                a = np.tanh(a @ np.eye(2) + 0.1)

    threads = [threading.Thread(target=busy, daemon=True) for _ in range(n)]
    for t in threads:
        t.start()
    try:
        return fn()  # type: ignore[operator,no-any-return]
    finally:
        stop.set()
        for t in threads:
            t.join()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    app = QApplication.instance() or QApplication(sys.argv[:1])
    w, top, marker = _plots()
    app.processEvents()
    idle = _paint_ms(w, top, marker)
    out: dict[str, object] = {"idle_paint_ms": round(idle, 2), "load": os.getloadavg()[0]}
    for n in (1, 2):
        got: dict[float, list[float]] = {0.005: [], GIL_SWITCH_S: []}
        for _ in range(args.repeats):
            for interval in got:
                sys.setswitchinterval(interval)
                got[interval].append(_with_busy_threads(n, lambda: _paint_ms(w, top, marker)))
        default, ours = statistics.median(got[0.005]), statistics.median(got[GIL_SWITCH_S])
        out[f"busy_threads_{n}"] = {
            "paint_ms_at_5ms": round(default, 2),
            f"paint_ms_at_{1000 * GIL_SWITCH_S:g}ms": round(ours, 2),
            "ratio": round(default / ours, 2),
        }
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
