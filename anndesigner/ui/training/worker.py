"""A training run for the GUI, in a child process (see
:mod:`anndesigner.engine.process`): the window's thread never competes with
the training loop for Python's GIL, so it stays responsive however small and
fast the network is. The controller calls :meth:`TrainingRun.poll` from a
GUI-thread timer; ``finished`` is emitted from there."""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from ...engine import Finished, Network
from ...engine.monitor import TrainingSnapshot
from ...engine.process import TrainingProcess


class TrainingRun(QObject):
    """``TrainingRun(network, X, Y)``; ``start()``, ``pause()``, ``resume()``,
    ``step()``, ``stop()``; ``poll()`` on a timer; ``finished(Finished)``.
    After the end: ``weights``, ``history``, ``result``."""

    finished = Signal(object)

    def __init__(self, network: Network, X, Y, parent: QObject | None = None):
        super().__init__(parent)
        self.proc = TrainingProcess(network, X, Y)  # raises AnnError for bad settings or data
        self.epochs_total = network.training.epochs
        self._done = False

    def start(self, paused: bool = False) -> None:
        self.proc.start(paused)

    def pause(self) -> None:
        self.proc.pause()

    def resume(self) -> None:
        self.proc.resume()

    def step(self) -> None:
        """While paused: run exactly one more batch."""
        self.proc.step()

    def stop(self) -> None:
        self.proc.stop()

    @property
    def paused(self) -> bool:
        return self.proc.paused

    @property
    def batches(self) -> int:
        return self.proc.batches

    @property
    def epochs_done(self) -> int:
        return self.proc.epochs_done

    @property
    def latest(self) -> TrainingSnapshot | None:
        return self.proc.latest

    @property
    def result(self) -> Finished | None:
        return self.proc.result

    @property
    def weights(self):
        return self.proc.weights

    @property
    def history(self):
        return self.proc.history

    def take(self) -> TrainingSnapshot | None:
        return self.proc.take()

    def poll(self) -> None:
        """Receive snapshots and, at the end, the result (emits ``finished`` once)."""
        if self.proc.poll() and not self._done:
            self._done = True
            self.finished.emit(self.proc.result)

    def wait(self, timeout: float = 30.0) -> bool:
        return self.proc.wait(timeout)
