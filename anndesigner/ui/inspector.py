"""The inspector: edit the selected node(s) or, with nothing selected, the
network's title and description and see its summary.

Forms are built from each node type's parameter schema (:class:`ParamSpec`),
never written per type. Every committed edit is ONE undo command
(:class:`SetParamsCommand`, :class:`SetLabelCommand`, :class:`SetMetaCommand`);
a value the model refuses is reverted and explained. The widgets follow the
model's signals, so undo, redo and edits made elsewhere show up at once.
"""

from __future__ import annotations

import html
import re
from collections import Counter
from typing import Any, Callable

import shiboken6
from PySide6.QtCore import QRect, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QFocusEvent, QPainter, QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView,
    QAbstractSpinBox,
    QApplication,
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QSizePolicy,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from .. import targets
from ..errors import AnnError, ParameterError
from ..graph.events import Connections
from ..graph.nodetypes import fmt_shape
from ..graph.registry import ParamSpec
from .commands import SetLabelCommand, SetMetaCommand, SetParamsCommand
from .formkit import (ComboBox, DoubleSpinBox, SpinBox, error_label, form_layout, muted, panel_header, scroll_body,
                      section)
from .icons import icon, node_icon_name
from .style import ERROR_COLOR, role_colors, role_of

#: a field whose nodes hold different values
MIXED: Any = type("Mixed", (), {"__repr__": lambda self: "MIXED"})()
MIXED_TEXT = "—"
MAX_ERRORS_SHOWN = 5

INT_RANGE = (-1_000_000_000, 1_000_000_000)
FLOAT_RANGE = (-1e6, 1e6)
FLOAT_DECIMALS = 4
SMALL_FLOAT_DECIMALS = 8


class RefusedText(ValueError):
    """Text in an editor that cannot be read as a value of its kind."""


def parse_shape(text: str) -> list[int]:
    """``"8, 8, 1"`` (or ``"8 8 1"``, ``"8x8x1"``, ``"(8, 8, 1)"``) -> ``[8, 8, 1]``.

    Only the syntax is checked here; the model judges the numbers."""
    body = text.strip().strip("()[]").strip()
    parts = [p for p in re.split(r"[\s,;x×]+", body) if p]
    if not parts:
        raise RefusedText("needs at least one size, e.g. 2 or 8, 8, 1")
    out = []
    for p in parts:
        if not re.fullmatch(r"[+-]?\d+", p):
            raise RefusedText(f"'{text.strip()}' is not a list of whole numbers like 8, 8, 1")
        out.append(int(p))
    return out


def format_value(kind: str, value: Any) -> str:
    if kind == "shape":
        return ", ".join(str(v) for v in value)
    return str(value)


# ------------------------------------------------------------------- editors
class _TextEdit(QPlainTextEdit):
    """A plain-text editor that says when the user is done (focus leaves)."""

    editingFinished = Signal()

    def focusOutEvent(self, event: QFocusEvent) -> None:  # noqa: N802 (Qt override)
        super().focusOutEvent(event)
        self.editingFinished.emit()


