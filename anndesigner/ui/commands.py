"""Undo commands. Each is one QUndoCommand that changes the model only through
its API (graph methods, :func:`~anndesigner.engine.rewrite.apply_rewrite`,
``Network.stage_weights``); the canvas follows from the model's events. The
document's editor (``editor.py``) builds and pushes them: no other ui module
does (``tests/ui/test_edit_paths.py``).
"""

from __future__ import annotations

import copy
from typing import Any, Iterable, Mapping

import numpy as np
from PySide6.QtGui import QUndoCommand

from ..engine import History, Rewrite, apply_rewrite
from ..graph import Edge, Node
from ..graph.layout import layered_layout
from .document import Document

MOVE_ID = 1001


class RewriteCommand(QUndoCommand):
    """Add, delete, paste, connect, disconnect, expand, collapse: any
    structural change expressed as a :class:`Rewrite` and its inverse."""

    def __init__(self, doc: Document, rewrite: Rewrite, text: str):
        super().__init__(text)
        self.doc = doc
        self.rewrite = rewrite
        self.inverse: Rewrite | None = None

    def redo(self) -> None:
        self.inverse = apply_rewrite(self.doc.network, self.rewrite)

    def undo(self) -> None:
        assert self.inverse is not None
        apply_rewrite(self.doc.network, self.inverse)


def add_node_command(doc: Document, type_id: str, position: tuple[float, float], **params: Any) -> RewriteCommand:
    g = doc.graph
    t = g.registry.get(type_id)
    node = Node(g.new_id(t.type_id), t.type_id, t.make_params(params), version=t.version, position=position)
    return RewriteCommand(doc, Rewrite(add_nodes=[(node, len(g.nodes))], select=[node.id]), f"Add {t.title}")


def connect_command(doc: Document, src: str, dst: str, src_port: str = "out", dst_port: str = "in") -> RewriteCommand:
    """Raises the model's GraphError if the connection is refused (nothing is pushed)."""
    g = doc.graph
    err = g.check_connect(src, dst, src_port=src_port, dst_port=dst_port)
    if err is not None:
        raise err
    edge = Edge(g.new_id("edge"), src, dst, src_port, dst_port)
    return RewriteCommand(doc, Rewrite(add_edges=[(edge, len(g.edges))]), f"Connect {src} → {dst}")


def insert_after_command(doc: Document, node_id: str, type_id: str, **params: Any) -> RewriteCommand:
    """A new node of ``type_id`` between ``node_id`` and every node it feeds: one rewrite
    (the node, a wire into it, its wires out in place of ``node_id``'s; undo puts them back)."""
    g = doc.graph
    src = g.nodes[node_id]
    t = g.registry.get(type_id)
    x, y = src.position
    node = Node(g.new_id(t.type_id), t.type_id, t.make_params(params), version=t.version, position=(x, y + 70.0))
    out = [e for e in g.edges.values() if e.src == node_id]
    edges = [Edge(g.new_id("edge"), node_id, node.id, out[0].src_port if out else "out", "in")]
    edges += [Edge(g.new_id("edge"), node.id, e.dst, "out", e.dst_port) for e in out]
    n = len(g.edges) - len(out)
    rw = Rewrite(remove_edges=[e.id for e in out], add_nodes=[(node, list(g.nodes).index(node_id) + 1)],
                 add_edges=[(e, n + i) for i, e in enumerate(edges)], select=[node.id])
    return RewriteCommand(doc, rw, f"Insert {t.title} after {node_id}")


def delete_command(doc: Document, node_ids: Iterable[str] = (), edge_ids: Iterable[str] = ()) -> RewriteCommand:
    nodes = [n for n in doc.graph.nodes if n in set(node_ids)]
    edges = [e for e in doc.graph.edges if e in set(edge_ids)]
    if nodes and not edges:
        text = f"Delete {nodes[0]}" if len(nodes) == 1 else f"Delete {len(nodes)} nodes"
    elif edges and not nodes:
        text = "Disconnect" if len(edges) == 1 else f"Disconnect {len(edges)} wires"
    else:
        text = f"Delete {len(nodes)} nodes and {len(edges)} wires"
    return RewriteCommand(doc, Rewrite(remove_nodes=nodes, remove_edges=edges), text)


# ------------------------------------------------------------- clipboard
MIME_TYPE = "application/x-anndesigner-fragment+json"


def copy_fragment(doc: Document, node_ids: Iterable[str]) -> dict[str, Any]:
    """Nodes, the edges between them, and their weights, as JSON-native data."""
    ids = [n for n in doc.graph.nodes if n in set(node_ids)]
    idset = set(ids)
    weights = doc.network.weights_for_saving()
    return {
        "nodes": [doc.graph.nodes[n].to_dict() for n in ids],
        "edges": [e.to_dict() for e in doc.graph.edges.values() if e.src in idset and e.dst in idset],
        "weights": {k: v.tolist() for k, v in weights.items() if k.split("/")[0] in idset},
        "weight_dtypes": {k: str(v.dtype) for k, v in weights.items() if k.split("/")[0] in idset},
    }


