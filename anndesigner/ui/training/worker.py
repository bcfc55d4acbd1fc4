"""A training run in a worker thread, on a compiled snapshot of the network.

The worker only touches its own :class:`~anndesigner.engine.Network` copy and
the :class:`~anndesigner.engine.monitor.Monitor`; the GUI reads snapshots on a
timer and learns that the run ended through the queued ``finished`` signal.
No widget is touched from the worker.
"""

from __future__ import annotations

import threading
import time

from PySide6.QtCore import QObject, Signal

from ...engine import BatchEnd, EpochEnd, Finished, Network
from ...engine.monitor import Monitor
from ...engine.trainer import Trainer
from ...errors import AnnError


class TrainingRun(QObject):
    """``TrainingRun(snapshot_network, X, Y, epochs)``; ``start()``, ``stop()``,
    ``pause()``, ``resume()``, ``step()``; ``finished(Finished)`` when it ends."""

    finished = Signal(object)

    def __init__(self, network: Network, X, Y, *, X_val=None, Y_val=None, parent: QObject | None = None):
        super().__init__(parent)
        self.network = network
        self.trainer: Trainer = network.trainer(X, Y, validation_data=(X_val, Y_val) if X_val is not None else None)
        self.monitor = Monitor(self.trainer, self.trainer.config.epochs)
        self.result: Finished | None = None
        self.batches = 0
        self._thread: threading.Thread | None = None
        self._paused_at: float | None = None

    # ------------------------------------------------------------ control
    def start(self, paused: bool = False) -> None:
        if paused:
            self.pause()
        self._thread = threading.Thread(target=self._work, name="anndesigner-training", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self.trainer.stop()

    def pause(self) -> None:
        if self._paused_at is None:
            self._paused_at = time.perf_counter()
        self.trainer.pause()

    def resume(self) -> None:
        if self._paused_at is not None:
            self.monitor.pause_clock(time.perf_counter() - self._paused_at)
            self._paused_at = None
        self.trainer.resume()

    def step(self) -> None:
        """While paused: run exactly one more batch."""
        if not self.trainer.paused:
            self.pause()
        self.trainer.step(1)

    @property
    def paused(self) -> bool:
        return self.trainer.paused

    def is_running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def wait(self, timeout: float | None = None) -> bool:
        """Join the thread; True when it has ended."""
        if self._thread is None:
            return True
        self._thread.join(timeout)
        return not self._thread.is_alive()

    # ------------------------------------------------------------- thread
    def _work(self) -> None:
        result = Finished("stopped", "stopped")
        try:
            for ev in self.trainer.run():
                if isinstance(ev, BatchEnd):
                    self.batches += 1
                    self.monitor.on_batch(ev)
                elif isinstance(ev, EpochEnd):
                    self.monitor.on_epoch(ev)
                elif isinstance(ev, Finished):
                    result = ev
        except AnnError as e:
            result = Finished("error", str(e), getattr(e, "node_id", None))
        except Exception as e:  # noqa: BLE001 - reported in the GUI, never lost
            import traceback

            result = Finished("error", f"{type(e).__name__}: {e}\n{traceback.format_exc()}")
        self.monitor.capture()
        self.result = result
        self.finished.emit(result)
