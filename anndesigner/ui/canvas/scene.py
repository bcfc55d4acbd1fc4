"""The scene: a mirror of the document's graph.

The scene listens to the graph's events (``node_added`` ... ``edge_removed``)
and keeps a private map from model ids to items; items never own the truth.
Its gestures (add, connect, move, nudge, delete, a weight typed into a wire)
call the document's :class:`~anndesigner.ui.editor.Editor`, which pushes the
undo commands; a refused edit becomes a ``statusMessage``.

Shapes, parameter counts and errors come from ``graph.analyze()``, applied
once per burst of model events: right after each undo-stack step (push, undo,
redo) and otherwise on a zero-timer, so a paste of 100 nodes analyses once.

Live training view:

- :meth:`GraphScene.show_weights` colours every wire into a weighted node by
  its weights (blue positive, orange-red negative, 1-6 px by magnitude). When
  not training the scene shows the document's own weights by itself; while
  training it shows each snapshot of the session given to
  :meth:`GraphScene.set_training` (30 times a second: the work is a few NumPy
  operations plus one call per wire whose look changed), with the snapshot's
  activations, and the document's weights again when the run ends.
- :meth:`GraphScene.set_activations` and :meth:`GraphScene.set_thumbnail_provider`
  feed the node tooltips, which are built only when asked for.
- :meth:`GraphScene.edit_weight` sets one weight of a neuron-level wire (one
  undo step); clicking such a wire opens an inline editor.
- While ``document.locked`` structural edits from the canvas are refused with
  ``statusMessage(document.lock_reason)``; moving and selecting still work.
- :meth:`GraphScene.set_extra_errors` adds messages (e.g. about the data set)
  to nodes' badges, counted in ``errorsChanged``.
"""

from __future__ import annotations

import base64
import html
import math
from dataclasses import dataclass, field
from typing import Callable, Iterable, Iterator, Mapping

import numpy as np
from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QPointF, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QImage, QTransform
from PySide6.QtWidgets import QGraphicsScene, QGraphicsSceneHelpEvent, QGraphicsSceneMouseEvent, QGraphicsView

from ...errors import AnnError
from ...graph import Analysis, Edge, Node, fmt_shape
from ...graph.events import Connections
from .. import style
from ..document import Document
from ..editor import Editor
from .interactions import Interaction, MoveNodesGesture, NewWireGesture, WeightEditor
from .items import GRID, LOD_SIMPLE, EdgeItem, NodeItem, make_node_item, snap

_ARROWS = {
    Qt.Key.Key_Left: (-1, 0),
    Qt.Key.Key_Right: (1, 0),
    Qt.Key.Key_Up: (0, -1),
    Qt.Key.Key_Down: (0, 1),
}


#: a wire is restyled only when its relative width moved by 1/WIDTH_STEPS or its sign flipped
WIDTH_STEPS = 100
#: at most this many weights are listed one by one in a neuron's tooltip
TOOLTIP_ROWS = 12
#: thumbnails in tooltips are scaled down to fit this many pixels
THUMB_MAX = 128


@dataclass(frozen=True)
class WireWeights:
    """Where one wire's weights are: rows ``start:stop`` of ``kernel`` (the
    destination's ``"<dst>/kernel"``, ``units`` columns; 1 for a Neuron)."""

    edge_id: str
    src: str
    dst: str
    kernel: str
    start: int
    stop: int
    units: int

    @property
    def single(self) -> bool:
        """One weight: a neuron-level wire (one input value into one unit)."""
        return self.stop - self.start == 1 and self.units == 1


@dataclass
class _WeightPlan:
    """For one graph revision: every wire into a weighted node and where its
    weights lie in the concatenation of the flattened kernels. A wire's rows of
    a C-ordered kernel are contiguous, and the wires into a node cover its rows
    in order, so the segments tile the concatenation and one
    ``np.add.reduceat`` gives every wire's sum."""

    revision: int
    kernels: list[tuple[str, tuple[int, ...]]] = field(default_factory=list)
    wires: list[WireWeights] = field(default_factory=list)
    items: list[EdgeItem] = field(default_factory=list)
    starts: np.ndarray = field(default_factory=lambda: np.zeros(0, np.intp))
    counts: np.ndarray = field(default_factory=lambda: np.zeros(0))
    kernel_of: np.ndarray = field(default_factory=lambda: np.zeros(0, np.intp))
    zeros: list[np.ndarray] = field(default_factory=list)
    by_edge: dict[str, WireWeights] = field(default_factory=dict)
    by_dst: dict[str, list[WireWeights]] = field(default_factory=dict)
    #: what each wire shows: 2 * width step + (1 if negative), -1 default look, -2 unknown
    codes: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))


