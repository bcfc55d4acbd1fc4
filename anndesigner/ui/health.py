"""Health warnings on the canvas: after a run (and for a document opened with a
history) the window asks the engine for the findings of the last run
(:func:`anndesigner.engine.health`) and pins a small badge — a warning glyph in
an amber circle — at the top-right corner of each node that has a problem.

- The badges are items of their own (the scene's items are never changed), at a
  high z, a fixed size in pixels at every zoom, and follow their nodes.
- Findings of the run as a whole (learning rate, overfitting: ``node_id`` None)
  go on the badge of the Output node (the first output of the program), so
  that they sit where the loss is computed and one click applies their fix;
  the status bar says how many warnings the run has.
- Hovering a badge shows its findings (message and figure) as a tooltip;
  clicking it opens a small non-modal popup with each message and an
  "Apply fix" button (and one per alternative). A fix is one undo step through
  the editor (``set_params``, ``set_training``, ``set_data_source``); refused,
  with the reason, while a run holds the document. An alternative that inserts
  a node (overfitting's Dropout) goes through ``Editor.insert_after``, one undo step too.
- The badges take no part in the canvas gestures: a press on a badge is taken
  by a filter on the scene before the scene sees it (so a badge over a node's
  corner does not start a move); a click beside it reaches the node as before.
- They are removed when a run starts (the document locks) and recomputed
  (once per burst of changes) when the history, weights, graph, training
  settings or data change, or the document is replaced. A document without a
  history (no run happened) shows none. An :class:`AnnError` while computing
  (data that cannot be loaded, …) means no badges.
"""

from __future__ import annotations

import html
import math

import shiboken6
from PySide6.QtCore import QEvent, QObject, QPoint, QPointF, QRectF, Qt, QTimer
from PySide6.QtGui import QBrush, QColor, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import (QFrame, QGraphicsItem, QHBoxLayout, QLabel, QPushButton, QToolButton,
                               QVBoxLayout, QWidget)

from .. import engine  # engine.health: the findings (the function; a plain name import reads as the module)
from ..engine import Finding
from ..errors import AnnError
from ..graph.events import Connections

#: the badge: amber circle, dark glyph; radius in pixels
AMBER = QColor("#FFB300")
AMBER_EDGE = QColor("#E65100")
GLYPH = QColor("#3E2723")
RADIUS = 9.0
# the badge's pens, brush and glyph, made once (not in every paint)
_RIM = QPen(AMBER_EDGE, 1.5)
_FILL = QBrush(AMBER)
_TRIANGLE_PEN = QPen(GLYPH, 1.4, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap, Qt.PenJoinStyle.RoundJoin)
_MARK_PEN = QPen(GLYPH, 1.6, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap)
_TRIANGLE = QPainterPath()
_TRIANGLE.moveTo(0, -5.5)
_TRIANGLE.lineTo(5.5, 4.5)
_TRIANGLE.lineTo(-5.5, 4.5)
_TRIANGLE.closeSubpath()
#: above every item of the scene and of the explain overlay
Z_BADGE = 2e6
#: every item this module adds carries this as data(0)
TAG = "health-badge"
#: after an edit the findings are recomputed once no other edit came for this long
#: (a health check of digits-cnn takes 0.1–0.3 s on the GUI thread)
EDIT_DELAY_MS = 250

KIND_TITLES = {
    "dead_relu": "Dead ReLU units", "saturation": "Saturated units",
    "vanishing_gradient": "Vanishing gradient", "exploding_gradient": "Exploding gradient",
    "lr_too_high": "Learning rate too high", "lr_too_low": "Learning rate too low",
    "overfitting": "Overfitting", "inputs_not_standardized": "Inputs not standardized",
}


def figure_text(f: Finding) -> str:
    """The figure of a finding as shown (fractions as percentages)."""
    x = float(f.figure)
    if not math.isfinite(x):
        return "not a number" if math.isnan(x) else "infinite"
    if f.kind in ("dead_relu", "saturation"):
        return f"{100 * x:.0f} %"
    if f.kind == "lr_too_high" or f.kind == "lr_too_low":
        return f"{x:.3g}"
    if f.kind == "overfitting":
        return f"{x:.0f} epochs"
    return f"{x:.3g}"


def fix_text(fix: dict) -> str:
    """A button's words for one fix (data of the engine's forms)."""
    if "insert_after" in fix:
        p = ", ".join(f"{k} {v}" for k, v in fix.get("params", {}).items())
        return f"Add {fix.get('type', '').capitalize()} ({p}) after {fix['insert_after']}"
    if "params" in fix:
        return ", ".join(f"{k} → {v}" for k, v in fix["params"].items()) + f" on {fix.get('node')}"
    if "training" in fix:
        t = fix["training"]
        if t.get("early_stopping"):
            return f"Early stopping (patience {t.get('patience')})"
        names = {"l1": "L1", "l2": "L2", "clipnorm": "gradient clip norm"}
        return ", ".join(f"{names.get(k, k.replace('_', ' '))} → {v:g}" if isinstance(v, float)
                         else f"{names.get(k, k.replace('_', ' '))} → {v}" for k, v in t.items())
    if "data" in fix:
        return ", ".join(f"{k} data" if v is True else f"{k} → {v}" for k, v in fix["data"].items()).capitalize()
    return "Apply"


