"""What every engine step is built from: column segments of buffers, trainable
(or state) parameters, the :class:`Step` protocol, and the context a layer's
step builder receives from the compiler.

A step's ``forward(xs, training)`` gets one array per input port (batch axis
first) and returns its output array; ``backward(g, need)`` gets dL/d(output)
and returns dL/d(input) per port (None where ``need`` is False). Parameter
gradients are *accumulated* with :meth:`Param.add_grad` / ``add_matmul`` /
``add_rowsum``; optimizers run elsewhere.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Sequence

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


@dataclass
class BuildContext:
    """What the compiler hands a layer's step builder."""

    node_id: str
    params: Mapping[str, Any]           # the node's validated parameters
    ins: list[Value]                    # one Value per input port, in the node type's port order
    in_shapes: list[tuple[int, ...]]    # their shapes, without the batch axis
    out: int                            # the buffer the step writes
    out_shape: tuple[int, ...]
    weights: dict[str, Param]           # WeightSpec name -> Param (already initialized)
    rng: np.random.Generator            # for dropout-like randomness
    dtype: np.dtype


StepBuilder = Callable[[BuildContext], Step]
