"""The GRU's reset_after variant (Keras's GRU(reset_after=True), PyTorch's nn.GRU,
ONNX GRU linear_before_reset=1): gradients against finite differences, forward
values against a per-sample reference, torch.nn.GRU and onnxruntime, the
inside-view steps against the engine, and files without the parameter."""

import io
import json
import zipfile

import numpy as np
import pytest

import anndesigner as ad
from anndesigner.engine import explain
from anndesigner.engine.tracing_seq import recurrent_steps
from anndesigner.graph.nodetypes import BUILTIN_REGISTRY
from layercheck import check_accumulates, check_layer

T, F, U = 6, 3, 4


def _sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def reference_after(x, W, Uk, b, u):
    """Keras's GRUCell.call with reset_after=True, one sample and one step at a time: (N, T, u)."""
    N, T_, _ = x.shape
    bi, bh = (b[0], b[1]) if b is not None else (np.zeros(3 * u), np.zeros(3 * u))
    out = np.zeros((N, T_, u))
    for n in range(N):
        h = np.zeros(u)
        for t in range(T_):
            mx = x[n, t] @ W + bi
            mh = h @ Uk + bh
            z = _sigmoid(mx[:u] + mh[:u])
            r = _sigmoid(mx[u:2 * u] + mh[u:2 * u])
            hh = np.tanh(mx[2 * u:] + r * mh[2 * u:])
            h = z * h + (1 - z) * hh
            out[n, t] = h
    return out


def gru_net(return_sequences=False, reset_after=True, use_bias=True, seed=3, dtype=np.float64, scale=0.7):
    """Input (T, F) -> GRU -> Output (identity), weights drawn at random (biases too)."""
    g = ad.Graph()
    x = g.add_node("Input", shape=[T, F])
    r = g.add_node("GRU", units=U, return_sequences=return_sequences, reset_after=reset_after, use_bias=use_bias)
    g.connect(x, r)
    last = r
    if return_sequences:
        last = g.add_node("Flatten")
        g.connect(r, last)
    y = g.add_node("Output", units=T * U if return_sequences else U, activation="linear", loss="mse",
                   use_weights=False)
    g.connect(last, y)
    net = ad.Network(g, seed=seed, dtype=dtype)
    rng = np.random.default_rng(seed)
    net.set_weights({k: rng.normal(scale=scale, size=v.shape) for k, v in net.get_weights().items()})
    return net, r.id


def _outputs(net, x, nid, return_sequences):
    y = net.predict(x, standardized=True)
    return y.reshape(len(x), T, U) if return_sequences else y


# ---------------------------------------------------------------- the type
def test_the_parameter_is_described_and_off_by_default():
    t = BUILTIN_REGISTRY.get("GRU")
    p = t.param("reset_after")
    assert p.kind == "bool" and p.default is False and p.label == "Reset after"
    assert p.help.startswith("Reset after the recurrent product (PyTorch's and Keras's default)")
    assert "reset_after=False" in t.description and "Reset after" in t.description
    g = ad.Graph()
    assert g.add_node("GRU", units=U).params["reset_after"] is False

    def shapes(**params):
        return {w.name: w.shape for w in t.weights(t.make_params(dict(units=U, **params)), {"in": [(T, F)]})}

    assert shapes() == {"kernel": (F, 3 * U), "recurrent_kernel": (U, 3 * U), "bias": (3 * U,)}
    # Keras's layout: bias row 0 the input bias, row 1 the recurrent bias
    assert shapes(reset_after=True) == {"kernel": (F, 3 * U), "recurrent_kernel": (U, 3 * U), "bias": (2, 3 * U)}
    assert shapes(reset_after=True, use_bias=False) == {"kernel": (F, 3 * U), "recurrent_kernel": (U, 3 * U)}
    net, nid = gru_net()
    assert net.get_weights()[f"{nid}/bias"].shape == (2, 3 * U)
    assert net.count_params() == F * 3 * U + U * 3 * U + 2 * 3 * U


# ---------------------------------------------------------------- gradients
@pytest.mark.parametrize("return_sequences", [False, True])
@pytest.mark.parametrize("use_bias", [True, False])
def test_gradients_match_finite_differences(return_sequences, use_bias):
    # a normal bias initializer: b_hh ≠ 0, so r matters at the first step too
    step = check_layer("GRU", (5, 3), units=4, batch=3, return_sequences=return_sequences, reset_after=True,
                       use_bias=use_bias, bias_initializer="normal", recurrent_initializer="normal")
    assert step.reset_after
    if use_bias:
        assert step.b.value.shape == (2, 12) and np.abs(step.b.value[1]).min() > 0


