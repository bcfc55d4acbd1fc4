"""engine/tracing.py: the trace of one training step for one sample, checked against
the network's own predict, central finite differences (float64) for every layer type,
and the trainer's own step."""

from pathlib import Path

import numpy as np
import pytest

import anndesigner as ad
from anndesigner.data import load_source
from anndesigner.engine.tracing import Trace, explain
from anndesigner.errors import DataError, TrainingError
from anndesigner.graph import BUILTIN_REGISTRY
from layercheck import _fd

SAMPLES = Path(__file__).resolve().parents[2] / "samples"


def sample_net(name):
    return ad.Network.load(SAMPLES / f"{name}.ann")


def sample_row(net, i=0):
    data = load_source(net.data_source, base_dir=SAMPLES)
    return data.X[i], data.Y[i]


def as_float64(net, jitter=0.0):
    """A float64 copy; ``jitter``: noise added to the trainable weights, so that no
    pre-activation sits exactly on a kink (a zero bias on a zero pixel makes z = 0 for relu)."""
    weights = net.get_weights()
    if jitter:
        rng = np.random.default_rng(5)
        weights = {k: v if "moving" in k else v + jitter * rng.normal(size=v.shape) for k, v in weights.items()}
    return ad.Network(net.graph.copy(), net.seed, dtype=np.float64, weights=weights,
                      training=net.training.to_dict(), data=net.data_source)


def loss_with(net, x, y, name, value):
    n2 = net.snapshot()
    n2.set_weights({name: value})
    return explain(n2, x, y).loss


def check_fd(net, x, y, *, per_weight=None, seed=0, rtol=1e-5, atol=1e-7, eps=1e-6):
    """Every weight's gradient in the trace against central differences of the trace's own
    loss (regularization included); ``per_weight``: that many random entries of each."""
    assert net.dtype == np.float64
    trace = explain(net, x, y)
    # central differences of a loss of size |L| are good to about |L|·1e-16/eps
    atol = atol + 50 * abs(trace.loss) * np.finfo(np.float64).eps / eps
    rng = np.random.default_rng(seed)
    checked = 0
    for wt in trace.weights:
        w = np.require(wt.value.copy(), requirements="C")  # (keeps a scalar 0-d)
        if per_weight is None or w.size <= per_weight:
            numeric = _fd(lambda: loss_with(net, x, y, wt.name, w), w, eps)
            np.testing.assert_allclose(wt.grad, numeric, rtol=rtol, atol=atol, err_msg=wt.name)
            checked += w.size
            continue
        flat = w.reshape(-1)
        for i in rng.choice(w.size, per_weight, replace=False):
            o = flat[i]
            flat[i] = o + eps
            a = loss_with(net, x, y, wt.name, w)
            flat[i] = o - eps
            b = loss_with(net, x, y, wt.name, w)
            flat[i] = o
            np.testing.assert_allclose(wt.grad.reshape(-1)[i], (a - b) / (2 * eps), rtol=rtol, atol=atol,
                                       err_msg=f"{wt.name}[{i}]")
            checked += 1
    assert checked > 0
    # the deltas agree with the weight gradients: ∂L/∂bias is ∂L/∂z summed over positions
    cfg = net.training
    for d in trace.deltas:
        name = f"{d.node_id}/bias"
        if d.delta_z is None or name not in {wt.name for wt in trace.weights}:
            continue
        wt = trace.weight(name)
        data_grad = wt.grad - (2 * cfg.l2 * wt.value + cfg.l1 * np.sign(wt.value) if wt.regularized else 0)
        np.testing.assert_allclose(data_grad, d.delta_z.reshape(-1, d.delta_z.shape[-1]).sum(0).reshape(
            wt.value.shape), rtol=1e-9, atol=1e-12, err_msg=name)
    return trace


# -------------------------------------------------------------- forward
@pytest.mark.parametrize("name", ["xor", "xor-neurons", "digits-cnn", "sine-lstm", "tiny-transformer",
                                  "house-prices", "autoencoder"])
