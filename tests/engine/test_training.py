import threading

import numpy as np
import pytest

import anndesigner as ad
from anndesigner.engine import BatchEnd, EpochEnd, Finished
from helpers import XOR_X, XOR_Y, analytic_grads, flatten_net, mlp, neuron_mlp


def xor_net(seed=0):
    return ad.Network(mlp([2, 4, 1]), seed=seed)


def test_xor_trains_to_full_accuracy():
    net = xor_net()
    hist = net.fit(XOR_X, XOR_Y, epochs=300, batch_size=4, optimizer="adam", learning_rate=0.05)
    assert hist["accuracy"][-1] == 1.0
    assert hist["loss"][-1] < 0.05 < hist["loss"][0]
    p = net.predict(XOR_X)
    assert p.dtype == np.float32 and p.shape == (4, 1)
    np.testing.assert_array_equal((p > 0.5).astype(np.float32), XOR_Y)


def test_training_is_deterministic_for_a_seed():
    a, b, c = xor_net(1), xor_net(1), xor_net(2)
    for n in (a, b, c):
        n.fit(XOR_X, XOR_Y, epochs=20, batch_size=2, learning_rate=0.05, shuffle=True)
    np.testing.assert_array_equal(a.predict(XOR_X), b.predict(XOR_X))
    assert not np.array_equal(a.predict(XOR_X), c.predict(XOR_X))


def test_float32_throughout():
    net = xor_net()
    assert all(p.value.dtype == np.float32 for p in net.program.params)
    net.fit(XOR_X.astype(np.float64), XOR_Y, epochs=2)
    assert all(p.value.dtype == np.float32 for p in net.program.params)
    assert all(w.dtype == np.float32 for w in net.get_weights().values())


def copy_layer_weights_to_neurons(layer_net, neuron_net, g_neurons):
    lw = layer_net.get_weights()
    hidden = [n for n in g_neurons.nodes.values() if n.type_id == "Neuron"]
    *hs, o = hidden
    w = {}
    for j, h in enumerate(hs):
        w[f"{h.id}/kernel"] = lw["dense_1/kernel"][:, j]
        w[f"{h.id}/bias"] = lw["dense_1/bias"][j]
    w[f"{o.id}/kernel"] = lw["output_1/kernel"][:, 0]
    w[f"{o.id}/bias"] = lw["output_1/bias"][0]
    neuron_net.set_weights(w)


def test_neuron_drawn_equals_layer_drawn():
    layer = ad.Network(mlp([2, 3, 1]), seed=3, dtype="float64")
    gn = neuron_mlp(2, 3)
    neurons = ad.Network(gn, seed=0, dtype="float64")
    copy_layer_weights_to_neurons(layer, neurons, gn)
    np.testing.assert_allclose(neurons.predict(XOR_X), layer.predict(XOR_X), rtol=1e-12)
    # the three hidden neurons run as one fused matrix product
    dense_steps = [s for s in neurons.program.steps if type(s).__name__ == "DenseStep"]
    assert [len(s.node_ids) for s in dense_steps] == [3, 1]
    ga = analytic_grads(layer, XOR_X.astype(float), XOR_Y.astype(float))
    gb = analytic_grads(neurons, XOR_X.astype(float), XOR_Y.astype(float))
    hs = [n.id for n in gn.nodes.values() if n.type_id == "Neuron"]
    for j, h in enumerate(hs[:3]):
        np.testing.assert_allclose(gb[f"{h}/kernel"], ga["dense_1/kernel"][:, j], rtol=1e-12)
        np.testing.assert_allclose(gb[f"{h}/bias"], ga["dense_1/bias"][j], rtol=1e-12)
    np.testing.assert_allclose(gb[f"{hs[3]}/kernel"], ga["output_1/kernel"][:, 0], rtol=1e-12)
    # and they train the same way
    layer.fit(XOR_X, XOR_Y, epochs=30, batch_size=4, shuffle=False, learning_rate=0.05)
    neurons.fit(XOR_X, XOR_Y, epochs=30, batch_size=4, shuffle=False, learning_rate=0.05)
    np.testing.assert_allclose(neurons.predict(XOR_X), layer.predict(XOR_X), rtol=1e-9)


