"""The inspector: edit the selected node(s) or, with nothing selected, the
network's title and description and see its summary.

What it shows is one page, replaced when the selection changes: a
:class:`NodePage` (one node), a :class:`SelectionPage` (several nodes: their
common parameters, ``—`` where they differ) or a :class:`NetworkPage` (the
network's title, description and summary). The parameter fields are a
:class:`~anndesigner.ui.form.ParamForm` built from the node types' ParamSpecs,
never written per type. Every committed edit goes through the document's
editor (``doc.editor.set_params``, ``set_label``, ``set_meta``), one undo step
each; a value the model refuses is put back and explained. The pages follow
the model's signals, so undo, redo and edits made elsewhere show at once.
"""

from __future__ import annotations

import html
import re
from collections import Counter
from dataclasses import replace
from typing import Any

import shiboken6
from PySide6.QtCore import QRect, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QFocusEvent, QPainter, QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QFormLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QSizePolicy,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from .. import targets
from ..errors import AnnError, ParameterError
from ..graph.events import Connections
from ..graph.nodetypes import fmt_shape
from ..params import ParamSpec
from .form import MIXED, MIXED_TEXT, ParamForm
from .formkit import form_layout, muted, panel_header, scroll_body, section
from .icons import icon, node_icon_name
from .style import ERROR_COLOR, node_role, role_colors

__all__ = ["InspectorWidget", "NodePage", "SelectionPage", "NetworkPage"]

MAX_ERRORS_SHOWN = 5


# --------------------------------------------------------------- pieces
class _TextEdit(QPlainTextEdit):
    """A plain-text editor that says when the user is done (focus leaves)."""

    editingFinished = Signal()

    def focusOutEvent(self, event: QFocusEvent) -> None:  # noqa: N802 (Qt override)
        super().focusOutEvent(event)
        self.editingFinished.emit()


def _value_label(name: str) -> QLabel:
    lab = QLabel()
    lab.setObjectName(name)
    lab.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    lab.setWordWrap(True)
    return lab


def _stacked_icons(names: list[str], size: int = 28) -> QPixmap:
    """Up to three node icons, cascading: the picture of a mixed selection."""
    names = names[:3]
    pm = QPixmap(size, size)
    pm.fill(Qt.GlobalColor.transparent)
    p = QPainter(pm)
    n = len(names)
    small = size if n == 1 else int(size * 0.62)
    step = 0 if n == 1 else (size - small) // (n - 1)
    for i, name in enumerate(names):
        p.drawPixmap(i * step, i * step, icon(name).pixmap(small, small))
    p.end()
    return pm


def _problems_label() -> QLabel:
    lab = QLabel()
    lab.setObjectName("inspector_problems")
    lab.setWordWrap(True)
    lab.setTextFormat(Qt.TextFormat.RichText)
    lab.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    lab.setStyleSheet(f"color: {ERROR_COLOR.name()};")
    lab.hide()
    return lab


def _show_problems(label: QLabel, messages: list[str]) -> None:
    if not messages:
        label.hide()
        label.clear()
        return
    shown = messages[:MAX_ERRORS_SHOWN]
    rows = [f"⚠ {html.escape(m)}" for m in shown]
    if len(messages) > len(shown):
        rows.append(f"<i>… and {len(messages) - len(shown)} more</i>")
    label.setText("<br>".join(rows))
    label.setToolTip("\n".join(messages))
    label.show()


def _set_text(edit: QLineEdit | QPlainTextEdit, text: str) -> bool:
    """Show ``text`` without emitting; True when it changed."""
    old = edit.toPlainText() if isinstance(edit, QPlainTextEdit) else edit.text()
    if old == text:
        return False
    was = edit.blockSignals(True)
    if isinstance(edit, QPlainTextEdit):
        edit.setPlainText(text)
    else:
        edit.setText(text)
    edit.blockSignals(was)
    return True


