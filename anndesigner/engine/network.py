"""``Network``: a graph with its weights, training settings, data reference and
history. The scripting API, the CLI and the GUI all go through it.

The graph is the truth about structure. The compiled :class:`Program` is a
cache rebuilt when ``graph.revision`` changes; weights carry over by name and
shape, and new weights are initialized from the seed.
"""

from __future__ import annotations

import copy
import json
import math
from typing import Any, Mapping

import numpy as np

from ..errors import AnnError, DataError, GraphError, TrainingError
from ..graph import Graph, Signal
from .compiler import Program, compile_graph
from .datafit import CLASSIFICATION_LOSSES, check_arrays
from .trainer import EpochEnd, Finished, History, Trainer, TrainingConfig, correct_count, regression_metrics, task_of


class Network:
    """A trainable network built from a :class:`~anndesigner.graph.Graph`.

    >>> net = Network(graph, seed=0)
    >>> net.fit(X, Y, epochs=200, optimizer="adam", learning_rate=0.05)
    """

    def __init__(self, graph: Graph, seed: int = 0, *, dtype: Any = "float32",
                 weights: Mapping[str, np.ndarray] | None = None,
                 training: TrainingConfig | Mapping[str, Any] | None = None,
                 data: Mapping[str, Any] | None = None, history: History | None = None, strict: bool = True):
        if not isinstance(seed, int) or isinstance(seed, bool):
            raise TrainingError(f"the seed must be a whole number, not {seed!r}")
        self.graph = graph
        self.seed = seed
        self.dtype = np.dtype(dtype)
        if self.dtype not in (np.float32, np.float64):
            raise TrainingError(f"dtype must be float32 or float64, not {self.dtype}")
        self.training = training if isinstance(training, TrainingConfig) else TrainingConfig.from_dict(training)
        #: JSON-native reference to the data set (see anndesigner.data.load_source)
        self.data_source: dict[str, Any] | None = dict(data) if data else None
        self.history = history or History()
        #: weights not in the compiled program, by name and then by shape, so that
        #: undoing an edit that changed a weight's shape brings the old values back
        self._stash: dict[str, dict[tuple[int, ...], np.ndarray]] = {}
        self._stash_update(weights or {})
        self._program: Program | None = None
        #: (source key, scaler, classes) of :meth:`_data_info`
        self._data_info_cache: tuple | None = None
        #: the optimizer's state of the last run (:meth:`Optimizer.state_dict
        #: <anndesigner.engine.optimizers.Optimizer.state_dict>`, keyed by weight name), from which
        #: the next run continues; None: start afresh. Cleared by :meth:`reset_weights` and when an
        #: edit changes the weights' shapes so that it no longer fits.
        self.optimizer_state: dict[str, Any] | None = None
        #: the guided tour its file holds (an immutable ``anndesigner.io.tour.Tour``), or None;
        #: data only, saved and read by the io layer
        self.tour: Any = None
        #: counts set_weights calls: a running Trainer takes the weights afresh as
        #: the last good ones when it changed between two batches
        self._weights_version = 0
        #: emitted (no arguments) when weights are replaced from outside training
        self.weights_changed = Signal()
        #: emitted when training settings, the data-set reference or the history are replaced
        self.training_changed = Signal()
        self.data_changed = Signal()
        self.history_changed = Signal()
        if strict:
            self.program  # compile now: errors surface at construction

    # ------------------------------------------------------- program
    @property
    def program(self) -> Program:
        """The compiled program for the current graph (recompiled after edits)."""
        p = self._program
        if p is not None and p.graph_revision == self.graph.revision:
            return p
        if p is not None:
            self._stash_update(p.get_weights())
        self._program = compile_graph(self.graph, seed=self.seed, dtype=self.dtype, weights=self._stash)
        if self.optimizer_state is not None and not optimizer_state_fits(self.optimizer_state, self._program):
            self.optimizer_state = None
        return self._program

    @property
    def compiles(self) -> bool:
        """True when the graph is valid and runnable."""
        try:
            self.program
        except GraphError:
            return False
        return True

    def weights_for_saving(self) -> dict[str, np.ndarray]:
        """Every weight of the current nodes, also while the graph is invalid
        (then the last known values are kept, so no work is lost).

        Raises :class:`TrainingError` (with ``node_id``) naming the first weight
        that holds NaN or inf: such a file could not be opened again, so it is
        never written (training never leaves such weights; see :meth:`fit`)."""
        if self.compiles:
            weights = self.get_weights()
        else:
            if self._program is not None:
                self._stash_update(self._program.get_weights())
                self._program = None
            nodes = self.graph.nodes
            weights = {k: np.array(next(reversed(v.values()))) for k, v in self._stash.items()
                       if v and k.split("/")[0] in nodes}
        for name, value in weights.items():
            self._refuse_nonfinite(name, value, "cannot be saved")
        return weights

    def _refuse_nonfinite(self, name: str, value: np.ndarray, what: str) -> None:
        if value.dtype.kind in "fc" and not np.isfinite(value).all():
            nid = name.split("/")[0]
            raise TrainingError(f"weight '{name}' of {self.describe_node(nid)} holds NaN or infinite values and "
                                f"{what}; reset the weights, or train again with a smaller learning rate",
                                node_id=nid)

    def _stash_update(self, weights: Mapping[str, np.ndarray]) -> None:
        for k, v in weights.items():
            v = np.asarray(v)
            d = self._stash.setdefault(k, {})
            d.pop(v.shape, None)
            d[v.shape] = v  # the latest value of a name is last

    def set_training(self, config: TrainingConfig | Mapping[str, Any]) -> None:
        """Replace the training settings (validated)."""
        self.training = config if isinstance(config, TrainingConfig) else TrainingConfig.from_dict(dict(config))
        self.training_changed.emit()

    def set_data_source(self, source: Mapping[str, Any] | None) -> None:
        self.data_source = dict(source) if source else None
        self.data_changed.emit()

    def set_history(self, history: History) -> None:
        self.history = history
        self.history_changed.emit()

    def stage_weights(self, weights: Mapping[str, np.ndarray]) -> None:
        """Give weights by name for the next compile (works while the graph is
        invalid; names of nodes that do not exist yet are kept for later)."""
        if not weights:
            return
        if self._program is not None:
            self._stash_update(self._program.get_weights())
            self._program = None
        self._stash_update({k: np.array(v) for k, v in weights.items()})
        self.weights_changed.emit()

    def snapshot(self) -> "Network":
        """An independent copy (graph, weights, settings, history), e.g. for a view that
        evaluates it with weights of its own. It shares this revision's compile: the
        copy's program is a copy of this one's, so nothing is analysed or compiled again.
        Raises :class:`GraphError` when the graph does not compile."""
        program = copy.deepcopy(self.program)
        program.clear()
        graph = self.graph.copy()
        program.graph_revision = graph.revision
        net = Network(graph, self.seed, dtype=self.dtype, training=self.training.to_dict(), data=self.data_source,
                      history=History.from_dict(self.history.to_dict()), strict=False)
        net._program = program
        net.optimizer_state = copy_optimizer_state(self.optimizer_state)
        net.tour = self.tour
        return net

    def describe_node(self, node_id: str | None) -> str:
        if node_id is None or node_id not in self.graph.nodes:
            return f"node '{node_id}'"
        return f"{self.graph.node_type(node_id).title} '{node_id}'"

    # ------------------------------------------------------- weights
    def get_weights(self) -> dict[str, np.ndarray]:
        """Copies of every weight: ``{"<node id>/kernel": array, "<node id>/bias": array}``."""
        return self.program.get_weights()

    def set_weights(self, weights: Mapping[str, np.ndarray], *, strict: bool = True) -> None:
        """Set weights by name. ``strict``: every name must exist and every shape match.
        Values with NaN or inf are refused (:class:`TrainingError`); nothing is set then."""
        prog = self.program
        known = set(prog.weight_names())
        if strict:
            unknown = set(weights) - known
            if unknown:
                raise GraphError(f"no such weight(s): {', '.join(sorted(unknown))}")
        for name, value in weights.items():
            if name not in known:
                continue
            value = np.asarray(value)
            shape = prog.weight_shape(name)
            if value.shape != shape:
                raise GraphError(f"weight '{name}' has shape {value.shape}; the network needs {shape}",
                                 node_id=name.split("/")[0])
            self._refuse_nonfinite(name, value, "cannot be used")
        for name, value in weights.items():
            if name in known:
                prog.set_weight(name, np.asarray(value))
        self._weights_version += 1
        self.weights_changed.emit()

    def reset_weights(self, seed: int | None = None) -> None:
        """Re-initialize every weight from ``seed`` (default: the network's seed)."""
        if seed is not None:
            self.seed = seed
        self._stash = {}
        self._program = None
        self.optimizer_state = None
        self.weights_changed.emit()

    def count_params(self) -> int:
        return self.graph.analyze().total_params

    # ---------------------------------------------------------- data
    def _check_data(self, X: Any, Y: Any = None) -> tuple[np.ndarray, np.ndarray | None]:
        """``(X, Y)`` as the program takes them (:func:`~.datafit.check_arrays`), or DataError."""
        return check_arrays(self.program, X, Y, self.describe_node)

    # ---------------------------------------------------- inference
    def explain(self, x: Any, y: Any = None, **options: Any):
        """The trace of one training step on one sample ``x`` (target ``y``: without it,
        the forward pass only), computed on a copy: see :func:`anndesigner.engine.tracing.explain`
        for the options and what the trace holds. This network is not changed."""
        from .tracing import explain

        return explain(self, x, y, **options)

    def health(self, data: Any = None, history: Any = None) -> list:
        """Health warnings for the last run (dead ReLUs, saturation, vanishing or exploding
        gradients, learning rate, overfitting, unscaled inputs): a list of
        :class:`~anndesigner.engine.health.Finding`, computed on a copy (see
        :func:`anndesigner.engine.health.health` for the rules and ``data``/``history``)."""
        from .health import health

        return health(self, data, history)

    # ------------------------------------------------ raw rows and class names
    def _data_info(self) -> tuple[Any, list[str] | None]:
        """``(scaler, classes)`` of the data set the network names (cached by source): the
        :class:`~anndesigner.data.Standardizer` its inputs are scaled with (None: not
        standardized) and its class names (None: regression or unknown)."""
        src = self.data_source
        key = json.dumps(src, sort_keys=True, default=str) if src else None
        cached = self._data_info_cache
        if cached is not None and cached[0] == key:
            return cached[1], cached[2]
        scaler = classes = None
        if src:
            from ..data import Standardizer, load_source

            csv = src.get("kind") == "csv"
            saved = src.get("scaler") if csv else None
            wants = bool(src.get("standardize", csv))
            if csv and (saved is not None or not wants) and (src.get("classes") or src.get("task") == "regression"):
                scaler = Standardizer.from_dict(saved) if wants and saved is not None else None
                classes = None if src.get("task") == "regression" else list(src["classes"])
            else:  # a built-in data set (regenerated; its scaler is fitted on it), or an incomplete CSV source
                try:
                    ds = load_source(src)
                except (AnnError, OSError) as e:
                    if not wants:
                        ds = None
                    else:
                        raise DataError(f"the network's data set, whose standardization its inputs need, cannot "
                                        f"be loaded: {e}; pass standardized=True for rows already standardized") \
                            from None
                if ds is not None:
                    scaler = ds.scaler
                    classes = list(ds.classes) if ds.task == "classification" and ds.classes else None
        self._data_info_cache = (key, scaler, classes)
        return scaler, classes

    @property
    def scaler(self):
        """The :class:`~anndesigner.data.Standardizer` (mean and standard deviation per input
        column) that the network's data set applies to its inputs, or None when the inputs
        are fed as they are. It comes from the data source: a CSV source saves the fitted
        statistics; a built-in data set is regenerated and fitted as when it was trained."""
        return self._data_info()[0]

    @property
    def classes(self) -> list[str] | None:
        """The class names of the network's data set in output order (for one 0/1 output:
        ``[name of 0, name of 1]``), or None for regression or a network without data set."""
        return self._data_info()[1]

    def _inputs(self, X: Any, standardized: bool, Y: Any = None) -> tuple[np.ndarray, np.ndarray | None]:
        """``(X, Y)`` checked, with the data set's standardization applied to raw rows ``X``
        (unless ``standardized``), in the network's dtype."""
        X, Y = self._check_data(X, Y)
        scaler = None if standardized else self.scaler
        if scaler is not None:
            flat = X.reshape(len(X), -1)
            if flat.shape[1] != scaler.n_features:
                raise DataError(f"the rows have {flat.shape[1]} values but the network's standardization has "
                                f"{scaler.n_features} columns")
            X = scaler.transform(flat).reshape(X.shape)
        X = X.astype(self.dtype, copy=False)
        return X, (None if Y is None else Y.astype(self.dtype, copy=False))

    # ---------------------------------------------------- inference
    def predict(self, X: Any, batch_size: int = 4096, *, standardized: bool = False) -> np.ndarray:
        """Outputs for input rows ``X`` (prediction mode: no dropout): class probabilities
        for a classifier (see :meth:`predict_classes` for the class names), values for a
        regression.

        ``X`` holds **raw rows**, as in the data set's file: when the network's data set
        standardizes its inputs (:attr:`scaler`), the same standardization is applied
        first. ``standardized=True`` says the rows are already standardized (as a loaded
        :class:`~anndesigner.data.Dataset`'s ``X`` is) and feeds them as they are. A
        network without standardization is fed ``X`` either way."""
        X, _ = self._inputs(X, standardized)
        prog = self.program
        outs = []
        for i in range(0, max(len(X), 1), batch_size):
            outs.append(prog.forward([X[i:i + batch_size]], training=False, keep=False)[0].copy())
        prog.clear()
        return np.concatenate(outs) if len(outs) > 1 else outs[0]

    def predict_classes(self, X: Any, *, standardized: bool = False) -> np.ndarray:
        """The predicted class of every row of ``X`` (raw rows; ``standardized`` as in
        :meth:`predict`), as scikit-learn's ``predict`` gives it: an array of class names
        when the data set names its classes (:attr:`classes`), else of class indices
        (0, 1, ...). One output is read as class 1 from 0.5 up (from 0 up for an output
        whose values are -1 or 1: tanh or sign); several outputs by the largest."""
        P = self.predict(X, standardized=standardized)
        P = P.reshape(len(P), -1)
        outs = self.program.outputs
        if outs and outs[0].loss not in CLASSIFICATION_LOSSES and self.training.rule == "backprop" \
                and self.classes is None:
            raise DataError(f"{self.describe_node(outs[0].node_id)} is a regression output "
                            f"(loss {outs[0].loss}); it predicts values, not classes: use predict()")
        if P.shape[1] == 1:
            bipolar = outs and outs[0].activation in ("tanh", "sign")
            codes = (P[:, 0] >= (0.0 if bipolar else 0.5)).astype(np.int64)
        else:
            codes = P.argmax(axis=1)
        names = self.classes
        if names is not None and len(names) == max(P.shape[1], 2):
            return np.array(names)[codes]
        return codes

    def forward_all(self, X: Any, *, standardized: bool = False) -> dict[str, np.ndarray]:
        """Every node's output for rows ``X`` (used to show activations); raw rows are
        standardized as in :meth:`predict` unless ``standardized``."""
        X, _ = self._inputs(X, standardized)
        prog = self.program
        prog.forward([X], training=False)
        out = {nid: prog.node_output(nid).copy() for nid in prog.node_values}
        prog.clear()
        return out

    def _evaluate_arrays(self, X: np.ndarray, Y: np.ndarray, task: str) -> dict[str, float]:
        prog = self.program
        loss_sum = 0.0
        correct = 0
        preds = []
        for i in range(0, len(X), 4096):
            xb, yb = X[i:i + 4096], Y[i:i + 4096]
            p = prog.forward([xb], training=False)[0]
            loss_sum += prog.loss([yb]) * len(xb)
            if task == "classification":
                correct += correct_count(p, yb)
            else:
                preds.append(p.copy())
        prog.clear()
        m = {"loss": loss_sum / len(X)}
        if task == "classification":
            m["accuracy"] = correct / len(X)
        else:
            m.update(regression_metrics(np.concatenate(preds), Y))
        return m

    def _encode_labels(self, Y: Any) -> Any:
        """Class names ``Y`` (strings) as the targets the network is trained on."""
        arr = np.asarray(Y)
        if arr.dtype.kind not in "USO":
            return Y
        names = self.classes
        if names is None:
            raise DataError("the targets are class names but the network's data set names no classes")
        arr = arr.reshape(-1).astype(str)
        index = {c: i for i, c in enumerate(names)}
        for r, v in enumerate(arr):
            if v not in index:
                raise DataError(f"row {r + 1}: '{v}' is not one of the classes ({', '.join(names)})", line=r + 1)
        codes = np.array([index[v] for v in arr], dtype=np.int64)
        units = self.program.outputs[0].units if self.program.outputs else len(names)
        if units == 1 and len(names) == 2:
            return codes[:, None].astype(np.float32)
        return np.eye(len(names), dtype=np.float32)[codes]

    def evaluate(self, X: Any, Y: Any, *, standardized: bool = False) -> dict[str, float]:
        """Loss and metrics (accuracy, or R² and MAE) on rows ``X`` with targets ``Y``.

        ``X`` holds raw rows, standardized first as in :meth:`predict` unless
        ``standardized=True``. ``Y`` is the targets as the network is trained on them
        (0/1 or one-hot columns, or values), or an array of class names (see :attr:`classes`)."""
        X, Y = self._inputs(X, standardized, self._encode_labels(Y))
        return self._evaluate_arrays(X, Y, task_of(self.program, Y, self.training.rule))

    # ------------------------------------------------------ training
    def trainer(self, X: Any, Y: Any, *, validation_data: tuple[Any, Any] | None = None, **settings: Any) -> Trainer:
        """A :class:`Trainer` for stepwise or threaded training; ``settings`` override saved ones."""
        if settings:
            self.training = self.training.replace(**settings)
        xv, yv = validation_data if validation_data is not None else (None, None)
        return Trainer(self, X, Y, self.training, xv, yv)

    def fit(self, X: Any, Y: Any, *, validation_data: tuple[Any, Any] | None = None, verbose: bool = False,
            callback=None, **settings: Any) -> History:
        """Train; returns (and keeps in ``self.history``) the per-epoch metrics.

        Settings (epochs, batch_size, optimizer, learning_rate, ...) are those of
        :class:`TrainingConfig`; the ones given here are saved with the network.

        Divergence is never reported as success: when the loss, an output, a
        weight or a layer's state becomes NaN or infinite (every batch is
        checked, the last one too), this raises :class:`TrainingError` whose
        message names the node, the epoch and the batch, with ``node_id`` set.
        The weights are then those from before the bad batch (the last finite
        ones, exactly), and ``self.history`` keeps the epochs completed before
        it. ``callback`` receives the events first, the final
        ``Finished(reason="nan", ...)`` too (its fields: see :class:`Finished`).
        """
        tr = self.trainer(X, Y, validation_data=validation_data, **settings)
        for ev in tr.run():
            if callback is not None:
                callback(ev)
            if isinstance(ev, EpochEnd) and verbose:
                print(format_metrics(ev.epoch + 1, ev.metrics))
            if isinstance(ev, Finished) and ev.reason == "nan":
                raise TrainingError(ev.message, node_id=ev.node_id)
        return self.history

    # --------------------------------------------------------- files
    def save(self, path) -> None:
        """Write a ``.ann`` file (:func:`anndesigner.io.save_network`)."""
        _file_format().save(self, path)

    @classmethod
    def load(cls, path) -> "Network":
        """Open a ``.ann`` file (:func:`anndesigner.io.load_network`)."""
        return _file_format().load(path)

    def summary(self) -> str:
        rows = self.graph.summary_rows()
        head = ("Node", "Type", "Output shape", "Params")
        table = [head] + [(a, b, c, f"{d:,}") for a, b, c, d in rows]
        widths = [max(len(r[i]) for r in table) for i in range(4)]
        lines = ["  ".join(c.ljust(w) if i < 3 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths)))
                 for r in table]
        lines.insert(1, "  ".join("-" * w for w in widths))
        total = sum(r[3] for r in rows)
        lines.append(f"Total: {len(rows)} nodes, {len(self.graph.edges)} edges, {total:,} parameters")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"<Network {len(self.graph.nodes)} nodes, {self.count_params()} params, seed={self.seed}>"


