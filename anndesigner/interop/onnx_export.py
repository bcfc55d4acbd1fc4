"""Export a network as an ONNX model (opset 17, a dynamic batch dimension).

The model is built from the network's **compiled program**, step by step, so a
network drawn neuron by neuron exports as the layers it runs as (its neurons
fused into one matrix product per layer, Concatenate as an ONNX Concat of the
columns it joins). Every layer type of the built-in registry is covered:

========================  ==================================================
ours                      ONNX
========================  ==================================================
Input                     a graph input ``(batch, *shape)`` (float32)
Dense, Neuron(s), Output  ``Gemm(transB=1)`` on (batch, F); ``MatMul`` + ``Add`` above
Conv2D                    ``Conv`` (NCHW, weights [F, C, kh, kw], explicit pads)
MaxPool2D / AvgPool2D     ``MaxPool`` / ``AveragePool`` (``count_include_pad=0``)
GlobalAvgPool             ``GlobalAveragePool`` (images) or ``ReduceMean`` (sequences)
Flatten, Reshape          ``Flatten`` / ``Reshape`` of channels-last values (our row-major order)
BatchNorm                 ``BatchNormalization`` (inference: the moving statistics)
LayerNorm                 ``LayerNormalization`` (axis -1)
SimpleRNN / LSTM / GRU    ``RNN`` / ``LSTM`` / ``GRU`` (time-major, gates reordered)
Embedding                 ``Cast`` to int64 + ``Gather``
PositionalEncoding        ``Add`` of its table (the sinusoids, or the learned one)
SelfAttention             ``MatMul``/``Reshape``/``Transpose``/``Softmax``, causal mask added
Dropout                   nothing (prediction mode)
Add / Concatenate         ``Add`` / ``Concat`` (axis -1)
activations               Relu, Sigmoid, Tanh, Softmax(-1), LeakyRelu, Elu, Softplus;
                          GELU composed from ``Erf`` (exact) or ``Tanh`` (gelu_tanh);
                          step and sign from ``GreaterOrEqual``/``Where``
========================  ==================================================

Layout: our images are channels last (N, H, W, C); ONNX's Conv and pools are
NCHW. A value is transposed to NCHW when a Conv or pool reads it and back to
NHWC only when a layer that needs our order reads it (Flatten, Dense, ...), so
a chain of conv, pool, batch-norm and elementwise layers stays NCHW inside.
Flatten therefore flattens in our (h, w, c) order and the next Dense's weights
are ours unchanged.

Conventions that differ (each converted here, see the GUIDE's section 8):

* LSTM: our columns are i, f, g, o (Keras); ONNX's are i, o, f, c.
* GRU: ours is h = z⊙h₋₁ + (1 − z)⊙h̃ with the reset gate applied before the
  recurrent product: ONNX's GRU with ``linear_before_reset=0``; gates z, r, h
  in both; one bias, exported as Wb (Rb = 0). A GRU with ``reset_after`` is
  ``linear_before_reset=1``, its bias rows (input, recurrent) are Wb and Rb.
* BatchNorm: our momentum is ONNX's (moving = momentum·moving + (1 − momentum)·batch,
  PyTorch's momentum is 1 − ours); the variance is the biased batch variance;
  ε is added to the variance under the square root, as in ONNX.
* Input standardization: when the network's data set standardizes its inputs
  (``network.scaler``), the model starts with ``(x − mean) / std`` (a ``Sub`` and
  a ``Div`` per Input), so that it takes **raw rows**, as :meth:`Network.predict`
  does; ``standardize=False`` leaves them out (the model then takes standardized
  rows). The metadata key ``input_standardization`` says which.
* The loss is not exported; every Output node's prediction (its activation
  included) is a graph output named after it.

Graph, input, output and value names come from the design (node labels, else
node ids), made into unique identifiers; the document's title and description
are the model's metadata (``metadata_props``) and ``doc_string``.

Weights are exported as float32, whatever the network's dtype.
"""

from __future__ import annotations

import math
import re
import unicodedata
from pathlib import Path
from typing import Any, Callable

import numpy as np

from .._version import __version__ as _VERSION
from . import InteropError, require

OPSET = 17
#: the IR version of opset 17 (onnx 1.12), which every onnxruntime since 1.12 reads
IR_VERSION = 8
BATCH = "batch"

_GELU_C = math.sqrt(2.0 / math.pi)


