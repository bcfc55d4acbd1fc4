"""Inside a sequence layer, for one traced sample: every intermediate array of
multi-head self-attention and of the recurrent cells (SimpleRNN, LSTM, GRU).

    steps = attention_steps(trace, network, "selfattention_1")
    steps.heads[0].weights      # softmax(QKᵀ/√d) of head 0, (T, T)
    rec = recurrent_steps(trace, network, "lstm_1")
    rec.rows["f"][t]            # the forget gate at step t

The arithmetic is the engine's own (``op_attention.SelfAttentionStep``,
``op_recurrent``): the same weight layout (heads side by side in the columns,
gates in the Keras order i, f, g, o and z, r, h̃), the same masking (−inf
before the softmax), the same max-subtracted softmax, h₀ = c₀ = 0, in the
trace's dtype. Only what the engine computes in one fused array is kept here
piece by piece (x·W, h·U and b apart), so a view can write each equation with
its numbers. Tests check the results equal the engine's (the trace's output
and the steps' cached arrays).

``weights`` is a dict "<node>/<weight>" -> array (``Network.get_weights()``,
or the trace's own weight values), or a Network (its weights and the node's
parameters are taken from it). ``params`` is the node's parameter dict, needed
when ``weights`` is a plain dict (heads, key size and causal for attention,
the activation for SimpleRNN).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Mapping

import numpy as np

from ..errors import AnnError
from . import activations as act

__all__ = ["attention_steps", "recurrent_steps", "AttentionSteps", "HeadSteps", "RecurrentSteps",
           "GATE_NAMES", "GATE_LABELS", "RECURRENT_TYPES"]

RECURRENT_TYPES = ("SimpleRNN", "LSTM", "GRU")

#: the gate blocks of each cell type, in the order of the kernels' columns
GATE_NAMES = {"SimpleRNN": ("z_rnn",), "LSTM": ("i", "f", "g", "o"), "GRU": ("z", "r", "h̃")}

#: what each row of :attr:`RecurrentSteps.rows` is called
GATE_LABELS = {
    "x": "input xₜ", "i": "input gate iₜ", "f": "forget gate fₜ", "g": "candidate gₜ", "o": "output gate oₜ",
    "c": "cell cₜ", "tanh_c": "tanh(cₜ)", "z": "update gate zₜ", "r": "reset gate rₜ", "h̃": "candidate h̃ₜ",
    "h": "state hₜ", "z_rnn": "pre-activation zₜ",
}


# ------------------------------------------------------------------ helpers
def _weights_and_params(weights: Any, params: Mapping | None, node_id: str) -> tuple[Mapping, Mapping]:
    if hasattr(weights, "get_weights"):  # a Network
        net = weights
        if params is None:
            params = net.graph.nodes[node_id].params
        weights = net.get_weights()
    if params is None:
        raise AnnError(f"inside view of '{node_id}': the node's parameters are needed (pass params, or the network)")
    return weights, params


def _weight(weights: Mapping, node_id: str, name: str, dtype, required: bool = True):
    key = f"{node_id}/{name}"
    if key not in weights:
        if required:
            raise AnnError(f"inside view of '{node_id}': no weight '{key}'")
        return None
    return np.asarray(weights[key]).astype(dtype, copy=False)


def _softmax_rows(a: np.ndarray) -> np.ndarray:
    """As the engine: subtract the row maximum (finite: the diagonal is never masked), exp, normalise."""
    a = a - a.max(axis=-1, keepdims=True)
    np.exp(a, out=a)
    a /= a.sum(axis=-1, keepdims=True)
    return a


# ---------------------------------------------------------------- attention
@dataclass(frozen=True)
class HeadSteps:
    """One head: T query positions (rows) × T key positions (columns)."""

    head: int
    columns: slice  # this head's columns in the kernels (and in ``concat``)
    q: np.ndarray  # (T, key_dim) = x W_Q[:, cols] + b_Q[cols]
    k: np.ndarray  # (T, key_dim)
    v: np.ndarray  # (T, key_dim)
    scores: np.ndarray  # (T, T) = q kᵀ
    scaled: np.ndarray  # (T, T) = scores / √key_dim
    masked: np.ndarray  # (T, T) = scaled, with mask_value where masked
    weights: np.ndarray  # (T, T) softmax of each row of masked
    output: np.ndarray  # (T, key_dim) = weights · v


@dataclass(frozen=True)
class AttentionSteps:
    node_id: str
    T: int
    D: int
    n_heads: int
    key_dim: int
    causal: bool
    scale: float  # 1 / √key_dim
    mask: np.ndarray  # (T, T) bool: True where a query may not look (j > i when causal)
    mask_value: float  # what masked scores become before the softmax (−inf, as the engine)
    x: np.ndarray  # (T, D) the input
    heads: tuple[HeadSteps, ...]
    concat: np.ndarray  # (T, heads·key_dim): the heads' outputs side by side
    output: np.ndarray  # (T, D) = concat W_O + b_O
    output_kernel: np.ndarray
    output_bias: np.ndarray | None


def attention_steps(trace, weights: Any, node_id: str, params: Mapping | None = None) -> AttentionSteps:
    """Every intermediate array of SelfAttention node ``node_id`` for the traced sample."""
    n = trace.node_of(node_id, ("SelfAttention",), inputs=1)
    weights, params = _weights_and_params(weights, params, node_id)
    dtype = np.dtype(trace.dtype)
    x = np.asarray(n.input_values[0]).astype(dtype, copy=False)
    if x.ndim != 2:
        raise AnnError(f"inside view of '{node_id}': the input has shape {x.shape}, not (T, D)")
    T, D = x.shape
    H, K = int(params["heads"]), int(params["key_dim"])
    causal = bool(params.get("causal", False))
    w = {name: _weight(weights, node_id, name, dtype) for name in
         ("query_kernel", "key_kernel", "value_kernel", "output_kernel")}
    b = {name: _weight(weights, node_id, name, dtype, required=False) for name in
         ("query_bias", "key_bias", "value_bias", "output_bias")}
    if w["query_kernel"].shape != (D, H * K):
        raise AnnError(f"inside view of '{node_id}': query_kernel has shape {w['query_kernel'].shape}, "
                       f"not ({D}, {H * K}) for {H} heads of {K}")
    scale = 1.0 / math.sqrt(K)
    mask = np.triu(np.ones((T, T), bool), 1) if causal else np.zeros((T, T), bool)

    def project(kind: str) -> np.ndarray:
        z = x @ w[f"{kind}_kernel"]
        if b[f"{kind}_bias"] is not None:
            z += b[f"{kind}_bias"]
        return z

    Q, Kx, V = project("query"), project("key"), project("value")
    heads = []
    for h in range(H):
        cols = slice(h * K, (h + 1) * K)
        q, k, v = Q[:, cols], Kx[:, cols], V[:, cols]
        scores = q @ k.T
        scaled = scores * dtype.type(scale)
        masked = scaled.copy()
        masked[mask] = -np.inf
        a = _softmax_rows(masked)
        heads.append(HeadSteps(h, cols, q, k, v, scores, scaled, masked, a, a @ v))
    concat = np.concatenate([hs.output for hs in heads], axis=1)
    y = concat @ w["output_kernel"]
    if b["output_bias"] is not None:
        y += b["output_bias"]
    return AttentionSteps(node_id, T, D, H, K, causal, scale, mask, -math.inf, x, tuple(heads), concat, y,
                          w["output_kernel"], b["output_bias"])


# ---------------------------------------------------------------- recurrent
@dataclass(frozen=True)
class RecurrentSteps:
    """A recurrent layer unrolled over the T steps of the sample (h₀ = c₀ = 0).

    ``rows`` maps a row key (see :data:`GATE_LABELS`) to a (T, width) array, in
    the order a view shows them: "x", then the gates (LSTM: i, f, g, o, c,
    tanh_c; GRU: z, r, h̃; SimpleRNN: z_rnn), then "h". ``xw``, ``hu`` and
    ``bias`` hold the three terms of each gate's pre-activation (T, units),
    (T, units), (units) and ``pre`` their sum: gate = f(pre). For the GRU
    candidate ``hu`` is (rₜ⊙hₜ₋₁)U_h; for a GRU with ``reset_after`` it is
    rₜ⊙nₜ with ``n`` = hₜ₋₁U_h + b_hh (T, units), the bias of z and r is the sum of
    the input and the recurrent row, and that of h̃ the input row."""

    node_id: str
    kind: str  # SimpleRNN, LSTM or GRU
    T: int
    F: int
    units: int
    return_sequences: bool
    activation: str  # SimpleRNN's f (tanh for the others' candidates)
    rows: dict[str, np.ndarray]
    xw: dict[str, np.ndarray]
    hu: dict[str, np.ndarray]
    bias: dict[str, np.ndarray]
    pre: dict[str, np.ndarray]
    h_prev: np.ndarray  # (T, units): hₜ₋₁ (zeros at t = 0)
    c_prev: np.ndarray | None  # (T, units): cₜ₋₁ (LSTM only)
    output: np.ndarray  # what the layer returns: h (T, units) or its last row (units)
    reset_after: bool = False  # GRU: the reset gate multiplies hₜ₋₁U_h + b_hh
    n: np.ndarray | None = None  # (T, units): hₜ₋₁U_h + b_hh (GRU with reset_after only)

    @property
    def gates(self) -> tuple[str, ...]:
        return GATE_NAMES[self.kind]

    @property
    def h(self) -> np.ndarray:
        return self.rows["h"]


def _sigmoid(z: np.ndarray) -> np.ndarray:
    """σ(z) as the recurrent steps compute it: ½·tanh(z/2) + ½."""
    half = z.dtype.type(0.5)
    return np.tanh(z * half) * half + half


def recurrent_steps(trace, weights: Any, node_id: str, params: Mapping | None = None) -> RecurrentSteps:
    """Every gate and state of recurrent node ``node_id`` at every step of the traced sample."""
    n = trace.node_of(node_id, RECURRENT_TYPES, inputs=1)
    kind = n.type_id
    if params is None and not hasattr(weights, "get_weights"):
        params = {}
    weights, params = _weights_and_params(weights, params, node_id)
    dtype = np.dtype(trace.dtype)
    x = np.asarray(n.input_values[0]).astype(dtype, copy=False)
    if x.ndim != 2:
        raise AnnError(f"inside view of '{node_id}': the input has shape {x.shape}, not (T, F)")
    T, F = x.shape
    W = _weight(weights, node_id, "kernel", dtype)
    U = _weight(weights, node_id, "recurrent_kernel", dtype)
    b = _weight(weights, node_id, "bias", dtype, required=False)
    u = U.shape[0]
    k = len(GATE_NAMES[kind])
    if W.shape != (F, k * u) or U.shape != (u, k * u):
        raise AnnError(f"inside view of '{node_id}': kernel {W.shape} and recurrent_kernel {U.shape} do not fit "
                       f"a {kind} of {u} units over {F} features")
    if "return_sequences" in params:
        return_sequences = bool(params["return_sequences"])
    else:
        return_sequences = np.asarray(n.output).ndim == 2
    activation = str(params.get("activation", "tanh")) if kind == "SimpleRNN" else "tanh"
    names = GATE_NAMES[kind]
    block = {name: slice(i * u, (i + 1) * u) for i, name in enumerate(names)}
    zeros = np.zeros(u, dtype)
    # a GRU with reset_after: Keras's bias (2, 3·units), the input row and the recurrent row
    reset_after = kind == "GRU" and bool(params.get("reset_after", b is not None and b.ndim == 2))
    if kind == "GRU" and b is not None and b.shape != ((2, k * u) if reset_after else (k * u,)):
        raise AnnError(f"inside view of '{node_id}': bias {b.shape} does not fit a {kind} of {u} units"
                       + (" with reset_after" if reset_after else ""))
    b_hh = None
    if reset_after and b is not None:
        b_hh = b[1, block["h̃"]].copy()
        b = b[0] + np.concatenate([b[1, :2 * u], np.zeros(u, dtype)])  # z, r: both rows; h̃: the input row
    xw = {g: x @ W[:, s] for g, s in block.items()}
    bias = {g: (b[s].copy() if b is not None else zeros.copy()) for g, s in block.items()}
    NR = np.zeros((T, u), dtype) if reset_after else None
    hu = {g: np.zeros((T, u), dtype) for g in names}
    pre = {g: np.zeros((T, u), dtype) for g in names}
    out = {g: np.zeros((T, u), dtype) for g in names}
    H = np.zeros((T, u), dtype)
    Hp = np.zeros((T, u), dtype)
    C = np.zeros((T, u), dtype) if kind == "LSTM" else None
    Cp = np.zeros((T, u), dtype) if kind == "LSTM" else None
    TC = np.zeros((T, u), dtype) if kind == "LSTM" else None
    h = zeros.copy()
    c = zeros.copy()
    for t in range(T):
        Hp[t] = h
        if kind == "SimpleRNN":
            hu["z_rnn"][t] = h @ U
            pre["z_rnn"][t] = xw["z_rnn"][t] + hu["z_rnn"][t] + bias["z_rnn"]
            out["z_rnn"][t] = act.forward(activation, pre["z_rnn"][t][None].copy())[0]
            h = out["z_rnn"][t].copy()
        elif kind == "LSTM":
            Cp[t] = c
            for g, s in block.items():
                hu[g][t] = h @ U[:, s]
                pre[g][t] = xw[g][t] + hu[g][t] + bias[g]
                out[g][t] = np.tanh(pre[g][t]) if g == "g" else _sigmoid(pre[g][t])
            c = out["f"][t] * c + out["i"][t] * out["g"][t]
            C[t] = c
            TC[t] = np.tanh(c)
            h = out["o"][t] * TC[t]
        else:  # GRU
            for g in ("z", "r"):
                hu[g][t] = h @ U[:, block[g]]
                pre[g][t] = xw[g][t] + hu[g][t] + bias[g]
                out[g][t] = _sigmoid(pre[g][t])
            if reset_after:  # r multiplies the recurrent product: r⊙(hU_h + b_hh)
                NR[t] = h @ U[:, block["h̃"]]
                if b_hh is not None:
                    NR[t] += b_hh
                hu["h̃"][t] = out["r"][t] * NR[t]
            else:
                hu["h̃"][t] = (out["r"][t] * h) @ U[:, block["h̃"]]
            pre["h̃"][t] = xw["h̃"][t] + hu["h̃"][t] + bias["h̃"]
            out["h̃"][t] = np.tanh(pre["h̃"][t])
            h = out["z"][t] * h + (1 - out["z"][t]) * out["h̃"][t]  # Keras: z keeps the old state
        H[t] = h
    rows: dict[str, np.ndarray] = {"x": x}
    if kind == "SimpleRNN":
        rows["z_rnn"] = pre["z_rnn"]
    else:
        rows.update((g, out[g]) for g in names)
    if kind == "LSTM":
        rows["c"] = C
        rows["tanh_c"] = TC
    rows["h"] = H
    output = H if return_sequences else H[-1]
    return RecurrentSteps(node_id, kind, T, F, u, return_sequences, activation, rows, xw, hu, bias, pre, Hp, Cp,
                          output, reset_after, NR)
