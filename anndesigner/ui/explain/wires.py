"""The wires of the frame explain mode shows, drawn on the canvas by items of
its own (the scene's items are never changed; none takes a mouse button or a
hover, so clicks and tooltips reach the wires and nodes under them).

Forward frames (those with ``wires_from``): each wire from one of
``frame.wires_from`` into the frame's node is drawn again in the ring colour
(:data:`.overlay.RING`, edged in a darker shade so that it stands out from an
orange-red weight's wire), and a small filled dot travels along it from the
source to the destination in :data:`TRAVEL_MS`, moved by a timer of its own
at most :data:`FPS` times a second; it then rests at the destination. When
the source's output is a single number, that number rides beside the dot.

Backward frames: each wire into the frame's node shows the gradient of the
loss that flows through it, taken from the engine's trace:

- into a weighted node (``scene.wire_weights(edge)`` is not None): the
  gradient of the wire's weights, ``trace.weight("<dst>/kernel").grad[start:stop]``;
- into any other node: the source's δ, ``trace.delta(src).delta``.

A wire of one number (a neuron-level wire: one weight, or a δ of one value)
shows that signed number. A wire carrying a block (a layer's rows of a
kernel, a vector's δ) shows its size ‖g‖ (the root of the sum of squares),
labelled "‖g‖ …": a block's sum would mislead (into a softmax output the
gradients cancel by construction, summing to about zero).

The sign is the colour, in a palette of its own so that it is never read as
a weight (the canvas draws weights blue positive, orange-red negative):
**green (#2E7D32) positive, purple (#8E24AA) negative, grey (#90A4AE) zero
or not a number, teal (#00838F) a block's size**. The magnitude is the width (2 up to 9 scene units,
relative to the largest |gradient| of the frame), on a white casing that
hides the weight's colour under it; a small label just above the wire's
middle gives the number. Loss and update frames light no wire.

Dots and labels keep their size in pixels at every zoom. When a node moves
or a wire comes or goes in the graph, the frame is drawn again on the wires
as they are.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import shiboken6
from PySide6.QtCore import QElapsedTimer, QObject, QPointF, QRectF, Qt, QTimer
from PySide6.QtGui import QBrush, QColor, QFont, QFontMetricsF, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import QGraphicsEllipseItem, QGraphicsItem

from ...graph.events import Connections
from .overlay import RING
from .stages import num

#: the gradient palette (sign → colour); distinct from the weights' blue / orange-red
GRAD_POSITIVE = QColor("#2E7D32")  # green
GRAD_NEGATIVE = QColor("#8E24AA")  # purple
GRAD_ZERO = QColor("#90A4AE")      # grey: exactly zero, or NaN
GRAD_BLOCK = QColor("#00838F")     # teal: the size ‖g‖ of a block of gradients
#: a gradient wire's width in scene units, for |g| = 0 and for the frame's largest |g|
GRAD_MIN_WIDTH = 2.0
GRAD_MAX_WIDTH = 9.0
#: a lit forward wire's width, and its dark edges (so it stands out from an orange-red weight's wire)
LIT_WIDTH = 5.0
LIT_CASING = RING.darker(220)
#: the travelling dot's radius
MARKER_RADIUS = 6.0
#: the time the dot takes from source to destination, and its timer's rate at most
TRAVEL_MS = 400
FPS = 30
#: z values: above the rings' wires, below nothing of the scene
Z_WIRE = 1e6 - 1
Z_MARKER = 1e6 + 1
Z_LABEL = 1e6 + 2
#: every item this module adds carries this as data(0)
TAG = "explain-wire"


def gradient_color(value: float, block: bool = False) -> QColor:
    """The colour of a gradient by its sign (green +, purple −, grey 0 / NaN)."""
    if math.isnan(value):
        return GRAD_ZERO
    if block:
        return GRAD_BLOCK if value > 0 else GRAD_ZERO
    if value > 0:
        return GRAD_POSITIVE
    if value < 0:
        return GRAD_NEGATIVE
    return GRAD_ZERO


def _passive(item: QGraphicsItem, z: float) -> QGraphicsItem:
    item.setAcceptedMouseButtons(Qt.MouseButton.NoButton)
    item.setAcceptHoverEvents(False)
    item.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIsSelectable, False)
    item.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIsFocusable, False)
    item.setZValue(z)
    item.setData(0, TAG)
    return item


class WireLabel(QGraphicsItem):
    """A number on a pale rounded box, its bottom-left corner (bottom middle if
    ``centred``) ``offset`` pixels from the item's position."""

    _FONT: QFont | None = None

    def __init__(self, text: str, color: QColor, parent: QGraphicsItem | None = None,
                 offset: QPointF = QPointF(0.0, 0.0), centred: bool = False):
        super().__init__(parent)
        if parent is None:  # the same size in pixels at every zoom (a child follows its parent)
            self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIgnoresTransformations)
        if WireLabel._FONT is None:
            f = QFont()
            f.setPointSizeF(8.0)
            WireLabel._FONT = f
        self._text = text
        self._color = QColor(color)
        fm = QFontMetricsF(WireLabel._FONT)
        w, h = fm.horizontalAdvance(text) + 8.0, fm.height() + 2.0
        self._rect = QRectF(offset.x() - (w / 2 if centred else 0.0), offset.y() - h, w, h)
        self._ascent = fm.ascent()

    def text(self) -> str:
        return self._text

    def color(self) -> QColor:
        return QColor(self._color)

    def boundingRect(self) -> QRectF:
        return self._rect.adjusted(-1, -1, 1, 1)

    def paint(self, painter: QPainter, option, widget=None) -> None:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(QPen(self._color, 1.0))
        painter.setBrush(QBrush(QColor(255, 255, 255, 230)))
        painter.drawRoundedRect(self._rect, 4, 4)
        painter.setFont(WireLabel._FONT)
        painter.setPen(self._color.darker(125))
        painter.drawText(QPointF(self._rect.left() + 4.0, self._rect.top() + 1.0 + self._ascent), self._text)


