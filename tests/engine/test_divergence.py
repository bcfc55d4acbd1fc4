"""Training that diverges: every step that can make weights NaN or inf is checked,
training stops naming the node and the epoch/batch, the weights go back to what
they were before the bad step (exactly), and non-finite weights are never saved."""

import numpy as np
import pytest

import anndesigner as ad
from anndesigner.data import load_source
from anndesigner.engine import BatchEnd, EpochEnd, Finished, kernels
from anndesigner.engine.optimizers import make_optimizer
from anndesigner.engine.process import TrainingProcess
from anndesigner.engine.trainer import StepGuard, generators_of
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


def run(trainer, diverge_after_epoch=None):
    """Drive a trainer; return its events and the weights after every BatchEnd (before the first: index 0).

    With ``diverge_after_epoch=E`` the learning rate becomes 1e300 once epoch ``E`` (0-based) has
    ended, so the next epoch's first step diverges."""
    events, weights = [], [trainer.network.get_weights()]
    for ev in trainer.run():
        events.append(ev)
        if isinstance(ev, BatchEnd):
            weights.append(trainer.network.get_weights())
        if isinstance(ev, EpochEnd) and ev.epoch == diverge_after_epoch:
            trainer.config.learning_rate = 1e300
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


# ------------------------------------------------- exact restore after good steps
@pytest.fixture(params=["numpy", "numba"])
def backend(request):
    """Both update paths of the optimizers: NumPy passes and the compiled kernels."""
    if request.param == "numba" and not kernels.available():
        pytest.skip("numba is not installed")
    before = kernels.use(request.param == "numba")
    yield request.param
    kernels.use(before)


def big_net(seed=0):
    """An MLP of more than kernels.MIN_SIZE weights, so that Adam runs its compiled kernel when on."""
    net = ad.Network(mlp([392, 256, 4], hidden="relu", out_act="softmax", loss="categorical_crossentropy"),
                     seed=seed)
    assert net.count_params() >= kernels.MIN_SIZE
    return net


def big_data(n=48, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, 392)).astype(np.float32)
    Y = np.eye(4, dtype=np.float32)[rng.integers(0, 4, n)]
    return X, Y


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_every_optimizer_restores_the_weights_before_the_bad_step_exactly(name, backend):
    """Two good epochs move the weights and the optimizer's state; then the learning rate jumps
    (the schedule is read at each epoch) and the first step of epoch 3 diverges."""
    opt, params = OPTIMIZERS[name]
    net = big_net()
    X, Y = big_data()
    assert kernels.enabled() == (backend == "numba")
    lr = 1.0 if opt == "adadelta" else 0.01
    tr = net.trainer(X, Y, optimizer=opt, optimizer_params=params, learning_rate=lr, epochs=5,
                     batch_size=16, shuffle=True)
    events, weights = run(tr, diverge_after_epoch=1)
    fin = events[-1]
    assert fin.reason == "nan" and (fin.epoch, fin.batch) == (2, 0), fin
    assert fin.learning_rate == 1e300 and "epoch 3, batch 1" in fin.message
    assert sum(isinstance(e, BatchEnd) for e in events) == 6 and len(net.history) == 2
    assert not np.array_equal(weights[-1]["dense_1/kernel"], weights[0]["dense_1/kernel"])  # it did move
    assert_same(net.get_weights(), weights[-1])
    assert fin.weight in net.get_weights() and fin.node_id == fin.weight.split("/")[0]
    assert f"'{fin.weight}'" in fin.message and net.describe_node(fin.node_id) in fin.message
    # the network trains on from there once the learning rate is sane again
    net.fit(X, Y, optimizer=opt, optimizer_params=params, learning_rate=lr, epochs=1, batch_size=16)
    assert len(net.history) == 3 and all_finite(net.get_weights())


@pytest.mark.parametrize("stem", ["perceptron", "hebbian"])
def test_classic_rules_restore_the_weights_before_the_bad_step_exactly(stem):
    path = next(p for p in SAMPLES if p.stem == stem)
    net = ad.load(path)
    X, Y = sample_rows(net, batches=4)
    tr = net.trainer(X, Y, epochs=5, validation_split=0.0, shuffle=True)
    events, weights = run(tr, diverge_after_epoch=0)
    fin = events[-1]
    assert fin.reason == "nan" and fin.epoch == 1, fin
    assert fin.weight is not None and fin.node_id in net.graph.nodes
    assert not all(np.array_equal(weights[-1][k], weights[0][k]) for k in weights[0])  # they did move
    assert_same(net.get_weights(), weights[-1])


