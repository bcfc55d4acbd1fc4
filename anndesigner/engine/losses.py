"""Losses: value and gradient with respect to the prediction.

Conventions (as Keras): mse, mae, huber and binary cross-entropy average over
every element; categorical cross-entropy and KL divergence sum over the last
axis and average over the batch. ``fused_grad`` gives dL/dz for the
sigmoid + binary and softmax + categorical pairs, which is exact and stable.
"""

from __future__ import annotations

import numpy as np

HUBER_DELTA = 1.0
NAMES = ("mse", "mae", "huber", "binary_crossentropy", "categorical_crossentropy", "kl_divergence")
FUSED = {("sigmoid", "binary_crossentropy"), ("softmax", "categorical_crossentropy")}


def _eps(a: np.ndarray) -> float:
    return 1e-7 if a.dtype == np.float32 else 1e-12


def _rows(p: np.ndarray) -> int:
    return int(np.prod(p.shape[:-1])) if p.ndim > 1 else 1


def value(name: str, p: np.ndarray, y: np.ndarray) -> float:
    d = p - y
    if name == "mse":
        return float(np.mean(d * d))
    if name == "mae":
        return float(np.mean(np.abs(d)))
    if name == "huber":
        a = np.abs(d)
        return float(np.mean(np.where(a <= HUBER_DELTA, 0.5 * d * d, HUBER_DELTA * (a - 0.5 * HUBER_DELTA))))
    e = _eps(p)
    if name == "binary_crossentropy":
        q = np.clip(p, e, 1 - e)
        return float(-np.mean(y * np.log(q) + (1 - y) * np.log(1 - q)))
    if name == "categorical_crossentropy":
        q = np.clip(p, e, 1.0)
        return float(-np.sum(y * np.log(q)) / _rows(p))
    if name == "kl_divergence":
        q = np.clip(p, e, 1.0)
        t = np.clip(y, e, 1.0)
        return float(np.sum(y * np.log(t / q)) / _rows(p))
    raise KeyError(f"unknown loss '{name}'")


def grad(name: str, p: np.ndarray, y: np.ndarray) -> np.ndarray:
    """dL/dp, same shape and dtype as ``p``."""
    d = p - y
    if name == "mse":
        return d * d.dtype.type(2.0 / d.size)
    if name == "mae":
        return np.sign(d) * d.dtype.type(1.0 / d.size)
    if name == "huber":
        return np.clip(d, -HUBER_DELTA, HUBER_DELTA) * d.dtype.type(1.0 / d.size)
    e = _eps(p)
    if name == "binary_crossentropy":
        q = np.clip(p, e, 1 - e)
        g = (q - y) / (q * (1 - q)) * p.dtype.type(1.0 / p.size)
        return np.where((p > e) & (p < 1 - e), g, 0).astype(p.dtype, copy=False)
    if name == "categorical_crossentropy":
        q = np.clip(p, e, 1.0)
        return np.where(p > e, -y / q, 0).astype(p.dtype, copy=False) * p.dtype.type(1.0 / _rows(p))
    if name == "kl_divergence":
        q = np.clip(p, e, 1.0)
        return np.where(p > e, -y / q, 0).astype(p.dtype, copy=False) * p.dtype.type(1.0 / _rows(p))
    raise KeyError(f"unknown loss '{name}'")


def fused_grad(activation: str, name: str, p: np.ndarray, y: np.ndarray) -> np.ndarray:
    """dL/dz for a fused (activation, loss) pair in :data:`FUSED`."""
    d = p - y
    if name == "binary_crossentropy":
        return d * d.dtype.type(1.0 / d.size)
    return d * d.dtype.type(1.0 / _rows(d))


def fused_value(activation: str, name: str, z: np.ndarray, y: np.ndarray) -> float:
    """The loss computed from logits z, stable for any z."""
    if name == "binary_crossentropy":
        # log(1+exp(-|z|)) + max(z,0) - z*y
        return float(np.mean(np.logaddexp(0, z) - z * y))
    m = z.max(axis=-1, keepdims=True)
    lse = m + np.log(np.exp(z - m).sum(axis=-1, keepdims=True))
    return float(-np.sum(y * (z - lse)) / _rows(z))
