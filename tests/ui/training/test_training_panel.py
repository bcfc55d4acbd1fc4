"""Training from the panel: settings, Train/Pause/Step/Stop, the result as one
undo step, NaN, closing during a run."""

import multiprocessing
import threading
import time

import numpy as np
import pytest

pytest.importorskip("PySide6")

import anndesigner as ad  # noqa: E402
from anndesigner.io import load_network  # noqa: E402
from anndesigner.ui.document import Document  # noqa: E402
from anndesigner.ui.training.controller import TrainingController  # noqa: E402
from anndesigner.ui.training.panel import TrainingPanel  # noqa: E402
from helpers import XOR_X  # noqa: E402

from pathlib import Path  # noqa: E402

SAMPLES = Path(__file__).resolve().parents[3] / "samples"


@pytest.fixture
def setup(qtbot):
    doc = Document(load_network(SAMPLES / "xor.ann"), SAMPLES / "xor.ann")
    ctl = TrainingController(doc)
    panel = TrainingPanel(doc, ctl)
    qtbot.addWidget(panel)
    yield doc, ctl, panel
    ctl.stop_and_wait()


def wait_idle(qtbot, ctl, timeout=20000):
    qtbot.waitUntil(lambda: ctl.state == "idle", timeout=timeout)


def test_panel_shows_and_edits_settings(setup):
    doc, ctl, panel = setup
    assert panel.learning_rate.value() == pytest.approx(0.05)
    assert panel.epochs.value() == 300 and panel.optimizer.currentData() == "adam"
    panel.epochs.setValue(120)
    assert doc.network.training.epochs == 120 and doc.undo_stack.count() == 1
    panel.optimizer.setCurrentIndex(panel.optimizer.findData("sgd"))
    assert doc.network.training.optimizer == "sgd"
    panel.findChild(__import__("PySide6.QtWidgets", fromlist=["x"]).QDoubleSpinBox, "hyper_momentum").setValue(0.9)
    assert doc.network.training.optimizer_params == {"momentum": 0.9}
    doc.undo_stack.undo()
    doc.undo_stack.undo()
    assert doc.network.training.optimizer == "adam" and panel.optimizer.currentData() == "adam"
    doc.undo_stack.undo()
    assert panel.epochs.value() == 300


def test_train_xor_to_full_accuracy_as_one_undo_step(setup, qtbot):
    doc, ctl, panel = setup
    before = doc.network.get_weights()
    snaps = []
    ctl.snapshotReady.connect(snaps.append)
    panel.train_button.click()
    assert ctl.state == "running" and doc.locked
    wait_idle(qtbot, ctl)
    assert not doc.locked
    h = doc.network.history
    assert len(h) == 300 and h["accuracy"][-1] == 1.0
    assert doc.undo_stack.count() == 1 and doc.undo_stack.undoText() == "Train 300 epochs"
    p = doc.network.predict(XOR_X)
    np.testing.assert_array_equal((p > 0.5).ravel(), [False, True, True, False])
    assert snaps and list(snaps[-1].history["loss"]) == h["loss"]
    # the optimizer's state comes back with the weights (Adam: its step count and moments)
    state = doc.network.optimizer_state
    assert state and any(np.asarray(v).size > 1 and np.any(np.asarray(v) != 0) for v in state.values())
    doc.undo_stack.undo()
    assert len(doc.network.history) == 0
    assert doc.network.optimizer_state is None
    for k, v in before.items():
        np.testing.assert_array_equal(doc.network.get_weights()[k], v)


def test_stop_save_reopen_keeps_weights_and_history(setup, qtbot, tmp_path):
    doc, ctl, panel = setup
    panel.epochs.setValue(100000)
    panel.train_button.click()
    qtbot.waitUntil(lambda: ctl.run is not None and ctl.run.epochs_done >= 5, timeout=20000)
    panel.stop_button.click()
    wait_idle(qtbot, ctl)
    trained = doc.network.get_weights()
    n = len(doc.network.history)
    assert n >= 5 and doc.undo_stack.undoText() == f"Train {n} epochs"
    doc.save(tmp_path / "t.ann")
    net2 = ad.load(tmp_path / "t.ann")
    assert len(net2.history) == n and net2.history.data == doc.network.history.data
    for k, v in trained.items():
        np.testing.assert_array_equal(net2.get_weights()[k], v)


