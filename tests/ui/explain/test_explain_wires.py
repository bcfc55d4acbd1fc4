"""Explain mode's wires on the canvas: the value travelling forward, the
gradient's sign and size backward, all numbers from the engine's trace, drawn
by items of its own that never take a click."""

import math
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QColor
from PySide6.QtTest import QTest

from anndesigner.ui.explain.overlay import RING
from anndesigner.ui.explain.stages import num
from anndesigner.ui.explain.wires import (GRAD_BLOCK, GRAD_MAX_WIDTH, GRAD_NEGATIVE, GRAD_POSITIVE, GRAD_ZERO, TAG,
                                          WireStroke)

SAMPLES = Path(__file__).resolve().parents[3] / "samples"
#: row 1 of XOR, (0, 1) → 1: gradients of both signs on these samples
ROW = 1


def explained(main_window, qtbot, name):
    w = main_window()
    w.open_file(SAMPLES / name, ask=False)
    w.view.set_zoom(1.0)
    w.explain.panel.row.setValue(ROW)
    assert w.explain.start()
    return w


def step_to(qtbot, w, pred, limit=200):
    p = w.explain.panel
    for _ in range(limit):
        if pred(p.stepper.frame):
            return p.stepper.frame
        assert p.b_next.isEnabled(), "no such frame"
        qtbot.mouseClick(p.b_next, Qt.MouseButton.LeftButton)
    raise AssertionError("no such frame")


def overlay_items(scene):
    return [it for it in scene.items() if it.data(0) == TAG]


def nearest_percent(path, pos, n=400):
    """Where along ``path`` (0..1 of its length) the point nearest ``pos`` is, and its distance."""
    best = (math.inf, 0.0)
    length = path.length()
    for i in range(n + 1):
        q = path.pointAtPercent(path.percentAtLength(length * i / n))
        d = math.hypot(q.x() - pos.x(), q.y() - pos.y())
        best = min(best, (d, i / n))
    return best[1], best[0]


def expected_gradient(scene, trace, edge_id):
    """(number, block) on a wire, straight from the trace: the kernel rows' gradient, else
    the source's δ; one value signed, a block by its size ‖g‖."""
    e = scene.graph.edges[edge_id]
    ww = scene.wire_weights(edge_id)
    if ww is not None:
        g = np.asarray(trace.weight(f"{e.dst}/kernel").grad, np.float64)[ww.start:ww.stop]
    else:
        d = trace.delta(e.src).delta
        if d is None:
            return None
        g = np.asarray(d, np.float64)
    return (float(g.reshape(())), False) if g.size == 1 else (float(np.linalg.norm(g)), True)


@pytest.mark.parametrize("name", ["xor-neurons.ann", "xor.ann"])
def test_forward_frames_light_exactly_their_wires_and_the_dot_travels(qtbot, main_window, name):
    w = explained(main_window, qtbot, name)
    p, scene, wires = w.explain.panel, w.scene, w.explain.wires
    styles = {it.edge_id: it.weight_style() for it in scene.edge_items()}
    own = len([it for it in scene.items() if it.data(0) != TAG])
    checked = 0
    while p.stepper.frame.phase == "forward":
        f = p.stepper.frame
        want = {e.id for e in scene.graph.edges.values() if e.dst == f.node_id and e.src in f.wires_from}
        assert set(wires.wires) == want
        assert (not want) == (not f.wires_from)
        for eid in want:
            ov = wires.wires[eid]
            src = scene.graph.edges[eid].src
            assert ov.line.pen().color() == RING
            assert ov.path == scene.edge_item(eid).path()
            value = np.asarray(p.trace.node(src).output)
            if value.size == 1:
                assert ov.label is not None and ov.label.text() == num(value.reshape(-1)[0])
            else:
                assert ov.label is None
            checked += 1
        qtbot.mouseClick(p.b_next, Qt.MouseButton.LeftButton)
    assert checked >= 1
    # the scene's own items are as they were
    assert {it.edge_id: it.weight_style() for it in scene.edge_items()} == styles
    assert len([it for it in scene.items() if it.data(0) != TAG]) == own

    # the dot moves along its wire from the source to the destination
    qtbot.mouseClick(p.b_start, Qt.MouseButton.LeftButton)
    f = step_to(qtbot, w, lambda f: f.phase == "forward" and bool(f.wires_from))
    eid = sorted(wires.wires)[0]
    ov = wires.wires[eid]
    t0, d0 = nearest_percent(ov.path, ov.marker.pos())
    assert d0 < 0.5 and t0 < 0.5
    first = QPointF(ov.marker.pos())
    qtbot.waitUntil(lambda: ov.marker.pos() != first)
    t1, d1 = nearest_percent(ov.path, ov.marker.pos())
    assert d1 < 0.5 and t1 > t0
    qtbot.waitUntil(lambda: not wires.running())
    t2, d2 = nearest_percent(ov.path, ov.marker.pos())
    assert d2 < 0.5 and t2 == 1.0 and wires.progress == 1.0
    # the next frame (z): no wire lit, and nothing of the last frame left
    qtbot.mouseClick(p.b_next, Qt.MouseButton.LeftButton)
    assert not p.stepper.frame.wires_from
    assert wires.wires == {} and overlay_items(scene) == [] and not wires.running()


