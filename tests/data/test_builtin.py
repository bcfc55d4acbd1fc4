"""Tests of the built-in data sets and of Dataset / Standardizer."""

import json

import numpy as np
import pytest

from anndesigner.data import (
    BUILTIN_DATASETS,
    Dataset,
    Standardizer,
    load_builtin,
    load_source,
    make_xor,
)
from anndesigner.errors import DataError

ALL = list(BUILTIN_DATASETS)

EXPECTED_SHAPES = {
    "and": ((4, 2), (4, 1)),
    "or": ((4, 2), (4, 1)),
    "xor": ((4, 2), (4, 1)),
    "circles": ((200, 2), (200, 1)),
    "moons": ((200, 2), (200, 1)),
    "spirals": ((200, 2), (200, 1)),
    "blobs": ((300, 2), (300, 3)),
    "formula": ((200, 2), (200, 1)),
    "sine": ((100, 1), (100, 1)),
    "house_prices": ((500, 4), (500, 1)),
    "digits": ((1797, 64), (1797, 10)),
    "letters": ((200, 25), (200, 25)),
    "sine_sequence": ((1000, 20), (1000, 1)),
    "parity": ((1000, 8), (1000, 1)),
    "pattern": ((2000, 10), (2000, 1)),
}


def test_registry_lists_all_required_sets():
    assert set(BUILTIN_DATASETS) == set(EXPECTED_SHAPES)
    for name, info in BUILTIN_DATASETS.items():
        assert info.name == name
        assert info.title and info.description and "\n" not in info.description
        assert info.task in ("classification", "regression")
        assert {"n_samples", "seed"} <= set(info.defaults)
        assert info.input_kind in ("features", "image", "sequence", "tokens")
        assert set(info.limits) <= set(info.defaults) and "n_samples" in info.limits
        for lo, hi in info.limits.values():
            assert isinstance(lo, int) and isinstance(hi, int) and lo <= hi
    with pytest.raises(TypeError):
        BUILTIN_DATASETS["new"] = BUILTIN_DATASETS["xor"]  # type: ignore[index]
    # defaults cannot be changed through the info object
    BUILTIN_DATASETS["xor"].defaults["n_samples"] = 99
    assert BUILTIN_DATASETS["xor"].defaults["n_samples"] == 4


@pytest.mark.parametrize("name", ALL)
def test_settings_are_described_by_param_specs(name):
    """info.params: one ParamSpec per setting, in the one form order, with the set's own
    default and range (the range the data panel's editor offers)."""
    from anndesigner.data.builtin import PARAM_SPECS, SEED_MAX
    from anndesigner.params import ParamSpec

    info = BUILTIN_DATASETS[name]
    order = [s.name for s in PARAM_SPECS]
    names = [p.name for p in info.params]
    assert set(names) == set(info.defaults) and names == sorted(names, key=order.index)
    for spec in info.params:
        assert isinstance(spec, ParamSpec) and spec.label and spec.help
        assert spec.default == info.defaults[spec.name] and info.param(spec.name) is spec
        if spec.kind in ("int", "float"):
            assert spec.minimum <= spec.default <= spec.maximum
        if spec.name in info.limits:
            assert (spec.minimum, spec.maximum) == info.limits[spec.name]
    if "seed" in info.defaults:
        assert (info.param("seed").minimum, info.param("seed").maximum) == (0, SEED_MAX)
    if "noise" in info.defaults:
        assert info.param("noise").kind == "float" and info.param("noise").decimals == 3
    with pytest.raises(KeyError):
        info.param("colour")


def test_a_data_set_narrows_the_common_ranges():
    assert BUILTIN_DATASETS["digits"].param("n_samples").maximum == 1797
    assert BUILTIN_DATASETS["pattern"].param("steps").minimum == 2
    assert BUILTIN_DATASETS["parity"].param("steps").minimum == 1


@pytest.mark.parametrize("name", ALL)
def test_defaults_lie_within_limits(name):
    info = BUILTIN_DATASETS[name]
    for key, (lo, hi) in info.limits.items():
        assert lo <= info.defaults[key] <= hi
        with pytest.raises(DataError):
            load_builtin(name, **{key: hi + 1})


