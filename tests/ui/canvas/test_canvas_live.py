"""The canvas during training: weights on the wires, tooltips with live values,
editing one weight, the structure lock, and data errors as badges."""

import numpy as np
import pytest

pytest.importorskip("PySide6")

from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt  # noqa: E402
from PySide6.QtGui import QColor, QDragEnterEvent, QDropEvent, QImage  # noqa: E402
from PySide6.QtTest import QTest  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

import anndesigner as ad  # noqa: E402
from anndesigner.ui import style  # noqa: E402
from anndesigner.ui.canvas.interactions import WeightEditor, parse_number  # noqa: E402
from anndesigner.ui.canvas.items import WIRE_MAX_WIDTH, WIRE_WIDTH, PendingWireItem  # noqa: E402
from anndesigner.ui.canvas.view import LOCK_TEXT  # noqa: E402
from anndesigner.ui.mime import MIME_NODE_TYPE  # noqa: E402
from helpers import laid_out, mlp as _mlp, neuron_mlp as _neuron_mlp  # noqa: E402

LEFT = Qt.MouseButton.LeftButton
NOMOD = Qt.KeyboardModifier.NoModifier
REASON = "Training is running: pause or stop it to change the network's structure"

pytestmark = pytest.mark.usefixtures("no_qt_warnings")


def neuron_net():
    """input_1 (2) → neuron_1, neuron_2 → neuron_3 → output_1 (marker, no weights)."""
    return laid_out(_neuron_mlp(2, 2))


def edge_between(doc, src, dst):
    return next(e.id for e in doc.graph.edges.values() if e.src == src and e.dst == dst)


def width_of(mag):
    return WIRE_WIDTH - 1.0 + (WIRE_MAX_WIDTH - WIRE_WIDTH + 1.0) * mag  # 1 px at 0, 6 px at 1


def set_known_weights(doc, w13, w23, b3=0.25):
    doc.network.set_weights({
        "neuron_1/kernel": np.array([0.5, -0.5], np.float32),
        "neuron_2/kernel": np.array([0.1, 0.2], np.float32),
        "neuron_3/kernel": np.array([w13, w23], np.float32),
        "neuron_3/bias": np.array(b3, np.float32),
    })


def vpt(view, p):
    return view.mapFromScene(QPointF(p))


def drag(view, a, b, steps=6):
    w = view.viewport()
    pa, pb = vpt(view, a), vpt(view, b)
    QTest.mousePress(w, LEFT, NOMOD, pa)
    for i in range(1, steps + 1):
        QTest.mouseMove(w, pa + (pb - pa) * (i / steps))
    QTest.mouseRelease(w, LEFT, NOMOD, pb)


def drop(view, at: QPoint, type_id: bytes):
    mime = QMimeData()
    mime.setData(MIME_NODE_TYPE, type_id)
    enter = QDragEnterEvent(at, Qt.DropAction.CopyAction, mime, LEFT, NOMOD)
    QApplication.sendEvent(view.viewport(), enter)
    ev = QDropEvent(QPointF(at), Qt.DropAction.CopyAction, mime, LEFT, NOMOD)
    QApplication.sendEvent(view.viewport(), ev)
    return enter.isAccepted(), ev.isAccepted()


# ------------------------------------------------------------ weights on wires
@pytest.mark.parametrize("w13,w23", [(0.75, -1.5), (-2.0, 0.5), (0.0, 1.0)])
def test_a_neuron_wire_shows_its_exact_weight(canvas, w13, w23):
    doc, scene, view = canvas(neuron_net())
    set_known_weights(doc, w13, w23)
    scene.show_document_weights()  # also done on the next event-loop turn by itself
    e13 = scene.edge_item(edge_between(doc, "neuron_1", "neuron_3"))
    e23 = scene.edge_item(edge_between(doc, "neuron_2", "neuron_3"))
    top = max(abs(w13), abs(w23), 0.5, 0.1, 0.2)  # the largest magnitude shown
    for e, w in ((e13, w13), (e23, w23)):
        color, width = e.weight_style()
        assert color == (style.NEGATIVE_WEIGHT if w < 0 else style.POSITIVE_WEIGHT)
        assert width == pytest.approx(width_of(abs(w) / top), abs=1e-4)
    if w13 == 0.0:
        assert e13.weight_style()[1] == pytest.approx(1.0)  # thinnest
    # wires of the first neurons: one wire carries both weights of neuron_1 (mean |w| 0.5, mean 0)
    e1 = scene.edge_item(edge_between(doc, "input_1", "neuron_1"))
    assert e1.weight_style()[1] == pytest.approx(width_of(0.5 / top), abs=1e-4)
    # into the Output marker (no weights): the default look
    eo = scene.edge_item(edge_between(doc, "neuron_3", "output_1"))
    assert eo.weight_style() == (None, WIRE_WIDTH)
    view.grab()


