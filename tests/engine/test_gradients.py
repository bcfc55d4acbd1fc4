"""Every activation, loss and op checked against finite differences in float64."""

import numpy as np
import pytest

import anndesigner as ad
from anndesigner.engine import activations, losses
from anndesigner.graph import ACTIVATIONS, LOSSES, NON_DIFFERENTIABLE
from helpers import analytic_grads, mlp, numeric_grads

DIFF_ACTS = [a for a in ACTIVATIONS if a not in NON_DIFFERENTIABLE]


def fd(f, x, eps=1e-6):
    g = np.zeros_like(x)
    it = np.nditer(x, flags=["multi_index"])
    for _ in it:
        i = it.multi_index
        o = x[i]
        x[i] = o + eps
        a = f(x)
        x[i] = o - eps
        b = f(x)
        x[i] = o
        g[i] = (a - b) / (2 * eps)
    return g


@pytest.mark.parametrize("name", DIFF_ACTS)
def test_activation_gradient(name):
    rng = np.random.default_rng(1)
    z = rng.normal(size=(5, 4)) * 2
    z[np.abs(z) < 1e-3] = 0.5  # stay off the kinks of relu and friends
    w = rng.normal(size=(5, 4))  # a random linear functional of the output

    y = activations.forward(name, z.copy())
    analytic = activations.backward(name, z, y, w)
    numeric = fd(lambda zz: float(np.sum(w * activations.forward(name, zz.copy()))), z.copy())
    np.testing.assert_allclose(analytic, numeric, rtol=1e-5, atol=1e-7)


def test_activation_values():
    z = np.array([[-2.0, 0.0, 3.0]])
    np.testing.assert_allclose(activations.forward("relu", z), [[0, 0, 3]])
    np.testing.assert_allclose(activations.forward("step", z), [[0, 1, 1]])
    np.testing.assert_allclose(activations.forward("sign", z), [[-1, 1, 1]])
    np.testing.assert_allclose(activations.forward("sigmoid", z), 1 / (1 + np.exp(-z)))
    np.testing.assert_allclose(activations.forward("softplus", z), np.log1p(np.exp(z)))
    np.testing.assert_allclose(activations.forward("leaky_relu", z), [[-0.02, 0, 3]])
    np.testing.assert_allclose(activations.forward("elu", z), [[np.expm1(-2), 0, 3]])
    s = activations.forward("softmax", z)
    np.testing.assert_allclose(s, np.exp(z) / np.exp(z).sum())
    # sigmoid never overflows for huge inputs
    big = activations.forward("sigmoid", np.array([[-1000.0, 1000.0]], np.float32))
    np.testing.assert_array_equal(big, [[0, 1]])


def test_all_activations_and_losses_implemented():
    assert set(ACTIVATIONS) == set(activations.NAMES)
    assert set(LOSSES) == set(losses.NAMES)


def _targets(name, shape, rng):
    if name in ("categorical_crossentropy", "kl_divergence"):
        t = rng.random(shape) + 0.1
        return t / t.sum(-1, keepdims=True)
    if name == "binary_crossentropy":
        return rng.integers(0, 2, shape).astype(float)
    return rng.normal(size=shape)


@pytest.mark.parametrize("name", LOSSES)
def test_loss_gradient(name):
    rng = np.random.default_rng(2)
    shape = (6, 3)
    y = _targets(name, shape, rng)
    if name in ("binary_crossentropy",):
        p = rng.uniform(0.1, 0.9, shape)
    elif name in ("categorical_crossentropy", "kl_divergence"):
        p = rng.random(shape) + 0.1
        p /= p.sum(-1, keepdims=True)
    else:
        p = rng.normal(size=shape)
        if name in ("mae", "huber"):  # avoid the kinks
            p = y + np.where(rng.random(shape) < 0.5, -1, 1) * rng.uniform(0.1, 2.0, shape)
    analytic = losses.grad(name, p, y)
    numeric = fd(lambda pp: losses.value(name, pp, y), p.copy())
    np.testing.assert_allclose(analytic, numeric, rtol=1e-5, atol=1e-8)


def test_loss_values():
    p = np.array([[0.2, 0.8]])
    y = np.array([[0.0, 1.0]])
    assert losses.value("mse", p, y) == pytest.approx(0.04)
    assert losses.value("mae", p, y) == pytest.approx(0.2)
    assert losses.value("categorical_crossentropy", p, y) == pytest.approx(-np.log(0.8))
    assert losses.value("binary_crossentropy", p, y) == pytest.approx(-np.log(0.8))
    assert losses.value("huber", np.array([[3.0]]), np.array([[0.0]])) == pytest.approx(2.5)


@pytest.mark.parametrize("act,loss", sorted(losses.FUSED))
def test_fused_loss_matches_unfused(act, loss):
    rng = np.random.default_rng(3)
    z = rng.normal(size=(5, 3))
    y = _targets(loss, (5, 3), rng) if loss != "categorical_crossentropy" else np.eye(3)[rng.integers(0, 3, 5)]
    p = activations.forward(act, z)
    assert losses.fused_value(act, loss, z, y) == pytest.approx(losses.value(loss, p, y), rel=1e-6)
    numeric = fd(lambda zz: losses.fused_value(act, loss, zz, y), z.copy())
    np.testing.assert_allclose(losses.fused_grad(act, loss, p, y), numeric, rtol=1e-5, atol=1e-8)


