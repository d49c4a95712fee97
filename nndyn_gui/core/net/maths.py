"""The network's rule, written once in numpy: activation, block, head, invertibility bound.

Why one module: the views (`flow`), the arrows (`field`), the diagnostics and the numpy
stepper (`quickstep`) all apply the same block x -> x + h s(A x + b) (ResNet) or
x -> s(A x + b) (MLP) and the same head; written once here, they cannot drift apart.
The TensorFlow trainer cannot call numpy inside a compiled step, so it has ONE twin of
this module (`core/train/program.py`, "TF twin of core/net/maths.py"); tests/core/
test_net_maths.py checks the two agree to rounding on random nets.
"""

from __future__ import annotations

import numpy as np

LEAKY_SLOPE = 0.2
# tf.nn.leaky_relu takes its slope as a float32 attribute: 0.2 becomes 0.2000000030; the
# numpy stepper passes this to train exactly as TensorFlow does
TF_LEAKY_SLOPE = float(np.float32(LEAKY_SLOPE))
#: "identity" (s(z) = z) makes every layer affine: the article's linear baseline
ACTIVATIONS = ("tanh", "relu", "sigmoid", "leaky_relu", "identity")
LIPSCHITZ = {"tanh": 1.0, "relu": 1.0, "sigmoid": 0.25, "leaky_relu": 1.0, "identity": 1.0}


# ---------------------------------------------------------------------- activation
def activation(name: str, z: np.ndarray, leaky_slope: float = LEAKY_SLOPE) -> np.ndarray:
    """The elementwise nonlinearity s of every MLP layer and ResNet block."""
    if name == "tanh":
        return np.tanh(z)
    if name == "relu":
        return np.maximum(z, 0.0)
    if name == "sigmoid":
        return 0.5 * (1.0 + np.tanh(0.5 * z))  # overflow-free logistic
    if name == "leaky_relu":
        return np.where(z >= 0.0, z, leaky_slope * z)
    if name == "identity":
        return np.asarray(z)
    raise ValueError(f"unknown activation {name!r}")


def activation_derivative(
    name: str,
    z: np.ndarray,
    s: np.ndarray | None = None,
    leaky_slope: float = LEAKY_SLOPE,
    kink_left: bool = False,
) -> np.ndarray:
    """s'(z); `s` = s(z) when already known (saves a tanh). At the kink z = 0 ReLU takes
    0 and leaky ReLU 1, or its slope with `kink_left` (TensorFlow's gradient, which the
    stepper must match): a measure-zero choice, made here."""
    if name == "tanh":
        t = np.tanh(z) if s is None else s
        return 1.0 - t * t
    if name == "sigmoid":
        sg = activation("sigmoid", z) if s is None else s
        return sg * (1.0 - sg)
    if name == "relu":
        return (z > 0.0).astype(np.float64)
    if name == "leaky_relu":
        return np.where(z > 0.0 if kink_left else z >= 0.0, 1.0, leaky_slope)
    if name == "identity":
        return np.ones_like(z, dtype=np.float64)
    raise ValueError(f"unknown activation {name!r}")


def activation_lipschitz(name: str) -> float:
    """Lipschitz constant of s (the Lip(s) of the bound h |A|_2 Lip(s))."""
    return LIPSCHITZ[name]


# ---------------------------------------------------------------------- block
def pre_activation(a: np.ndarray, b: np.ndarray, x: np.ndarray) -> np.ndarray:
    """z = A x + b for the rows x (N, d)."""
    return x @ a.T + b


def block_move(kind: str, h: float, x: np.ndarray, s: np.ndarray) -> np.ndarray:
    """What the block adds to x: h s (ResNet, one Euler step) or s - x (an MLP's jump)."""
    return h * s if kind == "resnet" else s - x


def block_output(kind: str, x: np.ndarray, s: np.ndarray, move: np.ndarray) -> np.ndarray:
    """The next layer: x + h s (ResNet) or s itself (MLP; exactly s, not x + (s - x))."""
    return x + move if kind == "resnet" else s


