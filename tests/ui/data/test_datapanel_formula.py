"""The formula data set in the Data panel: type an expression, get that data;
a bad expression is named, with its column, and changes nothing."""

from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import Qt

from anndesigner.ui.data.panel import DataPanel
from anndesigner.ui.document import Document


@pytest.fixture
def panel(qtbot):
    import anndesigner as ad

    g = ad.Graph()
    x = g.add_node("Input", units=2)
    y = g.add_node("Output", units=1, activation="sigmoid", loss="binary_crossentropy")
    g.connect(x, y)
    doc = Document(ad.Network(g))
    w = DataPanel(doc)
    qtbot.addWidget(w)
    w.show()
    return w


def type_expression(qtbot, w, text):
    e = w.field("expression")
    e.setFocus()
    e.selectAll()
    qtbot.keyClicks(e, text)
    qtbot.keyClick(e, Qt.Key.Key_Return)


def test_typed_formula_makes_that_data(qtbot, panel):
    w = panel
    w.choose_builtin("formula")
    type_expression(qtbot, w, "x1 > x2")
    src = w.document.network.data_source
    assert src["name"] == "formula" and src["params"]["expression"] == "x1 > x2"
    data = w.document.dataset()
    np.testing.assert_array_equal(data.Y[:, 0], (data.X[:, 0] > data.X[:, 1]).astype(data.Y.dtype))


def test_a_bad_formula_is_named_and_keeps_the_last_good_one(qtbot, panel):
    w = panel
    w.choose_builtin("formula")
    type_expression(qtbot, w, "x1 * x2 > 0")
    good = dict(w.document.network.data_source["params"])
    count = w.document.undo_stack.count()
    type_expression(qtbot, w, "x1 + y")
    assert w.document.network.data_source["params"] == good
    assert w.document.undo_stack.count() == count
    assert "unknown name 'y'" in w.settings.error_text() and "column" in w.settings.error_text()
    type_expression(qtbot, w, "sin(3*x1) > x2")
    assert w.settings.error_text() == ""
    assert w.document.network.data_source["params"]["expression"] == "sin(3*x1) > x2"
    assert w.document.undo_stack.count() == count + 1


def test_feature_boxes_add_input_columns_as_one_undo_step(qtbot, panel):
    w = panel
    w.choose_builtin("circles")
    assert w.settings_form.isRowVisible(w.features_box)
    assert [n for n, b in w.feature_checks.items() if b.isChecked()] == ["x1", "x2"]
    stack = w.document.undo_stack
    count = stack.count()
    qtbot.mouseClick(w.feature_checks["x1^2"], Qt.MouseButton.LeftButton,
                     pos=w.feature_checks["x1^2"].rect().center())
    src = w.document.network.data_source
    assert src["params"]["features"] == ["x1", "x2", "x1^2"] and stack.count() == count + 1
    data = w.document.dataset()
    assert data.X.shape[1] == 3
    np.testing.assert_allclose(data.X[:, 2], data.X[:, 0] ** 2, rtol=1e-5)
    # the network's Input no longer fits: the panel says so (and offers its fix)
    assert w.document.network.data_source and stack.undoText().startswith("Use features")
    stack.undo()
    assert "features" not in w.document.network.data_source["params"]
    assert not w.feature_checks["x1^2"].isChecked()


def test_the_last_feature_cannot_be_unticked(qtbot, panel):
    w = panel
    w.choose_builtin("xor")
    w.feature_checks["x1"].setChecked(False)
    count = w.document.undo_stack.count()
    w.feature_checks["x2"].setChecked(False)
    assert w.document.undo_stack.count() == count
    assert w.feature_checks["x2"].isChecked()


def test_sets_without_two_flat_inputs_show_no_feature_boxes(qtbot, panel):
    w = panel
    w.choose_builtin("digits")
    assert not w.settings_form.isRowVisible(w.features_box)


def test_no_data_set_or_a_csv_shows_no_feature_boxes(qtbot, panel, tmp_path):
    w = panel
    w.choose_builtin("xor")
    assert w.settings_form.isRowVisible(w.features_box)
    # a network without data (a new or an imported one): no feature boxes left from before
    import anndesigner as ad

    g = ad.Graph()
    g.connect(g.add_node("Input", units=2), g.add_node("Output", units=1))
    w.set_document(Document(ad.Network(g)))
    assert not w.settings_form.isRowVisible(w.features_box)
    w.set_document(Document(ad.load(Path(__file__).resolve().parents[3] / "samples" / "xor.ann")))
    assert w.settings_form.isRowVisible(w.features_box)
    csv = tmp_path / "d.csv"
    csv.write_text("a,b,y\n0,1,1\n1,0,1\n0,0,0\n1,1,0\n")
    doc = w.document
    from anndesigner.ui import commands as C

    doc.push(C.SetDataSourceCommand(doc, {"kind": "csv", "path": str(csv), "targets": ["y"]}))
    assert not w.settings_form.isRowVisible(w.features_box)
