"""nndyn: watch a neural network move space, layer by layer."""

__version__ = "0.1.0"
