"""Import an ONNX model as a laid-out designer graph with its weights.

``import_onnx(path) -> Network``. Reads the subset of ONNX that
:mod:`anndesigner.interop.onnx_export` writes and the variants PyTorch's and
Keras's exporters write for the same layers: Gemm (transB), MatMul + Add, Conv,
MaxPool / AveragePool / GlobalAveragePool, Flatten / Reshape / Transpose /
Squeeze / Unsqueeze where they only re-arrange values, RNN / LSTM / GRU,
Gather (an Embedding, or the last step of a sequence), LayerNormalization,
BatchNormalization, Relu / Sigmoid / Tanh / Softmax / LeakyRelu / Elu /
Softplus / Gelu (also composed of Erf or Tanh, Add and Mul), Add and Concat;
an input standardization ((x − mean) / std by constants, as our export writes
it) is folded into the weights of the Dense or recurrent layer that reads it.
Also:

- **Self-attention** as our export writes it: Q, K, V = xW + b split into
  heads by Reshape/Transpose, MatMul QKᵀ, a scale (Mul or Div; another scale
  than 1/√key_dim, also on Q and K before the product, is folded into the
  query weights), an optional causal mask (Add of 0 on and below the
  diagonal, −10⁴ or less above it), Softmax, MatMul by V, Transpose/Reshape
  back and the output projection: one SelfAttention node with its weights.
  PyTorch's ``nn.MultiheadAttention`` merges the batch with the heads inside
  and is refused at that Reshape, by name.
- **Several graph outputs**: one Output node each, in the model's order.
- **Constants after the last layer** (x·a + b per unit, Mul/Div/Add/Sub):
  folded into that layer's weights (Dense, Conv2D, SelfAttention without an
  activation); refused by name where that is not exact.
- **Slice** (and Gather) of computed values: which numbers are read is kept;
  a Dense reading some of a layer's numbers gets zero weights for the rest.
- **GRU with linear_before_reset=1** (PyTorch's) as GRU(reset_after=True).

How it works, in one pass over the nodes (ONNX orders them so that every input
comes first):

- **Constant folding.** A node whose inputs are all constants (initializers,
  Constant nodes, folded values) or the *shape* of a computed value is
  evaluated with NumPy. The batch dimension, unknown until run time, stands in
  shapes as the number :data:`BATCH`, so PyTorch's Shape → Gather → Unsqueeze →
  Concat → ConstantOfShape arithmetic around an LSTM folds away; a constant
  whose shape has the batch in it (an initial state of zeros) keeps one row and
  is remembered as broadcast over the batch.
- **Layouts.** Our engine is channels-last and row-major; an ONNX model is
  often channels-first. Every computed ONNX value is tracked as (our node, the
  axis of the batch in the ONNX value, ``idx``): ``idx`` has the ONNX value's
  shape without the batch and holds, for each ONNX element, the position of the
  same number in our node's output (row-major). Transpose, Reshape, Flatten,
  Squeeze and Unsqueeze only re-arrange ``idx`` and add no node; a Dense layer
  after a channels-first Flatten gets its kernel rows permuted; a Conv asks for
  a channels-last input and gets one, or a clear error.

Anything else, and a file that is not ONNX, is damaged, or asks for absurd
sizes, gives an :class:`~anndesigner.interop.InteropError` naming the operator
and its node; nothing half-made is returned.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import AnnError
from . import InteropError, require

#: stands for the batch dimension (unknown until run time) in folded shape arithmetic
BATCH = 7_919_000_003
#: the most elements one tensor of the file (an initializer or a folded constant) may have
MAX_ELEMENTS = 50_000_000
#: the largest file read
MAX_BYTES = 2 * 1024**3

SUPPORTED = sorted({
    "Gemm", "MatMul", "Add", "Conv", "MaxPool", "AveragePool", "GlobalAveragePool", "Flatten", "Reshape",
    "Transpose", "Squeeze", "Unsqueeze", "RNN", "LSTM", "GRU", "Gather", "LayerNormalization",
    "BatchNormalization", "Relu", "Sigmoid", "Tanh", "Softmax", "LeakyRelu", "Elu", "Softplus", "Gelu",
    "Erf", "Concat", "Identity", "Dropout", "Constant", "Shape", "Cast", "Sub", "Mul", "Div", "Pow",
    "GreaterOrEqual", "Where", "ReduceMean", "Slice",
})


# ------------------------------------------------------------------ records
@dataclass
class _Layer:
    """A node of the graph being built (added to a Graph only when all went well)."""

    type_id: str
    params: dict[str, Any]
    inputs: list[str]
    label: str
    weights: dict[str, np.ndarray] = field(default_factory=dict)
    #: output shape per port ("out"; recurrent layers: "seq" and "last")
    shapes: dict[str, tuple[int, ...]] = field(default_factory=dict)
    #: its bias holds only a folded standardization: a following Add of a constant adds to it
    open_bias: bool = False
    #: the port of each input's layer it reads
    in_ports: list[str] = field(default_factory=list)
    #: a Concatenate's inputs: (value, offset on our last axis, its size there)
    parts: list[tuple["_Val", int, int]] = field(default_factory=list)


@dataclass
class _Val:
    """A computed ONNX value: our layer ``src`` (port ``port``) holds its numbers.

    ``idx`` has the ONNX shape without the batch axis (``batch``); ``idx[i]`` is
    where element ``i`` sits in our layer's output, flattened row-major."""

    src: str
    port: str
    batch: int
    idx: np.ndarray
    #: (s, t) of the ONNX shape without the batch: the ONNX value is ours[idx]·s + t (a standardization
    #: not yet folded into the layer that reads it); None: ours[idx]
    affine: tuple[np.ndarray, np.ndarray] | None = None

    def moved(self, batch: int, fn) -> "_Val":
        """The same numbers re-arranged: ``fn`` applied to idx (and to s, t)."""
        aff = (fn(self.affine[0]), fn(self.affine[1])) if self.affine is not None else None
        return _Val(self.src, self.port, batch, fn(self.idx), aff)

    def onnx_shape(self, batch: int = BATCH) -> tuple[int, ...]:
        s = list(self.idx.shape)
        s.insert(self.batch, batch)
        return tuple(s)


@dataclass
class _Pending:
    """Part of a GELU composed of Erf, Add and Mul: ``stage`` of ``x``."""

    stage: str  # "scaled" x/√2, "erf" erf(x/√2), "erf1" 1+erf, "half" x/2, "x_erf1" x(1+erf), "ge" x >= 0
    base: _Val
    node: str
    base_name: str = ""
    form: str = ""  # "erf" or "tanh" (GELU)


@dataclass
class _Attn:
    """Self-attention being read (our exporter's MatMul/Softmax subgraph): the scores QKᵀ of the
    projections ``q`` and ``k`` (Dense layers reading ``x``), scaled by ``scale``, causal or not."""

    stage: str  # "scores" QKᵀ·scale (+ mask), "softmax" its softmax over the keys
    node: str
    x: tuple[str, str]
    q: str
    k: str
    T: int
    H: int
    K: int
    scale: float = 1.0
    causal: bool = False


def _ident(shape) -> np.ndarray:
    return np.arange(math.prod(shape), dtype=np.int64).reshape(shape)


def _channels_last_idx(onnx_shape: tuple[int, ...]) -> np.ndarray:
    """idx of an ONNX (C, d1, …, dk) value held channels-last (d1, …, dk, C) by us."""
    ours = tuple(onnx_shape[1:]) + (onnx_shape[0],)
    k = len(onnx_shape) - 1
    return _ident(ours).transpose((k,) + tuple(range(k)))


def _is_perm(idx: np.ndarray) -> bool:
    flat = np.sort(idx.reshape(-1))
    return bool(np.array_equal(flat, np.arange(flat.size)))


