import math

import numpy as np
import pytest

import anndesigner as ad
from anndesigner.errors import DataError, ShapeError
from layercheck import check_accumulates, check_layer, layer_program


def _single(type_id, in_shape, **params):
    g = ad.Graph()
    x = g.add_node("Input", shape=list(in_shape))
    n = g.add_node(type_id, **params)
    g.connect(x, n, check_shapes=False)
    return g, n.id


def _naive_attention(x, w, heads, key_dim, causal):
    """One sample, one head, one query position at a time."""
    n, t, d = x.shape
    y = np.zeros((n, t, d))
    att = np.zeros((n, heads, t, t))
    for s in range(n):
        heads_out = []
        for h in range(heads):
            cols = slice(h * key_dim, (h + 1) * key_dim)
            q = x[s] @ w["query_kernel"][:, cols] + w["query_bias"][cols]
            k = x[s] @ w["key_kernel"][:, cols] + w["key_bias"][cols]
            v = x[s] @ w["value_kernel"][:, cols] + w["value_bias"][cols]
            o = np.zeros((t, key_dim))
            for i in range(t):
                seen = range(i + 1) if causal else range(t)
                scores = [float(q[i] @ k[j]) / math.sqrt(key_dim) for j in seen]
                e = [math.exp(sc - max(scores)) for sc in scores]
                for j, ej in zip(seen, e):
                    att[s, h, i, j] = ej / sum(e)
                    o[i] += att[s, h, i, j] * v[j]
            heads_out.append(o)
        y[s] = np.concatenate(heads_out, axis=1) @ w["output_kernel"] + w["output_bias"]
    return y, att


def _randomize(prog, n, rng):
    """Give every weight of node ``n`` random values (biases included); return them."""
    w = {}
    for name in prog.weight_names():
        if name.startswith(n + "/"):
            short = name.split("/", 1)[1]
            w[short] = rng.normal(size=prog.weight_shape(name))
            prog.set_weight(name, w[short])
    return w


# ---------------------------------------------------------------- Embedding
def test_embedding_weight_gradient_with_repeated_tokens():
    x = np.array([[1, 3, 1, 1], [0, 4, 4, 2]], np.float64)  # token 1 three times, 4 twice
    step = check_layer("Embedding", (4,), x=x, input_grad=False, input_dim=5, output_dim=3)
    assert step.backward(np.ones((2, 4, 3)), [True]) == [None]  # token ids get no gradient
    check_accumulates("Embedding", (4,), x=x, input_dim=5, output_dim=3)


def test_embedding_looks_up_rows_and_takes_t_by_1_input():
    g, n, prog, step = layer_program("Embedding", (3, 1), input_dim=6, output_dim=2)
    assert g.analyze().shapes[n] == (3, 2)
    E = prog.get_weight(f"{n}/embeddings")
    x = np.array([[5, 0, 2], [2, 2, 1]], np.float64)
    y = step.forward([x[..., None]], False)
    for s in range(2):
        for t in range(3):
            np.testing.assert_array_equal(y[s, t], E[int(x[s, t])])
    check_layer("Embedding", (3, 1), x=x[..., None], input_grad=False, input_dim=6, output_dim=2)


@pytest.mark.parametrize("bad,shown", [(7, "7"), (-1, "-1"), (2.5, "2.5"), (np.nan, "nan")])
def test_embedding_rejects_bad_token_ids(bad, shown):
    g, n, prog, step = layer_program("Embedding", (3,), input_dim=7, output_dim=2)
    x = np.array([[1.0, bad, 2.0]])
    with pytest.raises(DataError) as info:
        step.forward([x], True)
    msg = str(info.value)
    assert n in msg and shown in msg and "0 to 6" in msg


def test_embedding_bad_token_stops_fit_with_a_data_error():
    g = ad.Graph()
    x = g.add_node("Input", shape=[3])
    e = g.add_node("Embedding", input_dim=4, output_dim=2)
    f = g.add_node("Flatten")
    o = g.add_node("Output", units=1, activation="sigmoid", loss="binary_crossentropy")
    for u, v in ((x, e), (e, f), (f, o)):
        g.connect(u, v)
    net = ad.Network(g, seed=0)
    with pytest.raises(DataError, match=e.id):
        net.fit(np.array([[0, 1, 9], [1, 2, 3]], np.float32), np.zeros((2, 1), np.float32), epochs=1)


def test_embedding_node_type():
    g, n = _single("Embedding", (12,), input_dim=100, output_dim=16)
    a = g.analyze()
    assert a.shapes[n] == (12, 16) and a.param_counts[n] == 1600
    (w,) = a.weights[n]
    assert (w.name, w.shape, w.initializer, w.regularize) == ("embeddings", (100, 16), "uniform", True)
    t = g.registry.get("Embedding")
    assert t.category == "Sequence"
    assert t.defaults() == {"input_dim": 10, "output_dim": 8, "embeddings_initializer": "uniform"}
    g, n = _single("Embedding", (12, 3))
    (err,) = g.analyze().errors
    assert isinstance(err, ShapeError) and err.node_id == n and "(12, 3)" in str(err)


