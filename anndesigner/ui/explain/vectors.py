"""A picture of the vector a frame is about, beside its numbers.

The text of a frame summarizes a large layer ("[0, 0.3, …] (8×8×16: min …)");
this view shows every value at once, coloured by sign and size as the weights
are (blue positive, orange-red negative, white zero, one scale for the whole
array):

- a vector (a Dense layer's units): a strip of cells, wrapped at 32 per row;
- an image with channels (H, W, C): one tile per channel, as feature maps;
- a sequence (T, D): a heat map, one row per time step.

Hovering a cell shows its index and value; clicking it emits ``cellClicked``
with the index into the array (without the batch axis).
"""

from __future__ import annotations

import math

import numpy as np
from PySide6.QtCore import QPoint, QRect, QSize, Qt, Signal
from PySide6.QtGui import QColor, QImage, QPainter
from PySide6.QtWidgets import QSizePolicy, QToolTip, QWidget

from ..training.surface import signed_images
from .stages import num


def _images(grids: np.ndarray) -> list[QImage]:
    """(k, h, w) -> k images with row 0 at the top (signed_images puts it at the bottom)."""
    return signed_images(np.asarray(grids)[:, ::-1, :])

#: a vector's cells per row
STRIP = 32
GAP = 4  # pixels between tiles
CAPTION = 16  # pixels for a tile's caption


def layout_of(shape: tuple[int, ...]) -> str | None:
    """How an array of ``shape`` (without the batch axis) is drawn, or None."""
    if len(shape) == 1:
        return "strip"
    if len(shape) == 2:
        return "sequence"
    if len(shape) == 3:
        return "tiles"
    return None


