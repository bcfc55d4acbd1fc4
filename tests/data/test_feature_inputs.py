"""Derived input columns ("features") for the 2-D built-in data sets."""

import json

import numpy as np
import pytest

from anndesigner.data import BUILTIN_DATASETS, complete_source, load_builtin, load_source, same_source
from anndesigner.data.builtin import FEATURES_SPEC
from anndesigner.data.features import DEFAULT_FEATURES, FEATURE_NAMES, check_features, with_features
from anndesigner.errors import DataError

TWO_D = ["and", "or", "xor", "circles", "moons", "spirals", "blobs", "formula"]


def test_which_sets_take_features():
    assert sorted(n for n, i in BUILTIN_DATASETS.items() if i.takes_features) == sorted(TWO_D)
    for name, info in BUILTIN_DATASETS.items():
        assert "features" not in info.defaults  # old sources and forms are unchanged
    assert FEATURES_SPEC.default == DEFAULT_FEATURES == ("x1", "x2")


@pytest.mark.parametrize("name", TWO_D)
def test_default_features_change_nothing(name):
    plain = load_builtin(name, n_samples=40)
    same = load_builtin(name, n_samples=40, features=["x1", "x2"])
    np.testing.assert_array_equal(plain.X, same.X)
    assert plain.input_names == same.input_names


@pytest.mark.parametrize("name", TWO_D)
def test_every_feature_is_computed_from_the_two_inputs(name):
    base = load_builtin(name, n_samples=60, seed=5)
    ds = load_builtin(name, n_samples=60, seed=5, features=list(FEATURE_NAMES))
    a = base.X[:, 0].astype(np.float64)
    b = base.X[:, 1].astype(np.float64)
    want = np.column_stack([a, b, a * a, b * b, a * b, np.sin(a), np.sin(b)])
    np.testing.assert_allclose(ds.X, want.astype(np.float32), rtol=1e-6)
    assert ds.X.shape == (60, 7) and ds.X.dtype == np.float32
    np.testing.assert_array_equal(ds.Y, base.Y)
    assert ds.task == base.task and ds.classes == base.classes and ds.target_names == base.target_names
    assert len(ds.input_names) == 7


def test_column_names_follow_the_data_set():
    assert load_builtin("xor", features=["x1*x2", "x1^2"]).input_names == ["x1*x2", "x1^2"]
    spirals = load_builtin("spirals", features=["x2", "x1^2", "x1*x2", "sin(x2)"])
    assert spirals.input_names == ["y", "x^2", "x*y", "sin(y)"]


def test_order_is_the_one_given_and_single_columns_work():
    base = load_builtin("circles", n_samples=30)
    ds = load_builtin("circles", n_samples=30, features=["sin(x2)", "x1"])
    np.testing.assert_allclose(ds.X[:, 0], np.sin(base.X[:, 1].astype(np.float64)), rtol=1e-6)
    np.testing.assert_array_equal(ds.X[:, 1], base.X[:, 0])
    only = load_builtin("circles", n_samples=30, features=["x1*x2"])
    assert only.X.shape == (30, 1)


def test_spellings_are_normalised():
    assert check_features(("X1", "x₂", "x1**2", " x1 * x2 ", "SIN(x1)")) == ("x1", "x2", "x1^2", "x1*x2", "sin(x1)")


@pytest.mark.parametrize("bad, match", [
    ("x1", "must be a list"),
    (None, "must be a list"),
    ([], "at least one"),
    (["x1", "x3"], r"features\[1\]: unknown feature 'x3'"),
    (["x1", 2], r"features\[1\]: unknown feature 2"),
    (["x1", "X1"], r"features\[1\]: 'X1' is listed twice"),
    ([["x1"]], "unknown feature"),
])
def test_bad_features(bad, match):
    with pytest.raises(DataError, match=match):
        load_builtin("xor", features=bad)


def test_sets_without_two_inputs_refuse_features():
    for name in ("sine", "house_prices", "digits", "parity"):
        with pytest.raises(DataError, match="unknown parameter 'features'"):
            load_builtin(name, features=["x1"])
    ds = load_builtin("sine")
    with pytest.raises(DataError, match="two input columns"):
        with_features(ds, ["x1^2"])


def test_standardize_applies_to_the_derived_columns():
    ds = load_builtin("moons", features=["x1", "x2", "x1*x2"], standardize=True)
    assert ds.scaler.n_features == 3
    np.testing.assert_allclose(ds.X.mean(axis=0), 0, atol=1e-5)
    np.testing.assert_allclose(ds.X.std(axis=0), 1, atol=1e-4)


def test_source_records_features_and_round_trips():
    ds = load_builtin("spirals", n_samples=80, features=("x1", "x2", "sin(x1)"), standardize=True)
    src = json.loads(json.dumps(ds.source))
    assert src["params"]["features"] == ["x1", "x2", "sin(x1)"]
    again = load_source(src)
    np.testing.assert_array_equal(again.X, ds.X)
    assert again.input_names == ds.input_names
    assert same_source(src, ds.source)
    assert complete_source(src)["params"]["features"] == ["x1", "x2", "sin(x1)"]
    # a split of it too
    train, val = ds.split(0.25, seed=1)
    np.testing.assert_array_equal(load_source(json.loads(json.dumps(val.source))).X, val.X)


def test_old_sources_are_unchanged():
    src = {"kind": "builtin", "name": "xor", "params": {"n_samples": 4}}
    ds = load_source(src)
    assert "features" not in ds.source["params"] and ds.n_inputs == 2


def test_features_on_the_formula_set():
    ds = load_builtin("formula", expression="x1^2 + x2^2 < 0.5", features=["x1^2", "x2^2"], n_samples=300)
    assert ds.task == "classification"
    # the label is now linear in the derived columns
    np.testing.assert_array_equal(ds.Y[:, 0], (ds.X[:, 0].astype(np.float64) + ds.X[:, 1] < 0.5).astype(np.float32))
