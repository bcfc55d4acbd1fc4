"""The ``.ann`` network file: a zip of

* ``network.json`` — format name, schema version, app version, graph (nodes
  with type ids, versions, parameters and positions; edges), training
  settings, data-set reference, seed, dtype;
* ``weights.npz`` — every weight as ``<node id>/<name>``, read with
  ``allow_pickle=False`` and checked for count, shape and dtype;
* ``history.json`` — per-epoch training metrics.

Saving is atomic (a temp file in the same folder, then ``os.replace``).
Loading raises only :class:`~anndesigner.errors.FileFormatError`, with a
message a person understands; nothing in a file is ever executed.
"""

from __future__ import annotations

import io
import json
import os
import tempfile
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from .._version import __version__
from ..errors import AnnError, FileFormatError
from .migrations import CURRENT_SCHEMA, FORMAT_NAME, migrate

MEMBER_LIMITS = {
    "network.json": 64 * 2**20,
    "history.json": 64 * 2**20,
    "weights.npz": 4 * 2**30,
}
#: more than this many weights entries is not a network file we wrote
MAX_WEIGHTS = 200_000


# --------------------------------------------------------------------- save
def network_to_dict(net, folder: str | os.PathLike | None = None) -> dict[str, Any]:
    """The ``network.json`` document. With ``folder`` (the file's), a CSV data
    path inside it is written relative to it (:func:`~anndesigner.data.source_for_file`)."""
    from ..data import source_for_file

    g = net.graph.to_dict()
    return {
        "format": FORMAT_NAME,
        "schema_version": CURRENT_SCHEMA,
        "app_version": __version__,
        "meta": g["meta"],
        "seed": net.seed,
        "dtype": str(net.dtype),
        "nodes": g["nodes"],
        "edges": g["edges"],
        "training": net.training.to_dict(),
        "data": net.data_source if folder is None else source_for_file(net.data_source, folder),
    }


