"""The canvas view: zoom, pan, rubber-band selection, drops, the grid, and a
banner while training locks the structure."""

from __future__ import annotations

import math

from PySide6.QtCore import QPointF, QRect, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QFont, QPainter, QTransform
from PySide6.QtWidgets import QFrame, QGraphicsView, QLabel

from .. import style
from .interactions import NodeDropHandler, PanGesture
from .items import BLOCK_W, GRID, EdgeItem
from .scene import GraphScene

#: half the side of the pannable area, in scene pixels
SCENE_EXTENT = 100_000.0


def _mix(a: QColor, b: QColor, t: float) -> QColor:
    return QColor(round(a.red() * t + b.red() * (1 - t)), round(a.green() * t + b.green() * (1 - t)),
                  round(a.blue() * t + b.blue() * (1 - t)))


LOCK_TEXT = "Training — structure locked"
#: painted in the middle of an empty canvas
EMPTY_HINT = "Drag a node from the palette, or open an example"
EMPTY_HINT_DETAIL = "Examples menu: ready-made networks that train · Help ▸ Getting Started"


def _GRID_COLORS() -> tuple[QColor, QColor]:
    """(minor, major) grid colours, opaque: GRID_COLOR over CANVAS_BG."""
    return _mix(style.GRID_COLOR, style.CANVAS_BG, 0.6), QColor(style.GRID_COLOR)


