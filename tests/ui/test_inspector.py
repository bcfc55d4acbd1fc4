"""The inspector: schema-built forms, one command per edit, refusals, following
the model, multi-selection, the network summary, document switching."""

from pathlib import Path

import pytest

pytest.importorskip("PySide6")

from PySide6.QtCore import QCoreApplication, QEvent, QPoint, Qt  # noqa: E402
from PySide6.QtWidgets import (  # noqa: E402
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QLabel,
    QLineEdit,
    QSpinBox,
    QTableWidget,
    QWidget,
)

import anndesigner as ad  # noqa: E402
from anndesigner.graph.nodetypes import BUILTIN_REGISTRY  # noqa: E402
from anndesigner.io import load_network  # noqa: E402
from anndesigner.ui import commands as C  # noqa: E402
from anndesigner.ui.document import Document  # noqa: E402
from anndesigner.ui.form import MIXED_TEXT, RefusedText, parse_shape  # noqa: E402
from anndesigner.ui.inspector import InspectorWidget, NetworkPage  # noqa: E402

SAMPLES = Path(__file__).resolve().parents[2] / "samples"
EDITOR_CLASS = {"int": QSpinBox, "float": QDoubleSpinBox, "bool": QCheckBox, "choice": QComboBox,
                "shape": QLineEdit, "str": QLineEdit}


@pytest.fixture
def xor_doc(qapp):
    return Document(load_network(SAMPLES / "xor.ann"))


@pytest.fixture
def every_type_doc(qapp):
    g = ad.Graph()
    for t in BUILTIN_REGISTRY:
        g.add_node(t.type_id, id=t.type_id.lower())
    return Document(ad.Network(g, strict=False))


def make_inspector(qtbot, doc):
    w = InspectorWidget(doc)
    qtbot.addWidget(w)
    w.resize(260, 600)
    w.show()
    qtbot.waitExposed(w)
    return w


def editor(w, name):
    e = w.findChild(QWidget, f"param_{name}")
    assert e is not None, f"no editor for {name}"
    assert e is w.field(name)
    return e


def type_into(qtbot, widget, text):
    """Select all and type, as a user would (no commit yet)."""
    widget.setFocus()
    line = widget.lineEdit() if hasattr(widget, "lineEdit") else widget
    line.selectAll()
    qtbot.keyClicks(widget, text)


