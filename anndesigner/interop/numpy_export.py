"""Export a network as plain NumPy code: the math a learner can read.

:func:`export_numpy` writes two files: ``OUT.py``, a standalone script that
imports only NumPy (and Python's own ``pathlib``, plus ``math.erf`` for an
exact GELU), and ``OUT.npz`` beside it with the weights, which the script loads
with ``allow_pickle=False``. The script holds

* one small function per layer type the network uses (``dense``, ``conv2d``,
  ``lstm``, ...), each a few lines of NumPy with its formula in the docstring;
* ``forward(x)``, which wires the layers: one line per layer, its variable
  named after the graph's node, with a comment giving the output shape;
* when the network's data set standardizes its inputs, ``(x − mean) / std``
  as the first line of ``forward``, so the script takes **raw rows**, as
  :meth:`Network.predict <anndesigner.engine.Network.predict>` does;
* a ``__main__`` that prints the outputs of the rows of a CSV file of numbers.

The code is written from the network's **compiled program**, step by step, so
a network drawn neuron by neuron exports as the layers it runs as (its neurons
fused into one matrix product per layer; a single neuron's output is a column
of it). The forward pass is prediction mode: Dropout does nothing, BatchNorm
uses its moving statistics. Weights are written as float32 and the script
computes in float32, as the engine does for a float32 network.
"""

from __future__ import annotations

import keyword
import math
import re
import textwrap
import unicodedata
from pathlib import Path

import numpy as np

from .._version import __version__ as _VERSION
from . import InteropError

