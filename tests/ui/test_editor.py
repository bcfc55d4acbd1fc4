"""The document's editor: every intent changes the model as asked, undoes and redoes
exactly, and, where the intent is structural, is refused while training holds the lock
(the model and the undo stack stay as they were)."""

import numpy as np
import pytest

pytest.importorskip("PySide6")

import anndesigner as ad  # noqa: E402
from anndesigner.engine.datafit import Fix  # noqa: E402
from anndesigner.ui import commands as C  # noqa: E402
from anndesigner.ui.document import Document  # noqa: E402
from anndesigner.ui.editor import EditLocked, Editor  # noqa: E402
from helpers import XOR_X, XOR_Y, mlp  # noqa: E402

REASON = "Training — stop it to change the structure"


@pytest.fixture
def doc(qapp):
    net = ad.Network(mlp([2, 4, 3, 1]), seed=0, strict=False)
    net.fit(XOR_X, XOR_Y, epochs=2)  # weights differ from their init
    return Document(net)


def state(doc):
    w = doc.network.weights_for_saving()
    return (doc.graph.to_dict(), {k: v.tolist() for k, v in sorted(w.items())},
            doc.network.training.to_dict(), doc.network.data_source, doc.network.history.data)


def undo_redo(doc, before, cmd):
    """``cmd`` was pushed by the editor as one step: undo gives ``before`` back, redo the result."""
    assert cmd is not None
    assert doc.undo_stack.count() == 1 and doc.modified
    after = state(doc)
    assert after != before
    doc.undo_stack.undo()
    assert state(doc) == before and not doc.modified
    doc.undo_stack.redo()
    assert state(doc) == after
    return after


def refused(doc, call):
    """While locked, ``call`` raises EditLocked with the lock reason and changes nothing."""
    doc.set_lock(REASON)
    before, count = state(doc), doc.undo_stack.count()
    with pytest.raises(EditLocked) as info:
        call()
    assert str(info.value) == REASON and isinstance(info.value, ad.AnnError)
    assert state(doc) == before and doc.undo_stack.count() == count
    doc.set_lock("")


def test_one_editor_per_document(doc):
    assert isinstance(doc.editor, Editor) and doc.editor is doc.editor
    assert Document(doc.network).editor is not doc.editor


def test_add_node(doc):
    ed, before = doc.editor, state(doc)
    refused(doc, lambda: ed.add_node("Dropout", (100, 50), rate=0.25))
    cmd = ed.add_node("Dropout", (100, 50), rate=0.25)
    after = undo_redo(doc, before, cmd)
    node = after[0]["nodes"][-1]
    assert node["type"] == "Dropout" and node["position"] == [100.0, 50.0] and node["params"]["rate"] == 0.25
    assert cmd.rewrite.select == [node["id"]]


def test_connect_and_refused_connection(doc):
    ed = doc.editor
    with pytest.raises(ad.CycleError):
        ed.connect("dense_2", "dense_1")
    with pytest.raises(ad.DuplicateEdgeError):
        ed.connect("input_1", "dense_1")
    assert doc.undo_stack.count() == 0
    before = state(doc)
    refused(doc, lambda: ed.connect("input_1", "output_1"))
    after = undo_redo(doc, before, ed.connect("input_1", "output_1"))
    assert {"src": "input_1", "dst": "output_1"}.items() <= after[0]["edges"][-1].items()
    assert np.array(after[1]["output_1/kernel"]).shape == (5, 1)


def test_delete_nodes_and_wires(doc):
    ed = doc.editor
    assert ed.delete(["nope"], ["nothing"]) is None and doc.undo_stack.count() == 0
    before = state(doc)
    refused(doc, lambda: ed.delete(["dense_1"], ["edge_3"]))
    after = undo_redo(doc, before, ed.delete(["dense_1"], ["edge_3"]))
    assert [n["id"] for n in after[0]["nodes"]] == ["input_1", "dense_2", "output_1"]
    assert after[0]["edges"] == []  # dense_1's two wires went with it, edge_3 was asked for
    assert "dense_1/kernel" not in after[1]


def test_move_nodes_is_one_step_and_allowed_while_training(doc):
    ed, before = doc.editor, state(doc)
    assert ed.move_nodes({"dense_1": ((0, 0), (0, 0))}) is None
    doc.set_lock(REASON)
    cmd = ed.move_nodes({"dense_1": ((0, 0), (10, 20)), "dense_2": ((0, 0), (30, 40))})
    doc.set_lock("")
    after = undo_redo(doc, before, cmd)
    assert [n["position"] for n in after[0]["nodes"][1:3]] == [[10.0, 20.0], [30.0, 40.0]]
    assert cmd.text() == "Move 2 nodes"


