"""Explain mode, coarser: one real training step of a whole batch, or of a whole
epoch, on a copy of the network, headless.

    rec = train_epoch_step(network)                 # the epoch the trainer would run next
    rec2 = train_epoch_step(network, previous=rec)  # the one after it, chained
    rec.weights_after, rec.optimizer_state_after, rec.history_after

Each step runs what :class:`~.trainer.Trainer` would do for the next batch or
epoch: the trainer itself is built on a copy (:meth:`Network.snapshot`), so the
optimizer (continuing from the network's ``optimizer_state`` when it fits, as a
run does), regularization, learning-rate schedule, learning rule and validation
split are the trainer's own; the batches are the trainer's (the same shuffle
order, drawn from the network's seed and the epoch number, the same batch size)
and every batch goes through the trainer's own batch step. The given network is
never changed.

A chain of steps (``previous=``) is one run: step k uses the schedule's
learning rate of the run's epoch k, the weights, layer state, optimizer state,
dropout generators and history the previous step left. Batch steps go through
an epoch batch by batch; the step of its last batch finishes the epoch as the
trainer does (its metrics are appended to ``history_after``). An epoch step after
batch steps that stopped inside an epoch runs the rest of that epoch.

Differences from a real run that goes on for many epochs: early stopping is not
applied (a step never stops early).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Mapping

import numpy as np

from ..errors import TrainingError
from .trainer import History, Trainer, correct_count, generators_of, regression_metrics

if TYPE_CHECKING:
    from .network import Network

__all__ = ["StepRecord", "WeightChange", "train_batch_step", "train_epoch_step"]


@dataclass(frozen=True)
class WeightChange:
    """How much one weight (named as :meth:`Network.get_weights`) moved in a step."""

    name: str
    norm: float  # ‖Δw‖₂
    max_abs: float  # max |Δw|
    size: int


@dataclass(frozen=True)
class StepRecord:
    """What one batch step or epoch step did (arrays are copies; nothing here is shared)."""

    kind: str  # "batch" or "epoch"
    #: the epoch of the network's history the step belongs to (0: the first ever trained)
    epoch: int
    #: the epoch of this run (0 for the first step of a chain): the schedule is asked for it
    run_epoch: int
    first_batch: int  # the epoch's batches run: first_batch .. first_batch + batches - 1
    batches: int
    batches_per_epoch: int
    samples: int  # rows the step trained on
    batch_size: int
    learning_rate: float
    rule: str
    optimizer: str | None
    #: the loss on the step's rows (a batch: its rows; an epoch: every training row), in
    #: prediction mode, the regularization term included, before and after the step
    loss_before: float
    loss_after: float
    #: the loss the trainer reports: a batch step's BatchEnd loss (its own forward pass, before
    #: the update), an epoch step's mean over its batches (the history's "loss")
    reported_loss: float
    #: the loss over every training row (prediction mode, no regularization), before and after
    data_loss_before: float
    data_loss_after: float
    weights_before: Mapping[str, np.ndarray]
    weights_after: Mapping[str, np.ndarray]
    changes: tuple[WeightChange, ...]  # in the order of get_weights
    update_norm: float  # ‖Δ‖₂ over every weight
    max_abs_delta: float
    optimizer_iterations_before: int
    optimizer_state_after: dict[str, Any] | None
    #: the epoch's metrics as the trainer appends them to the history; None while the epoch goes on
    metrics: Mapping[str, float] | None
    history_after: Mapping[str, list[float]]  # History.data after the step
    #: the one sample's loss (prediction mode, regularization included) before and after, when asked for
    sample_loss_before: float | None = None
    sample_loss_after: float | None = None
    # where the chain goes on from (private to this module)
    _rng_states_after: tuple = ()
    _partial: tuple = ()  # (loss_sum, seen, correct, predictions, targets) of the unfinished epoch

    @property
    def next_batch(self) -> int:
        """The batch of ``next_epoch`` a following step starts at."""
        b = self.first_batch + self.batches
        return 0 if b >= self.batches_per_epoch else b

    @property
    def next_epoch(self) -> int:
        return self.epoch + (1 if self.first_batch + self.batches >= self.batches_per_epoch else 0)

    @property
    def epoch_finished(self) -> bool:
        return self.metrics is not None

    def history(self) -> History:
        return History({k: list(v) for k, v in self.history_after.items()})

    def largest_changes(self, k: int = 3) -> list[WeightChange]:
        """The ``k`` weights that moved most (by max |Δw|)."""
        return sorted(self.changes, key=lambda c: -c.max_abs)[:k]


def train_batch_step(network: "Network", batch_index: int | None = None, *,
                     optimizer_state: Mapping[str, Any] | None = None, previous: StepRecord | None = None,
                     data: Any = None, sample: tuple[Any, Any] | None = None) -> StepRecord:
    """One batch of the next epoch, as the trainer would run it, on a copy of ``network``.

    ``batch_index``: which batch of the epoch (default: 0, or the batch after
    ``previous``'s); the state is the network's (or ``previous``'s after), as before that batch.
    ``optimizer_state``: the optimizer state to continue from (default the network's, or
    ``previous``'s); like a run, a state that does not fit this optimizer is not used.
    ``data``: ``(X, Y)`` or a data set with ``X`` and ``Y`` (default: the network's data source).
    ``sample``: ``(x, y)`` of one row whose loss before and after is recorded."""
    return _step(network, "batch", batch_index, optimizer_state, previous, data, sample)


def train_epoch_step(network: "Network", *, optimizer_state: Mapping[str, Any] | None = None,
                     previous: StepRecord | None = None, data: Any = None,
                     sample: tuple[Any, Any] | None = None) -> StepRecord:
    """The next epoch (every batch of it), as the trainer would run it, on a copy of
    ``network``; after ``previous``, the epoch after it (or the rest of its epoch). Arguments
    as :func:`train_batch_step`."""
    return _step(network, "epoch", None, optimizer_state, previous, data, sample)


# ------------------------------------------------------------------ the step
def _arrays(network: "Network", data: Any) -> tuple[Any, Any]:
    if data is None:
        if not network.data_source:
            raise TrainingError("a training step needs data: the network names no data set")
        from ..data import load_source

        data = load_source(network.data_source)
    if hasattr(data, "X") and hasattr(data, "Y"):
        return data.X, data.Y
    X, Y = data
    return X, Y


def _step(network, kind, batch_index, optimizer_state, previous, data, sample) -> StepRecord:
    from .network import copy_optimizer_state

    work = network.snapshot()
    if previous is not None:
        work.set_weights(previous.weights_after)
        work.history = previous.history()
        work.optimizer_state = copy_optimizer_state(previous.optimizer_state_after)
        for r, s in zip(generators_of(work.program), previous._rng_states_after):
            r.bit_generator.state = s
    if optimizer_state is not None:
        work.optimizer_state = copy_optimizer_state(dict(optimizer_state))
    X, Y = _arrays(network, data)
    cfg = work.training
    trainer = Trainer(work, X, Y, cfg)
    prog = trainer.program
    n = len(trainer.X)
    bs = min(cfg.batch_size, n)
    per_epoch = math.ceil(n / bs)
    if previous is not None:
        epoch, run_epoch = previous.next_epoch, previous.run_epoch + (1 if previous.next_batch == 0 else 0)
        start = previous.next_batch
        partial = previous._partial if start else ()
    else:
        epoch, run_epoch, start, partial = len(work.history), 0, 0, ()
    if kind == "batch" and batch_index is not None:
        if not (isinstance(batch_index, int) and 0 <= batch_index < per_epoch):
            raise TrainingError(f"batch {batch_index!r} does not exist: an epoch has {per_epoch} batches "
                                f"(0 to {per_epoch - 1})")
        if batch_index != start:
            partial = ()  # the epoch's earlier batches were not run in this chain
        start = batch_index
    count = 1 if kind == "batch" else per_epoch - start
    lr = float(trainer.schedule.lr_at(run_epoch, cfg.learning_rate))
    order = np.random.default_rng([work.seed & 0xFFFFFFFF, epoch]).permutation(n) if cfg.shuffle else None

    def rows(b):
        sl = slice(b * bs, min(n, (b + 1) * bs))
        if order is None:
            return trainer.X[sl], trainer.Y[sl]
        idx = order[sl]
        return np.take(trainer.X, idx, axis=0), np.take(trainer.Y, idx, axis=0)

    step_rows = (np.concatenate([order[b * bs:min(n, (b + 1) * bs)] for b in range(start, start + count)])
                 if order is not None else np.arange(start * bs, min(n, (start + count) * bs)))
    sx, sy = None, None
    if sample is not None:
        sx, sy = work._check_data(np.asarray(sample[0])[None], np.asarray(sample[1]).reshape(1, -1))
        sx, sy = sx.astype(prog.dtype, copy=False), sy.astype(prog.dtype, copy=False)

    def losses():
        """(loss on the step's rows + regularization, data loss on every row, sample loss)."""
        reg = trainer._regularize() if cfg.rule == "backprop" else 0.0
        with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
            on_rows = _loss(prog, trainer.X[step_rows], trainer.Y[step_rows]) + reg
            every = _loss(prog, trainer.X, trainer.Y)
            one = None if sx is None else _loss(prog, sx, sy) + reg
        return on_rows, every, one

    before = work.get_weights()
    iterations = trainer.optimizer.iterations if trainer.optimizer is not None else 0
    loss_before, data_before, sample_before = losses()
    loss_sum, seen, correct, preds, targets = partial or (0.0, 0, 0, (), ())
    preds, targets = list(preds), list(targets)
    reported = []
    for b in range(start, start + count):
        xb, yb = rows(b)
        out, loss, bad = trainer._batch(xb, yb, lr)
        if loss is None or bad is not None:
            where = f"the weight '{bad.name}'" if bad is not None else "the loss"
            raise TrainingError(f"epoch {epoch + 1}, batch {b + 1}: {where} became NaN or infinite "
                                f"(try a smaller learning rate, or reset the weights); nothing was kept")
        k = len(xb)
        reported.append((loss, k))
        loss_sum += loss * k
        seen += k
        if trainer.task == "classification":
            correct += correct_count(out, yb)
        else:
            preds.append(out.copy())
            targets.append(yb.copy())
    finished = start + count >= per_epoch
    metrics = None
    history = work.history
    if finished:
        metrics = {"loss": loss_sum / seen}
        if trainer.task == "classification":
            metrics["accuracy"] = correct / seen
        else:
            metrics.update(regression_metrics(np.concatenate(preds), np.concatenate(targets)))
        if trainer.X_val is not None:
            metrics.update({"val_" + k: v for k, v in work._evaluate_arrays(trainer.X_val, trainer.Y_val,
                                                                            trainer.task).items()})
        metrics["lr"] = lr
        history.append(metrics)
    prog.clear()
    loss_after, data_after, sample_after = losses()
    prog.clear()
    after = work.get_weights()
    changes = []
    total = 0.0
    for name, v in after.items():
        d = after[name].astype(np.float64) - before[name].astype(np.float64)
        sq = float(np.sum(d * d))
        total += sq
        changes.append(WeightChange(name, math.sqrt(sq), float(np.max(np.abs(d))) if d.size else 0.0, int(d.size)))
    state = trainer.optimizer.state_dict() if trainer.optimizer is not None else None
    reported_loss = (metrics["loss"] if kind == "epoch" and metrics is not None and not start
                     else sum(a * k for a, k in reported) / sum(k for _, k in reported))
    return StepRecord(
        kind, epoch, run_epoch, start, count, per_epoch, int(sum(k for _, k in reported)), bs, lr, cfg.rule,
        cfg.optimizer if cfg.rule == "backprop" else None, float(loss_before), float(loss_after),
        float(reported_loss), float(data_before), float(data_after), before, after, tuple(changes),
        math.sqrt(total), max((c.max_abs for c in changes), default=0.0), int(iterations),
        copy_optimizer_state(state), None if metrics is None else dict(metrics),
        {k: list(v) for k, v in history.data.items()},
        None if sample_before is None else float(sample_before),
        None if sample_after is None else float(sample_after),
        tuple(r.bit_generator.state for r in generators_of(prog)),
        () if finished else (loss_sum, seen, correct, tuple(preds), tuple(targets)),
    )


def _loss(prog, X: np.ndarray, Y: np.ndarray) -> float:
    """The data loss over rows ``X`` (prediction mode), as ``Network.evaluate`` computes it."""
    total = 0.0
    for i in range(0, len(X), 4096):
        xb, yb = X[i:i + 4096], Y[i:i + 4096]
        prog.forward([xb], training=False)
        total += prog.loss([yb]) * len(xb)
    return total / max(len(X), 1)
