"""anndesigner/interop/torch_export.py: the exported PyTorch module computes what our
network computes (every sample, every layer type, neuron-drawn networks) within 1e-5; one
epoch of the exported script's training ends at our trainer's weights within 1e-4 (plain SGD
on every backprop sample; every optimizer; shuffling, validation split, schedule, L1/L2 and
clipping); ``torchrun --nproc-per-node 2`` trains it to the end with a falling loss; and
``--save-ann`` writes a network that opens in ANN Designer and predicts like the trained module."""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="the PyTorch export is checked with PyTorch (interop extra)")

import anndesigner as ad  # noqa: E402
from anndesigner.data import load_csv, load_source  # noqa: E402
from anndesigner.engine.activations import NAMES as ACT_NAMES  # noqa: E402
from anndesigner.interop import InteropError, export  # noqa: E402
from anndesigner.interop.torch_export import export_pytorch  # noqa: E402
from netzoo import chain, randomized, raw_rows  # noqa: E402

SAMPLES = Path(__file__).resolve().parents[2] / "samples"
SAMPLE_NAMES = sorted(p.stem for p in SAMPLES.glob("*.ann"))
TOL = 1e-5
TRAIN_TOL = 1e-4


# ------------------------------------------------------------------ helpers
def sample(name):
    return ad.load(SAMPLES / f"{name}.ann")


