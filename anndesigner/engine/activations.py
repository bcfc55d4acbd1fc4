"""Activation functions: forward and backward on ndarrays.

``backward(name, z, y, g)`` returns dL/dz given dL/dy = g, the pre-activation
``z`` and the output ``y`` (either may be unused). Functions whose derivative
is cheapest from the output use ``y`` so that ``z`` need not be kept.
"""

from __future__ import annotations

import numpy as np

LEAKY_ALPHA = 0.01
ELU_ALPHA = 1.0
_GELU_C = np.sqrt(2.0 / np.pi)

#: activations whose backward needs only the output y (z may be dropped after forward)
NEEDS_ONLY_OUTPUT = frozenset({"linear", "sigmoid", "tanh", "relu", "softmax"})


def _sigmoid(z: np.ndarray) -> np.ndarray:
    # exp of a non-positive number never overflows
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e)).astype(z.dtype, copy=False)


def _softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    e /= e.sum(axis=-1, keepdims=True)
    return e


#: activations that forward() can compute into ``z`` itself (``inplace=True``)
INPLACE = frozenset({"linear", "relu", "tanh"})


def forward(name: str, z: np.ndarray, inplace: bool = False) -> np.ndarray:
    """f(z). With ``inplace`` (only for names in :data:`INPLACE`), ``z`` is overwritten."""
    if name == "linear":
        return z
    if name == "relu":
        return np.maximum(z, 0, out=z if inplace else None)
    if name == "tanh" and inplace:
        return np.tanh(z, out=z)
    if name == "sigmoid":
        return _sigmoid(z)
    if name == "tanh":
        return np.tanh(z)
    if name == "softmax":
        return _softmax(z)
    if name == "leaky_relu":
        return np.where(z > 0, z, z * z.dtype.type(LEAKY_ALPHA))
    if name == "elu":
        return np.where(z > 0, z, z.dtype.type(ELU_ALPHA) * np.expm1(np.minimum(z, 0)))
    if name == "softplus":
        return np.logaddexp(z, z.dtype.type(0))
    if name == "gelu":  # tanh approximation (Hendrycks & Gimpel)
        c = z.dtype.type(_GELU_C)
        return z.dtype.type(0.5) * z * (1 + np.tanh(c * (z + z.dtype.type(0.044715) * z ** 3)))
    if name == "step":
        return (z >= 0).astype(z.dtype)
    if name == "sign":
        return np.where(z >= 0, z.dtype.type(1), z.dtype.type(-1))
    raise KeyError(f"unknown activation '{name}'")


def backward(name: str, z: np.ndarray | None, y: np.ndarray, g: np.ndarray) -> np.ndarray:
    if name == "linear":
        return g
    if name == "relu":
        return np.multiply(g, y > 0, out=np.empty_like(g))
    if name == "sigmoid":
        return g * y * (1 - y)
    if name == "tanh":
        return g * (1 - y * y)
    if name == "softmax":
        return y * (g - (g * y).sum(axis=-1, keepdims=True))
    assert z is not None
    if name == "leaky_relu":
        return np.where(z > 0, g, g * g.dtype.type(LEAKY_ALPHA))
    if name == "elu":
        return np.where(z > 0, g, g * (y + g.dtype.type(ELU_ALPHA)))
    if name == "softplus":
        return g * _sigmoid(z)
    if name == "gelu":
        c = z.dtype.type(_GELU_C)
        k = z.dtype.type(0.044715)
        t = np.tanh(c * (z + k * z ** 3))
        dt = (1 - t * t) * c * (1 + 3 * k * z * z)
        return g * (z.dtype.type(0.5) * (1 + t) + z.dtype.type(0.5) * z * dt)
    if name in ("step", "sign"):
        raise ValueError(f"the {name} activation has no gradient")
    raise KeyError(f"unknown activation '{name}'")


NAMES = ("linear", "step", "sign", "sigmoid", "tanh", "relu", "leaky_relu", "elu", "softplus", "gelu", "softmax")


def curve(name: str, x: np.ndarray) -> np.ndarray:
    """f along a line of inputs ``x`` (for plots of the function): an elementwise
    activation as it is; softmax, which needs a vector, as the first of two
    classes with logits (x, −x)."""
    x = np.asarray(x, dtype=np.float64)
    if name == "softmax":
        return forward(name, np.stack([x, -x], axis=-1))[..., 0]
    return forward(name, x.copy())
