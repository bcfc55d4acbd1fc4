"""The handwritten digits: the shipped file decodes to the UCI data, the data
set's shape, scaling, classes and seeded subsets, and ``input_shape``."""

import hashlib
import json
import subprocess
import sys

import numpy as np
import pytest

from anndesigner.data import BUILTIN_DATASETS, Dataset, load_builtin, load_source, make_digits
from anndesigner.data.digits import digits_arrays, digits_path
from anndesigner.errors import DataError

# known facts of the 1,797-sample UCI set (computed once from the original data)
TOTAL_PIXEL_SUM = 561_718
CLASS_COUNTS = [178, 182, 177, 183, 181, 182, 181, 179, 174, 180]
VALUE_COUNTS = [56272, 4095, 3296, 2944, 3261, 2803, 2559, 2627, 3464, 2585, 2711, 2845, 3668, 3509, 3609,
                4304, 10456]
PIXELS_SHA256 = "8f26b2bd9d135c256808f68f14fdabddde6d9c7f869ae419704b051f0f14b3b3"
LABELS_SHA256 = "8ba4f891220f5e4c9c819638d1602d74b83618f167043c6da52a2a247841ddf0"


def test_file_is_small_and_decodes_to_the_uci_data():
    path = digits_path()
    assert path.name == "digits.npz" and path.stat().st_size < 100_000
    assert (path.parent / "DIGITS-LICENSE.txt").is_file()
    pixels, labels = digits_arrays()
    assert pixels.shape == (1797, 64) and pixels.dtype == np.uint8
    assert labels.shape == (1797,) and labels.dtype == np.uint8
    assert int(pixels.sum(dtype=np.int64)) == TOTAL_PIXEL_SUM
    assert np.bincount(pixels.ravel(), minlength=17).tolist() == VALUE_COUNTS
    assert np.bincount(labels, minlength=10).tolist() == CLASS_COUNTS
    assert hashlib.sha256(pixels.tobytes()).hexdigest() == PIXELS_SHA256
    assert hashlib.sha256(labels.tobytes()).hexdigest() == LABELS_SHA256
    # cached and protected against accidental edits
    assert digits_arrays()[0] is pixels
    assert not pixels.flags.writeable and not labels.flags.writeable


def test_file_loads_without_pickle():
    with np.load(digits_path(), allow_pickle=False) as f:
        assert sorted(f.files) == ["labels", "pixels"]


def test_full_data_set():
    ds = load_builtin("digits")
    assert ds.X.shape == (1797, 64) and ds.Y.shape == (1797, 10)
    assert ds.X.dtype == np.float32 and ds.Y.dtype == np.float32
    assert ds.X.min() == 0.0 and ds.X.max() == 1.0
    assert np.array_equal(ds.X * 16, np.round(ds.X * 16))  # exact sixteenths
    assert int(round(float((ds.X.astype(np.float64) * 16).sum()))) == TOTAL_PIXEL_SUM
    assert ds.task == "classification" and ds.classes == [str(d) for d in range(10)]
    assert ds.target_names == [f"digit={d}" for d in range(10)]
    assert np.array_equal(ds.Y.sum(axis=1), np.ones(1797, dtype=np.float32))
    assert ds.Y.sum(axis=0).astype(int).tolist() == CLASS_COUNTS
    assert ds.input_names[:3] == ["px0_0", "px0_1", "px0_2"] and ds.input_names[-1] == "px7_7"
    assert len(set(ds.input_names)) == 64
    assert ds.input_shape == (8, 8, 1) and ds.samples().shape == (1797, 8, 8, 1)
    assert ds.source == {"kind": "builtin", "name": "digits", "params": {"n_samples": 1797, "seed": 0},
                         "standardize": False}
    # every image of the file is there once: the full set is a permutation of it
    pixels, labels = digits_arrays()
    got = np.round(ds.X * 16).astype(np.uint8)
    assert np.array_equal(np.sort(got.view("S64").ravel()), np.sort(pixels.view("S64").ravel()))


def test_images_are_row_major():
    # pixel (r, c) of the image is input px<r>_<c>: the columns of a digit's
    # outline are empty at the left and right edges much more often than the
    # middle columns
    ds = load_builtin("digits")
    img = ds.samples()[..., 0]
    assert img[:, :, 0].mean() < 0.02 and img[:, :, 3].mean() > 0.5
    col = ds.input_names.index("px2_3")
    assert np.array_equal(ds.X[:, col], img[:, 2, 3])


