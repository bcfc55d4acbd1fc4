"""Help: Getting Started, a short page for a first session (the text ships in this
module), and the Keyboard Shortcuts table read from the window's menus."""

from __future__ import annotations

from typing import Mapping

from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QMenuBar,
    QTableWidget,
    QTableWidgetItem,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

GETTING_STARTED_HTML = """
<h2>Getting started</h2>
<p>ANN Designer lets you build a neural network by drawing it, train it on data, and watch
what every part of it does while it learns.</p>

<h3>1. Put nodes on the canvas</h3>
<p>The <b>Palette</b> on the left lists the building blocks, grouped: <i>Input</i> (where a
sample's values enter), single <i>Neurons</i> and <i>Dense layers</i>, activations,
convolution, sequence and attention layers, and the <i>Output</i> with its loss. Drag one onto
the canvas, or double-click it. Type in the search box to find one by name; Enter adds the
only match.</p>

<h3>2. Wire them</h3>
<p>Every node has an input port on its left and an output port on its right. Press on an
output port and drag to another node's input port: the wire shows the shape of the values it
carries. Nodes that would not accept the wire are greyed out while you drag. Select a node
to change its parameters in the <b>Inspector</b>; errors (a shape that does not fit, a
missing Output) are marked on the node and counted in the status bar.</p>

<h3>3. Choose data</h3>
<p>The <b>Data</b> tab beside the palette picks a built-in data set (XOR, circles, spirals,
digits, sine waves…) or a CSV file of your own. It says when the data does not fit the
network (say, 3 classes but 1 output unit) and offers a fix.</p>

<h3>4. Train</h3>
<p>In the <b>Training</b> panel choose the optimizer, the learning rate, the batch size and
the number of epochs, then press <b>Train</b> (F5). <b>Step</b> (F6) runs one batch and shows
what changed; <b>Stop</b> (Shift+F5) ends the run and keeps its weights. While it trains, the
wires show the weights (colour for the sign, width for the size), the plots follow the loss
and the metric, and for two inputs the decision surface shows what the network answers over
the whole plane. Undo takes a whole training run back.</p>

<h3>5. Learn from the examples</h3>
<p>The <b>Examples</b> menu opens ready-made networks, from the 1943 threshold neuron and
XOR to convolution on digits, an LSTM on a sine wave and self-attention. Each opens as an
untitled copy with its data chosen: press Train and watch. Saving never changes the example
itself.</p>

<p>Your unsaved work is copied every 30 seconds; if the app ever stops without saving, the
next start offers it back. All keys are listed under Help ▸ Keyboard Shortcuts.</p>
"""


class GettingStartedDialog(QDialog):
    """A non-modal page of rich text."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("gettingStarted")
        self.setWindowTitle("Getting Started")
        lay = QVBoxLayout(self)
        self.browser = QTextBrowser()
        self.browser.setObjectName("gettingStartedText")
        self.browser.setOpenExternalLinks(True)
        self.browser.setHtml(GETTING_STARTED_HTML)
        lay.addWidget(self.browser)
        bb = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        bb.rejected.connect(self.close)
        lay.addWidget(bb)
        self.resize(620, 640)


#: the mouse gestures, after the menus' keys
GESTURE_ROWS = [
    ("Connect", "Drag from an output port (right) to an input port (left)"),
    ("Pan", "Middle button drag, or Space + drag"),
    ("Zoom", "Mouse wheel"),
    ("Move selection", "Arrow keys (Shift: faster)"),
    ("Add a node", "Drag from the palette, or double-click it"),
]


def shortcut_rows(menubar: QMenuBar, names: Mapping[int, str] | None = None) -> list[tuple[str, str]]:
    """(action, main key) for every menu action with a key, once each, in menu order; then
    the mouse gestures. ``names``: ``{id(action): name}`` for actions whose text changes."""
    names = names or {}
    rows: list[tuple[str, str]] = []
    seen: set[int] = set()

    def walk(menu) -> None:
        for a in menu.actions():
            if a.menu() is not None:
                walk(a.menu())
                continue
            if a.isSeparator() or id(a) in seen:
                continue
            seen.add(id(a))
            key = a.shortcut()
            if key.isEmpty():
                continue
            name = names.get(id(a)) or a.text().replace("&", "").rstrip("…").strip()
            rows.append((name, key.toString(QKeySequence.SequenceFormat.NativeText)))

    for m in menubar.actions():
        if m.menu() is not None:
            walk(m.menu())
    return rows + list(GESTURE_ROWS)


class ShortcutsDialog(QDialog):
    """Help ▸ Keyboard Shortcuts: a two-column table of (action, shortcut) rows."""

    def __init__(self, rows: list[tuple[str, str]], parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Keyboard Shortcuts")
        lay = QVBoxLayout(self)
        self.table = table = QTableWidget(len(rows), 2)
        table.setHorizontalHeaderLabels(["Action", "Shortcut"])
        for i, (a, k) in enumerate(rows):
            table.setItem(i, 0, QTableWidgetItem(a))
            table.setItem(i, 1, QTableWidgetItem(k))
        table.resizeColumnsToContents()
        table.verticalHeader().hide()
        lay.addWidget(table)
        bb = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        bb.rejected.connect(self.reject)
        lay.addWidget(bb)
        self.resize(520, 480)
