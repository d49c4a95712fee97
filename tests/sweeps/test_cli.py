"""`nndyn sweep` and `nndyn sweep-plot` as a user meets them: counts first, one-line
errors with exit 2, a progress bar, kill and resume, pictures without a display."""

from __future__ import annotations

import csv
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from . import make_folder

ENV = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONUNBUFFERED": "1"}
ENV.pop("DISPLAY", None)  # sweep-plot must draw without a display
ENV.pop("QT_QPA_PLATFORM", None)


def nndyn(*args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "nndyn_gui.cli", *args],
        capture_output=True,
        text=True,
        env=ENV,
        timeout=timeout,
    )


def one_line_error(p: subprocess.CompletedProcess[str]) -> str:
    assert p.returncode == 2, p.stderr
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("nndyn: error: "), p.stderr
    return lines[0]


def _rows(folder: Path) -> list[dict[str, str]]:
    with open(folder / "results.csv", newline="") as fh:
        return list(csv.DictReader(fh))


# ---------------------------------------------------------------------- bad input
@pytest.mark.parametrize(
    ("spec", "needle"),
    [
        ('preset = "resnet-w3-ring"\nfoo = 1\n', "unknown key 'foo'"),
        ('[sweep]\n"model.depht" = [2, 3]\n', "model.depht: unknown field"),
        ('[sweep]\n"model.depth" = []\n', "model.depth: the list of values is empty"),
        ('[sweep]\n"model.depth" = "9:3:1"\n', "the range 9:3:1 is empty"),
        (
            'seeds = 50\n[sweep]\n"model.depth" = "1:200:1"\n"model.width" = "2:64:1"\n',
            "200 model.depth x 63 model.width x 50 seeds = 630,000 runs: more than the limit",
        ),
    ],
)
def test_bad_specs_stop_before_anything_starts(tmp_path: Path, spec: str, needle: str) -> None:
    path = tmp_path / "spec.toml"
    path.write_text(spec)
    out = tmp_path / "out"
    line = one_line_error(nndyn("sweep", str(path), "--out", str(out)))
    assert needle in line
    assert not out.exists()  # nothing was started or written


def test_dry_run_shows_the_count_and_every_run_and_writes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "spec.toml"
    path.write_text('seeds = [0, 5]\n[sweep]\n"model.width" = [2, 3]\n')
    p = nndyn("sweep", str(path), "--out", str(tmp_path / "out"), "--dry-run")
    assert p.returncode == 0, p.stderr
    assert p.stderr.strip() == "sweep: 2 model.width x 2 seeds = 4 runs"
    assert p.stdout.splitlines()[-1].split() == ["3", "model.width=3", "train.seed=5"]
    assert not (tmp_path / "out").exists()


def test_flags_that_make_no_sense_are_one_line_errors(tmp_path: Path) -> None:
    path = tmp_path / "spec.toml"
    path.write_text("seeds = 1\n")
    out = str(tmp_path / "o")
    assert "--workers" in one_line_error(nndyn("sweep", str(path), "--out", out, "--workers", "-1"))
    both = nndyn("sweep", str(path), "--out", out, "--workers", "2", "--scheduler", "tcp://x:1")
    assert "not both" in one_line_error(both)
    assert "required" in one_line_error(nndyn("sweep", str(path)))


# ---------------------------------------------------------------------- kill and resume
KILL_SPEC = """
set = ["data.n=200", "model.h=0.5", "train.steps=2500", "train.snapshot_every=500",
       "train.steps_per_call=500", "train.optimizer=adam", "train.learning_rate=0.02"]
seeds = 1
[sweep]
"model.width" = [2]
"model.depth" = [2, 3, 4, 5, 6, 7]
"""  # six shapes: six jobs of one run each (runs of one shape would go as one ensemble job)


