"""Every point of a port dot starts a wire (issue 10, new-user item 1).

The presses go through the view's viewport with QTest, at the viewport
positions the scene points map to, so they exercise Qt's own hit-testing of
the items' shapes (the node's box and its port discs overlap)."""

import math

import pytest

pytest.importorskip("PySide6")

from PySide6.QtCore import QPointF, Qt  # noqa: E402
from PySide6.QtTest import QTest  # noqa: E402

from anndesigner.ui.canvas import NewWireGesture  # noqa: E402
from anndesigner.ui.canvas.interactions import MoveNodesGesture  # noqa: E402
from anndesigner.ui.canvas.items import PORT_HIT, PORT_R  # noqa: E402
from helpers import laid_out, mlp, neuron_mlp  # noqa: E402

LEFT = Qt.MouseButton.LeftButton
NOMOD = Qt.KeyboardModifier.NoModifier

pytestmark = pytest.mark.usefixtures("no_qt_warnings")


def disc_points(center: QPointF, radius: float, step: float):
    """A grid of scene points covering the disc of ``radius`` around ``center``."""
    n = int(radius // step)
    for i in range(-n, n + 1):
        for j in range(-n, n + 1):
            dx, dy = i * step, j * step
            if math.hypot(dx, dy) <= radius:
                yield QPointF(center.x() + dx, center.y() + dy)


def press_kind(view, scene, at: QPointF):
    """Press at scene point ``at`` through the viewport: the gesture it starts (then released)."""
    vp = view.viewport()
    pt = view.mapFromScene(at)
    QTest.mousePress(vp, LEFT, NOMOD, pt)
    g = scene.gesture
    kind = type(g) if g is not None else None
    scene.cancel_gesture()
    QTest.mouseRelease(vp, LEFT, NOMOD, pt)
    scene.clearSelection()
    return kind


@pytest.mark.parametrize("graph,node", [
    (lambda: laid_out(mlp([2, 3, 1])), "dense_1"),       # a block
    (lambda: laid_out(neuron_mlp(2, 2)), "neuron_1"),    # a round neuron
    (lambda: laid_out(mlp([2, 3, 1])), "input_1"),       # a block with an output port only
])
def test_every_point_of_an_output_dot_starts_a_wire(canvas, graph, node):
    doc, scene, view = canvas(graph())
    view.set_zoom(2.0)  # two screen pixels per scene pixel: the grid's points are distinct pixels
    item = scene.node_item(node)
    view.centerOn(item.out_port_scene())
    centre = item.out_port_scene()
    assert view.viewport().rect().contains(view.mapFromScene(centre))
    missed = []
    points = list(disc_points(centre, PORT_HIT - 1.0, 1.5))
    assert len(points) > 100
    for p in points:
        kind = press_kind(view, scene, p)
        if kind is not NewWireGesture:
            missed.append((round(p.x() - centre.x(), 1), round(p.y() - centre.y(), 1), kind and kind.__name__))
    assert not missed, f"{len(missed)} of {len(points)} presses on the port did not start a wire: {missed[:12]}"
    # the visible dot in particular, inner half included (it lies over the node's box)
    inner = [p for p in disc_points(centre, PORT_R, 1.0) if p.x() < centre.x()]
    assert inner and all(press_kind(view, scene, p) is NewWireGesture for p in inner)
    assert not doc.undo_stack.count()  # pressing and releasing in place made nothing


@pytest.mark.parametrize("graph,node", [
    (lambda: laid_out(mlp([2, 3, 1])), "dense_1"),
    (lambda: laid_out(neuron_mlp(2, 2)), "neuron_3"),
])
def test_every_point_of_an_input_dot_is_on_the_node(canvas, graph, node):
    """An input dot presses the node (select and move it), over the box or outside it."""
    doc, scene, view = canvas(graph())
    view.set_zoom(2.0)
    item = scene.node_item(node)
    centre = item.in_port_scene()
    view.centerOn(centre)
    points = list(disc_points(centre, PORT_HIT - 1.0, 1.5))
    kinds = {press_kind(view, scene, p) for p in points}
    assert kinds == {MoveNodesGesture}


def test_a_wire_dragged_from_the_inner_half_of_a_dot_connects(canvas):
    doc, scene, view = canvas(laid_out(mlp([2, 3, 1])))
    g = doc.graph
    view.set_zoom(1.0)
    e = next(e for e in g.edges.values() if e.src == "dense_1")
    g.disconnect(e.id)
    src, dst = scene.node_item("dense_1"), scene.node_item("output_1")
    view.centerOn((src.out_port_scene() + dst.in_port_scene()) / 2)
    vp = view.viewport()
    a = view.mapFromScene(src.out_port_scene() - QPointF(PORT_R - 1.5, 0))  # inside the box, on the dot
    b = view.mapFromScene(dst.in_port_scene() + QPointF(PORT_R - 1.5, 0))   # likewise on the target
    QTest.mousePress(vp, LEFT, NOMOD, a)
    for i in range(1, 7):
        QTest.mouseMove(vp, a + (b - a) * (i / 6))
    QTest.mouseRelease(vp, LEFT, NOMOD, b)
    assert [(e.src, e.dst) for e in g.edges.values() if e.src == "dense_1"] == [("dense_1", "output_1")]
    assert view.rubberBandRect().isNull()
