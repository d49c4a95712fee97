"""`nndyn sweep` and `nndyn sweep-plot`: hundreds of runs, then their phase diagram.

Kept apart from cli/commands.py (which only registers the two subcommands) because a sweep has
its own life: it counts and checks its runs before anything starts, runs for hours,
resumes, and must survive a failing run. Exit status of `sweep`: 0 every run has a
row (finished or diverged: both are results), 1 some runs failed (run the same command
again to retry them), 2 bad input (before anything starts), 130 interrupted (the runs
done are kept; the same command resumes).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sys
import threading
from pathlib import Path
from typing import Any

EXIT_OK, EXIT_FAILED_RUNS, EXIT_BAD_INPUT, EXIT_INTERRUPTED = 0, 1, 2, 130

SWEEP_EPILOG = """\
SPEC is a TOML (or JSON) file:

  preset = "resnet-w3-ring"           # or config = "base.json" (RunConfig, preset or .nndyn)
  set = ["train.steps=3000"]          # fixed changes (--set syntax)
  seeds = 3                           # train.seed = base seed + 0, 1, 2 (or a list)
  [sweep]                             # every combination of these runs
  "model.width" = [2, 3]
  "model.depth" = "5,10,20,50,100"    # comma list, or start:stop:step (stop included)
  "model.h" = {start = 0.01, stop = 1, num = 5, log = true}

