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
import json
import logging
import os
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from nndyn_gui import __version__
from nndyn_gui.cli.common import (
    EXIT_BAD_INPUT,
    EXIT_INTERRUPTED,
    EXIT_OK,
    CliError,
    Parser,
    fail,
    jsonable,
    pct,
)
from nndyn_gui.cli.train import add_train_parser, train_main
from nndyn_gui.cli.verify import add_verify_parser, verify_main
from nndyn_gui.core.config import RunConfig, field_info
from nndyn_gui.core.io import blas, logs
from nndyn_gui.core.io.presets import (
    list_presets,
)
from nndyn_gui.core.io.terminal import printable

if TYPE_CHECKING:
    from nndyn_gui.core.types import Run

log = logging.getLogger(__name__)


def build_parser() -> argparse.ArgumentParser:
    p = Parser(
        prog="nndyn",
        description="Watch a neural network move 2-D data, layer by layer (command line).",
    )
    p.add_argument("--version", action="version", version=f"nndyn {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)

    add_train_parser(sub)

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
    add_verify_parser(sub)
    from nndyn_gui.cli import sweep as sweep_cli

    sweep_cli.add_parsers(sub)
    return p


# ---------------------------------------------------------------------- entry point
def main(argv: Sequence[str] | None = None) -> int:
    """Run the command; return the exit status (never raises for bad input)."""
    logs.setup("nndyn")
    blas.one_thread()
    args_list = list(sys.argv[1:] if argv is None else argv)
    if argv is None:  # a real command line: numpy's RuntimeWarnings are internals
        import warnings

        warnings.simplefilter("ignore", RuntimeWarning)
    try:
        if args_list and args_list[0] == "render":
            return _render(args_list[1:])
        args = build_parser().parse_args(args_list)
        if args.command == "train":
            return train_main(args)
        if args.command == "presets":
            return _presets()
        if args.command == "info":
            return _info(args)
        if args.command == "verify":
            return verify_main(args)
        if args.command in ("sweep", "sweep-plot"):
            from nndyn_gui.cli import sweep as sweep_cli

            run = sweep_cli.sweep_main if args.command == "sweep" else sweep_cli.plot_main
            return run(args, CliError)
        build_parser().print_help(sys.stderr)
        return EXIT_BAD_INPUT
    except CliError as e:
        return fail(str(e))
    except KeyboardInterrupt:  # a second Ctrl+C, or one before anything could be saved
        print("\nnndyn: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:  # `nndyn presets | head`: stop quietly, like other tools
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_OK


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
        print(json.dumps(jsonable(summary), indent=2))
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
            f"train acc {pct(final['train_acc'])}, test acc {pct(final['test_acc'])}, "
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


# ---------------------------------------------------------------------- render
def _render(argv: list[str]) -> int:
    try:
        from nndyn_gui.cli.render import render_main
    except ImportError as e:
        return fail(f"rendering is not available in this installation ({e})")
    return int(render_main(argv))


if __name__ == "__main__":
    sys.exit(main())
