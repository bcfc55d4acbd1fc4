"""What every engine step is built from: column segments of buffers, trainable
(or state) parameters, the :class:`Step` protocol, and the context a layer's
step builder receives from the compiler.

A step's ``forward(xs, training)`` gets one array per input port (batch axis
first) and returns its output array; ``backward(g, need)`` gets dL/d(output)
and returns dL/d(input) per port (None where ``need`` is False). Parameter
gradients are *accumulated* with :meth:`Param.add_grad` / ``add_matmul`` /
``add_rowsum``; optimizers run elsewhere.

Every node type is built the same way: the compiler looks its type id up in
``ops.STEP_BUILDERS``, makes a :class:`Param` for each weight the type declares,
and calls the builder with a :class:`BuildContext`. The builder returns

* a :class:`Step`, whose output buffer (``ctx.out``) is the node's value, or
* a :data:`Value` (segments of buffers that exist already): the node computes
  nothing of its own (Concatenate: its inputs joined; an Output without
  weights and with a linear activation: a plain marker). No buffer is made.

Three hooks cover the rest:

* a node whose type has role "input" is fed from the data: its step is a
  :class:`FeedStep`, whose buffer the program fills before the other steps run;
* a node whose type has role "output" is a prediction with a loss: the program
  reads its ``units``, ``activation`` and ``loss`` parameters; when the pair
  (activation, loss) has a fused gradient, the step computing the node keeps
  its pre-activation ``z`` (``keep_z``) and gets dL/dz as ``dz``;
* a :class:`FusingBuilder` fuses nodes: nodes of its type that read the same
  inputs and have the same :attr:`FusingBuilder.key` run as one step (single
  neurons drawn one by one run as one matrix product). The step computes all of
  ``ctx.node_ids``; their weights of one name are stacked as the columns of one
  Param (named after the first node, ``parts`` naming each column), and node j's
  value is column j of the output.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Hashable, Mapping, Sequence, Union

import numpy as np

# ------------------------------------------------------------------ values
@dataclass(frozen=True)
class Segment:
    buf: int
    start: int
    stop: int


Value = tuple[Segment, ...]


def _merge(segs: Sequence[Segment]) -> Value:
    out: list[Segment] = []
    for s in segs:
        if out and out[-1].buf == s.buf and out[-1].stop == s.start:
            out[-1] = Segment(s.buf, out[-1].start, s.stop)
        else:
            out.append(s)
    return tuple(out)


@dataclass
class Param:
    """One trainable array. A fused neuron group owns one Param per kind whose
    columns belong to its neurons (``parts``)."""

    name: str  # "<node id>/kernel" (for fused groups, the first neuron's name)
    value: np.ndarray
    grad: np.ndarray
    regularize: bool
    parts: list[tuple[str, int]] | None = None  # fused: [(weight name, column)]
    touched: bool = False
    #: False for state the optimizer must not touch (BatchNorm's moving statistics);
    #: it is saved with the weights all the same
    trainable: bool = True

    def names(self) -> list[str]:
        return [n for n, _ in self.parts] if self.parts else [self.name]

    def add_grad(self, g: np.ndarray) -> None:
        if self.touched:
            self.grad += g
        else:
            np.copyto(self.grad, g)
            self.touched = True

    def add_matmul(self, a: np.ndarray, b: np.ndarray) -> None:
        """grad += a @ b, written straight into the gradient buffer on first use."""
        if self.touched:
            self.grad += a @ b
        else:
            np.matmul(a, b, out=self.grad)
            self.touched = True

    def add_rowsum(self, a: np.ndarray) -> None:
        """grad += a.sum(axis=0), without a temporary on first use."""
        if self.touched:
            self.grad += a.sum(axis=0)
        else:
            np.sum(a, axis=0, out=self.grad)
            self.touched = True


# ------------------------------------------------------------------- steps
class Step:
    """A forward/backward unit writing one buffer."""

    node_ids: tuple[str, ...] = ()
    ins: tuple[Value, ...] = ()
    out: int = -1
    params: tuple[Param, ...] = ()
    #: set by the program for a fused (activation, loss) pair: dL/dz given directly
    dz: np.ndarray | None = None

    def forward(self, xs: list[np.ndarray], training: bool) -> np.ndarray:
        raise NotImplementedError

    def backward(self, g: np.ndarray | None, need: list[bool]) -> list[np.ndarray | None]:
        raise NotImplementedError

    def clear(self) -> None:
        pass


class FeedStep(Step):
    """The step of a node fed from the data (its type's role is "input"): the
    program writes its buffer before the other steps run; it has no forward or
    backward of its own."""

    def __init__(self, ctx: "BuildContext"):
        self.node_ids = (ctx.node_id,)
        self.out = ctx.out

    def forward(self, xs, training):  # the program fills the buffer
        raise AssertionError("a feed step is not run")

    def backward(self, g, need):
        return []


@dataclass
class BuildContext:
    """What the compiler hands a step builder."""

    node_id: str                        # the node (of a fused group: the first)
    params: Mapping[str, Any]           # the node's validated parameters
    ins: list[Value]                    # one Value per input port, in the node type's port order
    in_shapes: list[tuple[int, ...]]    # their shapes, without the batch axis (() for an empty port)
    out_shape: tuple[int, ...]          # the output's shape (of a fused group: all its columns)
    weights: dict[str, Param]           # WeightSpec name -> Param (already initialized)
    rng: np.random.Generator            # for dropout-like randomness
    dtype: np.dtype
    #: per input port, one Value per wire in edge order (``ins`` joins them; Add sums them)
    wires: list[list[Value]] = field(default_factory=list)
    #: every node the step computes: (node_id,), or a fused group
    node_ids: tuple[str, ...] = ()
    _new_buffer: Callable[[tuple[int, ...]], int] | None = field(default=None, repr=False)
    _out: int | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if not self.node_ids:
            self.node_ids = (self.node_id,)

    @property
    def out(self) -> int:
        """The buffer the step writes, of ``out_shape``; made when first asked for,
        so a builder that returns a Value makes none."""
        if self._out is None:
            assert self._new_buffer is not None, "this context has no buffers to give"
            self._out = self._new_buffer(self.out_shape)
        return self._out


StepBuilder = Callable[[BuildContext], Union[Step, Value]]


@dataclass(frozen=True)
class FusingBuilder:
    """A step builder whose nodes fuse: nodes of the type that read the same
    inputs and have equal ``key(params)`` are built as one step (see the module
    docstring)."""

    build: Callable[[BuildContext], Step]
    key: Callable[[Mapping[str, Any]], Hashable]

    def __call__(self, ctx: BuildContext) -> Step:
        return self.build(ctx)
