"""Training in a child process, so that the GUI thread never waits for the GIL.

The parent starts the child with a :class:`Start` (the network as the dict of
:func:`~anndesigner.engine.build.network_to_dict`, its weights and history,
and the data); the child trains with the ordinary :class:`Trainer` in a thread
of its own while its main thread answers the parent's commands. Nothing here
knows about Qt; the pipe carries these frozen dataclasses, nothing else:

parent -> child
    :class:`Pause`, :class:`Resume`, :class:`Step` (one batch while paused),
    :class:`Stop`, :class:`SendSnapshot` (send the next snapshot when there is
    one; the parent asks again only after it received it, so a busy window
    never queues snapshots).
child -> parent
    :class:`SnapshotReady` (a :class:`~anndesigner.engine.monitor.TrainingSnapshot`
    whose history holds only the epochs the parent has not seen yet), then,
    once, :class:`Done` (the result, the trained weights and the last
    snapshot). A run that failed (a bad token id met in training, a bug)
    ends with a ``Done`` whose result has ``reason == "error"``.

The history of a run crosses the pipe once: each snapshot carries the new
epochs, the parent appends them to its :class:`~.monitor.HistoryArrays`, and
the run's final :attr:`TrainingProcess.history` is read from them.
"""

from __future__ import annotations

import dataclasses
import multiprocessing as mp
import threading
import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import AnnError, TrainingError
from .build import network_from_dict, network_to_dict
from .monitor import HistoryArrays, Monitor, TrainingSnapshot
from .network import copy_optimizer_state
from .trainer import BatchEnd, EpochEnd, Finished, History


# ------------------------------------------------------------- messages
#: the epoch count of a run that goes on until it is stopped (``endless``)
ENDLESS_EPOCHS = 10**9


@dataclass(frozen=True)
class Start:
    """What the child is started with: the network (its dict, weights and
    history as a dict) and the data; ``paused``: wait for a :class:`Step` or
    :class:`Resume` before the first batch."""

    network: dict[str, Any]
    weights: dict[str, np.ndarray]
    history: dict[str, list]
    X: np.ndarray
    Y: np.ndarray
    paused: bool = False
    #: the network's optimizer state (the run continues from it when it fits)
    optimizer_state: dict[str, Any] | None = None
    #: run until stopped (the settings' epoch count is ignored)
    endless: bool = False
    #: at most this many epochs per second (None: flat out)
    epochs_per_second: float | None = None

    @classmethod
    def of(cls, net, X: np.ndarray, Y: np.ndarray, paused: bool = False) -> "Start":
        return cls(network_to_dict(net), net.get_weights(), net.history.to_dict(), X, Y, paused,
                   copy_optimizer_state(getattr(net, "optimizer_state", None)))

    def build(self):
        """The child's copy of the network."""
        net = network_from_dict(self.network, self.weights, history=self.history)
        net.optimizer_state = copy_optimizer_state(self.optimizer_state)
        return net


@dataclass(frozen=True)
class Pause:
    pass


@dataclass(frozen=True)
class Resume:
    pass


@dataclass(frozen=True)
class Step:
    """While paused: run one more batch."""


@dataclass(frozen=True)
class Stop:
    pass


@dataclass(frozen=True)
class SetSpeed:
    """At most ``epochs_per_second`` epochs a second from now on (None: flat out)."""

    epochs_per_second: float | None


@dataclass(frozen=True)
class SendSnapshot:
    """Send the next snapshot as soon as there is one."""


@dataclass(frozen=True)
class SnapshotReady:
    """A snapshot whose ``history`` holds epochs ``history_from`` on; ``batches``
    and ``epochs_done``: where the run stood when it was sent."""

    snapshot: TrainingSnapshot
    history_from: int
    batches: int
    epochs_done: int


@dataclass(frozen=True)
class Done:
    """The end of a run: the trainer's :class:`Finished` (or one with reason
    "error"), the weights, and the last snapshot (new epochs from ``history_from``)."""

    result: Finished
    weights: dict[str, np.ndarray]
    batches: int
    epochs_done: int
    snapshot: TrainingSnapshot | None
    history_from: int
    #: the optimizer's state at the end (the trainer's ``Finished.optimizer_state``), or None
    optimizer_state: dict[str, Any] | None = None


# ----------------------------------------------------------------- child
def _new_epochs(snap: TrainingSnapshot, sent: int) -> TrainingSnapshot:
    """``snap`` with only the history epochs after ``sent`` (what the pipe carries)."""
    return dataclasses.replace(snap, history={k: np.array(v[sent:]) for k, v in snap.history.items()})


