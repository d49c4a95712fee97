"""Data files (presets, icons, style) shipped as the package `nndyn_gui.resources`."""
