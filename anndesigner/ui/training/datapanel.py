"""The data panel: choose the data set (a built-in one with its settings, or a
CSV file), the validation split, and see a preview of the data.

Every committed change is ONE undo command, made by the document's editor
(``doc.editor``: set_data_source, set_training, fix_data). The widgets follow the
network's ``data_changed`` / ``training_changed`` signals and the graph's Input
and Output nodes, so undo, redo and edits made elsewhere show up at once without
pushing anything back.

Whether the data fit the network is decided by :func:`~anndesigner.engine.datafit.check_fit`;
the panel shows its report (each mismatch with its fix, one undo step) and passes
the mismatches on as ``{node_id: message}`` for the canvas to badge.

The preview follows what a sample is: a scatter plot for one or two plain
inputs, a grid of small pictures for images, lines over the time steps for
sequences, and a table otherwise (token sequences, many CSV columns).
"""

from __future__ import annotations

import copy
import html
import math
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pyqtgraph as pg
import shiboken6
from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtGui import QBrush, QColor, QFont, QPen, QWheelEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QAbstractSpinBox,
    QCheckBox,
    QComboBox,
    QDialog,
    QFileDialog,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSizePolicy,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ...data import BUILTIN_DATASETS, Dataset, complete_source, restandardized_source, same_source, source_from_file
from ...data.builtin import PARAM_SPECS
from ...engine.datafit import DataShape, FitReport, affects_fit, check_fit, standardize_default, with_data_fix
from ...errors import AnnError
from ...graph.events import Connections
from ...graph.nodetypes import fmt_shape
from ..icons import icon
from ..form import ParamForm
from ..formkit import (ComboBox, SpinBox, error_label, form_layout, muted, panel_header,
                       scroll_body, section)
from ..style import CLASS_COLORS, ERROR_COLOR, MUTED_TEXT, TEXT_COLOR, VALUE_COLORS, role_colors
from .csvdialog import CsvImportDialog, dataset_summary

#: at most this many points are drawn in the preview (the rows are in random order)
PREVIEW_POINTS = 2000
TABLE_ROWS = 8
#: image previews: this many samples, in rows of IMAGE_COLUMNS tiles
PREVIEW_IMAGES = 24
IMAGE_COLUMNS = 6
#: sequence previews: this many samples, one line each
PREVIEW_SEQUENCES = 8
#: the image tiles' colours: the lowest value (paper) and the highest (ink)
IMAGE_PAPER = QColor("#F4F6F7")
IMAGE_INK = QColor("#1C262B")
TOKEN_WARNING = "Standardizing turns token ids into fractions; an Embedding needs whole numbers."
CSV_FILTER = "CSV files (*.csv *.tsv *.txt);;All files (*)"
CSV_ITEM = "__csv__"
#: the data-set settings' editors are named data_<this> (data_samples, data_noise, ...)
FIELD_NAMES = {"n_samples": "samples"}


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"


def _fmt(v: float) -> str:
    """A table cell: 4 significant digits, large numbers in full with separators."""
    v = float(v)
    if math.isfinite(v) and 1e4 <= abs(v) < 1e10:
        return f"{v:,.0f}"
    return f"{v:.4g}"


def _input_kind(ds: Dataset) -> str:
    """``"features"``, ``"image"``, ``"sequence"`` or ``"tokens"``: the built-in set's
    kind, or for other data what its sample shape suggests (3 axes: an image, 2: a sequence)."""
    src = ds.source if isinstance(ds.source, dict) else {}
    if src.get("kind") == "builtin" and src.get("name") in BUILTIN_DATASETS:
        kind = BUILTIN_DATASETS[src["name"]].input_kind
        if kind != "features" and ds.input_shape is None:
            return "features"  # cannot happen for the shipped sets; do not guess a shape
        return kind
    shape = ds.input_shape
    if shape is not None and len(shape) == 3:
        return "image"
    if shape is not None and len(shape) == 2:
        return "sequence"
    return "features"


def _step_ticks(steps: int) -> list[int]:
    """Time steps to label on an axis of ``steps`` steps: at most about ten, round ones."""
    for step in (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000):
        if steps / step <= 10:
            break
    ticks = list(range(step, steps + 1, step))
    return ([1] if step > 2 or not ticks else []) + ticks


class _PlotWidget(pg.PlotWidget):
    """A preview plot: the wheel scrolls the panel, it never zooms the plot."""

    def wheelEvent(self, event: QWheelEvent) -> None:  # noqa: N802 (Qt override)
        event.ignore()




