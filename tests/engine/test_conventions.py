"""Conventions shared with Keras, PyTorch and ONNX (issue 13, "Same numbers
everywhere"): the GRU's update gate, exact and tanh-approximate GELU, and the
erf they need."""

import math

import numpy as np
import pytest

import anndesigner as ad
from anndesigner.engine import activations as act
from layercheck import layer_program


def _sigmoid(a):
    return 1.0 / (1.0 + np.exp(-a))


def keras_gru(x, kernel, recurrent_kernel, bias, units):
    """Keras's GRUCell.call with reset_after=False, activation tanh and
    recurrent_activation sigmoid, written out step by step: (N, T, units)."""
    u = units
    N, T, _ = x.shape
    h_tm1 = np.zeros((N, u))
    out = np.zeros((N, T, u))
    for t in range(T):
        matrix_x = x[:, t] @ kernel + bias
        x_z, x_r, x_h = matrix_x[:, :u], matrix_x[:, u:2 * u], matrix_x[:, 2 * u:]
        z = _sigmoid(x_z + h_tm1 @ recurrent_kernel[:, :u])
        r = _sigmoid(x_r + h_tm1 @ recurrent_kernel[:, u:2 * u])
        hh = np.tanh(x_h + (r * h_tm1) @ recurrent_kernel[:, 2 * u:])
        h_tm1 = z * h_tm1 + (1 - z) * hh
        out[:, t] = h_tm1
    return out


def gru_net(T, F, units, dtype="float64"):
    g = ad.Graph()
    x = g.add_node("Input", shape=[T, F])
    r = g.add_node("GRU", units=units, return_sequences=True)
    y = g.add_node("Output", units=units, activation="linear", loss="mse", use_weights=False)
    g.connect(x, r)
    g.connect(r, y)
    return ad.Network(g, seed=3, dtype=dtype), r.id


def random_gru_weights(net, nid, seed=0):
    rng = np.random.default_rng(seed)
    w = {k: rng.normal(scale=0.6, size=v.shape) for k, v in net.get_weights().items()}
    net.set_weights(w)
    return w[f"{nid}/kernel"], w[f"{nid}/recurrent_kernel"], w[f"{nid}/bias"]


# --------------------------------------------------------------------- GRU
def test_the_gru_is_keras_gru_with_reset_after_false():
    T, F, u = 6, 3, 4
    net, nid = gru_net(T, F, u)
    W, U, b = random_gru_weights(net, nid)
    x = np.random.default_rng(1).normal(size=(5, T, F))
    np.testing.assert_allclose(net.predict(x), keras_gru(x, W, U, b, u), rtol=1e-12, atol=1e-13)


def test_an_update_gate_near_one_keeps_the_old_state():
    """z ≈ 1 keeps hₜ₋₁ (which starts at 0), z ≈ 0 takes the candidate h̃."""
    T, F, u = 4, 2, 3
    x = np.random.default_rng(2).normal(size=(3, T, F))
    for z_bias, keeps in ((30.0, True), (-30.0, False)):
        _, _, _, step = layer_program("GRU", (T, F), units=u, return_sequences=True)
        W, U, b = (p.value for p in step.params)
        b[...] = 0
        b[:u] = z_bias
        h = step.forward([x], False)
        if keeps:
            np.testing.assert_allclose(h, 0, atol=1e-12)
        else:  # h = h̃ = tanh(xW_h + (r⊙hₜ₋₁)U_h), with r = σ(xW_r + hₜ₋₁U_r)
            np.testing.assert_allclose(h, keras_gru(x, W, U, b, u), rtol=1e-12, atol=1e-12)
            assert np.abs(h).min() > 1e-4


def _torch_gru(W, U, b, units, b_split, torch):
    """A torch.nn.GRU with our weights: PyTorch stacks the gates r, z, n as rows
    (weight_ih (3u, F) = [W_r; W_z; W_n]ᵀ) and splits the bias into b_ih + b_hh."""
    u = units
    order = (slice(u, 2 * u), slice(0, u), slice(2 * u, 3 * u))  # ours z, r, h̃ -> theirs r, z, n
    gru = torch.nn.GRU(W.shape[0], u, batch_first=True, dtype=torch.float64)
    with torch.no_grad():
        gru.weight_ih_l0.copy_(torch.from_numpy(np.concatenate([W[:, s].T for s in order])))
        gru.weight_hh_l0.copy_(torch.from_numpy(np.concatenate([U[:, s].T for s in order])))
        b_ih = np.concatenate([b[s] for s in order])
        b_hh = np.zeros(3 * u)
        b_hh[:2 * u] = b_split * b_ih[:2 * u]  # r and z may take their bias from either side
        b_ih[:2 * u] -= b_hh[:2 * u]
        gru.bias_ih_l0.copy_(torch.from_numpy(b_ih))
        gru.bias_hh_l0.copy_(torch.from_numpy(b_hh))  # b_hn = 0: PyTorch multiplies it by r
    return gru


