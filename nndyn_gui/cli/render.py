"""`nndyn render`: a run file (or a preset, trained first) to PNG / MP4 / GIF / SVG / PDF,
or (`--kind html`) to one self-contained interactive web page (render/web, no Qt).

Why it looks like this:
- It must work on a headless server: 2-D content uses Qt's offscreen platform when there
  is no display (the env var must be set before the QApplication exists); 3-D content
  needs OpenGL on an X server, so without one it says how to get one (xvfb-run) and
  falls back to the 2-D projection instead of failing.
- Exit codes a script can act on: 0 ok, 2 bad input (one line "nndyn render: error:
  ..."), 1 the export itself failed, 130 Ctrl+C (the partial file is removed).
- `--preset` trains first, in the engine's worker process (core/engine/session.py): TensorFlow
  never loads here, so it cannot meet the OpenGL driver's LLVM (Mesa's llvmpipe) that
  the 3-D views load into this process.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any, NoReturn

from nndyn_gui.render import export_spec as spec

PROG = "nndyn render"
HTML_KIND = "html"
EXIT_OK, EXIT_FAIL, EXIT_USAGE, EXIT_INTERRUPT = 0, 1, 2, 130
XVFB_HINT = (
    "no X display for the 3-D (OpenGL) view; run under an X server, e.g. "
    "'xvfb-run -a nndyn render ...'. Falling back to the 2-D projection."
)


class _UsageError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    """argparse that raises instead of printing usage and exiting (one-line errors)."""

    def error(self, message: str) -> NoReturn:
        raise _UsageError(message)


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog=PROG,
        description="Render a run (or a preset, trained first) to an image or a video.",
    )
    p.add_argument("run", nargs="?", help="a .nndyn run file")
    p.add_argument("--preset", help="train this preset first instead of reading a run file")
    p.add_argument(
        "--set",
        dest="sets",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="change a preset's config, e.g. --set model.depth=20 (with --preset)",
    )
    p.add_argument(
        "--out",
        "-o",
        default=None,
        help="output file: .mp4 .gif .png .svg .pdf, .html with --kind html (default: "
        "TITLE-KIND-N.mp4 here, the first N that is free)",
    )
    kinds = "; ".join(f"{c.key}: {c.help}" for c in spec.CONTENTS)
    kinds += (
        f"; {HTML_KIND}: one interactive web page that opens offline (layer and snapshot sliders)"
    )
    p.add_argument(
        "--kind",
        choices=(*spec.CONTENT_KEYS, HTML_KIND),
        default=spec.DEFAULT_CONTENT,
        help=f"what to show ({kinds})",
    )
    p.add_argument(
        "--size",
        default=f"{spec.DEFAULT_WIDTH}x{spec.DEFAULT_HEIGHT}",
        help="WIDTHxHEIGHT in pixels; points, lines and text grow with it",
    )
    for n in spec.NUMBERS:
        p.add_argument(
            n.flag,
            dest=n.field,
            type=int if n.integer else float,
            default=n.default,
            help=f"{n.help} ({spec.fmt_number(n.lo)}..{spec.fmt_number(n.hi)}, "
            f"default {spec.fmt_number(n.default)})",
        )
    p.add_argument("--background", choices=spec.BACKGROUND_KEYS, default=spec.DEFAULT_BACKGROUND)
    p.add_argument("--title", default=None, help="title drawn on top (default: the run's)")
    p.add_argument("--caption", default="", help="caption drawn at the bottom")
    p.add_argument(
        "--legend",
        action=argparse.BooleanOptionalAction,
        default=spec.DEFAULT_LEGEND,
        help="the class colours, named, in the corner that hides the fewest points",
    )
    p.add_argument(
        "--camera",
        default=None,
        metavar="AZ,EL[,ZOOM]",
        help="3-D camera: azimuth and elevation in degrees, zoom (default: facing the plane)",
    )
    p.add_argument(
        "--layers", default=None, help="comma-separated layers, e.g. 0,10,51 (sheet; stills)"
    )
    p.add_argument(
        "--with",
        dest="with_run",
        default=None,
        metavar="RUN",
        help="the second run of --kind compare (drawn right of the first)",
    )
    p.add_argument("--no-3d", action="store_true", help="always use the 2-D view")
    p.add_argument(
        "--field",
        action="store_true",
        help="draw the velocity field of each block (and a tied net's fixed points)",
    )
    p.add_argument(
        "--density",
        action="store_true",
        help="draw each class's density of ~50,000 fresh points of the data's distribution "
        "carried through the layers (not just the training sample)",
    )
    p.add_argument(
        "--costate",
        action="store_true",
        help="draw the costate p_t = -dloss/dx_t (the adjoint) as arrows at a spread subset "
        "of the training points, scaled per layer (the factor in the caption)",
    )
    _add_html_arguments(p)
    p.add_argument("--force", action="store_true", help="overwrite an existing file")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress bar")
    return p


def _add_html_arguments(p: argparse.ArgumentParser) -> None:
    """--kind html's thinning: fewer layers, snapshots or points make a smaller page."""
    from nndyn_gui.render.web import flowdata as web

    g = p.add_argument_group("--kind html (a web page)")
    g.add_argument(
        "--keep-snapshots",
        type=int,
        default=web.DEFAULT_SNAPSHOTS,
        metavar="N",
        help=f"at most N snapshots, evenly over training (0: all; default {web.DEFAULT_SNAPSHOTS})",
    )
    g.add_argument(
        "--keep-layers", type=int, default=0, metavar="N", help="at most N layers (0: all, default)"
    )
    g.add_argument(
        "--keep-points",
        type=int,
        default=web.DEFAULT_POINTS,
        metavar="N",
        help=f"at most N data points (default {web.DEFAULT_POINTS})",
    )
    g.add_argument(
        "--grid",
        type=int,
        default=web.DEFAULT_GRID,
        metavar="N",
        help=f"N x N grid lines (default {web.DEFAULT_GRID})",
    )


