"""One self-contained HTML file of a run: opens offline in a browser, no server, no network.

The page is the figure of `render.web.figure` (plotly.js inlined from the `plotly`
package, no script fetched) plus a slider over training. Every snapshot's frames would
be ~1.5 MB of text each, so the page carries the positions packed instead and the
browser builds the frames of the snapshot being looked at (`player.js`):

- positions are integers on a lattice of QUANT_LEVELS steps across the snapshot's box
  (the steady box the window frames: a step is ~0.3 px of an 800 px picture), a value
  far outside the box (a diverging net, beyond FAR boxes) is "not drawn";
- stored per coordinate and point along the layers as differences (a flow moves little
  from one layer to the next), low bytes then high bytes, gzip-compressed and base64:
  the browser's own DecompressionStream unpacks it;
- everything else (regions, line/plane, captions) is the frames' JSON without the
  points, written by the same `figure.frames` as the notebook figure's.

The default resnet-w3-ring run (52 frames of 1,000 points and a 20 x 20 grid, 11
snapshots) comes to ~7.4 MB, 4.8 MB of which is plotly.js.
"""

from __future__ import annotations

import base64
import gzip
import html
import json
import math
import os
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import plotly
import plotly.io as pio
from plotly.offline import get_plotlyjs

from nndyn_gui.core.io.files import write_bytes
from nndyn_gui.core.types import Run
from nndyn_gui.render.encode import ExportError
from nndyn_gui.render.web import figure as fig_mod
from nndyn_gui.render.web.flowdata import FlowData, WebOptions, collect, pick

QUANT_LEVELS = 2048  # lattice steps across the largest side of a snapshot's box
FAR = 14.0  # boxes beyond which a coordinate is "not drawn" (|q| <= 30,000 fits int16)
NOT_DRAWN = -32768
DIV_ID = "nndyn-flow"


def pack_positions(data: FlowData, j: int) -> tuple[str, list[float], float]:
    """Snapshot j's points and grid as (base64 gzip bytes, box low corner, box span).

    Layout of the unpacked int16 values: [dim][vertex][layer], vertices = points then
    grid; each run along the layers is stored as differences (mod 2^16).
    """
    snap = data.snaps[j]
    x = np.concatenate([snap.points, snap.grid], axis=1)  # (L, V, dims)
    lo = np.asarray(snap.box[0], dtype=np.float64)
    span = float(np.max(snap.box[1] - snap.box[0]))
    if not math.isfinite(span) or span <= 0:
        span = 1.0
    with np.errstate(all="ignore"):
        q = np.round((x - lo) / span * QUANT_LEVELS)
        bad = ~np.isfinite(q) | (np.abs(q) > FAR * QUANT_LEVELS)
    bad = np.broadcast_to(bad.any(axis=-1, keepdims=True), q.shape)  # a point, not a coordinate
    q = np.where(bad, NOT_DRAWN, np.nan_to_num(q)).astype(np.int64)
    runs = np.ascontiguousarray(q.transpose(2, 1, 0))  # (dims, V, L)
    diff = np.asarray(np.diff(runs, axis=-1, prepend=0), dtype=np.int64) & 0xFFFF
    raw = diff.astype("<u2").view(np.uint8).reshape(-1, 2)
    planes = np.concatenate([raw[:, 0], raw[:, 1]])  # low bytes, then high bytes
    blob = base64.b64encode(gzip.compress(planes.tobytes(), 9, mtime=0)).decode("ascii")
    return blob, [float(v) for v in lo], span


def unpack_positions(blob: str, lo: list[float], span: float, shape: tuple[int, int, int]) -> Any:
    """The inverse of `pack_positions` in numpy (tests check the browser's against it)."""
    layers, vertices, dims = shape
    planes = np.frombuffer(gzip.decompress(base64.b64decode(blob)), dtype=np.uint8)
    n = planes.size // 2
    diff = (planes[:n].astype(np.uint16) | (planes[n:].astype(np.uint16) << 8)).view(np.int16)
    runs = np.cumsum(diff.reshape(dims, vertices, layers).astype(np.int64), axis=-1)
    q = ((runs + 32768) % 65536 - 32768).transpose(2, 1, 0)
    out = np.asarray(lo) + q * (span / QUANT_LEVELS)
    return np.where(q == NOT_DRAWN, np.nan, out)


def typed(arr: np.ndarray) -> dict[str, str]:
    """A numpy array in plotly.js's typed-array form ({"dtype", "bdata"[, "shape"]})."""
    kinds = {"uint8": "u1", "int16": "i2", "float32": "f4", "float64": "f8", "int32": "i4"}
    a = np.ascontiguousarray(arr)
    out = {"dtype": kinds[str(a.dtype)], "bdata": base64.b64encode(a.tobytes()).decode("ascii")}
    if a.ndim > 1:
        out["shape"] = ", ".join(str(s) for s in a.shape)
    return out


