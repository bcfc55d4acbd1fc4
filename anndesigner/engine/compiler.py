"""Compile a graph into a :class:`Program`: a list of steps over NumPy buffers.

* Every node is built the same way, by the step builder registered for its
  type (``ops.STEP_BUILDERS``; the hooks a builder has are described in
  ``step.py``). No node type is special here.
* Every node's value is a list of column *segments* of step buffers, so
  Concatenate and multi-wire inputs cost nothing until a step needs one array.
* Nodes of a fusing type (single neurons) that read the same inputs are
  **fused** into one step; each node's value is one column of it. A network
  drawn neuron by neuron therefore runs as fast as the same layers.
* Backward runs the steps in reverse. Gradients **accumulate** into buffers
  and parameters; optimizers are applied elsewhere (``optimizers.py``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import numpy as np

from ..errors import GradientError, GraphError
from ..graph import Graph, NON_DIFFERENTIABLE
from ..graph.registry import WeightSpec
from ..graph.typekit import concat_shapes
from . import losses
from .initializers import initialize, rng_for
from .ops import STEP_BUILDERS
from .step import BuildContext, FeedStep, FusingBuilder, Param, Segment, Step, Value, _merge  # noqa: F401


# ------------------------------------------------------------------ outputs
@dataclass
class OutputInfo:
    node_id: str
    value: Value
    loss: str
    activation: str
    producer: Step
    fused: bool
    units: int


# ------------------------------------------------------------------ program
@dataclass
class Program:
    """A compiled network. It keeps its buffers between calls: one program per training run."""

    graph_revision: int
    dtype: np.dtype
    steps: list[Step]
    widths: list[int]
    shapes: list[tuple[int, ...]]
    params: list[Param]
    inputs: list[tuple[str, int, tuple[int, ...]]]  # (node id, buffer, shape)
    outputs: list[OutputInfo]
    node_values: dict[str, Value]
    needs_grad: list[bool]
    #: non-trainable arrays a layer updates itself (BatchNorm's moving statistics)
    state: list[Param] = field(default_factory=list)
    buffers: list[np.ndarray | None] = field(default_factory=list)
    grads: list[np.ndarray | None] = field(default_factory=list)
    _weight_index: dict[str, tuple[Param, int | None]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for p in self.all_params:
            if p.parts:
                for name, col in p.parts:
                    self._weight_index[name] = (p, col)
            else:
                self._weight_index[p.name] = (p, None)
        self.buffers = [None] * len(self.widths)

    # ------------------------------------------------------ values
    def gather(self, value: Value) -> np.ndarray:
        bufs = self.buffers
        if len(value) == 1:
            s = value[0]
            b = bufs[s.buf]
            if s.start == 0 and s.stop == self.widths[s.buf]:
                return b
            return b[..., s.start:s.stop]
        return np.concatenate([bufs[s.buf][..., s.start:s.stop] for s in value], axis=-1)

    def node_output(self, node_id: str) -> np.ndarray | None:
        """A node's output from the last forward pass (None if freed or not run)."""
        value = self.node_values.get(node_id)
        if value is None or any(self.buffers[s.buf] is None for s in value):
            return None
        return self.gather(value)

    @property
    def all_params(self) -> list[Param]:
        """The trainable parameters, then the layers' own state: everything saved as weights."""
        return self.params + self.state

    # ----------------------------------------------------- inputs
    @property
    def input_size(self) -> int:
        """Values per sample over all Inputs (a data row's column count)."""
        return sum(math.prod(shape) for _, _, shape in self.inputs)

    def split_feed(self, X: np.ndarray) -> list[np.ndarray]:
        """One array per Input from rows of ``input_size`` columns, dealt out in Input order."""
        out, off = [], 0
        for _, _, shape in self.inputs:
            k = math.prod(shape)
            out.append(X[:, off:off + k].reshape((len(X),) + tuple(shape)))
            off += k
        return out

    # ----------------------------------------------------- forward
    def forward(self, feeds: Sequence[np.ndarray], training: bool = False, keep: bool = True) -> list[np.ndarray]:
        """Run the steps. ``keep=False`` frees each buffer after its last use.
        With several Inputs, one array of ``input_size`` columns is split among them."""
        if len(feeds) == 1 and len(self.inputs) > 1:
            feeds = self.split_feed(feeds[0])
        bufs = self.buffers = [None] * len(self.widths)
        for (_, buf, _), x in zip(self.inputs, feeds):
            bufs[buf] = x
        last_use = None if keep else self._last_use()
        for i, step in enumerate(self.steps):
            if isinstance(step, FeedStep):
                continue
            xs = [self.gather(v) for v in step.ins]
            bufs[step.out] = step.forward(xs, training)
            if last_use is not None:
                for b in last_use.get(i, ()):
                    bufs[b] = None
                step.clear()
        return [self.gather(o.value) for o in self.outputs]

    def _last_use(self) -> dict[int, list[int]]:
        cache = getattr(self, "_last_use_cache", None)
        if cache is None:
            last: dict[int, int] = {}
            for i, step in enumerate(self.steps):
                for v in step.ins:
                    for s in v:
                        last[s.buf] = i
            keep = {s.buf for o in self.outputs for s in o.value}
            cache = {}
            for b, i in last.items():
                if b not in keep:
                    cache.setdefault(i, []).append(b)
            self._last_use_cache = cache
        return cache

    # ------------------------------------------------------- loss
    def loss(self, targets: Sequence[np.ndarray]) -> float:
        """Loss of the last forward pass (sum over outputs)."""
        total = 0.0
        for o, y in zip(self.outputs, targets):
            if o.fused:
                z = o.producer.z
                total += losses.fused_value(o.activation, o.loss, z, y)
            else:
                total += losses.value(o.loss, self.gather(o.value), y)
        return total

    def backward(self, targets: Sequence[np.ndarray]) -> None:
        """Gradients of the loss of the last forward pass into every Param.grad."""
        grads: list[np.ndarray | None] = [None] * len(self.widths)
        self.grads = grads
        for p in self.params:
            p.touched = False
        for step in self.steps:
            step.dz = None
        for o, y in zip(self.outputs, targets):
            p = self.gather(o.value)
            if o.fused:
                o.producer.dz = losses.fused_grad(o.activation, o.loss, p, y)
            else:
                self._scatter(o.value, losses.grad(o.loss, p, y))
        for step in reversed(self.steps):
            if isinstance(step, FeedStep) or not self.needs_grad[step.out]:
                continue
            g = grads[step.out]
            if g is None and step.dz is None:
                continue
            need = [any(self.needs_grad[s.buf] for s in v) for v in step.ins]
            gxs = step.backward(g, need)
            for v, gx in zip(step.ins, gxs):
                if gx is not None:
                    self._scatter(v, gx)
        for p in self.params:
            if not p.touched:
                p.grad.fill(0)
                p.touched = True

    def _scatter(self, value: Value, g: np.ndarray) -> None:
        grads = self.grads
        off = 0
        for s in value:
            w = s.stop - s.start
            if not self.needs_grad[s.buf]:
                off += w
                continue
            piece = g if len(value) == 1 else g[..., off:off + w]
            full = s.start == 0 and s.stop == self.widths[s.buf]
            cur = grads[s.buf]
            if full:
                grads[s.buf] = piece if cur is None else cur + piece
            else:
                if cur is None:
                    cur = grads[s.buf] = np.zeros(g.shape[:-1] + (self.widths[s.buf],), g.dtype)
                cur[..., s.start:s.stop] += piece
            off += w

    # ---------------------------------------------------- weights
    def weight_names(self) -> list[str]:
        return list(self._weight_index)

    def get_weight(self, name: str) -> np.ndarray:
        p, col = self._weight_index[name]
        if col is None:
            return p.value.copy()
        return p.value[..., col].copy()

    def set_weight(self, name: str, value: np.ndarray) -> None:
        p, col = self._weight_index[name]
        if col is None:
            p.value[...] = value
        else:
            p.value[..., col] = value

    def weight_shape(self, name: str) -> tuple[int, ...]:
        p, col = self._weight_index[name]
        return p.value.shape if col is None else p.value.shape[:-1]

    def get_weights(self) -> dict[str, np.ndarray]:
        return {n: self.get_weight(n) for n in self._weight_index}

    def first_nonfinite(self) -> str | None:
        """The id of the first node (in order) whose last output has NaN or inf."""
        for step in self.steps:
            b = self.buffers[step.out] if step.out >= 0 else None
            if b is None or np.isfinite(b).all():
                continue
            if len(step.node_ids) == 1:
                return step.node_ids[0]
            bad_cols = ~np.isfinite(b).reshape(-1, b.shape[-1]).all(axis=0)
            return step.node_ids[int(np.argmax(bad_cols))]
        for p in self.params:
            if not np.isfinite(p.value).all():
                return p.names()[0].split("/")[0]
        return None

    def clear(self) -> None:
        self.buffers = [None] * len(self.widths)
        self.grads = []
        for s in self.steps:
            s.clear()


