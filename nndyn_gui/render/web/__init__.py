"""A run for a web browser or a notebook: one interactive Plotly figure, no Qt.

`flowdata` (what to show: every kept layer of every kept snapshot, from the same
`render.scene.FlowScene` the window draws), `figure` (the Plotly figure: traces, layer
slider and Play, one frame per layer), `page` (one self-contained offline HTML file: the
figure, plotly.js inlined, every snapshot packed and a snapshot slider). Nothing here
imports Qt, so a notebook or a server without a display can use it.
"""

from nndyn_gui.render.web.figure import build_figure
from nndyn_gui.render.web.flowdata import WebOptions, collect
from nndyn_gui.render.web.page import html_text, write_html, written_summary

__all__ = ["WebOptions", "build_figure", "collect", "html_text", "write_html", "written_summary"]
