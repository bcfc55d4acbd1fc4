"""Explain mode in the window: F7, the dock, the rings on the canvas, and the
canvas still editable under them (events at realistic positions)."""

from pathlib import Path

import numpy as np
from PySide6.QtCore import QPointF, Qt
from PySide6.QtTest import QTest

SAMPLES = Path(__file__).resolve().parents[3] / "samples"


def test_f7_explains_and_rings_follow_the_steps(qtbot, main_window):
    w = main_window()
    w.open_file(SAMPLES / "xor.ann", ask=False)
    w.view.fit_to_window()
    w.activateWindow()
    qtbot.waitUntil(w.isActiveWindow)
    QTest.keyClick(w.view.viewport(), Qt.Key.Key_F7)
    ex = w.explain
    assert ex.dock.isVisible() and ex.panel.trace is not None
    p = ex.panel
    # at the Input: one ring, around the input node's item
    assert list(ex.highlight.rings) == [p.stepper.frame.node_id]
    while p.stepper.frame.node_id != "dense_1":
        qtbot.mouseClick(p.b_next, Qt.MouseButton.LeftButton)
    ring = ex.highlight.rings["dense_1"]
    item = w.scene.node_item("dense_1")
    assert ring.sceneBoundingRect().contains(item.sceneBoundingRect())
    # clicking the node near its corner, inside the ring, still selects it (the ring takes no mouse)
    r = item.sceneBoundingRect()
    corner = w.view.mapFromScene(QPointF(r.left() + 12, r.top() + 14))
    QTest.mouseClick(w.view.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, corner)
    assert w.scene.selected_node_ids() == ["dense_1"]
    # hiding the dock leaves the canvas as it was
    ex.dock.hide()
    assert ex.highlight.rings == {}
    assert not [it for it in w.scene.items() if it.data(0) == "explain-ring"]
    assert not w.document.modified


def test_a_new_document_clears_the_explanation(qtbot, main_window):
    w = main_window()
    w.open_file(SAMPLES / "xor.ann", ask=False)
    assert w.explain.start()
    w.open_file(SAMPLES / "spirals.ann", ask=False)
    assert w.explain.panel.trace is None and w.explain.highlight.rings == {}
    assert w.explain.start()
    ids = {n.node_id for n in w.explain.panel.trace.nodes}
    assert ids == set(w.document.graph.nodes)


def test_digits_cnn_steps_through_in_the_window(qtbot, main_window):
    w = main_window()
    w.open_file(SAMPLES / "digits-cnn.ann", ask=False)
    assert w.explain.start()
    p = w.explain.panel
    p.granularity.setCurrentIndex(p.granularity.findData("node"))
    steps = 0
    while p.b_next.isEnabled() and steps < 200:
        qtbot.mouseClick(p.b_next, Qt.MouseButton.LeftButton)
        steps += 1
    assert p.stepper.at_end() and "loss after" in p.view.toPlainText()
    assert np.isfinite(p.trace.loss_after)


def test_clicking_a_point_on_the_decision_surface_explains_that_row(qtbot, main_window):
    w = main_window(size=(1400, 900))
    w.open_file(SAMPLES / "xor.ann", ask=False)
    surf = w.surface
    qtbot.waitUntil(lambda: len(surf.train_points.data) > 0)
    data = w.document.dataset()
    spots = surf.train_points.points()
    target = spots[-1]
    row = int(target.data())
    np.testing.assert_allclose(data.X[row], [target.pos().x(), target.pos().y()])
    # a real click at that point's position on the screen
    view = surf.plot_widget
    scene_pt = surf.plot.getViewBox().mapViewToScene(target.pos())
    QTest.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                     view.mapFromScene(scene_pt))
    qtbot.waitUntil(lambda: w.explain.panel.trace is not None)
    assert w.explain.panel.row.value() == row
    np.testing.assert_allclose(w.explain.panel.trace.sample.reshape(-1), data.X[row])