@pytest.mark.slow
def test_a_killed_sweep_resumes_and_loses_at_most_the_runs_in_flight(tmp_path: Path) -> None:
    spec, out = tmp_path / "spec.toml", tmp_path / "out"
    spec.write_text(KILL_SPEC)
    cmd = [sys.executable, "-m", "nndyn_gui.cli", "sweep", str(spec), "--out", str(out)]
    proc = subprocess.Popen(
        [*cmd, "--workers", "1"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env=ENV,
        start_new_session=True,  # the sweep and its worker are killed together
    )
    journal = out / "runs.jsonl"
    deadline = time.monotonic() + 240
    try:
        while time.monotonic() < deadline:
            if journal.exists() and journal.read_text().count("\n") >= 1:
                break
            if proc.poll() is not None:
                pytest.fail(f"the sweep ended before it could be killed: {proc.stderr.read()}")
            time.sleep(0.02)
        else:
            pytest.fail("no run finished within 240 s")
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        first_err = proc.communicate()[1]
    assert first_err.splitlines()[0] == "sweep: 1 model.width x 6 model.depth x 1 seeds = 6 runs"
    kept = [line for line in journal.read_text().splitlines() if line.strip()]
    k = len(kept)
    assert 1 <= k < 6
    files = {p: p.stat().st_mtime_ns for p in (out / "runs").glob("*.nndyn")}
    assert len(files) == k  # every run with a row has its file, and only those

    p = nndyn(*cmd[3:], "--workers", "1")
    assert p.returncode == 0, p.stderr
    assert f"sweep: {k} done already, {6 - k} to run on 1 local worker process" in p.stderr
    # the bar: runs done / to run, [elapsed<ETA, rate]
    assert f"{6 - k}/{6 - k} [" in p.stderr
    assert re.search(r"\[\d\d:\d\d<\d\d:\d\d, +[\d.]+(s/run|run/s)", p.stderr), p.stderr
    rows = _rows(out)
    assert len(rows) == 6 and {r["status"] for r in rows} == {"finished"}
    assert [int(r["index"]) for r in rows] == list(range(6))
    for path, mtime in files.items():
        assert path.stat().st_mtime_ns == mtime  # finished runs were not trained again
    again = nndyn(*cmd[3:])
    assert again.returncode == 0 and "all 6 runs are done already" in again.stderr


@pytest.mark.slow
def test_ctrl_c_lets_the_runs_in_flight_finish_and_exits_130(tmp_path: Path) -> None:
    spec, out = tmp_path / "spec.toml", tmp_path / "out"
    spec.write_text(KILL_SPEC)
    proc = subprocess.Popen(
        [sys.executable, "-m", "nndyn_gui.cli", "sweep", str(spec), "--out", str(out),
         "--workers", "1"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=ENV,
        start_new_session=True,
    )  # fmt: skip
    journal = out / "runs.jsonl"
    deadline = time.monotonic() + 240
    while not (journal.exists() and journal.read_text().count("\n") >= 1):
        assert proc.poll() is None and time.monotonic() < deadline
        time.sleep(0.02)
    k = journal.read_text().count("\n")
    os.killpg(proc.pid, signal.SIGINT)  # what a terminal sends: to the sweep and its worker
    err = proc.communicate(timeout=120)[1]
    assert proc.returncode == 130, err
    assert "stopping after the runs in flight" in err and "run the same command again" in err
    assert "abandoned" not in err
    rows = _rows(out)
    # the run that was training when Ctrl+C came finished and has its row
    assert k + 1 <= len(rows) < 6 and {r["status"] for r in rows} == {"finished"}


# ---------------------------------------------------------------------- pictures
FAKE = {"seeds": [0, 1], "sweep": {"model.width": [2, 3], "model.depth": [2, 4, 8]}}


def test_sweep_plot_writes_png_and_svg_without_a_display(tmp_path: Path) -> None:
    import imageio.v3 as iio

    folder = make_folder(tmp_path / "sw", FAKE)
    png = tmp_path / "h.png"
    p = nndyn(
        "sweep-plot", str(folder), "--x", "model.depth", "--y", "model.width", "--out", str(png)
    )
    assert p.returncode == 0, p.stderr
    assert "3 x 2 cells, 12 runs counted of 12" in p.stderr
    img = iio.imread(png)
    assert img.shape[:2] == (700, 1000)
    # two rows of cells in two colours (width 2: 20.5 %, width 3: 30.5 %), plus white
    colours = {tuple(c) for c in img[::7, ::7, :3].reshape(-1, 3)}
    assert len(colours) > 20 and np.asarray(img[:, :, :3]).std() > 30
    svg = tmp_path / "h.svg"
    p = nndyn(
        "sweep-plot", str(folder), "--x", "model.depth", "--y", "model.width",
        "--metric", "dense_accuracy", "--agg", "min", "--out", str(svg),
    )  # fmt: skip
    assert p.returncode == 0, p.stderr
    text = svg.read_text()
    assert "<svg" in text and "dense accuracy — min per cell" in text
    assert "Depth T" in text and "Width d" in text  # the panel's words, not model.depth
    assert "20.0%" in text and "30.0%" in text  # min over seeds 0, 1 of width/10 + seed/100
    assert "n=2" in text


def test_sweep_plot_colours_from_the_lowest_to_the_highest_cell_when_asked(
    tmp_path: Path,
) -> None:
    folder = make_folder(tmp_path / "sw", FAKE)
    svg = {}
    for scale in ("absolute", "range"):
        out = tmp_path / f"{scale}.svg"
        p = nndyn(
            "sweep-plot", str(folder), "--x", "model.depth", "--y", "model.width",
            "--colours", scale, "--out", str(out),
        )  # fmt: skip
        assert p.returncode == 0, p.stderr
        svg[scale] = out.read_text()
    assert "colours: 0–100 %" in svg["absolute"] and ">100%<" in svg["absolute"]
    assert "colours: lowest to highest cell" in svg["range"] and ">100%<" not in svg["range"]
    assert "--colours" in one_line_error(
        nndyn("sweep-plot", str(folder), "--x", "model.depth", "--y", "model.width",
              "--colours", "rainbow")
    )  # fmt: skip


def test_sweep_plot_default_name_and_where(tmp_path: Path) -> None:
    folder = make_folder(tmp_path / "sw", FAKE)
    p = nndyn(
        "sweep-plot", str(folder), "--x", "model.depth", "--y", "train.seed",
        "--where", "model.width=3",
    )  # fmt: skip
    assert p.returncode == 0, p.stderr
    assert (folder / "heatmap-dense_accuracy.png").is_file()
    assert "3 x 2 cells, 6 runs counted" in p.stderr


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--x", "model.depth", "--y", "model.width", "--metric", "acc"], "--metric acc: not in"),
        (["--x", "model.h", "--y", "model.width"], "--x model.h: not a swept field"),
        (["--x", "model.depth", "--y", "model.depth"], "two different fields"),
        (["--x", "model.depth", "--y", "model.width", "--agg", "sum"], "--agg sum"),
        (["--x", "model.depth", "--y", "model.width", "--where", "model.width=5"], "takes the"),
        (["--x", "model.depth", "--y", "model.width", "--out", "h.gif"], "use .png, .svg"),
        (["--x", "model.depth", "--y", "model.width", "--size", "big"], "--size big"),
    ],
)
def test_sweep_plot_bad_input(tmp_path: Path, args: list[str], needle: str) -> None:
    folder = make_folder(tmp_path / "sw", FAKE)
    assert needle in one_line_error(nndyn("sweep-plot", str(folder), *args))


