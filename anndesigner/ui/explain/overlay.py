"""Lights the nodes explain mode is at: an orange ring around each, drawn over
the canvas by items of its own (the scene's items are not changed, and the
rings take no mouse events, so editing gestures go on as before)."""

from __future__ import annotations

import shiboken6
from PySide6.QtCore import QObject, Qt, Slot
from PySide6.QtGui import QColor, QPainterPath, QPen
from PySide6.QtWidgets import QGraphicsPathItem

RING = QColor("#E65100")
MARGIN = 6.0


class ExplainHighlight(QObject):
    def __init__(self, scene, parent: QObject | None = None):
        super().__init__(parent)
        self.scene = scene
        self.rings: dict[str, QGraphicsPathItem] = {}

    def set_scene(self, scene) -> None:
        self.clear()
        self.scene = scene

    def clear(self) -> None:
        for ring in self.rings.values():
            if shiboken6.isValid(ring) and ring.scene() is not None:  # at exit the scene may be gone
                ring.scene().removeItem(ring)
        self.rings = {}

    @Slot(list)
    def show_nodes(self, node_ids: list) -> None:
        self.clear()
        for nid in node_ids:
            item = self.scene.node_item(nid) if self.scene is not None else None
            if item is None:
                continue
            r = item.sceneBoundingRect().adjusted(-MARGIN, -MARGIN, MARGIN, MARGIN)
            path = QPainterPath()
            path.addRoundedRect(r, 10, 10)
            ring = QGraphicsPathItem(path)
            pen = QPen(RING, 3.0)
            pen.setCosmetic(True)
            ring.setPen(pen)
            ring.setBrush(Qt.BrushStyle.NoBrush)
            ring.setZValue(1e6)
            ring.setAcceptedMouseButtons(Qt.MouseButton.NoButton)
            ring.setAcceptHoverEvents(False)
            ring.setData(0, "explain-ring")
            self.scene.addItem(ring)
            self.rings[nid] = ring
        if node_ids and node_ids[0] in self.rings:  # scroll only when the ring is out of sight
            item = self.scene.node_item(node_ids[0])
            rect = item.sceneBoundingRect()
            for v in self.scene.views():
                if not v.mapToScene(v.viewport().rect()).boundingRect().contains(rect):
                    v.ensureVisible(rect, 20, 20)
