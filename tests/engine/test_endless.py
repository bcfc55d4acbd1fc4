"""A run until paused, and a speed limit in epochs per second (the child process)."""

import time
from pathlib import Path

import numpy as np
import pytest

import anndesigner as ad
from anndesigner.engine import ENDLESS_EPOCHS, TrainingProcess
from anndesigner.errors import TrainingError

SAMPLES = Path(__file__).resolve().parents[2] / "samples"


def run_until(proc, cond, timeout=30.0):
    t0 = time.perf_counter()
    while not proc.poll(0.01):
        if cond(proc):
            return True
        if time.perf_counter() - t0 > timeout:
            raise AssertionError("timed out")
    return cond(proc)


def test_an_endless_run_goes_past_the_settings_epochs_until_stopped():
    net = ad.load(SAMPLES / "xor.ann")
    net.training = net.training.replace(epochs=3)
    d = ad.dataset("xor")
    proc = TrainingProcess(net, d.X, d.Y, endless=True)
    assert proc.epochs_total == ENDLESS_EPOCHS
    proc.start()
    run_until(proc, lambda p: p.epochs_done > 20)
    proc.stop()
    while not proc.poll(0.05):
        pass
    assert proc.result.reason == "stopped"
    assert proc.epochs_done > 20 and len(proc.history) == proc.epochs_done
    assert all(np.isfinite(v).all() for v in proc.weights.values())


def test_a_speed_limit_holds_and_can_change_while_running():
    net = ad.load(SAMPLES / "xor.ann")
    d = ad.dataset("xor")
    proc = TrainingProcess(net, d.X, d.Y, endless=True, epochs_per_second=20.0)
    proc.start()
    run_until(proc, lambda p: p.epochs_done >= 2)
    e0, t0 = proc.epochs_done, time.perf_counter()
    run_until(proc, lambda p: time.perf_counter() - t0 > 1.0)
    rate = (proc.epochs_done - e0) / (time.perf_counter() - t0)
    assert rate < 30  # flat out, xor does thousands of epochs a second
    proc.set_speed(None)
    e1, t1 = proc.epochs_done, time.perf_counter()
    run_until(proc, lambda p: time.perf_counter() - t1 > 1.0)
    assert (proc.epochs_done - e1) / (time.perf_counter() - t1) > 2 * max(rate, 1.0)
    proc.stop()
    while not proc.poll(0.05):
        pass
    assert proc.result.reason == "stopped"


@pytest.mark.parametrize("speed", [0, -1, float("nan"), float("inf")])
def test_a_bad_speed_is_refused(speed):
    net = ad.load(SAMPLES / "xor.ann")
    d = ad.dataset("xor")
    with pytest.raises(TrainingError, match="epochs per second"):
        TrainingProcess(net, d.X, d.Y, epochs_per_second=speed)