def script_module(path: Path):
    """The exported script imported as a module (its main() not run)."""
    spec = importlib.util.spec_from_file_location(f"exported_{abs(hash(str(path)))}", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def exported(net, tmp_path, name="model"):
    files = export(net, "pytorch", tmp_path / name / f"{name}.py")
    return files, script_module(files[0])


def module_outputs(mod, X):
    model = mod.load_weights(mod.Model()).eval()
    with torch.no_grad():
        return model(torch.from_numpy(np.asarray(X))).numpy()


def neuron_net():
    """Drawn neuron by neuron: two neurons reading different inputs, a third reading both, and a
    neuron with another activation reading the same inputs as the first (not one layer)."""
    g = ad.Graph()
    a = g.add_node("Input", shape=[2]).id
    b = g.add_node("Input", shape=[1]).id
    n1 = g.add_node("Neuron", activation="tanh").id
    n2 = g.add_node("Neuron", activation="tanh").id
    n3 = g.add_node("Neuron", activation="elu").id
    n4 = g.add_node("Neuron", activation="sigmoid", use_bias=False).id
    out = g.add_node("Output", units=1, activation="sigmoid", loss="binary_crossentropy").id
    for src, dst in ((a, n1), (a, n2), (a, n3), (b, n3), (n1, n4), (n3, n4), (n2, out), (n4, out)):
        g.connect(src, dst)
    return g


def concat_add_net():
    g = ad.Graph()
    x = g.add_node("Input", shape=[3]).id
    d1 = g.add_node("Dense", units=2, activation="leaky_relu").id
    d2 = g.add_node("Dense", units=2, activation="softplus").id
    c = g.add_node("Concatenate").id
    d3 = g.add_node("Dense", units=4, activation="sign").id
    s = g.add_node("Add").id
    act = g.add_node("Activation", activation="softmax").id
    out = g.add_node("Output", units=3, activation="softmax", loss="categorical_crossentropy").id
    for src, dst in ((x, d1), (x, d2), (d1, c), (d2, c), (x, d3), (c, s), (d3, s), (s, act), (act, out)):
        g.connect(src, dst)
    return g


#: small networks that, with the samples, hold every layer type, every activation, both
#: paddings, both positional encodings, causal attention and the norms with and without γ/β
EXTRA = {
    "neurons": (neuron_net, (3,)),
    "concat-add": (concat_add_net, (3,)),
    "activations": (lambda: chain(("Dense", {"units": 4, "activation": "gelu"}), ("Activation", {"activation": "elu"}),
                                  *([("Activation", {"activation": "gelu_tanh"})] if "gelu_tanh" in ACT_NAMES else []),
                                  ("Dense", {"units": 3, "activation": "relu"}), in_shape=(3,),
                                  out_activation="tanh"), (3,)),
    "step": (lambda: chain(("Dense", {"units": 3, "activation": "step"}), in_shape=(3,)), (3,)),
    "conv-same": (lambda: chain(("Conv2D", {"filters": 3, "kernel_size": [3, 2], "strides": [2, 1],
                                            "padding": "same", "activation": "elu"}),
                                ("MaxPool2D", {"pool_size": [2, 2], "strides": [1, 2], "padding": "same"}),
                                ("AvgPool2D", {"pool_size": [3, 3], "strides": [2, 2], "padding": "same"}),
                                ("Flatten", {}), in_shape=(5, 6, 2)), (5, 6, 2)),
    "conv-valid": (lambda: chain(("Conv2D", {"filters": 2, "kernel_size": [2, 2], "activation": "softplus",
                                             "use_bias": False}),
                                 ("AvgPool2D", {}), ("GlobalAvgPool", {}), in_shape=(5, 5, 2)), (5, 5, 2)),
    "rnn-gru": (lambda: chain(("SimpleRNN", {"units": 3, "return_sequences": True}),
                              ("GRU", {"units": 3, "return_sequences": True}), ("GRU", {"units": 2, "use_bias": False}),
                              in_shape=(4, 2), out_activation="sigmoid", loss="binary_crossentropy"), (4, 2)),
    "rnn-other": (lambda: chain(("SimpleRNN", {"units": 3, "activation": "sigmoid", "return_sequences": True}),
                                ("SimpleRNN", {"units": 2, "activation": "relu"}), in_shape=(3, 2)), (3, 2)),
    "lstm-seq": (lambda: chain(("LSTM", {"units": 3, "return_sequences": True}),
                               ("LSTM", {"units": 2, "use_bias": False}), in_shape=(4, 2)), (4, 2)),
    "batchnorm-reshape": (lambda: chain(("Reshape", {"shape": [3, 4]}), ("Dense", {"units": 3, "activation": "tanh"}),
                                        ("BatchNorm", {"momentum": 0.9}), ("BatchNorm", {"center": False}),
                                        ("Flatten", {}), in_shape=(12,)), (12,)),
    "layernorm": (lambda: chain(("Reshape", {"shape": [2, 3]}), ("LayerNorm", {"center": False}),
                                ("LayerNorm", {"scale": False}), ("Flatten", {}), in_shape=(6,)), (6,)),
    "attention": (lambda: chain(("Embedding", {"input_dim": 5, "output_dim": 4}),
                                ("PositionalEncoding", {"kind": "sinusoidal"}),
                                ("SelfAttention", {"heads": 3, "key_dim": 2, "causal": True}),
                                ("SelfAttention", {"heads": 1, "key_dim": 3, "use_bias": False}),
                                ("Dropout", {"rate": 0.3}), ("GlobalAvgPool", {}), in_shape=(5,)), (5,)),
}


def extra_rows(key, in_shape, n=37, seed=5):
    rng = np.random.default_rng(seed)
    if key == "attention":
        return rng.integers(0, 5, size=(n,) + in_shape).astype(np.float32)
    return rng.normal(size=(n,) + in_shape).astype(np.float32)


def extra_net(key, seed=0, **training):
    make, in_shape = EXTRA[key]
    net = randomized(ad.Network(make(), seed=seed, training=training or None))
    return net, in_shape


# ------------------------------------------------------------ the forward pass
@pytest.mark.parametrize("name", SAMPLE_NAMES)
def test_every_sample_computes_what_we_compute(name, tmp_path):
    net = sample(name)
    X = raw_rows(net)
    files, mod = exported(net, tmp_path)
    assert files[0].suffix == ".py" and all(f.exists() for f in files)
    for rows in (X[:1], X):  # raw rows, standardized by the module as by our predict
        np.testing.assert_allclose(module_outputs(mod, rows), net.predict(rows), rtol=TOL, atol=TOL)


@pytest.mark.parametrize("key", list(EXTRA))
def test_every_layer_type_computes_what_we_compute(key, tmp_path):
    net, in_shape = extra_net(key)
    X = extra_rows(key, in_shape)
    _, mod = exported(net, tmp_path)
    theirs = module_outputs(mod, X.reshape(len(X), -1))
    np.testing.assert_allclose(theirs, net.predict(X), rtol=TOL, atol=TOL)


def test_every_layer_type_is_covered():
    seen = {n.type_id for name in SAMPLE_NAMES for n in sample(name).graph.nodes.values()}
    for make, _ in EXTRA.values():
        seen |= {n.type_id for n in make().nodes.values()}
    assert {t.type_id for t in ad.graph.BUILTIN_REGISTRY} <= seen


def test_the_script_names_the_nodes_and_their_shapes(tmp_path):
    files, _ = exported(sample("digits-cnn"), tmp_path)
    text = files[0].read_text()
    assert "class Model(nn.Module):" in text
    assert re.search(r"^\s+conv2d_1 = nhwc\(torch\.relu\(self\.conv2d_1\(F\.pad\(nchw\(input_1\), \(1, 1, 1, 1\)\)\)\)\)"
                     r"  # \(N, 8, 8, 16\)$", text, re.M)
    assert re.search(r"^\s+flatten_1 = maxpool2d_1\.reshape\(len\(maxpool2d_1\), -1\)  # \(N, 512\)$", text, re.M)
    assert "'epsilon': 1e-07" in text  # our Adam's ε, not PyTorch's 1e-8
    with np.load(files[1], allow_pickle=False) as npz:  # a plain state dict, no pickle
        assert set(npz.files) == {"conv2d_1.weight", "conv2d_1.bias", "conv2d_2.weight", "conv2d_2.bias",
                                  "dense_1.weight", "dense_1.bias", "output_1.weight", "output_1.bias"}
        assert npz["conv2d_1.weight"].shape == (16, 1, 3, 3)


def test_batchnorm_statistics_follow_our_convention_while_training(tmp_path):
    """In training mode the module's BatchNorm normalizes with the batch and moves its averages
    as ours does (momentum = weight of the old value, biased variance)."""
    net, in_shape = extra_net("batchnorm-reshape")
    X = extra_rows("batchnorm-reshape", in_shape, n=8)
    _, mod = exported(net, tmp_path)
    model = mod.load_weights(mod.Model()).train()
    with torch.no_grad():
        theirs = model(torch.from_numpy(X)).numpy()
    prog = net.program
    ours = prog.forward([X], training=True)[0]
    np.testing.assert_allclose(theirs, ours, rtol=TOL, atol=TOL)
    w = net.get_weights()
    stats = mod.ann_weights(model)
    for k in w:
        if "moving" in k:
            np.testing.assert_allclose(stats[k], w[k], rtol=TOL, atol=TOL, err_msg=k)
    prog.clear()


# ---------------------------------------------------------------- training
def train_both(net, X, Y, tmp_path, argv=(), **settings):
    """Our trainer and the exported script's main() on the same rows; (ours, theirs, before)."""
    net.optimizer_state = None
    before = net.get_weights()
    n = len(X)
    _, mod = exported(net, tmp_path)
    out = tmp_path / "trained.npz"
    assert mod.main(["--limit", str(n), "--out", str(out), *argv]) == 0
    net.fit(X, Y, **settings)
    with np.load(out, allow_pickle=False) as npz:
        theirs = {k: npz[k] for k in npz.files}
    return net.get_weights(), theirs, before


def assert_trained_alike(ours, theirs, before):
    assert set(ours) == set(theirs)
    moved = max(float(np.abs(ours[k] - before[k]).max()) for k in ours)
    assert moved > 10 * TRAIN_TOL  # the comparison below says something
    for k in ours:
        np.testing.assert_allclose(theirs[k], ours[k], rtol=0, atol=TRAIN_TOL, err_msg=k)


def sgd_epoch(net, lr, limit):
    for nid, node in net.graph.nodes.items():
        if node.type_id == "Dropout":
            net.graph.set_params(nid, rate=0.0)
    net.set_training(net.training.replace(optimizer="sgd", optimizer_params={}, learning_rate=lr, epochs=1,
                                          shuffle=False, validation_split=0.0, early_stopping=False, l1=0.0,
                                          l2=0.0, schedule={"kind": "constant"}))
    net.set_training({**net.training.to_dict(), "clipnorm": None})
    ds = load_source(net.data_source, base_dir=SAMPLES)
    return ds.X[:limit], ds.Y[:limit]


BACKPROP_SAMPLES = [n for n in SAMPLE_NAMES if sample(n).training.rule == "backprop"]


@pytest.mark.parametrize("name", BACKPROP_SAMPLES)
def test_one_epoch_of_sgd_ends_at_our_weights(name, tmp_path):
    net = sample(name)
    lr = {"house-prices": 1e-4, "autoencoder": 2.0}.get(name, 0.1)
    X, Y = sgd_epoch(net, lr, limit=48)
    assert_trained_alike(*train_both(net, X, Y, tmp_path))


@pytest.mark.parametrize("key", ["conv-same", "rnn-gru", "lstm-seq", "batchnorm-reshape", "layernorm", "attention",
                                 "neurons", "rnn-other"])
def test_one_epoch_of_sgd_through_every_layer_type(key, tmp_path):
    net, in_shape = extra_net(key)
    if key == "attention":
        net.graph.set_params(next(n for n, v in net.graph.nodes.items() if v.type_id == "Dropout"), rate=0.0)
    X = extra_rows(key, in_shape, n=24).reshape(24, -1)
    units = net.program.outputs[0].units
    Y = np.random.default_rng(9).random((24, units)).astype(np.float32)
    path = tmp_path / "data.csv"
    with open(path, "w") as f:
        f.write(",".join([f"x{i}" for i in range(X.shape[1])] + [f"y{i}" for i in range(units)]) + "\n")
        for xr, yr in zip(X.tolist(), Y.tolist()):
            f.write(",".join(repr(v) for v in xr + yr) + "\n")
    ds = load_csv(path, targets=[f"y{i}" for i in range(units)], task="regression", standardize=False)
    np.testing.assert_array_equal(ds.X, X)
    net.set_data_source(ds.source)
    net.set_training(dict(optimizer="sgd", learning_rate=0.2, epochs=1, batch_size=8, shuffle=False))
    files, _ = exported(net, tmp_path)
    assert not any(f.name.endswith("_data.csv") for f in files)  # the CSV itself is named, not copied
    assert_trained_alike(*train_both(net, ds.X, ds.Y, tmp_path))


OPTIMIZERS = {
    "sgd": {},
    "sgd-momentum": {"momentum": 0.9},
    "sgd-nesterov": {"momentum": 0.8, "nesterov": True},
    "adagrad": {},
    "adagrad-zero": {"initial_accumulator": 0.0, "epsilon": 1e-3},
    "adadelta": {},
    "rmsprop": {},
    "rmsprop-momentum": {"momentum": 0.5, "rho": 0.8},
    "adam": {},
    "adam-betas": {"beta_1": 0.5, "beta_2": 0.9, "epsilon": 1e-4},
    "adamw": {"weight_decay": 0.1},
}


@pytest.mark.parametrize("key", list(OPTIMIZERS))
def test_two_steps_of_every_optimizer_match_ours(key, tmp_path):
    net = sample("spirals")
    name = key.split("-")[0]
    lr = {"adadelta": 1.0, "sgd": 0.5}.get(name, 0.05)
    net.set_training(dict(optimizer=name, optimizer_params=OPTIMIZERS[key], learning_rate=lr, epochs=1,
                          batch_size=16, shuffle=False))
    ds = load_source(net.data_source)
    assert_trained_alike(*train_both(net, ds.X[:32], ds.Y[:32], tmp_path))


def test_settings_shuffle_split_schedule_regularization_and_clipping_match_ours(tmp_path):
    """Three epochs in our shuffled order, with our validation rows held out, a step schedule,
    L1 and L2 on the kernels and clipping by the global norm."""
    net = sample("spirals")
    net.set_training(dict(optimizer="adam", learning_rate=0.05, epochs=3, batch_size=16, shuffle=True,
                          validation_split=0.25, schedule={"kind": "step", "step_size": 1, "gamma": 0.5},
                          l1=0.001, l2=0.01, clipnorm=0.5))
    ds = load_source(net.data_source)
    assert_trained_alike(*train_both(net, ds.X[:64], ds.Y[:64], tmp_path))


def test_early_stopping_restores_the_best_weights_as_ours(tmp_path):
    net = sample("xor")
    net.set_training(dict(optimizer="sgd", learning_rate=5.0, epochs=30, batch_size=2, shuffle=True,
                          early_stopping=True, patience=2, restore_best_weights=True))
    ds = load_source(net.data_source)
    ours, theirs, before = train_both(net, ds.X, ds.Y, tmp_path)
    assert len(net.history) < 30  # it did stop early
    assert_trained_alike(ours, theirs, before)


@pytest.mark.parametrize("name", ["perceptron", "hebbian", "mp-neuron"])
def test_a_classic_rule_stays_ours(name, tmp_path, capsys):
    net = sample(name)
    _, mod = exported(net, tmp_path)
    out = tmp_path / "trained.npz"
    assert mod.main(["--out", str(out)]) == 0
    assert "stays in ANN Designer" in capsys.readouterr().out
    assert not out.exists()


def test_a_file_that_is_not_a_script_is_refused(tmp_path):
    with pytest.raises(InteropError, match="Python script"):
        export_pytorch(sample("xor"), tmp_path / "model.txt")


# ----------------------------------------------------------- --save-ann
def test_save_ann_opens_in_the_designer_and_predicts_like_the_trained_module(tmp_path):
    net = sample("house-prices")
    net.set_training(net.training.replace(epochs=2, learning_rate=0.01))
    _, mod = exported(net, tmp_path)
    trained, ann = tmp_path / "trained.npz", tmp_path / "trained.ann"
    assert mod.main(["--limit", "64", "--out", str(trained), "--save-ann", str(ann)]) == 0
    back = ad.load(ann)
    with np.load(trained, allow_pickle=False) as npz:
        weights = {k: npz[k] for k in npz.files}
    model = mod.load_ann_weights(mod.Model(), weights).eval()
    X = raw_rows(net)
    with torch.no_grad():
        theirs = model(torch.from_numpy(X)).numpy()
    np.testing.assert_allclose(back.predict(X), theirs, rtol=TOL, atol=TOL)
    assert not np.allclose(back.predict(X), net.predict(X), atol=1e-3)  # it is the trained network
    assert back.data_source == net.data_source and back.graph.to_dict()["nodes"] == net.graph.to_dict()["nodes"]


# ----------------------------------------------------------- torchrun
def test_torchrun_with_two_processes_trains_to_the_end_as_ours(tmp_path):
    """Two gloo processes, each half of every batch: the loss falls and, in order (no shuffling),
    the averaged gradients are those of the whole batch, so it ends at our trainer's weights."""
    net = sample("spirals")
    net.set_training(net.training.replace(epochs=3, learning_rate=0.05, batch_size=32, shuffle=False))
    assert net.training.validation_split > 0  # the split is tested along
    files, _ = exported(net, tmp_path)
    out = tmp_path / "ddp.npz"
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2",
         str(files[0]), "--limit", "400", "--out", str(out)],
        capture_output=True, text=True, timeout=120, env=env, cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    losses = [float(m) for m in re.findall(r"^epoch \d+\s+loss ([0-9.]+)", proc.stdout, re.M)]
    assert len(losses) == 3, proc.stdout  # rank 0 logs, once per epoch
    assert losses[-1] < losses[0]
    with np.load(out, allow_pickle=False) as npz:
        trained = {k: npz[k] for k in npz.files}
    before = net.get_weights()
    net.optimizer_state = None
    ds = load_source(net.data_source)
    net.fit(ds.X[:400], ds.Y[:400])
    assert net.history["loss"][-1] == pytest.approx(losses[-1], abs=1e-4)
    assert_trained_alike(net.get_weights(), trained, before)


