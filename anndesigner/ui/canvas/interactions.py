"""Mouse gestures of the canvas, each an object of its own.

A gesture is created when a press starts it, gets the moves, and ends with
``release`` (which makes at most one edit, through the document's editor) or
``cancel``. It emits
``started``, then ``finished`` (something was done) or ``cancelled``. Items
and the scene hold no gesture state beyond "which gesture is active".

- :class:`NewWireGesture`: drag from an output port to an input port.
- :class:`MoveNodesGesture`: drag nodes; one move (one undo step) on release.
- :class:`PanGesture`: middle button or space + left drag pans the view.
- :class:`NodeDropHandler`: a palette entry dropped on the view adds a node.
- :class:`WeightEditor`: the inline field that sets one weight of a wire.

Structural gestures (a new wire, a drop) are refused while the document is
locked by training; moving nodes and selecting are not.
"""

from __future__ import annotations

import math
import time
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QPoint, QPointF, QRectF, Qt, QTimer, Signal
from PySide6.QtWidgets import QLineEdit, QWidget

from ...errors import GraphError, ShapeError
from ...graph import Graph
from ..mime import MIME_NODE_TYPE
from .items import GRID, PORT_HIT, NodeItem, PendingWireItem, snap

if TYPE_CHECKING:  # pragma: no cover
    from PySide6.QtCore import QMimeData
    from PySide6.QtWidgets import QGraphicsView

    from .scene import GraphScene


class Interaction(QObject):
    """Base of the gestures: ``started``, ``finished`` and ``cancelled``."""

    started = Signal()
    finished = Signal()
    cancelled = Signal()

    def __init__(self) -> None:
        super().__init__()
        self.active = False

    def _begin(self) -> None:
        self.active = True
        self.started.emit()

    def _end(self, done: bool) -> None:
        if not self.active:
            return
        self.active = False
        (self.finished if done else self.cancelled).emit()

    def move(self, pos: QPointF) -> None:  # pragma: no cover - overridden
        pass

    def release(self, pos: QPointF) -> bool:  # pragma: no cover - overridden
        self._end(False)
        return False

    def cancel(self) -> None:
        self._end(False)

    def involves(self, node_id: str) -> bool:
        return False


# ------------------------------------------------------------------ wires
def would_accept(graph: Graph, src: str, dst: str, dst_port: str = "in") -> bool:
    """``graph.check_connect(src, dst) is None``, without re-analysing the
    whole graph for every candidate port.

    The structural checks (ports, duplicates, single-wire ports, cycles) are
    the model's own, through ``check_connect(..., check_shapes=False)``. The
    shape check follows the model's rule: a new wire into ``dst`` changes no
    shape upstream of ``dst``, so it is refused exactly when ``dst``'s shape
    inference (or its weights) raises a :class:`ShapeError` with the wire's
    shape added after the wires ``dst`` already has; it is accepted when any
    of those shapes is unknown. (~1 ms per port on a 2,000-node graph instead
    of a full analysis; a test checks that both agree.)
    """
    if graph.check_connect(src, dst, dst_port=dst_port, check_shapes=False) is not None:
        return False
    a = graph.analyze()
    src_shape = a.shapes.get(src)
    if src_shape is None:
        return True
    ins: dict[str, list] = {}
    for e in graph.in_edges(dst):
        shape = a.shapes.get(e.src)
        if shape is None:
            return True
        ins.setdefault(e.dst_port, []).append(shape)
    ins.setdefault(dst_port, []).append(src_shape)
    node = graph.nodes[dst]
    t = graph.node_type(node)
    try:
        t.infer(node.params, ins)
        t.weights(node.params, ins)
    except ShapeError:
        return False
    except GraphError:
        return True
    return True


