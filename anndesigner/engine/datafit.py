"""Does the data fit the network? The one set of rules (and messages) behind the
data panel's warning and its Fix button, the canvas badges, the command line and
the engine's data errors (no Qt).

* :func:`check_fit` compares a data set (or its :class:`DataShape`) with the
  graph's Input and Output nodes and returns a :class:`FitReport`: one
  :class:`Mismatch` per node that does not fit, each with its :class:`Fix` (the
  parameters to set on that node, what they do and why), plus notes that need no
  fix. :func:`with_data_fix` applies a mismatch's other way out (a data source
  change) to a source.
* :func:`check_arrays` is the same check on the arrays a :class:`Network` is
  given (``fit``, ``predict``, ``evaluate``): it returns them in the shape the
  network takes or raises :class:`~anndesigner.errors.DataError` with the first
  mismatch, phrased for arrays ("the data has 3 target column(s) ...") and
  with the same fix (:func:`output_fix`).
* :func:`standardize_default` is whether a newly chosen built-in set is
  standardized, and :func:`affects_fit` which graph edits can change the report.

The rules:

* **Input**: its shape must hold as many values as the data has input columns.
  The fix takes the data's natural sample shape (an image or a sequence) when
  the Input already has several axes or the layers after it are made for that
  shape, else a flat vector.
* **Output, k > 2 classes** (one-hot target columns): k units, **softmax** and
  **categorical cross-entropy** -- softmax turns the k outputs into
  probabilities that add up to 1, one per class, and categorical cross-entropy
  is the loss made for it. (Sigmoid with binary cross-entropy would treat the
  classes as independent yes/no questions.)
* **Output, 2 classes** (one 0/1 target column): 1 unit with **sigmoid** and
  **binary cross-entropy** -- one probability, that of the second class. An
  Output of 2 softmax units does not fit one column; the other way out is
  one-hot targets (two columns), which :attr:`Mismatch.alternatives` names and
  :attr:`Mismatch.data_fix` gives as a data source change (``"one_hot": true``,
  see :meth:`~anndesigner.data.Dataset.one_hot`); with one-hot columns, 2
  softmax units with categorical cross-entropy fit as for more classes.
  A single unit with softmax (always 1) or categorical cross-entropy (which
  never learns the 0 rows) is a mismatch too.
* **Output, regression**: one unit per target column; a classification
  activation or loss (softmax, sigmoid with cross-entropy) becomes linear with
  mean squared error, since the targets are any numbers. With the right count,
  a single unit with softmax (always 1) or categorical cross-entropy is a
  mismatch too; other activations are left as they are.
* **Several Inputs** take the data's columns in order (a note when the counts
  agree, a note -- an error for arrays -- when they do not); **several Outputs**
  are a note (an error for arrays: the scripting API trains one Output).
"""

from __future__ import annotations

import copy
import functools
import math
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import numpy as np

from ..errors import AnnError, DataError, GraphError

CLASSIFICATION_LOSSES = ("binary_crossentropy", "categorical_crossentropy")
#: the Input and Output parameters the report reads (an edit of another changes nothing)
FIT_PARAMS = ("shape", "units", "activation", "loss")
#: values checked at a time by :func:`first_nonfinite` (a full-size mask of a large
#: data set would cost more in fresh memory than the check itself)
CHECK_CHUNK = 1 << 18


# ------------------------------------------------------------------ the data
@dataclass(frozen=True)
class DataShape:
    """What the fit check needs to know of a data set.

    ``n_outputs`` is the number of target columns; ``classes`` the class labels for
    classification (2 classes come as one 0/1 column, more as one-hot columns);
    ``input_shape`` the natural shape of a sample (None: flat)."""

    n_inputs: int
    n_outputs: int
    task: str = "regression"
    classes: tuple[str, ...] | None = None
    input_shape: tuple[int, ...] | None = None

    @classmethod
    def of(cls, ds: Any) -> "DataShape":
        """The shape of a :class:`~anndesigner.data.Dataset`."""
        classes = getattr(ds, "classes", None)
        shape = getattr(ds, "input_shape", None)
        return cls(int(ds.n_inputs), int(ds.n_outputs), str(ds.task),
                   None if classes is None else tuple(str(c) for c in classes),
                   None if shape is None else tuple(int(d) for d in shape))

    @classmethod
    def of_targets(cls, n_inputs: int, Y: np.ndarray) -> "DataShape":
        """What a target array says of the task: one column of 0/1 values is 2 classes,
        more than 2 columns of one-hot rows are that many classes, anything else
        (other numbers, NaN, 2 columns) a regression."""
        cols = int(Y.shape[-1]) if Y.ndim >= 1 else 0
        if Y.ndim == 2 and len(Y) and np.isfinite(Y).all() and np.isin(Y, (0, 1)).all():
            if cols == 1:
                return cls(n_inputs, 1, "classification", ("0", "1"))
            if cols > 2 and (Y.sum(axis=1) == 1).all():
                return cls(n_inputs, cols, "classification", tuple(str(i) for i in range(cols)))
        return cls(n_inputs, cols)

    @property
    def n_classes(self) -> int | None:
        return len(self.classes) if self.task == "classification" and self.classes else None


