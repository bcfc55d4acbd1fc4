"""File ▸ Compare With…: what differs between the open network and a network file.

The work is :func:`anndesigner.io.diff.diff_networks`' (headless); this module
asks for the file, opens it (the document is untouched) and shows the report of
``anndesigner diff`` in a window, or why the file cannot be read in an error box.
The open network is A, the file B: "added" means only in the file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from PySide6.QtCore import QObject
from PySide6.QtGui import QAction, QFontDatabase
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QFileDialog, QLabel, QPlainTextEdit, QVBoxLayout, QWidget

from ..errors import AnnError
from ..io import load_network
from ..io.diff import NetworkDiff, diff_networks


class CompareDialog(QDialog):
    """The text report of a :class:`NetworkDiff`, in a fixed-width font so its columns line up."""

    def __init__(self, diff: NetworkDiff, parent: QWidget | None = None):
        super().__init__(parent)
        self.diff = diff
        self.setObjectName("compareDialog")
        self.setWindowTitle(f"Compare {diff.a_name} with {diff.b_name}")
        lay = QVBoxLayout(self)
        self.summary = QLabel(_summary(diff))
        self.summary.setWordWrap(True)
        lay.addWidget(self.summary)
        self.text = QPlainTextEdit(diff.to_text())
        self.text.setReadOnly(True)
        self.text.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.text.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        lay.addWidget(self.text)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        self.close_button = buttons.button(QDialogButtonBox.StandardButton.Close)
        lay.addWidget(buttons)
        self.resize(760, 520)


def _summary(d: NetworkDiff) -> str:
    if d.same:
        return "The networks are the same."
    parts = []
    for n, what in ((len(d.nodes_added), "node{} added"), (len(d.nodes_removed), "node{} removed"),
                    (len(d.nodes_changed), "node{} changed"), (len(d.edges_added) + len(d.edges_removed),
                                                              "wire{} added or removed"),
                    (len(d.settings_changed), "setting{} changed"),
                    (len(d.weights_changed), "weight tensor{} changed")):
        if n:
            parts.append(f"{n} " + what.format("" if n == 1 else "s"))
    return f"From {d.a_name} (open) to {d.b_name}: " + (", ".join(parts) if parts else "labels, data or document")


class Compare(QObject):
    """File ▸ Compare With… of a window; ``ask_path`` can be replaced (tests)."""

    def __init__(self, window):
        super().__init__(window)
        self.window = window
        self.action = QAction("Co&mpare With…", window)
        self.action.setObjectName("actCompare")
        tip = "What differs between this network and a network file: nodes, wires, settings, weights"
        self.action.setStatusTip(tip)
        self.action.setToolTip(tip)
        self.action.triggered.connect(self.compare_dialog)
        self.ask_path: Callable[[], str | None] = self._ask_path
        #: the last report shown (None: none yet)
        self.dialog: CompareDialog | None = None

    def _ask_path(self) -> str | None:
        doc = self.window.document
        start = str(Path(doc.path).parent) if doc.path is not None else ""
        path, _ = QFileDialog.getOpenFileName(self.window, "Compare with network", start,
                                              "ANN Designer networks (*.ann)")
        return path or None

    def compare_dialog(self) -> bool:
        path = self.ask_path()
        return bool(path) and self.compare(path)

    def compare(self, path: str | Path) -> bool:
        """Show the differences from the open network to the file ``path``; False (and an
        error box) when the file cannot be read."""
        path = Path(path)
        try:
            other = load_network(path)
            diff = diff_networks(self.window.document.network, other,
                                 a_name=self.window.document.display_name(), b_name=path.name)
        except (AnnError, OSError) as e:
            self.window.show_error("Compare", f"Cannot compare with {path.name}: {e}")
            return False
        if self.dialog is not None:
            self.dialog.close()
            self.dialog.deleteLater()
        self.dialog = CompareDialog(diff, self.window)
        self.dialog.show()
        return True