def test_sweep_plot_on_a_folder_that_is_no_sweep(tmp_path: Path) -> None:
    line = one_line_error(nndyn("sweep-plot", str(tmp_path), "--x", "a", "--y", "b"))
    assert "not a 'nndyn sweep' folder" in line


# ---------------------------------------------------------------------- issue 25
@pytest.mark.timing
def test_dry_run_of_a_million_runs_is_quick_and_small(tmp_path: Path) -> None:
    """--dry-run of 10**6 seeds built every config first: 168 s and 1.2 GB."""
    from tests.reliability import PYTHON, run_measured, subprocess_env

    path = tmp_path / "spec.toml"
    path.write_text("seeds = 1000000\n")
    r = run_measured(
        [PYTHON, "-m", "nndyn_gui.cli", "sweep", str(path), "--out", str(tmp_path / "o"),
         "--max-runs", "1000000", "--dry-run"],
        120, env=subprocess_env(), memory_limit_mb=2048, cwd=tmp_path,
    )  # fmt: skip
    assert r.rc == 0, r.stderr
    assert r.seconds < 60 and r.peak_mb < 400, (r.seconds, r.peak_mb)
    assert "1000000 seeds = 1,000,000 runs" in r.stderr
    assert not (tmp_path / "o").exists()


def test_sweep_refuses_an_empty_out_before_anything_starts(tmp_path: Path) -> None:
    """`--out ""` wrote the sweep into the current folder; `train` refuses it."""
    path = tmp_path / "spec.toml"
    path.write_text("seeds = 1\n")
    for out in ("", "  "):
        p = subprocess.run(
            [sys.executable, "-m", "nndyn_gui.cli", "sweep", str(path), "--out", out],
            capture_output=True, text=True, env=ENV, timeout=60, cwd=tmp_path,
        )  # fmt: skip
        assert "--out: the folder name is empty" in one_line_error(p)
    assert sorted(x.name for x in tmp_path.iterdir()) == ["spec.toml"]
