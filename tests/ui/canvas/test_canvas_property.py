"""Property test: random edits and undos keep the scene an exact mirror of the model."""

import random

import pytest

pytest.importorskip("PySide6")

from PySide6.QtCore import QtMsgType  # noqa: E402

import anndesigner as ad  # noqa: E402
from anndesigner.errors import GraphError  # noqa: E402
from anndesigner.graph import fmt_shape  # noqa: E402
from anndesigner.ui import commands as C  # noqa: E402
from anndesigner.ui.canvas import CanvasView, GraphScene  # noqa: E402
from anndesigner.ui.canvas.interactions import would_accept  # noqa: E402
from anndesigner.ui.canvas.items import PendingWireItem  # noqa: E402
from anndesigner.ui.document import Document  # noqa: E402

TYPES = ["Input", "Dense", "Neuron", "Activation", "Dropout", "Concatenate", "Add", "Output"]
STEPS = 500
MAX_NODES = 40


def check_mirror(doc, scene):
    g = doc.graph
    node_ids = {it.node_id for it in scene.node_items()}
    edge_ids = {it.edge_id for it in scene.edge_items()}
    assert node_ids == set(g.nodes)
    assert edge_ids == set(g.edges)
    graphic = [i for i in scene.items() if not isinstance(i, PendingWireItem)]
    assert len(graphic) == len(g.nodes) + len(g.edges)  # no stray items
    a = g.analyze()
    for nid, node in g.nodes.items():
        it = scene.node_item(nid)
        assert (it.x(), it.y()) == node.position
        assert it.shape_text == fmt_shape(a.shapes.get(nid))
        assert it.title == (node.label or g.node_type(nid).title)
    for eid, e in g.edges.items():
        it = scene.edge_item(eid)
        assert it.src_item is scene.node_item(e.src) and it.dst_item is scene.node_item(e.dst)
        assert it.path().pointAtPercent(1) == it.dst_item.in_port_scene()
        assert it in it.src_item.edges and it in it.dst_item.edges
    for it in scene.node_items():
        assert all(e.edge_id in g.edges for e in it.edges)
    assert set(scene.selected_node_ids()) <= set(g.nodes)
    assert scene.error_count == len(a.errors)


def test_random_edits_keep_the_scene_in_step(qtbot, qtlog):
    rng = random.Random(20240611)
    doc = Document(ad.Network(ad.Graph(), strict=False))
    scene = GraphScene(doc)
    view = CanvasView(scene)
    qtbot.addWidget(view)
    view.resize(600, 400)
    stack = doc.undo_stack
    kinds = {}
    agreed = {True: 0, False: 0}

    def pos():
        return (float(rng.randrange(-600, 600)), float(rng.randrange(-400, 400)))

    try:
        for step in range(STEPS):
            g = doc.graph
            nodes, edges = list(g.nodes), list(g.edges)
            r = rng.random()
            if r < 0.22 and stack.canUndo():
                stack.undo()
                kind = "undo"
            elif r < 0.30 and stack.canRedo():
                stack.redo()
                kind = "redo"
            else:
                kind = rng.choice(["add", "add", "connect", "connect", "connect", "connect", "connect", "delete",
                                   "move", "params", "paste", "label", "select"])
                if kind == "add" or not nodes:
                    if len(nodes) >= MAX_NODES:
                        kind = "delete"
                    else:
                        kind = "add"
                        params = {"units": rng.randint(1, 4)} if rng.random() < 0.5 else {}
                        tid = rng.choice(TYPES)
                        if tid not in ("Input", "Dense", "Output"):
                            params = {}
                        doc.push(C.add_node_command(doc, tid, pos(), **params))
                if kind == "connect":
                    srcs = [n for n in nodes if g.nodes[n].type_id != "Output"] or nodes
                    dsts = [n for n in nodes if g.nodes[n].type_id != "Input"] or nodes
                    src, dst = rng.choice(srcs), rng.choice(dsts)
                    try:
                        doc.push(C.connect_command(doc, src, dst))
                    except GraphError:
                        kind = "refused"
                elif kind == "delete":
                    dn = rng.sample(nodes, k=min(len(nodes), rng.randint(0, 2)))
                    de = rng.sample(edges, k=min(len(edges), rng.randint(0, 2)))
                    if dn or de:
                        doc.push(C.delete_command(doc, dn, de))
                elif kind == "move":
                    moved = rng.sample(nodes, k=min(len(nodes), rng.randint(1, 3)))
                    doc.push(C.MoveNodesCommand(doc, {n: (g.nodes[n].position, pos()) for n in moved}))
                elif kind == "params":
                    cands = [n for n in nodes if g.nodes[n].type_id in ("Dense", "Output", "Input")]
                    if cands:
                        n = rng.choice(cands)
                        key = "shape" if g.nodes[n].type_id == "Input" else "units"
                        value = [rng.randint(1, 5)] if key == "shape" else rng.randint(1, 5)
                        if g.nodes[n].params[key] != value:
                            doc.push(C.SetParamsCommand(doc, {n: {key: value}}))
                elif kind == "paste":
                    frag = C.copy_fragment(doc, rng.sample(nodes, k=min(len(nodes), rng.randint(1, 4))))
                    cmd = C.paste_command(doc, frag, offset=(rng.choice([20.0, 40.0]), 40.0))
                    doc.push(cmd)
                    scene.select_ids(cmd.rewrite.select)
                elif kind == "label":
                    n = rng.choice(nodes)
                    doc.push(C.SetLabelCommand(doc, n, rng.choice(["", "a", "hidden layer", "x₁"])))
                elif kind == "select":
                    scene.select_ids(rng.sample(nodes + edges, k=min(len(nodes) + len(edges), 3)))
            kinds[kind] = kinds.get(kind, 0) + 1
            check_mirror(doc, scene)
            # the wire gesture's fast verdict agrees with the model's check_connect
            ids = list(doc.graph.nodes)
            for _ in range(3 if ids else 0):
                s, d = rng.choice(ids), rng.choice(ids)
                expected = doc.graph.check_connect(s, d) is None
                assert would_accept(doc.graph, s, d) == expected, (s, d)
                agreed[expected] += 1
    finally:
        scene.detach()
    # the run exercised every kind of edit
    assert {"add", "connect", "delete", "move", "params", "paste", "label", "undo", "redo"} <= set(kinds), kinds
    assert kinds["connect"] >= 20 and kinds["undo"] >= 50
    assert agreed[True] >= 50 and agreed[False] >= 50, agreed
    view.grab()  # and the final scene paints
    bad = [r.message for r in qtlog.records if r.type in (QtMsgType.QtWarningMsg, QtMsgType.QtCriticalMsg)]
    assert not bad
