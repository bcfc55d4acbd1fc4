"""Does the data fit the network? The headless decisions behind the data panel's
warning and its Fix button, and behind the engine's "the data has N target
column(s)" error (no Qt).

:func:`check_fit` compares a data set's shape and task with the graph's Input
and Output nodes and returns a :class:`FitReport`: one :class:`Mismatch` per
node that does not fit, each with its :class:`Fix` (the parameters to set on
that node, what they do and why), plus notes that need no fix. The rules:

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
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import numpy as np

from ..errors import AnnError, GraphError

CLASSIFICATION_LOSSES = ("binary_crossentropy", "categorical_crossentropy")


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
    units, with the way out (``Y`` is looked at to tell 0/1 classes and one-hot rows)."""
    cols = int(Y.shape[-1]) if Y is not None and Y.ndim >= 1 else 0
    msg = f"the data has {cols} target column(s) but {describe_output} has {units} unit(s)"
    if Y is None or Y.ndim != 2 or len(Y) == 0:
        return msg
    finite = np.isfinite(Y).all()
    if cols == 1 and finite and np.isin(Y, (0, 1)).all():
        tip = ("two classes come as one 0/1 column: use 1 sigmoid unit with binary cross-entropy"
               + (", or one-hot target columns (one per class) for softmax" if units == 2 else ""))
        return f"{msg}; {tip}"
    if cols > 2 and finite and np.isin(Y, (0, 1)).all() and (Y.sum(axis=1) == 1).all():
        return (f"{msg}; {cols} one-hot class columns: use {cols} units with softmax and categorical "
                "cross-entropy")
    return f"{msg}; set the Output's units to {cols}"


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


__all__ = ["DataShape", "Fix", "Mismatch", "FitReport", "check_fit", "input_shape_for", "output_fix",
           "target_mismatch_message"]
