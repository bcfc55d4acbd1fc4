"""The Weights tab's layer menu names the open network's layers, also when the
network opened before it used the same node ids under other labels."""

from pathlib import Path

import pytest

pytest.importorskip("pytestqt")

SAMPLES = Path(__file__).resolve().parents[3] / "samples"


def layer_items(w):
    c = w.plots.layer_combo
    return [(c.itemData(i), c.itemText(i)) for i in range(c.count())]


def test_the_layer_menu_follows_the_new_documents_labels(qtbot, main_window):
    w = main_window()
    assert w.open_file(SAMPLES / "tiny-transformer.ann", ask=False)
    before = dict(layer_items(w))
    assert "1 before 2?" in before["output_1"]
    assert w.open_file(SAMPLES / "xor.ann", ask=False)
    after = dict(layer_items(w))
    assert set(after) == {"dense_1", "output_1"}
    assert "x₁ XOR x₂" in after["output_1"] and "1 before 2?" not in after["output_1"]
    # a renamed layer is renamed in the menu too, by the edit alone
    from anndesigner.ui import commands as C

    doc = w.document
    doc.push(C.SetLabelCommand(doc, "dense_1", "tanh layer"))
    qtbot.waitUntil(lambda: "tanh layer" in dict(layer_items(w))["dense_1"], timeout=2000)
    doc.undo_stack.undo()
    qtbot.waitUntil(lambda: "tanh layer" not in dict(layer_items(w))["dense_1"], timeout=2000)
