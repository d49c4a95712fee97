"""The `nndyn` command: train, list presets, inspect run files, render.

Designed for scripts and batch jobs: progress goes to stderr, results (with `--json`) to
stdout, and every mistake in the input is one line `nndyn: error: ...` with exit status
2, never a traceback. TensorFlow is never imported here: `train` runs it in the
engine's worker process (core/engine/session.py), so `nndyn presets` and `nndyn info` answer at
once.

Exit status: 0 success; 1 training diverged or failed (the worker raised or died; the
last finite snapshot is still saved with --out); 2 bad input (unknown preset, bad config
/ --set, unreadable file, cannot save, a limit of core.io.limits exceeded); 130 interrupted
with Ctrl+C, 143 with SIGTERM, 129 with SIGHUP (all three stop training cleanly and save
the steps done so far with --out). Text from files (titles, messages) is printed with
control characters escaped.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
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
from typing import TYPE_CHECKING, Any, NoReturn

from nndyn_gui import __version__
from nndyn_gui.core.config import FIELDS, RunConfig, field_info
from nndyn_gui.core.io import logs
from nndyn_gui.core.io.presets import (
    PresetError,
    SetError,
    list_presets,
    start_config,
)
from nndyn_gui.core.io.terminal import printable

if TYPE_CHECKING:
    from nndyn_gui.core.types import Dataset, Run, TrainResult

log = logging.getLogger(__name__)

EXIT_OK = 0
EXIT_DIVERGED = 1
EXIT_BAD_INPUT = 2
EXIT_INTERRUPTED = 130
# Signals that stop `train` like Ctrl+C: a timeout, a batch scheduler, a closed ssh session.
STOP_SIGNALS = ("SIGINT", "SIGTERM", "SIGHUP")


class CliError(Exception):
    """Bad input: printed as one line `nndyn: error: ...`, exit status 2."""


class TrainingFailed(Exception):
    """The worker raised or died: exit status 1; `partial` holds what was trained."""

    def __init__(self, message: str, partial: TrainResult) -> None:
        super().__init__(message)
        self.partial = partial


class _Parser(argparse.ArgumentParser):
    """argparse, but usage mistakes are one line like every other error."""

    def error(self, message: str) -> NoReturn:
        raise CliError(f"{message} (see '{self.prog} --help')")


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


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog="nndyn",
        description="Watch a neural network move 2-D data, layer by layer (command line).",
    )
    p.add_argument("--version", action="version", version=f"nndyn {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

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

    sub.add_parser(
        "presets", help="list the presets", description="List preset names and descriptions."
    )

    i = sub.add_parser("info", help="summarise a .nndyn run file", description="Summarise a run.")
    i.add_argument("run", metavar="RUN.nndyn")
    i.add_argument("--json", action="store_true", help="print the summary as JSON")

    sub.add_parser(
        "render",
        help="render a run to images / video (see 'nndyn render --help')",
        add_help=False,
    )
    _add_verify_parser(sub)
    from nndyn_gui.cli import sweep as sweep_cli

    sweep_cli.add_parsers(sub)
    return p


# ---------------------------------------------------------------------- entry point
def main(argv: Sequence[str] | None = None) -> int:
    """Run the command; return the exit status (never raises for bad input)."""
    logs.setup("nndyn")
    args_list = list(sys.argv[1:] if argv is None else argv)
    if argv is None:  # a real command line: numpy's RuntimeWarnings are internals
        import warnings

        warnings.simplefilter("ignore", RuntimeWarning)
    try:
        if args_list and args_list[0] == "render":
            return _render(args_list[1:])
        args = build_parser().parse_args(args_list)
        if args.command == "train":
            return _train(args)
        if args.command == "presets":
            return _presets()
        if args.command == "info":
            return _info(args)
        if args.command == "verify":
            return _verify(args)
        if args.command in ("sweep", "sweep-plot"):
            from nndyn_gui.cli import sweep as sweep_cli

            run = sweep_cli.sweep_main if args.command == "sweep" else sweep_cli.plot_main
            return run(args, CliError)
        build_parser().print_help(sys.stderr)
        return EXIT_BAD_INPUT
    except CliError as e:
        return _fail(str(e))
    except KeyboardInterrupt:  # a second Ctrl+C, or one before anything could be saved
        print("\nnndyn: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:  # `nndyn presets | head`: stop quietly, like other tools
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_OK


def _fail(message: str) -> int:
    first = message.strip().splitlines()[0] if message.strip() else "failed"
    print(f"nndyn: error: {printable(first)}", file=sys.stderr)
    return EXIT_BAD_INPUT


# ---------------------------------------------------------------------- presets / info
def _presets() -> int:
    infos = list_presets()
    width = max((len(p.name) for p in infos), default=0)
    for p in infos:
        print(f"{p.name:<{width}}  {p.description}")
    return EXIT_OK


def _info(args: argparse.Namespace) -> int:
    from nndyn_gui.core.io.runfile import RunFileError, load_run

    try:
        run = load_run(args.run)
    except RunFileError as e:
        raise CliError(str(e)) from None
    summary = run_summary(run)
    if args.json:
        print(json.dumps(_jsonable(summary), indent=2))
        return EXIT_OK
    final = summary["final"]
    lines = [
        f"run:       {args.run}",
        f"title:     {summary['title']}",
    ]
    if summary["edited"]:
        lines.append(f"edited:    from preset {summary['preset']}: {summary['edited']}")
    lines += [
        f"model:     {summary['model']}",
        f"data:      {summary['data']}",
        f"training:  {summary['training']}",
        f"status:    {run.status}" + (f" ({run.message})" if run.message else ""),
        f"snapshots: {summary['n_snapshots']}",
    ]
    lines = [printable(line) for line in lines]
    if final is not None:
        lines.append(
            f"final:     step {final['step']}, loss {final['loss']:.4g}, "
            f"train acc {_pct(final['train_acc'])}, test acc {_pct(final['test_acc'])}, "
            f"{final['elapsed']:.1f} s"
        )
    versions = ", ".join(f"{k} {v}" for k, v in sorted(run.versions.items()))
    lines.append(printable("versions:  " + versions))
    print("\n".join(lines))
    return EXIT_OK


def describe_config(cfg: RunConfig, n_points: int | None = None) -> dict[str, str]:
    """One-line summaries of model, data and training, for `info` and the UI.

    `n_points`: how many points the data really has (a CSV of 900 rows with data.n =
    1000 has 900); without it, data.n.
    """
    m, d, t = cfg.model, cfg.data, cfg.train
    model = f"{m.kind}, width {m.width}, depth {m.depth}, {m.activation}"
    if field_info("model.h").applies(cfg):
        model += f", h {m.h:g}"
    if m.tied:
        model += ", tied"
    if m.keep_invertible:
        model += f", kept invertible (bound {m.invertible_bound:g})"
    n = d.n if n_points is None else n_points
    data = f"{d.name}, n {n}, noise {d.noise:g}, test share {d.test_fraction:g}, seed {d.seed}"
    if d.classes != 2:
        data += f", {d.classes} classes"
    if d.name == "csv":
        data += f", file {d.csv_path}"
    batch = "full batch" if t.batch_size == 0 else f"batch {t.batch_size}"
    training = f"{t.optimizer} lr {t.learning_rate:g}, {batch}, {t.steps} steps, seed {t.seed}"
    if t.weight_decay:
        training += f", weight decay {t.weight_decay:g}"
    if t.transport:
        training += f", transport {t.transport:g}"
    stops = []
    if t.stop_loss:
        stops.append(f"loss <= {t.stop_loss:g}")
    if t.stop_accuracy:
        stops.append(f"accuracy >= {100 * t.stop_accuracy:g}%")
    if t.stop_plateau:
        stops.append(f"no progress for {t.stop_plateau} steps")
    if stops:
        training += ", stop at " + " or ".join(stops)
    return {"model": model, "data": data, "training": training}


def run_summary(run: Run) -> dict[str, Any]:
    """Plain-data summary of a run (what `nndyn info --json` prints)."""
    final = None
    if run.snapshots:
        s = run.snapshots[-1]
        final = {
            "step": s.step,
            "loss": s.loss,
            "train_acc": s.train_acc,
            "test_acc": s.test_acc,
            "elapsed": s.elapsed,
        }
    from nndyn_gui.core.analysis import narrator

    n_points = int(run.dataset.x_train.shape[0] + run.dataset.x_test.shape[0])
    return {
        "title": narrator.run_title(run.config),
        "preset": narrator.preset_name(run.config) or None,
        "edited": narrator.edit_summary(run.config) or None,
        **describe_config(run.config, n_points),
        "status": run.status,
        "message": run.message,
        "n_snapshots": len(run.snapshots),
        "final": final,
        "n_train": int(run.dataset.x_train.shape[0]),
        "n_test": int(run.dataset.x_test.shape[0]),
        "versions": run.versions,
        "config": run.config.to_dict(),
    }


def _pct(v: float) -> str:
    return "n/a" if not math.isfinite(v) else f"{100 * v:.1f}%"


# ---------------------------------------------------------------------- render
def _render(argv: list[str]) -> int:
    try:
        from nndyn_gui.cli.render import render_main
    except ImportError as e:
        return _fail(f"rendering is not available in this installation ({e})")
    return int(render_main(argv))


# ---------------------------------------------------------------------- train
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


def _train(args: argparse.Namespace) -> int:
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
        print(json.dumps(_jsonable(report), indent=2, allow_nan=False))
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
            bar.set_postfix(loss=f"{s.loss:.4f}", acc=_pct(s.train_acc), refresh=False)

        def on_progress(step: int, loss: float, rate: float) -> None:
            bar.set_postfix(loss=f"{loss:.4f}", acc=_pct(acc[0]), refresh=False)
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


def _jsonable(obj: Any) -> Any:
    """Numpy scalars/arrays to lists, non-finite floats to None (strict JSON)."""
    import numpy as np

    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return _jsonable(obj.tolist())
    if isinstance(obj, np.bool_):
        return bool(obj)
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, float | np.floating):
        f = float(obj)
        return f if math.isfinite(f) else None
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return _jsonable(dataclasses.asdict(obj))
    return obj


def _print_summary(run: Run, out: Path | None) -> None:
    if run.snapshots:
        s = run.snapshots[-1]
        print(
            f"{run.status}: step {s.step}, loss {s.loss:.4g}, train acc {_pct(s.train_acc)}, "
            f"test acc {_pct(s.test_acc)} ({s.elapsed:.1f} s)"
        )
        if run.status == "finished" and run.message.startswith("Stopped"):
            print(printable(run.message))  # which stop condition ended it
    if out is not None:
        print(f"saved {out}")


# ---------------------------------------------------------------------- verify
VERIFY_EPILOG = """\
Each preset carries the claims its description makes as predicates ("claims" in its
JSON, see nndyn_gui/core/analysis/claims.py). verify trains the preset (and the twins a claim
compares with) once per seed offset: train.seed = the preset's seed + offset; a run
that is the same for two presets or two offsets (a twin that is another preset, init-a
at offset s = resnet-w3-ring at s + 1) is trained once. It prints one row per claim with
the value measured for each seed, a ✗ where it fails, and exit status 0 only if every
claim holds (1 otherwise, 2 for bad input): on every seed, or, for a claim that names a
share of the seeds ("on at least half of the seeds"), on that share. The claims were
written over offsets 0-7 (the default); check them on others, e.g. --seeds 1000-1007.
"""


#: = core.analysis.claims.DEFAULT_SEEDS (not imported here: that module loads numpy and the core)
DEFAULT_VERIFY_SEEDS = tuple(range(8))


def _add_verify_parser(sub: Any) -> None:
    v = sub.add_parser(
        "verify",
        help="train the presets and check the claims their descriptions make",
        description="Check every preset's claims over several seeds.",
        epilog=VERIFY_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    v.add_argument(
        "--preset",
        dest="presets",
        action="append",
        default=[],
        metavar="NAME",
        help="only this preset (repeatable; default: all)",
    )
    v.add_argument(
        "--seeds",
        default=",".join(map(str, DEFAULT_VERIFY_SEEDS)),
        metavar="S,S,...",
        help="seed offsets (default 0,...,7; a range like 40-47 also works)",
    )
    v.add_argument("--jobs", type=int, default=1, metavar="N", help="processes (default 1)")
    out = v.add_mutually_exclusive_group()
    out.add_argument("--json", action="store_true", help="print the results as JSON")
    out.add_argument("--markdown", action="store_true", help="print a Markdown table")


def _verify_seeds(text: str) -> list[int]:
    """'0,1,2' or '40-47' (or both: '0-3,9') as a list of distinct offsets, in order."""
    seeds: list[int] = []
    try:
        for part in (p.strip() for p in text.split(",")):
            if not part:
                continue
            lo, dash, hi = part.partition("-")
            span = range(int(lo), int(hi) + 1) if dash else [int(part)]
            seeds.extend(s for s in span if s not in seeds)
    except ValueError:
        raise CliError(f"--seeds {text}: expected integers like 0,1,2 or 40-47") from None
    if not seeds or min(seeds) < 0:
        raise CliError(f"--seeds {text}: expected non-negative integers like 0,1,2 or 40-47")
    return seeds


def _verify(args: argparse.Namespace) -> int:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    from nndyn_gui.core.analysis.claims import ClaimError, format_markdown, format_text, verify

    seeds = _verify_seeds(str(args.seeds))
    if args.jobs < 1:
        raise CliError("--jobs must be at least 1")
    names = [p.name for p in list_presets()]
    for name in args.presets:
        if name not in names:
            raise CliError(f"unknown preset {name!r}; available: {', '.join(names)}")

    def progress(label: str, done: int, total: int) -> None:
        print(f"nndyn: trained {label} ({done}/{total})", file=sys.stderr)

    try:
        results = verify(args.presets or None, seeds, jobs=args.jobs, on_done=progress)
    except ClaimError as e:
        raise CliError(str(e)) from None
    ok = all(r.all_hold for r in results)
    if args.json:
        doc = {"seeds": seeds, "all_hold": ok, "claims": [r.to_dict() for r in results]}
        print(json.dumps(doc, indent=2, allow_nan=False))
    elif args.markdown:
        print(format_markdown(results))
    else:
        print(format_text(results))
        failed = sum(not r.all_hold for r in results)
        print(
            f"\n{len(results) - failed} of {len(results)} claims hold (on every seed, or on "
            "the share of the seeds the claim names)."
        )
    return EXIT_OK if ok else EXIT_DIVERGED


if __name__ == "__main__":
    sys.exit(main())
