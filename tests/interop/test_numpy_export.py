"""anndesigner/interop/numpy_export.py: for every sample and every layer type, the exported
plain-NumPy script, imported from its folder, gives our ``Network.predict`` within 1e-5
(float32) at batch sizes 1 and 37; raw rows for a network that standardizes; the weights in
an .npz read with allow_pickle=False; a readable forward pass (a line per layer, named after
the graph's nodes, its shape in a comment)."""

from __future__ import annotations

import ast
import importlib.util
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import anndesigner as ad
from anndesigner.data import load_source
from anndesigner.engine import activations as act
from anndesigner.graph import BUILTIN_REGISTRY
from anndesigner.interop import InteropError, export
from anndesigner.interop.numpy_export import export_numpy
from netzoo import chain, randomized  # noqa: E402

SAMPLES = Path(__file__).resolve().parents[2] / "samples"
TOL = 1e-5
_count = [0]


def load_script(path: Path):
    """Import the exported script as a module of its own (a fresh name each time)."""
    _count[0] += 1
    spec = importlib.util.spec_from_file_location(f"{path.stem}_{_count[0]}", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def exported(net, tmp_path, name="model"):
    files = export(net, "numpy", tmp_path / f"{name}.py")
    assert files == [tmp_path / f"{name}.py", tmp_path / f"{name}.npz"]
    return load_script(files[0]), files


def assert_same_as_predict(net, X, tmp_path, name="model"):
    mod, files = exported(net, tmp_path, name)
    for rows in (X[:1], X):
        ours = net.predict(rows)
        theirs = mod.forward(rows)
        assert theirs.shape == ours.shape and theirs.dtype == np.float32
        np.testing.assert_allclose(theirs, ours, rtol=TOL, atol=TOL)
    return files


def rows(shape, n=37, seed=2):
    return np.random.default_rng(seed).normal(size=(n,) + tuple(shape)).astype(np.float32)


# ------------------------------------------------------------------ samples
SAMPLE_NAMES = sorted(p.stem for p in SAMPLES.glob("*.ann"))


@pytest.mark.parametrize("name", SAMPLE_NAMES)
def test_every_sample_runs_as_our_predict(name, tmp_path):
    net = ad.Network.load(SAMPLES / f"{name}.ann")
    src = dict(net.data_source)
    src["standardize"] = False  # the rows as in the data set's file: the script standardizes them itself
    X = load_source(src).X
    X = np.resize(X, (37,) + X.shape[1:]).astype(np.float32)
    files = assert_same_as_predict(randomized(net) if name == "mp-neuron" else net, X, tmp_path)
    code = files[0].read_text()
    assert ("input_mean" in code) == (net.scaler is not None)


def test_the_standardizing_sample_takes_raw_rows(tmp_path):
    net = ad.Network.load(SAMPLES / "house-prices.ann")
    assert net.scaler is not None
    ds = load_source(net.data_source)
    raw = net.scaler.inverse_transform(ds.X[:37])
    mod, files = exported(net, tmp_path)
    np.testing.assert_allclose(mod.forward(raw), net.predict(ds.X[:37], standardized=True), rtol=TOL, atol=TOL)
    with np.load(files[1], allow_pickle=False) as w:
        np.testing.assert_array_equal(w["input_mean"], net.scaler.mean)
        np.testing.assert_array_equal(w["input_std"], net.scaler.std)


def test_the_script_is_plain_numpy_and_readable(tmp_path):
    net = ad.Network.load(SAMPLES / "xor.ann")
    mod, files = exported(net, tmp_path, "xor")
    code = files[0].read_text()
    tree = ast.parse(code)
    imported = {a.name.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names} | \
               {n.module.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    assert imported <= {"numpy", "pathlib", "sys"}
    assert "allow_pickle=False" in code and "pickle.load" not in code
    funcs = {n.name for n in tree.body if isinstance(n, ast.FunctionDef)}
    assert funcs == {"dense", "tanh", "sigmoid", "forward"}  # only the layer types used
    fwd = code[code.index("def forward"):code.index('if __name__')]
    lines = [ln.strip() for ln in fwd.splitlines()[2:] if ln.strip() and not ln.strip().startswith("return")]
    # a line per layer named after its node, with the output shape the graph infers
    shapes = net.graph.analyze().shapes
    assert lines[1].startswith("x1_x2 = x.reshape(-1, 2)")  # the Input labelled "x₁, x₂"
    for nid, var in (("dense_1", "hidden"), ("output_1", "x1_xor_x2")):  # labels "hidden", "x₁ XOR x₂"
        line = next(ln for ln in lines if ln.startswith(f"{var} = dense("))
        assert line.endswith("# (N, " + ", ".join(map(str, shapes[nid])) + ")")
    assert len(code.splitlines()) <= 60  # fits on a screen
    with np.load(files[1], allow_pickle=False) as w:
        assert set(w.files) == {f"{v}/{k}" for v in ("hidden", "x1_xor_x2") for k in ("kernel", "bias")}
        ours = net.get_weights()
        for var, nid in (("hidden", "dense_1"), ("x1_xor_x2", "output_1")):
            for k in ("kernel", "bias"):
                np.testing.assert_array_equal(w[f"{var}/{k}"], ours[f"{nid}/{k}"])


def test_the_script_runs_on_a_csv_from_the_command_line(tmp_path):
    net = ad.Network.load(SAMPLES / "xor.ann")
    _, files = exported(net, tmp_path, "xor")
    X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], np.float32)
    np.savetxt(tmp_path / "rows.csv", X, delimiter=",")
    out = subprocess.run([sys.executable, str(files[0]), str(tmp_path / "rows.csv")], capture_output=True,
                         text=True, check=True, timeout=60).stdout
    np.testing.assert_allclose(np.loadtxt(out.splitlines()), net.predict(X)[:, 0], rtol=1e-6, atol=1e-6)