def test_unfused_neurons_compute_the_same():
    from anndesigner.engine.compiler import compile_graph

    g = neuron_mlp(2, 4)
    fused = compile_graph(g, seed=0)
    plain = compile_graph(g, seed=0, fuse=False)
    a = fused.forward([XOR_X])[0]
    b = plain.forward([XOR_X])[0]
    np.testing.assert_allclose(a, b, rtol=1e-6)
    assert len(plain.steps) > len(fused.steps)


def test_perceptron_rule_learns_and():
    g = ad.Graph()
    x = g.add_node("Input", units=2)
    n = g.add_node("Neuron", activation="step")
    y = g.add_node("Output", units=1, activation="linear", loss="mse", use_weights=False)
    g.connect(x, n)
    g.connect(n, y)
    net = ad.Network(g, seed=0)
    Y = np.array([[0], [0], [0], [1]], np.float32)
    hist = net.fit(XOR_X, Y, rule="perceptron", epochs=20, batch_size=1, learning_rate=0.1, shuffle=False)
    np.testing.assert_array_equal(net.predict(XOR_X), Y)
    assert hist["accuracy"][-1] == 1.0
    # a textbook check of one update: w += lr * (t - y) * x
    net2 = ad.Network(g.copy(), seed=0)
    net2.set_weights({"neuron_1/kernel": np.array([0.0, 0.0], np.float32), "neuron_1/bias": np.float32(0.0)})
    net2.fit(XOR_X[3:], Y[3:], rule="perceptron", epochs=1, batch_size=1, learning_rate=0.5)
    np.testing.assert_allclose(net2.get_weights()["neuron_1/kernel"], [0, 0])  # step(0)=1 = target: no change
    net2.fit(XOR_X[:1] + 1, np.zeros((1, 1)), rule="perceptron", epochs=1, batch_size=1, learning_rate=0.5)
    np.testing.assert_allclose(net2.get_weights()["neuron_1/kernel"], [-0.5, -0.5])
    np.testing.assert_allclose(net2.get_weights()["neuron_1/bias"], -0.5)


def test_perceptron_rule_needs_a_step_activation():
    g = ad.Graph()
    x = g.add_node("Input", units=2)
    y = g.add_node("Output", units=1, activation="sigmoid")
    g.connect(x, y)
    with pytest.raises(ad.TrainingError, match="step or sign"):
        ad.Network(g).fit(XOR_X, XOR_Y, rule="perceptron", epochs=1)


def test_hebb_rule_stores_and_recalls_patterns():
    g = ad.Graph()
    x = g.add_node("Input", units=6)
    y = g.add_node("Output", units=3, activation="sign", loss="mse", use_bias=False, kernel_initializer="zeros")
    g.connect(x, y)
    P = np.array([[1, -1, 1, -1, 1, -1], [1, 1, -1, -1, 1, 1]], np.float32)
    T = np.array([[1, -1, 1], [-1, 1, 1]], np.float32)
    net = ad.Network(g)
    net.fit(P, T, rule="hebbian", epochs=1, batch_size=1, learning_rate=1.0, shuffle=False)
    np.testing.assert_array_equal(net.get_weights()["output_1/kernel"], P.T @ T)  # Δw = η x t, summed
    np.testing.assert_array_equal(net.predict(P), T)
    noisy = P.copy()
    noisy[0, 0] = -1  # one flipped bit is still recalled
    np.testing.assert_array_equal(net.predict(noisy), T)


def test_step_activation_refused_for_backprop():
    g = ad.Graph()
    x = g.add_node("Input", units=2)
    h = g.add_node("Dense", units=2, activation="step")
    y = g.add_node("Output", units=1)
    g.connect(x, h)
    g.connect(h, y)
    net = ad.Network(g)
    net.predict(XOR_X)  # fine without gradients
    with pytest.raises(ad.GradientError) as e:
        net.fit(XOR_X, XOR_Y, epochs=1)
    assert e.value.node_id == "dense_1" and "step" in str(e.value)