# ----------------------------------------------------------------- data
def test_a_csv_data_set_is_named_by_its_path_and_read_as_ours(tmp_path):
    """Class labels in a CSV file, standardized inputs: the script reads the file itself (by a path
    relative to the script), encodes the classes in our order and standardizes as ours."""
    rng = np.random.default_rng(3)
    path = tmp_path / "flowers.csv"
    labels = ["iris", "rose", "tulip"]
    X = rng.normal(loc=[5.0, -2.0], scale=[2.0, 0.5], size=(30, 2)).round(3)
    with open(path, "w") as f:
        f.write("length,width,kind\n")
        for i, row in enumerate(X):
            f.write(f"{row[0]},{row[1]},{labels[i % 3]}\n")
    ds = load_csv(path, targets=["kind"])
    assert ds.scaler is not None and ds.Y.shape == (30, 3)
    g = chain(("Dense", {"units": 4, "activation": "tanh"}), in_shape=(2,), out_units=3,
              out_activation="softmax", loss="categorical_crossentropy")
    net = ad.Network(g, seed=2, data=ds.source,
                     training=dict(optimizer="sgd", learning_rate=0.5, epochs=1, batch_size=8, shuffle=False))
    files, mod = exported(net, tmp_path)
    assert not any(f.suffix == ".csv" for f in files)
    assert mod.DATA["path"] == "../flowers.csv"
    Xraw, Y = mod.load_data()
    np.testing.assert_array_equal(Xraw, X)
    np.testing.assert_array_equal(Y, ds.Y)
    np.testing.assert_allclose(module_outputs(mod, Xraw), net.predict(Xraw), rtol=TOL, atol=TOL)
    assert_trained_alike(*train_both(net, ds.X, ds.Y, tmp_path))


