"""The nine synthetic 2-D distributions a data set is drawn from, in [-1, 1]^2.

Why a module: each is a pure function of a seeded generator, a point count and the
DataConfig (`SAMPLERS[name](rng, n, cfg) -> (x, y)`), with no files and no caching;
core/datasets.py draws from them (and reads CSV files, and splits off the test set).
The `ring` set reproduces the article's distribution (github.com/sergi-andreu/DL_DS,
`generatorringsgap(n, sp=0.15)`): class 0 uniform in radius on r <= 0.35, class 1 on
0.575 <= r <= 1, i.e. a radial gap of 0.225.

Noise convention: for the sets that jitter points (`ring`, `spiral`, `moons`, `xor`,
`checkerboard`) the noise slider adds isotropic Gaussian noise of standard deviation
`NOISE_SCALE * noise` (0.1 at noise = 1, about half the default ring gap; 0.2 for
`moons`), after which
points are clipped back into [-1, 1]^2. `gaussians` widens its blobs, `noisy_ring`
softens its class boundary instead (see the sampler docstrings).

Classes: `data.classes` = K. With K = 2 every set is exactly what it always was (the
same points for the same seed). `spiral` (K arms), `gaussians` (K blobs on a circle),
`rings` (K concentric bands) and `csv` (labels 0..K-1) also come with K > 2; the others
are two-class sets (config validation says so). Labels are balanced: n // K per class,
the first n % K classes one more.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from nndyn_gui.core.config import DataConfig

NOISE_SCALE = 0.1  # std of the Gaussian jitter at noise = 1
MOONS_NOISE_SCALE = 0.2  # moons' arcs are far apart: twice the jitter
RING_R0 = 0.35  # radius of the inner (class 0) disk, as in the article
ARTICLE_GAP = 0.225  # the article's gap: outer annulus 0.575 <= r <= 1
NOISY_RING_CENTRE = 0.575  # radius where P(class 1) = 1/2 for noisy_ring
SPIRAL_BOX = 0.1  # spiral points with |x| < 0.1 and |y| < 0.1 are rejected (article)
CHECKER_CELLS = 4  # checkerboard has CHECKER_CELLS x CHECKER_CELLS cells
XOR_MARGIN = 0.05  # xor points keep this distance from the axes (separable at noise 0)
BLOB_RADIUS = 0.6  # gaussians with K > 2: blob centres on this circle
RINGS_GAP = 0.25  # rings: gap between neighbouring bands, as a share of a band's width

Sampler = Callable[[np.random.Generator, int, DataConfig], tuple[np.ndarray, np.ndarray]]


def _jitter(
    rng: np.random.Generator, x: np.ndarray, noise: float, scale: float = NOISE_SCALE
) -> np.ndarray:
    """Add the documented Gaussian jitter and clip into [-1, 1]^2."""
    if noise > 0:
        x = x + rng.normal(0.0, scale * noise, size=x.shape)
    return np.clip(x, -1.0, 1.0)


def _balanced_labels(rng: np.random.Generator, n: int) -> np.ndarray:
    """n // 2 zeros and the rest ones, shuffled: exact 50/50 balance users can rely on."""
    y = np.zeros(n, dtype=np.int64)
    y[n // 2 :] = 1
    rng.shuffle(y)
    return y


def _balanced_k(rng: np.random.Generator, n: int, k: int) -> np.ndarray:
    """n labels 0..k-1, n // k of each (the first n % k classes one more), shuffled."""
    y = np.arange(n, dtype=np.int64) % k
    rng.shuffle(y)
    return y


def polar(r: np.ndarray, theta: np.ndarray) -> np.ndarray:
    return np.column_stack([r * np.cos(theta), r * np.sin(theta)])


def _sample_ring(
    rng: np.random.Generator, n: int, cfg: DataConfig
) -> tuple[np.ndarray, np.ndarray]:
    """Article ring: class 0 at r = 0.35 U, class 1 at r = (0.35+gap) + (0.65-gap) U.

    Radius (not area) is uniform, exactly like the article's code, so the centre is dense.
    """
    n0 = n // 2
    u = rng.random(n)
    lo = RING_R0 + cfg.gap
    r = np.where(np.arange(n) < n0, RING_R0 * u, lo + (1.0 - lo) * u)
    theta = rng.uniform(0.0, 2.0 * np.pi, size=n)
    y = (np.arange(n) >= n0).astype(np.int64)
    x = _jitter(rng, polar(r, theta), cfg.noise)
    return x, y


def _sample_spiral(
    rng: np.random.Generator, n: int, cfg: DataConfig
) -> tuple[np.ndarray, np.ndarray]:
    """Article spiral: theta = 0.1 + U, r = 1 - theta, point s (r cos 6t, r sin 6t), label s>0.

    Points in the box |x| < 0.1 and |y| < 0.1 are redrawn (after the jitter, so the box is
    always empty). Both arms are symmetric, so keeping each point's label while redrawing
    keeps the exact 50/50 balance.
    """
    if cfg.classes > 2:
        return _sample_spiral_arms(rng, n, cfg)
    y = _balanced_labels(rng, n)
    s = np.where(y == 1, 1.0, -1.0)
    x = np.empty((n, 2))
    todo = np.arange(n)
    while todo.size:
        theta = 0.1 + rng.random(todo.size)
        r = 1.0 - theta
        pts = s[todo, None] * polar(r, 6.0 * theta)
        pts = _jitter(rng, pts, cfg.noise)
        x[todo] = pts
        bad = (np.abs(pts[:, 0]) < SPIRAL_BOX) & (np.abs(pts[:, 1]) < SPIRAL_BOX)
        todo = todo[bad]
    return x, y


def _sample_spiral_arms(
    rng: np.random.Generator, n: int, cfg: DataConfig
) -> tuple[np.ndarray, np.ndarray]:
    """K arms of the article's spiral: arm j is the class-1 arm turned by 2 pi j / K.

    Same radius law and box rule as the two-arm spiral (whose second arm is the first
    turned by pi); points in the central box are redrawn with their label kept.
    """
    k = cfg.classes
    y = _balanced_k(rng, n, k)
    turn = 2.0 * np.pi * y / k
    x = np.empty((n, 2))
    todo = np.arange(n)
    while todo.size:
        theta = 0.1 + rng.random(todo.size)
        r = 1.0 - theta
        pts = polar(r, 6.0 * theta + turn[todo])
        pts = _jitter(rng, pts, cfg.noise)
        x[todo] = pts
        bad = (np.abs(pts[:, 0]) < SPIRAL_BOX) & (np.abs(pts[:, 1]) < SPIRAL_BOX)
        todo = todo[bad]
    return x, y


def _sample_noisy_ring(
    rng: np.random.Generator, n: int, cfg: DataConfig
) -> tuple[np.ndarray, np.ndarray]:
    """Uniform in the unit disk, P(class 1 | r) = logistic((r - 0.575) / tau).

    tau = 0.01 + 0.15 * noise: noise 0 is an almost sharp circle at r = 0.575 with no gap;
    noise 1 gives P ~ 0.03 at the centre and ~ 0.92 at r = 1, i.e. many labels that no
    classifier can get right (the Bayes error grows with noise).
    """
    r = np.sqrt(rng.random(n))
    theta = rng.uniform(0.0, 2.0 * np.pi, size=n)
    tau = 0.01 + 0.15 * cfg.noise
    p1 = 0.5 * (1.0 + np.tanh(0.5 * (r - NOISY_RING_CENTRE) / tau))
    y = (rng.random(n) < p1).astype(np.int64)
    return np.clip(polar(r, theta), -1.0, 1.0), y


def _sample_moons(
    rng: np.random.Generator, n: int, cfg: DataConfig
) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaved half circles (scikit-learn's layout) rescaled by 1/1.5 into the box.

    The arcs are far apart compared with the other sets, so the jitter is doubled
    (std 0.2 at noise 1, scikit-learn's noise=0.3) to make the slider's top end hard.
    """
    y = _balanced_labels(rng, n)
    t = rng.uniform(0.0, np.pi, size=n)
    upper = np.column_stack([np.cos(t), np.sin(t)])
    lower = np.column_stack([1.0 - np.cos(t), 0.5 - np.sin(t)])
    x = np.where(y[:, None] == 0, upper, lower)
    x = (x - np.array([0.5, 0.25])) / 1.5
    return _jitter(rng, x, cfg.noise, MOONS_NOISE_SCALE), y


def _sample_xor(rng: np.random.Generator, n: int, cfg: DataConfig) -> tuple[np.ndarray, np.ndarray]:
    """Uniform square, class 1 where x*y > 0; a 0.05 margin from the axes keeps noise 0 clean."""
    mag = rng.uniform(XOR_MARGIN, 1.0, size=(n, 2))
    sign = np.where(rng.random((n, 2)) < 0.5, -1.0, 1.0)
    x = mag * sign
    y = (x[:, 0] * x[:, 1] > 0).astype(np.int64)
    return _jitter(rng, x, cfg.noise), y


def _sample_gaussians(
    rng: np.random.Generator, n: int, cfg: DataConfig
) -> tuple[np.ndarray, np.ndarray]:
    """Blobs at (-0.5, -0.5) (class 0) and (0.5, 0.5) (class 1), std 0.15 + 0.35 * noise.

    K > 2 blobs: centres on the circle of radius BLOB_RADIUS at angles pi/4 + 2 pi j / K
    (K = 2 would give the same two centres), std 0.1 + 0.25 * noise.
    """
    if cfg.classes > 2:
        k = cfg.classes
        y = _balanced_k(rng, n, k)
        angle = np.pi / 4 + 2.0 * np.pi * y / k
        centre = BLOB_RADIUS * np.column_stack([np.cos(angle), np.sin(angle)])
        x = centre + rng.normal(0.0, 0.1 + 0.25 * cfg.noise, size=(n, 2))
        return np.clip(x, -1.0, 1.0), y
    y = _balanced_labels(rng, n)
    centre = np.where(y[:, None] == 1, 0.5, -0.5)
    std = 0.15 + 0.35 * cfg.noise
    x = centre + rng.normal(0.0, std, size=(n, 2))
    return np.clip(x, -1.0, 1.0), y


def _sample_checkerboard(
    rng: np.random.Generator, n: int, cfg: DataConfig
) -> tuple[np.ndarray, np.ndarray]:
    """4 x 4 checkerboard on the square; the label is the cell parity of the clean point."""
    x = rng.uniform(-1.0, 1.0, size=(n, 2))
    cell = np.minimum(((x + 1.0) / 2.0 * CHECKER_CELLS).astype(np.int64), CHECKER_CELLS - 1)
    y = ((cell[:, 0] + cell[:, 1]) % 2).astype(np.int64)
    return _jitter(rng, x, cfg.noise), y


def _sample_rings(
    rng: np.random.Generator, n: int, cfg: DataConfig
) -> tuple[np.ndarray, np.ndarray]:
    """K concentric bands of equal width 1/K: class 0 the inner disk, class K-1 the outer
    band. A gap of RINGS_GAP of a band's width separates neighbours (half on each side);
    radius uniform within each band (like `ring`); jitter as documented.
    """
    k = cfg.classes
    y = _balanced_k(rng, n, k)
    width = 1.0 / k
    half_gap = 0.5 * RINGS_GAP * width
    lo = np.where(y == 0, 0.0, y * width + half_gap)
    hi = np.where(y == k - 1, 1.0, (y + 1) * width - half_gap)
    r = lo + (hi - lo) * rng.random(n)
    theta = rng.uniform(0.0, 2.0 * np.pi, size=n)
    return _jitter(rng, polar(r, theta), cfg.noise), y


def nested_bands(cfg: DataConfig) -> list[tuple[float, float]]:
    """(inner, outer) radius of every band of `nested_rings`, from the centre outwards:
    the disk, then data.annuli annuli, all as wide, data.gap between neighbours. Band i
    is class i % 2."""
    k = cfg.annuli + 1
    width = (1.0 - cfg.annuli * cfg.gap) / k
    return [(i * (width + cfg.gap), i * (width + cfg.gap) + width) for i in range(k)]


def _sample_nested_rings(
    rng: np.random.Generator, n: int, cfg: DataConfig
) -> tuple[np.ndarray, np.ndarray]:
    """A disk (class 0) and data.annuli annuli around it, classes alternating outwards.

    Two classes, balanced (n // 2 of class 0); a point of a class lies in one of that
    class's bands, each equally likely; radius uniform within its band (like `ring`);
    jitter as documented. Any ring in the plane separates the disk from what lies
    outside it, so in width 2 no one-to-one net can separate these classes.
    """
    bands = np.array(nested_bands(cfg))
    y = _balanced_labels(rng, n)
    of_class = [np.arange(c, len(bands), 2) for c in (0, 1)]
    pick = rng.random(n)
    band = np.where(
        y == 0,
        of_class[0][(pick * len(of_class[0])).astype(np.int64)],
        of_class[1][(pick * len(of_class[1])).astype(np.int64)],
    )
    lo, hi = bands[band, 0], bands[band, 1]
    r = lo + (hi - lo) * rng.random(n)
    theta = rng.uniform(0.0, 2.0 * np.pi, size=n)
    return _jitter(rng, polar(r, theta), cfg.noise), y


SAMPLERS: dict[str, Sampler] = {
    "ring": _sample_ring,
    "spiral": _sample_spiral,
    "noisy_ring": _sample_noisy_ring,
    "moons": _sample_moons,
    "xor": _sample_xor,
    "gaussians": _sample_gaussians,
    "checkerboard": _sample_checkerboard,
    "rings": _sample_rings,
    "nested_rings": _sample_nested_rings,
}
