"""The sequence data sets: shapes, targets recomputed from the inputs, seeds,
class balance and ``input_shape``."""

import json

import numpy as np
import pytest

from anndesigner.data import (
    BUILTIN_DATASETS,
    load_builtin,
    load_source,
    make_parity,
    make_pattern,
    make_sine_sequence,
    pattern_labels,
)
from anndesigner.data.sequences import SINE_FREQUENCY
from anndesigner.errors import DataError

SEQUENCE_SETS = ["sine_sequence", "parity", "pattern"]


@pytest.mark.parametrize(
    ("name", "x_shape", "y_shape", "input_shape", "task", "kind"),
    [
        ("sine_sequence", (1000, 20), (1000, 1), (20, 1), "regression", "sequence"),
        ("parity", (1000, 8), (1000, 1), (8, 1), "classification", "sequence"),
        ("pattern", (2000, 10), (2000, 1), (10,), "classification", "tokens"),
    ],
)
def test_defaults_shapes_and_registry(name, x_shape, y_shape, input_shape, task, kind):
    ds = load_builtin(name)
    assert ds.X.shape == x_shape and ds.Y.shape == y_shape
    assert ds.X.dtype == np.float32 and ds.Y.dtype == np.float32
    assert ds.input_shape == input_shape and ds.samples().shape == (x_shape[0],) + input_shape
    assert ds.task == task and len(ds.input_names) == x_shape[1] and len(set(ds.input_names)) == x_shape[1]
    info = BUILTIN_DATASETS[name]
    assert info.task == task and info.input_kind == kind
    assert json.loads(json.dumps(ds.source))["params"] == info.defaults
    assert set(info.limits) == {k for k in info.defaults if k not in ("seed", "noise")}


def test_titles():
    assert BUILTIN_DATASETS["sine_sequence"].title == "Sine next value"
    assert BUILTIN_DATASETS["parity"].title == "Sequence parity"
    assert BUILTIN_DATASETS["pattern"].title == "Pattern detection"


@pytest.mark.parametrize("name", SEQUENCE_SETS)
def test_deterministic_by_seed(name):
    a = load_builtin(name, n_samples=50, seed=3)
    b = load_builtin(name, n_samples=50, seed=3)
    c = load_builtin(name, n_samples=50, seed=4)
    assert np.array_equal(a.X, b.X) and np.array_equal(a.Y, b.Y)
    assert not np.array_equal(a.X, c.X)


@pytest.mark.parametrize("name", SEQUENCE_SETS)
def test_steps_param_and_round_trip_with_split_and_standardize(name):
    ds = load_builtin(name, n_samples=60, steps=5, seed=2, standardize=True)
    assert ds.n_inputs == 5 and ds.input_shape[0] == 5
    again = load_source(json.loads(json.dumps(ds.source)))
    assert again.input_shape == ds.input_shape
    assert np.array_equal(again.X, ds.X) and np.array_equal(again.Y, ds.Y)
    train, val = ds.split(0.25, seed=0)
    assert train.input_shape == val.input_shape == ds.input_shape
    val_again = load_source(json.loads(json.dumps(val.source)))
    assert val_again.input_shape == ds.input_shape and np.array_equal(val_again.X, val.X)


# ---------------------------------------------------------------------- sine
def test_sine_windows_follow_one_sine_each():
    ds = make_sine_sequence(n_samples=300, steps=12, noise=0.0, seed=1)
    s = np.hstack([ds.X, ds.Y]).astype(np.float64)  # the whole series: 12 inputs and the next value
    assert np.abs(s).max() <= 1.0 + 1e-6
    # a pure sine obeys s[t+1] = 2 cos(w) s[t] - s[t-1]: fit cos(w) on the inputs only...
    prev, mid, nxt = s[:, :-3], s[:, 1:-2], s[:, 2:-1]
    c = ((prev + nxt) * mid).sum(axis=1) / (2 * (mid**2).sum(axis=1))
    lo, hi = SINE_FREQUENCY
    w = np.arccos(np.clip(c, -1, 1))
    assert np.all(w > 2 * np.pi * lo - 1e-3) and np.all(w < 2 * np.pi * hi + 1e-3)
    # ...and the target is the next value of that sine
    predicted = 2 * c * s[:, -2] - s[:, -3]
    assert np.allclose(predicted, s[:, -1], atol=1e-4)
    # the phases differ from sample to sample
    assert np.unique(np.round(ds.X[:, 0], 3)).size > 250


