"""Running sweeps: results files, failing runs as rows, resume, the pool and Dask paths."""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path
from typing import Any

import pytest

from nndyn_gui.core.io.runfile import load_run
from nndyn_gui.core.sweep.backends import DaskBackend, InlineBackend, PoolBackend, SweepError
from nndyn_gui.core.sweep.runner import JOURNAL, Sweep
from nndyn_gui.core.sweep.spec import SweepSpec, parse_spec

from . import CRASHES_DEPTH, RAISES_DEPTH, fake_job, fake_value

TINY = [
    "data.n=120",
    "model.kind=resnet",
    "model.h=0.5",
    "train.steps=60",
    "train.snapshot_every=30",
    "train.steps_per_call=30",
    "train.optimizer=adam",
    "train.learning_rate=0.05",
]


def _spec(
    depths: list[int], seeds: list[int] | int = 2, widths: list[int] | None = None
) -> SweepSpec:
    return parse_spec(
        {
            "set": TINY,
            "seeds": seeds,
            "sweep": {"model.width": widths or [2, 3], "model.depth": depths},
        }
    )


def _csv_rows(folder: Path) -> list[dict[str, str]]:
    with open(folder / "results.csv", newline="") as fh:
        return list(csv.DictReader(fh))


def test_every_run_is_a_row_in_csv_and_json_with_its_run_file(tmp_path: Path) -> None:
    spec = _spec([2, RAISES_DEPTH])
    with Sweep(spec, tmp_path / "out") as sweep:
        report = sweep.run(InlineBackend(), job=fake_job)
    assert report.total == report.ran == 8 and report.counts == {"finished": 4, "failed": 4}
    rows = _csv_rows(tmp_path / "out")
    assert [int(r["index"]) for r in rows] == list(range(8))
    assert list(rows[0])[:4] == ["index", "model.width", "model.depth", "train.seed"]
    for r in rows:
        if r["model.depth"] == str(RAISES_DEPTH):
            # a failing run is a row with its reason, not the end of the sweep
            assert r["status"] == "failed" and "boom at depth 13" in r["message"]
            assert r["file"] == "" and r["dense_accuracy"] == ""
        else:
            assert r["status"] == "finished"
            run = load_run(tmp_path / "out" / r["file"])
            assert run.config.model.width == int(r["model.width"])
            assert run.config.train.seed == int(r["train.seed"])
            assert float(r["dense_accuracy"]) == pytest.approx(fake_value(run.config))
    doc = json.loads((tmp_path / "out" / "results.json").read_text())
    assert doc["fields"] == ["model.width", "model.depth", "train.seed"]
    assert len(doc["rows"]) == 8 and doc["rows"][0]["model.width"] == 2
    assert doc["spec"]["n_runs"] == 8


def test_rerun_skips_finished_runs_and_retries_failed_ones(tmp_path: Path) -> None:
    out = tmp_path / "out"
    calls: list[tuple[int, int]] = []

    def counting(cfg: Any, metrics: Any = ()) -> Any:
        calls.append((cfg.model.depth, cfg.train.seed))
        return fake_job(cfg, metrics)

    spec = _spec([2, RAISES_DEPTH], seeds=1)
    with Sweep(spec, out) as sweep:
        sweep.run(InlineBackend(), job=counting)
    files = {p.name: p.stat().st_mtime_ns for p in (out / "runs").iterdir()}
    calls.clear()
    with Sweep(spec, out) as sweep:
        assert [j.config.model.depth for j in sweep.todo] == [RAISES_DEPTH, RAISES_DEPTH]
        report = sweep.run(InlineBackend(), job=counting)
    assert calls == [(RAISES_DEPTH, 0), (RAISES_DEPTH, 0)]  # only the failed ones again
    assert report.skipped == 2 and report.ran == 2
    assert {p.name: p.stat().st_mtime_ns for p in (out / "runs").iterdir()} == files
    assert len(_csv_rows(out)) == 4  # one row per run, not one per attempt


def test_a_run_whose_file_is_gone_is_run_again(tmp_path: Path) -> None:
    out = tmp_path / "out"
    spec = _spec([2], seeds=1)
    with Sweep(spec, out) as sweep:
        sweep.run(InlineBackend(), job=fake_job)
    victim = sorted((out / "runs").iterdir())[0]
    victim.unlink()
    with Sweep(spec, out) as sweep:
        assert len(sweep.todo) == 1
        sweep.run(InlineBackend(), job=fake_job)
    assert victim.is_file()


def test_a_torn_journal_line_from_a_kill_loses_only_that_run(tmp_path: Path) -> None:
    out = tmp_path / "out"
    spec = _spec([2], seeds=2)
    with Sweep(spec, out) as sweep:
        sweep.run(InlineBackend(), job=fake_job)
    journal = out / JOURNAL
    lines = journal.read_text().splitlines()
    journal.write_text("\n".join(lines[:-1]) + "\n" + lines[-1][:25])  # killed mid-line
    with Sweep(spec, out) as sweep:
        assert len(sweep.todo) == 1
        sweep.run(InlineBackend(), job=fake_job)
    rows = _csv_rows(out)
    assert len(rows) == 4 and {r["status"] for r in rows} == {"finished"}


