"""The data/network fit rules (anndesigner.engine.datafit): each mismatch with its node,
message and fix, for k > 2 classes, two classes as one 0/1 column, regression, the Input
shape, several Inputs and Outputs; the fix applied makes the report clean; the engine's
check of arrays and its messages; the data-side choices (one-hot, standardization)."""

import numpy as np
import pytest

import anndesigner as ad
from anndesigner.data import BUILTIN_DATASETS, load_builtin, load_source
from anndesigner.engine.datafit import (DataShape, affects_fit, check_arrays, check_fit, first_nonfinite,
                                        standardize_default, target_mismatch_message, with_data_fix)
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


# ------------------------------------------------------------------ the Input
def test_a_flat_input_gets_the_datas_column_count_and_the_fix_makes_it_fit():
    net = output_net(1, inputs=3)  # xor has 2 inputs
    ds = load_builtin("xor")
    (m,) = check_fit(net.graph, ds, net.describe_node).mismatches
    assert (m.node_id, m.message) == ("input_1", "Input 'input_1' takes 3 values but the data has 2 inputs")
    assert m.fix.params == {"shape": [2]} and m.fix.text == "shape (2)" and m.data_fix is None
    apply(net, check_fit(net.graph, ds))
    assert not check_fit(net.graph, ds) and net.graph.nodes["input_1"].params["shape"] == [2]


def test_an_image_input_gets_the_image_shape_when_the_layers_after_it_want_one():
    ds = load_builtin("digits")  # 8 x 8 pictures, 64 input columns
    assert ds.input_shape is not None and len(ds.input_shape) == 3
    flat_then_flatten = ad.Network(__import__("helpers").flatten_net((5,)), strict=False)
    (m,) = [m for m in check_fit(flat_then_flatten.graph, ds).mismatches if m.node_id == "input_1"]
    assert m.message == "Input 'input_1' takes 5 values but the data has 64 inputs"
    assert m.fix.params == {"shape": list(ds.input_shape)}  # a Flatten is made for an image
    image = ad.Network(__import__("helpers").flatten_net((4, 4, 1)), strict=False)
    (m,) = [m for m in check_fit(image.graph, ds).mismatches if m.node_id == "input_1"]
    assert m.message == "Input 'input_1' takes shape (4, 4, 1) (16 values) but the data has 64 inputs"
    assert m.fix.params == {"shape": list(ds.input_shape)}  # it already has several axes
    apply(image, check_fit(image.graph, ds))
    assert "input_1" not in check_fit(image.graph, ds).messages()
    dense = output_net(10, "softmax", "categorical_crossentropy", inputs=5)  # Input -> Dense: flat
    (m,) = [m for m in check_fit(dense.graph, ds).mismatches if m.node_id == "input_1"]
    assert m.fix.params == {"shape": [64]}


def test_several_inputs_and_outputs_are_notes_without_a_fix():
    g = ad.Graph()
    a, b = g.add_node("Input", units=1), g.add_node("Input", units=2)
    h = g.add_node("Dense", units=2)
    g.connect(a, h)
    g.connect(b, h)
    for _ in range(2):
        g.connect(h, g.add_node("Output", units=1))
    report = check_fit(g, load_builtin("xor"))
    assert not report and report.fixes() == [] and report.messages() == {}
    assert report.notes == ["The network's 2 Input nodes take 3 values together but the data has 2 inputs.",
                            "The network has 2 Output nodes; the data has one set of targets."]
    g.set_params(b.id, shape=[1])
    assert check_fit(g, load_builtin("xor")).notes[0] == \
        "The data's 2 input columns are dealt to the 2 Input nodes in the order they were added: input_1, input_2."


# ---------------------------------------------------------- the data's side
def test_the_one_hot_way_out_is_a_data_source_change_that_makes_the_report_clean():
    net = output_net(2, "softmax", "categorical_crossentropy")
    src = {"kind": "builtin", "name": "moons", "params": {}, "standardize": False}
    (m,) = check_fit(net.graph, load_source(src)).mismatches
    assert m.data_fix == {"one_hot": True}
    new = with_data_fix(src, m.data_fix)
    assert new == {**src, "one_hot": True} and "one_hot" not in src  # a copy
    assert with_data_fix(new, m.data_fix) is None and with_data_fix(None, m.data_fix) is None
    assert with_data_fix(src, None) is None
    assert not check_fit(net.graph, load_source(new))  # 2 one-hot columns fit 2 softmax units


def test_which_data_sets_are_standardized_when_chosen():
    sets = BUILTIN_DATASETS
    assert standardize_default(sets["house_prices"]) is True  # features on very different scales
    assert standardize_default(sets["digits"], previous=True) is False  # pictures: already 0..1
    assert standardize_default(sets["pattern"], previous=True) is False  # token ids stay whole
    assert standardize_default(sets["spirals"], previous=True) is True  # as the previous set had it
    assert standardize_default(sets["spirals"], previous=False) is False
    assert standardize_default(sets["spirals"]) is False


