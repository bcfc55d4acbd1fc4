"""Weight initializers, seeded per weight so adding a node leaves others alone."""

from __future__ import annotations

import zlib

import numpy as np

NAMES = (
    "glorot_uniform", "glorot_normal", "he_uniform", "he_normal", "lecun_uniform",
    "lecun_normal", "normal", "uniform", "zeros", "ones", "orthogonal",
)
#: used by recurrent layers for their bias, never offered as a choice: zeros, except
#: ones for the LSTM forget gate (the second quarter), so the cell remembers at first
INTERNAL = ("forget_gate_ones",)


def rng_for(seed: int, name: str) -> np.random.Generator:
    """A generator that depends only on the network seed and the weight's name."""
    return np.random.default_rng([int(seed) & 0xFFFFFFFF, zlib.crc32(name.encode("utf-8"))])


def initialize(kind: str, shape: tuple[int, ...], fan_in: int, fan_out: int, rng: np.random.Generator,
               dtype=np.float32) -> np.ndarray:
    fan_in = max(1, fan_in)
    fan_out = max(1, fan_out)
    if kind == "zeros":
        return np.zeros(shape, dtype)
    if kind == "ones":
        return np.ones(shape, dtype)
    if kind == "forget_gate_ones":
        out = np.zeros(shape, dtype)
        q = shape[-1] // 4
        out[..., q:2 * q] = 1
        return out
    if kind == "orthogonal":  # rows/columns orthonormal (Saxe et al. 2014), for recurrent kernels
        rows, cols = int(np.prod(shape[:-1])) if len(shape) > 1 else 1, shape[-1]
        a = rng.standard_normal((max(rows, cols), min(rows, cols)))
        q, r = np.linalg.qr(a)
        q *= np.sign(np.diag(r))
        q = q if rows >= cols else q.T
        return np.require(q[:rows, :cols].reshape(shape), dtype=dtype, requirements="C")
    if kind == "normal":
        return (rng.standard_normal(shape) * 0.05).astype(dtype)
    if kind == "uniform":
        return rng.uniform(-0.05, 0.05, shape).astype(dtype)
    scale = {
        "glorot": 2.0 / (fan_in + fan_out),
        "he": 2.0 / fan_in,
        "lecun": 1.0 / fan_in,
    }
    family, _, dist = kind.partition("_")
    if family not in scale or dist not in ("uniform", "normal"):
        raise KeyError(f"unknown initializer '{kind}'")
    var = scale[family]
    if dist == "uniform":
        limit = np.sqrt(3.0 * var)
        return rng.uniform(-limit, limit, shape).astype(dtype)
    # truncated normal at 2 std, rescaled to the target variance (as Keras)
    std = np.sqrt(var) / 0.87962566103423978
    out = rng.standard_normal(shape)
    bad = np.abs(out) > 2
    while bad.any():
        out[bad] = rng.standard_normal(int(bad.sum()))
        bad = np.abs(out) > 2
    return (out * std).astype(dtype)
