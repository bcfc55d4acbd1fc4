"""One output cell of a Conv2D, a pool or a Dense layer, written out term by term
from an explain trace, headless (NumPy only).

    cell = conv_cell(trace, net.get_weights(), "conv2d_1", row, col, out_channel, params=node.params)
    cell.channels[c].patch, .kernel, .products, .total     # per input channel
    cell.total + cell.bias ≈ cell.z;  cell.output           # the engine's z and f(z)

Layout follows the engine (:mod:`.op_conv`): images are (height, width,
channels), kernels (kh, kw, c_in, filters), the window of output cell (i, j)
starts at input cell (i·s − pad_top, j·s − pad_left), padding as in
:func:`anndesigner.graph.types_conv.pad_before` (TensorFlow's "same": the extra
row/column after the image). There is no dilation in the engine.

Only the arithmetic the engine did is redone here, on the engine's own arrays
(the trace's inputs, the weights it ran with): products and their sums in
float64. ``z`` and ``output`` are the trace's own values; ``z_computed`` is the
sum written out, equal to ``z`` up to the float rounding of the engine's
matrix product.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

import numpy as np

from ..errors import AnnError
from ..graph.types_conv import pad_before
from . import activations as act

__all__ = ["ChannelTerm", "ConvCell", "PoolCell", "DenseTerm", "DenseUnit", "conv_cell", "pool_cell", "dense_unit",
           "window_origin"]


# ------------------------------------------------------------------ helpers
def _pair(v: Any) -> tuple[int, int]:
    if isinstance(v, (int, np.integer)):
        return int(v), int(v)
    v = list(v)
    return (int(v[0]), int(v[0])) if len(v) == 1 else (int(v[0]), int(v[1]))


def _weight(trace, weights: Mapping[str, np.ndarray] | None, name: str) -> np.ndarray | None:
    """The weight the trace's forward pass ran with: from ``weights`` when given, else the trace's."""
    if weights is not None:
        w = weights.get(name)
        return None if w is None else np.asarray(w)
    try:
        return np.asarray(trace.weight(name).value)
    except KeyError:
        return None


def _check_cell(node_id: str, shape: tuple[int, ...], row: int, col: int, channel: int, what: str) -> None:
    ho, wo, c = shape
    if not (0 <= row < ho and 0 <= col < wo):
        raise AnnError(f"'{node_id}': cell ({row}, {col}) is outside its {ho}×{wo} output")
    if not 0 <= channel < c:
        raise AnnError(f"'{node_id}': {what} {channel} is out of range (it has {c})")


def window_origin(in_hw: tuple[int, int], k: tuple[int, int], s: tuple[int, int], padding: str,
                  row: int, col: int) -> tuple[int, int]:
    """The input cell (may lie in the padding, i.e. be negative) under the window's top-left
    corner for output cell (row, col)."""
    pt = pad_before(in_hw[0], k[0], s[0], padding)
    pl = pad_before(in_hw[1], k[1], s[1], padding)
    return row * s[0] - pt, col * s[1] - pl


def _window(x: np.ndarray, origin: tuple[int, int], k: tuple[int, int]):
    """(values (kh, kw, c) with 0 outside the image, inside mask (kh, kw), rows, cols)."""
    h, w, c = x.shape
    rows = origin[0] + np.arange(k[0])
    cols = origin[1] + np.arange(k[1])
    ri = (rows >= 0) & (rows < h)
    ci = (cols >= 0) & (cols < w)
    inside = ri[:, None] & ci[None, :]
    vals = np.zeros((k[0], k[1], c), np.float64)
    vals[np.ix_(ri, ci)] = x[np.ix_(rows[ri], cols[ci])]
    return vals, inside, rows, cols


def _activate(name: str | None, z: np.ndarray) -> np.ndarray:
    """f over the vector z (softmax needs the whole vector), in float64."""
    z = np.asarray(z, np.float64)
    if not name or name == "linear":
        return z.copy()
    return np.asarray(act.forward(name, z.copy()), np.float64)


# -------------------------------------------------------------------- conv
@dataclass(frozen=True)
class ChannelTerm:
    """One input channel's share of a convolution cell."""

    channel: int
    #: the input values under the window (kh, kw); 0 where the window lies over padding
    patch: np.ndarray
    #: (kh, kw) True where the window's cell is inside the image, False over padding
    inside: np.ndarray
    #: the input rows / columns of the window (negative or ≥ size over padding)
    rows: np.ndarray
    cols: np.ndarray
    #: K[:, :, channel, out_channel]
    kernel: np.ndarray
    #: patch ⊙ kernel
    products: np.ndarray
    #: Σ products
    total: float