def test_a_network_without_data_exports_its_module_and_says_main_has_no_data(tmp_path):
    g = chain(("Dense", {"units": 3, "activation": "relu"}), in_shape=(2,))
    net = randomized(ad.Network(g, seed=0))
    files, mod = exported(net, tmp_path)
    assert len(files) == 3  # script, weights, design
    X = np.random.default_rng(0).normal(size=(5, 2)).astype(np.float32)
    np.testing.assert_allclose(module_outputs(mod, X), net.predict(X), rtol=TOL, atol=TOL)
    with pytest.raises(SystemExit, match="no data set"):
        mod.main(["--out", str(tmp_path / "t.npz")])


def test_save_ann_without_anndesigner_says_what_to_install(tmp_path, monkeypatch):
    net = sample("xor")
    net.set_training(net.training.replace(epochs=1))
    _, mod = exported(net, tmp_path)
    monkeypatch.setitem(sys.modules, "anndesigner", None)  # as where it is not installed
    with pytest.raises(SystemExit, match=r"--save-ann needs ANN Designer's Python package \(pip install anndesigner\)"):
        mod.main(["--out", str(tmp_path / "t.npz"), "--save-ann", str(tmp_path / "t.ann")])
    assert (tmp_path / "t.npz").exists()  # the trained weights are written all the same


def test_a_cosine_schedule_over_the_runs_epochs_matches_ours(tmp_path):
    net = sample("xor")
    net.set_training(dict(optimizer="rmsprop", learning_rate=0.05, epochs=4, batch_size=2, shuffle=True,
                          schedule={"kind": "cosine", "min_lr": 0.01}))
    ds = load_source(net.data_source)
    ours, theirs, before = train_both(net, ds.X, ds.Y, tmp_path)
    assert net.history["lr"][-1] < 0.05
    assert_trained_alike(ours, theirs, before)
