"""Embedding, PositionalEncoding and multi-head SelfAttention steps.

Sequences are (N, T, D): batch, positions, features. Attention runs all
samples and heads at once with batched matrix products over (N, heads, T, ·).
"""

from __future__ import annotations

import math

import numpy as np

from ..errors import DataError
from .step import BuildContext, Step


# ---------------------------------------------------------------- Embedding
def _fmt_id(v: float) -> str:
    v = float(v)
    if math.isfinite(v) and v.is_integer():
        return str(int(v))
    return f"{v:g}"


class EmbeddingStep(Step):
    """y[n, t] = E[x[n, t]]; dL/dE[i] = Σ of g over the positions holding token i.
    Token ids get no gradient."""

    def __init__(self, ctx: BuildContext):
        self.node_ids = (ctx.node_id,)
        self.ins = (ctx.ins[0],)
        self.out = ctx.out
        self.E = ctx.weights["embeddings"]
        self.params = (self.E,)
        self.vocab = int(ctx.params["input_dim"])
        self.idx = None

    def forward(self, xs, training):
        x = xs[0]
        ids = x.reshape(x.shape[0], -1)  # (N, T): (T) and (T, 1) inputs alike
        ok = (ids >= 0) & (ids < self.vocab) & (np.floor(ids) == ids)  # NaN fails every test
        if not ok.all():
            bad = ids[~ok]
            raise DataError(
                f"Embedding '{self.node_ids[0]}' got the token id {_fmt_id(bad[0])}"
                + (f" (and {bad.size - 1} more bad ids)" if bad.size > 1 else "")
                + f"; token ids must be whole numbers from 0 to {self.vocab - 1} "
                f"(the vocabulary size, input_dim, is {self.vocab})"
            )
        self.idx = ids.astype(np.intp)
        return self.E.value[self.idx]

    def backward(self, g, need):
        p = self.E
        if not p.touched:
            p.grad.fill(0)
            p.touched = True
        np.add.at(p.grad, self.idx.reshape(-1), g.reshape(-1, g.shape[-1]))
        return [None]

    def clear(self):
        self.idx = None


