"""SimpleRNN, LSTM and GRU: gradients (BPTT), forward values against naive
per-sample references, shapes, parameter counts, errors, training and files."""

import numpy as np
import pytest

import anndesigner as ad
from anndesigner.engine.compiler import compile_graph
from anndesigner.errors import GradientError, ShapeError
from layercheck import check_accumulates, check_layer, layer_program

KINDS = ("SimpleRNN", "LSTM", "GRU")
GATES = {"SimpleRNN": 1, "LSTM": 4, "GRU": 3}


# ------------------------------------------------------------ references
def _sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def _act(name, z):
    if name == "tanh":
        return np.tanh(z)
    if name == "relu":
        return np.maximum(z, 0.0)
    if name == "sigmoid":
        return _sigmoid(z)
    if name == "softmax":
        e = np.exp(z - z.max())
        return e / e.sum()
    if name == "linear":
        return z
    raise KeyError(name)


def reference(kind, x, W, U, b, units, activation="tanh"):
    """Per-sample, per-step loops over the textbook equations: (N, T, units)."""
    N, T, _ = x.shape
    u = units
    out = np.zeros((N, T, u))
    for n in range(N):
        h = np.zeros(u)
        c = np.zeros(u)
        for t in range(T):
            xt = x[n, t]
            if kind == "SimpleRNN":
                h = _act(activation, xt @ W + h @ U + b)
            elif kind == "LSTM":
                i = _sigmoid(xt @ W[:, :u] + h @ U[:, :u] + b[:u])
                f = _sigmoid(xt @ W[:, u:2 * u] + h @ U[:, u:2 * u] + b[u:2 * u])
                g = np.tanh(xt @ W[:, 2 * u:3 * u] + h @ U[:, 2 * u:3 * u] + b[2 * u:3 * u])
                o = _sigmoid(xt @ W[:, 3 * u:] + h @ U[:, 3 * u:] + b[3 * u:])
                c = f * c + i * g
                h = o * np.tanh(c)
            else:
                z = _sigmoid(xt @ W[:, :u] + h @ U[:, :u] + b[:u])
                r = _sigmoid(xt @ W[:, u:2 * u] + h @ U[:, u:2 * u] + b[u:2 * u])
                hh = np.tanh(xt @ W[:, 2 * u:] + (r * h) @ U[:, 2 * u:] + b[2 * u:])
                h = z * h + (1 - z) * hh  # Keras: z keeps the old state
            out[n, t] = h
    return out


def seq_graph(kind, T=5, F=3, **params):
    g = ad.Graph()
    x = g.add_node("Input", shape=[T, F])
    n = g.add_node(kind, **params)
    g.connect(x, n)
    return g, n.id


# ------------------------------------------------------------- gradients
# The default recurrent initializer (orthogonal) gives column-major arrays, which
# the finite-difference checker cannot perturb in place; glorot gives row-major.
GLOROT = {"recurrent_initializer": "glorot_uniform"}


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("return_sequences", [False, True])
@pytest.mark.parametrize("F,units", [(3, 4), (1, 2)])
def test_gradients_match_finite_differences(kind, return_sequences, F, units):
    check_layer(kind, (4, F), batch=3, units=units, return_sequences=return_sequences, **GLOROT)


@pytest.mark.parametrize("kind", KINDS)
def test_gradients_without_bias_and_with_one_step(kind):
    check_layer(kind, (4, 2), units=3, use_bias=False, return_sequences=True, **GLOROT)
    check_layer(kind, (1, 2), units=3, **GLOROT)


@pytest.mark.parametrize("activation", ["relu", "sigmoid", "softmax", "linear", "elu"])
def test_simple_rnn_gradients_with_other_activations(activation):
    check_layer("SimpleRNN", (4, 2), units=3, activation=activation, return_sequences=True, **GLOROT)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("return_sequences", [False, True])
def test_gradients_accumulate(kind, return_sequences):
    check_accumulates(kind, (4, 3), units=4, return_sequences=return_sequences)


