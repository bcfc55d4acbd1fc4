import pytest

import anndesigner as ad
from anndesigner.graph import BUILTIN_REGISTRY, Graph, NodeTypeRegistry
from anndesigner.graph.nodetypes import INITIALIZERS


def chain():
    g = Graph()
    x = g.add_node("Input", units=2, position=(10, 20))
    h = g.add_node("Dense", units=4, activation="tanh")
    y = g.add_node("Output", units=1)
    g.connect(x, h)
    g.connect(h, y)
    return g, x, h, y


def test_ids_are_stable_readable_strings():
    g, x, h, y = chain()
    assert (x.id, h.id, y.id) == ("input_1", "dense_1", "output_1")
    assert list(g.edges) == ["edge_1", "edge_2"]
    g.remove_node(h)
    assert g.add_node("Dense").id == "dense_2"  # never reused: no stale state can attach to it
    g2 = Graph.from_dict(g.to_dict())
    assert list(g2.nodes) == list(g.nodes) and g2.add_node("Dense").id == "dense_3"


def test_events_fire_for_every_change():
    g = Graph()
    log = []
    for name in ("node_added", "node_removed", "node_changed", "node_moved", "edge_added", "edge_removed"):
        getattr(g, name).connect(lambda *a, name=name: log.append((name, *[getattr(x, "id", x) for x in a])))
    x = g.add_node("Input", units=2)
    h = g.add_node("Dense")
    e = g.connect(x, h)
    g.set_params(h, units=3)
    g.move_node(h, (5, 6))
    g.set_label(h, "hidden")
    g.remove_node(h)
    assert log == [
        ("node_added", "input_1", 0), ("node_added", "dense_1", 1), ("edge_added", e.id, 0),
        ("node_changed", "dense_1", ("units",)), ("node_moved", "dense_1"), ("node_changed", "dense_1", ("label",)),
        ("edge_removed", e.id, 0), ("node_removed", "dense_1", 1),
    ]


def test_remove_and_reinsert_restores_exact_order():
    g, x, h, y = chain()
    before = g.to_dict()
    node, index, edges = g.remove_node(h)
    g.insert_node(node, index)
    for edge, i in edges:
        g.insert_edge(edge, i)
    assert g.to_dict() == before


def test_shape_inference_and_param_counts():
    g, x, h, y = chain()
    a = g.analyze()
    assert a.shapes == {"input_1": (2,), "dense_1": (4,), "output_1": (1,)}
    assert a.param_counts == {"input_1": 0, "dense_1": 2 * 4 + 4, "output_1": 4 + 1}
    g.set_params(h, use_bias=False)
    assert g.analyze().param_counts["dense_1"] == 8


def test_multi_wire_input_concatenates_in_edge_order():
    g = Graph()
    a = g.add_node("Input", units=2)
    n1 = g.add_node("Neuron")
    n2 = g.add_node("Neuron")
    d = g.add_node("Dense", units=3)
    for n in (n1, n2):
        g.connect(a, n)
        g.connect(n, d)
    g.connect(a, d)
    an = g.analyze()
    assert an.shapes["dense_1"] == (3,)
    assert an.param_counts["dense_1"] == (1 + 1 + 2) * 3 + 3
    assert an.param_counts["neuron_1"] == 3
    assert [e.src for e in g.in_edges("dense_1")] == ["neuron_1", "neuron_2", "input_1"]


@pytest.mark.parametrize("make,err,node", [
    (lambda g: g.connect("output_1", "input_1"), ad.PortError, "output_1"),
    (lambda g: g.connect("dense_1", "input_1"), ad.PortError, "input_1"),
    (lambda g: g.connect("input_1", "dense_1"), ad.DuplicateEdgeError, "dense_1"),
    (lambda g: g.connect("dense_1", "dense_1"), ad.CycleError, "dense_1"),
    (lambda g: g.connect("input_1", "dense_1", dst_port="bogus"), ad.PortError, "dense_1"),
    (lambda g: g.set_params("dense_1", units=0), ad.ParameterError, "dense_1"),
    (lambda g: g.set_params("dense_1", units=2.5), ad.ParameterError, "dense_1"),
    (lambda g: g.set_params("dense_1", activation="swish!"), ad.ParameterError, "dense_1"),
    (lambda g: g.set_params("dense_1", colour="red"), ad.ParameterError, "dense_1"),
    (lambda g: g.add_node("Dropout", rate=1.5), ad.ParameterError, "dropout_1"),
])
def test_typed_errors_name_the_node(make, err, node):
    g, *_ = chain()
    before = g.to_dict()
    with pytest.raises(err) as e:
        make(g)
    assert e.value.node_id == node
    assert g.to_dict() == before  # refused: nothing changed