def _child(conn, start: Start) -> None:
    net = start.build()
    trainer = net.trainer(start.X, start.Y, epochs=ENDLESS_EPOCHS) if start.endless else net.trainer(start.X, start.Y)
    monitor = Monitor(trainer, trainer.config.epochs)
    state = {"batches": 0, "result": None, "speed": start.epochs_per_second, "stop": False}

    def keep_pace(last: list) -> None:
        """After an epoch: wait until the speed limit allows the next one (in short
        sleeps, so a Stop, Pause or new speed is seen at once)."""
        while not state["stop"]:
            speed = state["speed"]
            if not speed:
                break
            wait = last[0] + 1.0 / speed - time.perf_counter()
            if wait <= 0:
                break
            time.sleep(min(wait, 0.02))
        last[0] = time.perf_counter()
    if start.paused:
        trainer.pause()

    def work() -> None:
        result = Finished("stopped", "stopped")
        last_epoch = [time.perf_counter()]
        try:
            for ev in trainer.run():
                if isinstance(ev, BatchEnd):
                    state["batches"] += 1
                    monitor.on_batch(ev)
                elif isinstance(ev, EpochEnd):
                    monitor.on_epoch(ev)
                    if state["speed"]:
                        keep_pace(last_epoch)
                elif isinstance(ev, Finished):
                    result = ev
        except AnnError as e:  # a user's mistake met while training (a bad token id): its message
            result = Finished("error", f"training stopped: {e}", getattr(e, "node_id", None))
        except Exception as e:  # noqa: BLE001 - reported to the parent, never lost
            import traceback

            result = Finished("error", f"{type(e).__name__}: {e}\n{traceback.format_exc()}",
                              getattr(e, "node_id", None))
        monitor.capture()
        state["result"] = result

    t = threading.Thread(target=work, name="anndesigner-train", daemon=True)
    t.start()
    want_snapshot = False
    paused_at = time.perf_counter() if start.paused else None  # paused time is left out of the ETA
    sent = 0  # epochs of history already sent: a snapshot carries only the new ones
    while t.is_alive():
        if conn.poll(0.005):
            msg = conn.recv()
            if isinstance(msg, SendSnapshot):
                want_snapshot = True
            elif isinstance(msg, Pause):
                trainer.pause()
                paused_at = paused_at or time.perf_counter()
            elif isinstance(msg, Resume):
                trainer.resume()
                if paused_at is not None:
                    monitor.pause_clock(time.perf_counter() - paused_at)
                    paused_at = None
            elif isinstance(msg, Step):
                if paused_at is not None:  # the time it stood paused stays out of the ETA
                    now = time.perf_counter()
                    monitor.pause_clock(now - paused_at)
                    paused_at = now
                trainer.step(1)
            elif isinstance(msg, Stop):
                state["stop"] = True
                trainer.stop()
                trainer.resume()
            elif isinstance(msg, SetSpeed):
                state["speed"] = msg.epochs_per_second
        if want_snapshot:
            snap = monitor.take()
            if snap is not None:
                conn.send(SnapshotReady(_new_epochs(snap, sent), sent, state["batches"], monitor.epochs_done))
                sent = max((len(v) for v in snap.history.values()), default=0)
                want_snapshot = False
    t.join()
    last = monitor.latest
    result = state["result"]
    conn.send(Done(result, net.get_weights(), state["batches"], monitor.epochs_done,
                   None if last is None else _new_epochs(last, sent), sent,
                   getattr(result, "optimizer_state", None)))
    conn.close()