# --------------------------------------------------------------- the report
@dataclass(frozen=True)
class Fix:
    """Set ``params`` on node ``node_id``: ``text`` says what, ``why`` why."""

    node_id: str
    params: dict
    text: str
    why: str = ""


@dataclass(frozen=True)
class Mismatch:
    """A node that does not fit the data: ``message`` says how, ``fix`` repairs it
    (None when no parameter change can), ``alternatives`` are other ways out in words."""

    node_id: str
    message: str
    fix: Fix | None
    alternatives: tuple[str, ...] = ()
    #: the data source change that is the other way out (``{"one_hot": True}``), or None
    data_fix: dict | None = None


@dataclass
class FitReport:
    mismatches: list[Mismatch] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def messages(self) -> dict[str, str]:
        """``{node_id: message}`` (the canvas badges)."""
        return {m.node_id: m.message for m in self.mismatches}

    def fixes(self) -> list[Fix]:
        return [m.fix for m in self.mismatches if m.fix is not None]

    def __bool__(self) -> bool:
        return bool(self.mismatches)


# ------------------------------------------------------------------ helpers
def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"


def _fmt_shape(shape: Sequence[int]) -> str:
    return "(" + ", ".join(str(int(d)) for d in shape) + ")"


def _default_describe(graph) -> Callable[[str], str]:
    def describe(nid: str) -> str:
        try:
            return f"{graph.node_type(nid).title} '{nid}'"
        except (AnnError, KeyError, AttributeError):
            return f"node '{nid}'"
    return describe


def _takes_shape(graph, node, shape: tuple[int, ...]) -> bool:
    """Whether the layers right after ``node`` are made for samples of ``shape``: each
    is a Flatten, or takes ``shape`` but refuses a flat vector of the same size (a
    Conv2D, a recurrent layer, ...). A Dense layer takes both, so it does not count."""
    edges = graph.out_edges(node.id)
    if not edges:
        return False
    flat = (math.prod(shape),)
    for e in edges:
        dst = graph.nodes.get(e.dst)
        if dst is None:
            return False
        if dst.type_id == "Flatten":
            continue
        try:
            t = graph.registry.get(dst.type_id)
        except (AnnError, KeyError):
            return False

        def fits(s, t=t, dst=dst, port=e.dst_port) -> bool:
            try:
                t.infer(dst.params, {port: [tuple(s)]})
            except (GraphError, ValueError, TypeError, KeyError, IndexError):
                return False
            return True

        if not fits(shape) or fits(flat):
            return False
    return True


def input_shape_for(graph, node, data: DataShape) -> list[int]:
    """The Input shape that fits ``data``: its natural (image or sequence) shape when the
    Input already has several axes, or when the layers after a flat Input are made for
    that shape; else a flat vector of its input count."""
    natural = data.input_shape
    if natural and len(natural) > 1:
        if len(node.params.get("shape", [])) > 1:
            return [int(v) for v in natural]
        if _takes_shape(graph, node, tuple(int(v) for v in natural)):
            return [int(v) for v in natural]
    return [data.n_inputs]


