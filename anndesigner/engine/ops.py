"""Type id -> step builder, for every node type the engine runs.

Each ``op_*`` module implements its layers as :class:`~.step.Step` subclasses
and exports ``BUILDERS``; the node types that describe them (shapes, weights,
parameters) live in ``anndesigner.graph.types_*``. A new family of layers adds
its module here.
"""

from __future__ import annotations

from . import op_attention, op_conv, op_core, op_norm, op_recurrent, op_shape
from .step import StepBuilder

STEP_BUILDERS: dict[str, StepBuilder] = {}
for _module in (op_core, op_shape, op_conv, op_norm, op_recurrent, op_attention):
    for _type_id, _builder in _module.BUILDERS.items():
        assert _type_id not in STEP_BUILDERS, _type_id
        STEP_BUILDERS[_type_id] = _builder
