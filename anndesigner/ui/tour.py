"""Guided tours in the window: the Tour dock, Help ▸ Guided Tour, and the hint
in the status bar when a document with a tour is opened.

A tour (:mod:`anndesigner.io.tour`, the document's ``network.tour``) is data;
this module plays it through the window's own objects: a step rings its nodes
on the canvas (an :class:`~.explain.overlay.ExplainHighlight` of the tour's
own, drawn dashed blue so it is told apart from explain mode's orange), shows
its view (a dock), and runs its action through the real Explain mode
(``ExplainMode.explain_row``, the panel's granularity and its forward step) or
the canvas selection. Nothing a tour does goes on the undo stack: it never
changes the document.

Going back to a step shows what coming forward to it showed: the explain
actions from the last ``explain-sample`` up to that step are played again.
Closing the tour, or opening another document, removes its rings.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, Qt, Signal, Slot
from PySide6.QtGui import QAction, QColor, QPen
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QTextBrowser, QVBoxLayout, QWidget

from ..errors import AnnError
from ..io.tour import Tour, TourStep, text_html
from ..paths import samples_dir
from .explain.overlay import ExplainHighlight

#: the tour's rings: dashed blue, beside explain mode's solid orange
TOUR_RING = QColor("#1565C0")
#: the sample whose tour Help ▸ Guided Tour opens when the document has none
FIRST_TOUR_SAMPLE = "perceptron.ann"
EXPLAIN_ACTIONS = ("explain-sample", "explain-forward")


class TourPanel(QWidget):
    """The step text, "Step k of n", Back / Next / Close."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.title = QLabel()
        self.title.setObjectName("tourTitle")
        self.title.setWordWrap(True)
        self.title.setStyleSheet("font-weight: bold")
        self.position = QLabel()
        self.position.setObjectName("tourPosition")
        self.text = QTextBrowser()
        self.text.setObjectName("tourText")
        self.text.setOpenLinks(False)
        self.text.setMinimumWidth(60)
        self.message = QLabel()
        self.message.setObjectName("tourMessage")
        self.message.setWordWrap(True)
        self.message.setStyleSheet("color: #C62828")
        self.message.hide()
        self.back = QPushButton("◀ Back")
        self.back.setObjectName("tourBack")
        self.back.setToolTip("The previous step")
        self.next = QPushButton("Next ▶")
        self.next.setObjectName("tourNext")
        self.next.setToolTip("The next step")
        self.next.setDefault(True)
        self.close_button = QPushButton("Close")
        self.close_button.setObjectName("tourClose")
        self.close_button.setToolTip("End the tour (the canvas as it was)")
        buttons = QHBoxLayout()
        buttons.addWidget(self.back)
        buttons.addWidget(self.next)
        buttons.addStretch(1)
        buttons.addWidget(self.close_button)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(6, 6, 6, 6)
        lay.addWidget(self.title)
        lay.addWidget(self.position)
        lay.addWidget(self.text, 1)
        lay.addWidget(self.message)
        lay.addLayout(buttons)

    def say(self, text: str) -> None:
        self.message.setText(text)
        self.message.setVisible(bool(text))