class CanvasView(QGraphicsView):
    """Shows a :class:`GraphScene`. Wheel zooms around the cursor; the middle
    button or space + left drag pans; left drag on empty space selects."""

    MIN_ZOOM = 0.1
    MAX_ZOOM = 4.0
    #: Fit to window never magnifies beyond this (a 3-node net stays readable, not huge)
    MAX_FIT_ZOOM = 1.5
    ZOOM_STEP = 1.25
    #: margin kept around the network by Fit to window, in screen pixels
    FIT_MARGIN = 40

    zoomChanged = Signal(float)

    def __init__(self, scene: GraphScene, parent=None):
        super().__init__(scene, parent)
        self.setObjectName("canvas")
        self.setRenderHints(QPainter.RenderHint.Antialiasing | QPainter.RenderHint.TextAntialiasing
                            | QPainter.RenderHint.SmoothPixmapTransform)
        self.setViewportUpdateMode(QGraphicsView.ViewportUpdateMode.SmartViewportUpdate)
        self.setOptimizationFlag(QGraphicsView.OptimizationFlag.DontAdjustForAntialiasing, True)
        self.setCacheMode(QGraphicsView.CacheModeFlag.CacheNone)
        self.setDragMode(QGraphicsView.DragMode.RubberBandDrag)
        self.setRubberBandSelectionMode(Qt.ItemSelectionMode.IntersectsItemShape)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.NoAnchor)
        self.setResizeAnchor(QGraphicsView.ViewportAnchor.AnchorViewCenter)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setAcceptDrops(True)
        self.viewport().setAcceptDrops(True)
        self.setSceneRect(QRectF(-SCENE_EXTENT, -SCENE_EXTENT, 2 * SCENE_EXTENT, 2 * SCENE_EXTENT))
        self._pan: PanGesture | None = None
        self._space = False
        self._band: QRectF | None = None
        self._band_before: set[str] = set()
        self.rubberBandChanged.connect(self._on_rubber_band)
        # the lock banner: a child of the view (not of the viewport, whose
        # children scroll with the scene), above the viewport, transparent to the mouse
        self._banner = QLabel(LOCK_TEXT, self)
        self._banner.setObjectName("lockBanner")
        self._banner.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self._banner.setStyleSheet(
            "QLabel#lockBanner { background: rgba(255, 243, 224, 235); color: #8D4A00;"
            " border: 1px solid #FB8C00; border-radius: 10px; padding: 3px 12px; font-weight: 600; }")
        self._banner.hide()
        self._lock_scene: GraphScene | None = None
        self._follow_lock(scene)
        r = scene.itemsBoundingRect()
        self.centerOn(r.center() if not r.isNull() else QPointF(0, 0))

    def graph_scene(self) -> GraphScene:
        return self.scene()  # type: ignore[return-value]

    def setScene(self, scene: GraphScene) -> None:
        """Show another scene (a new document): it gets this view's zoom level."""
        super().setScene(scene)
        if scene is not None:
            scene.set_view_zoom(self.zoom())
        self._follow_lock(scene)

    # ------------------------------------------------------------ lock
    def _follow_lock(self, scene: GraphScene | None) -> None:
        old, self._lock_scene = self._lock_scene, scene
        if old is not None and old is not scene:
            for sig, slot in ((old.lockChanged, self._on_lock_changed), (old.emptyChanged, self._on_empty_changed)):
                try:
                    sig.disconnect(slot)
                except (RuntimeError, TypeError):  # the old scene is gone already
                    pass
        if scene is not None and old is not scene:
            scene.lockChanged.connect(self._on_lock_changed)
            scene.emptyChanged.connect(self._on_empty_changed)
        self.viewport().update()
        self._on_lock_changed(scene.document.lock_reason if scene is not None else "")

    def _on_empty_changed(self, empty: bool) -> None:
        self.viewport().update()  # the hint is painted under everything: all of it is redrawn

    def shows_empty_hint(self) -> bool:
        sc = self.graph_scene()
        return sc is not None and sc.is_empty()

    def _on_lock_changed(self, reason: str) -> None:
        self._banner.setToolTip(reason)
        self._banner.setVisible(bool(reason))
        if reason:
            self._place_banner()
            self._banner.raise_()

    def lock_banner(self) -> QLabel:
        """The "Training — structure locked" banner (visible while the document is locked)."""
        return self._banner

    def _place_banner(self) -> None:
        b = self._banner
        b.adjustSize()
        vp = self.viewport().geometry()
        b.move(vp.left() + (vp.width() - b.width()) // 2, vp.top() + 10)

    def scrollContentsBy(self, dx: int, dy: int) -> None:
        super().scrollContentsBy(dx, dy)
        if self.shows_empty_hint():  # the hint stays put while the grid scrolls under it
            self.viewport().update()

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        if not self._banner.isHidden():
            self._place_banner()

    @property
    def _drop(self) -> NodeDropHandler:
        return NodeDropHandler(self.graph_scene())

    # ------------------------------------------------------------ zoom
    def zoom(self) -> float:
        return self.transform().m11()

    def set_zoom(self, z: float, anchor: QPointF | None = None) -> None:
        """Zoom to ``z`` (clamped), keeping the scene point under ``anchor``
        (viewport coordinates; default the viewport centre) in place."""
        z = min(max(z, self.MIN_ZOOM), self.MAX_ZOOM)
        old = self.zoom()
        if abs(z - old) < 1e-9:
            return
        vc = QPointF(self.viewport().rect().center())
        a = QPointF(anchor) if anchor is not None else vc
        inv, _ = self.viewportTransform().inverted()
        a_scene = inv.map(a)
        self._set_scale(z)
        center = QPointF(a_scene.x() - (a.x() - vc.x()) / z, a_scene.y() - (a.y() - vc.y()) / z)
        self.centerOn(center)
        self.zoomChanged.emit(z)

    def _set_scale(self, z: float) -> None:
        self.setTransform(QTransform.fromScale(z, z))
        self.graph_scene().set_view_zoom(z)

    def zoom_in(self) -> None:
        self.set_zoom(self.zoom() * self.ZOOM_STEP)

    def zoom_out(self) -> None:
        self.set_zoom(self.zoom() / self.ZOOM_STEP)

    def actual_size(self) -> None:
        """100 %, keeping the centre of the view."""
        self.set_zoom(1.0)

    def fit_to_window(self) -> None:
        """Show the whole network with a margin (at most :attr:`MAX_FIT_ZOOM`)."""
        r = self._content_rect()
        if r.isNull():
            self.set_zoom(1.0)
            self.centerOn(0, 0)
            return
        vw = max(self.viewport().width() - 2 * self.FIT_MARGIN, 10)
        vh = max(self.viewport().height() - 2 * self.FIT_MARGIN, 10)
        z = min(vw / max(r.width(), 1.0), vh / max(r.height(), 1.0), self.MAX_FIT_ZOOM)
        z = min(max(z, self.MIN_ZOOM), self.MAX_ZOOM)
        changed = abs(z - self.zoom()) > 1e-9
        self._set_scale(z)
        self.centerOn(r.center())
        if changed:
            self.zoomChanged.emit(z)

    def _content_rect(self) -> QRectF:
        r = QRectF()
        for it in self.graph_scene().node_items():
            r = r.united(it.sceneBoundingRect())
        return r

    def scene_center(self) -> QPointF:
        """The scene point at the centre of the viewport."""
        inv, _ = self.viewportTransform().inverted()
        return inv.map(QPointF(self.viewport().rect().center()))

    def map_to_scene_f(self, viewport_pos: QPointF) -> QPointF:
        inv, _ = self.viewportTransform().inverted()
        return inv.map(QPointF(viewport_pos))

    #: the room a new node needs, around its centre (a block is BLOCK_W wide; a margin for its ports)
    NEW_NODE_ROOM = (BLOCK_W + 30.0, 110.0)

    def add_node_at_center(self, type_id: str) -> str | None:
        """Add a node (through the scene, which asks the editor) at the visible centre, or
        at the free spot nearest to it where it covers no other node; returns its id."""
        sc = self.graph_scene()
        c = self.scene_center()
        w, h = self.NEW_NODE_ROOM
        taken = [it.sceneBoundingRect() for it in sc.node_items()]
        step = 2 * GRID
        # candidates on a grid around the centre, nearest first (rows before columns: layers read
        # left to right, so a new node goes below or above the one in the middle before beside it)
        spots = sorted(((dx, dy) for dx in range(-8, 9) for dy in range(-8, 9)),
                       key=lambda d: (math.hypot(d[0] * 1.5, d[1]), abs(d[0]), d[1] < 0))
        rooms = [QRectF(c.x() + dx * step - w / 2, c.y() + dy * step - h / 2, w, h) for dx, dy in spots]
        free = [r for r in rooms if not any(r.intersects(t) for t in taken)]
        visible = self.mapToScene(self.viewport().rect()).boundingRect()
        # in sight if there is room there; else the nearest free spot, and the view goes to it
        room = next((r for r in free if visible.contains(r)), free[0] if free else rooms[0])
        nid = sc.add_node(type_id, room.center())  # snapped by the scene when snapping is on
        if nid is not None and not visible.contains(room):
            self.ensureVisible(room)
        return nid

    # ------------------------------------------------------- background
    def drawBackground(self, painter: QPainter, rect: QRectF) -> None:
        """A light grid: minor lines every 20 px (coarser when zoomed out), major every fifth.

        Lines are filled as 1-pixel rectangles in device coordinates with opaque
        colours: far cheaper than stroking lines through the view transform."""
        painter.fillRect(rect, style.CANVAS_BG)
        z = self.zoom()
        step = GRID
        while step * z < 12:
            step *= 5
        major = step * 5
        t = painter.worldTransform()
        if t.isRotating() or abs(t.m11() - t.m22()) > 1e-9:  # pragma: no cover - the canvas never rotates
            return
        dev = t.mapRect(rect).toAlignedRect()
        minor_c, major_c = _GRID_COLORS()
        painter.save()
        painter.resetTransform()
        s, ox, oy = t.m11(), t.dx(), t.dy()
        i = math.floor(rect.left() / step)
        while i * step <= rect.right():
            x = i * step
            painter.fillRect(QRect(round(x * s + ox), dev.top(), 1, dev.height()),
                             major_c if abs(math.remainder(x, major)) < 1e-6 else minor_c)
            i += 1
        j = math.floor(rect.top() / step)
        while j * step <= rect.bottom():
            y = j * step
            painter.fillRect(QRect(dev.left(), round(y * s + oy), dev.width(), 1),
                             major_c if abs(math.remainder(y, major)) < 1e-6 else minor_c)
            j += 1
        if self.shows_empty_hint():
            self._paint_empty_hint(painter)
        painter.restore()

    def empty_hint_rect(self) -> QRect:
        """Where the hint is painted, in viewport pixels (centred)."""
        vp = self.viewport().rect()
        w, h = min(vp.width() - 40, 460), 64
        return QRect(vp.center().x() - w // 2, vp.center().y() - h // 2, max(w, 1), h)

    def _paint_empty_hint(self, painter: QPainter) -> None:
        """In device pixels (the caller reset the transform): the first step, where the eye lands."""
        r = self.empty_hint_rect()
        f = QFont(self.font())
        f.setPointSizeF(max(f.pointSizeF(), 9.0) * 1.35)
        f.setWeight(QFont.Weight.DemiBold)
        painter.setFont(f)
        painter.setPen(style.MUTED_TEXT)
        top = QRect(r.left(), r.top(), r.width(), r.height() // 2)
        painter.drawText(top, Qt.AlignmentFlag.AlignCenter, EMPTY_HINT)
        small = QFont(self.font())
        painter.setFont(small)
        bottom = QRect(r.left(), r.top() + r.height() // 2, r.width(), r.height() // 2)
        painter.drawText(bottom, Qt.AlignmentFlag.AlignCenter, EMPTY_HINT_DETAIL)

    # ------------------------------------------------------------ mouse
    def wheelEvent(self, event) -> None:
        d = event.angleDelta().y() or event.angleDelta().x()
        if not d:
            d = event.pixelDelta().y()
        if d:
            self.set_zoom(self.zoom() * math.pow(1.0015, d), event.position())
        event.accept()

    def mousePressEvent(self, event) -> None:
        b = event.button()
        if self._pan is None and (b == Qt.MouseButton.MiddleButton
                                  or (b == Qt.MouseButton.LeftButton and self._space)):
            self._pan = PanGesture(self, b)
            self._pan.start(event.position())
            event.accept()
            return
        if self._pan is not None:
            event.accept()
            return
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event) -> None:
        if self._pan is not None:
            self._pan.move(event.position())
            event.accept()
            return
        super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event) -> None:
        if self._pan is not None:
            if event.button() == self._pan.button:
                self._pan.release(event.position())
                self._pan = None
                if self._space:
                    self.viewport().setCursor(Qt.CursorShape.OpenHandCursor)
            event.accept()
            return
        super().mouseReleaseEvent(event)
        event.accept()  # the view consumed it (rubber band, click on empty space)

    def _on_rubber_band(self, rect: QRect, from_scene: QPointF, to_scene: QPointF) -> None:
        sc = self.graph_scene()
        if not rect.isNull():
            if self._band is None:
                self._band_before = set(sc.selected_edge_ids())
            self._band = QRectF(from_scene, to_scene).normalized()
            return
        band, self._band = self._band, None
        if band is None:
            return
        # the band selects nodes it touches, but only wires it encloses
        for it in sc.selectedItems():
            if (isinstance(it, EdgeItem) and it.edge_id not in self._band_before
                    and not band.contains(it.sceneBoundingRect())):
                it.setSelected(False)

    # -------------------------------------------------------------- keys
    def keyPressEvent(self, event) -> None:
        if event.key() == Qt.Key.Key_Space and not event.isAutoRepeat():
            sc = self.graph_scene()
            if sc.gesture is None:
                self._space = True
                if self._pan is None:
                    self.viewport().setCursor(Qt.CursorShape.OpenHandCursor)
                event.accept()
                return
        if event.key() == Qt.Key.Key_Space:
            event.accept()
            return
        if event.key() == Qt.Key.Key_Escape and self._pan is not None:
            self._pan.cancel()
            self._pan = None
            event.accept()
            return
        super().keyPressEvent(event)

    def keyReleaseEvent(self, event) -> None:
        if event.key() == Qt.Key.Key_Space and not event.isAutoRepeat():
            self._space = False
            if self._pan is None:
                self.viewport().unsetCursor()
            event.accept()
            return
        super().keyReleaseEvent(event)

    def focusOutEvent(self, event) -> None:
        self._space = False
        if self._pan is None:
            self.viewport().unsetCursor()
        super().focusOutEvent(event)

    # ------------------------------------------------------------- drops
    def dragEnterEvent(self, event) -> None:
        if self._drop.accepts(event.mimeData()) and self.graph_scene().refuse_if_locked():
            event.ignore()  # no new nodes while training (the scene said why)
            return
        if self._drop.accepts(event.mimeData()):
            event.setDropAction(Qt.DropAction.CopyAction)
            event.accept()
        else:
            event.ignore()

    def dragMoveEvent(self, event) -> None:
        if self.graph_scene().locked:
            event.ignore()
            return
        self.dragEnterEvent(event)

    def dragLeaveEvent(self, event) -> None:
        event.accept()

    def dropEvent(self, event) -> None:
        if not self._drop.accepts(event.mimeData()):
            event.ignore()
            return
        pos = self.map_to_scene_f(event.position())
        if self._drop.drop(event.mimeData(), pos) is None and self.graph_scene().locked:
            event.ignore()  # refused: the scene said why
            return
        event.setDropAction(Qt.DropAction.CopyAction)
        event.accept()
        self.setFocus(Qt.FocusReason.MouseFocusReason)


__all__ = ["CanvasView", "LOCK_TEXT", "SCENE_EXTENT"]
