"""Shared test helpers (imported by tests via ``from helpers import ...``)."""

from __future__ import annotations

import numpy as np

import anndesigner as ad

XOR_X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], np.float32)
XOR_Y = np.array([[0], [1], [1], [0]], np.float32)


def mlp(sizes, hidden="tanh", out_act="sigmoid", loss="binary_crossentropy"):
    g = ad.Graph()
    prev = g.add_node("Input", units=sizes[0])
    for u in sizes[1:-1]:
        h = g.add_node("Dense", units=u, activation=hidden)
        g.connect(prev, h)
        prev = h
    y = g.add_node("Output", units=sizes[-1], activation=out_act, loss=loss)
    g.connect(prev, y)
    return g


def neuron_mlp(n_in, n_hidden, hidden="tanh", out_act="sigmoid", loss="binary_crossentropy"):
    """Input -> n_hidden Neurons -> one Neuron -> Output marker (no weights)."""
    g = ad.Graph()
    x = g.add_node("Input", units=n_in)
    hs = []
    for _ in range(n_hidden):
        h = g.add_node("Neuron", activation=hidden)
        g.connect(x, h)
        hs.append(h)
    o = g.add_node("Neuron", activation=out_act)
    for h in hs:
        g.connect(h, o)
    y = g.add_node("Output", units=1, activation="linear", loss=loss, use_weights=False)
    g.connect(o, y)
    return g


def laid_out(g):
    """Columns 220 px apart (node positions are centres), as the designer lays out."""
    from anndesigner.graph.layout import apply_layout, layered_layout

    apply_layout(g, layered_layout(g, dx=220, dy=100))
    return g


def flatten_net(shape, activation="linear", loss="mse"):
    """Input of ``shape`` -> Flatten -> one-unit Output."""
    g = ad.Graph()
    x = g.add_node("Input", shape=list(shape))
    f = g.add_node("Flatten")
    y = g.add_node("Output", units=1, activation=activation, loss=loss)
    g.connect(x, f)
    g.connect(f, y)
    return g


def numeric_grads(net, X, Y, eps=1e-6):
    """Central differences of the program's loss with respect to every weight."""
    prog = net.program
    out = {}
    for name in prog.weight_names():
        w = prog.get_weight(name)
        flat = w.reshape(-1)
        g = np.zeros(flat.shape)
        for i in range(flat.size):
            orig = flat[i]
            for sign in (1, -1):
                flat[i] = orig + sign * eps
                prog.set_weight(name, flat.reshape(w.shape))
                prog.forward([X], training=True)
                val = prog.loss([Y])
                g[i] += sign * val
            flat[i] = orig
            prog.set_weight(name, flat.reshape(w.shape))
        out[name] = (g / (2 * eps)).reshape(w.shape)
    return out


def analytic_grads(net, X, Y):
    prog = net.program
    prog.forward([X], training=True)
    prog.backward([Y])
    out = {}
    for p in prog.params:
        if p.parts:
            for name, col in p.parts:
                out[name] = p.grad[..., col].copy()
        else:
            out[p.name] = p.grad.copy()
    return out


def opt_params(dtype, seed=0):
    """A (4, 3) kernel and a (3,) bias for optimizer tests."""
    rng = np.random.default_rng(seed)
    return [rng.standard_normal((4, 3)).astype(dtype), rng.standard_normal(3).astype(dtype)]


def opt_grad_seq(dtype, n, seed=1):
    """``n`` random gradients for :func:`opt_params`."""
    rng = np.random.default_rng(seed)
    return [[rng.standard_normal((4, 3)).astype(dtype), rng.standard_normal(3).astype(dtype)] for _ in range(n)]
