"""Shared fixtures. Qt tests get `qtbot` from pytest-qt; the platform is chosen by
scripts/test.sh (offscreen, or xcb under Xvfb for tests marked `gl`)."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


@pytest.fixture
def small_config():
    """A tiny, fast experiment (a few hundred steps finish in about a second)."""
    from nndyn_gui.core.config import RunConfig

    cfg = RunConfig()
    cfg.data.n = 200
    cfg.model.width = 2
    cfg.model.depth = 4
    cfg.model.h = 0.5
    cfg.train.steps = 200
    cfg.train.snapshot_every = 50
    cfg.train.learning_rate = 0.05
    return cfg.validate()