def test_a_bad_step_in_the_middle_of_an_epoch():
    """Mean absolute error keeps the loss finite (it grows like the output, not its square) while a
    batch of huge inputs makes the gradient, times the learning rate, overflow float32."""
    net = ad.Network(mlp([2, 1], out_act="linear", loss="mae"), seed=0)
    X = np.concatenate([np.full((8, 2), 1e-3), np.full((4, 2), 1e30)]).astype(np.float32)
    Y = np.concatenate([np.ones((8, 1)), np.zeros((4, 1))]).astype(np.float32)
    events, weights = run(net.trainer(X, Y, optimizer="sgd", learning_rate=1e10, batch_size=4, shuffle=False,
                                      epochs=3))
    fin = events[-1]
    assert fin.reason == "nan" and (fin.epoch, fin.batch) == (0, 2) and fin.weight == "output_1/kernel"
    assert fin.message.startswith("training stopped at epoch 1, batch 3: the weight 'output_1/kernel' of "
                                  "Output 'output_1' became NaN or infinite")
    assert len(weights) == 3 and not np.array_equal(weights[2]["output_1/kernel"], weights[0]["output_1/kernel"])
    assert_same(net.get_weights(), weights[2])


def test_an_output_that_overflows_mid_epoch_keeps_the_weights_of_before_that_batch():
    net = ad.Network(mlp([2, 4, 1], hidden="linear", out_act="linear", loss="mse"), seed=0)
    X = np.concatenate([np.ones((8, 2)), np.full((4, 2), 3e38)]).astype(np.float32)
    Y = np.zeros((12, 1), np.float32)
    events, weights = run(net.trainer(X, Y, optimizer="adam", learning_rate=0.01, batch_size=4, shuffle=False,
                                      epochs=2))
    fin = events[-1]
    assert fin.reason == "nan" and (fin.epoch, fin.batch) == (0, 2) and fin.weight is None
    assert fin.node_id in net.graph.nodes and "epoch 1, batch 3" in fin.message
    assert_same(net.get_weights(), weights[2])


def batchnorm_net():
    g = ad.Graph()
    x = g.add_node("Input", units=3)
    bn = g.add_node("BatchNorm")
    y = g.add_node("Output", units=1, activation="linear", loss="mse")
    g.connect(x, bn)
    g.connect(bn, y)
    return ad.Network(g, seed=0)


@pytest.mark.parametrize("rule", ["backprop", "fixed"])
def test_batchnorm_moving_statistics_are_checked_and_restored(rule):
    """Inputs of 1e20 make the batch variance overflow float32: the normalized values (x - mean) / inf
    are 0, so the outputs stay finite, but the moving variance becomes inf. It is layer state, which
    even the "fixed" rule changes."""
    net = batchnorm_net()
    X = np.random.default_rng(0).standard_normal((64, 3)).astype(np.float32)
    X[32:] *= np.float32(1e20)
    Y = np.zeros((64, 1), np.float32)
    events, weights = run(net.trainer(X, Y, rule=rule, batch_size=32, shuffle=False, epochs=1,
                                      optimizer="sgd", learning_rate=0.01))
    fin = events[-1]
    assert fin.reason == "nan" and (fin.epoch, fin.batch) == (0, 1), fin
    assert fin.weight == "batchnorm_1/moving_variance" and fin.node_id == "batchnorm_1"
    assert "the state 'batchnorm_1/moving_variance' of Batch norm 'batchnorm_1'" in fin.message
    assert not np.array_equal(weights[1]["batchnorm_1/moving_mean"], weights[0]["batchnorm_1/moving_mean"])
    assert_same(net.get_weights(), weights[1])


def test_fused_neurons_name_the_neuron_whose_weight_went_bad():
    """Neurons drawn one by one are fused into one array; the message names the neuron."""
    net = ad.load(next(p for p in SAMPLES if p.stem == "xor-neurons"))
    X, Y = sample_rows(net)
    fin = list(net.trainer(X, Y, learning_rate=1e300, optimizer="sgd", epochs=1, validation_split=0.0).run())[-1]
    assert fin.reason == "nan" and fin.weight.split("/")[0] == fin.node_id
    assert net.graph.node_type(fin.node_id).type_id == "Neuron"
    assert f"Neuron '{fin.node_id}'" in fin.message


