"""Training that diverges: every step that can make weights NaN or inf is checked,
training stops naming the node and the epoch/batch, the weights go back to what
they were before the bad step (exactly), and non-finite weights are never saved."""

import numpy as np
import pytest

import anndesigner as ad
from anndesigner.data import load_source
from anndesigner.engine import BatchEnd, EpochEnd, Finished, kernels
from anndesigner.engine.process import TrainingProcess
from anndesigner.paths import sample_files
from helpers import XOR_X, XOR_Y, mlp

SAMPLES = sample_files()
OPTIMIZERS = {
    "sgd": ("sgd", {}),
    "momentum": ("sgd", {"momentum": 0.9}),
    "nesterov": ("sgd", {"momentum": 0.9, "nesterov": True}),
    "adagrad": ("adagrad", {}),
    "adadelta": ("adadelta", {}),
    "rmsprop": ("rmsprop", {}),
    "adam": ("adam", {}),
    "adamw": ("adamw", {}),
}


def sample_rows(net, batches=1):
    """The sample's data, cut to ``batches`` batches of its saved size (at least 4 rows)."""
    data = load_source(net.data_source)
    n = min(len(data.X), max(4, net.training.batch_size) * batches)
    return data.X[:n], data.Y[:n]


def run(trainer):
    """Drive a trainer; return its events and the weights after every BatchEnd (before the first: index 0)."""
    events, weights = [], [trainer.network.get_weights()]
    for ev in trainer.run():
        events.append(ev)
        if isinstance(ev, BatchEnd):
            weights.append(trainer.network.get_weights())
    return events, weights


def assert_same(a, b):
    assert a.keys() == b.keys()
    for k in a:
        np.testing.assert_array_equal(a[k], b[k], err_msg=k)


def all_finite(weights):
    return all(np.isfinite(v).all() for v in weights.values())


# ------------------------------------------------------------ the last step of a run
@pytest.mark.parametrize("path", SAMPLES, ids=lambda p: p.stem)
def test_every_sample_stops_when_the_last_step_diverges(path):
    """One batch, one epoch: the only step is the last one, which nothing used to check."""
    net = ad.load(path)
    X, Y = sample_rows(net)
    before = net.get_weights()
    tr = net.trainer(X, Y, learning_rate=1e300, optimizer="sgd", epochs=1, batch_size=len(X),
                     validation_split=0.0, shuffle=False)
    events, _ = run(tr)
    fin = events[-1]
    assert isinstance(fin, Finished)
    if net.training.rule == "fixed":  # the weights never change: nothing can diverge
        assert fin.reason == "completed"
        assert_same(net.get_weights(), before)
        return
    assert fin.reason == "nan", fin
    assert not any(isinstance(e, (BatchEnd, EpochEnd)) for e in events)  # a bad step is not reported as done
    assert fin.node_id in net.graph.nodes and fin.epoch == 0 and fin.batch == 0
    assert net.describe_node(fin.node_id) in fin.message and "epoch 1, batch 1" in fin.message
    assert "NaN or infinite" in fin.message and fin.weight and fin.weight in fin.message
    assert_same(net.get_weights(), before)  # exactly the weights before the bad step
    assert len(net.history) == 0
    # and the API does not report success
    with pytest.raises(ad.TrainingError, match="NaN or infinite") as e:
        net.fit(X, Y, learning_rate=1e300, optimizer="sgd", epochs=1, batch_size=len(X),
                validation_split=0.0, shuffle=False)
    assert e.value.node_id == fin.node_id
    assert_same(net.get_weights(), before)