def test_which_edits_can_change_the_report():
    g = mlp([2, 3, 1])
    nodes = g.nodes
    assert affects_fit(g, nodes["input_1"]) and affects_fit(g, nodes["output_1"], ["units"])
    assert affects_fit(g, nodes["input_1"], ["shape"]) and affects_fit(g, nodes["output_1"], ["loss", "x"])
    assert not affects_fit(g, nodes["output_1"], ["label"])
    assert not affects_fit(g, nodes["dense_1"]) and not affects_fit(g, nodes["dense_1"], ["units"])


# ------------------------------------------------------- arrays (the engine)
def program_of(g):
    return ad.Network(g, strict=False).program


def test_check_arrays_shapes_what_the_network_takes():
    prog = program_of(mlp([1, 2, 1]))
    X, Y = check_arrays(prog, np.zeros(5), np.zeros(5))  # vectors: one column each
    assert X.shape == (5, 1) and Y.shape == (5, 1)
    image = program_of(__import__("helpers").flatten_net((2, 3, 1)))
    X, Y = check_arrays(image, np.arange(24.0).reshape(4, 6), np.zeros((4, 1)))  # flat rows of the image's size
    assert X.shape == (4, 2, 3, 1) and X[1, 0, 1, 0] == 7.0
    X, none = check_arrays(prog, np.zeros((3, 1)))
    assert X.shape == (3, 1) and none is None


@pytest.mark.parametrize("X,Y,message", [
    (np.zeros((4, 3)), np.zeros((4, 1)),
     "the data has inputs of shape (3,) (3 values) but Input 'input_1' takes (2,) (2 values)"),
    (np.zeros((4, 2)), np.zeros((5, 1)), "the data has 4 input rows but 5 target rows"),
    (np.array([["a", "b"]]), None, "input data must be numbers, not <U1"),
    (np.array([[0.0, np.inf]]), None, "the input data has NaN or inf at row 1, column 2"),
    (np.zeros((2, 2)), np.array([[0.0], [np.nan]]), "the target data has NaN or inf at row 2"),
    (np.zeros((3, 2)), np.eye(3), "the data has 3 target column(s) but Output 'output_1' has 1 unit(s); "
                                  "3 one-hot class columns: use 3 units with softmax and categorical cross-entropy"),
    (np.zeros((2, 2)), np.array([[0.0], [1.0]]), None),
])
def test_check_arrays_messages(X, Y, message):
    net = ad.Network(mlp([2, 3, 1]), strict=False)
    if message is None:
        check_arrays(net.program, X, Y, net.describe_node)
        return
    with pytest.raises(DataError) as info:
        check_arrays(net.program, X, Y, net.describe_node)
    assert info.value.message == message
    with pytest.raises(DataError) as engine:  # the network says the same
        net.evaluate(X, np.zeros((len(X), 1)) if Y is None else Y)
    assert engine.value.message == message


def test_check_arrays_with_several_inputs_or_outputs():
    g = ad.Graph()
    a, b = g.add_node("Input", units=1), g.add_node("Input", units=1)
    h = g.add_node("Dense", units=2)
    g.connect(a, h)
    g.connect(b, h)
    o = g.add_node("Output", units=1)
    g.connect(h, o)
    prog = program_of(g)
    X, _ = check_arrays(prog, np.zeros((4, 2)))
    assert X.shape == (4, 2)
    with pytest.raises(DataError, match=r"the data has 3 input column\(s\) but the network's Inputs "
                                        r"\(input_\d \(1,\), input_\d \(1,\)\) take 2 values together"):
        check_arrays(prog, np.zeros((4, 3)))
    g.connect(h, g.add_node("Output", units=1))
    with pytest.raises(DataError, match="several Output nodes"):
        check_arrays(program_of(g), np.zeros((4, 2)))


def test_first_nonfinite_reads_in_chunks(monkeypatch):
    import anndesigner.engine.datafit as datafit

    A = np.zeros((300, 3))
    A[211, 2] = np.nan
    assert first_nonfinite(A) == (211, 2)
    monkeypatch.setattr(datafit, "CHECK_CHUNK", 6)  # two rows at a time
    assert first_nonfinite(A) == (211, 2) and first_nonfinite(A[:211]) is None
    assert first_nonfinite(np.zeros((4, 2), np.int64)) is None and first_nonfinite(np.zeros((0, 2))) is None


def test_data_shape_of_targets():
    assert DataShape.of_targets(2, np.array([[0.0], [1.0]])).n_classes == 2
    assert DataShape.of_targets(2, np.eye(3)).n_classes == 3
    assert DataShape.of_targets(2, np.eye(2)).n_classes is None  # two columns: as numbers
    assert DataShape.of_targets(2, np.array([[0.5], [1.0]])).task == "regression"