def copy_optimizer_state(state: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """An independent copy of an optimizer state (its arrays copied)."""
    if state is None:
        return None
    return {k: v.copy() if isinstance(v, np.ndarray) else v for k, v in state.items()}


def optimizer_state_fits(state: Mapping[str, Any], program: Program) -> bool:
    """Whether every state array of ``state`` (``"state.<slot>.<weight name or index>"``)
    has the shape of the program's trainable parameter it names."""
    params = program.params
    by_name = {p.name: p.value.shape for p in params}
    for key, value in state.items():
        if not (isinstance(key, str) and key.startswith("state.")):
            continue
        parts = key.split(".", 2)
        if len(parts) != 3:
            return False
        label = parts[2]
        shape = by_name.get(label)
        if shape is None and label.isdigit() and int(label) < len(params):
            shape = params[int(label)].value.shape
        if shape is None or np.shape(value) != shape:
            return False
    return True


class FileFormat:
    """How a network is written to and read from a file: ``save(net, path)``
    and ``load(path) -> Network``. The file format lives in
    :mod:`anndesigner.io`, above the engine, and installs itself here when it
    is imported (``import anndesigner`` imports it), so that ``net.save(path)``
    works while the engine never imports io."""

    def __init__(self, save, load):
        self.save = save
        self.load = load


_FILE_FORMAT: FileFormat | None = None


def use_file_format(fmt: FileFormat) -> None:
    """Make ``fmt`` the one :meth:`Network.save` and :meth:`Network.load` use."""
    global _FILE_FORMAT
    _FILE_FORMAT = fmt


def _file_format() -> FileFormat:
    if _FILE_FORMAT is None:  # only when the engine was imported without the package (impossible by import)
        raise RuntimeError("no file format is installed: import anndesigner.io")
    return _FILE_FORMAT


def format_metrics(epoch: int, metrics: Mapping[str, float]) -> str:
    parts = [f"epoch {epoch}"]
    for k, v in metrics.items():
        if k == "lr" or not isinstance(v, float) or math.isnan(v):
            continue
        parts.append(f"{k} {v:.4f}")
    return "  ".join(parts)