DIR gets results.csv / results.json (one row per run: the swept values, status,
steps, train/test/dense accuracy, winding, wrong-side share, max h|A|Lip, transport,
folds, seconds), runs.jsonl (the journal), and runs/*.nndyn (open them in the app).
Running the same command again resumes: finished runs are skipped. With --scheduler
the runs go to a Dask cluster (e.g. 'dask scheduler' and 'dask worker ADDRESS
--nthreads 1' on machines with nndyn installed).
Exit status: 0 every run has a result, 1 some runs failed (rerun to retry them),
2 bad input, 130 interrupted (the same command resumes).
"""

PLOT_EPILOG = """\
A cell is every finished run with that (x, y): all seeds, and all values of the other
swept fields unless --where fixes them. The cell shows the aggregate and n (runs
counted). Metrics: any numeric column of results.csv (dense_accuracy, winding,
wrong_side_share, max_lip_product, transport, folds, train_acc, test_acc, seconds, ...).
"""


def add_parsers(sub: Any) -> None:
    """Register `sweep` and `sweep-plot` on cli/commands.py's subparsers."""
    s = sub.add_parser(
        "sweep",
        help="train every combination of a spec's settings and seeds (resumable)",
        description="Run a sweep: many trainings on a process pool or a Dask cluster.",
        epilog=SWEEP_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    s.add_argument("spec", metavar="SPEC", help="sweep spec (.toml or .json)")
    s.add_argument("--out", required=True, metavar="DIR", help="results folder")
    s.add_argument(
        "--workers",
        type=int,
        default=None,
        metavar="N",
        help="local worker processes (default: one per core; 0 = in this process)",
    )
    s.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="run on a Dask distributed cluster, e.g. tcp://10.0.0.5:8786",
    )
    s.add_argument(
        "--max-runs",
        type=int,
        default=None,
        metavar="N",
        help="refuse specs of more runs than this (default 10,000)",
    )
    s.add_argument("--dry-run", action="store_true", help="check the spec, print the runs, stop")
    s.add_argument("--quiet", action="store_true", help="no progress bar")

    p = sub.add_parser(
        "sweep-plot",
        help="draw a sweep's heatmap (PNG / SVG / PDF)",
        description="Draw a metric of a sweep over two swept fields.",
        epilog=PLOT_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("dir", metavar="DIR", help="a 'nndyn sweep --out' folder")
    p.add_argument("--x", required=True, metavar="FIELD", help="swept field across")
    p.add_argument("--y", required=True, metavar="FIELD", help="swept field up")
    p.add_argument("--metric", default="dense_accuracy", help="column to show")
    p.add_argument("--agg", default="mean", help="mean | min | max | median over a cell's runs")
    p.add_argument(
        "--where",
        action="append",
        default=[],
        metavar="FIELD=VALUE",
        help="only runs with this value of another swept field (repeatable)",
    )
    p.add_argument(
        "--out", metavar="FILE", help="picture (.png .svg .pdf; default DIR/heatmap-METRIC.png)"
    )
    p.add_argument("--size", default="1000x700", help="WIDTHxHEIGHT in pixels")
    p.add_argument(
        "--colours",
        choices=("absolute", "range"),
        default="absolute",
        help="absolute: accuracies and other shares on a fixed 0-100%% scale (default); "
        "range: from the lowest to the highest cell",
    )


# ---------------------------------------------------------------------- sweep
_SIGNAL_NAMES: dict[int, str] = {signal.SIGINT: "Ctrl+C"}
if hasattr(signal, "SIGHUP"):
    _SIGNAL_NAMES[signal.SIGTERM] = "SIGTERM"
    _SIGNAL_NAMES[signal.SIGHUP] = "SIGHUP"


class _Stopped(BaseException):  # like KeyboardInterrupt: no `except Exception` stops it
    """SIGTERM / SIGHUP outside the run loop (while the spec, folder or cluster is read)."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def _stop_early(signum: int, frame: object) -> None:
    raise _Stopped(signum)


def sweep_main(args: argparse.Namespace, fail: type[Exception]) -> int:
    """`nndyn sweep`; bad input raises `fail` (cli.CliError: one line, exit 2).

    SIGTERM and SIGHUP stop it as Ctrl+C does, at any moment: before the runs start with
    a message and 128 + the signal; while they run, see _run_with_bar."""
    in_main = threading.current_thread() is threading.main_thread()
    early = [s for s in _SIGNAL_NAMES if s != signal.SIGINT] if in_main else []
    old = {s: signal.signal(s, _stop_early) for s in early}
    try:
        return _sweep_main(args, fail)
    except _Stopped as e:
        with contextlib.suppress(OSError):
            print(
                f"nndyn: {_SIGNAL_NAMES.get(e.signum, e.signum)}: stopped; run the same "
                "command again to resume",
                file=sys.stderr,
            )
        return 128 + e.signum
    finally:
        for s, h in old.items():
            signal.signal(s, h)


def _sweep_main(args: argparse.Namespace, fail: type[Exception]) -> int:
    from nndyn_gui.core.sweep.backends import SweepError, make_backend
    from nndyn_gui.core.sweep.runner import Sweep
    from nndyn_gui.core.sweep.spec import MAX_RUNS, SweepSpecError, load_spec

    if not str(args.out).strip():
        raise fail("--out: the folder name is empty")
    if args.workers is not None and args.workers < 0:
        raise fail("--workers must be 0 or more")
    if args.scheduler and args.workers is not None:
        raise fail("give either --workers (local) or --scheduler (Dask), not both")
    if args.scheduler:
        from nndyn_gui.core.sweep.backends import check_scheduler_address

        try:  # before anything starts: tls://, ucx://, a URL with a path
            check_scheduler_address(args.scheduler)
        except SweepError as e:
            raise fail(str(e)) from None
    max_runs = MAX_RUNS if args.max_runs is None else args.max_runs
    if max_runs < 1:
        raise fail("--max-runs must be at least 1")
    try:
        spec = load_spec(args.spec, max_runs=max_runs)
    except SweepSpecError as e:
        raise fail(str(e)) from None
    _say(f"sweep: {spec.describe()}", args.quiet and not args.dry_run)
    if args.dry_run:
        # one line at a time, no config built: every value passed --set's checks already,
        # and a million runs list in seconds and constant memory
        out = sys.stdout
        for i, combo in enumerate(spec.combos()):
            out.write(f"{i:>5}  " + "  ".join(f"{f}={v}" for f, v in combo) + "\n")
        out.flush()
        return EXIT_OK
    try:
        sweep = Sweep(spec, args.out)
    except (SweepError, SweepSpecError) as e:
        raise fail(str(e)) from None
    with sweep:
        done = len(sweep.jobs) - len(sweep.todo)
        if not sweep.todo:
            _say(
                f"sweep: all {len(sweep.jobs)} runs are done already; results in {args.out}",
                args.quiet,
            )
            return EXIT_OK  # failed runs are never "done": they would be in todo
        try:
            backend = make_backend(args.workers, args.scheduler)
        except SweepError as e:
            raise fail(str(e)) from None
        resumed = f"{done} done already, " if done else ""
        _say(f"sweep: {resumed}{len(sweep.todo)} to run on {backend.describe()}", args.quiet)
        try:
            report, stopped_by = _run_with_bar(sweep, backend, args.quiet)
        except OSError as e:  # the results folder became unwritable (disk full, ...)
            raise fail(f"{args.out}: cannot write the results ({e.strerror or e})") from None
        except SweepError as e:  # the cluster went away: the finished runs are kept
            kept = len(sweep.ordered_rows())
            _say(f"nndyn: error: {e}", False)
            _say(f"sweep: {kept} of {len(sweep.jobs)} runs have a row, kept in {args.out}", False)
            return EXIT_FAILED_RUNS
    rows = sweep.ordered_rows()
    counts: dict[str, int] = {}
    for r in rows:
        counts[str(r.get("status"))] = counts.get(str(r.get("status")), 0) + 1
    summary = ", ".join(f"{n} {s}" for s, n in sorted(counts.items()))
    _say(
        f"sweep: {len(rows)} of {len(sweep.jobs)} runs have a row ({summary}) in "
        f"{report.seconds:.0f} s; results in {Path(args.out) / 'results.csv'}",
        args.quiet,
    )
    if stopped_by or report.cancelled:
        _say("sweep: interrupted; run the same command again to resume", False)
        # like `nndyn train`: 128 + the signal (130 Ctrl+C, 143 SIGTERM, 129 SIGHUP)
        return 128 + stopped_by if stopped_by else EXIT_INTERRUPTED
    if report.failed or counts.get("failed"):
        _say(
            f"sweep: {counts.get('failed', 0)} runs failed (see the message column); "
            "run the same command again to retry them",
            False,
        )
        return EXIT_FAILED_RUNS
    return EXIT_OK


def _say(text: str, quiet: bool) -> None:
    if not quiet:
        print(text, file=sys.stderr, flush=True)


def _run_with_bar(sweep: Any, backend: Any, quiet: bool) -> tuple[Any, int]:
    """Run with a tqdm bar (runs, rate, ETA): (report, the signal that stopped it or 0).

    Ctrl+C, SIGTERM and SIGHUP all stop the same way: the first lets the runs in flight
    finish (their rows are journaled), the second abandons them."""
    from tqdm import tqdm

    cancel = threading.Event()
    stopped_by = [0]

    def on_signal(signum: int, frame: object) -> None:
        name = _SIGNAL_NAMES.get(signum, f"signal {signum}")
        if cancel.is_set():
            raise KeyboardInterrupt
        stopped_by[0] = signum
        cancel.set()
        again = "Ctrl+C again" if signum == signal.SIGINT else "send it again"
        with contextlib.suppress(OSError):  # SIGHUP: the terminal may be gone
            print(
                f"\nnndyn: {'' if signum == signal.SIGINT else name + ': '}stopping after the "
                f"runs in flight ({again} to abandon them)...",
                file=sys.stderr,
                flush=True,
            )

    in_main = threading.current_thread() is threading.main_thread()
    old = {s: signal.signal(s, on_signal) for s in _SIGNAL_NAMES} if in_main else {}
    bar = tqdm(
        total=len(sweep.todo),
        file=sys.stderr,
        disable=quiet,
        unit="run",
        dynamic_ncols=True,
        desc="sweep",
        smoothing=0.1,
    )

    def on_progress(p: Any) -> None:
        with contextlib.suppress(OSError):  # a closed terminal must not stop the sweep
            bar.set_postfix({k: v for k, v in sorted(p.counts.items())}, refresh=False)
            bar.update(p.done - bar.n)

    try:
        report = sweep.run(backend, on_progress=on_progress, cancel=cancel)
    except KeyboardInterrupt:
        bar.close()
        with contextlib.suppress(OSError):
            print(
                "nndyn: abandoned the runs in flight; the finished ones are kept", file=sys.stderr
            )
        from nndyn_gui.core.sweep.runner import SweepReport

        report = SweepReport(total=len(sweep.jobs), skipped=0, cancelled=True)
        return report, stopped_by[0] or int(signal.SIGINT)
    finally:
        bar.close()
        for s, h in old.items():
            signal.signal(s, h)
    return report, stopped_by[0]


# ---------------------------------------------------------------------- sweep-plot
def plot_main(args: argparse.Namespace, fail: type[Exception]) -> int:
    """`nndyn sweep-plot`: the heatmap, headless."""
    from nndyn_gui.core.sweep.results import (
        SweepResultsError,
        heatmap,
        load_results,
        parse_where,
    )

    try:
        width, height = (int(v) for v in str(args.size).lower().split("x"))
    except ValueError:
        raise fail(f"--size {args.size}: expected WIDTHxHEIGHT, e.g. 1000x700") from None
    if not (200 <= width <= 8000 and 150 <= height <= 8000):
        raise fail(f"--size {args.size}: between 200x150 and 8000x8000")
    try:
        results = load_results(args.dir)
        hm = heatmap(
            results, args.x, args.y, args.metric, args.agg, parse_where(results, args.where)
        )
    except SweepResultsError as e:
        raise fail(str(e)) from None
    out = Path(args.out) if args.out else Path(args.dir) / f"heatmap-{args.metric}.png"
    if out.suffix.lower() not in (".png", ".jpg", ".jpeg", ".svg", ".pdf"):
        raise fail(f"--out {out}: use .png, .svg or .pdf")
    if not out.parent.is_dir():
        raise fail(f"--out {out}: the folder {out.parent} does not exist")
    _qt_app()
    from nndyn_gui.render.heatmap import write_heatmap

    try:
        write_heatmap(out, hm, width, height, scale=args.colours)
    except (OSError, ValueError) as e:
        raise fail(str(e)) from None
    if results.n_skipped:
        print(f"nndyn: note: {results.skipped_note()}", file=sys.stderr)
    counted = int(hm.counts.sum())
    print(
        f"wrote {out} ({len(hm.x_values)} x {len(hm.y_values)} cells, {counted} runs counted "
        f"of {len(results.rows)})",
        file=sys.stderr,
    )
    return EXIT_OK


def _qt_app() -> Any:
    """A QGuiApplication (fonts need one), offscreen when there is no display."""
    if "QT_QPA_PLATFORM" not in os.environ and not (
        os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY") or sys.platform != "linux"
    ):
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
    from PySide6.QtGui import QGuiApplication

    app = QGuiApplication.instance()
    if app is None:
        app = QGuiApplication([sys.argv[0] if sys.argv else "nndyn"])
    return app
