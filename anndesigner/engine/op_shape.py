"""Flatten and Reshape: the same values seen with another shape (no copy)."""

from __future__ import annotations

from .step import BuildContext, Step


class ReshapeStep(Step):
    """y = x viewed as ``out_shape`` (per sample); the gradient is reshaped back."""

    def __init__(self, ctx: BuildContext):
        self.node_ids = (ctx.node_id,)
        self.ins = (ctx.ins[0],)
        self.out = ctx.out
        self.out_shape = tuple(ctx.out_shape)
        self.in_shape = tuple(ctx.in_shapes[0])

    def forward(self, xs, training):
        x = xs[0]
        return x.reshape((x.shape[0],) + self.out_shape)

    def backward(self, g, need):
        if not need[0]:
            return [None]
        return [g.reshape((g.shape[0],) + self.in_shape)]


BUILDERS = {"Flatten": ReshapeStep, "Reshape": ReshapeStep}