class WireStroke(QGraphicsItem):
    """A wire drawn again: a casing ``halo`` px wider on each side in ``casing``,
    then the line in ``color``, ``width`` wide."""

    def __init__(self, path: QPainterPath, color: QColor, width: float,
                 casing: QColor = QColor("white"), halo: float = 3.0):
        super().__init__()
        self._path = path
        self._pen = QPen(color, width, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap)
        self._halo = QPen(casing, width + 2 * halo, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap)
        m = width / 2 + halo + 1.0
        self._bounds = path.controlPointRect().adjusted(-m, -m, m, m)

    def path(self) -> QPainterPath:
        return self._path

    def pen(self) -> QPen:
        return QPen(self._pen)

    def boundingRect(self) -> QRectF:
        return self._bounds

    def shape(self) -> QPainterPath:
        return QPainterPath()  # nothing to hit: scene.items(pos) finds the wire under it

    def paint(self, painter: QPainter, option, widget=None) -> None:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.setPen(self._halo)
        painter.drawPath(self._path)
        painter.setPen(self._pen)
        painter.drawPath(self._path)


@dataclass
class WireOverlay:
    """What is drawn on one wire for the frame shown."""

    edge_id: str
    path: QPainterPath  # the wire's path in scene coordinates (a copy)
    line: WireStroke  # the wire drawn again (ring colour or the gradient's)
    marker: QGraphicsEllipseItem | None = None  # forward: the travelling dot
    label: WireLabel | None = None  # the value (forward, single values) or the gradient
    gradient: float | None = None  # backward: the number shown
    length: float = 0.0