def test_weights_follow_the_document_by_themselves(canvas, qtbot):
    doc, scene, view = canvas(neuron_net())
    e13 = scene.edge_item(edge_between(doc, "neuron_1", "neuron_3"))
    assert e13.weight_style()[0] is not None  # the initial weights are shown from the start
    set_known_weights(doc, -1.0, 0.5)
    qtbot.waitUntil(lambda: e13.weight_style()[0] == style.NEGATIVE_WEIGHT, timeout=1000)
    set_known_weights(doc, 1.0, 0.5)
    qtbot.waitUntil(lambda: e13.weight_style()[0] == style.POSITIVE_WEIGHT, timeout=1000)


def test_a_layer_wire_shows_the_mean_magnitude_of_its_block(canvas):
    g = laid_out(_mlp([2, 3, 1]))
    doc, scene, view = canvas(g)
    k1 = np.array([[1.0, -2.0, 3.0], [-1.0, -1.0, -1.0]], np.float32)  # mean -1/6, mean |w| 1.5
    k2 = np.array([[-0.3], [-0.3], [-0.3]], np.float32)  # mean |w| 0.3, negative
    scene.show_weights({"dense_1/kernel": k1, "output_1/kernel": k2})
    e1 = scene.edge_item(edge_between(doc, "input_1", "dense_1"))
    e2 = scene.edge_item(edge_between(doc, "dense_1", "output_1"))
    assert e1.weight_style() == (style.NEGATIVE_WEIGHT, pytest.approx(width_of(1.0)))  # mean -1/6 < 0
    assert e2.weight_style() == (style.NEGATIVE_WEIGHT, pytest.approx(width_of(0.3 / 1.5)))
    # a kernel of the wrong shape, or missing: that node's wires get the default look
    scene.show_weights({"dense_1/kernel": np.ones((5, 3), np.float32), "output_1/kernel": k2})
    assert e1.weight_style() == (None, WIRE_WIDTH)
    assert e2.weight_style() == (style.NEGATIVE_WEIGHT, pytest.approx(width_of(1.0)))  # now the largest
    scene.show_weights(None)
    assert e1.weight_style() == (None, WIRE_WIDTH) and e2.weight_style() == (None, WIRE_WIDTH)
    assert scene.shown_weights() is None


def test_two_wires_into_one_layer_get_their_own_rows(canvas):
    g = ad.Graph()
    g.add_node("Input", id="a", units=1, position=(0, 0))
    g.add_node("Input", id="b", units=2, position=(0, 150))
    g.add_node("Dense", id="d", units=2, position=(300, 60))
    g.add_node("Output", id="o", units=1, position=(600, 60))
    g.connect("a", "d")
    g.connect("b", "d")
    g.connect("d", "o")
    doc, scene, view = canvas(g)
    k = np.array([[4.0, 4.0], [-1.0, -1.0], [-1.0, -3.0]], np.float32)  # row 0 from a, rows 1-2 from b
    scene.show_weights({"d/kernel": k, "o/kernel": np.zeros((2, 1), np.float32)})
    ea, eb = scene.edge_item(edge_between(doc, "a", "d")), scene.edge_item(edge_between(doc, "b", "d"))
    assert ea.weight_style() == (style.POSITIVE_WEIGHT, pytest.approx(width_of(1.0)))
    assert eb.weight_style() == (style.NEGATIVE_WEIGHT, pytest.approx(width_of(1.5 / 4.0)))
    wa = scene.wire_weights(ea.edge_id)
    assert (wa.kernel, wa.start, wa.stop, wa.units, wa.single) == ("d/kernel", 0, 1, 2, False)
    assert (scene.wire_weights(eb.edge_id).start, scene.wire_weights(eb.edge_id).stop) == (1, 3)
    assert scene.wire_weights(edge_between(doc, "d", "o")).kernel == "o/kernel"


def test_structural_changes_rebuild_the_wire_map(canvas):
    doc, scene, view = canvas(neuron_net())
    from anndesigner.ui import commands as C
    eo = edge_between(doc, "neuron_3", "output_1")
    assert scene.wire_weights(eo) is None
    doc.push(C.SetParamsCommand(doc, {"output_1": {"use_weights": True}}))
    assert scene.wire_weights(eo) is not None and scene.wire_weights(eo).single
    assert scene.edge_item(eo).weight_style()[0] is not None  # shown after the edit
    doc.undo_stack.undo()
    assert scene.wire_weights(eo) is None
    assert scene.edge_item(eo).weight_style() == (None, WIRE_WIDTH)


