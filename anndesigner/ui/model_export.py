"""File ▸ Export Model: the design as PyTorch code, an ONNX model or NumPy code.

The work is :func:`anndesigner.interop.export`'s (headless); this module only
asks where, runs it with a busy cursor and says what was written, or why not
(a missing optional library, a layer a format cannot hold) in an error box,
the document untouched either way.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Callable

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QAction, QGuiApplication
from PySide6.QtWidgets import QFileDialog, QMenu

from ..errors import AnnError

#: format -> (menu text, file-dialog title, filter, suffix, tip)
FORMATS = {
    "pytorch": ("&PyTorch Code…", "Export as PyTorch code", "Python script (*.py)", ".py",
                "A PyTorch module with its weights and a training script (torchrun for several processes)"),
    "onnx": ("&ONNX Model…", "Export as ONNX", "ONNX model (*.onnx)", ".onnx",
             "An ONNX model (opset 17) that onnxruntime and other frameworks run"),
    "numpy": ("&NumPy Code…", "Export as NumPy code", "Python script (*.py)", ".py",
              "The forward pass in plain NumPy, with its weights beside it"),
}


def default_name(title: str | None, path: Path | None, suffix: str) -> str:
    """A file name for the export: the document's file name, else its title, else 'model'."""
    stem = path.stem if path is not None else (title or "model")
    stem = re.sub(r"[^\w\-]+", "_", stem).strip("_") or "model"
    if suffix == ".py" and not stem[0].isalpha():
        stem = "model_" + stem  # an importable module name
    return stem + suffix


class ModelExport(QObject):
    """The Export Model submenu of a window; ``ask_path`` can be replaced (tests)."""

    def __init__(self, window):
        super().__init__(window)
        self.window = window
        self.menu = QMenu("Export &Model", window)
        self.menu.setObjectName("exportModelMenu")
        self.actions: dict[str, QAction] = {}
        for fmt, (text, _title, _filt, _suffix, tip) in FORMATS.items():
            a = QAction(text, window)
            a.setObjectName(f"actExport_{fmt}")
            a.setStatusTip(tip)
            a.setToolTip(tip)
            a.triggered.connect(lambda _=False, f=fmt: self.export_dialog(f))
            self.menu.addAction(a)
            self.actions[fmt] = a
        self.ask_path: Callable[[str], str | None] = self._ask_path
        self.last_written: list[Path] = []

    def _ask_path(self, fmt: str) -> str | None:
        _text, title, filt, suffix, _tip = FORMATS[fmt]
        doc = self.window.document
        start = default_name(doc.graph.meta.get("title"), doc.path, suffix)
        if doc.path is not None:
            start = str(Path(doc.path).parent / start)
        path, _ = QFileDialog.getSaveFileName(self.window, title, start, filt)
        return path or None

    def export_dialog(self, fmt: str) -> bool:
        path = self.ask_path(fmt)
        if not path:
            return False
        suffix = FORMATS[fmt][3]
        if not path.lower().endswith(suffix):
            path += suffix
        return self.export(fmt, path)

    def export(self, fmt: str, path: str | Path) -> bool:
        """Export the document's network; True when written (the files in ``last_written``)."""
        from ..interop import export

        QGuiApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
        try:
            written = export(self.window.document.network, fmt, Path(path))
        except AnnError as e:
            QGuiApplication.restoreOverrideCursor()
            self.window.show_error("Cannot export", str(e))
            return False
        except OSError as e:
            QGuiApplication.restoreOverrideCursor()
            self.window.show_error("Cannot export", f"{path}: {e.strerror or e}")
            return False
        QGuiApplication.restoreOverrideCursor()
        self.last_written = [Path(p) for p in written]
        names = ", ".join(p.name for p in self.last_written)
        self.window.show_status(f"Exported to {Path(path).parent}: {names}", 15000)
        return True
