"""Explain mode's batch and epoch steps equal what the trainer does, on a copy."""

from pathlib import Path

import numpy as np
import pytest

import anndesigner as ad
from anndesigner.data import load_source
from anndesigner.engine import BatchEnd, StepRecord, train_batch_step, train_epoch_step
from anndesigner.errors import TrainingError

SAMPLES = Path(__file__).resolve().parents[2] / "samples"

#: (sample, training settings changed): an SGD, a momentum and an Adam network
CASES = [
    ("spirals", {"optimizer": "sgd", "learning_rate": 0.1}),
    ("spirals", {"optimizer": "sgd", "learning_rate": 0.05, "optimizer_params": {"momentum": 0.9}, "l2": 0.001}),
    ("xor", {}),  # adam, batch 4 of 4 rows
    ("digits-mlp", {"schedule": {"kind": "step", "step_size": 1, "gamma": 0.5}}),  # adam, a schedule
]


def net_and_data(name, changes):
    net = ad.Network.load(SAMPLES / f"{name}.ann")
    if changes:
        net.set_training(net.training.replace(**changes))
    data = load_source(net.data_source, base_dir=SAMPLES)
    return net, data


def trained(net, data, epochs):
    ref = net.snapshot()
    ref.fit(data.X, data.Y, epochs=epochs)
    return ref


def assert_weights_equal(a, b):
    assert set(a) == set(b)
    for k in a:
        np.testing.assert_array_equal(a[k], b[k], err_msg=k)


def assert_state_equal(a, b):
    assert set(a) == set(b)
    for k in a:
        np.testing.assert_array_equal(np.asarray(a[k]), np.asarray(b[k]), err_msg=k)


@pytest.mark.parametrize("name, changes", CASES)
def test_epoch_steps_equal_the_trainers_epochs_and_leave_the_network_alone(name, changes):
    net, data = net_and_data(name, changes)
    before = net.get_weights()
    r1 = train_epoch_step(net, data=data)
    assert isinstance(r1, StepRecord) and r1.kind == "epoch" and r1.epoch == 0
    one = trained(net, data, 1)
    assert_weights_equal(r1.weights_after, one.get_weights())
    assert_weights_equal(r1.weights_before, before)
    assert_state_equal(r1.optimizer_state_after, one.optimizer_state)
    assert r1.history_after == one.history.data
    assert r1.metrics == one.history.last()
    assert r1.reported_loss == one.history["loss"][-1]
    n_train = len(data.X) - int(round(len(data.X) * net.training.validation_split))
    assert r1.samples == n_train
    assert r1.batches == r1.batches_per_epoch == -(-n_train // min(net.training.batch_size, n_train))
    # full-data losses are the network's own evaluation
    tr = net.trainer(data.X, data.Y)
    assert r1.data_loss_before == pytest.approx(net.evaluate(tr.X, tr.Y, standardized=True)["loss"], rel=1e-6)
    assert r1.data_loss_after == pytest.approx(one.evaluate(tr.X, tr.Y, standardized=True)["loss"], rel=1e-6)
    # step 2 from step 1's state is the trainer's second epoch (schedule, shuffle order, optimizer)
    r2 = train_epoch_step(net, previous=r1, data=data)
    two = trained(net, data, 2)
    assert (r2.epoch, r2.run_epoch) == (1, 1)
    assert_weights_equal(r2.weights_after, two.get_weights())
    assert_state_equal(r2.optimizer_state_after, two.optimizer_state)
    assert r2.history_after == two.history.data
    assert r2.learning_rate == two.history["lr"][-1]
    assert_weights_equal(net.get_weights(), before)  # never changed
    assert net.optimizer_state is None and len(net.history) == 0


@pytest.mark.parametrize("name, changes", CASES[:3])
def test_a_batch_step_is_one_step_of_the_trainer(name, changes):
    net, data = net_and_data(name, changes)
    before = net.get_weights()
    rec = train_batch_step(net, data=data)
    ref = net.snapshot()
    tr = ref.trainer(data.X, data.Y, epochs=1)
    first = None
    for ev in tr.run():
        if isinstance(ev, BatchEnd):
            first = ev
            break
    assert rec.kind == "batch" and (rec.first_batch, rec.batches) == (0, 1)
    assert_weights_equal(rec.weights_after, ref.get_weights())
    assert_state_equal(rec.optimizer_state_after, tr.optimizer.state_dict())
    assert rec.reported_loss == first.loss and rec.samples == first.size
    if rec.batches_per_epoch > 1:  # the epoch goes on: no metrics yet
        assert rec.metrics is None and rec.history_after == {}
    else:  # xor: its one batch is the epoch
        assert rec.history_after == trained(net, data, 1).history.data
    assert_weights_equal(net.get_weights(), before)
    # the Δ summary is the difference of the weights
    for c in rec.changes:
        d = rec.weights_after[c.name].astype(np.float64) - rec.weights_before[c.name]
        assert c.max_abs == pytest.approx(float(np.abs(d).max()))
        assert c.norm == pytest.approx(float(np.linalg.norm(d)))
    assert rec.max_abs_delta == max(c.max_abs for c in rec.changes) > 0
    assert rec.largest_changes(1)[0].max_abs == rec.max_abs_delta


def test_chained_batch_steps_through_an_epoch_are_the_epoch():
    net, data = net_and_data("spirals", {"batch_size": 128})
    epoch = train_epoch_step(net, data=data)
    rec, seen = None, []
    for _ in range(epoch.batches_per_epoch):
        rec = train_batch_step(net, previous=rec, data=data)
        seen.append(rec.first_batch)
    assert seen == list(range(epoch.batches_per_epoch))
    assert rec.epoch_finished and rec.next_epoch == 1 and rec.next_batch == 0
    assert_weights_equal(rec.weights_after, epoch.weights_after)
    assert rec.history_after == epoch.history_after
    # an epoch step after a batch step runs the rest of that epoch
    part = train_batch_step(net, data=data)
    rest = train_epoch_step(net, previous=part, data=data)
    assert rest.first_batch == 1 and rest.batches == epoch.batches_per_epoch - 1
    assert_weights_equal(rest.weights_after, epoch.weights_after)
    assert rest.history_after == epoch.history_after


def test_the_sample_loss_and_a_given_optimizer_state():
    net, data = net_and_data("xor", {})
    x, y = data.X[1], data.Y[1]
    rec = train_epoch_step(net, data=data, sample=(x, y))
    t = ad.engine.explain(net, x, y)  # no dropout: training mode is prediction mode
    assert rec.sample_loss_before == pytest.approx(t.loss, rel=1e-6)
    after = net.snapshot()
    after.set_weights(rec.weights_after)
    assert rec.sample_loss_after == pytest.approx(after.evaluate(x[None], y[None], standardized=True)["loss"], rel=1e-6)
    again = train_epoch_step(after, optimizer_state=rec.optimizer_state_after, data=data)
    assert again.optimizer_iterations_before == rec.optimizer_state_after["iterations"] == 1
    with pytest.raises(TrainingError, match="batch 5 does not exist"):
        train_batch_step(net, 5, data=data)
