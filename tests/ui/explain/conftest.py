"""Shared fixtures of the explain tests: a shown Explain panel on a sample or a
document, and its "Look inside…" window opened by real clicks."""

from pathlib import Path

import pytest
from PySide6.QtCore import Qt

SAMPLES = Path(__file__).resolve().parents[3] / "samples"
LEFT = Qt.MouseButton.LeftButton


@pytest.fixture
def explain_panel(qtbot):
    """``explain_panel(sample name or Document, size=(520, 600))`` -> (document, shown panel);
    the inside windows it opened are closed after the test, failed or not."""
    from anndesigner.ui.document import Document
    from anndesigner.ui.explain.panel import ExplainPanel

    made = []

    def make(source, size=(520, 600)):
        doc = Document.open(SAMPLES / source) if isinstance(source, str) else source
        p = ExplainPanel(doc)
        qtbot.addWidget(p)
        p.resize(*size)
        p.show()
        qtbot.waitExposed(p)
        made.append(p)
        return doc, p

    yield make
    for p in made:
        try:
            if p.inside_window is not None:
                p.inside_window.close()
        except RuntimeError:  # already deleted
            pass


@pytest.fixture
def look_inside(qtbot):
    """``look_inside(panel, node_id)`` -> the inside window: Next clicked until the node's
    frame, then Look inside…"""

    def open_it(p, node_id):
        while p.stepper.frame.node_id != node_id:
            assert p.b_next.isEnabled(), f"no frame of {node_id}"
            qtbot.mouseClick(p.b_next, LEFT)
        assert p.inside.isEnabled()
        qtbot.mouseClick(p.inside, LEFT)
        dlg = p.inside_window
        assert dlg is not None and dlg.isVisible()
        qtbot.waitExposed(dlg)
        return dlg

    return open_it
