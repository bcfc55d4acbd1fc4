"""The Explain panel's "One batch" and "One epoch" granularities, through real clicks:
real training steps of the trainer on a copy, chained, kept as one undo step."""


import numpy as np
import pytest
from PySide6.QtCore import Qt

pytest.importorskip("pytestqt")

from anndesigner.engine import train_batch_step, train_epoch_step  # noqa: E402
from anndesigner.ui.explain.stages import GRANULARITIES, Stepper, num, step_frame  # noqa: E402



@pytest.fixture
def make_panel(explain_panel):
    return lambda name: explain_panel(name, size=(520, 640))


def click(qtbot, button):
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def step(qtbot, p):
    """Click "next" at a batch or epoch granularity: a step runs in a worker thread, with the
    controls off and the busy bar showing, until it ends."""
    with qtbot.waitSignal(p.stepFinished, timeout=60_000) as blocker:
        click(qtbot, p.b_next)
        assert p.busy and p.busy_bar.isVisible()
        assert not any(w.isEnabled() for w in (p.b_next, p.b_back, p.keep, p.granularity, p.go))
    assert not p.busy and not p.busy_bar.isVisible() and blocker.args[0] is not None
    return blocker.args[0]


def choose(qtbot, p, kind):
    """Pick a granularity with the keyboard, as a user would in the combo."""
    combo = p.granularity
    combo.setFocus()
    target = combo.findData(kind)
    while combo.currentIndex() != target:
        qtbot.keyClick(combo, Qt.Key.Key_Down if combo.currentIndex() < target else Qt.Key.Key_Up)
    assert combo.currentText() == {"batch": "One batch", "epoch": "One epoch"}[kind]


def weights_of(net):
    return {k: v.copy() for k, v in net.get_weights().items()}


def assert_weights(a, b):
    assert set(a) == set(b)
    for k in a:
        np.testing.assert_array_equal(a[k], b[k], err_msg=k)


@pytest.mark.parametrize("name", ["xor.ann", "spirals.ann"])
def test_two_epochs_back_keep_and_undo(qtbot, name, make_panel):
    doc, p = make_panel(name)
    original = weights_of(doc.network)
    p.row.setValue(1)
    choose(qtbot, p, "epoch")
    step(qtbot, p)
    step(qtbot, p)
    frames = [f for f in p.stepper.frames if f.phase == "epoch"]
    assert len(frames) == 2 and p.stepper.frame is frames[1]
    # the numbers are the engine's, chained
    data = doc.dataset()
    sample = (data.X[1], data.Y[1])
    r1 = train_epoch_step(doc.network, data=data, sample=sample)
    r2 = train_epoch_step(doc.network, previous=r1, data=data, sample=sample)
    for shown, ref in zip((f.record for f in frames), (r1, r2)):
        assert_weights(shown.weights_after, ref.weights_after)
        assert (shown.loss_before, shown.loss_after) == (ref.loss_before, ref.loss_after)
        assert shown.history_after == ref.history_after
    second = p.view.toPlainText()
    assert f"{num(r2.loss_before)} → {num(r2.loss_after)}" in second
    assert f"{num(r2.sample_loss_before)} → {num(r2.sample_loss_after)}" in second
    assert "step 2" in second and "epoch 2" in p.position.text()
    assert not p.inside.isEnabled()  # a whole step has no one layer's inside view
    top = r2.largest_changes(1)[0]
    assert f"{top.name}: max |Δw| = {num(top.max_abs)}" in second
    # back: the first epoch frame, exactly (the stored frame, nothing recomputed)
    click(qtbot, p.b_back)
    assert p.stepper.frame is frames[0]
    first = p.view.toPlainText()
    assert "step 1" in first and f"{num(r1.loss_before)} → {num(r1.loss_after)}" in first
    click(qtbot, p.b_next)  # forward again: the stored second frame, no new step
    assert p.view.toPlainText() == second and len(p.stepper.records) == 2
    click(qtbot, p.b_back)
    assert p.view.toPlainText() == first
    assert_weights(weights_of(doc.network), original)  # stepping changed nothing
    assert not doc.modified
    # keep the frame shown: epoch 1's weights, optimizer state and history, one undo step
    assert p.keep.isEnabled()
    click(qtbot, p.keep)
    assert_weights(weights_of(doc.network), r1.weights_after)
    assert doc.network.history.data == r1.history_after and len(doc.network.history) == 1
    assert doc.network.optimizer_state["iterations"] == r1.optimizer_state_after["iterations"]
    assert doc.undo_stack.count() == 1 and not p.keep.isEnabled()
    doc.undo_stack.undo()
    assert_weights(weights_of(doc.network), original)
    assert len(doc.network.history) == 0 and doc.network.optimizer_state is None
    # the undo changed the document from outside the panel: the next step starts from it again
    click(qtbot, p.b_end)
    r3 = step(qtbot, p)
    assert r3.epoch == 0 and r3.run_epoch == 0
    assert_weights(r3.weights_before, original)
    assert_weights(r3.weights_after, r1.weights_after)
    assert "step 3" in p.view.toPlainText() and "from the document's network again" in p.view.toPlainText()


