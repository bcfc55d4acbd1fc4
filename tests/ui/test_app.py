from pathlib import Path

import pytest

pytest.importorskip("PySide6")

from anndesigner.ui import app as appmod  # noqa: E402

SAMPLES = Path(__file__).resolve().parents[2] / "samples"


def test_window_opens_a_sample(qtbot):
    w = appmod.PlaceholderWindow(str(SAMPLES / "xor.ann"))
    qtbot.addWidget(w)
    assert w.windowTitle() == "xor.ann — ANN Designer"
    assert "17 parameters" in w.summary.toPlainText()
    assert w.network is not None and len(w.network.graph.nodes) == 3


def test_bad_file_shows_the_message_and_keeps_the_document(qtbot, tmp_path, monkeypatch):
    shown = []
    monkeypatch.setattr(appmod.QMessageBox, "critical", lambda parent, title, text: shown.append(text))
    w = appmod.PlaceholderWindow(str(SAMPLES / "xor.ann"))
    qtbot.addWidget(w)
    bad = tmp_path / "bad.ann"
    bad.write_bytes(b"not a zip")
    assert w.open(str(bad)) is False
    assert shown == ["bad.ann: not a network file (it is not a zip archive)"]
    assert w.windowTitle() == "xor.ann — ANN Designer"
