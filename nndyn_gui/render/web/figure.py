"""The Plotly figure of a run: points and grid at every kept layer, a layer slider and Play.

One frame per kept layer (Plotly frames, so the slider and Play are Plotly's own and the
figure works wherever Plotly does: a notebook, `fig.show()`, `fig.write_html`). The
traces are fixed, in this order, so a frame can name them by index:

- 2-D: decision regions over the input square (shown at the input), the two classes'
  half-planes and the separating line (at the output), the grid, one trace of points per
  class.
- 3-D: the regions as a flat square at x3 = 0 (input), the grid, the points per class,
  the separating plane (output); the reader rotates and zooms with the mouse.

`frames(..., coords=False)` leaves the points' and grid's coordinates out: the web page
(`render.web.page`) fills them in the browser from its packed arrays, one snapshot at a
time, so one figure of 561 frames never has to be written out as text.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import plotly.graph_objects as go

from nndyn_gui.render import camera
from nndyn_gui.render.palette import RGBA, palette_for
from nndyn_gui.render.web.flowdata import FlowData, SnapData

EYE_DISTANCE = 1.9  # the 3-D camera's distance, in Plotly's units of the scene's box
PLAY_FRAME_MS = 80  # one layer per 80 ms: the 51-layer flow in about 4 s
#: plotly.js draws a 3-D marker as its symbol's glyph in triangles: 57 vertices a circle,
#: 18 a square. This small they look alike (2.5 px squares cover as many pixels as the
#: 3 px circles did); in software WebGL squares cut the drawing of a layer slider move by
#: about a third (1,000 points, drawn twice: the picture and hover's picking pass)
POINT_SYMBOL_3D = "square"
POINT_SIZE = {2: 5.0, 3: 2.5}


def rgba(c: RGBA, alpha: float | None = None) -> str:
    a = c[3] / 255.0 if alpha is None else alpha
    return f"rgba({c[0]},{c[1]},{c[2]},{a:.3g})"


def over(c: RGBA, alpha: float, background: RGBA) -> str:
    """`c` at `alpha` over an opaque `background`, as the opaque colour it looks like.

    The 3-D scene's lines are drawn opaque: one see-through item makes plotly.js draw the
    whole scene in two more passes (its transparency), at every layer slider move.
    """
    mix = [round(alpha * c[i] + (1 - alpha) * background[i]) for i in range(3)]
    return f"rgb({mix[0]},{mix[1]},{mix[2]})"


def _layout_indices(data: FlowData) -> dict[str, Any]:
    """Trace indices by role (the frames and the page's script address traces by them)."""
    k = len(data.class_names)
    if data.dims == 2:
        return {
            "regions": 0,
            "sides": [1, 2],
            "grid": 3,
            "points": list(range(4, 4 + k)),
            "boundary": 4 + k,
        }
    return {
        "regions": 0,
        "sides": [],
        "grid": 1,
        "points": list(range(2, 2 + k)),
        "boundary": 2 + k,
    }


def trace_roles(data: FlowData) -> dict[str, Any]:
    """{"regions": i, "sides": [i, j], "grid": i, "points": [i per class], "boundary": i}."""
    return _layout_indices(data)


def trace_types(data: FlowData) -> list[str]:
    """The Plotly type of each trace, by index (a frame's entries must name it)."""
    k = len(data.class_names)
    if data.dims == 2:
        return ["heatmap", "scatter", "scatter", "scatter", *["scatter"] * k, "scatter"]
    return ["surface", "scatter3d", *["scatter3d"] * k, "mesh3d"]


def build_figure(
    data: FlowData,
    layer: int | None = None,
    snapshot: int = -1,
    with_frames: bool = True,
    snapshot_slider: bool = False,
) -> go.Figure:
    """The figure at `layer` (a layer index, default the output) of snapshot `snapshot`
    (an index into data.snaps, default the last), with a frame per kept layer.

    `snapshot_slider`: add the slider over training (the page wires it up in the
    browser; a figure alone shows one snapshot).
    """
    j = range(len(data.snaps))[snapshot]
    li = _layer_position(data, layer)
    snap = data.snaps[j]
    fig = go.Figure(data=_traces(data, snap), layout=_layout(data, snap, li, snapshot_slider, j))
    # the traces as they are at this layer: the frame's own data applied to the traces
    for entry, index in zip(*_frame_data(data, snap, li, coords=True), strict=True):
        fig.data[index].update(entry)
    if with_frames:
        fig.frames = [go.Frame(f) for f in frames(data, j, coords=True)]
    return fig


def _layer_position(data: FlowData, layer: int | None) -> int:
    """The position in data.layers of a layer index (the nearest kept one)."""
    if layer is None:
        return len(data.layers) - 1
    if not -data.depth - 1 <= layer <= data.depth:
        raise ValueError(f"layer {layer} is out of range 0..{data.depth}")
    k = layer % (data.depth + 1)
    return int(np.argmin([abs(v - k) for v in data.layers]))


def frames(data: FlowData, j: int, coords: bool = True) -> list[dict[str, Any]]:
    """One frame per kept layer of snapshot j (plain dicts, the JSON the page carries)."""
    snap = data.snaps[j]
    out = []
    for li, name in enumerate(data.layer_names):
        entries, traces = _frame_data(data, snap, li, coords)
        out.append(
            {
                "name": name,
                "data": entries,
                "traces": traces,
                "layout": {"annotations": _annotations(data, snap, li)},
            }
        )
    return out


def _frame_data(
    data: FlowData, snap: SnapData, li: int, coords: bool
) -> tuple[list[dict[str, Any]], list[int]]:
    """(trace updates, trace indices) of kept layer `li`."""
    roles = trace_roles(data)
    first, last = li == 0, li == len(data.layers) - 1
    entries: list[dict[str, Any]] = []
    traces: list[int] = []

    types = trace_types(data)

    def add(index: int, entry: dict[str, Any]) -> None:
        traces.append(index)
        entries.append({"type": types[index], **entry})

    add(roles["regions"], {"visible": first, **(_regions_z(data, snap) if first else {})})
    for index, (_k, poly) in zip(roles["sides"], _sides(snap), strict=False):
        add(index, {"visible": last and poly is not None, **(_xy(poly) if last else {})})
    add(roles["grid"], _coords(data, _grid_line(data, snap, li)) if coords else {})
    for k, index in enumerate(roles["points"]):
        pts = snap.points[li][data.labels == k]
        add(index, _coords(data, pts) if coords else {})
    shown = last and bool(snap.boundary)
    add(roles["boundary"], {"visible": shown, **(_boundary(data, snap) if shown else {})})
    return entries, traces


def _sides(snap: SnapData) -> list[tuple[int, np.ndarray | None]]:
    """(class, polygon or None) for class 0 then class 1: the output's two half-planes."""
    by_class = dict(snap.sides)
    return [(k, by_class.get(k)) for k in (0, 1)]


def _xy(poly: np.ndarray | None) -> dict[str, Any]:
    if poly is None:
        return {"x": [], "y": []}
    closed = np.vstack([poly, poly[:1]])
    return {"x": closed[:, 0].tolist(), "y": closed[:, 1].tolist()}


def _grid_line(data: FlowData, snap: SnapData, li: int) -> np.ndarray:
    """The grid's vertices at layer li along its lines, NaN between lines."""
    g = snap.grid[li]
    line = np.full((len(data.path), data.dims), np.nan)
    ok = data.path >= 0
    line[ok] = g[data.path[ok]]
    return line


def _coords(data: FlowData, xyz: np.ndarray) -> dict[str, Any]:
    """{"x": ..., "y": ...(, "z": ...)} as float32 arrays (Plotly writes them as base64)."""
    arr = np.asarray(xyz, dtype=np.float32)
    keys = "xyz"[: data.dims]
    return {key: np.ascontiguousarray(arr[:, i]) for i, key in enumerate(keys)}


def _regions_z(data: FlowData, snap: SnapData) -> dict[str, Any]:
    """The regions as bytes 0..255 (P(class 1), or the winning class for K > 2)."""
    r = snap.regions
    k = len(data.class_names)
    scale = 255.0 if data.classes == 2 else 255.0 / max(1, k - 1)
    z = np.clip(np.round(np.nan_to_num(r, nan=0.5) * scale), 0, 255).astype(np.uint8)
    if data.dims == 2:
        return {"z": z}
    return {"surfacecolor": z}


def _boundary(data: FlowData, snap: SnapData) -> dict[str, Any]:
    """The separating line (segments, NaN between) or plane (triangle fans) at the output."""
    if data.dims == 2:
        pts: list[list[float]] = []
        for seg in snap.boundary:
            pts += [list(map(float, p)) for p in seg] + [[np.nan, np.nan]]
        arr = np.array(pts, dtype=np.float64)
        return {"x": arr[:, 0].tolist(), "y": arr[:, 1].tolist()}
    verts: list[np.ndarray] = []
    tri: list[tuple[int, int, int]] = []
    for poly in snap.boundary:
        base = sum(len(v) for v in verts)
        verts.append(np.asarray(poly, dtype=np.float64))
        tri += [(base, base + m, base + m + 1) for m in range(1, len(poly) - 1)]
    v = np.concatenate(verts)
    t = np.array(tri, dtype=np.int64).reshape(-1, 3)
    return {
        "x": v[:, 0].tolist(),
        "y": v[:, 1].tolist(),
        "z": v[:, 2].tolist(),
        "i": t[:, 0].tolist(),
        "j": t[:, 1].tolist(),
        "k": t[:, 2].tolist(),
    }


# ---------------------------------------------------------------------- traces and layout
def region_colorscale(data: FlowData) -> list[list[Any]]:
    """The palette's region wash (render.palette.region_rgba) as a Plotly colour scale."""
    pal = palette_for(data.background)
    if data.classes == 2:
        p = np.linspace(0.0, 1.0, 11)
        img = pal.region_rgba(p[None, :])[0]
        return [[float(v), rgba(tuple(int(x) for x in c))] for v, c in zip(p, img, strict=True)]  # type: ignore[arg-type]
    k = len(data.class_names)
    return [[i / max(1, k - 1), rgba(pal.class_color(i), 0.3)] for i in range(k)]


def _traces(data: FlowData, snap: SnapData) -> list[Any]:
    pal = palette_for(data.background)
    grid = dict(color=rgba(pal.grid), width=1)
    traces: list[Any] = []
    if data.dims == 2:
        traces.append(
            go.Heatmap(
                x0=-1 + 1 / snap.regions.shape[1],
                dx=2 / snap.regions.shape[1],
                y0=-1 + 1 / snap.regions.shape[0],
                dy=2 / snap.regions.shape[0],
                zmin=0,
                zmax=255,
                colorscale=region_colorscale(data),
                showscale=False,
                hoverinfo="skip",
                name="decision regions",
            )
        )
        for k in (0, 1):
            traces.append(
                go.Scatter(
                    mode="none",
                    fill="toself",
                    fillcolor=rgba(pal.class_color(k), 0.12),
                    hoverinfo="skip",
                    showlegend=False,
                    name=f"{data.class_names[k]} side",
                )
            )
        traces.append(go.Scatter(mode="lines", line=grid, hoverinfo="skip", name="grid"))
        for k, name in enumerate(data.class_names):
            traces.append(
                go.Scatter(
                    mode="markers",
                    name=name,
                    hoverinfo="name",
                    marker=dict(size=POINT_SIZE[2], color=rgba(pal.class_color(k)), line_width=0),
                )
            )
        word = "separating line" if data.classes == 2 else "class borders"
        traces.append(
            go.Scatter(mode="lines", line=dict(color=rgba(pal.plane), width=3), name=word)
        )
        return traces
    n = snap.regions.shape[0]
    ticks = -1 + (np.arange(n) + 0.5) * (2 / n)
    traces.append(
        go.Surface(
            x=ticks,
            y=ticks,
            z=np.zeros((n, n), dtype=np.uint8),
            cmin=0,
            cmax=255,
            showscale=False,
            colorscale=[
                [v, c.replace("rgba", "rgb").rsplit(",", 1)[0] + ")"]
                for v, c in region_colorscale(data)
            ],
            opacity=0.55,
            hoverinfo="skip",
            name="decision regions",
            showlegend=False,
        )
    )
    traces.append(
        go.Scatter3d(
            mode="lines",
            line=dict(color=over(pal.box, 0.75, pal.background), width=2),
            hoverinfo="skip",
            name="grid",
        )
    )
    for k, name in enumerate(data.class_names):
        traces.append(
            go.Scatter3d(
                mode="markers",
                name=name,
                hoverinfo="name",
                marker=dict(
                    size=POINT_SIZE[3],
                    color=rgba(pal.class_color(k)),
                    line_width=0,
                    symbol=POINT_SYMBOL_3D,
                ),
            )
        )
    word = "separating plane" if data.classes == 2 else "class borders"
    traces.append(
        go.Mesh3d(
            color=rgba(pal.plane),
            opacity=0.22,
            flatshading=True,
            hoverinfo="skip",
            name=word,
            showlegend=True,
        )
    )
    return traces


def _annotations(data: FlowData, snap: SnapData, li: int) -> list[dict[str, Any]]:
    """The layer's note under the picture: what the axes are, for a projected net."""
    note = snap.notes[li]
    if not note:
        return []
    return [
        dict(
            text=note,
            showarrow=False,
            xref="paper",
            yref="paper",
            x=0.0,
            y=-0.02,
            xanchor="left",
            yanchor="top",
            font=dict(size=12),
        )
    ]


def _layout(
    data: FlowData, snap: SnapData, li: int, snapshot_slider: bool, j: int
) -> dict[str, Any]:
    pal = palette_for(data.background)
    fg, bg = rgba(pal.foreground), rgba(pal.background)
    names = data.layer_names
    anim = dict(mode="immediate", frame=dict(duration=0, redraw=True), transition=dict(duration=0))
    # the page moves between layers itself (render/web/player.js: only the traces that
    # change, a few times faster than Plotly's full redraw per frame); a figure alone
    # has Plotly's own animation
    method = "skip" if snapshot_slider else "animate"
    layer_slider = dict(
        name="layer",
        active=li,
        x=0.15,
        len=0.85,
        y=0.0,
        yanchor="top",
        pad=dict(t=40, b=0),
        currentvalue=dict(prefix="", font=dict(size=14)),
        steps=[dict(label=n, method=method, args=[[n], anim]) for n in names],
    )
    sliders = [layer_slider]
    if snapshot_slider:
        sliders.append(
            dict(
                name="snapshot",
                active=j,
                x=0.15,
                len=0.85,
                y=0.0,
                yanchor="top",
                pad=dict(t=125, b=0),
                currentvalue=dict(prefix="training: step "),
                steps=[dict(label=f"{s.step:,}", method="skip", args=[]) for s in data.snaps],
            )
        )
    play = dict(
        type="buttons",
        direction="left",
        x=0.0,
        y=0.0,
        xanchor="left",
        yanchor="top",
        pad=dict(t=58, r=10),
        showactive=False,
        buttons=[
            dict(
                label="▶ Play",
                method=method,
                args=[
                    None,
                    dict(
                        mode="immediate",
                        fromcurrent=True,
                        transition=dict(duration=0),
                        frame=dict(duration=PLAY_FRAME_MS, redraw=True),
                    ),
                ],
            ),
            dict(label="❚❚", method=method, args=[[None], anim]),
        ],
    )
    layout: dict[str, Any] = dict(
        title=dict(text=_esc(data.title), subtitle=dict(text=_esc(snap.caption)), x=0.02),
        paper_bgcolor=bg,
        plot_bgcolor=bg,
        font=dict(color=fg),
        legend=dict(x=1.0, xanchor="right", y=1.0, bgcolor=rgba(pal.background, 0.8)),
        margin=dict(l=40, r=20, t=80, b=200 if snapshot_slider else 110),
        sliders=sliders,
        updatemenus=[play],
        annotations=_annotations(data, snap, li),
        uirevision="nndyn",
    )
    lo, hi = snap.box
    titles = data.axis_titles[-1]
    axis = dict(color=fg, gridcolor=rgba(pal.box, 0.25), zeroline=False)
    if data.dims == 3:  # opaque in WebGL (`over`)
        axis["gridcolor"] = over(pal.box, 0.25, pal.background)
    if data.dims == 2:
        layout["xaxis"] = dict(axis, range=[lo[0], hi[0]], title=titles[0])
        layout["yaxis"] = dict(
            axis, range=[lo[1], hi[1]], title=titles[1], scaleanchor="x", scaleratio=1
        )
        return layout
    az, el = camera.default_angles(snap.normal)
    _, _, back = camera.camera_axes(az, el)
    eye = dict(zip("xyz", (float(v) * EYE_DISTANCE for v in back), strict=True))
    layout["scene"] = dict(
        aspectmode="manual",
        aspectratio=aspect_ratio(snap.box),
        camera=dict(eye=eye, up=dict(x=0, y=0, z=1)),
        **{
            f"{a}axis": dict(
                axis,
                range=[lo[i], hi[i]],
                title=titles[i] or f"x{i + 1}",
                backgroundcolor=bg,
                showbackground=False,
            )
            for i, a in enumerate("xyz")
        },
    )
    return layout


def snapshot_layout(data: FlowData, snap: SnapData) -> dict[str, Any]:
    """What changes in the layout with the snapshot, as Plotly.relayout's flat keys."""
    lo, hi = snap.box
    out: dict[str, Any] = {"title.subtitle.text": _esc(snap.caption)}
    names = ("xaxis", "yaxis") if data.dims == 2 else ("scene.xaxis", "scene.yaxis", "scene.zaxis")
    for i, name in enumerate(names):
        out[f"{name}.range"] = [float(lo[i]), float(hi[i])]
    if data.dims == 3:
        out["scene.aspectratio"] = aspect_ratio(snap.box)
    return out


MIN_ASPECT = 0.2  # a side of the 3-D box at least this share of the longest (never a sheet)


def aspect_ratio(box: np.ndarray) -> dict[str, float]:
    """The 3-D box in its true proportions (the window's steady box, fixed for all layers:
    Plotly's "data" aspect would follow each layer's points and zoom with them)."""
    span = np.asarray(box[1], dtype=np.float64) - np.asarray(box[0], dtype=np.float64)
    span = np.where(np.isfinite(span) & (span > 0), span, 1.0)
    rel = np.maximum(span / span.max(), MIN_ASPECT)
    return {a: float(v) for a, v in zip("xyz", rel, strict=True)}


def _esc(text: str) -> str:
    """Plotly titles are a subset of HTML: a run title's own <, > and & are shown as text."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