def test_pause_then_step_runs_exactly_one_batch(setup, qtbot):
    doc, ctl, panel = setup
    panel.batch_size.setValue(1)  # 4 batches per epoch
    ctl.start(paused=True)
    qtbot.wait(600)  # the child process has started and waits
    assert ctl.run.batches == 0
    panel.step_button.click()
    qtbot.waitUntil(lambda: ctl.run.batches == 1, timeout=5000)
    time.sleep(0.3)
    assert ctl.run.batches == 1  # and no more
    panel.step_button.click()
    qtbot.waitUntil(lambda: ctl.run.batches == 2, timeout=5000)
    time.sleep(0.2)
    assert ctl.run.batches == 2
    panel.stop_button.click()
    wait_idle(qtbot, ctl)
    assert doc.undo_stack.undoText() == "Train 2 batches"


def test_nan_stops_with_message_and_document_intact(setup, qtbot):
    doc, ctl, panel = setup
    doc.graph.set_params("output_1", activation="linear", loss="mse")
    panel.optimizer.setCurrentIndex(panel.optimizer.findData("sgd"))
    panel.learning_rate.setValue(100.0)
    doc.push(__import__("anndesigner.ui.commands", fromlist=["x"]).SetTrainingCommand(doc, learning_rate=1e6))
    results = []
    ctl.finished.connect(results.append)
    panel.train_button.click()
    wait_idle(qtbot, ctl)
    assert results[0].reason == "nan"
    assert "NaN" in panel.status.text() and results[0].node_id in doc.graph.nodes
    for w in doc.network.get_weights().values():
        assert np.isfinite(w).all()
    assert not doc.locked and doc.graph.validate()


def test_closing_during_training_leaves_no_thread(qtbot, tmp_path):
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QMessageBox

    from anndesigner.ui.mainwindow import MainWindow

    w = MainWindow(QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(w)
    w.ask_save_changes = lambda: QMessageBox.StandardButton.Discard
    w.open_file(SAMPLES / "xor.ann", ask=False)
    w.document.push(__import__("anndesigner.ui.commands", fromlist=["x"]).SetTrainingCommand(w.document, epochs=10**6))
    w.training.start()
    qtbot.waitUntil(lambda: w.training.run is not None and w.training.run.batches > 10, timeout=10000)
    proc = w.training.run._proc
    w.close()
    assert not proc.is_alive() and not multiprocessing.active_children()
    assert not any(t.name.startswith("anndesigner") for t in threading.enumerate())
    assert len(w.document.network.history) >= 1  # what it trained was kept (then discarded on close)


def test_predict_box_after_training(setup, qtbot):
    doc, ctl, panel = setup
    panel.train_button.click()
    wait_idle(qtbot, ctl)
    for text, want in (("0, 1", "1"), ("1 1", "0"), ("0;0", "0")):
        panel.predict_input.setText(text)
        answer = panel.predict()
        assert answer.startswith(want + " "), (text, answer)  # the class label, then its probability
    panel.predict_input.setText("0.5")
    assert "takes 2 input values" in panel.predict()
    panel.predict_input.setText("a, b")
    assert "not a list of numbers" in panel.predict()


def test_window_loss_plot_equals_history_and_reopen_shows_it(qtbot, tmp_path):
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QMessageBox

    from anndesigner.ui.mainwindow import MainWindow

    settings = QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat)
    w = MainWindow(settings)
    qtbot.addWidget(w)
    w.ask_save_changes = lambda: QMessageBox.StandardButton.Discard
    w.open_file(SAMPLES / "xor.ann", ask=False)
    w.training.start()
    qtbot.waitUntil(lambda: w.training.state == "idle", timeout=20000)
    h = w.document.network.history
    x, y = w.plots.curve_data("loss")
    np.testing.assert_allclose(y, h["loss"])
    np.testing.assert_allclose(x, np.arange(1, len(h) + 1))
    assert w.plots.confusion() is not None and w.plots.confusion().trace() == 4  # all four XOR rows right
    w._save_to(tmp_path / "trained.ann")
    w2 = MainWindow(settings)
    qtbot.addWidget(w2)
    w2.open_file(tmp_path / "trained.ann", ask=False)
    np.testing.assert_allclose(w2.plots.curve_data("loss")[1], h["loss"])


