"""Derived input columns for the 2-D data sets (``x1^2``, ``x1*x2``, ``sin(x1)``, ...).

:func:`with_features` turns a data set of two input columns into one whose
columns are the chosen features, in the order given; ``("x1", "x2")`` (the
default) leaves the data unchanged. ``x1``/``x2`` are the first and second
input column whatever their names; the new columns are named after the data
set's own names (spirals' ``x``/``y`` give ``x^2``, ``x*y``, ``sin(y)``).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Callable

import numpy as np

from ..errors import DataError

__all__ = ["FEATURE_NAMES", "DEFAULT_FEATURES", "check_features", "with_features"]

#: every feature a 2-D data set can offer, in the order a form lists them
FEATURE_NAMES = ("x1", "x2", "x1^2", "x2^2", "x1*x2", "sin(x1)", "sin(x2)")
DEFAULT_FEATURES = ("x1", "x2")

_COMPUTE: dict[str, Callable[[np.ndarray, np.ndarray], np.ndarray]] = {
    "x1": lambda a, b: a,
    "x2": lambda a, b: b,
    "x1^2": lambda a, b: a * a,
    "x2^2": lambda a, b: b * b,
    "x1*x2": lambda a, b: a * b,
    "sin(x1)": lambda a, b: np.sin(a),
    "sin(x2)": lambda a, b: np.sin(b),
}


def _normal(name: str) -> str:
    return name.replace(" ", "").replace("**", "^").replace("₁", "1").replace("₂", "2").lower()


def check_features(features: Any) -> tuple[str, ...]:
    """The features as a tuple of names from :data:`FEATURE_NAMES` (``x1**2`` and
    ``X1^2`` are read as ``x1^2``); raises :class:`DataError` for anything else."""
    if isinstance(features, str) or not isinstance(features, (list, tuple)):
        raise DataError(f"features must be a list of names among {', '.join(FEATURE_NAMES)}, "
                        f"not {features!r}"[:300])
    if not features:
        raise DataError("features must name at least one input column")
    out: list[str] = []
    for i, f in enumerate(features):
        name = _normal(f) if isinstance(f, str) else None
        if name not in _COMPUTE:
            raise DataError(f"features[{i}]: unknown feature {f!r}"[:200] + f"; known: {', '.join(FEATURE_NAMES)}")
        if name in out:
            raise DataError(f"features[{i}]: {f!r} is listed twice")
        out.append(name)
    return tuple(out)


def _label(feature: str, names: list[str]) -> str:
    if names == ["x1", "x2"]:
        return feature
    a, b = names
    return feature.replace("x1", "\0").replace("x2", b).replace("\0", a)


def with_features(ds, features: Any):
    """A copy of the 2-D data set ``ds`` whose inputs are ``features`` (see
    :func:`check_features`). Raises :class:`DataError` unless ``ds`` has exactly
    two flat input columns. The source is left to the caller."""
    feats = check_features(features)
    if ds.n_inputs != 2 or ds.input_shape is not None:
        raise DataError(f"features need a data set of two input columns; {ds.name} has {ds.n_inputs}")
    if feats == DEFAULT_FEATURES:
        return ds
    a = ds.X[:, 0].astype(np.float64)
    b = ds.X[:, 1].astype(np.float64)
    X = np.column_stack([_COMPUTE[f](a, b) for f in feats])
    return replace(ds, X=X, input_names=[_label(f, list(ds.input_names)) for f in feats],
                   target_names=list(ds.target_names),
                   classes=None if ds.classes is None else list(ds.classes))
