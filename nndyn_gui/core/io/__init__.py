"""What crosses the disk and the terminal: run files, atomic writes, limits, presets,
logs, printable text."""