@dataclass(frozen=True)
class ConvCell:
    node_id: str
    row: int
    col: int
    out_channel: int
    kernel_size: tuple[int, int]
    strides: tuple[int, int]
    padding: str
    #: the input cell under the window's top-left corner (negative in the padding)
    origin: tuple[int, int]
    channels: tuple[ChannelTerm, ...]
    #: Σ over the input channels of their totals
    total: float
    bias: float  # 0 without a bias
    has_bias: bool
    #: total + bias, written out here
    z_computed: float
    activation: str
    #: the engine's z and output at the cell
    z: float
    output: float
    #: f(z) of the engine's z, computed here (equal to ``output``)
    output_computed: float


def conv_cell(trace, weights: Mapping[str, np.ndarray] | None, node_id: str, row: int, col: int,
              out_channel: int, *, params: Mapping[str, Any]) -> ConvCell:
    """Conv2D node ``node_id``'s output cell (row, col, out_channel) term by term.

    ``weights``: the weights the trace ran with ("<node>/kernel", "<node>/bias", as
    ``Network.get_weights``), or None for the trace's own. ``params``: the node's
    parameters (``kernel_size``, ``strides``, ``padding``, as in the graph).
    """
    n = trace.node_of(node_id, ("Conv2D",))
    if not n.input_values:
        raise AnnError(f"'{node_id}' has no input in the trace")
    x = np.asarray(n.input_values[0])
    y = np.asarray(n.output)
    if x.ndim != 3 or y.ndim != 3:
        raise AnnError(f"'{node_id}': expected (height, width, channels) arrays, got {x.shape} -> {y.shape}")
    _check_cell(node_id, y.shape, row, col, out_channel, "filter")
    K = _weight(trace, weights, f"{node_id}/kernel")
    if K is None:
        raise AnnError(f"'{node_id}' has no kernel in the weights")
    b = _weight(trace, weights, f"{node_id}/bias")
    k = _pair(params.get("kernel_size", K.shape[:2]))
    s = _pair(params.get("strides", (1, 1)))
    padding = str(params.get("padding", "valid"))
    if K.shape != (k[0], k[1], x.shape[2], y.shape[2]):
        raise AnnError(f"'{node_id}': kernel of shape {K.shape} does not fit a {k[0]}×{k[1]} window "
                       f"from {x.shape[2]} to {y.shape[2]} channels")
    origin = window_origin(x.shape[:2], k, s, padding, row, col)
    vals, inside, rows, cols = _window(x, origin, k)
    K64 = np.asarray(K, np.float64)
    terms = []
    for c in range(x.shape[2]):
        kern = K64[:, :, c, out_channel].copy()
        prod = vals[:, :, c] * kern
        terms.append(ChannelTerm(c, vals[:, :, c].copy(), inside, rows, cols, kern, prod, float(prod.sum())))
    total = float(sum(t.total for t in terms))
    bias = 0.0 if b is None else float(np.asarray(b, np.float64)[out_channel])
    activation = str(n.activation or params.get("activation") or "linear")
    z_all = np.asarray(n.z)[row, col] if n.z is not None else None
    z = float(z_all[out_channel]) if z_all is not None else float("nan")
    out_c = _activate(activation, z_all)[out_channel] if z_all is not None else float("nan")
    return ConvCell(node_id, row, col, out_channel, k, s, padding, origin, tuple(terms), total, bias,
                    b is not None, total + bias, activation, z, float(y[row, col, out_channel]), float(out_c))


# -------------------------------------------------------------------- pool
@dataclass(frozen=True)
class PoolCell:
    node_id: str
    kind: str  # "max" or "average"
    row: int
    col: int
    channel: int
    pool_size: tuple[int, int]
    strides: tuple[int, int]
    padding: str
    origin: tuple[int, int]
    #: (kh, kw) the input values under the window (NaN where it lies over padding)
    window: np.ndarray
    inside: np.ndarray
    rows: np.ndarray
    cols: np.ndarray
    #: max: (u, v) of the winner in the window (the first largest, row by row, as the engine
    #: keeps it); None for an average
    winner: tuple[int, int] | None
    count: int  # cells inside the image
    total: float  # their sum (average pooling)
    value: float  # the max, or total / count, written out here
    output: float  # the engine's


