"""anndesigner/interop/onnx_export.py: every sample and every layer type exports to an
ONNX model that passes onnx.checker and that onnxruntime runs to our own
``Network.predict`` within 1e-5, at batch sizes 1 and 37, with a dynamic batch
dimension, names from the design and the document's metadata."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

onnx = pytest.importorskip("onnx", reason="the ONNX export is checked with the onnx package (interop extra)")
ort = pytest.importorskip("onnxruntime", reason="ONNX exports are run with onnxruntime (interop extra)")

import anndesigner as ad  # noqa: E402
from anndesigner.interop import InteropError, export  # noqa: E402
from anndesigner.interop.onnx_export import export_onnx, to_onnx_model  # noqa: E402
from netzoo import chain, randomized, raw_rows  # noqa: E402

SAMPLES = Path(__file__).resolve().parents[2] / "samples"
TOL = 1e-5


# ------------------------------------------------------------------ helpers
def session(model):
    return ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])


def feeds(net, sess, X):
    """One array per ONNX input from flat rows ``X``, dealt out to the Inputs in order (as predict does)."""
    flat = np.asarray(X, np.float32).reshape(len(X), -1)
    out, off = {}, 0
    for inp, (_, _, shape) in zip(sess.get_inputs(), net.program.inputs):
        k = math.prod(shape)
        out[inp.name] = flat[:, off:off + k].reshape((len(X),) + tuple(shape))
        off += k
    return out


def run(net, X, model=None):
    model = model or to_onnx_model(net)
    sess = session(model)
    return sess.run(None, feeds(net, sess, X))[0]


def assert_same_as_predict(net, X, model=None):
    """onnxruntime at batch sizes 1 and len(X) (37) equals our predict on the same rows."""
    model = model or to_onnx_model(net)
    onnx.checker.check_model(model, full_check=True)
    for rows in (X[:1], X):
        ours = net.predict(rows)
        theirs = run(net, rows, model)
        assert theirs.shape == ours.shape
        np.testing.assert_allclose(theirs, ours, rtol=TOL, atol=TOL)
    return model


def net_of(g, seed=0):
    return randomized(ad.Network(g, seed=seed))


def rows(shape, n=37, seed=2):
    return np.random.default_rng(seed).normal(size=(n,) + tuple(shape)).astype(np.float32)


def ops(model):
    return [n.op_type for n in model.graph.node]


# ------------------------------------------------------------------ samples
SAMPLE_NAMES = sorted(p.stem for p in SAMPLES.glob("*.ann"))


@pytest.mark.parametrize("name", SAMPLE_NAMES)
def test_every_sample_exports_and_runs_as_our_predict(name):
    net = ad.Network.load(SAMPLES / f"{name}.ann")
    model = assert_same_as_predict(net, raw_rows(net))
    assert model.opset_import[0].version == 17
    assert [d.dim_param for d in model.graph.input[0].type.tensor_type.shape.dim][:1] == ["batch"]
    props = {p.key: p.value for p in model.metadata_props}
    assert props["title"] == net.graph.meta["title"]
    assert props["description"] == net.graph.meta.get("description", "") == model.doc_string


def test_samples_cover_their_layers_with_onnx_operators():
    cnn = to_onnx_model(ad.Network.load(SAMPLES / "digits-cnn.ann"))
    # NCHW inside: one transpose in before the convs, one back before Flatten
    assert ops(cnn).count("Transpose") == 2 and ops(cnn).count("Conv") == 2 and "MaxPool" in ops(cnn)
    assert "Dropout" not in ops(cnn)
    lstm = to_onnx_model(ad.Network.load(SAMPLES / "sine-lstm.ann"))
    assert "LSTM" in ops(lstm) and "Loop" not in ops(lstm) and "Scan" not in ops(lstm)
    tr = to_onnx_model(ad.Network.load(SAMPLES / "tiny-transformer.ann"))
    assert {"Gather", "Softmax", "LayerNormalization", "MatMul"} <= set(ops(tr))


def test_a_neuron_drawn_network_exports_as_the_layer_it_runs_as():
    net = ad.Network.load(SAMPLES / "xor-neurons.ann")
    model = assert_same_as_predict(net, raw_rows(net))
    # two Inputs (one column each) joined, four neurons fused into one product, one output neuron;
    # names from the labels x₁, x₂, h1 … h4, out and "x₁ XOR x₂"
    assert [i.name for i in model.graph.input] == ["x1", "x2"]
    assert ops(model).count("Gemm") == 2 and "Concat" in ops(model)
    values = {o for n in model.graph.node for o in n.output}
    assert "h1_h2_h3_h4" in values
    # the output neuron "out" feeds a plain Output marker: its tensor is the graph output
    assert [o.name for o in model.graph.output] == ["x1_XOR_x2"] and "out" not in values


def test_neurons_that_do_not_fuse_export_as_columns_sliced_and_joined():
    """Neurons with different activations run as separate steps; a later neuron reads
    some of them: Slice/Concat of the columns, in the engine's order."""
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
    net = net_of(g)
    model = assert_same_as_predict(net, rows((3,)))
    assert "Slice" in ops(model) and "Concat" in ops(model)


