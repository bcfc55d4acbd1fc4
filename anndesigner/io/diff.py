"""What differs between two networks: structure, settings and weights. No Qt.

:func:`diff_networks` compares two :class:`~anndesigner.engine.network.Network`\\ s
(e.g. two ``.ann`` files opened with :func:`~anndesigner.io.load_network`) and
returns a :class:`NetworkDiff`, which ``to_text()`` writes as a report and
``to_dict()`` as JSON-native data (``anndesigner diff A.ann B.ann [--json]``).

Matching: **nodes are matched by their id**. The designer keeps ids stable (a
node keeps its id through edits, save and load, and a deleted node's id is never
handed out again by the same document), so a node with the same id in both is
the same node, edited or not; a node renamed by hand in the file counts as one
removed and one added. Wires are matched by their ends (source node and port,
destination node and port), not by their edge ids. Weights are matched by name
(``"<node id>/kernel"`` ...). Node positions on the canvas are not compared (they
are layout, not the network).

For each weight tensor present in both with the same shape, with Δ = B − A
(computed in float64): ``max_abs`` = max |Δ|, ``mean_abs`` = mean |Δ| and
``relative`` = ‖Δ‖ / ‖A‖ (Frobenius norms; 0 when both are zero, inf when only A
is zero). A tensor whose shape differs is reported with both shapes.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any, Mapping

import numpy as np

__all__ = ["DataChange", "EdgeRef", "LabelChange", "NetworkDiff", "NodeChange", "NodeRef", "ParamChange",
           "SettingChange", "WeightDiff", "WeightRef", "diff_networks"]

_MISSING = "(not set)"


@dataclass(frozen=True)
class NodeRef:
    """A node only in one of the networks."""

    id: str
    type: str
    label: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "type": self.type, "label": self.label}


@dataclass(frozen=True)
class ParamChange:
    """One parameter of a node: its value in A and in B (``missing_*``: the node has no such parameter)."""

    name: str
    old: Any
    new: Any
    missing_old: bool = False
    missing_new: bool = False

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"name": self.name, "old": _jsonable(self.old), "new": _jsonable(self.new)}
        if self.missing_old:
            d["missing_old"] = True
        if self.missing_new:
            d["missing_new"] = True
        return d

    def text(self) -> str:
        old = _MISSING if self.missing_old else _fmt_value(self.old)
        new = _MISSING if self.missing_new else _fmt_value(self.new)
        return f"{old} → {new}"


@dataclass(frozen=True)
class NodeChange:
    """A node in both whose type or parameters differ."""

    id: str
    old_type: str
    new_type: str
    params: tuple[ParamChange, ...] = ()

    @property
    def type_changed(self) -> bool:
        return self.old_type != self.new_type

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "old_type": self.old_type, "new_type": self.new_type,
                "params": [p.to_dict() for p in self.params]}


@dataclass(frozen=True)
class LabelChange:
    id: str
    old: str
    new: str

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "old": self.old, "new": self.new}


@dataclass(frozen=True, order=True)
class EdgeRef:
    """A wire from ``src``'s output ``src_port`` to ``dst``'s input ``dst_port``."""

    src: str
    src_port: str
    dst: str
    dst_port: str

    def text(self) -> str:
        return f"{self.src}.{self.src_port} → {self.dst}.{self.dst_port}"

    def to_dict(self) -> dict[str, Any]:
        return {"src": self.src, "src_port": self.src_port, "dst": self.dst, "dst_port": self.dst_port}


@dataclass(frozen=True)
class SettingChange:
    """A training setting (or the seed, or a document field such as the title) that differs."""

    name: str
    old: Any
    new: Any
    missing_old: bool = False
    missing_new: bool = False

    def text(self) -> str:
        return ParamChange(self.name, self.old, self.new, self.missing_old, self.missing_new).text()

    def to_dict(self) -> dict[str, Any]:
        return ParamChange(self.name, self.old, self.new, self.missing_old, self.missing_new).to_dict()


@dataclass(frozen=True)
class DataChange:
    """The data-set reference of each (None: the network names no data set)."""

    old: Mapping[str, Any] | None
    new: Mapping[str, Any] | None

    def to_dict(self) -> dict[str, Any]:
        return {"old": _jsonable(self.old), "new": _jsonable(self.new)}


@dataclass(frozen=True)
class WeightRef:
    """A weight tensor only in one of the networks."""

    name: str
    shape: tuple[int, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "shape": list(self.shape)}


@dataclass(frozen=True)
class WeightDiff:
    """A weight tensor in both. With different shapes the figures are None."""

    name: str
    old_shape: tuple[int, ...]
    new_shape: tuple[int, ...]
    max_abs: float | None = None
    mean_abs: float | None = None
    relative: float | None = None

    @property
    def shape_changed(self) -> bool:
        return self.old_shape != self.new_shape

    @property
    def changed(self) -> bool:
        return self.shape_changed or bool(self.max_abs)

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "old_shape": list(self.old_shape), "new_shape": list(self.new_shape),
                "changed": self.changed, "max_abs": _finite(self.max_abs), "mean_abs": _finite(self.mean_abs),
                "relative": _finite(self.relative)}


@dataclass(frozen=True)
class NetworkDiff:
    """Every difference from network A to network B (see the module's docstring for the matching)."""

    nodes_added: tuple[NodeRef, ...] = ()
    nodes_removed: tuple[NodeRef, ...] = ()
    nodes_changed: tuple[NodeChange, ...] = ()
    labels_changed: tuple[LabelChange, ...] = ()
    edges_added: tuple[EdgeRef, ...] = ()
    edges_removed: tuple[EdgeRef, ...] = ()
    settings_changed: tuple[SettingChange, ...] = ()
    meta_changed: tuple[SettingChange, ...] = ()
    data_changed: DataChange | None = None
    #: every tensor in both, changed or not, in A's order
    weights: tuple[WeightDiff, ...] = ()
    weights_added: tuple[WeightRef, ...] = ()
    weights_removed: tuple[WeightRef, ...] = ()
    a_name: str = "A"
    b_name: str = "B"

    @property
    def weights_changed(self) -> tuple[WeightDiff, ...]:
        return tuple(w for w in self.weights if w.changed)

    @property
    def structure_same(self) -> bool:
        return not (self.nodes_added or self.nodes_removed or self.nodes_changed or self.edges_added
                    or self.edges_removed)

    @property
    def same(self) -> bool:
        """True when nothing differs: structure, labels, settings, data, document and weights."""
        return (self.structure_same and not self.labels_changed and not self.settings_changed
                and not self.meta_changed and self.data_changed is None and not self.weights_changed
                and not self.weights_added and not self.weights_removed)

    def weight(self, name: str) -> WeightDiff:
        for w in self.weights:
            if w.name == name:
                return w
        raise KeyError(name)

    # ----------------------------------------------------------- output
    def to_dict(self) -> dict[str, Any]:
        """JSON-native (json.dumps works; non-finite figures are None)."""
        return {
            "a": self.a_name, "b": self.b_name, "same": self.same,
            "nodes_added": [n.to_dict() for n in self.nodes_added],
            "nodes_removed": [n.to_dict() for n in self.nodes_removed],
            "nodes_changed": [n.to_dict() for n in self.nodes_changed],
            "labels_changed": [c.to_dict() for c in self.labels_changed],
            "edges_added": [e.to_dict() for e in self.edges_added],
            "edges_removed": [e.to_dict() for e in self.edges_removed],
            "settings_changed": [s.to_dict() for s in self.settings_changed],
            "meta_changed": [s.to_dict() for s in self.meta_changed],
            "data_changed": None if self.data_changed is None else self.data_changed.to_dict(),
            "weights": [w.to_dict() for w in self.weights],
            "weights_added": [w.to_dict() for w in self.weights_added],
            "weights_removed": [w.to_dict() for w in self.weights_removed],
        }

    def to_text(self) -> str:
        """A readable report: a section per kind of difference, none for what is equal."""
        if self.same:
            return "The networks are the same: structure, settings and weights."
        a, b = self.a_name, self.b_name
        out: list[str] = [f"Differences from {a} to {b} (nodes matched by id)"]

        def section(title: str, rows: list[tuple[str, ...]]) -> None:
            if rows:
                out.append("")
                out.append(title)
                out.extend("  " + line for line in _table(rows))

        section(f"Nodes added (only in {b}):", [(n.id, n.type, _quoted(n.label)) for n in self.nodes_added])
        section(f"Nodes removed (only in {a}):", [(n.id, n.type, _quoted(n.label)) for n in self.nodes_removed])
        rows: list[tuple[str, ...]] = []
        for c in self.nodes_changed:
            items = ([("type", f"{c.old_type} → {c.new_type}")] if c.type_changed else []) \
                + [(p.name, p.text()) for p in c.params]
            rows += [(c.id if k == 0 else "", name, text) for k, (name, text) in enumerate(items)]
        section("Nodes changed:", rows)
        section("Labels changed:", [(c.id, f"{_quoted(c.old) or '(none)'} → {_quoted(c.new) or '(none)'}")
                                    for c in self.labels_changed])
        section(f"Wires added (only in {b}):", [(e.text(),) for e in self.edges_added])
        section(f"Wires removed (only in {a}):", [(e.text(),) for e in self.edges_removed])
        section("Training settings changed:", [(s.name, s.text()) for s in self.settings_changed])
        if self.data_changed is not None:
            section("Data set changed:", [(a, _fmt_source(self.data_changed.old)),
                                          (b, _fmt_source(self.data_changed.new))])
        section("Document changed:", [(s.name, _short(s.text(), 100)) for s in self.meta_changed])
        changed = self.weights_changed
        if changed:
            rows = [("tensor", "shape", "max |Δ|", "mean |Δ|", "‖Δ‖/‖A‖")]
            for w in changed:
                if w.shape_changed:
                    rows.append((w.name, f"{_fmt_shape(w.old_shape)} → {_fmt_shape(w.new_shape)}",
                                 "shape differs", "", ""))
                else:
                    rows.append((w.name, _fmt_shape(w.old_shape), _fmt_num(w.max_abs), _fmt_num(w.mean_abs),
                                 _fmt_num(w.relative)))
            same = len(self.weights) - len(changed)
            section("Weights changed" + (f" ({same} other tensor{'s' if same != 1 else ''} in both equal):"
                                         if same else ":"), rows)
        section(f"Weights only in {b}:", [(w.name, _fmt_shape(w.shape)) for w in self.weights_added])
        section(f"Weights only in {a}:", [(w.name, _fmt_shape(w.shape)) for w in self.weights_removed])
        if not changed and not self.weights_added and not self.weights_removed and self.weights:
            out.append("")
            out.append(f"Weights: the {len(self.weights)} tensors in both are equal.")
        return "\n".join(out)


# --------------------------------------------------------------- comparing
def diff_networks(a, b, *, a_name: str = "A", b_name: str = "B") -> NetworkDiff:
    """Every difference from network ``a`` to network ``b`` (Networks; see the module's
    docstring for how nodes, wires and weights are matched). Neither is changed; a
    network whose graph does not compile is compared with the weights it would save."""
    ga, gb = a.graph, b.graph
    na, nb = ga.nodes, gb.nodes
    added = tuple(NodeRef(i, n.type_id, n.label) for i, n in nb.items() if i not in na)
    removed = tuple(NodeRef(i, n.type_id, n.label) for i, n in na.items() if i not in nb)
    changed: list[NodeChange] = []
    labels: list[LabelChange] = []
    for i, x in na.items():
        y = nb.get(i)
        if y is None:
            continue
        params = tuple(_changes(x.params, y.params, ParamChange))
        if params or x.type_id != y.type_id:
            changed.append(NodeChange(i, x.type_id, y.type_id, params))
        if x.label != y.label:
            labels.append(LabelChange(i, x.label, y.label))
    ea = {EdgeRef(e.src, e.src_port, e.dst, e.dst_port) for e in ga.edges.values()}
    eb = {EdgeRef(e.src, e.src_port, e.dst, e.dst_port) for e in gb.edges.values()}
    edges_added = tuple(EdgeRef(e.src, e.src_port, e.dst, e.dst_port) for e in gb.edges.values()
                        if EdgeRef(e.src, e.src_port, e.dst, e.dst_port) not in ea)
    edges_removed = tuple(EdgeRef(e.src, e.src_port, e.dst, e.dst_port) for e in ga.edges.values()
                          if EdgeRef(e.src, e.src_port, e.dst, e.dst_port) not in eb)

    ta, tb = {"seed": a.seed, **a.training.to_dict()}, {"seed": b.seed, **b.training.to_dict()}
    if a.dtype != b.dtype:
        ta["dtype"], tb["dtype"] = str(a.dtype), str(b.dtype)
    settings = tuple(_changes(ta, tb, SettingChange))
    meta = tuple(_changes(ga.meta, gb.meta, SettingChange))
    data = None if _canon(a.data_source or None) == _canon(b.data_source or None) else \
        DataChange(a.data_source or None, b.data_source or None)

    wa, wb = a.weights_for_saving(), b.weights_for_saving()
    weights = tuple(_weight_diff(k, wa[k], wb[k]) for k in wa if k in wb)
    w_added = tuple(WeightRef(k, tuple(v.shape)) for k, v in wb.items() if k not in wa)
    w_removed = tuple(WeightRef(k, tuple(v.shape)) for k, v in wa.items() if k not in wb)
    return NetworkDiff(added, removed, tuple(changed), tuple(labels), edges_added, edges_removed, settings, meta,
                       data, weights, w_added, w_removed, a_name, b_name)


def _weight_diff(name: str, x: np.ndarray, y: np.ndarray) -> WeightDiff:
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    if x.shape != y.shape:
        return WeightDiff(name, tuple(x.shape), tuple(y.shape))
    d = np.abs(y - x)
    if d.size == 0:
        return WeightDiff(name, tuple(x.shape), tuple(y.shape), 0.0, 0.0, 0.0)
    nd, na = float(np.linalg.norm(d.ravel())), float(np.linalg.norm(x.ravel()))
    rel = nd / na if na > 0 else (0.0 if nd == 0 else math.inf)
    return WeightDiff(name, tuple(x.shape), tuple(y.shape), float(d.max()), float(d.mean()), rel)


def _changes(x: Mapping[str, Any], y: Mapping[str, Any], kind):
    """``kind(name, old, new, missing_old, missing_new)`` per key whose value differs, in x's order then y's."""
    for k in list(x) + [k for k in y if k not in x]:
        if k not in y:
            yield kind(k, x[k], None, False, True)
        elif k not in x:
            yield kind(k, None, y[k], True, False)
        elif _canon(x[k]) != _canon(y[k]):
            yield kind(k, x[k], y[k])


def _canon(v: Any) -> str:
    """A value as canonical JSON (tuples and lists alike, keys sorted) to compare by."""
    return json.dumps(_jsonable(v), sort_keys=True)


def _jsonable(v: Any) -> Any:
    if isinstance(v, Mapping):
        return {str(k): _jsonable(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_jsonable(x) for x in v]
    if isinstance(v, np.ndarray):
        return _jsonable(v.tolist())
    if isinstance(v, np.generic):
        return _jsonable(v.item())
    if isinstance(v, float) and not math.isfinite(v):
        return None
    if v is None or isinstance(v, (bool, int, float, str)):
        return v
    return str(v)


def _finite(v: float | None) -> float | None:
    return v if v is not None and math.isfinite(v) else None


# --------------------------------------------------------------- formatting
def _fmt_value(v: Any) -> str:
    if isinstance(v, str):
        return v
    if isinstance(v, float):
        return f"{v:g}"
    return json.dumps(_jsonable(v), ensure_ascii=False)


def _fmt_num(v: float | None) -> str:
    if v is None:
        return ""
    if math.isinf(v):
        return "inf"
    return f"{v:.4g}"


def _fmt_shape(s: tuple[int, ...]) -> str:
    return "(" + ", ".join(str(d) for d in s) + ")" if len(s) != 1 else f"({s[0]})"


def _fmt_source(src: Mapping[str, Any] | None) -> str:
    if not src:
        return "(none)"
    name = src.get("name") or src.get("path") or "?"
    rest = {k: v for k, v in src.items() if k not in ("kind", "name", "path")}
    return f"{src.get('kind', '?')} {name}" + (f" {_short(_fmt_value(rest), 80)}" if rest else "")


def _quoted(s: str) -> str:
    return f"'{s}'" if s else ""


def _short(s: str, n: int) -> str:
    return s if len(s) <= n else s[:n - 1] + "…"


def _table(rows: list[tuple[str, ...]]) -> list[str]:
    """Rows as lines with aligned columns (two spaces between; trailing blanks cut)."""
    width = max(len(r) for r in rows)
    rows = [tuple(r) + ("",) * (width - len(r)) for r in rows]
    widths = [max(len(r[i]) for r in rows) for i in range(width)]
    return ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows]