class _Importer:
    def __init__(self, model, onnx, name: str):
        self.onnx = onnx
        self.model = model
        self.name = name
        self.graph = model.graph
        self.layers: dict[str, _Layer] = {}
        self.values: dict[str, Any] = {}  # name -> _Val | _Pending
        self.consts: dict[str, np.ndarray] = {}
        self.batched: dict[str, int] = {}  # constant name -> its broadcast batch axis
        self.used: dict[str, set[str]] = {}  # layer -> ports read by other layers
        self.consumers: dict[str, int] = {}
        self.outputs = [o.name for o in self.graph.output]
        self.channels_first_inputs: set[str] = set()
        self.notes: list[str] = []
        #: batch sizes the inputs were declared with (a model exported without a dynamic batch), which a
        #: Reshape's target may name for the batch
        self.fixed_batches: set[int] = set()
        self._counter = 0
        #: the Output layer of each graph output, in the model's order
        self.output_layers: list[str] = []
        self.gru_old = "(1 − zₜ)⊙hₜ₋₁" in _registry().get("GRU").formula

    # --------------------------------------------------------------- helpers
    def fail(self, node, msg: str) -> InteropError:
        name = _text(node.name) or (_text(node.output[0]) if len(node.output) else "") or "(unnamed)"
        return InteropError(f"{self.name}: {_text(node.op_type)} node '{name}' {msg}")

    def attrs(self, node) -> dict[str, Any]:
        out = {}
        for a in node.attribute:
            value = self.onnx.helper.get_attribute_value(a)
            if value is None or not isinstance(a.name, str):
                raise self.fail(node, f"has an attribute '{_text(a.name)}' without a value of a known type")
            out[a.name] = value
        return out

    def tensor(self, t, where: str) -> np.ndarray:
        if t.data_location == self.onnx.TensorProto.EXTERNAL:
            raise InteropError(f"{self.name}: tensor '{where}' keeps its data in an external file, "
                               f"which the import does not read; save the model with its data inside")
        n = 1
        for d in t.dims:
            if d < 0:
                raise InteropError(f"{self.name}: tensor '{where}' has a negative dimension {d}")
            n *= d
        if n > MAX_ELEMENTS:
            raise InteropError(f"{self.name}: tensor '{where}' claims {n:,} values (dims "
                               f"{list(t.dims)}), more than the {MAX_ELEMENTS:,} an import accepts")
        try:
            a = self.onnx.numpy_helper.to_array(t)
        except Exception as e:
            raise InteropError(f"{self.name}: tensor '{_text(where)}' is damaged ({type(e).__name__}: "
                               f"{_short(str(e))})") from None
        if a.size != n:
            raise InteropError(f"{self.name}: tensor '{where}' holds {a.size} values, not the {n} its dims say")
        return np.array(a)

    def const(self, name: str) -> np.ndarray | None:
        return self.consts.get(name)

    def val(self, node, name: str, affine_ok: bool = False) -> _Val:
        v = self.values.get(name)
        if isinstance(v, _Val) and v.affine is not None and not affine_ok:
            raise self.fail(node, "reads a value scaled and shifted per feature (an input standardization?), "
                                  "which the import folds only into a Dense or recurrent layer reading it")
        if isinstance(v, _Attn):
            raise self.fail(node, f"uses the attention scores of node '{v.node}' in a way the import does not "
                                  f"know; it reads softmax(QKᵀ·scale + causal mask)·V as self-attention")
        if isinstance(v, _Pending):
            raise self.fail(node, f"uses part of a GELU (from node '{v.node}') in a way the import does not "
                                  f"know; only x·½·(1 + erf(x/√2)) is read as GELU")
        if v is None:
            if name in self.consts:
                raise self.fail(node, f"has the constant '{name}' where a computed value is expected")
            raise self.fail(node, f"reads '{name}', which no node or input makes")
        return v

    def add_layer(self, type_id: str, params: dict, inputs: list[_Val | tuple[str, str]], label: str,
                  weights: dict | None = None, shapes: dict | None = None) -> str:
        self._counter += 1
        lid = f"L{self._counter}"
        ins, ports = [], []
        for v in inputs:
            src, port = (v.src, v.port) if isinstance(v, _Val) else v
            self.used.setdefault(src, set()).add(port)
            ins.append(src)
            ports.append(port)
        self.layers[lid] = _Layer(type_id, params, ins, label, weights or {}, shapes or {}, in_ports=ports)
        return lid

    def our_shape(self, v: _Val) -> tuple[int, ...]:
        return self.layers[v.src].shapes[v.port]

    def fresh(self, v: _Val, name: str) -> bool:
        """True when the layer behind ``v`` may still be changed (its activation, bias) for ``name``."""
        if not (self.consumers.get(name, 0) == 1 and name not in self.outputs
                and not self.used.get(v.src) and v.port == "out"):
            return False
        # no other ONNX value holding the same numbers (before a Reshape, Slice, ...) is read elsewhere
        return not any(isinstance(w, _Val) and w.src == v.src and (self.consumers.get(k, 0) > 1 or k in self.outputs)
                       for k, w in self.values.items())

    def as_layout(self, node, v: _Val, ours: tuple[int, ...], idx: np.ndarray, what: str) -> _Val:
        """``v`` held by us as ``ours`` with ``idx``: the same numbers in that order (a Reshape added
        when only the shape differs), or an error."""
        full = _is_perm(v.idx) and v.idx.size == math.prod(self.our_shape(v))
        if not full or v.idx.shape != idx.shape or not np.array_equal(v.idx, idx):
            if not full:
                raise self.fail(node, f"reads only some of the values of a layer (picked by a Slice or Gather), "
                                      f"which the import reads only in a Dense layer (as zero weights for the "
                                      f"rest) or a Concat")
            raise self.fail(node, f"needs its input {what}, but the values arrive in another order "
                                  f"(a Transpose that is not a layout change?)")
        if self.our_shape(v) == tuple(ours):
            return v
        lid = self.add_layer("Reshape", {"shape": list(ours)}, [v], f"{node.name} (reshape)".strip(),
                             shapes={"out": tuple(ours)})
        return _Val(lid, "out", v.batch, idx)

    def exact(self, node, v: _Val, what: str = "in the order it has in the model") -> _Val:
        if v.batch != 0:
            raise self.fail(node, "needs the batch as the first axis of its input")
        return self.as_layout(node, v, v.idx.shape, _ident(v.idx.shape), what)

    def channels_last(self, node, v: _Val) -> _Val:
        if v.batch != 0:
            raise self.fail(node, "needs the batch as the first axis of its input")
        s = v.idx.shape
        return self.as_layout(node, v, tuple(s[1:]) + (s[0],), _channels_last_idx(s), "channels first")

    def flat(self, node, v: _Val, partial_ok: bool = False) -> tuple[_Val, np.ndarray]:
        """A rank-1 (per sample) input to a dense layer: our flat vector and, per ONNX row, our row
        (``partial_ok``: the ONNX value may hold only some of our numbers, or some twice)."""
        if v.batch != 0 or v.idx.ndim != 1:
            raise self.fail(node, "needs a (batch, features) input")
        if not partial_ok and not (_is_perm(v.idx) and v.idx.size == math.prod(self.our_shape(v))):
            raise self.fail(node, "reads only part of a computed value, which the import reads only in a Dense "
                                  "layer (as zero weights for the rest)")
        if len(self.our_shape(v)) != 1:
            n = math.prod(self.our_shape(v))
            lid = self.add_layer("Flatten", {}, [v], f"{node.name} (flatten)".strip(), shapes={"out": (n,)})
            v = _Val(lid, "out", 0, v.idx)
        return v, v.idx

    # --------------------------------------------------------------- driver
    def run(self):
        g = self.graph
        if not g.node:
            raise InteropError(f"{self.name}: the model has no operators")
        for opset in self.model.opset_import:
            if opset.domain in ("", "ai.onnx") and not 7 <= opset.version <= 23:
                raise InteropError(f"{self.name}: opset {opset.version} is not supported (7 to 23 are)")
        for t in g.initializer:
            self.consts[t.name] = self.tensor(t, t.name)
        for n in g.node:
            for i in n.input:
                if i:
                    self.consumers[i] = self.consumers.get(i, 0) + 1
        self._inputs()
        for node in g.node:
            self._node(node)
        if not self.outputs:
            raise InteropError(f"{self.name}: the model has no outputs")
        if len(set(self.outputs)) != len(self.outputs):
            raise InteropError(f"{self.name}: the model names an output twice")
        return self._finish()

    def _inputs(self):
        first_use: dict[str, str] = {}
        for n in self.graph.node:
            for i in n.input:
                first_use.setdefault(i, n.op_type)
        for inp in self.graph.input:
            if inp.name in self.consts:
                continue
            tt = inp.type.tensor_type
            if not inp.type.HasField("tensor_type") or not tt.HasField("shape"):
                raise InteropError(f"{self.name}: input '{inp.name}' has no tensor shape")
            dims = list(tt.shape.dim)
            if not dims:
                raise InteropError(f"{self.name}: input '{inp.name}' is a scalar; a batch axis is needed")
            if dims[0].HasField("dim_value") and dims[0].dim_value > 1:
                self.fixed_batches.add(int(dims[0].dim_value))  # exported with a fixed batch size
            shape = []
            for k, d in enumerate(dims[1:], 1):
                if not d.HasField("dim_value") or d.dim_value <= 0:
                    raise InteropError(
                        f"{self.name}: input '{inp.name}' has axis {k} of unknown size "
                        f"('{d.dim_param or '?'}'); the import needs every size but the batch's")
                shape.append(int(d.dim_value))
            if not shape:
                raise InteropError(f"{self.name}: input '{_text(inp.name)}' has one number per sample and no "
                                   f"feature axis; the import needs inputs of shape (batch, features…)")
            if math.prod(shape) > 2**22:
                raise InteropError(f"{self.name}: input '{inp.name}' of shape {shape} is too large "
                                   f"({math.prod(shape):,} values per sample)")
            shape = tuple(shape)
            if len(shape) == 3 and first_use.get(inp.name) in ("Conv", "MaxPool", "AveragePool",
                                                               "GlobalAveragePool", "BatchNormalization"):
                ours = shape[1:] + shape[:1]
                idx = _channels_last_idx(shape)
                self.notes.append(f"input '{inp.name}' takes images channels last, {ours[0]}×{ours[1]}×{ours[2]} "
                                  f"(the ONNX model takes them channels first)")
            else:
                ours, idx = shape, _ident(shape)
            lid = self.add_layer("Input", {"shape": list(ours)}, [], inp.name, shapes={"out": ours})
            self.values[inp.name] = _Val(lid, "out", 0, idx)

    def _node(self, node):
        if not isinstance(node.op_type, str) or not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*", node.op_type):
            raise InteropError(f"{self.name}: a node has an operator name that is not one ({node.op_type!r:.60})")
        if not len(node.output) or not all(isinstance(n, str) for n in list(node.input) + list(node.output)):
            raise self.fail(node, "has no outputs, or names that are not text")
        if node.domain not in ("", "ai.onnx"):
            raise self.fail(node, f"is from the operator set '{node.domain}', which the import does not read")
        ins = list(node.input)
        present = [i for i in ins if i]
        if all(i in self.consts for i in present) and node.op_type not in ("RNN", "LSTM", "GRU") or (
                node.op_type == "Shape" and present and present[0] in self.values):
            try:
                outs = self._fold(node)
            except InteropError:
                raise
            except (ValueError, TypeError, IndexError, ArithmeticError, MemoryError, KeyError) as e:
                raise self.fail(node, f"cannot be computed on its constants ({e})") from None
            for name, value in zip(node.output, outs):
                if not isinstance(value, np.ndarray):
                    value = np.asarray(value)
                if value.size > MAX_ELEMENTS:
                    raise self.fail(node, f"would make {value.size:,} values")
                self.consts[name] = value
            return
        handler = getattr(self, "_op_" + node.op_type, None)
        if handler is None:
            raise self.fail(node, f"uses the operator {node.op_type}, which the ONNX import does not support "
                                  f"(it reads {', '.join(SUPPORTED)})")
        for i in present:
            if i in self.batched:
                if node.op_type not in ("RNN", "LSTM", "GRU"):
                    raise self.fail(node, f"uses '{i}', a constant repeated over the batch, which only a "
                                          f"recurrent layer's initial state may be")
        handler(node, self.attrs(node))

    # ------------------------------------------------------------- folding
    def _fold(self, node):
        op = node.op_type
        a = self.attrs(node)
        x = [self.consts.get(i) if i else None for i in node.input]
        if op == "Constant":
            if "value" in a:
                return [self.tensor(a["value"], node.output[0])]
            for k in ("value_float", "value_int"):
                if k in a:
                    return [np.array(a[k], np.float32 if k == "value_float" else np.int64)]
            for k in ("value_floats", "value_ints"):
                if k in a:
                    return [np.array(a[k], np.float32 if k == "value_floats" else np.int64)]
            raise self.fail(node, "has no value the import can read")
        if op == "Shape":
            src = node.input[0]
            shape = (self.values[src].onnx_shape() if src in self.values else x[0].shape)
            shape = np.array(shape, np.int64)
            start, end = a.get("start", 0), a.get("end", None)
            return [shape[start:end]]
        if op in ("Identity", "Dropout"):
            return [x[0]] + ([np.ones(x[0].shape, bool)] if len(node.output) > 1 else [])
        if op == "Cast":
            dt = self.onnx.helper.tensor_dtype_to_np_dtype(a["to"])
            return [x[0].astype(dt)]
        if op == "Gather":
            return [np.take(x[0], x[1].astype(np.int64), axis=a.get("axis", 0))]
        if op == "Unsqueeze":
            axes = x[1] if len(x) >= 2 and x[1] is not None else a.get("axes", [])
            axes = [int(v) for v in np.atleast_1d(axes)]
            r = x[0].ndim + len(axes)
            out = x[0]
            for ax in sorted(v % r for v in axes):
                out = np.expand_dims(out, ax)
            return [out]
        if op == "Squeeze":
            axes = x[1] if len(x) >= 2 and x[1] is not None else a.get("axes")
            if axes is None:
                return [np.squeeze(x[0])]
            return [np.squeeze(x[0], axis=tuple(int(v) % x[0].ndim for v in np.atleast_1d(axes)))]
        if op == "Concat":
            return [np.concatenate([v for v in x if v is not None], axis=a["axis"])]
        if op == "Slice":
            if len(x) >= 3:
                starts, ends = x[1], x[2]
                axes = x[3] if len(x) > 3 and x[3] is not None else range(len(starts))
                steps = x[4] if len(x) > 4 and x[4] is not None else [1] * len(starts)
            else:
                starts, ends = a["starts"], a["ends"]
                axes, steps = a.get("axes", range(len(starts))), [1] * len(starts)
            sl = [slice(None)] * x[0].ndim
            for s, e, ax, st in zip(starts, ends, axes, steps):
                sl[int(ax)] = slice(int(s), int(e), int(st))
            return [x[0][tuple(sl)]]
        if op in ("Add", "Sub", "Mul", "Div", "Pow", "Equal", "Less", "Greater", "Max", "Min"):
            f = {"Add": np.add, "Sub": np.subtract, "Mul": np.multiply, "Pow": np.power, "Equal": np.equal,
                 "Less": np.less, "Greater": np.greater, "Max": np.maximum, "Min": np.minimum}.get(op)
            if op == "Div":
                r = (np.trunc(x[0] / x[1]).astype(x[0].dtype) if x[0].dtype.kind in "iu" else x[0] / x[1])
            else:
                r = f(x[0], x[1])
            return [np.asarray(r, x[0].dtype) if op not in ("Equal", "Less", "Greater") else np.asarray(r)]
        if op in ("Neg", "Sqrt", "Abs", "Not", "Reciprocal", "Erf", "Relu", "Tanh", "Sigmoid"):
            f = {"Neg": np.negative, "Sqrt": np.sqrt, "Abs": np.abs, "Not": np.logical_not,
                 "Reciprocal": np.reciprocal, "Erf": np.vectorize(math.erf), "Relu": lambda v: np.maximum(v, 0),
                 "Tanh": np.tanh, "Sigmoid": lambda v: 1 / (1 + np.exp(-v))}[op]
            return [np.asarray(f(x[0]), x[0].dtype)]
        if op == "Where":
            return [np.where(x[0], x[1], x[2])]
        if op == "Mod":
            return [np.asarray((np.fmod if a.get("fmod", 0) else np.mod)(x[0], x[1]), x[0].dtype)]
        if op == "Transpose":
            return [np.transpose(x[0], a.get("perm"))]
        if op == "Reshape":
            shape = [int(v) for v in x[1]]
            shape = [x[0].shape[i] if v == 0 else v for i, v in enumerate(shape)]
            return [x[0].reshape(shape)]
        if op in ("ConstantOfShape", "Expand"):
            shape = [int(v) for v in (x[0] if op == "ConstantOfShape" else x[1])]
            batch_axes = [i for i, v in enumerate(shape) if v == BATCH]
            shape = [1 if v == BATCH else v for v in shape]
            if any(v < 0 for v in shape) or math.prod(shape) > MAX_ELEMENTS:
                raise self.fail(node, f"asks for a tensor of shape {shape}")
            if op == "ConstantOfShape":
                fill = self.tensor(a["value"], node.output[0]) if "value" in a else np.zeros(1, np.float32)
                out = np.full(shape, fill.reshape(-1)[0], fill.dtype)
            else:
                out = x[0] * np.ones(shape, x[0].dtype)
            if batch_axes:
                self.batched[node.output[0]] = batch_axes[0]
            return [out]
        if op == "Range":
            n = math.ceil((float(x[1]) - float(x[0])) / float(x[2]))
            if n > MAX_ELEMENTS:
                raise self.fail(node, f"asks for {n:,} values")
            return [np.arange(x[0], x[1], x[2]).astype(x[0].dtype)]
        raise self.fail(node, f"uses the operator {op}, which the ONNX import does not support on constants "
                              f"(it reads {', '.join(SUPPORTED)})")

    # ------------------------------------------------------- re-arranging
    def _set(self, node, v):
        self.values[node.output[0]] = v

    def _op_Identity(self, node, a):
        v = self.values.get(node.input[0])
        self._set(node, v if v is not None else self.val(node, node.input[0]))

    def _op_Dropout(self, node, a):
        if len(node.output) > 1 and node.output[1] and self.consumers.get(node.output[1]):
            raise self.fail(node, "has its mask used, which the import does not support")
        self._op_Identity(node, a)

    def _op_Transpose(self, node, a):
        v = self.val(node, node.input[0], affine_ok=True)
        r = v.idx.ndim + 1
        perm = [int(p) % r for p in a.get("perm", list(range(r))[::-1])]
        b = perm.index(v.batch)
        rest = [p - (p > v.batch) for p in perm if p != v.batch]
        self._set(node, v.moved(b, lambda m: m.transpose(rest)))

    def _reshape_to(self, node, v: _Val, full: list[int]):
        """``v`` reshaped to the ONNX shape ``full`` (batch included, found as BATCH, 0 or -1)."""
        src = v.onnx_shape()
        full = [src[i] if d == 0 and i < len(src) else d for i, d in enumerate(full)]
        if any(d != BATCH and d > 0 and d % BATCH == 0 for d in full):
            raise self.fail(node, "merges the batch with another axis (as PyTorch's nn.MultiheadAttention does with "
                                  "its heads and positions inside), which the import does not read")
        b = v.batch
        if b != 0:  # the axes before the batch kept, those after it reshaped (a time-major value)
            rest = full[b + 1:]
            n = math.prod(v.idx.shape[b:])
            if len(full) <= b or full[b] != BATCH or list(full[:b]) != list(src[:b]) or BATCH in rest:
                raise self.fail(node, "reshapes a value whose batch is not the first axis, other than after it")
            if rest.count(-1) == 1:
                known = math.prod(d for d in rest if d != -1)
                rest = [n // known if d == -1 and known > 0 else d for d in rest]
            if any(d < 0 for d in rest) or math.prod(rest) != n:
                raise self.fail(node, f"cannot reshape the {n} values after the batch to {rest}")
            pre = list(v.idx.shape[:b])
            self._set(node, v.moved(b, lambda m: m.reshape(pre + rest)))
            return
        if full and (full[0] == BATCH or full[0] in self.fixed_batches):
            rest = full[1:]
        elif full and full[0] == -1 and -1 not in full[1:]:
            rest = full[1:]
        else:
            raise self.fail(node, f"reshapes to {[('N' if d == BATCH else d) for d in full]}, which does not "
                                  f"keep the batch as its first axis")
        if any(d == BATCH for d in rest):
            raise self.fail(node, "moves the batch to another axis")
        n = v.idx.size
        if rest.count(-1) == 1:
            known = math.prod(d for d in rest if d != -1)
            if known <= 0 or n % known:
                raise self.fail(node, f"cannot reshape {n} values per sample to {rest}")
            rest = [n // known if d == -1 else d for d in rest]
        if any(d < 0 for d in rest) or math.prod(rest) != n:
            raise self.fail(node, f"cannot reshape {n} values per sample to {rest}")
        self._set(node, v.moved(0, lambda m: m.reshape(rest)))

    def _op_Reshape(self, node, a):
        shape = self.const(node.input[1]) if len(node.input) > 1 else None
        if shape is None:
            raise self.fail(node, "takes its target shape from a computed value")
        self._reshape_to(node, self.val(node, node.input[0], affine_ok=True), [int(d) for d in shape.reshape(-1)])

    def _op_Flatten(self, node, a):
        v = self.val(node, node.input[0], affine_ok=True)
        if a.get("axis", 1) != 1 or v.batch != 0:
            raise self.fail(node, "flattens other axes than all but the batch")
        self._set(node, v.moved(0, lambda m: m.reshape(-1)))

    def _axes(self, node, a) -> list[int]:
        if len(node.input) > 1 and node.input[1]:
            c = self.const(node.input[1])
            if c is None:
                raise self.fail(node, "takes its axes from a computed value")
            return [int(x) for x in c.reshape(-1)]
        return [int(x) for x in a.get("axes", [])]

    def _op_Squeeze(self, node, a):
        v = self.val(node, node.input[0], affine_ok=True)
        full = list(v.onnx_shape())
        axes = [ax % len(full) for ax in self._axes(node, a)] or [i for i, d in enumerate(full) if d == 1]
        if v.batch in axes:
            raise self.fail(node, "removes the batch axis")
        keep = [i for i in range(len(full)) if i not in axes]
        new_shape = [full[i] for i in keep if i != v.batch]
        self._set(node, v.moved(keep.index(v.batch), lambda m: m.reshape(new_shape)))

    def _op_Unsqueeze(self, node, a):
        v = self.val(node, node.input[0], affine_ok=True)
        r = v.idx.ndim + 1 + len(self._axes(node, a))
        axes = sorted(ax % r for ax in self._axes(node, a))
        full: list[Any] = list(v.onnx_shape())
        for ax in axes:
            full.insert(ax, 1)
        b = [i for i, d in enumerate(full) if d == BATCH and i not in axes][0]
        shape = [d for i, d in enumerate(full) if i != b]
        self._set(node, v.moved(b, lambda m: m.reshape(shape)))

    def _op_Cast(self, node, a):
        v = self.values.get(node.input[0])
        if isinstance(v, _Pending) and v.stage == "ge":  # step: (x >= 0) as 0/1
            return self._activation(node, "step", v.base, v.base_name)
        self._op_Identity(node, a)

    def _op_GreaterOrEqual(self, node, a):
        v = self.val(node, node.input[0])
        if self._scalar(node.input[1]) != 0.0:
            raise self.fail(node, "compares with something else than 0; the import reads x >= 0 only as part "
                                  "of a step or sign activation")
        self.values[node.output[0]] = _Pending("ge", v, node.name, node.input[0])

    def _op_Where(self, node, a):
        p = self.values.get(node.input[0])
        if isinstance(p, _Pending) and p.stage == "ge" and (self._scalar(node.input[1]), self._scalar(
                node.input[2])) == (1.0, -1.0):
            return self._activation(node, "sign", p.base, p.base_name)
        raise self.fail(node, "is not a sign activation (x >= 0 ? 1 : −1), the only Where the import reads")

    def _op_ReduceMean(self, node, a):
        v = self.val(node, node.input[0])
        r = v.idx.ndim + 1
        axes = self._axes(node, a) or list(range(r))
        axes = sorted({ax % r for ax in axes})
        kept = [i for i in range(r) if i not in axes and i != v.batch]
        if v.batch != 0 or v.batch in axes or len(kept) != 1 or v.idx.ndim < 2:
            raise self.fail(node, "averages other axes than all positions of each channel (a global average "
                                  "pool)")
        c_ax = kept[0] - 1
        order = [i for i in range(v.idx.ndim) if i != c_ax] + [c_ax]
        moved = v.idx.transpose(order)
        shape = moved.shape
        x = self.as_layout(node, _Val(v.src, v.port, 0, moved), shape, _ident(shape), "with its channels last")
        c = shape[-1]
        lid = self.add_layer("GlobalAvgPool", {}, [x], node.name, shapes={"out": (c,)})
        keep = a.get("keepdims", 1)
        idx = _ident((c,))
        if keep:
            idx = idx.reshape([c if i == c_ax else 1 for i in range(v.idx.ndim)])
        self._set(node, _Val(lid, "out", 0, idx))

    # --------------------------------------------------------- activations
    def _activation(self, node, act: str, v: _Val | None = None, name: str | None = None):
        name = name or node.input[0]
        v = v or self.val(node, name)
        layer = self.layers[v.src]
        if (layer.type_id in ("Dense", "Conv2D") and layer.params.get("activation") == "linear"
                and self.fresh(v, name)):
            layer.params["activation"] = act
            self._set(node, v)
            return
        if act == "softmax":
            v = self.exact(node, v, "with the softmax axis last")
        self._set(node, self._new_activation(node, v, act))

    def _new_activation(self, node, v: _Val, act: str) -> _Val:
        lid = self.add_layer("Activation", {"activation": act}, [v], node.name,
                             shapes={"out": self.our_shape(v)})
        return _Val(lid, "out", v.batch, v.idx)

    def _op_Relu(self, node, a):
        self._activation(node, "relu")

    def _op_Sigmoid(self, node, a):
        self._activation(node, "sigmoid")

    def _op_Softplus(self, node, a):
        self._activation(node, "softplus")

    def _op_Softmax(self, node, a):
        p = self.values.get(node.input[0])
        if isinstance(p, _Attn):
            axis = a.get("axis", -1 if _opset(self.model) >= 13 else 1) % 4
            if p.stage != "scores" or axis != 3:
                raise self.fail(node, "takes a softmax of attention scores over another axis than the keys")
            self._set(node, _Attn(**{**p.__dict__, "stage": "softmax"}))
            return
        v = self.val(node, node.input[0])
        axis = a.get("axis", -1 if _opset(self.model) >= 13 else 1) % (v.idx.ndim + 1)
        if v.batch == axis:
            raise self.fail(node, "takes the softmax over the batch")
        if axis != v.idx.ndim or v.batch != 0:
            # another ONNX axis that is our last one (the channels of a channels-first image): our softmax
            ax = axis - (axis > v.batch)
            ours = self.our_shape(v)
            rows = np.moveaxis(v.idx, ax, -1).reshape(-1, v.idx.shape[ax])
            if not (_is_perm(v.idx) and v.idx.size == math.prod(ours) and rows.shape[1] == ours[-1]
                    and np.all(rows == rows[:, :1] + np.arange(rows.shape[1])) and np.all(rows[:, 0] % ours[-1] == 0)):
                raise self.fail(node, f"takes the softmax over axis {axis}, which is not the features (channels) "
                                      f"axis of ANN Designer's layout")
            layer = self.layers[v.src]
            if layer.type_id in ("Dense", "Conv2D") and layer.params.get("activation") == "linear" and self.fresh(
                    v, node.input[0]):
                layer.params["activation"] = "softmax"
                self._set(node, v)
            else:
                self._set(node, self._new_activation(node, v, "softmax"))
            return
        self._activation(node, "softmax")

    def _fixed_alpha(self, node, a, default: float, ours: float, act: str):
        alpha = float(a.get("alpha", default))
        if abs(alpha - ours) > 1e-6:
            raise self.fail(node, f"has alpha {alpha:g}; ANN Designer's {act} uses {ours:g}")
        self._activation(node, act)

    def _op_LeakyRelu(self, node, a):
        from ..engine.activations import LEAKY_ALPHA

        self._fixed_alpha(node, a, 0.01, LEAKY_ALPHA, "leaky_relu")

    def _op_Elu(self, node, a):
        from ..engine.activations import ELU_ALPHA

        self._fixed_alpha(node, a, 1.0, ELU_ALPHA, "elu")

    def _op_Gelu(self, node, a):
        self._activation(node, _gelu(self, node, a.get("approximate", "none")))

    # -- GELU composed of Erf or Tanh, in any order of the products:
    #    x · ½ · (1 + erf(x / √2))  or  x · ½ · (1 + tanh(√(2/π) · (x + 0.044715 · x³)));
    #    and a per-feature x · s + t (an input standardization) folded into the next layer
    def _pending(self, name: str):
        v = self.values.get(name)
        return v if isinstance(v, (_Pending, _Val)) else None

    def _op_Erf(self, node, a):
        p = self._pending(node.input[0])
        if not (isinstance(p, _Pending) and p.stage == "scaled"):
            raise self.fail(node, "is not part of a GELU x·½·(1 + erf(x/√2)), the only use of Erf the import reads")
        self.values[node.output[0]] = _Pending("act", p.base, p.node, form="erf")

    def _op_Tanh(self, node, a):
        p = self._pending(node.input[0])
        if isinstance(p, _Pending):
            if p.stage != "tscaled":
                raise self.fail(node, "is not part of a GELU x·½·(1 + tanh(√(2/π)(x + 0.044715x³)))")
            self.values[node.output[0]] = _Pending("act", p.base, p.node, form="tanh")
            return
        self._activation(node, "tanh")

    def _op_Pow(self, node, a):
        v = self._pending(node.input[0])
        if isinstance(v, _Val) and v.affine is None and self._scalar(node.input[1]) == 3.0:
            self.values[node.output[0]] = _Pending("cube", v, node.name)
            return
        raise self.fail(node, "raises a computed value to a power; the import reads x³ only inside a GELU")

    def _scalar(self, name: str) -> float | None:
        c = self.const(name)
        if c is None or c.size != 1 or c.dtype.kind not in "fiu":
            return None
        return float(c.reshape(-1)[0])

    def _binary(self, node, kind: str):
        """Add/Mul/Div/Sub on computed values: the GELU steps, else a per-feature affine map."""
        x, y = node.input[0], node.input[1]
        px, py = self._pending(x), self._pending(y)
        cx, cy = self._scalar(x), self._scalar(y)
        out = node.output[0]

        def plain(q):
            return isinstance(q, _Val) and q.affine is None

        def stage(q, *names):
            return isinstance(q, _Pending) and q.stage in names

        def near(c, target, tol=1e-4):
            return c is not None and abs(c - target) <= tol * max(1.0, abs(target))

        def put(st, base, form=""):
            self.values[out] = _Pending(st, base, node.name, form=form)

        # the operand that is a value and the constant scalar, when there is one
        c, p = (cy, px) if cy is not None else (cx, py) if kind in ("Mul", "Add") else (None, None)
        if kind == "Div" and cy is not None:
            c, p = 1.0 / cy if cy else None, px
            kind = "Mul"  # x / c == x · (1/c)
        if kind == "Mul" and c is not None:
            if plain(p) and near(c, 1 / math.sqrt(2)):
                return put("scaled", p)
            if plain(p) and near(c, 0.5, 1e-6):
                return put("half", p)
            if stage(p, "cube") and near(c, 0.044715):
                return put("kcube", p.base)
            if stage(p, "inner") and near(c, math.sqrt(2 / math.pi)):
                return put("tscaled", p.base)
            if stage(p, "x_one") and near(c, 0.5, 1e-6):
                return self._gelu_done(node, p.base, p.form)
        if kind == "Add" and c is not None and stage(p, "act") and near(c, 1.0, 1e-6):
            return put("one", p.base, p.form)
        if kind == "Mul" and c is None and cx is None and cy is None:
            if plain(px) and plain(py) and self._same(px, py):
                return put("sq", px)
            for a_, b_ in ((px, py), (py, px)):
                if stage(a_, "sq") and plain(b_) and self._same(a_.base, b_):
                    return put("cube", b_)
                if stage(a_, "one") and plain(b_) and self._same(a_.base, b_):
                    return put("x_one", b_, a_.form)
                if stage(a_, "one") and stage(b_, "half") and self._same(a_.base, b_.base):
                    return self._gelu_done(node, a_.base, a_.form)
        if kind == "Add" and cx is None and cy is None:
            for a_, b_ in ((px, py), (py, px)):
                if stage(a_, "kcube") and plain(b_) and self._same(a_.base, b_):
                    return put("inner", b_)
        if isinstance(px, _Pending) or isinstance(py, _Pending):
            q = px if isinstance(px, _Pending) else py
            raise self.fail(node, f"uses part of a GELU (from node '{q.node}') in a way the import does not know")
        return self._affine(node, node.op_type)

    def _affine(self, node, kind: str):
        """x − c, x / c, x · c (c per feature or one number): kept with the value as x·s + t, to be folded
        into the Dense or recurrent layer that reads it (an input standardization)."""
        x, y = node.input[0], node.input[1]
        cx, cy = self.const(x), self.const(y)
        if cy is not None and cx is None:
            c, name = cy, x
        elif cx is not None and cy is None and kind in ("Mul", "Add"):
            c, name = cx, y
        else:
            raise self.fail(node, f"applies {kind} to computed values; the import reads it only as a bias, an "
                                  f"input standardization or inside a GELU")
        v = self.val(node, name, affine_ok=True)
        try:
            full = np.broadcast_to(c.astype(np.float32), v.onnx_shape(1))
        except ValueError:
            raise self.fail(node, f"applies a constant of shape {list(c.shape)} that does not fit its input") from None
        c = np.take(full, 0, axis=v.batch).astype(np.float32)
        s, t = v.affine or (np.ones(v.idx.shape, np.float32), np.zeros(v.idx.shape, np.float32))
        if kind == "Sub":
            t = t - c
        elif kind == "Add":
            t = t + c
        elif kind == "Div":
            if np.any(c == 0):
                raise self.fail(node, "divides by zero")
            s, t = s / c, t / c
        elif kind == "Mul":
            s, t = s * c, t * c
        else:
            raise self.fail(node, f"applies {kind} to a computed value")
        self._set(node, _Val(v.src, v.port, v.batch, v.idx, (s, t)))

    @staticmethod
    def _same(a: _Val, b: _Val) -> bool:
        return (a.src == b.src and a.port == b.port and a.batch == b.batch and a.affine is None
                and b.affine is None and np.array_equal(a.idx, b.idx))

    def _gelu_done(self, node, base: _Val, form: str):
        name = _gelu(self, node, "tanh" if form == "tanh" else "none")
        lid = self.add_layer("Activation", {"activation": name}, [base], node.name,
                             shapes={"out": self.our_shape(base)})
        self._set(node, _Val(lid, "out", base.batch, base.idx))

    def _op_Mul(self, node, a):
        if not self._attention_binary(node, "Mul"):
            self._binary(node, "Mul")

    def _op_Div(self, node, a):
        if not self._attention_binary(node, "Div"):
            self._binary(node, "Div")

    def _op_Sub(self, node, a):
        if not self._attention_binary(node, "Sub"):
            self._binary(node, "Sub")

    # ------------------------------------------------------------- layers
    def _per_feature(self, node, v: _Val) -> tuple[np.ndarray, np.ndarray] | None:
        """The standardization (s, t) on ``v`` per feature (its last ONNX axis), or None."""
        if v.affine is None:
            return None
        s, t = (m.reshape(-1, v.idx.shape[-1]) for m in v.affine)
        if not (np.all(s == s[0]) and np.all(t == t[0])):
            raise self.fail(node, "reads a value scaled and shifted differently at each position; the import "
                                  "folds only a per-feature standardization into a layer")
        return s[0], t[0]

    def _note(self, note: str) -> None:
        if note not in self.notes:
            self.notes.append(note)

    def _note_folded(self, node) -> None:
        note = ("the model's input standardization (x − mean) / std is folded into the weights of the layer "
                "that reads it, so the network takes raw rows")
        if note not in self.notes:
            self.notes.append(note)

    def _dense(self, node, v: _Val, W: np.ndarray, b: np.ndarray | None):
        """A Dense layer x·W + b on ``v`` (W: ONNX (K, M)); a standardization x·s + t on ``v`` is folded
        in: (x·s + t)W + b = x(sW) + (tW + b)."""
        K, M = W.shape
        if self.layers[v.src].type_id == "_AttnHeads":
            return self._attention_output(node, v, W, b)
        if v.idx.ndim == 0 or v.idx.shape[-1] != K:
            raise self.fail(node, f"multiplies {v.idx.shape[-1] if v.idx.ndim else 1} features by a {K}×{M} matrix")
        aff = self._per_feature(node, v)
        if aff is not None:
            self._note_folded(node)
            b = (b if b is not None else np.zeros(M, np.float32)) + aff[1] @ W
            W = W * aff[0][:, None]
        if v.idx.ndim == 1:
            v, rows = self.flat(node, v, partial_ok=True)
            kernel = np.zeros((self.our_shape(v)[0], W.shape[1]), W.dtype)  # rows it does not read stay 0
            np.add.at(kernel, rows, W)
        else:
            ours_in = self.our_shape(v)
            rows = v.idx.reshape(-1, K)
            if ((v.batch != 0 or not np.array_equal(v.idx, _ident(v.idx.shape))) and ours_in[-1] == K
                    and _is_perm(v.idx) and v.idx.size == math.prod(ours_in)
                    and np.all(rows == rows[:, :1] + np.arange(K)) and np.all(rows[:, 0] % K == 0)):
                # the features last in ours too, the other axes in another order (e.g. time-major): the same
                # Dense on our layout, its outputs in that order
                weights = {"kernel": W.astype(np.float32)}
                if b is not None:
                    weights["bias"] = b.astype(np.float32)
                lid = self.add_layer("Dense", {"units": int(M), "activation": "linear", "use_bias": b is not None},
                                     [v], node.name, weights, {"out": ours_in[:-1] + (M,)})
                self.layers[lid].open_bias = aff is not None and b is not None
                self._set(node, _Val(lid, "out", v.batch, (v.idx[..., :1] // K) * M + np.arange(M)))
                return
            v = self.exact(node, v, "with its features last")
            kernel = W
        weights = {"kernel": kernel.astype(np.float32)}
        if b is not None:
            weights["bias"] = b.astype(np.float32)
        ours = self.our_shape(v)[:-1] + (M,)
        lid = self.add_layer("Dense", {"units": int(M), "activation": "linear", "use_bias": b is not None},
                             [v], node.name, weights, {"out": ours})
        self.layers[lid].open_bias = aff is not None and b is not None
        self._set(node, _Val(lid, "out", 0, _ident(ours)))

    def _weight(self, node, i: int, what: str) -> np.ndarray:
        if len(node.input) <= i or not node.input[i]:
            raise self.fail(node, f"has no {what}")
        c = self.const(node.input[i])
        if c is None:
            raise self.fail(node, f"takes its {what} from a computed value; the import needs it stored in the file")
        if c.dtype.kind not in "fiu":
            raise self.fail(node, f"has a {what} of type {c.dtype}")
        return c.astype(np.float32)

    def _op_Gemm(self, node, a):
        if a.get("transA", 0):
            raise self.fail(node, "transposes its input (transA)")
        v = self.val(node, node.input[0], affine_ok=True)
        B = self._weight(node, 1, "weight matrix B")
        if B.ndim != 2:
            raise self.fail(node, f"has a weight matrix of shape {list(B.shape)}")
        W = (B.T if a.get("transB", 0) else B) * np.float32(a.get("alpha", 1.0))
        b = None
        if len(node.input) > 2 and node.input[2]:
            C = self._weight(node, 2, "bias C") * np.float32(a.get("beta", 1.0))
            try:
                b = np.broadcast_to(C, (1, W.shape[1])).reshape(-1).copy()
            except ValueError:
                raise self.fail(node, f"has a bias of shape {list(C.shape)} for {W.shape[1]} units") from None
        self._dense(node, v, W, b)

    def _op_MatMul(self, node, a):
        if self.const(node.input[1]) is None:
            return self._attention_matmul(node)
        v = self.val(node, node.input[0], affine_ok=True)
        W = self._weight(node, 1, "weight matrix")
        if W.ndim != 2:
            raise self.fail(node, f"has a weight matrix of shape {list(W.shape)}; the import reads 2-D ones")
        self._dense(node, v, W, None)

    # ------------------------------------------------------ self-attention
    #    Q, K, V = xW + b (Dense layers), each Reshape'd to (T, H, K) heads and Transpose'd to (H, T, K)
    #    (keys to (H, K, T)); MatMul QKᵀ, Mul/Div by a scale, Add a causal mask, Softmax, MatMul by V:
    #    a placeholder "_AttnHeads" layer holding (T, H·K) = [head_1 … head_H]; Transpose back, Reshape
    #    to (T, H·K), MatMul (+ Add) by the output projection: one SelfAttention layer.
    def _heads(self, node, name: str, which: str, perm: tuple[int, ...]):
        """(projection layer, its input, T, H, K, factor) for the ``which`` (queries, keys, values) of an
        attention: a Dense layer's (T, H·K) output split into heads and put in the order ``perm`` of
        (T, H, K), times the number ``factor``."""
        v = self.values.get(name)
        factor = 1.0
        if isinstance(v, _Pending) and v.stage in ("scaled", "half") and v.base.affine is None:
            factor, v = (1 / math.sqrt(2) if v.stage == "scaled" else 0.5), v.base
        why = (f"multiplies two computed values; the import reads that only as self-attention, whose {which} "
               f"are a projection xW + b split into heads (batch, heads, positions, key size)")
        if not isinstance(v, _Val):
            raise self.fail(node, why)
        if v.affine is not None:
            s_, t_ = v.affine
            if np.any(t_ != 0) or not np.all(s_ == s_.reshape(-1)[0]):
                raise self.fail(node, f"{why}; its {which} are shifted, or scaled by more than one number")
            factor *= float(s_.reshape(-1)[0])
        layer = self.layers[v.src]
        shape = layer.shapes.get(v.port, ())
        if (layer.type_id != "Dense" or layer.params.get("activation") != "linear" or v.port != "out"
                or len(shape) != 2 or v.batch != 0 or v.idx.ndim != 3):
            raise self.fail(node, why)
        T, HK = shape
        H = int(v.idx.shape[0])
        K = HK // H if H and HK % H == 0 else 0
        want = _ident((T, H, K)).transpose(perm) if K else None
        if want is None or v.idx.shape != want.shape or not np.array_equal(v.idx, want):
            raise self.fail(node, f"{why}; its {which} are not split into heads as (batch, heads, "
                                  + ("key size, positions)" if which == "keys" else "positions, key size)"))
        return v.src, (layer.inputs[0], layer.in_ports[0]), T, H, K, factor

    def _attention_matmul(self, node):
        p = self.values.get(node.input[0])
        if isinstance(p, _Attn):
            if p.stage != "softmax":
                raise self.fail(node, "multiplies attention scores by the values before their softmax")
            v_lid, x, T, H, K, f = self._heads(node, node.input[1], "values", (1, 0, 2))
            if x != p.x or (T, H, K) != (p.T, p.H, p.K):
                raise self.fail(node, f"takes its values from another input or with other heads than the "
                                      f"queries and keys of node '{p.node}'; ANN Designer's SelfAttention "
                                      f"projects one input")
            Q, Kl, V = self.layers[p.q], self.layers[p.k], self.layers[v_lid]
            fq = p.scale * math.sqrt(K)  # our engine scales by 1/√K: the rest goes into the queries
            fq = 1.0 if abs(fq - 1.0) < 1e-6 else fq
            weights, biased = {}, False
            for which, layer, factor in (("query", Q, fq), ("key", Kl, 1.0), ("value", V, f)):
                weights[f"{which}_kernel"] = layer.weights["kernel"] * np.float32(factor)
                if "bias" in layer.weights:
                    weights[f"{which}_bias"] = layer.weights["bias"] * np.float32(factor)
                    biased = True
            params = {"heads": H, "key_dim": K, "causal": p.causal, "use_bias": biased}
            lid = self.add_layer("_AttnHeads", params, [x], p.node, weights, {"out": (T, H * K)})
            self._set(node, _Val(lid, "out", 0, _ident((T, H, K)).transpose(1, 0, 2)))
            return
        if isinstance(self._pending(node.input[0]), (_Val, _Pending)) and isinstance(
                self._pending(node.input[1]), (_Val, _Pending)):
            q, x, T, H, K, fq = self._heads(node, node.input[0], "queries", (1, 0, 2))
            k, xk, Tk, Hk, Kk, fk = self._heads(node, node.input[1], "keys", (1, 2, 0))
            if xk != x or (T, H, K) != (Tk, Hk, Kk):
                raise self.fail(node, "multiplies queries and keys projected from different inputs or split "
                                      "into other heads; ANN Designer's SelfAttention projects one input")
            self._set(node, _Attn("scores", _text(node.name), x, q, k, T, H, K, fq * fk))
            return
        if isinstance(p, _Pending) or isinstance(self.values.get(node.input[1]), (_Pending, _Attn)):
            self.val(node, node.input[0])
            self.val(node, node.input[1])
        raise self.fail(node, "multiplies two computed values; the import reads MatMul as a layer's weights, "
                              "or inside a self-attention")

    def _attention_binary(self, node, kind: str) -> bool:
        """Mul/Div by a constant scale, or Add of a causal mask, on attention scores; False when neither
        input is attention scores."""
        x, y = node.input[0], node.input[1]
        px, py = self.values.get(x), self.values.get(y)
        if not isinstance(px, _Attn) and not isinstance(py, _Attn):
            return False
        p, other = (px, y) if isinstance(px, _Attn) else (py, x)
        c = self.const(other)
        if p.stage != "scores" or c is None or kind == "Sub" or (kind == "Div" and p is not px):
            raise self.fail(node, f"applies {kind} to the attention scores of node '{p.node}'; the import reads "
                                  f"softmax(QKᵀ·scale + causal mask)·V, with a constant scale and mask, as "
                                  f"self-attention")
        if kind in ("Mul", "Div"):
            if c.size != 1 or c.dtype.kind not in "fiu":
                raise self.fail(node, "scales the attention scores by more than one number")
            k = float(c.reshape(-1)[0])
            if kind == "Div":
                if k == 0:
                    raise self.fail(node, "divides the attention scores by zero")
                k = 1.0 / k
            self._set(node, _Attn(**{**p.__dict__, "scale": p.scale * k}))
            return True
        T = p.T
        try:
            m = np.broadcast_to(c.astype(np.float64), (1, p.H, T, T))[0]
        except ValueError:
            raise self.fail(node, f"adds a mask of shape {list(c.shape)} to attention scores of "
                                  f"{p.H} heads × {T} × {T}") from None
        upper = np.triu(np.ones((T, T), bool), 1)
        if not np.all(m == m[:1]) or np.any(m[:, ~upper] != 0) or not (
                np.all(m[:, upper] == 0) or np.all(m[:, upper] <= -1e4)):
            raise self.fail(node, "adds a mask to the attention scores that is not causal (0 on and below the "
                                  "diagonal, −10⁴ or less above it); ANN Designer's SelfAttention is causal or not")
        causal = p.causal or bool(upper.any() and np.all(m[:, upper] <= -1e4))
        self._set(node, _Attn(**{**p.__dict__, "causal": causal}))
        return True

    def _attention_output(self, node, v: _Val, W: np.ndarray, b: np.ndarray | None):
        """The output projection of the heads ``v``: the SelfAttention layer."""
        heads = self.layers[v.src]
        T, HK = heads.shapes["out"]
        x = (heads.inputs[0], heads.in_ports[0])
        D = self.layers[x[0]].shapes[x[1]][-1]
        M = W.shape[1]
        if v.batch != 0 or v.idx.shape != (T, HK) or not np.array_equal(v.idx, _ident((T, HK))) or v.affine:
            raise self.fail(node, "reads the attention heads in another order than side by side per position "
                                  "([head_1 … head_H], as (batch, positions, heads × key size))")
        if M != D:
            raise self.fail(node, f"projects the attention heads to {M} features; ANN Designer's SelfAttention "
                                  f"gives back its input's {D}")
        params = dict(heads.params)
        weights = dict(heads.weights)
        weights["output_kernel"] = W.astype(np.float32)
        if b is not None:
            weights["output_bias"] = b.astype(np.float32)
        self._attention_biases(params, weights, D)
        lid = self.add_layer("SelfAttention", params, [x], node.name, weights, {"out": (T, D)})
        self.layers[lid].open_bias = True
        self._set(node, _Val(lid, "out", 0, _ident((T, D))))

    @staticmethod
    def _attention_biases(params: dict, weights: dict, D: int) -> None:
        """Our SelfAttention has all four biases or none: zeros for the missing ones."""
        if not params["use_bias"] and "output_bias" not in weights:
            return
        params["use_bias"] = True
        for which in ("query", "key", "value"):
            weights.setdefault(f"{which}_bias", np.zeros(weights[f"{which}_kernel"].shape[1], np.float32))
        weights.setdefault("output_bias", np.zeros(D, np.float32))

    def _op_Add(self, node, a):
        if self._attention_binary(node, "Add"):
            return
        x, y = node.input[0], node.input[1]
        cx, cy = self.const(x), self.const(y)
        if cx is None and cy is None:
            px, py = self._pending(x), self._pending(y)
            if isinstance(px, _Pending) or isinstance(py, _Pending):
                return self._binary(node, "Add")
            vx, vy = self.val(node, x), self.val(node, y)
            if np.array_equal(vx.idx, vy.idx) and vx.batch == vy.batch and vx.idx.shape == vy.idx.shape:
                if self.our_shape(vx) != self.our_shape(vy):
                    vy = self.as_layout(node, vy, self.our_shape(vx), vx.idx, "like its other input")
                lid = self.add_layer("Add", {}, [vx, vy], node.name, shapes={"out": self.our_shape(vx)})
                self._set(node, _Val(lid, "out", vx.batch, vx.idx))
                return
            raise self.fail(node, "adds values laid out differently")
        c, name = (cy, x) if cy is not None else (cx, y)
        p = self._pending(name)
        if isinstance(p, _Pending):
            return self._binary(node, "Add")
        v = self.val(node, name, affine_ok=True)
        if v.affine is not None:
            return self._affine(node, "Add")
        layer = self.layers[v.src]
        if layer.type_id == "SelfAttention" and layer.open_bias and self.fresh(v, name):
            D = layer.shapes["out"][-1]
            layer.weights["output_bias"] = self._bias_from(node, v, c.astype(np.float32)) + (
                layer.weights["output_bias"] if layer.params["use_bias"] else 0)
            self._attention_biases(layer.params, layer.weights, D)
            self._set(node, v)
            return
        if (layer.type_id in ("Dense", "Conv2D") and layer.params.get("activation") == "linear"
                and self.fresh(v, name) and v.affine is None and _is_perm(v.idx)
                and v.idx.size == math.prod(self.our_shape(v))):
            bias = self._bias_from(node, v, c.astype(np.float32), strict=False)
            if bias is not None:  # one number per unit: (xW + b) + c = xW + (b + c)
                if layer.params.get("use_bias"):
                    bias = bias + layer.weights["bias"]
                layer.params["use_bias"] = True
                layer.weights["bias"] = bias
                self._set(node, v)
                return
        if v.batch == 0 and v.idx.ndim == 2 and c.ndim <= 3:
            full = np.broadcast_to(c.astype(np.float32), v.onnx_shape(1))[0]
            x = self.exact(node, v, "as (positions, features)")
            lid = self.add_layer("PositionalEncoding", {"kind": "learned"}, [x], node.name,
                                 {"positions": np.ascontiguousarray(full)}, {"out": self.our_shape(x)})
            self._set(node, _Val(lid, "out", 0, x.idx))
            return
        # else kept as x + c with the value: folded into the Dense or recurrent layer that reads it, or into the
        # last layer when it is an output; refused by name anywhere else
        return self._affine(node, "Add")

    def _bias_from(self, node, v: _Val, c: np.ndarray, strict: bool = True) -> np.ndarray | None:
        full = v.onnx_shape(1)
        try:
            F = np.broadcast_to(c, full)
        except ValueError:
            raise self.fail(node, f"adds a constant of shape {list(c.shape)} to a value of shape "
                                  f"{['N' if i == v.batch else d for i, d in enumerate(full)]}") from None
        F = np.take(F, 0, axis=v.batch)
        ours = np.empty(math.prod(self.our_shape(v)), np.float32)
        ours[v.idx.reshape(-1)] = F.reshape(-1)
        units = self.our_shape(v)[-1]
        rows = ours.reshape(-1, units)
        if not np.all(rows == rows[0]):
            if not strict:
                return None
            raise self.fail(node, "adds a constant that is not one bias per unit")
        return rows[0].copy()

    def _window(self, node, a, v: _Val, k: tuple[int, int], pool: bool):
        """(padding, strides) for a Conv/pool window of size k on ``v`` (ONNX C, H, W)."""
        from ..graph.types_conv import out_size, pad_before

        _, H, W = v.idx.shape
        strides = [int(s) for s in a.get("strides", [1, 1])]
        if len(strides) != 2 or any(s <= 0 for s in strides):
            raise self.fail(node, f"has strides {strides}")
        if any(d != 1 for d in a.get("dilations", [1, 1])):
            raise self.fail(node, f"has dilations {list(a['dilations'])}; ANN Designer's windows are not dilated")
        auto = a.get("auto_pad", b"NOTSET")
        auto = auto.decode() if isinstance(auto, bytes) else auto
        pads = [int(p) for p in a.get("pads", [0, 0, 0, 0])]
        if auto == "VALID":
            pads = [0, 0, 0, 0]
        same = []
        for size, kk, s in ((H, k[0], strides[0]), (W, k[1], strides[1])):
            total = max((out_size(size, kk, s, "same") - 1) * s + kk - size, 0)
            same.append((pad_before(size, kk, s, "same"), total - pad_before(size, kk, s, "same")))
        same_pads = [same[0][0], same[1][0], same[0][1], same[1][1]]
        if auto == "SAME_UPPER" or (auto == "NOTSET" and pads == same_pads and any(pads)):
            padding = "same"
        elif auto in ("NOTSET", "VALID") and pads == [0, 0, 0, 0]:
            padding = "valid"
        else:
            raise self.fail(node, f"pads the image by {pads} (auto_pad {auto}); ANN Designer pads 'valid' (none) "
                                  f"or 'same' ({same_pads} here)")
        if a.get("ceil_mode", 0) and padding == "valid":
            if any(out_size(n, kk, s, "valid") != -(-(n - kk) // s) + 1 for n, kk, s in
                   ((H, k[0], strides[0]), (W, k[1], strides[1]))):
                raise self.fail(node, "rounds its output size up (ceil_mode); ANN Designer rounds down")
        if pool and padding == "same" and node.op_type == "AveragePool" and a.get("count_include_pad", 0):
            raise self.fail(node, "counts the padding in its averages (count_include_pad)")
        out = (out_size(H, k[0], strides[0], padding), out_size(W, k[1], strides[1], padding))
        if 0 in out:
            raise self.fail(node, f"has a {k[0]}×{k[1]} window larger than its {H}×{W} input")
        return padding, strides, out

    def _op_Conv(self, node, a):
        v = self.val(node, node.input[0])
        if v.idx.ndim != 3:
            raise self.fail(node, f"convolves a {v.idx.ndim - 1}-D input; the import reads 2-D images")
        if a.get("group", 1) != 1:
            raise self.fail(node, f"has {a['group']} groups; ANN Designer's Conv2D has one")
        Wt = self._weight(node, 1, "kernel")
        if Wt.ndim != 4 or Wt.shape[1] != v.idx.shape[0]:
            raise self.fail(node, f"has a kernel of shape {list(Wt.shape)} for {v.idx.shape[0]} channels")
        M, _, kh, kw = Wt.shape
        padding, strides, (oh, ow) = self._window(node, a, v, (kh, kw), pool=False)
        v = self.channels_last(node, v)
        weights = {"kernel": np.ascontiguousarray(Wt.transpose(2, 3, 1, 0))}
        use_bias = len(node.input) > 2 and bool(node.input[2])
        if use_bias:
            weights["bias"] = self._weight(node, 2, "bias").reshape(-1)
        lid = self.add_layer("Conv2D", {"filters": int(M), "kernel_size": [int(kh), int(kw)], "strides": strides,
                                        "padding": padding, "activation": "linear", "use_bias": use_bias},
                             [v], node.name, weights, {"out": (oh, ow, int(M))})
        self._set(node, _Val(lid, "out", 0, _channels_last_idx((int(M), oh, ow))))

    def _pool(self, node, a, type_id: str):
        v = self.val(node, node.input[0])
        if v.idx.ndim != 3:
            raise self.fail(node, "pools an input that is not a 2-D image")
        if len(node.output) > 1 and node.output[1] and self.consumers.get(node.output[1]):
            raise self.fail(node, "has its indices output used")
        k = [int(x) for x in a.get("kernel_shape", [])]
        if len(k) != 2:
            raise self.fail(node, f"has a window {k}")
        padding, strides, (oh, ow) = self._window(node, a, v, (k[0], k[1]), pool=True)
        v = self.channels_last(node, v)
        c = v.idx.shape[0]
        lid = self.add_layer(type_id, {"pool_size": k, "strides": strides, "padding": padding}, [v], node.name,
                             shapes={"out": (oh, ow, c)})
        self._set(node, _Val(lid, "out", 0, _channels_last_idx((c, oh, ow))))

    def _op_MaxPool(self, node, a):
        self._pool(node, a, "MaxPool2D")

    def _op_AveragePool(self, node, a):
        self._pool(node, a, "AvgPool2D")

    def _op_GlobalAveragePool(self, node, a):
        v = self.val(node, node.input[0])
        if v.idx.ndim < 2:
            raise self.fail(node, "needs an input with positions and channels")
        v = self.channels_last(node, v)
        c = v.idx.shape[0]
        lid = self.add_layer("GlobalAvgPool", {}, [v], node.name, shapes={"out": (c,)})
        self._set(node, _Val(lid, "out", 0, _ident((c,)).reshape((c,) + (1,) * (v.idx.ndim - 1))))

    def _op_Concat(self, node, a):
        vals = [self.val(node, i) for i in node.input if i]
        if len(vals) < 2:
            return self._op_Identity(node, a)
        b = vals[0].batch
        r = vals[0].idx.ndim + 1
        axis = int(a["axis"]) % r
        if axis == b or any(v.batch != b or v.idx.ndim != r - 1 for v in vals):
            raise self.fail(node, "joins along the batch axis, or values of different ranks")
        # each layer joined once (two slices of one layer read it once)
        firsts: dict[tuple[str, str], _Val] = {}
        for v in vals:
            firsts.setdefault((v.src, v.port), v)
        sources = list(firsts.values())
        shapes = [self.our_shape(v) for v in sources]
        if any(s[:-1] != shapes[0][:-1] for s in shapes):
            raise self.fail(node, "joins values that ANN Designer cannot join on their last axis")
        total = sum(s[-1] for s in shapes)
        offsets = dict(zip(firsts, np.cumsum([0] + [s[-1] for s in shapes])))
        parts = []
        for v in vals:
            width = self.our_shape(v)[-1]
            prefix, last = np.divmod(v.idx, width)
            parts.append(prefix * total + int(offsets[(v.src, v.port)]) + last)
        ax = axis - (axis > b)
        try:
            idx = np.concatenate(parts, axis=ax)
        except ValueError as e:
            raise self.fail(node, f"joins values of shapes that do not fit ({e})") from None
        if len(sources) == 1:  # parts of one layer re-arranged
            self._set(node, _Val(sources[0].src, sources[0].port, b, idx))
            return
        vals = sources
        lid = self.add_layer("Concatenate", {}, vals, node.name, shapes={"out": shapes[0][:-1] + (total,)})
        offsets = np.cumsum([0] + [s[-1] for s in shapes])
        self.layers[lid].parts = [(v, int(o), int(sh[-1])) for v, o, sh in zip(vals, offsets, shapes)]
        self._set(node, _Val(lid, "out", b, idx))

    def _op_Gather(self, node, a):
        data, ind = node.input[0], node.input[1]
        E = self.const(data)
        if E is not None:  # an embedding table looked up by token ids
            if E.ndim != 2 or a.get("axis", 0) != 0:
                raise self.fail(node, f"looks up a table of shape {list(E.shape)}; the import reads 2-D "
                                      f"tables looked up by row (an Embedding)")
            v = self.exact(node, self.val(node, ind), "as a row of token ids")
            if v.idx.ndim != 1:
                raise self.fail(node, "looks up token ids of more than one axis per sample")
            T, (n, d) = v.idx.shape[0], E.shape
            lid = self.add_layer("Embedding", {"input_dim": int(n), "output_dim": int(d)}, [v], node.name,
                                 {"embeddings": E.astype(np.float32)}, {"out": (T, int(d))})
            self._set(node, _Val(lid, "out", 0, _ident((T, int(d)))))
            return
        v = self.val(node, data, affine_ok=True)
        k = self.const(ind)
        if k is None:
            raise self.fail(node, "selects by computed indices")
        r = v.idx.ndim + 1
        axis = int(a.get("axis", 0)) % r
        if axis == v.batch:
            raise self.fail(node, "selects samples of the batch")
        ax = axis - (axis > v.batch)
        try:
            idx = np.take(v.idx, k.astype(np.int64), axis=ax)
        except IndexError:
            raise self.fail(node, f"selects index {k.tolist()} outside the axis of size {v.idx.shape[ax]}") from None
        new_batch = v.batch if v.batch < axis else v.batch + k.ndim - 1
        self._select(node, v, new_batch, lambda m: np.take(m, k.astype(np.int64), axis=ax))

    def _op_Slice(self, node, a):
        v = self.val(node, node.input[0], affine_ok=True)
        consts = [self.const(i) if i else None for i in node.input[1:5]]
        if any(c is None for c, i in zip(consts, node.input[1:5]) if i) or len(node.input) < 3:
            raise self.fail(node, "takes its starts, ends, axes or steps from a computed value")
        starts, ends = consts[0].reshape(-1), consts[1].reshape(-1)
        axes = consts[2].reshape(-1) if len(consts) > 2 and consts[2] is not None else np.arange(len(starts))
        steps = consts[3].reshape(-1) if len(consts) > 3 and consts[3] is not None else np.ones(len(starts))
        r = v.idx.ndim + 1
        sl: list[slice] = [slice(None)] * v.idx.ndim
        for st, en, ax, step in zip(starts, ends, axes, steps):
            ax = int(ax) % r
            if ax == v.batch:
                if int(st) != 0 or int(step) != 1 or int(en) < BATCH:
                    raise self.fail(node, "selects samples of the batch")
                continue
            if int(step) == 0:
                raise self.fail(node, "has a step of 0")
            big = 2**62
            sl[ax - (ax > v.batch)] = slice(int(np.clip(st, -big, big)), int(np.clip(en, -big, big)), int(step))
        if 0 in v.idx[tuple(sl)].shape:
            raise self.fail(node, "selects nothing")
        self._select(node, v, v.batch, lambda m: m[tuple(sl)])

    def _select(self, node, v: _Val, new_batch: int, fn) -> None:
        """``v`` with ``fn`` (a Gather or Slice) applied to its axes: the same numbers re-arranged, one of the
        values a Concatenate joined, the last step of a recurrent sequence, or some of the numbers (which only
        a Dense layer or a Concatenate may read)."""
        idx = fn(v.idx)
        n = math.prod(self.our_shape(v))
        if _is_perm(idx) and idx.size == n:
            self._set(node, v.moved(new_batch, fn))
            return
        layer = self.layers[v.src]
        if layer.type_id == "Concatenate" and v.affine is None:  # a joined value picked out (PyTorch's h_n[-1])
            total = layer.shapes["out"][-1]
            prefix, last = np.divmod(idx, total)
            for part, off, size in layer.parts:
                if np.all((last >= off) & (last < off + size)):
                    mapped = prefix * size + (last - off)
                    if _is_perm(mapped) and mapped.size == math.prod(self.our_shape(part)):
                        self._set(node, _Val(part.src, part.port, new_batch, mapped))
                        return
        if v.port == "seq" and v.affine is None:
            T, H = layer.shapes["seq"]
            if np.array_equal(np.sort(idx.reshape(-1)), np.arange((T - 1) * H, T * H)):
                last = idx - (T - 1) * H
                self._set(node, _Val(v.src, "last", new_batch, last))
                return
        self._set(node, v.moved(new_batch, fn))  # some of the numbers: a Dense reading them gets zero rows

    def _op_LayerNormalization(self, node, a):
        v = self.exact(node, self.val(node, node.input[0]), "with its features last")
        if a.get("axis", -1) not in (-1, v.idx.ndim):
            raise self.fail(node, f"normalizes from axis {a['axis']}; ANN Designer's LayerNorm normalizes the "
                                  f"last axis")
        c = v.idx.shape[-1]
        weights = {"gamma": self._weight(node, 1, "scale").reshape(-1)}
        center = len(node.input) > 2 and bool(node.input[2])
        if center:
            weights["beta"] = self._weight(node, 2, "bias").reshape(-1)
        if any(w.size != c for w in weights.values()):
            raise self.fail(node, f"has a scale or bias of another size than its {c} features")
        lid = self.add_layer("LayerNorm", {"epsilon": float(a.get("epsilon", 1e-5)), "center": center,
                                           "scale": True}, [v], node.name, weights, {"out": self.our_shape(v)})
        self._set(node, _Val(lid, "out", 0, v.idx))

    def _op_BatchNormalization(self, node, a):
        if a.get("training_mode", 0):
            raise self.fail(node, "is in training mode")
        v = self.val(node, node.input[0])
        if v.batch != 0:
            raise self.fail(node, "needs the batch as the first axis of its input")
        if v.idx.ndim >= 2:
            v = self.channels_last(node, v)
            perm = _ident((v.idx.shape[0],))
        else:
            v, perm = self.flat(node, v)
        c = v.idx.shape[0]
        names = ("gamma", "beta", "moving_mean", "moving_variance")
        weights = {}
        for i, wname in enumerate(names, 1):
            w = self._weight(node, i, wname.replace("_", " ")).reshape(-1)
            if w.size != c:
                raise self.fail(node, f"has a {wname} of {w.size} values for {c} channels")
            ours = np.empty_like(w)
            ours[perm] = w
            weights[wname] = ours
        momentum = float(a.get("momentum", 0.9))
        lid = self.add_layer("BatchNorm", {"epsilon": float(a.get("epsilon", 1e-5)), "momentum": momentum},
                             [v], node.name, weights, {"out": self.our_shape(v)})
        self._set(node, _Val(lid, "out", 0, v.idx))

    # ----------------------------------------------------------- recurrent
    def _recurrent(self, node, a, kind: str):
        k = {"RNN": 1, "LSTM": 4, "GRU": 3}[kind]
        our_kind = "SimpleRNN" if kind == "RNN" else kind
        direction = a.get("direction", b"forward")
        direction = direction.decode() if isinstance(direction, bytes) else direction
        if direction != "forward":
            raise self.fail(node, f"runs {direction}; ANN Designer's recurrent layers run forward only")
        if a.get("clip") is not None:
            raise self.fail(node, "clips its cell values")
        if a.get("input_forget", 0):
            raise self.fail(node, "couples its input and forget gates")
        layout = int(a.get("layout", 0))
        v = self.val(node, node.input[0], affine_ok=True)
        if v.batch != (0 if layout else 1) or v.idx.ndim != 2:
            raise self.fail(node, "needs a (time, batch, features) input" if not layout else
                            "needs a (batch, time, features) input")
        T, F = v.idx.shape
        W = self._weight(node, 1, "input weights W")
        R = self._weight(node, 2, "recurrent weights R")
        H = int(a.get("hidden_size", R.shape[-1]))
        if W.shape != (1, k * H, F) or R.shape != (1, k * H, H):
            raise self.fail(node, f"has weights of shapes {list(W.shape)}, {list(R.shape)} for {F} features "
                                  f"and {H} units")
        B = None
        if len(node.input) > 3 and node.input[3]:
            B = self._weight(node, 3, "bias B")
            if B.shape != (1, 2 * k * H):
                raise self.fail(node, f"has a bias of shape {list(B.shape)}")
        for i, what in ((4, "sequence lengths"), (5, "initial state"), (6, "initial cell state"),
                        (7, "peephole weights")):
            if len(node.input) > i and node.input[i]:
                c = self.const(node.input[i])
                if c is None:
                    raise self.fail(node, f"takes its {what} from a computed value")
                if i == 4:
                    if not np.all(c == T):
                        raise self.fail(node, "has sequences of different lengths")
                elif np.any(c != 0):
                    raise self.fail(node, f"has a {what} that is not zero; ANN Designer starts from zeros")
        acts = [x.decode() if isinstance(x, bytes) else x for x in a.get("activations", [])]
        default = {"RNN": ["Tanh"], "LSTM": ["Sigmoid", "Tanh", "Tanh"], "GRU": ["Sigmoid", "Tanh"]}[kind]
        params: dict[str, Any] = {"units": H, "return_sequences": False, "use_bias": B is not None}
        if kind == "RNN":
            act = (acts or default)[0]
            names = {"Tanh": "tanh", "Relu": "relu", "Sigmoid": "sigmoid"}
            if act not in names:
                raise self.fail(node, f"uses the activation {act}")
            params["activation"] = names[act]
        elif acts and acts != default:
            raise self.fail(node, f"uses the activations {acts}; ANN Designer's {kind} uses {default}")
        reset_after = kind == "GRU" and bool(a.get("linear_before_reset", 0))
        if reset_after:
            spec = {p_.name for p_ in _registry().get("GRU").params}
            if "reset_after" not in spec:
                raise self.fail(node, "applies the reset gate after the recurrent product (linear_before_reset = "
                                      "1, as PyTorch's GRU does); this ANN Designer's GRU applies it before")
            params["reset_after"] = True  # Keras's GRU(reset_after=True): bias rows (input, recurrent) = Wb, Rb
        Wk, Rk = W[0], R[0]
        if B is None:
            bias = None
        elif reset_after:
            bias = B[0].reshape(2, k * H)
        else:
            bias = B[0, :k * H] + B[0, k * H:]
        order = {"LSTM": [0, 2, 3, 1], "GRU": [0, 1, 2], "RNN": [0]}[kind]  # ONNX i,o,f,c -> ours i,f,c,o

        def reorder(m):  # gate blocks of the first axis
            blocks = [m[j * H:(j + 1) * H] for j in range(k)]
            return np.concatenate([blocks[j] for j in order], axis=0)

        kernel, rec = reorder(Wk).T.copy(), reorder(Rk).T.copy()
        weights = {"kernel": kernel, "recurrent_kernel": rec}
        if bias is not None:  # a reset_after GRU's two rows (input, recurrent) each reordered
            weights["bias"] = (np.stack([reorder(row) for row in bias]) if reset_after else reorder(bias)).copy()
        if kind == "GRU" and self.gru_old:  # an engine with h = (1 − z)h + z·h̃: z_ours = 1 − z_onnx
            weights["kernel"][:, :H] *= -1
            weights["recurrent_kernel"][:, :H] *= -1
            if "bias" in weights:
                weights["bias"][..., :H] *= -1
        if kind == "LSTM":
            params["unit_forget_bias"] = False
        aff = self._per_feature(node, v)
        if aff is not None:  # (x·s + t)K + b = x(sK) + (tK + b)
            self._note_folded(node)
            s_, t_ = aff
            empty = np.zeros((2, k * H) if reset_after else k * H, np.float32)
            shift = t_ @ weights["kernel"]
            weights["bias"] = weights.get("bias", empty) + (np.stack([shift, 0 * shift]) if reset_after else shift)
            weights["kernel"] = weights["kernel"] * s_[:, None]
            params["use_bias"] = True
        x = self.as_layout(node, v, (T, F), _ident((T, F)), "as (time, features)")
        lid = self.add_layer(our_kind, params, [x], node.name, weights, {"seq": (T, H), "last": (H,)})
        outs = list(node.output) + ["", "", ""]
        if outs[0]:
            self.values[outs[0]] = _Val(lid, "seq", 2 if not layout else 0, _ident((T, H)).reshape(T, 1, H))
        if outs[1]:
            self.values[outs[1]] = _Val(lid, "last", 1 if not layout else 0, _ident((H,)).reshape(1, H))
        if kind == "LSTM" and outs[2] and (self.consumers.get(outs[2]) or outs[2] in self.outputs):
            raise self.fail(node, "has its cell state output used; the import reads the hidden states only")

    def _op_RNN(self, node, a):
        self._recurrent(node, a, "RNN")

    def _op_LSTM(self, node, a):
        self._recurrent(node, a, "LSTM")

    def _op_GRU(self, node, a):
        self._recurrent(node, a, "GRU")

    # -------------------------------------------------------------- finish
    def _finish(self):
        vals: list[_Val] = []
        for out_name in self.outputs:
            v = self.values.get(out_name)
            if not isinstance(v, _Val):
                if isinstance(v, (_Pending, _Attn)):
                    raise InteropError(f"{self.name}: the output '{out_name}' is part of a "
                                       + ("GELU" if isinstance(v, _Pending) else "self-attention")
                                       + f" (from node '{v.node}'), not a value the import can read")
                raise InteropError(f"{self.name}: the output '{out_name}' is "
                                   + ("a constant" if out_name in self.consts else "not computed by the model"))
            vals.append(v)
        for i, (out_name, v) in enumerate(zip(self.outputs, vals)):
            if v.affine is not None:
                v = self._fold_output_affine(out_name, v, vals)
            fake = type("N", (), {"op_type": "output", "name": out_name, "output": [out_name]})()
            vals[i] = self.exact(fake, v, "in the order it has in the model")
        for v in vals:
            self.used.setdefault(v.src, set()).add(v.port)  # what the Outputs will read
        self._prune([v.src for v in vals])
        used: dict[str, set[str]] = {}
        for v in vals:
            used.setdefault(v.src, set()).add(v.port)
        for layer in self.layers.values():
            for src, port in zip(layer.inputs, layer.in_ports):
                used.setdefault(src, set()).add(port)
        for lid, ports in used.items():
            layer = self.layers[lid]
            if "seq" in layer.shapes:
                if {"seq", "last"} <= ports:
                    raise InteropError(f"{self.name}: {layer.type_id} node '{layer.label}' has both its sequence "
                                       f"and its last state used; the import reads one of them")
                layer.params["return_sequences"] = "seq" in ports
        loss = {"sigmoid": "binary_crossentropy", "softmax": "categorical_crossentropy"}
        claimed = [v.src for v in vals]
        for out_name, v in zip(self.outputs, vals):
            producer = self.layers[v.src]
            users = sum(lay.inputs.count(v.src) for lay in self.layers.values())
            act = producer.params.get("activation", "linear")
            alone = claimed.count(v.src) == 1 and users == 0
            if producer.type_id == "Dense" and alone:
                producer.type_id = "Output"
                producer.params.update(loss=loss.get(act, "mse"), use_weights=True)
                self.output_layers.append(v.src)
            elif producer.type_id == "Activation" and alone and act in loss:
                producer.type_id = "Output"
                producer.params.update(units=int(self.our_shape(v)[-1]), loss=loss[act], use_weights=False)
                self.output_layers.append(v.src)
            else:
                self.output_layers.append(self.add_layer(
                    "Output", {"units": int(self.our_shape(v)[-1]), "activation": "linear", "loss": "mse",
                               "use_weights": False}, [v], out_name))
        return self._build()

    def _fold_output_affine(self, out_name: str, v: _Val, vals: list[_Val]) -> _Val:
        """An output x·s + t by constants after its last layer, folded into that layer's weights (exact when
        s and t are one number per unit and the layer has no activation): ``v`` without the affine map."""
        layer = self.layers[v.src]
        names = {"Dense": ("kernel", "bias"), "Conv2D": ("kernel", "bias"),
                 "SelfAttention": ("output_kernel", "output_bias")}.get(layer.type_id)
        act = layer.params.get("activation", "linear")
        n = math.prod(self.our_shape(v))
        units = self.our_shape(v)[-1]
        why, su, tu = "", None, None
        if names is None:
            why = f"its last layer is a {layer.type_id}, which has no weights to fold them into"
        elif act != "linear":
            why = f"they come after the {act} activation of its last layer"
        elif self.used.get(v.src) or [w.src for w in vals].count(v.src) > 1 or v.port != "out":
            why = "its last layer's output is also read unscaled"
        elif not (_is_perm(v.idx) and v.idx.size == n):
            why = "the output is part of its last layer's output"
        else:
            S, Tt = np.empty(n, np.float64), np.empty(n, np.float64)
            S[v.idx.reshape(-1)] = v.affine[0].reshape(-1)
            Tt[v.idx.reshape(-1)] = v.affine[1].reshape(-1)
            S, Tt = S.reshape(-1, units), Tt.reshape(-1, units)
            if not (np.all(S == S[0]) and np.all(Tt == Tt[0])):
                why = "they differ from one position to the next, not one number per unit"
            su, tu = S[0], Tt[0]
        if why:
            raise InteropError(f"{self.name}: the output '{out_name}' is scaled and shifted by constants after its "
                               f"last layer ({layer.type_id} node '{_text(layer.label)}'); the import folds that "
                               f"into the weights of a Dense, Conv2D or SelfAttention layer without activation, "
                               f"but here {why}")
        kname, bname = names
        w = layer.weights
        w[kname] = (w[kname] * su).astype(np.float32)
        has_bias = layer.params.get("use_bias", False) and bname in w
        w[bname] = ((w[bname] if has_bias else 0.0) * su + tu).astype(np.float32)
        if layer.type_id == "SelfAttention":
            self._attention_biases(layer.params, w, units)
        else:
            layer.params["use_bias"] = True
        self._note(f"the constants that scale and shift the output '{_text(out_name)}' after its last layer are "
                   f"folded into that layer's weights")
        return _Val(v.src, v.port, v.batch, v.idx)

    def _prune(self, last: list[str]) -> None:
        """Drop the layers the outputs do not depend on (e.g. a Concatenate of recurrent states of which
        only one is read)."""
        keep, todo = set(), list(last)
        while todo:
            lid = todo.pop()
            if lid not in keep:
                keep.add(lid)
                todo.extend(self.layers[lid].inputs)
        for lid in [k for k, layer in self.layers.items() if k not in keep and layer.type_id != "Input"]:
            del self.layers[lid]

    def _build(self):
        from ..engine import Network
        from ..graph import Graph
        from ..graph.layout import apply_layout, layered_layout

        g = Graph()
        ids: dict[str, str] = {}
        weights = {}
        for lid, layer in self.layers.items():
            if layer.type_id == "_AttnHeads":
                raise InteropError(f"{self.name}: the attention heads of node '{_text(layer.label)}' are read by "
                                   f"something else than an output projection (a MatMul by a constant); the "
                                   f"import reads that as a SelfAttention only")
            label = _label(_text(layer.label))
            node = g.add_node(layer.type_id, label=label, **layer.params)
            ids[lid] = node.id
            for k, w in layer.weights.items():
                w = np.ascontiguousarray(w, np.float32)
                if not np.isfinite(w).all():
                    raise InteropError(f"{self.name}: the {k} of {layer.type_id} node '{label}' holds NaN or "
                                       f"infinite values")
                weights[f"{node.id}/{k}"] = w
        for lid, layer in self.layers.items():
            for src in layer.inputs:
                g.connect(ids[src], ids[lid])
        apply_layout(g, layered_layout(g, dx=220, dy=110, wrap=4))
        if len(self.output_layers) > 1:  # the engine takes its Outputs in the order it computes them
            engine = [n for n in g.topological_order() if g.nodes[n].type_id == "Output"]
            model = [ids[lid] for lid in self.output_layers]
            if engine != model:
                names = {ids[lid]: _text(o) for lid, o in zip(self.output_layers, self.outputs)}
                self._note(f"its outputs come in the order {', '.join(repr(names[n]) for n in engine)}, the order "
                           f"ANN Designer computes them (the model lists {', '.join(map(repr, self.outputs))})")
        title, description = _title(self.model, self.name)
        if self.notes:
            notes = "; ".join(self.notes)
            description = (description + " " if description else "") + notes[:1].upper() + notes[1:] + "."
        g.set_meta(title=title, description=description)
        net = Network(g, seed=0)
        net.set_weights(weights)
        return net


# ------------------------------------------------------------------ helpers
def _registry():
    from ..graph import BUILTIN_REGISTRY

    return BUILTIN_REGISTRY


def _opset(model) -> int:
    return max((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), default=13)


def _gelu(imp: _Importer, node, approximate) -> str:
    """Our activation for GELU with ``approximate`` "none" (erf) or "tanh"."""
    from ..graph import ACTIVATIONS

    approximate = approximate.decode() if isinstance(approximate, bytes) else approximate
    gelus = [n for n in ACTIVATIONS if "gelu" in n]
    erf = [n for n in gelus if "erf" in n or "exact" in n]
    tanh = [n for n in gelus if "tanh" in n or "approx" in n]
    if approximate == "tanh":
        name = tanh[0] if tanh else ("gelu" if erf and "gelu" in gelus else None)
    else:
        name = erf[0] if erf else ("gelu" if tanh and "gelu" in gelus else None)
    if name is None:
        form = "tanh approximation" if approximate == "tanh" else "exact (erf) form"
        raise imp.fail(node, f"is GELU in its {form}, which this version of ANN Designer does not compute")
    return name


def _text(value) -> str:
    """A name from the file as text (protobuf gives bytes for one that is not UTF-8)."""
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    return _short(str(value), 80)


def _label(name: str) -> str:
    name = (name or "").strip().strip("/")
    return name[:60]


_GENERIC = {"", "main_graph", "torch_jit", "torch-jit-export", "tf2onnx", "graph"}


def _title(model, name: str) -> tuple[str, str]:
    meta = {p.key: p.value for p in model.metadata_props}
    graph_name = _text(model.graph.name)
    title = _text(meta.get("title") or (graph_name if graph_name not in _GENERIC else "") or Path(name).stem)
    desc = meta.get("description") or model.doc_string or model.graph.doc_string or ""
    desc = desc.decode("utf-8", "replace") if isinstance(desc, bytes) else str(desc)
    if not desc:
        made = " ".join(_text(x) for x in (model.producer_name, model.producer_version) if x)
        desc = f"Imported from the ONNX model {name}" + (f" made by {made}" if made else "") + "."
    return title, desc


def import_onnx(path: Path):
    """The Network of the ONNX model at ``path``: a laid-out graph with its weights, the model's name and
    doc as title and description, default training settings and no data source."""
    onnx = require("onnx", "ONNX import")
    path = Path(path)
    name = path.name
    try:
        size = path.stat().st_size
        if size > MAX_BYTES:
            raise InteropError(f"{name}: the file has {size:,} bytes, more than an import reads")
        data = path.read_bytes()
    except OSError as e:
        raise InteropError(f"cannot read {path}: {e.strerror or e}") from None
    if not data:
        raise InteropError(f"{name} is empty, not an ONNX model")
    try:
        model = onnx.load_model_from_string(data)
    except Exception as e:  # protobuf says DecodeError, RuntimeWarning, ... for bytes that are not a model
        raise InteropError(f"{name} is not an ONNX model, or it is damaged ({type(e).__name__}: "
                           f"{_short(str(e))})") from None
    if not model.HasField("graph") or not model.graph.node:
        raise InteropError(f"{name} is not an ONNX model, or it is damaged: it has no graph of operators")
    try:
        with np.errstate(all="ignore"):  # NaN or overflowing weights are refused, not warned about
            return _Importer(model, onnx, name).run()
    except InteropError:
        raise
    except AnnError as e:
        raise InteropError(f"{name}: the imported network does not build: {e}") from None
    except (ValueError, TypeError, IndexError, KeyError, AttributeError, ArithmeticError, MemoryError,
            RecursionError, UnicodeDecodeError) as e:
        raise InteropError(f"{name}: the model is malformed ({type(e).__name__}: {_short(str(e))})") from None


def _short(text: str, n: int = 200) -> str:
    text = re.sub(r"\s+", " ", text).strip()
    return text if len(text) <= n else text[:n] + "…"


__all__ = ["BATCH", "import_onnx"]