class ParamField:
    """One row of the form: an editor for a parameter of one or several nodes.

    ``show`` sets the editor from the model without emitting anything;
    ``read`` returns the editor's value, :data:`MIXED` while a multi-selection
    field has not been edited, or raises :class:`RefusedText`.
    """

    def __init__(self, name: str, specs: list[ParamSpec], on_commit: Callable[["ParamField"], None]):
        self.name = name
        self.spec = specs[0]
        self.kind = self.spec.kind
        self.mixed = False
        lo = [s.minimum for s in specs if s.minimum is not None]
        hi = [s.maximum for s in specs if s.maximum is not None]
        self.minimum = max(lo) if lo else None
        self.maximum = min(hi) if hi else None
        self.choices = [c for c in self.spec.choices if all(c in s.choices for s in specs)]
        self.editor = self._make_editor(lambda: on_commit(self))
        self.editor.setObjectName(f"param_{name}")
        tip = self.spec.help
        if self.spec.live:
            tip += "\n(can be changed while training)"
        self.editor.setToolTip(tip.strip())

    @property
    def decimals(self) -> int:
        """4 decimals, or 8 for parameters that live near zero (a norm's ε = 0.00001)."""
        d = self.spec.default
        small = isinstance(d, (int, float)) and 0 < abs(d) < 0.01
        return SMALL_FLOAT_DECIMALS if small else FLOAT_DECIMALS

    # ------------------------------------------------------------ build
    def _make_editor(self, commit: Callable[[], None]) -> QWidget:
        k = self.kind
        if k == "int":
            e = SpinBox()
            lo = int(self.minimum) if self.minimum is not None else INT_RANGE[0]
            hi = int(self.maximum) if self.maximum is not None else INT_RANGE[1]
            e.setRange(lo, hi)
            self._range = (lo, hi)
            self._setup_spin(e, commit)
            return e
        if k == "float":
            e = DoubleSpinBox()
            e.setDecimals(self.decimals)
            d = self.spec.default
            e.setSingleStep(0.05 if self.decimals == FLOAT_DECIMALS else float(d))
            lo = float(self.minimum) if self.minimum is not None else FLOAT_RANGE[0]
            hi = float(self.maximum) if self.maximum is not None else FLOAT_RANGE[1]
            e.setRange(lo, hi)
            self._range = (lo, hi)
            self._setup_spin(e, commit)
            return e
        if k == "bool":
            e = QCheckBox()
            e.checkStateChanged.connect(lambda _state: commit())
            return e
        if k == "choice":
            e = ComboBox()
            e.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
            e.addItems(self.choices)
            e.setPlaceholderText(MIXED_TEXT)
            e.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
            e.setMinimumContentsLength(6)
            e.currentIndexChanged.connect(lambda _i: commit())
            return e
        e = QLineEdit()
        if k == "shape":
            e.setPlaceholderText("e.g. 8, 8, 1")
        e.editingFinished.connect(commit)
        return e

    @staticmethod
    def _setup_spin(e: QAbstractSpinBox, commit: Callable[[], None]) -> None:
        # no keyboard tracking: typing "128" is one edit, committed by Enter or leaving the field;
        # the arrows and keyboard steps commit each step
        e.setKeyboardTracking(False)
        e.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        e.setAccelerated(True)
        e.setCorrectionMode(QAbstractSpinBox.CorrectionMode.CorrectToNearestValue)
        e.valueChanged.connect(lambda _v: commit())
        e.editingFinished.connect(commit)

    # ------------------------------------------------------------- show
    def show(self, value: Any) -> None:
        e = self.editor
        was = e.blockSignals(True)
        try:
            self.mixed = value is MIXED
            k = self.kind
            if k in ("int", "float"):
                assert isinstance(e, (QSpinBox, QDoubleSpinBox))
                lo, hi = self._range
                if self.mixed:  # one step below the range shows the special text
                    e.setSpecialValueText(MIXED_TEXT)
                    e.setMinimum(lo - 1)
                    e.setValue(lo - 1)
                else:
                    e.setSpecialValueText("")
                    e.setMinimum(lo)
                    e.setValue(value)
            elif k == "bool":
                assert isinstance(e, QCheckBox)
                e.setTristate(self.mixed)
                e.setCheckState(Qt.CheckState.PartiallyChecked if self.mixed
                                else Qt.CheckState.Checked if value else Qt.CheckState.Unchecked)
            elif k == "choice":
                assert isinstance(e, QComboBox)
                e.setCurrentIndex(-1 if self.mixed else e.findText(str(value)))
            else:
                assert isinstance(e, QLineEdit)
                e.setText("" if self.mixed else format_value(k, value))
                if self.mixed:
                    e.setPlaceholderText(MIXED_TEXT)
                elif k == "shape":
                    e.setPlaceholderText("e.g. 8, 8, 1")
        finally:
            e.blockSignals(was)

    # ------------------------------------------------------------- read
    def read(self) -> Any:
        e = self.editor
        k = self.kind
        if k in ("int", "float"):
            assert isinstance(e, (QSpinBox, QDoubleSpinBox))
            was = e.blockSignals(True)
            e.interpretText()  # text typed but not yet committed (keyboard tracking is off)
            e.blockSignals(was)
            if self.mixed and e.value() < self._range[0]:
                return MIXED
            return e.value()
        if k == "bool":
            assert isinstance(e, QCheckBox)
            state = e.checkState()
            if state == Qt.CheckState.PartiallyChecked:
                return MIXED
            return state == Qt.CheckState.Checked
        if k == "choice":
            assert isinstance(e, QComboBox)
            return MIXED if e.currentIndex() < 0 else e.currentText()
        assert isinstance(e, QLineEdit)
        text = e.text()
        if self.mixed and not text.strip():
            return MIXED
        if k == "shape":
            return parse_shape(text)
        return text

    def same(self, model_value: Any, value: Any) -> bool:
        """True when committing ``value`` would not change ``model_value``."""
        if self.kind == "float":  # the editor shows 4 decimals: do not "change" 0.12345 to 0.1235
            return round(float(model_value), self.decimals) == round(float(value), self.decimals)
        if self.kind == "shape":
            return list(model_value) == list(value)
        return model_value == value

    def set_enabled(self, enabled: bool) -> None:
        self.editor.setEnabled(enabled)


