import numpy as np
import pytest

import anndesigner as ad
from anndesigner.engine.rewrite import apply_rewrite, plan_collapse_neurons, plan_expand_dense
from helpers import XOR_X, XOR_Y, mlp


def trained_net():
    g = mlp([2, 5, 3, 1])
    net = ad.Network(g, seed=0, strict=False)
    net.fit(XOR_X, XOR_Y, epochs=20, learning_rate=0.05)
    return net


def test_expand_keeps_outputs_and_every_weight_on_its_own_wire():
    net = trained_net()
    before_graph = net.graph.to_dict()
    before = net.predict(XOR_X)
    kernel = net.get_weights()["dense_2/kernel"]
    inverse = apply_rewrite(net, plan_expand_dense(net, "dense_2"))
    types = [n.type_id for n in net.graph.nodes.values()]
    assert types.count("Neuron") == 3 and "dense_2" not in net.graph.nodes
    np.testing.assert_array_equal(net.predict(XOR_X), before)
    w = net.get_weights()
    for j in range(3):
        np.testing.assert_array_equal(w[f"neuron_{j + 1}/kernel"], kernel[:, j])
    # the neurons run as one fused product again
    assert any(len(s.node_ids) == 3 for s in net.program.steps)
    # collapse back: same function again
    collapse = plan_collapse_neurons(net, ["neuron_1", "neuron_2", "neuron_3"])
    inv2 = apply_rewrite(net, collapse)
    np.testing.assert_array_equal(net.predict(XOR_X), before)
    apply_rewrite(net, inv2)
    apply_rewrite(net, inverse)
    assert net.graph.to_dict() == before_graph  # undo restores ids, order and positions exactly
    np.testing.assert_array_equal(net.predict(XOR_X), before)


def test_expand_first_layer_and_a_layer_feeding_two_consumers():
    g = ad.Graph()
    x = g.add_node("Input", units=3)
    d = g.add_node("Dense", units=4, activation="relu")
    a = g.add_node("Dense", units=2)
    o = g.add_node("Output", units=1, activation="linear", loss="mse")
    g.connect(x, d)
    g.connect(d, a)
    g.connect(x, o)
    g.connect(d, o)
    g.connect(a, o)
    net = ad.Network(g, seed=3)
    X = np.random.default_rng(0).normal(size=(6, 3)).astype(np.float32)
    before = net.predict(X)
    apply_rewrite(net, plan_expand_dense(net, "dense_1"))
    np.testing.assert_array_equal(net.predict(X), before)
    # output_1 now reads input_1, 4 neurons, dense_2 in this order
    assert [e.src for e in net.graph.in_edges("output_1")] == ["input_1"] + [f"neuron_{i}" for i in range(1, 5)] + ["dense_2"]


def test_expand_and_collapse_refusals():
    net = trained_net()
    with pytest.raises(ad.GraphError, match="only a Dense"):
        plan_expand_dense(net, "output_1")
    net.graph.set_params("dense_1", units=65)
    with pytest.raises(ad.GraphError, match="up to 64"):
        plan_expand_dense(net, "dense_1")
    net.graph.set_params("dense_1", units=5)
    apply_rewrite(net, plan_expand_dense(net, "dense_2"))
    net.graph.set_params("neuron_2", activation="relu")
    with pytest.raises(ad.GraphError, match="another activation"):
        plan_collapse_neurons(net, ["neuron_1", "neuron_2", "neuron_3"])
    net.graph.set_params("neuron_2", activation="tanh")
    before = net.predict(XOR_X)
    rw = plan_collapse_neurons(net, ["neuron_1", "neuron_2"])  # a subset is fine: output reads [layer, neuron_3]
    inv = apply_rewrite(net, rw)
    np.testing.assert_array_equal(net.predict(XOR_X), before)
    apply_rewrite(net, inv)
    extra = net.graph.add_node("Dense", units=2)
    net.graph.connect("neuron_2", extra)
    with pytest.raises(ad.GraphError, match=f"'{extra.id}' does not take all 3 neurons"):
        plan_collapse_neurons(net, ["neuron_1", "neuron_2", "neuron_3"])


# ------------------------------------------------- collapse gives the layer back
def _neurons(net):
    return [n for n, v in net.graph.nodes.items() if v.type_id == "Neuron"]


def test_collapse_after_expand_keeps_the_layers_id_label_and_settings():
    net = trained_net()
    g = net.graph
    g.set_label("dense_2", "hidden")
    g.set_params("dense_2", kernel_initializer="he_normal")
    before = net.predict(XOR_X)
    apply_rewrite(net, plan_expand_dense(net, "dense_2"))
    assert [g.nodes[n].label for n in _neurons(net)] == ["hidden[0]", "hidden[1]", "hidden[2]"]
    inverse = apply_rewrite(net, plan_collapse_neurons(net, _neurons(net)))
    node = g.nodes["dense_2"]
    assert "dense_3" not in g.nodes and node.label == "hidden"
    assert node.params["units"] == 3 and node.params["kernel_initializer"] == "he_normal"
    assert "expanded_layers" not in g.meta  # the record is used up
    np.testing.assert_array_equal(net.predict(XOR_X), before)
    apply_rewrite(net, inverse)  # undo the collapse: the neurons and their record are back
    assert len(_neurons(net)) == 3 and "dense_2" in g.meta["expanded_layers"]


def test_the_record_survives_a_file_and_junk_records_are_ignored(tmp_path):
    from anndesigner.io import load_network, save_network

    net = trained_net()
    net.graph.set_label("dense_1", "first")
    apply_rewrite(net, plan_expand_dense(net, "dense_1"))
    save_network(net, tmp_path / "expanded.ann")
    net2 = load_network(tmp_path / "expanded.ann")
    apply_rewrite(net2, plan_collapse_neurons(net2, _neurons(net2)))
    assert net2.graph.nodes["dense_1"].label == "first"
    for junk in ([1, 2], {"dense_1": 5}, {"dense_1": {"neurons": "abc"}}, {7: {"neurons": []}}):
        net3 = load_network(tmp_path / "expanded.ann")
        net3.graph.set_meta(expanded_layers=junk)
        apply_rewrite(net3, plan_collapse_neurons(net3, _neurons(net3)))
        new = [n for n, v in net3.graph.nodes.items() if v.type_id == "Dense" and n != "dense_2"]
        # without a usable record the label still comes from the neurons' ("first[0]" ...)
        assert len(new) == 1 and net3.graph.nodes[new[0]].label == "first"


def test_collapse_without_a_record_reads_the_neurons_labels():
    net = trained_net()
    g = net.graph
    apply_rewrite(net, plan_expand_dense(net, "dense_2"))  # unnamed: neurons "dense_2[0]" ...
    g.set_meta(expanded_layers=None)  # as from a file written before the record existed
    apply_rewrite(net, plan_collapse_neurons(net, _neurons(net)))
    assert g.nodes["dense_2"].label == "" and g.nodes["dense_2"].type_id == "Dense"
    # a part of the neurons is another layer: a fresh id, and no borrowed name
    apply_rewrite(net, plan_expand_dense(net, "dense_2"))
    part = _neurons(net)[:2]
    for n in part:
        g.set_label(n, "")
    apply_rewrite(net, plan_collapse_neurons(net, part))
    fresh = [n for n, v in g.nodes.items() if v.type_id == "Dense" and n not in ("dense_1",)]
    assert fresh and fresh[0] not in ("dense_2",) and g.nodes[fresh[0]].label == ""
