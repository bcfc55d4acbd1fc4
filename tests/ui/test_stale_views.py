"""What the window shows is true (issue 10, "What a new user met" 3-6 and 8, and
diverging training): every view shows the current document, data and weights,
or is cleared; results name the rows they are from; Train/Step/Stop stay in
sight; Step says what it did; a diverged run offers its fixes.

All through a real MainWindow: buttons are pressed with mouse clicks delivered
by the app's event loop; training runs in the real child process."""

import re
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("PySide6")

from PySide6.QtCore import QPoint, Qt  # noqa: E402
from PySide6.QtWidgets import QScrollArea  # noqa: E402

from anndesigner.ui import commands as C  # noqa: E402

SAMPLES = Path(__file__).resolve().parents[2] / "samples"


@pytest.fixture
def window(main_window):
    return main_window((1366, 740))


def click(qtbot, button):
    assert button.isEnabled() and button.isVisible(), button.objectName()
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton, pos=QPoint(button.width() // 2, button.height() // 2))


def wait_idle(qtbot, w, timeout=30000):
    qtbot.waitUntil(lambda: w.training.state == "idle", timeout=timeout)


def train(qtbot, w):
    click(qtbot, w.training_panel.train_button)
    wait_idle(qtbot, w)


def set_training(w, **settings):
    w.document.push(C.SetTrainingCommand(w.document, **settings))


def panel_text(panel):
    """Every label the panel shows, as a user reads it."""
    from PySide6.QtWidgets import QLabel

    texts = [lb.text() for lb in panel.findChildren(QLabel) if lb.isVisibleTo(panel) and lb.text()]
    return re.sub(r"<[^>]+>", "", "\n".join(texts))


def panel_button(panel, text):
    from PySide6.QtWidgets import QPushButton

    found = [b for b in panel.findChildren(QPushButton) if b.isVisibleTo(panel) and b.text() == text]
    assert found, f"no button {text!r}"
    return found[0]


def predict(qtbot, panel, text):
    panel.predict_input.setText(text)
    click(qtbot, panel.predict_button)
    return panel.predict_output.text()


# ------------------------------------------------------------------ 3: results by split
def test_results_show_validation_and_training_rows_apart(window, qtbot):
    w = window
    assert w.open_file(SAMPLES / "spirals.ann", ask=False)  # 1000 rows, 25 % held out for validation
    set_training(w, epochs=4)
    train(qtbot, w)
    plots = w.plots
    h = w.document.network.history
    cm = plots.confusion()
    assert cm.sum() == 250  # the default when there are validation rows
    title = plots.confusion_plot.titleLabel.text
    assert title.startswith("Validation rows:") and "of 250" in title
    assert plots.results_split() == "validation"
    # the same rows the trainer held out: the matrix's accuracy is the history's last val_accuracy
    assert np.trace(cm) / cm.sum() == pytest.approx(h["val_accuracy"][-1], abs=1e-9)
    plots.set_results_split("training")
    assert plots.confusion().sum() == 750
    assert plots.confusion_plot.titleLabel.text.startswith("Training rows:")
    # and the panel names the split of every number it shows
    status = w.training_panel.status.text()
    assert "validation loss" in status and "validation accuracy" in status and "training accuracy" in status


def test_without_validation_rows_the_switch_shows_training_rows_only(window, qtbot):
    w = window
    w.open_file(SAMPLES / "xor.ann", ask=False)
    train(qtbot, w)
    assert w.plots.confusion().sum() == 4
    assert w.plots.confusion_plot.titleLabel.text.startswith("Training rows: 100.0% correct of 4")
    assert w.plots.results_split() == "training" and not w.plots.split_combo.isEnabled()


# ------------------------------------------------------------------ 4: stale views
def test_predict_answer_is_cleared_by_another_document_training_and_undo(window, qtbot):
    w = window
    panel = w.training_panel
    w.open_file(SAMPLES / "xor.ann", ask=False)
    assert predict(qtbot, panel, "0, 1")
    w.open_file(SAMPLES / "perceptron.ann", ask=False)
    assert panel.predict_output.text() == ""  # xor's answer is not this network's
    w.open_file(SAMPLES / "xor.ann", ask=False)
    before = predict(qtbot, panel, "0, 1")
    assert before
    train(qtbot, w)
    assert panel.predict_output.text() == ""  # the weights it was computed with are gone
    trained = predict(qtbot, panel, "0, 1")
    assert trained.startswith("→") and trained != before
    w.act_undo.trigger()
    assert w.document.undo_stack.index() == 0
    assert panel.predict_output.text() == ""
    assert predict(qtbot, panel, "0, 1") == before  # asked again: the untrained answer


def test_results_are_not_kept_for_other_data(window, qtbot):
    w = window
    w.open_file(SAMPLES / "xor.ann", ask=False)
    train(qtbot, w)
    assert w.plots.confusion().sum() == 4
    w.document.push(C.SetDataSourceCommand(w.document, {"kind": "builtin", "name": "xor",
                                                        "params": {"n_samples": 40, "noise": 0.1, "seed": 1}}))
    cm = w.plots.confusion()
    assert cm is None or cm.sum() == 40  # cleared, or the current weights on the current data
    w.act_undo.trigger()
    cm = w.plots.confusion()
    assert cm is None or cm.sum() == 4


def test_status_line_follows_the_history_and_the_data(window, qtbot):
    w = window
    panel = w.training_panel
    w.open_file(SAMPLES / "xor.ann", ask=False)
    assert panel.status.text() == "Ready"
    train(qtbot, w)
    assert "Epoch 300/300" in panel.status.text()
    w.act_undo.trigger()  # the run is undone: nothing about it may stay
    assert panel.status.text() == "Ready" and panel.progress.value() == 0
    w.act_redo.trigger()
    assert panel.status.text() == "Trained 300 epochs so far"
    # a refused start is cleared once its reason is gone
    w.document.push(C.SetDataSourceCommand(w.document, None))
    click(qtbot, panel.train_button)
    assert "choose a data set first" in panel.status.text()
    w.act_undo.trigger()  # the data set is back
    assert "choose a data set" not in panel.status.text()
    assert panel.status.text() == "Trained 300 epochs so far"


def test_paused_run_shows_one_epoch_everywhere_and_no_eta(window, qtbot):
    w = window
    panel = w.training_panel
    w.open_file(SAMPLES / "xor.ann", ask=False)
    set_training(w, epochs=10**6)
    click(qtbot, panel.train_button)
    qtbot.waitUntil(lambda: w.training.run is not None and w.training.run.epochs_done > 200, timeout=20000)
    click(qtbot, panel.train_button)  # Pause
    assert w.training.state == "paused"
    qtbot.wait(400)  # snapshots already on their way arrive
    shown = int(re.search(r"Epoch (\d+)/", panel.status.text()).group(1))  # the epoch under way
    # the plot stands where the progress line stands: every epoch before the one under way
    assert len(w.plots.curve_data("loss")[1]) == shown - 1
    assert "paused" in panel.status.text() and "ETA" not in panel.status.text()
    snap = w.training.last_snapshot
    assert snap.epochs_done == shown - 1 and len(snap.history["loss"]) == shown - 1
    click(qtbot, panel.stop_button)
    wait_idle(qtbot, w)


# ------------------------------------------------------------------ 5: buttons in sight
def test_train_step_stop_are_in_sight_without_horizontal_scrolling(window, qtbot, tmp_path):
    w = window
    w.open_file(SAMPLES / "xor.ann", ask=False)  # Adam: its three fields show
    qtbot.wait(50)
    w._default_layout()
    qtbot.wait(50)
    dock = w.training_dock
    panel = w.training_panel
    assert panel.optimizer.currentData() == "adam" and "beta_1" in panel._hyper_widgets
    for b in (panel.train_button, panel.step_button, panel.stop_button):
        top_left = b.mapTo(dock, QPoint(0, 0))
        assert dock.rect().contains(top_left) and dock.rect().contains(top_left + QPoint(b.width() - 1,
                                                                                          b.height() - 1)), b.text()
        assert b.visibleRegion().boundingRect().size() == b.size(), b.text()  # not cut, not scrolled away
    for area in dock.findChildren(QScrollArea):
        assert not area.horizontalScrollBar().isVisible(), area.objectName()
    dock.grab().save(str(tmp_path / "training_dock.png"))


# ------------------------------------------------------------------ 6: Step says what it did
def test_step_shows_the_batch_and_its_loss(window, qtbot):
    w = window
    panel = w.training_panel
    w.open_file(SAMPLES / "xor.ann", ask=False)
    set_training(w, batch_size=1)  # 4 batches per epoch
    assert "Step:" not in panel_text(panel)
    losses = []  # the loss of every batch, as the run reports it
    w.training.snapshotReady.connect(lambda s: losses.append(s.batch_losses[-1, 1]) if len(s.batch_losses) else None)
    click(qtbot, panel.step_button)
    qtbot.waitUntil(lambda: w.training.run is not None and w.training.run.batches == 1 and bool(losses), timeout=20000)
    qtbot.wait(100)
    assert f"Last batch: 1 of 4 in epoch 1: loss {losses[-1]:.4g}" in panel_text(panel)
    first = losses[-1]
    click(qtbot, panel.step_button)
    qtbot.waitUntil(lambda: w.training.run.batches == 2 and losses[-1] != first, timeout=20000)
    qtbot.wait(100)
    assert f"Last batch: 2 of 4 in epoch 1: loss {losses[-1]:.4g} (was {first:.4g})" in panel_text(panel)
    click(qtbot, panel.train_button)  # Resume: the step line goes
    assert "Step:" not in panel_text(panel)
    click(qtbot, panel.stop_button)
    wait_idle(qtbot, w)


# ------------------------------------------------------------------ diverging training
def test_a_diverged_run_says_so_in_the_panel_and_offers_fixes(window, qtbot):
    w = window
    panel = w.training_panel
    w.open_file(SAMPLES / "xor.ann", ask=False)
    initial = w.document.network.get_weights()
    set_training(w, learning_rate=1e300, optimizer="sgd", optimizer_params={})
    n = w.document.undo_stack.count()
    train(qtbot, w)
    text = panel_text(panel)
    assert "Training diverged at epoch 1, batch 1: the weight 'dense_1/kernel' of Dense layer 'dense_1'" in text
    assert "learning rate of 1e+300" in text and "back to where they were before that batch" in text
    assert text.count("NaN or infinite") == 1  # said once, not once by the engine and once by the panel
    lower = panel_button(panel, "Lower learning rate to 1e+299")
    for v in w.document.network.get_weights().values():
        assert np.isfinite(v).all()
    click(qtbot, lower)
    assert w.document.network.training.learning_rate == pytest.approx(1e299)
    assert w.document.undo_stack.count() == n + 1  # one undoable edit
    assert w.document.undo_stack.undoText() == "Lower learning rate to 1e+299"
    assert "diverged" not in panel_text(panel)
    w.act_undo.trigger()
    assert w.document.network.training.learning_rate == 1e300
    train(qtbot, w)  # diverges again; this time: Reset weights
    click(qtbot, panel_button(panel, "Reset weights"))
    assert "diverged" not in panel_text(panel) and w.document.undo_stack.undoText() == "Reset weights"
    for k, v in initial.items():
        np.testing.assert_array_equal(w.document.network.get_weights()[k], v)


# ------------------------------------------------------------------ 8: expand/collapse, plots
def test_collapse_after_expand_keeps_the_layers_id_and_label(window):
    w = window
    w.open_file(SAMPLES / "xor.ann", ask=False)
    g = w.document.graph
    assert g.nodes["dense_1"].label == "hidden"
    w.scene.select_ids(["dense_1"])
    w.act_expand.trigger()
    neurons = [n for n, v in g.nodes.items() if v.type_id == "Neuron"]
    w.scene.select_ids(neurons)
    w.act_collapse.trigger()
    dense = [n for n, v in g.nodes.items() if v.type_id == "Dense"]
    assert dense == ["dense_1"] and g.nodes["dense_1"].label == "hidden"
    assert w.scene.node_item("dense_1") is not None


def test_a_new_document_starts_the_epoch_axis_afresh_and_shows_no_empty_legend(window, qtbot):
    w = window
    assert not w.plots.loss_legend.isVisible()  # nothing to list before training
    w.open_file(SAMPLES / "xor.ann", ask=False)
    train(qtbot, w)
    qtbot.wait(50)
    assert w.plots.loss_legend.isVisible()
    assert w.plots.loss_plot.viewRange()[0][1] > 250
    w.new_document()
    qtbot.wait(50)
    assert w.plots.loss_plot.viewRange()[0] == pytest.approx([0.0, 1.0])
    assert not w.plots.loss_legend.isVisible()