# -------------------------------------------------------------------- never saved
def test_non_finite_weights_are_never_saved_nor_set(tmp_path):
    net = ad.Network(mlp([2, 4, 1]), seed=0)
    before = net.get_weights()
    bad = dict(before)
    bad["dense_1/kernel"] = before["dense_1/kernel"].copy()
    bad["dense_1/kernel"][1, 2] = np.inf
    with pytest.raises(ad.TrainingError, match=r"weight 'dense_1/kernel' of Dense layer 'dense_1' holds NaN") as e:
        net.set_weights(bad)
    assert e.value.node_id == "dense_1"
    assert_same(net.get_weights(), before)  # nothing was set, not even the good ones
    # a weight made non-finite behind the API's back: save refuses and writes nothing
    net.program.params[0].value[0, 0] = np.nan
    f = tmp_path / "x.ann"
    with pytest.raises(ad.AnnError, match="weight 'dense_1/kernel' .* NaN or infinite .* cannot be saved"):
        net.save(f)
    assert not f.exists() and list(tmp_path.iterdir()) == []
    # also while the graph is invalid (the weights then come from the stash)
    net.graph.remove_node(net.graph.outputs()[0].id)
    assert not net.compiles
    with pytest.raises(ad.TrainingError, match="dense_1/kernel"):
        net.weights_for_saving()


def test_after_divergence_the_network_saves_its_last_finite_weights(tmp_path):
    net = ad.load(next(p for p in SAMPLES if p.stem == "xor"))
    X, Y = sample_rows(net)
    before = net.get_weights()
    with pytest.raises(ad.TrainingError):
        net.fit(X, Y, learning_rate=1e300, optimizer="sgd", epochs=3)
    net.save(tmp_path / "x.ann")
    again = ad.load(tmp_path / "x.ann")
    assert_same(again.get_weights(), before)


# ----------------------------------------------------------------- child process
def test_the_child_process_delivers_the_divergence_and_the_last_finite_weights():
    net = ad.Network(mlp([2, 4, 1]), seed=0, training={"epochs": 4, "batch_size": 2, "learning_rate": 0.05,
                                                        "optimizer": "sgd", "shuffle": False})
    ref = ad.Network(mlp([2, 4, 1]), seed=0, training=net.training.to_dict())
    events, weights = run(ref.trainer(XOR_X, XOR_Y, learning_rate=1e300))  # the first step diverges
    net.training = net.training.replace(learning_rate=1e300)
    proc = TrainingProcess(net, XOR_X, XOR_Y)
    proc.start()
    assert proc.wait(60)
    res = proc.result
    assert isinstance(res, Finished) and res == events[-1]
    assert res.reason == "nan" and (res.epoch, res.batch) == (0, 0) and res.node_id in net.graph.nodes
    assert res.weight and res.learning_rate == 1e300 and "NaN or infinite" in res.message
    assert_same(proc.weights, weights[0])
    assert proc.batches == 0 and len(proc.history) == 0


def test_weights_set_between_batches_are_what_a_bad_step_goes_back_to():
    """The guard keeps the values checked after each step; weights set through the API between two
    batches (here by the caller driving the generator) are taken afresh."""
    net = ad.Network(mlp([2, 4, 1], hidden="linear", out_act="linear", loss="mae"), seed=0)
    tr = net.trainer(XOR_X, XOR_Y, optimizer="sgd", learning_rate=0.1, batch_size=2, shuffle=False, epochs=3)
    mine = {k: np.full_like(v, 0.25) for k, v in net.get_weights().items()}
    events = []
    for ev in tr.run():
        events.append(ev)
        if isinstance(ev, BatchEnd) and ev.step == 4:  # the last batch of epoch 2
            net.set_weights(mine)
            tr.config.learning_rate = 1e300  # read at the next epoch: its first batch diverges
    fin = events[-1]
    assert fin.reason == "nan" and (fin.epoch, fin.batch) == (2, 0), fin
    assert_same(net.get_weights(), mine)