@pytest.mark.parametrize("name", ["xor-neurons.ann", "xor.ann"])
def test_backward_frames_show_each_wires_gradient_from_the_trace(qtbot, main_window, name):
    w = explained(main_window, qtbot, name)
    p, scene, wires = w.explain.panel, w.scene, w.explain.wires
    step_to(qtbot, w, lambda f: f.phase == "backward")
    seen_signs = set()
    frames = 0
    while p.stepper.frame.phase == "backward":
        f = p.stepper.frame
        want, block = {}, {}
        for e in scene.graph.edges.values():
            if e.dst == f.node_id:
                got = expected_gradient(scene, p.trace, e.id)
                if got is not None:
                    want[e.id] = got[0]
                    block[e.id] = got[1]
        assert set(wires.wires) == set(want)
        for eid, g in want.items():
            ov = wires.wires[eid]
            assert ov.gradient == pytest.approx(g, rel=1e-12, abs=0)
            color = ov.line.pen().color()
            if block[eid]:
                assert ov.label.text() == f"‖g‖ {num(g)}" and g >= 0
                assert color == (GRAD_BLOCK if g > 0 else GRAD_ZERO)
                seen_signs.add("block")
            else:
                assert ov.label.text() == num(g)
                assert color == (GRAD_POSITIVE if g > 0 else GRAD_NEGATIVE if g < 0 else GRAD_ZERO)
                seen_signs.add(np.sign(g))
            assert ov.label.color() == color
        if want:
            frames += 1
            order = sorted(want, key=lambda e: abs(want[e]))
            widths = [wires.wires[e].line.pen().widthF() for e in order]
            assert widths == sorted(widths)
            assert widths[-1] == GRAD_MAX_WIDTH
            if len(order) > 1 and abs(want[order[0]]) < abs(want[order[-1]]):
                assert widths[0] < widths[-1]
        qtbot.mouseClick(p.b_next, Qt.MouseButton.LeftButton)
    assert frames >= 2
    # neuron by neuron every wire is one signed weight; the layer version's wires are blocks
    assert ({-1.0, 1.0} <= seen_signs) if name == "xor-neurons.ann" else ("block" in seen_signs)
    # loss and update frames light no wire
    assert p.stepper.frame.phase == "update" and wires.wires == {}
    qtbot.mouseClick(p.b_start, Qt.MouseButton.LeftButton)
    step_to(qtbot, w, lambda f: f.phase == "loss")
    assert wires.wires == {} and overlay_items(scene) == []


def _near(img, pt, color, radius=3, tol=40):
    for dx in range(-radius, radius + 1):
        for dy in range(-radius, radius + 1):
            x, y = pt.x() + dx, pt.y() + dy
            if 0 <= x < img.width() and 0 <= y < img.height():
                c = QColor(img.pixel(x, y))
                diff = abs(c.red() - color.red()) + abs(c.green() - color.green()) + abs(c.blue() - color.blue())
                if diff < tol:
                    return True
    return False