def test_paste_duplicate_cut(doc):
    ed = doc.editor
    frag = C.copy_fragment(doc, ["dense_1", "dense_2"])
    before = state(doc)
    refused(doc, lambda: ed.paste(frag))
    cmd = ed.paste(frag, offset=(80, 80))
    after = undo_redo(doc, before, cmd)
    assert [n["id"] for n in after[0]["nodes"]][-2:] == ["dense_3", "dense_4"] == cmd.rewrite.select
    assert after[0]["nodes"][-2]["position"] == [80.0, 80.0]
    assert after[1]["dense_3/kernel"] == after[1]["dense_1/kernel"]
    doc.undo_stack.undo()
    doc.undo_stack.clear()

    refused(doc, lambda: ed.duplicate(["dense_1"]))
    assert ed.duplicate([]) is None
    cmd = ed.duplicate(["dense_1"])
    after = undo_redo(doc, before, cmd)
    new = after[0]["nodes"][-1]
    assert cmd.text() == "Duplicate" and cmd.rewrite.select == [new["id"]] and new["id"] not in before[0]
    assert new["type"] == "Dense" and new["position"] == [40.0, 40.0]
    doc.undo_stack.undo()
    doc.undo_stack.clear()

    refused(doc, lambda: ed.cut(["dense_2"]))
    assert ed.cut([]) is None
    ed.cut(["dense_2"])
    assert doc.undo_stack.text(0) == "Cut"
    after = undo_redo(doc, before, doc.undo_stack.command(0))
    assert "dense_2" not in [n["id"] for n in after[0]["nodes"]]


def test_expand_and_collapse_keep_the_function(doc):
    ed = doc.editor
    doc.graph.validate()
    y = doc.network.predict(XOR_X)
    before = state(doc)
    refused(doc, lambda: ed.expand("dense_2"))
    cmd = ed.expand("dense_2")
    after = undo_redo(doc, before, cmd)
    assert sum(n["type"] == "Neuron" for n in after[0]["nodes"]) == 3
    assert cmd.rewrite.select == ["neuron_1", "neuron_2", "neuron_3"]
    np.testing.assert_array_equal(doc.network.predict(XOR_X), y)
    refused(doc, lambda: ed.collapse(cmd.rewrite.select))
    cmd2 = ed.collapse(cmd.rewrite.select)
    assert cmd2.text() == "Collapse 3 neurons into a layer"
    assert [n.type_id for n in doc.graph.nodes.values()].count("Neuron") == 0
    np.testing.assert_array_equal(doc.network.predict(XOR_X), y)
    with pytest.raises(ad.GraphError):
        ed.expand("input_1")
    assert doc.undo_stack.count() == 2


def test_auto_layout(doc):
    ed, before = doc.editor, state(doc)
    after = undo_redo(doc, before, ed.auto_layout())
    xs = [n["position"][0] for n in after[0]["nodes"]]
    assert xs == sorted(xs) and len(set(xs)) == 4
    assert ed.auto_layout() is None and doc.undo_stack.count() == 1  # laid out already


def test_set_params_and_the_live_ones_while_training(doc):
    ed, before = doc.editor, state(doc)
    with pytest.raises(ad.ParameterError):
        ed.set_params({"dense_1": {"units": -1}})
    assert ed.set_params({}) is None and doc.undo_stack.count() == 0
    refused(doc, lambda: ed.set_params({"dense_1": {"units": 7}}))
    after = undo_redo(doc, before, ed.set_params({"dense_1": {"units": 7, "activation": "relu"}}))
    assert after[0]["nodes"][1]["params"]["units"] == 7 and np.array(after[1]["dense_1/kernel"]).shape == (2, 7)
    doc.undo_stack.undo()
    doc.undo_stack.clear()
    # a Dropout's rate is live: it may change while training runs, its other neighbours not
    drop = ed.add_node("Dropout", (0, 0)).rewrite.select[0]
    doc.undo_stack.clear()
    doc.set_lock(REASON)
    cmd = ed.set_params({drop: {"rate": 0.25}})
    assert doc.graph.nodes[drop].params["rate"] == 0.25 and doc.undo_stack.count() == 1
    with pytest.raises(EditLocked):
        ed.set_params({drop: {"rate": 0.3}, "dense_1": {"units": 3}})
    assert doc.graph.nodes[drop].params["rate"] == 0.25 and doc.graph.nodes["dense_1"].params["units"] == 4
    doc.set_lock("")
    assert cmd.text() == f"Set rate of {drop}"


def test_label_and_meta_are_allowed_while_training(doc):
    ed, before = doc.editor, state(doc)
    assert ed.set_label("dense_1", "") is None and ed.set_meta(title=None) is None
    doc.set_lock(REASON)
    ed.set_label("dense_1", "hidden")
    doc.set_lock("")
    after = undo_redo(doc, before, doc.undo_stack.command(0))
    assert after[0]["nodes"][1]["label"] == "hidden"
    doc.undo_stack.undo()
    doc.undo_stack.clear()
    after = undo_redo(doc, before, ed.set_meta(description="hello"))
    assert after[0]["meta"]["description"] == "hello"