def export_onnx(network, out: Path, *, opset: int = OPSET, standardize: bool = True) -> list[Path]:
    """Write ``network`` as an ONNX model at ``out`` (``.onnx`` added when it has no
    suffix); the files written. See the module docstring for what becomes what."""
    onnx = require("onnx", "ONNX export")
    model = to_onnx_model(network, opset=opset, standardize=standardize)
    out = Path(out)
    if not out.suffix:
        out = out.with_suffix(".onnx")
    out.parent.mkdir(parents=True, exist_ok=True)
    onnx.save_model(model, str(out))
    return [out]


def to_onnx_model(network, opset: int = OPSET, *, standardize: bool = True):
    """The ``onnx.ModelProto`` of ``network`` (checked by ``onnx.checker``)."""
    onnx = require("onnx", "ONNX export")
    if opset != OPSET:
        raise InteropError(f"the ONNX export writes opset {OPSET} (asked for opset {opset}): opset 17 is the "
                           f"first with LayerNormalization and the last before ReduceMean's axes became an input")
    builder = _Builder(onnx, network, standardize)
    model = builder.build()
    try:
        onnx.checker.check_model(model, full_check=True)
    except Exception as e:  # onnx.checker.ValidationError, onnx.shape_inference.InferenceError
        raise InteropError(f"the ONNX model made from this network does not pass onnx.checker: {e}") from None
    return model


def _error(message: str, node_id: str | None = None) -> InteropError:
    """An InteropError whose ``node_id`` says which node cannot be exported (for the editor)."""
    err = InteropError(message)
    err.node_id = node_id
    return err


# ---------------------------------------------------------------- names
def _identifier(text: str) -> str:
    """A C-style identifier made from ``text`` (x₁ -> x1, "hidden layer" -> hidden_layer)."""
    s = re.sub(r"\W+", "_", unicodedata.normalize("NFKC", str(text)), flags=re.ASCII).strip("_")
    if not s:
        s = "node"
    if s[0].isdigit():
        s = "n_" + s
    return s


