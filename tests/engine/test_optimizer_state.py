"""The optimizer's state lives with the network: training N epochs, then N more,
is training 2N epochs in one go (the shuffle of epoch e depends on the network's
seed and on e = len(history), which the network keeps, so the resumed run sees
the same batch orders; no schedule and no dropout here, whose position a resume
would restart)."""

from __future__ import annotations

import numpy as np
import pytest

import anndesigner as ad
from anndesigner.engine.optimizers import make_optimizer
from anndesigner.errors import TrainingError
from helpers import mlp, neuron_mlp

OPTIMIZERS = [
    ("sgd", {}),
    ("sgd", {"momentum": 0.9}),
    ("sgd", {"momentum": 0.9, "nesterov": True}),
    ("adam", {}),
    ("adamw", {}),
    ("rmsprop", {}),
    ("rmsprop", {"momentum": 0.5}),
    ("adagrad", {}),
    ("adadelta", {}),
]

rng = np.random.default_rng(3)
X = rng.normal(size=(40, 3)).astype(np.float32)
Y = (X[:, :1] * X[:, 1:2] > 0).astype(np.float32)


def net_of(seed=1):
    return ad.Network(mlp([3, 5, 1]), seed=seed)


def settings(name, hyper):
    lr = 1.0 if name == "adadelta" else 0.05
    return dict(optimizer=name, optimizer_params=dict(hyper), learning_rate=lr, batch_size=8, shuffle=True)


@pytest.mark.parametrize("name,hyper", OPTIMIZERS)
def test_resuming_is_training_on(name, hyper):
    once = net_of()
    once.fit(X, Y, epochs=6, **settings(name, hyper))
    half = net_of()
    half.fit(X, Y, epochs=3, **settings(name, hyper))
    assert half.optimizer_state is not None
    copy = half.snapshot()  # the state survives a copy (keyed by weight name)
    copy.fit(X, Y, epochs=3, **settings(name, hyper))
    for k, v in once.get_weights().items():
        np.testing.assert_allclose(copy.get_weights()[k], v, atol=1e-6, rtol=0, err_msg=k)
    # without the state the second half differs (the test does see the state)
    fresh = net_of()
    fresh.fit(X, Y, epochs=3, **settings(name, hyper))
    fresh.optimizer_state = None
    fresh.fit(X, Y, epochs=3, **settings(name, hyper))
    if name != "sgd" or hyper:
        assert any(np.abs(fresh.get_weights()[k] - v).max() > 1e-6 for k, v in once.get_weights().items())


def test_state_is_keyed_by_weight_name():
    net = net_of()
    net.fit(X, Y, epochs=1, **settings("adam", {}))
    st = net.optimizer_state
    assert st["iterations"] == 5
    names = set(net.get_weights())
    arrays = {k.split(".", 2)[2] for k in st if k.startswith("state.")}
    assert arrays == names
    for k, v in st.items():
        if k.startswith("state."):
            assert v.shape == net.get_weights()[k.split(".", 2)[2]].shape


def test_fused_neurons_are_keyed_by_their_param():
    net = ad.Network(neuron_mlp(2, 3), seed=0)
    net.fit(X[:, :2], Y, epochs=2, **settings("adam", {}))
    again = net.snapshot()
    t = again.trainer(X[:, :2], Y)
    assert t.resumed_state


def test_other_optimizer_starts_afresh():
    net = net_of()
    net.fit(X, Y, epochs=1, **settings("adam", {}))
    t = net.trainer(X, Y, optimizer="rmsprop")
    assert not t.resumed_state and t.optimizer.iterations == 0
    t = net.trainer(X, Y, optimizer="adamw")  # Adam's state is not AdamW's
    assert not t.resumed_state
    t = net.trainer(X, Y, optimizer="adam")
    assert t.resumed_state and t.optimizer.iterations == 5


def test_reset_weights_clears_the_state():
    net = net_of()
    net.fit(X, Y, epochs=1, **settings("adam", {}))
    net.reset_weights()
    assert net.optimizer_state is None


def test_a_shape_change_clears_the_state():
    net = net_of()
    net.fit(X, Y, epochs=1, **settings("adam", {}))
    dense = next(n for n in net.graph.nodes if net.graph.nodes[n].type_id == "Dense")
    net.graph.set_params(dense, units=7)
    net.program
    assert net.optimizer_state is None


def test_snapshot_copies_the_state():
    net = net_of()
    net.fit(X, Y, epochs=1, **settings("adam", {}))
    snap = net.snapshot()
    k = next(k for k in snap.optimizer_state if k.startswith("state."))
    snap.optimizer_state[k][...] = 42
    assert not (net.optimizer_state[k] == 42).all()


def test_load_names_the_weight_whose_shape_is_wrong():
    a = make_optimizer("adam", [np.zeros(3)], names=["dense_1/kernel"])
    a.step([np.ones(3)])
    sd = a.state_dict()
    assert "state.grad_sum.dense_1/kernel" in sd
    b = make_optimizer("adam", [np.zeros(4)], names=["dense_1/kernel"])
    with pytest.raises(TrainingError, match=r"weight 'dense_1/kernel'.*does not fit"):
        b.load_state_dict(sd)
    c = make_optimizer("adam", [np.zeros(3)], names=["other/kernel"])
    with pytest.raises(TrainingError, match="does not fit"):
        c.load_state_dict(sd)
    d = make_optimizer("adam", [np.zeros(3)], names=["dense_1/kernel"])
    d.load_state_dict(sd)
    assert d.iterations == 1
    np.testing.assert_array_equal(d.state_dict()["state.grad_sq_sum.dense_1/kernel"], np.ones(3))
    with pytest.raises(TrainingError, match="names"):
        make_optimizer("adam", [np.zeros(3), np.zeros(3)], names=["a", "a"])


def test_divergence_keeps_the_state_of_before_the_bad_batch():
    net = ad.Network(mlp([3, 5, 1], hidden="linear", out_act="linear", loss="mse"), seed=1)
    net.fit(X, Y, epochs=1, **settings("sgd", {"momentum": 0.9}))
    assert net.optimizer_state is not None
    with pytest.raises(TrainingError, match="NaN or infinite"):
        net.fit(X * 1e3, Y * 1e3, epochs=50, **settings("sgd", {"momentum": 0.9}) | {"learning_rate": 1e3})
    st = net.optimizer_state
    assert st is not None and st["iterations"] >= 5
    assert all(np.isfinite(v).all() for k, v in st.items() if k.startswith("state."))


def test_training_process_carries_the_state_back():
    from anndesigner.engine.process import TrainingProcess
    net = net_of()
    net.set_training(net.training.replace(epochs=2, **settings("adam", {})))
    run = TrainingProcess(net, X, Y)
    run.start()
    assert run.wait(60)
    assert run.result.reason == "completed"
    ref = net_of()
    ref.fit(X, Y, epochs=2, **settings("adam", {}))
    assert run.optimizer_state["iterations"] == ref.optimizer_state["iterations"] == 10
    for k, v in ref.optimizer_state.items():
        if k.startswith("state."):
            np.testing.assert_allclose(run.optimizer_state[k], v, atol=1e-6, err_msg=k)
    # the next run starts from the state it is given
    net.stage_weights(run.weights)
    net.set_history(run.history)
    net.optimizer_state = run.optimizer_state
    run2 = TrainingProcess(net, X, Y)
    run2.start()
    assert run2.wait(60)
    assert run2.optimizer_state["iterations"] == 20
