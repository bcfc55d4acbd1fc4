"""Runs training for a document: starts a :class:`TrainingRun` (a child
process training a copy of the network), locks structural edits, relays
snapshots at ≤ 30 Hz, and turns the result into one undo step
("Train 120 epochs")."""

from __future__ import annotations


from PySide6.QtCore import QObject, QThread, QTimer, Signal

from ...engine import Finished
from ...errors import AnnError
from .. import commands as C
from ..document import Document
from .worker import TrainingRun

LOCK_REASON = "A training run is in progress: stop it to change the network's structure"
FRAME_MS = 33  # ≤ 30 redraws per second


class TrainingController(QObject):
    """State: ``"idle"``, ``"running"`` or ``"paused"``."""

    stateChanged = Signal(str)
    snapshotReady = Signal(object)  # TrainingSnapshot
    finished = Signal(object)  # Finished
    error = Signal(str)  # a run that could not start

    def __init__(self, document: Document, parent: QObject | None = None):
        super().__init__(parent)
        self.document = document
        self.run: TrainingRun | None = None
        self._timer = QTimer(self)
        self._timer.setInterval(FRAME_MS)
        self._timer.timeout.connect(self._tick)
        self._state = "idle"
        #: the snapshot every view must draw however recently it drew: a run's end, or
        #: where a paused run stands (so the progress line and the plots agree)
        self.last_snapshot = None

    @property
    def state(self) -> str:
        return self._state

    def _set_state(self, s: str) -> None:
        if s != self._state:
            self._state = s
            self.stateChanged.emit(s)

    def set_document(self, document: Document) -> None:
        self.stop_and_wait()
        self.document = document
        self.last_snapshot = None  # the old document's run

    # ------------------------------------------------------------ control
    def start(self, paused: bool = False) -> bool:
        """Start a run with the document's data and settings; False (and ``error``) if it cannot."""
        if self.run is not None:
            return False
        doc = self.document
        try:
            data = doc.dataset()
            if data is None:
                raise AnnError("choose a data set first (Data panel)")
            run = TrainingRun(doc.network, data.X, data.Y, parent=self)
        except AnnError as e:
            self.error.emit(str(e))
            return False
        self.run = run
        self.last_snapshot = None
        run.finished.connect(self._on_finished)
        doc.set_lock(LOCK_REASON)
        run.start(paused=paused)
        self._timer.start()
        self._set_state("paused" if paused else "running")
        return True

    def pause(self) -> None:
        if self.run is not None:
            self.run.pause()
            self._set_state("paused")
            self._show_where_paused(self.run.latest)

    def _show_where_paused(self, snap) -> None:
        if snap is not None and self.run is not None:
            self.last_snapshot = snap
            self.snapshotReady.emit(snap)

    def resume(self) -> None:
        if self.run is not None:
            self.run.resume()
            self._set_state("running")

    def step(self) -> None:
        """One batch: from idle this starts a paused run and steps it."""
        if self.run is None:
            if not self.start(paused=True):
                return
        self.run.step()
        self._set_state("paused")

    def stop(self) -> None:
        if self.run is not None:
            self.run.stop()

    def stop_and_wait(self, timeout: float = 30.0) -> None:
        """Stop, wait for the run to end, and keep what it trained (closing, opening another file)."""
        run = self.run
        if run is None:
            return
        run.stop()
        run.wait(timeout)
        self._finish(run, run.result or Finished("stopped", "stopped"))

    def is_active(self) -> bool:
        return self.run is not None

    # ------------------------------------------------------------- events
    def _tick(self) -> None:
        run = self.run
        if run is None:
            return
        run.poll()  # may finish the run (then self.run is None)
        snap = run.take()
        if snap is not None and self.run is run:
            if self._state == "paused":  # a step's batch, or the last ones before the pause took hold
                self.last_snapshot = snap
            self.snapshotReady.emit(snap)

    def _on_finished(self, result: Finished) -> None:
        assert QThread.currentThread() is self.thread(), "training results are handled on the GUI thread"
        run = self.sender()
        if run is not self.run:  # already handled by stop_and_wait
            return
        self._finish(run, result)

    def _finish(self, run: TrainingRun, result: Finished) -> None:
        if self.run is not run:
            return
        self._timer.stop()
        self.run = None
        snap = self.last_snapshot = run.latest
        if snap is not None:
            self.snapshotReady.emit(snap)  # the final state is always drawn
        doc = self.document
        doc.set_lock("")
        if run.batches > 0 and run.weights is not None:
            epochs = run.epochs_done
            text = (f"Train {epochs} epoch{'s' if epochs != 1 else ''}" if epochs
                    else f"Train {run.batches} batch{'es' if run.batches != 1 else ''}")
            doc.push(C.TrainCommand(doc, run.weights, run.history, epochs, text))
        self._set_state("idle")
        self.finished.emit(result)
