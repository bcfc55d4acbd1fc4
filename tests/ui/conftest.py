"""Fixtures shared by the canvas tests."""

import pytest


@pytest.fixture
def no_qt_warnings(qtlog):
    """Fail the test if Qt printed a warning (use with ``pytest.mark.usefixtures``)."""
    from PySide6.QtCore import QtMsgType

    yield
    bad = [r.message for r in qtlog.records if r.type in (QtMsgType.QtWarningMsg, QtMsgType.QtCriticalMsg,
                                                           QtMsgType.QtFatalMsg)]
    assert not bad, f"Qt printed warnings: {bad}"


@pytest.fixture
def canvas(qtbot):
    """``canvas(graph_or_document, size=(900, 600))`` -> (document, scene, shown view)."""
    import anndesigner as ad
    from anndesigner.ui.canvas import CanvasView, GraphScene
    from anndesigner.ui.document import Document

    scenes = []

    def make(graph_or_doc, size=(900, 600)):
        doc = graph_or_doc if isinstance(graph_or_doc, Document) else Document(ad.Network(graph_or_doc,
                                                                                        strict=False))
        scene = GraphScene(doc)
        view = CanvasView(scene)
        qtbot.addWidget(view)
        view.resize(*size)
        view.show()
        qtbot.waitExposed(view)
        scenes.append(scene)
        return doc, scene, view

    yield make
    for s in scenes:
        s.detach()