# ------------------------------------------------------------ the layer code
#: the script's functions, by name: (code, names of other functions it calls)
_FUNCS: dict[str, tuple[str, tuple[str, ...]]] = {
    "linear": ('''def linear(z):
    """f(z) = z"""
    return z''', ()),
    "relu": ('''def relu(z):
    """f(z) = max(z, 0)"""
    return np.maximum(z, 0)''', ()),
    "sigmoid": ('''def sigmoid(z):
    """f(z) = 1 / (1 + e^-z), computed as (1 + tanh(z/2)) / 2, the same value without overflow"""
    return 0.5 * (1 + np.tanh(0.5 * z))''', ()),
    "tanh": ('''def tanh(z):
    """f(z) = (e^z - e^-z) / (e^z + e^-z)"""
    return np.tanh(z)''', ()),
    "softmax": ('''def softmax(z):
    """f(z)_i = e^z_i / sum_j e^z_j over the last axis (the largest z is taken off first: same result, no overflow)"""
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)''', ()),
    "leaky_relu": ('''def leaky_relu(z):
    """f(z) = z for z > 0, else {leaky} z"""
    return np.where(z > 0, z, np.float32({leaky}) * z)''', ()),
    "elu": ('''def elu(z):
    """f(z) = z for z > 0, else {elu} (e^z - 1)"""
    return np.where(z > 0, z, np.float32({elu}) * np.expm1(np.minimum(z, 0)))''', ()),
    "softplus": ('''def softplus(z):
    """f(z) = ln(1 + e^z)"""
    return np.logaddexp(z, np.float32(0))''', ()),
    "gelu_tanh": ('''def {name}(z):
    """f(z) = z/2 (1 + tanh(sqrt(2/pi) (z + 0.044715 z^3)))  (GELU, tanh approximation)"""
    c = np.float32(np.sqrt(2 / np.pi))
    return np.float32(0.5) * z * (1 + np.tanh(c * (z + np.float32(0.044715) * z ** 3)))''', ()),
    "gelu_erf": ('''def {name}(z):
    """f(z) = z/2 (1 + erf(z / sqrt(2)))  (GELU, exact)"""
    from math import erf
    return (0.5 * z * (1 + np.vectorize(erf)(z / np.sqrt(2)))).astype(z.dtype)''', ()),
    "step": ('''def step(z):
    """f(z) = 1 for z >= 0, else 0"""
    return (z >= 0).astype(z.dtype)''', ()),
    "sign": ('''def sign(z):
    """f(z) = 1 for z >= 0, else -1"""
    return np.where(z >= 0, np.float32(1), np.float32(-1))''', ()),
    "dense": ('''def dense(x, W, b, f):
    """y = f(x W + b): every output unit is f(sum_i x_i w_i + b) of all inputs x"""
    z = x @ W
    if b is not None:
        z = z + b
    return f(z)''', ()),
    "conv2d": ('''def conv2d(x, K, b, f, strides, pads, out_hw):
    """y[i, j] = f(sum over the window of x[i*s + u, j*s + v] @ K[u, v] + b), images (N, h, w, c) -> (N, h', w', filters);
    pads = (top, bottom, left, right) rows/columns of zeros around the image"""
    (sh, sw), (top, bottom, left, right), (ho, wo) = strides, pads, out_hw
    x = np.pad(x, ((0, 0), (top, bottom), (left, right), (0, 0)))
    kh, kw = K.shape[:2]
    z = np.zeros((x.shape[0], ho, wo, K.shape[3]), x.dtype)
    for u in range(kh):          # each cell (u, v) of the kernel adds its share to every output position
        for v in range(kw):
            z += x[:, u:u + sh * ho:sh, v:v + sw * wo:sw, :] @ K[u, v]
    if b is not None:
        z = z + b
    return f(z)''', ()),
    "windows": ('''def windows(x, size, strides, pads, out_hw):
    """The pooling windows of images x (N, h, w, c): for each output cell (i, j), the cells of x it covers
    (cells past the edge are left out)"""
    (kh, kw), (sh, sw), (top, left), (ho, wo) = size, strides, pads, out_hw
    h, w = x.shape[1:3]
    for i in range(ho):
        r0 = i * sh - top
        for j in range(wo):
            c0 = j * sw - left
            yield i, j, x[:, max(r0, 0):min(r0 + kh, h), max(c0, 0):min(c0 + kw, w), :]''', ()),
    "max_pool2d": ('''def max_pool2d(x, size, strides, pads, out_hw):
    """y[i, j, c] = the largest x of window (i, j), per channel"""
    y = np.empty((x.shape[0], *out_hw, x.shape[3]), x.dtype)
    for i, j, window in windows(x, size, strides, pads, out_hw):
        y[:, i, j, :] = window.max(axis=(1, 2))
    return y''', ("windows",)),
    "avg_pool2d": ('''def avg_pool2d(x, size, strides, pads, out_hw):
    """y[i, j, c] = the mean x of window (i, j), per channel"""
    y = np.empty((x.shape[0], *out_hw, x.shape[3]), x.dtype)
    for i, j, window in windows(x, size, strides, pads, out_hw):
        y[:, i, j, :] = window.mean(axis=(1, 2))
    return y''', ("windows",)),
    "global_avg_pool": ('''def global_avg_pool(x):
    """y[c] = the mean of x over every position (all axes but the last), per channel"""
    return x.reshape(len(x), -1, x.shape[-1]).mean(axis=1)''', ()),
    "batch_norm": ('''def batch_norm(x, gamma, beta, mean, var, eps):
    """y = gamma (x - mean) / sqrt(var + eps) + beta per feature (the last axis), with the moving mean and variance"""
    y = (x - mean) / np.sqrt(var + np.float32(eps))
    return y * gamma + beta''', ()),
    "layer_norm": ('''def layer_norm(x, gamma, beta, eps):
    """y = gamma (x - mu) / sqrt(var + eps) + beta, mu and var over each position's own features (the last axis)"""
    mu = x.mean(axis=-1, keepdims=True)
    var = ((x - mu) ** 2).mean(axis=-1, keepdims=True)
    return (x - mu) / np.sqrt(var + np.float32(eps)) * gamma + beta''', ()),
    "simple_rnn": ('''def simple_rnn(x, W, U, b, f, return_sequences):
    """h_t = f(x_t W + h_(t-1) U + b), h_0 = 0, over the steps of x (N, T, features)"""
    h = np.zeros((x.shape[0], U.shape[0]), x.dtype)
    states = []
    for t in range(x.shape[1]):
        h = f(x[:, t] @ W + h @ U + (0 if b is None else b))
        states.append(h)
    return np.stack(states, axis=1) if return_sequences else h''', ()),
    "lstm": ('''def lstm(x, W, U, b, return_sequences):
    """Gates i, f, g, o = sigmoid, sigmoid, tanh, sigmoid of (x_t W + h_(t-1) U + b) in 4 blocks of columns;
    c_t = f c_(t-1) + i g, h_t = o tanh(c_t); h_0 = c_0 = 0"""
    u = U.shape[0]
    h = np.zeros((x.shape[0], u), x.dtype)
    c = np.zeros_like(h)
    states = []
    for t in range(x.shape[1]):
        z = x[:, t] @ W + h @ U + (0 if b is None else b)
        i, f, g, o = sigmoid(z[:, :u]), sigmoid(z[:, u:2 * u]), np.tanh(z[:, 2 * u:3 * u]), sigmoid(z[:, 3 * u:])
        c = f * c + i * g
        h = o * np.tanh(c)
        states.append(h)
    return np.stack(states, axis=1) if return_sequences else h''', ("sigmoid",)),
    "gru": ('''def gru(x, W, U, b, return_sequences, reset_after=False):
    """Gates z, r = sigmoid(x_t W + h_(t-1) U + b) (the first two blocks of columns),
    candidate h~ = tanh(x_t W_h + (r h_(t-1)) U_h + b_h) (the third), or with reset_after
    (b then holds two rows: for the input and for the recurrent product)
    h~ = tanh(x_t W_h + b_h + r (h_(t-1) U_h + b'_h)); h_t = z h_(t-1) + (1 - z) h~; h_0 = 0"""
    u = U.shape[0]
    b_in, b_rec = (b if b is not None else (0, 0)) if reset_after else (0 if b is None else b, 0)
    h = np.zeros((x.shape[0], u), x.dtype)
    states = []
    for t in range(x.shape[1]):
        xw = x[:, t] @ W + b_in
        if reset_after:
            hu = h @ U + b_rec
            zr = sigmoid(xw[:, :2 * u] + hu[:, :2 * u])
            z, r = zr[:, :u], zr[:, u:]
            candidate = np.tanh(xw[:, 2 * u:] + r * hu[:, 2 * u:])
        else:
            zr = sigmoid(xw[:, :2 * u] + h @ U[:, :2 * u])
            z, r = zr[:, :u], zr[:, u:]
            candidate = np.tanh(xw[:, 2 * u:] + (r * h) @ U[:, 2 * u:])
        h = {gru_update}
        states.append(h)
    return np.stack(states, axis=1) if return_sequences else h''', ("sigmoid",)),
    "embedding": ('''def embedding(x, E):
    """y_t = E[x_t]: each token id picks its row of the table E"""
    return E[x.reshape(len(x), -1).astype(np.intp)]''', ()),
    "self_attention": ('''def self_attention(x, w, heads, causal):
    """Per head: Q, K, V = x W + b, A = softmax(Q K^T / sqrt(key_dim)) over the positions, head = A V;
    y = [head_1 ... head_H] W_o + b_o. x is (N, T, D); w holds the query_, key_, value_ and output_ kernel
    and bias; causal: position t sees positions <= t only"""
    n, T, _ = x.shape

    def project(which):  # x W + b: (N, T, heads * key_dim) -> (N, heads, T, key_dim)
        z = x @ w[which + "_kernel"] + w.get(which + "_bias", 0)
        return z.reshape(n, T, heads, -1).transpose(0, 2, 1, 3)

    q, k, v = project("query"), project("key"), project("value")
    scores = q @ k.transpose(0, 1, 3, 2) / np.float32(np.sqrt(q.shape[-1]))
    if causal:
        scores = np.where(np.triu(np.ones((T, T), bool), 1), -np.inf, scores)
    heads_out = softmax(scores) @ v
    return heads_out.transpose(0, 2, 1, 3).reshape(n, T, -1) @ w["output_kernel"] + w.get("output_bias", 0)''',
                       ("softmax", "layer_weights")),
    "layer_weights": ('''def layer_weights(name):
    """The weights of layer ``name`` by their own names: {"query_kernel": ..., ...}"""
    return {key.split("/", 1)[1]: value for key, value in W.items() if key.startswith(name + "/")}''', ()),
}

