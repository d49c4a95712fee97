"""The web page's side of the Export dialog: its check, its preview, its words.

Why a module: the page (.html) is not drawn by the Exporter but written by render/web
(`nndyn render --kind html`'s `write_html`, from the same run record), so the dialog
checks it, previews it and names what it keeps differently; those rules live here and
the dialog (ui/export_dialog.py) only calls them. No widgets.
"""

from __future__ import annotations

from pathlib import Path

from nndyn_gui.core.types import Run, Snapshot
from nndyn_gui.render.export import ExportError, ExportOptions, check_target
from nndyn_gui.render.scene import ViewOptions
from nndyn_gui.render.web import WebOptions
from nndyn_gui.render.web.flowdata import pick
from nndyn_gui.ui import steps

WEB_SUFFIXES = (".html", ".htm")  # what render/web's write_html takes


def check_web(run: Run, path: str, options: WebOptions, overwrite: bool) -> None:
    """Raise ExportError (one line, render/web's and the other formats' words) for a page
    that cannot be written as asked: a bad option, not an .html name, a missing or
    unwritable folder, an existing file (unless `overwrite`), a run with no snapshot."""
    options.validate()
    target = Path(path).expanduser()
    if target.suffix.lower() not in WEB_SUFFIXES:
        raise ExportError(f"a web page is an .html file, got {target.name!r}")
    check_target(target, overwrite)
    if not run.snapshots:
        raise ExportError("this run has no snapshots to show (train it first)")


def preview_request(
    run: Run, background: str, title: str, view: ViewOptions | None
) -> tuple[ExportOptions, str]:
    """The miniature of a page and the note under it: the still the page opens on (the
    last kept snapshot at the output layer, 3-D facing the plane: render/web/figure.py)
    as the app draws it — the page draws it again with Plotly, so the note says so."""
    opts = ExportOptions(
        path="preview.png", content="layers", background=background, title=title, view=view
    )
    step = steps.step_name(run.snapshots[-1]) if run.snapshots else "no snapshot"
    turn = ", and the 3-D view turns with the mouse" if run.config.model.width >= 3 else ""
    note = (
        f"The page opens on this picture ({step}, the output layer), drawn here by the app. "
        f"In the browser it is interactive: layer and snapshot sliders, Play, hover, zoom{turn}."
    )
    return opts, note


def kept_snapshots(snapshots: list[Snapshot], keep: int) -> str:
    """Which snapshots a page holds: '11 of 101 snapshots, untrained (step 0) to step
    20,000 (a slider in the page)' (render/web keeps the first and the last)."""
    if not snapshots:
        return "no snapshot"
    kept = pick(len(snapshots), keep)
    first, last = steps.step_name(snapshots[0]), steps.step_name(snapshots[-1])
    return (
        f"{len(kept):,} of {len(snapshots):,} snapshots, {first} to {last} (a slider in the page)"
    )
