"""Numbers and sentences about a run: diagnostics, topology, field, claims, narrator."""