_ACTIVATIONS = ("linear", "relu", "sigmoid", "tanh", "softmax", "leaky_relu", "elu", "softplus", "gelu",
                "gelu_tanh", "step", "sign")


def _error(message: str, node_id: str | None = None) -> InteropError:
    e = InteropError(message)
    e.node_id = node_id
    return e


def _identifier(text: str, taken: set[str]) -> str:
    s = "".join(c for c in unicodedata.normalize("NFKD", str(text)) if not unicodedata.combining(c))
    s = re.sub(r"[^0-9A-Za-z]+", "_", s).strip("_").lower() or "node"
    if s[0].isdigit():
        s = "n_" + s
    if keyword.iskeyword(s) or s in taken:
        i = 2
        while f"{s}_{i}" in taken:
            i += 1
        s = f"{s}_{i}"
    taken.add(s)
    return s


def _shape_text(shape) -> str:
    return "(N, " + ", ".join(str(d) for d in shape) + ")"


# ---------------------------------------------------------------- writer
class _Writer:
    def __init__(self, network, stem: str):
        self.net = network
        self.graph = network.graph
        self.prog = network.program
        self.shapes = [tuple(s) for s in self.prog.shapes]
        self.stem = stem
        self.taken: set[str] = set(_FUNCS) | set(_ACTIVATIONS) | {"np", "x", "W", "forward", "erf", "Path",
                                                                   "rows", "sys", "gelu", "windows", "layer_weights", "weights"}
        self.funcs: list[tuple[str, str]] = []  # (function, its code's key) used, in first-use order
        self.lines: list[tuple[str, str]] = []  # (code, shape comment) of forward
        self.weights: dict[str, np.ndarray] = {}
        self.bufs: dict[int, str] = {}      # buffer -> variable

    # ------------------------------------------------------------ helpers
    def use(self, name: str, template: str | None = None) -> str:
        """Put function ``name`` (its code: ``_FUNCS[template or name]``) in the script."""
        if name not in [n for n, _ in self.funcs]:
            for dep in _FUNCS[template or name][1]:
                self.use(dep)
            self.funcs.append((name, template or name))
        return name

    def activation(self, name: str, nid: str) -> str:
        if name == "gelu":  # the exact erf form (schema 3); "gelu_tanh" is the approximation
            return self.use("gelu", "gelu_erf")
        if name not in _FUNCS or name not in _ACTIVATIONS:
            raise _error(f"the NumPy export cannot write the activation '{name}' of "
                         f"{self.net.describe_node(nid)}", nid)
        return self.use(name)

    def weight(self, var: str, what: str, value) -> str:
        if value is None:
            return "None"
        key = f"{var}/{what}"
        self.weights[key] = np.ascontiguousarray(np.asarray(value, dtype=np.float32))
        return f'W["{key}"]'

    def label(self, nid: str) -> str:
        """The node's label when it makes a name (it starts with a letter), else its id."""
        node = self.graph.nodes.get(nid)
        label = (node.label or "") if node is not None else ""
        ascii_label = unicodedata.normalize("NFKD", label).encode("ascii", "ignore").decode().strip()
        return label if ascii_label[:1].isalpha() else nid

    def step_var(self, step) -> str:
        ids = step.node_ids
        if len(ids) == 1:
            base = self.label(ids[0])
        elif len(ids) <= 3:
            base = "_".join(self.label(n) for n in ids)
        else:
            base = f"{self.label(ids[0])}_to_{self.label(ids[-1])}"
        return _identifier(base, self.taken)

    def value(self, value) -> str:
        """The expression of an engine Value (segments of buffers' last axis, joined)."""
        parts = []
        for s in value:
            name = self.bufs[s.buf]
            full = self.shapes[s.buf][-1]
            parts.append(name if (s.start, s.stop) == (0, full) else f"{name}[..., {s.start}:{s.stop}]")
        if len(parts) == 1:
            return parts[0]
        return "np.concatenate([" + ", ".join(parts) + "], axis=-1)"

    def value_shape(self, value) -> tuple[int, ...]:
        s0 = self.shapes[value[0].buf]
        return tuple(s0[:-1]) + (sum(s.stop - s.start for s in value),)

    def emit(self, var: str, expr: str, shape, note: str = "") -> None:
        self.lines.append((f"{var} = {expr}", _shape_text(shape) + (f"  {note}" if note else "")))

    # ------------------------------------------------------------ build
    def build(self) -> tuple[str, dict[str, np.ndarray]]:
        prog = self.prog
        if not prog.inputs:
            raise _error("the network has no Input node: there is nothing to feed")
        scaler = self.net.scaler
        if scaler is not None and scaler.n_features != prog.input_size:
            raise _error(f"the network's input standardization has {scaler.n_features} columns but its Inputs "
                         f"take {prog.input_size} values")
        head = []
        if scaler is not None:
            self.weights["input_mean"] = np.asarray(scaler.mean, np.float64)
            self.weights["input_std"] = np.asarray(scaler.std, np.float64)
            head.append(("x = np.asarray(x, np.float64).reshape(len(x), -1)", f"(N, {prog.input_size})  raw rows"))
            head.append(('x = ((x - W["input_mean"]) / W["input_std"]).astype(np.float32)',
                         f"(N, {prog.input_size})  standardized as the data set was"))
        else:
            head.append(("x = np.asarray(x, np.float32).reshape(len(x), -1)", f"(N, {prog.input_size})"))
        offset = 0
        for nid, buf, shape in prog.inputs:
            var = _identifier(self.label(nid), self.taken)
            k = math.prod(shape)
            cols = "x" if len(prog.inputs) == 1 else f"x[:, {offset}:{offset + k}]"
            expr = f"{cols}.reshape(-1, {', '.join(str(d) for d in shape)})"
            head.append((f"{var} = {expr}", _shape_text(shape)))
            offset += k
            self.bufs[buf] = var
        self.lines = head
        for step in prog.steps:
            if step.out in self.bufs:  # an Input
                continue
            nid = step.node_ids[0]
            type_id = self.graph.nodes[nid].type_id
            handler = getattr(self, f"_{type_id}", None)
            if handler is None:
                raise _error(f"the NumPy export cannot write {self.net.describe_node(nid)} (layer type "
                             f"'{type_id}')", nid)
            var = self.step_var(step)
            handler(step, self.graph.nodes[nid].params, var, nid)
            self.bufs[step.out] = var
        outs = []
        for o in prog.outputs:
            expr = self.value(o.value)
            if not expr.isidentifier() or expr in [self.bufs[b] for _, b, _ in prog.inputs]:
                var = _identifier(self.label(o.node_id), self.taken)
                self.emit(var, expr, self.value_shape(o.value))
                expr = var
            outs.append(expr)
        return self.script(outs), self.weights

    # ------------------------------------------------------------ layers
    def _Dense(self, step, p, var, nid):
        x = self.value(step.ins[0])
        f = self.activation(step.activation, nid)
        self.use("dense")
        expr = f"dense({x}, {self.weight(var, 'kernel', step.W.value)}, " \
               f"{self.weight(var, 'bias', None if step.b is None else step.b.value)}, {f})"
        note = f"{len(step.node_ids)} neurons as one layer" if len(step.node_ids) > 1 else ""
        self.emit(var, expr, self.shapes[step.out], note)

    _Neuron = _Dense

    def _Output(self, step, p, var, nid):
        if hasattr(step, "W"):
            return self._Dense(step, p, var, nid)
        return self._Activation(step, p, var, nid)

    def _Activation(self, step, p, var, nid):
        f = self.activation(step.activation, nid)
        self.emit(var, f"{f}({self.value(step.ins[0])})", self.shapes[step.out])

    def _Dropout(self, step, p, var, nid):
        self.emit(var, self.value(step.ins[0]), self.shapes[step.out], "dropout: nothing at prediction")

    def _Add(self, step, p, var, nid):
        self.emit(var, " + ".join(self.value(v) for v in step.ins), self.shapes[step.out])

    def _Flatten(self, step, p, var, nid):
        self.emit(var, f"{self.value(step.ins[0])}.reshape(len(x), -1)", self.shapes[step.out])

    def _Reshape(self, step, p, var, nid):
        shape = ", ".join(str(d) for d in step.out_shape)
        self.emit(var, f"{self.value(step.ins[0])}.reshape(len(x), {shape})", self.shapes[step.out])

    @staticmethod
    def _pads(in_hw, out_hw, k, s, before) -> tuple[int, int, int, int]:
        pads = []
        for size, o, kk, ss, b in zip(in_hw, out_hw, k, s, before):
            span = (o - 1) * ss + kk
            pads += [b, max(span - size - b, 0)]
        return tuple(pads)

    def _Conv2D(self, step, p, var, nid):
        h, w, _ = step.in_shape
        ho, wo, _ = step.out_shape
        pads = self._pads((h, w), (ho, wo), step.k, step.s, step.pad)
        f = self.activation(step.activation, nid)
        self.use("conv2d")
        expr = (f"conv2d({self.value(step.ins[0])}, {self.weight(var, 'kernel', step.K.value)}, "
                f"{self.weight(var, 'bias', None if step.b is None else step.b.value)}, {f}, "
                f"strides={tuple(step.s)}, pads={pads}, out_hw={(ho, wo)})")
        self.emit(var, expr, self.shapes[step.out])

    def _pool(self, fn, step, p, var, nid):
        from ..graph.types_conv import pad_before

        (h, w, _), (ho, wo, _) = step.in_shape, step.out_shape
        k, s = tuple(p["pool_size"]), tuple(p["strides"])
        pads = (pad_before(h, k[0], s[0], p["padding"]), pad_before(w, k[1], s[1], p["padding"]))
        self.use(fn)
        self.emit(var, f"{fn}({self.value(step.ins[0])}, size={k}, strides={s}, pads={pads}, out_hw={(ho, wo)})",
                  self.shapes[step.out])

    def _MaxPool2D(self, step, p, var, nid):
        self._pool("max_pool2d", step, p, var, nid)

    def _AvgPool2D(self, step, p, var, nid):
        self._pool("avg_pool2d", step, p, var, nid)

    def _GlobalAvgPool(self, step, p, var, nid):
        self.use("global_avg_pool")
        self.emit(var, f"global_avg_pool({self.value(step.ins[0])})", self.shapes[step.out])

    def _BatchNorm(self, step, p, var, nid):
        c = self.value_shape(step.ins[0])[-1]
        gamma = np.ones(c, np.float32) if step.gamma is None else step.gamma.value
        beta = np.zeros(c, np.float32) if step.beta is None else step.beta.value
        self.use("batch_norm")
        self.emit(var, f"batch_norm({self.value(step.ins[0])}, {self.weight(var, 'gamma', gamma)}, "
                       f"{self.weight(var, 'beta', beta)}, {self.weight(var, 'moving_mean', step.moving_mean.value)}, "
                       f"{self.weight(var, 'moving_variance', step.moving_variance.value)}, eps={step.eps!r})",
                  self.shapes[step.out])

    def _LayerNorm(self, step, p, var, nid):
        c = self.value_shape(step.ins[0])[-1]
        gamma = np.ones(c, np.float32) if step.gamma is None else step.gamma.value
        beta = np.zeros(c, np.float32) if step.beta is None else step.beta.value
        self.use("layer_norm")
        self.emit(var, f"layer_norm({self.value(step.ins[0])}, {self.weight(var, 'gamma', gamma)}, "
                       f"{self.weight(var, 'beta', beta)}, eps={step.eps!r})", self.shapes[step.out])

    def _recurrent(self, fn, step, var, extra="", after=""):
        self.use(fn)
        self.emit(var, f"{fn}({self.value(step.ins[0])}, {self.weight(var, 'kernel', step.W.value)}, "
                       f"{self.weight(var, 'recurrent_kernel', step.U.value)}, "
                       f"{self.weight(var, 'bias', None if step.b is None else step.b.value)}, {extra}"
                       f"return_sequences={bool(step.return_sequences)}{after})", self.shapes[step.out])

    def _SimpleRNN(self, step, p, var, nid):
        f = self.activation(step.activation, nid)
        self._recurrent("simple_rnn", step, var, f"{f}, ")

    def _LSTM(self, step, p, var, nid):
        self._recurrent("lstm", step, var)

    def _GRU(self, step, p, var, nid):
        self._recurrent("gru", step, var, "", ", reset_after=True" if getattr(step, "reset_after", False) else "")

    def _Embedding(self, step, p, var, nid):
        self.use("embedding")
        self.emit(var, f"embedding({self.value(step.ins[0])}, {self.weight(var, 'embeddings', step.E.value)})",
                  self.shapes[step.out])

    def _PositionalEncoding(self, step, p, var, nid):
        table = step.P.value if step.P is not None else step.table
        what = "positions" if step.P is not None else "sinusoids"
        self.emit(var, f"{self.value(step.ins[0])} + {self.weight(var, what, table)}", self.shapes[step.out],
                  "+ the position table P")

    def _SelfAttention(self, step, p, var, nid):
        self.use("self_attention")
        for name, prm in (("query_kernel", step.Wq), ("query_bias", step.bq), ("key_kernel", step.Wk),
                          ("key_bias", step.bk), ("value_kernel", step.Wv), ("value_bias", step.bv),
                          ("output_kernel", step.Wo), ("output_bias", step.bo)):
            if prm is not None:
                self.weight(var, name, prm.value)
        self.emit(var, f'self_attention({self.value(step.ins[0])}, layer_weights("{var}"), heads={step.H}, '
                       f"causal={step.mask is not None})", self.shapes[step.out])

    # ------------------------------------------------------------ script
    def script(self, outs: list[str]) -> str:
        meta = self.graph.meta
        title = str(meta.get("title") or self.stem)
        description = str(meta.get("description") or "").strip()
        scaled = "input_mean" in self.weights
        doc = [f"{title}: the forward pass of an ANN Designer network in plain NumPy.", ""]
        if description:
            doc += [*textwrap.wrap(description, 100), ""]
        doc += [f"Written by ANN Designer {_VERSION}; the weights are in {self.stem}.npz beside this file.",
                *textwrap.wrap("forward(x) takes rows of " + str(self.prog.input_size) + " values"
                               + (" as they are in the data set's file (raw): they are standardized first, as "
                                  "the network's data set does." if scaled else ", fed to the network as they are."),
                               100),
                "",
                f"    from {self.stem} import forward",
                "    y = forward(x)",
                "",
                f"    python {self.stem}.py rows.csv     # prints the outputs of every row (numbers, comma-separated)"]
        parts = ['"""' + "\n".join(doc).replace('"""', "'''").replace("\\", "\\\\") + '\n"""', "",
                 "from pathlib import Path", "", "import numpy as np", "",
                 f'with np.load(Path(__file__).with_name("{self.stem}.npz"), allow_pickle=False) as weights:',
                 "    W = dict(weights)  # the arrays by name: \"<layer>/kernel\", \"<layer>/bias\", ...", "", ""]
        fmt = {"leaky": _float(_engine_const("LEAKY_ALPHA")), "elu": _float(_engine_const("ELU_ALPHA")),
               "gru_update": "z * h + (1 - z) * candidate"}
        for name, template in self.funcs:
            code = _FUNCS[template][0]
            code = code.replace("{leaky}", fmt["leaky"]).replace("{elu}", fmt["elu"]) \
                .replace("{gru_update}", fmt["gru_update"]).replace("{name}", name)
            parts += [code, "", ""]
        width = max(len(c) for c, _ in self.lines)
        width = min(width, 100)
        body = [f"    {c.ljust(width)}  # {s}" for c, s in self.lines]
        ret = outs[0] if len(outs) == 1 else "(" + ", ".join(outs) + ")"
        parts += ["def forward(x):",
                  f'    """The network\'s output for rows x (N, {self.prog.input_size}): one line per layer, '
                  f'its output shape in the comment."""',
                  *body, f"    return {ret}", "", "",
                  'if __name__ == "__main__":',
                  "    import sys",
                  "",
                  '    rows = np.loadtxt(sys.argv[1], delimiter=",", ndmin=2)',
                  '    np.savetxt(sys.stdout, np.reshape(forward(rows), (len(rows), -1)), fmt="%.7g", delimiter=",")',
                  ""]
        return "\n".join(parts)


