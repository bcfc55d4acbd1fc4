"""SimpleRNN, LSTM and GRU, trained by backpropagation through time (BPTT).

A batch arrives as x (N, T, F). Inside, everything is time-major, (T, N, ·), so
that each step's slice is one contiguous block. The loops run over time steps
only. The input projection of all steps is one matmul up front,
(T·N, F) @ W; the backward pass ends with one matmul each for dW, dU and dx
over all steps. Per step there remain h @ U (forward), dz @ Uᵀ (backward) and
a few elementwise operations on (N, k·units) blocks. Whatever elementwise work
does not depend on the backward recursion (activation and gate derivatives,
products of stored gates) is done for all steps at once before the loop.

Sigmoid gates are computed as σ(z) = ½·tanh(z/2) + ½: the sigmoid columns of
the input projection and of U are scaled by ½ before the loop, so one tanh over
all gate columns and one multiply-add give every gate of a step.
"""

from __future__ import annotations

import numpy as np

from . import activations as act
from .step import BuildContext, Step


def lstm_step_flops(N: int, F: int, units: int) -> int:
    """Floating-point operations of the matmuls of one LSTM time step, forward
    only: 2·N·(F + units)·4·units. Forward plus backward is about three times this."""
    return 2 * N * (F + units) * 4 * units



def _add_incoming(dh: np.ndarray | None, incoming: np.ndarray | None) -> np.ndarray | None:
    """dL/dhₜ: what flows back from step t + 1 (``dh``, summed in place) plus what arrives
    from outside at step t; None while neither has come."""
    if dh is None:
        return incoming
    if incoming is not None:
        dh += incoming
    return dh

class _RecurrentStep(Step):
    """What SimpleRNN, LSTM and GRU share: weights, the input projection, the
    output, and the final all-steps matmuls of the backward pass."""

    #: arrays forward keeps for backward (dropped by :meth:`clear`)
    cache: tuple[str, ...] = ("xt",)

    def __init__(self, ctx: BuildContext):
        self.node_ids = (ctx.node_id,)
        self.ins = (ctx.ins[0],)
        self.out = ctx.out
        self.units = int(ctx.params["units"])
        self.return_sequences = bool(ctx.params["return_sequences"])
        self.dtype = np.dtype(ctx.dtype)
        self.W = ctx.weights["kernel"]
        self.U = ctx.weights["recurrent_kernel"]
        self.b = ctx.weights.get("bias")
        self.params = (self.W, self.U) if self.b is None else (self.W, self.U, self.b)
        self.xt = None

    def clear(self) -> None:
        for name in self.cache:
            setattr(self, name, None)

    # ------------------------------------------------------------ helpers
    def _project(self, x: np.ndarray, scale: np.ndarray | None = None) -> np.ndarray:
        """(x W + b)·scale for every step at once, time-major: a fresh (T, N, k·units) array."""
        n, t, f = x.shape
        xt = self.xt = np.ascontiguousarray(x.transpose(1, 0, 2)).reshape(t * n, f)
        W = self.W.value if scale is None else np.multiply(self.W.value, scale, order="C")
        xp = (xt @ W).reshape(t, n, -1)
        b = self._input_bias()
        if b is not None:
            xp += b if scale is None else b * scale
        return xp

    def _input_bias(self) -> np.ndarray | None:
        """The bias added to the input projection xW (k·units), or None."""
        return None if self.b is None else self.b.value

    def _output(self, H: np.ndarray) -> np.ndarray:
        """(N, T, units) (a view of the time-major states) or the last state (N, units)."""
        return H.transpose(1, 0, 2) if self.return_sequences else H[-1]

    def _incoming(self, g: np.ndarray, T: int) -> list:
        """dL/dhₜ from outside, per step (None where nothing arrives)."""
        if self.return_sequences:
            gt = np.ascontiguousarray(g.transpose(1, 0, 2))
            return list(gt)
        return [None] * (T - 1) + [g]

    def _finish(self, dZ: np.ndarray, dU: np.ndarray, need, db: np.ndarray | None = None) -> list:
        """Gradients of W and b, and dx, from the dz of all steps (T, N, k·units);
        ``db``: the bias gradient when it is not the sum of dz (a GRU's two bias rows)."""
        T, n, _ = dZ.shape
        dz2 = dZ.reshape(T * n, -1)
        self.W.add_matmul(self.xt.T, dz2)
        self.U.add_grad(dU)
        if self.b is not None:
            if db is not None:
                self.b.add_grad(db)
            else:
                self.b.add_rowsum(dz2)
        if not need[0]:
            return [None]
        dx = (dz2 @ self.W.value.T).reshape(T, n, -1)
        return [dx.transpose(1, 0, 2)]

    @staticmethod
    def _recurrent_grad(H: np.ndarray, dZ: np.ndarray) -> np.ndarray:
        """Σₜ hₜ₋₁ᵀ dzₜ (h₀ = 0, so step 0 adds nothing), as one matmul."""
        T, n, u = H.shape
        k = dZ.shape[-1]
        if T == 1:
            return np.zeros((u, k), H.dtype)
        return H[:-1].reshape((T - 1) * n, u).T @ dZ[1:].reshape((T - 1) * n, k)


