"""Each damaged or hostile network file the issue measured gets a FileFormatError
that names the file, the member and the problem, and allocates nothing big."""

import importlib.util
import io
import json
import re
import struct
import tracemalloc
import zipfile
from pathlib import Path

import numpy as np
import pytest

import anndesigner as ad
from anndesigner.io import LIMITS

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = {p.stem: p for p in sorted((ROOT / "samples").glob("*.ann"))}


def _tool():
    spec = importlib.util.spec_from_file_location("fuzz_annfile", ROOT / "tools" / "fuzz_annfile.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


fz = _tool()


def members(sample="xor"):
    return fz.read_members(SAMPLES[sample].read_bytes())


def doc_of(sample="xor"):
    return json.loads(members(sample)["network.json"])


def with_doc(doc, sample="xor", raw=None):
    m = members(sample)
    m["network.json"] = fz.dump_with_raw(doc, raw) if raw is not None else json.dumps(doc).encode()
    return fz.write_members(m)


def load_bytes(tmp_path, data, name="bad.ann"):
    p = tmp_path / name
    p.write_bytes(data)
    return ad.load(p)


def refused(tmp_path, data, pattern, name="bad.ann"):
    with pytest.raises(ad.FileFormatError, match=pattern) as e:
        load_bytes(tmp_path, data, name)
    assert str(e.value).startswith(name + ": ") or str(e.value).startswith(str(tmp_path))
    return str(e.value)


def peak_while(fn):
    """Peak bytes traced (NumPy's allocations included) while fn runs."""
    tracemalloc.start()
    try:
        fn()
    except ad.FileFormatError:
        pass
    finally:
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    return peak


# ------------------------------------------------------------------ zip layer
def _member_start(data, name):
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        info = z.getinfo(name)
    return info, info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)


def test_flipped_bytes_in_deflated_json_are_a_damaged_member_not_zlib_error(tmp_path):
    data = bytearray(SAMPLES["xor"].read_bytes())
    info, start = _member_start(bytes(data), "network.json")
    for i in range(start + 2, start + 12):  # the start of the deflate stream: corrupt, not a CRC mismatch
        data[i] ^= 0xFF
    msg = refused(tmp_path, bytes(data), "'network.json' cannot be unpacked")
    assert "damaged" in msg


def test_flipped_byte_in_stored_weights_is_a_checksum_error(tmp_path):
    data = bytearray(SAMPLES["xor"].read_bytes())
    info, start = _member_start(bytes(data), "weights.npz")
    data[start + info.compress_size - 30] ^= 0x10  # inside the last array's data
    refused(tmp_path, bytes(data), "'weights.npz' cannot be unpacked: its checksum does not match")


@pytest.mark.parametrize("method", [9, 97, 99])  # deflate64, WavPack, AES: not in zipfile
def test_unsupported_compression_method(tmp_path, method):
    data = bytearray(SAMPLES["xor"].read_bytes())
    struct.pack_into("<H", data, fz.central_entry(bytes(data), "network.json") + 10, method)
    refused(tmp_path, bytes(data), "'network.json' cannot be unpacked: it uses a zip feature")


def test_unsupported_zip_version_is_damaged_not_not_implemented(tmp_path):
    data = bytearray(SAMPLES["xor"].read_bytes())
    struct.pack_into("<H", data, fz.central_entry(bytes(data), "network.json") + 6, 99)  # needs version 9.9
    refused(tmp_path, bytes(data), "damaged or incomplete.*zip feature.*version 9.9")


@pytest.mark.parametrize("keep", [0.3, 0.9, 0.999])
def test_truncated_file_is_damaged_or_incomplete(tmp_path, keep):
    data = SAMPLES["digits-cnn"].read_bytes()
    msg = refused(tmp_path, data[: int(len(data) * keep)], "damaged or incomplete")
    assert "not a zip archive" not in msg


def test_not_a_zip_and_special_files(tmp_path):
    refused(tmp_path, b"hello", "not a zip archive")
    with pytest.raises(ad.FileFormatError, match="not a regular file"):
        ad.load("/dev/zero")
    import os

    fifo = tmp_path / "pipe.ann"
    os.mkfifo(fifo)
    with pytest.raises(ad.FileFormatError, match="pipe.ann: is not a regular file"):
        ad.load(fifo)  # returns at once: a FIFO is never opened


