"""Flatten and Reshape: change how a sample's values are arranged, not the values."""

from __future__ import annotations

import math

from ..errors import ShapeError
from .registry import NodeType, ParamSpec
from .typekit import IN, fixed_summary, fmt_shape, single_input


def _reshape_infer(params, inputs):
    s = single_input(inputs)
    target = tuple(params["shape"])
    if math.prod(target) != math.prod(s):
        raise ShapeError(
            f"cannot reshape {fmt_shape(s)} ({math.prod(s)} values) to {fmt_shape(target)} "
            f"({math.prod(target)} values)"
        )
    return target


FLATTEN = NodeType(
    "Flatten", 1, "Flatten", "Shape",
    "Lays a sample's values out in one row: (h, w, c) → (h·w·c). Nothing is learned.",
    (),
    IN, ("out",),
    infer=lambda params, inputs: (math.prod(single_input(inputs)),),
    formula="y = x laid out in one row",
    summary=fixed_summary("to one row"),
)

RESHAPE = NodeType(
    "Reshape", 1, "Reshape", "Shape",
    "Arranges a sample's values in a new shape with the same number of values, e.g. (64) → (8, 8, 1).",
    (ParamSpec("shape", "shape", [8, 8, 1], "Shape", "The new shape per sample, e.g. 8, 8, 1"),),
    IN, ("out",),
    infer=_reshape_infer,
    formula="y = x in a new shape",
    summary=lambda p, i, o: [f"to {fmt_shape(p['shape'])}"],
)

TYPES = (FLATTEN, RESHAPE)