def test_nan_stops_with_node_name_and_keeps_weights():
    net = ad.Network(mlp([2, 8, 1], hidden="relu", out_act="linear", loss="mse"), seed=0)
    Y = np.array([[0], [100], [100], [0]], np.float32)
    events = list(net.trainer(XOR_X, Y, optimizer="sgd", learning_rate=1e6, epochs=50, batch_size=4).run())
    fin = events[-1]
    assert isinstance(fin, Finished) and fin.reason == "nan"
    assert fin.node_id in net.graph.nodes
    assert f"'{fin.node_id}'" in fin.message and "NaN" in fin.message
    for w in net.get_weights().values():
        assert np.isfinite(w).all()
    with pytest.raises(ad.TrainingError, match="NaN"):
        net.fit(XOR_X, Y, optimizer="sgd", learning_rate=1e6, epochs=50, batch_size=4)


def test_events_and_history():
    net = xor_net()
    events = list(net.trainer(XOR_X, XOR_Y, epochs=3, batch_size=2).run())
    kinds = [type(e).__name__ for e in events]
    assert kinds == ["BatchEnd", "BatchEnd", "EpochEnd"] * 3 + ["Finished"]
    assert [e.step for e in events if isinstance(e, BatchEnd)] == list(range(1, 7))
    assert len(net.history) == 3
    assert net.history["loss"] == [e.metrics["loss"] for e in events if isinstance(e, EpochEnd)]


def test_validation_split_and_regression_metrics():
    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, (200, 2)).astype(np.float32)
    Y = (X[:, :1] * 2 - X[:, 1:] + 0.5).astype(np.float32)
    net = ad.Network(mlp([2, 8, 1], out_act="linear", loss="mse"), seed=0)
    h = net.fit(X, Y, epochs=60, batch_size=16, learning_rate=0.02, validation_split=0.25)
    assert {"loss", "val_loss", "r2", "val_r2", "mae", "val_mae"} <= set(h.keys())
    assert h["val_r2"][-1] > 0.95
    ev = net.evaluate(X, Y)
    assert ev["r2"] > 0.95 and ev["mae"] < 0.2


def test_early_stopping_restores_best():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(40, 2)).astype(np.float32)
    Y = rng.normal(size=(40, 1)).astype(np.float32)  # noise: validation loss soon rises
    net = ad.Network(mlp([2, 32, 1], out_act="linear", loss="mse"), seed=0)
    ev = list(net.trainer(X, Y, epochs=500, learning_rate=0.05, validation_split=0.5, early_stopping=True,
                          patience=5, batch_size=8).run())
    assert ev[-1].reason == "early_stopping"
    vl = net.history["val_loss"]
    assert len(vl) < 500
    best = int(np.argmin(vl))
    assert len(vl) == best + 1 + 5
    tr = net.trainer(X, Y, validation_split=0.5)
    assert net._evaluate_arrays(tr.X_val, tr.Y_val, "regression")["loss"] == pytest.approx(vl[best], rel=1e-5)


def test_pause_step_resume_stop_from_another_thread():
    net = ad.Network(mlp([2, 4, 1]), seed=0)
    tr = net.trainer(XOR_X, XOR_Y, epochs=100000, batch_size=1)
    seen = []
    tr.pause()
    t = threading.Thread(target=lambda: seen.extend(tr.run()))
    t.start()
    t.join(0.3)
    assert seen == []  # paused before the first batch
    tr.step()
    for _ in range(100):
        if seen:
            break
        t.join(0.02)
    t.join(0.2)
    assert len([e for e in seen if isinstance(e, BatchEnd)]) == 1
    tr.step(2)
    t.join(0.3)
    assert len([e for e in seen if isinstance(e, BatchEnd)]) == 3
    tr.resume()
    t.join(0.2)
    tr.stop()
    t.join(5)
    assert not t.is_alive()
    assert isinstance(seen[-1], Finished) and seen[-1].reason == "stopped"
    assert len([e for e in seen if isinstance(e, BatchEnd)]) > 3