def test_fix_data(doc):
    ed, before = doc.editor, state(doc)
    fixes = [Fix("input_1", {"shape": [3]}, "3 columns"), Fix("output_1", {"units": 2, "activation": "softmax",
                                                                        "loss": "categorical_crossentropy"}, "")]
    assert ed.fix_data([]) is None
    refused(doc, lambda: ed.fix_data(fixes))
    cmd = ed.fix_data(fixes)
    after = undo_redo(doc, before, cmd)
    assert cmd.text() == "Match network to data"
    assert after[0]["nodes"][0]["params"]["shape"] == [3]
    assert after[0]["nodes"][-1]["params"]["activation"] == "softmax"
    assert np.array(after[1]["dense_1/kernel"]).shape == (3, 4)


def test_set_and_reset_weights(doc):
    ed, before = doc.editor, state(doc)
    w = {"dense_1/bias": np.arange(4, dtype=np.float32)}
    refused(doc, lambda: ed.set_weights(w, "Set weight"))
    after = undo_redo(doc, before, ed.set_weights(w, "Set weight"))
    assert after[1]["dense_1/bias"] == [0, 1, 2, 3]
    doc.undo_stack.undo()
    doc.undo_stack.clear()
    assert len(doc.network.history.data.get("loss", [])) == 2
    refused(doc, ed.reset_weights)
    after = undo_redo(doc, before, ed.reset_weights())
    assert after[4] == {} or not any(after[4].values())
    assert after[1] == state(Document(ad.Network(mlp([2, 4, 3, 1]), seed=0, strict=False)))[1]


def test_apply_training_result(doc):
    ed, before = doc.editor, state(doc)
    weights = {k: v + 1 for k, v in doc.network.get_weights().items()}
    hist = ad.engine.trainer.History({"loss": [0.5, 0.4, 0.3]})
    cmd = ed.apply_training_result(weights, hist, 1)
    after = undo_redo(doc, before, cmd)
    assert cmd.text() == "Train 1 epoch"
    assert after[4] == {"loss": [0.5, 0.4, 0.3]}
    np.testing.assert_array_equal(doc.network.get_weights()["dense_1/kernel"], weights["dense_1/kernel"])


def test_training_settings_and_data_source(doc):
    ed, before = doc.editor, state(doc)
    assert ed.set_training(epochs=doc.network.training.epochs) is None
    refused(doc, lambda: ed.set_training(epochs=7))
    with pytest.raises(ad.AnnError):
        ed.set_training(batch_size=0)
    cmd = ed.set_training(epochs=7)
    after = undo_redo(doc, before, cmd)
    assert after[2]["epochs"] == 7 and cmd.text() == "Set epochs"
    doc.undo_stack.undo()
    doc.undo_stack.clear()
    src = {"kind": "builtin", "name": "xor"}
    refused(doc, lambda: ed.set_data_source(src))
    after = undo_redo(doc, before, ed.set_data_source(src))
    assert after[3] == src
    assert ed.set_data_source(dict(src)) is None and doc.undo_stack.count() == 1


def test_set_one_weight(doc):
    ed, before = doc.editor, state(doc)
    old = doc.network.get_weights()["dense_1/kernel"]
    refused(doc, lambda: ed.set_weight("dense_1/kernel", 5, 0.5, "Set weight"))
    assert ed.set_weight("dense_1/kernel", 5, float(old.reshape(-1)[5]), "Set weight") is None
    with pytest.raises(ad.GraphError):
        ed.set_weight("nope/kernel", 0, 1.0, "Set weight")
    after = undo_redo(doc, before, ed.set_weight("dense_1/kernel", 5, 0.5, "Set weight"))
    want = old.copy()
    want.reshape(-1)[5] = 0.5
    assert after[1]["dense_1/kernel"] == want.tolist() and doc.undo_stack.text(0) == "Set weight"


def test_which_intents_apply(doc):
    ed = doc.editor
    assert ed.can_expand(["dense_1"]) and not ed.can_expand(["input_1"]) and not ed.can_expand([])
    assert not ed.can_expand(["dense_1", "dense_2"]) and not ed.can_collapse(["dense_1"])
    neurons = ed.expand("dense_2").rewrite.select
    assert ed.can_collapse(neurons) and not ed.can_collapse(neurons + ["dense_1"]) and not ed.can_collapse([])
    doc.set_lock(REASON)
    assert ed.locked and not ed.can_expand(["dense_1"]) and not ed.can_collapse(neurons)
    doc.set_lock("")
