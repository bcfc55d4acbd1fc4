"""The designer window: palette (left), canvas (centre), inspector (right).

The window owns one :class:`Document` at a time. Menus and the toolbar call
the document's editor (``doc.editor``), which pushes the undo commands; the
canvas, the inspector and the training views follow the document and the
training session themselves.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Callable

from PySide6.QtCore import QByteArray, QMargins, QMimeData, QRect, QSettings, QSize, Qt, QTimer, Slot
from PySide6.QtGui import QAction, QGuiApplication, QKeySequence, QUndoGroup
from PySide6.QtWidgets import (
    QDockWidget,
    QFileDialog,
    QFrame,
    QLabel,
    QMainWindow,
    QMessageBox,
    QScrollArea,
    QWidget,
)

from .. import __version__
from ..errors import AnnError
from ..io.annfile import read_meta
from ..paths import sample_files
from . import recovery
from .canvas import CanvasView, GraphScene
from .canvas.export import export_scene
from .canvas.thumbnails import NodeThumbnails
from .commands import copy_fragment
from .document import Document
from .help import GettingStartedDialog, ShortcutsDialog, shortcut_rows
from .icons import icon
from .inspector import InspectorWidget
from .compare import Compare
from .model_export import ModelExport
from .mime import MIME_FRAGMENT
from .palette import PaletteWidget
from .explain.mode import ExplainMode
from .health import HealthBadges
from .training.controller import TrainingController
from .data.panel import DataPanel
from .training.panel import TrainingPanel
from .training.plots import TrainingPlots
from .training.surface import DecisionSurface
from .tour import TourController

MAX_RECENT = 10
#: the first window's size, if the screen has room for it
DEFAULT_SIZE = QSize(1280, 800)
#: the window manager's frame, until the shown window knows its own (title bar above)
FRAME_GUESS = QMargins(4, 30, 4, 4)
FILE_FILTER = "ANN Designer networks (*.ann);;All files (*)"
#: File ▸ Open also reads ONNX models (imported as a new, untitled document)
OPEN_FILTER = ("Networks and models (*.ann *.onnx);;ANN Designer networks (*.ann);;ONNX models (*.onnx);;"
               "All files (*)")


def fit_geometry(geo: QRect, available: QRect, frame: QMargins = FRAME_GUESS) -> QRect:
    """``geo`` (the client area) made to fit ``available`` with its ``frame``:
    smaller if needed, then moved onto the screen."""
    room = available.marginsRemoved(frame)
    w = max(1, min(geo.width(), room.width()))
    h = max(1, min(geo.height(), room.height()))
    x = min(max(geo.x(), room.left()), room.left() + room.width() - w)
    y = min(max(geo.y(), room.top()), room.top() + room.height() - h)
    return QRect(x, y, w, h)


class MainWindow(QMainWindow):
    """``MainWindow(settings=None)``; ``open_file(path)``; ``document``; ``undo_stack``."""

    def __init__(self, settings: QSettings | None = None, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("mainWindow")
        self.setWindowIcon(icon("app"))
        self.settings = settings if settings is not None else QSettings()
        self.undo_group = QUndoGroup(self)
        first = Document(parent=self)
        self.document: Document | None = None
        self.scene: GraphScene | None = None
        self.view = CanvasView(GraphScene(first))
        self.view.setObjectName("canvas")
        self.setCentralWidget(self.view)

        self.palette = PaletteWidget()
        self.palette.addRequested.connect(self._add_from_palette)
        self.palette_dock = self._dock("Palette", "paletteDock", self.palette, Qt.DockWidgetArea.LeftDockWidgetArea)

        self.inspector = InspectorWidget(first)
        self.inspector.statusMessage.connect(self.show_status)
        self.inspector.nodeActivated.connect(self._reveal_node)
        self.inspector_dock = self._dock("Inspector", "inspectorDock", self.inspector,
                                         Qt.DockWidgetArea.RightDockWidgetArea)

        self.training = TrainingController(first, self)
        self.data_panel = DataPanel(first)
        self.data_panel.statusMessage.connect(self.show_status)
        self.data_dock = self._dock("Data", "dataDock", self.data_panel, Qt.DockWidgetArea.LeftDockWidgetArea)
        self.training_panel = TrainingPanel(first, self.training)
        self.training_panel.statusMessage.connect(self.show_status)
        self.training_dock = self._dock("Training", "trainingDock", self.training_panel,
                                        Qt.DockWidgetArea.RightDockWidgetArea, scroll=True)
        self.plots = TrainingPlots()
        self.plots_dock = self._dock("Training plots", "plotsDock", self.plots, Qt.DockWidgetArea.BottomDockWidgetArea)
        self.surface = DecisionSurface()
        self.surface_dock = self._dock("Decision surface", "surfaceDock", self.surface,
                                       Qt.DockWidgetArea.BottomDockWidgetArea)
        self.splitDockWidget(self.plots_dock, self.surface_dock, Qt.Orientation.Horizontal)
        # side docks run the full height; the plots sit under the canvas only
        self.setCorner(Qt.Corner.BottomLeftCorner, Qt.DockWidgetArea.LeftDockWidgetArea)
        self.setCorner(Qt.Corner.BottomRightCorner, Qt.DockWidgetArea.RightDockWidgetArea)

        self.tabifyDockWidget(self.palette_dock, self.data_dock)
        self.palette_dock.raise_()
        #: the node thumbnails of the current scene (they follow its document themselves)
        self.thumbnails: NodeThumbnails | None = None
        self.training.finished.connect(self._training_finished)
        self.training.stateChanged.connect(self._training_state)
        self.data_panel.mismatchesChanged.connect(lambda m: self.scene.set_extra_errors(dict(m)))

        self.error_label = QLabel()
        self.error_label.setObjectName("errorCount")
        self.zoom_label = QLabel()
        self.statusBar().addPermanentWidget(self.error_label)
        self.statusBar().addPermanentWidget(self.zoom_label)
        self.view.zoomChanged.connect(lambda z: self.zoom_label.setText(f"{z * 100:.0f} %"))
        self.zoom_label.setText(f"{self.view.zoom() * 100:.0f} %")

        #: the recovery copy of unsaved changes (every 30 s and before training; see recovery.py)
        self.autosaver = recovery.Autosaver(lambda: self.document, parent=self)
        self.autosaver.failed.connect(lambda m: self.show_status(m, 15000))
        self.training.stateChanged.connect(self._autosave_before_training)
        #: explain mode: the Explain dock (tabbed with Training), its action and the canvas rings
        self.explain = ExplainMode(self)
        #: health warnings of the last run: amber badges on the nodes (see health.py)
        self.health = HealthBadges(self)
        #: guided tours: the Tour dock, Help ▸ Guided Tour and the status-bar hint (see tour.py)
        self.tours = TourController(self)

        self._make_actions()
        self._make_menus()
        self._make_toolbar()
        self.set_document(first)
        self._restore_settings()

    # ------------------------------------------------------------ docks
    def _dock(self, title: str, name: str, widget: QWidget, area, scroll: bool = False) -> QDockWidget:
        d = QDockWidget(title, self)
        d.setObjectName(name)
        if scroll:  # tall forms scroll instead of forcing the window taller than the screen
            area_w = QScrollArea()
            area_w.setWidgetResizable(True)
            area_w.setFrameShape(QFrame.Shape.NoFrame)
            area_w.setWidget(widget)
            d.setWidget(area_w)
        else:
            d.setWidget(widget)
        d.setAllowedAreas(Qt.DockWidgetArea.AllDockWidgetAreas)
        self.addDockWidget(area, d)
        return d

    @property
    def undo_stack(self):
        return self.document.undo_stack

    # ---------------------------------------------------------- actions
    def _act(self, text: str, slot: Callable, shortcut=None, icon_name: str | None = None, tip: str = "",
             checkable: bool = False) -> QAction:
        a = QAction(text, self)
        if icon_name:
            a.setIcon(icon(icon_name))
        if shortcut is not None:
            a.setShortcuts(QKeySequence.keyBindings(shortcut) if isinstance(shortcut, QKeySequence.StandardKey)
                           else [QKeySequence(shortcut)])
        if tip:
            a.setStatusTip(tip)
            a.setToolTip(tip)
        a.setCheckable(checkable)
        a.triggered.connect(slot)
        self.addAction(a)
        return a

    def _make_actions(self) -> None:
        K = QKeySequence.StandardKey
        self.act_new = self._act("&New", self.new_document, K.New, "new", "Start a new network")
        self.act_open = self._act("&Open…", self.open_dialog, K.Open, "open", "Open a network file")
        self.act_save = self._act("&Save", self.save, K.Save, "save", "Save the network")
        self.act_save_as = self._act("Save &As…", self.save_as, K.SaveAs, "save-as", "Save under a new name")
        self.act_export = self._act("&Export Canvas Image…", self.export_image_dialog, None, "export-image",
                                    "Save the canvas as PNG or SVG")
        self.act_quit = self._act("&Quit", self.close, K.Quit if QKeySequence.keyBindings(K.Quit) else "Ctrl+Q")
        self.act_undo = self.undo_group.createUndoAction(self, "&Undo")
        self.act_undo.setShortcuts(QKeySequence.keyBindings(K.Undo))
        self.act_undo.setIcon(icon("undo"))
        self.act_redo = self.undo_group.createRedoAction(self, "&Redo")
        self.act_redo.setShortcuts(QKeySequence.keyBindings(K.Redo))
        self.act_redo.setIcon(icon("redo"))
        self.addAction(self.act_undo)
        self.addAction(self.act_redo)
        self.act_cut = self._act("Cu&t", self.cut, K.Cut, "cut", "Cut the selection")
        self.act_copy = self._act("&Copy", self.copy, K.Copy, "copy", "Copy the selection")
        self.act_paste = self._act("&Paste", self.paste, K.Paste, "paste", "Paste")
        self.act_duplicate = self._act("D&uplicate", self.duplicate, "Ctrl+D", "duplicate", "Duplicate the selection")
        self.act_delete = self._act("&Delete", self.delete_selection, K.Delete, "delete",
                                    "Delete the selected nodes and wires")
        self.act_delete.setShortcuts([QKeySequence(QKeySequence.StandardKey.Delete), QKeySequence("Backspace")])
        self.act_select_all = self._act("Select &All", self.select_all, K.SelectAll)
        self.act_expand = self._act("E&xpand Layer into Neurons", self.expand_selected, "Ctrl+E", "expand",
                                    "Show a Dense layer as its single neurons, every weight on its own wire")
        self.act_collapse = self._act("C&ollapse Neurons into Layer", self.collapse_selected, "Ctrl+Shift+E",
                                      "collapse", "Turn neurons that read the same inputs into one Dense layer")
        self.act_zoom_in = self._act("Zoom &In", lambda: self.view.zoom_in(), K.ZoomIn, "zoom-in")
        self.act_zoom_out = self._act("Zoom &Out", lambda: self.view.zoom_out(), K.ZoomOut, "zoom-out")
        self.act_fit = self._act("&Fit to Window", lambda: self.view.fit_to_window(), "Ctrl+0", "zoom-fit")
        self.act_actual = self._act("&Actual Size", lambda: self.view.actual_size(), "Ctrl+1", "zoom-actual")
        self.act_layout = self._act("Auto-&Layout", self.auto_layout, "Ctrl+L", "auto-layout",
                                    "Arrange the nodes left to right by depth")
        self.act_snap = self._act("&Snap to Grid", self._toggle_snap, None, checkable=True)
        self.act_output_maps = self._act("Output &Maps on Nodes", self._toggle_output_maps, None,
                                         tip="Each node shows its output over the input plane (2-input networks)",
                                         checkable=True)
        self.act_output_maps.setChecked(self.settings.value("outputMaps", True) in (True, "true", "1"))
        self.act_train = self._act("&Train", self._train_action, "F5", "train", "Train, pause or resume")
        self.act_step = self._act("&Step One Batch", lambda: self.training.step(), "F6", "step")
        self.act_stop = self._act("St&op Training", lambda: self.training.stop(), "Shift+F5", "stop")
        self.act_getting_started = self._act("&Getting Started", self.show_getting_started, K.HelpContents,
                                             tip="A short tour: palette, wiring, data, training, examples")
        self.act_shortcuts = self._act("&Keyboard Shortcuts", self.show_shortcuts, "Ctrl+/")
        self.act_about = self._act("&About ANN Designer", self.show_about)

    def _make_menus(self) -> None:
        mb = self.menuBar()
        f = mb.addMenu("&File")
        for a in (self.act_new, self.act_open):
            f.addAction(a)
        self.recent_menu = f.addMenu("Open &Recent")
        self.recent_menu.aboutToShow.connect(self._fill_recent)
        f.addSeparator()
        for a in (self.act_save, self.act_save_as):
            f.addAction(a)
        f.addSeparator()
        f.addAction(self.act_export)
        self.model_export = ModelExport(self)  # File ▸ Export Model ▸ PyTorch / ONNX / NumPy
        f.addMenu(self.model_export.menu)
        self.compare = Compare(self)  # File ▸ Compare With… (anndesigner.ui.compare)
        f.addAction(self.compare.action)
        f.addSeparator()
        f.addAction(self.act_quit)
        e = mb.addMenu("&Edit")
        for a in (self.act_undo, self.act_redo, None, self.act_cut, self.act_copy, self.act_paste,
                  self.act_duplicate, self.act_delete, None, self.act_select_all, None, self.act_expand,
                  self.act_collapse):
            e.addSeparator() if a is None else e.addAction(a)
        v = mb.addMenu("&View")
        for a in (self.act_zoom_in, self.act_zoom_out, self.act_fit, self.act_actual, None, self.act_layout,
                  self.act_snap, self.act_output_maps, None):
            v.addSeparator() if a is None else v.addAction(a)
        for d in (self.palette_dock, self.data_dock, self.inspector_dock, self.training_dock, self.plots_dock,
                  self.surface_dock, self.explain.dock):
            v.addAction(d.toggleViewAction())
        t = mb.addMenu("&Training")
        for a in (self.act_train, self.act_step, self.act_stop):
            t.addAction(a)
        t.addSeparator()
        t.addAction(self.explain.action)
        self.examples_menu = mb.addMenu("E&xamples")
        for p in sample_files():
            meta = read_meta(p)
            title = str(meta.get("title") or p.stem)
            a = self.examples_menu.addAction(title, lambda p=p: self.open_example(p))
            a.setObjectName(f"example_{p.stem}")
            a.setStatusTip(str(meta.get("description") or "")[:200])
            if p.stem in ("xor", "digits-mlp", "sine-lstm"):  # where the gallery moves on to a new idea
                self.examples_menu.insertSeparator(a)
        h = mb.addMenu("&Help")
        h.addAction(self.act_getting_started)
        h.addAction(self.tours.action)
        h.addAction(self.act_shortcuts)
        h.addAction(self.act_about)

    def _make_toolbar(self) -> None:
        tb = self.addToolBar("Main")
        tb.setObjectName("mainToolBar")
        tb.setIconSize(QSize(20, 20))
        for a in (self.act_new, self.act_open, self.act_save, None, self.act_undo, self.act_redo, None,
                  self.act_delete, None, self.act_zoom_in, self.act_zoom_out, self.act_fit, self.act_layout, None,
                  self.act_expand, self.act_collapse, None, self.act_train, self.act_step, self.act_stop):
            tb.addSeparator() if a is None else tb.addAction(a)
        self.toolbar = tb

    # --------------------------------------------------------- document
    def set_document(self, doc: Document) -> None:
        old = self.document
        if self.scene is not None:
            self.scene.detach()
        if old is not None:
            self.undo_group.removeStack(old.undo_stack)
        self.document = doc
        doc.setParent(self)
        self.undo_group.addStack(doc.undo_stack)
        self.undo_group.setActiveStack(doc.undo_stack)
        current = self.view.scene()
        scene = current if self.scene is None and current is not None and current.document is doc else GraphScene(doc)
        scene.statusMessage.connect(self.show_status)
        scene.selectionIdsChanged.connect(self._selection_changed)
        scene.errorsChanged.connect(self._errors_changed)
        if self.view.scene() is not scene:
            self.view.setScene(scene)
        old_scene, self.scene = self.scene, scene
        if old_scene is not None:
            old_scene.deleteLater()
        scene.set_training(self.training)
        self.inspector.set_document(doc)
        self.inspector.set_selection([])
        self.training.set_document(doc)
        self.training_panel.set_document(doc)
        self.data_panel.set_document(doc)
        self.explain.set_document(doc, scene)
        self.health.set_document(doc, scene)
        self.tours.set_document(doc, scene)  # a running tour ends; the hint shows when doc has a tour
        doc.lockChanged.connect(self._lock_changed)
        # the plots and the decision surface follow the document and the session themselves
        self.plots.set_document(doc)
        self.surface.set_document(doc)
        self.plots.set_training(self.training)
        self.surface.set_training(self.training)
        if self.thumbnails is not None:
            self.thumbnails.detach()
        # after the surface: a new data set's bounds are the surface's before the thumbnails see it
        self.thumbnails = NodeThumbnails(scene, self.surface.bounds, self.training)
        self.thumbnails.set_maps_enabled(self.act_output_maps.isChecked())
        doc.dataChanged.connect(self._data_changed)
        self._data_changed()
        doc.modifiedChanged.connect(self._update_title)
        doc.modifiedChanged.connect(self.autosaver.document_changed)
        doc.pathChanged.connect(self._update_title)
        doc.undo_stack.indexChanged.connect(self._update_actions)
        self._update_title()
        self._errors_changed(len(doc.graph.analyze().errors))
        self._update_actions()
        if old is not None and old is not doc:
            old.deleteLater()
        self.autosaver.autosave()  # the replaced document's copy goes; a restored one is kept at once
        if doc.graph.nodes:
            QTimer.singleShot(0, self.view.fit_to_window)

    @Slot()
    def _update_title(self, *_):
        doc = self.document
        self.setWindowTitle(f"{doc.display_name()}[*] — ANN Designer")
        self.setWindowModified(doc.modified)

    def _errors_changed(self, n: int) -> None:
        self.error_label.setText("No errors" if n == 0 else f"{n} error{'s' if n != 1 else ''}")
        self.error_label.setStyleSheet("" if n == 0 else "color: #E53935; font-weight: bold;")

    def _selection_changed(self, node_ids: list, edge_ids: list) -> None:
        self.inspector.set_selection(list(node_ids))
        if len(node_ids) == 1:
            self.plots.set_selected_node(node_ids[0])
        self._update_actions()

    # ---------------------------------------------------------- training
    def _lock_changed(self, reason: str) -> None:
        locked = bool(reason)
        self.inspector.set_training(locked)
        self.palette.setEnabled(not locked)
        # no undo/redo while a run trains on a snapshot of the current model
        self.undo_group.setActiveStack(None if locked else self.document.undo_stack)
        self._update_actions()
        if locked:
            self.show_status(reason, 4000)

    def _data_changed(self) -> None:
        """The data set changed: say why it cannot be loaded."""
        try:
            self.document.dataset()
        except AnnError as e:
            self.show_status(str(e))

    def _training_state(self, state: str) -> None:
        self.act_train.setText({"idle": "&Train", "running": "&Pause Training", "paused": "&Resume Training"}[state])

    def _training_finished(self, result) -> None:
        if result.reason == "error":
            self.show_error("Training stopped", result.message.splitlines()[0], result.message)
        else:  # a diverged run is explained in the training panel, with its fixes
            self.show_status(result.message.splitlines()[0] if result.message else "")

    def _autosave_before_training(self, state: str) -> None:
        if state == "running":
            self.autosaver.autosave()

    def _train_action(self) -> None:
        self.training_panel.toggle_training()

    def _update_actions(self, *_):
        if self.scene is None:
            return
        nodes = self.scene.selected_node_ids()
        edges = self.scene.selected_edge_ids()
        free = not self.document.editor.locked  # structural edits wait while training runs
        self.act_delete.setEnabled(free and bool(nodes or edges))
        self.act_cut.setEnabled(free and bool(nodes))
        self.act_copy.setEnabled(bool(nodes))
        self.act_paste.setEnabled(free)
        self.act_duplicate.setEnabled(free and bool(nodes))
        self.act_expand.setEnabled(self.document.editor.can_expand(nodes))
        self.act_collapse.setEnabled(self.document.editor.can_collapse(nodes))

    def _reveal_node(self, node_id: str) -> None:
        item = self.scene.node_item(node_id)
        if item is not None:
            self.scene.select_ids([node_id])
            self.view.centerOn(item)

    def show_status(self, message: str, timeout: int = 6000) -> None:
        self.statusBar().showMessage(message, timeout)

    def show_error(self, title: str, message: str, details: str | None = None) -> None:
        box = QMessageBox(QMessageBox.Icon.Critical, title, message, QMessageBox.StandardButton.Ok, self)
        if details:
            box.setDetailedText(details)
        box.exec()

    def ask_save_changes(self) -> QMessageBox.StandardButton:
        """Save, Discard or Cancel for unsaved changes."""
        return QMessageBox.warning(
            self, "Unsaved changes",
            f"Save the changes to {self.document.display_name()} before closing it?",
            QMessageBox.StandardButton.Save | QMessageBox.StandardButton.Discard | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Save,
        )

    def maybe_save(self) -> bool:
        """True when it is fine to replace or close the document (a running
        training is stopped first and its result kept in the document)."""
        self.training.stop_and_wait()
        if not self.document.modified:
            return True
        answer = self.ask_save_changes()
        if answer == QMessageBox.StandardButton.Save:
            return self.save()
        return answer == QMessageBox.StandardButton.Discard

    # ------------------------------------------------------------- files
    def new_document(self) -> bool:
        if not self.maybe_save():
            return False
        self.set_document(Document(parent=self))
        return True

    def open_dialog(self) -> bool:
        if not self.maybe_save():
            return False
        start = str(self.document.path.parent) if self.document.path else ""
        path, _ = QFileDialog.getOpenFileName(self, "Open network", start, OPEN_FILTER)
        return bool(path) and self.open_file(path, ask=False)

    def open_file(self, path: str | Path, ask: bool = True) -> bool:
        """Open ``path``; on a bad file show the error and keep the current document.

        An ONNX model (``.onnx``) is imported as a new untitled, modified document, so Save asks
        for a ``.ann`` name."""
        if ask and not self.maybe_save():
            return False
        self.training.stop_and_wait()
        imported = Path(path).suffix.lower() == ".onnx"
        try:
            if imported:
                from ..interop import import_model

                doc = Document(import_model(path), None, parent=self)
                doc.undo_stack.resetClean()  # not saved as a .ann yet
            else:
                doc = Document.open(path, parent=self)
        except AnnError as e:
            self.show_error("Cannot import model" if imported else "Cannot open network", str(e))
            return False
        self.set_document(doc)
        self._add_recent(Path(path))
        desc = doc.graph.meta.get("description")
        lost = doc.load_warnings
        if lost:  # the file opened, without a part of it: say which and why
            self.show_status(" · ".join(lost), 30000)
        else:
            self.show_status(desc if desc else f"Opened {Path(path).name}", 15000)
        return True

    # ---------------------------------------------------------- recovery
    def offer_recovery(self, choose: Callable[[list], tuple[str, int]] | None = None) -> bool:
        """Offer the recovery copies a crashed or killed window left; True if one was restored.

        ``choose(found)`` returns ("restore", index), ("discard", -1) or ("later", -1);
        by default a dialog asks."""
        found = recovery.find(self.autosaver.store.folder)
        if not found:
            return False
        action, index = (choose or self.ask_recovery)(found)
        if action == "discard":
            for f in found:
                recovery.discard(f)
            self.show_status(f"Discarded {len(found)} recovered document{'s' if len(found) != 1 else ''}")
            return False
        if action != "restore" or not 0 <= index < len(found):
            return False
        return self.restore_recovered(found[index])

    def restore_recovered(self, found: "recovery.Found") -> bool:
        """Open a recovery copy: modified, under its original path (Save writes there)."""
        if not self.maybe_save():
            return False
        self.training.stop_and_wait()
        store = self.autosaver.store
        file = store.claim(found)
        if file is None:
            self.show_status(f"{found.name} was restored by another window")
            return False
        from ..io import load_network

        try:
            net = load_network(file)
        except AnnError as e:  # kept, not deleted: it may be all there is of the user's work
            kept = store.set_aside()
            self.show_error("Cannot restore the document", f"{found.name}: {e}"
                            + (f"\n\nThe copy is kept as {kept}." if kept else ""))
            return False
        doc = Document(net, found.original, parent=self)
        doc.undo_stack.resetClean()  # not saved: modified until the user saves it
        self.set_document(doc)
        self.show_status(f"Restored {found.name} as it was at "
                         f"{time.strftime('%H:%M:%S', time.localtime(found.saved_at))}: save it to keep it", 15000)
        return True

    def ask_recovery(self, found: list) -> tuple[str, int]:
        """The Restore / Discard / Later dialog; returns (action, index of the chosen copy)."""
        return recovery.ask(found, self)

    def open_example(self, path: Path) -> bool:
        """Open a sample as an untitled copy, so saving never overwrites the shipped file."""
        if not self.open_file(path):
            return False
        self.document.set_path(None)
        return True

    def save(self) -> bool:
        if self.document.path is None:
            return self.save_as()
        return self._save_to(self.document.path)

    def save_as(self) -> bool:
        start = str(self.document.path or (Path.home() / "network.ann"))
        path, _ = QFileDialog.getSaveFileName(self, "Save network", start, FILE_FILTER)
        if not path:
            return False
        if not path.endswith(".ann"):
            path += ".ann"
        return self._save_to(Path(path))

    def _save_to(self, path: Path) -> bool:
        try:
            self.document.save(path)
        except (OSError, AnnError) as e:
            self.show_error("Cannot save network", f"{path}: {getattr(e, 'strerror', None) or e}")
            return False
        self._add_recent(path)
        self.show_status(f"Saved {path.name}")
        return True

    def _recent(self) -> list[str]:
        v = self.settings.value("recentFiles", [])
        if isinstance(v, str):
            v = [v]
        return [str(x) for x in (v or [])]

    def _add_recent(self, path: Path) -> None:
        p = str(Path(path).resolve())
        items = [p] + [x for x in self._recent() if x != p]
        self.settings.setValue("recentFiles", items[:MAX_RECENT])

    def _fill_recent(self) -> None:
        self.recent_menu.clear()
        items = self._recent()
        for p in items:
            self.recent_menu.addAction(Path(p).name, lambda p=p: self.open_file(p)).setToolTip(p)
        if not items:
            self.recent_menu.addAction("(none)").setEnabled(False)
        else:
            self.recent_menu.addSeparator()
            self.recent_menu.addAction("Clear Menu", lambda: self.settings.setValue("recentFiles", []))

    def export_image_dialog(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Export canvas image", "network.png",
                                              "PNG image (*.png);;SVG drawing (*.svg)")
        if path:
            try:
                self.export_image(path)
            except OSError as e:
                self.show_error("Cannot export", f"{path}: {e}")

    def export_image(self, path: str | Path) -> None:
        """Write the whole drawing (not only the visible part) as PNG or SVG."""
        export_scene(self.scene, path, self.document.display_name())

    # ------------------------------------------------------------- edits
    def _edit(self, intent: Callable, *args):
        """Call one of the editor's intents; a refusal goes to the status line (None)."""
        return self.scene.edit(intent, *args)

    def _select_after(self, cmd) -> None:
        rw = getattr(cmd, "rewrite", None)
        if rw is not None and rw.select:
            self.scene.select_ids(rw.select)

    def _add_from_palette(self, type_id: str) -> None:
        self.view.add_node_at_center(type_id)

    def delete_selection(self) -> None:
        """The same delete as the canvas's Delete key."""
        self.scene.delete_selection()

    def copy(self) -> None:
        nodes = self.scene.selected_node_ids()
        if not nodes:
            return
        frag = copy_fragment(self.document, nodes)
        data = QMimeData()
        data.setData(MIME_FRAGMENT, QByteArray(json.dumps(frag).encode("utf-8")))
        data.setText(", ".join(nodes))
        QGuiApplication.clipboard().setMimeData(data)
        self._paste_count = 0

    def cut(self) -> None:
        nodes = self.scene.selected_node_ids()
        if not nodes or self.scene.refuse_if_locked():
            return
        self.copy()
        self._edit(self.document.editor.cut, nodes)

    def paste(self) -> None:
        data = QGuiApplication.clipboard().mimeData()
        if data is None or not data.hasFormat(MIME_FRAGMENT):
            self.show_status("Nothing to paste: copy some nodes first")
            return
        try:
            frag = json.loads(bytes(data.data(MIME_FRAGMENT)).decode("utf-8"))
        except ValueError:
            self.show_status("The clipboard holds no ANN Designer nodes")
            return
        self._paste_count = getattr(self, "_paste_count", 0) + 1
        off = 40.0 * self._paste_count
        self._select_after(self._edit(self.document.editor.paste, frag, (off, off)))

    def duplicate(self) -> None:
        self._select_after(self._edit(self.document.editor.duplicate, self.scene.selected_node_ids()))

    def select_all(self) -> None:
        self.scene.select_ids(list(self.document.graph.nodes) + list(self.document.graph.edges))

    def auto_layout(self) -> None:
        self._edit(self.document.editor.auto_layout)
        self.view.fit_to_window()

    def expand_selected(self) -> None:
        nodes = self.scene.selected_node_ids()
        if len(nodes) != 1:
            self.show_status("Select one Dense layer to expand")
            return
        self._select_after(self._edit(self.document.editor.expand, nodes[0]))

    def collapse_selected(self) -> None:
        self._select_after(self._edit(self.document.editor.collapse, self.scene.selected_node_ids()))

    def _toggle_output_maps(self, on: bool) -> None:
        if self.thumbnails is not None:
            self.thumbnails.set_maps_enabled(on)
        self.settings.setValue("outputMaps", on)

    def _toggle_snap(self, on: bool) -> None:
        self.scene.snap_to_grid = on
        self.settings.setValue("snapToGrid", on)

    # -------------------------------------------------------------- help
    def shortcut_rows(self) -> list[tuple[str, str]]:
        """(action, main key) for every menu action with a key, once each, in menu order;
        then the mouse gestures."""
        return shortcut_rows(self.menuBar(), {id(self.act_train): "Train / Pause / Resume"})

    def show_shortcuts(self) -> None:
        ShortcutsDialog(self.shortcut_rows(), self).exec()

    def show_getting_started(self) -> None:
        """Help ▸ Getting Started: a non-modal page beside the window."""
        dlg = getattr(self, "_getting_started", None)
        if dlg is None:
            dlg = self._getting_started = GettingStartedDialog(self)
        dlg.show()
        dlg.raise_()

    def show_about(self) -> None:
        QMessageBox.about(
            self, "About ANN Designer",
            f"<h3>ANN Designer {__version__}</h3><p>Design, train and understand artificial neural networks, "
            "neuron by neuron or layer by layer.</p><p>MIT License.</p>",
        )

    # ---------------------------------------------------------- settings
    def _restore_settings(self) -> None:
        geo = self.settings.value("geometry")
        if geo is not None:
            self.restoreGeometry(geo)
        else:
            self.resize(DEFAULT_SIZE)
        self.fit_to_screen()  # a saved size from a bigger screen, or 1280 x 800 on a 1366 x 768 one
        state = self.settings.value("windowState")
        if state is not None:
            self.restoreState(state)
        else:
            self._default_layout()
            QTimer.singleShot(0, self._default_layout)  # again once the window has its real size
        snap = self.settings.value("snapToGrid", False)
        snap = snap in (True, "true", "1")
        self.act_snap.setChecked(snap)
        self.scene.snap_to_grid = snap

    def fit_to_screen(self, available: QRect | None = None) -> None:
        """Shrink and move the window into the screen's available area (``available`` for tests)."""
        if self.windowState() & (Qt.WindowState.WindowMaximized | Qt.WindowState.WindowFullScreen):
            return
        if available is None:
            screen = self.screen() or QGuiApplication.primaryScreen()
            if screen is None:
                return
            available = screen.availableGeometry()
        frame = FRAME_GUESS
        if self.isVisible():
            fg, g = self.frameGeometry(), self.geometry()
            frame = QMargins(g.left() - fg.left(), g.top() - fg.top(), fg.right() - g.right(),
                             fg.bottom() - g.bottom())
        fitted = fit_geometry(self.geometry(), available, frame)
        if fitted != self.geometry():
            self.setGeometry(fitted)

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if not getattr(self, "_fitted_shown", False):  # now the real frame is known
            self._fitted_shown = True
            self.fit_to_screen()

    def _default_layout(self) -> None:
        H, V = Qt.Orientation.Horizontal, Qt.Orientation.Vertical
        self.resizeDocks([self.palette_dock, self.data_dock, self.inspector_dock, self.training_dock],
                         [300, 300, 320, 320], H)
        self.resizeDocks([self.inspector_dock, self.training_dock], [300, 500], V)
        self.resizeDocks([self.plots_dock], [max(240, self.height() // 3)], V)
        self.resizeDocks([self.plots_dock, self.surface_dock], [3, 2], H)

    def closeEvent(self, event) -> None:
        self.training.stop_and_wait()
        if not self.maybe_save():
            event.ignore()
            return
        self.settings.setValue("geometry", self.saveGeometry())
        self.settings.setValue("windowState", self.saveState())
        self.settings.sync()
        if self.scene is not None:
            self.scene.detach()
        self.autosaver.stop()  # a clean quit: no recovery copy is left
        from . import excepthook

        reporter = excepthook.installed()
        if reporter is not None and reporter.window_getter() is self:
            reporter.close_all()  # an error box left open would keep the app running
        event.accept()

