"""Preset experiments as JSON (loaded with importlib.resources)."""