def test_sine_noise_level():
    clean = make_sine_sequence(n_samples=2000, steps=6, noise=0.0, seed=5)
    noisy = make_sine_sequence(n_samples=2000, steps=6, noise=0.2, seed=5)
    assert 0.18 < float((noisy.X - clean.X).std()) < 0.22
    assert 0.18 < float((noisy.Y - clean.Y).std()) < 0.22


def test_sine_names():
    ds = make_sine_sequence(steps=3, n_samples=4)
    assert ds.input_names == ["x1", "x2", "x3"] and ds.target_names == ["next"] and ds.classes is None


# -------------------------------------------------------------------- parity
def test_parity_targets_and_bits():
    ds = make_parity(n_samples=500, steps=9, seed=7)
    assert set(np.unique(ds.X)) <= {0.0, 1.0}
    assert np.array_equal(ds.Y[:, 0], ds.X.sum(axis=1) % 2)
    assert ds.classes == ["even", "odd"] and ds.target_names == ["odd"]
    assert 0.4 < float(ds.Y.mean()) < 0.6
    assert ds.input_names == [f"b{i}" for i in range(1, 10)]
    one = make_parity(n_samples=20, steps=1, seed=0)
    assert np.array_equal(one.Y, one.X)


# ------------------------------------------------------------------- pattern
def _slow_labels(rows):
    out = []
    for row in rows.astype(int).tolist():
        out.append(int(any(row[i] == 1 and 2 in row[i + 1:] for i in range(len(row)))))
    return np.array(out)


def test_pattern_labels_helper():
    rows = np.array([[1, 2, 0], [2, 1, 0], [2, 1, 2], [0, 0, 0], [1, 1, 1], [2, 2, 1], [0, 1, 2]])
    assert pattern_labels(rows).tolist() == [1, 0, 1, 0, 0, 0, 1]
    assert np.array_equal(pattern_labels(rows), _slow_labels(rows))


@pytest.mark.parametrize(("n", "steps", "vocab", "seed"), [(2000, 10, 6, 0), (501, 2, 3, 1), (300, 25, 40, 2)])
def test_pattern_targets_balance_and_tokens(n, steps, vocab, seed):
    ds = make_pattern(n_samples=n, steps=steps, vocab=vocab, seed=seed)
    assert ds.X.shape == (n, steps) and ds.input_shape == (steps,)
    assert np.array_equal(ds.X, np.round(ds.X)) and ds.X.min() >= 0 and ds.X.max() <= vocab - 1
    y = ds.Y[:, 0]
    assert np.array_equal(y, _slow_labels(ds.X))
    # balanced by construction: the odd sample is a "no"
    assert int(y.sum()) == n // 2 and int((y == 0).sum()) == (n + 1) // 2
    assert ds.classes == ["no", "yes"]
    # both classes hold 1s and 2s: only their order tells them apart
    has1, has2 = (ds.X == 1).any(axis=1), (ds.X == 2).any(axis=1)
    assert np.all(has1 & has2)
    # ...and the same number of them on average
    ones = (ds.X == 1).sum(axis=1) + (ds.X == 2).sum(axis=1)
    if n >= 1000:
        assert abs(float(ones[y == 1].mean() - ones[y == 0].mean())) < 0.15
    # the classes are shuffled, not in blocks
    assert 0.3 < float(y[: n // 2].mean()) < 0.7


def test_pattern_uses_the_whole_vocabulary():
    ds = make_pattern(n_samples=500, vocab=9, seed=0)
    assert set(np.unique(ds.X).astype(int)) == set(range(9))


@pytest.mark.parametrize(
    ("name", "params", "fragment"),
    [
        ("parity", {"steps": 0}, "steps must be between 1 and"),
        ("parity", {"steps": 2.5}, "steps must be an integer"),
        ("parity", {"noise": 0.1}, "unknown parameter 'noise'"),
        ("pattern", {"steps": 1}, "steps must be between 2 and"),
        ("pattern", {"vocab": 2}, "vocab must be between 3 and"),
        ("pattern", {"vocab": True}, "vocab must be an integer"),
        ("sine_sequence", {"noise": -1.0}, "noise must be a finite number >= 0"),
        ("sine_sequence", {"steps": 1001}, "steps must be between 1 and 1000"),
        ("sine_sequence", {"n_samples": 1_000_000, "steps": 1000}, "at most"),
        ("sine_sequence", {"seed": -3}, "seed must be a non-negative integer"),
    ],
)
def test_invalid_parameters(name, params, fragment):
    with pytest.raises(DataError) as info:
        load_builtin(name, **params)
    assert fragment in str(info.value)
