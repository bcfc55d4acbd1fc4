"""A GRU in PyTorch's form (reset_after=True, two bias rows) exports to PyTorch and
NumPy code that computes what our engine computes; the default form still does."""

import importlib.util

import numpy as np
import pytest

import anndesigner as ad


def gru_net(reset_after: bool, seq: bool, seed=0):
    g = ad.Graph()
    x = g.add_node("Input", shape=[5, 3]).id
    r = g.add_node("GRU", units=4, return_sequences=seq, reset_after=reset_after).id
    g.connect(x, r)
    prev = r
    if seq:
        f = g.add_node("Flatten").id
        g.connect(r, f)
        prev = f
    o = g.add_node("Output", units=2, activation="linear", loss="mse").id
    g.connect(prev, o)
    net = ad.Network(g, seed=seed)
    rng = np.random.default_rng(seed + 1)  # biases not zero, so both rows matter
    net.set_weights({k: rng.normal(scale=0.5, size=v.shape).astype(v.dtype) for k, v in net.get_weights().items()})
    return net


def load(path):
    spec = importlib.util.spec_from_file_location(path.stem, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.mark.parametrize("reset_after", [False, True])
@pytest.mark.parametrize("seq", [False, True])
def test_numpy_script_computes_our_gru(tmp_path, reset_after, seq):
    from anndesigner.interop import export

    net = gru_net(reset_after, seq)
    if reset_after:
        assert net.get_weights()[next(k for k in net.get_weights() if k.endswith("/bias") and "gru" in k)].shape == (2, 12)
    files = export(net, "numpy", tmp_path / "gru_np.py")
    mod = load(files[0])
    X = np.random.default_rng(3).normal(size=(7, 5, 3)).astype(np.float32)
    np.testing.assert_allclose(np.asarray(mod.forward(X)).reshape(7, -1), net.predict(X), atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("reset_after", [False, True])
def test_pytorch_module_computes_our_gru(tmp_path, reset_after):
    torch = pytest.importorskip("torch", reason="PyTorch is not installed (the interop extra)")
    from anndesigner.interop import export

    net = gru_net(reset_after, seq=True)
    files = export(net, "pytorch", tmp_path / "gru_torch.py")
    mod = load(files[0])
    model = mod.load_weights(mod.Model()) if hasattr(mod, "Model") else None
    if model is None:
        pytest.fail(f"the script has no Model class: {[n for n in dir(mod) if not n.startswith('_')]}")
    X = np.random.default_rng(4).normal(size=(6, 5, 3)).astype(np.float32)
    with torch.no_grad():
        y = model(torch.from_numpy(X.reshape(6, -1)))
    y = (y[0] if isinstance(y, (tuple, list)) else y).numpy()
    np.testing.assert_allclose(y.reshape(6, -1), net.predict(X), atol=1e-5, rtol=1e-5)