def test_data_mismatch_is_a_clear_error():
    net = xor_net()
    with pytest.raises(ad.DataError, match="shape \\(3,\\).*'input_1' takes \\(2,\\)"):
        net.fit(np.zeros((4, 3)), XOR_Y, epochs=1)
    with pytest.raises(ad.DataError, match="2 target column"):
        net.fit(XOR_X, np.zeros((4, 2)), epochs=1)
    X = XOR_X.copy()
    X[2, 1] = np.nan
    with pytest.raises(ad.DataError, match="row 3, column 2"):
        net.fit(X, XOR_Y, epochs=1)


def test_nonfinite_data_is_found_in_large_and_image_data(monkeypatch):
    import anndesigner.engine.datafit as datafit

    monkeypatch.setattr(datafit, "CHECK_CHUNK", 64)  # many chunks on small data
    net = xor_net()
    X = np.tile(XOR_X, (50, 1))  # 200 rows: the bad value lies in a later chunk
    Y = np.tile(XOR_Y, (50, 1))
    X[157, 0] = np.inf
    with pytest.raises(ad.DataError, match="row 158, column 1"):
        net.fit(X, Y, epochs=1)
    X[157, 0] = 0
    Y[190, 0] = np.nan
    with pytest.raises(ad.DataError, match="target data has NaN or inf at row 191"):
        net.fit(X, Y, epochs=1)
    # an image Input: the column counts the values of the flattened row
    g = flatten_net((3, 3, 1), activation="sigmoid", loss="binary_crossentropy")
    img = np.zeros((40, 3, 3, 1), np.float32)
    img[33, 2, 1, 0] = np.nan
    with pytest.raises(ad.DataError, match="row 34, column 8"):
        ad.Network(g).fit(img, np.zeros((40, 1)), epochs=1)


def test_graph_edits_recompile_and_keep_weights():
    net = xor_net()
    before = net.get_weights()
    h2 = net.graph.add_node("Dense", units=3)
    net.graph.connect("input_1", h2)  # a dangling branch: other weights stay
    after = net.get_weights()
    for k, v in before.items():
        np.testing.assert_array_equal(after[k], v)
    assert after["dense_2/kernel"].shape == (2, 3)
    net.graph.set_params("dense_1", units=5)  # changed shape: re-initialized
    assert net.get_weights()["dense_1/kernel"].shape == (2, 5)
    net.reset_weights()
    assert not np.array_equal(net.get_weights()["output_1/kernel"], before["output_1/kernel"])


@pytest.mark.parametrize("opt", ["sgd", "adagrad", "adadelta", "rmsprop", "adam", "adamw"])
def test_every_optimizer_reduces_loss(opt):
    net = xor_net()
    lr = 1.0 if opt == "adadelta" else 0.05
    h = net.fit(XOR_X, XOR_Y, epochs=100, batch_size=4, optimizer=opt, learning_rate=lr)
    assert h["loss"][-1] < h["loss"][0]


def test_schedule_changes_learning_rate_per_epoch():
    net = xor_net()
    h = net.fit(XOR_X, XOR_Y, epochs=6, learning_rate=0.1, schedule={"kind": "step", "step_size": 2, "gamma": 0.5})
    np.testing.assert_allclose(h["lr"], [0.1, 0.1, 0.05, 0.05, 0.025, 0.025])


def test_snapshot_is_independent():
    net = xor_net()
    snap = net.snapshot()
    snap.fit(XOR_X, XOR_Y, epochs=5)
    assert len(net.history) == 0 and len(snap.history) == 5
    assert not np.array_equal(net.get_weights()["dense_1/kernel"], snap.get_weights()["dense_1/kernel"])


