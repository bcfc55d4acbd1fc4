"""The node palette: every registered node type, grouped by category, with a
search box. Double-click or Enter asks for a node (``addRequested``); dragging
an entry carries its type id to the canvas (:data:`~anndesigner.ui.mime.MIME_NODE_TYPE`).

The palette knows node types only through the registry it is given; it never
touches a document.
"""

from __future__ import annotations

import html
import re

from PySide6.QtCore import QByteArray, QEvent, QPoint, QMimeData, QModelIndex, QPersistentModelIndex, QRect, QSize, Qt, Signal
from PySide6.QtGui import QColor, QDrag, QFont, QIcon, QKeyEvent, QPainter, QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView,
    QLabel,
    QLineEdit,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ..graph.nodetypes import BUILTIN_REGISTRY, CATEGORIES
from ..graph.registry import NodeType, NodeTypeRegistry
from .icons import icon, node_icon_name
from .mime import MIME_NODE_TYPE
from .style import MUTED_TEXT, node_role, role_colors

TYPE_ROLE = Qt.ItemDataRole.UserRole + 1  # type id of an entry (None on headers)
ACCENT_ROLE = Qt.ItemDataRole.UserRole + 2  # QColor of the entry's role
HEADER_ROLE = Qt.ItemDataRole.UserRole + 3  # True on category headers


def node_type_icon(node_type: NodeType) -> QIcon:
    """The type's SVG icon, or a dot in its role colour for types without one."""
    ic = icon(node_icon_name(node_type.type_id))
    if not ic.isNull():
        return ic
    fill, accent = role_colors(node_role(node_type))
    pm = QPixmap(32, 32)
    pm.fill(Qt.GlobalColor.transparent)
    p = QPainter(pm)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    p.setPen(accent)
    p.setBrush(fill)
    p.drawEllipse(5, 5, 22, 22)
    p.end()
    return QIcon(pm)


def node_type_tooltip(node_type: NodeType) -> str:
    """Rich-text tooltip: the title, the math in a line or two, then the parameters."""
    e = html.escape
    lines = [f"<b>{e(node_type.title)}</b> <span style='color:{MUTED_TEXT.name()}'>({e(node_type.type_id)})</span>",
             e(node_type.description)]
    if node_type.params:
        parts = []
        for p in node_type.params:
            default = ", ".join(map(str, p.default)) if isinstance(p.default, (list, tuple)) else p.default
            parts.append(f"{e(p.label or p.name)} = {e(str(default))}")
        lines.append(f"<span style='color:{MUTED_TEXT.name()}'>Parameters: {'; '.join(parts)}</span>")
    if not node_type.inputs:
        lines.append(f"<span style='color:{MUTED_TEXT.name()}'>No inputs: a starting point.</span>")
    elif not node_type.outputs:
        lines.append(f"<span style='color:{MUTED_TEXT.name()}'>No outputs: an end point.</span>")
    lines.append(f"<i style='color:{MUTED_TEXT.name()}'>Double-click or drag onto the canvas.</i>")
    return "<p style='white-space:normal'>" + "<br>".join(lines) + "</p>"


class _EntryDelegate(QStyledItemDelegate):
    """Paints a thin role-coloured marker at the left of every entry and a
    rule under category headers."""

    def sizeHint(self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex) -> QSize:
        s = super().sizeHint(option, index)
        extra = 10 if index.data(HEADER_ROLE) else 6
        return QSize(s.width(), s.height() + extra)

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex) -> None:
        if index.data(HEADER_ROLE):
            opt = QStyleOptionViewItem(option)
            self.initStyleOption(opt, index)
            painter.save()
            painter.setPen(QColor(MUTED_TEXT))
            f = QFont(opt.font)
            f.setBold(True)
            painter.setFont(f)
            r = opt.rect.adjusted(4, 4, -4, 0)
            painter.drawText(r, int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter), opt.text)
            painter.setPen(QColor("#CFD8DC"))
            painter.drawLine(opt.rect.left() + 4, opt.rect.bottom(), opt.rect.right() - 4, opt.rect.bottom())
            painter.restore()
            return
        super().paint(painter, option, index)
        accent = index.data(ACCENT_ROLE)
        if isinstance(accent, QColor):
            painter.save()
            painter.setRenderHint(QPainter.RenderHint.Antialiasing)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(accent)
            r = option.rect
            painter.drawRoundedRect(QRect(r.left() + 1, r.top() + 4, 3, r.height() - 8), 1.5, 1.5)
            painter.restore()


