"""The frames explain mode steps through: made from the engine's trace, in
the engine's order, with the numbers the engine computed."""

from pathlib import Path

import numpy as np
import pytest

import anndesigner as ad
from anndesigner.engine import explain
from anndesigner.ui.explain.stages import PHASES, Stepper, build_frames, num, vec

SAMPLES = Path(__file__).resolve().parents[3] / "samples"


def frames_for(name, row=1):
    net = ad.load(SAMPLES / name)
    data = ad.data.load_source(net.data_source, base_dir=SAMPLES)
    trace = explain(net, data.X[row], data.Y[row])
    return net, trace, build_frames(trace, net.get_weights())


def test_xor_frames_follow_the_engine_and_show_its_numbers():
    net, trace, frames = frames_for("xor.ann")
    # phases in order, never going back
    order = [PHASES.index(f.phase) for f in frames]
    assert order == sorted(order) and set(order) == {0, 1, 2, 3}
    # forward frames visit the nodes in the program's order
    seen = []
    for f in frames:
        if f.phase == "forward" and f.node_id not in seen:
            seen.append(f.node_id)
    assert seen == [n.node_id for n in trace.nodes]
    # the hidden layer's z and f(z) are the engine's, unit by unit
    hidden = trace.node("dense_1")
    zf = next(f for f in frames if f.node_id == "dense_1" and "z = Σ" in f.title)
    for j, z in enumerate(np.asarray(hidden.z).reshape(-1)):
        assert f"<b>{num(z)}</b>" in zf.lines[-(len(hidden.z) - j)]
    yf = next(f for f in frames if f.node_id == "dense_1" and f.curve is not None)
    name, z, y = yf.curve
    assert name == hidden.activation
    np.testing.assert_allclose(y, np.tanh(z) if name == "tanh" else y, rtol=1e-5)
    np.testing.assert_array_equal(z, np.asarray(hidden.z, np.float64).reshape(-1))
    # the products are the weights times the inputs
    k = net.get_weights()["dense_1/kernel"]
    x = np.asarray(trace.node("input_1").output).reshape(-1)
    pf = next(f for f in frames if f.node_id == "dense_1" and "products" in f.title)
    assert f"{num(k[0, 0])}·{num(x[0])}" in " ".join(pf.lines)
    # the loss frame has the engine's loss; the last frame the loss after the update
    lf = next(f for f in frames if f.phase == "loss")
    assert num(trace.losses[0].value) in lf.lines[-1]
    assert num(trace.loss_after) in frames[-1].lines[-1]
    # every weight's update frame shows w' = the engine's after
    for w in trace.weights:
        uf = next(f for f in frames if f.title == f"{w.name} · update")
        assert uf.lines[-1].endswith(f"<b>{vec(w.after)}</b>")
        assert f"Δw = {vec(w.update)}" in uf.lines


def test_frames_accumulate_within_a_node():
    _, _, frames = frames_for("xor.ann")
    groups = {}
    for f in frames:
        groups.setdefault(f.group, []).append(f)
    for fs in groups.values():
        for a, b in zip(fs, fs[1:]):
            assert b.lines[:len(a.lines)] == a.lines


@pytest.mark.parametrize("name", ["xor-neurons.ann", "digits-cnn.ann", "tiny-transformer.ann", "sine-lstm.ann"])
def test_every_sample_kind_gives_frames_for_each_node(name):
    if not (SAMPLES / name).exists():
        pytest.skip(f"no sample {name}")
    _, trace, frames = frames_for(name, row=0)
    ids = {f.node_id for f in frames if f.phase == "forward"}
    assert ids == {n.node_id for n in trace.nodes}
    assert any(f.phase == "update" for f in frames)
    # big tensors are summarized, not written out
    assert max(len(line) for f in frames for line in f.lines) < 2000


def test_stepping_at_each_granularity_and_back_lands_on_the_same_frames():
    _, _, frames = frames_for("xor.ann")
    s = Stepper(frames, granularity="operation")
    visited = [s.index]
    while s.forward():
        visited.append(s.index)
    assert visited == list(range(len(frames)))
    back = [s.index]
    while s.back():
        back.append(s.index)
    assert back == visited[::-1]

    node = Stepper(frames, granularity="node")
    ends = []
    while node.forward():
        ends.append(node.index)
    # each node step ends at the last frame of a group
    assert all(i + 1 == len(frames) or frames[i + 1].group != frames[i].group for i in ends)
    whole = Stepper(frames, granularity="pass")
    phases = []
    while whole.forward():
        phases.append(frames[whole.index].phase)
    assert phases == ["forward", "loss", "backward", "update"][-len(phases):]
    with pytest.raises(ValueError):
        Stepper(frames, granularity="epoch-ish")


def test_update_frames_show_the_optimizers_state_it_continues_from():
    net = ad.load(SAMPLES / "xor.ann")
    data = ad.data.load_source(net.data_source, base_dir=SAMPLES)
    fresh = build_frames(explain(net, data.X[1], data.Y[1]), net.get_weights(), net.optimizer_state)
    first = next(f for f in fresh if f.title == "dense_1/kernel · update")
    assert any("first step" in line for line in first.lines)
    net.fit(data.X, data.Y, epochs=3)  # adam: m and v now hold something
    trace = explain(net, data.X[1], data.Y[1])
    assert trace.iterations_before > 0
    frames = build_frames(trace, net.get_weights(), net.optimizer_state)
    upd = next(f for f in frames if f.title == "dense_1/kernel · update")
    m = net.optimizer_state["state.grad_sum.dense_1/kernel"]
    assert f"m, the moving mean of g (Adam) before = {vec(m)}" in upd.lines
    assert any(line.startswith("v, the moving mean of g²") for line in upd.lines)
