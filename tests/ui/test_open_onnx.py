"""File ▸ Open reads an ONNX model: it opens as a new untitled, modified document (Save asks for a
.ann name); a model that cannot be imported shows the error and keeps the current document."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

onnx = pytest.importorskip("onnx", reason="importing ONNX models needs the 'onnx' package (the interop extra)")
ort = pytest.importorskip("onnxruntime", reason="checking the import needs onnxruntime (the interop extra)")

from onnx import TensorProto, helper, numpy_helper  # noqa: E402

import anndesigner as ad  # noqa: E402


def _model(path, *, bad: bool = False):
    rng = np.random.default_rng(0)
    inits = {"W1": rng.standard_normal((5, 3)).astype(np.float32), "b1": rng.standard_normal(5).astype(np.float32),
             "W2": rng.standard_normal((2, 5)).astype(np.float32), "b2": rng.standard_normal(2).astype(np.float32)}
    act = helper.make_node("NonZero" if bad else "Tanh", ["h"], ["t"], name="odd_op" if bad else "act")
    nodes = [helper.make_node("Gemm", ["x", "W1", "b1"], ["h"], transB=1, name="hidden"), act,
             helper.make_node("Gemm", ["t", "W2", "b2"], ["z"], transB=1, name="scores"),
             helper.make_node("Softmax", ["z"], ["y"], axis=-1, name="probabilities")]
    g = helper.make_graph(nodes, "two_class_mlp", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 3])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 2])],
                          initializer=[numpy_helper.from_array(v, k) for k, v in inits.items()])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)], doc_string="A small classifier.")
    m.ir_version = 8
    onnx.save(m, str(path))
    return path


def test_open_onnx_makes_an_untitled_modified_document(main_window, tmp_path, monkeypatch):
    from PySide6.QtWidgets import QFileDialog

    w = main_window()
    path = _model(tmp_path / "classifier.onnx")
    asked = {}

    def fake_open(parent, caption, start, filt):
        asked["filter"] = filt
        return str(path), ""

    monkeypatch.setattr(QFileDialog, "getOpenFileName", fake_open)
    assert w.open_dialog()
    assert "*.onnx" in asked["filter"].split(";;")[0] and "*.ann" in asked["filter"].split(";;")[0]
    doc = w.document
    assert doc.path is None and doc.modified
    assert w.windowTitle().startswith("Untitled")
    assert w.isWindowModified()
    nodes = list(doc.graph.nodes.values())
    assert [n.type_id for n in nodes] == ["Input", "Dense", "Output"]
    assert nodes[1].params["activation"] == "tanh" and nodes[2].params["activation"] == "softmax"
    assert doc.graph.meta["title"] == "two_class_mlp"
    assert doc.graph.meta["description"] == "A small classifier."
    # the scene shows every node, and the network computes what onnxruntime computes
    assert {it.node_id for it in w.scene.node_items()} == set(doc.graph.nodes)
    assert len(list(w.scene.edge_items())) == 2
    x = np.random.default_rng(1).standard_normal((9, 3)).astype(np.float32)
    ref = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"]).run(None, {"x": x})[0]
    np.testing.assert_allclose(doc.network.predict(x), ref, atol=1e-5, rtol=0)

    # Save asks for a name (the model is not overwritten) and writes a .ann that opens again
    saved_as = {}

    def fake_save(parent, caption, start, filt):
        saved_as["start"] = start
        return str(tmp_path / "classifier_copy"), ""

    monkeypatch.setattr(QFileDialog, "getSaveFileName", fake_save)
    assert w.save()
    assert "start" in saved_as
    assert doc.path == tmp_path / "classifier_copy.ann" and not doc.modified
    again = ad.Network.load(tmp_path / "classifier_copy.ann")
    np.testing.assert_allclose(again.predict(x), ref, atol=1e-5, rtol=0)
    assert path.read_bytes() == _model(tmp_path / "fresh.onnx").read_bytes()  # the .onnx is untouched


def test_an_onnx_model_that_cannot_be_imported_keeps_the_current_document(main_window, tmp_path):
    w = main_window()
    before = w.document
    nodes_before = dict(before.graph.nodes)
    bad = _model(tmp_path / "odd.onnx", bad=True)
    assert not w.open_file(bad)
    assert len(w.errors) == 1
    assert "NonZero" in w.errors[0] and "'odd_op'" in w.errors[0]
    assert w.document is before and before.graph.nodes == nodes_before
    (tmp_path / "garbage.onnx").write_bytes(b"\x00\x01 not a model at all" * 10)
    assert not w.open_file(tmp_path / "garbage.onnx")
    assert len(w.errors) == 2 and "not an ONNX model" in w.errors[1]
    assert w.document is before


def test_an_ann_file_still_opens_as_itself(main_window, tmp_path):
    w = main_window()
    sample = tmp_path / "xor.ann"
    ad.Network.load(Path(__file__).resolve().parents[2] / "samples" / "xor.ann").save(sample)
    assert w.open_file(sample)
    assert w.document.path == sample and not w.document.modified
