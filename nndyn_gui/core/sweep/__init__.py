"""Sweeps: the spec, one job, the runner, the results folder."""