def test_duplicate_and_swapped_members(tmp_path):
    m = members()
    dup = fz.write_members([*m.items(), ("network.json", members("spirals")["network.json"])])
    refused(tmp_path, dup, "holds 'network.json' twice")
    swapped = fz.write_members({"network.json": m["weights.npz"], "weights.npz": m["network.json"],
                                "history.json": m["history.json"]})
    refused(tmp_path, swapped, "'network.json' is not UTF-8 text|'network.json' is not valid JSON")
    other = fz.write_members({**m, "weights.npz": members("spirals")["weights.npz"]})
    refused(tmp_path, other, "weights.npz|weight")


# ------------------------------------------------------------------ JSON layer
def test_deeply_nested_json(tmp_path):
    m = members()
    m["network.json"] = b"[" * 100_000
    refused(tmp_path, fz.write_members(m), "'network.json' is nested too deeply")
    doc = doc_of()
    doc["nodes"][0]["params"]["shape"] = fz.SENTINEL
    refused(tmp_path, with_doc(doc, raw="[" * 5000 + "]" * 5000), "'network.json' is nested too deeply")
    doc["nodes"][0]["params"]["shape"] = fz.SENTINEL
    refused(tmp_path, with_doc(doc, raw="[" * 100 + "2" + "]" * 100), "nested more than 32 levels deep")


@pytest.mark.parametrize("raw, pattern", [
    ("1e400", "the number 1e400, too large"),
    ("-1e400", "the number -1e400, too large"),
    ("NaN", "NaN, which is not a number JSON allows"),
    ("1" + "0" * 5000, "a whole number of 5,001 digits"),
], ids=["1e400", "-1e400", "NaN", "5001-digits"])
def test_numbers_out_of_range(tmp_path, raw, pattern):
    for place in (("schema_version",), ("nodes", 1, "version"), ("nodes", 1, "params", "units"), ("seed",),
                  ("training", "epochs")):
        doc = fz.set_path(doc_of(), place, fz.SENTINEL)
        refused(tmp_path, with_doc(doc, raw=raw), "'network.json' holds " + pattern)


@pytest.mark.parametrize("place, value, pattern", [
    (("training",), [1, 2], "'training' must be an object, not a list"),
    (("training",), "fast", "'training' must be an object, not text"),
    (("data",), [1], "'data' must be an object"),
    (("meta",), 3, "'meta' must be an object"),
    (("meta", "title"), ["x"], "meta.title must be text"),
    (("nodes",), [5], r"nodes\[0\] must be an object, not a number 5"),
    (("nodes", 0, "id"), 7, r"nodes\[0\].id must be"),
    (("nodes", 0, "id"), "a/b", r"nodes\[0\].id must be a short printable name without '/'"),
    (("nodes", 1, "version"), 1e30, "'version' must be a whole number"),
    (("nodes", 1, "params"), [1], "'params' must be an object"),
    (("nodes", 1, "position"), [1, "a"], "'position' must be a list of two numbers"),
    (("nodes", 1, "position"), [1e300, 0], "'position' must be a list of two numbers"),
    (("nodes", 1, "label"), {"a": 1}, "'label' must be text"),
    (("edges", 0), "x", r"edges\[0\] must be an object"),
    (("edges", 0, "src"), None, r"edges\[0\].src must be a node or edge name"),
    (("seed",), -1, "seed must be a whole number from 0"),
    (("seed",), 2**70, "seed must be a whole number from 0"),
    (("training", "schedule"), [1], "network.json: training: A learning-rate schedule must be"),
    (("training",), {"epochs": "x"}, "network.json: training: training setting 'epochs'"),
])
def test_values_of_the_wrong_kind(tmp_path, place, value, pattern):
    refused(tmp_path, with_doc(fz.set_path(doc_of(), place, value)), pattern)


LONG = "x" * 5000


