"""The ``.ann`` network file: a zip of

* ``network.json`` — format name, schema version, app version, graph (nodes
  with type ids, versions, parameters and positions; edges), training
  settings, data-set reference, seed, dtype;
* ``weights.npz`` — every weight as ``<node id>/<name>``, read with
  ``allow_pickle=False`` and checked for count, shape and dtype;
* ``history.json`` — per-epoch training metrics;
* ``optimizer.npz`` (optional) — the optimizer state of the last run, to
  continue training exactly; plain ``.npy`` arrays like weights.npz (see
  :func:`_read_optimizer_state`). A damaged one is dropped with an
  :class:`OptimizerStateWarning`; the network opens without it.
* ``tour.json`` (optional) — a guided tour of the network, plain data
  (:mod:`anndesigner.io.tour`); ``Network.tour``. A damaged one is dropped with
  a :class:`~anndesigner.io.tour.TourWarning`; the network opens without it.

Optional members need no new schema version: a version that does not know one
ignores it (only the members in :data:`MEMBER_LIMITS` are ever read), and a
file without one opens as before.

Saving is atomic (a temp file ``<name>.<8 random>.tmp`` in the same folder,
then ``os.replace``) and keeps the target's permissions; a temp file left by a
killed save is removed by the next save or open of that file. Saving errors are
:class:`SaveError` (an :class:`OSError` and an :class:`AnnError`) naming the target.

Loading raises only :class:`~anndesigner.errors.FileFormatError`, with a
message that names the file, the member and the problem; nothing in a file is
ever executed. A file is distrusted in layers, each checked before the next
is read: the zip (member sizes, duplicates, compression ratio), the JSON
(size, depth, numbers), the document's structure and size (:data:`LIMITS`),
the graph's analysis (shapes and parameter counts, which allocates nothing,
and the network's limits, :data:`anndesigner.graph.model.LIMITS`), then each
array's ``.npy`` header against the weight the graph declares, and only then
exactly that array's data. weights.npz may unpack only to what the graph's
weights need (or, for a design saved mid-edit, to what its compressed size
allows), so memory stays within a small multiple of the real weights' size.
A graph past the network's limits opens as an unfinished design whose
analysis names the node; it is never built.
"""

from __future__ import annotations

import errno
import io
import json
import math
import os
import re
import secrets
import stat
import struct
import time
import zipfile
import warnings
import zlib
from pathlib import Path
from typing import Any

import numpy as np

from .._version import __version__
from ..engine.build import DocumentError, graph_from_dict, network_from_dict, network_to_dict
from ..engine.network import optimizer_state_fits
from ..engine.trainer import History
from ..errors import AnnError, FileFormatError, GraphError
from ..graph.model import LIMITS as GRAPH_LIMITS
from .migrations import (CURRENT_SCHEMA, FORMAT_NAME, check_structure, migrate, migrate_optimizer_state,
                         migrate_weights)
from .tour import MAX_BYTES as TOUR_MAX_BYTES, TourWarning, tour_from_bytes

try:  # POSIX: a save holds a lock on its temp file, so another process never removes it
    import fcntl
except ImportError:  # pragma: no cover (Windows)
    fcntl = None  # type: ignore[assignment]

#: the most each member may unpack to, whatever the graph says
MEMBER_LIMITS = {
    "network.json": 8 * 2**20,
    "history.json": 32 * 2**20,
    "weights.npz": 2**31,
    "optimizer.npz": 2**31,
    "tour.json": TOUR_MAX_BYTES,
}


class Limits:
    """What a network file may hold, checked before the graph is built. The
    network's own limits (parameters, values per sample) are the graph's
    (:data:`anndesigner.graph.model.LIMITS`): a file past them opens as an
    unfinished design whose analysis says why, so nothing is lost and nothing
    big is allocated."""

    #: nodes and edges of the graph
    nodes = 5_000
    edges = 20_000
    #: nesting of JSON arrays and objects (a file of ours needs 6)
    json_depth = 32
    #: digits of a whole number in JSON
    int_digits = 40
    #: how many times weights.npz may be compressed where its size is not known from the graph
    ratio = 32
    #: values of one weight array, and of all (the graph's parameter limit)
    params = GRAPH_LIMITS.params


LIMITS = Limits()
#: more than this many weights entries is not a network file we wrote
MAX_WEIGHTS = 200_000
#: a weight array's .npy header and zip entries take at most this many bytes beside its data
_NPY_OVERHEAD = 4096 + 512


