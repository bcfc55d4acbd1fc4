"""Graphics items of the canvas: node blocks, neuron circles, wires.

Items never own the truth: they show what the graph model says, and the scene
(:mod:`.scene`) updates them from the model's events. A node item's position
is the model node's ``position``, which is the **centre** of the drawn node.

Painting is cached per item (``DeviceCoordinateCache``); text is measured when
it changes, never per frame; wires keep their Bézier path and recompute it
only when one of their ends moves.
"""

from __future__ import annotations

import math
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import numpy as np

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import (
    QBrush,
    QColor,
    QFont,
    QFontMetricsF,
    QPainter,
    QPainterPath,
    QPainterPathStroker,
    QPen,
)
from PySide6.QtWidgets import QGraphicsItem, QGraphicsPathItem, QStyleOptionGraphicsItem

from ...engine import activation_curve
from ...graph import fmt_shape
from .. import style

if TYPE_CHECKING:  # pragma: no cover
    from ...graph import Edge, Node, NodeType

#: grid of the background and of snapping, in scene pixels
GRID = 20.0
BLOCK_W = 170.0
NEURON_D = 44.0
PORT_R = 5.0
#: how far from a port's centre a press or a drop still counts as "on the port"
PORT_HIT = 11.0
CORNER = 9.0
#: margin around the body covering shadow, selection ring, ports and the error badge
MARGIN = 12.0

WIRE_WIDTH = 2.0
WIRE_MAX_WIDTH = 6.0
WIRE_MARGIN = WIRE_MAX_WIDTH + 4.0

SHADOW = QColor(30, 50, 70, 22)
SHADOW_NEAR = QColor(30, 50, 70, 34)
CARD_BG = QColor("#FFFFFF")
ACCEPT_COLOR = QColor("#43A047")
#: below this level of detail (screen px per scene px) nodes are drawn as plain shapes
LOD_SIMPLE = 0.4

#: the outline of a unit's map tile on a card
_TILE_PEN = QPen(QColor(0, 0, 0, 60), 0.8)

# enum members looked up once (attribute access on Qt enums is slow in paint code)
_SOLID = Qt.PenStyle.SolidLine
_ROUND_CAP = Qt.PenCapStyle.RoundCap
_NO_BRUSH = Qt.BrushStyle.NoBrush
_DEVICE_CACHE = QGraphicsItem.CacheMode.DeviceCoordinateCache
_NO_CACHE = QGraphicsItem.CacheMode.NoCache


# -------------------------------------------------------------------- fonts
class _Fonts:
    def __init__(self) -> None:
        base = QFont()
        self.title = QFont(base)
        self.title.setPointSizeF(10.5)
        self.title.setWeight(QFont.Weight.DemiBold)
        self.body = QFont(base)
        self.body.setPointSizeF(10.0)
        self.small = QFont(base)
        self.small.setPointSizeF(8.5)
        self.shape = QFont(base)
        self.shape.setPointSizeF(10.0)
        self.shape.setWeight(QFont.Weight.DemiBold)
        self.badge = QFont(base)
        self.badge.setPointSizeF(8.0)
        self.badge.setWeight(QFont.Weight.Bold)
        self.fm_title = QFontMetricsF(self.title)
        self.fm_body = QFontMetricsF(self.body)
        self.fm_small = QFontMetricsF(self.small)
        self.fm_shape = QFontMetricsF(self.shape)


_FONTS: _Fonts | None = None


def fonts() -> _Fonts:
    """Fonts and metrics of the canvas (built once, after the QApplication)."""
    global _FONTS
    if _FONTS is None:
        _FONTS = _Fonts()
    return _FONTS


def _elide(fm: QFontMetricsF, text: str, width: float) -> str:
    if fm.horizontalAdvance(text) <= width:
        return text
    return fm.elidedText(text, Qt.TextElideMode.ElideRight, width)


def snap(value: float, grid: float = GRID) -> float:
    return round(value / grid) * grid


# ----------------------------------------------------------- node texts
def _params_text(n: int) -> str:
    return "1 param" if n == 1 else f"{n:,} params".replace(",", " ")