class DataPanel(QWidget):
    """``DataPanel(document, parent=None)``.

    Signals: ``statusMessage(str)`` and ``mismatchesChanged(dict)``
    (``{node_id: message}`` for the Input/Output nodes that do not fit the data).
    """

    statusMessage = Signal(str)
    mismatchesChanged = Signal(dict)

    def __init__(self, document, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("dataPanel")
        self._doc = None
        self._model_connections = Connections()
        self._qt_connections = Connections()
        self._updating = False
        self._dataset: Dataset | None = None
        self._shown: Dataset | None = None  # the data set in the preview (kept when loading fails)
        self._load_error = ""
        self._mismatches: dict[str, str] = {}
        self._report = FitReport()
        self._csv_source: dict | None = None  # the CSV import offered in the chooser

        self._scroll = scroll_body(self, "data_scroll")
        page = QWidget()
        page.setObjectName("data_page")
        self._page = page
        lay = QVBoxLayout(page)
        lay.setContentsMargins(8, 8, 8, 8)
        lay.setSpacing(6)
        self._build(lay)
        self._scroll.setWidget(page)

        conns = self._model_connections
        self.destroyed.connect(lambda *_: conns.disconnect_all())
        self.set_document(document)

    # ------------------------------------------------------------ building
    def _build(self, lay: QVBoxLayout) -> None:
        self.header = panel_header(icon("node-input"), "Data", "No data set", "data")
        self.header.setObjectName("data_header")
        self._title = self.header.findChild(QLabel, "inspector_title")
        self._subtitle = self.header.findChild(QLabel, "inspector_subtitle")
        lay.addWidget(self.header)

        # -- source
        lay.addWidget(section("Source"))
        row = QHBoxLayout()
        row.setSpacing(6)
        self.source_box = ComboBox()
        self.source_box.setObjectName("data_source")
        self.source_box.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.source_box.setPlaceholderText("Choose a data set…")
        self.source_box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.source_box.setMinimumContentsLength(8)
        self.source_box.setToolTip("The data the network is trained on")
        for info in BUILTIN_DATASETS.values():
            self.source_box.addItem(info.title, info.name)
            self.source_box.setItemData(self.source_box.count() - 1, info.description, Qt.ItemDataRole.ToolTipRole)
        self.source_box.currentIndexChanged.connect(self._on_source_chosen)
        self.import_button = QPushButton(icon("open"), "Import CSV…")
        self.import_button.setObjectName("data_import")
        self.import_button.setToolTip("Use a table of numbers from a CSV file")
        self.import_button.clicked.connect(lambda: self.import_csv())
        row.addWidget(self.source_box, 1)
        row.addWidget(self.import_button)
        lay.addLayout(row)
        self.description = muted()
        self.description.setObjectName("data_description")
        lay.addWidget(self.description)
        self.lock_label = muted()
        self.lock_label.setObjectName("data_lock")
        self.lock_label.setStyleSheet("color: #8D6E63; background: #FFF8E1; border-radius: 3px; padding: 4px;")
        self.lock_label.hide()
        lay.addWidget(self.lock_label)

        # -- mismatch warning
        self.mismatch_box = QFrame()
        self.mismatch_box.setObjectName("data_mismatch")
        self.mismatch_box.setStyleSheet(
            f"QFrame#data_mismatch {{ background: #FFEBEE; border-left: 3px solid {ERROR_COLOR.name()};"
            f" border-radius: 3px; }} QFrame#data_mismatch QLabel {{ background: transparent; }}")
        mb = QVBoxLayout(self.mismatch_box)
        mb.setContentsMargins(8, 6, 8, 6)
        mb.setSpacing(4)
        self.mismatch_label = QLabel()
        self.mismatch_label.setObjectName("data_mismatch_text")
        self.mismatch_label.setWordWrap(True)
        self.mismatch_label.setTextFormat(Qt.TextFormat.RichText)
        self.mismatch_label.setStyleSheet(f"color: {ERROR_COLOR.darker(125).name()};")
        self.fix_button = QPushButton("Fix")
        self.fix_button.setObjectName("data_fix")
        self.fix_button.clicked.connect(self.fix_mismatches)
        self.one_hot_button = QPushButton("One-hot targets")
        self.one_hot_button.setObjectName("data_one_hot")
        self.one_hot_button.setToolTip("Keep the Output's softmax units and give the data one 0/1 column per "
                                       "class instead (one undo step)")
        self.one_hot_button.clicked.connect(lambda: self.use_one_hot())
        fix_row = QHBoxLayout()
        fix_row.setContentsMargins(0, 0, 0, 0)
        self.fix_hint = muted("Fix matches the network to the data (one undo step)")
        fix_row.addStretch(1)
        fix_row.addWidget(self.one_hot_button)
        fix_row.addWidget(self.fix_button)
        mb.addWidget(self.mismatch_label)
        mb.addWidget(self.fix_hint)
        mb.addLayout(fix_row)
        self.mismatch_box.hide()
        lay.addWidget(self.mismatch_box)

        # -- settings: one form, so that every label lines up; rows show for the source kind
        self.settings_title = section("Settings")
        lay.addWidget(self.settings_title)
        form = self.settings_form = form_layout()
        # the built-in sets' settings (data.builtin.PARAM_SPECS); each set's own ranges are set when
        # it is shown, and only its own rows are visible
        self.settings = ParamForm(PARAM_SPECS, self, host=form, error_name="data_settings_error")
        for name, editor in self.settings.fields().items():
            editor.setObjectName(f"data_{FIELD_NAMES.get(name, name)}")
        samples = self.settings.field("n_samples")
        samples.setStepType(QAbstractSpinBox.StepType.AdaptiveDecimalStepType)
        samples.setGroupSeparatorShown(True)
        self.settings.edited.connect(self._commit_param)

        self.csv_file = self._value_label("data_csv_file")
        self.csv_inputs = self._value_label("data_csv_inputs")
        self.csv_target = self._value_label("data_csv_target")
        self.csv_task = self._value_label("data_csv_task")
        form.addRow("File", self.csv_file)
        form.addRow("Inputs", self.csv_inputs)
        form.addRow("Target", self.csv_target)
        form.addRow("Task", self.csv_task)
        self.csv_edit_button = QPushButton("Change columns…")
        self.csv_edit_button.setObjectName("data_csv_edit")
        self.csv_edit_button.setToolTip("Open the import dialog again with the current choices")
        self.csv_edit_button.clicked.connect(lambda: self.edit_csv_import())
        form.addRow("", self.csv_edit_button)
        self._csv_rows = [self.csv_file, self.csv_inputs, self.csv_target, self.csv_task, self.csv_edit_button]

        self.standardize_box = QCheckBox("Standardize inputs")
        self.standardize_box.setObjectName("data_standardize")
        self.standardize_box.setToolTip("Scale every input to mean 0 and standard deviation 1 before training; "
                                        "usually makes training faster and steadier")
        self.standardize_box.toggled.connect(self._commit_standardize)
        form.addRow("", self.standardize_box)
        self.reconstruct_box = QCheckBox("Targets = inputs (autoencoder)")
        self.reconstruct_box.setObjectName("data_reconstruct")
        self.reconstruct_box.setToolTip("Train the network to reproduce its inputs: the targets are the "
                                        "inputs themselves (a regression), as for an autoencoder or an "
                                        "associative memory; the data set's own targets are not used")
        self.reconstruct_box.toggled.connect(self._commit_reconstruct)
        form.addRow("", self.reconstruct_box)

        # the validation split is a training setting, but it decides which data trains
        self.split_spin = SpinBox()
        self.split_spin.setObjectName("data_split")
        self.split_spin.setRange(0, 90)
        self.split_spin.setSingleStep(5)
        self.split_spin.setSuffix(" %")
        self.split_spin.setSpecialValueText("none")
        self.split_spin.setKeyboardTracking(False)
        self.split_spin.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.split_spin.setCorrectionMode(QAbstractSpinBox.CorrectionMode.CorrectToNearestValue)
        self.split_spin.setToolTip("Share of the samples held out of training to measure how well "
                                   "the network generalizes")
        self.split_spin.valueChanged.connect(lambda _v: self._commit_split())
        self.split_spin.editingFinished.connect(self._commit_split)
        lab = QLabel("Validation")
        lab.setBuddy(self.split_spin)
        lab.setToolTip(self.split_spin.toolTip())
        form.addRow(lab, self.split_spin)
        self.split_note = muted()
        self.split_note.setObjectName("data_split_note")
        form.addRow("", self.split_note)
        lay.addLayout(form)

        # -- preview
        lay.addWidget(section("Preview"))
        self.error_label = error_label("data_error")
        self.error_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        lay.addWidget(self.error_label)
        self.summary_label = QLabel()
        self.summary_label.setObjectName("data_summary")
        self.summary_label.setWordWrap(True)
        self.summary_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        f = self.summary_label.font()
        f.setBold(True)
        self.summary_label.setFont(f)
        self.summary_label.setStyleSheet(f"color: {TEXT_COLOR.name()};")
        lay.addWidget(self.summary_label)
        self.preview_warning = muted()
        self.preview_warning.setObjectName("data_preview_warning")
        self.preview_warning.setStyleSheet("color: #8D6E63; background: #FFF8E1; border-radius: 3px; padding: 4px;")
        self.preview_warning.hide()
        lay.addWidget(self.preview_warning)

        self.plot = _PlotWidget(background="w")
        self.plot.setObjectName("data_plot")
        self.plot.setMinimumHeight(200)
        self.plot.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.plot.setFixedHeight(250)
        self.plot.setStyleSheet("QGraphicsView#data_plot { border: 1px solid #CFD8DC; border-radius: 3px; }")
        pi = self.plot.getPlotItem()
        pi.setMouseEnabled(False, False)
        pi.setMenuEnabled(False)
        pi.hideButtons()
        pi.showGrid(x=True, y=True, alpha=0.18)
        pi.getViewBox().setDefaultPadding(0.04)
        small = QFont(self.font())
        small.setPointSizeF(max(small.pointSizeF() * 0.8, 6.5))
        for name in ("left", "bottom"):
            ax = pi.getAxis(name)
            ax.setPen(pg.mkPen("#B0BEC5"))
            ax.setTextPen(pg.mkPen(MUTED_TEXT.name()))
            ax.setStyle(tickFont=small, tickLength=-4)
            ax.label.setFont(small)
        self.scatter = pg.ScatterPlotItem(size=6, pxMode=True)
        pi.addItem(self.scatter)
        self._small_font = small
        self.image = pg.ImageItem(axisOrder="row-major")  # the image tiles, composed into one picture
        self.image.setObjectName("data_images")
        self.image.hide()
        pi.addItem(self.image)
        self._extra_items: list = []  # the sequence lines and text labels of the current preview
        self._preview_mode = "none"
        self.plot.hide()
        lay.addWidget(self.plot)
        self.key_label = muted()
        self.key_label.setObjectName("data_key")
        self.key_label.setTextFormat(Qt.TextFormat.RichText)
        self.key_label.hide()
        lay.addWidget(self.key_label)

        self.table = QTableWidget(0, 0)
        self.table.setObjectName("data_table")
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.table.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.table.setShowGrid(False)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        self.table.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.table.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        tf = self.table.font()
        tf.setPointSizeF(max(tf.pointSizeF() * 0.92, 7.0))
        self.table.setFont(tf)
        self.table.verticalHeader().setDefaultSectionSize(self.table.fontMetrics().height() + 6)
        hh = self.table.horizontalHeader()
        hh.setHighlightSections(False)
        hh.setMinimumSectionSize(36)
        hh.setDefaultAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.table.hide()
        lay.addWidget(self.table)
        self.preview_note = muted()
        self.preview_note.setObjectName("data_preview_note")
        lay.addWidget(self.preview_note)
        lay.addStretch(1)

    @staticmethod
    def _value_label(name: str) -> QLabel:
        lab = QLabel()
        lab.setObjectName(name)
        lab.setWordWrap(True)
        lab.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        return lab

    # --------------------------------------------------------- public API
    @property
    def document(self):
        return self._doc

    def set_document(self, document) -> None:
        """Show another document; the old network's and graph's callbacks are disconnected."""
        self._model_connections.disconnect_all()
        self._qt_connections.disconnect_all()
        self._doc = document
        self._csv_source = None
        self._dataset = None
        self._shown = None
        self._load_error = ""
        if document is not None:
            net, g = document.network, document.graph
            self._model_connections.connect_many((
                (net.data_changed, self._on_data_changed),
                (net.training_changed, self._on_training_changed),
                (g.node_added, self._on_node_added_or_removed),
                (g.node_removed, self._on_node_added_or_removed),
                (g.node_changed, self._on_node_changed),
            ))
            self._qt_connections.connect_many(((document.lockChanged, self._on_lock_changed),
                                               (document.pathChanged, self._on_path_changed)))
        self._mismatches = None  # type: ignore[assignment]  # the new document's state is always announced
        self._show_source()
        self._show_training()
        self._reload()
        self._apply_lock()

    def current_dataset(self) -> Dataset | None:
        """The loaded data set, or None (no source, or it failed to load)."""
        return self._dataset

    def mismatches(self) -> dict[str, str]:
        """``{node_id: message}`` for the Input/Output nodes that do not fit the data."""
        return dict(self._mismatches)

    def summary_text(self) -> str:
        return self.summary_label.text()

    def error_text(self) -> str:
        """The load error shown now ('' when none)."""
        return self.error_label.text() if not self.error_label.isHidden() else ""

    def scatter_item(self) -> pg.ScatterPlotItem:
        """The preview's scatter plot item (its data is the points drawn)."""
        return self.scatter

    def image_item(self) -> pg.ImageItem:
        """The preview's image item: the image tiles composed into one RGBA picture
        (row-major, row 0 at the top); hidden unless the data are images."""
        return self.image

    def preview_mode(self) -> str:
        """What the preview shows: ``"none"``, ``"scatter"``, ``"images"``, ``"sequences"`` or ``"table"``."""
        return self._preview_mode

    def preview_items(self) -> list:
        """The extra plot items of an image or sequence preview (lines and text labels)."""
        return list(self._extra_items)

    def field(self, name: str) -> QWidget | None:
        """The editor for ``source``, ``n_samples``, ``noise``, ``seed``, ``centers``, ``steps``,
        ``vocab``, ``standardize``, ``reconstruct`` or ``validation_split``."""
        if name in self.settings.names():
            return self.settings.field(name)
        return {"source": self.source_box, "standardize": self.standardize_box,
                "reconstruct": self.reconstruct_box,
                "validation_split": self.split_spin, "import": self.import_button,
                "fix": self.fix_button, "one_hot": self.one_hot_button}.get(name)

    def choose_builtin(self, name: str) -> None:
        """Choose a built-in data set with its default settings (as picking it in the list does)."""
        i = self.source_box.findData(name)
        if i < 0:
            raise KeyError(f"unknown built-in data set {name!r}")
        if i == self.source_box.currentIndex():
            self._on_source_chosen(i)
        else:
            self.source_box.setCurrentIndex(i)

    def import_csv(self, path: str | Path | None = None,
                   dialog_factory: Callable[..., Any] | None = None) -> bool:
        """Ask for a CSV file (unless ``path`` is given), run the import dialog and, when it
        is accepted, push "Import CSV". ``dialog_factory(path, parent=...)``
        makes the dialog (default :class:`CsvImportDialog`); it needs ``exec()`` and
        ``source()``. Returns True when the data source was changed."""
        if self._doc is None or self._doc.locked:
            return False
        if path is None:
            start = str(self._base_dir() or Path.home())
            path, _ = QFileDialog.getOpenFileName(self, "Import CSV", start, CSV_FILTER)
            if not path:
                return False
        factory = dialog_factory or CsvImportDialog
        dialog = factory(path, parent=self)
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return False
        return self.apply_csv_dialog(dialog, "Import CSV")

    def edit_csv_import(self, dialog_factory: Callable[..., Any] | None = None) -> bool:
        """Open the import dialog on the current CSV source with its choices preset."""
        src = self._doc.network.data_source if self._doc is not None else None
        if not src or src.get("kind") != "csv" or self._doc.locked:
            return False
        factory = dialog_factory or CsvImportDialog
        dialog = factory(self._csv_file(src), parent=self, initial=src)
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return False
        return self.apply_csv_dialog(dialog, "Change CSV columns")

    def apply_csv_dialog(self, dialog, text: str = "Import CSV") -> bool:
        """Push the source of an accepted import dialog (one undo step)."""
        src = dialog.source()
        if not src or self._doc is None:
            return False
        if same_source(src, self._doc.network.data_source):
            return False
        if not self._push_source(src, text):
            return False
        self.statusMessage.emit(f"Data: {Path(src.get('path', '')).name}")
        return True

    def fix_mismatches(self) -> bool:
        """Apply every fix of the fit report (:func:`~anndesigner.engine.datafit.check_fit`):
        the Input shape, the Output units and, where the task needs them, its activation and
        loss, as one undo step ("Match network to data"). The status bar says what was set and
        why. Returns True when something changed."""
        doc, ds = self._doc, self._dataset
        if doc is None or ds is None or doc.locked:
            return False
        report = check_fit(doc.graph, DataShape.of(ds), doc.network.describe_node)
        fixes = report.fixes()
        if not fixes:
            return False
        try:
            doc.editor.fix_data(fixes, "Match network to data")  # one command for every node: one undo step
        except AnnError as e:
            self.statusMessage.emit(str(e))
            return False
        said = "; ".join(f"{f.node_id}: {f.text}" + (f" ({f.why})" if f.why else "") for f in fixes)
        self.statusMessage.emit(f"Matched the network to the data. {said[:1].upper()}{said[1:]}.")
        return True

    def use_one_hot(self) -> bool:
        """Give a two-class data set one-hot target columns (for an Output of 2 softmax
        units): one "Use one-hot targets" command. Returns True when the source changed."""
        doc = self._doc
        fix = next((m.data_fix for m in self._report.mismatches if m.data_fix), None)
        if doc is None or doc.locked or fix is None:
            return False
        src = with_data_fix(doc.network.data_source, fix)
        if src is None or not self._push_source(src, "Use one-hot targets"):
            return False
        self.statusMessage.emit("The targets are one-hot now: one 0/1 column per class, for the Output's "
                                "softmax units")
        return True

    # ------------------------------------------------------ model events
    def _alive(self) -> bool:
        return shiboken6.isValid(self)  # False once the C++ side is gone

    def _on_data_changed(self) -> None:
        if not self._alive():
            return
        self._show_source()
        self._reload()

    def _on_training_changed(self) -> None:
        if self._alive():
            self._show_training()

    def _on_node_added_or_removed(self, node, index) -> None:
        if self._alive() and affects_fit(self._doc.graph, node):
            self._check_mismatches()

    def _on_node_changed(self, node, keys) -> None:
        if self._alive() and affects_fit(self._doc.graph, node, keys):
            self._check_mismatches()

    @Slot(str)
    def _on_lock_changed(self, reason: str) -> None:
        self._apply_lock()

    @Slot(object)
    def _on_path_changed(self, path) -> None:
        src = self._doc.network.data_source if self._doc is not None else None
        if src and src.get("kind") == "csv":  # a relative CSV path now means another file
            self._reload()

    # --------------------------------------------------- model -> widgets
    def _show_source(self) -> None:
        """Put the network's data source into the widgets (no commands, no signals)."""
        src = self._doc.network.data_source if self._doc is not None else None
        self._updating = True
        try:
            if src and src.get("kind") == "csv":
                self._csv_source = copy.deepcopy(src)
            self._sync_csv_item()
            full = complete_source(src)
            if full is not None:
                info = BUILTIN_DATASETS[full["name"]]
                self.source_box.setCurrentIndex(self.source_box.findData(info.name))
                self.description.setText(info.description)
                self.source_box.setToolTip(info.description)
                params = full["params"]
                self._apply_limits(info, params)  # before the values, so that no limit clamps them
                for key, editor in self.settings.fields().items():
                    present = key in info.defaults
                    self.settings_form.setRowVisible(editor, present)
                    if present:
                        try:
                            self.settings.set_values({key: params[key]})
                        except TypeError:  # a malformed value in the file: the load error explains it
                            pass
                self.standardize_box.setChecked(full["standardize"])
                self.reconstruct_box.setChecked(full.get("reconstruct") is True)
                self._title.setText(info.title)
                self._subtitle.setText("Built-in · targets = inputs" if full.get("reconstruct") is True
                                       else f"Built-in · {info.task}")
            elif src and src.get("kind") == "csv":
                self.source_box.setCurrentIndex(self.source_box.findData(CSV_ITEM))
                path = str(src.get("path", ""))
                name = Path(path).name
                self.description.setText(path)
                self.source_box.setToolTip(path)
                self.csv_file.setText(name)
                self.csv_file.setToolTip(path)
                ins = src.get("inputs") or []
                tgs = src.get("targets") or []
                shape = src.get("input_shape")
                shaped = (f" → samples {fmt_shape(shape)}" if isinstance(shape, list) and len(shape) > 1 else "")
                self.csv_inputs.setText((", ".join(map(str, ins)) or "—") + shaped)
                self.csv_target.setText(", ".join(map(str, tgs)) or "—")
                task = str(src.get("task", "auto"))
                classes = src.get("classes")
                if isinstance(classes, list) and classes:
                    task += f" ({len(classes)} classes)"
                self.csv_task.setText(task)
                self.standardize_box.setChecked(bool(src.get("standardize", True)))
                self._title.setText(name or "CSV file")
                task = src.get("task")
                self._subtitle.setText(f"CSV file · {task}" if task in ("classification", "regression")
                                       else "CSV file")
            else:
                self.source_box.setCurrentIndex(-1)
                self.source_box.setToolTip("The data the network is trained on")
                self.description.setText("Choose a built-in data set or import a CSV file to train on." if not src
                                         else f"Unknown data source: {src.get('kind')!r} {src.get('name', '')}")
                self._title.setText("Data")
                self._subtitle.setText("No data set")
            kind = "builtin" if full is not None else "csv" if src and src.get("kind") == "csv" else None
            if kind != "builtin":
                for editor in self.settings.fields().values():
                    self.settings_form.setRowVisible(editor, False)
            for w in self._csv_rows:
                self.settings_form.setRowVisible(w, kind == "csv")
            self.settings_form.setRowVisible(self.standardize_box, kind is not None)
            self.settings_form.setRowVisible(self.reconstruct_box, kind == "builtin")
        finally:
            self._updating = False

    def _apply_limits(self, info, params: dict) -> None:
        """Each editor gets the data set's range for its setting (``info.params``); blobs
        also need at least as many samples as centers."""
        for spec in info.params:
            self.settings.set_limits(spec.name, spec.minimum, spec.maximum)
        if "centers" in params and isinstance(params.get("centers"), int) and isinstance(params.get("n_samples"), int):
            n, c = info.param("n_samples"), info.param("centers")
            self.settings.set_limits("n_samples", max(n.minimum, min(params["centers"], n.maximum)), n.maximum)
            self.settings.set_limits("centers", c.minimum, max(c.minimum, min(c.maximum, params["n_samples"])))

    def _sync_csv_item(self) -> None:
        """The chooser offers the current (or last used) CSV import after the built-ins."""
        box = self.source_box
        i = box.findData(CSV_ITEM)
        if self._csv_source is None:
            if i >= 0:
                box.removeItem(i)
                box.removeItem(i - 1)  # its separator
            return
        path = str(self._csv_source.get("path", ""))
        name = Path(path).name or "CSV file"
        if i < 0:
            box.insertSeparator(box.count())
            box.addItem(icon("open"), name, CSV_ITEM)
            i = box.count() - 1
        box.setItemText(i, name)
        box.setItemData(i, f"CSV file: {path}", Qt.ItemDataRole.ToolTipRole)

    def _show_training(self) -> None:
        if self._doc is None:
            return
        v = self._doc.network.training.validation_split
        self._updating = True
        try:
            self.split_spin.setValue(int(round(v * 100)))
        finally:
            self._updating = False
        self._update_split_note()

    def _update_split_note(self) -> None:
        if self._doc is None:
            return
        frac = self._doc.network.training.validation_split
        ds = self._dataset
        self.split_note.setStyleSheet(f"color: {MUTED_TEXT.name()};")
        if frac <= 0:
            self.split_note.setText("Every sample is used for training; no validation curve.")
        elif ds is None:
            self.split_note.setText(f"{frac * 100:g} % of the samples are held out to check generalization.")
        else:
            n = len(ds)
            n_val = int(round(n * frac))
            if n_val >= n:
                self.split_note.setStyleSheet(f"color: {ERROR_COLOR.name()};")
                self.split_note.setText(f"All {n:,} samples would be held out: none left to train on.")
            elif n_val == 0:
                self.split_note.setText(f"Too few samples ({n:,}) to hold any out at {frac * 100:g} %.")
            else:
                self.split_note.setText(f"{n_val:,} of {n:,} samples are held out to check generalization; "
                                        f"{n - n_val:,} train.")

    def _apply_lock(self) -> None:
        reason = self._doc.lock_reason if self._doc is not None else ""
        enabled = self._doc is not None and not reason
        for w in (self.source_box, self.import_button, self.standardize_box, self.reconstruct_box, self.csv_edit_button,
                  self.split_spin, self.fix_button, self.one_hot_button, *self.settings.fields().values()):
            w.setEnabled(enabled)
        self.lock_label.setText(reason)
        self.lock_label.setVisible(bool(reason))

    # ---------------------------------------------------------- loading
    def _base_dir(self) -> Path | None:
        p = self._doc.path if self._doc is not None else None
        return Path(p).parent if p else None

    def _csv_file(self, src: dict) -> Path:
        """The file of a CSV source (a path a script left relative is taken from the document's folder)."""
        base = self._base_dir()
        return Path(str((source_from_file(src, base) if base is not None else src).get("path", "")))

    def _reload(self) -> None:
        """Load the network's data source; show it, or the error (keeping the old preview)."""
        doc = self._doc
        if doc is None or not doc.network.data_source:
            self._dataset = None
            self._load_error = ""
            self._show_error("")
            self._show_preview(None)
        else:
            try:
                ds = doc.dataset()
            except (AnnError, OSError, ValueError, TypeError, KeyError) as e:
                self._dataset = None
                message = getattr(e, "message", None) or str(e)
                self._load_error = message
                self._show_error(message + ("\nThe preview shows the previous data." if self._shown else ""))
                if self._shown is None:  # a source is chosen: it is not "no data set"
                    self.summary_label.setText("No data loaded")
                self.statusMessage.emit(f"Cannot load the data: {message}")
            else:
                self._dataset = ds
                self._load_error = ""
                self._show_error("")
                self._show_preview(ds)
        self._update_split_note()
        self._check_mismatches()

    def _show_error(self, message: str) -> None:
        if message:
            self.error_label.setText(f"⚠ {message}")
            self.error_label.show()
        else:
            self.error_label.clear()
            self.error_label.hide()

    def _show_preview(self, ds: Dataset | None) -> None:
        self._shown = ds
        self._clear_plot()
        self.preview_warning.hide()
        if ds is None:
            self._preview_mode = "none"
            self.summary_label.setText("No data set chosen")
            self.summary_label.setStyleSheet(f"color: {MUTED_TEXT.name()};")
            self.plot.hide()
            self.key_label.hide()
            self.table.hide()
            self.preview_note.setText("")
            return
        self.summary_label.setStyleSheet(f"color: {TEXT_COLOR.name()};")
        self.summary_label.setText(dataset_summary(ds))
        kind = _input_kind(ds)
        plottable = ds.n_inputs == 2 or (ds.n_inputs == 1 and ds.n_outputs == 1)
        notes = []
        if kind == "image":
            mode = "images"
            notes.append(self._plot_images(ds))
        elif kind == "sequence":
            mode = "sequences"
            notes.append(self._plot_sequences(ds))
        elif kind == "features" and plottable:
            mode = "scatter"
            self._plot(ds)
            m = min(len(ds), PREVIEW_POINTS)
            if m < len(ds):
                notes.append(f"Showing {m:,} of {len(ds):,} samples.")
        else:
            mode = "table"
            tokens = kind == "tokens"
            self._fill_table(ds, tokens=tokens)
            m = min(len(ds), TABLE_ROWS)
            if tokens:
                notes.append(f"First {m:,} of {len(ds):,} token sequences ({_plural(ds.n_inputs, 'step')}).")
            else:
                notes.append(f"First {m:,} of {len(ds):,} rows.")
        self._preview_mode = mode
        self.table.setVisible(mode == "table")
        self.plot.setVisible(mode != "table")
        if mode == "table":
            self.key_label.hide()
        if isinstance(ds.source, dict) and ds.source.get("reconstruct") is True:
            notes.append("The targets are the inputs: the network learns to reproduce them.")
        if ds.scaler is not None:
            notes.append("Inputs are standardized (mean 0, standard deviation 1).")
            if kind == "tokens":
                self.preview_warning.setText(f"⚠ {TOKEN_WARNING}")
                self.preview_warning.show()
        self.preview_note.setText(" ".join(notes))

    def _clear_plot(self) -> None:
        """Empty the plot and put back the scatter plot's look (axes, grid, upright y)."""
        pi = self.plot.getPlotItem()
        for item in self._extra_items:
            pi.removeItem(item)
        self._extra_items = []
        self.scatter.clear()
        self.image.clear()
        self.image.hide()
        pi.showAxis("left")
        pi.showAxis("bottom")
        pi.showGrid(x=True, y=True, alpha=0.18)
        pi.getViewBox().invertY(False)
        pi.setAspectLocked(False)
        pi.getAxis("left").setTicks(None)
        pi.getAxis("bottom").setTicks(None)

    def _add(self, item, bounds: bool = True):
        self.plot.getPlotItem().addItem(item, ignoreBounds=not bounds)
        self._extra_items.append(item)
        return item

    def _text(self, text: str, color, anchor: tuple[float, float], bold: bool = False) -> pg.TextItem:
        item = pg.TextItem(text, color=QColor(color), anchor=anchor)
        f = QFont(self._small_font)
        f.setBold(bold)
        item.setFont(f)
        return item

    def _plot_images(self, ds: Dataset) -> str:
        """The first samples as small pictures, lowest value light and highest dark, with the
        class under each (for class targets). Returns the note for under the preview."""
        shape = ds.input_shape
        m = min(len(ds), PREVIEW_IMAGES)
        h, w = int(shape[0]), int(shape[1])
        c = int(math.prod(shape[2:])) if len(shape) > 2 else 1
        pics = ds.X[:m].astype(np.float64).reshape(m, h, w, c)
        rgb = c == 3
        if not rgb:
            pics = pics[..., :1]
        finite = pics[np.isfinite(pics)]
        lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
        t = np.clip((pics - lo) / (hi - lo), 0.0, 1.0) if hi > lo else np.full(pics.shape, 0.5)
        t = np.nan_to_num(t, nan=0.0)
        classify = ds.task == "classification" and bool(ds.classes)
        idx = self._class_index(ds, m) if classify else None
        cols = max(1, min(m, IMAGE_COLUMNS))
        rows = max(1, math.ceil(m / cols))
        gap = max(1, round(max(h, w) / 7))
        band = max(2, round(h * 0.55)) if classify else 0  # room for the label under each tile
        height = rows * (h + band) + (rows - 1) * gap
        width = cols * w + (cols - 1) * gap
        mosaic = np.zeros((height, width, 4), dtype=np.uint8)  # transparent around the tiles
        paper = np.array(IMAGE_PAPER.getRgb()[:3], dtype=np.float64)
        ink = np.array(IMAGE_INK.getRgb()[:3], dtype=np.float64)
        for i in range(m):
            r, col = divmod(i, cols)
            y0, x0 = r * (h + band + gap), col * (w + gap)
            tile = t[i] * 255.0 if rgb else paper + t[i] * (ink - paper)  # (h, w, 3)
            mosaic[y0:y0 + h, x0:x0 + w, :3] = np.round(tile).astype(np.uint8)
            mosaic[y0:y0 + h, x0:x0 + w, 3] = 255
            if classify:
                label = self._text(ds.classes[int(idx[i])], TEXT_COLOR, (0.5, 0.0))
                label.setPos(x0 + w / 2, y0 + h)
                self._add(label, bounds=False)
        self.image.setImage(mosaic, autoLevels=False, levels=(0, 255))
        self.image.setRect(0, 0, width, height)
        self.image.show()
        pi = self.plot.getPlotItem()
        pi.hideAxis("left")
        pi.hideAxis("bottom")
        pi.showGrid(x=False, y=False)
        pi.getViewBox().invertY(True)  # row 0 at the top: the pictures stand upright
        pi.setAspectLocked(True, ratio=1.0)
        pi.setRange(xRange=(0, width), yRange=(0, height), padding=0.02)
        self.key_label.hide()
        size = f"{h}×{w}" + (f"×{c}" if c > 1 else "")
        note = f"First {m:,} of {len(ds):,} images ({size})"
        if c > 1 and not rgb:
            note += ", channel 1 shown"
        if classify:
            note += " with their classes"
        return note + "."

    def _plot_sequences(self, ds: Dataset) -> str:
        """The first sequences over their time steps (feature 1): for class targets one lane
        each, coloured and labelled by class; otherwise overlaid lines coloured by the target
        value. Returns the note for under the preview."""
        steps = int(ds.input_shape[0])
        features = int(math.prod(ds.input_shape[1:]))
        m = min(len(ds), PREVIEW_SEQUENCES)
        values = ds.X[:m].astype(np.float64).reshape(m, steps, features)[:, :, 0]
        finite = values[np.isfinite(values)]
        lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
        span = hi - lo if hi > lo else 1.0
        pi = self.plot.getPlotItem()
        t = np.arange(1, steps + 1, dtype=np.float64)
        edges = np.arange(0.5, steps + 1.0, dtype=np.float64)
        classify = ds.task == "classification" and bool(ds.classes)
        if classify:
            idx = self._class_index(ds, m)
            for i in range(m):
                base = m - 1 - i  # the first sample on top
                color = QColor(CLASS_COLORS[int(idx[i]) % len(CLASS_COLORS)])
                fill = QColor(color)
                fill.setAlpha(45)
                y = base + 0.12 + 0.72 * (values[i] - lo) / span
                line = pg.PlotDataItem(edges, y, stepMode="center", pen=pg.mkPen(color, width=2),
                                       fillLevel=base + 0.12, brush=QBrush(fill), antialias=True)
                self._add(line)
                label = self._text(ds.classes[int(idx[i])], color, (0.0, 0.5), bold=True)
                label.setPos(steps + 0.5 + max(0.15, 0.02 * steps), base + 0.5)
                self._add(label, bounds=False)
            pi.showGrid(x=True, y=False, alpha=0.18)
            pi.getAxis("left").setTicks([[(m - 1 - i + 0.5, f"#{i + 1}") for i in range(m)]])
            pi.setLabel("left", "sample")
            pi.setRange(xRange=(0.5, steps + 0.5 + max(1.6, 0.2 * steps)), yRange=(0, m), padding=0.01)
            self._class_key(ds)
        else:
            target = ds.Y[:m, 0].astype(np.float64)
            tlo, thi = float(np.nanmin(target)), float(np.nanmax(target))
            cmap = pg.ColorMap([0.0, 0.5, 1.0], [QColor(VALUE_COLORS[0]), QColor("#78909C"), QColor(VALUE_COLORS[2])])
            shade = (target - tlo) / (thi - tlo) if thi > tlo else np.full(m, 0.5)
            show_target = ds.n_outputs == 1 and ds.scaler is None  # the target on the inputs' scale
            for i in range(m):
                color = cmap.map(float(shade[i]), mode="qcolor")
                self._add(pg.PlotDataItem(t, values[i], pen=pg.mkPen(color, width=1.6), antialias=True))
                if show_target:
                    self._add(pg.ScatterPlotItem([steps + 1.0], [target[i]], size=7, brush=QBrush(color),
                                                 pen=pg.mkPen("w", width=0.8)))
            pi.setLabel("left", "value" if features == 1 else "feature 1")
            pi.enableAutoRange()
            pi.autoRange()
            grad = "".join(f"<span style='color:{cmap.map(s, mode='qcolor').name()}'>█</span>"
                           for s in np.linspace(0, 1, 12))
            dot = f" (● at step {steps + 1})" if show_target else ""
            self.key_label.setText(f"{html.escape(ds.target_names[0])}{dot}: {tlo:.4g} {grad} {thi:.4g}")
            self.key_label.show()
        pi.setLabel("bottom", "time step")
        pi.getAxis("bottom").setTicks([[(float(v), str(v)) for v in _step_ticks(steps)]])
        note = f"First {m:,} of {len(ds):,} sequences ({_plural(steps, 'step')}"
        note += f", feature 1 of {features})." if features > 1 else ")."
        return note

    def _class_key(self, ds: Dataset) -> None:
        keys = []
        for i, label in enumerate(ds.classes[:12]):
            color = CLASS_COLORS[i % len(CLASS_COLORS)]
            keys.append(f"<span style='color:{color}; font-size:large'>●</span>&nbsp;{html.escape(label)}")
        more = f" … {len(ds.classes) - 12} more" if len(ds.classes) > 12 else ""
        self.key_label.setText("&nbsp;&nbsp; ".join(keys) + more)
        self.key_label.show()

    def _class_index(self, ds: Dataset, m: int) -> np.ndarray:
        Y = ds.Y[:m]
        if Y.shape[1] == 1:
            return (Y[:, 0] > 0.5).astype(np.int64)
        return np.argmax(Y, axis=1)

    def _plot(self, ds: Dataset) -> None:
        m = min(len(ds), PREVIEW_POINTS)
        pi = self.plot.getPlotItem()
        if ds.n_inputs == 2:
            x, y = ds.X[:m, 0], ds.X[:m, 1]
            xlabel, ylabel = ds.input_names[0], ds.input_names[1]
        else:  # one input, one output: the target over the input
            x, y = ds.X[:m, 0], ds.Y[:m, 0]
            xlabel, ylabel = ds.input_names[0], ds.target_names[0]
        pen = QPen(QColor(255, 255, 255, 200))
        pen.setWidthF(0.8)
        pen.setCosmetic(True)
        if ds.task == "classification" and ds.classes and ds.n_inputs == 2:
            idx = self._class_index(ds, m)
            brushes_by_class = [QBrush(QColor(CLASS_COLORS[i % len(CLASS_COLORS)])) for i in range(len(ds.classes))]
            brushes = [brushes_by_class[i] for i in idx]
            self._class_key(ds)
        elif ds.n_inputs == 2:  # regression: colour by the (first) target value
            values = ds.Y[:m, 0].astype(np.float64)
            lo, hi = float(values.min()), float(values.max())
            cmap = pg.ColorMap([0.0, 0.5, 1.0], [QColor(c) for c in VALUE_COLORS])
            t = (values - lo) / (hi - lo) if hi > lo else np.full(m, 0.5)
            colors = cmap.map(t, mode="qcolor")
            brushes = [QBrush(c) for c in colors]
            grad = "".join(f"<span style='color:{cmap.map(s, mode='qcolor').name()}'>█</span>"
                           for s in np.linspace(0, 1, 12))
            self.key_label.setText(f"{html.escape(ds.target_names[0])}: {lo:.4g} {grad} {hi:.4g}")
            self.key_label.show()
        else:
            brushes = QBrush(QColor(CLASS_COLORS[0]))
            self.key_label.hide()
        self.scatter.setData(x=np.asarray(x, dtype=np.float64), y=np.asarray(y, dtype=np.float64),
                             brush=brushes, pen=pen, size=12 if m <= 16 else 8 if m <= 300 else 6)
        pi.setLabel("bottom", xlabel)
        pi.setLabel("left", ylabel)
        # the same scale on both axes when both inputs have comparable ranges (a circle stays round)
        if ds.n_inputs == 2 and m > 0:
            rx = float(np.ptp(x)) or 1.0
            ry = float(np.ptp(y)) or 1.0
            pi.setAspectLocked(max(rx, ry) / min(rx, ry) < 3.0, ratio=1.0)
        else:
            pi.setAspectLocked(False)
        pi.enableAutoRange()
        pi.autoRange()

    def _fill_table(self, ds: Dataset, tokens: bool = False) -> None:
        """The first rows as a table; ``tokens``: the inputs are token ids (columns t1..tN,
        whole numbers shown as integers)."""
        m = min(len(ds), TABLE_ROWS)
        classify = ds.task == "classification" and bool(ds.classes)
        heads = [f"t{i + 1}" for i in range(ds.n_inputs)] if tokens else list(ds.input_names)
        if classify:
            heads.append(ds.target_names[0].split("=")[0] if ds.n_outputs > 1 else ds.target_names[0])
        else:
            heads.extend(ds.target_names)
        t = self.table
        t.clear()
        t.setColumnCount(len(heads))
        t.setRowCount(m)
        _, accent = role_colors("output")
        for c, h in enumerate(heads):
            item = QTableWidgetItem(h)
            item.setToolTip(ds.input_names[c] if tokens and c < ds.n_inputs else h)
            if c >= ds.n_inputs:
                item.setForeground(accent.darker(110))
            t.setHorizontalHeaderItem(c, item)
        idx = self._class_index(ds, m) if classify else None
        for r in range(m):
            row = ds.X[r]
            if tokens and np.all(np.isfinite(row)) and np.all(row == np.round(row)):
                values = [str(int(v)) for v in row]
            else:
                values = [_fmt(v) for v in row]
            if classify:
                values.append(ds.classes[int(idx[r])])
            else:
                values.extend(_fmt(v) for v in ds.Y[r])
            for c, text in enumerate(values):
                item = QTableWidgetItem(text)
                item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                if c >= ds.n_inputs:
                    item.setForeground(accent.darker(120))
                t.setItem(r, c, item)
        hh = t.horizontalHeader()
        if tokens:  # narrow columns: a token sequence fits the panel without scrolling
            hh.setMinimumSectionSize(22)
        else:
            hh.setMinimumSectionSize(36)
        hh.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        bar = t.horizontalScrollBar().sizeHint().height()
        h = hh.sizeHint().height() + sum(t.rowHeight(r) for r in range(m)) + 4
        t.setFixedHeight(h + bar)

    # ---------------------------------------------------------- mismatch
    def _check_mismatches(self) -> None:
        doc, ds = self._doc, self._dataset
        report = FitReport()
        if doc is not None and ds is not None:
            report = check_fit(doc.graph, DataShape.of(ds), doc.network.describe_node)
        self._report = report
        found = report.messages()
        rows = []
        for m in report.mismatches:
            row = f"⚠ {html.escape(m.message)}"
            if m.fix is not None:
                other = "".join(f", or {html.escape(a)}" for a in m.alternatives)
                row += (f"<br><span style='color:{MUTED_TEXT.name()}'>Fix: {html.escape(m.fix.text)}{other}"
                        "</span>")
            rows.append(row)
        rows += [f"<span style='color:{MUTED_TEXT.name()}'>{html.escape(n)}</span>" for n in report.notes]
        self.mismatch_label.setText("<br>".join(rows))
        self.mismatch_box.setVisible(bool(rows))
        fixable = bool(report.fixes())
        self.fix_button.setVisible(fixable)
        self.one_hot_button.setVisible(any(m.data_fix for m in report.mismatches))
        self.fix_hint.setVisible(fixable)
        if fixable:
            self.fix_button.setToolTip("Set " + " and ".join(f"{f.node_id} to {f.text}" for f in report.fixes())
                                       + " (one undo step)")
        if found != self._mismatches:
            self._mismatches = found
            self.mismatchesChanged.emit(dict(found))

    # ----------------------------------------------------------- commits
    def _push_source(self, src: dict, text: str) -> bool:
        """Name ``src`` as the data set (one undo step); True when it changed."""
        doc = self._doc
        if doc is None or same_source(src, doc.network.data_source):
            return False
        try:
            doc.editor.set_data_source(src, text)
        except AnnError as e:  # EditLocked: the widgets are disabled, so only a script gets here
            self.statusMessage.emit(str(e))
            self._show_source()
            return False
        return True

    def _on_source_chosen(self, index: int) -> None:
        if self._updating or self._doc is None or index < 0:
            return
        key = self.source_box.itemData(index)
        current = self._doc.network.data_source
        if key == CSV_ITEM:
            if self._csv_source is not None:
                self._push_source(copy.deepcopy(self._csv_source), f"Choose data: {self.source_box.itemText(index)}")
            return
        info = BUILTIN_DATASETS.get(key)
        if info is None:
            return
        old = complete_source(current)
        if old is not None and old["name"] == info.name:
            return
        src = {"kind": "builtin", "name": info.name, "params": info.defaults,
               "standardize": standardize_default(info, old["standardize"] if old is not None else None)}
        if old is not None and old.get("reconstruct") is True:  # an autoencoder stays one
            src["reconstruct"] = True
        self._push_source(src, f"Choose data: {info.title}")
        self.statusMessage.emit(f"Data: {info.title}")

    def _commit_param(self, key: str, value: Any) -> None:
        """The settings form committed ``value`` for ``key``: one "Set data ..." step."""
        if self._updating or self._doc is None:
            return
        full = complete_source(self._doc.network.data_source)
        if full is None or key not in full["params"]:
            return
        spec = self.settings.param_field(key).spec
        old = full["params"][key]
        if spec.kind == "float":
            value = round(float(value), spec.decimals)
            if isinstance(old, (int, float)) and round(float(old), spec.decimals) == value:
                return
            shown = f"{value:g}"
        else:
            value = int(value)
            if old == value:
                return
            shown = str(value)
        new = copy.deepcopy(full)
        new["params"][key] = value
        self._push_source(new, f"Set data {spec.title.lower()} to {shown}")

    def _commit_standardize(self, checked: bool) -> None:
        if self._updating or self._doc is None:
            return
        src = self._doc.network.data_source
        full = complete_source(src)
        text = "Standardize inputs" if checked else "Do not standardize inputs"
        if full is not None:
            if full["standardize"] != checked:
                full["standardize"] = bool(checked)
                self._push_source(full, text)
            return
        if src and src.get("kind") == "csv" and bool(src.get("standardize", True)) != checked:
            new = self._restandardized_csv(src, bool(checked))
            if new is None:
                self._show_source()  # refused: put the model's value back
                return
            self._push_source(new, text)

    def _commit_reconstruct(self, checked: bool) -> None:
        if self._updating or self._doc is None:
            return
        full = complete_source(self._doc.network.data_source)
        if full is None or (full.get("reconstruct") is True) == bool(checked):
            return
        if checked:
            full["reconstruct"] = True
        else:
            full.pop("reconstruct", None)
        self._push_source(full, "Use the inputs as targets" if checked else "Use the data set's targets")

    def _restandardized_csv(self, src: dict, standardize: bool) -> dict | None:
        """The CSV source with scaling switched on or off (None, with the reason in the
        status bar, when the file cannot be read)."""
        try:
            return restandardized_source(src, standardize, self._base_dir())
        except (AnnError, OSError, ValueError) as e:
            self.statusMessage.emit(f"Cannot change the scaling: {e}")
            return None

    def _commit_split(self) -> None:
        if self._updating or self._doc is None:
            return
        spin = self.split_spin
        was = spin.blockSignals(True)
        spin.interpretText()
        spin.blockSignals(was)
        pct = spin.value()
        current = self._doc.network.training.validation_split
        if int(round(current * 100)) == pct:
            return
        try:
            self._doc.editor.set_training(validation_split=pct / 100)
        except AnnError as e:
            self.statusMessage.emit(str(e))
            self._show_training()


__all__ = ["DataPanel", "PREVIEW_POINTS"]