def test_outputs_equal_predict_and_weights_stay(name):
    net = sample_net(name)
    x, y = sample_row(net, 1)
    before = net.get_weights()
    trace = explain(net, x, y, training=False)  # dropout off: predict's mode
    out = net.graph.nodes and next(n for n in trace.nodes if n.type_id == "Output")
    np.testing.assert_array_equal(out.output, net.predict(x[None], standardized=True)[0])
    np.testing.assert_array_equal(trace.losses[0].prediction, out.output)
    for k, v in net.get_weights().items():
        np.testing.assert_array_equal(v, before[k], err_msg=k)
    assert isinstance(trace, Trace) and trace.dtype == np.float32
    # every node once, in an order where each node's inputs come first
    ids = [n.node_id for n in trace.nodes]
    assert sorted(ids) == sorted(net.graph.nodes)
    for n in trace.nodes:
        assert all(ids.index(s) < ids.index(n.node_id) for s in n.inputs)
    # a second explain (training mode) still leaves everything as it was
    explain(net, x, y)
    for k, v in net.get_weights().items():
        np.testing.assert_array_equal(v, before[k], err_msg=k)


def test_xor_values_by_hand():
    net = as_float64(sample_net("xor"))
    x, y = np.array([0.0, 1.0]), np.array([1.0])
    t = explain(net, x, y)
    w = net.get_weights()
    d = t.node("dense_1")
    np.testing.assert_allclose(d.z, x @ w["dense_1/kernel"] + w["dense_1/bias"])
    np.testing.assert_allclose(d.output, np.tanh(d.z))
    assert d.inputs == ("input_1",) and d.activation == "tanh"
    o = t.node("output_1")
    p = 1 / (1 + np.exp(-o.z))
    np.testing.assert_allclose(o.output, p)
    lt = t.losses[0]
    assert lt.name == "binary_crossentropy" and lt.from_logits
    np.testing.assert_allclose(lt.value, -np.log(p[0]))
    np.testing.assert_allclose(t.delta("output_1").delta_z, p - y)  # sigmoid + BCE: p − t
    np.testing.assert_allclose(t.delta("output_1").delta, -1 / p)  # ∂L/∂p
    # chain rule through the trace's own deltas
    dz1 = t.delta("dense_1").delta_z
    np.testing.assert_allclose(t.delta("dense_1").delta, (p - y) @ w["output_1/kernel"].T)
    np.testing.assert_allclose(dz1, t.delta("dense_1").delta * (1 - d.output ** 2))
    np.testing.assert_allclose(t.weight("dense_1/kernel").grad, np.outer(x, dz1))
    np.testing.assert_allclose(t.weight("dense_1/bias").grad, dz1)
    # Adam's first step moves every weight with a nonzero gradient by the learning rate
    wt = t.weight("output_1/kernel")
    np.testing.assert_allclose(np.abs(wt.update), 0.05, rtol=1e-4)
    np.testing.assert_allclose(wt.after, wt.value + wt.update)
    assert t.loss_after < t.loss
    text = t.to_text()
    for piece in ("dense_1 (Dense)", "tanh(z) =", "binary_crossentropy", f"L = {t.loss:.6g}", "Δw =", "w' =",
                  "Loss after the update", f"= −(1·log {p[0]:.4g} + 0·log {1 - p[0]:.4g}) = {t.loss:.6g}"):
        assert piece in text, piece


def test_neuron_drawn_net_maps_fused_columns_back_to_each_neuron():
    net = as_float64(sample_net("xor-neurons"))
    x, y = np.array([1.0, 0.0]), np.array([1.0])
    t = check_fd(net, x, y)
    w = net.get_weights()
    for j in range(1, 5):
        n = t.node(f"neuron_{j}")
        assert n.fused_with and n.z.shape == (1,) and n.inputs == ("input_1", "input_2")
        np.testing.assert_allclose(n.z, x @ w[f"neuron_{j}/kernel"] + w[f"neuron_{j}/bias"])
        np.testing.assert_allclose(n.output, np.tanh(n.z))
        dz = t.delta(f"neuron_{j}").delta_z
        np.testing.assert_allclose(t.weight(f"neuron_{j}/kernel").grad, x * dz)
    assert {wt.name for wt in t.weights} == set(w)
    np.testing.assert_allclose(t.node("neuron_5").output, net.predict(x[None], standardized=True)[0])


def test_several_inputs_as_a_dict_or_a_flat_row():
    net = sample_net("xor-neurons")
    a = explain(net, {"input_1": 1.0, "input_2": 0.0}, [1.0])
    b = explain(net, np.array([1.0, 0.0]), [1.0])
    assert a.loss == b.loss
    np.testing.assert_array_equal(a.node("input_1").output, [1.0])
    with pytest.raises(DataError, match="no value for Input 'input_2'"):
        explain(net, {"input_1": 1.0})
    with pytest.raises(DataError, match="no Input node 'nope'"):
        explain(net, {"input_1": 1.0, "input_2": 0.0, "nope": 1})
    with pytest.raises(DataError):
        explain(sample_net("xor"), [1.0, 2.0, 3.0])