class VectorView(QWidget):
    #: the index (a tuple into the array) of a clicked cell
    cellClicked = Signal(tuple)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("explainVectors")
        self.setMouseTracking(True)
        self.setMinimumHeight(60)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        self.values: np.ndarray | None = None
        self.kind: str | None = None
        self.caption = ""
        self._images: list[QImage] = []
        self._grid: tuple[int, int] = (0, 0)  # rows, columns of tiles

    # ------------------------------------------------------------ data
    def set_array(self, values, caption: str = "") -> bool:
        """Show ``values`` (a sample's array, batch axis of 1 allowed); False (and
        nothing shown) for what this view cannot draw."""
        a = None if values is None else np.asarray(values, np.float64)
        if a is not None and a.ndim >= 2 and a.shape[0] == 1:
            a = a[0]
        kind = layout_of(a.shape) if a is not None and a.size else None
        self.values, self.kind, self.caption = (a, kind, caption) if kind else (None, None, "")
        self._images = []
        if kind == "strip":
            n = a.shape[0]
            cols = min(STRIP, n)
            rows = math.ceil(n / cols)
            grid = np.full(rows * cols, np.nan)
            grid[:n] = a
            self._images = _images(grid.reshape(1, rows, cols))
            self._grid = (1, 1)
        elif kind == "sequence":
            self._images = _images(a.reshape(1, *a.shape))
            self._grid = (1, 1)
        elif kind == "tiles":
            chans = np.moveaxis(a, -1, 0)  # (C, H, W): the engine keeps channels last
            self._images = _images(chans)
            c = len(self._images)
            cols = max(1, math.ceil(math.sqrt(c * 1.5)))
            self._grid = (math.ceil(c / cols), cols)
        # a strip or a sequence needs no more height than its cells at their largest
        tall = {"strip": 24, "sequence": 24}.get(kind)
        self.setMaximumHeight(CAPTION + 4 + tall * self._images[0].height() if tall else 16777215)
        self.setVisible(kind is not None)
        self.updateGeometry()
        self.update()
        return kind is not None

    def clear(self) -> None:
        self.set_array(None)

    # ------------------------------------------------------------ geometry
    def _cell_size(self, rows: int, cols: int) -> int:
        img = self._images[0]
        label = CAPTION if self.kind == "tiles" else 0
        w = max(1, self.width() - 2)
        h = max(1, self.height() - CAPTION - 2)
        cw = (w - GAP * (cols - 1)) / (cols * img.width())
        ch = (h - GAP * (rows - 1) - label * rows) / (rows * img.height())
        return max(1, int(min(cw, ch, 24)))

    def _tile_rects(self) -> list[QRect]:
        """Where each image is drawn (nearest-neighbour scaled, square cells); tiles
        in the number of columns that makes them largest in the widget's size."""
        if not self._images:
            return []
        rows, cols = self._grid
        if self.kind == "tiles":
            n = len(self._images)
            cols = max(range(1, n + 1), key=lambda c: (self._cell_size(math.ceil(n / c), c), -c))
            rows = math.ceil(n / cols)
        cell = self._cell_size(rows, cols)
        img = self._images[0]
        tw, th = cell * img.width(), cell * img.height()
        label = CAPTION if self.kind == "tiles" else 0
        rects = []
        for i in range(len(self._images)):
            r, c = divmod(i, cols)
            rects.append(QRect(1 + c * (tw + GAP), CAPTION + r * (th + GAP + label) + label, tw, th))
        return rects

    def cell_at(self, pos: QPoint) -> tuple | None:
        """The array index under ``pos`` (widget coordinates), or None."""
        for t, rect in enumerate(self._tile_rects()):
            if not rect.contains(pos):
                continue
            img = self._images[t]
            cx = (pos.x() - rect.x()) * img.width() // rect.width()
            cy = (pos.y() - rect.y()) * img.height() // rect.height()
            if self.kind == "tiles":
                return (int(cy), int(cx), t)
            if self.kind == "sequence":
                return (int(cy), int(cx))
            i = int(cy) * img.width() + int(cx)
            return (i,) if i < self.values.shape[0] else None
        return None

    def cell_rect(self, index: tuple) -> QRect | None:
        """The on-screen rectangle of one value (the inverse of :meth:`cell_at`)."""
        rects = self._tile_rects()
        if not rects:
            return None
        if self.kind == "tiles":
            r, c, t = index
        elif self.kind == "sequence":
            (r, c), t = index, 0
        else:
            r, c = divmod(index[0], self._images[0].width())
            t = 0
        rect, img = rects[t], self._images[t]
        sx, sy = rect.width() // img.width(), rect.height() // img.height()
        return QRect(rect.x() + c * sx, rect.y() + r * sy, sx, sy)

    def sizeHint(self) -> QSize:
        if not self._images:
            return QSize(200, 60)
        rows, cols = self._grid
        img = self._images[0]
        cell = 10 if self.kind != "tiles" else 6
        label = CAPTION if self.kind == "tiles" else 0
        return QSize(cols * (img.width() * cell + GAP),
                     CAPTION + rows * (img.height() * cell + GAP + label))

    # ------------------------------------------------------------ painting
    def paintEvent(self, _e) -> None:
        p = QPainter(self)
        p.fillRect(self.rect(), QColor("white"))
        p.setPen(QColor("#37474F"))
        p.drawText(QRect(2, 0, self.width() - 4, CAPTION), Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                   self.caption)
        p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, False)
        for t, (img, rect) in enumerate(zip(self._images, self._tile_rects())):
            p.drawImage(rect, img)
            p.setPen(QColor("#B0BEC5"))
            p.drawRect(rect.adjusted(0, 0, -1, -1))
            if self.kind == "tiles":
                p.setPen(QColor("#546E7A"))
                p.drawText(QRect(rect.x(), rect.y() - CAPTION, rect.width(), CAPTION),
                           Qt.AlignmentFlag.AlignCenter, f"ch {t}" if rect.width() >= 40 else str(t))
        p.end()

    # ------------------------------------------------------------ mouse
    def _describe(self, index: tuple) -> str:
        v = self.values[index]
        where = {"strip": lambda i: f"unit {i[0]}", "sequence": lambda i: f"step {i[0]}, feature {i[1]}",
                 "tiles": lambda i: f"channel {i[2]}, row {i[0]}, column {i[1]}"}[self.kind](index)
        return f"{where}: {num(v)}"

    def mouseMoveEvent(self, e) -> None:
        index = self.cell_at(e.position().toPoint())
        if index is not None:
            QToolTip.showText(e.globalPosition().toPoint(), self._describe(index), self)
        else:
            QToolTip.hideText()
        super().mouseMoveEvent(e)

    def mousePressEvent(self, e) -> None:
        if e.button() == Qt.MouseButton.LeftButton:
            index = self.cell_at(e.position().toPoint())
            if index is not None:
                self.cellClicked.emit(index)
                e.accept()
                return
        super().mousePressEvent(e)