@pytest.mark.parametrize("place, value, pattern", [
    (("seed",), LONG, "seed must be a whole number from 0"),
    (("seed",), [1] * 3000, "seed must be a whole number from 0"),
    (("dtype",), LONG, "dtype must be float32 or float64"),
    (("training", "epochs"), LONG, "training setting 'epochs' must be"),
    (("training", "rule"), [LONG], "training setting 'rule' must be one of"),
    (("training",), {f"setting_{i}": 1 for i in range(3000)}, "unknown training setting"),
    (("training",), {LONG: 1}, "unknown training setting"),
    (("nodes", 1, "type"), LONG, "'type' must be a type name"),
    (("edges", 0, "src"), LONG, r"edges\[0\].src must be a node or edge name"),
    (("edges", 0, "id"), LONG, r"edges\[0\].id must be a node or edge name"),
    (("edges", 0, "src_port"), LONG, r"edges\[0\].src_port must be a port name"),
], ids=["seed", "seed-list", "dtype", "epochs", "rule", "many-settings", "long-setting", "type", "src", "edge-id",
        "port"])
def test_long_values_give_short_messages(tmp_path, place, value, pattern):
    """A message quotes at most the start of a value from the file (a seed of 5,000 characters
    gave a message of 10,000), and names its place."""
    msg = refused(tmp_path, with_doc(fz.set_path(doc_of(), place, value)), pattern)
    assert len(msg) < 400, msg


def v1_doc(sample="xor"):
    doc = doc_of(sample)
    doc["schema_version"] = 1
    doc["layout"] = {n["id"]: n.pop("position") for n in doc["nodes"]}
    for n in doc["nodes"]:
        n["type_id"] = n.pop("type")
    return doc


def test_version_1_file_is_checked_before_its_migration(tmp_path):
    net = load_bytes(tmp_path, with_doc(v1_doc()), "v1.ann")  # the good one loads
    assert net.graph.nodes["input_1"].position == tuple(doc_of()["nodes"][0]["position"])
    for change, pattern in [({"nodes": [5]}, r"nodes\[0\] must be an object, not a number"),
                            ({"nodes": "abc"}, "'nodes' must be a list, not text"),
                            ({"layout": [1, 2]}, "'layout' \\(schema 1\\) must be an object")]:
        refused(tmp_path, with_doc({**v1_doc(), **change}), pattern)


# ------------------------------------------------------------------ weights
def _with_array(sample, name, npy):
    m = members(sample)
    w = {k[:-4]: v for k, v in fz.read_members(m["weights.npz"]).items()}
    w[name] = npy
    m["weights.npz"] = fz.npz(w)
    return fz.write_members(m)


@pytest.mark.parametrize("shape, descr", [((10**12,), "<f8"), ((10**6, 10**6), "<f4"), ((2**40, 2**40), "<f4")])
def test_npy_header_declaring_huge_arrays_allocates_nothing(tmp_path, shape, descr):
    data = _with_array("xor", "dense_1/kernel", fz.npy_header(descr, shape) + bytes(64))
    peak = peak_while(lambda: refused(tmp_path, data, "weight 'dense_1/kernel' has shape .*the network needs \\(2, 4\\)"))
    assert peak < 4 * 2**20
    # a node whose shape is unknown (the design was saved mid-edit) is held to the limits instead
    doc = doc_of()
    doc["edges"] = [e for e in doc["edges"] if e["dst"] != "dense_1"]
    m = fz.read_members(data)
    m["network.json"] = json.dumps(doc).encode()
    peak = peak_while(lambda: refused(tmp_path, fz.write_members(m), "declares .* (values|bytes)"))
    assert peak < 4 * 2**20


@pytest.mark.parametrize("npy, pattern", [
    (fz.npy_header("|O", (2, 4)) + b"\x80\x04N.", "cannot be read: it holds Python objects"),
    (fz.npy_header("<i8", (2, 4)) + bytes(64), "has dtype int64; float32 or float64 expected"),
    (fz.npy_header("<c8", (2, 4)) + bytes(64), "has dtype complex64"),
    (fz.npy_header("<f4", (2, 4)) + bytes(28), "holds 28 bytes of data, but its shape \\(2, 4\\) needs 32"),
    (fz.npy_header("<f4", (2, 4)) + bytes(36), "holds 36 bytes of data"),
    (fz.npy_header("<f4", (2, 8)) + bytes(64), "has shape \\(2, 8\\); the network needs \\(2, 4\\)"),
    (fz.npy_header("", (), raw="{'descr': __import__('os').system('echo 1')}"), "cannot be read \\(its header is damaged"),
    (b"\x93NUMPY\x02\x00" + struct.pack("<I", 2**31) + b"{", "cannot be read \\(its header is damaged"),
], ids=["object", "int64", "complex", "short", "long", "shape", "code-in-header", "header-2GiB"])
def test_bad_npy_members(tmp_path, npy, pattern):
    refused(tmp_path, _with_array("xor", "dense_1/kernel", npy), "weights.npz: weight 'dense_1/kernel' " + pattern)


