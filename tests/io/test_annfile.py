import io
import json
import os
import zipfile

import numpy as np
import pytest

import anndesigner as ad
from anndesigner.io import CURRENT_SCHEMA, network_json
from anndesigner.io.annfile import _npz_bytes
from helpers import XOR_X, XOR_Y, mlp


def every_type_graph():
    """A graph using every registered node type."""
    g = ad.Graph()
    x = g.add_node("Input", units=3, position=(0, 10))
    d = g.add_node("Dense", units=4, activation="elu", position=(100, 10), label="hidden")
    n1 = g.add_node("Neuron", activation="tanh")
    n2 = g.add_node("Neuron", activation="tanh")
    cat = g.add_node("Concatenate")
    act = g.add_node("Activation", activation="gelu")
    drop = g.add_node("Dropout", rate=0.2)
    add = g.add_node("Add")
    out = g.add_node("Output", units=2, activation="softmax", loss="categorical_crossentropy")
    g.connect(x, d)
    g.connect(d, n1)
    g.connect(d, n2)
    g.connect(n1, cat)
    g.connect(n2, cat)
    g.connect(cat, act)
    g.connect(act, drop)
    g.connect(drop, add)
    g.connect(act, add)
    g.connect(add, out)
    g.connect(x, out)
    g.set_meta(title="every type", description="uses every node type")
    return g


def test_every_node_type_round_trips_bit_identical(tmp_path):
    g = every_type_graph()
    from anndesigner.graph.nodetypes import CORE_TYPES

    assert {n.type_id for n in g.nodes.values()} == {t.type_id for t in CORE_TYPES}  # layers: test_layer_files.py
    net = ad.Network(g, seed=4, data={"kind": "builtin", "name": "blobs", "params": {"centers": 2}})
    X = np.random.default_rng(0).normal(size=(16, 3)).astype(np.float32)
    Y = np.eye(2, dtype=np.float32)[np.random.default_rng(1).integers(0, 2, 16)]
    net.fit(X, Y, epochs=3, batch_size=8, optimizer="rmsprop", learning_rate=0.01, l2=1e-4)
    path = tmp_path / "net.ann"
    net.save(path)
    net2 = ad.load(path)
    assert net2.graph.to_dict() == g.to_dict()  # nodes, params, positions, labels, meta, edge order
    assert net2.training == net.training and net2.seed == 4 and net2.data_source == net.data_source
    assert net2.history.to_dict() == net.history.to_dict()
    w1, w2 = net.get_weights(), net2.get_weights()
    assert w1.keys() == w2.keys()
    for k in w1:
        assert w2[k].dtype == np.float32
        np.testing.assert_array_equal(w1[k], w2[k])
    np.testing.assert_array_equal(net.predict(X), net2.predict(X))


def test_float64_network_round_trips(tmp_path):
    net = ad.Network(mlp([2, 3, 1]), dtype="float64")
    net.save(tmp_path / "a.ann")
    net2 = ad.load(tmp_path / "a.ann")
    assert net2.dtype == np.float64
    np.testing.assert_array_equal(net.predict(XOR_X), net2.predict(XOR_X))


def test_file_layout_is_plain_json_and_npz(tmp_path):
    net = ad.Network(mlp([2, 4, 1]))
    net.fit(XOR_X, XOR_Y, epochs=2)
    net.save(tmp_path / "x.ann")
    with zipfile.ZipFile(tmp_path / "x.ann") as z:
        # optimizer.npz: the trained network's optimizer state (tests/io/test_optimizer_state_file.py)
        assert set(z.namelist()) == {"network.json", "weights.npz", "history.json", "optimizer.npz"}
        doc = json.loads(z.read("network.json"))
        w = np.load(io.BytesIO(z.read("weights.npz")), allow_pickle=False)
        assert set(w.files) == {"dense_1/kernel", "dense_1/bias", "output_1/kernel", "output_1/bias"}
    assert doc["format"] == "anndesigner-network" and doc["schema_version"] == CURRENT_SCHEMA
    assert doc["app_version"] == ad.__version__
    assert {"nodes", "edges", "training", "data", "seed", "meta"} <= set(doc)
    assert doc["nodes"][0]["position"] == [0.0, 0.0]


def test_save_is_atomic(tmp_path, monkeypatch):
    path = tmp_path / "keep.ann"
    good = ad.Network(mlp([2, 4, 1]), seed=1)
    good.save(path)
    before = path.read_bytes()

    def boom(*a, **k):
        raise OSError("disk full")

    import anndesigner.io.annfile as annfile

    monkeypatch.setattr(annfile, "_npz_bytes", boom)
    with pytest.raises(OSError, match="disk full"):
        ad.Network(mlp([2, 8, 1]), seed=2).save(path)
    assert path.read_bytes() == before  # the old file is untouched
    assert os.listdir(tmp_path) == ["keep.ann"]  # and no temp file is left