def shared_specs(types) -> list[ParamSpec]:
    """The parameters all ``types`` have (same name and kind), each with the narrowest
    limits and the choices they all offer."""
    out = []
    for spec in types[0].params:
        specs = []
        for t in types:
            other = next((p for p in t.params if p.name == spec.name), None)
            if other is None or other.kind != spec.kind:
                break
            specs.append(other)
        else:
            lo = [s.minimum for s in specs if s.minimum is not None]
            hi = [s.maximum for s in specs if s.maximum is not None]
            out.append(replace(spec, minimum=max(lo) if lo else None, maximum=min(hi) if hi else None,
                               choices=tuple(c for c in spec.choices if all(c in s.choices for s in specs))))
    return out


# ------------------------------------------------------------------ pages
class _Page(QWidget):
    """What the inspector shows for one selection; replaced when the selection changes.

    ``kind`` names it (``empty``, ``single``, ``multi``, ``summary``); ``form``
    holds its parameter fields (None on pages without any).
    """

    kind = "empty"

    def __init__(self, inspector: "InspectorWidget"):
        super().__init__()
        self.inspector = inspector
        self.doc = inspector.document
        self.graph = self.doc.graph if self.doc is not None else None
        self.form: ParamForm | None = None
        self.setObjectName(f"inspector_page_{self.kind}")
        self.lay = QVBoxLayout(self)
        self.lay.setContentsMargins(8, 8, 8, 8)
        self.lay.setSpacing(6)

    def show_values(self, keys: tuple[str, ...] | None) -> None:
        """Put the model's values into the editors (no commands, no signals)."""

    def refresh_facts(self, analysis) -> None:
        """Shapes, parameter counts and errors from the graph's analysis."""

    def commit_focused(self, focus: QWidget) -> None:
        """Commit an edit still being typed in ``focus`` before the page goes away."""
        if self.form is not None:
            self.form.commit_focused(focus)

    def apply_lock(self, training: bool) -> None:
        """While training, only parameters marked ``live`` stay editable."""
        if self.form is not None:
            for name in self.form.names():
                self.form.set_enabled(name, not training or self.form.param_field(name).spec.live)

    def error_text(self) -> str:
        return self.form.error_text() if self.form is not None else ""

    def refuse(self, message: str, name: str | None = None) -> None:
        """Show why an edit was refused and put the model's value back."""
        if name is not None:
            self.show_values((name,))
        if self.form is not None:
            self.form.set_error(name, message)
        self.inspector.statusMessage.emit(message)

    def clear_error(self) -> None:
        if self.form is not None:
            self.form.clear_error()


class _NodesPage(_Page):
    """A page that edits the parameters of ``node_ids`` (one node or several)."""

    def __init__(self, inspector: "InspectorWidget", node_ids: list[str]):
        super().__init__(inspector)
        self.node_ids = list(node_ids)
        self.types = [self.graph.node_type(n) for n in self.node_ids]

    def _add_form(self, rows: QFormLayout) -> ParamForm:
        form = self.form = ParamForm(shared_specs(self.types), self, host=rows, error_name="inspector_error")
        form.edited.connect(self._commit_param)
        form.refused.connect(lambda name, message: self.refuse(message, name))
        return form

    def _nodes(self):
        g = self.graph
        return [g.nodes[n] for n in self.node_ids if n in g.nodes]

    def show_values(self, keys: tuple[str, ...] | None) -> None:
        nodes = self._nodes()
        form = self.form
        if not nodes or form is None:
            return
        for name in form.names():
            if keys is not None and name not in keys:
                continue
            values = [n.params[name] for n in nodes]
            uniform = all(form.same(name, values[0], v) for v in values[1:])
            form.set_values({name: values[0] if uniform else MIXED})

    def _commit_param(self, name: str, value: Any) -> None:
        if self.inspector.page is not self:
            return  # an editor of a page that is going away
        nodes = self._nodes()
        if not nodes:
            return
        form = self.form
        changes = {n.id: {name: value} for n in nodes if not form.same(name, n.params[name], value)}
        if not changes:
            self.show_values((name,))  # e.g. leave a tristate box or a reformatted shape tidy
            return
        try:
            self.doc.editor.set_params(changes)
        except ParameterError as e:
            self.refuse(self._friendly(e, form.param_field(name).spec, len(nodes) > 1), name)
            return
        except AnnError as e:  # EditLocked: a training run holds the structure
            self.refuse(str(e), name)
            return
        self.clear_error()

    @staticmethod
    def _friendly(err: ParameterError, spec: ParamSpec, several: bool) -> str:
        """"node 'dense_1': parameter 'units' must be ..." -> "Units must be ..." (naming the node
        only when several are edited)."""
        m = re.match(r"node '([^']*)': parameter '[^']*' (.*)$", err.message, re.S)
        if not m:
            return err.message
        return f"{spec.title} of {m.group(1)} {m.group(2)}" if several else f"{spec.title} {m.group(2)}"


