"""The node-graph canvas: a scene mirroring the document's graph (its gestures
edit through ``document.editor``), its items, the view, the mouse gestures, the
node thumbnails (``thumbnails.py``) and the image export (``export.py``).

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