def test_cycle_through_several_nodes_refused():
    g = Graph()
    a, b, c = (g.add_node("Dense") for _ in range(3))
    g.connect(a, b)
    g.connect(b, c)
    with pytest.raises(ad.CycleError, match="cycle"):
        g.connect(c, a)
    assert g.check_connect(c, a) is not None and g.check_connect(a, c) is None


def test_shape_mismatch_refused_and_reported():
    g = Graph()
    a = g.add_node("Input", units=2)
    b = g.add_node("Input", units=3)
    add = g.add_node("Add")
    g.connect(a, add)
    with pytest.raises(ad.ShapeError, match=r"\(2\).*\(3\)"):
        g.connect(b, add)
    assert len(g.edges) == 1
    g.connect(b, add, check_shapes=False)  # allowed when asked: then analysis reports it
    errs = g.analyze().errors
    assert len(errs) == 1 and errs[0].node_id == "add_1" and isinstance(errs[0], ad.ShapeError)
    with pytest.raises(ad.ShapeError):
        g.validate()


def test_output_without_weights_needs_matching_units():
    g = Graph()
    x = g.add_node("Input", units=3)
    y = g.add_node("Output", units=2, use_weights=False)
    g.connect(x, y, check_shapes=False)
    (err,) = g.analyze().errors
    assert err.node_id == "output_1" and "2 units but receives 3" in str(err)


def test_missing_input_and_missing_io():
    g = Graph()
    g.add_node("Dense")
    (err,) = g.analyze().errors
    assert isinstance(err, ad.MissingInputError) and err.node_id == "dense_1"
    g2 = Graph()
    g2.add_node("Input")
    with pytest.raises(ad.MissingInputError, match="no Output"):
        g2.validate()


def test_unknown_type_and_aliases():
    g = Graph()
    with pytest.raises(ad.UnknownNodeTypeError, match="Conv9D"):
        g.add_node("Conv9D")
    assert g.add_node("FullyConnected").type_id == "Dense"


def test_builtin_registry_is_frozen_and_custom_registries_work():
    with pytest.raises(RuntimeError):
        BUILTIN_REGISTRY.register(BUILTIN_REGISTRY.get("Dense"))
    reg = NodeTypeRegistry()
    assert len(reg) == 0
    with pytest.raises(ad.UnknownNodeTypeError):
        Graph(reg).add_node("Dense")


def test_schema_names_match_the_engine():
    from anndesigner.engine import initializers

    assert set(INITIALIZERS) == set(initializers.NAMES)
    for t in BUILTIN_REGISTRY:
        assert t.type_id and t.version >= 1 and t.description and t.category
        for p in t.params:
            p.validate(p.default)  # every default is valid


def test_revision_counts_structural_changes_only():
    g, x, h, y = chain()
    r = g.revision
    g.move_node(h, (1, 2))
    g.set_label(h, "x")
    assert g.revision == r
    g.set_params(h, units=7)
    assert g.revision == r + 1


def test_layout_wraps_long_chains_into_bands():
    from anndesigner.graph.layout import layered_layout

    g = ad.Graph()
    nodes = [g.add_node("Input", units=2)] + [g.add_node("Dense", units=2) for _ in range(6)]
    for a, b in zip(nodes, nodes[1:]):
        g.connect(a, b)
    flat = layered_layout(g, dx=100, dy=50)
    assert [flat[n.id] for n in nodes] == [(100.0 * i, 0.0) for i in range(7)]
    wrapped = layered_layout(g, dx=100, dy=50, wrap=3)
    xs = [wrapped[n.id][0] for n in nodes]
    ys = [wrapped[n.id][1] for n in nodes]
    assert xs == [0, 100, 200, 0, 100, 200, 0]
    assert ys[0] == ys[1] == ys[2] < ys[3] == ys[4] == ys[5] < ys[6]