# ------------------------------------------------------------- edit a weight
def test_edit_weight_is_one_undoable_command(canvas):
    doc, scene, view = canvas(neuron_net())
    set_known_weights(doc, 0.75, -1.5)
    before = {k: v.copy() for k, v in doc.network.get_weights().items()}
    eid = edge_between(doc, "neuron_2", "neuron_3")
    assert scene.edit_weight(eid, 0.25) is True
    assert doc.undo_stack.count() == 1
    assert doc.undo_stack.text(0) == "Set weight neuron_2 → neuron_3"
    after = doc.network.get_weights()
    assert after["neuron_3/kernel"].tolist() == [0.75, 0.25]
    for k in before:
        if k != "neuron_3/kernel":
            np.testing.assert_array_equal(after[k], before[k])
    e = scene.edge_item(eid)
    assert e.weight_style()[0] == style.POSITIVE_WEIGHT
    doc.undo_stack.undo()
    assert doc.network.get_weights()["neuron_3/kernel"].tolist() == [0.75, -1.5]
    assert e.weight_style()[0] == style.NEGATIVE_WEIGHT
    doc.undo_stack.redo()
    assert doc.network.get_weights()["neuron_3/kernel"].tolist() == [0.75, 0.25]


def test_edit_weight_refusals(canvas):
    doc, scene, view = canvas(neuron_net())
    messages = []
    scene.statusMessage.connect(messages.append)
    block = edge_between(doc, "input_1", "neuron_1")  # two weights on one wire
    assert scene.edit_weight(block, 1.0) is False and "block" in messages[-1]
    marker = edge_between(doc, "neuron_3", "output_1")
    assert scene.edit_weight(marker, 1.0) is False and "no weight" in messages[-1]
    single = edge_between(doc, "neuron_1", "neuron_3")
    assert scene.edit_weight(single, float("nan")) is False
    doc.set_lock(REASON)
    kernel = doc.network.get_weights()["neuron_3/kernel"].copy()
    assert scene.edit_weight(single, 3.0) is False
    assert messages[-1] == REASON
    assert scene.begin_weight_edit(single, view) is None
    assert doc.undo_stack.count() == 0
    np.testing.assert_array_equal(doc.network.get_weights()["neuron_3/kernel"], kernel)


def test_clicking_a_neuron_wire_opens_the_inline_editor(canvas, qtbot):
    doc, scene, view = canvas(neuron_net())
    set_known_weights(doc, 0.75, -1.5)
    scene.show_document_weights()
    eid = edge_between(doc, "neuron_1", "neuron_3")
    mid = scene.edge_item(eid).path().pointAtPercent(0.5)
    QTest.mouseClick(view.viewport(), LEFT, NOMOD, vpt(view, mid))
    ed = scene.weight_editor
    assert isinstance(ed, WeightEditor) and ed.isVisible()
    assert ed.text() == "0.75"
    ed.setText("-0.125")
    QTest.keyClick(ed, Qt.Key.Key_Return)
    assert scene.weight_editor is None
    assert doc.network.get_weights()["neuron_3/kernel"].tolist() == [-0.125, -1.5]
    assert doc.undo_stack.count() == 1
    # Escape cancels; a text that is not a number keeps the editor open and says why
    ed = scene.begin_weight_edit(eid, view)
    messages = []
    scene.statusMessage.connect(messages.append)
    ed.setText("abc")
    QTest.keyClick(ed, Qt.Key.Key_Return)
    assert scene.weight_editor is ed and "not a number" in messages[-1]
    QTest.keyClick(ed, Qt.Key.Key_Escape)
    assert scene.weight_editor is None and doc.undo_stack.count() == 1
    # a layer-level wire only selects
    block = edge_between(doc, "input_1", "neuron_1")
    QTest.mouseClick(view.viewport(), LEFT, NOMOD, vpt(view, scene.edge_item(block).path().pointAtPercent(0.5)))
    assert scene.weight_editor is None and scene.selected_edge_ids() == [block]


def test_parse_number():
    assert parse_number(" -1,5 ") == -1.5 and parse_number("\u22122e-3") == -0.002
    assert parse_number("x") is None and parse_number("inf") is None


