"""The canvas as a picture: the whole drawing (not only the visible part) as PNG or SVG."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QImage, QPainter
from PySide6.QtWidgets import QGraphicsItem, QGraphicsScene

#: room around the drawing, in scene units
MARGIN = 20


def export_scene(scene: QGraphicsScene, path: str | Path, title: str = "") -> None:
    """Write every item of ``scene`` to ``path``: SVG (text and shapes stay vectors; ``title``
    names the drawing) for a ``.svg`` name, else a PNG at twice the scene's scale on white.
    The selection is not drawn. Raises OSError when the file cannot be written."""
    path = Path(path)
    rect = scene.itemsBoundingRect().adjusted(-MARGIN, -MARGIN, MARGIN, MARGIN)
    if rect.isEmpty():
        rect = QRectF(0, 0, 200, 100)
    selected = scene.selectedItems()
    scene.clearSelection()
    # draw items directly (not from their pixmap caches) so that SVG keeps text and shapes as vectors
    caches = [(it, it.cacheMode()) for it in scene.items()]
    for it, _ in caches:
        it.setCacheMode(QGraphicsItem.CacheMode.NoCache)
    try:
        if path.suffix.lower() == ".svg":
            from PySide6.QtSvg import QSvgGenerator

            gen = QSvgGenerator()
            gen.setFileName(str(path))
            gen.setSize(rect.size().toSize())
            gen.setViewBox(QRectF(0, 0, rect.width(), rect.height()))
            gen.setTitle(title)
            p = QPainter(gen)
            scene.render(p, QRectF(0, 0, rect.width(), rect.height()), rect)
            p.end()
        else:
            img = QImage((rect.size() * 2).toSize(), QImage.Format.Format_ARGB32)
            img.fill(Qt.GlobalColor.white)
            p = QPainter(img)
            p.setRenderHint(QPainter.RenderHint.Antialiasing)
            scene.render(p, QRectF(img.rect()), rect)
            p.end()
            if not img.save(str(path)):
                raise OSError("the image could not be written")
    finally:
        for it, mode in caches:
            it.setCacheMode(mode)
        for it in selected:
            it.setSelected(True)