def _plain(obj: Any) -> Any:
    """Frames' dicts to JSON-ready values: numpy arrays typed, NaN as null."""
    if isinstance(obj, dict):
        return {k: _plain(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_plain(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return typed(obj)
    if isinstance(obj, float | np.floating):
        return float(obj) if math.isfinite(obj) else None
    if isinstance(obj, np.integer | np.bool_):
        return obj.item()
    return obj


def page_data(data: FlowData, layer: int | None = None, snapshot: int = -1) -> dict[str, Any]:
    """What the page's script reads: the figure without frames, and each snapshot packed."""
    fig = fig_mod.build_figure(data, layer, snapshot, with_frames=False, snapshot_slider=True)
    roles = fig_mod.trace_roles(data)
    snaps = []
    for j, snap in enumerate(data.snaps):
        blob, lo, span = pack_positions(data, j)
        snaps.append(
            {
                "step": snap.step,
                "blob": blob,
                "lo": lo,
                "span": span,
                "frames": _plain(fig_mod.frames(data, j, coords=False)),
                "layout": _plain(fig_mod.snapshot_layout(data, snap)),
            }
        )
    return {
        "figure": json.loads(pio.to_json(fig, validate=False)),
        "meta": {
            "dims": data.dims,
            "levels": QUANT_LEVELS,
            "frameMs": fig_mod.PLAY_FRAME_MS,
            "notDrawn": NOT_DRAWN,
            "layers": data.layer_names,
            "nPoints": data.n_points,
            "nGrid": int(data.snaps[0].grid.shape[1]),
            "path": data.path.tolist(),
            "classOf": data.labels.tolist(),
            "pointTraces": roles["points"],
            "gridTrace": roles["grid"],
            "snapshot": range(len(data.snaps))[snapshot],
        },
        "snaps": snaps,
    }


def html_text(run: Run, options: WebOptions | None = None) -> str:
    """The page of `run` as one HTML document (plotly.js and the data inlined)."""
    data = collect(run, options)
    return page_html(data)


def page_html(data: FlowData, layer: int | None = None, snapshot: int = -1) -> str:
    payload = json.dumps(page_data(data, layer, snapshot), separators=(",", ":"), allow_nan=False)
    payload = payload.replace("</", "<\\/")  # JSON in a <script> tag: only "</" could end it
    player = resources.files("nndyn_gui.render.web").joinpath("player.js").read_text("utf-8")
    title = html.escape(data.title)
    bg = fig_mod.rgba(fig_mod.palette_for(data.background).background)
    return (
        "<!DOCTYPE html>\n<html lang='en'>\n<head>\n<meta charset='utf-8'>\n"
        f"<title>{title}</title>\n"
        f"<meta name='generator' content='nndyn (plotly.js {plotly.__version__})'>\n"
        f"<style>html,body{{margin:0;height:100%;background:{bg}}}"
        f"#{DIV_ID}{{width:100%;height:100vh;min-height:560px}}</style>\n"
        "</head>\n<body>\n"
        f"<div id='{DIV_ID}'></div>\n"
        f"<script>{get_plotlyjs()}</script>\n"
        f"<script type='application/json' id='nndyn-data'>{payload}</script>\n"
        f"<script>{player}</script>\n</body>\n</html>\n"
    )


def write_html(
    run: Run,
    path: str | os.PathLike[str],
    options: WebOptions | None = None,
    overwrite: bool = True,
    cancelled: Callable[[], bool] | None = None,
) -> int:
    """Write the page of `run` to `path` (atomically); returns the bytes written.

    The Export dialog's and `nndyn render --kind html`'s one call. Raises ExportError
    with a one-line reason (no snapshots, a bad option, an existing file with
    overwrite=False, an unwritable folder). `cancelled` (the dialog's Cancel, asked from
    another thread) is asked once the page is made: True, and nothing is written
    (ExportError "export cancelled").
    """
    text = html_text(run, options).encode("utf-8")
    if cancelled is not None and cancelled():
        raise ExportError("export cancelled")
    target = Path(path)
    if target.suffix.lower() not in (".html", ".htm"):
        raise ExportError(f"a web page is an .html file, got {target.name!r}")
    try:
        write_bytes(target, text, overwrite=overwrite)
    except FileExistsError:
        raise ExportError(f"{target}: file exists; use --force to overwrite") from None
    except OSError as e:
        raise ExportError(f"cannot write {target}: {e.strerror or e}") from None
    return len(text)


def written_summary(run: Run, options: WebOptions | None, n_bytes: int) -> str:
    """What a written page holds, in the words `nndyn render` and the Export dialog both
    print: "wrote 7.4 MB: 52 of 52 layers, 11 of 101 snapshots, 1,000 points, 20 x 20 grid"."""
    opts = options or WebOptions()
    depth = run.config.model.depth
    kept_layers = len(pick(depth + 1, opts.layers))
    kept_snaps = len(pick(len(run.snapshots), opts.snapshots))
    n_points = min(opts.points, len(run.dataset.y_train) + len(run.dataset.y_test))
    return (
        f"wrote {n_bytes / 1e6:.1f} MB: {kept_layers} of {depth + 1} layers, "
        f"{kept_snaps} of {len(run.snapshots)} snapshots, {n_points:,} points, "
        f"{opts.grid} x {opts.grid} grid"
    )
