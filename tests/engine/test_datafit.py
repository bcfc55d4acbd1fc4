"""The data/network fit report (anndesigner.engine.datafit): each mismatch with its fix,
for k > 2 classes, two classes as one 0/1 column, regression and the Input shape."""

import numpy as np
import pytest

import anndesigner as ad
from anndesigner.data import load_builtin
from anndesigner.engine.datafit import DataShape, check_fit, target_mismatch_message
from anndesigner.errors import DataError
from helpers import mlp


def output_net(units, activation="sigmoid", loss="binary_crossentropy", inputs=2):
    net = ad.Network(mlp([inputs, 4, units]), strict=False)
    net.graph.set_params("output_1", activation=activation, loss=loss)
    return net


def apply(net, report):
    for fix in report.fixes():
        net.graph.set_params(fix.node_id, **fix.params)


def test_three_classes_get_softmax_and_categorical_cross_entropy():
    net = output_net(1)  # sigmoid + binary cross-entropy, as a new Output has
    report = check_fit(net.graph, load_builtin("blobs"), net.describe_node)
    (m,) = report.mismatches
    assert m.node_id == "output_1" and m.message == "Output 'output_1' has 1 unit but the data has 3 outputs " \
                                                    "(one per class)"
    assert m.fix.params == {"units": 3, "activation": "softmax", "loss": "categorical_crossentropy"}
    assert "softmax" in m.fix.why and "add up to 1" in m.fix.why
    apply(net, report)
    assert not check_fit(net.graph, load_builtin("blobs"))
    ds = load_builtin("blobs")
    hist = net.fit(ds.X, ds.Y, epochs=30, learning_rate=0.05, batch_size=32)
    assert hist["accuracy"][-1] > 0.9  # the fixed network learns the three classes


def test_two_classes_and_two_softmax_units():
    net = output_net(2, "softmax", "categorical_crossentropy")
    ds = load_builtin("moons")
    report = check_fit(net.graph, ds, net.describe_node)
    (m,) = report.mismatches
    assert "has 2 units but the data has 1 output (2 classes as one 0/1 column)" in m.message
    assert m.fix.params == {"units": 1, "activation": "sigmoid", "loss": "binary_crossentropy"}
    assert m.alternatives == ("one-hot target columns (one per class) for softmax",)
    apply(net, report)
    assert not check_fit(net.graph, ds)
    # a single softmax unit always outputs 1: a mismatch even though the units agree
    one = output_net(1, "softmax", "categorical_crossentropy")
    (m,) = check_fit(one.graph, ds).mismatches
    assert "always outputs 1" in m.message and m.fix.params["activation"] == "sigmoid"
    # sigmoid + mse on 0/1 targets is a choice, not an error
    assert not check_fit(output_net(1, "sigmoid", "mse").graph, ds)


def test_regression_gets_units_and_a_linear_output():
    net = output_net(2)  # sigmoid + binary cross-entropy
    ds = load_builtin("house_prices")  # 4 inputs, 1 numeric target
    report = check_fit(net.graph, ds)
    assert set(report.messages()) == {"input_1", "output_1"}
    fixes = {f.node_id: f.params for f in report.fixes()}
    assert fixes == {"input_1": {"shape": [4]}, "output_1": {"units": 1, "activation": "linear", "loss": "mse"}}
    # a regression Output that only has the wrong count keeps its activation and loss
    lin = output_net(2, "tanh", "mse")
    (m,) = [m for m in check_fit(lin.graph, ds).mismatches if m.node_id == "output_1"]
    assert m.fix.params == {"units": 1}


def test_a_fitting_network_has_no_report_and_data_shape_of():
    net = ad.load(__import__("pathlib").Path(__file__).resolve().parents[2] / "samples" / "xor.ann")
    assert not check_fit(net.graph, load_builtin("xor"))
    shape = DataShape.of(load_builtin("blobs"))
    assert (shape.n_inputs, shape.n_outputs, shape.n_classes) == (2, 3, 3)


def test_the_engines_message_offers_the_fix():
    net = output_net(2, "softmax", "categorical_crossentropy")
    ds = load_builtin("moons")
    with pytest.raises(DataError) as info:
        net.fit(ds.X, ds.Y, epochs=1)
    msg = info.value.message
    assert msg.startswith("the data has 1 target column(s) but Output 'output_1' has 2 unit(s)")
    assert "1 sigmoid unit with binary cross-entropy" in msg and "one-hot" in msg
    three = output_net(1)
    blobs = load_builtin("blobs")
    with pytest.raises(DataError, match="3 units with softmax and categorical cross-entropy"):
        three.fit(blobs.X, blobs.Y, epochs=1)
    assert target_mismatch_message("Output 'o'", 1, "linear", "mse", np.array([[0.5, 2.0]])) == \
        "the data has 2 target column(s) but Output 'o' has 1 unit(s); set the Output's units to 2"


@pytest.mark.parametrize("activation,loss,problem", [
    ("softmax", "mse", "uses softmax on 1 unit, which always outputs 1"),
    ("linear", "categorical_crossentropy", "uses categorical cross-entropy on 1 unit"),
])
def test_one_regression_unit_with_softmax_or_categorical_cross_entropy(activation, loss, problem):
    """The right unit count for a regression target, but an output that cannot fit it: the
    report says so and the fix makes it linear with mean squared error (it said nothing)."""
    ds = load_builtin("house_prices")
    net = output_net(1, activation, loss, inputs=4)
    (m,) = check_fit(net.graph, ds, net.describe_node).mismatches
    assert m.node_id == "output_1" and m.message.startswith(f"Output 'output_1' {problem}")
    assert m.fix.params == {"activation": "linear", "loss": "mse"}
    apply(net, check_fit(net.graph, ds))
    assert not check_fit(net.graph, ds)
    assert not check_fit(output_net(1, "tanh", "mse", inputs=4).graph, ds)  # other activations are a choice