def applicable(fix: dict) -> bool:
    """True for the fixes one editor intent applies (node parameters, training settings, data)."""
    return (("params" in fix and "node" in fix) or "training" in fix or "data" in fix
            or ("insert_after" in fix and "type" in fix))


class HealthBadge(QGraphicsItem):
    """The badge of one node: its findings, drawn as a warning glyph in an amber circle
    centred at the item's position (the node's top-right corner)."""

    def __init__(self, node_id: str, findings: list[Finding]):
        super().__init__()
        self.node_id = node_id
        self.findings = list(findings)
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIgnoresTransformations)
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIsSelectable, False)
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIsFocusable, False)
        self.setAcceptHoverEvents(False)
        self.setZValue(Z_BADGE)
        self.setData(0, TAG)
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setToolTip(self.tooltip())

    def tooltip(self) -> str:
        parts = []
        for f in self.findings:
            title = KIND_TITLES.get(f.kind, f.kind)
            parts.append(f"<b>{title}</b> ({figure_text(f)})<br>{html.escape(f.message, quote=False)}")
        return "<br><br>".join(parts) + "<br><i>Click for the suggested fix.</i>"

    def boundingRect(self) -> QRectF:
        r = RADIUS + 1.5
        return QRectF(-r, -r, 2 * r, 2 * r)

    def shape(self) -> QPainterPath:
        p = QPainterPath()
        p.addEllipse(QPointF(0, 0), RADIUS + 1.0, RADIUS + 1.0)
        return p

    def paint(self, painter: QPainter, option, widget=None) -> None:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(_RIM)
        painter.setBrush(_FILL)
        painter.drawEllipse(QPointF(0, 0), RADIUS, RADIUS)
        painter.setPen(_TRIANGLE_PEN)  # the glyph: a small triangle with an exclamation mark
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawPath(_TRIANGLE)
        painter.setPen(_MARK_PEN)
        painter.drawLine(QPointF(0, -2.2), QPointF(0, 1.2))
        painter.drawPoint(QPointF(0, 3.2))


class HealthPopup(QFrame):
    """The findings of one badge with their fixes; a child of the canvas view (non-modal)."""

    def __init__(self, owner: "HealthBadges", badge: HealthBadge, parent: QWidget):
        super().__init__(parent)
        self.setObjectName("healthPopup")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setAutoFillBackground(True)
        self.setStyleSheet("#healthPopup { background: #FFF8E1; border: 1px solid #E65100; border-radius: 6px; }")
        self.node_id = badge.node_id
        self.buttons: list[QPushButton] = []
        lay = QVBoxLayout(self)
        lay.setContentsMargins(10, 6, 10, 8)
        head = QHBoxLayout()
        title = QLabel(f"<b>Health of {badge.node_id}</b>")
        close = QToolButton()
        close.setObjectName("healthClose")
        close.setText("×")
        close.setAutoRaise(True)
        close.clicked.connect(self.close)
        head.addWidget(title)
        head.addStretch(1)
        head.addWidget(close)
        lay.addLayout(head)
        wide = max(180, min(380, parent.width() - 60))
        for f in badge.findings:
            text = QLabel(f"<b>{KIND_TITLES.get(f.kind, f.kind)}</b> ({figure_text(f)})<br>{html.escape(f.message, quote=False)}")
            text.setWordWrap(True)
            text.setMinimumWidth(min(300, wide))
            text.setMaximumWidth(wide)
            lay.addWidget(text)
            if not f.fix:
                lay.addWidget(QLabel("<i>No one-click fix for this one.</i>"))
                continue
            row = QHBoxLayout() if len(f.fix.get("alternatives", ())) < 2 else QVBoxLayout()
            main = QPushButton("Apply fix")
            main.setObjectName("applyFix")
            main.setToolTip(fix_text(f.fix))
            main.clicked.connect(lambda _=False, fx=f.fix: owner.apply_fix(fx, self))
            row.addWidget(main)
            self.buttons.append(main)
            for alt in f.fix.get("alternatives", ()):
                b = QPushButton(fix_text(alt))
                b.setObjectName("applyAlternative")
                b.clicked.connect(lambda _=False, fx=alt: owner.apply_fix(fx, self))
                if not applicable(alt):
                    b.setEnabled(False)
                    b.setToolTip("Not a one-click change: make it in the inspector or from the palette")
                row.addWidget(b)
                self.buttons.append(b)
            row.addStretch(1)
            lay.addLayout(row)
        self.status = QLabel("")
        self.status.setObjectName("healthStatus")
        self.status.setWordWrap(True)
        self.status.hide()
        lay.addWidget(self.status)
        self.adjustSize()

    def say(self, text: str) -> None:
        self.status.setText(text)
        self.status.setVisible(bool(text))
        self.adjustSize()

    def keyPressEvent(self, event) -> None:
        if event.key() == Qt.Key.Key_Escape:
            self.close()
            return
        super().keyPressEvent(event)


