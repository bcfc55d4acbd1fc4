"""Schema versions of ``network.json`` and the steps between them.

Version 1 (the 0.0 development format) kept node positions in a separate
``layout`` map and named the node type ``type_id``. Version 2 stores the
position on each node and uses ``type``. Each step takes a dict of one
version and returns the next; :func:`migrate` chains them.
"""

from __future__ import annotations

import math
from typing import Any, Callable

from ..errors import FileFormatError, short_repr

FORMAT_NAME = "anndesigner-network"
CURRENT_SCHEMA = 2


def _v1_to_v2(doc: dict[str, Any], name: str = "file") -> dict[str, Any]:
    layout = doc.pop("layout", {}) or {}
    if not isinstance(layout, dict):
        raise FileFormatError(f"{name}: network.json's 'layout' (schema 1) must be an object, not {_kind(layout)}")
    nodes = doc.get("nodes", [])
    if isinstance(nodes, list):  # what is not a list, or a node not an object, is reported after migrating
        nodes = [_v1_node(n, layout) if isinstance(n, dict) else n for n in nodes]
    doc["nodes"] = nodes
    doc["schema_version"] = 2
    return doc


def _v1_node(n: dict[str, Any], layout: dict[str, Any]) -> dict[str, Any]:
    n = dict(n)
    if "type_id" in n and "type" not in n:
        n["type"] = n.pop("type_id")
    nid = n.get("id")
    if "position" not in n and isinstance(nid, str) and nid in layout:
        n["position"] = layout[nid]
    return n


#: schema version -> step to the next (``step(doc, file_name)``)
MIGRATIONS: dict[int, Callable[[dict[str, Any], str], dict[str, Any]]] = {1: _v1_to_v2}


def migrate(doc: dict[str, Any], name: str = "file") -> dict[str, Any]:
    """Bring a ``network.json`` dict to :data:`CURRENT_SCHEMA` or raise FileFormatError."""
    if doc.get("format") != FORMAT_NAME:
        raise FileFormatError(f"{name}: not an ANN Designer network (format is {_short(doc.get('format'))})")
    v = doc.get("schema_version")
    if not isinstance(v, int) or isinstance(v, bool) or v < 1:
        raise FileFormatError(f"{name}: schema_version must be a positive whole number, not {_short(v)}")
    if v > CURRENT_SCHEMA:
        app = doc.get("app_version")
        app = app if isinstance(app, str) and len(app) < 40 else "a newer version"
        raise FileFormatError(f"{name}: was saved by ANN Designer {app} with file schema {v}; this version reads "
                              f"schema {CURRENT_SCHEMA} and older. Update ANN Designer to open it.")
    doc = dict(doc)
    while v < CURRENT_SCHEMA:
        doc = MIGRATIONS[v](doc, name)
        v = doc["schema_version"]
    for key in ("nodes", "edges"):
        v = doc.get(key)
        if v is None:
            raise FileFormatError(f"{name}: network.json has no '{key}' list")
        if not isinstance(v, list):
            raise FileFormatError(f"{name}: network.json's '{key}' must be a list, not {_kind(v)} {_short(v)}")
    return doc


def _kind(v: Any) -> str:
    return {dict: "an object", list: "a list", str: "text", bool: "true/false", type(None): "null",
            int: "a number", float: "a number"}.get(type(v), type(v).__name__)


_short = short_repr


def _name(v: Any) -> bool:
    """A name a message may quote whole: text of 1 to 200 printable characters."""
    return isinstance(v, str) and 0 < len(v) <= 200 and v.isprintable()


def _finite(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def check_structure(doc: dict[str, Any], name: str = "file", *, max_nodes: int = 5_000,
                    max_edges: int = 20_000) -> None:
    """Check the JSON types of a current-schema document (every place a node,
    edge or setting is read), so that building the graph meets only values of
    the right kind; raises FileFormatError naming the place."""
    def bad(where: str, what: str, v: Any) -> FileFormatError:
        return FileFormatError(f"{name}: network.json: {where} must be {what}, not {_kind(v)} {_short(v)}".rstrip())

    for key in ("meta", "training", "data"):
        v = doc.get(key)
        if v is not None and not isinstance(v, dict):
            raise bad(f"'{key}'", "an object", v)
    seed = doc.get("seed", 0)
    if not isinstance(seed, int) or isinstance(seed, bool) or not 0 <= seed < 2**64:
        raise bad("seed", "a whole number from 0 to 2⁶⁴-1", seed)
    if doc.get("dtype", "float32") not in ("float32", "float64"):
        raise bad("dtype", "float32 or float64", doc["dtype"])
    meta = doc.get("meta") or {}
    for key in ("title", "description"):
        if key in meta and not isinstance(meta[key], str):
            raise bad(f"meta.{key}", "text", meta[key])
    nodes, edges = doc["nodes"], doc["edges"]
    if len(nodes) > max_nodes:
        raise FileFormatError(f"{name}: network.json has {len(nodes):,} nodes, more than the {max_nodes:,} allowed")
    if len(edges) > max_edges:
        raise FileFormatError(f"{name}: network.json has {len(edges):,} edges, more than the {max_edges:,} allowed")
    for i, n in enumerate(nodes):
        where = f"nodes[{i}]"
        if not isinstance(n, dict):
            raise bad(where, "an object", n)
        nid = n.get("id")
        if not _name(nid) or "/" in nid:
            raise bad(f"{where}.id", "a short printable name without '/'", nid)
        where = f"node '{nid}'"
        if not _name(n.get("type")):
            raise bad(f"{where}: 'type'", "a type name", n.get("type"))
        if "version" in n:
            v = n["version"]
            if not isinstance(v, int) or isinstance(v, bool) or not 1 <= v <= 10_000:
                raise bad(f"{where}: 'version'", "a whole number from 1", v)
        if n.get("params") is not None and not isinstance(n["params"], dict):
            raise bad(f"{where}: 'params'", "an object", n["params"])
        pos = n.get("position")
        if pos is not None and not (isinstance(pos, list) and len(pos) == 2 and all(_finite(x) and abs(x) <= 1e9
                                                                                     for x in pos)):
            raise bad(f"{where}: 'position'", "a list of two numbers (x, y)", pos)
        if "label" in n and not isinstance(n["label"], str):
            raise bad(f"{where}: 'label'", "text", n["label"])
    for i, e in enumerate(edges):
        where = f"edges[{i}]"
        if not isinstance(e, dict):
            raise bad(where, "an object", e)
        for key in ("id", "src", "dst"):
            if not _name(e.get(key)):
                raise bad(f"{where}.{key}", "a node or edge name", e.get(key))
        for key in ("src_port", "dst_port"):
            if key in e and not _name(e[key]):
                raise bad(f"{where}.{key}", "a port name", e[key])