def test_the_gradient_colours_are_on_screen_at_the_wires(qtbot, main_window):
    w = explained(main_window, qtbot, "xor-neurons.ann")
    scene, view = w.scene, w.view
    step_to(qtbot, w, lambda f: f.phase == "backward" and f.node_id == "neuron_5")
    assert len(w.explain.wires.wires) == 4
    mids = {}
    for eid, ov in w.explain.wires.wires.items():
        mid = ov.path.pointAtPercent(ov.path.percentAtLength(ov.path.length() / 2))
        mids[eid] = mid
        view.centerOn(mid)
        at = view.mapFromScene(mid)
        assert view.viewport().rect().contains(at)
        color = ov.line.pen().color()
        assert _near(view.viewport().grab().toImage(), at, color), eid
    # without the overlay none of the gradient colours is there
    w.explain.dock.hide()
    for eid, mid in mids.items():
        view.centerOn(mid)
        img = view.viewport().grab().toImage()
        assert not any(_near(img, view.mapFromScene(mid), c) for c in (GRAD_POSITIVE, GRAD_NEGATIVE)), eid


def test_hiding_the_dock_clearing_or_another_document_removes_every_item(qtbot, main_window):
    w = explained(main_window, qtbot, "xor-neurons.ann")
    p, ex = w.explain.panel, w.explain
    before = len([it for it in w.scene.items() if it.data(0) != "explain-ring"])  # the canvas's own
    step_to(qtbot, w, lambda f: f.phase == "forward" and len(f.wires_from) == 4)
    assert ex.wires.running() and len(overlay_items(w.scene)) >= 8  # 4 lines, 4 dots (and labels)
    ex.dock.hide()
    assert ex.wires.wires == {} and overlay_items(w.scene) == [] and not ex.wires.running()
    assert len(w.scene.items()) == before
    # showing the dock again shows the frame again; clearing the panel removes it
    ex.dock.show()
    assert len(ex.wires.wires) == 4
    p.clear()
    assert ex.wires.wires == {} and overlay_items(w.scene) == []
    # a backward frame, then another document: nothing left on either scene
    assert ex.start()
    step_to(qtbot, w, lambda f: f.phase == "backward" and f.node_id == "neuron_5")
    old = w.scene
    assert overlay_items(old)
    w.open_file(SAMPLES / "xor.ann", ask=False)
    assert old is not w.scene and ex.wires.scene is w.scene
    assert ex.wires.wires == {} and overlay_items(w.scene) == []
    assert not w.document.modified


def _click_outcome(w, scene_pt):
    scene = w.scene
    scene.close_weight_editor()
    scene.clearSelection()
    QTest.mouseClick(w.view.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                     w.view.mapFromScene(scene_pt))
    ed = scene.weight_editor
    out = (scene.selected_node_ids(), scene.selected_edge_ids(), len(scene.selectedItems()),
           ed.property("edge_id") if ed else None)
    scene.close_weight_editor()
    scene.clearSelection()
    return out


