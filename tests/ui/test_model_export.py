"""File ▸ Export Model through the window: the files are written where the user
chose, what cannot be exported is said in an error box, and the document is
untouched either way."""

import importlib.util
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("pytestqt")

from anndesigner.ui.model_export import FORMATS, default_name  # noqa: E402

SAMPLES = Path(__file__).resolve().parents[2] / "samples"


def test_default_names_are_files_a_user_expects():
    assert default_name(None, Path("/a/xor.ann"), ".py") == "xor.py"
    assert default_name("Handwritten digits (8×8)", None, ".onnx") == "Handwritten_digits_8_8.onnx"
    assert default_name(None, None, ".py") == "model.py"
    assert default_name("2-4-1 net", None, ".py") == "model_2-4-1_net.py"


def test_the_menu_offers_every_format(main_window):
    w = main_window()
    texts = [a.text() for a in w.model_export.menu.actions()]
    assert texts == [FORMATS[f][0] for f in ("pytorch", "onnx", "numpy")]
    assert w.model_export.menu.menuAction() in w.menuBar().actions()[0].menu().actions()


def test_numpy_export_from_the_menu_writes_a_script_that_predicts_like_the_network(qtbot, main_window, tmp_path):
    pytest.importorskip("anndesigner.interop.numpy_export", reason="the NumPy exporter is not there")
    w = main_window()
    assert w.open_file(SAMPLES / "xor.ann", ask=False)
    target = tmp_path / "xor_numpy"
    w.model_export.ask_path = lambda fmt: str(target)
    w.model_export.actions["numpy"].trigger()
    assert w.errors == []
    script = tmp_path / "xor_numpy.py"
    assert script in w.model_export.last_written and script.is_file()
    assert "xor_numpy.py" in w.statusBar().currentMessage()
    spec = importlib.util.spec_from_file_location("xor_numpy", script)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    x = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]], np.float32)
    net = w.document.network
    want = net.predict(x)  # xor is not standardized: raw rows are the rows it trains on
    np.testing.assert_allclose(np.asarray(mod.forward(x)).reshape(want.shape), want, atol=1e-5)
    assert w.document.undo_stack.isClean()


def test_what_cannot_be_exported_is_said_and_nothing_changes(qtbot, main_window, tmp_path, monkeypatch):
    w = main_window()
    assert w.open_file(SAMPLES / "xor.ann", ask=False)
    import anndesigner.interop as interop

    def missing(module, purpose):
        raise interop.InteropError(f"{purpose} needs the Python package '{module}', which is not installed")

    monkeypatch.setattr(interop, "export", lambda net, to, out: missing("onnx", "ONNX export"))
    w.model_export.ask_path = lambda fmt: str(tmp_path / "x.onnx")
    w.model_export.actions["onnx"].trigger()
    assert w.errors and "onnx" in w.errors[-1] and "not installed" in w.errors[-1]
    assert list(tmp_path.iterdir()) == [] and w.document.undo_stack.isClean()
    # cancelling the file dialog does nothing
    w.errors.clear()
    w.model_export.ask_path = lambda fmt: None
    assert not w.model_export.export_dialog("pytorch") and w.errors == []
