"""The UCI optical handwritten digits, 8×8 version (1,797 samples, 10 classes).

The pixels ship as ``resources/data/digits.npz`` (written by
``tools/make_digits.py``; attribution and license in
``resources/data/DIGITS-LICENSE.txt``): Alpaydin, E. & Kaynak, C. (1998).
Optical Recognition of Handwritten Digits. UCI Machine Learning Repository,
https://doi.org/10.24432/C50P49, CC BY 4.0.
"""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np

from ..errors import DataError
from ._common import _check_n, _source_of
from .dataset import Dataset, _check_seed

DIGITS_SAMPLES = 1797
DIGITS_SIDE = 8
DIGITS_MAX_VALUE = 16
DIGITS_FILE = "digits.npz"

_lock = threading.Lock()
_cache: tuple[np.ndarray, np.ndarray] | None = None


def digits_path() -> Path:
    """Where the shipped ``digits.npz`` is."""
    from ..paths import resources_dir

    try:
        return resources_dir() / "data" / DIGITS_FILE
    except FileNotFoundError as e:
        raise DataError(f"the digits data file is missing: {e}") from None


def digits_arrays() -> tuple[np.ndarray, np.ndarray]:
    """The raw data as read-only arrays: ``pixels`` (1797, 64) uint8 with values
    0..16 (each row an 8×8 image, row by row) and ``labels`` (1797,) uint8 0..9,
    in the file's order. Read once per process, then cached."""
    global _cache
    with _lock:
        if _cache is None:
            _cache = _read(digits_path())
        return _cache


def _read(path: Path) -> tuple[np.ndarray, np.ndarray]:
    try:
        with np.load(path, allow_pickle=False) as f:
            pixels = np.array(f["pixels"], dtype=np.uint8)
            labels = np.array(f["labels"], dtype=np.uint8)
    except (OSError, KeyError, ValueError) as e:
        raise DataError(f"cannot read the digits data file {path}: {e}") from None
    n_pixels = DIGITS_SIDE * DIGITS_SIDE
    if (pixels.shape != (DIGITS_SAMPLES, n_pixels) or labels.shape != (DIGITS_SAMPLES,)
            or int(pixels.max()) > DIGITS_MAX_VALUE or int(labels.max()) > 9):
        raise DataError(f"the digits data file {path} is damaged (unexpected shapes or values)")
    pixels.setflags(write=False)
    labels.setflags(write=False)
    return pixels, labels


def make_digits(n_samples: int = DIGITS_SAMPLES, seed: int = 0) -> Dataset:
    """Handwritten digits: 8×8 images with pixels scaled to 0..1, 10 classes
    ``"0"``..``"9"`` with one-hot targets ``digit=0``..``digit=9``.

    The rows are a random permutation (``np.random.default_rng(seed)``) of the
    1,797 images; a smaller ``n_samples`` takes the first rows of that
    permutation, so it is a seeded random subset. ``input_shape`` is
    ``(8, 8, 1)``; the inputs are named ``px<row>_<col>``.
    """
    n = _check_n(n_samples, DIGITS_SAMPLES)
    seed = _check_seed(seed)
    pixels, labels = digits_arrays()
    rows = np.random.default_rng(seed).permutation(DIGITS_SAMPLES)[:n]
    X = pixels[rows].astype(np.float32) / np.float32(DIGITS_MAX_VALUE)
    classes = [str(d) for d in range(10)]
    return Dataset(
        X=X,
        Y=np.eye(10, dtype=np.float32)[labels[rows]],
        name="Handwritten digits",
        task="classification",
        input_names=[f"px{r}_{c}" for r in range(DIGITS_SIDE) for c in range(DIGITS_SIDE)],
        target_names=[f"digit={c}" for c in classes],
        classes=classes,
        source=_source_of("digits", n_samples=n, seed=seed),
        input_shape=(DIGITS_SIDE, DIGITS_SIDE, 1),
    )


__all__ = ["DIGITS_SAMPLES", "digits_arrays", "digits_path", "make_digits"]
