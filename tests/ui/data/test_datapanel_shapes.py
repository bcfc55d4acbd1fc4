"""The data panel with image, sequence and token data: the parameter editors and
their ranges, the previews (pictures, lines, token table), the standardize
default, the "targets = inputs" option, a CSV sample shape, and matching the
network's Input to the data's shape."""

from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("PySide6")
pytest.importorskip("pyqtgraph")

import pyqtgraph as pg  # noqa: E402
from PySide6.QtCore import QPointF  # noqa: E402
from PySide6.QtGui import QColor  # noqa: E402

import anndesigner as ad  # noqa: E402
from anndesigner.data import BUILTIN_DATASETS, load_source  # noqa: E402
from anndesigner.data.builtin import MAX_SAMPLES  # noqa: E402
from anndesigner.io import load_network  # noqa: E402
from anndesigner.ui import commands as C  # noqa: E402
from anndesigner.ui.document import Document  # noqa: E402
from anndesigner.ui.style import CLASS_COLORS  # noqa: E402
from anndesigner.ui.data.csvdialog import CsvImportDialog  # noqa: E402
from anndesigner.ui.data.previews import (  # noqa: E402
    IMAGE_INK, IMAGE_PAPER, PREVIEW_IMAGES, PREVIEW_SEQUENCES, TOKEN_WARNING,
)
from anndesigner.ui.data.panel import DataPanel  # noqa: E402
from helpers import mlp  # noqa: E402

SAMPLES = Path(__file__).resolve().parents[3] / "samples"


@pytest.fixture
def doc(qapp):
    return Document(load_network(SAMPLES / "xor.ann"))


def make_panel(qtbot, doc):
    w = DataPanel(doc)
    qtbot.addWidget(w)
    w.resize(320, 900)
    w.show()
    qtbot.waitExposed(w)
    return w


def texts(w):
    return [it.toPlainText() for it in w.preview_items() if isinstance(it, pg.TextItem)]


def lines(w):
    return [it for it in w.preview_items() if isinstance(it, pg.PlotDataItem)]


def class_of(ds, m):
    Y = ds.Y[:m]
    idx = (Y[:, 0] > 0.5).astype(int) if Y.shape[1] == 1 else Y.argmax(axis=1)
    return [ds.classes[i] for i in idx]


# ------------------------------------------------------------ parameters
def test_steps_and_vocab_editors_with_each_sets_ranges(qtbot, doc):
    w = make_panel(qtbot, doc)
    form = w.settings_form
    w.choose_builtin("digits")
    n = w.field("n_samples")
    assert (n.minimum(), n.maximum(), n.value()) == (1, 1797, 1797)
    assert not form.isRowVisible(w.field("steps")) and not form.isRowVisible(w.field("noise"))

    w.choose_builtin("pattern")
    steps, vocab = w.field("steps"), w.field("vocab")
    assert form.isRowVisible(steps) and form.isRowVisible(vocab)
    assert (steps.minimum(), steps.maximum(), steps.value()) == (2, 1000, 10)
    assert (vocab.minimum(), vocab.maximum(), vocab.value()) == (3, 1000, 6)
    assert n.maximum() == MAX_SAMPLES
    assert form.labelForField(steps).text() == "Time steps" and form.labelForField(vocab).text() == "Vocabulary"

    stack = doc.undo_stack
    count = stack.count()
    steps.setValue(12)
    vocab.setValue(8)
    assert stack.count() == count + 2
    assert doc.network.data_source["params"] == {"n_samples": 2000, "steps": 12, "vocab": 8, "seed": 0}
    ds = w.current_dataset()
    assert ds.input_shape == (12,) and ds.X.max() == 7
    stack.undo()
    assert stack.undoText() == "Set data time steps to 12"
    assert vocab.value() == 6 and doc.network.data_source["params"]["vocab"] == 6
    stack.undo()
    assert steps.value() == 10

    w.choose_builtin("sine_sequence")  # steps may be 1 here
    assert (steps.minimum(), steps.value()) == (1, 20) and not form.isRowVisible(vocab)
    w.choose_builtin("blobs")  # the blobs consistency still holds
    w.field("centers").setValue(7)
    assert n.minimum() == 7 and w.field("centers").maximum() == 20
    w.field("n_samples").setValue(9)
    assert w.field("centers").maximum() == 9