def _short_count(n: int) -> str:
    """'950', '1.1k', '38k', '2.4M' (a node's parameter count where room is short)."""
    if n < 1000:
        return str(n)
    if n < 10_000:
        return f"{n / 1000:.1f}k"
    if n < 1_000_000:
        return f"{n // 1000}k"
    return f"{n / 1e6:.1f}M"


# ------------------------------------------------------ activation glyphs
#: where a glyph samples its activation: x in [-3, 3]
GLYPH_X = np.array([-3.0 + 6.0 * i / 40 for i in range(41)])


@lru_cache(maxsize=None)
def activation_glyph(name: str) -> QPainterPath:
    """A small plot of the engine's f(x) over x in [-3, 3], fitted in the rect
    (-1, -1, 2, 2); empty for a name the engine does not know."""
    path = QPainterPath()
    try:
        ys = activation_curve(name, GLYPH_X).tolist()
    except KeyError:
        return path
    lo, hi = min(ys), max(ys)
    span = (hi - lo) or 1.0
    for i, (x, y) in enumerate(zip(GLYPH_X.tolist(), ys)):
        px = x / 3.0
        py = 1.0 - 2.0 * (y - lo) / span
        if i and name in ("step", "sign") and ys[i] != ys[i - 1]:
            path.lineTo(px, path.currentPosition().y())  # a vertical jump
        if i == 0:
            path.moveTo(px, py)
        else:
            path.lineTo(px, py)
    return path


