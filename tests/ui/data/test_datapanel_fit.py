"""The data panel's Fix, driven by the core fit report (anndesigner.engine.datafit):
k > 2 classes get softmax + categorical cross-entropy, two classes as one 0/1 column
get 1 sigmoid unit; the warning names the fix and its alternative; one undo step;
the status bar says what was set and why."""

from pathlib import Path

import pytest

pytest.importorskip("PySide6")
pytest.importorskip("pyqtgraph")

from PySide6.QtCore import Qt  # noqa: E402
from PySide6.QtTest import QTest  # noqa: E402

import anndesigner as ad  # noqa: E402
from anndesigner.ui import commands as C  # noqa: E402
from anndesigner.ui.document import Document  # noqa: E402
from anndesigner.ui.data.panel import DataPanel  # noqa: E402
from helpers import mlp  # noqa: E402


def make_panel(qtbot, doc):
    w = DataPanel(doc)
    qtbot.addWidget(w)
    w.resize(320, 700)
    w.show()
    qtbot.waitExposed(w)
    return w


def output(doc):
    p = doc.graph.nodes["output_1"].params
    return p["units"], p["activation"], p["loss"]


def click_fix(qtbot, w):
    button = w.field("fix")
    assert button.isVisible() and button.isEnabled()
    QTest.mouseClick(button, Qt.MouseButton.LeftButton, pos=button.rect().center())


def test_fix_for_three_classes_sets_softmax_and_categorical_cross_entropy(qtbot):
    doc = Document(ad.Network(mlp([2, 4, 1]), strict=False))  # Output: 1 sigmoid unit, binary cross-entropy
    w = make_panel(qtbot, doc)
    status = []
    w.statusMessage.connect(status.append)
    w.choose_builtin("blobs")  # 3 classes
    assert w.mismatches() == {"output_1": "Output 'output_1' has 1 unit but the data has 3 outputs (one per class)"}
    assert "Fix: 3 softmax units with categorical cross-entropy" in w.mismatch_label.text()
    n = doc.undo_stack.count()
    click_fix(qtbot, w)
    assert output(doc) == (3, "softmax", "categorical_crossentropy")
    assert doc.undo_stack.count() == n + 1 and doc.undo_stack.undoText() == "Match network to data"
    assert w.mismatches() == {} and not w.mismatch_box.isVisible()
    said = status[-1]
    assert said.startswith("Matched the network to the data.") and "softmax" in said and "add up to 1" in said
    doc.undo_stack.undo()  # one step back restores all three settings
    assert output(doc) == (1, "sigmoid", "binary_crossentropy")
    assert set(w.mismatches()) == {"output_1"}


def test_two_classes_and_an_output_of_two_softmax_units(qtbot):
    doc = Document(ad.Network(mlp([2, 4, 2]), strict=False))
    doc.graph.set_params("output_1", activation="softmax", loss="categorical_crossentropy")
    w = make_panel(qtbot, doc)
    w.choose_builtin("moons")  # two classes: one 0/1 column
    (msg,) = w.mismatches().values()
    assert msg == "Output 'output_1' has 2 units but the data has 1 output (2 classes as one 0/1 column)"
    text = w.mismatch_label.text()
    assert "Fix: 1 sigmoid unit with binary cross-entropy" in text and "one-hot target columns" in text
    click_fix(qtbot, w)
    assert output(doc) == (1, "sigmoid", "binary_crossentropy")
    assert w.mismatches() == {}
    doc.undo_stack.undo()
    assert output(doc) == (2, "softmax", "categorical_crossentropy")


def test_fix_of_input_and_output_is_one_command(qtbot):
    doc = Document(ad.Network(mlp([2, 4, 1]), strict=False))
    w = make_panel(qtbot, doc)
    w.choose_builtin("house_prices")  # 4 inputs, one number to predict
    assert set(w.mismatches()) == {"input_1"}  # 1 unit for 1 number: only the Input's size is wrong
    doc.push(C.SetParamsCommand(doc, {"output_1": {"units": 3}}))
    n = doc.undo_stack.count()
    assert w.fix_mismatches()
    assert doc.undo_stack.count() == n + 1
    assert doc.graph.nodes["input_1"].params["shape"] == [4]
    assert output(doc) == (1, "linear", "mse")  # a regression: any number, not a probability
    doc.undo_stack.undo()
    assert doc.graph.nodes["input_1"].params["shape"] == [2] and output(doc) == (3, "sigmoid", "binary_crossentropy")


