"""The built-in node-type registry, assembled from the ``types_*`` modules.

The engine implements what these describe (``anndesigner.engine``); a test
checks that every activation, loss and initializer named here exists there.
"""

from __future__ import annotations

from . import types_attention, types_conv, types_core, types_norm, types_recurrent, types_shape
from .registry import NodeType, NodeTypeRegistry
from .types_core import (  # noqa: F401  (re-exported)
    ACTIVATION, ADD, CONCATENATE, DENSE, DROPOUT, INPUT, NEURON, OUTPUT,
)
from .typekit import (  # noqa: F401  (re-exported)
    ACTIVATIONS, CLASSIFICATION_LOSSES, INITIALIZERS, LOSSES, NON_DIFFERENTIABLE, concat_shapes, fmt_shape,
    param_count, single_input,
)

CATEGORIES = (
    "Data", "Neurons & Layers", "Activations", "Convolution", "Sequence", "Attention",
    "Normalization", "Regularization", "Shape", "Merge", "Output",
)

#: the eight core types (a file test checks that a sample uses each of them)
CORE_TYPES: tuple[NodeType, ...] = types_core.TYPES

BUILTIN_TYPES: tuple[NodeType, ...] = CORE_TYPES + tuple(
    t for m in (types_conv, types_recurrent, types_attention, types_norm, types_shape) for t in m.TYPES
)


def builtin_registry() -> NodeTypeRegistry:
    """A fresh, frozen registry of the built-in node types."""
    return NodeTypeRegistry(BUILTIN_TYPES).freeze()


BUILTIN_REGISTRY = builtin_registry()