# ------------------------------------------------------------------ layer types
ACTIVATIONS = list(act.NAMES)


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_every_activation(activation, tmp_path):
    g = chain(("Dense", {"units": 5, "activation": activation}), ("Activation", {"activation": activation}),
              in_shape=(4,), out_units=3, out_activation=activation)
    assert_same_as_predict(randomized(ad.Network(g)), rows((4,)) * 2, tmp_path)


LAYERS = {
    "dense-no-bias": (chain(("Dense", {"units": 3, "use_bias": False, "activation": "tanh"}), in_shape=(4,)), (4,)),
    "dense-rank3": (chain(("Dense", {"units": 3, "activation": "relu"}), ("Flatten", {}), in_shape=(5, 4)), (5, 4)),
    "conv-same-strides": (chain(("Conv2D", {"filters": 3, "kernel_size": [3, 3], "strides": [2, 2],
                                            "padding": "same", "activation": "relu"}),
                                ("Flatten", {}), in_shape=(7, 6, 2)), (7, 6, 2)),
    "conv-valid-no-bias": (chain(("Conv2D", {"filters": 2, "kernel_size": [2, 3], "strides": [1, 2],
                                             "use_bias": False, "activation": "leaky_relu"}),
                                 ("Flatten", {}), in_shape=(5, 7, 3)), (5, 7, 3)),
    "maxpool-same": (chain(("MaxPool2D", {"pool_size": [3, 3], "strides": [2, 2], "padding": "same"}),
                           ("Flatten", {}), in_shape=(5, 5, 2)), (5, 5, 2)),
    "avgpool-same": (chain(("Conv2D", {"filters": 2, "kernel_size": [2, 2], "activation": "softplus"}),
                           ("AvgPool2D", {"pool_size": [2, 2], "strides": [2, 2], "padding": "same"}),
                           ("Flatten", {}), in_shape=(6, 6, 1)), (6, 6, 1)),
    "avgpool-valid": (chain(("AvgPool2D", {"pool_size": [2, 3], "strides": [1, 2]}), ("Flatten", {}),
                            in_shape=(4, 7, 2)), (4, 7, 2)),
    "globalavgpool-image": (chain(("Conv2D", {"filters": 4, "kernel_size": [3, 3], "padding": "same"}),
                                  ("GlobalAvgPool", {}), in_shape=(5, 5, 2)), (5, 5, 2)),
    "globalavgpool-sequence": (chain(("GlobalAvgPool", {}), in_shape=(6, 3)), (6, 3)),
    "softmax-batchnorm-dropout": (chain(("Conv2D", {"filters": 3, "kernel_size": [2, 2]}),
                                        ("Activation", {"activation": "softmax"}),
                                        ("BatchNorm", {"momentum": 0.9, "epsilon": 0.01}), ("Dropout", {"rate": 0.3}),
                                        ("MaxPool2D", {}), ("Flatten", {}), in_shape=(5, 5, 2)), (5, 5, 2)),
    "batchnorm-vector": (chain(("Dense", {"units": 4}), ("BatchNorm", {"center": False}), in_shape=(3,)), (3,)),
    "batchnorm-sequence": (chain(("Reshape", {"shape": [3, 4]}), ("BatchNorm", {"scale": False}), ("Flatten", {}),
                                 in_shape=(12,)), (12,)),
    "reshape-to-image": (chain(("Reshape", {"shape": [4, 4, 1]}), ("Conv2D", {"filters": 2, "kernel_size": [3, 3]}),
                               ("Reshape", {"shape": [8]}), in_shape=(16,)), (16,)),
    "layernorm": (chain(("Dense", {"units": 4}), ("LayerNorm", {"epsilon": 1e-3}), ("Flatten", {}),
                        in_shape=(3, 5)), (3, 5)),
    "layernorm-no-affine": (chain(("LayerNorm", {"center": False, "scale": False}), in_shape=(6,)), (6,)),
    "simplernn-sequences": (chain(("SimpleRNN", {"units": 3, "return_sequences": True}), ("Flatten", {}),
                                  in_shape=(5, 2)), (5, 2)),
    "simplernn-elu-no-bias": (chain(("SimpleRNN", {"units": 2, "activation": "elu", "use_bias": False}),
                                    in_shape=(3, 3)), (3, 3)),
    "lstm-sequences": (chain(("LSTM", {"units": 3, "return_sequences": True}), ("LSTM", {"units": 2}),
                             in_shape=(6, 2)), (6, 2)),
    "lstm-no-bias": (chain(("LSTM", {"units": 3, "use_bias": False}), in_shape=(4, 2)), (4, 2)),
    "gru": (chain(("GRU", {"units": 3}), in_shape=(5, 2)), (5, 2)),
    "gru-sequences-no-bias": (chain(("GRU", {"units": 4, "return_sequences": True, "use_bias": False}),
                                    ("Flatten", {}), in_shape=(5, 3)), (5, 3)),
    "embedding": (chain(("Embedding", {"input_dim": 7, "output_dim": 3}), ("Flatten", {}), in_shape=(4, 1)), "ids"),
    "positional-sinusoidal": (chain(("PositionalEncoding", {}), ("Flatten", {}), in_shape=(5, 6)), (5, 6)),
    "positional-learned": (chain(("PositionalEncoding", {"kind": "learned"}), ("Flatten", {}), in_shape=(5, 4)),
                           (5, 4)),
    "attention-causal": (chain(("SelfAttention", {"heads": 2, "key_dim": 3, "causal": True}), ("Flatten", {}),
                               in_shape=(5, 4)), (5, 4)),
    "attention-no-bias": (chain(("SelfAttention", {"heads": 3, "key_dim": 2, "use_bias": False}),
                                ("GlobalAvgPool", {}), in_shape=(4, 6)), (4, 6)),
    "output-without-weights": (chain(("Dense", {"units": 3}), in_shape=(2,), out_units=3, out_activation="softmax",
                                     use_weights=False), (2,)),
}


