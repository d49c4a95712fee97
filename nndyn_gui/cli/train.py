"""`nndyn train`: one run from the defaults, a preset or a file, trained in the engine's
worker process (TensorFlow never in this process), optionally saved and reported as JSON.

Ctrl+C, SIGTERM and SIGHUP stop training cleanly (the steps done so far are saved with
--out); a worker that raises or dies is exit status 1 with what was trained kept.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import math
import os
import signal
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nndyn_gui.cli.common import (
    EXIT_DIVERGED,
    EXIT_INTERRUPTED,
    EXIT_OK,
    STOP_SIGNALS,
    CliError,
    TrainingFailed,
    jsonable,
    pct,
)
from nndyn_gui.core.config import FIELDS, RunConfig
from nndyn_gui.core.io.presets import PresetError, SetError, start_config
from nndyn_gui.core.io.terminal import printable

if TYPE_CHECKING:
    from nndyn_gui.core.types import Dataset, Run, TrainResult

log = logging.getLogger(__name__)

TRAIN_EPILOG = """\
The configuration is the defaults, a preset (--preset NAME) or a file: a RunConfig JSON
({"data": ..., "model": ..., "train": ...}), a preset JSON ({"config": {...}}) or a
.nndyn run (its config). --set then changes single fields, e.g.
  nndyn train --preset resnet-w3-ring --set model.depth=20 --set train.steps=500
Stop conditions end a run early (0 = off): --set train.stop_loss=0.05 (the training
loss at most this), --set train.stop_accuracy=0.99 (training accuracy at least this),
--set train.stop_plateau=2000 (no 0.1% improvement of the loss in that many steps);
checked at every snapshot, the summary says which one stopped the run.
The run is saved only when --out is given (nothing is written otherwise); the folder
must be writable before training starts. A long run keeps at most 256 MB of snapshots,
thinned evenly over the run (a note says so up front).
Exit status: 0 finished, 1 diverged, 2 bad input, 130 interrupted (Ctrl+C, SIGTERM
(143) and SIGHUP (129) stop the training cleanly; with --out the steps done so far are
saved).
"""


def fields_help() -> str:
    """The fields --set can change, from the config's registry (range, meaning, live)."""
    lines = ["Fields for --set (live: a change reaches a run training in the window at once):"]
    for path, info in FIELDS.items():
        if info.choices is not None:
            values = "|".join(info.choices)
        elif info.range is not None:
            values = "..".join(_number(v) for v in info.range)
        else:
            values = "on|off" if info.type is bool else "text"
        live = ", live" if info.live else ""
        lines.append(f"  {path:<22} {values}{live}: {info.doc}")
    return "\n".join(lines) + "\n"


def _number(v: float) -> str:
    return f"{int(v):,}" if float(v) == int(v) else f"{v:g}"