class ExplainWires(QObject):
    """The wire overlay of explain mode on ``scene`` (a GraphScene)."""

    def __init__(self, scene, parent: QObject | None = None):
        super().__init__(parent)
        self.scene = scene
        self.wires: dict[str, WireOverlay] = {}
        self.phase: str | None = None
        self.progress = 0.0  # the dots' place along their wires, 0 (source) to 1 (destination)
        self._clock = QElapsedTimer()
        self.timer = QTimer(self)
        self.timer.setInterval(int(math.ceil(1000 / FPS)))
        self.timer.timeout.connect(self._tick)
        self._shown = None  # (frame, trace) drawn, to draw again when the graph's wires move
        self._redraw = QTimer(self)
        self._redraw.setSingleShot(True)
        self._redraw.timeout.connect(self._draw_again)
        self._links = Connections()
        self._follow(scene)

    # ------------------------------------------------------------ life
    def set_scene(self, scene) -> None:
        self.clear()
        self.scene = scene
        self._follow(scene)

    def _follow(self, scene) -> None:
        """Draw the frame again (once per burst) when a node moves or a wire comes or goes."""
        self._links.disconnect_all()
        g = getattr(scene, "graph", None)
        if g is not None:
            self._links.connect_many([(g.node_moved, self._graph_changed), (g.edge_added, self._graph_changed),
                                      (g.edge_removed, self._graph_changed)])

    def _graph_changed(self, *_args) -> None:
        if self._shown is not None:
            self._redraw.start(0)

    def _draw_again(self) -> None:
        if self._shown is not None:
            self.show_frame(*self._shown)

    def clear(self) -> None:
        """Remove every item of the overlay and stop the dots."""
        self.timer.stop()
        self._redraw.stop()
        self._shown = None
        for w in self.wires.values():
            for it in (w.line, w.marker, w.label):  # a forward label is its dot's child
                # (at exit the scene may have deleted them already)
                if it is not None and shiboken6.isValid(it) and it.parentItem() is None and it.scene() is not None:
                    it.scene().removeItem(it)
        self.wires = {}
        self.phase = None
        self.progress = 0.0

    def items(self) -> list[QGraphicsItem]:
        out: list[QGraphicsItem] = []
        for w in self.wires.values():
            out += [it for it in (w.line, w.marker, w.label) if it is not None]
        return out

    def running(self) -> bool:
        return self.timer.isActive()

    # ------------------------------------------------------------ frames
    def show_frame(self, frame, trace) -> None:
        """Draw the wires of ``frame`` (a stages.Frame, or None) with the numbers of ``trace``."""
        self.clear()
        if frame is None or trace is None or self.scene is None:
            return
        self._shown = (frame, trace)
        if frame.phase == "forward" and frame.wires_from:
            self._show_forward(frame, trace)
        elif frame.phase == "backward":
            self._show_backward(frame, trace)

    def _incoming(self, frame, only_from: tuple[str, ...] | None):
        g = self.scene.graph
        for e in g.edges.values():
            if e.dst != frame.node_id or (only_from is not None and e.src not in only_from):
                continue
            item = self.scene.edge_item(e.id)
            if item is not None:
                yield e, item

    def _line(self, path: QPainterPath, color: QColor, width: float, **casing) -> WireStroke:
        return _passive(WireStroke(path, color, width, **casing), Z_WIRE)

    def _show_forward(self, frame, trace) -> None:
        for e, item in self._incoming(frame, tuple(frame.wires_from)):
            path = QPainterPath(item.path())
            line = self._line(path, RING, LIT_WIDTH, casing=LIT_CASING, halo=1.5)
            r = MARKER_RADIUS
            dot = _passive(QGraphicsEllipseItem(-r, -r, 2 * r, 2 * r), Z_MARKER)
            dot.setBrush(QBrush(RING))
            dot.setPen(QPen(QColor("white"), 2.0))
            dot.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIgnoresTransformations)  # a dot in pixels
            dot.setPos(path.pointAtPercent(0.0))
            label = None
            try:
                value = np.asarray(trace.node(e.src).output)
            except KeyError:
                value = None
            if value is not None and value.size == 1:
                label = _passive(WireLabel(num(value.reshape(-1)[0]), RING, dot, QPointF(r + 2.0, -r + 1.0)),
                                 Z_LABEL)
            self.scene.addItem(line)
            self.scene.addItem(dot)
            self.wires[e.id] = WireOverlay(e.id, path, line, dot, label, length=path.length())
        if self.wires:
            self.phase = "forward"
            self.progress = 0.0
            self._clock.start()
            self.timer.start()

    def gradient_of(self, edge_id: str, trace) -> float | None:
        """The number a backward frame shows on wire ``edge_id`` (see the module's text), None if none."""
        got = self.wire_gradient(edge_id, trace)
        return None if got is None else got[0]

    def wire_gradient(self, edge_id: str, trace) -> tuple[float, bool] | None:
        """(the signed gradient, False) for a wire of one number; (‖g‖, True) for a block."""
        e = self.scene.graph.edges.get(edge_id)
        if e is None:
            return None
        ww = self.scene.wire_weights(edge_id)
        if ww is not None:
            try:
                g = trace.weight(ww.kernel).grad
            except KeyError:
                return None
            if g is None:
                return None
            g = np.asarray(g, np.float64)
            if g.ndim == 0 or g.shape[0] < ww.stop:
                return None
            g = g[ww.start:ww.stop]
        else:
            try:
                d = trace.delta(e.src).delta
            except KeyError:
                return None
            if d is None:
                return None
            g = np.asarray(d, np.float64)
        if g.size == 1:
            return float(g.reshape(())), False
        return float(np.sqrt(np.sum(g * g))), True

    def _show_backward(self, frame, trace) -> None:
        found = []
        blocks = {}
        for e, item in self._incoming(frame, None):
            got = self.wire_gradient(e.id, trace)
            if got is not None:
                found.append((e, item, got[0]))
                blocks[e.id] = got[1]
        if not found:
            return
        mags = [abs(g) for *_, g in found if math.isfinite(g)]
        top = max(mags) if mags else 0.0
        for e, item, g in found:
            m = (abs(g) / top if top > 0 else 0.0) if math.isfinite(g) else 1.0
            color = gradient_color(g, blocks[e.id])
            path = QPainterPath(item.path())
            line = self._line(path, color, GRAD_MIN_WIDTH + (GRAD_MAX_WIDTH - GRAD_MIN_WIDTH) * m)
            text = f"‖g‖ {num(g)}" if blocks[e.id] else num(g)
            label = _passive(WireLabel(text, color, None, QPointF(0.0, -6.0), centred=True), Z_LABEL)
            label.setPos(path.pointAtPercent(path.percentAtLength(path.length() / 2)))  # just above the middle
            self.scene.addItem(line)
            self.scene.addItem(label)
            self.wires[e.id] = WireOverlay(e.id, path, line, None, label, gradient=g, length=path.length())
        self.phase = "backward"

    # ------------------------------------------------------------ motion
    def _tick(self) -> None:
        t = min(1.0, self._clock.elapsed() / TRAVEL_MS)
        self.progress = t
        for w in self.wires.values():
            if w.marker is not None:
                w.marker.setPos(w.path.pointAtPercent(w.path.percentAtLength(t * w.length)))
        if t >= 1.0:
            self.timer.stop()