def test_legal_variants_still_load(tmp_path):
    """Big-endian and Fortran-order arrays, and a re-zipped (deflated) file, are legal."""
    ref = ad.load(SAMPLES["xor"]).get_weights()
    k = ref["dense_1/kernel"]
    for arr in (k.astype(">f4"), np.asfortranarray(k)):
        buf = io.BytesIO()
        np.lib.format.write_array(buf, arr)
        net = load_bytes(tmp_path, _with_array("xor", "dense_1/kernel", buf.getvalue()), "variant.ann")
        np.testing.assert_array_equal(net.get_weights()["dense_1/kernel"], k)
    for name in SAMPLES:
        net = load_bytes(tmp_path, fz._inner_deflated(SAMPLES[name].read_bytes()), f"{name}-deflated.ann")
        for key, v in ad.load(SAMPLES[name]).get_weights().items():
            np.testing.assert_array_equal(net.get_weights()[key], v)


# ------------------------------------------------------------- graph limits
def _graph_case(sample, fn):
    doc = doc_of(sample)
    fn(doc)
    return with_doc(doc, sample)


def _set_input(doc, shape):
    for n in doc["nodes"]:
        if n["type"] == "Input":
            n["params"]["shape"] = shape


def _set_units(doc, units, types=("Dense", "Output", "LSTM", "GRU", "SimpleRNN")):
    for n in doc["nodes"]:
        if n["type"] in types and "units" in n.get("params", {}):
            n["params"]["units"] = units


@pytest.mark.parametrize("sample, fn, node, pattern", [
    ("xor", lambda d: _set_input(d, [100_000_000]), "input_1",
     "Input 'input_1' outputs 100,000,000 values per sample \\(100000000\\), more than the 4,194,304"),
    ("digits-cnn", lambda d: _set_input(d, [10_000, 10_000, 1]), "input_1", "outputs 100,000,000 values per sample"),
    ("xor", lambda d: _set_units(d, 100_000), "output_1",
     "the network has 10,000,400,000 parameters \\(Output 'output_1' alone 10,000,100,000\\), more than "
     "the 50,000,000"),
    ("sine-lstm", lambda d: _set_units(d, 100_000), None, "parameters .* more than the 50,000,000"),
])
def test_huge_graphs_open_as_unfinished_designs_without_allocating(tmp_path, sample, fn, node, pattern):
    """Past the network's limits a file opens like a design saved mid-edit: the
    analysis names the node, the network is never built, its weights are kept."""
    data = _graph_case(sample, fn)
    nets = []
    peak = peak_while(lambda: nets.append(load_bytes(tmp_path, data)))
    assert peak < 8 * 2**20, f"{peak / 2**20:.1f} MiB traced"
    net = nets[0]
    assert not net.compiles
    errors = [e.message for e in net.graph.analyze().errors if node is None or e.node_id == node]
    assert any(re.search(pattern, m) for m in errors), errors
    with pytest.raises(ad.GraphError, match=pattern):
        net.program  # the network is refused as the editor refuses it


def test_a_whole_graph_must_hold_exactly_its_weights(tmp_path):
    data = _graph_case("spirals", lambda d: _set_units(d, 2_000, ("Dense",)))
    peak = peak_while(lambda: refused(tmp_path, data, "weight 'dense_1/kernel' has shape \\(2, 32\\); "
                                                      "the network needs \\(2, 2000\\)"))
    assert peak < 8 * 2**20, f"{peak / 2**20:.1f} MiB traced"


def test_many_nodes_and_edges(tmp_path):
    def many(d, count, edges):
        d["nodes"] += [{"id": f"zz_{i}", "type": "Activation", "params": {}} for i in range(count)]
        if edges:
            d["edges"] += [{"id": f"ze_{i}", "src": "input_1", "dst": f"zz_{i}"} for i in range(count)]
    refused(tmp_path, _graph_case("xor", lambda d: many(d, LIMITS.nodes + 1, False)), "nodes, more than the 5,000")
    # a large graph within the limits loads (its edges are checked in one pass, not pairwise)
    net = load_bytes(tmp_path, _graph_case("xor", lambda d: many(d, 4_000, True)), "big.ann")
    assert len(net.graph.edges) == 4_000 + len(doc_of()["edges"]) and net.compiles


