"""The canvas follows training and the document by itself: node thumbnails (only for a
network of two inputs, without compiling or copying any other) and a session's
snapshots on the wires."""

from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("PySide6")

import anndesigner as ad  # noqa: E402
from anndesigner.ui.canvas import thumbnails  # noqa: E402
from anndesigner.ui.canvas.thumbnails import THUMB_SIZE, NodeThumbnails, takes_two_inputs  # noqa: E402
from anndesigner.ui.document import Document  # noqa: E402
from helpers import laid_out, mlp  # noqa: E402

SAMPLES = Path(__file__).resolve().parents[3] / "samples"
BOUNDS = (-1.0, 1.0, -1.0, 1.0)


@pytest.fixture
def made(monkeypatch):
    """Every SurfaceEvaluator the thumbnails build, and every copy of a network they take."""
    built, copies = [], []
    real_eval, real_snapshot = thumbnails.SurfaceEvaluator, ad.Network.snapshot
    monkeypatch.setattr(thumbnails, "SurfaceEvaluator", lambda net: built.append(net) or real_eval(net))
    monkeypatch.setattr(ad.Network, "snapshot", lambda self: copies.append(self) or real_snapshot(self))
    return built, copies


def test_takes_two_inputs_reads_the_graph():
    assert takes_two_inputs(mlp([2, 3, 1]))
    assert not takes_two_inputs(mlp([3, 3, 1]))
    assert not takes_two_inputs(ad.Graph())
    g = ad.Graph()
    a, b = g.add_node("Input", units=1), g.add_node("Input", units=1)
    assert takes_two_inputs(g)
    g.set_params(b, shape=[1, 1])  # not flat
    assert not takes_two_inputs(g)


def test_thumbnails_of_a_two_input_network(canvas, made):
    built, copies = made
    doc, scene, view = canvas(laid_out(mlp([2, 3, 1])))
    thumbs = NodeThumbnails(scene, lambda: BOUNDS)
    assert len(built) == 1 and thumbs.evaluator is not None and thumbs.evaluator.is_2d
    img = scene._thumbnails("dense_1")
    assert img.width() == THUMB_SIZE and img.height() == THUMB_SIZE
    assert "data:image/png" in scene.node_tooltip("dense_1")
    # new weights: a fresh copy; a move (no structural edit): none
    doc.editor.reset_weights()
    assert len(built) == 2
    doc.editor.move_nodes({"dense_1": (doc.graph.nodes["dense_1"].position, (5.0, 5.0))})
    assert len(built) == 2
    # three inputs now: no thumbnails, and nothing compiled or copied for them
    built.clear()
    copies.clear()
    doc.editor.set_params({"input_1": {"shape": [3]}})
    assert built == [] and copies == [] and thumbs.evaluator is None
    assert scene._thumbnails is None and "data:image/png" not in scene.node_tooltip("dense_1")
    doc.undo_stack.undo()
    assert len(built) == 1 and scene._thumbnails is not None
    thumbs.detach()
    doc.editor.reset_weights()
    assert len(built) == 1  # no longer following


def test_no_thumbnails_for_other_networks(canvas, made):
    built, copies = made
    doc, scene, view = canvas(laid_out(mlp([3, 4, 2])))
    NodeThumbnails(scene, lambda: BOUNDS)
    doc.editor.reset_weights()
    doc.editor.set_params({"dense_1": {"units": 5}})
    doc.editor.set_data_source({"kind": "builtin", "name": "xor"})
    assert built == [] and copies == [] and scene._thumbnails is None


def test_the_scene_shows_a_sessions_snapshots_then_the_documents_weights(canvas, qtbot):
    from anndesigner.ui.training.controller import TrainingController

    doc, scene, view = canvas(Document.open(SAMPLES / "xor.ann"))
    doc.editor.set_training(epochs=50, learning_rate=0.1, optimizer="sgd", optimizer_params={})
    controller = TrainingController(doc)
    scene.set_training(controller)
    snaps = []
    controller.snapshotReady.connect(snaps.append)
    assert controller.start(paused=True)
    controller.step()
    qtbot.waitUntil(lambda: bool(snaps) and snaps[-1].step >= 1, timeout=30000)
    snap = snaps[-1]
    assert controller.state == "paused" and doc.locked
    assert scene.shown_weights() is snap.weights
    some = next(iter(snap.activations))
    assert "Activation" in scene.node_tooltip(some, thumbnail=False)
    controller.stop()
    qtbot.waitUntil(lambda: controller.state == "idle", timeout=30000)
    want = doc.network.get_weights()
    shown = scene.shown_weights()
    assert shown is not snaps[-1].weights and set(shown) == set(want)
    for k, v in want.items():
        np.testing.assert_array_equal(shown[k], v)
    assert "Activation" not in scene.node_tooltip(some, thumbnail=False)
    scene.set_training(None)
    controller.snapshotReady.emit(snap)
    assert scene.shown_weights() is shown  # no longer following
