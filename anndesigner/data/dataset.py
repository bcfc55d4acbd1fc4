"""The in-memory data set and the input standardizer.

A :class:`Dataset` holds float32 arrays ``X`` (inputs) and ``Y`` (targets) plus
everything needed to describe and recreate them: column names, the task, the
class labels and a JSON-native ``source`` dict. :func:`load_source` turns such a
``source`` dict back into a :class:`Dataset`.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import DataError

TASKS = ("classification", "regression")
#: the largest float32 value: data beyond it cannot reach the network
F32_MAX = float(np.finfo(np.float32).max)
#: columns whose largest magnitude is beyond this are scaled down before their statistics are taken
_SAFE = 1e150


# ---------------------------------------------------------------- standardizer
@dataclass
class Standardizer:
    """Per-column z-score: ``(x - mean) / std``.

    The standard deviation is the population one (``ddof=0``); a column whose
    standard deviation is zero (or not finite) gets ``std = 1`` so that it is
    only centred.
    """

    mean: np.ndarray
    std: np.ndarray

    def __post_init__(self) -> None:
        self.mean = np.asarray(self.mean, dtype=np.float64).reshape(-1)
        self.std = np.asarray(self.std, dtype=np.float64).reshape(-1)
        if self.mean.shape != self.std.shape:
            raise DataError(
                f"standardizer mean has {self.mean.size} values but std has {self.std.size}"
            )

    @property
    def n_features(self) -> int:
        return int(self.mean.size)

    @classmethod
    def fit(cls, X: Any) -> "Standardizer":
        """Compute mean and standard deviation of every column of ``X`` (float64; a
        column of huge values, up to ±1.8e308, is scaled down first so nothing overflows)."""
        arr = _as_2d(X)
        if arr.shape[0] == 0:
            mean = np.zeros(arr.shape[1])
            std = np.ones(arr.shape[1])
        else:
            mean = np.empty(arr.shape[1])
            std = np.empty(arr.shape[1])
            with np.errstate(over="ignore", invalid="ignore"):
                peak = np.max(np.abs(arr), axis=0)
                for j in range(arr.shape[1]):
                    col = arr[:, j]
                    if np.isfinite(peak[j]) and peak[j] > _SAFE:
                        z = col / peak[j]
                        mean[j] = z.mean() * peak[j]
                        std[j] = z.std() * peak[j]
                    else:
                        mean[j] = col.mean()
                        std[j] = col.std()
        std = np.where(np.isfinite(std) & (std > 1e-12), std, 1.0)
        mean = np.where(np.isfinite(mean), mean, 0.0)
        return cls(mean=mean, std=std)

    def _check(self, arr: np.ndarray) -> None:
        if arr.shape[1] != self.n_features:
            raise DataError(
                f"the standardizer was fitted on {self.n_features} columns "
                f"but the data has {arr.shape[1]}"
            )

    def transform(self, X: Any) -> np.ndarray:
        """Standardize ``X``; returns a new float32 array.

        Computed in float64 (huge columns scaled first). Raises :class:`DataError`
        when a result does not fit float32; its ``line`` and ``column`` are then the
        1-based row and column of ``X``."""
        arr = _as_2d(X)
        self._check(arr)
        out = np.empty(arr.shape, dtype=np.float32)
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            for j in range(arr.shape[1]):
                col = arr[:, j]
                m, s = self.mean[j], self.std[j]
                if col.size and (abs(m) > _SAFE or np.max(np.abs(col)) > _SAFE):
                    k = max(abs(m), float(np.max(np.abs(col))))
                    z = (col / k - m / k) * (k / s) if np.isfinite(k / s) else (col / k - m / k) / (s / k)
                else:
                    z = (col - m) / s
                bad = ~(np.abs(z) <= F32_MAX)
                if bad.any():
                    r = int(np.argmax(bad))
                    raise DataError(f"row {r + 1}, column {j + 1}: the standardized value does not fit float32",
                                    line=r + 1, column=j + 1)
                out[:, j] = z
        return out

    def inverse_transform(self, X: Any) -> np.ndarray:
        """Undo :meth:`transform`; returns a new float32 array."""
        arr = _as_2d(X)
        self._check(arr)
        return (arr * self.std + self.mean).astype(np.float32)

    def to_dict(self) -> dict:
        """JSON-native form: ``{"mean": [...], "std": [...]}``."""
        return {"mean": [float(v) for v in self.mean], "std": [float(v) for v in self.std]}

    @classmethod
    def from_dict(cls, d: Any) -> "Standardizer":
        """Inverse of :meth:`to_dict`; raises :class:`DataError` on malformed input."""
        if not isinstance(d, dict):
            raise DataError(f"standardizer must be a dict with 'mean' and 'std', got {type(d).__name__}")
        for key in ("mean", "std"):
            if key not in d:
                raise DataError(f"standardizer is missing '{key}'")
        values = {}
        for key in ("mean", "std"):
            seq = d[key]
            if not isinstance(seq, (list, tuple)):
                raise DataError(f"standardizer '{key}' must be a list of numbers")
            out = []
            for i, v in enumerate(seq):
                if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
                    raise DataError(f"standardizer '{key}'[{i}] is not a finite number: {v!r}")
                out.append(float(v))
            values[key] = out
        if len(values["mean"]) != len(values["std"]):
            raise DataError(
                f"standardizer has {len(values['mean'])} means but {len(values['std'])} standard deviations"
            )
        if any(s <= 0 for s in values["std"]):
            raise DataError("standardizer standard deviations must be positive")
        return cls(mean=np.array(values["mean"]), std=np.array(values["std"]))


def _as_2d(X: Any) -> np.ndarray:
    arr = np.asarray(X, dtype=np.float64)
    if arr.ndim == 1:
        arr = arr.reshape(-1, 1)
    if arr.ndim != 2:
        raise DataError(f"expected a 2-D array, got {arr.ndim} dimensions")
    return arr


# --------------------------------------------------------------------- dataset
@dataclass
class Dataset:
    """Inputs ``X`` (n, n_inputs) and targets ``Y`` (n, n_outputs), both float32.

    Classification targets are either a single 0/1 column (two classes, then
    ``classes == [label_for_0, label_for_1]``) or one-hot columns (more than two
    classes, ``classes`` in column order). ``source`` is a JSON-native dict that
    :func:`load_source` turns back into the same data set. When ``scaler`` is
    set, ``X`` is already standardized with it.

    ``input_shape`` is each sample's natural shape when it is not a flat
    vector: ``(8, 8, 1)`` for an 8×8 grey image, ``(steps, 1)`` for a sequence
    of single values, ``(steps,)`` for a sequence of tokens. ``X`` stays 2-D
    either way (each row holds the sample's values in row-major order, so
    ``X.reshape((len(X),) + input_shape)`` gives the samples); ``None`` means a
    flat vector of ``n_inputs`` values.
    """

    X: np.ndarray
    Y: np.ndarray
    name: str
    task: str
    input_names: list[str]
    target_names: list[str]
    classes: list[str] | None
    source: dict
    scaler: Standardizer | None = None
    input_shape: tuple[int, ...] | None = None

    def __post_init__(self) -> None:
        self.X = np.ascontiguousarray(self.X, dtype=np.float32)
        self.Y = np.ascontiguousarray(self.Y, dtype=np.float32)
        if self.X.ndim == 1:
            self.X = self.X.reshape(-1, 1)
        if self.Y.ndim == 1:
            self.Y = self.Y.reshape(-1, 1)
        if self.X.ndim != 2 or self.Y.ndim != 2:
            raise DataError("X and Y must be 2-D arrays")
        if self.X.shape[0] != self.Y.shape[0]:
            raise DataError(f"X has {self.X.shape[0]} rows but Y has {self.Y.shape[0]}")
        if self.task not in TASKS:
            raise DataError(f"task must be 'classification' or 'regression', not {self.task!r}")
        self.input_names = list(self.input_names)
        self.target_names = list(self.target_names)
        if len(self.input_names) != self.X.shape[1]:
            raise DataError(f"{len(self.input_names)} input names for {self.X.shape[1]} input columns")
        if len(self.target_names) != self.Y.shape[1]:
            raise DataError(f"{len(self.target_names)} target names for {self.Y.shape[1]} target columns")
        if self.classes is not None:
            self.classes = list(self.classes)
        self.input_shape = _check_input_shape(self.input_shape, self.X.shape[1])

    def __len__(self) -> int:
        return int(self.X.shape[0])

    @property
    def n_inputs(self) -> int:
        return int(self.X.shape[1])

    @property
    def n_outputs(self) -> int:
        return int(self.Y.shape[1])

    @property
    def sample_shape(self) -> tuple[int, ...]:
        """Each sample's shape: ``input_shape``, or ``(n_inputs,)`` when that is None."""
        return self.input_shape if self.input_shape is not None else (self.n_inputs,)

    def samples(self) -> np.ndarray:
        """``X`` reshaped to ``(n,) + sample_shape`` (a view, not a copy)."""
        return self.X.reshape((len(self),) + self.sample_shape)

    def reconstruct(self) -> "Dataset":
        """The same inputs as targets (for an autoencoder): a regression data set
        whose targets are the inputs as the network sees them (after any scaling)."""
        src = _copy_json(self.source)
        src["reconstruct"] = True
        return replace(
            self,
            X=self.X.copy(),
            Y=self.X.copy(),
            name=f"{self.name} (reconstruct inputs)",
            task="regression",
            input_names=list(self.input_names),
            target_names=list(self.input_names),
            classes=None,
            source=src,
        )

    def one_hot(self) -> "Dataset":
        """Two classes as two one-hot columns (``target=label`` each) instead of one 0/1
        column, for an Output of 2 softmax units; the source gets ``"one_hot": true``.
        Any other data set is returned unchanged."""
        if self.task != "classification" or not self.classes or len(self.classes) != 2 or self.n_outputs != 1:
            return self
        y = self.Y[:, 0]
        base = self.target_names[0]
        src = _copy_json(self.source)
        src["one_hot"] = True
        return replace(self, Y=np.stack([1.0 - y, y], axis=1).astype(np.float32),
                       target_names=[f"{base}={c}" for c in self.classes], source=src,
                       input_names=list(self.input_names), classes=list(self.classes))

    def subset(self, indices: Any, *, name: str | None = None, source: dict | None = None) -> "Dataset":
        """A new data set with the rows ``indices`` (copies, same metadata and scaler)."""
        idx = np.asarray(indices, dtype=np.int64).reshape(-1)
        return replace(
            self,
            X=self.X[idx].copy(),
            Y=self.Y[idx].copy(),
            name=self.name if name is None else name,
            input_names=list(self.input_names),
            target_names=list(self.target_names),
            classes=None if self.classes is None else list(self.classes),
            source=_copy_json(self.source) if source is None else source,
        )

    def split(self, validation_fraction: float, seed: int, shuffle: bool = True) -> tuple["Dataset", "Dataset"]:
        """Split into ``(train, validation)`` deterministically.

        The validation set gets ``round(n * validation_fraction)`` rows, but
        never all of them (the training set keeps at least one row when the
        data set is not empty). With ``shuffle`` the rows are permuted with
        ``np.random.default_rng(seed)`` first; without it the validation set
        is the last rows. Each part's ``source`` is the parent's plus a
        ``"split"`` entry, so :func:`load_source` recreates that part.
        """
        try:
            frac = float(validation_fraction)
        except (TypeError, ValueError):
            raise DataError(f"validation fraction must be a number, not {validation_fraction!r}") from None
        if not (0.0 <= frac < 1.0):
            raise DataError(f"validation fraction must be at least 0 and below 1, got {validation_fraction!r}")
        seed = _check_seed(seed)
        n = len(self)
        n_val = int(round(n * frac))
        if n > 0:
            n_val = min(n_val, n - 1)
        order = np.random.default_rng(seed).permutation(n) if shuffle else np.arange(n)
        train_idx, val_idx = order[: n - n_val], order[n - n_val :]
        parts = []
        for part, idx in (("train", train_idx), ("validation", val_idx)):
            src = _copy_json(self.source)
            src["split"] = {"part": part, "validation_fraction": frac, "seed": seed, "shuffle": bool(shuffle)}
            parts.append(self.subset(idx, name=f"{self.name} ({part})", source=src))
        return parts[0], parts[1]


