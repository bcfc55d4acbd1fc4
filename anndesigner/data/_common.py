"""Argument checks and small helpers shared by the built-in data generators."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..errors import DataError
from .dataset import Dataset

MAX_SAMPLES = 1_000_000
MAX_CENTERS = 20


def _check_int(name: str, value: Any, lo: int, hi: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise DataError(f"{name} must be an integer, not {value!r}")
    if not lo <= value <= hi:
        raise DataError(f"{name} must be between {lo} and {hi}, got {value}")
    return int(value)


def _check_n(n_samples: Any, hi: int = MAX_SAMPLES) -> int:
    return _check_int("n_samples", n_samples, 1, hi)


def _check_noise(noise: Any) -> float:
    if isinstance(noise, bool) or not isinstance(noise, (int, float, np.integer, np.floating)):
        raise DataError(f"noise must be a number, not {noise!r}")
    if not math.isfinite(noise) or noise < 0:
        raise DataError(f"noise must be a finite number >= 0, got {noise!r}")
    return float(noise)


def _source(name: str, n_samples: int, noise: float, seed: int, **extra: Any) -> dict:
    return _source_of(name, n_samples=n_samples, noise=noise, seed=seed, **extra)


def _source_of(name: str, **params: Any) -> dict:
    """A built-in source dict with exactly ``params`` (JSON-native values)."""
    return {"kind": "builtin", "name": name, "params": dict(params)}


def _binary(name, X, labels, classes, input_names, target_name, source, input_shape=None) -> Dataset:
    return Dataset(
        X=X,
        Y=labels.reshape(-1, 1),
        name=name,
        task="classification",
        input_names=input_names,
        target_names=[target_name],
        classes=list(classes),
        source=source,
        input_shape=input_shape,
    )


def _two_class_counts(n: int) -> tuple[int, int]:
    return (n + 1) // 2, n // 2