def check_network(g, X, Y, seed=0):
    net = ad.Network(g, seed=seed, dtype="float64")
    for name in net.program.weight_names():  # make biases non-zero
        w = net.program.get_weight(name)
        net.program.set_weight(name, w + np.random.default_rng(len(name)).normal(0, 0.3, w.shape))
    a = analytic_grads(net, X, Y)
    n = numeric_grads(net, X, Y)
    assert a.keys() == n.keys() and a
    for k in a:
        assert a[k].shape == net.program.weight_shape(k)
        np.testing.assert_allclose(a[k], n[k], rtol=1e-5, atol=1e-7, err_msg=k)


RNG = np.random.default_rng(5)
X3 = RNG.normal(size=(7, 3))


@pytest.mark.parametrize("hidden", DIFF_ACTS)
def test_dense_op_gradient_each_activation(hidden):
    check_network(mlp([3, 4, 2], hidden=hidden, out_act="linear", loss="mse"), X3, RNG.normal(size=(7, 2)))


@pytest.mark.parametrize("act,loss", [
    ("sigmoid", "binary_crossentropy"), ("softmax", "categorical_crossentropy"), ("softmax", "kl_divergence"),
    ("linear", "mse"), ("tanh", "mae"), ("linear", "huber"), ("sigmoid", "mse"),
])
def test_output_losses_gradient(act, loss):
    rng = np.random.default_rng(6)
    Y = _targets(loss, (7, 3), rng)
    if loss == "categorical_crossentropy":
        Y = np.eye(3)[rng.integers(0, 3, 7)]
    check_network(mlp([3, 4, 3], out_act=act, loss=loss), X3, Y)


def test_neuron_concat_add_activation_dropout_gradient():
    g = ad.Graph()
    x = g.add_node("Input", units=3)
    d = g.add_node("Dense", units=2, activation="tanh")
    n1 = g.add_node("Neuron", activation="sigmoid")
    n2 = g.add_node("Neuron", activation="sigmoid")
    n3 = g.add_node("Neuron", activation="elu")  # reads x and d: its own group
    cat = g.add_node("Concatenate")
    a = g.add_node("Activation", activation="softplus")
    add = g.add_node("Add")
    drop = g.add_node("Dropout", rate=0.3)
    out = g.add_node("Output", units=2, activation="linear", loss="mse")
    g.connect(x, d)
    for n in (n1, n2):
        g.connect(d, n)
    g.connect(x, n3)
    g.connect(d, n3)
    g.connect(n1, cat)
    g.connect(n3, cat)  # cat = [n1, n3]  (2 values)
    g.connect(cat, a)
    g.connect(a, add)
    g.connect(d, add)  # add = softplus(cat) + d
    g.connect(add, drop)
    g.connect(n2, out)  # out reads [n2, drop] = 3 values
    g.connect(drop, out)
    net = ad.Network(g, dtype="float64")
    # freeze the dropout mask so that the loss is a fixed function of the weights
    step = next(s for s in net.program.steps if type(s).__name__ == "DropoutStep")

    class FixedRng:
        def random(self, shape, dtype):
            return np.random.default_rng(0).random(shape, dtype=dtype)

    step.rng = FixedRng()
    check_network_existing(net, X3, np.random.default_rng(7).normal(size=(7, 2)))


def check_network_existing(net, X, Y):
    a = analytic_grads(net, X, Y)
    n = numeric_grads(net, X, Y)
    for k in a:
        np.testing.assert_allclose(a[k], n[k], rtol=1e-5, atol=1e-7, err_msg=k)


def test_fan_out_gradients_accumulate():
    # one Dense feeding two branches that meet again: both contributions count
    g = ad.Graph()
    x = g.add_node("Input", units=2)
    d = g.add_node("Dense", units=3, activation="tanh")
    b1 = g.add_node("Dense", units=3, activation="relu")
    add = g.add_node("Add")
    out = g.add_node("Output", units=1, activation="linear", loss="mse")
    g.connect(x, d)
    g.connect(d, b1)
    g.connect(d, add)
    g.connect(b1, add)
    g.connect(add, out)
    g.connect(d, out)
    X = np.random.default_rng(8).normal(size=(5, 2))
    check_network(g, X, np.random.default_rng(9).normal(size=(5, 1)))


def test_regularization_gradient():
    net = ad.Network(mlp([3, 4, 1], out_act="linear", loss="mse"), dtype="float64")
    Y = np.random.default_rng(10).normal(size=(7, 1))
    tr = net.trainer(X3, Y, l1=0.01, l2=0.02, epochs=1, batch_size=7, shuffle=False)
    prog = net.program
    prog.forward([X3], training=True)
    prog.backward([Y])
    tr._apply_regularization_grads()
    analytic = {p.name: p.grad.copy() for p in prog.params}

    def total():
        prog.forward([X3], training=True)
        return prog.loss([Y]) + tr._regularize()

    for p in prog.params:
        num = fd(lambda v: (p.value.__setitem__(Ellipsis, v), total())[1], p.value.copy())
        np.testing.assert_allclose(analytic[p.name], num, rtol=1e-5, atol=1e-7, err_msg=p.name)
