"""Runs training for a document: starts a
:class:`~anndesigner.engine.process.TrainingProcess` (a child process
training a copy of the network), locks structural edits, polls it from a
GUI-thread timer and relays its snapshots (at most every
:data:`~anndesigner.ui.throttle.SNAPSHOT_INTERVAL`), and turns the result
into one undo step ("Train 120 epochs") through the document's editor.

Views that show a run subscribe to :attr:`TrainingController.snapshotReady`
(their ``set_training(controller)``) and keep to their own redraw rate."""

from __future__ import annotations

from PySide6.QtCore import QObject, QTimer, Signal

from ...engine import Finished, TrainingProcess
from ...errors import AnnError
from ..document import Document
from ..throttle import SNAPSHOT_INTERVAL, ms

LOCK_REASON = "A training run is in progress: stop it to change the network's structure"


class TrainingController(QObject):
    """State: ``"idle"``, ``"running"`` or ``"paused"``; ``run``: the
    :class:`TrainingProcess` of the run in progress, or None."""

    stateChanged = Signal(str)
    snapshotReady = Signal(object)  # TrainingSnapshot
    finished = Signal(object)  # Finished
    error = Signal(str)  # a run that could not start

    def __init__(self, document: Document, parent: QObject | None = None):
        super().__init__(parent)
        self.document = document
        self.run: TrainingProcess | None = None
        self._timer = QTimer(self)
        self._timer.setInterval(ms(SNAPSHOT_INTERVAL))
        self._timer.timeout.connect(self._tick)
        self._state = "idle"
        #: the snapshot every view must draw however recently it drew: a run's end, or
        #: where a paused run stands (so the progress line and the plots agree)
        self.last_snapshot = None
        #: session options (not saved in the document): run until paused; epochs per second
        self.endless = False
        self.epochs_per_second: float | None = None

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
            # raises AnnError for bad settings or data
            run = TrainingProcess(doc.network, data.X, data.Y, endless=self.endless,
                                  epochs_per_second=self.epochs_per_second)
        except AnnError as e:
            self.error.emit(str(e))
            return False
        self.run = run
        self.last_snapshot = None
        doc.set_lock(LOCK_REASON)
        run.start(paused=paused)
        self._timer.start()
        self._set_state("paused" if paused else "running")
        return True

    def set_endless(self, on: bool) -> None:
        """The next run goes on until paused and stopped (the settings' epochs are ignored)."""
        self.endless = bool(on)

    def set_speed(self, epochs_per_second: float | None) -> None:
        """At most this many epochs a second (None: flat out), for this run and the next ones."""
        if self.run is not None:
            self.run.set_speed(epochs_per_second)  # TrainingError for a bad speed, before anything changes
        self.epochs_per_second = epochs_per_second

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
        if run.poll():  # the result arrived
            self._finish(run, run.result)
            return
        snap = run.take()
        if snap is not None:
            if self._state == "paused":  # a step's batch, or the last ones before the pause took hold
                self.last_snapshot = snap
            self.snapshotReady.emit(snap)

    def _finish(self, run: TrainingProcess, result: Finished) -> None:
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
            doc.editor.apply_training_result(run.weights, run.history, epochs, text,
                                             optimizer_state=run.optimizer_state)
        self._set_state("idle")
        self.finished.emit(result)