def test_without_a_target_only_the_forward_pass():
    net = sample_net("xor")
    t = explain(net, [1, 1])
    assert t.loss is None and not t.weights and not t.deltas and not t.training
    assert "Loss" not in t.to_text() and "output_1 (Output)" in t.to_text()


# ------------------------------------------------------- finite differences
@pytest.mark.parametrize("name,per_weight", [
    ("xor", None), ("xor-neurons", None), ("house-prices", 4), ("digits-cnn", 3), ("digits-mlp", 3),
    ("sine-lstm", 4), ("tiny-transformer", 4),
])
def test_sample_gradients_match_finite_differences(name, per_weight):
    net = as_float64(sample_net(name), jitter=0.01)
    net.set_training(net.training.replace(l2=0.003, l1=0.001))  # in the loss and gradients, as the trainer
    x, y = sample_row(net, 2)
    t = check_fd(net, x, y, per_weight=per_weight)
    assert t.regularization > 0 and t.loss == pytest.approx(t.data_loss + t.regularization)


def _chain(*layers, in_shape, out_units=2, out_activation="linear", loss="mse"):
    """Input -> layers (type id, params) in a row -> Output with weights."""
    g = ad.Graph()
    prev = g.add_node("Input", shape=list(in_shape)).id
    for type_id, params in layers:
        n = g.add_node(type_id, **params).id
        g.connect(prev, n)
        prev = n
    o = g.add_node("Output", units=out_units, activation=out_activation, loss=loss).id
    g.connect(prev, o)
    return g


def _concat_net():
    g = ad.Graph()
    x = g.add_node("Input", shape=[3]).id
    a = g.add_node("Dense", units=2, activation="tanh").id
    b = g.add_node("Dense", units=3, activation="elu").id
    c = g.add_node("Concatenate").id
    o = g.add_node("Output", units=3, activation="softmax", loss="categorical_crossentropy").id
    for s, d in ((x, a), (x, b), (a, c), (b, c), (c, o)):
        g.connect(s, d)
    return g


#: small networks for the layer types no sample has, so that every type is checked
EXTRA = {
    "activation-concat": (_concat_net, (3,)),
    "activation": (lambda: _chain(("Dense", {"units": 4, "activation": "linear"}),
                                  ("Activation", {"activation": "gelu"}), in_shape=(3,)), (3,)),
    "avgpool": (lambda: _chain(("Conv2D", {"filters": 2, "kernel_size": [2, 2], "activation": "softplus"}),
                               ("AvgPool2D", {}), ("Flatten", {}), in_shape=(4, 4, 2)), (4, 4, 2)),
    "rnn-gru": (lambda: _chain(("SimpleRNN", {"units": 3, "return_sequences": True}),
                               ("GRU", {"units": 3}), in_shape=(4, 2), out_activation="sigmoid",
                               loss="binary_crossentropy"), (4, 2)),
    "batchnorm-reshape": (lambda: _chain(("Reshape", {"shape": [3, 4]}), ("Dense", {"units": 3, "activation": "tanh"}),
                                         ("BatchNorm", {}), ("Flatten", {}), in_shape=(12,)), (12,)),
}


@pytest.mark.parametrize("key", list(EXTRA))
def test_extra_layer_gradients_match_finite_differences(key):
    make, in_shape = EXTRA[key]
    g = make()
    net = ad.Network(g, seed=3, dtype=np.float64, training={"l2": 0.01})
    rng = np.random.default_rng(4)
    x = rng.normal(size=in_shape)
    units = g.nodes[next(n for n in g.nodes if g.nodes[n].type_id == "Output")].params["units"]
    y = rng.random(units)
    if key == "activation-concat":
        y = y / y.sum()
    t = check_fd(net, x, y)
    if key == "activation-concat":  # Concatenate has no step of its own: its δ is its readers'
        dc = t.delta("concatenate_1").delta
        np.testing.assert_allclose(dc, t.delta("output_1").delta_z @ net.get_weights()["output_1/kernel"].T)
        np.testing.assert_allclose(t.delta("dense_1").delta, dc[:2])
        np.testing.assert_allclose(t.delta("dense_2").delta, dc[2:])
        np.testing.assert_allclose(t.node("concatenate_1").output,
                                   np.concatenate([t.node("dense_1").output, t.node("dense_2").output]))


