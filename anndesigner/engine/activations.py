"""Activation functions: forward and backward on ndarrays.

``backward(name, z, y, g)`` returns dL/dz given dL/dy = g, the pre-activation
``z`` and the output ``y`` (either may be unused). Functions whose derivative
is cheapest from the output use ``y`` so that ``z`` need not be kept.

GELU comes in both of its usual forms: ``"gelu"`` is the exact x·Φ(x) =
½x(1 + erf(x/√2)) (PyTorch's ``F.gelu`` and Keras's ``gelu`` by default) and
``"gelu_tanh"`` the tanh approximation ½x(1 + tanh(√(2/π)(x + 0.044715x³)))
(``approximate="tanh"`` / ``approximate=True``). Files of schema 2 and older
knew only the tanh form, under the name "gelu"; loading renames it (see
:mod:`anndesigner.io.migrations`). NumPy has no erf: :func:`erf` is Cody's.
"""

from __future__ import annotations

import numpy as np

LEAKY_ALPHA = 0.01
ELU_ALPHA = 1.0
_GELU_C = np.sqrt(2.0 / np.pi)
_INV_SQRT2 = float(np.sqrt(0.5))
_INV_SQRT_2PI = float(1.0 / np.sqrt(2.0 * np.pi))

# ------------------------------------------------------------------ erf
# W. J. Cody, "Rational Chebyshev approximations for the error function",
# Math. Comp. 23 (1969) 631-637, the coefficients of his CALERF routine:
# erf(x) = x·P(x²)/Q(x²) for |x| <= 0.46875, and
# erfc(y) = exp(-y²)·P(y)/Q(y) for 0.46875 < y (fitted up to y = 4, and still
# within 1e-22 absolute up to y = 6, where erf rounds to ±1 in float64).
_ERF_SMALL = 0.46875
_ERF_A = (3.16112374387056560e00, 1.13864154151050156e02, 3.77485237685302021e02, 3.20937758913846947e03,
          1.85777706184603153e-1)
_ERF_B = (2.36012909523441209e01, 2.44024637934444173e02, 1.28261652607737228e03, 2.84423683343917062e03)
_ERF_C = (5.64188496988670089e-1, 8.88314979438837594e00, 6.61191906371416295e01, 2.98635138197400131e02,
          8.81952221241769090e02, 1.71204761263407058e03, 2.05107837782607147e03, 1.23033935479799725e03,
          2.15311535474403846e-8)
_ERF_D = (1.57449261107098347e01, 1.17693950891312499e02, 5.37181101862009858e02, 1.62138957456669019e03,
          3.29079923573345963e03, 4.36261909014324716e03, 3.43936767414372164e03, 1.23033935480374942e03)
# numerator and denominator as the two rows of one array, so that one Horner
# step is two NumPy calls for both: acc <- (acc + c)·y
_ERF_ND = [np.array([[c], [d]]) for c, d in zip(_ERF_C, _ERF_D)]
_ERF_ND_TOP = np.array([[_ERF_C[8]], [1.0]])
_ERF_AB = [np.array([[a], [b]]) for a, b in zip(_ERF_A, _ERF_B)]
_ERF_AB_TOP = np.array([[_ERF_A[4]], [1.0]])
#: elements per block: the block's temporaries stay in the CPU cache
_ERF_BLOCK = 16384


def erf(x) -> np.ndarray:
    """The error function, elementwise, computed in float64 (within 3e-16 of
    ``math.erf``) and returned in the input's float dtype. NaN stays NaN."""
    x = np.asarray(x)
    dtype = x.dtype if x.dtype in (np.float32, np.float64) else np.dtype(np.float64)
    flat = np.ascontiguousarray(x, dtype=np.float64).reshape(-1)
    out = np.empty_like(flat)
    m = min(_ERF_BLOCK, flat.size)
    nd, y, e = np.empty((2, m)), np.empty(m), np.empty(m)
    for s in range(0, flat.size, _ERF_BLOCK):
        k = min(_ERF_BLOCK, flat.size - s)
        _erf_block(flat[s:s + k], out[s:s + k], nd[:, :k], y[:k], e[:k])
    return out.reshape(x.shape).astype(dtype, copy=False)


