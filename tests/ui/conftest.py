"""Fixtures shared by the window and canvas tests."""

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


@pytest.fixture
def main_window(qtbot, tmp_path, monkeypatch):
    """``main_window(size=(1200, 800), settings=None)`` -> a shown MainWindow whose error boxes are
    recorded in ``.errors`` and whose "save changes?" question answers Discard (a modal box would
    block the run); a training run it started is stopped at the end."""
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QMessageBox

    from anndesigner.ui.mainwindow import MainWindow

    made = []

    def make(size=(1200, 800), settings=None):
        if settings is None:
            settings = QSettings(str(tmp_path / f"settings-{len(made)}.ini"), QSettings.Format.IniFormat)
        w = MainWindow(settings)
        w.errors = []
        monkeypatch.setattr(w, "show_error", lambda title, msg, details=None: w.errors.append(msg))
        monkeypatch.setattr(w, "ask_save_changes", lambda: QMessageBox.StandardButton.Discard)
        qtbot.addWidget(w)
        w.resize(*size)
        w.show()
        qtbot.waitExposed(w)
        made.append(w)
        return w

    yield make
    for w in made:
        w.training.stop_and_wait()
