"""SVDs that never see NaN or Inf.

Why: OpenBLAS's SVD of a matrix that mixes Inf with finite numbers may never return (two
threads at 100 %, SIGTERM ignored; `np.linalg.svd` of [[-inf, 0.5], [0.3, 0.1], ...]),
and diverged runs produce exactly such matrices. Every SVD (and `cond` / `pinv`, which
call it) on numbers derived from a user's run goes through these helpers, which check
finiteness first and let the caller fall back.
"""

from __future__ import annotations

from typing import Any

import numpy as np

#: a matrix with condition number beyond this is treated as singular (no inverse, no
#: isolated fixed point): diagnostics and the field read the same line
MAX_CONDITION = 1e12


def finite_mask(stack: np.ndarray) -> np.ndarray:
    """Per matrix of a (..., m, n) stack: True when all its entries are finite."""
    a = np.asarray(stack)
    return np.asarray(np.isfinite(a).all(axis=(-2, -1)))


def finite_svd(a: np.ndarray, **kw: Any) -> Any:
    """`np.linalg.svd(a, **kw)`, or None when `a` holds NaN/Inf or LAPACK gives up."""
    a = np.asarray(a, dtype=np.float64)
    if not np.isfinite(a).all():
        return None
    try:
        return np.linalg.svd(a, **kw)
    except np.linalg.LinAlgError:
        return None
