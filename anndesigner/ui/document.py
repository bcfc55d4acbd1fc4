"""The open network in the designer: model, undo stack and file path.

The :class:`Document` owns a :class:`~anndesigner.engine.Network` whose
``graph`` is the single truth. Views listen to the graph's signals; every edit
goes through :attr:`Document.editor` (``editor.py``), which pushes one command
(``commands.py``) on :attr:`Document.undo_stack`.
"Modified" is exactly ``not undo_stack.isClean()``.

The document also says what changed, as Qt signals that views subscribe to
in their own ``set_document`` (so that a result that is no longer true is
cleared by the view that shows it, not by the window): ``weightsChanged``,
``historyChanged``, ``dataChanged`` (the data set it names), ``trainingChanged``
(the settings), ``graphChanged`` (an edit that changes what the network
computes: nodes, wires, parameters; not moves or labels). They follow the
network's and the graph's own events, so every command, its undo and its redo
(a training run, a data edit, Reset Weights) emits them.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

from PySide6.QtCore import QObject, Signal, Slot
from PySide6.QtGui import QUndoStack

from ..engine import Network
from ..graph import Graph


def empty_network() -> Network:
    return Network(Graph(), seed=0, strict=False)


class Document(QObject):
    pathChanged = Signal(object)
    modifiedChanged = Signal(bool)
    #: the reason structural edits are refused ("" when they are allowed)
    lockChanged = Signal(str)
    #: weights replaced from outside a run (a training result, Reset, an undo)
    weightsChanged = Signal()
    #: the training history replaced (a run's result, Reset, an undo)
    historyChanged = Signal()
    #: the data set reference changed (the cached data set is dropped first)
    dataChanged = Signal()
    #: the training settings changed
    trainingChanged = Signal()
    #: nodes, wires or parameters changed (what the network computes)
    graphChanged = Signal()

    def __init__(self, network: Network | None = None, path: str | Path | None = None, parent: QObject | None = None):
        super().__init__(parent)
        self.network = network if network is not None else empty_network()
        #: what opening the file dropped (a damaged optional part), one message each
        self.load_warnings: list[str] = []
        self.undo_stack = QUndoStack(self)
        self.undo_stack.cleanChanged.connect(self._clean_changed)
        # absolute: a recovery copy or a later change of folder must not point elsewhere
        self._path: Path | None = Path(os.path.abspath(path)) if path else None
        self._lock_reason = ""
        self._dataset = None
        self._dataset_key = None
        self._editor = None
        net, g = self.network, self.network.graph
        # (the document's own methods: a view's test can tell its slots from the document's)
        net.weights_changed.connect(self._network_weights_changed)
        net.history_changed.connect(self._network_history_changed)
        net.data_changed.connect(self._network_data_changed)
        net.training_changed.connect(self._network_training_changed)
        for sig in (g.node_added, g.node_removed, g.edge_added, g.edge_removed):
            sig.connect(self._structure_changed)
        g.node_changed.connect(self._node_changed)

    def _network_weights_changed(self) -> None:
        self.weightsChanged.emit()

    def _network_history_changed(self) -> None:
        self.historyChanged.emit()

    def _network_training_changed(self) -> None:
        self.trainingChanged.emit()

    def owns_slot(self, slot) -> bool:
        """True for the document's own subscriptions to its network and graph."""
        return getattr(slot, "__self__", None) is self

    def _network_data_changed(self) -> None:
        self._dataset = None
        self._dataset_key = None
        self.dataChanged.emit()

    def _structure_changed(self, *_: object) -> None:
        self.graphChanged.emit()

    def _node_changed(self, node, keys=()) -> None:
        if tuple(keys) != ("label",):  # a new name computes the same
            self.graphChanged.emit()

    @Slot(bool)
    def _clean_changed(self, clean: bool) -> None:
        self.modifiedChanged.emit(not clean)

    @property
    def graph(self) -> Graph:
        return self.network.graph

    @property
    def path(self) -> Path | None:
        return self._path

    def set_path(self, path: str | Path | None) -> None:
        """Name the file this document is saved to (None: untitled, e.g. a sample opened
        as a copy), emitting ``pathChanged``."""
        target = Path(os.path.abspath(path)) if path else None
        if target != self._path:
            self._path = target
            self.pathChanged.emit(target)

    @property
    def editor(self):
        """The :class:`~anndesigner.ui.editor.Editor` of this document: every edit goes through it."""
        if self._editor is None:
            from .editor import Editor  # editor -> commands -> document

            self._editor = Editor(self)
        return self._editor

    @property
    def modified(self) -> bool:
        return not self.undo_stack.isClean()

    def display_name(self) -> str:
        return self._path.name if self._path else "Untitled"

    @classmethod
    def open(cls, path: str | Path, parent: QObject | None = None) -> "Document":
        """Load a file (raises FileFormatError; nothing changes on failure)."""
        from ..io import load_network

        with warnings.catch_warnings(record=True) as dropped:
            # what a file loses on opening (a damaged tour or optimizer state) is said, not only logged
            warnings.simplefilter("always", UserWarning)
            net = load_network(path)
        doc = cls(net, path, parent)
        doc.load_warnings = [str(w.message) for w in dropped if issubclass(w.category, UserWarning)]
        return doc

    def save(self, path: str | Path | None = None) -> Path:
        from ..io import save_network

        target = Path(os.path.abspath(path)) if path else self._path
        if target is None:
            raise ValueError("no file name")
        save_network(self.network, target)
        self.undo_stack.setClean()
        self.set_path(target)
        return target

    def push(self, command) -> None:
        self.undo_stack.push(command)

    # ------------------------------------------------------------ training lock
    @property
    def lock_reason(self) -> str:
        """Why structural edits are refused right now ("" when they are not)."""
        return self._lock_reason

    @property
    def locked(self) -> bool:
        return bool(self._lock_reason)

    def set_lock(self, reason: str) -> None:
        if reason != self._lock_reason:
            self._lock_reason = reason
            self.lockChanged.emit(reason)

    # ------------------------------------------------------------------- data
    def dataset(self):
        """The data set named by the network (cached), or None when it names none.

        Raises :class:`~anndesigner.errors.DataError` when it cannot be loaded."""
        import json

        from ..data import load_source

        src = self.network.data_source
        if not src:
            return None
        base = self._path.parent if self._path else None
        key = (json.dumps(src, sort_keys=True, default=str), str(base))
        if key != self._dataset_key:
            self._dataset = load_source(src, base_dir=base)
            self._dataset_key = key
        return self._dataset
