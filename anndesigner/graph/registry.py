"""Node types: a stable type id, a version, a parameter schema, ports, shape
inference and the weights a node owns.

The registry maps type ids (and the old names of renamed types) to
:class:`NodeType`. The built-in registry is frozen once built, so nothing can
leak between documents or tests; a program that wants extra types makes its own
:class:`NodeTypeRegistry` and hands it to :class:`~anndesigner.graph.Graph`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Mapping, Sequence

from ..errors import ParameterError, UnknownNodeTypeError
from ..params import ParamSpec  # noqa: F401  (the one parameter description; re-exported)

Shape = tuple[int, ...]


@dataclass(frozen=True)
class PortSpec:
    """An input port. ``multi`` ports take several edges, in graph edge order."""

    name: str
    multi: bool = True
    help: str = ""


@dataclass(frozen=True)
class WeightSpec:
    """A trainable array a node owns: ``<node id>/<name>``."""

    name: str
    shape: Shape
    initializer: str
    regularize: bool = True  # L1/L2 apply to kernels, not biases
    fan_in: int = 1
    fan_out: int = 1
    #: False for state updated by the layer itself, not by the optimizer
    #: (BatchNorm's moving mean and variance); saved with the weights
    trainable: bool = True


InferFn = Callable[[Mapping[str, Any], Mapping[str, Sequence[Shape]]], Shape]
WeightsFn = Callable[[Mapping[str, Any], Mapping[str, Sequence[Shape]]], list[WeightSpec]]
#: (params, input shape or None, output shape or None) -> the node body's lines
SummaryFn = Callable[[Mapping[str, Any], "Shape | None", "Shape | None"], list[str]]


def no_weights(params: Mapping[str, Any], inputs: Mapping[str, Sequence[Shape]]) -> list[WeightSpec]:
    """The weights function of a type that owns none."""
    return []


@dataclass(frozen=True)
class NodeType:
    """Everything the graph, the engine and the editor need to know about one
    kind of node, except its forward/backward step (``engine/op_*.py``)."""

    type_id: str
    version: int
    title: str
    category: str
    description: str
    params: tuple[ParamSpec, ...]
    inputs: tuple[PortSpec, ...]
    outputs: tuple[str, ...]
    infer: InferFn
    weights: WeightsFn = no_weights
    aliases: tuple[str, ...] = ()
    #: convenience keyword translation, e.g. Input(units=2) -> shape=[2]
    normalize: Callable[[dict[str, Any]], dict[str, Any]] | None = None
    #: upgrade params saved by an older version of this type: (old_version, params) -> params
    migrate: Callable[[int, dict[str, Any]], dict[str, Any]] | None = None
    #: "input" (fed from a data row's columns), "output" (a prediction with a loss) or ""
    role: str = ""
    #: the computation in one line, e.g. "y = f(xW + b)"
    formula: str = ""
    #: the node body's short lines; None: the first two parameters as "label: value"
    summary: SummaryFn | None = None
    #: whether a node with these parameters owns weights; None: whenever ``weights``
    #: is not :func:`no_weights`
    weighted: Callable[[Mapping[str, Any]], bool] | None = None
    #: how the editor draws a node: "block" (a card), or "neuron" (a circle with its activation)
    drawn_as: str = "block"
    #: whether the rows of its "kernel" weight belong to its incoming wires, in
    #: order (a weighted sum: Dense, Neuron, Output), so the canvas can colour
    #: each wire by its weights
    wire_weights: bool = False

    def describe(self, params: Mapping[str, Any], in_shape: Shape | None = None,
                 out_shape: Shape | None = None) -> list[str]:
        """The one or two short lines a node body shows under its title."""
        if self.summary is not None:
            return self.summary(params, in_shape, out_shape)
        out = []
        for spec in self.params[:2]:
            v = params.get(spec.name)
            out.append(f"{spec.label or spec.name}: {fmt_shape(v) if spec.kind == 'shape' else v}")
        return out or [self.title]

    def has_weights(self, params: Mapping[str, Any]) -> bool:
        """Whether a node of this type with ``params`` owns weights (trainable or state)."""
        if self.weighted is not None:
            return self.weighted(params)
        return self.weights is not no_weights

    def param(self, name: str) -> ParamSpec:
        for p in self.params:
            if p.name == name:
                return p
        raise KeyError(name)

    def port(self, name: str) -> PortSpec | None:
        for p in self.inputs:
            if p.name == name:
                return p
        return None

    def defaults(self) -> dict[str, Any]:
        return {p.name: _copy(p.default) for p in self.params}

    def make_params(self, given: Mapping[str, Any], node_id: str | None = None, base: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """Validate ``given`` over ``base`` (defaults when None); unknown names are errors."""
        given = dict(given)
        if self.normalize is not None:
            given = self.normalize(given)
        out = dict(base) if base is not None else self.defaults()
        names = {p.name for p in self.params}
        for key, value in given.items():
            if key not in names:
                where = f"node '{node_id}'" if node_id else self.type_id
                raise ParameterError(
                    f"{where}: {self.type_id} has no parameter '{key}' (it has: {', '.join(sorted(names)) or 'none'})",
                    node_id=node_id,
                    param=key,
                )
            out[key] = self.param(key).validate(value, node_id)
        return out


def fmt_shape(shape: Sequence[int] | None) -> str:
    """'(8, 8, 1)'; '?' for an unknown shape."""
    if shape is None:
        return "?"
    return "(" + ", ".join(str(s) for s in shape) + ")"


def _copy(v: Any) -> Any:
    return list(v) if isinstance(v, list) else v


class NodeTypeRegistry:
    """Type id (and alias) -> :class:`NodeType`. Freeze it to make it read-only."""

    def __init__(self, types: Sequence[NodeType] = ()):
        self._types: dict[str, NodeType] = {}
        self._aliases: dict[str, str] = {}
        self._frozen = False
        for t in types:
            self.register(t)

    def register(self, node_type: NodeType) -> None:
        if self._frozen:
            raise RuntimeError("this node-type registry is frozen; make your own NodeTypeRegistry")
        if node_type.type_id in self._types or node_type.type_id in self._aliases:
            raise ValueError(f"node type '{node_type.type_id}' is already registered")
        self._types[node_type.type_id] = node_type
        for alias in node_type.aliases:
            self._aliases[alias] = node_type.type_id

    def freeze(self) -> "NodeTypeRegistry":
        self._frozen = True
        return self

    def copy(self) -> "NodeTypeRegistry":
        return NodeTypeRegistry(list(self._types.values()))

    def get(self, type_id: str) -> NodeType:
        t = self._types.get(type_id)
        if t is None and type_id in self._aliases:
            t = self._types[self._aliases[type_id]]
        if t is None:
            raise UnknownNodeTypeError(
                f"unknown node type '{type_id}' (known types: {', '.join(self._types)})"
            )
        return t

    def __contains__(self, type_id: str) -> bool:
        return type_id in self._types or type_id in self._aliases

    def __iter__(self):
        return iter(self._types.values())

    def __len__(self) -> int:
        return len(self._types)

    def categories(self) -> dict[str, list[NodeType]]:
        out: dict[str, list[NodeType]] = {}
        for t in self._types.values():
            out.setdefault(t.category, []).append(t)
        return out