class SimpleRNNStep(_RecurrentStep):
    """hₜ = f(xₜW + hₜ₋₁U + b), h₀ = 0."""

    cache = ("xt", "Z", "H")

    def __init__(self, ctx: BuildContext):
        super().__init__(ctx)
        self.activation = ctx.params["activation"]
        self.keep_z = self.activation not in act.NEEDS_ONLY_OUTPUT
        self.Z = self.H = None

    def forward(self, xs, training):
        name = self.activation
        Z = self._project(xs[0])
        T = Z.shape[0]
        U = np.ascontiguousarray(self.U.value)
        # when z is not needed later, each state is computed in place of its z
        H = np.empty_like(Z) if self.keep_z else Z
        inplace = not self.keep_z and name in act.INPLACE
        for t in range(T):
            zt = Z[t]
            if t:
                zt += H[t - 1] @ U
            y = act.forward(name, zt, inplace=inplace)
            if y is not zt or H is not Z:
                H[t] = y
        self.Z = Z if self.keep_z else None
        self.H = H
        return self._output(H)

    def backward(self, g, need):
        name, H = self.activation, self.H
        T = H.shape[0]
        UT = np.ascontiguousarray(self.U.value.T)
        # f'(z) of every step at once (all activations but softmax are elementwise)
        D = None
        if name not in ("linear", "softmax"):
            D = act.backward(name, self.Z, H, np.ones_like(H))
        dZ = np.empty_like(H)
        src = self._incoming(g, T)
        dh = None
        for t in range(T - 1, -1, -1):
            dh = _add_incoming(dh, src[t])
            if name == "softmax":
                dZ[t] = act.backward(name, None, H[t], dh)
            elif D is None:
                dZ[t] = dh
            else:
                np.multiply(dh, D[t], out=dZ[t])
            if t:
                dh = dZ[t] @ UT
        return self._finish(dZ, self._recurrent_grad(H, dZ), need)


