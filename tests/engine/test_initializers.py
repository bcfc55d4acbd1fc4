import numpy as np
import pytest

from anndesigner.engine.initializers import NAMES, initialize, rng_for


@pytest.mark.parametrize("kind,var", [
    ("glorot_uniform", 2 / (300 + 200)), ("glorot_normal", 2 / (300 + 200)),
    ("he_uniform", 2 / 300), ("he_normal", 2 / 300), ("lecun_uniform", 1 / 300), ("lecun_normal", 1 / 300),
])
def test_variance_scaling(kind, var):
    w = initialize(kind, (300, 200), 300, 200, np.random.default_rng(0))
    assert w.dtype == np.float32 and w.shape == (300, 200)
    assert w.var() == pytest.approx(var, rel=0.05)
    assert abs(w.mean()) < 0.01
    if kind.endswith("uniform"):
        assert np.abs(w).max() <= np.sqrt(3 * var) + 1e-7


def test_constants_and_small_random():
    assert not initialize("zeros", (3,), 1, 1, np.random.default_rng(0)).any()
    assert (initialize("ones", (3,), 1, 1, np.random.default_rng(0)) == 1).all()
    assert np.abs(initialize("uniform", (1000,), 1, 1, np.random.default_rng(0))).max() <= 0.05
    assert initialize("normal", (10000,), 1, 1, np.random.default_rng(0)).std() == pytest.approx(0.05, rel=0.05)
    assert initialize("he_normal", (2,), 1, 1, np.random.default_rng(0), np.float64).dtype == np.float64
    assert len(NAMES) == 11


def test_seeded_per_weight_name():
    a = initialize("glorot_uniform", (4, 4), 4, 4, rng_for(0, "dense_1/kernel"))
    b = initialize("glorot_uniform", (4, 4), 4, 4, rng_for(0, "dense_1/kernel"))
    c = initialize("glorot_uniform", (4, 4), 4, 4, rng_for(0, "dense_2/kernel"))
    d = initialize("glorot_uniform", (4, 4), 4, 4, rng_for(1, "dense_1/kernel"))
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c) and not np.array_equal(a, d)
    with pytest.raises(KeyError):
        initialize("golden", (2,), 1, 1, np.random.default_rng(0))


def test_orthogonal_initializer_gives_orthonormal_rows_or_columns():
    from anndesigner.engine.initializers import initialize

    wide = initialize("orthogonal", (5, 20), 5, 20, np.random.default_rng(0), np.float64)
    np.testing.assert_allclose(wide @ wide.T, np.eye(5), atol=1e-12)
    tall = initialize("orthogonal", (20, 5), 20, 5, np.random.default_rng(0), np.float64)
    np.testing.assert_allclose(tall.T @ tall, np.eye(5), atol=1e-12)


def test_forget_gate_bias_is_one_only_on_the_second_quarter():
    from anndesigner.engine.initializers import initialize

    b = initialize("forget_gate_ones", (8,), 1, 1, np.random.default_rng(0), np.float32)
    np.testing.assert_array_equal(b, [0, 0, 1, 1, 0, 0, 0, 0])


def test_every_initializer_returns_a_c_contiguous_array():
    from anndesigner.engine.initializers import initialize

    for name in NAMES:
        for shape in [(3, 12), (12, 3), (2, 3, 4)]:
            w = initialize(name, shape, 3, 12, np.random.default_rng(0), np.float32)
            assert w.flags.c_contiguous and w.shape == shape, (name, shape)
