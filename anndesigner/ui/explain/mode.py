"""Explain mode in the window: the Explain dock, its action, and on the canvas
the rings (:mod:`.overlay`) and the wires of the frame shown (:mod:`.wires`:
values travelling forward, gradients backward), following the window's
document and scene; hiding the dock removes both."""

from __future__ import annotations

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QAction, QKeySequence

from .overlay import ExplainHighlight
from .panel import ExplainPanel
from .wires import ExplainWires


class ExplainMode(QObject):
    def __init__(self, window):
        super().__init__(window)
        self.window = window
        self.panel = ExplainPanel(window.document)
        self.panel.setObjectName("explainPanel")
        self.dock = window._dock("Explain", "explainDock", self.panel, Qt.DockWidgetArea.RightDockWidgetArea)
        window.tabifyDockWidget(window.training_dock, self.dock)
        window.training_dock.raise_()
        self.highlight = ExplainHighlight(window.scene, self)
        self.panel.highlightChanged.connect(self.highlight.show_nodes)
        self.wires = ExplainWires(window.scene, self)
        self.panel.frameChanged.connect(self._frame_changed)
        self.dock.visibilityChanged.connect(self._visibility)
        self.action = QAction("&Explain One Sample", window)
        self.action.setObjectName("actExplain")
        self.action.setShortcut(QKeySequence("F7"))
        self.action.setStatusTip("Step one sample forward and backward through this network, with the real numbers")
        self.action.triggered.connect(self.start)
        window.addAction(self.action)  # its shortcut works wherever the window has focus
        window.surface.sampleClicked.connect(self.explain_row)
        window.plots.sampleClicked.connect(self.explain_row)

    def set_document(self, document, scene) -> None:
        self.highlight.set_scene(scene)
        self.wires.set_scene(scene)
        self.panel.set_document(document)

    def start(self) -> bool:
        """Show the dock and trace the chosen sample (row 0 unless chosen)."""
        self.dock.show()
        self.dock.raise_()
        return self.panel.explain_current()

    def explain_row(self, row: int) -> bool:
        """Explain data row ``row`` (a point clicked on the decision surface)."""
        self.panel.typed.clear()
        self.panel.row.setValue(row)
        return self.start()

    def _visibility(self, visible: bool) -> None:
        if not visible:  # leaving explain mode: the canvas as it was
            self.panel.b_play.setChecked(False)
            self.highlight.clear()
            self.wires.clear()
        elif self.panel.stepper is not None:
            f = self.panel.stepper.frame
            self.highlight.show_nodes(list(f.highlight) if f else [])
            self.wires.show_frame(f, self.panel.trace)

    def _frame_changed(self, frame) -> None:
        self.wires.show_frame(frame, self.panel.trace)  # None: nothing
