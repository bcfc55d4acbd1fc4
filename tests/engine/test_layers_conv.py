"""Conv2D, MaxPool2D, AvgPool2D and GlobalAvgPool: gradients, values against naive
loops, shape inference, parameter counts, errors, training and files."""

import math

import numpy as np
import pytest

import anndesigner as ad
from anndesigner.errors import GraphError, ParameterError, ShapeError
from layercheck import check_accumulates, check_layer, layer_program


# ------------------------------------------------------------ naive references
def _same_pad(size, k, s, padding):
    """(output size, padding before) computed from the TensorFlow rules."""
    if padding == "valid":
        return (size - k) // s + 1, 0
    out = math.ceil(size / s)
    return out, max((out - 1) * s + k - size, 0) // 2


def _windows(x, k, s, padding):
    """Yield (n, i, j, list of (r, c) cells of the window inside the image)."""
    n_, h, w, _ = x.shape
    ho, pt = _same_pad(h, k[0], s[0], padding)
    wo, pl = _same_pad(w, k[1], s[1], padding)
    for n in range(n_):
        for i in range(ho):
            for j in range(wo):
                cells = [(i * s[0] + u - pt, j * s[1] + v - pl) for u in range(k[0]) for v in range(k[1])]
                yield n, i, j, [(r, c) for r, c in cells if 0 <= r < h and 0 <= c < w], (ho, wo)


def naive_conv(x, K, b, s, padding, activation):
    kh, kw, cin, f = K.shape
    n_, h, w, _ = x.shape
    ho, pt = _same_pad(h, kh, s[0], padding)
    wo, pl = _same_pad(w, kw, s[1], padding)
    z = np.zeros((n_, ho, wo, f))
    for n in range(n_):
        for i in range(ho):
            for j in range(wo):
                for fi in range(f):
                    acc = 0.0 if b is None else b[fi]
                    for u in range(kh):
                        for v in range(kw):
                            r, c = i * s[0] + u - pt, j * s[1] + v - pl
                            if 0 <= r < h and 0 <= c < w:
                                for ci in range(cin):
                                    acc += x[n, r, c, ci] * K[u, v, ci, fi]
                    z[n, i, j, fi] = acc
    return {"linear": z, "relu": np.maximum(z, 0), "tanh": np.tanh(z)}[activation]


def naive_pool(x, k, s, padding, kind):
    out = None
    for n, i, j, cells, (ho, wo) in _windows(x, k, s, padding):
        if out is None:
            out = np.zeros((x.shape[0], ho, wo, x.shape[3]))
        vals = np.array([x[n, r, c] for r, c in cells])
        out[n, i, j] = vals.max(axis=0) if kind == "max" else vals.mean(axis=0)
    return out


def untied(shape, seed=0):
    """Values without ties (a shuffled range), so that max pooling has one winner per window."""
    rng = np.random.default_rng(seed)
    return rng.permutation(math.prod(shape)).reshape(shape).astype(np.float64) / 10.0


# --------------------------------------------------------------- gradients
@pytest.mark.parametrize("padding", ["valid", "same"])
@pytest.mark.parametrize("strides", [[1, 1], [2, 2], [2, 1]])
@pytest.mark.parametrize("activation", ["linear", "relu", "tanh"])
def test_conv2d_gradients(padding, strides, activation):
    check_layer("Conv2D", (6, 5, 2), filters=3, kernel_size=[3, 2], strides=strides, padding=padding,
                activation=activation, bias_initializer="normal")


@pytest.mark.parametrize("cin,filters,kernel", [(1, 1, [3, 3]), (1, 4, [2, 3]), (3, 2, [1, 1]), (4, 5, [3, 3])])
def test_conv2d_gradients_channels(cin, filters, kernel):
    check_layer("Conv2D", (5, 5, cin), filters=filters, kernel_size=kernel, padding="same", activation="tanh",
                bias_initializer="normal")


def test_conv2d_gradients_without_bias_and_with_a_z_activation():
    check_layer("Conv2D", (5, 4, 2), filters=2, use_bias=False, activation="elu", strides=[1, 2])
    check_layer("Conv2D", (5, 4, 1), filters=2, kernel_size=[1, 1], use_bias=False, activation="gelu")


def test_conv2d_gradient_when_built_by_an_evaluation_pass():
    """backward after a forward with training=False rebuilds what it needs."""
    check_layer("Conv2D", (5, 5, 2), filters=2, padding="same", training=False)