def test_every_layer_type_is_covered():
    seen = set()
    for name in ("xor", "xor-neurons", "digits-cnn", "sine-lstm", "tiny-transformer"):
        seen |= {n.type_id for n in sample_net(name).graph.nodes.values()}
    for make, _ in EXTRA.values():
        seen |= {n.type_id for n in make().nodes.values()}
    assert {t.type_id for t in BUILTIN_REGISTRY} <= seen


def test_float64_trace_of_a_float32_network():
    net = sample_net("xor")
    t32, t64 = explain(net, [1, 0], [1]), explain(net, [1, 0], [1], dtype=np.float64)
    assert t64.dtype == np.float64 and t64.weights[0].grad.dtype == np.float64
    assert t64.loss == pytest.approx(t32.loss, rel=1e-6)


# ---------------------------------------------------- update = trainer step
def _trained_once(net, x, y, epochs=1):
    copy = net.snapshot()
    copy.fit(x[None], y[None], epochs=epochs, batch_size=1, shuffle=False, validation_split=0.0,
             early_stopping=False)
    return copy


@pytest.mark.parametrize("name", ["xor", "xor-neurons", "digits-mlp", "digits-cnn", "sine-lstm",
                                  "tiny-transformer", "perceptron", "hebbian", "mp-neuron"])
def test_update_is_one_step_of_the_trainer(name):
    net = sample_net(name)
    if name == "xor":
        net.set_training(net.training.replace(l2=0.01, clipnorm=0.1, optimizer="rmsprop"))
    x, y = sample_row(net, 3)
    before = net.get_weights()
    t = explain(net, x, y)
    stepped = _trained_once(net, x, y).get_weights()
    for wt in t.weights:
        np.testing.assert_array_equal(wt.after, stepped[wt.name], err_msg=wt.name)
        np.testing.assert_array_equal(wt.value, before[wt.name], err_msg=wt.name)
    assert {wt.name for wt in t.weights} <= set(stepped)
    for k, v in net.get_weights().items():
        np.testing.assert_array_equal(v, before[k], err_msg=k)
    if name == "mp-neuron":  # fixed weights: no update at all
        assert all(not wt.update.any() for wt in t.weights)
    if name in ("perceptron", "hebbian", "mp-neuron"):
        assert t.rule != "backprop" and all(wt.grad is None for wt in t.weights)


def test_continues_from_a_given_optimizer_state():
    net = sample_net("xor")
    x, y = np.array([1.0, 1.0], np.float32), np.array([0.0], np.float32)
    once = net.snapshot()
    tr = once.trainer(x[None], y[None], epochs=1, batch_size=1, shuffle=False)
    for _ in tr.run():
        pass
    state = tr.optimizer.state_dict()
    twice = _trained_once(net, x, y, epochs=2).get_weights()
    t = explain(once, x, y, optimizer_state=state)
    assert t.iterations_before == 1
    for wt in t.weights:
        np.testing.assert_array_equal(wt.after, twice[wt.name], err_msg=wt.name)
    # the network's own attribute is used when given (another helper adds it to Network)
    once.optimizer_state = state
    t2 = explain(once, x, y)
    for a, b in zip(t.weights, t2.weights):
        np.testing.assert_array_equal(a.after, b.after)
    fresh = explain(once, x, y, optimizer_state=None)  # None: falls back to the attribute
    assert fresh.iterations_before == 1
    once.optimizer_state = {"iterations": 3, "state.m.0": np.zeros(7)}  # stale: does not fit
    assert explain(once, x, y).iterations_before == 0
    with pytest.raises(TrainingError, match="does not fit"):
        explain(once, x, y, optimizer_state=once.optimizer_state)


def test_to_text_truncates_big_tensors():
    net = sample_net("digits-cnn")
    x, y = sample_row(net)
    text = explain(net, x, y).to_text(max_values=3)
    assert "conv2d_1 (Conv2D)" in text and "(8×8×16, 1024 values)" in text
    assert max(len(line) for line in text.splitlines()) < 200


def test_network_explain_is_the_engines_trace():
    import anndesigner as ad
    net = ad.load(SAMPLES / "xor.ann") if "SAMPLES" in globals() else ad.load(
        __import__("pathlib").Path(__file__).resolve().parents[2] / "samples" / "xor.ann")
    x, y = np.array([1.0, 0.0]), np.array([1.0])
    a, b = net.explain(x, y), explain(net, x, y)
    assert a.loss == b.loss and a.loss_after == b.loss_after
    for wa, wb in zip(a.weights, b.weights):
        np.testing.assert_array_equal(wa.after, wb.after)