# --------------------------------------------------------------- pieces
def _value_label(text: str = "") -> QLabel:
    lab = QLabel(text)
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


def _errors_html(messages: list[str], more: int = 0) -> str:
    rows = [f"⚠ {html.escape(m)}" for m in messages]
    if more:
        rows.append(f"<i>… and {more} more</i>")
    return "<br>".join(rows)


class _Page(QWidget):
    """The content shown for one selection; replaced when the selection changes."""

    def __init__(self, kind: str):
        super().__init__()
        self.kind = kind
        self.setObjectName(f"inspector_page_{kind}")
        self.fields: dict[str, ParamField] = {}
        self.lay = QVBoxLayout(self)
        self.lay.setContentsMargins(8, 8, 8, 8)
        self.lay.setSpacing(6)


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
        if self._alive():
            self._refresh_facts()

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
        self._apply_lock()

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
        page = self._page
        if page is not None and page.kind == "summary":
            sub = page.findChild(QLabel, "inspector_subtitle")
            if sub is not None:
                sub.setText(self._doc.display_name())

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
        if node.id in self._selection:
            self._show_values(keys)
        if keys != ("label",) or (self._page is not None and self._page.kind == "summary"):
            self._facts_changed()

    def _on_structure_changed(self, *args) -> None:
        self._facts_changed()

    def _on_meta_changed(self, keys) -> None:
        if self._alive() and self._page is not None and self._page.kind == "summary":
            self._show_meta()

    # ----------------------------------------------------------- building
    def _rebuild(self) -> None:
        old = self._page
        n = len(self._selection)
        if self._graph is None:
            page = _Page("empty")
            page.lay.addWidget(muted("No network open.", small=False))
            page.lay.addStretch(1)
        elif n == 0:
            page = self._build_summary()
        elif n == 1:
            page = self._build_single(self._selection[0])
        else:
            page = self._build_multi(self._selection)
        self._page = page
        if old is not None:
            # not deleted at once: this may run inside a signal of one of its widgets
            self._scroll.takeWidget()
            old.hide()
            old.deleteLater()
        self._scroll.setWidget(page)
        self._show_values(None)
        self.refresh()
        self._apply_lock()

    def _add_param_rows(self, page: _Page, form: QFormLayout, node_ids: list[str]) -> None:
        """One row per parameter the nodes share (same name and kind in all their types)."""
        g = self._graph
        types = [g.node_type(n) for n in node_ids]
        for spec in types[0].params:
            specs = []
            for t in types:
                other = next((p for p in t.params if p.name == spec.name), None)
                if other is None or other.kind != spec.kind:
                    break
                specs.append(other)
            else:
                field = ParamField(spec.name, specs, self._commit_param)
                if field.kind == "choice" and not field.choices:
                    continue
                page.fields[spec.name] = field
                label = QLabel(spec.label or spec.name)
                label.setToolTip(spec.help)
                label.setBuddy(field.editor)
                form.addRow(label, field.editor)

    def _build_single(self, node_id: str) -> _Page:
        g = self._graph
        node = g.nodes[node_id]
        t = g.node_type(node)
        page = _Page("single")
        page.lay.addWidget(panel_header(icon(node_icon_name(t.type_id)), t.title, f"{node.id} · {t.category}",
                                        role_of(t.type_id, t.category)))
        desc = muted(t.description)
        desc.setObjectName("inspector_description")
        page.lay.addWidget(desc)

        form = form_layout()
        form.addRow(section("Node"))
        page.label_edit = QLineEdit()
        page.label_edit.setObjectName("node_label")
        page.label_edit.setPlaceholderText(f"(shown as {node.id})")
        page.label_edit.setClearButtonEnabled(True)
        page.label_edit.setToolTip("A name of your own, shown on the canvas")
        page.label_edit.editingFinished.connect(lambda: self._commit_label(page))
        form.addRow("Label", page.label_edit)
        if t.params:
            form.addRow(section("Parameters"))
            self._add_param_rows(page, form, [node_id])
        page.error_label = error_label("inspector_error")
        form.addRow(page.error_label)

        form.addRow(section("Analysis"))
        page.shape_label = _value_label()
        page.shape_label.setObjectName("fact_shape")
        page.params_label = _value_label()
        page.params_label.setObjectName("fact_params")
        page.inputs_label = _value_label()
        page.inputs_label.setObjectName("fact_inputs")
        form.addRow("Output shape", page.shape_label)
        form.addRow("Parameters", page.params_label)
        if t.inputs:
            form.addRow("Inputs", page.inputs_label)
        else:  # a starting point: nothing to list
            page.inputs_label.setParent(page)
            page.inputs_label.hide()
        page.problems = self._problems_label()
        form.addRow(page.problems)
        page.lay.addLayout(form)
        page.lay.addStretch(1)
        return page

    def _build_multi(self, node_ids: list[str]) -> _Page:
        g = self._graph
        page = _Page("multi")
        types = [g.node_type(n) for n in node_ids]
        counts = Counter(t.title for t in types)
        kinds = ", ".join(f"{c} × {title}" for title, c in counts.items())
        distinct = list(dict.fromkeys(t.type_id for t in types))
        t0 = types[0]
        header = panel_header(_stacked_icons([node_icon_name(tid) for tid in distinct]),
                              f"{len(node_ids)} nodes selected", kinds,
                              role_of(t0.type_id, t0.category) if len(distinct) == 1 else None)
        header.findChild(QLabel, "inspector_title").setObjectName("selection_title")
        page.lay.addWidget(header)
        ids = muted(", ".join(node_ids))
        ids.setObjectName("selection_ids")
        page.lay.addWidget(ids)

        form = form_layout()
        form.addRow(section("Common parameters"))
        self._add_param_rows(page, form, node_ids)
        if page.fields:
            form.addRow(muted(f"An edit applies to all {len(node_ids)} nodes as one step; "
                               f"{MIXED_TEXT} marks values that differ."))
        else:
            form.addRow(muted("These nodes have no parameters in common.", small=False))
        page.error_label = error_label("inspector_error")
        form.addRow(page.error_label)

        form.addRow(section("Analysis"))
        page.params_label = _value_label()
        page.params_label.setObjectName("fact_params")
        form.addRow("Parameters", page.params_label)
        page.problems = self._problems_label()
        form.addRow(page.problems)
        page.lay.addLayout(form)
        page.lay.addStretch(1)
        return page

    def _build_summary(self) -> _Page:
        page = _Page("summary")
        doc = self._doc
        name = doc.display_name() if hasattr(doc, "display_name") else "Network"
        page.lay.addWidget(panel_header(icon("app"), "Network", name, None))

        page.lay.addWidget(section("About"))
        page.title_edit = QLineEdit()
        page.title_edit.setObjectName("meta_title")
        page.title_edit.setPlaceholderText("Untitled network")
        page.title_edit.setToolTip("The network's title, saved in the file")
        page.title_edit.editingFinished.connect(lambda: self._commit_title(page))
        page.description_edit = _TextEdit()
        page.description_edit.setObjectName("meta_description")
        page.description_edit.setPlaceholderText("What this network does, its data, notes…")
        page.description_edit.setTabChangesFocus(True)
        page.description_edit.setFixedHeight(page.description_edit.fontMetrics().lineSpacing() * 5 + 12)
        page.description_edit.editingFinished.connect(lambda: self._commit_description(page))
        page.lay.addWidget(muted("Title"))
        page.lay.addWidget(page.title_edit)
        page.lay.addWidget(muted("Description"))
        page.lay.addWidget(page.description_edit)
        page.target_label = QLabel()
        page.target_label.setObjectName("meta_target")
        page.target_label.setWordWrap(True)
        page.target_label.setToolTip("The quality this network reaches when trained with its saved settings")
        page.target_label.hide()
        page.lay.addWidget(page.target_label)

        form = form_layout()
        form.addRow(section("Totals"))
        page.nodes_label = _value_label()
        page.nodes_label.setObjectName("summary_nodes")
        page.wires_label = _value_label()
        page.wires_label.setObjectName("summary_wires")
        page.params_label = _value_label()
        page.params_label.setObjectName("summary_params")
        page.errors_label = _value_label()
        page.errors_label.setObjectName("summary_errors")
        form.addRow("Nodes", page.nodes_label)
        form.addRow("Wires", page.wires_label)
        form.addRow("Parameters", page.params_label)
        form.addRow("Problems", page.errors_label)
        page.problems = self._problems_label()
        form.addRow(page.problems)
        page.lay.addLayout(form)

        page.lay.addWidget(section("Nodes"))
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
        page.table = table
        page.lay.addWidget(table)
        page.lay.addStretch(1)
        return page

    def _problems_label(self) -> QLabel:
        lab = QLabel()
        lab.setObjectName("inspector_problems")
        lab.setWordWrap(True)
        lab.setTextFormat(Qt.TextFormat.RichText)
        lab.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        lab.setStyleSheet(f"color: {ERROR_COLOR.name()};")
        lab.hide()
        return lab

    # ------------------------------------------------------------- values
    def _show_values(self, keys) -> None:
        """Put the model's values into the editors (no commands, no signals)."""
        page = self._page
        g = self._graph
        if page is None or g is None:
            return
        if page.kind == "summary":
            self._show_meta()
            return
        if page.kind not in ("single", "multi"):
            return
        nodes = [g.nodes[n] for n in self._selection if n in g.nodes]
        for name, field in page.fields.items():
            if keys is not None and name not in keys:
                continue
            values = [n.params[name] for n in nodes]
            uniform = all(field.same(values[0], v) for v in values[1:])
            field.show(values[0] if uniform else MIXED)
        if page.kind == "single" and (keys is None or "label" in keys):
            e = page.label_edit
            if e.text() != nodes[0].label:
                was = e.blockSignals(True)
                e.setText(nodes[0].label)
                e.blockSignals(was)

    def _show_meta(self) -> None:
        page = self._page
        meta = self._graph.meta
        title = str(meta.get("title") or "")
        desc = str(meta.get("description") or "")
        if page.title_edit.text() != title:
            was = page.title_edit.blockSignals(True)
            page.title_edit.setText(title)
            page.title_edit.blockSignals(was)
        if page.description_edit.toPlainText() != desc:
            was = page.description_edit.blockSignals(True)
            page.description_edit.setPlainText(desc)
            page.description_edit.blockSignals(was)
            self._fit_description(page)
        target = meta.get("target")
        text = ""
        if target:
            try:
                text = "Target: " + targets.describe(targets.check(target))
            except AnnError:
                text = ""
        page.target_label.setText(text)
        page.target_label.setVisible(bool(text))

    @staticmethod
    def _fit_description(page: _Page) -> None:
        """Tall enough for the whole description (5 to 14 lines), so a sample's story reads at once."""
        e = page.description_edit
        fm = e.fontMetrics()
        line = fm.lineSpacing()
        width = max(e.viewport().width(), e.width() - 24, 240) - 8
        text_h = fm.boundingRect(QRect(0, 0, int(width), 100_000), Qt.TextFlag.TextWordWrap,
                                 e.toPlainText()).height()
        lines = max(5, min(14, text_h // max(line, 1) + 1))
        e.setFixedHeight(line * lines + 12)

    def _refresh_facts(self) -> None:
        """Shapes, parameter counts and errors from the graph's analysis."""
        page = self._page
        g = self._graph
        if page is None or g is None or page.kind == "empty":
            return
        a = g.analyze()
        if page.kind == "single":
            nid = self._selection[0]
            page.shape_label.setText(fmt_shape(a.shapes.get(nid)))
            page.params_label.setText(f"{a.param_counts.get(nid, 0):,}")
            ins = [e.src for e in g.in_edges(nid)]
            page.inputs_label.setText(", ".join(ins) if ins else "none")
            self._show_problems(page.problems, [e.message for e in a.errors_for(nid)])
        elif page.kind == "multi":
            total = sum(a.param_counts.get(n, 0) for n in self._selection)
            page.params_label.setText(f"{total:,} in the selection")
            sel = set(self._selection)
            self._show_problems(page.problems, [e.message for e in a.errors if e.node_id in sel])
        elif page.kind == "summary":
            n_err = len(a.errors)
            page.nodes_label.setText(f"{len(g.nodes):,}")
            page.wires_label.setText(f"{len(g.edges):,}")
            page.params_label.setText(f"{a.total_params:,}")
            if n_err:
                page.errors_label.setText(f"{n_err}")
                page.errors_label.setStyleSheet(f"color: {ERROR_COLOR.name()}; font-weight: bold;")
            else:
                page.errors_label.setText("none")
                page.errors_label.setStyleSheet("color: #2E7D32;")
            self._show_problems(page.problems, [e.message for e in a.errors])
            self._fill_table(page.table)

    @staticmethod
    def _show_problems(label: QLabel, messages: list[str]) -> None:
        if not messages:
            label.hide()
            label.clear()
            return
        shown = messages[:MAX_ERRORS_SHOWN]
        label.setText(_errors_html(shown, len(messages) - len(shown)))
        label.setToolTip("\n".join(messages))
        label.show()

    def _fill_table(self, table: QTableWidget) -> None:
        g = self._graph
        rows = g.summary_rows()
        a = g.analyze()
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
            cells[1].setForeground(role_colors(role_of(t.type_id, t.category))[1].darker(120))
            cells[1].setToolTip(t.description)
            cells[3].setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            for c, item in enumerate(cells):
                if nid in bad:
                    item.setForeground(ERROR_COLOR)
                    item.setToolTip("\n".join(e.message for e in a.errors_for(nid)))
                table.setItem(r, c, item)
        h = table.horizontalHeader().height() + sum(table.rowHeight(r) for r in range(len(rows))) + 2
        table.setFixedHeight(max(h, table.horizontalHeader().height() + 4))

    # ------------------------------------------------------------ commits
    def _commit_param(self, field: ParamField) -> None:
        page = self._page
        g = self._graph
        name = field.name
        if page is None or g is None or page.fields.get(name) is not field:
            return  # an editor of a page that is going away
        nodes = [g.nodes[n] for n in self._selection if n in g.nodes]
        if not nodes:
            return
        try:
            value = field.read()
        except RefusedText as e:
            label = field.spec.label or name
            self._refuse(f"{label}: {e}", name)
            return
        if value is MIXED:
            return
        changes = {n.id: {name: value} for n in nodes if not field.same(n.params[name], value)}
        if not changes:
            self._show_values((name,))  # e.g. leave a tristate box or a reformatted shape tidy
            return
        try:
            cmd = SetParamsCommand(self._doc, changes)
        except ParameterError as e:
            self._refuse(self._friendly(e, field, len(nodes) > 1), name)
            return
        self._clear_error()
        self._doc.push(cmd)

    @staticmethod
    def _friendly(err: ParameterError, field: ParamField, several: bool) -> str:
        """"node 'dense_1': parameter 'units' must be ..." -> "Units must be ..." (naming the node
        only when several are edited)."""
        m = re.match(r"node '([^']*)': parameter '[^']*' (.*)$", err.message, re.S)
        if not m:
            return err.message
        label = field.spec.label or field.name
        return f"{label} of {m.group(1)} {m.group(2)}" if several else f"{label} {m.group(2)}"

    def _commit_label(self, page: _Page) -> None:
        if page is not self._page or page.kind != "single":
            return
        nid = self._selection[0]
        text = page.label_edit.text().strip()
        if text == self._graph.nodes[nid].label:
            return
        self._doc.push(SetLabelCommand(self._doc, nid, text))

    def _commit_title(self, page: _Page) -> None:
        if page is not self._page or page.kind != "summary":
            return
        text = page.title_edit.text().strip()
        if text != str(self._graph.meta.get("title") or ""):
            self._doc.push(SetMetaCommand(self._doc, title=text or None))

    def _commit_description(self, page: _Page) -> None:
        if page is not self._page or page.kind != "summary":
            return
        text = page.description_edit.toPlainText().rstrip()
        if text != str(self._graph.meta.get("description") or ""):
            self._doc.push(SetMetaCommand(self._doc, description=text or None))

    def _commit_focused(self) -> None:
        """Commit an edit still being typed before the page goes away."""
        page = self._page
        focus = QApplication.focusWidget()
        if page is None or focus is None or not page.isAncestorOf(focus):
            return
        for field in page.fields.values():
            if focus is field.editor or field.editor.isAncestorOf(focus):
                self._commit_param(field)
                return
        if page.kind == "single" and focus is page.label_edit:
            self._commit_label(page)
        elif page.kind == "summary":
            if focus is page.title_edit:
                self._commit_title(page)
            elif focus is page.description_edit or page.description_edit.isAncestorOf(focus):
                self._commit_description(page)

    def _refuse(self, message: str, name: str | None = None) -> None:
        """Show why an edit was refused and put the model's value back."""
        page = self._page
        if name is not None:
            self._show_values((name,))
        if page is not None and hasattr(page, "error_label"):
            page.error_label.setText(message)
            page.error_label.show()
        self.statusMessage.emit(message)

    def _clear_error(self) -> None:
        page = self._page
        if page is not None and hasattr(page, "error_label"):
            page.error_label.clear()
            page.error_label.hide()

    def error_text(self) -> str:
        """The inline refusal message shown now ('' when none)."""
        page = self._page
        if page is not None and hasattr(page, "error_label") and not page.error_label.isHidden():
            return page.error_label.text()
        return ""

    # ------------------------------------------------------------- misc
    def _apply_lock(self) -> None:
        page = self._page
        if page is None:
            return
        for field in page.fields.values():
            field.set_enabled(not self._training or field.spec.live)

    def _on_table_double_clicked(self, row: int, column: int) -> None:
        page = self._page
        if page is None or page.kind != "summary":
            return
        item = page.table.item(row, 0)
        if item is not None:
            self.nodeActivated.emit(item.data(Qt.ItemDataRole.UserRole))

    def field(self, name: str) -> QWidget | None:
        """The editor of parameter ``name`` on the current page (tests, shortcuts)."""
        page = self._page
        f = page.fields.get(name) if page is not None else None
        return f.editor if f is not None else None

    def page_kind(self) -> str:
        """``"summary"``, ``"single"``, ``"multi"`` or ``"empty"``."""
        return self._page.kind if self._page is not None else "empty"