def test_reset_weights_reinitializes_from_the_seed_as_one_undo_step(setup, qtbot):
    doc, ctl, panel = setup
    initial = doc.network.get_weights()
    panel.train_button.click()
    wait_idle(qtbot, ctl)
    trained = doc.network.get_weights()
    assert not np.array_equal(trained["dense_1/kernel"], initial["dense_1/kernel"])
    panel.reset_button.click()
    for k, v in initial.items():  # the seed gives the same starting weights again
        np.testing.assert_array_equal(doc.network.get_weights()[k], v)
    assert len(doc.network.history) == 0 and doc.undo_stack.undoText() == "Reset weights"
    doc.undo_stack.undo()
    for k, v in trained.items():
        np.testing.assert_array_equal(doc.network.get_weights()[k], v)
    assert len(doc.network.history) == 300


def test_decision_surface_follows_structural_edits(qtbot, tmp_path):
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QMessageBox

    from anndesigner.ui.mainwindow import MainWindow

    w = MainWindow(QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(w)
    w.ask_save_changes = lambda: QMessageBox.StandardButton.Discard
    w.open_file(SAMPLES / "xor.ann", ask=False)
    w.scene.select_ids(["dense_1"])
    w.act_expand.trigger()  # the surface must now evaluate the neuron-drawn graph
    w.training.start()
    qtbot.waitUntil(lambda: w.training.state == "idle", timeout=20000)
    qtbot.wait(200)  # the surface re-evaluates at most every 0.15 s
    img = w.surface.surface_image()
    n = img.shape[0]
    (x0, x1, y0, y1) = w.surface.bounds()

    def at(x, y):  # image rows follow x2, columns x1 (see surface.grid)
        i = int(round((y - y0) / (y1 - y0) * (n - 1)))
        j = int(round((x - x0) / (x1 - x0) * (n - 1)))
        return img[i, j] if img.ndim == 2 else img[i, j, 0]

    corners = [at(0, 0), at(0, 1), at(1, 0), at(1, 1)]
    assert [c > 0.5 for c in corners] == [False, True, True, False], corners


def test_optimizer_fields_are_rows_of_the_one_form(setup):
    """Adam's fields sit in the panel's form (one column of labels, no nested form
    wider than the dock); switching optimizers replaces exactly those rows."""
    from PySide6.QtWidgets import QFormLayout

    from anndesigner.engine.optimizers import OPTIMIZERS

    doc, ctl, panel = setup
    form = panel.form

    def labels():
        out = []
        for r in range(form.rowCount()):
            item = form.itemAt(r, QFormLayout.ItemRole.LabelRole)
            out.append(item.widget().text() if item is not None and item.widget() is not None else None)
        return out

    base = form.rowCount() - len(panel._hyper_widgets)
    for name in ("sgd", "adam", "rmsprop", "adam"):
        panel.optimizer.setCurrentIndex(panel.optimizer.findData(name))
        keys = [p.name for p in OPTIMIZERS[name].PARAMS if p.name not in ("learning_rate", "clipnorm")]
        assert list(panel._hyper_widgets) == keys
        assert form.rowCount() == base + len(keys)
        assert labels()[:2 + len(keys)] == ["Learning rule", "Optimizer"] + [
            k.replace("_", " ").capitalize() for k in keys]
        assert labels()[2 + len(keys)] == "Learning rate"
    panel._hyper_widgets["beta_1"].setValue(0.8)
    assert doc.network.training.optimizer_params["beta_1"] == pytest.approx(0.8)
    widget = panel._hyper_widgets["beta_1"]
    doc.undo_stack.undo()  # same optimizer: the field is kept and shows the old value
    assert panel._hyper_widgets["beta_1"] is widget and widget.value() == pytest.approx(0.9)


def test_learning_rate_field_shows_every_magnitude_as_it_is(setup, qtbot):
    from PySide6.QtCore import Qt

    doc, ctl, panel = setup
    for lr, text in ((1e300, "1e+300"), (1e-7, "1e-07"), (0.05, "0.05")):
        doc.push(__import__("anndesigner.ui.commands", fromlist=["x"]).SetTrainingCommand(doc, learning_rate=lr))
        assert panel.learning_rate.value() == lr and panel.learning_rate.text() == text
    panel.show()
    qtbot.waitExposed(panel)
    panel.learning_rate.setFocus()
    panel.learning_rate.selectAll()
    qtbot.keyClicks(panel.learning_rate, "2e-4")
    qtbot.keyClick(panel.learning_rate, Qt.Key.Key_Return)
    assert doc.network.training.learning_rate == 2e-4 and doc.undo_stack.undoText() == "Set learning rate"
    qtbot.keyClicks(panel.learning_rate, "x")  # refused as typed
    assert "x" not in panel.learning_rate.text()


def test_return_in_an_untouched_learning_rate_field_keeps_the_files_value(setup, qtbot):
    """The field shows a value of many digits in full: Return (or leaving it) does not round the
    document's learning rate to what a shorter text said, nor push an edit."""
    from PySide6.QtCore import Qt

    from anndesigner.ui import commands as C

    doc, ctl, panel = setup
    lr = 0.0012345678
    doc.push(C.SetTrainingCommand(doc, learning_rate=lr))
    assert panel.learning_rate.text() == "0.0012345678"
    panel.show()
    qtbot.waitExposed(panel)
    panel.learning_rate.setFocus()
    count = doc.undo_stack.count()
    qtbot.keyClick(panel.learning_rate, Qt.Key.Key_Return)
    assert doc.network.training.learning_rate == lr and doc.undo_stack.count() == count
    qtbot.keyClick(panel.learning_rate, Qt.Key.Key_Up)  # a step of a tenth of the magnitude, shown clean
    assert panel.learning_rate.text() == "0.0013345678"


def _wheel(widget, steps=1):
    """A wheel turn over the middle of ``widget``, posted to it and delivered by the event loop."""
    from PySide6.QtCore import QPoint, QPointF, Qt
    from PySide6.QtGui import QWheelEvent
    from PySide6.QtWidgets import QApplication

    centre = widget.rect().center()
    ev = QWheelEvent(QPointF(centre), QPointF(widget.mapToGlobal(centre)), QPoint(), QPoint(0, 120 * steps),
                     Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier, Qt.ScrollPhase.NoScrollPhase, False)
    QApplication.postEvent(widget, ev)
    QApplication.processEvents()


def test_the_wheel_over_an_unfocused_setting_changes_nothing(setup, qtbot):
    """Scrolling the panel with the wheel passes over its fields: a field that does not have
    the focus keeps its value and nothing is pushed (the optimizer's own fields used to step)."""
    from PySide6.QtCore import Qt

    doc, ctl, panel = setup
    panel.resize(360, 900)
    panel.show()
    qtbot.waitExposed(panel)
    panel.predict_input.setFocus()
    qtbot.waitUntil(panel.predict_input.hasFocus)
    hyper = panel.findChild(__import__("PySide6.QtWidgets", fromlist=["x"]).QDoubleSpinBox, "hyper_beta_1")
    assert hyper is panel._hyper_widgets["beta_1"]
    fields = [*panel._hyper_widgets.values(), panel.learning_rate, panel.batch_size, panel.epochs, panel.l1,
              panel.l2, panel.clipnorm, panel.patience, panel.rule, panel.optimizer, panel.schedule]
    before = doc.network.training.to_dict()
    for w in fields:  # a real wheel turn would give a WheelFocus field the focus first
        assert w.focusPolicy() == Qt.FocusPolicy.StrongFocus, w.objectName()
        shown = w.text() if hasattr(w, "text") else w.currentText()
        _wheel(w, -1)
        assert (w.text() if hasattr(w, "text") else w.currentText()) == shown, w.objectName()
    assert doc.undo_stack.count() == 0 and doc.network.training.to_dict() == before
    hyper.setFocus()  # with the focus, the wheel is the user's edit
    qtbot.waitUntil(hyper.hasFocus)
    _wheel(hyper, -1)
    assert doc.undo_stack.count() == 1 and doc.network.training.optimizer_params["beta_1"] < 0.9


def test_toggle_training_is_the_train_button(setup, qtbot):
    doc, ctl, panel = setup
    from anndesigner.ui import commands as C

    doc.push(C.SetTrainingCommand(doc, epochs=10**6))
    panel.toggle_training()
    qtbot.waitUntil(lambda: ctl.state == "running", timeout=10000)
    assert panel.train_button.text() == "Pause"
    panel.toggle_training()
    qtbot.waitUntil(lambda: ctl.state == "paused", timeout=10000)
    assert panel.train_button.text() == "Resume"
    panel.train_button.click()
    qtbot.waitUntil(lambda: ctl.state == "running", timeout=10000)
    ctl.stop()
    wait_idle(qtbot, ctl)


def test_a_schedule_shows_its_own_settings_after_its_row(setup):
    """A schedule's parameters are rows right after "Schedule", built from its ParamSpecs;
    an edit is one undo step on the document's schedule."""
    from PySide6.QtWidgets import QFormLayout

    from anndesigner.engine.schedules import SCHEDULES

    doc, ctl, panel = setup
    form = panel.form

    def labels():
        return [form.itemAt(r, QFormLayout.ItemRole.LabelRole).widget().text()
                if form.itemAt(r, QFormLayout.ItemRole.LabelRole) is not None else None
                for r in range(form.rowCount())]

    rows = form.rowCount()
    assert panel._schedule_widgets == {}
    for kind in ("step", "cosine", "exponential"):
        panel.schedule.setCurrentIndex(panel.schedule.findData(kind))
        assert doc.network.training.schedule == {"kind": kind}
        names = [p.name for p in SCHEDULES[kind].PARAMS]
        assert list(panel._schedule_widgets) == names and form.rowCount() == rows + len(names)
        at = labels().index("Schedule")
        assert labels()[at + 1:at + 1 + len(names)] == [p.title for p in SCHEDULES[kind].PARAMS]
        assert labels()[at + 1 + len(names)] == "Batch size"
    panel.schedule.setCurrentIndex(panel.schedule.findData("step"))
    gamma = panel._schedule_widgets["gamma"]
    assert gamma.objectName() == "schedule_gamma" and gamma.value() == pytest.approx(0.1)
    count = doc.undo_stack.count()
    gamma.setValue(0.5)
    assert doc.network.training.schedule == {"kind": "step", "gamma": 0.5}
    assert doc.undo_stack.count() == count + 1 and doc.undo_stack.undoText() == "Set gamma"
    panel._schedule_widgets["step_size"].setValue(4)
    assert doc.network.training.schedule == {"kind": "step", "gamma": 0.5, "step_size": 4}
    doc.undo_stack.undo()
    doc.undo_stack.undo()  # same schedule: the field is kept and shows the old value
    assert panel._schedule_widgets["gamma"] is gamma and gamma.value() == pytest.approx(0.1)
    panel.schedule.setCurrentIndex(panel.schedule.findData("constant"))
    assert doc.network.training.schedule is None
    assert panel._schedule_widgets == {} and form.rowCount() == rows


def test_until_paused_trains_past_the_epoch_count_and_stop_keeps_it(setup, qtbot):
    doc, ctl, panel = setup
    panel.epochs.setValue(5)
    panel.endless_box.click()
    assert ctl.endless
    panel.train_button.click()
    qtbot.waitUntil(lambda: ctl.run is not None and ctl.run.epochs_done > 40, timeout=20000)
    qtbot.waitUntil(lambda: "until paused" in panel.status.text(), timeout=5000)
    assert "ETA" not in panel.status.text()
    panel.stop_button.click()
    wait_idle(qtbot, ctl)
    assert len(doc.network.history) > 40 and doc.network.training.epochs == 5
    assert doc.undo_stack.undoText().startswith("Train")


def test_a_slow_speed_holds_the_run_back(setup, qtbot):
    doc, ctl, panel = setup
    panel.speed_box.setCurrentIndex(panel.speed_box.findData(10.0))
    assert ctl.epochs_per_second == 10.0
    panel.train_button.click()
    qtbot.waitUntil(lambda: ctl.run is not None and ctl.run.epochs_done >= 3, timeout=20000)
    import time
    e0, t0 = ctl.run.epochs_done, time.perf_counter()
    qtbot.wait(1000)
    rate = (ctl.run.epochs_done - e0) / (time.perf_counter() - t0)
    assert rate < 16
    panel.speed_box.setCurrentIndex(panel.speed_box.findData(None))  # flat out, mid-run
    qtbot.waitUntil(lambda: ctl.state == "idle", timeout=20000)  # the 300 epochs finish quickly now
    assert len(doc.network.history) == 300