def paste_command(doc: Document, fragment: Mapping[str, Any], offset: tuple[float, float] = (40.0, 40.0),
                  text: str = "Paste") -> RewriteCommand:
    """Insert a copied fragment with fresh ids; wires between copied nodes are kept."""
    g = doc.graph
    mapping: dict[str, str] = {}
    nodes: list[tuple[Node, int]] = []
    fresh = g.new_id

    for nd in fragment.get("nodes", []):
        t = g.registry.get(nd["type"])
        new_id = fresh(t.type_id.lower())
        mapping[nd["id"]] = new_id
        x, y = nd.get("position", (0, 0))
        node = Node(new_id, t.type_id, t.make_params(nd.get("params", {})), version=t.version,
                    position=(x + offset[0], y + offset[1]), label=nd.get("label", ""))
        nodes.append((node, len(g.nodes) + len(nodes)))
    edges = []
    for ed in fragment.get("edges", []):
        if ed["src"] in mapping and ed["dst"] in mapping:
            e = Edge(fresh("edge"), mapping[ed["src"]], mapping[ed["dst"]], ed.get("src_port", "out"),
                     ed.get("dst_port", "in"))
            edges.append((e, len(g.edges) + len(edges)))
    dtypes = fragment.get("weight_dtypes", {})
    weights = {}
    for k, v in fragment.get("weights", {}).items():
        nid, _, name = k.partition("/")
        if nid in mapping:
            weights[f"{mapping[nid]}/{name}"] = np.array(v, dtype=dtypes.get(k, "float32"))
    return RewriteCommand(doc, Rewrite(add_nodes=nodes, add_edges=edges, weights=weights,
                                       select=[n.id for n, _ in nodes]), text)


# -------------------------------------------------------------- params
class SetParamsCommand(QUndoCommand):
    """Change parameters of one or more nodes (validated before the push)."""

    def __init__(self, doc: Document, changes: Mapping[str, Mapping[str, Any]], text: str | None = None):
        super().__init__(text or _params_text(changes))
        self.doc = doc
        self.new = {nid: dict(p) for nid, p in changes.items()}
        self.old = {nid: {k: copy.deepcopy(doc.graph.nodes[nid].params[k]) for k in p} for nid, p in changes.items()}
        for nid, p in self.new.items():  # raise ParameterError now, not inside redo()
            t = doc.graph.node_type(nid)
            t.make_params(p, nid, base=doc.graph.nodes[nid].params)

    def redo(self) -> None:
        for nid, p in self.new.items():
            self.doc.graph.set_params(nid, **p)

    def undo(self) -> None:
        for nid, p in self.old.items():
            self.doc.graph.set_params(nid, **p)


def _params_text(changes: Mapping[str, Mapping[str, Any]]) -> str:
    keys = sorted({k for p in changes.values() for k in p})
    who = next(iter(changes)) if len(changes) == 1 else f"{len(changes)} nodes"
    return f"Set {', '.join(keys)} of {who}"


class SetLabelCommand(QUndoCommand):
    def __init__(self, doc: Document, node_id: str, label: str):
        super().__init__(f"Rename {node_id}")
        self.doc, self.node_id, self.label = doc, node_id, label
        self.old = doc.graph.nodes[node_id].label

    def redo(self) -> None:
        self.doc.graph.set_label(self.node_id, self.label)

    def undo(self) -> None:
        self.doc.graph.set_label(self.node_id, self.old)


class SetMetaCommand(QUndoCommand):
    def __init__(self, doc: Document, **values: Any):
        super().__init__("Edit " + ", ".join(values))
        self.doc = doc
        self.new = values
        self.old = {k: doc.graph.meta.get(k) for k in values}

    def redo(self) -> None:
        self.doc.graph.set_meta(**self.new)

    def undo(self) -> None:
        self.doc.graph.set_meta(**self.old)


# --------------------------------------------------------------- moves
class MoveNodesCommand(QUndoCommand):
    """Move one or several nodes: one undo step."""

    def __init__(self, doc: Document, moves: Mapping[str, tuple[tuple[float, float], tuple[float, float]]],
                 text: str | None = None):
        n = len(moves)
        super().__init__(text or (f"Move {next(iter(moves))}" if n == 1 else f"Move {n} nodes"))
        self.doc = doc
        self.moves = {k: (tuple(a), tuple(b)) for k, (a, b) in moves.items()}

    def redo(self) -> None:
        for nid, (_, new) in self.moves.items():
            self.doc.graph.move_node(nid, new)

    def undo(self) -> None:
        for nid, (old, _) in self.moves.items():
            self.doc.graph.move_node(nid, old)