def _erf_block(x: np.ndarray, o: np.ndarray, nd: np.ndarray, y: np.ndarray, e: np.ndarray) -> None:
    np.abs(x, out=y)
    np.minimum(y, 6.0, out=y)  # erfc(6) < 2.2e-17: beyond it erf is ±1; no overflow in the powers
    np.multiply(_ERF_ND_TOP, y, out=nd)
    for c in _ERF_ND[:-1]:
        nd += c
        nd *= y
    nd += _ERF_ND[-1]
    np.divide(nd[0], nd[1], out=o)
    np.multiply(y, y, out=e)
    np.negative(e, out=e)
    np.exp(e, out=e)
    o *= e  # erfc(|x|)
    np.subtract(1.0, o, out=o)
    small = np.flatnonzero(y <= _ERF_SMALL)
    if small.size:  # near 0: the odd rational, accurate relative to erf itself
        xs = np.abs(x[small])
        z = xs * xs
        t = _ERF_AB_TOP * z
        for c in _ERF_AB[:-1]:
            t += c
            t *= z
        t += _ERF_AB[-1]
        o[small] = xs * t[0] / t[1]
    np.copysign(o, x, out=o)


def _gelu(z: np.ndarray) -> np.ndarray:
    """x·Φ(x) = ½x(1 + erf(x/√2)), exact."""
    t = z.dtype.type
    return t(0.5) * z * (1 + erf(z * t(_INV_SQRT2)))


def _gelu_tanh(z: np.ndarray) -> np.ndarray:
    """½x(1 + tanh(√(2/π)(x + 0.044715x³))), the tanh approximation."""
    c = z.dtype.type(_GELU_C)
    return z.dtype.type(0.5) * z * (1 + np.tanh(c * (z + z.dtype.type(0.044715) * z ** 3)))

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
    if name == "gelu":  # exact, with erf (Hendrycks & Gimpel; PyTorch's and Keras's default)
        return _gelu(z)
    if name == "gelu_tanh":  # their tanh approximation (PyTorch approximate="tanh", Keras approximate=True)
        return _gelu_tanh(z)
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
    if name == "gelu":  # Φ(x) + x·φ(x)
        t = z.dtype.type
        cdf = t(0.5) * (1 + erf(z * t(_INV_SQRT2)))
        pdf = np.exp(t(-0.5) * z * z) * t(_INV_SQRT_2PI)
        return g * (cdf + z * pdf)
    if name == "gelu_tanh":
        c = z.dtype.type(_GELU_C)
        k = z.dtype.type(0.044715)
        t = np.tanh(c * (z + k * z ** 3))
        dt = (1 - t * t) * c * (1 + 3 * k * z * z)
        return g * (z.dtype.type(0.5) * (1 + t) + z.dtype.type(0.5) * z * dt)
    if name in ("step", "sign"):
        raise ValueError(f"the {name} activation has no gradient")
    raise KeyError(f"unknown activation '{name}'")


NAMES = ("linear", "step", "sign", "sigmoid", "tanh", "relu", "leaky_relu", "elu", "softplus", "gelu", "gelu_tanh",
         "softmax")


def curve(name: str, x: np.ndarray) -> np.ndarray:
    """f along a line of inputs ``x`` (for plots of the function): an elementwise
    activation as it is; softmax, which needs a vector, as the first of two
    classes with logits (x, −x)."""
    x = np.asarray(x, dtype=np.float64)
    if name == "softmax":
        return forward(name, np.stack([x, -x], axis=-1))[..., 0]
    return forward(name, x.copy())