# ------------------------------------------------------------------ layer types
ACTIVATIONS = ["linear", "relu", "sigmoid", "tanh", "softmax", "leaky_relu", "elu", "softplus", "step", "sign",
               "gelu", "gelu_tanh"]


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_every_activation_of_a_dense_layer_and_an_activation_node(activation):
    g = chain(("Dense", {"units": 5, "activation": activation}), ("Activation", {"activation": activation}),
              in_shape=(4,), out_units=3, out_activation=activation)
    net = net_of(g)
    X = rows((4,)) * 2
    assert_same_as_predict(net, X)


def test_gelu_is_the_exact_erf_form_and_gelu_tanh_the_tanh_form():
    """Checked against the formulas themselves (not only against our engine)."""
    import math as m

    x = np.linspace(-4, 4, 37, dtype=np.float32)[:, None]
    for act, f in (("gelu", lambda v: 0.5 * v * (1 + m.erf(v / m.sqrt(2)))),
                   ("gelu_tanh", lambda v: 0.5 * v * (1 + m.tanh(m.sqrt(2 / m.pi) * (v + 0.044715 * v ** 3))))):
        g = chain(in_shape=(1,), out_units=1, out_activation=act, use_weights=False)
        net = ad.Network(g)
        got = run(net, x)
        np.testing.assert_allclose(got[:, 0], [f(float(v)) for v in x[:, 0]], rtol=1e-6, atol=1e-6)