def auto_layout_command(doc: Document) -> MoveNodesCommand:
    g = doc.graph
    pos = layered_layout(g, dx=220, dy=100)
    if g.nodes:  # keep the drawing where it was: align the layout's top-left with the old one
        ox = min(n.position[0] for n in g.nodes.values())
        oy = min(n.position[1] for n in g.nodes.values())
        pos = {k: (x + ox, y + oy) for k, (x, y) in pos.items()}
    moves = {nid: (g.nodes[nid].position, p) for nid, p in pos.items() if g.nodes[nid].position != p}
    return MoveNodesCommand(doc, moves, "Auto-layout")


class SetWeightsCommand(QUndoCommand):
    """Replace weights by name (typed into a wire, trained, reset)."""

    def __init__(self, doc: Document, weights: Mapping[str, np.ndarray], text: str):
        super().__init__(text)
        self.doc = doc
        current = doc.network.weights_for_saving()
        self.new = {k: np.array(v) for k, v in weights.items()}
        self.old = {k: current[k] for k in weights if k in current}

    def redo(self) -> None:
        self.doc.network.stage_weights(self.new)

    def undo(self) -> None:
        self.doc.network.stage_weights(self.old)


# ------------------------------------------------------------- training
class SetTrainingCommand(QUndoCommand):
    """Change training settings (validated before the push)."""

    def __init__(self, doc: Document, text: str | None = None, **settings: Any):
        super().__init__(text or "Set " + ", ".join(k.replace("_", " ") for k in settings))
        self.doc = doc
        self.old = doc.network.training
        self.new = self.old.replace(**settings) if settings else self.old
        for k, v in settings.items():  # replace() skips None; allow clearing optional settings
            if v is None and getattr(self.old, k) is not None:
                d = self.new.to_dict()
                d[k] = None
                self.new = type(self.old).from_dict(d)

    def redo(self) -> None:
        self.doc.network.set_training(self.new)

    def undo(self) -> None:
        self.doc.network.set_training(self.old)


class SetDataSourceCommand(QUndoCommand):
    """Choose the data set (built-in with its settings, or a CSV file)."""

    def __init__(self, doc: Document, source: Mapping[str, Any] | None, text: str = "Choose data"):
        super().__init__(text)
        self.doc = doc
        self.old = copy.deepcopy(doc.network.data_source)
        self.new = copy.deepcopy(dict(source)) if source else None

    def redo(self) -> None:
        self.doc.network.set_data_source(self.new)

    def undo(self) -> None:
        self.doc.network.set_data_source(self.old)


class TrainCommand(QUndoCommand):
    """The result of a training run: new weights, history and optimizer state
    (None: the run leaves none, the next one starts afresh), one undo step."""

    def __init__(self, doc: Document, weights: Mapping[str, np.ndarray], history, epochs: int,
                 text: str | None = None, optimizer_state: Mapping[str, Any] | None = None):
        super().__init__(text or f"Train {epochs} epoch{'s' if epochs != 1 else ''}")
        self.doc = doc
        self.new_weights = {k: np.array(v) for k, v in weights.items()}
        current = doc.network.weights_for_saving()
        self.old_weights = {k: current[k] for k in weights if k in current}
        self.old_history = _history_copy(doc.network.history)
        self.new_history = History(copy.deepcopy(history.data if hasattr(history, "data") else history))
        self.old_state = _state_copy(getattr(doc.network, "optimizer_state", None))
        self.new_state = _state_copy(optimizer_state)

    def redo(self) -> None:
        self.doc.network.stage_weights(self.new_weights)
        self.doc.network.set_history(_history_copy(self.new_history))
        self.doc.network.optimizer_state = _state_copy(self.new_state)

    def undo(self) -> None:
        self.doc.network.stage_weights(self.old_weights)
        self.doc.network.set_history(_history_copy(self.old_history))
        self.doc.network.optimizer_state = _state_copy(self.old_state)


class ResetWeightsCommand(QUndoCommand):
    """Re-initialize every weight from the seed and clear the history."""

    def __init__(self, doc: Document):
        super().__init__("Reset weights")
        self.doc = doc
        self.old_weights = doc.network.weights_for_saving()
        self.old_history = _history_copy(doc.network.history)
        self.old_state = _state_copy(getattr(doc.network, "optimizer_state", None))

    def redo(self) -> None:
        self.doc.network.reset_weights()  # clears the optimizer state too
        self.doc.network.set_history(History())

    def undo(self) -> None:
        self.doc.network.stage_weights(self.old_weights)
        self.doc.network.set_history(_history_copy(self.old_history))
        self.doc.network.optimizer_state = _state_copy(self.old_state)


def _history_copy(h: History) -> History:
    return History(copy.deepcopy(h.data))


def _state_copy(state: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """An independent copy of an optimizer state (its arrays copied), or None."""
    if state is None:
        return None
    return {k: np.array(v) if isinstance(v, np.ndarray) else v for k, v in state.items()}
