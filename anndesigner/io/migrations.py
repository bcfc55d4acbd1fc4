"""Schema versions of ``network.json`` and the steps between them.

Version 1 (the 0.0 development format) kept node positions in a separate
``layout`` map and named the node type ``type_id``. Version 2 stores the
position on each node and uses ``type``. Each step takes a dict of one
version and returns the next; :func:`migrate` chains them.

Version 3 settled two conventions on those of Keras, PyTorch and ONNX, so
that an old file still computes what it computed:

* **GELU.** Until version 2, "gelu" was the tanh approximation; since 3 it is
  the exact ½x(1 + erf(x/√2)) and the approximation is "gelu_tanh". The step
  renames "gelu" to "gelu_tanh" in every node parameter that holds an
  activation (``activation`` and any ``…_activation``).
* **GRU.** Until version 2 the state was hₜ = (1 − z)⊙hₜ₋₁ + z⊙h̃; since 3 it
  is Keras's z⊙hₜ₋₁ + (1 − z)⊙h̃. As 1 − σ(a) = σ(−a), an old GRU is a new one
  whose update-gate pre-activation is negated: the z columns (the first
  ``units`` of the 3·units) of ``kernel``, ``recurrent_kernel`` and ``bias``
  change sign. That is a change of the weights, which network.json does not
  hold: :func:`migrate_weights` does it, run by the file reader on the arrays
  of weights.npz (:data:`WEIGHT_MIGRATIONS`, one step per version, like
  :data:`MIGRATIONS`), and :func:`migrate_optimizer_state` does the same to
  the optimizer state of those columns, so that training continues exactly:
  the states that follow the gradient's sign (SGD's and RMSprop's
  ``momentum``, Adam's ``grad_sum``) are negated there and the squared ones
  (:data:`SQUARED_SLOTS`) kept. A state it cannot map (a slot it does not
  know, arrays named by index) raises ValueError, and the reader drops the
  state with an OptimizerStateWarning as for any unusable state.
"""

from __future__ import annotations

import math
from typing import Any, Callable, Mapping

import numpy as np

from ..errors import FileFormatError, short_repr

FORMAT_NAME = "anndesigner-network"
CURRENT_SCHEMA = 3


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


def _v2_to_v3(doc: dict[str, Any], name: str = "file") -> dict[str, Any]:
    nodes = doc.get("nodes", [])
    if isinstance(nodes, list):
        doc["nodes"] = [_v2_node(n) if isinstance(n, dict) else n for n in nodes]
    doc["schema_version"] = 3
    return doc


def _is_activation_param(key: Any) -> bool:
    return isinstance(key, str) and (key == "activation" or key.endswith("_activation"))


def _v2_node(n: dict[str, Any]) -> dict[str, Any]:
    params = n.get("params")
    if not isinstance(params, dict):
        return n
    if not any(_is_activation_param(k) and v == "gelu" for k, v in params.items()):
        return n
    n = dict(n)
    n["params"] = {k: ("gelu_tanh" if _is_activation_param(k) and v == "gelu" else v) for k, v in params.items()}
    return n


#: schema version -> step to the next (``step(doc, file_name)``)
MIGRATIONS: dict[int, Callable[[dict[str, Any], str], dict[str, Any]]] = {1: _v1_to_v2, 2: _v2_to_v3}


# ------------------------------------------------------------------ weights
#: the GRU's weights whose last axis holds the gates z, r, h̃ side by side
GRU_GATE_WEIGHTS = ("kernel", "recurrent_kernel", "bias")
#: optimizer slots that are sums of gradients (they change sign with a weight)
SIGNED_SLOTS = frozenset({"momentum", "grad_sum"})
#: optimizer slots of squared gradients or steps (a weight's sign leaves them as they are)
SQUARED_SLOTS = frozenset({"accumulator", "grad_sq", "delta_sq", "sq_avg", "grad_sq_sum"})