class LSTMStep(_RecurrentStep):
    """Gates i, f, g, o (Keras column order): cₜ = f⊙cₜ₋₁ + i⊙g, hₜ = o⊙tanh(cₜ)."""

    cache = ("xt", "G", "C", "TC", "H")

    def __init__(self, ctx: BuildContext):
        super().__init__(ctx)
        u = self.units
        # gates = scale·tanh(scale·z) + shift: σ for i, f, o and tanh for g
        self.scale = np.full(4 * u, 0.5, self.dtype)
        self.scale[2 * u:3 * u] = 1
        self.shift = np.full(4 * u, 0.5, self.dtype)
        self.shift[2 * u:3 * u] = 0
        self.G = self.C = self.TC = self.H = None

    def forward(self, xs, training):
        u = self.units
        scale, shift = self.scale, self.shift
        G = self._project(xs[0], scale)
        T, N, _ = G.shape
        Us = np.multiply(self.U.value, scale, order="C")  # C order: faster per-step matmuls
        C = np.empty((T, N, u), G.dtype)
        TC = np.empty_like(C)
        H = np.empty_like(C)
        for t in range(T):
            gt = G[t]
            if t:
                gt += H[t - 1] @ Us
            np.tanh(gt, out=gt)
            gt *= scale
            gt += shift
            c = C[t]
            np.multiply(gt[:, :u], gt[:, 2 * u:3 * u], out=c)
            if t:
                c += gt[:, u:2 * u] * C[t - 1]
            np.tanh(c, out=TC[t])
            np.multiply(gt[:, 3 * u:], TC[t], out=H[t])
        self.G, self.C, self.TC, self.H = G, C, TC, H
        return self._output(H)

    def backward(self, g, need):
        u = self.units
        G, C, TC, H = self.G, self.C, self.TC, self.H
        T, N, _ = G.shape
        UT = np.ascontiguousarray(self.U.value.T)
        gi, gf, gg, go = G[..., :u], G[..., u:2 * u], G[..., 2 * u:3 * u], G[..., 3 * u:]
        # what does not depend on the recursion, for all steps at once:
        # dz of (i, f, g) = dc·Q, dz of o = dh·P, and dh's share of dc is dh·OT
        Q = np.empty((T, N, 3, u), G.dtype)
        Q[:, :, 0] = gg * gi * (1 - gi)
        Q[0, :, 1] = 0
        Q[1:, :, 1] = C[:-1] * gf[1:] * (1 - gf[1:])
        Q[:, :, 2] = gi * (1 - gg * gg)
        P = TC * go * (1 - go)
        OT = go * (1 - TC * TC)
        dZ = np.empty((T, N, 4, u), G.dtype)
        src = self._incoming(g, T)
        dh = dc = None
        for t in range(T - 1, -1, -1):
            dh = _add_incoming(dh, src[t])
            dct = dh * OT[t]
            if dc is not None:
                dct += dc
            np.multiply(dct[:, None, :], Q[t], out=dZ[t, :, :3])
            np.multiply(dh, P[t], out=dZ[t, :, 3])
            if t:
                dc = dct * gf[t]
                dh = dZ[t].reshape(N, 4 * u) @ UT
        dZ = dZ.reshape(T, N, 4 * u)
        return self._finish(dZ, self._recurrent_grad(H, dZ), need)