# ---------------------------------------------------------------- images
def test_image_preview_shows_the_first_samples_upright_with_their_classes(qtbot, doc):
    w = make_panel(qtbot, doc)
    w.choose_builtin("digits")
    ds = w.current_dataset()
    assert w.preview_mode() == "images"
    assert w.preview.plot.isVisible() and not w.preview.table.isVisible() and w.image_item().isVisible()
    assert w.preview.preview_note.text().startswith("First 24 of 1,797 images (8×8)")
    assert "(8, 8, 1)" in w.summary_text()
    assert texts(w) == class_of(ds, PREVIEW_IMAGES)

    img = w.image_item().image
    pics = ds.samples()[:PREVIEW_IMAGES, :, :, 0].astype(np.float64)
    t = (pics - pics.min()) / (pics.max() - pics.min())
    paper = np.array(IMAGE_PAPER.getRgb()[:3], float)
    ink = np.array(IMAGE_INK.getRgb()[:3], float)
    expected = paper + t[0][..., None] * (ink - paper)
    np.testing.assert_allclose(img[:8, :8, :3], expected, atol=1)  # sample 0 is the top left tile
    assert (img[..., 3] == 255).sum() == PREVIEW_IMAGES * 64  # 24 opaque tiles, clear between them

    # as drawn: a pixel dark in sample 0 whose mirror across the diagonal is light is dark on screen,
    # the mirror light, and row 0 lies above row 7 (upright, not transposed or flipped)
    s0 = t[0]
    r, c = max(((r, c) for r in range(8) for c in range(8)), key=lambda rc: s0[rc] - s0[rc[::-1]])
    assert s0[r, c] - s0[c, r] > 0.5
    shot = w.preview.plot.grab().toImage()

    def shade(row, col):
        scene = w.image_item().mapToScene(QPointF(col + 0.5, row + 0.5))
        p = w.preview.plot.mapFromScene(scene)
        return QColor(shot.pixel(p.x(), p.y())).lightness()

    assert shade(r, c) < 110 < shade(c, r)
    top = w.image_item().mapToScene(QPointF(0.5, 0.5)).y()
    assert top < w.image_item().mapToScene(QPointF(0.5, 7.5)).y()


def test_letters_preview_has_no_labels_and_switching_back_restores_the_scatter(qtbot, doc):
    w = make_panel(qtbot, doc)
    w.choose_builtin("letters")
    assert w.preview_mode() == "images" and texts(w) == []
    img = w.image_item().image
    first = w.current_dataset().samples()[0, :, :, 0]
    np.testing.assert_array_equal(img[:5, :5, 0] < 128, first > 0)  # +1 pixels are ink
    w.choose_builtin("moons")
    assert w.preview_mode() == "scatter" and not w.image_item().isVisible()
    assert w.preview_items() == [] and len(w.scatter_item().getData()[0]) == 200
    assert not w.preview.plot.getPlotItem().getViewBox().yInverted()
    assert w.preview.plot.getPlotItem().getAxis("left").isVisible()


# ------------------------------------------------------------- sequences
def test_class_sequences_are_lanes_coloured_by_class(qtbot, doc):
    w = make_panel(qtbot, doc)
    w.choose_builtin("parity")
    ds = w.current_dataset()
    assert w.preview_mode() == "sequences"
    assert w.preview.preview_note.text() == "First 8 of 1,000 sequences (8 steps)."
    drawn = lines(w)
    assert len(drawn) == PREVIEW_SEQUENCES
    labels = class_of(ds, PREVIEW_SEQUENCES)
    assert texts(w) == labels
    for i, item in enumerate(drawn):
        assert item.opts["pen"].color().name() == CLASS_COLORS[ds.classes.index(labels[i])].lower()
        x, y = item.getData()
        bits = ds.X[i]
        lane = PREVIEW_SEQUENCES - 1 - i  # the first sample on top
        np.testing.assert_allclose((y - lane - 0.12) / 0.72, bits, atol=1e-6)
    assert "even" in w.preview.key_label.text() and "odd" in w.preview.key_label.text()