# ------------------------------------------------------------ output rules
def output_fix(node_id: str, units: int, activation: str, loss: str, data: DataShape) -> tuple[Fix | None, str,
                                                                                            tuple[str, ...]]:
    """``(fix, problem, alternatives)`` for an Output with these settings and ``data``;
    ``fix`` is None (and ``problem`` empty) when it fits."""
    k = data.n_classes
    n = data.n_outputs
    if k is not None and (k > 2 or n == k):  # one-hot columns (two classes too, when asked for)
        if units == k:
            return None, "", ()  # sigmoid per class trains too; only a wrong unit count is an error
        return (Fix(node_id, {"units": k, "activation": "softmax", "loss": "categorical_crossentropy"},
                    f"{k} softmax units with categorical cross-entropy",
                    f"{k} classes: one unit per class; softmax makes the {k} outputs probabilities that add up "
                    "to 1, and categorical cross-entropy is the loss made for it (sigmoid with binary "
                    "cross-entropy would treat each class as a separate yes/no question)"),
                f"has {_plural(units, 'unit')} but the data has {k} outputs (one per class)", ())
    if k == 2:
        binary = Fix(node_id, {"units": 1, "activation": "sigmoid", "loss": "binary_crossentropy"},
                     "1 sigmoid unit with binary cross-entropy",
                     f"2 classes come as one 0/1 column: a single sigmoid unit gives the probability of "
                     f"'{data.classes[1]}', and binary cross-entropy is the loss made for it")
        if units == 1:
            if activation == "softmax":
                return binary, "uses softmax on 1 unit, which always outputs 1", ()
            if loss == "categorical_crossentropy":
                return binary, "uses categorical cross-entropy on 1 unit, which never learns the 0 rows", ()
            return None, "", ()
        alternatives = ("one-hot target columns (one per class) for softmax",) if units == 2 else ()
        return (binary, f"has {_plural(units, 'unit')} but the data has 1 output (2 classes as one 0/1 column)",
                alternatives)
    # regression (or classification without known classes): one unit per target column
    if units == n:
        if data.task == "regression" and units == 1 and (activation == "softmax" or loss == "categorical_crossentropy"):
            problem = ("uses softmax on 1 unit, which always outputs 1" if activation == "softmax"
                       else "uses categorical cross-entropy on 1 unit, which does not fit numbers to predict")
            return (Fix(node_id, {"activation": "linear", "loss": "mse"},
                        "a linear activation with mean squared error",
                        "the targets are numbers, so a linear output and mean squared error fit them"), problem, ())
        return None, "", ()
    params: dict = {"units": n}
    text = f"{_plural(n, 'unit')}"
    why = f"the data has {_plural(n, 'target column')}: one output unit each"
    if data.task == "regression" and (activation == "softmax" or loss in CLASSIFICATION_LOSSES):
        params.update(activation="linear", loss="mse")
        text += " with a linear activation and mean squared error"
        why += "; the targets are numbers, so a linear output and mean squared error fit them"
    extra = " (one per class)" if data.task == "classification" and n > 1 else ""
    return Fix(node_id, params, text, why), f"has {_plural(units, 'unit')} but the data has " \
                                            f"{_plural(n, 'output')}{extra}", ()


def target_mismatch_message(describe_output: str, units: int, activation: str, loss: str,
                            Y: np.ndarray | None = None) -> str:
    """The engine's message when the data's target columns do not match the Output's
    units, with the way out :func:`output_fix` gives (``Y`` is looked at to tell 0/1
    classes and one-hot rows, :meth:`DataShape.of_targets`)."""
    cols = int(Y.shape[-1]) if Y is not None and Y.ndim >= 1 else 0
    msg = f"the data has {cols} target column(s) but {describe_output} has {units} unit(s)"
    if Y is None or Y.ndim != 2 or len(Y) == 0:
        return msg
    data = DataShape.of_targets(0, Y)
    fix, _, alternatives = output_fix("", units, activation, loss, data)
    if fix is None:
        return msg
    if data.n_classes == 2:
        tip = "two classes come as one 0/1 column: use " + fix.text + "".join(f", or {a}" for a in alternatives)
    elif data.n_classes:
        tip = (f"{cols} one-hot class columns: use {fix.params['units']} units with softmax and categorical "
               "cross-entropy")
    else:
        tip = f"set the Output's units to {fix.params.get('units', cols)}"
    return f"{msg}; {tip}"


