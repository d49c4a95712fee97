"""A sweep trains its runs of one shape as ensemble jobs; its rows stay those of runs alone."""

from __future__ import annotations

import csv
import math
from pathlib import Path
from typing import Any

import pytest

from nndyn_gui.core.sweep import runner
from nndyn_gui.core.sweep.backends import InlineBackend
from nndyn_gui.core.sweep.runner import Sweep
from nndyn_gui.core.sweep.spec import parse_spec


def _spec() -> Any:
    return parse_spec(
        {
            "set": [
                "data.n=200",
                "model.width=3",
                "model.h=0.3",
                "train.optimizer=sgd",
                "train.batch_size=25",
                "train.steps=200",
                "train.snapshot_every=50",
            ],
            "seeds": [0, 1, 2],
            "sweep": {"model.depth": [4, 6], "train.learning_rate": [0.05, 0.2]},
        }
    )


def _rows(folder: Path) -> list[dict[str, str]]:
    with open(folder / "results.csv", newline="") as fh:
        return [
            {k: v for k, v in r.items() if k not in ("seconds", "worker")}
            for r in csv.DictReader(fh)
        ]


def test_runs_of_one_shape_go_as_ensembles_and_the_rows_are_unchanged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("tensorflow")
    sizes: list[int] = []
    real = runner.run_jobs

    def counting(configs: Any, metrics: Any) -> Any:
        sizes.append(len(configs))
        return real(configs, metrics)

    monkeypatch.setattr(runner, "run_jobs", counting)
    with Sweep(_spec(), tmp_path / "together") as sweep:
        report = sweep.run(InlineBackend())
    assert report.counts == {"finished": 12}
    assert sorted(sizes) == [6, 6]  # per depth: 2 learning rates x 3 seeds
    with Sweep(_spec(), tmp_path / "alone") as sweep:
        sweep.run(InlineBackend(), members=1)
    assert sizes == [6, 6]  # no ensemble the second time
    together, alone = _rows(tmp_path / "together"), _rows(tmp_path / "alone")
    assert len(together) == len(alone) == 12
    for t, a in zip(together, alone, strict=True):
        assert t.keys() == a.keys()
        for col, v in a.items():
            # status, message, steps, file, key: identical; a number may differ in its
            # last digit (XLA's code for S members vs one; core/train/ensemble.py)
            if v == t[col]:
                continue
            assert math.isclose(float(t[col]), float(v), rel_tol=1e-12), (a["index"], col)


def test_groups_spread_one_shape_over_the_workers() -> None:
    jobs = _spec().jobs()
    groups = runner._groups(jobs, 8, workers=2)
    assert sorted(len(g) for g in groups) == [3, 3, 3, 3]
    assert sorted(j.index for g in groups for j in g) == [j.index for j in jobs]
    assert all(len({j.config.model.depth for j in g}) == 1 for g in groups)
    assert [len(g) for g in runner._groups(jobs, 1, workers=2)] == [1] * 12
