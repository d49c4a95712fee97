"""numpy's BLAS on one thread in every nndyn process.

Why: our matrices are tiny (a 3x3 weight times 100,000 points at most), so a BLAS
thread pool has nothing to share out, and OpenBLAS's threads spin while they wait: on a
2-core machine that is also training and painting, pushing the 51-block width-3
preset's density sample through the net took 2.2-4.5 s with OpenBLAS's default two
threads and 0.16-0.42 s with one (`benchmarks/README.md`, "numpy on one BLAS thread"),
and the spinning thread competes with the window's GUI thread for a core. A user who
sets OPENBLAS_NUM_THREADS / OMP_NUM_THREADS keeps their choice.
"""

from __future__ import annotations

import logging
import os

log = logging.getLogger(__name__)

_USER_CHOICE = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def one_thread() -> None:
    """Limit numpy's BLAS to one thread for the rest of this process (see module doc)."""
    if any(os.environ.get(name) for name in _USER_CHOICE):
        return
    from threadpoolctl import threadpool_limits

    threadpool_limits(1, user_api="blas")
    log.debug("numpy's BLAS limited to one thread")
