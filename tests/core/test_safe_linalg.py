"""SVDs never see NaN or Inf: diagnostics and topology of overflowing nets stay quick and
quiet (OpenBLAS's SVD of a matrix mixing Inf with finite numbers may never return)."""

from __future__ import annotations

import subprocess
import sys
import warnings

import numpy as np

from nndyn_gui.core.analysis.diagnostics import block_diagnostics
from nndyn_gui.core.analysis.safe_linalg import finite_mask, finite_svd
from nndyn_gui.core.analysis.topology import winding_plane
from nndyn_gui.core.config import RunConfig
from nndyn_gui.core.net.initial_weights import initial_weights
from nndyn_gui.core.types import NetWeights


def test_a_block_whose_jacobian_overflows_gets_nan_numbers_only_for_itself() -> None:
    cfg = RunConfig()
    cfg.model.width, cfg.model.depth, cfg.model.h = 3, 3, 10.0
    w = initial_weights(cfg.model, 0)
    w.A[1, 0, 0] = 1e308  # finite, but I + h A is not
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "overflow encountered" lines for the user
        blocks = block_diagnostics(cfg.model, w)
    assert np.isnan(blocks[1].singular_values).all() and not blocks[1].invertible
    for k in (0, 2):
        assert blocks[k].spectral_norm == np.linalg.norm(w.A[k], 2)
        assert np.isfinite(blocks[k].singular_values).all()


def test_winding_plane_of_a_loop_whose_mean_overflows_is_a_plane() -> None:
    rng = np.random.default_rng(0)
    loop = rng.uniform(-1, 1, (2000, 3))
    loop[:2, 0] = 1.7e308  # finite points; their sum is not
    for head in (np.array([0.0, 1.0, 0.0]), np.zeros(3)):
        w = NetWeights(np.zeros((1, 3, 3)), np.zeros((1, 3)), head, 0.0)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            plane = winding_plane(w, loop)
        assert plane.shape == (2, 3) and np.allclose(plane @ plane.T, np.eye(2))


def test_finite_svd_refuses_what_would_hang() -> None:
    """In a child with a timeout: a regression hangs there, not in the suite."""
    code = (
        "import numpy as np\n"
        "from nndyn_gui.core.analysis.safe_linalg import finite_svd\n"
        "a = np.random.default_rng(0).random((200, 3)); a[5, 0] = np.inf\n"
        "print(finite_svd(a, full_matrices=False))\n"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=30)
    assert r.returncode == 0 and r.stdout.strip() == "None", r.stderr[-2000:]
    ok = np.eye(3)[None].repeat(2, 0)
    ok[1, 0, 0] = np.nan
    assert finite_mask(ok).tolist() == [True, False]
    assert finite_svd(np.eye(3), compute_uv=False).tolist() == [1.0, 1.0, 1.0]
