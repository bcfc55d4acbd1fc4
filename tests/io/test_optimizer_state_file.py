"""optimizer.npz: the optimizer state saved beside the weights (no pickle), read
back bit for bit; files without it load as before; a damaged one is dropped
with a warning naming the problem, and the network still opens."""

from __future__ import annotations

import io
import zipfile

import numpy as np
import pytest

import anndesigner as ad
from anndesigner.io.annfile import OptimizerStateWarning
from helpers import mlp

rng = np.random.default_rng(5)
X = rng.normal(size=(40, 3)).astype(np.float32)
Y = (X[:, :1] * X[:, 1:2] > 0).astype(np.float32)

OPTIMIZERS = [("sgd", {}), ("sgd", {"momentum": 0.9}), ("adam", {}), ("rmsprop", {}), ("adagrad", {}),
              ("adadelta", {})]


def settings(name, hyper):
    return dict(optimizer=name, optimizer_params=dict(hyper), learning_rate=1.0 if name == "adadelta" else 0.05,
                batch_size=8, shuffle=True)


def trained(name="adam", hyper=None, epochs=3, seed=2):
    net = ad.Network(mlp([3, 5, 1]), seed=seed)
    net.fit(X, Y, epochs=epochs, **settings(name, hyper or {}))
    return net


def assert_same_state(a, b):
    assert a.keys() == b.keys()
    for k in a:
        if isinstance(a[k], np.ndarray):
            assert a[k].dtype == b[k].dtype and a[k].tobytes() == b[k].tobytes(), k
        else:
            assert type(a[k]) is type(b[k]) and a[k] == b[k], k


@pytest.mark.parametrize("name,hyper", OPTIMIZERS)
def test_save_load_resume_is_exact(name, hyper, tmp_path):
    once = trained(name, hyper, epochs=6)
    half = trained(name, hyper, epochs=3)
    path = tmp_path / "half.ann"
    half.save(path)
    back = ad.Network.load(path)
    assert_same_state(back.optimizer_state, half.optimizer_state)  # bit for bit
    back.fit(X, Y, epochs=3, **settings(name, hyper))
    for k, v in once.get_weights().items():
        np.testing.assert_allclose(back.get_weights()[k], v, atol=1e-6, rtol=0, err_msg=k)


def test_no_pickle_in_the_file(tmp_path):
    path = tmp_path / "a.ann"
    trained().save(path)
    with zipfile.ZipFile(path) as z:
        inner = zipfile.ZipFile(io.BytesIO(z.read("optimizer.npz")))
        for info in inner.infolist():
            with inner.open(info) as f:
                np.lib.format.read_array(f, allow_pickle=False)


def test_without_state_nothing_is_written(tmp_path):
    net = trained()
    net.reset_weights()
    path = tmp_path / "a.ann"
    net.save(path)
    with zipfile.ZipFile(path) as z:
        assert "optimizer.npz" not in z.namelist()
    assert ad.Network.load(path).optimizer_state is None


def rewrite(path, out, optimizer_npz=None, drop=False):
    with zipfile.ZipFile(path) as z:
        members = {n: z.read(n) for n in z.namelist()}
    if drop:
        members.pop("optimizer.npz")
    if optimizer_npz is not None:
        members["optimizer.npz"] = optimizer_npz
    with zipfile.ZipFile(out, "w") as z:
        for n, data in members.items():
            z.writestr(n, data)


def test_an_older_file_without_it_loads(tmp_path, recwarn):
    src = tmp_path / "a.ann"
    net = trained()
    net.save(src)
    rewrite(src, tmp_path / "old.ann", drop=True)
    back = ad.Network.load(tmp_path / "old.ann")
    assert back.optimizer_state is None
    assert not [w for w in recwarn if issubclass(w.category, OptimizerStateWarning)]
    for k, v in net.get_weights().items():
        np.testing.assert_array_equal(back.get_weights()[k], v)


def npz(arrays, pickled=None):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for k, v in arrays.items():
            with z.open(k + ".npy", "w") as f:
                np.lib.format.write_array(f, np.asarray(v), allow_pickle=pickled is not None)
    return buf.getvalue()


def good_arrays(net):
    from anndesigner.io.annfile import _optimizer_arrays
    return _optimizer_arrays(net.optimizer_state)


def _bad_cases(net):
    good = good_arrays(net)
    k = next(k for k in good if k.startswith("state."))
    cases = {
        "not a zip": (b"garbage" * 10, "damaged"),
        "wrong shape": ({**good, k: np.zeros((9, 9), np.float32)}, "do not fit"),
        "nan": ({**good, k: np.full(good[k].shape, np.nan, np.float32)}, "NaN"),
        "strings": ({**good, k: np.array(["a"] * good[k].size).reshape(good[k].shape)}, "dtype"),
        "no iterations": ({a: b for a, b in good.items() if a != "iterations"}, "iterations"),
        "negative iterations": ({**good, "iterations": np.array(-3)}, "iterations"),
        "array iterations": ({**good, "iterations": np.arange(3)}, "single number"),
        "unknown key": ({**good, "../evil": np.array(1.0)}, "not a part"),
        "object array": ({**good, k: np.array([object()], dtype=object)}, "cannot be read"),
        "unknown weight": ({**good, "state.grad_sum.ghost/kernel": np.zeros(2, np.float32)}, "do not fit"),
    }
    return cases


@pytest.mark.parametrize("case", ["not a zip", "wrong shape", "nan", "strings", "no iterations",
                                  "negative iterations", "array iterations", "unknown key", "object array",
                                  "unknown weight"])
def test_malformed_state_is_dropped_with_a_clear_warning(case, tmp_path):
    net = trained()
    src = tmp_path / "a.ann"
    net.save(src)
    data, match = _bad_cases(net)[case]
    raw = data if isinstance(data, bytes) else npz(data, pickled=True if case == "object array" else None)
    rewrite(src, tmp_path / "bad.ann", optimizer_npz=raw)
    with pytest.warns(OptimizerStateWarning, match=match) as rec:
        back = ad.Network.load(tmp_path / "bad.ann")
    assert "bad.ann: optimizer.npz" in str(rec[0].message)
    assert back.optimizer_state is None
    for k, v in net.get_weights().items():  # the rest of the file is as it was
        np.testing.assert_array_equal(back.get_weights()[k], v)


def test_fuzzed_state_never_crashes(tmp_path):
    net = trained()
    src = tmp_path / "a.ann"
    net.save(src)
    with zipfile.ZipFile(src) as z:
        raw = bytearray(z.read("optimizer.npz"))
    r = np.random.default_rng(0)
    for i in range(60):
        bad = bytearray(raw)
        for pos in r.integers(0, len(bad), size=int(r.integers(1, 8))):
            bad[pos] = int(r.integers(0, 256))
        out = tmp_path / f"f{i}.ann"
        rewrite(src, out, optimizer_npz=bytes(bad))
        import warnings
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", OptimizerStateWarning)
            back = ad.Network.load(out)
        st = back.optimizer_state
        if st is not None:  # what was read is usable
            back.trainer(X, Y)