class SaveError(AnnError, OSError):
    """A network file could not be written. ``filename`` is the target (never
    the temp file); ``strerror`` says why in plain words. The old file is untouched."""

    def __init__(self, target: str | os.PathLike, reason: str, err: int | None = None):
        OSError.__init__(self, err or 0, reason)
        self.filename = str(target)
        self.strerror = reason
        self.target = Path(target)

    def __str__(self) -> str:
        return f"cannot save {self.filename}: {self.strerror}"


# --------------------------------------------------------------------- save
def network_json(net, folder: str | os.PathLike | None = None) -> dict[str, Any]:
    """The ``network.json`` document: the format header and the network's dict
    (:func:`~anndesigner.engine.build.network_to_dict`; with ``folder``, the
    file's, a CSV data path inside it is written relative to it)."""
    return {"format": FORMAT_NAME, "schema_version": CURRENT_SCHEMA, "app_version": __version__,
            **network_to_dict(net, folder)}


def _npz_bytes(weights: dict[str, np.ndarray]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as z:
        for name, arr in weights.items():
            with z.open(name + ".npy", "w", force_zip64=True) as f:
                np.lib.format.write_array(f, np.array(arr, order="C", copy=None), allow_pickle=False)
    return buf.getvalue()


_REASONS = {
    errno.EACCES: "permission denied (the folder or the file is not writable)",
    errno.EPERM: "permission denied",
    errno.ENOENT: "the folder does not exist",
    errno.ENOTDIR: "part of the path is not a folder",
    errno.EISDIR: "it is a folder; choose a file name",
    errno.ENOSPC: "the disk is full",
    errno.EDQUOT: "the disk quota is exceeded",
    errno.EROFS: "the disk is read-only",
    errno.ENAMETOOLONG: "the file name is too long",
}


def _reason(e: OSError) -> str:
    return _REASONS.get(e.errno or -1) or e.strerror or str(e) or type(e).__name__


def _temp_pattern(name: str) -> re.Pattern:
    """Temp files of a save of ``name``: ``<name>.<8 of [a-z0-9_]>.tmp`` (what this
    module and ``tempfile.mkstemp`` write; nothing else is ever removed)."""
    return re.compile(re.escape(name) + r"\.[a-z0-9_]{8}\.tmp")


#: seconds: a temp file younger than this is never removed (with no file locks, as on Windows: 10 minutes)
STALE_AFTER = 2.0 if fcntl is not None else 600.0


def clean_stale_temps(path: str | os.PathLike) -> list[Path]:
    """Remove temp files that killed saves of ``path`` left beside it; returns them.

    Only files named exactly ``<name>.<8 characters>.tmp``, regular, empty or
    starting like a zip, older than :data:`STALE_AFTER` seconds and not locked
    by a save in progress (every save holds a lock on its temp file; a killed
    process holds none) are removed. Errors are ignored: this is tidying."""
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    pat = _temp_pattern(path.name)
    removed = []
    try:
        names = [n for n in os.listdir(folder) if pat.fullmatch(n)]
    except OSError:
        return removed
    now = time.time()
    for n in names:
        tmp = folder / n
        try:
            fd = os.open(tmp, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
        except OSError:
            continue
        try:
            st = os.fstat(fd)
            if not stat.S_ISREG(st.st_mode) or now - st.st_mtime < STALE_AFTER:
                continue
            head = os.read(fd, 4)
            if not b"PK\x03\x04".startswith(head):
                continue  # neither empty nor a zip we were writing: leave it alone
            if fcntl is not None:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except OSError:
                    continue  # a save in progress holds it
            if os.stat(tmp, follow_symlinks=False).st_ino != st.st_ino:
                continue  # replaced meanwhile
            os.unlink(tmp)
            removed.append(tmp)
        except OSError:
            pass
        finally:
            os.close(fd)
    return removed


def _umask() -> int:
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)  # no other way to read it; set back at once
    os.umask(mask)
    return mask


def _new_temp(path: Path) -> tuple[int, Path]:
    folder = path.parent if str(path.parent) else Path(".")
    alphabet = "abcdefghijklmnopqrstuvwxyz0123456789_"
    for _ in range(100):
        tmp = folder / f"{path.name}.{''.join(secrets.choice(alphabet) for _ in range(8))}.tmp"
        try:
            fd = os.open(tmp, os.O_RDWR | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
                         | getattr(os, "O_BINARY", 0), 0o600)
        except FileExistsError:
            continue
        if fcntl is None:
            return fd, tmp
        try:  # locked until it is renamed: a cleaner removes only unlocked temp files
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            if os.stat(tmp, follow_symlinks=False).st_ino == os.fstat(fd).st_ino:
                return fd, tmp
        except OSError:
            pass
        os.close(fd)  # a cleaner took it between create and lock: take another name
    raise FileExistsError(errno.EEXIST, "no free temp file name")


def save_network(net, path: str | os.PathLike) -> None:
    """Write ``net`` to ``path`` atomically; raises :class:`SaveError` naming ``path``.

    A file that exists keeps its permission bits; a new one gets those of any
    new file (0666 less the umask). Saving through a symbolic link writes the
    file it points to."""
    target = Path(path)
    path = Path(os.path.realpath(target)) if target.is_symlink() else target
    owner = None
    try:
        st = os.stat(path)
    except FileNotFoundError:
        mode = 0o666 & ~_umask()
    except OSError as e:
        raise SaveError(target, _reason(e), e.errno) from None
    else:
        if stat.S_ISDIR(st.st_mode):
            raise SaveError(target, "it is a folder; choose a file name", errno.EISDIR)
        if not stat.S_ISREG(st.st_mode):
            raise SaveError(target, "it is not a regular file (a device, pipe or socket)")
        mode = stat.S_IMODE(st.st_mode)
        owner = (st.st_uid, st.st_gid)
    doc = network_json(net, folder=os.path.abspath(path.parent))
    weights = net.weights_for_saving()
    history = net.history.to_dict()
    optimizer = _optimizer_arrays(getattr(net, "optimizer_state", None))
    tour = getattr(net, "tour", None)
    tour_text = tour.to_json() if tour is not None else None
    clean_stale_temps(path)
    try:
        fd, tmp = _new_temp(path)
    except OSError as e:
        raise SaveError(target, _reason(e), e.errno) from None
    try:
        with os.fdopen(fd, "wb") as raw:
            with zipfile.ZipFile(raw, "w", zipfile.ZIP_DEFLATED) as z:
                z.writestr("network.json", json.dumps(doc, indent=1, allow_nan=False))
                z.writestr("weights.npz", _npz_bytes(weights), compress_type=zipfile.ZIP_STORED)
                z.writestr("history.json", json.dumps(history, allow_nan=False))
                if optimizer is not None:
                    z.writestr("optimizer.npz", _npz_bytes(optimizer), compress_type=zipfile.ZIP_STORED)
                if tour_text is not None:
                    z.writestr("tour.json", tour_text)
            raw.flush()
            if hasattr(os, "fchmod"):
                os.fchmod(raw.fileno(), mode)
            if owner is not None and hasattr(os, "fchown") and owner != (os.geteuid(), os.getegid()):
                try:  # only root (or a member of the group) may; otherwise the file becomes the saver's
                    os.fchown(raw.fileno(), *owner)
                except OSError:
                    pass
            os.fsync(raw.fileno())
            if fcntl is not None:
                os.replace(tmp, path)  # still locked: a cleaner never sees it unlocked
        if fcntl is None:
            os.replace(tmp, path)  # (Windows cannot rename an open file)
        if os.name != "nt":
            _fsync_folder(path.parent)
    except BaseException as e:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        if isinstance(e, OSError) and not isinstance(e, SaveError):
            raise SaveError(target, _reason(e), e.errno) from None
        raise


def _fsync_folder(folder: Path) -> None:
    try:
        fd = os.open(folder if str(folder) else ".", os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


# --------------------------------------------------------------------- load
def _zip_problem(e: BaseException) -> str:
    """A plain-words reason for an exception raised while unpacking."""
    msg = str(e)
    if isinstance(e, zlib.error):
        return f"its compressed data is corrupt ({msg})"
    if isinstance(e, NotImplementedError):
        return f"it uses a zip feature this program does not read ({msg})"
    if isinstance(e, RuntimeError) and "encrypt" in msg:
        return "it is encrypted"
    if isinstance(e, zipfile.BadZipFile) and "CRC" in msg:
        return "its checksum does not match its data"
    if isinstance(e, EOFError):
        return "its data ends too early"
    return f"{msg or type(e).__name__}"


#: what unpacking a damaged member may raise (zipfile, zlib, bz2, lzma, struct)
_UNPACK_ERRORS: tuple[type[BaseException], ...] = (
    zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, NotImplementedError, RuntimeError, OSError, EOFError,
    ValueError, struct.error, OverflowError, UnicodeDecodeError, KeyError, IndexError, TypeError,
)
try:
    import lzma

    _UNPACK_ERRORS += (lzma.LZMAError,)
except ImportError:  # pragma: no cover
    pass


def _open_zip(path: Path, shown: str) -> zipfile.ZipFile:
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise FileFormatError(f"{path}: no such file") from None
    except OSError as e:
        raise FileFormatError(f"{shown}: cannot be read ({e.strerror or e})") from None
    if stat.S_ISDIR(st.st_mode):
        raise FileFormatError(f"{path}: is a folder, not a network file")
    if not stat.S_ISREG(st.st_mode):
        raise FileFormatError(f"{shown}: is not a regular file (a device, pipe or socket); not a network file")
    if st.st_size == 0:
        raise FileFormatError(f"{shown}: the file is empty; not a network file (it is not a zip archive)")
    try:
        with open(path, "rb") as f:
            head = f.read(4)
    except OSError as e:
        raise FileFormatError(f"{shown}: cannot be read ({e.strerror or e})") from None
    try:
        return zipfile.ZipFile(path)
    except _UNPACK_ERRORS as e:
        if head in (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08"):
            raise FileFormatError(f"{shown}: the file is damaged or incomplete (its zip directory cannot be read: "
                                  f"{_zip_problem(e)}); it may have been cut short while saving or copying") from None
        raise FileFormatError(f"{shown}: not a network file (it is not a zip archive)") from None


def _members(z: zipfile.ZipFile, shown: str) -> dict[str, zipfile.ZipInfo]:
    out: dict[str, zipfile.ZipInfo] = {}
    for info in z.infolist():
        if info.filename in MEMBER_LIMITS:
            if info.filename in out:
                raise FileFormatError(f"{shown}: the file holds '{info.filename}' twice; it is damaged")
            out[info.filename] = info
    return out


def _read_member(z: zipfile.ZipFile, members: dict[str, zipfile.ZipInfo], name: str, shown: str,
                 required: bool = True, limit: int | None = None, why: str = "") -> bytes | None:
    info = members.get(name)
    if info is None:
        if required:
            raise FileFormatError(f"{shown}: the file has no '{name}' inside; it is damaged or incomplete, "
                                  "or not a network file")
        return None
    limit = MEMBER_LIMITS[name] if limit is None else limit
    if info.file_size > limit:
        raise FileFormatError(f"{shown}: '{name}' would unpack to {info.file_size:,} bytes, more than the "
                              f"{limit:,} allowed{why}; the file is damaged or not a network file")
    try:
        with z.open(info) as f:
            data = f.read()  # zipfile stops at the entry's size and then checks the checksum
    except _UNPACK_ERRORS as e:
        raise FileFormatError(f"{shown}: '{name}' cannot be unpacked: {_zip_problem(e)}; the file is damaged") from None
    if len(data) != info.file_size:
        raise FileFormatError(f"{shown}: '{name}' unpacks to fewer bytes than its zip entry says "
                              f"({info.file_size:,}); the file is damaged")
    return data


class _BadNumber(ValueError):
    pass


def _parse_int(s: str) -> int:
    if len(s) > LIMITS.int_digits:
        raise _BadNumber(f"a whole number of {len(s):,} digits")
    return int(s)


def _parse_float(s: str) -> float:
    v = float(s)
    if not math.isfinite(v):
        raise _BadNumber(f"the number {s[:30]}, too large to hold")
    return v


def _parse_constant(s: str) -> Any:
    raise _BadNumber(f"{s}, which is not a number JSON allows")


#: the most values (counted by their commas, before parsing) a JSON member may hold
JSON_VALUES = {"network.json": 1_000_000, "history.json": 2_000_000}


def _json(data: bytes, name: str, shown: str) -> Any:
    most = JSON_VALUES.get(name)
    if most is not None and data.count(b",") > most:
        raise FileFormatError(f"{shown}: '{name}' holds more than {most:,} values; it is damaged or not a network file")
    try:
        doc = json.loads(data.decode("utf-8"), parse_int=_parse_int, parse_float=_parse_float,
                         parse_constant=_parse_constant)
    except UnicodeDecodeError:
        raise FileFormatError(f"{shown}: '{name}' is not UTF-8 text") from None
    except RecursionError:
        raise FileFormatError(f"{shown}: '{name}' is nested too deeply; it is damaged or not a network file") from None
    except json.JSONDecodeError as e:
        raise FileFormatError(f"{shown}: '{name}' is not valid JSON (line {e.lineno}, column {e.colno}: {e.msg})") from None
    except _BadNumber as e:
        raise FileFormatError(f"{shown}: '{name}' holds {e}") from None
    except ValueError as e:
        raise FileFormatError(f"{shown}: '{name}' cannot be read ({e})") from None
    depth = _depth(doc)
    if depth > LIMITS.json_depth:
        raise FileFormatError(f"{shown}: '{name}' is nested more than {LIMITS.json_depth} levels deep; "
                              "it is damaged or not a network file")
    return doc


def _depth(doc: Any) -> int:
    """How deeply arrays and objects nest (iterative: any depth is safe), up to just past the limit."""
    deepest = 0
    stack = [(doc, 1)]
    while stack:
        v, d = stack.pop()
        if isinstance(v, dict):
            v = v.values()
        elif not isinstance(v, list):
            continue
        if d > deepest:
            deepest = d
            if d > LIMITS.json_depth:
                return d
        stack.extend((x, d + 1) for x in v if isinstance(x, (dict, list)))
    return deepest


def read_meta(path: str | os.PathLike) -> dict[str, Any]:
    """A network file's metadata (title, description, target) without loading it;
    {} when the file cannot be read."""
    path = Path(path)
    try:
        with _open_zip(path, path.name) as z:
            members = _members(z, path.name)
            doc = _json(_read_member(z, members, "network.json", path.name), "network.json", path.name)
    except FileFormatError:
        return {}
    meta = doc.get("meta") if isinstance(doc, dict) else None
    return dict(meta) if isinstance(meta, dict) else {}


def _expected_weights(graph, analysis) -> tuple[dict[str, tuple[int, ...]], bool]:
    """Weight names and shapes the graph declares (of the nodes whose input
    shapes are known), and whether the graph is whole (it validates, so it
    compiles and its weights must be exactly these)."""
    expected: dict[str, tuple[int, ...]] = {}
    for nid in graph.nodes:
        for w in analysis.weights.get(nid) or ():
            expected[f"{nid}/{w.name}"] = tuple(int(x) for x in w.shape)
    try:
        graph.validate()
        whole = True
    except GraphError:
        whole = False
    return expected, whole


def _read_weights(raw: bytes, expected: dict[str, tuple[int, ...]], whole: bool, graph, shown: str,
                  budget: int) -> dict[str, np.ndarray]:
    """Every array of weights.npz. Each header is checked before its data is
    read: in a whole graph against the weight the graph declares; in a design
    saved mid-edit (whose weights may be of an earlier shape, kept for undo)
    against the limits. ``budget``: the most bytes all data may take."""
    def bad(msg: str) -> FileFormatError:
        return FileFormatError(f"{shown}: weights.npz: {msg}")

    out: dict[str, np.ndarray] = {}
    try:
        z = zipfile.ZipFile(io.BytesIO(raw))
    except _UNPACK_ERRORS as e:
        raise FileFormatError(f"{shown}: weights.npz is damaged ({_zip_problem(e)})") from None
    with z:
        infos = z.infolist()
        most = (len(expected) if whole else 16 * len(graph.nodes)) + 16  # beyond it, a name is wrong anyway
        if len(infos) > min(MAX_WEIGHTS, most):
            raise bad(f"it holds {len(infos):,} arrays, more than the network has weights")
        left = budget
        for info in infos:
            fname = info.filename
            if not fname.endswith(".npy"):
                raise bad(f"it holds '{fname}', which is not an array")
            name = fname[:-4]
            if name in out:
                raise bad(f"weight '{name}' is stored twice")
            nid = name.split("/")[0]
            if nid not in graph.nodes:
                raise bad(f"weight '{name}' belongs to no node of the network")
            if whole and name not in expected:
                its = [n.split("/", 1)[1] for n in expected if n.split("/")[0] == nid]
                raise bad(f"weight '{name}': {graph.node_type(nid).title} '{nid}' has no such weight "
                          f"(its weights: {', '.join(its) or 'none'})")
            try:
                with z.open(info) as f:
                    arr, left = _read_array(f, info, name, expected[name] if whole else None, left, bad)
            except FileFormatError:
                raise
            except _UNPACK_ERRORS as e:
                raise bad(f"weight '{name}' cannot be read: {_zip_problem(e)}") from None
            out[name] = arr
    return out


def _read_array(f, info: zipfile.ZipInfo, name: str, exp: tuple[int, ...] | None, budget: int, bad):
    """One .npy: header first, then exactly its data. Returns (array, budget left)."""
    try:
        version = np.lib.format.read_magic(f)
        if version == (1, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_1_0(f, max_header_size=4096)
        elif version in ((2, 0), (3, 0)):
            shape, fortran, dtype = np.lib.format.read_array_header_2_0(f, max_header_size=4096)
        else:
            raise ValueError(f"unknown .npy version {version}")
    except (ValueError, TypeError, SyntaxError, OverflowError, MemoryError, RecursionError, struct.error) as e:
        raise bad(f"weight '{name}' cannot be read (its header is damaged: {str(e)[:200]})") from None
    if dtype.hasobject:
        raise bad(f"weight '{name}' cannot be read: it holds Python objects, not numbers")
    if dtype.kind != "f" or dtype.itemsize not in (4, 8) or dtype.fields is not None or dtype.shape:
        raise bad(f"weight '{name}' has dtype {dtype}; float32 or float64 expected")
    if any(s < 0 for s in shape):  # (NumPy checked that it is a tuple of whole numbers)
        raise bad(f"weight '{name}' has a damaged shape {shape!r}")
    if exp is not None and shape != exp:
        raise bad(f"weight '{name}' has shape {shape}; the network needs {exp}")
    count = math.prod(shape)
    if count > LIMITS.params:
        raise bad(f"weight '{name}' declares {count:,} values, more than the {LIMITS.params:,} parameters allowed")
    nbytes = count * dtype.itemsize
    if nbytes > budget:
        raise bad(f"weight '{name}' declares {nbytes:,} bytes of data, more than the network's weights can take")
    head = f.tell()
    if nbytes != info.file_size - head:
        raise bad(f"weight '{name}' holds {info.file_size - head:,} bytes of data, but its shape {shape} "
                  f"needs {nbytes:,}")
    if exp is None and info.compress_type != zipfile.ZIP_STORED and nbytes > LIMITS.ratio * info.compress_size + 2**16:
        raise bad(f"weight '{name}' is compressed {nbytes / max(1, info.compress_size):,.0f} times; "
                  "no weights compress that well")
    arr = np.empty(count, dtype=dtype)
    view = memoryview(arr).cast("B")
    got = 0
    while got < nbytes:
        k = f.readinto(view[got:])
        if not k:
            break
        got += k
    if got != nbytes:
        raise bad(f"weight '{name}' ends after {got:,} of its {nbytes:,} bytes")
    if fortran and len(shape) > 1:
        arr = np.ascontiguousarray(arr.reshape(shape[::-1]).T)
    else:
        arr = arr.reshape(shape)
    if not dtype.isnative:
        arr = arr.astype(dtype.newbyteorder("="))
    if not np.isfinite(arr).all():
        raise bad(f"weight '{name}' contains NaN or inf")
    return arr, budget - nbytes


def _weights_bound(expected: dict[str, tuple[int, ...]], whole: bool, info: zipfile.ZipInfo | None) -> int:
    """The most bytes weights.npz may unpack to. A whole graph: every declared
    weight as float64 with its headers. A design saved mid-edit (its weights
    may be of earlier shapes): what the compressed size allows (all of it when
    stored, as the app writes it)."""
    if whole:
        return sum(math.prod(s) * 8 + _NPY_OVERHEAD + 2 * len(n) for n, s in expected.items()) + 2**16
    if info is None:
        return 0
    if info.compress_type == zipfile.ZIP_STORED:
        return info.compress_size
    return min(LIMITS.ratio * info.compress_size + 2**20, LIMITS.params * 8 + MAX_WEIGHTS * 64)


def _check_missing(names, weights: dict[str, np.ndarray], shown: str) -> None:
    missing = [n for n in names if n not in weights]
    if missing:
        raise FileFormatError(f"{shown}: weights.npz: weight '{missing[0]}' is missing"
                              + (f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""))


def load_network(path: str | os.PathLike):
    """Read a network file; raises :class:`FileFormatError` for any bad file.

    Also removes temp files that a killed save of this file left beside it
    (see :func:`clean_stale_temps`)."""
    path = Path(path)
    shown = path.name
    clean_stale_temps(path)
    with _open_zip(path, shown) as z:
        members = _members(z, shown)
        doc = _json(_read_member(z, members, "network.json", shown), "network.json", shown)
        if not isinstance(doc, dict):
            raise FileFormatError(f"{shown}: network.json must hold an object")
        from_version = doc.get("schema_version")  # (migrate checks it)
        doc = migrate(doc, shown)
        check_structure(doc, shown, max_nodes=LIMITS.nodes, max_edges=LIMITS.edges)
        try:
            graph = graph_from_dict(doc)
        except AnnError as e:
            raise FileFormatError(f"{shown}: {e}") from None
        except (KeyError, TypeError, ValueError, IndexError, OverflowError, AttributeError) as e:
            raise FileFormatError(f"{shown}: network.json has a malformed node or edge ({type(e).__name__}: {e})") from None
        analysis = graph.analyze()  # shapes and parameter counts, limits included; allocates nothing
        expected, whole = _expected_weights(graph, analysis)
        winfo = members.get("weights.npz")
        bound = _weights_bound(expected, whole, winfo)
        weights_raw = _read_member(z, members, "weights.npz", shown, limit=min(bound, MEMBER_LIMITS["weights.npz"]),
                                   why=f" for the network's {sum(math.prod(s) for s in expected.values()):,} "
                                       "parameters" if whole else " by its compressed size")
        hist_raw = _read_member(z, members, "history.json", shown, required=False)
        opt_raw, opt_problem = None, None
        try:
            opt_raw = _read_member(z, members, "optimizer.npz", shown, required=False,
                                   limit=min(_optimizer_bound(bound), MEMBER_LIMITS["optimizer.npz"]))
        except FileFormatError as e:
            opt_problem = str(e)
        tour_raw, tour_problem = None, None
        try:
            tour_raw = _read_member(z, members, "tour.json", shown, required=False)
        except FileFormatError as e:
            tour_problem = str(e)
    weights = _read_weights(weights_raw, expected, whole, graph, shown, budget=bound)
    del weights_raw
    # what an older schema's weights mean now (e.g. schema 3's GRU update gate); see migrations
    weights = migrate_weights(weights, doc, from_version, shown)
    if whole:  # before the network is built: it would initialize what is missing
        _check_missing(expected, weights, shown)
    history = History()
    if hist_raw is not None:
        h = _json(hist_raw, "history.json", shown)
        if not isinstance(h, dict) or not all(isinstance(v, list) for v in h.values()):
            raise FileFormatError(f"{shown}: history.json must map metric names to lists")
        if not all(x is None or (isinstance(x, (int, float)) and not isinstance(x, bool)) for v in h.values() for x in v):
            raise FileFormatError(f"{shown}: history.json holds values that are not numbers")
        history = History.from_dict(h)  # numbers (of at most 40 digits) and nulls: nothing left to fail

    try:
        # (seed and dtype were checked by check_structure)
        net = network_from_dict(doc, weights, history=history, base_dir=path.parent, graph=graph, strict=False)
        # built here, so that what fails in building is this file's error; a design saved mid-edit
        # does not compile and keeps its weights staged for when it is whole again
        net.compiles
    except DocumentError as e:
        if e.part == "training":
            raise FileFormatError(f"{shown}: network.json: training: {e.reason}") from None
        raise FileFormatError(f"{shown}: network.json has a malformed data reference ({e.reason})") from None
    except AnnError as e:
        raise FileFormatError(f"{shown}: {e}") from None
    except (ValueError, TypeError, ArithmeticError, KeyError, IndexError) as e:
        raise FileFormatError(f"{shown}: network.json describes a network that cannot be built "
                              f"({type(e).__name__}: {e})") from None
    # a graph that compiles is whole: _read_weights and _check_missing above found its weights exactly
    # the ones its analysis declares, which are the ones the compiler builds
    if opt_raw is not None:
        try:
            state = _read_optimizer_state(opt_raw, _optimizer_bound(bound))
            state = migrate_optimizer_state(state, doc, from_version)
            if net.compiles and not optimizer_state_fits(state, net.program):
                raise ValueError("its arrays do not fit the network's weights")
            net.optimizer_state = state
        except ValueError as e:
            opt_problem = f"{shown}: optimizer.npz: {e}"
    if opt_problem is not None:
        warnings.warn(f"{opt_problem}; the network opens without its optimizer state "
                      "(the next training run starts the optimizer afresh)", OptimizerStateWarning, stacklevel=2)
    if tour_raw is not None:
        try:
            net.tour = tour_from_bytes(tour_raw, f"{shown}: tour.json", node_ids=graph.nodes)
        except FileFormatError as e:
            tour_problem = str(e)
        else:
            for p in net.tour.problems:
                warnings.warn(p, TourWarning, stacklevel=2)
    if tour_problem is not None:
        warnings.warn(f"{tour_problem}; the network opens without its tour", TourWarning, stacklevel=2)
    return net


# ------------------------------------------------------------ optimizer state
# ``optimizer.npz`` (optional, since 0.x; files without it load as before, and
# older versions ignore it): the optimizer state of the last run
# (``Network.optimizer_state``, keyed like Optimizer.state_dict: "iterations",
# "learning_rate", "hyper.<name>", "state.<slot>.<weight name>"), every value an
# .npy array (scalars as 0-d arrays) written without pickle, like weights.npz. It
# is an optional extra beside the weights, not part of network.json, so the schema
# version is unchanged. A damaged one never stops the file from opening: it is
# dropped with an :class:`OptimizerStateWarning` naming the problem.


class OptimizerStateWarning(UserWarning):
    """A file's optimizer state cannot be used; the network was opened without it."""


def _optimizer_arrays(state: dict[str, Any] | None) -> dict[str, np.ndarray] | None:
    """The state as arrays for :func:`_npz_bytes` (None when there is none)."""
    if not state:
        return None
    out = {}
    for k, v in state.items():
        if isinstance(v, np.ndarray):
            out[k] = v
        elif isinstance(v, (bool, np.bool_)):
            out[k] = np.array(bool(v))
        elif isinstance(v, (int, np.integer)):
            out[k] = np.array(int(v), np.int64)
        elif isinstance(v, (float, np.floating)):
            out[k] = np.array(float(v), np.float64)
        # anything else (not written by an optimizer) is not saved
    return out


def _optimizer_bound(weights_bound: int) -> int:
    """The most optimizer.npz may unpack to: two state arrays per weight (Adam,
    RMSprop with momentum, Adadelta), each at most as big as the weights may be."""
    return 2 * weights_bound + (1 << 20)


_OPT_KEY = re.compile(r"(iterations|learning_rate|hyper\.[A-Za-z_0-9]+|state\.[A-Za-z_0-9]+\..+)\Z")


def _read_optimizer_state(raw: bytes, budget: int) -> dict[str, Any]:
    """The state in optimizer.npz; ValueError saying what is wrong with it."""
    try:
        z = zipfile.ZipFile(io.BytesIO(raw))
        infos = z.infolist()
    except (zipfile.BadZipFile, ValueError, OSError, EOFError, NotImplementedError) as e:
        raise ValueError(f"it is damaged ({type(e).__name__}: {e})") from None
    if len(infos) > 2 * MAX_WEIGHTS + 64:
        raise ValueError(f"it holds {len(infos):,} arrays, too many for an optimizer state")
    total = sum(i.file_size for i in infos)
    if total > budget:
        raise ValueError(f"it would unpack to {total:,} bytes, more than the {budget:,} the weights allow")
    state: dict[str, Any] = {}
    for info in infos:
        if not info.filename.endswith(".npy"):
            raise ValueError(f"'{info.filename[:80]}' is not an array")
        key = info.filename[:-4]
        if not _OPT_KEY.match(key):
            raise ValueError(f"'{key[:80]}' is not a part of an optimizer state")
        if key in state:
            raise ValueError(f"'{key[:80]}' is there twice")
        try:
            with z.open(info) as f:
                arr = np.lib.format.read_array(f, allow_pickle=False)
        except Exception as e:  # noqa: BLE001 - any damage of one array: the state is dropped, with its reason
            raise ValueError(f"array '{key[:80]}' cannot be read ({type(e).__name__}: {e})") from None
        if key.startswith("state."):
            if arr.dtype not in (np.float32, np.float64):
                raise ValueError(f"array '{key[:80]}' has dtype {arr.dtype}, not float32 or float64")
            if not np.isfinite(arr).all():
                raise ValueError(f"array '{key[:80]}' holds NaN or infinite values")
            state[key] = arr
            continue
        if arr.shape != () or arr.dtype.kind not in "biuf":
            raise ValueError(f"'{key[:80]}' must be a single number, not an array of shape {arr.shape} "
                             f"and dtype {arr.dtype}")
        value = arr.item()
        if key == "iterations":
            if arr.dtype.kind not in "iu" or value < 0:
                raise ValueError(f"'iterations' must be a whole number >= 0, not {value!r}")
        elif isinstance(value, float) and not math.isfinite(value):
            raise ValueError(f"'{key[:80]}' must be finite, not {value!r}")
        state[key] = value
    if "iterations" not in state:
        raise ValueError("it has no 'iterations'")
    return state