def _num(v: float) -> str:
    v = float(v)
    return "0" if v == 0 else f"{v:.4g}"


def _esc(text: str) -> str:
    return html.escape(str(text), quote=False)


def _as_array(w) -> np.ndarray | None:
    if w is None:
        return None
    return w if isinstance(w, np.ndarray) else np.asarray(w)


class GraphScene(QGraphicsScene):
    """Items for every node and wire of ``document.graph``, kept in step with it."""

    #: refusal reasons, hover information
    statusMessage = Signal(str)
    #: (node ids, edge ids) whenever the selection changes
    selectionIdsChanged = Signal(list, list)
    #: the number of validation errors, after every change
    errorsChanged = Signal(int)
    #: the document's lock reason changed ("" when structural edits are allowed again)
    lockChanged = Signal(str)
    #: the graph became empty (True) or got its first node (False): the view's hint follows
    emptyChanged = Signal(bool)

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
        #: live view: the weights shown (None: default look), activations, thumbnails, data errors
        self.follow_document_weights = True
        self._weights: Mapping[str, np.ndarray] | None = None
        self._plan: _WeightPlan | None = None
        self._weights_dirty = True
        self._weights_timer = QTimer(self)
        self._weights_timer.setSingleShot(True)
        self._weights_timer.setInterval(0)
        self._weights_timer.timeout.connect(self.show_document_weights)
        self._activations: Mapping[str, np.ndarray] | None = None
        self._thumbnails: Callable[[str], QImage | None] | None = None
        self._extra_errors: dict[str, list[str]] = {}
        self._weight_field: WeightEditor | None = None
        #: the training session whose snapshots the scene shows (set_training)
        self._training = None
        self._training_links = Connections()
        self._showing_snapshot = False
        self._edge_press: tuple[str, QPointF] | None = None
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
        document.lockChanged.connect(self._on_lock_changed)
        document.network.weights_changed.connect(self._on_weights_changed)
        self.selectionChanged.connect(self._on_selection_changed)
        self._attached = True
        self.show_document_weights()

    # ------------------------------------------------------------- public
    def node_item(self, node_id: str) -> NodeItem | None:
        return self._nodes.get(node_id)

    def edge_item(self, edge_id: str) -> EdgeItem | None:
        return self._edges.get(edge_id)

    def is_empty(self) -> bool:
        """True when the graph has no nodes (the view shows how to start)."""
        return not self._nodes

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
        if self._weights_dirty:
            self.show_document_weights()

    def detach(self) -> None:
        """Stop following the model (the window closes or the document is replaced)."""
        if not getattr(self, "_attached", False):
            return
        self._attached = False
        self.cancel_gesture()
        self.close_weight_editor()
        self.set_training(None)
        self._timer.stop()
        self._weights_timer.stop()
        for sig, slot in self._model_slots:
            sig.disconnect(slot)
        self._model_slots = []  # bound methods: no reference cycle through the scene
        self.document.network.weights_changed.disconnect(self._on_weights_changed)  # a plain callback list
        try:
            self.document.undo_stack.indexChanged.disconnect(self._on_stack_index)
            self.document.lockChanged.disconnect(self._on_lock_changed)
        except (RuntimeError, TypeError):  # the document is gone already
            pass

    @property
    def attached(self) -> bool:
        return self._attached

    @property
    def editor(self) -> Editor:
        """The document's editor: every gesture's edit goes through it."""
        return self.document.editor

    def edit(self, intent: Callable, *args, **kwargs):
        """Call an editor intent for a gesture: a refusal (the training lock, an invalid
        edit) becomes a ``statusMessage`` and None; else the pushed command (or None)."""
        try:
            return intent(*args, **kwargs)
        except AnnError as e:
            message = str(e)
            e.__traceback__ = None  # no cycle through our frames (and the Qt events in them)
        self.statusMessage.emit(message)
        return None

    def add_node(self, type_id: str, pos: QPointF | tuple[float, float], *, select: bool = True) -> str | None:
        """Add a node centred at ``pos`` (snapped if :attr:`snap_to_grid`); returns the
        new node's id (None when refused: the status line says why)."""
        x, y = (pos.x(), pos.y()) if isinstance(pos, QPointF) else (float(pos[0]), float(pos[1]))
        if self.snap_to_grid:
            x, y = snap(x), snap(y)
        cmd = self.edit(self.editor.add_node, type_id, (x, y))
        if cmd is None:
            return None
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
        self.edit(self.editor.move_nodes, moves)
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
        """Told by an item the mouse entered: its status line, and a fresh
        tooltip (without the thumbnail, which is made only when the tooltip shows)."""
        if isinstance(item, NodeItem):
            item.setToolTip(self.node_tooltip(item.node_id, thumbnail=False))
            text = item.status_text()
        elif isinstance(item, EdgeItem):
            item.setToolTip(self.edge_tooltip(item.edge_id))
            w = self.wire_weights(item.edge_id)
            editable = w is not None and w.single and not self.document.locked
            if editable:
                item.setCursor(Qt.CursorShape.PointingHandCursor)
            else:
                item.unsetCursor()
            text = item.status_text()
            extra = self._edge_weight_text(item.edge_id)
            if extra:
                text += " · " + extra + (" (click to edit)" if editable else "")
        else:  # pragma: no cover - only nodes and wires report hovers
            text = item.status_text()
        if self._gesture is None:
            self.statusMessage.emit(text)

    # ---------------------------------------------------------- locking
    @property
    def locked(self) -> bool:
        """True while the document refuses structural edits (training runs)."""
        return self.document.locked

    def refuse_if_locked(self) -> bool:
        """If the document is locked, say why (``statusMessage``) and return True: a
        structural gesture (a new wire, a drop, a weight field) does not start then."""
        if self.editor.locked:
            self.statusMessage.emit(self.document.lock_reason)
            return True
        return False

    @Slot(str)
    def _on_lock_changed(self, reason: str) -> None:
        if reason:
            if isinstance(self._gesture, NewWireGesture):
                self.cancel_gesture()
            self.close_weight_editor()
        else:
            self._schedule_document_weights()
        self.lockChanged.emit(reason)

    def delete_ids(self, node_ids: Iterable[str] = (), edge_ids: Iterable[str] = ()) -> bool:
        """Delete these nodes and wires as one undo step (refused while locked: the
        status line says why). True when something was deleted."""
        return self.edit(self.editor.delete, node_ids, edge_ids) is not None

    def delete_selection(self) -> bool:
        """Delete the selected nodes and wires as one undo step (refused while locked)."""
        return self.delete_ids(self.selected_node_ids(), self.selected_edge_ids())

    # -------------------------------------------------------- weights
    def show_weights(self, weights: Mapping[str, np.ndarray] | None) -> None:
        """Style every wire into a weighted node (Neuron, Dense, Output with
        weights) by its weights in ``weights`` ({"<node>/kernel": array, ...}):
        a single weight by its sign and |w|, a block by the sign of its mean and
        its mean |w|; widths are relative to the largest shown. Wires into
        weightless nodes, and into nodes whose kernel is missing or of another
        shape, keep the default look. ``None`` restores the default look.

        Cheap enough for 30 calls a second on thousands of wires: the wire
        layout is cached per graph revision, the statistics are a few NumPy
        operations over all kernels at once, and only wires whose look changed
        (by a width step or a sign) are touched."""
        plan = self._weight_plan()
        self._weights = weights
        if weights is None:
            for it in self._edges.values():
                it.set_weight_style(0.0, None)
            plan.codes = np.full(len(plan.items), -2, np.int64)
            return
        n = len(plan.items)
        if not n:
            return
        parts = []
        bad = []
        get = weights.get
        for k, (name, shape) in enumerate(plan.kernels):
            w = get(name)
            if w is None or getattr(w, "shape", None) != shape:
                parts.append(plan.zeros[k])
                bad.append(k)
            else:
                parts.append(w.reshape(-1))
        flat = np.concatenate(parts)
        with np.errstate(invalid="ignore", over="ignore"):
            sums = np.add.reduceat(flat, plan.starts, dtype=np.float64)
            mags = np.add.reduceat(np.abs(flat), plan.starts, dtype=np.float64) / plan.counts
            finite = np.isfinite(mags) & np.isfinite(sums)
            valid = np.ones(n, bool) if not bad else ~np.isin(plan.kernel_of, bad)
            ok = valid & finite
            top = float(mags[ok].max()) if ok.any() else 0.0
            norm = mags / top if top > 0 else np.zeros(n)
            norm[~finite] = 1.0  # diverged: the widest wire
        codes = 2 * np.rint(norm * WIDTH_STEPS).astype(np.int64) + (sums < 0)
        codes[~valid] = -1
        changed = np.flatnonzero(codes != plan.codes)
        items = plan.items
        for j in changed.tolist():
            c = int(codes[j])
            if c < 0:
                items[j].set_weight_style(0.0, None)
            else:
                items[j].set_weight_style(-1.0 if c & 1 else 1.0, float(norm[j]))
        plan.codes = codes

    def shown_weights(self) -> Mapping[str, np.ndarray] | None:
        """The weights last passed to :meth:`show_weights` (None: none shown)."""
        return self._weights

    def show_document_weights(self) -> None:
        """Show the document's current weights, none while it does not compile (done
        by itself when they or the structure change; not while the document is locked by training, when
        the scene shows the session's snapshots)."""
        self._weights_timer.stop()
        self._weights_dirty = False
        if not self._attached or self.document.locked:
            return
        if self._showing_snapshot:  # a run's activations are not the document's
            self._showing_snapshot = False
            self._activations = None
        if not self.follow_document_weights:
            self.show_weights(None)
            return
        net = self.document.network
        # a network that does not compile shows no weights (the wires' default look)
        self.show_weights(net.get_weights() if net.compiles else None)

    # ------------------------------------------------------- live training
    def set_training(self, controller) -> None:
        """Show the snapshots of ``controller`` (a TrainingController: ``snapshotReady``,
        ``finished``) while it trains: their weights on the wires and their activations in
        the tooltips; when a run ends the document's weights come back (None: follow none)."""
        self._training_links.disconnect_all()
        self._training = controller
        if controller is not None:
            self._training_links.connect_many([(controller.snapshotReady, self._show_snapshot),
                                               (controller.finished, self._training_finished)])

    @Slot(object)
    def _show_snapshot(self, snap) -> None:
        if not self._attached:
            return
        self.show_weights(snap.weights)
        self.set_activations(snap.activations)
        self._showing_snapshot = True

    @Slot(object)
    def _training_finished(self, _result=None) -> None:
        """A run ended: unless its result was pushed (and shown already), show the
        document's weights instead of the last snapshot's."""
        if self._showing_snapshot:
            self.show_document_weights()

    def wire_weights(self, edge_id: str) -> WireWeights | None:
        """Where the weights of a wire into a weighted node are (None for other wires)."""
        return self._weight_plan().by_edge.get(edge_id)

    def _schedule_document_weights(self) -> None:
        self._weights_dirty = True
        if not self._weights_timer.isActive():
            self._weights_timer.start()

    def _on_weights_changed(self) -> None:
        # a plain callback, maybe in the middle of a rewrite: show them when it is done
        self._schedule_document_weights()

    def _weight_plan(self) -> _WeightPlan:
        plan = self._plan
        rev = self.graph.revision
        if plan is not None and plan.revision == rev:
            return plan
        plan = self._build_weight_plan(rev)
        members = set(map(id, plan.items))
        for it in self._edges.values():  # wires no longer into a weighted node
            if id(it) not in members and it.weight_style()[0] is not None:
                it.set_weight_style(0.0, None)
        self._plan = plan
        return plan

    def _build_weight_plan(self, revision: int) -> _WeightPlan:
        g = self.graph
        a = g.analyze()
        shapes = a.shapes
        incoming: dict[str, list[Edge]] = {}
        for e in g.edges.values():
            incoming.setdefault(e.dst, []).append(e)
        plan = _WeightPlan(revision)
        starts: list[int] = []
        counts: list[int] = []
        kernel_of: list[int] = []
        offset = 0
        for nid, node in g.nodes.items():
            ins = incoming.get(nid)
            if not ins or not g.registry.get(node.type_id).wire_weights:
                continue
            spec = next((w for w in a.weights.get(nid, ()) if w.name == "kernel"), None)
            if spec is None:
                continue  # an Output without weights, or unknown shapes
            kshape = tuple(int(d) for d in spec.shape)
            if len(kshape) not in (1, 2):
                continue
            units = kshape[1] if len(kshape) == 2 else 1
            widths = []
            for e in ins:
                s = shapes.get(e.src)
                if not s or e.id not in self._edges:
                    break
                widths.append(int(s[-1]))
            if len(widths) != len(ins) or sum(widths) != kshape[0] or min(widths) < 1 or units < 1:
                continue
            name = f"{nid}/kernel"
            k = len(plan.kernels)
            plan.kernels.append((name, kshape))
            plan.zeros.append(np.zeros(kshape[0] * units, np.float32))
            row = 0
            for e, w in zip(ins, widths):
                ww = WireWeights(e.id, e.src, nid, name, row, row + w, units)
                plan.wires.append(ww)
                plan.items.append(self._edges[e.id])
                plan.by_edge[e.id] = ww
                plan.by_dst.setdefault(nid, []).append(ww)
                starts.append(offset + row * units)
                counts.append(w * units)
                kernel_of.append(k)
                row += w
            offset += kshape[0] * units
        plan.starts = np.array(starts, np.intp)
        plan.counts = np.array(counts, np.float64)
        plan.kernel_of = np.array(kernel_of, np.intp)
        plan.codes = np.full(len(plan.items), -2, np.int64)
        return plan

    def _kernel(self, weights: Mapping[str, np.ndarray] | None, wire: WireWeights) -> np.ndarray | None:
        """The kernel ``wire`` belongs to, as (rows, units), if it has the shape the graph needs."""
        if weights is None:
            return None
        k = _as_array(weights.get(wire.kernel))
        rows = sum(w.stop - w.start for w in self._weight_plan().by_dst.get(wire.dst, ()))
        if k is None or k.size != rows * wire.units or k.ndim not in (1, 2):
            return None
        return k.reshape(rows, wire.units)

    # ------------------------------------------------------ edit a weight
    def edit_weight(self, edge_id: str, value: float) -> bool:
        """Set the single weight of a neuron-level wire to ``value``: one
        undo step (``Editor.set_weight``). Refused (False, ``statusMessage``) while
        the document is locked, for wires that are not one weight, for values
        that are not finite numbers, and while the weights are unknown."""
        if self.refuse_if_locked():
            return False
        wire = self.wire_weights(edge_id)
        if wire is None or not wire.single:
            what = "a block of weights" if wire is not None else "no weight"
            self.statusMessage.emit(f"Wire {edge_id} carries {what}: only a wire between single values "
                                    f"(a neuron-level wire) has one weight to edit")
            return False
        try:
            value = float(value)
        except (TypeError, ValueError):
            value = math.nan
        if not math.isfinite(value):
            self.statusMessage.emit(f"A weight must be a finite number, not {value}")
            return False
        try:
            current = self.document.network.weights_for_saving()
        except AnnError:
            current = {}
        k = self._kernel(current, wire)
        if k is None:
            self.statusMessage.emit(f"The weights of {wire.dst} are not known yet: fix the network's errors first")
            return False
        text = f"Set weight {wire.src} → {wire.dst}"
        try:
            cmd = self.editor.set_weight(wire.kernel, wire.start, value, text)
        except AnnError as e:
            self.statusMessage.emit(str(e))
            return False
        if cmd is not None:
            set_to = cmd.new[wire.kernel].reshape(-1)[wire.start]
            self.statusMessage.emit(f"Weight {wire.src} → {wire.dst} = {_num(set_to)}")
        return True  # (unchanged: nothing to undo)

    def begin_weight_edit(self, edge_id: str, view: QGraphicsView | None = None,
                          scene_pos: QPointF | None = None) -> WeightEditor | None:
        """Open the inline editor for a neuron-level wire's weight next to
        ``scene_pos`` (default: the wire's middle) in ``view`` (default: the
        first view). Enter or leaving the field sets it (:meth:`edit_weight`);
        Escape cancels."""
        if self.refuse_if_locked():
            return None
        wire = self.wire_weights(edge_id)
        item = self._edges.get(edge_id)
        if wire is None or not wire.single or item is None:
            return None
        if view is None:
            views = self.views()
            view = views[0] if views else None
        if view is None:
            return None
        try:
            k = self._kernel(self.document.network.weights_for_saving(), wire)
        except AnnError:
            k = None
        if k is None:
            self.statusMessage.emit(f"The weights of {wire.dst} are not known yet: fix the network's errors first")
            return None
        value = float(k.reshape(-1)[wire.start])
        self.close_weight_editor()
        at = scene_pos if scene_pos is not None else item.path().pointAtPercent(0.5)
        editor = WeightEditor(view.viewport(), value, f"{wire.src} → {wire.dst}")
        editor.setProperty("edge_id", edge_id)
        editor.committed.connect(lambda v, e=edge_id: self.edit_weight(e, v))
        editor.invalid.connect(self.statusMessage.emit)
        editor.closed.connect(self._on_editor_closed)
        self._weight_field = editor
        editor.open_at(view.mapFromScene(at))
        self.statusMessage.emit(f"Weight {wire.src} → {wire.dst}: type a number, Enter to set, Escape to cancel")
        return editor

    @property
    def weight_editor(self) -> WeightEditor | None:
        """The open inline weight editor, if any."""
        return self._weight_field

    def close_weight_editor(self) -> None:
        ed, self._weight_field = self._weight_field, None
        if ed is not None:
            ed.cancel()

    def _on_editor_closed(self) -> None:
        if self._weight_field is self.sender():
            self._weight_field = None

    # ---------------------------------------------------- live readings
    def set_activations(self, activations: Mapping[str, np.ndarray] | None) -> None:
        """Each node's output on the last batch, {node id: (rows, units)}, for the tooltips."""
        self._activations = activations

    def set_thumbnail_provider(self, provider: Callable[[str], QImage | None] | None) -> None:
        """``provider(node_id)``: the node's output over the input plane as a
        small image (or None), asked for only when a node's tooltip shows."""
        self._thumbnails = provider

    def set_extra_errors(self, errors: Mapping[str, str | Iterable[str]] | None) -> None:
        """Messages about nodes from outside the graph (e.g. "the data has 3
        inputs"), shown in their badges and tooltips with the graph's own
        errors and counted in ``errorsChanged``. Replaces the previous ones."""
        new: dict[str, list[str]] = {}
        for nid, msgs in (errors or {}).items():
            lst = [msgs] if isinstance(msgs, str) else [str(m) for m in msgs]
            lst = [m for m in lst if m]
            if lst:
                new[str(nid)] = lst
        if new != self._extra_errors:
            self._extra_errors = new
            self.refresh()

    @property
    def extra_errors(self) -> dict[str, list[str]]:
        return {k: list(v) for k, v in self._extra_errors.items()}

    # ------------------------------------------------------------ tooltips
    def node_tooltip(self, node_id: str, thumbnail: bool = True) -> str:
        """Rich text: the node, its errors, its weights and bias (a neuron's
        weights one by one with their sources; a layer's shape and mean/max
        |w|), its activation on the last batch, and (``thumbnail``) its output
        over the input plane from the thumbnail provider."""
        item = self._nodes.get(node_id)
        node = self.graph.nodes.get(node_id)
        if item is None or node is None:
            return ""
        head = f"<b>{_esc(item.type_title)} '{_esc(node_id)}'</b>"
        if node.label:
            head += f" — {_esc(node.label)}"
        lines = [head]
        err = style.ERROR_COLOR.name()
        lines += [f"<span style='color:{err}'>{_esc(m)}</span>" for m in item.errors]
        if not item.errors:
            lines.append(_esc(item.description))
        lines += self._weight_lines(node_id)
        lines += self._activation_lines(node_id)
        body = "<br>".join(lines)
        if thumbnail:
            body += self._thumbnail_html(node_id)
        return f"<qt>{body}</qt>"

    def edge_tooltip(self, edge_id: str) -> str:
        item = self._edges.get(edge_id)
        if item is None:
            return ""
        text = f"{item.shape_text}  ·  {item.src_id} → {item.dst_id}"
        extra = self._edge_weight_text(edge_id)
        return f"{text}\n{extra}" if extra else text

    def _edge_weight_text(self, edge_id: str) -> str:
        wire = self.wire_weights(edge_id)
        k = self._kernel(self._weights, wire) if wire is not None else None
        if k is None:
            return ""
        block = np.asarray(k[wire.start:wire.stop], np.float64)
        if wire.single:
            return f"weight {_num(block.item())}"
        return (f"{block.shape[0]}×{block.shape[1]} weights: mean {_num(block.mean())}, "
                f"mean |w| {_num(np.abs(block).mean())}")

    def _weight_lines(self, node_id: str) -> list[str]:
        wires = self._weight_plan().by_dst.get(node_id)
        if not wires:
            return []
        k = self._kernel(self._weights, wires[0])
        if k is None:
            return []
        out = []
        units = wires[0].units
        if units == 1:
            out.append("<b>Weights</b>")
            listed = 0
            total = k.shape[0]
            for w in wires:
                for r in range(w.start, w.stop):
                    if listed == TOOLTIP_ROWS:
                        break
                    src = w.src if w.stop - w.start == 1 else f"{w.src}[{r - w.start}]"
                    out.append(f"&nbsp;&nbsp;{_esc(src)}: {_num(k[r, 0])}")
                    listed += 1
            if total > listed:
                out.append(f"&nbsp;&nbsp;… {total - listed} more")
            out += self._formula_lines(node_id, wires, k)
        else:
            a = np.abs(np.asarray(k, np.float64))
            out.append(f"<b>Weights</b> {k.shape[0]}×{k.shape[1]}: mean |w| {_num(a.mean())}, "
                       f"max |w| {_num(a.max())}")
        b = _as_array(self._weights.get(f"{node_id}/bias")) if self._weights is not None else None
        if b is not None and b.size:
            bf = np.asarray(b, np.float64).reshape(-1)
            if bf.size <= 6:
                out.append("<b>Bias</b> " + ", ".join(_num(v) for v in bf))
            else:
                out.append(f"<b>Bias</b> ({bf.size}): mean {_num(bf.mean())}, "
                           f"range {_num(bf.min())} … {_num(bf.max())}")
        return out

    def _formula_lines(self, node_id: str, wires: list[WireWeights], k: np.ndarray) -> list[str]:
        """A single unit's formula with its numbers plugged in:
        z = 0.75·a − 1.5·b + 0.25, y = sigmoid(z) (the first TOOLTIP_ROWS terms)."""
        terms: list[tuple[float, str]] = []
        for w in wires:
            for r in range(w.start, w.stop):
                src = w.src if w.stop - w.start == 1 else f"{w.src}[{r - w.start}]"
                terms.append((float(k[r, 0]), src))
        if not terms:
            return []
        parts = []
        for i, (v, src) in enumerate(terms[:TOOLTIP_ROWS]):
            sign = ("−" if v < 0 else "") if i == 0 else (" − " if v < 0 else " + ")
            parts.append(f"{sign}{_num(abs(v))}·{_esc(src)}")
        if len(terms) > TOOLTIP_ROWS:
            parts.append(f" + … ({len(terms) - TOOLTIP_ROWS} more)")
        b = _as_array(self._weights.get(f"{node_id}/bias")) if self._weights is not None else None
        if b is not None and b.size == 1:
            v = float(np.asarray(b).reshape(-1)[0])
            parts.append(f" {'−' if v < 0 else '+'} {_num(abs(v))}")
        node = self.graph.nodes.get(node_id)
        act = str(node.params.get("activation", "linear")) if node is not None else "linear"
        y = "y = z" if act == "linear" else f"y = {_esc(act)}(z)"
        return [f"<b>Now</b> z = {''.join(parts)},&nbsp; {y}"]

    def _activation_lines(self, node_id: str) -> list[str]:
        acts = self._activations.get(node_id) if self._activations is not None else None
        if acts is None:
            return []
        a = np.asarray(acts, np.float64)
        if not a.size:
            return []
        rows = a.shape[0] if a.ndim else 1
        return [f"<b>Activation</b> on the last batch ({rows} row{'s' if rows != 1 else ''}): "
                f"mean {_num(a.mean())}, range {_num(a.min())} … {_num(a.max())}"]

    def _thumbnail_html(self, node_id: str) -> str:
        fn = self._thumbnails
        if fn is None:
            return ""
        try:
            img = fn(node_id)
        except AnnError:
            return ""
        if img is None or img.isNull():
            return ""
        if img.width() > THUMB_MAX or img.height() > THUMB_MAX:
            img = img.scaled(THUMB_MAX, THUMB_MAX, Qt.AspectRatioMode.KeepAspectRatio,
                             Qt.TransformationMode.SmoothTransformation)
        data = QByteArray()
        buf = QBuffer(data)
        buf.open(QIODevice.OpenModeFlag.WriteOnly)
        img.save(buf, "PNG")
        buf.close()
        b64 = base64.b64encode(bytes(data.data())).decode("ascii")
        return (f"<br>Output over the input plane:<br>"
                f"<img src='data:image/png;base64,{b64}' width='{img.width()}' height='{img.height()}'>")

    def helpEvent(self, event: QGraphicsSceneHelpEvent) -> None:
        """A tooltip is about to show: build it now (with the thumbnail)."""
        w = event.widget()
        view = w.parentWidget() if w is not None else None
        t = view.transform() if isinstance(view, QGraphicsView) else QTransform()
        for it in self.items(event.scenePos(), Qt.ItemSelectionMode.IntersectsItemShape,
                             Qt.SortOrder.DescendingOrder, t):
            if isinstance(it, NodeItem):
                it.setToolTip(self.node_tooltip(it.node_id))
                break
            if isinstance(it, EdgeItem):
                it.setToolTip(self.edge_tooltip(it.edge_id))
                break
        super().helpEvent(event)

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
        if self._weight_field is not None and self._weight_field.property("edge_id") == edge_id:
            self.close_weight_editor()
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
        for nid, msgs in self._extra_errors.items():
            if nid in self._nodes:
                errors[nid] = errors.get(nid, []) + msgs
                self._error_count += len(msgs)
        shapes, counts = a.shapes, a.param_counts
        for nid, item in self._nodes.items():
            item.set_analysis(shapes.get(nid), counts.get(nid, 0), errors.get(nid, []))
        for item in self._edges.values():
            item.set_shape_text(fmt_shape(shapes.get(item.src_id)))

    # --------------------------------------------------- model events
    def _mark_dirty(self) -> None:
        self._dirty = True
        self._weights_dirty = True
        if not self._timer.isActive():
            self._timer.start()

    @Slot(int)
    def _on_stack_index(self, index: int) -> None:
        if self._dirty or self._selection_pending:
            self.refresh()
        if self._weights_dirty:
            self.show_document_weights()

    def _on_node_added(self, node: Node, index: int) -> None:
        self._add_node_item(node)
        self._mark_dirty()
        if len(self._nodes) == 1:
            self.emptyChanged.emit(False)

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
        if not self._nodes:
            self.emptyChanged.emit(True)

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

    def _edge_at(self, pos: QPointF, view: QGraphicsView | None) -> EdgeItem | None:
        t = view.transform() if view is not None else QTransform()
        for it in self.items(pos, Qt.ItemSelectionMode.IntersectsItemShape, Qt.SortOrder.DescendingOrder, t):
            if isinstance(it, EdgeItem):
                return it
            if isinstance(it, NodeItem):
                return None
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
        self._edge_press = None
        if item is None:
            if button == Qt.MouseButton.LeftButton and event.modifiers() == Qt.KeyboardModifier.NoModifier:
                edge = self._edge_at(pos, view)
                w = self.wire_weights(edge.edge_id) if edge is not None else None
                if w is not None and w.single:  # a click (press and release in place) edits its weight
                    self._edge_press = (edge.edge_id, QPointF(pos))
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
            if self.refuse_if_locked():  # no new wires while training
                return
            self._start_gesture(NewWireGesture(self, item, view), pos)
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
        self._start_gesture(MoveNodesGesture(self, items, item if (pressed_selected and not toggle) else None,
                                             threshold=3.0 / max(zoom, 1e-6)), pos)

    def _start_gesture(self, gesture: Interaction, pos: QPointF) -> None:
        """Make ``gesture`` the current one; if it fails to start, none is left half-started."""
        self._gesture = gesture
        try:
            gesture.start(pos)
        except BaseException:
            if self._gesture is gesture:
                self._gesture = None
                try:
                    gesture.cancel()
                except Exception:  # the error being raised is the one to report
                    pass
            raise

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
        press, self._edge_press = self._edge_press, None
        if press is not None and event.button() == Qt.MouseButton.LeftButton:
            view = self._view_of(event)
            zoom = view.transform().m11() if view is not None else 1.0
            d = event.scenePos() - press[1]
            if (abs(d.x()) + abs(d.y())) * zoom <= 4.0 and press[0] in self._edges:
                self.begin_weight_edit(press[0], view, event.scenePos())

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
        if key in (Qt.Key.Key_Delete, Qt.Key.Key_Backspace) and self._gesture is None:
            if self.selected_node_ids() or self.selected_edge_ids():
                self.delete_selection()
                event.accept()
                return
        if key in _ARROWS and self._gesture is None:
            step = self.NUDGE_BIG if event.modifiers() & Qt.KeyboardModifier.ShiftModifier else self.NUDGE
            dx, dy = _ARROWS[key]
            if self.nudge_selection(dx * step, dy * step):
                event.accept()
                return
        super().keyPressEvent(event)
