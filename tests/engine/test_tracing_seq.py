"""attention_steps and recurrent_steps: the intermediate arrays of a sequence
layer for one traced sample, checked against the engine (the trace's output,
the steps' own cached arrays after a forward pass) on the samples and on small
graphs of every cell type."""

from pathlib import Path

import numpy as np
import pytest

import anndesigner as ad
from anndesigner.data import load_source
from anndesigner.engine import explain
from anndesigner.engine.tracing_seq import GATE_NAMES, attention_steps, recurrent_steps
from anndesigner.errors import AnnError

SAMPLES = Path(__file__).resolve().parents[2] / "samples"


def _engine_step(net, trace, node_id, x):
    """Run the network's own program forward on the sample; return the node's step (its caches filled)."""
    prog = net.program
    prog.forward([np.asarray(x, prog.dtype)[None]], training=False)
    return prog.steps[trace.node(node_id).step]


def _randomize(net, rng, scale=0.8):
    w = {k: rng.normal(scale=scale, size=v.shape) for k, v in net.get_weights().items()}
    net.set_weights(w)


# ---------------------------------------------------------------- attention
def _attention_net(T=5, D=4, heads=2, key_dim=3, causal=False, use_bias=True, seed=1):
    g = ad.Graph()
    x = g.add_node("Input", shape=[T, D])
    a = g.add_node("SelfAttention", heads=heads, key_dim=key_dim, causal=causal, use_bias=use_bias)
    y = g.add_node("Output", units=1, activation="linear", loss="mse")
    g.connect(x, a)
    f = g.add_node("Flatten")
    g.connect(a, f)
    g.connect(f, y)
    net = ad.Network(g, seed=seed, dtype=np.float64)
    _randomize(net, np.random.default_rng(seed))
    return net, a.id


def _check_attention(net, nid, x, y=None, rtol=1e-10, atol=1e-12):
    trace = explain(net, x, y)
    s = attention_steps(trace, net, nid)
    np.testing.assert_allclose(s.output, trace.node(nid).output, rtol=rtol, atol=atol)
    step = _engine_step(net, trace, nid, x)
    assert step.attention.shape == (1, s.n_heads, s.T, s.T)
    for h, hs in enumerate(s.heads):
        np.testing.assert_allclose(hs.weights, step.attention[0, h], rtol=rtol, atol=atol)
        np.testing.assert_allclose(hs.weights.sum(axis=1), 1, rtol=1e-6)
        # each stage is the one before it, done as the formula says
        np.testing.assert_allclose(hs.scores, hs.q @ hs.k.T, rtol=1e-6, atol=1e-9)
        np.testing.assert_allclose(hs.scaled[~s.mask], hs.scores[~s.mask] / np.sqrt(s.key_dim), rtol=1e-6)
        assert np.all(np.isneginf(hs.masked[s.mask])) and np.all(hs.weights[s.mask] == 0)
        np.testing.assert_allclose(hs.output, hs.weights @ hs.v, rtol=1e-6, atol=1e-9)
        np.testing.assert_allclose(s.concat[:, hs.columns], hs.output)
    return s, trace