def _engine_const(name: str) -> float:
    from ..engine import activations as act

    return float(getattr(act, name))


def _float(v: float) -> str:
    return repr(float(v))


def export_numpy(network, out: Path) -> list[Path]:
    """Write ``out`` (``.py``, added when missing) and ``out.npz`` beside it: the network's
    forward pass in plain NumPy (see the module doc); returns the files written.

    Raises :class:`~anndesigner.interop.InteropError` naming the node of a layer or
    activation it cannot write, or when the graph does not compile."""
    from ..errors import GraphError

    out = Path(out)
    if out.suffix != ".py":
        out = out.with_name(out.name + ".py")
    stem = out.stem
    if not stem.isidentifier() or keyword.iskeyword(stem):
        raise _error(f"{out.name}: the script's name must be a Python module name (letters, digits and _, "
                     f"not starting with a digit) so that 'from {stem} import forward' works")
    try:
        writer = _Writer(network, stem)
        code, weights = writer.build()
    except GraphError as e:
        raise _error(f"the network does not compile, so it cannot be exported: {e}",
                     getattr(e, "node_id", None)) from None
    npz = out.with_suffix(".npz")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        with open(npz, "wb") as f:
            np.savez(f, **weights)
        out.write_text(code, encoding="utf-8")
    except OSError as e:
        raise _error(f"cannot write {out}: {e.strerror or e}") from None
    return [out, npz]


__all__ = ["export_numpy"]