# ----------------------------------------------------------------- nodes
class NodeItem(QGraphicsItem):
    """Base of the drawn nodes. ``pos()`` is the model position (the centre)."""

    Type = QGraphicsItem.UserType + 101

    def __init__(self, node: "Node", node_type: "NodeType"):
        super().__init__()
        self.node_id = node.id
        self.type_id = node_type.type_id
        self.role = style.node_role(node_type)
        self.fill, self.accent = style.role_colors(self.role)
        self.has_input = bool(node_type.inputs)
        self.has_output = bool(node_type.outputs)
        #: whether the node owns weights (its status line then always counts them)
        self.weighted = False
        self.description = node_type.description
        self.type_title = node_type.title
        #: wires attached to this node (kept by the scene)
        self.edges: list[EdgeItem] = []
        self.title = ""
        self.details: list[str] = []
        self.shape_text = "?"
        self.param_count = 0
        self.errors: list[str] = []
        #: while a wire is being dragged: True (this input accepts), False (refuses), None
        self.port_hint: bool | None = None
        #: the connection target under the cursor while a wire is dragged
        self.drop_target = False
        self.hover_port: str | None = None
        self._hovered = False
        self.setPos(node.position[0], node.position[1])
        self.setFlags(QGraphicsItem.GraphicsItemFlag.ItemIsSelectable
                      | QGraphicsItem.GraphicsItemFlag.ItemSendsGeometryChanges)
        self.setAcceptHoverEvents(True)
        self.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        self.setZValue(1.0)
        self.set_node(node, node_type)

    # ------------------------------------------------------------ geometry
    def type(self) -> int:
        return self.Type

    def in_port_local(self) -> QPointF:
        raise NotImplementedError

    def out_port_local(self) -> QPointF:
        raise NotImplementedError

    def in_port_scene(self) -> QPointF:
        p = self.in_port_local()
        return QPointF(self.x() + p.x(), self.y() + p.y())

    def out_port_scene(self) -> QPointF:
        p = self.out_port_local()
        return QPointF(self.x() + p.x(), self.y() + p.y())

    def port_at(self, scene_pos: QPointF, radius: float = PORT_HIT) -> str | None:
        """'out', 'in' or None: which port ``scene_pos`` is on."""
        lx, ly = scene_pos.x() - self.x(), scene_pos.y() - self.y()
        r2 = radius * radius
        if self.has_output:
            p = self.out_port_local()
            if (lx - p.x()) ** 2 + (ly - p.y()) ** 2 <= r2:
                return "out"
        if self.has_input:
            p = self.in_port_local()
            if (lx - p.x()) ** 2 + (ly - p.y()) ** 2 <= r2:
                return "in"
        return None

    def _port_shape(self, path: QPainterPath) -> QPainterPath:
        """The body ``path`` plus the port discs. Under the default odd-even rule the
        half of a disc that overlaps the body would cancel out (a press there hit
        nothing and started a rubber band); the winding rule keeps the union (the
        discs and the body run in the same direction)."""
        path.setFillRule(Qt.FillRule.WindingFill)
        if self.has_input:
            path.addEllipse(self.in_port_local(), PORT_HIT, PORT_HIT)
        if self.has_output:
            path.addEllipse(self.out_port_local(), PORT_HIT, PORT_HIT)
        return path

    # --------------------------------------------------------------- texts
    def set_node(self, node: "Node", node_type: "NodeType") -> None:
        """Take the label and parameters of the model node."""
        self.title = node.label or node_type.title
        self.details = node_type.describe(node.params)
        self.weighted = node_type.has_weights(node.params)
        self._layout_texts()
        self.update()

    def set_analysis(self, shape: Any, params: int, errors: list[str]) -> bool:
        """Show the output shape, parameter count and errors; True if anything changed."""
        shape_text = fmt_shape(shape)
        if shape_text == self.shape_text and params == self.param_count and errors == self.errors:
            return False
        had_errors = bool(self.errors)
        self.shape_text, self.param_count, self.errors = shape_text, params, errors
        self._layout_texts()
        if errors or had_errors or not self.toolTip():
            self.setToolTip(self.tooltip_text())
        self.update()
        return True

    def tooltip_text(self) -> str:
        if self.errors:
            return "\n".join(self.errors)
        lines = [f"{self.type_title} '{self.node_id}'", self.description]
        return "\n".join(lines)

    def status_text(self) -> str:
        parts = [f"{self.node_id} ({self.type_title})"] + self.details + [f"→ {self.shape_text}"]
        if self.weighted or self.param_count:
            parts.append(_params_text(self.param_count))
        if self.errors:
            parts.append(self.errors[0])
        return " · ".join(parts)

    def _layout_texts(self) -> None:
        """Measure and elide texts (called when they change, not when painting)."""

    #: the node's output maps over the input plane, one image per unit (None: not shown)
    output_maps: "list[QImage] | None" = None

    def set_output_maps(self, images: "list[QImage] | None") -> None:
        """Show ``images`` (one small map per unit of the node's output over the input
        plane) on the node, or none; the card grows only while maps are shown."""
        images = list(images) if images else None
        had = self.output_maps is not None
        self.output_maps = images
        if had or images:  # the card's height and the tiles' places follow the maps
            self._layout_texts()
        self.update()

    def caption_lines(self) -> list[str]:
        """The texts the node shows, unelided: title, id, details, "→ shape", "N params"."""
        lines = [self.title, self.node_id] + list(self.details) + [f"→ {self.shape_text}"]
        if self.param_count:
            lines.append(_params_text(self.param_count))
        return lines

    # -------------------------------------------------------- interaction
    def set_port_hint(self, hint: bool | None) -> None:
        if hint != self.port_hint:
            self.port_hint = hint
            self.update()

    def set_drop_target(self, on: bool) -> None:
        if on != self.drop_target:
            self.drop_target = on
            self.update()

    def itemChange(self, change: QGraphicsItem.GraphicsItemChange, value: Any) -> Any:
        if change == QGraphicsItem.GraphicsItemChange.ItemPositionHasChanged:
            for e in self.edges:
                e.adjust()
        return super().itemChange(change, value)

    def hoverEnterEvent(self, event) -> None:
        self._hovered = True
        self._set_hover_port(self.port_at(event.scenePos()))
        sc = self.scene()
        if sc is not None and hasattr(sc, "item_hovered"):
            sc.item_hovered(self)
        super().hoverEnterEvent(event)

    def hoverMoveEvent(self, event) -> None:
        self._set_hover_port(self.port_at(event.scenePos()))
        super().hoverMoveEvent(event)

    def hoverLeaveEvent(self, event) -> None:
        self._hovered = False
        self._set_hover_port(None)
        super().hoverLeaveEvent(event)

    def _set_hover_port(self, port: str | None) -> None:
        if port != self.hover_port:
            self.hover_port = port
            sc = self.scene()
            if port == "out" and not getattr(sc, "locked", False):  # no new wires while training
                self.setCursor(Qt.CursorShape.CrossCursor)
            else:
                self.unsetCursor()
            self.update()

    # ------------------------------------------------------------ painting
    def _border_pen(self) -> QPen:
        if self.isSelected():
            return QPen(style.WIRE_SELECTED, 2.0)
        if self.drop_target and self.port_hint:
            return QPen(ACCEPT_COLOR, 2.0)
        c = QColor(self.accent)
        c.setAlpha(150)
        return QPen(c, 1.0)

    def _paint_ports_and_badge(self, painter: QPainter) -> None:
        if self.has_input:
            self._paint_port(painter, self.in_port_local(), "in")
        if self.has_output:
            self._paint_port(painter, self.out_port_local(), "out")
        if self.errors:
            painter.setOpacity(1.0)
            self._paint_badge(painter, self.badge_center())

    def _paint_port(self, painter: QPainter, center: QPointF, kind: str) -> None:
        hint = self.port_hint if kind == "in" else None
        hovered = self.hover_port == kind
        if hint is True:
            halo = QColor(ACCEPT_COLOR)
            halo.setAlpha(60)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(halo)
            painter.drawEllipse(center, PORT_R + 5, PORT_R + 5)
            painter.setPen(QPen(ACCEPT_COLOR, 2.0))
            painter.setBrush(QColor("#FFFFFF"))
            painter.drawEllipse(center, PORT_R + 1, PORT_R + 1)
            return
        if hovered:
            halo = QColor(self.accent)
            halo.setAlpha(50)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(halo)
            painter.drawEllipse(center, PORT_R + 4, PORT_R + 4)
        painter.setPen(QPen(self.accent if hint is not False else style.MUTED_TEXT, 1.5))
        painter.setBrush(self.accent if kind == "out" else QColor("#FFFFFF"))
        painter.drawEllipse(center, PORT_R, PORT_R)

    def _paint_badge(self, painter: QPainter, center: QPointF) -> None:
        f = fonts()
        painter.setPen(QPen(QColor("#FFFFFF"), 1.5))
        painter.setBrush(style.ERROR_COLOR)
        painter.drawEllipse(center, 8.0, 8.0)
        painter.setPen(QColor("#FFFFFF"))
        painter.setFont(f.badge)
        painter.drawText(QRectF(center.x() - 8, center.y() - 8, 16, 16), Qt.AlignmentFlag.AlignCenter, "!")

    def badge_center(self) -> QPointF:
        raise NotImplementedError