@pytest.mark.parametrize("name", ALL)
def test_shapes_dtypes_and_metadata(name):
    ds = load_builtin(name)
    x_shape, y_shape = EXPECTED_SHAPES[name]
    assert ds.X.shape == x_shape and ds.Y.shape == y_shape
    assert ds.X.dtype == np.float32 and ds.Y.dtype == np.float32
    assert len(ds) == x_shape[0]
    assert ds.n_inputs == x_shape[1] and ds.n_outputs == y_shape[1]
    assert len(ds.input_names) == ds.n_inputs and len(ds.target_names) == ds.n_outputs
    assert ds.task == BUILTIN_DATASETS[name].task
    assert np.all(np.isfinite(ds.X)) and np.all(np.isfinite(ds.Y))
    if ds.task == "classification":
        assert set(np.unique(ds.Y)) <= {0.0, 1.0}
        assert len(ds.classes) == max(2, ds.n_outputs)
    else:
        assert ds.classes is None
    # the source is JSON-native and complete
    src = json.loads(json.dumps(ds.source))
    assert src["kind"] == "builtin" and src["name"] == name
    assert src["params"] == {**BUILTIN_DATASETS[name].defaults}
    assert src["standardize"] is False


@pytest.mark.parametrize("name", ALL)
def test_deterministic_for_seed_and_different_for_other_seed(name):
    params = {"n_samples": 40, "noise": 0.1}
    params = {k: v for k, v in params.items() if k in BUILTIN_DATASETS[name].defaults}
    a = load_builtin(name, seed=3, **params)
    b = load_builtin(name, seed=3, **params)
    c = load_builtin(name, seed=4, **params)
    assert np.array_equal(a.X, b.X) and np.array_equal(a.Y, b.Y)
    assert not np.array_equal(a.X, c.X)


def test_xor_truth_table_exact():
    ds = make_xor()
    assert ds.X.tolist() == [[0, 0], [0, 1], [1, 0], [1, 1]]
    assert ds.Y.ravel().tolist() == [0, 1, 1, 0]
    assert ds.classes == ["0", "1"]


def test_and_or_truth_tables():
    assert load_builtin("and").Y.ravel().tolist() == [0, 0, 0, 1]
    assert load_builtin("or").Y.ravel().tolist() == [0, 1, 1, 1]


def test_gate_repeats_rows_with_noise():
    ds = load_builtin("xor", n_samples=400, noise=0.1, seed=1)
    assert ds.X.shape == (400, 2)
    base = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float32)[np.arange(400) % 4]
    residual = ds.X - base
    assert 0.07 < residual.std() < 0.13
    assert ds.Y.ravel().tolist() == [0, 1, 1, 0] * 100
    # noise 0 repeats the table exactly
    assert np.array_equal(load_builtin("xor", n_samples=8).X, np.vstack([base[:4], base[:4]]))


def test_blobs_one_hot_and_two_centers():
    ds = load_builtin("blobs", centers=4, n_samples=100)
    assert ds.Y.shape == (100, 4)
    assert np.array_equal(ds.Y.sum(axis=1), np.ones(100, dtype=np.float32))
    assert ds.Y.sum(axis=0).tolist() == [25, 25, 25, 25]
    assert ds.classes == ["0", "1", "2", "3"]
    assert ds.target_names == ["class=0", "class=1", "class=2", "class=3"]
    assert ds.source["params"]["centers"] == 4
    two = load_builtin("blobs", centers=2, n_samples=10)
    assert two.Y.shape == (10, 1) and two.classes == ["0", "1"]


def _one_nn_accuracy(ds):
    train, val = ds.split(0.3, seed=0)
    d = ((val.X[:, None, :] - train.X[None, :, :]) ** 2).sum(-1)
    pred = train.Y[d.argmin(axis=1)]
    return float((pred == val.Y).all(axis=1).mean())


@pytest.mark.parametrize("name", ["circles", "moons", "spirals", "blobs"])
def test_classes_are_separable_structures(name):
    # a nearest-neighbour classifier does well: the classes form the intended shapes
    assert _one_nn_accuracy(load_builtin(name, n_samples=400, noise=0.02)) > 0.95


