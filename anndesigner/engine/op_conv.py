"""Conv2D, MaxPool2D, AvgPool2D and GlobalAvgPool on (batch, height, width, channels).

Conv2D runs as matrix products: the image windows are copied once into a column
matrix (im2col, rows = output pixels, columns = kh·kw·c_in) that is multiplied
by the kernel seen as a (kh·kw·c_in, filters) matrix. Backward, dK = colsᵀ·dz
and dx adds the columns back onto the image (col2im) with one vectorized add
per kernel offset (u, v). The pools are the same loop over window offsets.

Padding is never materialized except for the im2col copy of a multi-channel
"same" convolution: each offset (u, v) only touches the output pixels whose
input cell lies inside the image (see :func:`offsets`).

Scratch arrays (the column matrix, a padded input) are kept between training
calls and reused while the batch size does not grow; arrays a step returns are
always fresh, since the program may hold on to them.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ..graph.types_conv import pad_before
from . import activations as act
from .step import BuildContext, Step


# ----------------------------------------------------------------- geometry
def _span(n_out: int, s: int, offset: int, size: int) -> tuple[slice, slice] | None:
    """Output positions i in [0, n_out) whose input cell i·s + offset is inside [0, size):
    (output slice, input slice), or None when there are none."""
    i0 = 0 if offset >= 0 else (-offset + s - 1) // s
    i1 = min(n_out, (size - 1 - offset) // s + 1)
    if i1 <= i0:
        return None
    r0 = i0 * s + offset
    return slice(i0, i1), slice(r0, r0 + (i1 - i0 - 1) * s + 1, s)


def offsets(in_hw, out_hw, k, s, pad):
    """For every window offset (u, v): (k index, u, v, out rows, in rows, out cols, in cols, full),
    ``full`` when every output pixel sees a real input cell at this offset."""
    (h, w), (ho, wo), (kh, kw), (sh, sw), (pt, pl) = in_hw, out_hw, k, s, pad
    out = []
    for u in range(kh):
        rows = _span(ho, sh, u - pt, h)
        for v in range(kw):
            cols = _span(wo, sw, v - pl, w)
            if rows is None or cols is None:
                continue
            full = rows[0] == slice(0, ho) and cols[0] == slice(0, wo)
            out.append((u * kw + v, u, v, rows[0], rows[1], cols[0], cols[1], full))
    return out


class _Scratch:
    """Arrays reused between calls: one per name, grown when the batch grows,
    handed out as a leading slice (still contiguous)."""

    def __init__(self):
        self._bufs: dict[str, np.ndarray] = {}

    def get(self, name: str, n: int, tail: tuple[int, ...], dtype, zero: bool = False,
            ones: bool = False) -> np.ndarray:
        buf = self._bufs.get(name)
        if buf is None or buf.shape[0] < n or buf.shape[1:] != tail or buf.dtype != dtype:
            buf = (np.ones if ones else np.zeros if zero else np.empty)((n,) + tail, dtype)
            self._bufs[name] = buf
        return buf[:n]


def _geometry(ctx: BuildContext, kname: str):
    p = ctx.params
    h, w, c = ctx.in_shapes[0]
    ho, wo, f = ctx.out_shape
    kh, kw = p[kname]
    sh, sw = p["strides"]
    pad = (pad_before(h, kh, sh, p["padding"]), pad_before(w, kw, sw, p["padding"]))
    return (h, w, c), (ho, wo, f), (kh, kw), (sh, sw), pad


# ------------------------------------------------------------------- Conv2D
class Conv2DStep(Step):
    """y = f(im2col(x) · K + b), K seen as a (kh·kw·c_in, filters) matrix."""

    def __init__(self, ctx: BuildContext):
        self.node_ids = (ctx.node_id,)
        self.ins = (ctx.ins[0],)
        self.out = ctx.out
        (h, w, c), (ho, wo, f), (kh, kw), (sh, sw), (pt, pl) = _geometry(ctx, "kernel_size")
        self.in_shape, self.out_shape = (h, w, c), (ho, wo, f)
        self.k, self.s, self.pad = (kh, kw), (sh, sw), (pt, pl)
        self.K = ctx.weights["kernel"]
        self.b = ctx.weights.get("bias")
        self.params = (self.K,) if self.b is None else (self.K, self.b)
        self.activation = ctx.params["activation"]
        self.keep_z = self.activation not in act.NEEDS_ONLY_OUTPUT
        self.offsets = offsets((h, w), (ho, wo), (kh, kw), (sh, sw), (pt, pl))
        # the rows and columns of the (virtually) padded image that windows read
        self.span_hw = ((ho - 1) * sh + kh, (wo - 1) * sw + kw)
        self.padded = pt > 0 or pl > 0 or self.span_hw[0] > h or self.span_hw[1] > w
        #: 1×1 kernel, stride 1: the image itself is the column matrix
        self.pointwise = (kh, kw, sh, sw) == (1, 1, 1, 1) and not self.padded
        #: the bias rides along in the products as a column of ones in the column matrix
        self.augment = int(self.b is not None and not self.pointwise)
        # one channel: copying window offset by offset is fastest; several: one strided copy
        self.by_offset = c == 1
        self.scratch = _Scratch()
        self.x = self.cols = self.z = self.y = None
        self.dz = None

    # ------------------------------------------------------------ im2col
    def _im2col(self, x: np.ndarray, reuse: bool) -> np.ndarray:
        """The column matrix (pixels, kh·kw·c_in), plus a last column of ones when the
        layer has a bias (so that one product adds it and one gives its gradient)."""
        n = x.shape[0]
        (h, w, c), (ho, wo, _), (kh, kw) = self.in_shape, self.out_shape, self.k
        if self.pointwise:
            return x.reshape(n * ho * wo, c)
        sh, sw = self.s
        kk = kh * kw * c
        width = kk + self.augment
        if reuse:
            # border cells (windows over padding) are never written: they stay zero
            cols = self.scratch.get("cols", n * ho * wo, (width,), x.dtype, zero=self.padded)
        else:
            cols = (np.zeros if self.padded else np.empty)((n * ho * wo, width), x.dtype)
        if self.augment:
            cols[:, kk] = 1
        cols6 = cols[:, :kk].reshape(n, ho, wo, kh, kw, c)
        if self.by_offset:
            for _, u, v, oi, ii, oj, ij, _ in self.offsets:
                cols6[:, oi, oj, u, v, :] = x[:, ii, ij, :]
        else:
            if self.padded:
                (pt, pl), (hp, wp) = self.pad, self.span_hw
                hp, wp = max(hp, pt + h), max(wp, pl + w)
                if reuse:
                    xp = self.scratch.get("padded", n, (hp, wp, c), x.dtype, zero=True)
                else:
                    xp = np.zeros((n, hp, wp, c), x.dtype)
                xp[:, pt:pt + h, pl:pl + w, :] = x
            else:
                xp = x
            win = sliding_window_view(xp, (kh, kw), axis=(1, 2))[:, :(ho - 1) * sh + 1:sh, :(wo - 1) * sw + 1:sw]
            np.copyto(cols6, win.transpose(0, 1, 2, 4, 5, 3))  # (n, ho, wo, c, kh, kw) -> (.., kh, kw, c)
        return cols

    def _kernel_matrix(self, dtype) -> np.ndarray:
        """K as (kh·kw·c_in, filters), with the bias as an extra last row when augmented."""
        K = self.K.value.reshape(-1, self.out_shape[2])
        if not self.augment:
            return K
        Kb = self.scratch.get("kernel", K.shape[0] + 1, K.shape[1:], K.dtype)
        Kb[:-1] = K
        Kb[-1] = self.b.value
        return Kb

    # ----------------------------------------------------------- forward
    def forward(self, xs, training):
        x = xs[0]
        n = x.shape[0]
        ho, wo, f = self.out_shape
        cols = self._im2col(x, reuse=training)
        z = cols @ self._kernel_matrix(x.dtype)
        if self.b is not None and not self.augment:
            z += self.b.value
        # z is this step's own fresh array: when only y is needed later, compute y in its place
        y = act.forward(self.activation, z, inplace=not self.keep_z and self.activation in act.INPLACE)
        self.x = x
        self.cols = cols if training else None  # rebuilt by backward if it is ever needed
        self.y = y.reshape(n, ho, wo, f)
        self.z = z.reshape(n, ho, wo, f) if (self.keep_z or y is z) else None
        return self.y

    # ---------------------------------------------------------- backward
    def backward(self, g, need):
        dz = self.dz if self.dz is not None else act.backward(self.activation, self.z, self.y, g)
        x = self.x
        n = x.shape[0]
        (h, w, c), (ho, wo, f), (kh, kw) = self.in_shape, self.out_shape, self.k
        dz2 = dz.reshape(n * ho * wo, f)
        cols = self.cols if self.cols is not None else self._im2col(x, reuse=False)
        if self.augment:
            # one product gives [dK; db]: the ones column sums dz over pixels
            gKb = np.matmul(cols.T, dz2, out=self.scratch.get("grad", cols.shape[1], (f,), dz2.dtype))
            self.K.add_grad(gKb[:-1].reshape(self.K.value.shape))
            self.b.add_grad(gKb[-1])
        else:
            gK = self.K.grad.reshape(-1, f)
            if self.K.touched:
                gK += cols.T @ dz2
            else:
                np.matmul(cols.T, dz2, out=gK)
                self.K.touched = True
            if self.b is not None:
                # a product with ones: much faster than summing the rows
                self.b.add_grad(self.scratch.get("ones", dz2.shape[0], (), dz2.dtype, ones=True) @ dz2)
        if not need[0]:
            return [None]
        K = self.K.value
        if self.pointwise:
            return [(dz2 @ K.reshape(c, f).T).reshape(x.shape)]
        dx = np.zeros((n, h, w, c), dz2.dtype)
        if self.by_offset:
            dcols = self.scratch.get("dcols", n * ho * wo, (kh * kw * c,), dz2.dtype)
            np.matmul(dz2, K.reshape(-1, f).T, out=dcols)
            dcols = dcols.reshape(n, ho, wo, kh, kw, c)
            for _, u, v, oi, ii, oj, ij, _ in self.offsets:
                dx[:, ii, ij, :] += dcols[:, oi, oj, u, v, :]
        else:
            # one product per offset gives contiguous (pixel, channel) rows to add
            part = self.scratch.get("dpart", n * ho * wo, (c,), dz2.dtype)
            part4 = part.reshape(n, ho, wo, c)
            for _, u, v, oi, ii, oj, ij, _ in self.offsets:
                np.matmul(dz2, K[u, v].T, out=part)
                dx[:, ii, ij, :] += part4[:, oi, oj, :]
        return [dx]

    def clear(self):
        self.x = self.cols = self.z = self.y = self.dz = None


# ------------------------------------------------------------------ pooling
class _PoolStep(Step):
    def __init__(self, ctx: BuildContext):
        self.node_ids = (ctx.node_id,)
        self.ins = (ctx.ins[0],)
        self.out = ctx.out
        (h, w, c), (ho, wo, _), k, s, pad = _geometry(ctx, "pool_size")
        self.in_shape, self.out_shape = (h, w, c), (ho, wo, c)
        self.offsets = offsets((h, w), (ho, wo), k, s, pad)
        #: windows do not overlap: every input cell is in at most one window
        self.disjoint = s[0] >= k[0] and s[1] >= k[1]
        #: ... and in exactly one
        self.tiles = s == k and pad == (0, 0) and (h, w) == (ho * k[0], wo * k[1])
        self.x = None

    def _grad_buffer(self, n: int, dtype) -> np.ndarray:
        return (np.empty if self.tiles else np.zeros)((n,) + self.in_shape, dtype)

    def clear(self):
        self.x = None


class MaxPool2DStep(_PoolStep):
    """y = the largest value of each window; the gradient goes to that value's cell
    (the first one, on ties)."""

    def __init__(self, ctx: BuildContext):
        super().__init__(ctx)
        self.idx = None
        self.idx_dtype = np.uint8 if len(self.offsets) and self.offsets[-1][0] < 255 else np.intp

    def forward(self, xs, training):
        x = xs[0]
        n = x.shape[0]
        shape = (n,) + self.out_shape
        y = np.empty(shape, x.dtype)
        idx = np.zeros(shape, self.idx_dtype)
        ops = self.offsets
        if ops and ops[0][7]:
            _, _, _, oi, ii, oj, ij, _ = ops[0]
            np.copyto(y, x[:, ii, ij, :])
            idx.fill(ops[0][0])
            ops = ops[1:]
        else:
            y.fill(-np.inf)
        better = np.empty(shape, bool)
        for k, _, _, oi, ii, oj, ij, _ in ops:
            s = x[:, ii, ij, :]
            yr, b = y[:, oi, oj, :], better[:, oi, oj, :]
            np.greater(s, yr, out=b)
            np.copyto(yr, s, where=b)
            np.copyto(idx[:, oi, oj, :], k, where=b)
        self.x, self.idx = x, idx
        return y

    def backward(self, g, need):
        if not need[0]:
            return [None]
        n = self.x.shape[0]
        dx = self._grad_buffer(n, g.dtype)
        hit = np.empty(g.shape, bool)
        for k, _, _, oi, ii, oj, ij, _ in self.offsets:
            m = hit[:, oi, oj, :]
            np.equal(self.idx[:, oi, oj, :], k, out=m)
            if self.disjoint:
                np.multiply(g[:, oi, oj, :], m, out=dx[:, ii, ij, :])
            else:
                dx[:, ii, ij, :] += g[:, oi, oj, :] * m
        return [dx]

    def clear(self):
        self.x = self.idx = None


class AvgPool2DStep(_PoolStep):
    """y = the mean of each window's cells inside the image."""

    def __init__(self, ctx: BuildContext):
        super().__init__(ctx)
        ho, wo, _ = self.out_shape
        count = np.zeros((ho, wo), np.int64)
        for _, _, _, oi, _, oj, _, _ in self.offsets:
            count[oi, oj] += 1
        self.inv_count64 = (1.0 / count)[:, :, None]
        self.uniform = bool(np.all(count == count.flat[0]))
        self._inv: dict = {}

    def _inv_count(self, dtype):
        inv = self._inv.get(dtype)
        if inv is None:
            inv = dtype.type(self.inv_count64.flat[0]) if self.uniform else self.inv_count64.astype(dtype)
            self._inv[dtype] = inv
        return inv

    def forward(self, xs, training):
        x = xs[0]
        n = x.shape[0]
        y = np.zeros((n,) + self.out_shape, x.dtype)
        for _, _, _, oi, ii, oj, ij, _ in self.offsets:
            y[:, oi, oj, :] += x[:, ii, ij, :]
        y *= self._inv_count(x.dtype)
        self.x = x
        return y

    def backward(self, g, need):
        if not need[0]:
            return [None]
        gs = g * self._inv_count(g.dtype)
        dx = self._grad_buffer(self.x.shape[0], g.dtype)
        for _, _, _, oi, ii, oj, ij, _ in self.offsets:
            if self.disjoint:
                np.copyto(dx[:, ii, ij, :], gs[:, oi, oj, :])
            else:
                dx[:, ii, ij, :] += gs[:, oi, oj, :]
        return [dx]


# ------------------------------------------------------------ GlobalAvgPool
class GlobalAvgPoolStep(Step):
    """y[c] = mean of x[..., c] over every axis but the batch and the last."""

    def __init__(self, ctx: BuildContext):
        self.node_ids = (ctx.node_id,)
        self.ins = (ctx.ins[0],)
        self.out = ctx.out
        self.in_shape = tuple(ctx.in_shapes[0])
        self.count = int(np.prod(self.in_shape[:-1]))
        self.x_shape = None

    def forward(self, xs, training):
        x = xs[0]
        n, c = x.shape[0], x.shape[-1]
        self.x_shape = x.shape
        return x.reshape(n, self.count, c).mean(axis=1)

    def backward(self, g, need):
        if not need[0]:
            return [None]
        n, c = g.shape
        dx = np.empty((n, self.count, c), g.dtype)
        np.multiply(g[:, None, :], g.dtype.type(1.0 / self.count), out=dx)
        return [dx.reshape(self.x_shape)]

    def clear(self):
        self.x_shape = None


BUILDERS = {
    "Conv2D": Conv2DStep,
    "MaxPool2D": MaxPool2DStep,
    "AvgPool2D": AvgPool2DStep,
    "GlobalAvgPool": GlobalAvgPoolStep,
}
