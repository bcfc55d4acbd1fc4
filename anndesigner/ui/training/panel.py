"""The training panel: optimizer and its settings, learning rate, batch size,
epochs, regularization, early stopping; Train / Pause / Resume, Step, Stop and
Reset Weights; a progress bar with epoch, loss and ETA.

Settings are the network's (saved in the file); each committed change is one
:class:`SetTrainingCommand`. The buttons drive a :class:`TrainingController`.
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
    QDoubleSpinBox,
    QFormLayout,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from ...engine.optimizers import OPTIMIZERS
from ...engine.schedules import SCHEDULES
from ...errors import AnnError
from .. import commands as C
from ..document import Document
from ..icons import icon
from .controller import TrainingController

RULES = [("backprop", "Backpropagation"), ("perceptron", "Perceptron rule"), ("hebbian", "Hebb's rule"),
         ("fixed", "Fixed weights (no learning)")]
OPT_TITLES = {"sgd": "SGD", "adagrad": "Adagrad", "adadelta": "Adadelta", "rmsprop": "RMSprop", "adam": "Adam",
              "adamw": "AdamW"}


def fmt_seconds(s: float) -> str:
    if not math.isfinite(s):
        return "–"
    s = int(round(s))
    return f"{s // 60}m {s % 60:02d}s" if s >= 60 else f"{s}s"


def _spin(lo: float, hi: float, decimals: int | None = None, step: float = 1.0) -> QAbstractSpinBox:
    if decimals is None:
        w = QSpinBox()
        w.setRange(int(lo), int(hi))
    else:
        w = QDoubleSpinBox()
        w.setDecimals(decimals)
        w.setRange(lo, hi)
        w.setSingleStep(step)
    w.setKeyboardTracking(False)  # valueChanged only when committed, not per keystroke
    w.setAlignment(Qt.AlignmentFlag.AlignRight)
    return w


class TrainingPanel(QWidget):
    statusMessage = Signal(str)

    def __init__(self, document: Document, controller: TrainingController, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("trainingPanel")
        self.controller = controller
        self.document: Document | None = None
        self._updating = False
        self._hyper_widgets: dict[str, QAbstractSpinBox | QCheckBox] = {}

        lay = QVBoxLayout(self)
        lay.setContentsMargins(8, 8, 8, 8)
        form = self.form = QFormLayout()
        form.setLabelAlignment(Qt.AlignmentFlag.AlignRight)
        self.rule = QComboBox()
        self.rule.setObjectName("rule")
        for key, title in RULES:
            self.rule.addItem(title, key)
        self.optimizer = QComboBox()
        self.optimizer.setObjectName("optimizer")
        for key in OPTIMIZERS:
            self.optimizer.addItem(OPT_TITLES.get(key, key), key)
        self.learning_rate = _spin(1e-6, 100.0, 6, 0.001)
        self.learning_rate.setObjectName("learning_rate")
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
        self.schedule = QComboBox()
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

        form.addRow("Learning rule", self.rule)
        form.addRow("Optimizer", self.optimizer)
        self.hyper_box = QWidget()
        self.hyper_form = QFormLayout(self.hyper_box)
        self.hyper_form.setContentsMargins(0, 0, 0, 0)
        self.hyper_form.setLabelAlignment(Qt.AlignmentFlag.AlignRight)
        form.addRow(self.hyper_box)
        form.addRow("Learning rate", self.learning_rate)
        form.addRow("Schedule", self.schedule)
        form.addRow("Batch size", self.batch_size)
        form.addRow("Epochs", self.epochs)
        form.addRow("L1", self.l1)
        form.addRow("L2", self.l2)
        form.addRow("Clip gradient norm", self.clipnorm)
        form.addRow(self.shuffle)
        form.addRow(early_row)
        lay.addLayout(form)

        buttons = QGridLayout()
        self.train_button = QPushButton(icon("train"), "Train")
        self.train_button.setObjectName("trainButton")
        self.step_button = QPushButton(icon("step"), "Step")
        self.step_button.setObjectName("stepButton")
        self.step_button.setToolTip("Run one batch, then pause")
        self.stop_button = QPushButton(icon("stop"), "Stop")
        self.stop_button.setObjectName("stopButton")
        self.reset_button = QPushButton(icon("reset"), "Reset Weights")
        self.reset_button.setObjectName("resetButton")
        self.reset_button.setToolTip("Initialize every weight again from the network's seed")
        buttons.addWidget(self.train_button, 0, 0)
        buttons.addWidget(self.step_button, 0, 1)
        buttons.addWidget(self.stop_button, 1, 0)
        buttons.addWidget(self.reset_button, 1, 1)
        lay.addLayout(buttons)
        self.progress = QProgressBar()
        self.progress.setObjectName("progress")
        self.progress.setTextVisible(False)
        self.progress.setMaximumHeight(8)
        self.status = QLabel("Ready")
        self.status.setObjectName("trainingStatus")
        self.status.setWordWrap(True)
        lay.addWidget(self.progress)
        lay.addWidget(self.status)

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
        self.predict_output.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        predict_title = QLabel("<b>Predict</b>")
        lay.addSpacing(6)
        lay.addWidget(predict_title)
        lay.addLayout(predict_row)
        lay.addWidget(self.predict_output)
        lay.addStretch(1)
        self.predict_button.clicked.connect(self.predict)
        self.predict_input.returnPressed.connect(self.predict)

        self.train_button.clicked.connect(self._train_clicked)
        self.step_button.clicked.connect(controller.step)
        self.stop_button.clicked.connect(controller.stop)
        self.reset_button.clicked.connect(self.reset_weights)
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
        if self.document is not None:
            self.document.network.training_changed.disconnect(self.refresh)
        self.document = doc
        doc.network.training_changed.connect(self.refresh)
        self.refresh()
        self._state_changed(self.controller.state)
        self.progress.setValue(0)
        h = doc.network.history
        self.status.setText(f"Trained {len(h)} epochs so far" if len(h) else "Ready")

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
            self.shuffle.setChecked(cfg.shuffle)
            self.early.setChecked(cfg.early_stopping)
            self.patience.setValue(cfg.patience)
            backprop = cfg.rule == "backprop"  # the classic rules have no optimizer
            for w in (self.optimizer, self.hyper_box, self.l1, self.l2, self.clipnorm, self.schedule):
                self.form.setRowVisible(w, backprop)
        finally:
            self._updating = False

    def _build_hyper(self, name: str, values: dict[str, Any]) -> None:
        while self.hyper_form.rowCount():
            self.hyper_form.removeRow(0)
        self._hyper_widgets = {}
        cls = OPTIMIZERS.get(name)
        if cls is None:
            return
        for key, (default, lo, hi, help_) in cls.HYPER.items():
            if key in ("learning_rate", "clipnorm"):
                continue
            value = values.get(key, default)
            if isinstance(default, bool):
                w = QCheckBox()
                w.setChecked(bool(value))
                w.toggled.connect(lambda on, k=key: self._commit_hyper(k, on))
            else:
                hi_v = 1e6 if hi is None or not math.isfinite(hi) else float(hi)
                w = _spin(float(lo or 0.0), hi_v, 7 if key == "epsilon" else 4, 0.01)
                w.setValue(float(value))
                w.valueChanged.connect(lambda v, k=key: self._commit_hyper(k, v))
            w.setObjectName(f"hyper_{key}")
            w.setToolTip(help_)
            self._hyper_widgets[key] = w
            self.hyper_form.addRow(key.replace("_", " ").capitalize(), w)

    # -------------------------------------------------------------- edits
    def _commit(self, text: str | None = None, **settings: Any) -> None:
        if self._updating or self.document is None:
            return
        cfg = self.document.network.training
        if all(getattr(cfg, k) == v for k, v in settings.items()):
            return
        try:
            cmd = C.SetTrainingCommand(self.document, text, **settings)
        except AnnError as e:
            self.statusMessage.emit(str(e))
            self.refresh()
            return
        self.document.push(cmd)

    def _commit_hyper(self, key: str, value: Any) -> None:
        params = dict(self.document.network.training.optimizer_params)
        params[key] = value
        self._commit(f"Set {key.replace('_', ' ')}", optimizer_params=params)

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
        if self.document.locked:
            self.statusMessage.emit(self.document.lock_reason)
            return
        try:
            self.document.push(C.ResetWeightsCommand(self.document))
        except AnnError as e:
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
            y = net.predict(x)[0]
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
    def _train_clicked(self) -> None:
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
        for w in (self.rule, self.optimizer, self.hyper_box, self.learning_rate, self.batch_size, self.epochs,
                  self.l1, self.l2, self.clipnorm, self.schedule, self.shuffle, self.early, self.patience):
            w.setEnabled(not running)

    def show_snapshot(self, snap) -> None:
        total = max(1, snap.epochs_total * max(1, snap.batches_per_epoch))
        self.progress.setMaximum(1000)
        self.progress.setValue(int(1000 * min(1.0, snap.step / total)))
        parts = [f"Epoch {min(snap.epochs_done + 1, snap.epochs_total)}/{snap.epochs_total}"]
        h = snap.history
        if len(h.get("loss", ())):
            parts.append(f"loss {h['loss'][-1]:.4f}")
        elif len(snap.batch_losses):
            parts.append(f"loss {snap.batch_losses[-1, 1]:.4f}")
        for key, label in (("val_loss", "val"), ("accuracy", "acc"), ("val_accuracy", "val acc"), ("r2", "R²")):
            if len(h.get(key, ())) and not math.isnan(h[key][-1]):
                parts.append(f"{label} {h[key][-1]:.3f}")
        parts.append(f"ETA {fmt_seconds(snap.eta)}")
        self.status.setText(" · ".join(parts))

    def _finished(self, result) -> None:
        if result.reason == "completed":
            self.progress.setValue(self.progress.maximum())
        msg = result.message
        if result.reason in ("nan", "error"):
            self.status.setText(f"<span style='color:#E53935'><b>Stopped:</b> {msg}</span>")
        else:
            self.status.setText(self.status.text() + f"<br><i>{msg}</i>" if msg else self.status.text())
        self.statusMessage.emit(msg.splitlines()[0] if msg else "")

    def _error(self, message: str) -> None:
        self.status.setText(f"<span style='color:#E53935'>{message}</span>")
        self.statusMessage.emit(message)
