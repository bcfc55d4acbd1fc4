"""The core node types: Input, Neuron, Dense, Activation, Dropout, Concatenate,
Add and Output (schema, ports, shape inference, weights and how each describes
itself to the editor). Their steps are in ``anndesigner.engine.op_core``.
"""

from __future__ import annotations

from typing import Any

from ..errors import MissingInputError, ShapeError
from .registry import NodeType, ParamSpec, PortSpec, Shape, WeightSpec
from .typekit import (
    IN, LOSS_SHORT, LOSSES, _act, _binit, _dense_weights, _kinit, _use_bias, act_name, concat_shapes,
    fixed_summary, fmt_shape, units_text,
)


# -------------------------------------------------------------------- Input
def _input_normalize(p: dict[str, Any]) -> dict[str, Any]:
    if "units" in p:
        p = dict(p)
        p["shape"] = [p.pop("units")]
    return p


INPUT = NodeType(
    "Input", 1, "Input", "Data",
    "Feeds one sample's values x into the network. Shape (units) or (h, w, c).",
    (ParamSpec("shape", "shape", [2], "Shape", "Values per sample, e.g. 2 or 8, 8, 1"),),
    (), ("out",),
    infer=lambda params, inputs: tuple(params["shape"]),
    normalize=_input_normalize,
    role="input",
    formula="x = one sample's values",
    summary=lambda p, i, o: [f"shape {fmt_shape(p['shape'])}"],
)


# ------------------------------------------------------------------- Neuron
def _neuron_infer(params, inputs) -> Shape:
    s = concat_shapes(inputs)
    if len(s) != 1:
        raise ShapeError(f"is a single neuron and takes a flat vector, not {fmt_shape(s)}; add a Flatten first")
    return (1,)


def _activation_summary(p, in_shape, out_shape) -> list[str]:
    return [act_name(p["activation"])]


NEURON = NodeType(
    "Neuron", 1, "Neuron", "Neurons & Layers",
    "One unit: z = Σ wᵢxᵢ + b, y = f(z). Every incoming wire is a weighted connection.",
    (_act("sigmoid"), _use_bias(), _kinit(), _binit()),
    IN, ("out",),
    infer=_neuron_infer,
    weights=lambda params, inputs: _dense_weights(1, concat_shapes(inputs), params, kernel_shape=(concat_shapes(inputs)[-1],)),
    formula="y = f(Σ wᵢxᵢ + b)",
    summary=_activation_summary,
    drawn_as="neuron",
    wire_weights=True,
)


# -------------------------------------------------------------------- Dense
DENSE = NodeType(
    "Dense", 1, "Dense layer", "Neurons & Layers",
    "A layer of fully connected neurons: y = f(xW + b).",
    (
        ParamSpec("units", "int", 8, "Units", "Number of neurons in the layer", minimum=1, maximum=100_000),
        _act("relu"), _use_bias(), _kinit(), _binit(),
    ),
    IN, ("out",),
    infer=lambda params, inputs: concat_shapes(inputs)[:-1] + (params["units"],),
    weights=lambda params, inputs: _dense_weights(params["units"], concat_shapes(inputs), params),
    aliases=("FullyConnected",),
    formula="y = f(xW + b)",
    summary=lambda p, i, o: [f"{units_text(p['units'])} · {act_name(p['activation'])}"],
    wire_weights=True,
)


# --------------------------------------------------------------- Activation
ACTIVATION = NodeType(
    "Activation", 1, "Activation", "Activations",
    "Applies f elementwise: y = f(x) (softmax: eˣⁱ / Σ eˣʲ over the last axis).",
    (_act("relu"),),
    IN, ("out",),
    infer=lambda params, inputs: concat_shapes(inputs),
    formula="y = f(x)",
    summary=_activation_summary,
)


# ------------------------------------------------------------------ Dropout
DROPOUT = NodeType(
    "Dropout", 1, "Dropout", "Regularization",
    "During training zeroes a fraction p of values and scales the rest by 1/(1-p); does nothing at prediction.",
    (ParamSpec("rate", "float", 0.5, "Rate p", "Fraction of values dropped while training", minimum=0.0, maximum=0.95, live=True),),
    IN, ("out",),
    infer=lambda params, inputs: concat_shapes(inputs),
    formula="y = m ⊙ x / (1 − p), m ~ Bernoulli(1 − p) (training); y = x (prediction)",
    summary=lambda p, i, o: [f"rate {p['rate']:g}"],
)


# -------------------------------------------------------------- Concatenate
CONCATENATE = NodeType(
    "Concatenate", 1, "Concatenate", "Merge",
    "Joins its inputs end to end along the last axis, in wire order.",
    (),
    IN, ("out",),
    infer=lambda params, inputs: concat_shapes(inputs),
    formula="y = [x₁, x₂, …]",
    summary=fixed_summary("joins on the last axis"),
)


# ---------------------------------------------------------------------- Add
def _add_infer(params, inputs) -> Shape:
    shapes = list(inputs.get("in", ()))
    if not shapes:
        raise MissingInputError("has no input connected")
    if any(s != shapes[0] for s in shapes):
        raise ShapeError("adds inputs of different shapes: " + ", ".join(fmt_shape(s) for s in shapes))
    return shapes[0]


ADD = NodeType(
    "Add", 1, "Add", "Merge",
    "Adds its inputs elementwise: y = x₁ + x₂ + … (all of one shape).",
    (),
    (PortSpec("in", multi=True, help="Inputs of equal shape, summed"),), ("out",),
    infer=_add_infer,
    formula="y = x₁ + x₂ + …",
    summary=fixed_summary("elementwise sum"),
)


# ------------------------------------------------------------------- Output
def _output_infer(params, inputs) -> Shape:
    s = concat_shapes(inputs)
    if params["use_weights"]:
        return s[:-1] + (params["units"],)
    if s[-1] != params["units"]:
        raise ShapeError(
            f"has {params['units']} units but receives {s[-1]} values; "
            f"set units to {s[-1]} or turn on 'Use weights'"
        )
    return s


def _output_weights(params, inputs) -> list[WeightSpec]:
    if not params["use_weights"]:
        return []
    return _dense_weights(params["units"], concat_shapes(inputs), params)


def _output_summary(p, in_shape, out_shape) -> list[str]:
    if p.get("use_weights", True):
        first = f"{units_text(p['units'])} · {act_name(p['activation'])}"
    else:
        first = f"{act_name(p['activation'])} · no weights"
    return [first, f"loss: {LOSS_SHORT.get(p['loss'], act_name(p['loss']))}"]


OUTPUT = NodeType(
    "Output", 1, "Output", "Output",
    "The network's prediction ŷ = f(xW + b) (or f(x) without weights) and the loss L(ŷ, y) it is trained on.",
    (
        ParamSpec("units", "int", 1, "Units", "Number of outputs (target columns)", minimum=1, maximum=100_000),
        _act("sigmoid"),
        ParamSpec("loss", "choice", "binary_crossentropy", "Loss", "How wrong a prediction is", choices=LOSSES),
        ParamSpec("use_weights", "bool", True, "Use weights", "A dense layer of its own; off: a plain output marker"),
        _use_bias(), _kinit(), _binit(),
    ),
    IN, (),
    infer=_output_infer,
    weights=_output_weights,
    role="output",
    formula="ŷ = f(xW + b), trained on L(ŷ, y)",
    summary=_output_summary,
    weighted=lambda p: bool(p.get("use_weights", True)),
    wire_weights=True,
)


TYPES = (INPUT, NEURON, DENSE, ACTIVATION, DROPOUT, CONCATENATE, ADD, OUTPUT)