def _add_concat():
    g = ad.Graph()
    x = g.add_node("Input", shape=[6, 6, 1]).id
    a = g.add_node("Conv2D", filters=2, kernel_size=[3, 3], padding="same").id
    b = g.add_node("Conv2D", filters=2, kernel_size=[3, 3], padding="same", activation="tanh").id
    s = g.add_node("Add").id
    c = g.add_node("Concatenate").id
    k = g.add_node("Conv2D", filters=3, kernel_size=[2, 2], strides=[2, 2]).id
    f = g.add_node("Flatten").id
    o = g.add_node("Output", units=2, activation="linear", loss="mse").id
    for src, dst in ((x, a), (x, b), (a, s), (b, s), (s, c), (a, c), (c, k), (k, f), (f, o)):
        g.connect(src, dst)
    return g


def _unfused_neurons():
    """Neurons of different activations run as separate steps; a later neuron reads some
    of their columns (sliced and joined in the script)."""
    g = ad.Graph()
    x = g.add_node("Input", shape=[3]).id
    hs = [g.add_node("Neuron", activation=a).id for a in ("tanh", "tanh", "relu", "elu")]
    for h in hs:
        g.connect(x, h)
    o1 = g.add_node("Neuron", activation="sigmoid").id
    for h in (hs[1], hs[2], hs[3]):
        g.connect(h, o1)
    y = g.add_node("Output", units=1, activation="linear", loss="mse", use_weights=False).id
    g.connect(o1, y)
    return g