def test_circles_radii():
    ds = load_builtin("circles", noise=0.0)
    r = np.hypot(ds.X[:, 0], ds.X[:, 1])
    assert np.allclose(r[ds.Y[:, 0] == 0], 1.0, atol=1e-6)  # outer
    assert np.allclose(r[ds.Y[:, 0] == 1], 0.5, atol=1e-6)  # inner
    assert ds.classes == ["outer", "inner"]


def test_sine_values():
    ds = load_builtin("sine", noise=0.0, n_samples=50)
    assert ds.X.min() >= -np.pi and ds.X.max() <= np.pi
    assert np.allclose(ds.Y[:, 0], np.sin(ds.X[:, 0]), atol=1e-6)
    noisy = load_builtin("sine", noise=0.2, n_samples=2000, seed=5)
    assert 0.17 < float((noisy.Y[:, 0] - np.sin(noisy.X[:, 0])).std()) < 0.23


def test_house_prices_columns_and_scales():
    ds = load_builtin("house_prices")
    assert ds.input_names == ["location_score", "crime_rate", "floor_area", "population"]
    assert ds.target_names == ["price"]
    loc, crime, area, pop = ds.X.T
    assert loc.min() >= 1 and loc.max() <= 10
    assert crime.min() >= 0
    assert area.min() >= 25 and area.max() <= 400 and 60 < np.median(area) < 130
    assert pop.min() > 1000
    assert ds.Y.min() > 0 and 150 < float(np.median(ds.Y)) < 500


def _r2(y, pred):
    return 1.0 - float(((y - pred) ** 2).sum() / ((y - y.mean()) ** 2).sum())


def test_house_prices_is_learnable():
    ds = load_builtin("house_prices", standardize=True, n_samples=600)
    train, val = ds.split(0.25, seed=0)

    def features(d):
        raw = d.scaler.inverse_transform(d.X).astype(np.float64)
        loc, crime, area, pop = raw.T
        return np.column_stack([np.ones(len(d)), np.log(area), loc, loc**2, crime, np.log(pop)])

    coef, *_ = np.linalg.lstsq(features(train), np.log(train.Y[:, 0]), rcond=None)
    pred = np.exp(features(val) @ coef)
    assert _r2(val.Y[:, 0].astype(np.float64), pred) > 0.9


def test_standardize_option():
    ds = load_builtin("house_prices", standardize=True)
    assert ds.source["standardize"] is True
    assert isinstance(ds.scaler, Standardizer)
    assert np.allclose(ds.X.mean(axis=0), 0, atol=1e-5)
    assert np.allclose(ds.X.std(axis=0), 1, atol=1e-4)
    raw = load_builtin("house_prices")
    assert np.allclose(ds.scaler.inverse_transform(ds.X), raw.X, rtol=1e-5, atol=1e-3)


@pytest.mark.parametrize(
    ("name", "params", "fragment"),
    [
        ("nonsense", {}, "unknown built-in data set 'nonsense'"),
        ("xor", {"centers": 3}, "unknown parameter 'centers'"),
        ("xor", {"n_samples": 0}, "n_samples must be between 1"),
        ("moons", {"n_samples": 2.5}, "n_samples must be an integer"),
        ("moons", {"noise": -0.1}, "noise must be a finite number >= 0"),
        ("moons", {"noise": float("nan")}, "noise must be a finite number >= 0"),
        ("sine", {"seed": -1}, "seed must be a non-negative integer"),
        ("blobs", {"centers": 1}, "centers must be between 2"),
        ("blobs", {"centers": 5, "n_samples": 3}, "at least the number of centers"),
    ],
)
def test_invalid_requests(name, params, fragment):
    with pytest.raises(DataError) as info:
        load_builtin(name, **params)
    assert fragment in str(info.value)


def test_unknown_name_lists_known_ones():
    with pytest.raises(DataError) as info:
        load_builtin("iris")
    for known in ("xor", "spirals", "house_prices"):
        assert known in info.value.message


# ------------------------------------------------------------ Dataset.split
def test_split_deterministic_and_complete():
    ds = load_builtin("moons", n_samples=100)
    train, val = ds.split(0.2, seed=7)
    assert (len(train), len(val)) == (80, 20)
    assert train.n_inputs == 2 and val.n_outputs == 1
    again_train, again_val = ds.split(0.2, seed=7)
    assert np.array_equal(train.X, again_train.X) and np.array_equal(val.Y, again_val.Y)
    other_train, _ = ds.split(0.2, seed=8)
    assert not np.array_equal(train.X, other_train.X)
    # together they are a permutation of the whole set
    joined = np.vstack([train.X, val.X])
    assert np.array_equal(np.sort(joined, axis=0), np.sort(ds.X, axis=0))