class NodePage(_NodesPage):
    """One node: its label, its parameters, its output shape, weights, inputs and problems."""

    kind = "single"

    def __init__(self, inspector: "InspectorWidget", node_id: str):
        super().__init__(inspector, [node_id])
        node = self.graph.nodes[node_id]
        t = self.types[0]
        self.lay.addWidget(panel_header(icon(node_icon_name(t.type_id)), t.title, f"{node.id} · {t.category}",
                                        node_role(t)))
        desc = muted(t.description)
        desc.setObjectName("inspector_description")
        self.lay.addWidget(desc)

        rows = form_layout()
        rows.addRow(section("Node"))
        self.label_edit = QLineEdit()
        self.label_edit.setObjectName("node_label")
        self.label_edit.setPlaceholderText(f"(shown as {node.id})")
        self.label_edit.setClearButtonEnabled(True)
        self.label_edit.setToolTip("A name of your own, shown on the canvas")
        self.label_edit.editingFinished.connect(self._commit_label)
        rows.addRow("Label", self.label_edit)
        if t.params:
            rows.addRow(section("Parameters"))
        form = self._add_form(rows)
        rows.addRow(form.error_label)

        rows.addRow(section("Analysis"))
        self.shape_label = _value_label("fact_shape")
        self.params_label = _value_label("fact_params")
        self.inputs_label = _value_label("fact_inputs")
        rows.addRow("Output shape", self.shape_label)
        rows.addRow("Parameters", self.params_label)
        if t.inputs:
            rows.addRow("Inputs", self.inputs_label)
        else:  # a starting point: nothing to list
            self.inputs_label.setParent(self)
            self.inputs_label.hide()
        self.problems = _problems_label()
        rows.addRow(self.problems)
        self.lay.addLayout(rows)
        self.lay.addStretch(1)

    @property
    def node_id(self) -> str:
        return self.node_ids[0]

    def show_values(self, keys: tuple[str, ...] | None) -> None:
        super().show_values(keys)
        nodes = self._nodes()
        if nodes and (keys is None or "label" in keys):
            _set_text(self.label_edit, nodes[0].label)

    def refresh_facts(self, a) -> None:
        nid = self.node_id
        self.shape_label.setText(fmt_shape(a.shapes.get(nid)))
        self.params_label.setText(f"{a.param_counts.get(nid, 0):,}")
        ins = [e.src for e in self.graph.in_edges(nid)]
        self.inputs_label.setText(", ".join(ins) if ins else "none")
        _show_problems(self.problems, [e.message for e in a.errors_for(nid)])

    def commit_focused(self, focus: QWidget) -> None:
        if focus is self.label_edit:
            self._commit_label()
        else:
            super().commit_focused(focus)

    def _commit_label(self) -> None:
        if self.inspector.page is not self:
            return
        self.doc.editor.set_label(self.node_id, self.label_edit.text().strip())


