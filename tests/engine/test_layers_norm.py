import numpy as np
import pytest

import anndesigner as ad
from anndesigner.errors import MissingInputError
from layercheck import check_accumulates, check_layer, layer_program


def _single(type_id, in_shape, **params):
    g = ad.Graph()
    x = g.add_node("Input", shape=list(in_shape))
    n = g.add_node(type_id, **params)
    g.connect(x, n)
    return g, n.id


def _naive_batch_norm(x, gamma, beta, eps):
    """Per feature: statistics over every value of that feature in the batch."""
    c = x.shape[-1]
    y = np.empty_like(x)
    for j in range(c):
        v = x[..., j]
        mu = sum(v.ravel()) / v.size
        var = sum((t - mu) ** 2 for t in v.ravel()) / v.size
        y[..., j] = gamma[j] * (v - mu) / np.sqrt(var + eps) + beta[j]
    return y


def _naive_layer_norm(x, gamma, beta, eps):
    """Per sample and position: statistics over the last axis."""
    y = np.empty_like(x)
    for idx in np.ndindex(x.shape[:-1]):
        v = x[idx]
        mu = sum(v) / len(v)
        var = sum((t - mu) ** 2 for t in v) / len(v)
        y[idx] = gamma * (v - mu) / np.sqrt(var + eps) + beta
    return y


# --------------------------------------------------------------- gradients
@pytest.mark.parametrize("center", [True, False])
@pytest.mark.parametrize("scale", [True, False])
@pytest.mark.parametrize("in_shape,batch", [((3,), 5), ((2, 3, 2), 2)])
def test_batch_norm_gradients_in_training(in_shape, batch, center, scale):
    step = check_layer("BatchNorm", in_shape, batch=batch, center=center, scale=scale)
    assert len(step.params) == int(center) + int(scale)  # the moving statistics are not trained


def test_batch_norm_gradients_at_prediction():
    """With the moving statistics the layer is affine per feature."""
    rng = np.random.default_rng(1)
    g, n, prog, step = layer_program("BatchNorm", (2, 3))
    prog.set_weight(f"{n}/moving_mean", rng.normal(size=3))
    prog.set_weight(f"{n}/moving_variance", rng.uniform(0.5, 2, size=3))
    x = rng.normal(size=(2, 2, 3))
    y = step.forward([x], False)
    mm, mv = prog.get_weight(f"{n}/moving_mean"), prog.get_weight(f"{n}/moving_variance")
    np.testing.assert_allclose(y, (x - mm) / np.sqrt(mv + 1e-3))
    w = rng.normal(size=y.shape)
    (dx,) = step.backward(w, [True])
    np.testing.assert_allclose(dx, w / np.sqrt(mv + 1e-3))


@pytest.mark.parametrize("center,scale", [(True, True), (False, True), (True, False), (False, False)])
def test_layer_norm_gradients(center, scale):
    check_layer("LayerNorm", (3, 4), batch=2, center=center, scale=scale)
    check_layer("LayerNorm", (5,), batch=3, center=center, scale=scale)


def test_gradients_accumulate():
    check_accumulates("BatchNorm", (2, 3), batch=3)
    check_accumulates("LayerNorm", (2, 3), batch=3)


# ------------------------------------------------------------------ values
def test_batch_norm_forward_matches_a_naive_reference():
    rng = np.random.default_rng(2)
    g, n, prog, step = layer_program("BatchNorm", (2, 2, 3), epsilon=0.01)
    gamma, beta = rng.normal(size=3), rng.normal(size=3)
    prog.set_weight(f"{n}/gamma", gamma)
    prog.set_weight(f"{n}/beta", beta)
    x = rng.normal(2.0, 3.0, size=(4, 2, 2, 3))
    np.testing.assert_allclose(step.forward([x], True), _naive_batch_norm(x, gamma, beta, 0.01), rtol=1e-10)


def test_layer_norm_forward_matches_a_naive_reference():
    rng = np.random.default_rng(3)
    g, n, prog, step = layer_program("LayerNorm", (3, 5), epsilon=1e-3)
    gamma, beta = rng.normal(size=5), rng.normal(size=5)
    prog.set_weight(f"{n}/gamma", gamma)
    prog.set_weight(f"{n}/beta", beta)
    x = rng.normal(-1.0, 2.0, size=(2, 3, 5))
    want = _naive_layer_norm(x, gamma, beta, 1e-3)
    np.testing.assert_allclose(step.forward([x], True), want, rtol=1e-10)
    np.testing.assert_allclose(step.forward([x], False), want, rtol=1e-10)  # same in both modes


