"""Views and frames: pyqtgraph 2-D/3-D scenes that render without a window, and video encoding."""