class SelectionPage(_NodesPage):
    """Several nodes: what they are, their common parameters (an edit applies to all as
    one step), their weights and problems."""

    kind = "multi"

    def __init__(self, inspector: "InspectorWidget", node_ids: list[str]):
        super().__init__(inspector, node_ids)
        types = self.types
        counts = Counter(t.title for t in types)
        kinds = ", ".join(f"{c} × {title}" for title, c in counts.items())
        distinct = list(dict.fromkeys(t.type_id for t in types))
        t0 = types[0]
        header = panel_header(_stacked_icons([node_icon_name(tid) for tid in distinct]),
                              f"{len(node_ids)} nodes selected", kinds,
                              node_role(t0) if len(distinct) == 1 else None)
        header.findChild(QLabel, "inspector_title").setObjectName("selection_title")
        self.lay.addWidget(header)
        ids = muted(", ".join(node_ids))
        ids.setObjectName("selection_ids")
        self.lay.addWidget(ids)

        rows = form_layout()
        rows.addRow(section("Common parameters"))
        form = self._add_form(rows)
        if form.names():
            rows.addRow(muted(f"An edit applies to all {len(node_ids)} nodes as one step; "
                              f"{MIXED_TEXT} marks values that differ."))
        else:
            rows.addRow(muted("These nodes have no parameters in common.", small=False))
        rows.addRow(form.error_label)

        rows.addRow(section("Analysis"))
        self.params_label = _value_label("fact_params")
        rows.addRow("Parameters", self.params_label)
        self.problems = _problems_label()
        rows.addRow(self.problems)
        self.lay.addLayout(rows)
        self.lay.addStretch(1)

    def refresh_facts(self, a) -> None:
        total = sum(a.param_counts.get(n, 0) for n in self.node_ids)
        self.params_label.setText(f"{total:,} in the selection")
        sel = set(self.node_ids)
        _show_problems(self.problems, [e.message for e in a.errors if e.node_id in sel])