# ---------------------------------------------------------------------- lock
def test_locked_canvas_refuses_structure_but_moves(canvas):
    doc, scene, view = canvas(laid_out(_mlp([2, 4, 1])))
    messages = []
    scene.statusMessage.connect(messages.append)
    banner = view.lock_banner()
    assert banner.isHidden()
    doc.set_lock(REASON)
    assert not banner.isHidden() and banner.text() == LOCK_TEXT
    before = doc.graph.to_dict()

    # a new wire: the press on the output port is refused
    src, dst = scene.node_item("input_1"), scene.node_item("output_1")
    drag(view, src.out_port_scene(), dst.in_port_scene())
    assert messages[-1] == REASON
    assert not [i for i in scene.items() if isinstance(i, PendingWireItem)]
    # a drop of a palette entry, add at centre, delete
    assert drop(view, QPoint(450, 500), b"Dense") == (False, False)
    assert messages[-1] == REASON
    assert view.add_node_at_center("Dropout") is None
    scene.select_ids(["dense_1"])
    view.setFocus()
    QTest.keyClick(view, Qt.Key.Key_Delete)
    assert "dense_1" in doc.graph.nodes and messages[-1] == REASON
    assert scene.delete_selection() is False
    assert doc.graph.to_dict() == before and doc.undo_stack.count() == 0

    # moving still works
    item = scene.node_item("dense_1")
    start = item.pos() + QPointF(-20, 15)
    drag(view, start, start + QPointF(60, 40))
    assert doc.graph.nodes["dense_1"].position != (220.0, 0.0)
    assert doc.undo_stack.count() == 1

    doc.set_lock("")
    assert banner.isHidden()
    drag(view, src.out_port_scene(), dst.in_port_scene())
    assert any(e.src == "input_1" and e.dst == "output_1" for e in doc.graph.edges.values())
    assert drop(view, QPoint(450, 500), b"Dense") == (True, True)
    view.setFocus()
    scene.select_ids(["dense_2"])
    QTest.keyClick(view, Qt.Key.Key_Delete)
    assert "dense_2" not in doc.graph.nodes


def test_locking_mid_drag_cancels_the_new_wire(canvas):
    doc, scene, view = canvas(laid_out(_mlp([2, 4, 1])))
    src, dst = scene.node_item("input_1"), scene.node_item("output_1")
    w = view.viewport()
    QTest.mousePress(w, LEFT, NOMOD, vpt(view, src.out_port_scene()))
    QTest.mouseMove(w, vpt(view, src.out_port_scene() + QPointF(40, 40)))
    assert scene.gesture is not None
    doc.set_lock(REASON)
    assert scene.gesture is None
    QTest.mouseMove(w, vpt(view, dst.in_port_scene()))
    QTest.mouseRelease(w, LEFT, NOMOD, vpt(view, dst.in_port_scene()))
    assert doc.undo_stack.count() == 0 and len(doc.graph.edges) == 2


def test_while_locked_the_window_drives_the_weights(canvas):
    doc, scene, view = canvas(neuron_net())
    e13 = scene.edge_item(edge_between(doc, "neuron_1", "neuron_3"))
    doc.set_lock(REASON)
    snap = {k: v.copy() for k, v in doc.network.get_weights().items()}
    snap["neuron_3/kernel"] = np.array([-3.0, 1.0], np.float32)
    scene.show_weights(snap)
    assert e13.weight_style() == (style.NEGATIVE_WEIGHT, pytest.approx(width_of(1.0)))
    scene.show_document_weights()  # ignored while locked: the snapshot stays
    assert e13.weight_style()[0] == style.NEGATIVE_WEIGHT
    set_known_weights(doc, 2.0, 1.0)
    doc.set_lock("")
    scene.show_document_weights()
    assert e13.weight_style() == (style.POSITIVE_WEIGHT, pytest.approx(width_of(1.0)))