def test_value_sequences_are_lines_over_time_with_the_target(qtbot, doc):
    w = make_panel(qtbot, doc)
    w.choose_builtin("sine_sequence")
    ds = w.current_dataset()
    drawn = lines(w)
    assert len(drawn) == PREVIEW_SEQUENCES
    for i, item in enumerate(drawn):
        x, y = item.getData()
        np.testing.assert_array_equal(x, np.arange(1, 21))
        np.testing.assert_allclose(y, ds.X[i], rtol=1e-6)
    dots = [it for it in w.preview_items() if isinstance(it, pg.ScatterPlotItem)]
    assert [float(d.getData()[0][0]) for d in dots] == [21.0] * PREVIEW_SEQUENCES
    np.testing.assert_allclose([d.getData()[1][0] for d in dots], ds.Y[:PREVIEW_SEQUENCES, 0], rtol=1e-6)
    assert len({it.opts["pen"].color().name() for it in drawn}) > 1  # coloured by the target value
    assert w.preview.key_label.text().startswith("next")


# ---------------------------------------------------------------- tokens
def test_tokens_table_and_the_standardize_warning(qtbot, doc):
    w = make_panel(qtbot, doc)
    w.choose_builtin("pattern")
    ds = w.current_dataset()
    assert w.preview_mode() == "table" and w.preview.table.isVisible() and not w.preview.plot.isVisible()
    heads = [w.preview.table.horizontalHeaderItem(c).text() for c in range(w.preview.table.columnCount())]
    assert heads == [f"t{i}" for i in range(1, 11)] + ["1 before 2"]
    assert [w.preview.table.item(0, c).text() for c in range(10)] == [str(int(v)) for v in ds.X[0]]
    assert not w.field("standardize").isChecked() and not w.preview.preview_warning.isVisible()
    w.field("standardize").setChecked(True)
    assert w.preview.preview_warning.isVisible() and TOKEN_WARNING in w.preview.preview_warning.text()
    doc.undo_stack.undo()
    assert not w.preview.preview_warning.isVisible()


def test_standardize_default_follows_the_kind_of_data(qtbot, doc):
    w = make_panel(qtbot, doc)
    std = w.field("standardize")
    w.choose_builtin("moons")
    std.setChecked(True)
    w.choose_builtin("digits")  # images are 0..1 already
    assert doc.network.data_source["standardize"] is False and not std.isChecked()
    w.choose_builtin("house_prices")  # inputs from 1..10 to tens of thousands
    assert doc.network.data_source["standardize"] is True and std.isChecked()
    w.choose_builtin("circles")  # otherwise as before
    assert doc.network.data_source["standardize"] is True
    w.choose_builtin("pattern")  # token ids must stay whole numbers
    assert doc.network.data_source["standardize"] is False
    w.choose_builtin("sine")  # one input: nothing to balance
    assert doc.network.data_source["standardize"] is False


# ------------------------------------------------------------ reconstruct
def test_targets_equal_inputs_is_one_undo_step_and_kept_by_other_edits(qtbot, doc):
    w = make_panel(qtbot, doc)
    w.choose_builtin("letters")
    box = w.field("reconstruct")
    assert box.objectName() == "data_reconstruct" and w.settings_form.isRowVisible(box)
    before = dict(doc.network.data_source)
    n = doc.undo_stack.count()
    box.click()
    assert doc.undo_stack.count() == n + 1
    src = doc.network.data_source
    assert src == {**before, "reconstruct": True}
    ds = w.current_dataset()
    np.testing.assert_array_equal(ds.Y, ds.X)
    w.field("seed").setValue(3)  # another setting keeps the option
    assert doc.network.data_source == {**before, "params": {**before["params"], "seed": 3}, "reconstruct": True}
    w.choose_builtin("digits")  # an autoencoder stays one on other data
    assert doc.network.data_source["reconstruct"] is True and texts(w) == []
    assert w.current_dataset().n_outputs == 64
    for _ in range(2):
        doc.undo_stack.undo()
    assert doc.network.data_source["reconstruct"] is True and box.isChecked()
    doc.undo_stack.undo()
    assert doc.network.data_source == before and not box.isChecked()
    assert w.current_dataset().n_outputs == 25 and w.current_dataset().task == "regression"
    box.click()
    box.click()  # off again: the key goes
    assert "reconstruct" not in doc.network.data_source


def test_autoencoder_sample_shows_the_option_checked(qtbot):
    w = make_panel(qtbot, Document(load_network(SAMPLES / "autoencoder.ann")))
    assert w.field("reconstruct").isChecked()
    assert w.current_dataset().n_outputs == 64 and w.mismatches() == {}


