"""The node-graph canvas: a scene mirroring the document's graph, its items,
the view, and the mouse gestures.

>>> scene = GraphScene(document)
>>> view = CanvasView(scene)
"""

from __future__ import annotations

import ctypes
import sys


def _shield_singletons() -> list[str]:
    """Work around a reference-count bug of PySide6 6.12 (abi3 wheels) on Python 3.11.

    There, every call of a C++ method returning ``void`` hands back ``None``
    without a new reference, and every ``Signal.emit()`` does the same with
    ``True``: each call lowers that singleton's reference count by one. Python
    3.12+ does not mind (the singletons are immortal there); on 3.11 the count
    reaches zero after some thousands of calls (a few frames of painting, a
    few hundred edits) and the interpreter aborts with "deallocating None" or
    "deallocating True or False". When the bug is detected, give the
    singletons a reference count no program can use up, as 3.12 does.
    Returns the names of the shielded singletons. (This belongs where Qt is
    first imported; it lives here because the canvas makes the most such calls.)
    """
    if sys.version_info >= (3, 12):
        return []
    from PySide6.QtCore import QObject, QPointF, Signal

    class _Probe(QObject):
        ping = Signal()

    shielded = []
    point, probe = QPointF(), _Probe()
    for name, obj, call in (("None", None, lambda: point.setX(1.0)), ("True", True, probe.ping.emit)):
        before = sys.getrefcount(obj)
        for _ in range(64):
            call()
        if sys.getrefcount(obj) < before - 32:
            targets = (None,) if obj is None else (True, False)
            for o in targets:
                if not getattr(sys, f"_anndesigner_shield_{o}", False):
                    ctypes.c_ssize_t.from_address(id(o)).value += 1 << 60
                    setattr(sys, f"_anndesigner_shield_{o}", True)
            shielded.append(name)
    return shielded


SHIELDED = _shield_singletons()

from .interactions import Interaction, MoveNodesGesture, NewWireGesture, NodeDropHandler, PanGesture  # noqa: E402
from .items import BlockItem, EdgeItem, NeuronItem, NodeItem  # noqa: E402
from .scene import GraphScene  # noqa: E402
from .view import CanvasView  # noqa: E402

__all__ = [
    "BlockItem", "CanvasView", "EdgeItem", "GraphScene", "Interaction", "MoveNodesGesture", "NeuronItem",
    "NewWireGesture", "NodeDropHandler", "NodeItem", "PanGesture",
]