def parse_size(text: str) -> tuple[int, int]:
    """'1920x1080' -> (1920, 1080); anything else is a usage error."""
    parts = text.lower().replace("×", "x").split("x")
    try:
        if len(parts) != 2:
            raise ValueError
        w, h = int(parts[0]), int(parts[1])
    except ValueError:
        raise _UsageError(f"--size must look like 1920x1080, got {text!r}") from None
    return w, h


def parse_camera(text: str | None) -> tuple[float, float, float] | None:
    """'30,20' or '30,20,1.2' -> (azimuth, elevation, zoom)."""
    if text is None:
        return None
    try:
        vals = [float(v) for v in text.split(",")]
        if len(vals) not in (2, 3):
            raise ValueError
    except ValueError:
        raise _UsageError(f"--camera must look like 30,20 or 30,20,1.2, got {text!r}") from None
    return (vals[0], vals[1], vals[2] if len(vals) == 3 else 1.0)


def parse_layers(text: str | None) -> list[int] | None:
    if text is None or not text.strip():
        return None
    try:
        return [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise _UsageError(f"--layers must be comma-separated whole numbers, got {text!r}") from None


def _err(msg: str) -> None:
    from nndyn_gui.core.io.terminal import printable

    print(f"{PROG}: error: {printable(msg)}", file=sys.stderr)


def _warn(msg: str) -> None:
    from nndyn_gui.core.io.terminal import printable

    print(f"{PROG}: warning: {printable(msg)}", file=sys.stderr)


def _has_display() -> bool:
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def _load_run(args: argparse.Namespace) -> Any:
    """The Run to render: read from the file, or train the preset (TensorFlow, tqdm bar)."""
    if args.run and args.preset:
        raise _UsageError("give either RUN or --preset, not both")
    if not args.run and not args.preset:
        raise _UsageError("give a run file or --preset NAME")
    if args.sets and not args.preset:
        raise _UsageError("--set only works with --preset")
    if args.run:
        from nndyn_gui.core.io.runfile import RunFileError, load_run

        try:
            return load_run(args.run)
        except RunFileError as e:
            raise _UsageError(str(e)) from None
    return _train_preset(args.preset, args.sets, quiet=args.quiet)


def _read_run(path: str) -> Any:
    from nndyn_gui.core.io.runfile import RunFileError, load_run

    try:
        return load_run(path)
    except RunFileError as e:
        raise _UsageError(str(e)) from None


def _train_preset(name: str, sets: list[str], quiet: bool) -> Any:
    """Train preset `name` with the `--set` changes, as `nndyn train --preset` reads it
    (one reader: a CSV file's labels fix K, data.classes follows the file)."""
    from nndyn_gui.cli.common import CliError
    from nndyn_gui.cli.train import resolve_config

    try:
        cfg, _ = resolve_config(None, name, sets)
    except CliError as e:  # its messages are plain (PresetError's str() unquoted)
        raise _UsageError(str(e)) from None
    from tqdm import tqdm

    from nndyn_gui.core.datasets import make_dataset
    from nndyn_gui.core.engine.session import EngineError, train
    from nndyn_gui.core.io.runfile import make_run

    dataset = make_dataset(cfg.data)
    tqdm.monitor_interval = 0  # no monitor thread: the bar is updated by hand anyway
    bar = tqdm(
        total=cfg.train.steps, desc=f"training {name}", unit="step", disable=quiet, file=sys.stderr
    )

    def on_progress(step: int, *_: Any) -> None:
        bar.update(max(0, int(step) - bar.n))

    try:
        result = train(cfg, dataset, on_progress=on_progress)
    except EngineError as e:
        raise RuntimeError(f"training failed: {e}") from None
    finally:
        bar.close()
    if result.status == "diverged":
        _warn(f"training diverged: {result.message}")
    return make_run(cfg, dataset, result)


def _setup_qt(needs_3d: bool, no_3d: bool) -> Any:
    """The QApplication, on a platform that can draw what was asked for."""
    if "QT_QPA_PLATFORM" not in os.environ and not _has_display():
        if needs_3d and not no_3d:
            _warn(XVFB_HINT)
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
    from PySide6.QtWidgets import QApplication

    import nndyn_gui.render.views  # noqa: F401 - shares GL contexts before the app exists

    app = QApplication.instance()
    if app is None:
        app = QApplication([sys.argv[0] if sys.argv else "nndyn"])
    return app


def render_main(argv: list[str]) -> int:
    """Entry point of `nndyn render`; returns the exit code."""
    import warnings

    # numpy's "overflow encountered" lines are internals, not messages for the user: a
    # run whose numbers overflow is reported once, in words (see the handlers below)
    warnings.simplefilter("ignore", RuntimeWarning)
    try:
        args = build_parser().parse_args(argv)
        width, height = parse_size(args.size)
        layers = parse_layers(args.layers)
        camera = parse_camera(args.camera)
    except _UsageError as e:
        _err(str(e))
        return EXIT_USAGE
    except SystemExit as e:  # --help
        return int(e.code or 0)

    if args.kind == HTML_KIND:
        return _render_html(args)
    from nndyn_gui.render.encode import ExportError

    exporter = None
    try:
        # cheap checks first: a bad --out should not cost a training run
        from nndyn_gui.render.export import ExportOptions
        from nndyn_gui.render.scene import ViewOptions

        opts = ExportOptions(
            path=args.out or f"out{_guess_ext(args.kind)}",
            content=args.kind,
            width=width,
            height=height,
            **{n.field: getattr(args, n.field) for n in spec.NUMBERS},
            background=args.background,
            title=args.title or "",
            caption=args.caption,
            layers=layers,
            overwrite=args.force,
            prefer_3d=not args.no_3d,
            view=(
                ViewOptions(
                    show_field=args.field, show_density=args.density, show_costate=args.costate
                )
                if args.field or args.density or args.costate
                else None
            ),
            legend=args.legend,
            camera=camera,
        )
        opts.validate()
        if args.kind == "compare" and not args.with_run:
            raise _UsageError("--kind compare needs a second run: --with B.nndyn")
        if args.with_run and args.kind != "compare":
            raise _UsageError("--with only works with --kind compare")
        run = _load_run(args)
        title = spec.title_for(run.config)
        if args.with_run:  # each half its own title, the top one says what differs
            from nndyn_gui.core.analysis.comparison import compare_half_label, compare_titles

            other = opts.compare_with = _read_run(args.with_run)
            title, *halves = compare_titles(run.config, other.config)
            last = [r.snapshots[-1] if r.snapshots else None for r in (run, other)]
            opts.labels = (
                compare_half_label(halves[0], last[0]),
                compare_half_label(halves[1], last[1]),
            )
        if args.title is None:
            opts.title = title
        if args.out is None:  # a name that says what it is, never an existing file
            opts.path = spec.suggest_path(".", opts.title, args.kind, _guess_ext(args.kind))
        opts.validate(run)
        widths = [run.config.model.width]
        if opts.compare_with is not None:  # a width-3 half is drawn in 3-D beside a 2-D one
            widths.append(opts.compare_with.config.model.width)
        needs_3d = args.kind == "orbit" or (
            max(widths) >= 3 and not opts.is_vector and args.kind != "sheet"
        )
        _setup_qt(needs_3d, args.no_3d)
        from nndyn_gui.render.export import Exporter

        exporter = Exporter(run, opts)
        for w in exporter.warnings:
            _warn(w)
        path = _run_export(exporter, quiet=args.quiet)
    except _UsageError as e:
        _err(str(e))
        return EXIT_USAGE
    except KeyboardInterrupt:
        if exporter is not None:
            exporter.abort()
        print(f"\n{PROG}: cancelled; nothing written", file=sys.stderr)
        return EXIT_INTERRUPT
    except ExportError as e:
        _err(str(e))
        return EXIT_USAGE if exporter is None else EXIT_FAIL
    except (RuntimeError, OSError, MemoryError) as e:
        if exporter is not None:
            exporter.abort()
        _err(f"export failed: {e}")
        return EXIT_FAIL
    except (ValueError, ArithmeticError) as e:  # e.g. numpy's LinAlgError on a diverged run
        if exporter is not None:
            exporter.abort()
        detail = str(e).strip().splitlines()[0] if str(e).strip() else ""
        _err(
            f"export failed: cannot draw this run ({type(e).__name__}"
            f"{': ' + detail if detail else ''}); did its training diverge?"
        )
        return EXIT_FAIL
    print(str(path))
    return EXIT_OK


def _render_html(args: argparse.Namespace) -> int:
    """--kind html: the page of render/web (no Qt, no display needed); prints its path,
    and its size with what it holds on stderr."""
    from nndyn_gui.render.encode import ExportError
    from nndyn_gui.render.web import WebOptions, write_html, written_summary

    try:
        if args.background == "transparent":
            raise _UsageError("a web page has a white or dark background, not transparent")
        overlays = args.field or args.density or args.costate
        if args.with_run or args.layers or args.camera or overlays:
            raise _UsageError(
                "--with, --layers, --camera, --costate, --field and --density are not for "
                "--kind html"
            )
        opts = WebOptions(
            snapshots=args.keep_snapshots,
            layers=args.keep_layers,
            points=args.keep_points,
            grid=args.grid,
            dims=2 if args.no_3d else 0,
            background=args.background,
            title=args.title or "",
        ).validate()
        out = args.out
        if out is not None and Path(out).suffix.lower() not in (".html", ".htm"):
            raise _UsageError(f"--kind html writes an .html file, got {out!r}")
        if out is not None and Path(out).exists() and not args.force:
            raise _UsageError(f"{out}: file exists; use --force to overwrite")
        run = _load_run(args)
        if out is None:
            out = spec.suggest_path(
                ".", opts.title or spec.title_for(run.config), spec.WEB_KIND, spec.WEB_EXTENSION
            )
        size = write_html(run, out, opts, overwrite=True)
    except _UsageError as e:
        _err(str(e))
        return EXIT_USAGE
    except ExportError as e:
        _err(str(e))
        return EXIT_USAGE
    except KeyboardInterrupt:
        print(f"\n{PROG}: cancelled; nothing written", file=sys.stderr)
        return EXIT_INTERRUPT
    except (RuntimeError, OSError, MemoryError, ValueError, ArithmeticError) as e:
        _err(f"export failed: {e}")
        return EXIT_FAIL
    if not args.quiet:
        print(
            f"{PROG}: {written_summary(run, opts, size)} (--keep-layers, --keep-snapshots "
            "and --keep-points make it smaller)",
            file=sys.stderr,
        )
    print(str(out))
    return EXIT_OK


def _guess_ext(kind: str) -> str:
    """The file type a name is made with when --out is not given: a still or a video."""
    return ".png" if kind == "sheet" else ".mp4"


def _run_export(exporter: Any, quiet: bool) -> Path:
    from tqdm import tqdm

    tqdm.monitor_interval = 0
    bar = tqdm(
        total=exporter.total_frames,
        desc=f"rendering {Path(exporter.options.path).name}",
        unit="frame",
        disable=quiet,
        file=sys.stderr,
    )
    try:
        while exporter.step():
            bar.update(1)
        bar.update(exporter.total_frames - bar.n)
        return Path(exporter.finish())
    except BaseException:
        exporter.abort()
        raise
    finally:
        bar.close()


def main() -> None:  # pragma: no cover - `python -m nndyn_gui.cli.render`
    sys.exit(render_main(sys.argv[1:]))


if __name__ == "__main__":  # pragma: no cover
    main()