@pytest.mark.parametrize("padding", ["valid", "same"])
@pytest.mark.parametrize("pool,strides", [([2, 2], [2, 2]), ([3, 2], [1, 1]), ([2, 3], [2, 1]), ([2, 2], [3, 3])])
def test_maxpool_gradients(padding, pool, strides):
    check_layer("MaxPool2D", (5, 6, 2), x=untied((2, 5, 6, 2)), pool_size=pool, strides=strides, padding=padding)


@pytest.mark.parametrize("padding", ["valid", "same"])
@pytest.mark.parametrize("pool,strides", [([2, 2], [2, 2]), ([3, 2], [1, 1]), ([2, 3], [2, 1])])
def test_avgpool_gradients(padding, pool, strides):
    check_layer("AvgPool2D", (5, 6, 2), pool_size=pool, strides=strides, padding=padding)


@pytest.mark.parametrize("shape", [(3, 4, 2), (5, 3), (2, 2, 2, 3)])
def test_global_avg_pool_gradients(shape):
    check_layer("GlobalAvgPool", shape)


def test_gradients_accumulate():
    check_accumulates("Conv2D", (5, 5, 2), filters=3, padding="same")
    check_accumulates("Conv2D", (5, 5, 1), filters=2, strides=[2, 2])
    check_accumulates("Conv2D", (4, 4, 3), filters=2, kernel_size=[1, 1])


