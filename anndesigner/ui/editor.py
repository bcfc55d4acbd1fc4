"""The one home for editing a document: a method per user intent.

Every edit the window makes (the canvas's gestures, the menus, the inspector,
the data and training panels, a finished training run) goes through the
document's :class:`Editor` (``doc.editor``). Each method validates its input,
refuses a structural edit while a training run holds the document's lock,
builds the undo command (``commands.py``) and pushes it; it returns the pushed
command, or None when the edit would change nothing. Invalid input raises the
model's own :class:`~anndesigner.errors.AnnError` (``GraphError``,
``ParameterError``, ...) before anything is pushed; a refusal because training
runs raises :class:`EditLocked`, whose message is the lock reason.

What may change while training runs: node positions (moves, auto-layout),
labels and the network's title and description, and the parameters marked
``live`` (Dropout's rate, ...). Everything else waits: nodes, wires, weights,
other parameters, the training settings and the data set. A run's result is
applied (:meth:`Editor.apply_training_result`) after the run released the lock.
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any, Iterable, Mapping

import numpy as np
from PySide6.QtCore import QObject
from PySide6.QtGui import QUndoCommand

from ..engine import plan_collapse_neurons, plan_expand_dense
from ..errors import AnnError, GraphError
from . import commands as C

if TYPE_CHECKING:
    from .document import Document

Position = tuple[float, float]
_MISSING = object()


class EditLocked(AnnError):
    """An edit refused because a training run locks the structure; the message says why."""


class Editor(QObject):
    """The intents that change ``doc``'s model, one undo command each."""

    def __init__(self, doc: "Document"):
        super().__init__(doc)
        self.doc = doc

    # ------------------------------------------------------------------ lock
    @property
    def locked(self) -> bool:
        """True while structural edits are refused (a training run holds the document)."""
        return self.doc.locked

    def check_unlocked(self) -> None:
        """Raise :class:`EditLocked` while the document is locked."""
        if self.doc.locked:
            raise EditLocked(self.doc.lock_reason)

    def _push(self, cmd: QUndoCommand) -> QUndoCommand:
        self.doc.undo_stack.push(cmd)
        return cmd

    # ------------------------------------------------------------- structure
    def add_node(self, type_id: str, position: Position, **params: Any) -> C.RewriteCommand:
        """Add a node of ``type_id`` at ``position``; ``cmd.rewrite.select`` names it."""
        self.check_unlocked()
        return self._push(C.add_node_command(self.doc, type_id, (float(position[0]), float(position[1])), **params))

    def connect(self, src: str, dst: str, src_port: str = "out", dst_port: str = "in") -> C.RewriteCommand:
        """Wire ``src``'s port to ``dst``'s (GraphError when the graph refuses it)."""
        self.check_unlocked()
        return self._push(C.connect_command(self.doc, src, dst, src_port, dst_port))

    def insert_after(self, node_id: str, type_id: str, **params: Any) -> C.RewriteCommand:
        """Put a new node of ``type_id`` after ``node_id`` (between it and what it feeds), one undo step;
        GraphError (nothing pushed) when the graph would refuse the wiring."""
        self.check_unlocked()
        g = self.doc.graph
        if node_id not in g.nodes:
            raise GraphError(f"there is no node '{node_id}'")
        ids = {t.type_id.lower(): t.type_id for t in g.registry}
        cmd = C.insert_after_command(self.doc, node_id, ids.get(type_id.lower(), type_id), **params)
        return self._push(cmd)

    def delete(self, node_ids: Iterable[str] = (), edge_ids: Iterable[str] = ()) -> C.RewriteCommand | None:
        """Delete these nodes (with their wires) and wires, one undo step; ids not in
        the graph are ignored."""
        g = self.doc.graph
        nodes = [n for n in node_ids if n in g.nodes]
        edges = [e for e in edge_ids if e in g.edges]
        if not nodes and not edges:
            return None
        self.check_unlocked()
        return self._push(C.delete_command(self.doc, nodes, edges))

    def paste(self, fragment: Mapping[str, Any], offset: Position = (40.0, 40.0),
              text: str = "Paste") -> C.RewriteCommand:
        """Insert a copied fragment (``commands.copy_fragment``) with fresh ids."""
        self.check_unlocked()
        return self._push(C.paste_command(self.doc, fragment, offset=offset, text=text))

    def duplicate(self, node_ids: Iterable[str]) -> C.RewriteCommand | None:
        """Paste a copy of these nodes (their wires and weights) beside them."""
        ids = [n for n in node_ids if n in self.doc.graph.nodes]
        if not ids:
            return None
        self.check_unlocked()
        return self._push(C.paste_command(self.doc, C.copy_fragment(self.doc, ids), text="Duplicate"))

    def cut(self, node_ids: Iterable[str]) -> C.RewriteCommand | None:
        """Delete these nodes as one "Cut" step (copying them is the caller's: the clipboard)."""
        ids = [n for n in node_ids if n in self.doc.graph.nodes]
        if not ids:
            return None
        self.check_unlocked()
        cmd = C.delete_command(self.doc, ids)
        stack = self.doc.undo_stack
        stack.beginMacro("Cut")
        try:
            stack.push(cmd)
        finally:
            stack.endMacro()
        return cmd

    def expand(self, node_id: str) -> C.RewriteCommand:
        """Replace a Dense layer by its single neurons (the function stays the same)."""
        self.check_unlocked()
        rw = plan_expand_dense(self.doc.network, node_id)
        return self._push(C.RewriteCommand(self.doc, rw, f"Expand {node_id} into neurons"))

    def collapse(self, node_ids: Iterable[str]) -> C.RewriteCommand:
        """Replace neurons by one Dense layer (the function stays the same)."""
        self.check_unlocked()
        ids = list(node_ids)
        rw = plan_collapse_neurons(self.doc.network, ids)
        return self._push(C.RewriteCommand(self.doc, rw, f"Collapse {len(ids)} neurons into a layer"))

    def can_expand(self, node_ids: Iterable[str]) -> bool:
        """True when :meth:`expand` applies to this selection: one Dense layer, not training."""
        ids = list(node_ids)
        g = self.doc.graph
        return not self.locked and len(ids) == 1 and ids[0] in g.nodes and g.nodes[ids[0]].type_id == "Dense"

    def can_collapse(self, node_ids: Iterable[str]) -> bool:
        """True when :meth:`collapse` applies to this selection: neurons only, not training."""
        ids = list(node_ids)
        g = self.doc.graph
        return not self.locked and bool(ids) and all(n in g.nodes and g.nodes[n].type_id == "Neuron" for n in ids)

    # ----------------------------------------------------------------- moves
    def move_nodes(self, moves: Mapping[str, tuple[Position, Position]],
                   text: str | None = None) -> C.MoveNodesCommand | None:
        """Move nodes ``{id: (old position, new position)}``, one undo step (allowed while
        training). Moves that change nothing are left out."""
        moves = {nid: (tuple(a), tuple(b)) for nid, (a, b) in moves.items()
                 if nid in self.doc.graph.nodes and tuple(a) != tuple(b)}
        if not moves:
            return None
        return self._push(C.MoveNodesCommand(self.doc, moves, text))

    def auto_layout(self) -> C.MoveNodesCommand | None:
        """Lay the graph out in layers, keeping its top-left corner where it was."""
        cmd = C.auto_layout_command(self.doc)
        return self._push(cmd) if cmd.moves else None

    # ------------------------------------------------------------ parameters
    def set_params(self, changes: Mapping[str, Mapping[str, Any]],
                   text: str | None = None) -> C.SetParamsCommand | None:
        """Set parameters ``{node id: {name: value}}`` of one or more nodes, one undo step
        (ParameterError before anything changes). While training only ``live`` ones."""
        changes = {nid: dict(p) for nid, p in changes.items() if p}
        if not changes:
            return None
        if self.doc.locked:
            g = self.doc.graph
            for nid, p in changes.items():
                specs = {s.name: s for s in g.node_type(nid).params}
                if not all(k in specs and specs[k].live for k in p):
                    raise EditLocked(self.doc.lock_reason)
        return self._push(C.SetParamsCommand(self.doc, changes, text))

    def set_label(self, node_id: str, text: str) -> C.SetLabelCommand | None:
        """Rename a node (its label; the id stays)."""
        if self.doc.graph.nodes[node_id].label == text:
            return None
        return self._push(C.SetLabelCommand(self.doc, node_id, text))

    def set_meta(self, **values: Any) -> C.SetMetaCommand | None:
        """Set the network's metadata (title, description; None removes a key)."""
        meta = self.doc.graph.meta
        values = {k: v for k, v in values.items() if meta.get(k) != v}
        if not values:
            return None
        return self._push(C.SetMetaCommand(self.doc, **values))

    def fix_data(self, fixes: Iterable[Any], text: str = "Match network to data") -> C.SetParamsCommand | None:
        """Apply the data-fit fixes (``engine.datafit``: each has ``node_id`` and ``params``)
        as one undo step."""
        changes: dict[str, dict[str, Any]] = {}
        for f in fixes:
            changes.setdefault(f.node_id, {}).update(f.params)
        if not changes:
            return None
        self.check_unlocked()
        return self._push(C.SetParamsCommand(self.doc, changes, text))

    # --------------------------------------------------------------- weights
    def set_weights(self, weights: Mapping[str, np.ndarray], text: str) -> C.SetWeightsCommand | None:
        """Replace weights by name (``"<node>/kernel"``: array)."""
        if not weights:
            return None
        self.check_unlocked()
        return self._push(C.SetWeightsCommand(self.doc, weights, text))

    def set_weight(self, name: str, index: int, value: float, text: str) -> C.SetWeightsCommand | None:
        """Set entry ``index`` (in C order) of weight ``name`` (a weight typed into a wire);
        None when it has that value already."""
        self.check_unlocked()
        current = self.doc.network.weights_for_saving()
        if name not in current:
            raise GraphError(f"no such weight: {name}")
        old = np.asarray(current[name])
        new = np.array(old, copy=True)
        new.reshape(-1)[index] = value
        if new.reshape(-1)[index] == old.reshape(-1)[index]:
            return None
        return self._push(C.SetWeightsCommand(self.doc, {name: new}, text))

    def reset_weights(self) -> C.ResetWeightsCommand:
        """Initialize every weight from the seed again and clear the history."""
        self.check_unlocked()
        return self._push(C.ResetWeightsCommand(self.doc))

    def apply_training_result(self, weights: Mapping[str, np.ndarray], history, epochs: int,
                              text: str | None = None, *,
                              optimizer_state: Mapping[str, Any] | None = None) -> C.TrainCommand:
        """A finished run's weights, history and optimizer state (``run.optimizer_state``;
        None: the next run starts the optimizer afresh), one undo step (pushed once the run
        has released the lock); undo puts the previous state back."""
        return self._push(C.TrainCommand(self.doc, weights, history, epochs, text, optimizer_state))

    # -------------------------------------------------------- training, data
    def set_training(self, text: str | None = None, **settings: Any) -> C.SetTrainingCommand | None:
        """Change training settings (ParameterError/TrainingError before anything changes)."""
        cfg = self.doc.network.training
        if all(getattr(cfg, k, _MISSING) == v for k, v in settings.items()):
            return None
        self.check_unlocked()
        return self._push(C.SetTrainingCommand(self.doc, text, **settings))

    def set_data_source(self, source: Mapping[str, Any] | None, text: str = "Choose data") -> C.SetDataSourceCommand | None:
        """Name the data set (a built-in one with its settings, a CSV file, or None)."""
        new = copy.deepcopy(dict(source)) if source else None
        if new == self.doc.network.data_source:
            return None
        self.check_unlocked()
        return self._push(C.SetDataSourceCommand(self.doc, new, text))