LAYERS = {
    "dense-no-bias": (chain(("Dense", {"units": 3, "use_bias": False, "activation": "tanh"}), in_shape=(4,)), (4,)),
    "dense-rank3-matmul": (chain(("Dense", {"units": 3, "activation": "relu"}), ("Flatten", {}), in_shape=(5, 4)),
                           (5, 4)),
    "conv-same-strides": (chain(("Conv2D", {"filters": 3, "kernel_size": [3, 3], "strides": [2, 2],
                                            "padding": "same", "activation": "relu"}),
                                ("Flatten", {}), in_shape=(7, 6, 2)), (7, 6, 2)),
    "conv-valid-no-bias": (chain(("Conv2D", {"filters": 2, "kernel_size": [2, 3], "strides": [1, 2],
                                             "padding": "valid", "use_bias": False, "activation": "leaky_relu"}),
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
    "globalavgpool-channels-last-image": (chain(("Reshape", {"shape": [3, 2, 4]}), ("GlobalAvgPool", {}),
                                                in_shape=(24,)), (24,)),
    "globalavgpool-sequence": (chain(("GlobalAvgPool", {}), in_shape=(6, 3)), (6, 3)),
    "conv-softmax-activation-batchnorm": (chain(("Conv2D", {"filters": 3, "kernel_size": [2, 2]}),
                                                ("Activation", {"activation": "softmax"}),
                                                ("BatchNorm", {"momentum": 0.9, "epsilon": 0.01}),
                                                ("Dropout", {"rate": 0.3}),
                                                ("MaxPool2D", {}), ("Flatten", {}), in_shape=(5, 5, 2)),
                                          (5, 5, 2)),
    "batchnorm-vector": (chain(("Dense", {"units": 4}), ("BatchNorm", {"center": False}), in_shape=(3,)), (3,)),
    "batchnorm-sequence": (chain(("Reshape", {"shape": [3, 4]}), ("BatchNorm", {"scale": False}), ("Flatten", {}),
                                 in_shape=(12,)), (12,)),
    "reshape-to-image": (chain(("Reshape", {"shape": [4, 4, 1]}), ("Conv2D", {"filters": 2, "kernel_size": [3, 3]}),
                               ("Reshape", {"shape": [8]}), in_shape=(16,)), (16,)),
    "layernorm": (chain(("Dense", {"units": 4}), ("LayerNorm", {"epsilon": 1e-3}), ("Flatten", {}),
                        in_shape=(3, 5)), (3, 5)),
    "layernorm-no-affine": (chain(("LayerNorm", {"center": False, "scale": False}), in_shape=(6,)), (6,)),
    "simplernn-tanh-sequences": (chain(("SimpleRNN", {"units": 3, "return_sequences": True}), ("Flatten", {}),
                                       in_shape=(5, 2)), (5, 2)),
    "simplernn-relu": (chain(("SimpleRNN", {"units": 4, "activation": "relu"}), in_shape=(5, 2)), (5, 2)),
    "simplernn-sigmoid-no-bias": (chain(("SimpleRNN", {"units": 2, "activation": "sigmoid", "use_bias": False}),
                                        in_shape=(3, 3)), (3, 3)),
    "lstm-sequences": (chain(("LSTM", {"units": 3, "return_sequences": True}), ("LSTM", {"units": 2}),
                             in_shape=(6, 2)), (6, 2)),
    "lstm-no-bias": (chain(("LSTM", {"units": 3, "use_bias": False}), in_shape=(4, 2)), (4, 2)),
    "gru": (chain(("GRU", {"units": 3}), in_shape=(5, 2)), (5, 2)),
    "gru-sequences": (chain(("GRU", {"units": 4, "return_sequences": True}), ("Flatten", {}), in_shape=(5, 3)),
                      (5, 3)),
    "embedding-t1": (chain(("Embedding", {"input_dim": 7, "output_dim": 3}), ("Flatten", {}), in_shape=(4, 1)),
                     "ids"),
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


def _dense_concat():
    g = ad.Graph()
    x = g.add_node("Input", shape=[3]).id
    a = g.add_node("Dense", units=2, activation="tanh").id
    b = g.add_node("Dense", units=3, activation="elu").id
    c = g.add_node("Concatenate").id
    s = g.add_node("Add").id
    o = g.add_node("Output", units=3, activation="softmax", loss="categorical_crossentropy").id
    for src, dst in ((x, a), (x, b), (a, c), (b, c), (b, s), (c, o)):
        g.connect(src, dst)
    o2 = g.add_node("Output", units=3, activation="linear", loss="mse", use_weights=False).id
    g.connect(s, o2)
    return g


LAYERS["add-concat-images"] = (_add_concat(), (6, 6, 1))
LAYERS["concat-dense"] = (_dense_concat(), (3,))


@pytest.mark.parametrize("key", list(LAYERS))
def test_every_layer_type_runs_as_our_predict(key):
    g, shape = LAYERS[key]
    net = net_of(g.copy())
    if shape == "ids":
        X = np.random.default_rng(3).integers(0, 7, size=(37, 4, 1)).astype(np.float32)
    else:
        X = rows(shape)
    if len(net.program.outputs) > 1:  # predict takes one Output; the model has every Output
        model = to_onnx_model(net)
        onnx.checker.check_model(model, full_check=True)
        sess = session(model)
        got = sess.run(None, feeds(net, sess, X))
        assert [o.name for o in model.graph.output] == [o.node_id for o in net.program.outputs]
        prog = net.program
        prog.forward([X], training=False)
        for out, info in zip(got, prog.outputs):
            np.testing.assert_allclose(out, prog.gather(info.value), rtol=TOL, atol=TOL)
        prog.clear()
    else:
        assert_same_as_predict(net, X)


def test_every_registered_layer_type_is_covered():
    from anndesigner.graph import BUILTIN_REGISTRY

    seen = set()
    for g, _ in LAYERS.values():
        seen |= {n.type_id for n in g.nodes.values()}
    for name in SAMPLE_NAMES:
        seen |= {n.type_id for n in ad.Network.load(SAMPLES / f"{name}.ann").graph.nodes.values()}
    assert {t.type_id for t in BUILTIN_REGISTRY} <= seen


def test_dense_is_gemm_on_vectors_and_matmul_add_above():
    vec = to_onnx_model(net_of(chain(("Dense", {"units": 3}), in_shape=(4,))))
    gemm = next(n for n in vec.graph.node if n.op_type == "Gemm")
    assert {a.name: a.i for a in gemm.attribute} == {"transB": 1} and "MatMul" not in ops(vec)
    seq = to_onnx_model(net_of(chain(("Dense", {"units": 3}), ("Flatten", {}), in_shape=(5, 4))))
    assert ops(seq)[:2] == ["MatMul", "Add"]
    img = to_onnx_model(net_of(chain(("Reshape", {"shape": [3, 2, 4]}), ("GlobalAvgPool", {}), in_shape=(24,))))
    assert "Transpose" not in ops(img) and "ReduceMean" in ops(img)  # channels last: no layout change


def test_recurrent_layers_use_onnx_gate_orders():
    """The exported W of an LSTM is ours with the gate blocks i, f, g, o put as i, o, f, c, transposed."""
    net = net_of(chain(("LSTM", {"units": 2}), in_shape=(3, 4)))
    model = to_onnx_model(net)
    W = next(onnx.numpy_helper.to_array(t) for t in model.graph.initializer if t.name.endswith("_W"))
    K = net.get_weights()["lstm_1/kernel"]
    u = 2
    i, f, g, o = (K[:, j * u:(j + 1) * u] for j in range(4))
    np.testing.assert_array_equal(W[0], np.concatenate([i, o, f, g], axis=1).T)
    gru = to_onnx_model(net_of(chain(("GRU", {"units": 2}), in_shape=(3, 4))))
    node = next(n for n in gru.graph.node if n.op_type == "GRU")
    assert {a.name: a.i for a in node.attribute}["linear_before_reset"] == 0


def test_batchnorm_keeps_our_momentum_and_epsilon():
    net = net_of(chain(("BatchNorm", {"momentum": 0.8, "epsilon": 0.02}), in_shape=(3,)))
    node = next(n for n in to_onnx_model(net).graph.node if n.op_type == "BatchNormalization")
    attrs = {a.name: a.f for a in node.attribute}
    assert attrs["momentum"] == pytest.approx(0.8) and attrs["epsilon"] == pytest.approx(0.02)


# ------------------------------------------------------------------ names, metadata, files
def test_names_come_from_the_design_and_are_valid_and_unique():
    g = chain(("Dense", {"units": 3}), ("Dense", {"units": 2}), in_shape=(4,))
    g.set_label("input_1", "pixels in")
    g.set_label("dense_1", "hidden layer")
    g.set_label("dense_2", "hidden layer")  # the same label twice
    g.set_label("output_1", "2nd-guess!")
    g.set_meta(title="My net: v2", description="Two dense layers.")
    net = net_of(g)
    model = to_onnx_model(net)
    assert [i.name for i in model.graph.input] == ["pixels_in"]
    assert [o.name for o in model.graph.output] == ["n_2nd_guess"]
    names = [o for n in model.graph.node for o in n.output] + [t.name for t in model.graph.initializer]
    assert len(names) == len(set(names))
    assert all(n.replace("_", "a").isalnum() and not n[0].isdigit() for n in names)
    assert "hidden_layer" in names and "hidden_layer_2" in names and "hidden_layer_kernel" in names
    assert model.graph.name == "My_net_v2"
    # every ONNX node says which of our nodes it comes from
    gemms = [n for n in model.graph.node if n.op_type == "Gemm"]
    assert [n.doc_string for n in gemms] == ["Dense dense_1", "Dense dense_2", "Output output_1"]
    props = {p.key: p.value for p in model.metadata_props}
    assert props["title"] == "My net: v2" and props["description"] == "Two dense layers."
    assert model.doc_string == "Two dense layers." and model.producer_name == "ANN Designer"
    assert_same_as_predict(net, rows((4,)))


def test_a_float64_network_exports_as_float32():
    net = ad.Network.load(SAMPLES / "spirals.ann")
    net64 = ad.Network(net.graph.copy(), net.seed, dtype=np.float64, weights=net.get_weights(),
                       data=net.data_source)
    model = to_onnx_model(net64)
    assert {t.data_type for t in model.graph.initializer} == {onnx.TensorProto.FLOAT}
    X = raw_rows(net)
    np.testing.assert_allclose(run(net64, X, model), net64.predict(X), rtol=TOL, atol=TOL)


def test_export_writes_a_file_that_onnxruntime_loads(tmp_path):
    net = ad.Network.load(SAMPLES / "spirals.ann")
    written = export(net, "onnx", tmp_path / "spirals")
    assert written == [tmp_path / "spirals.onnx"] and written[0].stat().st_size > 0
    assert export_onnx(net, tmp_path / "sub" / "s.onnx") == [tmp_path / "sub" / "s.onnx"]
    model = onnx.load(str(written[0]))
    onnx.checker.check_model(str(written[0]), full_check=True)
    sess = ort.InferenceSession(str(written[0]), providers=["CPUExecutionProvider"])
    X = raw_rows(net)
    np.testing.assert_allclose(sess.run(None, feeds(net, sess, X))[0], net.predict(X), rtol=TOL, atol=TOL)
    assert model.graph.input[0].name == "x_y"  # the Input's label "x, y"
    assert net.graph.nodes["input_1"].label == "x, y"


# ------------------------------------------------------------------ standardization
def test_a_standardizing_network_takes_raw_rows_unless_asked_not_to():
    net = ad.Network.load(SAMPLES / "house-prices.ann")
    assert net.scaler is not None
    raw = raw_rows(net)
    model = to_onnx_model(net)
    assert ops(model)[:2] == ["Sub", "Div"]
    np.testing.assert_allclose(run(net, raw, model), net.predict(raw), rtol=TOL, atol=TOL)
    plain = to_onnx_model(net, standardize=False)
    assert "Sub" not in ops(plain)
    std = net.scaler.transform(raw)
    np.testing.assert_allclose(run(net, std, plain), net.predict(std, standardized=True), rtol=TOL, atol=TOL)
    props = {m: {p.key: p.value for p in x.metadata_props}["input_standardization"] for m, x in
             (("raw", model), ("plain", plain))}
    assert props["raw"].startswith("in the model") and props["plain"].startswith("none")


# ------------------------------------------------------------------ what cannot be exported
def test_an_rnn_activation_onnx_cannot_run_names_the_node():
    net = net_of(chain(("SimpleRNN", {"units": 2, "activation": "elu"}), in_shape=(3, 2)))
    with pytest.raises(InteropError, match=r"Simple RNN 'simplernn_1'.*'elu'") as e:
        to_onnx_model(net)
    assert e.value.node_id == "simplernn_1"


def test_an_unknown_layer_type_names_the_node(monkeypatch):
    from anndesigner.interop import onnx_export

    net = net_of(chain(("LayerNorm", {}), in_shape=(3,)))
    monkeypatch.delattr(onnx_export._Builder, "_LayerNorm")  # as a type the exporter has never heard of
    with pytest.raises(InteropError, match=r"Layer norm 'layernorm_1'.*'LayerNorm'"):
        to_onnx_model(net)


def test_only_opset_17_is_written():
    net = ad.Network.load(SAMPLES / "xor.ann")
    with pytest.raises(InteropError, match="opset 17"):
        to_onnx_model(net, opset=13)