# ---------------------------------------------------------------- parent
class TrainingProcess:
    """The parent's handle: ``start()``, ``pause()``, ``resume()``, ``step()``,
    ``stop()``, and ``poll()`` to receive snapshots and the result.

    When training diverges, ``result`` is the trainer's ``Finished(reason="nan")``
    as it was (message, node_id, epoch, batch, weight, learning_rate; see
    :class:`~.trainer.Finished`), and ``weights`` are the last finite ones, from
    before the bad batch; snapshots never carry non-finite weights (each is
    taken after a batch passed its check)."""

    def __init__(self, network, X: np.ndarray, Y: np.ndarray, *, endless: bool = False,
                 epochs_per_second: float | None = None):
        network.trainer(X, Y)  # bad settings or data raise here, in the caller, before any process starts
        if epochs_per_second is not None and not (epochs_per_second > 0 and np.isfinite(epochs_per_second)):
            raise TrainingError(f"the speed must be a positive number of epochs per second, not {epochs_per_second}")
        #: the network as it is now (the child trains this copy), and the data
        self._start = dataclasses.replace(Start.of(network, np.ascontiguousarray(X), np.ascontiguousarray(Y)),
                                          endless=endless, epochs_per_second=epochs_per_second)
        #: a run until stopped; the speed limit in epochs per second (None: flat out)
        self.endless = endless
        self.epochs_per_second = epochs_per_second
        self._proc: mp.Process | None = None
        self._conn = None
        self._asked = False
        self.paused = False
        #: epochs this run will do (ENDLESS_EPOCHS: until stopped)
        self.epochs_total = ENDLESS_EPOCHS if endless else network.training.epochs
        self.batches = 0
        self.epochs_done = 0
        self.latest: TrainingSnapshot | None = None
        self._fresh: TrainingSnapshot | None = None
        self.result: Finished | None = None
        self._history = HistoryArrays(network.history)  # the history before this run, then what arrives
        #: after the end: the trained weights and the whole history
        self.weights: dict[str, np.ndarray] | None = None
        self.history: History | None = None
        #: after the end: the optimizer's state to keep with the weights (None: none to keep)
        self.optimizer_state: dict[str, Any] | None = None

    def start(self, paused: bool = False) -> None:
        ctx = mp.get_context("spawn")  # never fork a process that runs Qt
        parent, child = ctx.Pipe()
        self.paused = paused
        self._proc = ctx.Process(target=_child, args=(child, dataclasses.replace(self._start, paused=paused)),
                                 name="anndesigner-training", daemon=True)
        self._proc.start()
        child.close()
        self._conn = parent

    def _send(self, msg) -> None:
        if self._conn is not None and self.result is None:
            try:
                self._conn.send(msg)
            except (BrokenPipeError, OSError):
                pass

    def pause(self) -> None:
        self.paused = True
        self._send(Pause())

    def resume(self) -> None:
        self.paused = False
        self._send(Resume())

    def step(self) -> None:
        """While paused (a running run is paused first): run exactly one more batch."""
        if not self.paused:
            self.pause()
        self._send(Step())

    def stop(self) -> None:
        self._send(Stop())

    def set_speed(self, epochs_per_second: float | None) -> None:
        """At most this many epochs a second from now on (None: flat out)."""
        if epochs_per_second is not None and not (epochs_per_second > 0 and np.isfinite(epochs_per_second)):
            raise TrainingError(f"the speed must be a positive number of epochs per second, not {epochs_per_second}")
        self.epochs_per_second = epochs_per_second
        self._send(SetSpeed(epochs_per_second))

    def poll(self, timeout: float = 0.0) -> bool:
        """Receive what the child sent; ask for the next snapshot. True once finished."""
        conn = self._conn
        if conn is None:
            return self.result is not None
        try:
            while conn.poll(timeout):
                timeout = 0.0
                msg = conn.recv()
                if isinstance(msg, SnapshotReady):
                    self.batches, self.epochs_done = msg.batches, msg.epochs_done
                    self.latest = self._fresh = self._merge(msg.snapshot, msg.history_from)
                    self._asked = False
                elif isinstance(msg, Done):
                    self.result, self.weights = msg.result, msg.weights
                    self.optimizer_state = msg.optimizer_state
                    self.batches, self.epochs_done = msg.batches, msg.epochs_done
                    if msg.snapshot is not None:
                        self.latest = self._fresh = self._merge(msg.snapshot, msg.history_from)
                    self.history = self._history.to_history()
                    self._close()
                    return True
        except (EOFError, OSError):
            if self.result is None:
                code = self._proc.exitcode if self._proc is not None else None
                self.result = Finished("error", f"the training process ended unexpectedly (exit code {code})")
            self._close()
            return True
        if not self._asked:
            self._send(SendSnapshot())
            self._asked = True
        return False

    def _merge(self, snap: TrainingSnapshot, start: int) -> TrainingSnapshot:
        """Append a snapshot's new history epochs to the parent's copy; the
        snapshot then holds read-only views of the whole history."""
        self._history.write(start, snap.history)
        return dataclasses.replace(snap, history=self._history.views())

    def take(self) -> TrainingSnapshot | None:
        """The snapshot received since the last ``take()``, or None."""
        snap, self._fresh = self._fresh, None
        return snap

    def wait(self, timeout: float = 30.0) -> bool:
        """Wait for the result (stop first to end early). True when it arrived."""
        end = time.perf_counter() + timeout
        while self.result is None and time.perf_counter() < end:
            if self.poll(0.05):
                break
        if self.result is None and self._proc is not None:
            self._proc.terminate()
            self._proc.join(5)
            self.result = Finished("error", "the training process did not stop in time and was ended")
            self._close()
        return self.result is not None

    def is_alive(self) -> bool:
        return self._proc is not None and self._proc.is_alive()

    def _close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None
        if self._proc is not None:
            self._proc.join(5)