# ------------------------------------------------------------------ values
@pytest.mark.parametrize("padding", ["valid", "same"])
@pytest.mark.parametrize("strides", [[1, 1], [2, 2], [3, 2]])
@pytest.mark.parametrize("cin,activation,use_bias", [(1, "linear", True), (3, "relu", True), (2, "tanh", False)])
def test_conv2d_matches_naive_loops(padding, strides, cin, activation, use_bias):
    _, _, _, step = layer_program("Conv2D", (7, 6, cin), filters=3, kernel_size=[3, 2], strides=strides,
                                  padding=padding, activation=activation, use_bias=use_bias,
                                  bias_initializer="normal")
    x = np.random.default_rng(1).normal(size=(2, 7, 6, cin))
    b = step.b.value if use_bias else None
    want = naive_conv(x, step.K.value, b, strides, padding, activation)
    for training in (True, False):
        np.testing.assert_allclose(step.forward([x], training), want, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("kind", ["Max", "Avg"])
@pytest.mark.parametrize("padding", ["valid", "same"])
@pytest.mark.parametrize("pool,strides", [([2, 2], [2, 2]), ([3, 3], [2, 2]), ([3, 2], [1, 1]), ([2, 2], [3, 1])])
def test_pools_match_naive_loops(kind, padding, pool, strides):
    _, _, _, step = layer_program(f"{kind}Pool2D", (7, 6, 2), pool_size=pool, strides=strides, padding=padding)
    x = np.random.default_rng(2).normal(size=(3, 7, 6, 2)) - 3.0  # negative: padding must not win a max
    np.testing.assert_allclose(step.forward([x], True), naive_pool(x, pool, strides, padding, kind.lower()),
                               rtol=1e-12, atol=1e-12)


def test_global_avg_pool_values():
    _, _, _, step = layer_program("GlobalAvgPool", (3, 4, 2))
    x = np.random.default_rng(3).normal(size=(2, 3, 4, 2))
    np.testing.assert_allclose(step.forward([x], False), x.mean(axis=(1, 2)))
    _, _, _, step = layer_program("GlobalAvgPool", (5, 3))
    seq = np.random.default_rng(4).normal(size=(2, 5, 3))
    np.testing.assert_allclose(step.forward([seq], False), seq.mean(axis=1))


def test_maxpool_gives_a_tied_gradient_to_one_cell():
    _, _, _, step = layer_program("MaxPool2D", (2, 2, 1))
    x = np.zeros((1, 2, 2, 1))
    step.forward([x], True)
    (dx,) = step.backward(np.ones((1, 1, 1, 1)), [True])
    assert dx.sum() == 1.0 and dx[0, 0, 0, 0] == 1.0


def test_float32_stays_float32_and_batches_of_any_size():
    _, _, prog, step = layer_program("Conv2D", (6, 6, 2), dtype=np.float32, filters=3, padding="same")
    rng = np.random.default_rng(4)
    xs = [rng.normal(size=(n, 6, 6, 2)).astype(np.float32) for n in (4, 2, 5, 4)]
    ys = []
    for x in xs:  # scratch buffers are reused and grown; earlier outputs must survive
        y = step.forward([x], True)
        assert y.dtype == np.float32
        (dx,) = step.backward(np.ones_like(y), [True])
        assert dx.dtype == np.float32 and dx.shape == x.shape
        assert all(p.grad.dtype == np.float32 for p in step.params)
        ys.append(y)
    for x, y in zip(xs, ys):
        K, b = step.K.value.astype(np.float64), step.b.value.astype(np.float64)
        np.testing.assert_allclose(y, naive_conv(x.astype(np.float64), K, b, (1, 1), "same", "relu"),
                                   rtol=1e-4, atol=1e-5)
    for pool in ("MaxPool2D", "AvgPool2D", "GlobalAvgPool"):
        _, _, _, step = layer_program(pool, (6, 6, 2), dtype=np.float32)
        y = step.forward([xs[0]], True)
        (dx,) = step.backward(np.ones_like(y), [True])
        assert y.dtype == dx.dtype == np.float32


# ------------------------------------------------------------------- shapes
def _conv_graph(in_shape, type_id="Conv2D", **params):
    g = ad.Graph()
    x = g.add_node("Input", shape=list(in_shape))
    n = g.add_node(type_id, **params)
    g.connect(x, n, check_shapes=False)
    return g, n.id


@pytest.mark.parametrize("h,w,k,s,padding", [
    (28, 28, (3, 3), (1, 1), "valid"), (28, 28, (3, 3), (1, 1), "same"), (28, 27, (5, 3), (2, 2), "valid"),
    (28, 27, (5, 3), (2, 2), "same"), (7, 9, (2, 4), (3, 2), "valid"), (7, 9, (2, 4), (3, 2), "same"),
    (4, 4, (4, 4), (1, 1), "valid"), (3, 3, (5, 5), (2, 2), "same"),
])
def test_shape_inference_follows_the_formulas(h, w, k, s, padding):
    for type_id, params, channels in (("Conv2D", dict(filters=6, kernel_size=list(k)), 6),
                                      ("MaxPool2D", dict(pool_size=list(k)), 3),
                                      ("AvgPool2D", dict(pool_size=list(k)), 3)):
        g, n = _conv_graph((h, w, 3), type_id, strides=list(s), padding=padding, **params)
        a = g.analyze()
        assert not a.errors
        if padding == "valid":
            want = ((h - k[0]) // s[0] + 1, (w - k[1]) // s[1] + 1, channels)
        else:
            want = (math.ceil(h / s[0]), math.ceil(w / s[1]), channels)
        assert a.shapes[n] == want, (type_id, want)
    g, n = _conv_graph((h, w, 3), "GlobalAvgPool")
    assert g.analyze().shapes[n] == (3,)


def test_parameter_counts_follow_the_textbook_formula():
    for (h, w, cin), (kh, kw), f in (((28, 28, 1), (3, 3), 32), ((10, 12, 3), (5, 2), 7), ((8, 8, 16), (1, 1), 4)):
        g, n = _conv_graph((h, w, cin), filters=f, kernel_size=[kh, kw])
        assert g.analyze().param_counts[n] == kh * kw * cin * f + f
        g, n = _conv_graph((h, w, cin), filters=f, kernel_size=[kh, kw], use_bias=False)
        assert g.analyze().param_counts[n] == kh * kw * cin * f
    for t in ("MaxPool2D", "AvgPool2D", "GlobalAvgPool"):
        g, n = _conv_graph((8, 8, 3), t)
        assert g.analyze().param_counts[n] == 0


def test_conv_weights_and_defaults():
    g, n = _conv_graph((8, 8, 3), filters=5, kernel_size=[3, 2])
    kernel, bias = g.analyze().weights[n]
    assert (kernel.name, kernel.shape, kernel.fan_in, kernel.fan_out, kernel.regularize) == \
        ("kernel", (3, 2, 3, 5), 18, 30, True)
    assert (bias.name, bias.shape, bias.regularize) == ("bias", (5,), False)
    node = g.nodes[n]
    assert node.params["activation"] == "relu" and node.params["kernel_initializer"] == "he_uniform"
    t = g.node_type(n)
    assert t.category == "Convolution" and t.title == "Conv2D" and "Σ" in t.description
    assert ad.Graph().add_node("Conv2D").params["filters"] == 8
    assert ad.Graph().add_node("GlobalAvgPool") is not None


def test_a_single_number_means_a_square_window():
    g = ad.Graph()
    c = g.add_node("Conv2D", kernel_size=5, strides=2)
    assert c.params["kernel_size"] == [5, 5] and c.params["strides"] == [2, 2]
    p = g.add_node("MaxPool2D", pool_size=[3])
    assert p.params["pool_size"] == [3, 3]


# ------------------------------------------------------------------- errors
def _only_error(g, n):
    (err,) = g.analyze().errors
    assert isinstance(err, GraphError) and err.node_id == n
    return err


@pytest.mark.parametrize("type_id", ["Conv2D", "MaxPool2D", "AvgPool2D"])
def test_flat_input_is_a_shape_error_naming_the_node(type_id):
    g, n = _conv_graph((64,), type_id)
    err = _only_error(g, n)
    assert isinstance(err, ShapeError)
    assert n in str(err) and "(64)" in str(err) and "Reshape" in str(err)


def test_window_larger_than_the_input_is_a_shape_error():
    g, n = _conv_graph((4, 6, 1), kernel_size=[5, 3])
    err = _only_error(g, n)
    assert isinstance(err, ShapeError) and "5×3" in str(err) and "4×6" in str(err)
    g, n = _conv_graph((4, 6, 1), "MaxPool2D", pool_size=[2, 7])
    assert "2×7" in str(_only_error(g, n))
    g, n = _conv_graph((4, 6, 1), kernel_size=[5, 3], padding="same")  # same padding: fine
    assert not g.analyze().errors


def test_window_of_three_numbers_is_an_error():
    g, n = _conv_graph((8, 8, 1), kernel_size=[3, 3, 3])
    err = _only_error(g, n)
    assert isinstance(err, ParameterError) and "kernel_size" in str(err) and "2 numbers" in str(err)
    assert err.param == "kernel_size" and err.node_id == n  # the inspector can point at the field
    assert err.message.startswith(f"Conv2D '{n}' ") and str(err) == err.message
    g, n = _conv_graph((8, 8, 1), "AvgPool2D", strides=[1, 1, 1])
    err = _only_error(g, n)
    assert "strides" in str(err) and err.param == "strides"


def test_global_avg_pool_needs_two_axes():
    g, n = _conv_graph((10,), "GlobalAvgPool")
    err = _only_error(g, n)
    assert isinstance(err, ShapeError) and "(10)" in str(err)


def test_bad_parameters_are_rejected():
    with pytest.raises(ParameterError):
        ad.Graph().add_node("Conv2D", filters=0)
    with pytest.raises(ParameterError):
        ad.Graph().add_node("MaxPool2D", padding="full")
    with pytest.raises(ParameterError):
        ad.Graph().add_node("Conv2D", strides=[0, 1])


# --------------------------------------------------------- training, files
def _tiny_cnn():
    g = ad.Graph()
    x = g.add_node("Input", shape=[6, 6, 1])
    c = g.add_node("Conv2D", filters=4, kernel_size=[3, 3], padding="same")
    p = g.add_node("MaxPool2D")
    f = g.add_node("Flatten")
    y = g.add_node("Output", units=2, activation="softmax", loss="categorical_crossentropy")
    for a, b in ((x, c), (c, p), (p, f), (f, y)):
        g.connect(a, b)
    return g


def _bars(n=64, seed=0):
    """Images with a vertical (class 0) or horizontal (class 1) bright bar, plus noise."""
    rng = np.random.default_rng(seed)
    X = rng.normal(0, 0.1, size=(n, 6, 6, 1)).astype(np.float32)
    labels = rng.integers(0, 2, n)
    pos = rng.integers(0, 6, n)
    for i in range(n):
        if labels[i] == 0:
            X[i, :, pos[i], 0] += 1
        else:
            X[i, pos[i], :, 0] += 1
    return X, np.eye(2, dtype=np.float32)[labels]


def test_a_tiny_cnn_learns_and_survives_a_file_round_trip(tmp_path):
    X, Y = _bars()
    net = ad.Network(_tiny_cnn(), seed=0)
    hist = net.fit(X, Y, epochs=15, batch_size=16, optimizer="adam", learning_rate=0.01)
    loss = hist["loss"]
    assert loss[-1] < 0.5 * loss[0]
    assert np.all(np.isfinite(loss))
    pred = net.predict(X)
    assert (pred.argmax(1) == Y.argmax(1)).mean() > 0.9
    net.save(tmp_path / "c.ann")
    net2 = ad.load(tmp_path / "c.ann")
    np.testing.assert_array_equal(net2.predict(X), pred)
    np.testing.assert_array_equal(net2.predict(X.reshape(len(X), 36)), pred)  # flat rows feed the image Input
