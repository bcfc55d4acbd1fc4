"""Graph.analyze() works out again only what an edit can change (the edited
node, a wire's destination, and the nodes below), and its result always
equals a fresh analysis of the same graph: random edit sequences, seeded."""

import random

import pytest

import anndesigner as ad
import anndesigner.graph.model as model

TYPES = [
    ("Input", lambda r: {"shape": [r.choice([1, 2, 3, 4])]}),
    ("Input", lambda r: {"shape": [r.choice([4, 8]), r.choice([2, 4])]}),
    ("Dense", lambda r: {"units": r.choice([1, 2, 3, 4, 8]), "activation": r.choice(["relu", "tanh", "linear"])}),
    ("Activation", lambda r: {"activation": r.choice(["relu", "sigmoid"])}),
    ("Add", lambda r: {}),
    ("Concatenate", lambda r: {}),
    ("Flatten", lambda r: {}),
    ("Reshape", lambda r: {"shape": r.choice([[2, 2], [4], [8, 1]])}),
    ("Dropout", lambda r: {"rate": r.choice([0.1, 0.5])}),
    ("Output", lambda r: {"units": r.choice([1, 2, 4])}),
]
PARAM_EDITS = {
    "Input": lambda r: {"shape": r.choice([[1], [2], [4], [8, 2]])},
    "Dense": lambda r: {"units": r.choice([1, 2, 3, 4, 8, 10_000])},
    "Reshape": lambda r: {"shape": r.choice([[2, 2], [4], [8, 1], [3]])},
    "Output": lambda r: {"units": r.choice([1, 2, 4])},
    "Activation": lambda r: {"activation": r.choice(["relu", "tanh"])},
    "Dropout": lambda r: {"rate": r.choice([0.2, 0.3])},
}


def facts(a: model.Analysis):
    """Everything an analysis says (its errors by type, message and node)."""
    return (a.order, a.shapes, a.weights, a.param_counts,
            [(type(e), str(e), e.node_id) for e in a.errors])


def fresh(g: ad.Graph):
    """An analysis that reuses nothing: of a graph rebuilt from the dict."""
    return facts(ad.Graph.from_dict(g.to_dict()).analyze())


def random_edit(g: ad.Graph, r: random.Random, removed: list) -> None:
    nodes = list(g.nodes)
    kind = r.random()
    if kind < 0.25 or len(nodes) < 3:
        type_id, params = r.choice(TYPES)
        g.add_node(type_id, **params(r))
    elif kind < 0.5:
        a, b = r.sample(nodes, 2)
        if g.check_connect(a, b, check_shapes=False) is None:
            g.connect(a, b, check_shapes=False, index=r.randrange(len(g.edges) + 1))
    elif kind < 0.6 and g.edges:
        g.disconnect(r.choice(list(g.edges)))
    elif kind < 0.7:
        removed.append(g.remove_node(r.choice(nodes)))
    elif kind < 0.78 and removed:  # undo a delete: the node and its wires come back where they were
        node, index, edges = removed.pop()
        g.insert_node(node, index)
        for e, i in edges:
            if e.src in g.nodes and e.dst in g.nodes and e.id not in g.edges and \
                    g.check_connect(e.src, e.dst, src_port=e.src_port, dst_port=e.dst_port, check_shapes=False) is None:
                g.insert_edge(e, i)
    else:
        nid = r.choice(nodes)
        edit = PARAM_EDITS.get(g.nodes[nid].type_id)
        if edit is not None:
            g.set_params(nid, **edit(r))
        else:
            g.set_label(nid, r.choice(["a", "b"]))


@pytest.mark.parametrize("seed", range(12))
def test_the_analysis_after_every_edit_equals_a_fresh_one(seed):
    r = random.Random(seed)
    g = ad.Graph()
    removed = []
    for _ in range(150):
        random_edit(g, r, removed)
        if r.random() < 0.7:  # sometimes several edits between two analyses
            assert facts(g.analyze()) == fresh(g)
            assert facts(g.analyze()) == facts(model._analyze(g))  # (no earlier parts at all)
    assert len(g.nodes) > 5


def test_a_parameter_edit_works_out_only_the_node_and_those_below(monkeypatch):
    g = ad.Graph()
    x = g.add_node("Input", shape=[2])
    a = g.add_node("Dense", units=4)
    b = g.add_node("Dense", units=3)
    side = g.add_node("Dense", units=5)
    y = g.add_node("Output", units=1)
    for s, d in [(x, a), (a, b), (b, y), (x, side)]:
        g.connect(s, d)
    g.analyze()
    worked = []
    real = model._analyze_node
    monkeypatch.setattr(model, "_analyze_node", lambda g_, nid, *rest: (worked.append(nid), real(g_, nid, *rest))[1])
    g.set_params(b, units=6)
    a1 = g.analyze()
    assert sorted(worked) == sorted([b.id, y.id])
    assert a1.shapes[b.id] == (6,) and a1.param_counts[y.id] == 7
    worked.clear()
    g.disconnect(next(e for e in g.edges.values() if e.dst == a.id))
    g.analyze()
    assert sorted(worked) == sorted([a.id, b.id, y.id])  # the wire's destination and below
    worked.clear()
    g.move_node(side, (10, 10))
    g.set_label(side, "side")
    assert g.analyze() is g.analyze() and worked == []  # neither needs an analysis
    assert facts(g.analyze()) == fresh(g)


def test_a_copy_starts_with_the_analysis_and_then_goes_its_own_way():
    g = ad.Graph()
    x = g.add_node("Input", shape=[2])
    h = g.add_node("Dense", units=4)
    g.connect(x, h)
    before = facts(g.analyze())
    c = g.copy()
    assert facts(c.analyze()) == before
    c.set_params(h.id, units=9)
    assert c.analyze().shapes[h.id] == (9,) and g.analyze().shapes[h.id] == (4,)
    assert facts(c.analyze()) == fresh(c) and facts(g.analyze()) == before
