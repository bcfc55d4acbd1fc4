"""Tests of anndesigner.engine.optimizers.

Expected values are computed here with plain Python floats, written out from
each optimizer's textbook formula, never by calling the implementation.

Every test runs twice: with NumPy only, and with the compiled kernels of the
``fast`` extra (skipped when numba is not installed).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from anndesigner.engine import kernels
from anndesigner.engine import optimizers as opt_mod
from anndesigner.engine.optimizers import (
    OPTIMIZERS,
    SGD,
    Adadelta,
    Adagrad,
    Adam,
    AdamW,
    Optimizer,
    RMSprop,
    FLUSH_EVERY,
    flush_subnormals,
    make_optimizer,
)
from anndesigner.errors import TrainingError
from anndesigner.params import ParamSpec
from helpers import opt_grad_seq, opt_params

DTYPES = [np.float32, np.float64]


@pytest.fixture(autouse=True, params=["numpy", "compiled"])
def backend(request, monkeypatch):
    """Which implementation of the element-wise loops the test runs on."""
    if request.param == "compiled" and not kernels.available():
        pytest.skip("numba (the 'fast' extra) is not installed")
    monkeypatch.setattr(kernels, "MIN_SIZE", 0)  # the kernels even for these tiny parameters
    before = kernels.use(request.param == "compiled")
    yield request.param
    kernels.use(before)
RTOL = {np.float32: 1e-6, np.float64: 1e-12}

W0 = [1.0, -2.0]
GRADS = [[0.5, -1.0], [0.25, 2.0], [-0.75, 0.1]]


def run(opt_cls, dtype, grads=GRADS, w0=W0, lr=None, **hyper):
    w = np.array(w0, dtype=dtype)
    opt = opt_cls([w], lr, **hyper)
    for g in grads:
        opt.step([np.array(g, dtype=dtype)])
    return w, opt


def check(w, expected, dtype):
    np.testing.assert_allclose(w, np.array(expected), rtol=RTOL[dtype], atol=0)


# ------------------------------------------------------------ textbook updates
@pytest.mark.parametrize("dtype", DTYPES)
def test_sgd_plain(dtype):
    lr = 0.1
    w, _ = run(SGD, dtype, lr=lr)
    exp = list(W0)
    for g in GRADS:
        exp = [wi - lr * gi for wi, gi in zip(exp, g)]
    check(w, exp, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_sgd_momentum(dtype):
    lr, mu = 0.1, 0.9
    w, _ = run(SGD, dtype, lr=lr, momentum=mu)
    exp = list(W0)
    buf = [0.0, 0.0]
    for g in GRADS:
        buf = [mu * b + gi for b, gi in zip(buf, g)]
        exp = [wi - lr * b for wi, b in zip(exp, buf)]
    check(w, exp, dtype)
    # hand check of the first two steps of element 0:
    # b1 = 0.5, w = 1 - 0.05 = 0.95; b2 = 0.45 + 0.25 = 0.7, w = 0.95 - 0.07 = 0.88
    w2, _ = run(SGD, dtype, grads=GRADS[:2], lr=lr, momentum=mu)
    assert w2[0] == pytest.approx(0.88, rel=1e-6)


@pytest.mark.parametrize("dtype", DTYPES)
def test_sgd_nesterov(dtype):
    lr, mu = 0.1, 0.9
    w, _ = run(SGD, dtype, lr=lr, momentum=mu, nesterov=True)
    exp = list(W0)
    buf = [0.0, 0.0]
    for g in GRADS:
        buf = [mu * b + gi for b, gi in zip(buf, g)]
        exp = [wi - lr * (gi + mu * b) for wi, gi, b in zip(exp, g, buf)]
    check(w, exp, dtype)
    # first step of element 0: b = 0.5, w = 1 - 0.1 * (0.5 + 0.45) = 0.905
    w1, _ = run(SGD, dtype, grads=GRADS[:1], lr=lr, momentum=mu, nesterov=True)
    assert w1[0] == pytest.approx(0.905, rel=1e-6)


@pytest.mark.parametrize("dtype", DTYPES)
def test_adagrad(dtype):
    lr, init, eps = 0.1, 0.1, 1e-7
    w, _ = run(Adagrad, dtype, lr=lr)
    exp = list(W0)
    acc = [init, init]
    for g in GRADS:
        acc = [a + gi * gi for a, gi in zip(acc, g)]
        exp = [wi - lr * gi / (math.sqrt(a) + eps) for wi, gi, a in zip(exp, g, acc)]
    check(w, exp, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_adagrad_custom_accumulator(dtype):
    lr, init, eps = 0.5, 0.0, 1e-3
    w, _ = run(Adagrad, dtype, lr=lr, initial_accumulator=init, epsilon=eps)
    exp = list(W0)
    acc = [init, init]
    for g in GRADS:
        acc = [a + gi * gi for a, gi in zip(acc, g)]
        exp = [wi - lr * gi / (math.sqrt(a) + eps) for wi, gi, a in zip(exp, g, acc)]
    check(w, exp, dtype)


def adadelta_reference(lr, rho, eps):
    exp = list(W0)
    eg = [0.0, 0.0]
    ed = [0.0, 0.0]
    for g in GRADS:
        eg = [rho * e + (1 - rho) * gi * gi for e, gi in zip(eg, g)]
        d = [math.sqrt(x + eps) / math.sqrt(e + eps) * gi for x, e, gi in zip(ed, eg, g)]
        ed = [rho * x + (1 - rho) * di * di for x, di in zip(ed, d)]
        exp = [wi - lr * di for wi, di in zip(exp, d)]
    return exp


@pytest.mark.parametrize("dtype", DTYPES)
def test_adadelta(dtype):
    w, _ = run(Adadelta, dtype)  # default learning rate is 1.0
    check(w, adadelta_reference(1.0, 0.95, 1e-7), dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_adadelta_custom(dtype):
    lr, rho, eps = 0.5, 0.8, 1e-4
    w, _ = run(Adadelta, dtype, lr=lr, rho=rho, epsilon=eps)
    check(w, adadelta_reference(lr, rho, eps), dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("mu", [0.0, 0.5])
def test_rmsprop(dtype, mu):
    lr, rho, eps = 0.01, 0.9, 1e-7
    w, _ = run(RMSprop, dtype, lr=lr, momentum=mu)
    exp = list(W0)
    v = [0.0, 0.0]
    buf = [0.0, 0.0]
    for g in GRADS:
        v = [rho * vi + (1 - rho) * gi * gi for vi, gi in zip(v, g)]
        u = [gi / (math.sqrt(vi) + eps) for gi, vi in zip(g, v)]
        if mu > 0:
            buf = [mu * b + ui for b, ui in zip(buf, u)]
            exp = [wi - lr * b for wi, b in zip(exp, buf)]
        else:
            exp = [wi - lr * ui for wi, ui in zip(exp, u)]
    check(w, exp, dtype)


def adam_reference(w0, grads, lr, b1, b2, eps, wd=0.0):
    w = list(w0)
    m = [0.0] * len(w)
    v = [0.0] * len(w)
    for t, g in enumerate(grads, start=1):
        w = [wi - lr * wd * wi for wi in w]
        m = [b1 * mi + (1 - b1) * gi for mi, gi in zip(m, g)]
        v = [b2 * vi + (1 - b2) * gi * gi for vi, gi in zip(v, g)]
        m_hat = [mi / (1 - b1**t) for mi in m]
        v_hat = [vi / (1 - b2**t) for vi in v]
        w = [wi - lr * mh / (math.sqrt(vh) + eps) for wi, mh, vh in zip(w, m_hat, v_hat)]
    return w


@pytest.mark.parametrize("dtype", DTYPES)
def test_adam(dtype):
    w, _ = run(Adam, dtype, lr=0.01)
    check(w, adam_reference(W0, GRADS, 0.01, 0.9, 0.999, 1e-7), dtype)
    # first step by hand: m_hat = g, v_hat = g^2, so w moves by lr * sign(g)
    # (up to epsilon: 0.5 / (0.5 + 1e-7) differs from 1 by 2e-7)
    w1, _ = run(Adam, dtype, grads=GRADS[:1], lr=0.01)
    np.testing.assert_allclose(w1, [1.0 - 0.01, -2.0 + 0.01], rtol=1e-6)


@pytest.mark.parametrize("dtype", DTYPES)
def test_adam_custom(dtype):
    w, _ = run(Adam, dtype, lr=0.05, beta_1=0.5, beta_2=0.75, epsilon=0.01)
    check(w, adam_reference(W0, GRADS, 0.05, 0.5, 0.75, 0.01), dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_adamw_decoupled_decay(dtype):
    w, _ = run(AdamW, dtype, lr=0.01, weight_decay=0.1)
    expected = adam_reference(W0, GRADS, 0.01, 0.9, 0.999, 1e-7, wd=0.1)
    check(w, expected, dtype)
    # the decay really changes the result compared with plain Adam
    plain = adam_reference(W0, GRADS, 0.01, 0.9, 0.999, 1e-7)
    assert abs(expected[1] - plain[1]) > 1e-4
    # default weight decay is 0.01; with zero gradients only the decay acts
    w2 = np.array([2.0, -4.0], dtype=dtype)
    opt = AdamW([w2], 0.5)
    opt.step([np.zeros(2, dtype=dtype)])
    np.testing.assert_allclose(w2, [2.0 * (1 - 0.5 * 0.01), -4.0 * (1 - 0.5 * 0.01)], rtol=RTOL[dtype])


def test_adamw_zero_decay_equals_adam():
    a, _ = run(AdamW, np.float64, lr=0.01, weight_decay=0.0)
    b, _ = run(Adam, np.float64, lr=0.01)
    np.testing.assert_array_equal(a, b)


# ------------------------------------------------------------------ clipping
@pytest.mark.parametrize("dtype", DTYPES)
def test_clipnorm_scales_global_norm(dtype):
    # two parameters, gradients [3] and [4]: global norm 5
    w1 = np.array([0.0], dtype=dtype)
    w2 = np.array([0.0], dtype=dtype)
    opt = SGD([w1, w2], 1.0, clipnorm=1.0)
    opt.step([np.array([3.0], dtype=dtype), np.array([-4.0], dtype=dtype)])
    check(w1, [-0.6], dtype)
    check(w2, [0.8], dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_clipnorm_leaves_small_gradients(dtype):
    w = np.array([1.0, 1.0], dtype=dtype)
    opt = SGD([w], 0.1, clipnorm=10.0)
    opt.step([np.array([3.0, 4.0], dtype=dtype)])  # norm 5 <= 10
    check(w, [1.0 - 0.3, 1.0 - 0.4], dtype)


def test_clipnorm_before_adam_state():
    # clipping happens before the state update: v sees the clipped gradient
    w = np.array([0.0, 0.0])
    opt = Adam([w], 0.1, clipnorm=0.5)
    opt.step([np.array([3.0, 4.0])])
    state = opt.state_dict()
    # Adam keeps the decayed sums M = m / (1 - beta_1), V = v / (1 - beta_2)
    np.testing.assert_allclose(state["state.grad_sum.0"], [0.3, 0.4], rtol=1e-12)
    np.testing.assert_allclose(state["state.grad_sq_sum.0"], [0.09, 0.16], rtol=1e-12)


def test_clipnorm_huge_float32_gradients():
    # the float32 sum of squares overflows; the norm is recomputed in float64
    w = np.array([0.0, 0.0], dtype=np.float32)
    opt = SGD([w], 1.0, clipnorm=1.0)
    opt.step([np.array([3e30, 4e30], dtype=np.float32)])
    np.testing.assert_allclose(w, [-0.6, -0.8], rtol=1e-6)


# -------------------------------------------------------------- lr override
@pytest.mark.parametrize("dtype", DTYPES)
def test_lr_override_applies_to_one_step(dtype):
    w = np.array([1.0, 2.0], dtype=dtype)
    opt = SGD([w], 0.1)
    opt.step([np.array([1.0, 1.0], dtype=dtype)], lr=0.5)
    check(w, [0.5, 1.5], dtype)
    opt.step([np.array([1.0, 1.0], dtype=dtype)])
    check(w, [0.4, 1.4], dtype)
    assert opt.learning_rate == 0.1


def test_lr_override_adam_and_zero_lr():
    w, _ = run(Adam, np.float64, lr=0.01)
    w2 = np.array(W0)
    opt = Adam([w2], 123.0)
    for g in GRADS:
        opt.step([np.array(g)], lr=0.01)
    np.testing.assert_allclose(w2, w, rtol=1e-12)
    # lr = 0 moves the state but not the weights
    before = w2.copy()
    opt.step([np.array([1.0, 1.0])], lr=0.0)
    np.testing.assert_array_equal(w2, before)
    assert opt.iterations == 4


def test_adamw_decay_uses_override_lr():
    w = np.array([2.0], dtype=np.float64)
    opt = AdamW([w], 0.01, weight_decay=0.1)
    opt.step([np.zeros(1)], lr=0.5)
    np.testing.assert_allclose(w, [2.0 * (1 - 0.5 * 0.1)], rtol=1e-12)


# ---------------------------------------------------------- state, in place
ALL_CONFIGS = [
    ("sgd", {}),
    ("sgd", {"momentum": 0.9}),
    ("sgd", {"momentum": 0.9, "nesterov": True}),
    ("adagrad", {}),
    ("adadelta", {}),
    ("rmsprop", {}),
    ("rmsprop", {"momentum": 0.5}),
    ("adam", {}),
    ("adamw", {"weight_decay": 0.05}),
]
CONFIG_IDS = [n + ("-" + "-".join(f"{k}{v}" for k, v in h.items()) if h else "") for n, h in ALL_CONFIGS]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name,hyper", ALL_CONFIGS, ids=CONFIG_IDS)
def test_state_dict_round_trip(name, hyper, dtype, tmp_path):
    grads = opt_grad_seq(dtype, 10)
    lrs = [0.01 * (i + 1) for i in range(10)]

    ref = opt_params(dtype)
    opt_ref = make_optimizer(name, ref, 0.01, clipnorm=3.0, **hyper)
    for g, lr in zip(grads, lrs):
        opt_ref.step([x.copy() for x in g], lr=lr)

    first = opt_params(dtype)
    opt_a = make_optimizer(name, first, 0.01, clipnorm=3.0, **hyper)
    for g, lr in zip(grads[:5], lrs[:5]):
        opt_a.step([x.copy() for x in g], lr=lr)
    sd = opt_a.state_dict()
    for key, value in sd.items():
        assert isinstance(value, (np.ndarray, float, int)), key
    path = tmp_path / "opt.npz"
    np.savez(path, **sd)
    with np.load(path) as f:
        loaded = {k: f[k] for k in f.files}

    resumed = [p.copy() for p in first]
    opt_b = make_optimizer(name, resumed, 0.01, clipnorm=3.0, **hyper)
    opt_b.load_state_dict(loaded)
    assert opt_b.iterations == 5
    for g, lr in zip(grads[5:], lrs[5:]):
        opt_b.step([x.copy() for x in g], lr=lr)
        opt_a.step([x.copy() for x in g], lr=lr)
    for r, a, b in zip(ref, first, resumed):
        np.testing.assert_array_equal(a, r)
        np.testing.assert_array_equal(b, r)
    assert opt_b.iterations == opt_ref.iterations == 10


def test_state_dict_is_a_copy():
    w = np.array([1.0, 2.0])
    opt = Adam([w])
    opt.step([np.array([1.0, 1.0])])
    sd = opt.state_dict()
    m = sd["state.grad_sum.0"].copy()
    opt.step([np.array([1.0, 1.0])])
    np.testing.assert_array_equal(sd["state.grad_sum.0"], m)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name,hyper", ALL_CONFIGS, ids=CONFIG_IDS)
def test_reset(name, hyper, dtype):
    grads = opt_grad_seq(dtype, 3)
    fresh = opt_params(dtype)
    opt_fresh = make_optimizer(name, fresh, 0.01, **hyper)
    used = opt_params(dtype)
    opt_used = make_optimizer(name, used, 0.01, **hyper)
    for g in grads:
        opt_used.step([x.copy() for x in g])
    opt_used.reset()
    assert opt_used.iterations == 0
    for p, q in zip(used, opt_params(dtype)):
        p[...] = q
    for g in grads:
        opt_used.step([x.copy() for x in g])
        opt_fresh.step([x.copy() for x in g])
    for a, b in zip(fresh, used):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name,hyper", ALL_CONFIGS, ids=CONFIG_IDS)
def test_in_place_and_dtype(name, hyper, dtype):
    params = opt_params(dtype)
    ids = [id(p) for p in params]
    before = [p.copy() for p in params]
    opt = make_optimizer(name, params, 0.01, **hyper)
    for g in opt_grad_seq(dtype, 3):
        opt.step(g)
    assert [id(p) for p in opt.params] == ids
    for p, b in zip(params, before):
        assert p.dtype == dtype
        assert not np.array_equal(p, b)  # the caller's array itself changed
    for key, value in opt.state_dict().items():
        if isinstance(value, np.ndarray):
            assert value.dtype == dtype, key


@pytest.mark.parametrize("name,hyper", ALL_CONFIGS, ids=CONFIG_IDS)
def test_float64_gradients_on_float32_params(name, hyper):
    p32 = opt_params(np.float32)
    p64 = [p.astype(np.float64) for p in p32]
    o32 = make_optimizer(name, p32, 0.01, **hyper)
    make_optimizer(name, p64, 0.01, **hyper)
    for g in opt_grad_seq(np.float64, 3):
        o32.step(g)
    for p in p32:
        assert p.dtype == np.float32
    for value in o32.state_dict().values():
        if isinstance(value, np.ndarray):
            assert value.dtype == np.float32


def test_no_float64_promotion_of_float32_work():
    # NumPy 2 keeps Python floats weak: float32 arrays with Python scalars stay float32
    a = np.ones(3, dtype=np.float32)
    assert np.result_type(a, 0.1) == np.float32
    assert np.result_type(a, 1.0 - 0.999) == np.float32


def test_read_only_gradients_are_not_modified():
    w = np.array([1.0, 2.0])
    g = np.array([1.0, 1.0])
    g.flags.writeable = False
    opt = Adam([w], 0.1)
    opt.step([g])
    np.testing.assert_array_equal(g, [1.0, 1.0])


def test_non_contiguous_parameter():
    base = np.zeros((4, 4), dtype=np.float32)
    w = base[:, ::2]
    opt = SGD([w], 1.0, momentum=0.5)
    opt.step([np.ones((4, 2), dtype=np.float32)])
    np.testing.assert_array_equal(base[:, ::2], -1.0)
    np.testing.assert_array_equal(base[:, 1::2], 0.0)


# ------------------------------------------------------------- convergence
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name,hyper", ALL_CONFIGS, ids=CONFIG_IDS)
def test_decreases_quadratic(name, hyper, dtype):
    w = np.array([0.0, 1.0, -2.0, 5.5], dtype=dtype)

    def f(x):
        return float(np.sum((x.astype(np.float64) - 3.0) ** 2))

    start = f(w)
    lr = 1.0 if name == "adadelta" else 0.1
    opt = make_optimizer(name, [w], lr, **hyper)
    for _ in range(200):
        opt.step([2.0 * (w - 3.0)])
    end = f(w)
    assert end < start
    if name != "adadelta":  # Adadelta's first steps are tiny by design
        assert end < 0.5 * start


# --------------------------------------------------------------- subnormals
def _assert_no_subnormals(arrays, dtype):
    tiny = np.finfo(dtype).tiny
    for a in arrays:
        assert np.all((a == 0) | (np.abs(a) >= tiny)), a[(a != 0) & (np.abs(a) < tiny)]


def _subnormal_grads(dtype):
    # A dense spread of magnitudes down to the smallest subnormal, so that m
    # and v of different elements cross the subnormal range at many different
    # steps of the run (v decays only by 0.999 per step).
    lo = -45 if dtype == np.float32 else -323
    mags = np.logspace(0, lo, 1024)
    sign = np.where(np.arange(1024) % 2 == 0, 1.0, -1.0)
    return (mags * sign).astype(dtype)


def _run_subnormal(name, hyper, dtype, steps=2000):
    """Run 3 steps with tiny gradients, then ``steps`` with zero gradients.

    Returns the optimizer, the number of state arrays, the total count of
    subnormal state values seen after each step, the longest run of
    consecutive steps any one state value spent subnormal, and the count of
    subnormal values seen right after a flushing step.
    """
    w = np.zeros(1024, dtype=dtype)
    opt = make_optimizer(name, [w], 0.001, **hyper)
    g0 = _subnormal_grads(dtype)
    tiny = np.finfo(dtype).tiny
    n_sub = 0
    n_states = 0
    after_flush = 0
    run: dict[str, np.ndarray] = {}
    longest = 0
    with np.errstate(under="ignore"):
        for t in range(3 + steps):
            g = g0.copy() if t < 3 else np.zeros(1024, dtype=dtype)
            opt.step([g])
            states = {k: v for k, v in opt.state_dict().items() if k.startswith("state.")}
            n_states = len(states)
            for k, a in states.items():
                assert a.dtype == dtype
                sub = (a != 0) & (np.abs(a) < tiny)
                n_sub += int(np.count_nonzero(sub))
                r = run[k] = np.where(sub, run.get(k, 0) + 1, 0)
                longest = max(longest, int(r.max()))
                if opt.iterations % FLUSH_EVERY == 0:
                    after_flush += int(np.count_nonzero(sub))
    return opt, n_states, n_sub, longest, after_flush


ADAMS = ("adam", "adamw")


@pytest.mark.parametrize("dtype", DTYPES)
def test_adam_state_never_stays_subnormal(dtype, backend):
    opt, n_states, n_sub, longest, after_flush = _run_subnormal("adam", {}, dtype)
    assert n_states == 2  # the sums of gradients and of their squares
    if backend == "compiled":
        assert n_sub == 0  # the kernel zeroes subnormal results on every step
    # a value that decays into the subnormal range is zeroed at the next flush
    assert after_flush == 0
    assert longest < FLUSH_EVERY
    sd = opt.state_dict()
    # the run really reached the bottom of the range: many values decayed to (near) 0
    assert np.count_nonzero(np.abs(sd["state.grad_sum.0"]) < 1e3 * np.finfo(dtype).tiny) > 10


@pytest.mark.parametrize("dtype", DTYPES)
def test_adam_without_flush_would_stay_subnormal(dtype, backend, monkeypatch):
    # control: the scenario above does create long-lived subnormals if nothing flushes them
    monkeypatch.setattr(opt_mod, "flush_subnormals", lambda a: None)
    _, _, n_sub, longest, after_flush = _run_subnormal("adam", {}, dtype, steps=2000)
    if backend == "compiled":  # the kernel does not rely on flush_subnormals
        assert n_sub == 0
        return
    assert n_sub > 0 and after_flush > 0
    assert longest > 4 * FLUSH_EVERY


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(
    "name,hyper",
    [
        ("sgd", {"momentum": 0.9}),
        ("rmsprop", {"momentum": 0.9}),
        ("adadelta", {}),
        ("adagrad", {"initial_accumulator": 0.0}),
        ("adamw", {}),
    ],
)
def test_other_states_never_stay_subnormal(name, hyper, dtype, backend):
    _, n_states, n_sub, longest, after_flush = _run_subnormal(name, hyper, dtype, steps=800)
    assert n_states >= 1
    if backend == "compiled" and name in ADAMS:
        assert n_sub == 0
    else:
        assert n_sub > 0  # the run does reach the range, so the flush is what keeps it short
    assert after_flush == 0
    assert longest < FLUSH_EVERY


@pytest.mark.parametrize("dtype", DTYPES)
def test_flush_subnormals_function(dtype):
    fi = np.finfo(dtype)
    tiny = dtype(fi.tiny)
    sub = [tiny / 2, tiny / 1000, -tiny / 3, fi.smallest_subnormal, -fi.smallest_subnormal]
    big = 1e-20 if dtype == np.float32 else 1e-270
    keep = [0.0, 1.0, -1.0, big, -big, 3.14159, fi.max, -fi.max, np.inf, -np.inf]
    a = np.array(sub + keep, dtype=dtype)
    b = a.copy()
    flush_subnormals(a)
    assert a.dtype == dtype
    _assert_no_subnormals([a[np.isfinite(a)]], dtype)
    np.testing.assert_array_equal(a[: len(sub)], 0)
    np.testing.assert_array_equal(a[len(sub):], b[len(sub):])  # bit-exact
    # NaN stays NaN
    n = np.array([np.nan], dtype=dtype)
    flush_subnormals(n)
    assert np.isnan(n[0])
    # random normal values are bit-exact; values near tiny become 0 or normal
    rng = np.random.default_rng(0)
    r = (rng.standard_normal(10_000) * 10.0 ** rng.uniform(-15, 15, 10_000)).astype(dtype)
    r2 = r.copy()
    flush_subnormals(r2)
    np.testing.assert_array_equal(r2, r)
    near = (np.linspace(-20, 20, 2001) * tiny).astype(dtype)
    flush_subnormals(near)
    _assert_no_subnormals([near], dtype)


def test_flush_subnormals_other_dtypes():
    h = np.array([1e-7, 1.0, -2e-7, 0.5], dtype=np.float16)  # float16 subnormals
    flush_subnormals(h)
    np.testing.assert_array_equal(h, np.array([0.0, 1.0, 0.0, 0.5], dtype=np.float16))
    i = np.array([1, 2, 3])
    flush_subnormals(i)
    np.testing.assert_array_equal(i, [1, 2, 3])


# ----------------------------------------------------------- registry, PARAMS
def test_registry_names():
    assert set(OPTIMIZERS) == {"sgd", "adagrad", "adadelta", "rmsprop", "adam", "adamw"}
    for key, cls in OPTIMIZERS.items():
        assert issubclass(cls, Optimizer)
        assert cls.name == key
    assert isinstance(make_optimizer("Adam", [np.zeros(2)]), Adam)
    assert isinstance(make_optimizer("adamw", [np.zeros(2)]), AdamW)


@pytest.mark.parametrize("cls", list(OPTIMIZERS.values()))
def test_hyper_table(cls):
    names = [p.name for p in cls.PARAMS]
    assert names[0] == "learning_rate" and names[-1] == "clipnorm" and len(set(names)) == len(names)
    for spec in cls.PARAMS:
        assert isinstance(spec, ParamSpec), spec
        key, default, help_text = spec.name, spec.default, spec.help
        assert cls.param(key) is spec
        assert isinstance(help_text, str) and help_text
        if spec.kind != "bool":
            assert spec.minimum <= spec.maximum
        if default is not None:
            assert cls.validate_hyper(key, default) == default
    assert cls.param("clipnorm").optional and cls.validate_hyper("clipnorm", None) is None
    with pytest.raises(TrainingError, match="has no hyper-parameter 'zz'"):
        cls.param("zz")
    opt = cls([np.zeros(2)])
    assert opt.learning_rate == cls.param("learning_rate").default
    cfg = opt.config()
    assert cfg["name"] == cls.name
    assert set(cfg) == {"name", *names}


def test_default_learning_rates():
    assert make_optimizer("adadelta", [np.zeros(1)]).learning_rate == 1.0
    assert make_optimizer("sgd", [np.zeros(1)]).learning_rate == 0.01
    assert make_optimizer("adam", [np.zeros(1)]).learning_rate == 0.01
    assert make_optimizer("adam", [np.zeros(1)], learning_rate=0.5).learning_rate == 0.5
    assert make_optimizer("adam", [np.zeros(1)], 0.001, beta_1=0.8).beta_1 == 0.8


# -------------------------------------------------------------------- errors
def test_unknown_optimizer_lists_known():
    with pytest.raises(TrainingError) as exc:
        make_optimizer("adamax", [np.zeros(2)])
    msg = str(exc.value)
    assert "adamax" in msg
    for key in OPTIMIZERS:
        assert key in msg


@pytest.mark.parametrize(
    "name,lr,hyper,words",
    [
        ("adam", 0.01, {"beta1": 0.9}, ["beta1", "beta_1"]),
        ("sgd", 0.01, {"weight_decay": 0.1}, ["weight_decay"]),
        ("sgd", -0.1, {}, ["learning_rate"]),
        ("adam", float("nan"), {}, ["learning_rate"]),
        ("adam", float("inf"), {}, ["learning_rate"]),
        ("sgd", 0.01, {"momentum": 1.0}, ["momentum"]),
        ("sgd", 0.01, {"momentum": -0.1}, ["momentum"]),
        ("sgd", 0.01, {"nesterov": True}, ["Nesterov", "momentum"]),
        ("sgd", 0.01, {"momentum": 0.9, "nesterov": "yes"}, ["nesterov"]),
        ("sgd", 0.01, {"momentum": "0.9"}, ["momentum"]),
        ("sgd", 0.01, {"momentum": True}, ["momentum"]),
        ("rmsprop", 0.01, {"rho": 1.0}, ["rho"]),
        ("adadelta", 1.0, {"rho": -0.5}, ["rho"]),
        ("adam", 0.01, {"beta_1": 1.0}, ["beta_1"]),
        ("adam", 0.01, {"beta_2": 1.5}, ["beta_2"]),
        ("adam", 0.01, {"epsilon": 0.0}, ["epsilon"]),
        ("adagrad", 0.01, {"initial_accumulator": -1.0}, ["initial_accumulator"]),
        ("adamw", 0.01, {"weight_decay": -0.01}, ["weight_decay"]),
        ("adam", 0.01, {"clipnorm": 0.0}, ["clipnorm"]),
        ("adam", 0.01, {"clipnorm": -1.0}, ["clipnorm"]),
    ],
)
def test_bad_hyper_parameters(name, lr, hyper, words):
    with pytest.raises(TrainingError) as exc:
        make_optimizer(name, [np.zeros(2, dtype=np.float32)], lr, **hyper)
    for w in words:
        assert w in str(exc.value)


def test_class_constructor_validates_too():
    with pytest.raises(TrainingError):
        SGD([np.zeros(2)], -1.0)
    with pytest.raises(TrainingError, match="amsgrad"):
        Adam([np.zeros(2)], amsgrad=True)


def test_bad_parameters_and_gradients():
    with pytest.raises(TrainingError, match="dtype"):
        SGD([np.zeros(2, dtype=np.int64)])
    ro = np.zeros(2)
    ro.flags.writeable = False
    with pytest.raises(TrainingError, match="read-only"):
        SGD([ro])
    with pytest.raises(TrainingError):
        SGD(np.zeros(2))
    opt = Adam([np.zeros(2), np.zeros(3)])
    with pytest.raises(TrainingError, match="2 parameters"):
        opt.step([np.zeros(2)])
    with pytest.raises(TrainingError, match="shape"):
        opt.step([np.zeros(2), np.zeros(4)])
    with pytest.raises(TrainingError, match="learning rate"):
        opt.step([np.zeros(2), np.zeros(3)], lr=-0.1)
    with pytest.raises(TrainingError, match="learning rate"):
        opt.step([np.zeros(2), np.zeros(3)], lr=float("nan"))
    assert opt.iterations == 0


def test_load_state_dict_mismatch():
    a = Adam([np.zeros(2)])
    a.step([np.ones(2)])
    sd = a.state_dict()
    with pytest.raises(TrainingError, match="shape"):
        Adam([np.zeros(3)]).load_state_dict(sd)
    with pytest.raises(TrainingError, match="does not fit"):
        SGD([np.zeros(2)], momentum=0.9).load_state_dict(sd)
    with pytest.raises(TrainingError, match="does not fit"):
        Adam([np.zeros(2), np.zeros(2)]).load_state_dict(sd)
    with pytest.raises(TrainingError, match="iterations"):
        Adam([np.zeros(2)]).load_state_dict({k: v for k, v in sd.items() if k != "iterations"})
    # a failed load leaves the optimizer untouched
    b = Adam([np.zeros(2)])
    bad = dict(sd)
    bad["state.grad_sq_sum.0"] = np.zeros(5)
    with pytest.raises(TrainingError):
        b.load_state_dict(bad)
    assert b.iterations == 0
    assert np.all(b.state_dict()["state.grad_sum.0"] == 0)


@pytest.mark.parametrize("name,hyper", ALL_CONFIGS, ids=CONFIG_IDS)
def test_non_contiguous_parameters_are_updated_in_place(name, hyper):
    # a transposed view cannot be flattened without a copy: the update must still land in it
    base = np.arange(12, dtype=np.float64).reshape(3, 4) / 10
    ref = base.T.copy()
    view = base.T
    g = np.linspace(-1, 1, 12).reshape(4, 3)
    make_optimizer(name, [view], 0.1, **hyper).step([g.copy()])
    make_optimizer(name, [ref], 0.1, **hyper).step([g.copy()])
    assert not np.array_equal(base.T, np.arange(12).reshape(3, 4).T / 10)
    np.testing.assert_array_equal(base.T, ref)


def test_adam_reuses_its_blocks_only_for_the_same_gradient_arrays():
    w = np.zeros(5)
    opt = Adam([w], 0.1)
    g1 = np.ones(5)
    opt.step([g1])
    first = opt._blocks([g1])
    assert opt._blocks([g1]) is first
    g2 = np.full(5, 2.0)
    assert opt._blocks([g2]) is not first
    w2 = np.zeros(5)
    ref = Adam([w2], 0.1)
    ref.step([np.ones(5)])
    opt.step([g2])
    ref.step([np.full(5, 2.0)])
    np.testing.assert_array_equal(w, w2)

