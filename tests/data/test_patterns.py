import numpy as np
import pytest

from anndesigner.data import load_builtin, load_source
from anndesigner.data.patterns import letter_patterns
from anndesigner.errors import DataError


def test_letters_are_noisy_copies_of_the_clean_targets():
    names, P = letter_patterns()
    assert names == ["T", "L", "X", "O"] and P.shape == (4, 25)
    assert set(np.unique(P)) == {-1.0, 1.0}
    ds = load_builtin("letters", n_samples=400, noise=0.1, seed=3)
    assert ds.input_shape == (5, 5, 1)
    # targets are the clean letters in turn; about 10 % of the input pixels are flipped
    np.testing.assert_array_equal(ds.Y, P[np.arange(400) % 4])
    flipped = (ds.X != ds.Y).mean()
    assert 0.08 < flipped < 0.12
    assert set(np.unique(ds.X)) == {-1.0, 1.0}
    clean = load_builtin("letters", n_samples=8, noise=0.0)
    np.testing.assert_array_equal(clean.X, clean.Y)
    again = load_source(ds.source)
    np.testing.assert_array_equal(again.X, ds.X)


def test_reconstruct_makes_the_inputs_the_targets():
    src = {"kind": "builtin", "name": "digits", "params": {"n_samples": 100}, "reconstruct": True}
    ds = load_source(src)
    assert ds.task == "regression" and ds.classes is None
    np.testing.assert_array_equal(ds.X, ds.Y)
    assert ds.target_names == ds.input_names and ds.input_shape == (8, 8, 1)
    assert ds.source == src
    again = load_source(ds.source)
    np.testing.assert_array_equal(again.Y, ds.Y)
    std = load_source(dict(src, standardize=True))
    np.testing.assert_array_equal(std.X, std.Y)  # targets are what the network sees
    with pytest.raises(DataError, match="reconstruct"):
        load_source(dict(src, reconstruct="yes"))
