"""The "Look inside…" button: enabled on the frames of a node whose type has an
inside view, it opens that view in a window of its own with the trace's numbers."""


import pytest
from PySide6.QtCore import Qt

pytest.importorskip("pytestqt")

from PySide6.QtWidgets import QLabel  # noqa: E402

from anndesigner.ui.explain import inside  # noqa: E402



@pytest.fixture
def dense_view(monkeypatch):
    """A stand-in view for Dense, removed afterwards (the real views register their own)."""
    seen = []

    def factory(ctx):
        seen.append(ctx)
        n = ctx.trace.node(ctx.node_id)
        label = QLabel(f"{ctx.node_id}: {float(n.output.reshape(-1)[0]):.6f}")
        label.setObjectName("fakeInside")
        return label

    inside.views()
    monkeypatch.setitem(inside.INSIDE_VIEWS, "Dense", factory)
    return seen


def test_look_inside_opens_the_view_of_the_frames_node(qtbot, dense_view, explain_panel):
    doc, p = explain_panel("xor.ann")
    frames = []
    p.frameChanged.connect(frames.append)
    qtbot.mouseClick(p.go, Qt.MouseButton.LeftButton)
    assert frames and frames[-1] is p.stepper.frame
    # step until a frame of a Dense node: the button follows the frame's node type
    types = {n.node_id: n.type_id for n in p.trace.nodes}
    while types.get(p.stepper.frame.node_id) != "Dense":
        assert not p.inside.isEnabled() or inside.view_for(types.get(p.stepper.frame.node_id))
        qtbot.mouseClick(p.b_next, Qt.MouseButton.LeftButton)
    assert p.inside.isEnabled()
    nid = p.stepper.frame.node_id
    qtbot.mouseClick(p.inside, Qt.MouseButton.LeftButton)
    dlg = p.inside_window
    assert dlg is not None and dlg.isVisible()
    assert dense_view[-1].node_id == nid and dense_view[-1].trace is p.trace
    label = dlg.findChild(QLabel, "fakeInside")
    assert label.text() == f"{nid}: {float(p.trace.node(nid).output.reshape(-1)[0]):.6f}"
    # one window at a time; closing it forgets it
    qtbot.mouseClick(p.inside, Qt.MouseButton.LeftButton)
    assert p.inside_window is not dlg
    p.inside_window.close()
    assert p.inside_window is None
    # no trace, no button
    p.clear()
    assert not p.inside.isEnabled()


def test_registry_discovers_the_package_modules():
    found = inside.views()
    assert all(callable(f) for f in found.values())
    assert inside.view_for(None) is None and inside.view_for("NoSuchType") is None