def test_folder_of_another_sweep_or_in_use_is_refused(tmp_path: Path) -> None:
    out = tmp_path / "out"
    with Sweep(_spec([2], seeds=1), out) as sweep:
        with pytest.raises(SweepError, match="in use by another running sweep"):
            Sweep(_spec([2], seeds=1), out)
        sweep.run(InlineBackend(), job=fake_job)
    with pytest.raises(SweepError, match=r"holds another sweep .*axes.*new --out"):
        Sweep(_spec([2, 3], seeds=1), out)
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "notes.txt").write_text("mine")
    with pytest.raises(SweepError, match="not empty and holds no sweep"):
        Sweep(_spec([2], seeds=1), tmp_path / "other")


def test_cancel_stops_new_runs_and_keeps_the_finished_ones(tmp_path: Path) -> None:
    import threading

    cancel = threading.Event()
    seen: list[int] = []

    def on_progress(p: Any) -> None:
        seen.append(p.done)
        if p.done == 2:
            cancel.set()

    with Sweep(_spec([2, 3], seeds=2), tmp_path / "out") as sweep:
        report = sweep.run(InlineBackend(), job=fake_job, on_progress=on_progress, cancel=cancel)
    assert report.cancelled and report.ran == 2 and not report.complete
    assert len(_csv_rows(tmp_path / "out")) == 2 and seen == [1, 2]


def test_a_worker_that_dies_breaks_no_other_run(tmp_path: Path) -> None:
    """os._exit in one job breaks the whole process pool: the pool is rebuilt, the other
    runs are done once each, and the job that kills its worker alone is a failed row."""
    spec = _spec([2, CRASHES_DEPTH], seeds=1, widths=[2])
    with Sweep(spec, tmp_path / "out") as sweep:
        report = sweep.run(PoolBackend(2), job=fake_job)
    rows = {int(r["model.depth"]): r for r in _csv_rows(tmp_path / "out")}
    assert report.ran == 2 and len(rows) == 2
    assert rows[2]["status"] == "finished"
    assert rows[CRASHES_DEPTH]["status"] == "failed"
    assert "worker process died" in rows[CRASHES_DEPTH]["message"]


# ---------------------------------------------------------------------- real training
def _tiny_real_spec() -> SweepSpec:
    """Two tiny real trainings: lr 0.05 finishes, lr 100 diverges (SGD, relu)."""
    return parse_spec(
        {
            "set": [
                "data.n=200",
                "model.width=2",
                "model.depth=4",
                "model.h=0.5",
                "model.activation=relu",
                "train.optimizer=sgd",
                "train.steps=100",
                "train.snapshot_every=2",
            ],
            "seeds": [0],
            "sweep": {"train.learning_rate": [0.05, 100.0]},
        }
    )


def _check_real_rows(folder: Path) -> dict[str, dict[str, str]]:
    rows = {r["train.learning_rate"]: r for r in _csv_rows(folder)}
    ok, bad = rows["0.05"], rows["100.0"]
    assert ok["status"] == "finished" and int(ok["steps"]) == 100
    for col in ("train_acc", "test_acc", "dense_accuracy", "wrong_side_share", "transport"):
        assert 0.0 <= float(ok[col]) <= 1.0 or col == "transport"
    assert ok["winding"] in ("1.0", "-1.0")  # this width-2 ResNet stays invertible
    assert float(ok["max_lip_product"]) < 1
    assert float(ok["max_lip_product"]) > 0 and float(ok["seconds"]) > 0
    assert bad["status"] == "diverged" and "diverged" in bad["message"].lower()
    run = load_run(folder / ok["file"])
    assert run.status == "finished" and run.snapshots[-1].step == 100
    return rows


def test_real_runs_on_the_local_pool_finish_or_diverge_as_rows(tmp_path: Path) -> None:
    pytest.importorskip("tensorflow")
    with Sweep(_tiny_real_spec(), tmp_path / "out") as sweep:
        report = sweep.run(PoolBackend(1))
    assert report.counts == {"finished": 1, "diverged": 1}
    _check_real_rows(tmp_path / "out")


def test_dask_local_cluster_runs_the_same_jobs_to_the_same_numbers(tmp_path: Path) -> None:
    pytest.importorskip("tensorflow")
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(
        n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None
    ) as cluster:
        backend = DaskBackend(cluster.scheduler_address)
        assert "Dask cluster" in backend.describe()
        with Sweep(_tiny_real_spec(), tmp_path / "dask") as sweep:
            report = sweep.run(backend)
    assert report.counts == {"finished": 1, "diverged": 1}
    dask_rows = _check_real_rows(tmp_path / "dask")
    with Sweep(_tiny_real_spec(), tmp_path / "inline") as sweep:
        sweep.run(InlineBackend())
    inline_rows = _check_real_rows(tmp_path / "inline")
    for lr in ("0.05", "100.0"):
        for col in ("dense_accuracy", "winding", "transport", "steps"):
            a, b = dask_rows[lr][col], inline_rows[lr][col]
            assert a == b or math.isclose(float(a), float(b), rel_tol=1e-9)


def test_unreachable_scheduler_is_a_clear_error() -> None:
    with pytest.raises(
        SweepError, match=r"cannot reach the Dask scheduler at tcp://127\.0\.0\.1:9"
    ):
        DaskBackend("tcp://127.0.0.1:9", timeout=2)