# ------------------------------------------------------------- bad files
def write_zip(path, members):
    with zipfile.ZipFile(path, "w") as z:
        for name, data in members.items():
            z.writestr(name, data)
    return path


def good_members():
    net = ad.Network(mlp([2, 4, 1]))
    return {
        "network.json": json.dumps(network_json(net)),
        "weights.npz": _npz_bytes(net.get_weights()),
        "history.json": "{}",
    }, net


def doc_with(**changes):
    members, net = good_members()
    doc = json.loads(members["network.json"])
    doc.update(changes)
    members["network.json"] = json.dumps(doc)
    return members


def weights_with(fn):
    members, net = good_members()
    w = net.get_weights()
    fn(w)
    members["weights.npz"] = _npz_bytes(w)
    return members


def bad_node_type():
    members, _ = good_members()
    doc = json.loads(members["network.json"])
    doc["nodes"][1]["type"] = "Quantum"
    members["network.json"] = json.dumps(doc)
    return members


BAD = {
    "not a zip": (lambda p: p.write_bytes(b"hello, I am a text file"), "not a zip archive"),
    "empty file": (lambda p: p.write_bytes(b""), "not a zip archive"),
    "missing network.json": (lambda p: write_zip(p, {"weights.npz": good_members()[0]["weights.npz"]}),
                             "no 'network.json'"),
    "missing weights": (lambda p: write_zip(p, {"network.json": good_members()[0]["network.json"]}), "no 'weights.npz'"),
    "bad json": (lambda p: write_zip(p, {**good_members()[0], "network.json": "{nodes: ["}), "not valid JSON \\(line 1"),
    "json not an object": (lambda p: write_zip(p, {**good_members()[0], "network.json": "[1, 2]"}), "must hold an object"),
    "wrong format name": (lambda p: write_zip(p, doc_with(format="keras")), "not an ANN Designer network"),
    "future schema": (lambda p: write_zip(p, doc_with(schema_version=99, app_version="9.0")),
                      "schema 99.*Update ANN Designer"),
    "bad schema": (lambda p: write_zip(p, doc_with(schema_version="two")), "schema_version must be"),
    "unknown node type": (lambda p: write_zip(p, bad_node_type()), "unknown node type 'Quantum'"),
    "bad edges": (lambda p: write_zip(p, doc_with(edges=[{"id": "e", "src": "input_1", "dst": "nowhere"}])),
                  "no node 'nowhere'"),
    "bad training settings": (lambda p: write_zip(p, doc_with(training={"epochs": -3})), "'epochs'"),
    "missing weight": (lambda p: write_zip(p, weights_with(lambda w: w.pop("dense_1/bias"))),
                       "weight 'dense_1/bias' is missing"),
    "wrong weight shape": (lambda p: write_zip(p, weights_with(lambda w: w.update({"dense_1/kernel": np.zeros((3, 4), np.float32)}))),
                           "'dense_1/kernel' has shape \\(3, 4\\); the network needs \\(2, 4\\)"),
    "wrong weight dtype": (lambda p: write_zip(p, weights_with(lambda w: w.update({"dense_1/bias": np.zeros(4, np.int64)}))),
                           "'dense_1/bias' has dtype int64"),
    "extra weight": (lambda p: write_zip(p, weights_with(lambda w: w.update({"ghost/kernel": np.zeros(2, np.float32)}))),
                     "'ghost/kernel' belongs to no node"),
    "nan weight": (lambda p: write_zip(p, weights_with(lambda w: w["dense_1/bias"].__setitem__(0, np.nan))),
                   "contains NaN"),
    "pickled weights": (lambda p: write_zip(p, {**good_members()[0], "weights.npz": _pickled_npz()}), "cannot be read"),
    "weights not npz": (lambda p: write_zip(p, {**good_members()[0], "weights.npz": b"garbage"}), "weights.npz is damaged"),
    "bad history": (lambda p: write_zip(p, {**good_members()[0], "history.json": '{"loss": 3}'}), "history.json"),
}


def _pickled_npz():
    buf = io.BytesIO()
    np.savez(buf, **{"dense_1/kernel": np.array([{"evil": 1}], dtype=object)})
    return buf.getvalue()


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_files_raise_one_clear_error(tmp_path, case):
    make, pattern = BAD[case]
    path = tmp_path / "bad.ann"
    make(path)
    with pytest.raises(ad.FileFormatError, match=pattern) as e:
        ad.load(path)
    assert "Traceback" not in str(e.value)


