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

The preview (``previews.py``) follows what a sample is: a scatter plot for one
or two plain inputs, a grid of small pictures for images, lines over the time
steps for sequences, and a table otherwise (token sequences, many CSV columns).
"""

from __future__ import annotations

import copy
import html
from pathlib import Path
from typing import Any, Callable

import pyqtgraph as pg
import shiboken6
from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QCheckBox,
    QGridLayout,
    QComboBox,
    QDialog,
    QFileDialog,
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from ...data import BUILTIN_DATASETS, Dataset, complete_source, restandardized_source, same_source, source_from_file
from ...data.builtin import PARAM_SPECS
from ...engine import DataShape, FitReport, affects_fit, check_fit, standardize_default, with_data_fix
from ...data.features import DEFAULT_FEATURES, FEATURE_NAMES, check_features
from ...data.formula import parse as parse_formula

#: how the feature boxes read
FEATURE_TITLES = {"x1^2": "x1²", "x2^2": "x2²", "x1*x2": "x1·x2"}
from ...errors import AnnError
from ...graph.events import Connections
from ...graph.nodetypes import fmt_shape
from ..form import ParamForm
from ..formkit import ComboBox, SpinBox, form_layout, muted, panel_header, scroll_body, section
from ..icons import icon
from ..style import ERROR_COLOR, MUTED_TEXT
from .csvdialog import CsvImportDialog
from .previews import DataPreview

CSV_FILTER = "CSV files (*.csv *.tsv *.txt);;All files (*)"
CSV_ITEM = "__csv__"
#: the data-set settings' editors are named data_<this> (data_samples, data_noise, ...)
FIELD_NAMES = {"n_samples": "samples"}


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"



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
        # the 2-D sets' feature inputs (x1², x1·x2, sin x1 …), as TensorFlow Playground offers them
        self.features_box = QWidget()
        self.features_box.setObjectName("data_features")
        grid = QGridLayout(self.features_box)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setHorizontalSpacing(6)
        grid.setVerticalSpacing(0)
        self.feature_checks: dict[str, QCheckBox] = {}
        for i, name in enumerate(FEATURE_NAMES):
            box = QCheckBox(FEATURE_TITLES.get(name, name))
            box.setObjectName(f"data_feature_{name}")
            box.setToolTip(f"Give the network {FEATURE_TITLES.get(name, name)} as an input column")
            box.toggled.connect(self._commit_features)
            grid.addWidget(box, i // 4, i % 4)
            self.feature_checks[name] = box
        form.addRow("Features", self.features_box)

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
        self.preview = DataPreview(self._page)
        lay.addWidget(self.preview)
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
        self.preview.forget()
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
        return self.preview.summary_text()

    def error_text(self) -> str:
        """The load error shown now ('' when none)."""
        return self.preview.error_text()

    def scatter_item(self) -> pg.ScatterPlotItem:
        """The preview's scatter plot item (:meth:`DataPreview.scatter_item`)."""
        return self.preview.scatter_item()

    def image_item(self) -> pg.ImageItem:
        """The preview's image item (:meth:`DataPreview.image_item`)."""
        return self.preview.image_item()

    def preview_mode(self) -> str:
        """What the preview shows: ``"none"``, ``"scatter"``, ``"images"``, ``"sequences"`` or ``"table"``."""
        return self.preview.mode()

    def preview_items(self) -> list:
        """The extra plot items of an image or sequence preview (lines and text labels)."""
        return self.preview.items()

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
                self.settings_form.setRowVisible(self.features_box, info.takes_features)
                if info.takes_features:
                    try:
                        chosen = set(check_features(params.get("features", DEFAULT_FEATURES)))
                    except AnnError:
                        chosen = set(DEFAULT_FEATURES)
                    for name, box in self.feature_checks.items():
                        box.setChecked(name in chosen)
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
            if kind != "builtin":  # no built-in set: none of its settings, nor its feature inputs
                for editor in self.settings.fields().values():
                    self.settings_form.setRowVisible(editor, False)
                self.settings_form.setRowVisible(self.features_box, False)
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
            self.preview.show_dataset(None)
        else:
            try:
                ds = doc.dataset()
            except (AnnError, OSError, ValueError, TypeError, KeyError) as e:
                self._dataset = None
                message = getattr(e, "message", None) or str(e)
                self.preview.show_load_error(message)
                self.statusMessage.emit(f"Cannot load the data: {message}")
            else:
                self._dataset = ds
                self.preview.show_dataset(ds)
        self._update_split_note()
        self._check_mismatches()

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
        elif spec.kind in ("str", "string", "text"):
            value = str(value).strip()
            if old == value:
                self.settings.clear_error()
                return
            if key == "expression":  # checked before anything changes; the message names the column
                try:
                    parse_formula(value)
                except AnnError as e:
                    self.settings.set_error(key, str(e))
                    return
            shown = f"'{value}'"
        else:
            value = int(value)
            if old == value:
                return
            shown = str(value)
        self.settings.clear_error()
        new = copy.deepcopy(full)
        new["params"][key] = value
        self._push_source(new, f"Set data {spec.title.lower()} to {shown}")

    def _commit_features(self, _checked: bool = False) -> None:
        """The ticked features become the data set's input columns (one undo step);
        the last one cannot be unticked."""
        if self._updating or self._doc is None:
            return
        full = complete_source(self._doc.network.data_source)
        if full is None or not BUILTIN_DATASETS[full["name"]].takes_features:
            return
        chosen = [n for n in FEATURE_NAMES if self.feature_checks[n].isChecked()]
        if not chosen:
            self.statusMessage.emit("a data set needs at least one input: tick another feature first")
            self._show_source()
            return
        new = copy.deepcopy(full)
        if tuple(chosen) == DEFAULT_FEATURES:
            new["params"].pop("features", None)  # a source without it: as files saved before features
        else:
            new["params"]["features"] = chosen
        self._push_source(new, "Use features " + ", ".join(FEATURE_TITLES.get(n, n) for n in chosen))

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


__all__ = ["DataPanel"]
