"""Make the user guide's panel pictures from the real widgets (run under an X server).

    bash scripts/with-x.sh .venv/bin/python scripts/docs_images.py [OUT_DIR]

Writes topology-loop.png, diagnostics.png, compare.png and export-dialog.png (default
OUT_DIR: docs/img). Each picture is the widget a user sees after training the preset
named below, grabbed from the window, so the guide cannot drift from the app. The
window-wide screenshot comes from `nndyn-gui --screenshot` instead.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from PySide6.QtCore import QEventLoop, QTimer
from PySide6.QtWidgets import QApplication, QWidget

# the pictures are made in windows of their own: never the user's settings or autosaves
# (a drawn data set left there made the next `nndyn-gui` start with a notice)
for _var in ("NNDYN_SETTINGS_DIR", "NNDYN_AUTOSAVE_DIR"):
    os.environ.setdefault(_var, tempfile.mkdtemp(prefix="nndyn-docs-"))

TOPOLOGY_PRESET = "resnet-w2-ring-invertible"  # 100 % on the samples, still a tongue
COMPARE_PRESET = "resnet-w3-ring-init-a"


def wait_until(app: QApplication, done: Any, timeout_s: float = 300.0) -> None:
    """Run the event loop until done() is true (training runs in the engine's worker
    process, scenes and topology in background threads)."""
    end = time.monotonic() + timeout_s
    while not done():
        if time.monotonic() > end:
            raise TimeoutError("gave up waiting")
        app.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 50)
        time.sleep(0.01)


def settle(app: QApplication, ms: int = 800) -> None:
    loop = QEventLoop()
    QTimer.singleShot(ms, loop.quit)
    loop.exec()


def save(widget: QWidget, path: Path) -> None:
    from nndyn_gui.render.views import grab_with_overlays

    if not grab_with_overlays(widget).save(str(path)):
        raise OSError(f"cannot write {path}")
    print(f"wrote {path}", file=sys.stderr)


def main(out: Path) -> int:
    from nndyn_gui.core.io.presets import load_preset
    from nndyn_gui.render.views import share_gl_contexts

    share_gl_contexts()
    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    from nndyn_gui.ui.app import _load_style
    from nndyn_gui.ui.main_window import MainWindow
    from nndyn_gui.ui.state import AppState

    _load_style(app)
    out.mkdir(parents=True, exist_ok=True)
    win = MainWindow(AppState(load_preset(TOPOLOGY_PRESET)), restore_settings=False)
    win.no_prompt = True
    win.resize(1600, 1000)
    win.show()
    win.resize_docks_default()
    finished: list[Any] = []
    win.controller.finished.connect(finished.append)
    win.train()
    wait_until(app, lambda: bool(finished))
    diagnostics: Any = win.diagnostics
    wait_until(app, lambda: not diagnostics.topology_busy())
    panel = win.layer_panel
    panel.set_options(panel.options().copy(show_loop=True, show_grid=False))
    panel.wait_idle()
    panel.show_last_layer()
    settle(app)
    save(panel.view, out / "topology-loop.png")
    dock = win.docks["diagnostics"]
    dock.setFloating(True)  # tall enough to show the per-block table too
    dock.resize(460, 820)
    settle(app)
    save(dock, out / "diagnostics.png")
    dock.setFloating(False)

    win.export()
    settle(app)
    dialogs = [w for w in win._windows if type(w).__name__ == "ExportDialog"]
    save(dialogs[-1], out / "export-dialog.png")
    dialogs[-1].close()

    win.state.set_config(load_preset(COMPARE_PRESET))
    win.open_compare()
    compare: Any = [w for w in win._windows if type(w).__name__ == "CompareWindow"][-1]
    settle(app)
    done: list[bool] = []
    compare.trainingFinished.connect(lambda: done.append(True))
    compare.train_both()
    wait_until(app, lambda: bool(done))
    wait_until(app, lambda: not compare.busy())  # final scenes and topology, built off-thread
    compare.wait_idle()
    compare.set_time(1e9)  # the last layer
    settle(app)
    save(compare, out / "compare.png")
    compare.close()
    win.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("docs/img")))
