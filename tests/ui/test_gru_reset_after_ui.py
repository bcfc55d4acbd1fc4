"""The GRU's Reset after parameter in the window: the inspector's check box edits
the model (one undoable command, the bias becomes Keras's two rows), and the
inside view writes the reset-after candidate with the engine's numbers."""

import numpy as np
import pytest

pytest.importorskip("pytestqt")

from PySide6.QtCore import QPoint, Qt  # noqa: E402
from PySide6.QtWidgets import QCheckBox, QLabel, QWidget  # noqa: E402

import anndesigner as ad  # noqa: E402
from anndesigner.engine import explain  # noqa: E402
from anndesigner.engine.tracing_seq import recurrent_steps  # noqa: E402
from anndesigner.ui.explain.inside.recurrent import RecurrentInside  # noqa: E402
from anndesigner.ui.explain.stages import num  # noqa: E402


def test_the_inspector_shows_and_edits_reset_after(qtbot, main_window):
    window = main_window()
    window.new_document()
    g = window.document.graph
    x = g.add_node("Input", shape=[5, 3])
    r = g.add_node("GRU", units=4)
    y = g.add_node("Output", units=1, activation="linear", loss="mse")
    g.connect(x, r)
    g.connect(r, y)
    window.scene.select_ids([r.id])
    box = window.inspector.findChild(QWidget, "param_reset_after")
    assert isinstance(box, QCheckBox) and box.isVisible() and not box.isChecked()
    # its label and tooltip say what it is
    labels = [lab.text() for lab in window.inspector.findChildren(QLabel) if lab.isVisible()]
    assert "Reset after" in labels
    assert box.toolTip().startswith("Reset after the recurrent product (PyTorch's and Keras's default)")
    label = next(lab for lab in window.inspector.findChildren(QLabel) if lab.buddy() is box)
    assert label.text() == "Reset after" and label.toolTip() == box.toolTip()
    window.grab().save("/tmp/s8/gru_reset_after_window.png")
    net = window.document.network
    assert net.get_weights()[f"{r.id}/bias"].shape == (12,)
    qtbot.mouseClick(box, Qt.MouseButton.LeftButton, pos=QPoint(8, box.height() // 2))
    assert g.nodes[r.id].params["reset_after"] is True
    assert window.document.network.get_weights()[f"{r.id}/bias"].shape == (2, 12)
    window.act_undo.trigger()
    assert g.nodes[r.id].params["reset_after"] is False
    assert not window.inspector.findChild(QWidget, "param_reset_after").isChecked()


def test_the_inside_view_writes_the_reset_after_candidate(qtbot):
    g = ad.Graph()
    x = g.add_node("Input", shape=[5, 3])
    r = g.add_node("GRU", units=2, reset_after=True)
    y = g.add_node("Output", units=1, activation="linear", loss="mse")
    g.connect(x, r)
    g.connect(r, y)
    net = ad.Network(g, seed=1, dtype=np.float64)
    rng = np.random.default_rng(2)
    net.set_weights({k: rng.normal(scale=0.8, size=v.shape) for k, v in net.get_weights().items()})
    s = recurrent_steps(explain(net, rng.normal(size=(5, 3))), net, r.id)
    view = RecurrentInside(s)
    qtbot.addWidget(view)
    view.show()
    title = view.findChildren(QLabel)[0].text()
    assert "rₜ⊙(U_h·hₜ₋₁ + b_hh)" in title and "U_h·(rₜ⊙hₜ₋₁)" not in title
    view.show_step(3)
    lines = view.equations_text().splitlines()
    assert "h̃ₜ = tanh(W_h·xₜ + rₜ⊙(U_h·hₜ₋₁ + b_hh) + b_h)" in lines
    line = next(ln for ln in lines if ln.startswith("h̃ₜ[1] = "))
    # the middle term is rₜ⊙nₜ = rₜ⊙(hₜ₋₁U_h + b_hh), from the engine's arrays
    w = net.get_weights()
    n = s.h_prev[3] @ w[f"{r.id}/recurrent_kernel"][:, 4:] + w[f"{r.id}/bias"][1, 4:]
    middle = s.rows["r"][3, 1] * n[1]
    assert num(middle) in line and num(s.rows["h̃"][3, 1]) in line
    view.grab().save("/tmp/s8/gru_reset_after_inside.png")
