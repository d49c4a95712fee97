"""`nndyn-gui` / `python -m nndyn_gui`: open the window, optionally automate it.

Automation (`--preset NAME --set k=v --train --no-3d --screenshot F.png --quit`) drives the
same window a person uses, so a screenshot in the docs or a CI smoke test shows exactly
what users get. Bad arguments are reported on stderr with exit code 2 before any window
opens; TensorFlow is never imported here (training runs in the engine's worker process).
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import signal
import sys
from collections.abc import Sequence

from PySide6.QtCore import QObject, QRect, QTimer, Slot
from PySide6.QtWidgets import QApplication, QMessageBox, QWidget

from nndyn_gui import __version__
from nndyn_gui.core.config import ConfigError, RunConfig
from nndyn_gui.core.io import blas, logs
from nndyn_gui.ui import settings as app_settings

DEFAULT_PRESET = "resnet-w3-ring"  # width-3 ResNet on the ring: separates in ~7 s
SETTLE_MS = 800  # after training: let the docks (diagnostics, topology) catch up
EXIT_BAD_ARGS = 2
SIGNAL_POLL_MS = 200  # how soon Ctrl+C / SIGTERM is noticed
log = logging.getLogger(__name__)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="nndyn-gui",
        description="Watch a neural network move space, layer by layer.",
    )
    p.add_argument("--preset", help="start from this preset (see `nndyn presets`)")
    p.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override one parameter, e.g. --set model.width=3 (repeatable)",
    )
    p.add_argument("--open", metavar="RUN.nndyn", help="open a saved run")
    p.add_argument("--train", action="store_true", help="start training at once")
    p.add_argument("--screenshot", metavar="FILE.png", help="save the window when done")
    p.add_argument("--quit", action="store_true", help="quit when done (automation)")
    p.add_argument("--size", default="", metavar="WxH", help="window size, e.g. 1600x1000")
    p.add_argument(
        "--present",
        action="store_true",
        help="presentation mode: the layer view alone, full screen (F11 / Esc leave)",
    )
    p.add_argument(
        "--no-3d",
        action="store_true",
        help="start with 3-D unticked: wide nets in the 2-D projection",
    )
    p.add_argument("--version", action="version", version=f"nndyn {__version__}")
    return p


def resolve_config(args: argparse.Namespace, automated: bool) -> RunConfig:
    """--preset, else the last session's parameters, else the default; then --set.

    With --open the run file brings its own parameters: the last session's are not read
    (its data may be gone, or drawn, and would be reported for nothing)."""
    from nndyn_gui.core.io.presets import PresetError, load_preset, start_config

    base = None
    if not args.preset:
        last = None if automated or args.open else app_settings.load_config()
        base = last if last is not None else load_preset(DEFAULT_PRESET)
    try:  # a --set the config refuses is a ConfigError (SetError), said as it is
        cfg = start_config(preset=args.preset or None, base=base, sets=args.set)
    except PresetError as e:
        raise ConfigError("--preset", str(e)) from None
    return cfg.validate()


def usable_start_config(
    cfg: RunConfig, args: argparse.Namespace, automated: bool
) -> tuple[RunConfig, str]:
    """`cfg`, or the default preset with a notice when the last session's data are gone.

    A plain start (from a desktop launcher) must always open a window, also when the
    CSV file the last session imported was moved: otherwise it would exit at once and
    a pending autosave could never be restored. Data the user asked for on the command
    line (--preset, --set) that cannot be read is still an error (exit 2).
    """
    if cfg.data.name == "drawn" and not automated:  # the points are in a run file only
        cfg = cfg.copy()
        cfg.data = type(cfg.data)()
        return cfg, (
            "The last session drew its own points: they are in the run file it was saved "
            "to (open it to go on drawing); started on the default data."
        )
    if cfg.data.name != "csv" or args.preset or args.set or automated:
        return cfg, ""
    from nndyn_gui.core.datasets import DataError, load_csv

    try:
        load_csv(cfg.data.csv_path)  # parsed once: AppState reads it from the cache
    except DataError as e:
        from nndyn_gui.core.io.presets import load_preset

        return load_preset(DEFAULT_PRESET), (
            f"The last session's data cannot be read ({e}); started on the "
            f"{DEFAULT_PRESET} preset instead. Use Import CSV… to load the file from its "
            "new place."
        )
    return cfg, ""


def _size(text: str) -> tuple[int, int] | None:
    if not text:
        return None
    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise ConfigError("--size", f"expected WxH, e.g. 1600x1000, got {text!r}") from None
    if not (200 <= w <= 8000 and 200 <= h <= 8000):
        raise ConfigError("--size", f"{w}x{h} is out of range 200..8000")
    return w, h


def fit_to_screen(win: QWidget, avail: QRect | None = None) -> bool:
    """On a screen smaller than the window's first size (a 1280x720 projector) start
    as big as the screen allows, never cut off at the right or the bottom. True if it
    had to shrink. `avail`: the screen's free area (default: the window's screen)."""
    if avail is None:
        screen = win.screen() or QApplication.primaryScreen()
        if screen is None:
            return False
        avail = screen.availableGeometry()
    frame = win.frameGeometry().size() - win.geometry().size()  # title bar, borders
    w = min(win.width(), avail.width() - frame.width())
    h = min(win.height(), avail.height() - frame.height())
    if (w, h) == (win.width(), win.height()):
        return False
    win.resize(max(w, 200), max(h, 200))
    win.move(avail.topLeft())
    return True


class _Automation(QObject):
    """Runs --open / --train / --screenshot / --quit in order, once the window is shown."""

    def __init__(self, win: object, args: argparse.Namespace, app: QApplication) -> None:
        super().__init__()
        from nndyn_gui.ui.main_window import MainWindow

        assert isinstance(win, MainWindow)
        self.win = win
        self.args = args
        self.app = app
        self.exit_code = 0

    @Slot()
    def start(self) -> None:
        win, args = self.win, self.args
        if args.open and not win.open_run(args.open):
            from nndyn_gui.core.io.terminal import printable

            print(f"nndyn-gui: {printable(win.errors[-1][1])}", file=sys.stderr)
            self.exit_code = EXIT_BAD_ARGS
            if args.quit:
                self._quit()
                return
        if args.train:
            win.controller.finished.connect(self._trained)
            win.controller.failed.connect(self._failed)
            win.train()
            return
        QTimer.singleShot(SETTLE_MS, self._finish)

    @Slot(object)
    def _trained(self, result: object) -> None:
        QTimer.singleShot(SETTLE_MS, self._finish)

    @Slot(str, str)
    def _failed(self, message: str, details: str) -> None:
        print(f"nndyn-gui: training failed: {message}\n{details}", file=sys.stderr)
        self.exit_code = 1
        QTimer.singleShot(SETTLE_MS, self._finish)

    @Slot()
    def _finish(self) -> None:
        win, args = self.win, self.args
        win.layer_panel.wait_idle()
        win.layer_panel.show_last_layer()
        win.settle_panels()  # every panel at the shown snapshot: none still computing
        if args.present and not win.presentation.active:
            win.presentation.enter()
            win.presentation.wait_until_full_screen()
        QApplication.processEvents()
        if args.screenshot:
            if win.screenshot(args.screenshot):
                print(f"nndyn-gui: wrote {args.screenshot}", file=sys.stderr)
            else:
                print(f"nndyn-gui: cannot write {args.screenshot}", file=sys.stderr)
                self.exit_code = 1
        if args.quit:
            self._quit()

    def _quit(self) -> None:
        self.win.no_prompt = True
        self.win.close()
        self.app.exit(self.exit_code)


def apply_view_options(win: object, args: argparse.Namespace) -> None:
    """View choices given on the command line (`--no-3d`), set as a user would tick them."""
    from nndyn_gui.ui.main_window import MainWindow

    assert isinstance(win, MainWindow)
    if args.no_3d:
        win.layer_panel.check_3d.setChecked(False)


def _load_style(app: QApplication) -> None:
    try:
        from importlib import resources

        qss = resources.files("nndyn_gui.resources").joinpath("style.qss")
        if qss.is_file():
            app.setStyleSheet(qss.read_text(encoding="utf-8"))
    except (ModuleNotFoundError, OSError, UnicodeDecodeError):
        pass


_SCAN = object()  # _offer_restore: look for the autosave now (on this thread)


def _leaving(win: object) -> bool:
    """The window is closing (Ctrl+C, SIGTERM, the close button): ask nothing more."""
    return bool(
        getattr(win, "no_prompt", False) or getattr(getattr(win, "closer", None), "closing", False)
    )


def _offer_restore(win: object, found: object = _SCAN) -> None:
    """After a crash, offer the autosaved run of the ended session (never in automation).

    `found`: what `find_restorable()` returned (found in the background at start-up),
    or looked for now. Only an explicit "No" deletes the autosave; "Yes" deletes it
    once the run is in this session's autosave; Cancel, Escape and a window closed
    while asking (Ctrl+C, SIGTERM at logout) keep it for the next start.
    """
    from nndyn_gui.ui.main_window import MainWindow

    assert isinstance(win, MainWindow)
    if _leaving(win):
        return
    try:
        from nndyn_gui.ui.autosave import discard_pending, find_restorable

        if found is _SCAN:
            found = find_restorable()  # only a file that loads; damaged ones are removed
        if found is None:
            return
        assert isinstance(found, tuple)
        path, run = found
        print(f"nndyn-gui: the last session did not exit cleanly; offering {path}", file=sys.stderr)
        answer = QMessageBox.question(
            win,
            "Restore run?",
            "nndyn did not exit cleanly last time. Restore the autosaved run?\n\n"
            "No deletes it; Cancel keeps it for the next start.",
            QMessageBox.StandardButton.Yes
            | QMessageBox.StandardButton.No
            | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Yes,
        )
        if _leaving(win):
            log.info("closed while asking to restore %s: kept for the next start", path)
            return
        if answer == QMessageBox.StandardButton.Yes:
            if restore_run(win, run):
                discard_pending(path)
        elif answer == QMessageBox.StandardButton.No:
            discard_pending(path)
    except Exception as e:
        log.exception("cannot restore the autosaved run")
        win.show_error("Cannot restore the autosaved run", str(e))


def offer_restore_soon(win: object) -> None:
    """Look for an autosave on a background thread, then offer it (`_offer_restore`).

    A folder of thousands of files (or a slow network home) must not keep the window
    from appearing: the look-up never runs on the GUI thread."""
    from nndyn_gui.ui.autosave import find_restorable
    from nndyn_gui.ui.background import NewestWins
    from nndyn_gui.ui.main_window import MainWindow

    assert isinstance(win, MainWindow)
    if _leaving(win):
        return
    scan = NewestWins(win, name="nndyn-restore-scan", what="look for an autosaved run")

    def done(result: object, error: str) -> None:
        if error:
            log.warning("%s", error)
        elif result is not None:
            _offer_restore(win, result)

    scan.done.connect(done)
    scan.request(lambda: find_restorable())
    setattr(win, "_restore_scan", scan)  # noqa: B010 - kept alive with the window


def restore_run(win: object, run: object) -> bool:
    """Show a restored run as unsaved work, and autosave it at once for this session.

    The old session's file is deleted right after this, so the run must already be in
    this session's autosave: a second crash (or a logout) must not lose it. False
    when that autosave failed (then the old file must stay).
    """
    from nndyn_gui.core.types import Run
    from nndyn_gui.ui.main_window import MainWindow

    assert isinstance(win, MainWindow) and isinstance(run, Run)
    win.state.load_run(run)
    win.state.set_dirty(True)
    win.layer_panel.show_last_layer()
    if win.autosaver is not None:
        win.autosaver.save_now(wait=True)
        if win.autosaver.has_unsaved_changes:
            log.warning("the restored run could not be autosaved; its old autosave is kept")
            return False
    return True


def _close_on_signals(win: object, app: QApplication) -> None:
    """Ctrl+C / SIGTERM close the window as the close button does (exit code 0).

    Python runs signal handlers only between bytecodes and Qt's event loop runs none,
    so a slow no-op timer gives the interpreter a chance to notice the signal.
    """
    from nndyn_gui.ui.main_window import MainWindow

    assert isinstance(win, MainWindow)

    def handler(_signum: int, _frame: object) -> None:
        QTimer.singleShot(0, win.close_from_signal)

    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(ValueError, OSError):  # not the main thread / platform
            signal.signal(sig, handler)
    wake = QTimer(app)
    wake.timeout.connect(lambda: None)
    wake.start(SIGNAL_POLL_MS)


def main(argv: Sequence[str] | None = None) -> int:
    """Open the window (and automate it if asked); returns the process exit code."""
    parser = build_parser()
    try:
        args = parser.parse_args(list(sys.argv[1:] if argv is None else argv))
    except SystemExit as e:  # --help / --version exit 0, bad usage 2
        return int(e.code or 0)
    logs.setup("nndyn-gui")
    blas.one_thread()
    automated = bool(args.screenshot or args.quit)
    try:
        cfg = resolve_config(args, automated)
        size = _size(args.size)
        cfg, notice = usable_start_config(cfg, args, automated)
    except ConfigError as e:
        print(f"nndyn-gui: {e}", file=sys.stderr)
        return EXIT_BAD_ARGS
    if args.open and not os.path.exists(args.open):
        print(f"nndyn-gui: {args.open}: no such file", file=sys.stderr)
        return EXIT_BAD_ARGS

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    from nndyn_gui.render.views import share_gl_contexts

    share_gl_contexts()
    app = QApplication.instance()
    if not isinstance(app, QApplication):
        app = QApplication([sys.argv[0] if sys.argv else "nndyn-gui"])
    app.setOrganizationName(app_settings.ORG)
    app.setApplicationName(app_settings.APP)
    app.setApplicationVersion(__version__)
    _load_style(app)

    from nndyn_gui.core.datasets import DataError
    from nndyn_gui.ui.main_window import MainWindow
    from nndyn_gui.ui.state import AppState

    try:
        state = AppState(cfg)
    except (DataError, OSError, ValueError) as e:
        print(f"nndyn-gui: {e}", file=sys.stderr)
        return EXIT_BAD_ARGS
    win = MainWindow(state, restore_settings=not automated)
    if automated:
        win.no_prompt = True
    if args.present and not automated:
        QTimer.singleShot(0, win.presentation.enter)
    first_start = automated or app_settings.settings().value(app_settings.KEY_GEOMETRY) is None
    if size is not None:
        win.resize(*size)
    apply_view_options(win, args)
    if size is None and first_start and not automated:
        fit_to_screen(win)
    win.show()
    if first_start:
        win.resize_docks_default()
    _close_on_signals(win, app)
    if notice:
        print(f"nndyn-gui: {notice}", file=sys.stderr)
        QTimer.singleShot(0, lambda: win.show_error("Last session's data unavailable", notice))
    auto = _Automation(win, args, app)
    if args.open or args.train or automated:
        QTimer.singleShot(0, auto.start)
    else:
        QTimer.singleShot(0, lambda: offer_restore_soon(win))
    rc = app.exec()
    from nndyn_gui.core.engine.session import shutdown_spares

    shutdown_spares()  # the idle training processes the windows left warm
    return auto.exit_code if auto.exit_code else int(rc)


if __name__ == "__main__":
    sys.exit(main())