def _npz_bytes(weights: dict[str, np.ndarray]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as z:
        for name, arr in weights.items():
            with z.open(name + ".npy", "w", force_zip64=True) as f:
                np.lib.format.write_array(f, np.array(arr, order="C", copy=None), allow_pickle=False)
    return buf.getvalue()


def save_network(net, path: str | os.PathLike) -> None:
    """Write ``net`` to ``path`` atomically."""
    path = Path(path)
    doc = network_to_dict(net, folder=os.path.abspath(path.parent))
    weights = net.weights_for_saving()
    history = net.history.to_dict()
    folder = path.parent if str(path.parent) else Path(".")
    fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb") as raw:
            with zipfile.ZipFile(raw, "w", zipfile.ZIP_DEFLATED) as z:
                z.writestr("network.json", json.dumps(doc, indent=1, allow_nan=False))
                z.writestr("weights.npz", _npz_bytes(weights), compress_type=zipfile.ZIP_STORED)
                z.writestr("history.json", json.dumps(history, allow_nan=False))
            raw.flush()
            os.fsync(raw.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


# --------------------------------------------------------------------- load
def _read_member(z: zipfile.ZipFile, name: str, path: Path, required: bool = True) -> bytes | None:
    try:
        info = z.getinfo(name)
    except KeyError:
        if required:
            raise FileFormatError(f"{path.name}: the file has no '{name}' inside; it is not a complete network file") from None
        return None
    limit = MEMBER_LIMITS[name]
    if info.file_size > limit:
        raise FileFormatError(f"{path.name}: '{name}' would unpack to {info.file_size:,} bytes, more than the "
                              f"{limit:,} allowed; the file is damaged or not a network file")
    try:
        with z.open(info) as f:
            data = f.read(limit + 1)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError, NotImplementedError) as e:
        raise FileFormatError(f"{path.name}: '{name}' cannot be unpacked ({e})") from None
    if len(data) > limit:
        raise FileFormatError(f"{path.name}: '{name}' unpacks to more than {limit:,} bytes")
    return data


def _json(data: bytes, name: str, path: Path) -> Any:
    try:
        return json.loads(data.decode("utf-8"))
    except UnicodeDecodeError:
        raise FileFormatError(f"{path.name}: '{name}' is not UTF-8 text") from None
    except json.JSONDecodeError as e:
        raise FileFormatError(f"{path.name}: '{name}' is not valid JSON (line {e.lineno}, column {e.colno}: {e.msg})") from None


def _read_weights(data: bytes, path: Path) -> dict[str, np.ndarray]:
    out: dict[str, np.ndarray] = {}
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            infos = z.infolist()
            if len(infos) > MAX_WEIGHTS:
                raise FileFormatError(f"{path.name}: weights.npz holds {len(infos):,} arrays, too many")
            for info in infos:
                if not info.filename.endswith(".npy"):
                    raise FileFormatError(f"{path.name}: weights.npz holds '{info.filename}', which is not an array")
                if info.file_size > MEMBER_LIMITS["weights.npz"]:
                    raise FileFormatError(f"{path.name}: weight '{info.filename}' is too large")
                with z.open(info) as f:
                    try:
                        arr = np.lib.format.read_array(f, allow_pickle=False)
                    except ValueError as e:
                        raise FileFormatError(f"{path.name}: weight '{info.filename[:-4]}' cannot be read ({e})") from None
                out[info.filename[:-4]] = arr
    except zipfile.BadZipFile:
        raise FileFormatError(f"{path.name}: weights.npz is damaged") from None
    return out


def read_meta(path: str | os.PathLike) -> dict[str, Any]:
    """A network file's metadata (title, description, target) without loading it;
    {} when the file cannot be read."""
    try:
        with zipfile.ZipFile(path) as z:
            if z.getinfo("network.json").file_size > MEMBER_LIMITS["network.json"]:
                return {}
            doc = json.loads(z.read("network.json"))
    except (OSError, KeyError, ValueError, zipfile.BadZipFile):
        return {}
    meta = doc.get("meta") if isinstance(doc, dict) else None
    return dict(meta) if isinstance(meta, dict) else {}


def load_network(path: str | os.PathLike):
    """Read a network file; raises :class:`FileFormatError` for any bad file."""
    from ..data import source_from_file
    from ..engine.network import Network
    from ..engine.trainer import History, TrainingConfig
    from ..graph import Graph

    path = Path(path)
    if not path.exists():
        raise FileFormatError(f"{path}: no such file")
    if path.is_dir():
        raise FileFormatError(f"{path}: is a folder, not a network file")
    try:
        z = zipfile.ZipFile(path)
    except zipfile.BadZipFile:
        raise FileFormatError(f"{path.name}: not a network file (it is not a zip archive)") from None
    except OSError as e:
        raise FileFormatError(f"{path.name}: cannot be read ({e.strerror or e})") from None
    with z:
        doc = _json(_read_member(z, "network.json", path), "network.json", path)
        weights_raw = _read_member(z, "weights.npz", path)
        hist_raw = _read_member(z, "history.json", path, required=False)
    if not isinstance(doc, dict):
        raise FileFormatError(f"{path.name}: network.json must hold an object")
    doc = migrate(doc, path.name)

    try:
        graph = Graph.from_dict({"meta": doc.get("meta") or {}, "nodes": doc["nodes"], "edges": doc["edges"]})
    except AnnError as e:
        raise FileFormatError(f"{path.name}: {e}") from None
    except (KeyError, TypeError, ValueError, IndexError) as e:
        raise FileFormatError(f"{path.name}: network.json has a malformed node or edge ({type(e).__name__}: {e})") from None

    weights = _read_weights(weights_raw, path)
    history = History()
    if hist_raw is not None:
        h = _json(hist_raw, "history.json", path)
        if not isinstance(h, dict) or not all(isinstance(v, list) for v in h.values()):
            raise FileFormatError(f"{path.name}: history.json must map metric names to lists")
        try:
            history = History.from_dict(h)
        except (TypeError, ValueError):
            raise FileFormatError(f"{path.name}: history.json holds values that are not numbers") from None

    try:
        training = TrainingConfig.from_dict(doc.get("training"))
        seed = doc.get("seed", 0)
        if not isinstance(seed, int) or isinstance(seed, bool):
            raise FileFormatError(f"{path.name}: seed must be a whole number, not {seed!r}")
        dtype = doc.get("dtype", "float32")
        if dtype not in ("float32", "float64"):
            raise FileFormatError(f"{path.name}: dtype must be float32 or float64, not {dtype!r}")
        data = source_from_file(doc.get("data"), os.path.abspath(path.parent))
        net = Network(graph, seed, dtype=dtype, training=training, data=data, history=history, strict=False)
    except FileFormatError:
        raise
    except AnnError as e:
        raise FileFormatError(f"{path.name}: {e}") from None
    for name, arr in weights.items():
        if arr.dtype.kind != "f" or arr.dtype.itemsize not in (4, 8):
            raise FileFormatError(f"{path.name}: weight '{name}' has dtype {arr.dtype}; float32 or float64 expected")
        if not np.isfinite(arr).all():
            raise FileFormatError(f"{path.name}: weight '{name}' contains NaN or inf")
    if not net.compiles:
        # a design saved mid-edit: keep its weights for when it is whole again
        known = set(graph.nodes)
        stray = [n for n in weights if n.split("/")[0] not in known]
        if stray:
            raise FileFormatError(f"{path.name}: weight '{stray[0]}' belongs to no node of the network")
        net.stage_weights(weights)
        return net

    expected = {n: net.program.weight_shape(n) for n in net.program.weight_names()}
    missing = [n for n in expected if n not in weights]
    if missing:
        raise FileFormatError(f"{path.name}: weight '{missing[0]}' is missing"
                              + (f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""))
    extra = [n for n in weights if n not in expected]
    if extra:
        raise FileFormatError(f"{path.name}: weight '{extra[0]}' belongs to no node of the network")
    for name, arr in weights.items():
        if arr.shape != expected[name]:
            raise FileFormatError(f"{path.name}: weight '{name}' has shape {arr.shape}; the network needs {expected[name]}")
    net.set_weights(weights)
    return net