def _gru_ids(doc: Mapping[str, Any]) -> set[str]:
    return {n["id"] for n in doc.get("nodes") or () if isinstance(n, dict) and n.get("type") == "GRU"
            and isinstance(n.get("id"), str)}


def _gru_z_columns(arr: np.ndarray) -> np.ndarray:
    """A copy of a GRU gate array with its z block (the first third of the last
    axis) negated; an array whose last axis is not three blocks (a design saved
    mid-edit may hold weights of another shape) is returned as it is."""
    if arr.ndim == 0 or arr.shape[-1] % 3:
        return arr
    u = arr.shape[-1] // 3
    out = np.array(arr, copy=True)
    out[..., :u] *= -1
    return out


def _gru_weight(key: str, grus: set[str]) -> bool:
    nid, _, wname = key.partition("/")
    return nid in grus and wname in GRU_GATE_WEIGHTS


def _v2_to_v3_weights(doc: Mapping[str, Any], weights: dict[str, np.ndarray], name: str) -> dict[str, np.ndarray]:
    grus = _gru_ids(doc)
    if not grus:
        return weights
    return {k: (_gru_z_columns(v) if _gru_weight(k, grus) else v) for k, v in weights.items()}


def _v2_to_v3_optimizer(doc: Mapping[str, Any], state: dict[str, Any]) -> dict[str, Any]:
    grus = _gru_ids(doc)
    if not grus:
        return state
    out = dict(state)
    for key, v in state.items():
        if not (isinstance(key, str) and key.startswith("state.")):
            continue
        parts = key.split(".", 2)
        if len(parts) != 3:
            raise ValueError(f"'{key[:80]}' names no slot and weight")
        _, slot, label = parts
        if label.isdigit():
            raise ValueError("its arrays are named by position, so the GRU update-gate columns that schema 3 "
                             "turned round cannot be found in it")
        if not _gru_weight(label, grus):
            continue
        if slot in SIGNED_SLOTS:
            out[key] = _gru_z_columns(np.asarray(v))
        elif slot not in SQUARED_SLOTS:
            raise ValueError(f"its slot '{slot[:40]}' of GRU weight '{label[:80]}' cannot be carried over "
                             "to schema 3's GRU convention")
    return out


#: schema version -> step of the weights to the next version
#: (``step(migrated doc, {"<node>/<weight>": array}, file_name) -> weights``)
WEIGHT_MIGRATIONS: dict[int, Callable[[Mapping[str, Any], dict[str, np.ndarray], str], dict[str, np.ndarray]]] = {
    2: _v2_to_v3_weights}
#: schema version -> step of the optimizer state (``Network.optimizer_state``) to the next version
OPTIMIZER_MIGRATIONS: dict[int, Callable[[Mapping[str, Any], dict[str, Any]], dict[str, Any]]] = {
    2: _v2_to_v3_optimizer}


def migrate_weights(weights: dict[str, np.ndarray], doc: Mapping[str, Any], from_version: int,
                    name: str = "file") -> dict[str, np.ndarray]:
    """The weights of a file of schema ``from_version`` as :data:`CURRENT_SCHEMA`
    reads them. ``doc``: the file's network.json after :func:`migrate`. The
    arrays given are not changed (changed ones are copies)."""
    for v in range(from_version, CURRENT_SCHEMA):
        step = WEIGHT_MIGRATIONS.get(v)
        if step is not None:
            weights = step(doc, weights, name)
    return weights


def migrate_optimizer_state(state: dict[str, Any], doc: Mapping[str, Any], from_version: int) -> dict[str, Any]:
    """The optimizer state of a file of schema ``from_version`` for the weights of
    :func:`migrate_weights`; ValueError (saying why) when it cannot be carried over."""
    for v in range(from_version, CURRENT_SCHEMA):
        step = OPTIMIZER_MIGRATIONS.get(v)
        if step is not None:
            state = step(doc, state)
    return state


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