def test_split_without_shuffle_takes_last_rows():
    ds = load_builtin("sine", n_samples=10)
    train, val = ds.split(0.3, seed=0, shuffle=False)
    assert np.array_equal(train.X, ds.X[:7]) and np.array_equal(val.X, ds.X[7:])


def test_split_zero_fraction_gives_empty_validation():
    ds = load_builtin("blobs", n_samples=30)
    train, val = ds.split(0.0, seed=0)
    assert len(train) == 30
    assert val.X.shape == (0, 2) and val.Y.shape == (0, 3)
    assert val.X.dtype == np.float32 and val.classes == ds.classes


@pytest.mark.parametrize("fraction", [-0.1, 1.0, 1.5, "half"])
def test_split_rejects_bad_fraction(fraction):
    with pytest.raises(DataError):
        load_builtin("xor").split(fraction, seed=0)


def test_load_source_round_trip_builtin_and_split():
    ds = load_builtin("blobs", standardize=True, centers=4, n_samples=60, noise=0.3, seed=9)
    again = load_source(json.loads(json.dumps(ds.source)))
    assert np.array_equal(ds.X, again.X) and np.array_equal(ds.Y, again.Y)
    assert again.classes == ds.classes and again.scaler is not None
    _, val = ds.split(0.25, seed=2)
    val_again = load_source(json.loads(json.dumps(val.source)))
    assert np.array_equal(val.X, val_again.X) and np.array_equal(val.Y, val_again.Y)


@pytest.mark.parametrize(
    "source",
    [
        None,
        [],
        {},
        {"kind": "zip"},
        {"kind": "builtin"},
        {"kind": "builtin", "name": "xor", "params": [1, 2]},
        {"kind": "builtin", "name": "xor", "params": {"n_samples": "many"}},
        {"kind": "builtin", "name": "xor", "standardize": "yes"},
        {"kind": "builtin", "name": "xor", "split": {"part": "test"}},
        {"kind": "csv"},
    ],
)
def test_load_source_rejects_malformed(source):
    with pytest.raises(DataError):
        load_source(source)


# ------------------------------------------------------------- Standardizer
def test_standardizer_fit_transform_inverse_and_constant_column():
    rng = np.random.default_rng(0)
    X = np.column_stack([rng.normal(5, 3, 200), np.full(200, 7.0)])
    s = Standardizer.fit(X)
    Z = s.transform(X)
    assert Z.dtype == np.float32
    assert np.allclose(Z[:, 0].mean(), 0, atol=1e-5) and np.allclose(Z[:, 0].std(), 1, atol=1e-5)
    assert s.std[1] == 1.0 and np.all(Z[:, 1] == 0)
    assert np.allclose(s.inverse_transform(Z), X, atol=1e-4)
    d = json.loads(json.dumps(s.to_dict()))
    s2 = Standardizer.from_dict(d)
    assert np.array_equal(s2.mean, s.mean) and np.array_equal(s2.std, s.std)
    with pytest.raises(DataError):
        s.transform(np.zeros((3, 5)))


@pytest.mark.parametrize(
    "bad",
    [
        None,
        [1, 2],
        {"mean": [0.0]},
        {"mean": [0.0], "std": [1.0, 2.0]},
        {"mean": ["a"], "std": [1.0]},
        {"mean": [0.0], "std": [0.0]},
        {"mean": [float("nan")], "std": [1.0]},
        {"mean": 0.0, "std": 1.0},
    ],
)
def test_standardizer_from_dict_rejects_malformed(bad):
    with pytest.raises(DataError):
        Standardizer.from_dict(bad)


def test_dataset_validates_shapes():
    with pytest.raises(DataError):
        Dataset(np.zeros((3, 2)), np.zeros((4, 1)), "x", "regression", ["a", "b"], ["y"], None, {})
    with pytest.raises(DataError):
        Dataset(np.zeros((3, 2)), np.zeros((3, 1)), "x", "clustering", ["a", "b"], ["y"], None, {})
