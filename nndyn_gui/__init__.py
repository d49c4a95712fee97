"""nndyn: watch a neural network move space, layer by layer.

In Python and notebooks, `import nndyn_gui as nndyn` (see docs/api.md):

    run = nndyn.train("resnet-w3-ring", model__width=2)
    run.figure(layer=10)       # inline in Jupyter
    run.save("r.nndyn"); nndyn.open("r.nndyn").write_html("r.html")

The names live in `nndyn_gui.api` and load on first use, so that importing the window's
or the command line's modules does not load the API (nor the API those modules).
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_API = ("FlowRun", "TrainingError", "Verification", "open", "presets", "train")
__all__ = ["__version__", *_API]


def __getattr__(name: str) -> Any:
    if name in _API:  # loaded by name: every module imports this package for __version__
        return getattr(importlib.import_module("nndyn_gui.api"), name)
    raise AttributeError(f"module 'nndyn_gui' has no attribute {name!r}")
