"""The node-graph canvas: a scene mirroring the document's graph, its items,
the view, and the mouse gestures.

>>> scene = GraphScene(document)
>>> view = CanvasView(scene)
"""

from __future__ import annotations

from .interactions import Interaction, MoveNodesGesture, NewWireGesture, NodeDropHandler, PanGesture
from .items import BlockItem, EdgeItem, NeuronItem, NodeItem
from .scene import GraphScene
from .view import CanvasView

__all__ = [
    "BlockItem", "CanvasView", "EdgeItem", "GraphScene", "Interaction", "MoveNodesGesture", "NeuronItem",
    "NewWireGesture", "NodeDropHandler", "NodeItem", "PanGesture",
]
