"""Finite-difference checks for one layer's step, in float64.

``check_layer("Conv2D", (5, 5, 2), filters=3, ...)`` builds Input -> layer ->
Output marker, compiles it in float64, and compares the step's backward pass
(for the input and every weight) with central differences of
``sum(w * forward(x))`` for a random ``w``.
"""

from __future__ import annotations

import numpy as np

import anndesigner as ad
from anndesigner.engine.compiler import compile_graph


def layer_program(type_id, in_shape, seed=0, dtype=np.float64, **params):
    g = ad.Graph()
    x = g.add_node("Input", shape=list(in_shape))
    n = g.add_node(type_id, **params).id
    g.connect(x, n)
    shape = g.analyze().shapes[n]
    y = g.add_node("Output", units=shape[-1], activation="linear", loss="mse", use_weights=False)
    g.connect(n, y)
    prog = compile_graph(g, seed=seed, dtype=dtype)
    step = next(s for s in prog.steps if n in s.node_ids)
    return g, n, prog, step


def _fd(f, x, eps):
    assert x.flags.c_contiguous, "finite differences nudge x in place through a flat view"
    g = np.zeros_like(x)
    flat, gflat = x.reshape(-1), g.reshape(-1)
    for i in range(flat.size):
        o = flat[i]
        flat[i] = o + eps
        a = f()
        flat[i] = o - eps
        b = f()
        flat[i] = o
        gflat[i] = (a - b) / (2 * eps)
    return g


def check_layer(type_id, in_shape, *, batch=2, seed=0, x=None, training=True, input_grad=True,
                rtol=1e-5, atol=1e-7, eps=1e-6, **params):
    """Assert the layer's analytic gradients match finite differences; returns the step."""
    rng = np.random.default_rng(seed)
    g, n, prog, step = layer_program(type_id, in_shape, seed=seed, **params)
    if x is None:
        x = rng.normal(size=(batch,) + tuple(in_shape))
    x = np.asarray(x, np.float64)
    y = step.forward([x], training)
    assert y.shape == (len(x),) + tuple(g.analyze().shapes[n]), "output shape differs from the inferred shape"
    w = rng.normal(size=y.shape)

    def value():
        return float(np.sum(w * step.forward([x], training)))

    value()
    for p in step.params:
        p.touched = False
    gx = step.backward(w.copy(), [input_grad])
    if input_grad:
        assert gx[0].shape == x.shape
        np.testing.assert_allclose(gx[0], _fd(value, x, eps), rtol=rtol, atol=atol, err_msg=f"{type_id}: d/dx")
    for p in step.params:
        assert p.touched, f"{type_id}: {p.name} got no gradient"
        assert p.grad.shape == p.value.shape
        analytic = p.grad.copy()
        np.testing.assert_allclose(analytic, _fd(value, p.value, eps), rtol=rtol, atol=atol,
                                   err_msg=f"{type_id}: d/d{p.name}")
    return step


def check_accumulates(type_id, in_shape, *, batch=2, seed=0, x=None, **params):
    """Two backward calls without a reset add up: gradients accumulate."""
    rng = np.random.default_rng(seed)
    _, _, prog, step = layer_program(type_id, in_shape, seed=seed, **params)
    if x is None:
        x = rng.normal(size=(batch,) + tuple(in_shape))
    y = step.forward([np.asarray(x, np.float64)], True)
    w = rng.normal(size=y.shape)
    for p in step.params:
        p.touched = False
    step.backward(w.copy(), [True])
    once = [p.grad.copy() for p in step.params]
    step.backward(w.copy(), [True])
    for p, g1 in zip(step.params, once):
        np.testing.assert_allclose(p.grad, 2 * g1, rtol=1e-12, atol=1e-12)
