"""BatchNorm and LayerNorm steps.

Both compute x̂ = (x − μ)·r with r = 1/√(σ² + ε) and y = γ·x̂ + β; they differ
in the axes μ and σ² are taken over (BatchNorm: every axis but the last, i.e.
the batch and all positions; LayerNorm: the last axis). The gradient through
the statistics is, with n values per statistic and d = dL/dx̂ = γ·g,

    dL/dx = r · (d − mean(d) − x̂ · mean(d · x̂)).
"""

from __future__ import annotations

import numpy as np

from .step import BuildContext, Step


class _AffineNorm(Step):
    def __init__(self, ctx: BuildContext):
        self.node_ids = (ctx.node_id,)
        self.ins = (ctx.ins[0],)
        self.out = ctx.out
        self.eps = float(ctx.params["epsilon"])
        self.gamma = ctx.weights.get("gamma")
        self.beta = ctx.weights.get("beta")
        self.params = tuple(p for p in (self.gamma, self.beta) if p is not None)
        self.xhat = self.r = None

    def _affine(self, xhat: np.ndarray) -> np.ndarray:
        y = xhat * self.gamma.value if self.gamma is not None else xhat.copy()
        if self.beta is not None:
            y += self.beta.value
        return y

    def _param_grads(self, g2: np.ndarray, xhat2: np.ndarray) -> None:
        """g2, xhat2: (rows, C)."""
        if self.gamma is not None:
            self.gamma.add_rowsum(g2 * xhat2)
        if self.beta is not None:
            self.beta.add_rowsum(g2)

    def clear(self):
        self.xhat = self.r = None


class BatchNormStep(_AffineNorm):
    """Batch statistics while training (moving averages updated in place), the
    moving averages at prediction."""

    def __init__(self, ctx: BuildContext):
        super().__init__(ctx)
        self.momentum = float(ctx.params["momentum"])
        self.moving_mean = ctx.weights["moving_mean"]
        self.moving_variance = ctx.weights["moving_variance"]
        self.batch_stats = False

    def forward(self, xs, training):
        x = xs[0]
        c = x.shape[-1]
        x2 = x.reshape(-1, c)
        if training:
            mu = x2.mean(axis=0)
            xc = x2 - mu
            var = np.mean(xc * xc, axis=0)
            m = self.momentum
            mm, mv = self.moving_mean.value, self.moving_variance.value
            mm *= m
            mm += (1.0 - m) * mu.astype(mm.dtype, copy=False)
            mv *= m
            mv += (1.0 - m) * var.astype(mv.dtype, copy=False)
        else:
            xc = x2 - self.moving_mean.value.astype(x.dtype, copy=False)
            var = self.moving_variance.value.astype(x.dtype, copy=False)
        r = 1.0 / np.sqrt(var + self.eps)
        xc *= r  # xc is a fresh array: x̂ in its place
        self.xhat, self.r, self.batch_stats = xc, r, training
        return self._affine(xc).reshape(x.shape)

    def backward(self, g, need):
        c = g.shape[-1]
        g2 = g.reshape(-1, c)
        xhat = self.xhat
        self._param_grads(g2, xhat)
        if not need[0]:
            return [None]
        d = g2 * self.gamma.value if self.gamma is not None else g2.copy()
        if self.batch_stats:
            mean_dx = np.mean(d * xhat, axis=0)
            d -= d.mean(axis=0)
            d -= xhat * mean_dx
        d *= self.r
        return [d.reshape(g.shape)]


class LayerNormStep(_AffineNorm):
    """Statistics over the last axis, per sample and position."""

    def forward(self, xs, training):
        x = xs[0]
        mu = x.mean(axis=-1, keepdims=True)
        xc = x - mu
        var = np.mean(xc * xc, axis=-1, keepdims=True)
        r = 1.0 / np.sqrt(var + self.eps)
        xc *= r
        self.xhat, self.r = xc, r
        return self._affine(xc)

    def backward(self, g, need):
        xhat = self.xhat
        c = g.shape[-1]
        self._param_grads(g.reshape(-1, c), xhat.reshape(-1, c))
        if not need[0]:
            return [None]
        d = g * self.gamma.value if self.gamma is not None else g.copy()
        mean_dx = np.mean(d * xhat, axis=-1, keepdims=True)
        d -= d.mean(axis=-1, keepdims=True)
        d -= xhat * mean_dx
        d *= self.r
        return [d]


BUILDERS = {"BatchNorm": BatchNormStep, "LayerNorm": LayerNormStep}
