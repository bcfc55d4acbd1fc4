"""Start the desktop application.

Until the designer window lands (issue 3), this shows the opened network's
summary in a plain window.
"""

from __future__ import annotations

import sys
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QApplication, QLabel, QMainWindow, QMessageBox, QPlainTextEdit, QVBoxLayout, QWidget

from .. import __version__
from ..errors import AnnError


class PlaceholderWindow(QMainWindow):
    def __init__(self, path: str | None = None):
        super().__init__()
        self.setObjectName("mainWindow")
        self.resize(900, 560)
        central = QWidget()
        lay = QVBoxLayout(central)
        self.heading = QLabel()
        self.heading.setObjectName("heading")
        f = self.heading.font()
        f.setPointSize(f.pointSize() + 4)
        f.setBold(True)
        self.heading.setFont(f)
        self.description = QLabel()
        self.description.setWordWrap(True)
        self.summary = QPlainTextEdit(readOnly=True)
        self.summary.setObjectName("summary")
        mono = QFont("monospace")
        mono.setStyleHint(QFont.StyleHint.Monospace)
        self.summary.setFont(mono)
        lay.addWidget(self.heading)
        lay.addWidget(self.description)
        lay.addWidget(self.summary, 1)
        self.setCentralWidget(central)
        self.network = None
        self.statusBar().showMessage(f"ANN Designer {__version__}: the designer canvas is coming; "
                                     "use the scripting API or 'anndesigner train' meanwhile")
        self.show_network(None)
        if path:
            self.open(path)

    def open(self, path: str) -> bool:
        from ..io import load_network

        try:
            net = load_network(path)
        except AnnError as e:
            QMessageBox.critical(self, "Cannot open network", str(e))
            return False
        self.show_network(net, Path(path).name)
        return True

    def show_network(self, net, name: str = "") -> None:
        self.network = net
        if net is None:
            self.setWindowTitle("ANN Designer")
            self.heading.setText("No network open")
            self.description.setText("Run 'anndesigner FILE.ann' to open a network file.")
            self.summary.setPlainText("")
            return
        self.setWindowTitle(f"{name} — ANN Designer")
        self.heading.setText(net.graph.meta.get("title", name))
        self.description.setText(net.graph.meta.get("description", ""))
        self.summary.setPlainText(net.summary())


def run_gui(path: str | None = None) -> int:
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("ANN Designer")
    app.setOrganizationName("ANN Designer")
    w = PlaceholderWindow(path)
    w.show()
    w.raise_()
    return app.exec()
