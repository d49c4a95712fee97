"""nndyn in Python and in notebooks: `import nndyn` (see docs/api.md).

    run = nndyn.train("resnet-w3-ring", model__width=2)
    run.figure(layer=10)       # inline in Jupyter
    run.save("r.nndyn"); nndyn.open("r.nndyn").write_html("r.html")

The names live in nndyn_gui.api; this package only gives them their short name.
"""

from nndyn_gui import __version__
from nndyn_gui.api import FlowRun, TrainingError, Verification, open, presets, train

__all__ = [
    "FlowRun",
    "TrainingError",
    "Verification",
    "__version__",
    "open",
    "presets",
    "train",
]
