"""PyTorch export: one readable ``.py`` file with an ``nn.Module`` and a ``main`` that trains it.

:func:`export_pytorch` writes, for ``out = model.py``:

- ``model.py``: the module (layers built in ``__init__``, wired in ``forward`` with one
  variable per graph node, each line commented with its output shape) and a ``main()`` that
  trains it with the network's own settings, by plain ``python model.py`` on one process or by
  ``torchrun --nproc-per-node N model.py`` with DistributedDataParallel;
- ``model_weights.npz``: the weights as the module's state dict (read with
  ``allow_pickle=False``);
- ``model_design.ann``: the design itself, which ``--save-ann`` fills with the trained
  weights (so the result opens in the designer again);
- ``model_data.csv``: the data set's rows (raw inputs, targets encoded as ours), when it is
  a built-in data set (or a CSV file the script could not read exactly as ours does); a CSV
  file that it reads the same is named by its path instead. The module standardizes raw rows
  as the data set does, so it takes what :meth:`Network.predict` takes.

Our conventions carried over exactly (each is said in the script where it is used): data
arrive channels-last (NHWC) and Conv2D/pools permute to NCHW and back, so that Flatten keeps
our row-major order; TensorFlow-style "same" padding (more after than before); LSTM gates
i, f, g, o (PyTorch's order) with one bias; our GRU (reset gate applied to h before U_h,
which ``nn.GRU`` cannot express) as a small module of its own; BatchNorm with our momentum
(the weight of the old value) and the biased batch variance in its moving average; the
optimizers with our hyper-parameter defaults (ε = 1e-7 ...); L1/L2 added to the loss on the
kernels only; clipping by the global norm as ours; the losses as ours (from logits for
sigmoid + binary and softmax + categorical cross-entropy); the validation rows of
:func:`~anndesigner.engine.trainer.split_rows`; the shuffled order of our trainer.

The module is imported only when exporting; torch itself is needed only to check the
export (the tests), not to write it.
"""

from __future__ import annotations

import csv
import inspect
import json
import keyword
import math
import os
import pprint
import re
from pathlib import Path
from typing import Any

import numpy as np

from . import InteropError

__all__ = ["export_pytorch"]


# ------------------------------------------------- functions the script carries along
# These are copied into the exported script (inspect.getsource), so the exporter and the
# script convert weights and read data with the very same code. numpy / csv only.
def to_torch_layout(kind, a):
    """Our weight array ``a`` in the layout of the PyTorch tensor it becomes."""
    a = np.asarray(a, dtype=np.float32)
    if kind == "same":
        return a
    if kind == "T":  # Dense-like kernel (in, out) -> nn.Linear weight (out, in)
        return np.ascontiguousarray(a.T)
    if kind == "conv":  # (kh, kw, c_in, filters) -> nn.Conv2d weight (filters, c_in, kh, kw)
        return np.ascontiguousarray(a.transpose(3, 2, 0, 1))
    if kind in ("gru_T", "gru_b"):  # our gate blocks z, r, h~ -> PyTorch's order r, z, n
        z, r, h = np.split(a, 3, axis=-1)
        b = np.concatenate([r, z, h], axis=-1)
        return np.ascontiguousarray(b.T) if kind == "gru_T" else b
    raise ValueError(f"unknown weight layout {kind!r}")


def from_torch_layout(kind, t):
    """The inverse of :func:`to_torch_layout`: a PyTorch tensor's values (an ndarray) as our weight."""
    t = np.asarray(t, dtype=np.float32)
    if kind == "same":
        return t
    if kind == "T":
        return np.ascontiguousarray(t.T)
    if kind == "conv":
        return np.ascontiguousarray(t.transpose(2, 3, 1, 0))
    if kind in ("gru_T", "gru_b"):
        b = t.T if kind == "gru_T" else t
        r, z, h = np.split(b, 3, axis=-1)
        return np.ascontiguousarray(np.concatenate([z, r, h], axis=-1))
    raise ValueError(f"unknown weight layout {kind!r}")


def read_table(path, inputs, targets, classes, delimiter):
    """The input columns (float64) and the targets of a CSV file with a header row: numbers, or
    class labels encoded as ANN Designer does (one 0/1 column for two classes, one-hot columns
    for more, in the order of ``classes``)."""
    with open(path, newline="", encoding="utf-8-sig") as f:
        rows = [r for r in csv.reader(f, delimiter=delimiter)]
    header = [h.strip() for h in rows[0]]
    body = [r for r in rows[1:] if any(c.strip() for c in r)]
    col = {name: header.index(name) for name in list(inputs) + list(targets)}
    X = np.array([[float(r[col[n]]) for n in inputs] for r in body], dtype=np.float64).reshape(len(body), -1)
    if classes is None:
        Y = np.array([[float(r[col[n]]) for n in targets] for r in body], dtype=np.float64).reshape(len(body), -1)
    else:
        idx = [classes.index(r[col[targets[0]]].strip()) for r in body]
        Y = np.eye(len(classes))[idx] if len(classes) > 2 else np.array(idx, dtype=np.float64)[:, None]
    return X, Y


def standardize(X, mean, std):
    """(x − mean) / std per column, in float64, as ANN Designer's Standardizer."""
    return ((np.asarray(X, dtype=np.float64) - np.asarray(mean)) / np.asarray(std)).astype(np.float32)


def split_rows(n, validation_split, shuffle, seed):
    """(training rows, validation rows): the rows ANN Designer's trainer holds out."""
    n_val = int(round(n * validation_split)) if validation_split > 0 else 0
    if n_val <= 0:
        return np.arange(n), np.arange(0)
    idx = np.random.default_rng([int(seed) & 0xFFFFFFFF, 11]).permutation(n) if shuffle else np.arange(n)
    return idx[: n - n_val], idx[n - n_val:]


