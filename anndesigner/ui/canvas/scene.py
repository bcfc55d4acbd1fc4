"""The scene: a mirror of the document's graph.

The scene listens to the graph's events (``node_added`` ... ``edge_removed``)
and keeps a private map from model ids to items. It changes the model only by
pushing commands onto ``document.undo_stack``; items never own the truth.

Shapes, parameter counts and errors come from ``graph.analyze()``, applied
once per burst of model events: right after each undo-stack step (push, undo,
redo) and otherwise on a zero-timer, so a paste of 100 nodes analyses once.
"""

from __future__ import annotations

from typing import Iterable, Iterator

from PySide6.QtCore import QPointF, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QTransform
from PySide6.QtWidgets import QGraphicsScene, QGraphicsSceneMouseEvent, QGraphicsView

from ...errors import GraphError
from ...graph import Analysis, Edge, Node, fmt_shape
from ..commands import MoveNodesCommand, add_node_command
from ..document import Document
from .interactions import Interaction, MoveNodesGesture, NewWireGesture
from .items import GRID, LOD_SIMPLE, EdgeItem, NodeItem, make_node_item, snap

_ARROWS = {
    Qt.Key.Key_Left: (-1, 0),
    Qt.Key.Key_Right: (1, 0),
    Qt.Key.Key_Up: (0, -1),
    Qt.Key.Key_Down: (0, 1),
}


