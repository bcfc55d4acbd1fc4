"""The graph model: nodes, edges, node types, validation. No Qt."""

from .events import Signal
from .model import Analysis, Edge, Graph, Node
from .nodetypes import (
    ACTIVATIONS,
    BUILTIN_REGISTRY,
    CATEGORIES,
    INITIALIZERS,
    LOSSES,
    NON_DIFFERENTIABLE,
    builtin_registry,
    fmt_shape,
)
from .registry import NodeType, NodeTypeRegistry, ParamSpec, PortSpec, WeightSpec

__all__ = [
    "ACTIVATIONS", "Analysis", "BUILTIN_REGISTRY", "CATEGORIES", "Edge", "Graph", "INITIALIZERS", "LOSSES",
    "NON_DIFFERENTIABLE", "Node", "NodeType", "NodeTypeRegistry", "ParamSpec", "PortSpec", "Signal",
    "WeightSpec", "builtin_registry", "fmt_shape",
]