LAYERS["add-concat-images"] = (_add_concat(), (6, 6, 1))
LAYERS["neurons-unfused"] = (_unfused_neurons(), (3,))


@pytest.mark.parametrize("key", list(LAYERS))
def test_every_layer_type_runs_as_our_predict(key, tmp_path):
    g, shape = LAYERS[key]
    net = randomized(ad.Network(g.copy(), seed=0))
    if shape == "ids":
        X = np.random.default_rng(3).integers(0, 7, size=(37, 4, 1)).astype(np.float32)
    else:
        X = rows(shape)
    assert_same_as_predict(net, X, tmp_path)


def test_the_layers_cover_the_registry():
    seen = {n.type_id for g, _ in LAYERS.values() for n in g.nodes.values()} | {"Neuron", "Dense"}
    seen |= {n.type_id for name in SAMPLE_NAMES for n in ad.load(SAMPLES / f"{name}.ann").graph.nodes.values()}
    assert {t.type_id for t in BUILTIN_REGISTRY} <= seen


def test_a_neuron_drawn_network_exports_as_the_layer_it_runs_as(tmp_path):
    net = ad.Network.load(SAMPLES / "xor-neurons.ann")
    _, files = exported(net, tmp_path)
    code = files[0].read_text()
    fused = [ln for ln in code.splitlines() if "neurons as one layer" in ln]
    assert len(fused) == 1 and "np.concatenate([x1, x2], axis=-1)" in fused[0] and "# (N, 4)" in fused[0]


def test_several_outputs_are_returned_in_order(tmp_path):
    g = ad.Graph()
    x = g.add_node("Input", shape=[3]).id
    a = g.add_node("Dense", units=2, activation="tanh").id
    o1 = g.add_node("Output", units=2, activation="softmax", loss="categorical_crossentropy").id
    o2 = g.add_node("Output", units=1, activation="linear", loss="mse").id
    for s, d in ((x, a), (a, o1), (a, o2)):
        g.connect(s, d)
    net = randomized(ad.Network(g))
    mod, _ = exported(net, tmp_path)
    X = rows((3,))
    got = mod.forward(X)
    prog = net.program
    prog.forward([X], training=False)
    want = [prog.gather(o.value).copy() for o in prog.outputs]
    prog.clear()
    assert len(got) == 2
    for a_, b_ in zip(got, want):
        np.testing.assert_allclose(a_, b_, rtol=TOL, atol=TOL)


def test_what_cannot_be_exported_is_named(tmp_path):
    with pytest.raises(InteropError, match="Python module name"):
        export_numpy(ad.Network.load(SAMPLES / "xor.ann"), tmp_path / "my-model.py")
    g = ad.Graph()
    g.add_node("Input", shape=[2])
    with pytest.raises(InteropError):
        export_numpy(ad.Network(g, strict=False), tmp_path / "m.py")
    assert not (tmp_path / "m.py").exists() and not (tmp_path / "m.npz").exists()
