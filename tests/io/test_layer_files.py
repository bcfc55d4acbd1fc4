"""Every layer type survives save -> load: same graph, same weights (including
BatchNorm's moving statistics), bit-identical outputs."""

import numpy as np
import pytest

import anndesigner as ad
from anndesigner.graph import BUILTIN_REGISTRY
from anndesigner.graph.nodetypes import CORE_TYPES


def chain(g, *nodes):
    for a, b in zip(nodes, nodes[1:]):
        g.connect(a, b)
    return nodes[-1]


def image_graph():
    g = ad.Graph()
    x = g.add_node("Input", shape=[8, 8, 1])
    c = g.add_node("Conv2D", filters=4, kernel_size=[3, 3], padding="same", activation="relu")
    bn = g.add_node("BatchNorm", momentum=0.9)
    mp = g.add_node("MaxPool2D")
    c2 = g.add_node("Conv2D", filters=4, kernel_size=[3, 3], strides=[1, 1])
    ap = g.add_node("AvgPool2D", pool_size=[2, 2], padding="same")
    f = g.add_node("Flatten")
    r = g.add_node("Reshape", shape=[1, 4])
    gp = g.add_node("GlobalAvgPool")
    y = g.add_node("Output", units=3, activation="softmax", loss="categorical_crossentropy")
    chain(g, x, c, bn, mp, c2, ap, f, r, gp, y)
    X = np.random.default_rng(0).random((24, 64)).astype(np.float32)
    Y = np.eye(3, dtype=np.float32)[np.arange(24) % 3]
    return g, X, Y


def sequence_graph():
    g = ad.Graph()
    x = g.add_node("Input", shape=[6, 2])
    r1 = g.add_node("SimpleRNN", units=4, return_sequences=True)
    r2 = g.add_node("GRU", units=4, return_sequences=True)
    r3 = g.add_node("LSTM", units=3)
    y = g.add_node("Output", units=1, activation="linear", loss="mse")
    chain(g, x, r1, r2, r3, y)
    rng = np.random.default_rng(1)
    return g, rng.normal(size=(16, 12)).astype(np.float32), rng.normal(size=(16, 1)).astype(np.float32)


def token_graph():
    g = ad.Graph()
    x = g.add_node("Input", shape=[5])
    e = g.add_node("Embedding", input_dim=4, output_dim=6)
    p = g.add_node("PositionalEncoding", kind="learned")
    a = g.add_node("SelfAttention", heads=2, key_dim=3, causal=True)
    add = g.add_node("Add")
    ln = g.add_node("LayerNorm")
    f = g.add_node("Flatten")
    y = g.add_node("Output", units=1, activation="sigmoid", loss="binary_crossentropy")
    chain(g, x, e, p, a, add)
    g.connect(p, add)
    chain(g, add, ln, f, y)
    rng = np.random.default_rng(2)
    X = rng.integers(0, 4, size=(16, 5)).astype(np.float32)
    return g, X, (X[:, :1] > 1).astype(np.float32)


GRAPHS = {"image": image_graph, "sequence": sequence_graph, "tokens": token_graph}


def test_the_layer_graphs_and_the_core_graph_cover_every_type():
    used = {n.type_id for make in GRAPHS.values() for n in make()[0].nodes.values()}
    assert used | {t.type_id for t in CORE_TYPES} == {t.type_id for t in BUILTIN_REGISTRY}


@pytest.mark.parametrize("name", GRAPHS)
def test_layers_round_trip_bit_identical(tmp_path, name):
    g, X, Y = GRAPHS[name]()
    net = ad.Network(g, seed=3)
    net.fit(X, Y, epochs=2, batch_size=8, optimizer="adam", learning_rate=0.01)
    path = tmp_path / f"{name}.ann"
    net.save(path)
    net2 = ad.load(path)
    assert net2.graph.to_dict() == g.to_dict()
    w1, w2 = net.get_weights(), net2.get_weights()
    assert w1.keys() == w2.keys()
    for k in w1:
        np.testing.assert_array_equal(w1[k], w2[k], err_msg=k)
    np.testing.assert_array_equal(net.predict(X), net2.predict(X))
    if name == "image":  # the moving statistics were trained and saved
        bn = next(n.id for n in g.nodes.values() if n.type_id == "BatchNorm")
        assert not np.allclose(w2[f"{bn}/moving_mean"], 0)
        assert f"{bn}/moving_variance" in w2