def test_batch_steps_chain_through_the_trainers_batches(qtbot, make_panel):
    doc, p = make_panel("spirals.ann")
    click(qtbot, p.go)
    trace_frames = len(p.stepper.frames)
    choose(qtbot, p, "batch")
    for _ in range(3):
        step(qtbot, p)
    recs = p.stepper.records
    assert [r.first_batch for r in recs] == [0, 1, 2] and all(r.kind == "batch" for r in recs)
    data = doc.dataset()
    ref = None
    for shown in recs:
        ref = train_batch_step(doc.network, previous=ref, data=data)
        assert_weights(shown.weights_after, ref.weights_after)
    assert "batch 3 of 47" in p.position.text()
    # the sample's own frames stay at the start
    assert [f.phase for f in p.stepper.frames[:trace_frames]] == [f.phase for f in p.stepper.frames
                                                                if f.record is None]
    click(qtbot, p.b_start)
    assert p.stepper.index == 0 and p.stepper.frame.phase == "forward"
    # an epoch step now runs the rest of that epoch
    choose(qtbot, p, "epoch")
    step(qtbot, p)
    rest = p.stepper.records[-1]
    assert rest.kind == "epoch" and rest.first_batch == 3 and rest.epoch_finished
    whole = train_epoch_step(doc.network, data=data)
    assert_weights(rest.weights_after, whole.weights_after)
    # keep a batch frame: its weights, no epoch in the history
    click(qtbot, p.b_back)  # at "epoch": no earlier epoch frame, so to the start
    assert p.stepper.index == 0
    click(qtbot, p.b_end)
    choose(qtbot, p, "batch")
    click(qtbot, p.b_back)
    assert p.stepper.frame.record is recs[2]
    click(qtbot, p.keep)
    assert_weights(weights_of(doc.network), recs[2].weights_after)
    assert len(doc.network.history) == 0 and doc.network.optimizer_state["iterations"] == 3


def test_play_at_one_epoch_keeps_training_until_paused(qtbot, make_panel):
    doc, p = make_panel("xor.ann")
    choose(qtbot, p, "epoch")
    p.speed.setValue(p.speed.maximum())
    click(qtbot, p.b_play)
    qtbot.waitUntil(lambda: len(p.stepper.records) >= 3, timeout=30_000)
    assert p.b_play.isEnabled()  # pause stays at hand, also while a step runs
    click(qtbot, p.b_play)
    qtbot.waitUntil(lambda: not p.busy, timeout=30_000)
    assert not p.b_play.isChecked()
    recs = p.stepper.records
    ref = None
    for i, shown in enumerate(recs):
        ref = train_epoch_step(doc.network, previous=ref, data=doc.dataset(), sample=(p._x, p._y))
        assert shown.epoch == i
        assert_weights(shown.weights_after, ref.weights_after)
    assert p.stepper.frame.record is recs[-1]
    assert_weights(weights_of(doc.network), recs[0].weights_before)


def test_refused_while_training_runs(qtbot, make_panel):
    doc, p = make_panel("xor.ann")
    choose(qtbot, p, "epoch")
    step(qtbot, p)
    assert len(p.stepper.records) == 1
    doc.set_lock("training")
    assert not p.keep.isEnabled()
    click(qtbot, p.b_next)
    assert len(p.stepper.records) == 1 and "training is running" in p.message.text()
    assert p.keep_update() is False and doc.undo_stack.count() == 0
    doc.set_lock("")
    assert p.keep.isEnabled()


def test_stepper_steps_to_the_frames_of_its_kind():
    class Rec:  # just what step_frame reads
        kind, epoch, first_batch, batches, batches_per_epoch, samples, batch_size = "epoch", 0, 0, 1, 1, 4, 4
        rule, optimizer, learning_rate, optimizer_iterations_before = "backprop", "sgd", 0.1, 0
        loss_before, loss_after, reported_loss, data_loss_before, data_loss_after = 1.0, 0.5, 1.0, 1.0, 0.5
        sample_loss_before = sample_loss_after = metrics = None
        update_norm = max_abs_delta = 0.0

        def largest_changes(self, k):
            return []

    assert GRANULARITIES[-2:] == ("batch", "epoch")
    s = Stepper([], granularity="epoch")
    assert not s.forward()
    s.append(step_frame(Rec(), 1))
    s.append(step_frame(Rec(), 2, group=1))
    assert s.index == 0 and s.forward() and s.index == 1 and not s.forward()
    assert s.back() and s.index == 0 and not s.back()
    assert "loss on every training row = 1 → 0.5 (−0.5)" in "\n".join(s.frame.lines).replace("<b>", "").replace("</b>", "")
