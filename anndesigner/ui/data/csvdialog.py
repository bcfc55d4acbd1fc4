"""The CSV import dialog: preview a file, choose each column's role, the task
and scaling, and see at once whether the choice loads.

Every change re-runs :func:`~anndesigner.data.load_csv` with the choices, so
what the dialog accepts is exactly what the document will load later:
:meth:`CsvImportDialog.source` is the loaded data set's ``source`` dict, with
an absolute path (the network file stores it relative to its own folder when
the CSV lies inside it: :func:`~anndesigner.data.source_for_file`). A file
larger than the preview (:data:`~anndesigner.data.csvfile.PREVIEW_BYTES`) is
checked on the rows of its start at each change and read whole once, at
Import (or when :meth:`~CsvImportDialog.dataset` or
:meth:`~CsvImportDialog.source` is asked for); a problem found then keeps the
dialog open with the error shown.

The dialog can be driven without ``exec()``: set the choices with
:meth:`~CsvImportDialog.set_role`, :meth:`~CsvImportDialog.set_task`, ... and
call :meth:`~CsvImportDialog.accept`.
"""

from __future__ import annotations

import html
import os
from pathlib import Path
from typing import Any, Mapping

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ...data import Dataset, csvfile, load_csv
from ...data.csvfile import MAX_SKIP_ROWS, parse_sample_shape, preview_csv
from ...errors import AnnError, DataError
from ..icons import icon
from ..formkit import ComboBox, SpinBox, muted, section
from ..style import ERROR_COLOR, MUTED_TEXT, TEXT_COLOR, role_colors

PREVIEW_ROWS = 20

ROLES = ("input", "target", "ignore")
ROLE_TITLES = {"input": "Input", "target": "Target", "ignore": "Ignore"}
TASKS = (("auto", "Auto-detect"), ("classification", "Classification"), ("regression", "Regression"))
DELIMITERS = ((",", "Comma"), (";", "Semicolon"), ("\t", "Tab"))
#: what the first row is: the choice's value (as load_csv takes it) and its title
HEADERS = ((True, "Column names"), (False, "Data (no header)"), ("sklearn", "Counts + class names (scikit-learn)"))
#: an informational note: muted text on a light neutral background (formkit's muted colour),
#: never the error look, which is kept for what stops the import
NOTE_STYLE = f"color: {MUTED_TEXT.name()}; background: #ECEFF1; border-radius: 3px; padding: 5px;"
ERROR_STYLE = f"color: {ERROR_COLOR.name()}; background: #FFEBEE; border-radius: 3px; padding: 5px;"

_INPUT_FILL, _INPUT_ACCENT = role_colors("data")
_TARGET_FILL, _TARGET_ACCENT = role_colors("output")
_IGNORED_TEXT = QColor("#B0BEC5")
_ERROR_FILL = QColor("#FFCDD2")


# ------------------------------------------------------------ shared text
def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"


def _shape_text(shape) -> str:
    return "(" + ", ".join(str(int(d)) for d in shape) + ")"


def dataset_summary(ds: Dataset) -> str:
    """``"200 samples · 2 inputs · 1 output · classification (2 classes)"``; a data set
    with a sample shape adds it to the inputs: ``"64 inputs (8, 8, 1)"``."""
    inputs = _plural(ds.n_inputs, "input")
    shape = getattr(ds, "input_shape", None)
    if shape is not None and len(shape) > 1:
        inputs += f" {_shape_text(shape)}"
    parts = [_plural(len(ds), "sample"), inputs, _plural(ds.n_outputs, "output")]
    task = ds.task
    if ds.task == "classification" and ds.classes is not None:
        k = len(ds.classes)
        task += f" ({k} class{'' if k == 1 else 'es'})"
    parts.append(task)
    return " · ".join(parts)


class _RoleBox(ComboBox):
    """The role chooser of one column."""

    def __init__(self, column: int):
        super().__init__()
        self.column = column
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        for r in ROLES:
            self.addItem(ROLE_TITLES[r], r)

    def role(self) -> str:
        return self.currentData()

    def set_role(self, role: str) -> None:
        self.setCurrentIndex(ROLES.index(role))