class BlockItem(NodeItem):
    """A rounded block: title and id, detail lines, output shape and parameter count."""

    HEADER = 28.0
    LINE = 17.0
    FOOTER = 25.0
    PAD = 12.0

    _h = 0.0
    _body = QRectF()
    _bounds = QRectF()
    _tiles: list[QRectF] = []
    _el: dict[str, Any] = {}

    def _layout_texts(self) -> None:
        f = fonts()
        h = self.HEADER + self.LINE * len(self.details) + self.FOOTER + 4.0
        h += self._maps_height()
        if h != self._h:
            self.prepareGeometryChange()
            self._h = h
            self._body = QRectF(-BLOCK_W / 2, -h / 2, BLOCK_W, h)
            self._bounds = self._body.adjusted(-MARGIN, -MARGIN, MARGIN, MARGIN + 2)
        self._tiles = self.map_tile_rects()  # placed once here, not in every paint
        inner = BLOCK_W - 2 * self.PAD
        show_id = self.title != self.node_id
        # the title keeps its room first; the id shows in what is left, when that is at least 36 px
        title_w = min(f.fm_title.horizontalAdvance(self.title), inner)
        id_full = f.fm_small.horizontalAdvance(self.node_id) if show_id else 0.0
        id_w = min(id_full, inner - title_w - 8)
        show_id = show_id and id_w >= min(id_full, 36.0)
        # the output shape keeps its room first; the parameter count shortens ("1.1k") or hides
        shape_full = f.fm_shape.horizontalAdvance("→ " + self.shape_text)
        params = ""
        if self.param_count:
            for text in (_params_text(self.param_count), _short_count(self.param_count)):
                if shape_full + 8 + f.fm_small.horizontalAdvance(text) <= inner:
                    params = text
                    break
        par_w = f.fm_small.horizontalAdvance(params) if params else 0.0
        self._el = {
            "title": _elide(f.fm_title, self.title, title_w),
            "id": _elide(f.fm_small, self.node_id, id_w) if show_id else "",
            "details": [_elide(f.fm_body, d, inner) for d in self.details],
            "shape": _elide(f.fm_shape, "→ " + self.shape_text, inner - par_w - 8),
            "params": params,
        }

    #: a unit's map tile on a card, and the gap between tiles
    TILE = 16.0
    TILE_GAP = 2.0

    def _tiles_per_row(self) -> int:
        return max(1, int((BLOCK_W - 2 * self.PAD + self.TILE_GAP) // (self.TILE + self.TILE_GAP)))

    def _maps_height(self) -> float:
        n = len(self.output_maps) if self.output_maps else 0
        if not n:
            return 0.0
        rows = -(-n // self._tiles_per_row())
        return rows * (self.TILE + self.TILE_GAP) + 4.0

    def map_tile_rects(self) -> list[QRectF]:
        """Where each unit's map is drawn on the card (local coordinates), row by row."""
        n = len(self.output_maps) if self.output_maps else 0
        per = self._tiles_per_row()
        top = self._body.top() + self.HEADER + 3.0 + self.LINE * len(self.details) + 2.0
        x0 = self._body.left() + self.PAD
        return [QRectF(x0 + (i % per) * (self.TILE + self.TILE_GAP), top + (i // per) * (self.TILE + self.TILE_GAP),
                       self.TILE, self.TILE) for i in range(n)]

    def boundingRect(self) -> QRectF:
        return self._bounds

    def shape(self) -> QPainterPath:
        path = QPainterPath()
        path.addRoundedRect(self._body, CORNER, CORNER)
        return self._port_shape(path)

    def in_port_local(self) -> QPointF:
        return QPointF(-BLOCK_W / 2, 0.0)

    def out_port_local(self) -> QPointF:
        return QPointF(BLOCK_W / 2, 0.0)

    def badge_center(self) -> QPointF:
        return QPointF(BLOCK_W / 2 - 3, -self._h / 2 + 3)

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget=None) -> None:
        lod = option.levelOfDetailFromTransform(painter.worldTransform())
        body = self._body
        if self.port_hint is False:
            painter.setOpacity(0.4)
        if lod < LOD_SIMPLE:
            painter.setPen(self._border_pen() if self.isSelected() else Qt.PenStyle.NoPen)
            painter.setBrush(self.accent if self.errors == [] else style.ERROR_COLOR)
            painter.drawRect(body)
            return
        f = fonts()
        # soft shadow: two translucent layers, cheap and cached with the item
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(SHADOW)
        painter.drawRoundedRect(body.adjusted(-1, 1, 1, 4), CORNER + 1, CORNER + 1)
        painter.setBrush(SHADOW_NEAR)
        painter.drawRoundedRect(body.adjusted(0, 1, 0, 2), CORNER, CORNER)
        # card with a tinted header
        if self.isSelected():
            ring = QColor(style.WIRE_SELECTED)
            ring.setAlpha(45)
            painter.setBrush(ring)
            painter.drawRoundedRect(body.adjusted(-4, -4, 4, 4), CORNER + 4, CORNER + 4)
        card = QPainterPath()
        card.addRoundedRect(body, CORNER, CORNER)
        painter.setBrush(CARD_BG)
        painter.drawPath(card)
        header = QRectF(body.left(), body.top(), body.width(), self.HEADER)
        painter.save()
        painter.setClipPath(card)
        painter.fillRect(header, self.fill)
        painter.fillRect(QRectF(body.left(), body.top(), 4.0, body.height()), self.accent)
        painter.restore()
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.setPen(self._border_pen())
        painter.drawRoundedRect(body, CORNER, CORNER)
        # texts
        el = self._el
        x0 = body.left() + self.PAD
        w = body.width() - 2 * self.PAD
        painter.setPen(style.TEXT_COLOR)
        painter.setFont(f.title)
        painter.drawText(QRectF(x0, body.top(), w, self.HEADER),
                         Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, el["title"])
        if el["id"]:
            painter.setFont(f.small)
            painter.setPen(style.MUTED_TEXT)
            painter.drawText(QRectF(x0, body.top(), w, self.HEADER),
                             Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, el["id"])
        y = body.top() + self.HEADER + 3.0
        painter.setFont(f.body)
        painter.setPen(style.TEXT_COLOR)
        for line in el["details"]:
            painter.drawText(QRectF(x0, y, w, self.LINE), Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                             line)
            y += self.LINE
        if self.output_maps:
            painter.setPen(_TILE_PEN)
            painter.setBrush(Qt.BrushStyle.NoBrush)
            for img, r in zip(self.output_maps, self._tiles):
                painter.drawImage(r, img)
                painter.drawRect(r)
        foot = QRectF(x0, body.bottom() - self.FOOTER, w, self.FOOTER - 3)
        painter.setFont(f.shape)
        painter.setPen(style.ERROR_COLOR if self.errors else self.accent.darker(115))
        painter.drawText(foot, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, el["shape"])
        if el["params"]:
            painter.setFont(f.small)
            painter.setPen(style.MUTED_TEXT)
            painter.drawText(foot, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, el["params"])
        self._paint_ports_and_badge(painter)


class NeuronItem(NodeItem):
    """A single neuron: a circle with its activation's curve, its name below."""

    R = NEURON_D / 2
    CAPTION_W = 112.0

    _act = "sigmoid"
    _el: dict[str, str] = {}
    _bounds = QRectF(-CAPTION_W / 2, -R - MARGIN, CAPTION_W, 2 * R + MARGIN + 18.0)

    def set_node(self, node: "Node", node_type: "NodeType") -> None:
        self._act = node.params.get("activation", "linear")
        super().set_node(node, node_type)

    def _layout_texts(self) -> None:
        f = fonts()
        name = self.title if self.title != self.type_title else self.node_id
        self._el = {"name": _elide(f.fm_small, name, self.CAPTION_W - 4)}

    def boundingRect(self) -> QRectF:
        return self._bounds

    def shape(self) -> QPainterPath:
        path = QPainterPath()
        path.addEllipse(QPointF(0, 0), self.R + 1, self.R + 1)
        return self._port_shape(path)

    def in_port_local(self) -> QPointF:
        return QPointF(-self.R, 0.0)

    def out_port_local(self) -> QPointF:
        return QPointF(self.R, 0.0)

    def badge_center(self) -> QPointF:
        d = self.R * 0.72
        return QPointF(d, -d)

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget=None) -> None:
        lod = option.levelOfDetailFromTransform(painter.worldTransform())
        r = self.R
        if self.port_hint is False:
            painter.setOpacity(0.4)
        if lod < LOD_SIMPLE:
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(self.accent if not self.errors else style.ERROR_COLOR)
            painter.drawEllipse(QPointF(0, 0), r, r)
            return
        f = fonts()
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(SHADOW)
        painter.drawEllipse(QPointF(0, 2.0), r + 2, r + 2)
        if self.isSelected():
            ring = QColor(style.WIRE_SELECTED)
            ring.setAlpha(45)
            painter.setBrush(ring)
            painter.drawEllipse(QPointF(0, 0), r + 5, r + 5)
        painter.setBrush(self.fill)
        pen = self._border_pen()
        if not self.isSelected() and not self.drop_target:
            pen = QPen(self.accent, 1.5)
        painter.setPen(pen)
        painter.drawEllipse(QPointF(0, 0), r, r)
        glyph = activation_glyph(self._act)
        if self.output_maps:
            # the unit's output over the input plane fills the circle; the glyph is not drawn then
            clip = QPainterPath()
            clip.addEllipse(QPointF(0, 0), r - 1.5, r - 1.5)
            painter.save()
            painter.setClipPath(clip)
            painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, True)
            painter.drawImage(QRectF(-r, -r, 2 * r, 2 * r), self.output_maps[0])
            painter.restore()
            glyph = QPainterPath()
        if not glyph.isEmpty():
            painter.save()
            painter.translate(0, 0)
            painter.scale(r * 0.5, r * 0.38)
            gpen = QPen(self.accent.darker(120), 2.0)
            gpen.setCosmetic(True)
            gpen.setCapStyle(Qt.PenCapStyle.RoundCap)
            gpen.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
            painter.setPen(gpen)
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawPath(glyph)
            painter.restore()
        # the name below the circle: one small line, so neurons 60 px apart do not collide
        cap = QRectF(-self.CAPTION_W / 2, r + 2, self.CAPTION_W, 14)
        painter.setFont(f.small)
        painter.setPen(style.ERROR_COLOR if self.errors else style.TEXT_COLOR)
        painter.drawText(cap, Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignVCenter, self._el["name"])
        self._paint_ports_and_badge(painter)


def make_node_item(node: "Node", node_type: "NodeType") -> NodeItem:
    """The item the node's type asks to be drawn as (``NodeType.drawn_as``)."""
    if node_type.drawn_as == "neuron":
        return NeuronItem(node, node_type)
    return BlockItem(node, node_type)


# ----------------------------------------------------------------- wires
def wire_path(p1: QPointF, p2: QPointF) -> QPainterPath:
    """A cubic Bézier from an output port (p1) to an input port (p2), leaving
    and entering horizontally."""
    x1, y1, x2, y2 = p1.x(), p1.y(), p2.x(), p2.y()
    if x2 < x1 - BACK_WIRE_OUT and abs(y2 - y1) > 4 * BACK_WIRE_R:
        return _back_wire_path(x1, y1, x2, y2)
    dx = max(40.0, abs(x2 - x1) * 0.5, min(abs(y2 - y1) * 0.5, 120.0))
    path = QPainterPath(p1)
    path.cubicTo(QPointF(x1 + dx, y1), QPointF(x2 - dx, y2), p2)
    return path


BACK_WIRE_OUT = 28.0  # how far a wire going back leaves its port before it turns
BACK_WIRE_R = 14.0    # its corner radius


def _back_wire_path(x1: float, y1: float, x2: float, y2: float) -> QPainterPath:
    """A wire to a node further left (a wrapped layout's next band): out to the
    right, down (or up) to halfway, back left along the gap between the nodes,
    and in from the left, with rounded corners."""
    a, b = x1 + BACK_WIRE_OUT, x2 - BACK_WIRE_OUT
    r = BACK_WIRE_R
    s = 1.0 if y2 > y1 else -1.0
    mid = (y1 + y2) / 2
    path = QPainterPath(QPointF(x1, y1))
    path.lineTo(a - r, y1)
    path.quadTo(a, y1, a, y1 + s * r)
    path.lineTo(a, mid - s * r)
    path.quadTo(a, mid, a - r, mid)
    path.lineTo(b + r, mid)
    path.quadTo(b, mid, b, mid + s * r)
    path.lineTo(b, y2 - s * r)
    path.quadTo(b, y2, b + r, y2)
    path.lineTo(x2, y2)
    return path


class EdgeItem(QGraphicsItem):
    """A wire from ``src_item``'s output port to ``dst_item``'s input port.

    The path is kept in scene coordinates (the item stays at the origin) and
    recomputed by :meth:`adjust` only when an end moves.
    """

    Type = QGraphicsItem.UserType + 102

    def __init__(self, edge: "Edge", src_item: NodeItem, dst_item: NodeItem):
        super().__init__()
        self.edge_id = edge.id
        self.src_id = edge.src
        self.dst_id = edge.dst
        self.src_item = src_item
        self.dst_item = dst_item
        self.shape_text = "?"
        self._path = QPainterPath()
        self._bounds = QRectF()
        self._shape: QPainterPath | None = None
        self._color: QColor | None = None
        self._width = WIRE_WIDTH
        self._hovered = False
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIsSelectable)
        self.setAcceptHoverEvents(True)
        self.setZValue(0.0)
        self.adjust()

    def type(self) -> int:
        return self.Type

    def adjust(self) -> None:
        """Recompute the path from the current port positions."""
        path = wire_path(self.src_item.out_port_scene(), self.dst_item.in_port_scene())
        self.prepareGeometryChange()
        self._path = path
        self._bounds = path.controlPointRect().adjusted(-WIRE_MARGIN, -WIRE_MARGIN, WIRE_MARGIN, WIRE_MARGIN)
        self._shape = None

    def path(self) -> QPainterPath:
        return self._path

    def boundingRect(self) -> QRectF:
        return self._bounds

    def shape(self) -> QPainterPath:
        if self._shape is None:
            stroker = QPainterPathStroker()
            stroker.setWidth(12.0)
            stroker.setCapStyle(Qt.PenCapStyle.RoundCap)
            self._shape = stroker.createStroke(self._path)
        return self._shape

    def set_shape_text(self, text: str) -> None:
        if text != self.shape_text or not self.toolTip():
            self.shape_text = text
            self.setToolTip(f"{text}  ·  {self.src_id} → {self.dst_id}")

    def set_weight_style(self, sign: float, magnitude: float | None) -> None:
        """Colour the wire by the sign of its weight (blue positive, orange-red
        negative) and set its width from ``magnitude`` in [0, 1] (e.g.
        ``|w| / max |w|``; values above 1 count as 1): 1 px at 0 up to 6 px.
        ``magnitude=None`` brings back the default look."""
        if magnitude is None:
            color, width = None, WIRE_WIDTH
        else:
            color = style.POSITIVE_WEIGHT if sign >= 0 else style.NEGATIVE_WEIGHT
            m = min(max(float(magnitude), 0.0), 1.0) if math.isfinite(magnitude) else 1.0
            width = 1.0 + (WIRE_MAX_WIDTH - 1.0) * m
        if color != self._color or width != self._width:
            self._color, self._width = color, width
            self.update()

    def weight_style(self) -> tuple[QColor | None, float]:
        return self._color, self._width

    def pen(self) -> QPen:
        selected = self.isSelected()
        if self._color is not None:
            color = self._color  # selected: the halo says so; the colour keeps the weight's sign
        elif selected:
            color = style.WIRE_SELECTED
        else:
            color = style.WIRE_COLOR
        if self._hovered and not selected:
            color = color.darker(135)
        width = self._width + (1.0 if self._hovered or selected else 0.0)
        return QPen(color, width, _SOLID, _ROUND_CAP)

    def set_low_detail(self, on: bool) -> None:
        """Zoomed far out, wires are hairlines: cache them as pixmaps (small
        then) so panning blits instead of calling into Python per wire."""
        self.setCacheMode(_DEVICE_CACHE if on else _NO_CACHE)

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget=None) -> None:
        painter.setBrush(_NO_BRUSH)
        if painter.worldTransform().m11() < LOD_SIMPLE:
            pen = self.pen()
            pen.setWidthF(1.5 if self.isSelected() else 1.0)
            pen.setCosmetic(True)
            painter.setPen(pen)
            painter.drawPath(self._path)
            return
        if self.isSelected():
            halo = QColor(style.WIRE_SELECTED)
            halo.setAlpha(55 if self._color is None else 80)
            painter.setPen(QPen(halo, self._width + 6.0, _SOLID, _ROUND_CAP))
            painter.drawPath(self._path)
        painter.setPen(self.pen())
        painter.drawPath(self._path)

    def hoverEnterEvent(self, event) -> None:
        self._hovered = True
        self.update()
        sc = self.scene()
        if sc is not None and hasattr(sc, "item_hovered"):
            sc.item_hovered(self)
        super().hoverEnterEvent(event)

    def hoverLeaveEvent(self, event) -> None:
        self._hovered = False
        self.update()
        super().hoverLeaveEvent(event)

    def status_text(self) -> str:
        return f"Wire {self.edge_id}: {self.src_id} → {self.dst_id} carries {self.shape_text}"


class PendingWireItem(QGraphicsPathItem):
    """The wire that follows the mouse while a connection is being dragged."""

    Type = QGraphicsItem.UserType + 103

    def __init__(self, color: QColor):
        super().__init__()
        pen = QPen(color, 2.0, Qt.PenStyle.DashLine, Qt.PenCapStyle.RoundCap)
        self.setPen(pen)
        self.setBrush(QBrush(Qt.BrushStyle.NoBrush))
        self.setZValue(10.0)
        self.setAcceptedMouseButtons(Qt.MouseButton.NoButton)
        self.setAcceptHoverEvents(False)

    def type(self) -> int:
        return self.Type

    def set_ends(self, p1: QPointF, p2: QPointF, ok: bool | None = None) -> None:
        pen = self.pen()
        if ok is True:
            pen.setColor(ACCEPT_COLOR)
            pen.setStyle(Qt.PenStyle.SolidLine)
        elif ok is False:
            pen.setColor(style.ERROR_COLOR)
            pen.setStyle(Qt.PenStyle.DashLine)
        else:
            pen.setColor(style.WIRE_COLOR)
            pen.setStyle(Qt.PenStyle.DashLine)
        self.setPen(pen)
        self.setPath(wire_path(p1, p2))