def test_weight_errors_name_weights_npz_and_the_node_that_exists(tmp_path):
    """A weight of a node that exists, but not one of its weights, is not a weight of "no node"; each
    weight error names the member it is in."""
    cases = {
        "dense_1/gamma": (lambda w: w.update({"dense_1/gamma": np.zeros(4, np.float32)}),
                          "weights.npz: weight 'dense_1/gamma': Dense layer 'dense_1' has no such weight "
                          "(its weights: kernel, bias)"),
        "ghost/kernel": (lambda w: w.update({"ghost/kernel": np.zeros(2, np.float32)}),
                         "weights.npz: weight 'ghost/kernel' belongs to no node of the network"),
        "missing": (lambda w: w.pop("dense_1/bias"), "weights.npz: weight 'dense_1/bias' is missing"),
        "nan": (lambda w: w["dense_1/bias"].__setitem__(0, np.nan),
                "weights.npz: weight 'dense_1/bias' contains NaN or inf"),
    }
    for case, (change, message) in cases.items():
        path = write_zip(tmp_path / f"{case.replace('/', '_')}.ann", weights_with(change))
        with pytest.raises(ad.FileFormatError) as e:
            ad.load(path)
        assert str(e.value) == f"{path.name}: {message}", case


def test_missing_file_and_folder(tmp_path):
    with pytest.raises(ad.FileFormatError, match="no such file"):
        ad.load(tmp_path / "nope.ann")
    with pytest.raises(ad.FileFormatError, match="folder"):
        ad.load(tmp_path)


def test_zip_bomb_guard(tmp_path, monkeypatch):
    import anndesigner.io.annfile as annfile

    members, _ = good_members()
    members["network.json"] = members["network.json"] + " " * 5000  # compresses to almost nothing
    path = write_zip(tmp_path / "bomb.ann", members)
    monkeypatch.setitem(annfile.MEMBER_LIMITS, "network.json", 4096)
    with pytest.raises(ad.FileFormatError, match="would unpack to .* more than"):
        ad.load(path)


def test_schema_v1_is_migrated(tmp_path):
    members, net = good_members()
    doc = json.loads(members["network.json"])
    doc["schema_version"] = 1
    doc["layout"] = {}
    for n in doc["nodes"]:
        n["type_id"] = n.pop("type")
        doc["layout"][n["id"]] = [12.5, 7.0]
        del n["position"]
    members["network.json"] = json.dumps(doc)
    net2 = ad.load(write_zip(tmp_path / "old.ann", members))
    assert [n.type_id for n in net2.graph.nodes.values()] == ["Input", "Dense", "Output"]
    assert all(n.position == (12.5, 7.0) for n in net2.graph.nodes.values())
    np.testing.assert_array_equal(net2.predict(XOR_X), net.predict(XOR_X))


def test_samples_open_and_run():
    from pathlib import Path

    samples = sorted((Path(__file__).parents[2] / "samples").glob("*.ann"))
    assert {p.name for p in samples} >= {"xor.ann", "perceptron.ann"}
    for p in samples:
        net = ad.load(p)
        net.graph.validate()
        assert net.graph.meta.get("description")


def test_unfinished_design_saves_and_reopens_without_losing_work(tmp_path):
    net = ad.Network(mlp([2, 4, 1]), seed=0)
    net.fit(XOR_X, XOR_Y, epochs=5)
    trained = net.get_weights()
    net.graph.disconnect("edge_2")  # mid-edit: the Output has no input
    net.graph.add_node("Dense")  # and a dangling node
    assert not net.compiles
    net.save(tmp_path / "wip.ann")
    net2 = ad.load(tmp_path / "wip.ann")
    assert not net2.compiles and net2.graph.to_dict() == net.graph.to_dict()
    net2.graph.connect("dense_1", "output_1")  # whole again: the trained weights are back
    net2.graph.remove_node("dense_2")
    for k, v in trained.items():
        np.testing.assert_array_equal(net2.get_weights()[k], v)


def test_unfinished_design_with_weights_of_earlier_shapes_reopens(tmp_path):
    """Mid-edit, the saved weights can be of earlier shapes (kept for undo) or of
    a bias that is now off; the file must open, and the trained values come back."""
    net = ad.Network(mlp([2, 4, 1]), seed=0)
    net.fit(XOR_X, XOR_Y, epochs=3)
    trained = net.get_weights()
    net.graph.disconnect("edge_2")  # broken: the Output has no input
    net.graph.set_params("dense_1", units=16, use_bias=False)
    assert not net.compiles
    net.save(tmp_path / "wip.ann")
    net2 = ad.load(tmp_path / "wip.ann")
    assert not net2.compiles
    net2.graph.set_params("dense_1", units=4, use_bias=True)
    net2.graph.connect("dense_1", "output_1")
    for k, v in trained.items():
        np.testing.assert_array_equal(net2.get_weights()[k], v)