def pool_cell(trace, node_id: str, row: int, col: int, channel: int, *, params: Mapping[str, Any]) -> PoolCell:
    """MaxPool2D / AvgPool2D node ``node_id``'s output cell (row, col, channel): its window,
    the winner (max) or the sum and count (average). ``params``: the node's parameters."""
    n = trace.node_of(node_id, ("MaxPool2D", "AvgPool2D"))
    x = np.asarray(n.input_values[0])
    y = np.asarray(n.output)
    if x.ndim != 3 or y.ndim != 3:
        raise AnnError(f"'{node_id}': expected (height, width, channels) arrays, got {x.shape} -> {y.shape}")
    _check_cell(node_id, y.shape, row, col, channel, "channel")
    k = _pair(params.get("pool_size", (2, 2)))
    s = _pair(params.get("strides", k))
    padding = str(params.get("padding", "valid"))
    origin = window_origin(x.shape[:2], k, s, padding, row, col)
    vals, inside, rows, cols = _window(x[:, :, channel:channel + 1], origin, k)
    window = np.where(inside, vals[:, :, 0], np.nan)
    cells = window[inside]
    count = int(inside.sum())
    if n.type_id == "MaxPool2D":
        best, winner = -np.inf, None
        for u in range(k[0]):  # the engine's order: offsets row by row, a later cell wins only if larger
            for v in range(k[1]):
                if inside[u, v] and (winner is None or window[u, v] > best):
                    best, winner = window[u, v], (u, v)
        total = float(cells.sum())
        return PoolCell(node_id, "max", row, col, channel, k, s, padding, origin, window, inside, rows, cols,
                        winner, count, total, float(best), float(y[row, col, channel]))
    total = float(cells.sum())
    return PoolCell(node_id, "average", row, col, channel, k, s, padding, origin, window, inside, rows, cols,
                    None, count, total, total / count, float(y[row, col, channel]))


# ------------------------------------------------------------------- dense
@dataclass(frozen=True)
class DenseTerm:
    index: int  # row of the kernel (position in the concatenated input)
    source: str  # the input node it comes from
    source_index: int  # its position in that node's output (last axis)
    x: float
    w: float
    product: float


@dataclass(frozen=True)
class DenseUnit:
    node_id: str
    unit: int
    #: the leading index for inputs above 1-D (a sequence step), () for a vector
    position: tuple[int, ...]
    #: every w·x term, the largest |w·x| first
    terms: tuple[DenseTerm, ...]
    total: float  # Σ w·x
    bias: float
    has_bias: bool
    z_computed: float  # total + bias
    activation: str
    z: float  # the engine's
    output: float  # the engine's
    output_computed: float  # f(engine z), here

    def top(self, k: int = 12) -> tuple[tuple[DenseTerm, ...], int, float]:
        """The ``k`` largest terms, how many are left and their sum."""
        shown, rest = self.terms[:k], self.terms[k:]
        return shown, len(rest), float(sum(t.product for t in rest))


def dense_unit(trace, weights: Mapping[str, np.ndarray] | None, node_id: str, unit: int,
               position: tuple[int, ...] = ()) -> DenseUnit:
    """Dense node ``node_id``'s unit ``unit``: z = Σ wᵢxᵢ + b term by term (inputs from several
    wires are concatenated along the last axis, as the engine does)."""
    n = trace.node_of(node_id, ("Dense",))
    if not n.input_values:
        raise AnnError(f"'{node_id}' has no input in the trace")
    parts = [np.asarray(v) for v in n.input_values]
    position = tuple(int(p) for p in position)
    lead = parts[0].shape[:-1]
    if len(position) != len(lead) or any(not 0 <= p < d for p, d in zip(position, lead)):
        raise AnnError(f"'{node_id}': position {position} does not index its input's leading axes {lead}")
    xs = np.concatenate([p[position] for p in parts]).astype(np.float64)
    sources = [(src, i) for src, p in zip(n.inputs, parts) for i in range(p.shape[-1])]
    W = _weight(trace, weights, f"{node_id}/kernel")
    if W is None:
        raise AnnError(f"'{node_id}' has no kernel in the weights")
    y = np.asarray(n.output)[position]
    if not 0 <= unit < y.shape[-1]:
        raise AnnError(f"'{node_id}': unit {unit} is out of range (it has {y.shape[-1]})")
    if W.shape != (xs.size, y.shape[-1]):
        raise AnnError(f"'{node_id}': kernel of shape {W.shape} does not fit {xs.size} inputs, "
                       f"{y.shape[-1]} units")
    b = _weight(trace, weights, f"{node_id}/bias")
    w = np.asarray(W, np.float64)[:, unit]
    prod = w * xs
    order = np.argsort(-np.abs(prod), kind="stable")
    terms = tuple(DenseTerm(int(i), sources[i][0], sources[i][1], float(xs[i]), float(w[i]), float(prod[i]))
                  for i in order)
    total = float(prod.sum())
    bias = 0.0 if b is None else float(np.asarray(b, np.float64)[unit])
    activation = str(n.activation or "linear")
    z_all = np.asarray(n.z)[position] if n.z is not None else None
    z = float(z_all[unit]) if z_all is not None else float("nan")
    out_c = float(_activate(activation, z_all)[unit]) if z_all is not None else float("nan")
    return DenseUnit(node_id, unit, position, terms, total, bias, b is not None, total + bias, activation, z,
                     float(y[unit]), out_c)