# ------------------------------------------------------------------ tooltips
def test_neuron_tooltip_has_weights_bias_and_activation(canvas):
    doc, scene, view = canvas(neuron_net())
    set_known_weights(doc, 0.75, -1.5, b3=0.25)
    scene.show_document_weights()
    tip = scene.node_tooltip("neuron_3")
    assert "neuron_1: 0.75" in tip and "neuron_2: -1.5" in tip
    assert "Bias</b> 0.25" in tip
    # the formula with the numbers plugged in, and the neuron's own activation
    assert "z = 0.75·neuron_1 − 1.5·neuron_2 + 0.25" in tip
    act = doc.graph.nodes["neuron_3"].params["activation"]
    assert f"y = {act}(z)" in tip
    assert "Activation" not in tip
    scene.set_activations({"neuron_3": np.array([[0.2], [0.4], [0.9]], np.float32)})
    tip = scene.node_tooltip("neuron_3")
    assert "last batch (3 rows): mean 0.5, range 0.2 … 0.9" in tip
    # an input of width 2 into one neuron: both weights, indexed
    tip1 = scene.node_tooltip("neuron_1")
    assert "input_1[0]: 0.5" in tip1 and "input_1[1]: -0.5" in tip1
    assert "z = 0.5·input_1[0] − 0.5·input_1[1]" in tip1
    # hovering sets it on the item (the thumbnail is made only for a shown tooltip)
    n3 = scene.node_item("neuron_3")
    QTest.mouseMove(view.viewport(), vpt(view, n3.pos() + QPointF(0, 120)))
    QTest.mouseMove(view.viewport(), vpt(view, n3.pos()))
    assert "neuron_2: -1.5" in n3.toolTip() and "mean 0.5" in n3.toolTip()


def test_layer_tooltip_and_thumbnail(canvas):
    doc, scene, view = canvas(laid_out(_mlp([2, 3, 1])))
    k1 = np.array([[1.0, -2.0, 3.0], [-1.0, -1.0, -1.0]], np.float32)
    scene.show_weights({"dense_1/kernel": k1, "dense_1/bias": np.array([0.5, 0, -0.5], np.float32)})
    tip = scene.node_tooltip("dense_1")
    assert "2×3: mean |w| 1.5, max |w| 3" in tip and "Bias</b> 0.5, 0, -0.5" in tip
    asked = []

    def thumb(node_id):
        asked.append(node_id)
        img = QImage(200, 100, QImage.Format.Format_RGB32)
        img.fill(QColor("#1E88E5"))
        return img

    scene.set_thumbnail_provider(thumb)
    assert "data:image/png" not in scene.node_tooltip("dense_1", thumbnail=False) and asked == []
    tip = scene.node_tooltip("dense_1")
    assert asked == ["dense_1"] and "<img src='data:image/png;base64," in tip
    assert "width='128' height='64'" in tip  # scaled to fit
    scene.set_thumbnail_provider(lambda nid: None)
    assert "<img" not in scene.node_tooltip("dense_1")
    e = edge_between(doc, "input_1", "dense_1")
    assert "2×3 weights" in scene.edge_tooltip(e) and "(2)" in scene.edge_tooltip(e)


# -------------------------------------------------------------- data errors
def test_extra_errors_badge_nodes_and_count(canvas, qtbot):
    doc, scene, view = canvas(laid_out(_mlp([2, 4, 1])))
    assert scene.error_count == 0
    counts = []
    scene.errorsChanged.connect(counts.append)
    scene.set_extra_errors({"input_1": "the data has 3 inputs", "output_1": ["the data has 2 targets"]})
    assert counts == [2] and scene.error_count == 2
    inp = scene.node_item("input_1")
    assert inp.errors == ["the data has 3 inputs"] and "the data has 3 inputs" in inp.toolTip()
    assert "the data has 3 inputs" in scene.node_tooltip("input_1")
    assert "the data has 3 inputs" in inp.status_text()
    view.grab()
    # merged with the graph's own errors, and kept across edits
    from anndesigner.ui import commands as C
    doc.push(C.delete_command(doc, edge_ids=[edge_between(doc, "dense_1", "output_1")]))
    out = scene.node_item("output_1")
    assert len(out.errors) == 2 and "the data has 2 targets" in out.errors
    assert counts[-1] == 3
    scene.set_extra_errors({})
    assert inp.errors == [] and counts[-1] == 1


def test_a_network_that_does_not_compile_shows_no_weights(canvas):
    """As in the window before the scene followed the document alone: the wires of a network
    that does not compile keep the default look (not the last weights known)."""
    doc, scene, view = canvas(neuron_net())
    set_known_weights(doc, 0.75, -1.5)
    scene.show_document_weights()
    e13 = scene.edge_item(edge_between(doc, "neuron_1", "neuron_3"))
    assert e13.weight_style()[0] == style.POSITIVE_WEIGHT
    doc.editor.delete(["output_1"])
    assert not doc.network.compiles
    assert scene.shown_weights() is None and e13.weight_style() == (None, WIRE_WIDTH)
    doc.undo_stack.undo()
    assert e13.weight_style()[0] == style.POSITIVE_WEIGHT
    assert scene.shown_weights()["neuron_3/kernel"].tolist() == [0.75, -1.5]