class GraphScene(QGraphicsScene):
    """Items for every node and wire of ``document.graph``, kept in step with it."""

    #: refusal reasons, hover information
    statusMessage = Signal(str)
    #: (node ids, edge ids) whenever the selection changes
    selectionIdsChanged = Signal(list, list)
    #: the number of validation errors, after every change
    errorsChanged = Signal(int)

    GRID = GRID
    #: arrow keys move the selection by this much (Shift: NUDGE_BIG)
    NUDGE = 10.0
    NUDGE_BIG = 50.0

    def __init__(self, document: Document, parent=None):
        super().__init__(parent)
        self.document = document
        self.graph = document.graph
        #: snap dragged and dropped nodes to the 20 px grid
        self.snap_to_grid = False
        self._nodes: dict[str, NodeItem] = {}
        self._edges: dict[str, EdgeItem] = {}
        self._gesture: Interaction | None = None
        self._dirty = False
        self._analysis: Analysis | None = None
        self._error_count = 0
        self._quiet_selection = 0
        self._selection_pending = False
        self._last_selection: tuple[list[str], list[str]] = ([], [])
        #: True while the view is zoomed out below LOD_SIMPLE (wires cached as pixmaps)
        self._low_detail = False
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(0)
        self._timer.timeout.connect(self.refresh)
        self._build()
        g = self.graph
        self._model_slots = [
            (g.node_added, self._on_node_added),
            (g.node_removed, self._on_node_removed),
            (g.node_changed, self._on_node_changed),
            (g.node_moved, self._on_node_moved),
            (g.edge_added, self._on_edge_added),
            (g.edge_removed, self._on_edge_removed),
        ]
        for sig, slot in self._model_slots:
            sig.connect(slot)
        document.undo_stack.indexChanged.connect(self._on_stack_index)
        self.selectionChanged.connect(self._on_selection_changed)
        self._attached = True

    # ------------------------------------------------------------- public
    def node_item(self, node_id: str) -> NodeItem | None:
        return self._nodes.get(node_id)

    def edge_item(self, edge_id: str) -> EdgeItem | None:
        return self._edges.get(edge_id)

    def node_items(self) -> Iterator[NodeItem]:
        return iter(list(self._nodes.values()))

    def edge_items(self) -> Iterator[EdgeItem]:
        return iter(list(self._edges.values()))

    def selected_node_ids(self) -> list[str]:
        """Selected nodes, in model order."""
        sel = {it.node_id for it in self.selectedItems() if isinstance(it, NodeItem)}
        return [n for n in self.graph.nodes if n in sel] if sel else []

    def selected_edge_ids(self) -> list[str]:
        """Selected wires, in model order."""
        sel = {it.edge_id for it in self.selectedItems() if isinstance(it, EdgeItem)}
        return [e for e in self.graph.edges if e in sel] if sel else []

    def select_ids(self, ids: Iterable[str]) -> None:
        """Select exactly the nodes and wires with these ids (unknown ids are skipped)."""
        self._quiet_selection += 1
        try:
            self.clearSelection()
            for i in ids:
                item = self._nodes.get(i) or self._edges.get(i)
                if item is not None:
                    item.setSelected(True)
        finally:
            self._quiet_selection -= 1
        self._emit_selection()

    @property
    def analysis(self) -> Analysis:
        """The analysis the items show (current after :meth:`refresh`)."""
        if self._analysis is None or self._dirty:
            self.refresh()
        assert self._analysis is not None
        return self._analysis

    @property
    def error_count(self) -> int:
        return self._error_count

    def refresh(self) -> None:
        """Apply ``graph.analyze()`` to every item now (normally automatic) and emit errorsChanged."""
        self._timer.stop()
        self._dirty = False
        if not self._attached:
            return
        self._apply_analysis(self.graph.analyze())
        self.errorsChanged.emit(self._error_count)
        if self._selection_pending:
            self._selection_pending = False
            self._emit_selection()

    def detach(self) -> None:
        """Stop following the model (the window closes or the document is replaced)."""
        if not getattr(self, "_attached", False):
            return
        self._attached = False
        self.cancel_gesture()
        self._timer.stop()
        for sig, slot in self._model_slots:
            sig.disconnect(slot)
        self._model_slots = []  # bound methods: no reference cycle through the scene
        try:
            self.document.undo_stack.indexChanged.disconnect(self._on_stack_index)
        except (RuntimeError, TypeError):  # the document is gone already
            pass

    @property
    def attached(self) -> bool:
        return self._attached

    def add_node(self, type_id: str, pos: QPointF | tuple[float, float], *, select: bool = True) -> str | None:
        """Push an add command for a node centred at ``pos`` (snapped if
        :attr:`snap_to_grid`); returns the new node's id."""
        x, y = (pos.x(), pos.y()) if isinstance(pos, QPointF) else (float(pos[0]), float(pos[1]))
        if self.snap_to_grid:
            x, y = snap(x), snap(y)
        try:
            cmd = add_node_command(self.document, type_id, (x, y))
        except GraphError as e:
            self.statusMessage.emit(str(e.message))
            return None
        self.document.push(cmd)
        if select:
            self.select_ids(cmd.rewrite.select)
        return cmd.rewrite.select[0] if cmd.rewrite.select else None

    def nudge_selection(self, dx: float, dy: float) -> bool:
        """Move the selected nodes by (dx, dy) as one undo step."""
        g = self.graph
        moves = {}
        for nid in self.selected_node_ids():
            x, y = g.nodes[nid].position
            moves[nid] = ((x, y), (x + dx, y + dy))
        if not moves:
            return False
        self.document.push(MoveNodesCommand(self.document, moves))
        return True

    @property
    def gesture(self) -> Interaction | None:
        return self._gesture

    def cancel_gesture(self) -> None:
        g, self._gesture = self._gesture, None
        if g is not None:
            g.cancel()

    def set_view_zoom(self, zoom: float) -> None:
        """Told by the view when its zoom changes: below ``LOD_SIMPLE`` wires
        are drawn as hairlines and cached, so panning a huge graph stays cheap."""
        low = zoom < LOD_SIMPLE
        if low != self._low_detail:
            self._low_detail = low
            for e in self._edges.values():
                e.set_low_detail(low)

    def item_hovered(self, item) -> None:
        if self._gesture is None:
            self.statusMessage.emit(item.status_text())

    # -------------------------------------------------------- building
    def _build(self) -> None:
        reg = self.graph.registry
        for node in self.graph.nodes.values():
            self._add_node_item(node, reg.get(node.type_id))
        for edge in self.graph.edges.values():
            self._add_edge_item(edge)
        self._apply_analysis(self.graph.analyze())

    def _add_node_item(self, node: Node, node_type=None) -> NodeItem:
        t = node_type or self.graph.registry.get(node.type_id)
        item = make_node_item(node, t)
        self._nodes[node.id] = item
        self.addItem(item)
        return item

    def _add_edge_item(self, edge: Edge) -> EdgeItem | None:
        src, dst = self._nodes.get(edge.src), self._nodes.get(edge.dst)
        if src is None or dst is None:  # pragma: no cover - the model guarantees both ends
            return None
        item = EdgeItem(edge, src, dst)
        if self._low_detail:
            item.set_low_detail(True)
        src.edges.append(item)
        dst.edges.append(item)
        self._edges[edge.id] = item
        self.addItem(item)
        return item

    def _remove_edge_item(self, edge_id: str) -> None:
        item = self._edges.pop(edge_id, None)
        if item is None:
            return
        for end in (item.src_item, item.dst_item):
            try:
                end.edges.remove(item)
            except ValueError:
                pass
        self.removeItem(item)

    def _apply_analysis(self, a: Analysis) -> None:
        self._analysis = a
        errors: dict[str, list[str]] = {}
        for err in a.errors:
            if err.node_id is not None:
                errors.setdefault(err.node_id, []).append(err.message)
        self._error_count = len(a.errors)
        shapes, counts = a.shapes, a.param_counts
        for nid, item in self._nodes.items():
            item.set_analysis(shapes.get(nid), counts.get(nid, 0), errors.get(nid, []))
        for item in self._edges.values():
            item.set_shape_text(fmt_shape(shapes.get(item.src_id)))

    # --------------------------------------------------- model events
    def _mark_dirty(self) -> None:
        self._dirty = True
        if not self._timer.isActive():
            self._timer.start()

    @Slot(int)
    def _on_stack_index(self, index: int) -> None:
        if self._dirty or self._selection_pending:
            self.refresh()

    def _on_node_added(self, node: Node, index: int) -> None:
        self._add_node_item(node)
        self._mark_dirty()

    def _on_node_removed(self, node: Node, index: int) -> None:
        if self._gesture is not None and self._gesture.involves(node.id):
            self.cancel_gesture()
        item = self._nodes.pop(node.id, None)
        if item is None:
            return
        self._quiet_selection += 1
        try:
            for e in list(item.edges):
                self._remove_edge_item(e.edge_id)
            self.removeItem(item)
        finally:
            self._quiet_selection -= 1
        self._mark_dirty()

    def _on_node_changed(self, node: Node, keys) -> None:
        item = self._nodes.get(node.id)
        if item is not None:
            item.set_node(node, self.graph.registry.get(node.type_id))
        if tuple(keys) != ("label",):
            self._mark_dirty()

    def _on_node_moved(self, node: Node) -> None:
        item = self._nodes.get(node.id)
        if item is not None:
            item.setPos(node.position[0], node.position[1])

    def _on_edge_added(self, edge: Edge, index: int) -> None:
        self._add_edge_item(edge)
        self._mark_dirty()

    def _on_edge_removed(self, edge: Edge, index: int) -> None:
        self._quiet_selection += 1
        try:
            self._remove_edge_item(edge.id)
        finally:
            self._quiet_selection -= 1
        self._mark_dirty()

    # ------------------------------------------------------- selection
    @Slot()
    def _on_selection_changed(self) -> None:
        if self._quiet_selection:
            self._selection_pending = True
            if not self._timer.isActive():
                self._timer.start()
            return
        self._emit_selection()

    def _emit_selection(self) -> None:
        ids = (self.selected_node_ids(), self.selected_edge_ids())
        if ids != self._last_selection:
            self._last_selection = ids
            self.selectionIdsChanged.emit(ids[0], ids[1])

    # ------------------------------------------------------------ mouse
    @staticmethod
    def _view_of(event: QGraphicsSceneMouseEvent) -> QGraphicsView | None:
        w = event.widget()
        v = w.parentWidget() if w is not None else None
        return v if isinstance(v, QGraphicsView) else None

    def _node_at(self, pos: QPointF, view: QGraphicsView | None) -> NodeItem | None:
        t = view.transform() if view is not None else QTransform()
        for it in self.items(pos, Qt.ItemSelectionMode.IntersectsItemShape, Qt.SortOrder.DescendingOrder, t):
            if isinstance(it, NodeItem):
                return it
        return None

    def mousePressEvent(self, event: QGraphicsSceneMouseEvent) -> None:
        if self._gesture is not None:
            event.accept()
            return
        button = event.button()
        if button not in (Qt.MouseButton.LeftButton, Qt.MouseButton.RightButton):
            super().mousePressEvent(event)
            return
        pos = event.scenePos()
        view = self._view_of(event)
        item = self._node_at(pos, view)
        if item is None:
            super().mousePressEvent(event)  # wires select; empty space clears, then rubber band
            return
        event.accept()
        mods = event.modifiers()
        toggle = bool(mods & (Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier))
        if button == Qt.MouseButton.RightButton:
            if not item.isSelected():
                self.select_ids([item.node_id])
            return
        if item.has_output and item.port_at(pos) == "out" and not toggle:
            gesture = NewWireGesture(self, item, view)
            self._gesture = gesture
            gesture.start(pos)
            return
        pressed_selected = item.isSelected()
        if toggle:
            item.setSelected(not item.isSelected())
            if not item.isSelected():
                return
        elif not pressed_selected:
            self._quiet_selection += 1
            try:
                self.clearSelection()
                item.setSelected(True)
            finally:
                self._quiet_selection -= 1
            self._emit_selection()
        items = [it for it in self.selectedItems() if isinstance(it, NodeItem)]
        zoom = view.transform().m11() if view is not None else 1.0
        gesture = MoveNodesGesture(self, items, item if (pressed_selected and not toggle) else None,
                                   threshold=3.0 / max(zoom, 1e-6))
        self._gesture = gesture
        gesture.start(pos)

    def mouseMoveEvent(self, event: QGraphicsSceneMouseEvent) -> None:
        if self._gesture is not None:
            self._gesture.move(event.scenePos())
            event.accept()
            return
        super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event: QGraphicsSceneMouseEvent) -> None:
        gesture = self._gesture
        if gesture is not None:
            if event.button() != Qt.MouseButton.LeftButton:
                event.accept()
                return
            self._gesture = None
            done = gesture.release(event.scenePos())
            if (not done and isinstance(gesture, MoveNodesGesture) and not gesture.moved
                    and gesture.pressed is not None and gesture.pressed.scene() is self):
                self.select_ids([gesture.pressed.node_id])  # a click in a selection picks one
            event.accept()
            return
        super().mouseReleaseEvent(event)

    def mouseDoubleClickEvent(self, event: QGraphicsSceneMouseEvent) -> None:
        # a double click is a press like any other here (the window may add actions)
        self.mousePressEvent(event)

    # -------------------------------------------------------------- keys
    def keyPressEvent(self, event) -> None:
        key = event.key()
        if key == Qt.Key.Key_Escape and self._gesture is not None:
            self.cancel_gesture()
            self.statusMessage.emit("Cancelled")
            event.accept()
            return
        if key in _ARROWS and self._gesture is None:
            step = self.NUDGE_BIG if event.modifiers() & Qt.KeyboardModifier.ShiftModifier else self.NUDGE
            dx, dy = _ARROWS[key]
            if self.nudge_selection(dx * step, dy * step):
                event.accept()
                return
        super().keyPressEvent(event)