def test_batch_norm_training_and_prediction_differ_as_expected():
    g, n, prog, step = layer_program("BatchNorm", (3,), momentum=0.5)
    x = np.random.default_rng(4).normal(5.0, 2.0, size=(64, 3))
    # before any training the moving statistics are 0 and 1: prediction leaves x (almost) alone
    np.testing.assert_allclose(step.forward([x], False), x / np.sqrt(1 + 1e-3))
    y = step.forward([x], True)  # the batch statistics: mean 0, variance 1 per feature
    np.testing.assert_allclose(y.mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(y.var(axis=0), 1 / (1 + 1e-3 / x.var(axis=0)), rtol=1e-12)
    # one training forward moved the moving statistics halfway (momentum 0.5)
    np.testing.assert_allclose(prog.get_weight(f"{n}/moving_mean"), 0.5 * x.mean(axis=0))
    np.testing.assert_allclose(prog.get_weight(f"{n}/moving_variance"), 0.5 + 0.5 * x.var(axis=0))
    # once they have converged, prediction on the same data gives the training output
    for _ in range(60):
        step.forward([x], True)
    np.testing.assert_allclose(step.forward([x], False), y, atol=1e-9)


def test_moving_statistics_converge_to_the_data():
    g, n, prog, step = layer_program("BatchNorm", (4, 2), momentum=0.9)
    rng = np.random.default_rng(5)
    mean, std = np.array([3.0, -2.0]), np.array([0.5, 4.0])
    for _ in range(300):
        step.forward([rng.normal(mean, std, size=(32, 4, 2))], True)
    assert np.all(np.abs(prog.get_weight(f"{n}/moving_mean") - mean) < 0.1 * std)
    np.testing.assert_allclose(prog.get_weight(f"{n}/moving_variance"), std ** 2, rtol=0.1)
    # prediction does not move them
    before = prog.get_weight(f"{n}/moving_mean")
    step.forward([rng.normal(size=(8, 4, 2))], False)
    np.testing.assert_array_equal(prog.get_weight(f"{n}/moving_mean"), before)


def _bn_net():
    g = ad.Graph()
    x = g.add_node("Input", shape=[3])
    d = g.add_node("Dense", units=4, activation="linear")
    bn = g.add_node("BatchNorm", momentum=0.8)
    o = g.add_node("Output", units=1, activation="sigmoid", loss="binary_crossentropy")
    g.connect(x, d)
    g.connect(d, bn)
    g.connect(bn, o)
    return g, bn.id


def test_moving_statistics_are_state_saved_and_reloaded(tmp_path):
    g, bn = _bn_net()
    net = ad.Network(g, seed=0)
    prog = net.program
    names = {p.name for p in prog.params}
    assert {f"{bn}/gamma", f"{bn}/beta"} <= names
    assert {p.name for p in prog.state} == {f"{bn}/moving_mean", f"{bn}/moving_variance"}
    assert all(not p.trainable for p in prog.state)
    rng = np.random.default_rng(6)
    X = rng.normal(2.0, 3.0, size=(64, 3)).astype(np.float32)
    Y = (X[:, :1] > 2).astype(np.float32)
    net.fit(X, Y, epochs=5, batch_size=16, optimizer="adam", learning_rate=0.01)
    w = net.get_weights()
    assert not np.allclose(w[f"{bn}/moving_mean"], 0)
    assert not np.allclose(w[f"{bn}/moving_variance"], 1)
    assert net.predict(X).dtype == np.float32
    net.save(tmp_path / "bn.ann")
    net2 = ad.load(tmp_path / "bn.ann")
    np.testing.assert_array_equal(net2.get_weights()[f"{bn}/moving_mean"], w[f"{bn}/moving_mean"])
    np.testing.assert_array_equal(net2.predict(X), net.predict(X))


def test_float32_stays_float32():
    for type_id in ("BatchNorm", "LayerNorm"):
        g, n, prog, step = layer_program(type_id, (2, 3), dtype=np.float32)
        x = np.random.default_rng(7).normal(size=(4, 2, 3)).astype(np.float32)
        for training in (True, False):
            y = step.forward([x], training)
            assert y.dtype == np.float32
            assert step.backward(np.ones_like(y), [True])[0].dtype == np.float32
        assert all(p.value.dtype == np.float32 for p in prog.params + prog.state)


# ----------------------------------------------------------- node types
@pytest.mark.parametrize("center,scale,factor", [(True, True, 4), (False, True, 3), (True, False, 3), (False, False, 2)])
def test_batch_norm_parameter_count(center, scale, factor):
    g, n = _single("BatchNorm", (5, 5, 7), center=center, scale=scale)
    a = g.analyze()
    assert a.param_counts[n] == factor * 7
    assert a.shapes[n] == (5, 5, 7)
    specs = {w.name: w for w in a.weights[n]}
    assert not specs["moving_mean"].trainable and not specs["moving_variance"].trainable
    assert ("gamma" in specs) == scale and ("beta" in specs) == center
    assert all(not w.regularize for w in specs.values())


@pytest.mark.parametrize("center,scale,factor", [(True, True, 2), (False, True, 1), (False, False, 0)])
def test_layer_norm_parameter_count(center, scale, factor):
    g, n = _single("LayerNorm", (6, 10), center=center, scale=scale)
    a = g.analyze()
    assert a.param_counts[n] == factor * 10
    assert a.shapes[n] == (6, 10)


def test_node_types_describe_themselves():
    reg = ad.Graph().registry
    bn, ln = reg.get("BatchNorm"), reg.get("LayerNorm")
    assert (bn.title, bn.category, ln.title, ln.category) == ("Batch norm", "Normalization", "Layer norm", "Normalization")
    assert bn.defaults() == {"momentum": 0.99, "epsilon": 1e-3, "center": True, "scale": True}
    assert ln.defaults() == {"epsilon": 1e-5, "center": True, "scale": True}
    assert bn.param("momentum").live
    assert "moving" in bn.description and "√" in ln.description
    with pytest.raises(ad.ParameterError):
        ad.Graph().add_node("BatchNorm", momentum=1.5)
    with pytest.raises(ad.ParameterError):
        ad.Graph().add_node("LayerNorm", epsilon=0.0)


def test_an_unconnected_norm_is_an_error_naming_the_node():
    g = ad.Graph()
    n = g.add_node("LayerNorm")
    (err,) = g.analyze().errors
    assert isinstance(err, MissingInputError) and err.node_id == n.id and n.id in str(err)
