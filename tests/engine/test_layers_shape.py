import numpy as np
import pytest

import anndesigner as ad
from anndesigner.errors import ShapeError
from helpers import flatten_net
from layercheck import check_layer


def test_flatten_gradient_and_values():
    step = check_layer("Flatten", (2, 3, 2))
    x = np.arange(24, dtype=np.float64).reshape(2, 2, 3, 2)
    np.testing.assert_array_equal(step.forward([x], False), x.reshape(2, 12))


def test_reshape_gradient_and_values():
    step = check_layer("Reshape", (12,), shape=[2, 3, 2])
    x = np.arange(24, dtype=np.float64).reshape(2, 12)
    np.testing.assert_array_equal(step.forward([x], False), x.reshape(2, 2, 3, 2))


def test_reshape_to_a_different_size_names_the_node():
    g = ad.Graph()
    x = g.add_node("Input", units=10)
    r = g.add_node("Reshape", shape=[3, 3])
    g.connect(x, r, check_shapes=False)
    a = g.analyze()
    (err,) = a.errors
    assert isinstance(err, ShapeError) and err.node_id == r.id
    assert "(10)" in str(err) and "(3, 3)" in str(err)


def test_flat_data_feeds_an_image_input():
    """A data set of 12 columns trains a network whose Input is (2, 3, 2)."""
    net = ad.Network(flatten_net((2, 3, 2)), seed=0)
    X = np.random.default_rng(0).normal(size=(8, 12)).astype(np.float32)
    np.testing.assert_array_equal(net.predict(X), net.predict(X.reshape(8, 2, 3, 2)))
    with pytest.raises(ad.DataError, match="12|takes"):
        net.predict(X[:, :11])
