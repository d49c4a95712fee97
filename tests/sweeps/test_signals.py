"""`nndyn sweep` under SIGTERM, SIGHUP and kill -9 (issue 25, item 13): it was killed
with no message (rc -15 / -1), lost the runs in flight, and left its two pool workers
(~740 MB each with TensorFlow) and the resource tracker running for good.

The sweeps here run the stand-in job (tests.sweeps.fake_job, 1.5 s per run, no
TensorFlow) on two real pool processes, through the real command line.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
CHILD = (
    "import sys; from nndyn_gui.core.sweep import runner as sweep_runner; "
    "from tests.sweeps import fake_job; sweep_runner.run_job = fake_job; "
    "from nndyn_gui.cli.commands import main; sys.exit(main(sys.argv[1:]))"
)
SPEC = 'seeds = 10\n[sweep]\n"model.width" = [2]\n'


def _env() -> dict[str, str]:
    env = {**os.environ, "NNDYN_FAKE_JOB_SLEEP": "1.5", "PYTHONUNBUFFERED": "1"}
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    return env


def _start(tmp_path: Path) -> tuple[subprocess.Popen[str], Path]:
    spec, out = tmp_path / "spec.toml", tmp_path / "out"
    spec.write_text(SPEC)
    proc = subprocess.Popen(
        [sys.executable, "-c", CHILD, "sweep", str(spec), "--out", str(out), "--workers", "2"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=_env(), cwd=tmp_path,
    )  # fmt: skip
    return proc, out


def _journal(out: Path) -> list[dict[str, object]]:
    path = out / "runs.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def _wait_rows(proc: subprocess.Popen[str], out: Path, n: int) -> list[dict[str, object]]:
    deadline = time.monotonic() + 90
    while len(rows := _journal(out)) < n:
        if proc.poll() is not None:
            pytest.fail(f"the sweep ended early: {proc.stderr.read() if proc.stderr else ''}")
        assert time.monotonic() < deadline, "no run finished within 90 s"
        time.sleep(0.05)
    return rows


def _children(pid: int) -> list[int]:
    out = []
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                stat = (d / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                out.append(int(d.name))
    return out


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _all_gone(pids: list[int], within: float) -> bool:
    deadline = time.monotonic() + within
    while any(_alive(p) for p in pids):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


@pytest.mark.parametrize(("sig", "rc"), [(signal.SIGTERM, 143), (signal.SIGHUP, 129)])
def test_sigterm_and_sighup_stop_a_sweep_as_ctrl_c_does(
    tmp_path: Path, sig: signal.Signals, rc: int
) -> None:
    proc, out = _start(tmp_path)
    try:
        k = len(_wait_rows(proc, out, 1))
        children = _children(proc.pid)
        assert len(children) >= 2  # the two workers (and the resource tracker)
        proc.send_signal(sig)  # to the sweep alone, as `kill` or systemd does
        err = proc.communicate(timeout=60)[1]
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == rc, err
    assert f"nndyn: {sig.name}: stopping after the runs in flight" in err
    assert "interrupted; run the same command again to resume" in err
    assert "Traceback" not in err
    rows = _journal(out)
    # the runs in flight when the signal came finished and were journaled
    assert k + 1 <= len(rows) < 10 and {r["status"] for r in rows} == {"finished"}
    assert _all_gone(children, within=10), [p for p in children if _alive(p)]
    again = subprocess.run(
        [sys.executable, "-c", CHILD, "sweep", str(tmp_path / "spec.toml"), "--out", str(out),
         "--workers", "2"],
        capture_output=True, text=True, env=_env(), timeout=120, cwd=tmp_path,
    )  # fmt: skip
    assert again.returncode == 0, again.stderr
    assert f"sweep: {len(rows)} done already, {10 - len(rows)} to run" in again.stderr


def test_workers_end_with_a_sweep_killed_by_sigkill(tmp_path: Path) -> None:
    proc, out = _start(tmp_path)
    try:
        _wait_rows(proc, out, 1)
        children = _children(proc.pid)
        assert len(children) >= 2
        proc.kill()  # kill -9 of the sweep alone: nothing of it can run
        proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
    # the workers notice within a second or two; the resource tracker follows them
    assert _all_gone(children, within=15), [p for p in children if _alive(p)]


def test_sigterm_before_the_runs_start_is_a_message_too(tmp_path: Path) -> None:
    """While nndyn waits for a silent scheduler (up to 15 s), SIGTERM killed it bare."""
    import socket

    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(1)  # accepts (the kernel does) and never says a word
    spec = tmp_path / "spec.toml"
    spec.write_text(SPEC)
    try:
        proc = subprocess.Popen(
            [sys.executable, "-m", "nndyn_gui.cli", "sweep", str(spec), "--out",
             str(tmp_path / "out"), "--scheduler", f"tcp://127.0.0.1:{silent.getsockname()[1]}"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=_env(),
        )  # fmt: skip
        try:
            assert proc.stderr is not None
            assert proc.stderr.readline().startswith("sweep: 1 model.width x 10 seeds")
            time.sleep(1.0)  # the sweep is now waiting for the scheduler's greeting
            proc.send_signal(signal.SIGTERM)
            err = proc.communicate(timeout=10)[1]
        finally:
            if proc.poll() is None:
                proc.kill()
    finally:
        silent.close()
    assert proc.returncode == 143, err
    assert err.strip() == "nndyn: SIGTERM: stopped; run the same command again to resume"
