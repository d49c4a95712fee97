"""`nndyn train --out` never loses work: signals, bad --out paths, interrupted saves.

A batch job is stopped by SIGTERM (a timeout, a scheduler) or SIGHUP (a closed ssh
session) as often as by Ctrl+C; all three must save the steps done so far. An --out
that cannot be written must be found before the training, not after it.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from nndyn_gui.cli import commands as cli
from nndyn_gui.cli import train as cli_train
from nndyn_gui.core.io.runfile import load_run, save_run

from . import REPO, nndyn_cmd, subprocess_env, tiny_run

TINY = ["--set", "data.n=120", "--set", "model.width=2", "--set", "model.depth=2"]
TINY += ["--set", "train.snapshot_every=20", "--set", "train.steps_per_call=20"]


@pytest.fixture
def no_training(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Replace the trainer: records whether training started (no TensorFlow needed)."""
    started: list[Any] = []

    def fake(cfg: Any, ds: Any, quiet: bool) -> Any:
        started.append(cfg)
        return _result(cfg), False

    monkeypatch.setattr(cli_train, "_run_training", fake)
    return started


def _result(cfg: Any) -> Any:
    from nndyn_gui.core.net.initial_weights import initial_weights
    from nndyn_gui.core.types import Snapshot, TrainResult

    w = initial_weights(cfg.model, 0)
    return TrainResult("finished", [Snapshot(0, 0.7, 0.5, 0.5, w)], "Finished.")


# ---------------------------------------------------------------------- item 11
@contextlib.contextmanager
def _read_only_folder(tmp_path: Path) -> Iterator[Path]:
    folder = tmp_path / "ro"
    folder.mkdir()
    if os.geteuid() != 0:
        folder.chmod(0o555)
        yield folder
        folder.chmod(0o755)
        return
    r = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "ro,size=1m", "tmpfs", str(folder)], capture_output=True
    )
    if r.returncode:
        pytest.skip("root, and mounting a read-only tmpfs is not permitted here")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], capture_output=True)


def test_read_only_out_folder_is_refused_before_training(
    tmp_path: Path, no_training: list[Any], capsys: pytest.CaptureFixture[str]
) -> None:
    with _read_only_folder(tmp_path) as folder:
        rc = cli.main(["train", "--quiet", "--out", str(folder / "run.nndyn")])
    err = capsys.readouterr().err.strip()
    assert rc == 2 and no_training == [], err
    assert err.startswith("nndyn: error: --out") and "nothing was trained" in err, err
    assert len(err.splitlines()) == 1


# ---------------------------------------------------------------------- item 17
def test_empty_out_is_refused_before_training(
    no_training: list[Any], capsys: pytest.CaptureFixture[str]
) -> None:
    """`--out ""` trained and saved nothing, without a word."""
    assert cli.main(["train", "--quiet", "--out", ""]) == 2
    assert no_training == []
    assert "--out: the file name is empty" in capsys.readouterr().err


def test_saving_onto_a_symlink_writes_its_target(tmp_path: Path) -> None:
    """The link was replaced by a regular file; the file it points to kept the old run."""
    real = tmp_path / "runs" / "real.nndyn"
    real.parent.mkdir()
    real.write_bytes(b"old")
    link = tmp_path / "latest.nndyn"
    link.symlink_to(real)
    save_run(tiny_run(), link)
    assert link.is_symlink() and Path(os.readlink(link)) == real
    assert [s.step for s in load_run(real).snapshots] == [0, 10, 20]
    assert sorted(p.name for p in real.parent.iterdir()) == ["real.nndyn"]


def test_temp_file_of_a_killed_save_is_removed_by_the_next_save(tmp_path: Path) -> None:
    """kill -9 mid-write left a hidden `.run.nndyn.*.tmp` that nothing removed."""
    target = tmp_path / "run.nndyn"
    stale = tmp_path / ".run.nndyn.k1ll3d.tmp"
    stale.write_bytes(b"half a zip")
    past = time.time() - 3600  # untouched for an hour: its writer is long gone
    os.utime(stale, (past, past))
    fresh = tmp_path / ".run.nndyn.inflight.tmp"  # another save, still writing
    fresh.write_bytes(b"being written")
    other = tmp_path / ".other.nndyn.k1ll3d.tmp"
    other.write_bytes(b"not ours")
    os.utime(other, (past, past))
    save_run(tiny_run(), target)
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == [".other.nndyn.k1ll3d.tmp", ".run.nndyn.inflight.tmp", "run.nndyn"]


# ---------------------------------------------------------------------- signals
def _handler_installed(pid: int, sig: int) -> bool:
    """True once the process catches `sig` (bit sig-1 of SigCgt in /proc/PID/status)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("SigCgt:"):
                return bool(int(line.split()[1], 16) >> (sig - 1) & 1)
    except OSError:
        pass
    return False


def test_ctrl_c_in_the_first_second_is_not_a_traceback(tmp_path: Path) -> None:
    """Ctrl+C while TensorFlow was still loading printed a KeyboardInterrupt traceback."""
    out = tmp_path / "early.nndyn"
    proc = subprocess.Popen(
        nndyn_cmd("train", *TINY, "--set", "train.steps=100000", "--out", str(out)),
        cwd=REPO,
        env=subprocess_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 1.0
        while not _handler_installed(proc.pid, signal.SIGTERM) and time.monotonic() < deadline:
            time.sleep(0.005)
        proc.send_signal(signal.SIGINT)
        _out, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 130, err[-3000:]
    assert "Traceback" not in err and "KeyboardInterrupt" not in err, err[-3000:]
    assert "interrupted" in err


def _train_until_running(out: Path) -> tuple[subprocess.Popen[bytes], bytearray]:
    proc = subprocess.Popen(
        nndyn_cmd("train", *TINY, "--set", "train.steps=1000000", "--out", str(out)),
        cwd=REPO,
        env=subprocess_env(PYTHONUNBUFFERED="1"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    seen = bytearray()
    started = threading.Event()

    def pump() -> None:
        assert proc.stderr is not None
        while chunk := proc.stderr.read1(256):  # type: ignore[attr-defined]
            seen.extend(chunk)
            if b"training" in seen and b"step/s" in seen:
                started.set()

    threading.Thread(target=pump, daemon=True).start()
    assert started.wait(120), seen.decode(errors="replace")[-3000:]
    return proc, seen


@pytest.mark.slow
def test_ctrl_c_sigterm_and_sighup_stop_training_and_save_the_steps_so_far(
    tmp_path: Path,
) -> None:
    """A timeout (SIGTERM) or a closed ssh session (SIGHUP) after a while of training gave
    rc -15 / -1 and no file; now they stop like Ctrl+C (SIGINT): the run is saved, with
    the steps trained so far, rc 128 + N (130 for Ctrl+C), no traceback."""
    runs = {
        sig: _train_until_running(tmp_path / f"{sig.name}.nndyn")
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
    }
    time.sleep(0.5)
    for sig, (proc, _seen) in runs.items():
        proc.send_signal(sig)
    for sig, (proc, seen) in runs.items():
        rc = proc.wait(90)
        text = seen.decode(errors="replace")
        assert rc == 128 + sig, (sig.name, rc, text[-3000:])
        assert "Traceback" not in text
        run = load_run(tmp_path / f"{sig.name}.nndyn")
        assert run.status == "cancelled" and run.snapshots[-1].step > 0, sig.name