class TourController(QObject):
    """``TourController(window)``: ``start(tour)``, ``go(k)``, ``next()``,
    ``back()``, ``close()``, ``open_help_tour()``; ``set_document(doc, scene)``
    is the window's hook when its document changes."""

    #: the step shown (index), or -1 when the tour closes
    stepChanged = Signal(int)

    def __init__(self, window):
        super().__init__(window)
        self.window = window
        self.tour: Tour | None = None
        self.index = -1
        self.document = None
        self._explain_done: tuple | None = None  # (script, stepper, index) of the explain actions played
        self.panel = TourPanel()
        self.panel.setObjectName("tourPanel")
        self.panel.back.clicked.connect(self.back)
        self.panel.next.clicked.connect(self.next)
        self.panel.close_button.clicked.connect(self.close)
        self.dock = None  # made at the first tour, so a saved window state never shows an empty one
        self.highlight = ExplainHighlight(window.scene, self)
        self.action = QAction("Guided &Tour", window)
        self.action.setObjectName("actGuidedTour")
        self.action.setStatusTip("A short guided walk through this network (or the perceptron sample's)")
        self.action.triggered.connect(self.open_help_tour)
        window.addAction(self.action)
        self.hint = QPushButton()
        self.hint.setObjectName("tourHint")
        self.hint.setFlat(True)
        self.hint.setCursor(Qt.CursorShape.PointingHandCursor)
        self.hint.setToolTip("This network comes with a guided tour")
        self.hint.clicked.connect(lambda: self.start(self._document_tour()))
        self.hint.hide()
        window.statusBar().addPermanentWidget(self.hint)

    # ------------------------------------------------------------ document
    def set_document(self, document, scene) -> None:
        """The window's document changed: the running tour ends, the hint shows when it has a tour."""
        self.close()
        if self.document is not None:
            try:
                self.document.graphChanged.disconnect(self._graph_changed)
            except (RuntimeError, TypeError):
                pass
        self.document = document
        self.highlight.set_scene(scene)
        document.graphChanged.connect(self._graph_changed)
        self._update_hint()

    def _document_tour(self) -> Tour | None:
        return getattr(self.document.network, "tour", None) if self.document is not None else None

    def _update_hint(self) -> None:
        tour = self._document_tour()
        if tour is not None and self.tour is None:
            self.hint.setText(f"▶ Take the tour: {tour.title or 'this network'}")
            self.hint.show()
        else:
            self.hint.hide()

    def _graph_changed(self) -> None:
        if self.tour is not None:  # a node deleted meanwhile loses its ring
            self._show_rings(self.tour.steps[self.index])

    # ------------------------------------------------------------ playing
    def _ensure_dock(self):
        if self.dock is None:
            w = self.window
            self.dock = w._dock("Guided tour", "tourDock", self.panel, Qt.DockWidgetArea.LeftDockWidgetArea)
            self.dock.visibilityChanged.connect(self._dock_visibility)
            self._first_show = True
        return self.dock

    def start(self, tour: Tour | None, step: int = 0) -> bool:
        if tour is None or not tour.steps:
            return False
        self.close()
        self.tour = tour
        self._explain_done = None
        self.panel.title.setText(tour.title)
        dock = self._ensure_dock()
        dock.show()
        dock.raise_()
        if getattr(self, "_first_show", False):  # room for a step's text; later the user's own size
            self._first_show = False
            self.window.resizeDocks([dock], [max(280, self.window.height() * 9 // 20)], Qt.Orientation.Vertical)
        self._update_hint()
        self.go(step)
        return True

    @Slot()
    def next(self) -> None:
        if self.tour is not None and self.index + 1 < len(self.tour.steps):
            self.go(self.index + 1)

    @Slot()
    def back(self) -> None:
        if self.tour is not None and self.index > 0:
            self.go(self.index - 1)

    @Slot()
    def close(self) -> None:
        """End the tour: rings gone, the dock hidden (the views it opened stay)."""
        was = self.tour is not None
        self.tour = None
        self.index = -1
        self._explain_done = None
        self.highlight.clear()
        if self.dock is not None and self.dock.isVisible():
            self.dock.hide()
        self._update_hint()
        if was:
            self.stepChanged.emit(-1)

    def _dock_visibility(self, visible: bool) -> None:
        # the dock closed by its own title-bar button ends the tour too; a tab hidden behind
        # another is not closed (the dock is still open, only not on top)
        if not visible and self.tour is not None and self.dock.isHidden():
            self.close()

    @property
    def step(self) -> TourStep | None:
        return self.tour.steps[self.index] if self.tour is not None and self.index >= 0 else None

    def go(self, k: int) -> None:
        """Show step ``k``: its text, its rings, its view, its action."""
        tour = self.tour
        if tour is None:
            return
        k = max(0, min(k, len(tour.steps) - 1))
        self.index = k
        s = tour.steps[k]
        n = len(tour.steps)
        self.panel.position.setText(f"Step {k + 1} of {n}")
        self.panel.text.setHtml(text_html(s.text))
        self.panel.back.setEnabled(k > 0)
        self.panel.next.setEnabled(k + 1 < n)
        self.panel.say("")
        self._open(s.open)
        problem = self._run(k)
        self.panel.say(problem)
        self._show_rings(s)
        if self.panel.next.isEnabled():
            self.panel.next.setFocus()
        self.stepChanged.emit(k)

    def _show_rings(self, s: TourStep) -> None:
        graph = self.document.graph
        self.highlight.show_nodes([n for n in s.highlight if n in graph.nodes])
        pen = QPen(TOUR_RING, 3.0, Qt.PenStyle.DashLine)
        pen.setCosmetic(True)
        for ring in self.highlight.rings.values():
            ring.setPen(pen)
            ring.setData(0, "tour-ring")

    def ring_ids(self) -> list[str]:
        """The nodes ringed now (for tests and the status line)."""
        return list(self.highlight.rings)

    # ------------------------------------------------------------ views
    def _docks(self) -> dict:
        w = self.window
        return {"explain": w.explain.dock, "training": w.training_dock, "data": w.data_dock,
                "surface": w.surface_dock, "plots": w.plots_dock, "inspector": w.inspector_dock,
                "palette": w.palette_dock}

    def _open(self, view: str | None) -> None:
        if view is None:
            return
        if view == "canvas":
            self.window.view.fit_to_window()
            return
        dock = self._docks().get(view)
        if dock is not None:
            dock.show()
            dock.raise_()

    # ------------------------------------------------------------ actions
    def _script(self, k: int) -> tuple[int, ...]:
        """The explain actions that make step ``k``'s explain state: from the last
        explain-sample at or before ``k`` (or the first step) up to ``k``."""
        steps = self.tour.steps
        first = 0
        for i in range(k, -1, -1):
            a = steps[i].action
            if a is not None and a.do == "explain-sample":
                first = i
                break
        return tuple(i for i in range(first, k + 1)
                     if steps[i].action is not None and steps[i].action.do in EXPLAIN_ACTIONS)

    def _explain_position(self) -> tuple:
        p = self.window.explain.panel
        return (p.stepper, p.stepper.index if p.stepper is not None else None)

    def _run(self, k: int) -> str:
        """Run step ``k``'s action (and replay the explain actions its state needs); "" or what failed."""
        s = self.tour.steps[k]
        a = s.action
        if a is not None and a.do == "select-node":
            if a.node in self.document.graph.nodes:
                self.window.scene.select_ids([a.node])  # the Inspector follows; the view stays put
            else:
                return f"This step selects node '{a.node}', which the network no longer has."
        script = self._script(k)
        if not script:
            return ""
        done = self._explain_done
        if done is not None and done[0] == script and done[1:] == self._explain_position():
            return ""  # already showing it (a step of its own without an explain action)
        if done is not None and script[:len(done[0])] == done[0] and done[0] and done[1:] == self._explain_position():
            todo = script[len(done[0]):]
        else:
            todo = script
        problem = ""
        for i in todo:
            problem = self._explain(self.tour.steps[i].action)
            if problem:
                break
        self._explain_done = None if problem else (script, *self._explain_position())
        return problem

    def _explain(self, a) -> str:
        mode = self.window.explain
        panel = mode.panel
        if a.granularity is not None:
            i = panel.granularity.findData(a.granularity)
            if i >= 0:
                panel.granularity.setCurrentIndex(i)
        if a.do == "explain-sample":
            try:
                data = self.document.dataset()
            except AnnError as e:
                return f"This step explains a sample, but the data set cannot be loaded: {e}"
            if data is None:
                return "This step explains a sample, but the network has no data set."
            if not 0 <= a.row < len(data):
                return f"This step explains row {a.row}, but the data set has only {len(data)} rows."
            if not mode.explain_row(a.row):
                return "The explain step could not run: " + (panel.message.text() or "see the Explain dock")
            return ""
        # explain-forward
        mode.dock.show()
        mode.dock.raise_()
        for _ in range(a.steps):
            if panel.stepper is not None and panel.stepper.at_end():
                break
            panel._move("forward")
            if panel.stepper is None:
                return "The explain step could not run: " + (panel.message.text() or "see the Explain dock")
        return ""

    # ------------------------------------------------------------ Help
    @Slot()
    def open_help_tour(self) -> bool:
        """Help ▸ Guided Tour: this document's tour, or else the first sample's (opened as an
        untitled copy; a modified document is offered for saving first, as Open does)."""
        tour = self._document_tour()
        if tour is not None:
            return self.start(tour)
        try:
            path = samples_dir() / FIRST_TOUR_SAMPLE
        except FileNotFoundError:
            path = None
        if path is None or not path.exists():
            self.window.show_status("The samples folder with the guided tour is missing")
            return False
        if not self.window.open_example(Path(path)):
            return False
        tour = self._document_tour()
        if tour is None:
            self.window.show_status(f"{FIRST_TOUR_SAMPLE} has no guided tour")
            return False
        return self.start(tour)