# ------------------------------------------------------------------ dialog
class CsvImportDialog(QDialog):
    """``CsvImportDialog(path, parent=None, initial=None)``.

    ``initial`` is an earlier CSV ``source`` dict whose choices (columns,
    task, scaling, header, delimiter) are preset, to change an import.
    Signal ``validated(bool)`` follows every re-check.
    """

    validated = Signal(bool)

    def __init__(self, path: str | Path, parent: QWidget | None = None, initial: Mapping[str, Any] | None = None):
        super().__init__(parent)
        self.setObjectName("csvImportDialog")
        self.setWindowTitle("Import CSV")
        self.setSizeGripEnabled(True)
        self.resize(720, 520)
        self.path = Path(path)
        self._header_choice: bool | str = "auto"
        self._skip = 0
        self._notes: list[str] = []
        self._complete_rows: int | None = None  # data rows of a file the preview read whole, else None
        self._delimiter_choice: str = "auto"
        self._detected_header: bool | str | None = None
        self._detected_delimiter: str | None = None
        self._names: list[str] = []
        self._lines: list[int] = []  # physical line of each preview row
        self._roles: list[_RoleBox] = []
        self._dataset: Dataset | None = None  # the whole file with the current choices
        self._checked: Dataset | None = None  # the rows that were checked: all, or the start of a large file
        self._options: dict | None = None  # load_csv's keywords for the current choices, once they check
        self._error: DataError | None = None
        self._table_error: DataError | None = None
        self._updating = False

        lay = QVBoxLayout(self)
        lay.setContentsMargins(12, 12, 12, 10)
        lay.setSpacing(8)
        lay.addWidget(self._build_header())
        lay.addLayout(self._build_options())

        split = QSplitter(Qt.Orientation.Horizontal)
        split.setObjectName("csv_splitter")
        split.setChildrenCollapsible(False)
        split.addWidget(self._build_columns())
        split.addWidget(self._build_preview())
        split.setStretchFactor(0, 0)
        split.setStretchFactor(1, 1)
        split.setSizes([210, 490])
        lay.addWidget(split, 1)

        self.error_label = QLabel()
        self.error_label.setObjectName("csv_error")
        self.error_label.setWordWrap(True)
        self.error_label.setTextFormat(Qt.TextFormat.PlainText)
        self.error_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.error_label.setStyleSheet(ERROR_STYLE)
        self.error_label.hide()
        self.note_label = muted()
        self.note_label.setObjectName("csv_note")
        self.note_label.setTextFormat(Qt.TextFormat.PlainText)
        self.note_label.setStyleSheet(NOTE_STYLE)
        self.note_label.hide()
        self.summary_label = QLabel()
        self.summary_label.setObjectName("csv_summary")
        self.summary_label.setWordWrap(True)
        self.summary_label.setTextFormat(Qt.TextFormat.RichText)
        self.summary_label.setStyleSheet(
            "color: #1B5E20; background: #E8F5E9; border-radius: 3px; padding: 5px;")
        self.summary_label.hide()
        lay.addWidget(self.note_label)
        lay.addWidget(self.error_label)
        lay.addWidget(self.summary_label)

        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        ok = self.ok_button()
        ok.setText("Import")
        ok.setIcon(icon("open"))
        ok.setDefault(True)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        lay.addWidget(self.buttons)

        self._load_table()
        if initial:
            self._apply_initial(initial)
        self._revalidate()

    # ------------------------------------------------------------ building
    def _build_header(self) -> QFrame:
        fill, accent = role_colors("data")
        frame = QFrame()
        frame.setObjectName("csv_header")
        frame.setStyleSheet(
            f"QFrame#csv_header {{ background: {fill.name()}; border-left: 4px solid {accent.name()};"
            f" border-radius: 4px; }} QFrame#csv_header QLabel {{ background: transparent; }}")
        row = QHBoxLayout(frame)
        row.setContentsMargins(8, 6, 8, 6)
        row.setSpacing(8)
        pic = QLabel()
        pic.setPixmap(icon("node-input").pixmap(28, 28))
        pic.setFixedSize(30, 30)
        row.addWidget(pic, 0, Qt.AlignmentFlag.AlignTop)
        text = QVBoxLayout()
        text.setSpacing(0)
        name = QLabel(self.path.name)
        name.setObjectName("csv_file_name")
        f = name.font()
        f.setBold(True)
        f.setPointSizeF(f.pointSizeF() * 1.15)
        name.setFont(f)
        name.setStyleSheet(f"color: {TEXT_COLOR.name()};")
        folder = QLabel(str(self.path.parent))
        folder.setObjectName("csv_file_folder")
        folder.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        folder.setStyleSheet(f"color: {accent.darker(115).name()};")
        folder.setToolTip(str(self.path))
        text.addWidget(name)
        text.addWidget(folder)
        row.addLayout(text, 1)
        return frame

    def _build_options(self) -> QHBoxLayout:
        row = QHBoxLayout()
        row.setSpacing(8)
        lab = QLabel("Delimiter")
        self.delimiter_box = ComboBox()
        self.delimiter_box.setObjectName("csv_delimiter")
        self.delimiter_box.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        for d, title in DELIMITERS:
            self.delimiter_box.addItem(title, d)
        self.delimiter_box.setToolTip("The character between the cells of a row")
        self.delimiter_box.currentIndexChanged.connect(self._on_delimiter_changed)
        lab.setBuddy(self.delimiter_box)
        head_lab = QLabel("First row")
        self.header_box = ComboBox()
        self.header_box.setObjectName("csv_header_row")
        self.header_box.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        for value, title in HEADERS:
            self.header_box.addItem(title, value)
        self.header_box.setToolTip("What the first row (after the skipped lines) holds: the column names, data "
                                   "(the columns are then named col1, col2, …), or scikit-learn's counts and "
                                   "class names (150,4,setosa,versicolor,virginica)")
        self.header_box.currentIndexChanged.connect(self._on_header_changed)
        head_lab.setBuddy(self.header_box)
        skip_lab = QLabel("Skip lines")
        self.skip_spin = SpinBox()
        self.skip_spin.setObjectName("csv_skip")
        self.skip_spin.setRange(0, MAX_SKIP_ROWS)
        self.skip_spin.setKeyboardTracking(False)
        self.skip_spin.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.skip_spin.setToolTip("Lines at the top of the file to leave out (a title, comments); "
                                  "line numbers still count them")
        self.skip_spin.valueChanged.connect(self._on_skip_changed)
        skip_lab.setBuddy(self.skip_spin)
        self.detected_label = muted()
        self.detected_label.setObjectName("csv_detected")
        self.detected_label.setWordWrap(False)
        row.addWidget(lab)
        row.addWidget(self.delimiter_box)
        row.addSpacing(12)
        row.addWidget(head_lab)
        row.addWidget(self.header_box)
        row.addSpacing(12)
        row.addWidget(skip_lab)
        row.addWidget(self.skip_spin)
        row.addSpacing(4)
        row.addWidget(self.detected_label, 1)
        return row

    def _build_columns(self) -> QWidget:
        box = QWidget()
        box.setObjectName("csv_columns_box")
        v = QVBoxLayout(box)
        v.setContentsMargins(0, 0, 6, 0)
        v.setSpacing(5)
        v.addWidget(section("Columns"))
        t = QTableWidget(0, 2)
        t.setObjectName("csv_columns")
        t.setHorizontalHeaderLabels(["Column", "Role"])
        t.verticalHeader().hide()
        t.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        t.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        t.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        t.setShowGrid(False)
        t.setWordWrap(False)
        t.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        t.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        hh = t.horizontalHeader()
        hh.setHighlightSections(False)
        hh.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        hh.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        hh.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        self.columns_table = t
        v.addWidget(t, 1)

        form = QFormLayout()
        form.setContentsMargins(0, 4, 0, 0)
        form.setHorizontalSpacing(8)
        form.setVerticalSpacing(5)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.task_box = ComboBox()
        self.task_box.setObjectName("csv_task")
        self.task_box.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        for key, title in TASKS:
            self.task_box.addItem(title, key)
        self.task_box.setToolTip("Auto: classification when the target has text labels or at most "
                                 "10 distinct whole numbers, regression otherwise")
        self.task_box.currentIndexChanged.connect(lambda _i: self._revalidate())
        form.addRow("Task", self.task_box)
        self.standardize_box = QCheckBox("Standardize inputs")
        self.standardize_box.setObjectName("csv_standardize")
        self.standardize_box.setChecked(True)
        self.standardize_box.setToolTip("Scale every input column to mean 0 and standard deviation 1 "
                                        "(the statistics are saved with the network)")
        self.standardize_box.toggled.connect(lambda _b: self._revalidate())
        form.addRow(self.standardize_box)
        self.shape_edit = QLineEdit()
        self.shape_edit.setObjectName("csv_shape")
        self.shape_edit.setPlaceholderText("flat, or e.g. 8, 8, 1")
        self.shape_edit.setClearButtonEnabled(True)
        self.shape_edit.setToolTip(
            "How the input columns of one row form a sample, in column order: 8, 8, 1 for an 8×8 grey "
            "image (height, width, channels), 20, 1 for 20 time steps of one value. "
            "Empty: a flat list of values. It must hold as many values as there are input columns.")
        self.shape_edit.textChanged.connect(lambda _t: self._revalidate())
        shape_label = QLabel("Sample shape")
        shape_label.setBuddy(self.shape_edit)
        shape_label.setToolTip(self.shape_edit.toolTip())
        form.addRow(shape_label, self.shape_edit)
        v.addLayout(form)
        return box

    def _build_preview(self) -> QWidget:
        box = QWidget()
        v = QVBoxLayout(box)
        v.setContentsMargins(6, 0, 0, 0)
        v.setSpacing(5)
        self.preview_title = section(f"Preview · first {PREVIEW_ROWS} rows")
        v.addWidget(self.preview_title)
        t = QTableWidget(0, 0)
        t.setObjectName("csv_table")
        t.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        t.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        t.setWordWrap(False)
        t.setAlternatingRowColors(False)
        t.setTextElideMode(Qt.TextElideMode.ElideRight)
        f = t.font()
        f.setPointSizeF(max(f.pointSizeF() * 0.92, 7.0))
        t.setFont(f)
        t.verticalHeader().setDefaultSectionSize(t.fontMetrics().height() + 6)
        t.verticalHeader().setDefaultAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        t.verticalHeader().setToolTip("Line numbers in the file")
        hh = t.horizontalHeader()
        hh.setHighlightSections(False)
        hh.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        hh.setMinimumSectionSize(40)
        self.preview_table = t
        v.addWidget(t, 1)
        self.legend_label = muted()
        self.legend_label.setObjectName("csv_legend")
        self.legend_label.setTextFormat(Qt.TextFormat.RichText)
        self.legend_label.setText(
            f"<span style='color:{_INPUT_ACCENT.name()}'>■</span> input &nbsp; "
            f"<span style='color:{_TARGET_ACCENT.name()}'>■</span> target &nbsp; "
            f"<span style='color:{_IGNORED_TEXT.name()}'>■</span> ignored · numbers at the left are file lines")
        v.addWidget(self.legend_label)
        return box

    # --------------------------------------------------------- the table
    def _load_table(self) -> None:
        """Read the file with the current header/delimiter choice and rebuild preview and roles."""
        old_roles = [b.role() for b in self._roles]
        try:
            table = preview_csv(self.path, PREVIEW_ROWS, self._header_choice, self._delimiter_choice, self._skip)
        except DataError as e:
            self._names, self._lines = [], []
            self._notes = []
            self._fill_preview([])
            self._fill_columns([])
            self._error = e
            self._table_error = e
            return
        self._table_error = None
        if self._detected_header is None:  # the first read is the automatic one
            self._detected_header = table.header
            self._detected_delimiter = table.delimiter
        self._names = list(table.names)
        self._lines = list(table.lines)
        self._notes = list(table.notes)
        self._complete_rows = table.n_rows
        self._updating = True
        try:
            self.header_box.setCurrentIndex(max(self.header_box.findData(table.header), 0))
            self.delimiter_box.setCurrentIndex(max(self.delimiter_box.findData(table.delimiter), 0))
            self._update_detected(table.header, table.delimiter)
        finally:
            self._updating = False
        if len(old_roles) == len(self._names):
            roles = old_roles  # same columns, other names (header toggled): keep the choice
        else:
            roles = ["input"] * len(self._names)
            if roles:
                roles[-1] = "target"
        self._fill_columns(roles)
        self._fill_preview(table.rows)
        self._set_preview_title(table.n_rows)

    def _set_preview_title(self, n_rows: int | None) -> None:
        shown = len(self._lines)
        self.preview_title.setText(f"PREVIEW · {shown} OF {n_rows:,} ROWS" if n_rows is not None
                                   else f"PREVIEW · FIRST {shown} ROWS")

    def _update_detected(self, header: bool, delimiter: str) -> None:
        parts = []
        dh, dd = self._detected_header, self._detected_delimiter
        for i in range(self.delimiter_box.count()):
            d = self.delimiter_box.itemData(i)
            title = dict(DELIMITERS)[d]
            self.delimiter_box.setItemText(i, f"{title} (detected)" if d == dd else title)
        if dh is not None:
            parts.append("scikit-learn counts row detected" if dh == "sklearn"
                         else "header row detected" if dh else "no header row detected")
        if self._header_choice != "auto" and header != dh:
            parts.append("overridden")
        self.detected_label.setText(" · ".join(parts))

    def _fill_columns(self, roles: list[str]) -> None:
        t = self.columns_table
        self._roles = []
        t.setRowCount(0)  # deletes the old role boxes
        t.setRowCount(len(self._names))
        for i, name in enumerate(self._names):
            item = QTableWidgetItem(name)
            item.setToolTip(name)
            t.setItem(i, 0, item)
            box = _RoleBox(i)
            box.setObjectName(f"csv_role_{i}")
            box.set_role(roles[i] if i < len(roles) else "input")
            box.currentIndexChanged.connect(self._on_role_changed)
            t.setCellWidget(i, 1, box)
            self._roles.append(box)
        t.resizeRowsToContents()

    def _fill_preview(self, rows: list[list[str]]) -> None:
        t = self.preview_table
        width = max([len(self._names)] + [len(r) for r in rows])
        t.clear()
        t.setColumnCount(width)
        t.setRowCount(len(rows))
        for c in range(width):
            t.setHorizontalHeaderItem(c, QTableWidgetItem(self._names[c] if c < len(self._names) else f"({c + 1})"))
        for r, row in enumerate(rows):
            t.setVerticalHeaderItem(r, QTableWidgetItem(str(self._lines[r])))
            for c, cell in enumerate(row):
                item = QTableWidgetItem(cell)
                item.setToolTip(f"line {self._lines[r]}, column '{self._names[c]}'" if c < len(self._names)
                                else f"line {self._lines[r]}: extra cell")
                t.setItem(r, c, item)
        self._tint_preview()
        t.resizeColumnsToContents()
        for c in range(width):
            t.setColumnWidth(c, min(max(t.columnWidth(c) + 8, 56), 180))

    def _tint_preview(self) -> None:
        """Colour the columns by role; mark the cell an error points at."""
        t = self.preview_table
        roles = [b.role() for b in self._roles]
        bad = self._error_cell()
        for c in range(t.columnCount()):
            role = roles[c] if c < len(roles) else "ignore"
            head = t.horizontalHeaderItem(c)
            if head is not None:
                f = head.font()
                f.setBold(role == "target")
                head.setFont(f)
                head.setForeground(_INPUT_ACCENT if role == "input" else _TARGET_ACCENT if role == "target"
                                   else _IGNORED_TEXT)
                name = self._names[c] if c < len(self._names) else ""
                head.setToolTip(f"{name}: {ROLE_TITLES[role].lower()}")
            for r in range(t.rowCount()):
                item = t.item(r, c)
                if item is None:
                    continue
                if (r, c) == bad:
                    item.setBackground(_ERROR_FILL)
                    item.setForeground(ERROR_COLOR)
                elif role == "target":
                    item.setBackground(_TARGET_FILL)
                    item.setForeground(TEXT_COLOR)
                elif role == "input":
                    item.setBackground(QBrush())
                    item.setForeground(TEXT_COLOR)
                else:
                    item.setBackground(QBrush())
                    item.setForeground(_IGNORED_TEXT)

    def _error_cell(self) -> tuple[int, int] | None:
        e = self._error
        if e is None or e.line is None or e.line not in self._lines:
            return None
        row = self._lines.index(e.line)
        col = e.column
        if isinstance(col, str) and col in self._names:
            return row, self._names.index(col)
        if isinstance(col, int) and not isinstance(col, bool) and 0 <= col < len(self._names):
            return row, col
        return None

    def _apply_initial(self, src: Mapping[str, Any]) -> None:
        """Preset the choices of an earlier import."""
        header, delimiter = src.get("header"), src.get("delimiter")
        reload = False
        if isinstance(header, bool) or header == "sklearn":
            self._header_choice = header
            reload = True
        skip = src.get("skip_rows", 0)
        if isinstance(skip, int) and not isinstance(skip, bool) and 0 < skip <= MAX_SKIP_ROWS:
            self._skip = skip
            self._updating = True
            try:
                self.skip_spin.setValue(skip)
            finally:
                self._updating = False
            reload = True
        if isinstance(delimiter, str) and len(delimiter) == 1:
            self._delimiter_choice = delimiter
            reload = True
        if reload:
            self._load_table()
        inputs = src.get("inputs") or []
        targets = src.get("targets") or []
        if isinstance(inputs, list) and isinstance(targets, list) and (inputs or targets):
            self._updating = True
            try:
                for i, name in enumerate(self._names):
                    role = "input" if name in inputs else "target" if name in targets else "ignore"
                    self._roles[i].set_role(role)
            finally:
                self._updating = False
        task = src.get("task")
        if task in ("classification", "regression", "auto"):
            self.task_box.setCurrentIndex(self.task_box.findData(task))
        if isinstance(src.get("standardize"), bool):
            self.standardize_box.setChecked(src["standardize"])
        shape = src.get("input_shape")
        if isinstance(shape, (list, tuple)) and shape:
            self.shape_edit.setText(", ".join(str(d) for d in shape))

    # ------------------------------------------------------------ events
    def _on_header_changed(self, index: int) -> None:
        if self._updating or index < 0:
            return
        self._header_choice = self.header_box.itemData(index)
        self._load_table()
        self._revalidate()

    def _on_skip_changed(self, value: int) -> None:
        if self._updating:
            return
        self._skip = int(value)
        self._header_choice = "auto"  # the first row is another one now: detect again
        self._detected_header = None
        self._load_table()
        self._revalidate()

    def _on_delimiter_changed(self, index: int) -> None:
        if self._updating or index < 0:
            return
        self._delimiter_choice = self.delimiter_box.itemData(index)
        self._load_table()
        self._revalidate()

    def _on_role_changed(self, _index: int) -> None:
        if not self._updating:
            self._revalidate()

    # -------------------------------------------------------- validation
    def _revalidate(self) -> None:
        """Load the file with the current choices (the start of a file larger than the
        preview); show the summary or the error."""
        self._dataset = self._checked = self._options = None
        hint = False  # a choice still to make, not an error in the file
        if self._table_error is not None:
            self._error = self._table_error
        elif not self._names:
            self._error = DataError(f"{self.path.name} has no columns")
        else:
            inputs = [n for n, b in zip(self._names, self._roles) if b.role() == "input"]
            targets = [n for n, b in zip(self._names, self._roles) if b.role() == "target"]
            try:
                if not targets or not inputs:
                    hint = True
                    raise DataError("Choose a target column: the values the network should learn to output"
                                    if not targets else "Choose at least one input column")
                shape = parse_sample_shape(self.shape_edit.text())
                options = dict(inputs=inputs, targets=targets, task=self.task_box.currentData(),
                               standardize=self.standardize_box.isChecked(), header=self.header_box.currentData(),
                               delimiter=self.delimiter_box.currentData(), skip_rows=self._skip, input_shape=shape)
                if self._complete_rows is None:  # a large file: its start now, the whole file at Import
                    self._checked = load_csv(self.path, **options, max_bytes=csvfile.PREVIEW_BYTES)
                else:
                    self._dataset = self._checked = load_csv(self.path, **options)
                self._options = options
                self._error = None
            except DataError as e:
                self._error = e
            except (AnnError, OSError, ValueError) as e:  # never let a strange file break the dialog
                self._error = DataError(str(e))
        self._show_check(hint)

    def _load_whole(self) -> bool:
        """Read the whole file with the checked choices (once); False, with the error
        shown, when a row past the checked start fails."""
        if self._dataset is not None:
            return True
        if self._options is None:
            return False
        QApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
        try:
            self._dataset = load_csv(self.path, **self._options)
        except (AnnError, OSError, ValueError) as e:
            self._error = e if isinstance(e, DataError) else DataError(str(e))
            self._checked = self._options = None
            self._show_check(False)
            return False
        finally:
            QApplication.restoreOverrideCursor()
        self._show_check(False)
        return True

    def _show_check(self, hint: bool) -> None:
        """Show the outcome of the last check: the summary, or the error (``hint``: a
        choice still to make, shown as a note)."""
        self._tint_preview()
        ok = self._checked is not None
        self.ok_button().setEnabled(ok)
        shape_bad = not ok and self._error is not None and "sample shape" in self._error.message
        self.shape_edit.setStyleSheet(f"QLineEdit {{ border: 1px solid {ERROR_COLOR.name()}; }}" if shape_bad else "")
        notes = list(self._notes)
        if ok:
            self.error_label.hide()
            self.error_label.clear()
            self.summary_label.setText(self._summary_html(self._checked, whole=self._dataset is not None))
            self.summary_label.show()
            self._set_preview_title(len(self._dataset) if self._dataset is not None else None)
        else:
            self.summary_label.hide()
            self.summary_label.clear()
            e = self._error
            if e.line is not None and e.line not in self._lines and self._lines:
                notes.append(f"line {e.line} is not in the preview")
            if hint:
                notes.insert(0, e.message)
                self.error_label.hide()
                self.error_label.clear()
            else:
                self.error_label.setText(f"⚠ {e.message}")
                self.error_label.show()
            cell = self._error_cell()
            if cell is not None:
                self.preview_table.scrollToItem(self.preview_table.item(*cell))
        self.note_label.setText("ℹ " + "; ".join(n[:1].upper() + n[1:] for n in notes) + "." if notes else "")
        self.note_label.setVisible(bool(notes))
        self.validated.emit(ok)

    def _summary_html(self, ds: Dataset, whole: bool = True) -> str:
        text = f"✓ <b>{'' if whole else 'at least '}{html.escape(dataset_summary(ds))}</b>"
        details = [] if whole else [f"checked on the first {len(ds):,} rows; the whole file is read at Import"]
        if self.task_box.currentData() == "auto":
            details.append(f"task detected: {ds.task}")
        if ds.classes is not None:
            shown = ds.classes[:8]
            more = f", … ({len(ds.classes) - 8} more)" if len(ds.classes) > 8 else ""
            details.append("classes: " + ", ".join(html.escape(c) for c in shown) + more)
        details.append("inputs standardized" if ds.scaler is not None else "inputs as in the file")
        if ds.input_shape is not None:
            details.append(f"each sample shaped {_shape_text(ds.input_shape)}")
        return text + "<br><span style='color:#2E7D32'>" + " · ".join(details) + "</span>"

    # --------------------------------------------------------- public API
    def ok_button(self) -> QPushButton:
        return self.buttons.button(QDialogButtonBox.StandardButton.Ok)

    def columns(self) -> list[str]:
        """The column names (``col1``, ... without a header row)."""
        return list(self._names)

    def _column_index(self, column: str | int) -> int:
        if isinstance(column, str):
            if column not in self._names:
                raise KeyError(f"no column {column!r}; columns: {', '.join(self._names)}")
            return self._names.index(column)
        return int(column)

    def role(self, column: str | int) -> str:
        """``"input"``, ``"target"`` or ``"ignore"``."""
        return self._roles[self._column_index(column)].role()

    def roles(self) -> dict[str, str]:
        return {n: b.role() for n, b in zip(self._names, self._roles)}

    def set_role(self, column: str | int, role: str) -> None:
        if role not in ROLES:
            raise ValueError(f"role must be one of {', '.join(ROLES)}, not {role!r}")
        self._roles[self._column_index(column)].set_role(role)  # re-validates

    def set_roles(self, inputs: list[str | int], targets: list[str | int]) -> None:
        """Inputs and targets by name or index; every other column is ignored (one re-check)."""
        ins = {self._column_index(c) for c in inputs}
        tgs = {self._column_index(c) for c in targets}
        self._updating = True
        try:
            for i, b in enumerate(self._roles):
                b.set_role("input" if i in ins else "target" if i in tgs else "ignore")
        finally:
            self._updating = False
        self._revalidate()

    def set_task(self, task: str) -> None:
        """``"auto"``, ``"classification"`` or ``"regression"``."""
        i = self.task_box.findData(task)
        if i < 0:
            raise ValueError(f"unknown task {task!r}")
        self.task_box.setCurrentIndex(i)

    def set_standardize(self, on: bool) -> None:
        self.standardize_box.setChecked(bool(on))

    def set_sample_shape(self, text: str) -> None:
        """The sample shape as typed, e.g. ``"8, 8, 1"``; ``""`` for flat samples."""
        self.shape_edit.setText(text)

    def header(self) -> bool | str:
        """What the first row is: True (column names), False (data) or ``"sklearn"``."""
        return self.header_box.currentData()

    def set_header(self, on: bool | str) -> None:
        """True: the first row holds the names; False: it is data; ``"sklearn"``: counts and class names."""
        value = on if on == "sklearn" else bool(on)
        self._header_choice = value
        self._updating = True
        try:
            self.header_box.setCurrentIndex(self.header_box.findData(value))
        finally:
            self._updating = False
        self._load_table()
        self._revalidate()

    def set_skip_rows(self, n: int) -> None:
        """Leave out the first ``n`` lines of the file (the header is detected again)."""
        self.skip_spin.setValue(int(n))

    def note_text(self) -> str:
        """The informational note shown now ('' when none)."""
        return self.note_label.text() if not self.note_label.isHidden() else ""

    def set_delimiter(self, delimiter: str) -> None:
        i = self.delimiter_box.findData("\t" if delimiter in ("tab", "\\t") else delimiter)
        if i < 0:
            raise ValueError(f"unknown delimiter {delimiter!r}")
        self.delimiter_box.setCurrentIndex(i)

    def is_valid(self) -> bool:
        """Whether the current choices load (for a large file: its start, until Import)."""
        return self._checked is not None

    def dataset(self) -> Dataset | None:
        """The data set loaded with the current choices (None while they fail); a large
        file is read whole now if it was not yet."""
        return self._dataset if self._load_whole() else None

    def summary_text(self) -> str:
        return dataset_summary(self._checked) if self._checked is not None else ""

    def error_text(self) -> str:
        return "" if self._error is None or self._checked is not None else self._error.message

    def error(self) -> DataError | None:
        return None if self._checked is not None else self._error

    def source(self) -> dict | None:
        """The data source to store in the network (None while the choices fail)."""
        ds = self.dataset()
        if ds is None:
            return None
        src = dict(ds.source)
        src["path"] = os.path.abspath(self.path)  # saved relative to the network file when inside its folder
        return src

    def accept(self) -> None:
        # OK is disabled while the choices fail; refuse a programmatic accept too, and one
        # whose whole file fails past the checked start (the error is shown then)
        if self._checked is None or not self._load_whole():
            return
        super().accept()


__all__ = ["CsvImportDialog", "dataset_summary"]
