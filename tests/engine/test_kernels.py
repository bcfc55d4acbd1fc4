"""The optional compiled kernels (the ``fast`` extra): same results as NumPy."""

from __future__ import annotations

import numpy as np
import pytest

from anndesigner.engine import kernels
from anndesigner.engine.optimizers import make_optimizer
from helpers import opt_grad_seq, opt_params

needs_numba = pytest.mark.skipif(not kernels.available(), reason="numba (the 'fast' extra) is not installed")

DTYPES = [np.float32, np.float64]


@pytest.fixture(autouse=True)
def restore_kernels(monkeypatch):
    monkeypatch.setattr(kernels, "MIN_SIZE", 0)  # the kernels even for these tiny parameters
    before = kernels.use(True)
    yield
    kernels.use(before)


@needs_numba
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name,hyper", [("adam", {}), ("adam", {"beta_1": 0.0}), ("adamw", {"weight_decay": 0.1})])
def test_compiled_adam_equals_numpy_adam_bit_for_bit(name, hyper, dtype):
    grads = opt_grad_seq(dtype, 40)
    # an ordinary rate, a zero rate (state moves, weights stay) and a tiny one (the unfolded form)
    lrs = [0.01, 0.0, 1e-25] + [0.01 / (i + 1) for i in range(37)]
    runs = []
    for compiled in (False, True):
        kernels.use(compiled)
        w = opt_params(dtype)
        opt = make_optimizer(name, w, 0.01, **hyper)
        for g, lr in zip(grads, lrs):
            opt.step([x.copy() for x in g], lr=lr)
        runs.append((w, opt.state_dict()))
    (w_np, sd_np), (w_c, sd_c) = runs
    for a, b in zip(w_np, w_c):
        np.testing.assert_array_equal(a, b)
    for key in sd_np:
        np.testing.assert_array_equal(sd_np[key], sd_c[key])


@needs_numba
def test_kernels_can_be_turned_off():
    kernels.use(False)
    assert not kernels.enabled() and "off" in kernels.backend()
    w, g = np.zeros(3), np.ones(3)
    m, v = np.zeros(3), np.zeros(3)
    assert kernels.adam(w, g, m, v, b1=0.9, b2=0.999, c_sqrt=1.0, c_eps=0.0, a=1.0, decay=1.0, move=True) is False
    assert np.all(m == 0)
    kernels.use(True)
    assert kernels.enabled() and "numba" in kernels.backend()
    assert kernels.adam(w, g, m, v, b1=0.9, b2=0.999, c_sqrt=1.0, c_eps=0.0, a=1.0, decay=1.0, move=True)
    np.testing.assert_array_equal(m, 1.0)
    np.testing.assert_array_equal(w, -1.0)  # M / sqrt(V) = 1 / 1
    # a layout or dtype the kernel does not take is left to NumPy, untouched
    assert not kernels.adam(np.zeros((3, 2)).T, np.ones((2, 3)), np.zeros((2, 3)), np.zeros((2, 3)), b1=0.9, b2=0.9,
                            c_sqrt=1.0, c_eps=0.0, a=1.0, decay=1.0, move=True)
    assert not kernels.adam(np.zeros(3, np.float32), np.ones(3), np.zeros(3), np.zeros(3), b1=0.9, b2=0.9,
                            c_sqrt=1.0, c_eps=0.0, a=1.0, decay=1.0, move=True)


@needs_numba
def test_training_with_and_without_kernels_gives_the_same_network():
    import anndesigner as ad
    from helpers import XOR_X, XOR_Y, mlp

    nets = []
    for compiled in (False, True):
        kernels.use(compiled)
        net = ad.Network(mlp([2, 4, 1]), seed=3)
        net.fit(XOR_X, XOR_Y, epochs=30, batch_size=2, optimizer="adam", learning_rate=0.05)
        nets.append(net)
    a, b = (n.get_weights() for n in nets)
    assert a.keys() == b.keys()
    for k in a:
        np.testing.assert_array_equal(a[k], b[k])
    np.testing.assert_array_equal(nets[0].history["loss"], nets[1].history["loss"])


@needs_numba
def test_small_networks_do_not_load_the_kernels(monkeypatch):
    monkeypatch.setattr(kernels, "MIN_SIZE", 100)
    calls = []
    real = kernels.adam
    monkeypatch.setattr(kernels, "adam", lambda *a, **k: calls.append(a[0].size) or real(*a, **k))
    make_optimizer("adam", [np.zeros(99)]).step([np.ones(99)])
    assert calls == []
    make_optimizer("adam", [np.zeros(60), np.zeros(40)]).step([np.ones(60), np.ones(40)])
    assert calls == [60, 40]


def test_without_numba_everything_runs_on_numpy(monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "numba", None)  # import numba raises ImportError
    monkeypatch.setitem(kernels._state, "compiled", None)  # forget a build done earlier
    assert not kernels.available() and not kernels.enabled()
    assert kernels.backend() == "NumPy (numba not installed)"
    w = np.zeros(3)
    assert not kernels.adam(w, np.ones(3), np.zeros(3), np.zeros(3), b1=0.9, b2=0.9, c_sqrt=1.0, c_eps=0.0,
                            a=1.0, decay=1.0, move=True)
    opt = make_optimizer("adam", [w], 0.1)
    opt.step([np.ones(3)])
    np.testing.assert_allclose(w, -0.1, rtol=1e-6)  # Adam's first step is lr * sign(g)