def test_the_gru_matches_torch_where_the_two_variants_coincide():
    """PyTorch's nn.GRU is the reset_after=True variant, n = tanh(xW_n + b_in +
    r⊙(hU_n + b_hn)); ours is (r⊙h)U_n. Both agree when U_n is diagonal (then
    r⊙(hU_n) = (r⊙h)U_n) and b_hn = 0, which pins the gate order and z's sense;
    with a full U_n they differ."""
    torch = pytest.importorskip("torch", reason="PyTorch is not installed (the interop extra)")
    T, F, u = 7, 3, 4
    net, nid = gru_net(T, F, u)
    W, U, b = random_gru_weights(net, nid, seed=4)
    U = U.copy()
    U[:, 2 * u:] = np.diag(np.random.default_rng(5).normal(size=u))
    net.set_weights({f"{nid}/recurrent_kernel": U})
    x = np.random.default_rng(6).normal(size=(5, T, F))
    ours = net.predict(x)
    with torch.no_grad():
        theirs = _torch_gru(W, U, b, u, 0.3, torch)(torch.from_numpy(x))[0].numpy()
    np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-12)
    # a full U_n: the variants differ (an export to nn.GRU cannot be exact in general)
    U2 = U.copy()
    U2[:, 2 * u:] = np.random.default_rng(7).normal(size=(u, u))
    net.set_weights({f"{nid}/recurrent_kernel": U2})
    with torch.no_grad():
        theirs = _torch_gru(W, U2, b, u, 0.0, torch)(torch.from_numpy(x))[0].numpy()
    assert np.abs(net.predict(x) - theirs).max() > 1e-3


# --------------------------------------------------------------------- erf
def test_erf_is_within_1e_12_of_math_erf_on_minus_10_to_10():
    xs = np.linspace(-10, 10, 200_001)
    xs = np.concatenate([xs, [0.46875, -0.46875, np.nextafter(0.46875, 1), 4.0, 5.9999, 6.0, 6.5, 1e-300, -1e-12]])
    want = np.array([math.erf(v) for v in xs])
    got = act.erf(xs)
    assert got.dtype == np.float64 and got.shape == xs.shape
    assert np.abs(got - want).max() <= 1e-12
    # near 0 it is accurate relative to erf itself, not only absolutely
    tiny = np.array([1e-300, 1e-20, -3e-9, 1e-4])
    np.testing.assert_allclose(act.erf(tiny), [math.erf(v) for v in tiny], rtol=1e-15)


def test_erf_at_the_edges_keeps_shape_dtype_and_nan():
    got = act.erf(np.array([[np.nan, np.inf], [-np.inf, 0.0]]))
    assert np.isnan(got[0, 0]) and got[0, 1] == 1.0 and got[1, 0] == -1.0 and got[1, 1] == 0.0
    x32 = np.linspace(-3, 3, 50, dtype=np.float32)
    got32 = act.erf(x32)
    assert got32.dtype == np.float32
    np.testing.assert_allclose(got32, [math.erf(v) for v in x32.astype(float)], atol=1e-7)
    assert act.erf(np.zeros((0, 3))).shape == (0, 3)
    big = np.random.default_rng(0).uniform(-8, 8, 40_000)  # more than one block
    np.testing.assert_allclose(act.erf(big), [math.erf(v) for v in big], rtol=0, atol=1e-15)


# -------------------------------------------------------------------- GELU
def test_gelu_is_exact_and_gelu_tanh_is_the_approximation():
    xs = np.linspace(-9, 9, 3001)
    exact = np.array([0.5 * v * (1 + math.erf(v / math.sqrt(2))) for v in xs])
    c = math.sqrt(2 / math.pi)
    approx = np.array([0.5 * v * (1 + math.tanh(c * (v + 0.044715 * v ** 3))) for v in xs])
    np.testing.assert_allclose(act.forward("gelu", xs.copy()), exact, rtol=1e-14, atol=1e-15)
    np.testing.assert_allclose(act.forward("gelu_tanh", xs.copy()), approx, rtol=1e-14, atol=1e-15)
    assert np.abs(exact - approx).max() > 1e-4  # two different functions
    np.testing.assert_array_equal(act.curve("gelu", xs), act.forward("gelu", xs.copy()))
    assert act.NAMES.index("gelu_tanh") == act.NAMES.index("gelu") + 1
    x32 = xs.astype(np.float32)
    assert act.forward("gelu", x32).dtype == np.float32 and act.forward("gelu_tanh", x32).dtype == np.float32


@pytest.mark.parametrize("name", ["gelu", "gelu_tanh"])
def test_gelu_derivatives_match_central_differences(name):
    xs = np.concatenate([np.linspace(-8, 8, 801), [0.0, 1e-9, -0.3, 0.46875 * math.sqrt(2)]])
    g = np.random.default_rng(0).normal(size=xs.shape)
    y = act.forward(name, xs.copy())
    got = act.backward(name, xs.copy(), y, g.copy())
    eps = 1e-6
    fd = (act.forward(name, xs + eps) - act.forward(name, xs - eps)) / (2 * eps)
    np.testing.assert_allclose(got, g * fd, rtol=1e-7, atol=1e-8)


@pytest.mark.parametrize("name,approximate", [("gelu", "none"), ("gelu_tanh", "tanh")])
def test_gelu_equals_torch(name, approximate):
    torch = pytest.importorskip("torch", reason="PyTorch is not installed (the interop extra)")
    xs = np.linspace(-10, 10, 4001)
    t = torch.from_numpy(xs.copy()).requires_grad_(True)
    y = torch.nn.functional.gelu(t, approximate=approximate)
    g = np.random.default_rng(1).normal(size=xs.shape)
    y.backward(torch.from_numpy(g))
    ours = act.forward(name, xs.copy())
    np.testing.assert_allclose(ours, y.detach().numpy(), rtol=1e-13, atol=1e-14)
    np.testing.assert_allclose(act.backward(name, xs.copy(), ours, g.copy()), t.grad.numpy(), rtol=1e-12, atol=1e-13)


def test_a_dense_layer_offers_both_gelus():
    from anndesigner.graph import ACTIVATIONS, BUILTIN_REGISTRY

    assert {"gelu", "gelu_tanh"} <= set(ACTIVATIONS)
    for t in ("Dense", "Neuron", "Activation", "Output", "Conv2D", "SimpleRNN"):
        assert {"gelu", "gelu_tanh"} <= set(BUILTIN_REGISTRY.get(t).param("activation").choices), t
