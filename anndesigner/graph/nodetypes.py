"""The built-in node types: schema, ports, shape inference and weights.

The engine implements what these describe (``anndesigner.engine``); a test
checks that every activation, loss and initializer named here exists there.
"""

from __future__ import annotations

from typing import Any

from ..errors import MissingInputError, ShapeError
from .registry import NodeType, NodeTypeRegistry, ParamSpec, PortSpec, Shape, WeightSpec
from .typekit import (  # noqa: F401  (re-exported)
    ACTIVATIONS, CLASSIFICATION_LOSSES, IN, INITIALIZERS, LOSSES, NON_DIFFERENTIABLE, _act, _binit,
    _dense_weights, _kinit, _use_bias, concat_shapes, fmt_shape, param_count, single_input,
)

CATEGORIES = (
    "Data", "Neurons & Layers", "Activations", "Convolution", "Sequence", "Attention",
    "Normalization", "Regularization", "Shape", "Merge", "Output",
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
)


# ------------------------------------------------------------------- Neuron
def _neuron_infer(params, inputs) -> Shape:
    s = concat_shapes(inputs)
    if len(s) != 1:
        raise ShapeError(f"is a single neuron and takes a flat vector, not {fmt_shape(s)}; add a Flatten first")
    return (1,)


NEURON = NodeType(
    "Neuron", 1, "Neuron", "Neurons & Layers",
    "One unit: z = Σ wᵢxᵢ + b, y = f(z). Every incoming wire is a weighted connection.",
    (_act("sigmoid"), _use_bias(), _kinit(), _binit()),
    IN, ("out",),
    infer=_neuron_infer,
    weights=lambda params, inputs: _dense_weights(1, concat_shapes(inputs), params, kernel_shape=(concat_shapes(inputs)[-1],)),
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
)


# --------------------------------------------------------------- Activation
ACTIVATION = NodeType(
    "Activation", 1, "Activation", "Activations",
    "Applies f elementwise: y = f(x) (softmax: eˣⁱ / Σ eˣʲ over the last axis).",
    (_act("relu"),),
    IN, ("out",),
    infer=lambda params, inputs: concat_shapes(inputs),
)


# ------------------------------------------------------------------ Dropout
DROPOUT = NodeType(
    "Dropout", 1, "Dropout", "Regularization",
    "During training zeroes a fraction p of values and scales the rest by 1/(1-p); does nothing at prediction.",
    (ParamSpec("rate", "float", 0.5, "Rate p", "Fraction of values dropped while training", minimum=0.0, maximum=0.95, live=True),),
    IN, ("out",),
    infer=lambda params, inputs: concat_shapes(inputs),
)


# -------------------------------------------------------------- Concatenate
CONCATENATE = NodeType(
    "Concatenate", 1, "Concatenate", "Merge",
    "Joins its inputs end to end along the last axis, in wire order.",
    (),
    IN, ("out",),
    infer=lambda params, inputs: concat_shapes(inputs),
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
)


CORE_TYPES = (INPUT, NEURON, DENSE, ACTIVATION, DROPOUT, CONCATENATE, ADD, OUTPUT)


def _layer_types() -> tuple[NodeType, ...]:
    from . import types_attention, types_conv, types_norm, types_recurrent, types_shape
    return tuple(t for m in (types_conv, types_recurrent, types_attention, types_norm, types_shape)
                 for t in m.TYPES)


BUILTIN_TYPES = CORE_TYPES + _layer_types()


def builtin_registry() -> NodeTypeRegistry:
    """A fresh, frozen registry of the built-in node types."""
    return NodeTypeRegistry(BUILTIN_TYPES).freeze()


BUILTIN_REGISTRY = builtin_registry()
