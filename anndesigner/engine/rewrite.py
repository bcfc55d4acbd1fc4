"""Structural edits as invertible rewrites: add, delete and paste, and the
ones that keep the network's function: a Dense layer expanded into its single
neurons (every weight on its own wire) and neurons collapsed back into a layer.

A :class:`Rewrite` removes nodes and inserts nodes, edges and weights through
the graph's public API; :func:`apply_rewrite` returns the inverse rewrite, so
an undo command is ``inverse = apply_rewrite(net, rw)`` / ``apply_rewrite(net, inverse)``.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..errors import GraphError
from ..graph import Edge, Node
from .network import Network

MAX_EXPAND_UNITS = 64
#: graph metadata key: layers expanded into neurons, ``{layer id: {"label", "neurons"}}``, so that
#: collapsing those neurons again gives back the layer's id and label (its settings are the neurons')
EXPANDED_KEY = "expanded_layers"


@dataclass
class Rewrite:
    remove_nodes: list[str] = field(default_factory=list)
    remove_edges: list[str] = field(default_factory=list)
    add_nodes: list[tuple[Node, int]] = field(default_factory=list)  # (node, index)
    add_edges: list[tuple[Edge, int]] = field(default_factory=list)  # (edge, index), ascending
    weights: dict[str, np.ndarray] = field(default_factory=dict)
    select: list[str] = field(default_factory=list)  # what a view should select afterwards
    #: graph metadata to set (a value None removes the key); the inverse restores the old values
    meta: dict[str, Any] = field(default_factory=dict)


def apply_rewrite(net: Network, rw: Rewrite) -> Rewrite:
    """Apply ``rw`` to ``net`` and return the rewrite that undoes it."""
    g = net.graph
    saved = net.weights_for_saving()
    node_order = list(g.nodes)
    edge_order = list(g.edges)
    removed_nodes: list[tuple[Node, int]] = []
    removed_edges: list[tuple[Edge, int]] = []
    for eid in rw.remove_edges:
        if eid in g.edges:
            e, _ = g.disconnect(eid)
            removed_edges.append((e, edge_order.index(eid)))
    for nid in rw.remove_nodes:
        node, _, edges = g.remove_node(nid)
        removed_nodes.append((node, node_order.index(node.id)))
        removed_edges.extend((e, edge_order.index(e.id)) for e, _ in edges)
    for node, index in sorted(rw.add_nodes, key=lambda t: t[1]):
        g.insert_node(node.copy(), index)
    for edge, index in sorted(rw.add_edges, key=lambda t: t[1]):
        g.insert_edge(edge, index)
    net.stage_weights(rw.weights)
    old_meta = {k: copy.deepcopy(g.meta.get(k)) for k in rw.meta}
    if rw.meta:
        g.set_meta(**copy.deepcopy(rw.meta))
    gone = set(rw.remove_nodes)
    return Rewrite(
        meta=old_meta,
        remove_nodes=[n.id for n, _ in rw.add_nodes],
        remove_edges=[e.id for e, _ in rw.add_edges],
        add_nodes=sorted(removed_nodes, key=lambda t: t[1]),
        add_edges=sorted(removed_edges, key=lambda t: t[1]),
        weights={k: v for k, v in saved.items() if k.split("/")[0] in gone},
        select=list(rw.remove_nodes) or [e.id for e, _ in removed_edges],
    )


def plan_expand_dense(net: Network, node_id: str, spacing: float = 60.0) -> Rewrite:
    """Replace Dense ``node_id`` by its neurons; the function stays the same."""
    g = net.graph
    node = g.node(node_id)
    if node.type_id != "Dense":
        raise GraphError(f"only a Dense layer can be expanded into neurons; '{node_id}' is a {node.type_id}",
                         node_id=node_id)
    units = node.params["units"]
    if units > MAX_EXPAND_UNITS:
        raise GraphError(f"Dense '{node_id}' has {units} units; layers of up to {MAX_EXPAND_UNITS} can be "
                         f"expanded into neurons", node_id=node_id)
    a = g.analyze()
    ins = [a.shapes.get(e.src) for e in g.in_edges(node_id)]
    if not ins or any(s is None or len(s) != 1 for s in ins):
        raise GraphError(f"Dense '{node_id}' must read flat vectors with known shapes to be expanded",
                         node_id=node_id)
    weights = net.weights_for_saving()
    kernel = weights.get(f"{node_id}/kernel")
    bias = weights.get(f"{node_id}/bias")
    p = node.params
    index = list(g.nodes).index(node_id)
    ids = _fresh_ids(g, "neuron", units)
    x, y = node.position
    new_nodes = []
    new_weights: dict[str, np.ndarray] = {}
    for j, nid in enumerate(ids):
        n = Node(nid, "Neuron", {"activation": p["activation"], "use_bias": p["use_bias"],
                                 "kernel_initializer": p["kernel_initializer"],
                                 "bias_initializer": p["bias_initializer"]},
                 position=(x, y + (j - (units - 1) / 2) * spacing),
                 label=f"{node.label or node_id}[{j}]")
        new_nodes.append((n, index + j))
        if kernel is not None:
            new_weights[f"{nid}/kernel"] = np.array(kernel[:, j])
        if bias is not None and p["use_bias"]:
            new_weights[f"{nid}/bias"] = np.array(bias[j])
    edges = _rewire(g, [node_id], ids)
    record = dict(_expanded(g))
    record[node_id] = {"label": node.label, "neurons": list(ids)}
    return Rewrite(remove_nodes=[node_id], add_nodes=new_nodes, add_edges=edges, weights=new_weights, select=ids,
                   meta={EXPANDED_KEY: record})


def _expanded(g) -> dict[str, dict[str, Any]]:
    """The well-formed records of expanded layers in the graph's metadata (a file may hold anything)."""
    raw = g.meta.get(EXPANDED_KEY)
    if not isinstance(raw, dict):
        return {}
    out = {}
    for lid, rec in raw.items():
        if (isinstance(lid, str) and isinstance(rec, dict) and isinstance(rec.get("label", ""), str)
                and isinstance(rec.get("neurons"), list)
                and all(isinstance(n, str) for n in rec["neurons"])):
            out[lid] = rec
    return out


