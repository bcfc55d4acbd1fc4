"""Fuzz the ``.ann`` loader with damaged and hostile files made from the samples.

Every file must either load or raise ``FileFormatError`` whose message names
the file; anything else is a bug. Prints the figures: files tried, outcomes by
kind (and by mutation), peak memory (RSS) and the worst memory case.

    python tools/fuzz_annfile.py --count 2000 --seed 1
    python tools/fuzz_annfile.py --time 120 --keep /tmp/fuzz-fails

The mutations (``KINDS``) are also used by ``tests/io/test_annfile_fuzz.py``,
seeded and in smaller numbers. The large zip bombs (1 GiB declared) are made
once per sample and reused; in the test suite they are 32 MiB.
"""

from __future__ import annotations

import argparse
import collections
import io
import json
import os
import random
import struct
import sys
import tempfile
import time
import warnings
import zipfile
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = sorted((ROOT / "samples").glob("*.ann"))
MEMBERS = ("network.json", "weights.npz", "history.json")


# ------------------------------------------------------------ zip helpers
def read_members(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return {n: z.read(n) for n in z.namelist()}


def write_members(members: list[tuple[str, bytes]] | dict[str, bytes], deflate: set[str] | None = None) -> bytes:
    """A zip as the app writes it: JSON deflated, weights stored."""
    items = members.items() if isinstance(members, dict) else members
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z, warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Duplicate name", UserWarning)  # duplicates are meant
        for name, data in items:
            comp = zipfile.ZIP_DEFLATED if (deflate is None and name.endswith(".json")) or (deflate and name in deflate) \
                else zipfile.ZIP_STORED
            z.writestr(zipfile.ZipInfo(name, (2024, 1, 1, 0, 0, 0)), data, compress_type=comp)
    return buf.getvalue()


def central_entry(data: bytes, name: str) -> int:
    """Offset of ``name``'s entry in the archive's own central directory (not that
    of the stored weights.npz inside it)."""
    eocd = data.rfind(b"PK\x05\x06")
    pos = struct.unpack_from("<I", data, eocd + 16)[0]
    while data[pos:pos + 4] == b"PK\x01\x02":
        fnlen, extra, comment = struct.unpack_from("<HHH", data, pos + 28)
        if data[pos + 46:pos + 46 + fnlen] == name.encode():
            return pos
        pos += 46 + fnlen + extra + comment
    raise KeyError(name)


def npz(arrays: dict[str, bytes]) -> bytes:
    """An npz from raw .npy bytes per weight name."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as z:
        for name, data in arrays.items():
            z.writestr(name + ".npy", data)
    return buf.getvalue()


def npy_header(descr: str, shape: Any, fortran: bool = False, version: tuple[int, int] = (1, 0),
               raw: str | None = None) -> bytes:
    text = raw if raw is not None else repr({"descr": descr, "fortran_order": fortran, "shape": shape})
    body = text.encode("latin1")
    lenfmt = "<H" if version == (1, 0) else "<I"
    pre = 6 + 2 + struct.calcsize(lenfmt)
    pad = (-(pre + len(body) + 1)) % 64
    body = body + b" " * pad + b"\n"
    return b"\x93NUMPY" + bytes(version) + struct.pack(lenfmt, len(body)) + body


# ------------------------------------------------------------ JSON helpers
SENTINEL = "\u0000fuzz-raw\u0000"
RAW_VALUES = ["1e400", "-1e400", "NaN", "Infinity", "1" + "0" * 5000, "-" + "9" * 400, "1e-400",
              "[" * 5000 + "]" * 5000, "123456789012345678901234567890"]
PLAIN_VALUES: list[Any] = [None, True, False, 0, -1, 1, 2**31, 2**63, 10**30, 0.5, -0.0, 1e308, "", "x", "Input",
                           "\u00e9\ud7ff", [], [1, 2], [[1]], {}, {"a": 1}, {"type": "Input"}, ["x"] * 3]


def json_paths(doc: Any, prefix: tuple = ()) -> list[tuple]:
    out = [prefix]
    if isinstance(doc, dict):
        for k, v in doc.items():
            out += json_paths(v, prefix + (k,))
    elif isinstance(doc, list):
        for i, v in enumerate(doc):
            out += json_paths(v, prefix + (i,))
    return out


def set_path(doc: Any, path: tuple, value: Any, delete: bool = False) -> Any:
    if not path:
        return value
    parent = doc
    for k in path[:-1]:
        parent = parent[k]
    if delete:
        del parent[path[-1]]
    else:
        parent[path[-1]] = value
    return doc


def dump_with_raw(doc: Any, raw: str | None) -> bytes:
    text = json.dumps(doc, indent=1)
    if raw is not None:
        text = text.replace(json.dumps(SENTINEL), raw)
    return text.encode()


# -------------------------------------------------------------- mutations
class Case:
    def __init__(self, kind: str, data: bytes, note: str = ""):
        self.kind, self.data, self.note = kind, data, note


_BOMBS: dict[tuple[str, str, int], bytes] = {}


def _flip(rng: random.Random, data: bytes, lo: int = 0, hi: int | None = None, n: int | None = None) -> bytes:
    b = bytearray(data)
    hi = len(b) if hi is None else hi
    for _ in range(n or rng.randint(1, 8)):
        i = rng.randrange(lo, hi)
        b[i] ^= 1 << rng.randrange(8)
    return bytes(b)


def m_byteflip(rng, name, data, ctx):
    return Case("byteflip", _flip(rng, data))


def m_byteflip_deflated(rng, name, data, ctx):
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        infos = [i for i in z.infolist() if i.compress_type == zipfile.ZIP_DEFLATED and i.compress_size > 2]
    info = rng.choice(infos)
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    return Case("byteflip-deflated", _flip(rng, data, start, start + info.compress_size, rng.randint(1, 3)), info.filename)


def m_truncate(rng, name, data, ctx):
    n = rng.choice([rng.randrange(1, len(data)), rng.randrange(len(data) - 200, len(data)), rng.randrange(1, 64)])
    return Case("truncate", data[:max(1, n)], f"{n} of {len(data)} bytes")


def m_members(rng, name, data, ctx):
    m = read_members(data)
    how = rng.choice(["remove", "duplicate", "swap", "rename", "extra", "other-sample", "reorder", "empty"])
    items = list(m.items())
    if how == "remove":
        del items[rng.randrange(len(items))]
    elif how == "duplicate":
        i = rng.randrange(len(items))
        other = rng.choice(list(read_members(ctx["other"]).items()))
        items.insert(rng.randrange(len(items) + 1), (items[i][0], rng.choice([items[i][1], other[1]])))
    elif how == "swap":
        i, j = rng.sample(range(len(items)), 2)
        items[i], items[j] = (items[i][0], items[j][1]), (items[j][0], items[i][1])
    elif how == "rename":
        i = rng.randrange(len(items))
        items[i] = (rng.choice(["Network.json", "network.json/", "../network.json", "weights.npz.bak", "x"]), items[i][1])
    elif how == "extra":
        items.append((rng.choice(["evil.py", "network.json.1", "/etc/passwd"]), os.urandom(rng.randint(0, 64))))
    elif how == "other-sample":
        om = read_members(ctx["other"])
        k = rng.choice(MEMBERS)
        items = [(n, om[k] if n == k else d) for n, d in items]
    elif how == "reorder":
        rng.shuffle(items)
    elif how == "empty":
        i = rng.randrange(len(items))
        items[i] = (items[i][0], b"")
    return Case("members-" + how, write_members(items))


def m_zip_fields(rng, name, data, ctx):
    """Bad fields in a local or central header: version, compression method, flags, sizes."""
    b = bytearray(data)
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        infos = z.infolist()
    info = rng.choice(infos)
    cd = central_entry(data, info.filename)
    field = rng.choice(["version", "method", "flags", "csize", "usize", "crc", "offset", "local-method"])
    if field == "version":
        struct.pack_into("<H", b, cd + 6, rng.choice([63, 99, 0xFFFF]))
    elif field == "method":
        struct.pack_into("<H", b, cd + 10, rng.choice([9, 1, 6, 97, 99, 14, 12]))
    elif field == "local-method":
        struct.pack_into("<H", b, info.header_offset + 8, rng.choice([9, 99, 14]))
    elif field == "flags":
        struct.pack_into("<H", b, cd + 8, rng.choice([1, 0x41, 0x2000]))
    elif field == "csize":
        struct.pack_into("<I", b, cd + 20, rng.choice([0, 1, 0xFFFFFFFE, info.compress_size + 7]))
    elif field == "usize":
        struct.pack_into("<I", b, cd + 24, rng.choice([0, 1, 0xFFFFFFFE, 2**31]))
    elif field == "crc":
        struct.pack_into("<I", b, cd + 16, rng.getrandbits(32))
    elif field == "offset":
        struct.pack_into("<I", b, cd + 42, rng.choice([0, 1, len(data) - 10, 0xFFFFFFF0]))
    return Case("zip-" + field, bytes(b), info.filename)


def m_json_type(rng, name, data, ctx):
    m = read_members(data)
    doc = json.loads(m["network.json"])
    paths = json_paths(doc)
    path = rng.choice(paths)
    raw = None
    how = rng.random()
    if how < 0.15 and path:
        doc = set_path(doc, path, None, delete=True)
        note = f"delete {path}"
    elif how < 0.2 and path and isinstance(doc, dict):
        parent = doc
        for k in path[:-1]:
            parent = parent[k]
        if isinstance(parent, dict):
            parent["zz_unknown"] = 1
        note = f"extra key at {path[:-1]}"
    elif how < 0.5:
        raw = rng.choice(RAW_VALUES)
        doc = set_path(doc, path, SENTINEL)
        note = f"{path} = {raw[:20]}"
    else:
        v = rng.choice(PLAIN_VALUES)
        doc = set_path(doc, path, json.loads(json.dumps(v)))
        note = f"{path} = {v!r}"[:80]
    m["network.json"] = dump_with_raw(doc, raw)
    return Case("json-type", write_members(m), note)


def m_json_v1(rng, name, data, ctx):
    """A version-1 file (its migration runs first) with a bad nodes/layout."""
    m = read_members(data)
    doc = json.loads(m["network.json"])
    doc["schema_version"] = 1
    doc["layout"] = {n["id"]: n.pop("position") for n in doc["nodes"]}
    for n in doc["nodes"]:
        n["type_id"] = n.pop("type")
    how = rng.choice(["nodes-5", "nodes-str", "layout-list", "node-list", "layout-bad-pos", "ok", "nodes-dict"])
    if how == "nodes-5":
        doc["nodes"] = [5]
    elif how == "nodes-str":
        doc["nodes"] = "abc"
    elif how == "nodes-dict":
        doc["nodes"] = {"a": 1}
    elif how == "layout-list":
        doc["layout"] = [1, 2]
    elif how == "node-list":
        doc["nodes"][0] = [1, 2]
    elif how == "layout-bad-pos":
        doc["layout"][doc["nodes"][0]["id"]] = rng.choice([5, "x", [1], [1, 2, 3], {"x": 1}, [1e308, "a"]])
    m["network.json"] = json.dumps(doc).encode()
    return Case("json-v1-" + how, write_members(m))


def m_json_deep(rng, name, data, ctx):
    m = read_members(data)
    how = rng.choice(["brackets", "valid-deep", "valid-deep-dict", "deep-param"])
    if how == "brackets":
        m["network.json"] = b"[" * 100_000
    elif how in ("valid-deep", "deep-param"):
        doc = json.loads(m["network.json"])
        depth = rng.choice([500, 1000, 5000])
        path = rng.choice([p for p in json_paths(doc) if p]) if how == "valid-deep" else None
        if path is None:
            node = rng.choice(doc["nodes"])
            node.setdefault("params", {})
            path = ("nodes", doc["nodes"].index(node), "params", "shape" if node["type"] == "Input" else "units")
        doc = set_path(doc, path, SENTINEL)
        m["network.json"] = dump_with_raw(doc, "[" * depth + "]" * depth)
    else:
        doc = json.loads(m["network.json"])
        doc["meta"] = {"deep": SENTINEL}
        depth = 5000
        m["network.json"] = dump_with_raw(doc, '{"a":' * depth + "1" + "}" * depth)
    return Case("json-deep-" + how, write_members(m))


def _weights(data: bytes) -> dict[str, bytes]:
    return {k[:-4]: v for k, v in read_members(read_members(data)["weights.npz"]).items()}


def m_npy_header(rng, name, data, ctx):
    m = read_members(data)
    w = _weights(data)
    target = rng.choice(sorted(w))
    how = rng.choice(["huge-2d", "huge-1d", "object", "negative", "garbage", "fortran", "truncated-data",
                      "version3", "long-header", "complex", "structured", "void", "int-dtype", "big-endian",
                      "extra-data", "shape-str", "header-overflow"])
    if how == "huge-2d":
        arr = npy_header("<f4", (10**6, 10**6)) + bytes(64)
    elif how == "huge-1d":
        arr = npy_header("<f8", (10**12,)) + bytes(64)
    elif how == "object":
        arr = npy_header("|O", (2,)) + b"\x80\x04N."
    elif how == "negative":
        arr = npy_header("<f4", (-1, 4)) + bytes(16)
    elif how == "garbage":
        arr = npy_header("", (), raw="{'descr': __import__('os').system('echo hi')}")
    elif how == "fortran":
        arr = npy_header("<f4", (2, 2), fortran=True) + struct.pack("<4f", 1, 2, 3, 4)
    elif how == "truncated-data":
        arr = w[target][:-rng.randint(1, 4)]
    elif how == "version3":
        arr = npy_header("<f4", (1,), version=(3, 0)) + bytes(4)
    elif how == "long-header":
        arr = b"\x93NUMPY\x02\x00" + struct.pack("<I", 2**31) + b"{"
    elif how == "complex":
        arr = npy_header("<c8", (1,)) + bytes(8)
    elif how == "structured":
        arr = npy_header("", (), raw="{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (1,)}") + bytes(4)
    elif how == "void":
        arr = npy_header("|V8", (1,)) + bytes(8)
    elif how == "int-dtype":
        arr = npy_header("<i8", (1,)) + bytes(8)
    elif how == "big-endian":
        # legal: a big-endian float32 array; loads only if the shape matches
        import numpy as np
        a = np.lib.format.read_array(io.BytesIO(w[target]))
        buf = io.BytesIO()
        np.lib.format.write_array(buf, a.astype(a.dtype.newbyteorder(">")))
        arr = buf.getvalue()
    elif how == "extra-data":
        arr = w[target] + bytes(rng.choice([1, 4, 4096]))
    elif how == "shape-str":
        arr = npy_header("", (), raw="{'descr': '<f4', 'fortran_order': False, 'shape': 'abc'}")
    else:
        arr = npy_header("", (), raw="{'descr': '<f4', 'fortran_order': False, 'shape': (" + "9" * 5000 + ",)}")
    w[target] = arr
    m["weights.npz"] = npz(w)
    return Case("npy-" + how, write_members(m), target)


def _zi(name: str, deflate: bool = True) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, (2024, 1, 1, 0, 0, 0))
    info.compress_type = zipfile.ZIP_DEFLATED if deflate else zipfile.ZIP_STORED
    return info


def _bomb(sample: str, data: bytes, where: str, size: int) -> bytes:
    key = (sample, where, size)
    if key in _BOMBS:
        return _BOMBS[key]
    m = read_members(data)
    chunk = bytes(1 << 20)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        for n, d in m.items():
            if n == "weights.npz" and where == "outer":
                with z.open(_zi(n), "w", force_zip64=True) as f:
                    f.write(d)
                    left = size
                    while left > 0:
                        f.write(chunk[:min(left, len(chunk))])
                        left -= len(chunk)
            elif n == "weights.npz" and where == "inner":
                w = _weights(data)
                target = max(w, key=lambda k: len(w[k]))
                inner = io.BytesIO()
                with zipfile.ZipFile(inner, "w") as zi:
                    for k, v in w.items():
                        if k != target:
                            zi.writestr(k + ".npy", v)
                    with zi.open(_zi(target + ".npy"), "w", force_zip64=True) as f:
                        f.write(npy_header("<f4", (size // 4,)))
                        left = size
                        while left > 0:
                            f.write(chunk[:min(left, len(chunk))])
                            left -= len(chunk)
                z.writestr(_zi(n, False), inner.getvalue())
            elif n == "network.json" and where == "json":
                with z.open(_zi(n), "w", force_zip64=True) as f:
                    f.write(d[:-1])
                    left = size
                    while left > 0:
                        f.write(b" " * min(left, len(chunk)))
                        left -= len(chunk)
                    f.write(d[-1:])
            else:
                z.writestr(_zi(n, n.endswith(".json")), d)
    _BOMBS[key] = out.getvalue()
    return _BOMBS[key]


def m_zip_bomb(rng, name, data, ctx):
    where = rng.choice(["outer", "inner", "json"])
    return Case("bomb-" + where, _bomb(name, data, where, ctx["bomb_size"]), f"{ctx['bomb_size']:,} bytes")


def _inner_deflated(data: bytes) -> bytes:
    """The same file with weights.npz deflated (inner zip rebuilt deflated too): legal."""
    m = read_members(data)
    w = read_members(m["weights.npz"])
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for k, v in w.items():
            z.writestr(k, v)
    m["weights.npz"] = buf.getvalue()
    return write_members(m, deflate=set(MEMBERS))


def m_hostile_graph(rng, name, data, ctx):
    """A plausible graph that would need a huge network: found before anything is allocated."""
    m = read_members(data)
    doc = json.loads(m["network.json"])
    how = rng.choice(["input-1e8", "input-3d", "dense-100k", "units-max", "many-nodes", "many-edges", "redeflate"])
    if how == "redeflate":
        return Case("graph-" + how, _inner_deflated(data))
    nodes = doc["nodes"]
    if how == "input-1e8":
        for n in nodes:
            if n["type"] == "Input":
                n["params"]["shape"] = [100_000_000]
    elif how == "input-3d":
        for n in nodes:
            if n["type"] == "Input":
                n["params"]["shape"] = [10_000, 10_000, 1]
    elif how in ("dense-100k", "units-max"):
        units = [n for n in nodes if "units" in n.get("params", {})]
        for n in (units if how == "dense-100k" else [rng.choice(units)] if units else []):
            n["params"]["units"] = 100_000
        for n in nodes:  # the biggest count the schema allows elsewhere too
            for k in ("vocab_size", "filters", "output_dim"):
                if k in n.get("params", {}):
                    n["params"][k] = 100_000
    elif how == "many-nodes":
        count = rng.choice([5_000, 50_000])
        nodes += [{"id": f"zz_{i}", "type": "Activation", "version": 1, "params": {}, "position": [0, 0]}
                  for i in range(count)]
    elif how == "many-edges":
        first = nodes[0]["id"]
        count = rng.choice([3_000, 20_000])
        nodes += [{"id": f"zz_{i}", "type": "Activation", "version": 1, "params": {}, "position": [0, 0]}
                  for i in range(count)]
        doc["edges"] += [{"id": f"ze_{i}", "src": first, "dst": f"zz_{i}"} for i in range(count)]
    m["network.json"] = json.dumps(doc).encode()
    return Case("graph-" + how, write_members(m))


def m_history(rng, name, data, ctx):
    """history.json of the wrong kind, with bad numbers, or very many values."""
    m = read_members(data)
    how = rng.choice(["list", "str-values", "nested", "raw", "many", "null", "bool", "dict-values", "ragged"])
    if how == "list":
        h = b"[1, 2]"
    elif how == "str-values":
        h = b'{"loss": [0.5, "x"]}'
    elif how == "nested":
        h = b'{"loss": [[0.5]]}'
    elif how == "raw":
        h = b'{"loss": [0.5, ' + rng.choice([b"1e400", b"NaN", b"-Infinity", b"9" * 5000]) + b"]}"
    elif how == "many":
        h = b'{"loss": [' + b"0.0," * rng.choice([100_000, 2_100_000]) + b"0.0]}"
    elif how == "null":
        h = b'{"loss": [null, 0.5]}'
    elif how == "bool":
        h = b'{"loss": [true]}'
    elif how == "dict-values":
        h = b'{"loss": {"a": 1}}'
    else:
        h = b'{"loss": [0.5, 0.4], "accuracy": [1.0]}'
    m["history.json"] = h
    return Case("history-" + how, write_members(m))


KINDS: dict[str, tuple[float, Callable]] = {
    "byteflip": (14, m_byteflip),
    "byteflip-deflated": (10, m_byteflip_deflated),
    "truncate": (8, m_truncate),
    "members": (10, m_members),
    "zip-fields": (10, m_zip_fields),
    "json-type": (22, m_json_type),
    "json-v1": (4, m_json_v1),
    "json-deep": (4, m_json_deep),
    "npy-header": (10, m_npy_header),
    "zip-bomb": (2, m_zip_bomb),
    "hostile-graph": (6, m_hostile_graph),
    "history": (3, m_history),
}


def make_case(rng: random.Random, samples: dict[str, bytes], bomb_size: int, kind: str | None = None) -> tuple[str, Case]:
    name = rng.choice(sorted(samples))
    if kind is None:
        kinds = list(KINDS)
        kind = rng.choices(kinds, weights=[KINDS[k][0] for k in kinds])[0]
    ctx = {"other": samples[rng.choice(sorted(samples))], "bomb_size": bomb_size}
    return name, KINDS[kind][1](rng, name, samples[name], ctx)


def load_samples() -> dict[str, bytes]:
    return {p.stem: p.read_bytes() for p in SAMPLES}


# ---------------------------------------------------------------- memory
def _status(key: str) -> int:
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return -1


def _reset_peak() -> bool:
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def try_load(path: Path) -> tuple[str, str]:
    """('load', '') | ('FileFormatError', message) | (exception type, message)."""
    from anndesigner.errors import FileFormatError
    from anndesigner.io import load_network

    try:
        load_network(path)
    except FileFormatError as e:
        return "FileFormatError", str(e)
    except Exception as e:  # noqa: BLE001  (what the fuzzer is for)
        return type(e).__name__, str(e)[:300]
    return "load", ""


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--count", type=int, default=2000, help="files to try (default 2000)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--time", type=float, default=None, help="stop after this many seconds")
    ap.add_argument("--bomb-size", type=int, default=2**30, help="bytes a zip bomb unpacks to (default 1 GiB)")
    ap.add_argument("--kind", choices=sorted(KINDS), action="append", help="only these mutations")
    ap.add_argument("--keep", type=Path, help="copy files with a bad outcome here")
    ap.add_argument("--memory-cap", type=int, default=4, help="address-space cap in GiB (0: none) so a runaway "
                    "allocation fails with MemoryError instead of the kernel killing the run")
    args = ap.parse_args(argv)
    if args.memory_cap:
        import resource
        cap = args.memory_cap * 2**30
        resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    sys.path.insert(0, str(ROOT))
    import numpy  # noqa: F401  (baseline memory includes NumPy and the app)
    import anndesigner.io  # noqa: F401
    samples = load_samples()
    real_weights = {k: len(read_members(v)["weights.npz"]) for k, v in samples.items()}
    rng = random.Random(args.seed)
    outcomes: collections.Counter = collections.Counter()
    by_kind: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    examples: dict[str, tuple[str, str, str]] = {}
    unnamed = 0
    worst = (0, "", "")
    slowest = (0.0, "")
    can_reset = _reset_peak()
    overall = _status("VmHWM")
    t0 = time.perf_counter()
    n = 0
    with tempfile.TemporaryDirectory(prefix="fuzz-ann-") as tmp:
        while n < args.count and (args.time is None or time.perf_counter() - t0 < args.time):
            kind = rng.choice(args.kind) if args.kind else None
            sample, case = make_case(rng, samples, args.bomb_size, kind)
            path = Path(tmp) / f"case{n:05d}-{sample}.ann"
            path.write_bytes(case.data)
            _reset_peak()
            rss0 = _status("VmRSS")
            t = time.perf_counter()
            outcome, msg = try_load(path)
            dt = time.perf_counter() - t
            hwm = _status("VmHWM")
            overall = max(overall, hwm)
            peak = (hwm - rss0) if can_reset else 0
            path.unlink()
            n += 1
            outcomes[outcome] += 1
            by_kind[case.kind][outcome] += 1
            if outcome == "FileFormatError" and not msg.startswith(path.name):
                unnamed += 1
                examples.setdefault("unnamed:" + case.kind, (sample, case.note, msg))
            if outcome not in ("load", "FileFormatError"):
                examples.setdefault(f"{outcome}:{case.kind}", (sample, case.note, msg))
                if args.keep:
                    args.keep.mkdir(parents=True, exist_ok=True)
                    (args.keep / path.name).write_bytes(case.data)
            if peak > worst[0]:
                worst = (peak, f"{case.kind} of {sample} ({case.note})", outcome,
                         real_weights[sample])  # type: ignore[assignment]
            if dt > slowest[0]:
                slowest = (dt, f"{case.kind} of {sample} ({case.note}) -> {outcome}")
    elapsed = time.perf_counter() - t0
    print(f"files: {n} in {elapsed:.1f} s (seed {args.seed}, bombs of {args.bomb_size:,} bytes)")
    print("outcomes:")
    for k, v in outcomes.most_common():
        print(f"  {k:24s} {v:6d}")
    other = sum(v for k, v in outcomes.items() if k not in ("load", "FileFormatError"))
    print(f"other exceptions: {other} of {len([k for k in outcomes if k not in ('load', 'FileFormatError')])} kinds")
    print(f"FileFormatError messages not naming the file: {unnamed}")
    print("by mutation:")
    for k in sorted(by_kind):
        print(f"  {k:28s} " + ", ".join(f"{o} {c}" for o, c in by_kind[k].most_common()))
    if examples:
        print("examples of bad outcomes:")
        for k, (s, note, msg) in sorted(examples.items()):
            print(f"  {k} [{s}: {note}]: {msg[:200]}")
    if can_reset:
        print(f"peak RSS growth of one load: {worst[0] / 2**20:.1f} MiB, worst case: {worst[1]} -> {worst[2]}"
              + (f" (real weights.npz of that sample: {worst[3] / 2**10:.1f} KiB)" if len(worst) > 3 else ""))
    print(f"peak RSS of the whole run: {overall / 2**20:.1f} MiB")
    print(f"slowest load: {slowest[0] * 1000:.0f} ms: {slowest[1]}")
    return 0 if other == 0 and unnamed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