class NetworkPage(_Page):
    """Nothing selected: the network's title and description, its totals, problems and nodes."""

    kind = "summary"

    def __init__(self, inspector: "InspectorWidget"):
        super().__init__(inspector)
        doc = self.doc
        name = doc.display_name() if hasattr(doc, "display_name") else "Network"
        self.lay.addWidget(panel_header(icon("app"), "Network", name, None))

        self.lay.addWidget(section("About"))
        self.title_edit = QLineEdit()
        self.title_edit.setObjectName("meta_title")
        self.title_edit.setPlaceholderText("Untitled network")
        self.title_edit.setToolTip("The network's title, saved in the file")
        self.title_edit.editingFinished.connect(self._commit_title)
        self.description_edit = _TextEdit()
        self.description_edit.setObjectName("meta_description")
        self.description_edit.setPlaceholderText("What this network does, its data, notes…")
        self.description_edit.setTabChangesFocus(True)
        self.description_edit.setFixedHeight(self.description_edit.fontMetrics().lineSpacing() * 5 + 12)
        self.description_edit.editingFinished.connect(self._commit_description)
        self.lay.addWidget(muted("Title"))
        self.lay.addWidget(self.title_edit)
        self.lay.addWidget(muted("Description"))
        self.lay.addWidget(self.description_edit)
        self.target_label = QLabel()
        self.target_label.setObjectName("meta_target")
        self.target_label.setWordWrap(True)
        self.target_label.setToolTip("The quality this network reaches when trained with its saved settings")
        self.target_label.hide()
        self.lay.addWidget(self.target_label)

        rows = form_layout()
        rows.addRow(section("Totals"))
        self.nodes_label = _value_label("summary_nodes")
        self.wires_label = _value_label("summary_wires")
        self.params_label = _value_label("summary_params")
        self.errors_label = _value_label("summary_errors")
        rows.addRow("Nodes", self.nodes_label)
        rows.addRow("Wires", self.wires_label)
        rows.addRow("Parameters", self.params_label)
        rows.addRow("Problems", self.errors_label)
        self.problems = _problems_label()
        rows.addRow(self.problems)
        self.lay.addLayout(rows)

        self.lay.addWidget(section("Nodes"))
        self.table = self._make_table()
        self.lay.addWidget(self.table)
        self.lay.addStretch(1)

    def _make_table(self) -> QTableWidget:
        table = QTableWidget(0, 4)
        table.setObjectName("summary_table")
        table.setHorizontalHeaderLabels(["Node", "Type", "Shape", "Params"])
        table.verticalHeader().hide()
        table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        table.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        table.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        table.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        table.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        table.setShowGrid(False)
        table.setAlternatingRowColors(True)
        table.setWordWrap(False)
        table.setToolTip("Double-click a row to select the node")
        f = table.font()
        f.setPointSizeF(max(f.pointSizeF() * 0.92, 7.0))
        table.setFont(f)
        table.verticalHeader().setDefaultSectionSize(table.fontMetrics().height() + 6)
        hh = table.horizontalHeader()
        hh.setHighlightSections(False)
        hh.setMinimumSectionSize(24)
        hh.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for c in (1, 2, 3):
            hh.setSectionResizeMode(c, QHeaderView.ResizeMode.ResizeToContents)
        hh.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        table.cellDoubleClicked.connect(self._on_table_double_clicked)
        return table

    def show_path(self) -> None:
        sub = self.findChild(QLabel, "inspector_subtitle")
        if sub is not None:
            sub.setText(self.doc.display_name())

    def show_values(self, keys: tuple[str, ...] | None) -> None:
        meta = self.graph.meta
        _set_text(self.title_edit, str(meta.get("title") or ""))
        if _set_text(self.description_edit, str(meta.get("description") or "")):
            self._fit_description()
        target = meta.get("target")
        text = ""
        if target:
            try:
                text = "Target: " + targets.describe(targets.check(target))
            except AnnError:
                text = ""
        self.target_label.setText(text)
        self.target_label.setVisible(bool(text))

    def _fit_description(self) -> None:
        """Tall enough for the whole description (5 to 14 lines), so a sample's story reads at once."""
        e = self.description_edit
        fm = e.fontMetrics()
        line = fm.lineSpacing()
        width = max(e.viewport().width(), e.width() - 24, 240) - 8
        text_h = fm.boundingRect(QRect(0, 0, int(width), 100_000), Qt.TextFlag.TextWordWrap,
                                 e.toPlainText()).height()
        lines = max(5, min(14, text_h // max(line, 1) + 1))
        e.setFixedHeight(line * lines + 12)

    def refresh_facts(self, a) -> None:
        g = self.graph
        n_err = len(a.errors)
        self.nodes_label.setText(f"{len(g.nodes):,}")
        self.wires_label.setText(f"{len(g.edges):,}")
        self.params_label.setText(f"{a.total_params:,}")
        if n_err:
            self.errors_label.setText(f"{n_err}")
            self.errors_label.setStyleSheet(f"color: {ERROR_COLOR.name()}; font-weight: bold;")
        else:
            self.errors_label.setText("none")
            self.errors_label.setStyleSheet("color: #2E7D32;")
        _show_problems(self.problems, [e.message for e in a.errors])
        self._fill_table(a)

    def _fill_table(self, a) -> None:
        g = self.graph
        table = self.table
        rows = g.summary_rows()
        bad = {e.node_id for e in a.errors}
        table.setRowCount(len(rows))
        for r, (nid, type_id, shape, count) in enumerate(rows):
            node = g.nodes[nid]
            t = g.node_type(node)
            cells = [
                QTableWidgetItem(nid),
                QTableWidgetItem(type_id),
                QTableWidgetItem(shape),
                QTableWidgetItem(f"{count:,}"),
            ]
            cells[0].setData(Qt.ItemDataRole.UserRole, nid)
            cells[0].setToolTip(f"{nid} ({t.title})" + (f": {node.label}" if node.label else ""))
            cells[1].setForeground(role_colors(node_role(t))[1].darker(120))
            cells[1].setToolTip(t.description)
            cells[3].setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            for c, item in enumerate(cells):
                if nid in bad:
                    item.setForeground(ERROR_COLOR)
                    item.setToolTip("\n".join(e.message for e in a.errors_for(nid)))
                table.setItem(r, c, item)
        h = table.horizontalHeader().height() + sum(table.rowHeight(r) for r in range(len(rows))) + 2
        table.setFixedHeight(max(h, table.horizontalHeader().height() + 4))

    def commit_focused(self, focus: QWidget) -> None:
        if focus is self.title_edit:
            self._commit_title()
        elif focus is self.description_edit or self.description_edit.isAncestorOf(focus):
            self._commit_description()

    def _commit_title(self) -> None:
        self._commit_meta("title", self.title_edit.text().strip())

    def _commit_description(self) -> None:
        self._commit_meta("description", self.description_edit.toPlainText().rstrip())

    def _commit_meta(self, key: str, text: str) -> None:
        if self.inspector.page is self and text != str(self.graph.meta.get(key) or ""):
            self.doc.editor.set_meta(**{key: text or None})

    def _on_table_double_clicked(self, row: int, column: int) -> None:
        item = self.table.item(row, 0)
        if item is not None:
            self.inspector.nodeActivated.emit(item.data(Qt.ItemDataRole.UserRole))


class _EmptyPage(_Page):
    kind = "empty"

    def __init__(self, inspector: "InspectorWidget"):
        super().__init__(inspector)
        self.lay.addWidget(muted("No network open.", small=False))
        self.lay.addStretch(1)


# -------------------------------------------------------------- inspector
class InspectorWidget(QWidget):
    """Edits the selected node(s) or, with nothing selected, the network.

    Signals: ``statusMessage(str)`` (refusals, for the status bar) and
    ``nodeActivated(str)`` (a node's row double-clicked in the summary table).
    """

    statusMessage = Signal(str)
    nodeActivated = Signal(str)

    def __init__(self, document, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("inspector")
        self._doc = None
        self._graph = None
        self._connections = Connections()
        self._selection: list[str] = []
        self._training = False
        self._page: _Page | None = None
        self._qt_connections = Connections()
        # analysis facts are refreshed once per burst of model events: when the command
        # that caused them is done (undo stack index), or else on the next turn of the event loop
        self._facts_dirty = False
        self._facts_timer = QTimer(self)
        self._facts_timer.setSingleShot(True)
        self._facts_timer.setInterval(0)
        self._facts_timer.timeout.connect(self.refresh)

        self._scroll = scroll_body(self, "inspector_scroll")

        # the graph's plain-callable signals hold bound methods: drop them when this widget dies
        conns = self._connections
        self.destroyed.connect(lambda *_: conns.disconnect_all())
        self.set_document(document)

    # --------------------------------------------------------- public API
    @property
    def document(self):
        return self._doc

    @property
    def page(self) -> _Page | None:
        """The page shown now."""
        return self._page

    def selection(self) -> list[str]:
        return list(self._selection)

    def set_document(self, document) -> None:
        """Show another document; the old graph's signals are disconnected."""
        self._connections.disconnect_all()
        self._qt_connections.disconnect_all()
        self._doc = document
        self._graph = document.graph if document is not None else None
        g = self._graph
        if document is not None:
            self._qt_connections.connect_many(((document.undo_stack.indexChanged, self._on_stack_index_changed),
                                               (document.pathChanged, self._on_path_changed)))
        if g is not None:
            self._connections.connect_many((
                (g.node_added, self._on_node_added),
                (g.node_removed, self._on_node_removed),
                (g.node_changed, self._on_node_changed),
                (g.edge_added, self._on_structure_changed),
                (g.edge_removed, self._on_structure_changed),
                (g.meta_changed, self._on_meta_changed),
            ))
        self._selection = []
        self._rebuild()

    def refresh(self) -> None:
        """Bring shapes, counts, errors and the summary up to date now."""
        self._facts_timer.stop()
        self._facts_dirty = False
        if self._alive() and self._page is not None and self._graph is not None:
            self._page.refresh_facts(self._graph.analyze())

    def set_selection(self, node_ids: list[str]) -> None:
        """Show these nodes (unknown ids are ignored; none: the network summary)."""
        g = self._graph
        ids = list(dict.fromkeys(n for n in node_ids if g is not None and n in g.nodes))
        if ids == self._selection and self._page is not None:
            return
        self._commit_focused()
        self._selection = ids
        self._rebuild()

    def set_training(self, active: bool) -> None:
        """While training, only parameters marked ``live`` stay editable."""
        self._training = bool(active)
        if self._page is not None:
            self._page.apply_lock(self._training)

    def field(self, name: str) -> QWidget | None:
        """The editor of parameter ``name`` on the current page (tests, shortcuts)."""
        form = self._page.form if self._page is not None else None
        return form.field(name) if form is not None and name in form.names() else None

    def page_kind(self) -> str:
        """``"summary"``, ``"single"``, ``"multi"`` or ``"empty"``."""
        return self._page.kind if self._page is not None else "empty"

    def error_text(self) -> str:
        """The inline refusal message shown now ('' when none)."""
        return self._page.error_text() if self._page is not None else ""

    # ------------------------------------------------------ model events
    def _alive(self) -> bool:
        return shiboken6.isValid(self)  # False once the C++ side is gone

    def _facts_changed(self) -> None:
        if self._alive():
            self._facts_dirty = True
            self._facts_timer.start()

    @Slot(int)
    def _on_stack_index_changed(self, index: int) -> None:
        if self._facts_dirty:
            self.refresh()

    @Slot(object)
    def _on_path_changed(self, path) -> None:
        if isinstance(self._page, NetworkPage):
            self._page.show_path()

    def _on_node_added(self, node, index) -> None:
        self._facts_changed()

    def _on_node_removed(self, node, index) -> None:
        if not self._alive():
            return
        if node.id in self._selection:
            self._selection = [n for n in self._selection if n != node.id]
            self._rebuild()
        else:
            self._facts_changed()

    def _on_node_changed(self, node, keys) -> None:
        if not self._alive():
            return
        if node.id in self._selection and self._page is not None:
            self._page.show_values(keys)
        if keys != ("label",) or isinstance(self._page, NetworkPage):
            self._facts_changed()

    def _on_structure_changed(self, *args) -> None:
        self._facts_changed()

    def _on_meta_changed(self, keys) -> None:
        if self._alive() and isinstance(self._page, NetworkPage):
            self._page.show_values(None)

    # ----------------------------------------------------------- building
    def _rebuild(self) -> None:
        old = self._page
        n = len(self._selection)
        if self._graph is None:
            page: _Page = _EmptyPage(self)
        elif n == 0:
            page = NetworkPage(self)
        elif n == 1:
            page = NodePage(self, self._selection[0])
        else:
            page = SelectionPage(self, self._selection)
        self._page = page
        if old is not None:
            # not deleted at once: this may run inside a signal of one of its widgets
            self._scroll.takeWidget()
            old.hide()
            old.deleteLater()
        self._scroll.setWidget(page)
        page.show_values(None)
        self.refresh()
        page.apply_lock(self._training)

    def _commit_focused(self) -> None:
        """Commit an edit still being typed before the page goes away."""
        page = self._page
        focus = QApplication.focusWidget()
        if page is not None and focus is not None and page.isAncestorOf(focus):
            page.commit_focused(focus)