def test_gradients_of_a_single_step_and_accumulation():
    check_layer("GRU", (1, 2), units=3, batch=2, reset_after=True, bias_initializer="normal")
    check_accumulates("GRU", (4, 3), units=3, reset_after=True, bias_initializer="normal")


# ---------------------------------------------------------------- forward
@pytest.mark.parametrize("return_sequences", [False, True])
@pytest.mark.parametrize("use_bias", [True, False])
def test_forward_equals_kerass_cell(return_sequences, use_bias):
    net, nid = gru_net(return_sequences, use_bias=use_bias)
    w = net.get_weights()
    x = np.random.default_rng(1).normal(size=(5, T, F))
    want = reference_after(x, w[f"{nid}/kernel"], w[f"{nid}/recurrent_kernel"], w.get(f"{nid}/bias"), U)
    got = _outputs(net, x, nid, return_sequences)
    np.testing.assert_allclose(got, want if return_sequences else want[:, -1], rtol=1e-12, atol=1e-13)


def test_the_variants_differ_and_agree_where_the_formulas_do():
    """r⊙(hU_h) = (r⊙h)U_h when U_h is diagonal: with b_hh = 0 and the z, r biases split
    over the two rows, reset_after gives the other variant's numbers; a full U_h does not."""
    after, nid = gru_net(reset_after=True)
    before, nid2 = gru_net(reset_after=False)
    w = after.get_weights()
    Uk = w[f"{nid}/recurrent_kernel"].copy()
    Uk[:, 2 * U:] = np.diag(np.arange(1, U + 1) * 0.3)
    b = w[f"{nid}/bias"].copy()
    b[1, 2 * U:] = 0
    after.set_weights({f"{nid}/kernel": w[f"{nid}/kernel"], f"{nid}/recurrent_kernel": Uk, f"{nid}/bias": b})
    before.set_weights({f"{nid2}/kernel": w[f"{nid}/kernel"], f"{nid2}/recurrent_kernel": Uk,
                        f"{nid2}/bias": b[0] + np.concatenate([b[1, :2 * U], np.zeros(U)])})
    x = np.random.default_rng(2).normal(size=(4, T, F))
    np.testing.assert_allclose(after.predict(x), before.predict(x), rtol=1e-12, atol=1e-13)
    Uk[:, 2 * U:] = w[f"{nid}/recurrent_kernel"][:, 2 * U:]
    after.set_weights({f"{nid}/recurrent_kernel": Uk}, strict=False)
    before.set_weights({f"{nid2}/recurrent_kernel": Uk}, strict=False)
    assert np.abs(after.predict(x) - before.predict(x)).max() > 1e-3


# ---------------------------------------------------------------- PyTorch
def _torch_gru(w, nid, use_bias):
    torch = pytest.importorskip("torch", reason="PyTorch is needed to compare with torch.nn.GRU")
    gru = torch.nn.GRU(F, U, batch_first=True, bias=use_bias).double()

    def rzn(a):  # our gate blocks z, r, h̃ -> PyTorch's r, z, n (along the last axis)
        return np.concatenate([a[..., U:2 * U], a[..., :U], a[..., 2 * U:]], axis=-1)

    with torch.no_grad():
        gru.weight_ih_l0.copy_(torch.from_numpy(rzn(w[f"{nid}/kernel"]).T.copy()))        # (3u, F)
        gru.weight_hh_l0.copy_(torch.from_numpy(rzn(w[f"{nid}/recurrent_kernel"]).T.copy()))  # (3u, u)
        if use_bias:
            b = rzn(w[f"{nid}/bias"])
            gru.bias_ih_l0.copy_(torch.from_numpy(b[0].copy()))
            gru.bias_hh_l0.copy_(torch.from_numpy(b[1].copy()))
    return torch, gru


