"""Output maps on the nodes (issue 12, like TensorFlow Playground): each unit's output
over the input plane, from one forward pass of MAP_GRID² points per refresh, only for
networks of two inputs and nodes of at most MAX_MAP_UNITS units."""

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

pytest.importorskip("PySide6")

from PySide6.QtCore import QObject, Signal  # noqa: E402

from anndesigner.ui.canvas.thumbnails import MAP_GRID, NodeThumbnails  # noqa: E402
from anndesigner.ui.document import Document  # noqa: E402
from anndesigner.ui.training.surface import SurfaceEvaluator  # noqa: E402
from helpers import laid_out, mlp  # noqa: E402

SAMPLES = Path(__file__).resolve().parents[3] / "samples"
BOUNDS = (-0.2, 1.2, -0.2, 1.2)
N = MAP_GRID


class FakeRun(QObject):
    """Stands for a TrainingController: a run that is active and sends snapshots."""
    snapshotReady = Signal(object)
    finished = Signal(object)

    def is_active(self):
        return True


def xor_neurons(canvas):
    doc, scene, view = canvas(Document.open(SAMPLES / "xor.ann"))
    doc.editor.expand("dense_1")
    return doc, scene


def sign_pattern(img):
    """+1 where the pixel is blue-ish (positive), -1 where red-ish (negative), in grid order."""
    out = np.zeros((N, N))
    for i in range(N):          # grid row i = y index, drawn with row 0 at the bottom
        for j in range(N):
            c = img.pixelColor(j, N - 1 - i)
            out[i, j] = np.sign(c.blue() - c.red())
    return out


def test_neuron_maps_show_the_sign_of_the_neurons_output(canvas, qtbot):
    doc, scene = xor_neurons(canvas)
    thumbs = NodeThumbnails(scene, lambda: BOUNDS)
    neurons = [n for n in doc.graph.nodes if n.startswith("neuron")]
    assert len(neurons) == 4
    _, _, pts = SurfaceEvaluator.grid(BOUNDS, N)
    # the network's own forward pass on the grid points, computed here
    outs = doc.network.forward_all(pts)
    checked = 0
    for nid in neurons:
        item = scene.node_item(nid)
        assert item.output_maps is not None and len(item.output_maps) == 1
        img = item.output_maps[0]
        assert (img.width(), img.height()) == (N, N)
        v = np.asarray(outs[nid]).reshape(N, N)
        pat = sign_pattern(img)
        clear = np.abs(v) > 0.05 * np.abs(v).max()  # away from zero, where the colour is near white
        np.testing.assert_array_equal(pat[clear], np.sign(v[clear]))
        checked += int(clear.sum())
    assert checked > 4 * N * N // 2
    assert thumbs.map_refreshes >= 1


def test_maps_follow_new_weights_and_snapshots_throttled(canvas, qtbot):
    doc, scene = xor_neurons(canvas)
    thumbs = NodeThumbnails(scene, lambda: BOUNDS)
    item = scene.node_item("neuron_1")

    def pixels():
        img = item.output_maps[0]
        return [img.pixelColor(x, y).rgb() for x in range(0, N, 3) for y in range(0, N, 3)]

    before = pixels()
    doc.editor.reset_weights()
    after_reset = pixels()
    assert after_reset != before
    # a training snapshot: new weights (negated) arrive, the maps follow, at most every MAPS_INTERVAL
    run = FakeRun()
    thumbs.set_training(run)
    w = {k: -v for k, v in doc.network.get_weights().items()}
    n0 = thumbs.map_refreshes
    for _ in range(20):  # a burst of snapshots gives one refresh now and one when the interval ends
        run.snapshotReady.emit(SimpleNamespace(weights=w))
    assert thumbs.map_refreshes - n0 <= 1
    qtbot.waitUntil(lambda: pixels() != after_reset, timeout=3000)
    qtbot.wait(300)
    assert thumbs.map_refreshes - n0 <= 2


def test_toggle_off_restores_the_cards(canvas):
    doc, scene, view = canvas(laid_out(mlp([2, 5, 1])))
    item = scene.node_item("dense_1")
    thumbs = NodeThumbnails(scene, lambda: BOUNDS)
    thumbs.set_maps_enabled(False)
    plain = item.boundingRect()
    port = item.out_port_scene()
    thumbs.set_maps_enabled(True)
    assert len(item.output_maps) == 5
    grown = item.boundingRect()
    assert grown.height() > plain.height() and grown.width() == plain.width()
    assert item.out_port_scene() == port  # the ports stay where the wires attach
    assert item.port_at(port) == "out"
    thumbs.set_maps_enabled(False)
    assert item.output_maps is None and item.boundingRect() == plain
    assert all(i.output_maps is None for i in scene.node_items())


def test_no_maps_without_two_inputs(canvas):
    doc, scene, view = canvas(laid_out(mlp([3, 4, 1])))
    thumbs = NodeThumbnails(scene, lambda: BOUNDS)
    assert thumbs.evaluator is None and thumbs.map_refreshes == 0
    assert all(i.output_maps is None for i in scene.node_items())


def test_wide_layer_shows_no_maps(canvas):
    """A Dense of 100 units (> MAX_MAP_UNITS) shows none; its neighbours still do."""
    doc, scene, view = canvas(laid_out(mlp([2, 100, 3])))
    NodeThumbnails(scene, lambda: BOUNDS)
    assert scene.node_item("dense_1").output_maps is None
    assert len(scene.node_item("output_1").output_maps) == 3


def test_window_toggle_is_remembered(main_window):
    from PySide6.QtCore import QSettings
    w = main_window()
    w.open_file(SAMPLES / "xor.ann", ask=False)
    assert w.act_output_maps.isChecked()
    assert w.scene.node_item("dense_1").output_maps is not None
    w.act_output_maps.trigger()
    assert w.scene.node_item("dense_1").output_maps is None
    assert w.settings.value("outputMaps") in (False, "false")
    w2 = main_window(settings=QSettings(w.settings.fileName(), QSettings.Format.IniFormat))
    assert not w2.act_output_maps.isChecked()
