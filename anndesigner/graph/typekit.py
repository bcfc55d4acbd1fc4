"""Building blocks shared by the node-type modules: the activation, loss and
initializer names, shape helpers and the common parameter specs.
"""

from __future__ import annotations

import math
from typing import Any, Mapping, Sequence

from ..errors import MissingInputError, ShapeError
from .registry import ParamSpec, PortSpec, Shape, WeightSpec, fmt_shape  # noqa: F401  (fmt_shape re-exported)

ACTIVATIONS = (
    "linear", "step", "sign", "sigmoid", "tanh", "relu", "leaky_relu",
    "elu", "softplus", "gelu", "gelu_tanh", "softmax",
)
#: activations with no usable gradient: allowed where no gradient flows through them
NON_DIFFERENTIABLE = frozenset({"step", "sign"})
LOSSES = ("mse", "mae", "huber", "binary_crossentropy", "categorical_crossentropy", "kl_divergence")
CLASSIFICATION_LOSSES = frozenset({"binary_crossentropy", "categorical_crossentropy"})
INITIALIZERS = (
    "glorot_uniform", "glorot_normal", "he_uniform", "he_normal", "lecun_uniform",
    "lecun_normal", "normal", "uniform", "zeros", "ones", "orthogonal",
)

# ------------------------------------------------------------------ helpers
def concat_shapes(inputs: Mapping[str, Sequence[Shape]], port: str = "in") -> Shape:
    """Shapes arriving at a multi port, joined along the last axis."""
    shapes = list(inputs.get(port, ()))
    if not shapes:
        raise MissingInputError("has no input connected")
    first = shapes[0]
    for s in shapes[1:]:
        if len(s) != len(first) or s[:-1] != first[:-1]:
            raise ShapeError(
                "receives inputs that cannot be joined: "
                + ", ".join(fmt_shape(x) for x in shapes)
                + " (all but the last axis must match)"
            )
    return first[:-1] + (sum(s[-1] for s in shapes),)


def _act(default: str, label: str = "Activation") -> ParamSpec:
    return ParamSpec("activation", "choice", default, label, "f(z) applied to the weighted sum", choices=ACTIVATIONS)


def _kinit(default: str = "glorot_uniform") -> ParamSpec:
    return ParamSpec("kernel_initializer", "choice", default, "Weight init", "How weights start before training", choices=INITIALIZERS)


def _binit() -> ParamSpec:
    return ParamSpec("bias_initializer", "choice", "zeros", "Bias init", "How biases start", choices=INITIALIZERS)


def _use_bias() -> ParamSpec:
    return ParamSpec("use_bias", "bool", True, "Use bias", "Add a trainable bias b")


IN = (PortSpec("in", multi=True, help="Several wires are joined in order"),)


# ------------------------------------------------------- node body texts
#: a loss's short name on a node body
LOSS_SHORT = {
    "mse": "MSE",
    "mae": "MAE",
    "huber": "Huber",
    "binary_crossentropy": "binary CE",
    "categorical_crossentropy": "categorical CE",
    "kl_divergence": "KL divergence",
}


def act_name(name: str) -> str:
    """An activation (or loss) name as text: 'leaky_relu' -> 'leaky relu'."""
    return name.replace("_", " ")


def units_text(n: int) -> str:
    return f"{n} unit" if n == 1 else f"{n} units"


def window_text(values: Sequence[int]) -> str:
    """A window size or stride: [3, 3] -> '3×3'."""
    return "×".join(str(v) for v in values)


def fixed_summary(*lines: str):
    """A summary function that always says ``lines`` (for types without parameters worth showing)."""
    return lambda params, in_shape, out_shape: list(lines)


def _dense_weights(units: int, in_shape: Shape, params: Mapping[str, Any], kernel_shape: Shape | None = None) -> list[WeightSpec]:
    fan_in = in_shape[-1]
    out = [
        WeightSpec("kernel", kernel_shape or (fan_in, units), params["kernel_initializer"], True, fan_in, units),
    ]
    if params.get("use_bias", True):
        out.append(WeightSpec("bias", () if kernel_shape is not None else (units,), params["bias_initializer"], False, fan_in, units))
    return out


def single_input(inputs: Mapping[str, Sequence[Shape]], rank: int | None = None, what: str = "") -> Shape:
    """The (joined) shape at port ``in``; with ``rank``, check its number of axes
    (not counting the batch)."""
    s = concat_shapes(inputs)
    if rank is not None and len(s) != rank:
        raise ShapeError(f"takes {what or f'{rank}-axis'} input, not {fmt_shape(s)}")
    return s


def param_count(weights: Sequence[WeightSpec]) -> int:
    return sum(math.prod(w.shape) for w in weights)
