"""Training in a child process gives exactly what training in-process gives,
and obeys pause, step and stop."""

import time

import numpy as np

import anndesigner as ad
from anndesigner.engine.process import Start, TrainingProcess
from helpers import XOR_X, XOR_Y, mlp


def wait_for(cond, timeout=30.0):
    end = time.perf_counter() + timeout
    while time.perf_counter() < end:
        if cond():
            return True
        time.sleep(0.01)
    return False


def test_payload_round_trip_is_exact():
    net = ad.Network(mlp([2, 4, 1]), seed=3)
    net.fit(XOR_X, XOR_Y, epochs=3)
    net2 = Start.of(net, XOR_X, XOR_Y).build()  # what the child trains
    assert net2.graph.to_dict() == net.graph.to_dict() and net2.seed == 3
    assert net2.history.data == net.history.data and net2.training == net.training
    np.testing.assert_array_equal(net2.predict(XOR_X), net.predict(XOR_X))


def test_child_process_trains_exactly_like_fit():
    net = ad.Network(mlp([2, 4, 1]), seed=0, training={"epochs": 50, "batch_size": 2, "learning_rate": 0.05})
    ref = ad.Network(mlp([2, 4, 1]), seed=0, training=net.training.to_dict())
    ref.fit(XOR_X, XOR_Y)
    proc = TrainingProcess(net, XOR_X, XOR_Y)
    proc.start()
    assert proc.wait(60)
    assert proc.result.reason == "completed"
    assert proc.batches == 100 and proc.epochs_done == 50
    assert proc.history.data == ref.history.data
    for k, v in ref.get_weights().items():
        np.testing.assert_array_equal(proc.weights[k], v)
    assert proc.latest is not None and list(proc.latest.history["loss"]) == ref.history["loss"]


def test_pause_step_stop_in_the_child():
    net = ad.Network(mlp([2, 4, 1]), seed=0, training={"epochs": 10**6, "batch_size": 1})
    proc = TrainingProcess(net, XOR_X, XOR_Y)
    proc.start(paused=True)
    time.sleep(1.0)
    proc.poll()
    assert proc.batches == 0
    proc.step()
    assert wait_for(lambda: (proc.poll(), proc.batches)[1] == 1)
    time.sleep(0.3)
    proc.poll()
    assert proc.batches == 1
    proc.resume()
    assert wait_for(lambda: (proc.poll(), proc.batches)[1] > 50)
    proc.stop()
    assert proc.wait(30) and proc.result.reason == "stopped"
    assert not proc.is_alive() and proc.batches > 50 and proc.weights is not None


def test_bad_settings_raise_in_the_caller_before_any_process():
    net = ad.Network(mlp([2, 4, 1]), seed=0)
    try:
        TrainingProcess(net, np.zeros((4, 3), np.float32), XOR_Y)
    except ad.DataError as e:
        assert "input_1" in str(e)
    else:
        raise AssertionError("a data mismatch must be refused")


def test_a_bad_token_met_in_the_child_is_reported_as_a_plain_message():
    g = ad.Graph()
    x = g.add_node("Input", shape=[3])
    e = g.add_node("Embedding", input_dim=4, output_dim=2)
    f = g.add_node("Flatten")
    y = g.add_node("Output", units=1, activation="sigmoid", loss="binary_crossentropy")
    for a, b in [(x, e), (e, f), (f, y)]:
        g.connect(a, b)
    X = np.array([[0, 1, 2], [1, 2, 3], [3, 9, 0]], np.float32)  # 9 is not a token of a 4-word vocabulary
    proc = TrainingProcess(ad.Network(g, seed=0, training={"epochs": 2, "batch_size": 1, "shuffle": False}),
                           X, np.zeros((3, 1), np.float32))
    proc.start()
    assert proc.wait(60)
    assert proc.result.reason == "error"
    msg = proc.result.message
    assert msg.startswith("training stopped:") and "9" in msg and e.id in msg
    assert "Traceback" not in msg


def test_time_standing_paused_before_a_step_stays_out_of_the_clock():
    """A paused run's Step used to count all the time it stood paused: the ETA grew with every Step."""
    net = ad.Network(mlp([2, 4, 1]), seed=0, training={"epochs": 10**6, "batch_size": 1})
    proc = TrainingProcess(net, XOR_X, XOR_Y)
    proc.start(paused=True)
    wait_for(lambda: (proc.poll(), False)[1], timeout=1.5)  # stands paused for 1.5 s
    proc.step()
    assert wait_for(lambda: (proc.poll(), proc.latest is not None and proc.latest.step == 1)[1])
    elapsed = proc.latest.elapsed
    proc.stop()
    assert proc.wait(30)
    assert elapsed < 1.0, f"{elapsed:.2f} s counted for one batch after 1.5 s paused"