# --------------------------------------------------------------- the check
def check_fit(graph, data: DataShape | Any, describe: Callable[[str], str] | None = None) -> FitReport:
    """Compare ``data`` (a :class:`DataShape` or a data set) with ``graph``'s Input and
    Output nodes. ``describe(node_id)`` names a node in messages ("Input 'input_1'")."""
    if not isinstance(data, DataShape):
        data = DataShape.of(data)
    describe = describe or _default_describe(graph)
    report = FitReport()
    ins, outs = graph.inputs(), graph.outputs()
    if len(ins) == 1:
        node = ins[0]
        shape = list(node.params.get("shape", []))
        if math.prod(shape) != data.n_inputs:  # an image or sequence Input takes flat rows of its size
            takes = (f"takes {_plural(shape[0], 'value')}" if len(shape) == 1
                     else f"takes shape {_fmt_shape(shape)} ({_plural(math.prod(shape), 'value')})")
            new = input_shape_for(graph, node, data)
            report.mismatches.append(Mismatch(
                node.id, f"{describe(node.id)} {takes} but the data has {_plural(data.n_inputs, 'input')}",
                Fix(node.id, {"shape": new}, f"shape {_fmt_shape(new)}",
                    f"each sample has {_plural(data.n_inputs, 'value')}")))
    elif len(ins) > 1:
        total = sum(math.prod(n.params.get("shape", [1])) for n in ins)
        if total != data.n_inputs:
            report.notes.append(f"The network's {len(ins)} Input nodes take {_plural(total, 'value')} together "
                                f"but the data has {_plural(data.n_inputs, 'input')}.")
        else:
            report.notes.append(f"The data's {_plural(data.n_inputs, 'input column')} are dealt to the "
                                f"{len(ins)} Input nodes in the order they were added: "
                                + ", ".join(n.label or n.id for n in ins) + ".")
    if len(outs) == 1:
        node = outs[0]
        p = node.params
        fix, problem, alternatives = output_fix(node.id, int(p.get("units", 1)), str(p.get("activation", "")),
                                                str(p.get("loss", "")), data)
        if fix is not None:
            data_fix = {"one_hot": True} if alternatives else None
            report.mismatches.append(Mismatch(node.id, f"{describe(node.id)} {problem}", fix, alternatives,
                                              data_fix))
    elif len(outs) > 1:
        report.notes.append(f"The network has {len(outs)} Output nodes; the data has one set of targets.")
    return report


def with_data_fix(source: dict | None, data_fix: dict | None) -> dict | None:
    """``source`` with a mismatch's :attr:`~Mismatch.data_fix` applied (a copy), or None
    when there is nothing to change (no source, no data fix, or it is applied already)."""
    if not source or not data_fix or all(source.get(k) == v for k, v in data_fix.items()):
        return None
    return {**copy.deepcopy(source), **copy.deepcopy(data_fix)}


def affects_fit(graph, node, keys: Sequence[str] | None = None) -> bool:
    """Whether adding or removing ``node`` (``keys`` None), or changing its ``keys``,
    can change :func:`check_fit`'s report: only Input and Output nodes and their
    :data:`FIT_PARAMS` count."""
    try:
        role = graph.registry.get(node.type_id).role
    except (AnnError, KeyError):
        return False
    return role in ("input", "output") and (keys is None or any(k in FIT_PARAMS for k in keys))


