"""The network graph: nodes, edges, events. No Qt, no NumPy.

A :class:`Graph` is the single truth of a design. Views (the canvas, the
inspector) listen to its signals; undo commands call its methods. Node and
edge ids are stable strings that survive save and load.
"""

from __future__ import annotations

import copy
import math
import re
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping

from ..errors import (
    CycleError,
    DuplicateEdgeError,
    GraphError,
    MissingInputError,
    PortError,
    ShapeError,
)
from .events import Signal
from .nodetypes import BUILTIN_REGISTRY, fmt_shape, param_count
from .registry import NodeType, NodeTypeRegistry, Shape, WeightSpec


class Node:
    """A node of the graph. Change it only through :class:`Graph` methods."""

    __slots__ = ("id", "type_id", "version", "params", "position", "label")

    def __init__(self, id: str, type_id: str, params: dict[str, Any], *, version: int = 1,
                 position: tuple[float, float] = (0.0, 0.0), label: str = ""):
        self.id = id
        self.type_id = type_id
        self.version = version
        self.params = params
        self.position = (float(position[0]), float(position[1]))
        self.label = label

    def to_dict(self) -> dict[str, Any]:
        d = {
            "id": self.id,
            "type": self.type_id,
            "version": self.version,
            "params": copy.deepcopy(self.params),
            "position": [self.position[0], self.position[1]],
        }
        if self.label:
            d["label"] = self.label
        return d

    def copy(self) -> "Node":
        return Node(self.id, self.type_id, copy.deepcopy(self.params), version=self.version,
                    position=self.position, label=self.label)

    def __repr__(self) -> str:
        return f"Node({self.id!r}, {self.type_id!r}, {self.params!r})"


@dataclass(frozen=True)
class Edge:
    """A wire from ``src``'s output port to ``dst``'s input port."""

    id: str
    src: str
    dst: str
    src_port: str = "out"
    dst_port: str = "in"

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "src": self.src, "src_port": self.src_port,
                "dst": self.dst, "dst_port": self.dst_port}