# ----------------------------------------------------- replay from the checkpoint
@pytest.fixture(params=[StepGuard.EVERY, 2], ids=["every32", "every2"])
def every(request, monkeypatch):
    """Checkpoints at the default spacing, and every 2 batches (replays of 0 or 1 batch)."""
    monkeypatch.setattr(StepGuard, "EVERY", request.param)
    return request.param


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_every_optimizer_replays_to_the_weights_before_a_bad_batch_mid_epoch(name, backend, every):
    """Rows of 3e38 in the 4th batch make an output overflow: the weights go back to the checkpoint
    of the epoch's start and the three good batches since are computed again, bit for bit."""
    opt, params = OPTIMIZERS[name]
    net = big_net()
    X, Y = big_data(64)
    X[48:] = 3e38
    lr = 1.0 if opt == "adadelta" else 0.01
    events, weights = run(net.trainer(X, Y, optimizer=opt, optimizer_params=params, learning_rate=lr, epochs=2,
                                      batch_size=16, shuffle=False))
    fin = events[-1]
    assert fin.reason == "nan" and (fin.epoch, fin.batch) == (0, 3) and fin.weight is None, fin
    assert len(weights) == 4
    assert not np.array_equal(weights[3]["dense_1/kernel"], weights[2]["dense_1/kernel"])
    assert_same(net.get_weights(), weights[3])
    assert fin.message.endswith("the weights are back to where they were before that batch")


def dropout_net():
    """Input 4 -> Dense 16 relu -> Dropout 0.5 -> linear Output (mse)."""
    g = ad.Graph()
    x = g.add_node("Input", units=4)
    h = g.add_node("Dense", units=16, activation="relu")
    d = g.add_node("Dropout", rate=0.5)
    y = g.add_node("Output", units=1, activation="linear", loss="mse")
    g.connect(x, h)
    g.connect(h, d)
    g.connect(d, y)
    return ad.Network(g, seed=0)


def test_dropout_masks_are_replayed_exactly(every):
    net = dropout_net()
    assert generators_of(net.program)  # the dropout step draws from a generator the guard keeps
    X = np.random.default_rng(1).standard_normal((48, 4)).astype(np.float32)
    X[40:] = 3e38
    Y = np.ones((48, 1), np.float32)
    events, weights = run(net.trainer(X, Y, optimizer="adam", learning_rate=0.05, batch_size=8, shuffle=False,
                                      epochs=1))
    fin = events[-1]
    assert fin.reason == "nan" and fin.batch == 5 and len(weights) == 6
    assert_same(net.get_weights(), weights[5])
    # the run after it draws the masks a run without the bad batch would have drawn
    ref = dropout_net()
    ref.fit(X[:40], Y[:40], optimizer="adam", learning_rate=0.05, batch_size=8, shuffle=False, epochs=1)
    assert_same(ref.get_weights(), weights[5])
    net.fit(X[:8], Y[:8], optimizer="adam", learning_rate=0.05, batch_size=8, shuffle=False, epochs=1)
    ref.fit(X[:8], Y[:8], optimizer="adam", learning_rate=0.05, batch_size=8, shuffle=False, epochs=1)
    assert_same(net.get_weights(), ref.get_weights())


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_optimizer_snapshot_restores_its_state_bit_for_bit(name):
    """A snapshot (taken into new buffers, or into given ones) comes back bit for bit, iterations
    included, so the steps after it repeat exactly."""
    opt_name, params = OPTIMIZERS[name]
    rng = np.random.default_rng(0)
    w = [rng.standard_normal((5, 3)).astype(np.float32), rng.standard_normal(3).astype(np.float32)]
    opt = make_optimizer(opt_name, w, 0.1, **params)
    grads = [[rng.standard_normal(a.shape).astype(np.float32) * np.float32(1.0 if i < 3 else 1e-20) for a in w]
             for i in range(40)]
    for g in grads[:17]:
        opt.step([x.copy() for x in g])
    snap = opt.snapshot()
    again = opt.snapshot([np.zeros_like(a) for a in snap])  # filling given buffers in place
    w0 = [a.copy() for a in w]
    for g in grads[17:]:
        opt.step([x.copy() for x in g])
    after = [a.copy() for a in w]
    for saved in (snap, again):
        for a, b in zip(w, w0):
            a[...] = b
        opt.restore_snapshot(saved)
        for g in grads[17:]:
            opt.step([x.copy() for x in g])
        for a, b in zip(w, after):
            np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("path", [p for p in SAMPLES if p.stem != "mp-neuron"], ids=lambda p: p.stem)
