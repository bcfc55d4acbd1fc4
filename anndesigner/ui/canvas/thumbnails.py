"""Node thumbnails: each node's output over the input plane, in its tooltip.

:class:`NodeThumbnails` gives the scene a thumbnail provider for a network of
exactly two inputs (a :class:`~anndesigner.ui.training.surface.SurfaceEvaluator`
on a copy of the network, and :func:`~anndesigner.ui.training.surface.node_thumbnail`
over the decision surface's bounds). It follows the document by itself (new
weights, a new data set, a structural edit) and, while a training session runs,
takes each snapshot's weights. For a network that does not take two inputs it
neither compiles nor copies anything: the graph's Input nodes say so first.
"""

from __future__ import annotations

import math
from typing import Callable

from PySide6.QtCore import QObject, Slot

from ...graph.events import Connections
from ..training.surface import SurfaceEvaluator, node_thumbnail
from .scene import GraphScene

#: the thumbnails' size in pixels
THUMB_SIZE = 72

Bounds = tuple[float, float, float, float]


def takes_two_inputs(graph) -> bool:
    """True when the graph's Inputs are flat and hold two values in all (the input plane
    a thumbnail is drawn over); decided from the graph, without compiling it."""
    inputs = [n for n in graph.nodes.values() if graph.node_type(n.id).role == "input"]
    shapes = [n.params.get("shape") or () for n in inputs]
    return bool(inputs) and all(len(s) == 1 for s in shapes) and sum(math.prod(s) for s in shapes) == 2


class NodeThumbnails(QObject):
    """Keeps ``scene``'s thumbnail provider in step with its document; ``bounds()`` is the
    plane the thumbnails cover (the decision surface's data range)."""

    def __init__(self, scene: GraphScene, bounds: Callable[[], Bounds], training=None, parent: QObject | None = None):
        super().__init__(parent if parent is not None else scene)
        self.scene = scene
        self.document = scene.document
        self._bounds = bounds
        self._training = None
        self._training_links = Connections()
        #: the copy of the network the thumbnails evaluate (None: no thumbnails)
        self.evaluator: SurfaceEvaluator | None = None
        self._showing_snapshot = False
        self._seen_revision = self.document.graph.revision
        doc = self.document
        self._links = Connections()
        self._links.connect_many([(doc.weightsChanged, self._weights_changed), (doc.dataChanged, self._data_changed),
                                  (doc.undo_stack.indexChanged, self._after_edit)])
        self.set_training(training)
        self.refresh()

    def detach(self) -> None:
        """Stop following the document and the session (the document is replaced)."""
        self._links.disconnect_all()
        self.set_training(None)
        self.evaluator = None

    def set_training(self, controller) -> None:
        """Take the snapshots' weights of ``controller`` (a TrainingController) while it trains."""
        self._training_links.disconnect_all()
        self._training = controller
        if controller is not None:
            self._training_links.connect_many([(controller.snapshotReady, self._show_snapshot),
                                               (controller.finished, self._training_finished)])

    def _training_active(self) -> bool:
        return self._training is not None and self._training.is_active()

    def refresh(self) -> None:
        """Evaluate a fresh copy of the document's network (not while a run trains: its
        snapshots drive the thumbnails then)."""
        if self._training_active():
            return
        self._showing_snapshot = False
        net = self.document.network
        ev = SurfaceEvaluator(net) if takes_two_inputs(net.graph) else None
        if ev is None or not ev.is_2d:
            self.evaluator = None
            self.scene.set_thumbnail_provider(None)
            return
        self.evaluator = ev
        bounds = self._bounds()
        nodes = net.graph.nodes

        def provider(node_id: str):
            if node_id not in nodes or ev is not self.evaluator:
                return None
            return node_thumbnail(ev, node_id, bounds, THUMB_SIZE)

        self.scene.set_thumbnail_provider(provider)

    @Slot()
    def _weights_changed(self) -> None:
        self.refresh()

    @Slot()
    def _data_changed(self) -> None:
        """A new data set: the plane's bounds change."""
        self.refresh()

    @Slot(int)
    def _after_edit(self, *_) -> None:
        """After a structural edit the thumbnails evaluate the new graph."""
        g = self.document.graph
        if g.revision == self._seen_revision or self._training_active():
            return
        self._seen_revision = g.revision
        self.refresh()

    @Slot(object)
    def _show_snapshot(self, snap) -> None:
        if self.evaluator is not None:
            self.evaluator.set_weights(snap.weights)
        self._showing_snapshot = True

    @Slot(object)
    def _training_finished(self, _result=None) -> None:
        if self._showing_snapshot:  # the run pushed no result (whose weightsChanged did this)
            self.refresh()
