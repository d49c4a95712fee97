"""Turn a run into a talk-ready PNG, MP4, GIF, SVG or PDF.

One module per job: `options` (what is asked, and every check on it), `layout` (bands,
legend, panel names, dividers), `producers` (each content's frames as panels, and the
one routine that draws them), `exporter` (running an export into a file). The names
the dialog, `nndyn render`, benchmarks and tests use are re-exported here.
"""

from nndyn_gui.render.encode import ExportError
from nndyn_gui.render.export.exporter import ExportCancelled, Exporter, export, preview_frame
from nndyn_gui.render.export.layout import text_bands
from nndyn_gui.render.export.options import ExportOptions, check_target
from nndyn_gui.render.export.producers import NO_GL_WARNING, orbit_scene_2d

__all__ = [
    "NO_GL_WARNING",
    "ExportCancelled",
    "ExportError",
    "ExportOptions",
    "Exporter",
    "check_target",
    "export",
    "orbit_scene_2d",
    "preview_frame",
    "text_bands",
]
