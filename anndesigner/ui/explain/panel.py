"""The Explain panel: choose a sample, step its forward pass, loss, backward
pass and update through the document's network, with the real numbers.

The numbers come from :func:`anndesigner.engine.explain` (the engine's own
program, on a copy of the network); the panel only shows the frames made from
that trace (:mod:`.stages`) and tells the canvas which nodes to light
(``highlightChanged``). Nothing changes the document unless the user presses
"Keep this update", which applies the step's weights as one undo step.

At the granularities "One batch" and "One epoch", stepping past the last frame
runs a real training step of the trainer (:func:`anndesigner.engine.train_batch_step`,
``train_epoch_step``) on a copy of the network, chained on the last step's
state, and appends its frame; going back shows the frames kept, nothing is
recomputed. "Keep this update" on such a frame applies that step's weights,
optimizer state and history (one undo step). A step runs in a worker thread
(one epoch of samples/digits-cnn.ann takes about 0.4 s, 1.2 s the first time), on a snapshot taken
in the GUI thread; meanwhile a busy bar shows and the controls are off. The
worker touches no widget: its result comes back through a queued signal.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QObject, Qt, QThread, QTimer, Signal, Slot
from PySide6.QtWidgets import (QComboBox, QDialog, QHBoxLayout, QLabel, QLineEdit, QProgressBar, QPushButton, QSlider,
                               QSpinBox, QStyle, QTextBrowser, QToolButton, QVBoxLayout, QWidget)

from ...engine import activation_curve, explain, train_batch_step, train_epoch_step
from ...errors import AnnError
from ...graph.events import Connections
from ..document import Document
from .inside import InsideContext, view_for
from .vectors import VectorView
from .stages import GRANULARITIES, SMALL_UNITS, PHASE_TITLES, STEP_PHASES, Stepper, build_frames, step_frame

GRANULARITY_TITLES = {"operation": "Operation", "node": "Node", "pass": "Whole pass", "batch": "One batch",
                      "epoch": "One epoch"}

SP = QStyle.StandardPixmap
ICONS = {"explainStart": SP.SP_MediaSkipBackward, "explainBack": SP.SP_MediaSeekBackward,
         "explainPlay": SP.SP_MediaPlay, "explainNext": SP.SP_MediaSeekForward, "explainEnd": SP.SP_MediaSkipForward}

#: play speeds, in frames per second, for the slider's positions
SPEEDS = (0.5, 1.0, 2.0, 4.0, 8.0)


class _StepWorker(QObject):
    """Runs one batch or epoch step (a plain function call, no widgets) in its thread."""

    done = Signal(object)
    failed = Signal(str)

    def __init__(self, job):
        super().__init__()
        self._job = job

    @Slot()
    def run(self) -> None:
        try:
            result = self._job()
        except AnnError as e:
            self.failed.emit(str(e))
        except Exception as e:  # noqa: BLE001 - reported in the panel instead of lost in the thread
            self.failed.emit(f"the training step failed: {type(e).__name__}: {e}")
        else:
            self.done.emit(result)


def target_text(y) -> str:
    """A target as the user reads it: its values (the first 8, then "…"), and the
    class it stands for when it is one-hot."""
    flat = np.asarray(y, np.float64).reshape(-1)
    text = ", ".join(f"{v:.4g}" for v in flat[:8]) + (", …" if flat.size > 8 else "")
    if flat.size > 1 and np.all((flat == 0) | (flat == 1)) and flat.sum() == 1:
        return f"class {int(flat.argmax())} (one-hot: {text})"
    return text


class ExplainPanel(QWidget):
    #: node ids the canvas should light for the frame shown
    highlightChanged = Signal(list)
    #: the frame shown (a stages.Frame), or None when there is none
    frameChanged = Signal(object)
    #: a batch or epoch step ended: its StepRecord, or None when it failed (the message says why)
    stepFinished = Signal(object)

    def __init__(self, document: Document | None, parent: QWidget | None = None):
        super().__init__(parent)
        self.document = document
        self.trace = None
        self.stepper: Stepper | None = None
        self._x = None  # the sample shown
        self._y = None
        self._traced_network = None
        #: the StepRecord whose update was kept last (Keep is off while it is shown)
        self._kept = None
        #: (thread, worker, stepper, step number) of the step running, else None
        self._job = None
        self._has_data = False
        #: steps from this index of the records on start from the document, not from the record
        #: before them: the document's network changed from outside since (an undo, a training run)
        self._chain_base = 0
        self._keeping = False

        self.row = QSpinBox()
        self.row.setObjectName("explainRow")
        self.row.setToolTip("Row of the data set (0 is the first), before any shuffle or split")
        self.row.setMinimum(0)
        self.typed = QLineEdit()
        self.typed.setObjectName("explainTyped")
        self.typed.setPlaceholderText("or type values: 1, 0 ; target 1")
        self.typed.setToolTip("Input values separated by commas; after ';' the target (optional)")
        self.go = QPushButton("Explain")
        self.go.setObjectName("explainGo")
        self.go.setToolTip("Trace one training step for this sample")
        self.sample_text = QLabel()
        self.sample_text.setWordWrap(True)
        self.message = QLabel()
        self.message.setObjectName("explainMessage")
        self.message.setWordWrap(True)
        self.message.setStyleSheet("color: #C62828")
        self.message.hide()

        def tool(text, tip, name):
            b = QToolButton()
            b.setIcon(self.style().standardIcon(ICONS[name]))
            b.setText(text)
            b.setToolTip(tip)
            b.setObjectName(name)
            b.setAutoRaise(True)
            return b

        self.b_start = tool("⏮", "Back to the first operation", "explainStart")
        self.b_back = tool("◀", "One step back", "explainBack")
        self.b_play = tool("▶", "Play / pause", "explainPlay")
        self.b_play.setCheckable(True)
        self.b_next = tool("▶|", "One step forward", "explainNext")
        self.b_end = tool("⏭", "To the end (after the update)", "explainEnd")
        self.granularity = QComboBox()
        self.granularity.setObjectName("explainGranularity")
        for g in GRANULARITIES:
            self.granularity.addItem(GRANULARITY_TITLES[g], g)
        self.granularity.setToolTip("How far one step goes: one operation, one node, a whole pass; or a real "
                                    "training step on the sample's whole batch, or on a whole epoch")
        self.speed = QSlider(Qt.Orientation.Horizontal)
        self.speed.setObjectName("explainSpeed")
        self.speed.setRange(0, len(SPEEDS) - 1)
        self.speed.setValue(1)
        self.speed.setToolTip("Play speed")
        self.speed.setMaximumWidth(90)
        self.position = QLabel()
        self.position.setObjectName("explainPosition")
        self.view = QTextBrowser()
        self.view.setObjectName("explainView")
        self.view.setOpenLinks(False)
        self.curve = pg.PlotWidget()
        self.curve.setObjectName("explainCurve")
        self.curve.setBackground("w")
        self.curve.setMaximumHeight(120)
        self.curve.setMinimumHeight(90)
        self.curve.setMouseEnabled(False, False)
        self.curve.hideButtons()
        self._curve_line = self.curve.plot([], [], pen=pg.mkPen("#1565C0", width=2))
        self._curve_points = pg.ScatterPlotItem(size=9, brush=pg.mkBrush("#E65100"), pen=None)
        self.curve.addItem(self._curve_points)
        self.curve.hide()
        self.keep = QPushButton("Keep this update")
        self.keep.setObjectName("explainKeep")
        self.keep.setToolTip("Apply this step's new weights to the document (one undo step)")
        self.keep.setEnabled(False)
        self.inside = QPushButton("Look inside…")
        self.inside.setObjectName("explainInside")
        self.inside.setToolTip("Open this layer's own arithmetic for the sample, in a window of its own")
        self.inside.setEnabled(False)
        self.inside_window: QDialog | None = None
        self.vectors = VectorView()
        self.vectors.setMinimumWidth(60)
        self.vectors.hide()

        # narrow rows: the dock shares the right side with Training and must not widen the window
        top = QHBoxLayout()
        top.addWidget(QLabel("Row"))
        top.addWidget(self.row)
        top.addStretch(1)
        top.addWidget(self.go)
        controls = QHBoxLayout()
        for b in (self.b_start, self.b_back, self.b_play, self.b_next, self.b_end):
            controls.addWidget(b)
        controls.addStretch(1)
        controls.addWidget(self.granularity)
        more = QHBoxLayout()
        more.addWidget(QLabel("Speed"))
        more.addWidget(self.speed)
        more.addStretch(1)
        more.addWidget(self.keep)
        self.typed.setMinimumWidth(60)
        self.view.setMinimumWidth(60)
        self.curve.setMinimumWidth(60)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(6, 6, 6, 6)
        lay.addLayout(top)
        lay.addWidget(self.typed)
        lay.addWidget(self.sample_text)
        lay.addWidget(self.message)
        lay.addLayout(controls)
        lay.addLayout(more)
        lay.addWidget(self.position)
        self.busy_bar = QProgressBar()
        self.busy_bar.setObjectName("explainBusy")
        self.busy_bar.setRange(0, 0)  # no end known: a moving bar
        self.busy_bar.setMaximumHeight(12)
        self.busy_bar.setTextVisible(False)
        self.busy_bar.hide()
        lay.addWidget(self.busy_bar)
        lay.addWidget(self.inside, 0, Qt.AlignmentFlag.AlignLeft)
        lay.addWidget(self.view, 3)
        lay.addWidget(self.vectors, 3)
        lay.addWidget(self.curve)

        self.timer = QTimer(self)
        self.timer.timeout.connect(self._play_tick)
        self.go.clicked.connect(self.explain_current)
        self.typed.returnPressed.connect(self.explain_current)
        self.b_start.clicked.connect(lambda: self._move("start"))
        self.b_back.clicked.connect(lambda: self._move("back"))
        self.b_next.clicked.connect(lambda: self._move("forward"))
        self.b_end.clicked.connect(lambda: self._move("end"))
        self.b_play.toggled.connect(self._play_toggled)
        self.speed.valueChanged.connect(self._speed_changed)
        self.granularity.currentIndexChanged.connect(self._granularity_changed)
        self.keep.clicked.connect(self.keep_update)
        self.inside.clicked.connect(self.open_inside)
        self._links = Connections()
        if document is not None:
            self.set_document(document)
        self._update_controls()

    # ------------------------------------------------------------ document
    def set_document(self, document: Document) -> None:
        self.wait_for_step()
        self._links.disconnect_all()
        self.document = document
        self._links.connect_many([(document.dataChanged, self._data_changed),
                                  (document.lockChanged, lambda *_: self._update_controls()),
                                  (document.weightsChanged, self._document_moved),
                                  (document.historyChanged, self._document_moved),
                                  (document.graphChanged, self._document_moved),
                                  (document.trainingChanged, self._document_moved),
                                  (document.dataChanged, self._document_moved)])
        self.clear()
        self._data_changed()

    @Slot()
    def _document_moved(self) -> None:
        """The network changed outside this panel's own Keep of a step: the next batch or epoch
        step starts from the document again (the frames already made stay as they are)."""
        if not self._keeping and self.stepper is not None:
            self._chain_base = len(self.stepper.records)

    @Slot()
    def _data_changed(self) -> None:
        try:
            data = self.document.dataset()
        except AnnError:
            data = None
        self.row.setMaximum(max(0, len(data) - 1) if data is not None else 0)
        self._has_data = data is not None
        self.row.setEnabled(data is not None and not self.busy)

    def clear(self) -> None:
        self.b_play.setChecked(False)
        self.trace = None
        self.stepper = None
        self.view.clear()
        self.position.clear()
        self.sample_text.clear()
        self._say("")
        self.curve.hide()
        self.highlightChanged.emit([])
        self.frameChanged.emit(None)
        self._update_controls()

    # ------------------------------------------------------------ samples
    def _parse_typed(self, text: str):
        """'1, 0 ; 1' -> (x, y); a clear message for what is not a number."""
        parts = text.split(";")
        if len(parts) > 2:
            raise AnnError("typed values: use one ';' between the inputs and the target")

        def numbers(s: str, what: str):
            vals = []
            for i, tok in enumerate(t for t in s.replace(",", " ").split()):
                try:
                    v = float(tok)
                except ValueError:
                    raise AnnError(f"typed values: {what} value {i + 1} '{tok}' is not a number") from None
                if not np.isfinite(v):
                    raise AnnError(f"typed values: {what} value {i + 1} '{tok}' is not finite")
                vals.append(v)
            return np.array(vals, np.float64)

        x = numbers(parts[0], "input")
        if not x.size:
            raise AnnError("typed values: no input values")
        y = numbers(parts[1], "target") if len(parts) == 2 and parts[1].strip() else None
        return x, y

    def sample(self):
        """The sample to explain: the typed values, or row ``row`` of the data set."""
        text = self.typed.text().strip()
        if text:
            return self._parse_typed(text)
        data = self.document.dataset()
        if data is None:
            raise AnnError("choose a data set first (Data panel), or type input values")
        i = self.row.value()
        if not 0 <= i < len(data):
            raise AnnError(f"row {i} is out of range: the data set has {len(data)} rows")
        return np.asarray(data.X[i]), np.asarray(data.Y[i])

    @Slot()
    def explain_current(self) -> bool:
        """Trace one step for the chosen sample; False (with a message) when it cannot."""
        self.b_play.setChecked(False)
        try:
            x, y = self.sample()
            net = self.document.network
            trace = explain(net, x, y)
            frames = build_frames(trace, net.get_weights(), getattr(net, "optimizer_state", None))
        except AnnError as e:
            self._say(str(e))
            return False
        self._say("")
        self._x, self._y = x, y
        self.trace = trace
        self._traced_network = net
        self._kept = None
        self._chain_base = 0
        self.stepper = Stepper(frames, granularity=self.granularity.currentData())
        xs = ", ".join(f"{v:.4g}" for v in np.asarray(x).reshape(-1)[:8])
        more = ", …" if np.asarray(x).size > 8 else ""
        tgt = "" if y is None else " · target " + target_text(y)
        self.sample_text.setText(f"x = ({xs}{more}){tgt}")
        self._show()
        return True

    # ------------------------------------------------------------ stepping
    def _move(self, how: str) -> None:
        s = self.stepper
        stepping = how == "forward" and self.granularity.currentData() in STEP_PHASES
        if s is None:
            if not self.explain_current():
                return
            s = self.stepper
            if how == "forward" and not stepping:
                self._show()
                return
        moved = {"start": s.to_start, "back": s.back, "forward": s.forward, "end": s.to_end}[how]()
        if stepping and not moved:
            self.run_step(self.granularity.currentData())
            return
        self._show()

    @property
    def busy(self) -> bool:
        """Whether a batch or epoch step is running."""
        return self._job is not None

    def run_step(self, kind: str) -> bool:
        """Start one real batch or epoch step after the last one (on a copy, in a worker
        thread); its frame is appended and shown when it ends (``stepFinished``). False (with
        a message) when it cannot start."""
        s = self.stepper
        if s is None or self.document is None or self.busy:
            return False
        if self.document.locked:
            self._say("training is running: batch and epoch steps wait until it stops")
            return False
        records = s.records
        previous = records[-1] if len(records) > self._chain_base else None
        restarted = bool(records) and previous is None
        sample = (self._x, self._y) if self._y is not None else None
        try:
            data = self.document.dataset()
            if data is None:
                raise AnnError("a batch or epoch step trains on the data set: choose one first (Data panel)")
            base = self.document.network.snapshot()  # here, in the GUI thread: the worker reads only copies
        except AnnError as e:
            self._say(str(e))
            return False
        X, Y = data.X, data.Y
        step = train_batch_step if kind == "batch" else train_epoch_step

        def job():
            return step(base, previous=previous, data=(X, Y), sample=sample)

        thread = QThread(self)
        worker = _StepWorker(job)
        worker.moveToThread(thread)
        thread.started.connect(worker.run)
        worker.done.connect(self._step_done)  # queued: the slots run in the GUI thread
        worker.failed.connect(self._step_failed)
        self._job = (thread, worker, s, len(records) + 1, restarted)
        self._say("")
        self.busy_bar.show()
        self.position.setText(f"Training one {kind} on a copy of the network…")
        self._update_controls()
        thread.start()
        return True

    def _end_job(self):
        """Stop tracking the step's thread (it has ended or is told to) and hide the busy bar."""
        job, self._job = self._job, None
        if job is not None:
            thread = job[0]
            thread.quit()
            thread.wait()
            thread.deleteLater()  # the worker (no parent) goes with the last reference to it
        self.busy_bar.hide()
        return job

    @Slot(object)
    def _step_done(self, record) -> None:
        job = self._end_job()
        s = self.stepper
        if job is None or s is not job[2]:  # the sample changed meanwhile: the step belongs to no frames
            self._show()
            self.stepFinished.emit(None)
            return
        group = s.frames[-1].group + 1 if s.frames else 0
        s.append(step_frame(record, job[3], group, restarted=job[4]))
        s.index = len(s.frames) - 1
        self._show()
        self.stepFinished.emit(record)

    @Slot(str)
    def _step_failed(self, message: str) -> None:
        self._end_job()
        self.b_play.setChecked(False)
        self._show()
        self._say(message)
        self.stepFinished.emit(None)

    def wait_for_step(self) -> None:
        """Wait for a running step to end and drop its result (before the panel goes away or
        changes document)."""
        self.b_play.setChecked(False)
        if self._job is not None:
            self._job[1].done.disconnect(self._step_done)
            self._job[1].failed.disconnect(self._step_failed)
            self._end_job()
            self._update_controls()

    def closeEvent(self, event) -> None:
        self.wait_for_step()
        super().closeEvent(event)

    def step_forward(self) -> bool:
        if self.stepper is None:
            return False
        moved = self.stepper.forward()
        self._show()
        return moved

    @Slot(bool)
    def _play_toggled(self, on: bool) -> None:
        if on and self.stepper is None:
            # explaining stops any play (it unchecks this button): play again once there are frames
            if self.explain_current():
                self.b_play.setChecked(True)
            else:
                self.b_play.setChecked(False)
            return
        if on:
            self.b_play.setIcon(self.style().standardIcon(QStyle.StandardPixmap.SP_MediaPause))
            self.timer.start(int(1000 / SPEEDS[self.speed.value()]))
        else:
            self.b_play.setIcon(self.style().standardIcon(ICONS["explainPlay"]))
            self.timer.stop()

    @Slot(int)
    def _speed_changed(self, _v: int) -> None:
        if self.timer.isActive():
            self.timer.start(int(1000 / SPEEDS[self.speed.value()]))

    @Slot()
    def _play_tick(self) -> None:
        if self.busy:  # a step is running: the next tick goes on
            return
        if self.step_forward():
            return
        kind = self.granularity.currentData()
        if kind not in STEP_PHASES or not self.run_step(kind):  # at "batch" / "epoch" play keeps training
            self.b_play.setChecked(False)

    @Slot(int)
    def _granularity_changed(self, _i: int) -> None:
        if self.stepper is not None:
            index = self.stepper.index
            self.stepper = Stepper(self.stepper.frames, index=index, granularity=self.granularity.currentData())
        self._update_controls()

    # ------------------------------------------------------------ showing
    def _show(self) -> None:
        s = self.stepper
        f = s.frame if s is not None else None
        if f is None:
            self.view.clear()
            self.position.clear()
            self.curve.hide()
            self.vectors.clear()
            self.highlightChanged.emit([])
            self.frameChanged.emit(None)
            self._update_controls()
            return
        n = len(s.frames)
        self.position.setText(f"<b>{PHASE_TITLES[f.phase]}</b> · {f.title} · step {s.index + 1} of {n}")
        body = "<br>".join(f.lines)
        self.view.setHtml(f"<div style='font-family: monospace'>{body}</div>")
        bar = self.view.verticalScrollBar()  # the newest lines are the last ones (after the layout)
        bar.setValue(bar.maximum())
        QTimer.singleShot(0, lambda: bar.setValue(bar.maximum()))
        if f.curve is not None and f.curve[0]:
            name, z, y = f.curve
            lo = float(min(-4.0, np.nanmin(z) - 1.0)) if z.size else -4.0
            hi = float(max(4.0, np.nanmax(z) + 1.0)) if z.size else 4.0
            xs = np.linspace(lo, hi, 161)
            try:
                ys = activation_curve(name, xs)
            except (AnnError, KeyError, ValueError):
                ys = None
            if ys is not None:
                self._curve_line.setData(xs, ys)
                self._curve_points.setData(z[:64], y[:64])
                self.curve.setTitle(f"{name}(z)", size="9pt")
                self.curve.show()
            else:
                self.curve.hide()
        else:
            self.curve.hide()
        picture = self.frame_array(f)
        if picture is None:
            self.vectors.clear()
        else:
            self.vectors.set_array(*picture)
        self.highlightChanged.emit(list(f.highlight))
        self.frameChanged.emit(f)
        self._update_controls()

    def frame_array(self, f) -> tuple[np.ndarray, str] | None:
        """The array a frame is about, to picture beside its text, with a caption; None
        for frames whose values are all written out (a neuron, a layer of a few units)."""
        t = self.trace
        if t is None or f is None or getattr(f, "record", None) is not None:
            return None
        try:
            if f.phase == "forward":
                n = t.node(f.node_id)
                a, what = (n.z, "z") if n.z is not None and "z =" in f.title else (n.output, "output y")
            elif f.phase == "backward":
                a, what = t.delta(f.node_id).delta, "δ = ∂L/∂y"
            elif f.phase == "loss":
                a, what = next(lt.prediction for lt in t.losses if lt.output_id == f.node_id), "prediction"
            else:
                return None
        except (KeyError, StopIteration):
            return None
        if a is None or np.asarray(a).size <= SMALL_UNITS:
            return None
        a = np.asarray(a)
        shape = "×".join(str(d) for d in (a.shape[1:] if a.ndim > 1 and a.shape[0] == 1 else a.shape))
        return a, f"{f.node_id} · {what} ({shape}); hover a cell for its value"

    def _update_controls(self) -> None:
        busy = self.busy
        for w in (self.b_start, self.b_back, self.b_play, self.b_next, self.b_end, self.granularity, self.go,
                  self.typed, self.row, self.keep, self.inside):
            w.setEnabled(not busy)
        if busy:
            self.b_play.setEnabled(self.b_play.isChecked())  # playing steps: pause stays at hand
            return
        self.row.setEnabled(self._has_data)
        s = self.stepper
        has = s is not None and bool(s.frames)
        self.b_start.setEnabled(has and s.index > 0)
        self.b_back.setEnabled(has and s.index > 0)
        stepping = self.granularity.currentData() in STEP_PHASES
        self.b_next.setEnabled(not has or not s.at_end() or stepping)
        self.b_end.setEnabled(has and not s.at_end())
        record = self._shown_record()
        keepable = (record is not None and record is not self._kept) or (
            record is None and self.trace is not None and bool(self.trace.weights))
        self.keep.setEnabled(keepable and self.document is not None and not self.document.locked)
        self.inside.setEnabled(self._inside_node() is not None)

    # ------------------------------------------------------------ inside views
    def _inside_node(self) -> str | None:
        """The node of the frame shown, when its type has an inside view."""
        f = self.stepper.frame if self.stepper is not None else None
        if f is None or self.trace is None or f.record is not None:  # a batch or epoch step has no inside view
            return None
        try:
            node = self.trace.node(f.node_id)
        except KeyError:
            return None
        return f.node_id if view_for(node.type_id) is not None else None

    @Slot()
    def open_inside(self) -> QDialog | None:
        """Open the inside view of the frame's node in a window of its own (one at a time)."""
        nid = self._inside_node()
        if nid is None:
            return None
        factory = view_for(self.trace.node(nid).type_id)
        ctx = InsideContext(network=self._traced_network, trace=self.trace, node_id=nid, document=self.document)
        try:
            widget = factory(ctx)
        except AnnError as e:
            self._say(str(e))
            return None
        if self.inside_window is not None:
            self.inside_window.close()
        dlg = QDialog(self.window())
        dlg.setObjectName("explainInsideDialog")
        dlg.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dlg.setWindowTitle(f"Inside {nid} · {self.sample_text.text()}")
        lay = QVBoxLayout(dlg)
        lay.setContentsMargins(6, 6, 6, 6)
        lay.addWidget(widget)
        dlg.finished.connect(lambda *_: self._inside_closed(dlg))
        dlg.resize(max(480, widget.sizeHint().width() + 12), max(360, widget.sizeHint().height() + 12))
        dlg.show()
        self.inside_window = dlg
        return dlg

    def _inside_closed(self, dlg: QDialog) -> None:
        if self.inside_window is dlg:
            self.inside_window = None

    def _say(self, text: str) -> None:
        self.message.setText(text)
        self.message.setVisible(bool(text))

    # ------------------------------------------------------------ keep
    def _shown_record(self):
        f = self.stepper.frame if self.stepper is not None else None
        return None if f is None else f.record

    def _keep_record(self, record) -> bool:
        """Apply a batch or epoch step's weights, optimizer state and history (one undo step)."""
        if self.document.locked:
            self._say("training is running: keep the step once it stops")
            return False
        what = (f"epoch {record.epoch + 1}" if record.kind == "epoch"
                else f"batch {record.first_batch + 1} of epoch {record.epoch + 1}")
        self._keeping = True
        try:
            self.document.editor.apply_training_result(
                record.weights_after, record.history(), 1 if record.epoch_finished else 0,
                f"Keep the explained {what}", optimizer_state=record.optimizer_state_after)
        except AnnError as e:
            self._say(str(e))
            return False
        finally:
            self._keeping = False
        self._say("")
        self._kept = record
        self.sample_text.setText(self.sample_text.text() + f" · {what} kept (Undo takes it back)")
        self._update_controls()
        return True

    @Slot()
    def keep_update(self) -> bool:
        """Apply the step shown to the document (one undo step): a batch or epoch frame's
        step, else the traced sample's update."""
        record = self._shown_record()
        if record is not None:
            return self._keep_record(record)
        if self.trace is None or not self.trace.weights:
            return False
        new = {w.name: np.asarray(w.after) for w in self.trace.weights}
        try:
            state = self.trace.optimizer_state_after
            if state is not None:  # the weights and the optimizer's state move on together
                net = self.document.network
                self.document.editor.apply_training_result(new, net.history, 0, "Keep the explained update",
                                                           optimizer_state=state)
            else:
                self.document.editor.set_weights(new, "Keep the explained update")
        except AnnError as e:
            self._say(str(e))
            return False
        self._say("")
        self.sample_text.setText(self.sample_text.text() + " · update kept (Undo takes it back)")
        self.trace = None
        self._update_controls()
        return True