@dataclass
class Analysis:
    """What the editor shows before any data flows."""

    order: list[str]
    shapes: dict[str, Shape | None]
    weights: dict[str, list[WeightSpec]]
    param_counts: dict[str, int]
    errors: list[GraphError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def total_params(self) -> int:
        return sum(self.param_counts.values())

    def errors_for(self, node_id: str) -> list[GraphError]:
        return [e for e in self.errors if e.node_id == node_id]

    def edge_shape(self, graph: "Graph", edge_id: str) -> Shape | None:
        return self.shapes.get(graph.edges[edge_id].src)


_ID_RE = re.compile(r"^(.*)_(\d+)$")


class Limits:
    """The largest network ANN Designer builds: beyond these a network would
    need gigabytes before the first sample. The graph's analysis reports an
    error past them (so the network does not compile and nothing is
    allocated), in the editor and for a file alike. Far above any network one
    designs to learn with (the largest sample has about 40,000 parameters)."""

    #: trainable and state parameters of the whole network (200 MB as float32)
    params = 50_000_000
    #: values one node outputs for one sample (an Input of 2048×2048 is 4 M)
    values_per_node = 2**22
    #: values all nodes output for one sample together
    values_per_sample = 2**25


LIMITS = Limits()


class Graph:
    """Nodes and edges of a network design, with change signals.

    Signals (plain callables, see :class:`~anndesigner.graph.events.Signal`):
    ``node_added(node, index)``, ``node_removed(node, index)``,
    ``node_changed(node, keys)`` (parameters or label), ``node_moved(node)``,
    ``edge_added(edge, index)``, ``edge_removed(edge, index)``,
    ``meta_changed(keys)``.
    """

    def __init__(self, registry: NodeTypeRegistry | None = None):
        self.registry = registry if registry is not None else BUILTIN_REGISTRY
        self.nodes: dict[str, Node] = {}
        self.edges: dict[str, Edge] = {}
        self.meta: dict[str, Any] = {}
        #: grows on every change that needs a recompile (not on moves or labels)
        self.revision = 0
        self.node_added = Signal()
        self.node_removed = Signal()
        self.node_changed = Signal()
        self.node_moved = Signal()
        self.edge_added = Signal()
        self.edge_removed = Signal()
        self.meta_changed = Signal()
        #: the analysis of ``_analysis_rev``, and each node's part of it (see _analyze): an edit
        #: drops the parts it can change (the node's, or a wire's destination's, and those below)
        self._analysis: Analysis | None = None
        self._analysis_rev = -1
        self._node_results: dict[str, _NodeResult] = {}
        self._counters: dict[str, int] = {}
        self._succ: dict[str, list[str]] = {}  # node -> destinations (one entry per edge)

    # ------------------------------------------------------------ ids
    def new_id(self, prefix: str) -> str:
        """A fresh id ``<prefix>_<n>``. Ids are never handed out twice by one graph
        (even after a delete), so a new node cannot pick up a deleted one's state."""
        prefix = re.sub(r"[^a-z0-9]+", "_", prefix.lower()).strip("_") or "node"
        n = self._counters.get(prefix, 0) + 1
        while f"{prefix}_{n}" in self.nodes or f"{prefix}_{n}" in self.edges:
            n += 1
        self._counters[prefix] = n
        return f"{prefix}_{n}"

    def _note_id(self, ident: str) -> None:
        m = _ID_RE.match(ident)
        if m:
            k = int(m.group(2))
            if k > self._counters.get(m.group(1), 0):
                self._counters[m.group(1)] = k

    def node_type(self, node: Node | str) -> NodeType:
        if isinstance(node, str):
            node = self.node(node)
        return self.registry.get(node.type_id)

    def node(self, node_id: Node | str) -> Node:
        if isinstance(node_id, Node):
            node_id = node_id.id
        try:
            return self.nodes[node_id]
        except KeyError:
            raise GraphError(f"there is no node '{node_id}'", node_id=node_id) from None

    # ---------------------------------------------------------- nodes
    def add_node(self, type_id: str, *, id: str | None = None, position: tuple[float, float] = (0.0, 0.0),
                 label: str = "", **params: Any) -> Node:
        """Create a node of a registered type; parameters are validated."""
        t = self.registry.get(type_id)
        node_id = id or self.new_id(t.type_id)
        node = Node(node_id, t.type_id, t.make_params(params, node_id), version=t.version,
                    position=position, label=label)
        self.insert_node(node)
        return node

    def insert_node(self, node: Node, index: int | None = None) -> None:
        """Insert an existing node (undo of a delete, paste) at ``index``."""
        if not isinstance(node.id, str) or not node.id:
            raise GraphError(f"node id must be a non-empty string, not {node.id!r}")
        if node.id in self.nodes or node.id in self.edges:
            raise GraphError(f"the id '{node.id}' is already used", node_id=node.id)
        t = self.registry.get(node.type_id)
        node.type_id = t.type_id
        node.params = t.make_params(node.params, node.id)
        index = _insert(self.nodes, node.id, node, index)
        self._note_id(node.id)
        self._changed(node.id)
        self.node_added.emit(node, index)

    def remove_node(self, node_id: Node | str) -> tuple[Node, int, list[tuple[Edge, int]]]:
        """Remove a node and its edges. Returns (node, index, [(edge, index), ...])."""
        node = self.node(node_id)
        removed = []
        for e in [e for e in self.edges.values() if e.src == node.id or e.dst == node.id]:
            removed.append(self.disconnect(e.id))
        removed.reverse()  # re-inserting in this order restores the original indices
        index = list(self.nodes).index(node.id)
        del self.nodes[node.id]
        self._changed(node.id)
        self.node_removed.emit(node, index)
        return node, index, removed

    def set_params(self, node_id: Node | str, **params: Any) -> dict[str, Any]:
        """Change parameters (validated). Returns the old values of the changed keys."""
        node = self.node(node_id)
        t = self.node_type(node)
        new = t.make_params(params, node.id, base=node.params)
        changed = {k: node.params[k] for k in params if k in new and new[k] != node.params.get(k)}
        if not changed:
            return {}
        node.params = new
        self._changed(node.id)
        self.node_changed.emit(node, tuple(changed))
        return changed

    def move_node(self, node_id: Node | str, position: tuple[float, float]) -> None:
        node = self.node(node_id)
        pos = (float(position[0]), float(position[1]))
        if pos != node.position:
            node.position = pos
            self.node_moved.emit(node)

    def set_label(self, node_id: Node | str, label: str) -> None:
        node = self.node(node_id)
        if label != node.label:
            node.label = label
            self.node_changed.emit(node, ("label",))

    def set_meta(self, **values: Any) -> None:
        """Set document metadata (title, description ...); None removes a key."""
        for k, v in values.items():
            if v is None:
                self.meta.pop(k, None)
            else:
                self.meta[k] = v
        self.meta_changed.emit(tuple(values))

    # ---------------------------------------------------------- edges
    def check_connect(self, src: Node | str, dst: Node | str, *, src_port: str = "out", dst_port: str = "in",
                      check_shapes: bool = True) -> GraphError | None:
        """The error that :meth:`connect` would raise, or None."""
        try:
            self._check_edge(self._nid(src), self._nid(dst), src_port, dst_port, check_shapes)
        except GraphError as e:
            return e
        return None

    def connect(self, src: Node | str, dst: Node | str, *, src_port: str = "out", dst_port: str = "in",
                id: str | None = None, index: int | None = None, check_shapes: bool = True) -> Edge:
        """Wire ``src`` to ``dst``. Refuses cycles, duplicates, bad ports and (by default) shape mismatches."""
        s, d = self._nid(src), self._nid(dst)
        self._check_edge(s, d, src_port, dst_port, check_shapes)
        edge = Edge(id or self.new_id("edge"), s, d, src_port, dst_port)
        self.insert_edge(edge, index, check=False)
        return edge

    def insert_edge(self, edge: Edge, index: int | None = None, *, check: bool = True) -> None:
        """Insert an existing edge (undo of a disconnect, paste) at ``index``."""
        if edge.id in self.edges or edge.id in self.nodes:
            raise GraphError(f"the id '{edge.id}' is already used", edge_id=edge.id)
        if check:
            self._check_edge(edge.src, edge.dst, edge.src_port, edge.dst_port, check_shapes=False)
        index = _insert(self.edges, edge.id, edge, index)
        self._succ.setdefault(edge.src, []).append(edge.dst)
        self._note_id(edge.id)
        self._changed(edge.dst)
        self.edge_added.emit(edge, index)

    def disconnect(self, edge_id: Edge | str) -> tuple[Edge, int]:
        if isinstance(edge_id, Edge):
            edge_id = edge_id.id
        if edge_id not in self.edges:
            raise GraphError(f"there is no edge '{edge_id}'", edge_id=edge_id)
        index = list(self.edges).index(edge_id)
        edge = self.edges.pop(edge_id)
        self._succ[edge.src].remove(edge.dst)
        self._changed(edge.dst)
        self.edge_removed.emit(edge, index)
        return edge, index

    def in_edges(self, node_id: str, port: str | None = None) -> list[Edge]:
        """Incoming edges in their defined (graph) order."""
        return [e for e in self.edges.values() if e.dst == node_id and (port is None or e.dst_port == port)]

    def out_edges(self, node_id: str) -> list[Edge]:
        return [e for e in self.edges.values() if e.src == node_id]

    def _nid(self, n: Node | str) -> str:
        return n.id if isinstance(n, Node) else n

    def _check_ports(self, s: str, d: str, src_port: str, dst_port: str):
        """The destination port's spec, after checking that both nodes and ports exist."""
        src, dst = self.node(s), self.node(d)
        st, dt = self.node_type(src), self.node_type(dst)
        if src_port not in st.outputs:
            raise PortError(f"{st.title} '{s}' has no output port '{src_port}'"
                            + ("" if st.outputs else " (it is an end point)"), node_id=s)
        port = dt.port(dst_port)
        if port is None:
            raise PortError(f"{dt.title} '{d}' has no input port '{dst_port}'"
                            + ("" if dt.inputs else " (it takes no input)"), node_id=d)
        return port

    def _check_edge(self, s: str, d: str, src_port: str, dst_port: str, check_shapes: bool) -> None:
        port = self._check_ports(s, d, src_port, dst_port)
        same = next((e.id for e in self.edges.values()
                     if e.src == s and e.dst == d and e.src_port == src_port and e.dst_port == dst_port), None)
        taken = not port.multi and any(e.dst == d and e.dst_port == dst_port for e in self.edges.values())
        _refuse_wire(s, d, dst_port, same, taken, self._reaches(d, s))
        if check_shapes:
            self._check_shapes_with(s, d, src_port, dst_port)

    def _reaches(self, start: str, goal: str) -> bool:
        out = self._succ
        stack, seen = [start], {start}
        while stack:
            n = stack.pop()
            if n == goal:
                return True
            for m in out.get(n, ()):
                if m not in seen:
                    seen.add(m)
                    stack.append(m)
        return False

    def _check_shapes_with(self, s: str, d: str, src_port: str, dst_port: str) -> None:
        """Refuse an edge whose shapes cannot fit; errors elsewhere do not count."""
        before = self.analyze()
        if before.shapes.get(s) is None:
            return  # nothing known about the source yet
        probe = Edge("\0probe", s, d, src_port, dst_port)
        self.edges["\0probe"] = probe
        try:
            after = _analyze(self)
        finally:
            del self.edges["\0probe"]
        for err in after.errors:
            if err.node_id == d and isinstance(err, ShapeError):
                raise ShapeError(f"cannot connect '{s}' {fmt_shape(before.shapes[s])} to '{d}': {err.message}",
                                 node_id=d)

    # ------------------------------------------------------- analysis
    def topological_order(self) -> list[str]:
        indeg = {n: 0 for n in self.nodes}
        out: dict[str, list[str]] = {n: [] for n in self.nodes}
        for e in self.edges.values():
            indeg[e.dst] += 1
            out[e.src].append(e.dst)
        ready = [n for n in self.nodes if indeg[n] == 0]
        order = []
        i = 0
        while i < len(ready):
            n = ready[i]
            i += 1
            order.append(n)
            for m in out[n]:
                indeg[m] -= 1
                if indeg[m] == 0:
                    ready.append(m)
        if len(order) != len(self.nodes):
            stuck = next(n for n in self.nodes if n not in set(order))
            raise CycleError(f"the graph has a cycle through '{stuck}'", node_id=stuck)
        return order

    def analyze(self) -> Analysis:
        """Shapes, weights, parameter counts and every error; cached per revision.

        One analysis per revision, and it works out only the nodes an edit can
        have changed (an edited node, a wire's destination, and every node
        below them); the others keep their part of the last one. The result is
        always equal to a fresh analysis of the same graph."""
        if self._analysis is None or self._analysis_rev != self.revision:
            self._analysis = _analyze(self, self._node_results)
            self._analysis_rev = self.revision
        return self._analysis

    def validate(self, *, require_io: bool = True) -> Analysis:
        """Like :meth:`analyze`, but raise the first error."""
        a = self.analyze()
        if a.errors:
            raise a.errors[0]
        if require_io:
            if not self.inputs():
                raise MissingInputError("the network has no Input node")
            if not self.outputs():
                raise MissingInputError("the network has no Output node")
        return a

    def inputs(self) -> list[Node]:
        """The nodes fed from the data (their type's role is "input")."""
        return [n for n in self.nodes.values() if self.node_type(n).role == "input"]

    def outputs(self) -> list[Node]:
        """The nodes that predict (their type's role is "output")."""
        return [n for n in self.nodes.values() if self.node_type(n).role == "output"]

    # ------------------------------------------------- serialization
    def to_dict(self) -> dict[str, Any]:
        return {
            "meta": copy.deepcopy(self.meta),
            "nodes": [n.to_dict() for n in self.nodes.values()],
            "edges": [e.to_dict() for e in self.edges.values()],
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any], registry: NodeTypeRegistry | None = None) -> "Graph":
        """Rebuild a graph; raises :class:`GraphError` for anything invalid."""
        g = cls(registry)
        g.meta = dict(d.get("meta") or {})
        for nd in d.get("nodes", []):
            t = g.registry.get(nd["type"])
            params = dict(nd.get("params") or {})
            version = int(nd.get("version", t.version))
            if version > t.version:
                raise GraphError(f"node '{nd['id']}' is a {t.type_id} of version {version}, newer than this "
                                 f"program knows ({t.version}); update ANN Designer", node_id=nd["id"])
            if version < t.version and t.migrate is not None:
                params = t.migrate(version, params)
            pos = nd.get("position") or (0, 0)
            g.insert_node(Node(str(nd["id"]), t.type_id, params, version=t.version,
                               position=(float(pos[0]), float(pos[1])), label=str(nd.get("label", ""))))
        # the checks of insert_edge in one pass (linear in the edges; a cycle is looked for once, at the end)
        seen: dict[tuple[str, str, str, str], str] = {}
        taken: set[tuple[str, str]] = set()
        for ed in d.get("edges", []):
            edge = Edge(str(ed["id"]), str(ed["src"]), str(ed["dst"]),
                        str(ed.get("src_port", "out")), str(ed.get("dst_port", "in")))
            port = g._check_ports(edge.src, edge.dst, edge.src_port, edge.dst_port)
            key = (edge.src, edge.dst, edge.src_port, edge.dst_port)
            _refuse_wire(edge.src, edge.dst, edge.dst_port, seen.get(key),
                         not port.multi and (edge.dst, edge.dst_port) in taken, edge.src == edge.dst)
            g.insert_edge(edge, check=False)  # (refuses an id already used)
            seen[key] = edge.id
            taken.add((edge.dst, edge.dst_port))
        if g.edges:
            g.topological_order()  # raises CycleError
        return g

    def copy(self) -> "Graph":
        """An independent graph equal to this one (it starts with this one's analysis)."""
        g = Graph.from_dict(self.to_dict(), self.registry)
        g._node_results = dict(self._node_results)
        if self._analysis is not None and self._analysis_rev == self.revision:
            g._analysis, g._analysis_rev = self._analysis, g.revision
        return g

    def clear(self) -> None:
        for e in list(self.edges):
            self.disconnect(e)
        for n in list(self.nodes):
            self.remove_node(n)

    def _changed(self, node_id: str) -> None:
        """A change that needs a recompile, to ``node_id`` or its inputs: its part of
        the analysis, and that of every node below it, are worked out again."""
        self.revision += 1
        results = self._node_results
        if not results:
            return
        stack, seen = [node_id], {node_id}
        while stack:
            n = stack.pop()
            results.pop(n, None)
            for m in self._succ.get(n, ()):
                if m not in seen:
                    seen.add(m)
                    stack.append(m)

    def summary_rows(self) -> list[tuple[str, str, str, int]]:
        """(node id, type, output shape, parameters) per node, in topological order where possible."""
        a = self.analyze()
        order = a.order or list(self.nodes)
        return [(nid, self.nodes[nid].type_id, fmt_shape(a.shapes.get(nid)), a.param_counts.get(nid, 0))
                for nid in order]