def _check_input_shape(shape: Any, n_inputs: int) -> tuple[int, ...] | None:
    if shape is None:
        return None
    if isinstance(shape, (int, np.integer)) and not isinstance(shape, bool):
        shape = (shape,)
    if not isinstance(shape, (tuple, list)) or not shape:
        raise DataError(f"input_shape must be a non-empty tuple of positive integers or None, not {shape!r}")
    dims = []
    for d in shape:
        if isinstance(d, bool) or not isinstance(d, (int, np.integer)) or d < 1:
            raise DataError(f"input_shape must be a tuple of positive integers, not {tuple(shape)!r}")
        dims.append(int(d))
    if math.prod(dims) != n_inputs:
        raise DataError(f"input_shape {tuple(dims)} holds {math.prod(dims)} values but the data has "
                        f"{n_inputs} input columns")
    return tuple(dims)


def _check_seed(seed: Any) -> int:
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise DataError(f"seed must be a non-negative integer, not {seed!r}")
    return int(seed)


def _copy_json(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {k: _copy_json(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_copy_json(v) for v in obj]
    return obj


# ------------------------------------------------------------------ load_source
def load_source(source: Any, base_dir: str | Path | None = None) -> Dataset:
    """Recreate a :class:`Dataset` from its ``source`` dict.

    ``{"kind": "builtin", ...}`` is reloaded with :func:`load_builtin`,
    ``{"kind": "csv", ...}`` with the saved column choice, class order and
    scaling statistics (a relative ``path`` is resolved against ``base_dir``).
    A ``"split"`` entry (added by :meth:`Dataset.split`) selects that part.
    Raises :class:`DataError` when the dict is malformed.
    """
    if not isinstance(source, dict):
        raise DataError(f"data source must be a dict, not {type(source).__name__}")
    kind = source.get("kind")
    if kind == "builtin":
        from .builtin import load_builtin

        name = source.get("name")
        if not isinstance(name, str):
            raise DataError("built-in data source needs a 'name' string")
        params = source.get("params", {})
        if not isinstance(params, dict):
            raise DataError("built-in data source 'params' must be a dict")
        standardize = source.get("standardize", False)
        if not isinstance(standardize, bool):
            raise DataError("data source 'standardize' must be true or false")
        ds = load_builtin(name, standardize=standardize, **params)
    elif kind == "csv":
        from .csvfile import load_csv_source

        ds = load_csv_source(source, base_dir)
    else:
        raise DataError(f"unknown data source kind {kind!r} (expected 'builtin' or 'csv')")

    reconstruct = source.get("reconstruct", False)
    if not isinstance(reconstruct, bool):
        raise DataError(f"data source 'reconstruct' must be true or false, not {reconstruct!r}")
    if reconstruct:
        ds = ds.reconstruct()
        ds.source = _copy_json(source)

    one_hot = source.get("one_hot", False)
    if not isinstance(one_hot, bool):
        raise DataError(f"data source 'one_hot' must be true or false, not {one_hot!r}")
    if one_hot:
        if ds.task != "classification" or not ds.classes or len(ds.classes) != 2:
            raise DataError("data source 'one_hot' is for two classes; this data set has "
                            + (f"{len(ds.classes)} classes" if ds.classes else "no classes"))
        ds = ds.one_hot()
        ds.source = _copy_json(source)

    split = source.get("split")
    if split is not None:
        if not isinstance(split, dict) or split.get("part") not in ("train", "validation"):
            raise DataError("data source 'split' must be a dict with part 'train' or 'validation'")
        shuffle = split.get("shuffle", True)
        if not isinstance(shuffle, bool):
            raise DataError("data source split 'shuffle' must be true or false")
        train, val = ds.split(split.get("validation_fraction"), split.get("seed"), shuffle)
        ds = train if split["part"] == "train" else val
    return ds


# ------------------------------------------------------------ comparing sources
def complete_source(source: Any) -> dict | None:
    """A built-in ``source`` in full (its data set's default parameters filled in, and
    ``standardize`` as a bool), or None for any other source. ``reconstruct`` and
    ``one_hot`` are kept as they are (a malformed value gets :func:`load_source`'s error)."""
    from .builtin import BUILTIN_DATASETS

    if not isinstance(source, dict) or source.get("kind") != "builtin" or source.get("name") not in BUILTIN_DATASETS:
        return None
    info = BUILTIN_DATASETS[source["name"]]
    params = source.get("params") if isinstance(source.get("params"), dict) else {}
    full = {"kind": "builtin", "name": info.name, "params": {**info.defaults, **_copy_json(params)},
            "standardize": bool(source.get("standardize", False))}
    for key in ("reconstruct", "one_hot"):
        if source.get(key, False) is not False:
            full[key] = _copy_json(source[key])
    return full


def same_source(a: Any, b: Any) -> bool:
    """Whether two sources name the same data (a built-in one's defaults may be left out)."""
    na, nb = complete_source(a), complete_source(b)
    if na is not None and nb is not None:
        return na == nb
    return a == b


def restandardized_source(source: dict, standardize: bool, base_dir: str | Path | None = None) -> dict:
    """The CSV ``source`` with input scaling switched on (fitted anew) or off; every other
    choice is the source's own, read as :func:`load_source` reads it, and the path stays
    as it was saved (relative or absolute). Raises DataError/OSError when the file cannot
    be read."""
    from .csvfile import load_csv_source

    ds = load_csv_source(source, base_dir, standardize=standardize, scaler=None)
    new = dict(ds.source)
    new["path"] = source.get("path")
    for key in ("reconstruct", "one_hot"):  # keys load_csv does not know about
        if key in source:
            new[key] = _copy_json(source[key])
    return new


__all__ = ["Dataset", "Standardizer", "load_source", "complete_source", "same_source", "restandardized_source",
           "TASKS", "F32_MAX"]


# ------------------------------------------------------------- file paths
def relative_source_path(path: str | Path, base_dir: str | Path | None) -> str:
    """``path`` relative to ``base_dir`` (with ``/``) when the file lies inside it, else absolute."""
    p = Path(os.path.abspath(path))
    if base_dir is not None:
        base = Path(os.path.abspath(base_dir))
        try:
            return p.relative_to(base).as_posix()
        except ValueError:
            pass
    return str(p)


def _csv_path(source: Any) -> str | None:
    if isinstance(source, dict) and source.get("kind") == "csv" and isinstance(source.get("path"), str):
        return source["path"]
    return None


def source_for_file(source: Any, folder: str | Path) -> Any:
    """The data source as a network file in ``folder`` stores it: a CSV inside
    that folder (or below it) by a relative path, so the file and its data can
    move together; any other CSV by its absolute path. A copy; other sources
    are returned unchanged."""
    path = _csv_path(source)
    if path is None or not os.path.isabs(path):
        return source
    return {**source, "path": relative_source_path(path, folder)}


def source_from_file(source: Any, folder: str | Path) -> Any:
    """The inverse of :func:`source_for_file`: a relative CSV path read from a
    network file in ``folder`` becomes absolute. In memory, a CSV path is
    always absolute, so that saving into another folder keeps its meaning."""
    path = _csv_path(source)
    if path is None or os.path.isabs(path):
        return source
    return {**source, "path": os.path.normpath(os.path.join(os.path.abspath(folder), path))}