class HealthBadges(QObject):
    """The health badges of the window's current document (``window.health``)."""

    def __init__(self, window):
        super().__init__(window)
        self.window = window
        self.document = None
        self.scene = None
        #: node id -> its badge; the findings last computed
        self.badges: dict[str, HealthBadge] = {}
        self.findings: list[Finding] = []
        self.popup: HealthPopup | None = None
        self._links = Connections()
        self._doc_links: list = []
        self._pressed: HealthBadge | None = None
        self._later = QTimer(self)
        self._later.setSingleShot(True)
        self._later.timeout.connect(self.refresh)
        window.training.finished.connect(lambda *_: self.schedule())
        window.training.stateChanged.connect(self._training_state)

    # ------------------------------------------------------------ life
    def set_document(self, doc, scene) -> None:
        self.clear()
        for sig, slot in self._doc_links:
            try:
                sig.disconnect(slot)
            except (RuntimeError, TypeError):
                pass
        self._doc_links = []
        if self.scene is not None and shiboken6.isValid(self.scene):
            self.scene.removeEventFilter(self)
        self._links.disconnect_all()
        self.document, self.scene = doc, scene
        doc.historyChanged.connect(self.schedule)
        self._doc_links.append((doc.historyChanged, self.schedule))
        for sig in (doc.weightsChanged, doc.graphChanged, doc.dataChanged, doc.trainingChanged):
            sig.connect(self._edited)
            self._doc_links.append((sig, self._edited))
        doc.lockChanged.connect(self._lock_changed)
        self._doc_links.append((doc.lockChanged, self._lock_changed))
        g = scene.graph
        self._links.connect_many([(g.node_moved, self._place_all), (g.node_changed, self._place_all),
                                  (g.node_removed, lambda *_: self.schedule())])
        scene.installEventFilter(self)
        self.schedule()

    def schedule(self, *_args) -> None:
        """Recompute the findings as soon as the event loop is free (a run ended, a file opened)."""
        self._later.start(0)

    def _edited(self, *_args) -> None:
        """An edit: recompute once a burst of them (typing a value) is over; the badges of
        the old network go at once."""
        if self.badges:
            self.clear()
        self._later.start(EDIT_DELAY_MS)

    def _training_state(self, state: str) -> None:
        if state != "idle":
            self.clear()

    def _lock_changed(self, reason: str) -> None:
        if reason:
            self.clear()
        else:
            self.schedule()

    def clear(self) -> None:
        """Remove every badge and the popup."""
        self._later.stop()
        self.close_popup()
        for b in self.badges.values():
            if shiboken6.isValid(b) and b.scene() is not None:
                b.scene().removeItem(b)
        self.badges = {}
        self.findings = []
        self._pressed = None

    def close_popup(self) -> None:
        if self.popup is not None and shiboken6.isValid(self.popup):
            self.popup.close()
            self.popup.deleteLater()
        self.popup = None

    # --------------------------------------------------------- findings
    def compute(self) -> list[Finding]:
        """The findings for the document's last run ([] without a history or on an AnnError)."""
        doc = self.document
        if doc is None or doc.locked:
            return []
        net = doc.network
        if not net.history or not len(net.history):
            return []
        try:
            data = doc.dataset()
            return list(engine.health(net, data))
        except AnnError:
            return []

    def refresh(self) -> None:
        """Compute the findings and pin them again."""
        self.clear()
        if self.scene is None or not shiboken6.isValid(self.scene):
            return
        found = self.compute()
        self.findings = found
        by_node: dict[str, list[Finding]] = {}
        home = self._output_node()
        for f in found:
            nid = f.node_id if f.node_id is not None else home
            if nid is None or self.scene.node_item(nid) is None:
                continue
            by_node.setdefault(nid, []).append(f)
        for nid, fs in by_node.items():
            b = HealthBadge(nid, fs)
            self.scene.addItem(b)
            self.badges[nid] = b
        self._place_all()
        if found:
            n = len(found)
            self.window.show_status(f"Health: {n} warning{'s' if n != 1 else ''} on the last run "
                                    f"(amber badges on the nodes; click one for the fix)", 10000)

    def _output_node(self) -> str | None:
        net = self.document.network
        try:
            outs = [o.node_id for o in net.program.outputs] if net.compiles else []
        except AnnError:
            outs = []
        if not outs:
            outs = [n.id for n in net.graph.nodes.values() if n.type_id == "Output"]
        return outs[0] if outs else None

    def _place_all(self, *_args) -> None:
        for nid, b in list(self.badges.items()):
            item = self.scene.node_item(nid) if self.scene is not None else None
            if item is None:
                b.hide()
                continue
            b.show()
            b.setPos(item.sceneBoundingRect().topRight())

    def badge(self, node_id: str) -> HealthBadge | None:
        return self.badges.get(node_id)

    # ------------------------------------------------------------ mouse
    def _badge_at(self, pos: QPointF, widget) -> HealthBadge | None:
        view = widget.parentWidget() if widget is not None else None
        for b in self.badges.values():
            if not b.isVisible():
                continue
            if view is not None and hasattr(view, "mapFromScene"):
                d = view.mapFromScene(pos) - view.mapFromScene(b.scenePos())
                if d.x() * d.x() + d.y() * d.y() <= (RADIUS + 1.0) ** 2:
                    return b
            elif (pos - b.scenePos()).manhattanLength() <= RADIUS:
                return b
        return None

    def eventFilter(self, obj, event) -> bool:
        t = event.type()
        if t == QEvent.Type.GraphicsSceneMousePress or t == QEvent.Type.GraphicsSceneMouseDoubleClick:
            if event.button() == Qt.MouseButton.LeftButton:
                b = self._badge_at(event.scenePos(), event.widget())
                if b is not None:
                    self._pressed = b
                    event.accept()
                    return True
        elif t == QEvent.Type.GraphicsSceneMouseMove and self._pressed is not None:
            event.accept()
            return True
        elif t == QEvent.Type.GraphicsSceneMouseRelease and self._pressed is not None:
            b, self._pressed = self._pressed, None
            if self._badge_at(event.scenePos(), event.widget()) is b:
                self.open_popup(b.node_id)
            event.accept()
            return True
        return False

    # ------------------------------------------------------------ popup
    def open_popup(self, node_id: str) -> HealthPopup | None:
        b = self.badges.get(node_id)
        if b is None:
            return None
        self.close_popup()
        view = self.window.view
        self.popup = HealthPopup(self, b, view)
        at = view.mapFromScene(b.scenePos()) + QPoint(int(RADIUS) + 4, int(RADIUS) + 4)
        size = self.popup.sizeHint()
        x = max(0, min(at.x(), view.width() - size.width() - 4))
        y = max(0, min(at.y(), view.height() - size.height() - 4))
        self.popup.move(x, y)
        self.popup.show()
        self.popup.raise_()
        return self.popup

    def apply_fix(self, fix: dict, popup: HealthPopup | None = None):
        """Apply one fix of the engine's forms as one undo step (None, and the reason said, if refused)."""
        doc = self.document
        if doc is None:
            return None
        if doc.locked:
            if popup is not None:
                popup.say(doc.lock_reason)
            self.window.show_status(doc.lock_reason)
            return None
        ed = doc.editor
        try:
            if not applicable(fix):
                raise AnnError(f"this fix cannot be applied in one click: {fix_text(fix)}")
            if "insert_after" in fix:
                cmd = ed.insert_after(fix["insert_after"], fix["type"], **dict(fix.get("params", {})))
            elif "params" in fix and "node" in fix:
                cmd = ed.set_params({fix["node"]: dict(fix["params"])}, text=f"Health fix: {fix_text(fix)}")
            elif "training" in fix:
                cmd = ed.set_training(f"Health fix: {fix_text(fix)}", **dict(fix["training"]))
            elif "data" in fix:
                src = dict(doc.network.data_source or {})
                if not src:
                    raise AnnError("the network names no data set to change")
                if src.get("kind") == "csv" and "standardize" in fix["data"]:
                    from ..data import restandardized_source  # the scaler is fitted anew

                    base = doc.path.parent if doc.path else None
                    try:
                        src = restandardized_source(src, bool(fix["data"]["standardize"]), base)
                    except OSError as e:
                        raise AnnError(f"cannot read the data file: {e}") from e
                else:
                    src.update(fix["data"])
                cmd = ed.set_data_source(src, text=f"Health fix: {fix_text(fix)}")
            else:
                raise AnnError(f"this fix cannot be applied in one click: {fix_text(fix)}")
        except AnnError as e:
            if popup is not None:
                popup.say(str(e))
            self.window.show_status(str(e))
            return None
        self.close_popup()
        self.window.show_status(f"Applied: {fix_text(fix)} (Undo puts it back; train again to check)")
        return cmd