def _insert(d: dict, key, value, index: int | None) -> int:
    """Insert into an ordered dict at ``index`` (append when None or at the end)."""
    n = len(d)
    if index is None or index >= n:
        d[key] = value
        return n
    index = max(0, index)
    items = list(d.items())
    items.insert(index, (key, value))
    d.clear()
    d.update(items)
    return index


#: one node's part of an analysis: (output shape, weights or None, parameter count, error or None)
_NodeResult = tuple[Shape | None, list[WeightSpec] | None, int, GraphError | None]


def _analyze_node(g: Graph, nid: str, incoming: list[Edge], shapes: dict[str, Shape | None]) -> _NodeResult:
    """``nid``'s shape, weights and error, from its inputs' shapes (unknown when one is)."""
    node = g.nodes[nid]
    t = g.registry.get(node.type_id)
    ins: dict[str, list[Shape]] = {}
    for e in incoming:
        s = shapes.get(e.src)
        if s is None:
            return None, None, 0, None
        ins.setdefault(e.dst_port, []).append(s)
    shape = None
    try:
        shape = tuple(t.infer(node.params, ins))
        weights = t.weights(node.params, ins)
        return shape, weights, param_count(weights), None
    except GraphError as err:
        return None, None, 0, err.located(f"{t.title} '{nid}' {err.message}", nid)