# ------------------------------------------------------------ arrays (the engine)
def first_nonfinite(A: np.ndarray) -> tuple[int, int] | None:
    """(row, column) of the first NaN or inf in ``A`` (the column counts the
    values of one row flattened), or None. Integer and bool data are finite."""
    if A.dtype.kind not in "fc" or A.size == 0:
        return None
    rows = len(A)
    per_row = max(1, A.size // rows)
    step = max(1, CHECK_CHUNK // per_row)
    for i in range(0, rows, step):
        chunk = A[i:i + step]
        if not np.isfinite(chunk).all():
            flat = np.flatnonzero(~np.isfinite(chunk.reshape(len(chunk), -1)))[0]
            return i + int(flat // per_row), int(flat % per_row)
    return None


def check_arrays(program, X: Any, Y: Any = None,
                 describe: Callable[[str], str] | None = None) -> tuple[np.ndarray, np.ndarray | None]:
    """``(X, Y)`` as the compiled ``program`` takes them, or a
    :class:`~anndesigner.errors.DataError` naming the first thing that does not fit.

    ``program`` is an :class:`~anndesigner.engine.compiler.Program` (its ``inputs``
    ``(node id, buffer, shape)``, ``input_size`` and ``outputs`` with ``node_id``,
    ``units``, ``activation`` and ``loss``); ``Y`` None checks the inputs only.
    Flat rows feed an image or sequence Input of their size; with several Inputs each
    row's columns are dealt out to them in order. NaN or inf in the data is an error
    with its row and column."""
    describe = describe or (lambda nid: f"node '{nid}'")
    if len(program.outputs) != 1:
        raise DataError("this network has several Output nodes; the scripting API trains "
                        "networks with one Output")
    if not program.inputs:
        raise DataError("this network has no Input node")
    X = np.asarray(X)
    if X.dtype.kind not in "fiub":
        raise DataError(f"input data must be numbers, not {X.dtype}")
    if len(program.inputs) > 1:
        if X.ndim == 1:
            X = X[:, None]
        X = X.reshape(len(X), -1) if X.ndim > 2 else X
        if X.shape[1] != program.input_size:
            names = ", ".join(f"{nid} {tuple(shape)}" for nid, _, shape in program.inputs)
            raise DataError(f"the data has {X.shape[1]} input column(s) but the network's Inputs "
                            f"({names}) take {program.input_size} values together")
    else:
        nid, _, shape = program.inputs[0]
        if X.ndim == 1 and len(shape) == 1 and shape[0] == 1:
            X = X[:, None]
        if X.shape[1:] != tuple(shape) and X.ndim >= 2 and math.prod(X.shape[1:]) == math.prod(shape):
            X = X.reshape((len(X),) + tuple(shape))  # flat rows feed an image or sequence Input
        if X.shape[1:] != tuple(shape):
            raise DataError(f"the data has inputs of shape {X.shape[1:]} ({math.prod(X.shape[1:])} values) but "
                            f"{describe(nid)} takes {tuple(shape)} ({math.prod(shape)} values)")
    where = first_nonfinite(X)
    if where is not None:
        r, c = where
        raise DataError(f"the input data has NaN or inf at row {r + 1}, column {c + 1}", line=r + 1, column=c + 1)
    if Y is None:
        return X, None
    Y = np.asarray(Y)
    o = program.outputs[0]
    if Y.ndim == 1:
        Y = Y[:, None]
    if Y.shape[0] != X.shape[0]:
        raise DataError(f"the data has {X.shape[0]} input rows but {Y.shape[0]} target rows")
    if Y.shape[-1] != o.units:
        raise DataError(target_mismatch_message(describe(o.node_id), o.units, o.activation, o.loss, Y))
    where = first_nonfinite(Y)
    if where is not None:
        r = where[0]
        raise DataError(f"the target data has NaN or inf at row {r + 1}", line=r + 1)
    return X, Y


# ------------------------------------------------------- choosing a data set
@functools.lru_cache(maxsize=None)
def _scales_differ(name: str) -> bool:
    """Whether the built-in set's inputs (with default settings) have very different
    spreads (a factor of 10 or more between the standard deviations)."""
    from ..data.builtin import load_builtin

    X = load_builtin(name).X
    if X.shape[1] < 2 or len(X) < 2:
        return False
    std = X.astype(np.float64).std(axis=0)
    std = std[std > 0]
    return std.size > 1 and float(std.max() / std.min()) >= 10.0


def standardize_default(info, previous: bool | None = None) -> bool:
    """Whether the built-in set ``info`` (a :class:`~anndesigner.data.BuiltinInfo`) is
    standardized when it is chosen: off for images (already 0..1) and tokens (ids must
    stay whole numbers), on for regression features on very different scales,
    otherwise as the previous built-in set had it (``previous``; None: off)."""
    if info.input_kind in ("image", "tokens"):
        return False
    if info.task == "regression" and info.input_kind == "features" and _scales_differ(info.name):
        return True
    return bool(previous)


__all__ = ["CHECK_CHUNK", "DataShape", "FIT_PARAMS", "Fix", "Mismatch", "FitReport", "affects_fit", "check_arrays",
           "check_fit", "first_nonfinite", "input_shape_for", "output_fix", "standardize_default",
           "target_mismatch_message", "with_data_fix"]