_INDEXED_LABEL = re.compile(r"^(.*)\[(\d+)\]$")


def _origin(g, order: list[str]) -> tuple[str | None, str]:
    """(layer id or None, label) for collapsing neurons ``order``:
    the layer they were expanded from when they are all of it, in order, and its
    id is free; else a label read from the neurons' own ("hidden[0]", "hidden[1]" ...)."""
    for lid, rec in _expanded(g).items():
        if rec["neurons"] == order and lid not in g.nodes and lid not in g.edges:
            return lid, rec.get("label", "")
    stems = []
    for j, nid in enumerate(order):
        m = _INDEXED_LABEL.match(g.nodes[nid].label or "")
        if m is None or int(m.group(2)) != j:
            return None, ""
        stems.append(m.group(1))
    if len(set(stems)) == 1 and stems[0]:
        stem = stems[0]
        if stem not in g.nodes and stem not in g.edges and re.fullmatch(r"dense_\d+", stem):
            return stem, ""  # an unnamed layer's neurons are "dense_1[0]" ...
        return None, stem
    return None, ""


def plan_collapse_neurons(net: Network, neuron_ids: list[str]) -> Rewrite:
    """Replace neurons that read the same inputs into one Dense layer."""
    g = net.graph
    if not neuron_ids:
        raise GraphError("select the neurons to collapse into a layer")
    order = [n for n in g.nodes if n in set(neuron_ids)]
    nodes = [g.node(n) for n in order]
    for n in nodes:
        if n.type_id != "Neuron":
            raise GraphError(f"'{n.id}' is a {n.type_id}, not a Neuron", node_id=n.id)
    first = nodes[0]
    srcs = [(e.src, e.src_port) for e in g.in_edges(first.id)]
    if not srcs:
        raise GraphError(f"Neuron '{first.id}' has no input", node_id=first.id)
    for n in nodes[1:]:
        if [(e.src, e.src_port) for e in g.in_edges(n.id)] != srcs:
            raise GraphError(f"Neuron '{n.id}' reads other inputs than '{first.id}'; only neurons wired to the "
                             f"same inputs in the same order form a layer", node_id=n.id)
        for key in ("activation", "use_bias"):
            if n.params[key] != first.params[key]:
                raise GraphError(f"Neuron '{n.id}' has another {key.replace('_', ' ')} than '{first.id}'",
                                 node_id=n.id)
    members = set(order)
    for e in g.edges.values():
        if e.src in members and e.dst in members:
            raise GraphError(f"'{e.src}' feeds '{e.dst}': neurons of one layer cannot feed each other",
                             node_id=e.dst)
    # every consumer must take all the neurons, contiguously and in order
    consumers: dict[tuple[str, str], list[str]] = {}
    for e in g.edges.values():
        if e.src in members:
            consumers.setdefault((e.dst, e.dst_port), [])
    for dst, port in consumers:
        seq = [e.src if e.src in members else None for e in g.in_edges(dst, port)]
        runs = _runs(seq)
        if len(runs) != 1 or runs[0] != order:
            raise GraphError(f"'{dst}' does not take all {len(order)} neurons in order; it cannot read one "
                             f"layer instead", node_id=dst)
    weights = net.weights_for_saving()
    k = len(order)
    kern = [weights.get(f"{n}/kernel") for n in order]
    new_weights = {}
    origin_id, label = _origin(g, order)
    did = origin_id or _fresh_ids(g, "dense", 1)[0]
    if all(w is not None for w in kern):
        new_weights[f"{did}/kernel"] = np.stack(kern, axis=1)
    if first.params["use_bias"]:
        bs = [weights.get(f"{n}/bias") for n in order]
        if all(b is not None for b in bs):
            new_weights[f"{did}/bias"] = np.array([float(b) for b in bs], dtype=bs[0].dtype)
    xs = [n.position[0] for n in nodes]
    ys = [n.position[1] for n in nodes]
    p = first.params
    params = {"units": k, "activation": p["activation"], "use_bias": p["use_bias"],
              "kernel_initializer": p["kernel_initializer"], "bias_initializer": p["bias_initializer"]}
    dense = Node(did, "Dense", params, position=(sum(xs) / k, sum(ys) / k), label=label)
    index = list(g.nodes).index(order[0])
    edges = _rewire(g, order, [did])
    meta = {}
    record = _expanded(g)
    if origin_id is not None and origin_id in record:
        del record[origin_id]
        meta = {EXPANDED_KEY: record or None}
    return Rewrite(remove_nodes=order, add_nodes=[(dense, index)], add_edges=edges, weights=new_weights,
                   select=[did], meta=meta)