def _analyze(g: Graph, results: dict[str, _NodeResult] | None = None) -> Analysis:
    """The analysis of ``g``. ``results``: each node's part of an earlier one that is
    still true (missing for the nodes an edit may have changed); it is filled in."""
    errors: list[GraphError] = []
    try:
        order = g.topological_order()
    except CycleError as e:
        return Analysis([], {n: None for n in g.nodes}, {}, {n: 0 for n in g.nodes}, [e])
    if results is None:
        results = {}
    shapes: dict[str, Shape | None] = {}
    weights: dict[str, list[WeightSpec]] = {}
    counts: dict[str, int] = {}
    incoming: dict[str, list[Edge]] = {n: [] for n in g.nodes}
    for e in g.edges.values():
        incoming[e.dst].append(e)
    for nid in order:
        r = results.get(nid)
        if r is None:
            r = results[nid] = _analyze_node(g, nid, incoming[nid], shapes)
        shapes[nid], w, counts[nid], err = r
        if w is not None:
            weights[nid] = w
        if err is not None:
            errors.append(err)
    errors += _limit_errors(g, order, shapes, counts)
    return Analysis(order, shapes, weights, counts, errors)


def _refuse_wire(s: str, d: str, dst_port: str, same: str | None, taken: bool, cycle: bool) -> None:
    """The errors of a new wire from ``s`` to input ``dst_port`` of ``d`` among those already there, in
    this order: ``same``, the id of the wire it repeats; ``taken``, its one-wire input has one;
    ``cycle``, it would close a cycle."""
    if same is not None:
        raise DuplicateEdgeError(f"'{s}' is already connected to '{d}'", node_id=d, edge_id=same)
    if taken:
        raise PortError(f"input '{dst_port}' of '{d}' takes one wire and is already connected", node_id=d)
    if cycle:
        raise CycleError(f"connecting '{s}' to '{d}' would make a cycle", node_id=d)