@pytest.mark.parametrize("name", ["xor-neurons.ann", "xor.ann"])
def test_clicks_go_through_the_overlay_as_without_it(qtbot, main_window, name):
    w = main_window()
    w.open_file(SAMPLES / name, ask=False)
    w.view.set_zoom(1.0)
    out_id = "neuron_5" if name == "xor-neurons.ann" else "output_1"
    eid = next(e.id for e in w.scene.graph.edges.values() if e.dst == out_id)
    path = w.scene.edge_item(eid).path()
    mid = path.pointAtPercent(path.percentAtLength(path.length() / 2))
    w.view.centerOn(mid)
    plain = _click_outcome(w, mid)
    assert plain[1] == [eid]  # the wire itself (and on a neuron's wire its weight editor)
    assert plain[3] == (eid if name == "xor-neurons.ann" else None)
    w.explain.panel.row.setValue(ROW)
    assert w.explain.start()
    # backward: the gradient line over the wire and its label
    step_to(qtbot, w, lambda f: f.phase == "backward" and f.node_id == out_id)
    ov = w.explain.wires.wires[eid]
    assert isinstance(ov.line, WireStroke)
    w.view.centerOn(mid)
    # hovering the wire under the overlay lights the wire, as without it
    edge = w.scene.edge_item(eid)
    QTest.mouseMove(w.view.viewport(), w.view.mapFromScene(mid) + QPoint(0, 120))
    qtbot.waitUntil(lambda: edge.pen().widthF() == edge.weight_style()[1])
    QTest.mouseMove(w.view.viewport(), w.view.mapFromScene(mid))
    qtbot.waitUntil(lambda: edge.pen().widthF() == edge.weight_style()[1] + 1.0)  # hovered: 1 px wider
    label_pt = w.view.mapToScene(w.view.mapFromScene(mid) + ov.label.boundingRect().center().toPoint())
    assert _click_outcome(w, mid) == plain
    plain_label_overlay = _click_outcome(w, label_pt)
    # forward: the lit wire (the dot has arrived at its end)
    qtbot.mouseClick(w.explain.panel.b_start, Qt.MouseButton.LeftButton)
    step_to(qtbot, w, lambda f: f.phase == "forward" and f.node_id == out_id and bool(f.wires_from))
    qtbot.waitUntil(lambda: not w.explain.wires.running())
    w.view.centerOn(mid)
    assert _click_outcome(w, mid) == plain
    dot_pt = QPointF(w.explain.wires.wires[eid].marker.pos())  # at the destination's input port
    dot_overlay = _click_outcome(w, dot_pt)
    # the label's and the dot's places behave as with no overlay at all
    w.explain.dock.hide()
    w.view.centerOn(mid)
    assert _click_outcome(w, label_pt) == plain_label_overlay
    assert _click_outcome(w, dot_pt) == dot_overlay
    assert not w.document.modified


def test_the_overlay_follows_a_node_dragged_on_the_canvas(qtbot, main_window):
    w = explained(main_window, qtbot, "xor-neurons.ann")
    step_to(qtbot, w, lambda f: f.phase == "backward" and f.node_id == "neuron_5")
    wires = w.explain.wires
    before = {eid: ov.gradient for eid, ov in wires.wires.items()}
    old_paths = {eid: ov.path for eid, ov in wires.wires.items()}
    item = w.scene.node_item("neuron_5")
    y0 = w.document.graph.nodes["neuron_5"].position[1]
    a = item.sceneBoundingRect().center() + QPointF(0, 6)  # inside the circle, away from its ports
    w.view.centerOn(a)
    vp = w.view.viewport()
    pa, pb = w.view.mapFromScene(a), w.view.mapFromScene(a + QPointF(0, 80))
    QTest.mousePress(vp, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, pa)
    for i in range(1, 7):
        QTest.mouseMove(vp, pa + (pb - pa) * (i / 6))
    QTest.mouseRelease(vp, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, pb)
    assert w.document.graph.nodes["neuron_5"].position[1] > y0 + 40  # the model moved
    assert all(w.scene.edge_item(eid).path() != old for eid, old in old_paths.items())  # the wires moved
    qtbot.waitUntil(lambda: all(ov.path == w.scene.edge_item(eid).path() for eid, ov in wires.wires.items()))
    assert {eid: ov.gradient for eid, ov in wires.wires.items()} == before
    assert len(overlay_items(w.scene)) == 2 * len(before)  # a line and a label each, no leftovers
    w.document.undo_stack.setClean()


def test_a_softmax_outputs_wire_shows_the_size_of_its_gradients_not_their_cancelling_sum(qtbot, main_window):
    w = explained(main_window, qtbot, "digits-cnn.ann")
    step_to(qtbot, w, lambda f: f.phase == "backward" and f.node_id == "output_1")
    (eid, ov), = w.explain.wires.wires.items()
    g = np.asarray(w.explain.panel.trace.weight("output_1/kernel").grad, np.float64)
    assert abs(g.sum()) < 1e-4 * np.linalg.norm(g)  # the sum cancels, as the brief says
    assert ov.gradient == pytest.approx(float(np.linalg.norm(g)), rel=1e-12)
    assert ov.label.text().startswith("‖g‖ ") and ov.line.pen().color() == GRAD_BLOCK