class _PaletteTree(QTreeWidget):
    """The list of entries; starts drags with the palette's MIME data and
    turns Enter/Return into an add request."""

    def __init__(self, palette: "PaletteWidget"):
        super().__init__(palette)
        self._palette = palette

    def startDrag(self, supportedActions: Qt.DropAction) -> None:  # noqa: N802 (Qt override)
        type_id = self._palette._current_type_id()
        if type_id is None:
            return
        drag = QDrag(self)
        drag.setMimeData(self._palette.mime_data_for(type_id))
        ic = self._palette._icons.get(type_id)
        if ic is not None:
            pm = ic.pixmap(QSize(32, 32), self.devicePixelRatioF())
            drag.setPixmap(pm)
            drag.setHotSpot(QPoint(16, 16))
        drag.exec(Qt.DropAction.CopyAction)

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 (Qt override)
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            type_id = self._palette._current_type_id()
            if type_id is not None:
                self._palette.addRequested.emit(type_id)
                event.accept()
                return
        if event.key() == Qt.Key.Key_Up and self._palette._first_visible_entry() is self.currentItem():
            self._palette.search.setFocus(Qt.FocusReason.OtherFocusReason)
            event.accept()
            return
        super().keyPressEvent(event)


_WORDS = re.compile(r"\w+")


