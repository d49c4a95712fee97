"""The engine: data, networks, training, flow, diagnostics, run files. Never imports Qt."""