# ---------------------------------------------------------------- builder
class _Builder:
    def __init__(self, onnx, network, standardize: bool):
        self.onnx = onnx
        self.h = onnx.helper
        self.net = network
        self.graph = network.graph
        self.standardize = standardize
        self.nodes: list = []
        self.inits: list = []
        self.used: set[str] = set()
        #: buffer -> (tensor name, layout "nhwc" | "nchw")
        self.bufs: dict[int, tuple[str, str]] = {}
        #: buffer -> its NHWC / NCHW tensor once made (each transpose is made once)
        self.layouts: dict[tuple[int, str], str] = {}
        self.values: dict[tuple, str] = {}
        self.shapes: list[tuple[int, ...]] = []
        #: the doc string of the nodes being made: the design's node(s) they come from
        self.context = ""
        #: tensors that are graph outputs (under their final names)
        self.exported: set[str] = set()

    # ---------------------------------------------------------- names
    def fresh(self, base: str) -> str:
        name = _identifier(base)
        if name in self.used:
            i = 2
            while f"{name}_{i}" in self.used:
                i += 1
            name = f"{name}_{i}"
        self.used.add(name)
        return name

    def label(self, nid: str) -> str:
        node = self.graph.nodes.get(nid)
        return (node.label or nid) if node is not None else nid

    def step_name(self, step) -> str:
        ids = step.node_ids
        if len(ids) == 1:
            return self.label(ids[0])
        if len(ids) <= 4:
            return "_".join(self.label(n) for n in ids)
        return f"{self.label(ids[0])}_to_{self.label(ids[-1])}"

    # ---------------------------------------------------------- helpers
    def const(self, base: str, value: Any, dtype=np.float32) -> str:
        name = self.fresh(base)
        arr = np.asarray(value, dtype=dtype)
        self.inits.append(self.onnx.numpy_helper.from_array(np.ascontiguousarray(arr), name))
        return name

    def ints(self, base: str, value) -> str:
        return self.const(base, value, np.int64)

    def op(self, op_type: str, inputs: list[str], base: str, n_out: int = 1, **attrs) -> Any:
        outs = [self.fresh(base if n_out == 1 else f"{base}_{i}") for i in range(n_out)]
        self.nodes.append(self.h.make_node(op_type, inputs, outs, name=self.fresh(f"{base}_{op_type}"),
                                           doc_string=self.context, **attrs))
        return outs[0] if n_out == 1 else outs

    # ---------------------------------------------------------- values
    def buffer(self, buf: int, layout: str = "nhwc") -> str:
        """The tensor of a step buffer in ``layout`` (images only differ; others are "nhwc")."""
        name, have = self.bufs[buf]
        if have == layout or len(self.shapes[buf]) != 3:
            return name
        key = (buf, layout)
        if key not in self.layouts:
            perm = [0, 3, 1, 2] if layout == "nchw" else [0, 2, 3, 1]
            self.layouts[key] = self.op("Transpose", [name], f"{name}_{layout}", perm=perm)
        return self.layouts[key]

    def layout_of(self, value) -> str:
        if len(value) == 1:
            return self.bufs[value[0].buf][1]
        return "nhwc"

    def value(self, value, layout: str = "nhwc") -> str:
        """The tensor of an engine Value (segments of buffers' last axis, joined)."""
        if len(value) == 1:
            s = value[0]
            if s.start == 0 and s.stop == self.shapes[s.buf][-1]:
                return self.buffer(s.buf, layout)
        key = tuple((s.buf, s.start, s.stop) for s in value)
        if key not in self.values:
            parts = []
            for s in value:
                name = self.bufs[s.buf][0]
                src = self.buffer(s.buf)
                if s.start == 0 and s.stop == self.shapes[s.buf][-1]:
                    parts.append(src)
                else:
                    parts.append(self.op("Slice", [src, self.ints(f"{name}_start", [s.start]),
                                                   self.ints(f"{name}_stop", [s.stop]),
                                                   self.ints(f"{name}_axis", [-1])], f"{name}_{s.start}_{s.stop}"))
            self.values[key] = parts[0] if len(parts) == 1 else self.op("Concat", parts, "concat", axis=-1)
        name = self.values[key]
        if layout == "nchw" and len(self.value_shape(value)) == 3:
            if (key, layout) not in self.values:
                self.values[(key, layout)] = self.op("Transpose", [name], f"{name}_nchw", perm=[0, 3, 1, 2])
            name = self.values[(key, layout)]
        return name

    def value_shape(self, value) -> tuple[int, ...]:
        s0 = self.shapes[value[0].buf]
        return tuple(s0[:-1]) + (sum(s.stop - s.start for s in value),)

    # ---------------------------------------------------------- activations
    def activation(self, name: str, x: str, base: str, nid: str, axis: int = -1) -> str:
        if name == "linear":
            return x
        simple = {"relu": "Relu", "sigmoid": "Sigmoid", "tanh": "Tanh", "softplus": "Softplus"}
        if name in simple:
            return self.op(simple[name], [x], base)
        if name == "softmax":
            return self.op("Softmax", [x], base, axis=axis)
        if name == "leaky_relu":
            from ..engine.activations import LEAKY_ALPHA
            return self.op("LeakyRelu", [x], base, alpha=float(LEAKY_ALPHA))
        if name == "elu":
            from ..engine.activations import ELU_ALPHA
            return self.op("Elu", [x], base, alpha=float(ELU_ALPHA))
        if name == "gelu":  # exact: ½·x·(1 + erf(x/√2)); opset 17 has no Gelu
            t = self.op("Div", [x, self.const(f"{base}_sqrt2", math.sqrt(2.0))], f"{base}_scaled")
            e = self.op("Erf", [t], f"{base}_erf")
            return self._half_x_one_plus(x, e, base)
        if name == "gelu_tanh":  # ½·x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))
            x3 = self.op("Mul", [self.op("Mul", [x, x], f"{base}_x2"), x], f"{base}_x3")
            inner = self.op("Add", [x, self.op("Mul", [x3, self.const(f"{base}_k", 0.044715)], f"{base}_kx3")],
                            f"{base}_inner")
            t = self.op("Tanh", [self.op("Mul", [inner, self.const(f"{base}_c", _GELU_C)], f"{base}_scaled")],
                        f"{base}_tanh")
            return self._half_x_one_plus(x, t, base)
        if name in ("step", "sign"):
            ge = self.op("GreaterOrEqual", [x, self.const(f"{base}_zero", 0.0)], f"{base}_nonneg")
            if name == "step":
                return self.op("Cast", [ge], base, to=self.onnx.TensorProto.FLOAT)
            return self.op("Where", [ge, self.const(f"{base}_one", 1.0), self.const(f"{base}_minus_one", -1.0)],
                           base)
        raise _error(f"{self.net.describe_node(nid)} uses the activation '{name}', which the ONNX "
                     f"export does not know", nid)

    def _half_x_one_plus(self, x: str, t: str, base: str) -> str:
        one_plus = self.op("Add", [t, self.const(f"{base}_one", 1.0)], f"{base}_one_plus")
        half_x = self.op("Mul", [x, self.const(f"{base}_half", 0.5)], f"{base}_half_x")
        return self.op("Mul", [half_x, one_plus], base)

    # ---------------------------------------------------------- build
    def build(self):
        prog = self.net.program
        self.shapes = [tuple(s) for s in prog.shapes]
        h, TP = self.h, self.onnx.TensorProto
        graph_inputs, graph_outputs = [], []
        scaler = getattr(self.net, "scaler", None) if self.standardize else None
        if scaler is not None and scaler.n_features != prog.input_size:
            raise InteropError(f"the network's input standardization has {scaler.n_features} columns but its "
                               f"Inputs take {prog.input_size} values")
        # the graph's input and output names first, so that they are the design's names exactly
        in_names = [self.fresh(self.label(nid)) for nid, _, _ in prog.inputs]
        out_names = [self.fresh(self.label(o.node_id)) for o in prog.outputs]
        offset = 0
        for (nid, buf, shape), name in zip(prog.inputs, in_names):
            graph_inputs.append(h.make_tensor_value_info(name, TP.FLOAT, [BATCH, *shape]))
            k = math.prod(shape)
            self.context = f"Input {nid} (its standardization)"
            if scaler is not None:
                mean = scaler.mean[offset:offset + k].reshape(shape)
                std = scaler.std[offset:offset + k].reshape(shape)
                centred = self.op("Sub", [name, self.const(f"{name}_mean", mean)], f"{name}_centred")
                name = self.op("Div", [centred, self.const(f"{name}_std", std)], f"{name}_standardized")
            offset += k
            self.bufs[buf] = (name, "nhwc")
        for step in prog.steps:
            if step.out in self.bufs:  # an Input
                continue
            nid = step.node_ids[0]
            type_id = self.graph.nodes[nid].type_id
            self.context = f"{type_id} {', '.join(step.node_ids)}"
            handler: Callable | None = getattr(self, f"_{type_id}", None)
            if handler is None:
                raise _error(f"the ONNX export cannot write {self.net.describe_node(nid)} "
                             f"(layer type '{type_id}')", nid)
            result = handler(step, self.graph.nodes[nid].params, self.step_name(step), nid)
            self.bufs[step.out] = result if isinstance(result, tuple) else (result, "nhwc")
        self.context = ""
        inputs = set(in_names)
        for o, out_name in zip(prog.outputs, out_names):
            name = self.value(o.value)
            if name in inputs or name in self.exported:
                self.nodes.append(h.make_node("Identity", [name], [out_name], name=self.fresh(f"{out_name}_Identity")))
            else:
                self._rename(name, out_name)
            self.exported.add(out_name)
            shape = self.value_shape(o.value)
            graph_outputs.append(h.make_tensor_value_info(out_name, TP.FLOAT, [BATCH, *shape]))
        meta = dict(self.graph.meta)
        title = str(meta.get("title") or "network")
        description = str(meta.get("description") or "")
        graph = h.make_graph(self.nodes, _identifier(title), graph_inputs, graph_outputs, initializer=self.inits,
                             doc_string=description)
        model = h.make_model(graph, opset_imports=[h.make_opsetid("", OPSET)], producer_name="ANN Designer",
                             producer_version=_VERSION, doc_string=description, ir_version=IR_VERSION)
        props = {"title": title, "description": description,
                 "input_standardization": ("in the model: it takes raw rows, (x - mean) / std is applied first"
                                           if scaler is not None else "none: the model takes the rows as they are "
                                           "fed to the network")}
        h.set_model_props(model, props)
        return model

    def _rename(self, old: str, new: str) -> None:
        """Give a node's output tensor ``old`` the name ``new`` (in its producer and its readers)."""
        for node in self.nodes:
            for seq in (node.input, node.output):
                for i, n in enumerate(seq):
                    if n == old:
                        seq[i] = new
        for cache in (self.bufs, self.layouts, self.values):
            for k, v in list(cache.items()):
                if v == old:
                    cache[k] = new
                elif isinstance(v, tuple) and v[0] == old:
                    cache[k] = (new,) + v[1:]

    # ---------------------------------------------------------- layers
    def _dense(self, step, base: str, x: str, rank: int) -> str:
        W = np.asarray(step.W.value, np.float32)
        b = None if step.b is None else np.asarray(step.b.value, np.float32)
        if rank == 2:
            ins = [x, self.const(f"{base}_kernel", W.T)]  # (out, in), as transB=1 reads it
            if b is not None:
                ins.append(self.const(f"{base}_bias", b))
            return self.op("Gemm", ins, f"{base}_z" if step.activation != "linear" else base, transB=1)
        z = self.op("MatMul", [x, self.const(f"{base}_kernel", W)], f"{base}_xw")
        if b is not None:
            z = self.op("Add", [z, self.const(f"{base}_bias", b)], f"{base}_z" if step.activation != "linear" else base)
        return z

    def _Dense(self, step, p, base, nid):
        x = self.value(step.ins[0])
        z = self._dense(step, base, x, len(self.value_shape(step.ins[0])) + 1)
        return self.activation(step.activation, z, base, nid)

    _Neuron = _Dense

    def _Output(self, step, p, base, nid):
        if hasattr(step, "W"):
            return self._Dense(step, p, base, nid)
        return self._Activation(step, p, base, nid)

    def _Activation(self, step, p, base, nid):
        layout = self.layout_of(step.ins[0])
        x = self.value(step.ins[0], layout)
        axis = 1 if layout == "nchw" and len(self.value_shape(step.ins[0])) == 3 else -1
        y = self.activation(step.activation, x, base, nid, axis=axis)
        if y == x:
            y = self.op("Identity", [x], base)
        return (y, layout)

    def _Dropout(self, step, p, base, nid):
        layout = self.layout_of(step.ins[0])
        return (self.value(step.ins[0], layout), layout)

    def _Add(self, step, p, base, nid):
        layouts = {self.layout_of(v) for v in step.ins}
        layout = "nchw" if layouts == {"nchw"} else "nhwc"
        xs = [self.value(v, layout) for v in step.ins]
        y = xs[0]
        for i, x in enumerate(xs[1:]):
            y = self.op("Add", [y, x], base if i == len(xs) - 2 else f"{base}_sum")
        if len(xs) == 1:
            y = self.op("Identity", [y], base)
        return (y, layout)

    def _Flatten(self, step, p, base, nid):
        return self.op("Flatten", [self.value(step.ins[0])], base, axis=1)

    def _Reshape(self, step, p, base, nid):
        shape = self.ints(f"{base}_shape", [-1, *step.out_shape])
        return self.op("Reshape", [self.value(step.ins[0]), shape], base)

    # conv and pools
    def _window(self, step, p, kname: str) -> dict:
        from ..graph.types_conv import out_size, pad_before

        (h, w, _), (kh, kw), (sh, sw) = step.in_shape, p[kname], p["strides"]
        pads_b, pads_a = [], []
        for size, k, s in ((h, kh, sh), (w, kw, sw)):
            before = pad_before(size, k, s, p["padding"])
            total = max((out_size(size, k, s, p["padding"]) - 1) * s + k - size, 0) if p["padding"] == "same" else 0
            pads_b.append(before)
            pads_a.append(total - before)
        return {"kernel_shape": [int(kh), int(kw)], "strides": [int(sh), int(sw)], "pads": pads_b + pads_a}

    def _Conv2D(self, step, p, base, nid):
        x = self.value(step.ins[0], "nchw")
        K = np.asarray(step.K.value, np.float32).transpose(3, 2, 0, 1)  # (kh, kw, c, f) -> (f, c, kh, kw)
        ins = [x, self.const(f"{base}_kernel", K)]
        if step.b is not None:
            ins.append(self.const(f"{base}_bias", np.asarray(step.b.value, np.float32)))
        z = self.op("Conv", ins, f"{base}_z" if step.activation != "linear" else base,
                    **self._window(step, p, "kernel_size"))
        return (self.activation(step.activation, z, base, nid, axis=1), "nchw")

    def _MaxPool2D(self, step, p, base, nid):
        return (self.op("MaxPool", [self.value(step.ins[0], "nchw")], base, **self._window(step, p, "pool_size")),
                "nchw")

    def _AvgPool2D(self, step, p, base, nid):
        return (self.op("AveragePool", [self.value(step.ins[0], "nchw")], base, count_include_pad=0,
                        **self._window(step, p, "pool_size")), "nchw")

    def _GlobalAvgPool(self, step, p, base, nid):
        shape = self.value_shape(step.ins[0])
        if len(shape) == 3 and self.layout_of(step.ins[0]) == "nchw":
            g = self.op("GlobalAveragePool", [self.value(step.ins[0], "nchw")], f"{base}_nc11")
            return self.op("Flatten", [g], base, axis=1)
        axes = list(range(1, len(shape)))
        return self.op("ReduceMean", [self.value(step.ins[0])], base, axes=axes, keepdims=0)

    # normalization
    def _BatchNorm(self, step, p, base, nid):
        shape = self.value_shape(step.ins[0])
        c = shape[-1]
        gamma = np.ones(c, np.float32) if step.gamma is None else step.gamma.value
        beta = np.zeros(c, np.float32) if step.beta is None else step.beta.value
        ins = [self.const(f"{base}_gamma", gamma), self.const(f"{base}_beta", beta),
               self.const(f"{base}_moving_mean", step.moving_mean.value),
               self.const(f"{base}_moving_variance", step.moving_variance.value)]
        attrs = {"epsilon": float(step.eps), "momentum": float(step.momentum)}
        if len(shape) == 1:
            return self.op("BatchNormalization", [self.value(step.ins[0])] + ins, base, **attrs)
        # channels last at any rank: move the channel axis to 1 and back
        r = len(shape) + 1
        to_first = [0, r - 1] + list(range(1, r - 1))
        back = [0] + list(range(2, r)) + [1]
        if len(shape) == 3:  # an image: its NCHW form is a layout of ours
            y = self.op("BatchNormalization", [self.value(step.ins[0], "nchw")] + ins, base, **attrs)
            return (y, "nchw")
        xt = self.op("Transpose", [self.value(step.ins[0])], f"{base}_channels_first", perm=to_first)
        y = self.op("BatchNormalization", [xt] + ins, f"{base}_nc", **attrs)
        return self.op("Transpose", [y], base, perm=back)

    def _LayerNorm(self, step, p, base, nid):
        c = self.value_shape(step.ins[0])[-1]
        gamma = np.ones(c, np.float32) if step.gamma is None else step.gamma.value
        ins = [self.value(step.ins[0]), self.const(f"{base}_gamma", gamma)]
        if step.beta is not None:
            ins.append(self.const(f"{base}_beta", step.beta.value))
        return self.op("LayerNormalization", ins, base, axis=-1, epsilon=float(step.eps))

    # recurrent
    def _recurrent(self, step, base, nid, op_type: str, order: list[int], attrs: dict) -> str:
        """W, R, B from our (F, k·u), (u, k·u), (k·u) with the gate blocks put in ``order``."""
        u = step.units
        k = len(order)

        def gates(a):
            a = np.asarray(a, np.float32)
            return np.concatenate([a[..., g * u:(g + 1) * u] for g in order], axis=-1)

        W = gates(step.W.value).T[None]                    # (1, k·u, F)
        R = gates(step.U.value).T[None]                    # (1, k·u, u)
        bias = gates(step.b.value) if step.b is not None else np.zeros(k * u, np.float32)
        if bias.ndim == 2:  # a GRU with reset_after: rows (input, recurrent) are Wb, Rb
            B = bias.reshape(1, 2 * k * u)
        else:
            B = np.concatenate([bias, np.zeros(k * u, np.float32)])[None]  # [Wb, Rb]
        x = self.value(step.ins[0])
        xt = self.op("Transpose", [x], f"{base}_time_major", perm=[1, 0, 2])
        ins = [xt, self.const(f"{base}_W", W), self.const(f"{base}_R", R), self.const(f"{base}_B", B)]
        y, y_h = self.op(op_type, ins, f"{base}_{op_type.lower()}", n_out=2, hidden_size=u, **attrs)[:2]
        if step.return_sequences:  # Y (T, 1, N, u) -> (N, T, u)
            sq = self.op("Squeeze", [y, self.ints(f"{base}_axis", [1])], f"{base}_steps")
            return self.op("Transpose", [sq], base, perm=[1, 0, 2])
        return self.op("Squeeze", [y_h, self.ints(f"{base}_axis", [0])], base)  # Y_h (1, N, u) -> (N, u)

    def _SimpleRNN(self, step, p, base, nid):
        acts = {"tanh": "Tanh", "relu": "Relu", "sigmoid": "Sigmoid"}
        if step.activation not in acts:
            raise _error(f"the ONNX export writes {self.net.describe_node(nid)} as an ONNX RNN, which "
                         f"onnxruntime runs with tanh, relu or sigmoid only, not '{step.activation}'", nid)
        return self._recurrent(step, base, nid, "RNN", [0], {"activations": [acts[step.activation]]})

    def _LSTM(self, step, p, base, nid):
        # ours i, f, g, o -> ONNX i, o, f, c
        return self._recurrent(step, base, nid, "LSTM", [0, 3, 1, 2], {})

    def _GRU(self, step, p, base, nid):
        # ours z, r, h̃ with h = z⊙h₋₁ + (1 − z)⊙h̃, reset before the product: ONNX's own;
        # reset_after (r⊙(hR_h + Rb_h)) is linear_before_reset=1
        lbr = 1 if getattr(step, "reset_after", False) else 0
        return self._recurrent(step, base, nid, "GRU", [0, 1, 2], {"linear_before_reset": lbr})

    # sequences and attention
    def _Embedding(self, step, p, base, nid):
        x = self.value(step.ins[0])
        t = self.value_shape(step.ins[0])[0]
        ids = self.op("Cast", [x], f"{base}_ids", to=self.onnx.TensorProto.INT64)
        ids = self.op("Reshape", [ids, self.ints(f"{base}_ids_shape", [-1, t])], f"{base}_ids_nt")
        return self.op("Gather", [self.const(f"{base}_embeddings", step.E.value), ids], base, axis=0)

    def _PositionalEncoding(self, step, p, base, nid):
        table = step.P.value if step.P is not None else step.table
        return self.op("Add", [self.value(step.ins[0]), self.const(f"{base}_positions", table)], base)

    def _SelfAttention(self, step, p, base, nid):
        T, H, K = step.T, step.H, step.K
        x = self.value(step.ins[0])

        def project(which: str, W, b) -> str:
            z = self.op("MatMul", [x, self.const(f"{base}_{which}_kernel", W.value)], f"{base}_{which}_xw")
            if b is not None:
                z = self.op("Add", [z, self.const(f"{base}_{which}_bias", b.value)], f"{base}_{which}")
            heads = self.op("Reshape", [z, self.ints(f"{base}_{which}_heads_shape", [-1, T, H, K])],
                            f"{base}_{which}_heads")
            perm = [0, 2, 3, 1] if which == "key" else [0, 2, 1, 3]  # keys transposed for QKᵀ
            return self.op("Transpose", [heads], f"{base}_{which}_nh", perm=perm)

        q = project("query", step.Wq, step.bq)
        kt = project("key", step.Wk, step.bk)
        v = project("value", step.Wv, step.bv)
        scores = self.op("MatMul", [q, kt], f"{base}_scores")
        scores = self.op("Mul", [scores, self.const(f"{base}_scale", step.scale)], f"{base}_scaled_scores")
        if step.mask is not None:  # causal: −10⁹ above the diagonal (exp of it is 0 in float32)
            mask = np.where(step.mask, np.float32(-1e9), np.float32(0))
            scores = self.op("Add", [scores, self.const(f"{base}_causal_mask", mask)], f"{base}_masked_scores")
        a = self.op("Softmax", [scores], f"{base}_attention", axis=-1)
        o = self.op("MatMul", [a, v], f"{base}_heads_out")
        o = self.op("Transpose", [o], f"{base}_heads_nt", perm=[0, 2, 1, 3])
        o = self.op("Reshape", [o, self.ints(f"{base}_merge_shape", [-1, T, H * K])], f"{base}_merged")
        y = self.op("MatMul", [o, self.const(f"{base}_output_kernel", step.Wo.value)],
                    f"{base}_ow" if step.bo is not None else base)
        if step.bo is not None:
            y = self.op("Add", [y, self.const(f"{base}_output_bias", step.bo.value)], base)
        return y


__all__ = ["OPSET", "export_onnx", "to_onnx_model"]