# ---------------------------------------------------------------- values
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("return_sequences", [False, True])
def test_forward_matches_a_naive_reference(kind, return_sequences):
    T, F, u = 5, 3, 4
    _, _, _, step = layer_program(kind, (T, F), units=u, return_sequences=return_sequences)
    rng = np.random.default_rng(1)
    W, U, b = (p.value for p in step.params)
    b[...] = rng.normal(scale=0.5, size=b.shape)  # the bias must count too
    x = rng.normal(size=(3, T, F))
    want = reference(kind, x, W, U, b, u)
    got = step.forward([x], False)
    np.testing.assert_allclose(got, want if return_sequences else want[:, -1], rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("activation", ["relu", "softmax"])
def test_simple_rnn_forward_with_other_activations(activation):
    _, _, _, step = layer_program("SimpleRNN", (4, 2), units=3, activation=activation, return_sequences=True)
    W, U, b = (p.value for p in step.params)
    b[...] = 0.3
    x = np.random.default_rng(2).normal(size=(2, 4, 2))
    np.testing.assert_allclose(step.forward([x], False), reference("SimpleRNN", x, W, U, b, 3, activation),
                               rtol=1e-12, atol=1e-12)


def test_float32_in_float32_out():
    g, n = seq_graph("LSTM", units=4)
    y = g.add_node("Output", units=4, activation="linear", loss="mse", use_weights=False)
    g.connect(n, y)
    prog = compile_graph(g, seed=0, dtype=np.float32)
    step = next(s for s in prog.steps if n in s.node_ids)
    out = step.forward([np.ones((2, 5, 3), np.float32)], True)
    assert out.dtype == np.float32
    (gx,) = step.backward(np.ones_like(out), [True])
    assert gx.dtype == np.float32 and all(p.grad.dtype == np.float32 for p in step.params)


# ------------------------------------------------- shapes, counts, errors
@pytest.mark.parametrize("kind", KINDS)
def test_parameter_counts_follow_the_textbook(kind):
    F, u = 3, 5
    g, n = seq_graph(kind, F=F, units=u)
    assert g.analyze().param_counts[n] == GATES[kind] * u * (F + u + 1)
    g2, n2 = seq_graph(kind, F=F, units=u, use_bias=False)
    assert g2.analyze().param_counts[n2] == GATES[kind] * u * (F + u)
    shapes = {w.name: w.shape for w in g.analyze().weights[n]}
    k = GATES[kind]
    assert shapes == {"kernel": (F, k * u), "recurrent_kernel": (u, k * u), "bias": (k * u,)}


@pytest.mark.parametrize("kind", KINDS)
def test_inferred_shapes(kind):
    g, n = seq_graph(kind, T=7, F=2, units=6)
    assert g.analyze().shapes[n] == (6,)
    g, n = seq_graph(kind, T=7, F=2, units=6, return_sequences=True)
    assert g.analyze().shapes[n] == (7, 6)


def test_node_types_are_described():
    from anndesigner.graph import types_recurrent as tr

    assert [t.type_id for t in tr.TYPES] == list(KINDS)
    assert tr.SIMPLE_RNN.title == "Simple RNN"
    for t in tr.TYPES:
        assert t.category == "Sequence" and "Return sequences" in [p.label for p in t.params]
        assert "hₜ" in t.description
    assert "zₜ⊙hₜ₋₁ + (1 − zₜ)⊙h̃ₜ" in tr.GRU.description and "reset_after=False" in tr.GRU.description
    assert tr.LSTM.param("unit_forget_bias").default is True
    assert tr.SIMPLE_RNN.param("recurrent_initializer").default == "orthogonal"


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("shape", [[8, 8, 1], [16]])
def test_input_that_is_not_a_sequence_names_the_node(kind, shape):
    g = ad.Graph()
    x = g.add_node("Input", shape=shape)
    r = g.add_node(kind)
    g.connect(x, r, check_shapes=False)
    (err,) = g.analyze().errors
    assert isinstance(err, ShapeError) and err.node_id == r.id
    text = str(err)
    assert r.id in text and "(time, features)" in text and "Reshape" in text
    assert "(" + ", ".join(map(str, shape)) + ")" in text


def initial_weight(kind, name, **params):
    g, n = seq_graph(kind, **params)
    y = g.add_node("Output", units=1, activation="linear", loss="mse")
    g.connect(n, y)
    return ad.Network(g, seed=0).get_weights()[f"{n}/{name}"]


def test_lstm_bias_starts_with_ones_on_the_forget_gate():
    u = 3
    b = initial_weight("LSTM", "bias", units=u)
    np.testing.assert_array_equal(b, np.r_[np.zeros(u), np.ones(u), np.zeros(2 * u)])
    np.testing.assert_array_equal(initial_weight("LSTM", "bias", units=u, unit_forget_bias=False), np.zeros(4 * u))


def test_recurrent_kernel_starts_orthogonal():
    U = initial_weight("SimpleRNN", "recurrent_kernel", units=6)
    np.testing.assert_allclose(U @ U.T, np.eye(6), atol=1e-5)


def test_step_activation_cannot_be_trained():
    g, n = seq_graph("SimpleRNN", units=3, activation="step")
    y = g.add_node("Output", units=1, activation="linear", loss="mse")
    g.connect(n, y)
    net = ad.Network(g, seed=0)
    with pytest.raises(GradientError):
        net.fit(np.zeros((4, 5, 3)), np.zeros((4, 1)), epochs=1)


# ------------------------------------------------------ training, files
def _sine_task(T=6):
    s = np.sin(np.linspace(0, 12 * np.pi, 300)).astype(np.float32)
    idx = np.arange(len(s) - T)
    X = np.stack([s[i:i + T] for i in idx])[..., None]
    return X, s[idx + T][:, None]


def _sine_net(kind, T=6):
    g = ad.Graph()
    x = g.add_node("Input", shape=[T, 1])
    r = g.add_node(kind, units=8)
    y = g.add_node("Output", units=1, activation="linear", loss="mse")
    g.connect(x, r)
    g.connect(r, y)
    return ad.Network(g, seed=0)


@pytest.mark.parametrize("kind", KINDS)
def test_learns_the_next_value_of_a_sine(kind):
    X, Y = _sine_task()
    net = _sine_net(kind)
    loss = net.fit(X, Y, epochs=30, batch_size=32, optimizer="adam", learning_rate=0.01)["loss"]
    assert loss[-1] < loss[0] / 20 and loss[-1] < 0.01


@pytest.mark.parametrize("kind", KINDS)
def test_file_round_trip_predicts_the_same(kind, tmp_path):
    X, Y = _sine_task()
    net = _sine_net(kind)
    net.fit(X, Y, epochs=2, batch_size=32, optimizer="adam", learning_rate=0.01)
    net.save(tmp_path / "r.ann")
    back = ad.load(tmp_path / "r.ann")
    np.testing.assert_array_equal(back.predict(X), net.predict(X))


@pytest.mark.parametrize("type_id", ["SimpleRNN", "LSTM", "GRU"])
def test_gradient_with_the_default_orthogonal_recurrent_kernel(type_id):
    check_layer(type_id, (4, 3), units=3, return_sequences=True)
