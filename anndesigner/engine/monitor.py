"""What a live view needs to see of a training run, copied out of the
trainer between batches: a :class:`TrainingSnapshot`.

The thread that runs the trainer (in the training process, see
:mod:`~anndesigner.engine.process`) calls :meth:`Monitor.on_batch` and
:meth:`Monitor.on_epoch`; they capture a snapshot when the previous one has
been taken and the last is at least ``min_interval`` old (so a slow screen
never slows training). Another thread takes it with :meth:`Monitor.take`.
:class:`HistoryArrays` holds the per-epoch metrics a snapshot shows, on both
sides of the pipe. Nothing here knows about Qt.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

import numpy as np

from .trainer import History, Trainer


@dataclass
class TrainingSnapshot:
    """An immutable picture of a run between two batches."""

    step: int  # batches done in this run
    epoch: int  # 0-based epoch the last batch belonged to (over the network's whole history)
    epochs_done: int  # epochs completed in this run
    epochs_total: int  # epochs this run will do
    batches_per_epoch: int
    batch_in_epoch: int
    history: dict[str, np.ndarray]  # per-epoch metrics over the whole history (read-only views)
    batch_losses: np.ndarray  # (step, loss) rows of this run, most recent last (at most 5,000)
    weights: dict[str, np.ndarray]  # copies: "<node id>/kernel" ...
    grad_norms: dict[str, float]  # per node with weights, from the latest backward
    activations: dict[str, np.ndarray]  # per node: its output on the last batch (at most 256 rows)
    elapsed: float  # seconds since the run started (pauses excluded)
    eta: float  # seconds left (inf when unknown)
    samples_per_second: float
    created: float = field(default_factory=time.perf_counter)


def _readonly(a: np.ndarray) -> np.ndarray:
    v = a.view()
    v.flags.writeable = False
    return v


class HistoryArrays:
    """Per-epoch metrics in growing float64 arrays (NaN where a metric is
    missing): :meth:`views` hands out read-only views of them, so a snapshot
    costs the same after 10 epochs or 100,000. Starts from a :class:`History`."""

    def __init__(self, history: History | None = None):
        self._arrays: dict[str, np.ndarray] = {}
        self._n = 0
        for k, v in (history.data if history is not None else {}).items():
            self._arrays[k] = np.array(v, dtype=np.float64)
            self._n = len(v)

    def __len__(self) -> int:
        return self._n

    def _room(self, key: str, need: int) -> np.ndarray:
        a = self._arrays.get(key)
        if a is None:
            a = np.full(max(16, need), np.nan)
        elif len(a) < need:
            grown = np.full(max(need, 2 * len(a)), np.nan)
            grown[: len(a)] = a
            a = grown
        self._arrays[key] = a
        return a

    def append(self, metrics: dict[str, float]) -> None:
        """One more epoch."""
        n = self._n
        for k in set(self._arrays) | set(metrics):
            self._room(k, n + 1)[n] = metrics.get(k, np.nan)
        self._n = n + 1

    def write(self, start: int, epochs: dict[str, np.ndarray]) -> None:
        """Epochs ``start``, ``start + 1`` ... (the new ones another process sent)."""
        end = start + max((len(v) for v in epochs.values()), default=0)
        for k in set(self._arrays) | set(epochs):
            a = self._room(k, end)
            v = epochs.get(k)
            if v is not None:
                a[start:start + len(v)] = v
        self._n = max(self._n, end)

    def views(self) -> dict[str, np.ndarray]:
        """Every metric over all epochs, as read-only views."""
        return {k: _readonly(a[: self._n]) for k, a in self._arrays.items()}

    def to_history(self) -> History:
        return History({k: a[: self._n].tolist() for k, a in self._arrays.items()})


class Monitor:
    """Collects batch losses and hands out snapshots at a bounded rate."""

    MAX_BATCH_LOSSES = 5000
    #: at most this many values per node and snapshot
    MAX_ACTIVATION_VALUES = 16384
    MAX_ACTIVATION_ROWS = 256

    def __init__(self, trainer: Trainer, epochs_total: int, min_interval: float = 1 / 30):
        self.trainer = trainer
        self.epochs_total = epochs_total
        self.min_interval = min_interval
        self._losses: list[tuple[int, float]] = []
        self._lock = threading.Lock()
        self._latest: TrainingSnapshot | None = None
        self._taken = True
        self._last = 0.0
        self._start = time.perf_counter()
        self._paused_time = 0.0
        self._samples = 0
        self.epochs_done = 0
        self.last_batch = None
        self._history = HistoryArrays(trainer.network.history)

    def pause_clock(self, seconds: float) -> None:
        self._paused_time += seconds

    def on_batch(self, ev) -> None:
        """Call after every BatchEnd (from the thread that runs the trainer)."""
        self._losses.append((ev.step, ev.loss))
        if len(self._losses) > 2 * self.MAX_BATCH_LOSSES:
            del self._losses[: len(self._losses) - self.MAX_BATCH_LOSSES]
        self._samples += ev.size
        self.last_batch = ev
        now = time.perf_counter()
        if self._taken and now - self._last >= self.min_interval:
            self.trainer.want_grad_norms = True  # the next backward records them
            self.capture()

    def on_epoch(self, ev) -> None:
        self.epochs_done += 1
        self._history.append(ev.metrics)
        if self._taken and time.perf_counter() - self._last >= self.min_interval:
            self.capture()

    def capture(self) -> None:
        """Copy what the views need (from the thread that runs the trainer, between batches)."""
        tr = self.trainer
        prog = tr.program
        ev = self.last_batch
        acts = {}
        for nid in prog.node_values:
            out = prog.node_output(nid)
            if out is not None:  # image and sequence outputs: fewer rows, so a snapshot stays small
                per_row = max(1, out[0].size if len(out) else 1)
                rows = max(1, min(self.MAX_ACTIVATION_ROWS, self.MAX_ACTIVATION_VALUES // per_row))
                acts[nid] = np.array(out[:rows])
        elapsed = max(1e-9, time.perf_counter() - self._start - self._paused_time)
        total_steps = self.epochs_total * (ev.batches if ev else 1)
        done = ev.step if ev else 0
        eta = elapsed / done * (total_steps - done) if done else float("inf")
        snap = TrainingSnapshot(
            step=done,
            epoch=ev.epoch if ev else tr.epoch,
            epochs_done=self.epochs_done,
            epochs_total=self.epochs_total,
            batches_per_epoch=ev.batches if ev else 0,
            batch_in_epoch=(ev.batch + 1) if ev else 0,
            history=self._history.views(),
            batch_losses=np.array(self._losses[-self.MAX_BATCH_LOSSES:], dtype=np.float64).reshape(-1, 2),
            weights=prog.get_weights(),
            grad_norms=dict(tr.grad_norms),
            activations=acts,
            elapsed=elapsed,
            eta=eta,
            samples_per_second=self._samples / elapsed,
        )
        with self._lock:
            self._latest = snap
            self._taken = False
            self._last = time.perf_counter()

    def take(self) -> TrainingSnapshot | None:
        """The newest snapshot not yet taken, or None (from any thread)."""
        with self._lock:
            if self._taken:
                return None
            self._taken = True
            return self._latest

    @property
    def latest(self) -> TrainingSnapshot | None:
        with self._lock:
            return self._latest
