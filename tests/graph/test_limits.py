"""The network's limits are part of the graph's analysis: the editor shows them
on the node, and such a network is never built (nothing is allocated)."""

import pytest

import anndesigner as ad
from anndesigner.graph.model import LIMITS


def test_an_input_past_the_values_limit_is_an_error_on_that_node():
    g = ad.Graph()
    x = g.add_node("Input", shape=[LIMITS.values_per_node + 1])
    a = g.analyze()
    assert [e.node_id for e in a.errors] == [x.id]
    assert "more than the 4,194,304 a network may have" in a.errors[0].message
    g.set_params(x, shape=[2048, 2048, 1])  # exactly at the limit
    assert g.analyze().ok


def test_parameters_past_the_limit_are_an_error_and_the_network_is_not_built():
    g = ad.Graph()
    x = g.add_node("Input", units=10_000)
    d = g.add_node("Dense", units=5_001)  # 50,015,001 parameters
    o = g.add_node("Output", units=1)
    g.connect(x, d)
    g.connect(d, o)
    a = g.analyze()
    assert a.total_params == 10_000 * 5_001 + 5_001 + 5_002
    assert [e.node_id for e in a.errors] == [d.id]
    assert "the network has 50,020,003 parameters (Dense layer 'dense_1' alone 50,015,001)" in a.errors[0].message
    with pytest.raises(ad.GraphError, match="more than the 50,000,000"):
        ad.Network(g)  # refused before a weight is initialized
    g.set_params(d, units=100)
    assert g.analyze().ok and ad.Network(g).count_params() == 10_000 * 100 + 100 + 101


def test_the_editor_refuses_a_wire_that_makes_a_node_too_large():
    g = ad.Graph()
    a = g.add_node("Input", units=3_000_000)
    b = g.add_node("Input", units=3_000_000)
    c = g.add_node("Concatenate")
    g.connect(a, c)
    assert g.check_connect(b, c) is not None and "values per sample" in str(g.check_connect(b, c))
