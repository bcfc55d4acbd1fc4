"""Network.predict / evaluate / predict_classes take raw rows and apply the file's
standardization; ``standardized=True`` feeds rows as they are (issue 13)."""

from pathlib import Path

import numpy as np
import pytest

import anndesigner as ad
from anndesigner.data import load_builtin, load_csv, load_source
from anndesigner.errors import DataError

from helpers import mlp

SAMPLES = Path(__file__).resolve().parents[2] / "samples"


def write_csv(path, X, labels, names=("size", "weight")):
    with open(path, "w") as f:
        f.write(",".join(names) + ",kind\n")
        for row, lab in zip(X, labels):
            f.write(",".join(repr(float(v)) for v in row) + f",{lab}\n")


@pytest.fixture(scope="module")
def csv_net(tmp_path_factory):
    """Moons on wildly scaled columns (hundreds and thousandths), trained on the
    standardized rows, saved and loaded again: the raw CSV rows and the trained net."""
    tmp = tmp_path_factory.mktemp("raw")
    moons = load_builtin("moons", n_samples=200, noise=0.1, seed=3)
    raw = moons.X.astype(np.float64) * np.array([300.0, 0.004]) + np.array([1000.0, -0.5])
    labels = np.where(moons.Y[:, 0] > 0.5, "round", "flat")
    write_csv(tmp / "moons.csv", raw, labels)
    ds = load_csv(tmp / "moons.csv")
    assert ds.scaler is not None and ds.classes == ["flat", "round"]
    net = ad.Network(mlp([2, 12, 1]), seed=1, data=ds.source)
    net.fit(ds.X, ds.Y, epochs=150, optimizer="adam", learning_rate=0.03, batch_size=32)
    net.save(tmp / "moons.ann")
    return ad.Network.load(tmp / "moons.ann"), raw, labels, ds


def test_raw_csv_rows_score_as_the_standardized_ones(csv_net):
    net, raw, labels, ds = csv_net
    std = net.evaluate(ds.X, ds.Y, standardized=True)
    assert std["accuracy"] > 0.9
    assert net.evaluate(raw, ds.Y) == pytest.approx(std, rel=1e-6)
    np.testing.assert_allclose(net.predict(raw), net.predict(ds.X, standardized=True), rtol=1e-6, atol=1e-7)
    # what raw rows gave before (fed unscaled): far worse, so the scaler is what makes the difference
    assert net.evaluate(raw, ds.Y, standardized=True)["accuracy"] < std["accuracy"] - 0.2
    np.testing.assert_allclose(net.scaler.mean, raw.mean(0), rtol=1e-9)


def test_predict_classes_gives_the_csv_class_names(csv_net):
    net, raw, labels, ds = csv_net
    got = net.predict_classes(raw)
    assert net.classes == ["flat", "round"]
    assert set(got) <= {"flat", "round"}
    p = net.predict(raw)[:, 0]
    assert list(got) == ["round" if v >= 0.5 else "flat" for v in p]
    assert np.mean(got == labels) == pytest.approx(net.evaluate(raw, ds.Y)["accuracy"])
    assert list(net.predict_classes(ds.X[:5], standardized=True)) == list(got[:5])
    # evaluate takes class names as targets too
    assert net.evaluate(raw, labels) == pytest.approx(net.evaluate(raw, ds.Y))
    with pytest.raises(DataError, match="row 2: 'square' is not one of the classes"):
        net.evaluate(raw[:3], np.array(["flat", "square", "round"]))


def test_the_standardizing_sample_takes_raw_rows():
    net = ad.load(SAMPLES / "house-prices.ann")
    src = net.data_source
    assert src["standardize"] is True
    ds = load_source(src)
    raw = load_builtin(src["name"], standardize=False, **src["params"])
    assert not np.allclose(raw.X, ds.X)
    net.fit(ds.X, ds.Y, epochs=40, optimizer="adam", learning_rate=0.01)  # the sample is untrained
    np.testing.assert_allclose(net.predict(raw.X), net.predict(ds.X, standardized=True), rtol=1e-5, atol=1e-6)
    assert net.evaluate(raw.X, raw.Y) == pytest.approx(net.evaluate(ds.X, ds.Y, standardized=True), rel=1e-5)
    assert net.evaluate(raw.X, raw.Y)["r2"] > 0.9
    with pytest.raises(DataError, match="regression output"):
        net.predict_classes(raw.X)


def test_a_network_without_standardization_is_unchanged():
    net = ad.load(SAMPLES / "xor.ann")
    assert net.scaler is None and net.classes == ["0", "1"]
    X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], np.float32)
    np.testing.assert_array_equal(net.predict(X), net.predict(X, standardized=True))
    p = net.predict(X)[:, 0]
    assert list(net.predict_classes(X)) == ["1" if v >= 0.5 else "0" for v in p]
    bare = ad.Network(mlp([2, 3, 1]), seed=0)  # no data set at all
    assert bare.scaler is None and bare.classes is None
    np.testing.assert_array_equal(bare.predict(X), bare.program.forward([X], training=False)[0])
    assert list(bare.predict_classes(X)) == [int(v >= 0.5) for v in bare.predict(X)[:, 0]]


def test_raw_rows_of_the_wrong_width_are_named(csv_net):
    net = csv_net[0]
    with pytest.raises(DataError, match=r"shape \(3,\)"):
        net.predict(np.zeros((2, 3)))