def _runs(seq: list[str | None]) -> list[list[str]]:
    runs, cur = [], []
    for s in seq + [None]:
        if s is None:
            if cur:
                runs.append(cur)
            cur = []
        else:
            cur.append(s)
    return runs


def _fresh_ids(g, prefix: str, n: int) -> list[str]:
    return [g.new_id(prefix) for _ in range(n)]


def _rewire(g, old: list[str], new: list[str]) -> list[tuple[Edge, int]]:
    """Edges for the replacement: inputs of old[0] go to every new node; each
    run of edges leaving the old nodes becomes edges from the new nodes, at the
    same place in the graph's edge order (so concatenation order is kept)."""
    old_set = set(old)
    remaining = [e for e in g.edges.values() if e.src not in old_set and e.dst not in old_set]
    def eid() -> str:
        return g.new_id("edge")

    out: list[Edge] = []
    done_consumer: set[tuple[str, str]] = set()
    inputs = g.in_edges(old[0])
    placed_inputs = False
    for e in g.edges.values():
        if e.dst in old_set:
            if not placed_inputs:
                for n in new:
                    for ie in inputs:
                        out.append(Edge(eid(), ie.src, n, ie.src_port, ie.dst_port))
                placed_inputs = True
        elif e.src in old_set:
            key = (e.dst, e.dst_port)
            if key in done_consumer:
                continue
            done_consumer.add(key)
            for n in new:
                out.append(Edge(eid(), n, e.dst, "out", e.dst_port))
        else:
            out.append(e)
    # indices in the final edge list; existing edges keep their relative order
    result = []
    for i, e in enumerate(out):
        if e not in remaining:
            result.append((e, i))
    return result
