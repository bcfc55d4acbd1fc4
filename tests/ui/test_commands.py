"""Every command kind undoes and redoes to the exact model."""

import numpy as np
import pytest

pytest.importorskip("PySide6")

import anndesigner as ad  # noqa: E402
from anndesigner.ui import commands as C  # noqa: E402
from anndesigner.ui.document import Document  # noqa: E402
from helpers import XOR_X, mlp  # noqa: E402


@pytest.fixture
def doc(qapp):
    net = ad.Network(mlp([2, 4, 3, 1]), seed=0, strict=False)
    net.fit(XOR_X, np.array([[0], [1], [1], [0]], np.float32), epochs=2)  # weights differ from their init
    return Document(net)


def state(doc):
    w = doc.network.weights_for_saving()
    return doc.graph.to_dict(), {k: v.tolist() for k, v in sorted(w.items())}


def check_undo_redo(doc, cmd):
    before = state(doc)
    doc.push(cmd)
    after = state(doc)
    assert after != before
    assert doc.modified
    doc.undo_stack.undo()
    assert state(doc) == before
    assert not doc.modified
    doc.undo_stack.redo()
    assert state(doc) == after
    doc.undo_stack.undo()
    return after


def test_add_node(doc):
    after = check_undo_redo(doc, C.add_node_command(doc, "Dropout", (100, 50), rate=0.25))
    node = after[0]["nodes"][-1]
    assert node["type"] == "Dropout" and node["position"] == [100.0, 50.0] and node["params"]["rate"] == 0.25


def test_delete_nodes_restores_wires_and_weights(doc):
    after = check_undo_redo(doc, C.delete_command(doc, ["dense_1", "dense_2"]))
    assert len(after[0]["edges"]) == 0


def test_connect_and_disconnect(doc):
    doc.graph.add_node("Dense", id="extra", units=2)
    doc.graph.connect("input_1", "extra")
    doc.network.program  # trained-like weights exist for every node
    doc.undo_stack.clear()
    # output_1 gets two more inputs: its kernel changes shape; undo brings the old one back
    after = check_undo_redo(doc, C.connect_command(doc, "extra", "output_1"))
    assert np.array(after[1]["output_1/kernel"]).shape == (5, 1)
    check_undo_redo(doc, C.delete_command(doc, edge_ids=["edge_2"]))


def test_undo_of_a_shape_change_restores_the_weights(doc):
    before = doc.network.get_weights()["dense_1/kernel"]
    doc.push(C.SetParamsCommand(doc, {"dense_1": {"units": 9}}))
    assert doc.network.get_weights()["dense_1/kernel"].shape == (2, 9)
    doc.undo_stack.undo()
    np.testing.assert_array_equal(doc.network.get_weights()["dense_1/kernel"], before)


def test_refused_connection_raises_and_pushes_nothing(doc):
    with pytest.raises(ad.CycleError):
        C.connect_command(doc, "dense_2", "dense_1")
    with pytest.raises(ad.DuplicateEdgeError):
        C.connect_command(doc, "input_1", "dense_1")
    assert doc.undo_stack.count() == 0


def test_set_params_and_label_and_meta(doc):
    check_undo_redo(doc, C.SetParamsCommand(doc, {"dense_1": {"units": 7, "activation": "relu"}}))
    check_undo_redo(doc, C.SetParamsCommand(doc, {"dense_1": {"units": 2}, "dense_2": {"units": 2}}))
    with pytest.raises(ad.ParameterError):
        C.SetParamsCommand(doc, {"dense_1": {"units": -1}})
    check_undo_redo(doc, C.SetLabelCommand(doc, "dense_1", "hidden"))
    check_undo_redo(doc, C.SetMetaCommand(doc, description="hello"))


def test_move_several_nodes_is_one_step(doc):
    cmd = C.MoveNodesCommand(doc, {"dense_1": ((0, 0), (10, 20)), "dense_2": ((0, 0), (30, 40))})
    after = check_undo_redo(doc, cmd)
    assert [n["position"] for n in after[0]["nodes"][1:3]] == [[10.0, 20.0], [30.0, 40.0]]


def test_auto_layout(doc):
    after = check_undo_redo(doc, C.auto_layout_command(doc))
    xs = [n["position"][0] for n in after[0]["nodes"]]
    assert xs == sorted(xs) and len(set(xs)) == 4  # left to right by depth


def test_copy_paste_fresh_ids_and_inner_wires(doc):
    frag = C.copy_fragment(doc, ["dense_1", "dense_2"])
    after = check_undo_redo(doc, C.paste_command(doc, frag))
    ids = [n["id"] for n in after[0]["nodes"]]
    assert ids == ["input_1", "dense_1", "dense_2", "output_1", "dense_3", "dense_4"]
    new_edges = [e for e in after[0]["edges"] if e["src"] == "dense_3"]
    assert len(new_edges) == 1 and new_edges[0]["dst"] == "dense_4"  # the wire between them is kept
    w = after[1]
    assert w["dense_3/kernel"] == w["dense_1/kernel"]  # weights come along


def test_expand_and_collapse_commands(doc):
    from anndesigner.engine.rewrite import plan_collapse_neurons, plan_expand_dense

    doc.network.graph.validate()
    before = doc.network.predict(XOR_X)
    cmd = C.RewriteCommand(doc, plan_expand_dense(doc.network, "dense_2"), "Expand dense_2")
    after = check_undo_redo(doc, cmd)
    assert sum(n["type"] == "Neuron" for n in after[0]["nodes"]) == 3
    doc.undo_stack.redo()
    np.testing.assert_array_equal(doc.network.predict(XOR_X), before)
    coll = C.RewriteCommand(doc, plan_collapse_neurons(doc.network, ["neuron_1", "neuron_2", "neuron_3"]), "Collapse")
    doc.push(coll)
    np.testing.assert_array_equal(doc.network.predict(XOR_X), before)
    doc.undo_stack.undo()
    doc.undo_stack.undo()
    np.testing.assert_array_equal(doc.network.predict(XOR_X), before)


def test_set_weights(doc):
    w = {"dense_1/bias": np.arange(4, dtype=np.float32)}
    after = check_undo_redo(doc, C.SetWeightsCommand(doc, w, "Set weight"))
    assert after[1]["dense_1/bias"] == [0, 1, 2, 3]


def test_save_marks_clean(doc, tmp_path):
    doc.push(C.add_node_command(doc, "Dense", (0, 0)))
    assert doc.modified
    doc.save(tmp_path / "a.ann")
    assert not doc.modified and doc.display_name() == "a.ann"
    doc.undo_stack.undo()
    assert doc.modified