# ------------------------------------------------------- match the network
def image_net(first: str) -> ad.Network:
    g = ad.Graph()
    x = g.add_node("Input", units=2)
    h = g.add_node(first)
    g.connect(x, h, check_shapes=False)
    prev = h
    if first != "Flatten":
        f = g.add_node("Flatten")
        g.connect(h, f, check_shapes=False)
        prev = f
    y = g.add_node("Output", units=10, activation="softmax", loss="categorical_crossentropy")
    g.connect(prev, y, check_shapes=False)
    return ad.Network(g, strict=False)


@pytest.mark.parametrize("first", ["Conv2D", "Flatten"])
def test_fix_gives_an_image_input_when_the_next_layer_takes_images(qtbot, first):
    d = Document(image_net(first))
    w = make_panel(qtbot, d)
    w.choose_builtin("digits")
    assert set(w.mismatches()) == {"input_1"}
    assert "(8, 8, 1)" in w.fix_button.toolTip()
    w.fix_button.click()
    assert d.graph.nodes["input_1"].params["shape"] == [8, 8, 1]
    assert w.mismatches() == {}
    d.undo_stack.undo()
    assert d.graph.nodes["input_1"].params["shape"] == [2]


def test_fix_gives_a_flat_input_before_a_dense_layer(qtbot):
    d = Document(ad.Network(mlp([2, 4, 10]), strict=False))
    w = make_panel(qtbot, d)
    w.choose_builtin("digits")
    w.fix_button.click()
    assert d.graph.nodes["input_1"].params["shape"] == [64]
    assert d.graph.nodes["output_1"].params["units"] == 10


# ------------------------------------------------------------- CSV shape
def write_pixels(tmp_path):
    rows = ["p1,p2,p3,p4,p5,p6,p7,p8,label"]
    rng = np.random.default_rng(0)
    for i in range(20):
        rows.append(",".join(str(v) for v in rng.integers(0, 5, 8)) + f",{'ab'[i % 2]}")
    path = tmp_path / "pixels.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def test_csv_dialog_sample_shape(qtbot, tmp_path):
    path = write_pixels(tmp_path)
    d = CsvImportDialog(path)
    qtbot.addWidget(d)
    assert d.shape_edit.objectName() == "csv_shape" and d.shape_edit.text() == ""
    d.set_sample_shape("2, 4, 2")
    assert not d.is_valid() and not d.ok_button().isEnabled()
    assert "(2, 4, 2) holds 16 values but 8 input columns" in d.error_text()
    d.set_sample_shape("two by four")
    assert not d.is_valid() and "8, 8, 1" in d.error_text()
    d.set_sample_shape("2, 4, 1")
    assert d.is_valid() and d.dataset().input_shape == (2, 4, 1)
    src = d.source()
    assert src["input_shape"] == [2, 4, 1]
    assert load_source(src, tmp_path).input_shape == (2, 4, 1)
    again = CsvImportDialog(path, initial=src)
    qtbot.addWidget(again)
    assert again.shape_edit.text() == "2, 4, 1" and again.source() == src


def test_csv_with_a_sample_shape_in_the_panel(qtbot, tmp_path):
    d = Document(load_network(SAMPLES / "xor.ann"), path=tmp_path / "net.ann")
    w = make_panel(qtbot, d)
    dialog = CsvImportDialog(write_pixels(tmp_path), parent=w)
    dialog.set_sample_shape("2, 4, 1")
    assert w.apply_csv_dialog(dialog)
    assert w.preview_mode() == "images" and texts(w) == class_of(w.current_dataset(), 20)
    assert "(2, 4, 1)" in w.csv_inputs.text()
    w.field("standardize").setChecked(False)  # refitting keeps the shape
    assert d.network.data_source["input_shape"] == [2, 4, 1] and w.current_dataset().scaler is None
    assert w.current_dataset().input_shape == (2, 4, 1)


def test_every_builtin_set_previews_without_error(qtbot, doc):
    w = make_panel(qtbot, doc)
    kinds = {"features": {"scatter", "table"}, "image": {"images"}, "sequence": {"sequences"}, "tokens": {"table"}}
    for name, info in BUILTIN_DATASETS.items():
        d_source = {"kind": "builtin", "name": name, "params": {"n_samples": min(info.defaults["n_samples"], 60)}}
        doc.push(C.SetDataSourceCommand(doc, d_source))
        assert w.error_text() == "", name
        assert w.preview_mode() in kinds[info.input_kind], name