class NewWireGesture(Interaction):
    """Press on an output port, drag, release on an input port (or on the body
    of a node that has one) to connect.

    While dragging, every input port that would accept the connection
    (``graph.check_connect(...) is None``, computed by :func:`would_accept`)
    is highlighted and the others are dimmed. Verdicts are computed for the
    visible nodes nearest the cursor first, in slices of a few milliseconds, so
    huge graphs stay responsive. The node under the cursor gets the model's
    own ``check_connect`` (its message goes to ``statusMessage``), and the
    release connects through the editor, which checks again.
    """

    #: a release this close to an input port counts as on it
    SNAP = 18.0
    #: seconds of verdict computation per event-loop turn
    SLICE = 0.012

    def __init__(self, scene: "GraphScene", src_item: NodeItem, view: "QGraphicsView | None" = None):
        super().__init__()
        self.scene = scene
        self.view = view
        self.src = src_item
        self.wire = PendingWireItem(src_item.accent)
        self.target: NodeItem | None = None
        self._errors: dict[str, GraphError | None] = {}
        self._pending: list[NodeItem] = []
        self._hinted: list[NodeItem] = []
        self._timer = QTimer(self)
        self._timer.setInterval(0)
        self._timer.timeout.connect(self._evaluate_slice)

    def involves(self, node_id: str) -> bool:
        return node_id == self.src.node_id or (self.target is not None and self.target.node_id == node_id)

    # ------------------------------------------------------------ verdicts
    def verdict(self, item: NodeItem) -> GraphError | None:
        """The error the model's ``check_connect`` gives for a wire to ``item``,
        or None (cached for the gesture)."""
        nid = item.node_id
        if nid not in self._errors:
            err = self.scene.graph.check_connect(self.src.node_id, nid)
            if err is not None:
                # keep the message, not the traceback: its frames would pin this
                # gesture, the scene and Qt event wrappers in a reference cycle
                err = err.with_traceback(None)
            self._errors[nid] = err
            self._hint(item, err is None)
        return self._errors[nid]

    def judge(self, item: NodeItem) -> bool:
        """Highlight or dim ``item``'s input port; True if it accepts."""
        nid = item.node_id
        if nid in self._errors:
            ok = self._errors[nid] is None
        else:
            ok = would_accept(self.scene.graph, self.src.node_id, nid)
        self._hint(item, ok)
        return ok

    def _hint(self, item: NodeItem, ok: bool) -> None:
        if item.port_hint is None:
            self._hinted.append(item)
        item.set_port_hint(ok)

    def _evaluate_slice(self, budget: float | None = None) -> None:
        deadline = time.perf_counter() + (self.SLICE if budget is None else budget)
        pending = self._pending
        while pending and time.perf_counter() < deadline:
            item = pending.pop()
            if item.scene() is self.scene and item.node_id in self.scene.graph.nodes:
                self.judge(item)
        if not pending:
            self._timer.stop()

    def _ancestors(self) -> set[str]:
        """The source and every node that feeds it: wiring into them makes a cycle."""
        parents: dict[str, list[str]] = {}
        for e in self.scene.graph.edges.values():
            parents.setdefault(e.dst, []).append(e.src)
        seen = {self.src.node_id}
        stack = [self.src.node_id]
        while stack:
            for p in parents.get(stack.pop(), ()):
                if p not in seen:
                    seen.add(p)
                    stack.append(p)
        return seen

    # -------------------------------------------------------------- gesture
    def start(self, pos: QPointF) -> None:
        sc = self.scene
        sc.addItem(self.wire)
        self.wire.set_ends(self.src.out_port_scene(), pos)
        blocked = self._ancestors()
        visible = QRectF()
        if self.view is not None:
            visible = self.view.mapToScene(self.view.viewport().rect()).boundingRect()
        candidates = []
        for item in sc.node_items():
            if not item.has_input:
                continue
            if item.node_id in blocked:
                self._hint(item, False)  # the model would refuse: a cycle
                continue
            d = (item.x() - pos.x()) ** 2 + (item.y() - pos.y()) ** 2
            far = 0 if visible.isNull() or visible.contains(item.pos()) else 1
            candidates.append((far, d, item))
        candidates.sort(key=lambda t: (t[0], t[1]), reverse=True)  # popped from the end: nearest first
        self._pending = [t[2] for t in candidates]
        self._begin()
        self._evaluate_slice(0.02)
        if self._pending:
            self._timer.start()

    def find_target(self, pos: QPointF) -> NodeItem | None:
        """The node a release at ``pos`` would connect to: one under the cursor
        with an input port, else the nearest input port within :attr:`SNAP`."""
        for it in self.scene.items(pos):
            if isinstance(it, NodeItem):
                return it if it.has_input else None
        r = self.SNAP
        best, best_d = None, r * r
        for it in self.scene.items(QRectF(pos.x() - r - PORT_HIT, pos.y() - r, 2 * (r + PORT_HIT), 2 * r)):
            if isinstance(it, NodeItem) and it.has_input:
                p = it.in_port_scene()
                d = (p.x() - pos.x()) ** 2 + (p.y() - pos.y()) ** 2
                if d <= best_d:
                    best, best_d = it, d
        return best

    def move(self, pos: QPointF) -> None:
        target = self.find_target(pos)
        if target is not self.target:
            if self.target is not None:
                self.target.set_drop_target(False)
            self.target = target
            if target is not None:
                target.set_drop_target(True)
                err = self.verdict(target)
                if err is None:
                    self.scene.statusMessage.emit(f"Release to connect {self.src.node_id} → {target.node_id}")
                else:
                    self.scene.statusMessage.emit(f"Cannot connect {self.src.node_id} → {target.node_id}: "
                                                  f"{err.message}")
        end, ok = pos, None
        if target is not None:
            ok = self.verdict(target) is None
            if ok:
                end = target.in_port_scene()
        self.wire.set_ends(self.src.out_port_scene(), end, ok)

    def release(self, pos: QPointF) -> bool:
        target = self.find_target(pos)
        self._cleanup()
        if target is None:
            self._end(False)
            return False
        src, dst = self.src.node_id, target.node_id
        if self.scene.refuse_if_locked():
            self._end(False)
            return False
        try:
            self.scene.editor.connect(src, dst)
        except GraphError as e:
            message = e.message
            e.__traceback__ = None  # no cycle through our frames (and the Qt events in them)
        else:
            message = None
        if message is not None:
            self.scene.statusMessage.emit(f"Cannot connect {src} → {dst}: {message}")
            self._end(False)
            return False
        self.scene.statusMessage.emit(f"Connected {src} → {dst}")
        self._end(True)
        return True

    def cancel(self) -> None:
        self._cleanup()
        self._end(False)

    def _cleanup(self) -> None:
        self._timer.stop()
        self._pending = []
        if self.target is not None:
            self.target.set_drop_target(False)
        for item in self._hinted:
            item.set_port_hint(None)
        self._hinted = []
        if self.wire.scene() is not None:
            self.wire.scene().removeItem(self.wire)


