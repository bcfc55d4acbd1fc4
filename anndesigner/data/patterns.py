"""Bipolar letter patterns for associative memories (Hebb's rule).

Four 5×5 letters with pixels −1 (off) and +1 (on). Each sample is a noisy copy
of one letter (every pixel flipped with probability ``noise``); its target is
the clean letter, so a network that recalls it maps noise to the pattern.
"""

from __future__ import annotations

import numpy as np

from ._common import _check_n, _check_noise, _source
from .dataset import _check_seed
from .dataset import Dataset

LETTERS = {
    "T": ["#####",
          "..#..",
          "..#..",
          "..#..",
          "..#.."],
    "L": ["#....",
          "#....",
          "#....",
          "#....",
          "#####"],
    "X": ["#...#",
          ".#.#.",
          "..#..",
          ".#.#.",
          "#...#"],
    "O": [".###.",
          "#...#",
          "#...#",
          "#...#",
          ".###."],
}


def letter_patterns() -> tuple[list[str], np.ndarray]:
    """The letters' names and their patterns, (4, 25) of ±1 in row order."""
    names = list(LETTERS)
    P = np.array([[1.0 if c == "#" else -1.0 for row in LETTERS[k] for c in row] for k in names], np.float32)
    return names, P


def make_letters(n_samples: int = 200, noise: float = 0.08, seed: int = 0) -> Dataset:
    """Noisy copies of the letters T, L, X and O (in turn) with the clean letter as target."""
    n = _check_n(n_samples)
    noise = _check_noise(noise)
    seed = _check_seed(seed)
    names, P = letter_patterns()
    rng = np.random.default_rng(seed)
    which = np.arange(n) % len(names)
    Y = P[which]
    flip = rng.random(Y.shape) < min(noise, 0.5)
    X = np.where(flip, -Y, Y)
    pixels = [f"px{r}_{c}" for r in range(5) for c in range(5)]
    return Dataset(
        X=X, Y=Y, name="Letters (5×5, ±1)", task="regression",
        input_names=pixels, target_names=[f"out_{p}" for p in pixels], classes=None,
        source=_source("letters", n, noise, seed), input_shape=(5, 5, 1),
    )