def click_check_box(qtbot, box):
    qtbot.mouseClick(box, Qt.MouseButton.LeftButton, pos=QPoint(8, box.height() // 2))  # on the indicator


# ------------------------------------------------------------- the form
def test_form_is_built_from_each_types_schema(qtbot, every_type_doc):
    w = make_inspector(qtbot, every_type_doc)
    g = every_type_doc.graph
    for t in BUILTIN_REGISTRY:
        nid = t.type_id.lower()
        w.set_selection([nid])
        assert w.page_kind() == "single"
        assert w.findChild(QLabel, "inspector_title").text() == t.title
        assert nid in w.findChild(QLabel, "inspector_subtitle").text()
        assert w.findChild(QLabel, "inspector_description").text() == t.description
        shown = {e.objectName() for e in w.findChildren(QWidget) if e.objectName().startswith("param_")
                 and e.isVisibleTo(w)}
        assert shown == {f"param_{p.name}" for p in t.params}, t.type_id
        for p in t.params:
            e = editor(w, p.name)
            assert isinstance(e, EDITOR_CLASS[p.kind]), (t.type_id, p.name)
            value = g.nodes[nid].params[p.name]
            if p.kind in ("int", "float"):
                assert e.value() == pytest.approx(value)
                if p.minimum is not None:
                    assert e.minimum() == p.minimum and e.maximum() == p.maximum
                assert not e.keyboardTracking()  # no command per keystroke
            if p.kind == "float" and 0 < p.default < 0.01:  # ε: 8 decimals, steps of its default
                assert e.decimals() == 8 and e.singleStep() == pytest.approx(p.default)
                assert e.value() == pytest.approx(p.default) and e.text() != "0.0000"
            elif p.kind == "float":
                assert e.decimals() == 4 and e.singleStep() == pytest.approx(0.05)
            if p.kind == "bool":
                assert e.isChecked() is value
            if p.kind == "choice":
                assert [e.itemText(i) for i in range(e.count())] == list(p.choices)
                assert e.currentText() == value
            if p.kind == "shape":
                assert parse_shape(e.text()) == value
    assert every_type_doc.undo_stack.count() == 0  # building forms pushes nothing


def test_dense_units_spin_box(qtbot, xor_doc):
    w = make_inspector(qtbot, xor_doc)
    w.set_selection(["dense_1"])
    spin = editor(w, "units")
    assert isinstance(spin, QSpinBox)
    assert (spin.minimum(), spin.maximum(), spin.value()) == (1, 100_000, 4)


def test_typing_then_enter_pushes_one_command(qtbot, xor_doc):
    w = make_inspector(qtbot, xor_doc)
    w.set_selection(["dense_1"])
    spin = editor(w, "units")
    type_into(qtbot, spin, "16")
    assert xor_doc.undo_stack.count() == 0  # nothing per keystroke
    assert xor_doc.graph.nodes["dense_1"].params["units"] == 4
    qtbot.keyClick(spin, Qt.Key.Key_Return)
    assert xor_doc.undo_stack.count() == 1
    assert xor_doc.graph.nodes["dense_1"].params["units"] == 16
    spin.editingFinished.emit()  # leaving the field afterwards changes nothing
    assert xor_doc.undo_stack.count() == 1
    assert w.findChild(QLabel, "fact_params").text() == f"{2 * 16 + 16:,}"
    assert w.findChild(QLabel, "fact_shape").text() == "(16)"

    xor_doc.undo_stack.undo()
    assert xor_doc.graph.nodes["dense_1"].params["units"] == 4
    assert spin.value() == 4
    assert w.findChild(QLabel, "fact_params").text() == "12"
    xor_doc.undo_stack.redo()
    assert spin.value() == 16
    assert xor_doc.undo_stack.count() == 1


def test_a_step_of_the_arrows_is_one_command(qtbot, xor_doc):
    w = make_inspector(qtbot, xor_doc)
    w.set_selection(["dense_1"])
    spin = editor(w, "units")
    spin.stepUp()
    assert xor_doc.undo_stack.count() == 1
    assert xor_doc.graph.nodes["dense_1"].params["units"] == 5


def test_combo_and_check_box_commit_on_change(qtbot, xor_doc):
    w = make_inspector(qtbot, xor_doc)
    w.set_selection(["output_1"])
    combo = editor(w, "loss")
    combo.setCurrentIndex(combo.findText("mse"))
    assert xor_doc.graph.nodes["output_1"].params["loss"] == "mse"
    assert xor_doc.undo_stack.count() == 1
    box = editor(w, "use_bias")
    click_check_box(qtbot, box)
    assert xor_doc.graph.nodes["output_1"].params["use_bias"] is False
    assert xor_doc.undo_stack.count() == 2
    xor_doc.undo_stack.undo()
    assert box.isChecked()
    xor_doc.undo_stack.undo()
    assert combo.currentText() == "binary_crossentropy"
    assert xor_doc.undo_stack.count() == 2 and xor_doc.undo_stack.index() == 0  # undo pushed nothing


def test_float_field_does_not_round_the_model_by_itself(qtbot, every_type_doc):
    every_type_doc.graph.set_params("dropout", rate=0.123456)
    w = make_inspector(qtbot, every_type_doc)
    w.set_selection(["dropout"])
    spin = editor(w, "rate")
    assert spin.text() == "0.1235"
    spin.editingFinished.emit()
    assert every_type_doc.undo_stack.count() == 0
    assert every_type_doc.graph.nodes["dropout"].params["rate"] == 0.123456
    spin.setValue(0.3)
    assert every_type_doc.graph.nodes["dropout"].params["rate"] == pytest.approx(0.3)
    assert every_type_doc.undo_stack.count() == 1


def test_shape_field_parses_and_commits(qtbot, xor_doc):
    w = make_inspector(qtbot, xor_doc)
    w.set_selection(["input_1"])
    line = editor(w, "shape")
    assert line.text() == "2"
    type_into(qtbot, line, "8, 8, 1")
    qtbot.keyClick(line, Qt.Key.Key_Return)
    assert xor_doc.graph.nodes["input_1"].params["shape"] == [8, 8, 1]
    assert xor_doc.undo_stack.count() == 1
    assert line.text() == "8, 8, 1"
    assert w.findChild(QLabel, "fact_shape").text() == "(8, 8, 1)"


@pytest.mark.parametrize("text, words", [
    ("0, -1", "positive whole numbers"),
    ("two", "not a list of whole numbers"),
    ("", "at least one size"),
    ("1.5", "not a list of whole numbers"),
])
def test_an_invalid_shape_is_refused_with_a_message(qtbot, xor_doc, text, words):
    w = make_inspector(qtbot, xor_doc)
    w.set_selection(["input_1"])
    line = editor(w, "shape")
    type_into(qtbot, line, text) if text else line.clear()
    with qtbot.waitSignal(w.statusMessage, timeout=1000) as blocker:
        line.editingFinished.emit()
    assert words in blocker.args[0] and blocker.args[0].startswith("Shape")
    assert xor_doc.graph.nodes["input_1"].params["shape"] == [2]  # unchanged
    assert xor_doc.undo_stack.count() == 0
    assert line.text() == "2"  # back to the model's value
    err = w.findChild(QLabel, "inspector_error")
    assert err.isVisibleTo(w) and words in err.text() and w.error_text() == err.text()
    # the next accepted edit clears the message
    type_into(qtbot, line, "3")
    qtbot.keyClick(line, Qt.Key.Key_Return)
    assert xor_doc.graph.nodes["input_1"].params["shape"] == [3]
    assert not err.isVisibleTo(w) and w.error_text() == ""


def test_parse_shape():
    assert parse_shape("8, 8, 1") == [8, 8, 1]
    assert parse_shape("(28 x 28)") == [28, 28]
    assert parse_shape(" 4 ") == [4]
    assert parse_shape("0,-1") == [0, -1]  # the model judges the numbers
    for bad in ("", "a", "1.5", "2, b"):
        with pytest.raises(RefusedText):
            parse_shape(bad)


def test_label_edit_is_one_command(qtbot, xor_doc):
    w = make_inspector(qtbot, xor_doc)
    w.set_selection(["dense_1"])
    label = w.findChild(QLineEdit, "node_label")
    assert label.text() == xor_doc.graph.nodes["dense_1"].label
    type_into(qtbot, label, "tanh layer")
    assert xor_doc.undo_stack.count() == 0
    qtbot.keyClick(label, Qt.Key.Key_Return)
    assert xor_doc.graph.nodes["dense_1"].label == "tanh layer"
    assert xor_doc.undo_stack.count() == 1
    label.editingFinished.emit()
    assert xor_doc.undo_stack.count() == 1
    xor_doc.undo_stack.undo()
    assert label.text() == xor_doc.graph.nodes["dense_1"].label != "tanh layer"


# ------------------------------------------------------- following the model
def test_changes_from_elsewhere_refresh_the_form_without_commands(qtbot, xor_doc):
    w = make_inspector(qtbot, xor_doc)
    w.set_selection(["dense_1"])
    xor_doc.push(C.SetParamsCommand(xor_doc, {"dense_1": {"units": 9, "activation": "relu", "use_bias": False}}))
    assert editor(w, "units").value() == 9
    assert editor(w, "activation").currentText() == "relu"
    assert not editor(w, "use_bias").isChecked()
    assert w.findChild(QLabel, "fact_params").text() == "18"
    xor_doc.graph.set_label("dense_1", "from the canvas")
    assert w.findChild(QLineEdit, "node_label").text() == "from the canvas"
    assert xor_doc.undo_stack.count() == 1  # no feedback commands
    xor_doc.undo_stack.undo()
    assert editor(w, "units").value() == 4 and editor(w, "activation").currentText() == "tanh"
    assert xor_doc.undo_stack.index() == 0


def test_wiring_changes_refresh_the_facts(qtbot, xor_doc):
    w = make_inspector(qtbot, xor_doc)
    w.set_selection(["output_1"])
    problems = w.findChild(QLabel, "inspector_problems")
    assert not problems.isVisibleTo(w)
    xor_doc.push(C.delete_command(xor_doc, edge_ids=[xor_doc.graph.in_edges("output_1")[0].id]))
    assert w.findChild(QLabel, "fact_shape").text() == "?"
    assert problems.isVisibleTo(w) and "has no input connected" in problems.text()
    assert w.findChild(QLabel, "fact_inputs").text() == "none"
    xor_doc.undo_stack.undo()
    assert not problems.isVisibleTo(w)
    assert w.findChild(QLabel, "fact_shape").text() == "(1)"


def test_removing_the_selected_node_falls_back_to_the_summary(qtbot, xor_doc):
    w = make_inspector(qtbot, xor_doc)
    w.set_selection(["dense_1"])
    xor_doc.push(C.delete_command(xor_doc, ["dense_1"]))
    assert w.page_kind() == "summary" and w.selection() == []
    assert w.findChild(QLabel, "summary_nodes").text() == "2"
    w.set_selection(["dense_1", "output_1"])  # unknown ids are ignored
    assert w.page_kind() == "single" and w.selection() == ["output_1"]


def test_removing_one_of_several_keeps_the_others(qtbot, xor_doc):
    w = make_inspector(qtbot, xor_doc)
    w.set_selection(["input_1", "dense_1", "output_1"])
    assert w.page_kind() == "multi"
    xor_doc.push(C.delete_command(xor_doc, ["input_1"]))
    assert w.page_kind() == "multi" and w.selection() == ["dense_1", "output_1"]


# --------------------------------------------------------- multi-selection
def test_multi_selection_shows_common_parameters(qtbot, xor_doc):
    w = make_inspector(qtbot, xor_doc)
    w.set_selection(["dense_1", "output_1"])
    assert w.page_kind() == "multi"
    assert w.findChild(QLabel, "selection_title").text() == "2 nodes selected"
    names = {e.objectName()[6:] for e in w.findChildren(QWidget) if e.objectName().startswith("param_")}
    # Output's loss and use_weights are not Dense parameters
    assert names == {"units", "activation", "use_bias", "kernel_initializer", "bias_initializer"}
    assert editor(w, "units").text() == MIXED_TEXT  # 4 and 1
    assert editor(w, "activation").currentIndex() == -1  # tanh and sigmoid
    assert editor(w, "activation").placeholderText() == MIXED_TEXT
    assert editor(w, "use_bias").isChecked()  # the same in both
    assert editor(w, "kernel_initializer").currentText() == "glorot_uniform"

    w.set_selection(["input_1", "output_1"])
    assert not [e for e in w.findChildren(QWidget) if e.objectName().startswith("param_")]


def test_multi_selection_edit_is_one_command_for_all(qtbot, xor_doc):
    w = make_inspector(qtbot, xor_doc)
    w.set_selection(["dense_1", "output_1"])
    spin = editor(w, "units")
    type_into(qtbot, spin, "3")
    qtbot.keyClick(spin, Qt.Key.Key_Return)
    g = xor_doc.graph
    assert g.nodes["dense_1"].params["units"] == 3 and g.nodes["output_1"].params["units"] == 3
    assert xor_doc.undo_stack.count() == 1
    assert spin.text() == "3"

    combo = editor(w, "activation")
    combo.setCurrentIndex(combo.findText("relu"))
    assert g.nodes["dense_1"].params["activation"] == g.nodes["output_1"].params["activation"] == "relu"
    assert xor_doc.undo_stack.count() == 2

    xor_doc.undo_stack.undo()
    xor_doc.undo_stack.undo()
    assert g.nodes["dense_1"].params["units"] == 4 and g.nodes["output_1"].params["units"] == 1
    assert spin.text() == MIXED_TEXT and combo.currentIndex() == -1


def test_multi_selection_shape_refusal_names_the_node(qtbot, qapp):
    g = ad.Graph()
    g.add_node("Input", id="a", shape=[2])
    g.add_node("Input", id="b", shape=[3, 3])
    doc = Document(ad.Network(g, strict=False))
    w = make_inspector(qtbot, doc)
    w.set_selection(["a", "b"])
    line = editor(w, "shape")
    assert line.text() == "" and line.placeholderText() == MIXED_TEXT
    line.editingFinished.emit()  # left untouched: nothing to do
    assert doc.undo_stack.count() == 0 and w.error_text() == ""
    type_into(qtbot, line, "4, 0")
    with qtbot.waitSignal(w.statusMessage, timeout=1000) as blocker:
        qtbot.keyClick(line, Qt.Key.Key_Return)
    assert blocker.args[0] == "Shape of a must be a list of positive whole numbers; 0 is not"
    assert line.text() == "" and doc.undo_stack.count() == 0
    type_into(qtbot, line, "5")
    qtbot.keyClick(line, Qt.Key.Key_Return)
    assert g.nodes["a"].params["shape"] == g.nodes["b"].params["shape"] == [5]
    assert doc.undo_stack.count() == 1 and line.text() == "5"


def test_mixed_check_box(qtbot, xor_doc):
    xor_doc.graph.set_params("output_1", use_bias=False)
    w = make_inspector(qtbot, xor_doc)
    w.set_selection(["dense_1", "output_1"])
    box = editor(w, "use_bias")
    assert box.checkState() == Qt.CheckState.PartiallyChecked
    click_check_box(qtbot, box)
    assert xor_doc.graph.nodes["output_1"].params["use_bias"] is True
    assert xor_doc.graph.nodes["dense_1"].params["use_bias"] is True
    assert xor_doc.undo_stack.count() == 1
    assert box.checkState() == Qt.CheckState.Checked and not box.isTristate()


# ------------------------------------------------------------ the summary
def test_summary_shows_the_totals(qtbot, xor_doc):
    w = make_inspector(qtbot, xor_doc)
    assert w.page_kind() == "summary"
    assert w.findChild(QLabel, "summary_nodes").text() == "3"
    assert w.findChild(QLabel, "summary_wires").text() == "2"
    assert w.findChild(QLabel, "summary_params").text() == "17"
    assert w.findChild(QLabel, "summary_errors").text() == "none"
    table = w.findChild(QTableWidget, "summary_table")
    rows = [[table.item(r, c).text() for c in range(4)] for r in range(table.rowCount())]
    assert rows == [["input_1", "Input", "(2)", "0"], ["dense_1", "Dense", "(4)", "12"],
                    ["output_1", "Output", "(1)", "5"]]
    assert w.findChild(QLineEdit, "meta_title").text() == xor_doc.graph.meta["title"]


def test_summary_lists_problems_and_follows_edits(qtbot, xor_doc):
    w = make_inspector(qtbot, xor_doc)
    xor_doc.push(C.add_node_command(xor_doc, "Dropout", (0, 0)))
    xor_doc.push(C.add_node_command(xor_doc, "Add", (0, 0)))
    assert w.findChild(QLabel, "summary_nodes").text() == "5"
    assert w.findChild(QLabel, "summary_errors").text() == "2"
    problems = w.findChild(QLabel, "inspector_problems")
    assert "dropout_1" in problems.text() and "add_1" in problems.text()
    assert w.findChild(QTableWidget, "summary_table").rowCount() == 5
    xor_doc.undo_stack.undo()
    xor_doc.undo_stack.undo()
    assert w.findChild(QLabel, "summary_errors").text() == "none"
    assert not problems.isVisibleTo(w)


def test_summary_title_and_description_are_commands(qtbot, xor_doc):
    w = make_inspector(qtbot, xor_doc)
    old = dict(xor_doc.graph.meta)
    title = w.findChild(QLineEdit, "meta_title")
    type_into(qtbot, title, "My XOR")
    qtbot.keyClick(title, Qt.Key.Key_Return)
    assert xor_doc.graph.meta["title"] == "My XOR"
    assert xor_doc.undo_stack.count() == 1
    desc = w.findChild(QWidget, "meta_description")
    desc.setPlainText("Solves XOR.")
    desc.editingFinished.emit()
    assert xor_doc.graph.meta["description"] == "Solves XOR."
    assert xor_doc.undo_stack.count() == 2
    desc.editingFinished.emit()
    assert xor_doc.undo_stack.count() == 2
    xor_doc.undo_stack.undo()
    xor_doc.undo_stack.undo()
    assert xor_doc.graph.meta == old
    assert title.text() == old["title"] and desc.toPlainText() == old["description"]


def test_table_double_click_asks_to_select_the_node(qtbot, xor_doc):
    w = make_inspector(qtbot, xor_doc)
    table = w.findChild(QTableWidget, "summary_table")
    with qtbot.waitSignal(w.nodeActivated, timeout=1000) as blocker:
        table.cellDoubleClicked.emit(1, 2)
    assert blocker.args == ["dense_1"]


# ------------------------------------------------------ documents, lifetime
def view_slots(signal, doc):
    """The subscribers of a model signal other than the document's own relays."""
    return len([s for s in signal._slots if not doc.owns_slot(s)])


def test_set_document_disconnects_the_old_graph(qtbot, xor_doc):
    w = make_inspector(qtbot, xor_doc)
    w.set_selection(["dense_1"])
    old_graph = xor_doc.graph
    assert view_slots(old_graph.node_changed, xor_doc) == 1
    other = Document(ad.Network(ad.Graph(), strict=False))
    other.graph.set_meta(title="Other")
    w.set_document(other)
    assert w.page_kind() == "summary" and w.document is other
    for sig in (old_graph.node_added, old_graph.node_removed, old_graph.node_changed, old_graph.edge_added,
                old_graph.edge_removed, old_graph.meta_changed):
        assert view_slots(sig, xor_doc) == 0
    old_graph.set_params("dense_1", units=11)
    old_graph.set_meta(title="Changed elsewhere")
    assert w.findChild(QLineEdit, "meta_title").text() == "Other"
    assert w.findChild(QLabel, "summary_nodes").text() == "0"
    other.graph.add_node("Input")  # a direct model edit: shown on the next turn of the event loop
    qtbot.waitUntil(lambda: w.findChild(QLabel, "summary_nodes").text() == "1", timeout=1000)


def test_direct_model_edits_refresh_the_facts(qtbot, xor_doc):
    w = make_inspector(qtbot, xor_doc)
    w.set_selection(["output_1"])
    xor_doc.graph.set_params("dense_1", units=6)  # not through a command: e.g. a script
    qtbot.waitUntil(lambda: w.findChild(QLabel, "fact_params").text() == "7", timeout=1000)
    xor_doc.graph.set_params("output_1", units=2)
    assert editor(w, "units").value() == 2  # the form itself follows at once
    w.refresh()
    assert w.findChild(QLabel, "fact_params").text() == "14"
    assert xor_doc.undo_stack.count() == 0


def test_one_command_refreshes_the_summary_once(qtbot, xor_doc, monkeypatch):
    w = make_inspector(qtbot, xor_doc)
    calls = []
    original = NetworkPage._fill_table
    monkeypatch.setattr(NetworkPage, "_fill_table", lambda self, a: (calls.append(1), original(self, a)))
    fragment = C.copy_fragment(xor_doc, ["input_1", "dense_1", "output_1"])
    xor_doc.push(C.paste_command(xor_doc, fragment))  # 3 nodes and 2 wires: 5 model events
    assert len(calls) == 1
    assert w.findChild(QLabel, "summary_nodes").text() == "6"
    assert w.findChild(QLabel, "summary_params").text() == "34"
    qtbot.wait(20)
    assert len(calls) == 1  # nothing left over for the timer


def test_a_deleted_inspector_leaves_the_graph(qtbot, xor_doc):
    w = InspectorWidget(xor_doc)
    assert view_slots(xor_doc.graph.node_changed, xor_doc) == 1
    w.deleteLater()
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    assert view_slots(xor_doc.graph.node_changed, xor_doc) == 0
    xor_doc.graph.set_params("dense_1", units=5)  # nothing to call


def test_switching_selection_commits_a_pending_edit(qtbot, xor_doc):
    w = make_inspector(qtbot, xor_doc)
    with qtbot.waitActive(w):
        w.activateWindow()
    w.set_selection(["dense_1"])
    spin = editor(w, "units")
    type_into(qtbot, spin, "6")
    if QCoreApplication.instance().focusWidget() is not spin:
        pytest.skip("no keyboard focus on this platform")
    w.set_selection(["output_1"])
    assert xor_doc.graph.nodes["dense_1"].params["units"] == 6
    assert xor_doc.undo_stack.count() == 1
    assert w.selection() == ["output_1"]


def test_training_locks_all_but_live_parameters(qtbot, every_type_doc):
    w = make_inspector(qtbot, every_type_doc)
    w.set_training(True)
    w.set_selection(["dropout"])
    assert editor(w, "rate").isEnabled()  # live
    w.set_selection(["dense"])
    assert not editor(w, "units").isEnabled()
    w.set_training(False)
    assert editor(w, "units").isEnabled()


def test_summary_follows_the_file_name(qtbot, xor_doc, tmp_path):
    w = make_inspector(qtbot, xor_doc)
    assert w.findChild(QLabel, "inspector_subtitle").text() == "Untitled"
    xor_doc.save(tmp_path / "mine.ann")
    assert w.findChild(QLabel, "inspector_subtitle").text() == "mine.ann"