# ------------------------------------------------------------------ moves
class MoveNodesGesture(Interaction):
    """Drag the selected nodes. Items move live (their wires follow); the
    release moves the nodes from their model positions to the new ones, one
    undo step (``Editor.move_nodes``). With ``scene.snap_to_grid`` positions snap to the 20 px grid."""

    def __init__(self, scene: "GraphScene", items: list[NodeItem], pressed: NodeItem | None = None,
                 threshold: float = 3.0):
        super().__init__()
        self.scene = scene
        self.items = list(items)
        #: clicked without moving: the scene selects only this item
        self.pressed = pressed
        self.threshold = threshold
        self.moved = False
        self._origin = QPointF()
        self._start: list[tuple[NodeItem, QPointF]] = []

    def involves(self, node_id: str) -> bool:
        return any(it.node_id == node_id for it in self.items)

    def start(self, pos: QPointF) -> None:
        self._origin = QPointF(pos)
        self._start = [(it, QPointF(it.pos())) for it in self.items]
        self._begin()

    def move(self, pos: QPointF) -> None:
        d = pos - self._origin
        if not self.moved:
            if abs(d.x()) + abs(d.y()) < self.threshold:
                return
            self.moved = True
        grid = self.scene.snap_to_grid
        for it, p0 in self._start:
            x, y = p0.x() + d.x(), p0.y() + d.y()
            if grid:
                x, y = snap(x, GRID), snap(y, GRID)
            it.setPos(x, y)

    def moves(self) -> dict[str, tuple[tuple[float, float], tuple[float, float]]]:
        """``{node id: (model position, dragged position)}`` for the nodes that moved."""
        g = self.scene.graph
        moves = {}
        for it, _ in self._start:
            node = g.nodes.get(it.node_id)
            if node is None:
                continue
            new = (it.x(), it.y())
            if new != node.position:
                moves[it.node_id] = (node.position, new)
        return moves

    def release(self, pos: QPointF) -> bool:
        if self.moved:
            self.move(pos)
        cmd = self.scene.edit(self.scene.editor.move_nodes, self.moves()) if self.moved else None
        if cmd is None:
            self._restore()
            self._end(False)
            return False
        self._end(True)
        return True

    def cancel(self) -> None:
        self._restore()
        self._end(False)

    def _restore(self) -> None:
        g = self.scene.graph
        for it, _ in self._start:
            node = g.nodes.get(it.node_id)
            if node is not None and it.scene() is not None:
                it.setPos(node.position[0], node.position[1])


# -------------------------------------------------------------------- pan
class PanGesture(Interaction):
    """Drag the view's contents (middle button, or space + left button)."""

    def __init__(self, view: "QGraphicsView", button: Qt.MouseButton):
        super().__init__()
        self.view = view
        self.button = button
        self._last = QPointF()

    def start(self, viewport_pos: QPointF) -> None:
        self._last = QPointF(viewport_pos)
        self.view.viewport().setCursor(Qt.CursorShape.ClosedHandCursor)
        self._begin()

    def move(self, viewport_pos: QPointF) -> None:
        d = viewport_pos - self._last
        self._last = QPointF(viewport_pos)
        h, v = self.view.horizontalScrollBar(), self.view.verticalScrollBar()
        h.setValue(h.value() - round(d.x()))
        v.setValue(v.value() - round(d.y()))

    def release(self, viewport_pos: QPointF) -> bool:
        self.move(viewport_pos)
        self.view.viewport().unsetCursor()
        self._end(True)
        return True

    def cancel(self) -> None:
        self.view.viewport().unsetCursor()
        self._end(False)