@pytest.mark.parametrize("heads,key_dim", [(1, 4), (2, 3), (3, 2)])
@pytest.mark.parametrize("causal", [False, True])
@pytest.mark.parametrize("use_bias", [True, False])
def test_attention_steps_match_the_engine(heads, key_dim, causal, use_bias):
    net, nid = _attention_net(heads=heads, key_dim=key_dim, causal=causal, use_bias=use_bias)
    x = np.random.default_rng(7).normal(size=(5, 4))
    s, _ = _check_attention(net, nid, x, [0.5])
    assert s.n_heads == heads and len(s.heads) == heads and s.key_dim == key_dim
    assert s.causal is causal
    assert s.mask.sum() == (5 * 4 // 2 if causal else 0)
    if causal:
        assert s.mask[0, 1] and not s.mask[1, 0] and not s.mask.diagonal().any()


def test_attention_heads_split_the_kernel_columns():
    """Head h uses columns h·key_dim … (h+1)·key_dim − 1 of W_Q, W_K, W_V, as the engine's reshape does."""
    net, nid = _attention_net(heads=2, key_dim=3)
    x = np.random.default_rng(8).normal(size=(5, 4))
    s = attention_steps(explain(net, x), net, nid)
    w = net.get_weights()
    np.testing.assert_allclose(s.heads[1].q, x @ w[f"{nid}/query_kernel"][:, 3:6] + w[f"{nid}/query_bias"][3:6])
    np.testing.assert_allclose(s.heads[0].v, x @ w[f"{nid}/value_kernel"][:, :3] + w[f"{nid}/value_bias"][:3])


def test_attention_steps_on_the_tiny_transformer_sample():
    net = ad.Network.load(SAMPLES / "tiny-transformer.ann")
    data = load_source(net.data_source)
    for i in (0, 3):
        x = data.X[i]
        trace = explain(net, x, data.Y[i])
        s = attention_steps(trace, net, "selfattention_1")
        assert s.output.dtype == np.float32 and (s.T, s.D, s.n_heads, s.key_dim) == (10, 16, 2, 8)
        np.testing.assert_allclose(s.output, trace.node("selfattention_1").output, rtol=1e-4, atol=1e-6)
        step = _engine_step(net, trace, "selfattention_1", trace.node("input_1").output)
        for h, hs in enumerate(s.heads):
            np.testing.assert_allclose(hs.weights, step.attention[0, h], rtol=1e-4, atol=1e-6)
            np.testing.assert_allclose(hs.weights.sum(axis=1), 1, rtol=1e-5)
        # the same from a plain weight dict and the node's parameters
        s2 = attention_steps(trace, net.get_weights(), "selfattention_1", net.graph.nodes["selfattention_1"].params)
        np.testing.assert_array_equal(s2.output, s.output)


def test_attention_steps_errors_name_the_problem():
    net, nid = _attention_net()
    trace = explain(net, np.zeros((5, 4)))
    with pytest.raises(AnnError, match="no node 'nope'"):
        attention_steps(trace, net, "nope")
    with pytest.raises(AnnError, match="parameters are needed"):
        attention_steps(trace, net.get_weights(), nid)
    with pytest.raises(AnnError, match="Input, not a SelfAttention"):
        attention_steps(trace, net, trace.nodes[0].node_id)
    w = {k: v for k, v in net.get_weights().items() if not k.endswith("key_kernel")}
    with pytest.raises(AnnError, match="key_kernel"):
        attention_steps(trace, w, nid, net.graph.nodes[nid].params)


# ---------------------------------------------------------------- recurrent
def _recurrent_net(kind, T=5, F=3, units=4, return_sequences=False, seed=2, **params):
    g = ad.Graph()
    x = g.add_node("Input", shape=[T, F])
    r = g.add_node(kind, units=units, return_sequences=return_sequences, **params)
    g.connect(x, r)
    last = r
    if return_sequences:
        last = g.add_node("Flatten")
        g.connect(r, last)
    y = g.add_node("Output", units=1, activation="linear", loss="mse")
    g.connect(last, y)
    net = ad.Network(g, seed=seed, dtype=np.float64)
    _randomize(net, np.random.default_rng(seed))
    return net, r.id


def _engine_states(step, kind):
    """The engine's own per-step arrays (time-major, batch of one) by row key."""
    u = step.units
    if kind == "SimpleRNN":
        out = {"h": step.H[:, 0]}
        if step.Z is not None:
            out["z_rnn"] = step.Z[:, 0]
        return out
    if kind == "LSTM":
        G = step.G[:, 0]
        return {"i": G[:, :u], "f": G[:, u:2 * u], "g": G[:, 2 * u:3 * u], "o": G[:, 3 * u:],
                "c": step.C[:, 0], "tanh_c": step.TC[:, 0], "h": step.H[:, 0]}
    G = step.G[:, 0]
    return {"z": G[:, :u], "r": G[:, u:2 * u], "h̃": G[:, 2 * u:], "h": step.H[:, 0]}


@pytest.mark.parametrize("kind,extra", [("SimpleRNN", {"activation": "tanh"}), ("SimpleRNN", {"activation": "relu"}),
                                        ("LSTM", {}), ("GRU", {}), ("GRU", {"use_bias": False})])
@pytest.mark.parametrize("return_sequences", [False, True])
def test_recurrent_steps_match_the_engine(kind, extra, return_sequences):
    net, nid = _recurrent_net(kind, return_sequences=return_sequences, **extra)
    x = np.random.default_rng(9).normal(size=(5, 3))
    trace = explain(net, x, [0.25])
    s = recurrent_steps(trace, net, nid)
    assert (s.kind, s.T, s.F, s.units, s.return_sequences) == (kind, 5, 3, 4, return_sequences)
    assert s.output.shape == ((5, 4) if return_sequences else (4,))
    np.testing.assert_allclose(s.output, trace.node(nid).output, rtol=1e-10, atol=1e-12)
    step = _engine_step(net, trace, nid, x)
    for key, want in _engine_states(step, kind).items():
        np.testing.assert_allclose(s.rows[key], want, rtol=1e-10, atol=1e-12, err_msg=key)
    # the pieces of each pre-activation add up; h₀ = 0; hₜ₋₁ is the row before
    for g in s.gates:
        np.testing.assert_allclose(s.pre[g], s.xw[g] + s.hu[g] + s.bias[g], rtol=1e-12, atol=1e-12)
    assert not s.h_prev[0].any() and not s.hu[s.gates[0]][0].any()
    np.testing.assert_array_equal(s.h_prev[1:], s.h[:-1])
    assert list(s.rows)[0] == "x" and list(s.rows)[-1] == "h"
    if kind == "LSTM":
        np.testing.assert_allclose(s.rows["c"][1:], s.rows["f"][1:] * s.rows["c"][:-1]
                                   + s.rows["i"][1:] * s.rows["g"][1:], rtol=1e-12)
    if kind == "GRU":
        # Keras's convention: z keeps the old state (h₀ = 0, so h at t = 0 is (1 − z)⊙h̃)
        np.testing.assert_allclose(s.h[1:], s.rows["z"][1:] * s.h[:-1] + (1 - s.rows["z"][1:]) * s.rows["h̃"][1:],
                                   rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(s.h[0], (1 - s.rows["z"][0]) * s.rows["h̃"][0], rtol=1e-12, atol=1e-15)


def test_recurrent_gate_blocks_follow_the_kernel_columns():
    """LSTM columns are i, f, g, o (Keras): the forget gate is σ of the second block."""
    net, nid = _recurrent_net("LSTM", units=3)
    x = np.random.default_rng(10).normal(size=(5, 3))
    s = recurrent_steps(explain(net, x), net, nid)
    w = net.get_weights()
    W, U, b = w[f"{nid}/kernel"], w[f"{nid}/recurrent_kernel"], w[f"{nid}/bias"]
    t = 2
    f = 1 / (1 + np.exp(-(x[t] @ W[:, 3:6] + s.h[t - 1] @ U[:, 3:6] + b[3:6])))
    np.testing.assert_allclose(s.rows["f"][t], f, rtol=1e-10)
    assert GATE_NAMES["LSTM"] == ("i", "f", "g", "o") and GATE_NAMES["GRU"] == ("z", "r", "h̃")


def test_recurrent_steps_on_the_sine_lstm_sample():
    net = ad.Network.load(SAMPLES / "sine-lstm.ann")
    data = load_source(net.data_source)
    x = data.X[0]
    trace = explain(net, x, data.Y[0])
    s = recurrent_steps(trace, net, "lstm_1")
    assert (s.kind, s.T, s.units, s.return_sequences) == ("LSTM", 20, 32, False)
    np.testing.assert_allclose(s.output, trace.node("lstm_1").output, rtol=1e-4, atol=1e-6)
    step = _engine_step(net, trace, "lstm_1", trace.node("input_1").output)
    for key, want in _engine_states(step, "LSTM").items():
        np.testing.assert_allclose(s.rows[key], want, rtol=1e-4, atol=1e-6, err_msg=key)
    # a plain weight dict works too (units from the recurrent kernel, return_sequences from the output)
    s2 = recurrent_steps(trace, net.get_weights(), "lstm_1")
    np.testing.assert_array_equal(s2.output, s.output)


def test_recurrent_steps_errors_name_the_problem():
    net, nid = _recurrent_net("GRU")
    trace = explain(net, np.zeros((5, 3)))
    with pytest.raises(AnnError, match="Output, not one of SimpleRNN, LSTM, GRU"):
        recurrent_steps(trace, net, trace.nodes[-1].node_id)
    w = net.get_weights()
    w[f"{nid}/kernel"] = w[f"{nid}/kernel"][:, :4]
    with pytest.raises(AnnError, match="do not fit a GRU of 4 units"):
        recurrent_steps(trace, w, nid)
