"""Schema versions of ``network.json`` and the steps between them.

Version 1 (the 0.0 development format) kept node positions in a separate
``layout`` map and named the node type ``type_id``. Version 2 stores the
position on each node and uses ``type``. Each step takes a dict of one
version and returns the next; :func:`migrate` chains them.
"""

from __future__ import annotations

from typing import Any, Callable

from ..errors import FileFormatError

FORMAT_NAME = "anndesigner-network"
CURRENT_SCHEMA = 2


def _v1_to_v2(doc: dict[str, Any]) -> dict[str, Any]:
    layout = doc.pop("layout", {}) or {}
    nodes = []
    for n in doc.get("nodes", []):
        n = dict(n)
        if "type_id" in n and "type" not in n:
            n["type"] = n.pop("type_id")
        if "position" not in n and n.get("id") in layout:
            n["position"] = layout[n["id"]]
        nodes.append(n)
    doc["nodes"] = nodes
    doc["schema_version"] = 2
    return doc


MIGRATIONS: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {1: _v1_to_v2}


def migrate(doc: dict[str, Any], name: str = "file") -> dict[str, Any]:
    """Bring a ``network.json`` dict to :data:`CURRENT_SCHEMA` or raise FileFormatError."""
    if doc.get("format") != FORMAT_NAME:
        raise FileFormatError(f"{name}: not an ANN Designer network (format is {doc.get('format')!r})")
    v = doc.get("schema_version")
    if not isinstance(v, int) or isinstance(v, bool) or v < 1:
        raise FileFormatError(f"{name}: schema_version must be a positive whole number, not {v!r}")
    if v > CURRENT_SCHEMA:
        app = doc.get("app_version", "a newer version")
        raise FileFormatError(f"{name}: was saved by ANN Designer {app} with file schema {v}; this version reads "
                              f"schema {CURRENT_SCHEMA} and older. Update ANN Designer to open it.")
    doc = dict(doc)
    while v < CURRENT_SCHEMA:
        doc = MIGRATIONS[v](doc)
        v = doc["schema_version"]
    for key in ("nodes", "edges"):
        if not isinstance(doc.get(key), list):
            raise FileFormatError(f"{name}: network.json has no '{key}' list")
    return doc