def test_subsets_are_seeded_random_subsets():
    a = make_digits(n_samples=100, seed=1)
    b = load_builtin("digits", n_samples=100, seed=1)
    c = make_digits(n_samples=100, seed=2)
    assert a.X.shape == (100, 64) and a.Y.shape == (100, 10)
    assert np.array_equal(a.X, b.X) and np.array_equal(a.Y, b.Y)
    assert not np.array_equal(a.X, c.X)
    # the first rows of the same seed's full set, so not just the file's first rows
    full = make_digits(seed=1)
    assert np.array_equal(full.X[:100], a.X)
    pixels, _ = digits_arrays()
    assert not np.array_equal(np.round(a.X * 16), pixels[:100])
    # roughly balanced classes in a random subset
    counts = make_digits(n_samples=500, seed=0).Y.sum(axis=0)
    assert counts.min() >= 30 and counts.max() <= 70


def test_load_is_fast():
    import time

    load_builtin("digits")
    t = time.perf_counter()
    for _ in range(5):
        load_builtin("digits")
    assert (time.perf_counter() - t) / 5 < 0.1


@pytest.mark.parametrize(
    ("params", "fragment"),
    [
        ({"n_samples": 0}, "n_samples must be between 1 and 1797"),
        ({"n_samples": 1798}, "n_samples must be between 1 and 1797"),
        ({"n_samples": 10.0}, "n_samples must be an integer"),
        ({"seed": -1}, "seed must be a non-negative integer"),
        ({"noise": 0.1}, "unknown parameter 'noise'"),
    ],
)
def test_invalid_parameters(params, fragment):
    with pytest.raises(DataError) as info:
        load_builtin("digits", **params)
    assert fragment in str(info.value)


def test_registry_entry():
    info = BUILTIN_DATASETS["digits"]
    assert info.title == "Handwritten digits (8×8)" and info.task == "classification"
    assert info.defaults == {"n_samples": 1797, "seed": 0}
    assert info.input_kind == "image" and info.limits == {"n_samples": (1, 1797)}


# ----------------------------------------------------------------- input_shape
def test_input_shape_survives_source_round_trip_split_and_standardize():
    ds = load_builtin("digits", n_samples=300, seed=4, standardize=True)
    assert ds.input_shape == (8, 8, 1) and ds.scaler is not None
    again = load_source(json.loads(json.dumps(ds.source)))
    assert again.input_shape == (8, 8, 1)
    assert np.array_equal(again.X, ds.X) and np.array_equal(again.Y, ds.Y)
    train, val = ds.split(0.2, seed=1)
    assert train.input_shape == val.input_shape == (8, 8, 1)
    assert (len(train), len(val)) == (240, 60)
    val_again = load_source(json.loads(json.dumps(val.source)))
    assert val_again.input_shape == (8, 8, 1) and np.array_equal(val_again.X, val.X)
    sub = ds.subset([0, 5, 7])
    assert sub.input_shape == (8, 8, 1) and sub.samples().shape == (3, 8, 8, 1)
    empty = ds.subset([])
    assert empty.input_shape == (8, 8, 1) and empty.samples().shape == (0, 8, 8, 1)


def test_input_shape_validation():
    X, Y = np.zeros((3, 6)), np.zeros((3, 1))
    names = [f"x{i}" for i in range(6)]

    def make(shape):
        return Dataset(X, Y, "t", "regression", names, ["y"], None, {}, input_shape=shape)

    assert make(None).input_shape is None and make(None).sample_shape == (6,)
    assert make([2, 3]).input_shape == (2, 3)
    assert make((3, 2, 1)).input_shape == (3, 2, 1)
    assert make(np.int64(6)).input_shape == (6,)
    for bad in [(4, 2), (), (0, 6), (2.0, 3), (True, 6), "6x1", (-2, -3)]:
        with pytest.raises(DataError):
            make(bad)


def test_csv_and_point_sets_have_no_input_shape():
    assert load_builtin("moons").input_shape is None
    assert load_builtin("moons").sample_shape == (2,)


def test_data_package_imports_neither_sklearn_nor_qt():
    code = ("import sys; import anndesigner.data as d; d.load_builtin('digits'); "
            "bad = [m for m in sys.modules if m.split('.')[0] in ('sklearn', 'PySide6')]; "
            "print(bad); sys.exit(1 if bad else 0)")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, res.stdout + res.stderr