# ------------------------------------------------------- PositionalEncoding
def sinusoidal_table(t: int, d: int) -> np.ndarray:
    """P[t, 2i] = sin(t / 10000^(2i/d)), P[t, 2i+1] = cos(t / 10000^(2i/d)) (float64)."""
    pos = np.arange(t, dtype=np.float64)[:, None]
    freq = np.power(10000.0, -np.arange(0, d, 2, dtype=np.float64) / d)  # one per pair of columns
    angle = pos * freq
    out = np.empty((t, d))
    out[:, 0::2] = np.sin(angle)
    out[:, 1::2] = np.cos(angle[:, : d // 2])
    return out


class PositionalEncodingStep(Step):
    """y = x + P: a fixed sinusoidal table, or a learned (T, D) weight."""

    def __init__(self, ctx: BuildContext):
        self.node_ids = (ctx.node_id,)
        self.ins = (ctx.ins[0],)
        self.out = ctx.out
        self.P = ctx.weights.get("positions")
        if self.P is not None:
            self.params = (self.P,)
            self.table = None
        else:
            self.params = ()
            t, d = ctx.in_shapes[0]
            self.table = sinusoidal_table(t, d).astype(ctx.dtype)

    def forward(self, xs, training):
        return xs[0] + (self.P.value if self.P is not None else self.table)

    def backward(self, g, need):
        if self.P is not None:
            self.P.add_rowsum(g)
        return [g if need[0] else None]


# ------------------------------------------------------------ SelfAttention
class SelfAttentionStep(Step):
    """Multi-head scaled dot-product self-attention (Vaswani et al. 2017).

    After a forward pass ``self.attention`` holds the attention weights
    (N, heads, T, T): row t of a head is how much position t took from each
    position. ``clear()`` frees it with the other cached arrays.
    """

    def __init__(self, ctx: BuildContext):
        self.node_ids = (ctx.node_id,)
        self.ins = (ctx.ins[0],)
        self.out = ctx.out
        self.T, self.D = ctx.in_shapes[0]
        self.H = int(ctx.params["heads"])
        self.K = int(ctx.params["key_dim"])
        self.scale = 1.0 / math.sqrt(self.K)
        w = ctx.weights
        self.Wq, self.Wk, self.Wv, self.Wo = w["query_kernel"], w["key_kernel"], w["value_kernel"], w["output_kernel"]
        self.bq, self.bk, self.bv, self.bo = (w.get("query_bias"), w.get("key_bias"), w.get("value_bias"),
                                              w.get("output_bias"))
        self.params = tuple(p for p in (self.Wq, self.bq, self.Wk, self.bk, self.Wv, self.bv, self.Wo, self.bo)
                            if p is not None)
        self.mask = np.triu(np.ones((self.T, self.T), bool), 1) if ctx.params["causal"] else None
        self.attention = None
        self._cache = None

    def _project(self, x2, W, b, n):
        """(N·T, D) -> (N, heads, T, key_dim)."""
        z = x2 @ W.value
        if b is not None:
            z += b.value
        return z.reshape(n, self.T, self.H, self.K).transpose(0, 2, 1, 3)

    def _merge(self, z, n):
        """(N, heads, T, key_dim) -> (N·T, heads·key_dim)."""
        return z.transpose(0, 2, 1, 3).reshape(n * self.T, self.H * self.K)

    def forward(self, xs, training):
        x = xs[0]
        n = x.shape[0]
        x2 = x.reshape(n * self.T, self.D)
        q = self._project(x2, self.Wq, self.bq, n)
        k = self._project(x2, self.Wk, self.bk, n)
        v = self._project(x2, self.Wv, self.bv, n)
        a = np.matmul(q, k.swapaxes(-1, -2))  # (N, H, T, T) scores
        a *= self.scale
        if self.mask is not None:
            a[:, :, self.mask] = -np.inf
        a -= a.max(axis=-1, keepdims=True)  # the diagonal is never masked: the max is finite
        np.exp(a, out=a)
        a /= a.sum(axis=-1, keepdims=True)
        o2 = self._merge(np.matmul(a, v), n)
        y = o2 @ self.Wo.value
        if self.bo is not None:
            y += self.bo.value
        self._cache = (x2, q, k, v, o2)
        self.attention = a
        return y.reshape(n, self.T, self.D)

    def backward(self, g, need):
        x2, q, k, v, o2 = self._cache
        a = self.attention
        n = g.shape[0]
        g2 = g.reshape(n * self.T, self.D)
        self.Wo.add_matmul(o2.T, g2)
        if self.bo is not None:
            self.bo.add_rowsum(g2)
        do = (g2 @ self.Wo.value.T).reshape(n, self.T, self.H, self.K).transpose(0, 2, 1, 3)
        dv = np.matmul(a.swapaxes(-1, -2), do)
        ds = np.matmul(do, v.swapaxes(-1, -2))  # dL/dA, turned into dL/d(scores) in place
        ds -= np.sum(ds * a, axis=-1, keepdims=True)
        ds *= a  # masked entries have a = 0: no gradient
        ds *= self.scale
        dq = np.matmul(ds, k)
        dk = np.matmul(ds.swapaxes(-1, -2), q)
        dx = None
        for W, b, dz in ((self.Wq, self.bq, dq), (self.Wk, self.bk, dk), (self.Wv, self.bv, dv)):
            dz2 = self._merge(dz, n)
            W.add_matmul(x2.T, dz2)
            if b is not None:
                b.add_rowsum(dz2)
            if need[0]:
                part = dz2 @ W.value.T
                if dx is None:
                    dx = part
                else:
                    dx += part
        return [dx.reshape(n, self.T, self.D) if need[0] else None]

    def clear(self):
        self._cache = None
        self.attention = None


BUILDERS = {
    "Embedding": EmbeddingStep,
    "PositionalEncoding": PositionalEncodingStep,
    "SelfAttention": SelfAttentionStep,
}