def _limit_errors(g: Graph, order: list[str], shapes: dict[str, Shape | None], counts: dict[str, int]) -> list[GraphError]:
    errors: list[GraphError] = []
    total = 0
    for nid in order:
        s = shapes.get(nid)
        if s is None:
            continue
        n = math.prod(s)
        total += n
        if n > LIMITS.values_per_node:
            errors.append(ShapeError(f"{g.node_type(nid).title} '{nid}' outputs {n:,} values per sample {fmt_shape(s)}, more than "
                                     f"the {LIMITS.values_per_node:,} a network may have", node_id=nid))
    if total > LIMITS.values_per_sample:
        big = max((n for n in order if shapes.get(n) is not None), key=lambda n: math.prod(shapes[n]))
        errors.append(ShapeError(f"the network computes {total:,} values per sample, more than the "
                                 f"{LIMITS.values_per_sample:,} it may have (the most: '{big}')", node_id=big))
    params = sum(counts.values())
    if params > LIMITS.params:
        big = max(counts, key=counts.get)
        errors.append(GraphError(f"the network has {params:,} parameters ({g.node_type(big).title} '{big}' alone "
                                 f"{counts[big]:,}), more than the {LIMITS.params:,} it may have", node_id=big))
    return errors


def iter_node_ids(nodes: Iterable[Node | str]) -> list[str]:
    return [n.id if isinstance(n, Node) else n for n in nodes]
