"""BatchNorm and LayerNorm: rescale each feature to mean 0 and variance 1, then
let the network learn a scale γ and shift β of its own."""

from __future__ import annotations

from .registry import NodeType, ParamSpec, WeightSpec
from .typekit import IN, fixed_summary, single_input


def _center() -> ParamSpec:
    return ParamSpec("center", "bool", True, "Center (β)", "Learn a shift β added after normalizing")


def _scale() -> ParamSpec:
    return ParamSpec("scale", "bool", True, "Scale (γ)", "Learn a scale γ multiplied after normalizing")


def _affine_weights(params, c: int) -> list[WeightSpec]:
    out = []
    if params["scale"]:
        out.append(WeightSpec("gamma", (c,), "ones", False, c, c))
    if params["center"]:
        out.append(WeightSpec("beta", (c,), "zeros", False, c, c))
    return out


def _batch_norm_weights(params, inputs) -> list[WeightSpec]:
    c = single_input(inputs)[-1]
    return _affine_weights(params, c) + [
        WeightSpec("moving_mean", (c,), "zeros", False, c, c, trainable=False),
        WeightSpec("moving_variance", (c,), "ones", False, c, c, trainable=False),
    ]


BATCH_NORM = NodeType(
    "BatchNorm", 1, "Batch norm", "Normalization",
    "Normalizes each feature (the last axis) over the batch and all other axes: "
    "x̂ = (x − μ_B) / √(σ²_B + ε), y = γ·x̂ + β. While training, μ_B and σ²_B are the batch's "
    "mean and variance and the moving averages are updated: m ← momentum·m + (1 − momentum)·μ_B "
    "(likewise for the variance); at prediction the moving averages are used instead. "
    "γ and β are learned; the moving statistics are saved with the weights but not trained.",
    (
        ParamSpec("momentum", "float", 0.99, "Momentum",
                  "How slowly the moving mean and variance follow the batches (0..1)",
                  minimum=0.0, maximum=1.0, live=True),
        ParamSpec("epsilon", "float", 1e-3, "Epsilon ε", "Added to the variance so it is never divided by 0",
                  minimum=1e-8, maximum=1.0),
        _center(), _scale(),
    ),
    IN, ("out",),
    infer=lambda params, inputs: single_input(inputs),
    weights=_batch_norm_weights,
    formula="y = γ·(x − μ_B) / √(σ²_B + ε) + β",
    summary=lambda p, i, o: [f"momentum {p.get('momentum', 0):g}"],
)

LAYER_NORM = NodeType(
    "LayerNorm", 1, "Layer norm", "Normalization",
    "Normalizes each sample's features (the last axis) at every position on their own: "
    "x̂ = (x − μ) / √(σ² + ε) with μ, σ² the mean and variance over the last axis, then y = γ·x̂ + β "
    "(γ, β learned per feature). Works the same in training and prediction; "
    "used after the residual Add of a transformer block.",
    (
        ParamSpec("epsilon", "float", 1e-5, "Epsilon ε", "Added to the variance so it is never divided by 0",
                  minimum=1e-8, maximum=1.0),
        _center(), _scale(),
    ),
    IN, ("out",),
    infer=lambda params, inputs: single_input(inputs),
    weights=lambda params, inputs: _affine_weights(params, single_input(inputs)[-1]),
    formula="y = γ·(x − μ) / √(σ² + ε) + β",
    summary=fixed_summary("per sample"),
    weighted=lambda p: bool(p["scale"] or p["center"]),
)

TYPES = (BATCH_NORM, LAYER_NORM)
