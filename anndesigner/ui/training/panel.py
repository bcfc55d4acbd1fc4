"""The training panel: Train / Pause / Resume, Step, Stop and Reset Weights in
a fixed row at the top (always in sight), a progress bar with epoch, loss and
ETA, what the last Step did, and after a diverged run its two fixes; below,
scrolling, the optimizer and its settings, learning rate, batch size, epochs,
regularization, early stopping, and Predict.

What it shows of a document follows the document's signals: a Predict answer,
a run's summary or a refused start is cleared as soon as the weights, history,
data or graph it was about change (a training run, its undo, another document).

Settings are the network's (saved in the file); each committed change is one
undo step through the document's editor (``doc.editor.set_training``). The
optimizer's own settings and the learning-rate schedule's are each a
:class:`~anndesigner.ui.form.ParamForm` built from the optimizer's or the
schedule's ParamSpecs, whose rows join the panel's form. Every
number field ignores the mouse wheel unless focused. The buttons drive a
:class:`TrainingController`.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QCheckBox,
    QComboBox,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from ...engine import ENDLESS_EPOCHS, OPTIMIZERS, SCHEDULES
from ...params import ParamSpec
from ...errors import AnnError
from ...graph.events import Connections
from ..document import Document
from ..form import ParamForm
from ..formkit import ComboBox, DoubleSpinBox, FloatSpinBox, SpinBox
from ..icons import icon
from .controller import TrainingController

#: the speed menu: (text, epochs per second or None for flat out)
SPEEDS = (("Flat out", None), ("100 epochs/s", 100.0), ("30 epochs/s", 30.0), ("10 epochs/s", 10.0),
          ("3 epochs/s", 3.0), ("1 epoch/s", 1.0))

RULES = [("backprop", "Backpropagation"), ("perceptron", "Perceptron rule"), ("hebbian", "Hebb's rule"),
         ("fixed", "Fixed weights (no learning)")]
OPT_TITLES = {"sgd": "SGD", "adagrad": "Adagrad", "adadelta": "Adadelta", "rmsprop": "RMSprop", "adam": "Adam",
              "adamw": "AdamW"}


#: the form row of the optimizer's first own setting (after "Learning rule" and "Optimizer")
HYPER_ROW = 2


def fmt_seconds(s: float) -> str:
    if not math.isfinite(s):
        return "–"
    s = int(round(s))
    return f"{s // 60}m {s % 60:02d}s" if s >= 60 else f"{s}s"


def _spin(lo: float, hi: float, decimals: int | None = None, step: float = 1.0) -> QAbstractSpinBox:
    """A wheel-safe number field that reports a value only when it is committed."""
    if decimals is None:
        w = SpinBox()
        w.setRange(int(lo), int(hi))
    else:
        w = DoubleSpinBox()
        w.setDecimals(decimals)
        w.setRange(lo, hi)
        w.setSingleStep(step)
    w.setKeyboardTracking(False)  # valueChanged only when committed, not per keystroke
    w.setAlignment(Qt.AlignmentFlag.AlignRight)
    w.setFocusPolicy(Qt.FocusPolicy.StrongFocus)  # a wheel turn must not take the focus
    return w


class TrainingPanel(QWidget):
    statusMessage = Signal(str)

    def __init__(self, document: Document, controller: TrainingController, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("trainingPanel")
        self.controller = controller
        self.document: Document | None = None
        self._updating = False
        #: the optimizer's own settings (rows of ``form`` from HYPER_ROW on); None for none
        self.hyper_form: ParamForm | None = None
        #: the schedule's settings (rows of ``form`` after "Schedule"); None for none
        self.schedule_form: ParamForm | None = None
        self._doc_links = Connections()
        self._diverged_lr: float | None = None

        form = self.form = QFormLayout()
        form.setLabelAlignment(Qt.AlignmentFlag.AlignRight)
        self.rule = ComboBox()
        self.rule.setObjectName("rule")
        for key, title in RULES:
            self.rule.addItem(title, key)
        self.optimizer = ComboBox()
        self.optimizer.setObjectName("optimizer")
        for key in OPTIMIZERS:
            self.optimizer.addItem(OPT_TITLES.get(key, key), key)
        # any magnitude, shown as it is: a diverged run's 1e300 must not read as 100
        self.learning_rate = FloatSpinBox(1e-12, 1e300)
        self.learning_rate.setKeyboardTracking(False)
        self.learning_rate.setAlignment(Qt.AlignmentFlag.AlignRight)
        self.learning_rate.setObjectName("learning_rate")
        self.learning_rate.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.batch_size = _spin(1, 100_000)
        self.batch_size.setObjectName("batch_size")
        self.epochs = _spin(1, 1_000_000)
        self.epochs.setObjectName("epochs")
        self.l1 = _spin(0.0, 10.0, 6, 0.0001)
        self.l1.setObjectName("l1")
        self.l2 = _spin(0.0, 10.0, 6, 0.0001)
        self.l2.setObjectName("l2")
        self.clipnorm = _spin(0.0, 1e6, 3, 0.5)
        self.clipnorm.setObjectName("clipnorm")
        self.clipnorm.setSpecialValueText("off")
        self.schedule = ComboBox()
        self.schedule.setObjectName("schedule")
        for key in SCHEDULES:
            self.schedule.addItem(key.capitalize(), key)
        self.shuffle = QCheckBox("Shuffle every epoch")
        self.shuffle.setObjectName("shuffle")
        self.early = QCheckBox("Early stopping, patience")
        self.early.setObjectName("early_stopping")
        self.patience = _spin(1, 100_000)
        self.patience.setObjectName("patience")
        early_row = QHBoxLayout()
        early_row.addWidget(self.early)
        early_row.addWidget(self.patience)
        early_row.addStretch(1)

        for combo in (self.rule, self.optimizer, self.schedule):  # long titles must not widen the dock
            combo.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
            combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
            combo.setMinimumContentsLength(8)
        form.addRow("Learning rule", self.rule)
        form.addRow("Optimizer", self.optimizer)
        # the optimizer's own settings are rows of this form, right after "Optimizer" (one
        # column of labels: a nested form was wider than the dock and scrolled sideways)
        form.addRow("Learning rate", self.learning_rate)
        form.addRow("Schedule", self.schedule)
        form.addRow("Batch size", self.batch_size)
        form.addRow("Epochs", self.epochs)
        form.addRow("L1", self.l1)
        form.addRow("L2", self.l2)
        form.addRow("Clip gradient norm", self.clipnorm)
        form.addRow(self.shuffle)
        form.addRow(early_row)

        # Train, Step and Stop sit in a fixed row above the scrolling settings, so they are
        # always in sight whatever the dock's height
        self.controls = QWidget()
        self.controls.setObjectName("trainingControls")
        top = QVBoxLayout(self.controls)
        top.setContentsMargins(8, 8, 8, 4)
        buttons = QHBoxLayout()
        buttons.setSpacing(4)
        self.train_button = QPushButton(icon("train"), "Train")
        self.train_button.setObjectName("trainButton")
        self.train_button.setToolTip("Train, pause or resume (F5)")
        self.step_button = QPushButton(icon("step"), "Step")
        self.step_button.setObjectName("stepButton")
        self.step_button.setToolTip("Run one batch, then pause (F6)")
        self.stop_button = QPushButton(icon("stop"), "Stop")
        self.stop_button.setObjectName("stopButton")
        self.stop_button.setToolTip("End the run and keep what it trained (Shift+F5)")
        self.reset_button = QPushButton(icon("reset"), "Reset")
        self.reset_button.setObjectName("resetButton")
        self.reset_button.setToolTip("Reset Weights: initialize every weight again from the network's seed")
        for b in (self.train_button, self.step_button, self.stop_button, self.reset_button):
            b.setMinimumWidth(0)
            b.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
            buttons.addWidget(b, 1)
        top.addLayout(buttons)
        pace = QHBoxLayout()
        pace.setSpacing(4)
        self.endless_box = QCheckBox("Until paused")
        self.endless_box.setObjectName("endlessBox")
        self.endless_box.setToolTip("Keep training past the epoch count until you pause or stop it")
        self.speed_box = QComboBox()
        self.speed_box.setObjectName("speedBox")
        self.speed_box.setToolTip("How fast training runs: slow speeds let you watch the surface form")
        for text, value in SPEEDS:
            self.speed_box.addItem(text, value)
        # narrow: the row must fit the dock's width without a horizontal scroll bar
        self.speed_box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.speed_box.setMinimumContentsLength(6)
        self.speed_box.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        self.endless_box.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        pace.addWidget(self.endless_box, 1)
        pace.addWidget(QLabel("Speed"))
        pace.addWidget(self.speed_box, 1)
        top.addLayout(pace)
        self.progress = QProgressBar()
        self.progress.setObjectName("progress")
        self.progress.setTextVisible(False)
        self.progress.setMaximumHeight(8)
        self.status = QLabel("Ready")
        self.status.setObjectName("trainingStatus")
        self.status.setWordWrap(True)
        self.status.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        #: what the last Step did (the batch, its loss); empty unless paused after a step
        self.step_info = QLabel()
        self.step_info.setObjectName("stepInfo")
        self.step_info.setWordWrap(True)
        self.step_info.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.step_info.hide()
        top.addWidget(self.progress)
        top.addWidget(self.status)
        top.addWidget(self.step_info)
        # a run that diverged: what happened, and the two ways out
        self.diverged = QWidget()
        self.diverged.setObjectName("divergedBox")
        dv = QVBoxLayout(self.diverged)
        dv.setContentsMargins(0, 2, 0, 2)
        self.diverged_text = QLabel()
        self.diverged_text.setObjectName("divergedText")
        self.diverged_text.setWordWrap(True)
        self.diverged_text.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        dv.addWidget(self.diverged_text)
        fix_row = QVBoxLayout()  # one above the other: "Lower learning rate to 1e-05" is long
        fix_row.setSpacing(2)
        self.lower_lr_button = QPushButton("Lower learning rate")
        self.lower_lr_button.setObjectName("lowerLearningRate")
        self.reset_after_nan = QPushButton("Reset weights")
        self.reset_after_nan.setObjectName("resetAfterNan")
        for b in (self.lower_lr_button, self.reset_after_nan):
            b.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
            fix_row.addWidget(b)
        dv.addLayout(fix_row)
        self.diverged.hide()
        top.addWidget(self.diverged)

        settings = QWidget()
        settings.setObjectName("trainingSettings")
        lay = QVBoxLayout(settings)
        lay.setContentsMargins(8, 4, 8, 8)
        lay.addLayout(form)

        # Predict: type input values, see the outputs (raw values: the data's scaling is applied)
        predict_row = QHBoxLayout()
        self.predict_input = QLineEdit()
        self.predict_input.setObjectName("predictInput")
        self.predict_input.setPlaceholderText("Inputs, e.g. 0, 1")
        self.predict_button = QPushButton("Predict")
        self.predict_button.setObjectName("predictButton")
        predict_row.addWidget(self.predict_input, 1)
        predict_row.addWidget(self.predict_button)
        self.predict_output = QLabel()
        self.predict_output.setObjectName("predictOutput")
        self.predict_output.setWordWrap(True)
        self.predict_output.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.predict_output.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        predict_title = QLabel("<b>Predict</b>")
        lay.addSpacing(6)
        lay.addWidget(predict_title)
        lay.addLayout(predict_row)
        lay.addWidget(self.predict_output)
        lay.addStretch(1)

        self.scroll = QScrollArea()
        self.scroll.setObjectName("trainingSettingsScroll")
        self.scroll.setWidgetResizable(True)
        self.scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.scroll.setWidget(settings)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(0)
        outer.addWidget(self.controls)
        outer.addWidget(self.scroll, 1)
        self.predict_button.clicked.connect(self.predict)
        self.predict_input.returnPressed.connect(self.predict)

        self.endless_box.toggled.connect(controller.set_endless)
        self.speed_box.currentIndexChanged.connect(lambda _i: controller.set_speed(self.speed_box.currentData()))
        self.train_button.clicked.connect(self.toggle_training)
        self.step_button.clicked.connect(controller.step)
        self.stop_button.clicked.connect(controller.stop)
        self.reset_button.clicked.connect(self.reset_weights)
        self.lower_lr_button.clicked.connect(self.lower_learning_rate)
        self.reset_after_nan.clicked.connect(self.reset_weights)
        controller.stateChanged.connect(self._state_changed)
        controller.snapshotReady.connect(self.show_snapshot)
        controller.finished.connect(self._finished)
        controller.error.connect(self._error)

        self.rule.currentIndexChanged.connect(lambda: self._commit(rule=self.rule.currentData()))
        self.optimizer.currentIndexChanged.connect(self._optimizer_changed)
        self.learning_rate.valueChanged.connect(lambda v: self._commit(learning_rate=v))
        self.batch_size.valueChanged.connect(lambda v: self._commit(batch_size=v))
        self.epochs.valueChanged.connect(lambda v: self._commit(epochs=v))
        self.l1.valueChanged.connect(lambda v: self._commit(l1=v))
        self.l2.valueChanged.connect(lambda v: self._commit(l2=v))
        self.clipnorm.valueChanged.connect(lambda v: self._commit(clipnorm=v if v > 0 else None))
        self.schedule.currentIndexChanged.connect(self._schedule_changed)
        self.shuffle.toggled.connect(lambda on: self._commit(shuffle=on))
        self.early.toggled.connect(lambda on: self._commit(early_stopping=on))
        self.patience.valueChanged.connect(lambda v: self._commit(patience=v))
        self.set_document(document)

    # ------------------------------------------------------------ document
    def set_document(self, doc: Document) -> None:
        """Show ``doc``; what the panel shows of a document (its status line, the
        Predict answer, a diverged run's offer) follows the document's signals and
        is cleared as soon as it is no longer true."""
        if self.document is not None:
            self._doc_links.disconnect_all()
        self.document = doc
        links = self._doc_links
        links.connect(doc.trainingChanged, self.refresh)
        links.connect(doc.trainingChanged, self._settings_changed)
        for sig in (doc.weightsChanged, doc.graphChanged, doc.dataChanged):
            links.connect(sig, self._function_changed)
        for sig in (doc.weightsChanged, doc.historyChanged, doc.dataChanged, doc.graphChanged):
            links.connect(sig, self._result_changed)
        self.refresh()
        self._state_changed(self.controller.state)
        self.predict_input.clear()
        self._function_changed()
        self._result_changed()

    def idle_text(self) -> str:
        """The status line of a document that is not training: how far it is trained."""
        n = len(self.document.network.history)
        return f"Trained {n} epoch{'s' if n != 1 else ''} so far" if n else "Ready"

    def _function_changed(self) -> None:
        """Weights, graph or data changed: an earlier Predict answer is no longer true."""
        self.predict_output.clear()

    def _result_changed(self) -> None:
        """The document's weights, history, data or graph changed: the last run's
        summary, a refused start ("choose a data set first") and the offer after a
        diverged run no longer describe it. (While a run is ending, its own result
        is being pushed: the run's summary follows from ``finished``.)"""
        if self.controller.state != "idle" or self.controller.is_active():
            return
        self.progress.setValue(0)
        self.status.setText(self.idle_text())
        self.step_info.hide()
        self.diverged.hide()

    def _settings_changed(self) -> None:
        if self.diverged.isVisible() and self._diverged_lr is not None:
            if self.document.network.training.learning_rate != self._diverged_lr:
                self.diverged.hide()  # the offered change (or another one) was made

    def refresh(self) -> None:
        """Show the network's settings (no commands are pushed)."""
        cfg = self.document.network.training
        self._updating = True
        try:
            self.rule.setCurrentIndex(max(0, self.rule.findData(cfg.rule)))
            self.optimizer.setCurrentIndex(max(0, self.optimizer.findData(cfg.optimizer)))
            self._build_hyper(cfg.optimizer, cfg.optimizer_params)
            self.learning_rate.setValue(cfg.learning_rate)
            self.batch_size.setValue(cfg.batch_size)
            self.epochs.setValue(cfg.epochs)
            self.l1.setValue(cfg.l1)
            self.l2.setValue(cfg.l2)
            self.clipnorm.setValue(cfg.clipnorm or 0.0)
            kind = (cfg.schedule or {}).get("kind", "constant")
            self.schedule.setCurrentIndex(max(0, self.schedule.findData(kind)))
            self._build_schedule(kind, cfg.schedule or {})
            self.shuffle.setChecked(cfg.shuffle)
            self.early.setChecked(cfg.early_stopping)
            self.patience.setValue(cfg.patience)
            backprop = cfg.rule == "backprop"  # the classic rules have no optimizer
            for w in (self.optimizer, *self._hyper_widgets.values(), self.l1, self.l2, self.clipnorm,
                      self.schedule, *self._schedule_widgets.values()):
                self.form.setRowVisible(w, backprop)
        finally:
            self._updating = False

    @property
    def _hyper_widgets(self) -> dict[str, QWidget]:
        """The optimizer's own fields by name, in form order."""
        return self.hyper_form.fields() if self.hyper_form is not None else {}

    @property
    def _schedule_widgets(self) -> dict[str, QWidget]:
        """The schedule's fields by name, in form order."""
        return self.schedule_form.fields() if self.schedule_form is not None else {}

    def _build_hyper(self, name: str, values: dict[str, Any]) -> None:
        """The optimizer's own settings as rows of the form, right after "Optimizer"."""
        cls = OPTIMIZERS.get(name)
        specs = [] if cls is None else [p for p in cls.PARAMS if p.name not in ("learning_rate", "clipnorm")]
        self.hyper_form = self._form_rows(self.hyper_form, specs, values, HYPER_ROW, "hyper_", self._commit_hyper)

    def _build_schedule(self, kind: str, values: dict[str, Any]) -> None:
        """The schedule's settings as rows of the form, right after "Schedule"."""
        cls = SCHEDULES.get(kind)
        specs = list(cls.PARAMS) if cls is not None else []
        row = self.form.getWidgetPosition(self.schedule)[0] + 1
        self.schedule_form = self._form_rows(self.schedule_form, specs, values, row, "schedule_",
                                             self._commit_schedule)

    def _form_rows(self, old: ParamForm | None, specs: list[ParamSpec], values: dict[str, Any], row: int,
                   prefix: str, on_edit) -> ParamForm | None:
        """Rows of the panel's form for ``specs`` from ``row`` on, showing ``values`` (defaults
        where missing). The same names as ``old``: it is kept and only its values change."""
        current = {p.name: values.get(p.name, p.default) for p in specs}
        if old is not None and old.names() == list(current):
            old.set_values(current)
            return old
        if old is not None:
            old.remove_rows()
            old.deleteLater()
        if not specs:
            return None
        form = ParamForm(specs, self, host=self.form, row=row, prefix=prefix)
        for w in form.fields().values():
            if isinstance(w, QAbstractSpinBox):
                w.setAlignment(Qt.AlignmentFlag.AlignRight)
        form.set_values(current)
        form.edited.connect(on_edit)
        return form

    # -------------------------------------------------------------- edits
    def _commit(self, text: str | None = None, **settings: Any) -> None:
        if self._updating or self.document is None:
            return
        try:
            self.document.editor.set_training(text, **settings)
        except AnnError as e:
            self.statusMessage.emit(str(e))
            self.refresh()

    def _commit_hyper(self, key: str, value: Any) -> None:
        params = dict(self.document.network.training.optimizer_params)
        params[key] = value
        self._commit(f"Set {key.replace('_', ' ')}", optimizer_params=params)

    def _commit_schedule(self, key: str, value: Any) -> None:
        spec = dict(self.document.network.training.schedule or {})
        spec.setdefault("kind", self.schedule.currentData())
        spec[key] = value
        self._commit(f"Set {key.replace('_', ' ')}", schedule=spec)

    def _optimizer_changed(self) -> None:
        name = self.optimizer.currentData()
        if self._updating or name == self.document.network.training.optimizer:
            return
        # the new optimizer starts from its own defaults
        self._commit(f"Use {OPT_TITLES.get(name, name)}", optimizer=name, optimizer_params={})

    def _schedule_changed(self) -> None:
        kind = self.schedule.currentData()
        spec = None if kind == "constant" else {"kind": kind}
        if self._updating or (self.document.network.training.schedule or {"kind": "constant"}).get("kind") == kind:
            return
        self._commit(f"Use {kind} schedule" if spec else "No schedule", schedule=spec)

    def reset_weights(self) -> None:
        try:
            self.document.editor.reset_weights()
        except AnnError as e:  # EditLocked says why while a run holds the document
            self.statusMessage.emit(str(e))
            return
        self.progress.setValue(0)
        self.status.setText("Weights initialized from the seed")

    def predict(self) -> str:
        """Run the network on the typed values; shows and returns the answer."""
        text = self.predict_input.text()
        net = self.document.network
        try:
            values = [float(v) for v in text.replace(";", ",").replace(" ", ",").split(",") if v.strip()]
        except ValueError:
            return self._predicted(f"'{text}' is not a list of numbers", error=True)
        try:
            data = self.document.dataset()
        except AnnError:
            data = None
        try:
            prog = net.program
            n_in = prog.input_size if prog.inputs else None
            if n_in is None or len(values) != n_in:
                return self._predicted(f"the network takes {n_in} input values; {len(values)} given", error=True)
            x = np.array([values], dtype=np.float64)
            if data is not None and data.scaler is not None:
                x = data.scaler.transform(x)
            y = net.predict(x, standardized=True)[0]
        except AnnError as e:
            return self._predicted(str(e), error=True)
        if data is not None and data.task == "classification" and data.classes:
            if len(y) == 1:
                k = int(y[0] >= 0.5)
                answer = f"{data.classes[k]}  (p = {y[0]:.3f})"
            else:
                k = int(np.argmax(y))
                answer = f"{data.classes[k]}  (p = {y[k]:.3f})"
        else:
            names = data.target_names if data is not None and len(data.target_names) == len(y) else None
            answer = ", ".join(f"{n} = {v:.4g}" if names else f"{v:.4g}" for n, v in zip(names or [""] * len(y), y))
        return self._predicted(answer)

    def _predicted(self, text: str, error: bool = False) -> str:
        self.predict_output.setText(f"<span style='color:#E53935'>{text}</span>" if error else f"→ <b>{text}</b>")
        return text

    # ----------------------------------------------------------- controls
    def toggle_training(self) -> None:
        """What the Train button (and F5) does: start, pause or resume."""
        state = self.controller.state
        if state == "idle":
            self.controller.start()
        elif state == "running":
            self.controller.pause()
        else:
            self.controller.resume()

    def _state_changed(self, state: str) -> None:
        running = state != "idle"
        self.train_button.setText({"idle": "Train", "running": "Pause", "paused": "Resume"}[state])
        self.train_button.setIcon(icon("pause" if state == "running" else "train"))
        self.stop_button.setEnabled(running)
        self.reset_button.setEnabled(not running)
        for w in (self.rule, self.optimizer, *self._hyper_widgets.values(), *self._schedule_widgets.values(),
                  self.learning_rate, self.batch_size,
                  self.epochs, self.l1, self.l2, self.clipnorm, self.schedule, self.shuffle, self.early,
                  self.patience):
            w.setEnabled(not running)
        if running:
            self.diverged.hide()
        if state == "running":
            self.step_info.hide()

    #: history series shown on the status line, with the split each one is from
    STATUS_SERIES = (("val_loss", "validation loss", 4), ("accuracy", "training accuracy", 3),
                     ("val_accuracy", "validation accuracy", 3), ("r2", "training R²", 3),
                     ("val_r2", "validation R²", 3))

    def show_snapshot(self, snap) -> None:
        paused = self.controller.state == "paused"
        endless = snap.epochs_total >= ENDLESS_EPOCHS
        total = max(1, snap.epochs_total * max(1, snap.batches_per_epoch))
        self.progress.setMaximum(1000)
        self.progress.setValue(0 if endless else int(1000 * min(1.0, snap.step / total)))
        parts = ([f"Epoch {snap.epochs_done + 1} (until paused)"] if endless
                 else [f"Epoch {min(snap.epochs_done + 1, snap.epochs_total)}/{snap.epochs_total}"])
        h = snap.history
        if len(h.get("loss", ())) and snap.epochs_done:
            parts.append(f"training loss {h['loss'][-1]:.4f}")
        elif len(snap.batch_losses):
            parts.append(f"batch loss {snap.batch_losses[-1, 1]:.4f}")
        for key, label, digits in self.STATUS_SERIES:
            if len(h.get(key, ())) and not math.isnan(h[key][-1]):
                parts.append(f"{label} {h[key][-1]:.{digits}f}")
        # paused: no ETA (the clock of a paused run stands still, it must not grow)
        parts.append("paused" if paused else ("running" if endless else f"ETA {fmt_seconds(snap.eta)}"))
        self.status.setText(" · ".join(parts))
        if paused and snap.step > 0:
            self._show_step(snap)

    def _show_step(self, snap) -> None:
        """What the last batch did: which batch it was, and its loss beside the one before."""
        bl = np.asarray(snap.batch_losses, dtype=np.float64).reshape(-1, 2)
        if not len(bl):
            return
        loss = bl[-1, 1]
        text = (f"Last batch: {snap.batch_in_epoch} of {max(1, snap.batches_per_epoch)} in epoch "
                f"{snap.epoch + 1}: loss {loss:.4g}")
        if len(bl) >= 2:
            text += f" (was {bl[-2, 1]:.4g})"
        self.step_info.setText(text)
        self.step_info.show()

    def _finished(self, result) -> None:
        if result.reason == "completed":
            self.progress.setValue(self.progress.maximum())
        msg = result.message
        self.step_info.hide()
        if result.reason == "nan":  # said once, in plain words, by the box below
            self.status.setText("<span style='color:#E53935'><b>Stopped:</b> NaN or infinite values</span>")
        elif result.reason == "error":
            self.status.setText(f"<span style='color:#E53935'><b>Stopped:</b> {msg}</span>")
        else:
            self.status.setText(self.status.text() + f"<br><i>{msg}</i>" if msg else self.status.text())
        if result.reason == "nan":
            self._offer_fixes(result)
        self.statusMessage.emit(msg.splitlines()[0] if msg else "")

    def _offer_fixes(self, result) -> None:
        """After a diverged run: say it in plain words, offer a lower learning rate and Reset Weights."""
        cfg = self.document.network.training
        lr = float(result.learning_rate or cfg.learning_rate)
        where = ""
        epoch, batch = result.epoch, result.batch
        if epoch is not None and batch is not None:
            where = f" at epoch {epoch + 1}, batch {batch + 1}"
        net = self.document.network
        what = "the values"
        if result.weight:
            what = f"the weight '{result.weight}' of {net.describe_node(result.node_id)}"
        elif result.node_id:
            what = f"the output of {net.describe_node(result.node_id)}"
        text = (f"<b>Training diverged</b>{where}: {what} grew too large to compute. "
                "The weights are back to where they were before that batch. ")
        if cfg.rule == "backprop":
            text += (f"A learning rate of {lr:g} is probably too high for this network: lower it, or reset "
                     "the weights and start again.")
            self._diverged_lr = cfg.learning_rate
            self.lower_lr_button.setText(f"Lower learning rate to {cfg.learning_rate / 10:g}")
            self.lower_lr_button.show()
        else:
            text += "Reset the weights and start again, or change the learning rule's settings."
            self._diverged_lr = None
            self.lower_lr_button.hide()
        self.diverged_text.setText(text)
        self.diverged.show()

    def lower_learning_rate(self) -> None:
        """One undoable edit: the learning rate divided by ten."""
        lr = self.document.network.training.learning_rate / 10
        self._commit(f"Lower learning rate to {lr:g}", learning_rate=lr)

    def _error(self, message: str) -> None:
        self.status.setText(f"<span style='color:#E53935'>{message}</span>")
        self.statusMessage.emit(message)