def test_every_sample_replays_exactly_through_its_layers(path):
    """Every layer family of the gallery (dense, conv, LSTM, attention, embedding, the classic rules),
    with the saved shuffling and validation split: the 5th step (epoch 2) gets a learning rate of
    1e300, and the weights come back as they were after the 4th, recomputed across the epoch boundary."""
    net = ad.load(path)
    X, Y = sample_rows(net, batches=3)
    tr = net.trainer(X, Y, epochs=5)
    calls = []
    if tr.optimizer is not None:
        step = tr.optimizer.step

        def bad_fifth(grads, lr=None):
            calls.append(lr)
            return step(grads, lr=1e300 if len(calls) == 5 else lr)

        tr.optimizer.step = bad_fifth
    else:
        rule_step = tr._rule_step

        def bad_fifth(xb, yb, lr):
            calls.append(lr)
            return rule_step(xb, yb, 1e300 if len(calls) == 5 else lr)

        tr._rule_step = bad_fifth
    events, weights = run(tr)
    fin = events[-1]
    per_epoch = events[0].batches
    assert fin.reason == "nan", fin
    assert (fin.epoch, fin.batch) == divmod(4, per_epoch) and len(weights) == 5
    assert len(calls) == 5 + 4  # the four good steps ran again
    assert_same(net.get_weights(), weights[4])
    assert fin.message.endswith("the weights are back to where they were before that batch")


def test_a_replay_that_does_not_reproduce_the_weights_says_so(monkeypatch):
    """The check keeps the sums of squares of the last good weights; a replay that does not come back
    to them (here: the dropout generators are not put back) is told apart in the message."""
    monkeypatch.setattr(StepGuard, "checkpoint", _checkpoint_without_generators)
    net = dropout_net()
    X = np.random.default_rng(1).standard_normal((48, 4)).astype(np.float32)
    X[40:] = 3e38
    events, weights = run(net.trainer(X, np.ones((48, 1), np.float32), optimizer="adam", learning_rate=0.05,
                                      batch_size=8, shuffle=False, epochs=1))
    fin = events[-1]
    assert fin.reason == "nan" and "recomputed (they may differ in the last digits)" in fin.message
    assert not all(np.array_equal(v, weights[5][k]) for k, v in net.get_weights().items())
    assert all_finite(net.get_weights())


_real_checkpoint = StepGuard.checkpoint


def _checkpoint_without_generators(self):
    _real_checkpoint(self)
    self._rng_saved = []


@pytest.mark.parametrize("flat", [True, False], ids=["one-buffer", "per-array"])
def test_the_check_tells_huge_finite_values_from_nan_and_inf(flat, monkeypatch):
    """Values of 1e30 are finite although their squares overflow float32: no divergence; a NaN or an
    inf is found in the array that holds it, and the fingerprint of the last good values is kept."""
    from anndesigner.engine.step import Param

    if not flat:
        monkeypatch.setattr(StepGuard, "FLAT_MAX", 0)
    arrays = [np.ones((3, 4), np.float32), np.zeros(4, np.float32), np.ones(2, np.float32)]
    params = [Param(f"n{i}/w", a, np.zeros_like(a), False) for i, a in enumerate(arrays)]
    guard = StepGuard(params)
    assert guard._flat == flat
    with np.errstate(over="ignore", invalid="ignore"):
        assert guard.check() is None and all(np.isfinite(guard.sums))
        arrays[1][2] = 1e30
        assert guard.check() is None and np.inf in guard.sums and guard.matches()  # the squares overflowed
        arrays[1][2] = 5.0
        assert guard.check() is None and guard.matches()
        good = list(guard.sums)
        for bad in (np.nan, np.inf, -np.inf):
            arrays[2][1] = bad
            assert guard.check() is params[2]
            assert guard.sums == good and not guard.matches()
            arrays[2][1] = 1.0
        arrays[0][0, 0] = np.nan
        arrays[2][0] = np.inf
        assert guard.check() is params[0]  # the first that holds one
