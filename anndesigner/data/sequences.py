"""Built-in sequence data sets, for recurrent, convolutional and attention layers.

Each sample is a sequence stored as one flat row of ``X`` (time step by time
step); ``Dataset.input_shape`` gives its natural shape: ``(steps, 1)`` for a
sequence of values, ``(steps,)`` for a sequence of integer tokens. Like the
other built-ins they draw from ``np.random.default_rng(seed)`` only.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..errors import DataError
from ._common import _binary, _check_int, _check_n, _check_noise, _source_of, _two_class_counts
from .dataset import Dataset, _check_seed

MAX_STEPS = 1000
MAX_VOCAB = 1000
#: at most this many input values (n_samples × steps) per data set
MAX_VALUES = 20_000_000

#: the sine windows' frequencies, in cycles per time step (periods of 8 to 32 steps)
SINE_FREQUENCY = (1.0 / 32.0, 1.0 / 8.0)


def _check_size(n: int, steps: int) -> None:
    if n * steps > MAX_VALUES:
        raise DataError(f"{n} samples of {steps} steps are {n * steps:,} values; at most {MAX_VALUES:,} are allowed")


def make_sine_sequence(n_samples: int = 1000, steps: int = 20, noise: float = 0.05, seed: int = 0) -> Dataset:
    """Predict the next value of a noisy sine wave from the ``steps`` values before it.

    Each sample has its own random phase (uniform in [0, 2π)) and frequency
    (uniform in :data:`SINE_FREQUENCY` cycles per step): the series is
    ``s[t] = sin(2π f t + φ) + N(0, noise²)`` for ``t = 0..steps``; the inputs
    ``x1..x<steps>`` are ``s[0..steps-1]`` and the target ``next`` is
    ``s[steps]`` (noisy as well). ``input_shape`` is ``(steps, 1)``.
    """
    n = _check_n(n_samples)
    steps = _check_int("steps", steps, 1, MAX_STEPS)
    noise = _check_noise(noise)
    seed = _check_seed(seed)
    _check_size(n, steps)
    rng = np.random.default_rng(seed)
    phase = rng.uniform(0.0, 2.0 * math.pi, size=(n, 1))
    freq = rng.uniform(*SINE_FREQUENCY, size=(n, 1))
    t = np.arange(steps + 1, dtype=np.float64)
    series = np.sin(2.0 * math.pi * freq * t + phase)
    if noise > 0:
        series += rng.normal(0.0, noise, size=series.shape)
    return Dataset(
        X=series[:, :steps],
        Y=series[:, steps:],
        name="Sine next value",
        task="regression",
        input_names=[f"x{i + 1}" for i in range(steps)],
        target_names=["next"],
        classes=None,
        source=_source_of("sine_sequence", n_samples=n, steps=steps, noise=noise, seed=seed),
        input_shape=(steps, 1),
    )


def make_parity(n_samples: int = 1000, steps: int = 8, seed: int = 0) -> Dataset:
    """Is the number of ones odd? Each sample is ``steps`` random bits (0 or 1).

    Two classes, ``even`` (target 0) and ``odd`` (target 1); the bits are
    uniform, so the classes are balanced on average. ``input_shape`` is
    ``(steps, 1)``.
    """
    n = _check_n(n_samples)
    steps = _check_int("steps", steps, 1, MAX_STEPS)
    seed = _check_seed(seed)
    _check_size(n, steps)
    bits = np.random.default_rng(seed).integers(0, 2, size=(n, steps))
    odd = bits.sum(axis=1) % 2
    return _binary("Sequence parity", bits, odd.astype(np.float64), ["even", "odd"],
                   [f"b{i + 1}" for i in range(steps)], "odd",
                   _source_of("parity", n_samples=n, steps=steps, seed=seed), input_shape=(steps, 1))


def pattern_labels(tokens: Any) -> np.ndarray:
    """1 for each row of ``tokens`` in which a token 1 comes somewhere before a token 2, else 0."""
    tok = np.asarray(tokens)
    if tok.ndim != 2:
        raise DataError("pattern_labels needs a 2-D array of token rows")
    steps = tok.shape[1]
    is1, is2 = tok == 1, tok == 2
    first1 = np.where(is1.any(axis=1), is1.argmax(axis=1), steps)
    last2 = np.where(is2.any(axis=1), steps - 1 - is2[:, ::-1].argmax(axis=1), -1)
    return (first1 < last2).astype(np.int64)


def make_pattern(n_samples: int = 2000, steps: int = 10, vocab: int = 6, seed: int = 0) -> Dataset:
    """Does token 1 occur somewhere before token 2? Sequences of ``steps`` integer
    tokens ``0..vocab-1`` (stored as float values), a task for attention.

    Classes ``no`` (target 0) and ``yes`` (target 1), exactly balanced (the odd
    sample is a ``no``). Every sequence holds at least one 1 and one 2, so
    only their order tells the classes apart: a ``yes`` sequence is random
    tokens with a 1 and, later, a 2 written at two random positions; a ``no``
    sequence is built the same way, then the 1s and 2s in it are rearranged
    among their own positions so that all the 2s come first. Both classes so
    have the same token counts and the same positions of 1s and 2s.
    ``input_shape`` is ``(steps,)`` (one token per step, for an embedding).
    """
    n = _check_n(n_samples)
    steps = _check_int("steps", steps, 2, MAX_STEPS)
    vocab = _check_int("vocab", vocab, 3, MAX_VOCAB)
    seed = _check_seed(seed)
    _check_size(n, steps)
    rng = np.random.default_rng(seed)
    n_no, n_yes = _two_class_counts(n)
    labels = np.concatenate([np.zeros(n_no, dtype=np.int64), np.ones(n_yes, dtype=np.int64)])
    tokens = rng.integers(0, vocab, size=(n, steps))
    # two distinct positions i < j, uniform over the pairs
    a = rng.integers(0, steps, size=n)
    b = rng.integers(0, steps - 1, size=n)
    b = b + (b >= a)
    rows = np.arange(n)
    tokens[rows, np.minimum(a, b)] = 1
    tokens[rows, np.maximum(a, b)] = 2
    # "no": the same 1s and 2s, reordered so that every 2 precedes every 1
    special = (tokens == 1) | (tokens == 2)
    n_twos = (tokens == 2).sum(axis=1, keepdims=True)
    rank = np.cumsum(special, axis=1)
    reordered = np.where(special, np.where(rank <= n_twos, 2, 1), tokens)
    tokens = np.where((labels == 0)[:, None], reordered, tokens)
    perm = rng.permutation(n)
    return _binary("Pattern detection", tokens[perm].astype(np.float64), labels[perm].astype(np.float64),
                   ["no", "yes"], [f"tok{i + 1}" for i in range(steps)], "1 before 2",
                   _source_of("pattern", n_samples=n, steps=steps, vocab=vocab, seed=seed),
                   input_shape=(steps,))


__all__ = ["MAX_STEPS", "MAX_VOCAB", "make_parity", "make_pattern", "make_sine_sequence", "pattern_labels"]