def test_graph_errors_from_a_file(tmp_path):
    def cycle(d):
        d["edges"].append({"id": "back", "src": "dense_1", "dst": "dense_1"})
    refused(tmp_path, _graph_case("xor", cycle), "cycle")

    def cycle2(d):
        d["nodes"].append({"id": "act", "type": "Activation", "params": {}})
        d["edges"] += [{"id": "a1", "src": "dense_1", "dst": "act"}, {"id": "a2", "src": "act", "dst": "dense_1"}]
    refused(tmp_path, _graph_case("xor", cycle2), "cycle through")

    def dup(d):
        d["edges"].append(dict(d["edges"][0], id="again"))
    refused(tmp_path, _graph_case("xor", dup), "already connected")


@pytest.mark.parametrize("where", ["outer", "inner", "json"])
def test_zip_bomb_is_refused_without_inflating_it(tmp_path, where):
    size = 128 * 2**20
    data = fz._bomb("xor", SAMPLES["xor"].read_bytes(), where, size)
    assert len(data) < size / 100
    real = len(members("xor")["weights.npz"])
    peak = peak_while(lambda: refused(tmp_path, data, "would unpack to|declares|weights.npz"))
    assert peak < 50 * real + 2 * 2**20, f"{peak / 2**20:.1f} MiB traced for {real:,} bytes of weights"


def test_loading_a_real_file_costs_a_small_multiple_of_its_weights(tmp_path):
    path = SAMPLES["digits-cnn"]
    real = len(members("digits-cnn")["weights.npz"])
    ad.load(path)  # imports done
    peak = peak_while(lambda: ad.load(path))
    assert peak < 8 * real + 2 * 2**20, f"{peak / 2**20:.1f} MiB traced for {real:,} bytes of weights"


def test_read_meta_never_raises(tmp_path):
    from anndesigner.io import read_meta

    assert read_meta(SAMPLES["xor"])["title"]
    m = members()
    m["network.json"] = b"[" * 100_000
    for data in (b"", b"PK\x03\x04", fz.write_members(m), SAMPLES["xor"].read_bytes()[:500]):
        (tmp_path / "m.ann").write_bytes(data)
        assert read_meta(tmp_path / "m.ann") == {}
    assert read_meta("/dev/zero") == {}


def test_missing_weights_are_found_before_the_network_is_built(tmp_path):
    """A whole graph of 40 M parameters with an empty weights.npz: refused
    before the network would initialize 160 MB of weights."""
    def big(d):
        _set_units(d, 2_000, ("Dense",))
        d["nodes"] += [{"id": f"big_{i}", "type": "Dense", "params": {"units": 2_000}} for i in range(10)]
        prev = "dense_1"
        for i in range(10):
            d["edges"].append({"id": f"be_{i}", "src": prev, "dst": f"big_{i}"})
            prev = f"big_{i}"
        d["edges"] = [e for e in d["edges"] if e["src"] != "dense_1" or e["dst"].startswith("big_")]
        d["edges"].append({"id": "be_out", "src": prev, "dst": "output_1"})
    m = fz.read_members(_graph_case("xor", big))
    m["weights.npz"] = fz.npz({})
    peak = peak_while(lambda: refused(tmp_path, fz.write_members(m), "weight 'dense_1/kernel' is missing \\(and 23 more\\)"))
    assert peak < 8 * 2**20, f"{peak / 2**20:.1f} MiB traced"


def test_json_of_many_small_values_is_refused_before_parsing(tmp_path):
    """'[0.0,0.0,...]' costs 8 times its size once parsed: the values are counted first."""
    m = members()
    m["history.json"] = b'{"loss": [' + b"0.0," * 2_500_000 + b"0.0]}"  # 10 MB of text
    peak = peak_while(lambda: refused(tmp_path, fz.write_members(m), "'history.json' holds more than 2,000,000 values"))
    assert peak < 40 * 2**20, f"{peak / 2**20:.1f} MiB traced"
    m = members()
    m["history.json"] = json.dumps({"loss": [0.5] * 100_000, "accuracy": [1.0] * 100_000}).encode()
    assert len(load_bytes(tmp_path, fz.write_members(m), "long.ann").history) == 100_000