def test_accuracy_of_bipolar_patterns_counts_whole_rows():
    from anndesigner.engine.trainer import correct_count

    Y = np.array([[1, -1, 1], [-1, 1, 1], [1, 1, 1]], np.float32)
    P = np.array([[0.5, -2, 3], [-1, 1, -1], [1, 1, 1]], np.float32)  # row 2 has one wrong sign
    assert correct_count(P, Y) == 2
    onehot = np.eye(3, dtype=np.float32)
    assert correct_count(np.array([[3, 1, 0], [0, 2, 1], [0, 5, 1]], np.float32), onehot) == 2


def test_fixed_rule_measures_without_changing_weights():
    g = ad.Graph()
    x = g.add_node("Input", units=2)
    n = g.add_node("Neuron", activation="step")
    y = g.add_node("Output", units=1, activation="linear", loss="mse", use_weights=False)
    g.connect(x, n)
    g.connect(n, y)
    net = ad.Network(g)
    net.set_weights({f"{n.id}/kernel": np.array([1.0, 1.0], np.float32), f"{n.id}/bias": np.float32(-1.5)})
    before = net.get_weights()
    and_y = np.array([[0], [0], [0], [1]], np.float32)
    hist = net.fit(XOR_X, and_y, rule="fixed", epochs=2)
    assert hist["accuracy"] == [1.0, 1.0]
    for k, v in net.get_weights().items():
        np.testing.assert_array_equal(v, before[k])


def test_two_inputs_share_the_data_columns_in_the_order_they_were_added():
    g = ad.Graph()
    x2 = g.add_node("Input", units=1, label="first added")
    x1 = g.add_node("Input", units=1, label="second added")
    hs = []
    for _ in range(4):
        h = g.add_node("Neuron", activation="tanh")
        g.connect(x2, h)
        g.connect(x1, h)
        hs.append(h)
    o = g.add_node("Output", units=1, activation="sigmoid", loss="binary_crossentropy")
    for h in hs:
        g.connect(h, o)
    net = ad.Network(g, seed=0)
    prog = net.program
    assert [nid for nid, _, _ in prog.inputs] == [x2.id, x1.id]
    # column 0 feeds the first Input: swapping the columns changes the output
    P = net.predict(XOR_X)
    prog.forward([XOR_X[:, :1], XOR_X[:, 1:]])
    np.testing.assert_array_equal(prog.gather(prog.outputs[0].value), P)
    net.fit(XOR_X, XOR_Y, epochs=300, batch_size=4, optimizer="adam", learning_rate=0.05)
    assert net.evaluate(XOR_X, XOR_Y)["accuracy"] == 1.0
    with pytest.raises(ad.DataError, match="take 2 values together"):
        net.predict(np.zeros((4, 3), np.float32))


def test_a_snapshot_shares_the_compile_and_is_independent(monkeypatch):
    """Network.snapshot() copies the compiled program (no second analysis or compile): the
    copy predicts exactly what the network does and then goes its own way."""
    import anndesigner.engine.network as network_module
    import anndesigner.graph.model as model_module

    net = ad.Network(mlp([2, 6, 1]), seed=4)
    net.fit(XOR_X, XOR_Y, epochs=5, batch_size=2)
    net.program  # compiled once for this revision
    calls = []
    monkeypatch.setattr(network_module, "compile_graph", lambda *a, **k: calls.append("compile"))
    monkeypatch.setattr(model_module, "_analyze", lambda *a, **k: calls.append("analyze"))
    copy = net.snapshot()
    np.testing.assert_array_equal(copy.predict(XOR_X), net.predict(XOR_X))
    assert calls == []
    assert copy.graph is not net.graph and copy.graph.to_dict() == net.graph.to_dict()
    assert copy.history.data == net.history.data and copy.training == net.training
    mine = net.get_weights()
    copy.set_weights({k: v + 1 for k, v in mine.items()})
    assert not np.array_equal(copy.predict(XOR_X), net.predict(XOR_X))
    for k, v in net.get_weights().items():
        np.testing.assert_array_equal(v, mine[k])
