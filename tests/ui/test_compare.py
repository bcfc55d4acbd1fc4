"""File ▸ Compare With…: the report of anndesigner.io.diff for the open network and a file,
an error box for a file that cannot be read, the document untouched either way."""

from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("pytestqt")

from PySide6.QtCore import Qt  # noqa: E402

import anndesigner as ad  # noqa: E402
from anndesigner.io.diff import diff_networks  # noqa: E402

SAMPLES = Path(__file__).resolve().parents[2] / "samples"


def _edited(tmp_path):
    net = ad.Network.load(SAMPLES / "xor.ann")
    net.graph.set_params("dense_1", units=3)
    net.set_weights({"output_1/bias": net.get_weights()["output_1/bias"] + np.float32(0.5)})
    path = tmp_path / "other.ann"
    net.save(path)
    return path


def test_the_file_menu_offers_compare(main_window):
    w = main_window()
    file_menu = w.menuBar().actions()[0].menu()
    assert w.compare.action in file_menu.actions()
    assert w.compare.action.text() == "Co&mpare With…"


def test_compare_shows_the_report_of_the_diff(qtbot, main_window, tmp_path):
    w = main_window()
    assert w.open_file(SAMPLES / "xor.ann", ask=False)
    other = _edited(tmp_path)
    w.compare.ask_path = lambda: str(other)
    w.compare.action.trigger()
    assert w.errors == []
    dlg = w.compare.dialog
    assert dlg is not None and dlg.isVisible()
    want = diff_networks(ad.Network.load(SAMPLES / "xor.ann"), ad.Network.load(other),
                         a_name="xor.ann", b_name="other.ann")
    assert dlg.text.toPlainText() == want.to_text()
    assert "  dense_1  units  4 → 3" in dlg.text.toPlainText().splitlines()
    # dense_1's kernel and bias and output_1's kernel change shape; output_1's bias its values
    assert [x.name for x in want.weights_changed] == ["dense_1/kernel", "dense_1/bias", "output_1/kernel",
                                                      "output_1/bias"]
    assert dlg.summary.text() == "From xor.ann (open) to other.ann: 1 node changed, 4 weight tensors changed"
    dlg.grab().save("/tmp/s8/compare.png")
    qtbot.mouseClick(dlg.close_button, Qt.MouseButton.LeftButton)
    assert not dlg.isVisible()
    assert w.document.undo_stack.isClean() and w.document.network.graph.nodes["dense_1"].params["units"] == 4


def test_the_same_network(main_window):
    w = main_window()
    assert w.open_file(SAMPLES / "xor.ann", ask=False)
    assert w.compare.compare(SAMPLES / "xor.ann")
    assert w.compare.dialog.text.toPlainText() == "The networks are the same: structure, settings and weights."
    w.compare.dialog.close()


def test_a_damaged_file_is_said_and_nothing_changes(main_window, tmp_path):
    w = main_window()
    assert w.open_file(SAMPLES / "xor.ann", ask=False)
    bad = tmp_path / "broken.ann"
    bad.write_bytes(b"not a zip")
    w.compare.ask_path = lambda: str(bad)
    w.compare.action.trigger()
    assert len(w.errors) == 1 and "broken.ann" in w.errors[0] and w.compare.dialog is None
    assert w.document.undo_stack.isClean()
    w.errors.clear()
    w.compare.ask_path = lambda: None  # the file dialog cancelled
    assert not w.compare.compare_dialog() and w.errors == []
