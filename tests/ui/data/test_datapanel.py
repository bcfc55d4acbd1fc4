"""The data panel and the CSV import dialog: one command per committed change,
widgets that follow the model (undo, edits from elsewhere), the preview, the
CSV choices, the data/network mismatch and its one-step fix, the training lock."""

import os
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("PySide6")
pytest.importorskip("pyqtgraph")

from PySide6.QtCore import Qt  # noqa: E402
from PySide6.QtWidgets import QDialog  # noqa: E402

import anndesigner as ad  # noqa: E402
from anndesigner.data import load_builtin, load_source  # noqa: E402
from anndesigner.io import load_network  # noqa: E402
from anndesigner.ui import commands as C  # noqa: E402
from anndesigner.ui.document import Document  # noqa: E402
from anndesigner.ui.data.csvdialog import CsvImportDialog, dataset_summary  # noqa: E402
from anndesigner.ui.data.previews import PREVIEW_POINTS, TABLE_ROWS  # noqa: E402
from anndesigner.ui.data.panel import DataPanel  # noqa: E402
from helpers import mlp  # noqa: E402

SAMPLES = Path(__file__).resolve().parents[3] / "samples"


@pytest.fixture
def xor_doc(qapp):
    return Document(load_network(SAMPLES / "xor.ann"))


def make_panel(qtbot, doc):
    w = DataPanel(doc)
    qtbot.addWidget(w)
    w.resize(300, 640)
    w.show()
    qtbot.waitExposed(w)
    return w


def make_dialog(qtbot, path, **kw):
    d = CsvImportDialog(path, **kw)
    qtbot.addWidget(d)
    return d


def builtin(name, standardize=False, **params):
    return {"kind": "builtin", "name": name, "params": params, "standardize": standardize}