# ------------------------------------------------------------------- drop
class NodeDropHandler:
    """Drops of :data:`~anndesigner.ui.mime.MIME_NODE_TYPE` (payload: a type id
    in UTF-8). The new node's model position is the drop point: positions are
    node centres, so the node appears centred under the cursor."""

    def __init__(self, scene: "GraphScene"):
        self.scene = scene

    def type_id(self, mime: "QMimeData") -> str | None:
        if mime is None or not mime.hasFormat(MIME_NODE_TYPE):
            return None
        try:
            tid = bytes(mime.data(MIME_NODE_TYPE).data()).decode("utf-8").strip()
        except UnicodeDecodeError:
            return None
        return tid if tid in self.scene.graph.registry else None

    def accepts(self, mime: "QMimeData") -> bool:
        return self.type_id(mime) is not None

    def drop(self, mime: "QMimeData", scene_pos: QPointF) -> str | None:
        """Add a node of the dropped type; returns the new node's id (or None, also
        when the document is locked: the scene says why)."""
        tid = self.type_id(mime)
        if tid is None:
            return None
        return self.scene.add_node(tid, scene_pos)


# ----------------------------------------------------------- weight edits
def parse_number(text: str) -> float | None:
    """A finite float from what was typed ("0.5", "-1,25", "−2e-3"), or None."""
    t = text.strip().replace("\u2212", "-").replace(",", ".")
    try:
        v = float(t)
    except ValueError:
        return None
    return v if math.isfinite(v) else None


class WeightEditor(QLineEdit):
    """A small field over the view to type one weight. Enter, or leaving the
    field with a changed number, emits ``committed(value)``; Escape cancels;
    either way the editor closes (``closed``) and deletes itself. A text that
    is not a number emits ``invalid(message)`` and keeps the field open."""

    committed = Signal(float)
    invalid = Signal(str)
    closed = Signal()

    def __init__(self, parent: QWidget, value: float, what: str = ""):
        super().__init__(parent)
        self.setObjectName("weightEditor")
        self.value = float(value)
        self.what = what
        self.initial = f"{self.value:.6g}"
        self.setText(self.initial)
        self.setToolTip(f"Weight {what}: Enter sets it, Escape cancels" if what else "")
        self.setAlignment(Qt.AlignmentFlag.AlignRight)
        self.setStyleSheet("QLineEdit#weightEditor { border: 1px solid #1E88E5; border-radius: 4px;"
                           " padding: 1px 4px; background: white; }")
        self.setFixedWidth(max(90, self.fontMetrics().horizontalAdvance("-0.000000e-00") + 16))
        self._done = False

    def open_at(self, viewport_pos: QPoint) -> None:
        """Show centred just above ``viewport_pos`` (the clicked point of the
        wire), kept inside the parent, and take the focus."""
        p = self.parentWidget()
        self.adjustSize()
        x, y = viewport_pos.x() - self.width() // 2, viewport_pos.y() - self.height() - 10
        if p is not None:
            x = min(max(0, x), max(0, p.width() - self.width()))
            y = min(max(0, y), max(0, p.height() - self.height()))
        self.move(x, y)
        self.show()
        self.raise_()
        self.setFocus(Qt.FocusReason.MouseFocusReason)
        self.selectAll()

    @property
    def done(self) -> bool:
        return self._done

    def commit(self) -> bool:
        """Emit ``committed`` with the typed number and close; False (and
        ``invalid``) if the text is not a finite number."""
        if self._done:
            return False
        v = parse_number(self.text())
        if v is None:
            self.invalid.emit(f"'{self.text().strip()}' is not a number: type a weight such as 0.5 or -1.2")
            return False
        self._close()
        if self.text().strip() != self.initial:
            self.committed.emit(v)
        return True

    def cancel(self) -> None:
        if not self._done:
            self._close()

    def _close(self) -> None:
        self._done = True
        self.hide()
        self.closed.emit()
        self.deleteLater()

    def keyPressEvent(self, event) -> None:
        key = event.key()
        if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self.commit()
            event.accept()
            return
        if key == Qt.Key.Key_Escape:
            self.cancel()
            event.accept()
            return
        super().keyPressEvent(event)

    def focusOutEvent(self, event) -> None:
        super().focusOutEvent(event)
        if event.reason() == Qt.FocusReason.PopupFocusReason:
            return  # its context menu
        if not self._done:
            if parse_number(self.text()) is not None:
                self.commit()
            else:
                self.cancel()
