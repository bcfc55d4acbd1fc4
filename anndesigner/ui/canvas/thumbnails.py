"""Node thumbnails: each node's output over the input plane, in its tooltip.

:class:`NodeThumbnails` gives the scene a thumbnail provider for a network of
exactly two inputs (a :class:`~anndesigner.ui.training.surface.SurfaceEvaluator`
on a copy of the network, and :func:`~anndesigner.ui.training.surface.node_thumbnail`
over the decision surface's bounds). It follows the document by itself (new
weights, a new data set, a structural edit) and, while a training session runs,
takes each snapshot's weights. For a network that does not take two inputs it
neither compiles nor copies anything: the graph's Input nodes say so first.

It also draws the output maps on the nodes themselves (like TensorFlow Playground):
one forward pass of the copy over a :data:`MAP_GRID` × :data:`MAP_GRID` grid gives
every node's output; each unit of a node of at most :data:`MAX_MAP_UNITS` units gets
a small image (:func:`output_maps`), coloured like ``node_thumbnail`` — blue positive,
orange-red negative, white zero — with ONE scale per node (its largest magnitude over
all its units), so a layer's tiles compare. A node with more units shows none. While a
run trains, the maps follow its snapshots at most every ``MAPS_INTERVAL`` seconds.
"""

from __future__ import annotations

import math
from typing import Callable

import numpy as np
from PySide6.QtCore import QObject, QTimer, Slot
from PySide6.QtGui import QImage

from ...graph.events import Connections
from ..throttle import MAPS_INTERVAL, Throttle, ms
from ..training.surface import SurfaceEvaluator, node_thumbnail, signed_images
from .scene import GraphScene

#: the thumbnails' size in pixels
THUMB_SIZE = 72

#: the output maps' grid: MAP_GRID² points, one forward pass per refresh
MAP_GRID = 20
#: nodes of more units than this show no maps
MAX_MAP_UNITS = 64

Bounds = tuple[float, float, float, float]


def output_maps(outputs: dict[str, np.ndarray], n: int = MAP_GRID,
                max_units: int = MAX_MAP_UNITS) -> dict[str, list[QImage]]:
    """Per node of ``outputs`` (each node's output on the n×n grid's points, in the row
    order of ``SurfaceEvaluator.grid``), one n×n QImage per unit; nodes of more than
    ``max_units`` units (or not flat) are left out. Colours as ``node_thumbnail``; the
    scale is shared by a node's units (its largest finite magnitude)."""
    maps: dict[str, list[QImage]] = {}
    for nid, out in outputs.items():
        a = np.asarray(out)
        if a.ndim < 1 or a.shape[0] != n * n:
            continue
        v = a.reshape(n * n, -1)
        k = v.shape[1]
        if k == 0 or k > max_units:
            continue
        maps[nid] = signed_images(v.T.reshape(k, n, n))
    return maps


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
        #: whether the nodes show their output maps (the View menu's toggle)
        self.maps_enabled = True
        #: how many times the maps were computed (one forward pass each)
        self.map_refreshes = 0
        self._shown: set[str] = set()
        self._throttle = Throttle(MAPS_INTERVAL)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self.refresh_maps)
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
        self._timer.stop()
        self.evaluator = None
        self._clear_maps()

    # ------------------------------------------------------------ output maps
    def set_maps_enabled(self, on: bool) -> None:
        """Show (and keep up to date) or remove the output maps on the nodes."""
        self.maps_enabled = bool(on)
        if on:
            self.refresh_maps()
        else:
            self._timer.stop()
            self._clear_maps()

    def _clear_maps(self) -> None:
        for nid in self._shown:
            item = self.scene.node_item(nid)
            if item is not None:
                item.set_output_maps(None)
        self._shown = set()

    @Slot()
    def refresh_maps(self) -> None:
        """One forward pass over the grid; every node's maps to its item."""
        self._timer.stop()
        ev = self.evaluator
        if ev is None or not self.maps_enabled:
            self._clear_maps()
            return
        self._throttle.mark()
        _, _, pts = ev.grid(self._bounds(), MAP_GRID)
        try:
            maps = output_maps(ev.outputs(pts), MAP_GRID)
        except Exception:  # an unevaluable copy: no maps rather than a broken canvas
            maps = {}
        self.map_refreshes += 1
        shown = set()
        for item in self.scene.node_items():
            images = maps.get(item.node_id)
            if images is None:
                if item.output_maps is not None:
                    item.set_output_maps(None)
                continue
            item.set_output_maps(images)
            shown.add(item.node_id)
        self._shown = shown

    def _maps_later(self) -> None:
        """Refresh the maps now if the last refresh is ``MAPS_INTERVAL`` old, else once it is."""
        if not self.maps_enabled or self.evaluator is None:
            return
        if self._throttle.ready():
            self.refresh_maps()
        elif not self._timer.isActive():
            self._timer.start(ms(self._throttle.wait()))

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
            self._timer.stop()
            self._clear_maps()
            return
        self.evaluator = ev
        bounds = self._bounds()
        nodes = net.graph.nodes

        def provider(node_id: str):
            if node_id not in nodes or ev is not self.evaluator:
                return None
            return node_thumbnail(ev, node_id, bounds, THUMB_SIZE)

        self.scene.set_thumbnail_provider(provider)
        if self.maps_enabled:
            self.refresh_maps()

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
            self._maps_later()
        self._showing_snapshot = True

    @Slot(object)
    def _training_finished(self, _result=None) -> None:
        if self._showing_snapshot:  # the run pushed no result (whose weightsChanged did this)
            self.refresh()