def write_csv(path, header, rows):
    path.write_text("\n".join([",".join(header)] + [",".join(map(str, r)) for r in rows]) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def good_csv(tmp_path):
    rng = np.random.default_rng(3)
    rows = []
    for i in range(30):
        a, b, c = rng.normal(size=3).round(3)
        rows.append([a, b, c, "yes" if a + b > 0 else "no"])
    return write_csv(tmp_path / "data.csv", ["a", "b", "c", "label"], rows)


class AcceptingDialog:
    """A dialog factory for ``import_csv``: the real dialog, accepted instead of exec()'d."""

    def __init__(self, qtbot, configure=None):
        self.qtbot = qtbot
        self.configure = configure
        self.dialog = None

    def __call__(self, path, parent=None, initial=None):
        self.dialog = CsvImportDialog(path, parent=parent, initial=initial)
        if self.configure is not None:
            self.configure(self.dialog)
        return self

    def exec(self):
        self.dialog.accept()  # what clicking Import does
        return self.dialog.result()

    def source(self):
        return self.dialog.source()


# ------------------------------------------------------------ built-ins
def test_panel_shows_the_documents_source(qtbot, xor_doc):
    w = make_panel(qtbot, xor_doc)
    assert w.objectName() == "dataPanel"
    assert w.field("source").currentData() == "xor"
    assert w.field("source").currentText() == "XOR"
    assert w.field("n_samples").value() == 4
    assert w.field("noise").value() == 0.0
    assert not w.field("standardize").isChecked()
    assert "linearly separable" in w.description.text()
    assert w.current_dataset() is not None and len(w.current_dataset()) == 4
    assert xor_doc.undo_stack.count() == 0  # showing the model pushes nothing


def test_each_committed_change_is_one_command_and_undo_restores_the_widgets(qtbot, xor_doc):
    w = make_panel(qtbot, xor_doc)
    stack = xor_doc.undo_stack
    net = xor_doc.network

    w.field("source").setCurrentIndex(w.field("source").findData("moons"))
    assert stack.count() == 1
    assert net.data_source == builtin("moons", n_samples=200, noise=0.1, seed=0)
    assert w.field("n_samples").value() == 200

    w.field("n_samples").setValue(300)
    assert stack.count() == 2
    w.field("n_samples").editingFinished.emit()  # leaving the field after an arrow step: no second command
    assert stack.count() == 2
    w.field("noise").setValue(0.25)
    assert stack.count() == 3
    w.field("seed").setValue(7)
    assert stack.count() == 4
    assert net.data_source == builtin("moons", n_samples=300, noise=0.25, seed=7)
    assert net.data_source == load_builtin("moons", n_samples=300, noise=0.25, seed=7).source

    stack.undo()
    assert net.data_source == builtin("moons", n_samples=300, noise=0.25, seed=0)
    assert w.field("seed").value() == 0
    stack.undo()
    assert w.field("noise").value() == pytest.approx(0.1)
    stack.undo()
    assert w.field("n_samples").value() == 200
    stack.undo()
    assert net.data_source == {"kind": "builtin", "name": "xor", "params": {"n_samples": 4, "noise": 0.0, "seed": 0}}
    assert w.field("source").currentData() == "xor"
    assert w.field("n_samples").value() == 4
    assert stack.count() == 4  # following the model pushed nothing
    stack.redo()
    assert w.field("source").currentData() == "moons"


def test_typing_commits_once_on_enter_not_per_keystroke(qtbot, xor_doc):
    w = make_panel(qtbot, xor_doc)
    spin = w.field("n_samples")
    spin.setFocus()
    spin.lineEdit().selectAll()
    qtbot.keyClicks(spin, "250")
    assert xor_doc.undo_stack.count() == 0
    qtbot.keyClick(spin, Qt.Key.Key_Return)
    assert xor_doc.undo_stack.count() == 1
    assert xor_doc.network.data_source["params"]["n_samples"] == 250
    assert xor_doc.undo_stack.undoText() == "Set data samples to 250"


def test_standardize_and_blob_centers(qtbot, xor_doc):
    w = make_panel(qtbot, xor_doc)
    w.choose_builtin("blobs")
    assert w.settings_form.isRowVisible(w.field("centers"))
    w.field("centers").setValue(4)
    w.field("standardize").setChecked(True)
    assert xor_doc.undo_stack.count() == 3
    assert xor_doc.network.data_source == builtin("blobs", True, n_samples=300, noise=0.5, seed=0, centers=4)
    ds = w.current_dataset()
    assert ds.classes == ["0", "1", "2", "3"] and ds.scaler is not None
    assert "standardized" in w.preview.preview_note.text()
    w.choose_builtin("moons")  # standardizing is kept, centers are gone
    assert xor_doc.network.data_source == builtin("moons", True, n_samples=200, noise=0.1, seed=0)
    assert not w.settings_form.isRowVisible(w.field("centers"))


def test_validation_split_is_one_training_command(qtbot, xor_doc):
    w = make_panel(qtbot, xor_doc)
    w.choose_builtin("moons")
    stack = xor_doc.undo_stack
    n = stack.count()
    w.field("validation_split").setValue(25)
    assert stack.count() == n + 1
    assert xor_doc.network.training.validation_split == pytest.approx(0.25)
    assert "50 of 200 samples" in w.split_note.text()
    stack.undo()
    assert xor_doc.network.training.validation_split == 0.0
    assert w.field("validation_split").value() == 0
    # a change made elsewhere shows up
    xor_doc.push(C.SetTrainingCommand(xor_doc, validation_split=0.4))
    assert w.field("validation_split").value() == 40
    assert stack.count() == n + 1


def test_changes_from_elsewhere_update_the_widgets_without_commands(qtbot, xor_doc):
    w = make_panel(qtbot, xor_doc)
    xor_doc.push(C.SetDataSourceCommand(xor_doc, builtin("spirals", n_samples=120, noise=0.2, seed=3)))
    assert w.field("source").currentData() == "spirals"
    assert (w.field("n_samples").value(), w.field("seed").value()) == (120, 3)
    assert w.field("noise").value() == pytest.approx(0.2)
    assert w.summary_text().startswith("120 samples")
    assert xor_doc.undo_stack.count() == 1


# --------------------------------------------------------------- preview
def test_preview_scatter_has_one_point_per_sample(qtbot, xor_doc):
    w = make_panel(qtbot, xor_doc)
    w.choose_builtin("moons")
    assert w.summary_text() == "200 samples · 2 inputs · 1 output · classification (2 classes)"
    assert w.preview.plot.isVisible() and not w.preview.table.isVisible()
    x, y = w.scatter_item().getData()
    ds = w.current_dataset()
    assert len(x) == 200
    np.testing.assert_allclose(x, ds.X[:, 0], rtol=1e-6)
    np.testing.assert_allclose(y, ds.X[:, 1], rtol=1e-6)
    brushes = {p.brush().color().name() for p in w.scatter_item().points()}
    assert len(brushes) == 2  # coloured by class
    assert "upper" in w.preview.key_label.text() and "lower" in w.preview.key_label.text()

    w.field("n_samples").setValue(300)
    assert len(w.scatter_item().getData()[0]) == 300
    w.field("n_samples").setValue(5000)
    assert len(w.scatter_item().getData()[0]) == PREVIEW_POINTS
    assert f"{PREVIEW_POINTS:,} of 5,000" in w.preview.preview_note.text()


def test_preview_table_for_more_than_two_inputs(qtbot, xor_doc):
    w = make_panel(qtbot, xor_doc)
    w.choose_builtin("house_prices")
    assert w.summary_text() == "500 samples · 4 inputs · 1 output · regression"
    assert w.preview.table.isVisible() and not w.preview.plot.isVisible()
    assert w.preview.table.rowCount() == TABLE_ROWS
    heads = [w.preview.table.horizontalHeaderItem(c).text() for c in range(w.preview.table.columnCount())]
    assert heads == ["location_score", "crime_rate", "floor_area", "population", "price"]


def test_load_error_is_shown_and_the_previous_preview_kept(qtbot, xor_doc, tmp_path):
    w = make_panel(qtbot, xor_doc)
    w.choose_builtin("circles")
    assert len(w.scatter_item().getData()[0]) == 200
    xor_doc.push(C.SetDataSourceCommand(xor_doc, {"kind": "csv", "path": str(tmp_path / "missing.csv")}))
    assert "missing.csv" in w.error_text()
    assert w.preview.error_label.isVisible()
    assert w.current_dataset() is None
    assert len(w.scatter_item().getData()[0]) == 200  # the old preview stays
    assert w.mismatches() == {}
    xor_doc.undo_stack.undo()
    assert w.error_text() == ""
    assert w.current_dataset() is not None


# ------------------------------------------------------------ CSV dialog
def test_csv_dialog_defaults_and_accepted_source(qtbot, good_csv, tmp_path):
    d = make_dialog(qtbot, good_csv)
    assert d.columns() == ["a", "b", "c", "label"]
    assert d.roles() == {"a": "input", "b": "input", "c": "input", "label": "target"}
    assert d.header() is True and d.delimiter_box.currentData() == ","
    assert d.preview_table.rowCount() == 20
    assert d.is_valid() and d.ok_button().isEnabled()
    assert d.summary_text() == "30 samples · 3 inputs · 1 output · classification (2 classes)"

    d.set_roles(inputs=["a", "c"], targets=["label"])
    d.set_task("classification")
    d.set_standardize(False)
    d.accept()
    assert d.result() == QDialog.DialogCode.Accepted
    src = d.source()
    # absolute in memory; the network file stores it relative to its folder (tests/io/test_data_paths.py)
    assert src["kind"] == "csv" and src["path"] == os.path.abspath(good_csv)
    assert (src["inputs"], src["targets"], src["task"], src["standardize"]) == (["a", "c"], ["label"],
                                                                                 "classification", False)
    assert src["classes"] == ["no", "yes"]
    again = load_source(src, tmp_path)
    np.testing.assert_array_equal(again.X, d.dataset().X)
    np.testing.assert_array_equal(again.Y, d.dataset().Y)


def test_csv_dialog_role_change_updates_the_summary(qtbot, good_csv):
    d = make_dialog(qtbot, good_csv)
    d.set_role("b", "ignore")
    assert d.summary_text().startswith("30 samples · 2 inputs · 1 output")
    d.set_role("c", "target")  # two targets: regression
    d.set_role("label", "ignore")
    assert d.summary_text() == "30 samples · 1 input · 1 output · regression"
    d.set_role("a", "ignore")  # no input left
    assert not d.is_valid() and not d.ok_button().isEnabled()
    assert "input" in d.error_text()


def test_csv_dialog_bad_cell_names_line_and_column(qtbot, tmp_path):
    path = write_csv(tmp_path / "bad.csv", ["x", "y", "label"],
                     [[0.1, 0.2, 0], [0.3, 0.4, 1], ["oops", 0.5, 0], [0.6, 0.7, 1]])
    d = make_dialog(qtbot, path)
    assert not d.is_valid()
    assert not d.ok_button().isEnabled()
    assert "line 4" in d.error_text() and "'x'" in d.error_text()
    assert d.error().line == 4 and d.error().column == "x"
    assert d.preview_table.item(2, 0).background().color().name() == "#ffcdd2"  # the offending cell
    d.accept()  # refused
    assert d.result() != QDialog.DialogCode.Accepted
    assert d.source() is None
    d.set_role("x", "ignore")  # without the bad column it loads
    assert d.is_valid() and d.ok_button().isEnabled()
    assert d.preview_table.item(2, 0).background().color().name() != "#ffcdd2"


def test_csv_dialog_path_is_absolute(qtbot, good_csv):
    d = make_dialog(qtbot, good_csv)
    d.accept()
    assert Path(d.source()["path"]).is_absolute()
    assert Path(d.source()["path"]) == good_csv.resolve()
    sub = make_dialog(qtbot, good_csv)
    assert Path(sub.source()["path"]).is_absolute()


def test_csv_dialog_header_and_delimiter_overrides(qtbot, tmp_path):
    path = tmp_path / "semi.csv"
    path.write_text("1;2;0\n3;4;1\n5;6;0\n7;8;1\n", encoding="utf-8")
    d = make_dialog(qtbot, path)
    assert d.delimiter_box.currentData() == ";" and d.header() is False
    assert d.columns() == ["col1", "col2", "col3"]
    assert d.summary_text().startswith("4 samples")
    d.set_header(True)  # the first row becomes the names
    assert d.columns() == ["1", "2", "0"]
    assert d.summary_text().startswith("3 samples")
    d.set_delimiter(",")  # everything in one column: no input left
    assert not d.is_valid()


def test_csv_dialog_presets_an_earlier_import(qtbot, good_csv, tmp_path):
    first = make_dialog(qtbot, good_csv)
    first.set_roles(inputs=["b"], targets=["label"])
    src = first.source()
    d = make_dialog(qtbot, good_csv, initial=src)
    assert d.roles() == {"a": "ignore", "b": "input", "c": "ignore", "label": "target"}
    assert d.source() == src


def test_dataset_summary_text():
    ds = load_builtin("sine", n_samples=1)
    assert dataset_summary(ds) == "1 sample · 1 input · 1 output · regression"
    assert dataset_summary(load_builtin("blobs", n_samples=1000)) == \
        "1,000 samples · 2 inputs · 3 outputs · classification (3 classes)"


# ------------------------------------------------------- import in panel
def test_import_csv_pushes_one_command(qtbot, good_csv, tmp_path):
    doc = Document(load_network(SAMPLES / "xor.ann"), path=tmp_path / "net.ann")
    w = make_panel(qtbot, doc)
    factory = AcceptingDialog(qtbot, lambda d: d.set_roles(inputs=["a", "b"], targets=["label"]))
    assert w.import_csv(good_csv, factory)
    assert doc.undo_stack.count() == 1
    assert doc.undo_stack.undoText() == "Import CSV"
    src = doc.network.data_source
    assert src["path"] == os.path.abspath(good_csv) and src["inputs"] == ["a", "b"]
    assert w.field("source").currentData() == "__csv__"
    assert w.field("source").currentText() == "data.csv"
    assert w.csv_inputs.text() == "a, b" and w.csv_target.text() == "label"
    assert w.summary_text() == "30 samples · 2 inputs · 1 output · classification (2 classes)"
    assert w.preview.plot.isVisible()
    assert w.mismatches() == {}  # xor's Input(2) and Output(1) fit

    doc.undo_stack.undo()
    assert w.field("source").currentData() == "xor"
    # the import stays on offer in the chooser; picking it again is one command
    w.field("source").setCurrentIndex(w.field("source").findData("__csv__"))
    assert doc.network.data_source == src
    assert doc.undo_stack.count() == 1


def test_rejected_import_changes_nothing(qtbot, good_csv, xor_doc):
    w = make_panel(qtbot, xor_doc)

    class Rejecting(AcceptingDialog):
        def exec(self):
            self.dialog.reject()
            return self.dialog.result()

    assert not w.import_csv(good_csv, Rejecting(qtbot))
    assert xor_doc.undo_stack.count() == 0


def test_save_as_into_another_folder_keeps_the_csv(qtbot, good_csv, tmp_path):
    doc = Document(load_network(SAMPLES / "xor.ann"), path=tmp_path / "net.ann")
    w = make_panel(qtbot, doc)
    assert w.import_csv(good_csv, AcceptingDialog(qtbot, lambda d: d.set_roles(["a", "b"], ["label"])))
    before = doc.dataset().X.copy()
    other = tmp_path / "elsewhere"
    other.mkdir()
    doc.save(other / "copy.ann")
    assert w.error_text() == ""
    np.testing.assert_array_equal(doc.dataset().X, before)
    reopened = Document(load_network(other / "copy.ann"), path=other / "copy.ann")
    np.testing.assert_array_equal(reopened.dataset().X, before)


def test_toggling_standardize_of_a_csv_refits(qtbot, good_csv, tmp_path):
    doc = Document(load_network(SAMPLES / "xor.ann"), path=tmp_path / "net.ann")
    w = make_panel(qtbot, doc)
    w.import_csv(good_csv, AcceptingDialog(qtbot, lambda d: d.set_roles(["a", "b"], ["label"])))
    assert w.field("standardize").isChecked()
    w.field("standardize").setChecked(False)
    src = doc.network.data_source
    assert (src["standardize"], src["scaler"], src["path"]) == (False, None, os.path.abspath(good_csv))
    assert doc.undo_stack.count() == 2
    assert w.current_dataset().scaler is None


# -------------------------------------------------------------- mismatch
def three_input_csv(tmp_path):
    rows = [[i, i * 2, i % 3, i % 2] for i in range(12)]
    return write_csv(tmp_path / "three.csv", ["p", "q", "r", "y"], rows)


def test_mismatch_warning_and_fix_in_one_step(qtbot, tmp_path):
    doc = Document(ad.Network(mlp([2, 4, 1]), strict=False), path=tmp_path / "net.ann")
    w = make_panel(qtbot, doc)
    emitted = []
    w.mismatchesChanged.connect(emitted.append)
    w.import_csv(three_input_csv(tmp_path), AcceptingDialog(qtbot))
    assert w.current_dataset().n_inputs == 3
    assert w.mismatches() == {"input_1": "Input 'input_1' takes 2 values but the data has 3 inputs"}
    assert emitted[-1] == w.mismatches()
    assert w.mismatch_box.isVisible() and w.fix_button.isVisible()
    assert "input_1" in w.mismatch_label.text()

    n = doc.undo_stack.count()
    assert w.fix_mismatches()
    assert doc.undo_stack.count() == n + 1
    assert doc.undo_stack.undoText() == "Match network to data"
    assert doc.graph.nodes["input_1"].params["shape"] == [3]
    assert w.mismatches() == {} and emitted[-1] == {}
    assert not w.mismatch_box.isVisible()

    doc.undo_stack.undo()
    assert doc.graph.nodes["input_1"].params["shape"] == [2]
    assert "input_1" in w.mismatches()
    assert w.mismatch_box.isVisible()


def test_fix_sets_input_and_output_together(qtbot, xor_doc):
    w = make_panel(qtbot, xor_doc)
    w.choose_builtin("house_prices")  # 4 inputs, 1 output
    w.field("source").setCurrentIndex(w.field("source").findData("blobs"))  # 2 inputs, 3 outputs
    out = w.mismatches()
    assert set(out) == {"output_1"}
    assert out["output_1"].startswith("Output 'output_1' has 1 unit but the data has 3 outputs")
    w.choose_builtin("house_prices")
    xor_doc.push(C.SetParamsCommand(xor_doc, {"output_1": {"units": 2}}))
    assert set(w.mismatches()) == {"input_1", "output_1"}
    n = xor_doc.undo_stack.count()
    w.fix_button.click()
    assert xor_doc.undo_stack.count() == n + 1
    assert xor_doc.graph.nodes["input_1"].params["shape"] == [4]
    assert xor_doc.graph.nodes["output_1"].params["units"] == 1
    assert w.mismatches() == {}
    xor_doc.undo_stack.undo()
    assert xor_doc.graph.nodes["input_1"].params["shape"] == [2]
    assert xor_doc.graph.nodes["output_1"].params["units"] == 2


def test_graph_edits_elsewhere_update_the_mismatch(qtbot, xor_doc):
    w = make_panel(qtbot, xor_doc)
    assert w.mismatches() == {}
    xor_doc.push(C.SetParamsCommand(xor_doc, {"input_1": {"shape": [5]}}))
    assert w.mismatches() == {"input_1": "Input 'input_1' takes 5 values but the data has 2 inputs"}
    xor_doc.undo_stack.undo()
    assert w.mismatches() == {}


# ---------------------------------------------------------------- lock, documents
def test_locked_document_disables_the_source_controls(qtbot, xor_doc):
    w = make_panel(qtbot, xor_doc)
    xor_doc.set_lock("Training is running")
    for name in ("source", "import", "n_samples", "noise", "seed", "standardize", "validation_split", "fix"):
        assert not w.field(name).isEnabled(), name
    assert w.lock_label.isVisible() and "Training is running" in w.lock_label.text()
    assert not w.import_csv("whatever.csv", AcceptingDialog(qtbot))
    xor_doc.set_lock("")
    assert w.field("source").isEnabled() and w.field("n_samples").isEnabled()
    assert not w.lock_label.isVisible()


def test_set_document_disconnects_the_old_one(qtbot, xor_doc):
    w = make_panel(qtbot, xor_doc)
    other = Document(ad.Network(mlp([3, 2]), strict=False))
    w.set_document(other)
    # (the document's own relays to its Qt signals stay)
    assert [s for s in xor_doc.network.data_changed._slots if not xor_doc.owns_slot(s)] == []
    assert [s for s in xor_doc.graph.node_changed._slots if not xor_doc.owns_slot(s)] == []
    assert w.field("source").currentIndex() == -1
    assert w.summary_text() == "No data set chosen"
    assert w.current_dataset() is None and w.mismatches() == {}
    xor_doc.push(C.SetDataSourceCommand(xor_doc, builtin("moons")))
    assert w.field("source").currentIndex() == -1
    w.choose_builtin("sine")
    assert other.undo_stack.count() == 1 and xor_doc.undo_stack.count() == 1
    assert set(w.mismatches()) == {"input_1", "output_1"}


def test_blob_limits_never_clamp_another_sets_values(qtbot, xor_doc):
    w = make_panel(qtbot, xor_doc)
    w.choose_builtin("blobs")
    w.field("centers").setValue(6)
    assert w.field("n_samples").minimum() == 6  # blobs need a sample per center
    w.choose_builtin("and")
    assert w.field("n_samples").value() == 4
    assert xor_doc.network.data_source["params"]["n_samples"] == 4


def test_set_document_always_announces_the_mismatches(qtbot, xor_doc):
    w = make_panel(qtbot, xor_doc)
    seen = []
    w.mismatchesChanged.connect(seen.append)
    w.set_document(Document(load_network(SAMPLES / "xor.ann")))
    assert seen == [{}]