def lr_at(epoch, base_lr, schedule, epochs):
    """The learning rate of the 0-based ``epoch`` under ANN Designer's schedule ``schedule``."""
    kind = (schedule or {}).get("kind", "constant")
    if kind == "step":
        return base_lr * schedule.get("gamma", 0.1) ** (epoch // schedule.get("step_size", 10))
    if kind == "exponential":
        return base_lr * schedule.get("gamma", 0.95) ** epoch
    if kind == "cosine":
        total = schedule.get("epochs", epochs)
        low = schedule.get("min_lr", 0.0)
        return low + (base_lr - low) * (1.0 + math.cos(math.pi * min(epoch, total) / total)) / 2.0
    return base_lr


_CARRIED = (to_torch_layout, from_torch_layout, read_table, split_rows, lr_at)


# ------------------------------------------------------------------ conventions
def _act(name: str, z: str) -> str:
    """A PyTorch expression for our activation ``name`` applied to the expression ``z``."""
    # our "gelu" is the exact erf form, "gelu_tanh" the approximation (schema 3, as PyTorch names them)
    name = "gelu_exact" if name == "gelu" else name
    table = {
        "linear": "{z}",
        "relu": "torch.relu({z})",
        "sigmoid": "torch.sigmoid({z})",
        "tanh": "torch.tanh({z})",
        "softmax": "torch.softmax({z}, dim=-1)",
        "leaky_relu": "F.leaky_relu({z}, 0.01)",
        "elu": "F.elu({z}, alpha=1.0)",
        "softplus": "F.softplus({z})",
        "gelu_exact": "F.gelu({z})",
        "gelu_tanh": "F.gelu({z}, approximate=\"tanh\")",
        "step": "step({z})",
        "sign": "sign({z})",
    }
    if name not in table:
        raise InteropError(f"the activation '{name}' has no PyTorch form in this exporter")
    return table[name].format(z=z)


# ------------------------------------------------------------------ the plan
class _Plan:
    """What the module's code is made of, gathered while walking the graph."""

    def __init__(self):
        self.init: list[str] = []
        self.forward: list[str] = []
        #: our weight name -> (state-dict key, layout kind, index or None)
        self.weights: dict[str, tuple[str, str, Any]] = {}
        #: state-dict key -> shape, for keys that several of our weights fill (fused neurons)
        self.shapes: dict[str, tuple[int, ...]] = {}
        #: state-dict keys that are zero and stay so (the second bias of nn.LSTM / nn.RNN)
        self.zeros: dict[str, tuple[int, ...]] = {}
        self.regularized: list[str] = []
        self.helpers: set[str] = set()


def _shape_text(shape) -> str:
    return "(N" + "".join(f", {int(d)}" for d in shape) + ")"


def _names(graph, order: list[str]) -> dict[str, str]:
    """A Python identifier per node id (unique, never an nn.Module attribute)."""
    reserved = {"x", "logits", "self", "torch", "nn", "F", "np", "math", "step", "sign", "nchw", "nhwc"}
    module_attrs = {"training", "forward", "parameters", "buffers", "children", "modules", "state_dict",
                    "to", "train", "eval", "cuda", "cpu", "float", "double", "half", "apply", "zero_grad",
                    "register_buffer", "register_parameter", "add_module", "type", "load_state_dict"}
    out: dict[str, str] = {}
    used: set[str] = set()
    for nid in order:
        name = re.sub(r"\W", "_", nid)
        if not name or name[0].isdigit():
            name = "n_" + name
        if keyword.iskeyword(name) or name in reserved or name in module_attrs or name.startswith("_"):
            name = "node_" + name.lstrip("_")
        base, k = name, 2
        while name in used:
            name, k = f"{base}_{k}", k + 1
        used.add(name)
        out[nid] = name
    return out


def _same_pads(h: int, w: int, k, s, padding: str) -> tuple[int, int, int, int] | None:
    """F.pad's (left, right, top, bottom) for our padding, or None when there is none."""
    from ..graph.types_conv import out_size, pad_before

    if padding != "same":
        return None
    pads = []
    for size, kk, ss in ((w, k[1], s[1]), (h, k[0], s[0])):
        total = max((out_size(size, kk, ss, padding) - 1) * ss + kk - size, 0)
        before = pad_before(size, kk, ss, padding)
        pads += [before, total - before]
    return tuple(pads) if any(pads) else None


def _plan(network) -> tuple[_Plan, dict[str, str], list, Any]:
    program = network.program  # raises GraphError for a graph that does not compile
    graph = network.graph
    analysis = graph.validate()
    shapes = analysis.shapes
    order = analysis.order
    names = _names(graph, order)
    plan = _Plan()
    sources: dict[str, dict[str, list[str]]] = {n: {} for n in graph.nodes}
    for e in graph.edges.values():
        sources[e.dst].setdefault(e.dst_port, []).append(e.src)
    regularize = {}
    for p in program.params:
        for n in p.names():
            regularize[n] = p.regularize
    fused_outputs = {o.node_id for o in program.outputs if o.fused}
    groups = {}  # neuron id -> its fused group (a step's node_ids)
    for step in program.steps:
        if len(step.node_ids) > 1 or graph.nodes[step.node_ids[0]].type_id == "Neuron":
            for nid in step.node_ids:
                groups[nid] = step.node_ids
    done: set[str] = set()
    I, Fw = plan.init, plan.forward

    def joined(nid: str) -> str:
        return "torch.cat([" + ", ".join(names[s] for s in sources[nid].get("in", [])) + "], dim=-1)"

    def inp(nid: str) -> str:
        """The expression of a node's input: its source, or (several wires) their values joined."""
        srcs = sources[nid].get("in", [])
        if len(srcs) == 1:
            return names[srcs[0]]
        var = f"{names[nid]}_in"
        Fw.append(f"{var} = {joined(nid)}  # {_shape_text(in_shape(nid))}")
        return var

    def in_shape(nid: str) -> tuple[int, ...]:
        srcs = sources[nid].get("in", [])
        s = list(shapes[srcs[0]])
        if len(srcs) > 1:
            s[-1] = sum(int(shapes[x][-1]) for x in srcs)
        return tuple(int(d) for d in s)

    def weight(ours: str, key: str, kind: str = "same", index=None) -> None:
        plan.weights[ours] = (key, kind, index)
        if regularize.get(ours) and key not in plan.regularized:
            plan.regularized.append(key)

    def line(var: str, expr: str, nid: str) -> None:
        Fw.append(f"{var} = {expr}  # {_shape_text(shapes[nid])}")

    for nid in order:
        if nid in done:
            continue
        node = graph.nodes[nid]
        t, p, v = node.type_id, node.params, names[nid]
        if t == "Input":
            continue  # fed in forward's head
        ish = in_shape(nid)
        if t == "Concatenate":
            line(v, joined(nid) if len(sources[nid].get("in", [])) > 1 else names[sources[nid]["in"][0]], nid)
            continue
        if t == "Add":
            line(v, " + ".join(names[s] for s in sources[nid].get("in", [])), nid)
            continue
        x = inp(nid)
        if t in ("Dense", "Output") and (t == "Dense" or p["use_weights"]):
            units = int(p["units"])
            bias = bool(p["use_bias"])
            I.append(f"self.{v} = nn.Linear({ish[-1]}, {units}, bias={bias})")
            weight(f"{nid}/kernel", f"{v}.weight", "T")
            if bias:
                weight(f"{nid}/bias", f"{v}.bias")
            if nid in fused_outputs:
                Fw.append(f"{v}_logits = self.{v}({x})  # {_shape_text(shapes[nid])}")
                line(v, _act(p["activation"], f"{v}_logits"), nid)
            else:
                line(v, _act(p["activation"], f"self.{v}({x})"), nid)
        elif t == "Output":  # no weights of its own
            if nid in fused_outputs:
                Fw.append(f"{v}_logits = {x}  # {_shape_text(shapes[nid])}")
                line(v, _act(p["activation"], f"{v}_logits"), nid)
            else:
                line(v, _act(p["activation"], x), nid)
        elif t == "Neuron":
            group = [m for m in groups.get(nid, (nid,))]
            vs = [names[m] for m in group]
            layer = vs[0] if len(group) == 1 else f"{vs[0]}_layer"
            bias = bool(p["use_bias"])
            I.append(f"self.{layer} = nn.Linear({ish[-1]}, {len(group)}, bias={bias})"
                     + (f"  # neurons {', '.join(group)}, one row each" if len(group) > 1 else ""))
            plan.shapes[f"{layer}.weight"] = (len(group), ish[-1])
            if bias:
                plan.shapes[f"{layer}.bias"] = (len(group),)
            for j, m in enumerate(group):
                weight(f"{m}/kernel", f"{layer}.weight", "same", j)
                if bias:
                    weight(f"{m}/bias", f"{layer}.bias", "same", j)
            if len(group) == 1:
                line(v, _act(p["activation"], f"self.{layer}({x})"), nid)
            else:
                gshape = tuple(shapes[nid][:-1]) + (len(group),)
                Fw.append(f"{layer} = {_act(p['activation'], f'self.{layer}({x})')}  # {_shape_text(gshape)}")
                for j, (m, vm) in enumerate(zip(group, vs)):
                    line(vm, f"{layer}[..., {j}:{j + 1}]", m)
            done.update(group)
        elif t == "Activation":
            line(v, _act(p["activation"], x), nid)
        elif t == "Dropout":
            I.append(f"self.{v} = nn.Dropout({float(p['rate'])!r})")
            line(v, f"self.{v}({x})", nid)
        elif t == "Conv2D":
            h, w, c = ish
            k, s = [int(d) for d in p["kernel_size"]], [int(d) for d in p["strides"]]
            bias = bool(p["use_bias"])
            I.append(f"self.{v} = nn.Conv2d({c}, {int(p['filters'])}, kernel_size={tuple(k)}, stride={tuple(s)}, "
                     f"bias={bias})")
            weight(f"{nid}/kernel", f"{v}.weight", "conv")
            if bias:
                weight(f"{nid}/bias", f"{v}.bias")
            pads = _same_pads(h, w, k, s, p["padding"])
            xin = f"nchw({x})" if pads is None else f"F.pad(nchw({x}), {pads})"
            line(v, f"nhwc({_act(p['activation'], f'self.{v}({xin})')})", nid)
        elif t in ("MaxPool2D", "AvgPool2D"):
            h, w, c = ish
            k, s = tuple(int(d) for d in p["pool_size"]), tuple(int(d) for d in p["strides"])
            pads = _same_pads(h, w, k, s, p["padding"])
            if t == "MaxPool2D":
                xin = f"nchw({x})" if pads is None else f"F.pad(nchw({x}), {pads}, value=-math.inf)"
                line(v, f"nhwc(F.max_pool2d({xin}, {k}, {s}))", nid)
            elif pads is None:
                line(v, f"nhwc(F.avg_pool2d(nchw({x}), {k}, {s}))", nid)
            else:
                plan.helpers.add("avg_pool_same")
                line(v, f"nhwc(avg_pool_same(nchw({x}), {k}, {s}, {pads}))", nid)
        elif t == "GlobalAvgPool":
            line(v, f"{x}.reshape(len({x}), -1, {ish[-1]}).mean(dim=1)", nid)
        elif t in ("Flatten", "Reshape"):
            shape = ", ".join(str(int(d)) for d in shapes[nid])
            line(v, f"{x}.reshape(len({x}), {shape})" if t == "Reshape" else f"{x}.reshape(len({x}), -1)", nid)
        elif t in ("SimpleRNN", "LSTM", "GRU"):
            units, f = int(p["units"]), ish[-1]
            bias = bool(p["use_bias"])
            seq = bool(p["return_sequences"])
            pick = "" if seq else "[:, -1]"
            if t == "GRU":
                plan.helpers.add("GRU")
                after = bool(p.get("reset_after", False))
                I.append(f"self.{v} = GRU({f}, {units}, bias={bias}" + (", reset_after=True)" if after else ")"))
                weight(f"{nid}/kernel", f"{v}.weight_ih", "gru_T")
                weight(f"{nid}/recurrent_kernel", f"{v}.weight_hh", "gru_T")
                if bias:
                    weight(f"{nid}/bias", f"{v}.bias", "gru_b")
                line(v, f"self.{v}({x}){pick}", nid)
            elif t == "SimpleRNN" and p["activation"] not in ("tanh", "relu"):
                plan.helpers.add("SimpleRNN")
                I.append(f"self.{v} = SimpleRNN({f}, {units}, bias={bias}, "
                         f"activation=lambda z: {_act(p['activation'], 'z')})")
                weight(f"{nid}/kernel", f"{v}.weight_ih_l0", "T")
                weight(f"{nid}/recurrent_kernel", f"{v}.weight_hh_l0", "T")
                if bias:
                    weight(f"{nid}/bias", f"{v}.bias_ih_l0")
                line(v, f"self.{v}({x}){pick}", nid)
            else:
                k = 4 if t == "LSTM" else 1
                ctor = (f"nn.LSTM({f}, {units}, bias={bias}, batch_first=True)" if t == "LSTM" else
                        f"nn.RNN({f}, {units}, nonlinearity={p['activation']!r}, bias={bias}, batch_first=True)")
                I.append(f"self.{v} = {ctor}")
                weight(f"{nid}/kernel", f"{v}.weight_ih_l0", "T")
                weight(f"{nid}/recurrent_kernel", f"{v}.weight_hh_l0", "T")
                if bias:
                    weight(f"{nid}/bias", f"{v}.bias_ih_l0")
                    plan.zeros[f"{v}.bias_hh_l0"] = (k * units,)
                    I.append(f"self.{v}.bias_hh_l0.requires_grad_(False)  # ANN Designer has one bias: this one stays 0")
                line(v, f"self.{v}({x})[0]{pick}", nid)
        elif t == "Embedding":
            I.append(f"self.{v} = nn.Embedding({int(p['input_dim'])}, {int(p['output_dim'])})")
            weight(f"{nid}/embeddings", f"{v}.weight")
            line(v, f"self.{v}({x}.reshape(len({x}), -1).long())", nid)
        elif t == "PositionalEncoding":
            tt, d = ish
            if p["kind"] == "learned":
                I.append(f"self.{v} = nn.Parameter(torch.zeros({tt}, {d}))  # the learned table P")
                weight(f"{nid}/positions", v)
            else:
                plan.helpers.add("sinusoidal_table")
                I.append(f"self.register_buffer({v + '_table'!r}, sinusoidal_table({tt}, {d}), persistent=False)")
            line(v, f"{x} + self.{v}" + ("" if p["kind"] == "learned" else "_table"), nid)
        elif t == "SelfAttention":
            plan.helpers.add("SelfAttention")
            d = ish[-1]
            bias = bool(p["use_bias"])
            I.append(f"self.{v} = SelfAttention({d}, heads={int(p['heads'])}, key_dim={int(p['key_dim'])}, "
                     f"causal={bool(p['causal'])}, bias={bias})")
            for ours, mod in (("query", "query"), ("key", "key"), ("value", "value"), ("output", "output")):
                weight(f"{nid}/{ours}_kernel", f"{v}.{mod}.weight", "T")
                if bias:
                    weight(f"{nid}/{ours}_bias", f"{v}.{mod}.bias")
            line(v, f"self.{v}({x})", nid)
        elif t == "BatchNorm":
            plan.helpers.add("BatchNorm")
            c = ish[-1]
            I.append(f"self.{v} = BatchNorm({c}, momentum={float(p['momentum'])!r}, eps={float(p['epsilon'])!r}, "
                     f"center={bool(p['center'])}, scale={bool(p['scale'])})")
            if p["scale"]:
                weight(f"{nid}/gamma", f"{v}.weight")
            if p["center"]:
                weight(f"{nid}/beta", f"{v}.bias")
            weight(f"{nid}/moving_mean", f"{v}.moving_mean")
            weight(f"{nid}/moving_variance", f"{v}.moving_variance")
            line(v, f"self.{v}({x})", nid)
        elif t == "LayerNorm":
            c = ish[-1]
            if p["center"] and p["scale"]:
                I.append(f"self.{v} = nn.LayerNorm({c}, eps={float(p['epsilon'])!r})")
                weight(f"{nid}/gamma", f"{v}.weight")
                weight(f"{nid}/beta", f"{v}.bias")
                line(v, f"self.{v}({x})", nid)
            else:
                I.append(f"self.{v} = nn.LayerNorm({c}, eps={float(p['epsilon'])!r}, elementwise_affine=False)")
                expr = f"self.{v}({x})"
                if p["scale"]:
                    I.append(f"self.{v}_gamma = nn.Parameter(torch.ones({c}))")
                    weight(f"{nid}/gamma", f"{v}_gamma")
                    expr += f" * self.{v}_gamma"
                if p["center"]:
                    I.append(f"self.{v}_beta = nn.Parameter(torch.zeros({c}))")
                    weight(f"{nid}/beta", f"{v}_beta")
                    expr += f" + self.{v}_beta"
                line(v, expr, nid)
        else:
            raise InteropError(f"the PyTorch export does not know the layer type '{t}' (node '{nid}')")
    missing = set(network.get_weights()) - set(plan.weights)
    if missing:
        raise InteropError(f"the PyTorch export has no place for the weight(s) {', '.join(sorted(missing))}")
    return plan, names, program, analysis


def _state_dict(network, plan: _Plan) -> dict[str, np.ndarray]:
    """The module's state dict (as arrays) from the network's weights."""
    state: dict[str, np.ndarray] = {k: np.zeros(s, np.float32) for k, s in plan.shapes.items()}
    for key, s in plan.zeros.items():
        state[key] = np.zeros(s, np.float32)
    for name, value in network.get_weights().items():
        key, kind, index = plan.weights[name]
        if index is None:
            state[key] = to_torch_layout(kind, value)
        else:
            state[key][index] = to_torch_layout(kind, value)
    return state


# ------------------------------------------------------------------------ data
def _data_section(network, script_dir: Path, stem: str, base_dir) -> tuple[dict | None, Path | None, str, Any]:
    """(DATA for the script, the CSV file written beside it or None, a note, the data set)."""
    from ..data import load_source

    from ..errors import AnnError

    src = network.data_source
    if not src:
        return None, None, "The network names no data set, so main() has nothing to train on.", None
    try:
        ds = load_source(src, base_dir)
    except AnnError as exc:
        return None, None, f"Its data set could not be read when it was exported ({exc}).", None
    sc = network.scaler

    def prepared(X):  # raw rows as our engine sees them
        return standardize(X, sc.mean, sc.std) if sc is not None else np.asarray(X, np.float32)

    if src.get("kind") == "csv":
        path = Path(src["path"])
        if not path.is_absolute():
            path = Path(base_dir or ".") / path
        path = path.resolve()
        classes = ds.classes if ds.task == "classification" and ds.classes else None
        inputs, targets = list(src.get("inputs") or ds.input_names), list(src.get("targets") or ds.target_names)
        try:
            if src.get("reconstruct") or src.get("one_hot") or src.get("split"):
                raise ValueError("a derived data set")
            delim = src.get("delimiter", "auto")
            if delim == "auto":
                with open(path, newline="", encoding="utf-8-sig") as f:
                    delim = csv.Sniffer().sniff(f.read(4096), delimiters=",;\t|").delimiter
            X, Y = read_table(path, inputs, targets, classes, delim)
            same = (X.shape == ds.X.shape and Y.shape == ds.Y.shape and np.array_equal(prepared(X), ds.X)
                    and np.array_equal(Y.astype(np.float32), ds.Y))
        except Exception:  # noqa: BLE001 - any way the simple reader fails: write the data out instead
            same = False
        if same:
            try:
                ref = os.path.relpath(path, script_dir)
            except ValueError:  # another drive
                ref = str(path)
            data = {"path": ref.replace(os.sep, "/"), "inputs": inputs, "targets": targets, "classes": classes,
                    "delimiter": delim}
            return data, None, f"The data: the CSV file {path.name}, read as ANN Designer reads it.", ds
    raw = ds.X
    if sc is not None:  # the same rows, not standardized: the module standardizes them as ours
        raw = load_source({**src, "standardize": False}, base_dir).X
        if raw.shape != ds.X.shape or not np.allclose(prepared(raw), ds.X, rtol=1e-5, atol=1e-5):
            raise InteropError(f"cannot write the raw rows of the data set '{ds.name}' for the PyTorch script")
    csv_path = script_dir / f"{stem}_data.csv"
    inputs = [f"x:{n}" for n in ds.input_names]
    targets = [f"y:{n}" for n in ds.target_names]
    with open(csv_path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(inputs + targets)
        for xr, yr in zip(raw.tolist(), ds.Y.tolist()):  # float32 values as exact decimals
            w.writerow([repr(v) for v in xr] + [repr(v) for v in yr])
    data = {"path": csv_path.name, "inputs": inputs, "targets": targets, "classes": None, "delimiter": ","}
    note = f"The data: {ds.name}, targets encoded as ANN Designer does, written next to this script."
    return data, csv_path, note, ds


# ---------------------------------------------------------------------- script
HELPERS = {
    "avg_pool_same": '''
def avg_pool_same(x, k, s, pads):
    """Average pooling with "same" padding as ANN Designer's: the padding is not counted."""
    ones = torch.ones_like(x[:1, :1])
    return F.avg_pool2d(F.pad(x, pads), k, s) / F.avg_pool2d(F.pad(ones, pads), k, s)
''',
    "sinusoidal_table": '''
def sinusoidal_table(t, d):
    """P[t, 2i] = sin(t / 10000^(2i/d)), P[t, 2i+1] = cos(t / 10000^(2i/d)) (computed in float64)."""
    pos = np.arange(t, dtype=np.float64)[:, None]
    angle = pos * np.power(10000.0, -np.arange(0, d, 2, dtype=np.float64) / d)
    table = np.empty((t, d))
    table[:, 0::2] = np.sin(angle)
    table[:, 1::2] = np.cos(angle[:, : d // 2])
    return torch.from_numpy(table.astype(np.float32))
''',
    "GRU": '''
class GRU(nn.Module):
    """ANN Designer's GRU over (N, T, F), from h₀ = 0; the states (N, T, units).

    r = σ(x W_r + h U_r + b_r), z = σ(x W_z + h U_z + b_z),
    n = tanh(x W_n + (r ⊙ h) U_n + b_n)   (reset_after=False: the reset gate acts on h before U_n,
                                           Keras' reset_after=False, which nn.GRU cannot express), or
    n = tanh(x W_n + b_n + r ⊙ (h U_n + b'_n))  (reset_after=True: nn.GRU's own form, two biases),
    {update}.
    The weights are laid out as nn.GRU's (weight_ih (3·units, F), rows r, z, n; weight_hh (3·units, units)),
    with one bias (3·units), or with reset_after two: bias[0] for the input, bias[1] for the recurrent product.
    """

    def __init__(self, input_size, units, bias=True, reset_after=False):
        super().__init__()
        self.units = units
        self.reset_after = reset_after
        self.weight_ih = nn.Parameter(torch.zeros(3 * units, input_size))
        self.weight_hh = nn.Parameter(torch.zeros(3 * units, units))
        shape = (2, 3 * units) if reset_after else (3 * units,)
        self.bias = nn.Parameter(torch.zeros(shape)) if bias else None

    def forward(self, x):
        u = self.units
        xp = x @ self.weight_ih.T
        if self.bias is not None:
            xp = xp + (self.bias[0] if self.reset_after else self.bias)
        h = x.new_zeros(x.shape[0], u)
        states = []
        for t in range(x.shape[1]):
            if self.reset_after:
                hp = h @ self.weight_hh.T
                if self.bias is not None:
                    hp = hp + self.bias[1]
                rz = torch.sigmoid(xp[:, t, :2 * u] + hp[:, :2 * u])
                r, z = rz[:, :u], rz[:, u:]
                n = torch.tanh(xp[:, t, 2 * u:] + r * hp[:, 2 * u:])
            else:
                rz = torch.sigmoid(xp[:, t, :2 * u] + h @ self.weight_hh[:2 * u].T)
                r, z = rz[:, :u], rz[:, u:]
                n = torch.tanh(xp[:, t, 2 * u:] + (r * h) @ self.weight_hh[2 * u:].T)
            h = {update_code}
            states.append(h)
        return torch.stack(states, dim=1)
''',
    "SimpleRNN": '''
class SimpleRNN(nn.Module):
    """hₜ = f(xₜ W + hₜ₋₁ U + b) from h₀ = 0 for an activation nn.RNN does not offer; the states (N, T, units)."""

    def __init__(self, input_size, units, bias=True, activation=torch.tanh):
        super().__init__()
        self.activation = activation
        self.weight_ih_l0 = nn.Parameter(torch.zeros(units, input_size))
        self.weight_hh_l0 = nn.Parameter(torch.zeros(units, units))
        self.bias_ih_l0 = nn.Parameter(torch.zeros(units)) if bias else None

    def forward(self, x):
        xp = x @ self.weight_ih_l0.T
        if self.bias_ih_l0 is not None:
            xp = xp + self.bias_ih_l0
        h = x.new_zeros(x.shape[0], self.weight_hh_l0.shape[0])
        states = []
        for t in range(x.shape[1]):
            h = self.activation(xp[:, t] + h @ self.weight_hh_l0.T)
            states.append(h)
        return torch.stack(states, dim=1)
''',
    "SelfAttention": '''
class SelfAttention(nn.Module):
    """Multi-head self-attention as ANN Designer computes it, on (N, T, D): per head, Q = x W_Q + b_Q,
    K = x W_K + b_K, V = x W_V + b_V (key_dim columns each), A = softmax(Q Kᵀ / √key_dim) (causal: position t
    sees only positions ≤ t), y = [A V]_heads W_O + b_O. (nn.MultiheadAttention ties key_dim to D / heads.)"""

    def __init__(self, d, heads, key_dim, causal=False, bias=True):
        super().__init__()
        self.heads, self.key_dim, self.causal = heads, key_dim, causal
        self.query = nn.Linear(d, heads * key_dim, bias=bias)
        self.key = nn.Linear(d, heads * key_dim, bias=bias)
        self.value = nn.Linear(d, heads * key_dim, bias=bias)
        self.output = nn.Linear(heads * key_dim, d, bias=bias)

    def forward(self, x):
        n, t, _ = x.shape

        def heads(z):  # (N, T, heads·key_dim) -> (N, heads, T, key_dim)
            return z.reshape(n, t, self.heads, self.key_dim).transpose(1, 2)

        q, k, v = heads(self.query(x)), heads(self.key(x)), heads(self.value(x))
        scores = (q @ k.transpose(-1, -2)) * (1.0 / math.sqrt(self.key_dim))
        if self.causal:
            later = torch.triu(torch.ones(t, t, dtype=torch.bool, device=x.device), 1)
            scores = scores.masked_fill(later, -math.inf)
        a = torch.softmax(scores, dim=-1)
        return self.output((a @ v).transpose(1, 2).reshape(n, t, self.heads * self.key_dim))
''',
    "BatchNorm": '''
class BatchNorm(nn.Module):
    """ANN Designer's batch norm over the last axis: x̂ = (x − μ_B) / √(σ²_B + ε), y = γ·x̂ + β. While training,
    μ_B and σ²_B are the batch's mean and (biased) variance over every other axis, and the moving averages
    follow them as m ← momentum·m + (1 − momentum)·μ_B (nn.BatchNorm's momentum is 1 − this one, and it
    averages the unbiased variance); at prediction the moving averages are used."""

    def __init__(self, c, momentum=0.99, eps=1e-3, center=True, scale=True):
        super().__init__()
        self.momentum, self.eps = momentum, eps
        self.weight = nn.Parameter(torch.ones(c)) if scale else None
        self.bias = nn.Parameter(torch.zeros(c)) if center else None
        self.register_buffer("moving_mean", torch.zeros(c))
        self.register_buffer("moving_variance", torch.ones(c))

    def forward(self, x):
        c = x.shape[-1]
        if self.training:
            x2 = x.reshape(-1, c)
            mean = x2.mean(dim=0)
            var = ((x2 - mean) ** 2).mean(dim=0)
            with torch.no_grad():
                m = self.momentum
                self.moving_mean.mul_(m).add_((1.0 - m) * mean)
                self.moving_variance.mul_(m).add_((1.0 - m) * var)
        else:
            mean, var = self.moving_mean, self.moving_variance
        y = (x - mean) * torch.rsqrt(var + self.eps)
        if self.weight is not None:
            y = y * self.weight
        if self.bias is not None:
            y = y + self.bias
        return y
''',
}


def _loss_code(output, eps: float = 1e-7) -> list[str]:
    """The body of ``data_loss(out, logits, y)``: our loss for the Output."""
    loss, fused = output.loss, output.fused
    e = repr(eps)
    if fused and loss == "binary_crossentropy":
        return ["# from the logits, as ours: mean(log(1 + e^z) − z·y)",
                "return F.binary_cross_entropy_with_logits(logits, y)"]
    if fused:
        return ["# from the logits, as ours: −Σ y·log softmax(z), averaged over the rows",
                "return -(y * torch.log_softmax(logits, dim=-1)).sum() / rows(y)"]
    return {
        "mse": ["return ((out - y) ** 2).mean()"],
        "mae": ["return (out - y).abs().mean()"],
        "huber": ["return F.huber_loss(out, y, delta=1.0)  # mean over every value, δ = 1"],
        "binary_crossentropy": [f"q = out.clamp({e}, 1 - {e})",
                                "return -(y * torch.log(q) + (1 - y) * torch.log(1 - q)).mean()"],
        "categorical_crossentropy": [f"return -(y * torch.log(out.clamp({e}, 1.0))).sum() / rows(y)"],
        "kl_divergence": [f"return (y * torch.log(y.clamp({e}, 1.0) / out.clamp({e}, 1.0))).sum() / rows(y)"],
    }[loss]


def _optimizer_code(cfg) -> tuple[list[str], dict[str, Any]]:
    from ..engine.optimizers import OPTIMIZERS

    name = cfg.optimizer.strip().lower()
    cls = OPTIMIZERS.get(name)
    if cls is None:
        raise InteropError(f"the PyTorch export does not know the optimizer '{cfg.optimizer}'")
    h = {**cls.defaults(), **cfg.optimizer_params}
    h.pop("learning_rate", None)
    h.pop("clipnorm", None)
    r = repr
    if name == "sgd":
        body = [f"return torch.optim.SGD(params, lr=lr, momentum={r(float(h['momentum']))}, "
                f"nesterov={bool(h['nesterov'])})  # b ← μb + g, w ← w − lr·b (Nesterov: w ← w − lr·(g + μb))"]
    elif name == "adagrad":
        body = ["# a ← a + g², w ← w − lr·g / (√a + ε), a starting at ANN Designer's initial accumulator",
                f"return torch.optim.Adagrad(params, lr=lr, initial_accumulator_value={r(float(h['initial_accumulator']))}, "
                f"eps={r(float(h['epsilon']))})"]
    elif name == "adadelta":
        body = ["# E[g²] ← ρE[g²] + (1−ρ)g², d = √(E[Δ²] + ε) / √(E[g²] + ε)·g, E[Δ²] ← ρE[Δ²] + (1−ρ)d², w ← w − lr·d",
                f"return torch.optim.Adadelta(params, lr=lr, rho={r(float(h['rho']))}, eps={r(float(h['epsilon']))})"]
    elif name == "rmsprop":
        body = ["# v ← ρv + (1−ρ)g², u = g / (√v + ε) (ε outside the root), momentum on u",
                f"return torch.optim.RMSprop(params, lr=lr, alpha={r(float(h['rho']))}, eps={r(float(h['epsilon']))}, "
                f"momentum={r(float(h['momentum']))})"]
    elif name in ("adam", "adamw"):
        extra = f", weight_decay={r(float(h['weight_decay']))}" if name == "adamw" else ""
        body = ["# w ← w − lr·m̂ / (√v̂ + ε) with ANN Designer's ε (PyTorch's default is 1e-8)",
                f"return torch.optim.{'Adam' if name == 'adam' else 'AdamW'}(params, lr=lr, "
                f"betas=({r(float(h['beta_1']))}, {r(float(h['beta_2']))}), eps={r(float(h['epsilon']))}{extra})"]
    else:
        raise InteropError(f"the PyTorch export does not know the optimizer '{cfg.optimizer}'")
    return body, h


def _schedule(spec: dict | None) -> dict | None:
    """Our schedule spec with every parameter spelled out (its defaults filled in), except a cosine
    schedule's missing length, which is the run's number of epochs (as our trainer takes it)."""
    from ..engine.schedules import make_schedule

    if not spec:
        return None
    full = make_schedule(spec).to_dict()
    if spec.get("kind") == "cosine" and "epochs" not in spec:  # exactly the trainer's test
        del full["epochs"]
    return full


def _indent(lines: list[str], n: int) -> str:
    pad = " " * n
    return "\n".join(pad + ln if ln else "" for ln in lines)


def _py(value: Any) -> str:
    """A Python literal for JSON-native data (None/True/False as Python spells them), wrapped to fit."""
    return pprint.pformat(json.loads(json.dumps(value)), width=110, compact=True, sort_dicts=False)


def export_pytorch(network, out: Path, *, base_dir: str | os.PathLike | None = None) -> list[Path]:
    """Write ``network`` as a PyTorch script at ``out`` (e.g. ``model.py``), its weights, its design
    and (for a built-in data set) its data beside it; the files written, the script first.

    ``base_dir``: where a relative CSV path of the network's data source is taken from (the
    folder of its ``.ann`` file; default: the current directory). Raises :class:`InteropError`
    for what cannot be exported (naming the layer)."""
    from ..engine.trainer import task_of

    out = Path(out)
    if out.suffix != ".py":
        raise InteropError(f"the PyTorch export writes a Python script: name it with .py, not '{out.name}'")
    from ..errors import GraphError
    from ..graph.nodetypes import CLASSIFICATION_LOSSES

    try:
        plan, names, program, analysis = _plan(network)
    except GraphError as exc:
        raise InteropError(f"the network cannot be exported to PyTorch while it does not run: {exc}") from exc
    state = _state_dict(network, plan)
    script_dir = out.resolve().parent
    script_dir.mkdir(parents=True, exist_ok=True)
    stem = out.stem
    weights_path = script_dir / f"{stem}_weights.npz"
    design_path = script_dir / f"{stem}_design.ann"
    np.savez(weights_path, **state)
    try:
        network.save(design_path)
    except Exception as exc:  # noqa: BLE001 - reported, not swallowed
        raise InteropError(f"cannot write the design beside the script ({design_path}): {exc}") from exc
    data, data_path, data_note, ds = _data_section(network, script_dir, stem, base_dir)
    cfg = network.training
    opt_body, hyper = _optimizer_code(cfg)
    graph = network.graph
    title = graph.meta.get("title") if isinstance(graph.meta, dict) else None
    title = title or stem
    outputs = program.outputs
    task = "classification" if not outputs or outputs[0].loss in CLASSIFICATION_LOSSES else "regression"
    if ds is not None and len(outputs) == 1:
        task = task_of(program, ds.Y, cfg.rule)
    # forward's head: the Inputs take a data row's columns in order
    head, off = ["x = x.reshape(len(x), -1)  # rows of the data, as ANN Designer feeds them"], 0
    if network.scaler is not None:
        head.append("x = ((x.double() - self.mean) / self.std).float()  # standardized as the data set: (x − μ) / σ")
    for nid, _, shape in program.inputs:
        k = math.prod(shape)
        dims = ", ".join(str(int(d)) for d in shape)
        head.append(f"{names[nid]} = x[:, {off}:{off + k}].reshape(len(x), {dims})  # {_shape_text(shape)}")
        off += k
    outs = [names[o.node_id] for o in outputs]
    logit_outs = [names[o.node_id] + "_logits" if o.fused else "None" for o in outputs]
    ret = (["if with_logits:", f"    return {outs[0]}, {logit_outs[0]}", f"return {outs[0]}"] if len(outs) == 1 else
           ["if with_logits:", f"    return ({', '.join(outs)}), ({', '.join(logit_outs)})",
            f"return {', '.join(outs)}"])
    helpers = "".join(HELPERS[h] for h in sorted(plan.helpers))
    if "GRU" in plan.helpers:  # our update is nn.GRU's (schema 3): h ← z ⊙ h + (1 − z) ⊙ n
        helpers = helpers.replace("{update}", "h ← z ⊙ h + (1 − z) ⊙ n (as nn.GRU)")
        helpers = helpers.replace("{update_code}", "z * h + (1 - z) * n")
    carried = "\n\n".join(inspect.getsource(f) for f in _CARRIED)
    out_shape = tuple(analysis.shapes[outputs[0].node_id]) if outputs else ()
    training = {
        "epochs": cfg.epochs, "batch_size": cfg.batch_size, "optimizer": cfg.optimizer,
        "learning_rate": cfg.learning_rate, "hyper": {k: v for k, v in hyper.items()}, "l1": cfg.l1, "l2": cfg.l2,
        "clipnorm": cfg.clipnorm, "schedule": _schedule(cfg.schedule), "shuffle": cfg.shuffle,
        "validation_split": cfg.validation_split, "early_stopping": cfg.early_stopping, "patience": cfg.patience,
        "min_delta": cfg.min_delta, "restore_best_weights": cfg.restore_best_weights, "rule": cfg.rule,
    }
    rule_note = ""
    if cfg.rule != "backprop":
        rule_note = {"perceptron": "the perceptron rule (Δw = η (t − y) x)", "hebbian": "the Hebb rule (Δw = η t x)",
                     "fixed": "no rule at all: its weights are fixed"}.get(cfg.rule, cfg.rule)
    text = SCRIPT.format(
        title=title.replace('"""', "'''"),
        stem=stem,
        data_note=data_note,
        helpers=helpers,
        carried=carried,
        init=_indent(plan.init or ["pass"], 8),
        scaler_init="" if network.scaler is None else _indent([
            "# the data set's standardization: constants, not weights",
            'self.register_buffer("mean", torch.tensor(SCALER["mean"], dtype=torch.float64), persistent=False)',
            'self.register_buffer("std", torch.tensor(SCALER["std"], dtype=torch.float64), persistent=False)'], 8)
        + "\n",
        head=_indent(head, 8),
        forward=_indent(plan.forward, 8),
        ret=_indent(ret, 8),
        weights_file=weights_path.name,
        design_file=design_path.name,
        ann_weights=_indent([f"{k!r}: {v!r}," for k, v in plan.weights.items()], 4),
        regularized=_py(plan.regularized),
        training=_indent([f"{k!r}: {_py(v)}," for k, v in training.items()], 4),
        seed=int(network.seed),
        first_epoch=len(network.history),
        task=task,
        data=_py(data),
        out_shape=_py(list(out_shape)),
        loss_body=_indent(_loss_code(outputs[0]) if outputs else ["raise SystemExit('no Output')"], 4),
        optimizer_body=_indent(opt_body, 4),
        rule_note=repr(rule_note),
        n_outputs=len(outputs),
        scaler=_py(None if network.scaler is None else {"mean": network.scaler.mean.tolist(),
                                                        "std": network.scaler.std.tolist()}),
    )
    out.write_text(text, encoding="utf-8")
    files = [out, weights_path, design_path]
    if data_path is not None:
        files.append(data_path)
    return files


SCRIPT = '''\
"""{title}: exported from ANN Designer as PyTorch.

    python {stem}.py                          train on this machine (one process)
    torchrun --nproc-per-node 4 {stem}.py     train with DistributedDataParallel on 4 processes
                                              (NCCL on GPUs, gloo on CPUs; each takes its share of the
                                              rows and batch_size / 4 of every batch)
    python {stem}.py --save-ann trained.ann   ... and write the trained weights back into the design

The module below computes what the network computes in ANN Designer (same weights, same numbers).
main() trains it with the network's own settings, as ANN Designer's trainer does (the optimizer
starts afresh). {data_note}
"""

import argparse
import csv
import math
import os
import sys
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = Path(__file__).resolve().parent
#: the weights as this module's state dict (numpy arrays, read with allow_pickle=False)
WEIGHTS_FILE = HERE / {weights_file!r}
#: the design in ANN Designer, which --save-ann fills with the trained weights
DESIGN_FILE = HERE / {design_file!r}
#: ANN Designer's weight name -> (state-dict key, layout, row of a fused neuron layer or None)
ANN_WEIGHTS = {{
{ann_weights}
}}
#: what L1/L2 act on: the kernels (weights between units), never biases or norm scales
REGULARIZED = {regularized}
TRAINING = {{
{training}
}}
SEED = {seed}
#: epochs the network had trained in ANN Designer before (our shuffled order counts on from there)
FIRST_EPOCH = {first_epoch}
TASK = {task!r}
DATA = {data}
#: the standardization of the network's data set (None: inputs are fed as they are), which the
#: module applies to the raw rows it is given, as ANN Designer's predict does
SCALER = {scaler}
OUTPUT_SHAPE = {out_shape}
#: networks trained by a classic rule keep it in ANN Designer; this script has their forward pass
RULE_NOTE = {rule_note}
N_OUTPUTS = {n_outputs}


def nchw(x):
    """Our images are channels-last (N, H, W, C); PyTorch's convolutions take (N, C, H, W)."""
    return x.permute(0, 3, 1, 2)


def nhwc(x):
    """Back to channels-last, so that Flatten lays the values out in ANN Designer's row-major order."""
    return x.permute(0, 2, 3, 1)


def step(z):
    return (z >= 0).to(z.dtype)


def sign(z):
    return torch.where(z >= 0, torch.ones_like(z), -torch.ones_like(z))

{helpers}

class Model(nn.Module):
    def __init__(self):
        super().__init__()
{scaler_init}{init}

    def forward(self, x, with_logits=False):
        """Outputs for raw data rows ``x`` (N, values per sample), as ANN Designer's predict;
        ``with_logits``: also the logits of an Output whose loss is computed from them (else None)."""
{head}
{forward}
{ret}


{carried}


def load_weights(model, path=WEIGHTS_FILE):
    with np.load(path, allow_pickle=False) as npz:
        state = {{k: torch.from_numpy(npz[k]) for k in npz.files}}
    model.load_state_dict(state)
    return model


def ann_weights(model):
    """The module's weights under ANN Designer's names and in its layouts."""
    state = {{k: v.detach().cpu().numpy() for k, v in model.state_dict().items()}}
    out = {{}}
    for name, (key, kind, row) in ANN_WEIGHTS.items():
        value = state[key] if row is None else state[key][row]
        out[name] = from_torch_layout(kind, value)
    return out


def load_ann_weights(model, weights):
    """Set the module's weights from ANN Designer's (name -> array, e.g. a trained .npz of this script)."""
    state = {{k: v.detach().clone() for k, v in model.state_dict().items()}}
    for name, (key, kind, row) in ANN_WEIGHTS.items():
        value = torch.from_numpy(to_torch_layout(kind, weights[name]))
        if row is None:
            state[key] = value
        else:
            state[key][row] = value
    model.load_state_dict(state)
    return model


def save_ann(model, path):
    """Write the design with the trained weights as a .ann file that opens in ANN Designer."""
    try:
        import anndesigner
    except ImportError:
        sys.exit("--save-ann needs ANN Designer's Python package (pip install anndesigner); "
                 "the trained weights are in the .npz file all the same")
    net = anndesigner.load(DESIGN_FILE)
    net.set_weights(ann_weights(model))
    net.optimizer_state = None
    net.save(path)


def load_data(path=None):
    """(X, Y): the raw rows (float64 when the module standardizes them, else float32) and the targets
    (float32) as ANN Designer encodes them; ``path``: another CSV file with the same columns."""
    if DATA is None:
        sys.exit("this script has no data set to train on (see the note at its top)")
    d = DATA
    src = Path(path) if path else HERE / d["path"]
    X, Y = read_table(src, d["inputs"], d["targets"], d["classes"], d["delimiter"])
    X = X if SCALER is not None else X.astype(np.float32)
    return X, Y.astype(np.float32).reshape((len(Y),) + tuple(OUTPUT_SHAPE))


def rows(y):
    """Rows a loss averages over: every axis but the last."""
    return y[..., 0].numel()


def data_loss(out, logits, y):
    """ANN Designer's loss for the Output (its mean over the batch, as ours)."""
{loss_body}


def regularization(model):
    """l2·Σw² + l1·Σ|w| over the kernels, added to the loss (not PyTorch's weight_decay, which is
    2·l2 on every parameter)."""
    params = dict(model.named_parameters())
    total = 0.0
    for key in REGULARIZED:
        w = params[key]
        if TRAINING["l2"]:
            total = total + TRAINING["l2"] * (w * w).sum()
        if TRAINING["l1"]:
            total = total + TRAINING["l1"] * w.abs().sum()
    return total


def make_optimizer(params, lr):
{optimizer_body}


def clip_by_global_norm(params, clipnorm):
    """Scale every gradient by clipnorm / ‖g‖ when the global norm ‖g‖ exceeds clipnorm (as ours:
    no 1e-6 in the denominator as in torch.nn.utils.clip_grad_norm_)."""
    grads = [p.grad for p in params if p.grad is not None]
    norm = math.sqrt(sum(float((g.double() ** 2).sum()) for g in grads))
    if math.isfinite(norm) and norm > clipnorm:
        for g in grads:
            g.mul_(clipnorm / norm)


def correct_count(p, y):
    """Rows classified right, as ANN Designer counts them."""
    if y.shape[-1] == 1:
        t = 0.0 if bool((y < 0).any()) else 0.5
        return int(((p[..., 0] >= t) == (y[..., 0] >= t)).sum())
    if bool((y < 0).any()):
        return int(((p >= 0) == (y >= 0)).all(dim=-1).sum())
    return int((p.argmax(-1) == y.argmax(-1)).sum())


def evaluate(model, X, Y):
    model.eval()
    with torch.no_grad():
        out, logits = model(X, with_logits=True)
        m = {{"loss": float(data_loss(out, logits, Y))}}
        if TASK == "classification":
            m["accuracy"] = correct_count(out, Y) / len(X)
    return m


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--epochs", type=int, help="epochs (default: the network's own)")
    ap.add_argument("--lr", type=float, help="learning rate (default: the network's own)")
    ap.add_argument("--no-shuffle", action="store_true", help="keep the rows in order")
    ap.add_argument("--limit", type=int, help="train on the first N rows only")
    ap.add_argument("--data", help="a CSV file with the columns of the network's data set, to train on instead")
    ap.add_argument("--out", default=str(HERE / "{stem}_trained.npz"),
                    help="where the trained weights go (ANN Designer's names)")
    ap.add_argument("--save-ann", metavar="OUT.ann", help="also write the trained network as a .ann file")
    args = ap.parse_args(argv)
    if RULE_NOTE:
        print(f"This network is trained by {{RULE_NOTE}}, which stays in ANN Designer: this script has its forward "
              "pass (Model) and does not train it.")
        return 0
    if N_OUTPUTS != 1:
        sys.exit("this network has several Outputs; ANN Designer trains networks with one")
    cfg = dict(TRAINING)
    if args.epochs is not None:
        cfg["epochs"] = args.epochs
    if args.lr is not None:
        cfg["learning_rate"] = args.lr
    if args.no_shuffle:
        cfg["shuffle"] = False
    distributed = "RANK" in os.environ and "WORLD_SIZE" in os.environ
    rank, world, device = 0, 1, torch.device("cpu")
    if distributed:
        import torch.distributed as dist
        from torch.nn.parallel import DistributedDataParallel
        from torch.utils.data import DataLoader, DistributedSampler, TensorDataset

        gpu = torch.cuda.is_available()
        dist.init_process_group("nccl" if gpu else "gloo")
        rank, world = dist.get_rank(), dist.get_world_size()
        if gpu:
            device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", 0)))
            torch.cuda.set_device(device)
    torch.manual_seed(SEED)
    X, Y = load_data(args.data)
    if args.limit:
        X, Y = X[:args.limit], Y[:args.limit]
    tr, va = split_rows(len(X), cfg["validation_split"], cfg["shuffle"], SEED)
    X_val = torch.from_numpy(X[va]).to(device) if len(va) else None
    Y_val = torch.from_numpy(Y[va]).to(device) if len(va) else None
    Xtr, Ytr = torch.from_numpy(X[tr]).to(device), torch.from_numpy(Y[tr]).to(device)
    model = load_weights(Model()).to(device)
    if distributed:
        net = DistributedDataParallel(model, device_ids=[device] if device.type == "cuda" else None)
    else:
        net = model
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = make_optimizer(params, cfg["learning_rate"])
    n = len(Xtr)
    bs = min(cfg["batch_size"], n)
    if distributed:
        sampler = DistributedSampler(TensorDataset(Xtr, Ytr), shuffle=cfg["shuffle"], seed=SEED)
        loader = DataLoader(TensorDataset(Xtr, Ytr), batch_size=max(1, bs // world), sampler=sampler)
    best, best_state, wait = math.inf, None, 0
    for e in range(cfg["epochs"]):
        lr = lr_at(e, cfg["learning_rate"], cfg["schedule"], cfg["epochs"])
        for group in optimizer.param_groups:
            group["lr"] = lr
        net.train()
        if distributed:
            sampler.set_epoch(e)
            batches = iter(loader)
        else:  # ANN Designer's order: the same permutation of the rows per epoch, batches in turn
            order = (np.random.default_rng([SEED & 0xFFFFFFFF, FIRST_EPOCH + e]).permutation(n)
                     if cfg["shuffle"] else np.arange(n))
            batches = ((Xtr[idx], Ytr[idx]) for idx in (torch.from_numpy(order[i:i + bs]) for i in range(0, n, bs)))
        loss_sum, correct, seen = 0.0, 0, 0
        for xb, yb in batches:
            out, logits = net(xb, with_logits=True)
            loss = data_loss(out, logits, yb) + regularization(model)
            optimizer.zero_grad()
            loss.backward()
            if cfg["clipnorm"] is not None:
                clip_by_global_norm(params, cfg["clipnorm"])
            optimizer.step()
            if not math.isfinite(loss.item()):
                sys.exit(f"training stopped at epoch {{e + 1}}: the loss became NaN or infinite "
                         "(try a smaller learning rate)")
            loss_sum += loss.item() * len(xb)
            seen += len(xb)
            if TASK == "classification":
                correct += correct_count(out.detach(), yb)
        if distributed:
            sums = torch.tensor([loss_sum, float(correct), float(seen)], dtype=torch.float64)
            dist.all_reduce(sums)
            loss_sum, correct, seen = float(sums[0]), int(sums[1]), int(sums[2])
        metrics = {{"loss": loss_sum / seen}}
        if TASK == "classification":
            metrics["accuracy"] = correct / seen
        if X_val is not None:
            metrics.update({{"val_" + k: v for k, v in evaluate(model, X_val, Y_val).items()}})
        if rank == 0:
            print(f"epoch {{e + 1}}  " + "  ".join(f"{{k}} {{v:.4f}}" for k, v in metrics.items()), flush=True)
        if cfg["early_stopping"]:
            monitor = metrics.get("val_loss", metrics["loss"])
            if monitor < best - cfg["min_delta"]:
                best, wait = monitor, 0
                if cfg["restore_best_weights"]:
                    best_state = {{k: v.detach().clone() for k, v in model.state_dict().items()}}
            else:
                wait += 1
                if wait >= cfg["patience"]:
                    if best_state is not None:
                        model.load_state_dict(best_state)
                    if rank == 0:
                        print(f"early stopping after epoch {{e + 1}}: no improvement for {{wait}} epochs")
                    break
    if rank == 0:
        np.savez(args.out, **ann_weights(model))
        print(f"trained weights: {{args.out}}")
        if args.save_ann:
            save_ann(model, args.save_ann)
            print(f"trained network: {{args.save_ann}}")
    if distributed:
        # the DDP wrapper holds the process group's pending work: free it before the group goes
        del net
        dist.barrier()
        dist.destroy_process_group()
    return 0


if __name__ == "__main__":
    sys.exit(main())
'''
