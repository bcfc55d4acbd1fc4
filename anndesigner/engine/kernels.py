"""Optional compiled kernels for the hottest element-wise loops.

NumPy runs one pass over memory per operation: Adam's update is ten passes
over every weight and its state (see :class:`~.optimizers.Adam`), a third of
a training step of a 784-512-256-10 MLP. With the ``fast`` extra installed
(``pip install "anndesigner[fast]"``, which brings numba), the same update
runs as one fused loop compiled on first use, about twice as fast.

Everything works without it: :func:`adam` returns False when no kernel can
run (numba missing or disabled, a dtype or memory layout the kernel does not
take) and the caller runs its NumPy code. Set the environment variable
``ANNDESIGNER_KERNELS=numpy`` (or call :func:`use`) to force NumPy.

The kernel does the arithmetic of the NumPy path in the array's own dtype,
operation for operation, so both agree to rounding. It zeroes subnormal
state on every step (free inside the loop), where the NumPy path flushes on
every ``FLUSH_EVERY``-th step.

Imports numba lazily: importing this module costs nothing. Importing numba
and loading the cached kernels takes about half a second, once per process
(the desktop app trains each run in a fresh process), so optimizers use the
kernels only for networks of at least :data:`MIN_SIZE` weights, where a step
of NumPy passes costs more than a tenth of a millisecond.
"""

from __future__ import annotations

import os
import warnings
from typing import Any

import numpy as np

__all__ = ["available", "use", "enabled", "adam", "backend", "MIN_SIZE"]

#: optimizers use the kernels for parameter lists of at least this many values
MIN_SIZE = 100_000

_ENV = "ANNDESIGNER_KERNELS"
_state: dict[str, Any] = {"wanted": os.environ.get(_ENV, "").strip().lower() != "numpy", "compiled": None}


def use(on: bool) -> bool:
    """Turn the compiled kernels on (when available) or off for this process;
    returns the previous setting."""
    before = bool(_state["wanted"])
    _state["wanted"] = bool(on)
    return before


def available() -> bool:
    """True when numba can be imported (the ``fast`` extra is installed)."""
    return _compiled() is not None


def enabled() -> bool:
    """True when :func:`adam` and friends will run compiled code."""
    return bool(_state["wanted"]) and available()


def backend() -> str:
    """A short description of what runs the loops (printed by the benchmarks)."""
    if not _state["wanted"]:
        return "NumPy (compiled kernels turned off)"
    k = _compiled()
    return f"numba {k['version']} kernels" if k is not None else "NumPy (numba not installed)"


def _compiled() -> dict[str, Any] | None:
    k = _state["compiled"]
    if k is None:
        k = _state["compiled"] = _build() or {}
    return k or None


def _build() -> dict[str, Any] | None:
    for cache in (True, False):  # no writable cache folder: compile in memory
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                return _compile(cache)
        except ImportError:
            return None
        except Exception:  # a numba that does not fit this NumPy, a cache that cannot be written
            continue
    return None


def _compile(cache: bool) -> dict[str, Any]:
    import numba

    # error_model="numpy": no Python ZeroDivisionError checks, so LLVM vectorizes the loop.
    # Scalars come in the arrays' dtype, so float32 work stays float32 as in NumPy.
    # Compiled here for both dtypes (cached on disk by numba), with warnings kept in.
    def jit(n_arrays: int, n_scalars: int):
        sigs = []
        for t in (numba.float32, numba.float64):
            sigs.append(numba.void(*([t[::1]] * n_arrays + [t] * n_scalars)))
        return numba.njit(sigs, cache=cache, nogil=True, error_model="numpy")

    @jit(4, 7)
    def adam_step(p, g, m, v, b1, b2, c_sqrt, c_eps, a, decay, tiny):  # pragma: no cover - compiled
        zero = tiny - tiny
        for i in range(p.size):
            gi = g[i]
            mi = b1 * m[i] + gi
            vi = b2 * v[i] + gi * gi
            mi = mi if abs(mi) >= tiny else zero
            vi = vi if vi >= tiny else zero
            m[i] = mi
            v[i] = vi
            p[i] = p[i] * decay - a * (mi / (np.sqrt(vi) * c_sqrt + c_eps))

    @jit(3, 3)
    def adam_moments(g, m, v, b1, b2, tiny):  # pragma: no cover - compiled
        zero = tiny - tiny
        for i in range(g.size):
            gi = g[i]
            mi = b1 * m[i] + gi
            vi = b2 * v[i] + gi * gi
            m[i] = mi if abs(mi) >= tiny else zero
            v[i] = vi if vi >= tiny else zero

    return {"version": numba.__version__, "adam_step": adam_step, "adam_moments": adam_moments}


def _flat(arrays) -> list[np.ndarray] | None:
    out = []
    for a in arrays:
        if not a.flags.c_contiguous or not a.flags.writeable:
            return None
        out.append(a.reshape(-1))
    return out


def adam(p: np.ndarray, g: np.ndarray, m: np.ndarray, v: np.ndarray, *, b1: float, b2: float,
         c_sqrt: float, c_eps: float, a: float, decay: float, move: bool) -> bool:
    """One Adam step on one parameter, in the form of :class:`~.optimizers.Adam`
    (``m``, ``v`` are the decayed sums M and V)::

        M <- b1 M + g;  V <- b2 V + g*g        (subnormal results become 0)
        p <- p * decay - a * (M / (sqrt(V) * c_sqrt + c_eps))     (only if move)

    Returns False, having changed nothing, when it cannot run here."""
    if not _state["wanted"]:
        return False
    k = _compiled()
    if k is None:
        return False
    dt = p.dtype
    if dt not in (np.float32, np.float64) or not (g.dtype == m.dtype == v.dtype == dt):
        return False
    flat = _flat((p, g, m, v))
    if flat is None:
        return False
    f = dt.type
    tiny = f(np.finfo(dt).tiny)
    if move:
        k["adam_step"](*flat, f(b1), f(b2), f(c_sqrt), f(c_eps), f(a), f(decay), tiny)
    else:
        k["adam_moments"](flat[1], flat[2], flat[3], f(b1), f(b2), tiny)
    return True
