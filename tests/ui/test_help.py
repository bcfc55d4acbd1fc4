"""Help ▸ Getting Started (issue 10, new-user item 7)."""

import pytest

pytest.importorskip("PySide6")

from PySide6.QtWidgets import QApplication, QTextBrowser  # noqa: E402


@pytest.fixture
def window(main_window):
    return main_window()


@pytest.mark.qt_log_ignore("This plugin does not support raise")  # offscreen: the page is raised on a desktop
def test_getting_started_opens_from_the_help_menu_and_does_not_block(window, qtbot):
    help_menu = next(a.menu() for a in window.menuBar().actions() if a.text().replace("&", "") == "Help")
    titles = [a.text().replace("&", "") for a in help_menu.actions() if not a.isSeparator()]
    assert titles[0] == "Getting Started" and "Keyboard Shortcuts" in titles
    window.act_getting_started.trigger()  # returns at once: the page stays open beside the window
    dlg = window.findChild(object, "gettingStarted")
    assert dlg is not None and dlg.isVisible() and not dlg.isModal()
    text = dlg.findChild(QTextBrowser, "gettingStartedText").toPlainText()
    for words in ("Palette", "output port", "Data", "Train", "Examples"):
        assert words in text, words
    assert len(text.split()) > 250  # a few paragraphs, not a line
    window.act_getting_started.trigger()  # a second time: the same page, raised
    assert [w for w in QApplication.topLevelWidgets() if w.objectName() == "gettingStarted"] == [dlg]
    dlg.close()


def test_the_page_is_rich_text_with_headings():
    from PySide6.QtGui import QTextDocument

    from anndesigner.ui.help import GETTING_STARTED_HTML

    doc = QTextDocument()
    doc.setHtml(GETTING_STARTED_HTML)
    heads = [doc.findBlockByNumber(i) for i in range(doc.blockCount())]
    headings = [b.text() for b in heads if b.blockFormat().headingLevel() in (2, 3)]
    assert headings[0] == "Getting started"
    assert [h.split(". ", 1)[1] for h in headings[1:]] == [
        "Put nodes on the canvas", "Wire them", "Choose data", "Train", "Learn from the examples"]
