"""The core layers' steps: Input, Neuron (fused), Dense, Activation, Dropout,
Concatenate, Add and Output. Their node types are in
``anndesigner.graph.types_core``.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from . import activations as act
from .step import BuildContext, FeedStep, FusingBuilder, Param, Step, Value


class InputStep(FeedStep):
    """An Input: the program writes one sample's values per row into its buffer."""


class DenseStep(Step):
    """y = f(x W + b): Dense, Output with weights, and fused neuron groups."""

    def __init__(self, node_ids, ins: Value, out: int, W: Param, b: Param | None, activation: str):
        self.node_ids = tuple(node_ids)
        self.ins = (ins,)
        self.out = out
        self.W, self.b = W, b
        self.params = (W,) if b is None else (W, b)
        self.activation = activation
        self.keep_z = activation not in act.NEEDS_ONLY_OUTPUT
        self.x = self.z = self.y = None
        self.dz = None

    def forward(self, xs, training):
        x = xs[0]
        W = self.W.value
        if x.ndim == 2:
            z = x @ W
        else:
            z = (x.reshape(-1, x.shape[-1]) @ W).reshape(x.shape[:-1] + (W.shape[1],))
        if self.b is not None:
            z += self.b.value
        # z is this step's own fresh array: when only y is needed later, compute y in its place
        y = act.forward(self.activation, z, inplace=not self.keep_z and self.activation in act.INPLACE)
        self.x, self.y = x, y
        self.z = z if (self.keep_z or y is z) else None
        return y

    def backward(self, g, need):
        if self.dz is not None:
            dz = self.dz
        else:
            dz = act.backward(self.activation, self.z, self.y, g)
        x = self.x
        if x.ndim != 2:
            x = x.reshape(-1, x.shape[-1])
            dz2 = dz.reshape(-1, dz.shape[-1])
        else:
            dz2 = dz
        self.W.add_matmul(x.T, dz2)
        if self.b is not None:
            self.b.add_rowsum(dz2)
        if not need[0]:
            return [None]
        dx = dz2 @ self.W.value.T
        return [dx.reshape(self.x.shape)]

    def clear(self):
        self.x = self.z = self.y = self.dz = None


class ActivationStep(Step):
    """y = f(x) elementwise (softmax over the last axis); keeps z for the backward pass."""

    def __init__(self, node_id, ins: Value, out: int, activation: str):
        self.node_ids = (node_id,)
        self.ins = (ins,)
        self.out = out
        self.activation = activation
        self.z = self.y = None
        self.dz = None

    def forward(self, xs, training):
        self.z = xs[0]
        self.y = act.forward(self.activation, self.z)
        if self.y is self.z and self.activation == "linear":
            return self.z
        return self.y

    def backward(self, g, need):
        dz = self.dz if self.dz is not None else act.backward(self.activation, self.z, self.y, g)
        return [dz if need[0] else None]

    def clear(self):
        self.z = self.y = self.dz = None


class DropoutStep(Step):
    """While training, y = m ⊙ x / (1 − p) with a fresh random mask m; otherwise y = x."""

    def __init__(self, node_id, ins: Value, out: int, rate: float, rng: np.random.Generator):
        self.node_ids = (node_id,)
        self.ins = (ins,)
        self.out = out
        self.rate = rate
        self.rng = rng
        self.mask = None

    def forward(self, xs, training):
        x = xs[0]
        if not training or self.rate <= 0:
            self.mask = None
            return x
        keep = 1.0 - self.rate
        self.mask = (self.rng.random(x.shape, dtype=x.dtype) < keep).astype(x.dtype) * x.dtype.type(1.0 / keep)
        return x * self.mask

    def backward(self, g, need):
        if not need[0]:
            return [None]
        return [g if self.mask is None else g * self.mask]

    def clear(self):
        self.mask = None


class AddStep(Step):
    """y = x₁ + x₂ + …: one input per wire."""

    def __init__(self, node_id, ins: Sequence[Value], out: int):
        self.node_ids = (node_id,)
        self.ins = tuple(ins)
        self.out = out

    def forward(self, xs, training):
        y = xs[0].copy() if len(xs) > 1 else xs[0]
        for x in xs[1:]:
            y += x
        return y

    def backward(self, g, need):
        return [g if n else None for n in need]


# ----------------------------------------------------------------- builders
def _dense(ctx: BuildContext) -> DenseStep:
    """A dense step over the context's weights (a fused group's: one column per node)."""
    return DenseStep(ctx.node_ids, ctx.ins[0], ctx.out, ctx.weights["kernel"], ctx.weights.get("bias"),
                     ctx.params["activation"])


def _activation(ctx: BuildContext) -> ActivationStep:
    return ActivationStep(ctx.node_id, ctx.ins[0], ctx.out, ctx.params["activation"])


def _output(ctx: BuildContext) -> Step | Value:
    if ctx.params["use_weights"]:
        return _dense(ctx)
    if ctx.params["activation"] == "linear":
        return ctx.ins[0]  # a plain marker: no step at all
    return _activation(ctx)


BUILDERS = {
    "Input": InputStep,
    # neurons reading the same inputs with the same activation and bias run as one matrix product
    "Neuron": FusingBuilder(_dense, key=lambda params: (params["activation"], params["use_bias"])),
    "Dense": _dense,
    "Activation": _activation,
    "Dropout": lambda ctx: DropoutStep(ctx.node_id, ctx.ins[0], ctx.out, ctx.params["rate"], ctx.rng),
    "Concatenate": lambda ctx: ctx.ins[0],  # its inputs' segments, joined: nothing is copied
    "Add": lambda ctx: AddStep(ctx.node_id, ctx.wires[0], ctx.out),
    "Output": _output,
}
