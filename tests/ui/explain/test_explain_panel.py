"""The Explain panel, driven through its buttons in the app's event loop."""


import numpy as np
import pytest
from PySide6.QtCore import Qt

pytest.importorskip("pytestqt")

from anndesigner.engine import explain  # noqa: E402



@pytest.fixture
def panel(explain_panel):
    return explain_panel("xor.ann")


def click(qtbot, button):
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def test_step_through_xor_row_and_back_shows_the_same_frames(qtbot, panel):
    doc, p = panel
    lit = []
    p.highlightChanged.connect(lit.append)
    p.row.setValue(1)
    click(qtbot, p.go)
    data = doc.dataset()
    trace = explain(doc.network, data.X[1], data.Y[1])
    assert p.trace.loss == pytest.approx(trace.loss)
    assert "x = (" in p.sample_text.text()
    shown = [p.view.toPlainText()]
    while p.b_next.isEnabled():
        click(qtbot, p.b_next)
        shown.append(p.view.toPlainText())
    assert len(shown) == len(p.stepper.frames)
    assert "loss after" in shown[-1]
    assert lit[-1] == [trace.losses[0].output_id]
    # going back shows each earlier frame exactly
    back = [p.view.toPlainText()]
    while p.b_back.isEnabled():
        click(qtbot, p.b_back)
        back.append(p.view.toPlainText())
    assert back == shown[::-1]
    assert not p.b_start.isEnabled()


def test_the_curve_shows_the_point_at_f_of_z(qtbot, panel):
    doc, p = panel
    click(qtbot, p.go)
    while p.stepper.frame.curve is None:
        click(qtbot, p.b_next)
    assert p.curve.isVisible()
    xs, ys = p._curve_points.getData()
    name, z, y = p.stepper.frame.curve
    np.testing.assert_allclose(xs, z[:64])
    np.testing.assert_allclose(ys, y[:64])


def test_node_granularity_and_play_reach_the_end(qtbot, panel):
    doc, p = panel
    click(qtbot, p.go)
    p.granularity.setCurrentIndex(p.granularity.findData("node"))
    titles = []
    while p.b_next.isEnabled():
        click(qtbot, p.b_next)
        titles.append(p.position.text())
    assert len(titles) < len(p.stepper.frames)
    click(qtbot, p.b_start)
    p.speed.setValue(p.speed.maximum())
    click(qtbot, p.b_play)
    qtbot.waitUntil(lambda: p.stepper.at_end() and not p.b_play.isChecked(), timeout=10_000)


def test_keep_the_update_is_one_undo_step(qtbot, panel):
    doc, p = panel
    before = {k: v.copy() for k, v in doc.network.get_weights().items()}
    p.row.setValue(2)
    click(qtbot, p.go)
    after = {w.name: w.after for w in p.trace.weights}
    assert p.keep.isEnabled()
    click(qtbot, p.keep)
    now = doc.network.get_weights()
    for name, v in after.items():
        np.testing.assert_array_equal(now[name], v)
    assert doc.modified
    doc.undo_stack.undo()
    for name, v in before.items():
        np.testing.assert_array_equal(doc.network.get_weights()[name], v)


def test_explaining_changes_nothing_in_the_document(qtbot, panel):
    doc, p = panel
    before = {k: v.copy() for k, v in doc.network.get_weights().items()}
    click(qtbot, p.go)
    click(qtbot, p.b_end)
    for name, v in before.items():
        np.testing.assert_array_equal(doc.network.get_weights()[name], v)
    assert not doc.modified and doc.undo_stack.count() == 0


@pytest.mark.parametrize("text, message", [
    ("1, zero", "input value 2 'zero' is not a number"),
    ("1, 0 ; x", "target value 1 'x' is not a number"),
    ("", None),
    ("1 ; 0 ; 1", "one ';'"),
    ("1, nan", "not finite"),
    ("1, 2, 3", "2"),  # three values into a network of two inputs: the engine's message
])
def test_typed_values(qtbot, panel, text, message):
    doc, p = panel
    p.typed.setText(text)
    ok = p.explain_current()
    if message is None:
        assert ok and p.message.text() == ""
    else:
        assert not ok and message in p.message.text()
        assert p.trace is None


def test_typed_values_give_the_engines_trace(qtbot, panel):
    doc, p = panel
    p.typed.setText("0.5, -1 ; 1")
    qtbot.keyClick(p.typed, Qt.Key.Key_Return)
    ref = explain(doc.network, np.array([0.5, -1.0]), np.array([1.0]))
    assert p.trace.loss == pytest.approx(ref.loss)


def test_fuzzed_typed_values_never_raise(qtbot, panel):
    doc, p = panel
    rng = np.random.default_rng(7)
    alphabet = list("0123456789.,;- e+naif") + ["  ", "1e400", "inf"]
    for _ in range(150):
        text = "".join(rng.choice(alphabet) for _ in range(rng.integers(0, 14)))
        p.typed.setText(text)
        p.explain_current()  # True or a message; never an exception
        assert p.trace is not None or p.message.text() or not text.strip()


def test_keeping_the_update_moves_the_optimizer_on_as_training_would(qtbot, panel):
    doc, p = panel
    p.row.setValue(1)
    click(qtbot, p.go)
    click(qtbot, p.keep)
    state = doc.network.optimizer_state
    assert state is not None and state["iterations"] == 1
    # explaining again continues from that state: the trace says step 2
    click(qtbot, p.go)
    assert p.trace.iterations_before == 1
    doc.undo_stack.undo()
    assert doc.network.optimizer_state is None