# ------------------------------------------------------- PositionalEncoding
def test_positional_encoding_gradients():
    check_layer("PositionalEncoding", (4, 5))
    step = check_layer("PositionalEncoding", (4, 3), kind="learned")
    assert [p.name.split("/")[1] for p in step.params] == ["positions"]
    check_accumulates("PositionalEncoding", (4, 3), kind="learned", batch=3)


@pytest.mark.parametrize("d", [4, 5])
def test_sinusoidal_values_match_the_formula(d):
    g, n, prog, step = layer_program("PositionalEncoding", (6, d))
    x = np.random.default_rng(0).normal(size=(2, 6, d))
    p = step.forward([x], True) - x
    for t in range(6):
        for i in range(d):
            angle = t / 10000 ** (2 * (i // 2) / d)
            want = math.sin(angle) if i % 2 == 0 else math.cos(angle)
            assert p[0, t, i] == pytest.approx(want, abs=1e-12)
            assert p[1, t, i] == pytest.approx(want, abs=1e-12)


def test_learned_positions_are_added():
    g, n, prog, step = layer_program("PositionalEncoding", (3, 2), kind="learned")
    P = prog.get_weight(f"{n}/positions")
    assert P.shape == (3, 2) and P.std() < 0.2  # "normal": small random values
    x = np.random.default_rng(1).normal(size=(4, 3, 2))
    np.testing.assert_array_equal(step.forward([x], False), x + P)


def test_positional_encoding_node_type():
    g, n = _single("PositionalEncoding", (10, 4))
    a = g.analyze()
    assert a.shapes[n] == (10, 4) and a.param_counts[n] == 0
    g, n = _single("PositionalEncoding", (10, 4), kind="learned")
    assert g.analyze().param_counts[n] == 40
    t = g.registry.get("PositionalEncoding")
    assert (t.title, t.category) == ("Positional encoding", "Sequence")
    assert "sin" in t.description and "cos" in t.description
    for shape in ((10,), (2, 3, 4)):
        g, n = _single("PositionalEncoding", shape)
        (err,) = g.analyze().errors
        assert isinstance(err, ShapeError) and err.node_id == n and "(T, D)" in str(err)


# ------------------------------------------------------------ SelfAttention
@pytest.mark.parametrize("heads", [1, 2])
@pytest.mark.parametrize("causal", [False, True])
@pytest.mark.parametrize("use_bias", [True, False])
def test_attention_gradients(heads, causal, use_bias):
    step = check_layer("SelfAttention", (4, 3), batch=2, heads=heads, key_dim=2, causal=causal, use_bias=use_bias)
    assert len(step.params) == (8 if use_bias else 4)


def test_attention_gradients_with_large_random_weights():
    """Sharper attention (weights far from the initial ones) is still right."""
    rng = np.random.default_rng(3)
    g, n, prog, step = layer_program("SelfAttention", (5, 4), heads=2, key_dim=3, causal=True)
    _randomize(prog, n, rng)
    from layercheck import _fd
    x = rng.normal(size=(2, 5, 4))
    w = rng.normal(size=(2, 5, 4))
    step.forward([x], True)
    for p in step.params:
        p.touched = False
    (dx,) = step.backward(w, [True])
    np.testing.assert_allclose(dx, _fd(lambda: float(np.sum(w * step.forward([x], True))), x, 1e-6),
                               rtol=1e-5, atol=1e-6)


def test_attention_gradients_accumulate():
    check_accumulates("SelfAttention", (4, 3), batch=2, heads=2, key_dim=2, causal=True)


@pytest.mark.parametrize("causal", [False, True])
def test_attention_forward_matches_a_naive_reference(causal):
    rng = np.random.default_rng(4)
    g, n, prog, step = layer_program("SelfAttention", (5, 4), heads=2, key_dim=3, causal=causal)
    w = _randomize(prog, n, rng)
    x = rng.normal(size=(3, 5, 4))
    want_y, want_a = _naive_attention(x, w, 2, 3, causal)
    np.testing.assert_allclose(step.forward([x], False), want_y, rtol=1e-10, atol=1e-12)
    assert step.attention.shape == (3, 2, 5, 5)
    np.testing.assert_allclose(step.attention, want_a, rtol=1e-10, atol=1e-15)
    np.testing.assert_allclose(step.attention.sum(axis=-1), 1)
    if causal:
        assert np.all(np.triu(np.ones((5, 5)), 1) * step.attention == 0)


def test_causal_output_ignores_later_positions():
    rng = np.random.default_rng(5)
    for causal in (True, False):
        g, n, prog, step = layer_program("SelfAttention", (6, 4), heads=2, key_dim=2, causal=causal)
        x = rng.normal(size=(2, 6, 4))
        y = step.forward([x], False).copy()
        for t in range(5):
            x2 = x.copy()
            x2[:, t + 1:] = rng.normal(size=x2[:, t + 1:].shape)
            y2 = step.forward([x2], False)
            if causal:
                np.testing.assert_allclose(y2[:, :t + 1], y[:, :t + 1], rtol=1e-12, atol=1e-12)
            else:
                assert not np.allclose(y2[:, :t + 1], y[:, :t + 1])


def test_attention_float32_stays_float32():
    g, n, prog, step = layer_program("SelfAttention", (4, 3), dtype=np.float32, causal=True)
    x = np.random.default_rng(6).normal(size=(2, 4, 3)).astype(np.float32)
    y = step.forward([x], True)
    assert y.dtype == np.float32 and step.attention.dtype == np.float32
    (dx,) = step.backward(np.ones_like(y), [True])
    assert dx.dtype == np.float32
    assert all(p.grad.dtype == np.float32 for p in step.params)
    step.clear()
    assert step.attention is None


@pytest.mark.parametrize("heads,key_dim,use_bias", [(2, 8, True), (3, 5, True), (1, 4, False), (4, 2, False)])
def test_attention_parameter_count(heads, key_dim, use_bias):
    d = 6
    g, n = _single("SelfAttention", (7, d), heads=heads, key_dim=key_dim, use_bias=use_bias)
    a = g.analyze()
    hk = heads * key_dim
    assert a.shapes[n] == (7, d)
    assert a.param_counts[n] == 4 * d * hk + ((3 * hk + d) if use_bias else 0)
    specs = {w.name: w for w in a.weights[n]}
    assert specs["query_kernel"].shape == (d, hk) and specs["output_kernel"].shape == (hk, d)
    assert specs["query_kernel"].initializer == "glorot_uniform" and specs["query_kernel"].regularize


@pytest.mark.parametrize("shape", [(6,), (2, 3, 4)])
def test_attention_takes_only_sequences(shape):
    g, n = _single("SelfAttention", shape)
    (err,) = g.analyze().errors
    assert isinstance(err, ShapeError) and err.node_id == n
    assert "(T, D)" in str(err) and str(shape[0]) in str(err)


def test_attention_node_type():
    t = ad.Graph().registry.get("SelfAttention")
    assert (t.title, t.category) == ("Multi-head self-attention", "Attention")
    assert t.defaults() == {"heads": 2, "key_dim": 8, "causal": False, "use_bias": True,
                            "kernel_initializer": "glorot_uniform"}
    assert "softmax" in t.description and "√" in t.description


# ------------------------------------------------------ a transformer block
def _order_task(n, seed, t=6, vocab=5):
    """Tokens 3..vocab-1 as filler, one token 1 and one token 2: class 1 when 1 comes first."""
    rng = np.random.default_rng(seed)
    X = rng.integers(3, vocab, size=(n, t))
    i = rng.integers(0, t, n)
    j = (i + rng.integers(1, t, n)) % t
    X[np.arange(n), i] = 1
    X[np.arange(n), j] = 2
    return X.astype(np.float32), np.eye(2, dtype=np.float32)[(i < j).astype(int)]


def _transformer_block(t=6, vocab=5, d=8):
    g = ad.Graph()
    x = g.add_node("Input", shape=[t])
    e = g.add_node("Embedding", input_dim=vocab, output_dim=d)
    p = g.add_node("PositionalEncoding")
    a = g.add_node("SelfAttention", heads=2, key_dim=4)
    s = g.add_node("Add")
    ln = g.add_node("LayerNorm")
    f = g.add_node("Flatten")
    o = g.add_node("Output", units=2, activation="softmax", loss="categorical_crossentropy")
    for u, v in ((x, e), (e, p), (p, a), (a, s), (p, s), (s, ln), (ln, f), (f, o)):
        g.connect(u, v)
    return g


def test_a_transformer_block_learns_and_round_trips(tmp_path):
    g = _transformer_block()
    a = g.analyze()
    assert a.ok and a.total_params == 5 * 8 + (4 * 8 * 8 + 3 * 8 + 8) + 2 * 8 + (48 * 2 + 2)
    X, Y = _order_task(256, seed=0)
    net = ad.Network(g, seed=0)
    hist = net.fit(X, Y, epochs=20, batch_size=32, optimizer="adam", learning_rate=0.01)
    loss = hist["loss"]
    assert loss[-1] < 0.25 * loss[0], loss
    Xt, Yt = _order_task(200, seed=1)
    assert net.evaluate(Xt, Yt)["accuracy"] > 0.9
    net.save(tmp_path / "block.ann")
    net2 = ad.load(tmp_path / "block.ann")
    np.testing.assert_array_equal(net2.predict(Xt), net.predict(Xt))
    assert net.predict(Xt).dtype == np.float32