class GRUStep(_RecurrentStep):
    """z, r = σ(·), h̃ = tanh(xW_h + (r⊙hₜ₋₁)U_h + b_h), hₜ = z⊙hₜ₋₁ + (1 − z)⊙h̃.

    The convention of Keras ``GRU(reset_after=False)`` (and of ONNX GRU with
    ``linear_before_reset=0``): z near 1 keeps the old state. Files of schema
    2 and older used hₜ = (1 − z)⊙hₜ₋₁ + z⊙h̃; loading migrates them (see
    :mod:`anndesigner.io.migrations`).

    With ``reset_after`` (Keras's ``GRU(reset_after=True)``, PyTorch's
    ``nn.GRU``, ONNX ``linear_before_reset=1``) the bias b is (2, 3·units),
    row 0 added to xW and row 1 to hₜ₋₁U, and the reset gate multiplies the
    recurrent product: nₜ = hₜ₋₁U_h + b[1]_h, h̃ = tanh(xW_h + b[0]_h + r⊙nₜ)."""

    cache = ("xt", "G", "H", "RH", "NR")

    def __init__(self, ctx: BuildContext):
        super().__init__(ctx)
        u = self.units
        self.reset_after = bool(ctx.params.get("reset_after", False))
        self.scale = np.ones(3 * u, self.dtype)  # σ(z) = ½ tanh(z/2) + ½ for z and r
        self.scale[:2 * u] = 0.5
        self.G = self.H = self.RH = self.NR = None

    def _input_bias(self):
        if self.b is None or not self.reset_after:
            return super()._input_bias()
        # z and r add both rows outside the recursion; h̃ only the input row (its
        # recurrent row sits inside r⊙(hU_h + b_hh))
        b = self.b.value
        out = b[0].copy()
        out[:2 * self.units] += b[1, :2 * self.units]
        return out

    def forward(self, xs, training):
        if self.reset_after:
            return self._forward_after(xs)
        u = self.units
        G = self._project(xs[0], self.scale)
        T, N, _ = G.shape
        half = G.dtype.type(0.5)
        U = self.U.value
        Uzr = np.multiply(U[:, :2 * u], half, order="C")
        Uh = np.ascontiguousarray(U[:, 2 * u:])
        H = np.empty((T, N, u), G.dtype)
        RH = np.empty_like(H)  # r⊙hₜ₋₁, for the gradient of U_h
        RH[0] = 0
        for t in range(T):
            zr = G[t, :, :2 * u]
            hh = G[t, :, 2 * u:]
            h = H[t]
            if t:
                hp = H[t - 1]
                zr += hp @ Uzr
            np.tanh(zr, out=zr)
            zr *= half
            zr += half
            if t:
                np.multiply(zr[:, u:], hp, out=RH[t])
                hh += RH[t] @ Uh
                np.tanh(hh, out=hh)
                np.subtract(hp, hh, out=h)  # h = h̃ + z⊙(hₜ₋₁ − h̃)
                h *= zr[:, :u]
                h += hh
            else:  # h₀ = 0: h = (1 − z)⊙h̃
                np.tanh(hh, out=hh)
                np.multiply(zr[:, :u], hh, out=h)
                np.subtract(hh, h, out=h)
        self.G, self.H, self.RH = G, H, RH
        return self._output(H)

    def _forward_after(self, xs):
        """The reset-after variant: nₜ = hₜ₋₁U_h + b[1]_h is kept for the backward pass."""
        u = self.units
        G = self._project(xs[0], self.scale)
        T, N, _ = G.shape
        half = G.dtype.type(0.5)
        Us = np.multiply(self.U.value, self.scale, order="C")  # z, r columns halved
        bh = None if self.b is None else self.b.value[1, 2 * u:]
        H = np.empty((T, N, u), G.dtype)
        NR = np.empty_like(H)  # nₜ = hₜ₋₁U_h + b_hh, what r multiplies
        for t in range(T):
            zr = G[t, :, :2 * u]
            hh = G[t, :, 2 * u:]
            h, n = H[t], NR[t]
            if t:
                hp = H[t - 1]
                hu = hp @ Us
                zr += hu[:, :2 * u]
                np.copyto(n, hu[:, 2 * u:])
                if bh is not None:
                    n += bh
            elif bh is not None:  # h₀ = 0: n = b_hh
                n[...] = bh
            else:
                n[...] = 0
            np.tanh(zr, out=zr)
            zr *= half
            zr += half
            hh += zr[:, u:] * n
            np.tanh(hh, out=hh)
            if t:
                np.subtract(hp, hh, out=h)  # h = h̃ + z⊙(hₜ₋₁ − h̃)
                h *= zr[:, :u]
                h += hh
            else:  # h₀ = 0: h = (1 − z)⊙h̃
                np.multiply(zr[:, :u], hh, out=h)
                np.subtract(hh, h, out=h)
        self.G, self.H, self.NR = G, H, NR
        return self._output(H)

    def backward(self, g, need):
        if self.reset_after:
            return self._backward_after(g, need)
        u = self.units
        G, H, RH = self.G, self.H, self.RH
        T, N, _ = G.shape
        U = self.U.value
        UzrT = np.ascontiguousarray(U[:, :2 * u].T)
        UhT = np.ascontiguousarray(U[:, 2 * u:].T)
        gz, gr, hh = G[..., :u], G[..., u:2 * u], G[..., 2 * u:]
        Hp = np.empty_like(H)  # hₜ₋₁
        Hp[0] = 0
        Hp[1:] = H[:-1]
        # factors of the recursion, for all steps at once
        A1 = (Hp - hh) * gz * (1 - gz)    # dh -> dz of z
        A2 = (1 - gz) * (1 - hh * hh)     # dh -> dz of h̃
        A3 = Hp * gr * (1 - gr)           # d(r⊙h) -> dz of r
        A4 = gz                           # dh -> dhₜ₋₁ directly
        dZ = np.empty_like(G)
        src = self._incoming(g, T)
        dh = None
        for t in range(T - 1, -1, -1):
            dh = _add_incoming(dh, src[t])
            dzt = dZ[t]
            np.multiply(dh, A1[t], out=dzt[:, :u])
            np.multiply(dh, A2[t], out=dzt[:, 2 * u:])
            if t:
                drh = dzt[:, 2 * u:] @ UhT
                np.multiply(drh, A3[t], out=dzt[:, u:2 * u])
                drh *= gr[t]
                dh = dh * A4[t]
                dh += drh
                dh += dzt[:, :2 * u] @ UzrT
            else:
                dzt[:, u:2 * u] = 0  # h₀ = 0: r has no effect at the first step
        dz2 = dZ.reshape(T * N, 3 * u)
        dU = np.empty_like(U)
        np.matmul(Hp.reshape(T * N, u).T, dz2[:, :2 * u], out=dU[:, :2 * u])
        np.matmul(RH.reshape(T * N, u).T, dz2[:, 2 * u:], out=dU[:, 2 * u:])
        return self._finish(dZ, dU, need)

    def _backward_after(self, g, need):
        """BPTT of the reset-after variant. The recurrent product hₜ₋₁U of all three
        blocks gets dR = [dz_z, dz_r, dn] with dn = d(pre h̃)⊙r, so dhₜ₋₁ is
        dh⊙z + dR Uᵀ (one matmul per step), dU = Σ hₜ₋₁ᵀ dR, and the bias rows
        get Σ dZ (input) and Σ dR (recurrent)."""
        u = self.units
        G, H, NR = self.G, self.H, self.NR
        T, N, _ = G.shape
        UT = np.ascontiguousarray(self.U.value.T)
        gz, gr, hh = G[..., :u], G[..., u:2 * u], G[..., 2 * u:]
        Hp = np.empty_like(H)  # hₜ₋₁
        Hp[0] = 0
        Hp[1:] = H[:-1]
        A1 = (Hp - hh) * gz * (1 - gz)    # dh -> dz of z
        A2 = (1 - gz) * (1 - hh * hh)     # dh -> dz of h̃
        A3 = NR * gr * (1 - gr)           # dz of h̃ -> dz of r (r multiplies n)
        dR = np.empty_like(G)             # dz of z, r and dn: what hₜ₋₁U receives
        DA = np.empty_like(H)             # dz of h̃ (its input part xW_h + b[0]_h)
        src = self._incoming(g, T)
        dh = None
        for t in range(T - 1, -1, -1):
            dh = _add_incoming(dh, src[t])
            drt, da = dR[t], DA[t]
            np.multiply(dh, A1[t], out=drt[:, :u])
            np.multiply(dh, A2[t], out=da)
            np.multiply(da, A3[t], out=drt[:, u:2 * u])
            np.multiply(da, gr[t], out=drt[:, 2 * u:])
            if t:
                dh = dh * gz[t]
                dh += drt @ UT
        dZ = dR.copy()
        dZ[..., 2 * u:] = DA
        db = None
        if self.b is not None:
            db = np.stack([dZ.reshape(T * N, 3 * u).sum(axis=0), dR.reshape(T * N, 3 * u).sum(axis=0)])
        return self._finish(dZ, self._recurrent_grad(H, dR), need, db)


BUILDERS = {"SimpleRNN": SimpleRNNStep, "LSTM": LSTMStep, "GRU": GRUStep}
