"""The training loop: a generator of per-batch and per-epoch events.

    trainer = Trainer(network, X, Y, config)
    for event in trainer.run():       # BatchEnd ... EpochEnd ... Finished
        ...

It supports cooperative :meth:`Trainer.stop`, and :meth:`Trainer.pause` /
:meth:`Trainer.resume` / :meth:`Trainer.step` for a loop running in a thread
of its own (the training process runs it so, see :mod:`.process`; while paused,
``run`` blocks between batches until resumed, stepped or stopped). Nothing here knows about Qt.

Divergence: every batch is guarded by a :class:`StepGuard`. It checks the
arrays a batch may change (the weights the step updates, and layer state such
as BatchNorm's moving statistics, which the forward pass updates) after every
step, the last one too. When the loss,
an output, a weight or a state array becomes NaN or infinite, the arrays go
back to their values before that batch (bit for bit), no BatchEnd is sent for
it, and ``run`` ends with ``Finished(reason="nan")`` naming the node, the
weight, the epoch and the batch. A run therefore never leaves non-finite
weights behind.
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import asdict, dataclass, field, fields
from typing import TYPE_CHECKING, Any, Iterator

import numpy as np

from ..errors import TrainingError
from ..graph.nodetypes import CLASSIFICATION_LOSSES
from .compiler import Program, check_differentiable
from .op_core import DenseStep
from .optimizers import make_optimizer
from .schedules import make_schedule

if TYPE_CHECKING:
    from .network import Network
    from .step import Param

RULES = ("backprop", "perceptron", "hebbian", "fixed")
#: "fixed": the weights never change (a McCulloch-Pitts neuron); training only measures


@dataclass
class TrainingConfig:
    """Training settings, saved in the network file."""

    epochs: int = 100
    batch_size: int = 32
    optimizer: str = "adam"
    learning_rate: float = 0.01
    optimizer_params: dict[str, Any] = field(default_factory=dict)
    l1: float = 0.0
    l2: float = 0.0
    clipnorm: float | None = None
    schedule: dict[str, Any] | None = None
    shuffle: bool = True
    validation_split: float = 0.0
    early_stopping: bool = False
    patience: int = 10
    min_delta: float = 0.0
    restore_best_weights: bool = True
    rule: str = "backprop"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any] | None) -> "TrainingConfig":
        d = dict(d or {})
        names = {f.name for f in fields(cls)}
        unknown = set(d) - names
        if unknown:
            listed = ", ".join(map(_short, sorted(unknown)[:5]))
            more = f" and {len(unknown) - 5:,} more" if len(unknown) > 5 else ""
            raise TrainingError(f"unknown training setting(s): {listed}{more}")
        cfg = cls(**d)
        cfg.check()
        return cfg

    def replace(self, **changes: Any) -> "TrainingConfig":
        d = self.to_dict()
        d.update({k: v for k, v in changes.items() if v is not None})
        return TrainingConfig.from_dict(d)

    def check(self) -> None:
        def need(ok: bool, msg: str) -> None:
            if not ok:
                raise TrainingError(f"training setting {msg}")

        def num(v: Any) -> bool:
            return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)

        need(isinstance(self.epochs, int) and self.epochs >= 1, f"'epochs' must be a whole number ≥ 1, not {_short(self.epochs)}")
        need(isinstance(self.batch_size, int) and self.batch_size >= 1,
             f"'batch_size' must be a whole number ≥ 1, not {_short(self.batch_size)}")
        need(num(self.learning_rate) and self.learning_rate > 0, f"'learning_rate' must be > 0, not {_short(self.learning_rate)}")
        need(num(self.l1) and self.l1 >= 0, f"'l1' must be ≥ 0, not {_short(self.l1)}")
        need(num(self.l2) and self.l2 >= 0, f"'l2' must be ≥ 0, not {_short(self.l2)}")
        need(self.clipnorm is None or (num(self.clipnorm) and self.clipnorm > 0), f"'clipnorm' must be > 0 or empty, not {_short(self.clipnorm)}")
        need(num(self.validation_split) and 0 <= self.validation_split < 1,
             f"'validation_split' must be in [0, 1), not {_short(self.validation_split)}")
        need(isinstance(self.patience, int) and self.patience >= 0, f"'patience' must be a whole number ≥ 0, not {_short(self.patience)}")
        need(self.rule in RULES, f"'rule' must be one of {', '.join(RULES)}, not {_short(self.rule)}")
        need(isinstance(self.optimizer_params, dict), "'optimizer_params' must be a mapping")
        clash = {"learning_rate", "clipnorm"} & set(self.optimizer_params)
        need(not clash, f"'{next(iter(clash), '')}' belongs in the main settings, not in 'optimizer_params'")
        make_schedule(self.schedule)  # raises TrainingError


def _short(v: Any) -> str:
    """``repr(v)``, cut to its first 60 characters (a setting read from a file may be huge)."""
    r = repr(v)
    return r if len(r) <= 60 else r[:57] + "..."


# ------------------------------------------------------------------ events
@dataclass
class BatchEnd:
    epoch: int  # 0-based
    batch: int
    batches: int  # per epoch
    step: int  # global, 1-based
    loss: float
    size: int


@dataclass
class EpochEnd:
    epoch: int
    metrics: dict[str, float]
    seconds: float


@dataclass
class Finished:
    """The last event of a run.

    ``reason`` is "completed", "stopped", "early_stopping" or "nan" (the child
    process adds "error"). For "nan" (training diverged):

    * ``message``: one plain sentence naming the node, the epoch and batch
      (1-based), what became NaN or infinite, and that the weights are back to
      where they were before that batch;
    * ``node_id``: the node whose value went bad (for the editor to show);
    * ``epoch``, ``batch``: where, 0-based like :class:`BatchEnd` (``epoch``
      counts over the network's whole history);
    * ``weight``: the weight or state array that became non-finite
      ("dense_1/kernel", "bn_1/moving_variance"), or None when it was the
      output or the loss of a forward pass (the weights were still finite);
    * ``learning_rate``: the learning rate of that batch (to suggest a lower one).

    The network's weights are then the last finite ones: those before the bad batch.
    """

    reason: str  # "completed", "stopped", "early_stopping", "nan"
    message: str = ""
    node_id: str | None = None
    epoch: int | None = None
    batch: int | None = None
    weight: str | None = None
    learning_rate: float | None = None
    #: the optimizer's state at the end (:meth:`~.optimizers.Optimizer.state_dict`, keyed by
    #: weight name), to continue from (after "nan": the state of before the bad batch, like the
    #: weights); None when there is none to keep (no optimizer, or early stopping put back the
    #: best weights, which the state does not belong to)
    optimizer_state: dict[str, Any] | None = None


class History:
    """Per-epoch metrics: ``history["loss"][i]`` is the loss of epoch i."""

    def __init__(self, data: dict[str, list[float]] | None = None):
        self.data: dict[str, list[float]] = {k: list(v) for k, v in (data or {}).items()}

    def append(self, metrics: dict[str, float]) -> None:
        n = len(self)
        for k in metrics:
            if k not in self.data:
                self.data[k] = [math.nan] * n
        for k, col in self.data.items():
            col.append(float(metrics.get(k, math.nan)))

    def __len__(self) -> int:
        return len(next(iter(self.data.values()), []))

    def __getitem__(self, key: str) -> list[float]:
        return self.data[key]

    def __contains__(self, key: str) -> bool:
        return key in self.data

    def keys(self):
        return self.data.keys()

    def last(self) -> dict[str, float]:
        return {k: v[-1] for k, v in self.data.items() if v}

    def to_dict(self) -> dict[str, list[float | None]]:
        return {k: [None if not math.isfinite(x) else x for x in v] for k, v in self.data.items()}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "History":
        return cls({k: [math.nan if x is None else float(x) for x in v] for k, v in d.items()})

    def __repr__(self) -> str:
        return f"History({len(self)} epochs: {', '.join(self.data)})"


# ----------------------------------------------------------------- metrics
def task_of(program: Program, Y: np.ndarray, rule: str = "backprop") -> str:
    losses = {o.loss for o in program.outputs}
    if losses & CLASSIFICATION_LOSSES or rule != "backprop":
        return "classification"
    vals = np.unique(Y) if Y.size <= 1_000_000 else np.unique(Y[:10000])
    if vals.size <= 2 and set(vals.tolist()) <= {0.0, 1.0, -1.0}:
        return "classification"
    return "regression"


def _threshold(Y: np.ndarray) -> float:
    return 0.0 if (Y < 0).any() else 0.5


def correct_count(P: np.ndarray, Y: np.ndarray) -> int:
    if Y.shape[-1] == 1:
        t = _threshold(Y)
        return int(np.sum((P[..., 0] >= t) == (Y[..., 0] >= t)))
    if (Y < 0).any():  # bipolar patterns (Hebb): a row counts when every value has the right sign
        return int(np.sum(np.all((P >= 0) == (Y >= 0), axis=-1)))
    return int(np.sum(P.argmax(-1) == Y.argmax(-1)))


def regression_metrics(P: np.ndarray, Y: np.ndarray) -> dict[str, float]:
    P2 = P.reshape(-1, P.shape[-1]).astype(np.float64)
    Y2 = Y.reshape(-1, Y.shape[-1]).astype(np.float64)
    ss_res = ((Y2 - P2) ** 2).sum(0)
    ss_tot = ((Y2 - Y2.mean(0)) ** 2).sum(0)
    r2 = np.where(ss_tot > 0, 1 - ss_res / np.where(ss_tot > 0, ss_tot, 1), 0.0)
    return {"r2": float(r2.mean()), "mae": float(np.abs(Y2 - P2).mean())}


# ------------------------------------------------------------------- guard
class StepGuard:
    """Checks after every step that nothing became NaN or inf, and can bring back
    the values of before any batch exactly, without copying the weights at
    every step.

    :meth:`check` is one dot product per array of the values with themselves,
    which is finite exactly when every value is, unless the squares overflow
    (values above ~1.8e19 in float32); only then does a precise
    ``np.isfinite`` decide. Small networks (at most :attr:`FLAT_MAX` values)
    are checked as one flat buffer, so that the cost does not grow with the
    number of arrays.

    :meth:`checkpoint` copies the guarded arrays, the optimizer's state and the
    dropout generators' states; the trainer takes one at its first batch, then
    every :attr:`EVERY` batches (across epochs), and when the weights were set
    through the API between two batches. :meth:`restore` puts them back, and
    the trainer replays the good batches since then, which recomputes the
    weights of before the bad batch bit for bit: the same batches, learning
    rates, dropout masks and arithmetic (validation between epochs changes
    nothing: it runs in prediction mode). A copy at every step
    would cost several times the check (writing a copy of the weights is the
    dearest part; ``benchmarks/bench_engine.py``, part 5, measures it); undoing
    a step is not possible (``w - u + u`` is not ``w`` in floating point).
    """

    #: networks with at most this many values are checked as one buffer
    FLAT_MAX = 1 << 16
    #: batches between two checkpoints (at most this many are replayed after a bad one)
    EVERY = 32

    def __init__(self, params: "list[Param]", optimizer=None, rngs: "list[np.random.Generator]" = ()):
        self.params = [p for p in params if p.value.size]
        self.optimizer = optimizer
        self.rngs = list(rngs)
        arrays = [p.value for p in self.params]
        size = sum(a.size for a in arrays)
        # one buffer: every array C-contiguous (so that its flat view is the array itself), one dtype
        self._flat = (0 < size <= self.FLAT_MAX and all(a.flags.c_contiguous for a in arrays)
                      and len({a.dtype for a in arrays}) == 1)
        if self._flat:
            self._views = [a.reshape(-1) for a in arrays]
            self._now = np.empty(size, arrays[0].dtype)
        self._saved = [np.empty_like(a) for a in arrays]
        self._opt_saved = None
        self._rng_saved: list[dict] = []
        self.sums: list[float] = []

    def checkpoint(self) -> None:
        for buf, p in zip(self._saved, self.params):
            np.copyto(buf, p.value)
        if self.optimizer is not None:
            self._opt_saved = self.optimizer.snapshot(self._opt_saved)
        self._rng_saved = [r.bit_generator.state for r in self.rngs]  # a new dict each time, with copies

    def restore(self) -> None:
        """Back to the last checkpoint (weights, layer state, optimizer state, dropout generators)."""
        for buf, p in zip(self._saved, self.params):
            np.copyto(p.value, buf)
        if self.optimizer is not None and self._opt_saved is not None:
            self.optimizer.restore_snapshot(self._opt_saved)
        for r, state in zip(self.rngs, self._rng_saved):
            r.bit_generator.state = state  # read, not kept: it can be put back again

    def check(self) -> "Param | None":
        """None when every value is finite, else the first array that holds NaN or
        inf. Call it inside ``np.errstate(over="ignore")``: the squares of huge
        values overflow. The sums of squares of the last good check are kept in
        ``sums``: a fingerprint of the weights (see :meth:`matches`)."""
        sums = self._sums()
        if not all(map(math.isfinite, sums)):  # NaN or inf, or only squares that overflowed: look closer
            suspects = self.params if self._flat else [p for p, t in zip(self.params, sums) if not math.isfinite(t)]
            bad = next((p for p in suspects if not np.isfinite(p.value).all()), None)
            if bad is not None:
                return bad
        self.sums = sums
        return None

    def _sums(self) -> list[float]:
        dot = np.dot
        if self._flat:
            now = np.concatenate(self._views, out=self._now)
            return [float(dot(now, now))]
        out = []
        for p in self.params:
            flat = p.value.reshape(-1)
            out.append(float(dot(flat, flat)))
        return out

    def matches(self) -> bool:
        """Whether the values have the fingerprint of the last good check (after a replay)."""
        with np.errstate(over="ignore", invalid="ignore"):
            return self._sums() == self.sums  # NaN (values gone bad) matches nothing


def generators_of(program: Program) -> "list[np.random.Generator]":
    """The random generators the program's steps draw from (dropout masks), each once."""
    found: dict[int, np.random.Generator] = {}
    for step in program.steps:
        for v in vars(step).values():
            if isinstance(v, np.random.Generator):
                found[id(v)] = v
    return list(found.values())


def bad_weight_name(p: "Param") -> str:
    """The name of the weight of ``p`` (for a fused neuron group: the neuron's) that holds NaN or inf."""
    if not p.parts:
        return p.name
    cols = ~np.isfinite(p.value).reshape(-1, p.value.shape[-1]).all(axis=0)
    bad = set(np.flatnonzero(cols).tolist())
    return next((name for name, col in p.parts if col in bad), p.parts[0][0])


# ------------------------------------------------------------------ trainer
def split_rows(n: int, config: TrainingConfig, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(training rows, validation rows) of an ``n``-row data set, as the trainer
    holds out ``config.validation_split`` of it with the network's ``seed``
    (the views show the same rows)."""
    frac = float(config.validation_split or 0.0)
    n_val = int(round(n * frac)) if frac > 0 else 0
    if n_val <= 0:
        return np.arange(n), np.arange(0)
    rng = np.random.default_rng([int(seed) & 0xFFFFFFFF, 11])
    idx = rng.permutation(n) if config.shuffle else np.arange(n)
    return idx[: n - n_val], idx[n - n_val:]


class Trainer:
    def __init__(self, network: "Network", X: np.ndarray, Y: np.ndarray, config: TrainingConfig,
                 X_val: np.ndarray | None = None, Y_val: np.ndarray | None = None):
        self.network = network
        self.config = config
        config.check()
        self.program = network.program
        dtype = self.program.dtype
        X, Y = network._check_data(X, Y)
        if X_val is None and config.validation_split > 0:
            tr, val = split_rows(len(X), config, network.seed)
            X, Y, X_val, Y_val = X[tr], Y[tr], X[val], Y[val]
        elif X_val is not None:
            X_val, Y_val = network._check_data(X_val, Y_val)
        if len(X) == 0:
            raise TrainingError("there is no training data left after the validation split")
        self.X, self.Y = X.astype(dtype, copy=False), Y.astype(dtype, copy=False)
        self.X_val = None if X_val is None or len(X_val) == 0 else X_val.astype(dtype, copy=False)
        self.Y_val = None if self.X_val is None else Y_val.astype(dtype, copy=False)
        self.task = task_of(self.program, self.Y, config.rule)
        if config.rule == "backprop":
            check_differentiable(self.program, network.graph)
            self.optimizer = make_optimizer(config.optimizer, [p.value for p in self.program.params],
                                            config.learning_rate, clipnorm=config.clipnorm,
                                            names=[p.name for p in self.program.params],
                                            **config.optimizer_params)
            #: whether the run continues from ``network.optimizer_state`` (else it starts afresh)
            self.resumed_state = self._resume(getattr(network, "optimizer_state", None))
        elif config.rule == "fixed":
            self.optimizer = None
            self._rule_step = lambda xb, yb, lr: None
        else:
            self.optimizer = None
            self._rule_step = _rule_layer(self.program, network, config.rule)
        #: what a batch may change: the weights (none under "fixed") and the layers' own state
        changed = self.program.state if config.rule == "fixed" else self.program.all_params
        self.guard = StepGuard(changed, self.optimizer, generators_of(self.program))
        spec = dict(config.schedule or {})
        if spec.get("kind") == "cosine":
            spec.setdefault("epochs", config.epochs)
        self.schedule = make_schedule(spec or None)
        self.step_count = 0
        self.epoch = len(network.history)
        #: set by a monitor: the next backward records the gradient norm per node in ``grad_norms``
        self.want_grad_norms = False
        self.grad_norms: dict[str, float] = {}
        self._cond = threading.Condition()
        self._stop = False
        self._paused = False
        self._budget = 0

    def _resume(self, state: dict[str, Any] | None) -> bool:
        """Continue from a saved optimizer state when it is one of this optimizer
        (same name) and fits these weights; otherwise start afresh (the state of
        another optimizer, or of weights whose shapes changed, is of no use)."""
        opt = self.optimizer
        if not state or not opt.state_matches(state):
            return False
        try:
            opt.load_state_dict(state)
        except TrainingError:
            opt.reset()
            return False
        return True

    def _finished(self, ev: Finished, keep_state: bool = True) -> Finished:
        """The last event, with the optimizer's state (also kept as ``network.optimizer_state``);
        after a divergence, the state of before the bad batch (which the weights are back to)."""
        if ev.reason == "nan":
            state = getattr(self, "_state_before_bad", None)
        else:
            state = self.optimizer.state_dict() if keep_state and self.optimizer is not None else None
        ev.optimizer_state = state
        self.network.optimizer_state = state
        return ev

    # ------------------------------------------------------ control
    def stop(self) -> None:
        with self._cond:
            self._stop = True
            self._cond.notify_all()

    def pause(self) -> None:
        with self._cond:
            self._paused = True

    def resume(self) -> None:
        with self._cond:
            self._paused = False
            self._cond.notify_all()

    def step(self, n: int = 1) -> None:
        """While paused, let ``n`` more batches run."""
        with self._cond:
            self._budget += n
            self._cond.notify_all()

    @property
    def paused(self) -> bool:
        return self._paused

    def _gate(self) -> bool:
        """Wait while paused; False when stopping."""
        with self._cond:
            while self._paused and not self._stop and self._budget == 0:
                self._cond.wait(0.1)
            if self._paused and self._budget > 0:
                self._budget -= 1
            return not self._stop

    # --------------------------------------------------------- loop
    def run(self) -> Iterator[BatchEnd | EpochEnd | Finished]:
        cfg = self.config
        prog = self.program
        net = self.network
        n = len(self.X)
        bs = min(cfg.batch_size, n)
        batches = math.ceil(n / bs)
        xbuf = np.empty((bs,) + self.X.shape[1:], self.X.dtype)
        ybuf = np.empty((bs,) + self.Y.shape[1:], self.Y.dtype)
        best = math.inf
        best_weights = None
        wait = 0
        first_epoch = self.epoch
        guard = self.guard
        seen_version = None  # a checkpoint at the first batch
        #: the good batches since the last checkpoint, (order, batch, learning rate): what a replay redoes
        log: list[tuple[np.ndarray | None, int, float]] = []

        def batch(order, b):
            sl = slice(b * bs, min(n, (b + 1) * bs))
            if order is None:
                return self.X[sl], self.Y[sl]
            # gather the shuffled batch into reused buffers (no allocation per batch)
            idx = order[sl]
            k = len(idx)
            return np.take(self.X, idx, axis=0, out=xbuf[:k]), np.take(self.Y, idx, axis=0, out=ybuf[:k])

        for e in range(first_epoch, first_epoch + cfg.epochs):
            self.epoch = e
            t0 = time.perf_counter()
            lr = self.schedule.lr_at(e - first_epoch, cfg.learning_rate)
            order = (np.random.default_rng([net.seed & 0xFFFFFFFF, e]).permutation(n)
                     if cfg.shuffle else None)
            loss_sum = 0.0
            correct = 0
            preds = []
            seen = 0
            for b in range(batches):
                if not self._gate():
                    self._restore_or_keep(None)
                    yield self._finished(Finished("stopped", f"stopped at epoch {e + 1}, batch {b + 1}"))
                    return
                if len(log) >= guard.EVERY or net._weights_version != seen_version:
                    guard.checkpoint()  # also when the weights were set from outside since the last batch
                    seen_version = net._weights_version
                    log.clear()
                xb, yb = batch(order, b)
                out, loss, bad = self._batch(xb, yb, lr)
                if loss is None:  # the forward pass: its loss is NaN or inf, and nothing was updated
                    nid = prog.first_nonfinite()
                    what = "output"
                    if nid is None:  # values finite, but the loss overflowed
                        nid, what = prog.outputs[0].node_id, "loss"
                    yield self._finished(self._diverged(e, b, lr, f"the {what} of {net.describe_node(nid)}", nid,
                                                        None, log, batch))
                    return
                if bad is not None:
                    name = bad_weight_name(bad)
                    nid = name.split("/")[0]
                    kind = "weight" if bad.trainable else "state"
                    yield self._finished(self._diverged(e, b, lr, f"the {kind} '{name}' of {net.describe_node(nid)}",
                                                        nid, name, log, batch))
                    return
                log.append((order, b, lr))
                self.step_count += 1
                k = len(xb)
                loss_sum += loss * k
                seen += k
                if self.task == "classification":
                    correct += correct_count(out, yb)
                else:
                    preds.append((out.copy(), yb.copy()))
                yield BatchEnd(e, b, batches, self.step_count, loss, k)
            metrics = {"loss": loss_sum / seen}
            if self.task == "classification":
                metrics["accuracy"] = correct / seen
            else:
                metrics.update(regression_metrics(np.concatenate([p for p, _ in preds]),
                                                  np.concatenate([y for _, y in preds])))
            if self.X_val is not None:
                metrics.update({"val_" + k: v for k, v in net._evaluate_arrays(self.X_val, self.Y_val,
                                                                               self.task).items()})
            metrics["lr"] = lr
            net.history.append(metrics)
            prog.clear()
            yield EpochEnd(e, metrics, time.perf_counter() - t0)
            if cfg.early_stopping:
                monitor = metrics.get("val_loss", metrics["loss"])
                if monitor < best - cfg.min_delta:
                    best, wait = monitor, 0
                    best_weights = [p.value.copy() for p in prog.all_params] if cfg.restore_best_weights else None
                else:
                    wait += 1
                    if wait >= cfg.patience:
                        self._restore_or_keep(best_weights)
                        yield self._finished(Finished(
                            "early_stopping", f"early stopping after epoch {e + 1}: no improvement for {wait} epochs"),
                            keep_state=best_weights is None)
                        return
        yield self._finished(Finished("completed", f"trained {cfg.epochs} epochs"))

    def _batch(self, xb: np.ndarray, yb: np.ndarray, lr: float,
               replay: bool = False) -> "tuple[np.ndarray, float | None, Param | None]":
        """One batch: forward, backward and the optimizer's step (or the rule's update), then the
        guard's check, all in one errstate (huge values overflow on purpose: the checks catch them).
        Returns (output, loss with its regularization term, the array the check found NaN or inf in or
        None); the loss is None when the forward pass's was not finite, and then nothing was updated.
        ``replay``: a good batch done again (no check, no gradient norms)."""
        prog = self.program
        with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
            out = prog.forward([xb], training=True)[0]
            loss = prog.loss([yb])
            if not math.isfinite(loss):
                return out, None, None
            if self.config.rule != "backprop":
                self._rule_step(xb, yb, lr)
            else:
                loss += self._regularize()
                prog.backward([yb])
                self._apply_regularization_grads()
                if self.want_grad_norms and not replay:
                    self.want_grad_norms = False
                    self.grad_norms = self._grad_norms()
                self.optimizer.step([p.grad for p in prog.params], lr=lr)
            return out, loss, None if replay else self.guard.check()

    def _diverged(self, e: int, b: int, lr: float, where: str, nid: str, weight: str | None,
                  log, batch) -> Finished:
        """Put back the weights and state of before batch ``b`` (the last checkpoint, then the
        good batches since it again, ``log``) and describe what went wrong."""
        self.guard.restore()
        for order, rb, rlr in log:
            self._batch(*batch(order, rb), rlr, replay=True)
        exact = not log or self.guard.matches()
        if self.optimizer is not None:
            #: the state that belongs to the weights of before the bad batch: the one to continue from
            self._state_before_bad = self.optimizer.state_dict()
            self.optimizer.reset()
        self.program.clear()
        back = ("the weights are back to where they were before that batch" if exact else
                "the weights are back to before that batch, recomputed (they may differ in the last digits)")
        msg = (f"training stopped at epoch {e + 1}, batch {b + 1}: {where} became NaN or infinite "
               f"(try a smaller learning rate, or reset the weights); {back}")
        return Finished("nan", msg, nid, epoch=e, batch=b, weight=weight, learning_rate=float(lr))

    def _restore_or_keep(self, weights) -> None:
        if weights is not None:
            for p, v in zip(self.program.all_params, weights):
                p.value[...] = v
        self.program.clear()

    def _grad_norms(self) -> dict[str, float]:
        sq: dict[str, float] = {}
        for p in self.program.params:
            if p.parts:  # fused neurons: one norm per neuron
                for name, col in p.parts:
                    nid = name.split("/")[0]
                    sq[nid] = sq.get(nid, 0.0) + float(np.sum(p.grad[..., col].astype(np.float64) ** 2))
            else:
                nid = p.name.split("/")[0]
                sq[nid] = sq.get(nid, 0.0) + float(np.sum(p.grad.astype(np.float64) ** 2))
        return {k: math.sqrt(v) for k, v in sq.items()}

    def _regularize(self) -> float:
        cfg = self.config
        if not (cfg.l1 or cfg.l2):
            return 0.0
        total = 0.0
        for p in self.program.params:
            if p.regularize:
                if cfg.l2:
                    total += cfg.l2 * float(np.sum(p.value * p.value))
                if cfg.l1:
                    total += cfg.l1 * float(np.sum(np.abs(p.value)))
        return total

    def _apply_regularization_grads(self) -> None:
        cfg = self.config
        if not (cfg.l1 or cfg.l2):
            return
        for p in self.program.params:
            if p.regularize:
                if cfg.l2:
                    p.grad += p.value * p.value.dtype.type(2 * cfg.l2)
                if cfg.l1:
                    p.grad += np.sign(p.value) * p.value.dtype.type(cfg.l1)


def _rule_layer(program: Program, network: "Network", rule: str):
    """The update function of a classic learning rule on a single-layer network."""
    weighted = [s for s in program.steps if s.params]
    if len(weighted) != 1 or not isinstance(weighted[0], DenseStep):
        raise TrainingError(f"the {rule} rule trains a single layer of weights; this network has "
                            f"{len(weighted)} weighted layers")
    step = weighted[0]
    if any(program.needs_grad[s.buf] for v in step.ins for s in v):
        raise TrainingError(f"the {rule} rule needs the weighted layer to read the inputs directly")
    if len(program.outputs) != 1:
        raise TrainingError(f"the {rule} rule needs exactly one Output")
    if rule == "perceptron" and step.activation not in ("step", "sign"):
        nid = step.node_ids[0]
        raise TrainingError(f"the perceptron rule needs a step or sign activation on "
                            f"{network.describe_node(nid)}, not {step.activation}", node_id=nid)
    out = program.outputs[0]

    def update(xb: np.ndarray, yb: np.ndarray, lr: float) -> None:
        x = step.x
        if rule == "perceptron":
            err = yb - program.gather(out.value)  # Rosenblatt: Δw = η (t − y) x
        else:
            err = yb  # Hebb: Δw = η t x
        dt = step.W.value.dtype.type(lr)
        step.W.value += dt * (x.T @ err)
        if step.b is not None:
            step.b.value += dt * err.sum(axis=0)

    return update