# ----------------------------------------------------------------- compile
def compile_graph(graph: Graph, *, seed: int = 0, dtype: Any = np.float32,
                  weights: Mapping[str, Any] | None = None, fuse: bool = True) -> Program:
    """Validate ``graph`` and build a :class:`Program`.

    Weights are taken from ``weights`` (name -> array, or name -> {shape: array})
    where a name and shape match; the rest
    are initialized from ``seed`` (per weight, so other weights stay put).
    """
    dtype = np.dtype(dtype)
    analysis = graph.validate()
    shapes = analysis.shapes
    weights = weights or {}
    incoming: dict[str, list] = {n: [] for n in graph.nodes}
    for e in graph.edges.values():
        incoming[e.dst].append(e)
    #: node id -> port -> the source node of each wire, in edge order
    sources: dict[str, dict[str, list[str]]] = {n: {} for n in graph.nodes}
    for e in graph.edges.values():
        sources[e.dst].setdefault(e.dst_port, []).append(e.src)

    steps: list[Step] = []
    widths: list[int] = []
    bufshapes: list[tuple[int, ...]] = []
    params: list[Param] = []
    state: list[Param] = []
    values: dict[str, Value] = {}
    inputs: list[tuple[str, int, tuple[int, ...]]] = []
    outputs: list[OutputInfo] = []
    drop_rng = np.random.default_rng([seed & 0xFFFFFFFF, 7])

    def new_buf(shape: tuple[int, ...]) -> int:
        widths.append(int(shape[-1]))
        bufshapes.append(tuple(shape))
        return len(widths) - 1

    def in_value(nid: str, port: str) -> Value:
        srcs = sources[nid].get(port, ())
        if len(srcs) == 1:
            return values[srcs[0]]
        segs: list[Segment] = []
        for src in srcs:
            segs.extend(values[src])
        return _merge(segs)

    def make_param(name: str, spec: WeightSpec) -> np.ndarray:
        w = weights.get(name)
        if isinstance(w, dict):  # a network's stash: shape -> array
            w = w.get(tuple(spec.shape))
        if w is not None and tuple(np.shape(w)) == tuple(spec.shape):
            return np.array(w, dtype=dtype, order="C")
        w = initialize(spec.initializer, spec.shape, spec.fan_in, spec.fan_out, rng_for(seed, name), dtype)
        return np.require(w, requirements="C")  # (ascontiguousarray would turn a scalar into 1-d)

    def add_param(value: np.ndarray, name: str, regularize: bool, parts=None, trainable: bool = True) -> Param:
        p = Param(name, value, np.zeros_like(value), regularize, parts, trainable=trainable)
        (params if trainable else state).append(p)
        return p

    def fed(nid: str) -> bool:
        return all(e.src in values for e in incoming[nid])

    def port_shape(nid: str, port: str) -> tuple[int, ...]:
        srcs = sources[nid].get(port, ())
        if len(srcs) == 1:
            return tuple(shapes[srcs[0]])
        return concat_shapes({port: [tuple(shapes[src]) for src in srcs]}, port) if srcs else ()

    def node_params(group: list[str], stacked: bool) -> dict[str, Param]:
        """A Param per weight the type declares; ``stacked``: one per name for the
        whole group, node j's weight in column j."""
        out: dict[str, Param] = {}
        for w in analysis.weights.get(group[0]) or ():
            name = f"{group[0]}/{w.name}"
            if stacked:
                names = [f"{m}/{w.name}" for m in group]
                specs = [w] + [spec for m in group[1:] for spec in analysis.weights[m] if spec.name == w.name]
                value = np.stack([make_param(n, spec) for n, spec in zip(names, specs)], axis=-1)
                out[w.name] = add_param(value, name, w.regularize, [(n, j) for j, n in enumerate(names)],
                                        trainable=w.trainable)
            else:
                out[w.name] = add_param(make_param(name, w), name, w.regularize, trainable=w.trainable)
        return out

    order = analysis.order
    nodes, registry = graph.nodes, graph.registry
    done: set[str] = set()
    #: fusing builder -> the nodes it builds, in order
    fusable: dict[int, list[str]] = {}
    #: type id -> (node type, its builder, its input port names, whether it fuses)
    kinds: dict[str, tuple] = {}
    for nid in order:
        if nid in done:
            continue
        node = nodes[nid]
        kind = kinds.get(node.type_id)
        if kind is None:
            ntype = registry.get(node.type_id)
            builder = STEP_BUILDERS.get(ntype.type_id)
            if builder is None:
                raise GraphError(f"the engine cannot run node type '{ntype.type_id}' (node '{nid}')", node_id=nid)
            kind = kinds[node.type_id] = (ntype, builder, [ps.name for ps in ntype.inputs],
                                          isinstance(builder, FusingBuilder))
        ntype, builder, ports, fusing = kind
        p = node.params
        ins = [in_value(nid, port) for port in ports]
        group = [nid]
        if fusing and fuse:
            key = builder.key(p)
            kin = fusable.get(id(builder))
            if kin is None:
                kin = fusable[id(builder)] = [m for m in order if STEP_BUILDERS.get(nodes[m].type_id) is builder]
            group = [m for m in kin if m not in done and fed(m) and [in_value(m, port) for port in ports] == ins
                     and builder.key(nodes[m].params) == key]
        out_shape = tuple(shapes[nid])
        if len(group) > 1:
            out_shape = out_shape[:-1] + (sum(int(shapes[m][-1]) for m in group),)
        ctx = BuildContext(
            nid, p, ins, [port_shape(nid, port) for port in ports], out_shape,
            node_params(group, stacked=fusing), drop_rng, dtype,
            wires=[[values[src] for src in sources[nid].get(port, ())] for port in ports],
            node_ids=tuple(group), _new_buffer=new_buf,
        )
        built = builder(ctx)
        if isinstance(built, Step):
            steps.append(built)
            col = 0
            for m in group:
                width = int(shapes[m][-1])
                values[m] = (Segment(built.out, col, col + width),)
                col += width
        else:
            values[nid] = built  # its inputs' segments: no step of its own
        done.update(group)
        if ntype.role == "input":
            inputs.append((nid, built.out, tuple(shapes[nid])))
        elif ntype.role == "output":
            producer = next((s for s in steps if nid in s.node_ids), None)
            fused = producer is not None and (p["activation"], p["loss"]) in losses.FUSED
            if fused:
                producer.keep_z = True
            outputs.append(OutputInfo(nid, values[nid], p["loss"], p["activation"], producer, fused, p["units"]))

    # several Inputs take a data row's columns in the order the Input nodes were added
    rank = {nid: i for i, nid in enumerate(graph.nodes)}
    inputs.sort(key=lambda t: rank[t[0]])
    # which buffers need a gradient: those downstream of a parameter
    needs = [False] * len(widths)
    for step in steps:
        if step.params or any(needs[s.buf] for v in step.ins for s in v):
            if step.out >= 0:
                needs[step.out] = True
    return Program(graph.revision, dtype, steps, widths, bufshapes, params, inputs, outputs, values, needs,
                   state=state)


def check_differentiable(program: Program, graph: Graph) -> None:
    """Raise :class:`GradientError` if backprop must pass through a step/sign activation."""
    for step in program.steps:
        if step.out < 0 or not program.needs_grad[step.out]:
            continue
        a = getattr(step, "activation", None)
        if a in NON_DIFFERENTIABLE:
            nid = step.node_ids[0]
            t = graph.node_type(nid).title
            raise GradientError(
                f"{t} '{nid}' uses the {a} activation, which has no gradient, so backpropagation cannot "
                f"train through it; choose another activation or train with the perceptron rule",
                node_id=nid,
            )
