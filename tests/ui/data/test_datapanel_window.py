"""A network file whose CSV path is a FIFO, a device or a huge sparse file opens in the
window without its data: the graph is there, the data panel says why, nothing blocks
and the event loop keeps running."""

import os
from pathlib import Path

import pytest

pytest.importorskip("PySide6")

from PySide6.QtCore import QTimer  # noqa: E402

import anndesigner as ad  # noqa: E402

SAMPLES = Path(__file__).resolve().parents[3] / "samples"


@pytest.fixture
def window(main_window):
    return main_window()


def network_naming(tmp_path, data_path) -> Path:
    net = ad.load(SAMPLES / "xor.ann")
    net.data_source = {"kind": "csv", "path": str(data_path), "inputs": ["a", "b"], "targets": ["y"],
                       "task": "classification", "standardize": False, "header": True, "delimiter": ","}
    f = tmp_path / "net.ann"
    net.save(f)
    return f


def special_path(kind, tmp_path) -> Path:
    if kind == "fifo":
        if not hasattr(os, "mkfifo"):
            pytest.skip("no FIFOs here")
        p = tmp_path / "data.csv"
        os.mkfifo(p)
        return p
    if kind == "sparse":
        p = tmp_path / "data.csv"
        with open(p, "wb") as f:
            f.truncate(10 * 2**30)
        return p
    p = Path(kind)
    if not p.exists():
        pytest.skip(f"no {kind} here")
    return p


@pytest.mark.parametrize("kind,words", [("fifo", "pipe"), ("/dev/zero", "device"), ("sparse", "200 MB")])
def test_the_window_opens_the_network_without_its_data(qtbot, window, tmp_path, kind, words):
    data = special_path(kind, tmp_path)
    f = network_naming(tmp_path, data)
    assert window.open_file(f, ask=False)  # returns: nothing blocked on the path
    assert window.errors == []  # the network itself is fine: no error box
    doc = window.document
    assert set(doc.graph.nodes) == {"input_1", "dense_1", "output_1"}
    assert doc.network.data_source["path"] == str(data)  # kept: saving loses nothing
    panel = window.data_panel
    text = panel.error_text()
    assert str(data) in text and words in text
    assert panel.preview.error_label.isVisible() and panel.current_dataset() is None
    assert panel.summary_text() == "No data loaded"
    # the event loop runs on: a timer fires
    fired = []
    QTimer.singleShot(0, lambda: fired.append(True))
    qtbot.waitUntil(lambda: fired == [True], timeout=2000)
    # and the canvas shows the graph
    assert len(list(window.scene.node_items())) == 3