class PaletteWidget(QWidget):
    """Node types by category, filterable; emits ``addRequested(type_id)``."""

    addRequested = Signal(str)

    def __init__(self, registry: NodeTypeRegistry = BUILTIN_REGISTRY, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("palette")
        self._registry = registry
        self._icons: dict[str, QIcon] = {}
        self._entries: list[tuple[QTreeWidgetItem, NodeType]] = []
        self._headers: list[QTreeWidgetItem] = []

        self.search = QLineEdit(self)
        self.search.setObjectName("palette_search")
        self.search.setPlaceholderText("Search nodes…")
        self.search.setClearButtonEnabled(True)
        self.search.setToolTip("Filter by name or group (then parameters; the descriptions only when nothing "
                               "is named so). Enter adds the node when one matches; Down moves into the list.")
        self.search.textChanged.connect(self._apply_filter)
        self.search.returnPressed.connect(self._add_single_match)
        self.search.installEventFilter(self)

        self.tree = _PaletteTree(self)
        self.tree.setObjectName("palette_list")
        self.tree.setHeaderHidden(True)
        self.tree.setRootIsDecorated(False)
        self.tree.setItemsExpandable(False)
        self.tree.setIndentation(6)
        self.tree.setUniformRowHeights(False)
        self.tree.setIconSize(QSize(20, 20))
        self.tree.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.tree.setDragEnabled(True)
        self.tree.setDragDropMode(QAbstractItemView.DragDropMode.DragOnly)
        self.tree.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.tree.setMouseTracking(True)
        self.tree.setItemDelegate(_EntryDelegate(self.tree))
        self.tree.setFrameShape(QTreeWidget.Shape.NoFrame)
        self.tree.itemDoubleClicked.connect(self._on_double_clicked)

        self.empty_label = QLabel("No node matches.", self)
        self.empty_label.setObjectName("palette_empty")
        self.empty_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty_label.setStyleSheet(f"color: {MUTED_TEXT.name()}; padding: 12px;")
        self.empty_label.hide()

        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.setSpacing(4)
        lay.addWidget(self.search)
        lay.addWidget(self.tree, 1)
        lay.addWidget(self.empty_label)
        lay.addStretch(0)

        self._populate()

    # ---------------------------------------------------------- building
    def _populate(self) -> None:
        by_cat = self._registry.categories()
        order = [c for c in CATEGORIES if c in by_cat] + [c for c in by_cat if c not in CATEGORIES]
        for cat in order:
            types = by_cat.get(cat, [])
            if not types:
                continue
            header = QTreeWidgetItem(self.tree, [cat])
            header.setFlags(Qt.ItemFlag.ItemIsEnabled)
            header.setData(0, HEADER_ROLE, True)
            f = header.font(0)
            f.setBold(True)
            header.setFont(0, f)
            self._headers.append(header)
            for t in types:
                item = QTreeWidgetItem(header, [t.title])
                item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemIsDragEnabled)
                ic = node_type_icon(t)
                self._icons[t.type_id] = ic
                item.setIcon(0, ic)
                item.setData(0, TYPE_ROLE, t.type_id)
                item.setData(0, ACCENT_ROLE, role_colors(node_role(t))[1])
                item.setToolTip(0, node_type_tooltip(t))
                item.setStatusTip(0, t.description)
                self._entries.append((item, t))
            header.setExpanded(True)

    # ----------------------------------------------------------- public
    def mime_data_for(self, type_id: str) -> QMimeData:
        """The drag payload for a node type: its id as UTF-8 under MIME_NODE_TYPE."""
        type_id = self._registry.get(type_id).type_id  # resolves aliases; raises for unknown ids
        md = QMimeData()
        md.setData(MIME_NODE_TYPE, QByteArray(type_id.encode("utf-8")))
        md.setText(type_id)
        return md

    def visible_type_ids(self) -> list[str]:
        """The type ids the current filter shows, in display order."""
        return [t.type_id for item, t in self._entries if not item.isHidden() and not item.parent().isHidden()]

    def set_filter(self, text: str) -> None:
        self.search.setText(text)

    # ----------------------------------------------------------- filter
    @staticmethod
    def _term_tier(t: NodeType, term: str) -> int | None:
        """How well ``term`` names ``t``: 0 by its name (title, id, alias), 1 by its group,
        2 by a parameter, 3 by a word of its description; None if not at all."""
        if any(term in s.casefold() for s in (t.title, t.type_id, *t.aliases)):
            return 0

        def starts_a_word(text: str) -> bool:
            return any(w.startswith(term) for w in _WORDS.findall(text.casefold()))

        if starts_a_word(t.category):
            return 1
        if any(starts_a_word(p.label or p.name) or starts_a_word(p.name) for p in t.params):
            return 2
        if starts_a_word(t.description):
            return 3
        return None

    @classmethod
    def match_tier(cls, t: NodeType, terms: list[str]) -> int | None:
        """The tier at which every term matches ``t`` (the worst term's), or None."""
        worst = 0
        for term in terms:
            tier = cls._term_tier(t, term)
            if tier is None:
                return None
            worst = max(worst, tier)
        return worst

    def _apply_filter(self, text: str) -> None:
        terms = text.casefold().split()
        tiers = {t.type_id: self.match_tier(t, terms) for _, t in self._entries} if terms else {}
        # names and groups first: "output" lists Output, not every layer whose description says "output"
        limit = max(1, min((v for v in tiers.values() if v is not None), default=1))
        for item, t in self._entries:
            tier = tiers.get(t.type_id)
            item.setHidden(bool(terms) and (tier is None or tier > limit))
        for header in self._headers:
            header.setHidden(all(header.child(i).isHidden() for i in range(header.childCount())))
        visible = self.visible_type_ids()
        self.empty_label.setVisible(not visible)
        self.tree.setVisible(bool(visible))
        cur = self.tree.currentItem()
        if cur is not None and (cur.isHidden() or (cur.parent() is not None and cur.parent().isHidden())):
            self.tree.setCurrentItem(None)
        if len(visible) == 1 and terms:
            self.tree.setCurrentItem(self._item_for(visible[0]))

    def _add_single_match(self) -> None:
        visible = self.visible_type_ids()
        if len(visible) == 1:
            self.addRequested.emit(visible[0])
        elif visible and self.search.text().strip():
            # several matches: Enter moves into the list, so a second Enter picks one
            self.tree.setFocus(Qt.FocusReason.OtherFocusReason)
            self.tree.setCurrentItem(self._first_visible_entry())

    def eventFilter(self, obj, event) -> bool:  # noqa: N802 (Qt override)
        if obj is self.search and event.type() == QEvent.Type.KeyPress:
            if event.key() == Qt.Key.Key_Down:
                first = self._first_visible_entry()
                if first is not None:
                    self.tree.setFocus(Qt.FocusReason.OtherFocusReason)
                    self.tree.setCurrentItem(first)
                return True
            if event.key() == Qt.Key.Key_Escape and self.search.text():
                self.search.clear()
                return True
        return super().eventFilter(obj, event)

    # ---------------------------------------------------------- helpers
    def _item_for(self, type_id: str) -> QTreeWidgetItem | None:
        for item, t in self._entries:
            if t.type_id == type_id:
                return item
        return None

    def _first_visible_entry(self) -> QTreeWidgetItem | None:
        ids = self.visible_type_ids()
        return self._item_for(ids[0]) if ids else None

    def _current_type_id(self) -> str | None:
        item = self.tree.currentItem()
        return item.data(0, TYPE_ROLE) if item is not None else None

    def _on_double_clicked(self, item: QTreeWidgetItem, column: int) -> None:
        type_id = item.data(0, TYPE_ROLE)
        if type_id:
            self.addRequested.emit(type_id)