def add_train_parser(sub: Any) -> None:
    """The `train` subcommand's arguments (on `nndyn`'s subparsers)."""
    t = sub.add_parser(
        "train",
        help="train a configuration or preset",
        description="Train a network and optionally save the run (.nndyn).",
        epilog=TRAIN_EPILOG + "\n" + fields_help(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    t.add_argument("config", nargs="?", metavar="CONFIG", help="config JSON or .nndyn file")
    t.add_argument("--preset", metavar="NAME", help="start from a preset (see 'nndyn presets')")
    t.add_argument(
        "--set",
        dest="sets",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="change one field, e.g. model.width=3 (repeatable)",
    )
    t.add_argument("--out", metavar="RUN.nndyn", help="save the run here (default: not saved)")
    t.add_argument(
        "--json",
        action="store_true",
        help="print one JSON object with metrics, diagnostics and topology on stdout",
    )
    t.add_argument("--quiet", action="store_true", help="no progress bar, no summary")


def resolve_config(
    config_path: str | None, preset: str | None, sets: Sequence[str]
) -> tuple[RunConfig, str]:
    """The config the user asked for, and a short name for it (preset or file stem)."""
    from nndyn_gui.core.io.runfile import RunFileError

    if config_path and preset:
        raise CliError("give either CONFIG or --preset, not both")
    try:
        cfg = start_config(preset=preset or None, config_file=config_path or None, sets=sets)
    except (PresetError, RunFileError) as e:
        raise CliError(str(e)) from None
    except SetError as e:
        raise CliError(f"--set {e.assignment}: {e}") from None
    label = preset or (Path(config_path).stem if config_path else "run")
    return _classes_from_csv(cfg), label


def _classes_from_csv(cfg: RunConfig) -> RunConfig:
    """A CSV file's labels fix K, as in the window (data.classes follows the file)."""
    if cfg.data.name != "csv" or not cfg.data.csv_path:
        return cfg
    from nndyn_gui.core.config import MAX_CLASSES
    from nndyn_gui.core.datasets import DataError, csv_classes

    try:
        k = csv_classes(cfg.data.csv_path)
    except (DataError, OSError, ValueError) as e:
        raise CliError(f"data: {e}") from None
    if k != cfg.data.classes:
        cfg = cfg.copy()
        cfg.data.classes = max(2, min(MAX_CLASSES, k))
    return cfg


def _make_dataset(cfg: RunConfig) -> Dataset:
    from nndyn_gui.core.datasets import DataError, make_dataset

    try:
        return make_dataset(cfg.data)
    except (DataError, OSError, ValueError) as e:
        raise CliError(f"data: {e}") from None


def check_out_path(text: str | None) -> Path | None:
    """The --out path, checked before any training: named, in a writable folder.

    A symbolic link is followed (its target gets the run, the link stays).
    """
    if text is None:
        return None
    if not text.strip():
        raise CliError("--out: the file name is empty")
    out = Path(text)
    target = Path(os.path.realpath(out)) if out.is_symlink() else out
    folder = target.parent if str(target.parent) else Path(".")
    if not folder.is_dir():
        raise CliError(f"--out {out}: the folder {folder} does not exist")
    if target.is_dir():
        raise CliError(f"--out {out}: is a folder")
    try:  # the only reliable test (read-only mounts, ACLs, root): write a file there
        fd, probe = tempfile.mkstemp(prefix=".nndyn-write-test-", dir=folder)
        os.close(fd)
        os.unlink(probe)
    except OSError as e:
        raise CliError(
            f"--out {out}: cannot write in {folder} ({e.strerror or e}); nothing was trained"
        ) from None
    return out


def train_main(args: argparse.Namespace) -> int:
    # from the first moment to the last byte saved: a stop signal ends training cleanly
    with stop_on_signals() as stop:
        return _train_and_save(args, stop)


def _train_and_save(args: argparse.Namespace, stop: _Stop) -> int:
    cfg, _label = resolve_config(args.config, args.preset, args.sets)
    out = check_out_path(args.out)
    note = thinning_note(cfg)
    if note and not args.quiet:
        print(f"nndyn: note: {note}", file=sys.stderr)
    dataset = _make_dataset(cfg)
    failure = ""
    try:
        if stop.is_set():
            raise _StoppedEarly
        result, interrupted = _run_training(cfg, dataset, quiet=args.quiet or args.json)
    except _StoppedEarly:
        print("nndyn: interrupted before training started; nothing saved", file=sys.stderr)
        return stop.exit_code
    except TrainingFailed as e:  # keep what was trained, say why, exit 1
        result, interrupted, failure = e.partial, False, str(e)

    from nndyn_gui.core.io.runfile import RunFileError, make_run, save_run

    run = make_run(cfg, dataset, result)
    if out is not None:
        try:
            save_run(run, out)
        except RunFileError as e:
            raise CliError(str(e)) from None
    if failure:
        code = EXIT_DIVERGED
    elif result.status == "finished":
        code = EXIT_OK
    elif result.status == "diverged":
        code = EXIT_DIVERGED
    else:
        code = stop.exit_code if interrupted else EXIT_OK
    if args.json:
        report = train_report(run, out)
        print(json.dumps(jsonable(report), indent=2, allow_nan=False))
    elif not args.quiet:
        _print_summary(run, out)
    if result.status == "diverged" and not args.json:
        print(f"nndyn: {printable(result.message)}", file=sys.stderr)
    if failure:
        print(f"nndyn: error: training failed: {printable(failure)}", file=sys.stderr)
    return code


def thinning_note(cfg: RunConfig) -> str:
    from nndyn_gui.core.io.limits import thinning_note as note

    return note(cfg)


class _StoppedEarly(Exception):
    """A stop signal arrived before the first step (while TensorFlow was loading)."""


class _Stop(threading.Event):
    """Set by the first stop signal; `exit_code` is 128 + that signal's number."""

    exit_code = EXIT_INTERRUPTED


_active_stop: _Stop | None = None


@contextlib.contextmanager
def stop_on_signals() -> Iterator[_Stop]:
    """Ctrl+C, SIGTERM and SIGHUP stop training cleanly (the run so far is kept).

    Installed before anything slow (TensorFlow's import, the data) so an early Ctrl+C
    never prints a traceback; a second signal aborts at once (KeyboardInterrupt).
    Re-entrant: inside an active block it yields the same event.
    """
    global _active_stop
    if _active_stop is not None:
        yield _active_stop
        return
    stop = _Stop()

    def handler(signum: int, frame: object) -> None:
        if stop.is_set():
            raise KeyboardInterrupt
        stop.exit_code = 128 + signum
        stop.set()
        name = "Ctrl+C" if signum == signal.SIGINT else signal.Signals(signum).name
        print(f"\nnndyn: {name}: stopping (Ctrl+C again to abort)...", file=sys.stderr)

    old: dict[int, Any] = {}
    if threading.current_thread() is threading.main_thread():
        for name in STOP_SIGNALS:
            sig = getattr(signal, name, None)
            if sig is not None:
                with contextlib.suppress(ValueError, OSError):
                    old[sig] = signal.signal(sig, handler)
    _active_stop = stop
    try:
        yield stop
    finally:
        _active_stop = None
        for sig, prev in old.items():
            with contextlib.suppress(ValueError, OSError):
                signal.signal(sig, prev)


def _run_training(cfg: RunConfig, dataset: Dataset, quiet: bool) -> tuple[TrainResult, bool]:
    """Train in the engine's worker with a tqdm bar on stderr; a stop signal cancels
    cleanly (the worker ignores SIGINT: this process decides), a second aborts."""
    with stop_on_signals() as cancel:
        return _train_with_bar(cfg, dataset, quiet, cancel), cancel.is_set()


def _train_with_bar(
    cfg: RunConfig, dataset: Dataset, quiet: bool, cancel: threading.Event
) -> TrainResult:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    from tqdm import tqdm

    from nndyn_gui.core.engine.session import EngineError, train
    from nndyn_gui.core.types import TrainResult

    if cancel.is_set():  # a stop signal while the worker started: do not compile for nothing
        raise _StoppedEarly
    tqdm.monitor_interval = 0  # no monitor thread: the bar is updated by hand anyway
    bar = tqdm(
        total=cfg.train.steps,
        file=sys.stderr,
        disable=quiet,
        unit="step",
        dynamic_ncols=True,
        desc="compiling",
    )
    acc = [math.nan]
    try:

        def on_snapshot(s: Any) -> None:
            acc[0] = s.train_acc
            bar.set_postfix(loss=f"{s.loss:.4f}", acc=pct(s.train_acc), refresh=False)

        def on_progress(step: int, loss: float, rate: float) -> None:
            bar.set_postfix(loss=f"{loss:.4f}", acc=pct(acc[0]), refresh=False)
            bar.update(step - bar.n)  # redraws at most every tqdm.mininterval

        result = train(
            cfg,
            dataset,
            on_snapshot=on_snapshot,
            on_progress=on_progress,
            on_compiled=lambda _s: bar.set_description("training"),
            cancel=cancel,
        )
    except EngineError as e:
        partial = e.partial or TrainResult("cancelled", [], str(e))
        raise TrainingFailed(str(e), partial) from None
    finally:
        bar.close()
    return result


def train_report(run: Run, out: Path | None) -> dict[str, Any]:
    """What `nndyn train --json` prints: metrics, status, diagnostics and topology."""
    from nndyn_gui.core.analysis import narrator

    final = run.snapshots[-1] if run.snapshots else None
    report: dict[str, Any] = {
        "status": run.status,
        "message": run.message,
        "title": narrator.run_title(run.config),
        "steps": final.step if final else 0,
        "final": None
        if final is None
        else {
            "step": final.step,
            "loss": final.loss,
            "train_acc": final.train_acc,
            "test_acc": final.test_acc,
            "elapsed": final.elapsed,
        },
        "out": str(out) if out is not None else None,
        "config": run.config.to_dict(),
        "versions": run.versions,
        "diagnostics": None,
        "topology": None,
    }
    if final is not None:
        diag, report["diagnostics"] = _diagnostics(run)
        rep, report["topology"] = _topology(run)
        # the window's words for the same numbers, from the one narrator
        if diag is not None:
            report["verdict"] = narrator.verdict(run.config, diag).text
        if rep is not None:
            trained = narrator.is_trained(final)
            report["topology_text"] = narrator.topology(run.config, diag, rep, trained).text
    if report["topology"] is None:
        from nndyn_gui.core.analysis.topology import not_applicable

        report["topology_note"] = not_applicable(run.config) or None
    return report


def _diagnostics(run: Run) -> tuple[Any, Any]:
    """(Diagnostics or None, what the JSON report shows: its dict or the error)."""
    from nndyn_gui.core.analysis.diagnostics import diagnose

    weights = run.weights
    assert weights is not None
    return _report_part("diagnostics", lambda: diagnose(run.config, weights, run.dataset))


def _topology(run: Run) -> tuple[Any, Any]:
    """(TopologyReport or None, what the JSON report shows: its scalars or the error)."""
    from nndyn_gui.core.analysis.topology import topology_report

    weights = run.weights
    assert weights is not None
    return _report_part("topology report", lambda: topology_report(run.config, weights))


def _report_part(what: str, make: Callable[[], Any]) -> tuple[Any, Any]:
    """(the part or None, its `to_dict()`, or the error the JSON report shows instead)."""
    try:
        part = make()
    except Exception as e:  # a report must not lose the finished training
        log.warning("%s failed: %s", what, e, exc_info=True)
        return None, {"error": f"{type(e).__name__}: {e}"}
    return part, None if part is None else part.to_dict()


def _print_summary(run: Run, out: Path | None) -> None:
    if run.snapshots:
        s = run.snapshots[-1]
        print(
            f"{run.status}: step {s.step}, loss {s.loss:.4g}, train acc {pct(s.train_acc)}, "
            f"test acc {pct(s.test_acc)} ({s.elapsed:.1f} s)"
        )
        if run.status == "finished" and run.message.startswith("Stopped"):
            print(printable(run.message))  # which stop condition ended it
    if out is not None:
        print(f"saved {out}")