@pytest.mark.parametrize("return_sequences", [False, True])
@pytest.mark.parametrize("use_bias", [True, False])
def test_equals_torch_nn_gru(return_sequences, use_bias):
    net, nid = gru_net(return_sequences, use_bias=use_bias)
    torch, gru = _torch_gru(net.get_weights(), nid, use_bias)
    x = np.random.default_rng(4).normal(size=(7, T, F))
    with torch.no_grad():
        seq, h_n = gru(torch.from_numpy(x))
    want = seq.numpy() if return_sequences else h_n[0].numpy()
    got = _outputs(net, x, nid, return_sequences)
    assert np.abs(got - want).max() < 1e-6
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-12)  # float64 both: far closer than 1e-6


def test_gradients_equal_torchs():
    """One backward pass: our dL/dW, dU and both bias rows are torch's autograd ones (mapped)."""
    net, nid = gru_net(True)
    w = net.get_weights()
    torch, gru = _torch_gru(w, nid, True)
    x = np.random.default_rng(5).normal(size=(3, T, F))
    g = np.random.default_rng(6).normal(size=(3, T * U))
    prog = net.program
    prog.forward([x], training=True)
    step = next(s for s in prog.steps if nid in getattr(s, "node_ids", ()))
    for p in step.params:
        p.touched = False
    step.backward(g.reshape(3, T, U).copy(), [False])
    grads = {p.name.split("/")[-1]: p.grad for p in step.params}
    seq, _ = gru(torch.from_numpy(x))
    (seq * torch.from_numpy(g.reshape(3, T, U))).sum().backward()

    def zrh(a):  # PyTorch's r, z, n -> our z, r, h̃ (along the last axis)
        return np.concatenate([a[..., U:2 * U], a[..., :U], a[..., 2 * U:]], axis=-1)

    np.testing.assert_allclose(grads["kernel"], zrh(gru.weight_ih_l0.grad.numpy().T), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(grads["recurrent_kernel"], zrh(gru.weight_hh_l0.grad.numpy().T),
                               rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(grads["bias"][0], zrh(gru.bias_ih_l0.grad.numpy()), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(grads["bias"][1], zrh(gru.bias_hh_l0.grad.numpy()), rtol=1e-9, atol=1e-12)


# ---------------------------------------------------------------- ONNX
@pytest.mark.parametrize("return_sequences", [False, True])
@pytest.mark.parametrize("reset_after", [True, False])
def test_onnx_export_equals_onnxruntime(return_sequences, reset_after):
    onnx = pytest.importorskip("onnx", reason="onnx is needed to check the ONNX export")
    ort = pytest.importorskip("onnxruntime", reason="onnxruntime is needed to run the ONNX export")
    from anndesigner.interop.onnx_export import to_onnx_model

    net, nid = gru_net(return_sequences, reset_after=reset_after, dtype=np.float32, scale=0.5)
    model = to_onnx_model(net)
    onnx.checker.check_model(model)
    gru = next(n for n in model.graph.node if n.op_type == "GRU")
    attrs = {a.name: onnx.helper.get_attribute_value(a) for a in gru.attribute}
    assert attrs["linear_before_reset"] == int(reset_after)
    B = next(i for i in model.graph.initializer if i.name == gru.input[3])
    B = onnx.numpy_helper.to_array(B)
    b = net.get_weights()[f"{nid}/bias"]
    np.testing.assert_array_equal(B[0, 3 * U:], b[1] if reset_after else np.zeros(3 * U))  # Rb
    sess = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    rng = np.random.default_rng(8)
    for n in (1, 37):
        x = rng.normal(size=(n, T, F)).astype(np.float32)
        (y,) = sess.run(None, {sess.get_inputs()[0].name: x})
        want = net.predict(x)
        assert y.shape == want.shape
        assert np.abs(y - want).max() < 1e-5


# ---------------------------------------------------------------- inside view steps
@pytest.mark.parametrize("return_sequences", [False, True])
@pytest.mark.parametrize("use_bias", [True, False])
def test_recurrent_steps_match_the_engine(return_sequences, use_bias):
    net, nid = gru_net(return_sequences, use_bias=use_bias)
    x = np.random.default_rng(9).normal(size=(T, F))
    trace = explain(net, x)
    s = recurrent_steps(trace, net, nid)
    assert s.reset_after and s.n.shape == (T, U)
    np.testing.assert_allclose(s.output, trace.node(nid).output, rtol=1e-10, atol=1e-12)
    prog = net.program
    prog.forward([x[None]], training=False)
    step = prog.steps[trace.node(nid).step]
    G = step.G[:, 0]
    for key, want in {"z": G[:, :U], "r": G[:, U:2 * U], "h̃": G[:, 2 * U:], "h": step.H[:, 0]}.items():
        np.testing.assert_allclose(s.rows[key], want, rtol=1e-10, atol=1e-12, err_msg=key)
    np.testing.assert_allclose(s.n, step.NR[:, 0], rtol=1e-10, atol=1e-12)
    w = net.get_weights()
    Uh = w[f"{nid}/recurrent_kernel"][:, 2 * U:]
    b = w.get(f"{nid}/bias")
    b_hh = b[1, 2 * U:] if b is not None else 0
    # nₜ = hₜ₋₁U_h + b_hh, the candidate's middle term is rₜ⊙nₜ, its bias the input row
    np.testing.assert_allclose(s.n, s.h_prev @ Uh + b_hh, rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(s.hu["h̃"], s.rows["r"] * s.n, rtol=1e-12, atol=1e-13)
    for g in s.gates:
        np.testing.assert_allclose(s.pre[g], s.xw[g] + s.hu[g] + s.bias[g], rtol=1e-12, atol=1e-12)
    if b is not None:
        np.testing.assert_allclose(s.bias["z"], b[0, :U] + b[1, :U], rtol=1e-14)
        np.testing.assert_allclose(s.bias["h̃"], b[0, 2 * U:], rtol=1e-14)
    np.testing.assert_allclose(s.h[1:], s.rows["z"][1:] * s.h[:-1] + (1 - s.rows["z"][1:]) * s.rows["h̃"][1:],
                               rtol=1e-12, atol=1e-15)
    # a plain weights dict without params: the (2, 3u) bias says which variant
    if use_bias:
        s2 = recurrent_steps(trace, w, nid, {"return_sequences": return_sequences})
        assert s2.reset_after
        np.testing.assert_allclose(s2.output, s.output, rtol=1e-14)


def test_recurrent_steps_of_the_default_gru_are_unchanged():
    net, nid = gru_net(reset_after=False)
    s = recurrent_steps(explain(net, np.ones((T, F))), net, nid)
    assert not s.reset_after and s.n is None


# ---------------------------------------------------------------- training and files
def test_trains_saves_and_loads(tmp_path):
    net, nid = gru_net(reset_after=True, dtype=np.float32, scale=0.3)
    rng = np.random.default_rng(0)
    X = rng.normal(size=(64, T, F)).astype(np.float32)
    Y = np.tanh(X.sum(axis=(1, 2)))[:, None].repeat(U, axis=1).astype(np.float32)
    before = net.evaluate(X, Y, standardized=True)["loss"]
    net.fit(X, Y, epochs=15, batch_size=16, optimizer="adam", learning_rate=0.01)
    after = net.evaluate(X, Y, standardized=True)["loss"]
    assert after < 0.7 * before
    net.save(tmp_path / "gru.ann")
    back = ad.load(tmp_path / "gru.ann")
    assert back.graph.nodes[nid].params["reset_after"] is True
    assert back.get_weights()[f"{nid}/bias"].shape == (2, 3 * U)
    np.testing.assert_array_equal(back.predict(X), net.predict(X))


def test_a_file_without_the_parameter_loads_as_before(tmp_path):
    """A file saved before reset_after existed has no such key: it loads as reset_after=False
    and predicts exactly what it did (its (3u,) bias fits that variant)."""
    net, nid = gru_net(reset_after=False, dtype=np.float32)
    x = np.random.default_rng(3).normal(size=(5, T, F)).astype(np.float32)
    want = net.predict(x)
    path = tmp_path / "new.ann"
    net.save(path)
    old = tmp_path / "old.ann"
    with zipfile.ZipFile(path) as z, zipfile.ZipFile(old, "w") as out:
        for name in z.namelist():
            data = z.read(name)
            if name == "network.json":
                doc = json.loads(data)
                node = next(n for n in doc["nodes"] if n["id"] == nid)
                del node["params"]["reset_after"]
                data = json.dumps(doc).encode()
            out.writestr(name, data)
    with zipfile.ZipFile(old) as z:
        assert "reset_after" not in z.read("network.json").decode()
        weights = np.load(io.BytesIO(z.read("weights.npz")), allow_pickle=False)
        assert weights[f"{nid}/bias"].shape == (3 * U,)
    loaded = ad.load(old)
    assert loaded.graph.nodes[nid].params["reset_after"] is False
    np.testing.assert_array_equal(loaded.predict(x), want)