def test_the_other_way_out_one_hot_targets_for_two_softmax_units(qtbot):
    doc = Document(ad.Network(mlp([2, 4, 2]), strict=False))
    doc.graph.set_params("output_1", activation="softmax", loss="categorical_crossentropy")
    w = make_panel(qtbot, doc)
    w.choose_builtin("moons")
    button = w.field("one_hot")
    assert button.isVisible() and w.field("fix").isVisible()
    n = doc.undo_stack.count()
    QTest.mouseClick(button, Qt.MouseButton.LeftButton, pos=button.rect().center())
    assert doc.undo_stack.count() == n + 1 and doc.undo_stack.undoText() == "Use one-hot targets"
    ds = w.current_dataset()
    assert ds.n_outputs == 2 and ds.target_names == ["moon=upper", "moon=lower"]
    assert (ds.Y.sum(axis=1) == 1).all() and doc.network.data_source["one_hot"] is True
    assert w.mismatches() == {} and output(doc) == (2, "softmax", "categorical_crossentropy")
    hist = doc.network.fit(ds.X, ds.Y, epochs=5, learning_rate=0.05)  # the engine takes it as it is
    assert len(hist) == 5
    doc.undo_stack.undo()
    assert "one_hot" not in doc.network.data_source and set(w.mismatches()) == {"output_1"}
    # a setting changed later keeps the one-hot choice
    doc.undo_stack.redo()
    w.field("n_samples").setValue(120)
    assert doc.network.data_source["one_hot"] is True and w.current_dataset().n_outputs == 2


def test_toggling_standardize_keeps_the_skipped_lines_and_layout(qtbot, tmp_path):
    path = tmp_path / "iris.csv"
    path.write_text("Iris, a few rows\n4,2,setosa,virginica\n5.1,3.5,0\n4.9,3.0,0\n6.3,3.3,1\n5.8,2.7,1\n")
    net = ad.load(Path(__file__).resolve().parents[3] / "samples" / "xor.ann")
    net.data_source = {"kind": "csv", "path": str(path), "inputs": ["feature1", "feature2"], "targets": ["class"],
                       "task": "classification", "standardize": True, "header": "sklearn", "delimiter": ",",
                       "skip_rows": 1}
    doc = Document(net, path=tmp_path / "net.ann")
    w = make_panel(qtbot, doc)
    assert w.current_dataset().classes == ["setosa", "virginica"] and w.error_text() == ""
    w.field("standardize").setChecked(False)
    src = doc.network.data_source
    assert (src["standardize"], src["skip_rows"], src["header"]) == (False, 1, "sklearn")
    assert w.error_text() == "" and w.current_dataset().X[0].tolist() == pytest.approx([5.1, 3.5])


def test_the_warning_follows_the_outputs_activation_and_loss(qtbot):
    """The fit report reads the Output's activation and loss too: changing either
    (and undoing it) updates the warning at once."""
    doc = Document(ad.Network(mlp([2, 4, 1]), strict=False))  # 1 sigmoid unit, binary cross-entropy
    w = make_panel(qtbot, doc)
    w.choose_builtin("moons")  # two classes as one 0/1 column: fits
    assert w.mismatches() == {} and not w.mismatch_box.isVisible()
    doc.push(C.SetParamsCommand(doc, {"output_1": {"activation": "softmax"}}))
    assert w.mismatches() == {"output_1": "Output 'output_1' uses softmax on 1 unit, which always outputs 1"}
    assert w.mismatch_box.isVisible() and w.field("fix").isVisible()
    doc.undo_stack.undo()
    assert w.mismatches() == {} and not w.mismatch_box.isVisible()
    doc.push(C.SetParamsCommand(doc, {"output_1": {"loss": "categorical_crossentropy"}}))
    assert set(w.mismatches()) == {"output_1"} and "categorical cross-entropy" in w.mismatches()["output_1"]