def block(
    kind: str,
    act: str,
    h: float,
    a: np.ndarray,
    b: np.ndarray,
    x: np.ndarray,
    leaky_slope: float = LEAKY_SLOPE,
) -> np.ndarray:
    """One layer: x + h s(A x + b) (ResNet) or s(A x + b) (MLP), rows x (N, d)."""
    s = activation(act, x @ a.T + b, leaky_slope)  # pre_activation, inlined: the views' hot loop
    return x + h * s if kind == "resnet" else s


def block_jacobian(kind: str, act: str, h: float, a: np.ndarray, z: np.ndarray) -> np.ndarray:
    """(N, d, d) Jacobians at the points with pre-activations z: diag(s'(z)) A (MLP) or
    I + h diag(s'(z)) A (ResNet)."""
    jac = activation_derivative(act, z)[:, :, None] * a[None]
    if kind == "resnet":
        return np.eye(a.shape[-1])[None] + h * jac
    return jac


# ---------------------------------------------------------------------- head
def logits(w: np.ndarray, c: float | np.ndarray, x: np.ndarray) -> np.ndarray:
    """The head's logits: (N,) x.w + c for two classes (w (d,)), (N, K) x W^T + c else."""
    w = np.asarray(w)
    if w.ndim == 1:
        return np.asarray(x @ w + c)
    return np.asarray(x @ w.T + c)


def sigmoid(z: np.ndarray) -> np.ndarray:
    """The two-class head's probability of class 1 (overflow-free)."""
    return 0.5 * (1.0 + np.tanh(0.5 * z))


def softmax(z: np.ndarray) -> np.ndarray:
    """Row-wise softmax of (N, K) logits (shifted by the row maximum: no overflow)."""
    with np.errstate(invalid="ignore"):
        e = np.exp(z - z.max(axis=-1, keepdims=True))
        return np.asarray(e / e.sum(axis=-1, keepdims=True))


def classes_of(z: np.ndarray) -> np.ndarray:
    """Predicted labels of logits: logit >= 0 (two classes, (N,)), else the first largest."""
    if z.ndim == 1:
        return (z >= 0.0).astype(np.int64)
    return np.argmax(z, axis=-1).astype(np.int64)


def cross_entropy(z: np.ndarray, y: np.ndarray) -> float:
    """Mean cross-entropy of logits z against labels y: binary for (N,), softmax for (N, K)."""
    if z.ndim == 1:
        return float(np.mean(np.maximum(z, 0.0) - z * y + np.log1p(np.exp(-np.abs(z)))))
    top = z.max(axis=1, keepdims=True)
    lse = top[:, 0] + np.log(np.exp(z - top).sum(axis=1))
    return float(np.mean(lse - z[np.arange(len(y)), y.astype(np.int64)]))


def cross_entropy_grad(z: np.ndarray, y: np.ndarray) -> np.ndarray:
    """d (mean cross-entropy) / d logits."""
    n = len(y)
    if z.ndim == 1:
        return np.asarray((sigmoid(z) - y) / n)
    p = softmax(z)
    p[np.arange(n), y.astype(np.int64)] -= 1.0
    return np.asarray(p / n)


# ---------------------------------------------------------------------- the bound
def lip_product(kind: str, act: str, h: float, norm: np.ndarray | float) -> np.ndarray | float:
    """h |A|_2 Lip(s) of a ResNet block (invertible below 1), |A|_2 Lip(s) of an MLP layer."""
    with np.errstate(over="ignore", invalid="ignore"):
        return (h if kind == "resnet" else 1.0) * norm * activation_lipschitz(act)


def project_invertible(a: np.ndarray, h: float, bound: float, act: str) -> np.ndarray:
    """Scale each A_k (finite) down so that h |A_k|_2 Lip(s) <= bound (exact SVD, small d)."""
    sigma = np.linalg.svd(a, compute_uv=False)[..., 0]
    limit = bound / (h * activation_lipschitz(act))
    scale = np.minimum(1.0, limit / np.maximum(sigma, 1e-300))
    return a * np.asarray(scale)[..., None, None]
