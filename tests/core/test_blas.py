"""Every nndyn process runs numpy's BLAS on one thread (core/io/blas.py): OpenBLAS's
spinning threads made the density push 10-20x slower on a loaded 2-core machine."""

from __future__ import annotations

import os
import subprocess
import sys


def _threads(code: str, env: dict[str, str]) -> str:
    probe = (
        "from threadpoolctl import threadpool_info; "
        "print([i['num_threads'] for i in threadpool_info() if i['user_api'] == 'blas'])"
    )
    out = subprocess.run(
        [sys.executable, "-c", f"import numpy; {code}; {probe}"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return out.stdout.strip()


def test_one_blas_thread_unless_the_user_chose() -> None:
    env = {k: v for k, v in os.environ.items() if not k.endswith("_NUM_THREADS")}
    call = "from nndyn_gui.core.io import blas; blas.one_thread()"
    assert _threads(call, env) == "[1]"
    assert _threads(call, {**env, "OPENBLAS_NUM_THREADS": "2"}) == "[2]"  # their choice


def test_the_command_line_limits_blas_to_one_thread() -> None:
    env = {k: v for k, v in os.environ.items() if not k.endswith("_NUM_THREADS")}
    code = "from nndyn_gui.cli.commands import main; main(['presets'])"
    assert _threads(code, env).splitlines()[-1] == "[1]"
